// detail/atomic.hpp — the one indirection between ipcsync's protocols and the memory model.
//
// Every atomic word, fence and memory order of the native primitives goes through this header,
// so the same protocol code can be compiled two ways:
//   * normal builds: detail::atomic<T> IS std::atomic<T> (a type alias) and the fences are
//     inline forwards to std::atomic_thread_fence / std::atomic_signal_fence, so the generated
//     code is exactly what it was before this header existed; IPCSYNC_MUTANT(x) is `false`.
//   * IPCSYNC_MODEL_CHECK builds (tests/model/, never installed, never linked into the library):
//     detail::atomic<T> wraps Relacy's rl::atomic<T> (every load, store and RMW becomes a
//     scheduling point of the model checker, which explores the weak-memory behaviours the
//     C++ memory model allows for the given orders), fences are Relacy's, and futex.hpp's
//     wait/wake become Relacy's futex model (see futex.hpp). The std::memory_order arguments of
//     the protocol code are mapped one to one; the call site's file and line are recorded
//     (std::source_location) so Relacy's execution histories point into the primitives.
//   IPCSYNC_MUTANT(name): a test-only fault. In the model build it is true when the model test
//     selected that mutant (detail::g_mutant), which weakens one specific memory order or skips
//     one specific re-check; each model suite runs its mutants and expects the checker to fail.
#pragma once

#include <atomic>
#include <cstdint>

#ifndef IPCSYNC_MODEL_CHECK

namespace ipcsync::detail {
template <class T>
using atomic = std::atomic<T>;
inline void atomic_thread_fence(std::memory_order o) noexcept { std::atomic_thread_fence(o); }
inline void atomic_signal_fence(std::memory_order o) noexcept { std::atomic_signal_fence(o); }
}  // namespace ipcsync::detail

#define IPCSYNC_MUTANT(name) false

#else  // IPCSYNC_MODEL_CHECK

// Relacy's umbrella header redefines new, delete, malloc, free, assert, errno and the
// memory_order_* names as macros; take its core headers only, after the standard library.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <source_location>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <relacy/base.hpp>
#include <relacy/context.hpp>
#include <relacy/context_base_impl.hpp>
#include <relacy/backoff.hpp>
#include <relacy/atomic_fence.hpp>
#include <relacy/atomic.hpp>
#include <relacy/var.hpp>
#include <relacy/test_suite.hpp>
#include <relacy/stdlib/mutex.hpp>
#include <relacy/stdlib/condition_variable.hpp>
#include <relacy/stdlib/semaphore.hpp>
#include <relacy/stdlib/event.hpp>

namespace ipcsync::detail {

// The mutants of the model tests (IPCSYNC_MUTANT(name)); none is active by default.
enum class mutant : int {
  none = 0,
  lock_acquire_relaxed,            // Lock::acquire(): the taking CAS is relaxed, not acquire
  lock_no_recheck_after_awake,     // Lock: parks right after dropping awake_, no re-check
  lock_waker_no_retry,             // Lock: the pre-fix wake_one(): a deferred release is lost
  semaphore_release_relaxed,       // Semaphore::release(): the count RMW is relaxed, not seq_cst
  semaphore_no_pass_on,            // Semaphore: a leaving waiter does not pass a wake on
  semaphore_waker_no_retry,        // Semaphore: the pre-fix wake(1): a deferred release is lost
  parking_waker_no_retry,          // Parking: the pre-fix wake_one(): a deferred wake is lost
  condition_notify_grants_all,     // Condition::notify(n): grants a token to every waiter
  condition_no_frontier,           // Condition: a waiter registered after a notify is eligible
  parking_no_recheck_after_awake,  // Parking: parks right after dropping `awake`, no re-check
  parking_waiter_no_fence,         // Parking: no seq_cst fence between reading seq and take()
  rlock_take_weak_cas,             // RLock: the pre-fix take(): a weak CAS, spurious failure = sleep
  rlock_acquire_relaxed,           // RLock::acquire(): the taking CAS is relaxed, not acquire
  queue_publish_relaxed,           // Queue: a put publishes its cell with a relaxed store
  queue_put_no_wake,               // Queue: a put does not wake a parked getter
  joinable_task_done_relaxed,      // JoinableQueue::task_done(): the count CAS is relaxed
  parking_leave_no_fence,          // Parking: the pre-fix leave(): avail() without a fence
  event_set_relaxed,               // Event::set(): the flag is published relaxed
  barrier_no_wake,                 // Barrier: the last arrival does not wake the others
  lock_plain_release_no_membarrier,  // Lock: g_asymmetric's plain-store release, no kernel barrier
  barrier_break_no_wake,           // Barrier: breaking a round (abort, timeout) wakes nobody
  barrier_reset_keeps_outcome,     // Barrier::reset(): the reset round reads as completed
  queue_close_no_wake,             // Queue::close(): blocked getters and putters are not woken
  parking_slice_ends_wait,         // Parking: a quiet park slice ends the wait as if woken (the
                                   // Condition bug of the semantics issue: a slice returned true)
  count_
};
inline mutant g_mutant = mutant::none;
inline bool mutant_active(mutant m) noexcept { return g_mutant == m; }

inline rl::memory_order to_rl(std::memory_order o) noexcept {
  switch (o) {
    case std::memory_order_relaxed: return rl::mo_relaxed;
    case std::memory_order_consume: return rl::mo_consume;
    case std::memory_order_acquire: return rl::mo_acquire;
    case std::memory_order_release: return rl::mo_release;
    case std::memory_order_acq_rel: return rl::mo_acq_rel;
    default: return rl::mo_seq_cst;
  }
}
inline rl::debug_info rl_info(const std::source_location& l) noexcept {
  return rl::debug_info(l.function_name(), l.file_name(), l.line());
}
// A CAS's failure order may not be stronger than what Relacy accepts for its success order.
inline std::memory_order cas_failure(std::memory_order success, std::memory_order failure) noexcept {
  if (success == std::memory_order_relaxed || success == std::memory_order_release) return std::memory_order_relaxed;
  return failure;
}

template <class T>
class atomic {
  using loc = std::source_location;

 public:
  atomic(loc l = loc::current()) noexcept : a_() { a_.store(T{}, rl::mo_relaxed, rl_info(l)); }
  atomic(T v, loc l = loc::current()) noexcept : a_() { a_.store(v, rl::mo_relaxed, rl_info(l)); }
  atomic(const atomic&) = delete;
  atomic& operator=(const atomic&) = delete;

  T load(std::memory_order o = std::memory_order_seq_cst, loc l = loc::current()) const noexcept {
    return a_.load(to_rl(o), rl_info(l));
  }
  void store(T v, std::memory_order o = std::memory_order_seq_cst, loc l = loc::current()) noexcept {
    a_.store(v, to_rl(o), rl_info(l));
  }
  T exchange(T v, std::memory_order o = std::memory_order_seq_cst, loc l = loc::current()) noexcept {
    return a_.exchange(v, to_rl(o), rl_info(l));
  }
  T fetch_add(T v, std::memory_order o = std::memory_order_seq_cst, loc l = loc::current()) noexcept {
    return a_.fetch_add(v, to_rl(o), rl_info(l));
  }
  T fetch_sub(T v, std::memory_order o = std::memory_order_seq_cst, loc l = loc::current()) noexcept {
    return a_.fetch_add(static_cast<T>(T{} - v), to_rl(o), rl_info(l));
  }
  T fetch_or(T v, std::memory_order o = std::memory_order_seq_cst, loc l = loc::current()) noexcept {
    return a_.fetch_or(v, to_rl(o), rl_info(l));
  }
  T fetch_and(T v, std::memory_order o = std::memory_order_seq_cst, loc l = loc::current()) noexcept {
    return a_.fetch_and(v, to_rl(o), rl_info(l));
  }
  bool compare_exchange_weak(T& expected, T desired, std::memory_order s, std::memory_order f,
                             loc l = loc::current()) noexcept {
    return a_.compare_exchange(rl::bool_t<true>(), expected, desired, to_rl(s), to_rl(cas_failure(s, f)), rl_info(l));
  }
  bool compare_exchange_strong(T& expected, T desired, std::memory_order s, std::memory_order f,
                               loc l = loc::current()) noexcept {
    return a_.compare_exchange(rl::bool_t<false>(), expected, desired, to_rl(s), to_rl(cas_failure(s, f)), rl_info(l));
  }
  bool compare_exchange_weak(T& expected, T desired, std::memory_order o = std::memory_order_seq_cst,
                             loc l = loc::current()) noexcept {
    return a_.compare_exchange(rl::bool_t<true>(), expected, desired, to_rl(o), rl_info(l));
  }
  bool compare_exchange_strong(T& expected, T desired, std::memory_order o = std::memory_order_seq_cst,
                               loc l = loc::current()) noexcept {
    return a_.compare_exchange(rl::bool_t<false>(), expected, desired, to_rl(o), rl_info(l));
  }

  // For futex.hpp's model of FUTEX_WAIT/FUTEX_WAKE on this word.
  rl::atomic<T>& rl_word() const noexcept { return a_; }

 private:
  mutable rl::atomic<T> a_;
};

inline void atomic_thread_fence(std::memory_order o, std::source_location l = std::source_location::current()) noexcept {
  if (o == std::memory_order_relaxed) return;
  rl::atomic_thread_fence(to_rl(o), rl_info(l));
}
// A signal fence orders nothing between threads: in the model it is nothing (and the
// asymmetric release that relies on one is only checked as a mutant, see futex.hpp).
inline void atomic_signal_fence(std::memory_order, std::source_location = std::source_location::current()) noexcept {}

}  // namespace ipcsync::detail

#define IPCSYNC_MUTANT(name) (::ipcsync::detail::mutant_active(::ipcsync::detail::mutant::name))

#endif  // IPCSYNC_MODEL_CHECK

// semaphore.hpp — Semaphore: a counting semaphore in shared memory (multiprocessing.Semaphore).
//
// State: a 32-bit count of available permits (the futex word) and a 32-bit count of processes
// parked in the kernel, in one cache line. acquire() takes one permit, blocking while the count
// is zero; release(k) adds k permits. There is no owner: any process may release (as in Python).
//
// Process-shared: yes. Valid when zero-filled (a Semaphore with 0 permits). No pointers.
// Layout: standard-layout, alignas(64), sizeof == 64.
// Blocking: as Lock (lock.hpp): one contender at a time spins (raising `awake_`) with
//   exponential PAUSE backoff for up to spin_limit() PAUSEs (futex.hpp); the others announce
//   themselves in waiters_ and FUTEX_WAIT (shared) on wake_seq_ with an absolute
//   CLOCK_MONOTONIC deadline. release(1) wakes one parked waiter only when a waiter announced
//   itself and nobody is awake; release(k > 1) wakes up to k. A waiter that takes a permit
//   while more remain passes the wake on, so no permit sits unclaimed beside a sleeper.
// Memory ordering: for processes X and Y, X's writes before release() are visible to Y once a
//   Y's acquire() that took one of the released permits returns true. The count and waiter
//   announcements are seq_cst, so a release either sees the waiter or the waiter sees the permit.
// Limits: the count is at most kMaxValue; release(k) with k < 1 throws std::invalid_argument
//   (Python: ValueError), and a release that would pass kMaxValue throws over_release.
// Owner death: a process dying inside acquire() leaves the Semaphore consistent; a process dying
//   while "holding" a permit never gives it back (as in Python; no owner is recorded).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "ipcsync/errors.hpp"
#include "ipcsync/futex.hpp"

namespace ipcsync {

class alignas(64) Semaphore {
 public:
  static constexpr uint32_t kMaxValue = 0x7fffffff;

  explicit Semaphore(uint32_t value = 1) : count_(value) {
    if (value > kMaxValue) throw std::invalid_argument("Semaphore: initial value above kMaxValue");
  }
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  // Semaphore::try_acquire(): takes a permit only if one is available now.
  bool try_acquire() noexcept {
    uint32_t v = count_.load(std::memory_order_relaxed);
    while (v > 0) {
      if (count_.compare_exchange_weak(v, v - 1, std::memory_order_acquire,
                                       std::memory_order_relaxed))
        return true;
    }
    return false;
  }

  // Semaphore::acquire(): blocks until a permit is taken. Always returns true.
  bool acquire() noexcept { return take_first() || acquire_slow(kNoDeadline); }

  // Semaphore::acquire(blocking, timeout_s): Python's signature, with Lock's timeout rules
  // (kForever waits forever; negative is 0, as multiprocessing's SemLock; NaN: invalid_argument).
  bool acquire(bool blocking, double timeout_s = kForever) {
    if (!blocking) return try_acquire();
    return acquire_until(timeout_deadline(timeout_s));
  }

  // Semaphore::acquire_until()/acquire_for(): as acquire(), giving up at the deadline.
  bool acquire_until(deadline until) noexcept { return take_first() || acquire_slow(until); }
  template <class Rep, class Period>
  bool acquire_for(std::chrono::duration<Rep, Period> timeout) noexcept(!std::is_floating_point_v<Rep>) {
    return acquire_until(deadline_after(timeout));
  }

  // Semaphore::release(k): adds k permits and wakes up to k parked waiters.
  void release(uint32_t k = 1) {
    if (k < 1 || k > kMaxValue) [[unlikely]]
      throw std::invalid_argument("Semaphore::release(k): k must be in 1..kMaxValue");
    const uint32_t old = count_.fetch_add(k, std::memory_order_seq_cst);
    if (old > kMaxValue - k) [[unlikely]] {
      count_.fetch_sub(k, std::memory_order_relaxed);
      throw over_release("Semaphore::release(k): count would exceed kMaxValue");
    }
    if (waiters_.load(std::memory_order_seq_cst) != 0) [[unlikely]]
      wake(k);
  }

  // Semaphore::value(): the current number of permits (a snapshot).
  uint32_t value() const noexcept { return count_.load(std::memory_order_relaxed); }

  // Lockable spelling, so a Semaphore(1) can stand in for a mutex in generic code.
  void lock() noexcept { acquire(); }
  bool try_lock() noexcept { return try_acquire(); }
  void unlock() { release(); }

  // Semaphore::waiters(): processes parked in the kernel (a snapshot, for tests).
  uint32_t waiters() const noexcept { return waiters_.load(std::memory_order_relaxed); }

 protected:
  // Semaphore(value, bound): for BoundedSemaphore — a semaphore whose release never lets the
  // count pass `bound` (release_bounded()).
  Semaphore(uint32_t value, uint32_t bound) : Semaphore(value) { bound_ = bound; }

  // release_bounded(k): release(k) as one seq_cst CAS that refuses (over_release, nothing
  // changed) to take the count above bound_: no interleaving can pass the bound even briefly.
  void release_bounded(uint32_t k) {
    if (k < 1 || k > kMaxValue) [[unlikely]]
      throw std::invalid_argument("BoundedSemaphore::release(k): k must be in 1..kMaxValue");
    uint32_t v = count_.load(std::memory_order_relaxed);
    do {
      if (k > bound_ || v > bound_ - k) [[unlikely]]
        throw over_release("BoundedSemaphore::release(): released too many times (count would exceed " +
                           std::to_string(bound_) + ")");
    } while (!count_.compare_exchange_weak(v, v + k, std::memory_order_seq_cst, std::memory_order_relaxed));
    if (waiters_.load(std::memory_order_seq_cst) != 0) [[unlikely]]
      wake(k);
  }

  // take_first(): the blocking calls' first attempt. It guesses one permit and CASes 1 -> 0
  // without reading first: on a binary semaphore (the common case) the line is fetched once,
  // exclusive, instead of shared then exclusive. A wrong guess retries with the value seen.
  bool take_first() noexcept {
    uint32_t v = 1;
    while (!count_.compare_exchange_weak(v, v - 1, std::memory_order_acquire, std::memory_order_relaxed))
      if (v == 0) return false;
    return true;
  }
  bool acquire_slow(deadline until) noexcept;
  void wake(uint32_t k) noexcept;

  std::atomic<uint32_t> count_{0};     // available permits
  std::atomic<uint32_t> waiters_{0};   // processes announced (parked or about to park)
  std::atomic<uint32_t> awake_{0};     // 1: a contender is awake (spinning or just woken)
  std::atomic<uint32_t> wake_seq_{0};  // futex word parked waiters sleep on; bumped per wake
  uint32_t bound_ = 0;                 // BoundedSemaphore's bound (read-only); unused here
};

static_assert(sizeof(Semaphore) == 64 && alignof(Semaphore) == 64);
static_assert(std::is_standard_layout_v<Semaphore>);

}  // namespace ipcsync

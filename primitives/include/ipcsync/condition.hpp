// condition.hpp — Condition<L>: a condition variable in shared memory (multiprocessing.Condition),
// for L = RLock (the default, as Python's Condition() makes an RLock) or L = Lock.
//
// State: a notification sequence number (the futex word parked waiters sleep on, inside a
// detail::Parking, parking.hpp), the number of registered waiters, and which lock it uses:
// its own (embedded) lock, or an external one in the same mapping, found by a self-relative
// byte offset (never a pointer). A waiter reads the sequence while it holds the lock, releases
// the lock, and waits until the sequence moves; notify() moves it while holding the lock, so a
// waiter that registers after a notify() can never consume it (no stolen wake-ups).
//
//   caller holds the lock? | wait(timeout)                              | notify(n) / notify_all()
//   -----------------------+--------------------------------------------+------------------------------
//   yes                    | releases it (an RLock at any depth: all of | wakes up to n / all current
//                          | it), blocks until notified or the deadline,| waiters; none registered: a
//                          | re-acquires it (restoring the RLock depth) | no-op (one load)
//                          | and returns true, false on timeout         |
//   no                     | throws not_owner                           | throws not_owner
// A notified waiter returns only once it holds the lock again, like Python. Wake-ups may be
// spurious: a waiter that had released the lock but not yet parked when notify(1) ran also
// wakes, so always wait in a loop on the predicate (wait(pred) does), as the guide insists.
//
// Process-shared: yes. Valid when zero-filled: a fresh mmap holds a Condition using its own,
// unlocked lock with no waiters.
// Layout: standard-layout, alignas(64), sizeof == 128: the embedded lock's line, then the
//   waiting state's line. An external lock must live in the same mapping as the Condition
//   (an AnonymousRegion, a NamedSegment or any one MAP_SHARED mapping), because the link is an
//   offset: every process then finds it at the same distance, whatever its base address.
// Blocking: wait() spins up to spin_limit() PAUSEs on the sequence word if no other waiter is
//   spinning — so a notify() from a process on another core wakes it in about one cache-line
//   transfer — then FUTEX_WAITs (shared) with an absolute CLOCK_MONOTONIC deadline. notify()
//   bumps the sequence and makes a futex_wake syscall only when some waiter is parked.
// Memory ordering: for processes X and Y, X's writes before notify() (and before its release of
//   the lock) are visible to Y once Y's wait() returns — Y re-acquired the lock X released.
// Owner death: a waiter that dies leaves the Condition usable. With L = RLock, a holder dying
//   while others wait is recovered by RLock (rlock.hpp): the waiter that re-acquires sees
//   get_lock().owner_died().
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

#include "ipcsync/errors.hpp"
#include "ipcsync/futex.hpp"
#include "ipcsync/lock.hpp"
#include "ipcsync/parking.hpp"
#include "ipcsync/rlock.hpp"

namespace ipcsync {

template <class L = RLock>
class alignas(64) Condition {
 public:
  using lock_type = L;

  // Condition(): uses its own lock (Python's Condition() with no argument).
  Condition() noexcept(std::is_nothrow_default_constructible_v<L>) = default;
  // Condition(lock): uses `lock`, which must be in the same mapping as this Condition and
  // outlive it (Python's Condition(lock)). Several Conditions may share one lock.
  explicit Condition(L& lock) noexcept
      : lock_off_(reinterpret_cast<const char*>(&lock) - reinterpret_cast<const char*>(this)) {}
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;

  // Condition::get_lock(): the lock this Condition uses.
  L& get_lock() noexcept {
    return lock_off_ == 0 ? own_ : *reinterpret_cast<L*>(reinterpret_cast<char*>(this) + lock_off_);
  }

  // Condition::acquire()/release()/try_acquire()/acquire_until(), lock()/unlock()/try_lock():
  // the lock's, so `std::scoped_lock g(cond)` is Python's `with cond:`.
  bool acquire() { return get_lock().acquire(); }
  bool try_acquire() { return get_lock().try_acquire(); }
  bool acquire_until(deadline until) { return get_lock().acquire_until(until); }
  void release() { get_lock().release(); }
  void lock() { acquire(); }
  bool try_lock() { return try_acquire(); }
  void unlock() { release(); }

  // Condition::wait(): releases the lock, blocks until notified, re-acquires. Returns true.
  // Throws not_owner if the caller does not hold the lock.
  bool wait() { return wait_until(kNoDeadline); }
  // Condition::wait(timeout_s): Python's signature; timeout_s < 0 waits forever.
  bool wait(double timeout_s) {
    return timeout_s < 0 ? wait() : wait_for(std::chrono::duration<double>(timeout_s));
  }
  // Condition::wait_until()/wait_for(): as wait(), false when the deadline passed without a
  // notification (the lock is held again either way).
  bool wait_until(deadline until) {
    L& l = get_lock();
    require_owned(l, "Condition::wait()");
    const uint32_t s = park_.seq.load(std::memory_order_relaxed);  // under the lock
    waiters_.fetch_add(1, std::memory_order_relaxed);
    const auto saved = release_saving(l);
    auto notified = [&] { return park_.seq.load(std::memory_order_acquire) != s; };
    const bool got = park_.wait_until(notified, detail::never, until, /*heavy=*/false);
    waiters_.fetch_sub(1, std::memory_order_relaxed);
    acquire_restoring(l, saved);
    return got;
  }
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> timeout) {
    return wait_until(deadline_after(timeout));
  }

  // Condition::wait(pred): Python's wait_for(predicate) with no timeout: waits until pred()
  // (evaluated with the lock held) is true. Returns true.
  template <class Pred>
    requires std::is_invocable_r_v<bool, Pred&>
  bool wait(Pred pred) {
    while (!pred()) wait();
    return true;
  }
  // Condition::wait_until(deadline, pred)/wait_for(timeout, pred): Python's
  // wait_for(predicate, timeout): returns pred()'s last value, false only if it is still false
  // at the deadline.
  template <class Pred>
  bool wait_until(deadline until, Pred pred) {
    while (!pred())
      if (!wait_until(until)) return pred();
    return true;
  }
  template <class Rep, class Period, class Pred>
  bool wait_for(std::chrono::duration<Rep, Period> timeout, Pred pred) {
    return wait_until(deadline_after(timeout), std::move(pred));
  }

  // Condition::notify(n): wakes up to n waiters (possibly more, see above). Throws not_owner if
  // the caller does not hold the lock.
  void notify(int n = 1) {
    require_owned(get_lock(), "Condition::notify()");
    if (n <= 0 || waiters_.load(std::memory_order_relaxed) == 0) return;
    park_.seq.fetch_add(1, std::memory_order_seq_cst);
    if (park_.sleepers.load(std::memory_order_seq_cst) != 0) futex_wake(park_.seq, n);
  }
  // Condition::notify_all(): wakes every current waiter.
  void notify_all() { notify(kWakeAll); }

  // Condition::waiters(): registered waiters (a snapshot, for tests).
  uint32_t waiters() const noexcept { return waiters_.load(std::memory_order_relaxed); }

 private:
  static void require_owned(L& l, const char* what) {
    bool owned = true;
    if constexpr (requires { l.is_owned(); })
      owned = l.is_owned();
    else if constexpr (requires { l.owner(); })
      owned = l.owner() == detail::self_id();
    if (!owned) throw not_owner(std::string(what) + ": the calling thread does not hold the lock");
  }
  static auto release_saving(L& l) {
    if constexpr (requires { l.release_save(); }) {
      return l.release_save();
    } else {
      l.release();
      return 1u;
    }
  }
  template <class Saved>
  static void acquire_restoring(L& l, Saved saved) {
    if constexpr (requires { l.acquire_restore(saved); })
      l.acquire_restore(saved);
    else
      l.acquire();
  }

  L own_;                                      // used when lock_off_ == 0
  alignas(64) detail::Parking park_;           // park_.seq: the notification sequence
  std::atomic<uint32_t> waiters_{0};           // registered waiters (changed under the lock)
  std::ptrdiff_t lock_off_ = 0;                // 0: own_; else &lock - this, in bytes
};

static_assert(sizeof(Condition<Lock>) == 128 && alignof(Condition<Lock>) == 64);
static_assert(sizeof(Condition<RLock>) == 128);
static_assert(std::is_standard_layout_v<Condition<Lock>> && std::is_standard_layout_v<Condition<RLock>>);

}  // namespace ipcsync

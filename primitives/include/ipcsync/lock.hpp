// lock.hpp — Lock: a non-recursive mutual-exclusion lock in shared memory (multiprocessing.Lock).
//
// State: `owner_` (the futex word) is 0 when unlocked, else the kernel tid of the thread that
// acquired it; `waiters_` counts the processes parked in the kernel. As in Python, any process
// may release (the owner is recorded for diagnostics and owner-death detection, not enforced).
//
//   state      | acquire()                   | try_acquire() | release()
//   -----------+-----------------------------+---------------+------------------------------
//   unlocked   | -> locked, returns true     | true, locked  | throws over_release
//   locked     | spins, then parks; true     | false         | -> unlocked; FUTEX_WAKE(1)
//              | once it gets it, false at   |               |    only if a waiter announced
//              | the deadline                |               |    itself
//
// Process-shared: yes. Valid when zero-filled (zero = unlocked, no waiters), so a fresh mmap holds
// an unlocked Lock. Position-independent: no pointers.
// Layout: standard-layout, alignas(64), sizeof == 64 (one cache line, no false sharing).
// Blocking: one contender at a time may spin (it raises the `awake_` flag): it retries with
//   exponential PAUSE backoff for up to spin_limit() PAUSEs (futex.hpp), then announces itself
//   in waiters_, issues the heavy barrier (futex.hpp) and FUTEX_WAITs (shared futex) on
//   wake_seq_ with an absolute CLOCK_MONOTONIC deadline. Sleeping on a word that only wakes
//   change (not on owner_, which flips on every uncontended acquire/release) keeps parked
//   processes parked instead of bouncing off EAGAIN. Other contenders park at once. A release wakes
//   one parked waiter only when nobody is awake, and the woken one becomes the awake contender,
//   so there is never more than one wake in flight (Go's sync.Mutex "woken" bit). This is what
//   keeps throughput when processes outnumber cores: nobody spins away the holder's time slice
//   and the holder does not pay a FUTEX_WAKE per release. Parked waiters also wake every
//   kParkSlice to repair the flag if its holder died mid-spin.
// Cost: an uncontended acquire+release is one CAS and one plain store (plus a load of waiters_
//   on the same line): release needs no atomic read-modify-write, because a parking waiter pays
//   for the StoreLoad ordering with membarrier() instead (futex.hpp, "Asymmetric ordering").
//   Without membarrier the release is a seq_cst exchange.
// Memory ordering: for processes X and Y, X's writes before release() are visible to Y after
//   Y's acquire() (or a successful try_acquire()/acquire_until()) returns true.
// Fairness: none; a running process may barge ahead of parked ones (as with glibc's mutex).
// Owner death (robust, beyond Python, where a killed holder deadlocks everyone): if the holder
//   dies, a waiter parked in acquire() notices within kParkSlice (100 ms; lock.cc), takes the
//   lock over and returns true; owner_died() then tells the new holder that the protected data
//   may be half-updated (as EOWNERDEAD), until its release(). try_acquire() never takes over.
//   A timed acquire that reaches its deadline also checks the holder once, so a loop of short
//   acquire_for()s recovers a dead holder too; try_acquire() never takes over (it must not
//   make a syscall). A process killed while *waiting* leaves waiters_ one too high, which would
//   send every later release down the slow path: each waiter records its tid in one of
//   kParkedSlots slots while it is announced, and the quiet slice of any parked waiter, and every
//   kRepairEvery-th release that finds announced waiters but nobody asleep, gives the counts of
//   dead recorded waiters back, so releases return to the fast path. Waiters beyond
//   kParkedSlots at once are not recorded (a death among them stays a slow-path cost).
//   Holders are identified by kernel tid; a tid reused by a new process before anyone noticed
//   the death would keep the lock held (vanishingly rare).
//   Re-acquiring a held Lock from its owner deadlocks (not reentrant, as in Python).
// Lockable / TimedLockable: lock(), try_lock(), try_lock_for(), try_lock_until(), unlock(),
//   so std::scoped_lock / std::unique_lock play the role of Python's `with lock:`.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <type_traits>

#include "ipcsync/errors.hpp"
#include "ipcsync/futex.hpp"

namespace ipcsync {

class alignas(64) Lock {
 public:
  Lock() noexcept = default;
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  // Lock::acquire(): blocks until the lock is held. Always returns true.
  bool acquire() noexcept {
    uint32_t expected = 0;
    if (owner_.compare_exchange_weak(expected, detail::self_id(), std::memory_order_acquire,
                                     std::memory_order_relaxed)) [[likely]]
      return true;
    return acquire_slow(kNoDeadline);
  }

  // Lock::acquire(blocking, timeout_s): Python's signature. blocking=false tries once;
  // timeout_s = kForever (the default: Python's None) waits forever; otherwise waits at most
  // timeout_s seconds, huge values saturating to forever (futex.hpp). A negative timeout is 0
  // (one try), as multiprocessing's SemLock clamps it (threading would raise ValueError);
  // NaN: std::invalid_argument.
  bool acquire(bool blocking, double timeout_s = kForever) {
    if (!blocking) return try_acquire();
    return acquire_until(timeout_deadline(timeout_s));
  }

  // Lock::try_acquire(): takes the lock only if it is free now; never blocks or spins.
  bool try_acquire() noexcept {
    uint32_t expected = 0;
    return owner_.load(std::memory_order_relaxed) == 0 &&
           owner_.compare_exchange_strong(expected, detail::self_id(), std::memory_order_acquire,
                                          std::memory_order_relaxed);
  }

  // Lock::acquire_until()/acquire_for(): as acquire(), giving up at the deadline (false).
  bool acquire_until(deadline until) noexcept {
    uint32_t expected = 0;
    if (owner_.compare_exchange_weak(expected, detail::self_id(), std::memory_order_acquire,
                                     std::memory_order_relaxed))
      return true;
    return acquire_slow(until);
  }
  template <class Rep, class Period>
  bool acquire_for(std::chrono::duration<Rep, Period> timeout) noexcept(!std::is_floating_point_v<Rep>) {
    return acquire_until(deadline_after(timeout));
  }

  // Lock::release(): unlocks and wakes one parked waiter if any announced itself and no other
  // contender is already awake. Throws over_release if the Lock was not locked (Python raises
  // ValueError).
  void release() {
    if (owner_.load(std::memory_order_relaxed) == 0) [[unlikely]]
      throw over_release("Lock::release(): lock is not acquired");
    if (owner_died_.load(std::memory_order_relaxed)) [[unlikely]]
      owner_died_.store(0, std::memory_order_relaxed);
    if (detail::g_asymmetric && waiters_.load(std::memory_order_relaxed) == 0) [[likely]] {
      // Uncontended: a plain store. A waiter announcing itself concurrently pays a heavy barrier
      // (futex.hpp), so the re-check below either sees it or it sees our store.
      owner_.store(0, std::memory_order_release);
      std::atomic_signal_fence(std::memory_order_seq_cst);
      if (waiters_.load(std::memory_order_relaxed) == 0) [[likely]]
        return;
    } else {
      owner_.exchange(0, std::memory_order_seq_cst);
    }
    wake_one();
  }

  // Lock::locked(): whether some process holds the lock (a snapshot).
  bool locked() const noexcept { return owner_.load(std::memory_order_relaxed) != 0; }
  // Lock::owner(): the kernel tid of the holder, 0 when unlocked (a snapshot).
  uint32_t owner() const noexcept { return owner_.load(std::memory_order_relaxed); }
  // Lock::owner_died(): true while the current holder is the one that took the lock over from
  // a holder that died (the protected state may be inconsistent); cleared by release().
  bool owner_died() const noexcept { return owner_died_.load(std::memory_order_relaxed) != 0; }
  // Lock::recoveries(): how many times the lock was taken over from a dead holder (ever).
  uint32_t recoveries() const noexcept { return recoveries_.load(std::memory_order_relaxed); }
  // Lock::waiters(): how many processes are parked in the kernel (a snapshot, for tests).
  uint32_t waiters() const noexcept { return waiters_.load(std::memory_order_relaxed); }

  // Lockable / TimedLockable spelling.
  void lock() noexcept { acquire(); }
  bool try_lock() noexcept { return try_acquire(); }
  void unlock() { release(); }
  template <class Rep, class Period>
  bool try_lock_for(std::chrono::duration<Rep, Period> timeout) noexcept(!std::is_floating_point_v<Rep>) {
    return acquire_for(timeout);
  }
  template <class Clock, class Duration>
  bool try_lock_until(std::chrono::time_point<Clock, Duration> t) noexcept(
      !std::is_floating_point_v<typename Duration::rep>) {
    return acquire_until(deadline_at(t));
  }

 private:
  bool acquire_slow(deadline until) noexcept;
  void wake_one() noexcept;
  void repair_dead_waiters() noexcept;
  bool take_over_if_dead(uint32_t self) noexcept;

  static constexpr int kParkedSlots = 8;
  static constexpr uint32_t kRepairEvery = 64;

  std::atomic<uint32_t> owner_{0};    // 0 or the holder's tid
  std::atomic<uint32_t> waiters_{0};  // processes announced (parked or about to park)
  std::atomic<uint32_t> awake_{0};    // 1: a contender is awake (spinning or just woken)
  std::atomic<uint32_t> wake_seq_{0}; // futex word parked waiters sleep on; bumped per wake
  std::atomic<uint32_t> owner_died_{0};  // 1: the holder took the lock over from a dead one
  std::atomic<uint32_t> recoveries_{0};  // take-overs from dead holders, ever
  std::atomic<uint32_t> repair_tick_{0}; // releases that found announced waiters but none asleep
  std::atomic<uint32_t> parked_[kParkedSlots] = {};  // tids of announced waiters (0: free)
};

static_assert(sizeof(Lock) == 64 && alignof(Lock) == 64);
static_assert(std::is_standard_layout_v<Lock>);

}  // namespace ipcsync

// rlock.hpp — RLock: a reentrant, robust lock in shared memory (multiprocessing.RLock).
//
// State: `owner_` is 0 when unlocked, else the kernel tid of the owning thread (detail::self_id():
// unique across processes, so "owner" means process + thread, as in Python); `depth_` counts the
// owner's acquisitions; `died_` is 1 while the current holding was recovered from an owner that
// died. The lock is free again only when the owner has released as many times as it acquired.
//
//   state              | acquire() by owner | acquire() by other          | release() by owner | release() by other
//   -------------------+--------------------+-----------------------------+--------------------+-------------------
//   unlocked           | -> held, depth 1   | -> held, depth 1            | throws not_owner   | throws not_owner
//   held, depth d      | depth d+1          | spins, then parks; gets it  | depth d-1; at 0:   | throws not_owner
//                      |                    | when free (false at the     | unlocked, wakes    |
//                      |                    | deadline)                   | one parked waiter  |
//   held, owner dead   | —                  | the next acquirer takes it: | —                  | throws not_owner
//                      |                    | depth 1, owner_died() true  |                    |
// An invalid operation (releasing from a non-owner) throws; nothing else is undefined.
//
// Process-shared: yes. Valid when zero-filled (unlocked, depth 0). Position-independent.
// Layout: standard-layout, alignas(64), sizeof == 64 (one cache line).
// Blocking: as Lock (lock.hpp), through detail::Parking (parking.hpp): one contender spins with
//   exponential PAUSE backoff for up to spin_limit() PAUSEs, the others park at once on a
//   dedicated futex word with an absolute CLOCK_MONOTONIC deadline; the final release is a
//   plain store (waiters pay heavy_barrier() when they park) and wakes one parked waiter only if
//   one announced itself and no contender is awake.
// Memory ordering: for processes X and Y, X's writes before its final release() are visible to
//   Y after Y's acquire() (or a successful try_acquire()/acquire_until()) returns true.
// Owner death (robust, beyond Python, where a dead holder deadlocks everyone): a contender that
//   finds the lock held checks whether the owner's thread still runs (detail::thread_alive(): gone
//   or a zombie means dead) after every quiet kParkSlice (100 ms) of parking; if the
//   owner is gone it takes the lock over (depth 1) and owner_died() returns true until that
//   holding is fully released, like EOWNERDEAD: the protected state may be half-updated, and
//   the new owner must repair it. Recovery takes at most ~kParkSlice. A thread that exits
//   holding the lock counts as dead too. Limits: try_acquire() never checks (it must not make a
//   syscall); a dead owner's tid reused by a new thread before anyone checks keeps the lock
//   held (Linux recycles tids only after wrapping pid_max); an owner in another PID namespace
//   cannot be checked and is assumed alive.
// Lockable / TimedLockable: lock(), try_lock(), try_lock_for(), try_lock_until(), unlock(), so
//   std::scoped_lock / std::unique_lock are Python's `with rlock:` (and nest).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <type_traits>

#include "ipcsync/errors.hpp"
#include "ipcsync/futex.hpp"
#include "ipcsync/parking.hpp"

namespace ipcsync {

class alignas(64) RLock {
 public:
  RLock() noexcept = default;
  RLock(const RLock&) = delete;
  RLock& operator=(const RLock&) = delete;

  // RLock::acquire(): blocks until the calling thread owns the lock (again). Always true.
  bool acquire() {
    const uint32_t self = detail::self_id();
    uint32_t expected = 0;
    if (owner_.compare_exchange_weak(expected, self, std::memory_order_acquire, std::memory_order_relaxed))
        [[likely]] {
      depth_.store(1, std::memory_order_relaxed);
      return true;
    }
    if (expected == self) return reenter();
    return acquire_slow(kNoDeadline);
  }

  // RLock::acquire(blocking, timeout_s): Python's signature, with Lock's timeout rules
  // (kForever waits forever; negative is 0, as multiprocessing's SemLock; NaN: invalid_argument).
  bool acquire(bool blocking, double timeout_s = kForever) {
    if (!blocking) return try_acquire();
    return acquire_until(timeout_deadline(timeout_s));
  }

  // RLock::try_acquire(): takes (or re-enters) the lock only if that needs no waiting.
  bool try_acquire() {
    const uint32_t self = detail::self_id();
    uint32_t expected = owner_.load(std::memory_order_relaxed);
    if (expected == self) return reenter();
    if (expected != 0) return false;
    if (!owner_.compare_exchange_strong(expected, self, std::memory_order_acquire, std::memory_order_relaxed))
      return false;
    depth_.store(1, std::memory_order_relaxed);
    return true;
  }

  // RLock::acquire_until()/acquire_for(): as acquire(), giving up at the deadline (false).
  bool acquire_until(deadline until) {
    const uint32_t self = detail::self_id();
    uint32_t expected = 0;
    if (owner_.compare_exchange_weak(expected, self, std::memory_order_acquire, std::memory_order_relaxed)) {
      depth_.store(1, std::memory_order_relaxed);
      return true;
    }
    if (expected == self) return reenter();
    return acquire_slow(until);
  }
  template <class Rep, class Period>
  bool acquire_for(std::chrono::duration<Rep, Period> timeout) {
    return acquire_until(deadline_after(timeout));
  }

  // RLock::release(): drops one level; at depth 0 unlocks and wakes one parked waiter if any.
  // Throws not_owner when the calling thread does not own the lock (Python: RuntimeError).
  void release() {
    if (owner_.load(std::memory_order_relaxed) != detail::self_id()) [[unlikely]]
      throw not_owner("RLock::release(): the calling thread does not own the lock");
    const uint32_t d = depth_.load(std::memory_order_relaxed);
    if (d > 1) {
      depth_.store(d - 1, std::memory_order_relaxed);
      return;
    }
    unlock_fully();
  }

  // RLock::locked(): whether some thread holds the lock (a snapshot).
  bool locked() const noexcept { return owner_.load(std::memory_order_relaxed) != 0; }
  // RLock::owner(): the owner's kernel tid, 0 when unlocked (a snapshot).
  uint32_t owner() const noexcept { return owner_.load(std::memory_order_relaxed); }
  // RLock::depth(): the owner's acquisition count, 0 when unlocked (a snapshot).
  uint32_t depth() const noexcept { return depth_.load(std::memory_order_relaxed); }
  // RLock::is_owned(): whether the calling thread owns the lock (Python's _is_owned()).
  bool is_owned() const noexcept { return owner_.load(std::memory_order_relaxed) == detail::self_id(); }
  // RLock::owner_died(): true while the caller's holding was recovered from a dead owner
  // (EOWNERDEAD); cleared by the release that brings the depth back to 0.
  bool owner_died() const noexcept { return is_owned() && died_.load(std::memory_order_relaxed) != 0; }
  // RLock::recoveries(): how many times the lock was taken over from a dead owner (ever).
  uint32_t recoveries() const noexcept { return recoveries_.load(std::memory_order_relaxed); }
  // RLock::waiters(): processes parked in the kernel (a snapshot, for tests).
  uint32_t waiters() const noexcept { return park_.sleepers.load(std::memory_order_relaxed); }

  // RLock::release_save(): releases every level at once and returns the depth (Condition::wait
  // uses it, as Python's _release_save). Throws not_owner like release().
  uint32_t release_save() {
    if (!is_owned()) throw not_owner("RLock::release_save(): the calling thread does not own the lock");
    const uint32_t d = depth_.load(std::memory_order_relaxed);
    unlock_fully();
    return d;
  }
  // RLock::acquire_restore(depth): acquires and restores a depth saved by release_save().
  void acquire_restore(uint32_t depth) {
    acquire();
    depth_.store(depth, std::memory_order_relaxed);
  }

  // Lockable / TimedLockable spelling.
  void lock() { acquire(); }
  bool try_lock() { return try_acquire(); }
  void unlock() { release(); }
  template <class Rep, class Period>
  bool try_lock_for(std::chrono::duration<Rep, Period> timeout) {
    return acquire_for(timeout);
  }
  template <class Clock, class Duration>
  bool try_lock_until(std::chrono::time_point<Clock, Duration> t) {
    return acquire_until(deadline_at(t));
  }

 private:
  bool reenter() {
    const uint32_t d = depth_.load(std::memory_order_relaxed);
    if (d == UINT32_MAX) throw over_release("RLock: recursion depth overflow");
    depth_.store(d + 1, std::memory_order_relaxed);
    return true;
  }
  void unlock_fully() noexcept {
    depth_.store(0, std::memory_order_relaxed);
    died_.store(0, std::memory_order_relaxed);
    if (detail::g_asymmetric) {
      owner_.store(0, std::memory_order_release);
      if (!park_.maybe_sleepers()) [[likely]]
        return;
    } else {
      owner_.exchange(0, std::memory_order_seq_cst);
    }
    park_.wake_one();
  }
  bool acquire_slow(deadline until);
  bool take_over_if_dead(uint32_t self) noexcept;

  std::atomic<uint32_t> owner_{0};  // 0 or the owner's tid
  std::atomic<uint32_t> depth_{0};  // written by the owner only
  std::atomic<uint32_t> died_{0};   // 1: this holding was recovered from a dead owner
  std::atomic<uint32_t> recoveries_{0};  // take-overs from dead owners, ever
  detail::Parking park_;            // contenders wait here
};

static_assert(sizeof(RLock) == 64 && alignof(RLock) == 64);
static_assert(std::is_standard_layout_v<RLock>);

}  // namespace ipcsync

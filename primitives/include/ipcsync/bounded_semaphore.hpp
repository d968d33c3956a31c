// bounded_semaphore.hpp — BoundedSemaphore: a Semaphore that refuses to be released above its
// initial value (multiprocessing.BoundedSemaphore).
//
// State: a Semaphore (the permit count, waiters, the wait protocol of semaphore.hpp) and the
// bound, its initial value. There is no owner: any process may release, as in Python, but a
// release that would push the count above the bound throws over_release (Python: ValueError)
// and changes nothing — it is how a double release() is caught where it happens.
//
//   count c (0 <= c <= bound) | acquire()                      | release(k)
//   --------------------------+--------------------------------+-------------------------------------
//   c > 0                     | c-1, returns true              | c+k if c+k <= bound, else throws
//   c == 0                    | spins, then parks; true once a | c+k (k <= bound), wakes up to k
//                             | permit is taken, false at the  | parked waiters
//                             | deadline                       |
//   c == bound                | c-1                            | throws over_release, c unchanged
// An invalid operation (release above the bound) throws; nothing is undefined.
//
// Process-shared: yes. Not valid when zero-filled (the bound would be 0): construct it.
// Layout: standard-layout, alignas(64), sizeof == 64: a Semaphore whose spare word holds the
//   bound (the release's CAS owns that line anyway, so reading the bound there is free).
// Blocking: Semaphore's (semaphore.hpp): one contender spins up to spin_limit() PAUSEs, the
//   others park on a dedicated futex word; absolute CLOCK_MONOTONIC deadlines.
// Memory ordering: as Semaphore: for processes X and Y, X's writes before release() are visible
//   to Y once a Y's acquire() that took one of the released permits returns true. The bounded
//   release is one seq_cst compare-and-swap, so the check and the increment are atomic: no
//   interleaving of releases can ever push the count above the bound, even transiently.
// Owner death: as Semaphore: a process that dies holding a permit never gives it back.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "ipcsync/errors.hpp"
#include "ipcsync/semaphore.hpp"

namespace ipcsync {

class alignas(64) BoundedSemaphore : private Semaphore {
 public:
  static constexpr uint32_t kMaxValue = Semaphore::kMaxValue;

  // BoundedSemaphore(value): value permits, and value is also the bound (Python's default 1).
  explicit BoundedSemaphore(uint32_t value = 1) : Semaphore(value, value) {}
  BoundedSemaphore(const BoundedSemaphore&) = delete;
  BoundedSemaphore& operator=(const BoundedSemaphore&) = delete;

  // BoundedSemaphore::acquire()/try_acquire()/acquire_until()/acquire_for(): as Semaphore.
  using Semaphore::acquire;
  using Semaphore::acquire_for;
  using Semaphore::acquire_until;
  using Semaphore::try_acquire;

  // BoundedSemaphore::release(k): adds k permits and wakes up to k parked waiters. Throws
  // over_release, changing nothing, when the count would exceed the bound; std::invalid_argument
  // when k < 1.
  void release(uint32_t k = 1) { release_bounded(k); }

  // BoundedSemaphore::value(): permits available now (a snapshot). bound(): the initial value.
  using Semaphore::value;
  uint32_t bound() const noexcept { return bound_; }
  // BoundedSemaphore::waiters(): processes parked in the kernel (a snapshot, for tests).
  using Semaphore::waiters;

  // Lockable spelling (a BoundedSemaphore(1) is a lock that catches double unlocks).
  void lock() noexcept { acquire(); }
  bool try_lock() noexcept { return try_acquire(); }
  void unlock() { release(); }
  template <class Rep, class Period>
  bool try_lock_for(std::chrono::duration<Rep, Period> timeout) noexcept(!std::is_floating_point_v<Rep>) {
    return acquire_for(timeout);
  }
};

static_assert(sizeof(BoundedSemaphore) == 64 && alignof(BoundedSemaphore) == 64);
static_assert(std::is_standard_layout_v<BoundedSemaphore>);

}  // namespace ipcsync

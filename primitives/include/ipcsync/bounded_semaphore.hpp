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
// Layout: standard-layout, alignas(64), sizeof == 128: the Semaphore's cache line, then the
//   bound alone on a read-only line (so releases read it without contending with acquirers).
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

namespace detail {
// SemaphoreAccess: pointers to Semaphore's protected members, so BoundedSemaphore can do its
// bounded release as one CAS on the same count word and reuse Semaphore's wake-up, without
// deriving from Semaphore (a derived class with data of its own is not standard-layout).
// Forming &SemaphoreAccess::m is what C++ allows a derived class ([class.protected]); the
// resulting pointer-to-member applies to any Semaphore.
struct SemaphoreAccess : Semaphore {
  static constexpr auto count = &SemaphoreAccess::count_;
  static constexpr auto waiters = &SemaphoreAccess::waiters_;
  static constexpr auto wake = &SemaphoreAccess::wake;
};
}  // namespace detail

class alignas(64) BoundedSemaphore {
 public:
  static constexpr uint32_t kMaxValue = Semaphore::kMaxValue;

  // BoundedSemaphore(value): value permits, and value is also the bound (Python's default 1).
  explicit BoundedSemaphore(uint32_t value = 1) : sem_(value), bound_(value) {}
  BoundedSemaphore(const BoundedSemaphore&) = delete;
  BoundedSemaphore& operator=(const BoundedSemaphore&) = delete;

  // BoundedSemaphore::acquire()/try_acquire()/acquire_until()/acquire_for(): as Semaphore.
  bool acquire() noexcept { return sem_.acquire(); }
  bool acquire(bool blocking, double timeout_s = -1.0) noexcept { return sem_.acquire(blocking, timeout_s); }
  bool try_acquire() noexcept { return sem_.try_acquire(); }
  bool acquire_until(deadline until) noexcept { return sem_.acquire_until(until); }
  template <class Rep, class Period>
  bool acquire_for(std::chrono::duration<Rep, Period> timeout) noexcept {
    return sem_.acquire_for(timeout);
  }

  // BoundedSemaphore::release(k): adds k permits and wakes up to k parked waiters. Throws
  // over_release, changing nothing, when the count would exceed the bound; std::invalid_argument
  // when k < 1.
  void release(uint32_t k = 1) {
    if (k < 1) [[unlikely]]
      throw std::invalid_argument("BoundedSemaphore::release(k): k must be at least 1");
    std::atomic<uint32_t>& count = sem_.*detail::SemaphoreAccess::count;
    uint32_t v = count.load(std::memory_order_relaxed);
    do {
      if (k > bound_ || v > bound_ - k) [[unlikely]]
        throw over_release("BoundedSemaphore::release(): released too many times (count would exceed " +
                           std::to_string(bound_) + ")");
    } while (!count.compare_exchange_weak(v, v + k, std::memory_order_seq_cst, std::memory_order_relaxed));
    if ((sem_.*detail::SemaphoreAccess::waiters).load(std::memory_order_seq_cst) != 0) [[unlikely]]
      (sem_.*detail::SemaphoreAccess::wake)(k);
  }

  // BoundedSemaphore::value(): permits available now (a snapshot). bound(): the initial value.
  uint32_t value() const noexcept { return sem_.value(); }
  uint32_t bound() const noexcept { return bound_; }
  // BoundedSemaphore::waiters(): processes parked in the kernel (a snapshot, for tests).
  uint32_t waiters() const noexcept { return sem_.waiters(); }

  // Lockable spelling (a BoundedSemaphore(1) is a lock that catches double unlocks).
  void lock() noexcept { acquire(); }
  bool try_lock() noexcept { return try_acquire(); }
  void unlock() { release(); }
  template <class Rep, class Period>
  bool try_lock_for(std::chrono::duration<Rep, Period> timeout) noexcept {
    return acquire_for(timeout);
  }

 private:
  Semaphore sem_;
  alignas(64) uint32_t bound_;  // read-only after construction
};

static_assert(sizeof(BoundedSemaphore) == 128 && alignof(BoundedSemaphore) == 64);
static_assert(std::is_standard_layout_v<BoundedSemaphore>);

}  // namespace ipcsync

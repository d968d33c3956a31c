// spin.hpp — the pure-spinning comparison backend: the educational baseline.
//
//   Lock      -> test-and-test-and-set spinlock with PAUSE
//   Semaphore -> a counter taken by CAS, spinning while it is zero
//
// Nothing here ever sleeps in the kernel. With processes <= cores a handoff costs a cache-line
// round trip; once processes outnumber cores a waiter burns the time slice the holder needs and
// throughput collapses — which is exactly what this backend exists to show. Zero-filled state is
// valid (unlocked Lock, Semaphore with 0 permits). sizeof == 64, alignas(64), no pointers.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>

#include "ipcsync/errors.hpp"
#include "ipcsync/futex.hpp"

namespace ipcsync::spin {

class alignas(64) Lock {
 public:
  Lock() noexcept = default;
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  bool try_acquire() noexcept {
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(1, std::memory_order_acquire);
  }
  bool acquire() noexcept {
    while (!try_acquire())
      while (locked_.load(std::memory_order_relaxed)) cpu_relax();
    return true;
  }
  bool acquire_until(deadline until) noexcept {
    for (uint32_t i = 0;; ++i) {
      if (try_acquire()) return true;
      cpu_relax();
      if ((i & 255) == 255 && until != kNoDeadline && mono_clock::now() >= until) return false;
    }
  }
  template <class Rep, class Period>
  bool acquire_for(std::chrono::duration<Rep, Period> t) noexcept {
    return acquire_until(deadline_after(t));
  }
  void release() {
    if (!locked_.exchange(0, std::memory_order_release))
      throw over_release("spin::Lock::release(): lock is not acquired");
  }
  void lock() noexcept { acquire(); }
  bool try_lock() noexcept { return try_acquire(); }
  void unlock() { release(); }
  template <class Rep, class Period>
  bool try_lock_for(std::chrono::duration<Rep, Period> t) noexcept {
    return acquire_for(t);
  }

 private:
  std::atomic<uint32_t> locked_{0};
};

class alignas(64) Semaphore {
 public:
  explicit Semaphore(uint32_t value = 1) noexcept : count_(value) {}
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  bool try_acquire() noexcept {
    uint32_t v = count_.load(std::memory_order_relaxed);
    while (v > 0)
      if (count_.compare_exchange_weak(v, v - 1, std::memory_order_acquire,
                                       std::memory_order_relaxed))
        return true;
    return false;
  }
  bool acquire() noexcept {
    while (!try_acquire())
      while (count_.load(std::memory_order_relaxed) == 0) cpu_relax();
    return true;
  }
  bool acquire_until(deadline until) noexcept {
    for (uint32_t i = 0;; ++i) {
      if (try_acquire()) return true;
      cpu_relax();
      if ((i & 255) == 255 && until != kNoDeadline && mono_clock::now() >= until) return false;
    }
  }
  template <class Rep, class Period>
  bool acquire_for(std::chrono::duration<Rep, Period> t) noexcept {
    return acquire_until(deadline_after(t));
  }
  void release(uint32_t k = 1) {
    if (k < 1) throw std::invalid_argument("spin::Semaphore::release(k): k must be >= 1");
    count_.fetch_add(k, std::memory_order_release);
  }
  uint32_t value() const noexcept { return count_.load(std::memory_order_relaxed); }
  void lock() noexcept { acquire(); }
  bool try_lock() noexcept { return try_acquire(); }
  void unlock() { release(); }

 private:
  std::atomic<uint32_t> count_{0};
};

}  // namespace ipcsync::spin

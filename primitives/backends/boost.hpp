// boost.hpp — the Boost.Interprocess comparison backend (header-only, Boost 1.74).
//
//   Lock      -> boost::interprocess::interprocess_mutex
//   Semaphore -> boost::interprocess::interprocess_semaphore
//
// On Linux these wrap process-shared pthread mutexes and unnamed sem_t; the backend shows what
// the Boost abstraction adds (or not) over raw POSIX. Boost's timed waits take an absolute
// posix_time::ptime in universal time, so deadlines are converted at the call.
#pragma once

#include <boost/date_time/posix_time/posix_time_types.hpp>
#include <boost/interprocess/sync/interprocess_mutex.hpp>
#include <boost/interprocess/sync/interprocess_semaphore.hpp>
#include <chrono>
#include <cstdint>
#include <stdexcept>

#include "ipcsync/futex.hpp"

namespace ipcsync::boost_ipc {

inline ::boost::posix_time::ptime to_ptime(deadline until) {
  const auto left = std::chrono::duration_cast<std::chrono::microseconds>(until - mono_clock::now());
  return ::boost::posix_time::microsec_clock::universal_time() +
         ::boost::posix_time::microseconds(left.count() > 0 ? left.count() : 0);
}

class alignas(64) Lock {
 public:
  Lock() = default;
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  bool acquire() {
    m_.lock();
    return true;
  }
  bool try_acquire() { return m_.try_lock(); }
  bool acquire_until(deadline until) {
    if (until == kNoDeadline) return acquire();
    return m_.timed_lock(to_ptime(until));
  }
  template <class Rep, class Period>
  bool acquire_for(std::chrono::duration<Rep, Period> t) {
    return acquire_until(deadline_after(t));
  }
  void release() { m_.unlock(); }
  void lock() { m_.lock(); }
  bool try_lock() { return m_.try_lock(); }
  void unlock() { m_.unlock(); }
  template <class Rep, class Period>
  bool try_lock_for(std::chrono::duration<Rep, Period> t) {
    return acquire_for(t);
  }

 private:
  ::boost::interprocess::interprocess_mutex m_;
};

class alignas(64) Semaphore {
 public:
  explicit Semaphore(uint32_t value = 1) : s_(value) {}
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  bool acquire() {
    s_.wait();
    return true;
  }
  bool try_acquire() { return s_.try_wait(); }
  bool acquire_until(deadline until) {
    if (until == kNoDeadline) return acquire();
    return s_.timed_wait(to_ptime(until));
  }
  template <class Rep, class Period>
  bool acquire_for(std::chrono::duration<Rep, Period> t) {
    return acquire_until(deadline_after(t));
  }
  void release(uint32_t k = 1) {
    if (k < 1) throw std::invalid_argument("boost_ipc::Semaphore::release(k): k must be >= 1");
    for (uint32_t i = 0; i < k; ++i) s_.post();
  }
  void lock() { acquire(); }
  bool try_lock() { return try_acquire(); }
  void unlock() { release(); }

 private:
  ::boost::interprocess::interprocess_semaphore s_;
};

}  // namespace ipcsync::boost_ipc

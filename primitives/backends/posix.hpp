// posix.hpp — the POSIX comparison backend: the same roles as ipcsync's native primitives, built
// on what a C programmer would otherwise use across processes.
//
//   Lock      -> pthread_mutex_t, PTHREAD_PROCESS_SHARED + PTHREAD_MUTEX_ROBUST
//   Semaphore -> unnamed sem_t with pshared = 1
//
// Each object lives in place in a shared mapping (construct before fork); nothing is named, so
// nothing reaches /dev/shm. Timeouts use the glibc CLOCK_MONOTONIC variants
// (pthread_mutex_clocklock, sem_clockwait), like the native primitives.
#pragma once

#include <pthread.h>
#include <semaphore.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <stdexcept>
#include <system_error>

#include "ipcsync/errors.hpp"
#include "ipcsync/futex.hpp"

namespace ipcsync::posix {

inline timespec to_abs_timespec(deadline d) noexcept {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d.time_since_epoch()).count();
  return timespec{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

// posix::Lock — a robust, process-shared pthread mutex.
class alignas(64) Lock {
 public:
  Lock() {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    const int rc = pthread_mutex_init(&m_, &a);
    pthread_mutexattr_destroy(&a);
    if (rc != 0) throw std::system_error(rc, std::generic_category(), "pthread_mutex_init");
  }
  ~Lock() { pthread_mutex_destroy(&m_); }
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  bool acquire() noexcept { return settle(pthread_mutex_lock(&m_)); }
  bool try_acquire() noexcept { return settle(pthread_mutex_trylock(&m_)); }
  bool acquire_until(deadline until) noexcept {
    if (until == kNoDeadline) return acquire();
    const timespec ts = to_abs_timespec(until);
    return settle(pthread_mutex_clocklock(&m_, CLOCK_MONOTONIC, &ts));
  }
  template <class Rep, class Period>
  bool acquire_for(std::chrono::duration<Rep, Period> t) noexcept {
    return acquire_until(deadline_after(t));
  }
  void release() {
    if (pthread_mutex_unlock(&m_) != 0) throw over_release("posix::Lock::release(): not owner");
  }
  void lock() noexcept { acquire(); }
  bool try_lock() noexcept { return try_acquire(); }
  void unlock() { release(); }
  template <class Rep, class Period>
  bool try_lock_for(std::chrono::duration<Rep, Period> t) noexcept {
    return acquire_for(t);
  }

  // owner_died(): whether the last acquire recovered the lock from a dead owner.
  bool owner_died() const noexcept { return owner_died_; }

 private:
  bool settle(int rc) noexcept {
    owner_died_ = false;
    if (rc == 0) return true;
    if (rc == EOWNERDEAD) {  // the holder died; the protected state may be inconsistent
      pthread_mutex_consistent(&m_);
      owner_died_ = true;
      return true;
    }
    return false;  // EBUSY, ETIMEDOUT
  }
  pthread_mutex_t m_;
  bool owner_died_ = false;
};

// posix::Semaphore — an unnamed, process-shared sem_t.
class alignas(64) Semaphore {
 public:
  explicit Semaphore(uint32_t value = 1) {
    if (sem_init(&s_, 1, value) != 0)
      throw std::system_error(errno, std::generic_category(), "sem_init");
  }
  ~Semaphore() { sem_destroy(&s_); }
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  bool acquire() noexcept {
    while (sem_wait(&s_) != 0) {
      if (errno != EINTR) return false;
    }
    return true;
  }
  bool try_acquire() noexcept {
    while (sem_trywait(&s_) != 0) {
      if (errno != EINTR) return false;
    }
    return true;
  }
  bool acquire_until(deadline until) noexcept {
    if (until == kNoDeadline) return acquire();
    const timespec ts = to_abs_timespec(until);
    while (sem_clockwait(&s_, CLOCK_MONOTONIC, &ts) != 0) {
      if (errno != EINTR) return false;
    }
    return true;
  }
  template <class Rep, class Period>
  bool acquire_for(std::chrono::duration<Rep, Period> t) noexcept {
    return acquire_until(deadline_after(t));
  }
  void release(uint32_t k = 1) {
    if (k < 1) throw std::invalid_argument("posix::Semaphore::release(k): k must be >= 1");
    for (uint32_t i = 0; i < k; ++i)
      if (sem_post(&s_) != 0) throw over_release("posix::Semaphore::release(): sem_post overflow");
  }
  uint32_t value() noexcept {
    int v = 0;
    sem_getvalue(&s_, &v);
    return v < 0 ? 0u : static_cast<uint32_t>(v);
  }
  void lock() noexcept { acquire(); }
  bool try_lock() noexcept { return try_acquire(); }
  void unlock() { release(); }

 private:
  sem_t s_;
};

}  // namespace ipcsync::posix

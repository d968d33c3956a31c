// posix.hpp — the POSIX comparison backend: the same roles as ipcsync's native primitives, built
// on what a C programmer would otherwise use across processes.
//
//   Lock             -> pthread_mutex_t, PTHREAD_PROCESS_SHARED + PTHREAD_MUTEX_ROBUST, holder
//                       recorded beside it (generic::Lock, generic.hpp)
//   RLock            -> the same mutex with PTHREAD_MUTEX_RECURSIVE, owner and depth beside it
//                       (generic::RLock)
//   Semaphore        -> unnamed sem_t with pshared = 1
//   BoundedSemaphore -> sem_t plus a shadow count enforcing the bound (generic::BoundedSemaphore)
//   Condition<L>     -> pthread_cond_t (pshared), for L = Lock or RLock (generic::Condition)
//   Event            -> mutex + pthread_cond + flag (generic::Event)
//   Barrier          -> mutex + pthread_cond generation barrier (generic::Barrier)
//   Queue<T, N>      -> a POSIX message queue (mq_open/mq_timedsend/mq_timedreceive), unlinked
//                       as soon as it is opened (generic::Queue, message_queue.hpp)
//   JoinableQueue    -> that queue + an unfinished count, join() on mutex + pthread_cond
//   Value<T>, Array<T, N> -> guarded by posix::Lock (guarded.hpp)
//   PlainLock        -> the same Lock on a plain (not robust) pshared mutex: the posix_plain
//                       backend's only role, the baseline that shows what robustness costs
//
// DESIGN divergences (the Backends table of DESIGN.md):
//   * Barrier is not pthread_barrier_t: pthread_barrier_wait cannot time out, be aborted or
//     reset, reports no arrival index and runs no action, so the guide's Barrier is built on a
//     pthread mutex + condition variable generation barrier instead.
//   * BoundedSemaphore's bound, Queue's close() and end of stream, and JoinableQueue's
//     task_done()/join() have no POSIX counterpart: they are built on top (see generic.hpp and
//     message_queue.hpp for how, and what it costs).
//   * Lock is released by its holder only (a pthread mutex unlocked by another thread is
//     undefined; Python's Lock allows it): release() by another thread throws not_owner.
//
// Promises kept as on every backend (tests/conformance_*_test.cc): timeouts in Python's float
// form follow backends/timeout.hpp (negative: a poll, NaN: std::invalid_argument, huge or +inf:
// forever); Semaphore(n) with n above SEM_VALUE_MAX (Python's Semaphore(-1) as uint32_t) is
// std::invalid_argument, not sem_init's EINVAL system_error; a sem_post past SEM_VALUE_MAX is
// over_release; Condition::notify(n) makes at most n wait()s return true and a spurious
// pthread_cond wake-up never returns true (generic.hpp).
// Promise broken (named by the conformance suite): "any process may release a Lock" (above).
//
// Placement: each object lives in place in a shared mapping, constructed before fork (or in a
// NamedSegment). No object is named except the message queue, whose name is removed before its
// constructor returns (the descriptor, inherited by fork, keeps it alive), so nothing reaches
// /dev/shm or /dev/mqueue. Timeouts use CLOCK_MONOTONIC (pthread_mutex_clocklock,
// pthread_cond_clockwait, sem_clockwait) like the native primitives; only mq_timed* take a
// CLOCK_REALTIME deadline, converted at the call.
// Owner death: the mutexes are robust: a holder that dies hands the mutex to the next acquirer
// with EOWNERDEAD, which Lock/RLock report through owner_died() and Barrier turns into a broken
// barrier. sem_t and mqueues have no owner.
// Destruction: pthread objects are never destroyed (see generic.hpp); Queue and JoinableQueue
// close their descriptor when destroyed.
#pragma once

#include <fcntl.h>
#include <mqueue.h>
#include <pthread.h>
#include <semaphore.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>

#include "backends/generic.hpp"
#include "backends/guarded.hpp"
#include "backends/message_queue.hpp"
#include "backends/timeout.hpp"
#include "ipcsync/errors.hpp"
#include "ipcsync/futex.hpp"

namespace ipcsync::posix {

inline timespec to_abs_timespec(deadline d) noexcept {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d.time_since_epoch()).count();
  return timespec{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

// to_realtime_timespec(d): the CLOCK_REALTIME instant as far from now as the monotonic d.
inline timespec to_realtime_timespec(deadline d) noexcept {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(d - mono_clock::now()).count();
  if (left < 0) left = 0;
  const int64_t ns = static_cast<int64_t>(now.tv_nsec) + left % 1'000'000'000;
  return timespec{static_cast<time_t>(now.tv_sec + left / 1'000'000'000 + ns / 1'000'000'000),
                  static_cast<long>(ns % 1'000'000'000)};
}

namespace detail {

// detail::Mutex — a process-shared, robust pthread mutex (PTHREAD_MUTEX_NORMAL by default,
// kRecursive for RLock); the generic.hpp mutex protocol. An EOWNERDEAD acquisition is made
// consistent at once and reported as generic::kOwnerDied.
class Mutex {
 public:
  static constexpr int kRecursive = PTHREAD_MUTEX_RECURSIVE;

  explicit Mutex(int type = PTHREAD_MUTEX_NORMAL, bool robust = true) {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    if (robust) pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutexattr_settype(&a, type);
    const int rc = pthread_mutex_init(&m_, &a);
    pthread_mutexattr_destroy(&a);
    if (rc != 0) throw std::system_error(rc, std::generic_category(), "pthread_mutex_init");
  }
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  int lock() noexcept { return settle(pthread_mutex_lock(&m_)); }
  int try_lock() noexcept { return settle(pthread_mutex_trylock(&m_)); }
  int lock_until(deadline until) noexcept {
    if (until == kNoDeadline) return lock();
    const timespec ts = to_abs_timespec(until);
    return settle(pthread_mutex_clocklock(&m_, CLOCK_MONOTONIC, &ts));
  }
  void unlock() noexcept { pthread_mutex_unlock(&m_); }
  pthread_mutex_t* native_handle() noexcept { return &m_; }

 private:
  int settle(int rc) noexcept {
    if (rc == EOWNERDEAD) pthread_mutex_consistent(&m_);  // the holder died; state may be half-done
    return rc;
  }
  pthread_mutex_t m_;
};

// detail::PlainMutex — the mutex most C code shares between processes: process-shared, default
// type, not robust (a holder that dies leaves it locked for good). posix_plain's Lock.
class PlainMutex : public Mutex {
 public:
  PlainMutex() : Mutex(PTHREAD_MUTEX_NORMAL, false) {}
};

// detail::Cond — a process-shared pthread condition variable; the generic.hpp protocol.
// Deadlines are CLOCK_MONOTONIC (pthread_cond_clockwait).
class Cond {
 public:
  Cond() {
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    const int rc = pthread_cond_init(&c_, &a);
    pthread_condattr_destroy(&a);
    if (rc != 0) throw std::system_error(rc, std::generic_category(), "pthread_cond_init");
  }
  Cond(const Cond&) = delete;
  Cond& operator=(const Cond&) = delete;

  int wait_until(Mutex& m, deadline until) noexcept {
    int rc;
    if (until == kNoDeadline) {
      rc = pthread_cond_wait(&c_, m.native_handle());
    } else {
      const timespec ts = to_abs_timespec(until);
      rc = pthread_cond_clockwait(&c_, m.native_handle(), CLOCK_MONOTONIC, &ts);
    }
    if (rc == EOWNERDEAD) pthread_mutex_consistent(m.native_handle());
    return rc;
  }
  void signal() noexcept { pthread_cond_signal(&c_); }
  void broadcast() noexcept { pthread_cond_broadcast(&c_); }

 private:
  pthread_cond_t c_;
};

inline std::string read_limit(const char* path) {
  std::ifstream f(path);
  std::string v;
  return (f >> v) ? v : "?";
}

// detail::Mqueue — a POSIX message queue: the message_queue.hpp transport protocol. Opened
// O_CREAT|O_EXCL under a unique name (/ipcsync-mq.<pid>.<n>) and unlinked at once; the
// descriptor is inherited by fork children and closed by the destructor.
class Mqueue {
 public:
  Mqueue(uint32_t maxsize, uint32_t msg_bytes) {
    static std::atomic<uint32_t> seq{0};
    mq_attr attr{};
    attr.mq_maxmsg = maxsize;
    attr.mq_msgsize = msg_bytes;
    for (int attempt = 0;; ++attempt) {
      const std::string name = "/ipcsync-mq." + std::to_string(getpid()) + "." + std::to_string(seq.fetch_add(1));
      q_ = mq_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
      if (q_ != static_cast<mqd_t>(-1)) {
        mq_unlink(name.c_str());
        return;
      }
      if (errno == EEXIST && attempt < 8) {  // left by a dead process with our pid
        mq_unlink(name.c_str());
        continue;
      }
      throw std::runtime_error(limit_error(errno, maxsize, msg_bytes));
    }
  }
  ~Mqueue() { mq_close(q_); }
  Mqueue(const Mqueue&) = delete;
  Mqueue& operator=(const Mqueue&) = delete;

  bool send(const void* p, std::size_t n, deadline until) {
    const timespec ts = to_realtime_timespec(until);
    while (mq_timedsend(q_, static_cast<const char*>(p), n, 0, &ts) != 0) {
      if (errno == ETIMEDOUT) return false;
      if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "posix::Queue: mq_timedsend");
    }
    return true;
  }
  bool receive(void* p, std::size_t cap, std::size_t* len, deadline until) {
    const timespec ts = to_realtime_timespec(until);
    for (;;) {
      const ssize_t n = mq_timedreceive(q_, static_cast<char*>(p), cap, nullptr, &ts);
      if (n >= 0) {
        *len = static_cast<std::size_t>(n);
        return true;
      }
      if (errno == ETIMEDOUT) return false;
      if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "posix::Queue: mq_timedreceive");
    }
  }
  uint32_t count() const noexcept {
    mq_attr a{};
    return mq_getattr(q_, &a) == 0 ? static_cast<uint32_t>(a.mq_curmsgs) : 0;
  }

 private:
  // limit_error(): short enough to survive a 160-byte worker message in a bench row.
  static std::string limit_error(int err, uint32_t maxsize, uint32_t msg_bytes) {
    const char* name = strerrorname_np(err);
    std::string m = "posix::Queue: mq_open(maxsize " + std::to_string(maxsize) + ", message " +
                    std::to_string(msg_bytes) + " B): " + (name ? name : std::strerror(err)) + ": ";
    switch (err) {
      case EINVAL:
        return m + "above /proc/sys/fs/mqueue/msg_max (" + read_limit("/proc/sys/fs/mqueue/msg_max") +
               ") or msgsize_max (" + read_limit("/proc/sys/fs/mqueue/msgsize_max") + "); root may raise them";
      case EMFILE:
        return m + "RLIMIT_MSGQUEUE (ulimit -q) or descriptors exhausted; see /proc/sys/fs/mqueue";
      case ENOSPC:
        return m + "/proc/sys/fs/mqueue/queues_max (" + read_limit("/proc/sys/fs/mqueue/queues_max") +
               ") queues exist";
      default:
        return m + std::strerror(err) + "; see the limits in /proc/sys/fs/mqueue";
    }
  }
  mqd_t q_ = static_cast<mqd_t>(-1);
};

}  // namespace detail

// posix::Lock — a robust, process-shared pthread mutex that records its holder
// (generic::Lock: owner(), locked(), owner_died(), recoveries()). Layout: alignas(64),
// sizeof == 64. Not valid zero-filled: construct it.
class alignas(64) Lock : public generic::Lock<detail::Mutex> {};

// posix::PlainLock — the baseline a reader of C code expects: a plain (not robust)
// process-shared pthread mutex, its holder recorded beside it like posix::Lock's (so release()
// by a non-holder is still refused). The posix_plain backend's Lock; posix::Lock / posix_plain
// is the cost of robustness. A holder that dies leaves it locked for good. alignas(64),
// sizeof == 64.
class alignas(64) PlainLock : public generic::Lock<detail::PlainMutex> {};

// posix::RLock — a robust, recursive, process-shared pthread mutex with owner and depth beside
// it (generic::RLock). alignas(64), sizeof == 64.
class alignas(64) RLock : public generic::RLock<detail::Mutex> {};

// posix::Semaphore — an unnamed, process-shared sem_t. alignas(64), sizeof == 64.
class alignas(64) Semaphore {
 public:
  // kMaxValue: the largest count, ipcsync::Semaphore's (SEM_VALUE_MAX on Linux, Python's
  // SemLock.SEM_VALUE_MAX). A larger initial value — Python's Semaphore(-1) once converted to
  // uint32_t — is std::invalid_argument on every backend (sem_init would say EINVAL).
  static constexpr uint32_t kMaxValue = 0x7fffffff;
  explicit Semaphore(uint32_t value = 1) {
    if (value > kMaxValue)
      throw std::invalid_argument("posix::Semaphore: initial value " + std::to_string(value) +
                                  " above the maximum " + std::to_string(kMaxValue) + " (a negative value?)");
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
  bool acquire_for(std::chrono::duration<Rep, Period> t) {
    return acquire_until(deadline_after(t));
  }
  // acquire(blocking, timeout_s): Python's signature (timeout.hpp).
  bool acquire(bool blocking, double timeout_s = backend::kForever) {
    if (!blocking) return try_acquire();
    return acquire_until(backend::deadline_in(timeout_s));
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

// posix::BoundedSemaphore — sem_t with the bound built on top (generic::BoundedSemaphore).
// alignas(64), sizeof == 128.
using BoundedSemaphore = generic::BoundedSemaphore<Semaphore>;

// posix::Condition<L> — pthread_cond_t bound to a posix::Lock (default) or posix::RLock, its
// own or an external one in the same mapping (generic::Condition). alignas(64), sizeof == 128.
template <class L = Lock>
using Condition = generic::Condition<detail::Cond, L>;

// posix::Event — mutex + pthread_cond + flag (generic::Event). alignas(64), sizeof == 128.
using Event = generic::Event<detail::Mutex, detail::Cond>;

// posix::Barrier — a mutex + pthread_cond generation barrier with the guide's abort/reset/
// broken/timeouts (generic::Barrier; see the divergence note above). alignas(64).
using Barrier = generic::Barrier<detail::Mutex, detail::Cond>;

// posix::Queue<T, N> / JoinableQueue<T, N> — a POSIX mqueue of sizeof(T)-byte messages, with
// close() and (Joinable) task_done()/join() built on top (message_queue.hpp). The constructor
// throws std::runtime_error naming /proc/sys/fs/mqueue/msg_max (default 10; root may raise it),
// msgsize_max or RLIMIT_MSGQUEUE when the kernel refuses a queue that large.
template <class T, std::size_t N = 0>
using Queue = generic::Queue<detail::Mqueue, T, N>;
template <class T, std::size_t N = 0>
using JoinableQueue = generic::JoinableQueue<detail::Mqueue, detail::Mutex, detail::Cond, T, N>;

// posix::Value<T> / Array<T, N> — guarded by a posix::Lock (guarded.hpp).
template <class T>
using Value = generic::Value<T, Lock>;
template <class T, std::size_t N = 0>
using Array = generic::Array<T, N, Lock>;

static_assert(sizeof(Lock) == 64 && sizeof(PlainLock) == 64 && sizeof(RLock) == 64 && sizeof(Semaphore) == 64);
static_assert(sizeof(Condition<Lock>) == 128 && sizeof(Condition<RLock>) == 128);
static_assert(std::is_standard_layout_v<Lock> && std::is_standard_layout_v<Condition<Lock>>);
static_assert(std::is_trivially_destructible_v<Condition<Lock>> && std::is_trivially_destructible_v<Event>);

}  // namespace ipcsync::posix

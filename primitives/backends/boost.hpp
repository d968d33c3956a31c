// boost.hpp — the Boost.Interprocess comparison backend (header-only, Boost 1.74).
//
//   Lock             -> interprocess_mutex, holder recorded beside it (generic::Lock, generic.hpp)
//   RLock            -> interprocess_recursive_mutex, owner and depth beside it (generic::RLock)
//   Semaphore        -> interprocess_semaphore
//   BoundedSemaphore -> interprocess_semaphore + a shadow count enforcing the bound
//                       (generic::BoundedSemaphore)
//   Condition        -> interprocess_condition bound to a boost_ipc::Lock (generic::Condition)
//   Event            -> interprocess_mutex + interprocess_condition + flag (generic::Event)
//   Barrier          -> interprocess_mutex + interprocess_condition generation barrier
//                       (generic::Barrier)
//   Queue<T, N>      -> boost::interprocess::message_queue, its name removed as soon as it is
//                       created (generic::Queue, message_queue.hpp)
//   JoinableQueue    -> that queue + an unfinished count, join() on mutex + condition
//   Value<T>, Array<T, N> -> guarded by boost_ipc::Lock (guarded.hpp)
//
// On Linux the mutexes, condition and semaphore wrap process-shared pthread objects and unnamed
// sem_t; the backend shows what the Boost abstraction adds (or not) over raw POSIX.
//
// DESIGN divergences (the Backends table of DESIGN.md):
//   * BoundedSemaphore's bound, Queue's close() and end of stream, and JoinableQueue's
//     task_done()/join() have no Boost counterpart: they are built on top (generic.hpp,
//     message_queue.hpp).
//   * Condition works with boost_ipc::Lock only: interprocess_condition waits on an
//     interprocess_mutex, not a recursive one (use posix::Condition<posix::RLock> or the native
//     Condition<RLock> for that).
//   * Not robust: Boost 1.74's mutexes are not PTHREAD_MUTEX_ROBUST, so a process killed while
//     holding one (a Lock, or inside an Event/Barrier/message_queue operation) deadlocks the
//     others, as in Python; owner_died()/recoveries() stay false/0.
//   * Lock is released by its holder only (release() by another thread throws not_owner).
//   * Semaphore has no value() (interprocess_semaphore cannot report its count; Python's
//     get_value() is also unavailable on some platforms). BoundedSemaphore::value() is its
//     shadow count.
//
// Promises kept as on every backend (tests/conformance_*_test.cc): float timeouts follow
// backends/timeout.hpp (negative: a poll, NaN: std::invalid_argument, huge or +inf: forever);
// deadlines more than 100 years away wait without a timeout (unbounded(): Boost's ptime ->
// timespec conversion overflows past 2262); Semaphore(n) with n above 2^31-1 (Python's
// Semaphore(-1) as uint32_t) is std::invalid_argument, not interprocess_exception; a post past
// the maximum is over_release; Condition::notify(n) makes at most n wait()s return true
// (generic.hpp).
// Promises broken (named by the conformance suite): "any process may release a Lock";
// Semaphore::get_value(); a Condition on an RLock.
//
// Placement: objects live in place in a shared mapping, constructed before fork. The message
// queue must have a name (Boost creates it as a shm_open() segment, /dev/shm/ipcsync-mq.<pid>.<n>);
// the constructor removes the name right after creating it — the mapping, inherited by fork
// children at the same address, keeps the queue alive — and first removes any such name left
// by a creator that is no longer running (the only leak possible: a creator killed inside
// Boost's constructor).
// Timeouts: Boost's timed waits take an absolute posix_time::ptime in universal time, so
// deadlines are converted at the call (a wall-clock step during a wait moves its deadline).
// Destruction: the Boost sync objects are never destroyed — they sit in raw storage
// (detail::Embedded), because ~interprocess_condition calls pthread_cond_destroy, which waits
// forever for a waiter killed inside wait(); Queue and JoinableQueue unmap their segment when
// destroyed.
#pragma once

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <boost/date_time/posix_time/posix_time_types.hpp>
#include <boost/interprocess/ipc/message_queue.hpp>
#include <boost/interprocess/sync/interprocess_condition.hpp>
#include <boost/interprocess/sync/interprocess_mutex.hpp>
#include <boost/interprocess/sync/interprocess_recursive_mutex.hpp>
#include <boost/interprocess/sync/interprocess_semaphore.hpp>
#include <boost/interprocess/sync/scoped_lock.hpp>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>

#include "backends/generic.hpp"
#include "backends/guarded.hpp"
#include "backends/message_queue.hpp"
#include "backends/timeout.hpp"
#include "ipcsync/futex.hpp"

namespace ipcsync::boost_ipc {

namespace bip = ::boost::interprocess;

// unbounded(until): true for kNoDeadline and for deadlines more than 100 years away, which the
// backend waits for without a timeout: Boost converts a ptime to a timespec through a 64-bit
// nanosecond count since 1970, which overflows for instants past 2262 — a deadline_after()
// of ~250 years or more would become a deadline in the past and return at once.
inline bool unbounded(deadline until) noexcept {
  return until == kNoDeadline || until - mono_clock::now() > std::chrono::hours(24 * 365 * 100);
}

inline ::boost::posix_time::ptime to_ptime(deadline until) {
  const auto left = std::chrono::duration_cast<std::chrono::microseconds>(until - mono_clock::now());
  return ::boost::posix_time::microsec_clock::universal_time() +
         ::boost::posix_time::microseconds(left.count() > 0 ? left.count() : 0);
}

namespace detail {

// detail::Embedded<T> — a T constructed in raw storage and never destroyed (see above).
template <class T>
class Embedded {
 public:
  template <class... A>
  explicit Embedded(A&&... a) {
    ::new (static_cast<void*>(buf_)) T(std::forward<A>(a)...);
  }
  Embedded(const Embedded&) = delete;
  Embedded& operator=(const Embedded&) = delete;
  T& get() noexcept { return *std::launder(reinterpret_cast<T*>(buf_)); }

 private:
  alignas(T) unsigned char buf_[sizeof(T)];
};

// detail::BasicMutex<M> — interprocess_mutex (kind 0) or interprocess_recursive_mutex: the
// generic.hpp mutex protocol (never kOwnerDied: not robust).
template <class M>
class BasicMutex {
 public:
  static constexpr int kRecursive = 1;
  explicit BasicMutex(int = 0) {}
  int lock() {
    m_.get().lock();
    return generic::kOk;
  }
  int try_lock() { return m_.get().try_lock() ? generic::kOk : generic::kBusy; }
  int lock_until(deadline until) {
    if (unbounded(until)) return lock();
    return m_.get().timed_lock(to_ptime(until)) ? generic::kOk : generic::kTimedOut;
  }
  void unlock() { m_.get().unlock(); }
  M& native() noexcept { return m_.get(); }

 private:
  Embedded<M> m_;
};
using Mutex = BasicMutex<bip::interprocess_mutex>;
using RecursiveMutex = BasicMutex<bip::interprocess_recursive_mutex>;

// detail::Cond — interprocess_condition: the generic.hpp condition protocol, with Mutex.
class Cond {
 public:
  Cond() = default;
  int wait_until(Mutex& m, deadline until) {
    bip::scoped_lock<bip::interprocess_mutex> g(m.native(), bip::accept_ownership);
    bool woken = true;
    if (unbounded(until))
      c_.get().wait(g);
    else
      woken = c_.get().timed_wait(g, to_ptime(until));
    g.release();  // still held: the caller unlocks
    return woken ? generic::kOk : generic::kTimedOut;
  }
  void signal() { c_.get().notify_one(); }
  void broadcast() { c_.get().notify_all(); }

 private:
  Embedded<bip::interprocess_condition> c_;
};

// detail::MessageQueue — boost::interprocess::message_queue: the message_queue.hpp transport
// protocol. Created under a unique name and removed at once (see the file comment).
class MessageQueue {
 public:
  static constexpr const char* kPrefix = "ipcsync-mq.";

  MessageQueue(uint32_t maxsize, uint32_t msg_bytes) {
    static std::atomic<uint32_t> seq{0};
    remove_stale();
    for (int attempt = 0;; ++attempt) {
      const std::string name = kPrefix + std::to_string(getpid()) + "." + std::to_string(seq.fetch_add(1));
      try {
        ::new (static_cast<void*>(buf_)) bip::message_queue(bip::create_only, name.c_str(), maxsize, msg_bytes);
      } catch (const bip::interprocess_exception& e) {
        if (e.get_error_code() == bip::already_exists_error && attempt < 8) {
          bip::message_queue::remove(name.c_str());
          continue;
        }
        throw std::runtime_error("boost_ipc::Queue: cannot create message_queue(maxsize " + std::to_string(maxsize) +
                                 ", message " + std::to_string(msg_bytes) + " bytes) in /dev/shm: " + e.what());
      }
      bip::message_queue::remove(name.c_str());
      return;
    }
  }
  ~MessageQueue() { std::destroy_at(&q()); }
  MessageQueue(const MessageQueue&) = delete;
  MessageQueue& operator=(const MessageQueue&) = delete;

  bool send(const void* p, std::size_t n, deadline until) {
    if (until <= mono_clock::now()) return q().try_send(p, n, 0);
    return q().timed_send(p, n, 0, to_ptime(until));
  }
  bool receive(void* p, std::size_t cap, std::size_t* len, deadline until) {
    bip::message_queue::size_type got = 0;
    unsigned int prio = 0;
    const bool ok = until <= mono_clock::now() ? q().try_receive(p, cap, got, prio)
                                               : q().timed_receive(p, cap, got, prio, to_ptime(until));
    if (ok) *len = static_cast<std::size_t>(got);
    return ok;
  }
  uint32_t count() { return static_cast<uint32_t>(q().get_num_msg()); }

  // remove_stale(): removes /dev/shm/ipcsync-mq.<pid>.* names whose creator is not running.
  static void remove_stale() {
    DIR* d = opendir("/dev/shm");
    if (!d) return;
    const std::size_t plen = std::strlen(kPrefix);
    while (dirent* e = readdir(d)) {
      const std::string n = e->d_name;
      if (n.compare(0, plen, kPrefix) != 0) continue;
      const long pid = std::strtol(n.c_str() + plen, nullptr, 10);
      if (pid > 0 && kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) bip::message_queue::remove(n.c_str());
    }
    closedir(d);
  }

 private:
  bip::message_queue& q() noexcept { return *std::launder(reinterpret_cast<bip::message_queue*>(buf_)); }
  alignas(bip::message_queue) unsigned char buf_[sizeof(bip::message_queue)];
};

}  // namespace detail

// boost_ipc::Lock — interprocess_mutex recording its holder (generic::Lock). alignas(64),
// sizeof == 64. Not robust (see above).
class alignas(64) Lock : public generic::Lock<detail::Mutex> {};

// boost_ipc::RLock — interprocess_recursive_mutex with owner and depth (generic::RLock).
class alignas(64) RLock : public generic::RLock<detail::RecursiveMutex> {};

// boost_ipc::Semaphore — interprocess_semaphore. alignas(64), sizeof == 64.
class alignas(64) Semaphore {
 public:
  // kMaxValue: as posix::Semaphore's; a larger initial value (Python's Semaphore(-1) as
  // uint32_t) is std::invalid_argument, not Boost's interprocess_exception.
  static constexpr uint32_t kMaxValue = 0x7fffffff;
  explicit Semaphore(uint32_t value = 1) : s_(checked(value)) {}
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  // A signal handler that runs during a wait is not an error (Python retries, PEP 475): Boost
  // turns sem_wait's and sem_timedwait's EINTR into an interprocess_exception, so the wait is
  // resumed here (timed: towards the same absolute deadline). Found by bench --torture's signal
  // fault.
  bool acquire() {
    for (;;) try {
        s_.get().wait();
        return true;
      } catch (const bip::interprocess_exception& e) {
        if (e.get_native_error() != EINTR) throw;
      }
  }
  bool try_acquire() { return s_.get().try_wait(); }
  bool acquire_until(deadline until) {
    if (unbounded(until)) return acquire();
    const auto at = to_ptime(until);
    for (;;) try {
        return s_.get().timed_wait(at);
      } catch (const bip::interprocess_exception& e) {
        if (e.get_native_error() != EINTR) throw;
      }
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
  // release(k): a post past kMaxValue (sem_post's EOVERFLOW inside Boost) is over_release.
  void release(uint32_t k = 1) {
    if (k < 1) throw std::invalid_argument("boost_ipc::Semaphore::release(k): k must be >= 1");
    for (uint32_t i = 0; i < k; ++i) {
      try {
        s_.get().post();
      } catch (const bip::interprocess_exception&) {
        throw over_release("boost_ipc::Semaphore::release(): count would exceed the maximum");
      }
    }
  }
  void lock() { acquire(); }
  bool try_lock() { return try_acquire(); }
  void unlock() { release(); }

 private:
  static uint32_t checked(uint32_t value) {
    if (value > kMaxValue)
      throw std::invalid_argument("boost_ipc::Semaphore: initial value " + std::to_string(value) +
                                  " above the maximum " + std::to_string(kMaxValue) + " (a negative value?)");
    return value;
  }
  detail::Embedded<bip::interprocess_semaphore> s_;
};

// boost_ipc::BoundedSemaphore — interprocess_semaphore with the bound built on top
// (generic::BoundedSemaphore; value() is its shadow count). alignas(64), sizeof == 128.
using BoundedSemaphore = generic::BoundedSemaphore<Semaphore>;

// boost_ipc::Condition — interprocess_condition bound to a boost_ipc::Lock, its own or an
// external one in the same mapping (generic::Condition). alignas(64), sizeof == 128.
using Condition = generic::Condition<detail::Cond, Lock>;

// boost_ipc::Event / Barrier — interprocess_mutex + interprocess_condition (generic::Event,
// generic::Barrier). alignas(64).
using Event = generic::Event<detail::Mutex, detail::Cond>;
using Barrier = generic::Barrier<detail::Mutex, detail::Cond>;

// boost_ipc::Queue<T, N> / JoinableQueue<T, N> — boost::interprocess::message_queue of
// sizeof(T)-byte messages, with close() and (Joinable) task_done()/join() built on top
// (message_queue.hpp). The constructor throws std::runtime_error when /dev/shm refuses it.
template <class T, std::size_t N = 0>
using Queue = generic::Queue<detail::MessageQueue, T, N>;
template <class T, std::size_t N = 0>
using JoinableQueue = generic::JoinableQueue<detail::MessageQueue, detail::Mutex, detail::Cond, T, N>;

// boost_ipc::Value<T> / Array<T, N> — guarded by a boost_ipc::Lock (guarded.hpp).
template <class T>
using Value = generic::Value<T, Lock>;
template <class T, std::size_t N = 0>
using Array = generic::Array<T, N, Lock>;

static_assert(sizeof(Lock) == 64 && sizeof(RLock) == 64 && sizeof(Semaphore) == 64);
static_assert(sizeof(Condition) == 128 && std::is_standard_layout_v<Condition>);
static_assert(std::is_trivially_destructible_v<Condition> && std::is_trivially_destructible_v<Event>);

}  // namespace ipcsync::boost_ipc

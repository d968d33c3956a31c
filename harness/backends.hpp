// backends.hpp — the implementations a workload can be instantiated over.
//
// Each backend is a tag type naming its implementation of every role it supports; a role it
// lacks is simply absent (has_role<> is false), so asking for it is a clear error, never a
// silent substitute. with_backend() turns a runtime name into a compile-time type once, outside
// the measured loop.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "backends/posix.hpp"
#include "harness/backend_names.hpp"
#include "backends/spin.hpp"
#include "ipcsync/array.hpp"
#include "ipcsync/barrier.hpp"
#include "ipcsync/bounded_semaphore.hpp"
#include "ipcsync/condition.hpp"
#include "ipcsync/event.hpp"
#include "ipcsync/joinable_queue.hpp"
#include "ipcsync/lock.hpp"
#include "ipcsync/queue.hpp"
#include "ipcsync/rlock.hpp"
#include "ipcsync/semaphore.hpp"
#include "ipcsync/value.hpp"
#if IPCSYNC_WITH_BOOST_INTERPROCESS
#include "backends/boost.hpp"
#endif

namespace ipcsync::harness {

struct NativeBackend {
  static constexpr std::string_view name = "native";
  using Lock = ipcsync::Lock;
  using Semaphore = ipcsync::Semaphore;
  // Every role; other backends may lack some (workloads check each with `requires`).
  using RLock = ipcsync::RLock;
  using BoundedSemaphore = ipcsync::BoundedSemaphore;
  using Condition = ipcsync::Condition<ipcsync::Lock>;
  using Event = ipcsync::Event;
  using Barrier = ipcsync::Barrier;
  template <class T, std::size_t N = 0>
  using Queue = ipcsync::Queue<T, N>;
  template <class T, std::size_t N = 0>
  using JoinableQueue = ipcsync::JoinableQueue<T, N>;
  template <class T>
  using Value = ipcsync::Value<T>;
  template <class T, std::size_t N = 0>
  using Array = ipcsync::Array<T, N>;
};
// posix: pthread mutexes/conds, sem_t, POSIX mqueues (backends/posix.hpp). Every role; the
// Barrier is a mutex + cond generation barrier (pthread_barrier cannot time out, abort or reset).
struct PosixBackend {
  static constexpr std::string_view name = "posix";
  using Lock = ipcsync::posix::Lock;
  using Semaphore = ipcsync::posix::Semaphore;
  using RLock = ipcsync::posix::RLock;
  using BoundedSemaphore = ipcsync::posix::BoundedSemaphore;
  using Condition = ipcsync::posix::Condition<ipcsync::posix::Lock>;
  using Event = ipcsync::posix::Event;
  using Barrier = ipcsync::posix::Barrier;
  template <class T, std::size_t N = 0>
  using Queue = ipcsync::posix::Queue<T, N>;
  template <class T, std::size_t N = 0>
  using JoinableQueue = ipcsync::posix::JoinableQueue<T, N>;
  template <class T>
  using Value = ipcsync::posix::Value<T>;
  template <class T, std::size_t N = 0>
  using Array = ipcsync::posix::Array<T, N>;
};
// posix_plain: the Lock a reader of C code expects, a plain process-shared pthread mutex (not
// robust; posix's Lock is robust). Only the Lock role: it exists so that posix / posix_plain
// shows what robustness costs, and so bench can be checked against a bare pthread probe.
struct PosixPlainBackend {
  static constexpr std::string_view name = "posix_plain";
  using Lock = ipcsync::posix::PlainLock;
};
#if IPCSYNC_WITH_BOOST_INTERPROCESS
// boost: Boost.Interprocess (backends/boost.hpp). Every role.
struct BoostBackend {
  static constexpr std::string_view name = "boost";
  using Lock = ipcsync::boost_ipc::Lock;
  using Semaphore = ipcsync::boost_ipc::Semaphore;
  using RLock = ipcsync::boost_ipc::RLock;
  using BoundedSemaphore = ipcsync::boost_ipc::BoundedSemaphore;
  using Condition = ipcsync::boost_ipc::Condition;
  using Event = ipcsync::boost_ipc::Event;
  using Barrier = ipcsync::boost_ipc::Barrier;
  template <class T, std::size_t N = 0>
  using Queue = ipcsync::boost_ipc::Queue<T, N>;
  template <class T, std::size_t N = 0>
  using JoinableQueue = ipcsync::boost_ipc::JoinableQueue<T, N>;
  template <class T>
  using Value = ipcsync::boost_ipc::Value<T>;
  template <class T, std::size_t N = 0>
  using Array = ipcsync::boost_ipc::Array<T, N>;
};
#endif
// spin: pure spinning (backends/spin.hpp), where it teaches something: no RLock, Condition,
// Queue/JoinableQueue, Value/Array.
struct SpinBackend {
  static constexpr std::string_view name = "spin";
  using Lock = ipcsync::spin::Lock;
  using Semaphore = ipcsync::spin::Semaphore;
  using BoundedSemaphore = ipcsync::spin::BoundedSemaphore;
  using Event = ipcsync::spin::Event;
  using Barrier = ipcsync::spin::Barrier;
};

// with_backend(name, f): calls f.template operator()<B>() for the backend called `name`.
// Returns false when no such backend is compiled in.
template <class F>
bool with_backend(std::string_view name, F&& f) {
  if (name == NativeBackend::name) return f.template operator()<NativeBackend>(), true;
  if (name == PosixBackend::name) return f.template operator()<PosixBackend>(), true;
  if (name == PosixPlainBackend::name) return f.template operator()<PosixPlainBackend>(), true;
#if IPCSYNC_WITH_BOOST_INTERPROCESS
  if (name == BoostBackend::name) return f.template operator()<BoostBackend>(), true;
#endif
  if (name == SpinBackend::name) return f.template operator()<SpinBackend>(), true;
  return false;
}

}  // namespace ipcsync::harness

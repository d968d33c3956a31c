// backends.hpp — the implementations a workload can be instantiated over.
//
// Each backend is a tag type naming its implementation of every role it supports, under the
// role's member name of the role table (ipcsync/roles.hpp); a role it lacks is simply absent
// (roles::offered_by<Role, B> is false), so asking for it is a clear error, never a silent
// substitute. A new backend is its header, its tag here, and one entry in CompiledBackends.
// with_backend() turns a runtime name into a compile-time type once, outside the measured loop.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backends/posix.hpp"
#include "harness/backend_names.hpp"
#include "harness/workload.hpp"
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
#include "ipcsync/roles.hpp"
#include "ipcsync/semaphore.hpp"
#include "ipcsync/value.hpp"
#if IPCSYNC_WITH_BOOST_INTERPROCESS
#include "backends/boost.hpp"
#endif

namespace ipcsync::harness {

struct NativeBackend {
  static constexpr std::string_view name = "native";
  static constexpr bool robust = true;  // a dead holder's Lock/RLock is taken over (owner_died)
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
  static constexpr bool robust = true;  // robust pthread mutexes (EOWNERDEAD)
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

// python: Python's multiprocessing itself, run by scripts/mp_backend.py, not instantiated from a
// type. Its member for a role is the guide's class, by name; scripts_test checks that
// mp_backend.py implements exactly these roles.
template <class Role>
struct PythonClass {
  static constexpr std::string_view name = Role::python;
};
struct PythonBackend {
  static constexpr std::string_view name = "python";
  using Lock = PythonClass<roles::Lock>;
  using RLock = PythonClass<roles::RLock>;
  using Semaphore = PythonClass<roles::Semaphore>;
  using BoundedSemaphore = PythonClass<roles::BoundedSemaphore>;
  using Condition = PythonClass<roles::Condition>;
  using Event = PythonClass<roles::Event>;
  using Barrier = PythonClass<roles::Barrier>;
  template <class T, std::size_t N = 0>
  using Queue = PythonClass<roles::Queue>;
  template <class T, std::size_t N = 0>
  using JoinableQueue = PythonClass<roles::JoinableQueue>;
  template <class T>
  using Value = PythonClass<roles::Value>;
  template <class T, std::size_t N = 0>
  using Array = PythonClass<roles::Array>;
};

// The backends, in display order: those instantiated from their types, and all of them
// (python last). backend_names() and all_backend_names() are these lists' names.
using CompiledBackends = roles::List<NativeBackend, PosixBackend, PosixPlainBackend,
#if IPCSYNC_WITH_BOOST_INTERPROCESS
                                     BoostBackend,
#endif
                                     SpinBackend>;
using AllBackends = roles::List<NativeBackend, PosixBackend, PosixPlainBackend,
#if IPCSYNC_WITH_BOOST_INTERPROCESS
                                BoostBackend,
#endif
                                SpinBackend, PythonBackend>;

// robust_lock<B>: B's Lock and RLock are robust (a dead holder is taken over): Boost's and
// posix_plain's are not, spin records no owner.
template <class B>
inline constexpr bool robust_lock = requires { requires B::robust; };

// with_backend(name, f): calls f.template operator()<B>() for the compiled backend called
// `name`. Returns false when no such backend is compiled in (python is not instantiated).
template <class F>
bool with_backend(std::string_view name, F&& f) {
  return roles::with_named<CompiledBackends>(name, std::forward<F>(f));
}

// WorkloadRoles<Roles...>: the roles a workload drives, declared once. names() is its
// WorkloadDef::primitives; make(primitive, backend, f) is its factory's dispatch: for the role
// called `primitive` over the compiled backend called `backend`, when the backend offers it,
// it returns f.template operator()<Role, B>() (an Instance, or an optional one when the
// workload needs more of B than the role); nullopt for any other pair.
template <class... Rs>
struct WorkloadRoles {
  static std::vector<std::string> names() { return {std::string(Rs::name)...}; }
  template <class F>
  static std::optional<Instance> make(std::string_view primitive, std::string_view backend, F&& f) {
    std::optional<Instance> out;
    with_backend(backend, [&]<class B>() {
      roles::with_named<roles::List<Rs...>>(primitive, [&]<class R>() {
        if constexpr (roles::offered_by<R, B>) out = f.template operator()<R, B>();
      });
    });
    return out;
  }
};

}  // namespace ipcsync::harness

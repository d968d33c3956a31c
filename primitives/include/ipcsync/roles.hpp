// roles.hpp — the one table of roles: the primitives of the guide, each declared once.
//
// A role is what Python's multiprocessing calls a class (multiprocessing.Lock, .Semaphore, ...).
// Each tag below gives the role's name (bench's --primitive, the CSV `primitive` column), the
// Python class it mirrors, a one-line description, and `type<B>`: backend B's implementation
// of the role. A backend is a tag type with one member type per role it implements (ipcsync's
// own tag is harness::NativeBackend; posix, boost, spin and python have theirs in
// harness/backends.hpp); a backend offers a role exactly when `type<B>` names a type, which
// `offered_by<Role, B>` checks. Nothing else declares which backend has which role: bench
// --list, the tests' backend lists (tests/backend_roles.hpp), the torture's roles and the
// checks of the README's table and of scripts/mp_backend.py are all derived from, or held to,
// this table.
//
// Adding a role: a tag here (and in `All`), its header, a member in each backend that has it,
// and its tests. The file includes nothing heavy: it names types, it does not define them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ipcsync::roles {

// The element type a backend's container roles (Queue, JoinableQueue, Value, Array) are asked
// for when only the role's existence matters.
using Probe = std::uint64_t;

struct Lock {
  static constexpr std::string_view name = "lock", python = "multiprocessing.Lock",
                                    description = "mutual exclusion; any process may release it";
  template <class B>
  using type = typename B::Lock;
};
struct RLock {
  static constexpr std::string_view name = "rlock", python = "multiprocessing.RLock",
                                    description = "re-entrant lock: its owner may acquire it again";
  template <class B>
  using type = typename B::RLock;
};
struct Semaphore {
  static constexpr std::string_view name = "semaphore", python = "multiprocessing.Semaphore",
                                    description = "a counter of permits: acquire takes one, release adds one";
  template <class B>
  using type = typename B::Semaphore;
};
struct BoundedSemaphore {
  static constexpr std::string_view name = "bounded_semaphore", python = "multiprocessing.BoundedSemaphore",
                                    description = "a semaphore whose release above the initial value raises";
  template <class B>
  using type = typename B::BoundedSemaphore;
};
struct Condition {
  static constexpr std::string_view name = "condition", python = "multiprocessing.Condition",
                                    description = "wait until notified, releasing the lock meanwhile";
  template <class B>
  using type = typename B::Condition;
};
struct Event {
  static constexpr std::string_view name = "event", python = "multiprocessing.Event",
                                    description = "a flag that waiters block on until it is set";
  template <class B>
  using type = typename B::Event;
};
struct Barrier {
  static constexpr std::string_view name = "barrier", python = "multiprocessing.Barrier",
                                    description = "N parties wait until all have arrived; abort and reset";
  template <class B>
  using type = typename B::Barrier;
};
struct Queue {
  static constexpr std::string_view name = "queue", python = "multiprocessing.Queue",
                                    description = "a bounded FIFO of items between processes";
  template <class B, class T = Probe, std::size_t N = 0>
  using type = typename B::template Queue<T, N>;
};
struct JoinableQueue {
  static constexpr std::string_view name = "joinable_queue", python = "multiprocessing.JoinableQueue",
                                    description = "a Queue whose join() waits until every item is task_done()";
  template <class B, class T = Probe, std::size_t N = 0>
  using type = typename B::template JoinableQueue<T, N>;
};
struct Value {
  static constexpr std::string_view name = "value", python = "multiprocessing.Value",
                                    description = "one shared scalar with its own lock (get_lock())";
  template <class B, class T = Probe>
  using type = typename B::template Value<T>;
};
struct Array {
  static constexpr std::string_view name = "array", python = "multiprocessing.Array",
                                    description = "a shared array of scalars with one lock";
  template <class B, class T = Probe, std::size_t N = 0>
  using type = typename B::template Array<T, N>;
};

// A list of role (or backend) tags.
template <class... T>
struct List {
  static constexpr std::size_t size = sizeof...(T);
};

// Every role, in the order bench lists them.
using All = List<Lock, RLock, Semaphore, BoundedSemaphore, Condition, Event, Barrier, Queue, JoinableQueue, Value,
                 Array>;

// offered_by<Role, B>: backend B implements Role.
template <class R, class B>
concept offered_by = requires { typename R::template type<B>; };

// type_of<Role, B>: B's type for Role (container roles: of their default element, Probe).
template <class R, class B>
using type_of = typename R::template type<B>;

// for_each<L>(f): f.template operator()<T>() for each tag of the list L (default: every role), in order.
template <class L = All, class F>
constexpr void for_each(F&& f) {
  [&]<class... T>(List<T...>) { (f.template operator()<T>(), ...); }(L{});
}

// with_named<L>(name, f): f.template operator()<T>() for the tag of L whose T::name is `name`;
// false when L has none. with_role(name, f) looks among the roles.
template <class L, class F>
constexpr bool with_named(std::string_view name, F&& f) {
  bool found = false;
  for_each<L>([&]<class T>() {
    if (!found && T::name == name) {
      found = true;
      f.template operator()<T>();
    }
  });
  return found;
}
template <class F>
constexpr bool with_role(std::string_view name, F&& f) {
  return with_named<All>(name, static_cast<F&&>(f));
}

// is_role(name): `name` is a role of the table.
constexpr bool is_role(std::string_view name) {
  return with_role(name, []<class>() {});
}

}  // namespace ipcsync::roles

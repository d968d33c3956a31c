// conformance_event_test.cc — multiprocessing.Event's documented semantics, method by method, on
// every backend that offers an Event (native, posix, boost, spin).
//
// Python (multiprocessing docs "a clone of threading.Event", synchronize.py's Event; threading
// docs; lock_tests.py's EventTests; _test_multiprocessing.py's _TestEvent):
//   is_set(): the flag. set(): sets it and wakes every waiting process. clear(): resets it.
//   wait(timeout=None) -> bool: returns at once if the flag is set; else blocks until set() or
//     the timeout. It returns True if and only if the flag was set before the call or was set
//     while it waited (threading's wording; so a set() immediately undone by clear() still
//     releases a waiter with True) — False only at the timeout. A negative timeout is a poll
//     (multiprocessing waits through a Condition on a SemLock, which clamps it to 0).
#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "backend_roles.hpp"

using namespace ipcsync;
using namespace ipcsync::test;
using namespace std::chrono_literals;

ROLE_TEST_CASE("Conformance Event: set / clear and is_set / wait returns at once when set / false at its timeout",
                   "[conformance][event]", Event) {
  using E = typename TestType::Event;
  Shared<E> e;
  CHECK_FALSE(e->is_set());  // initially false
  auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(e->wait(0.1));
  CHECK(took_at_least(t0, 0.1));
  t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(e->wait_for(50ms));
  CHECK(took_at_least(t0, 0.05));
  CHECK_FALSE(e->wait(0.0));
  e->set();
  CHECK(e->is_set());
  CHECK(e->wait(0.0));
  CHECK(e->wait(10.0));
  CHECK(e->wait_for(10s));
  CHECK(e->wait());
  e->set();  // setting a set Event changes nothing
  CHECK(e->is_set());
  e->clear();
  CHECK_FALSE(e->is_set());
  CHECK_FALSE(e->wait(0.01));
  e->clear();
  CHECK_FALSE(e->is_set());
}

ROLE_TEST_CASE("Conformance Event: set in one process releases every process waiting / and they see the flag",
                   "[conformance][event][process]", Event) {
  using E = typename TestType::Event;
  struct S {
    E e;
    std::atomic<int> released{0};
  };
  Shared<S> s;
  std::vector<pid_t> kids;
  for (int i = 0; i < 4; ++i)
    kids.push_back(spawn_child([&] {
      if (!s->e.wait(20.0)) return 1;
      if (!s->e.is_set()) return 2;
      s->released.fetch_add(1);
      return 0;
    }));
  std::this_thread::sleep_for(200ms);
  CHECK(s->released.load() == 0);
  s->e.set();
  for (pid_t k : kids) CHECK(join_within(k, 10) == 0);
  CHECK(s->released.load() == 4);
}

ROLE_TEST_CASE("Conformance Event: a set immediately undone by clear still releases a waiter with true",
                   "[conformance][event][process]", Event) {
  using E = typename TestType::Event;
  struct S {
    E e;
    std::atomic<int> waiting{0};
  };
  Shared<S> s;
  const pid_t child = spawn_child([&] {
    s->waiting.store(1);
    return s->e.wait(20.0) ? 0 : 1;
  });
  REQUIRE(eventually([&] { return s->waiting.load() == 1; }));
  std::this_thread::sleep_for(200ms);  // let it block
  s->e.set();
  s->e.clear();
  CHECK(join_within(child, 10) == 0);
  CHECK_FALSE(s->e.is_set());
}

ROLE_TEST_CASE("Conformance Event: a negative timeout is a poll", "[conformance][event][timeout]", Event) {
  using E = typename TestType::Event;
  Shared<E> e;
  Children kids1;  // all at once: one 5 s bound (0: false at once; -1: blocked)
  for_each_negative_timeout([&](const char* name, auto t) {
    kids1.add(std::string("timeout ") + name, [&] {
            if constexpr (std::is_arithmetic_v<decltype(t)>)
              return e->wait(t) ? 1 : 0;
            else
              return e->wait_for(t) ? 1 : 0;
          });
  });
  kids1.expect_all(0);
  e->set();
  CHECK(in_child([&] { return e->wait(-1.0) && e->wait_for(-1s) ? 0 : 1; }) == 0);
}

ROLE_TEST_CASE("Conformance Event: a NaN timeout throws std::invalid_argument", "[conformance][event][timeout]",
                   Event) {
  using E = typename TestType::Event;
  Shared<E> e;
  CHECK(in_child([&] {
          try {
            e->wait(opaque(std::numeric_limits<double>::quiet_NaN()));
            return 1;
          } catch (const std::invalid_argument&) {
            return 0;
          }
        }) == 0);
  CHECK(in_child([&] {
          try {
            e->wait_for(std::chrono::duration<double>(std::nan("")));
            return 1;
          } catch (const std::invalid_argument&) {
            return 0;
          }
        }) == 0);
}

ROLE_TEST_CASE("Conformance Event: a huge timeout waits forever / until another process sets",
                   "[conformance][event][timeout][process]", Event) {
  using E = typename TestType::Event;
  Shared<E> e;
  check_waits_forever(
      [&](int, auto t) {
        if constexpr (std::is_arithmetic_v<decltype(t)>)
          return e->wait(t);
        else
          return e->wait_for(t);
      },
      [&](int) { e->set(); });
}

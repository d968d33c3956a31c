// event_backends_test.cc — Event semantics on every backend (native, posix, boost, spin):
// Python's set/clear/is_set/wait, timeouts, a set in another process, a set undone by clear
// that still releases the processes that were waiting, and set/clear handoffs that never
// strand a waiter.
#include <catch2/catch.hpp>

#include <atomic>

#include "backend_roles.hpp"

using namespace ipcsync;
using namespace ipcsync::test;
using namespace std::chrono_literals;

ROLE_TEST_CASE("Event backends: set and clear and is_set and wait behave as Python's", "[event][backends]",
                   Event) {
  using E = typename TestType::Event;
  Shared<E> e;
  CHECK_FALSE(e->is_set());
  CHECK_FALSE(e->wait(0.0));
  e->set();
  CHECK(e->is_set());
  CHECK(e->wait());  // at once when set
  CHECK(e->wait(0.0));
  e->set();  // twice is harmless
  CHECK(e->is_set());
  e->clear();
  CHECK_FALSE(e->is_set());
  e->clear();
  CHECK_FALSE(e->wait_for(1ms));
}

ROLE_TEST_CASE("Event backends: a timed wait times out on time", "[event][backends][timeout]", Event) {
  using E = typename TestType::Event;
  Shared<E> e;
  for (auto timeout : {10ms, 50ms}) {
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_FALSE(e->wait_for(timeout));
    const double took = elapsed_s(t0), want = std::chrono::duration<double>(timeout).count();
    CHECK(took >= want);
    CHECK(took < want + kLate);
  }
}

ROLE_TEST_CASE("Event backends: a set in another process wakes a waiter", "[event][backends][process]",
                   Event) {
  using E = typename TestType::Event;
  Shared<E> e;
  const pid_t child = spawn_child([&] { return e->wait_for(10s) ? 0 : 1; });
  REQUIRE(eventually([&] { return e->waiters() == 1; }));
  e->set();
  CHECK(join(child) == 0);
}

ROLE_TEST_CASE("Event backends: a set undone by clear still releases the processes that were waiting",
                   "[event][backends][process]", Event) {
  using E = typename TestType::Event;
  Shared<E> e;
  std::vector<pid_t> kids;
  for (int i = 0; i < 3; ++i) kids.push_back(spawn_child([&] { return e->wait_for(10s) ? 0 : 1; }));
  REQUIRE(eventually([&] { return e->waiters() == 3; }));
  e->set();
  e->clear();
  for (pid_t k : kids) CHECK(join(k) == 0);
  CHECK_FALSE(e->is_set());
  CHECK_FALSE(e->wait_for(1ms));  // a new wait is not released by that old set
}

ROLE_TEST_CASE("Event backends: set and clear handoffs never strand a waiter", "[event][backends][process]",
                   Event) {
  using E = typename TestType::Event;
  struct S {
    E ping, pong;
  };
  Shared<S> s;
  constexpr int kRounds = 300;
  const pid_t child = spawn_child([&] {
    for (int i = 0; i < kRounds; ++i) {
      if (!s->ping.wait_for(5s)) return 1;
      s->ping.clear();
      s->pong.set();
    }
    return 0;
  });
  for (int i = 0; i < kRounds; ++i) {
    s->ping.set();
    REQUIRE(s->pong.wait_for(5s));
    s->pong.clear();
  }
  CHECK(join(child) == 0);
}

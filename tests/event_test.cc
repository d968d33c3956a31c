// event_test.cc — Event: Python's set/clear/is_set/wait semantics, timeouts, a set() that is
// cleared before the waiter runs, and wake-ups across processes.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "ipcsync/event.hpp"
#include "support.hpp"

using namespace ipcsync;
using namespace ipcsync::test;
using namespace std::chrono_literals;

TEST_CASE("Event: zero-filled memory is an unset Event of one cache line", "[event]") {
  static_assert(sizeof(Event) == 64 && alignof(Event) == 64);
  alignas(64) unsigned char raw[64] = {};
  auto* e = reinterpret_cast<Event*>(raw);
  CHECK_FALSE(e->is_set());
  CHECK_FALSE(e->wait_for(0ms));
  e->set();
  CHECK(e->is_set());
}

TEST_CASE("Event: set and clear and is_set and wait behave as Python's", "[event]") {
  Event e;
  CHECK_FALSE(e.is_set());
  CHECK_FALSE(e.wait(0.0));
  e.set();
  CHECK(e.is_set());
  CHECK(e.wait());        // returns at once when set
  CHECK(e.wait(0.0));
  e.set();                // setting twice is harmless
  CHECK(e.is_set());
  e.clear();
  CHECK_FALSE(e.is_set());
  e.clear();              // clearing twice too
  CHECK_FALSE(e.wait_for(1ms));
}

TEST_CASE("Event: a timed wait times out on time", "[event][timeout]") {
  Shared<Event> e;
  for (auto timeout : {10ms, 100ms}) {
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_FALSE(e->wait_for(timeout));
    const double took = elapsed_s(t0), want = std::chrono::duration<double>(timeout).count();
    CHECK(took >= want);
    CHECK(took < want + 0.25);
  }
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(e->wait(0.03));
  CHECK(elapsed_s(t0) >= 0.03);
}

TEST_CASE("Event: a set in another process wakes a parked waiter", "[event][process]") {
  Shared<Event> e;
  const pid_t child = spawn([&] { return e->wait_for(10s) ? 0 : 1; });
  const auto t0 = std::chrono::steady_clock::now();
  while (e->waiters() < 1 && elapsed_s(t0) < 5) std::this_thread::sleep_for(1ms);
  CHECK(e->waiters() == 1);
  e->set();
  CHECK(join(child) == 0);
  CHECK(e->waiters() == 0);
}

TEST_CASE("Event: a set undone by clear still releases the processes that were waiting", "[event][process]") {
  // Python: wait() returns True if the flag was set while it waited, even if it was cleared
  // again before the waiter ran.
  Shared<Event> e;
  std::vector<pid_t> kids;
  for (int i = 0; i < 3; ++i) kids.push_back(spawn([&] { return e->wait_for(10s) ? 0 : 1; }));
  const auto t0 = std::chrono::steady_clock::now();
  while (e->waiters() < 3 && elapsed_s(t0) < 5) std::this_thread::sleep_for(1ms);
  e->set();
  e->clear();
  for (pid_t k : kids) CHECK(join(k) == 0);
  CHECK_FALSE(e->is_set());
  CHECK_FALSE(e->wait_for(1ms));  // a new wait is not released by that old set
}

TEST_CASE("Event: set and clear in a loop never strand a waiter", "[event][process]") {
  // A pinger and a ponger hand a token back and forth with two Events 2000 times; a lost
  // wake-up would hang the child past its timeout.
  struct S {
    Event ping, pong;
  };
  Shared<S> s;
  const pid_t child = spawn([&] {
    for (int i = 0; i < 2000; ++i) {
      if (!s->ping.wait_for(5s)) return 1;
      s->ping.clear();
      s->pong.set();
    }
    return 0;
  });
  for (int i = 0; i < 2000; ++i) {
    s->ping.set();
    REQUIRE(s->pong.wait_for(5s));
    s->pong.clear();
  }
  CHECK(join(child) == 0);
}

// condition_test.cc — Condition<Lock> and Condition<RLock>: not_owner, timeouts that return
// holding the lock, notify/notify_all across processes, RLock depth saved and restored,
// Python's wait_for(predicate, timeout), external and embedded locks.
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <thread>

#include "ipcsync/condition.hpp"
#include "support.hpp"

using namespace ipcsync;
using namespace ipcsync::test;
using namespace std::chrono_literals;

TEMPLATE_TEST_CASE("Condition: wait and notify without holding the lock throw not_owner", "[condition][errors]",
                   Lock, RLock) {
  Shared<Condition<TestType>> c;
  CHECK_THROWS_AS(c->wait(), not_owner);
  CHECK_THROWS_AS(c->wait_for(1ms), not_owner);
  CHECK_THROWS_AS(c->notify(), not_owner);
  CHECK_THROWS_AS(c->notify_all(), not_owner);
  // Held by another process: still not ours.
  Shared<std::atomic<int>> stage(0);
  const pid_t child = spawn([&] {
    c->acquire();
    stage->store(1);
    while (stage->load() != 2) std::this_thread::sleep_for(1ms);
    c->release();
    return 0;
  });
  while (stage->load() != 1) std::this_thread::sleep_for(1ms);
  CHECK_THROWS_AS(c->notify(), not_owner);
  CHECK_THROWS_AS(c->wait_for(1ms), not_owner);
  stage->store(2);
  CHECK(join(child) == 0);
}

TEMPLATE_TEST_CASE("Condition: a timed wait times out on time and returns holding the lock", "[condition][timeout]",
                   Lock, RLock) {
  Shared<Condition<TestType>> c;
  std::scoped_lock g(*c);
  for (auto timeout : {10ms, 100ms}) {
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_FALSE(c->wait_for(timeout));
    const double took = elapsed_s(t0), want = std::chrono::duration<double>(timeout).count();
    CHECK(took >= want);
    CHECK(took < want + 0.25);
    CHECK(c->get_lock().owner() == static_cast<uint32_t>(gettid()));
  }
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(c->wait(0.02));  // Python's signature
  CHECK(elapsed_s(t0) >= 0.02);
  CHECK(c->waiters() == 0);
}

TEMPLATE_TEST_CASE("Condition: notify wakes a waiter in another process which returns holding the lock",
                   "[condition][process]", Lock, RLock) {
  struct S {
    Condition<TestType> c;
    int ready = 0;  // under the lock
  };
  Shared<S> s;
  const pid_t child = spawn([&] {
    std::scoped_lock g(s->c);
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (!s->ready)
      if (!s->c.wait_until(until)) return 1;
    return s->c.get_lock().owner() == static_cast<uint32_t>(gettid()) ? 0 : 2;
  });
  const auto t0 = std::chrono::steady_clock::now();
  while (s->c.waiters() < 1 && elapsed_s(t0) < 5) std::this_thread::sleep_for(1ms);
  {
    std::scoped_lock g(s->c);
    s->ready = 1;
    s->c.notify();
  }
  CHECK(join(child) == 0);
}

TEST_CASE("Condition: notify(1) lets one of three waiters through and notify_all the rest", "[condition][process]") {
  // Waiters consume tokens under the lock (the predicate loop), so however many wake, exactly
  // as many proceed as there are tokens.
  struct S {
    Condition<Lock> c;
    int tokens = 0;
    std::atomic<int> through{0};
  };
  Shared<S> s;
  std::vector<pid_t> kids;
  for (int i = 0; i < 3; ++i)
    kids.push_back(spawn([&] {
      std::scoped_lock g(s->c);
      if (!s->c.wait_for(10s, [&] { return s->tokens > 0; })) return 1;
      --s->tokens;
      s->through.fetch_add(1);
      return 0;
    }));
  const auto t0 = std::chrono::steady_clock::now();
  while (s->c.waiters() < 3 && elapsed_s(t0) < 5) std::this_thread::sleep_for(1ms);
  REQUIRE(s->c.waiters() == 3);
  {
    std::scoped_lock g(s->c);
    s->tokens = 1;
    s->c.notify(1);
  }
  const auto t1 = std::chrono::steady_clock::now();
  while (s->through.load() < 1 && elapsed_s(t1) < 5) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(50ms);
  CHECK(s->through.load() == 1);
  {
    std::scoped_lock g(s->c);
    s->tokens = 2;
    s->c.notify_all();
  }
  for (pid_t k : kids) CHECK(join(k) == 0);
  CHECK(s->through.load() == 3);
  CHECK(s->c.waiters() == 0);
}

TEST_CASE("Condition: a wait on an RLock held at depth 3 releases it fully and restores the depth",
          "[condition][rlock][process]") {
  struct S {
    Condition<RLock> c;
    int flag = 0;
  };
  Shared<S> s;
  const pid_t child = spawn([&] {
    while (s->c.waiters() < 1) std::this_thread::sleep_for(1ms);
    if (!s->c.get_lock().acquire_for(5s)) return 1;  // only possible if every level was released
    s->flag = 1;
    s->c.notify();
    s->c.release();
    return 0;
  });
  s->c.acquire();
  s->c.acquire();
  s->c.acquire();
  REQUIRE(s->c.wait_for(10s, [&] { return s->flag == 1; }));
  CHECK(s->c.get_lock().depth() == 3);
  CHECK(s->c.get_lock().is_owned());
  for (int i = 0; i < 3; ++i) s->c.release();
  CHECK_FALSE(s->c.get_lock().locked());
  CHECK(join(child) == 0);
}

TEST_CASE("Condition: wait with a predicate follows Python's wait_for", "[condition]") {
  Condition<> c;  // an RLock of its own, like Python's Condition()
  std::scoped_lock g(c);
  int calls = 0;
  CHECK(c.wait([&] { return ++calls > 0; }));  // true at once: no wait
  CHECK(calls == 1);
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(c.wait_for(30ms, [] { return false; }));  // the predicate's last value
  CHECK(elapsed_s(t0) >= 0.03);
  CHECK(c.wait_for(30ms, [] { return true; }));
}

TEST_CASE("Condition: zero-filled memory is a Condition with its own unlocked lock", "[condition]") {
  static_assert(sizeof(Condition<Lock>) == 128 && sizeof(Condition<RLock>) == 128);
  alignas(64) unsigned char raw[128] = {};
  auto* c = reinterpret_cast<Condition<Lock>*>(raw);
  CHECK_FALSE(c->get_lock().locked());
  c->acquire();
  c->notify_all();  // no waiters: a no-op
  CHECK_FALSE(c->wait_for(1ms));
  c->release();
}

TEST_CASE("Condition: two Conditions share one external Lock in the same mapping", "[condition][process]") {
  struct S {
    Lock lock;
    Condition<Lock> not_empty{lock}, not_full{lock};
    int items = 0;
  };
  Shared<S> s;
  CHECK(&s->not_empty.get_lock() == &s->lock);
  CHECK(&s->not_full.get_lock() == &s->lock);
  // A one-slot buffer: 500 items through it with the two Conditions.
  const pid_t consumer = spawn([&] {
    for (int i = 0; i < 500; ++i) {
      std::scoped_lock g(s->lock);
      if (!s->not_empty.wait_for(5s, [&] { return s->items == 1; })) return 1;
      s->items = 0;
      s->not_full.notify();
    }
    return 0;
  });
  for (int i = 0; i < 500; ++i) {
    std::scoped_lock g(s->lock);
    REQUIRE(s->not_full.wait_for(5s, [&] { return s->items == 0; }));
    s->items = 1;
    s->not_empty.notify();
  }
  CHECK(join(consumer) == 0);
}

// condition_test.cc — native Condition<Lock> and Condition<RLock>: not_owner, timeouts and
// notify with both lock types, and the zero-filled embedded lock. notify(n)/notify_all, RLock
// depth restore, wait_for(predicate) and shared external locks are tested once for every
// backend, native included, in condition_backends_test.cc.
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


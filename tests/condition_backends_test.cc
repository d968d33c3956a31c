// condition_backends_test.cc — Condition semantics on every backend that offers it (native,
// posix, boost), each with its backend's Lock: not_owner, timed waits that return holding the
// lock, notify/notify_all across processes, Python's wait_for(predicate), Conditions sharing
// an external lock; and a Condition on an RLock held at depth 3 where the backend allows it.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <mutex>

#include "backend_roles.hpp"

using namespace ipcsync;
using namespace ipcsync::test;
using namespace std::chrono_literals;

namespace {
template <class L>
bool held_by_me(L& l) {
  return l.owner() == static_cast<uint32_t>(gettid());
}
}  // namespace

ROLE_TEST_CASE("Condition backends: wait and notify without holding the lock throw not_owner",
                   "[condition][backends][errors]", Condition) {
  using C = typename TestType::Condition;
  Shared<C> c;  // its own lock, like Python's Condition()
  CHECK_THROWS_AS(c->wait(), not_owner);
  CHECK_THROWS_AS(c->wait_for(1ms), not_owner);
  CHECK_THROWS_AS(c->notify(), not_owner);
  CHECK_THROWS_AS(c->notify_all(), not_owner);
  Shared<std::atomic<int>> stage(0);
  const pid_t child = spawn_child([&] {
    c->acquire();
    stage->store(1);
    while (stage->load() != 2) std::this_thread::sleep_for(1ms);
    c->release();
    return 0;
  });
  REQUIRE(eventually([&] { return stage->load() == 1; }));
  CHECK_THROWS_AS(c->notify(), not_owner);  // held, but by another process
  CHECK_THROWS_AS(c->wait_for(1ms), not_owner);
  stage->store(2);
  CHECK(join(child) == 0);
}

ROLE_TEST_CASE("Condition backends: a timed wait times out on time and returns holding the lock",
                   "[condition][backends][timeout]", Condition) {
  using C = typename TestType::Condition;
  Shared<C> c;
  std::scoped_lock g(*c);
  for (auto timeout : {10ms, 50ms}) {
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_FALSE(c->wait_for(timeout));
    const double took = elapsed_s(t0), want = std::chrono::duration<double>(timeout).count();
    CHECK(took >= want);
    CHECK(took < want + kLate);
    CHECK(held_by_me(c->get_lock()));
  }
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(c->wait(0.02));  // Python's signature
  CHECK(elapsed_s(t0) >= 0.02);
  CHECK(c->waiters() == 0);
}

ROLE_TEST_CASE("Condition backends: notify wakes a waiter in another process which returns holding the lock",
                   "[condition][backends][process]", Condition) {
  using L = typename TestType::Lock;
  using C = typename TestType::Condition;
  struct S {
    L lock;
    C c{lock};
    int ready = 0;  // under the lock
  };
  Shared<S> s;
  const pid_t child = spawn_child([&] {
    std::scoped_lock g(s->lock);
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (!s->ready)
      if (!s->c.wait_until(until)) return 1;
    return held_by_me(s->lock) ? 0 : 2;
  });
  REQUIRE(eventually([&] { return s->c.waiters() == 1; }));
  {
    std::scoped_lock g(s->lock);
    s->ready = 1;
    s->c.notify();
  }
  CHECK(join(child) == 0);
  CHECK_FALSE(s->lock.locked());
}

ROLE_TEST_CASE("Condition backends: notify(1) lets one of three waiters through and notify_all the rest",
                   "[condition][backends][process]", Condition) {
  // Waiters consume tokens under the lock (the predicate loop), so however many wake, exactly
  // as many proceed as there are tokens.
  using L = typename TestType::Lock;
  using C = typename TestType::Condition;
  struct S {
    L lock;
    C c{lock};
    int tokens = 0;
    std::atomic<int> through{0};
  };
  Shared<S> s;
  std::vector<pid_t> kids;
  for (int i = 0; i < 3; ++i)
    kids.push_back(spawn_child([&] {
      std::scoped_lock g(s->lock);
      if (!s->c.wait_for(10s, [&] { return s->tokens > 0; })) return 1;
      --s->tokens;
      s->through.fetch_add(1);
      return 0;
    }));
  REQUIRE(eventually([&] { return s->c.waiters() == 3; }));
  {
    std::scoped_lock g(s->lock);
    s->tokens = 1;
    s->c.notify(1);
  }
  REQUIRE(eventually([&] { return s->through.load() >= 1; }));
  std::this_thread::sleep_for(30ms);
  CHECK(s->through.load() == 1);
  {
    std::scoped_lock g(s->lock);
    s->tokens = 2;
    s->c.notify_all();
  }
  for (pid_t k : kids) CHECK(join(k) == 0);
  CHECK(s->through.load() == 3);
  CHECK(s->c.waiters() == 0);
}

ROLE_TEST_CASE("Condition backends: wait with a predicate follows Python's wait_for", "[condition][backends]",
                   Condition) {
  using C = typename TestType::Condition;
  Shared<C> c;
  std::scoped_lock g(*c);
  int calls = 0;
  CHECK(c->wait([&] { return ++calls > 0; }));  // true at once: no wait
  CHECK(calls == 1);
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(c->wait_for(30ms, [] { return false; }));  // the predicate's last value
  CHECK(elapsed_s(t0) >= 0.03);
  CHECK(c->wait_for(30ms, [] { return true; }));
}

ROLE_TEST_CASE("Condition backends: two Conditions share one external Lock in the same mapping",
                   "[condition][backends][process]", Condition) {
  using L = typename TestType::Lock;
  using C = typename TestType::Condition;
  struct S {
    L lock;
    C not_empty{lock}, not_full{lock};
    int items = 0;
  };
  Shared<S> s;
  CHECK(&s->not_empty.get_lock() == &s->lock);
  CHECK(&s->not_full.get_lock() == &s->lock);
  constexpr int kItems = 300;  // through a one-slot buffer
  const pid_t consumer = spawn_child([&] {
    for (int i = 0; i < kItems; ++i) {
      std::scoped_lock g(s->lock);
      if (!s->not_empty.wait_for(5s, [&] { return s->items == 1; })) return 1;
      s->items = 0;
      s->not_full.notify();
    }
    return 0;
  });
  for (int i = 0; i < kItems; ++i) {
    std::scoped_lock g(s->lock);
    REQUIRE(s->not_full.wait_for(5s, [&] { return s->items == 0; }));
    s->items = 1;
    s->not_empty.notify();
  }
  CHECK(join(consumer) == 0);
}

// Condition on an RLock: the native Condition<RLock> and posix::Condition<posix::RLock> (Boost's
// interprocess_condition cannot wait on a recursive mutex).
TEMPLATE_TEST_CASE("Condition on an RLock: a wait at depth 3 releases every level and restores the depth",
                   "[condition][rlock][backends][process]", ipcsync::Condition<ipcsync::RLock>,
                   ipcsync::posix::Condition<ipcsync::posix::RLock>) {
  struct S {
    TestType c;
    int flag = 0;
  };
  Shared<S> s;
  const pid_t child = spawn_child([&] {
    if (!eventually([&] { return s->c.waiters() == 1; })) return 2;
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

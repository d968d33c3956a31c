// rlock_backends_test.cc — RLock semantics on every backend that offers it (native, posix,
// boost): reentrancy and depth, not_owner, timeouts, exclusion across processes; robust
// take-over where the backend is robust.
#include <catch2/catch.hpp>

#include <signal.h>

#include <atomic>
#include <mutex>

#include "backend_roles.hpp"

using namespace ipcsync;
using namespace ipcsync::test;
using namespace std::chrono_literals;

ROLE_TEST_CASE("RLock backends: nested acquires count depth and only the last release unlocks", "[rlock][backends]",
                   RLock) {
  using R = typename TestType::RLock;
  Shared<R> r;
  CHECK_FALSE(r->locked());
  CHECK_THROWS_AS(r->release(), not_owner);
  REQUIRE(r->acquire());
  REQUIRE(r->try_acquire());
  REQUIRE(r->acquire_for(0ms));
  CHECK(r->depth() == 3);
  CHECK(r->is_owned());
  r->release();
  r->release();
  CHECK(r->locked());
  CHECK(r->depth() == 1);
  r->release();
  CHECK_FALSE(r->locked());
  CHECK(r->depth() == 0);
  CHECK_FALSE(r->is_owned());
  CHECK_THROWS_AS(r->release(), not_owner);
  {  // Lockable: scoped locks nest
    std::scoped_lock a(*r);
    std::scoped_lock b(*r);
    CHECK(r->depth() == 2);
  }
  CHECK_FALSE(r->locked());
}

ROLE_TEST_CASE("RLock backends: another process can neither take nor release a held RLock", "[rlock][backends][process]",
                   RLock) {
  using R = typename TestType::RLock;
  Shared<R> r;
  REQUIRE(r->acquire());
  REQUIRE(r->acquire());
  const pid_t child = spawn_child([&] {
    if (r->try_acquire()) return 1;
    if (r->acquire_for(20ms)) return 2;
    try {
      r->release();
      return 3;
    } catch (const not_owner&) {
    }
    if (!r->acquire_for(5s)) return 4;  // once the parent released both levels
    const bool alone = r->depth() == 1;
    r->release();
    return alone ? 0 : 5;
  });
  std::this_thread::sleep_for(50ms);
  r->release();
  CHECK(r->locked());  // one level left: still held
  std::this_thread::sleep_for(20ms);
  r->release();
  CHECK(join(child) == 0);
  CHECK_FALSE(r->locked());
}

ROLE_TEST_CASE("RLock backends: a timed acquire on an RLock held elsewhere times out on time",
                   "[rlock][backends][timeout][process]", RLock) {
  using R = typename TestType::RLock;
  Shared<R> r;
  Shared<std::atomic<int>> stage(0);
  const pid_t child = spawn_child([&] {
    r->acquire();
    stage->store(1);
    while (stage->load() != 2) std::this_thread::sleep_for(1ms);
    r->release();
    return 0;
  });
  REQUIRE(eventually([&] { return stage->load() == 1; }));
  for (auto timeout : {10ms, 50ms}) {
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_FALSE(r->acquire_for(timeout));
    const double took = elapsed_s(t0), want = std::chrono::duration<double>(timeout).count();
    CHECK(took >= want);
    CHECK(took < want + kLate);
  }
  stage->store(2);
  CHECK(join(child) == 0);
}

ROLE_TEST_CASE("RLock backends: nested holders in several processes exclude each other", "[rlock][backends][process]",
                   RLock) {
  using R = typename TestType::RLock;
  struct S {
    R r;
    uint64_t counter = 0;  // plain: only the RLock keeps it exact
  };
  Shared<S> s;
  constexpr int kProcs = 3, kOps = 3000;
  std::vector<pid_t> kids;
  for (int p = 0; p < kProcs; ++p)
    kids.push_back(spawn_child([&] {
      for (int i = 0; i < kOps; ++i) {
        std::scoped_lock outer(s->r);
        std::scoped_lock inner(s->r);
        const uint64_t v = s->counter;
        if (s->r.depth() != 2) return 1;
        s->counter = v + 1;
      }
      return 0;
    }));
  for (pid_t k : kids) CHECK(join(k) == 0);
  CHECK(s->counter == uint64_t{kProcs} * kOps);
  CHECK_FALSE(s->r.locked());
}

BACKEND_TEST_CASE("RLock backends: a robust RLock held by a killed process is taken over and the new owner is told",
                   "[rlock][backends][process][robust]", ::ipcsync::test::RobustLockBackends) {
  using R = typename TestType::RLock;
  Shared<R> r;
  const pid_t holder = spawn_child([&]() -> int {
    r->acquire();
    r->acquire();  // dies at depth 2
    for (;;) pause();
  });
  REQUIRE(eventually([&] { return r->locked(); }));
  kill(holder, SIGKILL);
  CHECK(join(holder) == 128 + SIGKILL);
  REQUIRE(r->acquire_for(3s));
  CHECK(r->owner_died());
  CHECK(r->depth() == 1);
  CHECK(r->recoveries() == 1);
  r->release();
  CHECK_FALSE(r->locked());
  REQUIRE(r->try_acquire());
  CHECK_FALSE(r->owner_died());
  r->release();
}

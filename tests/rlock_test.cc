// rlock_test.cc — RLock: reentrancy and depth, not_owner, timeouts, Lockable, the Condition
// hooks, handover across processes, and robustness (a SIGKILLed owner is recovered).
#include <catch2/catch.hpp>

#include <signal.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "ipcsync/rlock.hpp"
#include "support.hpp"

using namespace ipcsync;
using namespace ipcsync::test;
using namespace std::chrono_literals;

namespace {
constexpr double kLateTolerance = 0.25;  // timeouts: never early, late by less than this
}

TEST_CASE("RLock: zero-filled memory is an unlocked RLock of one cache line", "[rlock]") {
  static_assert(sizeof(RLock) == 64 && alignof(RLock) == 64);
  alignas(64) unsigned char raw[64] = {};
  auto* r = reinterpret_cast<RLock*>(raw);
  CHECK_FALSE(r->locked());
  CHECK(r->depth() == 0);
  REQUIRE(r->try_acquire());
  CHECK(r->owner() == static_cast<uint32_t>(gettid()));
  r->release();
  CHECK_FALSE(r->locked());
}

TEST_CASE("RLock: the owner re-enters and the lock is free only at depth 0", "[rlock]") {
  RLock r;
  REQUIRE(r.acquire());
  REQUIRE(r.acquire());
  REQUIRE(r.try_acquire());
  REQUIRE(r.acquire_for(0ms));  // re-entry never waits, even with a zero timeout
  CHECK(r.depth() == 4);
  CHECK(r.is_owned());
  for (int d = 3; d >= 1; --d) {
    r.release();
    CHECK(r.depth() == static_cast<uint32_t>(d));
    CHECK(r.locked());
  }
  r.release();
  CHECK_FALSE(r.locked());
  CHECK(r.depth() == 0);
  CHECK(r.owner() == 0);
  CHECK_FALSE(r.is_owned());
}

TEST_CASE("RLock: releasing without owning throws not_owner", "[rlock][errors]") {
  Shared<RLock> r;
  REQUIRE_THROWS_AS(r->release(), not_owner);  // unlocked
  REQUIRE_THROWS_AS(r->release_save(), not_owner);
  REQUIRE(r->acquire());
  // Another process (and so another thread) may not release it.
  const pid_t child = spawn([&] {
    try {
      r->release();
    } catch (const not_owner&) {
      return r->locked() && r->depth() == 1 ? 0 : 2;
    }
    return 1;
  });
  CHECK(join(child) == 0);
  // Nor another thread of this process.
  std::thread t([&] { CHECK_THROWS_AS(r->release(), not_owner); });
  t.join();
  r->release();
  CHECK_THROWS_AS(r->release(), not_owner);
}

TEST_CASE("RLock: a lock held by another process blocks try and timed acquires which time out on time",
          "[rlock][process][timeout]") {
  Shared<RLock> r;
  Shared<std::atomic<int>> stage(0);
  const pid_t child = spawn([&] {
    r->acquire();
    r->acquire();
    stage->store(1);
    while (stage->load() != 2) std::this_thread::sleep_for(1ms);
    r->release();
    std::this_thread::sleep_for(30ms);  // still held at depth 1
    r->release();
    return 0;
  });
  while (stage->load() != 1) std::this_thread::sleep_for(1ms);
  CHECK_FALSE(r->try_acquire());
  CHECK_FALSE(r->acquire(false));
  for (auto timeout : {10ms, 100ms}) {
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_FALSE(r->acquire_for(timeout));
    const double took = elapsed_s(t0), want = std::chrono::duration<double>(timeout).count();
    CHECK(took >= want);
    CHECK(took < want + kLateTolerance);
  }
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(r->acquire(true, 0.05));  // Python's signature
  CHECK(elapsed_s(t0) >= 0.05);
  stage->store(2);
  REQUIRE(r->acquire_for(5s));  // handed over at the child's final release
  CHECK(elapsed_s(t0) >= 0.03);
  CHECK(r->depth() == 1);
  r->release();
  CHECK(join(child) == 0);
}

TEST_CASE("RLock: std::scoped_lock nests and unique_lock times out", "[rlock]") {
  Shared<RLock> r;
  {
    std::scoped_lock a(*r);
    std::scoped_lock b(*r);
    CHECK(r->depth() == 2);
    std::unique_lock<RLock> c(*r, std::defer_lock);
    CHECK(c.try_lock_for(1ms));  // the owner: re-entry
    CHECK(r->depth() == 3);
  }
  CHECK_FALSE(r->locked());
  CHECK(r->try_lock_until(std::chrono::system_clock::now() + 1ms));
  r->unlock();
}

TEST_CASE("RLock: release_save drops every level and acquire_restore brings the depth back", "[rlock]") {
  Shared<RLock> r;
  for (int i = 0; i < 3; ++i) r->acquire();
  const uint32_t d = r->release_save();
  CHECK(d == 3);
  CHECK_FALSE(r->locked());
  const pid_t child = spawn([&] { return r->try_acquire() ? (r->release(), 0) : 1; });
  CHECK(join(child) == 0);
  r->acquire_restore(d);
  CHECK(r->depth() == 3);
  for (int i = 0; i < 3; ++i) r->release();
  CHECK_FALSE(r->locked());
}

TEST_CASE("RLock: parked waiters in other processes each get the lock once", "[rlock][process]") {
  struct S {
    RLock r;
    std::atomic<int> done{0};
    int inside = 0;
    int overlap = 0;
  };
  Shared<S> s;
  REQUIRE(s->r.acquire());
  std::vector<pid_t> kids;
  for (int i = 0; i < 5; ++i)
    kids.push_back(spawn([&] {
      if (!s->r.acquire_for(10s)) return 1;
      s->r.acquire();  // nested
      if (++s->inside != 1) ++s->overlap;
      std::this_thread::sleep_for(1ms);
      --s->inside;
      s->r.release();
      s->r.release();
      s->done.fetch_add(1);
      return 0;
    }));
  const auto t0 = std::chrono::steady_clock::now();
  while (s->r.waiters() < 5 && elapsed_s(t0) < 5) std::this_thread::sleep_for(1ms);
  CHECK(s->r.waiters() == 5);
  s->r.release();
  for (pid_t k : kids) CHECK(join(k) == 0);
  CHECK(s->done.load() == 5);
  CHECK(s->overlap == 0);
  CHECK_FALSE(s->r.locked());
}

TEST_CASE("RLock: an owner SIGKILLed mid-critical-section is recovered and the next owner is told",
          "[rlock][process][robust]") {
  struct S {
    RLock r;
    std::atomic<int> stage{0};
    int half_updated = 0;
  };
  Shared<S> s;
  const pid_t holder = spawn([&] {
    s->r.acquire();
    s->r.acquire();
    s->half_updated = 1;  // the critical section is half done...
    s->stage.store(1);
    for (;;) pause();  // ...when it is killed
    return 0;
  });
  while (s->stage.load() != 1) std::this_thread::sleep_for(1ms);
  const pid_t waiter = spawn([&] {
    if (!s->r.acquire_for(5s)) return 1;
    if (!s->r.owner_died() || s->r.depth() != 1) return 2;
    if (s->half_updated != 1) return 3;
    s->half_updated = 0;  // repair
    s->r.acquire();       // re-entry keeps the flag
    if (!s->r.owner_died()) return 4;
    s->r.release();
    s->r.release();
    return s->r.owner_died() ? 5 : 0;
  });
  std::this_thread::sleep_for(50ms);
  kill(holder, SIGKILL);
  CHECK(join(holder) == 128 + SIGKILL);
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(join(waiter) == 0);
  CHECK(elapsed_s(t0) < 2.0);
  CHECK(s->r.recoveries() == 1);
  CHECK_FALSE(s->r.locked());
  REQUIRE(s->r.try_acquire());
  CHECK_FALSE(s->r.owner_died());
  s->r.release();
}

TEST_CASE("RLock: an owner that exited without releasing counts as dead even as an unreaped zombie",
          "[rlock][process][robust]") {
  Shared<RLock> r;
  const pid_t holder = spawn([&] {
    r->acquire();
    return 0;
  });
  while (!r->locked()) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(20ms);  // a zombie now: we reap it only at the end
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(r->acquire_for(3s));
  CHECK(elapsed_s(t0) < 1.0);
  CHECK(r->owner_died());
  r->release();
  CHECK(join(holder) == 0);
}

TEST_CASE("RLock: a loop of short timed acquires recovers a dead owner", "[rlock][robust]") {
  Shared<RLock> r;
  const pid_t owner = spawn([&] {
    r->acquire();
    r->acquire();
    return 0;  // exits holding it at depth 2
  });
  CHECK(join(owner) == 0);
  CHECK_FALSE(r->try_acquire());
  bool got = false;
  for (int i = 0; i < 20 && !got; ++i) got = r->acquire_for(20ms);
  REQUIRE(got);
  CHECK(r->owner_died());
  CHECK(r->recoveries() == 1);
  r->release();  // depth 1 after a take-over
  CHECK_FALSE(r->is_owned());
}

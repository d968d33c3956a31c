// lock_test.cc — Lock semantics on every backend: try_acquire, timeouts, Lockable, across
// processes, plus the native Lock's own guarantees (owner, over_release, contended handoff).
#include <catch2/catch.hpp>

#include <atomic>
#include <signal.h>

#include <mutex>
#include <thread>

#include "harness/backends.hpp"
#include "support.hpp"

using namespace ipcsync;
using namespace ipcsync::test;
using namespace std::chrono_literals;

// Timeouts must be honoured: never early, and late by at most this much (a loaded 2-core VM).
constexpr double kLateTolerance = 0.25;

#if IPCSYNC_WITH_BOOST_INTERPROCESS
#define LOCK_TYPES ipcsync::Lock, ipcsync::posix::Lock, ipcsync::boost_ipc::Lock, ipcsync::spin::Lock
#else
#define LOCK_TYPES ipcsync::Lock, ipcsync::posix::Lock, ipcsync::spin::Lock
#endif

TEMPLATE_TEST_CASE("Lock: acquire and try_acquire and release", "[lock]", LOCK_TYPES) {
  Shared<TestType> l;
  REQUIRE(l->try_acquire());
  REQUIRE(l->acquire_for(0ms) == false);
  l->release();
  REQUIRE(l->acquire());
  l->release();
  REQUIRE(l->try_acquire());
  l->release();
}

TEMPLATE_TEST_CASE("Lock: a timed acquire on a held lock times out on time", "[lock][timeout]", LOCK_TYPES) {
  Shared<TestType> l;
  REQUIRE(l->try_acquire());
  for (auto timeout : {10ms, 100ms}) {
    const auto t0 = std::chrono::steady_clock::now();
    REQUIRE_FALSE(l->acquire_for(timeout));
    const double took = elapsed_s(t0);
    const double want = std::chrono::duration<double>(timeout).count();
    CHECK(took >= want);
    CHECK(took < want + kLateTolerance);
  }
  l->release();
}

TEMPLATE_TEST_CASE("Lock: std::scoped_lock and std::unique_lock work (Lockable and TimedLockable)", "[lock]",
                   LOCK_TYPES) {
  Shared<TestType> l;
  {
    std::scoped_lock g(*l);
    REQUIRE_FALSE(l->try_acquire());
  }
  REQUIRE(l->try_acquire());
  l->release();
  {
    std::unique_lock<TestType> u(*l, std::defer_lock);
    REQUIRE(u.try_lock_for(10ms));
    REQUIRE_FALSE(l->try_acquire());
  }
  REQUIRE(l->try_acquire());
  l->release();
}

TEMPLATE_TEST_CASE("Lock: excludes across processes and hands over on release", "[lock][process]", LOCK_TYPES) {
  Shared<TestType> l;
  Shared<std::atomic<int>> stage(0);
  const pid_t child = spawn([&] {
    l->acquire();
    stage->store(1);
    while (stage->load() != 2) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(50ms);
    l->release();
    return 0;
  });
  while (stage->load() != 1) std::this_thread::sleep_for(1ms);
  CHECK_FALSE(l->try_acquire());
  CHECK_FALSE(l->acquire_for(20ms));
  stage->store(2);
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(l->acquire_for(5s));  // blocks until the child's release, then gets it
  CHECK(elapsed_s(t0) >= 0.03);
  l->release();
  REQUIRE(join(child) == 0);
}

TEST_CASE("native Lock: zero-filled memory is an unlocked Lock of one cache line", "[lock][native]") {
  static_assert(sizeof(Lock) == 64 && alignof(Lock) == 64);
  alignas(64) unsigned char raw[64] = {};
  auto* l = reinterpret_cast<Lock*>(raw);
  REQUIRE_FALSE(l->locked());
  REQUIRE(l->try_acquire());
  REQUIRE(l->locked());
  REQUIRE(l->owner() == static_cast<uint32_t>(gettid()));
  l->release();
  REQUIRE(l->owner() == 0);
}

TEST_CASE("native Lock: releasing an unlocked Lock throws over_release", "[lock][native]") {
  Lock l;
  REQUIRE_THROWS_AS(l.release(), over_release);
  REQUIRE(l.try_acquire());
  l.release();
  REQUIRE_THROWS_AS(l.release(), over_release);
}

TEST_CASE("native Lock: Python's acquire(blocking timeout) signature", "[lock][native]") {
  Lock l;
  REQUIRE(l.acquire(false));
  REQUIRE_FALSE(l.acquire(false));
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE_FALSE(l.acquire(true, 0.05));
  CHECK(elapsed_s(t0) >= 0.05);
  l.release();
  // A negative timeout is 0, as multiprocessing's SemLock clamps it: one try, no wait.
  REQUIRE(l.acquire(true, -1));
  REQUIRE_FALSE(l.acquire(true, -1));
  l.release();
}

TEST_CASE("native Lock: parked waiters in other processes are all woken and none is lost", "[lock][native][process]") {
  // The holder keeps the lock long enough that every contender parks in the kernel; then each
  // contender must get it once. A lost wake-up hangs a child past the timeout below.
  Shared<Lock> l;
  Shared<std::atomic<int>> done(0);
  REQUIRE(l->try_acquire());
  std::vector<pid_t> kids;
  for (int i = 0; i < 6; ++i)
    kids.push_back(spawn([&] {
      if (!l->acquire_for(10s)) return 1;
      done->fetch_add(1);
      l->release();
      return 0;
    }));
  const auto t0 = std::chrono::steady_clock::now();
  while (l->waiters() < 6 && elapsed_s(t0) < 5) std::this_thread::sleep_for(1ms);
  CHECK(l->waiters() == 6);
  l->release();
  for (pid_t k : kids) CHECK(join(k) == 0);
  CHECK(done->load() == 6);
  CHECK(l->waiters() == 0);
  CHECK_FALSE(l->locked());
}

TEST_CASE("native Lock: timed-out waiters leave the lock usable for the others", "[lock][native][process]") {
  Shared<Lock> l;
  REQUIRE(l->try_acquire());
  std::vector<pid_t> kids;
  // Half give up after 50 ms, half wait long; after the short ones left, a release must still
  // reach a long waiter.
  for (int i = 0; i < 4; ++i)
    kids.push_back(spawn([&, i] {
      if (i % 2 == 0) return l->acquire_for(50ms) ? 1 : 0;
      if (!l->acquire_for(10s)) return 2;
      l->release();
      return 0;
    }));
  std::this_thread::sleep_for(200ms);
  l->release();
  for (pid_t k : kids) CHECK(join(k) == 0);
  CHECK(l->waiters() == 0);
}

TEST_CASE("native Lock: a holder killed mid-critical-section is recovered and the next holder is told",
          "[lock][native][process][robust]") {
  struct State {
    Lock lock;
    std::atomic<int> entered{0};
    std::atomic<long> data{0};
  };
  Shared<State> s;
  const pid_t holder = spawn([&]() -> int {
    s->lock.acquire();
    s->data.store(1);  // half of an update...
    s->entered.store(1);
    for (;;) pause();  // ...and the other half never comes
  });
  while (s->entered.load() == 0) std::this_thread::sleep_for(1ms);
  REQUIRE(s->lock.locked());
  const pid_t waiter = spawn([&] {
    if (!s->lock.acquire_for(5s)) return 1;  // must not deadlock
    const bool told = s->lock.owner_died();
    s->lock.release();
    if (s->lock.owner_died()) return 3;  // the flag ends with the recovering holder's release
    return told ? 0 : 2;
  });
  std::this_thread::sleep_for(50ms);
  kill(holder, SIGKILL);
  CHECK(join(holder) == 128 + SIGKILL);
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(join(waiter) == 0);
  CHECK(elapsed_s(t0) < 2.0);
  CHECK(s->lock.recoveries() == 1);
  CHECK_FALSE(s->lock.locked());
  REQUIRE(s->lock.try_acquire());  // fully usable again
  CHECK_FALSE(s->lock.owner_died());
  s->lock.release();
}

TEST_CASE("native Lock: a dead holder that is still an unreaped zombie counts as dead", "[lock][native][robust]") {
  Shared<Lock> l;
  const pid_t holder = spawn([&] {
    l->acquire();
    return 0;  // exits holding the lock; we do not reap it until the end
  });
  while (!l->locked()) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(50ms);  // now a zombie
  REQUIRE(l->acquire_for(3s));
  CHECK(l->owner_died());
  l->release();
  CHECK(join(holder) == 0);
}

TEST_CASE("native Lock: a waiter SIGKILLed while parked gives its count back and releases are fast again",
          "[lock][native][process][robust]") {
  Shared<Lock> l;
  l->acquire();
  const pid_t victim = spawn([&] { return l->acquire() ? 0 : 1; });
  const auto t0 = std::chrono::steady_clock::now();
  while (l->waiters() != 1 && elapsed_s(t0) < 10) std::this_thread::sleep_for(1ms);
  REQUIRE(l->waiters() == 1);
  std::this_thread::sleep_for(50ms);  // parked in the kernel
  kill(victim, SIGKILL);
  CHECK(join(victim) == 128 + SIGKILL);
  l->release();
  // Releases that find an announced waiter but nobody asleep look for dead waiters now and
  // then; after enough of them the count is exact again and release() is the plain store.
  for (int i = 0; i < 200; ++i) {
    l->acquire();
    l->release();
  }
  CHECK(l->waiters() == 0);
}

TEST_CASE("native Lock: a parked waiter's quiet slice gives back the count of one that died parked",
          "[lock][native][process][robust]") {
  Shared<Lock> l;
  l->acquire();
  const pid_t victim = spawn([&] { return l->acquire() ? 0 : 1; });
  auto t0 = std::chrono::steady_clock::now();
  while (l->waiters() != 1 && elapsed_s(t0) < 10) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(50ms);
  kill(victim, SIGKILL);
  CHECK(join(victim) == 128 + SIGKILL);
  const pid_t survivor = spawn([&] {
    if (!l->acquire_for(30s)) return 1;
    l->release();
    return 0;
  });
  // The survivor parks; its quiet slices (100 ms) find the dead waiter: only it stays counted.
  t0 = std::chrono::steady_clock::now();
  while (l->waiters() != 1 && elapsed_s(t0) < 10) std::this_thread::sleep_for(5ms);
  std::this_thread::sleep_for(300ms);
  CHECK(l->waiters() == 1);
  l->release();
  CHECK(join(survivor) == 0);
  CHECK(l->waiters() == 0);
}

TEST_CASE("native Lock: a loop of short timed acquires recovers a dead holder", "[lock][native][robust]") {
  Shared<Lock> l;
  const pid_t holder = spawn([&] {
    l->acquire();
    return 0;  // exits holding it
  });
  CHECK(join(holder) == 0);
  REQUIRE(l->locked());
  CHECK_FALSE(l->try_acquire());  // try_acquire never takes over
  bool got = false;
  for (int i = 0; i < 20 && !got; ++i) got = l->acquire_for(20ms);  // shorter than a park slice
  REQUIRE(got);
  CHECK(l->owner_died());
  CHECK(l->recoveries() == 1);
  l->release();
}

// bounded_semaphore_test.cc — BoundedSemaphore: counting within the bound, over_release on any
// release above it (atomically, however releases interleave), timeouts, cross-process wake-up.
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <thread>

#include "ipcsync/bounded_semaphore.hpp"
#include "support.hpp"

using namespace ipcsync;
using namespace ipcsync::test;
using namespace std::chrono_literals;

TEST_CASE("BoundedSemaphore: counts within its bound and refuses an extra release", "[bounded_semaphore][errors]") {
  static_assert(sizeof(BoundedSemaphore) == 64 && alignof(BoundedSemaphore) == 64);
  Shared<BoundedSemaphore> s(3u);
  CHECK(s->bound() == 3);
  CHECK(s->value() == 3);
  REQUIRE_THROWS_AS(s->release(), over_release);  // already at the bound
  CHECK(s->value() == 3);
  REQUIRE(s->try_acquire());
  REQUIRE(s->acquire());
  REQUIRE(s->acquire(false));
  CHECK_FALSE(s->try_acquire());
  CHECK(s->value() == 0);
  s->release(2);
  CHECK(s->value() == 2);
  REQUIRE_THROWS_AS(s->release(2), over_release);  // 2 + 2 > 3: nothing added
  CHECK(s->value() == 2);
  s->release();
  CHECK(s->value() == 3);
  REQUIRE_THROWS_AS(s->release(0), std::invalid_argument);
  REQUIRE_THROWS_AS(s->release(4), over_release);
}

TEST_CASE("BoundedSemaphore: the default bound is 1 and it works as a lock", "[bounded_semaphore]") {
  BoundedSemaphore s;
  {
    std::scoped_lock g(s);
    CHECK(s.value() == 0);
  }
  CHECK(s.value() == 1);
  CHECK_THROWS_AS(s.unlock(), over_release);
}

TEST_CASE("BoundedSemaphore: a timed acquire at zero times out on time", "[bounded_semaphore][timeout]") {
  Shared<BoundedSemaphore> s(1u);
  REQUIRE(s->acquire());
  for (auto timeout : {10ms, 100ms}) {
    const auto t0 = std::chrono::steady_clock::now();
    REQUIRE_FALSE(s->acquire_for(timeout));
    const double took = elapsed_s(t0), want = std::chrono::duration<double>(timeout).count();
    CHECK(took >= want);
    CHECK(took < want + 0.25);
  }
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE_FALSE(s->acquire(true, 0.02));
  CHECK(elapsed_s(t0) >= 0.02);
  s->release();
}

TEST_CASE("BoundedSemaphore: a release in another process wakes a blocked acquire", "[bounded_semaphore][process]") {
  Shared<BoundedSemaphore> s(2u);
  REQUIRE(s->acquire());
  REQUIRE(s->acquire());
  const pid_t child = spawn([&] { return s->acquire_for(10s) ? 0 : 1; });
  const auto t0 = std::chrono::steady_clock::now();
  while (s->waiters() < 1 && elapsed_s(t0) < 5) std::this_thread::sleep_for(1ms);
  s->release();
  CHECK(join(child) == 0);
  CHECK(s->value() == 0);
  s->release(2);
  CHECK_THROWS_AS(s->release(), over_release);
}

TEST_CASE("BoundedSemaphore: racing releases never push the count above the bound", "[bounded_semaphore][process]") {
  // Four processes each take a permit and give it back many times, then — once all are done,
  // so every permit is back — try one release too many; a watcher samples the count
  // throughout. All four extra releases must be refused, the count must never have been seen
  // above the bound, and it must end at the bound. (An extra release while others still hold
  // permits would succeed, and a later legitimate release be refused instead: the bound is on
  // the count, not on who releases.)
  struct S {
    BoundedSemaphore sem{4};
    std::atomic<int> looped{0};
    std::atomic<int> refused{0};
    std::atomic<int> stop{0};
    std::atomic<uint32_t> seen_max{0};
  };
  Shared<S> s;
  std::vector<pid_t> kids;
  for (int i = 0; i < 4; ++i)
    kids.push_back(spawn([&] {
      for (int k = 0; k < 20000; ++k) {
        s->sem.acquire();
        s->sem.release();
      }
      s->looped.fetch_add(1);
      while (s->looped.load() < 4) std::this_thread::yield();
      try {
        s->sem.release();
      } catch (const over_release&) {
        s->refused.fetch_add(1);
      }
      return 0;
    }));
  const pid_t watcher = spawn([&] {
    while (!s->stop.load()) {
      const uint32_t v = s->sem.value();
      if (v > s->seen_max.load()) s->seen_max.store(v);
    }
    return 0;
  });
  for (pid_t k : kids) CHECK(join(k) == 0);
  s->stop.store(1);
  CHECK(join(watcher) == 0);
  CHECK(s->refused.load() == 4);
  CHECK(s->seen_max.load() <= 4);
  CHECK(s->sem.value() == 4);
}

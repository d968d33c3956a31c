// semaphore_test.cc — Semaphore semantics on every backend: counting, try_acquire, timeouts,
// release(k), across processes; plus the native Semaphore's limits and wake-up guarantees.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "harness/backends.hpp"
#include "support.hpp"

using namespace ipcsync;
using namespace ipcsync::test;
using namespace std::chrono_literals;

#if IPCSYNC_WITH_BOOST_INTERPROCESS
#define SEM_TYPES ipcsync::Semaphore, ipcsync::posix::Semaphore, ipcsync::boost_ipc::Semaphore, ipcsync::spin::Semaphore
#else
#define SEM_TYPES ipcsync::Semaphore, ipcsync::posix::Semaphore, ipcsync::spin::Semaphore
#endif

TEMPLATE_TEST_CASE("Semaphore: counts permits and try_acquire fails at zero", "[semaphore]", SEM_TYPES) {
  Shared<TestType> s(3u);
  REQUIRE(s->try_acquire());
  REQUIRE(s->try_acquire());
  REQUIRE(s->acquire());
  REQUIRE_FALSE(s->try_acquire());
  s->release();
  REQUIRE(s->try_acquire());
  REQUIRE_FALSE(s->try_acquire());
}

TEMPLATE_TEST_CASE("Semaphore: release(k) adds k permits", "[semaphore]", SEM_TYPES) {
  Shared<TestType> s(0u);
  REQUIRE_FALSE(s->try_acquire());
  s->release(4);
  for (int i = 0; i < 4; ++i) REQUIRE(s->try_acquire());
  REQUIRE_FALSE(s->try_acquire());
  REQUIRE_THROWS_AS(s->release(0), std::invalid_argument);
}

TEMPLATE_TEST_CASE("Semaphore: a timed acquire at zero times out on time", "[semaphore][timeout]", SEM_TYPES) {
  Shared<TestType> s(0u);
  for (auto timeout : {10ms, 100ms}) {
    const auto t0 = std::chrono::steady_clock::now();
    REQUIRE_FALSE(s->acquire_for(timeout));
    const double took = elapsed_s(t0);
    const double want = std::chrono::duration<double>(timeout).count();
    CHECK(took >= want);
    CHECK(took < want + 0.25);
  }
}

TEMPLATE_TEST_CASE("Semaphore: a release in another process wakes a blocked acquire", "[semaphore][process]",
                   SEM_TYPES) {
  Shared<TestType> s(0u);
  Shared<std::atomic<int>> got(0);
  const pid_t child = spawn([&] {
    if (!s->acquire_for(10s)) return 1;
    got->store(1);
    return 0;
  });
  std::this_thread::sleep_for(50ms);
  CHECK(got->load() == 0);
  s->release();
  REQUIRE(join(child) == 0);
  CHECK(got->load() == 1);
}

TEST_CASE("native Semaphore: zero-filled memory is a Semaphore with no permits", "[semaphore][native]") {
  static_assert(sizeof(Semaphore) == 64 && alignof(Semaphore) == 64);
  alignas(64) unsigned char raw[64] = {};
  auto* s = reinterpret_cast<Semaphore*>(raw);
  REQUIRE(s->value() == 0);
  REQUIRE_FALSE(s->try_acquire());
  s->release(2);
  REQUIRE(s->value() == 2);
}

TEST_CASE("native Semaphore: releasing past kMaxValue throws over_release and changes nothing",
          "[semaphore][native]") {
  Semaphore s(Semaphore::kMaxValue - 1);
  s.release();
  REQUIRE(s.value() == Semaphore::kMaxValue);
  REQUIRE_THROWS_AS(s.release(), over_release);
  REQUIRE(s.value() == Semaphore::kMaxValue);
  REQUIRE_THROWS_AS(Semaphore(Semaphore::kMaxValue + 1u), std::invalid_argument);
}

TEST_CASE("native Semaphore: release(k) wakes k parked waiters and single releases reach every sleeper",
          "[semaphore][native][process]") {
  Shared<Semaphore> s(0u);
  Shared<std::atomic<int>> done(0);
  std::vector<pid_t> kids;
  for (int i = 0; i < 6; ++i)
    kids.push_back(spawn([&] {
      if (!s->acquire_for(10s)) return 1;
      done->fetch_add(1);
      return 0;
    }));
  const auto t0 = std::chrono::steady_clock::now();
  while (s->waiters() < 6 && elapsed_s(t0) < 5) std::this_thread::sleep_for(1ms);
  CHECK(s->waiters() == 6);
  s->release(3);  // three at once
  s->release();   // then three singles in a burst: the awake flag must not swallow any
  s->release();
  s->release();
  for (pid_t k : kids) CHECK(join(k) == 0);
  CHECK(done->load() == 6);
  CHECK(s->value() == 0);
}

TEST_CASE("native Semaphore: the pool never has more holders than permits (10 processes and 3 permits)",
          "[semaphore][native][process]") {
  struct Pool {
    Semaphore sem{3};
    std::atomic<int> holders{0};
    std::atomic<int> max_holders{0};
  };
  Shared<Pool> p;
  std::vector<pid_t> kids;
  for (int i = 0; i < 10; ++i)
    kids.push_back(spawn([&] {
      for (int k = 0; k < 200; ++k) {
        p->sem.acquire();
        const int h = p->holders.fetch_add(1) + 1;
        int m = p->max_holders.load();
        while (h > m && !p->max_holders.compare_exchange_weak(m, h)) {
        }
        std::this_thread::sleep_for(std::chrono::microseconds(20));
        p->holders.fetch_sub(1);
        p->sem.release();
      }
      return 0;
    }));
  for (pid_t k : kids) CHECK(join(k) == 0);
  CHECK(p->max_holders.load() <= 3);
  CHECK(p->max_holders.load() >= 2);  // the pool was really shared
  CHECK(p->sem.value() == 3);
}

// bounded_semaphore_backends_test.cc — BoundedSemaphore semantics on every backend (native,
// posix, boost, spin): the bound refuses an extra release and changes nothing, timeouts, at most
// K holders across processes, and racing releases never pass the bound.
#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>

#include "backend_roles.hpp"

using namespace ipcsync;
using namespace ipcsync::test;
using namespace std::chrono_literals;

namespace {
constexpr uint32_t kPermits = 2;
template <class BS>
struct Pool {
  BS sem{kPermits};
  std::atomic<uint32_t> holders{0}, max_holders{0};
};
constexpr int kRounds = 30, kProcs = 4;
template <class BS>
struct Race {
  BS sem{1};
  std::atomic<int> go{0}, arrived{0}, done{0};
  std::atomic<int> accepted[kRounds] = {};
};
}  // namespace

ROLE_TEST_CASE("BoundedSemaphore backends: a release above the initial value throws over_release and changes nothing",
                   "[bounded_semaphore][backends][errors]", BoundedSemaphore) {
  using BS = typename TestType::BoundedSemaphore;
  Shared<BS> s(2u);
  CHECK_THROWS_AS(s->release(), over_release);
  CHECK(s->value() == 2);
  REQUIRE(s->acquire());
  REQUIRE(s->try_acquire());
  CHECK_FALSE(s->try_acquire());
  CHECK(s->value() == 0);
  CHECK_THROWS_AS(s->release(3), over_release);  // would reach 3
  CHECK(s->value() == 0);
  s->release(2);
  CHECK(s->value() == 2);
  CHECK_THROWS_AS(s->release(), over_release);
  CHECK_THROWS_AS(s->release(0), std::invalid_argument);
  REQUIRE(s->try_acquire());
  s->release();
  CHECK(s->value() == 2);
}

ROLE_TEST_CASE("BoundedSemaphore backends: a timed acquire at zero times out on time",
                   "[bounded_semaphore][backends][timeout]", BoundedSemaphore) {
  using BS = typename TestType::BoundedSemaphore;
  Shared<BS> s(1u);
  REQUIRE(s->acquire());
  for (auto timeout : {10ms, 50ms}) {
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_FALSE(s->acquire_for(timeout));
    const double took = elapsed_s(t0), want = std::chrono::duration<double>(timeout).count();
    CHECK(took >= want);
    CHECK(took < want + kLate);
  }
  s->release();
  CHECK(s->acquire_for(10ms));
  s->release();
}

ROLE_TEST_CASE("BoundedSemaphore backends: K permits never have more than K holders across processes",
                   "[bounded_semaphore][backends][process]", BoundedSemaphore) {
  using S = Pool<typename TestType::BoundedSemaphore>;
  Shared<S> s;
  std::vector<pid_t> kids;
  for (int p = 0; p < 3; ++p)
    kids.push_back(spawn_child([&] {
      for (int i = 0; i < 2000; ++i) {
        if (!s->sem.acquire_for(5s)) return 1;
        const uint32_t h = s->holders.fetch_add(1) + 1;
        uint32_t m = s->max_holders.load();
        while (h > m && !s->max_holders.compare_exchange_weak(m, h)) {
        }
        s->holders.fetch_sub(1);
        s->sem.release();
      }
      return 0;
    }));
  for (pid_t k : kids) CHECK(join(k) == 0);
  CHECK(s->max_holders.load() <= kPermits);
  CHECK(s->sem.value() == kPermits);
  CHECK_THROWS_AS(s->sem.release(), over_release);
}

ROLE_TEST_CASE("BoundedSemaphore backends: racing releases never push the count past the bound",
                   "[bounded_semaphore][backends][process]", BoundedSemaphore) {
  // One permit out, four processes release at once: exactly one may succeed, every round.
  using S = Race<typename TestType::BoundedSemaphore>;
  Shared<S> s;
  std::vector<pid_t> kids;
  for (int p = 0; p < kProcs; ++p)
    kids.push_back(spawn_child([&] {
      for (int r = 0; r < kRounds; ++r) {
        s->arrived.fetch_add(1);
        const auto t0 = std::chrono::steady_clock::now();
        while (s->go.load() <= r) {
          if (elapsed_s(t0) > 10) return 1;
          std::this_thread::yield();
        }
        try {
          s->sem.release();
          s->accepted[r].fetch_add(1);
        } catch (const over_release&) {
        }
        s->done.fetch_add(1);
      }
      return 0;
    }));
  int bad = 0;
  for (int r = 0; r < kRounds; ++r) {
    REQUIRE(s->sem.acquire_for(5s));  // the one permit is out
    REQUIRE(eventually([&] { return s->arrived.load() == kProcs * (r + 1); }));
    s->go.store(r + 1);
    REQUIRE(eventually([&] { return s->done.load() == kProcs * (r + 1); }));
    bad += s->accepted[r].load() != 1 || s->sem.value() != 1;
  }
  for (pid_t k : kids) CHECK(join(k) == 0);
  CHECK(bad == 0);
}

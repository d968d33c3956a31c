// conformance_bounded_semaphore_test.cc — multiprocessing.BoundedSemaphore's documented
// semantics, method by method, on every backend that offers it (native, posix, boost, spin).
//
// Python (multiprocessing docs, synchronize.py, semaphore.c; threading docs, lock_tests.py's
// BoundedSemaphoreTests):
//   BoundedSemaphore(value=1): a Semaphore whose initial value is also its bound; invalid
//     values as Semaphore's (std::invalid_argument here, on every backend).
//   acquire(block=True, timeout=None) -> bool: as Semaphore (negative timeout: a poll).
//   release(): raises ValueError ("semaphore or lock released too many times") — here
//     over_release — when the count would exceed the bound, and changes nothing. There is no
//     owner: any process may release a permit another process acquired.
#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "backend_roles.hpp"

using namespace ipcsync;
using namespace ipcsync::test;
using namespace std::chrono_literals;

ROLE_TEST_CASE("Conformance BoundedSemaphore: acquire takes permits / release past the initial value is over_release",
                   "[conformance][bounded_semaphore][errors]", BoundedSemaphore) {
  using BS = typename TestType::BoundedSemaphore;
  Shared<BS> s(2u);
  CHECK(s->bound() == 2);
  CHECK(s->value() == 2);
  CHECK_THROWS_AS(s->release(), over_release);  // already at the bound
  CHECK(s->value() == 2);
  CHECK(s->acquire());
  CHECK(s->acquire(false));
  CHECK_FALSE(s->acquire(false));
  CHECK(s->value() == 0);
  CHECK_THROWS_AS(s->release(3), over_release);  // would pass the bound: nothing added
  CHECK(s->value() == 0);
  s->release();
  s->release();
  CHECK(s->value() == 2);
  CHECK_THROWS_AS(s->release(), over_release);
  CHECK(s->value() == 2);
  CHECK_THROWS_AS(s->release(0), std::invalid_argument);
  Shared<BS> one;  // the default, as Python's: 1
  CHECK(one->bound() == 1);
  CHECK(one->acquire(true, 0.5));
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(one->acquire(true, 0.1));
  CHECK(took_at_least(t0, 0.1));
  one->release();
  CHECK_THROWS_AS(one->release(), over_release);
}

ROLE_TEST_CASE("Conformance BoundedSemaphore: invalid initial values are std::invalid_argument on every backend",
                   "[conformance][bounded_semaphore][errors]", BoundedSemaphore) {
  using BS = typename TestType::BoundedSemaphore;
  CHECK_THROWS_AS(BS(0xffffffffu), std::invalid_argument);  // Python's BoundedSemaphore(-1)
  CHECK_THROWS_AS(BS(0x80000000u), std::invalid_argument);
  CHECK_THROWS_AS(BS(opaque(0xfffffffeu)), std::invalid_argument);
  Shared<BS> s(0x7fffffffu);
  CHECK(s->value() == 0x7fffffffu);
  CHECK_THROWS_AS(s->release(), over_release);
}

ROLE_TEST_CASE("Conformance BoundedSemaphore: a permit taken by one process may be released by another",
                   "[conformance][bounded_semaphore][process]", BoundedSemaphore) {
  using BS = typename TestType::BoundedSemaphore;
  Shared<BS> s(1u);
  CHECK(in_child([&] { return s->acquire(false) ? 0 : 1; }) == 0);  // taken, never given back
  CHECK(s->value() == 0);
  CHECK_FALSE(s->acquire(false));
  s->release();  // no owner: this process may give it back
  CHECK(s->value() == 1);
  CHECK(in_child([&] {
          try {
            s->release();
            return 1;
          } catch (const over_release&) {
            return 0;
          }
        }) == 0);  // the bound holds in every process
  CHECK(s->value() == 1);
}

ROLE_TEST_CASE("Conformance BoundedSemaphore: a process blocked in acquire gets the permit another releases",
                   "[conformance][bounded_semaphore][process]", BoundedSemaphore) {
  using BS = typename TestType::BoundedSemaphore;
  Shared<BS> s(1u);
  REQUIRE(s->acquire());
  Shared<std::atomic<int>> got(0);
  const pid_t child = spawn_child([&] {
    if (!s->acquire_for(20s)) return 1;
    got->store(1);
    s->release();
    return 0;
  });
  std::this_thread::sleep_for(200ms);
  CHECK(got->load() == 0);
  s->release();
  CHECK(join_within(child, 10) == 0);
  CHECK(got->load() == 1);
  CHECK(s->value() == 1);
}

ROLE_TEST_CASE("Conformance BoundedSemaphore: a negative timeout is a poll", "[conformance][bounded_semaphore][timeout]",
                   BoundedSemaphore) {
  using BS = typename TestType::BoundedSemaphore;
  Shared<BS> s(1u);
  REQUIRE(s->acquire());
  Children kids1;  // all at once: one 5 s bound (0: false at once; -1: blocked)
  for_each_negative_timeout([&](const char* name, auto t) {
    kids1.add(std::string("timeout ") + name, [&] {
            if constexpr (std::is_arithmetic_v<decltype(t)>)
              return s->acquire(true, t) ? 1 : 0;
            else
              return s->acquire_for(t) ? 1 : 0;
          });
  });
  kids1.expect_all(0);
}

ROLE_TEST_CASE("Conformance BoundedSemaphore: a NaN timeout throws std::invalid_argument",
                   "[conformance][bounded_semaphore][timeout]", BoundedSemaphore) {
  using BS = typename TestType::BoundedSemaphore;
  Shared<BS> s(1u);
  REQUIRE(s->acquire());
  CHECK(in_child([&] {
          try {
            s->acquire(true, opaque(std::numeric_limits<double>::quiet_NaN()));
            return 1;
          } catch (const std::invalid_argument&) {
            return 0;
          }
        }) == 0);
}

ROLE_TEST_CASE("Conformance BoundedSemaphore: a huge timeout waits forever / until another process releases",
                   "[conformance][bounded_semaphore][timeout][process]", BoundedSemaphore) {
  using BS = typename TestType::BoundedSemaphore;
  Shared<BS> s(static_cast<uint32_t>(kHugeTimeouts));
  for (int i = 0; i < kHugeTimeouts; ++i) REQUIRE(s->acquire(false));
  check_waits_forever(
      [&](int, auto t) {
        if constexpr (std::is_arithmetic_v<decltype(t)>)
          return s->acquire(true, t);
        else
          return s->acquire_for(t);
      },
      [&](int n) { s->release(static_cast<uint32_t>(n)); });
}

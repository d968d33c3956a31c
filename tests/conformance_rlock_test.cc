// conformance_rlock_test.cc — multiprocessing.RLock's documented semantics, method by method, on
// every backend that offers an RLock (native, posix, boost).
//
// Python (multiprocessing docs, synchronize.py, semaphore.c's RECURSIVE_MUTEX; threading docs,
// lock_tests.py's RLockTests):
//   acquire(block=True, timeout=None) -> bool: the owning process/thread re-enters at once
//     (the recursion level goes up); another blocks until the level is back to 0; block=False
//     polls; a timeout gives up with False; a negative timeout is clamped to 0 (a poll).
//   release(): drops one level; the lock is free only after as many releases as acquires.
//     Only the owner may release: a non-owner, or a release of an unowned RLock, raises
//     (multiprocessing: AssertionError, threading: RuntimeError) — here not_owner.
#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "backend_roles.hpp"

using namespace ipcsync;
using namespace ipcsync::test;
using namespace std::chrono_literals;

ROLE_TEST_CASE("Conformance RLock: the owner re-enters and must release as many times as it acquired",
                   "[conformance][rlock]", RLock) {
  using R = typename TestType::RLock;
  Shared<R> r;
  CHECK_FALSE(r->locked());
  CHECK(r->acquire());
  CHECK(r->acquire(false));     // re-entry never blocks
  CHECK(r->acquire(true, 0.0));
  CHECK(r->acquire_for(10ms));
  CHECK(r->depth() == 4);
  CHECK(r->is_owned());
  for (int level = 4; level > 1; --level) {
    r->release();
    CHECK(r->locked());  // still held until the last release
    CHECK(in_child([&] { return r->acquire(false) ? 1 : 0; }) == 0);
  }
  CHECK(r->depth() == 1);
  r->release();
  CHECK_FALSE(r->locked());
  CHECK(r->depth() == 0);
  CHECK_FALSE(r->is_owned());
  CHECK(in_child([&] {
          if (!r->acquire(false)) return 1;
          r->release();
          return 0;
        }) == 0);
}

ROLE_TEST_CASE("Conformance RLock: release by a non-owner or of an unowned RLock throws not_owner",
                   "[conformance][rlock][errors]", RLock) {
  using R = typename TestType::RLock;
  Shared<R> r;
  CHECK_THROWS_AS(r->release(), not_owner);  // nobody owns it
  CHECK_FALSE(r->locked());
  HeldByChild h([&] { return r->acquire() && r->acquire(); }, [&] {
    r->release();
    r->release();
  });
  REQUIRE(h.held());
  CHECK_THROWS_AS(r->release(), not_owner);  // owned by the other process
  CHECK(r->locked());
  CHECK(r->depth() == 2);  // its level is untouched
  CHECK_FALSE(r->is_owned());
  CHECK_FALSE(r->acquire(false));
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(r->acquire(true, 0.1));
  CHECK(took_at_least(t0, 0.1));
  CHECK(h.finish() == 0);  // the owner could still release both levels
  CHECK_FALSE(r->locked());
}

ROLE_TEST_CASE("Conformance RLock: another process gets the RLock only after the owner's last release",
                   "[conformance][rlock][process]", RLock) {
  using R = typename TestType::RLock;
  Shared<R> r;
  Shared<std::atomic<int>> got(0);
  r->acquire();
  r->acquire();
  const pid_t child = spawn_child([&] {
    if (!r->acquire_for(20s)) return 1;
    got->store(1);
    r->release();
    return 0;
  });
  std::this_thread::sleep_for(150ms);
  r->release();  // depth 1: still held
  std::this_thread::sleep_for(150ms);
  CHECK(got->load() == 0);
  CHECK(still_running(child));
  r->release();
  CHECK(join_within(child, 10) == 0);
  CHECK(got->load() == 1);
}

ROLE_TEST_CASE("Conformance RLock: a negative timeout is a poll", "[conformance][rlock][timeout]", RLock) {
  using R = typename TestType::RLock;
  Shared<R> r;
  HeldByChild h([&] { return r->acquire(); }, [&] { r->release(); });
  REQUIRE(h.held());
  Children kids1;  // all at once: one 5 s bound (0: false at once; -1: blocked)
  for_each_negative_timeout([&](const char* name, auto t) {
    kids1.add(std::string("timeout ") + name, [&] {
            if constexpr (std::is_arithmetic_v<decltype(t)>)
              return r->acquire(true, t) ? 1 : 0;
            else
              return r->acquire_for(t) ? 1 : 0;
          });
  });
  kids1.expect_all(0);
  CHECK(h.finish() == 0);
}

ROLE_TEST_CASE("Conformance RLock: a NaN timeout throws std::invalid_argument", "[conformance][rlock][timeout]",
                   RLock) {
  using R = typename TestType::RLock;
  Shared<R> r;
  HeldByChild h([&] { return r->acquire(); }, [&] { r->release(); });
  REQUIRE(h.held());
  CHECK(in_child([&] {
          try {
            r->acquire(true, opaque(std::numeric_limits<double>::quiet_NaN()));
            return 1;
          } catch (const std::invalid_argument&) {
            return 0;
          }
        }) == 0);
  CHECK(h.finish() == 0);
}

ROLE_TEST_CASE("Conformance RLock: a huge timeout waits forever / until the owner releases",
                   "[conformance][rlock][timeout][process]", RLock) {
  using R = typename TestType::RLock;
  Shared<R> r;
  r->acquire();
  check_waits_forever(
      [&](int, auto t) {
        bool ok;
        if constexpr (std::is_arithmetic_v<decltype(t)>)
          ok = r->acquire(true, t);
        else
          ok = r->acquire_for(t);
        if (ok) r->release();  // hand it on to the next waiter
        return ok;
      },
      [&](int) { r->release(); });
}

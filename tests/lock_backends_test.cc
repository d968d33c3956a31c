// lock_backends_test.cc — Lock owner death on the robust backends (native, posix): a holder
// killed inside its critical section is taken over and the next holder is told. (lock_test.cc
// covers the Lock semantics every backend shares.)
#include <catch2/catch.hpp>

#include <signal.h>

#include <atomic>

#include "backend_roles.hpp"

using namespace ipcsync;
using namespace ipcsync::test;
using namespace std::chrono_literals;

BACKEND_TEST_CASE("Lock backends: a holder killed mid-critical-section is taken over and the next holder is told",
                   "[lock][backends][process][robust]", ::ipcsync::test::RobustLockBackends) {
  using L = typename TestType::Lock;
  struct S {
    L lock;
    std::atomic<int> entered{0};
  };
  Shared<S> s;
  const pid_t holder = spawn_child([&]() -> int {
    s->lock.acquire();
    s->entered.store(1);
    for (;;) pause();
  });
  REQUIRE(eventually([&] { return s->entered.load() == 1; }));
  CHECK(s->lock.locked());
  kill(holder, SIGKILL);
  CHECK(join(holder) == 128 + SIGKILL);
  REQUIRE(s->lock.acquire_for(3s));
  CHECK(s->lock.owner_died());
  CHECK(s->lock.recoveries() == 1);
  s->lock.release();
  CHECK_FALSE(s->lock.owner_died());
  CHECK_FALSE(s->lock.locked());
  REQUIRE(s->lock.try_acquire());
  s->lock.release();
}

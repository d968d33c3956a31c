// conformance_condition_test.cc — multiprocessing.Condition's documented semantics, method by
// method, on every backend that offers a Condition (native, posix, boost), each with its Lock.
//
// Python (multiprocessing docs, synchronize.py's Condition; threading docs; lock_tests.py's
// ConditionTests; _test_multiprocessing.py's _TestCondition):
//   wait(timeout=None) -> bool: must hold the lock (else multiprocessing AssertionError,
//     threading RuntimeError — here not_owner); releases it, blocks until notified or until the
//     timeout, re-acquires it; False if and only if the timeout expired. A negative timeout is a
//     poll (multiprocessing waits on a SemLock, which clamps it to 0).
//   wait_for(predicate, timeout=None): returns the predicate's last value; waits while it is
//     false, at most `timeout` in total; a timeout <= 0 evaluates the predicate once, no wait.
//   notify(n=1): wakes AT MOST n waiting processes (must hold the lock); notify_all() wakes all.
//     A notify with nobody waiting is lost (a later waiter is not woken by it).
#include <catch2/catch.hpp>

#include <signal.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>
#include <stdexcept>

#include "backend_roles.hpp"

using namespace ipcsync;
using namespace ipcsync::test;
using namespace std::chrono_literals;

namespace {
template <class L>
bool held_by_me(L& l) {
  return l.owner() == static_cast<uint32_t>(gettid());
}
// Results of waiters in other processes.
struct Outcomes {
  std::atomic<int> started{0}, returned_true{0}, returned_false{0}, errors{0};
};
void on_usr1(int) {}
}  // namespace

ROLE_TEST_CASE("Conformance Condition: wait and notify without holding the lock throw not_owner",
                   "[conformance][condition][errors]", Condition) {
  using C = typename TestType::Condition;
  Shared<C> c;
  CHECK_THROWS_AS(c->wait(0.01), not_owner);
  CHECK_THROWS_AS(c->wait_for(1ms), not_owner);
  CHECK_THROWS_AS(c->notify(), not_owner);
  CHECK_THROWS_AS(c->notify(3), not_owner);
  CHECK_THROWS_AS(c->notify_all(), not_owner);
  HeldByChild h([&] { return c->acquire(); }, [&] { c->release(); });
  REQUIRE(h.held());
  CHECK_THROWS_AS(c->notify(), not_owner);  // held, but by another process
  CHECK_THROWS_AS(c->wait(0.01), not_owner);
  CHECK(h.finish() == 0);
}

ROLE_TEST_CASE("Conformance Condition: a waiter nobody notifies returns false at its timeout / holding the lock",
                   "[conformance][condition][timeout]", Condition) {
  using C = typename TestType::Condition;
  Shared<C> c;
  std::scoped_lock g(*c);
  auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(c->wait(0.1));
  CHECK(took_at_least(t0, 0.1));
  CHECK(held_by_me(c->get_lock()));
  t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(c->wait_for(50ms));
  CHECK(took_at_least(t0, 0.05));
  CHECK(held_by_me(c->get_lock()));
  CHECK(c->waiters() == 0);
}

ROLE_TEST_CASE("Conformance Condition: notify(2) wakes at most 2 of 6 waiting processes / the rest time out with false",
                   "[conformance][condition][process]", Condition) {
  using C = typename TestType::Condition;
  struct S {
    C c;
    Outcomes o;
  };
  Shared<S> s;
  constexpr int kWaiters = 6;
  constexpr double kTimeout = 3.0;  // long enough for the 1 s "still waiting" check
  std::vector<pid_t> kids;
  for (int i = 0; i < kWaiters; ++i)
    kids.push_back(spawn_child([&] {
      std::scoped_lock g(s->c);
      s->o.started.fetch_add(1);
      const bool r = s->c.wait(kTimeout);
      if (!held_by_me(s->c.get_lock())) s->o.errors.fetch_add(1);
      (r ? s->o.returned_true : s->o.returned_false).fetch_add(1);
      return 0;
    }));
  REQUIRE(eventually([&] { return s->c.waiters() == kWaiters; }, 10));
  {
    std::scoped_lock g(s->c);  // every registered waiter has released the lock
    s->c.notify(2);
  }
  CHECK(eventually([&] { return s->o.returned_true.load() >= 2; }, 10));  // promptly
  std::this_thread::sleep_for(1s);
  CHECK(s->o.returned_true.load() == 2);  // at most n: the other 4 still wait...
  CHECK(s->o.returned_false.load() == 0);
  CHECK(s->c.waiters() == kWaiters - 2);
  for (pid_t k : kids) CHECK(join_within(k, 20) == 0);
  CHECK(s->o.returned_true.load() == 2);  // ...and time out with false
  CHECK(s->o.returned_false.load() == kWaiters - 2);
  CHECK(s->o.errors.load() == 0);
}

ROLE_TEST_CASE("Conformance Condition: notify(1) then notify_all: one waiter / then every other / returns true",
                   "[conformance][condition][process]", Condition) {
  using C = typename TestType::Condition;
  struct S {
    C c;
    Outcomes o;
  };
  Shared<S> s;
  constexpr int kWaiters = 5;
  std::vector<pid_t> kids;
  for (int i = 0; i < kWaiters; ++i)
    kids.push_back(spawn_child([&] {
      std::scoped_lock g(s->c);
      const bool r = s->c.wait(30.0);
      if (!held_by_me(s->c.get_lock())) s->o.errors.fetch_add(1);
      (r ? s->o.returned_true : s->o.returned_false).fetch_add(1);
      return 0;
    }));
  REQUIRE(eventually([&] { return s->c.waiters() == kWaiters; }, 10));
  {
    std::scoped_lock g(s->c);
    s->c.notify();  // n = 1, Python's default
  }
  CHECK(eventually([&] { return s->o.returned_true.load() >= 1; }, 10));
  std::this_thread::sleep_for(300ms);
  CHECK(s->o.returned_true.load() == 1);
  {
    std::scoped_lock g(s->c);
    s->c.notify_all();
  }
  for (pid_t k : kids) CHECK(join_within(k, 10) == 0);
  CHECK(s->o.returned_true.load() == kWaiters);
  CHECK(s->o.returned_false.load() == 0);
  CHECK(s->o.errors.load() == 0);
}

ROLE_TEST_CASE("Conformance Condition: a notify with nobody waiting is lost", "[conformance][condition][process]",
                   Condition) {
  using C = typename TestType::Condition;
  Shared<C> c;
  {
    std::scoped_lock g(*c);
    c->notify();
    c->notify_all();
  }
  CHECK(in_child([&] {
          std::scoped_lock g(*c);
          return c->wait(0.1) ? 1 : 0;  // nothing pending for it
        }) == 0);
}

ROLE_TEST_CASE("Conformance Condition: a spurious wake-up (a signal handler ran) never turns into a true return",
                   "[conformance][condition][process]", Condition) {
  using C = typename TestType::Condition;
  struct S {
    C c;
    std::atomic<int> ready{0};
    std::atomic<double> took{0};
  };
  Shared<S> s;
  const pid_t child = spawn_child([&] {
    struct sigaction sa {};
    sa.sa_handler = on_usr1;  // no SA_RESTART: blocking calls see EINTR
    sigaction(SIGUSR1, &sa, nullptr);
    std::scoped_lock g(s->c);
    s->ready.store(1);
    const auto t0 = std::chrono::steady_clock::now();
    const bool r = s->c.wait(1.0);
    s->took.store(elapsed_s(t0));
    return r ? 1 : 0;
  });
  REQUIRE(eventually([&] { return s->ready.load() == 1 && s->c.waiters() == 1; }, 10));
  for (int i = 0; i < 15 && still_running(child); ++i) {
    kill(child, SIGUSR1);
    std::this_thread::sleep_for(40ms);
  }
  CHECK(join_within(child, 10) == 0);  // false: it was never notified
  CHECK(s->took.load() >= 1.0 - 0.002);
}

ROLE_TEST_CASE("Conformance Condition: wait_for(predicate / timeout) returns the predicate's last value",
                   "[conformance][condition][process]", Condition) {
  using C = typename TestType::Condition;
  struct S {
    C c;
    int state = 0;  // under the lock
  };
  Shared<S> s;
  {
    std::scoped_lock g(s->c);
    int calls = 0;
    CHECK(s->c.wait_for(1s, [&] { return ++calls > 0; }));  // already true: no wait
    CHECK(calls == 1);
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_FALSE(s->c.wait_for(100ms, [] { return false; }));
    CHECK(took_at_least(t0, 0.1));
    CHECK(held_by_me(s->c.get_lock()));
    // A timeout <= 0: no wait, the predicate's value (Python evaluates it once; evaluating it
    // again after a zero-length wait is allowed, the value returned is what counts).
    calls = 0;
    CHECK_FALSE(s->c.wait_for(0s, [&] { return ++calls < 0; }));
    CHECK(calls >= 1);
    CHECK(held_by_me(s->c.get_lock()));
    CHECK(s->c.wait_for(0s, [] { return true; }));
  }
  // Another process makes it true step by step, notifying each time; the waiter sees every
  // notify but returns only when its predicate holds.
  const pid_t child = spawn_child([&] {
    for (int i = 1; i <= 3; ++i) {
      std::this_thread::sleep_for(50ms);
      std::scoped_lock g(s->c);
      s->state = i;
      s->c.notify_all();
    }
    return 0;
  });
  {
    std::scoped_lock g(s->c);
    CHECK(s->c.wait_for(20s, [&] { return s->state == 3; }));
    CHECK(s->state == 3);
  }
  CHECK(join_within(child, 10) == 0);
}

ROLE_TEST_CASE("Conformance Condition: a negative timeout is a poll: false at once / the lock held again",
                   "[conformance][condition][timeout]", Condition) {
  using C = typename TestType::Condition;
  Shared<C> c;
  Children kids;  // all at once: one 5 s bound (0: false at once; -1: blocked)
  for_each_negative_timeout([&](const char* name, auto t) {
    kids.add(std::string("wait, timeout ") + name, [&] {
      std::scoped_lock g(*c);
      bool r;
      if constexpr (std::is_arithmetic_v<decltype(t)>)
        r = c->wait(t);
      else
        r = c->wait_for(t);
      if (!held_by_me(c->get_lock())) return 2;
      return r ? 1 : 0;
    });
    kids.add(std::string("wait_for(predicate), timeout ") + name, [&] {
      std::scoped_lock g(*c);
      if constexpr (std::is_arithmetic_v<decltype(t)>)
        return c->wait_for(std::chrono::duration<double>(t), [] { return false; }) ? 1 : 0;
      else
        return c->wait_for(t, [] { return false; }) ? 1 : 0;
    });
  });
  kids.expect_all(0);
}

ROLE_TEST_CASE("Conformance Condition: a NaN timeout throws std::invalid_argument", "[conformance][condition][timeout]",
                   Condition) {
  using C = typename TestType::Condition;
  Shared<C> c;
  CHECK(in_child([&] {
          std::scoped_lock g(*c);
          try {
            c->wait(opaque(std::numeric_limits<double>::quiet_NaN()));
            return 1;
          } catch (const std::invalid_argument&) {
            return held_by_me(c->get_lock()) ? 0 : 2;
          }
        }) == 0);
  CHECK(in_child([&] {
          std::scoped_lock g(*c);
          try {
            c->wait_for(std::chrono::duration<double>(std::nan("")), [] { return false; });
            return 1;
          } catch (const std::invalid_argument&) {
            return 0;
          }
        }) == 0);
}

ROLE_TEST_CASE("Conformance Condition: a huge timeout waits forever / until another process notifies",
                   "[conformance][condition][timeout][process]", Condition) {
  using C = typename TestType::Condition;
  Shared<C> c;
  check_waits_forever(
      [&](int, auto t) {
        std::scoped_lock g(*c);
        if constexpr (std::is_arithmetic_v<decltype(t)>)
          return c->wait(t);
        else
          return c->wait_for(t);
      },
      [&](int n) {
        eventually([&] { return c->waiters() == static_cast<uint32_t>(n); }, 2);  // those still waiting
        std::scoped_lock g(*c);
        c->notify_all();
      });
}

ROLE_TEST_CASE("Conformance Condition: wait_for(predicate) with a huge timeout waits forever",
                   "[conformance][condition][timeout][process]", Condition) {
  using C = typename TestType::Condition;
  struct S {
    C c;
    int go = 0;
  };
  Shared<S> s;
  check_waits_forever(
      [&](int, auto t) {
        std::scoped_lock g(s->c);
        if constexpr (std::is_arithmetic_v<decltype(t)>)
          return s->c.wait_for(std::chrono::duration<double>(t), [&] { return s->go == 1; });
        else
          return s->c.wait_for(t, [&] { return s->go == 1; });
      },
      [&](int n) {
        eventually([&] { return s->c.waiters() == static_cast<uint32_t>(n); }, 2);  // those still waiting
        std::scoped_lock g(s->c);
        s->go = 1;
        s->c.notify_all();
      });
}

// conformance_semaphore_test.cc — multiprocessing.Semaphore's documented semantics, method by
// method, on every backend that offers a Semaphore (native, posix, boost, spin).
//
// Python (multiprocessing docs, synchronize.py, _multiprocessing/semaphore.c; threading docs,
// lock_tests.py's semaphore tests):
//   Semaphore(value=1): value permits; a negative value is an error (threading: ValueError;
//     multiprocessing: OSError EINVAL from sem_open). Here the value is a uint32_t and anything
//     above the maximum count (SEM_VALUE_MAX, 2^31-1) — a negative value once converted — is
//     std::invalid_argument on every backend.
//   acquire(block=True, timeout=None) -> bool: takes one permit (True), block=False polls, a
//     timeout gives up with False, a negative timeout is clamped to 0 (SemLock).
//   release(n=1) (threading's n; multiprocessing's release() is n=1): adds n permits, wakes up
//     to n waiters in any process; n < 1 is ValueError (std::invalid_argument). A release past
//     the maximum count is over_release (SemLock: OverflowError/ValueError), never a silent wrap.
//   get_value() (value()): the count.
#include <catch2/catch.hpp>

#include <signal.h>
#include <thread>
#include <chrono>
#include <atomic>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "backend_roles.hpp"

using namespace ipcsync;
using namespace ipcsync::test;
using namespace std::chrono_literals;

namespace {
// value_of(s): s.value() where the backend reports it (Boost's interprocess_semaphore has no
// get_value; -1 then).
template <class S>
long value_of(S& s) {
  if constexpr (requires { s.value(); })
    return static_cast<long>(s.value());
  else
    return -1;
}
template <class S>
constexpr bool kHasValue = requires(S& s) { s.value(); };
void on_usr1(int) {}

// acquire_through_signals<S>(): a child blocks in acquire() and another in acquire(timeout)
// while SIGUSR1 (handled, no SA_RESTART: the waits see EINTR) keeps arriving; neither may throw
// or return early: the blocking one returns true once a permit is released, the timed one
// false at its deadline. Python retries a wait a signal handler interrupted (PEP 475).
template <class S>
void acquire_through_signals() {
  struct Sh {
    S sem{1};  // taken below: a BoundedSemaphore(0) could never be released
    std::atomic<int> ready{0};
    std::atomic<double> took{0};
  };
  Shared<Sh> s;
  REQUIRE(s->sem.acquire(false));
  auto waiter = [&](bool timed) {
    return spawn_child([&s, timed] {
      struct sigaction sa {};
      sa.sa_handler = on_usr1;
      sigaction(SIGUSR1, &sa, nullptr);
      s->ready.fetch_add(1);
      const auto t0 = std::chrono::steady_clock::now();
      try {
        if (timed) {
          const bool r = s->sem.acquire(true, 0.5);
          s->took.store(elapsed_s(t0));
          return r ? 1 : 0;
        }
        return s->sem.acquire() ? 0 : 1;
      } catch (...) {
        return 2;  // a signal turned into an error
      }
    });
  };
  const pid_t blocking = waiter(false);
  const pid_t timed = waiter(true);
  REQUIRE(eventually([&] { return s->ready.load() == 2; }, 10));
  for (int i = 0; i < 30; ++i) {
    kill(blocking, SIGUSR1);
    kill(timed, SIGUSR1);
    std::this_thread::sleep_for(10ms);
  }
  CHECK(join_within(timed, 10) == 0);  // false at its deadline, not an exception
  CHECK(s->took.load() >= 0.5 - 0.002);
  CHECK(still_running(blocking));
  s->sem.release();
  CHECK(join_within(blocking, 10) == 0);
}
}  // namespace

ROLE_TEST_CASE("Conformance Semaphore: a signal handler running during acquire neither raises nor ends the wait",
                   "[conformance][semaphore][process]", Semaphore) {
  acquire_through_signals<typename TestType::Semaphore>();
}

ROLE_TEST_CASE("Conformance BoundedSemaphore: a signal handler running during acquire neither raises nor ends the wait",
                   "[conformance][bounded_semaphore][process]", BoundedSemaphore) {
  acquire_through_signals<typename TestType::BoundedSemaphore>();
}

ROLE_TEST_CASE("Conformance Semaphore: the count is taken by acquire and given back by release",
                   "[conformance][semaphore]", Semaphore) {
  using S = typename TestType::Semaphore;
  Shared<S> s(3u);
  if constexpr (!kHasValue<S>) WARN(TestType::name << ": Semaphore has no value() (Python's get_value())");
  if constexpr (kHasValue<S>) CHECK(value_of(*s) == 3);
  CHECK(s->acquire());
  CHECK(s->acquire(false));
  CHECK(s->acquire(true, 0.5));
  if constexpr (kHasValue<S>) CHECK(value_of(*s) == 0);
  CHECK_FALSE(s->acquire(false));
  CHECK_FALSE(s->try_acquire());
  s->release();
  if constexpr (kHasValue<S>) CHECK(value_of(*s) == 1);
  s->release(2);
  if constexpr (kHasValue<S>) CHECK(value_of(*s) == 3);
  for (int i = 0; i < 3; ++i) CHECK(s->acquire(false));
  CHECK_FALSE(s->acquire(false));
  // A Semaphore is not bounded: it may be released above its initial value.
  s->release(5);
  if constexpr (kHasValue<S>) CHECK(value_of(*s) == 5);
  Shared<S> zero(0u);
  CHECK_FALSE(zero->acquire(false));
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(zero->acquire(true, 0.1));
  CHECK(took_at_least(t0, 0.1));
  const auto t1 = std::chrono::steady_clock::now();
  CHECK_FALSE(zero->acquire_for(50ms));
  CHECK(took_at_least(t1, 0.05));
}

ROLE_TEST_CASE("Conformance Semaphore: invalid arguments are std::invalid_argument on every backend",
                   "[conformance][semaphore][errors]", Semaphore) {
  using S = typename TestType::Semaphore;
  // Python's Semaphore(-1), converted to uint32_t, and the first value above SEM_VALUE_MAX.
  CHECK_THROWS_AS(S(0xffffffffu), std::invalid_argument);
  CHECK_THROWS_AS(S(static_cast<uint32_t>(-5)), std::invalid_argument);
  CHECK_THROWS_AS(S(0x80000000u), std::invalid_argument);
  CHECK_THROWS_AS(S(opaque(0xffffffffu)), std::invalid_argument);
  Shared<S> s(1u);
  CHECK_THROWS_AS(s->release(0), std::invalid_argument);  // threading: "n must be one or more"
  CHECK(s->acquire(false));
  CHECK_FALSE(s->acquire(false));  // the refused release added nothing
}

ROLE_TEST_CASE("Conformance Semaphore: the maximum count is kept: a release past it is over_release",
                   "[conformance][semaphore][errors]", Semaphore) {
  using S = typename TestType::Semaphore;
  Shared<S> s(0x7fffffffu);  // SEM_VALUE_MAX is a valid initial value
  if constexpr (kHasValue<S>) CHECK(value_of(*s) == 0x7fffffffL);
  CHECK_THROWS_AS(s->release(), over_release);
  if constexpr (kHasValue<S>) CHECK(value_of(*s) == 0x7fffffffL);  // unchanged, never wrapped to 0
  CHECK(s->acquire(false));  // permits are still there
  s->release();
  CHECK(s->acquire(false));
}

ROLE_TEST_CASE("Conformance Semaphore: release(n) in one process lets exactly n waiters in others through",
                   "[conformance][semaphore][process]", Semaphore) {
  using S = typename TestType::Semaphore;
  struct St {
    S s{0};
    std::atomic<int> through{0};
  };
  Shared<St> st;
  std::vector<pid_t> kids;
  for (int i = 0; i < 3; ++i)
    kids.push_back(spawn_child([&] {
      if (!st->s.acquire_for(20s)) return 1;
      st->through.fetch_add(1);
      return 0;
    }));
  std::this_thread::sleep_for(200ms);
  CHECK(st->through.load() == 0);  // nobody passes a zero count
  st->s.release(2);
  CHECK(eventually([&] { return st->through.load() >= 2; }, 10));
  std::this_thread::sleep_for(300ms);
  CHECK(st->through.load() == 2);  // two permits, two processes
  st->s.release();
  for (pid_t k : kids) CHECK(join_within(k, 10) == 0);
  CHECK(st->through.load() == 3);
  CHECK_FALSE(st->s.acquire(false));
}

ROLE_TEST_CASE("Conformance Semaphore: a negative timeout is a poll (multiprocessing clamps it to 0)",
                   "[conformance][semaphore][timeout]", Semaphore) {
  using S = typename TestType::Semaphore;
  Shared<S> s(0u);
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
  s->release();
  CHECK(in_child([&] { return s->acquire(true, -1.0) ? 0 : 1; }) == 0);  // a permit: taken
}

ROLE_TEST_CASE("Conformance Semaphore: a NaN timeout throws std::invalid_argument",
                   "[conformance][semaphore][timeout]", Semaphore) {
  using S = typename TestType::Semaphore;
  Shared<S> s(0u);
  CHECK(in_child([&] {
          try {
            s->acquire(true, opaque(std::numeric_limits<double>::quiet_NaN()));
            return 1;
          } catch (const std::invalid_argument&) {
            return 0;
          }
        }) == 0);
  CHECK(in_child([&] {
          try {
            s->acquire_for(std::chrono::duration<double>(std::nan("")));
            return 1;
          } catch (const std::invalid_argument&) {
            return 0;
          }
        }) == 0);
}

ROLE_TEST_CASE("Conformance Semaphore: a huge timeout waits forever / until another process releases",
                   "[conformance][semaphore][timeout][process]", Semaphore) {
  using S = typename TestType::Semaphore;
  Shared<S> s(0u);
  check_waits_forever(
      [&](int, auto t) {
        if constexpr (std::is_arithmetic_v<decltype(t)>)
          return s->acquire(true, t);
        else
          return s->acquire_for(t);
      },
      [&](int n) { s->release(static_cast<uint32_t>(n)); });
}

// timeouts_test.cc — the one timeout rule of futex.hpp, which every timed call of every
// primitive goes through: huge timeouts of any type saturate to "wait forever" (never an
// overflow that times out at once), timeouts <= 0 are a poll, NaN is std::invalid_argument;
// and each native primitive's timed calls keep that promise with values the compiler cannot
// fold (they are read from volatiles at run time).
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "ipcsync/barrier.hpp"
#include "ipcsync/condition.hpp"
#include "ipcsync/event.hpp"
#include "ipcsync/futex.hpp"
#include "ipcsync/joinable_queue.hpp"
#include "ipcsync/lock.hpp"
#include "ipcsync/queue.hpp"
#include "ipcsync/rlock.hpp"
#include "ipcsync/semaphore.hpp"
#include "support.hpp"

using namespace ipcsync;
using namespace ipcsync::test;
using namespace std::chrono_literals;

namespace {
// Run-time values: reading a volatile keeps the compiler from folding the conversion.
volatile double v_1e10 = 1e10, v_1e100 = 1e100, v_inf = std::numeric_limits<double>::infinity(),
                v_nan = std::numeric_limits<double>::quiet_NaN(), v_neg = -1.0, v_dmax = std::numeric_limits<double>::max();
volatile int64_t v_i64max = std::numeric_limits<int64_t>::max();

double rt(volatile double& v) { return v; }
}  // namespace

TEST_CASE("timeouts: huge durations of every type saturate to no deadline", "[timeout][futex]") {
  using std::chrono::duration;
  CHECK(deadline_after(duration<double>(rt(v_1e10))) == kNoDeadline);
  CHECK(deadline_after(duration<double>(rt(v_1e100))) == kNoDeadline);
  CHECK(deadline_after(duration<double>(rt(v_inf))) == kNoDeadline);
  CHECK(deadline_after(duration<double>(rt(v_dmax))) == kNoDeadline);
  CHECK(deadline_after(duration<double>::max()) == kNoDeadline);
  CHECK(deadline_after(duration<float>(1e30f)) == kNoDeadline);
  CHECK(deadline_after(duration<long double>(1e300L)) == kNoDeadline);
  CHECK(deadline_after(std::chrono::nanoseconds(v_i64max)) == kNoDeadline);
  CHECK(deadline_after(std::chrono::nanoseconds::max()) == kNoDeadline);
  CHECK(deadline_after(std::chrono::microseconds::max()) == kNoDeadline);
  CHECK(deadline_after(std::chrono::milliseconds::max()) == kNoDeadline);
  CHECK(deadline_after(std::chrono::seconds::max()) == kNoDeadline);
  CHECK(deadline_after(std::chrono::hours::max()) == kNoDeadline);
  CHECK(deadline_after(duration<uint64_t, std::ratio<86400>>::max()) == kNoDeadline);
  CHECK(deadline_after(duration<int64_t, std::pico>::max()) != kNoDeadline);  // ~107 days: finite
  CHECK(timeout_deadline(kForever) == kNoDeadline);
  CHECK(timeout_deadline(rt(v_1e10)) == kNoDeadline);
  // ... and any clock's far time points.
  // (system_clock's end is ~290 years after 1970, so it maps to a finite deadline that far off.)
  CHECK(deadline_at(std::chrono::system_clock::time_point::max()) > mono_clock::now() + std::chrono::hours(24 * 365 * 200));
  CHECK(deadline_at(std::chrono::time_point<mono_clock, std::chrono::hours>::max()) == kNoDeadline);
  CHECK(deadline_at(kNoDeadline) == kNoDeadline);
}

TEST_CASE("timeouts: ordinary and zero and negative durations", "[timeout][futex]") {
  const auto t0 = mono_clock::now();
  const deadline d = deadline_after(1500ms);
  const auto t1 = mono_clock::now();
  CHECK(d >= t0 + 1500ms);
  CHECK(d <= t1 + 1500ms);
  const deadline f = timeout_deadline(0.25);
  CHECK(f >= t0 + 249ms);
  CHECK(f <= mono_clock::now() + 251ms);
  // <= 0: a deadline of now (a poll), whatever the type, without overflow.
  for (deadline z : {deadline_after(0s), deadline_after(-5s), deadline_after(std::chrono::nanoseconds::min()),
                     deadline_after(std::chrono::hours::min()), timeout_deadline(rt(v_neg)),
                     timeout_deadline(-std::numeric_limits<double>::infinity())})
    CHECK(z <= mono_clock::now());
  const auto s0 = std::chrono::system_clock::now();
  const deadline w = deadline_at(s0 + 2s);
  CHECK(w > mono_clock::now() + 1s);
  CHECK(w < mono_clock::now() + 3s);
}

TEST_CASE("timeouts: NaN is invalid_argument and integer timeouts never throw", "[timeout][futex][errors]") {
  CHECK_THROWS_AS(timeout_deadline(rt(v_nan)), std::invalid_argument);
  CHECK_THROWS_AS(deadline_after(std::chrono::duration<double>(rt(v_nan))), std::invalid_argument);
  constexpr auto one = 1s;  // (duration's converting constructors are not noexcept themselves)
  constexpr auto ns_max = std::chrono::nanoseconds::max();
  constexpr auto d_one = std::chrono::duration<double>(1.0);
  STATIC_REQUIRE(noexcept(deadline_after(one)));
  STATIC_REQUIRE(noexcept(deadline_after(ns_max)));
  STATIC_REQUIRE_FALSE(noexcept(deadline_after(d_one)));
  Lock l;
  CHECK_THROWS_AS(l.acquire(true, rt(v_nan)), std::invalid_argument);
  CHECK_FALSE(l.locked());
  Semaphore s(1);
  CHECK_THROWS_AS(s.acquire(true, rt(v_nan)), std::invalid_argument);
  CHECK(s.value() == 1);
  Event e;
  CHECK_THROWS_AS(e.wait(rt(v_nan)), std::invalid_argument);
  Queue<int, 4> q;
  CHECK_THROWS_AS(q.get(true, rt(v_nan)), std::invalid_argument);
}

namespace {
// blocks_then_succeeds(call, release): call() runs in this thread with a huge timeout; it must
// still be blocked after 0.3 s, and return success once release() has run in another thread.
template <class Call, class Release>
void blocks_then_succeeds(Call call, Release release) {
  std::atomic<bool> released{false};
  std::thread t([&] {
    std::this_thread::sleep_for(300ms);
    released.store(true);
    release();
  });
  const bool ok = call();
  const bool after = released.load();
  t.join();
  CHECK(ok);
  CHECK(after);  // it did not return (time out) before the release
}
}  // namespace

TEST_CASE("timeouts: every native timed call with a huge run-time timeout waits for the event",
          "[timeout][native]") {
  for (volatile double* big : {&v_1e10, &v_1e100, &v_inf, &v_dmax}) {
    const double b = *big;
    CAPTURE(b);
    {
      Lock l;
      l.acquire();
      blocks_then_succeeds([&] { return l.acquire(true, b); }, [&] { l.release(); });
      l.release();
    }
    {
      Lock l;
      l.acquire();
      blocks_then_succeeds([&] { return l.acquire_for(std::chrono::duration<double>(b)); },
                           [&] { l.release(); });
    }
    {
      RLock r;
      std::atomic<bool> held{false}, go{false};
      std::thread holder([&] {
        r.acquire();
        held = true;
        while (!go) std::this_thread::sleep_for(1ms);
        r.release();
      });
      while (!held) std::this_thread::sleep_for(1ms);
      blocks_then_succeeds([&] { return r.acquire(true, b); }, [&] { go = true; });
      r.release();
      holder.join();
    }
    {
      Semaphore s(0);
      blocks_then_succeeds([&] { return s.acquire(true, b); }, [&] { s.release(); });
    }
    {
      Event e;
      blocks_then_succeeds([&] { return e.wait(b); }, [&] { e.set(); });
    }
    {
      Condition<Lock> c;
      std::atomic<bool> flag{false};
      c.acquire();
      blocks_then_succeeds(
          [&] {
            const bool r = c.wait(b);
            return r && flag.load();
          },
          [&] {
            std::scoped_lock g(c);
            flag = true;
            c.notify();
          });
      c.release();
    }
    {
      Queue<int, 4> q;
      blocks_then_succeeds([&] { return q.get(true, b) == 7; }, [&] { q.put(7); });
    }
    {
      Queue<int, 1> q;
      q.put(1);
      blocks_then_succeeds([&] { q.put(2, true, b); return true; }, [&] { (void)q.get(); });
      CHECK(q.get() == 2);
    }
    {
      JoinableQueue<int, 4> q;
      q.put(1);
      blocks_then_succeeds([&] { return q.join_for(std::chrono::duration<double>(b)); },
                           [&] { (void)q.get(); q.task_done(); });
    }
    {
      Barrier bar(2);
      std::atomic<bool> arrived{false};
      blocks_then_succeeds([&] { (void)bar.wait(b); return !bar.broken(); }, [&] { bar.wait(); });
      CHECK_FALSE(bar.broken());
      (void)arrived;
    }
  }
}

TEST_CASE("timeouts: a negative timeout is a poll as in multiprocessing", "[timeout][native]") {
  Lock l;
  CHECK(l.acquire(true, -1.0));  // free: the one try takes it
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(l.acquire(true, -1.0));  // held: one try, no waiting
  CHECK_FALSE(l.acquire(true, rt(v_neg)));
  Semaphore s(0);
  CHECK_FALSE(s.acquire(true, -5.0));
  Event e;
  CHECK_FALSE(e.wait(-1.0));
  e.set();
  CHECK(e.wait(-1.0));
  Condition<Lock> c;
  c.acquire();
  CHECK_FALSE(c.wait(-1.0));
  CHECK(c.get_lock().owner() == detail::self_id());  // holds the lock again
  c.release();
  Queue<int, 1> q;
  CHECK_THROWS_AS(q.get(true, -1.0), queue_empty);
  q.put(3);
  CHECK_THROWS_AS(q.put(4, true, -1.0), queue_full);
  CHECK(q.get(true, -1.0) == 3);  // an item present is taken, as multiprocessing's poll does
  Barrier bar(2);
  CHECK_THROWS_AS(bar.wait(-1.0), broken_barrier);
  CHECK(bar.broken());
  CHECK(elapsed_s(t0) < 5.0);  // none of them waited for anything
  l.release();
}

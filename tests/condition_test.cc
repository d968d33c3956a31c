// condition_test.cc — native Condition<Lock> and Condition<RLock>: not_owner, timeouts and
// notify with both lock types, and the zero-filled embedded lock. notify(n)/notify_all, RLock
// depth restore, wait_for(predicate) and shared external locks are tested once for every
// backend, native included, in condition_backends_test.cc.
#include <catch2/catch.hpp>

#include <signal.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "ipcsync/condition.hpp"
#include "support.hpp"

using namespace ipcsync;
using namespace ipcsync::test;
using namespace std::chrono_literals;

TEMPLATE_TEST_CASE("Condition: wait and notify without holding the lock throw not_owner", "[condition][errors]",
                   Lock, RLock) {
  Shared<Condition<TestType>> c;
  CHECK_THROWS_AS(c->wait(), not_owner);
  CHECK_THROWS_AS(c->wait_for(1ms), not_owner);
  CHECK_THROWS_AS(c->notify(), not_owner);
  CHECK_THROWS_AS(c->notify_all(), not_owner);
  // Held by another process: still not ours.
  Shared<std::atomic<int>> stage(0);
  const pid_t child = spawn([&] {
    c->acquire();
    stage->store(1);
    while (stage->load() != 2) std::this_thread::sleep_for(1ms);
    c->release();
    return 0;
  });
  while (stage->load() != 1) std::this_thread::sleep_for(1ms);
  CHECK_THROWS_AS(c->notify(), not_owner);
  CHECK_THROWS_AS(c->wait_for(1ms), not_owner);
  stage->store(2);
  CHECK(join(child) == 0);
}

TEMPLATE_TEST_CASE("Condition: a timed wait times out on time and returns holding the lock", "[condition][timeout]",
                   Lock, RLock) {
  Shared<Condition<TestType>> c;
  std::scoped_lock g(*c);
  for (auto timeout : {10ms, 100ms}) {
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_FALSE(c->wait_for(timeout));
    const double took = elapsed_s(t0), want = std::chrono::duration<double>(timeout).count();
    CHECK(took >= want);
    CHECK(took < want + 0.25);
    CHECK(c->get_lock().owner() == static_cast<uint32_t>(gettid()));
  }
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(c->wait(0.02));  // Python's signature
  CHECK(elapsed_s(t0) >= 0.02);
  CHECK(c->waiters() == 0);
}

TEMPLATE_TEST_CASE("Condition: notify wakes a waiter in another process which returns holding the lock",
                   "[condition][process]", Lock, RLock) {
  struct S {
    Condition<TestType> c;
    int ready = 0;  // under the lock
  };
  Shared<S> s;
  const pid_t child = spawn([&] {
    std::scoped_lock g(s->c);
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (!s->ready)
      if (!s->c.wait_until(until)) return 1;
    return s->c.get_lock().owner() == static_cast<uint32_t>(gettid()) ? 0 : 2;
  });
  const auto t0 = std::chrono::steady_clock::now();
  while (s->c.waiters() < 1 && elapsed_s(t0) < 5) std::this_thread::sleep_for(1ms);
  {
    std::scoped_lock g(s->c);
    s->ready = 1;
    s->c.notify();
  }
  CHECK(join(child) == 0);
}

TEST_CASE("Condition: zero-filled memory is a Condition with its own unlocked lock", "[condition]") {
  static_assert(sizeof(Condition<Lock>) == 192 && sizeof(Condition<RLock>) == 192);
  alignas(64) unsigned char raw[192] = {};
  auto* c = reinterpret_cast<Condition<Lock>*>(raw);
  CHECK_FALSE(c->get_lock().locked());
  c->acquire();
  c->notify_all();  // no waiters: a no-op
  CHECK_FALSE(c->wait_for(1ms));
  c->release();
}


// The token protocol behind notify(n) (condition.hpp): a wake-up is a token granted to the
// waiters registered at the notify, consumed by the woken; only a token makes wait() true.
namespace {
struct Waiters {
  Condition<Lock> c;
  std::atomic<int> returned_true{0}, returned_false{0};
};
// park(s, timeout): a child that waits once with the timeout and counts how it returned.
pid_t park(Shared<Waiters>& s, double timeout_s) {
  return spawn([&s, timeout_s] {
    std::scoped_lock g(s->c);
    if (s->c.wait(timeout_s)) s->returned_true++;
    else s->returned_false++;
    return 0;
  });
}
bool until_waiters(Shared<Waiters>& s, uint32_t n) {
  const auto t0 = std::chrono::steady_clock::now();
  while (s->c.waiters() != n)
    if (elapsed_s(t0) > 10) return false;
    else std::this_thread::sleep_for(1ms);
  return true;
}
}  // namespace

TEST_CASE("native Condition: notify(n) lets exactly n of the parked waiters return true while the rest keep waiting",
          "[condition][native][process]") {
  Shared<Waiters> s;
  std::vector<pid_t> kids;
  for (int i = 0; i < 5; ++i) kids.push_back(park(s, 30.0));
  REQUIRE(until_waiters(s, 5));
  std::this_thread::sleep_for(50ms);  // let them park in the kernel
  {
    std::scoped_lock g(s->c);
    s->c.notify(3);
  }
  const auto t0 = std::chrono::steady_clock::now();
  while (s->returned_true.load() < 3 && elapsed_s(t0) < 10) std::this_thread::sleep_for(1ms);
  CHECK(s->returned_true.load() == 3);
  // Several park slices later, nobody else has returned: notify(3) woke 3, not everyone.
  std::this_thread::sleep_for(600ms);
  CHECK(s->returned_true.load() == 3);
  CHECK(s->returned_false.load() == 0);
  CHECK(s->c.waiters() == 2);
  {
    std::scoped_lock g(s->c);
    s->c.notify_all();
  }
  for (pid_t k : kids) CHECK(join(k) == 0);
  CHECK(s->returned_true.load() == 5);
  CHECK(s->c.waiters() == 0);
}

TEST_CASE("native Condition: a waiter registered after a notify cannot consume it",
          "[condition][native][process]") {
  Shared<Waiters> s;
  const pid_t first = park(s, 30.0);
  REQUIRE(until_waiters(s, 1));
  std::this_thread::sleep_for(50ms);
  kill(first, SIGSTOP);  // the notified waiter cannot run to take its token yet
  {
    std::scoped_lock g(s->c);
    s->c.notify(1);
  }
  const pid_t late = park(s, 0.5);  // registers after the notify: must time out
  const auto t0 = std::chrono::steady_clock::now();
  while (s->returned_false.load() < 1 && elapsed_s(t0) < 10) std::this_thread::sleep_for(1ms);
  CHECK(join(late) == 0);
  CHECK(s->returned_false.load() == 1);
  CHECK(s->returned_true.load() == 0);
  kill(first, SIGCONT);
  CHECK(join(first) == 0);
  CHECK(s->returned_true.load() == 1);
  CHECK(s->c.waiters() == 0);
}

TEST_CASE("native Condition: waiters that timed out are not counted by a later notify(1)",
          "[condition][native][process]") {
  Shared<Waiters> s;
  std::vector<pid_t> gone;
  for (int i = 0; i < 3; ++i) gone.push_back(park(s, 0.05));
  for (pid_t k : gone) CHECK(join(k) == 0);
  CHECK(s->returned_false.load() == 3);
  CHECK(s->c.waiters() == 0);
  const pid_t live = park(s, 30.0);
  REQUIRE(until_waiters(s, 1));
  {
    std::scoped_lock g(s->c);
    s->c.notify(1);  // must reach the live waiter, not a departed one
  }
  CHECK(join(live) == 0);
  CHECK(s->returned_true.load() == 1);
  // notify() with nobody waiting grants nothing that a later waiter could take.
  {
    std::scoped_lock g(s->c);
    s->c.notify(5);
  }
  const pid_t after = park(s, 0.2);
  CHECK(join(after) == 0);
  CHECK(s->returned_false.load() == 4);
}

TEST_CASE("native Condition: a waiter killed inside wait() costs at most one extra wake-up in all",
          "[condition][native][process][robust]") {
  // A dead waiter's count stays registered until notify() retires it (condition.hpp, "Owner
  // death"). Before that retirement existed, every notify(1) that followed a notify_all() here
  // woke two waiters. Now: no notify loses a wake-up, all of them together wake at most one
  // more than they were asked to, and once retired the count is gone.
  Shared<Waiters> s;
  const pid_t dead = park(s, 60.0);
  REQUIRE(until_waiters(s, 1));
  std::this_thread::sleep_for(50ms);  // parked in the kernel, inside wait()
  kill(dead, SIGKILL);
  CHECK(join(dead) == 128 + SIGKILL);
  int extra = 0;
  for (int round = 0; round < 8; ++round) {
    const bool all = round % 2 == 0;
    INFO("round " << round);
    const int before_true = s->returned_true.load();
    const uint32_t before = s->c.waiters();  // the dead waiter's count, until it is retired
    const pid_t a = park(s, 0.5), b = park(s, 0.5);
    REQUIRE(until_waiters(s, before + 2));
    {
      std::scoped_lock g(s->c);
      if (all)
        s->c.notify_all();
      else
        s->c.notify(1);
    }
    CHECK(join(a) == 0);
    CHECK(join(b) == 0);
    const int woke = s->returned_true.load() - before_true, asked = all ? 2 : 1;
    CHECK(woke >= asked);  // never a lost wake-up
    if (woke > asked) extra += woke - asked;
  }
  CHECK(extra <= 1);
  CHECK(s->c.waiters() == 0);
}

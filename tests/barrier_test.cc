// barrier_test.cc — Barrier: arrival indexes, one action per round (passed to wait() or stored
// as a function pointer), abort/reset/broken/n_waiting, a throwing action, and a timed-out wait
// that breaks the barrier — across processes.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "ipcsync/barrier.hpp"
#include "support.hpp"

using namespace ipcsync;
using namespace ipcsync::test;
using namespace std::chrono_literals;

namespace {

template <class P>
bool eventually(P pred, double seconds = 5.0) {
  const auto t0 = std::chrono::steady_clock::now();
  while (!pred()) {
    if (elapsed_s(t0) > seconds) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// For the stored-action test: a function in this executable, reached through a global pointer
// that fork children inherit (the counter itself lives in shared memory).
std::atomic<int>* g_action_counter = nullptr;
void count_action() { g_action_counter->fetch_add(1); }

}  // namespace

TEST_CASE("Barrier: parties 0 is rejected and one party never blocks", "[barrier]") {
  static_assert(sizeof(Barrier) == 64 && alignof(Barrier) == 64);
  CHECK_THROWS_AS(Barrier(0), std::invalid_argument);
  Barrier b(1);
  CHECK(b.parties() == 1);
  int ran = 0;
  for (int i = 0; i < 5; ++i) CHECK(b.wait([&] { ++ran; }) == 0);
  CHECK(ran == 5);
  CHECK(b.generation() == 5);
  CHECK(b.n_waiting() == 0);
  CHECK_FALSE(b.broken());
}

TEST_CASE("Barrier: arrival indexes are a permutation each round and one process runs the action",
          "[barrier][process]") {
  constexpr int kProcs = 4, kRounds = 200;
  struct S {
    Barrier b{kProcs};
    std::atomic<uint32_t> seen[kRounds] = {};  // bitmask of indexes per round
    std::atomic<int> actions[kRounds] = {};
    std::atomic<int> finished[kRounds] = {};
    std::atomic<int> early{0};
  };
  Shared<S> s;
  std::vector<pid_t> kids;
  for (int p = 0; p < kProcs; ++p)
    kids.push_back(spawn([&] {
      for (int r = 0; r < kRounds; ++r) {
        s->finished[r].fetch_add(1);
        const uint32_t idx = s->b.wait([&] {
          if (s->finished[r].load() != kProcs) s->early.fetch_add(1);  // the action sees every arrival
          s->actions[r].fetch_add(1);
        });
        if (s->finished[r].load() != kProcs) s->early.fetch_add(1);
        if (idx >= kProcs) return 1;
        s->seen[r].fetch_or(1u << idx);
      }
      return 0;
    }));
  for (pid_t k : kids) CHECK(join(k) == 0);
  int bad_perm = 0, bad_action = 0;
  for (int r = 0; r < kRounds; ++r) {
    bad_perm += s->seen[r].load() != (1u << kProcs) - 1;
    bad_action += s->actions[r].load() != 1;
  }
  CHECK(bad_perm == 0);
  CHECK(bad_action == 0);
  CHECK(s->early.load() == 0);
  CHECK(s->b.generation() == kRounds);
}

TEST_CASE("Barrier: a stored function-pointer action runs in fork children once per round", "[barrier][process]") {
  struct S {
    std::atomic<int> count{0};
    Barrier b{3, &count_action};
  };
  Shared<S> s;
  g_action_counter = &s->count;  // inherited by the children below
  std::vector<pid_t> kids;
  for (int p = 0; p < 3; ++p)
    kids.push_back(spawn([&] {
      for (int r = 0; r < 10; ++r) s->b.wait();
      return 0;
    }));
  for (pid_t k : kids) CHECK(join(k) == 0);
  CHECK(s->count.load() == 10);
  // wait(action) replaces the stored action for the process that passes it, if it is last.
  Barrier one(1, &count_action);
  int mine = 0;
  one.wait([&] { ++mine; });
  CHECK(mine == 1);
  CHECK(s->count.load() == 10);
  one.wait();
  CHECK(s->count.load() == 11);
}

TEST_CASE("Barrier: an action that throws breaks the barrier for everyone", "[barrier][process]") {
  Shared<Barrier> b(2u);
  const pid_t child = spawn([&] {
    try {
      b->wait();
    } catch (const broken_barrier&) {
      return 0;
    }
    return 1;
  });
  REQUIRE(eventually([&] { return b->n_waiting() == 1; }));
  CHECK_THROWS_AS(b->wait([] { throw std::runtime_error("action failed"); }), std::runtime_error);
  CHECK(join(child) == 0);
  CHECK(b->broken());
  CHECK_THROWS_AS(b->wait(), broken_barrier);
  b->reset();
  CHECK_FALSE(b->broken());
}

TEST_CASE("Barrier: abort breaks current and future waits until reset", "[barrier][process]") {
  Shared<Barrier> b(3u);
  std::vector<pid_t> kids;
  for (int i = 0; i < 2; ++i)
    kids.push_back(spawn([&] {
      try {
        b->wait_for(10s);
      } catch (const broken_barrier&) {
        return 0;
      }
      return 1;
    }));
  REQUIRE(eventually([&] { return b->n_waiting() == 2; }));
  b->abort();
  for (pid_t k : kids) CHECK(join(k) == 0);
  CHECK(b->broken());
  CHECK(b->n_waiting() == 0);  // nobody waits in a broken round (Python's n_waiting too)
  CHECK_THROWS_AS(b->wait(), broken_barrier);
  b->abort();  // idempotent
  b->reset();
  CHECK_FALSE(b->broken());
  CHECK(b->n_waiting() == 0);
  // Usable again for a full round.
  std::vector<pid_t> again;
  for (int i = 0; i < 2; ++i) again.push_back(spawn([&] { return b->wait_for(10s) < 3 ? 0 : 1; }));
  CHECK(b->wait_for(10s) < 3);
  for (pid_t k : again) CHECK(join(k) == 0);
}

TEST_CASE("Barrier: reset while processes wait breaks only their round", "[barrier][process]") {
  Shared<Barrier> b(3u);
  std::vector<pid_t> kids;
  for (int i = 0; i < 2; ++i)
    kids.push_back(spawn([&] {
      try {
        b->wait_for(10s);
      } catch (const broken_barrier&) {
        return 0;
      }
      return 1;
    }));
  REQUIRE(eventually([&] { return b->n_waiting() == 2; }));
  const uint32_t gen = b->generation();
  b->reset();
  for (pid_t k : kids) CHECK(join(k) == 0);
  CHECK_FALSE(b->broken());  // reset leaves it usable, unlike abort
  CHECK(b->generation() == gen + 1);
  std::vector<pid_t> again;
  for (int i = 0; i < 2; ++i) again.push_back(spawn([&] { return b->wait_for(10s) < 3 ? 0 : 1; }));
  CHECK(b->wait_for(10s) < 3);
  for (pid_t k : again) CHECK(join(k) == 0);
}

TEST_CASE("Barrier: a timed-out wait breaks the barrier on time", "[barrier][timeout][process]") {
  Shared<Barrier> b(3u);
  const pid_t other = spawn([&] {
    try {
      b->wait_for(10s);
    } catch (const broken_barrier&) {
      return 0;  // woken by the timeout of the other waiter
    }
    return 1;
  });
  REQUIRE(eventually([&] { return b->n_waiting() == 1; }));
  for (auto timeout : {10ms, 100ms}) {
    if (b->broken()) b->reset();
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_THROWS_AS(b->wait_for(timeout), broken_barrier);
    const double took = elapsed_s(t0), want = std::chrono::duration<double>(timeout).count();
    CHECK(took >= want);
    CHECK(took < want + 0.25);
    CHECK(b->broken());
  }
  CHECK(join(other) == 0);
  b->reset();
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(b->wait(0.02), broken_barrier);  // Python's signature
  CHECK(elapsed_s(t0) >= 0.02);
}

TEST_CASE("Barrier: n_waiting counts the current round", "[barrier][process]") {
  Shared<Barrier> b(3u);
  CHECK(b->n_waiting() == 0);
  const pid_t a = spawn([&] { return b->wait_for(10s) < 3 ? 0 : 1; });
  REQUIRE(eventually([&] { return b->n_waiting() == 1; }));
  const pid_t c = spawn([&] { return b->wait_for(10s) < 3 ? 0 : 1; });
  REQUIRE(eventually([&] { return b->n_waiting() == 2; }));
  CHECK(b->wait_for(10s) < 3);
  CHECK(join(a) == 0);
  CHECK(join(c) == 0);
  CHECK(b->n_waiting() == 0);
  CHECK(b->generation() == 1);
}

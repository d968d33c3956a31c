// barrier_backends_test.cc — Barrier semantics on every backend (native, posix, boost, spin):
// arrival indexes, one action per round (passed to wait() or stored), abort/reset/broken/
// n_waiting, a throwing action, and a timed-out wait that breaks the barrier — across processes.
#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>

#include "backend_roles.hpp"

using namespace ipcsync;
using namespace ipcsync::test;
using namespace std::chrono_literals;

namespace {
// For the stored-action test: a function of this executable reached through a global pointer
// that fork children inherit (the counter itself is in shared memory).
std::atomic<int>* g_actions = nullptr;
void count_action() { g_actions->fetch_add(1); }

// waits(b, timeout): 0 when wait_for() returned an index below parties, 1 on broken_barrier.
template <class Bar>
int waits(Bar& b, std::chrono::milliseconds timeout) {
  try {
    return b.wait_for(timeout) < b.parties() ? 0 : 2;
  } catch (const broken_barrier&) {
    return 1;
  }
}
constexpr int kProcs = 3, kRounds = 60;
template <class Bar>
struct Rounds {
  Bar b{kProcs};
  std::atomic<uint32_t> seen[kRounds] = {};  // bitmask of indexes per round
  std::atomic<int> actions[kRounds] = {};
  std::atomic<int> finished[kRounds] = {};
  std::atomic<int> early{0};
};
template <class Bar>
struct Stored {
  std::atomic<int> count{0};
  Bar b{2, &count_action};
};
}  // namespace

ROLE_TEST_CASE("Barrier backends: parties 0 is rejected and one party never blocks", "[barrier][backends]",
                   Barrier) {
  using Bar = typename TestType::Barrier;
  CHECK_THROWS_AS(Bar(0), std::invalid_argument);
  Shared<Bar> b(1u);
  CHECK(b->parties() == 1);
  int ran = 0;
  for (int i = 0; i < 5; ++i) CHECK(b->wait([&] { ++ran; }) == 0);
  CHECK(ran == 5);
  CHECK(b->generation() == 5);
  CHECK(b->n_waiting() == 0);
  CHECK_FALSE(b->broken());
}

ROLE_TEST_CASE("Barrier backends: arrival indexes are a permutation each round and one process runs the action",
                   "[barrier][backends][process]", Barrier) {
  using S = Rounds<typename TestType::Barrier>;
  Shared<S> s;
  std::vector<pid_t> kids;
  for (int p = 0; p < kProcs; ++p)
    kids.push_back(spawn_child([&] {
      for (int r = 0; r < kRounds; ++r) {
        s->finished[r].fetch_add(1);
        const uint32_t idx = s->b.wait([&] {
          if (s->finished[r].load() != kProcs) s->early.fetch_add(1);  // the action sees every arrival
          s->actions[r].fetch_add(1);
        });
        if (s->finished[r].load() != kProcs || s->actions[r].load() != 1) s->early.fetch_add(1);
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

ROLE_TEST_CASE("Barrier backends: a stored function-pointer action runs in fork children once per round",
                   "[barrier][backends][process]", Barrier) {
  using Bar = typename TestType::Barrier;
  using S = Stored<Bar>;
  Shared<S> s;
  g_actions = &s->count;  // inherited by the children below
  std::vector<pid_t> kids;
  for (int p = 0; p < 2; ++p)
    kids.push_back(spawn_child([&] {
      for (int r = 0; r < 10; ++r) s->b.wait();
      return 0;
    }));
  for (pid_t k : kids) CHECK(join(k) == 0);
  CHECK(s->count.load() == 10);
  Shared<Bar> one(1u, &count_action);  // wait(action) replaces the stored one
  int mine = 0;
  one->wait([&] { ++mine; });
  CHECK(mine == 1);
  CHECK(s->count.load() == 10);
  one->wait();
  CHECK(s->count.load() == 11);
}

ROLE_TEST_CASE("Barrier backends: an action that throws breaks the barrier for everyone",
                   "[barrier][backends][process]", Barrier) {
  using Bar = typename TestType::Barrier;
  Shared<Bar> b(2u);
  const pid_t child = spawn_child([&] { return waits(*b, 10s) == 1 ? 0 : 1; });
  REQUIRE(eventually([&] { return b->n_waiting() == 1; }));
  CHECK_THROWS_AS(b->wait([] { throw std::runtime_error("action failed"); }), std::runtime_error);
  CHECK(join(child) == 0);
  CHECK(b->broken());
  CHECK_THROWS_AS(b->wait(), broken_barrier);
  b->reset();
  CHECK_FALSE(b->broken());
}

ROLE_TEST_CASE("Barrier backends: abort breaks current and future waits until reset", "[barrier][backends][process]",
                   Barrier) {
  using Bar = typename TestType::Barrier;
  Shared<Bar> b(3u);
  std::vector<pid_t> kids;
  for (int i = 0; i < 2; ++i) kids.push_back(spawn_child([&] { return waits(*b, 10s) == 1 ? 0 : 1; }));
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
  std::vector<pid_t> again;  // usable again for a full round
  for (int i = 0; i < 2; ++i) again.push_back(spawn_child([&] { return waits(*b, 10s); }));
  CHECK(waits(*b, 10s) == 0);
  for (pid_t k : again) CHECK(join(k) == 0);
}

ROLE_TEST_CASE("Barrier backends: reset while processes wait breaks only their round", "[barrier][backends][process]",
                   Barrier) {
  using Bar = typename TestType::Barrier;
  Shared<Bar> b(3u);
  std::vector<pid_t> kids;
  for (int i = 0; i < 2; ++i) kids.push_back(spawn_child([&] { return waits(*b, 10s) == 1 ? 0 : 1; }));
  REQUIRE(eventually([&] { return b->n_waiting() == 2; }));
  const uint32_t gen = b->generation();
  b->reset();
  for (pid_t k : kids) CHECK(join(k) == 0);
  CHECK_FALSE(b->broken());  // unlike abort, reset leaves it usable
  CHECK(b->generation() == gen + 1);
  std::vector<pid_t> again;
  for (int i = 0; i < 2; ++i) again.push_back(spawn_child([&] { return waits(*b, 10s); }));
  CHECK(waits(*b, 10s) == 0);
  for (pid_t k : again) CHECK(join(k) == 0);
}

ROLE_TEST_CASE("Barrier backends: a timed-out wait breaks the barrier on time", "[barrier][backends][timeout][process]",
                   Barrier) {
  using Bar = typename TestType::Barrier;
  Shared<Bar> b(3u);
  const pid_t other = spawn_child([&] { return waits(*b, 10s) == 1 ? 0 : 1; });  // woken by our timeout
  REQUIRE(eventually([&] { return b->n_waiting() == 1; }));
  for (auto timeout : {10ms, 50ms}) {
    if (b->broken()) b->reset();
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_THROWS_AS(b->wait_for(timeout), broken_barrier);
    const double took = elapsed_s(t0), want = std::chrono::duration<double>(timeout).count();
    CHECK(took >= want);
    CHECK(took < want + kLate);
    CHECK(b->broken());
  }
  CHECK(join(other) == 0);
  b->reset();
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(b->wait(0.02), broken_barrier);  // Python's signature
  CHECK(elapsed_s(t0) >= 0.02);
}

ROLE_TEST_CASE("Barrier backends: n_waiting counts the current round", "[barrier][backends][process]",
                   Barrier) {
  using Bar = typename TestType::Barrier;
  Shared<Bar> b(3u);
  CHECK(b->n_waiting() == 0);
  const pid_t a = spawn_child([&] { return waits(*b, 10s); });
  REQUIRE(eventually([&] { return b->n_waiting() == 1; }));
  const pid_t c = spawn_child([&] { return waits(*b, 10s); });
  REQUIRE(eventually([&] { return b->n_waiting() == 2; }));
  CHECK(waits(*b, 10s) == 0);
  CHECK(join(a) == 0);
  CHECK(join(c) == 0);
  CHECK(b->n_waiting() == 0);
  CHECK(b->generation() == 1);
}

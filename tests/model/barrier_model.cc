// barrier_model.cc — Barrier (barrier.hpp, barrier.cc; parking.hpp) under the C++ memory model.
//   phases never mix: every party writes its slot of round r before wait(), and after wait()
//     reads every party's slot of round r (a data race or a wrong value if a party got through
//     early, or if round r+1's writes overtook round r's reads);
//   no lost wake-up: the last arrival releases everyone (deadlock otherwise);
//   exactly one party per round gets index 0 (Python's wait() return value).
// The suite "barrier_abort" (abort() and reset(), whose waiters leave by throwing broken_barrier;
// each catch block is empty, so no exception is in flight across a Relacy context switch):
//   abort() at any moment: every party of the round leaves, and all with the same outcome —
//     completed when the round closed before the abort, broken otherwise — and the barrier is
//     broken afterwards (no lost wake-up: deadlock otherwise);
//   reset() with every other party parked: they all leave with broken_barrier, and the barrier
//     is empty, unbroken and one generation on.
#include "ipcsync/barrier.hpp"
#include "model.hpp"

namespace {
using namespace ipcsync;

template <int N, int Rounds>
struct BarrierPhases : rl::test_suite<BarrierPhases<N, Rounds>, N> {
  Barrier barrier{N};
  rl::var<int> slot[Rounds][N];
  rl::var<int> zeros[Rounds];
  void before() {
    for (int r = 0; r < Rounds; ++r) {
      zeros[r]($) = 0;
      for (int i = 0; i < N; ++i) slot[r][i]($) = 0;
    }
  }
  void thread(unsigned i) {
    for (int r = 0; r < Rounds; ++r) {
      slot[r][i]($) = r + 1;
      const uint32_t index = barrier.wait();
      for (int j = 0; j < N; ++j) RL_ASSERT(slot[r][j]($) == r + 1);
      if (index == 0) zeros[r]($) = 1;
    }
  }
  void after() {
    for (int r = 0; r < Rounds; ++r) RL_ASSERT(zeros[r]($) == 1);
  }
};

// One wait(): 1 if it completed, 2 if it left with broken_barrier (caught in an empty handler, so
// no exception is in flight across a Relacy context switch).
int wait_outcome(Barrier& barrier) {
  try {
    barrier.wait();
    return 1;
  } catch (const broken_barrier&) {
  }
  return 2;
}

// Waiters parties of Barrier(Waiters), and one more thread that calls abort() once.
template <int Waiters>
struct BarrierAbort : rl::test_suite<BarrierAbort<Waiters>, Waiters + 1> {
  Barrier barrier{Waiters};
  rl::var<int> outcome[Waiters];  // 1 completed, 2 broken
  void before() {
    for (auto& o : outcome) o($) = 0;
  }
  void thread(unsigned i) {
    if (i == Waiters) {
      barrier.abort();
      return;
    }
    outcome[i]($) = wait_outcome(barrier);
  }
  void after() {
    for (int i = 0; i < Waiters; ++i) RL_ASSERT(outcome[i]($) != 0 && outcome[i]($) == outcome[0]($));
    RL_ASSERT(barrier.broken());
  }
};

// Waiters parties arrive at Barrier(Waiters + 1); the last party never arrives: it waits until
// they are all in, then reset()s.
template <int Waiters>
struct BarrierReset : rl::test_suite<BarrierReset<Waiters>, Waiters + 1> {
  Barrier barrier{Waiters + 1};
  rl::var<int> outcome[Waiters];  // 1 completed, 2 broken
  void before() {
    for (auto& o : outcome) o($) = 0;
  }
  void thread(unsigned i) {
    if (i == Waiters) {
      while (barrier.n_waiting() < Waiters) model::pause();
      barrier.reset();
      return;
    }
    outcome[i]($) = wait_outcome(barrier);
  }
  void after() {
    for (int i = 0; i < Waiters; ++i) RL_ASSERT(outcome[i]($) == 2);
    RL_ASSERT(!barrier.broken() && barrier.n_waiting() == 0 && barrier.generation() == 1);
  }
};

IPCSYNC_MODEL_SUITE("barrier_abort", model::simulate<BarrierAbort<2>, BarrierReset<2>, BarrierAbort<1>>, 50000, 2,
                    {detail::mutant::barrier_break_no_wake, detail::mutant::barrier_reset_keeps_outcome,
                     detail::mutant::parking_waiter_no_fence},
                    100000, model::simulate<BarrierAbort<2>>)

IPCSYNC_MODEL_SUITE("barrier", model::simulate<BarrierPhases<2, 2>, BarrierPhases<3, 2>>, 50000, 2,
                    {detail::mutant::barrier_no_wake, detail::mutant::parking_waiter_no_fence}, 100000,
                    model::simulate<BarrierPhases<2, 2>>)
}  // namespace

// barrier_model.cc — Barrier (barrier.hpp, barrier.cc; parking.hpp) under the C++ memory model.
//   phases never mix: every party writes its slot of round r before wait(), and after wait()
//     reads every party's slot of round r (a data race or a wrong value if a party got through
//     early, or if round r+1's writes overtook round r's reads);
//   no lost wake-up: the last arrival releases everyone (deadlock otherwise);
//   exactly one party per round gets index 0 (Python's wait() return value).
// Not modelled: abort() and reset(), whose waiters leave by throwing broken_barrier (exceptions
// do not mix with Relacy's fibers and allocator here); tests/barrier_*_test.cc cover them.
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

IPCSYNC_MODEL_SUITE("barrier", model::simulate<BarrierPhases<2, 2>, BarrierPhases<3, 2>>, 50000, 2,
                    {detail::mutant::barrier_no_wake, detail::mutant::parking_waiter_no_fence}, 100000,
                    model::simulate<BarrierPhases<2, 2>>)
}  // namespace

// rlock_model.cc — RLock (rlock.hpp, rlock.cc; parking.hpp) under the C++ memory model.
//   mutual exclusion across threads, re-entry by the owner (depth counted, released only by the
//   last release()), no lost wake-up of a parked contender (deadlock otherwise).
#include "ipcsync/rlock.hpp"
#include "model.hpp"

namespace {
using namespace ipcsync;

template <int N, int Rounds>
struct RLockMutex : rl::test_suite<RLockMutex<N, Rounds>, N> {
  RLock lock;
  rl::var<int> data;
  void before() { data($) = 0; }
  void thread(unsigned) {
    for (int r = 0; r < Rounds; ++r) {
      lock.acquire();
      lock.acquire();  // re-entry
      data($) = data($) + 1;
      lock.release();
      RL_ASSERT(lock.is_owned());  // still held at depth 1
      data($) = data($) + 1;
      lock.release();
    }
  }
  void after() { RL_ASSERT(data($) == 2 * N * Rounds); }
};

IPCSYNC_MODEL_SUITE("rlock", model::simulate<RLockMutex<2, 2>, RLockMutex<3, 2>>, 50000, 1,
                    {detail::mutant::rlock_acquire_relaxed, detail::mutant::rlock_take_weak_cas, detail::mutant::parking_no_recheck_after_awake,
                     detail::mutant::lock_plain_release_no_membarrier},
                    200000, model::simulate<RLockMutex<2, 1>, RLockMutex<3, 1>>)
}  // namespace

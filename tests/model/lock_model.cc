// lock_model.cc — Lock (lock.hpp, lock.cc) under the C++ memory model.
//   mutual exclusion: every critical section updates an rl::var, so two holders at once (or a
//     holder that does not see the previous one's writes) is a data race Relacy reports;
//   no lost wake-up: park slices never time out in the model, so a waiter left asleep while
//     the lock is free is a deadlock Relacy reports.
#include "ipcsync/lock.hpp"
#include "model.hpp"

namespace {
using namespace ipcsync;

// N threads, `Rounds` critical sections each: with 3 threads a contender parks while another
// spins (only one spins), and releases find waiters announced, parked or on their way.
template <int N, int Rounds>
struct LockMutex : rl::test_suite<LockMutex<N, Rounds>, N> {
  Lock lock;
  rl::var<int> data;
  void before() { data($) = 0; }
  void thread(unsigned) {
    for (int i = 0; i < Rounds; ++i) {
      lock.acquire();
      data($) = data($) + 1;
      lock.release();
    }
  }
  void after() {
    RL_ASSERT(data($) == N * Rounds);
    RL_ASSERT(!lock.locked());
  }
};

IPCSYNC_MODEL_SUITE("lock", model::simulate<LockMutex<2, 2>, LockMutex<3, 2>>, 100000, 1,
                    {detail::mutant::lock_acquire_relaxed, detail::mutant::lock_no_recheck_after_awake, detail::mutant::lock_waker_no_retry,
                     detail::mutant::lock_plain_release_no_membarrier},
                    200000, model::simulate<LockMutex<2, 2>, LockMutex<3, 1>>)
}  // namespace

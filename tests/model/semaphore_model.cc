// semaphore_model.cc — Semaphore and BoundedSemaphore (semaphore.hpp, semaphore.cc,
// bounded_semaphore.hpp) under the C++ memory model.
//   no permit lost: every acquire() of a released permit returns (a waiter left asleep while a
//     permit is available is a deadlock); none invented: the final count is exact, and a mutex
//     made of Semaphore(1) keeps its critical sections apart (rl::var data races);
//   visibility: what a releaser wrote before release() is visible to the acquirer of its permit;
//   the bound: a BoundedSemaphore's count never exceeds its bound.
#include "ipcsync/bounded_semaphore.hpp"
#include "ipcsync/semaphore.hpp"
#include "model.hpp"

namespace {
using namespace ipcsync;

// One releaser hands a permit each to two waiters, one release at a time: the second release
// finds the first waiter awake (or holding the wake flag) and relies on the pass-on.
struct SemaphoreHandoff : rl::test_suite<SemaphoreHandoff, 3> {
  Semaphore sem{0};
  rl::var<int> payload;
  void before() { payload($) = 0; }
  void thread(unsigned i) {
    if (i == 0) {
      payload($) = 42;
      sem.release();
      sem.release();
    } else {
      sem.acquire();
      RL_ASSERT(payload($) == 42);
    }
  }
  void after() { RL_ASSERT(sem.value() == 0); }
};

// The same with one waiter taking both permits: small enough for the context-bound search.
struct SemaphoreHandoff2 : rl::test_suite<SemaphoreHandoff2, 2> {
  Semaphore sem{0};
  rl::var<int> payload;
  void before() { payload($) = 0; }
  void thread(unsigned i) {
    if (i == 0) {
      payload($) = 42;
      sem.release();
      sem.release();
    } else {
      sem.acquire();
      RL_ASSERT(payload($) == 42);
      sem.acquire();
    }
  }
  void after() { RL_ASSERT(sem.value() == 0); }
};

// Semaphore(1) as a mutex, three threads, two critical sections each.
struct SemaphoreMutex : rl::test_suite<SemaphoreMutex, 3> {
  Semaphore sem{1};
  rl::var<int> data;
  void before() { data($) = 0; }
  void thread(unsigned) {
    for (int i = 0; i < 2; ++i) {
      sem.acquire();
      data($) = data($) + 1;
      sem.release();
    }
  }
  void after() {
    RL_ASSERT(data($) == 6);
    RL_ASSERT(sem.value() == 1);
  }
};

// BoundedSemaphore(2) (as in Python, the initial value is the bound): three threads take a
// permit, check the count never passes the bound, and give it back through release_bounded()'s
// CAS. (Over-release throws; exceptions are not modelled: Relacy's fibers and its allocator do
// not mix with the exception's heap-allocated message. tests/bounded_semaphore_test.cc has it.)
struct BoundedSemaphoreBound : rl::test_suite<BoundedSemaphoreBound, 3> {
  BoundedSemaphore sem{2};
  rl::var<int> data;
  void before() { data($) = 0; }
  void thread(unsigned) {
    sem.acquire();
    RL_ASSERT(sem.value() <= 1);
    sem.release();
    RL_ASSERT(sem.value() <= 2);
  }
  void after() { RL_ASSERT(sem.value() == 2); }
};

IPCSYNC_MODEL_SUITE("semaphore", model::simulate<SemaphoreHandoff, SemaphoreMutex, BoundedSemaphoreBound>, 100000, 3,
                    {detail::mutant::semaphore_release_relaxed, detail::mutant::semaphore_no_pass_on,
                     detail::mutant::semaphore_waker_no_retry},
                    100000, model::simulate<SemaphoreHandoff2>)
}  // namespace

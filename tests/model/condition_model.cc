// condition_model.cc — Condition<Lock> (condition.hpp: tickets, frontier, tokens; parking.hpp)
// under the C++ memory model.
//   no missed waiter: a waiter registered before notify() is woken by it (else: deadlock or the
//     notifier's wait for it never ends, which Relacy reports);
//   at most n: notify(1) lets at most one waiter return, until the next notify;
//   no stolen wake-up: a waiter that registers after a notify() cannot consume its token.
#include "ipcsync/condition.hpp"
#include "model.hpp"

namespace {
using namespace ipcsync;
using Cond = Condition<Lock>;

// Locks c, and returns (holding it) once ready() is true; spins politely otherwise.
template <class Ready>
void lock_when(Cond& c, Ready ready) {
  for (;;) {
    c.acquire();
    if (ready()) return;
    c.release();
    model::pause();
  }
}

// Two waiters registered before notify(1): exactly one returns, then a second notify(1) the other.
struct ConditionNotifyOne : rl::test_suite<ConditionNotifyOne, 3> {
  Cond cond;
  rl::var<int> registered, returned;
  void before() {
    registered($) = 0;
    returned($) = 0;
  }
  void thread(unsigned i) {
    if (i == 0) {
      lock_when(cond, [&] { return registered($) == 2; });
      cond.notify(1);
      cond.release();
      lock_when(cond, [&] { return returned($) >= 1; });
      RL_ASSERT(returned($) == 1);  // notify(1) woke at most one
      cond.notify(1);
      cond.release();
    } else {
      cond.acquire();
      registered($) = registered($) + 1;
      cond.wait();
      returned($) = returned($) + 1;
      cond.release();
    }
  }
  void after() { RL_ASSERT(returned($) == 2); }
};

// W1 registers; notify(1); only then W2 registers: the token is W1's (W2 came after the notify).
struct ConditionNoSteal : rl::test_suite<ConditionNoSteal, 3> {
  Cond cond;
  rl::var<int> registered, notified, returned, first;
  void before() {
    registered($) = 0;
    notified($) = 0;
    returned($) = 0;
    first($) = 0;
  }
  void thread(unsigned i) {
    if (i == 0) {
      lock_when(cond, [&] { return registered($) == 1; });
      cond.notify(1);
      notified($) = 1;
      cond.release();
      lock_when(cond, [&] { return registered($) == 2 && returned($) >= 1; });
      cond.notify(1);
      cond.release();
    } else {
      if (i == 1)
        cond.acquire();
      else
        lock_when(cond, [&] { return notified($) == 1; });
      registered($) = registered($) + 1;
      cond.wait();
      if (returned($) == 0) first($) = static_cast<int>(i);
      returned($) = returned($) + 1;
      cond.release();
    }
  }
  void after() {
    RL_ASSERT(returned($) == 2);
    RL_ASSERT(first($) == 1);
  }
};

// One waiter, one notifier: the smallest state space, for the context-bound search.
struct ConditionPair : rl::test_suite<ConditionPair, 2> {
  Cond cond;
  rl::var<int> flag;
  void before() { flag($) = 0; }
  void thread(unsigned i) {
    cond.acquire();
    if (i == 0) {
      flag($) = 1;
      cond.notify(1);
    } else {
      while (flag($) == 0) cond.wait();
    }
    cond.release();
  }
};

IPCSYNC_MODEL_SUITE("condition", model::simulate<ConditionNotifyOne, ConditionNoSteal, ConditionPair>, 50000, 3,
                    {detail::mutant::condition_notify_grants_all, detail::mutant::condition_no_frontier},
                    100000, model::simulate<ConditionPair>)
}  // namespace

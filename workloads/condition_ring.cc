// workloads/condition_ring.cc — a token passed around N processes with Conditions (the guide's
// "wait until it is my turn": `while not my_turn: cond.wait()`).
//
// One Lock and N Conditions bound to it (Condition(lock): the link is a self-relative offset;
// both live in the shared region). Worker i, holding the lock, waits on cond[i] until the turn
// counter says i, records the wake-up latency (the passer's notify() to running) in its
// `wakeup` histogram, advances the turn and notifies cond[i+1]: one op, whose latency is the
// time from waiting to holding the token. The token holder that sees the stop phase (or its
// last --ops) raises a stop flag and notifies every Condition, releasing everyone. Verify: the
// pass counter equals the ops done, every pass found the turn it expected, and no worker took
// more than one turn more than another (a ring is fair by construction).
#include <type_traits>
#include <algorithm>
#include <atomic>
#include <mutex>
#include <new>

#include "harness/backends.hpp"
#include "harness/workload.hpp"

// Its own namespace, so that the workloads can be compiled together (a unity build, CMakeLists.txt).
namespace ipcsync::harness::wl_condition_ring {
namespace {


template <class L, class C>
struct Shared {
  Shared() {
    for (C& c : cond) ::new (&c) C(lock);  // rebind each (trivially destructible) Condition
  }
  L lock;
  alignas(64) uint64_t passes = 0;  // all four under the lock
  uint64_t t_notify = 0;
  uint32_t stop = 0;
  uint64_t errors = 0;
  C cond[kMaxWorkers];
  static_assert(std::extent_v<decltype(cond)> >= static_cast<std::size_t>(kMaxWorkers),
                "a slot per worker: --procs goes up to kMaxWorkers (harness/workload.hpp)");
};

template <class L, class C>
Instance make_condition_ring() {
  using S = Shared<L, C>;
  static_assert(std::is_trivially_destructible_v<C>);
  auto body = [](S* s, WorkerEnv& env) {
    const int n = env.nprocs, me = env.index;
    const uint64_t limit = env.cfg->ops_per_worker;
    Window& win = env.window;
    bool skip = env.cfg->fault == "skip_turn" && me == 0;  // test-only: worker 0 passes twice, once
    std::unique_lock g(s->lock);
    for (;;) {
      const uint64_t t0 = Clock::ticks();
      while (s->passes % static_cast<uint64_t>(n) != static_cast<uint64_t>(me) && !s->stop) s->cond[me].wait();
      if (s->stop) break;
      const uint64_t t1 = Clock::ticks();
      const bool measuring = win.enter(*env.ctl);
      if (limit ? (measuring && win.ops() >= limit)
                : env.ctl->phase.load(std::memory_order_relaxed) == Control::kStop) {
        s->stop = 1;
        for (int i = 0; i < n; ++i) s->cond[i].notify_all();
        break;
      }
      win.count(measuring);
      if (measuring) {
        if (n > 1 && s->passes >= static_cast<uint64_t>(n)) win.wakeup(s->t_notify, t1);
        if (win.sample()) win.latency(t0, t1);
      }
      if (s->passes % static_cast<uint64_t>(n) != static_cast<uint64_t>(me)) ++s->errors;
      ++s->passes;
      if (skip && n > 1) {  // the fault: the next worker's turn is skipped (not counted as an op)
        skip = false;
        ++s->passes;
      }
      s->t_notify = Clock::ticks();
      s->cond[s->passes % static_cast<uint64_t>(n)].notify();
    }
    g.unlock();
  };
  auto verify = [](S* s, const RunConfig&, const Totals& t) {
    const uint64_t total = t.warm_ops + t.ops;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (uint64_t w : t.per_worker_ops) {
      lo = std::min(lo, w);
      hi = std::max(hi, w);
    }
    VerifyResult r;
    r.ok = s->passes == total && s->errors == 0 && hi - lo <= 1 && !s->lock.locked();
    r.detail = "passes=" + std::to_string(s->passes) + " expected=" + std::to_string(total) +
               " turn_errors=" + std::to_string(s->errors) + " spread=" + std::to_string(hi - lo);
    return r;
  };
  return instance_of<S>(body, verify);
}

// The roles it drives, declared once (WorkloadDef::primitives and the factory's dispatch).
using DrivenRoles = WorkloadRoles<roles::Condition>;

std::optional<Instance> make(const std::string& primitive, const std::string& backend) {
  return DrivenRoles::make(primitive, backend, []<class R, class B>() {
    return make_condition_ring<typename B::Lock, roles::type_of<R, B>>();
  });
}

// Built field by field, so fields WorkloadDef gains later keep their defaults.
IPCSYNC_WORKLOAD([] {
  WorkloadDef d;
  d.name = "condition_ring";
  d.description = "N processes pass a token around a ring, each waiting on its own Condition for its turn";
  d.primitives = DrivenRoles::names();
  d.default_for = {"condition"};
  d.params = {};
  d.python_primitives = {"condition"};
  d.faults = {"skip_turn"};
  d.make = make;
  return d;
}());

}  // namespace
}  // namespace ipcsync::harness::wl_condition_ring

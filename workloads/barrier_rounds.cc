// workloads/barrier_rounds.cc — the guide's phased work on a Barrier: N processes, rounds of
// --work-ns of jittered work, then Barrier::wait(). phased_barrier.cc runs the same protocol
// on barriers built from Condition and Event too; this one stays the barrier default because
// scripts/mp_backend.py implements it (the python baseline).
//
// Before arriving at round r each worker records that it finished phase r. After the barrier
// it checks the phase invariant — every worker has finished phase r, and none has finished
// phase r+2 (nobody entered phase r+2, or could have) — and marks its arrival index in a
// per-round bitmap; the worker whose mark completes the round checks the indexes are a
// permutation of 0..N-1. The last arrival runs the action passed to wait(), which counts
// actions and stamps the release time; the others record wake-up latency (release to
// running) in their `wakeup` histogram; the op latency is the time spent in wait(). Worker 0
// classifies each round (warm-up, measured, stop) before it arrives, so everyone does the
// same rounds and stops after the same barrier. Verify: no invariant or permutation error,
// one action per round, the barrier not broken, and every worker did the same rounds.
#include <type_traits>
#include <atomic>
#include <new>

#include "harness/backends.hpp"
#include "harness/workload.hpp"
#include "workloads/barrier_checks.hpp"

// Its own namespace, so that the workloads can be compiled together (a unity build, CMakeLists.txt).
namespace ipcsync::harness::wl_barrier_rounds {
namespace {

using namespace barrier_checks;

template <class Bar>
struct Shared {
  explicit Shared(const RunConfig& c) : barrier(static_cast<uint32_t>(c.procs)) {}
  Bar barrier;
  alignas(64) std::atomic<uint64_t> t_release{0};  // the round's release (ticks), by its action
  std::atomic<uint64_t> actions{0};
  Checks checks;
};

template <class Bar>
Instance make_barrier_rounds() {
  using S = Shared<Bar>;
  auto body = [](S* s, WorkerEnv& env) {
    const int n = env.nprocs, me = env.index;
    const uint64_t work = static_cast<uint64_t>(env.cfg->param("work_ns"));
    const uint64_t limit = env.cfg->ops_per_worker;
    Window& win = env.window;
    Checks& ck = s->checks;
    Jitter jitter(me);
    const bool misreport = env.cfg->fault == "wrong_index" && me == 0;  // test-only
    for (uint64_t r = 0;; ++r) {
      jitter.work(work);
      ck.finished(me, r);
      if (me == 0) ck.classify(r, *env.ctl, limit, win.ops());
      const uint64_t t0 = Clock::ticks();
      uint32_t idx = s->barrier.wait([&] {
        s->actions.fetch_add(1, std::memory_order_relaxed);
        s->t_release.store(Clock::ticks(), std::memory_order_relaxed);
      });
      if (misreport && r == 3) idx = idx == 0 ? 1 : 0;  // the fault: a duplicated arrival index
      const uint64_t t1 = Clock::ticks();
      ck.check_phase(n, r);
      ck.mark(n, r, idx);
      const uint32_t k = ck.kind_of(r);
      if (k == kStop) break;
      win.count(k == kMeasured);
      if (k != kMeasured) continue;
      if (idx + 1 != static_cast<uint32_t>(n)) win.wakeup(s->t_release.load(std::memory_order_relaxed), t1);
      if (win.sample()) win.latency(t0, t1);
    }
  };
  auto verify = [](S* s, const RunConfig&, const Totals& t) {
    const Checks& ck = s->checks;
    const bool equal = equal_rounds(t);
    const uint64_t rounds = ck.rounds.load(), actions = s->actions.load();
    VerifyResult r;
    r.ok = equal && ck.phase_errors.load() == 0 && ck.index_errors.load() == 0 && actions == rounds &&
           !s->barrier.broken();
    r.detail = "rounds=" + std::to_string(rounds) + " actions=" + std::to_string(actions) +
               " phase_errors=" + std::to_string(ck.phase_errors.load()) +
               " index_errors=" + std::to_string(ck.index_errors.load()) + (equal ? "" : " UNEQUAL_ROUNDS") +
               (s->barrier.broken() ? " BROKEN" : "");
    return r;
  };
  return instance_of<S>(body, verify);
}

// The roles it drives, declared once (WorkloadDef::primitives and the factory's dispatch).
using DrivenRoles = WorkloadRoles<roles::Barrier>;

std::optional<Instance> make(const std::string& primitive, const std::string& backend) {
  return DrivenRoles::make(primitive, backend, []<class R, class B>() {
    return make_barrier_rounds<roles::type_of<R, B>>();
  });
}

// Built field by field, so fields WorkloadDef gains later keep their defaults.
IPCSYNC_WORKLOAD([] {
  WorkloadDef d;
  d.name = "barrier_rounds";
  d.description = "N processes do jittered work then meet at a Barrier, round after round (phase invariant checked)";
  d.primitives = DrivenRoles::names();
  d.default_for = {"barrier"};
  d.params = {{"work_ns", "mean busy work per process per round (ns), jittered 50%..150%", 0, 0, 1'000'000'000}};
  d.python_primitives = {"barrier"};
  d.faults = {"wrong_index"};
  d.make = make;
  return d;
}());

}  // namespace
}  // namespace ipcsync::harness::wl_barrier_rounds

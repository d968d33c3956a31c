// workloads/phased_barrier.cc — N processes x --phases of jittered work, separated by a barrier
// built three ways (DESIGN.md's phased_barrier; the guide's "Barrera Reutilizable con
// Condition" exercise is the second).
//
//   primitive | the barrier
//   ----------+-------------------------------------------------------------------------------
//   barrier   | the role's Barrier; wait(action) runs the action in the last arrival
//   condition | one Lock, one Condition, a count and a generation: arrive under the lock
//             | (index = count++), the last one runs the action, bumps the generation and
//             | notify_all()s; the others wait while the generation is theirs
//   event     | one Lock, an arrival count and generation, two alternating Events: the last
//             | arrival clears the next generation's Event (everyone has left its previous use:
//             | they all arrived here), releases the lock and set()s this generation's
//
// Each worker does --work-ns of work jittered 50%..150% (a per-worker xorshift), writes the
// phase it finished into its own slot, and arrives. Worker 0 classifies each round (warm-up,
// measured, stop) before it arrives, so everyone does the same rounds and stops after the same
// barrier; --phases K stops after K measured rounds (0: at the end of --duration, or --ops).
// After the barrier each worker checks the phase invariant — every worker finished phase r and
// none finished phase r+2 (all slots sampled above 64 workers) — and marks its arrival index in
// a per-round bitmap; the mark completing the round checks the indexes are a permutation of
// 0..N-1. The action stamps the last arrival's time: each other worker records the skew (last
// arrival to it running again) in `wakeup`; `latency` is the round time (one release to the
// next, as each worker sees it: work plus waiting). Verify: no phase or permutation error,
// every round's bitmap completed, one action per round, every worker did the same rounds, the
// barrier not broken.
#include <type_traits>
#include <atomic>
#include <mutex>
#include <new>

#include "harness/backends.hpp"
#include "harness/workload.hpp"
#include "workloads/barrier_checks.hpp"

// Its own namespace, so that the workloads can be compiled together (a unity build, CMakeLists.txt).
namespace ipcsync::harness::wl_phased_barrier {
namespace {

using namespace barrier_checks;
constexpr int kSkipEvery = 8;  // skip_wait fault: worker 0 skips one wait in this many rounds

// The role's Barrier.
template <class Bar>
struct RoleBarrier {
  explicit RoleBarrier(uint32_t n) : bar(n) {}
  Bar bar;
  template <class F>
  uint32_t wait(F&& action) {
    return bar.wait(action);
  }
  bool broken() const {
    if constexpr (requires { bar.broken(); })
      return bar.broken();
    else
      return false;
  }
};

// The guide's exercise: a reusable barrier from a Condition and a generation counter.
template <class L, class C>
struct ConditionBarrier {
  explicit ConditionBarrier(uint32_t n) : n_(n) {}
  template <class F>
  uint32_t wait(F&& action) {
    std::unique_lock g(lock_);
    const uint64_t gen = generation_;
    const uint32_t idx = count_++;
    if (count_ == n_) {
      action();
      count_ = 0;
      ++generation_;
      cond_.notify_all();
      return idx;
    }
    while (generation_ == gen) cond_.wait();
    return idx;
  }
  bool broken() const { return false; }

  L lock_;
  C cond_{lock_};
  alignas(64) uint64_t generation_ = 0;  // both under lock_
  uint32_t count_ = 0;
  const uint32_t n_;
};

// An arrival count under a Lock plus two alternating Events.
template <class L, class E>
struct EventBarrier {
  explicit EventBarrier(uint32_t n) : n_(n) {}
  template <class F>
  uint32_t wait(F&& action) {
    lock_.lock();
    const uint64_t gen = generation_;
    const uint32_t idx = count_++;
    if (count_ == n_) {
      action();
      count_ = 0;
      ++generation_;
      released_[(gen + 1) & 1].clear();  // set two generations ago; all its waiters are here now
      lock_.unlock();
      released_[gen & 1].set();
      return idx;
    }
    lock_.unlock();
    released_[gen & 1].wait();
    return idx;
  }
  bool broken() const { return false; }

  L lock_;
  E released_[2];
  alignas(64) uint64_t generation_ = 0;  // both under lock_
  uint32_t count_ = 0;
  const uint32_t n_;
};

template <class Bar>
struct Shared {
  explicit Shared(const RunConfig& c) : barrier(static_cast<uint32_t>(c.procs)) {}
  Bar barrier;
  alignas(64) std::atomic<uint64_t> t_last[2] = {};  // round r's last arrival (ticks), by its action
  std::atomic<uint64_t> actions{0};
  Checks checks;
};

template <class Bar>
Instance make_phased_barrier() {
  using S = Shared<Bar>;
  auto body = [](S* s, WorkerEnv& env) {
    const int n = env.nprocs, me = env.index;
    const uint64_t work = static_cast<uint64_t>(env.cfg->param("work_ns"));
    const uint64_t phases = static_cast<uint64_t>(env.cfg->param("phases"));
    const uint64_t limit = phases ? phases : env.cfg->ops_per_worker;
    // test-only: worker 0 skips one wait in kSkipEvery (never the stop round) and makes it up
    // at the next round, so the barrier's count stays right but it ran a phase ahead.
    const bool skipper = env.cfg->fault == "skip_wait" && me == 0 && n > 1;
    Window& win = env.window;
    Checks& ck = s->checks;
    Jitter jitter(me);
    uint64_t t_prev = 0;
    bool owe = false;  // skip_wait: the previous round's wait is still to be done
    bool last = false;
    auto wait = [&](uint64_t round) {
      const int par = static_cast<int>(round & 1);
      last = false;
      return s->barrier.wait([&, par] {
        s->actions.fetch_add(1, std::memory_order_relaxed);
        s->t_last[par].store(Clock::ticks(), std::memory_order_relaxed);
        last = true;
      });
    };
    for (uint64_t r = 0;; ++r) {
      const int par = static_cast<int>(r & 1);
      jitter.work(work);
      ck.finished(me, r);
      if (owe) {  // skip_wait: the wait of round r-1, late
        owe = false;
        ck.mark(n, r - 1, wait(r - 1));
      }
      uint32_t kind = kMeasured;
      if (me == 0) kind = ck.classify(r, *env.ctl, limit, win.ops());
      const bool skip = skipper && kind != kStop && r % kSkipEvery == kSkipEvery - 1;
      uint32_t idx = 0;
      if (skip) owe = true;  // the fault: on to phase r+1 without waiting for the others
      else idx = wait(r);
      const uint64_t t1 = Clock::ticks();
      ck.check_phase(n, r);
      if (!skip) ck.mark(n, r, idx);
      kind = ck.kind_of(r);
      if (kind == kStop) break;
      win.count(kind == kMeasured);
      if (kind == kMeasured) {
        if (!last && !skip) win.wakeup(s->t_last[par].load(std::memory_order_relaxed), t1);
        if (t_prev && win.sample()) win.latency(t_prev, t1);
      }
      t_prev = t1;
    }
  };
  auto verify = [](S* s, const RunConfig&, const Totals& t) {
    const Checks& ck = s->checks;
    const bool equal = equal_rounds(t);
    const uint64_t rounds = ck.rounds.load(), actions = s->actions.load();
    const bool open = ck.round_open();
    const bool broken = s->barrier.broken();
    VerifyResult r;
    r.ok = equal && ck.phase_errors.load() == 0 && ck.index_errors.load() == 0 && !open && actions == rounds && !broken;
    r.detail = "rounds=" + std::to_string(rounds) + " actions=" + std::to_string(actions) +
               " phase_errors=" + std::to_string(ck.phase_errors.load()) +
               " index_errors=" + std::to_string(ck.index_errors.load()) + (equal ? "" : " UNEQUAL_ROUNDS") +
               (open ? " UNFINISHED_ROUND" : "") + (broken ? " BROKEN" : "");
    return r;
  };
  return instance_of<S>(body, verify);
}

// The roles it drives, declared once (WorkloadDef::primitives and the factory's dispatch).
using DrivenRoles = WorkloadRoles<roles::Barrier, roles::Condition, roles::Event>;

std::optional<Instance> make(const std::string& primitive, const std::string& backend) {
  return DrivenRoles::make(primitive, backend, []<class R, class B>() {
    if constexpr (std::is_same_v<R, roles::Barrier>)
      return make_phased_barrier<RoleBarrier<typename B::Barrier>>();
    else if constexpr (std::is_same_v<R, roles::Condition>)
      return make_phased_barrier<ConditionBarrier<typename B::Lock, typename B::Condition>>();
    else
      return make_phased_barrier<EventBarrier<typename B::Lock, typename B::Event>>();
  });
}

IPCSYNC_WORKLOAD(WorkloadDef{
    .name = "phased_barrier",
    .description = "N processes work in phases separated by a barrier (Barrier, or built from Condition or Event); phase invariant, round time and skew",
    .primitives = DrivenRoles::names(),
    .default_for = {},
    .params = {{"phases", "measured phases to run, then stop (0: until --duration ends)", 0, 0, 1'000'000'000},
               {"work_ns", "mean busy work per process per phase (ns), jittered 50%..150%", 1000, 0, 1'000'000'000}},
    .python_primitives = {},
    .faults = {"skip_wait"},
    .make = make,
    .validate = {},
    .default_sample_every = 1,
});

}  // namespace
}  // namespace ipcsync::harness::wl_phased_barrier

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

namespace ipcsync::harness {
namespace {

static_assert(kMaxWorkers % 64 == 0, "the phase masks hold kMaxWorkers bits in whole words");
constexpr int kMaskWords = kMaxWorkers / 64;
enum : uint32_t { kWarm = 0, kMeasured = 1, kStop = 2 };

template <class Bar>
struct Shared {
  explicit Shared(uint32_t n) : barrier(n) {}
  Bar barrier;
  alignas(64) std::atomic<uint32_t> kind[2] = {};  // round r's kind in kind[r % 2]
  std::atomic<uint64_t> t_release{0};
  std::atomic<uint64_t> actions{0};
  std::atomic<uint64_t> rounds{0};
  alignas(64) std::atomic<uint64_t> invariant_errors{0};
  std::atomic<uint64_t> permutation_errors{0};
  alignas(64) std::atomic<uint32_t> marked[2] = {};
  std::atomic<uint64_t> mask[2][kMaskWords] = {};
  struct alignas(64) Done {
    std::atomic<uint64_t> phases{0};  // phases this worker has finished
  };
  Done done[kMaxWorkers];
  static_assert(std::extent_v<decltype(done)> >= static_cast<std::size_t>(kMaxWorkers),
                "a slot per worker: --procs goes up to kMaxWorkers (harness/workload.hpp)");
};

template <class Bar>
Instance make_barrier_rounds() {
  using S = Shared<Bar>;
  Instance in;
  in.shared_bytes = sizeof(S);
  in.init = [](void* p, const RunConfig& cfg) { ::new (p) S(static_cast<uint32_t>(cfg.procs)); };
  in.body = [](void* p, WorkerEnv& env) {
    auto* s = static_cast<S*>(p);
    const int n = env.nprocs, me = env.index;
    const uint64_t work = static_cast<uint64_t>(env.cfg->param("work_ns"));
    const uint64_t limit = env.cfg->ops_per_worker;
    Window& win = env.window;
    uint64_t x = 0x2545f4914f6cdd1dull * static_cast<uint64_t>(me + 1);
    const bool misreport = env.cfg->fault == "wrong_index" && me == 0;  // test-only
    for (uint64_t r = 0;; ++r) {
      const int par = static_cast<int>(r & 1);
      if (work) {  // jittered work: 50%..150% of --work-ns
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        Clock::busy_ns(work / 2 + x % (work + 1));
      }
      s->done[me].phases.store(r + 1, std::memory_order_relaxed);
      if (me == 0) {
        const uint32_t phase = env.ctl->phase.load(std::memory_order_relaxed);
        uint32_t k = phase == Control::kWarmup ? kWarm : kMeasured;
        if (limit ? (k == kMeasured && win.ops() >= limit) : phase == Control::kStop) k = kStop;
        s->kind[par].store(k, std::memory_order_relaxed);
        s->rounds.fetch_add(1, std::memory_order_relaxed);
      }
      const uint64_t t0 = Clock::ticks();
      uint32_t idx = s->barrier.wait([&] {
        s->actions.fetch_add(1, std::memory_order_relaxed);
        s->t_release.store(Clock::ticks(), std::memory_order_relaxed);
      });
      if (misreport && r == 3) idx = idx == 0 ? 1 : 0;  // the fault: a duplicated arrival index
      const uint64_t t1 = Clock::ticks();
      // Phase invariant: all finished phase r, nobody finished phase r+2. Sampled above 64.
      const int checks = n <= 64 ? n : 64;
      for (int c = 0; c < checks; ++c) {
        const int j = n <= 64 ? c : static_cast<int>((static_cast<uint64_t>(c) * 2654435761u + r) % static_cast<uint64_t>(n));
        const uint64_t d = s->done[j].phases.load(std::memory_order_relaxed);
        if (d < r + 1 || d > r + 2) s->invariant_errors.fetch_add(1, std::memory_order_relaxed);
      }
      // Arrival indexes: a permutation of 0..n-1. The mark completing the round checks and clears
      // the bitmap, before it can arrive at round r+1 (so before anyone marks round r+2).
      if (idx >= static_cast<uint32_t>(n)) s->permutation_errors.fetch_add(1, std::memory_order_relaxed);
      else s->mask[par][idx / 64].fetch_or(uint64_t{1} << (idx % 64), std::memory_order_relaxed);
      if (s->marked[par].fetch_add(1, std::memory_order_acq_rel) + 1 == static_cast<uint32_t>(n)) {
        for (int w = 0; w < kMaskWords; ++w) {
          const int lo = w * 64;
          const uint64_t want = lo >= n ? 0 : (n - lo >= 64 ? ~uint64_t{0} : (uint64_t{1} << (n - lo)) - 1);
          if (s->mask[par][w].exchange(0, std::memory_order_relaxed) != want)
            s->permutation_errors.fetch_add(1, std::memory_order_relaxed);
        }
        s->marked[par].store(0, std::memory_order_release);
      }
      const uint32_t k = s->kind[par].load(std::memory_order_relaxed);
      if (k == kStop) break;
      win.count(k == kMeasured);
      if (k != kMeasured) continue;
      if (idx + 1 != static_cast<uint32_t>(n)) win.wakeup(s->t_release.load(std::memory_order_relaxed), t1);
      if (win.sample()) win.latency(t0, t1);
    }
  };
  in.verify = [](void* p, const RunConfig&, const Totals& t) {
    auto* s = static_cast<S*>(p);
    bool equal = true;
    for (uint64_t w : t.per_worker_ops) equal = equal && w == t.per_worker_ops.front();
    const uint64_t rounds = s->rounds.load(), actions = s->actions.load();
    VerifyResult r;
    r.ok = equal && s->invariant_errors.load() == 0 && s->permutation_errors.load() == 0 && actions == rounds &&
           !s->barrier.broken();
    r.detail = "rounds=" + std::to_string(rounds) + " actions=" + std::to_string(actions) +
               " phase_errors=" + std::to_string(s->invariant_errors.load()) +
               " index_errors=" + std::to_string(s->permutation_errors.load()) + (equal ? "" : " UNEQUAL_ROUNDS") +
               (s->barrier.broken() ? " BROKEN" : "");
    return r;
  };
  in.destroy = [](void* p) { static_cast<S*>(p)->~S(); };
  return in;
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
}  // namespace ipcsync::harness

// workloads/array_histogram.cc — the guide's concurrent histogram on an Array.
//
// --bins counters in one shared Array<uint64_t>. Each op draws a bin (a per-worker xorshift
// sequence) and increments it: by default under the Array's get_lock() with a plain
// load/store (--cs-ns of busy work in between), with --atomic 1 by a lock-free element
// fetch_add. Each worker also tallies its own draws per bin, privately, and publishes them when
// it stops. Verify: every bin equals the sum of the workers' tallies for it (so the bins sum to
// the ops done) and the lock ended unlocked.
#include <type_traits>
#include <atomic>
#include <mutex>
#include <new>

#include "harness/backends.hpp"
#include "harness/workload.hpp"

// Its own namespace, so that the workloads can be compiled together (a unity build, CMakeLists.txt).
namespace ipcsync::harness::wl_array_histogram {
namespace {

constexpr std::size_t kMaxBins = 64;

template <class A>
struct Shared {
  A hist;  // Array<uint64_t, kMaxBins>; the first --bins are used
  struct alignas(64) Tally {
    uint64_t bins[kMaxBins];
  };
  Tally tally[kMaxWorkers];
  static_assert(std::extent_v<decltype(tally)> >= static_cast<std::size_t>(kMaxWorkers),
                "a slot per worker: --procs goes up to kMaxWorkers (harness/workload.hpp)");
};

template <class A>
Instance make_array_histogram() {
  using S = Shared<A>;
  auto body = [](S* s, WorkerEnv& env) {
    const uint64_t cs = static_cast<uint64_t>(env.cfg->param("cs_ns"));
    const uint64_t think = static_cast<uint64_t>(env.cfg->param("think_ns"));
    const uint64_t bins = static_cast<uint64_t>(env.cfg->param("bins"));
    const bool atomic = env.cfg->param("atomic") != 0;
    uint64_t mine[kMaxBins] = {};
    uint64_t x = 0x9e3779b97f4a7c15ull * static_cast<uint64_t>(env.index + 1);
    A& h = s->hist;
    const bool lose = env.cfg->fault == "lose_update";  // test-only: drop one increment in 64
    uint32_t k = 0;
    auto draw = [&] {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      return x % bins;
    };
    auto after = [&] { Clock::busy_ns(think); };
    if (atomic) {
      run_ops(env, [&] {
        const uint64_t b = draw();
        ++mine[b];
        Clock::busy_ns(cs);
        if (!lose || (++k & 63) != 0) h.fetch_add(b, 1);
      }, after);
    } else {
      run_ops(env, [&] {
        const uint64_t b = draw();
        ++mine[b];
        std::scoped_lock g(h.get_lock());
        const uint64_t v = h.load(b, std::memory_order_relaxed);
        Clock::busy_ns(cs);
        h.store(b, lose && (++k & 63) == 0 ? v : v + 1, std::memory_order_relaxed);
      }, after);
    }
    for (std::size_t b = 0; b < kMaxBins; ++b) s->tally[env.index].bins[b] = mine[b];
  };
  auto verify = [](S* s, const RunConfig& cfg, const Totals& t) {
    const std::size_t bins = static_cast<std::size_t>(cfg.param("bins"));
    uint64_t sum = 0, bad = 0;
    for (std::size_t b = 0; b < kMaxBins; ++b) {
      uint64_t want = 0;
      for (int w = 0; w < cfg.procs; ++w) want += s->tally[w].bins[b];
      const uint64_t got = s->hist.load(b);
      sum += got;
      if (got != want || (b >= bins && got != 0)) ++bad;
    }
    const uint64_t expect = t.warm_ops + t.ops;
    VerifyResult r;
    r.ok = bad == 0 && sum == expect && !s->hist.get_lock().locked();
    r.detail = "bins_sum=" + std::to_string(sum) + " expected=" + std::to_string(expect) +
               " bad_bins=" + std::to_string(bad);
    return r;
  };
  return instance_of<S>(body, verify);
}

// The roles it drives, declared once (WorkloadDef::primitives and the factory's dispatch).
using DrivenRoles = WorkloadRoles<roles::Array>;

std::optional<Instance> make(const std::string& primitive, const std::string& backend) {
  return DrivenRoles::make(primitive, backend, []<class R, class B>() {
    return make_array_histogram<roles::Array::type<B, uint64_t, kMaxBins>>();
  });
}

// Built field by field, so fields WorkloadDef gains later keep their defaults.
IPCSYNC_WORKLOAD([] {
  WorkloadDef d;
  d.name = "array_histogram";
  d.description = "N processes increment random bins of one shared Array under its get_lock() (bins sum to ops)";
  d.primitives = DrivenRoles::names();
  d.default_for = {"array"};
  d.params = {{"bins", "histogram bins (Array elements)", 16, 1, static_cast<int64_t>(kMaxBins)},
              {"atomic", "1: lock-free fetch_add instead of the lock (Python's lock=False, made safe)", 0, 0, 1},
              {"cs_ns", "busy work inside the critical section (ns)", 0, 0, 1'000'000'000},
              {"think_ns", "busy work outside the critical section (ns)", 0, 0, 1'000'000'000}};
  d.python_primitives = {"array"};
  d.faults = {"lose_update"};
  d.make = make;
  return d;
}());

}  // namespace
}  // namespace ipcsync::harness::wl_array_histogram

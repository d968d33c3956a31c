// workloads/thermometer.cc — the guide's global thermometer ("Termómetro Global con Value"):
// sensors update three shared Values — current, minimum, maximum temperature — and a display
// checks min <= current <= max, always.
//
// Each op is one sensor reading (tenths of a degree, drawn in -40.0..+40.0 from a per-worker
// xorshift) followed by one display check. The sensor raises the maximum if the reading is
// above it (a read-modify-write under the maximum's get_lock(), --cs-ns of work between the
// read and the write), lowers the minimum likewise under its own lock, then stores the reading
// as the current temperature under the current's lock. Bounds only ever widen, and always
// before the reading they cover is published, so a display that reads current, then minimum,
// then maximum (seq_cst loads, no lock) must find min <= current <= max whatever the sensors
// are doing; a violation is counted. Each sensor also keeps its own lowest and highest
// reading. Verify: no violation; the maximum is exactly the highest reading any sensor took
// and the minimum the lowest (0, the initial reading, included); min <= current <= max at
// the end; every lock unlocked.
#include <type_traits>
#include <algorithm>
#include <atomic>
#include <mutex>
#include <new>

#include "harness/backends.hpp"
#include "harness/workload.hpp"

// Its own namespace, so that the workloads can be compiled together (a unity build, CMakeLists.txt).
namespace ipcsync::harness::wl_thermometer {
namespace {

constexpr int64_t kRange = 400;    // readings in -kRange..kRange tenths of a degree
constexpr uint32_t kLoseEvery = 64;  // lose_update fault: one reading in this many

template <class V>
struct Shared {
  V current{0}, lowest{0}, highest{0};
  alignas(64) std::atomic<uint64_t> violations{0};
  struct alignas(64) Seen {
    int64_t lo = 0, hi = 0;  // this sensor's own extremes (0: the initial reading)
  };
  Seen seen[kMaxWorkers];
  static_assert(std::extent_v<decltype(seen)> >= static_cast<std::size_t>(kMaxWorkers),
                "a slot per worker: --procs goes up to kMaxWorkers (harness/workload.hpp)");
};

template <class V>
Instance make_thermometer() {
  using S = Shared<V>;
  auto body = [](S* s, WorkerEnv& env) {
    const uint64_t cs = static_cast<uint64_t>(env.cfg->param("cs_ns"));
    const uint64_t think = static_cast<uint64_t>(env.cfg->param("think_ns"));
    // test-only: one reading in kLoseEvery is a new record high whose maximum update is lost
    // (the read-modify-write writes back the old maximum), as an unlocked race would lose it.
    const bool lose = env.cfg->fault == "lose_update";
    uint64_t x = 0x9e3779b97f4a7c15ull * static_cast<uint64_t>(env.index + 1);
    uint64_t violations = 0;
    uint32_t k = 0;
    int64_t my_lo = 0, my_hi = 0;
    run_ops(env, [&] {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      const bool lost = lose && ++k % kLoseEvery == 0;
      const int64_t t = lost ? kRange + k / kLoseEvery : static_cast<int64_t>(x % (2 * kRange + 1)) - kRange;
      {
        std::scoped_lock g(s->highest.get_lock());
        const int64_t h = s->highest.load(std::memory_order_relaxed);
        Clock::busy_ns(cs);
        if (t > h) s->highest.store(lost ? h : t, std::memory_order_relaxed);
      }
      {
        std::scoped_lock g(s->lowest.get_lock());
        const int64_t l = s->lowest.load(std::memory_order_relaxed);
        Clock::busy_ns(cs);
        if (t < l) s->lowest.store(t, std::memory_order_relaxed);
      }
      {
        std::scoped_lock g(s->current.get_lock());
        s->current.store(t);
      }
      my_lo = std::min(my_lo, t);
      my_hi = std::max(my_hi, t);
      // The display: current first, then the bounds (which only widen).
      const int64_t c = s->current.load(), lo = s->lowest.load(), hi = s->highest.load();
      if (lo > c || c > hi) ++violations;
    }, [&] { Clock::busy_ns(think); });
    s->seen[env.index].lo = my_lo;
    s->seen[env.index].hi = my_hi;
    s->violations.fetch_add(violations, std::memory_order_relaxed);
  };
  auto verify = [](S* s, const RunConfig& cfg, const Totals&) {
    int64_t lo = 0, hi = 0;
    for (int w = 0; w < cfg.procs; ++w) {
      lo = std::min(lo, s->seen[w].lo);
      hi = std::max(hi, s->seen[w].hi);
    }
    const int64_t c = s->current.load(), mn = s->lowest.load(), mx = s->highest.load();
    bool unlocked = true;
    if constexpr (requires { s->current.get_lock().locked(); })
      unlocked = !s->current.get_lock().locked() && !s->lowest.get_lock().locked() && !s->highest.get_lock().locked();
    VerifyResult r;
    r.ok = s->violations.load() == 0 && mn == lo && mx == hi && mn <= c && c <= mx && unlocked;
    r.detail = "violations=" + std::to_string(s->violations.load()) + " min=" + std::to_string(mn) +
               " current=" + std::to_string(c) + " max=" + std::to_string(mx) + " lowest_read=" + std::to_string(lo) +
               " highest_read=" + std::to_string(hi) + (unlocked ? "" : " LEFT_LOCKED");
    return r;
  };
  return instance_of<S>(body, verify);
}

// The roles it drives, declared once (WorkloadDef::primitives and the factory's dispatch).
using DrivenRoles = WorkloadRoles<roles::Value>;

std::optional<Instance> make(const std::string& primitive, const std::string& backend) {
  return DrivenRoles::make(primitive, backend, []<class R, class B>() {
    return make_thermometer<roles::Value::type<B, int64_t>>();
  });
}

IPCSYNC_WORKLOAD(WorkloadDef{
    .name = "thermometer",
    .description = "Sensors update current, min and max temperature Values under their get_lock(); a display checks min <= current <= max",
    .primitives = DrivenRoles::names(),
    .default_for = {},
    .params = {{"cs_ns", "busy work inside the critical section (ns)", 0, 0, 1'000'000'000},
               {"think_ns", "busy work outside the critical section (ns)", 0, 0, 1'000'000'000}},
    .python_primitives = {},
    .faults = {"lose_update"},
    .make = make,
    .validate = {},
    .default_sample_every = 64,
});

}  // namespace
}  // namespace ipcsync::harness::wl_thermometer

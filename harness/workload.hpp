// workload.hpp — what a workload is, and the loop every worker runs.
//
// A workload is one file in workloads/ that registers a WorkloadDef: a name, a one-line
// description, the primitives (roles) it drives, its parameters with defaults, and a factory
// that instantiates it for one (primitive, backend) pair. The instance is a handful of function
// pointers produced from templates, so the measured loop is monomorphic: no virtual call on
// the hot path, and `--backend native,posix,boost,spin` compares implementations in one run.
// A body records what it measured in one way only: through the Window the harness hands it
// (WorkerEnv::window), directly or through run_ops(); the harness closes it and builds the row.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "harness/clock.hpp"
#include "harness/histogram.hpp"

namespace ipcsync::harness {

// kMaxWorkers: the most workers one run may have. It is bench's --procs limit (config.cc) and
// the size of every per-worker array a workload keeps in its shared state; each such array
// static_asserts that it has a slot per worker, so raising this constant resizes them all
// instead of letting a larger --procs write past their end.
inline constexpr int kMaxWorkers = 1024;

// The parameters of one run (one configuration, one repetition).
struct RunConfig {
  std::string workload, primitive, backend;
  std::string mode = "processes";         // or "threads" (workers are threads of bench)
  int procs = 1;
  std::map<std::string, int64_t> params;  // workload parameters (cs_ns, think_ns, ...)
  double duration_s = 2.0;                // measured window; ignored when ops_per_worker > 0
  uint64_t ops_per_worker = 0;            // --ops: fixed work instead of a duration
  double warmup_s = 0.2;
  uint32_t sample_every = 64;              // latency sample every k-th op
  bool unsafe = false;
  std::string python = "/usr/bin/python3";  // interpreter for the python backend
  std::string fault;  // test-only fault injection (--inject-fault); each workload names its own
  // param(): the value of workload parameter `k`. The harness fills every parameter the
  // workload declares (ParamSpec), so an unknown key is a bug (a typo, a parameter not
  // declared): it throws std::out_of_range naming the key instead of measuring with 0, and the
  // run becomes an `error` row.
  int64_t param(const std::string& k) const {
    auto it = params.find(k);
    if (it == params.end())
      throw std::out_of_range("parameter '" + k + "' is not set for workload " + workload +
                              " (not in its ParamSpec list?)");
    return it->second;
  }
};

// Shared run control, in its own cache lines at the start of the mapping.
struct alignas(64) Control {
  std::atomic<uint32_t> go{0};  // start gate (futex word)
  alignas(64) std::atomic<uint32_t> phase{0};  // kWarmup -> kMeasure -> kStop
  static constexpr uint32_t kWarmup = 0, kMeasure = 1, kStop = 2;
};

// One worker's results, each slot in its own 256-byte-aligned block (kMaxCacheline in
// will-it-scale) so counters never share a line.
struct alignas(256) WorkerSlot {
  uint64_t warm_ops = 0;
  uint64_t ops = 0;
  uint64_t begin_ns = 0, end_ns = 0;  // CLOCK_MONOTONIC, the worker's measured window
  int pu = -1;                        // where it actually ran (sched_getcpu at the end)
  int error = 0;                      // nonzero: body threw; message below
  // The worker's CPU time and context switches over its whole life (getrusage(RUSAGE_THREAD)
  // when its body returns; the harness fills them, never the workload).
  uint64_t cpu_user_ns = 0, cpu_sys_ns = 0, vcsw = 0, ivcsw = 0;
  char message[160] = {};
  LogHistogram latency;
  LogHistogram wakeup;
};

// Totals handed to verify().
struct Totals {
  uint64_t warm_ops = 0, ops = 0;
  std::vector<uint64_t> per_worker_ops;  // warm + measured, per worker
};

struct VerifyResult {
  bool ok = true;
  std::string detail;
};

// Window: the one measured-window protocol. Every worker gets one (WorkerEnv::window), bound
// to its slot by the harness; a workload never writes the slot's counts or window itself.
//
//   * An op is either warm-up or measured: count(measured). The first measured op opens the
//     window if nothing opened it before (open()), clearing both histograms, so warm-up samples
//     never reach a row. Bodies that learn the run's phase before an op call enter(ctl): it
//     opens the window as soon as the run has left warm-up, so the window starts before that
//     worker's first measured op, not after it.
//   * Two histograms, and they mean the same in every workload (docs/results.md):
//       latency(t0, t1)  the span of one op as its caller sees it, from the call to the return;
//       wakeup(t0, t1)   from the moment another worker made this one's progress possible (the
//                        post, put, notify or release it was waiting for, stamped by that worker
//                        just before it) to the moment this worker runs again.
//     Both take Clock::ticks() stamps and record Clock::net_ns(t1 - t0), net of the clock's own
//     cost; a stamp pair running backwards (t1 < t0: two cores' counters a few ticks apart) is
//     dropped. Nothing is recorded while the window is closed.
//   * sample(): true every sample_every-th call, for workloads whose op is too cheap to time
//     each one (the clock costs ~20 ns).
//   * close(): the window ends now and the counts go to the slot. A body calls it after its last
//     measured op when clean-up follows (sentinels, joins); otherwise the harness closes it when
//     the body returns. Closing twice keeps the first. A worker that measured nothing still
//     gets a window (begin = end) and a row can say why (short_window).
class Window {
 public:
  void bind(WorkerSlot* slot, uint32_t sample_every) {
    slot_ = slot;
    every_ = k_ = sample_every ? sample_every : 1;
  }
  bool is_open() const noexcept { return open_; }
  void open() {
    if (open_) return;
    open_ = true;
    slot_->latency.clear();
    slot_->wakeup.clear();
    slot_->begin_ns = Clock::mono_ns();
  }
  // enter(): opens the window once the run has left warm-up; whether it is open.
  bool enter(const Control& ctl) {
    if (!open_ && ctl.phase.load(std::memory_order_relaxed) != Control::kWarmup) open();
    return open_;
  }
  void count(bool measured) { add(measured, 1); }
  uint64_t ops() const noexcept { return ops_; }
  bool sample() {
    if (--k_) return false;
    k_ = every_;
    return true;
  }
  void latency(uint64_t t0, uint64_t t1) {
    if (open_ && t1 >= t0) slot_->latency.record(Clock::net_ns(t1 - t0));
  }
  void wakeup(uint64_t t0, uint64_t t1) {
    if (open_ && t1 >= t0) slot_->wakeup.record(Clock::net_ns(t1 - t0));
  }
  // add(measured, n): n ops at once, as n calls of count(measured) would (run_ops keeps its
  // counts in registers and hands them over here). countdown() is how many more calls of
  // sample() give the next true; set_countdown() hands a loop's countdown back.
  void add(bool measured, uint64_t n) {
    if (n == 0) return;
    if (!measured) {
      warm_ += n;
      return;
    }
    open();
    ops_ += n;
  }
  uint32_t sample_every() const noexcept { return every_; }
  uint32_t countdown() const noexcept { return k_; }
  void set_countdown(uint32_t k) noexcept { k_ = k ? k : every_; }
  void close() {
    if (closed_ || !slot_) return;
    closed_ = true;
    slot_->end_ns = Clock::mono_ns();
    if (!open_) slot_->begin_ns = slot_->end_ns;  // empty: the run's window ignores it
    slot_->warm_ops = warm_;
    slot_->ops = ops_;
  }

 private:
  WorkerSlot* slot_ = nullptr;
  uint64_t warm_ = 0, ops_ = 0;
  uint32_t every_ = 1, k_ = 1;
  bool open_ = false, closed_ = false;
};

// What a worker body sees. In thread mode the same body runs on a thread of bench; a body must
// keep all shared state in the `shared` region, never in globals (forked workers would each
// get a private copy; will-it-scale PR #39).
struct WorkerEnv {
  int index = 0;
  int nprocs = 1;
  const RunConfig* cfg = nullptr;
  Control* ctl = nullptr;
  Window window;  // bound to this worker's slot; the only way a body records what it measured
};

// One workload instantiated for (primitive, backend).
struct Instance {
  std::size_t shared_bytes = 0;
  void (*init)(void* shared, const RunConfig&) = nullptr;   // parent, before fork
  void (*body)(void* shared, WorkerEnv&) = nullptr;         // each worker
  VerifyResult (*verify)(void* shared, const RunConfig&, const Totals&) = nullptr;  // parent
  void (*destroy)(void* shared) = nullptr;                  // parent, after the run
  bool python = false;  // the python backend: run by scripts/mp_backend.py, no function pointers
};

// instance_of<S>(body, verify): the Instance of a workload whose shared state is one object S.
// The harness's side of every such workload, written once: shared_bytes, init (S constructed in
// the mapping, S(const RunConfig&) when S has that constructor, else S()), destroy (~S), and
// the cast: body and verify receive S* instead of the mapping's void*. Both are captureless
// lambdas (C++20 makes them default-constructible), so the instance stays a handful of plain
// function pointers and the measured loop stays monomorphic.
template <class S, class Body, class Verify>
Instance instance_of(Body, Verify) {
  static_assert(std::is_empty_v<Body> && std::is_empty_v<Verify>, "body and verify must capture nothing");
  Instance in;
  in.shared_bytes = sizeof(S);
  in.init = [](void* p, const RunConfig& cfg) {
    if constexpr (std::is_constructible_v<S, const RunConfig&>)
      ::new (p) S(cfg);
    else
      ::new (p) S();
  };
  in.body = [](void* p, WorkerEnv& env) { Body{}(static_cast<S*>(p), env); };
  in.verify = [](void* p, const RunConfig& cfg, const Totals& t) -> VerifyResult {
    return Verify{}(static_cast<S*>(p), cfg, t);
  };
  in.destroy = [](void* p) { static_cast<S*>(p)->~S(); };
  return in;
}

struct ParamSpec {
  std::string name;     // key in RunConfig::params, e.g. "cs_ns"; flag is --cs-ns
  std::string help;
  int64_t def = 0;
  int64_t min = 0;
  int64_t max = INT64_MAX;
};

struct WorkloadDef {
  std::string name;
  std::string description;
  std::vector<std::string> primitives;       // roles it can drive
  std::vector<std::string> default_for;      // primitives whose default workload this is
  std::vector<ParamSpec> params;
  std::vector<std::string> python_primitives;  // roles scripts/mp_backend.py implements for it
  std::vector<std::string> faults;             // --inject-fault names it understands (tests only)
  std::function<std::optional<Instance>(const std::string& primitive, const std::string& backend)> make;
  // validate(): checks a configuration before anything runs (e.g. "needs an even --procs");
  // returns an error naming the flag, or "" when the configuration fits. Optional.
  std::function<std::string(const RunConfig&)> validate;
  // default_sample_every: latency sampling rate when --sample-every is not given. Cheap ops
  // (~10 ns) sample every 64th to keep the clock's ~20 ns out of throughput; slow ops (a
  // wake-up, a round trip) can afford every op.
  uint32_t default_sample_every = 64;
  // has_unsafe: the workload honours --unsafe (drops its synchronization to show what is lost);
  // bench refuses --unsafe for a workload without it.
  bool has_unsafe = false;
  // every_pu_pair: the workload measures something of a pair of PUs (c2c: the one-line round
  // trip); bench runs it with 2 workers on every unordered pair of the allowed PUs, one row per
  // pair (pus=a;b, a < b), instead of over --pin and --procs (which it then refuses).
  bool every_pu_pair = false;
};

class Registry {
 public:
  static Registry& get();
  // instantiate(): def's instance for (primitive, backend), the python backend included;
  // nullopt when that backend does not implement the role for this workload.
  static std::optional<Instance> instantiate(const WorkloadDef& def, const std::string& primitive,
                                             const std::string& backend);
  void add(WorkloadDef def);
  const std::vector<WorkloadDef>& all() const noexcept { return defs_; }
  const WorkloadDef* find(const std::string& name) const;
  const WorkloadDef* default_for(const std::string& primitive) const;
  // primitives(): every role of the table (ipcsync/roles.hpp) in its order, then the
  // primitives workloads drive that are no role (the references: cacheline, spsc_ring), sorted.
  std::vector<std::string> primitives() const;
  // backends_for(): a role's backends from the role table; for another primitive, the
  // backends its default workload instantiates on. workloads_test holds each role's default
  // workload to its table row.
  std::vector<std::string> backends_for(const std::string& primitive) const;
 private:
  std::vector<WorkloadDef> defs_;
};

struct Registrar {
  explicit Registrar(WorkloadDef def) { Registry::get().add(std::move(def)); }
};

// run_ops(): the measured loop of a workload whose op repeats on its own. Runs `op` through the
// warm-up phase, then counts and (every sample_every-th op) times it until the stop phase or
// ops_per_worker; `after` (think time) runs after each op, outside the timed span.
//
// Its counts live in registers, not in the Window: op() is usually an opaque call (a futex, a
// pthread mutex), after which a count kept in memory must be loaded and stored again. Between
// one release and the next acquire, those few nanoseconds are the other side's chance to take
// the lock: a bare 2-process pthread mutex counter (`probe_mutex 2 plain|robust 0.5 GAP`) lost
// 12-13% of its throughput with GAP=8 volatile read-modify-writes between unlock and lock, and
// 18-24% with 16 (AMD EPYC host, medians of 5 interleaved). What is left per op is the phase
// load (one L1 hit: the parent writes that line twice a run) and a decrement for sampling; the
// JSON context's harness.loop_overhead_ns is this loop with an empty op.
template <class Op, class After>
inline void run_ops(WorkerEnv& env, Op&& op, After&& after) {
  const Control& ctl = *env.ctl;
  Window& w = env.window;
  uint64_t n = 0;
  try {
    while (ctl.phase.load(std::memory_order_relaxed) == Control::kWarmup) {
      op();
      after();
      ++n;
    }
  } catch (...) {
    w.add(false, n);
    throw;
  }
  w.add(false, n);
  w.open();
  const uint64_t limit = env.cfg->ops_per_worker;
  const uint64_t left = limit > w.ops() ? limit - w.ops() : 0;  // under --ops
  const uint32_t every = w.sample_every();
  uint32_t k = w.countdown();
  n = 0;
  try {
    for (;;) {
      if (limit ? n >= left : ctl.phase.load(std::memory_order_relaxed) == Control::kStop) break;
      if (--k == 0) {
        k = every;
        const uint64_t t0 = Clock::ticks();
        op();
        w.latency(t0, Clock::ticks());
      } else {
        op();
      }
      after();
      ++n;
    }
  } catch (...) {
    w.set_countdown(k);
    w.add(true, n);
    throw;
  }
  w.set_countdown(k);
  w.add(true, n);
  w.close();
}

}  // namespace ipcsync::harness

#define IPCSYNC_CONCAT_(a, b) a##b
#define IPCSYNC_CONCAT(a, b) IPCSYNC_CONCAT_(a, b)
// IPCSYNC_WORKLOAD(def): registers a WorkloadDef at static-initialisation time.
#define IPCSYNC_WORKLOAD(...) \
  static const ::ipcsync::harness::Registrar IPCSYNC_CONCAT(ipcsync_registrar_, __LINE__)(__VA_ARGS__)

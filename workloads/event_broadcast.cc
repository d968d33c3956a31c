// workloads/event_broadcast.cc — the guide's five waiters released by one set(), in rounds; and
// the same broadcast through a Condition's notify_all().
//
// Workers form groups of one broadcaster and --waiters listeners (default: one group, every
// other worker listens); each group has its own signal. In round r the broadcaster publishes
// the round number, its kind (warm-up, measured, stop) and the signal time, signals, and waits
// until every listener of its group has acknowledged; each listener waits for the signal,
// records the wake-up latency (signal to running) in its `wakeup` histogram, checks it got the
// round it expected, and acknowledges. The broadcaster's op latency is the whole round: the
// signal, N wake-ups, N acknowledgements.
//
//   primitive | the signal
//   ----------+------------------------------------------------------------------------------
//   event     | Event go[r % 2].set(); listeners wait(); the listener whose ack completes the
//             | count sets acked[r % 2]; the broadcaster clears both for reuse two rounds later
//   condition | under one Lock: posted = r + 1, Condition go.notify_all(); listeners wait until
//             | posted > r and acknowledge under the lock; the last one notifies Condition acked.
//             | A woken listener returns holding the lock, so N wake-ups serialize on it, as in
//             | Python.
//
// To stop, the broadcaster publishes a stop round, which releases every listener of its group.
// Ops: every worker counts one per round, classified by its broadcaster. Verify: in every group
// every worker saw every round, in order.
#include <atomic>
#include <mutex>
#include <new>

#include "harness/backends.hpp"
#include "harness/workload.hpp"

// Its own namespace, so that the workloads can be compiled together (a unity build, CMakeLists.txt).
namespace ipcsync::harness::wl_event_broadcast {
namespace {

constexpr int kMaxGroups = 512;  // bench's --procs limit / 2
enum : uint32_t { kWarm = 0, kMeasured = 1, kStop = 2 };

// What a listener learnt from one signal.
struct Seen {
  uint64_t round;
  uint32_t kind;
  uint64_t t_set, t_run;  // Clock::ticks(): the signal, the listener running again
};

template <class E>
struct EventCast {
  E go[2];
  E acked[2];
  alignas(64) std::atomic<uint32_t> acks[2] = {};
  alignas(64) std::atomic<uint64_t> round{0};
  std::atomic<uint64_t> t_set{0};
  std::atomic<uint32_t> kind{kWarm};

  void post(uint64_t r, uint32_t k) {
    round.store(r, std::memory_order_relaxed);
    kind.store(k, std::memory_order_relaxed);
    t_set.store(Clock::ticks(), std::memory_order_relaxed);
    go[r & 1].set();  // publishes the three stores above
  }
  void await_acks(uint64_t r, uint32_t) { acked[r & 1].wait(); }
  void reset(uint64_t r) {
    const int i = static_cast<int>(r & 1);
    acked[i].clear();
    go[i].clear();
    acks[i].store(0, std::memory_order_relaxed);
  }
  Seen listen(uint64_t r, uint32_t listeners) {
    const int i = static_cast<int>(r & 1);
    go[i].wait();
    const uint64_t t = Clock::ticks();
    const Seen s{round.load(std::memory_order_relaxed), kind.load(std::memory_order_relaxed),
                 t_set.load(std::memory_order_relaxed), t};
    if (s.kind != kStop && acks[i].fetch_add(1, std::memory_order_acq_rel) + 1 == listeners) acked[i].set();
    return s;
  }
};

template <class L, class C>
struct ConditionCast {
  L lock;
  C go{lock};
  C acked{lock};
  alignas(64) uint64_t posted = 0;  // rounds posted; the rest too: all under the lock
  uint64_t round = 0, t_set = 0;
  uint32_t kind = kWarm, acks = 0;

  void post(uint64_t r, uint32_t k) {
    std::scoped_lock g(lock);
    round = r;
    kind = k;
    acks = 0;
    posted = r + 1;
    t_set = Clock::ticks();
    go.notify_all();
  }
  void await_acks(uint64_t, uint32_t listeners) {
    std::unique_lock g(lock);
    while (acks < listeners) acked.wait();
  }
  void reset(uint64_t) {}
  Seen listen(uint64_t r, uint32_t listeners) {
    std::unique_lock g(lock);
    while (posted <= r) go.wait();
    const Seen s{round, kind, t_set, Clock::ticks()};
    if (kind != kStop && ++acks == listeners) acked.notify();
    return s;
  }
};

template <class T>
struct alignas(64) Group {
  T cast;
  alignas(64) std::atomic<uint64_t> errors{0};
};

template <class T>
struct Shared {
  Group<T> groups[kMaxGroups];
};

// The group size: one broadcaster plus --waiters listeners (0: everyone in one group).
int group_size(const RunConfig& cfg) {
  const int w = static_cast<int>(cfg.param("waiters"));
  return w == 0 ? cfg.procs : w + 1;
}

template <class T>
Instance make_event_broadcast() {
  using S = Shared<T>;
  auto body = [](S* shared, WorkerEnv& env) {
    const int size = group_size(*env.cfg);
    Group<T>& grp = shared->groups[env.index / size];
    T& cast = grp.cast;
    Window& win = env.window;
    const uint32_t listeners = static_cast<uint32_t>(size - 1);
    if (env.index % size == 0) {
      const uint64_t limit = env.cfg->ops_per_worker;
      for (uint64_t r = 0;; ++r) {
        const uint32_t phase = env.ctl->phase.load(std::memory_order_relaxed);
        uint32_t kind = phase == Control::kWarmup ? kWarm : kMeasured;
        if (limit ? (kind == kMeasured && win.ops() >= limit) : phase == Control::kStop) kind = kStop;
        const uint64_t t0 = Clock::ticks();
        cast.post(r, kind);
        if (kind == kStop) break;
        if (listeners > 0) cast.await_acks(r, listeners);
        const uint64_t t1 = Clock::ticks();
        cast.reset(r);
        win.count(kind == kMeasured);
        if (kind == kMeasured && win.sample()) win.latency(t0, t1);
      }
    } else {
      const bool miss = env.cfg->fault == "miss_round" && env.index == 1;  // test-only
      for (uint64_t r = 0;; ++r) {
        const Seen s = cast.listen(r, listeners);
        if (s.kind == kStop) break;
        if (s.round != r) grp.errors.fetch_add(1, std::memory_order_relaxed);
        if (!miss || r != 3) win.count(s.kind == kMeasured);  // the fault: listener 1 does not count round 3
        if (s.kind == kMeasured) win.wakeup(s.t_set, s.t_run);
      }
    }
  };
  auto verify = [](S* s, const RunConfig& cfg, const Totals& t) {
    const int size = group_size(cfg);
    uint64_t errors = 0, unequal = 0;
    for (int g = 0; g * size < cfg.procs; ++g) {
      errors += s->groups[g].errors.load();
      for (int i = g * size; i < (g + 1) * size; ++i)
        if (t.per_worker_ops[static_cast<std::size_t>(i)] != t.per_worker_ops[static_cast<std::size_t>(g * size)])
          ++unequal;
    }
    VerifyResult r;
    r.ok = unequal == 0 && errors == 0;
    r.detail = "rounds=" + std::to_string(t.per_worker_ops.empty() ? 0 : t.per_worker_ops.front()) +
               " round_errors=" + std::to_string(errors) + (unequal == 0 ? "" : " UNEQUAL_ROUNDS");
    return r;
  };
  return instance_of<S>(body, verify);
}

// The roles it drives, declared once (WorkloadDef::primitives and the factory's dispatch).
using DrivenRoles = WorkloadRoles<roles::Event, roles::Condition>;

std::optional<Instance> make(const std::string& primitive, const std::string& backend) {
  return DrivenRoles::make(primitive, backend, []<class R, class B>() {
    if constexpr (std::is_same_v<R, roles::Event>)
      return make_event_broadcast<EventCast<typename B::Event>>();
    else
      return make_event_broadcast<ConditionCast<typename B::Lock, typename B::Condition>>();
  });
}

// Built field by field, so fields WorkloadDef gains later keep their defaults.
IPCSYNC_WORKLOAD([] {
  WorkloadDef d;
  d.name = "event_broadcast";
  d.description = "One process sets an Event (or notify_all()s a Condition), N waiting processes wake and acknowledge; wake-up latency per round";
  d.primitives = DrivenRoles::names();
  d.default_for = {"event"};
  d.params = {{"waiters", "listeners per broadcaster; --procs must be a multiple of waiters+1 (0: all but one)", 0, 0, 1023}};
  d.python_primitives = {"event"};
  d.faults = {"miss_round"};
  d.make = make;
  d.validate = [](const RunConfig& c) -> std::string {
    const int64_t w = c.param("waiters");
    if (w == 0) return "";
    if (c.backend == "python")
      return "--waiters: the python backend runs event_broadcast as one group (every other process waits): use --waiters 0";
    if (c.procs % (w + 1) != 0)
      return "--waiters: event_broadcast groups one broadcaster with " + std::to_string(w) +
             " waiters, so --procs must be a multiple of " + std::to_string(w + 1) + " (got " + std::to_string(c.procs) + ")";
    return "";
  };
  d.default_sample_every = 1;
  return d;
}());

}  // namespace
}  // namespace ipcsync::harness::wl_event_broadcast

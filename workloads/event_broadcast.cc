// workloads/event_broadcast.cc — the guide's five waiters released by one set(), in rounds.
//
// Worker 0 broadcasts; the others listen. Round r uses go[r % 2]: the broadcaster publishes
// the round number and the set() time, sets go, and waits for the last listener's
// acknowledgement (acked[r % 2], set by whichever listener's ack completes the count); then it
// clears both for reuse two rounds later. Each listener waits on go, records the wake-up
// latency (set() to running) in its `wakeup` histogram, checks it got the round it expected,
// and acknowledges. The broadcaster's op latency is the whole round: set, N-1 wake-ups, N-1
// acks. To stop, the broadcaster publishes a stop round and sets go, which releases every
// listener however far the others are. Ops: every worker counts one per round, classified
// (warm-up or measured) by the broadcaster. Verify: every worker saw every round, in order.
#include <atomic>
#include <new>

#include "harness/backends.hpp"
#include "harness/workload.hpp"

namespace ipcsync::harness {
namespace {

enum : uint32_t { kWarm = 0, kMeasured = 1, kStop = 2 };

// Meter: op accounting as run_ops does it, for bodies whose rounds a leader classifies.
struct Meter {
  WorkerSlot& slot;
  uint64_t warm = 0, n = 0;
  bool measuring = false;
  void count(uint32_t kind) {
    if (kind == kWarm) {
      ++warm;
      return;
    }
    if (!measuring) start();
    ++n;
  }
  void start() {
    measuring = true;
    slot.latency.clear();
    slot.wakeup.clear();
    slot.begin_ns = Clock::mono_ns();
  }
  void finish() {
    if (!measuring) start();
    slot.end_ns = Clock::mono_ns();
    slot.warm_ops = warm;
    slot.ops = n;
  }
};

template <class E>
struct Shared {
  E go[2];
  E acked[2];
  alignas(64) std::atomic<uint32_t> acks[2] = {};
  alignas(64) std::atomic<uint64_t> round{0};
  std::atomic<uint64_t> t_set{0};
  std::atomic<uint32_t> kind{kWarm};
  alignas(64) std::atomic<uint64_t> errors{0};
};

template <class E>
Instance make_event_broadcast() {
  using S = Shared<E>;
  Instance in;
  in.shared_bytes = sizeof(S);
  in.init = [](void* p, const RunConfig&) { ::new (p) S(); };
  in.body = [](void* p, WorkerEnv& env) {
    auto* s = static_cast<S*>(p);
    Meter m{*env.slot};
    const uint32_t listeners = static_cast<uint32_t>(env.nprocs - 1);
    const double ns_per_tick = Clock::to_ns(1000) / 1000.0;
    if (env.index == 0) {
      const uint64_t limit = env.cfg->ops_per_worker;
      const uint32_t every = env.cfg->sample_every;
      for (uint64_t r = 0;; ++r) {
        const int i = static_cast<int>(r & 1);
        const uint32_t phase = env.ctl->phase.load(std::memory_order_relaxed);
        uint32_t kind = phase == Control::kWarmup ? kWarm : kMeasured;
        if (limit ? (kind == kMeasured && m.n >= limit) : phase == Control::kStop) kind = kStop;
        s->round.store(r, std::memory_order_relaxed);
        s->kind.store(kind, std::memory_order_relaxed);
        const uint64_t t0 = Clock::ticks();
        s->t_set.store(t0, std::memory_order_relaxed);
        s->go[i].set();  // publishes the three stores above
        if (kind == kStop) break;
        if (listeners > 0) s->acked[i].wait();
        const uint64_t t1 = Clock::ticks();
        s->acked[i].clear();
        s->go[i].clear();
        s->acks[i].store(0, std::memory_order_relaxed);
        m.count(kind);
        if (kind == kMeasured && m.n % every == 0)
          env.slot->latency.record(static_cast<uint64_t>(static_cast<double>(t1 - t0) * ns_per_tick));
      }
    } else {
      const bool miss = env.cfg->fault == "miss_round" && env.index == 1;  // test-only
      for (uint64_t r = 0;; ++r) {
        const int i = static_cast<int>(r & 1);
        s->go[i].wait();
        const uint64_t t = Clock::ticks();
        const uint32_t kind = s->kind.load(std::memory_order_relaxed);
        if (kind == kStop) break;
        if (s->round.load(std::memory_order_relaxed) != r) s->errors.fetch_add(1, std::memory_order_relaxed);
        const uint64_t t_set = s->t_set.load(std::memory_order_relaxed);
        if (!miss || r != 3) m.count(kind);  // the fault: listener 1 does not count round 3
        if (kind == kMeasured && t >= t_set)
          env.slot->wakeup.record(static_cast<uint64_t>(static_cast<double>(t - t_set) * ns_per_tick));
        if (s->acks[i].fetch_add(1, std::memory_order_acq_rel) + 1 == listeners) s->acked[i].set();
      }
    }
    m.finish();
  };
  in.verify = [](void* p, const RunConfig&, const Totals& t) {
    auto* s = static_cast<S*>(p);
    bool equal = true;
    for (uint64_t w : t.per_worker_ops) equal = equal && w == t.per_worker_ops.front();
    VerifyResult r;
    r.ok = equal && s->errors.load() == 0;
    r.detail = "rounds=" + std::to_string(t.per_worker_ops.empty() ? 0 : t.per_worker_ops.front()) +
               " round_errors=" + std::to_string(s->errors.load()) + (equal ? "" : " UNEQUAL_ROUNDS");
    return r;
  };
  in.destroy = [](void* p) { static_cast<S*>(p)->~S(); };
  return in;
}

std::optional<Instance> make(const std::string& primitive, const std::string& backend) {
  std::optional<Instance> out;
  with_backend(backend, [&]<class B>() {
    if constexpr (requires { typename B::Event; })
      if (primitive == "event") out = make_event_broadcast<typename B::Event>();
  });
  return out;
}

// Built field by field, so fields WorkloadDef gains later keep their defaults.
IPCSYNC_WORKLOAD([] {
  WorkloadDef d;
  d.name = "event_broadcast";
  d.description = "One process sets an Event, N-1 waiting processes wake and acknowledge; wake-up latency per round";
  d.primitives = {"event"};
  d.default_for = {"event"};
  d.params = {};
  d.python_primitives = {"event"};
  d.faults = {"miss_round"};
  d.make = make;
  return d;
}());

}  // namespace
}  // namespace ipcsync::harness

// workloads/queue_pipeline.cc — the guide's producer/consumer Queue: P producers put numbered
// items, C consumers get them, and the end of the stream is close(), not N sentinels.
// bounded_buffer.cc compares this pattern across primitives (a semaphore pair, a condition,
// Queue, JoinableQueue) with sized messages; this one stays the queue default because
// scripts/mp_backend.py implements it (the python baseline) and it exercises close().
//
// Workers 0..P-1 produce (--producers, default half, at least one), the rest consume; alone,
// one process puts and then gets each item itself. An item carries its producer, a sequence
// number 0, 1, 2... and its put() time. Producers put until the stop phase (or --ops); the last
// producer to finish closes the queue, which wakes every blocked consumer: they drain what is
// left and stop on queue_closed. Consumers check that each producer's items reach them in order
// (the queue is FIFO), record put-to-get latency in their `wakeup` histogram, and add per
// producer counts and sequence sums to shared totals. Verify: for every producer, items
// consumed == items put and the sequence sum is 0+1+...+(put-1) — every item consumed exactly
// once — and no order violation.
#include <type_traits>
#include <atomic>
#include <cstdio>
#include <memory>
#include <new>
#include <stdexcept>
#include <vector>

#include "harness/backends.hpp"
#include "harness/workload.hpp"

// Its own namespace, so that the workloads can be compiled together (a unity build, CMakeLists.txt).
namespace ipcsync::harness::wl_queue_pipeline {
namespace {

constexpr uint32_t kMaxCapacity = 1 << 16;

struct Item {
  uint32_t producer;
  uint32_t pad;
  uint64_t seq;
  uint64_t t_put;  // Clock::ticks()
};

template <class Q>
struct Shared {
  struct alignas(64) PerProducer {
    std::atomic<uint64_t> put{0}, got{0}, seq_sum{0};
  };
  alignas(64) std::atomic<uint32_t> producers_left{0};
  std::atomic<uint64_t> order_errors{0};
  std::atomic<uint32_t> dropped{0};  // drop_item fault: set by the consumer that lost its item
  char init_error[160] = {};  // the queue's constructor failed (e.g. a POSIX mqueue limit): why
  PerProducer per[kMaxWorkers];
  static_assert(std::extent_v<decltype(per)> >= static_cast<std::size_t>(kMaxWorkers),
                "a slot per worker: --procs goes up to kMaxWorkers (harness/workload.hpp)");
  alignas(64) unsigned char queue[1];  // Q::bytes_for(capacity) bytes start here
  Q& q() { return *std::launder(reinterpret_cast<Q*>(queue)); }
};

// producers_of(): the producer count of a configuration validate() accepted: the single process
// of --procs 1 is both, --producers 0 means half, else --producers (at most --procs - 1: the
// rest consume).
int producers_of(const RunConfig& cfg) {
  const int p = static_cast<int>(cfg.param("producers"));
  if (cfg.procs == 1) return 1;
  if (p > 0) return p;
  return cfg.procs / 2;
}

// validate(): --producers must leave a consumer (never silently clamped to --procs - 1).
std::string validate(const RunConfig& cfg) {
  const int64_t p = cfg.param("producers");
  if (cfg.procs == 1 && p > 1)
    return "--producers: " + std::to_string(p) + " producers need --procs of at least " + std::to_string(p + 1) +
           " (got 1; --procs 1 runs one process that both puts and gets)";
  if (cfg.procs > 1 && p >= cfg.procs)
    return "--producers: " + std::to_string(p) + " producers leave no consumer at --procs " +
           std::to_string(cfg.procs) + " (at most " + std::to_string(cfg.procs - 1) + ")";
  return "";
}

template <class Q>
Instance make_queue_pipeline() {
  using S = Shared<Q>;
  Instance in;
  in.shared_bytes = offsetof(S, queue) + Q::bytes_for(kMaxCapacity);
  in.init = [](void* p, const RunConfig& cfg) {
    auto* s = ::new (p) S();
    // A backend may refuse the queue (a system limit): every worker then reports why (an
    // `error` row) instead of the whole bench stopping here.
    try {
      Q::create_at(s->queue, static_cast<uint32_t>(cfg.param("capacity")));
    } catch (const std::exception& e) {
      std::snprintf(s->init_error, sizeof s->init_error, "%s", e.what());
    }
    s->producers_left.store(static_cast<uint32_t>(producers_of(cfg)));
  };
  in.body = [](void* p, WorkerEnv& env) {
    auto* s = static_cast<S*>(p);
    if (s->init_error[0]) throw std::runtime_error(s->init_error);
    Q& q = s->q();
    const int producers = producers_of(*env.cfg);
    const uint64_t think = static_cast<uint64_t>(env.cfg->param("think_ns"));
    const uint32_t me = static_cast<uint32_t>(env.index);
    bool drop = env.cfg->fault == "drop_item";  // test-only: one item numbered 3 is lost
    auto after = [&] { Clock::busy_ns(think); };
    if (env.nprocs == 1) {  // put, then get it back
      uint64_t seq = 0;
      run_ops(env, [&] {
        q.put(Item{me, 0, seq++, Clock::ticks()});
        const Item it = q.get();
        if (drop && it.seq == 3) return;  // the fault
        if (it.seq != seq - 1) s->order_errors.fetch_add(1, std::memory_order_relaxed);
        s->per[it.producer].got.fetch_add(1, std::memory_order_relaxed);
        s->per[it.producer].seq_sum.fetch_add(it.seq, std::memory_order_relaxed);
      }, after);
      s->per[me].put.store(seq, std::memory_order_relaxed);
      return;
    }
    if (env.index < producers) {
      uint64_t seq = 0;
      run_ops(env, [&] { q.put(Item{me, 0, seq++, Clock::ticks()}); }, after);
      s->per[me].put.store(seq, std::memory_order_relaxed);
      if (s->producers_left.fetch_sub(1, std::memory_order_acq_rel) == 1) q.close();
      return;
    }
    // Consumer: its own loop (it stops on close, not on the phase).
    Window& win = env.window;
    std::vector<uint64_t> next(static_cast<std::size_t>(producers), 0), got(next), sum(next);
    for (;;) {
      const bool sample = win.is_open() && win.sample();  // time this get (and its wake-up)
      const uint64_t t0 = sample ? Clock::ticks() : 0;
      Item it;
      try {
        it = q.get();
      } catch (const queue_closed&) {
        break;
      }
      const uint64_t t1 = Clock::ticks();
      // The fault: whichever consumer first gets an item numbered 3 loses it (exactly one).
      if (drop && it.seq == 3 && s->dropped.exchange(1, std::memory_order_relaxed) == 0) {
        drop = false;
        continue;
      }
      if (it.producer >= static_cast<uint32_t>(producers) || it.seq < next[it.producer]) {
        s->order_errors.fetch_add(1, std::memory_order_relaxed);
      } else {
        next[it.producer] = it.seq + 1;
        ++got[it.producer];
        sum[it.producer] += it.seq;
      }
      const bool measuring = win.enter(*env.ctl);
      win.count(measuring);
      if (sample) {
        win.latency(t0, t1);
        win.wakeup(it.t_put, t1);
      }
      after();
    }
    for (int pr = 0; pr < producers; ++pr) {
      s->per[pr].got.fetch_add(got[static_cast<std::size_t>(pr)], std::memory_order_relaxed);
      s->per[pr].seq_sum.fetch_add(sum[static_cast<std::size_t>(pr)], std::memory_order_relaxed);
    }
  };
  in.verify = [](void* p, const RunConfig& cfg, const Totals&) {
    auto* s = static_cast<S*>(p);
    if (s->init_error[0]) return VerifyResult{false, s->init_error};
    const int producers = producers_of(cfg);
    uint64_t put = 0, got = 0, bad = 0;
    for (int pr = 0; pr < producers; ++pr) {
      const uint64_t n = s->per[pr].put.load(), g = s->per[pr].got.load();
      put += n;
      got += g;
      if (g != n || s->per[pr].seq_sum.load() != (n ? n * (n - 1) / 2 : 0)) ++bad;
    }
    VerifyResult r;
    r.ok = bad == 0 && s->order_errors.load() == 0 && s->q().empty();
    r.detail = "put=" + std::to_string(put) + " got=" + std::to_string(got) + " bad_producers=" + std::to_string(bad) +
               " order_errors=" + std::to_string(s->order_errors.load());
    return r;
  };
  in.destroy = [](void* p) {
    auto* s = static_cast<S*>(p);
    if (!s->init_error[0]) std::destroy_at(&s->q());  // a backend's queue may hold a descriptor
    s->~S();
  };
  return in;
}

// The roles it drives, declared once (WorkloadDef::primitives and the factory's dispatch).
using DrivenRoles = WorkloadRoles<roles::Queue>;

std::optional<Instance> make(const std::string& primitive, const std::string& backend) {
  return DrivenRoles::make(primitive, backend, []<class R, class B>() {
    return make_queue_pipeline<roles::Queue::type<B, Item>>();
  });
}

// Built field by field, so fields WorkloadDef gains later keep their defaults.
IPCSYNC_WORKLOAD([] {
  WorkloadDef d;
  d.name = "queue_pipeline";
  d.description = "P producers put numbered items into a bounded Queue, C consumers get them until it is closed";
  d.primitives = DrivenRoles::names();
  d.default_for = {"queue"};
  d.params = {{"capacity", "queue maxsize (cells; the default fits POSIX mqueue's default msg_max of 10)", 8, 1, kMaxCapacity},
              {"producers", "producer processes (0: half of --procs)", 0, 0, kMaxWorkers},
              {"think_ns", "busy work outside the critical section (ns)", 0, 0, 1'000'000'000}};
  d.python_primitives = {"queue"};
  d.faults = {"drop_item"};
  d.make = make;
  d.validate = validate;
  return d;
}());

}  // namespace
}  // namespace ipcsync::harness::wl_queue_pipeline

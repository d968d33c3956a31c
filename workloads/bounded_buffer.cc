// workloads/bounded_buffer.cc — the guide's bounded buffer: P producers, C consumers, a ring of
// --capacity items of --msg-size bytes, built four ways, and the ring that bounds them all.
//
//   primitive      | the buffer
//   ---------------+-------------------------------------------------------------------------
//   semaphore      | the guide's pair: Semaphore empty(K) and full(0), plus a Lock around the
//                  | ring (put: empty.acquire, lock, store, unlock, full.release; get mirrors it)
//   condition      | one Lock, Conditions not_full and not_empty on it, a count (`while full:
//                  | not_full.wait()`; a put notifies not_empty, a get notifies not_full)
//   queue          | the role's Queue<Item>(K)
//   joinable_queue | the role's JoinableQueue<Item>(K): consumers task_done() every item, and
//                  | each producer's last step is join(), which must not return before every
//                  | item it put has been processed
//   spsc_ring      | the ceiling (native only, --procs 2): a lock-free single-producer
//                  | single-consumer ring of the same capacity and cells that spins, no role
//
// Workers 0..P-1 produce (--producers, default half the processes), the rest consume
// (--consumers). An item is --msg-size bytes: a tag (producer, sequence number 0, 1, 2...), the
// put() time, and a body whose every word is derived from the tag. Producers put until the stop
// phase (or --ops items each, after the warm-up); the last producer to finish then puts one
// sentinel per consumer. The buffer is one FIFO ring, so every real item is ahead of every
// sentinel: each consumer gets until its sentinel, so all drain everything and nobody is left
// blocked. Consumers check each body (no torn copy) and that each producer's sequence numbers
// reach them increasing (FIFO per producer), and tally
// per producer count, sum and sum of squares of the sequence numbers. One op is one item
// consumed (producers report none), so ops/s is items/s; an item is measured when it was put
// in the measured phase (the tag says so), so --ops K gives exactly P x K measured items.
// Verify: for every producer, items consumed == items put and the sums are those of 0..put-1
// (each item consumed exactly once); no order error, no torn item, no early join; the buffer is
// empty (and for joinable_queue no task unfinished).
//
// Samples (every --sample-every-th measured item, default every one): `wakeup` is put to get,
// the item's time from its producer to a consumer running with it (the wake-up when the
// consumer waited for it). Puts and gets are not timed one by one (`latency` stays empty): two
// more clock reads per item would cost the throughput this workload exists to measure.
#include <type_traits>
#include <algorithm>
#include <array>
#include <cstddef>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <vector>

#include "harness/backends.hpp"
#include "harness/workload.hpp"

// Its own namespace, so that the workloads can be compiled together (a unity build, CMakeLists.txt).
namespace ipcsync::harness::wl_bounded_buffer {
namespace {

constexpr uint32_t kMaxCapacity = 1 << 16;       // as queue_pipeline's --capacity
constexpr std::size_t kMaxRingBytes = 4u << 20;  // capacity x msg-size at most 4 MiB
constexpr int kProducerShift = 48;               // tag: producer << 48 | measured << 47 | seq
constexpr uint64_t kMeasuredBit = uint64_t{1} << 47;
constexpr uint64_t kSeqMask = kMeasuredBit - 1;
constexpr uint64_t kSentinel = ~uint64_t{0};
__extension__ typedef unsigned __int128 u128;

struct ItemHead {
  uint64_t tag;    // producer << kProducerShift | measured bit | seq, or kSentinel
  uint64_t t_put;  // Clock::ticks() just before put()
};
template <std::size_t S>
struct Item : ItemHead {
  static_assert(S > 16 && S % 8 == 0);
  std::array<uint64_t, (S - 16) / 8> body;
};
template <>
struct Item<16> : ItemHead {};
static_assert(sizeof(Item<16>) == 16 && sizeof(Item<4096>) == 4096);

uint64_t body_word(uint64_t tag, std::size_t i) { return (tag + i) * 0x9e3779b97f4a7c15ull; }

constexpr uint32_t capacity_limit(std::size_t msg) {
  return static_cast<uint32_t>(kMaxRingBytes / msg < kMaxCapacity ? kMaxRingBytes / msg : kMaxCapacity);
}

// with_size(bytes, f): f.template operator()<S>() for the supported message size `bytes`.
template <class F>
void with_size(int64_t bytes, F&& f) {
  switch (bytes) {
    case 16: return f.template operator()<16>();
    case 64: return f.template operator()<64>();
    case 256: return f.template operator()<256>();
    case 1024: return f.template operator()<1024>();
    case 4096: return f.template operator()<4096>();
    default: throw std::invalid_argument("bounded_buffer: unsupported --msg-size " + std::to_string(bytes));
  }
}
constexpr std::size_t kSizes[] = {16, 64, 256, 1024, 4096};

// The semaphore pair plus a lock around a ring of cells that follow the object.
template <class Sem, class L, class T>
class alignas(64) SemaphoreRing {
 public:
  explicit SemaphoreRing(uint32_t cap) : empty_(cap), full_(0u), cap_(cap) {}
  static std::size_t bytes_for(uint32_t cap) { return sizeof(SemaphoreRing) + std::size_t{cap} * sizeof(T); }
  static SemaphoreRing* create_at(void* mem, uint32_t cap) { return ::new (mem) SemaphoreRing(cap); }
  void put(const T& v) {
    empty_.acquire();
    {
      std::scoped_lock g(mutex_);
      std::memcpy(cell(head_++), &v, sizeof(T));
    }
    full_.release();
  }
  T get() {
    T v;
    full_.acquire();
    {
      std::scoped_lock g(mutex_);
      std::memcpy(&v, cell(tail_++), sizeof(T));
    }
    empty_.release();
    return v;
  }
  bool empty() const { return head_ == tail_; }

 private:
  char* cell(uint64_t pos) { return reinterpret_cast<char*>(this) + sizeof(*this) + (pos % cap_) * sizeof(T); }
  Sem empty_, full_;
  L mutex_;
  alignas(64) uint64_t head_ = 0, tail_ = 0;  // under mutex_
  uint32_t cap_;
};

// A Lock, Conditions not_full/not_empty on it, and a count: the monitor form.
template <class L, class C, class T>
class alignas(64) ConditionRing {
 public:
  explicit ConditionRing(uint32_t cap) : cap_(cap) {}
  static std::size_t bytes_for(uint32_t cap) { return sizeof(ConditionRing) + std::size_t{cap} * sizeof(T); }
  static ConditionRing* create_at(void* mem, uint32_t cap) { return ::new (mem) ConditionRing(cap); }
  void put(const T& v) {
    std::unique_lock g(lock_);
    while (count_ == cap_) not_full_.wait();
    std::memcpy(cell(head_++), &v, sizeof(T));
    ++count_;
    not_empty_.notify();
  }
  T get() {
    T v;
    std::unique_lock g(lock_);
    while (count_ == 0) not_empty_.wait();
    std::memcpy(&v, cell(tail_++), sizeof(T));
    --count_;
    not_full_.notify();
    return v;
  }
  bool empty() const { return count_ == 0; }

 private:
  char* cell(uint64_t pos) { return reinterpret_cast<char*>(this) + sizeof(*this) + (pos % cap_) * sizeof(T); }
  L lock_;
  C not_full_{lock_};
  C not_empty_{lock_};
  alignas(64) uint64_t head_ = 0, tail_ = 0;  // all under lock_
  uint32_t count_ = 0, cap_;
};

// The queue's ceiling (primitive spsc_ring, native only): a single-producer single-consumer
// ring of the same capacity and cells, lock-free and spinning, in the shape of a well-tuned
// SPSC queue (each side writes only its own index, in its own line, and keeps a copy of the
// other's index so that it reads that line only when the copy says the ring is full or empty).
// It is to the Queue what the cache-line floor is to ping-pong: what moving these items between
// two processes costs with no blocking protocol at all, measured in the same run. It never
// sleeps, so it means something only while both processes have a PU of their own.
template <class T>
class alignas(64) SpscRing {
 public:
  explicit SpscRing(uint32_t cap) : cap_(cap) {}
  static std::size_t bytes_for(uint32_t cap) { return sizeof(SpscRing) + std::size_t{cap} * sizeof(T); }
  static SpscRing* create_at(void* mem, uint32_t cap) { return ::new (mem) SpscRing(cap); }
  void put(const T& v) {  // the producer only
    const uint64_t h = head_.load(std::memory_order_relaxed);
    while (h - tail_seen_ >= cap_) {
      tail_seen_ = tail_.load(std::memory_order_acquire);
      if (h - tail_seen_ >= cap_) cpu_relax();
    }
    std::memcpy(cell(h), &v, sizeof(T));
    head_.store(h + 1, std::memory_order_release);
  }
  T get() {  // the consumer only
    const uint64_t t = tail_.load(std::memory_order_relaxed);
    while (t == head_seen_) {
      head_seen_ = head_.load(std::memory_order_acquire);
      if (t == head_seen_) cpu_relax();
    }
    T v;
    std::memcpy(&v, cell(t), sizeof(T));
    tail_.store(t + 1, std::memory_order_release);
    return v;
  }
  bool empty() const { return head_.load() == tail_.load(); }

  // (public only so that the layout can be asserted below)
  char* cell(uint64_t pos) { return reinterpret_cast<char*>(this) + sizeof(*this) + (pos % cap_) * sizeof(T); }
  const uint32_t cap_;                         // read-only after construction
  alignas(64) std::atomic<uint64_t> head_{0};  // the producer's line: its index and its copy
  uint64_t tail_seen_ = 0;                     //   of the consumer's
  alignas(64) std::atomic<uint64_t> tail_{0};  // the consumer's line
  uint64_t head_seen_ = 0;
};
static_assert(offsetof(SpscRing<Item<16>>, tail_) - offsetof(SpscRing<Item<16>>, head_) == 64);

struct SpscFamily {
  template <class T>
  using type = SpscRing<T>;
};

// Families: the buffer type for an item type, per primitive.
template <class B>
struct SemaphoreFamily {
  template <class T>
  using type = SemaphoreRing<typename B::Semaphore, typename B::Lock, T>;
};
template <class B>
struct ConditionFamily {
  template <class T>
  using type = ConditionRing<typename B::Lock, typename B::Condition, T>;
};
template <class B>
struct QueueFamily {
  template <class T>
  using type = typename B::template Queue<T>;
};
template <class B>
struct JoinableFamily {
  template <class T>
  using type = typename B::template JoinableQueue<T>;
};

template <class Tr>
constexpr bool kJoinable = requires(Tr& t) {
  t.task_done();
  t.join();
};

struct alignas(64) PerProducer {
  std::atomic<uint64_t> put{0};        // items put (distinct sequence numbers), by the producer
  std::atomic<uint64_t> got{0}, sum{0}, sumsq{0};  // tallies, added by consumers when they stop
  std::atomic<uint64_t> processed{0};  // joinable_queue: counted before each task_done()
};

struct Common {
  int64_t msg_size = 0;
  char init_error[160] = {};  // the backend refused the buffer (e.g. a POSIX mqueue limit): why
  alignas(64) std::atomic<uint32_t> producers_left{0};
  alignas(64) std::atomic<uint64_t> order_errors{0}, torn{0}, early_joins{0};
  PerProducer per[kMaxWorkers];
  static_assert(std::extent_v<decltype(per)> >= static_cast<std::size_t>(kMaxWorkers),
                "a slot per worker: --procs goes up to kMaxWorkers (harness/workload.hpp)");
};
constexpr std::size_t kRingOffset = (sizeof(Common) + 63) / 64 * 64;

template <class Tr>
Tr& ring_of(void* p) {
  return *std::launder(reinterpret_cast<Tr*>(static_cast<char*>(p) + kRingOffset));
}

struct Roles {
  int producers = 0, consumers = 0;
};
Roles roles_of(const RunConfig& c) {
  Roles r{static_cast<int>(c.param("producers")), static_cast<int>(c.param("consumers"))};
  if (r.producers == 0 && r.consumers == 0) {
    r.producers = c.procs / 2;
    r.consumers = c.procs - r.producers;
  } else if (r.producers == 0) {
    r.producers = c.procs - r.consumers;
  } else if (r.consumers == 0) {
    r.consumers = c.procs - r.producers;
  }
  return r;
}

template <class Tr, std::size_t S>
void produce(Common& c, Tr& tr, WorkerEnv& env, const Roles& roles) {
  const uint64_t me = static_cast<uint64_t>(env.index);
  const uint64_t limit = env.cfg->ops_per_worker;
  const bool dup = env.cfg->fault == "dup_item" && me == 0;  // test-only: item 3 is put twice
  Item<S> it;
  Window& win = env.window;
  uint64_t seq = 0, puts = 0, measured = 0;
  auto put = [&](uint64_t sq, bool m) {
    it.tag = me << kProducerShift | (m ? kMeasuredBit : 0) | sq;
    if constexpr (S > 16)
      for (std::size_t i = 0; i < it.body.size(); ++i) it.body[i] = body_word(it.tag, i);
    it.t_put = Clock::ticks();
    tr.put(it);
    ++puts;
  };
  // A producer's window opens with its first measured put and closes after its last; its items
  // are counted where they are consumed.
  for (;;) {
    const uint32_t phase = env.ctl->phase.load(std::memory_order_relaxed);
    const bool m = phase != Control::kWarmup;
    if (m) {
      if (limit ? measured >= limit : phase == Control::kStop) break;
      if (measured++ == 0) win.open();
    }
    put(seq, m);
    if (dup && seq == 3) put(seq, m);
    ++seq;
  }
  win.close();
  c.per[me].put.store(seq, std::memory_order_relaxed);
  if (c.producers_left.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    Item<S> stop{};
    stop.tag = kSentinel;
    for (int i = 0; i < roles.consumers; ++i) tr.put(stop);
  }
  if constexpr (kJoinable<Tr>) {
    tr.join();  // every item put so far, this producer's included, has been task_done()
    if (c.per[me].processed.load(std::memory_order_acquire) != puts)
      c.early_joins.fetch_add(1, std::memory_order_relaxed);
  }
}

template <class Tr, std::size_t S>
void consume(Common& c, Tr& tr, WorkerEnv& env, const Roles& roles) {
  Window& win = env.window;
  const bool drop = env.cfg->fault == "drop_item";  // test-only: producer 0's item 3 is lost
  const auto np = static_cast<std::size_t>(roles.producers);
  std::vector<uint64_t> next(np, 0), got(np, 0), sum(np, 0), sumsq(np, 0);
  uint64_t torn = 0, order = 0;
  for (;;) {
    const Item<S> it = tr.get();
    const uint64_t t1 = Clock::ticks();
    if (it.tag == kSentinel) {
      if constexpr (kJoinable<Tr>) tr.task_done();
      break;
    }
    const uint64_t p = it.tag >> kProducerShift, seq = it.tag & kSeqMask;
    const bool measured = (it.tag & kMeasuredBit) != 0;  // put in the measured phase
    if constexpr (S > 16)
      for (std::size_t i = 0; i < it.body.size(); ++i)
        if (it.body[i] != body_word(it.tag, i)) {
          ++torn;
          break;
        }
    bool counted = false;
    if (p >= np || seq < next[p]) {
      ++order;
    } else if (!(drop && p == 0 && seq == 3)) {  // the fault: consumed but never counted
      next[p] = seq + 1;
      ++got[p];
      sum[p] += seq;
      sumsq[p] += seq * seq;
      counted = true;
    }
    if constexpr (kJoinable<Tr>) {
      if (counted) c.per[p].processed.fetch_add(1, std::memory_order_release);
      tr.task_done();
    }
    win.count(measured);
    if (measured && win.sample()) win.wakeup(it.t_put, t1);
  }
  for (std::size_t p = 0; p < np; ++p) {
    c.per[p].got.fetch_add(got[p], std::memory_order_relaxed);
    c.per[p].sum.fetch_add(sum[p], std::memory_order_relaxed);
    c.per[p].sumsq.fetch_add(sumsq[p], std::memory_order_relaxed);
  }
  if (torn) c.torn.fetch_add(torn, std::memory_order_relaxed);
  if (order) c.order_errors.fetch_add(order, std::memory_order_relaxed);
}

template <class F>
Instance make_bounded_buffer() {
  Instance in;
  std::size_t ring = 0;
  for (std::size_t s : kSizes)
    with_size(static_cast<int64_t>(s), [&]<std::size_t S>() {
      using Tr = typename F::template type<Item<S>>;
      ring = std::max(ring, Tr::bytes_for(capacity_limit(S)));
    });
  in.shared_bytes = kRingOffset + ring;
  in.init = [](void* p, const RunConfig& cfg) {
    auto* c = ::new (p) Common();
    c->msg_size = cfg.param("msg_size");
    c->producers_left.store(static_cast<uint32_t>(roles_of(cfg).producers));
    // A backend may refuse the buffer (a system limit): every worker then reports why (an
    // `error` row) instead of the whole bench stopping here.
    try {
      with_size(c->msg_size, [&]<std::size_t S>() {
        using Tr = typename F::template type<Item<S>>;
        Tr::create_at(static_cast<char*>(p) + kRingOffset, static_cast<uint32_t>(cfg.param("capacity")));
      });
    } catch (const std::exception& e) {
      std::snprintf(c->init_error, sizeof c->init_error, "%s", e.what());
    }
  };
  in.body = [](void* p, WorkerEnv& env) {
    auto& c = *static_cast<Common*>(p);
    if (c.init_error[0]) throw std::runtime_error(c.init_error);
    const Roles roles = roles_of(*env.cfg);
    with_size(c.msg_size, [&]<std::size_t S>() {
      using Tr = typename F::template type<Item<S>>;
      if (env.index < roles.producers)
        produce<Tr, S>(c, ring_of<Tr>(p), env, roles);
      else
        consume<Tr, S>(c, ring_of<Tr>(p), env, roles);
    });
  };
  in.verify = [](void* p, const RunConfig& cfg, const Totals&) {
    auto& c = *static_cast<Common*>(p);
    if (c.init_error[0]) return VerifyResult{false, c.init_error};
    const Roles roles = roles_of(cfg);
    uint64_t put = 0, got = 0, bad = 0;
    for (int pr = 0; pr < roles.producers; ++pr) {
      const PerProducer& pp = c.per[pr];
      const uint64_t n = pp.put.load(), g = pp.got.load();
      const u128 n128 = n;
      const uint64_t want_sum = n ? static_cast<uint64_t>(n128 * (n128 - 1) / 2) : 0;
      const uint64_t want_sumsq = n ? static_cast<uint64_t>((n128 - 1) * n128 * (2 * n128 - 1) / 6) : 0;
      put += n;
      got += g;
      if (g != n || pp.sum.load() != want_sum || pp.sumsq.load() != want_sumsq) ++bad;
    }
    bool empty = true;
    uint64_t unfinished = 0;
    with_size(c.msg_size, [&]<std::size_t S>() {
      using Tr = typename F::template type<Item<S>>;
      Tr& tr = ring_of<Tr>(p);
      empty = tr.empty();
      if constexpr (requires { tr.unfinished(); }) unfinished = tr.unfinished();
    });
    VerifyResult r;
    r.ok = bad == 0 && c.order_errors.load() == 0 && c.torn.load() == 0 && c.early_joins.load() == 0 && empty &&
           unfinished == 0;
    r.detail = "put=" + std::to_string(put) + " got=" + std::to_string(got) + " bad_producers=" + std::to_string(bad) +
               " order_errors=" + std::to_string(c.order_errors.load()) + " torn=" + std::to_string(c.torn.load()) +
               " early_joins=" + std::to_string(c.early_joins.load()) + (empty ? "" : " NOT_EMPTY") +
               (unfinished ? " unfinished=" + std::to_string(unfinished) : "");
    return r;
  };
  in.destroy = [](void* p) {
    auto* c = static_cast<Common*>(p);
    if (!c->init_error[0])  // a backend's buffer may hold a descriptor
      with_size(c->msg_size, [&]<std::size_t S>() {
        using Tr = typename F::template type<Item<S>>;
        std::destroy_at(&ring_of<Tr>(p));
      });
    c->~Common();
  };
  return in;
}

// The roles it drives, declared once (WorkloadDef::primitives and the factory's dispatch).
using DrivenRoles = WorkloadRoles<roles::Semaphore, roles::Condition, roles::Queue, roles::JoinableQueue>;

std::optional<Instance> make(const std::string& primitive, const std::string& backend) {
  if (primitive == "spsc_ring") return backend == "native" ? std::optional(make_bounded_buffer<SpscFamily>()) : std::nullopt;
  return DrivenRoles::make(primitive, backend, []<class R, class B>() {
    if constexpr (std::is_same_v<R, roles::Semaphore>)
      return make_bounded_buffer<SemaphoreFamily<B>>();
    else if constexpr (std::is_same_v<R, roles::Condition>)
      return make_bounded_buffer<ConditionFamily<B>>();
    else if constexpr (std::is_same_v<R, roles::Queue>)
      return make_bounded_buffer<QueueFamily<B>>();
    else
      return make_bounded_buffer<JoinableFamily<B>>();
  });
}

std::string validate(const RunConfig& c) {
  const int64_t msg = c.param("msg_size");
  if (std::find(std::begin(kSizes), std::end(kSizes), static_cast<std::size_t>(msg)) == std::end(kSizes))
    return "--msg-size: bounded_buffer carries items of 16, 64, 256, 1024 or 4096 bytes (got " + std::to_string(msg) + ")";
  const int64_t cap = c.param("capacity"), lim = capacity_limit(static_cast<std::size_t>(msg));
  if (cap > lim)
    return "--capacity: at --msg-size " + std::to_string(msg) + " the ring holds at most " + std::to_string(lim) +
           " items (" + std::to_string(kMaxRingBytes >> 20) + " MiB); got " + std::to_string(cap);
  const Roles r = roles_of(c);
  if (c.procs < 2)
    return "--procs: bounded_buffer needs at least 2 processes, a producer and a consumer (got " +
           std::to_string(c.procs) + ")";
  if (r.producers < 1 || r.consumers < 1 || r.producers + r.consumers != c.procs)
    return "--producers/--consumers: bounded_buffer needs at least one of each and producers + consumers == --procs (got " +
           std::to_string(r.producers) + " + " + std::to_string(r.consumers) + " for --procs " + std::to_string(c.procs) + ")";
  if (c.primitive == "spsc_ring" && (r.producers != 1 || r.consumers != 1))
    return "--procs: spsc_ring is a single-producer single-consumer ring: it needs --procs 2 (got " +
           std::to_string(r.producers) + " producers and " + std::to_string(r.consumers) + " consumers)";
  return "";
}

IPCSYNC_WORKLOAD(WorkloadDef{
    .name = "bounded_buffer",
    .description = "P producers and C consumers pass numbered items through a bounded buffer (semaphore pair, condition, queue or joinable queue); spsc_ring: the queue's ceiling",
    .primitives = [] {
      auto p = DrivenRoles::names();
      p.push_back("spsc_ring");  // the reference ring, no role: native only, 1 producer 1 consumer
      return p;
    }(),
    .default_for = {"spsc_ring"},
    .params = {{"producers", "producer processes (0: half of --procs, or --procs minus --consumers)", 0, 0, kMaxWorkers},
               {"consumers", "consumer processes (0: --procs minus the producers)", 0, 0, kMaxWorkers},
               {"capacity", "buffer capacity (items; the default fits POSIX mqueue's default msg_max of 10)", 8, 1, kMaxCapacity},
               {"msg_size", "item size in bytes: 16, 64, 256, 1024 or 4096", 64, 16, 4096}},
    .python_primitives = {},
    .faults = {"drop_item", "dup_item"},
    .make = make,
    .validate = validate,
    .default_sample_every = 1,
});

}  // namespace
}  // namespace ipcsync::harness::wl_bounded_buffer

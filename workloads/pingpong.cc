// workloads/pingpong.cc — two processes hand a message back and forth: the round trip of a
// handoff, and the cache-line floor beneath every handoff, measured in the same run.
//
// Workers pair up (0 with 1, 2 with 3, ...); in each pair the even worker pings and waits for
// the pong, the odd one waits for the ping and pongs back. One op is one message sent, so a
// pair's ops/s is twice its round trips/s. The pinger records each round trip (ping sent to
// pong received) in `latency`; the ponger records the one-way wake-up (ping sent to ponger
// running, from a timestamp the pinger stores just before sending) in `wakeup`.
//
//   primitive  | the message
//   -----------+---------------------------------------------------------------------------
//   cacheline  | the letter itself, spun on; the pong, a word of the ponger's own line: one line
//              | moves each way, the hardware floor (native only; it spins forever, so it only
//              | means something while procs <= cores)
//   semaphore  | two Semaphores(0): ping.release() / pong.acquire()
//   event      | two Events: set() / wait() + clear()
//   condition  | one Lock, one Condition, a turn variable: notify() / wait() until it is my turn
//
// Fault stale_message (tests only): every pinger's third letter carries message 1 again, so its
// ponger sees an old message.
//
// Stop: the pinger, seeing the stop phase (or its last --ops), sends one last letter with the
// stop bit, so the ponger never stays blocked. Verify: in every pair the ponger saw exactly the
// sequence numbers the pinger sent, in order, and answered each one.
#include <atomic>
#include <cstddef>
#include <mutex>
#include <new>

#include "harness/backends.hpp"
#include "harness/workload.hpp"

// Its own namespace, so that the workloads can be compiled together (a unity build, CMakeLists.txt).
namespace ipcsync::harness::wl_pingpong {
namespace {

constexpr int kMaxPairs = 512;  // bench's --procs limit / 2

// The letter: what the pinger sends, in one line that only the pinger writes. `word` is the
// sequence number, with kStopBit set on the last letter; `t_ping` is Clock::ticks() just before
// sending, for the ponger's one-way wake-up. Both are in the same line, so a letter is one line
// transfer, and the ponger's replies go back in a line of its own: a round trip of the cache-line
// floor moves exactly one line each way (an independent spinning ping-pong does the same).
struct alignas(64) Letter {
  static constexpr uint64_t kStopBit = uint64_t{1} << 63;
  std::atomic<uint64_t> word{0};
  std::atomic<uint64_t> t_ping{0};
};

// What the ponger keeps: its own line, written by it only (read by verify after the run).
struct alignas(64) PongerBook {
  uint64_t received = 0, errors = 0;
};

// The four transports. Each: ping(letter) after the letter is written, wait_ping(letter) until
// a new letter arrived, pong(), wait_pong().
struct CachelineMsg {
  // The letter's word is the ping itself: the ponger spins on it (one line, pinger to ponger);
  // the pong is a word of the ponger's own line (one line back).
  alignas(64) std::atomic<uint64_t> pong_w{0};
  uint64_t seen = 0;  // ponger's own, in the pong line
  alignas(64) uint64_t sent = 0;  // pinger's own (pongs it waits for), apart from the pong line
  void ping(Letter&) { ++sent; }  // the word's release store was the ping
  void wait_ping(Letter& l) {
    uint64_t v;
    while ((v = l.word.load(std::memory_order_acquire)) == seen) cpu_relax();
    seen = v;
  }
  void pong() { pong_w.store(pong_w.load(std::memory_order_relaxed) + 1, std::memory_order_release); }
  void wait_pong() {
    while (pong_w.load(std::memory_order_acquire) != sent) cpu_relax();
  }
};

// The floor's layout: the letter is one line; the pong word and the ponger's `seen` share one
// other line; the pinger's `sent` is in neither (so the pinger's bookkeeping never pulls the
// ponger's line, nor the reverse).
static_assert(sizeof(Letter) == 64 && alignof(Letter) == 64);
static_assert(offsetof(CachelineMsg, seen) < 64 && offsetof(CachelineMsg, sent) >= 64);

template <class S>
struct SemaphoreMsg {
  S ping_s{0u}, pong_s{0u};
  void ping(Letter&) { ping_s.release(); }
  void wait_ping(Letter&) { ping_s.acquire(); }
  void pong() { pong_s.release(); }
  void wait_pong() { pong_s.acquire(); }
};

template <class E>
struct EventMsg {
  E ping_e, pong_e;
  void ping(Letter&) { ping_e.set(); }
  void wait_ping(Letter&) {
    ping_e.wait();
    ping_e.clear();  // before the pong, so the next ping cannot be lost
  }
  void pong() { pong_e.set(); }
  void wait_pong() {
    pong_e.wait();
    pong_e.clear();
  }
};

template <class L, class C>
struct ConditionMsg {
  L lock;
  C cond{lock};  // constructed once, bound to `lock` (declared first, so constructed first)
  alignas(64) uint32_t turn = 0;  // 1: ping in flight, 0: pong back (under lock)
  void ping(Letter&) {
    std::scoped_lock g(lock);
    turn = 1;
    cond.notify();
  }
  void wait_ping(Letter&) {
    std::unique_lock g(lock);
    while (turn != 1) cond.wait();
  }
  void pong() {
    std::scoped_lock g(lock);
    turn = 0;
    cond.notify();
  }
  void wait_pong() {
    std::unique_lock g(lock);
    while (turn != 0) cond.wait();
  }
};

template <class M>
struct Pair {
  Letter letter;
  PongerBook book;
  M msg;
};

template <class M>
struct Shared {
  Pair<M> pairs[kMaxPairs];
};

template <class M>
Instance make_pingpong() {
  using S = Shared<M>;
  auto body = [](S* s, WorkerEnv& env) {
    Pair<M>& pr = s->pairs[env.index / 2];
    Window& w = env.window;
    if (env.index % 2 == 0) {  // pinger
      const uint64_t limit = env.cfg->ops_per_worker;
      const bool stale = env.cfg->fault == "stale_message";  // test-only: each pinger resends message 2 as 3
      for (uint64_t seq = 1;; ++seq) {
        const bool measuring = w.enter(*env.ctl);
        if (limit ? (measuring && w.ops() >= limit)
                  : env.ctl->phase.load(std::memory_order_relaxed) == Control::kStop) {
          pr.letter.word.store(seq | Letter::kStopBit, std::memory_order_release);
          pr.msg.ping(pr.letter);  // the last letter releases the ponger; no pong comes back
          break;
        }
        // The fault (tests only): the third letter carries message 1 again.
        const uint64_t word = stale && seq == 3 ? 1 : seq;
        const uint64_t t0 = Clock::ticks();
        pr.letter.t_ping.store(t0, std::memory_order_relaxed);
        pr.letter.word.store(word, std::memory_order_release);
        pr.msg.ping(pr.letter);
        pr.msg.wait_pong();
        const uint64_t t1 = Clock::ticks();
        w.count(measuring);
        if (measuring && w.sample()) w.latency(t0, t1);
      }
    } else {  // ponger
      for (uint64_t expect = 1;; ++expect) {
        pr.msg.wait_ping(pr.letter);
        const uint64_t t1 = Clock::ticks();
        const uint64_t word = pr.letter.word.load(std::memory_order_acquire);
        if ((word & ~Letter::kStopBit) != expect) ++pr.book.errors;
        if (word & Letter::kStopBit) break;
        const bool measuring = w.enter(*env.ctl);
        const uint64_t t0 = pr.letter.t_ping.load(std::memory_order_relaxed);
        ++pr.book.received;
        pr.msg.pong();
        w.count(measuring);
        w.wakeup(t0, t1);
      }
    }
  };
  auto verify = [](S* s, const RunConfig& cfg, const Totals& t) {
    uint64_t errors = 0, mismatched = 0;
    for (int i = 0; i + 1 < cfg.procs; i += 2) {
      const Pair<M>& pr = s->pairs[i / 2];
      errors += pr.book.errors;
      // Pinger's rounds (warm-up included) == ponger's answers.
      if (pr.book.received != t.per_worker_ops[static_cast<std::size_t>(i)]) ++mismatched;
      if (pr.book.received != t.per_worker_ops[static_cast<std::size_t>(i + 1)]) ++mismatched;
    }
    VerifyResult r;
    r.ok = errors == 0 && mismatched == 0;
    r.detail = "pairs=" + std::to_string(cfg.procs / 2) + " sequence_errors=" + std::to_string(errors) +
               " unanswered=" + std::to_string(mismatched);
    return r;
  };
  return instance_of<S>(body, verify);
}

// The roles it drives, declared once (WorkloadDef::primitives and the factory's dispatch), and
// the cache-line floor, which is no role: a plain line, native only.
using DrivenRoles = WorkloadRoles<roles::Semaphore, roles::Event, roles::Condition>;

std::optional<Instance> make(const std::string& primitive, const std::string& backend) {
  if (primitive == "cacheline") return backend == "native" ? std::optional(make_pingpong<CachelineMsg>()) : std::nullopt;
  return DrivenRoles::make(primitive, backend, []<class R, class B>() {
    if constexpr (std::is_same_v<R, roles::Semaphore>)
      return make_pingpong<SemaphoreMsg<typename B::Semaphore>>();
    else if constexpr (std::is_same_v<R, roles::Event>)
      return make_pingpong<EventMsg<typename B::Event>>();
    else
      return make_pingpong<ConditionMsg<typename B::Lock, typename B::Condition>>();
  });
}

IPCSYNC_WORKLOAD(WorkloadDef{
    .name = "pingpong",
    .description = "Pairs of processes bounce a message: round trip and one-way wake-up, with the cache-line floor",
    .primitives = [] {
      auto p = DrivenRoles::names();
      p.insert(p.begin(), "cacheline");
      return p;
    }(),
    .default_for = {"cacheline"},
    .params = {},
    .python_primitives = {"semaphore", "event", "condition"},
    .faults = {"stale_message"},
    .make = make,
    .validate = [](const RunConfig& c) -> std::string {
      if (c.procs % 2) return "--procs: pingpong pairs processes, so it needs an even count (got " + std::to_string(c.procs) + ")";
      return "";
    },
    .default_sample_every = 1,
});

// c2c: the core-to-core matrix of the floor. The same one-line round trip as pingpong's
// cacheline, on every unordered pair of the allowed PUs (every_pu_pair: bench makes one run, so
// one row, per pair, pus=a;b). lat_* is the round trip, wake_* the one-way letter; plot.py draws
// the matrix as a heatmap.
IPCSYNC_WORKLOAD(WorkloadDef{
    .name = "c2c",
    .description = "Core-to-core matrix: the one-line round trip between every pair of allowed PUs, one row per pair",
    .primitives = {"cacheline"},
    .default_for = {},
    .params = {},
    .python_primitives = {},
    .faults = {"stale_message"},
    .make = [](const std::string& primitive, const std::string& backend) -> std::optional<Instance> {
      if (primitive == "cacheline" && backend == "native") return make_pingpong<CachelineMsg>();
      return std::nullopt;
    },
    .validate = {},
    .default_sample_every = 1,
    .has_unsafe = false,
    .every_pu_pair = true,
});

}  // namespace
}  // namespace ipcsync::harness::wl_pingpong

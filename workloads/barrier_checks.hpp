// workloads/barrier_checks.hpp — what barrier_rounds and phased_barrier both check of a barrier
// every round, and the round bookkeeping they share.
//
//   phase invariant  when a worker leaves round r's wait, every worker has finished phase r
//                    and none has finished phase r+2 (all workers checked up to 64, a rotating
//                    sample of 64 above);
//   arrival indexes  round r's wait() results are a permutation of 0..n-1: each round's marks
//                    go into a bitmap that the last mark of the round checks and clears, before
//                    anyone can arrive at round r+1 (so before anyone marks round r+2);
//   round kinds      worker 0 classifies each round (warm-up, measured, stop) before it arrives,
//                    in kind[r % 2], so that every worker ends on the same round;
//   jitter           the busy work between waits, 50%..150% of --work-ns, per-worker xorshift.
#pragma once

#include <atomic>
#include <cstdint>
#include <type_traits>

#include "harness/clock.hpp"
#include "harness/workload.hpp"

namespace ipcsync::harness::barrier_checks {

static_assert(kMaxWorkers % 64 == 0, "the phase masks hold kMaxWorkers bits in whole words");
inline constexpr int kMaskWords = kMaxWorkers / 64;
enum : uint32_t { kWarm = 0, kMeasured = 1, kStop = 2 };

struct Checks {
  alignas(64) std::atomic<uint32_t> kind[2] = {};  // round r's kind in kind[r % 2], by worker 0
  std::atomic<uint64_t> rounds{0};                  // rounds worker 0 classified
  alignas(64) std::atomic<uint64_t> phase_errors{0};
  std::atomic<uint64_t> index_errors{0};
  alignas(64) std::atomic<uint32_t> marked[2] = {};
  std::atomic<uint64_t> mask[2][kMaskWords] = {};
  struct alignas(64) Done {
    std::atomic<uint64_t> phases{0};  // phases this worker has finished
  };
  Done done[kMaxWorkers];
  static_assert(std::extent_v<decltype(done)> >= static_cast<std::size_t>(kMaxWorkers),
                "a slot per worker: --procs goes up to kMaxWorkers (harness/workload.hpp)");

  void finished(int me, uint64_t r) { done[me].phases.store(r + 1, std::memory_order_relaxed); }

  // classify(): worker 0, before it arrives at round r: warm-up, measured, or the stop round
  // (the run's stop phase, or --ops measured rounds done).
  uint32_t classify(uint64_t r, const Control& ctl, uint64_t limit, uint64_t measured) {
    const uint32_t phase = ctl.phase.load(std::memory_order_relaxed);
    uint32_t k = phase == Control::kWarmup ? kWarm : kMeasured;
    if (limit ? (k == kMeasured && measured >= limit) : phase == Control::kStop) k = kStop;
    kind[r & 1].store(k, std::memory_order_relaxed);
    rounds.fetch_add(1, std::memory_order_relaxed);
    return k;
  }
  uint32_t kind_of(uint64_t r) const { return kind[r & 1].load(std::memory_order_relaxed); }

  // check_phase(): the phase invariant, after leaving round r's wait.
  void check_phase(int n, uint64_t r) {
    const int checks = n <= 64 ? n : 64;
    for (int c = 0; c < checks; ++c) {
      const int j = n <= 64 ? c : static_cast<int>((static_cast<uint64_t>(c) * 2654435761u + r) % static_cast<uint64_t>(n));
      const uint64_t d = done[j].phases.load(std::memory_order_relaxed);
      if (d < r + 1 || d > r + 2) phase_errors.fetch_add(1, std::memory_order_relaxed);
    }
  }

  // mark(): round r's arrival index idx; the round's last mark checks and clears the bitmap.
  void mark(int n, uint64_t r, uint32_t idx) {
    const int par = static_cast<int>(r & 1);
    if (idx >= static_cast<uint32_t>(n)) index_errors.fetch_add(1, std::memory_order_relaxed);
    else mask[par][idx / 64].fetch_or(uint64_t{1} << (idx % 64), std::memory_order_relaxed);
    if (marked[par].fetch_add(1, std::memory_order_acq_rel) + 1 == static_cast<uint32_t>(n)) {
      for (int w = 0; w < kMaskWords; ++w) {
        const int lo = w * 64;
        const uint64_t want = lo >= n ? 0 : (n - lo >= 64 ? ~uint64_t{0} : (uint64_t{1} << (n - lo)) - 1);
        if (mask[par][w].exchange(0, std::memory_order_relaxed) != want) index_errors.fetch_add(1, std::memory_order_relaxed);
      }
      marked[par].store(0, std::memory_order_release);
    }
  }

  // A round left open: some marks of it never completed (a worker skipped its wait).
  bool round_open() const { return marked[0].load() != 0 || marked[1].load() != 0; }
};

// Jitter: the busy work between waits, 50%..150% of work_ns, drawn per worker.
struct Jitter {
  uint64_t x;
  explicit Jitter(int me) : x(0x2545f4914f6cdd1dull * static_cast<uint64_t>(me + 1)) {}
  void work(uint64_t ns) {
    if (!ns) return;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    Clock::busy_ns(ns / 2 + x % (ns + 1));
  }
};

// equal_rounds(): every worker did the same rounds, warm-up included.
inline bool equal_rounds(const Totals& t) {
  for (uint64_t w : t.per_worker_ops)
    if (w != t.per_worker_ops.front()) return false;
  return true;
}

}  // namespace ipcsync::harness::barrier_checks

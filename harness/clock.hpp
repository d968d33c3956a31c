// clock.hpp — the harness's cheap, calibrated clock.
//
// On x86-64 with an invariant TSC (constant_tsc + nonstop_tsc) ticks() is LFENCE;RDTSC and
// costs a few ns; to_ns() converts with the rate measured against CLOCK_MONOTONIC at start-up.
// Elsewhere ticks() falls back to clock_gettime(CLOCK_MONOTONIC) in ns. calibrate() runs once
// in the parent before fork, so every worker shares the same conversion. overhead_ns() is the
// median cost of one back-to-back ticks() pair: what a span timed as ticks(); work; ticks()
// reads when the work is empty. Every latency the harness records is net of it (net_ns(): the
// span minus that overhead, floored at 0), so a percentile is the operation's own time, not
// the clock's; the raw overhead is in the JSON context ("clock") and in each row
// (clock_overhead_ns). resolution_ns() is the clock's step: the greatest common divisor of many
// measured spans (on AMD Zen the TSC advances in steps of ~10 ns, the 100 MHz reference clock
// times the multiplier; on most Intel cores by 1). A single op shorter than a step cannot be
// timed alone: its net sample reads 0 or one step, and only a distribution over many ops or
// the throughput (1e9 / ops_per_sec) resolves it. The table prints such a percentile as
// "<step"; the JSON context records the step.
#pragma once

#include <cstdint>
#include <string>
#include <time.h>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace ipcsync::harness {

class Clock {
 public:
  static void calibrate();

  static inline uint64_t ticks() noexcept {
#if defined(__x86_64__)
    if (tsc_) {
      _mm_lfence();
      return __rdtsc();
    }
#endif
    return mono_ns();
  }
  static inline uint64_t mono_ns() noexcept {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
  }
  static inline double to_ns(uint64_t dticks) noexcept { return static_cast<double>(dticks) * ns_per_tick_; }
  // net_ns(): a span of `dticks` between two ticks() reads, in ns, net of the clock's own cost.
  static inline uint64_t net_ns(uint64_t dticks) noexcept {
    return dticks > overhead_ticks_ ? static_cast<uint64_t>(to_ns(dticks - overhead_ticks_)) : 0;
  }
  static inline uint64_t ns_to_ticks(uint64_t ns) noexcept {
    return static_cast<uint64_t>(static_cast<double>(ns) / ns_per_tick_);
  }

  // busy_ns(): spins (no pause, no syscall) for about ns nanoseconds of simulated work.
  static inline void busy_ns(uint64_t ns) noexcept {
    if (ns == 0) return;
    const uint64_t end = ticks() + ns_to_ticks(ns);
    while (ticks() < end) {
    }
  }

  static const char* source() noexcept { return tsc_ ? "tsc" : "clock_gettime"; }
  static double ticks_per_ns() noexcept { return 1.0 / ns_per_tick_; }
  static double overhead_ns() noexcept { return overhead_ns_; }
  static double resolution_ns() noexcept { return resolution_ns_; }

 private:
  static inline bool tsc_ = false;
  static inline double ns_per_tick_ = 1.0;
  static inline double overhead_ns_ = 0.0;
  static inline uint64_t overhead_ticks_ = 0;
  static inline double resolution_ns_ = 1.0;
};

}  // namespace ipcsync::harness

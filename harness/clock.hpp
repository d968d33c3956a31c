// clock.hpp — the harness's cheap, calibrated clock.
//
// On x86-64 with an invariant TSC (constant_tsc + nonstop_tsc) ticks() is LFENCE;RDTSC and
// costs a few ns; to_ns() converts with the rate measured against CLOCK_MONOTONIC at start-up.
// Elsewhere ticks() falls back to clock_gettime(CLOCK_MONOTONIC) in ns. calibrate() runs once
// in the parent before fork, so every worker shares the same conversion. overhead_ns() is the
// median cost of one back-to-back ticks() pair, reported in the JSON context so readers know
// the floor under every latency figure.
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

 private:
  static inline bool tsc_ = false;
  static inline double ns_per_tick_ = 1.0;
  static inline double overhead_ns_ = 0.0;
};

}  // namespace ipcsync::harness

// noise.hpp — what else the machine did while a run measured, and what the run itself cost.
//
// A shared machine can make a row wrong without making it fail. Each row therefore records,
// beside its figures:
//   * the CPU time of its workers (user and system, from getrusage(RUSAGE_THREAD) at the end of
//     each worker, or the python backend's workers' own getrusage) and their voluntary and
//     involuntary context switches; cpu_ns_per_op divides that CPU time by every op the workers
//     did, warm-up included (the CPU time covers the warm-up too). Spinning shows here as CPU
//     time per op far above the op's latency; parking as context switches;
//   * steal_pct: the hypervisor's steal time over the run, in % of the allowed PUs' time;
//   * others_pct: CPU time used by anything but this run (other processes, interrupts) on the
//     allowed PUs, in % of their time: /proc/stat's busy time minus bench's own (its reaped
//     workers' and its own threads');
//   * load1: the 1-minute load average when the run started (it includes bench's own earlier
//     runs, so it is context, not the test).
// noisy is set when steal_pct > kNoisyStealPct or others_pct > kNoisyOthersPct. Nothing is
// refused: the table marks the row, bench prints one warning line, the CSV says so.
#pragma once

#include <cstdint>
#include <vector>

namespace ipcsync::harness {

inline constexpr double kNoisyStealPct = 5.0;
inline constexpr double kNoisyOthersPct = 10.0;

struct NoiseSample {
  uint64_t busy = 0, steal = 0, total = 0;  // jiffies (USER_HZ) summed over the allowed PUs
  uint64_t own_cpu_ns = 0;                  // bench's CPU: itself + every child it reaped
  bool valid = false;
};

struct Noise {
  double steal_pct = 0, others_pct = 0;
  bool valid = false;
};

// sample_noise(): /proc/stat for the PUs in `pus` (OS indexes) and bench's own CPU so far.
NoiseSample sample_noise(const std::vector<int>& pus);
// noise_between(): what happened on those PUs between two samples.
Noise noise_between(const NoiseSample& a, const NoiseSample& b);
// load1(): the 1-minute load average now (-1 if unknown).
double load1();

}  // namespace ipcsync::harness

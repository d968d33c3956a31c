// clock.cc — TSC detection and calibration.
#include "harness/clock.hpp"

#include <algorithm>
#include <numeric>
#include <fstream>
#include <string>
#include <vector>

namespace ipcsync::harness {
namespace {

bool invariant_tsc() {
#if defined(__x86_64__)
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) == 0)
      return line.find(" constant_tsc") != std::string::npos &&
             line.find(" nonstop_tsc") != std::string::npos;
  }
#endif
  return false;
}

}  // namespace

void Clock::calibrate() {
  tsc_ = invariant_tsc();
  ns_per_tick_ = 1.0;
  if (tsc_) {
    // Rate: TSC ticks over ~20 ms of CLOCK_MONOTONIC, best of three.
    std::vector<double> rates;
    for (int i = 0; i < 3; ++i) {
      const uint64_t n0 = mono_ns(), t0 = ticks();
      while (mono_ns() - n0 < 20'000'000) {
      }
      const uint64_t n1 = mono_ns(), t1 = ticks();
      rates.push_back(static_cast<double>(n1 - n0) / static_cast<double>(t1 - t0));
    }
    std::sort(rates.begin(), rates.end());
    ns_per_tick_ = rates[1];
  }
  // Overhead: median of back-to-back reads, after 5 ms of reads so the core is warm.
  for (const uint64_t until = mono_ns() + 5'000'000; mono_ns() < until;) (void)ticks();
  std::vector<uint64_t> d(2001);
  for (auto& x : d) {
    const uint64_t a = ticks();
    const uint64_t b = ticks();
    x = b - a;
  }
  std::nth_element(d.begin(), d.begin() + d.size() / 2, d.end());
  overhead_ticks_ = d[d.size() / 2];
  overhead_ns_ = to_ns(overhead_ticks_);
  // Resolution: the gcd of spans of varied length (a few reads to a few hundred ns of work).
  uint64_t g = 0;
  volatile uint64_t sink = 0;
  for (int i = 0; i < 2000 && g != 1; ++i) {
    const uint64_t a = ticks();
    for (int k = 0; k < i % 37; ++k) sink = sink + 1;
    const uint64_t b = ticks();
    g = std::gcd(g, b - a);
  }
  resolution_ns_ = std::max(1.0, to_ns(g));
}

}  // namespace ipcsync::harness

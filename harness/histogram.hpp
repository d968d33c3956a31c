// histogram.hpp — a log-bucketed latency histogram (HdrHistogram-style layout).
//
// Values (ns) below 64 get a bucket each; above, every power of two [2^m, 2^(m+1)) is split into
// 64 equal sub-buckets, so a reported value is within 1/64 (1.6%) of the true one. Values above
// 2^kMaxMagnitude ns (~4.9 h) land in the last bucket. Recording is a bit scan, two shifts and
// an increment. Fixed size, no pointers: one lives in each worker's shared slot and the parent
// merges them.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>

namespace ipcsync::harness {

class LogHistogram {
 public:
  static constexpr int kSubBits = 6;
  static constexpr uint64_t kSub = 1u << kSubBits;  // 64
  static constexpr int kMaxMagnitude = 44;
  static constexpr std::size_t kBuckets = kSub + (kMaxMagnitude - kSubBits) * kSub;

  void record(uint64_t v) noexcept {
    ++counts_[index(v)];
    ++total_;
    if (v > max_) max_ = v;
    if (v < min_) min_ = v;
  }

  void merge(const LogHistogram& o) noexcept {
    for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
    total_ += o.total_;
    max_ = std::max(max_, o.max_);
    min_ = std::min(min_, o.min_);
  }

  void clear() noexcept { *this = LogHistogram{}; }

  // add_bucket(): merges n samples known only by bucket (e.g. from the python backend, which
  // uses the same layout), plus the exact min and max of those samples.
  void add_bucket(std::size_t bucket, uint64_t n, uint64_t min_v, uint64_t max_v) noexcept {
    if (n == 0) return;
    counts_[std::min(bucket, kBuckets - 1)] += n;
    total_ += n;
    max_ = std::max(max_, max_v);
    min_ = std::min(min_, min_v);
  }

  uint64_t count() const noexcept { return total_; }
  uint64_t max() const noexcept { return total_ ? max_ : 0; }
  uint64_t min() const noexcept { return total_ ? min_ : 0; }

  // percentile(p), p in [0,100]: the midpoint of the bucket holding the ceil(p% * count)-th
  // smallest sample, clamped to [min, max]. Returns 0 for an empty histogram.
  double percentile(double p) const noexcept {
    if (total_ == 0) return 0.0;
    uint64_t rank = static_cast<uint64_t>(p / 100.0 * static_cast<double>(total_) + 0.999999);
    rank = std::clamp<uint64_t>(rank, 1, total_);
    uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) {
        const double mid = midpoint(i);
        return std::clamp(mid, static_cast<double>(min_), static_cast<double>(max_));
      }
    }
    return static_cast<double>(max_);
  }

  static std::size_t index(uint64_t v) noexcept {
    if (v < kSub) return static_cast<std::size_t>(v);
    const int m = 63 - std::countl_zero(v);  // >= kSubBits
    if (m >= kMaxMagnitude) return kBuckets - 1;
    const uint64_t sub = (v >> (m - kSubBits)) & (kSub - 1);
    return kSub + static_cast<std::size_t>(m - kSubBits) * kSub + static_cast<std::size_t>(sub);
  }
  static double lower_bound(std::size_t i) noexcept {
    if (i < kSub) return static_cast<double>(i);
    const std::size_t m = (i - kSub) / kSub + kSubBits;
    const std::size_t sub = (i - kSub) % kSub;
    return static_cast<double>((uint64_t{1} << m) + (uint64_t{sub} << (m - kSubBits)));
  }
  static double midpoint(std::size_t i) noexcept {
    if (i < kSub) return static_cast<double>(i);
    const std::size_t m = (i - kSub) / kSub + kSubBits;
    return lower_bound(i) + static_cast<double>(uint64_t{1} << (m - kSubBits)) / 2.0;
  }

 private:
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t total_ = 0;
  uint64_t max_ = 0;
  uint64_t min_ = UINT64_MAX;
};

}  // namespace ipcsync::harness

// histogram_test.cc — the log-bucketed latency histogram: bucket bounds, percentiles, merge.
#include <catch2/catch.hpp>

#include <random>

#include "harness/histogram.hpp"

using ipcsync::harness::LogHistogram;

TEST_CASE("histogram: every value lands in a bucket within 1/64 of it", "[histogram]") {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t v = rng() >> (rng() % 40 + 20);
    const std::size_t b = LogHistogram::index(v);
    REQUIRE(b < LogHistogram::kBuckets);
    const double lo = LogHistogram::lower_bound(b);
    REQUIRE(lo <= static_cast<double>(v));
    REQUIRE(static_cast<double>(v) - lo <= static_cast<double>(v) / 64.0 + 1.0);
  }
}

TEST_CASE("histogram: percentiles of a known distribution", "[histogram]") {
  LogHistogram h;
  for (uint64_t v = 1; v <= 10000; ++v) h.record(v);
  REQUIRE(h.count() == 10000);
  CHECK(h.percentile(50) == Approx(5000).epsilon(0.02));
  CHECK(h.percentile(99) == Approx(9900).epsilon(0.02));
  CHECK(h.percentile(100) == 10000);
  CHECK(h.min() == 1);
  CHECK(h.max() == 10000);
  LogHistogram other;
  for (int i = 0; i < 10000; ++i) other.record(1'000'000);
  h.merge(other);
  CHECK(h.count() == 20000);
  CHECK(h.percentile(25) == Approx(5000).epsilon(0.02));
  CHECK(h.percentile(75) == Approx(1'000'000).epsilon(0.02));
  CHECK(LogHistogram{}.percentile(50) == 0);
}

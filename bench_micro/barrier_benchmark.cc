// barrier_benchmark.cc — Barrier(1).wait(): one arrival completes the round (a CAS to arrive,
// a CAS to close, a store to open the next generation, the sleeper check), with and without
// an action passed to wait().
#include <benchmark/benchmark.h>

#include "ipcsync/barrier.hpp"
#include "ipcsync/shm.hpp"

namespace {

void BM_BarrierOne(benchmark::State& state) {
  ipcsync::AnonymousRegion region(4096);
  auto* b = region.make<ipcsync::Barrier>(1u);
  for (auto _ : state) benchmark::DoNotOptimize(b->wait());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BarrierOne)->Name("BM_Barrier/parties1_wait");

void BM_BarrierOneAction(benchmark::State& state) {
  ipcsync::AnonymousRegion region(4096);
  auto* b = region.make<ipcsync::Barrier>(1u);
  uint64_t n = 0;
  for (auto _ : state) benchmark::DoNotOptimize(b->wait([&] { ++n; }));
  benchmark::DoNotOptimize(n);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BarrierOneAction)->Name("BM_Barrier/parties1_wait_action");

}  // namespace

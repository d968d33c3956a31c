// rlock_benchmark.cc — RLock, uncontended: acquire+release, and a nested (depth 2) pair.
#include <benchmark/benchmark.h>

#include "ipcsync/rlock.hpp"
#include "ipcsync/shm.hpp"

namespace {

void BM_RLock(benchmark::State& state) {
  ipcsync::AnonymousRegion region(4096);
  auto* r = region.make<ipcsync::RLock>();
  for (auto _ : state) {
    r->acquire();
    r->release();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RLock)->Name("BM_RLock/acquire_release");

void BM_RLockNested(benchmark::State& state) {
  ipcsync::AnonymousRegion region(4096);
  auto* r = region.make<ipcsync::RLock>();
  for (auto _ : state) {
    r->acquire();
    r->acquire();
    r->release();
    r->release();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RLockNested)->Name("BM_RLock/nested_depth2");

}  // namespace

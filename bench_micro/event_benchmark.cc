// event_benchmark.cc — Event, uncontended: set()+is_set()+clear() with nobody waiting, and
// is_set() / wait() on a set Event (the fast path a released waiter takes).
#include <benchmark/benchmark.h>

#include "ipcsync/event.hpp"
#include "ipcsync/shm.hpp"

namespace {

void BM_EventSetClear(benchmark::State& state) {
  ipcsync::AnonymousRegion region(4096);
  auto* e = region.make<ipcsync::Event>();
  for (auto _ : state) {
    e->set();
    benchmark::DoNotOptimize(e->is_set());
    e->clear();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EventSetClear)->Name("BM_Event/set_is_set_clear");

void BM_EventWaitSet(benchmark::State& state) {
  ipcsync::AnonymousRegion region(4096);
  auto* e = region.make<ipcsync::Event>();
  e->set();
  for (auto _ : state) benchmark::DoNotOptimize(e->wait());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EventWaitSet)->Name("BM_Event/wait_already_set");

}  // namespace

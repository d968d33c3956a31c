// value_benchmark.cc — Value<uint64_t>: the guide's locked increment (get_lock(), load, store,
// release), update(), and the lock-free fetch_add; AtomicValue's fetch_add for reference.
#include <benchmark/benchmark.h>

#include <mutex>

#include "ipcsync/shm.hpp"
#include "ipcsync/value.hpp"

namespace {

void BM_ValueLockedIncrement(benchmark::State& state) {
  ipcsync::AnonymousRegion region(4096);
  auto* v = region.make<ipcsync::Value<uint64_t>>(0u);
  for (auto _ : state) {
    std::scoped_lock g(v->get_lock());
    v->store(v->load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  benchmark::DoNotOptimize(v->load());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ValueLockedIncrement)->Name("BM_Value/locked_increment");

void BM_ValueUpdate(benchmark::State& state) {
  ipcsync::AnonymousRegion region(4096);
  auto* v = region.make<ipcsync::Value<uint64_t>>(0u);
  for (auto _ : state) v->update([](uint64_t x) { return x + 1; });
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ValueUpdate)->Name("BM_Value/update");

void BM_ValueAtomicIncrement(benchmark::State& state) {
  ipcsync::AnonymousRegion region(4096);
  auto* v = region.make<ipcsync::Value<uint64_t>>(0u);
  for (auto _ : state) v->fetch_add(1);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ValueAtomicIncrement)->Name("BM_Value/atomic_increment");

void BM_AtomicValueIncrement(benchmark::State& state) {
  ipcsync::AnonymousRegion region(4096);
  auto* v = region.make<ipcsync::AtomicValue<uint64_t>>(0u);
  for (auto _ : state) v->fetch_add(1);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AtomicValueIncrement)->Name("BM_AtomicValue/fetch_add");

}  // namespace

// array_benchmark.cc — Array<uint64_t>: a checked atomic element write (store), a checked
// plain write (at), an unchecked write under the lock, and a locked 64-element slice.
#include <benchmark/benchmark.h>

#include <mutex>

#include "ipcsync/array.hpp"
#include "ipcsync/shm.hpp"

namespace {

using A = ipcsync::Array<uint64_t, 1024>;

void BM_ArrayStore(benchmark::State& state) {
  ipcsync::AnonymousRegion region(sizeof(A) + 4096);
  auto* a = region.make<A>();
  std::size_t i = 0;
  for (auto _ : state) {
    a->store(i, i, std::memory_order_relaxed);
    i = (i + 1) & 1023;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ArrayStore)->Name("BM_Array/element_write/store_checked");

void BM_ArrayAt(benchmark::State& state) {
  ipcsync::AnonymousRegion region(sizeof(A) + 4096);
  auto* a = region.make<A>();
  std::size_t i = 0;
  for (auto _ : state) {
    a->at(i) = i;
    i = (i + 1) & 1023;
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ArrayAt)->Name("BM_Array/element_write/at_checked");

void BM_ArrayLockedWrite(benchmark::State& state) {
  ipcsync::AnonymousRegion region(sizeof(A) + 4096);
  auto* a = region.make<A>();
  std::size_t i = 0;
  for (auto _ : state) {
    std::scoped_lock g(a->get_lock());
    (*a)[i] = i;
    i = (i + 1) & 1023;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ArrayLockedWrite)->Name("BM_Array/element_write/under_lock");

void BM_ArrayLockedSlice(benchmark::State& state) {
  ipcsync::AnonymousRegion region(sizeof(A) + 4096);
  auto* a = region.make<A>();
  for (auto _ : state) benchmark::DoNotOptimize(a->locked_slice(0, 64));
  state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(BM_ArrayLockedSlice)->Name("BM_Array/locked_slice_64");

}  // namespace

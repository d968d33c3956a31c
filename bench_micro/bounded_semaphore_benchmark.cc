// bounded_semaphore_benchmark.cc — BoundedSemaphore, uncontended acquire+release (the bounded
// release is a CAS where Semaphore's is a fetch_add: compare with BM_Semaphore/native).
#include <benchmark/benchmark.h>

#include "ipcsync/bounded_semaphore.hpp"
#include "ipcsync/shm.hpp"

namespace {

void BM_BoundedSemaphore(benchmark::State& state) {
  ipcsync::AnonymousRegion region(4096);
  auto* s = region.make<ipcsync::BoundedSemaphore>(1u);
  for (auto _ : state) {
    s->acquire();
    s->release();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BoundedSemaphore)->Name("BM_BoundedSemaphore/acquire_release");

}  // namespace

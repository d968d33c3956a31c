// uncontended_benchmark.cc — in-process costs that the multi-process harness cannot isolate:
// one uncontended acquire+release per iteration for Lock and Semaphore on every backend, and
// the floor beneath them all, a bare atomic fetch_add on one cache line.
//
//   ./build/ipcsync_micro --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// Every object sits in an anonymous shared mapping, exactly where the harness puts it, so the
// process-shared variants (pshared mutexes, shared futexes) are the ones measured.
#include <benchmark/benchmark.h>

#include <atomic>
#include <new>

#include "backends/posix.hpp"
#include "backends/spin.hpp"
#include "ipcsync/lock.hpp"
#include "ipcsync/semaphore.hpp"
#include "ipcsync/shm.hpp"
#if IPCSYNC_WITH_BOOST_INTERPROCESS
#include "backends/boost.hpp"
#endif

namespace {

template <class T, class... Args>
T* in_shared(ipcsync::AnonymousRegion& r, Args&&... args) {
  return r.make<T>(std::forward<Args>(args)...);
}

// The floor: one atomic read-modify-write per iteration.
void BM_AtomicFetchAdd(benchmark::State& state) {
  ipcsync::AnonymousRegion region(4096);
  auto* a = in_shared<std::atomic<uint64_t>>(region, 0);
  for (auto _ : state) a->fetch_add(1, std::memory_order_acq_rel);
  benchmark::DoNotOptimize(a->load());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AtomicFetchAdd);

template <class L>
void BM_LockUncontended(benchmark::State& state) {
  ipcsync::AnonymousRegion region(4096);
  L* l = in_shared<L>(region);
  for (auto _ : state) {
    l->acquire();
    l->release();
  }
  state.SetItemsProcessed(state.iterations());
  l->~L();
}
BENCHMARK_TEMPLATE(BM_LockUncontended, ipcsync::Lock)->Name("BM_Lock/native");
BENCHMARK_TEMPLATE(BM_LockUncontended, ipcsync::posix::Lock)->Name("BM_Lock/posix");
#if IPCSYNC_WITH_BOOST_INTERPROCESS
BENCHMARK_TEMPLATE(BM_LockUncontended, ipcsync::boost_ipc::Lock)->Name("BM_Lock/boost");
#endif
BENCHMARK_TEMPLATE(BM_LockUncontended, ipcsync::spin::Lock)->Name("BM_Lock/spin");

template <class S>
void BM_SemaphoreUncontended(benchmark::State& state) {
  ipcsync::AnonymousRegion region(4096);
  S* s = in_shared<S>(region, 1u);
  for (auto _ : state) {
    s->acquire();
    s->release();
  }
  state.SetItemsProcessed(state.iterations());
  s->~S();
}
BENCHMARK_TEMPLATE(BM_SemaphoreUncontended, ipcsync::Semaphore)->Name("BM_Semaphore/native");
BENCHMARK_TEMPLATE(BM_SemaphoreUncontended, ipcsync::posix::Semaphore)->Name("BM_Semaphore/posix");
#if IPCSYNC_WITH_BOOST_INTERPROCESS
BENCHMARK_TEMPLATE(BM_SemaphoreUncontended, ipcsync::boost_ipc::Semaphore)->Name("BM_Semaphore/boost");
#endif
BENCHMARK_TEMPLATE(BM_SemaphoreUncontended, ipcsync::spin::Semaphore)->Name("BM_Semaphore/spin");

}  // namespace

BENCHMARK_MAIN();

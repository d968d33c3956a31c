// condition_benchmark.cc — Condition, uncontended: notify() and notify_all() with no waiter
// (the owner check and one load), and a wait that times out at once (the full wait path:
// release, park bookkeeping, re-acquire).
#include <benchmark/benchmark.h>

#include "ipcsync/condition.hpp"
#include "ipcsync/shm.hpp"

namespace {

template <class L>
void BM_ConditionNotify(benchmark::State& state) {
  ipcsync::AnonymousRegion region(4096);
  auto* c = region.make<ipcsync::Condition<L>>();
  c->acquire();
  for (auto _ : state) c->notify();
  c->release();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_TEMPLATE(BM_ConditionNotify, ipcsync::Lock)->Name("BM_Condition/notify_no_waiter/Lock");
BENCHMARK_TEMPLATE(BM_ConditionNotify, ipcsync::RLock)->Name("BM_Condition/notify_no_waiter/RLock");

void BM_ConditionNotifyAll(benchmark::State& state) {
  ipcsync::AnonymousRegion region(4096);
  auto* c = region.make<ipcsync::Condition<ipcsync::Lock>>();
  c->acquire();
  for (auto _ : state) c->notify_all();
  c->release();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ConditionNotifyAll)->Name("BM_Condition/notify_all_no_waiter/Lock");

void BM_ConditionWaitExpired(benchmark::State& state) {
  ipcsync::AnonymousRegion region(4096);
  auto* c = region.make<ipcsync::Condition<ipcsync::Lock>>();
  c->acquire();
  const ipcsync::deadline past = ipcsync::mono_clock::now();
  for (auto _ : state) benchmark::DoNotOptimize(c->wait_until(past));
  c->release();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ConditionWaitExpired)->Name("BM_Condition/wait_expired_deadline/Lock");

}  // namespace

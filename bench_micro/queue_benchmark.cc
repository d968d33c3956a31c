// queue_benchmark.cc — Queue, uncontended put+get of 8-byte and 256-byte items (fixed and
// run-time capacity), and MessageQueue put+get of a 256-byte message.
#include <benchmark/benchmark.h>

#include <array>
#include <string>

#include "ipcsync/queue.hpp"
#include "ipcsync/shm.hpp"

namespace {

template <class T, std::size_t N>
void BM_QueueFixed(benchmark::State& state) {
  ipcsync::AnonymousRegion region(sizeof(ipcsync::Queue<T, N>) + 4096);
  auto* q = region.make<ipcsync::Queue<T, N>>();
  T v{};
  for (auto _ : state) {
    q->put(v);
    v = q->get();
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(sizeof(T)));
}
BENCHMARK_TEMPLATE(BM_QueueFixed, uint64_t, 64)->Name("BM_Queue/put_get/8B");
using Bytes256 = std::array<char, 256>;
BENCHMARK_TEMPLATE(BM_QueueFixed, Bytes256, 64)->Name("BM_Queue/put_get/256B");

void BM_QueueRuntime(benchmark::State& state) {
  using Q = ipcsync::Queue<uint64_t>;
  ipcsync::AnonymousRegion region(Q::bytes_for(100) + 4096);
  auto* q = region.make_sized<Q>(Q::bytes_for(100), 100u);  // not a power of two: pos % 100
  uint64_t v = 0;
  for (auto _ : state) {
    q->put(v);
    v = q->get() + 1;
  }
  benchmark::DoNotOptimize(v);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_QueueRuntime)->Name("BM_Queue/put_get/8B_runtime_maxsize100");

void BM_MessageQueue(benchmark::State& state) {
  ipcsync::AnonymousRegion region(ipcsync::MessageQueue::bytes_for(64, 256) + 4096);
  auto* q = region.make_sized<ipcsync::MessageQueue>(ipcsync::MessageQueue::bytes_for(64, 256), 64u, 256u);
  const std::string msg(256, 'x');
  char buf[256];
  for (auto _ : state) {
    q->put(msg);
    benchmark::DoNotOptimize(q->get_into(buf, sizeof buf));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MessageQueue)->Name("BM_MessageQueue/put_get/256B");

}  // namespace

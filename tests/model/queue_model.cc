// queue_model.cc — Queue<T, N> (queue.hpp: Vyukov's MPMC ring with half-step sequence numbers,
// a Parking per side) under the C++ memory model.
//   every item exactly once, FIFO per producer: two producers put 2 items each into a queue of
//     capacity 2 (so putters block on a full ring and the getter on an empty one);
//   visibility: each item's producer writes an rl::var before put(); the getter reads it after
//     get() (a data race if the cell's publication does not order it);
//   no lost wake-up on either side (deadlock otherwise).
// Not modelled: close() (its blocked callers leave by throwing queue_closed; exceptions do not
// mix with Relacy's fibers and allocator here), MessageQueue and JoinableQueue (not done yet).
#include "ipcsync/queue.hpp"
#include "model.hpp"

namespace {
using namespace ipcsync;

template <int Capacity>
struct QueueFifo : rl::test_suite<QueueFifo<Capacity>, 3> {
  Queue<uint32_t, Capacity> q;
  rl::var<int> data[2][2];
  void before() {
    for (auto& p : data)
      for (auto& d : p) d($) = 0;
  }
  void thread(unsigned i) {
    if (i < 2) {
      for (uint32_t k = 0; k < 2; ++k) {
        data[i][k]($) = 1;
        q.put(i * 10 + k);
      }
    } else {
      uint32_t next[2] = {0, 0};
      for (int n = 0; n < 4; ++n) {
        const uint32_t v = q.get(true);
        const uint32_t p = v / 10, k = v % 10;
        RL_ASSERT(p < 2 && k == next[p]);  // exactly once, in each producer's order
        ++next[p];
        RL_ASSERT(data[p][k]($) == 1);
      }
    }
  }
  void after() { RL_ASSERT(q.qsize() == 0); }
};

struct QueuePair : rl::test_suite<QueuePair, 2> {
  Queue<uint32_t, 1> q;
  rl::var<int> data;
  void before() { data($) = 0; }
  void thread(unsigned i) {
    if (i == 0) {
      data($) = 1;
      q.put(1);
      q.put(2);
    } else {
      RL_ASSERT(q.get(true) == 1);
      RL_ASSERT(data($) == 1);
      RL_ASSERT(q.get(true) == 2);
    }
  }
};

IPCSYNC_MODEL_SUITE("queue", model::simulate<QueueFifo<2>, QueueFifo<1>, QueuePair>, 50000, 2,
                    {detail::mutant::queue_publish_relaxed, detail::mutant::queue_put_no_wake,
                     detail::mutant::parking_waiter_no_fence},
                    400000, model::simulate<QueuePair>)
}  // namespace

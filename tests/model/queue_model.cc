// queue_model.cc — Queue<T, N> (queue.hpp: Vyukov's MPMC ring with half-step sequence numbers,
// a Parking per side) under the C++ memory model.
//   every item exactly once, FIFO per producer: two producers put 2 items each into a queue of
//     capacity 2 (so putters block on a full ring and the getter on an empty one);
//   visibility: each item's producer writes an rl::var before put(); the getter reads it after
//     get() (a data race if the cell's publication does not order it);
//   no lost wake-up on either side (deadlock otherwise).
// The suite "queue_close": close() at any moment, with a putter blocked on a full ring and a
// getter blocked on an empty one: everyone leaves (no lost wake-up), and every item whose put()
// returned is got exactly once, in order — by the getter before its queue_closed, or left in
// the queue — and no other item is. (queue_closed is caught in an empty catch block, so no
// exception is in flight across a Relacy context switch.)
// The suite "message_queue": MessageQueue (queue.cc: the same Ring over run-time cells of byte
// messages): two producers' messages of different lengths arrive exactly once, FIFO per
// producer, intact, and the producer's writes before put() are visible after get().
// JoinableQueue has its own suite (joinable_queue_model.cc).
#include "ipcsync/queue.hpp"
#include "model.hpp"

#include <cstring>
#include <string>

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

// Thread 0 puts 1 and 2 into a Queue of capacity 1, Getters threads get until queue_closed, the
// last thread closes. With two getters one of them parks (the other is the Parking's spinner),
// so a close() that wakes nobody leaves it asleep.
template <int Getters>
struct QueueClose : rl::test_suite<QueueClose<Getters>, Getters + 2> {
  Queue<uint32_t, 1> q;
  rl::var<int> put_ok;            // how many of the putter's items 1, 2 were put (put() returned)
  rl::var<int> got[Getters][3];   // what each getter got, in order, before its queue_closed
  rl::var<int> n_got[Getters];
  void before() {
    put_ok($) = 0;
    for (int g = 0; g < Getters; ++g) {
      n_got[g]($) = 0;
      for (auto& x : got[g]) x($) = 0;
    }
  }
  void thread(unsigned i) {
    if (i == 0) {
      for (uint32_t v = 1; v <= 2; ++v) {
        bool ok = false;
        try {
          q.put(v);
          ok = true;
        } catch (const queue_closed&) {
        }
        if (!ok) break;
        put_ok($) = static_cast<int>(v);
      }
    } else if (i <= Getters) {
      const unsigned g = i - 1;
      for (int n = 0; n < 3; ++n) {
        uint32_t v = 0;
        try {
          v = q.get();
        } catch (const queue_closed&) {
        }
        if (v == 0) break;
        got[g][n]($) = static_cast<int>(v);
        n_got[g]($) = n + 1;
      }
    } else {
      q.close();
    }
  }
  void after() {
    RL_ASSERT(q.closed());
    int seen[3] = {0, 0, 0};
    for (int g = 0; g < Getters; ++g)
      for (int n = 0; n < n_got[g]($); ++n) {
        const int v = got[g][n]($);
        RL_ASSERT(v >= 1 && v <= 2 && (n == 0 || v > got[g][n - 1]($)));  // each getter in order
        ++seen[v];
      }
    // what is left: the rest of the put items (get() drains before it throws)
    while (q.qsize() > 0) {
      const uint32_t v = q.get();
      RL_ASSERT(v >= 1 && v <= 2);
      ++seen[v];
    }
    for (int v = 1; v <= 2; ++v) RL_ASSERT(seen[v] == (v <= put_ok($) ? 1 : 0));  // exactly once
  }
};

// Two producers put 2 messages each ("p0", "p0-1" / "p1", "p1-1": lengths 2 and 4) into a
// MessageQueue of capacity 2; one consumer gets all 4.
struct MessageQueueFifo : rl::test_suite<MessageQueueFifo, 3> {
  static constexpr uint32_t kCap = 2, kMax = 8;
  alignas(64) unsigned char mem[1024];
  MessageQueue* q = nullptr;
  rl::var<int> data[2][2];
  void before() {
    RL_ASSERT(MessageQueue::bytes_for(kCap, kMax) <= sizeof mem);
    q = MessageQueue::create_at(mem, kCap, kMax);
    for (auto& p : data)
      for (auto& d : p) d($) = 0;
  }
  static std::string message(unsigned p, unsigned k) {
    return k == 0 ? "p" + std::to_string(p) : "p" + std::to_string(p) + "-" + std::to_string(k);
  }
  void thread(unsigned i) {
    if (i < 2) {
      for (unsigned k = 0; k < 2; ++k) {
        data[i][k]($) = 1;
        q->put(message(i, k));
      }
    } else {
      unsigned next[2] = {0, 0};
      char buf[kMax];
      for (int n = 0; n < 4; ++n) {
        const std::size_t len = q->get_into(buf, sizeof buf);
        RL_ASSERT(len >= 2 && buf[0] == 'p' && (buf[1] == '0' || buf[1] == '1'));
        const unsigned p = static_cast<unsigned>(buf[1] - '0');
        RL_ASSERT(next[p] < 2);
        const std::string want = message(p, next[p]);
        RL_ASSERT(len == want.size() && std::memcmp(buf, want.data(), len) == 0);  // intact, in order
        RL_ASSERT(data[p][next[p]]($) == 1);
        ++next[p];
      }
    }
  }
  void after() {
    RL_ASSERT(q->qsize() == 0);
    q->~MessageQueue();
  }
};

// One producer, one consumer, capacity 1: the putter blocks on the full ring (the context-bound
// search's test; MessageQueueFifo's state space is too large for it).
struct MessageQueuePair : rl::test_suite<MessageQueuePair, 2> {
  alignas(64) unsigned char mem[1024];
  MessageQueue* q = nullptr;
  rl::var<int> data;
  void before() {
    RL_ASSERT(MessageQueue::bytes_for(1, 8) <= sizeof mem);
    q = MessageQueue::create_at(mem, 1, 8);
    data($) = 0;
  }
  void thread(unsigned i) {
    if (i == 0) {
      data($) = 1;
      q->put("one");
      q->put("three");
    } else {
      char buf[8];
      RL_ASSERT(q->get_into(buf, sizeof buf) == 3 && std::memcmp(buf, "one", 3) == 0);
      RL_ASSERT(data($) == 1);
      RL_ASSERT(q->get_into(buf, sizeof buf) == 5 && std::memcmp(buf, "three", 5) == 0);
    }
  }
  void after() { q->~MessageQueue(); }
};

IPCSYNC_MODEL_SUITE("queue_close", model::simulate<QueueClose<2>, QueueClose<1>>, 50000, 1,
                    {detail::mutant::queue_close_no_wake}, 200000, model::simulate<QueueClose<1>>)

IPCSYNC_MODEL_SUITE("message_queue", model::simulate<MessageQueueFifo, MessageQueuePair>, 50000, 2,
                    {detail::mutant::queue_publish_relaxed, detail::mutant::queue_put_no_wake}, 400000,
                    model::simulate<MessageQueuePair>)

IPCSYNC_MODEL_SUITE("queue", model::simulate<QueueFifo<2>, QueueFifo<1>, QueuePair>, 50000, 2,
                    {detail::mutant::queue_publish_relaxed, detail::mutant::queue_put_no_wake,
                     detail::mutant::parking_waiter_no_fence},
                    400000, model::simulate<QueuePair>)
}  // namespace

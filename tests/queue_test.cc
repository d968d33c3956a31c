// queue_test.cc — Queue, MessageQueue and JoinableQueue: FIFO, the nowait errors, timeouts,
// Python's block/timeout signatures, run-time maxsize with trailing cells, close(), MPMC
// exactly-once delivery across processes, task_done()/join().
#include <catch2/catch.hpp>

#include <sys/mman.h>

#include <atomic>
#include <thread>

#include "ipcsync/joinable_queue.hpp"
#include "ipcsync/queue.hpp"
#include "ipcsync/shm.hpp"
#include "support.hpp"

using namespace ipcsync;
using namespace ipcsync::test;
using namespace std::chrono_literals;

namespace {

template <class P>
bool eventually(P pred, double seconds = 5.0) {
  const auto t0 = std::chrono::steady_clock::now();
  while (!pred()) {
    if (elapsed_s(t0) > seconds) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

template <class D>
void check_on_time(D timeout, double took) {
  const double want = std::chrono::duration<double>(timeout).count();
  CHECK(took >= want);
  CHECK(took < want + 0.25);
}

}  // namespace

TEST_CASE("Queue: FIFO with put_nowait and get_nowait raising queue_full and queue_empty", "[queue][errors]") {
  Queue<int, 3> q;
  CHECK(q.maxsize() == 3);
  CHECK(q.empty());
  CHECK_THROWS_AS(q.get_nowait(), queue_empty);
  q.put(1);
  q.put_nowait(2);
  CHECK(q.try_put(3));
  CHECK(q.full());
  CHECK(q.qsize() == 3);
  CHECK_FALSE(q.try_put(4));
  CHECK_THROWS_AS(q.put_nowait(4), queue_full);
  CHECK(q.get() == 1);
  CHECK(q.get_nowait() == 2);
  CHECK(q.try_get() == 3);
  CHECK_FALSE(q.try_get().has_value());
  for (int lap = 0; lap < 10; ++lap) {  // wrap the ring many times
    q.put(lap);
    q.put(lap + 100);
    CHECK(q.get() == lap);
    CHECK(q.get() == lap + 100);
  }
  CHECK(q.empty());
}

TEST_CASE("Queue: zero-filled memory is an empty Queue with its cells inside", "[queue]") {
  using Q = Queue<uint64_t, 4>;
  alignas(64) static unsigned char raw[sizeof(Q)];
  std::memset(raw, 0, sizeof raw);
  auto* q = reinterpret_cast<Q*>(raw);
  CHECK(q->empty());
  CHECK(q->maxsize() == 4);
  for (uint64_t i = 0; i < 4; ++i) q->put(i);
  CHECK_FALSE(q->try_put(9));
  for (uint64_t i = 0; i < 4; ++i) CHECK(q->get() == i);
}

TEST_CASE("Queue: a run-time maxsize keeps its cells right after the object", "[queue]") {
  AnonymousRegion region(1 << 16);
  using Q = Queue<double>;
  CHECK(Q::bytes_for(5) == sizeof(Q) + 5 * sizeof(detail::Cell<double>));
  Q* q = region.make_sized<Q>(Q::bytes_for(5), 5u);
  CHECK(q->maxsize() == 5);
  for (int i = 0; i < 5; ++i) q->put(i * 0.5);
  CHECK_THROWS_AS(q->put_nowait(9.0), queue_full);
  for (int i = 0; i < 5; ++i) CHECK(q->get() == i * 0.5);
  alignas(64) static unsigned char mem[1024];
  CHECK_THROWS_AS(Q::create_at(mem, 0), std::invalid_argument);
}

TEST_CASE("Queue: timed put on a full queue and timed get on an empty one time out on time", "[queue][timeout]") {
  Shared<Queue<int, 1>> q;
  for (auto timeout : {10ms, 100ms}) {
    auto t0 = std::chrono::steady_clock::now();
    CHECK_FALSE(q->try_get_for(timeout).has_value());
    check_on_time(timeout, elapsed_s(t0));
    q->put(7);
    t0 = std::chrono::steady_clock::now();
    CHECK_FALSE(q->try_put_for(8, timeout));
    check_on_time(timeout, elapsed_s(t0));
    CHECK(q->get() == 7);
  }
}

TEST_CASE("Queue: Python's put and get with block and timeout raise queue_full and queue_empty", "[queue][errors]") {
  Queue<int, 1> q;
  auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(q.get(true, 0.02), queue_empty);
  CHECK(elapsed_s(t0) >= 0.02);
  CHECK_THROWS_AS(q.get(false), queue_empty);
  q.put(1, true, 0.02);
  t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(q.put(2, true, 0.02), queue_full);
  CHECK(elapsed_s(t0) >= 0.02);
  CHECK_THROWS_AS(q.put(2, false), queue_full);
  CHECK(q.get(true, 0.02) == 1);
  q.put(3, true);
  CHECK(q.get(false) == 3);
}

TEST_CASE("Queue: a blocked get wakes on a put from another process and a blocked put on a get",
          "[queue][process]") {
  Shared<Queue<uint64_t, 2>> q;
  const pid_t getter = spawn([&] { return q->try_get_for(10s) == 42u ? 0 : 1; });
  REQUIRE(eventually([&] { return q->parked_getters() == 1; }));
  q->put(42);
  CHECK(join(getter) == 0);
  q->put(1);
  q->put(2);
  const pid_t putter = spawn([&] { return q->try_put_for(3, 10s) ? 0 : 1; });
  REQUIRE(eventually([&] { return q->parked_putters() == 1; }));
  CHECK(q->get() == 1);
  CHECK(join(putter) == 0);
  CHECK(q->get() == 2);
  CHECK(q->get() == 3);
}

TEST_CASE("Queue: close wakes blocked getters and putters with queue_closed and leaves items to drain",
          "[queue][process][errors]") {
  Shared<Queue<int, 2>> q;
  std::vector<pid_t> getters;
  for (int i = 0; i < 2; ++i)
    getters.push_back(spawn([&] {
      try {
        q->get();
      } catch (const queue_closed&) {
        return 0;
      }
      return 1;
    }));
  REQUIRE(eventually([&] { return q->parked_getters() == 2; }));
  q->close();
  for (pid_t g : getters) CHECK(join(g) == 0);

  Shared<Queue<int, 2>> q2;
  q2->put(1);
  q2->put(2);
  const pid_t putter = spawn([&] {
    try {
      q2->put(3);
    } catch (const queue_closed&) {
      return 0;
    }
    return 1;
  });
  REQUIRE(eventually([&] { return q2->parked_putters() == 1; }));
  q2->close();
  CHECK(join(putter) == 0);
  CHECK(q2->closed());
  CHECK_THROWS_AS(q2->put(4), queue_closed);
  CHECK_THROWS_AS(q2->try_put(4), queue_closed);
  CHECK(q2->get() == 1);  // what was put before close() is still delivered
  CHECK(q2->get_nowait() == 2);
  CHECK_THROWS_AS(q2->get(), queue_closed);
  CHECK_THROWS_AS(q2->try_get(), queue_closed);
  CHECK_THROWS_AS(q2->try_get_for(10ms), queue_closed);
}

TEST_CASE("Queue: 3 producers and 3 consumers move every item exactly once in per-producer order",
          "[queue][process]") {
  constexpr int kProducers = 3, kConsumers = 3;
  constexpr uint64_t kItems = 20000;
  struct S {
    Queue<uint64_t, 16> q;
    std::atomic<int> producing{kProducers};
    std::atomic<uint64_t> count[kProducers] = {};
    std::atomic<uint64_t> sum[kProducers] = {};
    std::atomic<int> order_errors{0};
  };
  Shared<S> s;
  std::vector<pid_t> kids;
  for (int p = 0; p < kProducers; ++p)
    kids.push_back(spawn([&, p] {
      for (uint64_t i = 0; i < kItems; ++i) s->q.put(static_cast<uint64_t>(p) << 32 | i);
      if (s->producing.fetch_sub(1) == 1) s->q.close();
      return 0;
    }));
  for (int c = 0; c < kConsumers; ++c)
    kids.push_back(spawn([&] {
      int64_t last[kProducers] = {-1, -1, -1};
      for (;;) {
        uint64_t v;
        try {
          v = s->q.get();
        } catch (const queue_closed&) {
          return 0;
        }
        const int p = static_cast<int>(v >> 32);
        const int64_t i = static_cast<int64_t>(v & 0xffffffff);
        if (i <= last[p]) s->order_errors.fetch_add(1);
        last[p] = i;
        s->count[p].fetch_add(1);
        s->sum[p].fetch_add(static_cast<uint64_t>(i));
      }
    }));
  for (pid_t k : kids) CHECK(join(k) == 0);
  for (int p = 0; p < kProducers; ++p) {
    CHECK(s->count[p].load() == kItems);
    CHECK(s->sum[p].load() == kItems * (kItems - 1) / 2);
  }
  CHECK(s->order_errors.load() == 0);
  CHECK(s->q.empty());
}

TEST_CASE("MessageQueue: byte messages up to max_message cross processes intact", "[queue][message][process]") {
  AnonymousRegion region(MessageQueue::bytes_for(4, 256) + 4096);
  MessageQueue* q = region.make_sized<MessageQueue>(MessageQueue::bytes_for(4, 256), 4u, 256u);
  CHECK(q->max_message() == 256);
  CHECK_THROWS_AS(q->put(std::string(257, 'x')), std::length_error);
  CHECK(q->empty());
  const pid_t child = spawn([&] {
    for (int i = 0; i < 100; ++i) {
      std::string m(static_cast<std::size_t>(i * 7 % 257), static_cast<char>('a' + i % 26));
      q->put(m);
    }
    q->put("");
    q->close();
    return 0;
  });
  for (int i = 0; i < 100; ++i) {
    const std::string m = q->get();
    REQUIRE(m.size() == static_cast<std::size_t>(i * 7 % 257));
    CHECK(m == std::string(m.size(), static_cast<char>('a' + i % 26)));
  }
  char buf[256];
  CHECK_THROWS_AS(q->get_into(buf, 10), std::length_error);  // refused before taking anything
  CHECK(q->get_into(buf, sizeof buf) == 0);                   // the empty message
  CHECK(join(child) == 0);
  CHECK_THROWS_AS(q->get(), queue_closed);
  MessageQueue* q2 = region.make_sized<MessageQueue>(MessageQueue::bytes_for(1, 8), 1u, 8u);
  q2->put_nowait("12345678");
  CHECK_THROWS_AS(q2->put_nowait("x"), queue_full);
  CHECK_FALSE(q2->try_put_until("x", deadline_after(10ms)));
  CHECK(q2->get_nowait() == "12345678");
  CHECK_THROWS_AS(q2->get_nowait(), queue_empty);
  CHECK_FALSE(q2->try_get_until(deadline_after(10ms)).has_value());
}

TEST_CASE("JoinableQueue: task_done beyond the items put throws over_release", "[joinable_queue][errors]") {
  JoinableQueue<int, 4> q;
  CHECK_THROWS_AS(q.task_done(), over_release);
  q.put(1);
  q.put(2);
  CHECK(q.unfinished() == 2);
  q.get();
  q.task_done();
  q.get();
  q.task_done();
  CHECK(q.unfinished() == 0);
  CHECK_THROWS_AS(q.task_done(), over_release);
  CHECK(q.join_for(0ms));
  // A put that fails does not count.
  for (int i = 0; i < 4; ++i) q.put(i);
  CHECK_THROWS_AS(q.put_nowait(9), queue_full);
  CHECK_FALSE(q.try_put_for(9, 1ms));
  CHECK(q.unfinished() == 4);
}

TEST_CASE("JoinableQueue: join returns only after every task_done and join_for times out on time",
          "[joinable_queue][process][timeout]") {
  struct S {
    JoinableQueue<int, 8> q;
    std::atomic<int> processed{0};
  };
  Shared<S> s;
  for (int i = 0; i < 20; ++i) {
    if (i == 8) break;
    s->q.put(i);
  }
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(s->q.join_for(30ms));
  check_on_time(30ms, elapsed_s(t0));
  std::vector<pid_t> workers;
  for (int w = 0; w < 3; ++w)
    workers.push_back(spawn([&] {
      for (;;) {
        try {
          s->q.get();
        } catch (const queue_closed&) {
          return 0;
        }
        std::this_thread::sleep_for(2ms);
        s->processed.fetch_add(1);
        s->q.task_done();
      }
    }));
  for (int i = 8; i < 40; ++i) s->q.put(i);
  s->q.join();
  CHECK(s->processed.load() == 40);  // join() never returns early
  s->q.close();
  for (pid_t w : workers) CHECK(join(w) == 0);
  CHECK(s->q.unfinished() == 0);
}

TEST_CASE("JoinableQueue: a run-time maxsize keeps its cells after the object", "[joinable_queue]") {
  using J = JoinableQueue<uint32_t>;
  AnonymousRegion region(J::bytes_for(3) + 64);
  J* q = region.make_sized<J>(J::bytes_for(3), 3u);
  CHECK(J::bytes_for(3) == sizeof(J) + 3 * sizeof(detail::Cell<uint32_t>));
  q->put(1);
  q->put(2);
  q->put(3);
  CHECK_FALSE(q->try_put(4));
  CHECK(q->get() == 1);
  q->task_done();
  CHECK(q->unfinished() == 2);
}

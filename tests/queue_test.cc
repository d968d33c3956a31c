// queue_test.cc — what only the native Queue, MessageQueue and JoinableQueue have: zero-filled
// validity, run-time maxsize with trailing cells, byte messages, task_done()/join() details.
// FIFO, the nowait errors, timeouts, close() and MPMC exactly-once delivery are tested once for
// every backend, native included, in queue_backends_test.cc.
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

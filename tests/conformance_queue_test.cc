// conformance_queue_test.cc — multiprocessing.Queue's documented semantics, method by method, on
// every backend that offers a Queue (native, posix, boost).
//
// Python (multiprocessing docs "Pipes and Queues", queues.py; queue docs for Full/Empty;
// _test_multiprocessing.py's _TestQueue):
//   Queue(maxsize): bounded FIFO shared by processes. Here maxsize >= 1 (Python's maxsize <= 0,
//     "infinite", has no fixed-size shared-memory equivalent: std::invalid_argument).
//   put(obj, block=True, timeout=None): blocks while full; block=False or an expired timeout
//     raises queue.Full (queue_full). get(block=True, timeout=None): blocks while empty;
//     block=False or an expired timeout raises queue.Empty (queue_empty). put_nowait/get_nowait
//     are block=False. A negative timeout is a poll: put acquires a SemLock with it (clamped to
//     0) and get polls the pipe with it (a negative select timeout is 0) — unlike queue.Queue,
//     which raises ValueError.
//   qsize(), empty(), full(): approximate in general, exact when nobody is putting or getting.
//   Items put by one process come out in another in the order they were put.
//   close(): no more data will be put. Here close() is the queue's, not one process's: puts
//     then raise queue_closed (Python: ValueError "Queue is closed"), gets drain what is left and
//     then raise queue_closed, and every process blocked in put/get wakes with it.
#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>

#include "backend_roles.hpp"

using namespace ipcsync;
using namespace ipcsync::test;
using namespace std::chrono_literals;

ROLE_TEST_CASE("Conformance Queue: FIFO / qsize/empty/full / and Full/Empty from the non-blocking calls",
                   "[conformance][queue]", Queue) {
  using Q = typename TestType::template Queue<uint64_t, 4>;
  Shared<Q> q;
  CHECK(q->maxsize() == 4);
  CHECK(q->qsize() == 0);
  CHECK(q->empty());
  CHECK_FALSE(q->full());
  CHECK_THROWS_AS(q->get(false), queue_empty);
  CHECK_THROWS_AS(q->get_nowait(), queue_empty);
  CHECK_FALSE(q->try_get().has_value());
  q->put(10);
  q->put(11, true);
  q->put(12, false);
  q->put_nowait(13);
  CHECK(q->qsize() == 4);
  CHECK(q->full());
  CHECK_FALSE(q->empty());
  CHECK_THROWS_AS(q->put(14, false), queue_full);
  CHECK_THROWS_AS(q->put_nowait(14), queue_full);
  CHECK_FALSE(q->try_put(14));
  CHECK(q->qsize() == 4);  // the refused puts added nothing
  CHECK(q->get() == 10);
  CHECK(q->get(true) == 11);
  CHECK(q->get(false) == 12);
  CHECK(q->get_nowait() == 13);
  CHECK(q->empty());
  CHECK(q->qsize() == 0);
}

ROLE_TEST_CASE("Conformance Queue: maxsize 0 is rejected (no unbounded queue in shared memory)",
                   "[conformance][queue][errors]", Queue) {
  using Q = typename TestType::template Queue<uint64_t>;
  alignas(64) static unsigned char mem[4096];
  CHECK_THROWS_AS(Q::create_at(mem, 0), std::invalid_argument);
  CHECK_THROWS_AS(Q::create_at(mem, 0xffffffffu), std::invalid_argument);  // Python's maxsize -1
}

ROLE_TEST_CASE("Conformance Queue: timed put on a full queue raises Full / timed get on an empty one Empty / at the timeout",
                   "[conformance][queue][timeout]", Queue) {
  using Q = typename TestType::template Queue<uint64_t, 1>;
  Shared<Q> q;
  auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(q->get(true, 0.1), queue_empty);
  CHECK(took_at_least(t0, 0.1));
  t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(q->try_get_for(50ms).has_value());
  CHECK(took_at_least(t0, 0.05));
  q->put(1, true, 0.1);  // room: no wait
  t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(q->put(2, true, 0.1), queue_full);
  CHECK(took_at_least(t0, 0.1));
  t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(q->try_put_for(2, 50ms));
  CHECK(took_at_least(t0, 0.05));
  CHECK(q->get(true, 0.1) == 1);  // an item: no wait
}

ROLE_TEST_CASE("Conformance Queue: items put by one process come out of another in order / blocked calls wake",
                   "[conformance][queue][process]", Queue) {
  using Q = typename TestType::template Queue<uint64_t, 2>;
  Shared<Q> q;
  constexpr uint64_t kItems = 200;
  const pid_t consumer = spawn_child([&] {
    for (uint64_t i = 0; i < kItems; ++i) {
      std::optional<uint64_t> v = q->try_get_for(20s);
      if (!v || *v != i) return 1;
    }
    return 0;
  });
  for (uint64_t i = 0; i < kItems; ++i) REQUIRE(q->try_put_for(i, 20s));  // blocks while full
  CHECK(join_within(consumer, 30) == 0);
  // A getter blocked on the empty queue wakes for a put from another process.
  Shared<std::atomic<int>> got(0);
  const pid_t getter = spawn_child([&] {
    const uint64_t v = q->get(true, 20.0);
    got->store(1);
    return v == 77 ? 0 : 1;
  });
  std::this_thread::sleep_for(200ms);
  CHECK(got->load() == 0);
  CHECK(still_running(getter));
  q->put(77);
  CHECK(join_within(getter, 10) == 0);
  // A putter blocked on the full queue wakes for a get from another process.
  q->put(1);
  q->put(2);
  const pid_t putter = spawn_child([&] {
    q->put(3, true, 20.0);
    got->store(2);
    return 0;
  });
  std::this_thread::sleep_for(200ms);
  CHECK(got->load() == 1);
  CHECK(still_running(putter));
  CHECK(q->get() == 1);
  CHECK(join_within(putter, 10) == 0);
  CHECK(q->get() == 2);
  CHECK(q->get() == 3);
}

ROLE_TEST_CASE("Conformance Queue: close: put raises queue_closed / get drains then raises / blocked getters wake",
                   "[conformance][queue][process]", Queue) {
  using Q = typename TestType::template Queue<uint64_t, 4>;
  Shared<Q> q;
  Shared<Q> q2;
  const pid_t getter = spawn_child([&] {
    try {
      q2->get(true, 20.0);
      return 1;
    } catch (const queue_closed&) {
      return 0;
    }
  });
  std::this_thread::sleep_for(150ms);
  q2->close();
  CHECK(join_within(getter, 10) == 0);
  q->put(1);
  q->put(2);
  q->close();
  CHECK(q->closed());
  CHECK_THROWS_AS(q->put(3), queue_closed);
  CHECK_THROWS_AS(q->put_nowait(3), queue_closed);
  CHECK(in_child([&] { return q->get() == 1 ? 0 : 1; }) == 0);  // what is left, in any process
  CHECK(q->get(true, 1.0) == 2);
  CHECK_THROWS_AS(q->get(), queue_closed);
  CHECK_THROWS_AS(q->get_nowait(), queue_closed);
}

ROLE_TEST_CASE("Conformance Queue: a negative timeout is a poll for put and get", "[conformance][queue][timeout]",
                   Queue) {
  using Q = typename TestType::template Queue<uint64_t, 1>;
  Shared<Q> q;
  Children kids1;  // all at once: one 5 s bound (0: Empty/Full at once; -1: blocked)
  for_each_negative_timeout([&](const char* name, auto t) {
    kids1.add(std::string("timeout ") + name, [&] {  // empty
            if constexpr (std::is_arithmetic_v<decltype(t)>) {
              try {
                q->get(true, t);
                return 1;
              } catch (const queue_empty&) {
                return 0;
              }
            } else {
              return q->try_get_for(t).has_value() ? 1 : 0;
            }
          });
  });
  kids1.expect_all(0);
  q->put(5);
  Children kids2;  // all at once: one 5 s bound (0: Full at once; -1: blocked)
  for_each_negative_timeout([&](const char* name, auto t) {
    kids2.add(std::string("timeout ") + name, [&] {  // full
            if constexpr (std::is_arithmetic_v<decltype(t)>) {
              try {
                q->put(6, true, t);
                return 1;
              } catch (const queue_full&) {
                return 0;
              }
            } else {
              return q->try_put_for(6, t) ? 1 : 0;
            }
          });
  });
  kids2.expect_all(0);
  CHECK(in_child([&] { return q->get(true, -1.0) == 5 ? 0 : 1; }) == 0);  // an item: the poll gets it
  CHECK(in_child([&] {
          q->put(6, true, -1.0);  // room: the poll puts it
          return 0;
        }) == 0);
  CHECK(q->get_nowait() == 6);
}

ROLE_TEST_CASE("Conformance Queue: a NaN timeout throws std::invalid_argument", "[conformance][queue][timeout]",
                   Queue) {
  using Q = typename TestType::template Queue<uint64_t, 1>;
  Shared<Q> q;
  const double nan = opaque(std::numeric_limits<double>::quiet_NaN());
  CHECK(in_child([&] {
          try {
            q->get(true, nan);
            return 1;
          } catch (const std::invalid_argument&) {
            return 0;
          }
        }) == 0);
  q->put(1);
  CHECK(in_child([&] {
          try {
            q->put(2, true, nan);
            return 1;
          } catch (const std::invalid_argument&) {
            return 0;
          }
        }) == 0);
  CHECK(q->qsize() == 1);
}

ROLE_TEST_CASE("Conformance Queue: get with a huge timeout waits forever / until another process puts",
                   "[conformance][queue][timeout][process]", Queue) {
  using Q = typename TestType::template Queue<uint64_t, 4>;
  Shared<Q> q;
  check_waits_forever(
      [&](int, auto t) {
        if constexpr (std::is_arithmetic_v<decltype(t)>) {
          return q->get(true, t) == 42;
        } else {
          const std::optional<uint64_t> v = q->try_get_for(t);
          return v.has_value() && *v == 42;
        }
      },
      [&](int n) {  // bounded: a getter that returned early by mistake takes nothing
        for (int i = 0; i < n; ++i)
          if (!q->try_put_for(42, 2s)) break;
      });
}

ROLE_TEST_CASE("Conformance Queue: put with a huge timeout waits forever / until another process gets",
                   "[conformance][queue][timeout][process]", Queue) {
  using Q = typename TestType::template Queue<uint64_t, 1>;
  Shared<Q> q;
  q->put(0);
  check_waits_forever(
      [&](int, auto t) {
        if constexpr (std::is_arithmetic_v<decltype(t)>) {
          q->put(42, true, t);
          return true;
        } else {
          return q->try_put_for(42, t);
        }
      },
      [&](int n) {  // bounded: a putter that returned early by mistake puts nothing
        for (int i = 0; i <= n; ++i)
          if (!q->try_get_for(2s)) break;
      });
}

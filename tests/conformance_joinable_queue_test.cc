// conformance_joinable_queue_test.cc — multiprocessing.JoinableQueue's documented semantics,
// method by method, on every backend that offers it (native, posix, boost).
//
// Python (multiprocessing docs "JoinableQueue", queues.py; _test_multiprocessing.py's
// test_task_done):
//   A Queue (all of conformance_queue_test.cc's promises) that counts unfinished tasks: every
//   put() adds one, task_done() — called by a consumer once per item it got — removes one.
//   task_done() called more times than items were put raises ValueError (over_release) and
//   changes nothing. join() blocks until the count is zero, in any process; it returns at once
//   when nothing is unfinished. A put that fails (Full) adds no task.
#include <catch2/catch.hpp>

#include <atomic>
#include <optional>
#include <stdexcept>

#include "backend_roles.hpp"

using namespace ipcsync;
using namespace ipcsync::test;
using namespace std::chrono_literals;

ROLE_TEST_CASE("Conformance JoinableQueue: FIFO and Full/Empty as Queue / a refused put adds no task",
                   "[conformance][joinable_queue]", JoinableQueue) {
  using Q = typename TestType::template JoinableQueue<uint64_t, 2>;
  Shared<Q> q;
  CHECK_THROWS_AS(q->get(false), queue_empty);
  CHECK_THROWS_AS(q->get(true, 0.05), queue_empty);
  q->put(1);
  q->put(2, true, 1.0);
  CHECK(q->full());
  CHECK(q->qsize() == 2);
  CHECK_THROWS_AS(q->put(3, false), queue_full);
  CHECK_THROWS_AS(q->put(3, true, 0.05), queue_full);
  CHECK_FALSE(q->try_put_for(3, 10ms));
  CHECK(q->unfinished() == 2);  // the refused puts are not tasks
  CHECK(q->get() == 1);
  CHECK(q->get_nowait() == 2);
  CHECK(q->unfinished() == 2);  // get() does not finish a task
  q->task_done();
  q->task_done();
  CHECK(q->unfinished() == 0);
}

ROLE_TEST_CASE("Conformance JoinableQueue: task_done more times than items were put throws over_release",
                   "[conformance][joinable_queue][errors]", JoinableQueue) {
  using Q = typename TestType::template JoinableQueue<uint64_t, 2>;
  Shared<Q> q;
  CHECK_THROWS_AS(q->task_done(), over_release);  // nothing put
  q->put(1);
  CHECK(q->get() == 1);
  q->task_done();
  CHECK_THROWS_AS(q->task_done(), over_release);
  CHECK(q->unfinished() == 0);
  q->put(2);
  CHECK(q->unfinished() == 1);  // the refused task_done() changed nothing
  CHECK(in_child([&] {          // in another process too
          try {
            q->get();
            q->task_done();
            q->task_done();
            return 1;
          } catch (const over_release&) {
            return 0;
          }
        }) == 0);
  CHECK(q->unfinished() == 0);
}

ROLE_TEST_CASE("Conformance JoinableQueue: join returns at once with nothing unfinished / else after the last task_done in another process",
                   "[conformance][joinable_queue][process]", JoinableQueue) {
  using Q = typename TestType::template JoinableQueue<uint64_t, 4>;
  struct S {
    Q q;
    std::atomic<int> done{0};
  };
  Shared<S> s;
  s->q.join();  // nothing put: returns
  CHECK(s->q.join_for(0s));
  for (uint64_t i = 0; i < 3; ++i) s->q.put(i);
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(s->q.join_for(100ms));  // three unfinished
  CHECK(took_at_least(t0, 0.1));
  const pid_t worker = spawn_child([&] {
    for (int i = 0; i < 3; ++i) {
      const std::optional<uint64_t> v = s->q.try_get_for(20s);
      if (!v) return 1;
      std::this_thread::sleep_for(50ms);
      s->done.fetch_add(1);
      s->q.task_done();
    }
    return 0;
  });
  s->q.join();
  CHECK(s->done.load() == 3);  // join returned only after the last task_done
  CHECK(s->q.unfinished() == 0);
  CHECK(join_within(worker, 10) == 0);
  // join in another process, task_done here
  s->q.put(9);
  Shared<std::atomic<int>> joined(0);
  const pid_t joiner = spawn_child([&] {
    s->q.join();
    joined->store(1);
    return 0;
  });
  CHECK(s->q.get() == 9);
  std::this_thread::sleep_for(200ms);
  CHECK(joined->load() == 0);
  CHECK(still_running(joiner));
  s->q.task_done();
  CHECK(join_within(joiner, 10) == 0);
  CHECK(joined->load() == 1);
}

ROLE_TEST_CASE("Conformance JoinableQueue: a negative join timeout is a poll", "[conformance][joinable_queue][timeout]",
                   JoinableQueue) {
  using Q = typename TestType::template JoinableQueue<uint64_t, 2>;
  Shared<Q> q;
  q->put(1);
  CHECK(in_child([&] { return q->join_for(-1s) ? 1 : 0; }) == 0);
  CHECK(in_child([&] { return q->join_for(std::chrono::hours::min()) ? 1 : 0; }) == 0);
  q->get();
  q->task_done();
  CHECK(in_child([&] { return q->join_for(-1s) ? 0 : 1; }) == 0);
}

ROLE_TEST_CASE("Conformance JoinableQueue: join with a huge timeout waits forever / until the last task_done",
                   "[conformance][joinable_queue][timeout][process]", JoinableQueue) {
  using Q = typename TestType::template JoinableQueue<uint64_t, 2>;
  Shared<Q> q;
  q->put(1);
  check_waits_forever(
      [&](int, auto t) {
        if constexpr (std::is_arithmetic_v<decltype(t)>)
          return q->join_for(std::chrono::duration<double>(t));
        else
          return q->join_for(t);
      },
      [&](int) {
        CHECK(q->get() == 1);
        q->task_done();
      });
}

// queue_backends_test.cc — Queue and JoinableQueue semantics on every backend that offers them
// (native, posix, boost): FIFO and the nowait errors, a run-time maxsize, timeouts, Python's
// block/timeout signatures, blocked puts and gets across processes, close() and the end of the
// stream, exactly-once MPMC delivery in per-producer order, task_done()/join(); and the POSIX
// mqueue limit reported as a clear error (an `error` row in bench).
#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <memory>
#include <stdexcept>

#include "backend_roles.hpp"
#include "ipcsync/shm.hpp"

using namespace ipcsync;
using namespace ipcsync::test;
using namespace std::chrono_literals;

// Capacities stay at or below 10, /proc/sys/fs/mqueue/msg_max's default, so posix queues open
// for unprivileged users too.

namespace {

template <class D>
void check_on_time(D timeout, double took) {
  const double want = std::chrono::duration<double>(timeout).count();
  CHECK(took >= want);
  CHECK(took < want + kLate);
}

int64_t mq_msg_max() {
  std::ifstream f("/proc/sys/fs/mqueue/msg_max");
  int64_t v = 10;
  f >> v;
  return v;
}

// Owned<Q>: a run-time-sized queue placed with bytes_for()/create_at() in a shared mapping, as
// the workloads place it, destroyed (releasing a backend's descriptor) at the end.
template <class Q>
struct Owned {
  explicit Owned(uint32_t maxsize) : region(Q::bytes_for(maxsize)), q(Q::create_at(region.data(), maxsize)) {}
  ~Owned() { std::destroy_at(q); }
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  Q* operator->() const { return q; }
  AnonymousRegion region;
  Q* q;
};

constexpr int kProducers = 3, kConsumers = 3;
constexpr uint64_t kItems = 4000;
template <class Q>
struct Mpmc {
  Q q;
  std::atomic<int> producing{kProducers};
  std::atomic<uint64_t> count[kProducers] = {};
  std::atomic<uint64_t> sum[kProducers] = {};
  std::atomic<int> order_errors{0};
};
}  // namespace

ROLE_TEST_CASE("Queue backends: FIFO with put_nowait and get_nowait raising queue_full and queue_empty",
                   "[queue][backends][errors]", Queue) {
  using Q = typename TestType::template Queue<int, 3>;
  Shared<Q> q;
  CHECK(q->maxsize() == 3);
  CHECK(q->empty());
  CHECK_THROWS_AS(q->get_nowait(), queue_empty);
  q->put(1);
  q->put_nowait(2);
  CHECK(q->try_put(3));
  CHECK(q->full());
  CHECK(q->qsize() == 3);
  CHECK_FALSE(q->try_put(4));
  CHECK_THROWS_AS(q->put_nowait(4), queue_full);
  CHECK(q->get() == 1);
  CHECK(q->get_nowait() == 2);
  CHECK(q->try_get() == 3);
  CHECK_FALSE(q->try_get().has_value());
  for (int lap = 0; lap < 10; ++lap) {
    q->put(lap);
    q->put(lap + 100);
    CHECK(q->get() == lap);
    CHECK(q->get() == lap + 100);
  }
  CHECK(q->empty());
}

ROLE_TEST_CASE("Queue backends: a run-time maxsize placed with bytes_for and create_at", "[queue][backends]",
                   Queue) {
  using Q = typename TestType::template Queue<double>;
  Owned<Q> q(5);
  CHECK(q->maxsize() == 5);
  for (int i = 0; i < 5; ++i) q->put(i * 0.5);
  CHECK_THROWS_AS(q->put_nowait(9.0), queue_full);
  for (int i = 0; i < 5; ++i) CHECK(q->get() == i * 0.5);
  alignas(64) static unsigned char mem[4096];
  CHECK_THROWS_AS(Q::create_at(mem, 0), std::invalid_argument);
}

ROLE_TEST_CASE("Queue backends: timed put on a full queue and timed get on an empty one time out on time",
                   "[queue][backends][timeout]", Queue) {
  using Q = typename TestType::template Queue<int, 1>;
  Shared<Q> q;
  for (auto timeout : {10ms, 50ms}) {
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

ROLE_TEST_CASE("Queue backends: Python's put and get with block and timeout raise queue_full and queue_empty",
                   "[queue][backends][errors]", Queue) {
  using Q = typename TestType::template Queue<int, 1>;
  Shared<Q> q;
  auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(q->get(true, 0.02), queue_empty);
  CHECK(elapsed_s(t0) >= 0.02);
  CHECK_THROWS_AS(q->get(false), queue_empty);
  q->put(1, true, 0.02);
  t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(q->put(2, true, 0.02), queue_full);
  CHECK(elapsed_s(t0) >= 0.02);
  CHECK_THROWS_AS(q->put(2, false), queue_full);
  CHECK(q->get(true, 0.02) == 1);
  q->put(3, true);
  CHECK(q->get(false) == 3);
}

ROLE_TEST_CASE("Queue backends: a blocked get wakes on a put from another process and a blocked put on a get",
                   "[queue][backends][process]", Queue) {
  using Q = typename TestType::template Queue<uint64_t, 2>;
  Shared<Q> q;
  const pid_t getter = spawn_child([&] { return q->try_get_for(10s) == 42u ? 0 : 1; });
  std::this_thread::sleep_for(30ms);  // let it block
  q->put(42);
  CHECK(join(getter) == 0);
  q->put(1);
  q->put(2);
  const pid_t putter = spawn_child([&] { return q->try_put_for(3, 10s) ? 0 : 1; });
  std::this_thread::sleep_for(30ms);
  CHECK(q->qsize() == 2);  // it could not put yet
  CHECK(q->get() == 1);
  CHECK(join(putter) == 0);
  CHECK(q->get() == 2);
  CHECK(q->get() == 3);
}

ROLE_TEST_CASE("Queue backends: close wakes blocked getters and putters with queue_closed and leaves items to drain",
                   "[queue][backends][process][errors]", Queue) {
  using Q = typename TestType::template Queue<int, 2>;
  Shared<Q> q;
  std::vector<pid_t> getters;
  for (int i = 0; i < 3; ++i)
    getters.push_back(spawn_child([&] {
      try {
        q->get();
      } catch (const queue_closed&) {
        return 0;
      }
      return 1;
    }));
  std::this_thread::sleep_for(30ms);
  const auto t0 = std::chrono::steady_clock::now();
  q->close();
  for (pid_t g : getters) CHECK(join(g) == 0);
  CHECK(elapsed_s(t0) < 1.0);

  Shared<Q> q2;
  q2->put(1);
  q2->put(2);
  const pid_t putter = spawn_child([&] {
    try {
      q2->put(3);
    } catch (const queue_closed&) {
      return 0;
    }
    return 1;
  });
  std::this_thread::sleep_for(30ms);
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
  CHECK(q2->empty());
}

ROLE_TEST_CASE("Queue backends: 3 producers and 3 consumers move every item exactly once in per-producer order",
                   "[queue][backends][process]", Queue) {
  using S = Mpmc<typename TestType::template Queue<uint64_t, 8>>;
  Shared<S> s;
  std::vector<pid_t> kids;
  for (int p = 0; p < kProducers; ++p)
    kids.push_back(spawn_child([&, p] {
      for (uint64_t i = 0; i < kItems; ++i) s->q.put(static_cast<uint64_t>(p) << 32 | i);
      if (s->producing.fetch_sub(1) == 1) s->q.close();
      return 0;
    }));
  for (int c = 0; c < kConsumers; ++c)
    kids.push_back(spawn_child([&] {
      int64_t last[kProducers] = {-1, -1, -1};
      for (;;) {
        uint64_t v;
        try {
          v = s->q.get();
        } catch (const queue_closed&) {
          return 0;
        }
        const int p = static_cast<int>(v >> 32);
        const int64_t i = static_cast<int64_t>(v & 0xffffffffu);
        if (p >= kProducers || i <= last[p]) s->order_errors.fetch_add(1);
        else last[p] = i;
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

ROLE_TEST_CASE("JoinableQueue backends: join waits for every task_done and an extra task_done throws over_release",
                   "[joinable_queue][backends][errors]", JoinableQueue) {
  using Q = typename TestType::template JoinableQueue<int, 4>;
  Shared<Q> q;
  CHECK(q->join_for(0ms));  // nothing put: returns at once
  CHECK_THROWS_AS(q->task_done(), over_release);
  for (int i = 0; i < 3; ++i) q->put(i);
  CHECK(q->unfinished() == 3);
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(q->join_for(20ms));
  check_on_time(20ms, elapsed_s(t0));
  for (int i = 0; i < 3; ++i) {
    CHECK(q->get() == i);
    q->task_done();
  }
  CHECK(q->unfinished() == 0);
  CHECK(q->join_for(0ms));
  CHECK_THROWS_AS(q->task_done(), over_release);
  // A put that fails is not counted.
  for (int i = 0; i < 4; ++i) q->put(i);
  CHECK_THROWS_AS(q->put_nowait(9), queue_full);
  CHECK_FALSE(q->try_put_for(9, 5ms));
  CHECK(q->unfinished() == 4);
}

ROLE_TEST_CASE("JoinableQueue backends: join in another process returns only after the last task_done",
                   "[joinable_queue][backends][process]", JoinableQueue) {
  using Q = typename TestType::template JoinableQueue<int, 4>;
  struct S {
    Q q;
    std::atomic<int> processed{0};
  };
  Shared<S> s;
  constexpr int kTasks = 40;
  const pid_t master = spawn_child([&] {
    for (int i = 0; i < kTasks; ++i) s->q.put(i);
    if (!s->q.join_for(10s)) return 1;
    return s->processed.load() == kTasks ? 0 : 2;  // join() never returns early
  });
  std::vector<pid_t> workers;
  for (int w = 0; w < 2; ++w)
    workers.push_back(spawn_child([&] {
      for (;;) {
        try {
          s->q.get();
        } catch (const queue_closed&) {
          return 0;
        }
        std::this_thread::sleep_for(100us);
        s->processed.fetch_add(1);
        s->q.task_done();
      }
    }));
  CHECK(join(master) == 0);
  s->q.close();
  for (pid_t w : workers) CHECK(join(w) == 0);
  CHECK(s->processed.load() == kTasks);
  CHECK(s->q.unfinished() == 0);
}

TEST_CASE("posix Queue: a queue above the mqueue limit is refused with an error naming /proc/sys/fs/mqueue",
          "[queue][backends][posix][errors]") {
  const auto too_many = static_cast<uint32_t>(mq_msg_max() + 1);
  using Q = posix::Queue<uint64_t>;
  alignas(64) static unsigned char mem[sizeof(Q)];
  Q* q = nullptr;
  try {
    q = Q::create_at(mem, too_many);
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    CHECK(what.find("/proc/sys/fs/mqueue/msg_max") != std::string::npos);
    CHECK(what.find("maxsize " + std::to_string(too_many)) != std::string::npos);
  }
  if (q) {  // privileged (CAP_SYS_RESOURCE): the kernel allows it
    WARN("mq_open above msg_max was allowed (privileged): nothing to refuse");
    std::destroy_at(q);
  }
}

TEST_CASE("posix Queue: bench reports a refused queue as an error row and still runs the other backends",
          "[queue][backends][posix][cli]") {
  const TempDir dir;
  const std::string cap = std::to_string(mq_msg_max() + 1);
  const auto r = run_cmd({IPCSYNC_BENCH_EXE, "--primitive", "queue", "--backend", "posix,native", "--procs", "2",
                          "--capacity", cap, "--duration", "0.05", "--warmup", "0.01", "--format", "csv", "--out",
                          dir / "q.csv"});
  INFO(r.out << r.err);
  CHECK(r.out.find(",native,") != std::string::npos);
  if (r.out.find("msg_max") != std::string::npos) {
    CHECK(r.status == 1);  // a failed run, not a crash or a usage error
    CHECK(r.out.find(",error,") != std::string::npos);
  } else {
    CHECK(r.status == 0);  // privileged: the queue was allowed
  }
}

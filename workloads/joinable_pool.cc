// workloads/joinable_pool.cc — the guide's worker pool on a JoinableQueue: a master puts a
// batch of tasks and join()s; workers get, process, task_done().
//
// Worker 0 is the master: each op puts --batch numbered tasks, then join() — which must not
// return before every task put so far was processed: workers count a task as processed
// *before* task_done(), and the master checks processed == put when join() returns. Workers
// get, add the task's number to a checksum, count it, record put-to-get latency in their
// `wakeup` histogram, and task_done(). The master's op latency is the whole batch (puts, the
// pool's work, join). At the stop phase (or after --ops batches) the master closes the queue;
// idle workers wake with queue_closed and stop. Alone, one process plays both parts. Verify:
// processed == put, the checksum is 0+1+...+(put-1) (each task processed exactly once), join()
// never returned early, nothing is left unfinished.
#include <atomic>
#include <cstdio>
#include <memory>
#include <new>
#include <stdexcept>

#include "harness/backends.hpp"
#include "harness/workload.hpp"

// Its own namespace, so that the workloads can be compiled together (a unity build, CMakeLists.txt).
namespace ipcsync::harness::wl_joinable_pool {
namespace {

constexpr uint32_t kMaxCapacity = 1 << 16;

struct Task {
  uint64_t seq;
  uint64_t t_put;
};

template <class Q>
struct Shared {
  alignas(64) std::atomic<uint64_t> put{0};
  alignas(64) std::atomic<uint64_t> processed{0};
  std::atomic<uint64_t> checksum{0};
  alignas(64) std::atomic<uint64_t> early_joins{0};
  char init_error[160] = {};  // the queue's constructor failed (e.g. a POSIX mqueue limit): why
  alignas(64) unsigned char queue[1];  // Q::bytes_for(capacity) bytes start here
  Q& q() { return *std::launder(reinterpret_cast<Q*>(queue)); }
};

template <class Q>
Instance make_joinable_pool() {
  using S = Shared<Q>;
  Instance in;
  in.shared_bytes = offsetof(S, queue) + Q::bytes_for(kMaxCapacity);
  in.init = [](void* p, const RunConfig& cfg) {
    auto* s = ::new (p) S();
    // A backend may refuse the queue (a system limit): every worker then reports why (an
    // `error` row) instead of the whole bench stopping here.
    try {
      Q::create_at(s->queue, static_cast<uint32_t>(cfg.param("capacity")));
    } catch (const std::exception& e) {
      std::snprintf(s->init_error, sizeof s->init_error, "%s", e.what());
    }
  };
  in.body = [](void* p, WorkerEnv& env) {
    auto* s = static_cast<S*>(p);
    if (s->init_error[0]) throw std::runtime_error(s->init_error);
    Q& q = s->q();
    const bool skew = env.cfg->fault == "bad_checksum";  // test-only: task 3 is processed wrongly
    auto process = [&](const Task& t) {
      s->checksum.fetch_add(skew && t.seq == 3 ? t.seq + 1 : t.seq, std::memory_order_relaxed);
      s->processed.fetch_add(1, std::memory_order_release);
      q.task_done();
    };
    if (env.index == 0) {
      const uint64_t batch = static_cast<uint64_t>(env.cfg->param("batch"));
      uint64_t seq = 0;
      run_ops(env, [&] {
        for (uint64_t i = 0; i < batch; ++i) {
          q.put(Task{seq++, Clock::ticks()});
          s->put.store(seq, std::memory_order_relaxed);
          if (env.nprocs == 1) process(q.get());
        }
        q.join();
        if (s->processed.load(std::memory_order_acquire) != seq) s->early_joins.fetch_add(1, std::memory_order_relaxed);
      }, [] {});
      q.close();
      return;
    }
    Window& win = env.window;
    for (;;) {
      Task t;
      try {
        t = q.get();
      } catch (const queue_closed&) {
        break;
      }
      const uint64_t t1 = Clock::ticks();
      const bool measuring = win.enter(*env.ctl);
      win.count(measuring);
      if (measuring && win.sample()) win.wakeup(t.t_put, t1);
      process(t);
    }
  };
  in.verify = [](void* p, const RunConfig&, const Totals&) {
    auto* s = static_cast<S*>(p);
    if (s->init_error[0]) return VerifyResult{false, s->init_error};
    const uint64_t put = s->put.load(), done = s->processed.load(), sum = s->checksum.load();
    VerifyResult r;
    r.ok = done == put && sum == (put ? put * (put - 1) / 2 : 0) && s->early_joins.load() == 0 &&
           s->q().unfinished() == 0;
    r.detail = "put=" + std::to_string(put) + " processed=" + std::to_string(done) +
               " early_joins=" + std::to_string(s->early_joins.load()) +
               " unfinished=" + std::to_string(s->q().unfinished());
    return r;
  };
  in.destroy = [](void* p) {
    auto* s = static_cast<S*>(p);
    if (!s->init_error[0]) std::destroy_at(&s->q());  // a backend's queue may hold a descriptor
    s->~S();
  };
  return in;
}

// The roles it drives, declared once (WorkloadDef::primitives and the factory's dispatch).
using DrivenRoles = WorkloadRoles<roles::JoinableQueue>;

std::optional<Instance> make(const std::string& primitive, const std::string& backend) {
  return DrivenRoles::make(primitive, backend, []<class R, class B>() {
    return make_joinable_pool<roles::JoinableQueue::type<B, Task>>();
  });
}

// Built field by field, so fields WorkloadDef gains later keep their defaults.
IPCSYNC_WORKLOAD([] {
  WorkloadDef d;
  d.name = "joinable_pool";
  d.description = "A master puts batches of tasks into a JoinableQueue and join()s; N-1 workers get and task_done()";
  d.primitives = DrivenRoles::names();
  d.default_for = {"joinable_queue"};
  d.params = {{"capacity", "queue maxsize (cells; the default fits POSIX mqueue's default msg_max of 10)", 8, 1, kMaxCapacity},
              {"batch", "tasks the master puts before each join()", 8, 1, 1'000'000}};
  d.python_primitives = {"joinable_queue"};
  d.faults = {"bad_checksum"};
  d.make = make;
  return d;
}());

}  // namespace
}  // namespace ipcsync::harness::wl_joinable_pool

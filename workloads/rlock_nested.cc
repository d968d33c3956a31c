// workloads/rlock_nested.cc — the guide's RLock account: nested acquisition of one RLock.
//
// Each op: acquire the RLock --depth times (the outer call and the nested ones a synchronized
// method makes when it calls another), increment a shared counter with a plain load/store
// (--cs-ns of busy work in between, so only mutual exclusion keeps it exact), release --depth
// times, then --think-ns outside. Verify: the counter equals every op done, warm-up included,
// and the RLock ended unlocked (owner 0, depth 0) with no owner ever recovered from death.
#include <atomic>
#include <new>

#include "harness/backends.hpp"
#include "harness/workload.hpp"

// Its own namespace, so that the workloads can be compiled together (a unity build, CMakeLists.txt).
namespace ipcsync::harness::wl_rlock_nested {
namespace {

template <class R>
struct alignas(64) Shared {
  R rlock;
  alignas(64) std::atomic<uint64_t> counter{0};
  std::atomic<uint64_t> depth_errors{0};  // an inner level that did not see the expected depth
};

template <class R>
Instance make_rlock_nested() {
  using S = Shared<R>;
  auto body = [](S* s, WorkerEnv& env) {
    const uint64_t cs = static_cast<uint64_t>(env.cfg->param("cs_ns"));
    const uint64_t think = static_cast<uint64_t>(env.cfg->param("think_ns"));
    const uint32_t depth = static_cast<uint32_t>(env.cfg->param("depth"));
    R& r = s->rlock;
    const bool lose = env.cfg->fault == "lose_update";  // test-only: drop one store in 64
    uint32_t k = 0;
    run_ops(env, [&] {
      for (uint32_t d = 0; d < depth; ++d) r.acquire();
      if (r.depth() != depth) s->depth_errors.fetch_add(1, std::memory_order_relaxed);
      const uint64_t v = s->counter.load(std::memory_order_relaxed);
      Clock::busy_ns(cs);
      if (!lose || (++k & 63) != 0) s->counter.store(v + 1, std::memory_order_relaxed);
      for (uint32_t d = 0; d < depth; ++d) r.release();
    }, [&] { Clock::busy_ns(think); });
  };
  auto verify = [](S* s, const RunConfig&, const Totals& t) {
    const uint64_t expect = t.warm_ops + t.ops;
    const uint64_t got = s->counter.load();
    VerifyResult r;
    r.ok = got == expect && s->depth_errors.load() == 0 && !s->rlock.locked() && s->rlock.depth() == 0 &&
           s->rlock.recoveries() == 0;
    r.detail = "counter=" + std::to_string(got) + " expected=" + std::to_string(expect) +
               " depth_errors=" + std::to_string(s->depth_errors.load()) +
               (s->rlock.locked() ? " left_locked" : "");
    return r;
  };
  return instance_of<S>(body, verify);
}

// The roles it drives, declared once (WorkloadDef::primitives and the factory's dispatch).
using DrivenRoles = WorkloadRoles<roles::RLock>;

std::optional<Instance> make(const std::string& primitive, const std::string& backend) {
  return DrivenRoles::make(primitive, backend, []<class R, class B>() {
    return make_rlock_nested<roles::type_of<R, B>>();
  });
}

// Built field by field, so fields WorkloadDef gains later keep their defaults.
IPCSYNC_WORKLOAD([] {
  WorkloadDef d;
  d.name = "rlock_nested";
  d.description = "N processes increment a shared counter holding one RLock acquired --depth times (nested)";
  d.primitives = DrivenRoles::names();
  d.default_for = {"rlock"};
  d.params = {{"depth", "how many times each op acquires the RLock before releasing it as often", 2, 1, 64},
              {"cs_ns", "busy work inside the critical section (ns)", 0, 0, 1'000'000'000},
              {"think_ns", "busy work outside the critical section (ns)", 0, 0, 1'000'000'000}};
  d.python_primitives = {"rlock"};
  d.faults = {"lose_update"};
  d.make = make;
  return d;
}());

}  // namespace
}  // namespace ipcsync::harness::wl_rlock_nested

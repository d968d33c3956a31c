// workloads/value_counter.cc — the guide's safe counter on a Value: `with v.get_lock(): v.value += 1`.
//
// Each op increments one shared Value<uint64_t>: by default under its own get_lock() (a load,
// --cs-ns of busy work, a store: only the lock keeps it exact); with --atomic 1 by one
// lock-free fetch_add instead (Python's lock=False, made safe). Then --think-ns outside.
// Verify: the value equals every op done, warm-up included, and the lock ended unlocked.
#include <atomic>
#include <mutex>
#include <new>

#include "harness/backends.hpp"
#include "harness/workload.hpp"

// Its own namespace, so that the workloads can be compiled together (a unity build, CMakeLists.txt).
namespace ipcsync::harness::wl_value_counter {
namespace {

template <class V>
struct Shared {
  V v{0};
};

template <class V>
Instance make_value_counter() {
  using S = Shared<V>;
  auto body = [](S* s, WorkerEnv& env) {
    V& v = s->v;
    const uint64_t cs = static_cast<uint64_t>(env.cfg->param("cs_ns"));
    const uint64_t think = static_cast<uint64_t>(env.cfg->param("think_ns"));
    auto after = [&] { Clock::busy_ns(think); };
    const bool lose = env.cfg->fault == "lose_update";  // test-only: drop one increment in 64
    uint32_t k = 0;
    if (env.cfg->param("atomic") != 0) {
      run_ops(env, [&] {
        Clock::busy_ns(cs);
        if (!lose || (++k & 63) != 0) v.fetch_add(1);
      }, after);
    } else {
      run_ops(env, [&] {
        std::scoped_lock g(v.get_lock());
        const uint64_t x = v.load(std::memory_order_relaxed);
        Clock::busy_ns(cs);
        v.store(lose && (++k & 63) == 0 ? x : x + 1, std::memory_order_relaxed);
      }, after);
    }
  };
  auto verify = [](S* s, const RunConfig&, const Totals& t) {
    V& v = s->v;
    const uint64_t expect = t.warm_ops + t.ops;
    const uint64_t got = v.load();
    VerifyResult r;
    r.ok = got == expect && !v.get_lock().locked();
    r.detail = "value=" + std::to_string(got) + " expected=" + std::to_string(expect);
    return r;
  };
  return instance_of<S>(body, verify);
}

// The roles it drives, declared once (WorkloadDef::primitives and the factory's dispatch).
using DrivenRoles = WorkloadRoles<roles::Value>;

std::optional<Instance> make(const std::string& primitive, const std::string& backend) {
  return DrivenRoles::make(primitive, backend, []<class R, class B>() {
    return make_value_counter<roles::Value::type<B, uint64_t>>();
  });
}

// Built field by field, so fields WorkloadDef gains later keep their defaults.
IPCSYNC_WORKLOAD([] {
  WorkloadDef d;
  d.name = "value_counter";
  d.description = "N processes increment one shared Value under its get_lock() (or atomically with --atomic 1)";
  d.primitives = DrivenRoles::names();
  d.default_for = {"value"};
  d.params = {{"atomic", "1: lock-free fetch_add instead of the lock (Python's lock=False, made safe)", 0, 0, 1},
              {"cs_ns", "busy work inside the critical section (ns)", 0, 0, 1'000'000'000},
              {"think_ns", "busy work outside the critical section (ns)", 0, 0, 1'000'000'000}};
  d.python_primitives = {"value"};
  d.faults = {"lose_update"};
  d.make = make;
  return d;
}());

}  // namespace
}  // namespace ipcsync::harness::wl_value_counter

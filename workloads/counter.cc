// workloads/counter.cc — the contention counter (the guide's "Contador Seguro").
//
// Each op: acquire -> shared counter++ (a plain load and store, plus --cs-ns of busy work in
// between, so the critical section is a real read-modify-write window) -> release, then
// --think-ns of busy work outside. Verify: the counter equals every op done, warm-up included.
// --unsafe drops the lock and reports the lost updates, as the guide's crash_problem shows.
#include <atomic>
#include <new>

#include "harness/backends.hpp"
#include "harness/workload.hpp"

// Its own namespace, so that the workloads can be compiled together (a unity build, CMakeLists.txt).
namespace ipcsync::harness::wl_counter {
namespace {

constexpr uint64_t kLingerNs = 1'000'000;  // skip_lock fault: the longest an unlocked increment waits

// The mutex per role: a Lock, or a Semaphore(1) used as a binary semaphore.
template <class Mutex>
struct alignas(64) CounterShared {
  Mutex mutex;
  alignas(64) std::atomic<uint64_t> counter{0};
  CounterShared() requires std::is_constructible_v<Mutex, uint32_t> : mutex(1u) {}
  CounterShared() requires (!std::is_constructible_v<Mutex, uint32_t>) {}
};

template <class Mutex>
Instance make_counter() {
  using S = CounterShared<Mutex>;
  auto body = [](S* s, WorkerEnv& env) {
    const uint64_t cs = static_cast<uint64_t>(env.cfg->param("cs_ns"));
    const uint64_t think = static_cast<uint64_t>(env.cfg->param("think_ns"));
    Mutex& m = s->mutex;
    std::atomic<uint64_t>& c = s->counter;
    // A non-atomic increment (load, work, store): only mutual exclusion keeps it exact.
    auto bump = [&] {
      const uint64_t v = c.load(std::memory_order_relaxed);
      Clock::busy_ns(cs);
      c.store(v + 1, std::memory_order_relaxed);
    };
    auto after = [&] { Clock::busy_ns(think); };
    if (env.cfg->unsafe) {
      run_ops(env, bump, after);
    } else if (env.cfg->fault == "skip_lock") {
      // Test-only: one op in 64 increments without the lock, and holds its load-store window
      // open until another process's increment lands in it (what a preemption there would
      // do; at most kLingerNs), so the lost update verify must catch is certain, not a race.
      uint32_t k = 0;
      run_ops(env, [&] {
        if ((++k & 63) == 0) {
          const uint64_t v = c.load(std::memory_order_relaxed);
          const uint64_t until = Clock::mono_ns() + kLingerNs;
          while (c.load(std::memory_order_relaxed) == v && Clock::mono_ns() < until) {
          }
          c.store(v + 1, std::memory_order_relaxed);
          return;
        }
        m.acquire();
        bump();
        m.release();
      }, after);
    } else {
      run_ops(env, [&] {
        m.acquire();
        bump();
        m.release();
      }, after);
    }
  };
  auto verify = [](S* s, const RunConfig& cfg, const Totals& t) {
    const uint64_t expect = t.warm_ops + t.ops;
    const uint64_t got = s->counter.load();
    VerifyResult r;
    if (cfg.unsafe) {
      r.detail = "lost_updates=" + std::to_string(expect >= got ? expect - got : 0) +
                 " counter=" + std::to_string(got) + " expected=" + std::to_string(expect);
      r.ok = got <= expect;  // fewer is the expected race; more would be a harness bug
    } else {
      r.ok = got == expect;
      r.detail = "counter=" + std::to_string(got) + " expected=" + std::to_string(expect);
    }
    return r;
  };
  return instance_of<S>(body, verify);
}

// The roles it drives, declared once (WorkloadDef::primitives and the factory's dispatch).
using DrivenRoles = WorkloadRoles<roles::Lock, roles::Semaphore>;

std::optional<Instance> make(const std::string& primitive, const std::string& backend) {
  return DrivenRoles::make(primitive, backend, []<class R, class B>() {
    return make_counter<roles::type_of<R, B>>();
  });
}

IPCSYNC_WORKLOAD(WorkloadDef{
    .name = "counter",
    .description = "N processes increment one shared counter under the primitive (acquire, ++, release)",
    .primitives = DrivenRoles::names(),
    .default_for = {"lock", "semaphore"},
    .params = {{"cs_ns", "busy work inside the critical section (ns)", 0, 0, 1'000'000'000},
               {"think_ns", "busy work outside the critical section (ns)", 0, 0, 1'000'000'000}},
    .python_primitives = {"lock", "semaphore"},
    .faults = {"skip_lock"},
    .make = make,
    .validate = {},
    .default_sample_every = 64,
    .has_unsafe = true,
});

}  // namespace
}  // namespace ipcsync::harness::wl_counter

// workloads/pool_counter.cc — the guide's connection pool on a BoundedSemaphore.
//
// K permits (--permits, default 1), N processes. Each op: acquire a permit, enter (count the
// holders and remember the most ever seen), bump a shared counter — with a plain load/store
// when K == 1, so the semaphore alone must keep it exact, atomically otherwise — and leave,
// release, then --think-ns outside. Verify: the counter equals every op done, there were never
// more than K holders, all K permits came back, and one release beyond the bound is refused
// with over_release (the guide's "liberar de más"), leaving the count unchanged.
#include <atomic>
#include <new>

#include "harness/backends.hpp"
#include "harness/workload.hpp"

// Its own namespace, so that the workloads can be compiled together (a unity build, CMakeLists.txt).
namespace ipcsync::harness::wl_pool_counter {
namespace {

template <class BS>
struct alignas(64) Shared {
  explicit Shared(uint32_t k) : sem(k), permits(k) {}
  explicit Shared(const RunConfig& c) : Shared(static_cast<uint32_t>(c.param("permits"))) {}
  BS sem;
  alignas(64) std::atomic<uint64_t> counter{0};
  std::atomic<uint32_t> holders{0};
  std::atomic<uint32_t> max_holders{0};
  uint32_t permits;
};

template <class BS>
Instance make_pool_counter() {
  using S = Shared<BS>;
  auto body = [](S* s, WorkerEnv& env) {
    const uint64_t cs = static_cast<uint64_t>(env.cfg->param("cs_ns"));
    const uint64_t think = static_cast<uint64_t>(env.cfg->param("think_ns"));
    const bool exclusive = s->permits == 1;
    const bool lose = env.cfg->fault == "lose_update";  // test-only: drop one count in 64
    uint32_t k = 0;
    run_ops(env, [&] {
      s->sem.acquire();
      const uint32_t h = s->holders.fetch_add(1, std::memory_order_relaxed) + 1;
      uint32_t m = s->max_holders.load(std::memory_order_relaxed);
      while (h > m && !s->max_holders.compare_exchange_weak(m, h, std::memory_order_relaxed)) {
      }
      if (lose && (++k & 63) == 0) {
        // lost
      } else if (exclusive) {
        const uint64_t v = s->counter.load(std::memory_order_relaxed);
        Clock::busy_ns(cs);
        s->counter.store(v + 1, std::memory_order_relaxed);
      } else {
        Clock::busy_ns(cs);
        s->counter.fetch_add(1, std::memory_order_relaxed);
      }
      s->holders.fetch_sub(1, std::memory_order_relaxed);
      s->sem.release();
    }, [&] { Clock::busy_ns(think); });
  };
  auto verify = [](S* s, const RunConfig&, const Totals& t) {
    const uint64_t expect = t.warm_ops + t.ops;
    const uint64_t got = s->counter.load();
    bool refused = false;
    try {
      s->sem.release();  // every permit is back: one more must be refused
    } catch (const over_release&) {
      refused = true;
    }
    VerifyResult r;
    r.ok = got == expect && s->max_holders.load() <= s->permits && s->sem.value() == s->permits && refused;
    r.detail = "counter=" + std::to_string(got) + " expected=" + std::to_string(expect) +
               " max_holders=" + std::to_string(s->max_holders.load()) + " permits=" + std::to_string(s->permits) +
               " value=" + std::to_string(s->sem.value()) + (refused ? " extra_release=refused" : " extra_release=ACCEPTED");
    return r;
  };
  return instance_of<S>(body, verify);
}

// The roles it drives, declared once (WorkloadDef::primitives and the factory's dispatch).
using DrivenRoles = WorkloadRoles<roles::BoundedSemaphore>;

std::optional<Instance> make(const std::string& primitive, const std::string& backend) {
  return DrivenRoles::make(primitive, backend, []<class R, class B>() {
    return make_pool_counter<roles::type_of<R, B>>();
  });
}

// Built field by field, so fields WorkloadDef gains later keep their defaults.
IPCSYNC_WORKLOAD([] {
  WorkloadDef d;
  d.name = "pool_counter";
  d.description = "N processes share K permits of a bounded semaphore and count their uses (the guide's pool)";
  d.primitives = DrivenRoles::names();
  d.default_for = {"bounded_semaphore"};
  d.params = {{"permits", "permits in the pool (K); 1 makes it a mutex", 1, 1, 1'000'000},
              {"cs_ns", "busy work inside the critical section (ns)", 0, 0, 1'000'000'000},
              {"think_ns", "busy work outside the critical section (ns)", 0, 0, 1'000'000'000}};
  d.python_primitives = {"bounded_semaphore"};
  d.faults = {"lose_update"};
  d.make = make;
  return d;
}());

}  // namespace
}  // namespace ipcsync::harness::wl_pool_counter

// workloads/readers_writers.cc — readers-writers on a Condition (the guide's "Lectores-
// Escritores" use of Condition): many readers at once, a writer always alone.
//
// One Lock, two Conditions on it (ok_to_read, ok_to_write) and, under the lock, the number of
// readers inside, whether a writer is inside, and how many writers wait. Writers have
// priority: a reader waits while a writer is inside or waiting; a writer waits while anyone is
// inside. The last reader out notifies one writer; a writer on its way out notifies one
// writer and every reader. Each op is a read or, with probability --write-pct %, a write.
// Inside, each process also reports itself in two counters of its own (in_readers,
// in_writers) that the protocol does not use, and checks them on entry and on exit: a reader
// must never see a writer inside, a writer must see nobody else. A writer increments a record
// of 8 words (each a plain load and store, --cs-ns of work in the middle); a reader checks the
// 8 words agree (no torn read). Verify: zero violations, zero torn reads, the record equals
// the writes done (no lost write), and the lock ended unlocked.
#include <atomic>
#include <mutex>
#include <new>

#include "harness/backends.hpp"
#include "harness/workload.hpp"

// Its own namespace, so that the workloads can be compiled together (a unity build, CMakeLists.txt).
namespace ipcsync::harness::wl_readers_writers {
namespace {

constexpr int kWords = 8;
constexpr uint32_t kSkipEvery = 16;       // skip_write_lock fault: one write in this many
constexpr uint64_t kLingerNs = 1'000'000;  // ... which waits this long at most for company

template <class L, class C>
struct Shared {
  L lock;
  C ok_to_read{lock};
  C ok_to_write{lock};
  alignas(64) uint32_t readers = 0, writing = 0, waiting_writers = 0;  // under lock
  alignas(64) std::atomic<int32_t> in_readers{0};  // outside the protocol: who is inside,
  alignas(64) std::atomic<int32_t> in_writers{0};  // as each reports itself
  alignas(64) std::atomic<uint64_t> record[kWords] = {};
  alignas(64) std::atomic<uint64_t> violations{0}, torn{0}, writes{0}, reads{0};
};

template <class L, class C>
Instance make_readers_writers() {
  using S = Shared<L, C>;
  auto body = [](S* s, WorkerEnv& env) {
    const uint64_t cs = static_cast<uint64_t>(env.cfg->param("cs_ns"));
    const uint64_t think = static_cast<uint64_t>(env.cfg->param("think_ns"));
    const uint64_t write_pct = static_cast<uint64_t>(env.cfg->param("write_pct"));
    // test-only: one write in kSkipEvery enters without the protocol, and stays until someone
    // else is inside too (what a preemption at the wrong moment would do), at most kLingerNs.
    const bool skip = env.cfg->fault == "skip_write_lock";
    uint64_t x = 0x2545f4914f6cdd1dull * static_cast<uint64_t>(env.index + 1);
    uint64_t writes = 0, reads = 0, violations = 0, torn = 0;
    auto read = [&] {
      {
        std::unique_lock g(s->lock);
        while (s->writing || s->waiting_writers) s->ok_to_read.wait();
        ++s->readers;
      }
      s->in_readers.fetch_add(1, std::memory_order_acq_rel);
      if (s->in_writers.load(std::memory_order_acquire) != 0) ++violations;
      const uint64_t v = s->record[0].load(std::memory_order_relaxed);
      Clock::busy_ns(cs);
      for (int i = 1; i < kWords; ++i)
        if (s->record[i].load(std::memory_order_relaxed) != v) {
          ++torn;
          break;
        }
      if (s->in_writers.load(std::memory_order_acquire) != 0) ++violations;
      s->in_readers.fetch_sub(1, std::memory_order_acq_rel);
      ++reads;
      std::scoped_lock g(s->lock);
      if (--s->readers == 0) s->ok_to_write.notify();
    };
    auto write = [&](bool unprotected) {
      if (!unprotected) {
        std::unique_lock g(s->lock);
        ++s->waiting_writers;
        while (s->writing || s->readers) s->ok_to_write.wait();
        --s->waiting_writers;
        s->writing = 1;
      }
      if (s->in_writers.fetch_add(1, std::memory_order_acq_rel) != 0) ++violations;
      if (s->in_readers.load(std::memory_order_acquire) != 0) ++violations;
      if (unprotected) {
        const uint64_t until = Clock::mono_ns() + kLingerNs;
        while (s->in_readers.load(std::memory_order_acquire) == 0 && s->in_writers.load(std::memory_order_acquire) == 1 &&
               Clock::mono_ns() < until) {
        }
      }
      for (int i = 0; i < kWords; ++i) {
        const uint64_t v = s->record[i].load(std::memory_order_relaxed);
        if (i == kWords / 2) Clock::busy_ns(cs);
        s->record[i].store(v + 1, std::memory_order_relaxed);
      }
      if (s->in_readers.load(std::memory_order_acquire) != 0 || s->in_writers.load(std::memory_order_acquire) != 1)
        ++violations;
      s->in_writers.fetch_sub(1, std::memory_order_acq_rel);
      ++writes;
      if (unprotected) return;
      std::scoped_lock g(s->lock);
      s->writing = 0;
      s->ok_to_write.notify();
      s->ok_to_read.notify_all();
    };
    run_ops(env, [&] {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      if (x % 100 < write_pct)
        write(skip && (writes + 1) % kSkipEvery == 0);
      else
        read();
    }, [&] { Clock::busy_ns(think); });
    s->writes.fetch_add(writes, std::memory_order_relaxed);
    s->reads.fetch_add(reads, std::memory_order_relaxed);
    s->violations.fetch_add(violations, std::memory_order_relaxed);
    s->torn.fetch_add(torn, std::memory_order_relaxed);
  };
  auto verify = [](S* s, const RunConfig&, const Totals& t) {
    const uint64_t writes = s->writes.load(), reads = s->reads.load();
    bool record_ok = true;
    for (int i = 0; i < kWords; ++i) record_ok = record_ok && s->record[i].load() == writes;
    bool unlocked = true;
    if constexpr (requires { s->lock.locked(); }) unlocked = !s->lock.locked();
    VerifyResult r;
    r.ok = s->violations.load() == 0 && s->torn.load() == 0 && record_ok && unlocked && reads + writes == t.warm_ops + t.ops &&
           s->readers == 0 && s->writing == 0 && s->waiting_writers == 0;
    r.detail = "reads=" + std::to_string(reads) + " writes=" + std::to_string(writes) +
               " violations=" + std::to_string(s->violations.load()) + " torn_reads=" + std::to_string(s->torn.load()) +
               " record=" + std::to_string(s->record[0].load()) + (unlocked ? "" : " LEFT_LOCKED");
    return r;
  };
  return instance_of<S>(body, verify);
}

// The roles it drives, declared once (WorkloadDef::primitives and the factory's dispatch).
using DrivenRoles = WorkloadRoles<roles::Condition>;

std::optional<Instance> make(const std::string& primitive, const std::string& backend) {
  return DrivenRoles::make(primitive, backend, []<class R, class B>() {
    return make_readers_writers<typename B::Lock, roles::type_of<R, B>>();
  });
}

IPCSYNC_WORKLOAD(WorkloadDef{
    .name = "readers_writers",
    .description = "Readers share, a writer is alone: a readers-writers lock from one Lock and two Conditions (writers first)",
    .primitives = DrivenRoles::names(),
    .default_for = {},
    .params = {{"write_pct", "percentage of ops that write", 10, 0, 100},
               {"cs_ns", "busy work inside the critical section (ns)", 200, 0, 1'000'000'000},
               {"think_ns", "busy work outside the critical section (ns)", 0, 0, 1'000'000'000}},
    .python_primitives = {},
    .faults = {"skip_write_lock"},
    .make = make,
    .validate = {},
    .default_sample_every = 64,
});

}  // namespace
}  // namespace ipcsync::harness::wl_readers_writers

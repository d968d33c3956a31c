// workloads/event_pipeline.cc — the guide's Event pipeline ("Control de Pipeline con Event"):
// stages A -> B -> C (-> D ...), one per process, hand items along with Events, in order.
//
// Worker i is stage i. Between stages i-1 and i there is a one-item slot and two Events:
// `filled` (stage i may take the item) and `freed` (stage i-1 may put the next one; set at
// the start). Stage i-1 waits freed, clears it, writes the item and sets filled; stage i
// waits filled, clears it, copies the item out and sets freed — each Event is cleared by its
// one waiter before the other side can set it again, so no set is lost. Stage 0 makes items
// numbered 0, 1, 2... (--work-ns of work per item at every stage); each later stage checks
// the item is the next number and that the stage before it was the last to handle it (stage
// order kept), stamps itself, and passes it on. Wake-up latency (set to the next stage
// running) goes to each receiving stage's `wakeup`; the last stage records the item's whole
// trip through the pipeline in `latency`. Stage 0 classifies items (warm-up, measured) and
// ends with a stop item that every stage forwards before it exits. One op is one item through
// one stage. Verify: no item out of order, skipped or handled out of stage order, and every
// stage handled the same items.
#include <type_traits>
#include <atomic>
#include <new>

#include "harness/backends.hpp"
#include "harness/workload.hpp"

// Its own namespace, so that the workloads can be compiled together (a unity build, CMakeLists.txt).
namespace ipcsync::harness::wl_event_pipeline {
namespace {

enum : uint32_t { kWarm = 0, kMeasured = 1, kStop = 2 };

struct Item {
  uint64_t id;
  uint32_t kind;
  uint32_t stage;      // the last stage that handled it
  uint64_t t_created;  // Clock::ticks() at stage 0
  uint64_t t_set;      // Clock::ticks() just before this hand-off's set()
};

template <class E>
struct alignas(64) Link {
  E filled, freed;
  Item slot{};  // written by the stage before, read by the stage after (ordered by the Events)
};

template <class E>
struct Shared {
  Shared() {
    for (Link<E>& l : links) l.freed.set();
  }
  Link<E> links[kMaxWorkers];  // links[i]: into stage i (links[0] unused)
  static_assert(std::extent_v<decltype(links)> >= static_cast<std::size_t>(kMaxWorkers),
                "a slot per worker: --procs goes up to kMaxWorkers (harness/workload.hpp)");
  alignas(64) std::atomic<uint64_t> order_errors{0};
};

template <class E>
Instance make_event_pipeline() {
  using S = Shared<E>;
  auto body = [](S* s, WorkerEnv& env) {
    const int n = env.nprocs, me = env.index;
    const uint64_t work = static_cast<uint64_t>(env.cfg->param("work_ns"));
    const bool drop = env.cfg->fault == "drop_item" && me == 1;  // test-only: stage 1 loses item 3
    Window& win = env.window;
    auto pass = [&](Item it) {  // to stage me + 1
      Link<E>& out = s->links[me + 1];
      out.freed.wait();
      out.freed.clear();
      it.stage = static_cast<uint32_t>(me);
      it.t_set = Clock::ticks();
      out.slot = it;
      out.filled.set();
    };
    if (me == 0) {
      const uint64_t limit = env.cfg->ops_per_worker;
      for (uint64_t id = 0;; ++id) {
        const uint32_t phase = env.ctl->phase.load(std::memory_order_relaxed);
        uint32_t kind = phase == Control::kWarmup ? kWarm : kMeasured;
        if (limit ? (kind == kMeasured && win.ops() >= limit) : phase == Control::kStop) kind = kStop;
        const uint64_t t0 = Clock::ticks();
        if (kind != kStop) Clock::busy_ns(work);
        pass(Item{id, kind, 0, t0, 0});
        if (kind == kStop) break;
        win.count(kind == kMeasured);
      }
      return;
    }
    Link<E>& in_link = s->links[me];
    uint64_t expect = 0, errors = 0;
    for (;;) {
      in_link.filled.wait();
      const uint64_t t_run = Clock::ticks();
      in_link.filled.clear();
      const Item it = in_link.slot;
      in_link.freed.set();
      if (it.kind == kStop) {
        if (me + 1 < n) pass(it);
        break;
      }
      if (it.id != expect || it.stage != static_cast<uint32_t>(me - 1)) ++errors;
      expect = it.id + 1;
      if (drop && it.id == 3) continue;  // the fault: taken, never handled or passed on
      const bool measured = it.kind == kMeasured;
      if (measured) win.wakeup(it.t_set, t_run);
      Clock::busy_ns(work);
      win.count(measured);
      if (me + 1 < n) {
        pass(it);
      } else if (measured && win.sample()) {
        win.latency(it.t_created, Clock::ticks());  // the item, from its creation to its last stage
      }
    }
    if (errors) s->order_errors.fetch_add(errors, std::memory_order_relaxed);
  };
  auto verify = [](S* s, const RunConfig&, const Totals& t) {
    bool equal = true;
    for (uint64_t w : t.per_worker_ops) equal = equal && w == t.per_worker_ops.front();
    VerifyResult r;
    r.ok = equal && s->order_errors.load() == 0;
    r.detail = "items=" + std::to_string(t.per_worker_ops.empty() ? 0 : t.per_worker_ops.front()) +
               " stages=" + std::to_string(t.per_worker_ops.size()) +
               " order_errors=" + std::to_string(s->order_errors.load()) + (equal ? "" : " UNEQUAL_ITEMS");
    return r;
  };
  return instance_of<S>(body, verify);
}

// The roles it drives, declared once (WorkloadDef::primitives and the factory's dispatch).
using DrivenRoles = WorkloadRoles<roles::Event>;

std::optional<Instance> make(const std::string& primitive, const std::string& backend) {
  return DrivenRoles::make(primitive, backend, []<class R, class B>() {
    return make_event_pipeline<roles::type_of<R, B>>();
  });
}

IPCSYNC_WORKLOAD(WorkloadDef{
    .name = "event_pipeline",
    .description = "A pipeline of one stage per process (A -> B -> C ...) handing numbered items along with Event pairs, in order",
    .primitives = DrivenRoles::names(),
    .default_for = {},
    .params = {{"work_ns", "busy work per item at every stage (ns)", 0, 0, 1'000'000'000}},
    .python_primitives = {},
    .faults = {"drop_item"},
    .make = make,
    .validate = [](const RunConfig& c) -> std::string {
      if (c.procs < 2) return "--procs: event_pipeline needs at least 2 stages, one per process (got " + std::to_string(c.procs) + ")";
      return "";
    },
    .default_sample_every = 1,
});

}  // namespace
}  // namespace ipcsync::harness::wl_event_pipeline

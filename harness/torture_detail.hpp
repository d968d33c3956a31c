// torture_detail.hpp — what bench --torture's parent (harness/torture.cc) and its roles
// (harness/torture_roles.hpp, instantiated per backend in torture_<backend>.cc) share: the
// shared-memory slots and control block, a worker's context, and TortureRole, the one
// interface through which the parent drives a role. The parent is compiled once, not once per
// role x backend: only the roles' own code is instantiated per primitive type.
#pragma once

#include <time.h>

#include <atomic>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace ipcsync::harness::torture {

inline uint64_t mono_ns() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(t.tv_nsec);
}
// What a worker is doing (for starvation reports) and where it stands (for the kill decision).
enum Doing : uint32_t { kIdle, kAcquire, kTryAcquire, kTimedShort, kTimedLong, kHold, kRelease, kWait, kWaitTimed,
                        kWaitPred, kNotify, kNotifyAll, kSet, kClear, kNested, kAbort, kReset, kPut, kGet, kProcess,
                        kTaskDone, kJoin, kUpdate, kSnapshot, kFetchAdd, kLoad };
const char* doing_name(uint32_t d);
enum Where : uint32_t { kOut = 0, kInCall = 1, kHolding = 2 };

struct alignas(64) TSlot {
  std::atomic<uint64_t> ops{0}, violations{0}, recoveries{0}, signals_seen{0};
  std::atomic<uint64_t> progress_ns{0};
  std::atomic<uint32_t> doing{kIdle}, where{kOut}, held{0}, token{0};
  // The role's own counts for this slot. Unlike ops, they outlive an incarnation: a replacement
  // goes on from where the killed worker stopped (a producer's next sequence number, a
  // barrier party's phase). n1/n2: counts (items put/got, increments); h1/h2: sums of item
  // hashes put/got; aux/aux2: what a holder was about to commit (the parent reads them when it
  // kills a holder); phase: barrier rounds passed.
  std::atomic<uint64_t> n1{0}, n2{0}, h1{0}, h2{0}, aux{0}, aux2{0}, phase{0};
  char message[200] = {};
};

struct alignas(64) TControl {
  std::atomic<uint32_t> stop{0};
  alignas(64) std::atomic<uint64_t> sets_begun{0};  // event: set() calls begun / completed
  alignas(64) std::atomic<uint64_t> sets_done{0};
  alignas(64) std::atomic<int64_t> in_use{0};  // semaphores: permits held (checked <= bound)
  // The agent (see Torture::agent_main): requests from the parent, which never touches a
  // primitive itself (a worker it has stopped may hold one's internal mutex).
  alignas(64) std::atomic<uint32_t> agent_stop{0};
  std::atomic<uint32_t> give_back{0};             // permits of killed workers to release
  std::atomic<uint32_t> check_req{0}, check_done{0};
  std::atomic<uint64_t> agent_progress_ns{0};
  char check_msg[200] = {};
};

// SIGUSR1s a worker has seen (its handler counts them; Ctx::done_op publishes the count).
inline volatile sig_atomic_t g_signals = 0;

// ---- one worker's context ------------------------------------------------------------------------

struct Ctx {
  TControl* ctl;
  TSlot* slot;
  std::mt19937_64 rng;
  uint32_t token;
  TSlot* slots = nullptr;  // every worker's slot (a barrier party checks the others' phases)
  int procs = 0, index = 0;
  std::vector<uint64_t> local;  // this process's own memory (a consumer's last sequence per producer)
  uint64_t u(uint64_t n) { return rng() % n; }
  double timeout_short() { return 1e-4 * static_cast<double>(1 + u(20)); }  // 0.1-2 ms
  double timeout_long() { return 0.05 + 1e-3 * static_cast<double>(u(450)); }  // 50-500 ms
  void hold() {
    const uint64_t r = u(10'000);
    if (r < 5) {  // rare long hold: 1-20 ms, asleep
      timespec ts{0, static_cast<long>(1'000'000 * (1 + u(20)))};
      nanosleep(&ts, nullptr);
    } else {
      const uint64_t until = mono_ns() + u(2000);  // up to 2 us of busy work
      while (mono_ns() < until) {
      }
    }
  }
  // outside(): now and then a pause of 0.2-1 ms between calls, where a role killed only
  // outside its calls can be.
  void outside() {
    doing(kIdle, kOut);
    if (u(20) == 0) {
      timespec ts{0, static_cast<long>(200'000 + u(800'000))};
      nanosleep(&ts, nullptr);
    }
  }
  void doing(Doing d, Where w) {
    slot->doing.store(d, std::memory_order_relaxed);
    slot->where.store(w, std::memory_order_release);
  }
  void done_op() {
    slot->ops.fetch_add(1, std::memory_order_relaxed);
    slot->progress_ns.store(mono_ns(), std::memory_order_relaxed);
    slot->signals_seen.store(static_cast<uint64_t>(g_signals), std::memory_order_relaxed);
    doing(kIdle, kOut);
  }
  void violation(const std::string& what) {
    if (slot->violations.fetch_add(1) == 0)
      std::snprintf(slot->message, sizeof slot->message, "%s", what.c_str());
  }
};

// TortureRole: one role over one primitive type, as the parent sees it. The role's state lives
// in the shared region (construct() places it there, before any fork); the object itself is
// the parent's, copied into every worker by fork. The has_*() hooks say which optional checks
// the role has; the parent calls the matching function only when it does.
class TortureRole {
 public:
  virtual ~TortureRole() = default;
  virtual std::size_t size() const = 0;          // bytes of shared state (placed 64-aligned)
  virtual void construct(void* at, int procs) = 0;  // the state, at `at`, initialised for procs workers
  virtual void destroy() = 0;
  virtual void step(Ctx& c) = 0;                  // one operation of a worker
  virtual std::string final_check(TSlot* slots, int procs) = 0;  // "" when the end state is right
  virtual void parent_tick(TControl& ctl) = 0;    // the agent's periodic nudge
  // killable(backend, where, doing): whether a worker stopped there may be killed.
  virtual bool killable(const std::string& backend, uint32_t where, uint32_t doing) const = 0;
  virtual bool has_killed_holding() const = 0;
  virtual void killed_holding(TSlot& s) = 0;      // a holder is about to be killed
  virtual bool has_give_back() const = 0;
  virtual void give_back(uint32_t n) = 0;         // what killed workers held, given back
  virtual bool has_waiter_killed() const = 0;
  virtual void waiter_killed(TSlot& s, bool in_wait) = 0;
  virtual bool has_quiescent_check() const = 0;
  virtual std::string quiescent_check(TSlot* slots, int procs) = 0;  // every worker stopped
};

// make_role<B>(role, broken): the torture of `role` over backend B (its broken primitive when
// `broken` names it: those exist over native only); nullptr when B does not offer the role.
// Defined in torture_roles.hpp and instantiated once per backend in torture_<backend>.cc.
template <class B>
std::unique_ptr<TortureRole> make_role(const std::string& role, const std::string& broken);

// broken_role(fault): the role whose broken primitive `fault` selects ("?" for none).
std::string broken_role(const std::string& fault);

}  // namespace ipcsync::harness::torture

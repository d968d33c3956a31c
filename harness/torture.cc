// torture.cc — bench --torture (see torture.hpp for what it does and why).
#include "harness/torture.hpp"

#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <new>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "harness/backends.hpp"
#include "harness/config.hpp"
#include "harness/context.hpp"
#include "harness/runner.hpp"
#include "harness/topology.hpp"
#include "harness/workload.hpp"
#include "ipcsync/errors.hpp"
#include "ipcsync/shm.hpp"

namespace ipcsync::harness {
namespace {

// ---- what the torture knows --------------------------------------------------------------------

// The roles tortured: every role of the table (ipcsync/roles.hpp); TortureOf<> below must
// cover each.
const std::vector<std::string>& torture_roles() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& r : role_table()) v.push_back(r.name);
    return v;
  }();
  return names;
}
const std::vector<std::string> kFaults = {"kill", "stop", "stutter", "shuffle", "signal"};
// Broken primitives, for tests only (--inject-fault): each must make its role's checker fail.
const std::map<std::string, std::string> kBroken = {
    {"lock_skip_acquire", "lock: one acquire in 10,000 returns true without taking the lock"},
    {"rlock_skip_acquire", "rlock: one outermost acquire in 10,000 returns true without taking the lock"},
    {"semaphore_skip_acquire", "semaphore: one acquire in 10,000 returns true without taking a permit"},
    {"bounded_release_unchecked", "bounded_semaphore: a release beyond the bound is swallowed instead of raising"},
    {"condition_notify_wakes_all", "condition: notify(n) wakes every waiter"},
    {"event_wait_lies", "event: one timed wait in 100 returns true on its timeout"},
    {"barrier_early_release", "barrier: one wait in 1,000 returns without waiting for the round"},
    {"queue_drops_put", "queue: one put in 1,000 returns without storing the item"},
    {"joinable_join_early", "joinable_queue: one timed join in 100 returns true on its timeout"},
    {"value_update_unlocked", "value: update() reads and writes without taking the value's lock"},
    {"array_lock_not_shared", "array: get_lock() returns a lock in each process's private memory"},
};

// proc_state(pid): the kernel's view of a process, for a report: its state letter and where
// it sleeps ("S futex_wait_queue", "T do_signal_stop", ...).
std::string proc_state(pid_t pid) {
  std::ifstream st("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(st, line);
  const auto rp = line.rfind(')');
  const std::string state = rp != std::string::npos && rp + 2 < line.size() ? std::string(1, line[rp + 2]) : "?";
  std::ifstream wc("/proc/" + std::to_string(pid) + "/wchan");
  std::string wchan;
  std::getline(wc, wchan);
  return "state " + state + (wchan.empty() || wchan == "0" ? "" : " in " + wchan);
}

uint64_t mono_ns() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(t.tv_nsec);
}

// What a worker is doing (for starvation reports) and where it stands (for the kill decision).
enum Doing : uint32_t { kIdle, kAcquire, kTryAcquire, kTimedShort, kTimedLong, kHold, kRelease, kWait, kWaitTimed,
                        kWaitPred, kNotify, kNotifyAll, kSet, kClear, kNested, kAbort, kReset, kPut, kGet, kProcess,
                        kTaskDone, kJoin, kUpdate, kSnapshot, kFetchAdd, kLoad };
const char* doing_name(uint32_t d) {
  static const char* names[] = {"idle", "acquire()", "acquire(False)", "acquire(timeout short)", "acquire(timeout long)",
                                "holding", "release()", "wait()", "wait(timeout)", "wait_for(predicate)", "notify(n)",
                                "notify_all()", "set()", "clear()", "nested acquire()", "abort()", "reset()", "put()",
                                "get()", "processing an item", "task_done()", "join(timeout)", "update()", "snapshot()",
                                "fetch_add()", "load()"};
  return d < sizeof names / sizeof *names ? names[d] : "?";
}
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

// The protected record of the lock roles: only mutual exclusion keeps it consistent.
struct alignas(64) Record {
  std::atomic<uint32_t> holder{0};
  std::atomic<uint64_t> a{0}, b{0};
};
// The condition's state, under its lock.
struct alignas(64) CondData {
  std::atomic<int64_t> items{0};
  std::atomic<uint64_t> budget{0}, woken{0};
  std::atomic<uint64_t> waiting{0};  // processes inside a wait (counted under the lock)
  std::atomic<uint64_t> dead{0};     // waiters killed inside wait(): one extra wake-up each
};

volatile sig_atomic_t g_signals = 0;
void on_usr1(int) { g_signals = g_signals + 1; }

// ---- broken primitives (tests only) -------------------------------------------------------------

inline bool one_in(uint64_t n) {
  thread_local std::minstd_rand r(static_cast<unsigned>(getpid()));
  return r() % n == 0;
}

template <class L>
struct SkipLock : L {  // lock_skip_acquire / rlock_skip_acquire
  using L::L;
  static inline thread_local bool skipped = false;  // this process skipped its last acquire
  bool acquire(bool blocking = true, double timeout_s = -1) {
    if (!skipped && one_in(10'000)) return skipped = true;
    return blocking && timeout_s < 0 ? L::acquire() : L::acquire(blocking, timeout_s);
  }
  void release() {
    if (skipped) skipped = false;
    else L::release();
  }
};
template <class S>
struct SkipSemaphore : S {
  using S::S;
  bool acquire(bool blocking = true, double timeout_s = -1) {
    if (one_in(10'000)) return true;
    return blocking && timeout_s < 0 ? S::acquire() : S::acquire(blocking, timeout_s);
  }
};
template <class S>
struct UncheckedBounded : S {
  using S::S;
  void release() {
    try {
      S::release();
    } catch (const over_release&) {
    }
  }
};
template <class C>
struct WakeAllCondition : C {
  using C::C;
  void notify(int) { C::notify_all(); }
};
template <class E>
struct LyingEvent : E {
  using E::E;
  using E::wait;
  bool wait(double t) { return E::wait(t) || one_in(100); }
};

template <class B>
struct EarlyBarrier : B {
  using B::B;
  template <class... A>
  uint32_t wait(A... a) {
    return one_in(1'000) ? 0 : B::wait(a...);
  }
};
template <class Q>
struct DroppingQueue : Q {
  using Q::Q;
  template <class... A>
  void put(A&&... a) {
    if (!one_in(1'000)) Q::put(std::forward<A>(a)...);
  }
};
template <class Q>
struct EarlyJoinQueue : Q {
  using Q::Q;
  template <class Rep, class Period>
  bool join_for(std::chrono::duration<Rep, Period> d) {
    return Q::join_for(d) || one_in(100);
  }
};
template <class V>
struct UnlockedUpdateValue : V {
  using V::V;
  template <class F>
  auto update(F&& f) {
    auto& r = V::ref();
    const auto x = std::atomic_ref(r).load(std::memory_order_relaxed);
    const uint64_t until = mono_ns() + 200;  // widen the window a locked update would close
    while (mono_ns() < until) {
    }
    const auto nv = f(x);
    std::atomic_ref(r).store(nv, std::memory_order_relaxed);
    return nv;
  }
};
template <class A>
struct PrivateLockArray : A {
  using A::A;
  using L = std::remove_reference_t<decltype(std::declval<A&>().get_lock())>;
  L& get_lock() {
    static L private_lock;  // constructed in each process that calls it: excludes nobody else
    return private_lock;
  }
};

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

inline bool acquiring(uint32_t d) { return d == kAcquire || d == kTryAcquire || d == kTimedShort || d == kTimedLong; }
inline bool robust_backend(const std::string& b) { return b == "native" || b == "posix"; }

// acquire_mix(): one acquire in one of the four forms; true when it holds the lock.
template <class L>
bool acquire_mix(L& l, Ctx& c) {
  const uint64_t r = c.u(100);
  if (r < 40) {
    c.doing(kAcquire, kInCall);
    return l.acquire();
  }
  if (r < 70) {
    c.doing(kTryAcquire, kInCall);
    return l.acquire(false);
  }
  if (r < 90) {
    c.doing(kTimedShort, kInCall);
    return l.acquire(true, c.timeout_short());
  }
  c.doing(kTimedLong, kInCall);
  return l.acquire(true, c.timeout_long());
}

// The lock roles' critical section: exclusivity and the half-done-update protocol.
template <class L>
void locked_section(L& l, Record& rec, Ctx& c) {
  if constexpr (requires { l.owner_died(); }) {
    if (l.owner_died()) {  // the previous holder died inside: repair what it left half done
      rec.holder.store(0, std::memory_order_relaxed);
      rec.b.store(rec.a.load(std::memory_order_relaxed), std::memory_order_relaxed);
      c.slot->recoveries.fetch_add(1, std::memory_order_relaxed);
    }
  }
  const uint32_t found = rec.holder.load(std::memory_order_relaxed);
  if (found != 0)
    c.violation("two holders: entered while token " + std::to_string(found) + " held it (mine " +
                std::to_string(c.token) + ")");
  if (rec.a.load(std::memory_order_relaxed) != rec.b.load(std::memory_order_relaxed))
    c.violation("a half-done update found without owner_died()");
  rec.holder.store(c.token, std::memory_order_relaxed);
  c.doing(kHold, kHolding);
  rec.a.store(rec.a.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  c.hold();
  rec.b.store(rec.b.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  const uint32_t still = rec.holder.load(std::memory_order_relaxed);
  if (still != c.token)
    c.violation(still ? "exclusivity: token " + std::to_string(still) + " entered while I (" + std::to_string(c.token) + ") held it"
                      : "exclusivity: another holder entered and left while I (" + std::to_string(c.token) + ") held it");
  else
    rec.holder.store(0, std::memory_order_relaxed);
}

// ---- the roles -----------------------------------------------------------------------------------

template <class L>
struct LockRole {
  static constexpr bool kNested = false;
  L lock;
  Record rec;
  void init(int) {}
  void step(Ctx& c) {
    if (acquire_mix(lock, c)) {
      locked_section(lock, rec, c);
      c.doing(kRelease, kInCall);
      lock.release();
    }
  }
  // final(): the invariant once every worker has stopped; "" when it holds.
  std::string final_check(TSlot*, int) { return rec.holder.load() || rec.a.load() != rec.b.load() ? "record inconsistent at the end" : ""; }
  void parent_tick(TControl&) {}
  static bool killable(const std::string& b, uint32_t where, uint32_t) { return robust_backend(b) || where != kInCall; }
};

template <class L>
struct RLockRole {
  L lock;
  Record rec;
  void init(int) {}
  void step(Ctx& c) {
    if (!acquire_mix(lock, c)) return;
    const int extra = static_cast<int>(c.u(3));  // re-enter 0-2 more times
    int depth = 1;
    for (int i = 0; i < extra; ++i) {
      c.doing(kNested, kHolding);
      if (lock.acquire(false)) ++depth;  // the owner's re-entry never fails
      else c.violation("a re-entrant acquire(False) by the owner failed");
    }
    locked_section(lock, rec, c);
    c.doing(kRelease, kInCall);
    for (int i = 0; i < depth; ++i) lock.release();
  }
  std::string final_check(TSlot*, int) { return rec.holder.load() || rec.a.load() != rec.b.load() ? "record inconsistent at the end" : ""; }
  void parent_tick(TControl&) {}
  static bool killable(const std::string& b, uint32_t where, uint32_t) { return robust_backend(b) || where != kInCall; }
};

template <class S, bool kBounded>
struct SemRole {
  S sem;
  uint32_t bound = 1;
  void init(int procs) {
    bound = static_cast<uint32_t>(std::max(1, procs / 2));
    sem.~S();
    ::new (&sem) S(bound);
  }
  void step(Ctx& c) {
    if (!acquire_mix(sem, c)) return;
    const int64_t now = c.ctl->in_use.fetch_add(1, std::memory_order_acq_rel) + 1;
    c.slot->held.store(1, std::memory_order_relaxed);
    c.doing(kHold, kHolding);
    if (now > static_cast<int64_t>(bound))
      c.violation(std::to_string(now) + " permits in use, above the bound " + std::to_string(bound));
    c.hold();
    c.doing(kRelease, kInCall);
    c.ctl->in_use.fetch_sub(1, std::memory_order_acq_rel);
    c.slot->held.store(0, std::memory_order_relaxed);
    sem.release();
  }
  // The parent gives back the permits of a killed worker (the loss is counted).
  void give_back(uint32_t n) {
    for (uint32_t i = 0; i < n; ++i) sem.release();
  }
  // quiescent_check(): every worker stopped or gone and no permit held: the semaphore must hold
  // exactly `bound` permits, and (bounded) a release beyond them must raise.
  std::string quiescent_check(TSlot*, int) {
    uint32_t got = 0;
    while (got <= bound && sem.acquire(false)) ++got;
    std::string err;
    if (got != bound) err = "a quiescent semaphore held " + std::to_string(got) + " permits, not " + std::to_string(bound);
    for (uint32_t i = 0; i < std::min(got, bound); ++i) sem.release();
    if (got > bound) {
      // leave it as it was (over the bound): nothing more to check
    } else if constexpr (kBounded) {
      if (got == bound) {
        bool raised = false;
        try {
          sem.release();
        } catch (const over_release&) {
          raised = true;
        }
        if (!raised) {
          err = "a release beyond the bound of a full BoundedSemaphore did not raise";
          (void)sem.acquire(false);  // take the extra permit back
        }
      }
    }
    return err;
  }
  std::string final_check(TSlot* s, int n) { return quiescent_check(s, n); }
  void parent_tick(TControl&) {}
  static bool killable(const std::string&, uint32_t where, uint32_t) { return where != kInCall; }
};

template <class C>
struct CondRole {
  C cond;
  CondData d;
  void init(int) {}
  void step(Ctx& c) {
    if (!acquire_mix(cond.get_lock(), c)) return;
    locked_step(c);
    c.doing(kRelease, kInCall);
    cond.release();
  }
  void locked_step(Ctx& c) {
    if constexpr (requires { cond.get_lock().owner_died(); })
      if (cond.get_lock().owner_died()) c.slot->recoveries.fetch_add(1, std::memory_order_relaxed);
    c.doing(kHold, kHolding);
    c.hold();  // a critical section of its own: where a kill finds a holder of the condition's lock
    const uint64_t r = c.u(100);
    if (r < 15) {  // producer: k items, notify(n) with n <= k, or notify_all
      const int k = 1 + static_cast<int>(c.u(3));
      d.items.fetch_add(k, std::memory_order_relaxed);
      if (c.u(10) == 0) {
        grant(kMaxWorkers);  // notify_all: every waiter
        c.doing(kNotifyAll, kInCall);
        cond.notify_all();
      } else {
        const int n = c.u(3) ? 1 : 1 + static_cast<int>(c.u(static_cast<uint64_t>(k)));  // mostly 1
        grant(static_cast<uint64_t>(n));
        c.doing(kNotify, kInCall);
        cond.notify(n);
      }
    } else if (r < 85) {  // a plain timed wait: true means notified, and counts against the budget
      // Counted in `waiting` while its slot's `held` says so (set right after the count, cleared
      // right before the uncount): a worker killed anywhere around its wait is taken off by the
      // parent exactly when it was counted (waiter_killed()). Keying this on `doing` instead left
      // a worker killed between the count and kWaitTimed (it is still a killable holder there)
      // counted for good, which stopped settle() for the rest of the pair.
      count_waiting(*c.slot);
      c.doing(kWaitTimed, kInCall);
      const bool notified = c.u(10) ? cond.wait(c.timeout_short()) : cond.wait(c.timeout_long());
      c.doing(kHold, kHolding);
      uncount_waiting(*c.slot);
      if (notified) {
        const uint64_t w = d.woken.fetch_add(1, std::memory_order_relaxed) + 1;
        const uint64_t b = d.budget.load(std::memory_order_relaxed) + d.dead.load(std::memory_order_relaxed);
        if (w > b)
          c.violation("notify(n) woke more than n: " + std::to_string(w) + " waits returned notified for " +
                      std::to_string(b) + " notifications");
      }
      settle();
      take(c);
    } else {  // wait_for(predicate), blocking or timed
      auto pred = [&] { return d.items.load(std::memory_order_relaxed) > 0; };
      bool ok;
      count_waiting(*c.slot);
      c.doing(kWaitPred, kInCall);
      if (c.u(2)) ok = cond.wait_for(std::chrono::microseconds(100 + c.u(5000)), pred);
      else ok = cond.wait(pred);
      c.doing(kHold, kHolding);
      uncount_waiting(*c.slot);
      settle();
      if (ok && !pred()) c.violation("wait_for(predicate) returned true with the predicate false");
      take(c);
    }
  }
  // grant(n): notify(n) may wake at most min(n, waiting) waiters; the budget grows by that, so a
  // notify that wakes more than it may shows as woken > budget at once (budget += n alone would
  // let notify_all and notify(n > waiting) bank slack that hides it).
  void grant(uint64_t n) { d.budget.fetch_add(std::min(n, d.waiting.load(std::memory_order_relaxed)), std::memory_order_relaxed); }
  // settle(): with nobody waiting, a notification not yet used can never be: a notify wakes only
  // processes already waiting, and all of those have returned. The budget left over is void.
  void settle() {
    if (d.waiting.load(std::memory_order_relaxed) == 0) d.budget.store(d.woken.load(std::memory_order_relaxed), std::memory_order_relaxed);
  }
  void count_waiting(TSlot& s) {
    d.waiting.fetch_add(1, std::memory_order_relaxed);
    s.held.store(1, std::memory_order_release);
  }
  void uncount_waiting(TSlot& s) {
    s.held.store(0, std::memory_order_release);
    d.waiting.fetch_sub(1, std::memory_order_relaxed);
  }
  // waiter_killed(s, in_wait): a worker died with the parent holding it stopped. If it was
  // counted in `waiting` it is taken off. If it died inside wait() (in_wait), native's Condition
  // stays usable, but the dead registration may let a later notify(n) wake n + 1 (condition.hpp,
  // "Owner death"): one extra wake-up per dead waiter is granted, no more (notify() retires a
  // dead waiter's count; before it did, the count kept granting extras and this checker said so).
  void waiter_killed(TSlot& s, bool in_wait) {
    if (s.held.exchange(0)) d.waiting.fetch_sub(1, std::memory_order_relaxed);
    if (in_wait) d.dead.fetch_add(1, std::memory_order_relaxed);  // allowed at any later time: kept apart from the budget
  }
  void take(Ctx&) {
    if (d.items.load(std::memory_order_relaxed) > 0) d.items.fetch_sub(1, std::memory_order_relaxed);
  }
  // The parent's ticker: an item and a notify(1) now and then, so a blocking predicate wait
  // always has a producer (the workers could all be waiting at once).
  void parent_tick(TControl&) {
    if (!cond.get_lock().acquire(true, 0.001)) return;
    d.items.fetch_add(1, std::memory_order_relaxed);
    grant(1);
    cond.notify(1);
    cond.release();
  }
  std::string final_check(TSlot*, int) {
    return d.woken.load() > d.budget.load() + d.dead.load() ? "more notified waits than notifications at the end" : "";
  }
  // A Condition's worker inside acquiring its (robust) lock is a Lock's: safe to kill there;
  // native's Condition also survives a waiter killed inside wait() (see waiter_killed()).
  static bool killable(const std::string& b, uint32_t where, uint32_t d) {
    return where != kInCall || (robust_backend(b) && acquiring(d)) ||
           (b == "native" && (d == kWaitTimed || d == kWaitPred));
  }
};

template <class E>
struct EventRole {
  E ev;
  void init(int) {}
  void set(TControl& ctl) {
    ctl.sets_begun.fetch_add(1, std::memory_order_seq_cst);
    ev.set();
    ctl.sets_done.fetch_add(1, std::memory_order_seq_cst);
  }
  void step(Ctx& c) {
    const uint64_t r = c.u(100);
    if (r < 25) {
      c.doing(kSet, kInCall);
      set(*c.ctl);
    } else if (r < 45) {
      c.doing(kClear, kInCall);
      ev.clear();
    } else {
      // A wait that returns true must overlap a set(): with d0 the sets completed before it
      // looked and b1 the sets begun by the time it returned, b1 == d0 means no set() ran
      // during the wait, and the event was clear when it looked.
      const uint64_t d0 = c.ctl->sets_done.load(std::memory_order_seq_cst);
      const bool was_set = ev.is_set();
      bool got;
      if (r < 85) {
        c.doing(kWaitTimed, kInCall);
        got = ev.wait(c.timeout_short());
      } else if (r < 90) {
        c.doing(kWaitTimed, kInCall);
        got = ev.wait(c.timeout_long());
      } else {
        c.doing(kWait, kInCall);
        got = ev.wait();
      }
      const uint64_t b1 = c.ctl->sets_begun.load(std::memory_order_seq_cst);
      if (got && !was_set && b1 == d0) c.violation("wait() returned true but no set() overlapped it");
      if (!got && r >= 90) c.violation("a wait() without timeout returned false");
    }
  }
  // The parent sets the event now and then, so a wait() without timeout always ends.
  void parent_tick(TControl& ctl) { set(ctl); }
  std::string final_check(TSlot*, int) { return ""; }
  // posix's Event is a robust mutex plus a pthread condvar, and a condvar is not robust: a
  // waiter killed inside pthread_cond_wait leaves it waiting for that waiter forever (the next
  // broadcast blocks holding the mutex; the torture found it), so only native's is killed in
  // its calls.
  static bool killable(const std::string& b, uint32_t where, uint32_t) { return b == "native" || where != kInCall; }
};

// ---- the roles without a lock of their own to hold -----------------------------------------------

// Storage<T>: room for a T built in init() (a Barrier needs its parties, which the role learns
// there), destroyed with the role.
template <class T>
struct Storage {
  alignas(T) unsigned char bytes[sizeof(T)];
  bool built = false;
  template <class... A>
  void build(A&&... a) {
    ::new (bytes) T(std::forward<A>(a)...);
    built = true;
  }
  T* operator->() { return std::launder(reinterpret_cast<T*>(bytes)); }
  T& operator*() { return *operator->(); }
  ~Storage() {
    if (built) operator->()->~T();
  }
};


// Barrier: every worker is a party. A round completes only when all of them have arrived, so
// all the parties of a completed round pass it and every worker has passed the same number of
// rounds, give or take the one being passed: a worker that passes finds every other worker's
// phase at its own or one more. Anything else means phases mixed (a party released early, or a
// completed round that some of its parties did not pass). Indexes are unique within a round.
// Timeouts, abort() and reset() break rounds; a broken round is passed by nobody.
template <class Bar>
struct BarrierRole {
  Storage<Bar> bar;
  uint32_t parties = 1;
  std::atomic<uint64_t> indexes[2] = {};  // the indexes returned in rounds of each parity (<= 64 parties)
  void init(int procs) {
    parties = static_cast<uint32_t>(procs);
    bar.build(parties);
  }
  static bool killable(const std::string&, uint32_t where, uint32_t) { return where == kOut; }
  void step(Ctx& c) {
    TSlot& s = *c.slot;
    const uint64_t r = c.u(1000);
    if (r < 5) {
      c.doing(kAbort, kInCall);
      bar->abort();
      return;
    }
    if (r < 10) {
      c.doing(kReset, kInCall);
      bar->reset();
      return;
    }
    const uint64_t p = s.phase.load(std::memory_order_relaxed);
    uint32_t idx = 0;
    try {
      if (r < 500) {
        c.doing(kWait, kInCall);
        idx = bar->wait();
      } else {
        c.doing(kWaitTimed, kInCall);
        idx = bar->wait(r < 950 ? c.timeout_long() : c.timeout_short());
      }
    } catch (const broken_barrier&) {
      if (c.u(4) == 0 && bar->broken()) {  // someone must mend it; not everyone at once
        c.doing(kReset, kInCall);
        bar->reset();
      }
      c.outside();  // where a kill may land
      return;
    }
    if (idx >= parties) c.violation("wait() returned index " + std::to_string(idx) + " of " + std::to_string(parties) + " parties");
    for (int j = 0; j < c.procs; ++j) {
      if (j == c.index) continue;
      const uint64_t q = c.slots[j].phase.load(std::memory_order_acquire);
      if (q != p && q != p + 1) {
        c.violation("phases mixed: I passed round " + std::to_string(p) + " while worker " + std::to_string(j) +
                    " had passed " + std::to_string(q) + " rounds");
        break;
      }
    }
    if (parties <= 64 && idx < parties) {
      const uint64_t bit = uint64_t{1} << idx;
      const uint64_t full = parties == 64 ? ~uint64_t{0} : (uint64_t{1} << parties) - 1;
      const uint64_t m = indexes[p & 1].fetch_or(bit, std::memory_order_acq_rel);
      if (m & bit) c.violation("index " + std::to_string(idx) + " returned twice in round " + std::to_string(p));
      if ((m | bit) == full) indexes[p & 1].store(0, std::memory_order_release);  // the round's last: the parity's next round starts clean
    }
    s.phase.store(p + 1, std::memory_order_release);
    c.outside();
  }
  // The ticker: at the end, abort() releases every party still waiting (its peers have left).
  void parent_tick(TControl& ctl) {
    if (ctl.stop.load()) bar->abort();
  }
  std::string final_check(TSlot*, int) { return ""; }
};

// A queue item: its producer (a worker index; the agent is `procs`) and the producer's sequence.
struct Item {
  uint32_t producer = 0, pad = 0;
  uint64_t seq = 0;
};
inline uint64_t item_hash(const Item& it) {  // splitmix64 of (producer, seq)
  uint64_t z = (static_cast<uint64_t>(it.producer) << 44) ^ it.seq ^ 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Queue and JoinableQueue: every worker both puts and gets, in Python's every form. Checkers:
// exactly once (items put = items got + items left, as counts and as sums of item hashes, at
// every stutter and at the end), FIFO per producer (a consumer never gets a producer's item
// after a later one of the same producer), and for JoinableQueue: a join() that returns saw
// every item put before it began task_done()'d. A consumer of a JoinableQueue holds its item
// for a while before task_done(): a worker killed then has its task_done() given back by the
// agent (a counted loss). A worker is killed only outside its calls (a get interrupted between
// the cell and the count could not be accounted), and at the end the agent close()s the queue,
// which wakes every blocked put and get with queue_closed.
template <class Q, bool kJoinable>
struct QueueRole {
  Q q;
  uint32_t agent_id = 0;
  std::atomic<uint64_t> agent_puts{0}, agent_put_h{0}, agent_gets{0}, agent_get_h{0};
  std::atomic<uint64_t> puts_done{0}, dones_begun{0};  // JoinableQueue: puts returned, task_done()s begun
  void init(int procs) { agent_id = static_cast<uint32_t>(procs); }
  static bool killable(const std::string&, uint32_t where, uint32_t) {
    return kJoinable ? where != kInCall : where == kOut;
  }
  void step(Ctx& c) {
    if (c.local.empty()) c.local.assign(static_cast<std::size_t>(c.procs) + 1, 0);
    // Puts and gets at even odds would let the queue drift to empty (or full) with every worker
    // blocked on it, waiting for the agent's tick; leaning towards the call that moves it
    // keeps the blocking calls short and many.
    const uint32_t n = q.qsize();
    const uint64_t put_odds = n == 0 ? 80 : q.full() ? 20 : 50;
    const uint64_t r = c.u(100);
    try {
      if (kJoinable && r < 10) join(c);
      else if (c.u(100) < put_odds) put(c);
      else get(c);
    } catch (const queue_closed&) {
      if (!c.ctl->stop.load()) c.violation(std::string("queue_closed before the end, while doing ") + doing_name(c.slot->doing.load()));
    }
    c.outside();
  }
  void put(Ctx& c) {
    TSlot& s = *c.slot;
    Item it;
    it.producer = static_cast<uint32_t>(c.index);
    it.seq = s.n1.load(std::memory_order_relaxed);
    const uint64_t m = c.u(100);
    c.doing(kPut, kInCall);
    try {
      if (m < 30) q.put(it);
      else if (m < 55) q.put(it, false);
      else if (m < 80) q.put(it, true, c.timeout_short());
      else q.put(it, true, c.timeout_long());
    } catch (const queue_full&) {
      if (m < 30) c.violation("a blocking put() raised queue_full");
      return;
    }
    s.h1.fetch_add(item_hash(it), std::memory_order_relaxed);
    s.n1.store(it.seq + 1, std::memory_order_release);
    if constexpr (kJoinable) puts_done.fetch_add(1, std::memory_order_seq_cst);
  }
  void get(Ctx& c) {
    TSlot& s = *c.slot;
    const uint64_t m = c.u(100);
    c.doing(kGet, kInCall);
    Item it;
    try {
      if (m < 30) it = q.get();
      else if (m < 55) it = q.get(false);
      else if (m < 80) it = q.get(true, c.timeout_short());
      else it = q.get(true, c.timeout_long());
    } catch (const queue_empty&) {
      if (m < 30) c.violation("a blocking get() raised queue_empty");
      return;
    }
    got(c, it);
    s.n2.fetch_add(1, std::memory_order_relaxed);
    s.h2.fetch_add(item_hash(it), std::memory_order_relaxed);
    if constexpr (kJoinable) {
      s.held.store(1, std::memory_order_relaxed);
      c.doing(kProcess, kHolding);
      c.hold();
      c.doing(kTaskDone, kInCall);
      dones_begun.fetch_add(1, std::memory_order_seq_cst);
      try {
        q.task_done();
      } catch (const over_release&) {
        c.violation("task_done() raised over_release for an item got and not yet done");
      }
      s.held.store(0, std::memory_order_relaxed);
    }
  }
  void got(Ctx& c, const Item& it) {
    if (it.producer > agent_id) {
      c.violation("a corrupt item: producer " + std::to_string(it.producer));
      return;
    }
    uint64_t& last = c.local[it.producer];  // the producer's last sequence seen here, plus one
    if (it.seq + 1 <= last)
      c.violation("producer " + std::to_string(it.producer) + "'s item " + std::to_string(it.seq) + " came after its item " +
                  std::to_string(last - 1) + " (FIFO per producer broken, or a duplicate)");
    last = it.seq + 1;
  }
  void join(Ctx& c) {
    if constexpr (kJoinable) {
      const uint64_t p0 = puts_done.load(std::memory_order_seq_cst);
      c.doing(kJoin, kInCall);
      const bool ok = c.u(10) < 9 ? q.join_for(std::chrono::microseconds(100 + c.u(1900)))
                                  : q.join_for(std::chrono::milliseconds(10 + c.u(90)));
      const uint64_t d1 = dones_begun.load(std::memory_order_seq_cst);
      if (ok && d1 < p0)
        c.violation("join() returned with " + std::to_string(d1) + " task_done()s begun for " + std::to_string(p0) +
                    " items put before it began");
    }
  }
  // The agent's ticker keeps a queue everyone waits on moving: an item into an empty queue, one
  // out of a full one (so a blocking get or put always ends); at the end it closes the queue.
  void parent_tick(TControl& ctl) {
    if (ctl.stop.load()) {
      if (!q.closed()) q.close();
      return;
    }
    try {
      if (q.qsize() == 0) {
        Item it;
        it.producer = agent_id;
        it.seq = agent_puts.load();
        q.put(it, false);
        agent_put_h.fetch_add(item_hash(it));
        agent_puts.fetch_add(1);
        if constexpr (kJoinable) puts_done.fetch_add(1, std::memory_order_seq_cst);
      } else if (q.full()) {
        const Item it = q.get(false);
        agent_get_h.fetch_add(item_hash(it));
        agent_gets.fetch_add(1);
        if constexpr (kJoinable) {
          dones_begun.fetch_add(1, std::memory_order_seq_cst);
          q.task_done();
        }
      }
    } catch (const queue_full&) {
    } catch (const queue_empty&) {
    }
  }
  // give_back(): the task_done()s of consumers killed while processing their item.
  void give_back(uint32_t n) {
    if constexpr (kJoinable)
      for (uint32_t i = 0; i < n; ++i) {
        dones_begun.fetch_add(1, std::memory_order_seq_cst);
        q.task_done();
      }
  }
  struct Sums {
    uint64_t puts = 0, put_h = 0, gets = 0, get_h = 0;
  };
  Sums sums(TSlot* slots, int procs) {
    Sums t{agent_puts.load(), agent_put_h.load(), agent_gets.load(), agent_get_h.load()};
    for (int i = 0; i < procs; ++i) {
      t.puts += slots[i].n1.load();
      t.put_h += slots[i].h1.load();
      t.gets += slots[i].n2.load();
      t.get_h += slots[i].h2.load();
    }
    return t;
  }
  std::string balance(const Sums& t, uint64_t left, uint64_t left_h, const char* when) {
    if (t.puts != t.gets + left)
      return std::string(when) + ": " + std::to_string(t.puts) + " items put, " + std::to_string(t.gets) + " got and " +
             std::to_string(left) + " in the queue (lost or duplicated items)";
    if (t.put_h != t.get_h + left_h) return std::string(when) + ": the items got are not the items put";
    return "";
  }
  // quiescent_check(): every worker stopped outside its calls: the counts balance.
  std::string quiescent_check(TSlot* slots, int procs) {
    const Sums t = sums(slots, procs);
    if (t.puts < t.gets || t.puts - t.gets != q.qsize())
      return "with every worker stopped: " + std::to_string(t.puts) + " items put, " + std::to_string(t.gets) +
             " got, but qsize() " + std::to_string(q.qsize());
    if constexpr (kJoinable) {
      const uint64_t d = dones_begun.load();
      if (q.unfinished() != t.puts - std::min(t.puts, d))
        return "with every worker stopped: unfinished() " + std::to_string(q.unfinished()) + " for " +
               std::to_string(t.puts) + " items put and " + std::to_string(d) + " task_done()s";
    }
    return "";
  }
  // final_check(): every process gone; what is left in the (closed) queue is drained.
  std::string final_check(TSlot* slots, int procs) {
    uint64_t left = 0, left_h = 0;
    for (;;) {
      try {
        const Item it = q.get(false);
        ++left;
        left_h += item_hash(it);
      } catch (const queue_empty&) {
        break;
      } catch (const queue_closed&) {
        break;
      }
    }
    return balance(sums(slots, procs), left, left_h, "at the end");
  }
};

// Value: the guide's shared counter, both ways. `locked` changes only under get_lock() (a
// read, a hold, a write through ref(); or update()), `atomic` only through fetch_add() without
// the lock. Checkers: the value does not change while its lock is held, neither ever goes
// backwards, and with every worker stopped each equals the increments its workers completed.
// A robust lock's holder may be killed: the parent, with the holder stopped, reads whether its
// write landed (the value is one more than what it read) and counts it then.
template <class V>
struct ValueRole {
  V locked, atomic;
  void init(int) {}
  static bool killable(const std::string& b, uint32_t where, uint32_t d) {
    return robust_backend(b) ? where != kInCall || acquiring(d) : where == kOut;
  }
  void step(Ctx& c) {
    if (c.local.empty()) c.local.assign(2, 0);
    TSlot& s = *c.slot;
    const uint64_t r = c.u(100);
    if (r < 35) {
      auto& l = locked.get_lock();
      if (!acquire_mix(l, c)) return;
      if constexpr (requires { l.owner_died(); })
        if (l.owner_died()) s.recoveries.fetch_add(1, std::memory_order_relaxed);
      uint64_t& v = locked.ref();
      const uint64_t x = std::atomic_ref(v).load(std::memory_order_relaxed);
      s.aux.store(x, std::memory_order_relaxed);
      s.aux2.store(s.n1.load(std::memory_order_relaxed), std::memory_order_relaxed);
      s.held.store(1, std::memory_order_release);
      c.doing(kHold, kHolding);
      c.hold();
      const uint64_t y = std::atomic_ref(v).load(std::memory_order_relaxed);
      if (y != x) c.violation("the value changed from " + std::to_string(x) + " to " + std::to_string(y) + " while its lock was held");
      std::atomic_ref(v).store(y + 1, std::memory_order_relaxed);
      s.n1.fetch_add(1, std::memory_order_release);
      s.held.store(0, std::memory_order_release);
      c.doing(kRelease, kInCall);
      l.release();
    } else if (r < 50) {
      c.doing(kUpdate, kInCall);
      locked.update([](uint64_t x) { return x + 1; });
      s.n1.fetch_add(1, std::memory_order_release);
    } else if (r < 60) {
      c.doing(kSnapshot, kInCall);
      monotonic(c, 0, locked.snapshot(), "snapshot()");
    } else if (r < 90) {
      c.doing(kFetchAdd, kInCall);
      atomic.fetch_add(1);
      s.n2.fetch_add(1, std::memory_order_release);
    } else {
      c.doing(kLoad, kInCall);
      monotonic(c, 1, atomic.load(), "load()");
    }
  }
  void monotonic(Ctx& c, int k, uint64_t v, const char* how) {
    if (v < c.local[static_cast<std::size_t>(k)])
      c.violation(std::string(how) + " went backwards: " + std::to_string(v) + " after " + std::to_string(c.local[static_cast<std::size_t>(k)]));
    c.local[static_cast<std::size_t>(k)] = v;
  }
  // killed_holding(): the holder is stopped, inside its locked section: did its write land?
  void killed_holding(TSlot& s) {
    if (!s.held.load()) return;
    const uint64_t v = std::atomic_ref(locked.ref()).load();
    if (v == s.aux.load() + 1 && s.n1.load() == s.aux2.load()) s.n1.fetch_add(1);
  }
  std::string check(TSlot* slots, int procs, const char* when) {
    uint64_t n1 = 0, n2 = 0;
    for (int i = 0; i < procs; ++i) n1 += slots[i].n1.load(), n2 += slots[i].n2.load();
    const uint64_t lv = std::atomic_ref(locked.ref()).load(), av = atomic.load();
    if (lv != n1) return std::string(when) + ": the locked value is " + std::to_string(lv) + " after " + std::to_string(n1) + " increments";
    if (av != n2) return std::string(when) + ": the atomic value is " + std::to_string(av) + " after " + std::to_string(n2) + " fetch_add()s";
    return "";
  }
  std::string quiescent_check(TSlot* slots, int procs) { return check(slots, procs, "with every worker stopped"); }
  std::string final_check(TSlot* slots, int procs) { return check(slots, procs, "at the end"); }
  void parent_tick(TControl&) {}
};

// Array: the whole array changes under get_lock(), element by element, with a hold half-way;
// with the lock free every element is equal. Checkers: a holder finds the elements equal (or a
// half-done update together with owner_died(), which it rolls back), they do not change while
// it holds the lock, and with every worker stopped they equal the updates completed. A holder
// killed half-way is the robust lock's case: the next holder rolls back to the last element,
// written last; the parent counts the update when that element landed.
template <class A>
struct ArrayRole {
  static constexpr std::size_t kN = 8;
  A arr;
  void init(int) {}
  static bool killable(const std::string& b, uint32_t where, uint32_t d) {
    return robust_backend(b) ? where != kInCall || acquiring(d) : where == kOut;
  }
  uint64_t at(std::size_t i) { return std::atomic_ref(arr[i]).load(std::memory_order_relaxed); }
  void put_at(std::size_t i, uint64_t v) { std::atomic_ref(arr[i]).store(v, std::memory_order_relaxed); }
  bool uniform() {
    for (std::size_t i = 1; i < kN; ++i)
      if (at(i) != at(0)) return false;
    return true;
  }
  void step(Ctx& c) {
    if (c.local.empty()) c.local.assign(1, 0);
    TSlot& s = *c.slot;
    auto& l = arr.get_lock();
    if (!acquire_mix(l, c)) return;
    bool died = false;
    if constexpr (requires { l.owner_died(); }) died = l.owner_died();
    if (died) {  // roll a half-done update back to the last element, which is written last
      for (std::size_t i = 0; i + 1 < kN; ++i) put_at(i, at(kN - 1));
      s.recoveries.fetch_add(1, std::memory_order_relaxed);
    }
    if (!uniform()) c.violation("the elements differ while the lock is free: a torn update (" + std::to_string(at(0)) + " .. " + std::to_string(at(kN - 1)) + ")");
    const uint64_t x = at(0);
    if (x < c.local[0]) c.violation("the array went backwards: " + std::to_string(x) + " after " + std::to_string(c.local[0]));
    c.local[0] = x;
    if (c.u(100) < 70) {
      s.aux.store(x, std::memory_order_relaxed);
      s.aux2.store(s.n1.load(std::memory_order_relaxed), std::memory_order_relaxed);
      s.held.store(1, std::memory_order_release);
      c.doing(kHold, kHolding);
      for (std::size_t i = 0; i < kN; ++i) {
        if (at(i) != x) c.violation("element " + std::to_string(i) + " changed while the lock was held");
        put_at(i, x + 1);
        if (i == kN / 2) c.hold();
      }
      s.n1.fetch_add(1, std::memory_order_release);
      s.held.store(0, std::memory_order_release);
      c.local[0] = x + 1;
    } else {
      c.doing(kHold, kHolding);
      c.hold();
      if (!uniform() || at(0) != x) c.violation("the elements changed while the lock was held");
    }
    c.doing(kRelease, kInCall);
    l.release();
  }
  void killed_holding(TSlot& s) {
    if (s.held.load() && at(kN - 1) == s.aux.load() + 1 && s.n1.load() == s.aux2.load()) s.n1.fetch_add(1);
  }
  std::string check(TSlot* slots, int procs, const char* when, bool repair_ok) {
    uint64_t n1 = 0;
    for (int i = 0; i < procs; ++i) n1 += slots[i].n1.load();
    // A holder killed half-way leaves the array torn until the next holder repairs it.
    const uint64_t v = repair_ok ? at(kN - 1) : at(0);
    if (!repair_ok && !uniform()) return std::string(when) + ": the elements differ";
    if (v != n1) return std::string(when) + ": the array holds " + std::to_string(v) + " after " + std::to_string(n1) + " updates";
    return "";
  }
  std::string quiescent_check(TSlot* slots, int procs) { return check(slots, procs, "with every worker stopped", true); }
  std::string final_check(TSlot* slots, int procs) { return check(slots, procs, "at the end", true); }
  void parent_tick(TControl&) {}
};

// ---- the parent --------------------------------------------------------------------------------

struct TortureTotals {
  uint64_t ops = 0, ops_min = 0, ops_max = 0, violations = 0, recoveries = 0, losses = 0, kills = 0,
           kills_deferred = 0, stops = 0, stutters = 0, shuffles = 0, signals = 0, starvations = 0, crashes = 0;
  std::string first_problem;
};

struct Event_ {
  double t;
  std::string fault;
  int worker;
  std::string detail;
};

struct PairResult {
  std::string role, backend;
  double seconds = 0;
  TortureTotals t;
  bool success = true;
  std::vector<Event_> schedule;
  uint64_t schedule_dropped = 0;
};

constexpr std::size_t kScheduleCap = 2000;

struct Opts {
  std::vector<std::string> roles, backends;
  std::set<std::string> faults;
  int procs = 0;
  double duration_s = 60, stat_interval_s = 5;
  uint64_t seed = 0;
  bool seed_given = false;
  std::string out, results_dir = "results", broken, command_line;
  bool no_save = false, quiet = false;
};

// Faults that apply to (role, backend): kill needs an outcome the torture can account for.
std::set<std::string> applicable(const std::string& role, const std::string& backend, const std::set<std::string>& want) {
  std::set<std::string> out = want;
  const bool robust = backend == "native" || backend == "posix";
  if ((role == "lock" || role == "rlock" || role == "condition") && !robust) out.erase("kill");
  return out;
}

template <class R>
class Torture {
 public:
  Torture(const Opts& o, const Topology& topo, SignalGate& gate, std::string role, std::string backend, double seconds,
          uint64_t seed, double t0_run)
      : o_(o), topo_(topo), gate_(gate), seconds_(seconds), seed_(seed), t0_run_(t0_run),
        region_(round_up(sizeof(TControl), 64) + sizeof(TSlot) * static_cast<std::size_t>(o.procs) + sizeof(R) + 128) {
    res_.role = std::move(role);
    res_.backend = std::move(backend);
    faults_ = applicable(res_.role, res_.backend, o.faults);
    char* base = static_cast<char*>(region_.data());
    ctl_ = ::new (base) TControl();
    slots_ = reinterpret_cast<TSlot*>(base + round_up(sizeof(TControl), 64));
    for (int i = 0; i < o.procs; ++i) ::new (&slots_[i]) TSlot();
    role_ = ::new (base + round_up(round_up(sizeof(TControl), 64) + sizeof(TSlot) * static_cast<std::size_t>(o.procs), 64)) R();
    role_->init(o.procs);
    pids_.assign(static_cast<std::size_t>(o.procs), -1);
    incarnation_.assign(pids_.size(), 0);
    stopped_until_.assign(pids_.size(), 0);
    resumed_.assign(pids_.size(), 0);
    starving_.assign(pids_.size(), false);
    rng_.seed(seed);
  }
  ~Torture() {
    if (agent_ > 0) {
      kill(agent_, SIGKILL);
      waitpid(agent_, nullptr, 0);
    }
    for (pid_t p : pids_)
      if (p > 0) {
        kill(p, SIGKILL);
        waitpid(p, nullptr, 0);
      }
    role_->~R();
  }

  PairResult run() {
    // SIGUSR1 stays blocked in this process, so a worker forked from it cannot die of one before
    // it has installed its handler (it unblocks it right after).
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, nullptr);
    const uint64_t start = mono_ns();
    spawn_agent();
    for (int i = 0; i < o_.procs; ++i) spawn(i);
    const double end_s = seconds_;
    double next_stat = o_.stat_interval_s, next_kill = exp_s(0.5), next_stop = exp_s(0.1), next_stutter = exp_s(3),
           next_shuffle = exp_s(0.3), next_signal = 0, next_starve = 0.1;
    double last_t = 0;
    for (;;) {
      const double t = elapsed(start);
      if (t >= end_s) break;
      // The loop runs every millisecond; a turn that took over a second (a fault's wait, or the
      // parent not scheduled) is noted, since everything it times ran late meanwhile.
      if (t - last_t > 1.0) note(t, "parent stall", -1, std::to_string(static_cast<int>((t - last_t) * 1000)) + " ms");
      last_t = t;
      reap();
      continue_due(t);
      if (has("signal") && t >= next_signal) {
        const int w = pick_running();
        if (w >= 0) signal_worker(w);
        next_signal = t + 0.0005 + uniform(0.001);
      }
      if (has("stop") && t >= next_stop) {
        stop_fault(t);
        next_stop = t + exp_s(0.1);
      }
      if (has("kill") && t >= next_kill) {
        kill_fault(t);
        next_kill = t + exp_s(0.5);
      }
      if (has("shuffle") && t >= next_shuffle) {
        shuffle_fault(t);
        next_shuffle = t + exp_s(0.3);
      }
      if (has("stutter") && t >= next_stutter) {
        stutter_fault(t);
        next_stutter = elapsed(start) + exp_s(3);
      }
      if (t >= next_starve) {
        check_starvation();
        next_starve = t + 0.1;
      }
      if (t >= next_stat) {
        if (!o_.quiet) std::cout << stats_line(t) << std::endl;
        next_stat += o_.stat_interval_s;
      }
      pause_ms(1);
    }
    finish();
    res_.seconds = elapsed(start);
    collect();
    if (const std::string e = role_->final_check(slots_, o_.procs); !e.empty()) problem(e), ++res_.t.violations;
    res_.success = res_.t.violations == 0 && res_.t.starvations == 0 && res_.t.crashes == 0;
    if (!o_.quiet) std::cout << stats_line(res_.seconds) << std::endl;
    return std::move(res_);
  }

 private:
  static std::size_t round_up(std::size_t n, std::size_t a) { return (n + a - 1) / a * a; }
  double elapsed(uint64_t start) const { return static_cast<double>(mono_ns() - start) * 1e-9; }
  bool has(const char* f) const { return faults_.count(f) > 0; }
  double uniform(double max) { return std::uniform_real_distribution<double>(0, max)(rng_); }
  double exp_s(double mean) { return std::exponential_distribution<double>(1.0 / mean)(rng_); }
  void pause_ms(int ms) {
    pollfd p{gate_.fd(), POLLIN, 0};
    if (poll(&p, 1, ms) > 0) gate_.check();  // SIGINT/SIGTERM/SIGHUP: throws interrupted
  }
  void note(double t, const char* fault, int w, std::string detail = "") {
    if (res_.schedule.size() < kScheduleCap) res_.schedule.push_back({t_run() , fault, w, std::move(detail)});
    else ++res_.schedule_dropped;
    (void)t;
  }
  double t_run() const { return static_cast<double>(mono_ns()) * 1e-9 - t0_run_; }
  void problem(const std::string& what) {
    if (res_.t.first_problem.empty()) res_.t.first_problem = what;
  }

  void spawn(int i) {
    const uint32_t token = static_cast<uint32_t>(i + 1) | (static_cast<uint32_t>(++incarnation_[i]) << 16);
    TSlot& s = slots_[i];
    s.where.store(kOut);
    s.held.store(0);
    s.doing.store(kIdle);
    s.token.store(token);
    s.progress_ns.store(mono_ns());
    const pid_t parent = getpid();
    const int pu = topo_.pus().empty() ? -1 : topo_.pus()[static_cast<std::size_t>(i) % topo_.pus().size()];
    const pid_t pid = fork();
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(97);
      close(gate_.fd());
      // The parent decides about SIGINT and SIGHUP. And a group of its own: the torture stops its
      // workers, and a process group with a stopped member that becomes orphaned (the shell
      // that started bench exits) is sent SIGHUP by the kernel: a soak lost a worker so.
      signal(SIGINT, SIG_IGN);
      signal(SIGHUP, SIG_IGN);
      setpgid(0, 0);
      struct sigaction sa {};
      sa.sa_handler = on_usr1;  // no SA_RESTART: every wait sees EINTR
      sigaction(SIGUSR1, &sa, nullptr);
      sigprocmask(SIG_SETMASK, &gate_.old_mask(), nullptr);
      if (pu >= 0) (void)topo_.bind_self(pu);
      Ctx c{ctl_, &s, std::mt19937_64(seed_ ^ (0x9e3779b97f4a7c15ull * static_cast<uint64_t>(token))), token, slots_,
            o_.procs, i, {}};
      int rc = 0;
      try {
        while (ctl_->stop.load(std::memory_order_relaxed) == 0) {
          role_->step(c);
          c.done_op();
        }
      } catch (const std::exception& e) {
        c.violation(std::string("worker threw: ") + e.what() + " while doing " +
                    doing_name(s.doing.load(std::memory_order_relaxed)));
        rc = 3;
      }
      std::fflush(nullptr);
      _exit(rc);
    }
    pids_[static_cast<std::size_t>(i)] = pid;
    stopped_until_[static_cast<std::size_t>(i)] = 0;
    resumed_[static_cast<std::size_t>(i)] = mono_ns();
  }

  // reap(): a worker that died without us killing it is a crash (exit 3: it threw; a signal:
  // it crashed). Its slot keeps its counts; a replacement takes its place.
  void reap() {
    for (std::size_t i = 0; i < pids_.size(); ++i) {
      if (pids_[i] <= 0) continue;
      int st = 0;
      const pid_t r = waitpid(pids_[i], &st, WNOHANG);
      if (r != pids_[i]) continue;
      pids_[i] = -1;
      retire(static_cast<int>(i));
      std::string why = WIFSIGNALED(st) ? "killed by signal " + std::to_string(WTERMSIG(st))
                                        : "exit status " + std::to_string(WEXITSTATUS(st));
      ++res_.t.crashes;
      problem("worker " + std::to_string(i) + " died unexpectedly (" + why + ")" +
              (slots_[i].message[0] ? std::string(": ") + slots_[i].message : std::string()));
      note(0, "crash", static_cast<int>(i), why);
      if (!ctl_->stop.load()) spawn(static_cast<int>(i));
    }
  }
  // retire(): folds a dead incarnation's counts into the totals and clears its slot counters.
  void retire(int i) {
    TSlot& s = slots_[static_cast<std::size_t>(i)];
    dead_ops_[i] += s.ops.exchange(0);
    res_.t.violations += s.violations.exchange(0);
    res_.t.recoveries += s.recoveries.exchange(0);
    if (s.message[0]) problem(std::string(s.message)), s.message[0] = 0;
  }

  int pick_running() {
    std::vector<int> c;
    for (std::size_t i = 0; i < pids_.size(); ++i)
      if (pids_[i] > 0 && stopped_until_[i] == 0) c.push_back(static_cast<int>(i));
    if (c.empty()) return -1;
    return c[std::uniform_int_distribution<std::size_t>(0, c.size() - 1)(rng_)];
  }
  void signal_worker(int w) {
    if (kill(pids_[static_cast<std::size_t>(w)], SIGUSR1) == 0) ++res_.t.signals;
  }
  // stop_and_wait(w): SIGSTOPs worker w and waits until it has stopped; false when it died
  // meanwhile or did not stop within kStopWaitS. The wait polls, so the workers whose stop
  // fault is due are continued on time meanwhile (a stopped holder left stopped because the
  // parent waits on another worker would starve everyone behind it). A stop that takes longer
  // than kSlowStopS is noted in the schedule with where the worker was in the kernel; one that
  // never comes is given up (SIGCONT discards the pending stop) and noted too.
  bool stop_and_wait(int w) {
    const pid_t p = pids_[static_cast<std::size_t>(w)];
    if (kill(p, SIGSTOP) != 0) return false;
    const uint64_t t0 = mono_ns();
    std::string seen;  // the worker's kernel state once the stop is slow
    for (;;) {
      int st = 0;
      const pid_t r = waitpid(p, &st, WUNTRACED | WNOHANG);
      const double waited = static_cast<double>(mono_ns() - t0) * 1e-9;
      if (r == p && WIFSTOPPED(st)) {
        if (!seen.empty())
          note(0, "slow stop", w, std::to_string(static_cast<int>(waited * 1000)) + " ms, " + seen);
        return true;
      }
      if (r == p) {  // it died meanwhile
        pids_[static_cast<std::size_t>(w)] = -1;
        retire(w);
        ++res_.t.crashes;
        problem("worker " + std::to_string(w) + " died unexpectedly while being stopped");
        if (!ctl_->stop.load()) spawn(w);
        return false;
      }
      if (r < 0 && errno != EINTR) return false;
      if (waited > kSlowStopS && seen.empty()) seen = proc_state(p) + " doing " + doing_name(slots_[w].doing.load());
      if (waited > kStopWaitS) {
        kill(p, SIGCONT);
        note(0, "stop given up", w, std::to_string(static_cast<int>(waited * 1000)) + " ms, " + seen);
        return false;
      }
      continue_due(0);
      timespec ts{0, 200'000};
      nanosleep(&ts, nullptr);
    }
  }
  void cont(int w) {
    const std::size_t i = static_cast<std::size_t>(w);
    if (pids_[i] > 0) kill(pids_[i], SIGCONT);
    stopped_until_[i] = 0;
    resumed_[i] = mono_ns();
  }
  void continue_due(double) {
    const uint64_t now = mono_ns();
    for (std::size_t i = 0; i < pids_.size(); ++i)
      if (stopped_until_[i] && now >= stopped_until_[i]) cont(static_cast<int>(i));
  }

  void stop_fault(double t) {
    const int w = pick_running();
    if (w < 0 || !stop_and_wait(w)) return;
    const double ms = 1 + uniform(199);
    stopped_until_[static_cast<std::size_t>(w)] = mono_ns() + static_cast<uint64_t>(ms * 1e6);
    ++res_.t.stops;
    note(t, "stop", w, std::to_string(static_cast<int>(ms)) + " ms while " + doing_name(slots_[w].doing.load()));
  }

  // kill_fault(): up to 8 victims are tried; one that is inside a call it cannot be killed in is
  // continued and another is tried (a Condition's workers spend most of their time in wait()).
  void kill_fault(double t) {
    for (int attempt = 0; attempt < 8; ++attempt)
      if (kill_once(t, attempt == 7)) return;
  }
  // kill_once(): false when the victim was continued instead (counted as deferred if `last`).
  bool kill_once(double t, bool last) {
    // Prefer a holder.
    std::vector<int> holders;
    for (std::size_t i = 0; i < pids_.size(); ++i)
      if (pids_[i] > 0 && stopped_until_[i] == 0 && slots_[i].where.load() == kHolding) holders.push_back(static_cast<int>(i));
    const int w = holders.empty() ? pick_running()
                                  : holders[std::uniform_int_distribution<std::size_t>(0, holders.size() - 1)(rng_)];
    if (w < 0 || !stop_and_wait(w)) return true;
    TSlot& s = slots_[static_cast<std::size_t>(w)];
    const uint32_t where = s.where.load(std::memory_order_acquire);
    const std::string doing = doing_name(s.doing.load());
    // Each role says where its workers may die (R::killable): a robust lock's take-over or a
    // stateless waiter anywhere, the others only where what they hold is known exactly.
    const uint32_t d = s.doing.load();
    const bool waiting = d == kWaitTimed || d == kWaitPred;
    if (!R::killable(res_.backend, where, d)) {
      cont(w);
      if (last) ++res_.t.kills_deferred;
      return false;
    }
    // With the victim stopped inside its section, nobody else can change what it guards: the
    // role reads whether the victim's update landed before anyone takes the lock over.
    if constexpr (requires(R r, TSlot& t) { r.killed_holding(t); })
      if (where == kHolding) role_->killed_holding(s);
    const pid_t p = pids_[static_cast<std::size_t>(w)];
    kill(p, SIGKILL);
    kill(p, SIGCONT);
    waitpid(p, nullptr, 0);
    pids_[static_cast<std::size_t>(w)] = -1;
    ++res_.t.kills;
    note(t, "kill", w, std::string(where == kHolding ? "holding" : where == kInCall ? "in a call" : "outside") + ", " + doing);
    if constexpr (requires(R r) { r.give_back(1u); }) {
      const uint32_t held = s.held.load();
      if (held) {  // the agent gives the dead worker's permits back
        ctl_->in_use.fetch_sub(held);
        ctl_->give_back.fetch_add(held);
        res_.t.losses += held;
      }
    }
    if constexpr (requires(R r, TSlot& t) { r.waiter_killed(t, true); }) {
      const bool in_wait = waiting && where == kInCall;
      role_->waiter_killed(s, in_wait);
      if (in_wait) ++res_.t.losses;  // the documented extra wake-up it may cause
    }
    retire(w);
    stopped_until_[static_cast<std::size_t>(w)] = 0;
    if (!ctl_->stop.load()) spawn(w);
    return true;
  }

  void shuffle_fault(double t) {
    const int w = pick_running();
    if (w < 0 || topo_.pus().empty()) return;
    const int pu = topo_.pus()[std::uniform_int_distribution<std::size_t>(0, topo_.pus().size() - 1)(rng_)];
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(pu, &set);
    if (sched_setaffinity(pids_[static_cast<std::size_t>(w)], sizeof set, &set) == 0) {
      ++res_.t.shuffles;
      note(t, "shuffle", w, "PU " + std::to_string(pu));
    }
  }

  void stutter_fault(double t) {
    std::vector<int> paused;
    for (std::size_t i = 0; i < pids_.size(); ++i)
      if (pids_[i] > 0 && stopped_until_[i] == 0 && stop_and_wait(static_cast<int>(i))) paused.push_back(static_cast<int>(i));
    ++res_.t.stutters;
    const int ms = 20 + static_cast<int>(uniform(280));
    note(t, "stutter", -1, std::to_string(ms) + " ms, " + std::to_string(paused.size()) + " workers");
    // Everyone is stopped: a semaphore with no permit held must be whole.
    if constexpr (requires(R r) { r.quiescent_check(nullptr, 0); }) {
      bool any_held = false;
      for (std::size_t i = 0; i < pids_.size(); ++i)
        if (pids_[i] > 0 && (slots_[i].where.load() != kOut || slots_[i].held.load())) any_held = true;
      if (!any_held && ctl_->give_back.load() == 0) {  // the agent checks; everyone waits for it
        const uint32_t req = ctl_->check_req.fetch_add(1) + 1;
        const uint64_t until = mono_ns() + 1'000'000'000;
        while (ctl_->check_done.load(std::memory_order_acquire) != req && mono_ns() < until) pause_ms(1);
        if (ctl_->check_done.load(std::memory_order_acquire) == req && ctl_->check_msg[0]) {
          ++res_.t.violations;
          problem(ctl_->check_msg);
        }
      }
    }
    pause_ms(ms);
    for (int w : paused) kill(pids_[static_cast<std::size_t>(w)], SIGCONT);  // all together
    for (int w : paused) cont(w);
  }

  void check_starvation() {
    const uint64_t now = mono_ns();
    if (agent_ > 0 && !agent_starving_ &&
        static_cast<double>(now - std::min(now, ctl_->agent_progress_ns.load())) * 1e-9 > kStarveS) {
      agent_starving_ = true;
      ++res_.t.starvations;
      // Where it sleeps, and what every worker was doing: who holds what it waits for.
      std::string workers;
      for (std::size_t i = 0; i < pids_.size(); ++i)
        if (pids_[i] > 0)
          workers += "; worker " + std::to_string(i) + " " + doing_name(slots_[i].doing.load()) + ", " +
                     proc_state(pids_[i]);
      const std::string what = "the agent (the role's ticker, or a give-back of permits) made no progress for " +
                               std::to_string(static_cast<int>(kStarveS)) + " s (" + proc_state(agent_) + workers + ")";
      problem(what);
      note(0, "agent starved", -1, proc_state(agent_) + workers);
      if (!o_.quiet) std::cout << "torture: " << what << std::endl;
    }
    for (std::size_t i = 0; i < pids_.size(); ++i) {
      if (pids_[i] <= 0 || stopped_until_[i]) continue;
      const uint64_t since = std::max(slots_[i].progress_ns.load(), resumed_[i]);
      const bool stuck = now > since && static_cast<double>(now - since) * 1e-9 > kStarveS;
      if (stuck && !starving_[i]) {
        starving_[i] = true;
        ++res_.t.starvations;
        const std::string what = "worker " + std::to_string(i) + " (" + res_.role + "/" + res_.backend +
                                 ") starved: no progress for " + std::to_string(static_cast<int>(kStarveS)) +
                                 " s while doing " + doing_name(slots_[i].doing.load());
        problem(what);
        note(0, "starved", static_cast<int>(i), doing_name(slots_[i].doing.load()));
        if (!o_.quiet) std::cout << "torture: " << what << std::endl;
      } else if (!stuck) {
        starving_[i] = false;
      }
    }
  }

  // finish(): stop every worker, let them leave (the longest wait in the mix is 0.5 s), and
  // kill what is left after a grace period: a worker that cannot leave is starved.
  void finish() {
    ctl_->stop.store(1);
    for (std::size_t i = 0; i < pids_.size(); ++i)
      if (stopped_until_[i]) cont(static_cast<int>(i));
      else if (pids_[i] > 0) kill(pids_[i], SIGCONT);  // whatever else may have stopped it
    const uint64_t until = mono_ns() + static_cast<uint64_t>(kStarveS * 1e9);
    for (;;) {  // the agent's ticker goes on, so a wait() without timeout ends
      bool left = false;
      for (std::size_t i = 0; i < pids_.size(); ++i) {
        if (pids_[i] <= 0) continue;
        int st = 0;
        if (waitpid(pids_[i], &st, WNOHANG) == pids_[i]) {
          pids_[i] = -1;
          if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
            ++res_.t.crashes;
            problem("worker " + std::to_string(i) + " ended badly (" +
                    (WIFSIGNALED(st) ? "signal " + std::to_string(WTERMSIG(st)) : "exit " + std::to_string(WEXITSTATUS(st))) +
                    ")" + (slots_[i].message[0] ? std::string(": ") + slots_[i].message : std::string()));
          }
        } else {
          left = true;
        }
      }
      if (!left) break;
      if (mono_ns() >= until) {
        for (std::size_t i = 0; i < pids_.size(); ++i)
          if (pids_[i] > 0) {
            ++res_.t.starvations;
            problem("worker " + std::to_string(i) + " could not stop within " + std::to_string(static_cast<int>(kStarveS)) +
                    " s, stuck in " + doing_name(slots_[i].doing.load()) + " (" + proc_state(pids_[i]) + ")");
            kill(pids_[i], SIGKILL);
            waitpid(pids_[i], nullptr, 0);
            pids_[i] = -1;
          }
        break;
      }
      pause_ms(2);
    }
    stop_agent();
  }

  // The agent: one more process, never faulted, that does what the parent must not (the parent
  // never blocks on a primitive: a worker it stopped may hold one's internal mutex, and only the
  // parent can continue it). It runs the role's ticker (an event set(), a notify(1) with an
  // item: a wait() without timeout always ends), gives back a killed worker's permits, and runs
  // the quiescent check the parent asks for while every worker is stopped.
  void spawn_agent() {
    const pid_t parent = getpid();
    ctl_->agent_progress_ns.store(mono_ns());
    const pid_t pid = fork();
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(97);
      close(gate_.fd());
      // The parent decides about SIGINT and SIGHUP. And a group of its own: the torture stops its
      // workers, and a process group with a stopped member that becomes orphaned (the shell
      // that started bench exits) is sent SIGHUP by the kernel: a soak lost a worker so.
      signal(SIGINT, SIG_IGN);
      signal(SIGHUP, SIG_IGN);
      setpgid(0, 0);
      int rc = 0;
      try {
        uint64_t next_tick = 0;
        while (!ctl_->agent_stop.load()) {
          const uint64_t now = mono_ns();
          ctl_->agent_progress_ns.store(now);
          if (now >= next_tick) {
            role_->parent_tick(*ctl_);
            next_tick = now + 20'000'000;
          }
          if constexpr (requires(R r) { r.give_back(1u); })
            if (const uint32_t n = ctl_->give_back.exchange(0)) role_->give_back(n);
          if constexpr (requires(R r) { r.quiescent_check(nullptr, 0); }) {
            const uint32_t req = ctl_->check_req.load();
            if (req != ctl_->check_done.load()) {
              const std::string e = role_->quiescent_check(slots_, o_.procs);
              std::snprintf(ctl_->check_msg, sizeof ctl_->check_msg, "%s", e.c_str());
              ctl_->check_done.store(req, std::memory_order_release);
            }
          }
          timespec ts{0, 1'000'000};
          nanosleep(&ts, nullptr);
        }
      } catch (const std::exception& e) {
        std::snprintf(ctl_->check_msg, sizeof ctl_->check_msg, "the agent threw: %s", e.what());
        rc = 3;
      }
      _exit(rc);
    }
    agent_ = pid;
  }
  void stop_agent() {
    if (agent_ <= 0) return;
    ctl_->agent_stop.store(1);
    const uint64_t until = mono_ns() + static_cast<uint64_t>(kStarveS * 1e9);
    int st = 0;
    for (;;) {
      const pid_t r = waitpid(agent_, &st, WNOHANG);
      if (r == agent_) {
        if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
          ++res_.t.crashes;
          problem(std::string("the agent ended badly") + (ctl_->check_msg[0] ? std::string(": ") + ctl_->check_msg : ""));
        }
        break;
      }
      if (mono_ns() >= until) {
        ++res_.t.starvations;
        problem("the agent (the role's ticker) was stuck for " + std::to_string(static_cast<int>(kStarveS)) + " s");
        kill(agent_, SIGKILL);
        waitpid(agent_, nullptr, 0);
        break;
      }
      pause_ms(2);
    }
    agent_ = -1;
  }

  void collect() {
    TortureTotals& t = res_.t;
    t.ops_min = UINT64_MAX;
    for (int i = 0; i < o_.procs; ++i) {
      TSlot& s = slots_[static_cast<std::size_t>(i)];
      const uint64_t ops = s.ops.load() + dead_ops_[i];
      t.ops += ops;
      t.ops_min = std::min(t.ops_min, ops);
      t.ops_max = std::max(t.ops_max, ops);
      t.violations += s.violations.load();
      t.recoveries += s.recoveries.load();
      if (s.message[0]) problem(s.message);
    }
    if (o_.procs == 0) t.ops_min = 0;
  }

  std::string stats_line(double t) {
    uint64_t ops = 0, mn = UINT64_MAX, mx = 0, viol = res_.t.violations, rec = res_.t.recoveries;
    for (int i = 0; i < o_.procs; ++i) {
      const TSlot& s = slots_[static_cast<std::size_t>(i)];
      const uint64_t o = s.ops.load() + dead_ops_[i];
      ops += o;
      mn = std::min(mn, o);
      mx = std::max(mx, o);
      viol += s.violations.load();
      rec += s.recoveries.load();
    }
    if (ctl_->stop.load() && res_.seconds > 0) {  // the final line: the collected totals
      ops = res_.t.ops, mn = res_.t.ops_min, mx = res_.t.ops_max, viol = res_.t.violations, rec = res_.t.recoveries;
    }
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "torture %s/%s t=%.1fs: ops %llu (per worker min/max %llu/%llu) violations %llu recoveries %llu "
                  "losses %llu kills %llu stops %llu stutters %llu shuffles %llu signals %llu starvations %llu crashes %llu",
                  res_.role.c_str(), res_.backend.c_str(), t, (unsigned long long)ops, (unsigned long long)(mn == UINT64_MAX ? 0 : mn),
                  (unsigned long long)mx, (unsigned long long)viol, (unsigned long long)rec,
                  (unsigned long long)res_.t.losses, (unsigned long long)res_.t.kills, (unsigned long long)res_.t.stops,
                  (unsigned long long)res_.t.stutters, (unsigned long long)res_.t.shuffles,
                  (unsigned long long)res_.t.signals, (unsigned long long)res_.t.starvations,
                  (unsigned long long)res_.t.crashes);
    return buf;
  }

  const Opts& o_;
  const Topology& topo_;
  SignalGate& gate_;
  double seconds_;
  uint64_t seed_;
  double t0_run_;
  std::set<std::string> faults_;
  AnonymousRegion region_;
  TControl* ctl_ = nullptr;
  TSlot* slots_ = nullptr;
  R* role_ = nullptr;
  std::vector<pid_t> pids_;
  pid_t agent_ = -1;
  bool agent_starving_ = false;
  std::vector<int> incarnation_;
  std::vector<uint64_t> stopped_until_, resumed_;
  std::vector<bool> starving_;
  std::map<int, uint64_t> dead_ops_;
  std::mt19937_64 rng_;
  PairResult res_;
};

// TortureOf<Role, B>: the torture's type for a role of the table over backend B (Good), and its
// broken primitive (Broken, selected over native only by --inject-fault `fault`). A role of the
// table without a specialization here does not compile (with_role instantiates every role).
template <class Role, class B>
struct TortureOf;
template <class B>
struct TortureOf<roles::Lock, B> {
  using Good = LockRole<typename B::Lock>;
  using Broken = LockRole<SkipLock<typename B::Lock>>;
  static constexpr std::string_view fault = "lock_skip_acquire";
};
template <class B>
struct TortureOf<roles::RLock, B> {
  using Good = RLockRole<typename B::RLock>;
  using Broken = RLockRole<SkipLock<typename B::RLock>>;
  static constexpr std::string_view fault = "rlock_skip_acquire";
};
template <class B>
struct TortureOf<roles::Semaphore, B> {
  using Good = SemRole<typename B::Semaphore, false>;
  using Broken = SemRole<SkipSemaphore<typename B::Semaphore>, false>;
  static constexpr std::string_view fault = "semaphore_skip_acquire";
};
template <class B>
struct TortureOf<roles::BoundedSemaphore, B> {
  using Good = SemRole<typename B::BoundedSemaphore, true>;
  using Broken = SemRole<UncheckedBounded<typename B::BoundedSemaphore>, true>;
  static constexpr std::string_view fault = "bounded_release_unchecked";
};
template <class B>
struct TortureOf<roles::Condition, B> {
  using Good = CondRole<typename B::Condition>;
  using Broken = CondRole<WakeAllCondition<typename B::Condition>>;
  static constexpr std::string_view fault = "condition_notify_wakes_all";
};
template <class B>
struct TortureOf<roles::Event, B> {
  using Good = EventRole<typename B::Event>;
  using Broken = EventRole<LyingEvent<typename B::Event>>;
  static constexpr std::string_view fault = "event_wait_lies";
};
template <class B>
struct TortureOf<roles::Barrier, B> {
  using Good = BarrierRole<typename B::Barrier>;
  using Broken = BarrierRole<EarlyBarrier<typename B::Barrier>>;
  static constexpr std::string_view fault = "barrier_early_release";
};
template <class B>
struct TortureOf<roles::Queue, B> {
  using Q = roles::Queue::type<B, Item, 8>;
  using Good = QueueRole<Q, false>;
  using Broken = QueueRole<DroppingQueue<Q>, false>;
  static constexpr std::string_view fault = "queue_drops_put";
};
template <class B>
struct TortureOf<roles::JoinableQueue, B> {
  using Q = roles::JoinableQueue::type<B, Item, 8>;
  using Good = QueueRole<Q, true>;
  using Broken = QueueRole<EarlyJoinQueue<Q>, true>;
  static constexpr std::string_view fault = "joinable_join_early";
};
template <class B>
struct TortureOf<roles::Value, B> {
  using V = roles::Value::type<B, uint64_t>;
  using Good = ValueRole<V>;
  using Broken = ValueRole<UnlockedUpdateValue<V>>;
  static constexpr std::string_view fault = "value_update_unlocked";
};
template <class B>
struct TortureOf<roles::Array, B> {
  using A = roles::Array::type<B, uint64_t, 8>;
  using Good = ArrayRole<A>;
  using Broken = ArrayRole<PrivateLockArray<A>>;
  static constexpr std::string_view fault = "array_lock_not_shared";
};

// with_role<B>(role, broken, f): calls f.template operator()<R>() with the torture type R of
// `role` over backend B (its broken primitive when `broken` names it; those exist over native
// only); false when B does not offer the role.
template <class B, class F>
bool with_role(const std::string& role, const std::string& broken, F&& f) {
  bool offered = false;
  roles::with_role(role, [&]<class Role>() {
    if constexpr (roles::offered_by<Role, B>) {
      using T = TortureOf<Role, B>;
      offered = true;
      if constexpr (std::is_same_v<B, NativeBackend>)
        if (broken == T::fault) return f.template operator()<typename T::Broken>();
      f.template operator()<typename T::Good>();
    }
  });
  return offered;
}

// role_of_broken(fault): the role whose broken primitive `fault` selects ("?" for none).
std::string role_of_broken(const std::string& fault) {
  std::string role = "?";
  roles::for_each([&]<class Role>() {
    if (TortureOf<Role, NativeBackend>::fault == fault) role = Role::name;
  });
  return role;
}

// offers(backend, role): whether the backend has the role (nothing is instantiated to ask).
bool offers(const std::string& backend, const std::string& role) {
  bool offered = false;
  with_backend(backend, [&]<class B>() { offered = with_role<B>(role, "", []<class R>() {}); });
  return offered;
}

// run_pair(): runs role x backend; nullopt when the backend does not offer the role.
std::optional<PairResult> run_pair(const Opts& o, const Topology& topo, SignalGate& gate, const std::string& role,
                                   const std::string& backend, double seconds, uint64_t seed, double t0) {
  std::optional<PairResult> out;
  with_backend(backend, [&]<class B>() {
    with_role<B>(role, o.broken, [&]<class R>() { out = Torture<R>(o, topo, gate, role, backend, seconds, seed, t0).run(); });
  });
  return out;
}

// ---- command line and output --------------------------------------------------------------------

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> v;
  std::stringstream ss(s);
  for (std::string x; std::getline(ss, x, ',');) v.push_back(x);
  return v;
}
std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

double parse_seconds(const std::string& flag, const std::string& text) {
  std::string num = text;
  double scale = 1;
  if (num.size() > 2 && num.compare(num.size() - 2, 2, "ms") == 0) num.resize(num.size() - 2), scale = 1e-3;
  else if (num.size() > 1 && num.back() == 's') num.pop_back();
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(num.c_str(), &end);
  if (num.empty() || end != num.c_str() + num.size() || errno || !(v > 0) || v * scale > 86400 * 7)
    throw usage_error(flag + ": '" + text + "' is not a duration in seconds (e.g. 60, 2.5, 250ms; at most a week)");
  return v * scale;
}

Opts parse(int argc, char** argv, const Topology& topo) {
  Opts o;
  for (int i = 0; i < argc; ++i) o.command_line += (i ? " " : "") + std::string(argv[i]);
  CLI::App app{"bench --torture — a seeded, randomized soak of the primitives under injected faults", "bench --torture"};
  app.set_help_flag("-h,--help", "Print this help and exit");
  bool torture = false;
  std::string roles = "all", backends = "native", procs, duration = "60", seed, interval = "5", faults = "all";
  app.add_flag("--torture", torture, "Run the torture (this mode)");
  app.add_option("--primitive,-p", roles, "Roles to torture, comma separated, or all: " + join(torture_roles()) + " [all]");
  app.add_option("--backend,-b", backends, "Backends, comma separated (native, posix, boost, spin, or all) [native]");
  app.add_option("--procs,-n", procs, "Worker processes per role, 2.." + std::to_string(kMaxWorkers) + " [twice the PUs]");
  app.add_option("--duration,-d", duration, "Total seconds, split evenly between the role x backend pairs [60]");
  app.add_option("--seed", seed, "Seed of every random choice (printed; replays the schedule) [from the clock]");
  app.add_option("--stat-interval", interval, "Seconds between stats lines [5]");
  app.add_option("--faults", faults, "Faults to inject, comma separated: " + join(kFaults) + ", all or none [all that apply]");
  app.add_option("--out,-o", o.out, "CSV file the rows are added to (JSON context beside it) [results/<host>/torture.csv]");
  app.add_option("--results-dir", o.results_dir, "Default results root [results]");
  app.add_flag("--no-save", o.no_save, "Write no results file");
  app.add_flag("--quiet,-q", o.quiet, "Only the SUCCESS or FAILURE line");
  std::string broken_help = "Testing only: torture a deliberately broken primitive, to prove the checker fails:";
  for (const auto& [k, v] : kBroken) broken_help += " " + k + " (" + v + ");";
  app.add_option("--inject-fault", o.broken, broken_help);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    std::exit(0);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    throw usage_error(msg + " (see bench --torture --help)");
  }
  if (o.no_save && !o.out.empty()) throw usage_error("--no-save: cannot be combined with --out");
  o.roles = roles == "all" ? torture_roles() : split(roles);
  for (const auto& r : o.roles)
    if (std::find(torture_roles().begin(), torture_roles().end(), r) == torture_roles().end())
      throw usage_error("--primitive: '" + r + "' has no torture (accepted: " + join(torture_roles()) + ", all)");
  const auto& names = backend_names();
  o.backends = backends == "all" ? std::vector<std::string>{} : split(backends);
  if (backends == "all")
    for (const auto& b : names)
      if (b != "posix_plain") o.backends.push_back(b);
  for (const auto& b : o.backends)
    if (std::find(names.begin(), names.end(), b) == names.end())
      throw usage_error("--backend: '" + b + "' cannot be tortured (accepted: " + join(names) + ", all)");
  const int pus = static_cast<int>(std::max<std::size_t>(1, topo.pus().size()));
  o.procs = std::min(kMaxWorkers, std::max(2, 2 * pus));
  if (!procs.empty()) {
    char* end = nullptr;
    const long v = std::strtol(procs.c_str(), &end, 10);
    if (end != procs.c_str() + procs.size() || v < 2 || v > kMaxWorkers)
      throw usage_error("--procs: '" + procs + "' is not a whole number in 2.." + std::to_string(kMaxWorkers));
    o.procs = static_cast<int>(v);
  }
  o.duration_s = parse_seconds("--duration", duration);
  o.stat_interval_s = parse_seconds("--stat-interval", interval);
  if (!seed.empty()) {
    char* end = nullptr;
    errno = 0;
    o.seed = std::strtoull(seed.c_str(), &end, 10);
    if (seed[0] == '-' || end != seed.c_str() + seed.size() || errno)
      throw usage_error("--seed: '" + seed + "' is not a whole number in 0..2^64-1");
    o.seed_given = true;
  } else {
    o.seed = std::random_device{}() ^ (static_cast<uint64_t>(mono_ns()) << 20);
  }
  if (faults == "all") o.faults = std::set<std::string>(kFaults.begin(), kFaults.end());
  else if (faults != "none")
    for (const auto& f : split(faults)) {
      if (std::find(kFaults.begin(), kFaults.end(), f) == kFaults.end())
        throw usage_error("--faults: unknown fault '" + f + "' (accepted: " + join(kFaults) + ", all, none)");
      o.faults.insert(f);
    }
  if (!o.broken.empty()) {
    if (!kBroken.count(o.broken)) {
      std::vector<std::string> ks;
      for (const auto& [k, v] : kBroken) ks.push_back(k);
      throw usage_error("--inject-fault: unknown broken primitive '" + o.broken + "' (accepted: " + join(ks) + ")");
    }
    if (std::find(o.roles.begin(), o.roles.end(), role_of_broken(o.broken)) == o.roles.end())
      throw usage_error("--inject-fault: '" + o.broken + "' breaks the " + role_of_broken(o.broken) +
                        " role, which --primitive does not include");
    if (o.backends != std::vector<std::string>{"native"})
      throw usage_error("--inject-fault: the broken primitives are native's (use --backend native)");
  }
  return o;
}

std::string csv_header() {
  return "run_id,host_id,role,backend,procs,seconds,seed,faults,ops,ops_min,ops_max,violations,recoveries,losses,"
         "kills,kills_deferred,stops,stutters,shuffles,signals,starvations,crashes,result,detail";
}
std::string csv_quote(const std::string& s) {
  std::string q = "\"";
  for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch == '\n' ? ' ' : ch);
  return q + "\"";
}

// write_whole(): path's new content through a temporary file renamed over it: a reader (or a
// crash) sees the old file or the new one, never a torn one.
void write_whole(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << content;
    f.flush();
    if (!f) {
      std::remove(tmp.c_str());
      throw std::runtime_error("cannot write " + tmp);
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot rename " + tmp + " to " + path + ": " + std::strerror(e));
  }
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string fault_list(const std::set<std::string>& s) {
  std::string out;
  for (const auto& f : kFaults)
    if (s.count(f)) out += (out.empty() ? "" : ";") + f;
  return out.empty() ? "none" : out;
}

}  // namespace

bool torture_requested(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--torture") == 0) return true;
  return false;
}

int run_torture(int argc, char** argv, const Topology& topo, SignalGate& gate) {
  Opts o;
  try {
    o = parse(argc, argv, topo);
  } catch (const usage_error& e) {
    std::cerr << "bench: " << e.what() << "\n";
    return 2;
  }
  HostContext ctx = collect_context(topo);
  char idbuf[64];
  std::snprintf(idbuf, sizeof idbuf, "torture-%llx-%d", static_cast<unsigned long long>(mono_ns()), getpid());
  const std::string run_id = idbuf;
  std::string path;
  if (!o.no_save) {
    path = !o.out.empty() ? o.out : o.results_dir + "/" + ctx.host_name + "/torture.csv";
    std::error_code ec;
    const auto dir = std::filesystem::path(path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    if (ec || (std::filesystem::exists(path) && !std::filesystem::is_regular_file(path))) {
      std::cerr << "bench: --out: cannot write '" << path << "'" << (ec ? ": " + ec.message() : "") << "\n";
      return 2;
    }
    if (std::filesystem::exists(path)) {
      const std::string have = slurp(path);
      if (have.compare(0, csv_header().size(), csv_header()) != 0) {
        std::cerr << "bench: --out: '" << path << "' is not a torture CSV (its header differs); choose another file\n";
        return 2;
      }
    }
  }
  // Pairs in the order given; the roles a backend lacks are skipped (said once).
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& b : o.backends)
    for (const auto& r : o.roles) {
      const bool offered = offers(b, r);
      if (offered) pairs.emplace_back(r, b);
      else if (!o.quiet) std::cout << "torture: " << b << " has no " << r << "; skipped\n";
    }
  if (pairs.empty()) {
    std::cerr << "bench: --torture: none of the chosen backends offers the chosen roles\n";
    return 2;
  }
  const double per_pair = o.duration_s / static_cast<double>(pairs.size());
  if (!o.quiet)
    std::cout << "torture: seed " << o.seed << ", " << pairs.size() << " role x backend pair(s), " << o.procs
              << " workers each, " << per_pair << " s each, faults " << fault_list(o.faults)
              << (o.broken.empty() ? "" : ", BROKEN primitive " + o.broken) << ", host " << ctx.host_id << std::endl;
  const double t0 = static_cast<double>(mono_ns()) * 1e-9;
  std::vector<PairResult> results;
  bool interrupted_run = false;
  int signo = 0;
  try {
    for (std::size_t k = 0; k < pairs.size(); ++k) {
      const uint64_t seed = o.seed + 0x9e3779b97f4a7c15ull * (k + 1);
      auto r = run_pair(o, topo, gate, pairs[k].first, pairs[k].second, per_pair, seed, t0);
      if (r) results.push_back(std::move(*r));
    }
  } catch (const interrupted& e) {
    interrupted_run = true;
    signo = e.signo();
  }
  bool success = !interrupted_run;
  std::string csv;
  nlohmann::json pairs_json = nlohmann::json::array();
  for (const auto& r : results) {
    success = success && r.success;
    const TortureTotals& t = r.t;
    std::ostringstream row;
    row << run_id << "," << ctx.host_id << "," << r.role << "," << r.backend << "," << o.procs << "," << r.seconds
        << "," << o.seed << "," << fault_list(applicable(r.role, r.backend, o.faults)) << "," << t.ops << ","
        << t.ops_min << "," << t.ops_max << "," << t.violations << "," << t.recoveries << "," << t.losses << ","
        << t.kills << "," << t.kills_deferred << "," << t.stops << "," << t.stutters << "," << t.shuffles << ","
        << t.signals << "," << t.starvations << "," << t.crashes << "," << (r.success ? "SUCCESS" : "FAILURE") << ","
        << csv_quote(t.first_problem);
    csv += row.str() + "\n";
    nlohmann::json sched = nlohmann::json::array();
    for (const auto& e : r.schedule)
      sched.push_back(nlohmann::json{{"t", e.t}, {"fault", e.fault}, {"worker", e.worker}, {"detail", e.detail}});
    pairs_json.push_back(nlohmann::json{{"role", r.role}, {"backend", r.backend}, {"result", r.success ? "SUCCESS" : "FAILURE"},
                          {"faults", fault_list(applicable(r.role, r.backend, o.faults))},
                          {"schedule", sched}, {"schedule_not_recorded", r.schedule_dropped},
                          {"first_problem", t.first_problem}});
  }
  if (!o.no_save && !results.empty()) {
    try {
      std::string have = std::filesystem::exists(path) ? slurp(path) : csv_header() + "\n";
      if (!have.empty() && have.back() != '\n') have.resize(have.rfind('\n') + 1);  // a torn last line
      write_whole(path, have + csv);
      const std::string json_path = path.size() > 4 && path.compare(path.size() - 4, 4, ".csv") == 0
                                        ? path.substr(0, path.size() - 4) + ".json"
                                        : path + ".json";
      nlohmann::json j = nlohmann::json::object();
      if (std::filesystem::exists(json_path)) {
        try {
          j = nlohmann::json::parse(slurp(json_path));
        } catch (const std::exception&) {
          j = nlohmann::json::object();
        }
      }
      j["host"] = ctx.host;
      j["host_id"] = ctx.host_id;
      nlohmann::json run{{"run_id", run_id}, {"command_line", o.command_line}, {"seed", o.seed},
                         {"procs", o.procs}, {"duration_s", o.duration_s}, {"faults", fault_list(o.faults)},
                         {"starve_s", kStarveS}, {"pairs", pairs_json}, {"interrupted", interrupted_run}};
      if (!o.broken.empty()) run["broken_primitive"] = o.broken;
      run.update(build_provenance());
      j["runs"].push_back(run);
      write_whole(json_path, j.dump(2) + "\n");
      if (!o.quiet) std::cout << "results: " << path << " (context " << json_path << ")\n";
    } catch (const std::exception& e) {
      std::cerr << "bench: cannot save the torture results: " << e.what() << "\n";
      success = false;
    }
  }
  if (interrupted_run) {
    std::cerr << "bench: torture interrupted by signal " << signo << "; workers stopped, " << results.size()
              << " pair(s) finished" << (results.empty() || o.no_save ? "" : ", saved") << "\n";
    return 128 + signo;
  }
  std::string failed;
  for (const auto& r : results)
    if (!r.success) failed += (failed.empty() ? "" : "; ") + r.role + "/" + r.backend + ": " + r.t.first_problem;
  std::cout << (success ? "SUCCESS" : "FAILURE") << ": torture seed " << o.seed << (failed.empty() ? "" : " — " + failed)
            << std::endl;
  return success ? 0 : 1;
}

}  // namespace ipcsync::harness

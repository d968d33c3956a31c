// torture_roles.hpp — the roles of bench --torture: for each role of the table, what its
// workers do, what they check, and where they may be killed (see torture.hpp), written once as
// templates over the primitive type; the broken primitives that prove each checker fails; and
// RoleAdapter, which turns a role into the parent's TortureRole. Included only by the
// torture_<backend>.cc files, each of which instantiates make_role<> for one backend.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <new>
#include <random>
#include <string>
#include <type_traits>

#include "harness/backends.hpp"
#include "harness/torture_detail.hpp"
#include "ipcsync/errors.hpp"

namespace ipcsync::harness::torture {

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

// TortureOf<Role, B>: the torture's type for a role of the table over backend B (Good), and its
// broken primitive (Broken, selected over native only by --inject-fault `fault`). A role of the
// table without a specialization here does not compile (make_role<B> and broken_role()
// instantiate every role).
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

// RoleAdapter<R>: role R behind the parent's interface. The optional hooks are those R has.
template <class R>
class RoleAdapter final : public TortureRole {
 public:
  std::size_t size() const override { return sizeof(R); }
  void construct(void* at, int procs) override {
    r_ = ::new (at) R();
    r_->init(procs);
  }
  void destroy() override {
    if (r_) r_->~R();
    r_ = nullptr;
  }
  void step(Ctx& c) override { r_->step(c); }
  std::string final_check(TSlot* s, int n) override { return r_->final_check(s, n); }
  void parent_tick(TControl& ctl) override { r_->parent_tick(ctl); }
  bool killable(const std::string& b, uint32_t where, uint32_t d) const override { return R::killable(b, where, d); }
  bool has_killed_holding() const override { return requires(R r, TSlot& t) { r.killed_holding(t); }; }
  void killed_holding(TSlot& s) override {
    if constexpr (requires(R r, TSlot& t) { r.killed_holding(t); }) r_->killed_holding(s);
  }
  bool has_give_back() const override { return requires(R r) { r.give_back(1u); }; }
  void give_back(uint32_t n) override {
    if constexpr (requires(R r) { r.give_back(1u); }) r_->give_back(n);
  }
  bool has_waiter_killed() const override { return requires(R r, TSlot& t) { r.waiter_killed(t, true); }; }
  void waiter_killed(TSlot& s, bool in_wait) override {
    if constexpr (requires(R r, TSlot& t) { r.waiter_killed(t, true); }) r_->waiter_killed(s, in_wait);
  }
  bool has_quiescent_check() const override { return requires(R r) { r.quiescent_check(nullptr, 0); }; }
  std::string quiescent_check(TSlot* s, int n) override {
    if constexpr (requires(R r) { r.quiescent_check(nullptr, 0); }) return r_->quiescent_check(s, n);
    return "";
  }

 private:
  R* r_ = nullptr;
};

template <class B>
std::unique_ptr<TortureRole> make_role(const std::string& role, const std::string& broken) {
  std::unique_ptr<TortureRole> out;
  roles::with_role(role, [&]<class Role>() {
    if constexpr (roles::offered_by<Role, B>) {
      using T = TortureOf<Role, B>;
      if constexpr (std::is_same_v<B, NativeBackend>)
        if (broken == T::fault) return void(out = std::make_unique<RoleAdapter<typename T::Broken>>());
      out = std::make_unique<RoleAdapter<typename T::Good>>();
    }
  });
  return out;
}

}  // namespace ipcsync::harness::torture

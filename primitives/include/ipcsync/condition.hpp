// condition.hpp — Condition<L>: a condition variable in shared memory (multiprocessing.Condition),
// for L = RLock (the default, as Python's Condition() makes an RLock) or L = Lock.
//
// State: wake-up tokens handed out by notify() and consumed by the woken, with tickets so that a
// waiter that registers after a notify() can never consume it. Everything, the consumption
// of a token included, changes only under the lock:
//   tickets_   the next waiter's ticket; a waiter takes one when it registers (under the lock).
//   frontier_  tickets_ at the last notify: waiters with a ticket below it were registered
//              before that notify() and are eligible for its tokens; later ones are not (no
//              stolen wake-ups).
//   waiting_   registered waiters that no notify() has counted yet; notify(n) moves
//              k = min(n, waiting_) of them to tokens_.
//   tokens_    wake-ups granted and not yet consumed. An eligible waiter returns true only by
//              taking one (under the lock, once it holds it again), so notify(n) lets at most n waiters return true, a waiter that
//              was not notified keeps waiting until its deadline and then returns false, and a
//              spurious futex wake-up never becomes a true return. tokens_ + waiting_ is always
//              the number of registered waiters, and tokens_ never exceeds the eligible ones;
//              a waiter that times out gives back its count under the lock (a token, if one
//              was granted meanwhile: it then returns true, having been notified).
// Parked waiters sleep on the sequence word of a detail::Parking (parking.hpp) that notify()
// bumps; tokens are this header's own and are the sole source of a true return. (Python's
// threading.Condition gives each waiter a lock of its own to release; tokens are the same
// promise without a per-waiter allocation in shared memory.) Which of the eligible waiters
// wake is not specified (FIFO by ticket is not promised; Python's threading wakes the oldest).

//   caller holds the lock? | wait(timeout)                              | notify(n) / notify_all()
//   -----------------------+--------------------------------------------+------------------------------
//   yes                    | releases it (an RLock at any depth: all of | wakes up to n / all current
//                          | it), blocks until notified or the deadline,| waiters; none registered: a
//                          | re-acquires it (restoring the RLock depth) | no-op (one load)
//                          | and returns true, false on timeout         |
//                          | (even if woken spuriously)                 |
//   no                     | throws not_owner                           | throws not_owner
// A notified waiter returns only once it holds the lock again, like Python. notify(n) wakes at
// most n waiters; still, the condition may have changed again by the time a woken waiter holds
// the lock, so always wait in a loop on the predicate (wait(pred) does), as the guide insists.
//
// Process-shared: yes. Valid when zero-filled: a fresh mmap holds a Condition using its own,
// unlocked lock with no waiters.
// Layout: standard-layout, alignas(64), sizeof == 192: the embedded lock's line, the waiting
//   state's line, then the waiters' records. An external lock must live in the same mapping as the Condition
//   (an AnonymousRegion, a NamedSegment or any one MAP_SHARED mapping), because the link is an
//   offset: every process then finds it at the same distance, whatever its base address.
// Blocking: wait() spins up to spin_limit() PAUSEs on the sequence word if no other waiter is
//   spinning — so a notify() from a process on another core wakes it in about one cache-line
//   transfer — then FUTEX_WAITs (shared) with an absolute CLOCK_MONOTONIC deadline. notify()
//   bumps the sequence and makes a futex_wake syscall only when some waiter is parked.
// Memory ordering: for processes X and Y, X's writes before notify() (and before its release of
//   the lock) are visible to Y once Y's wait() returns — Y re-acquired the lock X released.
// Owner death: a waiter that dies leaves the Condition usable (never a hang, never a lost
//   wake-up). Its registration would stay counted for good: counts are anonymous, so when a
//   live waiter consumes the token granted for a dead one, the live waiter's own count stays
//   behind in its place, and notify(n) could wake more than n again and again (bench --torture
//   found that: "notify(n) woke more than n"; a dead waiter followed by alternating
//   notify_all() and notify(1) made every notify(1) wake two). So each waiter is recorded
//   (tid and ticket, kRegs records in the third line), and notify(), when it finds tokens left
//   over, retires every recorded eligible waiter whose process has exited (thread_exited(): a
//   kill(tid, 0), one syscall per record): while the tokens exceed the live eligible waiters
//   it drops a token, else a count not yet granted. A live granted waiter always keeps its
//   token; a dead waiter can cause at most one extra wake-up before it is retired. A death is
//   retired once the parent has reaped the process (a zombie still counts as running), and
//   only while every waiter has a record: beyond kRegs waiters at once (or after a death in
//   the few instructions of settle()) the extra wake-ups can recur, as before. For this,
//   counts change only under the lock: a woken waiter takes its token after re-acquiring it.
//   With L = RLock, a holder dying while others wait is recovered by RLock (rlock.hpp): the
//   waiter that re-acquires sees get_lock().owner_died().
// Limits: tickets are 32-bit, compared modulo 2^32: a waiter must not sleep through 2^31 later
//   registrations.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

#include "ipcsync/errors.hpp"
#include "ipcsync/futex.hpp"
#include "ipcsync/lock.hpp"
#include "ipcsync/parking.hpp"
#include "ipcsync/rlock.hpp"

namespace ipcsync {

template <class L = RLock>
class alignas(64) Condition {
 public:
  using lock_type = L;

  // Condition(): uses its own lock (Python's Condition() with no argument).
  Condition() noexcept(std::is_nothrow_default_constructible_v<L>) = default;
  // Condition(lock): uses `lock`, which must be in the same mapping as this Condition and
  // outlive it (Python's Condition(lock)). Several Conditions may share one lock.
  explicit Condition(L& lock) noexcept
      : lock_off_(reinterpret_cast<const char*>(&lock) - reinterpret_cast<const char*>(this)) {}
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;

  // Condition::get_lock(): the lock this Condition uses.
  L& get_lock() noexcept {
    return lock_off_ == 0 ? own_ : *reinterpret_cast<L*>(reinterpret_cast<char*>(this) + lock_off_);
  }

  // Condition::acquire()/release()/try_acquire()/acquire_until(), lock()/unlock()/try_lock():
  // the lock's, so `std::scoped_lock g(cond)` is Python's `with cond:`.
  bool acquire() { return get_lock().acquire(); }
  bool try_acquire() { return get_lock().try_acquire(); }
  bool acquire_until(deadline until) { return get_lock().acquire_until(until); }
  void release() { get_lock().release(); }
  void lock() { acquire(); }
  bool try_lock() { return try_acquire(); }
  void unlock() { release(); }

  // Condition::wait(): releases the lock, blocks until notified, re-acquires. Returns true.
  // Throws not_owner if the caller does not hold the lock.
  bool wait() { return wait_until(kNoDeadline); }
  // Condition::wait(timeout_s): Python's signature (kForever, the default of Python, waits
  // forever; a timeout <= 0, negative included, releases and re-acquires the lock and returns
  // false unless already notified, as multiprocessing's Condition does; NaN:
  // std::invalid_argument).
  bool wait(double timeout_s) {
    return wait_until(timeout_deadline(timeout_s));
  }
  // Condition::wait_until()/wait_for(): as wait(), false when the deadline passed without a
  // notification (the lock is held again either way).
  bool wait_until(deadline until) {
    L& l = get_lock();
    require_owned(l, "Condition::wait()");
    const uint32_t ticket = tickets_.load(std::memory_order_relaxed);
    tickets_.store(ticket + 1, std::memory_order_relaxed);
    waiting_.store(waiting_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    Reg* reg = enroll(ticket);
    auto saved = release_saving(l);
    // Parked until a token may be ours; it is taken only with the lock held again, so that every
    // count changes under the lock and notify()'s retirement of dead waiters is exact.
    auto ready = [&] { return eligible(ticket) && tokens_.load(std::memory_order_seq_cst) != 0; };
    // What is left for others as we leave the park: the tokens but the one we are about to take
    // under the lock, if we may (else every woken waiter would wake one more on its way out).
    auto avail = [&] { return tokens_.load(std::memory_order_seq_cst) > (eligible(ticket) ? 1u : 0u); };
    for (;;) {
      const bool woken = park_.wait_until(ready, avail, until, /*heavy=*/false);
      acquire_restoring(l, saved);
      if (eligible(ticket) && tokens_.load(std::memory_order_relaxed) != 0) {
        settle(reg, true);
        return true;
      }
      if (!woken || (until != kNoDeadline && mono_clock::now() >= until)) {
        settle(reg, false);
        return false;
      }
      saved = release_saving(l);  // another eligible waiter took it first: wait on
    }
  }
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> timeout) {
    return wait_until(deadline_after(timeout));
  }

  // Condition::wait(pred): Python's wait_for(predicate) with no timeout: waits until pred()
  // (evaluated with the lock held) is true. Returns true.
  template <class Pred>
    requires std::is_invocable_r_v<bool, Pred&>
  bool wait(Pred pred) {
    while (!pred()) wait();
    return true;
  }
  // Condition::wait_until(deadline, pred)/wait_for(timeout, pred): Python's
  // wait_for(predicate, timeout): returns pred()'s last value, false only if it is still false
  // at the deadline.
  template <class Pred>
  bool wait_until(deadline until, Pred pred) {
    while (!pred())
      if (!wait_until(until)) return pred();
    return true;
  }
  template <class Rep, class Period, class Pred>
  bool wait_for(std::chrono::duration<Rep, Period> timeout, Pred pred) {
    return wait_until(deadline_after(timeout), std::move(pred));
  }

  // Condition::notify(n): wakes at most n of the waiters registered now (fewer if fewer wait).
  // Throws not_owner if the caller does not hold the lock. With no waiter, one load.
  void notify(int n = 1) {
    require_owned(get_lock(), "Condition::notify()");
    uint32_t w = waiting_.load(std::memory_order_relaxed);
    if (n <= 0 || w == 0) return;
    // Tokens left over from earlier notify()s: waiters not yet back under the lock, or dead
    // ones' (see "Owner death"). Retire the dead before the frontier moves.
    if (tokens_.load(std::memory_order_relaxed) != 0 && retire_dead() != 0) {
      w = waiting_.load(std::memory_order_relaxed);
      if (w == 0) return;
    }
    const uint32_t k = IPCSYNC_MUTANT(condition_notify_grants_all) ? w : std::min(w, static_cast<uint32_t>(n));
    waiting_.store(w - k, std::memory_order_relaxed);
    frontier_.store(tickets_.load(std::memory_order_relaxed), std::memory_order_seq_cst);
    tokens_.fetch_add(k, std::memory_order_seq_cst);
    park_.seq.fetch_add(1, std::memory_order_seq_cst);
    if (park_.sleepers.load(std::memory_order_seq_cst) != 0) futex_wake(park_.seq, static_cast<int>(k));
  }
  // Condition::notify_all(): wakes every current waiter.
  void notify_all() { notify(kWakeAll); }

  // Condition::waiters(): registered waiters that have not returned yet, notified or not (a
  // snapshot, for tests).
  uint32_t waiters() const noexcept {
    return waiting_.load(std::memory_order_relaxed) + tokens_.load(std::memory_order_relaxed);
  }

 private:
  bool eligible(uint32_t ticket) const noexcept {
    return IPCSYNC_MUTANT(condition_no_frontier) ||
           static_cast<int32_t>(frontier_.load(std::memory_order_seq_cst) - ticket) > 0;
  }
  // A registered waiter's record: its tid and ticket, while it waits (under the lock).
  struct Reg {
    detail::atomic<uint32_t> tid{0};
    detail::atomic<uint32_t> ticket{0};
  };
  static constexpr int kRegs = 7;
  static uint32_t get(const detail::atomic<uint32_t>& a) noexcept { return a.load(std::memory_order_relaxed); }
  static void put(detail::atomic<uint32_t>& a, uint32_t v) noexcept { a.store(v, std::memory_order_relaxed); }
  // enroll(): under the lock, records the caller in a free record, or counts it unrecorded.
  Reg* enroll(uint32_t ticket) noexcept {
    for (Reg& r : regs_)
      if (get(r.tid) == 0) {
        put(r.ticket, ticket);
        put(r.tid, detail::self_id());
        return &r;
      }
    put(unrecorded_, get(unrecorded_) + 1);
    return nullptr;
  }
  // settle(): under the lock, the waiter leaves: with a token (notified) or giving back its
  // count (timed out). While its record is being dropped it counts as unrecorded, so a death
  // half-way leaves retirement off rather than wrong.
  void settle(Reg* r, bool notified) noexcept {
    put(unrecorded_, get(unrecorded_) + 1);
    if (r) put(r->tid, 0);
    if (notified)
      put(tokens_, get(tokens_) - 1);
    else
      put(waiting_, get(waiting_) - 1);
    put(unrecorded_, get(unrecorded_) - 1 - (r ? 0 : 1));
  }
  // retire_dead(): under the lock (notify(), with tokens left over). Each dead recorded
  // waiter's count is given up: a token while the tokens exceed the live eligible waiters
  // (those are dead ones' grants), else a count not yet granted. Exact while every waiter is
  // recorded; skipped otherwise. A live granted waiter always keeps a token (no lost wake-up);
  // a dead one's count can give at most one extra wake-up before it is retired.
  uint32_t retire_dead() noexcept {
    if (get(unrecorded_) != 0) return 0;
    uint32_t live_eligible = 0, dead = 0;
    Reg* gone[kRegs];
    for (Reg& r : regs_) {
      const uint32_t tid = get(r.tid);
      if (tid == 0 || !eligible(get(r.ticket))) continue;
      if (detail::thread_exited(tid))
        gone[dead++] = &r;
      else
        ++live_eligible;
    }
    uint32_t surplus = get(tokens_) > live_eligible ? get(tokens_) - live_eligible : 0;
    for (uint32_t i = 0; i < dead; ++i) {
      put(gone[i]->tid, 0);
      if (surplus != 0) {
        put(tokens_, get(tokens_) - 1);
        --surplus;
      } else {
        put(waiting_, get(waiting_) - 1);
      }
    }
    return dead;
  }
  static void require_owned(L& l, const char* what) {
    bool owned = true;
    if constexpr (requires { l.is_owned(); })
      owned = l.is_owned();
    else if constexpr (requires { l.owner(); })
      owned = l.owner() == detail::self_id();
    if (!owned) throw not_owner(std::string(what) + ": the calling thread does not hold the lock");
  }
  static auto release_saving(L& l) {
    if constexpr (requires { l.release_save(); }) {
      return l.release_save();
    } else {
      l.release();
      return 1u;
    }
  }
  template <class Saved>
  static void acquire_restoring(L& l, Saved saved) {
    if constexpr (requires { l.acquire_restore(saved); })
      l.acquire_restore(saved);
    else
      l.acquire();
  }

  L own_;                                      // used when lock_off_ == 0
  alignas(64) detail::Parking park_;           // park_.seq: what parked waiters sleep on
  detail::atomic<uint32_t> tickets_{0};           // next waiter's ticket (under the lock)
  detail::atomic<uint32_t> frontier_{0};          // tickets_ at the last notify (under the lock)
  detail::atomic<uint32_t> waiting_{0};           // registered, not yet counted by a notify (lock)
  detail::atomic<uint32_t> tokens_{0};            // granted wake-ups not yet consumed (lock)
  std::ptrdiff_t lock_off_ = 0;                // 0: own_; else &lock - this, in bytes
  alignas(64) Reg regs_[kRegs];                // the waiters' records (under the lock)
  detail::atomic<uint32_t> unrecorded_{0};        // waiters without a record (under the lock)
};

#ifndef IPCSYNC_MODEL_CHECK  // the model build's atomics are Relacy's, not 4 bytes
static_assert(sizeof(Condition<Lock>) == 192 && alignof(Condition<Lock>) == 64);
static_assert(sizeof(Condition<RLock>) == 192);
static_assert(std::is_standard_layout_v<Condition<Lock>> && std::is_standard_layout_v<Condition<RLock>>);
#endif

}  // namespace ipcsync

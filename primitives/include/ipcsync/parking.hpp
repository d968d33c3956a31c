// parking.hpp — Parking: Lock's wait protocol (lock.cc), packaged for every primitive whose
// condition lives in a word of its own (RLock, Event, Condition, Barrier, Queue, JoinableQueue).
//
// What it is: three 32-bit words that let processes wait for "some predicate became true" and
// let other processes wake them, with exactly the building blocks Lock and Semaphore use:
//   sleepers  processes that announced themselves and may be parked in the kernel;
//   awake     1 while one waiter is awake (spinning before it parks, or just woken by
//             wake_one()): only that one spins, the others park at once, and wake_one() does
//             not wake a second one while it is set (Go's sync.Mutex "woken" bit);
//   seq       the futex word parked waiters sleep on (never the predicate's own word, which may
//             change on every operation); every wake bumps it first.
// It holds no predicate: the owner passes one in (take), plus one that says whether what was
// taken is still available to others (avail), so a waiter that leaves passes a wake it may
// have swallowed on to the next sleeper, as Semaphore does.
//
// Process-shared: yes, shared futexes only. Valid when zero-filled. No pointers.
// Layout: standard-layout, 12 bytes, alignof 4; owners give it a cache line of its own where
//   the waker and the waiter are different processes (see queue.hpp).
// Blocking: wait_until() spins (exponential PAUSE backoff, spin_limit() PAUSEs, futex.hpp) if no
//   other waiter is awake (without raising `awake` while nobody sleeps), then announces itself, optionally issues heavy_barrier(), and
//   FUTEX_WAITs on seq with an absolute CLOCK_MONOTONIC deadline, in slices of at most
//   kParkSlice so that a quiet slice can repair an `awake` flag whose holder died and run the
//   owner's on_quiet() hook (RLock's owner-liveness check).
// Memory ordering: the waker publishes its state change, then checks `sleepers`, with either
//   (a) a seq_cst read-modify-write followed by wake_*() (whose first load is seq_cst), or
//   (b) a plain store followed by maybe_sleepers(): a signal fence where membarrier is
//       registered (futex.hpp, "Asymmetric ordering"), a full fence otherwise; waiters of such a
//       primitive pass heavy = true so the waiter pays the barrier when it parks.
//   The waiter announces itself with a seq_cst RMW and runs a seq_cst fence before every check
//   of its predicate, so one of the two always sees the other's write: no lost wake-up.
// Owner death: a process that dies while waiting leaves `sleepers` one too high, which costs
//   later wakers a futex_wake syscall that wakes nobody (never a hang); a dead `awake` holder
//   is repaired by the next quiet slice of any parked waiter.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>

#include "ipcsync/futex.hpp"

namespace ipcsync::detail {

// kParkSlice: a parked waiter wakes at least this often to repair a dead `awake` holder and to
// run on_quiet() (as kParkSlice in lock.cc).
inline constexpr auto kParkSlice = std::chrono::milliseconds(100);

struct Parking {
  detail::atomic<uint32_t> sleepers{0};
  detail::atomic<uint32_t> awake{0};
  detail::atomic<uint32_t> seq{0};

  // Parking::maybe_sleepers(): the waker's check after publishing with a plain store (see
  // "Memory ordering" above). Cheap when nobody waits: a compiler fence and one relaxed load.
  bool maybe_sleepers() const noexcept {
    if (g_asymmetric)
      detail::atomic_signal_fence(std::memory_order_seq_cst);
    else
      detail::atomic_thread_fence(std::memory_order_seq_cst);
    return sleepers.load(std::memory_order_relaxed) != 0;
  }

  // Parking::wake_one(): after making the predicate true for one waiter. Wakes one parked
  // waiter unless one is awake already (it will take what was published, or pass it on).
  // `awake` is kAwake while a waiter is awake, or while a waker holds it between raising it
  // and finding whom to wake. A waker that defers to it sets kMissed; a waker that finds nobody
  // asleep and gives the flag back wakes again if kMissed was set (the deferred waker's
  // waiter may have gone to sleep after our futex_wake found nobody: lock.cc, Lock::wake_one).
  // A waiter that drops the flag re-checks its predicate instead (wait_until()).
  static constexpr uint32_t kAwake = 1;
  static constexpr uint32_t kMissed = 2;
  void wake_one() noexcept {
    detail::atomic_thread_fence(std::memory_order_seq_cst);
    for (;;) {
      if (sleepers.load(std::memory_order_seq_cst) == 0) return;
      uint32_t a = awake.load(std::memory_order_seq_cst);
      bool deferred = false;
      for (;;) {
        if (a & kAwake) {
          if ((a & kMissed) || IPCSYNC_MUTANT(parking_waker_no_retry) ||
              awake.compare_exchange_weak(a, a | kMissed, std::memory_order_seq_cst, std::memory_order_seq_cst)) {
            deferred = true;
            break;
          }
          continue;
        }
        if (awake.compare_exchange_weak(a, kAwake, std::memory_order_seq_cst, std::memory_order_seq_cst)) break;
      }
      if (deferred) return;
      // The woken waiter inherits `awake`; if nobody was asleep yet, the announced waiters will
      // see seq changed and not sleep, so give the flag back.
      seq.fetch_add(1, std::memory_order_seq_cst);
      if (futex_wake(seq, 1) != 0) return;
      if (!(awake.exchange(0, std::memory_order_seq_cst) & kMissed)) return;
    }
  }

  // Parking::wake(n): wakes up to n parked waiters regardless of `awake` (Condition::notify(n)).
  void wake(int n) noexcept {
    detail::atomic_thread_fence(std::memory_order_seq_cst);
    if (sleepers.load(std::memory_order_seq_cst) == 0) return;
    seq.fetch_add(1, std::memory_order_seq_cst);
    futex_wake(seq, n);
  }

  // Parking::wake_all(): after making the predicate true for everybody (Event::set, a Barrier
  // round, close()).
  void wake_all() noexcept { wake(kWakeAll); }

  // Parking::wait_until(take, avail, until, heavy, on_quiet): waits until take() returns true
  // (true) or the deadline passes (false, after one last take()). take() is a cheap check that
  // may also take what it checks for (a permit, an item); it runs after a seq_cst fence.
  // avail() says whether something remains for another waiter; when it does, a leaving waiter
  // passes the wake on. heavy: the wakers publish with plain stores (see maybe_sleepers()).
  // on_quiet() runs after each quiet kParkSlice, and once at the deadline if take() failed, and
  // may take on the caller's behalf (true): RLock's dead-owner check, so that short timeouts
  // recover a dead owner as well as long ones.
  template <class Take, class Avail, class OnQuiet>
  bool wait_until(Take&& take, Avail&& avail, deadline until, bool heavy, OnQuiet&& on_quiet) {
    // A deadline already past: one last look, no spinning (try_*_until(now) is a poll).
    if (until != kNoDeadline && mono_clock::now() >= until) {
      detail::atomic_thread_fence(std::memory_order_seq_cst);
      return take() || on_quiet();
    }
    // Phase 1: spin, if no other waiter is awake already. When nobody has announced itself
    // either, the spin claims nothing: `awake` only keeps a waker from waking a second sleeper
    // while one waiter is up, and with no sleeper there is nobody to wake. A waiter that writes
    // nothing while it spins leaves this line clean in the waker's cache, so a put or set that
    // finds no sleeper costs no line transfer (a 1-producer 1-consumer Queue of capacity 8
    // spins here on every item). Such a waiter never holds the flag, so it never swallows a
    // wake and has nothing to pass on when it takes. (Not in the model build: an unflagged
    // spin is only extra take() calls before the protocol, which the model already covers.)
    bool is_awake = false, spun = false;
    if (awake.load(std::memory_order_relaxed) == 0) {
#ifndef IPCSYNC_MODEL_CHECK
      if (sleepers.load(std::memory_order_relaxed) == 0) {
        spun = true;
        if (spin_until(take)) return true;
      }
#endif
      uint32_t zero = 0;
      is_awake = awake.compare_exchange_strong(zero, 1, std::memory_order_relaxed);
    }
    if (is_awake && !spun && spin_until(take)) {
      leave(is_awake, avail);
      return true;
    }
    if (until != kNoDeadline && mono_clock::now() >= until) {
      detail::atomic_thread_fence(std::memory_order_seq_cst);
      const bool got = take() || on_quiet();
      leave(is_awake, avail);
      return got;
    }

    // Phase 2: announce, (barrier), sleep on seq in slices.
    sleepers.fetch_add(1, std::memory_order_seq_cst);
    if (heavy) heavy_barrier();
    bool got = false;
    for (;;) {
      const uint32_t s = seq.load(std::memory_order_seq_cst);
      if (!IPCSYNC_MUTANT(parking_waiter_no_fence)) detail::atomic_thread_fence(std::memory_order_seq_cst);
      if (take()) {
        got = true;
        break;
      }
      if (is_awake) {  // about to sleep: let wakers wake someone again, then re-check
        awake.store(0, std::memory_order_seq_cst);
        is_awake = false;
        if (!IPCSYNC_MUTANT(parking_no_recheck_after_awake)) continue;
      }
      const deadline slice = std::min(until, deadline_after(kParkSlice));
      if (futex_wait(seq, s, slice) == wait_status::timed_out) {
        if (until != kNoDeadline && mono_clock::now() >= until) {
          detail::atomic_thread_fence(std::memory_order_seq_cst);
          got = take() || on_quiet();
          break;
        }
        // A quiet slice: if an `awake` holder died, nobody would wake us. Clearing a live
        // holder's flag costs at most one extra wake.
        if (IPCSYNC_MUTANT(parking_slice_ends_wait)) {  // a slice's end taken for a wake-up
          got = true;
          break;
        }
        if (seq.load(std::memory_order_relaxed) == s) awake.store(0, std::memory_order_seq_cst);
        if (on_quiet()) {
          got = true;
          break;
        }
        continue;
      }
      // Woken (or a wake happened since we read s): we may hold the flag the waker raised.
      is_awake = true;
      if (spin_until(take)) {
        got = true;
        break;
      }
    }
    sleepers.fetch_sub(1, std::memory_order_seq_cst);
    leave(is_awake, avail);
    return got;
  }

  template <class Take, class Avail>
  bool wait_until(Take&& take, Avail&& avail, deadline until, bool heavy) {
    return wait_until(take, avail, until, heavy, [] { return false; });
  }

 private:
  template <class Avail>
  void leave(bool is_awake, Avail& avail) noexcept {
    if (is_awake) awake.store(0, std::memory_order_seq_cst);
    // We may have swallowed a wake meant for another sleeper: pass it on. Dropping the flag
    // may also erase a waker's kMissed (it deferred to us), so avail() must see what that
    // waker published: like take(), it runs after a seq_cst fence (its loads may be acquire).
    if (!IPCSYNC_MUTANT(parking_leave_no_fence)) detail::atomic_thread_fence(std::memory_order_seq_cst);
    if (avail()) wake_one();
  }
};

#ifndef IPCSYNC_MODEL_CHECK  // the model build's atomics are Relacy's, not 4 bytes
static_assert(std::is_standard_layout_v<Parking>);
#endif

// never(): the avail() of primitives whose waiters take nothing from each other.
inline constexpr auto never = [] { return false; };

}  // namespace ipcsync::detail

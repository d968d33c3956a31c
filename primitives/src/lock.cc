// lock.cc — Lock's contended paths (the fast paths are inline in lock.hpp).
//
// The protocol, with four words on one cache line:
//   owner_     0 or the holder's tid (what acquire CASes and release stores).
//   waiters_   contenders that announced themselves and may sleep.
//   awake_     1 while some contender is awake (the spinner, or the waiter a release just woke);
//              releases do not wake anyone while it is set.
//   wake_seq_  the futex word parked waiters sleep on; every wake bumps it first.
// Wake-up safety:
//   * A release that saw waiters_ == 0 used a plain store; a waiter announcing at the same time
//     issues heavy_barrier() after its announcement, so either the release's re-check of
//     waiters_ sees it, or the waiter's load of owner_ sees the store.
//   * While waiters_ > 0 every release is a seq_cst exchange followed by seq_cst loads, and a
//     waiter that clears awake_ does so with a seq_cst store before re-reading owner_: one of the
//     two always sees the other's write (Dekker), so nobody sleeps on a free lock unwoken.
//   * A waiter reads wake_seq_ before it checks owner_, and sleeps only while wake_seq_ still
//     holds that value: a wake issued after its check makes FUTEX_WAIT return at once.
#include "ipcsync/lock.hpp"

#include <algorithm>

namespace ipcsync {
namespace {
// kParkSlice: a parked waiter re-checks at least this often: it clears a stuck awake_ flag whose
// holder died between being woken and running, and takes over a lock whose holder died.
constexpr auto kParkSlice = std::chrono::milliseconds(100);
}  // namespace

void Lock::wake_one() noexcept {
  if (waiters_.load(std::memory_order_seq_cst) == 0) return;
  if (awake_.load(std::memory_order_seq_cst) != 0) return;  // someone awake will take it
  if (awake_.exchange(1, std::memory_order_seq_cst) != 0) return;
  // The woken waiter inherits awake_. If nobody was asleep, the announced waiters have not
  // reached FUTEX_WAIT yet and will see wake_seq_ changed; give the flag back.
  wake_seq_.fetch_add(1, std::memory_order_seq_cst);
  if (futex_wake(wake_seq_, 1) == 0) {
    awake_.store(0, std::memory_order_seq_cst);
    // Announced waiters but nobody asleep: they are on their way to sleep, or dead. Every
    // kRepairEvery such releases, look for dead ones (see repair_dead_waiters()).
    if ((repair_tick_.fetch_add(1, std::memory_order_relaxed) + 1) % kRepairEvery == 0)
      repair_dead_waiters();
  }
}

void Lock::repair_dead_waiters() noexcept {
  for (auto& slot : parked_) {
    uint32_t tid = slot.load(std::memory_order_seq_cst);
    if (tid == 0 || detail::thread_alive(tid)) continue;
    // Only the repairer that wins the CAS gives the dead waiter's count back.
    if (slot.compare_exchange_strong(tid, 0, std::memory_order_seq_cst))
      waiters_.fetch_sub(1, std::memory_order_seq_cst);
  }
}

bool Lock::take_over_if_dead(uint32_t self) noexcept {
  uint32_t holder = owner_.load(std::memory_order_seq_cst);
  if (holder == 0 || holder == self || detail::thread_alive(holder)) return false;
  if (!owner_.compare_exchange_strong(holder, self, std::memory_order_acquire, std::memory_order_relaxed))
    return false;
  owner_died_.store(1, std::memory_order_relaxed);
  recoveries_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool Lock::acquire_slow(deadline until) noexcept {
  const uint32_t self = detail::self_id();
  auto try_take = [&] {
    uint32_t expected = 0;
    return owner_.load(std::memory_order_relaxed) == 0 &&
           owner_.compare_exchange_weak(expected, self, std::memory_order_acquire, std::memory_order_relaxed);
  };

  // A deadline already past (a timeout <= 0): one try, no spinning; at a deadline a held lock's
  // holder is checked for liveness once, so short timeouts also recover a dead holder.
  if (until != kNoDeadline && mono_clock::now() >= until) return try_acquire() || take_over_if_dead(self);

  // Phase 1: spin, if no other contender is awake already.
  bool awake = false;
  if (awake_.load(std::memory_order_relaxed) == 0) {
    uint32_t zero = 0;
    awake = awake_.compare_exchange_strong(zero, 1, std::memory_order_relaxed);
  }
  if (awake && spin_until(try_take)) {
    awake_.store(0, std::memory_order_relaxed);
    return true;
  }
  if (until != kNoDeadline && mono_clock::now() >= until) {
    if (awake) awake_.store(0, std::memory_order_seq_cst);
    return try_acquire() || take_over_if_dead(self);
  }

  // Phase 2: announce (and record ourselves in a free parked_ slot, so that our count can be
  // given back if we die here), barrier, sleep on wake_seq_.
  waiters_.fetch_add(1, std::memory_order_seq_cst);
  std::atomic<uint32_t>* slot = nullptr;
  for (auto& p : parked_) {
    uint32_t zero = 0;
    if (p.load(std::memory_order_relaxed) == 0 && p.compare_exchange_strong(zero, self, std::memory_order_seq_cst)) {
      slot = &p;
      break;
    }
  }
  detail::heavy_barrier();
  bool got = false;
  for (;;) {
    const uint32_t seq = wake_seq_.load(std::memory_order_seq_cst);
    uint32_t v = owner_.load(std::memory_order_seq_cst);
    if (v == 0) {
      if (owner_.compare_exchange_strong(v, self, std::memory_order_acquire, std::memory_order_relaxed)) {
        got = true;
        break;
      }
      continue;
    }
    if (awake) {  // about to sleep: let releases wake someone again, then re-check
      awake_.store(0, std::memory_order_seq_cst);
      awake = false;
      continue;
    }
    const deadline slice = std::min(until, deadline_after(kParkSlice));
    if (futex_wait(wake_seq_, seq, slice) == wait_status::timed_out) {
      if (until != kNoDeadline && mono_clock::now() >= until) {
        got = try_acquire() || take_over_if_dead(self);
        break;
      }
      // A quiet slice: if a flag holder died, nobody would wake us. Clearing a live holder's
      // flag costs at most one extra wake. Waiters that died parked give their count back.
      if (wake_seq_.load(std::memory_order_relaxed) == seq) awake_.store(0, std::memory_order_seq_cst);
      repair_dead_waiters();
      // Robustness: if the holder died, take the lock over and say so (as EOWNERDEAD).
      if (take_over_if_dead(self)) {
        got = true;
        break;
      }
      continue;
    }
    // Woken (or a wake happened since we read seq): we may hold the flag the waker raised.
    awake = true;
    if (spin_until(try_take)) {
      got = true;
      break;
    }
  }
  if (slot) slot->store(0, std::memory_order_seq_cst);
  waiters_.fetch_sub(1, std::memory_order_seq_cst);
  if (awake) awake_.store(0, std::memory_order_seq_cst);
  // Leaving without the lock (timeout) may have swallowed a wake meant for the others.
  if (!got && owner_.load(std::memory_order_seq_cst) == 0) wake_one();
  return got;
}

}  // namespace ipcsync

// semaphore.cc — Semaphore's contended paths (the fast paths are inline in semaphore.hpp).
//
// Same four-word protocol as Lock (see lock.cc), with count_ in place of owner_. Every release
// is a seq_cst RMW followed by a seq_cst load of waiters_, so no heavy barrier is needed: a
// waiter's seq_cst announcement and a release's RMW are ordered one way or the other.
// The one difference: permits are many, so a waiter (or the spinner) that takes a permit while
// permits remain and others sleep passes the wake on (wake(1)) — otherwise a second release
// that found awake_ set could leave its permit beside a sleeping waiter.
#include "ipcsync/semaphore.hpp"

#include <algorithm>

namespace ipcsync {
namespace {
constexpr auto kParkSlice = std::chrono::milliseconds(100);  // as in lock.cc
}  // namespace

void Semaphore::wake(uint32_t k) noexcept {
  if (waiters_.load(std::memory_order_seq_cst) == 0) return;
  if (k == 1) {
    // As Lock::wake_one() (lock.cc): a release that defers to the awake one sets kMissed, and
    // a waker that raised the flag, found nobody asleep and gives it back wakes again for it.
    for (;;) {
      uint32_t a = awake_.load(std::memory_order_seq_cst);
      bool deferred = false;
      for (;;) {
        if (a & kAwake) {  // someone awake will take it (or, a waker, pass the wake on)
          if ((a & kMissed) || IPCSYNC_MUTANT(semaphore_waker_no_retry) ||
              awake_.compare_exchange_weak(a, a | kMissed, std::memory_order_seq_cst, std::memory_order_seq_cst)) {
            deferred = true;
            break;
          }
          continue;
        }
        if (awake_.compare_exchange_weak(a, kAwake, std::memory_order_seq_cst, std::memory_order_seq_cst)) break;
      }
      if (deferred) return;
      wake_seq_.fetch_add(1, std::memory_order_seq_cst);
      if (futex_wake(wake_seq_, 1) != 0) return;
      if (!(awake_.exchange(0, std::memory_order_seq_cst) & kMissed)) return;
      if (waiters_.load(std::memory_order_seq_cst) == 0) return;
    }
  }
  wake_seq_.fetch_add(1, std::memory_order_seq_cst);
  futex_wake(wake_seq_, static_cast<int>(std::min<uint32_t>(k, kWakeAll)));
}

bool Semaphore::acquire_slow(deadline until) noexcept {
  auto try_take = [&] { return count_.load(std::memory_order_relaxed) > 0 && try_acquire(); };
  // After taking a permit as the awake contender: drop the flag, then pass the wake on if
  // permits remain (seq_cst store, then seq_cst load: pairs with release()'s RMW + load).
  auto settle_awake = [&] {
    awake_.store(0, std::memory_order_seq_cst);
    if (count_.load(std::memory_order_seq_cst) > 0) wake(1);
  };

  // Phase 1: spin, if no other contender is awake already.
  bool awake = false;
  if (awake_.load(std::memory_order_relaxed) == 0) {
    uint32_t zero = 0;
    awake = awake_.compare_exchange_strong(zero, 1, std::memory_order_relaxed);
  }
  if (awake && spin_until(try_take)) {
    settle_awake();
    return true;
  }
  if (until != kNoDeadline && mono_clock::now() >= until) {
    if (awake) awake_.store(0, std::memory_order_seq_cst);
    return try_acquire();
  }

  // Phase 2: announce, then sleep on wake_seq_ while no permit is available.
  waiters_.fetch_add(1, std::memory_order_seq_cst);
  bool got = false;
  for (;;) {
    const uint32_t seq = wake_seq_.load(std::memory_order_seq_cst);
    if (count_.load(std::memory_order_seq_cst) > 0) {
      if (try_acquire()) {
        got = true;
        break;
      }
      continue;
    }
    if (awake) {
      awake_.store(0, std::memory_order_seq_cst);
      awake = false;
      continue;
    }
    const deadline slice = std::min(until, deadline_after(kParkSlice));
    if (futex_wait(wake_seq_, seq, slice) == wait_status::timed_out) {
      if (until != kNoDeadline && mono_clock::now() >= until) {
        got = try_acquire();
        break;
      }
      if (wake_seq_.load(std::memory_order_relaxed) == seq) awake_.store(0, std::memory_order_seq_cst);
      continue;
    }
    awake = true;
    if (spin_until(try_take)) {
      got = true;
      break;
    }
  }
  waiters_.fetch_sub(1, std::memory_order_seq_cst);
  if (awake) {
    awake_.store(0, std::memory_order_seq_cst);
    awake = false;
  }
  // Pass the wake on if permits remain (we took one, or we leave without one).
  if (!IPCSYNC_MUTANT(semaphore_no_pass_on) && count_.load(std::memory_order_seq_cst) > 0) wake(1);
  return got;
}

}  // namespace ipcsync

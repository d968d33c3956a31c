// event.hpp — Event: a one-bit flag in shared memory that processes can wait on
// (multiprocessing.Event).
//
// State: one 32-bit word: bit 0 is the flag; bits 1..31 count the times it went from unset to set
// (the "set generation"), so a waiter can tell that a set() happened while it waited even if a
// clear() followed before it ran. Plus a detail::Parking (parking.hpp) where waiters park.
//
//   state  | set()                           | clear()  | wait(timeout)
//   -------+---------------------------------+----------+-----------------------------------------
//   unset  | -> set, generation+1, wakes all | no-op    | blocks until a set() (true) or the
//          | waiters                         |          | deadline (false)
//   set    | no-op                           | -> unset | returns true at once
// As in Python, wait() returns true if and only if the flag was set when it was called or was
// set while it waited — including a set() immediately undone by clear().
//
// Process-shared: yes. Valid when zero-filled: a fresh mmap holds an unset Event.
// Layout: standard-layout, no pointers, alignas(64), sizeof == 64.
// Blocking: wait() spins up to spin_limit() PAUSEs (futex.hpp) if no other waiter is spinning —
//   so a set() from a process on another core reaches a waiter in about one cache-line
//   transfer — then FUTEX_WAITs (shared, never _PRIVATE) on a dedicated sequence word with an
//   absolute CLOCK_MONOTONIC deadline. set() makes a futex_wake syscall only when some waiter
//   announced itself as parked; it wakes them all.
// Memory ordering: for processes X and Y, X's writes before set() are visible to Y once Y's
//   wait() returns true or Y's is_set() returns true.
// Owner death: nobody owns an Event; a process dying inside wait() leaves it usable.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <type_traits>

#include "ipcsync/futex.hpp"
#include "ipcsync/parking.hpp"

namespace ipcsync {

class alignas(64) Event {
 public:
  Event() noexcept = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  // Event::is_set(): whether the flag is set now.
  bool is_set() const noexcept { return (state_.load(std::memory_order_acquire) & kSet) != 0; }

  // Event::set(): sets the flag; every process waiting is released. A no-op (but still a
  // release operation) when already set.
  void set() noexcept {
    uint32_t v = state_.load(std::memory_order_relaxed);
    for (;;) {
      if (v & kSet) {
        state_.fetch_or(kSet, std::memory_order_release);  // orders our writes for later readers
        return;
      }
      if (state_.compare_exchange_weak(v, (v + 2) | kSet, std::memory_order_seq_cst, std::memory_order_relaxed))
        break;
    }
    park_.wake_all();
  }

  // Event::clear(): resets the flag; later wait()s block until the next set().
  void clear() noexcept { state_.fetch_and(~kSet, std::memory_order_acq_rel); }

  // Event::wait(): blocks until the flag is set. Always returns true.
  bool wait() noexcept { return wait_until(kNoDeadline); }
  // Event::wait(timeout_s): Python's signature (kForever waits forever; a timeout <= 0,
  // negative included, is a poll of the flag, as in multiprocessing; NaN: std::invalid_argument).
  bool wait(double timeout_s) {
    return wait_until(timeout_deadline(timeout_s));
  }
  // Event::wait_until()/wait_for(): true when set (before or during the wait), false at the
  // deadline.
  bool wait_until(deadline until) noexcept {
    const uint32_t s0 = state_.load(std::memory_order_acquire);
    if (s0 & kSet) return true;
    auto ready = [&] {
      const uint32_t v = state_.load(std::memory_order_acquire);
      return (v & kSet) != 0 || v != s0;  // set now, or set (and cleared) since we started
    };
    return park_.wait_until(ready, detail::never, until, /*heavy=*/false);
  }
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> timeout) noexcept(!std::is_floating_point_v<Rep>) {
    return wait_until(deadline_after(timeout));
  }

  // Event::waiters(): processes parked in the kernel (a snapshot, for tests).
  uint32_t waiters() const noexcept { return park_.sleepers.load(std::memory_order_relaxed); }

 private:
  static constexpr uint32_t kSet = 1;
  std::atomic<uint32_t> state_{0};  // bit 0: set; bits 1..31: set generation
  detail::Parking park_;
};

static_assert(sizeof(Event) == 64 && alignof(Event) == 64);
static_assert(std::is_standard_layout_v<Event>);

}  // namespace ipcsync

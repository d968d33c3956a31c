// barrier.hpp — Barrier: a reusable rendezvous of a fixed number of processes
// (multiprocessing.Barrier).
//
// State: one 64-bit word: the round word in the high half — generation << 1 | broken — and the
// number of arrivals in this round in the low half; plus the count of completed rounds (mod
// 2^32; rounds ended by reset() or abort() are not counted), and a detail::Parking (parking.hpp).
// A round is a generation: its parties arrive (wait() returns each its arrival index,
// 0..parties-1, 0 for the first), the last arrival runs the action, and the generation moves on;
// a process that arrives for the next round while the last one finishes waits for it, so
// rounds never mix and nothing has to "drain" before the barrier can be used again.
//
//   state              | wait()                                 | abort()        | reset()
//   -------------------+----------------------------------------+----------------+---------------------------
//   filling (k < n-1   | arrival k: blocks until the round      | -> broken;     | -> next generation, empty;
//   arrived)           | completes (returns k) or breaks        | waiters throw  | waiters throw
//                      | (throws broken_barrier); the deadline  | broken_barrier | broken_barrier
//                      | passing breaks the barrier (as Python) |                |
//   last arrival       | runs the action, completes the round   | (as above; the last arrival then throws)
//   broken             | throws broken_barrier                  | no-op          | -> next generation, empty
// An action that throws breaks the barrier; its exception reaches the last arrival, every other
// waiter gets broken_barrier. Nothing here is undefined.
//
// The action, and why it is not a pointer: a function pointer is valid only in processes that
// run the same executable image. Barrier(parties, action) stores a plain `void (*)()` as an
// offset from a function inside ipcsync (so it survives ASLR: fork children, and re-executions
// of the same executable, find it) together with the identity of the executable that stored it;
// a last arrival in a different executable breaks the barrier and throws ipcsync::error instead
// of jumping to garbage. The position-independent way is to pass the action to wait():
// wait(action) runs `action` (any callable) in the last arrival if that arrival passed one; the
// stored action runs otherwise. Exactly one process runs an action per completed round.
//
// Process-shared: yes. Not valid when zero-filled (parties would be 0): construct it.
// Layout: standard-layout, no pointers, alignas(64), sizeof == 64.
// Blocking: a waiter spins up to spin_limit() PAUSEs (futex.hpp) if no other waiter is
//   spinning — so when processes fit on cores the release costs about one cache-line transfer
//   — then FUTEX_WAITs (shared) on a dedicated sequence word with an absolute CLOCK_MONOTONIC
//   deadline; the release wakes all parked waiters with one futex_wake.
// Memory ordering: for processes X and Y of one round, X's writes before its wait() are
//   visible to Y after Y's wait() returns (and to the action, which runs after every arrival).
// Owner death: a party that dies before arriving leaves the others waiting (as in Python);
//   waiters with a timeout break the barrier, which is how a stalled round is noticed.
// A waiter's outcome: no round after its own can complete without it (every round needs every
//   party), so its round completed exactly when the count of completed rounds moved since it
//   arrived. No history of past rounds is kept, so a waiter descheduled while any number of
//   resets or aborts happen still reads its round right. (An earlier version kept which of the
//   last 32 generations were reset; the torture found that 32 resets while a party was stopped
//   made it read a completed round as reset: phases mixed.)
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "ipcsync/errors.hpp"
#include "ipcsync/futex.hpp"
#include "ipcsync/parking.hpp"

namespace ipcsync {

namespace detail {
void barrier_anchor() noexcept;  // the origin stored actions are measured from
uint64_t image_id() noexcept;    // identity of this process's executable
}  // namespace detail

class alignas(64) Barrier {
 public:
  using action_fn = void (*)();

  // Barrier(parties, action): parties >= 1 (std::invalid_argument otherwise); action, if any,
  // runs in the last arrival of every round (see above for where it is valid).
  explicit Barrier(uint32_t parties, action_fn action = nullptr);
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  // Barrier::wait(): arrives and blocks until all parties have; returns the arrival index.
  // Throws broken_barrier if the barrier is or becomes broken (abort(), reset(), a timeout).
  uint32_t wait() { return wait_until(kNoDeadline); }
  // Barrier::wait(timeout_s): Python's signature (timeout_deadline(), futex.hpp: kForever waits
  // forever; a timeout <= 0, negative included, breaks the barrier unless this arrival is the
  // last, as threading.Barrier under multiprocessing does; NaN: std::invalid_argument).
  uint32_t wait(double timeout_s) {
    return wait_until(timeout_deadline(timeout_s));
  }
  // Barrier::wait_until()/wait_for(): as wait(); when the deadline passes first, breaks the
  // barrier (every waiter of the round gets broken_barrier) and throws broken_barrier.
  uint32_t wait_until(deadline until) { return wait_until(until, NoAction{}); }
  template <class Rep, class Period>
  uint32_t wait_for(std::chrono::duration<Rep, Period> timeout) {
    return wait_until(deadline_after(timeout));
  }

  // Barrier::wait(action)/wait_until(deadline, action): as wait(); if this process is the last
  // to arrive it runs action() (instead of the stored action) before releasing the others.
  template <class F>
    requires std::is_invocable_v<F&>
  uint32_t wait(F&& action) {
    return wait_until(kNoDeadline, std::forward<F>(action));
  }
  template <class F>
  uint32_t wait_until(deadline until, F&& action) {
    const Arrival a = arrive(until);
    const uint32_t round = a.round, index = a.index;
    if (index + 1 < parties_) return await_round(a, until);
    try {
      if constexpr (std::is_same_v<std::decay_t<F>, NoAction>)
        run_stored_action();
      else
        action();
    } catch (...) {
      break_round(round);
      throw;
    }
    complete_round(round);
    return index;
  }

  // Barrier::abort(): puts the barrier in the broken state; current and future wait()s throw
  // broken_barrier until reset().
  void abort() noexcept;
  // Barrier::reset(): returns the barrier to the empty, unbroken state; processes waiting in
  // the current round wake with broken_barrier.
  void reset() noexcept;

  // Barrier::parties(): how many processes a round needs.
  uint32_t parties() const noexcept { return parties_; }
  // Barrier::n_waiting(): how many processes wait in the current round (a snapshot).
  uint32_t n_waiting() const noexcept;
  // Barrier::broken(): whether the barrier is broken (a snapshot).
  bool broken() const noexcept { return (round_of(state_.load(std::memory_order_acquire)) & 1) != 0; }
  // Barrier::generation(): completed or reset rounds so far, mod 2^31 (a snapshot, for tests).
  uint32_t generation() const noexcept { return round_of(state_.load(std::memory_order_acquire)) >> 1; }

 private:
  struct NoAction {
    void operator()() const noexcept {}
  };
  struct Arrival {
    uint32_t round, index;
    uint32_t completions;  // completions_ when this process arrived (see await_round)
  };
  static constexpr uint32_t kClosing = 0xffffffffu;  // arrival count while a round is being closed
  static constexpr uint32_t round_of(uint64_t s) noexcept { return static_cast<uint32_t>(s >> 32); }
  static constexpr uint32_t count_of(uint64_t s) noexcept { return static_cast<uint32_t>(s); }
  static constexpr uint64_t make(uint32_t round, uint32_t count) noexcept {
    return static_cast<uint64_t>(round) << 32 | count;
  }

  Arrival arrive(deadline until);
  uint32_t await_round(const Arrival& a, deadline until);
  void complete_round(uint32_t round);
  bool close_round(uint64_t expected, bool broken_outcome) noexcept;
  bool break_round(uint32_t round) noexcept;
  void run_stored_action();
  uint64_t settled_state() const noexcept;

  uint32_t parties_ = 0;
  detail::atomic<uint32_t> completions_{0};  // rounds completed, mod 2^32 (not broken or reset ones)
  int64_t action_off_ = 0;                  // stored action - barrier_anchor, in bytes; 0: none
  uint64_t action_image_ = 0;               // image_id() of the process that stored it
  detail::atomic<uint64_t> state_{0};          // round word << 32 | arrivals
  detail::Parking park_;
};

#ifndef IPCSYNC_MODEL_CHECK  // the model build's atomics are Relacy's, not 4 bytes
static_assert(sizeof(Barrier) == 64 && alignof(Barrier) == 64);
static_assert(std::is_standard_layout_v<Barrier>);
#endif

}  // namespace ipcsync

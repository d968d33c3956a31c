// spin.hpp — the pure-spinning comparison backend: the educational baseline.
//
//   Lock             -> test-and-test-and-set spinlock with PAUSE
//   Semaphore        -> a counter taken by CAS, spinning while it is zero
//   BoundedSemaphore -> the same counter, released by CAS only while below its bound
//   Event            -> a flag + set generation word, waiters spin on it
//   Barrier          -> a sense-reversing spin barrier (the "sense" generalised to a generation
//                       counter, so rounds never mix), with abort/reset/broken/timeouts
//
// Nothing here ever sleeps in the kernel. With processes <= cores a handoff costs a cache-line
// round trip; once processes outnumber cores a waiter burns the time slice the holder needs and
// throughput collapses — which is exactly what this backend exists to show. RLock, Condition,
// Queue/JoinableQueue and Value/Array are not offered (DESIGN's table: "—"): they add nothing
// to that lesson, and a spinning Queue would only restate the native ring without parking.
// Every object: standard-layout, alignas(64), sizeof == 64, no pointers. Zero-filled state is
// valid where the semantics allow it (unlocked Lock, Semaphore with 0 permits, unset Event).
// Timed waits check the clock every kClockEvery spins and never sleep.
// Owner death: nothing is recorded; a Lock holder that dies leaves it locked forever.
// Promises kept as on every backend (tests/conformance_*_test.cc): float timeouts follow
// backends/timeout.hpp (negative: a poll, NaN: std::invalid_argument, huge or +inf: forever);
// Semaphore/BoundedSemaphore(n) with n above 2^31-1 (Python's Semaphore(-1) as uint32_t) is
// std::invalid_argument, and a Semaphore release past 2^31-1 is over_release (the counter
// used to wrap to 0 silently).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "backends/timeout.hpp"
#include "ipcsync/errors.hpp"
#include "ipcsync/futex.hpp"

namespace ipcsync::spin {

// kClockEvery: spins between two reads of the clock in a timed wait (a power of two).
inline constexpr uint32_t kClockEvery = 256;
inline bool past(deadline until, uint32_t i) noexcept {
  return (i & (kClockEvery - 1)) == kClockEvery - 1 && until != kNoDeadline && mono_clock::now() >= until;
}

// spin::Lock — test-and-test-and-set. Any process may release (as Python's Lock); releasing an
// unlocked Lock throws over_release.
class alignas(64) Lock {
 public:
  Lock() noexcept = default;
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  bool try_acquire() noexcept {
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(1, std::memory_order_acquire);
  }
  bool acquire() noexcept {
    while (!try_acquire())
      while (locked_.load(std::memory_order_relaxed)) cpu_relax();
    return true;
  }
  bool acquire_until(deadline until) noexcept {
    for (uint32_t i = 0;; ++i) {
      if (try_acquire()) return true;
      cpu_relax();
      if (past(until, i)) return false;
    }
  }
  template <class Rep, class Period>
  bool acquire_for(std::chrono::duration<Rep, Period> t) {
    return acquire_until(deadline_after(t));
  }
  // acquire(blocking, timeout_s): Python's signature (timeout.hpp).
  bool acquire(bool blocking, double timeout_s = backend::kForever) {
    if (!blocking) return try_acquire();
    return acquire_until(backend::deadline_in(timeout_s));
  }
  void release() {
    if (!locked_.exchange(0, std::memory_order_release))
      throw over_release("spin::Lock::release(): lock is not acquired");
  }
  bool locked() const noexcept { return locked_.load(std::memory_order_relaxed) != 0; }
  void lock() noexcept { acquire(); }
  bool try_lock() noexcept { return try_acquire(); }
  void unlock() { release(); }
  template <class Rep, class Period>
  bool try_lock_for(std::chrono::duration<Rep, Period> t) {
    return acquire_for(t);
  }

 private:
  std::atomic<uint32_t> locked_{0};
};

// spin::Semaphore — a permit counter taken by CAS; acquire spins while it is zero.
class alignas(64) Semaphore {
 public:
  // kMaxValue: the largest count, as every backend's. A larger initial value (Python's
  // Semaphore(-1) as uint32_t) is std::invalid_argument; a release past it is over_release
  // (the counter would otherwise wrap to 0 and lose every permit).
  static constexpr uint32_t kMaxValue = 0x7fffffff;
  explicit Semaphore(uint32_t value = 1) : count_(value) {
    if (value > kMaxValue)
      throw std::invalid_argument("spin::Semaphore: initial value " + std::to_string(value) +
                                  " above the maximum " + std::to_string(kMaxValue) + " (a negative value?)");
  }
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  bool try_acquire() noexcept {
    uint32_t v = count_.load(std::memory_order_relaxed);
    while (v > 0)
      if (count_.compare_exchange_weak(v, v - 1, std::memory_order_acquire,
                                       std::memory_order_relaxed))
        return true;
    return false;
  }
  bool acquire() noexcept {
    while (!try_acquire())
      while (count_.load(std::memory_order_relaxed) == 0) cpu_relax();
    return true;
  }
  bool acquire_until(deadline until) noexcept {
    for (uint32_t i = 0;; ++i) {
      if (try_acquire()) return true;
      cpu_relax();
      if (past(until, i)) return false;
    }
  }
  template <class Rep, class Period>
  bool acquire_for(std::chrono::duration<Rep, Period> t) {
    return acquire_until(deadline_after(t));
  }
  // acquire(blocking, timeout_s): Python's signature (timeout.hpp).
  bool acquire(bool blocking, double timeout_s = backend::kForever) {
    if (!blocking) return try_acquire();
    return acquire_until(backend::deadline_in(timeout_s));
  }
  void release(uint32_t k = 1) {
    if (k < 1) throw std::invalid_argument("spin::Semaphore::release(k): k must be >= 1");
    uint32_t v = count_.load(std::memory_order_relaxed);
    do {
      if (k > kMaxValue || v > kMaxValue - k)
        throw over_release("spin::Semaphore::release(k): count would exceed kMaxValue");
    } while (!count_.compare_exchange_weak(v, v + k, std::memory_order_release, std::memory_order_relaxed));
  }
  uint32_t value() const noexcept { return count_.load(std::memory_order_relaxed); }
  void lock() noexcept { acquire(); }
  bool try_lock() noexcept { return try_acquire(); }
  void unlock() { release(); }

 private:
  std::atomic<uint32_t> count_{0};
};

// spin::BoundedSemaphore — a Semaphore whose release is one CAS that refuses (over_release,
// changing nothing) to raise the count above the bound, its initial value. Not valid
// zero-filled (the bound would be 0).
class alignas(64) BoundedSemaphore {
 public:
  static constexpr uint32_t kMaxValue = Semaphore::kMaxValue;
  explicit BoundedSemaphore(uint32_t value = 1) : count_(value), bound_(value) {
    if (value > kMaxValue)
      throw std::invalid_argument("spin::BoundedSemaphore: initial value " + std::to_string(value) +
                                  " above the maximum " + std::to_string(kMaxValue) + " (a negative value?)");
  }
  BoundedSemaphore(const BoundedSemaphore&) = delete;
  BoundedSemaphore& operator=(const BoundedSemaphore&) = delete;

  bool try_acquire() noexcept {
    uint32_t v = count_.load(std::memory_order_relaxed);
    while (v > 0)
      if (count_.compare_exchange_weak(v, v - 1, std::memory_order_acquire, std::memory_order_relaxed)) return true;
    return false;
  }
  bool acquire() noexcept {
    while (!try_acquire())
      while (count_.load(std::memory_order_relaxed) == 0) cpu_relax();
    return true;
  }
  bool acquire_until(deadline until) noexcept {
    for (uint32_t i = 0;; ++i) {
      if (try_acquire()) return true;
      cpu_relax();
      if (past(until, i)) return false;
    }
  }
  template <class Rep, class Period>
  bool acquire_for(std::chrono::duration<Rep, Period> t) {
    return acquire_until(deadline_after(t));
  }
  // acquire(blocking, timeout_s): Python's signature (timeout.hpp).
  bool acquire(bool blocking, double timeout_s = backend::kForever) {
    if (!blocking) return try_acquire();
    return acquire_until(backend::deadline_in(timeout_s));
  }
  void release(uint32_t k = 1) {
    if (k < 1) throw std::invalid_argument("spin::BoundedSemaphore::release(k): k must be >= 1");
    uint32_t v = count_.load(std::memory_order_relaxed);
    do {
      if (k > bound_ || v > bound_ - k)
        throw over_release("spin::BoundedSemaphore::release(): released too many times (count would exceed " +
                           std::to_string(bound_) + ")");
    } while (!count_.compare_exchange_weak(v, v + k, std::memory_order_release, std::memory_order_relaxed));
  }
  uint32_t value() const noexcept { return count_.load(std::memory_order_relaxed); }
  uint32_t bound() const noexcept { return bound_; }
  void lock() noexcept { acquire(); }
  bool try_lock() noexcept { return try_acquire(); }
  void unlock() { release(); }
  template <class Rep, class Period>
  bool try_lock_for(std::chrono::duration<Rep, Period> t) {
    return acquire_for(t);
  }

 private:
  std::atomic<uint32_t> count_{0};
  uint32_t bound_;  // read-only after construction
};

// spin::Event — one word: bit 0 the flag, bits 1..31 the set generation (so a set() undone by
// clear() before a waiter looked still releases it, as in Python); waiters spin on it.
// Memory ordering: X's writes before set() are visible to Y once Y's wait()/is_set() is true.
class alignas(64) Event {
 public:
  Event() noexcept = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  bool is_set() const noexcept { return (state_.load(std::memory_order_acquire) & kSet) != 0; }
  void set() noexcept {
    uint32_t v = state_.load(std::memory_order_relaxed);
    for (;;) {
      if (v & kSet) {
        state_.fetch_or(kSet, std::memory_order_release);
        return;
      }
      if (state_.compare_exchange_weak(v, (v + 2) | kSet, std::memory_order_release, std::memory_order_relaxed))
        return;
    }
  }
  void clear() noexcept { state_.fetch_and(~kSet, std::memory_order_acq_rel); }

  bool wait() noexcept { return wait_until(kNoDeadline); }
  // wait(timeout_s): Python's signature (timeout.hpp: negative polls, NaN throws).
  bool wait(double timeout_s) { return wait_until(backend::deadline_in(timeout_s)); }
  bool wait_until(deadline until) noexcept {
    const uint32_t s0 = state_.load(std::memory_order_acquire);
    if (s0 & kSet) return true;
    waiters_.fetch_add(1, std::memory_order_relaxed);
    bool got = false;
    for (uint32_t i = 0;; ++i) {
      if (state_.load(std::memory_order_acquire) != s0) {  // set now, or set (and cleared) since
        got = true;
        break;
      }
      cpu_relax();
      if (past(until, i)) break;
    }
    waiters_.fetch_sub(1, std::memory_order_relaxed);
    return got;
  }
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> timeout) {
    return wait_until(deadline_after(timeout));
  }
  // Event::waiters(): processes spinning in wait() (a snapshot, for tests).
  uint32_t waiters() const noexcept { return waiters_.load(std::memory_order_relaxed); }

 private:
  static constexpr uint32_t kSet = 1;
  std::atomic<uint32_t> state_{0};
  std::atomic<uint32_t> waiters_{0};
};

// spin::Barrier — a sense-reversing spin barrier with the guide's semantics.
//
// State: one 64-bit word — the round word (generation << 1 | broken) in the high half; in the
// low half this round's arrivals (24 bits) and the count of completed rounds mod 256 (8 bits).
// A waiter's round completed exactly when that count moved since it arrived (no later round
// can complete without it), so no history of resets is kept. (A record of the last 64 rounds
// reset, kept before, was set by a reset() whose CAS then lost to the round's completion, and
// so could make a completed round read as reset.) An arrival takes its index by CAS on the count; the last one runs the action, then
// publishes the next generation (the classic barrier flips a one-bit sense; a whole
// generation lets a waiter tell "my round completed" from "a later round began"). Waiters spin
// until the round word moves. While the last arrival runs the action the count equals
// `parties`, and processes arriving for the next round spin until it is published.
//
//   state          | wait()                                   | abort()           | reset()
//   ---------------+------------------------------------------+-------------------+-------------------------
//   filling        | arrival k: spins until the round         | -> broken;        | -> next generation,
//                  | completes (k) or breaks (broken_barrier);| waiters throw     | empty; waiters throw
//                  | the deadline passing breaks the barrier  | broken_barrier    | broken_barrier
//   last arrival   | runs the action, publishes the next round| the last arrival then throws broken_barrier
//   broken         | throws broken_barrier                    | no-op             | -> next generation, empty
// An action that throws breaks the barrier. Barrier(parties, action) stores a plain function
// pointer (valid in the constructing process and its fork children only); wait(action) is the
// position-independent form.
// Memory ordering: for processes X and Y of one round, X's writes before its wait() are
//   visible to Y after Y's wait() returns (and to the action).
// Not valid zero-filled (parties would be 0).
class alignas(64) Barrier {
 public:
  using action_fn = void (*)();

  explicit Barrier(uint32_t parties, action_fn action = nullptr) : parties_(parties), action_(action) {
    if (parties < 1 || parties >= kCountMask) throw std::invalid_argument("Barrier: parties must be in 1..2^24-1");
  }
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  uint32_t wait() { return wait_until(kNoDeadline, NoAction{}); }
  // wait(timeout_s): Python's signature (timeout.hpp; a negative timeout breaks the barrier
  // unless this arrival completes the round).
  uint32_t wait(double timeout_s) { return wait_until(backend::deadline_in(timeout_s)); }
  uint32_t wait_until(deadline until) { return wait_until(until, NoAction{}); }
  template <class Rep, class Period>
  uint32_t wait_for(std::chrono::duration<Rep, Period> timeout) {
    return wait_until(deadline_after(timeout), NoAction{});
  }
  template <class F>
    requires std::is_invocable_v<F&>
  uint32_t wait(F&& action) {
    return wait_until(kNoDeadline, std::forward<F>(action));
  }
  template <class F>
  uint32_t wait_until(deadline until, F&& action) {
    uint64_t s = state_.load(std::memory_order_acquire);
    for (uint32_t i = 0;; ++i) {
      if (round_of(s) & 1) throw broken_barrier("spin::Barrier::wait(): the barrier is broken");
      if (count_of(s) < parties_) {
        if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire)) break;
        continue;
      }
      cpu_relax();  // the previous round is closing
      if (past(until, i)) {
        break_round(round_of(s));
        throw broken_barrier("spin::Barrier::wait(): timed out (the barrier is now broken)");
      }
      s = state_.load(std::memory_order_acquire);
    }
    const uint32_t round = round_of(s), index = count_of(s), completed = completions_of(s);
    const uint32_t gen = round >> 1;
    if (index + 1 == parties_) {
      try {
        if constexpr (std::is_same_v<std::decay_t<F>, NoAction>) {
          if (action_) action_();
        } else {
          action();
        }
      } catch (...) {
        break_round(round);
        throw;
      }
      uint64_t expected = make(round, parties_, completed);
      if (!state_.compare_exchange_strong(expected, make((gen + 1) << 1, 0, completed + 1), std::memory_order_acq_rel,
                                          std::memory_order_relaxed))
        throw broken_barrier("spin::Barrier::wait(): broken or reset while the action ran");
      return index;
    }
    for (uint32_t i = 0;; ++i) {
      const uint64_t now = state_.load(std::memory_order_acquire);
      const uint32_t r = round_of(now);
      if (r != round) {
        if (completions_of(now) != completed) return index;  // this round completed (no later one can without it)
        if (r == (round | 1)) throw broken_barrier("spin::Barrier::wait(): the barrier was broken while waiting");
        throw broken_barrier("spin::Barrier::wait(): the barrier was reset");
      }
      cpu_relax();
      if (past(until, i)) {
        break_round(round);
        throw broken_barrier("spin::Barrier::wait(): timed out (the barrier is now broken)");
      }
    }
  }

  // Barrier::abort(): breaks the current round; wait()s throw until reset().
  void abort() noexcept {
    uint64_t s = state_.load(std::memory_order_relaxed);
    while (!(round_of(s) & 1) &&
           !state_.compare_exchange_weak(s, s | (uint64_t{1} << 32), std::memory_order_acq_rel, std::memory_order_relaxed)) {
    }
  }
  // Barrier::reset(): next generation, empty, unbroken; waiters of the current round throw.
  void reset() noexcept {
    uint64_t s = state_.load(std::memory_order_relaxed);
    for (;;) {
      const uint32_t gen = round_of(s) >> 1;
      if (state_.compare_exchange_weak(s, make((gen + 1) << 1, 0, completions_of(s)), std::memory_order_acq_rel,
                                       std::memory_order_relaxed))
        return;
    }
  }

  uint32_t parties() const noexcept { return parties_; }
  uint32_t n_waiting() const noexcept {
    const uint64_t s = state_.load(std::memory_order_relaxed);
    return (round_of(s) & 1) || count_of(s) >= parties_ ? 0 : count_of(s);
  }
  bool broken() const noexcept { return (round_of(state_.load(std::memory_order_acquire)) & 1) != 0; }
  uint32_t generation() const noexcept { return round_of(state_.load(std::memory_order_acquire)) >> 1; }

 private:
  struct NoAction {
    void operator()() const noexcept {}
  };
  static constexpr uint32_t round_of(uint64_t s) noexcept { return static_cast<uint32_t>(s >> 32); }
  static constexpr uint32_t kCountMask = (1u << 24) - 1;
  static constexpr uint32_t count_of(uint64_t s) noexcept { return static_cast<uint32_t>(s) & kCountMask; }
  static constexpr uint32_t completions_of(uint64_t s) noexcept { return static_cast<uint32_t>(s) >> 24; }
  static constexpr uint64_t make(uint32_t round, uint32_t count, uint32_t completions) noexcept {
    return static_cast<uint64_t>(round) << 32 | (completions & 0xffu) << 24 | count;
  }
  // break_round(): marks `round` broken if it is still the current, unbroken round.
  void break_round(uint32_t round) noexcept {
    uint64_t s = state_.load(std::memory_order_relaxed);
    while (round_of(s) == round &&
           !state_.compare_exchange_weak(s, s | (uint64_t{1} << 32), std::memory_order_acq_rel, std::memory_order_relaxed)) {
    }
  }

  uint32_t parties_;
  action_fn action_;
  std::atomic<uint64_t> state_{0};  // (generation << 1 | broken) << 32 | completions % 256 << 24 | arrivals
};

static_assert(sizeof(Lock) == 64 && sizeof(Semaphore) == 64 && sizeof(BoundedSemaphore) == 64);
static_assert(sizeof(Event) == 64 && sizeof(Barrier) == 64);
static_assert(std::is_standard_layout_v<Semaphore> && std::is_standard_layout_v<Barrier>);

}  // namespace ipcsync::spin

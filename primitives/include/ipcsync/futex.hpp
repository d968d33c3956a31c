// futex.hpp — the only wait/wake code in ipcsync.
//
// Every native primitive blocks through these functions and nothing else:
//   * futex_wait(word, expected, deadline): sleep while *word == expected, until woken or until
//     an absolute CLOCK_MONOTONIC deadline (std::chrono::steady_clock on Linux).
//   * futex_wake(word, n): wake up to n sleepers on word.
//   * spin_until(pred): the bounded, pause-based spin that precedes every futex wait.
//
// Process-shared: yes. The futexes are *shared* (never FUTEX_PRIVATE_FLAG), so a word in any
// MAP_SHARED mapping works across processes, at any address in each of them.
// EINTR: futex_wait returns wait_status::woken on EINTR and on spurious wakeups; every caller
// re-checks its condition in a loop, and because deadlines are absolute a signal never
// stretches a timeout.
// Memory ordering: futex_wait/futex_wake order nothing by themselves; callers publish state with
// seq_cst atomics before waking and re-read it after waking.
#pragma once

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "ipcsync/detail/atomic.hpp"

namespace ipcsync {

using mono_clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC on Linux
using deadline = mono_clock::time_point;

// deadline::max() means "no deadline".
inline constexpr deadline kNoDeadline = deadline::max();

// Timeouts, one rule for every timed call of every primitive and backend:
//   * A timeout as large as the time left until the clock's end (about 292 years from boot),
//     and +inf, saturate to kNoDeadline: "wait forever". Any std::chrono duration, integer or
//     floating, of any period, and any double is compared before it is converted, so
//     duration::max() of nanoseconds, hours or double seconds never overflows (converting
//     1e10 s to int64 nanoseconds first, as an earlier version did, is undefined behaviour and
//     timed out at once).
//   * A timeout <= 0 is a deadline of now: one last look, no waiting (a poll).
//   * NaN is std::invalid_argument.
// kForever is the double spelling of Python's timeout=None: the default of every timed call that
// takes Python's (block, timeout) arguments. Negative doubles follow multiprocessing, not
// threading: they mean 0 (multiprocessing's SemLock clamps them; see each header).
inline constexpr double kForever = std::numeric_limits<double>::infinity();

namespace detail {
#ifndef IPCSYNC_MODEL_CHECK
[[noreturn]] void throw_nan_timeout();
#else
[[noreturn]] inline void throw_nan_timeout() { throw std::invalid_argument("ipcsync: a timeout is NaN"); }
#endif
// The largest timeout, in seconds, that still fits before kNoDeadline from `now`, less one
// second of margin for the rounding of a double product (irrelevant at 292 years).
inline long double seconds_left(mono_clock::time_point now) noexcept {
  return static_cast<long double>((kNoDeadline - now).count()) * mono_clock::period::num /
             mono_clock::period::den - 1.0L;
}
}  // namespace detail

// deadline_after(timeout): now + timeout, saturated as above. Throws std::invalid_argument for a
// NaN (floating-point) timeout; never throws for an integer one.
template <class Rep, class Period>
deadline deadline_after(std::chrono::duration<Rep, Period> timeout) noexcept(!std::is_floating_point_v<Rep>) {
  const auto now = mono_clock::now();
  const long double s =
      static_cast<long double>(timeout.count()) * Period::num / static_cast<long double>(Period::den);
  if constexpr (std::is_floating_point_v<Rep>)
    if (std::isnan(s)) detail::throw_nan_timeout();
  if (s <= 0) return now;
  if (s >= detail::seconds_left(now)) return kNoDeadline;
  // Now known to fit: convert in long double, so a double of 1e9 s loses nothing that matters.
  return now + mono_clock::duration(static_cast<mono_clock::rep>(
                   s * mono_clock::period::den / mono_clock::period::num));
}

// deadline_at(t): a time point of any clock and any duration type as a deadline on mono_clock,
// saturated as above (time_point::max() of hours never overflows on the way).
template <class Clock, class Duration>
deadline deadline_at(std::chrono::time_point<Clock, Duration> t) noexcept(
    !std::is_floating_point_v<typename Duration::rep>) {
  if constexpr (std::is_same_v<Clock, mono_clock> && std::is_same_v<Duration, mono_clock::duration>) {
    return t;
  } else {
    using secs = std::chrono::duration<long double>;
    const long double left = std::chrono::duration_cast<secs>(t.time_since_epoch()).count() -
                             std::chrono::duration_cast<secs>(Clock::now().time_since_epoch()).count();
    return deadline_after(secs(left));
  }
}

// timeout_deadline(timeout_s): Python's timeout argument in seconds (kForever = None) to a
// deadline, as above; negative means 0.
inline deadline timeout_deadline(double timeout_s) {
  return deadline_after(std::chrono::duration<double>(timeout_s));
}

enum class wait_status { woken, timed_out };

// futex_wait(): sleeps while word == expected. Returns timed_out only when `until` has passed;
// woken covers FUTEX_WAKE, a changed value (EAGAIN), EINTR and spurious wakeups.
#ifndef IPCSYNC_MODEL_CHECK
wait_status futex_wait(const detail::atomic<uint32_t>& word, uint32_t expected,
                       deadline until = kNoDeadline) noexcept;
#endif

// futex_wake(): wakes up to n waiters of word (n = INT32_MAX wakes all). Returns how many woke.
inline constexpr int kWakeAll = 0x7fffffff;
#ifndef IPCSYNC_MODEL_CHECK
int futex_wake(const detail::atomic<uint32_t>& word, int n) noexcept;
#endif

// cpu_relax(): the spin-loop hint (x86 PAUSE, arm64 YIELD).
inline void cpu_relax() noexcept {
#if defined(IPCSYNC_MODEL_CHECK)
  rl::yield(1, RL_INFO);  // Relacy's livelock detector needs a yield in every spin loop
#elif defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#else
  std::atomic_signal_fence(std::memory_order_seq_cst);
#endif
}

// The spin budget is a time, not a PAUSE count: a PAUSE costs ~19 ns on the AMD EPYC hosts this
// project has run on and several times that on Intel cores since Skylake, so a fixed count
// spun ~4 us on one and over 10 us on the other. The budget must catch a hand-off from a process
// on another core (a one-line round trip: 70-160 ns on those hosts) and a short critical section,
// and stay well under a cross-core futex wake (~10-25 us), which is what spinning saves; it is
// also all a waiter wastes when processes outnumber cores. kDefaultSpinNs is set from a sweep of
// the 2-process counter, the semaphore ping-pong and the semaphore-pair bounded buffer
// (scripts/spin_sweep.py; the README gives the curve). spin_limit() is that budget in PAUSEs
// of this host: each process times PAUSE once (the fastest of 5 rounds of 128, with
// CLOCK_MONOTONIC), at its first spin or when spin_calibration() is asked (bench asks in the
// parent before it forks, and records the result in its JSON context).
// Overrides, read once per process: IPCSYNC_SPIN_NS=<ns> (0 disables spinning, at most 1e9), or
// IPCSYNC_SPIN=<n PAUSEs>, the older count, which wins when both are set.
inline constexpr uint32_t kDefaultSpinNs = 4000;
// kMaxBackoffNs: the longest gap between two looks of a spinning waiter (spin_until()), also a
// time for the same reason. A waiter that re-reads a contended line less often leaves the
// holder to work in its own cache; a gap near a cross-core line transfer or two lets a holder
// that releases and re-acquires keep the line. Measured on the 2-process Lock counter (AMD,
// PAUSE 18 ns, line round trip ~430 ns): a 290 ns cap (the old 16 PAUSEs) gave 31-35M ops/s,
// 1.15 us gave 40-42M with the same fairness (>= 0.99) and the same semaphore ping-pong p50.
// Overrides: IPCSYNC_BACKOFF_NS=<ns> (1..1e6), or IPCSYNC_BACKOFF=<n PAUSEs> (1..4096), which wins.
inline constexpr uint32_t kMaxBackoffNs = 1000;
#ifndef IPCSYNC_MODEL_CHECK
uint32_t spin_limit() noexcept;
// SpinCalibration: what spin_limit() was derived from, for a harness to record.
struct SpinCalibration {
  double pause_ns = 0;         // one PAUSE (x86) or YIELD (arm64) on this host, measured
  uint32_t budget_ns = 0;      // the spin budget (kDefaultSpinNs or IPCSYNC_SPIN_NS)
  uint32_t limit_pauses = 0;   // spin_limit(): the budget in PAUSEs
  const char* source = "";     // "default", "IPCSYNC_SPIN_NS" or "IPCSYNC_SPIN"
  uint32_t backoff_ns = 0;     // the longest gap between looks (kMaxBackoffNs or IPCSYNC_BACKOFF_NS)
  uint32_t backoff_pauses = 0; // max_backoff(): that gap in PAUSEs (IPCSYNC_BACKOFF sets it directly)
};
SpinCalibration spin_calibration() noexcept;
#endif

// spin_until(): spins for at most spin_limit() PAUSEs, checking pred between rounds of PAUSE
// whose length doubles up to max_backoff() PAUSEs (kMaxBackoffNs on this host; exponential
// backoff, as in a TTAS lock). pred must be a cheap check (a relaxed load, then at most one
// RMW). Returns true when pred() became true, false when the budget ran out and the caller
// should park.
#ifndef IPCSYNC_MODEL_CHECK
uint32_t max_backoff() noexcept;
#else
// The model build spins 2 rounds (1 yield each) before parking: enough to explore both the
// spinner's and the sleeper's paths, small enough for the checker's state space.
inline uint32_t spin_limit() noexcept { return 2; }
inline uint32_t max_backoff() noexcept { return 1; }
#endif
template <class Pred>
inline bool spin_until(Pred&& pred) noexcept {
  uint32_t budget = spin_limit();
  const uint32_t cap = max_backoff();
  for (uint32_t round = 1;; round = round < cap ? round * 2 : cap) {
    if (pred()) return true;
    if (budget == 0) return false;
    const uint32_t n = round < budget ? round : budget;
    for (uint32_t i = 0; i < n; ++i) cpu_relax();
    budget -= n;
  }
}

// --- Asymmetric ordering for releases that are a plain store -------------------------------
//
// A release that is a plain store followed by a plain load of a "waiters" word (Lock::release)
// can have its load overtake its store (x86 TSO allows StoreLoad reordering), which would lose
// a wake-up. Instead of paying a full fence on every release, the rare side pays:
// a waiter that is about to park calls heavy_barrier() after announcing itself, which runs
// membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) — every CPU running a registered process
// executes a full barrier before it returns (a process not running is already serialized by
// its context switch). Every process that links ipcsync registers at start-up (and again in a
// fork child). Where membarrier is unavailable (or IPCSYNC_NO_MEMBARRIER is set),
// asymmetric_release() is false and that process's releases use a seq_cst RMW instead.
#ifndef IPCSYNC_MODEL_CHECK
namespace detail {
bool asymmetric_release() noexcept;  // membarrier registered for this process
void heavy_barrier() noexcept;       // the waiter's side (whenever the kernel has membarrier)
extern bool g_asymmetric;            // cached asymmetric_release(), read on the fast path

// self_id(): a nonzero id of the calling thread (its kernel tid), cached per thread and
// refreshed in a fork child. Lock and RLock store it as the owner.
inline thread_local uint32_t t_self_id = 0;
uint32_t refresh_self_id() noexcept;
inline uint32_t self_id() noexcept {
  const uint32_t id = t_self_id;
  return id ? id : refresh_self_id();
}

// thread_alive(): false once the thread with kernel tid `id` has exited (a zombie counts as
// exited: it will never release anything). Used by robust primitives during park slices.
bool thread_alive(uint32_t id) noexcept;
// thread_exited(): the thread with kernel tid `id` has exited and been reaped (kill(id, 0)
// fails with ESRCH). One syscall, no /proc read: cheap enough under a lock; a zombie does not
// count yet (thread_alive() is the thorough check).
bool thread_exited(uint32_t id) noexcept;
}  // namespace detail
#endif  // !IPCSYNC_MODEL_CHECK

// --- The model-checking build (IPCSYNC_MODEL_CHECK, tests/model/) -------------------------------
//
// futex_wait/futex_wake become Relacy's model of the futex (as rl::rl_futex in Relacy's
// stdlib/pthread.hpp, on our 32-bit words). What the model assumes of the kernel is exactly
// futex(2)'s promise: "the loading of the futex word's value, the comparison of that value with
// the expected value, and the actual blocking are performed atomically and totally ordered with
// respect to concurrent operations performed by other threads on the same futex word" — modelled
// as a seq_cst fence before the check (wait) and before the wake, and the check and the parking
// with preemption disabled; a wake that unparks someone synchronizes with the woken (the
// kernel's hash-bucket lock). Spurious wake-ups (EINTR) are explored. Timed waits (every park
// slice is one) time out nondeterministically only when the test sets g_model_timeouts: by
// default they never time out, so a waiter left asleep is a deadlock that Relacy reports
// instead of a 100 ms stall that the slice would hide.
//
// The asymmetric release (membarrier) CANNOT be modelled: membarrier(GLOBAL_EXPEDITED) makes
// every running thread of every registered process execute a full memory barrier before the
// call returns, i.e. it inserts a seq_cst fence into the *other* threads at whatever point they
// are, which the C++ memory model has no operation for. The fast path relies on exactly that
// guarantee: the waiter announces itself (waiters_/sleepers RMW), then calls membarrier; the
// releaser's plain store of the lock word and its later plain load of the waiters word are
// then separated, in every releaser thread that was running, by a full barrier that is ordered
// after the announcement — so either the releaser's load sees the announcement, or the store
// was already globally visible when the barrier ran and the waiter's re-check (after
// membarrier returns) sees it; a releaser not running at that moment is serialized by its
// context switch. In the model g_asymmetric is false, so releases take the seq_cst fallback
// (the path processes without membarrier use); the tests also run g_asymmetric = true with no
// barrier to show that the plain-store release is NOT correct without the kernel's guarantee.
#ifdef IPCSYNC_MODEL_CHECK
namespace detail {
inline bool g_asymmetric = false;     // the seq_cst fallback; a model test may force it
inline bool g_model_timeouts = false;  // whether timed futex waits may time out (see above)
inline bool asymmetric_release() noexcept { return g_asymmetric; }
// The waiter's membarrier is a full barrier for the calling thread too; that much is modelled.
inline void heavy_barrier() noexcept { detail::atomic_thread_fence(std::memory_order_seq_cst); }
// A distinct nonzero id per Relacy thread (Relacy threads are fibers: no thread_local).
inline uint32_t self_id() noexcept { return static_cast<uint32_t>(rl::thread_index()) + 1; }
inline uint32_t refresh_self_id() noexcept { return self_id(); }
inline bool thread_alive(uint32_t id) noexcept { return id != 0; }  // nobody dies in the model
inline bool thread_exited(uint32_t) noexcept { return false; }
}  // namespace detail

inline wait_status futex_wait(const detail::atomic<uint32_t>& word, uint32_t expected,
                              deadline until = kNoDeadline,
                              std::source_location l = std::source_location::current()) noexcept {
  const rl::debug_info info = detail::rl_info(l);
  rl::context& c = rl::ctx();
  c.sched();
  c.atomic_thread_fence_seq_cst();
  uint32_t v0;
  {
    rl::preemption_disabler pd(c);
    v0 = word.rl_word().load(rl::mo_acquire, info);
  }
  if (v0 != expected) return wait_status::woken;  // EAGAIN
  const bool timed = until != kNoDeadline && detail::g_model_timeouts;
  const rl::unpark_reason r = word.rl_word().wait(c, timed, /*allow_spurious_wakeup=*/true, info);
  return r == rl::unpark_reason_timeout ? wait_status::timed_out : wait_status::woken;
}

inline int futex_wake(const detail::atomic<uint32_t>& word, int n,
                      std::source_location l = std::source_location::current()) noexcept {
  const rl::debug_info info = detail::rl_info(l);
  rl::context& c = rl::ctx();
  c.sched();
  c.atomic_thread_fence_seq_cst();
  return static_cast<int>(word.rl_word().wake(c, static_cast<rl::thread_id_t>(n < 64 ? n : 64), info));
}
#endif  // IPCSYNC_MODEL_CHECK

}  // namespace ipcsync

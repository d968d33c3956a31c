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
[[noreturn]] void throw_nan_timeout();
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
wait_status futex_wait(const std::atomic<uint32_t>& word, uint32_t expected,
                       deadline until = kNoDeadline) noexcept;

// futex_wake(): wakes up to n waiters of word (n = INT32_MAX wakes all). Returns how many woke.
int futex_wake(const std::atomic<uint32_t>& word, int n) noexcept;
inline constexpr int kWakeAll = 0x7fffffff;

// cpu_relax(): the spin-loop hint (x86 PAUSE, arm64 YIELD).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#else
  std::atomic_signal_fence(std::memory_order_seq_cst);
#endif
}

// kSpinLimit: how many PAUSE iterations a waiter spins before it parks in the kernel. On the
// reference VM (AMD EPYC, KVM) one PAUSE costs ~15 ns, so the bound is ~2-4 µs: long enough to
// catch a handoff from a process on another core (~70 ns cache-line round trip), far shorter
// than the ~25 µs a cross-core futex wake costs, and short enough that when processes outnumber
// cores a waiter gives its core back quickly. Override per process with IPCSYNC_SPIN=<n>
// (0 disables spinning; read once).
inline constexpr uint32_t kDefaultSpinLimit = 200;
uint32_t spin_limit() noexcept;

// spin_until(): spins for at most spin_limit() PAUSEs, checking pred between rounds of PAUSE
// whose length doubles up to kMaxBackoff (exponential backoff, as in a TTAS lock): a waiter that
// re-reads a contended line less often leaves the holder to work in its own cache. pred must
// be a cheap check (a relaxed load, then at most one RMW). Returns true when pred() became
// true, false when the budget ran out and the caller should park.
inline constexpr uint32_t kMaxBackoff = 16;
uint32_t max_backoff() noexcept;
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
}  // namespace detail

}  // namespace ipcsync

// futex.cc — the syscall side of futex.hpp.
#include "ipcsync/futex.hpp"

#include <linux/futex.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <climits>
#include <cstdlib>
#include <ctime>
#include <stdexcept>

namespace ipcsync {
namespace {

long sys_futex(const detail::atomic<uint32_t>* addr, int op, uint32_t val, const timespec* ts,
               uint32_t val3) noexcept {
  // std::atomic<uint32_t> is layout-compatible with uint32_t (static_assert below).
  return syscall(SYS_futex, reinterpret_cast<const uint32_t*>(addr), op, val, ts, nullptr, val3);
}
static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));
static_assert(std::atomic<uint32_t>::is_always_lock_free);

timespec to_timespec(deadline d) noexcept {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d.time_since_epoch()).count();
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
  ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  return ts;
}

// env_u32(): an unsigned decimal environment variable in [lo, hi], or nullopt.
bool env_u32(const char* name, unsigned long hi, uint32_t& out) noexcept {
  const char* s = std::getenv(name);
  if (!s) return false;
  char* end = nullptr;
  const unsigned long v = std::strtoul(s, &end, 10);
  if (end == s || *end != '\0' || v > hi) return false;
  out = static_cast<uint32_t>(v);
  return true;
}

// pause_ns(): one cpu_relax() on this host. The fastest of 5 rounds of 128: a round that was
// preempted or interrupted only ever reads slower, so the minimum is the instruction's own cost.
double measure_pause_ns() noexcept {
  constexpr int kRounds = 5, kPauses = 128;
  double best = 1e9;
  for (int r = 0; r < kRounds; ++r) {
    timespec a{}, b{};
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < kPauses; ++i) cpu_relax();
    clock_gettime(CLOCK_MONOTONIC, &b);
    const double ns = (static_cast<double>(b.tv_sec - a.tv_sec) * 1e9 + static_cast<double>(b.tv_nsec - a.tv_nsec)) / kPauses;
    if (ns < best) best = ns;
  }
  return best < 0.1 ? 0.1 : best;
}

SpinCalibration calibrate() noexcept {
  SpinCalibration c;
  c.pause_ns = measure_pause_ns();
  c.budget_ns = kDefaultSpinNs;
  c.source = "default";
  if (env_u32("IPCSYNC_SPIN_NS", 1'000'000'000, c.budget_ns)) c.source = "IPCSYNC_SPIN_NS";
  uint32_t pauses = 0;
  if (env_u32("IPCSYNC_SPIN", 1'000'000, pauses)) {
    c.source = "IPCSYNC_SPIN";
    c.limit_pauses = pauses;
    c.budget_ns = static_cast<uint32_t>(std::min(1e9, pauses * c.pause_ns + 0.5));
  } else {
    const double n = c.budget_ns / c.pause_ns + 0.5;
    c.limit_pauses = static_cast<uint32_t>(n > 1e6 ? 1e6 : n);
  }
  c.backoff_ns = kMaxBackoffNs;
  uint32_t v = 0;
  if (env_u32("IPCSYNC_BACKOFF_NS", 1'000'000, v) && v >= 1) c.backoff_ns = v;
  if (env_u32("IPCSYNC_BACKOFF", 4096, v) && v >= 1) {
    c.backoff_pauses = v;
    c.backoff_ns = static_cast<uint32_t>(v * c.pause_ns + 0.5);
  } else {
    const double b = c.backoff_ns / c.pause_ns + 0.5;
    c.backoff_pauses = static_cast<uint32_t>(b < 1 ? 1 : b > 4096 ? 4096 : b);
  }
  return c;
}

long membarrier(int cmd) noexcept { return syscall(__NR_membarrier, cmd, 0, 0); }

// Whether MEMBARRIER_CMD_GLOBAL_EXPEDITED exists here. The waiter's heavy barrier runs whenever
// it does, even in a process that did not register itself: the command serves *other*
// registered processes, so a releaser elsewhere that uses plain stores is always covered.
bool g_membarrier_supported = false;

bool register_membarrier() noexcept {
  const long q = membarrier(MEMBARRIER_CMD_QUERY);
  g_membarrier_supported = q >= 0 && (q & MEMBARRIER_CMD_GLOBAL_EXPEDITED);
  if (!g_membarrier_supported || std::getenv("IPCSYNC_NO_MEMBARRIER")) return false;
  return membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) == 0;
}

void after_fork_in_child() noexcept {
  detail::t_self_id = 0;
  // The registration lives in the mm and is copied by fork; registering again is cheap and
  // keeps the guarantee explicit. If it fails, fall back to RMW releases in this process.
  if (detail::g_asymmetric && membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) != 0)
    detail::g_asymmetric = false;
}

struct Init {
  Init() {
    detail::g_asymmetric = register_membarrier();
    pthread_atfork(nullptr, nullptr, after_fork_in_child);
  }
};

}  // namespace

namespace detail {
bool g_asymmetric = false;
// Runs during static initialisation of the library, before main() and before any fork.
static Init g_init;

bool asymmetric_release() noexcept { return g_asymmetric; }

void throw_nan_timeout() { throw std::invalid_argument("ipcsync: a timeout is NaN"); }

void heavy_barrier() noexcept {
  if (g_membarrier_supported) membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED);
}

bool thread_alive(uint32_t id) noexcept {
  if (id == 0) return false;
  if (kill(static_cast<pid_t>(id), 0) == -1 && errno == ESRCH) return false;
  // A killed process stays a zombie until its parent reaps it; /proc/<tid>/stat says 'Z' (or
  // 'X'). The state is the first field after the ")" closing the command name.
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%u/stat", id);
  FILE* f = std::fopen(path, "re");
  if (!f) return errno != ENOENT;
  char buf[512];
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char* close = std::strrchr(buf, ')');
  if (!close || close[1] != ' ') return true;
  return close[2] != 'Z' && close[2] != 'X';
}

bool thread_exited(uint32_t id) noexcept {
  return id != 0 && kill(static_cast<pid_t>(id), 0) == -1 && errno == ESRCH;
}

uint32_t refresh_self_id() noexcept {
  t_self_id = static_cast<uint32_t>(gettid());
  return t_self_id;
}
}  // namespace detail

SpinCalibration spin_calibration() noexcept {
  static const SpinCalibration c = calibrate();
  return c;
}

uint32_t spin_limit() noexcept {
  static const uint32_t limit = spin_calibration().limit_pauses;
  return limit;
}

uint32_t max_backoff() noexcept {
  static const uint32_t cap = spin_calibration().backoff_pauses;
  return cap;
}

wait_status futex_wait(const detail::atomic<uint32_t>& word, uint32_t expected, deadline until) noexcept {
  if (until == kNoDeadline) {
    // FUTEX_WAIT (no timeout): returns 0 on wake, EAGAIN if the value differs, EINTR on a signal.
    sys_futex(&word, FUTEX_WAIT, expected, nullptr, 0);
    return wait_status::woken;
  }
  // FUTEX_WAIT_BITSET takes an *absolute* timeout on CLOCK_MONOTONIC, so retries after EINTR
  // never extend the deadline.
  if (mono_clock::now() >= until) return wait_status::timed_out;
  const timespec ts = to_timespec(until);
  if (sys_futex(&word, FUTEX_WAIT_BITSET, expected, &ts, FUTEX_BITSET_MATCH_ANY) == -1 &&
      errno == ETIMEDOUT)
    return wait_status::timed_out;
  return wait_status::woken;
}

int futex_wake(const detail::atomic<uint32_t>& word, int n) noexcept {
  const long r = sys_futex(&word, FUTEX_WAKE, static_cast<uint32_t>(n), nullptr, 0);
  return r < 0 ? 0 : static_cast<int>(r);
}

}  // namespace ipcsync

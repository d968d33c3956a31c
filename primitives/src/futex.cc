// futex.cc — the syscall side of futex.hpp.
#include "ipcsync/futex.hpp"

#include <linux/futex.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <signal.h>

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

uint32_t read_spin_limit() noexcept {
  if (const char* s = std::getenv("IPCSYNC_SPIN")) {
    char* end = nullptr;
    const unsigned long v = std::strtoul(s, &end, 10);
    if (end != s && *end == '\0' && v <= 1'000'000) return static_cast<uint32_t>(v);
  }
  return kDefaultSpinLimit;
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

uint32_t max_backoff() noexcept {
  static const uint32_t cap = [] {
    if (const char* s = std::getenv("IPCSYNC_BACKOFF")) {
      char* end = nullptr;
      const unsigned long v = std::strtoul(s, &end, 10);
      if (end != s && *end == '\0' && v >= 1 && v <= 4096) return static_cast<uint32_t>(v);
    }
    return kMaxBackoff;
  }();
  return cap;
}

uint32_t spin_limit() noexcept {
  static const uint32_t limit = read_spin_limit();
  return limit;
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

// runner.cc — process spawning, pinning, start gate, watchdog and result collection.
#include "harness/runner.hpp"

#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <functional>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <thread>

#include <nlohmann/json.hpp>

#include "harness/noise.hpp"
#include "harness/paths.hpp"
#include "ipcsync/futex.hpp"
#include "ipcsync/shm.hpp"

namespace ipcsync::harness {
namespace {

constexpr double kGateTimeoutS = 10.0;  // all workers must be forked, pinned and ready by then
constexpr double kCrashGraceS = 2.0;    // after a crash, how long the others get to stop

std::string now_iso8601() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

double mono_s() { return static_cast<double>(Clock::mono_ns()) * 1e-9; }

std::size_t round_up(std::size_t n, std::size_t a) { return (n + a - 1) / a * a; }

// How a forked child of bench ends: its exit status, which the parent maps to the run's status.
enum class ChildExit : int {
  ok = 0,
  threw = 3,          // the workload threw: `error`, the message is in the worker's slot
  cannot_bind = 4,    // pinning to its PU failed: `error`, the message is in the slot
  ready_pipe = 5,     // could not tell the parent it is ready: `crashed`
  orphaned = 97,      // the parent died before PR_SET_PDEATHSIG took effect
  exec_failed = 127,  // the python backend's interpreter could not be run (the shell's code)
};
[[noreturn]] void exit_child(ChildExit e) { _exit(static_cast<int>(e)); }
constexpr bool exited_with(int wstatus, ChildExit e) {
  return WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == static_cast<int>(e);
}

// record_cpu(): the calling worker thread's CPU time and context switches so far, into its
// slot (a forked worker is one thread, so this is the whole process).
void record_cpu(WorkerSlot* slot) noexcept {
  rusage ru{};
  if (getrusage(RUSAGE_THREAD, &ru) != 0) return;
  auto ns = [](const timeval& t) {
    return static_cast<uint64_t>(t.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(t.tv_usec) * 1000u;
  };
  slot->cpu_user_ns = ns(ru.ru_utime);
  slot->cpu_sys_ns = ns(ru.ru_stime);
  slot->vcsw = static_cast<uint64_t>(ru.ru_nvcsw);
  slot->ivcsw = static_cast<uint64_t>(ru.ru_nivcsw);
}

// A worker's whole life after fork. Never returns.
[[noreturn]] void worker_main(const Instance& inst, void* shared, const RunConfig& cfg, Control* ctl,
                              WorkerSlot* slot, int index, int pu, const Topology& topo, SignalGate& gate,
                              int ready_w, int ready_r, pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) exit_child(ChildExit::orphaned);
  close(gate.fd());
  close(ready_r);
  signal(SIGINT, SIG_IGN);  // Ctrl-C reaches the whole process group; the parent handles it
  sigprocmask(SIG_SETMASK, &gate.old_mask(), nullptr);

  // Pin before touching shared state.
  if (pu >= 0 && !topo.bind_self(pu)) {
    std::snprintf(slot->message, sizeof slot->message, "cannot bind worker %d to PU %d", index, pu);
    slot->error = 1;
    exit_child(ChildExit::cannot_bind);
  }
  const char ready = 'r';
  if (write(ready_w, &ready, 1) != 1) exit_child(ChildExit::ready_pipe);
  close(ready_w);
  while (ctl->go.load(std::memory_order_acquire) == 0) futex_wait(ctl->go, 0);

  WorkerEnv env;
  env.index = index;
  env.nprocs = cfg.procs;
  env.cfg = &cfg;
  env.ctl = ctl;
  env.window.bind(slot, cfg.sample_every);
  try {
    inst.body(shared, env);
    env.window.close();
  } catch (const std::exception& e) {
    std::snprintf(slot->message, sizeof slot->message, "worker %d: %s", index, e.what());
    slot->error = 1;
    exit_child(ChildExit::threw);
  }
  slot->pu = sched_getcpu();
  record_cpu(slot);
  exit_child(ChildExit::ok);
}

struct Child {
  pid_t pid = -1;
  bool reaped = false;
  int status = 0;
};

}  // namespace

SignalGate::SignalGate() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGCHLD}) sigaddset(&set, s);
  if (sigprocmask(SIG_BLOCK, &set, &old_) != 0) throw std::system_error(errno, std::generic_category(), "sigprocmask");
  fd_ = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "signalfd");
}

SignalGate::~SignalGate() {
  if (fd_ >= 0) close(fd_);
  sigprocmask(SIG_SETMASK, &old_, nullptr);
}

void SignalGate::check() {
  signalfd_siginfo si;
  while (read(fd_, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
    if (si.ssi_signo != SIGCHLD) throw interrupted(static_cast<int>(si.ssi_signo));
  }
}

namespace {

// The shared mapping of one run: [Control][WorkerSlot x n][workload state].
struct Arena {
  AnonymousRegion region;
  Control* ctl;
  WorkerSlot* slots;
  void* shared;
  explicit Arena(std::size_t n, std::size_t shared_bytes)
      : region(round_up(round_up(sizeof(Control), 256) + sizeof(WorkerSlot) * n, 256) + shared_bytes + 256) {
    char* base = static_cast<char*>(region.data());
    const std::size_t slots_off = round_up(sizeof(Control), 256);
    ctl = ::new (base) Control();
    slots = reinterpret_cast<WorkerSlot*>(base + slots_off);
    for (std::size_t i = 0; i < n; ++i) ::new (&slots[i]) WorkerSlot();
    shared = base + round_up(slots_off + sizeof(WorkerSlot) * n, 256);
  }
};

// Waits on the signalfd (and optionally one more fd) until `until` (monotonic seconds).
// Returns 0 on the timer, 1 when `extra_fd` is readable, 2 when a child changed state.
// Throws interrupted on SIGINT/SIGTERM/SIGHUP.
int wait_event(SignalGate& gate, double until, int extra_fd) {
  for (;;) {
    const double left = until - mono_s();
    if (left <= 0) return 0;
    pollfd p[2] = {{gate.fd(), POLLIN, 0}, {extra_fd, POLLIN, 0}};
    const int rc = poll(p, extra_fd >= 0 ? 2 : 1, static_cast<int>(std::ceil(left * 1000)));
    if (rc < 0 && errno != EINTR) throw std::system_error(errno, std::generic_category(), "poll");
    if (rc <= 0) continue;
    if (p[0].revents) {
      signalfd_siginfo si;
      bool chld = false;
      while (read(gate.fd(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
        if (si.ssi_signo == SIGCHLD)
          chld = true;
        else
          throw interrupted(static_cast<int>(si.ssi_signo));
      }
      if (chld) return 2;
    }
    if (extra_fd >= 0 && p[1].revents) return 1;
  }
}

// The warm-up -> measure -> stop timeline, driven from the parent. `on_event` handles a child
// state change (returns true when every worker has finished); `finished` polls completion
// (thread mode). Returns false when the watchdog fired.
template <class OnChild, class Finished>
bool drive_phases(Control* ctl, const RunConfig& cfg, SignalGate& gate, double t_go, double timeout_s,
                  double poll_s, OnChild&& on_child, Finished&& finished) {
  const double t_measure = t_go + cfg.warmup_s;
  const bool timed = cfg.ops_per_worker == 0;
  const double t_stop = t_measure + (timed ? cfg.duration_s : 0);
  const double t_watchdog = t_go + timeout_s;
  for (;;) {
    if (finished()) return true;
    const uint32_t phase = ctl->phase.load(std::memory_order_relaxed);
    double next = t_watchdog;
    if (phase == Control::kWarmup) next = std::min(next, t_measure);
    else if (phase == Control::kMeasure && timed) next = std::min(next, t_stop);
    if (poll_s > 0) next = std::min(next, mono_s() + poll_s);
    if (wait_event(gate, next, -1) == 2) {
      if (on_child()) return true;
      continue;
    }
    const double now = mono_s();
    if (now >= t_watchdog) return false;
    if (phase == Control::kWarmup && now >= t_measure)
      ctl->phase.store(Control::kMeasure, std::memory_order_relaxed);
    else if (phase == Control::kMeasure && timed && now >= t_stop)
      ctl->phase.store(Control::kStop, std::memory_order_relaxed);
  }
}

// Fills r's throughput, spread and fairness from per-worker measured ops and the union of the
// workers' measured windows (CLOCK_MONOTONIC ns).
void summarize(RunResult& r, const std::vector<uint64_t>& ops, uint64_t begin_ns, uint64_t end_ns) {
  double sum = 0, sumsq = 0;
  r.ops = 0;
  r.ops_min = UINT64_MAX;
  r.ops_max = 0;
  for (uint64_t o : ops) {
    r.ops += o;
    r.ops_min = std::min(r.ops_min, o);
    r.ops_max = std::max(r.ops_max, o);
    sum += static_cast<double>(o);
    sumsq += static_cast<double>(o) * static_cast<double>(o);
  }
  r.seconds = end_ns > begin_ns ? static_cast<double>(end_ns - begin_ns) * 1e-9 : 0;
  r.ops_per_sec = r.seconds > 0 ? static_cast<double>(r.ops) / r.seconds : 0;
  r.fairness = sumsq > 0 ? sum * sum / (static_cast<double>(ops.size()) * sumsq) : 0;
}

// The run's measured window: the union of the workers' non-empty windows. A worker that
// measured nothing (a stage that never received a measured item, a worker that had no part)
// closes an empty window wherever it stops, which must neither stretch nor shrink the run's.
struct WindowUnion {
  uint64_t begin = UINT64_MAX, end = 0;
  void add(uint64_t b, uint64_t e) {
    if (e <= b) return;
    begin = std::min(begin, b);
    end = std::max(end, e);
  }
};

// Sums the slots into r and verifies.
void collect(RunResult& r, const Instance& inst, const RunConfig& cfg, const Arena& a) {
  Totals tot;
  WindowUnion window;
  std::vector<uint64_t> ops;
  for (int i = 0; i < cfg.procs; ++i) {
    const WorkerSlot& s = a.slots[i];
    tot.ops += s.ops;
    tot.warm_ops += s.warm_ops;
    tot.per_worker_ops.push_back(s.ops + s.warm_ops);
    ops.push_back(s.ops);
    window.add(s.begin_ns, s.end_ns);
    r.latency.merge(s.latency);
    r.wakeup.merge(s.wakeup);
    r.cpu_user_s += static_cast<double>(s.cpu_user_ns) * 1e-9;
    r.cpu_sys_s += static_cast<double>(s.cpu_sys_ns) * 1e-9;
    r.vcsw += s.vcsw;
    r.ivcsw += s.ivcsw;
  }
  r.have_cpu = true;
  r.warm_ops = tot.warm_ops;
  summarize(r, ops, window.begin, window.end);
  VerifyResult v;
  try {
    v = inst.verify(a.shared, cfg, tot);
  } catch (const std::exception& e) {  // e.g. RunConfig::param() of an undeclared key
    r.status = RunStatus::error;
    r.detail = std::string("verify: ") + e.what();
    return;
  }
  r.detail = v.detail;
  if (!v.ok) r.status = RunStatus::verify_failed;
}

WorkerEnv make_env(const RunConfig& cfg, const Arena& a, int i) {
  WorkerEnv env;
  env.index = i;
  env.nprocs = cfg.procs;
  env.cfg = &cfg;
  env.ctl = a.ctl;
  env.window.bind(&a.slots[i], cfg.sample_every);
  return env;
}

// ---- process mode -------------------------------------------------------------------------

void run_processes(RunResult& r, const Instance& inst, const RunConfig& cfg, const PinPlan& plan,
                   const Topology& topo, SignalGate& gate, double timeout_s, Arena& a) {
  const int n = cfg.procs;
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  struct Fds {
    int* f;
    ~Fds() {
      if (f[0] >= 0) close(f[0]);
      if (f[1] >= 0) close(f[1]);
    }
  } fds{pipefd};

  std::vector<Child> kids(static_cast<std::size_t>(n));
  const pid_t parent = getpid();
  std::fflush(nullptr);
  auto kill_all = [&] {
    for (auto& k : kids)
      if (k.pid > 0 && !k.reaped) kill(k.pid, SIGKILL);
  };
  auto reap = [&](bool block) {
    int live = 0;
    for (auto& k : kids) {
      if (k.pid <= 0 || k.reaped) continue;
      int st = 0;
      pid_t w;
      do {
        w = waitpid(k.pid, &st, block ? 0 : WNOHANG);
      } while (w < 0 && errno == EINTR);
      if (w == k.pid) {
        k.reaped = true;
        k.status = st;
      } else {
        ++live;
      }
    }
    return live;
  };
  // Any exit path below (exceptions included) kills and reaps every child.
  struct Reaper {
    std::function<void()> f;
    ~Reaper() { f(); }
  } reaper{[&] {
    kill_all();
    reap(true);
  }};

  for (int i = 0; i < n; ++i) {
    const int pu = plan.pu_of.empty() ? -1 : plan.pu_of[static_cast<std::size_t>(i)];
    const pid_t pid = fork();
    if (pid < 0) {
      // This configuration cannot have its workers (e.g. RLIMIT_NPROC): kill and reap the ones
      // already forked; the row says why, and the sweep goes on.
      const int err = errno;
      kill_all();
      reap(true);
      r.status = RunStatus::error;
      r.detail = "cannot fork worker " + std::to_string(i) + " of " + std::to_string(n) + ": " + std::strerror(err) +
                 " (the " + std::to_string(i) + " already forked were killed and reaped)";
      return;
    }
    if (pid == 0)
      worker_main(inst, a.shared, cfg, a.ctl, &a.slots[i], i, pu, topo, gate, pipefd[1], pipefd[0], parent);
    kids[static_cast<std::size_t>(i)].pid = pid;
  }
  close(pipefd[1]);
  pipefd[1] = -1;

  auto fail_from_children = [&]() -> bool {
    for (std::size_t i = 0; i < kids.size(); ++i) {
      const auto& k = kids[i];
      if (!k.reaped) continue;
      if (WIFSIGNALED(k.status)) {
        r.status = RunStatus::crashed;
        r.detail = "worker " + std::to_string(i) + " killed by signal " + std::to_string(WTERMSIG(k.status)) + " (" +
                   strsignal(WTERMSIG(k.status)) + ")";
        return true;
      }
      if (WIFEXITED(k.status) && WEXITSTATUS(k.status) != 0) {
        r.status = exited_with(k.status, ChildExit::threw) || exited_with(k.status, ChildExit::cannot_bind)
                       ? RunStatus::error
                       : RunStatus::crashed;
        r.detail = a.slots[i].error ? std::string(a.slots[i].message)
                                    : "worker " + std::to_string(i) + " exited with status " +
                                          std::to_string(WEXITSTATUS(k.status));
        return true;
      }
    }
    return false;
  };

  // 1. Start gate: every worker forked, pinned and ready.
  int ready = 0;
  const double gate_deadline = mono_s() + kGateTimeoutS;
  while (ready < n) {
    const int ev = wait_event(gate, gate_deadline, pipefd[0]);
    if (ev == 0) {
      r.status = RunStatus::timeout;
      r.detail = "only " + std::to_string(ready) + " of " + std::to_string(n) + " workers became ready";
      return;
    }
    if (ev == 1) {
      char buf[256];
      const ssize_t got = read(pipefd[0], buf, sizeof buf);
      if (got > 0) ready += static_cast<int>(got);
    } else {
      reap(false);
      if (fail_from_children()) return;
    }
  }
  a.ctl->go.store(1, std::memory_order_release);
  futex_wake(a.ctl->go, kWakeAll);

  // 2. Warm-up, measure, stop, with the watchdog behind it all.
  bool failed = false;
  const bool done = drive_phases(a.ctl, cfg, gate, mono_s(), timeout_s, 0, [&] {
    if (reap(false) == 0) return true;
    failed = fail_from_children();
    return failed;
  }, [] { return false; });
  if (failed) {
    // A worker crashed: stop the others, give them kCrashGraceS, then kill what is left.
    a.ctl->phase.store(Control::kStop, std::memory_order_relaxed);
    const double until = mono_s() + kCrashGraceS;
    while (reap(false) > 0 && wait_event(gate, until, -1) != 0) {
    }
    return;  // the Reaper kills and reaps the rest; r says crashed
  }
  if (!done) {
    kill_all();
    reap(true);
    r.status = RunStatus::timeout;
    r.detail = "run exceeded the " + std::to_string(timeout_s) + " s watchdog; workers killed";
    return;
  }
  if (fail_from_children()) return;
  collect(r, inst, cfg, a);
}

// ---- thread mode --------------------------------------------------------------------------
// The same body on threads of this process (will-it-scale's threads mode): the gap to process
// mode is itself a result. A thread cannot be killed: a crash takes bench down, and a thread
// that outlives the watchdog ends the whole process (thread_hang) after its row is written.

void run_threads(RunResult& r, const Instance& inst, const RunConfig& cfg, const PinPlan& plan,
                 const Topology& topo, SignalGate& gate, double timeout_s, Arena& a) {
  const int n = cfg.procs;
  std::atomic<int> ready{0}, finished{0}, bind_failed{-1};
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    const int pu = plan.pu_of.empty() ? -1 : plan.pu_of[static_cast<std::size_t>(i)];
    threads.emplace_back([&, i, pu] {
      if (pu >= 0 && !topo.bind_self(pu, true)) bind_failed.store(i);
      ready.fetch_add(1);
      while (a.ctl->go.load(std::memory_order_acquire) == 0) futex_wait(a.ctl->go, 0);
      if (bind_failed.load() < 0) {
        WorkerEnv env = make_env(cfg, a, i);
        try {
          inst.body(a.shared, env);
          env.window.close();
        } catch (const std::exception& e) {
          std::snprintf(a.slots[i].message, sizeof a.slots[i].message, "worker %d: %s", i, e.what());
          a.slots[i].error = 1;
          a.ctl->phase.store(Control::kStop, std::memory_order_relaxed);
        }
        a.slots[i].pu = sched_getcpu();
        record_cpu(&a.slots[i]);
      }
      finished.fetch_add(1);
    });
  }
  // Stops and joins every thread. Threads still running after the grace cannot be killed: they
  // are detached, the mapping they use is leaked (never unmapped under them), and the row says
  // so; bench then ends the process (RunResult::fatal).
  auto release_and_join = [&]() -> bool {
    a.ctl->phase.store(Control::kStop, std::memory_order_relaxed);
    a.ctl->go.store(1, std::memory_order_release);
    futex_wake(a.ctl->go, kWakeAll);
    const double until = mono_s() + kCrashGraceS;
    while (finished.load() < n && mono_s() < until) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (finished.load() < n) {
      for (auto& t : threads) t.detach();
      (void)new AnonymousRegion(std::move(a.region));
      r.status = RunStatus::timeout;
      r.detail = std::to_string(n - finished.load()) + " worker thread(s) did not stop; bench exits after this row";
      r.fatal = true;
      return false;
    }
    for (auto& t : threads) t.join();
    return true;
  };
  try {
    const double gate_deadline = mono_s() + kGateTimeoutS;
    while (ready.load() < n) {
      if (mono_s() > gate_deadline) throw std::runtime_error("threads did not become ready");
      wait_event(gate, mono_s() + 0.001, -1);
    }
    if (bind_failed.load() >= 0) {
      if (!release_and_join()) return;
      r.status = RunStatus::error;
      r.detail = "cannot bind thread " + std::to_string(bind_failed.load()) + " to its PU";
      return;
    }
    a.ctl->go.store(1, std::memory_order_release);
    futex_wake(a.ctl->go, kWakeAll);
    const bool done = drive_phases(a.ctl, cfg, gate, mono_s(), timeout_s, 0.01, [] { return false; },
                                   [&] { return finished.load() == n; });
    if (!release_and_join()) return;
    if (!done) {
      r.status = RunStatus::timeout;
      r.detail = "run exceeded the " + std::to_string(timeout_s) + " s watchdog";
    }
  } catch (const interrupted& e) {
    if (!release_and_join()) _exit(128 + e.signo());  // hung threads: nothing safe is left to do
    throw;
  }
  for (int i = 0; i < n; ++i)
    if (a.slots[i].error) {
      r.status = RunStatus::error;
      r.detail = a.slots[i].message;
      return;
    }
  if (r.status == RunStatus::ok) collect(r, inst, cfg, a);
}

// ---- the python backend ---------------------------------------------------------------------
// scripts/mp_backend.py runs the workload with Python's multiprocessing and prints one JSON
// result. It runs in a process group of its own (so Ctrl-C on the terminal reaches only bench),
// dies with bench (PR_SET_PDEATHSIG; its multiprocessing workers set it too, towards the driver),
// and on a timeout or a signal the whole group is SIGKILLed. Its output is checked field by
// field (read_python_result): anything but the documented result is an `error` row.

std::string mp_backend_script() {
  if (const char* p = std::getenv("IPCSYNC_MP_BACKEND")) return p;
  return script_path("mp_backend.py");
}

// malformed: the python backend's JSON is not the documented result (scripts/mp_backend.py).
struct malformed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string describe_status(int wstatus) {
  if (WIFSIGNALED(wstatus)) return std::string("killed by signal ") + std::to_string(WTERMSIG(wstatus));
  return "exit status " + std::to_string(WEXITSTATUS(wstatus));
}

// excerpt(): the start of the driver's output, printable and short, for a row's detail.
std::string excerpt(const std::string& text) {
  std::string e;
  for (char c : text.substr(0, 80)) e += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  if (text.size() > 80) e += "...";
  return "'" + e + "'";
}

const nlohmann::json& field(const nlohmann::json& o, const char* key, const std::string& where) {
  const auto it = o.find(key);
  if (it == o.end()) throw malformed(where + " has no \"" + key + "\"");
  return *it;
}

uint64_t u64_field(const nlohmann::json& o, const char* key, const std::string& where) {
  const nlohmann::json& v = field(o, key, where);
  if (!v.is_number_unsigned()) throw malformed(where + "." + key + " is not a non-negative integer");
  return v.get<uint64_t>();
}

void add_histogram(LogHistogram& h, const nlohmann::json& counts, uint64_t lo, uint64_t hi, const std::string& where) {
  if (!counts.is_object()) throw malformed(where + " is not an object");
  for (const auto& [key, count] : counts.items()) {
    std::size_t bucket = 0;
    const auto [p, ec] = std::from_chars(key.data(), key.data() + key.size(), bucket);
    if (key.empty() || ec != std::errc() || p != key.data() + key.size() || bucket >= LogHistogram::kBuckets)
      throw malformed(where + " has bucket '" + key + "', not 0.." + std::to_string(LogHistogram::kBuckets - 1));
    if (!count.is_number_unsigned()) throw malformed(where + "[" + key + "] is not a non-negative integer");
    h.add_bucket(bucket, count.get<uint64_t>(), lo, hi);
  }
}

// read_python_result(): fills r from the driver's JSON, checking every field it reads (never
// operator[] on a key that may be missing); throws malformed naming the first bad one.
void read_python_result(RunResult& r, const nlohmann::json& res, const RunConfig& cfg) {
  if (const auto it = res.find("error"); it != res.end()) {
    // A worker killed by a signal or dying without a word is a crash, as on the other backends.
    const auto st = res.find("status");
    r.status = st != res.end() && st->is_string() && st->get<std::string>() == "crashed" ? RunStatus::crashed : RunStatus::error;
    r.detail = it->is_string() ? it->get<std::string>() : "python backend error: " + it->dump();
    if (r.detail.empty()) r.detail = "python backend reported an empty error";
    return;
  }
  const nlohmann::json& workers = field(res, "workers", "result");
  if (!workers.is_array()) throw malformed("result.workers is not an array");
  if (workers.size() != static_cast<std::size_t>(cfg.procs))
    throw malformed("result.workers has " + std::to_string(workers.size()) + " entries for --procs " +
                    std::to_string(cfg.procs));
  std::vector<uint64_t> ops;
  WindowUnion window;
  // CPU time and context switches: every worker reports them (getrusage), or the row has none.
  bool cpu = true;
  double user = 0, sys = 0;
  uint64_t vcsw = 0, ivcsw = 0, warm = 0;
  for (std::size_t i = 0; i < workers.size(); ++i) {
    const nlohmann::json& w = workers[i];
    const std::string where = "workers[" + std::to_string(i) + "]";
    if (!w.is_object()) throw malformed(where + " is not an object");
    ops.push_back(u64_field(w, "ops", where));
    warm += u64_field(w, "warm_ops", where);
    if (w.contains("cpu_user_ns")) {
      user += static_cast<double>(u64_field(w, "cpu_user_ns", where)) * 1e-9;
      sys += static_cast<double>(u64_field(w, "cpu_sys_ns", where)) * 1e-9;
      vcsw += u64_field(w, "vcsw", where);
      ivcsw += u64_field(w, "ivcsw", where);
    } else {
      cpu = false;
    }
    window.add(u64_field(w, "begin_ns", where), u64_field(w, "end_ns", where));
    const uint64_t lo = u64_field(w, "min_ns", where), hi = u64_field(w, "max_ns", where);
    add_histogram(r.latency, field(w, "hist", where), lo, hi, where + ".hist");
    // Optional: wake-up latency (WorkerSlot::wakeup), for workloads that record it.
    if (w.contains("wake_hist"))
      add_histogram(r.wakeup, w.at("wake_hist"), u64_field(w, "wake_min_ns", where), u64_field(w, "wake_max_ns", where),
                    where + ".wake_hist");
  }
  const nlohmann::json& verify = field(res, "verify", "result");
  if (!verify.is_object()) throw malformed("result.verify is not an object");
  const nlohmann::json& ok = field(verify, "ok", "result.verify");
  const nlohmann::json& detail = field(verify, "detail", "result.verify");
  if (!ok.is_boolean()) throw malformed("result.verify.ok is not a boolean");
  if (!detail.is_string()) throw malformed("result.verify.detail is not a string");
  if (const auto it = res.find("clock_overhead_ns"); it != res.end()) {
    if (!it->is_number() || !(it->get<double>() >= 0)) throw malformed("result.clock_overhead_ns is not a number >= 0");
    r.clock_overhead_ns = it->get<double>();
  }
  summarize(r, ops, window.begin, window.end);
  r.warm_ops = warm;
  if (cpu) {
    r.have_cpu = true;
    r.cpu_user_s = user;
    r.cpu_sys_s = sys;
    r.vcsw = vcsw;
    r.ivcsw = ivcsw;
  }
  r.detail = detail.get<std::string>();
  if (!ok.get<bool>()) r.status = RunStatus::verify_failed;
}

void run_python(RunResult& r, const RunConfig& cfg, const PinPlan& plan, SignalGate& gate, double timeout_s) {
  nlohmann::json j{{"workload", cfg.workload},   {"primitive", cfg.primitive},     {"procs", cfg.procs},
                   {"pus", plan.pu_of},          {"warmup_s", cfg.warmup_s},       {"duration_s", cfg.duration_s},
                   {"ops_per_worker", cfg.ops_per_worker}, {"sample_every", cfg.sample_every},
                   {"params", cfg.params},       {"unsafe", cfg.unsafe},           {"fault", cfg.fault}};
  const std::string input = j.dump();
  const std::string script = mp_backend_script();
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  if (pipe2(out, O_CLOEXEC) != 0) {
    const int err = errno;
    close(in[0]);
    close(in[1]);
    throw std::system_error(err, std::generic_category(), "pipe");  // this run's error row
  }
  const pid_t parent = getpid();
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    for (int fd : {in[0], in[1], out[0], out[1]}) close(fd);
    r.status = RunStatus::error;
    r.detail = std::string("cannot fork the python backend: ") + std::strerror(err);
    return;
  }
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) exit_child(ChildExit::orphaned);
    sigprocmask(SIG_SETMASK, &gate.old_mask(), nullptr);
    dup2(in[0], 0);
    dup2(out[1], 1);
    execl(cfg.python.c_str(), cfg.python.c_str(), script.c_str(), static_cast<char*>(nullptr));
    exit_child(ChildExit::exec_failed);
  }
  setpgid(pid, pid);
  close(in[0]);
  close(out[1]);
  bool reaped = false;
  int wstatus = 0;
  struct Cleanup {
    std::function<void()> f;
    ~Cleanup() { f(); }
  } cleanup{[&] {
    close(out[0]);
    if (!reaped) {
      killpg(pid, SIGKILL);
      while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
      }
    }
  }};
  // The config is small (far below the pipe buffer): write it whole, then close.
  if (write(in[1], input.data(), input.size()) != static_cast<ssize_t>(input.size())) {
    close(in[1]);
    r.status = RunStatus::error;
    r.detail = "cannot send the run configuration to " + cfg.python;
    return;
  }
  close(in[1]);

  std::string text;
  const double deadline = mono_s() + timeout_s;
  for (;;) {
    const int ev = wait_event(gate, deadline, out[0]);  // throws interrupted: Cleanup kills the group
    if (ev == 0) {
      r.status = RunStatus::timeout;
      r.detail = "python backend exceeded the " + std::to_string(timeout_s) + " s watchdog; killed";
      return;
    }
    if (ev != 1) continue;
    char buf[65536];
    const ssize_t n = read(out[0], buf, sizeof buf);
    if (n > 0) {
      text.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) break;
    if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "read");
  }
  killpg(pid, SIGKILL);  // the driver has printed; nothing of its group may outlive the run
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  reaped = true;
  const nlohmann::json res = nlohmann::json::parse(text, nullptr, false);
  if (res.is_discarded() || !res.is_object()) {
    r.status = RunStatus::error;
    if (exited_with(wstatus, ChildExit::exec_failed))
      r.detail = "cannot run " + cfg.python + " " + script;
    else if (text.find_first_not_of(" \t\r\n") == std::string::npos)
      r.detail = "python backend printed no result (" + describe_status(wstatus) + ")";
    else
      r.detail = "python backend printed no JSON object (" + describe_status(wstatus) + "): " + excerpt(text);
    return;
  }
  RunResult parsed = r;  // r keeps no half-read numbers when the result is malformed
  try {
    read_python_result(parsed, res, cfg);
    r = std::move(parsed);
  } catch (const malformed& e) {
    r.status = RunStatus::error;
    r.detail = std::string("python backend printed a malformed result: ") + e.what() + ": " + excerpt(text);
  }
}

// check_window(): a verified row is `ok` only if it measured something real: at least one op,
// and (for a timed run) a measured window covering at least kMinWindowFraction of the requested
// --duration. Otherwise it is `short_window`, with the reason first in detail; the scripts
// leave such rows out of every statistic and count them. A window shrinks when the workers
// could not run during it (a loaded machine: every worker descheduled, or parked behind a
// descheduled holder, until the stop) — a figure computed from it would be noise.
constexpr double kMinWindowFraction = 0.9;
void check_window(RunResult& r, const RunConfig& cfg) {
  std::string why;
  char b[160];
  if (r.ops == 0) {
    std::snprintf(b, sizeof b, "no op completed in the measured window (%.6f s)", r.seconds);
    why = b;
  } else if (cfg.ops_per_worker == 0 && r.seconds < kMinWindowFraction * cfg.duration_s) {
    std::snprintf(b, sizeof b, "measured window %.6f s is under %.0f%% of the requested %g s (%llu ops)", r.seconds,
                  kMinWindowFraction * 100, cfg.duration_s, static_cast<unsigned long long>(r.ops));
    why = b;
  }
  if (why.empty()) return;
  r.status = RunStatus::short_window;
  r.detail = r.detail.empty() ? why : why + "; " + r.detail;
}

}  // namespace

namespace {
void run_one(RunResult& r, const Instance& inst, const RunConfig& cfg, const PinPlan& plan, const Topology& topo,
             SignalGate& gate, double timeout_s);
}  // namespace

RunResult run_once(const Instance& inst, const RunConfig& cfg, const PinPlan& plan, const Topology& topo,
                   SignalGate& gate, double timeout_s) {
  gate.check();
  RunResult r;
  r.cfg = cfg;
  r.pin = plan.policy;
  r.pus = plan.pu_of;
  r.oversubscribed = plan.oversubscribed;
  r.timestamp = now_iso8601();
  r.clock_overhead_ns = inst.python ? 0 : Clock::overhead_ns();  // the python backend reports its own
  r.load1 = load1();
  const NoiseSample before = sample_noise(topo.pus());
  // Whatever goes wrong in one configuration (a failed pipe, mmap or fork, a workload that reads
  // a parameter it did not declare, ...) is this row's `error`, and the sweep goes on; only a
  // signal (interrupted) ends it. Every worker is killed and reaped on the way out.
  try {
    run_one(r, inst, cfg, plan, topo, gate, timeout_s);
  } catch (const interrupted&) {
    throw;
  } catch (const std::exception& e) {
    r.status = RunStatus::error;
    r.detail = e.what();
    // Threads of a failed thread-mode run may still be running on memory about to be freed:
    // bench must end after this row (as for hung threads).
    if (cfg.mode == "threads") r.fatal = true;
  }
  const Noise noise = noise_between(before, sample_noise(topo.pus()));
  if (noise.valid) {
    r.have_noise = true;
    r.steal_pct = noise.steal_pct;
    r.others_pct = noise.others_pct;
    r.noisy = noise.steal_pct > kNoisyStealPct || noise.others_pct > kNoisyOthersPct;
  }
  if (r.status == RunStatus::ok) check_window(r, cfg);
  return r;
}

namespace {

void run_one(RunResult& r, const Instance& inst, const RunConfig& cfg, const PinPlan& plan, const Topology& topo,
             SignalGate& gate, double timeout_s) {
  if (inst.python) {
    run_python(r, cfg, plan, gate, timeout_s);
    return;
  }
  Arena arena(static_cast<std::size_t>(cfg.procs), inst.shared_bytes);
  try {
    inst.init(arena.shared, cfg);
  } catch (const std::exception& e) {
    // The backend refused the configuration (e.g. a POSIX mqueue above the system's limits):
    // that is this row's result, and the matrix goes on.
    r.status = RunStatus::error;
    r.detail = std::string("setup: ") + e.what();
    return;
  }
  struct Destroy {
    const Instance& inst;
    void* shared;
    ~Destroy() { inst.destroy(shared); }
  } destroy{inst, arena.shared};
  if (cfg.mode == "threads")
    run_threads(r, inst, cfg, plan, topo, gate, timeout_s, arena);
  else
    run_processes(r, inst, cfg, plan, topo, gate, timeout_s, arena);
}

}  // namespace
LoopOverhead measure_loop_overhead(uint32_t sample_every, int repetitions, double window_ms) {
  LoopOverhead lo;
  lo.sample_every = sample_every;
  lo.repetitions = repetitions;
  lo.window_ms = window_ms;
  std::vector<double> per_op;
  for (int r = 0; r < repetitions; ++r) {
    auto ctl = std::make_unique<Control>();
    auto slot = std::make_unique<WorkerSlot>();
    RunConfig cfg;
    cfg.sample_every = sample_every;
    WorkerEnv env;
    env.cfg = &cfg;
    env.ctl = ctl.get();
    env.window.bind(slot.get(), sample_every);
    ctl->phase.store(Control::kMeasure, std::memory_order_relaxed);  // no warm-up
    std::thread stopper([&] {
      std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(window_ms));
      ctl->phase.store(Control::kStop, std::memory_order_relaxed);
    });
    run_ops(env, [] { asm volatile("" ::: "memory"); }, [] {});
    stopper.join();
    if (slot->ops > 0 && slot->end_ns > slot->begin_ns)
      per_op.push_back(static_cast<double>(slot->end_ns - slot->begin_ns) / static_cast<double>(slot->ops));
  }
  if (!per_op.empty()) {
    std::sort(per_op.begin(), per_op.end());
    lo.ns_per_op = per_op[per_op.size() / 2];
  }
  return lo;
}

}  // namespace ipcsync::harness

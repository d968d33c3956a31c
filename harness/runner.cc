// runner.cc — process spawning, pinning, start gate, watchdog and result collection.
#include "harness/runner.hpp"

#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <functional>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <system_error>

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

// A worker's whole life after fork. Never returns.
[[noreturn]] void worker_main(const Instance& inst, void* shared, const RunConfig& cfg, Control* ctl,
                              WorkerSlot* slot, int index, int pu, const Topology& topo, SignalGate& gate,
                              int ready_w, int ready_r, pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(97);  // the parent died before prctl took effect
  close(gate.fd());
  close(ready_r);
  signal(SIGINT, SIG_IGN);  // Ctrl-C reaches the whole process group; the parent handles it
  sigprocmask(SIG_SETMASK, &gate.old_mask(), nullptr);

  // Pin before touching shared state.
  if (pu >= 0 && !topo.bind_self(pu)) {
    std::snprintf(slot->message, sizeof slot->message, "cannot bind worker %d to PU %d", index, pu);
    slot->error = 1;
    _exit(4);
  }
  const char ready = 'r';
  if (write(ready_w, &ready, 1) != 1) _exit(5);
  close(ready_w);
  while (ctl->go.load(std::memory_order_acquire) == 0) futex_wait(ctl->go, 0);

  WorkerEnv env;
  env.index = index;
  env.nprocs = cfg.procs;
  env.cfg = &cfg;
  env.ctl = ctl;
  env.slot = slot;
  try {
    inst.body(shared, env);
  } catch (const std::exception& e) {
    std::snprintf(slot->message, sizeof slot->message, "worker %d: %s", index, e.what());
    slot->error = 1;
    _exit(3);
  }
  slot->pu = sched_getcpu();
  _exit(0);
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

RunResult run_once(const Instance& inst, const RunConfig& cfg, const PinPlan& plan, const Topology& topo,
                   SignalGate& gate, double timeout_s) {
  gate.check();
  RunResult r;
  r.cfg = cfg;
  r.pin = plan.policy;
  r.pus = plan.pu_of;
  r.oversubscribed = plan.oversubscribed;
  r.timestamp = now_iso8601();
  const int n = cfg.procs;

  // Layout: [Control][WorkerSlot x n][workload state]
  const std::size_t slots_off = round_up(sizeof(Control), 256);
  const std::size_t shared_off = round_up(slots_off + sizeof(WorkerSlot) * static_cast<std::size_t>(n), 256);
  AnonymousRegion region(shared_off + inst.shared_bytes + 256);
  char* base = static_cast<char*>(region.data());
  auto* ctl = ::new (base) Control();
  auto* slots = reinterpret_cast<WorkerSlot*>(base + slots_off);
  for (int i = 0; i < n; ++i) ::new (&slots[i]) WorkerSlot();
  void* shared = base + shared_off;
  inst.init(shared, cfg);
  struct Destroy {
    const Instance& inst;
    void* shared;
    ~Destroy() { inst.destroy(shared); }
  } destroy{inst, shared};

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
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid == 0)
      worker_main(inst, shared, cfg, ctl, &slots[i], i, pu, topo, gate, pipefd[1], pipefd[0], parent);
    kids[static_cast<std::size_t>(i)].pid = pid;
  }
  close(pipefd[1]);
  pipefd[1] = -1;

  // Wait on the signalfd (and optionally the ready pipe) until `until` (monotonic seconds).
  // Returns: 0 timer, 1 pipe readable, 2 a child changed state. Throws interrupted.
  auto wait_event = [&](double until, bool with_pipe) -> int {
    for (;;) {
      const double left = until - mono_s();
      if (left <= 0) return 0;
      pollfd p[2] = {{gate.fd(), POLLIN, 0}, {pipefd[0], POLLIN, 0}};
      const int rc = poll(p, with_pipe ? 2 : 1, static_cast<int>(std::ceil(left * 1000)));
      if (rc < 0 && errno != EINTR) throw std::system_error(errno, std::generic_category(), "poll");
      if (rc <= 0) continue;
      if (p[0].revents) {
        signalfd_siginfo si;
        bool chld = false;
        while (read(gate.fd(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
          if (si.ssi_signo == SIGCHLD)
            chld = true;
          else
            throw interrupted(static_cast<int>(si.ssi_signo));  // Reaper kills and reaps
        }
        if (chld) return 2;
      }
      if (with_pipe && p[1].revents) return 1;
    }
  };

  auto fail_from_children = [&]() -> bool {
    for (std::size_t i = 0; i < kids.size(); ++i) {
      const auto& k = kids[i];
      if (!k.reaped) continue;
      if (WIFSIGNALED(k.status)) {
        r.status = "crashed";
        r.detail = "worker " + std::to_string(i) + " killed by signal " + std::to_string(WTERMSIG(k.status)) + " (" +
                   strsignal(WTERMSIG(k.status)) + ")";
        return true;
      }
      if (WIFEXITED(k.status) && WEXITSTATUS(k.status) != 0) {
        r.status = WEXITSTATUS(k.status) == 3 || WEXITSTATUS(k.status) == 4 ? "error" : "crashed";
        r.detail = slots[i].error ? std::string(slots[i].message)
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
    const int ev = wait_event(gate_deadline, true);
    if (ev == 0) {
      r.status = "timeout";
      r.detail = "only " + std::to_string(ready) + " of " + std::to_string(n) + " workers became ready";
      return r;
    }
    if (ev == 1) {
      char buf[256];
      const ssize_t got = read(pipefd[0], buf, sizeof buf);
      if (got > 0) ready += static_cast<int>(got);
    } else {
      reap(false);
      if (fail_from_children()) return r;
    }
  }
  ctl->go.store(1, std::memory_order_release);
  futex_wake(ctl->go, kWakeAll);

  // 2. Warm-up, measure, stop, with the watchdog behind it all.
  const double t_go = mono_s();
  const double t_measure = t_go + cfg.warmup_s;
  const bool timed = cfg.ops_per_worker == 0;
  const double t_stop = t_measure + (timed ? cfg.duration_s : 0);
  double t_watchdog = t_go + timeout_s;
  bool failed = false;
  for (;;) {
    const uint32_t phase = ctl->phase.load(std::memory_order_relaxed);
    double next = t_watchdog;
    if (phase == Control::kWarmup) next = std::min(next, t_measure);
    else if (phase == Control::kMeasure && timed) next = std::min(next, t_stop);
    const int ev = wait_event(next, false);
    if (ev == 2) {
      if (reap(false) == 0) break;
      if (!failed && fail_from_children()) {
        failed = true;
        ctl->phase.store(Control::kStop, std::memory_order_relaxed);
        t_watchdog = std::min(t_watchdog, mono_s() + kCrashGraceS);
      }
      continue;
    }
    const double now = mono_s();
    if (now >= t_watchdog) {
      kill_all();
      reap(true);
      if (!failed) {
        r.status = "timeout";
        r.detail = "run exceeded the " + std::to_string(timeout_s) + " s watchdog; workers killed";
      }
      return r;
    }
    if (phase == Control::kWarmup && now >= t_measure)
      ctl->phase.store(Control::kMeasure, std::memory_order_relaxed);
    else if (phase == Control::kMeasure && timed && now >= t_stop)
      ctl->phase.store(Control::kStop, std::memory_order_relaxed);
  }
  if (failed || fail_from_children()) return r;

  // 3. Collect and verify.
  Totals tot;
  uint64_t begin = UINT64_MAX, end = 0;
  double sum = 0, sumsq = 0;
  r.ops_min = UINT64_MAX;
  for (int i = 0; i < n; ++i) {
    const WorkerSlot& s = slots[i];
    tot.ops += s.ops;
    tot.warm_ops += s.warm_ops;
    tot.per_worker_ops.push_back(s.ops + s.warm_ops);
    begin = std::min(begin, s.begin_ns);
    end = std::max(end, s.end_ns);
    r.ops_min = std::min(r.ops_min, s.ops);
    r.ops_max = std::max(r.ops_max, s.ops);
    sum += static_cast<double>(s.ops);
    sumsq += static_cast<double>(s.ops) * static_cast<double>(s.ops);
    r.latency.merge(s.latency);
    r.wakeup.merge(s.wakeup);
  }
  r.ops = tot.ops;
  r.seconds = end > begin ? static_cast<double>(end - begin) * 1e-9 : 0;
  r.ops_per_sec = r.seconds > 0 ? static_cast<double>(r.ops) / r.seconds : 0;
  r.fairness = sumsq > 0 ? sum * sum / (n * sumsq) : 0;
  const VerifyResult v = inst.verify(shared, cfg, tot);
  r.detail = v.detail;
  if (!v.ok) r.status = "verify_failed";
  return r;
}

}  // namespace ipcsync::harness

// torture.cc — bench --torture (see torture.hpp for what it does and why).
#include "harness/torture.hpp"

#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <new>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "harness/backends.hpp"
#include "harness/config.hpp"
#include "harness/context.hpp"
#include "harness/runner.hpp"
#include "harness/topology.hpp"
#include "harness/torture_detail.hpp"
#include "harness/workload.hpp"
#include "ipcsync/shm.hpp"

namespace ipcsync::harness {

namespace torture {
const char* doing_name(uint32_t d) {
  static const char* names[] = {"idle", "acquire()", "acquire(False)", "acquire(timeout short)", "acquire(timeout long)",
                                "holding", "release()", "wait()", "wait(timeout)", "wait_for(predicate)", "notify(n)",
                                "notify_all()", "set()", "clear()", "nested acquire()", "abort()", "reset()", "put()",
                                "get()", "processing an item", "task_done()", "join(timeout)", "update()", "snapshot()",
                                "fetch_add()", "load()"};
  return d < sizeof names / sizeof *names ? names[d] : "?";
}
}  // namespace torture

namespace {

using namespace torture;

// ---- what the torture knows --------------------------------------------------------------------

// The roles tortured: every role of the table (ipcsync/roles.hpp); TortureOf<> below must
// cover each.
const std::vector<std::string>& torture_roles() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& r : role_table()) v.push_back(r.name);
    return v;
  }();
  return names;
}
const std::vector<std::string> kFaults = {"kill", "stop", "stutter", "shuffle", "signal"};
// Broken primitives, for tests only (--inject-fault): each must make its role's checker fail.
const std::map<std::string, std::string> kBroken = {
    {"lock_skip_acquire", "lock: one acquire in 10,000 returns true without taking the lock"},
    {"rlock_skip_acquire", "rlock: one outermost acquire in 10,000 returns true without taking the lock"},
    {"semaphore_skip_acquire", "semaphore: one acquire in 10,000 returns true without taking a permit"},
    {"bounded_release_unchecked", "bounded_semaphore: a release beyond the bound is swallowed instead of raising"},
    {"condition_notify_wakes_all", "condition: notify(n) wakes every waiter"},
    {"event_wait_lies", "event: one timed wait in 100 returns true on its timeout"},
    {"barrier_early_release", "barrier: one wait in 1,000 returns without waiting for the round"},
    {"queue_drops_put", "queue: one put in 1,000 returns without storing the item"},
    {"joinable_join_early", "joinable_queue: one timed join in 100 returns true on its timeout"},
    {"value_update_unlocked", "value: update() reads and writes without taking the value's lock"},
    {"array_lock_not_shared", "array: get_lock() returns a lock in each process's private memory"},
};

// proc_state(pid): the kernel's view of a process, for a report: its state letter and where
// it sleeps ("S futex_wait_queue", "T do_signal_stop", ...).
std::string proc_state(pid_t pid) {
  std::ifstream st("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(st, line);
  const auto rp = line.rfind(')');
  const std::string state = rp != std::string::npos && rp + 2 < line.size() ? std::string(1, line[rp + 2]) : "?";
  std::ifstream wc("/proc/" + std::to_string(pid) + "/wchan");
  std::string wchan;
  std::getline(wc, wchan);
  return "state " + state + (wchan.empty() || wchan == "0" ? "" : " in " + wchan);
}

void on_usr1(int) { g_signals = g_signals + 1; }

// ---- the parent --------------------------------------------------------------------------------

struct TortureTotals {
  uint64_t ops = 0, ops_min = 0, ops_max = 0, violations = 0, recoveries = 0, losses = 0, kills = 0,
           kills_deferred = 0, stops = 0, stutters = 0, shuffles = 0, signals = 0, starvations = 0, crashes = 0;
  std::string first_problem;
};

struct Event_ {
  double t;
  std::string fault;
  int worker;
  std::string detail;
};

struct PairResult {
  std::string role, backend;
  double seconds = 0;
  TortureTotals t;
  bool success = true;
  std::vector<Event_> schedule;
  uint64_t schedule_dropped = 0;
};

constexpr std::size_t kScheduleCap = 2000;

struct Opts {
  std::vector<std::string> roles, backends;
  std::set<std::string> faults;
  int procs = 0;
  double duration_s = 60, stat_interval_s = 5;
  uint64_t seed = 0;
  bool seed_given = false;
  std::string out, results_dir = "results", broken, command_line;
  bool no_save = false, quiet = false;
};

// Faults that apply to (role, backend): kill needs an outcome the torture can account for.
std::set<std::string> applicable(const std::string& role, const std::string& backend, const std::set<std::string>& want) {
  std::set<std::string> out = want;
  const bool robust = backend == "native" || backend == "posix";
  if ((role == "lock" || role == "rlock" || role == "condition") && !robust) out.erase("kill");
  return out;
}

// Torture: one role x backend pair's run. Compiled once: the role is behind TortureRole.
class Torture {
 public:
  Torture(const Opts& o, const Topology& topo, SignalGate& gate, std::unique_ptr<TortureRole> role_ops, std::string role,
          std::string backend, double seconds, uint64_t seed, double t0_run)
      : o_(o), topo_(topo), gate_(gate), seconds_(seconds), seed_(seed), t0_run_(t0_run),
        region_(round_up(sizeof(TControl), 64) + sizeof(TSlot) * static_cast<std::size_t>(o.procs) + role_ops->size() + 128),
        role_(std::move(role_ops)) {
    res_.role = std::move(role);
    res_.backend = std::move(backend);
    faults_ = applicable(res_.role, res_.backend, o.faults);
    char* base = static_cast<char*>(region_.data());
    ctl_ = ::new (base) TControl();
    slots_ = reinterpret_cast<TSlot*>(base + round_up(sizeof(TControl), 64));
    for (int i = 0; i < o.procs; ++i) ::new (&slots_[i]) TSlot();
    role_->construct(base + round_up(round_up(sizeof(TControl), 64) + sizeof(TSlot) * static_cast<std::size_t>(o.procs), 64),
                     o.procs);
    pids_.assign(static_cast<std::size_t>(o.procs), -1);
    incarnation_.assign(pids_.size(), 0);
    stopped_until_.assign(pids_.size(), 0);
    resumed_.assign(pids_.size(), 0);
    starving_.assign(pids_.size(), false);
    rng_.seed(seed);
  }
  ~Torture() {
    if (agent_ > 0) {
      kill(agent_, SIGKILL);
      waitpid(agent_, nullptr, 0);
    }
    for (pid_t p : pids_)
      if (p > 0) {
        kill(p, SIGKILL);
        waitpid(p, nullptr, 0);
      }
    role_->destroy();
  }

  PairResult run() {
    // SIGUSR1 stays blocked in this process, so a worker forked from it cannot die of one before
    // it has installed its handler (it unblocks it right after).
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, nullptr);
    const uint64_t start = mono_ns();
    spawn_agent();
    for (int i = 0; i < o_.procs; ++i) spawn(i);
    const double end_s = seconds_;
    double next_stat = o_.stat_interval_s, next_kill = exp_s(0.5), next_stop = exp_s(0.1), next_stutter = exp_s(3),
           next_shuffle = exp_s(0.3), next_signal = 0, next_starve = 0.1;
    double last_t = 0;
    for (;;) {
      const double t = elapsed(start);
      if (t >= end_s) break;
      // The loop runs every millisecond; a turn that took over a second (a fault's wait, or the
      // parent not scheduled) is noted, since everything it times ran late meanwhile.
      if (t - last_t > 1.0) note(t, "parent stall", -1, std::to_string(static_cast<int>((t - last_t) * 1000)) + " ms");
      last_t = t;
      reap();
      continue_due(t);
      if (has("signal") && t >= next_signal) {
        const int w = pick_running();
        if (w >= 0) signal_worker(w);
        next_signal = t + 0.0005 + uniform(0.001);
      }
      if (has("stop") && t >= next_stop) {
        stop_fault(t);
        next_stop = t + exp_s(0.1);
      }
      if (has("kill") && t >= next_kill) {
        kill_fault(t);
        next_kill = t + exp_s(0.5);
      }
      if (has("shuffle") && t >= next_shuffle) {
        shuffle_fault(t);
        next_shuffle = t + exp_s(0.3);
      }
      if (has("stutter") && t >= next_stutter) {
        stutter_fault(t);
        next_stutter = elapsed(start) + exp_s(3);
      }
      if (t >= next_starve) {
        check_starvation();
        next_starve = t + 0.1;
      }
      if (t >= next_stat) {
        if (!o_.quiet) std::cout << stats_line(t) << std::endl;
        next_stat += o_.stat_interval_s;
      }
      pause_ms(1);
    }
    finish();
    res_.seconds = elapsed(start);
    collect();
    if (const std::string e = role_->final_check(slots_, o_.procs); !e.empty()) problem(e), ++res_.t.violations;
    res_.success = res_.t.violations == 0 && res_.t.starvations == 0 && res_.t.crashes == 0;
    if (!o_.quiet) std::cout << stats_line(res_.seconds) << std::endl;
    return std::move(res_);
  }

 private:
  static std::size_t round_up(std::size_t n, std::size_t a) { return (n + a - 1) / a * a; }
  double elapsed(uint64_t start) const { return static_cast<double>(mono_ns() - start) * 1e-9; }
  bool has(const char* f) const { return faults_.count(f) > 0; }
  double uniform(double max) { return std::uniform_real_distribution<double>(0, max)(rng_); }
  double exp_s(double mean) { return std::exponential_distribution<double>(1.0 / mean)(rng_); }
  void pause_ms(int ms) {
    pollfd p{gate_.fd(), POLLIN, 0};
    if (poll(&p, 1, ms) > 0) gate_.check();  // SIGINT/SIGTERM/SIGHUP: throws interrupted
  }
  void note(double t, const char* fault, int w, std::string detail = "") {
    if (res_.schedule.size() < kScheduleCap) res_.schedule.push_back({t_run() , fault, w, std::move(detail)});
    else ++res_.schedule_dropped;
    (void)t;
  }
  double t_run() const { return static_cast<double>(mono_ns()) * 1e-9 - t0_run_; }
  void problem(const std::string& what) {
    if (res_.t.first_problem.empty()) res_.t.first_problem = what;
  }

  void spawn(int i) {
    const uint32_t token = static_cast<uint32_t>(i + 1) | (static_cast<uint32_t>(++incarnation_[i]) << 16);
    TSlot& s = slots_[i];
    s.where.store(kOut);
    s.held.store(0);
    s.doing.store(kIdle);
    s.token.store(token);
    s.progress_ns.store(mono_ns());
    const pid_t parent = getpid();
    const int pu = topo_.pus().empty() ? -1 : topo_.pus()[static_cast<std::size_t>(i) % topo_.pus().size()];
    const pid_t pid = fork();
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(97);
      close(gate_.fd());
      // The parent decides about SIGINT and SIGHUP. And a group of its own: the torture stops its
      // workers, and a process group with a stopped member that becomes orphaned (the shell
      // that started bench exits) is sent SIGHUP by the kernel: a soak lost a worker so.
      signal(SIGINT, SIG_IGN);
      signal(SIGHUP, SIG_IGN);
      setpgid(0, 0);
      struct sigaction sa {};
      sa.sa_handler = on_usr1;  // no SA_RESTART: every wait sees EINTR
      sigaction(SIGUSR1, &sa, nullptr);
      sigprocmask(SIG_SETMASK, &gate_.old_mask(), nullptr);
      if (pu >= 0) (void)topo_.bind_self(pu);
      Ctx c{ctl_, &s, std::mt19937_64(seed_ ^ (0x9e3779b97f4a7c15ull * static_cast<uint64_t>(token))), token, slots_,
            o_.procs, i, {}};
      int rc = 0;
      try {
        while (ctl_->stop.load(std::memory_order_relaxed) == 0) {
          role_->step(c);
          c.done_op();
        }
      } catch (const std::exception& e) {
        c.violation(std::string("worker threw: ") + e.what() + " while doing " +
                    doing_name(s.doing.load(std::memory_order_relaxed)));
        rc = 3;
      }
      std::fflush(nullptr);
      _exit(rc);
    }
    pids_[static_cast<std::size_t>(i)] = pid;
    stopped_until_[static_cast<std::size_t>(i)] = 0;
    resumed_[static_cast<std::size_t>(i)] = mono_ns();
  }

  // reap(): a worker that died without us killing it is a crash (exit 3: it threw; a signal:
  // it crashed). Its slot keeps its counts; a replacement takes its place.
  void reap() {
    for (std::size_t i = 0; i < pids_.size(); ++i) {
      if (pids_[i] <= 0) continue;
      int st = 0;
      const pid_t r = waitpid(pids_[i], &st, WNOHANG);
      if (r != pids_[i]) continue;
      pids_[i] = -1;
      retire(static_cast<int>(i));
      std::string why = WIFSIGNALED(st) ? "killed by signal " + std::to_string(WTERMSIG(st))
                                        : "exit status " + std::to_string(WEXITSTATUS(st));
      ++res_.t.crashes;
      problem("worker " + std::to_string(i) + " died unexpectedly (" + why + ")" +
              (slots_[i].message[0] ? std::string(": ") + slots_[i].message : std::string()));
      note(0, "crash", static_cast<int>(i), why);
      if (!ctl_->stop.load()) spawn(static_cast<int>(i));
    }
  }
  // retire(): folds a dead incarnation's counts into the totals and clears its slot counters.
  void retire(int i) {
    TSlot& s = slots_[static_cast<std::size_t>(i)];
    dead_ops_[i] += s.ops.exchange(0);
    res_.t.violations += s.violations.exchange(0);
    res_.t.recoveries += s.recoveries.exchange(0);
    if (s.message[0]) problem(std::string(s.message)), s.message[0] = 0;
  }

  int pick_running() {
    std::vector<int> c;
    for (std::size_t i = 0; i < pids_.size(); ++i)
      if (pids_[i] > 0 && stopped_until_[i] == 0) c.push_back(static_cast<int>(i));
    if (c.empty()) return -1;
    return c[std::uniform_int_distribution<std::size_t>(0, c.size() - 1)(rng_)];
  }
  void signal_worker(int w) {
    if (kill(pids_[static_cast<std::size_t>(w)], SIGUSR1) == 0) ++res_.t.signals;
  }
  // stop_and_wait(w): SIGSTOPs worker w and waits until it has stopped; false when it died
  // meanwhile or did not stop within kStopWaitS. The wait polls, so the workers whose stop
  // fault is due are continued on time meanwhile (a stopped holder left stopped because the
  // parent waits on another worker would starve everyone behind it). A stop that takes longer
  // than kSlowStopS is noted in the schedule with where the worker was in the kernel; one that
  // never comes is given up (SIGCONT discards the pending stop) and noted too.
  bool stop_and_wait(int w) {
    const pid_t p = pids_[static_cast<std::size_t>(w)];
    if (kill(p, SIGSTOP) != 0) return false;
    const uint64_t t0 = mono_ns();
    std::string seen;  // the worker's kernel state once the stop is slow
    for (;;) {
      int st = 0;
      const pid_t r = waitpid(p, &st, WUNTRACED | WNOHANG);
      const double waited = static_cast<double>(mono_ns() - t0) * 1e-9;
      if (r == p && WIFSTOPPED(st)) {
        if (!seen.empty())
          note(0, "slow stop", w, std::to_string(static_cast<int>(waited * 1000)) + " ms, " + seen);
        return true;
      }
      if (r == p) {  // it died meanwhile
        pids_[static_cast<std::size_t>(w)] = -1;
        retire(w);
        ++res_.t.crashes;
        problem("worker " + std::to_string(w) + " died unexpectedly while being stopped");
        if (!ctl_->stop.load()) spawn(w);
        return false;
      }
      if (r < 0 && errno != EINTR) return false;
      if (waited > kSlowStopS && seen.empty()) seen = proc_state(p) + " doing " + doing_name(slots_[w].doing.load());
      if (waited > kStopWaitS) {
        kill(p, SIGCONT);
        note(0, "stop given up", w, std::to_string(static_cast<int>(waited * 1000)) + " ms, " + seen);
        return false;
      }
      continue_due(0);
      timespec ts{0, 200'000};
      nanosleep(&ts, nullptr);
    }
  }
  void cont(int w) {
    const std::size_t i = static_cast<std::size_t>(w);
    if (pids_[i] > 0) kill(pids_[i], SIGCONT);
    stopped_until_[i] = 0;
    resumed_[i] = mono_ns();
  }
  void continue_due(double) {
    const uint64_t now = mono_ns();
    for (std::size_t i = 0; i < pids_.size(); ++i)
      if (stopped_until_[i] && now >= stopped_until_[i]) cont(static_cast<int>(i));
  }

  void stop_fault(double t) {
    const int w = pick_running();
    if (w < 0 || !stop_and_wait(w)) return;
    const double ms = 1 + uniform(199);
    stopped_until_[static_cast<std::size_t>(w)] = mono_ns() + static_cast<uint64_t>(ms * 1e6);
    ++res_.t.stops;
    note(t, "stop", w, std::to_string(static_cast<int>(ms)) + " ms while " + doing_name(slots_[w].doing.load()));
  }

  // kill_fault(): up to 8 victims are tried; one that is inside a call it cannot be killed in is
  // continued and another is tried (a Condition's workers spend most of their time in wait()).
  void kill_fault(double t) {
    for (int attempt = 0; attempt < 8; ++attempt)
      if (kill_once(t, attempt == 7)) return;
  }
  // kill_once(): false when the victim was continued instead (counted as deferred if `last`).
  bool kill_once(double t, bool last) {
    // Prefer a holder.
    std::vector<int> holders;
    for (std::size_t i = 0; i < pids_.size(); ++i)
      if (pids_[i] > 0 && stopped_until_[i] == 0 && slots_[i].where.load() == kHolding) holders.push_back(static_cast<int>(i));
    const int w = holders.empty() ? pick_running()
                                  : holders[std::uniform_int_distribution<std::size_t>(0, holders.size() - 1)(rng_)];
    if (w < 0 || !stop_and_wait(w)) return true;
    TSlot& s = slots_[static_cast<std::size_t>(w)];
    const uint32_t where = s.where.load(std::memory_order_acquire);
    const std::string doing = doing_name(s.doing.load());
    // Each role says where its workers may die (killable): a robust lock's take-over or a
    // stateless waiter anywhere, the others only where what they hold is known exactly.
    const uint32_t d = s.doing.load();
    const bool waiting = d == kWaitTimed || d == kWaitPred;
    if (!role_->killable(res_.backend, where, d)) {
      cont(w);
      if (last) ++res_.t.kills_deferred;
      return false;
    }
    // With the victim stopped inside its section, nobody else can change what it guards: the
    // role reads whether the victim's update landed before anyone takes the lock over.
    if (role_->has_killed_holding())
      if (where == kHolding) role_->killed_holding(s);
    const pid_t p = pids_[static_cast<std::size_t>(w)];
    kill(p, SIGKILL);
    kill(p, SIGCONT);
    waitpid(p, nullptr, 0);
    pids_[static_cast<std::size_t>(w)] = -1;
    ++res_.t.kills;
    note(t, "kill", w, std::string(where == kHolding ? "holding" : where == kInCall ? "in a call" : "outside") + ", " + doing);
    if (role_->has_give_back()) {
      const uint32_t held = s.held.load();
      if (held) {  // the agent gives the dead worker's permits back
        ctl_->in_use.fetch_sub(held);
        ctl_->give_back.fetch_add(held);
        res_.t.losses += held;
      }
    }
    if (role_->has_waiter_killed()) {
      const bool in_wait = waiting && where == kInCall;
      role_->waiter_killed(s, in_wait);
      if (in_wait) ++res_.t.losses;  // the documented extra wake-up it may cause
    }
    retire(w);
    stopped_until_[static_cast<std::size_t>(w)] = 0;
    if (!ctl_->stop.load()) spawn(w);
    return true;
  }

  void shuffle_fault(double t) {
    const int w = pick_running();
    if (w < 0 || topo_.pus().empty()) return;
    const int pu = topo_.pus()[std::uniform_int_distribution<std::size_t>(0, topo_.pus().size() - 1)(rng_)];
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(pu, &set);
    if (sched_setaffinity(pids_[static_cast<std::size_t>(w)], sizeof set, &set) == 0) {
      ++res_.t.shuffles;
      note(t, "shuffle", w, "PU " + std::to_string(pu));
    }
  }

  void stutter_fault(double t) {
    std::vector<int> paused;
    for (std::size_t i = 0; i < pids_.size(); ++i)
      if (pids_[i] > 0 && stopped_until_[i] == 0 && stop_and_wait(static_cast<int>(i))) paused.push_back(static_cast<int>(i));
    ++res_.t.stutters;
    const int ms = 20 + static_cast<int>(uniform(280));
    note(t, "stutter", -1, std::to_string(ms) + " ms, " + std::to_string(paused.size()) + " workers");
    // Everyone is stopped: a semaphore with no permit held must be whole.
    if (role_->has_quiescent_check()) {
      bool any_held = false;
      for (std::size_t i = 0; i < pids_.size(); ++i)
        if (pids_[i] > 0 && (slots_[i].where.load() != kOut || slots_[i].held.load())) any_held = true;
      if (!any_held && ctl_->give_back.load() == 0) {  // the agent checks; everyone waits for it
        const uint32_t req = ctl_->check_req.fetch_add(1) + 1;
        const uint64_t until = mono_ns() + 1'000'000'000;
        while (ctl_->check_done.load(std::memory_order_acquire) != req && mono_ns() < until) pause_ms(1);
        if (ctl_->check_done.load(std::memory_order_acquire) == req && ctl_->check_msg[0]) {
          ++res_.t.violations;
          problem(ctl_->check_msg);
        }
      }
    }
    pause_ms(ms);
    for (int w : paused) kill(pids_[static_cast<std::size_t>(w)], SIGCONT);  // all together
    for (int w : paused) cont(w);
  }

  void check_starvation() {
    const uint64_t now = mono_ns();
    if (agent_ > 0 && !agent_starving_ &&
        static_cast<double>(now - std::min(now, ctl_->agent_progress_ns.load())) * 1e-9 > kStarveS) {
      agent_starving_ = true;
      ++res_.t.starvations;
      // Where it sleeps, and what every worker was doing: who holds what it waits for.
      std::string workers;
      for (std::size_t i = 0; i < pids_.size(); ++i)
        if (pids_[i] > 0)
          workers += "; worker " + std::to_string(i) + " " + doing_name(slots_[i].doing.load()) + ", " +
                     proc_state(pids_[i]);
      const std::string what = "the agent (the role's ticker, or a give-back of permits) made no progress for " +
                               std::to_string(static_cast<int>(kStarveS)) + " s (" + proc_state(agent_) + workers + ")";
      problem(what);
      note(0, "agent starved", -1, proc_state(agent_) + workers);
      if (!o_.quiet) std::cout << "torture: " << what << std::endl;
    }
    for (std::size_t i = 0; i < pids_.size(); ++i) {
      if (pids_[i] <= 0 || stopped_until_[i]) continue;
      const uint64_t since = std::max(slots_[i].progress_ns.load(), resumed_[i]);
      const bool stuck = now > since && static_cast<double>(now - since) * 1e-9 > kStarveS;
      if (stuck && !starving_[i]) {
        starving_[i] = true;
        ++res_.t.starvations;
        const std::string what = "worker " + std::to_string(i) + " (" + res_.role + "/" + res_.backend +
                                 ") starved: no progress for " + std::to_string(static_cast<int>(kStarveS)) +
                                 " s while doing " + doing_name(slots_[i].doing.load());
        problem(what);
        note(0, "starved", static_cast<int>(i), doing_name(slots_[i].doing.load()));
        if (!o_.quiet) std::cout << "torture: " << what << std::endl;
      } else if (!stuck) {
        starving_[i] = false;
      }
    }
  }

  // finish(): stop every worker, let them leave (the longest wait in the mix is 0.5 s), and
  // kill what is left after a grace period: a worker that cannot leave is starved.
  void finish() {
    ctl_->stop.store(1);
    for (std::size_t i = 0; i < pids_.size(); ++i)
      if (stopped_until_[i]) cont(static_cast<int>(i));
      else if (pids_[i] > 0) kill(pids_[i], SIGCONT);  // whatever else may have stopped it
    const uint64_t until = mono_ns() + static_cast<uint64_t>(kStarveS * 1e9);
    for (;;) {  // the agent's ticker goes on, so a wait() without timeout ends
      bool left = false;
      for (std::size_t i = 0; i < pids_.size(); ++i) {
        if (pids_[i] <= 0) continue;
        int st = 0;
        if (waitpid(pids_[i], &st, WNOHANG) == pids_[i]) {
          pids_[i] = -1;
          if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
            ++res_.t.crashes;
            problem("worker " + std::to_string(i) + " ended badly (" +
                    (WIFSIGNALED(st) ? "signal " + std::to_string(WTERMSIG(st)) : "exit " + std::to_string(WEXITSTATUS(st))) +
                    ")" + (slots_[i].message[0] ? std::string(": ") + slots_[i].message : std::string()));
          }
        } else {
          left = true;
        }
      }
      if (!left) break;
      if (mono_ns() >= until) {
        for (std::size_t i = 0; i < pids_.size(); ++i)
          if (pids_[i] > 0) {
            ++res_.t.starvations;
            problem("worker " + std::to_string(i) + " could not stop within " + std::to_string(static_cast<int>(kStarveS)) +
                    " s, stuck in " + doing_name(slots_[i].doing.load()) + " (" + proc_state(pids_[i]) + ")");
            kill(pids_[i], SIGKILL);
            waitpid(pids_[i], nullptr, 0);
            pids_[i] = -1;
          }
        break;
      }
      pause_ms(2);
    }
    stop_agent();
  }

  // The agent: one more process, never faulted, that does what the parent must not (the parent
  // never blocks on a primitive: a worker it stopped may hold one's internal mutex, and only the
  // parent can continue it). It runs the role's ticker (an event set(), a notify(1) with an
  // item: a wait() without timeout always ends), gives back a killed worker's permits, and runs
  // the quiescent check the parent asks for while every worker is stopped.
  void spawn_agent() {
    const pid_t parent = getpid();
    ctl_->agent_progress_ns.store(mono_ns());
    const pid_t pid = fork();
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(97);
      close(gate_.fd());
      // The parent decides about SIGINT and SIGHUP. And a group of its own: the torture stops its
      // workers, and a process group with a stopped member that becomes orphaned (the shell
      // that started bench exits) is sent SIGHUP by the kernel: a soak lost a worker so.
      signal(SIGINT, SIG_IGN);
      signal(SIGHUP, SIG_IGN);
      setpgid(0, 0);
      int rc = 0;
      try {
        uint64_t next_tick = 0;
        while (!ctl_->agent_stop.load()) {
          const uint64_t now = mono_ns();
          ctl_->agent_progress_ns.store(now);
          if (now >= next_tick) {
            role_->parent_tick(*ctl_);
            next_tick = now + 20'000'000;
          }
          if (role_->has_give_back())
            if (const uint32_t n = ctl_->give_back.exchange(0)) role_->give_back(n);
          if (role_->has_quiescent_check()) {
            const uint32_t req = ctl_->check_req.load();
            if (req != ctl_->check_done.load()) {
              const std::string e = role_->quiescent_check(slots_, o_.procs);
              std::snprintf(ctl_->check_msg, sizeof ctl_->check_msg, "%s", e.c_str());
              ctl_->check_done.store(req, std::memory_order_release);
            }
          }
          timespec ts{0, 1'000'000};
          nanosleep(&ts, nullptr);
        }
      } catch (const std::exception& e) {
        std::snprintf(ctl_->check_msg, sizeof ctl_->check_msg, "the agent threw: %s", e.what());
        rc = 3;
      }
      _exit(rc);
    }
    agent_ = pid;
  }
  void stop_agent() {
    if (agent_ <= 0) return;
    ctl_->agent_stop.store(1);
    const uint64_t until = mono_ns() + static_cast<uint64_t>(kStarveS * 1e9);
    int st = 0;
    for (;;) {
      const pid_t r = waitpid(agent_, &st, WNOHANG);
      if (r == agent_) {
        if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
          ++res_.t.crashes;
          problem(std::string("the agent ended badly") + (ctl_->check_msg[0] ? std::string(": ") + ctl_->check_msg : ""));
        }
        break;
      }
      if (mono_ns() >= until) {
        ++res_.t.starvations;
        problem("the agent (the role's ticker) was stuck for " + std::to_string(static_cast<int>(kStarveS)) + " s");
        kill(agent_, SIGKILL);
        waitpid(agent_, nullptr, 0);
        break;
      }
      pause_ms(2);
    }
    agent_ = -1;
  }

  void collect() {
    TortureTotals& t = res_.t;
    t.ops_min = UINT64_MAX;
    for (int i = 0; i < o_.procs; ++i) {
      TSlot& s = slots_[static_cast<std::size_t>(i)];
      const uint64_t ops = s.ops.load() + dead_ops_[i];
      t.ops += ops;
      t.ops_min = std::min(t.ops_min, ops);
      t.ops_max = std::max(t.ops_max, ops);
      t.violations += s.violations.load();
      t.recoveries += s.recoveries.load();
      if (s.message[0]) problem(s.message);
    }
    if (o_.procs == 0) t.ops_min = 0;
  }

  std::string stats_line(double t) {
    uint64_t ops = 0, mn = UINT64_MAX, mx = 0, viol = res_.t.violations, rec = res_.t.recoveries;
    for (int i = 0; i < o_.procs; ++i) {
      const TSlot& s = slots_[static_cast<std::size_t>(i)];
      const uint64_t o = s.ops.load() + dead_ops_[i];
      ops += o;
      mn = std::min(mn, o);
      mx = std::max(mx, o);
      viol += s.violations.load();
      rec += s.recoveries.load();
    }
    if (ctl_->stop.load() && res_.seconds > 0) {  // the final line: the collected totals
      ops = res_.t.ops, mn = res_.t.ops_min, mx = res_.t.ops_max, viol = res_.t.violations, rec = res_.t.recoveries;
    }
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "torture %s/%s t=%.1fs: ops %llu (per worker min/max %llu/%llu) violations %llu recoveries %llu "
                  "losses %llu kills %llu stops %llu stutters %llu shuffles %llu signals %llu starvations %llu crashes %llu",
                  res_.role.c_str(), res_.backend.c_str(), t, (unsigned long long)ops, (unsigned long long)(mn == UINT64_MAX ? 0 : mn),
                  (unsigned long long)mx, (unsigned long long)viol, (unsigned long long)rec,
                  (unsigned long long)res_.t.losses, (unsigned long long)res_.t.kills, (unsigned long long)res_.t.stops,
                  (unsigned long long)res_.t.stutters, (unsigned long long)res_.t.shuffles,
                  (unsigned long long)res_.t.signals, (unsigned long long)res_.t.starvations,
                  (unsigned long long)res_.t.crashes);
    return buf;
  }

  const Opts& o_;
  const Topology& topo_;
  SignalGate& gate_;
  double seconds_;
  uint64_t seed_;
  double t0_run_;
  std::set<std::string> faults_;
  AnonymousRegion region_;
  TControl* ctl_ = nullptr;
  TSlot* slots_ = nullptr;
  std::unique_ptr<TortureRole> role_;
  std::vector<pid_t> pids_;
  pid_t agent_ = -1;
  bool agent_starving_ = false;
  std::vector<int> incarnation_;
  std::vector<uint64_t> stopped_until_, resumed_;
  std::vector<bool> starving_;
  std::map<int, uint64_t> dead_ops_;
  std::mt19937_64 rng_;
  PairResult res_;
};

// make_role_for(backend, role, broken): the torture of `role` over the compiled backend called
// `backend`; nullptr when there is no such backend or it does not offer the role.
std::unique_ptr<TortureRole> make_role_for(const std::string& backend, const std::string& role, const std::string& broken) {
  std::unique_ptr<TortureRole> out;
  with_backend(backend, [&]<class B>() { out = make_role<B>(role, broken); });
  return out;
}

// offers(backend, role): whether the backend has the role.
bool offers(const std::string& backend, const std::string& role) { return make_role_for(backend, role, "") != nullptr; }

// run_pair(): runs role x backend; nullopt when the backend does not offer the role.
std::optional<PairResult> run_pair(const Opts& o, const Topology& topo, SignalGate& gate, const std::string& role,
                                   const std::string& backend, double seconds, uint64_t seed, double t0) {
  auto r = make_role_for(backend, role, o.broken);
  if (!r) return std::nullopt;
  return Torture(o, topo, gate, std::move(r), role, backend, seconds, seed, t0).run();
}

// ---- command line and output --------------------------------------------------------------------

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> v;
  std::stringstream ss(s);
  for (std::string x; std::getline(ss, x, ',');) v.push_back(x);
  return v;
}
std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

double parse_seconds(const std::string& flag, const std::string& text) {
  std::string num = text;
  double scale = 1;
  if (num.size() > 2 && num.compare(num.size() - 2, 2, "ms") == 0) num.resize(num.size() - 2), scale = 1e-3;
  else if (num.size() > 1 && num.back() == 's') num.pop_back();
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(num.c_str(), &end);
  if (num.empty() || end != num.c_str() + num.size() || errno || !(v > 0) || v * scale > 86400 * 7)
    throw usage_error(flag + ": '" + text + "' is not a duration in seconds (e.g. 60, 2.5, 250ms; at most a week)");
  return v * scale;
}

Opts parse(int argc, char** argv, const Topology& topo) {
  Opts o;
  for (int i = 0; i < argc; ++i) o.command_line += (i ? " " : "") + std::string(argv[i]);
  TortureHelp help;
  help.roles = join(torture_roles());
  help.faults = join(kFaults);
  for (const auto& [k, v] : kBroken) help.broken += " " + k + " (" + v + ");";
  const TortureArgs a = parse_torture_args(argc, argv, help);
  const std::string &roles = a.roles, &backends = a.backends, &procs = a.procs, &duration = a.duration,
                    &seed = a.seed, &interval = a.interval, &faults = a.faults;
  o.out = a.out;
  o.results_dir = a.results_dir;
  o.broken = a.broken;
  o.no_save = a.no_save;
  o.quiet = a.quiet;
  if (o.no_save && !o.out.empty()) throw usage_error("--no-save: cannot be combined with --out");
  o.roles = roles == "all" ? torture_roles() : split(roles);
  for (const auto& r : o.roles)
    if (std::find(torture_roles().begin(), torture_roles().end(), r) == torture_roles().end())
      throw usage_error("--primitive: '" + r + "' has no torture (accepted: " + join(torture_roles()) + ", all)");
  const auto& names = backend_names();
  o.backends = backends == "all" ? std::vector<std::string>{} : split(backends);
  if (backends == "all")
    for (const auto& b : names)
      if (b != "posix_plain") o.backends.push_back(b);
  for (const auto& b : o.backends)
    if (std::find(names.begin(), names.end(), b) == names.end())
      throw usage_error("--backend: '" + b + "' cannot be tortured (accepted: " + join(names) + ", all)");
  const int pus = static_cast<int>(std::max<std::size_t>(1, topo.pus().size()));
  o.procs = std::min(kMaxWorkers, std::max(2, 2 * pus));
  if (!procs.empty()) {
    char* end = nullptr;
    const long v = std::strtol(procs.c_str(), &end, 10);
    if (end != procs.c_str() + procs.size() || v < 2 || v > kMaxWorkers)
      throw usage_error("--procs: '" + procs + "' is not a whole number in 2.." + std::to_string(kMaxWorkers));
    o.procs = static_cast<int>(v);
  }
  o.duration_s = parse_seconds("--duration", duration);
  o.stat_interval_s = parse_seconds("--stat-interval", interval);
  if (!seed.empty()) {
    char* end = nullptr;
    errno = 0;
    o.seed = std::strtoull(seed.c_str(), &end, 10);
    if (seed[0] == '-' || end != seed.c_str() + seed.size() || errno)
      throw usage_error("--seed: '" + seed + "' is not a whole number in 0..2^64-1");
    o.seed_given = true;
  } else {
    o.seed = std::random_device{}() ^ (static_cast<uint64_t>(mono_ns()) << 20);
  }
  if (faults == "all") o.faults = std::set<std::string>(kFaults.begin(), kFaults.end());
  else if (faults != "none")
    for (const auto& f : split(faults)) {
      if (std::find(kFaults.begin(), kFaults.end(), f) == kFaults.end())
        throw usage_error("--faults: unknown fault '" + f + "' (accepted: " + join(kFaults) + ", all, none)");
      o.faults.insert(f);
    }
  if (!o.broken.empty()) {
    if (!kBroken.count(o.broken)) {
      std::vector<std::string> ks;
      for (const auto& [k, v] : kBroken) ks.push_back(k);
      throw usage_error("--inject-fault: unknown broken primitive '" + o.broken + "' (accepted: " + join(ks) + ")");
    }
    if (std::find(o.roles.begin(), o.roles.end(), broken_role(o.broken)) == o.roles.end())
      throw usage_error("--inject-fault: '" + o.broken + "' breaks the " + broken_role(o.broken) +
                        " role, which --primitive does not include");
    if (o.backends != std::vector<std::string>{"native"})
      throw usage_error("--inject-fault: the broken primitives are native's (use --backend native)");
  }
  return o;
}

std::string csv_header() {
  return "run_id,host_id,role,backend,procs,seconds,seed,faults,ops,ops_min,ops_max,violations,recoveries,losses,"
         "kills,kills_deferred,stops,stutters,shuffles,signals,starvations,crashes,result,detail";
}
std::string csv_quote(const std::string& s) {
  std::string q = "\"";
  for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch == '\n' ? ' ' : ch);
  return q + "\"";
}

// write_whole(): path's new content through a temporary file renamed over it: a reader (or a
// crash) sees the old file or the new one, never a torn one.
void write_whole(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << content;
    f.flush();
    if (!f) {
      std::remove(tmp.c_str());
      throw std::runtime_error("cannot write " + tmp);
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot rename " + tmp + " to " + path + ": " + std::strerror(e));
  }
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string fault_list(const std::set<std::string>& s) {
  std::string out;
  for (const auto& f : kFaults)
    if (s.count(f)) out += (out.empty() ? "" : ";") + f;
  return out.empty() ? "none" : out;
}

}  // namespace

bool torture_requested(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--torture") == 0) return true;
  return false;
}

int run_torture(int argc, char** argv, const Topology& topo, SignalGate& gate) {
  Opts o;
  try {
    o = parse(argc, argv, topo);
  } catch (const usage_error& e) {
    std::cerr << "bench: " << e.what() << "\n";
    return 2;
  }
  HostContext ctx = collect_context(topo);
  char idbuf[64];
  std::snprintf(idbuf, sizeof idbuf, "torture-%llx-%d", static_cast<unsigned long long>(mono_ns()), getpid());
  const std::string run_id = idbuf;
  std::string path;
  if (!o.no_save) {
    path = !o.out.empty() ? o.out : o.results_dir + "/" + ctx.host_name + "/torture.csv";
    std::error_code ec;
    const auto dir = std::filesystem::path(path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    if (ec || (std::filesystem::exists(path) && !std::filesystem::is_regular_file(path))) {
      std::cerr << "bench: --out: cannot write '" << path << "'" << (ec ? ": " + ec.message() : "") << "\n";
      return 2;
    }
    if (std::filesystem::exists(path)) {
      const std::string have = slurp(path);
      if (have.compare(0, csv_header().size(), csv_header()) != 0) {
        std::cerr << "bench: --out: '" << path << "' is not a torture CSV (its header differs); choose another file\n";
        return 2;
      }
    }
  }
  // Pairs in the order given; the roles a backend lacks are skipped (said once).
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& b : o.backends)
    for (const auto& r : o.roles) {
      const bool offered = offers(b, r);
      if (offered) pairs.emplace_back(r, b);
      else if (!o.quiet) std::cout << "torture: " << b << " has no " << r << "; skipped\n";
    }
  if (pairs.empty()) {
    std::cerr << "bench: --torture: none of the chosen backends offers the chosen roles\n";
    return 2;
  }
  const double per_pair = o.duration_s / static_cast<double>(pairs.size());
  if (!o.quiet)
    std::cout << "torture: seed " << o.seed << ", " << pairs.size() << " role x backend pair(s), " << o.procs
              << " workers each, " << per_pair << " s each, faults " << fault_list(o.faults)
              << (o.broken.empty() ? "" : ", BROKEN primitive " + o.broken) << ", host " << ctx.host_id << std::endl;
  const double t0 = static_cast<double>(mono_ns()) * 1e-9;
  std::vector<PairResult> results;
  bool interrupted_run = false;
  int signo = 0;
  try {
    for (std::size_t k = 0; k < pairs.size(); ++k) {
      const uint64_t seed = o.seed + 0x9e3779b97f4a7c15ull * (k + 1);
      auto r = run_pair(o, topo, gate, pairs[k].first, pairs[k].second, per_pair, seed, t0);
      if (r) results.push_back(std::move(*r));
    }
  } catch (const interrupted& e) {
    interrupted_run = true;
    signo = e.signo();
  }
  bool success = !interrupted_run;
  std::string csv;
  nlohmann::json pairs_json = nlohmann::json::array();
  for (const auto& r : results) {
    success = success && r.success;
    const TortureTotals& t = r.t;
    std::ostringstream row;
    row << run_id << "," << ctx.host_id << "," << r.role << "," << r.backend << "," << o.procs << "," << r.seconds
        << "," << o.seed << "," << fault_list(applicable(r.role, r.backend, o.faults)) << "," << t.ops << ","
        << t.ops_min << "," << t.ops_max << "," << t.violations << "," << t.recoveries << "," << t.losses << ","
        << t.kills << "," << t.kills_deferred << "," << t.stops << "," << t.stutters << "," << t.shuffles << ","
        << t.signals << "," << t.starvations << "," << t.crashes << "," << (r.success ? "SUCCESS" : "FAILURE") << ","
        << csv_quote(t.first_problem);
    csv += row.str() + "\n";
    nlohmann::json sched = nlohmann::json::array();
    for (const auto& e : r.schedule)
      sched.push_back(nlohmann::json{{"t", e.t}, {"fault", e.fault}, {"worker", e.worker}, {"detail", e.detail}});
    pairs_json.push_back(nlohmann::json{{"role", r.role}, {"backend", r.backend}, {"result", r.success ? "SUCCESS" : "FAILURE"},
                          {"faults", fault_list(applicable(r.role, r.backend, o.faults))},
                          {"schedule", sched}, {"schedule_not_recorded", r.schedule_dropped},
                          {"first_problem", t.first_problem}});
  }
  if (!o.no_save && !results.empty()) {
    try {
      std::string have = std::filesystem::exists(path) ? slurp(path) : csv_header() + "\n";
      if (!have.empty() && have.back() != '\n') have.resize(have.rfind('\n') + 1);  // a torn last line
      write_whole(path, have + csv);
      const std::string json_path = path.size() > 4 && path.compare(path.size() - 4, 4, ".csv") == 0
                                        ? path.substr(0, path.size() - 4) + ".json"
                                        : path + ".json";
      nlohmann::json j = nlohmann::json::object();
      if (std::filesystem::exists(json_path)) {
        try {
          j = nlohmann::json::parse(slurp(json_path));
        } catch (const std::exception&) {
          j = nlohmann::json::object();
        }
      }
      j["host"] = ctx.host;
      j["host_id"] = ctx.host_id;
      nlohmann::json run{{"run_id", run_id}, {"command_line", o.command_line}, {"seed", o.seed},
                         {"procs", o.procs}, {"duration_s", o.duration_s}, {"faults", fault_list(o.faults)},
                         {"starve_s", kStarveS}, {"pairs", pairs_json}, {"interrupted", interrupted_run}};
      if (!o.broken.empty()) run["broken_primitive"] = o.broken;
      run.update(build_provenance());
      j["runs"].push_back(run);
      write_whole(json_path, j.dump(2) + "\n");
      if (!o.quiet) std::cout << "results: " << path << " (context " << json_path << ")\n";
    } catch (const std::exception& e) {
      std::cerr << "bench: cannot save the torture results: " << e.what() << "\n";
      success = false;
    }
  }
  if (interrupted_run) {
    std::cerr << "bench: torture interrupted by signal " << signo << "; workers stopped, " << results.size()
              << " pair(s) finished" << (results.empty() || o.no_save ? "" : ", saved") << "\n";
    return 128 + signo;
  }
  std::string failed;
  for (const auto& r : results)
    if (!r.success) failed += (failed.empty() ? "" : "; ") + r.role + "/" + r.backend + ": " + r.t.first_problem;
  std::cout << (success ? "SUCCESS" : "FAILURE") << ": torture seed " << o.seed << (failed.empty() ? "" : " — " + failed)
            << std::endl;
  return success ? 0 : 1;
}

}  // namespace ipcsync::harness

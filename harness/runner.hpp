// runner.hpp — one run of one configuration: fork, pin, gate, measure, reap, verify.
//
// The parent blocks SIGINT, SIGTERM, SIGHUP and SIGCHLD for its whole life and reads them from
// a signalfd, so it has one wait point (poll) for children exiting, signals and its own timers.
// Children: PR_SET_PDEATHSIG(SIGKILL) (they die with the parent), ignore SIGINT (the parent
// decides), pin with hwloc before touching shared state, report ready through a pipe, and wait
// on the start gate. A watchdog SIGKILLs and reaps every worker of a run that overruns
// (status `timeout`); a worker killed by a signal makes the run `crashed`. Shared state is an
// anonymous mapping, so nothing can be left in /dev/shm.
#pragma once

#include <signal.h>

#include <cstdint>
#include <exception>
#include <ostream>
#include <string>
#include <vector>

#include "harness/histogram.hpp"
#include "harness/topology.hpp"
#include "harness/workload.hpp"

namespace ipcsync::harness {

// interrupted: SIGINT/SIGTERM/SIGHUP arrived; every worker has been killed and reaped.
class interrupted : public std::exception {
 public:
  explicit interrupted(int signo) : signo_(signo) {}
  int signo() const noexcept { return signo_; }
  const char* what() const noexcept override { return "interrupted"; }

 private:
  int signo_;
};

// SignalGate: blocks the signals the parent handles and owns the signalfd. One per process.
class SignalGate {
 public:
  SignalGate();
  ~SignalGate();
  SignalGate(const SignalGate&) = delete;
  SignalGate& operator=(const SignalGate&) = delete;
  int fd() const noexcept { return fd_; }
  const sigset_t& old_mask() const noexcept { return old_; }
  // check(): throws interrupted if SIGINT/SIGTERM/SIGHUP is pending (non-blocking).
  void check();

 private:
  int fd_ = -1;
  sigset_t old_;
};

// How a run ended (the CSV's `status` column, status_name()):
//   ok             verified, and its measured window is a measurement
//   short_window   verified, but the window covers less than 90% of the requested duration or
//                  completed no op (check_window in runner.cc): aggregating tools exclude it
//   verify_failed  the workload's invariant did not hold
//   timeout        the watchdog killed a run that overran
//   crashed        a worker died of a signal (or exited without a word)
//   error          the run could not be set up or a worker reported an error
enum class RunStatus { ok, short_window, verify_failed, timeout, crashed, error };
inline const char* status_name(RunStatus s) {
  switch (s) {
    case RunStatus::ok: return "ok";
    case RunStatus::short_window: return "short_window";
    case RunStatus::verify_failed: return "verify_failed";
    case RunStatus::timeout: return "timeout";
    case RunStatus::crashed: return "crashed";
    case RunStatus::error: return "error";
  }
  return "?";
}
inline std::ostream& operator<<(std::ostream& o, RunStatus s) { return o << status_name(s); }

struct RunResult {
  RunConfig cfg;
  std::string pin;
  std::vector<int> pus;
  bool oversubscribed = false;
  int repetition = 0;
  std::string timestamp;
  RunStatus status = RunStatus::ok;
  std::string detail;
  uint64_t ops = 0;
  uint64_t warm_ops = 0;
  double seconds = 0;
  double ops_per_sec = 0;
  uint64_t ops_min = 0, ops_max = 0;
  double fairness = 0;
  LogHistogram latency;  // net of the clock: clock_overhead_ns was subtracted from every sample
  LogHistogram wakeup;
  double clock_overhead_ns = 0;
  // The cost and the noise (harness/noise.hpp): the workers' CPU time and context switches,
  // and what else ran on the allowed PUs.
  bool have_cpu = false;
  double cpu_user_s = 0, cpu_sys_s = 0;
  uint64_t vcsw = 0, ivcsw = 0;
  bool have_noise = false;
  double steal_pct = 0, others_pct = 0;
  double load1 = -1;
  bool noisy = false;
  bool fatal = false;  // thread mode: hung threads were left behind; the process must end
};

// run_once(): runs `inst` under `cfg` with `plan`; throws interrupted on a signal. Anything else
// that goes wrong in this one configuration (workers that cannot be forked, a setup the backend
// refuses, malformed output from the python backend, a parameter the workload did not declare)
// is returned as its `error` row, every worker killed and reaped, so a sweep goes on.
RunResult run_once(const Instance& inst, const RunConfig& cfg, const PinPlan& plan, const Topology& topo,
                   SignalGate& gate, double timeout_s);

// LoopOverhead: what the harness's own measured loop (run_ops) costs per op, from an empty op
// (an opaque asm statement) run the way a timed run runs it: the stop-phase load every op, the
// clock pair and histogram record every `sample_every`-th op, and the counting. A workload's
// ops/s is about 1e9 / (op_ns + ns_per_op); bench writes it to the JSON context (`harness`).
struct LoopOverhead {
  double ns_per_op = 0;  // median of the repetitions
  uint32_t sample_every = 0;
  int repetitions = 0;
  double window_ms = 0;  // each repetition's length
};
// measure_loop_overhead(): in the calling thread, repetitions of window_ms each (a helper
// thread raises the stop phase); about repetitions x window_ms of wall time.
LoopOverhead measure_loop_overhead(uint32_t sample_every = 64, int repetitions = 5, double window_ms = 10);

}  // namespace ipcsync::harness

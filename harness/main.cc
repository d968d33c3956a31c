// main.cc — bench: run a matrix of workload configurations and report them.
//
// Exit status: 0 all rows ok; 1 some row failed (verify_failed, timeout, crashed, error);
// 2 bad input (one line on stderr, nothing spawned); 128+signo after SIGINT/SIGTERM/SIGHUP,
// with every worker killed and reaped first.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "harness/clock.hpp"
#include "harness/config.hpp"
#include "harness/context.hpp"
#include "harness/output.hpp"
#include "harness/noise.hpp"
#include "harness/paths.hpp"
#include "harness/runner.hpp"
#include "harness/topology.hpp"
#include "harness/torture.hpp"
#include "ipcsync/futex.hpp"

using namespace ipcsync::harness;

namespace {

std::string now_iso8601() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return b;
}

std::string make_run_id() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char b[32];
  std::strftime(b, sizeof b, "%Y%m%dT%H%M%SZ", &tm);
  return std::string(b) + "-" + std::to_string(getpid());
}

// spawn_child(): starts args[0] with args (no shell) and the signal mask bench had before the
// SignalGate, its stdout on `out_fd` (-1: ours). Returns posix_spawn's error (0 on success).
int spawn_child(const std::vector<std::string>& args, const sigset_t& mask, int out_fd, pid_t& pid) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  if (out_fd >= 0) posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
  posix_spawnattr_init(&attr);
  posix_spawnattr_setsigmask(&attr, &mask);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  std::fflush(nullptr);
  std::cout << std::flush;
  const int rc = posix_spawn(&pid, argv[0], &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  return rc;
}

int reap(pid_t pid) {
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return st;
}

// run_plotter(): runs the plotter, its stdout on ours (the image paths) or, when ours carries
// CSV or JSON, on our stderr; waits for it. Returns "" on success, else what failed.
std::string run_plotter(const std::vector<std::string>& args, const sigset_t& mask, bool to_stdout) {
  pid_t pid = -1;
  if (const int rc = spawn_child(args, mask, to_stdout ? -1 : STDERR_FILENO, pid); rc != 0)
    return "cannot run " + args[0] + ": " + std::strerror(rc);
  const int st = reap(pid);
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return "";
  return "plotting failed (" +
         (WIFSIGNALED(st) ? "killed by signal " + std::to_string(WTERMSIG(st))
                          : "exit status " + std::to_string(WEXITSTATUS(st))) +
         "; see above)";
}

// python_version(): `python -c ...`'s sys.version (first word), or "unknown (why)".
std::string python_version(const std::string& python, const sigset_t& mask) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return std::string("unknown (pipe: ") + std::strerror(errno) + ")";
  pid_t pid = -1;
  const int rc = spawn_child({python, "-c", "import sys; print(sys.version.split()[0])"}, mask, fds[1], pid);
  ::close(fds[1]);
  std::string out;
  char buf[256];
  for (ssize_t n; rc == 0 && ((n = ::read(fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR));)
    if (n > 0) out.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  if (rc != 0) return std::string("unknown (") + std::strerror(rc) + ")";
  const int st = reap(pid);
  while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back()))) out.pop_back();
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || out.empty()) return "unknown (" + python + " failed)";
  return out;
}

int run(int argc, char** argv) {
  Options opt;
  if (torture_requested(argc, argv)) {
    // bench --torture: its own command line (torture.hpp); workers forked, faults injected.
    Topology topo;
    if (topo.simulated()) {
      std::cerr << "bench: the topology is simulated (" << topo.source() << "): the torture runs on this machine only\n";
      return 2;
    }
    SignalGate gate;
    signal(SIGPIPE, SIG_IGN);
    return run_torture(argc, argv, topo, gate);
  }
  try {
    opt = parse_options(argc, argv);
  } catch (const usage_error& e) {
    std::cerr << "bench: " << e.what() << "\n";
    return 2;
  }
  if (opt.help) return 0;
  if (opt.version) {
    const BuildInfo& b = build_info();
    std::cout << "bench (ipcsync) " << b.version << ", commit " << git_commit() << ", " << b.build_type << " build\n";
    return 0;
  }
  if (opt.list) {
    try {
      validate_pins(opt, Topology());  // --list validates every flag it is given, --pin too
    } catch (const usage_error& e) {
      std::cerr << "bench: " << e.what() << "\n";
      return 2;
    }
    std::cout << (opt.format == "json" ? list_json() + "\n" : list_text());
    return 0;
  }
  if (opt.dry_run) {
    // The placements --pin would give, on this machine or a simulated one; nothing is run.
    try {
      std::unique_ptr<Topology> sim;
      try {
        sim = opt.topology.empty() ? std::make_unique<Topology>() : std::make_unique<Topology>(opt.topology);
      } catch (const std::invalid_argument& e) {
        throw usage_error("--topology: " + std::string(e.what()));
      }
      if (!opt.cpuset.empty()) try {
          sim->restrict_to(opt.cpuset);
        } catch (const std::invalid_argument& e) {
          throw usage_error("--cpuset: " + std::string(e.what()));
        }
      if (opt.primitives.empty()) validate_pins(opt, *sim);
      else expand(opt, *sim);  // every flag of the run it previews is checked
      const std::vector<int64_t> procs =
          opt.procs.empty() ? std::vector<int64_t>{static_cast<int64_t>(sim->pus().size())} : opt.procs;
      std::cout << dry_run_text(*sim, opt.pins, procs);
    } catch (const usage_error& e) {
      std::cerr << "bench: " << e.what() << "\n";
      return 2;
    }
    return 0;
  }

  Topology topo;
  if (topo.simulated()) {  // e.g. HWLOC_SYNTHETIC: its PUs are not this machine's, nothing could be pinned
    std::cerr << "bench: the topology is simulated (" << topo.source()
              << "): a run cannot pin workers to its PUs; unset it to run on this machine, or see the placements "
                 "with --dry-run\n";
    return 2;
  }
  std::vector<PlanItem> plan;
  try {
    plan = expand(opt, topo);
  } catch (const usage_error& e) {
    std::cerr << "bench: " << e.what() << "\n";
    return 2;
  }

  SignalGate gate;  // from here on SIGINT/SIGTERM are handled at our wait points
  signal(SIGPIPE, SIG_IGN);  // stdout closed (| head): stop below, every measured row saved
  Clock::calibrate();
  HostContext ctx = collect_context(topo);
  const std::string run_id = make_run_id();
  for (const auto& item : plan)
    if (item.cfg.procs > static_cast<int>(topo.pus().size())) {
      ctx.warnings.push_back("procs " + std::to_string(item.cfg.procs) + " > " + std::to_string(topo.pus().size()) +
                             " allowed PUs (" + topo.allowed_text() + "): oversubscribed rows are flagged");
      break;
    }
  // The run entry: what was run, by which build (a file collects runs of several builds), with
  // which labels, and Python's version when the python backend ran.
  nlohmann::json run_entry{{"run_id", run_id}, {"date", now_iso8601()}, {"command_line", opt.command_line}};
  run_entry.update(build_provenance());
  run_entry["labels"] = opt.labels;
  if (std::any_of(plan.begin(), plan.end(), [](const PlanItem& i) { return i.cfg.backend == "python"; }))
    run_entry["library_versions"]["python"] = python_version(opt.python, gate.old_mask());
  // The harness's own cost per op (run_ops with an empty op): ops/s ~ 1e9 / (op + this).
  const LoopOverhead lo = measure_loop_overhead();
  run_entry["harness"] = {{"loop_overhead_ns", lo.ns_per_op},
                          {"sample_every", lo.sample_every},
                          {"repetitions", lo.repetitions},
                          {"window_ms", lo.window_ms}};
  // The native primitives' spin budget and what it was derived from (futex.hpp): calibrated
  // here, in the parent, so every forked worker inherits the same PAUSE count.
  const ipcsync::SpinCalibration spin = ipcsync::spin_calibration();
  run_entry["spin"] = {{"pause_ns", spin.pause_ns},
                       {"budget_ns", spin.budget_ns},
                       {"limit_pauses", spin.limit_pauses},
                       {"source", spin.source},
                       {"backoff_ns", spin.backoff_ns},
                       {"backoff_pauses", spin.backoff_pauses}};
  run_entry["warnings"] = ctx.warnings;
  const RowKeys keys{run_id, ctx.host_id, opt.labels};

  // --no-save: no file at all; the rows are only printed.
  const std::string path = opt.no_save ? std::string()
                           : opt.out.empty() ? default_results_path(opt.results_dir, ctx.host_name) : opt.out;
  std::unique_ptr<ResultsFile> file;
  if (!opt.no_save) {
    try {
      file = std::make_unique<ResultsFile>(path, ctx, run_entry);
    } catch (const std::exception& e) {
      std::cerr << "bench: " << e.what() << "\n";
      return 2;
    }
  }
  if (!opt.quiet)
    for (const auto& w : ctx.warnings) std::cerr << "***WARNING*** " << w << "\n";

  // --quiet: no table (and no progress or warnings); csv and json still print their rows.
  const bool table = opt.format == "table" && !opt.quiet;
  const bool tty = isatty(STDERR_FILENO) && !opt.quiet;
  std::vector<Table::Planned> planned;
  for (const auto& item : plan) planned.push_back({&item.cfg, item.pin});
  Table tab(planned);
  if (table) {
    std::cout << "ipcsync bench  host " << ctx.host_id << "  " << topo.cpu_model() << "  (allowed PUs "
              << topo.allowed_text() << " of " << topo.machine_pus() << ")  clock " << Clock::source() << ", overhead "
              << Clock::overhead_ns() << " ns\n";
    tab.header(std::cout);
  } else if (opt.format == "csv") {
    std::cout << csv_header() << "\n";
  }
  std::vector<RunResult> rows;
  nlohmann::json json_rows = nlohmann::json::array();
  int failures = 0, short_windows = 0, noisy = 0;
  const std::size_t total = plan.size() * static_cast<std::size_t>(opt.repeat);
  std::size_t done = 0;
  // Repetitions are interleaved (rep 0 of every configuration, then rep 1, ...), so slow drifts
  // in a shared machine's load hit every configuration alike and side-by-side ratios hold.
  try {
    for (int rep = 0; rep < opt.repeat; ++rep) {
      for (const auto& item : plan) {
        const PinPlan pins = topo.plan(item.pin, item.cfg.procs);
        const double timeout = watchdog_seconds(item.cfg, opt.timeout_s);
        if (tty) {
          std::cerr << "\r\033[K[" << ++done << "/" << total << "] " << item.cfg.workload << "/" << item.cfg.primitive
                    << "/" << item.cfg.backend << " procs " << item.cfg.procs << " pin " << item.pin << " rep " << rep
                    << std::flush;
        }
        RunResult r = run_once(item.instance, item.cfg, pins, topo, gate, timeout);
        r.repetition = rep;
        if (tty) std::cerr << "\r\033[K" << std::flush;
        // short_window verified but measured nothing real: not a failure (exit 0), but said
        // below, and left out of every statistic by the scripts.
        if (r.status == RunStatus::short_window) ++short_windows;
        else if (r.status != RunStatus::ok) ++failures;
        if (r.noisy) ++noisy;
        if (file) file->append(csv_row(r, keys));
        if (table) tab.row(std::cout, r);
        else if (opt.format == "csv") std::cout << csv_row(r, keys) << "\n";
        else json_rows.push_back(row_json(r, keys));
        std::cout << std::flush;
        if (r.fatal) {
          std::cerr << "bench: " << r.detail << "\n";
          std::fflush(nullptr);
          _exit(1);
        }
        rows.push_back(std::move(r));
        if (!std::cout) {
          std::cerr << "bench: stdout closed; stopped after " << rows.size() << " rows"
                    << (file ? ", all saved in " + path : std::string(" (--no-save: none saved)")) << "\n";
          return 128 + SIGPIPE;
        }
      }
    }
  } catch (const interrupted& e) {
    if (tty) std::cerr << "\r\033[K";
    std::cerr << "bench: interrupted by signal " << e.signo() << "; workers stopped, " << rows.size()
              << (file ? " rows kept in " + file->csv_path() : std::string(" rows measured (--no-save: none saved)"))
              << "\n";
    return 128 + e.signo();
  }
  if (table) {
    tab.summary(std::cout, rows);
    if (file) std::cout << "results: " << file->csv_path() << " (context " << file->json_path() << ")\n";
    else std::cout << "results: not saved (--no-save)\n";
  } else if (opt.format == "json") {
    nlohmann::json out{{"context", ctx.host}, {"run", run_entry}, {"rows", json_rows}};
    std::cout << out.dump(2) << "\n";
  }
  if (failures) std::cerr << "bench: " << failures << " run(s) failed; see the status column\n";
  if (short_windows && !opt.quiet)
    std::cerr << "bench: warning: " << short_windows << " run(s) measured a window under 90% of --duration or no op "
              << "(status short_window, reason in detail): not measurements; rerun on a quieter machine or longer\n";
  if (noisy && !opt.quiet)
    std::cerr << "bench: warning: " << noisy << " of " << rows.size() << " run(s) shared the allowed PUs with other work "
              << "(noisy=1: steal > " << kNoisyStealPct << "% or others > " << kNoisyOthersPct << "% of PU time)\n";
  if (opt.plot) {
    // Seeing the latest run at once: scripts/plot.py on this run's rows only, into a directory of
    // this run's own (<csv stem>-run-<run_id>-plots/), the image paths on our stdout (on stderr
    // when stdout carries --format csv or json). Run from an argument vector, never through a
    // shell: any path works, and nothing in --python or --out is interpreted.
    try {
      const std::vector<std::string> args{opt.python, script_path("plot.py"), file->csv_path(), "--run-id", run_id};
      if (const std::string err = run_plotter(args, gate.old_mask(), opt.format == "table"); !err.empty())
        std::cerr << "bench: --plot: " << err << "\n";
    } catch (const std::runtime_error& e) {
      std::cerr << "bench: --plot: " << e.what() << "\n";
    }
  }
  return failures ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "bench: error: " << e.what() << "\n";
    return 1;
  }
}

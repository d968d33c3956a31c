// main.cc — bench: run a matrix of workload configurations and report them.
//
// Exit status: 0 all rows ok; 1 some row failed (verify_failed, timeout, crashed, error);
// 2 bad input (one line on stderr, nothing spawned); 128+signo after SIGINT/SIGTERM/SIGHUP,
// with every worker killed and reaped first.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

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

// run_plotter(): runs args[0] with args (no shell), stdout sent to our stderr, with the signal
// mask bench had before the SignalGate; waits for it. Returns "" on success, else what failed.
std::string run_plotter(const std::vector<std::string>& args, const sigset_t& mask) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
  posix_spawnattr_init(&attr);
  posix_spawnattr_setsigmask(&attr, &mask);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  std::fflush(nullptr);
  std::cout << std::flush;
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return "cannot run " + args[0] + ": " + std::strerror(rc);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return "";
  return "plotting failed (" +
         (WIFSIGNALED(st) ? "killed by signal " + std::to_string(WTERMSIG(st))
                          : "exit status " + std::to_string(WEXITSTATUS(st))) +
         "; see above)";
}

int run(int argc, char** argv) {
  Options opt;
  try {
    opt = parse_options(argc, argv);
  } catch (const usage_error& e) {
    std::cerr << "bench: " << e.what() << "\n";
    return 2;
  }
  if (opt.help) return 0;
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
  nlohmann::json run_entry{{"run_id", run_id},          {"date", now_iso8601()},
                           {"command_line", opt.command_line}, {"git_commit", git_commit()},
                           {"warnings", ctx.warnings}};

  const std::string path = opt.out.empty() ? default_results_path(opt.results_dir, ctx.host_name) : opt.out;
  std::unique_ptr<ResultsFile> file;
  try {
    file = std::make_unique<ResultsFile>(path, ctx, run_entry);
  } catch (const std::exception& e) {
    std::cerr << "bench: " << e.what() << "\n";
    return 2;
  }
  for (const auto& w : ctx.warnings) std::cerr << "***WARNING*** " << w << "\n";

  const bool table = opt.format == "table";
  const bool tty = isatty(STDERR_FILENO);
  Table tab;
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
        if (r.status == "short_window") ++short_windows;
        else if (r.status != "ok") ++failures;
        if (r.noisy) ++noisy;
        file->append(csv_row(r, run_id, ctx.host_id));
        if (table) tab.row(std::cout, r);
        else if (opt.format == "csv") std::cout << csv_row(r, run_id, ctx.host_id) << "\n";
        else json_rows.push_back(row_json(r, run_id, ctx.host_id));
        std::cout << std::flush;
        if (r.fatal) {
          std::cerr << "bench: " << r.detail << "\n";
          std::fflush(nullptr);
          _exit(1);
        }
        rows.push_back(std::move(r));
        if (!std::cout) {
          std::cerr << "bench: stdout closed; stopped after " << rows.size() << " rows, all saved in " << path << "\n";
          return 128 + SIGPIPE;
        }
      }
    }
  } catch (const interrupted& e) {
    if (tty) std::cerr << "\r\033[K";
    std::cerr << "bench: interrupted by signal " << e.signo() << "; workers stopped, " << rows.size()
              << " rows kept in " << file->csv_path() << "\n";
    return 128 + e.signo();
  }
  if (table) {
    tab.summary(std::cout, rows);
    std::cout << "results: " << file->csv_path() << " (context " << file->json_path() << ")\n";
  } else if (opt.format == "json") {
    nlohmann::json out{{"context", ctx.host}, {"run", run_entry}, {"rows", json_rows}};
    std::cout << out.dump(2) << "\n";
  }
  if (failures) std::cerr << "bench: " << failures << " run(s) failed; see the status column\n";
  if (short_windows)
    std::cerr << "bench: warning: " << short_windows << " run(s) measured a window under 90% of --duration or no op "
              << "(status short_window, reason in detail): not measurements; rerun on a quieter machine or longer\n";
  if (noisy)
    std::cerr << "bench: warning: " << noisy << " of " << rows.size() << " run(s) shared the allowed PUs with other work "
              << "(noisy=1: steal > " << kNoisyStealPct << "% or others > " << kNoisyOthersPct << "% of PU time)\n";
  if (opt.plot) {
    // Seeing the latest run at once: scripts/plot.py on this run's rows only, its stdout on our
    // stderr. Run from an argument vector, never through a shell: any path works, and nothing
    // in --python or --out is interpreted.
    try {
      const std::vector<std::string> args{opt.python, script_path("plot.py"), file->csv_path(), "--run-id", run_id};
      if (const std::string err = run_plotter(args, gate.old_mask()); !err.empty())
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

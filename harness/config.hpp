// config.hpp — the bench command line: parsing, validation and expansion into a run matrix.
//
// Every numeric flag takes one value, a list (1,2,4,8) or an inclusive range (1-16); the whole
// matrix (primitives x backends x pin policies x procs x workload parameters) runs in one call.
// Bad input never spawns anything: it yields one line naming the flag and what it accepts, and
// exit status 2.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness/workload.hpp"

namespace ipcsync::harness {

// kMaxRuns: the most runs one bench call may make — the product of the sizes of every list in
// the matrix (primitives, workloads, backends, modes, pin policies, procs, each workload
// parameter) times --repeat, counted before anything is expanded. Above it bench refuses
// (exit 2) instead of building a matrix that cannot fit in memory or finish.
inline constexpr uint64_t kMaxRuns = 10000;

// Watchdog (when --timeout is not given): a timed run gets warm-up + 2 x duration + 10 s; an
// --ops run gets warm-up + 120 s + its budget of kWatchdogNsPerOp per op of every worker
// (kWatchdogNsPerOpPython for the python backend), so a large --ops can finish.
inline constexpr double kWatchdogSlackS = 10.0;
inline constexpr double kWatchdogOpsBaseS = 120.0;
inline constexpr double kWatchdogNsPerOp = 100e3;         // 10k ops/s per worker, contended, loaded
inline constexpr double kWatchdogNsPerOpPython = 1000e3;  // 1k ops/s per worker

// usage_error: bad input; main prints "bench: <what>" and exits 2.
class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Options {
  std::vector<std::string> primitives;
  std::vector<std::string> workloads;  // empty: each primitive's default workload
  std::vector<std::string> backends{"native"};
  std::vector<std::string> pins{"compact"};
  bool pins_given = false;  // --pin was on the command line
  std::vector<std::string> modes{"processes"};
  std::vector<int64_t> procs;  // empty -> number of PUs
  std::map<std::string, std::vector<int64_t>> params;  // only the flags given
  double duration_s = 2.0;
  uint64_t ops = 0;
  double warmup_s = 0.2;
  int repeat = 1;
  uint32_t sample_every = 0;  // 0: the workload's default_sample_every
  bool unsafe = false;
  double timeout_s = 0;  // 0: derived from duration
  std::string out;
  std::string results_dir = "results";
  std::string format = "table";
  std::string python = "/usr/bin/python3";
  bool list = false;
  bool version = false;        // --version: print it and exit
  bool quiet = false;          // --quiet: no table, progress or warnings on the terminal
  bool no_save = false;        // --no-save: no results file at all
  bool all_primitives = false;  // --primitive all: roles a backend lacks are skipped, not refused
  bool plot = false;
  std::string fault;  // --inject-fault (tests only)  // plot this run's rows when done (scripts/plot.py)
  bool help = false;  // help was printed
  // --dry-run: print the placements of --pin x --procs, run nothing; on a simulated machine with
  // --topology (XML file or hwloc synthetic description), restricted to --cpuset if given.
  bool dry_run = false;
  std::string topology;
  std::string cpuset;
  // --label KEY=VALUE (repeatable): what this run stands for beyond what bench can see
  // (smt=off, governor=performance). Sorted by key; written to every row's `labels` column as
  // key=value;... and to the run's JSON entry.
  std::map<std::string, std::string> labels;
  std::string command_line;
};

// parse_options(): throws usage_error on bad input; sets help=true after printing --help.
Options parse_options(int argc, char** argv);

// TortureArgs: bench --torture's flags as the user wrote them, before the torture checks
// them (torture.cc). parse_torture_args() parses them with CLI11 here, in config.cc: CLI11 is
// header-only, and every file that builds a CLI::App generates its inline code again (~170 KB
// of object code, half of torture.cc's build), so one file holds both command lines.
// `help` holds the lists the help text names (roles, faults, broken primitives), which the
// torture owns. On --help: prints it and exits 0. A parse error: usage_error.
struct TortureArgs {
  bool torture = false;
  std::string roles = "all", backends = "native", procs, duration = "60", seed, interval = "5", faults = "all";
  std::string out, results_dir = "results", broken;
  bool no_save = false, quiet = false;
};
struct TortureHelp {
  std::string roles, faults, broken;
};
TortureArgs parse_torture_args(int argc, char** argv, const TortureHelp& help);

// One configuration of the matrix (repetitions are run by the caller).
struct PlanItem {
  const WorkloadDef* def = nullptr;
  Instance instance;
  RunConfig cfg;
  std::string pin;
};

// expand(): validates names against the registry and the topology and builds the matrix.
// Throws usage_error naming the first bad flag.
class Topology;
std::vector<PlanItem> expand(const Options& o, const Topology& topo);
// validate_pins(): the --pin policies against the topology (expand() and --list call it).
void validate_pins(const Options& o, const Topology& topo);

// parse_int_list(): "8", "1,2,4", "1-16" -> values; throws usage_error mentioning `flag`.
// count_int_list(): how many values the same text names, validated but not expanded.
std::vector<int64_t> parse_int_list(const std::string& flag, const std::string& text, int64_t min,
                                    int64_t max);
uint64_t count_int_list(const std::string& flag, const std::string& text, int64_t min, int64_t max);

// watchdog_seconds(): the watchdog of one run: `timeout_flag` when > 0 (--timeout), else the
// rule above.
double watchdog_seconds(const RunConfig& cfg, double timeout_flag);

// list_text()/list_json(): what `bench --list` prints.
std::string list_text();
std::string list_json();

}  // namespace ipcsync::harness

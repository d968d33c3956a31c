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
  bool plot = false;
  std::string fault;  // --inject-fault (tests only)  // plot this run's rows when done (scripts/plot.py)
  bool help = false;  // help was printed
  std::string command_line;
};

// parse_options(): throws usage_error on bad input; sets help=true after printing --help.
Options parse_options(int argc, char** argv);

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

// parse_int_list(): "8", "1,2,4", "1-16" -> values; throws usage_error mentioning `flag`.
std::vector<int64_t> parse_int_list(const std::string& flag, const std::string& text, int64_t min,
                                    int64_t max);

// list_text()/list_json(): what `bench --list` prints.
std::string list_text();
std::string list_json();

}  // namespace ipcsync::harness

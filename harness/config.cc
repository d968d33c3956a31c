// config.cc — CLI11 parsing plus ipcsync's own validation of values.
#include "harness/config.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "harness/backend_names.hpp"
#include "harness/topology.hpp"

namespace ipcsync::harness {
namespace {

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  if (!s.empty() && s.back() == sep) out.emplace_back();
  if (s.empty()) out.emplace_back();
  return out;
}

std::string flag_of(const std::string& param) {
  std::string f = "--" + param;
  std::replace(f.begin(), f.end(), '_', '-');
  return f;
}

// A workload parameter is declared by each workload that has it (ParamSpec), with that
// workload's own help, default and range; the flag is one for all of them. param_uses(name):
// every workload's declaration of `name`, in registry order.
std::vector<std::pair<const WorkloadDef*, const ParamSpec*>> param_uses(const std::string& name) {
  std::vector<std::pair<const WorkloadDef*, const ParamSpec*>> out;
  for (const auto& d : Registry::get().all())
    for (const auto& p : d.params)
      if (p.name == name) out.emplace_back(&d, &p);
  return out;
}

std::string range_text(const ParamSpec& p) {
  return std::to_string(p.min) + ".." + (p.max == INT64_MAX ? std::string("") : std::to_string(p.max));
}

// param_help(name): the flag's --help text, true for every workload that has it: the help text
// (a workload that words it differently is named with its own), then each default and range
// with the workloads it holds for, e.g. "default 0 (counter, value_counter), 1000 (cinema)".
std::string param_help(const std::string& name) {
  const auto uses = param_uses(name);
  auto grouped = [&](auto key) {
    std::vector<std::pair<std::string, std::vector<std::string>>> groups;  // value -> workloads, first-seen order
    for (const auto& [d, p] : uses) {
      const std::string k = key(*p);
      auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == k; });
      if (it == groups.end()) groups.push_back({k, {d->name}});
      else it->second.push_back(d->name);
    }
    return groups;
  };
  auto listed = [&](const auto& groups, const std::string& sep) {
    std::string t;
    for (const auto& [value, ws] : groups) {
      if (!t.empty()) t += sep;
      t += value;
      if (groups.size() > 1) t += " (" + join(ws) + ")";
    }
    return t;
  };
  auto helps = grouped([](const ParamSpec& p) { return p.help; });
  std::stable_sort(helps.begin(), helps.end(), [](const auto& a, const auto& b) { return a.second.size() > b.second.size(); });
  // The wording most workloads share comes first, unnamed when several share it; every other
  // wording is named with its workloads.
  const bool shared = helps.size() == 1 || helps[0].second.size() > 1;
  std::string text = shared ? helps[0].first : join(helps[0].second) + ": " + helps[0].first;
  for (std::size_t i = 1; i < helps.size(); ++i) text += "; " + join(helps[i].second) + ": " + helps[i].first;
  text += ". Default " + listed(grouped([](const ParamSpec& p) { return std::to_string(p.def); }), ", ");
  text += "; range " + listed(grouped([](const ParamSpec& p) { return range_text(p); }), ", ");
  if (uses.size() > 1 || helps.size() == 1) text += "; workloads: " + [&] {
    std::vector<std::string> ws;
    for (const auto& [d, p] : uses) ws.push_back(d->name);
    return join(ws);
  }();
  return text;
}

// loosest_range(name): what any workload accepts for `name`; each run is then held to its own
// workload's range when the plan is made.
std::pair<int64_t, int64_t> loosest_range(const std::string& name) {
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (const auto& [d, p] : param_uses(name)) lo = std::min(lo, p->min), hi = std::max(hi, p->max);
  return {lo, hi};
}

bool parse_i64(const std::string& t, int64_t& v) {
  if (t.empty()) return false;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  return ec == std::errc() && p == t.data() + t.size();
}

double parse_seconds(const std::string& flag, const std::string& t, bool allow_zero) {
  std::string s = t;
  double scale = 1.0;
  if (s.size() > 2 && s.compare(s.size() - 2, 2, "ms") == 0) {
    scale = 1e-3;
    s.resize(s.size() - 2);
  } else if (!s.empty() && s.back() == 's') {
    s.pop_back();
  }
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v))
    throw usage_error(flag + ": '" + t + "' is not a number of seconds (e.g. 2, 0.5, 250ms)");
  v *= scale;
  if (v < 0 || (!allow_zero && v == 0))
    throw usage_error(flag + ": '" + t + "' must be " + (allow_zero ? ">= 0" : "> 0") + " seconds");
  if (v > 86400) throw usage_error(flag + ": '" + t + "' is more than a day");
  return v;
}

}  // namespace

namespace {

// One item of an integer list: a value or an inclusive range, validated.
struct IntItem {
  int64_t a = 0, b = 0;
};

std::vector<IntItem> parse_int_items(const std::string& flag, const std::string& text, int64_t min, int64_t max) {
  const std::string accepted = " (expected integers in " + std::to_string(min) + ".." +
                               std::to_string(max) + ": a value, a list 1,2,4 or a range 1-8)";
  if (text.empty()) throw usage_error(flag + ": empty value" + accepted);
  std::vector<IntItem> out;
  for (const std::string& item : split(text, ',')) {
    int64_t a = 0, b = 0;
    const std::size_t dash = item.find('-', 1);
    if (dash == std::string::npos) {
      if (!parse_i64(item, a)) throw usage_error(flag + ": '" + item + "' is not an integer" + accepted);
      b = a;
    } else if (!parse_i64(item.substr(0, dash), a) || !parse_i64(item.substr(dash + 1), b)) {
      throw usage_error(flag + ": '" + item + "' is not a range" + accepted);
    } else if (b < a) {
      throw usage_error(flag + ": range '" + item + "' is empty" + accepted);
    }
    if (a < min || b > max) throw usage_error(flag + ": '" + item + "' is out of range" + accepted);
    out.push_back({a, b});
  }
  return out;
}

uint64_t count_items(const std::vector<IntItem>& items) {
  uint64_t n = 0;
  for (const auto& it : items) {
    const uint64_t k = static_cast<uint64_t>(it.b) - static_cast<uint64_t>(it.a) + 1;  // b >= a
    n = k == 0 || n > UINT64_MAX - k ? UINT64_MAX : n + k;  // k == 0: the full int64 span
  }
  return n;
}

std::string runs_limit_text() {
  return "the limit is " + std::to_string(kMaxRuns) +
         " runs (primitives x workloads x backends x modes x pins x procs x parameter values x repeat);"
         " split the sweep into several bench calls";
}

}  // namespace

uint64_t count_int_list(const std::string& flag, const std::string& text, int64_t min, int64_t max) {
  return count_items(parse_int_items(flag, text, min, max));
}

std::vector<int64_t> parse_int_list(const std::string& flag, const std::string& text, int64_t min,
                                    int64_t max) {
  const auto items = parse_int_items(flag, text, min, max);
  // Never expand more values than one bench call may run (a range 0-100000000 would be 800 MB).
  if (const uint64_t n = count_items(items); n > kMaxRuns)
    throw usage_error(flag + ": '" + text + "' names " + std::to_string(n) + " values; " + runs_limit_text());
  std::vector<int64_t> out;
  for (const auto& it : items)
    for (int64_t v = it.a;; ++v) {
      out.push_back(v);
      if (v == it.b) break;
    }
  return out;
}

double watchdog_seconds(const RunConfig& cfg, double timeout_flag) {
  if (timeout_flag > 0) return timeout_flag;
  if (cfg.ops_per_worker == 0) return cfg.warmup_s + 2 * cfg.duration_s + kWatchdogSlackS;
  const double per_op = cfg.backend == "python" ? kWatchdogNsPerOpPython : kWatchdogNsPerOp;
  return cfg.warmup_s + kWatchdogOpsBaseS +
         static_cast<double>(cfg.ops_per_worker) * static_cast<double>(cfg.procs) * per_op * 1e-9;
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 0; i < argc; ++i) o.command_line += (i ? " " : "") + std::string(argv[i]);

  CLI::App app{"bench — measure and stress-test inter-process synchronization primitives", "bench"};
  app.set_help_flag("-h,--help", "Print this help and exit");
  app.footer("Numeric flags take a value, a list (1,2,4) or a range (1-8). One call runs at most " +
             std::to_string(kMaxRuns) +
             " runs: the product of the sizes of every list (primitives, workloads, backends, modes, pins, procs, "
             "parameter values) times --repeat; more is refused. Run `bench --list` for primitives, backends and "
             "workloads.");
  std::string primitive, backend = "native", procs, duration, ops, warmup = "0.2", repeat = "1",
              sample_every, timeout, workload;
  std::vector<std::string> pins;
  std::string mode = "processes";
  std::vector<std::string> labels;
  app.add_option("--primitive,-p", primitive, "Primitive(s) to measure, comma separated, or all (see --list)");
  app.add_option("--workload,-w", workload, "Workload(s) to run, comma separated; each runs the listed primitives it drives (default: each primitive's default workload)");
  app.add_option("--backend,-b", backend, "Backend(s): " + join(all_backend_names(), ",") + " or all")->capture_default_str();
  app.add_option("--procs,-n", procs, "Worker processes, 1.." + std::to_string(kMaxWorkers) + " (default: the number of PUs)");
  app.add_option("--pin", pins, "none | compact | scatter | explicit PU list (e.g. 0,1 or 0-3); repeat the flag to sweep [compact]");
  app.add_option("--mode", mode, "processes, threads, or both (processes,threads): workers as forked processes or as threads of bench [processes]");
  app.add_option("--duration,-d", duration, "Measured seconds per run (2, 0.5, 250ms) [2]");
  app.add_option("--ops", ops, "Fixed ops per worker instead of --duration (watchdog: see --timeout)");
  app.add_option("--warmup", warmup, "Warm-up seconds before measuring [0.2]");
  app.add_option("--repeat,-r", repeat, "Repetitions per configuration [1]");
  app.add_option("--sample-every", sample_every, "Time every k-th op for latency (the clock costs ~20 ns; see the JSON context) [per workload: 64 for cheap ops, 1 for wake-ups]");
  app.add_flag("--unsafe", o.unsafe, "counter: run without the lock and report lost updates");
  app.add_option("--timeout", timeout,
                 "Watchdog seconds per run (default: warm-up + 2 x duration + 10 s; with --ops: warm-up + 120 s + "
                 "100 us per op of every worker, 1 ms for the python backend)");
  app.add_option("--out,-o", o.out, "CSV file to append to (context JSON beside it). Appends are locked and checked; a torn last line is cut off; a corrupt context is refused (exit 2)");
  app.add_option("--label", labels,
                 "KEY=VALUE (repeatable): what this run stands for (smt=off, governor=performance); "
                 "stored in each row's labels column and in the run's JSON entry, for compare.py --a label.KEY=...");
  app.add_option("--results-dir", o.results_dir, "Default results root [results]");
  app.add_option("--format,-f", o.format, "Output on stdout: table, csv or json [table]");
  app.add_option("--python", o.python, "Python interpreter for --backend python and --plot: an executable file [/usr/bin/python3]");
  app.add_flag("--plot", o.plot, "When done, plot this run's rows (scripts/plot.py under --python) and print the image paths");
  app.add_option("--inject-fault", o.fault, "Testing only: break the workload on purpose (see --list) to prove its verify step fails")
      ->group("Testing");
  app.add_flag("--list", o.list, "List primitives, backends and workloads, then exit");
  bool torture_flag = false;  // main() dispatches --torture before this parser (torture.hpp)
  app.add_flag("--torture", torture_flag,
               "Stress-test instead of measuring: a seeded, randomized soak under injected faults "
               "(kill, stop, stutter, shuffle, signal) with a checker per role; see bench --torture --help");
  app.add_flag("--version", o.version, "Print bench's version and the build it comes from, then exit");
  app.add_flag("--quiet,-q", o.quiet,
               "No table, progress or warnings: only errors (and --format csv/json output) are printed");
  app.add_flag("--no-save", o.no_save,
               "Write no results file (nothing is appended to results/ or --out); the rows are only printed");
  app.add_flag("--dry-run", o.dry_run,
               "Print where --pin would put each of --procs workers (PU, core, NUMA node, package), on this machine "
               "or on --topology; run nothing, write nothing");
  app.add_option("--topology", o.topology,
                 "With --dry-run: simulate a machine: an hwloc XML file (lstopo out.xml) or a synthetic description "
                 "such as \"pack:2 numa:2 core:8 pu:2\"");
  app.add_option("--cpuset", o.cpuset,
                 "With --dry-run --topology: the PUs the simulated run may use, as taskset -c would give them (e.g. 0-3,8)");
  std::map<std::string, std::string> param_text;
  std::set<std::string> seen;
  for (const auto& d : Registry::get().all())
    for (const auto& p : d.params)
      if (seen.insert(p.name).second) app.add_option(flag_of(p.name), param_text[p.name], param_help(p.name));

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    o.help = true;
    return o;
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    throw usage_error(msg + " (see bench --help)");
  }
  if (o.version) return o;  // nothing else matters
  // A flag given with an empty value ("--procs ''") is bad input, never "use the default".
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->count() == 0 || opt->get_expected_min() == 0) continue;  // absent, or a flag
    for (const std::string& v : opt->results())
      if (v.empty()) throw usage_error(opt->get_name() + ": empty value (see bench --help)");
  }
  // --python: an executable regular file (a directory passes access(X_OK)).
  auto check_python = [&] {
    struct stat st {};
    if (stat(o.python.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || access(o.python.c_str(), X_OK) != 0)
      throw usage_error("--python: '" + o.python + "' is not an executable file (a Python interpreter)");
  };
  if (app.count("--python") > 0 || o.plot) check_python();
  // --dry-run, and the simulated machine that only it can use (a run binds workers: it needs this one)
  if (!o.dry_run && app.count("--topology") > 0)
    throw usage_error("--topology: simulates a machine for --dry-run only (a run always uses this machine)");
  if (!o.dry_run && app.count("--cpuset") > 0)
    throw usage_error("--cpuset: restricts a simulated machine for --dry-run only (restrict a run with taskset -c)");
  if (o.dry_run && o.list) throw usage_error("--dry-run: cannot be combined with --list");
  if (o.dry_run && o.plot) throw usage_error("--dry-run: cannot be combined with --plot (nothing is run)");
  if (o.dry_run && o.format != "table")
    throw usage_error("--dry-run: prints text; --format " + o.format + " is not available with it");

  // --label KEY=VALUE: a key of letters, digits, '_', '.', '-'; a value without ';', ',', '=',
  // quotes or spaces (it is written as key=value;... in one CSV field).
  for (const std::string& l : labels) {
    const auto eq = l.find('=');
    const std::string k = eq == std::string::npos ? l : l.substr(0, eq);
    const std::string v = eq == std::string::npos ? "" : l.substr(eq + 1);
    const bool key_ok = !k.empty() && std::all_of(k.begin(), k.end(), [](unsigned char c) {
      return std::isalnum(c) || c == '_' || c == '.' || c == '-';
    });
    const bool value_ok = !v.empty() && std::all_of(v.begin(), v.end(), [](unsigned char c) {
      return std::isgraph(c) && c != ';' && c != ',' && c != '=' && c != '"';
    });
    if (eq == std::string::npos || !key_ok || !value_ok)
      throw usage_error("--label: '" + l + "' is not KEY=VALUE (key: letters, digits, _ . -; value: no spaces, ; , = or quotes)");
    if (o.labels.count(k) && o.labels[k] != v)
      throw usage_error("--label: key '" + k + "' is given twice with different values");
    o.labels[k] = v;
  }

  if (o.no_save && !o.out.empty()) throw usage_error("--no-save: cannot be combined with --out");
  if (o.no_save && o.plot) throw usage_error("--no-save: --plot plots the saved results; drop one of them");

  // --primitive / --workload ("all": every primitive the chosen backends implement)
  if (!primitive.empty()) o.primitives = split(primitive, ',');
  if (std::find(o.primitives.begin(), o.primitives.end(), "all") != o.primitives.end()) {
    if (o.primitives.size() != 1) throw usage_error("--primitive: 'all' stands alone (not in a list)");
    o.primitives = Registry::get().primitives();
    o.all_primitives = true;
  }
  if (!workload.empty()) o.workloads = split(workload, ',');
  const auto known = Registry::get().primitives();
  for (const auto& p : o.primitives)
    if (std::find(known.begin(), known.end(), p) == known.end())
      throw usage_error("--primitive: unknown primitive '" + p + "' (accepted: " + join(known) + ")");
  for (const auto& w : o.workloads)
    if (!Registry::get().find(w)) {
      std::vector<std::string> names;
      for (const auto& d : Registry::get().all()) names.push_back(d.name);
      throw usage_error("--workload: unknown workload '" + w + "' (accepted: " + join(names) + ")");
    }
  if (o.primitives.empty() && !o.list) {
    if (o.workloads.empty() && !o.dry_run)  // a dry run's placements need no primitive
      throw usage_error("--primitive: required (accepted: " + join(known) + "); see bench --list");
    for (const auto& w : o.workloads)
      for (const auto& p : Registry::get().find(w)->primitives)
        if (std::find(o.primitives.begin(), o.primitives.end(), p) == o.primitives.end()) o.primitives.push_back(p);
  }

  // --backend
  o.backends = split(backend, ',');
  for (const auto& b : o.backends) {
    const auto& all = all_backend_names();
    if (b != "all" && std::find(all.begin(), all.end(), b) == all.end())
      throw usage_error("--backend: unknown backend '" + b + "' (accepted: " + join(all) + ", all)");
  }

  o.modes = split(mode, ',');
  for (const auto& m : o.modes)
    if (m != "processes" && m != "threads")
      throw usage_error("--mode: unknown mode '" + m + "' (accepted: processes, threads)");

  // --pin (validated against the topology in expand())
  if (!pins.empty()) {
    o.pins = pins;
    o.pins_given = true;
  }

  // The size of the run matrix, counted before any list is expanded.
  {
    long double runs = 1;
    auto times = [&](uint64_t n) { runs *= static_cast<long double>(std::max<uint64_t>(n, 1)); };
    times(o.primitives.size());
    times(o.workloads.size());
    std::size_t nb = 0;
    for (const auto& b : o.backends) nb += b == "all" ? all_backend_names().size() : 1;
    times(nb);
    times(o.modes.size());
    times(o.pins.size());
    if (!procs.empty()) times(count_int_list("--procs", procs, 1, kMaxWorkers));
    for (const auto& [name, text] : param_text) {
      if (text.empty()) continue;
      const auto [lo, hi] = loosest_range(name);
      times(count_int_list(flag_of(name), text, lo, hi));
    }
    {
      const auto r = parse_int_list("--repeat", repeat, 1, 1000);
      if (r.size() != 1) throw usage_error("--repeat: takes one value");
      times(static_cast<uint64_t>(r[0]));  // runs per configuration
    }
    if (runs > static_cast<long double>(kMaxRuns)) {
      char n[64];
      std::snprintf(n, sizeof n, "%.4Lg", runs);
      throw usage_error("the run matrix has " + std::string(n) + " runs; " + runs_limit_text());
    }
  }

  if (!procs.empty()) o.procs = parse_int_list("--procs", procs, 1, kMaxWorkers);
  if (!duration.empty()) o.duration_s = parse_seconds("--duration", duration, false);
  if (!ops.empty()) {
    if (!duration.empty()) throw usage_error("--ops: cannot be combined with --duration");
    const auto v = parse_int_list("--ops", ops, 1, int64_t{1} << 40);
    if (v.size() != 1) throw usage_error("--ops: takes one value");
    o.ops = static_cast<uint64_t>(v[0]);
  }
  o.warmup_s = parse_seconds("--warmup", warmup, true);
  {
    const auto v = parse_int_list("--repeat", repeat, 1, 1000);
    if (v.size() != 1) throw usage_error("--repeat: takes one value");
    o.repeat = static_cast<int>(v[0]);
  }
  if (!sample_every.empty()) {
    const auto v = parse_int_list("--sample-every", sample_every, 1, 1 << 20);
    if (v.size() != 1) throw usage_error("--sample-every: takes one value");
    o.sample_every = static_cast<uint32_t>(v[0]);
  }
  if (!timeout.empty()) o.timeout_s = parse_seconds("--timeout", timeout, false);
  if (o.format != "table" && o.format != "csv" && o.format != "json")
    throw usage_error("--format: unknown format '" + o.format + "' (accepted: table, csv, json)");
  for (const auto& [name, text] : param_text) {
    if (text.empty()) continue;
    const auto [lo, hi] = loosest_range(name);
    o.params[name] = parse_int_list(flag_of(name), text, lo, hi);
  }
  return o;
}

void validate_pins(const Options& o, const Topology& topo) {
  for (const auto& pin : o.pins)
    if (std::string err = topo.validate_policy(pin); !err.empty())
      throw usage_error("--pin: " + err + " (accepted: none, compact, scatter, or a PU list of " +
                        [&] {
                          std::vector<std::string> s;
                          for (int p : topo.pus()) s.push_back(std::to_string(p));
                          return join(s, ",");
                        }() + ")");
}

std::vector<PlanItem> expand(const Options& o, const Topology& topo) {
  validate_pins(o, topo);
  std::vector<int64_t> procs = o.procs;
  if (procs.empty()) procs.push_back(static_cast<int64_t>(topo.pus().size()));

  // (primitive, workload) pairs: each primitive's default workload, or every listed workload
  // for each listed primitive it drives (each primitive must be driven by one of them).
  std::vector<std::pair<std::string, const WorkloadDef*>> pairs;
  for (const auto& prim : o.primitives) {
    if (o.workloads.empty()) {
      const WorkloadDef* def = Registry::get().default_for(prim);
      if (!def) throw usage_error("--primitive: '" + prim + "' has no default workload; name one with --workload");
      pairs.emplace_back(prim, def);
      continue;
    }
    bool driven = false;
    for (const auto& w : o.workloads) {
      const WorkloadDef* def = Registry::get().find(w);
      if (std::find(def->primitives.begin(), def->primitives.end(), prim) == def->primitives.end()) continue;
      pairs.emplace_back(prim, def);
      driven = true;
    }
    if (!driven && !o.all_primitives)
      throw usage_error("--workload: " + join(o.workloads) + " does not drive primitive '" + prim + "' (see bench --list)");
  }
  for (const auto& [name, vals] : o.params) {
    (void)vals;
    if (std::none_of(pairs.begin(), pairs.end(), [&](const auto& pr) {
          return std::any_of(pr.second->params.begin(), pr.second->params.end(),
                             [&](const ParamSpec& p) { return p.name == name; });
        }))
      throw usage_error(flag_of(name) + ": not a parameter of the selected workload(s) (see bench --list)");
  }

  std::vector<PlanItem> plan;
  for (const auto& [prim, def] : pairs) {
    if (o.unsafe && !def->has_unsafe) {
      std::vector<std::string> with;
      for (const auto& d : Registry::get().all())
        if (d.has_unsafe) with.push_back(d.name);
      throw usage_error("--unsafe: only the " + join(with) + " workload" + (with.size() == 1 ? " has" : "s have") +
                        " an unsafe mode");
    }
    if (!o.fault.empty() && std::find(def->faults.begin(), def->faults.end(), o.fault) == def->faults.end())
      throw usage_error("--inject-fault: workload '" + def->name + "' has no fault '" + o.fault + "' (it has: " +
                        (def->faults.empty() ? std::string("none") : join(def->faults)) + ")");

    std::vector<std::string> backends;
    for (const auto& b : o.backends) {
      if (b == "all") {
        for (const auto& x : all_backend_names())
          if (Registry::instantiate(*def, prim, x) && std::find(backends.begin(), backends.end(), x) == backends.end())
            backends.push_back(x);
      } else if (std::find(backends.begin(), backends.end(), b) == backends.end()) {
        backends.push_back(b);
      }
    }
    // Cartesian product of the workload's parameters (defaults where not given), each value
    // within this workload's own range.
    std::vector<std::map<std::string, int64_t>> combos{{}};
    for (const auto& spec : def->params) {
      auto it = o.params.find(spec.name);
      if (it != o.params.end())
        for (int64_t v : it->second)
          if (v < spec.min || v > spec.max)
            throw usage_error(flag_of(spec.name) + ": " + std::to_string(v) + " is out of range for workload " +
                              def->name + " (" + range_text(spec) + ")");
      const std::vector<int64_t> vals = it == o.params.end() ? std::vector<int64_t>{spec.def} : it->second;
      std::vector<std::map<std::string, int64_t>> next;
      for (const auto& c : combos)
        for (int64_t v : vals) {
          auto m = c;
          m[spec.name] = v;
          next.push_back(std::move(m));
        }
      combos = std::move(next);
    }
    for (const auto& b : backends) {
      std::optional<Instance> inst = Registry::instantiate(*def, prim, b);
      if (inst && inst->python) {
        struct stat st {};
        if (stat(o.python.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || access(o.python.c_str(), X_OK) != 0)
          throw usage_error("--python: '" + o.python +
                            "' is not an executable file (the python backend needs a Python interpreter)");
      }
      if (!inst && o.all_primitives) continue;  // --primitive all: what this backend offers
      if (!inst)
        throw usage_error("--backend: '" + b + "' does not implement primitive '" + prim + "' (it is implemented by: " +
                          join(Registry::get().backends_for(prim)) + ")");
      // The python backend runs multiprocessing's processes; it has no thread mode (a row
      // labelled threads would be processes).
      if (inst->python && std::find(o.modes.begin(), o.modes.end(), "threads") != o.modes.end())
        throw usage_error("--mode threads: the python backend runs processes only (multiprocessing); "
                          "use --mode processes, or leave python out of --backend");
      // A workload of PU pairs runs 2 workers on each unordered pair of the allowed PUs.
      std::vector<std::string> item_pins = o.pins;
      std::vector<int64_t> item_procs = procs;
      if (def->every_pu_pair) {
        if (o.pins_given)
          throw usage_error("--pin: workload " + def->name +
                            " runs on every pair of the allowed PUs (restrict them with taskset -c)");
        if (!o.procs.empty() && o.procs != std::vector<int64_t>{2})
          throw usage_error("--procs: workload " + def->name + " runs 2 workers, one on each PU of a pair");
        const std::vector<int>& pus = topo.pus();
        if (pus.size() < 2)
          throw usage_error("--workload " + def->name + ": needs at least 2 allowed PUs (allowed: " +
                            topo.allowed_text() + ")");
        item_pins.clear();
        for (std::size_t i = 0; i < pus.size(); ++i)
          for (std::size_t j = i + 1; j < pus.size(); ++j)
            item_pins.push_back(std::to_string(std::min(pus[i], pus[j])) + "," + std::to_string(std::max(pus[i], pus[j])));
        if (item_pins.size() * static_cast<uint64_t>(o.repeat) > kMaxRuns)
          throw usage_error("--workload " + def->name + ": " + std::to_string(item_pins.size()) +
                            " PU pairs; " + runs_limit_text() + " (restrict the PUs with taskset -c)");
        item_procs = {2};
      }
      for (const auto& mode : o.modes)
      for (const auto& pin : item_pins)
        for (int64_t n : item_procs)
          for (const auto& params : combos) {
            PlanItem item;
            item.def = def;
            item.instance = *inst;
            item.pin = pin;
            item.cfg.workload = def->name;
            item.cfg.primitive = prim;
            item.cfg.backend = b;
            item.cfg.mode = mode;
            item.cfg.procs = static_cast<int>(n);
            item.cfg.params = params;
            item.cfg.duration_s = o.duration_s;
            item.cfg.ops_per_worker = o.ops;
            item.cfg.warmup_s = o.warmup_s;
            item.cfg.sample_every = o.sample_every ? o.sample_every : def->default_sample_every;
            item.cfg.unsafe = o.unsafe;
            item.cfg.python = o.python;
            item.cfg.fault = o.fault;
            if (def->validate) {
              std::string err;
              try {
                err = def->validate(item.cfg);
              } catch (const std::exception& e) {  // e.g. RunConfig::param() of an undeclared key
                err = std::string("cannot check the configuration: ") + e.what();
              }
              if (!err.empty()) throw usage_error(err + " (workload " + def->name + ")");
            }
            plan.push_back(std::move(item));
          }
    }
  }
  if (plan.empty() && o.all_primitives) throw usage_error("--primitive all: --backend " + join(o.backends) + " implements none of them");
  return plan;
}

std::string list_text() {
  std::ostringstream s;
  const auto& reg = Registry::get();
  // Columns as wide as their longest entry plus two spaces, so every row lines up.
  std::size_t role_w = 9 + 2, col_w = 0, default_w = 16 + 2;
  for (const auto& p : reg.primitives()) role_w = std::max(role_w, p.size() + 2);
  for (const auto& b : all_backend_names()) col_w = std::max(col_w, b.size() + 2);
  for (const auto& d : reg.all()) default_w = std::max(default_w, d.name.size() + 2);
  auto pad = [](const std::string& x, std::size_t w) { return x + std::string(w > x.size() ? w - x.size() : 0, ' '); };
  s << "Primitives:\n  " << pad("primitive", role_w) << pad("default workload", default_w) << "backends\n";
  for (const auto& p : reg.primitives()) {
    const WorkloadDef* d = reg.default_for(p);
    s << "  " << pad(p, role_w) << pad(d ? d->name : "-", default_w) << join(reg.backends_for(p)) << "\n";
  }
  s << "\nRoles (ipcsync/roles.hpp), each mirroring a class of Python's multiprocessing:\n";
  std::size_t py_w = 0;
  for (const auto& r : role_table()) py_w = std::max(py_w, r.python.size() + 2);
  for (const auto& r : role_table()) s << "  " << pad(r.name, role_w) << pad(r.python, py_w) << r.description << "\n";
  s << "\nBackends: " << join(all_backend_names()) << "\n";
  s << "\nRole x backend (yes = supported):\n  " << std::string(role_w, ' ');
  for (const auto& b : all_backend_names()) s << pad(b, col_w);
  s << "\n";
  for (const auto& p : reg.primitives()) {
    s << "  " << pad(p, role_w);
    const auto have = reg.backends_for(p);
    for (const auto& b : all_backend_names())
      s << pad(std::find(have.begin(), have.end(), b) != have.end() ? "yes" : "-", col_w);
    s << "\n";
  }
  s << "\nWorkloads:\n";
  for (const auto& d : reg.all()) {
    s << "  " << d.name << " — " << d.description << "\n";
    s << "      primitives: " << join(d.primitives) << "\n";
    std::size_t flag_w = d.has_unsafe ? 8 + 2 : 0;
    for (const auto& p : d.params) flag_w = std::max(flag_w, flag_of(p.name).size() + 2);
    for (const auto& p : d.params)
      s << "      " << pad(flag_of(p.name), flag_w) << p.help << " (default " << p.def << ", range " << range_text(p)
        << ")\n";
    if (d.has_unsafe) s << "      " << pad("--unsafe", flag_w) << "drop the synchronization and report what is lost\n";
    if (!d.faults.empty()) s << "      faults (--inject-fault, tests only): " << join(d.faults) << "\n";
  }
  return s.str();
}

std::string list_json() {
  nlohmann::json j;
  const auto& reg = Registry::get();
  j["backends"] = all_backend_names();
  j["primitives"] = nlohmann::json::array();
  for (const auto& p : reg.primitives()) {
    const WorkloadDef* d = reg.default_for(p);
    nlohmann::json e{{"name", p}, {"default_workload", d ? d->name : ""}, {"backends", reg.backends_for(p)}};
    if (const RoleInfo* r = find_role(p)) {
      e["python"] = r->python;
      e["description"] = r->description;
    }
    j["primitives"].push_back(std::move(e));
  }
  j["workloads"] = nlohmann::json::array();
  for (const auto& d : reg.all()) {
    nlohmann::json w{{"name", d.name}, {"description", d.description}, {"primitives", d.primitives},
                     {"default_for", d.default_for}, {"unsafe", d.has_unsafe}};
    w["params"] = nlohmann::json::array();
    for (const auto& p : d.params)
      w["params"].push_back({{"name", p.name}, {"flag", flag_of(p.name)}, {"help", p.help}, {"default", p.def},
                             {"min", p.min}, {"max", p.max}});
    j["workloads"].push_back(w);
  }
  return j.dump(2);
}

TortureArgs parse_torture_args(int argc, char** argv, const TortureHelp& help) {
  TortureArgs a;
  CLI::App app{"bench --torture — a seeded, randomized soak of the primitives under injected faults", "bench --torture"};
  app.set_help_flag("-h,--help", "Print this help and exit");
  app.add_flag("--torture", a.torture, "Run the torture (this mode)");
  app.add_option("--primitive,-p", a.roles, "Roles to torture, comma separated, or all: " + help.roles + " [all]");
  app.add_option("--backend,-b", a.backends, "Backends, comma separated (native, posix, boost, spin, or all) [native]");
  app.add_option("--procs,-n", a.procs, "Worker processes per role, 2.." + std::to_string(kMaxWorkers) + " [twice the PUs]");
  app.add_option("--duration,-d", a.duration, "Total seconds, split evenly between the role x backend pairs [60]");
  app.add_option("--seed", a.seed, "Seed of every random choice (printed; replays the schedule) [from the clock]");
  app.add_option("--stat-interval", a.interval, "Seconds between stats lines [5]");
  app.add_option("--faults", a.faults, "Faults to inject, comma separated: " + help.faults + ", all or none [all that apply]");
  app.add_option("--out,-o", a.out, "CSV file the rows are added to (JSON context beside it) [results/<host>/torture.csv]");
  app.add_option("--results-dir", a.results_dir, "Default results root [results]");
  app.add_flag("--no-save", a.no_save, "Write no results file");
  app.add_flag("--quiet,-q", a.quiet, "Only the SUCCESS or FAILURE line");
  app.add_option("--inject-fault", a.broken,
                 "Testing only: torture a deliberately broken primitive, to prove the checker fails:" + help.broken);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    std::exit(0);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    throw usage_error(msg + " (see bench --torture --help)");
  }
  return a;
}

}  // namespace ipcsync::harness

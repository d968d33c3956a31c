// cli_test.cc — the bench executable as a user meets it: bad input (one line, exit 2, nothing
// spawned or written), --help/--list, the CSV header and JSON context, and a clean stop on
// SIGINT (exit 130, no worker left, nothing left in /dev/shm).
#include <catch2/catch.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "support.hpp"

using namespace ipcsync::test;
namespace fs = std::filesystem;

namespace {

const std::string kBench = IPCSYNC_BENCH_EXE;

fs::path temp_dir() {
  static int n = 0;
  fs::path p = fs::temp_directory_path() / ("ipcsync-cli-" + std::to_string(getpid()) + "-" + std::to_string(n++));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

std::set<std::string> dev_shm() {
  std::set<std::string> s;
  for (const auto& e : fs::directory_iterator("/dev/shm")) s.insert(e.path().filename().string());
  return s;
}

// Processes whose environment carries `marker` (the workers of one bench, whoever reaped them).
std::vector<int> processes_with_env(const std::string& marker) {
  std::vector<int> pids;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "environ", std::ios::binary);
    std::string env((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (env.find(marker) != std::string::npos) pids.push_back(std::stoi(name));
  }
  return pids;
}

std::size_t lines(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace

TEST_CASE("cli: bad input gets one line naming the flag and exit 2 and nothing is run", "[cli]") {
  const fs::path dir = temp_dir();
  const std::string out = (dir / "r.csv").string();
  struct Case {
    std::vector<std::string> args;
    std::string must_mention;
  };
  const std::vector<Case> cases = {
      {{"--primitive", "mutexx"}, "--primitive"},
      {{"--primitive", "lock", "--backend", "fastest"}, "--backend"},
      {{"--primitive", "lock", "--pin", "diagonal"}, "--pin"},
      {{"--primitive", "lock", "--procs", "0"}, "--procs"},
      {{"--primitive", "lock", "--procs", "-2"}, "--procs"},
      {{"--primitive", "lock", "--procs", "eight"}, "--procs"},
      {{"--primitive", "lock", "--procs", "100000"}, "--procs"},
      {{"--primitive", "lock", "--cs-ns", "-5"}, "--cs-ns"},
      {{"--primitive", "lock", "--cs-ns", "abc"}, "--cs-ns"},
      {{"--primitive", "lock", "--duration", "0"}, "--duration"},
      {{"--primitive", "lock", "--duration", "-1"}, "--duration"},
      {{"--primitive", "lock", "--duration", "soon"}, "--duration"},
      {{"--primitive", "lock", "--repeat", "0"}, "--repeat"},
      {{"--primitive", "lock", "--pin", "0,4096"}, "--pin"},
      {{"--primitive", "lock", "--format", "xml"}, "--format"},
      {{"--primitive", "lock", "--workload", "nope"}, "--workload"},
      {{"--primitive", "lock", "--frobnicate"}, "frobnicate"},
      {{"--procs", "2"}, "--primitive"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv{kBench};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    argv.insert(argv.end(), {"--out", out, "--duration", "0.05"});
    if (c.must_mention == "--duration") argv.resize(argv.size() - 2);  // keep the bad --duration alone
    std::string shown;
    for (const auto& a : c.args) shown += a + " ";
    INFO("bench " << shown);
    const CmdResult r = run_cmd(argv);
    CHECK(r.status == 2);
    CHECK(lines(r.err) == 1);
    CHECK(r.err.rfind("bench: ", 0) == 0);
    CHECK(r.err.find(c.must_mention) != std::string::npos);
    CHECK(r.out.empty());
    CHECK_FALSE(fs::exists(out));  // nothing ran, nothing was written
  }
  fs::remove_all(dir);
}

TEST_CASE("cli: unknown values list what is accepted", "[cli]") {
  const CmdResult r = run_cmd({kBench, "--primitive", "mutexx"});
  CHECK(r.err.find("accepted: ") != std::string::npos);
  CHECK(r.err.find("lock") != std::string::npos);
  CHECK(r.err.find("semaphore") != std::string::npos);
  const CmdResult b = run_cmd({kBench, "--primitive", "lock", "--backend", "fast"});
  CHECK(b.err.find("native") != std::string::npos);
  CHECK(b.err.find("posix") != std::string::npos);
}

TEST_CASE("cli: --help and --list", "[cli]") {
  const CmdResult h = run_cmd({kBench, "--help"});
  CHECK(h.status == 0);
  CHECK(h.out.find("--primitive") != std::string::npos);
  CHECK(h.out.find("--pin") != std::string::npos);
  const CmdResult l = run_cmd({kBench, "--list"});
  CHECK(l.status == 0);
  CHECK(l.out.find("counter") != std::string::npos);
  CHECK(l.out.find("Role x backend") != std::string::npos);
  const CmdResult j = run_cmd({kBench, "--list", "--format", "json"});
  REQUIRE(j.status == 0);
  const auto js = nlohmann::json::parse(j.out);
  CHECK(js["primitives"].size() >= 2);
  CHECK(js["primitives"][0].contains("default_workload"));
  CHECK(js["primitives"][0].contains("backends"));
  CHECK(js["workloads"][0]["params"].size() >= 2);
}

TEST_CASE("cli: each parameter's --help gives every workload's own default and range", "[cli]") {
  // One flag serves every workload that declares the parameter; its help must not present one
  // workload's default as everyone's (--cs-ns is 0 for counter, 1000 for cinema).
  const CmdResult h = run_cmd({kBench, "--help"});
  REQUIRE(h.status == 0);
  const CmdResult j = run_cmd({kBench, "--list", "--format", "json"});
  REQUIRE(j.status == 0);
  struct Use {
    std::string workload;
    int64_t def, min, max;
  };
  std::map<std::string, std::vector<Use>> uses;  // flag -> declarations
  const nlohmann::json list = nlohmann::json::parse(j.out);
  for (const auto& w : list["workloads"])
    for (const auto& p : w["params"])
      uses[p["flag"].get<std::string>()].push_back(
          {w["name"].get<std::string>(), p["default"].get<int64_t>(), p["min"].get<int64_t>(), p["max"].get<int64_t>()});
  REQUIRE(uses.count("--cs-ns"));
  for (const auto& [flag, us] : uses) {
    INFO(flag);
    const auto at = h.out.find("  " + flag + " ");
    REQUIRE(at != std::string::npos);
    const std::string line = h.out.substr(at, h.out.find('\n', at) - at);
    std::set<int64_t> defaults;
    for (const auto& u : us) defaults.insert(u.def);
    for (const auto& u : us) {
      INFO(u.workload);
      CHECK(line.find(u.workload) != std::string::npos);
      const std::string def = "Default " + std::to_string(u.def);
      if (defaults.size() == 1) {
        CHECK(line.find(def) != std::string::npos);
      } else {
        // "<value> (<workloads>)": this workload is in its value's group.
        const std::regex group("[ ,]" + std::to_string(u.def) + " \\(([^)]*)\\)");
        bool found = false;
        for (std::sregex_iterator m(line.begin(), line.end(), group), end; m != end; ++m)
          if ((", " + (*m)[1].str() + ",").find(" " + u.workload + ",") != std::string::npos) found = true;
        CHECK(found);
      }
      CHECK(line.find(std::to_string(u.min) + "..") != std::string::npos);
    }
  }
}

TEST_CASE("cli: a parameter value outside a selected workload's own range is refused with exit 2", "[cli]") {
  // Another workload may accept the value; each run is held to its own workload's range.
  const CmdResult j = run_cmd({kBench, "--list", "--format", "json"});
  REQUIRE(j.status == 0);
  const nlohmann::json list = nlohmann::json::parse(j.out);
  for (const auto& w : list["workloads"])
    for (const auto& p : w["params"]) {
      const int64_t max = p["max"].get<int64_t>();
      if (max == INT64_MAX) continue;
      INFO(w["name"].get<std::string>() << " " << p["flag"].get<std::string>());
      const CmdResult r = run_cmd({kBench, "--workload", w["name"].get<std::string>(), p["flag"].get<std::string>(),
                                   std::to_string(max + 1), "--dry-run"});
      CHECK(r.status == 2);
      CHECK(r.err.find(p["flag"].get<std::string>()) != std::string::npos);
    }
}

TEST_CASE("cli: a run writes the fixed CSV header with one row per repetition and the JSON context", "[cli][output]") {
  const fs::path dir = temp_dir();
  const std::string out = (dir / "run.csv").string();
  const CmdResult r = run_cmd({kBench, "--primitive", "lock,semaphore", "--backend", "native,posix", "--procs", "2",
                               "--ops", "2000", "--warmup", "0.01", "--repeat", "2", "--out", out});
  REQUIRE(r.status == 0);
  CHECK(r.out.find("counter") != std::string::npos);
  std::ifstream in(out);
  std::string header;
  std::getline(in, header);
  CHECK(header ==
        "schema_version,timestamp,run_id,host_id,name,workload,primitive,backend,mode,procs,pin,pus,params,"
        "labels,repetition,ops,seconds,ops_per_sec,ops_min,ops_max,fairness,lat_samples,lat_p50_ns,lat_p90_ns,"
        "lat_p99_ns,lat_p999_ns,lat_max_ns,wake_p50_ns,wake_p99_ns,wake_max_ns,oversubscribed,duration_s,warmup_s,"
        "ops_per_worker,clock_overhead_ns,cpu_user_s,cpu_sys_s,cpu_ns_per_op,vcsw,ivcsw,steal_pct,others_pct,load1,"
        "noisy,status,detail");
  std::vector<std::string> rows;
  for (std::string line; std::getline(in, line);) rows.push_back(line);
  REQUIRE(rows.size() == 2 * 2 * 2);
  const std::regex row_re(
      R"(^3,\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ,[^,]+,[^,]+,counter/(lock|semaphore)/(native|posix)/procs:2/pin:compact/cs_ns:0/think_ns:0,counter,(lock|semaphore),(native|posix),processes,2,compact,\d+;\d+,[^,]+,,[01],\d+,[0-9.]+,[0-9.]+,\d+,\d+,[0-9.]+,\d+,[0-9.]+,[0-9.]+,[0-9.]+,[0-9.]+,[0-9.]+,,,,[01],,0\.010000,2000,[0-9.]+,[0-9.]+,[0-9.]+,[0-9.]+,\d+,\d+,[0-9.]+,[0-9.]+,[0-9.]+,[01],ok,"?counter=\d+ expected=\d+"?$)");
  for (const auto& row : rows) {
    INFO(row);
    CHECK(std::regex_match(row, row_re));
  }

  std::ifstream jin((dir / "run.json").string());
  const auto ctx = nlohmann::json::parse(jin);
  for (const char* k : {"json_schema_version", "host_id", "host_name", "cpu_model", "num_cpus", "mhz_per_cpu",
                        "cpu_scaling_enabled", "aslr_enabled", "topology", "kernel", "os", "compiler", "cxx_flags",
                        "build_type", "library_versions", "clock", "runs"})
    CHECK(ctx.contains(k));
  for (const char* k : {"packages", "cores", "pus", "numa_nodes", "caches", "pu_os_indexes"})
    CHECK(ctx["topology"].contains(k));
  for (const char* k : {"ipcsync", "hwloc", "boost", "glibc"}) CHECK(ctx["library_versions"].contains(k));
  CHECK(ctx["clock"]["overhead_ns"].get<double>() > 0);
  REQUIRE(ctx["runs"].size() == 1);
  for (const char* k : {"run_id", "date", "command_line", "git_commit", "warnings"}) CHECK(ctx["runs"][0].contains(k));
  CHECK(ctx["runs"][0]["command_line"].get<std::string>().find("--primitive lock,semaphore") != std::string::npos);
  // Provenance per run, stamped at build time: a file collects runs of several builds.
  for (const char* k : {"build_type", "cxx_flags", "compiler", "library_versions", "labels"})
    CHECK(ctx["runs"][0].contains(k));
  CHECK(ctx["runs"][0]["labels"].empty());
  CHECK_FALSE(ctx["runs"][0]["library_versions"].contains("python"));  // the python backend did not run

  // A second run appends rows (no second header) and a second `runs` entry.
  REQUIRE(run_cmd({kBench, "--primitive", "lock", "--procs", "1", "--duration", "0.05", "--out", out}).status == 0);
  std::ifstream again(out);
  std::size_t n = 0, headers = 0;
  for (std::string line; std::getline(again, line); ++n) headers += line.rfind("schema_version", 0) == 0;
  CHECK(n == 1 + 8 + 1);
  CHECK(headers == 1);
  std::ifstream jin2((dir / "run.json").string());
  CHECK(nlohmann::json::parse(jin2)["runs"].size() == 2);
  fs::remove_all(dir);
}

TEST_CASE("cli: --label pairs go to every row's labels column and to the run's JSON entry", "[cli][output]") {
  const fs::path dir = temp_dir();
  const std::string out = (dir / "l.csv").string();
  const CmdResult r = run_cmd({kBench, "--primitive", "lock", "--procs", "1", "--ops", "1000", "--repeat", "2",
                               "--label", "smt=off", "--label", "governor=performance", "--out", out});
  REQUIRE(r.status == 0);
  const auto rows = csv_rows(slurp(out));
  REQUIRE(rows.size() == 2);
  for (const auto& row : rows) CHECK(row.at("labels") == "governor=performance;smt=off");  // sorted by key
  std::ifstream jin((dir / "l.json").string());
  const auto ctx = nlohmann::json::parse(jin);
  CHECK(ctx["runs"][0]["labels"] == nlohmann::json({{"smt", "off"}, {"governor", "performance"}}));
  // Malformed pairs are refused before anything runs, with one line.
  for (const char* bad : {"smt", "=off", "smt=", "smt=a;b", "smt=a,b", "s m=t", "smt=o n", "a=b=c"}) {
    INFO(bad);
    const CmdResult b = run_cmd({kBench, "--primitive", "lock", "--procs", "1", "--ops", "10", "--label", bad,
                                 "--out", (dir / "bad.csv").string()});
    CHECK(b.status == 2);
    CHECK(lines(b.err) == 1);
    CHECK(b.err.find("--label") != std::string::npos);
  }
  CHECK_FALSE(fs::exists(dir / "bad.csv"));
  CHECK(run_cmd({kBench, "--primitive", "lock", "--procs", "1", "--ops", "10", "--label", "k=a", "--label", "k=b",
                 "--out", (dir / "bad.csv").string()}).status == 2);
  fs::remove_all(dir);
}

TEST_CASE("cli: --format csv and json print the rows on stdout", "[cli][output]") {
  const fs::path dir = temp_dir();
  const CmdResult c = run_cmd({kBench, "--primitive", "lock", "--procs", "1", "--ops", "2000", "--format", "csv",
                               "--out", (dir / "a.csv").string()});
  REQUIRE(c.status == 0);
  CHECK(c.out.rfind("schema_version,", 0) == 0);
  CHECK(lines(c.out) == 2);
  const CmdResult j = run_cmd({kBench, "--primitive", "lock", "--procs", "1", "--ops", "2000", "--format", "json",
                               "--out", (dir / "b.csv").string()});
  REQUIRE(j.status == 0);
  const auto js = nlohmann::json::parse(j.out);
  CHECK(js["rows"].size() == 1);
  CHECK(js["rows"][0]["status"] == "ok");
  // Typed: numbers are numbers, what does not apply is null (issue 13 section 6).
  CHECK(js["rows"][0]["procs"] == 1);
  CHECK(js["rows"][0]["ops"] == 2000);
  CHECK(js["rows"][0]["ops_per_sec"].is_number_float());
  CHECK(js["rows"][0]["duration_s"].is_null());
  CHECK(js["rows"][0]["wake_p50_ns"].is_null());
  CHECK(js["rows"][0]["pus"].is_string());
  CHECK(js["context"].contains("topology"));
  fs::remove_all(dir);
}

TEST_CASE("cli: --unsafe reports lost updates and still exits 0", "[cli]") {
  const fs::path dir = temp_dir();
  const CmdResult r = run_cmd({kBench, "--primitive", "lock", "--procs", "2", "--duration", "0.2", "--unsafe",
                               "--format", "csv", "--out", (dir / "u.csv").string()});
  CHECK(r.status == 0);
  CHECK(r.out.find("lost_updates=") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("cli: --unsafe is refused with exit 2 by every workload that --list shows without it", "[cli]") {
  const fs::path dir = temp_dir();
  const CmdResult list = run_cmd({kBench, "--list", "--format", "json"});
  REQUIRE(list.status == 0);
  const nlohmann::json workloads = nlohmann::json::parse(list.out)["workloads"];
  std::vector<std::string> with;
  int refused = 0;
  for (const auto& w : workloads)
    if (w["unsafe"].get<bool>()) with.push_back(w["name"]);
  REQUIRE(with == std::vector<std::string>{"counter"});
  for (const auto& w : workloads) {
    if (w["unsafe"].get<bool>()) continue;
    INFO(w["name"]);
    const CmdResult r = run_cmd({kBench, "--workload", w["name"], "--primitive", w["primitives"][0], "--unsafe",
                                 "--ops", "10", "--out", (dir / "u.csv").string()});
    CHECK(r.status == 2);
    CHECK(r.err == "bench: --unsafe: only the counter workload has an unsafe mode\n");
    CHECK_FALSE(fs::exists(dir / "u.csv"));
    ++refused;
  }
  CHECK(refused >= 1);
  fs::remove_all(dir);
}

TEST_CASE("cli: SIGINT stops the run and kills and reaps every worker and leaves nothing behind", "[cli][signal]") {
  const fs::path dir = temp_dir();
  const std::string marker = "IPCSYNC_TEST_MARKER=" + std::to_string(getpid()) + "-sigint";
  const auto shm_before = dev_shm();
  const pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    putenv(const_cast<char*>(marker.c_str()));
    // The test process blocks SIGINT elsewhere (SignalGate); start bench with a clean mask.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execl(kBench.c_str(), kBench.c_str(), "--primitive", "lock", "--procs", "4", "--duration", "30", "--out",
          (dir / "i.csv").c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait until bench and its 4 workers are up.
  const auto t0 = std::chrono::steady_clock::now();
  while (processes_with_env(marker).size() < 5 && elapsed_s(t0) < 10)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(processes_with_env(marker).size() == 5);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  kill(pid, SIGINT);
  const int status = join(pid);
  CHECK(status == 130);
  CHECK(elapsed_s(t0) < 10);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(processes_with_env(marker).empty());
  CHECK(dev_shm() == shm_before);
  fs::remove_all(dir);
}

TEST_CASE("cli: --inject-fault proves the counter's verify step fails (verify_failed and exit 1)", "[cli][fault]") {
  const fs::path dir = temp_dir();
  const CmdResult r = run_cmd({kBench, "--primitive", "lock", "--procs", "2", "--duration", "0.5", "--inject-fault",
                               "skip_lock", "--format", "csv", "--out", (dir / "f.csv").string()});
  CHECK(r.status == 1);
  CHECK(r.out.find(",verify_failed,") != std::string::npos);
  const CmdResult bad = run_cmd({kBench, "--primitive", "lock", "--inject-fault", "nope", "--out", (dir / "g.csv").string()});
  CHECK(bad.status == 2);
  CHECK(bad.err.find("skip_lock") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("cli: --version names the version and the build it comes from", "[cli]") {
  const CmdResult r = run_cmd({kBench, "--version"});
  CHECK(r.status == 0);
  CHECK(std::regex_search(r.out, std::regex(R"(^bench \(ipcsync\) \d+\.\d+\.\d+, commit \S+, \S+ build\n$)")));
  CHECK(r.err.empty());
}

TEST_CASE("cli: --quiet prints no table or warnings and csv still prints its rows", "[cli][output]") {
  const fs::path dir = temp_dir();
  // procs 3 on fewer PUs would warn (oversubscribed); quiet says nothing but errors.
  const CmdResult q = run_cmd({kBench, "--primitive", "lock", "--procs", "1,64", "--ops", "200", "--quiet", "--out",
                               (dir / "q.csv").string()});
  INFO(q.err);
  CHECK(q.status == 0);
  CHECK(q.out.empty());
  CHECK(q.err.find("WARNING") == std::string::npos);
  CHECK(q.err.find("warning") == std::string::npos);
  CHECK(csv_rows(slurp((dir / "q.csv").string())).size() == 2);  // saved all the same
  const CmdResult c = run_cmd({kBench, "--primitive", "lock", "--procs", "1", "--ops", "200", "--quiet", "--format",
                               "csv", "--out", (dir / "c.csv").string()});
  CHECK(c.status == 0);
  CHECK(csv_rows(c.out).size() == 1);
  fs::remove_all(dir);
}

TEST_CASE("cli: --no-save writes no file anywhere and still prints the rows", "[cli][output]") {
  const fs::path dir = temp_dir();
  const CmdResult r = run_cmd({kBench, "--primitive", "lock", "--procs", "1", "--ops", "200", "--no-save",
                               "--results-dir", (dir / "results").string(), "--format", "csv"});
  CHECK(r.status == 0);
  CHECK(csv_rows(r.out).size() == 1);
  CHECK_FALSE(fs::exists(dir / "results"));
  const CmdResult t = run_cmd({kBench, "--primitive", "lock", "--procs", "1", "--ops", "200", "--no-save",
                               "--results-dir", (dir / "results").string()});
  CHECK(t.status == 0);
  CHECK(t.out.find("not saved") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "results"));
  // It cannot be combined with a file to save into, or with --plot (which plots the file).
  for (const char* other : {"--out", "--plot"}) {
    std::vector<std::string> argv{kBench, "--primitive", "lock", "--ops", "10", "--no-save", other};
    if (std::string(other) == "--out") argv.push_back((dir / "x.csv").string());
    const CmdResult b = run_cmd(argv);
    CHECK(b.status == 2);
    CHECK(lines(b.err) == 1);
  }
  fs::remove_all(dir);
}

TEST_CASE("cli: --primitive all runs each primitive the backend implements and stands alone", "[cli]") {
  const fs::path dir = temp_dir();
  const CmdResult r = run_cmd({kBench, "--primitive", "all", "--backend", "spin", "--procs", "2", "--ops", "200",
                               "--warmup", "0", "--format", "csv", "--out", (dir / "a.csv").string()});
  INFO(r.err);
  CHECK(r.status == 0);
  std::set<std::string> prims;
  for (const auto& row : csv_rows(r.out)) {
    prims.insert(row.at("primitive"));
    CHECK(row.at("backend") == "spin");
    CHECK(row.at("status") == "ok");
  }
  // spin's roles (bench --list), each by its default workload; the others are skipped, not refused.
  CHECK(prims == std::set<std::string>{"barrier", "bounded_semaphore", "event", "lock", "semaphore"});
  CHECK(run_cmd({kBench, "--primitive", "all,lock", "--ops", "10"}).status == 2);
  fs::remove_all(dir);
}

TEST_CASE("cli: the table shows mode and each parameter when they vary and lines up", "[cli][output]") {
  const fs::path dir = temp_dir();
  const CmdResult r = run_cmd({kBench, "--primitive", "lock", "--backend", "native,posix_plain", "--procs", "1",
                               "--cs-ns", "0,50", "--mode", "processes,threads", "--ops", "200", "--out",
                               (dir / "t.csv").string()});
  REQUIRE(r.status == 0);
  std::istringstream in(r.out);
  std::string line, header;
  std::vector<std::string> rows;
  while (std::getline(in, line)) {
    if (line.rfind("workload", 0) == 0) header = line;
    else if (line.rfind("counter", 0) == 0) rows.push_back(line);
  }
  REQUIRE(rows.size() == 8);
  for (const char* col : {" mode ", " params ", " fairness "}) CHECK(header.find(col) != std::string::npos);
  // Two rows never look the same: every configuration differs in a printed column.
  std::set<std::string> configs;
  for (const auto& row : rows) configs.insert(row.substr(0, header.find(" rep ")));
  CHECK(configs.size() == 8);
  // Columns line up: ops/s (right-aligned) ends at the same offset on every line.
  const std::size_t end = header.find("ops/s") + 5;
  for (const auto& row : rows) {
    INFO(row);
    REQUIRE(row.size() > end);
    CHECK(row[end - 1] != ' ');
    CHECK(row[end] == ' ');
  }
  // A plan where they do not vary shows neither.
  const CmdResult one = run_cmd({kBench, "--primitive", "lock", "--procs", "1", "--ops", "200", "--out",
                                 (dir / "t.csv").string()});
  CHECK(one.out.find(" mode ") == std::string::npos);
  CHECK(one.out.find(" params ") == std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("cli: --list lines its columns up", "[cli]") {
  const CmdResult r = run_cmd({kBench, "--list"});
  REQUIRE(r.status == 0);
  std::istringstream in(r.out);
  std::string line;
  std::vector<std::string> prim_rows;
  bool in_prims = false;
  while (std::getline(in, line)) {
    if (line == "Primitives:") in_prims = true;
    else if (line.empty()) in_prims = false;
    else if (in_prims) prim_rows.push_back(line);
  }
  REQUIRE(prim_rows.size() > 2);
  // The backends column starts at one offset: the header's "backends".
  const std::size_t at = prim_rows[0].find("backends");
  REQUIRE(at != std::string::npos);
  for (std::size_t i = 1; i < prim_rows.size(); ++i) {
    INFO(prim_rows[i]);
    CHECK(prim_rows[i][at - 1] == ' ');
    CHECK(prim_rows[i][at] != ' ');
  }
}

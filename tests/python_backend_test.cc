// python_backend_test.cc — the python backend (scripts/mp_backend.py under /usr/bin/python3):
// every workload x primitive it implements runs verified with the same CSV rows (detail words,
// wake-up columns) as the native backend, its histogram layout is identical to the C++ one, its
// verify can fail, and bad input, a failing worker or interruption are handled like any other
// backend.
#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "harness/backend_names.hpp"
#include "harness/histogram.hpp"
#include "harness/workload.hpp"
#include "support.hpp"

using namespace ipcsync::test;
namespace fs = std::filesystem;

namespace {
const std::string kBench = IPCSYNC_BENCH_EXE;
const std::string kPython = IPCSYNC_TEST_PYTHON;
const std::string kScript = std::string(IPCSYNC_SOURCE_DIR_FOR_TESTS) + "/scripts/mp_backend.py";

fs::path temp_dir(const std::string& tag) {
  fs::path p = fs::temp_directory_path() / ("ipcsync-py-" + std::to_string(getpid()) + "-" + tag);
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}


// The words of a detail string ("counter=5 expected=5" -> "counter expected"): its style.
std::string detail_words(const std::string& detail) {
  static const std::regex word(R"(([a-z_]+)=)");
  std::string w;
  for (std::sregex_iterator it(detail.begin(), detail.end(), word), end; it != end; ++it) w += (*it)[1].str() + " ";
  return w;
}

// Every (workload, primitive) the python backend implements, with a --procs that fits it.
struct PythonPair {
  std::string workload, primitive;
  int procs;
};
std::vector<PythonPair> python_pairs() {
  std::vector<PythonPair> out;
  for (const auto& def : ipcsync::harness::Registry::get().all())
    for (const auto& prim : def.python_primitives) {
      ipcsync::harness::RunConfig cfg;
      cfg.workload = def.name;
      cfg.procs = 3;
      for (const auto& p : def.params) cfg.params[p.name] = p.def;  // as bench fills them
      if (def.validate && !def.validate(cfg).empty()) cfg.procs = 2;  // pingpong: pairs
      out.push_back({def.name, prim, cfg.procs});
    }
  return out;
}
}  // namespace

TEST_CASE("python backend: mp_backend.py implements exactly the roles bench declares for it", "[python]") {
  // Each WorkloadDef::python_primitives is what --list and the run matrix offer for python;
  // scripts/mp_backend.py --list is what the script runs. Neither may drift from the other.
  const CmdResult r = run_cmd({kPython, kScript, "--list"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  std::map<std::string, std::vector<std::string>> script;
  const nlohmann::json listed = nlohmann::json::parse(r.out);
  for (const auto& [name, roles] : listed.items()) script[name] = roles.get<std::vector<std::string>>();
  std::map<std::string, std::vector<std::string>> declared;
  for (const auto& def : ipcsync::harness::Registry::get().all())
    if (!def.python_primitives.empty()) declared[def.name] = def.python_primitives;
  CHECK(script == declared);
  // Together they are the python backend's row of the role table (harness::PythonBackend).
  std::set<std::string> roles_run, roles_offered;
  for (const auto& [name, roles] : script) roles_run.insert(roles.begin(), roles.end());
  for (const auto& r : ipcsync::harness::role_table())
    if (std::find(r.backends.begin(), r.backends.end(), "python") != r.backends.end()) roles_offered.insert(r.name);
  CHECK(roles_run == roles_offered);
}

TEST_CASE("python backend: bucket_index matches LogHistogram::index", "[python]") {
  std::vector<uint64_t> values = {0, 1, 63, 64, 65, 127, 128, 1000, 4095, 4096, 123456789, uint64_t{1} << 43,
                                  (uint64_t{1} << 44) + 5, uint64_t{1} << 50};
  std::string list;
  for (uint64_t v : values) list += std::to_string(v) + ",";
  const CmdResult r = run_cmd({kPython, "-c",
                               "import sys; sys.path.insert(0, '" + fs::path(kScript).parent_path().string() +
                                   "'); import mp_backend as m; print(' '.join(str(m.bucket_index(v)) for v in [" +
                                   list + "]))"});
  REQUIRE(r.status == 0);
  std::istringstream in(r.out);
  for (uint64_t v : values) {
    std::size_t got = 0;
    in >> got;
    INFO(v);
    CHECK(got == ipcsync::harness::LogHistogram::index(v));
  }
}

TEST_CASE("python backend: the counter runs verified for lock and semaphore with CSV rows like the others",
          "[python][process]") {
  const fs::path dir = temp_dir("run");
  const std::string out = (dir / "p.csv").string();
  // --ops, not a short --duration: on a busy machine a 0.2 s window can come out short, and
  // the row is then rightly flagged short_window instead of ok (a clean-clone CI saw it).
  const CmdResult r = run_cmd({kBench, "--primitive", "lock,semaphore", "--backend", "python,native", "--procs", "2",
                               "--ops", "3000", "--warmup", "0.05", "--format", "csv", "--out", out});
  REQUIRE(r.status == 0);
  int python_rows = 0;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    if (line.find(",python,") == std::string::npos) continue;
    ++python_rows;
    CHECK(line.find(",ok,") != std::string::npos);
    CHECK(line.find("counter=") != std::string::npos);
    CHECK(line.find(",processes,2,compact,") != std::string::npos);
  }
  CHECK(python_rows == 2);
  fs::remove_all(dir);
}

TEST_CASE("python backend: --unsafe loses updates in Python too", "[python][process]") {
  const fs::path dir = temp_dir("unsafe");
  const CmdResult r = run_cmd({kBench, "--primitive", "lock", "--backend", "python", "--procs", "2", "--duration",
                               "0.5", "--unsafe", "--format", "csv", "--out", (dir / "u.csv").string()});
  CHECK(r.status == 0);
  CHECK(r.out.find("lost_updates=") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("python backend: every workload x primitive it implements runs verified like native", "[python][process]") {
  // Same row as the native backend: status ok, the same detail words, wake-up columns filled
  // exactly where the C++ workload records wake-ups. Sampling every 8th op keeps the latency and
  // wake-up columns filled even for the slow (~10k ops/s) Python workloads in 0.2 s.
  const fs::path dir = temp_dir("all");
  const auto pairs = python_pairs();
  CHECK(pairs.size() >= 14);
  for (const auto& [workload, primitive, procs] : pairs) {
    const CmdResult r = run_cmd({kBench, "--workload", workload, "--primitive", primitive, "--backend", "native,python",
                                 "--procs", std::to_string(procs), "--duration", "0.2", "--warmup", "0.05",
                                 "--sample-every", "8", "--format", "csv", "--out", (dir / "all.csv").string()});
    INFO(workload << "/" << primitive << "\n" << r.out << r.err);
    CHECK(r.status == 0);
    const auto rows = csv_rows(r.out);
    REQUIRE(rows.size() == 2);
    const auto& native = rows[0].at("backend") == "native" ? rows[0] : rows[1];
    const auto& python = rows[0].at("backend") == "python" ? rows[0] : rows[1];
    CHECK(python.at("backend") == "python");
    CHECK(verified_status(python.at("status")));
    CHECK(python.at("workload") == workload);
    if (python.at("status") == "ok") {
      CHECK(std::stoull(python.at("ops")) > 0);
      CHECK(std::stoull(python.at("lat_samples")) > 0);
    }
    CHECK(detail_words(python.at("detail")) == detail_words(native.at("detail")));
    CHECK(python.at("wake_p50_ns").empty() == native.at("wake_p50_ns").empty());
  }
  fs::remove_all(dir);
}

TEST_CASE("python backend: every workload x primitive stops after --ops and verifies", "[python][process]") {
  const fs::path dir = temp_dir("ops");
  for (const auto& [workload, primitive, procs] : python_pairs()) {
    const CmdResult r = run_cmd({kBench, "--workload", workload, "--primitive", primitive, "--backend", "python",
                                 "--procs", std::to_string(procs), "--ops", "100", "--warmup", "0.02", "--format",
                                 "csv", "--out", (dir / "ops.csv").string()});
    INFO(workload << "/" << primitive << "\n" << r.out << r.err);
    CHECK(r.status == 0);
    const auto rows = csv_rows(r.out);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].at("status") == "ok");
    CHECK(std::stoull(rows[0].at("ops")) >= 100);  // at least one worker's --ops
  }
  fs::remove_all(dir);
}

TEST_CASE("python backend: the counter's injected skip_lock fault fails verify", "[python][process]") {
  const fs::path dir = temp_dir("fault");
  const CmdResult r = run_cmd({kBench, "--primitive", "lock,semaphore", "--backend", "python", "--procs", "3",
                               "--cs-ns", "2000", "--duration", "0.3", "--warmup", "0.05", "--inject-fault",
                               "skip_lock", "--format", "csv", "--out", (dir / "f.csv").string()});
  INFO(r.out << r.err);
  CHECK(r.status == 1);
  const auto rows = csv_rows(r.out);
  REQUIRE(rows.size() == 2);
  for (const auto& row : rows) {
    CHECK(row.at("status") == "verify_failed");
    CHECK(row.at("detail").find("counter=") != std::string::npos);
  }
  fs::remove_all(dir);
}

TEST_CASE("python backend: a failing worker ends the run at once with its error", "[python][process]") {
  // Straight to the script: bins=0 makes every draw divide by zero. The driver must report the
  // worker's error without sitting out the 30 s duration.
  const std::string cfg = R"({"workload": "array_histogram", "primitive": "array", "procs": 2, "pus": [],)"
                          R"( "warmup_s": 0.05, "duration_s": 30, "ops_per_worker": 0, "sample_every": 64,)"
                          R"( "params": {"bins": 0, "atomic": 0, "cs_ns": 0, "think_ns": 0}})";
  const auto t0 = std::chrono::steady_clock::now();
  const CmdResult r = run_cmd({"/bin/sh", "-c", "echo '" + cfg + "' | " + kPython + " " + kScript});
  CHECK(elapsed_s(t0) < 10);
  CHECK(r.status == 1);
  CHECK(r.out.find("\"error\"") != std::string::npos);
  CHECK(r.out.find("ZeroDivisionError") != std::string::npos);
}

TEST_CASE("python backend: bench finds its scripts relative to itself and says where it looked",
          "[python][cli]") {
  // A copy of bench alone in a directory: no share/ipcsync/scripts beside or above it, and no
  // source path compiled in to fall back on.
  const fs::path dir = temp_dir("reloc");
  const fs::path exe = dir / "bin" / "bench";
  fs::create_directories(exe.parent_path());
  fs::copy_file(kBench, exe);
  const std::vector<std::string> argv{exe.string(), "--primitive", "lock", "--backend", "python", "--procs", "1",
                                      "--ops", "100", "--warmup", "0.01", "--format", "csv",
                                      "--out", (dir / "r.csv").string()};
  const CmdResult lost = run_cmd(argv);
  INFO(lost.out << lost.err);
  CHECK(lost.status == 1);
  // One error row whose (quoted: it lists paths) detail says what is missing and what to set.
  CHECK(std::regex_search(lost.out, std::regex(R"(,error,"cannot find mp_backend\.py \(looked at [^\n]*)"
                                               R"(IPCSYNC_SCRIPTS_DIR[^\n]*"\n$)")));
  // The override, then the install layout (PREFIX/bin/bench + PREFIX/share/ipcsync/scripts).
  const std::string scripts = fs::path(kScript).parent_path().string();
  const CmdResult env = run_cmd(argv, {"IPCSYNC_SCRIPTS_DIR=" + scripts});
  INFO(env.out << env.err);
  CHECK(env.status == 0);
  auto rows = csv_rows(env.out);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["status"] == "ok");
  fs::create_directories(dir / "share" / "ipcsync");
  fs::create_directory_symlink(scripts, dir / "share" / "ipcsync" / "scripts");
  const CmdResult installed = run_cmd(argv);
  INFO(installed.out << installed.err);
  CHECK(installed.status == 0);
  rows = csv_rows(installed.out);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["status"] == "ok");
  fs::remove_all(dir);
}

TEST_CASE("python backend: a missing interpreter is bad input and nothing runs", "[python][cli]") {
  const fs::path dir = temp_dir("missing");
  const CmdResult r = run_cmd({kBench, "--primitive", "lock", "--backend", "python", "--python", "/nonexistent/python3",
                               "--out", (dir / "m.csv").string()});
  CHECK(r.status == 2);
  CHECK(r.err.find("--python") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "m.csv"));
  fs::remove_all(dir);
}

TEST_CASE("python backend: SIGINT kills the whole Python process group", "[python][signal]") {
  const fs::path dir = temp_dir("sigint");
  const std::string marker = "IPCSYNC_TEST_MARKER=" + std::to_string(getpid()) + "-py";
  const pid_t pid = fork();
  if (pid == 0) {
    putenv(const_cast<char*>(marker.c_str()));
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    freopen("/dev/null", "w", stdout);
    execl(kBench.c_str(), kBench.c_str(), "--primitive", "lock", "--backend", "python", "--procs", "3", "--duration",
          "30", "--out", (dir / "i.csv").c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  auto with_marker = [&] {
    int n = 0;
    for (const auto& e : fs::directory_iterator("/proc")) {
      std::ifstream envf(e.path() / "environ", std::ios::binary);
      std::string env((std::istreambuf_iterator<char>(envf)), std::istreambuf_iterator<char>());
      n += env.find(marker) != std::string::npos;
    }
    return n;
  };
  const auto t0 = std::chrono::steady_clock::now();
  // bench + the Python driver + 3 workers (+ multiprocessing's helper processes, if any)
  while (with_marker() < 5 && elapsed_s(t0) < 20) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(with_marker() >= 5);
  kill(pid, SIGINT);
  CHECK(join(pid) == 130);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(with_marker() == 0);
  fs::remove_all(dir);
}

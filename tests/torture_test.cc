// torture_test.cc — bench --torture: a clean soak passes with every fault, each role's checker
// catches its deliberately broken primitive, bad input is one line and exit 2, and nothing
// outlives bench (SIGINT, kill -9). The long CI soaks are ctest tests of their own (CMakeLists).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "backend_roles.hpp"

using namespace ipcsync::test;

namespace {

const std::string kBench = IPCSYNC_BENCH_EXE;

struct Scratch {
  std::filesystem::path dir;
  Scratch() {
    char tmpl[] = "/tmp/ipcsync-torture-test-XXXXXX";
    dir = mkdtemp(tmpl);
  }
  ~Scratch() { std::filesystem::remove_all(dir); }
};

std::vector<std::vector<std::string>> csv_rows(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(f, line);) {
    std::vector<std::string> cells;
    std::string cell;
    bool q = false;
    for (char c : line) {
      if (c == '"') q = !q;
      else if (c == ',' && !q) cells.push_back(cell), cell.clear();
      else cell += c;
    }
    cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}

// processes_naming(tag): the live processes whose command line contains tag.
int processes_naming(const std::string& tag) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream f(e.path() / "cmdline");
    std::stringstream ss;
    ss << f.rdbuf();
    std::string cmd = ss.str();
    for (char& c : cmd)
      if (c == '\0') c = ' ';
    std::ifstream st(e.path() / "stat");
    std::string stat;
    std::getline(st, stat);
    const auto rp = stat.rfind(')');
    const bool zombie = rp != std::string::npos && rp + 2 < stat.size() && stat[rp + 2] == 'Z';
    if (!zombie && cmd.find(tag) != std::string::npos && cmd.find("--torture") != std::string::npos) ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("Torture: every role on native survives every fault and says SUCCESS with its counts",
          "[torture][process]") {
  Scratch s;
  const auto out = s.dir / "t.csv";
  const auto r = run_cmd({kBench, "--torture", "--duration", "11", "--seed", "12345", "--stat-interval", "1", "--out",
                          out.string()});
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  CHECK(r.out.find("torture: seed 12345") != std::string::npos);
  CHECK(r.out.find("SUCCESS: torture seed 12345") != std::string::npos);
  CHECK(r.out.find("FAILURE") == std::string::npos);
  CHECK(r.out.find("torture lock/native t=") != std::string::npos);  // stats lines
  const auto rows = csv_rows(out);
  REQUIRE(rows.size() == 12);  // header + one row per role
  const auto& h = rows[0];
  auto col = [&](const std::string& name) {
    for (std::size_t i = 0; i < h.size(); ++i)
      if (h[i] == name) return i;
    FAIL("no column " << name);
    return std::size_t{0};
  };
  uint64_t kills = 0, stops = 0, signals = 0;
  std::vector<std::string> roles;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto& row = rows[i];
    REQUIRE(row.size() == h.size());
    roles.push_back(row[col("role")]);
    CHECK(row[col("backend")] == "native");
    CHECK(row[col("result")] == "SUCCESS");
    CHECK(row[col("violations")] == "0");
    CHECK(row[col("starvations")] == "0");
    CHECK(row[col("crashes")] == "0");
    CHECK(row[col("seed")] == "12345");
    CHECK(std::stoull(row[col("ops")]) > 0);
    kills += std::stoull(row[col("kills")]);
    stops += std::stoull(row[col("stops")]);
    signals += std::stoull(row[col("signals")]);
  }
  CHECK(roles == std::vector<std::string>{"lock", "rlock", "semaphore", "bounded_semaphore", "condition", "event",
                                          "barrier", "queue", "joinable_queue", "value", "array"});
  CHECK(kills > 0);
  CHECK(stops > 0);
  CHECK(signals > 0);
  // The JSON context: the seed and the fault schedule of each pair.
  std::ifstream jf(s.dir / "t.json");
  const auto j = nlohmann::json::parse(jf);
  REQUIRE(j["runs"].size() == 1);
  CHECK(j["runs"][0]["seed"] == 12345);
  REQUIRE(j["runs"][0]["pairs"].size() == 11);
  bool any_kill = false;
  for (const auto& p : j["runs"][0]["pairs"])
    for (const auto& e : p["schedule"]) any_kill = any_kill || e["fault"] == "kill";
  CHECK(any_kill);
}

TEST_CASE("Torture: each role's checker catches its broken primitive within 10 s", "[torture][process]") {
  const std::vector<std::pair<std::string, std::string>> broken = {
      {"lock", "lock_skip_acquire"},           {"rlock", "rlock_skip_acquire"},
      {"semaphore", "semaphore_skip_acquire"}, {"bounded_semaphore", "bounded_release_unchecked"},
      {"condition", "condition_notify_wakes_all"}, {"event", "event_wait_lies"},
      {"barrier", "barrier_early_release"},       {"queue", "queue_drops_put"},
      {"joinable_queue", "joinable_join_early"},  {"value", "value_update_unlocked"},
      {"array", "array_lock_not_shared"}};
  for (const auto& [role, fault] : broken) {
    INFO(role << " " << fault);
    // Every fault but kill: a waiter killed inside wait() grants the Condition checker one
    // extra wake-up (condition.hpp, "Owner death"), and on a busy machine a few kills before the
    // first notify() to several waiters let notify-wakes-all pass (a clean-clone CI saw it).
    // No checker needs a kill to catch its broken primitive.
    const auto r = run_cmd({kBench, "--torture", "-p", role, "--duration", "8", "--no-save", "--quiet",
                            "--faults", "stop,stutter,shuffle,signal", "--inject-fault", fault});
    INFO(r.out << r.err);
    CHECK(r.status == 1);
    CHECK(r.out.rfind("FAILURE: torture seed ", 0) == 0);
  }
}

TEST_CASE("Torture: bad input is one line and exit 2", "[torture][cli]") {
  const std::vector<std::vector<std::string>> bad = {
      {"--procs", "1"},          {"--procs", "x"},          {"--faults", "kill,fire"}, {"--primitive", "mutex"},
      {"--duration", "0"},       {"--duration", "soon"},    {"--seed", "-1"},          {"--backend", "python"},
      {"--inject-fault", "nope"}, {"-p", "lock", "--inject-fault", "event_wait_lies"}, {"--stat-interval", "-2"},
      {"--no-save", "--out", "/tmp/x.csv"}, {"-b", "posix", "--inject-fault", "lock_skip_acquire"}};
  for (const auto& extra : bad) {
    std::vector<std::string> argv{kBench, "--torture", "--duration", "1"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    const auto r = run_cmd(argv);
    INFO(extra[0] << " " << extra[1]);
    CHECK(r.status == 2);
    CHECK(r.err.rfind("bench: ", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.out.empty());
  }
}

TEST_CASE("Torture: nothing outlives bench after SIGINT or kill -9", "[torture][process]") {
  for (const int sig : {SIGINT, SIGKILL}) {
    Scratch s;
    const std::string tag = (s.dir / "tag.csv").string();  // names this run's processes
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      execl(kBench.c_str(), kBench.c_str(), "--torture", "--duration", "60", "--quiet", "--out", tag.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    REQUIRE(eventually([&] { return processes_naming(tag) >= 5; }, 20));  // bench, the agent, workers
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    kill(pid, sig);
    int st = 0;
    waitpid(pid, &st, 0);
    if (sig == SIGINT) {
      CHECK(WIFEXITED(st));
      CHECK(WEXITSTATUS(st) == 128 + SIGINT);
    }
    CHECK(eventually([&] { return processes_naming(tag) == 0; }, 10));
    // No torn file: the CSV is either absent or whole (a header and complete rows).
    if (std::filesystem::exists(tag)) {
      const auto rows = csv_rows(tag);
      for (const auto& row : rows) CHECK(row.size() == rows[0].size());
    }
    for (const auto& e : std::filesystem::directory_iterator(s.dir))
      CHECK(e.path().filename().string().find(".tmp.") == std::string::npos);
  }
}

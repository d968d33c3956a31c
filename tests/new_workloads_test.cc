// new_workloads_test.cc — every primitive added after Lock and Semaphore, through the real
// bench executable with its default workload: `bench --primitive P --procs 4 --duration 0.2`
// must exit 0 with a verified (status ok) row. 4 processes on a 2-PU machine also exercise
// oversubscription: waits must park, not spin, for the runs to finish in time.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "support.hpp"

using namespace ipcsync::test;
namespace fs = std::filesystem;

namespace {

const std::string kBench = IPCSYNC_BENCH_EXE;

// The CSV row's value under `column`.
std::string field(const std::string& csv, const std::string& column) {
  std::istringstream in(csv);
  std::string header, row;
  std::getline(in, header);
  std::getline(in, row);
  auto split = [](const std::string& s) {
    std::vector<std::string> v;
    std::string cur;
    bool quoted = false;
    for (char c : s) {
      if (c == '"') quoted = !quoted;
      else if (c == ',' && !quoted) v.push_back(std::exchange(cur, {}));
      else cur += c;
    }
    v.push_back(cur);
    return v;
  };
  const auto h = split(header), r = split(row);
  for (std::size_t i = 0; i < h.size() && i < r.size(); ++i)
    if (h[i] == column) return r[i];
  return "<no column " + column + ">";
}

void run_default(const std::string& primitive) {
  const fs::path dir = fs::temp_directory_path() / ("ipcsync-nw-" + std::to_string(getpid()) + "-" + primitive);
  fs::create_directories(dir);
  const CmdResult r = run_cmd({kBench, "--primitive", primitive, "--procs", "4", "--duration", "0.2", "--warmup",
                               "0.05", "--format", "csv", "--out", (dir / "r.csv").string()});
  INFO("bench --primitive " << primitive << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err);
  CHECK(r.status == 0);
  CHECK(verified_status(field(r.out, "status")));
  CHECK(field(r.out, "primitive") == primitive);
  CHECK(field(r.out, "procs") == "4");
  if (field(r.out, "status") == "ok") CHECK(std::stoull(field(r.out, "ops")) > 0);
  fs::remove_all(dir);
}

}  // namespace

TEST_CASE("bench: rlock runs rlock_nested with 4 processes and verifies", "[bench][rlock]") { run_default("rlock"); }
TEST_CASE("bench: bounded_semaphore runs pool_counter with 4 processes and verifies", "[bench][bounded_semaphore]") {
  run_default("bounded_semaphore");
}
TEST_CASE("bench: value runs value_counter with 4 processes and verifies", "[bench][value]") { run_default("value"); }
TEST_CASE("bench: array runs array_histogram with 4 processes and verifies", "[bench][array]") { run_default("array"); }
TEST_CASE("bench: event runs event_broadcast with 4 processes and verifies", "[bench][event]") { run_default("event"); }
TEST_CASE("bench: condition runs condition_ring with 4 processes and verifies", "[bench][condition]") {
  run_default("condition");
}
TEST_CASE("bench: barrier runs barrier_rounds with 4 processes and verifies", "[bench][barrier]") {
  run_default("barrier");
}
TEST_CASE("bench: queue runs queue_pipeline with 4 processes and verifies", "[bench][queue]") { run_default("queue"); }
TEST_CASE("bench: joinable_queue runs joinable_pool with 4 processes and verifies", "[bench][joinable_queue]") {
  run_default("joinable_queue");
}

TEST_CASE("bench: the coordinated workloads stop cleanly with --ops and in thread mode", "[bench]") {
  const fs::path dir = fs::temp_directory_path() / ("ipcsync-nw-ops-" + std::to_string(getpid()));
  fs::create_directories(dir);
  for (const std::string p : {"event", "condition", "barrier", "queue", "joinable_queue"})
    for (const std::vector<std::string>& extra : {std::vector<std::string>{"--ops", "300"},
                                                  std::vector<std::string>{"--mode", "threads", "--duration", "0.05"}}) {
      std::vector<std::string> argv{kBench, "--primitive", p, "--procs", "3", "--warmup", "0.01", "--format", "csv",
                                    "--out", (dir / "r.csv").string()};
      argv.insert(argv.end(), extra.begin(), extra.end());
      const CmdResult r = run_cmd(argv);
      INFO(p << " " << extra[0] << "\n" << r.out << r.err);
      CHECK(r.status == 0);
      // --ops: ok; a timed thread-mode run may be flagged short on a busy machine.
      if (extra[0] == "--ops") CHECK(field(r.out, "status") == "ok");
      else CHECK(verified_status(field(r.out, "status")));
    }
  fs::remove_all(dir);
}

TEST_CASE("bench: every new workload's verify step catches its injected fault", "[bench][fault]") {
  // Each fault breaks the invariant its workload checks (a lost update, a missed round, a
  // skipped turn, a duplicated arrival index, a lost item, a wrongly processed task): the row
  // must say verify_failed and bench exit 1. Proof that verification is real.
  const fs::path dir = fs::temp_directory_path() / ("ipcsync-nw-fault-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::vector<std::pair<std::string, std::string>> faults = {
      {"rlock", "lose_update"},  {"bounded_semaphore", "lose_update"}, {"value", "lose_update"},
      {"array", "lose_update"},  {"event", "miss_round"},              {"condition", "skip_turn"},
      {"barrier", "wrong_index"}, {"queue", "drop_item"},              {"joinable_queue", "bad_checksum"}};
  for (const auto& [p, fault] : faults) {
    const CmdResult r = run_cmd({kBench, "--primitive", p, "--procs", "2", "--duration", "0.1", "--warmup", "0.02",
                                 "--inject-fault", fault, "--format", "csv", "--out", (dir / "f.csv").string()});
    INFO(p << " --inject-fault " << fault << "\n" << r.out << r.err);
    CHECK(r.status == 1);
    CHECK(field(r.out, "status") == "verify_failed");
  }
  fs::remove_all(dir);
}

// python_backend_test.cc — the python backend (scripts/mp_backend.py under /usr/bin/python3):
// same CSV rows, verified, its histogram layout identical to the C++ one, and bad input or
// interruption handled like any other backend.
#include <catch2/catch.hpp>

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "harness/histogram.hpp"
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
}  // namespace

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
  const CmdResult r = run_cmd({kBench, "--primitive", "lock,semaphore", "--backend", "python,native", "--procs", "2",
                               "--duration", "0.2", "--warmup", "0.05", "--format", "csv", "--out", out});
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

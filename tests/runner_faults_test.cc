// runner_faults_test.cc — what one configuration going wrong must not do to the rest: orphaned
// Python workers after bench is SIGKILLed, malformed output from the Python interpreter, a run
// matrix too large to build, a fork that fails under RLIMIT_NPROC, a --plot path with a quote,
// the CLI's smaller holes (empty values, clamped --producers, a directory as --python, --list
// skipping validation), a killed Python worker reported as `crashed`, the watchdog rule, one
// kMaxWorkers, pingpong's Condition constructed once, and RunConfig::param() of an unknown key.
//
// Every test that starts bench runs it in a private temporary directory and leaves no process
// behind, even when it fails (ProcessSweeper / SessionGuard). IPCSYNC_TEST_BENCH_EXE, when set,
// names the bench to test instead of this build's (how these tests were shown to fail against
// the bench before the fixes).
#include <catch2/catch.hpp>

#include <dlfcn.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "harness/clock.hpp"
#include "harness/config.hpp"
#include "harness/runner.hpp"
#include "harness/topology.hpp"
#include "harness/workload.hpp"
#include "harness_env.hpp"
#include "support.hpp"

using namespace ipcsync::test;
using namespace ipcsync::harness;
namespace fs = std::filesystem;

// ---- pthread_cond_init, counted: which addresses were initialised, and how often -------------
// Defined in this executable, it takes the place of libc's for every call linked into it (the
// posix backend's Cond included) and forwards to libc's. It records only while `g_cond_record`.
namespace {
std::atomic<bool> g_cond_record{false};
constexpr int kCondLog = 256;
std::atomic<int> g_cond_n{0};
const void* g_cond_log[kCondLog];
}  // namespace

extern "C" int pthread_cond_init(pthread_cond_t* c, const pthread_condattr_t* a) {
  using Fn = int (*)(pthread_cond_t*, const pthread_condattr_t*);
  static Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "pthread_cond_init"));
  if (g_cond_record.load()) {
    const int i = g_cond_n.fetch_add(1);
    if (i < kCondLog) g_cond_log[i] = c;
  }
  return real(c, a);
}

namespace {

std::string bench_exe() {
  if (const char* p = std::getenv("IPCSYNC_TEST_BENCH_EXE")) return p;
  return IPCSYNC_BENCH_EXE;
}
const std::string kBench = bench_exe();
const std::string kSource = IPCSYNC_SOURCE_DIR_FOR_TESTS;

// TempDir: a private directory (mkdtemp), removed with everything in it.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "ipcsync-rf-XXXXXX").string();
    if (!mkdtemp(t.data())) std::abort();
    path = t;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path operator/(const std::string& s) const { return path / s; }
};

void write_file(const fs::path& p, const std::string& text, bool executable = false) {
  {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f << text;
  }
  if (executable) fs::permissions(p, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                         fs::perms::others_read | fs::perms::others_exec);
}

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::size_t lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

// /proc/<pid>/stat: state, parent, session.
struct ProcStat {
  int pid = 0;
  char state = '?';
  int ppid = 0, session = 0;
};

std::vector<ProcStat> all_processes() {
  std::vector<ProcStat> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string s = read_file(e.path() / "stat");
    const std::size_t rp = s.rfind(')');
    if (rp == std::string::npos) continue;
    std::istringstream in(s.substr(rp + 2));
    ProcStat p;
    int pgrp = 0;
    p.pid = std::stoi(name);
    in >> p.state >> p.ppid >> pgrp >> p.session;
    if (in) out.push_back(p);
  }
  return out;
}

// Live (not zombie) processes of session `sid`, other than `except`.
std::vector<int> live_in_session(int sid, int except = -1) {
  std::vector<int> v;
  for (const auto& p : all_processes())
    if (p.session == sid && p.pid != except && p.state != 'Z' && p.state != 'X') v.push_back(p.pid);
  return v;
}

std::vector<int> live_children_of(int ppid) {
  std::vector<int> v;
  for (const auto& p : all_processes())
    if (p.ppid == ppid && p.state != 'Z' && p.state != 'X') v.push_back(p.pid);
  return v;
}

// SessionGuard: bench started with setsid() in a child; on every exit path, everything still in
// its session (bench, the Python driver, its workers — orphans included) is SIGKILLed, and bench
// is reaped.
struct SessionGuard {
  pid_t pid;
  bool reaped = false;
  int join() {
    reaped = true;
    return ipcsync::test::join(pid);
  }
  ~SessionGuard() {
    for (int round = 0; round < 50; ++round) {
      const auto left = live_in_session(pid);
      if (left.empty()) break;
      for (int p : left) kill(p, SIGKILL);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!reaped) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
};

// start_bench_session(): forks bench in a session of its own, stdout to `out_path` (or
// /dev/null), stderr to /dev/null, with a clean signal mask.
pid_t start_bench_session(const std::vector<std::string>& args, const std::string& out_path = "/dev/null") {
  std::vector<std::string> argv{kBench};
  argv.insert(argv.end(), args.begin(), args.end());
  const pid_t pid = fork();
  if (pid == 0) {
    setsid();
    const int o = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, 0);
    dup2(o, 1);
    dup2(devnull, 2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    std::vector<char*> a;
    for (auto& s : argv) a.push_back(s.data());
    a.push_back(nullptr);
    execv(a[0], a.data());
    _exit(127);
  }
  return pid;
}


using ipcsync::test::env;

}  // namespace

// ---- A. orphaned Python workers --------------------------------------------------------------

TEST_CASE("python backend: no worker outlives a SIGKILLed bench", "[python][signal][orphans]") {
  TempDir dir;
  const pid_t pid = start_bench_session({"--primitive", "lock", "--backend", "python", "--procs", "4", "--duration",
                                         "30", "--warmup", "0.05", "--out", (dir / "a.csv").string()});
  SessionGuard guard{pid};
  // bench + the Python driver + its 4 workers, all in bench's session.
  const auto t0 = std::chrono::steady_clock::now();
  while (live_in_session(pid).size() < 6 && elapsed_s(t0) < 30)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(live_in_session(pid).size() >= 6);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // measuring
  kill(pid, SIGKILL);
  CHECK(guard.join() == 128 + SIGKILL);
  const auto t1 = std::chrono::steady_clock::now();
  std::vector<int> left = live_in_session(pid);
  while (!left.empty() && elapsed_s(t1) < 2.0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    left = live_in_session(pid);
  }
  INFO(left.size() << " process(es) of bench's session still alive 2 s after its SIGKILL");
  CHECK(left.empty());
}

// ---- B. malformed output from the Python interpreter ---------------------------------------

TEST_CASE("python backend: malformed interpreter output is an error row with a reason and the sweep goes on",
          "[python][malformed]") {
  TempDir dir;
  const fs::path fake = dir / "fake-python";
  const fs::path payload = dir / "payload";
  // A stand-in for the interpreter: reads the run configuration, prints the payload.
  write_file(fake, "#!/bin/sh\ncat > /dev/null\ncat '" + payload.string() + "'\n", true);
  const std::string worker =
      R"({"ops": 10, "warm_ops": 1, "begin_ns": 100, "end_ns": 60000100, "min_ns": 5, "max_ns": 9, "hist": {"5": 2}})";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"empty", ""},
      {"empty object", "{}"},
      {"not JSON", "Traceback (most recent call last): oops\n"},
      {"a JSON array", "[1, 2, 3]"},
      {"wrong types", R"({"workers": "many", "verify": 3})"},
      {"truncated", R"({"workers": [{"ops": 10, "begin_ns": 1)"},
      {"missing keys", R"({"workers": [{"ops": 1}, {"ops": 2}], "verify": {"ok": true}})"},
      {"negative ops", R"({"workers": [{"ops": -5, "begin_ns": 0, "end_ns": 1, "min_ns": 0, "max_ns": 0, "hist": {}},)"
                       R"({"ops": 1, "begin_ns": 0, "end_ns": 1, "min_ns": 0, "max_ns": 0, "hist": {}}],)"
                       R"( "verify": {"ok": true, "detail": "x"}})"},
      {"bad bucket", R"({"workers": [{"ops": 1, "begin_ns": 0, "end_ns": 1, "min_ns": 0, "max_ns": 0, "hist": {"x": 1}},)"
                     R"({"ops": 1, "begin_ns": 0, "end_ns": 1, "min_ns": 0, "max_ns": 0, "hist": {"999999": 1}}],)"
                     R"( "verify": {"ok": true, "detail": "x"}})"},
      {"too few workers", R"({"workers": [)" + worker + R"(], "verify": {"ok": true, "detail": "x"}})"},
      {"verify not boolean", R"({"workers": [)" + worker + "," + worker + R"(], "verify": {"ok": "yes", "detail": "x"}})"},
      {"error not a string", R"({"error": 42})"},
  };
  auto run = [&] {
    return run_cmd({kBench, "--primitive", "lock,semaphore", "--backend", "python", "--procs", "2", "--duration",
                    "0.05", "--warmup", "0.01", "--python", fake.string(), "--format", "csv", "--out",
                    (dir / "b.csv").string()});
  };
  for (const auto& [name, text] : cases) {
    write_file(payload, text);
    const CmdResult r = run();
    INFO(name << ": " << text << "\nstdout: " << r.out << "stderr: " << r.err);
    CHECK(r.status == 1);
    CHECK(r.err.find("bench: error") == std::string::npos);  // nothing escaped the row
    const auto rows = csv_rows(r.out);
    REQUIRE(rows.size() == 2);  // both configurations: the sweep went on
    for (const auto& row : rows) {
      CHECK(row.at("status") == "error");
      CHECK(row.at("detail").size() > 10);  // a reason
    }
  }
  // The same stand-in with a well-formed result: ok rows, so the cases above fail for their
  // payload and not for the stand-in.
  write_file(payload, R"({"workers": [)" + worker + "," + worker + R"(], "verify": {"ok": true, "detail": "fine"}})");
  const CmdResult ok = run();
  INFO(ok.out << ok.err);
  CHECK(ok.status == 0);
  const auto rows = csv_rows(ok.out);
  REQUIRE(rows.size() == 2);
  for (const auto& row : rows) {
    CHECK(row.at("status") == "ok");
    CHECK(row.at("detail") == "fine");
    CHECK(row.at("ops") == "20");
  }
}

// ---- C. the size of the run matrix -----------------------------------------------------------

TEST_CASE("cli: a run matrix above the limit is refused before it is expanded", "[cli][matrix]") {
  TempDir dir;
  const std::vector<std::vector<std::string>> cases = {
      {"--primitive", "lock", "--cs-ns", "0-100000", "--think-ns", "0-100000"},
      {"--primitive", "lock", "--cs-ns", "0-900000000"},
      {"--primitive", "lock", "--cs-ns", "0-99,0-100000000,5"},
      {"--primitive", "lock", "--procs", "1-1024", "--repeat", "10"},
      {"--primitive", "lock,semaphore", "--backend", "all", "--procs", "1-100", "--cs-ns", "0-20"},
  };
  for (const auto& args : cases) {
    std::vector<std::string> argv{kBench};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--duration", "0.05", "--out", (dir / "c.csv").string()});
    std::string shown;
    for (const auto& a : args) shown += a + " ";
    INFO("bench " << shown);
    // In a child with 1 GiB of address space: a matrix built before it is counted ends in
    // bad_alloc (exit 1) here instead of taking the machine's memory. AddressSanitizer reserves
    // terabytes of shadow address space at start-up, so under it the child runs unlimited and
    // the 30 s stop below is what catches a bench that expands the matrix.
    const pid_t pid = fork();
    if (pid == 0) {
#if !defined(__SANITIZE_ADDRESS__)
      rlimit lim{1ul << 30, 1ul << 30};
      setrlimit(RLIMIT_AS, &lim);
#endif
      const int devnull = open("/dev/null", O_WRONLY);
      const int err = open((dir / "err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(devnull, 1);
      dup2(err, 2);
      std::vector<char*> a;
      for (auto& s : argv) a.push_back(s.data());
      a.push_back(nullptr);
      execv(a[0], a.data());
      _exit(127);
    }
    // Refused at once; a bench that starts running the matrix is stopped after 30 s.
    const auto t0 = std::chrono::steady_clock::now();
    int st = 0;
    while (waitpid(pid, &st, WNOHANG) == 0) {
      if (elapsed_s(t0) > 30) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const int status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    const std::string err = read_file(dir / "err");
    INFO(err);
    CHECK(status == 2);
    CHECK(lines(err) == 1);
    CHECK(err.rfind("bench: ", 0) == 0);
    CHECK(err.find(std::to_string(kMaxRuns)) != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "c.csv"));
  }
  // The limit is documented in --help and in the README.
  const CmdResult h = run_cmd({kBench, "--help"});
  CHECK(h.out.find("at most " + std::to_string(kMaxRuns) + " runs") != std::string::npos);
  CHECK(read_file(kSource + "/README.md").find(std::to_string(kMaxRuns) + " runs") != std::string::npos);
}

TEST_CASE("cli: a matrix of exactly the limit is accepted / one more run is not", "[cli][matrix]") {
  auto parse = [](std::vector<std::string> args) {
    args.insert(args.begin(), "bench");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    return parse_options(static_cast<int>(argv.size()), argv.data());
  };
  // 100 x 100 = kMaxRuns (10000) parameter combinations.
  static_assert(kMaxRuns == 10000);
  const Options o = parse({"--primitive", "lock", "--cs-ns", "0-99", "--think-ns", "1-100"});
  CHECK(o.params.at("cs_ns").size() == 100);
  CHECK_THROWS_AS(parse({"--primitive", "lock", "--cs-ns", "0-99", "--think-ns", "1-100", "--repeat", "2"}),
                  usage_error);
  CHECK_THROWS_AS(parse({"--primitive", "lock", "--cs-ns", "0-100", "--think-ns", "1-100"}), usage_error);
  CHECK(count_int_list("--cs-ns", "0-999999999999,3,5-6", 0, INT64_MAX) == 1000000000000 + 3);
}

// ---- D. a fork that fails under RLIMIT_NPROC --------------------------------------------------

TEST_CASE("runner: a configuration whose workers cannot be forked is an error row and the sweep goes on",
          "[cli][fork]") {
  // RLIMIT_NPROC counts the processes of the real uid, and root ignores it: as root, bench runs
  // as `nobody` (65534) in a directory it owns.
  const uid_t uid = getuid() == 0 ? 65534 : getuid();
  TempDir dir;
  if (getuid() == 0 && chown(dir.path.c_str(), 65534, 65534) != 0) {
    WARN("skipped: cannot chown the temporary directory to nobody");
    return;
  }
  int existing = 0;
  for (const auto& e : fs::directory_iterator("/proc")) {
    struct stat st {};
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") == std::string::npos && stat(e.path().c_str(), &st) == 0 &&
        st.st_uid == uid)
      ++existing;
  }
  const rlim_t limit = static_cast<rlim_t>(existing) + 16;  // bench and up to ~15 workers
  const std::string marker = "IPCSYNC_TEST_MARKER=" + std::to_string(getpid()) + "-nproc";
  const fs::path out = dir / "out", err = dir / "err";
  const pid_t pid = fork();
  if (pid == 0) {
    const int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(o, 1);
    dup2(e, 2);
    if (getuid() == 0) {
      if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(77);
    }
    rlimit lim{limit, limit};
    if (setrlimit(RLIMIT_NPROC, &lim) != 0) _exit(78);
    putenv(const_cast<char*>(marker.c_str()));
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execl(kBench.c_str(), kBench.c_str(), "--primitive", "lock", "--procs", "2,64,2", "--ops", "2000", "--warmup",
          "0.01", "--format", "csv", "--out", (dir / "d.csv").c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  const int status = join(pid);
  if (status == 77 || status == 78) {
    WARN("skipped: cannot drop to nobody or set RLIMIT_NPROC here (status " << status << ")");
    return;
  }
  const std::string text = read_file(out);
  INFO("exit " << status << "\n" << text << read_file(err));
  CHECK(status == 1);
  const auto rows = csv_rows(text);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].at("procs") == "2");
  CHECK(rows[0].at("status") == "ok");
  CHECK(rows[1].at("procs") == "64");
  CHECK(rows[1].at("status") == "error");
  CHECK(rows[1].at("detail").find("fork") != std::string::npos);
  CHECK(rows[1].at("detail").find("killed and reaped") != std::string::npos);
  CHECK(rows[2].at("procs") == "2");
  CHECK(rows[2].at("status") == "ok");
  // Nothing of that bench is left.
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string env = read_file(e.path() / "environ");
    CHECK(env.find(marker) == std::string::npos);
  }
}

// ---- E. --plot without a shell --------------------------------------------------------------

TEST_CASE("cli: --plot runs the plotter with an argument vector: a quote and a space in the paths", "[cli][plot]") {
  TempDir tmp;
  const fs::path dir = tmp / "it's a dir";
  fs::create_directories(dir);
  const fs::path py = dir / "py th'on; touch INJECTED";
  const fs::path argv_file = dir / "argv.txt";
  // A stand-in for the interpreter: writes the arguments it got, one per line.
  write_file(py, "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > \"$(dirname \"$0\")/argv.txt\"\n", true);
  const fs::path csv = dir / "r'un 1.csv";
  const CmdResult r = run_cmd({kBench, "--primitive", "lock", "--procs", "1", "--ops", "1000", "--warmup", "0.01",
                               "--format", "csv", "--out", csv.string(), "--python", py.string(), "--plot"});
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  REQUIRE(fs::exists(argv_file));
  const auto rows = csv_rows(r.out);
  REQUIRE(rows.size() == 1);
  std::vector<std::string> got;
  std::istringstream in(read_file(argv_file));
  for (std::string line; std::getline(in, line);) got.push_back(line);
  // plot.py as bench finds it (share/ipcsync/scripts beside the binary: a link to scripts/ here).
  REQUIRE(got.size() == 4);
  CHECK(fs::equivalent(got[0], kSource + "/scripts/plot.py"));
  const std::vector<std::string> want{csv.string(), "--run-id", rows[0].at("run_id")};
  CHECK(std::vector<std::string>(got.begin() + 1, got.end()) == want);
  CHECK_FALSE(fs::exists(fs::current_path() / "INJECTED"));
}

// ---- F. the CLI's smaller holes -------------------------------------------------------------

TEST_CASE("cli: an empty value is bad input / never the default", "[cli]") {
  TempDir dir;
  const std::vector<std::string> flags = {"--procs",  "--out",     "--duration", "--backend", "--pin",
                                          "--cs-ns",  "--python",  "--format",   "--timeout", "--warmup",
                                          "--repeat", "--workload", "--mode",    "--results-dir", "--primitive",
                                          "--sample-every", "--ops"};
  for (const auto& flag : flags) {
    std::vector<std::string> argv{kBench, "--results-dir", (dir / "res").string()};
    if (flag != "--primitive") argv.insert(argv.end(), {"--primitive", "lock"});
    if (flag != "--out") argv.insert(argv.end(), {"--out", (dir / "e.csv").string()});
    if (flag != "--ops" && flag != "--duration") argv.insert(argv.end(), {"--duration", "0.05"});
    argv.insert(argv.end(), {"--procs", "1"});
    argv.insert(argv.end(), {flag, ""});
    INFO("bench ... " << flag << " ''");
    const CmdResult r = run_cmd(argv);
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK(lines(r.err) == 1);
    CHECK(r.err.find(flag) != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "e.csv"));
    CHECK_FALSE(fs::exists(dir / "res"));
  }
}

TEST_CASE("cli: --producers that leave no consumer are refused / not clamped", "[cli]") {
  TempDir dir;
  for (const auto& [producers, procs] : std::vector<std::pair<std::string, std::string>>{{"5", "2"}, {"2", "2"},
                                                                                         {"2", "1"}, {"1", "2,4,1"}}) {
    const CmdResult r = run_cmd({kBench, "--workload", "queue_pipeline", "--primitive", "queue", "--producers",
                                 producers, "--procs", procs, "--ops", "100", "--out", (dir / "p.csv").string()});
    INFO("--producers " << producers << " --procs " << procs << ": " << r.err);
    if (producers == "1") {
      CHECK(r.status == 0);  // one producer fits every --procs
      continue;
    }
    CHECK(r.status == 2);
    CHECK(lines(r.err) == 1);
    CHECK(r.err.find("--producers") != std::string::npos);
  }
}

TEST_CASE("cli: --python must be an executable file / not a directory", "[cli][python]") {
  TempDir dir;
  for (const auto& backend : {"python", "native"}) {
    const CmdResult r = run_cmd({kBench, "--primitive", "lock", "--backend", backend, "--procs", "1", "--ops", "100",
                                 "--python", dir.path.string(), "--out", (dir / "x.csv").string()});
    INFO(backend << ": " << r.err);
    CHECK(r.status == 2);
    CHECK(lines(r.err) == 1);
    CHECK(r.err.find("--python") != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "x.csv"));
  }
}

TEST_CASE("cli: --list validates the other flags too", "[cli]") {
  for (const auto& bad : std::vector<std::vector<std::string>>{{"--procs", "0"},
                                                               {"--format", "xml"},
                                                               {"--duration", "soon"},
                                                               {"--primitive", "mutexx"},
                                                               {"--backend", "fastest"},
                                                               {"--cs-ns", "-5"},
                                                               {"--procs", ""},
                                                               {"--pin", "diagonal"},
                                                               {"--pin", "0,4096"}}) {
    std::vector<std::string> argv{kBench, "--list"};
    argv.insert(argv.end(), bad.begin(), bad.end());
    const CmdResult r = run_cmd(argv);
    INFO("bench --list " << bad[0] << " " << bad[1] << ": " << r.err);
    CHECK(r.status == 2);
    CHECK(lines(r.err) == 1);
    CHECK(r.err.find(bad[0]) != std::string::npos);
    CHECK(r.out.empty());
  }
  CHECK(run_cmd({kBench, "--list", "--format", "json"}).status == 0);
}

TEST_CASE("python backend: a worker killed by a signal makes the row crashed", "[python][signal]") {
  TempDir dir;
  const fs::path out = dir / "stdout";
  const pid_t pid = start_bench_session({"--primitive", "lock", "--backend", "python", "--procs", "3", "--duration",
                                         "30", "--warmup", "0.05", "--format", "csv", "--out",
                                         (dir / "k.csv").string()},
                                        out.string());
  SessionGuard guard{pid};
  // bench -> the Python driver -> 3 workers.
  std::vector<int> workers;
  const auto t0 = std::chrono::steady_clock::now();
  while (elapsed_s(t0) < 30) {
    const auto driver = live_children_of(pid);
    if (driver.size() == 1) {
      workers = live_children_of(driver[0]);
      if (workers.size() == 3) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(workers.size() == 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  kill(workers[1], SIGKILL);
  const int status = guard.join();
  const std::string text = read_file(out);
  INFO(text);
  CHECK(status == 1);
  CHECK(elapsed_s(t0) < 25);  // the run ended at once, not at the 30 s duration
  const auto rows = csv_rows(text);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].at("status") == "crashed");
  CHECK(rows[0].at("detail").find("signal 9") != std::string::npos);
}

TEST_CASE("watchdog: the default rule is the documented one and scales with --ops", "[cli][watchdog]") {
  RunConfig cfg;
  cfg.procs = 4;
  cfg.warmup_s = 0.5;
  cfg.duration_s = 3;
  CHECK(watchdog_seconds(cfg, 0) == Approx(0.5 + 2 * 3 + 10));
  CHECK(watchdog_seconds(cfg, 7) == 7);  // --timeout wins
  cfg.ops_per_worker = 1000;
  CHECK(watchdog_seconds(cfg, 0) >= 120);
  // 10^8 ops for each of 4 workers cannot fit in a fixed 120 s: the budget grows with the work.
  cfg.ops_per_worker = 100'000'000;
  CHECK(watchdog_seconds(cfg, 0) >= 4e8 * 100e-6);
  cfg.backend = "python";
  CHECK(watchdog_seconds(cfg, 0) >= 4e8 * 1e-3);
  // --help and the README state the same rule.
  const CmdResult h = run_cmd({kBench, "--help"});
  std::string help = h.out;
  std::replace(help.begin(), help.end(), '\n', ' ');
  help.erase(std::unique(help.begin(), help.end(), [](char a, char b) { return a == ' ' && b == ' '; }), help.end());
  CHECK(help.find("warm-up + 2 x duration + 10 s") != std::string::npos);
  CHECK(help.find("warm-up + 120 s + 100 us per op of every worker, 1 ms for the python backend") != std::string::npos);
  const std::string readme = read_file(kSource + "/README.md");
  CHECK(readme.find("warm-up + 2 x duration + 10 s") != std::string::npos);
  CHECK(readme.find("warm-up + 120 s + 100 µs per op of every worker (1 ms for the python backend)") !=
        std::string::npos);
}

// ---- G. one kMaxWorkers, one Condition, loud parameters --------------------------------------

TEST_CASE("kMaxWorkers is bench's --procs limit", "[cli][workers]") {
  auto parse = [](std::vector<std::string> args) {
    args.insert(args.begin(), "bench");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    return parse_options(static_cast<int>(argv.size()), argv.data());
  };
  CHECK(parse({"--primitive", "lock", "--procs", std::to_string(kMaxWorkers)}).procs.at(0) == kMaxWorkers);
  CHECK_THROWS_AS(parse({"--primitive", "lock", "--procs", std::to_string(kMaxWorkers + 1)}), usage_error);
  // Per-worker workload parameters stop at the same limit.
  for (const auto& def : Registry::get().all())
    for (const auto& p : def.params)
      if (p.name == "producers" || p.name == "consumers" || p.name == "waiters") {
        INFO(def.name << " --" << p.name);
        CHECK(p.max <= kMaxWorkers);
      }
}

TEST_CASE("pingpong: each pair's Condition is constructed once", "[workloads][condition]") {
  const WorkloadDef* def = Registry::get().find("pingpong");
  REQUIRE(def != nullptr);
  int checked = 0;
  for (const std::string backend : {"posix", "boost"}) {
    std::optional<Instance> inst = def->make("condition", backend);
    if (!inst) continue;
    RunConfig cfg;
    cfg.workload = "pingpong";
    cfg.primitive = "condition";
    cfg.backend = backend;
    cfg.procs = 4;
    void* mem = aligned_alloc(4096, (inst->shared_bytes + 4095) / 4096 * 4096);
    REQUIRE(mem != nullptr);
    g_cond_n = 0;
    g_cond_record = true;
    inst->init(mem, cfg);
    g_cond_record = false;
    const int n = std::min(g_cond_n.load(), kCondLog);
    std::map<const void*, int> times;
    for (int i = 0; i < n; ++i) ++times[g_cond_log[i]];
    INFO(backend << ": " << n << " pthread_cond_init call(s) on " << times.size() << " object(s)");
    CHECK(n > 0);
    for (const auto& [addr, k] : times) CHECK(k == 1);
    inst->destroy(mem);
    std::free(mem);
    ++checked;
  }
  CHECK(checked >= 1);
}

namespace {
// A workload that reads a parameter it never declared, at `where`: 0 init, 1 body, 2 verify.
template <int Where>
Instance typo_instance() {
  Instance in;
  in.shared_bytes = 64;
  in.init = [](void*, const RunConfig& cfg) {
    if (Where == 0) (void)cfg.param("cs_nss");
  };
  in.body = [](void*, WorkerEnv& env) {
    const int64_t cs = Where == 1 ? env.cfg->param("cs_nss") : 0;
    run_ops(env, [&] { (void)cs; }, [] {});
  };
  in.verify = [](void*, const RunConfig& cfg, const Totals&) {
    if (Where == 2) (void)cfg.param("cs_nss");
    return VerifyResult{};
  };
  in.destroy = [](void*) {};
  return in;
}
}  // namespace

TEST_CASE("RunConfig::param() of an unknown key fails loudly: the run is an error row naming it", "[workloads]") {
  RunConfig cfg;
  cfg.workload = "counter";
  cfg.params = {{"cs_ns", 5}};
  CHECK(cfg.param("cs_ns") == 5);
  CHECK_THROWS_WITH(cfg.param("cs_nss"), Catch::Contains("cs_nss"));
  cfg.procs = 2;
  cfg.ops_per_worker = 100;
  cfg.warmup_s = 0.01;
  const std::vector<Instance> insts = {typo_instance<0>(), typo_instance<1>(), typo_instance<2>()};
  for (const std::string mode : {"processes", "threads"})
    for (std::size_t where = 0; where < insts.size(); ++where) {
      cfg.mode = mode;
      const RunResult r = run_once(insts[where], cfg, env().topo.plan("none", 2), env().topo, env().gate, 30);
      INFO(mode << ", read in " << (where == 0 ? "init" : where == 1 ? "body" : "verify") << ": " << r.status
                << " (" << r.detail << ")");
      CHECK(r.status == ipcsync::harness::RunStatus::error);
      CHECK(r.detail.find("cs_nss") != std::string::npos);
      CHECK_FALSE(r.fatal);
    }
}

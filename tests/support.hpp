// support.hpp — helpers shared by the tests: run a command, fork a child that reports back.
#pragma once

#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace ipcsync::test {

struct CmdResult {
  int status = -1;  // exit status, or 128+signal
  std::string out, err;
};

// run_cmd(): fork/exec argv, capture stdout and stderr, wait for it.
inline CmdResult run_cmd(const std::vector<std::string>& argv, const std::vector<std::string>& env_extra = {}) {
  int o[2], e[2];
  if (pipe(o) != 0 || pipe(e) != 0) std::abort();
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(o[1], 1);
    dup2(e[1], 2);
    close(o[0]);
    close(e[0]);
    for (const auto& kv : env_extra) putenv(const_cast<char*>(kv.c_str()));
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(o[1]);
  close(e[1]);
  CmdResult r;
  auto drain = [](int fd, std::string& s) {
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<size_t>(n));
  };
  // Read both pipes without deadlocking: stderr is small, read stdout first then stderr.
  drain(o[0], r.out);
  drain(e[0], r.err);
  close(o[0]);
  close(e[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

// Shared<T>: one T in an anonymous shared mapping, for fork-based tests.
template <class T>
class Shared {
 public:
  template <class... A>
  explicit Shared(A&&... a) {
    void* p = mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) std::abort();
    obj_ = ::new (p) T(std::forward<A>(a)...);
  }
  ~Shared() {
    obj_->~T();
    munmap(obj_, sizeof(T));
  }
  T* operator->() const { return obj_; }
  T& operator*() const { return *obj_; }

 private:
  T* obj_;
};

// spawn(): fork a child running f (its return value is the exit status). Returns the pid.
inline pid_t spawn(const std::function<int()>& f) {
  const pid_t pid = fork();
  if (pid == 0) {
    int rc = 1;
    try {
      rc = f();
    } catch (...) {
      rc = 99;
    }
    _exit(rc);
  }
  return pid;
}

// join(): wait for a child; returns its exit status (128+signal if killed).
inline int join(pid_t pid) {
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

// run_on_cpu(): argv run with its affinity mask set to one PU: through taskset when it is
// installed, else inherited from this thread's mask, set for the fork and restored.
inline CmdResult run_on_cpu(int cpu, std::vector<std::string> argv) {
  if (access("/usr/bin/taskset", X_OK) == 0) {
    argv.insert(argv.begin(), {"/usr/bin/taskset", "-c", std::to_string(cpu)});
    return run_cmd(argv);
  }
  cpu_set_t old, one;
  if (sched_getaffinity(0, sizeof old, &old) != 0) throw std::runtime_error("run_on_cpu: sched_getaffinity failed");
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  if (sched_setaffinity(0, sizeof one, &one) != 0) throw std::runtime_error("run_on_cpu: sched_setaffinity failed");
  CmdResult r = run_cmd(argv);
  sched_setaffinity(0, sizeof old, &old);
  return r;
}

// slurp(): a file's whole text ("" when it cannot be read).
inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// verified_status(): what a timed run may end as on a busy machine. `ok` only when its
// measured window is real; `short_window` when the machine starved it (verified, but not a
// measurement; see runner.cc check_window). A test of a timed run accepts both and checks the
// figures of an `ok` row only: no test depends on the machine being quiet.
inline bool verified_status(const std::string& status) { return status == "ok" || status == "short_window"; }
template <class S>
  requires std::is_enum_v<S>  // harness::RunStatus, without pulling the harness into every test
inline bool verified_status(S s) {
  return s == S::ok || s == S::short_window;
}

// csv_rows(): the data rows of bench's CSV output (stdout or a file's text), each as column ->
// field; RFC 4180 quoting is undone (detail and pus may be quoted). Lines before the header are
// skipped.
inline std::vector<std::map<std::string, std::string>> csv_rows(const std::string& out) {
  auto split = [](const std::string& line) {
    std::vector<std::string> f;
    std::string cur;
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (quoted) {
        if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
          cur += '"';
          ++i;
        } else if (c == '"') {
          quoted = false;
        } else {
          cur += c;
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        f.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    f.push_back(cur);
    return f;
  };
  std::vector<std::map<std::string, std::string>> rows;
  std::istringstream in(out);
  std::string line;
  std::vector<std::string> header;
  while (std::getline(in, line)) {
    if (line.rfind("schema_version,", 0) == 0) {
      header = split(line);
      continue;
    }
    if (header.empty() || line.empty()) continue;
    const auto f = split(line);
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < header.size() && i < f.size(); ++i) row[header[i]] = f[i];
    rows.push_back(row);
  }
  return rows;
}

inline double elapsed_s(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace ipcsync::test

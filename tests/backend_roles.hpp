// backend_roles.hpp — the backends each role's templated semantic tests run over, and small
// helpers those tests share.
//
// Each <role>_backends_test.cc is written once as ROLE_TEST_CASEs: a test of a role is
// registered once per compiled backend that offers the role in the role table
// (ipcsync/roles.hpp, roles::offered_by), named "<name> - <backend>". No list of backends is
// kept here, so a backend that gains a role cannot skip its tests.
#pragma once

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <limits>
#include <sys/wait.h>
#include <vector>
#include <string>
#include <utility>
#include <thread>

#include <catch2/catch.hpp>

#include "harness/backends.hpp"
#include "ipcsync/roles.hpp"
#include "support.hpp"

namespace ipcsync::test {

using harness::NativeBackend;
using harness::PosixBackend;
using harness::PosixPlainBackend;
using harness::SpinBackend;
#if IPCSYNC_WITH_BOOST_INTERPROCESS
using harness::BoostBackend;
#endif

// Selectors: which compiled backends a BACKEND_TEST_CASE runs over.
template <class Role>
struct Offering {  // the backends that offer Role
  template <class B>
  static constexpr bool selects = roles::offered_by<Role, B>;
};
struct EveryBackend {
  template <class B>
  static constexpr bool selects = true;
};
struct RobustLockBackends {  // whose Lock and RLock take over a dead holder (harness::robust_lock)
  template <class B>
  static constexpr bool selects = harness::robust_lock<B>;
};

// RegisterOver<Sel>: registers the test function template `fn` (a lambda giving &Fn<B>) with
// Catch once per compiled backend B that Sel selects, named "<name> - <B::name>".
template <class Sel>
struct RegisterOver {
  template <class Fn>
  RegisterOver(Fn fn, const char* name, const char* tags, const char* file, std::size_t line) {
    roles::for_each<harness::CompiledBackends>([&]<class B>() {
      if constexpr (Sel::template selects<B>)
        Catch::AutoReg(Catch::makeTestInvoker(fn.template operator()<B>()), Catch::SourceLineInfo(file, line),
                       Catch::StringRef(), Catch::NameAndTags{std::string(name) + " - " + std::string(B::name), tags});
    });
  }
};

}  // namespace ipcsync::test

// BACKEND_TEST_CASE(name, tags, Selector) { ... TestType ... }: a TEMPLATE_TEST_CASE whose types
// are the compiled backends Selector selects; ROLE_TEST_CASE(name, tags, Role) runs over those
// offering roles::Role.
#define IPCSYNC_BACKEND_TEST_CASE_(Fn, Reg, Name, Tags, Sel)                                                  \
  template <class TestType>                                                                                 \
  static void Fn();                                                                                         \
  static const ::ipcsync::test::RegisterOver<Sel> Reg([]<class B>() { return &Fn<B>; }, Name, Tags, __FILE__, \
                                                      static_cast<std::size_t>(__LINE__));                   \
  template <class TestType>                                                                                 \
  static void Fn()
#define BACKEND_TEST_CASE(Name, Tags, Sel)                                                                      \
  IPCSYNC_BACKEND_TEST_CASE_(INTERNAL_CATCH_UNIQUE_NAME(ipcsync_backend_test_),                                \
                             INTERNAL_CATCH_UNIQUE_NAME(ipcsync_backend_reg_), Name, Tags, Sel)
#define ROLE_TEST_CASE(Name, Tags, Role) BACKEND_TEST_CASE(Name, Tags, ::ipcsync::test::Offering<::ipcsync::roles::Role>)

namespace ipcsync::test {

// eventually(pred): polls pred every millisecond for up to `seconds`.
template <class P>
bool eventually(P pred, double seconds = 5.0) {
  const auto t0 = std::chrono::steady_clock::now();
  while (!pred()) {
    if (elapsed_s(t0) > seconds) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// spawn_child(f): spawn() (support.hpp) for children that must not outlive the test process:
// SIGKILLed when it exits, so a failed REQUIRE never leaves a waiter (or a spinner) behind.
inline pid_t spawn_child(const std::function<int()>& f) {
  const pid_t parent = getpid();
  return spawn([&f, parent] {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) return 98;
    return f();
  });
}

// TempDir: a fresh directory under the system temp dir, removed with everything in it.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static int n = 0;
    path = std::filesystem::temp_directory_path() /
           ("ipcsync-backends-" + std::to_string(getpid()) + "-" + std::to_string(n++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string operator/(const std::string& f) const { return (path / f).string(); }
};

// --- Helpers of the conformance suite (tests/conformance_*_test.cc) ---------------------------

// opaque(v): v, read back through a volatile so the compiler cannot fold it: a timeout "known
// only at run time".
template <class T>
T opaque(T v) {
  volatile T x = v;
  return x;
}

// still_running(pid): the child has not exited yet (an exited child is left unreaped, for
// join()).
inline bool still_running(pid_t pid) {
  siginfo_t si{};
  return waitid(P_PID, static_cast<id_t>(pid), &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == 0;
}

// join_within(pid, seconds): the child's exit status, or -1 if it was still running after
// `seconds` — then it is SIGKILLed and reaped, so a call that blocks forever by mistake fails
// the test instead of hanging it.
inline int join_within(pid_t pid, double seconds) {
  const auto t0 = std::chrono::steady_clock::now();
  int st = 0;
  for (;;) {
    const pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (r < 0) return -2;
    if (elapsed_s(t0) > seconds) {
      kill(pid, SIGKILL);
      waitpid(pid, &st, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

// in_child(f, seconds): runs f in a child process (its return value is the exit status) and
// returns that status, or -1 if f had not returned within `seconds` (the child is killed).
// For calls that would block forever when the promise is broken.
inline int in_child(const std::function<int()>& f, double seconds = 5.0) {
  return join_within(spawn_child(f), seconds);
}

// for_each_huge_timeout(f): calls f(name, timeout) for every spelling of a timeout too long to
// ever expire, each of which must mean "wait forever": doubles (Python's float seconds) and
// std::chrono durations of several types, some known only at run time.
template <class F>
void for_each_huge_timeout(F&& f) {
  using namespace std::chrono;
  f("1e10 s", 1e10);
  f("1e100 s", 1e100);
  f("+inf s", std::numeric_limits<double>::infinity());
  f("1e300 s at run time", opaque(1e300));
  f("duration<double>(1e100 s)", duration<double>(1e100));
  f("duration<double>::max()", duration<double>::max());
  f("hours::max()", hours::max());
  f("seconds::max()", seconds::max());
  f("milliseconds::max()", milliseconds::max());
  f("nanoseconds::max() (INT64_MAX ns)", nanoseconds::max());
  f("INT64_MAX ns at run time", nanoseconds(opaque(std::numeric_limits<int64_t>::max())));
  f("hours::max() at run time", hours(opaque(hours::max().count())));
  f("9e9 s (285 years) as seconds", seconds(9'000'000'000));
}

// for_each_negative_timeout(f): f(name, timeout) for negative timeouts, which multiprocessing
// treats as 0 (a poll), never as "forever".
template <class F>
void for_each_negative_timeout(F&& f) {
  using namespace std::chrono;
  f("-1 s", -1.0);
  f("-0.001 s", -0.001);
  f("-1e100 s", -1e100);
  f("-inf s", -std::numeric_limits<double>::infinity());
  f("-1 s at run time", opaque(-1.0));
  f("seconds(-1)", seconds(-1));
  f("hours::min()", hours::min());
  f("nanoseconds::min()", nanoseconds::min());
}

// check_waits_forever(call, release): for every huge timeout, a child process makes
// call(i, timeout) (i: the child's index, 0..; true on success). After `settle` seconds every
// child must still be blocked; then release() (called once, in this process) must let each
// return true within 10 s. Children exit 0 on true, 1 on false, 99 on an exception.
template <class Call, class Release>
void check_waits_forever(Call call, Release release, double settle = 0.3) {
  struct Kid {
    std::string name;
    pid_t pid;
  };
  std::vector<Kid> kids;
  int i = 0;
  for_each_huge_timeout([&](const char* name, auto t) {
    const int idx = i++;
    kids.push_back({name, spawn_child([&call, idx, t] { return call(idx, t) ? 0 : 1; })});
  });
  std::this_thread::sleep_for(std::chrono::duration<double>(settle));
  for (auto& k : kids) {
    INFO("timeout " << k.name);
    CHECK(still_running(k.pid));
  }
  release(static_cast<int>(kids.size()));
  for (auto& k : kids) {
    INFO("timeout " << k.name << " (0: returned true once released; 1: false; -1: never returned)");
    CHECK(join_within(k.pid, 10.0) == 0);
  }
}

// kHugeTimeouts: how many for_each_huge_timeout() yields (children check_waits_forever makes).
inline constexpr int kHugeTimeouts = 13;

// HeldByChild: a child process that takes something (acquire() returns true once it holds it),
// reports it, and gives it back (release()) when finish() is called — so this process can
// observe a lock or permit held by *another process*. Reaped by finish() or the destructor.
class HeldByChild {
 public:
  template <class A, class R>
  HeldByChild(A acquire, R release) {
    pid_ = spawn_child([&] {
      if (!acquire()) return 3;
      flag_->store(1);
      while (flag_->load() != 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      release();
      return 0;
    });
    held_ = eventually([&] { return flag_->load() == 1; }, 10.0);
  }
  HeldByChild(const HeldByChild&) = delete;
  HeldByChild& operator=(const HeldByChild&) = delete;
  ~HeldByChild() {
    if (pid_ > 0) {
      flag_->store(2);
      join_within(pid_, 5.0);
    }
  }
  bool held() const { return held_; }
  // finish(): lets the child release and exit; its exit status (0: released cleanly).
  int finish() {
    flag_->store(2);
    const int rc = join_within(pid_, 10.0);
    pid_ = 0;
    return rc;
  }

 private:
  Shared<std::atomic<int>> flag_{0};
  pid_t pid_ = 0;
  bool held_ = false;
};

// took_at_least(t0, seconds): at least `seconds` passed since t0 (minus 2 ms for backends that
// round a deadline down to microseconds on a different clock).
inline bool took_at_least(std::chrono::steady_clock::time_point t0, double seconds) {
  return elapsed_s(t0) >= seconds - 0.002;
}

// Children: child processes started together and joined against one deadline, so several
// calls that must return promptly cost one bound, not one each, when they do not.
class Children {
 public:
  void add(std::string name, const std::function<int()>& f) { kids_.push_back({std::move(name), spawn_child(f)}); }
  // expect_all(status, seconds): every child exits with `status` within `seconds` of now
  // (-1 in the message: it had not, and was killed). Reaps them all.
  void expect_all(int status, double seconds = 5.0) {
    const auto t0 = std::chrono::steady_clock::now();
    for (auto& k : kids_) {
      const double left = seconds - elapsed_s(t0);
      INFO(k.first << " (exit status; -1: still blocked after " << seconds << " s)");
      CHECK(join_within(k.second, left > 0.05 ? left : 0.05) == status);
    }
    kids_.clear();
  }
  ~Children() {
    for (auto& k : kids_) join_within(k.second, 0);
  }

 private:
  std::vector<std::pair<std::string, pid_t>> kids_;
};

// kLate: how late a timeout may return on a loaded 2-core VM.
inline constexpr double kLate = 0.25;

}  // namespace ipcsync::test

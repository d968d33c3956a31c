// backend_roles.hpp — which backend tags each role's templated semantic tests run over, and
// small helpers those tests share.
//
// Each <role>_backends_test.cc is written once as TEMPLATE_TEST_CASEs over one of the lists
// below; backend_roles_test.cc checks that every list holds exactly the backends whose tag
// offers the role, so a backend that gains a role cannot skip its tests.
#pragma once

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include "harness/backends.hpp"
#include "support.hpp"

namespace ipcsync::test {

using harness::NativeBackend;
using harness::PosixBackend;
using harness::SpinBackend;
#if IPCSYNC_WITH_BOOST_INTERPROCESS
using harness::BoostBackend;
#define IPCSYNC_TEST_BOOST , ipcsync::harness::BoostBackend
#else
#define IPCSYNC_TEST_BOOST
#endif

// Role lists (backend tags). Keep in step with harness/backends.hpp; backend_roles_test.cc
// fails otherwise.
#define ALL_BACKENDS ipcsync::harness::NativeBackend, ipcsync::harness::PosixBackend IPCSYNC_TEST_BOOST, ipcsync::harness::SpinBackend
#define RLOCK_BACKENDS ipcsync::harness::NativeBackend, ipcsync::harness::PosixBackend IPCSYNC_TEST_BOOST
#define BOUNDED_SEMAPHORE_BACKENDS ALL_BACKENDS
#define CONDITION_BACKENDS ipcsync::harness::NativeBackend, ipcsync::harness::PosixBackend IPCSYNC_TEST_BOOST
#define EVENT_BACKENDS ALL_BACKENDS
#define BARRIER_BACKENDS ALL_BACKENDS
#define QUEUE_BACKENDS ipcsync::harness::NativeBackend, ipcsync::harness::PosixBackend IPCSYNC_TEST_BOOST
#define JOINABLE_QUEUE_BACKENDS QUEUE_BACKENDS
#define VALUE_BACKENDS ipcsync::harness::NativeBackend, ipcsync::harness::PosixBackend IPCSYNC_TEST_BOOST
#define ARRAY_BACKENDS VALUE_BACKENDS
// Backends whose Lock and RLock are robust (a dead holder is taken over): Boost's are not, and
// spin records no owner.
#define ROBUST_BACKENDS ipcsync::harness::NativeBackend, ipcsync::harness::PosixBackend

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

// kLate: how late a timeout may return on a loaded 2-core VM.
inline constexpr double kLate = 0.25;

}  // namespace ipcsync::test

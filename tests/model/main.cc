// main.cc — the model-check runner: ipcsync_model_check <suite> <mode> [n]
//   random [N]      the random scheduler for N iterations (default: the suite's CI budget)
//   bound [K]       Relacy's context-bound full search with bound K (default: the suite's)
//   mutant <name>   runs the suite with that fault injected (IPCSYNC_MUTANT) under the random
//                   scheduler and succeeds only if the checker FAILS (prints what it caught)
//   list            the suites, their budgets and their mutants
// Exit status 0 = as expected. Output: Relacy's summary; for a failure, its execution history.
#include "model.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <fstream>

// Relacy replaces the unsized operator new/delete (context.hpp) so that memory allocated inside
// a test is its own; the sized forms that g++ emits for std::string, and that libstdc++'s
// exceptions use, would otherwise reach free() with Relacy's memory. Route them to it.
void operator delete(void* p, std::size_t) noexcept { ::operator delete(p); }
void operator delete[](void* p, std::size_t) noexcept { ::operator delete[](p); }

namespace ipcsync::model {
std::vector<Suite>& registry() {
  static std::vector<Suite> r;
  return r;
}
}  // namespace ipcsync::model

namespace {
using namespace ipcsync;
using ipcsync::model::Suite;

const char* mutant_name(detail::mutant m) {
  switch (m) {
    case detail::mutant::none: return "none";
    case detail::mutant::lock_acquire_relaxed: return "lock_acquire_relaxed";
    case detail::mutant::lock_no_recheck_after_awake: return "lock_no_recheck_after_awake";
    case detail::mutant::lock_waker_no_retry: return "lock_waker_no_retry";
    case detail::mutant::semaphore_release_relaxed: return "semaphore_release_relaxed";
    case detail::mutant::semaphore_no_pass_on: return "semaphore_no_pass_on";
    case detail::mutant::semaphore_waker_no_retry: return "semaphore_waker_no_retry";
    case detail::mutant::parking_waker_no_retry: return "parking_waker_no_retry";
    case detail::mutant::condition_notify_grants_all: return "condition_notify_grants_all";
    case detail::mutant::condition_no_frontier: return "condition_no_frontier";
    case detail::mutant::parking_no_recheck_after_awake: return "parking_no_recheck_after_awake";
    case detail::mutant::parking_waiter_no_fence: return "parking_waiter_no_fence";
    case detail::mutant::event_set_relaxed: return "event_set_relaxed";
    case detail::mutant::parking_leave_no_fence: return "parking_leave_no_fence";
    case detail::mutant::joinable_task_done_relaxed: return "joinable_task_done_relaxed";
    case detail::mutant::queue_publish_relaxed: return "queue_publish_relaxed";
    case detail::mutant::queue_put_no_wake: return "queue_put_no_wake";
    case detail::mutant::rlock_acquire_relaxed: return "rlock_acquire_relaxed";
    case detail::mutant::rlock_take_weak_cas: return "rlock_take_weak_cas";
    case detail::mutant::barrier_no_wake: return "barrier_no_wake";
    case detail::mutant::barrier_break_no_wake: return "barrier_break_no_wake";
    case detail::mutant::barrier_reset_keeps_outcome: return "barrier_reset_keeps_outcome";
    case detail::mutant::queue_close_no_wake: return "queue_close_no_wake";
    case detail::mutant::parking_slice_ends_wait: return "parking_slice_ends_wait";
    case detail::mutant::lock_plain_release_no_membarrier: return "lock_plain_release_no_membarrier";
    case detail::mutant::count_: break;
  }
  return "?";
}

int usage() {
  std::fprintf(stderr, "usage: ipcsync_model_check <suite> random [N] | bound [K] | mutant <name> | list\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  auto& suites = model::registry();
  if (argc >= 2 && std::string(argv[1]) == "list") {
    for (const Suite& s : suites) {
      std::printf("%s: random %u, bound %u, mutants:", s.name.c_str(), s.random_iterations, s.context_bound);
      for (auto m : s.mutants) std::printf(" %s", mutant_name(m));
      std::printf("\n");
    }
    return 0;
  }
  if (argc < 3) return usage();
  const Suite* suite = nullptr;
  for (const Suite& s : suites)
    if (s.name == argv[1]) suite = &s;
  if (!suite) {
    std::fprintf(stderr, "ipcsync_model_check: no suite %s\n", argv[1]);
    return 2;
  }
  const std::string mode = argv[2];
  detail::g_model_timeouts = suite->timeouts;

  rl::test_params p;
  // Not an ostringstream: Relacy prints the history from inside the simulation, where it owns
  // operator new, and a string buffer allocated outside and grown inside corrupts the heap.
  std::ofstream null("/dev/null");
  p.progress_stream = &null;
  bool expect_failure = false;
  if (mode == "random") {
    p.search_type = rl::random_scheduler_type;
    p.iteration_count = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : suite->random_iterations;
  } else if (mode == "bound") {
    p.search_type = rl::fair_context_bound_scheduler_type;
    p.context_bound = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : suite->context_bound;
    p.iteration_count = ~0u;
    if (p.context_bound == 0) {
      std::printf("%s: no context-bound search (state space too large)\n", suite->name.c_str());
      return 0;
    }
  } else if (mode == "mutant" && argc > 3) {
    expect_failure = true;
    detail::mutant m = detail::mutant::none;
    for (auto c : suite->mutants)
      if (std::string(mutant_name(c)) == argv[3]) m = c;
    if (m == detail::mutant::none) {
      std::fprintf(stderr, "ipcsync_model_check: suite %s has no mutant %s\n", suite->name.c_str(), argv[3]);
      return 2;
    }
    if (m == detail::mutant::lock_plain_release_no_membarrier) detail::g_asymmetric = true;
    detail::g_mutant = m;
    p.search_type = rl::random_scheduler_type;
    p.iteration_count = argc > 4 ? std::strtoul(argv[4], nullptr, 10) : suite->mutant_iterations;
  } else {
    return usage();
  }

  // The execution history of a failure: always for a real failure, with IPCSYNC_MODEL_HISTORY=1
  // for a caught mutant.
  p.output_stream = (!expect_failure || std::getenv("IPCSYNC_MODEL_HISTORY")) ? &std::cout : &null;
  const auto t0 = std::chrono::steady_clock::now();
  const bool ok = (mode == "bound" && suite->run_bound) ? suite->run_bound(p) : suite->run(p);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const char* result = rl::test_result_str(p.test_result);

  if (expect_failure) {
    if (ok) {
      std::printf("%s mutant %s: NOT caught in %llu iterations (%.1f s)\n", suite->name.c_str(), argv[3],
                  static_cast<unsigned long long>(p.stop_iteration), secs);
      return 1;
    }
    std::printf("%s mutant %s: caught: %s at iteration %llu (%.1f s)\n", suite->name.c_str(), argv[3], result,
                static_cast<unsigned long long>(p.stop_iteration), secs);
    return 0;
  }
  if (!ok) {
    std::printf("%s %s: FAILED: %s at iteration %llu (%.1f s)\n", suite->name.c_str(), mode.c_str(), result,
                static_cast<unsigned long long>(p.stop_iteration), secs);
    return 1;
  }
  std::printf("%s %s: ok, %llu iterations (%.1f s)\n", suite->name.c_str(), mode.c_str(),
              static_cast<unsigned long long>(p.stop_iteration), secs);
  return 0;
}

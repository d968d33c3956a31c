// model.hpp — what every model suite (tests/model/*_model.cc) shares: Relacy, the primitives
// compiled for the checker (IPCSYNC_MODEL_CHECK, see primitives/include/ipcsync/detail/atomic.hpp)
// and the registry the runner (main.cc) drives.
#pragma once

#include "ipcsync/detail/atomic.hpp"
#include "ipcsync/futex.hpp"

#include <relacy/var.hpp>

#include <functional>
#include <string>
#include <vector>

namespace ipcsync::model {

using detail::mutant;

// One suite: a Relacy test per native primitive (or protocol), its budgets and its mutants.
struct Suite {
  std::string name;
  // Runs the suite's test under `p` (the runner sets the scheduler and budget); true = passed.
  std::function<bool(rl::test_params& p)> run;
  unsigned random_iterations;  // the CI budget of the random scheduler
  unsigned context_bound;      // the CI's context-bound full search: 0 = state space too large
  std::vector<mutant> mutants; // each must make run() fail within mutant_iterations
  unsigned mutant_iterations;
  // What the context-bound search runs (smaller tests than run's, where those are too big);
  // empty: run.
  std::function<bool(rl::test_params& p)> run_bound;
  bool timeouts = false;       // whether park slices may time out (detail::g_model_timeouts)
};

std::vector<Suite>& registry();
struct Register {
  explicit Register(Suite s) { registry().push_back(std::move(s)); }
};

// Runs Tests... in turn with the same parameters; stops at the first failure, whose result and
// iteration are left in p.
template <class... Tests>
bool simulate(rl::test_params& p) {
  bool ok = true;
  auto one = [&](auto* tag) {
    if (!ok) return;
    using Test = std::remove_pointer_t<decltype(tag)>;
    rl::test_params q = p;
    ok = rl::simulate<Test>(q);
    p.test_result = q.test_result;
    p.stop_iteration = q.stop_iteration;
  };
  (one(static_cast<Tests*>(nullptr)), ...);
  return ok;
}

// Spin politely inside a test (Relacy's livelock detector wants a yield in every spin loop).
inline void pause() { rl::yield(1, RL_INFO); }

}  // namespace ipcsync::model

#define IPCSYNC_MODEL_CAT2(a, b) a##b
#define IPCSYNC_MODEL_CAT(a, b) IPCSYNC_MODEL_CAT2(a, b)
#define IPCSYNC_MODEL_SUITE(...) \
  static ::ipcsync::model::Register IPCSYNC_MODEL_CAT(ipcsync_model_suite_, __LINE__){::ipcsync::model::Suite{__VA_ARGS__}};

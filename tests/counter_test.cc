// counter_test.cc — the counter workload through the real harness: 8 processes on every
// backend must count exactly; --unsafe must lose updates without failing; a worker that
// crashes or hangs is reported, killed and reaped.
#include <catch2/catch.hpp>

#include "harness_env.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <set>

#include "harness/backends.hpp"
#include "harness/clock.hpp"
#include "harness/config.hpp"
#include "harness/runner.hpp"
#include "harness/topology.hpp"

using namespace ipcsync::harness;

namespace {

using ipcsync::test::env;

RunResult run_workload(const std::string& workload, const std::string& primitive, const std::string& backend,
                       int procs, uint64_t ops, bool unsafe = false, double timeout_s = 60,
                       const std::string& mode = "processes") {
  const WorkloadDef* def = Registry::get().find(workload);
  REQUIRE(def != nullptr);
  std::optional<Instance> inst = def->make(primitive, backend);
  REQUIRE(inst.has_value());
  RunConfig cfg;
  cfg.workload = workload;
  cfg.primitive = primitive;
  cfg.backend = backend;
  cfg.mode = mode;
  cfg.procs = procs;
  cfg.params = {{"cs_ns", 0}, {"think_ns", 0}};
  cfg.ops_per_worker = ops;
  cfg.warmup_s = 0.01;
  cfg.unsafe = unsafe;
  return run_once(*inst, cfg, env().topo.plan("compact", procs), env().topo, env().gate, timeout_s);
}

RunResult run_counter(const std::string& primitive, const std::string& backend, int procs, uint64_t ops,
                      bool unsafe = false, double timeout_s = 60, const std::string& mode = "processes") {
  return run_workload("counter", primitive, backend, procs, ops, unsafe, timeout_s, mode);
}

// Test-only workloads (registered in this binary only): worker 1 crashes, or throws.
template <int Kind>
Instance faulty() {
  Instance in;
  in.shared_bytes = 64;
  in.init = [](void*, const RunConfig&) {};
  in.body = [](void*, WorkerEnv& env) {
    run_ops(env, [&] {
      if (env.index == 1 && env.ctl->phase.load() == Control::kMeasure) {
        if (Kind == 0) raise(SIGSEGV);
        throw std::runtime_error("injected failure");
      }
    }, [] {});
  };
  in.verify = [](void*, const RunConfig&, const Totals&) { return VerifyResult{}; };
  in.destroy = [](void*) {};
  return in;
}
IPCSYNC_WORKLOAD(WorkloadDef{.name = "test_crash", .description = "test only: worker 1 segfaults",
                             .primitives = {"lock"}, .default_for = {}, .params = {},
                             .make = [](const std::string&, const std::string&) { return std::optional(faulty<0>()); }});
IPCSYNC_WORKLOAD(WorkloadDef{.name = "test_throw", .description = "test only: worker 1 throws",
                             .primitives = {"lock"}, .default_for = {}, .params = {},
                             .make = [](const std::string&, const std::string&) { return std::optional(faulty<1>()); }});

}  // namespace

TEST_CASE("counter: 8 processes count exactly on every backend for lock and semaphore", "[counter][process]") {
  for (const std::string prim : {"lock", "semaphore"})
    for (const auto& backend : Registry::get().backends_for(prim)) {
      if (backend == "python") continue;  // tests/python_backend_test.cc
      INFO(prim << " on " << backend);
      const RunResult r = run_counter(prim, backend, 8, 20000);
      CHECK(r.status == ipcsync::harness::RunStatus::ok);
      CHECK(r.ops == 8u * 20000u);
      CHECK(r.ops_min == 20000u);
      CHECK(r.detail.find("counter=") != std::string::npos);
      CHECK(r.oversubscribed == (8 > static_cast<int>(env().topo.pus().size())));
    }
}

TEST_CASE("counter: --unsafe loses updates and reports them without failing", "[counter][process]") {
  // Two processes racing a plain load/store lose increments; with 2+ PUs that is near certain
  // over 4 x 2M ops.
  if (env().topo.pus().size() < 2) {
    SUCCEED("needs two PUs to race");
    return;
  }
  const RunResult r = run_counter("lock", "native", 4, 2'000'000, true);
  CHECK(r.status == ipcsync::harness::RunStatus::ok);
  CHECK(r.detail.find("lost_updates=") != std::string::npos);
  CHECK(r.detail.find("lost_updates=0 ") == std::string::npos);
}

TEST_CASE("harness: a run that overruns its watchdog is killed and reaped and marked timeout", "[harness][process]") {
  const auto t0 = std::chrono::steady_clock::now();
  const RunResult r = run_counter("lock", "native", 2, uint64_t{1} << 40, false, 0.5);
  CHECK(r.status == ipcsync::harness::RunStatus::timeout);
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 5.0);
  // Every child was reaped: no child of ours is left.
  CHECK(waitpid(-1, nullptr, WNOHANG) == -1);
  CHECK(errno == ECHILD);
}

TEST_CASE("harness: pin plans follow the policy and flag oversubscription", "[harness][pin]") {
  Topology& t = env().topo;
  const int n = static_cast<int>(t.pus().size());
  const PinPlan c = t.plan("compact", n * 2);
  REQUIRE(c.pu_of.size() == static_cast<std::size_t>(n * 2));
  CHECK(c.pu_of[0] == t.pus()[0]);
  CHECK(c.oversubscribed);
  CHECK_FALSE(t.plan("compact", n).oversubscribed);
  CHECK(t.plan("none", 3).pu_of.empty());
  const PinPlan s = t.plan("scatter", n);
  std::set<int> distinct(s.pu_of.begin(), s.pu_of.end());
  CHECK(distinct.size() == static_cast<std::size_t>(n));  // scatter spreads over every PU
  const std::string first = std::to_string(t.pus()[0]);
  const PinPlan e = t.plan(first, 3);
  CHECK(e.pu_of == std::vector<int>{t.pus()[0], t.pus()[0], t.pus()[0]});
  CHECK(e.oversubscribed);
  CHECK(t.validate_policy("9999").find("not available") != std::string::npos);
  CHECK(t.validate_policy("fast").find("unknown pin policy") != std::string::npos);
  CHECK(t.validate_policy("compact").empty());
}

TEST_CASE("config: numeric lists and ranges", "[config]") {
  CHECK(parse_int_list("--procs", "8", 1, 64) == std::vector<int64_t>{8});
  CHECK(parse_int_list("--procs", "1,2,4", 1, 64) == std::vector<int64_t>{1, 2, 4});
  CHECK(parse_int_list("--procs", "1-4", 1, 64) == std::vector<int64_t>{1, 2, 3, 4});
  CHECK(parse_int_list("--cs-ns", "0,100-102", 0, 1000) == std::vector<int64_t>{0, 100, 101, 102});
  CHECK_THROWS_AS(parse_int_list("--procs", "0", 1, 64), usage_error);
  CHECK_THROWS_AS(parse_int_list("--procs", "-3", 1, 64), usage_error);
  CHECK_THROWS_AS(parse_int_list("--procs", "x", 1, 64), usage_error);
  CHECK_THROWS_AS(parse_int_list("--procs", "4-2", 1, 64), usage_error);
  CHECK_THROWS_AS(parse_int_list("--procs", "1,,2", 1, 64), usage_error);
}

TEST_CASE("counter: 8 threads count exactly in thread mode", "[counter][threads]") {
  for (const std::string prim : {"lock", "semaphore"})
    for (const std::string backend : {"native", "posix"}) {
      INFO(prim << " on " << backend);
      const RunResult r = run_counter(prim, backend, 8, 20000, false, 60, "threads");
      CHECK(r.status == ipcsync::harness::RunStatus::ok);
      CHECK(r.ops == 8u * 20000u);
    }
}

TEST_CASE("harness: a worker killed by a signal makes the run crashed and the others are reaped", "[harness][process]") {
  const auto t0 = std::chrono::steady_clock::now();
  const RunResult r = run_workload("test_crash", "lock", "native", 3, 0, false, 30);
  CHECK(r.status == ipcsync::harness::RunStatus::crashed);
  CHECK(r.detail.find("worker 1 killed by signal 11") != std::string::npos);
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 10.0);
  CHECK(waitpid(-1, nullptr, WNOHANG) == -1);
}

TEST_CASE("harness: a worker whose body throws makes the run error with its message", "[harness][process]") {
  const RunResult r = run_workload("test_throw", "lock", "native", 2, 0, false, 30);
  CHECK(r.status == ipcsync::harness::RunStatus::error);
  CHECK(r.detail.find("injected failure") != std::string::npos);
  const RunResult t = run_workload("test_throw", "lock", "native", 2, 0, false, 30, "threads");
  CHECK(t.status == ipcsync::harness::RunStatus::error);
  CHECK(t.detail.find("injected failure") != std::string::npos);
}

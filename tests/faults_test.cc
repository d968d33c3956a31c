// faults_test.cc — every workload's verify step is shown to catch a broken run.
//
// Each workload names test-only faults (WorkloadDef::faults, bench --inject-fault): a skipped
// lock, a lost update, a dropped or duplicated item, a skipped wait, an extra release. For
// every registered workload, every fault it names and every primitive it drives, a brief run
// on the native backend through the real harness (run_once, 4 processes) must end as
// verify_failed — not ok (the check could not fail), not timeout (the fault deadlocked), not
// crashed or error. The faults are built to corrupt the invariant on every run (injected many
// times, or certain by construction), so these tests cannot pass or fail by luck.
#include <catch2/catch.hpp>

#include "harness_env.hpp"

#include "harness/backends.hpp"
#include "harness/clock.hpp"
#include "harness/runner.hpp"
#include "harness/topology.hpp"

using namespace ipcsync::harness;

namespace {
using ipcsync::test::env;
bool test_only(const WorkloadDef& def) { return def.name.rfind("test_", 0) == 0; }
}  // namespace

TEST_CASE("faults: every workload names at least one fault", "[faults]") {
  for (const WorkloadDef& def : Registry::get().all()) {
    if (test_only(def)) continue;
    INFO(def.name);
    CHECK_FALSE(def.faults.empty());
  }
}

TEST_CASE("faults: every fault of every workload ends as verify_failed on the native backend", "[faults][process]") {
  int runs = 0;
  for (const WorkloadDef& def : Registry::get().all()) {
    if (test_only(def)) continue;
    for (const std::string& fault : def.faults)
      for (const std::string& prim : def.primitives) {
        std::optional<Instance> inst = Registry::instantiate(def, prim, "native");
        if (!inst) continue;
        RunConfig cfg;
        cfg.workload = def.name;
        cfg.primitive = prim;
        cfg.backend = "native";
        cfg.procs = 4;
        for (const ParamSpec& p : def.params) cfg.params[p.name] = p.def;
        cfg.duration_s = 0.1;
        cfg.warmup_s = 0.02;
        cfg.sample_every = def.default_sample_every;
        cfg.fault = fault;
        // A reference that takes one pair only (spsc_ring: one producer, one consumer) runs on 2.
        if (def.validate && !def.validate(cfg).empty()) cfg.procs = 2;
        if (def.validate) REQUIRE(def.validate(cfg).empty());
        const RunResult r = run_once(*inst, cfg, env().topo.plan("compact", cfg.procs), env().topo, env().gate, 30);
        INFO(def.name << "/" << prim << " --inject-fault " << fault << ": " << r.status << " (" << r.detail << ")");
        CHECK(r.status == ipcsync::harness::RunStatus::verify_failed);
        ++runs;
      }
  }
  CHECK(runs >= 20);
}

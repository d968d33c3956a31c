// workloads_test.cc — every registered workload, for every primitive it drives and every
// compiled-in backend that implements it, runs briefly through the real harness and verifies.
// (The python backend has its own file: python_backend_test.cc.)
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>

#include "harness/backends.hpp"
#include "harness/clock.hpp"
#include "harness/runner.hpp"
#include "harness/topology.hpp"
#include "support.hpp"

using namespace ipcsync::harness;

namespace {
struct Env {
  Topology topo;
  SignalGate gate;
  Env() { Clock::calibrate(); }
};
Env& env() {
  static Env e;
  return e;
}
int64_t mq_msg_max() {
  std::ifstream f("/proc/sys/fs/mqueue/msg_max");
  int64_t v = 10;
  f >> v;
  return v;
}
}  // namespace

TEST_CASE("workloads: every workload x primitive x backend runs verified in 0.1 s", "[workloads][process]") {
  int runs = 0;
  for (const WorkloadDef& def : Registry::get().all()) {
    if (def.name.rfind("test_", 0) == 0) continue;  // test-only fault workloads
    for (const std::string& prim : def.primitives)
      for (const std::string& backend : backend_names()) {
        std::optional<Instance> inst = Registry::instantiate(def, prim, backend);
        if (!inst) continue;
        RunConfig cfg;
        cfg.workload = def.name;
        cfg.primitive = prim;
        cfg.backend = backend;
        cfg.procs = 4;
        for (const ParamSpec& p : def.params) cfg.params[p.name] = p.def;
        // A POSIX mqueue holds at most /proc/sys/fs/mqueue/msg_max messages (default 10) unless
        // root raised it: size posix queues to fit (a larger one is an `error` row; see
        // queue_backends_test.cc).
        if (backend == "posix" && cfg.params.count("capacity"))
          cfg.params["capacity"] = std::min<int64_t>(cfg.params["capacity"], mq_msg_max());
        cfg.duration_s = 0.1;
        cfg.warmup_s = 0.02;
        cfg.sample_every = def.default_sample_every;
        if (def.validate) REQUIRE(def.validate(cfg).empty());
        INFO(def.name << "/" << prim << "/" << backend);
        const RunResult r = run_once(*inst, cfg, env().topo.plan("compact", cfg.procs), env().topo, env().gate, 30);
        CHECK(r.status == "ok");
        CHECK(r.ops > 0);
        CHECK_FALSE(r.detail.empty());
        ++runs;
      }
  }
  CHECK(runs >= 10);
}

TEST_CASE("workloads: pingpong refuses an odd --procs and its cache-line floor is native only", "[workloads][cli]") {
  const std::string bench = IPCSYNC_BENCH_EXE;
  const auto odd = ipcsync::test::run_cmd({bench, "--workload", "pingpong", "--primitive", "event", "--procs", "3"});
  CHECK(odd.status == 2);
  CHECK(odd.err.find("--procs") != std::string::npos);
  const auto floor = ipcsync::test::run_cmd({bench, "--workload", "pingpong", "--primitive", "cacheline", "--backend", "posix"});
  CHECK(floor.status == 2);
  CHECK(floor.err.find("--backend") != std::string::npos);
}

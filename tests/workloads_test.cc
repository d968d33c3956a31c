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
#include "harness_env.hpp"
#include "support.hpp"

using namespace ipcsync::harness;

namespace {
using ipcsync::test::env;
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
        // A reference that takes one pair only (spsc_ring: one producer, one consumer) runs on 2.
        if (def.validate && !def.validate(cfg).empty()) cfg.procs = 2;
        if (def.validate) REQUIRE(def.validate(cfg).empty());
        INFO(def.name << "/" << prim << "/" << backend);
        const RunResult r = run_once(*inst, cfg, env().topo.plan("compact", cfg.procs), env().topo, env().gate, 30);
        // Verified, and either a real window (ops, at least 90% of the duration) or flagged.
        CHECK(ipcsync::test::verified_status(r.status));
        if (r.status == ipcsync::harness::RunStatus::ok) {
          CHECK(r.ops > 0);
          CHECK(r.seconds >= 0.9 * cfg.duration_s);
        }
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

TEST_CASE("workloads: bounded_buffer and the group and stage workloads refuse what does not fit with exit 2", "[workloads][cli]") {
  const std::string bench = IPCSYNC_BENCH_EXE;
  struct Case {
    std::vector<std::string> args;
    std::string flag;
  };
  const std::vector<Case> cases = {
      {{"--workload", "bounded_buffer", "--primitive", "queue", "--procs", "1"}, "--procs"},
      {{"--workload", "bounded_buffer", "--primitive", "queue", "--procs", "4", "--msg-size", "100"}, "--msg-size"},
      {{"--workload", "bounded_buffer", "--primitive", "queue", "--procs", "4", "--msg-size", "4096", "--capacity", "4096"},
       "--capacity"},
      {{"--workload", "bounded_buffer", "--primitive", "semaphore", "--procs", "4", "--producers", "4"}, "--producers"},
      {{"--workload", "bounded_buffer", "--primitive", "condition", "--procs", "4", "--producers", "1", "--consumers", "2"},
       "--consumers"},
      {{"--workload", "event_broadcast", "--primitive", "event", "--procs", "4", "--waiters", "2"}, "--waiters"},
      {{"--workload", "event_pipeline", "--primitive", "event", "--procs", "1"}, "--procs"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv{bench};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    const auto r = ipcsync::test::run_cmd(argv);
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK(r.err.find(c.flag) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
}

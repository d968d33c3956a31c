// topology_test.cc — where workers go (issue 12 section 7): pin plans choose only from the PUs
// this process may use (the cgroup cpuset and the inherited affinity mask), oversubscription is
// counted against them, compact fills SMT siblings and one cache domain first, scatter spreads
// over packages and NUMA nodes, a simulated machine (--topology, HWLOC_SYNTHETIC) is for
// --dry-run only and never claims a PU in a real run, and bad input is one line and exit 2.
#include <catch2/catch.hpp>

#include <hwloc.h>
#include <hwloc/export.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "harness/topology.hpp"
#include "support.hpp"

using namespace ipcsync::harness;
using namespace ipcsync::test;
namespace fs = std::filesystem;

namespace {

const std::string kBench = IPCSYNC_BENCH_EXE;

// A synthetic machine and, for every level, how many consecutive PUs (in OS order, which is
// hwloc's logical order for a synthetic machine without indexes=) one object of it holds.
struct Machine {
  std::string spec;
  int pus, per_core, per_l3, per_numa, per_package;  // per_l3 = 0: no L3
};
const std::vector<Machine> kMachines = {
    {"pack:2 numa:2 core:4 pu:2", 32, 2, 0, 8, 16},
    {"pack:1 core:8 pu:1", 8, 1, 0, 8, 8},
    {"pack:4 core:2 pu:1", 8, 1, 0, 8, 2},  // one NUMA node for the whole machine
    {"pack:2 l3:2 core:4 pu:2", 32, 2, 8, 16, 16},
    {"pack:2 numa:1 l3:2 core:3 pu:4", 48, 4, 12, 24, 24},
};

int distinct(const std::vector<int>& pus, int per) {
  std::set<int> s;
  for (int p : pus) s.insert(p / per);
  return static_cast<int>(s.size());
}

int ceil_div(int a, int b) { return (a + b - 1) / b; }

// A fresh directory under the temporary directory, removed with everything in it when the
// test ends, however it ends.
struct TempDir {
  fs::path path;
  TempDir() {
    static int n = 0;
    path = fs::temp_directory_path() / ("ipcsync-topo-" + std::to_string(getpid()) + "-" + std::to_string(n++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

std::size_t lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

// One CSV line split into fields ("..." quoting with "" inside).
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> out(1);
  bool q = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (q && c == '"' && i + 1 < line.size() && line[i + 1] == '"') out.back() += '"', ++i;
    else if (c == '"') q = !q;
    else if (c == ',' && !q) out.emplace_back();
    else out.back() += c;
  }
  return out;
}

// The PUs this test process may run on.
std::vector<int> my_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  REQUIRE(sched_getaffinity(0, sizeof set, &set) == 0);
  std::vector<int> v;
  for (int i = 0; i < CPU_SETSIZE; ++i)
    if (CPU_ISSET(i, &set)) v.push_back(i);
  REQUIRE_FALSE(v.empty());
  return v;
}

}  // namespace

TEST_CASE("topology: compact fills SMT siblings then one cache domain then one NUMA node and package", "[topology][pin]") {
  for (const Machine& m : kMachines) {
    INFO(m.spec);
    Topology t(m.spec);
    REQUIRE(t.simulated());
    REQUIRE(static_cast<int>(t.pus().size()) == m.pus);
    REQUIRE(t.machine_pus() == m.pus);
    for (int k = 1; k <= m.pus; ++k) {
      INFO("procs " << k);
      const PinPlan p = t.plan("compact", k);
      REQUIRE(static_cast<int>(p.pu_of.size()) == k);
      for (int i = 0; i < k; ++i) CHECK(p.pu_of[static_cast<std::size_t>(i)] == i);
      // As few cores, L3s, NUMA nodes and packages as k workers can fit in.
      CHECK(distinct(p.pu_of, m.per_core) == ceil_div(k, m.per_core));
      if (m.per_l3) CHECK(distinct(p.pu_of, m.per_l3) == ceil_div(k, m.per_l3));
      CHECK(distinct(p.pu_of, m.per_numa) == ceil_div(k, m.per_numa));
      CHECK(distinct(p.pu_of, m.per_package) == ceil_div(k, m.per_package));
      CHECK_FALSE(p.oversubscribed);
      CHECK(p.available_pus == m.pus);
    }
    // Past the PUs it wraps around, every PU taking its share, and says so.
    const PinPlan over = t.plan("compact", m.pus + 3);
    CHECK(over.oversubscribed);
    for (int i = 0; i < m.pus + 3; ++i) CHECK(over.pu_of[static_cast<std::size_t>(i)] == i % m.pus);
  }
}

TEST_CASE("topology: scatter spreads over packages and NUMA nodes and cores before sharing any", "[topology][pin]") {
  for (const Machine& m : kMachines) {
    INFO(m.spec);
    Topology t(m.spec);
    for (int k = 1; k <= 2 * m.pus + 1; ++k) {
      INFO("procs " << k);
      const PinPlan p = t.plan("scatter", k);
      REQUIRE(static_cast<int>(p.pu_of.size()) == k);
      CHECK(p.oversubscribed == (k > m.pus));
      for (int pu : p.pu_of) CHECK((pu >= 0 && pu < m.pus));
      // Every package, NUMA node, L3, core and PU gets a worker before any gets a second one.
      for (int per : {m.per_package, m.per_numa, m.per_l3, m.per_core, 1}) {
        if (per == 0) continue;
        INFO("objects of " << per << " PUs");
        std::map<int, int> load;
        for (int pu : p.pu_of) ++load[pu / per];
        const int objects = m.pus / per;
        CHECK(static_cast<int>(load.size()) == std::min(k, objects));
        int lo = k, hi = 0;
        for (int o = 0; o < objects; ++o) {
          lo = std::min(lo, load[o]);
          hi = std::max(hi, load[o]);
        }
        CHECK(hi - lo <= 1);
      }
    }
  }
  // Two workers on two packages: one each, whatever the numbering.
  Topology t("pack:2 numa:2 core:4 pu:2");
  CHECK(t.plan("scatter", 2).pu_of == std::vector<int>{0, 16});
  CHECK(t.plan("scatter", 4).pu_of == std::vector<int>{0, 16, 8, 24});
}

TEST_CASE("topology: SMT siblings numbered far apart still share a core first under compact", "[topology][pin]") {
  // Intel-style numbering: core c holds PUs c and c+8.
  std::string idx;
  for (int c = 0; c < 8; ++c) {
    if (c) idx += ',';
    idx += std::to_string(c) + "," + std::to_string(c + 8);
  }
  Topology t("pack:2 core:4 pu:2(indexes=" + idx + ")");
  REQUIRE(t.pus().size() == 16);
  CHECK(t.plan("compact", 2).pu_of == std::vector<int>{0, 8});
  CHECK(t.plan("compact", 4).pu_of == std::vector<int>{0, 8, 1, 9});
  CHECK(t.place(0).core == t.place(8).core);
  CHECK(t.place(0).core != t.place(1).core);
  // Scatter: the other package first, then other cores, siblings last.
  CHECK(t.plan("scatter", 2).pu_of == std::vector<int>{0, 4});
  const PinPlan s8 = t.plan("scatter", 8);
  CHECK(std::set<int>(s8.pu_of.begin(), s8.pu_of.end()) == std::set<int>{0, 1, 2, 3, 4, 5, 6, 7});
}

TEST_CASE("topology: plans on a restricted machine use only its allowed PUs", "[topology][pin]") {
  {
    // Package 0 has PUs 0-3, package 1 PUs 4-7; only 0-5 allowed (a lopsided set).
    Topology t("pack:2 core:4 pu:1");
    t.restrict_to("0-5");
    CHECK(t.pus() == std::vector<int>{0, 1, 2, 3, 4, 5});
    CHECK(t.allowed_text() == "0-5");
    CHECK(t.machine_pus() == 8);
    CHECK(t.plan("compact", 3).pu_of == std::vector<int>{0, 1, 2});
    const PinPlan c = t.plan("compact", 8);
    CHECK(c.pu_of == std::vector<int>{0, 1, 2, 3, 4, 5, 0, 1});
    CHECK(c.oversubscribed);
    CHECK(c.available_pus == 6);
    CHECK_FALSE(t.plan("compact", 6).oversubscribed);
    CHECK(t.plan("scatter", 2).pu_of == std::vector<int>{0, 4});  // one per package
    const PinPlan s = t.plan("scatter", 6);
    CHECK(std::set<int>(s.pu_of.begin(), s.pu_of.end()) == std::set<int>{0, 1, 2, 3, 4, 5});
    CHECK_FALSE(s.oversubscribed);
    CHECK(t.plan("scatter", 7).oversubscribed);
    CHECK(t.validate_policy("4,5").empty());
    CHECK(t.validate_policy("6").find("not available") != std::string::npos);
    CHECK(t.validate_policy("99").find("not available") != std::string::npos);
    CHECK_THROWS_AS(t.restrict_to("7"), std::invalid_argument);  // not allowed already
  }
  // Random allowed sets on a NUMA machine: nothing outside them, every allowed PU taking its
  // share (no PU a second worker while one has none), and scatter reaching every package that
  // has an allowed PU before doubling up in one.
  std::mt19937 rng(12345);
  for (int round = 0; round < 60; ++round) {
    Topology t("pack:2 numa:2 core:4 pu:2");
    std::set<int> allowed;
    while (allowed.empty())
      for (int pu = 0; pu < 32; ++pu)
        if (rng() % (round % 2 ? 3 : 6) == 0) allowed.insert(pu);
    std::string list;
    for (int pu : allowed) {
      if (!list.empty()) list += ',';
      list += std::to_string(pu);
    }
    INFO("allowed " << list);
    t.restrict_to(list);
    REQUIRE(std::set<int>(t.pus().begin(), t.pus().end()) == allowed);
    const int a = static_cast<int>(allowed.size());
    std::set<int> packages;
    for (int pu : allowed) packages.insert(pu / 16);
    for (const char* policy : {"compact", "scatter"})
      for (int k = 1; k <= 2 * a + 3; ++k) {
        INFO(policy << " procs " << k);
        const PinPlan p = t.plan(policy, k);
        REQUIRE(p.pu_of.size() == static_cast<std::size_t>(k));
        std::map<int, int> load;
        for (int pu : p.pu_of) {
          CHECK(allowed.count(pu) == 1);
          ++load[pu];
        }
        CHECK(p.oversubscribed == (k > a));
        CHECK(p.available_pus == a);
        for (int pu : allowed) {
          CHECK(load[pu] >= k / a);
          CHECK(load[pu] <= (k + a - 1) / a);
        }
        if (policy == std::string("scatter")) {
          std::set<int> used;
          for (int pu : p.pu_of) used.insert(pu / 16);
          CHECK(used.size() == std::min<std::size_t>(static_cast<std::size_t>(k), packages.size()));
        }
      }
  }
}

TEST_CASE("topology: this machine offers only the PUs of the inherited affinity mask", "[topology][pin]") {
  const std::vector<int> mine = my_cpus();
  const int cpu = mine.back();
  // In a child restricted to one PU (as under taskset -c), a fresh Topology plans on it alone.
  const pid_t pid = spawn([cpu] {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (sched_setaffinity(0, sizeof one, &one) != 0) return 10;
    Topology t;
    if (t.simulated()) return 11;
    if (t.pus() != std::vector<int>{cpu}) return 12;
    if (t.allowed_text() != std::to_string(cpu)) return 13;
    for (const char* policy : {"compact", "scatter"}) {
      const PinPlan p = t.plan(policy, 2);
      if (p.pu_of != std::vector<int>{cpu, cpu}) return 14;
      if (!p.oversubscribed || p.available_pus != 1) return 15;
    }
    if (t.machine_pus() > 1 && t.validate_policy(std::to_string(cpu == 0 ? 1 : 0)).find("not available") == std::string::npos)
      return 16;
    if (!t.bind_self(cpu)) return 17;
    return 0;
  });
  CHECK(join(pid) == 0);
  // Unrestricted, it has every PU this process has.
  Topology t;
  CHECK(std::set<int>(t.pus().begin(), t.pus().end()) == std::set<int>(mine.begin(), mine.end()));
}

TEST_CASE("topology: nothing is bound on a simulated machine", "[topology][pin]") {
  Topology t("pack:1 core:2 pu:1");
  CHECK(t.simulated());
  CHECK_FALSE(t.bind_self(0));  // hwloc's simulated hooks would "succeed" doing nothing
  CHECK_FALSE(t.bind_self(0, true));
  CHECK(t.source().find("pack:1 core:2 pu:1") != std::string::npos);
}

TEST_CASE("topology: a bad simulated machine is one line naming the problem", "[topology]") {
  const TempDir tmp;
  const fs::path& dir = tmp.path;
  std::ofstream(dir / "garbage.xml") << "this is not XML\n";
  for (const std::string& spec : {std::string("pack:2 garbage"), std::string(""), std::string("core:3 pack:2"),
                                 (dir / "missing.xml").string(), dir.string(), (dir / "garbage.xml").string(),
                                 std::string("pack:1000 core:1000 pu:1000")}) {
    INFO("'" << spec << "'");
    try {
      Topology t(spec);
      FAIL("accepted");
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      CHECK_FALSE(what.empty());
      CHECK(what.find('\n') == std::string::npos);
    }
  }
}

TEST_CASE("cli: taskset to one PU makes bench plan on that PU and flag oversubscription", "[topology][cli]") {
  const int cpu = my_cpus().front();
  const TempDir tmp;
  const fs::path& dir = tmp.path;
  const std::string out = (dir / "r.csv").string();
  for (const std::string pin : {"compact", "scatter"}) {
    INFO("--pin " << pin);
    fs::remove(out);
    const CmdResult r = run_on_cpu(cpu, {kBench, "--primitive", "lock", "--procs", "2", "--ops", "1000", "--warmup", "0",
                                         "--pin", pin, "--out", out});
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    // The header shows the allowed set; the warning counts against it.
    CHECK(r.out.find("(allowed PUs " + std::to_string(cpu) + " of ") != std::string::npos);
    CHECK(r.err.find("procs 2 > 1 allowed PU") != std::string::npos);
    std::ifstream in(out);
    std::string header, row;
    REQUIRE(std::getline(in, header));
    REQUIRE(std::getline(in, row));
    const auto h = csv_fields(header), f = csv_fields(row);
    REQUIRE(h.size() == f.size());
    std::map<std::string, std::string> col;
    for (std::size_t i = 0; i < h.size(); ++i) col[h[i]] = f[i];
    CHECK(col["pus"] == std::to_string(cpu) + ";" + std::to_string(cpu));
    CHECK(col["oversubscribed"] == "1");
    CHECK(col["status"] == "ok");
  }
}

TEST_CASE("cli: a simulated machine in the environment is refused for a real run", "[topology][cli]") {
  const TempDir tmp;
  const fs::path& dir = tmp.path;
  const std::string out = (dir / "r.csv").string();
  const CmdResult r = run_cmd({kBench, "--primitive", "lock", "--procs", "4", "--ops", "1000", "--warmup", "0", "--out", out},
                              {"HWLOC_SYNTHETIC=pack:1 core:8 pu:1"});
  INFO(r.out << r.err);
  CHECK(r.status == 2);
  CHECK(lines(r.err) == 1);
  CHECK(r.err.rfind("bench: ", 0) == 0);
  CHECK(r.err.find("HWLOC_SYNTHETIC") != std::string::npos);
  CHECK(r.out.find("pus=") == std::string::npos);
  CHECK(r.out.empty());
  CHECK_FALSE(fs::exists(out));
  // Its placements are still there to see, nothing run.
  const CmdResult d = run_cmd({kBench, "--dry-run", "--procs", "4", "--pin", "compact"},
                              {"HWLOC_SYNTHETIC=pack:1 core:8 pu:1"});
  INFO(d.out << d.err);
  CHECK(d.status == 0);
  CHECK(d.out.find("HWLOC_SYNTHETIC") != std::string::npos);
  CHECK(d.out.find("pin compact, procs 4: pus=0;1;2;3 oversubscribed=0") != std::string::npos);
}

TEST_CASE("cli: --dry-run prints the placements on a simulated machine and runs nothing", "[topology][cli]") {
  const TempDir tmp;
  const fs::path& dir = tmp.path;
  const std::string spec = "pack:2 numa:2 core:4 pu:2";
  const std::vector<std::string> flags = {"--procs", "8", "--pin", "compact", "--pin", "scatter", "--results-dir",
                                          (dir / "results").string()};
  std::vector<std::string> argv{kBench, "--dry-run", "--topology", spec};
  argv.insert(argv.end(), flags.begin(), flags.end());
  const CmdResult r = run_cmd(argv);
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(r.err.empty());
  CHECK(r.out.find("2 packages, 4 NUMA nodes, 16 cores, 32 PUs; allowed PUs: 0-31 (32 of 32)") != std::string::npos);
  CHECK(r.out.find("pin compact, procs 8: pus=0;1;2;3;4;5;6;7 oversubscribed=0\n  on 8 PUs, 4 cores, 1 NUMA node, 1 package") !=
        std::string::npos);
  Topology t(spec);
  std::string scatter;
  for (int pu : t.plan("scatter", 8).pu_of) {
    if (!scatter.empty()) scatter += ';';
    scatter += std::to_string(pu);
  }
  CHECK(r.out.find("pin scatter, procs 8: pus=" + scatter + " oversubscribed=0\n  on 8 PUs, 8 cores, 4 NUMA nodes, 2 packages") !=
        std::string::npos);
  // One line per worker: worker 1 of compact is PU 1, on core 0 (PU 0's SMT sibling).
  CHECK(r.out.find("\n       1   1     0     0        0\n") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "results"));  // nothing written

  // The same machine from an XML file (as lstopo writes one) gives the same placements.
  {
    hwloc_topology_t x;
    REQUIRE(hwloc_topology_init(&x) == 0);
    REQUIRE(hwloc_topology_set_synthetic(x, spec.c_str()) == 0);
    REQUIRE(hwloc_topology_load(x) == 0);
    REQUIRE(hwloc_topology_export_xml(x, (dir / "m.xml").c_str(), 0) == 0);
    hwloc_topology_destroy(x);
  }
  argv = {kBench, "--dry-run", "--topology", (dir / "m.xml").string()};
  argv.insert(argv.end(), flags.begin(), flags.end());
  const CmdResult x = run_cmd(argv);
  INFO(x.out << x.err);
  REQUIRE(x.status == 0);
  auto from_machine_line = [](const std::string& s) { return s.substr(s.find("\nmachine: ")); };
  CHECK(from_machine_line(x.out) == from_machine_line(r.out));

  // --cpuset: as if under taskset -c; every worker on an allowed PU, oversubscription counted.
  const CmdResult c = run_cmd({kBench, "--dry-run", "--topology", spec, "--cpuset", "0-1,16-17", "--procs", "2,5", "--pin",
                               "scatter", "--pin", "compact"});
  INFO(c.out << c.err);
  REQUIRE(c.status == 0);
  CHECK(c.out.find("allowed PUs: 0-1,16-17 (4 of 32)") != std::string::npos);
  CHECK(c.out.find("pin scatter, procs 2: pus=0;16 oversubscribed=0") != std::string::npos);
  CHECK(c.out.find("pin compact, procs 2: pus=0;1 oversubscribed=0") != std::string::npos);
  CHECK(c.out.find("pin compact, procs 5: pus=0;1;16;17;0 oversubscribed=1") != std::string::npos);
  CHECK(c.out.find("pin scatter, procs 5:") != std::string::npos);

  // Without --topology: this machine, its allowed PUs; a primitive's flags are checked as well.
  const CmdResult m = run_cmd({kBench, "--dry-run", "--primitive", "lock", "--procs", "1", "--pin", "compact"});
  INFO(m.out << m.err);
  CHECK(m.status == 0);
  CHECK(m.out.find("this machine") != std::string::npos);
  CHECK(m.out.find("pin compact, procs 1: pus=" + std::to_string(Topology().pus().front()) + " oversubscribed=0") !=
        std::string::npos);
}

TEST_CASE("cli: --dry-run and --topology refuse bad input with one line and exit 2", "[topology][cli]") {
  const TempDir tmp;
  const fs::path& dir = tmp.path;
  std::ofstream(dir / "garbage.xml") << "<topology>not really</topo";
  struct Case {
    std::vector<std::string> args;
    std::string must_mention;
  };
  const std::string ok = "pack:2 core:2 pu:1";
  const std::vector<Case> cases = {
      {{"--dry-run", "--topology", "pack:2 garbage"}, "--topology"},
      {{"--dry-run", "--topology", "core:3 pack:2"}, "--topology"},
      {{"--dry-run", "--topology", (dir / "missing.xml").string()}, "--topology"},
      {{"--dry-run", "--topology", dir.string()}, "--topology"},
      {{"--dry-run", "--topology", (dir / "garbage.xml").string()}, "--topology"},
      {{"--dry-run", "--topology", "pack:1000 core:1000 pu:1000"}, "--topology"},
      {{"--dry-run", "--topology", ok, "--pin", "7"}, "--pin"},
      {{"--dry-run", "--topology", ok, "--cpuset", "7"}, "--cpuset"},
      {{"--dry-run", "--topology", ok, "--cpuset", "x"}, "--cpuset"},
      {{"--dry-run", "--cpuset", "0"}, "--cpuset"},  // this machine: taskset -c, not --cpuset
      {{"--dry-run", "--list"}, "--dry-run"},
      {{"--dry-run", "--plot"}, "--dry-run"},
      {{"--dry-run", "--format", "csv"}, "--dry-run"},
      {{"--dry-run", "--primitive", "mutexx"}, "--primitive"},
      {{"--primitive", "lock", "--topology", ok}, "--topology"},
      {{"--primitive", "lock", "--cpuset", "0"}, "--cpuset"},
  };
  const std::string out = (dir / "r.csv").string();
  for (const auto& c : cases) {
    std::vector<std::string> argv{kBench};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    argv.insert(argv.end(), {"--out", out, "--ops", "100"});
    std::string shown;
    for (const auto& a : c.args) shown += a + " ";
    INFO("bench " << shown);
    const CmdResult r = run_cmd(argv);
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK(lines(r.err) == 1);
    CHECK(r.err.rfind("bench: ", 0) == 0);
    CHECK(r.err.find(c.must_mention) != std::string::npos);
    CHECK(r.out.empty());
    CHECK_FALSE(fs::exists(out));
  }
}

TEST_CASE("topology: the CPU model is reported without the padding of CPUID's brand string", "[topology]") {
  // CPUID pads the 48-byte brand string with spaces (seen: "Oxide Virtual Turin-like Processor"
  // followed by 13 spaces), and hwloc passes it on: headings and tables must get the name alone.
  TempDir tmp;
  const std::string xml = (tmp.path / "padded.xml").string();
  {
    hwloc_topology_t x;
    REQUIRE(hwloc_topology_init(&x) == 0);
    REQUIRE(hwloc_topology_set_synthetic(x, "pack:1 core:2 pu:1") == 0);
    REQUIRE(hwloc_topology_load(x) == 0);
    hwloc_obj_t pkg = hwloc_get_obj_by_type(x, HWLOC_OBJ_PACKAGE, 0);
    REQUIRE(pkg != nullptr);
    REQUIRE(hwloc_obj_add_info(pkg, "CPUModel", "  Example CPU 9000 @ 2.0GHz             ") == 0);
    REQUIRE(hwloc_topology_export_xml(x, xml.c_str(), 0) == 0);
    hwloc_topology_destroy(x);
  }
  CHECK(Topology(xml).cpu_model() == "Example CPU 9000 @ 2.0GHz");
  // This machine's, whatever hwloc or /proc/cpuinfo gives: no space at either end.
  const std::string here = Topology().cpu_model();
  REQUIRE_FALSE(here.empty());
  CHECK(here.front() != ' ');
  CHECK(here.back() != ' ');
}

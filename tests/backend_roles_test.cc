// backend_roles_test.cc — the role x backend matrix: the role table (ipcsync/roles.hpp) says
// which backend has which role; each role's templated tests run over exactly the backends that
// offer it, bench --list, the default workloads and the README show the same matrix, and asking
// a backend for a role it lacks is a clear error (exit status 2), never a silent substitute.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "backend_roles.hpp"
#include "harness/backend_names.hpp"
#include "harness/workload.hpp"

using namespace ipcsync::test;

namespace {

std::set<std::string> table_row(const std::string& role) {
  const auto* r = ipcsync::harness::find_role(role);
  REQUIRE(r != nullptr);
  return {r->backends.begin(), r->backends.end()};
}

}  // namespace

TEST_CASE("roles: the role table offers each role on the backends built for it", "[backends][roles]") {
  // The specification of the matrix: native, posix, boost and python have every role; posix_plain
  // only the Lock (the plain-mutex baseline); spin what spinning teaches (no RLock, Condition,
  // queues, Value or Array).
  std::set<std::string> every = {"native", "posix", "posix_plain", "spin", "python"};
#if IPCSYNC_WITH_BOOST_INTERPROCESS
  every.insert("boost");
#endif
  std::set<std::string> no_plain = every, no_spin = every;
  no_plain.erase("posix_plain");
  no_spin.erase("posix_plain");
  no_spin.erase("spin");
  CHECK(table_row("lock") == every);
  for (const char* role : {"semaphore", "bounded_semaphore", "event", "barrier"}) CHECK(table_row(role) == no_plain);
  for (const char* role : {"rlock", "condition", "queue", "joinable_queue", "value", "array"})
    CHECK(table_row(role) == no_spin);
  std::vector<std::string> names;
  for (const auto& r : ipcsync::harness::role_table()) {
    names.push_back(r.name);
    CHECK(r.python.rfind("multiprocessing.", 0) == 0);
    CHECK(!r.description.empty());
  }
  CHECK(names == std::vector<std::string>{"lock", "rlock", "semaphore", "bounded_semaphore", "condition", "event",
                                          "barrier", "queue", "joinable_queue", "value", "array"});
}

TEST_CASE("roles: every role test is registered once per backend that offers the role", "[backends][roles]") {
  // ROLE_TEST_CASE derives its backends from the table. Here the registered Catch tests are
  // grouped by name ("<test> - <backend>"); a group tagged with one role (and not [robust], whose
  // tests run over the robust backends only) must hold exactly the compiled backends of the
  // role's row.
  const auto& compiled = ipcsync::harness::backend_names();
  std::map<std::string, std::pair<std::string, std::set<std::string>>> groups;  // test -> (role, backends)
  for (const auto& tc : Catch::getRegistryHub().getTestCaseRegistry().getAllTests()) {
    const std::string& name = tc.getTestCaseInfo().name;
    const auto dash = name.rfind(" - ");
    if (dash == std::string::npos) continue;
    const std::string backend = name.substr(dash + 3);
    if (std::find(compiled.begin(), compiled.end(), backend) == compiled.end()) continue;
    std::string role;
    int role_tags = 0;
    bool robust = false;
    for (const auto& tag : tc.getTestCaseInfo().tags) {
      if (ipcsync::harness::find_role(tag)) role = tag, ++role_tags;
      if (tag == "robust") robust = true;
    }
    if (role_tags != 1 || robust) continue;
    auto& g = groups[name.substr(0, dash)];
    g.first = role;
    g.second.insert(backend);
  }
  CHECK(groups.size() > 100);
  for (const auto& [test, g] : groups) {
    INFO(test);
    std::set<std::string> want;
    for (const auto& b : table_row(g.first))
      if (std::find(compiled.begin(), compiled.end(), b) != compiled.end()) want.insert(b);
    CHECK(g.second == want);
  }
}

TEST_CASE("roles: each role's default workload runs on exactly the backends of its row", "[backends][roles]") {
  // bench --list takes a role's backends from the table; the default workload must honour them,
  // the python backend included (its WorkloadDef::python_primitives).
  const auto& reg = ipcsync::harness::Registry::get();
  for (const auto& r : ipcsync::harness::role_table()) {
    INFO(r.name);
    const auto* def = reg.default_for(r.name);
    REQUIRE(def != nullptr);
    std::set<std::string> runs;
    for (const auto& b : ipcsync::harness::all_backend_names())
      if (ipcsync::harness::Registry::instantiate(*def, r.name, b)) runs.insert(b);
    CHECK(runs == table_row(r.name));
  }
  // What workloads drive is a role of the table, the cache-line floor or the queue's ceiling
  // (references: native only, no role).
  for (const auto& def : reg.all())
    for (const auto& p : def.primitives) {
      INFO(def.name << " " << p);
      CHECK((ipcsync::harness::find_role(p) != nullptr || p == "cacheline" || p == "spsc_ring"));
    }
}

TEST_CASE("backends: bench --list shows the role table", "[backends][cli]") {
  const auto r = run_cmd({IPCSYNC_BENCH_EXE, "--list"});
  REQUIRE(r.status == 0);
  // One row per role: its cells in backend order.
  const auto matrix = r.out.find("Role x backend");
  REQUIRE(matrix != std::string::npos);
  const auto& backends = ipcsync::harness::all_backend_names();
  for (const auto& role : ipcsync::harness::role_table()) {
    INFO(role.name);
    const auto at = r.out.find("\n  " + role.name + " ", matrix);
    REQUIRE(at != std::string::npos);
    std::istringstream line(r.out.substr(at + 3, r.out.find('\n', at + 1) - at - 3));
    std::string name, cell;
    line >> name;
    std::set<std::string> yes;
    for (const auto& b : backends) {
      REQUIRE(line >> cell);
      if (cell == "yes") yes.insert(b);
    }
    CHECK(yes == table_row(role.name));
    // And its Python class and description, in the roles section.
    CHECK(r.out.find(role.python + "  ") != std::string::npos);
    CHECK(r.out.find(role.description) != std::string::npos);
  }
}

TEST_CASE("backends: a role the backend lacks is a clear error with status 2 and all runs only the ones that have it",
          "[backends][cli]") {
  const auto r = run_cmd({IPCSYNC_BENCH_EXE, "--primitive", "rlock", "--backend", "spin", "--procs", "1"});
  CHECK(r.status == 2);
  CHECK(r.err.find("spin") != std::string::npos);
  CHECK(r.out.find("rlock_nested") == std::string::npos);  // nothing ran in its place
  const TempDir dir;
  const auto all = run_cmd({IPCSYNC_BENCH_EXE, "--primitive", "rlock", "--backend", "all", "--procs", "1",
                            "--duration", "0.05", "--warmup", "0.01", "--format", "csv", "--out", dir / "r.csv"});
  INFO(all.err);
  CHECK(all.status == 0);
  CHECK(all.out.find(",posix,") != std::string::npos);
  CHECK(all.out.find(",spin,") == std::string::npos);
}

TEST_CASE("backends: backend_names lists exactly the backend tags that with_backend dispatches to",
          "[backends]") {
  // with_backend() instantiates the compiled backends; python is no type to instantiate.
  std::vector<std::string> dispatched;
  for (const std::string name : {"native", "posix", "posix_plain", "boost", "spin", "python", "nosuch", ""})
    if (ipcsync::harness::with_backend(name, [&]<class B>() { CHECK(B::name == name); }))
      dispatched.push_back(name);
  CHECK(dispatched == ipcsync::harness::backend_names());
  auto all = ipcsync::harness::backend_names();
  all.push_back("python");
  CHECK(all == ipcsync::harness::all_backend_names());
}

TEST_CASE("backends: the README's backend table offers exactly the roles bench --list does", "[backends][cli]") {
  // README.md "## Backends": one row per role ("Semaphore / BoundedSemaphore" is two), one
  // column per backend, "–" where the backend lacks the role.
  const auto r = run_cmd({IPCSYNC_BENCH_EXE, "--list", "--format", "json"});
  REQUIRE(r.status == 0);
  const nlohmann::json list = nlohmann::json::parse(r.out);
  std::ifstream in(std::string(IPCSYNC_SOURCE_DIR_FOR_TESTS) + "/README.md");
  REQUIRE(in);
  auto cells = [](const std::string& line) {
    std::vector<std::string> out;
    std::size_t at = 1;
    for (std::size_t bar; (bar = line.find(" |", at)) != std::string::npos; at = bar + 2) {
      std::string c = line.substr(at, bar - at);
      out.push_back(c.substr(c.find_first_not_of(' ')));
    }
    return out;
  };
  auto snake = [](const std::string& camel) {  // "BoundedSemaphore" -> "bounded_semaphore"
    std::string s;
    for (std::size_t i = 0; i < camel.size(); ++i) {
      const char c = camel[i];
      if (std::isupper(static_cast<unsigned char>(c)) && i > 0 && std::islower(static_cast<unsigned char>(camel[i - 1])))
        s += '_';
      s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return s;
  };
  std::string line;
  while (std::getline(in, line) && line != "## Backends") {}
  while (std::getline(in, line) && line.rfind("| role |", 0) != 0) {}
  REQUIRE(!line.empty());
  const std::vector<std::string> head = cells(line);
  const std::vector<std::string> backends(head.begin() + 1, head.end());
  std::getline(in, line);  // |---|
  std::map<std::string, std::set<std::string>> readme;
  while (std::getline(in, line) && line.rfind("| ", 0) == 0) {
    const auto c = cells(line);
    REQUIRE(c.size() == backends.size() + 1);
    for (std::size_t at = 0; at != std::string::npos;) {
      const std::size_t slash = c[0].find(" / ", at);
      const std::string role = snake(c[0].substr(at, slash == std::string::npos ? slash : slash - at));
      for (std::size_t b = 0; b < backends.size(); ++b)
        if (c[b + 1] != "–") readme[role].insert(backends[b]);
      at = slash == std::string::npos ? slash : slash + 3;
    }
  }
  std::map<std::string, std::set<std::string>> bench;
  for (const auto& p : list["primitives"]) {
    if (p["name"] == "cacheline" || p["name"] == "spsc_ring") continue;  // references, not roles
    for (const auto& b : p["backends"]) bench[p["name"]].insert(b.get<std::string>());
  }
#if !IPCSYNC_WITH_BOOST_INTERPROCESS
  for (auto& [role, have] : readme) have.erase("boost");
#endif
  CHECK(readme == bench);
}

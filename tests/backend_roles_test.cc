// backend_roles_test.cc — the role x backend matrix: each role's templated tests run over
// exactly the backends that offer it, bench --list shows the same matrix, and asking a backend
// for a role it lacks is a clear error (exit status 2), never a silent substitute.
#include <catch2/catch.hpp>

#include <cctype>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "backend_roles.hpp"

using namespace ipcsync::test;

namespace {

template <class... B>
struct List {};
template <class T, class... B>
constexpr bool contains(List<B...>) {
  return (std::is_same_v<T, B> || ...);
}

}  // namespace

TEMPLATE_TEST_CASE("backends: each role's test list holds exactly the backends that offer the role", "[backends]",
                   ALL_BACKENDS) {
  using B = TestType;
  CHECK((requires { typename B::Lock; }) == contains<B>(List<LOCK_BACKENDS>{}));
  CHECK((requires { typename B::Semaphore; }) == contains<B>(List<SEMAPHORE_BACKENDS>{}));
  CHECK((requires { typename B::RLock; }) == contains<B>(List<RLOCK_BACKENDS>{}));
  CHECK((requires { typename B::BoundedSemaphore; }) == contains<B>(List<BOUNDED_SEMAPHORE_BACKENDS>{}));
  CHECK((requires { typename B::Condition; }) == contains<B>(List<CONDITION_BACKENDS>{}));
  CHECK((requires { typename B::Event; }) == contains<B>(List<EVENT_BACKENDS>{}));
  CHECK((requires { typename B::Barrier; }) == contains<B>(List<BARRIER_BACKENDS>{}));
  CHECK((requires { typename B::template Queue<int, 2>; }) == contains<B>(List<QUEUE_BACKENDS>{}));
  CHECK((requires { typename B::template JoinableQueue<int, 2>; }) == contains<B>(List<JOINABLE_QUEUE_BACKENDS>{}));
  CHECK((requires { typename B::template Value<int>; }) == contains<B>(List<VALUE_BACKENDS>{}));
  CHECK((requires { typename B::template Array<int, 2>; }) == contains<B>(List<ARRAY_BACKENDS>{}));
}

TEST_CASE("backends: bench --list shows the role x backend matrix of the backend tags", "[backends][cli]") {
  const auto r = run_cmd({IPCSYNC_BENCH_EXE, "--list"});
  REQUIRE(r.status == 0);
  // One row per role: its cells in backend order (native posix [boost] spin python).
  const auto matrix = r.out.find("Role x backend");
  REQUIRE(matrix != std::string::npos);
  auto row = [&](const std::string& role) {
    const auto at = r.out.find("\n  " + role + " ", matrix);
    REQUIRE(at != std::string::npos);
    std::string line = r.out.substr(at + 3, r.out.find('\n', at + 1) - at - 3);
    std::string cells;
    for (std::size_t i = role.size(); i < line.size(); ++i)
      if (line[i] != ' ') cells += line[i];
    return cells;
  };
  // Columns: native posix posix_plain [boost] spin python.
#if IPCSYNC_WITH_BOOST_INTERPROCESS
  const std::string every = "yesyesyesyesyesyes", no_plain = "yesyes-yesyesyes", no_spin = "yesyes-yes-yes";
#else
  const std::string every = "yesyesyesyesyes", no_plain = "yesyes-yesyes", no_spin = "yesyes--yes";
#endif
  CHECK(row("lock") == every);
  for (const char* role : {"semaphore", "bounded_semaphore", "event", "barrier"}) CHECK(row(role) == no_plain);
  for (const char* role : {"rlock", "condition", "queue", "joinable_queue", "value", "array"})
    CHECK(row(role) == no_spin);
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
  // backend_names.hpp keeps the names apart from the types (so the CLI need not parse every
  // implementation); the two must not drift.
  std::vector<std::string> dispatched;
  for (const std::string& name : {"native", "posix", "posix_plain", "boost", "spin", "python", "nosuch", ""})
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
    if (p["name"] == "cacheline") continue;  // the floor pingpong measures, not a primitive
    for (const auto& b : p["backends"]) bench[p["name"]].insert(b.get<std::string>());
  }
#if !IPCSYNC_WITH_BOOST_INTERPROCESS
  for (auto& [role, have] : readme) have.erase("boost");
#endif
  CHECK(readme == bench);
}

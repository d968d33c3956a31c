// names_test.cc — registry hygiene: workload names and descriptions are unique (will-it-scale
// once shipped two testcases with one description), every primitive has a default workload,
// and every workload's parameters are documented.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "harness/workload.hpp"
#include "support.hpp"

using namespace ipcsync::harness;

TEST_CASE("registry: unique names and descriptions and a default workload per primitive", "[registry]") {
  const auto& all = Registry::get().all();
  REQUIRE_FALSE(all.empty());
  std::set<std::string> names, descriptions;
  for (const auto& d : all) {
    CHECK(names.insert(d.name).second);
    CHECK(descriptions.insert(d.description).second);
    CHECK_FALSE(d.primitives.empty());
    for (const auto& p : d.params) CHECK_FALSE(p.help.empty());
  }
  for (const auto& p : Registry::get().primitives()) {
    INFO(p);
    CHECK(Registry::get().default_for(p) != nullptr);
    CHECK_FALSE(Registry::get().backends_for(p).empty());
  }
}

TEST_CASE("test names: none holds a comma or a semicolon (ctest and Catch filters split on them)", "[names]") {
  // catch_discover_tests registers each test under its name, and CMake splits lists on ';';
  // Catch's own filter reads ',' as OR. Either silently turns one test into broken halves.
  const auto r = ipcsync::test::run_cmd({"/proc/self/exe", "--list-test-names-only"});
  // (Catch v2 exits with the number of tests listed, capped at 255: the status says nothing.)
  REQUIRE_FALSE(r.out.empty());
  std::size_t names = 0, start = 0;
  while (start < r.out.size()) {
    const std::size_t end = r.out.find('\n', start);
    const std::string name = r.out.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!name.empty()) {
      ++names;
      INFO(name);
      CHECK(name.find(';') == std::string::npos);
      CHECK(name.find(',') == std::string::npos);
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  CHECK(names > 300);
}

// names_test.cc — registry hygiene: workload names and descriptions are unique (will-it-scale
// once shipped two testcases with one description), every primitive has a default workload,
// and every workload's parameters are documented.
#include <catch2/catch.hpp>

#include <set>

#include "harness/workload.hpp"

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

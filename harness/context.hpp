// context.hpp — the host fingerprint written beside every CSV (see docs/results-format.md).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness/build_info.hpp"  // git_commit(), stamped at build time
#include "harness/topology.hpp"

namespace ipcsync::harness {

struct HostContext {
  nlohmann::json host;                // host-level keys (topology, kernel, compiler, ...)
  std::string host_id;                // <hostname>-<8 hex>
  std::string host_name;
  std::vector<std::string> warnings;  // gbench-style ***WARNING*** lines
};

// collect_context(): reads the machine (hwloc, /proc, /sys, uname) and the build.
HostContext collect_context(const Topology& topo);

// build_provenance(): what this binary is, for each run's JSON entry (a file collects runs of
// several builds): git_commit, build_type, cxx_flags, compiler and library_versions (ipcsync,
// hwloc as built, hwloc_api and hwloc_library as loaded, boost, glibc, nlohmann_json).
nlohmann::json build_provenance();

}  // namespace ipcsync::harness

// topology.hpp — the machine as hwloc sees it, and where each worker is pinned.
//
// Pin policies (--pin):
//   none     workers are not bound; the scheduler places them.
//   compact  worker i -> the i-th PU in hwloc's logical order (fills one core, then one cache
//            domain, before the next), wrapping around when procs > PUs.
//   scatter  hwloc_distrib() spreads the workers as far apart as the tree allows (packages,
//            NUMA nodes, L3s, cores first).
//   <list>   explicit OS PU indexes, e.g. "0,1" or "0-3,8"; worker i -> list[i % size].
// Binding happens in the child, right after fork and before it touches shared state.
#pragma once

#include <hwloc.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ipcsync::harness {

struct PinPlan {
  std::string policy;          // as given on the command line
  std::vector<int> pu_of;      // OS index per worker; empty for "none"
  int available_pus = 0;       // PUs this plan may use (the list size, or all allowed PUs)
  bool oversubscribed = false; // procs > available_pus
};

class Topology {
 public:
  Topology();
  ~Topology();
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;

  // OS indexes of the PUs this process may run on, in hwloc logical order.
  const std::vector<int>& pus() const noexcept { return pus_; }

  // validate_policy(): empty when `policy` is usable, else a message naming the problem.
  std::string validate_policy(const std::string& policy) const;

  // plan(): where each of `procs` workers goes. Call validate_policy() first.
  PinPlan plan(const std::string& policy, int procs) const;

  // bind_self(): pins the calling process (or, with thread=true, only the calling thread) to
  // one PU (OS index). Returns false on failure.
  bool bind_self(int pu_os_index, bool thread = false) const noexcept;

  // describe(): packages, cores, PUs, NUMA nodes, caches and CPU model, for the JSON context.
  nlohmann::json describe() const;
  std::string cpu_model() const;
  static std::string hwloc_version();

 private:
  std::vector<int> parse_list(const std::string& s, std::string* err) const;
  hwloc_topology_t topo_ = nullptr;
  std::vector<int> pus_;
};

}  // namespace ipcsync::harness

// topology.hpp — the machine as hwloc sees it, the PUs this process may use, and where each
// worker is pinned.
//
// Allowed PUs: on this machine, the PUs of the cgroup cpuset (hwloc's allowed set) that are also
// in the affinity mask bench inherited (taskset, numactl, a batch scheduler). Every plan chooses
// only from them and oversubscription is counted against them. A simulated machine (--topology,
// or HWLOC_SYNTHETIC/HWLOC_XMLFILE in the environment without HWLOC_THISSYSTEM=1) allows the PUs
// its description allows, or the --cpuset given; nothing can be bound on it (bind_self() fails),
// so it is for --dry-run only: bench refuses to run on one.
//
// Pin policies (--pin):
//   none     workers are not bound; the scheduler places them.
//   compact  worker i -> the i-th allowed PU in hwloc's logical order: SMT siblings of one core,
//            then the cores of one cache domain, one NUMA node, one package, before the next;
//            wrapping around when procs > allowed PUs.
//   scatter  each worker in turn goes where the fewest workers are per allowed PU: the package
//            with the lowest share, within it the NUMA node with the lowest, then the cache
//            domain, core and PU (ties: the first in logical order). So no PU gets a second
//            worker while an allowed one has none (past the allowed PUs it goes round evenly), k
//            workers use min(k, n) of the n packages that have an allowed PU, and with the allowed
//            PUs spread evenly min(k, n) of the NUMA nodes, cache domains and cores alike. (Over
//            the root, hwloc_distrib() spreads over all PUs, allowed or not, and can put 2
//            workers in one package of a lopsided allowed set.)
//   <list>   explicit OS PU indexes, e.g. "0,1" or "0-3,8", all allowed; worker i -> list[i % size].
// Binding happens in the child, right after fork and before it touches shared state.
#pragma once

#include <hwloc.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ipcsync::harness {

struct PinPlan {
  std::string policy;          // as given on the command line
  std::vector<int> pu_of;      // OS index per worker; empty for "none"
  int available_pus = 0;       // PUs this plan may use (the list's distinct PUs, or all allowed PUs)
  bool oversubscribed = false; // procs > available_pus
};

// Where one PU is: hwloc logical indexes of its core, L3 cache, NUMA node and package (-1: the
// machine has no such object above it).
struct PuPlace {
  int core = -1, l3 = -1, numa = -1, package = -1;
};

class Topology {
 public:
  // This machine as this process may use it (see above). If the environment makes hwloc
  // simulate a machine (HWLOC_SYNTHETIC, HWLOC_XMLFILE), it is loaded but simulated().
  Topology();
  // A simulated machine: `spec` is an XML file (lstopo out.xml; a path ending in .xml or naming
  // a file) or an hwloc synthetic description ("pack:2 numa:2 core:8 pu:2"), all its PUs
  // allowed. Throws std::invalid_argument with one line naming the problem.
  explicit Topology(const std::string& spec);
  ~Topology();
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;

  // OS indexes of the PUs this process may run on (the allowed PUs), in hwloc logical order.
  const std::vector<int>& pus() const noexcept { return pus_; }
  // restrict_to(): a simulated machine's allowed PUs become `cpuset` ("0-3,8", OS indexes, as
  // taskset -c takes them), which must be allowed already. Throws std::invalid_argument.
  void restrict_to(const std::string& cpuset);
  // The allowed PUs as a list ("0-3,8"); how many objects of a type (PUs: all, allowed or not).
  std::string allowed_text() const;
  int count_of(hwloc_obj_type_t type) const noexcept;
  int machine_pus() const noexcept;
  // simulated(): not this machine; source(): "this machine", "synthetic \"...\"", "XML file ...",
  // or the environment variable that made it.
  bool simulated() const noexcept { return simulated_; }
  const std::string& source() const noexcept { return source_; }

  // validate_policy(): empty when `policy` is usable, else a message naming the problem.
  std::string validate_policy(const std::string& policy) const;

  // plan(): where each of `procs` workers goes. Call validate_policy() first.
  PinPlan plan(const std::string& policy, int procs) const;

  // place(): where PU `pu_os_index` is (all -1 if there is no such PU).
  PuPlace place(int pu_os_index) const;

  // bind_self(): pins the calling process (or, with thread=true, only the calling thread) to
  // one PU (OS index). Returns false on failure, and always on a simulated machine.
  bool bind_self(int pu_os_index, bool thread = false) const noexcept;

  // describe(): packages, cores, PUs, NUMA nodes, caches and CPU model, for the JSON context
  // ("pus" and "pu_os_indexes": the allowed PUs).
  nlohmann::json describe() const;
  std::string cpu_model() const;
  // hwloc_version(): the API level of the hwloc library loaded (hwloc_get_api_version(): 2.8.0
  // for the 2.9.x releases); hwloc_library(): the file of that library (dladdr, symlinks
  // resolved), or "" when it cannot be told.
  static std::string hwloc_version();
  static std::string hwloc_library();

 private:
  std::vector<int> parse_list(const std::string& s, std::string* err) const;
  void index_allowed();     // fills pus_ and scatter's paths from allowed_
  void release() noexcept;  // frees what hwloc allocated
  hwloc_topology_t topo_ = nullptr;
  hwloc_bitmap_t allowed_ = nullptr;
  bool simulated_ = false;
  std::string source_ = "this machine";
  std::vector<int> pus_;
  // scatter: per allowed PU (same order as pus_), the ids of the objects above it, top down,
  // and per id how many allowed PUs the object holds.
  std::vector<std::vector<int>> path_;
  std::vector<int64_t> cap_;
};

// dry_run_text(): what `bench --dry-run` prints: the machine, its allowed PUs, and per (pin,
// procs) the placement of every worker, nothing started.
std::string dry_run_text(const Topology& topo, const std::vector<std::string>& pins, const std::vector<int64_t>& procs);

}  // namespace ipcsync::harness

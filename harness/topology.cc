// topology.cc — hwloc: topology loading, pin plans, binding, description.
#include "harness/topology.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>

namespace ipcsync::harness {

Topology::Topology() {
  if (hwloc_topology_init(&topo_) != 0 || hwloc_topology_load(topo_) != 0)
    throw std::runtime_error("hwloc: cannot load the machine topology");
  hwloc_const_cpuset_t allowed = hwloc_topology_get_allowed_cpuset(topo_);
  const int n = hwloc_get_nbobjs_by_type(topo_, HWLOC_OBJ_PU);
  for (int i = 0; i < n; ++i) {
    hwloc_obj_t pu = hwloc_get_obj_by_type(topo_, HWLOC_OBJ_PU, static_cast<unsigned>(i));
    if (pu && hwloc_bitmap_isset(allowed, pu->os_index)) pus_.push_back(static_cast<int>(pu->os_index));
  }
  if (pus_.empty()) throw std::runtime_error("hwloc: no usable PU");
}

Topology::~Topology() {
  if (topo_) hwloc_topology_destroy(topo_);
}

std::vector<int> Topology::parse_list(const std::string& s, std::string* err) const {
  std::vector<int> out;
  auto fail = [&](const std::string& m) {
    if (err) *err = m;
    return std::vector<int>{};
  };
  std::size_t pos = 0;
  while (pos <= s.size()) {
    const std::size_t comma = std::min(s.find(',', pos), s.size());
    const std::string item = s.substr(pos, comma - pos);
    const std::size_t dash = item.find('-');
    int a = 0, b = 0;
    auto num = [](const std::string& t, int& v) {
      if (t.empty()) return false;
      auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      return ec == std::errc() && p == t.data() + t.size() && v >= 0;
    };
    if (dash == std::string::npos) {
      if (!num(item, a)) return fail("'" + item + "' is not a PU index");
      b = a;
    } else if (!num(item.substr(0, dash), a) || !num(item.substr(dash + 1), b) || b < a) {
      return fail("'" + item + "' is not a PU range");
    }
    for (int i = a; i <= b; ++i) {
      if (std::find(pus_.begin(), pus_.end(), i) == pus_.end())
        return fail("PU " + std::to_string(i) + " is not available on this machine");
      out.push_back(i);
    }
    pos = comma + 1;
  }
  return out;
}

std::string Topology::validate_policy(const std::string& policy) const {
  if (policy == "none" || policy == "compact" || policy == "scatter") return {};
  if (policy.empty() || policy.find_first_not_of("0123456789,-") != std::string::npos)
    return "unknown pin policy '" + policy + "'";
  std::string err;
  if (parse_list(policy, &err).empty()) return err.empty() ? "empty PU list" : err;
  return {};
}

PinPlan Topology::plan(const std::string& policy, int procs) const {
  PinPlan p;
  p.policy = policy;
  p.available_pus = static_cast<int>(pus_.size());
  if (policy == "compact") {
    for (int i = 0; i < procs; ++i) p.pu_of.push_back(pus_[static_cast<std::size_t>(i) % pus_.size()]);
  } else if (policy == "scatter") {
    std::vector<hwloc_cpuset_t> sets(static_cast<std::size_t>(procs));
    hwloc_obj_t root = hwloc_get_root_obj(topo_);
    hwloc_distrib(topo_, &root, 1, sets.data(), static_cast<unsigned>(procs), INT32_MAX, 0);
    for (auto& set : sets) {
      hwloc_bitmap_singlify(set);
      p.pu_of.push_back(hwloc_bitmap_first(set));
      hwloc_bitmap_free(set);
    }
  } else if (policy != "none") {
    const std::vector<int> list = parse_list(policy, nullptr);
    p.available_pus = static_cast<int>(std::set<int>(list.begin(), list.end()).size());
    for (int i = 0; i < procs; ++i) p.pu_of.push_back(list[static_cast<std::size_t>(i) % list.size()]);
  }
  p.oversubscribed = procs > p.available_pus;
  return p;
}

bool Topology::bind_self(int pu_os_index, bool thread) const noexcept {
  hwloc_bitmap_t set = hwloc_bitmap_alloc();
  if (!set) return false;
  hwloc_bitmap_only(set, static_cast<unsigned>(pu_os_index));
  const int rc = hwloc_set_cpubind(topo_, set, thread ? HWLOC_CPUBIND_THREAD : HWLOC_CPUBIND_PROCESS);
  hwloc_bitmap_free(set);
  return rc == 0;
}

std::string Topology::cpu_model() const {
  hwloc_obj_t pkg = hwloc_get_obj_by_type(topo_, HWLOC_OBJ_PACKAGE, 0);
  if (pkg) {
    if (const char* m = hwloc_obj_get_info_by_name(pkg, "CPUModel")) return m;
  }
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      const auto c = line.find(':');
      if (c != std::string::npos) return line.substr(line.find_first_not_of(' ', c + 1));
    }
  return "unknown";
}

std::string Topology::hwloc_version() {
  const unsigned v = hwloc_get_api_version();
  return std::to_string(v >> 16) + "." + std::to_string((v >> 8) & 0xff) + "." + std::to_string(v & 0xff);
}

nlohmann::json Topology::describe() const {
  nlohmann::json j;
  j["packages"] = hwloc_get_nbobjs_by_type(topo_, HWLOC_OBJ_PACKAGE);
  j["cores"] = hwloc_get_nbobjs_by_type(topo_, HWLOC_OBJ_CORE);
  j["pus"] = static_cast<int>(pus_.size());
  j["numa_nodes"] = hwloc_get_nbobjs_by_type(topo_, HWLOC_OBJ_NUMANODE);
  j["pu_os_indexes"] = pus_;
  // Caches: one entry per (level, type, size), with how many instances.
  std::map<std::tuple<int, std::string, uint64_t>, int> caches;
  for (hwloc_obj_type_t t : {HWLOC_OBJ_L1CACHE, HWLOC_OBJ_L2CACHE, HWLOC_OBJ_L3CACHE, HWLOC_OBJ_L4CACHE,
                             HWLOC_OBJ_L1ICACHE}) {
    const int n = hwloc_get_nbobjs_by_type(topo_, t);
    for (int i = 0; i < n; ++i) {
      hwloc_obj_t o = hwloc_get_obj_by_type(topo_, t, static_cast<unsigned>(i));
      const char* type = o->attr->cache.type == HWLOC_OBJ_CACHE_INSTRUCTION ? "instruction"
                         : o->attr->cache.type == HWLOC_OBJ_CACHE_DATA      ? "data"
                                                                            : "unified";
      ++caches[{static_cast<int>(o->attr->cache.depth), type, o->attr->cache.size}];
    }
  }
  j["caches"] = nlohmann::json::array();
  for (const auto& [k, count] : caches)
    j["caches"].push_back({{"level", std::get<0>(k)}, {"type", std::get<1>(k)}, {"size", std::get<2>(k)},
                           {"count", count}});
  j["cpu_model"] = cpu_model();
  return j;
}

}  // namespace ipcsync::harness

// topology.cc — hwloc: topology loading (this machine or a simulated one), the allowed PUs, pin
// plans, binding, description.
#include "harness/topology.hpp"

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

namespace ipcsync::harness {
namespace {

// What made hwloc load a machine other than this one.
std::string env_source() {
  for (const char* name : {"HWLOC_SYNTHETIC", "HWLOC_XMLFILE", "HWLOC_FSROOT", "HWLOC_CPUID_PATH"})
    if (const char* v = std::getenv(name); v && *v) return std::string(name) + "=" + v;
  return "hwloc says it is not this machine";
}

// A guard before hwloc builds a synthetic machine: the product of the arities it names.
constexpr uint64_t kMaxSimulatedPus = 1 << 16;
uint64_t synthetic_pus(const std::string& spec) {
  std::istringstream in(spec);
  std::string tok;
  uint64_t n = 1;
  while (in >> tok) {
    if (tok[0] == '[') continue;  // memory attached to the previous level
    const std::size_t colon = tok.find(':');
    const std::string num = tok.substr(colon == std::string::npos ? 0 : colon + 1);
    uint64_t k = 0;
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), k);
    if (ec != std::errc() || p == num.data()) continue;  // let hwloc judge it
    n = k != 0 && n > kMaxSimulatedPus / k ? kMaxSimulatedPus + 1 : n * k;
  }
  return n;
}

}  // namespace

Topology::Topology() {
  try {
    if (hwloc_topology_init(&topo_) != 0 || hwloc_topology_load(topo_) != 0)
      throw std::runtime_error("hwloc: cannot load the machine topology");
    simulated_ = !hwloc_topology_is_thissystem(topo_);
    if (simulated_) source_ = env_source();
    // The cgroup cpuset (hwloc's allowed set), of the PUs in the tree...
    allowed_ = hwloc_bitmap_dup(hwloc_topology_get_allowed_cpuset(topo_));
    if (!allowed_) throw std::bad_alloc();
    hwloc_bitmap_and(allowed_, allowed_, hwloc_topology_get_topology_cpuset(topo_));
    // ...and the affinity mask this process inherited (taskset), which hwloc's set is not.
    if (hwloc_topology_is_thissystem(topo_)) {
      hwloc_bitmap_t mine = hwloc_bitmap_alloc();
      if (!mine) throw std::bad_alloc();
      if (hwloc_get_cpubind(topo_, mine, HWLOC_CPUBIND_PROCESS) == 0 ||
          hwloc_get_cpubind(topo_, mine, HWLOC_CPUBIND_THREAD) == 0)
        hwloc_bitmap_and(allowed_, allowed_, mine);
      hwloc_bitmap_free(mine);
    }
    index_allowed();
    if (pus_.empty()) throw std::runtime_error("hwloc: no usable PU (the allowed set and the affinity mask do not meet)");
  } catch (...) {
    release();
    throw;
  }
}

Topology::Topology(const std::string& spec) {
  simulated_ = true;
  try {
    if (hwloc_topology_init(&topo_) != 0) throw std::runtime_error("hwloc: cannot initialize a topology");
    struct stat st {};
    const bool exists = stat(spec.c_str(), &st) == 0;
    const int stat_errno = errno;
    const bool xml = exists || spec.find('/') != std::string::npos ||
                     (spec.size() > 4 && spec.compare(spec.size() - 4, 4, ".xml") == 0);
    if (xml) {
      if (!exists) throw std::invalid_argument("cannot read XML file '" + spec + "': " + std::strerror(stat_errno));
      if (!S_ISREG(st.st_mode)) throw std::invalid_argument("'" + spec + "' is not a file (an XML topology: lstopo out.xml)");
      if (access(spec.c_str(), R_OK) != 0)  // errno: access's
        throw std::invalid_argument("cannot read XML file '" + spec + "': " + std::strerror(errno));
      if (hwloc_topology_set_xml(topo_, spec.c_str()) != 0 || hwloc_topology_load(topo_) != 0)
        throw std::invalid_argument("'" + spec + "' is not an hwloc XML topology (lstopo out.xml writes one)");
      source_ = "XML file " + spec;
    } else {
      const std::string example = " (an hwloc synthetic description such as \"pack:2 numa:2 core:8 pu:2\", or an XML file)";
      if (synthetic_pus(spec) > kMaxSimulatedPus)
        throw std::invalid_argument("'" + spec + "' has more than " + std::to_string(kMaxSimulatedPus) + " PUs");
      if (spec.find_first_not_of(" \t") == std::string::npos || hwloc_topology_set_synthetic(topo_, spec.c_str()) != 0 ||
          hwloc_topology_load(topo_) != 0)
        throw std::invalid_argument("'" + spec + "' is not a valid topology" + example);
      source_ = "synthetic \"" + spec + "\"";
    }
    allowed_ = hwloc_bitmap_dup(hwloc_topology_get_allowed_cpuset(topo_));
    if (!allowed_) throw std::bad_alloc();
    hwloc_bitmap_and(allowed_, allowed_, hwloc_topology_get_topology_cpuset(topo_));
    index_allowed();
    if (pus_.empty()) throw std::invalid_argument("'" + spec + "' has no PU");
  } catch (...) {
    release();
    throw;
  }
}

Topology::~Topology() { release(); }

void Topology::release() noexcept {
  if (allowed_) hwloc_bitmap_free(allowed_);
  if (topo_) hwloc_topology_destroy(topo_);
  allowed_ = nullptr;
  topo_ = nullptr;
}

int Topology::machine_pus() const noexcept { return count_of(HWLOC_OBJ_PU); }

void Topology::restrict_to(const std::string& cpuset) {
  if (!simulated_)
    throw std::invalid_argument("only a simulated machine can be restricted (on this machine, use taskset -c)");
  std::string err;
  const std::vector<int> list = parse_list(cpuset, &err);
  if (list.empty()) throw std::invalid_argument(err.empty() ? "empty PU list" : err);
  hwloc_bitmap_zero(allowed_);
  for (int pu : list) hwloc_bitmap_set(allowed_, static_cast<unsigned>(pu));
  index_allowed();
}

void Topology::index_allowed() {
  pus_.clear();
  path_.clear();
  cap_.clear();
  std::map<hwloc_obj_t, int> ids;
  auto id_of = [&](hwloc_obj_t o) { return ids.emplace(o, static_cast<int>(ids.size())).first->second; };
  const int n = hwloc_get_nbobjs_by_type(topo_, HWLOC_OBJ_PU);
  const int nnuma = hwloc_get_nbobjs_by_type(topo_, HWLOC_OBJ_NUMANODE);
  for (int i = 0; i < n; ++i) {
    hwloc_obj_t pu = hwloc_get_obj_by_type(topo_, HWLOC_OBJ_PU, static_cast<unsigned>(i));
    if (!pu || !hwloc_bitmap_isset(allowed_, pu->os_index)) continue;
    pus_.push_back(static_cast<int>(pu->os_index));
    // Objects above the PU, top down (the root left out: every PU shares it)...
    std::vector<hwloc_obj_t> chain;
    for (hwloc_obj_t o = pu; o && o->parent; o = o->parent) chain.push_back(o);
    std::reverse(chain.begin(), chain.end());
    // ...with its NUMA node (a memory child, off the parent chain) above what it contains.
    for (int k = 0; k < nnuma; ++k) {
      hwloc_obj_t node = hwloc_get_obj_by_type(topo_, HWLOC_OBJ_NUMANODE, static_cast<unsigned>(k));
      if (!node || !node->cpuset || !hwloc_bitmap_isset(node->cpuset, pu->os_index)) continue;
      auto at = std::find_if(chain.begin(), chain.end(),
                             [&](hwloc_obj_t o) { return hwloc_bitmap_isincluded(o->cpuset, node->cpuset); });
      chain.insert(at, node);
      break;
    }
    std::vector<int> path;
    for (hwloc_obj_t o : chain) {
      const int id = id_of(o);
      if (static_cast<std::size_t>(id) >= cap_.size()) cap_.resize(static_cast<std::size_t>(id) + 1, 0);
      ++cap_[static_cast<std::size_t>(id)];
      path.push_back(id);
    }
    path_.push_back(std::move(path));
  }
}

std::string Topology::allowed_text() const {
  char* s = nullptr;
  if (hwloc_bitmap_list_asprintf(&s, allowed_) < 0 || !s) return "?";
  std::string out = s;
  std::free(s);
  return out;
}

int Topology::count_of(hwloc_obj_type_t type) const noexcept {
  return std::max(0, hwloc_get_nbobjs_by_type(topo_, type));
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
    if (b - a > 1 << 20) return fail("'" + item + "' is not a PU range of this machine");
    for (int i = a; i <= b; ++i) {
      if (std::find(pus_.begin(), pus_.end(), i) == pus_.end()) {
        if (hwloc_get_pu_obj_by_os_index(topo_, static_cast<unsigned>(i)))
          return fail("PU " + std::to_string(i) + " is not available to this process (allowed PUs: " + allowed_text() + ")");
        return fail("PU " + std::to_string(i) + " is not available on this machine");
      }
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
    // Greedy: each worker takes the allowed PU whose objects, top down, hold the fewest workers
    // per allowed PU (lexicographically); the first such PU in logical order on a tie.
    std::vector<int64_t> load(cap_.size(), 0);
    auto less = [&](const std::vector<int>& a, const std::vector<int>& b) {
      for (std::size_t k = 0; k < a.size() && k < b.size(); ++k) {
        const auto ia = static_cast<std::size_t>(a[k]), ib = static_cast<std::size_t>(b[k]);
        const int64_t la = load[ia] * cap_[ib], lb = load[ib] * cap_[ia];  // load/cap, compared exactly
        if (la != lb) return la < lb;
      }
      return false;
    };
    for (int i = 0; i < procs; ++i) {
      std::size_t best = 0;
      for (std::size_t j = 1; j < path_.size(); ++j)
        if (less(path_[j], path_[best])) best = j;
      for (int id : path_[best]) ++load[static_cast<std::size_t>(id)];
      p.pu_of.push_back(pus_[best]);
    }
  } else if (policy != "none") {
    const std::vector<int> list = parse_list(policy, nullptr);
    p.available_pus = static_cast<int>(std::set<int>(list.begin(), list.end()).size());
    for (int i = 0; i < procs; ++i) p.pu_of.push_back(list[static_cast<std::size_t>(i) % list.size()]);
  }
  p.oversubscribed = procs > p.available_pus;
  return p;
}

PuPlace Topology::place(int pu_os_index) const {
  PuPlace at;
  if (pu_os_index < 0) return at;
  hwloc_obj_t pu = hwloc_get_pu_obj_by_os_index(topo_, static_cast<unsigned>(pu_os_index));
  if (!pu) return at;
  auto logical = [&](hwloc_obj_type_t t) {
    hwloc_obj_t o = hwloc_get_ancestor_obj_by_type(topo_, t, pu);
    return o ? static_cast<int>(o->logical_index) : -1;
  };
  at.core = logical(HWLOC_OBJ_CORE);
  at.l3 = logical(HWLOC_OBJ_L3CACHE);
  at.package = logical(HWLOC_OBJ_PACKAGE);
  const int nnuma = hwloc_get_nbobjs_by_type(topo_, HWLOC_OBJ_NUMANODE);
  for (int k = 0; k < nnuma; ++k) {
    hwloc_obj_t node = hwloc_get_obj_by_type(topo_, HWLOC_OBJ_NUMANODE, static_cast<unsigned>(k));
    if (node && node->cpuset && hwloc_bitmap_isset(node->cpuset, pu->os_index)) {
      at.numa = static_cast<int>(node->logical_index);
      break;
    }
  }
  return at;
}

bool Topology::bind_self(int pu_os_index, bool thread) const noexcept {
  if (simulated_) return false;  // hwloc's hooks for a simulated machine "succeed" doing nothing
  hwloc_bitmap_t set = hwloc_bitmap_alloc();
  if (!set) return false;
  hwloc_bitmap_only(set, static_cast<unsigned>(pu_os_index));
  const int rc = hwloc_set_cpubind(topo_, set, thread ? HWLOC_CPUBIND_THREAD : HWLOC_CPUBIND_PROCESS);
  hwloc_bitmap_free(set);
  return rc == 0;
}

namespace {
// CPU model strings come padded (e.g. "Oxide Virtual Turin-like Processor             " from
// CPUID's fixed 48-byte brand string): trimmed, so that tables and headings stay aligned.
std::string trimmed(std::string s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}
}  // namespace

std::string Topology::cpu_model() const {
  hwloc_obj_t pkg = hwloc_get_obj_by_type(topo_, HWLOC_OBJ_PACKAGE, 0);
  if (pkg) {
    if (const char* m = hwloc_obj_get_info_by_name(pkg, "CPUModel"))
      if (std::string t = trimmed(m); !t.empty()) return t;
  }
  if (simulated_) return "simulated";  // this machine's /proc/cpuinfo would be a lie
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      const auto c = line.find(':');
      if (c != std::string::npos) return trimmed(line.substr(c + 1));
    }
  return "unknown";
}

std::string Topology::hwloc_version() {
  const unsigned v = hwloc_get_api_version();
  return std::to_string(v >> 16) + "." + std::to_string((v >> 8) & 0xff) + "." + std::to_string(v & 0xff);
}

std::string Topology::hwloc_library() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&hwloc_get_api_version), &info) == 0 || info.dli_fname == nullptr) return "";
  char real[PATH_MAX];
  return realpath(info.dli_fname, real) ? std::string(real) : std::string(info.dli_fname);
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

namespace {

std::string plural(int n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

std::string dry_run_text(const Topology& topo, const std::vector<std::string>& pins, const std::vector<int64_t>& procs) {
  std::ostringstream s;
  const bool l3 = topo.count_of(HWLOC_OBJ_L3CACHE) > 0;
  s << "bench --dry-run (nothing is run): " << topo.source() << "\n";
  s << "machine: " << plural(topo.count_of(HWLOC_OBJ_PACKAGE), "package", "packages") << ", "
    << plural(topo.count_of(HWLOC_OBJ_NUMANODE), "NUMA node", "NUMA nodes") << ", "
    << (l3 ? plural(topo.count_of(HWLOC_OBJ_L3CACHE), "L3", "L3s") + ", " : "")
    << plural(topo.count_of(HWLOC_OBJ_CORE), "core", "cores") << ", " << plural(topo.machine_pus(), "PU", "PUs")
    << "; allowed PUs: " << topo.allowed_text() << " (" << topo.pus().size() << " of " << topo.machine_pus() << ")\n";
  s << "PU: OS index (as taskset -c takes it); core, " << (l3 ? "L3, " : "") << "NUMA, package: hwloc logical indexes\n";
  for (const auto& pin : pins)
    for (int64_t n64 : procs) {
      const int n = static_cast<int>(n64);
      const PinPlan p = topo.plan(pin, n);
      s << "\npin " << pin << ", procs " << n << ": ";
      if (p.pu_of.empty()) {
        s << "workers not bound (the scheduler places them), oversubscribed=" << (p.oversubscribed ? 1 : 0) << "\n";
        continue;
      }
      s << "pus=";
      for (std::size_t i = 0; i < p.pu_of.size(); ++i) s << (i ? ";" : "") << p.pu_of[i];
      s << " oversubscribed=" << (p.oversubscribed ? 1 : 0) << "\n";
      // What the workers span, then one line per worker.
      std::set<int> pus, cores, l3s, numas, packages;
      std::vector<std::vector<std::string>> rows{{"worker", "PU", "core"}};
      if (l3) rows[0].push_back("L3");
      rows[0].insert(rows[0].end(), {"NUMA", "package"});
      auto txt = [](int v) { return v < 0 ? std::string("-") : std::to_string(v); };
      for (std::size_t i = 0; i < p.pu_of.size(); ++i) {
        const PuPlace at = topo.place(p.pu_of[i]);
        pus.insert(p.pu_of[i]);
        if (at.core >= 0) cores.insert(at.core);
        if (at.l3 >= 0) l3s.insert(at.l3);
        if (at.numa >= 0) numas.insert(at.numa);
        if (at.package >= 0) packages.insert(at.package);
        std::vector<std::string> row{std::to_string(i), std::to_string(p.pu_of[i]), txt(at.core)};
        if (l3) row.push_back(txt(at.l3));
        row.insert(row.end(), {txt(at.numa), txt(at.package)});
        rows.push_back(std::move(row));
      }
      s << "  on " << plural(static_cast<int>(pus.size()), "PU", "PUs") << ", "
        << plural(static_cast<int>(cores.size()), "core", "cores") << ", "
        << (l3 ? plural(static_cast<int>(l3s.size()), "L3", "L3s") + ", " : "")
        << plural(static_cast<int>(numas.size()), "NUMA node", "NUMA nodes") << ", "
        << plural(static_cast<int>(packages.size()), "package", "packages") << "\n";
      std::vector<std::size_t> width(rows[0].size(), 0);
      for (const auto& r : rows)
        for (std::size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
      for (const auto& r : rows) {
        s << "  ";
        for (std::size_t c = 0; c < r.size(); ++c)
          s << (c ? "  " : "") << std::string(width[c] - r[c].size(), ' ') << r[c];
        s << "\n";
      }
    }
  return s.str();
}

}  // namespace ipcsync::harness

// registry.cc — the workload registry.
#include <algorithm>
#include <set>
#include <stdexcept>

#include "harness/backend_names.hpp"
#include "harness/workload.hpp"

namespace ipcsync::harness {

Registry& Registry::get() {
  static Registry r;
  return r;
}

void Registry::add(WorkloadDef def) {
  if (find(def.name)) throw std::logic_error("duplicate workload name: " + def.name);
  for (const auto& d : defs_)
    if (d.description == def.description) throw std::logic_error("duplicate workload description: " + def.name);
  defs_.push_back(std::move(def));
  std::sort(defs_.begin(), defs_.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
}

const WorkloadDef* Registry::find(const std::string& name) const {
  for (const auto& d : defs_)
    if (d.name == name) return &d;
  return nullptr;
}

const WorkloadDef* Registry::default_for(const std::string& primitive) const {
  for (const auto& d : defs_)
    if (std::find(d.default_for.begin(), d.default_for.end(), primitive) != d.default_for.end()) return &d;
  return nullptr;
}

std::vector<std::string> Registry::primitives() const {
  // The roles in the table's order, then what workloads drive that is no role (the references: cacheline, spsc_ring).
  std::vector<std::string> out;
  for (const auto& r : role_table()) out.push_back(r.name);
  std::set<std::string> other;
  for (const auto& d : defs_)
    for (const auto& p : d.primitives)
      if (!find_role(p)) other.insert(p);
  out.insert(out.end(), other.begin(), other.end());
  return out;
}

std::optional<Instance> Registry::instantiate(const WorkloadDef& def, const std::string& primitive,
                                             const std::string& backend) {
  if (backend == "python") {
    if (std::find(def.python_primitives.begin(), def.python_primitives.end(), primitive) == def.python_primitives.end())
      return std::nullopt;
    Instance in;
    in.python = true;
    return in;
  }
  return def.make(primitive, backend);
}

std::vector<std::string> Registry::backends_for(const std::string& primitive) const {
  if (const RoleInfo* r = find_role(primitive)) return r->backends;
  // Not a role (cacheline, spsc_ring): the backends its default workload instantiates on.
  std::vector<std::string> out;
  const WorkloadDef* d = default_for(primitive);
  if (!d) return out;
  for (const auto& b : all_backend_names())
    if (instantiate(*d, primitive, b)) out.push_back(b);
  return out;
}

}  // namespace ipcsync::harness

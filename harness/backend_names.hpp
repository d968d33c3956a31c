// backend_names.hpp — the backends' and roles' names, without their types: what the CLI, the
// registry and --list need. Kept apart from backends.hpp, which pulls every implementation
// (Boost.Interprocess among them) into the files that include it. Everything here is derived,
// in harness/role_table.cc, from the role table (ipcsync/roles.hpp) and the backend lists of
// backends.hpp; nothing is listed by hand.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ipcsync::harness {

// All compiled-in backends, in display order (backends.hpp's CompiledBackends).
const std::vector<std::string>& backend_names();

// All backends bench knows: the compiled-in ones plus python (Python's multiprocessing, run by
// scripts/mp_backend.py rather than instantiated from a type).
const std::vector<std::string>& all_backend_names();

// One role of the table, with the backends (in all_backend_names() order) that offer it.
struct RoleInfo {
  std::string name, python, description;
  std::vector<std::string> backends;
};

// Every role, in the table's order.
const std::vector<RoleInfo>& role_table();

// The role called `name`, or nullptr when it is not a role (the references cacheline, the floor
// pingpong and c2c measure, and spsc_ring, the queue's ceiling, are workloads' primitives but no
// roles).
const RoleInfo* find_role(std::string_view name);

}  // namespace ipcsync::harness

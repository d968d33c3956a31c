// role_table.cc — the names of backend_names.hpp, derived from the role table and the backend
// lists, in the one translation unit that needs every backend's types to derive them.
#include "harness/backend_names.hpp"
#include "harness/backends.hpp"

namespace ipcsync::harness {
namespace {

template <class L>
std::vector<std::string> names_of() {
  std::vector<std::string> v;
  roles::for_each<L>([&]<class T>() { v.emplace_back(T::name); });
  return v;
}

}  // namespace

const std::vector<std::string>& backend_names() {
  static const std::vector<std::string> names = names_of<CompiledBackends>();
  return names;
}

const std::vector<std::string>& all_backend_names() {
  static const std::vector<std::string> names = names_of<AllBackends>();
  return names;
}

const std::vector<RoleInfo>& role_table() {
  static const std::vector<RoleInfo> table = [] {
    std::vector<RoleInfo> t;
    roles::for_each([&]<class R>() {
      RoleInfo r{std::string(R::name), std::string(R::python), std::string(R::description), {}};
      roles::for_each<AllBackends>([&]<class B>() {
        if constexpr (roles::offered_by<R, B>) r.backends.emplace_back(B::name);
      });
      t.push_back(std::move(r));
    });
    return t;
  }();
  return table;
}

const RoleInfo* find_role(std::string_view name) {
  for (const auto& r : role_table())
    if (r.name == name) return &r;
  return nullptr;
}

}  // namespace ipcsync::harness

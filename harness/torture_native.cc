// torture_native.cc — the torture roles over the native backend (harness/torture_roles.hpp), in a
// translation unit of their own so that the backends' instantiations build side by side.
#include "harness/torture_roles.hpp"

namespace ipcsync::harness::torture {

template std::unique_ptr<TortureRole> make_role<NativeBackend>(const std::string& role, const std::string& broken);

// broken_role(): the broken primitives exist over native only.
std::string broken_role(const std::string& fault) {
  std::string role = "?";
  roles::for_each([&]<class Role>() {
    if (TortureOf<Role, NativeBackend>::fault == fault) role = Role::name;
  });
  return role;
}

}  // namespace ipcsync::harness::torture

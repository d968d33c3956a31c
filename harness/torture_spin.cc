// torture_spin.cc — the torture roles over the spin backend (harness/torture_roles.hpp), in a
// translation unit of their own so that the backends' instantiations build side by side.
#include "harness/torture_roles.hpp"

namespace ipcsync::harness::torture {

template std::unique_ptr<TortureRole> make_role<SpinBackend>(const std::string& role, const std::string& broken);

}  // namespace ipcsync::harness::torture

// torture_posix.cc — the torture roles over the posix and posix_plain backends (harness/torture_roles.hpp),
// in a translation unit of their own so that the backends' instantiations build side by side.
#include "harness/torture_roles.hpp"

namespace ipcsync::harness::torture {

template std::unique_ptr<TortureRole> make_role<PosixBackend>(const std::string& role, const std::string& broken);
template std::unique_ptr<TortureRole> make_role<PosixPlainBackend>(const std::string& role, const std::string& broken);

}  // namespace ipcsync::harness::torture

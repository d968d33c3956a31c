// torture_boost.cc — the torture roles over the boost backend (harness/torture_roles.hpp), in a
// translation unit of their own so that the backends' instantiations build side by side.
#include "harness/torture_roles.hpp"

namespace ipcsync::harness::torture {

#if IPCSYNC_WITH_BOOST_INTERPROCESS
template std::unique_ptr<TortureRole> make_role<BoostBackend>(const std::string& role, const std::string& broken);
#endif

}  // namespace ipcsync::harness::torture

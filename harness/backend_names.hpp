// backend_names.hpp — the backends' names, without their types: what the CLI, the registry and
// --list need. Kept apart from backends.hpp, which pulls every implementation (Boost.Interprocess
// among them) into the files that include it; backends.hpp includes this file, and its
// with_backend() must offer exactly the names of backend_names().
#pragma once

#include <string>
#include <vector>

namespace ipcsync::harness {

// All compiled-in backends, in display order.
inline const std::vector<std::string>& backend_names() {
  static const std::vector<std::string> names = {"native", "posix", "posix_plain",
#if IPCSYNC_WITH_BOOST_INTERPROCESS
                                                 "boost",
#endif
                                                 "spin"};
  return names;
}

// All backends bench knows: the compiled-in ones plus python (Python's multiprocessing, run by
// scripts/mp_backend.py rather than instantiated from a type).
inline const std::vector<std::string>& all_backend_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v = backend_names();
    v.push_back("python");
    return v;
  }();
  return names;
}

}  // namespace ipcsync::harness

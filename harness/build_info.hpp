// build_info.hpp — what bench was built from, stamped into the binary at build time
// (cmake/build_info.cmake regenerates build_info.cc at every build, rewriting it only when the
// commit or the dirty flag changed). Nothing here is read from the source tree at run time, so
// an old binary reports its own commit and a moved or installed one still knows it.
#pragma once

#include <string>

namespace ipcsync::harness {

struct BuildInfo {
  const char* commit;     // `git rev-parse --short=12 HEAD` of the source tree, or "unknown"
  bool dirty;             // tracked files differed from that commit when it was built
  const char* build_type; // CMAKE_BUILD_TYPE
  const char* cxx_flags;  // CMAKE_CXX_FLAGS plus the build type's flags
  const char* version;    // the project's version
  const char* hwloc;      // hwloc's version as pkg-config gave it at build time (the library
                          // linked; hwloc_get_api_version() at run time gives only its API level)
};

const BuildInfo& build_info();

// The commit as the JSON context shows it: "<commit>" or "<commit>-dirty", or "unknown".
inline std::string git_commit() {
  const BuildInfo& b = build_info();
  return std::string(b.commit) + (b.dirty ? "-dirty" : "");
}

}  // namespace ipcsync::harness

// paths.cc — see paths.hpp.
#include "harness/paths.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <vector>

namespace ipcsync::harness {

namespace fs = std::filesystem;

std::string script_path(std::string_view name) {
  std::vector<fs::path> dirs;
  if (const char* d = std::getenv("IPCSYNC_SCRIPTS_DIR"); d && *d) dirs.emplace_back(d);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    dirs.push_back(exe.parent_path().parent_path() / "share/ipcsync/scripts");
    dirs.push_back(exe.parent_path() / "share/ipcsync/scripts");
  }
  std::string looked;
  for (const fs::path& d : dirs) {
    const fs::path p = d / name;
    if (access(p.c_str(), R_OK) == 0) return p.string();
    looked += (looked.empty() ? "" : ", ") + p.string();
  }
  throw std::runtime_error("cannot find " + std::string(name) + " (looked at " +
                           (looked.empty() ? std::string("nothing: /proc/self/exe unreadable") : looked) +
                           "; set IPCSYNC_SCRIPTS_DIR to the directory of ipcsync's scripts)");
}

}  // namespace ipcsync::harness

// paths.hpp — where bench finds the Python scripts it runs (scripts/mp_backend.py for the python
// backend, scripts/plot.py for --plot). The binary is relocatable: no source path is compiled in.
//
// The scripts live in share/ipcsync/scripts under a prefix, and the prefix is found from the
// executable itself (/proc/self/exe):
//   1. $IPCSYNC_SCRIPTS_DIR, when set (a developer's override);
//   2. <dir of bench>/../share/ipcsync/scripts — an install: PREFIX/bin/ipcsync-bench;
//   3. <dir of bench>/share/ipcsync/scripts — the build tree, where CMake links
//      build/share/ipcsync/scripts to the source's scripts/.
// The first that holds the wanted script wins.
#pragma once

#include <string>
#include <string_view>

namespace ipcsync::harness {

// script_path("plot.py"): the full path of that script. Throws std::runtime_error naming every
// place it looked when none holds it.
std::string script_path(std::string_view name);

}  // namespace ipcsync::harness

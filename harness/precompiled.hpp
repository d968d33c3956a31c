// precompiled.hpp — the headers every harness, workload and test file parses: the standard
// library (C++20's <chrono> alone is ~60,000 lines with g++ 12), Boost.Interprocess through
// harness/backends.hpp (~55,000 more) and nlohmann/json. Parsing them was 70% of compiling a
// workload file. With IPCSYNC_PCH=ON (the default) CMake compiles this once per target and every
// file of the target starts from it (target_precompile_headers); with OFF nothing changes but
// the time. Each file still includes what it uses: the PCH is an accelerator, not a dependency.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/backends.hpp"
#include "harness/workload.hpp"

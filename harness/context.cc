// context.cc — host fingerprint: hwloc topology, CPU, kernel, scaling/ASLR, build, versions.
#include "harness/context.hpp"

#include <gnu/libc-version.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <boost/version.hpp>
#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>

#include "harness/build_info.hpp"
#include "harness/clock.hpp"

namespace ipcsync::harness {
namespace {

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

std::string os_release() {
  std::ifstream in("/etc/os-release");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("PRETTY_NAME=", 0) == 0) {
      std::string v = line.substr(12);
      if (v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
      return v;
    }
  return "unknown";
}

}  // namespace

nlohmann::json build_provenance() {
  const BuildInfo& build = build_info();
  return {{"git_commit", git_commit()},
          {"build_type", build.build_type},
          {"cxx_flags", build.cxx_flags},
          {"compiler", std::string("g++ ") + __VERSION__},
          {"library_versions",
           {{"ipcsync", build.version},
            {"hwloc", build.hwloc},
            {"hwloc_api", Topology::hwloc_version()},
            {"hwloc_library", Topology::hwloc_library()},
            {"boost", BOOST_LIB_VERSION},
            {"glibc", gnu_get_libc_version()},
            {"nlohmann_json", std::to_string(NLOHMANN_JSON_VERSION_MAJOR) + "." +
                                  std::to_string(NLOHMANN_JSON_VERSION_MINOR) + "." +
                                  std::to_string(NLOHMANN_JSON_VERSION_PATCH)}}}};
}

HostContext collect_context(const Topology& topo) {
  HostContext ctx;
  nlohmann::json& j = ctx.host;
  char hn[256] = {};
  gethostname(hn, sizeof hn - 1);
  ctx.host_name = hn;
  utsname u{};
  uname(&u);
  const nlohmann::json topology = topo.describe();
  const std::string model = topo.cpu_model();

  j["json_schema_version"] = 1;
  j["host_name"] = ctx.host_name;
  j["cpu_model"] = model;
  j["num_cpus"] = static_cast<int>(topo.pus().size());
  double mhz = 0;
  {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("cpu MHz", 0) == 0) {
        mhz = std::stod(line.substr(line.find(':') + 1));
        break;
      }
  }
  j["mhz_per_cpu"] = static_cast<int>(mhz);
  const std::string gov = read_first_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
  const bool scaling = !gov.empty() && gov != "performance";
  j["cpu_scaling_enabled"] = scaling;
  j["scaling_governor"] = gov.empty() ? "none" : gov;
  const std::string aslr = read_first_line("/proc/sys/kernel/randomize_va_space");
  j["aslr_enabled"] = !aslr.empty() && aslr != "0";
  j["topology"] = topology;
  j["kernel"] = std::string(u.sysname) + " " + u.release + " " + u.machine;
  j["os"] = os_release();
  // The build, here as in every run entry (the host keys are written once per file; a run
  // appended by another build carries its own in runs[]).
  const BuildInfo& build = build_info();
  const nlohmann::json provenance = build_provenance();
  for (const auto& [k, v] : provenance.items())
    if (k != "git_commit") j[k] = v;
  j["clock"] = {{"source", Clock::source()},
                {"overhead_ns", Clock::overhead_ns()},
                {"resolution_ns", Clock::resolution_ns()},
                {"ticks_per_ns", Clock::ticks_per_ns()}};

  // host_id: the host name plus a hash of what makes two runs comparable.
  std::ostringstream key;
  key << model << '|' << topology.dump() << '|' << u.release << '|' << u.machine;
  char hex[16];
  uint32_t h = 2166136261u;  // FNV-1a: stable across builds and compilers
  for (unsigned char c : key.str()) h = (h ^ c) * 16777619u;
  std::snprintf(hex, sizeof hex, "%08x", h);
  ctx.host_id = ctx.host_name + "-" + hex;
  j["host_id"] = ctx.host_id;

  if (scaling) ctx.warnings.push_back("CPU scaling is enabled (governor '" + gov + "'): real time measurements may be noisy");
  if (std::string(build.build_type) != "Release" && std::string(build.build_type) != "RelWithDebInfo")
    ctx.warnings.push_back(std::string("bench was built as ") + build.build_type + ": timings are not representative");
  return ctx;
}

}  // namespace ipcsync::harness

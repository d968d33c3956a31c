// noise.cc — /proc/stat, getrusage and the load average (see noise.hpp).
#include "harness/noise.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace ipcsync::harness {
namespace {

uint64_t ns_of(const timeval& t) {
  return static_cast<uint64_t>(t.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(t.tv_usec) * 1000u;
}

}  // namespace

NoiseSample sample_noise(const std::vector<int>& pus) {
  NoiseSample s;
  rusage self{}, kids{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &kids);
  s.own_cpu_ns = ns_of(self.ru_utime) + ns_of(self.ru_stime) + ns_of(kids.ru_utime) + ns_of(kids.ru_stime);
  std::ifstream in("/proc/stat");
  std::string line;
  int found = 0;
  while (std::getline(in, line)) {
    // "cpuN user nice system idle iowait irq softirq steal guest guest_nice"
    if (line.rfind("cpu", 0) != 0 || line.size() < 4 || line[3] < '0' || line[3] > '9') continue;
    std::istringstream f(line.substr(3));
    int cpu = -1;
    uint64_t user = 0, nice = 0, sys = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    f >> cpu >> user >> nice >> sys >> idle >> iowait >> irq >> softirq >> steal;
    if (!f || std::find(pus.begin(), pus.end(), cpu) == pus.end()) continue;
    s.busy += user + nice + sys + irq + softirq;
    s.steal += steal;
    s.total += user + nice + sys + idle + iowait + irq + softirq + steal;  // guest time is inside user
    ++found;
  }
  s.valid = found > 0;
  return s;
}

Noise noise_between(const NoiseSample& a, const NoiseSample& b) {
  Noise n;
  if (!a.valid || !b.valid || b.total <= a.total) return n;
  const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double total = static_cast<double>(b.total - a.total);
  const double busy = static_cast<double>(b.busy - a.busy);
  const double own = static_cast<double>(b.own_cpu_ns - a.own_cpu_ns) * 1e-9 * hz;  // in jiffies
  n.steal_pct = 100.0 * static_cast<double>(b.steal - a.steal) / total;
  n.others_pct = 100.0 * std::max(0.0, busy - own) / total;
  n.valid = true;
  return n;
}

double load1() {
  double l[1];
  return getloadavg(l, 1) == 1 ? l[0] : -1;
}

}  // namespace ipcsync::harness

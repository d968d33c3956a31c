// output.cc — CSV, JSON context and table writers.
#include "harness/output.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iomanip>
#include <map>
#include <sstream>
#include <stdexcept>

namespace ipcsync::harness {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string>& columns() {
  static const std::vector<std::string> c = {
      "schema_version", "timestamp", "run_id", "host_id", "name", "workload", "primitive", "backend", "mode",
      "procs", "pin", "pus", "params", "repetition", "ops", "seconds", "ops_per_sec", "ops_min", "ops_max",
      "fairness", "lat_samples", "lat_p50_ns", "lat_p90_ns", "lat_p99_ns", "lat_p999_ns", "lat_max_ns",
      "wake_p50_ns", "wake_p99_ns", "wake_max_ns", "oversubscribed", "status", "detail"};
  return c;
}

std::string quote(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

std::string num(double v, int prec = 1) {
  if (!std::isfinite(v)) return "";
  std::ostringstream s;
  s << std::fixed << std::setprecision(prec) << v;
  return s.str();
}

std::string params_text(const RunResult& r) {
  std::map<std::string, std::string> kv;
  for (const auto& [k, v] : r.cfg.params) kv[k] = std::to_string(v);
  // What changes the measurement: the workload's parameters, the latency sampling rate (the
  // clock read costs ~20 ns, so it moves ops/s) and --unsafe. How long it ran is not part of
  // the configuration: rows with different --duration still compare.
  kv["sample_every"] = std::to_string(r.cfg.sample_every);
  if (r.cfg.unsafe) kv["unsafe"] = "1";
  if (!r.cfg.fault.empty()) kv["fault"] = r.cfg.fault;
  std::string s;
  for (const auto& [k, v] : kv) s += (s.empty() ? "" : ";") + k + "=" + v;
  return s;
}

std::string pus_text(const RunResult& r) {
  std::string s;
  for (int p : r.pus) s += (s.empty() ? "" : ";") + std::to_string(p);
  return s;
}

std::vector<std::string> fields(const RunResult& r, const std::string& run_id, const std::string& host_id) {
  const bool lat = r.latency.count() > 0;
  const bool wake = r.wakeup.count() > 0;
  auto p = [&](const LogHistogram& h, bool have, double q) { return have ? num(h.percentile(q)) : ""; };
  return {std::to_string(kSchemaVersion), r.timestamp, run_id, host_id, result_name(r), r.cfg.workload,
          r.cfg.primitive, r.cfg.backend, r.cfg.mode, std::to_string(r.cfg.procs), r.pin, pus_text(r),
          params_text(r), std::to_string(r.repetition), std::to_string(r.ops), num(r.seconds, 6),
          num(r.ops_per_sec, 1), std::to_string(r.ops_min == UINT64_MAX ? 0 : r.ops_min), std::to_string(r.ops_max),
          num(r.fairness, 4), std::to_string(r.latency.count()), p(r.latency, lat, 50), p(r.latency, lat, 90),
          p(r.latency, lat, 99), p(r.latency, lat, 99.9), lat ? num(static_cast<double>(r.latency.max())) : "",
          p(r.wakeup, wake, 50), p(r.wakeup, wake, 99), wake ? num(static_cast<double>(r.wakeup.max())) : "",
          r.oversubscribed ? "1" : "0", r.status, r.detail};
}

std::string fmt_rate(double v) {
  char b[32];
  if (v >= 1e9) std::snprintf(b, sizeof b, "%.2fG", v / 1e9);
  else if (v >= 1e6) std::snprintf(b, sizeof b, "%.2fM", v / 1e6);
  else if (v >= 1e3) std::snprintf(b, sizeof b, "%.1fk", v / 1e3);
  else std::snprintf(b, sizeof b, "%.0f", v);
  return b;
}

std::string fmt_ns(double v) {
  char b[32];
  if (v >= 1e9) std::snprintf(b, sizeof b, "%.2fs", v / 1e9);
  else if (v >= 1e6) std::snprintf(b, sizeof b, "%.2fms", v / 1e6);
  else if (v >= 1e4) std::snprintf(b, sizeof b, "%.1fus", v / 1e3);
  else std::snprintf(b, sizeof b, "%.0fns", v);
  return b;
}

}  // namespace

std::string csv_header() {
  std::string s;
  for (const auto& c : columns()) s += (s.empty() ? "" : ",") + c;
  return s;
}

std::string csv_row(const RunResult& r, const std::string& run_id, const std::string& host_id) {
  std::string s;
  bool first = true;
  for (const auto& f : fields(r, run_id, host_id)) {
    s += (first ? "" : ",") + quote(f);
    first = false;
  }
  return s;
}

nlohmann::json row_json(const RunResult& r, const std::string& run_id, const std::string& host_id) {
  nlohmann::json j;
  const auto f = fields(r, run_id, host_id);
  for (std::size_t i = 0; i < f.size(); ++i) j[columns()[i]] = f[i];
  return j;
}

std::string result_name(const RunResult& r) {
  std::string s = r.cfg.workload + "/" + r.cfg.primitive + "/" + r.cfg.backend +
                  (r.cfg.mode == "threads" ? "/threads:" : "/procs:") + std::to_string(r.cfg.procs) + "/pin:" + r.pin;
  for (const auto& [k, v] : r.cfg.params) s += "/" + k + ":" + std::to_string(v);
  if (r.cfg.unsafe) s += "/unsafe";
  return s;
}

std::string default_results_path(const std::string& dir, const std::string& host_name) {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char date[16];
  std::strftime(date, sizeof date, "%Y-%m-%d", &tm);
  return (fs::path(dir) / host_name / (std::string(date) + ".csv")).string();
}

ResultsFile::ResultsFile(const std::string& path, const HostContext& ctx, const nlohmann::json& run_entry)
    : csv_path_(path) {
  fs::path p(path);
  json_path_ = (p.parent_path() / (p.stem().string() + ".json")).string();
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  bool fresh = !fs::exists(p) || fs::file_size(p) == 0;
  if (!fresh) {
    std::ifstream in(p);
    std::string first;
    std::getline(in, first);
    if (!first.empty() && first.back() == '\r') first.pop_back();
    if (first != csv_header())
      throw std::runtime_error("--out: " + path + " has a different CSV header (another schema); choose another file");
  }
  csv_.open(p, std::ios::app);
  if (!csv_) throw std::runtime_error("--out: cannot open " + path + " for appending");
  if (fresh) csv_ << csv_header() << "\n" << std::flush;

  nlohmann::json j = nlohmann::json::object();
  if (fs::exists(json_path_)) {
    std::ifstream in(json_path_);
    j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object()) j = nlohmann::json::object();
  }
  if (!j.contains("host_id") || j["host_id"] != ctx.host_id) {
    nlohmann::json runs = j.value("runs", nlohmann::json::array());
    nlohmann::json other_hosts = j.value("other_hosts", nlohmann::json::array());
    if (j.contains("host_id")) {  // a different machine appended to this file earlier: keep its context
      nlohmann::json prev = j;
      prev.erase("runs");
      prev.erase("other_hosts");
      other_hosts.push_back(prev);
    }
    j = ctx.host;
    j["runs"] = runs;
    if (!other_hosts.empty()) j["other_hosts"] = other_hosts;
  }
  j["runs"].push_back(run_entry);
  const std::string tmp = json_path_ + ".tmp";
  {
    std::ofstream out(tmp);
    out << j.dump(2) << "\n";
    if (!out) throw std::runtime_error("cannot write " + tmp);
  }
  fs::rename(tmp, json_path_);
}

void ResultsFile::append(const std::string& row) { csv_ << row << "\n" << std::flush; }

void Table::header(std::ostream& os) const {
  char b[256];
  std::snprintf(b, sizeof b, "%-10s %-10s %-7s %5s %-8s %3s %10s %9s %9s %9s %6s  %s", "workload", "primitive",
                "backend", "procs", "pin", "rep", "ops/s", "p50", "p99", "p99.9", "jain", "status");
  os << b << "\n";
}

void Table::row(std::ostream& os, const RunResult& r) const {
  char b[512];
  const bool lat = r.latency.count() > 0;
  std::snprintf(b, sizeof b, "%-10s %-10s %-7s %5d %-8s %3d %10s %9s %9s %9s %6.3f  %s%s%s", r.cfg.workload.c_str(),
                r.cfg.primitive.c_str(), r.cfg.backend.c_str(), r.cfg.procs, r.pin.c_str(), r.repetition,
                fmt_rate(r.ops_per_sec).c_str(), lat ? fmt_ns(r.latency.percentile(50)).c_str() : "-",
                lat ? fmt_ns(r.latency.percentile(99)).c_str() : "-",
                lat ? fmt_ns(r.latency.percentile(99.9)).c_str() : "-", r.fairness, r.status.c_str(),
                r.oversubscribed ? " (oversubscribed)" : "",
                r.status != "ok" || r.cfg.unsafe ? (" " + r.detail).c_str() : "");
  os << b << "\n";
}

void Table::summary(std::ostream& os, const std::vector<RunResult>& rows) const {
  std::map<std::string, std::vector<const RunResult*>> by;
  std::vector<std::string> order;
  for (const auto& r : rows) {
    const std::string k = result_name(r);
    if (!by.count(k)) order.push_back(k);
    by[k].push_back(&r);
  }
  bool any = false;
  for (const auto& k : order) any = any || by[k].size() > 1;
  if (!any) return;
  os << "\nSummary over repetitions (median [min - max] ops/s, median p50 latency):\n";
  for (const auto& k : order) {
    std::vector<double> v, p50;
    for (const RunResult* r : by[k])
      if (r->status == "ok") {
        v.push_back(r->ops_per_sec);
        if (r->latency.count()) p50.push_back(r->latency.percentile(50));
      }
    if (v.empty()) {
      os << "  " << k << ": no successful repetition\n";
      continue;
    }
    auto median = [](std::vector<double> x) {
      std::sort(x.begin(), x.end());
      const std::size_t n = x.size();
      return n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
    };
    const auto [mn, mx] = std::minmax_element(v.begin(), v.end());
    os << "  " << k << ": " << fmt_rate(median(v)) << " [" << fmt_rate(*mn) << " - " << fmt_rate(*mx) << "]"
       << (p50.empty() ? "" : "  p50 " + fmt_ns(median(p50))) << "  (" << v.size() << " reps)\n";
  }
}

}  // namespace ipcsync::harness

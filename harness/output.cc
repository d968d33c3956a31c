// output.cc — CSV, JSON context and table writers.
#include "harness/output.hpp"

#include "harness/clock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

namespace ipcsync::harness {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string>& columns() {
  static const std::vector<std::string> c = {
      "schema_version", "timestamp", "run_id", "host_id", "name", "workload", "primitive", "backend", "mode",
      "procs", "pin", "pus", "params", "labels", "repetition", "ops", "seconds", "ops_per_sec", "ops_min", "ops_max",
      "fairness", "lat_samples", "lat_p50_ns", "lat_p90_ns", "lat_p99_ns", "lat_p999_ns", "lat_max_ns",
      "wake_p50_ns", "wake_p99_ns", "wake_max_ns", "oversubscribed", "duration_s", "warmup_s", "ops_per_worker",
      "clock_overhead_ns", "cpu_user_s", "cpu_sys_s", "cpu_ns_per_op", "vcsw", "ivcsw", "steal_pct", "others_pct",
      "load1", "noisy", "status", "detail"};
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

std::vector<std::string> fields(const RunResult& r, const RowKeys& keys) {
  const bool lat = r.latency.count() > 0;
  const bool wake = r.wakeup.count() > 0;
  auto p = [&](const LogHistogram& h, bool have, double q) { return have ? num(h.percentile(q)) : ""; };
  return {std::to_string(kSchemaVersion), r.timestamp, keys.run_id, keys.host_id, result_name(r), r.cfg.workload,
          r.cfg.primitive, r.cfg.backend, r.cfg.mode, std::to_string(r.cfg.procs), r.pin, pus_text(r),
          params_text(r), labels_text(keys.labels), std::to_string(r.repetition), std::to_string(r.ops), num(r.seconds, 6),
          num(r.ops_per_sec, 1), std::to_string(r.ops_min == UINT64_MAX ? 0 : r.ops_min), std::to_string(r.ops_max),
          num(r.fairness, 4), std::to_string(r.latency.count()), p(r.latency, lat, 50), p(r.latency, lat, 90),
          p(r.latency, lat, 99), p(r.latency, lat, 99.9), lat ? num(static_cast<double>(r.latency.max())) : "",
          p(r.wakeup, wake, 50), p(r.wakeup, wake, 99), wake ? num(static_cast<double>(r.wakeup.max())) : "",
          r.oversubscribed ? "1" : "0",
          // What was asked: the timed window (empty under --ops) and the warm-up; --ops per worker.
          r.cfg.ops_per_worker ? "" : num(r.cfg.duration_s, 6), num(r.cfg.warmup_s, 6),
          r.cfg.ops_per_worker ? std::to_string(r.cfg.ops_per_worker) : "", num(r.clock_overhead_ns, 1),
          // The cost and the noise (harness/noise.hpp); empty when not measured (a failed run).
          r.have_cpu ? num(r.cpu_user_s, 6) : "", r.have_cpu ? num(r.cpu_sys_s, 6) : "",
          r.have_cpu && r.ops + r.warm_ops > 0
              ? num((r.cpu_user_s + r.cpu_sys_s) * 1e9 / static_cast<double>(r.ops + r.warm_ops), 1)
              : "",
          r.have_cpu ? std::to_string(r.vcsw) : "", r.have_cpu ? std::to_string(r.ivcsw) : "",
          r.have_noise ? num(r.steal_pct, 2) : "", r.have_noise ? num(r.others_pct, 2) : "",
          r.load1 >= 0 ? num(r.load1, 2) : "", r.noisy ? "1" : "0", status_name(r.status), r.detail};
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

std::string labels_text(const std::map<std::string, std::string>& labels) {
  std::string s;
  for (const auto& [k, v] : labels) s += (s.empty() ? "" : ";") + k + "=" + v;
  return s;
}

std::string csv_row(const RunResult& r, const RowKeys& keys) {
  std::string s;
  bool first = true;
  for (const auto& f : fields(r, keys)) {
    s += (first ? "" : ",") + quote(f);
    first = false;
  }
  return s;
}

nlohmann::json row_json(const RunResult& r, const RowKeys& keys) {
  // The CSV's fields, typed: numbers as JSON numbers, an empty number (not applicable) as null,
  // text as strings.
  static const std::set<std::string> text = {"timestamp", "run_id", "host_id", "name", "workload", "primitive",
                                             "backend", "mode", "pin", "pus", "params", "labels",
                                             "status", "detail"};
  nlohmann::json j;
  const auto f = fields(r, keys);
  for (std::size_t i = 0; i < f.size(); ++i) {
    const std::string& c = columns()[i];
    if (text.count(c)) j[c] = f[i];
    else if (f[i].empty()) j[c] = nullptr;
    else if (f[i].find('.') == std::string::npos) j[c] = std::stoull(f[i]);
    else j[c] = std::stod(f[i]);
  }
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

namespace {

// "--out PATH: what: strerror(err)" — every file-system error names the flag and the file.
[[noreturn]] void fail(const std::string& csv, const std::string& what, int err) {
  throw std::runtime_error("--out " + csv + ": " + what + (what.empty() ? "" : ": ") + std::strerror(err));
}

// write_all(): the whole buffer or an errno (EINTR retried; a short write is continued, and a
// write that makes no progress is ENOSPC, as the kernel would say on the next call).
int write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return errno;
    if (w == 0) return ENOSPC;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return 0;
}

// FileLock: flock(LOCK_EX) for a scope (advisory: every bench takes it).
class FileLock {
 public:
  explicit FileLock(int fd) : fd_(fd) {
    while (::flock(fd_, LOCK_EX) != 0)
      if (errno != EINTR) {
        fd_ = -1;
        break;
      }
  }
  ~FileLock() {
    if (fd_ >= 0) ::flock(fd_, LOCK_UN);
  }
  bool held() const noexcept { return fd_ >= 0; }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string read_all(int fd, const std::string& csv, const std::string& path) {
  std::string s;
  char buf[65536];
  for (off_t off = 0;;) {
    const ssize_t n = ::pread(fd, buf, sizeof buf, off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(csv, "cannot read " + path, errno);
    if (n == 0) break;
    s.append(buf, static_cast<std::size_t>(n));
    off += n;
  }
  return s;
}

// after_last_newline(): the offset just past the last '\n' of the file's first `size` bytes
// (0 if none), read backwards in chunks.
off_t after_last_newline(int fd, off_t size, const std::string& csv) {
  char buf[65536];
  for (off_t end = size; end > 0;) {
    const off_t begin = end > static_cast<off_t>(sizeof buf) ? end - static_cast<off_t>(sizeof buf) : 0;
    const ssize_t n = ::pread(fd, buf, static_cast<std::size_t>(end - begin), begin);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(csv, "cannot read", n < 0 ? errno : EIO);
    for (ssize_t i = n; i-- > 0;)
      if (buf[i] == '\n') return begin + i + 1;
    end = begin;
  }
  return 0;
}

mode_t creation_mode() {
  const mode_t m = ::umask(0);
  ::umask(m);
  return 0666 & ~m;
}

}  // namespace

ResultsFile::ResultsFile(const std::string& path, const HostContext& ctx, const nlohmann::json& run_entry)
    : csv_path_(path) {
  try {
    open_csv(ctx, run_entry);
  } catch (...) {
    if (csv_fd_ >= 0) ::close(csv_fd_);
    csv_fd_ = -1;
    throw;
  }
}

void ResultsFile::open_csv(const HostContext& ctx, const nlohmann::json& run_entry) {
  const std::string& path = csv_path_;
  fs::path p(path);
  json_path_ = (p.parent_path() / (p.stem().string() + ".json")).string();
  if (p.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(p.parent_path(), ec);
    if (ec) fail(path, "cannot create directory " + p.parent_path().string(), ec.value());
  }
  csv_fd_ = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (csv_fd_ < 0) fail(path, "", errno);
  struct stat st{};
  if (::fstat(csv_fd_, &st) != 0) fail(path, "", errno);
  if (S_ISDIR(st.st_mode)) fail(path, "", EISDIR);
  // Rows are locked, checked and cut back on failure: that needs a regular file (not a pipe,
  // a device or /dev/stdout; --format csv prints the rows on stdout).
  if (!S_ISREG(st.st_mode)) throw std::runtime_error("--out " + path + ": not a regular file");

  // Everything below holds the CSV's lock: two benches on one --out see one header, and each
  // one's rows are whole lines. The CSV is never renamed, so its lock is stable; the JSON's own
  // lock (in update_context) also covers two CSVs sharing a stem.
  FileLock lock(csv_fd_);
  if (!lock.held()) fail(path, "cannot lock", errno);
  if (::fstat(csv_fd_, &st) != 0) fail(path, "", errno);
  off_t size = st.st_size;
  if (size > 0) {
    const off_t keep = after_last_newline(csv_fd_, size, path);
    if (keep != size) {
      // A torn last line (a write cut short by a full disk, a crash, another tool): appending
      // would glue our first row onto it. Cut it off, and say so.
      if (::ftruncate(csv_fd_, keep) != 0) fail(path, "cannot remove the torn last line", errno);
      std::cerr << "bench: warning: --out " << path << " ended with a torn line (" << (size - keep)
                << " bytes without a newline); removed it before appending\n";
      size = keep;
    }
  }
  if (size > 0) {
    char buf[4096];
    ssize_t n;
    while ((n = ::pread(csv_fd_, buf, sizeof buf, 0)) < 0 && errno == EINTR) {
    }
    if (n < 0) fail(path, "cannot read", errno);
    std::string first(buf, static_cast<std::size_t>(n));
    first = first.substr(0, first.find('\n'));
    if (!first.empty() && first.back() == '\r') first.pop_back();
    if (first != csv_header())
      throw std::runtime_error("--out " + path + ": has a different CSV header (another schema); choose another file");
  }
  // The context first: if it is refused, the CSV is left as it was.
  update_context(ctx, run_entry);
  if (size == 0) {
    const std::string h = csv_header() + "\n";
    if (const int err = write_all(csv_fd_, h.data(), h.size())) {
      if (::ftruncate(csv_fd_, 0) != 0) {
      }
      fail(path, "cannot write the CSV header", err);
    }
  }
}

ResultsFile::~ResultsFile() {
  if (csv_fd_ >= 0) ::close(csv_fd_);
}

void ResultsFile::update_context(const HostContext& ctx, const nlohmann::json& run_entry) {
  // Lock the JSON itself for the whole read-modify-rename. The rename replaces the inode, so
  // after taking the lock check that the file we locked is still the one the path names.
  Fd jf;
  for (;;) {
    jf.fd = ::open(json_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (jf.fd < 0) fail(csv_path_, "cannot open its context " + json_path_, errno);
    while (::flock(jf.fd, LOCK_EX) != 0)
      if (errno != EINTR) fail(csv_path_, "cannot lock its context " + json_path_, errno);
    struct stat a{}, b{};
    if (::fstat(jf.fd, &a) != 0) fail(csv_path_, json_path_, errno);
    if (::stat(json_path_.c_str(), &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) break;
    ::close(jf.fd);  // replaced while we waited: lock the new one
    jf.fd = -1;
  }
  const std::string text = read_all(jf.fd, csv_path_, json_path_);
  nlohmann::json j = nlohmann::json::object();
  if (!text.empty()) {
    // A context we cannot read is refused, never replaced: it holds the history of every run
    // in the CSV, and no bench writes one torn (it is renamed into place whole).
    j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      throw std::runtime_error("--out " + csv_path_ + ": its context " + json_path_ +
                               (j.is_discarded() ? " is not valid JSON" : " is not a JSON object") +
                               "; nothing was run (repair it, or move it aside to start a new context)");
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
  if (!j.contains("runs") || !j["runs"].is_array()) j["runs"] = nlohmann::json::array();
  j["runs"].push_back(run_entry);

  // A temporary name of our own in the same directory (two benches never share one), written,
  // flushed to disk and renamed over the context: readers see the old file or the new, whole.
  const fs::path jp(json_path_);
  std::string tmpl = (jp.parent_path() / (jp.filename().string() + ".tmp-XXXXXX")).string();
  Fd tf;
  tf.fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (tf.fd < 0) fail(csv_path_, "cannot create a temporary file beside " + json_path_, errno);
  const std::string out = j.dump(2) + "\n";
  int err = write_all(tf.fd, out.data(), out.size());
  if (!err && ::fchmod(tf.fd, creation_mode()) != 0) err = errno;
  if (!err && ::fsync(tf.fd) != 0) err = errno;
  if (!err && ::rename(tmpl.c_str(), json_path_.c_str()) != 0) err = errno;
  if (err) {
    ::unlink(tmpl.c_str());
    fail(csv_path_, "cannot write its context " + json_path_, err);
  }
}

void ResultsFile::append(const std::string& row) {
  // One write(2) of the whole line under the lock; a failed or short write is undone (the file
  // is cut back to where the row began) so no torn line is left for the next run.
  const std::string line = row + "\n";
  FileLock lock(csv_fd_);
  struct stat st{};
  if (!lock.held() || ::fstat(csv_fd_, &st) != 0) fail(csv_path_, "cannot append row " + std::to_string(rows_ + 1), errno);
  if (const int err = write_all(csv_fd_, line.data(), line.size())) {
    if (::ftruncate(csv_fd_, st.st_size) != 0) {
    }
    fail(csv_path_, "cannot append row " + std::to_string(rows_ + 1) + " (" + std::to_string(rows_) +
                        " rows of this run saved; this row and the rest of the run are not)",
         err);
  }
  ++rows_;
}

Table::Table(const std::vector<Planned>& plan) {
  std::set<std::string> modes;
  std::map<std::string, std::set<int64_t>> values;
  std::map<std::string, std::size_t> present;  // how many configurations have the key
  for (const auto& p : plan) {
    modes.insert(p.cfg->mode);
    for (const auto& [k, v] : p.cfg->params) {
      values[k].insert(v);
      ++present[k];
    }
  }
  show_mode_ = modes.size() > 1;
  for (const auto& [k, vs] : values)
    if (vs.size() > 1 || present[k] != plan.size()) varying_.push_back(k);
  for (const auto& p : plan) {
    w_workload_ = std::max(w_workload_, p.cfg->workload.size());
    w_primitive_ = std::max(w_primitive_, p.cfg->primitive.size());
    w_backend_ = std::max(w_backend_, p.cfg->backend.size());
    w_pin_ = std::max(w_pin_, p.pin.size());
    w_params_ = std::max(w_params_, varying_params(*p.cfg).size());
  }
}

std::string Table::varying_params(const RunConfig& cfg) const {
  std::string s;
  for (const auto& k : varying_) {
    const auto it = cfg.params.find(k);
    if (it != cfg.params.end()) s += (s.empty() ? "" : " ") + k + "=" + std::to_string(it->second);
  }
  return s.empty() ? "-" : s;
}

namespace {
std::string pad(const std::string& s, std::size_t w, bool right = false) {
  if (s.size() >= w) return s;
  return right ? std::string(w - s.size(), ' ') + s : s + std::string(w - s.size(), ' ');
}
}  // namespace

void Table::header(std::ostream& os) const {
  std::string line = pad("workload", w_workload_) + " " + pad("primitive", w_primitive_) + " " +
                     pad("backend", w_backend_) + " " + (show_mode_ ? pad("mode", 9) + " " : "") +
                     pad("procs", 5, true) + " " + pad("pin", w_pin_) + " " +
                     (varying_.empty() ? "" : pad("params", w_params_) + " ") + pad("rep", 3, true) + " " +
                     pad("ops/s", 10, true) + " " + pad("p50", 9, true) + " " + pad("p99", 9, true) + " " +
                     pad("p99.9", 9, true) + " " + pad("fairness", 8, true) + "  status";
  os << line << "\n";
}

void Table::row(std::ostream& os, const RunResult& r) const {
  const bool lat = r.latency.count() > 0;
  // A net percentile below the clock's step is "<step": the clock cannot time such an op alone
  // (harness/clock.hpp). The python backend times with its own clock.
  const double step = r.cfg.backend == "python" ? 0 : Clock::resolution_ns();
  auto lat_text = [&](double q) {
    if (!lat) return std::string("-");
    const double v = r.latency.percentile(q);
    return v < step ? "<" + fmt_ns(step) : fmt_ns(v);
  };
  char fair[32];
  std::snprintf(fair, sizeof fair, "%.3f", r.fairness);
  std::string line = pad(r.cfg.workload, w_workload_) + " " + pad(r.cfg.primitive, w_primitive_) + " " +
                     pad(r.cfg.backend, w_backend_) + " " + (show_mode_ ? pad(r.cfg.mode, 9) + " " : "") +
                     pad(std::to_string(r.cfg.procs), 5, true) + " " + pad(r.pin, w_pin_) + " " +
                     (varying_.empty() ? "" : pad(varying_params(r.cfg), w_params_) + " ") +
                     pad(std::to_string(r.repetition), 3, true) + " " + pad(fmt_rate(r.ops_per_sec), 10, true) + " " +
                     pad(lat_text(50), 9, true) + " " + pad(lat_text(99), 9, true) + " " +
                     pad(lat_text(99.9), 9, true) + " " + pad(fair, 8, true) + "  " + status_name(r.status) +
                     (r.oversubscribed ? " (oversubscribed)" : "") + (r.noisy ? " (noisy)" : "") +
                     (r.status != RunStatus::ok || r.cfg.unsafe ? " " + r.detail : "");
  os << line << "\n";
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
      if (r->status == RunStatus::ok) {
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

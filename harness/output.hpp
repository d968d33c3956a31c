// output.hpp — CSV rows, the JSON context file, and the human table (docs/results-format.md).
#pragma once

#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness/context.hpp"
#include "harness/runner.hpp"

namespace ipcsync::harness {

inline constexpr int kSchemaVersion = 3;

// RowKeys: what every row of one bench call shares: its run, its host, its --label pairs.
struct RowKeys {
  std::string run_id, host_id;
  std::map<std::string, std::string> labels;
};
// labels_text(): key=value;... sorted by key (the CSV's labels column).
std::string labels_text(const std::map<std::string, std::string>& labels);

// csv_header(): the fixed header line (no newline).
std::string csv_header();
// csv_row(): one RFC 4180 row (no newline).
std::string csv_row(const RunResult& r, const RowKeys& keys);
// row_json(): the same row as a JSON object (for --format json).
nlohmann::json row_json(const RunResult& r, const RowKeys& keys);
// result_name(): gbench-style identity, e.g. counter/lock/native/procs:8/pin:compact/cs_ns:0.
std::string result_name(const RunResult& r);

// ResultsFile: appends rows to a CSV (header written when the file is new) and keeps the JSON
// context beside it (<stem>.json): host keys once, one `runs` entry per bench call.
//
// Nothing lost, nothing torn: every write is checked; the CSV is flock'ed for the header check
// and for each append (so concurrent benches on one file write one header and whole rows), and
// the JSON for its whole read-modify-write, which goes through a temporary of its own
// (mkostemp beside it) renamed into place. A CSV whose last line lacks its newline is cut back
// to the last newline (with a warning on stderr) before anything is appended. A context that
// is not a JSON object is refused, never replaced. Errors are std::runtime_error naming
// "--out <csv>" and what failed (strerror).
class ResultsFile {
 public:
  // path: the CSV; created with its directories. Throws when a file cannot be created, read or
  // written, the existing header is not this schema's, or the context JSON is corrupt.
  ResultsFile(const std::string& path, const HostContext& ctx, const nlohmann::json& run_entry);
  ~ResultsFile();
  ResultsFile(const ResultsFile&) = delete;
  ResultsFile& operator=(const ResultsFile&) = delete;
  // append(): one row (no newline), written whole and flushed to the file, or not at all: a
  // failed write is undone and throws (naming the file and how many rows were saved).
  void append(const std::string& row);
  const std::string& csv_path() const noexcept { return csv_path_; }
  const std::string& json_path() const noexcept { return json_path_; }
  std::size_t rows_saved() const noexcept { return rows_; }

 private:
  void open_csv(const HostContext& ctx, const nlohmann::json& run_entry);
  void update_context(const HostContext& ctx, const nlohmann::json& run_entry);
  std::string csv_path_, json_path_;
  int csv_fd_ = -1;
  std::size_t rows_ = 0;
};

// default_results_path(): <dir>/<host_name>/<YYYY-MM-DD>.csv
std::string default_results_path(const std::string& dir, const std::string& host_name);

// Table: the human-readable stdout report. Built from the plan, so that it shows every column
// that tells two rows apart: mode and each workload parameter appear when they vary across the
// plan (a `params` column, key=value), and every column is as wide as its longest entry.
class Table {
 public:
  struct Planned {
    const RunConfig* cfg;
    std::string pin;
  };
  explicit Table(const std::vector<Planned>& plan = {});
  void header(std::ostream& os) const;
  void row(std::ostream& os, const RunResult& r) const;
  // summary(): per configuration, median and min–max over repetitions (when repeat > 1).
  void summary(std::ostream& os, const std::vector<RunResult>& rows) const;

 private:
  std::string varying_params(const RunConfig& cfg) const;
  bool show_mode_ = false;
  std::vector<std::string> varying_;  // parameter keys whose values differ across the plan
  std::size_t w_workload_ = 8, w_primitive_ = 9, w_backend_ = 7, w_pin_ = 3, w_params_ = 6;
};

}  // namespace ipcsync::harness

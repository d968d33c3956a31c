"""ipcsync_results — load and validate ipcsync results (docs/results-format.md, schema 3).

Every script in scripts/ reads results through this module, so they all accept the same files
and reject bad ones the same way: a missing, empty or malformed CSV, or one whose header is not
schema 3, 2 or 1, raises InputError with a one-line message; `main_guard` turns that into
`<script>: error: <message>` on stderr and exit status 2.

A CSV is read together with its JSON context (`<same stem>.json`). A missing JSON is not an
error: the rows are still usable, and a warning says the host details are unavailable.

Also here, because plot, compare and report all need them: medians and spreads over
repetitions, the PU count and cache-line floor of a host, selecting rows by any key of the row
or its context (`pin=compact`, `label.smt=off`, `host=...`, `build_type=Debug`), the statistics
of a comparison (ratio of medians with a bootstrap interval, Mann-Whitney U, Holm or
Benjamini-Hochberg across the table, a verdict), per-run provenance, human formatting of rates
and latencies (µs everywhere), and the list of context fields shown for a host.
"""

import csv
import io
import json
import math
import os
import re
import sys
from dataclasses import dataclass, field

import warnings as _warnings

import numpy as np
import pandas as pd

SCHEMA_VERSION = 3
JSON_SCHEMA_VERSION = 1

# The CSV header, in order (docs/results-format.md, "CSV columns, in order").
COLUMNS = (
    "schema_version", "timestamp", "run_id", "host_id", "name", "workload", "primitive",
    "backend", "mode", "procs", "pin", "pus", "params", "labels", "repetition", "ops", "seconds",
    "ops_per_sec", "ops_min", "ops_max", "fairness", "lat_samples", "lat_p50_ns", "lat_p90_ns",
    "lat_p99_ns", "lat_p999_ns", "lat_max_ns", "wake_p50_ns", "wake_p99_ns", "wake_max_ns",
    "oversubscribed", "duration_s", "warmup_s", "ops_per_worker", "clock_overhead_ns",
    "cpu_user_s", "cpu_sys_s", "cpu_ns_per_op", "vcsw", "ivcsw", "steal_pct", "others_pct",
    "load1", "noisy", "status", "detail",
)
# Schema 2 had no `labels` column (bench --label): read as empty. Schema 1 (results written
# before 2026-12-05, e.g. results/reference/vm-49ae7fe5/) also had no columns from duration_s to noisy, and
# its latencies were not net of the clock. Both are still read: the missing numbers are NaN,
# noisy is 0, labels is empty.
COLUMNS_V2 = tuple(c for c in COLUMNS if c != "labels")
COLUMNS_V1 = COLUMNS_V2[:COLUMNS_V2.index("duration_s")] + ("status", "detail")
HEADERS = {SCHEMA_VERSION: COLUMNS, 2: COLUMNS_V2, 1: COLUMNS_V1}
# Columns that must hold a value in every row.
REQUIRED_INT_COLUMNS = ("schema_version", "procs", "repetition", "oversubscribed", "noisy")
REQUIRED_TEXT_COLUMNS = ("run_id", "host_id", "workload", "primitive", "backend", "mode",
                         "status")
# Numeric columns that may be empty ("not applicable", e.g. in a crashed row).
OPTIONAL_NUMBER_COLUMNS = (
    "ops", "seconds", "ops_per_sec", "ops_min", "ops_max", "fairness", "lat_samples",
    "lat_p50_ns", "lat_p90_ns", "lat_p99_ns", "lat_p999_ns", "lat_max_ns",
    "wake_p50_ns", "wake_p99_ns", "wake_max_ns", "duration_s", "warmup_s", "ops_per_worker",
    "clock_overhead_ns", "cpu_user_s", "cpu_sys_s", "cpu_ns_per_op", "vcsw", "ivcsw",
    "steal_pct", "others_pct", "load1",
)
# short_window: verified, but the measured window covered under 90% of --duration or held no
# op: not a measurement, so like every status but ok it is left out of the statistics.
STATUSES = ("ok", "short_window", "verify_failed", "timeout", "crashed", "error")

# One configuration: rows that differ only in repetition (and run/host) measure the same thing.
CONFIG_KEYS = ("workload", "primitive", "backend", "mode", "procs", "pin", "params", "labels")
# What distinguishes two lines in one workload's plot (procs is the x axis).
SERIES_KEYS = ("host_id", "primitive", "backend", "mode", "pin", "params", "labels")

# Workloads whose workers each do their own ops on the shared object, so that ideal scaling
# (ops/s proportional to procs, up to the PU count) is a meaningful reference. The others are
# rounds, hand-offs or pipelines, where one op involves several workers.
COUNTER_LIKE = ("counter", "rlock_nested", "pool_counter", "value_counter", "array_histogram",
                "cinema", "log_writer", "readers_writers", "thermometer")
# The fewest procs at which a workload measures what it is named for: event_broadcast at procs
# 1 is a broadcaster with no listener (set() alone, no wake-up), not a baseline.
MIN_MEANINGFUL_PROCS = {"event_broadcast": 2}
# The core-to-core workload: one row per unordered PU pair (pus = "a;b"), the one-line round
# trip in lat_p50_ns / lat_p99_ns. The floor of a host is the median p50 of its c2c rows, else
# of its pingpong/cacheline rows.
C2C = "c2c"

# Latency percentile columns and the cumulative fraction each one stands for.
PERCENTILES = (
    ("lat_p50_ns", 0.50, "p50"),
    ("lat_p90_ns", 0.90, "p90"),
    ("lat_p99_ns", 0.99, "p99"),
    ("lat_p999_ns", 0.999, "p99.9"),
    ("lat_max_ns", 1.0, "max"),
)

# Every figure has a fixed size, so its pixel size is known (tests assert it).
FIG_DPI = 100
FIG_SIZE_IN = (10, 6)            # plot.py figures: 1000 x 600 px
COMPARE_FIG_SIZE_IN = (12, 5)    # compare.py side-by-side figure: 1200 x 500 px


def fig_pixels(size_in):
    """The (width, height) in pixels of a figure of `size_in` inches saved at FIG_DPI."""
    return (int(round(size_in[0] * FIG_DPI)), int(round(size_in[1] * FIG_DPI)))


class InputError(Exception):
    """Bad input: the message is one line, printed as `<script>: error: <message>`."""


def main_guard(main):
    """Run `main()`; on InputError print one line on stderr and exit with status 2."""
    prog = os.path.basename(sys.argv[0]) or "ipcsync"
    try:
        status = main()
    except InputError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        sys.exit(2)
    except BrokenPipeError:          # e.g. piped into `head`
        sys.exit(0)
    sys.exit(status or 0)


# --------------------------------------------------------------------------------------------
# CSV


def _parse_int(text):
    v = int(text, 10)
    return v


def _parse_float(text):
    v = float(text)
    if not math.isfinite(v):
        raise ValueError(text)
    return v


def read_csv(path):
    """Read one results CSV and return a DataFrame with typed columns.

    Numeric columns are floats (NaN where empty) except schema_version, procs, repetition and
    oversubscribed, which are ints. Two columns are added: `source` (the path) and `line` (the
    line the row ends on, for messages). Raises InputError on any problem."""
    if not os.path.exists(path):
        raise InputError(f"{path}: no such file")
    if os.path.isdir(path):
        raise InputError(f"{path}: is a directory, expected a results CSV file")
    try:
        with open(path, encoding="utf-8", newline="") as f:
            data = f.read()
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a UTF-8 text file, so not an ipcsync results CSV")
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}")
    if data.startswith("\ufeff"):
        data = data[1:]
    if not data.strip():
        raise InputError(f"{path}: empty file (no header, no rows)")

    reader = csv.reader(io.StringIO(data), strict=True)
    records = []
    try:
        header = next(reader)
        version = _check_header(path, header)
        for rec in reader:
            if not rec or rec == [""]:
                continue                      # tolerate blank lines (e.g. a trailing one)
            if len(rec) != len(header):
                raise InputError(f"{path}:{reader.line_num}: malformed CSV: {len(rec)} fields, "
                                 f"the header has {len(header)}")
            records.append((reader.line_num, rec))
    except csv.Error as e:
        raise InputError(f"{path}:{reader.line_num}: malformed CSV: {e}")

    if not records:
        raise InputError(f"{path}: has a header but no data rows")

    index = {name.strip(): i for i, name in enumerate(header)}
    columns = {name: [] for name in COLUMNS}
    for line, rec in records:
        for name in COLUMNS:
            if name in index:
                columns[name].append(_convert(path, line, name, rec[index[name]], version))
            else:                             # an older schema's missing column
                columns[name].append(0 if name in REQUIRED_INT_COLUMNS else
                                     "" if name == "labels" else float("nan"))
    df = pd.DataFrame(columns)
    for name in REQUIRED_INT_COLUMNS:
        df[name] = df[name].astype("int64")
    for name in OPTIONAL_NUMBER_COLUMNS:
        df[name] = df[name].astype("float64")
    df["source"] = path
    df["line"] = [line for line, _ in records]
    return df


def _check_header(path, header):
    """The schema version whose header this is (a set of columns: their order is free)."""
    header = [h.strip() for h in header]
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise InputError(f"{path}: not a schema-{SCHEMA_VERSION} header: repeated column(s) "
                         f"{', '.join(dup)}")
    for version, cols in HEADERS.items():
        if set(header) == set(cols):
            return version
    # Name what differs from the nearest schema.
    version, cols = min(HEADERS.items(), key=lambda vc: len(set(vc[1]) ^ set(header)))
    missing = [c for c in cols if c not in header]
    extra = [h for h in header if h not in cols]
    if len(missing) == len(cols):
        raise InputError(f"{path}: the first line is not an ipcsync results header (expected "
                         f"'{','.join(COLUMNS[:4])},...', see docs/results-format.md)")
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if extra:
            parts.append(f"unexpected column(s) {', '.join(extra)}")
        raise InputError(f"{path}: header does not match results schema {version}: "
                         f"{'; '.join(parts)} (see docs/results-format.md)")


def _convert(path, line, name, text, version=SCHEMA_VERSION):
    text = text.strip() if name not in ("detail", "params", "name") else text
    where = f"{path}:{line}: column {name}"
    if name in REQUIRED_INT_COLUMNS:
        try:
            v = _parse_int(text)
        except ValueError:
            raise InputError(f"{where}: {text!r} is not an integer")
        if name == "schema_version" and v != version:
            raise InputError(f"{path}:{line}: schema_version {v}, but the header is schema "
                             f"{version} (these scripts read results schemas "
                             f"{', '.join(map(str, sorted(HEADERS)))})")
        if name == "procs" and v < 1:
            raise InputError(f"{where}: {v} workers; procs must be at least 1")
        if name == "repetition" and v < 0:
            raise InputError(f"{where}: {v}; repetitions are numbered from 0")
        if name in ("oversubscribed", "noisy") and v not in (0, 1):
            raise InputError(f"{where}: {text!r}; expected 0 or 1")
        return v
    if name in OPTIONAL_NUMBER_COLUMNS:
        if text == "":
            return float("nan")
        try:
            return _parse_float(text)
        except ValueError:
            raise InputError(f"{where}: {text!r} is not a finite number")
    if name in REQUIRED_TEXT_COLUMNS and text == "":
        raise InputError(f"{where}: empty, but every row needs it")
    if name == "labels" and text:
        for part in text.split(";"):
            key, eq, _ = part.partition("=")
            if not eq or not key.strip():
                raise InputError(f"{where}: {text!r} is not key=value pairs separated by ';'")
    if name == "status" and text not in STATUSES:
        raise InputError(f"{where}: unknown status {text!r} (expected one of "
                         f"{', '.join(STATUSES)})")
    return text


# --------------------------------------------------------------------------------------------
# JSON context


def context_path(csv_path):
    """The JSON context that belongs to a CSV: the same path with .json for .csv."""
    stem, ext = os.path.splitext(csv_path)
    return (stem if ext.lower() == ".csv" else csv_path) + ".json"


def read_context(csv_path):
    """Return (context dict or None, warning or None) for the JSON beside `csv_path`.

    A missing JSON gives a warning; a malformed one, or one of another schema, raises."""
    path = context_path(csv_path)
    if not os.path.exists(path):
        return None, (f"no JSON context beside {csv_path} (expected {path}): "
                      f"host details and command lines are unavailable")
    try:
        with open(path, encoding="utf-8") as f:
            ctx = json.load(f)
    except json.JSONDecodeError as e:
        raise InputError(f"{path}:{e.lineno}: malformed JSON context: {e.msg}")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read JSON context: {e}")
    if not isinstance(ctx, dict):
        raise InputError(f"{path}: JSON context is not an object")
    version = ctx.get("json_schema_version")
    if version != JSON_SCHEMA_VERSION:
        raise InputError(f"{path}: json_schema_version {version!r}, but these scripts read "
                         f"context schema {JSON_SCHEMA_VERSION}")
    if not isinstance(ctx.get("runs", []), list):
        raise InputError(f"{path}: 'runs' is not a list")
    return ctx, None


# --------------------------------------------------------------------------------------------
# Result sets


@dataclass
class ResultSet:
    """Rows of one or more CSVs, the host contexts that go with them, and load warnings."""
    rows: pd.DataFrame
    contexts: dict = field(default_factory=dict)   # host_id -> context (runs merged)
    files: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    floors: dict = field(default_factory=dict)     # host_id -> (ns, how it was found)

    def host_name(self, host_id):
        ctx = self.contexts.get(host_id) or {}
        return ctx.get("host_name") or host_id

    def pus(self, host_id):
        """PUs of a host: topology.pus, else num_cpus, else inferred from the rows (the largest
        procs not flagged oversubscribed, when some rows are); None when unknown."""
        ctx = self.contexts.get(host_id) or {}
        n = (ctx.get("topology") or {}).get("pus") or ctx.get("num_cpus")
        if isinstance(n, int) and n > 0:
            return n
        rows = self.rows[self.rows["host_id"] == host_id]
        if rows.empty or not rows["oversubscribed"].any():
            return None
        fit = rows.loc[rows["oversubscribed"] == 0, "procs"]
        return int(fit.max()) if not fit.empty else None

    def floor(self, host_id):
        """(ns, source) of the host's cache-line floor, or (None, None) when unknown."""
        return self.floors.get(host_id, (None, None))

    def runs(self):
        """Every run entry of every context: dicts with host_id added."""
        out = []
        for host_id, ctx in self.contexts.items():
            for run in ctx.get("runs", []):
                if isinstance(run, dict):
                    out.append(dict(run, host_id=host_id))
        return out

    def used_runs(self, rows=None):
        """The run entries whose rows are in `rows` (default: all rows), in file order."""
        rows = self.rows if rows is None else rows
        used = set(zip(rows["host_id"], rows["run_id"]))
        return [r for r in self.runs() if (r["host_id"], r.get("run_id")) in used]

    def workloads(self):
        return sorted(self.rows["workload"].unique())


def load(paths, workload=None, run_id=None, backend=None):
    """Load CSVs (and their JSON contexts) into one ResultSet, optionally keeping only one
    workload, run or backend. Raises InputError when nothing is left. The floors of the hosts
    are found before any filtering (so a report of one workload still knows them)."""
    if isinstance(paths, str):
        paths = [paths]
    if not paths:
        raise InputError("no result files given")
    frames, contexts, warnings = [], {}, []
    for path in paths:
        df = read_csv(path)
        frames.append(df)
        ctx, warning = read_context(path)
        if warning:
            warnings.append(warning)
            continue
        host_id = ctx.get("host_id")
        row_hosts = sorted(df["host_id"].unique())
        if not host_id:
            warnings.append(f"{context_path(path)} has no host_id; using the rows' host_id")
            host_id = row_hosts[0]
        elif host_id not in row_hosts:
            warnings.append(f"{context_path(path)} describes host {host_id}, but the rows of "
                            f"{path} are from {', '.join(row_hosts)}")
        _merge_context(contexts, host_id, ctx)
    rows = pd.concat(frames, ignore_index=True)
    for host_id in sorted(rows["host_id"].unique()):
        if host_id not in contexts and len(paths) > 1:
            warnings.append(f"no JSON context for host {host_id}")
    rs = ResultSet(rows=rows, contexts=contexts, files=list(paths), warnings=warnings,
                   floors=find_floors(rows))
    return select(rs, workload=workload, run_id=run_id, backend=backend)


def write_atomic(path, text):
    """Write text to path through path.tmp and a rename: a reader or a failed write never
    sees a half-written file."""
    tmp = path + ".tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _merge_context(contexts, host_id, ctx):
    """Two files of one host share host-level keys; their runs are concatenated (by run_id)."""
    if host_id not in contexts:
        contexts[host_id] = dict(ctx, runs=list(ctx.get("runs", [])))
        if isinstance(ctx.get("cpu_model"), str):  # bench before 2026-12-05 kept CPUID's padding
            contexts[host_id]["cpu_model"] = ctx["cpu_model"].strip()
        return
    have = contexts[host_id]
    seen = {r.get("run_id") for r in have["runs"] if isinstance(r, dict)}
    for run in ctx.get("runs", []):
        if not isinstance(run, dict) or run.get("run_id") not in seen:
            have["runs"].append(run)


def select(rs, workload=None, run_id=None, backend=None):
    """A ResultSet keeping only rows with the given workload / run_id / backend."""
    rows = rs.rows
    for column, value in (("workload", workload), ("run_id", run_id), ("backend", backend)):
        if value is None:
            continue
        kept = rows[rows[column] == value]
        if kept.empty:
            have = ", ".join(sorted(rows[column].unique()))
            raise InputError(f"no rows with {column} {value!r} in "
                             f"{', '.join(rs.files)} (have: {have})")
        rows = kept
    if rows is rs.rows:
        return rs
    return subset(rs, rows)


def subset(rs, rows):
    """The same result set (contexts, files, warnings, floors) with only `rows`."""
    return ResultSet(rows=rows.reset_index(drop=True), contexts=rs.contexts, files=rs.files,
                     warnings=rs.warnings, floors=rs.floors)


def find_floors(rows):
    """{host_id: (ns, source)}: the median lat_p50_ns of a host's ok c2c rows (every PU pair,
    every repetition), else of its ok pingpong/cacheline rows (at procs 2 when there are
    some)."""
    floors = {}
    ok = ok_rows(rows)
    for host_id, group in ok.groupby("host_id"):
        c2c = group.loc[group["workload"] == C2C, "lat_p50_ns"].dropna()
        if len(c2c):
            floors[host_id] = (float(c2c.median()), f"median c2c round trip over "
                               f"{group.loc[group['workload'] == C2C, 'pus'].nunique()} PU "
                               f"pair(s)")
            continue
        pp = group[(group["workload"] == "pingpong") & (group["primitive"] == "cacheline")]
        if (pp["procs"] == 2).any():
            pp = pp[pp["procs"] == 2]
        pp = pp["lat_p50_ns"].dropna()
        if len(pp):
            floors[host_id] = (float(pp.median()), "median pingpong/cacheline round trip")
    return floors


def meaningful(df):
    """(rows that measure what their workload is named for, rows left out): event_broadcast
    at procs 1 is a broadcaster with no listener."""
    keep = pd.Series(True, index=df.index)
    for workload, least in MIN_MEANINGFUL_PROCS.items():
        keep &= ~((df["workload"] == workload) & (df["procs"] < least))
    return df[keep], df[~keep]


# --------------------------------------------------------------------------------------------
# Keys: pick rows by any column of the row or any field of its context


KEY_ALIASES = {"host": "host_id", "run": "run_id", "commit": "git_commit", "file": "source",
               "label": "labels"}
# Run entry fields that describe the build; older files have them only once, at host level.
BUILD_FIELDS = ("build_type", "cxx_flags", "compiler", "library_versions")
PROVENANCE_FIELDS = ("git_commit",) + BUILD_FIELDS + ("labels",)
_MISSING = object()
INT_COLUMNS = REQUIRED_INT_COLUMNS


def canonical_key(key):
    return KEY_ALIASES.get(key, key)


def parse_labels(text):
    """'a=1;b=2' -> {'a': '1', 'b': '2'}."""
    out = {}
    for part in (text or "").split(";"):
        if part:
            k, _, v = part.partition("=")
            out[k.strip()] = v.strip()
    return out


def _dig(obj, path):
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return _MISSING
        obj = obj[part]
    return obj


def value_text(v):
    """A context value as the text a KEY=VALUE condition compares with."""
    if v is _MISSING or v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dict):
        return ";".join(f"{k}={value_text(x)}" for k, x in sorted(v.items()))
    if isinstance(v, list):
        return ",".join(value_text(x) for x in v)
    return str(v)


def key_kind(rs, key):
    """'column', 'label', 'run' or 'host' for a canonical key; InputError when unknown."""
    if key in COLUMNS or key == "source":
        return "column"
    if key.startswith("label.") and len(key) > len("label."):
        return "label"
    head = key.split(".", 1)[0]
    if head in PROVENANCE_FIELDS or any(head in r for r in rs.runs()):
        return "run"
    if any(head in ctx for ctx in rs.contexts.values()):
        return "host"
    host_keys = sorted({k for ctx in rs.contexts.values() for k in ctx if k != "runs"})
    raise InputError(f"unknown key {key!r}: use a CSV column (e.g. pin, backend, procs), "
                     f"host, run, label.NAME, a run field ({', '.join(PROVENANCE_FIELDS)}) or a "
                     f"context field" + (f" ({', '.join(host_keys)})" if host_keys else ""))


def key_values(rs, key, rows=None):
    """The value of `key` for each row of `rows` (default: all), as text (a Series)."""
    rows = rs.rows if rows is None else rows
    key = canonical_key(key)
    kind = key_kind(rs, key)
    if kind == "column":
        column = rows[key]
        if key in INT_COLUMNS:
            return column.astype("int64").astype(str)
        if column.dtype.kind == "f":
            return column.map(lambda v: "" if v != v else value_text(float(v)))
        return column.astype(str)
    if kind == "label":
        name = key[len("label."):]
        runs = {(r["host_id"], r.get("run_id")): r for r in rs.runs()}

        def label(row):
            labels = parse_labels(row.labels)
            if not labels:              # rows older than the column: the run entry's labels
                labels = (runs.get((row.host_id, row.run_id)) or {}).get("labels") or {}
            return value_text(labels.get(name, ""))
        return pd.Series([label(r) for r in rows.itertuples()], index=rows.index, dtype=object)
    if kind == "run":
        runs = {(r["host_id"], r.get("run_id")): r for r in rs.runs()}
        head = key.split(".", 1)[0]

        def run_value(host_id, run_id):
            v = _dig(runs.get((host_id, run_id)) or {}, key)
            if v is _MISSING and head in BUILD_FIELDS:     # older files: once per host
                v = _dig(rs.contexts.get(host_id) or {}, key)
            return value_text(v)
        return pd.Series([run_value(h, r) for h, r in zip(rows["host_id"], rows["run_id"])],
                         index=rows.index, dtype=object)
    return pd.Series([value_text(_dig(rs.contexts.get(h) or {}, key)) for h in rows["host_id"]],
                     index=rows.index, dtype=object)


def parse_condition(text, flag):
    """'KEY=VALUE' -> (canonical key, value); InputError naming `flag` otherwise."""
    key, eq, value = text.partition("=")
    if not eq or not key.strip():
        raise InputError(f"{flag} {text!r}: expected KEY=VALUE (e.g. pin=compact, "
                         f"host=<host_id>, label.smt=off, run=<run_id>)")
    return canonical_key(key.strip()), value.strip()


def matching(rs, conditions, rows=None, flag="--a"):
    """Boolean mask of the rows meeting every (key, value) condition; conditions on one key
    are alternatives (backend=native --a backend=posix: either). Raises InputError naming the
    values that exist when no row is left."""
    rows = rs.rows if rows is None else rows
    mask = pd.Series(True, index=rows.index)
    by_key = {}
    for key, value in conditions:
        by_key.setdefault(key, []).append(value)
    for key, values in by_key.items():
        have = key_values(rs, key, rows)
        if key in INT_COLUMNS or (key in COLUMNS and rows[key].dtype.kind == "f"):
            values = [_number_text(v) for v in values]
        hit = have.isin(values)
        if key == "source":
            hit |= have.map(os.path.basename).isin(values)
        if key == "host_id":                  # host=<host name> works too
            hit |= have.map(rs.host_name).isin(values)
        if not (mask & hit).any():
            shown = sorted(set(have[mask])) if mask.any() else sorted(set(have))
            listed = ", ".join(repr(v) for v in shown[:12]) + (" ..." if len(shown) > 12 else "")
            raise InputError(f"{flag}: no rows with {key}={'|'.join(values)}"
                             + (" among the rows the other conditions keep" if len(by_key) > 1
                                else "") + f" (have: {listed or 'nothing'})")
        mask &= hit
    return mask


def _number_text(v):
    try:
        return value_text(float(v))
    except ValueError:
        return v


# --------------------------------------------------------------------------------------------
# Provenance: what built each run


def run_provenance(rs, rows=None):
    """One dict per run used by `rows`: run_id, host, date and PROVENANCE_FIELDS (older runs
    without per-run build fields take their file's host-level ones; `from_file` lists which)."""
    out = []
    for run in rs.used_runs(rows):
        ctx = rs.contexts.get(run["host_id"]) or {}
        rec = {"run_id": run.get("run_id", "?"), "host": rs.host_name(run["host_id"]),
               "date": run.get("date", ""), "from_file": []}
        for name in PROVENANCE_FIELDS:
            v = run.get(name, _MISSING)
            if v is _MISSING and name in BUILD_FIELDS and name in ctx:
                v = ctx[name]
                rec["from_file"].append(name)
            rec[name] = ({} if name in ("library_versions", "labels") else "") \
                if v is _MISSING or v is None else v
        out.append(rec)
    return out


def provenance_differences(runs):
    """[(column title, field, getter)] of the provenance fields that differ between `runs`
    (library versions and labels one key at a time); [] when they all agree."""
    out = []
    for name, title in (("git_commit", "commit"), ("build_type", "build type"),
                        ("cxx_flags", "C++ flags"), ("compiler", "compiler")):
        if len({value_text(r[name]) for r in runs}) > 1:
            out.append((title, name, lambda r, n=name: value_text(r[n]) or "-"))
    for name, title in (("library_versions", "{}"), ("labels", "label {}")):
        keys = sorted({k for r in runs for k in (r[name] or {})})
        for k in keys:
            if len({value_text((r[name] or {}).get(k)) for r in runs}) > 1:
                out.append((title.format(k), name,
                            lambda r, n=name, k=k: value_text((r[n] or {}).get(k)) or "-"))
    return out


def provenance_table(rs, rows=None):
    """(headers, rows of text) of the per-run provenance of the runs behind `rows` when they
    differ in commit, build type, flags, compiler, library versions or labels; else None.
    A value taken from the file's host-level context (an older run) is marked '(file)'."""
    runs = run_provenance(rs, rows)
    if len(runs) < 2:
        return None
    diffs = provenance_differences(runs)
    if not diffs:
        return None
    headers = ["run", "host", "date"] + [title for title, _, _ in diffs]
    body = []
    for r in runs:
        cells = [r["run_id"], r["host"], r["date"] or "-"]
        for _, name, get in diffs:
            cells.append(get(r) + (" (file)" if name in r["from_file"] else ""))
        body.append(cells)
    return headers, body


# --------------------------------------------------------------------------------------------
# Summaries


def ok_rows(df):
    """Rows that measured something: status ok and a throughput value."""
    return df[(df["status"] == "ok") & df["ops_per_sec"].notna()]


def failed_rows(df):
    return df[df["status"] != "ok"]


def status_counts(df):
    """'2 short_window, 1 timeout' for the rows that are not ok ('' when every row is)."""
    counts = failed_rows(df)["status"].value_counts()
    return ", ".join(f"{n} {status}" for status, n in
                     sorted(counts.items(), key=lambda sn: STATUSES.index(sn[0])))


def summarize(df, keys):
    """One row per group of `keys`: repetitions, how many were ok, the failures, and the
    median / min / max of throughput and the median latency percentiles and fairness over the
    ok repetitions. Groups whose every repetition failed are kept (with NaN statistics)."""
    keys = list(keys)
    out = []
    for key, group in groups(df, keys):
        ok = ok_rows(group)
        failures = failed_rows(group)
        rec = dict(zip(keys, key))
        rec.update(
            reps=len(group),
            n_ok=len(ok),
            failures="; ".join(f"rep {r.repetition}: {r.status}" for r in failures.itertuples()),
            oversubscribed=int(group["oversubscribed"].max()),
            ops_median=_median(ok["ops_per_sec"]),
            ops_min=ok["ops_per_sec"].min() if len(ok) else np.nan,
            ops_max=ok["ops_per_sec"].max() if len(ok) else np.nan,
            fairness=_median(ok["fairness"]),
        )
        for column, _, _ in PERCENTILES:
            rec[column] = _median(ok[column])
        for column in ("wake_p50_ns", "wake_p99_ns", "cpu_ns_per_op"):
            rec[column] = _median(ok[column])
        out.append(rec)
    return pd.DataFrame(out, columns=_summary_columns(keys))


def groups(df, keys):
    """Iterate (key tuple, rows) over the groups of `keys` (a list), sorted by key."""
    keys = list(keys)
    by = keys[0] if len(keys) == 1 else keys
    for key, group in df.groupby(by, sort=True, dropna=False):
        yield (key if isinstance(key, tuple) else (key,)), group


def _summary_columns(keys):
    return (list(keys) + ["reps", "n_ok", "failures", "oversubscribed", "ops_median", "ops_min",
                          "ops_max", "fairness"] + [c for c, _, _ in PERCENTILES]
            + ["wake_p50_ns", "wake_p99_ns", "cpu_ns_per_op"])


def _median(series):
    series = series.dropna()
    return float(series.median()) if len(series) else np.nan


def varying(df, keys):
    """The columns of `keys` that take more than one value in `df`."""
    return [k for k in keys if df[k].nunique(dropna=False) > 1]


# --------------------------------------------------------------------------------------------
# Statistics of a comparison (compare.py, and report.py's highlights)

# What compare.py --metric can compare, and whether more is better.
METRICS = {
    "ops_per_sec": ("throughput", "ops/s", True),
    "lat_p50_ns": ("p50 latency", "µs", False),
    "lat_p99_ns": ("p99 latency", "µs", False),
    "wake_p50_ns": ("wake-up p50", "µs", False),
    "cpu_ns_per_op": ("CPU per op", "µs", False),
}
METRIC_ALIASES = {"ops": "ops_per_sec", "throughput": "ops_per_sec", "p50": "lat_p50_ns",
                  "p99": "lat_p99_ns", "wake": "wake_p50_ns", "wake_p50": "wake_p50_ns",
                  "cpu": "cpu_ns_per_op"}
CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 9999
BOOTSTRAP_SEED = 20261205       # fixed: the same input always gives the same interval
MIN_REPS = 5                    # fewer ok repetitions on a side: a warning
CORRECTIONS = {"bh": "Benjamini-Hochberg", "holm": "Holm"}
VERDICTS = ("faster", "slower", "same", "inconclusive", "n/a")


def ratio_interval(a, b, confidence=CONFIDENCE, seed=BOOTSTRAP_SEED):
    """(median(a) / median(b), low, high): the ratio of medians and its percentile bootstrap
    interval, the statistic being log(median(a*)) - log(median(b*)) over independent resamples
    of each side (scipy.stats.bootstrap, BOOTSTRAP_RESAMPLES, seeded). The interval is NaN
    when a side has fewer than 2 values, a value is not positive, or scipy is unavailable."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if not len(a) or not len(b):
        return float("nan"), float("nan"), float("nan")
    ma, mb = float(np.median(a)), float(np.median(b))
    ratio = ma / mb if mb else float("nan")
    if len(a) < 2 or len(b) < 2 or (a <= 0).any() or (b <= 0).any():
        return ratio, float("nan"), float("nan")
    try:
        from scipy.stats import bootstrap
    except Exception:
        return ratio, float("nan"), float("nan")

    def statistic(x, y, axis):
        return np.log(np.median(x, axis=axis)) - np.log(np.median(y, axis=axis))

    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        res = bootstrap((a, b), statistic, vectorized=True, paired=False,
                        confidence_level=confidence, n_resamples=BOOTSTRAP_RESAMPLES,
                        method="percentile", random_state=np.random.default_rng(seed))
    low, high = res.confidence_interval
    return ratio, float(np.exp(low)), float(np.exp(high))


def mann_whitney_p(a, b):
    """Two-sided Mann-Whitney U p-value (scipy; exact for small samples without ties), or None
    when a side is empty or scipy is unavailable."""
    if not len(a) or not len(b):
        return None
    try:
        from scipy.stats import mannwhitneyu
    except Exception:
        return None
    if len(a) + len(b) <= 2:
        return 1.0
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        return float(mannwhitneyu(list(a), list(b), alternative="two-sided").pvalue)


def adjust_p(pvalues, method="bh"):
    """p-values adjusted for multiple comparisons across the list (None stays None):
    'holm' (family-wise error) or 'bh' (Benjamini-Hochberg, false discovery rate)."""
    index = [i for i, p in enumerate(pvalues) if p is not None and p == p]
    out = [None] * len(pvalues)
    if not index:
        return out
    p = np.array([pvalues[i] for i in index], dtype=float)
    m = len(p)
    order = np.argsort(p, kind="mergesort")
    ranked = p[order]
    if method == "holm":
        adjusted = np.maximum.accumulate((m - np.arange(m)) * ranked)
    elif method == "bh":
        adjusted = np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1]
    else:
        raise ValueError(method)
    adjusted = np.minimum(adjusted, 1.0)
    for rank, i in enumerate(order):
        out[index[i]] = float(adjusted[rank])
    return out


def verdict(ratio, p_adjusted, alpha, threshold, higher_is_better=True, significant=None):
    """'faster' / 'slower' (A against B) when the difference is both significant (adjusted p
    < alpha, or `significant` given by another rule) and larger than the practical threshold
    (ratio beyond 1 + threshold or below 1 / (1 + threshold)); 'inconclusive' when the medians
    are that far apart but the test does not confirm it (too few repetitions, too much spread);
    'same' otherwise; 'n/a' without a ratio."""
    if ratio is None or ratio != ratio or ratio <= 0:
        return "n/a"
    if significant is None:
        significant = p_adjusted is not None and p_adjusted < alpha
    large = ratio >= 1 + threshold or ratio <= 1 / (1 + threshold)
    if not large:
        return "same"
    if not significant:
        return "inconclusive"
    return "faster" if (ratio > 1) == higher_is_better else "slower"


def ranges_apart(a, b):
    """The fallback rule without scipy: both sides have 2+ values and their ranges do not
    overlap."""
    return len(a) >= 2 and len(b) >= 2 and (max(a) < min(b) or max(b) < min(a))


def judge(pairs, alpha=0.05, threshold=0.05, correction="bh", higher_is_better=True,
          rule="mannwhitney"):
    """For each (a values, b values): dict(ratio, ci_low, ci_high, p, p_adjusted, verdict,
    few). The p-values are adjusted across the whole list (`correction`); with rule 'range'
    (no scipy) there is no p-value and no correction: ranges apart and large is a difference."""
    out = []
    for a, b in pairs:
        a, b = [float(x) for x in a], [float(x) for x in b]
        ratio, low, high = ratio_interval(a, b)
        out.append(dict(ratio=ratio, ci_low=low, ci_high=high,
                        p=mann_whitney_p(a, b) if rule == "mannwhitney" else None,
                        few=min(len(a), len(b)) < MIN_REPS, n_a=len(a), n_b=len(b),
                        apart=ranges_apart(a, b)))
    adjusted = adjust_p([r["p"] for r in out], correction)
    for r, q in zip(out, adjusted):
        r["p_adjusted"] = q
        r["verdict"] = verdict(r["ratio"], q, alpha, threshold, higher_is_better,
                               significant=r["apart"] if rule == "range" else None)
    return out


# --------------------------------------------------------------------------------------------
# Formatting


def fmt_rate(x):
    """Operations per second, short: 12.3M, 456k, 789."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"{x / scale:.3g}{suffix}"
    return f"{x:.3g}"


def fmt_ns(x):
    """A latency in ns, short: 850 ns, 12.5 µs, 3.2 ms."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    for scale, unit in ((1e9, "s"), (1e6, "ms"), (1e3, "µs")):
        if abs(x) >= scale:
            return f"{x / scale:.3g} {unit}"
    return f"{x:.3g} ns"


def fmt_us(x, unit=False):
    """A time given in ns, written in µs (the one unit of every latency the scripts show):
    0.05, 1.6, 12.5, 1250; '-' when missing. unit=True appends ' µs'."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    us = x / 1000.0
    text = f"{us:.0f}" if abs(us) >= 100 else f"{us:.3g}"
    return text + (" µs" if unit else "")


def fmt_ratio(x):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.3f}"


def safe_name(text):
    """A string usable as a file name component."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text)).strip("_") or "x"


def format_table(headers, rows):
    """A plain-text table with aligned columns (for stdout)."""
    rows = [[str(c) for c in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def _caches(topology):
    parts = []
    for c in topology.get("caches") or []:
        if not isinstance(c, dict):
            continue
        size = c.get("size")
        size = (f"{size // 1048576} MiB" if isinstance(size, int) and size >= 1048576 and
                size % 1048576 == 0 else f"{size // 1024} KiB" if isinstance(size, int) else "?")
        kind = {"data": "d", "instruction": "i"}.get(c.get("type"), "")
        parts.append(f"L{c.get('level', '?')}{kind} {size} x{c.get('count', '?')}")
    return ", ".join(parts)


def context_fields(ctx):
    """[(label, text)] describing a host context, in a fixed order (used for side-by-side
    tables). `ctx` may be None (no JSON): every field is then '-'."""
    ctx = ctx or {}
    topo = ctx.get("topology") or {}
    clock = ctx.get("clock") or {}
    libs = ctx.get("library_versions") or {}
    runs = [r for r in ctx.get("runs", []) if isinstance(r, dict)]

    def text(v):
        if v is None or v == "" or v == []:
            return "-"
        if isinstance(v, bool):
            return "yes" if v else "no"
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v)

    commits = sorted({r.get("git_commit") for r in runs if r.get("git_commit")})

    def build(name):
        """A build field over the runs (each run's own, else the file's): distinct values."""
        values = sorted({value_text(r.get(name, ctx.get(name))) for r in runs} - {""})
        return ", ".join(values) if values else ctx.get(name)

    library = {}
    for source in ([r.get("library_versions", libs) for r in runs] or [libs]):
        for k, v in (source or {}).items():
            library.setdefault(k, set()).add(value_text(v))
    fields = [
        ("host name", ctx.get("host_name")),
        ("host id", ctx.get("host_id")),
        ("CPU model", ctx.get("cpu_model")),
        ("CPUs", ctx.get("num_cpus")),
        ("MHz per CPU", ctx.get("mhz_per_cpu")),
        ("packages / cores / PUs", "/".join(text(topo.get(k)) for k in ("packages", "cores", "pus"))
         if topo else None),
        ("NUMA nodes", topo.get("numa_nodes")),
        ("caches", _caches(topo)),
        ("kernel", ctx.get("kernel")),
        ("OS", ctx.get("os")),
        ("compiler", build("compiler")),
        ("C++ flags", build("cxx_flags")),
        ("build type", build("build_type")),
        ("library versions", ", ".join(f"{k} {'/'.join(sorted(v))}"
                                       for k, v in sorted(library.items()))),
        ("clock", f"{clock.get('source', '?')}, overhead {text(clock.get('overhead_ns'))} ns"
         if clock else None),
        ("CPU scaling enabled", ctx.get("cpu_scaling_enabled")),
        ("ASLR enabled", ctx.get("aslr_enabled")),
        ("git commit(s)", ", ".join(commits)),
        ("runs", len(runs) if ctx else None),
    ]
    return [(label, text(value)) for label, value in fields]


def side_by_side_contexts(contexts):
    """[(label, [text per context], differs)] for several contexts (None allowed)."""
    columns = [context_fields(c) for c in contexts]
    out = []
    for i, (label, _) in enumerate(columns[0]):
        values = [col[i][1] for col in columns]
        out.append((label, values, len(set(values)) > 1))
    return out

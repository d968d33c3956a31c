"""ipcsync_results — load and validate ipcsync results (docs/results-format.md, schema 1).

Every script in scripts/ reads results through this module, so they all accept the same files
and reject bad ones the same way: a missing, empty or malformed CSV, or one whose header is not
schema 1, raises InputError with a one-line message; `main_guard` turns that into
`<script>: error: <message>` on stderr and exit status 2.

A CSV is read together with its JSON context (`<same stem>.json`). A missing JSON is not an
error: the rows are still usable, and a warning says the host details are unavailable.

Also here, because plot, compare and report all need them: medians and spreads over
repetitions, the PU count of a host, human formatting of rates and latencies, and the list of
context fields shown for a host.
"""

import csv
import io
import json
import math
import os
import re
import sys
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

SCHEMA_VERSION = 2
JSON_SCHEMA_VERSION = 1

# The CSV header, in order (docs/results-format.md, "CSV columns, in order").
COLUMNS = (
    "schema_version", "timestamp", "run_id", "host_id", "name", "workload", "primitive",
    "backend", "mode", "procs", "pin", "pus", "params", "repetition", "ops", "seconds",
    "ops_per_sec", "ops_min", "ops_max", "fairness", "lat_samples", "lat_p50_ns", "lat_p90_ns",
    "lat_p99_ns", "lat_p999_ns", "lat_max_ns", "wake_p50_ns", "wake_p99_ns", "wake_max_ns",
    "oversubscribed", "duration_s", "warmup_s", "ops_per_worker", "clock_overhead_ns",
    "cpu_user_s", "cpu_sys_s", "cpu_ns_per_op", "vcsw", "ivcsw", "steal_pct", "others_pct",
    "load1", "noisy", "status", "detail",
)
# Schema 1 (results written before 2026-12-05, e.g. results/reference/) had no columns from
# duration_s to noisy, and its latencies were not net of the clock. It is still read: the
# missing numbers are NaN and noisy is 0.
COLUMNS_V1 = COLUMNS[:COLUMNS.index("duration_s")] + ("status", "detail")
HEADERS = {SCHEMA_VERSION: COLUMNS, 1: COLUMNS_V1}
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
CONFIG_KEYS = ("workload", "primitive", "backend", "mode", "procs", "pin", "params")
# What distinguishes two lines in one workload's plot (procs is the x axis).
SERIES_KEYS = ("host_id", "primitive", "backend", "mode", "pin", "params")

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
                columns[name].append(0 if name in REQUIRED_INT_COLUMNS else float("nan"))
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

    def runs(self):
        """Every run entry of every context: dicts with host_id added."""
        out = []
        for host_id, ctx in self.contexts.items():
            for run in ctx.get("runs", []):
                if isinstance(run, dict):
                    out.append(dict(run, host_id=host_id))
        return out

    def workloads(self):
        return sorted(self.rows["workload"].unique())


def load(paths, workload=None, run_id=None, backend=None):
    """Load CSVs (and their JSON contexts) into one ResultSet, optionally keeping only one
    workload, run or backend. Raises InputError when nothing is left."""
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
    rs = ResultSet(rows=rows, contexts=contexts, files=list(paths), warnings=warnings)
    return select(rs, workload=workload, run_id=run_id, backend=backend)


def _merge_context(contexts, host_id, ctx):
    """Two files of one host share host-level keys; their runs are concatenated (by run_id)."""
    if host_id not in contexts:
        contexts[host_id] = dict(ctx, runs=list(ctx.get("runs", [])))
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
    return ResultSet(rows=rows.reset_index(drop=True), contexts=rs.contexts, files=rs.files,
                     warnings=rs.warnings)


# --------------------------------------------------------------------------------------------
# Summaries


def ok_rows(df):
    """Rows that measured something: status ok and a throughput value."""
    return df[(df["status"] == "ok") & df["ops_per_sec"].notna()]


def failed_rows(df):
    return df[df["status"] != "ok"]


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
        for column in ("wake_p50_ns", "wake_p99_ns"):
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
            + ["wake_p50_ns", "wake_p99_ns"])


def _median(series):
    series = series.dropna()
    return float(series.median()) if len(series) else np.nan


def varying(df, keys):
    """The columns of `keys` that take more than one value in `df`."""
    return [k for k in keys if df[k].nunique(dropna=False) > 1]


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
        ("compiler", ctx.get("compiler")),
        ("C++ flags", ctx.get("cxx_flags")),
        ("build type", ctx.get("build_type")),
        ("library versions", ", ".join(f"{k} {v}" for k, v in sorted(libs.items()))),
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

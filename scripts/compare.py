#!/usr/bin/python3
"""compare.py — compare two sides of ipcsync results: two machines, two commits, two pin
policies, two label values, two runs, two backends, any two sets of rows.

    # two files (two machines, or two commits on one machine): the sides are the files
    /usr/bin/python3 scripts/compare.py A.csv B.csv
    # sides chosen by any key of the row or its context, from one or more files
    /usr/bin/python3 scripts/compare.py r.csv --a pin=compact --b pin=scatter
    /usr/bin/python3 scripts/compare.py a.csv b.csv --a host=<host_id> --b host=<host_id>
    /usr/bin/python3 scripts/compare.py r.csv --a label.smt=on --b label.smt=off
    /usr/bin/python3 scripts/compare.py r.csv --a run=<run_id> --b run=<run_id>
    # two backends in one file (the older spelling of --a backend=native --b backend=posix)
    /usr/bin/python3 scripts/compare.py A.csv --backend-a native --backend-b posix
    # options: [--metric ops_per_sec|lat_p50_ns|lat_p99_ns|wake_p50_ns|cpu_ns_per_op]
    #          [--threshold 5] [--alpha 0.05] [--correction bh|holm] [--rule auto|mannwhitney|range]
    #          [--workload W] [--label-a L] [--label-b L] [--out DIR] [--no-plots]

Keys (--a/--b KEY=VALUE, repeatable; conditions on different keys must all hold, values of one
key are alternatives): any CSV column (pin, backend, procs, mode, params, labels, ...), host
(host_id), run (run_id), file (the CSV path or its name), label.NAME (from the labels column,
i.e. bench --label NAME=VALUE), a run field (git_commit or commit, build_type, cxx_flags,
compiler, library_versions.python, date) or a host context field (cpu_model, kernel,
topology.pus, ...; dotted paths reach inside objects).

Matching: a configuration of A matches one of B when workload, primitive, backend, mode, procs,
pin and params are equal, leaving out the keys that choose the sides. The host and each label
are matched too when they vary within a side (e.g. --a pin=compact --b pin=scatter on a file of
two hosts compares compact and scatter on each host); when constant within each side they
describe the side. c2c rows also match on their PU pair. Repetitions and run ids never match.

The unit of observation: a bench run has its own memory layout and machine state, so its
repetitions share an offset they cannot show. Sides that share runs (native vs posix in one
file) compare repetitions; sides that are different runs, 2 or more each, compare runs (each
run's median over its ok repetitions; "per run: n vs m"); sides that are different runs with a
single run on a side compare repetitions, flagged "1 run" with a warning that drift between
runs is not in the test (alternate runs A B A B ... to compare two builds on one machine).

Statistics, per matched configuration, on the ok repetitions (or runs) only (rows with any
other status are counted and listed, never used), for the chosen --metric (default ops_per_sec):
  A/B        median(A) / median(B)
  95% CI     percentile bootstrap interval of log(median A / median B): 9999 resamples of each
             side, seeded, so the same input always prints the same interval
  p          two-sided Mann-Whitney U (scipy), then adjusted across the whole table:
             Benjamini-Hochberg (--correction bh, default) or Holm (--correction holm)
  verdict    faster / slower (A against B: more ops/s, or less latency or CPU per op) when the
             adjusted p < --alpha AND the ratio is beyond the practical threshold (--threshold,
             default 5%: A/B >= 1.05 or <= 1/1.05); inconclusive when the ratio is beyond the
             threshold but the test does not confirm it (too few repetitions or too much
             spread); same when the ratio is within the threshold; n/a when a side has no ok
             value
  n<5        a side has fewer than 5 ok repetitions (runs): the test has little power there (a
             warning is printed; Mann-Whitney with 3 vs 3 can never reach p < 0.05)
Without scipy (or with --rule range) the fallback is: a difference when both sides have 2+ ok
repetitions whose min–max ranges do not overlap, and the ratio is beyond the threshold (no
p-value, no correction; the legend says so).

Output: the table, failures, unmatched configurations, the per-run provenance when the runs
differ (commit, build type, flags, compiler, library versions, labels) and the host contexts
side by side on stdout; in the output directory (default <A stem>-vs-<B stem>-compare/ beside
the first file, or <stem>-<A>-vs-<B>-compare/ with --a/--b): ratios.csv, contexts.csv,
<workload>-compare.png/.svg (the metric of both sides against procs, colour = side, and A/B on a
log axis centred on 1 with its interval and verdict; 1200 x 500 px) and a self-contained
compare.html. Their paths are printed last.
"""

import argparse
import csv
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ipcsync_results as R  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import plot  # noqa: E402
import report  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter  # noqa: E402

try:
    from scipy.stats import mannwhitneyu  # noqa: F401
    HAVE_SCIPY = True
except Exception:            # scipy missing or broken: the range rule is used
    HAVE_SCIPY = False

RULES = ("auto", "mannwhitney", "range")
BASE_KEYS = ("workload", "primitive", "backend", "mode", "procs", "pin", "params")
PAIR = "pair"                # c2c: the PU pair is part of the configuration
SIDE_COLORS = {"A": "#1f77b4", "B": "#ff7f0e"}
VERDICT_COLORS = {"faster": "#2ca02c", "slower": "#d62728", "same": "white",
                  "inconclusive": "#f0c75e", "n/a": "0.8"}
RATIO_COLUMNS = ("metric", "unit", "runs_a", "runs_b", "single_run", "n_a", "n_b", "reps_a",
                 "reps_b", "a_median", "a_min", "a_max",
                 "b_median", "b_min", "b_max", "ratio", "ci_low", "ci_high", "p_value",
                 "p_adjusted", "verdict", "few_reps", "oversubscribed", "failures_a",
                 "failures_b")


# --------------------------------------------------------------------------------------------
# Options


def parse_threshold(text):
    """'5', '5%' or '12.5%' -> 0.05, 0.05, 0.125 (a percentage)."""
    value = text.strip().rstrip("%").strip()
    try:
        v = float(value)
    except ValueError:
        raise R.InputError(f"--threshold {text!r}: expected a percentage such as 5 or 5%")
    if not (0 <= v < 1000) or v != v:
        raise R.InputError(f"--threshold {text!r}: must be between 0 and 1000 (percent)")
    return v / 100.0


def parse_metric(text):
    metric = R.METRIC_ALIASES.get(text, text)
    if metric not in R.METRICS:
        raise R.InputError(f"--metric {text!r}: expected one of {', '.join(R.METRICS)} (or "
                           f"{', '.join(R.METRIC_ALIASES)})")
    return metric


def resolve_rule(rule):
    if rule == "auto":
        return "mannwhitney" if HAVE_SCIPY else "range"
    if rule == "mannwhitney" and not HAVE_SCIPY:
        raise R.InputError("--rule mannwhitney needs scipy (Debian: apt-get install "
                           "python3-scipy); use --rule range")
    return rule


# --------------------------------------------------------------------------------------------
# Sides


class Names:
    """Host names from the contexts of both sides (a host may be known to one only)."""

    def __init__(self, sides):
        self.sides = sides

    def host_name(self, host_id):
        for side in self.sides:
            name = side.rs.host_name(host_id)
            if name != host_id:
                return name
        return host_id


class Side:
    """One side of the comparison: its rows, the result set they come from, a label."""

    def __init__(self, name, rs, rows, label, conditions, path):
        self.name, self.rs, self.rows, self.label = name, rs, rows, label
        self.conditions, self.path = conditions, path

    def hosts(self):
        return sorted(self.rows["host_id"].unique())

    def context(self):
        """The host context of this side's rows, with only the runs behind them (so that
        commits, compilers and flags are this side's); None with several hosts."""
        hosts = self.hosts()
        ctx = self.rs.contexts.get(hosts[0]) if len(hosts) == 1 else None
        if ctx is None:
            return None
        runs = [{k: v for k, v in r.items() if k != "host_id"}
                for r in self.rs.used_runs(self.rows)]
        return dict(ctx, runs=runs)

    def title(self):
        return f"{self.name}: {self.label}"


def describe_conditions(conditions):
    by_key = {}
    for key, value in conditions:
        by_key.setdefault(key, []).append(value)
    return " ".join(f"{k}={'|'.join(v)}" for k, v in by_key.items())


def as_typed(conditions, backend):
    """A side's default label: its conditions as the user wrote them."""
    return " ".join(list(conditions or []) + ([f"backend={backend}"] if backend else []))


def make_sides(args):
    """The two Sides, from --a/--b (any files, pooled) or from the two files."""
    files = args.files
    if (args.backend_a is None) != (args.backend_b is None):
        raise R.InputError("give both --backend-a and --backend-b, or neither")
    if bool(args.side_a) != bool(args.side_b):
        raise R.InputError("give both --a and --b (KEY=VALUE each), or neither")
    cond_a = [R.parse_condition(c, "--a") for c in args.side_a or []]
    cond_b = [R.parse_condition(c, "--b") for c in args.side_b or []]
    if args.backend_a is not None:
        cond_a.append(("backend", args.backend_a))
        cond_b.append(("backend", args.backend_b))

    if args.side_a or (len(files) == 1 and args.backend_a is not None):
        rs = R.load(files, workload=args.workload)
        mask_a = R.matching(rs, cond_a, flag="--a" if args.side_a else "--backend-a")
        mask_b = R.matching(rs, cond_b, flag="--b" if args.side_b else "--backend-b")
        both = mask_a & mask_b
        if both.any():
            raise R.InputError(f"the sides overlap: {int(both.sum())} row(s) match both "
                               f"{describe_conditions(cond_a)} and {describe_conditions(cond_b)}"
                               f"; add a condition that tells them apart")
        label_a = args.label_a or as_typed(args.side_a, args.backend_a)
        label_b = args.label_b or as_typed(args.side_b, args.backend_b)
        if label_a == label_b:
            label_a, label_b = "A", "B"
        path = ", ".join(files)
        return (Side("A", rs, rs.rows[mask_a].reset_index(drop=True), label_a, cond_a, path),
                Side("B", rs, rs.rows[mask_b].reset_index(drop=True), label_b, cond_b, path))

    if len(files) == 1:
        raise R.InputError("one result file: give a second file to compare with, or choose "
                           "the sides with --a KEY=VALUE --b KEY=VALUE (or --backend-a X "
                           "--backend-b Y)")
    if len(files) > 2:
        raise R.InputError(f"{len(files)} result files: choose the sides with --a KEY=VALUE "
                           f"--b KEY=VALUE (e.g. --a host=X --b host=Y); without them the "
                           f"sides are two files")
    rs_a = R.load(files[0], workload=args.workload)
    rs_b = R.load(files[1], workload=args.workload)
    rows_a = rs_a.rows[R.matching(rs_a, cond_a, flag="--backend-a")] if cond_a else rs_a.rows
    rows_b = rs_b.rows[R.matching(rs_b, cond_b, flag="--backend-b")] if cond_b else rs_b.rows

    def stem(path):
        return os.path.splitext(os.path.basename(path))[0]

    hosts_a, hosts_b = set(rows_a["host_id"]), set(rows_b["host_id"])
    if hosts_a != hosts_b and len(hosts_a) == len(hosts_b) == 1:
        host_a, host_b = hosts_a.pop(), hosts_b.pop()
        base_a, base_b = rs_a.host_name(host_a), rs_b.host_name(host_b)
        if base_a == base_b:  # two machines of one name (every cloud VM is "vm"): their ids
            base_a, base_b = host_a, host_b
    else:
        base_a, base_b = stem(files[0]), stem(files[1])
    if base_a == base_b:
        base_a, base_b = "A", "B"
    label_a = args.label_a or " ".join(x for x in (base_a, args.backend_a) if x)
    label_b = args.label_b or " ".join(x for x in (base_b, args.backend_b) if x)
    return (Side("A", rs_a, rows_a.reset_index(drop=True), label_a,
                 [("source", files[0])] + cond_a, files[0]),
            Side("B", rs_b, rows_b.reset_index(drop=True), label_b,
                 [("source", files[1])] + cond_b, files[1]))


def default_out_dir(args, sides):
    stem = os.path.splitext(args.files[0])[0]
    if args.side_a or len(args.files) == 1:
        def part(side):
            return R.safe_name(describe_conditions(side.conditions).replace(" ", "_"))
        return f"{stem}-{part(sides[0])}-vs-{part(sides[1])}-compare"
    other = os.path.splitext(os.path.basename(args.files[1]))[0]
    tail = (f"-{R.safe_name(args.backend_a)}-vs-{R.safe_name(args.backend_b)}"
            if args.backend_a else "")
    return f"{stem}-vs-{other}{tail}-compare"


# --------------------------------------------------------------------------------------------
# Matching and statistics


def selecting_keys(sides):
    return {key for side in sides for key, _ in side.conditions}


def label_names(sides):
    names = set()
    for side in sides:
        for text in side.rows["labels"].unique():
            names.update(R.parse_labels(text))
        for run in side.rs.used_runs(side.rows):
            names.update((run.get("labels") or {}).keys())
    return sorted(names)


def side_table(side, label_keys):
    """The side's rows with a column per label key and the c2c pair."""
    t = side.rows.copy()
    for key in label_keys:
        t[key] = R.key_values(side.rs, key, side.rows).values if len(t) else []
    t[PAIR] = np.where(t["workload"] == R.C2C, t["pus"].astype(str), "")
    return t


def matching_keys(sides, tables):
    """(keys configurations are matched on, descriptive keys left out because they are
    constant within each side)."""
    chosen = selecting_keys(sides)
    keys = [k for k in BASE_KEYS if k not in chosen]
    if any((t[PAIR] != "").any() for t in tables):
        keys.append(PAIR)
    described = []
    labels = [c for c in tables[0].columns if c.startswith("label.")]
    for key in ["host_id"] + labels:
        if key in chosen or (key.startswith("label.") and "labels" in chosen):
            continue
        if any(t[key].nunique(dropna=False) > 1 for t in tables if len(t)):
            keys.append(key)
        else:
            described.append(key)
    return keys, described


def _values(group, metric):
    return list(R.ok_rows(group)[metric].dropna())


def _run_medians(group, metric):
    """The median of `metric` over each run's ok repetitions, one value per run."""
    ok = R.ok_rows(group)
    ok = ok[ok[metric].notna()]
    return [float(v) for v in ok.groupby("run_id", sort=True)[metric].median()]


def unit_values(ga, gb, metric):
    """(unit, A values, B values, runs of A, runs of B, single run): what the statistics
    count as one observation of a configuration.

    A run (one bench invocation) has its own memory layout and meets the machine in its own
    state, so repetitions of one run share an offset that repetitions cannot show. When the
    sides share runs (e.g. backend=native against backend=posix in one file), that offset is
    common to both and the unit is the repetition. When the sides are disjoint runs and each
    has 2 or more of them, the unit is the run: its median over its ok repetitions. When the
    sides are disjoint and a side is a single run, the unit is the repetition and the record
    is flagged `single_run`: the test cannot see the drift between runs."""
    runs_a = set(R.ok_rows(ga).dropna(subset=[metric])["run_id"])
    runs_b = set(R.ok_rows(gb).dropna(subset=[metric])["run_id"])
    n_a, n_b = len(runs_a), len(runs_b)
    if runs_a & runs_b or n_a < 2 or n_b < 2:
        single = not (runs_a & runs_b) and min(n_a, n_b) == 1
        return "repetition", _values(ga, metric), _values(gb, metric), n_a, n_b, single
    return "run", _run_medians(ga, metric), _run_medians(gb, metric), n_a, n_b, False


def compare_rows(tables, keys, metric, alpha, threshold, correction, rule):
    """(records, configurations only in A, only in B, configurations without the metric).
    Records are dicts with `keys` and RATIO_COLUMNS."""
    a_groups = dict(R.groups(tables[0], keys))
    b_groups = dict(R.groups(tables[1], keys))
    common = sorted(set(a_groups) & set(b_groups), key=lambda k: tuple(map(_sort_key, k)))
    records, pairs, tested, no_metric = [], [], [], 0
    higher = R.METRICS[metric][2]
    for key in common:
        ga, gb = a_groups[key], b_groups[key]
        unit, va, vb, runs_a, runs_b, single = unit_values(ga, gb, metric)
        if not va and not vb and len(R.ok_rows(ga)) and len(R.ok_rows(gb)):
            no_metric += 1                     # e.g. wake-ups of a workload that has none
            continue
        rec = dict(zip(keys, key))
        rec.update(metric=metric, unit=unit, runs_a=runs_a, runs_b=runs_b, single_run=single,
                   n_a=len(va), n_b=len(vb), reps_a=len(ga), reps_b=len(gb),
                   a_median=_med(va), a_min=min(va) if va else math.nan,
                   a_max=max(va) if va else math.nan, b_median=_med(vb),
                   b_min=min(vb) if vb else math.nan, b_max=max(vb) if vb else math.nan,
                   ratio=math.nan, ci_low=math.nan, ci_high=math.nan, p_value=None,
                   p_adjusted=None, verdict="n/a", few_reps=True,
                   failures_a=_failures(ga), failures_b=_failures(gb),
                   oversubscribed=",".join(s for s, g in (("A", ga), ("B", gb))
                                           if g["oversubscribed"].max()))
        if va and vb:
            pairs.append((va, vb))
            tested.append(rec)
        records.append(rec)
    for rec, res in zip(tested, R.judge(pairs, alpha, threshold, correction, higher, rule)):
        rec.update(ratio=res["ratio"], ci_low=res["ci_low"], ci_high=res["ci_high"],
                   p_value=res["p"], p_adjusted=res["p_adjusted"], verdict=res["verdict"],
                   few_reps=res["few"])
    only_a = sorted(set(a_groups) - set(b_groups), key=lambda k: tuple(map(_sort_key, k)))
    only_b = sorted(set(b_groups) - set(a_groups), key=lambda k: tuple(map(_sort_key, k)))
    return records, only_a, only_b, no_metric


def _sort_key(v):
    return (0, v, "") if isinstance(v, (int, float, np.integer, np.floating)) else (1, 0, str(v))


def _med(values):
    return float(np.median(values)) if values else math.nan


def _failures(group):
    return "; ".join(f"rep {r.repetition}: {r.status}" for r in R.failed_rows(group).itertuples())


# --------------------------------------------------------------------------------------------
# Text


def metric_fmt(metric):
    return R.fmt_rate if metric == "ops_per_sec" else R.fmt_us


def metric_title(metric):
    name, unit, _ = R.METRICS[metric]
    return f"{name} ({unit})"


def shown_keys(records, keys):
    """Key columns that vary across the table (the others are printed once)."""
    return [k for k in keys if len({r[k] for r in records}) > 1 or k in ("workload", "procs")]


def key_title(key):
    return {"host_id": "host"}.get(key, key)


def side_cell(r, side, fmt):
    """One side's median, its min–max and ok/total repetitions: '20M (19.6M–20.4M) n=3/3'."""
    med = r[f"{side}_median"]
    spread = (f" ({fmt(r[f'{side}_min'])}–{fmt(r[f'{side}_max'])})"
              if med == med and r[f"n_{side}"] > 1 else "")
    return f"{fmt(med)}{spread} n={r[f'n_{side}']}/{r[f'reps_{side}']}"


def fmt_p(p):
    if p is None or p != p:
        return "-"
    return f"{p:.2g}" if p >= 0.001 else f"{p:.1e}"


def ci_text(r):
    if r["ci_low"] != r["ci_low"]:
        return "-"
    return f"{R.fmt_ratio(r['ci_low'])}–{R.fmt_ratio(r['ci_high'])}"


def notes(r):
    out = []
    if r["n_a"] and r["n_b"] and r["few_reps"]:
        out.append(f"n<{R.MIN_REPS}" + (" runs" if r["unit"] == "run" else ""))
    if r["unit"] == "run":
        out.append(f"per run: {r['n_a']} vs {r['n_b']}")
    elif r["single_run"]:
        out.append("1 run")
    if r["oversubscribed"]:
        out.append(f"oversub {r['oversubscribed']}")
    return ", ".join(out)


def cell_text(rs_by_side, key, value):
    if key == "host_id":
        return rs_by_side.host_name(value)
    return str(value)


def table_headers(shown, sides, metric):
    unit = R.METRICS[metric][1]
    return ([key_title(k) for k in shown]
            + ["A/B", "95% CI", "verdict", "p adj", f"A: {sides[0].label} ({unit})",
               f"B: {sides[1].label} ({unit})", "notes"])


def table_rows(records, shown, metric, rs):
    fmt = metric_fmt(metric)
    return [[cell_text(rs, k, r[k]) for k in shown]
            + [R.fmt_ratio(r["ratio"]), ci_text(r), r["verdict"], fmt_p(r["p_adjusted"]),
               side_cell(r, "a", fmt), side_cell(r, "b", fmt), notes(r)]
            for r in records]


def legend_text(args, rule, metric, n_tested):
    higher = R.METRICS[metric][2]
    better = ("more ops/s" if higher else
              "less CPU time per op" if metric == "cpu_ns_per_op" else "lower latency")
    t = args.threshold * 100
    if rule == "mannwhitney":
        test = (f"two-sided Mann-Whitney U p-values adjusted across the {n_tested} compared "
                f"configurations ({R.CORRECTIONS[args.correction]}) below {args.alpha:g}")
    else:
        test = ("the range rule (scipy unavailable or --rule range): both sides have 2+ ok "
                "repetitions whose min–max ranges do not overlap; no p-value, no correction")
    return (f"verdict: faster/slower = A has {better}/the opposite, when both {test} and A/B "
            f"is beyond the practical threshold of {t:g}% (>= {1 + args.threshold:.3g} or <= "
            f"{1 / (1 + args.threshold):.3g}); inconclusive: beyond the threshold but the test "
            f"does not confirm it; same: within the threshold; n/a: a side has no ok value. "
            f"A/B = median(A) / median(B) over ok repetitions; 95% CI: percentile bootstrap of "
            f"log(median A / median B), {R.BOOTSTRAP_RESAMPLES} resamples, seed "
            f"{R.BOOTSTRAP_SEED}. n<5: a side has fewer than {R.MIN_REPS} ok repetitions (little "
            f"power). oversub: the side(s) where procs > PUs.")


def constant_note(records, keys, shown, rs):
    fixed = [f"{key_title(k)}={cell_text(rs, k, records[0][k])}" for k in keys
             if k not in shown]
    return ("all rows: " + ", ".join(fixed)) if fixed else ""


def described_note(sides, described):
    """What tells the sides apart beyond their conditions: constant keys that differ."""
    parts = []
    for key in described:
        values = []
        for side in sides:
            v = side.table[key].iloc[0] if len(side.table) else ""
            values.append(side.rs.host_name(v) if key == "host_id" else v)
        if values[0] != values[1]:
            parts.append(f"{key_title(key)}: A {values[0] or '-'}, B {values[1] or '-'}")
    return "; ".join(parts)


def few_warning(records):
    few = [r for r in records if r["n_a"] and r["n_b"] and r["few_reps"]]
    if not few:
        return ""
    by_run = [r for r in few if r["unit"] == "run"]
    what = (f"ok repetitions on a side" if not by_run else
            f"ok runs on a side (the unit where the sides are several runs each)"
            if len(by_run) == len(few) else
            f"ok repetitions (or runs, where the sides are several runs each) on a side")
    return (f"{len(few)} of {sum(1 for r in records if r['n_a'] and r['n_b'])} compared "
            f"configurations have fewer than {R.MIN_REPS} {what}: their verdicts have little "
            f"power (run bench with --repeat {R.MIN_REPS} or more"
            + (f", and alternate {R.MIN_REPS} or more runs per side" if by_run else "") + ")")


def single_run_warning(records):
    single = [r for r in records if r["single_run"]]
    if not single:
        return ""
    return (f"{len(single)} of {sum(1 for r in records if r['n_a'] and r['n_b'])} compared "
            f"configurations have a single bench run on a side, and the sides are different "
            f"runs: the test sees how repetitions of one run spread, not how runs differ "
            f"(memory layout, the machine's state), so a few percent between two runs of one "
            f"build can read as a difference. On one machine, alternate runs of the two sides "
            f"(A B A B ..., {R.MIN_REPS} or more each, e.g. bench --label side=A/B --out one "
            f"file): with 2 or more runs per side the run is the unit")


def excluded_text(sides):
    parts = []
    for side in sides:
        counts = R.status_counts(side.rows)
        parts.append(f"{side.name}: {counts or 'none'}")
    return "rows not ok (left out of every statistic): " + "; ".join(parts)


def provenance(sides):
    """(headers, rows) of the per-run provenance of both sides when runs differ, else None."""
    runs, where = [], {}
    for side in sides:
        for r in R.run_provenance(side.rs, side.rows):
            key = (r["host"], r["run_id"])
            if key in where:
                where[key]["side"] += f",{side.name}"
                continue
            rec = dict(r, side=side.name)
            where[key] = rec
            runs.append(rec)
    if len(runs) < 2:
        return None
    diffs = R.provenance_differences(runs)
    if not diffs:
        return None
    headers = ["side", "run", "host", "date"] + [title for title, _, _ in diffs]
    rows = [[r["side"], r["run_id"], r["host"], r["date"] or "-"]
            + [get(r) + (" (file)" if name in r["from_file"] else "") for _, name, get in diffs]
            for r in runs]
    return headers, rows


def context_rows(sides):
    return R.side_by_side_contexts([s.context() for s in sides])


def text_report(args, sides, records, keys, shown, only, rule, metric, extra):
    rs = Names(sides)
    lines = [f"A = {sides[0].label} ({sides[0].path})",
             f"B = {sides[1].label} ({sides[1].path})",
             f"metric: {metric_title(metric)}", "",
             R.format_table(table_headers(shown, sides, metric),
                            table_rows(records, shown, metric, rs)), ""]
    for note in (constant_note(records, keys, shown, rs), extra.get("described", "")):
        if note:
            lines.append(note)
    n_tested = sum(1 for r in records if r["n_a"] and r["n_b"])
    lines.append(legend_text(args, rule, metric, n_tested))
    lines.append(summary_line(records))
    lines.append(excluded_text(sides))
    for key in ("few", "single"):
        if extra.get(key):
            lines.append("warning: " + extra[key])
    if extra.get("no_metric"):
        lines.append(f"{extra['no_metric']} matched configuration(s) have no {metric} value on "
                     f"either side (the workload does not record it): not shown")
    if only[0] or only[1]:
        lines += ["", f"Unmatched: {len(only[0])} configuration(s) only in A, "
                      f"{len(only[1])} only in B"]
        for side, missing in zip(("A", "B"), only):
            lines += [f"  only in {side}: {' '.join(map(str, key))}" for key in missing]
    prov = provenance(sides)
    if prov:
        lines += ["", "Runs differ in their provenance", R.format_table(*prov)]
    lines += ["", "Hosts side by side",
              R.format_table(["field", f"A: {sides[0].label}", f"B: {sides[1].label}", ""],
                             [[label] + values + ["differs" if d else ""]
                              for label, values, d in context_rows(sides)])]
    return "\n".join(lines)


def summary_line(records):
    counts = {v: sum(1 for r in records if r["verdict"] == v) for v in R.VERDICTS}
    return ("verdicts: " + ", ".join(f"{counts[v]} {v}" for v in R.VERDICTS if counts[v])
            if records else "verdicts: none")


# --------------------------------------------------------------------------------------------
# Files


def write_ratios_csv(path, records, keys):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow([key_title(k) if k == "host_id" else k for k in keys] + list(RATIO_COLUMNS))
        for r in records:
            w.writerow([r[k] for k in keys] + [_csv_value(r[c]) for c in RATIO_COLUMNS])


def _csv_value(v):
    if v is None or (isinstance(v, float) and v != v):
        return ""
    if isinstance(v, bool):
        return int(v)
    return v


def write_contexts_csv(path, sides):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["field", sides[0].label, sides[1].label, "differs"])
        for label, values, differs in context_rows(sides):
            w.writerow([label] + values + [int(differs)])


# --------------------------------------------------------------------------------------------
# Plot


def side_points(table, metric, style_keys):
    """{combo of style keys: DataFrame(procs, median, min, max)} over ok rows."""
    ok = R.ok_rows(table).dropna(subset=[metric])
    out = {}
    for key, rows in (R.groups(ok, style_keys) if style_keys else [((), ok)]):
        if rows.empty:
            continue
        g = rows.groupby("procs")[metric]
        out[tuple(key)] = pd.DataFrame({"median": g.median(), "min": g.min(),
                                        "max": g.max()}).reset_index()
    return out


def plot_workload(workload, sides, records, keys, metric, threshold, out_dir):
    """The comparison figure of one workload (draw_workload) as PNG + SVG."""
    fig, _ = draw_workload(workload, sides, records, keys, metric, threshold)
    return plot.save(fig, out_dir, f"{R.safe_name(workload)}-compare")


def draw_workload(workload, sides, records, keys, metric, threshold):
    """(figure, axes). Left: the metric of both sides against procs (colour = side). Right:
    A/B on a log axis centred on 1, bars the 95% interval, markers coloured by verdict."""
    fig, axes = plot.new_figure(2, size=R.COMPARE_FIG_SIZE_IN, legend_width=0.22, top=0.82)
    tables = [s.table[s.table["workload"] == workload] for s in sides]
    both = pd.concat(tables)
    style_keys = [k for k in keys if k not in ("workload", "procs")
                  and both[k].nunique(dropna=False) > 1]
    combos = sorted({tuple(r) for r in both[style_keys].itertuples(index=False)}) \
        if style_keys else [()]
    styles = {c: plot.LINE_STYLES[i % len(plot.LINE_STYLES)] for i, c in enumerate(combos)}
    latency = metric != "ops_per_sec"
    scale = 1e-3 if latency else 1.0

    ax = axes[0]
    plot.setup_procs_axis(ax, both)
    drawn = False
    for side, table in zip(sides, tables):
        for combo, pts in side_points(table, metric, style_keys).items():
            ls, marker = styles[combo]
            drawn = True
            ax.errorbar(pts["procs"], pts["median"] * scale,
                        yerr=[(pts["median"] - pts["min"]) * scale,
                              (pts["max"] - pts["median"]) * scale],
                        capsize=3, color=SIDE_COLORS[side.name], linestyle=ls, marker=marker,
                        label=f"_{side.name} {combo}")
    if drawn:
        ax.set_yscale("log")
        plot.readable_log_ticks(ax, fmt=R.fmt_rate if not latency else plot.fmt_us_tick)
    else:
        plot.no_data(ax)
    ax.set_ylabel(f"{metric_title(metric)}, log")
    ax.set_title("median of ok repetitions, bars: min–max", fontsize=10)
    shaded = set()
    for i, side in enumerate(sides):
        hosts = tuple(side.hosts())
        if hosts in shaded:
            continue
        shaded.add(hosts)
        plot.shade_oversubscribed(ax, side.rs, side.rows[side.rows["workload"] == workload],
                                  name_hosts=len(sides[0].hosts() + sides[1].hosts()) > 1 and
                                  sides[0].hosts() != sides[1].hosts(), first_style=i)

    ax = axes[1]
    plot.setup_procs_axis(ax, both)
    table = [r for r in records if r["workload"] == workload and r["ratio"] == r["ratio"]]
    reach = math.log(1 + threshold) * 1.6
    for combo in combos:
        rows = sorted((r for r in table if tuple(r[k] for k in style_keys) == combo),
                      key=lambda r: r["procs"])
        if not rows:
            continue
        ls, marker = styles[combo]
        x = [r["procs"] for r in rows]
        y = [r["ratio"] for r in rows]
        low = [r["ratio"] - r["ci_low"] if r["ci_low"] == r["ci_low"] else 0 for r in rows]
        high = [r["ci_high"] - r["ratio"] if r["ci_high"] == r["ci_high"] else 0 for r in rows]
        ax.errorbar(x, y, yerr=[low, high], capsize=3, color="0.3", linestyle=ls,
                    marker="none", label=f"_ratio {combo}", zorder=3)
        ax.scatter(x, y, marker=marker, s=42, zorder=4, edgecolors="0.2",
                   c=[VERDICT_COLORS[r["verdict"]] for r in rows])
        for r in rows:
            for v in (r["ratio"], r["ci_low"], r["ci_high"]):
                if v == v and v > 0:
                    reach = max(reach, abs(math.log(v)) * 1.15)
    limit = math.exp(reach)
    ax.set_yscale("log")
    ax.set_ylim(1 / limit, limit)
    ax.axhspan(1 / (1 + threshold), 1 + threshold, color="0.9", zorder=0,
               label=f"within ±{threshold * 100:g}%\n(same, whatever p)")
    ax.axhline(1.0, color="0.4", linestyle="--", linewidth=1, label="A/B = 1 (equal)")
    plot.readable_log_ticks(ax, fmt=lambda v: f"{v:.3g}×")
    _symmetric_ratio_ticks(ax, limit)
    if not table:
        plot.no_data(ax, "no ratio: no ok runs on both sides")
    ax.set_ylabel(f"A/B of {R.METRICS[metric][0]} (log, bars: 95% CI)")
    ax.set_title("A/B, marker colour: verdict", fontsize=10)

    groups = [("side", [(Line2D([], [], color=SIDE_COLORS[s.name], linewidth=3), s.title())
                        for s in sides])]
    if style_keys:
        groups.append((" · ".join(key_title(k) for k in style_keys),
                       [(Line2D([], [], color="0.25", linestyle=ls, marker=m),
                         " · ".join(cell_text(Names(sides), k, v)
                                    for k, v in zip(style_keys, c)))
                        for c, (ls, m) in styles.items()]))
    groups.append(("verdict", [(Line2D([], [], linestyle="none", marker="o", markersize=7,
                                       markerfacecolor=VERDICT_COLORS[v], markeredgecolor="0.2"),
                                v) for v in ("faster", "slower", "same", "inconclusive")]))
    legend = _Legend(groups)
    plot.figure_legend(fig, axes, legend, fontsize=7, top=0.84)
    constants = [f"{key_title(k)} {cell_text(Names(sides), k, both[k].iloc[0])}"
                 for k in keys if k not in ("workload", "procs") and k not in style_keys
                 and len(both) and str(both[k].iloc[0]) != ""]
    fig.suptitle(f"{workload}: {metric_title(metric)} — A = {sides[0].label}  vs  "
                 f"B = {sides[1].label}" + (f"\n{' · '.join(constants)}" if constants else ""),
                 fontsize=10)
    return fig, axes


def _symmetric_ratio_ticks(ax, limit):
    """Ticks mirrored around 1 (x and 1/x) so the axis reads the same both ways."""
    up = [t for t in (1.01, 1.02, 1.05, 1.1, 1.25, 2, 4, 10, 100, 1000) if t <= limit]
    up = up[-3:] if len(up) > 3 else up
    ticks = sorted({1.0} | set(up) | {1 / t for t in up})
    if len(ticks) < 3:
        return
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}×"))
    ax.yaxis.set_minor_formatter(NullFormatter())


class _Legend:
    """What plot.figure_legend needs from a Styling: legend groups and no series labels."""

    def __init__(self, groups):
        self.groups = groups

    def legend_groups(self):
        return list(self.groups)

    def __iter__(self):
        return iter(())


# --------------------------------------------------------------------------------------------
# HTML


def html_page(args, sides, records, keys, shown, only, rule, metric, images, argv, extra):
    esc = report.esc
    rs = Names(sides)
    headers = table_headers(shown, sides, metric)
    rows = [[esc(c) for c in cells] for cells in table_rows(records, shown, metric, rs)]
    at = len(shown) + 2                                     # the verdict column
    for cells, r in zip(rows, records):
        cells[at] = f'<span class="verdict-{esc(r["verdict"].replace("/", ""))}">{cells[at]}</span>'
    classes = ["failed" if r["verdict"] == "n/a" else "over" if r["oversubscribed"] else ""
               for r in records]
    numeric = set(range(len(shown), len(headers) - 1)) - {at}
    notes_html = [legend_text(args, rule, metric, sum(1 for r in records if r["n_a"] and r["n_b"])),
                  summary_line(records), excluded_text(sides)]
    for note in (constant_note(records, keys, shown, rs), extra.get("described", "")):
        if note:
            notes_html.insert(0, note)
    ratio_html = ("".join(report.warning_box(extra[k]) for k in ("few", "single") if extra.get(k))
                  + report.table(headers, rows, classes, numeric)
                  + '<p class="note">' + "<br>".join(esc(n) for n in notes_html) + "</p>")
    unmatched = []
    for side, missing in zip(("A", "B"), only):
        for key in missing:
            unmatched.append(f"<li>only in {side}: {esc(' '.join(map(str, key)))}</li>")
    failures = [f"<li>{esc(' '.join(str(r[k]) for k in keys))}: A {esc(r['failures_a'] or 'ok')}"
                f"; B {esc(r['failures_b'] or 'ok')}</li>"
                for r in records if r["failures_a"] or r["failures_b"]]
    runs = []
    for side in sides:
        for run in side.rs.used_runs(side.rows):
            runs.append(f"# {side.label}: run {run.get('run_id')} "
                        f"(commit {run.get('git_commit', '?')})\n"
                        f"{run.get('command_line', '(no command line recorded)')}")
    runs.append("# this comparison\n" + report.command("compare.py", argv))
    prov = provenance(sides)
    sections = [
        ("contexts", "Hosts side by side", report.contexts_table(
            [s.title() for s in sides], [s.context() for s in sides])),
    ]
    if prov:
        sections.append(("provenance", "Runs differ in their provenance",
                         report.table(prov[0], [[esc(c) for c in row] for row in prov[1]])
                         + ('<p class="note">(file): not recorded per run by the bench that '
                            "wrote it; the file's host-level value.</p>"
                            if any(c.endswith(" (file)") for row in prov[1] for c in row)
                            else "")))
    sections += [
        ("ratios", f"Ratios of {metric_title(metric)}", ratio_html),
        ("plots", "Plots", "\n".join(report.img_tag(p, os.path.basename(p)) for p in images
                                      if p.endswith(".png")) or "<p>No plots.</p>"),
        ("unmatched", "Failures and unmatched configurations",
         "<ul>" + "\n".join(failures + unmatched) + "</ul>" if failures or unmatched
         else "<p>Every configuration matched and every repetition was ok.</p>"),
        ("reproduce", "Reproduce", f"<pre>{esc(chr(10).join(runs))}</pre>"),
    ]
    return report.page(f"ipcsync comparison: {sides[0].label} vs {sides[1].label}",
                       f"A = {esc(sides[0].label)} ({esc(sides[0].path)}), "
                       f"B = {esc(sides[1].label)} ({esc(sides[1].path)})", sections)


def write_outputs(args, argv, sides, records, keys, shown, only, rule, metric, extra):
    """ratios.csv, contexts.csv and (unless --no-plots) the figures and compare.html."""
    out_dir = args.out or default_out_dir(args, sides)
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as e:
        raise R.InputError(f"cannot create output directory {out_dir}: {e.strerror}")
    written = [os.path.join(out_dir, "ratios.csv"), os.path.join(out_dir, "contexts.csv")]
    write_ratios_csv(written[0], records, keys)
    write_contexts_csv(written[1], sides)
    if not args.no_plots:
        images = []
        for workload in sorted({r["workload"] for r in records} - {R.C2C}):
            images += plot_workload(workload, sides, records, keys, metric, args.threshold,
                                    out_dir)
        page_path = os.path.join(out_dir, "compare.html")
        report.write_text(page_path, html_page(args, sides, records, keys, shown, only, rule,
                                               metric, images, argv, extra))
        written += images + [page_path]
    return written


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    ap = argparse.ArgumentParser(prog="compare.py", description="Compare two sides of ipcsync "
                                 "results (files, or rows chosen by --a/--b KEY=VALUE): ratio "
                                 "of medians with a 95%% interval, a corrected test and a "
                                 "verdict per configuration; plots; host contexts and "
                                 "per-run provenance.")
    ap.add_argument("files", nargs="+", metavar="FILE.csv", help="result files: A and B, or "
                    "any number with --a/--b")
    ap.add_argument("--a", dest="side_a", action="append", metavar="KEY=VALUE",
                    help="rows of side A (repeatable): pin=compact, host=ID, run=ID, "
                         "label.smt=on, build_type=Debug, ...")
    ap.add_argument("--b", dest="side_b", action="append", metavar="KEY=VALUE",
                    help="rows of side B (repeatable)")
    ap.add_argument("--backend-a", help="use only this backend on side A")
    ap.add_argument("--backend-b", help="use only this backend on side B")
    ap.add_argument("--metric", default="ops_per_sec", type=parse_metric,
                    help="ops_per_sec (default; more is better), lat_p50_ns, lat_p99_ns, "
                         "wake_p50_ns or cpu_ns_per_op (less is better)")
    ap.add_argument("--threshold", default="5", type=parse_threshold, metavar="PERCENT",
                    help="practical threshold: a smaller difference is 'same' (5%%)")
    ap.add_argument("--alpha", type=float, default=0.05, help="significance level (0.05)")
    ap.add_argument("--correction", choices=sorted(R.CORRECTIONS), default="bh",
                    help="multiple comparisons across the table: bh (Benjamini-Hochberg, "
                         "default) or holm")
    ap.add_argument("--rule", choices=RULES, default="auto", help="significance rule: "
                    "mannwhitney (scipy), range (min–max ranges do not overlap), or auto "
                    "(mannwhitney if scipy imports, else range)")
    ap.add_argument("--label-a", help="name of A in tables and plots")
    ap.add_argument("--label-b", help="name of B in tables and plots")
    ap.add_argument("--workload", help="compare only this workload")
    ap.add_argument("--out", metavar="DIR", help="output directory (default: <A stem>-vs-<B "
                    "stem>-compare/ beside A)")
    ap.add_argument("--no-plots", action="store_true", help="tables only: no plots, no HTML")
    args = ap.parse_args(argv)
    if not 0 < args.alpha < 1:
        raise R.InputError(f"--alpha {args.alpha}: must be between 0 and 1")
    rule = resolve_rule(args.rule)
    if args.rule == "auto" and rule == "range":
        print("compare.py: warning: scipy is unavailable: using the range rule for "
              "significance", file=sys.stderr)
    sides = make_sides(args)
    for rs in {id(s.rs): s.rs for s in sides}.values():
        plot.warn(rs.warnings, "compare.py")
    labels = [f"label.{n}" for n in label_names(sides)]
    for side in sides:
        side.table = side_table(side, labels)
    keys, described = matching_keys(sides, [s.table for s in sides])
    metric = args.metric
    records, only_a, only_b, no_metric = compare_rows(
        [s.table for s in sides], keys, metric, args.alpha, args.threshold, args.correction,
        rule)
    if not records:
        raise R.InputError(
            f"no configuration matches between A ({sides[0].label}) and B ({sides[1].label})"
            + (f" with a {metric} value" if no_metric else "")
            + f"; configurations match on {', '.join(key_title(k) for k in keys)}"
            + ("" if args.side_a else " (choose the sides by a key instead, e.g. --a "
               "pin=compact --b pin=scatter)"))
    extra = {"few": few_warning(records), "single": single_run_warning(records),
             "no_metric": no_metric, "described": described_note(sides, described)}
    for key in ("few", "single"):
        if extra[key]:
            print(f"compare.py: warning: {extra[key]}", file=sys.stderr)
    shown = shown_keys(records, keys)
    written = write_outputs(args, argv, sides, records, keys, shown, (only_a, only_b), rule,
                            metric, extra)
    print(text_report(args, sides, records, keys, shown, (only_a, only_b), rule, metric, extra))
    print()
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    R.main_guard(main)

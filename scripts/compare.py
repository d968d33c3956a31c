#!/usr/bin/python3
"""compare.py — compare two ipcsync result sets: two machines, two commits or two backends.

    # two machines, or two commits on one machine
    /usr/bin/python3 scripts/compare.py A.csv B.csv
    # two backends in one file
    /usr/bin/python3 scripts/compare.py A.csv --backend-a native --backend-b posix
    # options: [--workload W] [--label-a L] [--label-b L] [--out DIR] [--alpha 0.05]
    #          [--rule auto|mannwhitney|range] [--no-plots]

Configurations match when workload, primitive, backend, mode, procs, pin and params are equal
(backend is left out when --backend-a/--backend-b pick one backend per side). For each match:

  A/B       median(A ops_per_sec) / median(B ops_per_sec) over the ok repetitions (> 1: A is
            faster), with its range min(A)/max(B) .. max(A)/min(B), and each side's min–max
  p50 A/B   median(A lat_p50_ns) / median(B lat_p50_ns) (< 1: A has lower latency)
  mark      *  significant: two-sided Mann-Whitney U on the ok repetitions' ops/s, p < alpha
               (scipy.stats.mannwhitneyu; exact for small samples without ties)
            ?  cannot be significant: with n and m ok repetitions the smallest two-sided p is
               2 / C(n+m, n), which is not below alpha (3 vs 3 gives 0.1; 4 vs 4 gives 0.029,
               so use --repeat 4 or more for alpha 0.05)
            !  a side has no ok repetition (failures are listed, never used in ratios)
            (blank)  not significant
  Without scipy (or with --rule range) the documented fallback is used: significant when the
  min–max ranges of the two sides do not overlap, each side having at least 2 ok repetitions
  ('?' otherwise).

Output: the ratio table, the unmatched configurations and the two host contexts side by side on
stdout; in the output directory (default <A stem>-vs-<B stem>-compare/ beside A): ratios.csv,
contexts.csv, <workload>-compare.png/.svg (A | B | A/B against procs, 1200 x 500 px) and a
self-contained compare.html with all of it. Their paths are printed last.
"""

import argparse
import csv
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ipcsync_results as R  # noqa: E402
import pandas as pd  # noqa: E402
import plot  # noqa: E402
import report  # noqa: E402

try:
    from scipy.stats import mannwhitneyu
except Exception:            # scipy missing or broken: the range rule is used
    mannwhitneyu = None

RULES = ("auto", "mannwhitney", "range")
SIGNIFICANT, NOT_SIGNIFICANT, TOO_FEW, FAILED = "*", "", "?", "!"
RATIO_COLUMNS = ("n_a", "n_b", "reps_a", "reps_b", "ops_a", "ops_a_min", "ops_a_max", "ops_b",
                 "ops_b_min", "ops_b_max", "ratio", "ratio_min", "ratio_max", "p50_a", "p50_b",
                 "p50_ratio", "p_value", "mark", "oversubscribed", "failures_a", "failures_b")


# --------------------------------------------------------------------------------------------
# Statistics


def min_two_sided_p(n, m):
    """The smallest two-sided p the exact Mann-Whitney U test can give for n vs m samples."""
    if n < 1 or m < 1:
        return 1.0
    return min(1.0, 2.0 / math.comb(n + m, n))


def resolve_rule(rule):
    if rule == "auto":
        return "mannwhitney" if mannwhitneyu is not None else "range"
    if rule == "mannwhitney" and mannwhitneyu is None:
        raise R.InputError("--rule mannwhitney needs scipy (Debian: apt-get install "
                           "python3-scipy); use --rule range")
    return rule


def significance(a, b, alpha, rule):
    """(p value or None, mark) for samples a and b under `rule` ('mannwhitney' or 'range')."""
    a, b = list(a), list(b)
    if not a or not b:
        return None, FAILED
    if rule == "range":
        if len(a) < 2 or len(b) < 2:
            return None, TOO_FEW
        apart = max(a) < min(b) or max(b) < min(a)
        return None, SIGNIFICANT if apart else NOT_SIGNIFICANT
    p = float(mannwhitneyu(a, b, alternative="two-sided").pvalue) if len(a + b) > 2 else 1.0
    if min_two_sided_p(len(a), len(b)) >= alpha:
        return p, TOO_FEW
    return p, SIGNIFICANT if p < alpha else NOT_SIGNIFICANT


def reps_needed(alpha):
    """The fewest repetitions per side for which p < alpha is possible."""
    n = 2
    while min_two_sided_p(n, n) >= alpha:
        n += 1
    return n


def _ratio(x, y):
    return x / y if (x == x and y == y and y != 0) else float("nan")


def compare_rows(a_rows, b_rows, keys, alpha, rule):
    """(ratio records, configurations only in A, only in B). Records are dicts with `keys`
    and RATIO_COLUMNS."""
    a_groups = dict(R.groups(a_rows, keys))
    b_groups = dict(R.groups(b_rows, keys))
    records = []
    for key in sorted(set(a_groups) & set(b_groups)):
        ga, gb = a_groups[key], b_groups[key]
        oa, ob = R.ok_rows(ga), R.ok_rows(gb)
        va, vb = list(oa["ops_per_sec"]), list(ob["ops_per_sec"])
        sa, sb = R.summarize(ga, keys).iloc[0], R.summarize(gb, keys).iloc[0]
        p, mark = significance(va, vb, alpha, rule)
        rec = dict(zip(keys, key))
        rec.update(
            n_a=len(va), n_b=len(vb), reps_a=len(ga), reps_b=len(gb),
            ops_a=sa["ops_median"], ops_a_min=sa["ops_min"], ops_a_max=sa["ops_max"],
            ops_b=sb["ops_median"], ops_b_min=sb["ops_min"], ops_b_max=sb["ops_max"],
            ratio=_ratio(sa["ops_median"], sb["ops_median"]),
            ratio_min=_ratio(sa["ops_min"], sb["ops_max"]),
            ratio_max=_ratio(sa["ops_max"], sb["ops_min"]),
            p50_a=sa["lat_p50_ns"], p50_b=sb["lat_p50_ns"],
            p50_ratio=_ratio(sa["lat_p50_ns"], sb["lat_p50_ns"]),
            p_value=p, mark=mark, failures_a=sa["failures"], failures_b=sb["failures"],
            oversubscribed=",".join(side for side, s in (("A", sa), ("B", sb))
                                    if s["oversubscribed"]))
        records.append(rec)
    only_a = sorted(set(a_groups) - set(b_groups))
    only_b = sorted(set(b_groups) - set(a_groups))
    return records, only_a, only_b


# --------------------------------------------------------------------------------------------
# Sides


class Side:
    """One result set of the comparison: rows (filtered by backend if given) and a label."""

    def __init__(self, rs, path, backend, label):
        self.rs, self.path, self.backend, self.label = rs, path, backend, label
        self.rows = rs.rows

    def hosts(self):
        return sorted(self.rows["host_id"].unique())

    def context(self):
        hosts = self.hosts()
        return self.rs.contexts.get(hosts[0]) if len(hosts) == 1 else None


def make_sides(args):
    if (args.backend_a is None) != (args.backend_b is None):
        raise R.InputError("give both --backend-a and --backend-b, or neither")
    if args.b is None and args.backend_a is None:
        raise R.InputError("one result file: give a second file to compare with, or "
                           "--backend-a X --backend-b Y to compare two backends in it")
    rs_a = R.load(args.a, workload=args.workload)
    rs_b = R.load(args.b, workload=args.workload) if args.b else rs_a
    rs_a = R.select(rs_a, backend=args.backend_a)
    rs_b = R.select(rs_b, backend=args.backend_b)
    def stem(path):
        return os.path.splitext(os.path.basename(path))[0]

    if args.b is None:
        base_a = base_b = ""
    else:
        hosts_a, hosts_b = set(rs_a.rows["host_id"]), set(rs_b.rows["host_id"])
        if hosts_a != hosts_b and len(hosts_a) == len(hosts_b) == 1:
            base_a, base_b = rs_a.host_name(hosts_a.pop()), rs_b.host_name(hosts_b.pop())
        else:
            base_a, base_b = stem(args.a), stem(args.b)
        if base_a == base_b:
            base_a, base_b = "A", "B"
    label_a = args.label_a or " ".join(x for x in (base_a, args.backend_a) if x)
    label_b = args.label_b or " ".join(x for x in (base_b, args.backend_b) if x)
    return (Side(rs_a, args.a, args.backend_a, label_a),
            Side(rs_b, args.b or args.a, args.backend_b, label_b))


def default_out_dir(args):
    stem = os.path.splitext(args.a)[0]
    if args.b is None:
        return f"{stem}-{R.safe_name(args.backend_a)}-vs-{R.safe_name(args.backend_b)}-compare"
    other = os.path.splitext(os.path.basename(args.b))[0]
    tail = (f"-{R.safe_name(args.backend_a)}-vs-{R.safe_name(args.backend_b)}"
            if args.backend_a else "")
    return f"{stem}-vs-{other}{tail}-compare"


# --------------------------------------------------------------------------------------------
# Output


def shown_keys(records, keys):
    """Key columns that vary across the table (the others are printed once)."""
    return [k for k in keys if len({r[k] for r in records}) > 1 or k in ("workload", "procs")]


def spread(lo, hi, fmt):
    return f"{fmt(lo)}–{fmt(hi)}" if lo == lo else "-"


def side_cell(r, side):
    """One side's median ops/s, its min–max and ok/total repetitions, e.g. '20M (19.6M–20.4M)
    n=3/3'."""
    return (f"{R.fmt_rate(r[f'ops_{side}'])} "
            f"({spread(r[f'ops_{side}_min'], r[f'ops_{side}_max'], R.fmt_rate)}) "
            f"n={r[f'n_{side}']}/{r[f'reps_{side}']}")


def table_rows(records, keys):
    rows = []
    for r in records:
        cells = [str(r[k]) for k in keys]
        cells += [side_cell(r, "a"), side_cell(r, "b"),
                  R.fmt_ratio(r["ratio"]),
                  spread(r["ratio_min"], r["ratio_max"], R.fmt_ratio),
                  R.fmt_ratio(r["p50_ratio"]),
                  "-" if r["p_value"] is None else f"{r['p_value']:.3g}",
                  r["oversubscribed"], r["mark"]]
        rows.append(cells)
    return rows


def table_headers(keys, sides):
    a, b = sides
    return keys + [f"A: {a.label} ops/s (min–max)", f"B: {b.label} ops/s (min–max)", "A/B",
                   "A/B range", "p50 A/B", "p", "oversub", "mark"]


def legend_text(alpha, rule):
    if rule == "mannwhitney":
        test = f"two-sided Mann-Whitney U (scipy), p < {alpha}"
        few = (f"cannot reach p < {alpha} with these repetitions (needs >= "
               f"{reps_needed(alpha)} ok repetitions per side)")
    else:
        test = "range rule: min–max ranges do not overlap (scipy unavailable or --rule range)"
        few = "fewer than 2 ok repetitions on a side"
    return (f"mark: * significant ({test}); ? {few}; ! a side has no ok repetition; "
            f"blank: not significant. "
            f"A/B > 1: A has more throughput; p50 A/B < 1: A has lower median latency. "
            f"oversub: the side(s) where procs > PUs.")


def constant_note(records, keys, shown):
    fixed = [f"{k}={records[0][k]}" for k in keys if k not in shown]
    return ("all rows: " + ", ".join(fixed)) if fixed else ""


def context_rows(sides):
    return R.side_by_side_contexts([s.context() for s in sides])


def write_ratios_csv(path, records, keys):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(list(keys) + list(RATIO_COLUMNS))
        for r in records:
            w.writerow([r[k] for k in keys] + ["" if r[c] is None or r[c] != r[c] else r[c]
                                               for c in RATIO_COLUMNS])


def write_contexts_csv(path, sides):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["field", sides[0].label, sides[1].label, "differs"])
        for label, values, differs in context_rows(sides):
            w.writerow([label] + values + [int(differs)])


def plot_workload(workload, sides, records, keys, out_dir):
    """A | B throughput against procs (shared y), and A/B with its range; PNG + SVG."""
    fig, axes = plot.new_figure(3, size=R.COMPARE_FIG_SIZE_IN, legend_width=0.2)
    series_keys = [k for k in R.SERIES_KEYS if k != "host_id"]
    same_hosts = sides[0].hosts() == sides[1].hosts()
    for i, (ax, side) in enumerate(zip(axes[:2], sides)):
        df = side.rows[side.rows["workload"] == workload]
        plot.draw_throughput(ax, side.rs, df, plot.make_series(side.rs, df, series_keys),
                             ideal=False, name_hosts=not same_hosts,
                             first_style=0 if same_hosts else i)
        ax.set_title(f"A: {side.label}" if side is sides[0] else f"B: {side.label}",
                     fontsize=10)
    drawn = [ax for ax in axes[:2] if ax.get_yscale() == "log"]     # sides with ok data
    if len(drawn) == 2:                                                # one scale for both
        low = min(ax.get_ylim()[0] for ax in drawn)
        high = max(ax.get_ylim()[1] for ax in drawn)
        for ax in drawn:
            ax.set_ylim(low, high)
    axes[1].set_ylabel("")

    ax = axes[2]
    table = pd.DataFrame([r for r in records if r["workload"] == workload])
    both = pd.concat([s.rows[s.rows["workload"] == workload] for s in sides])
    plot.setup_procs_axis(ax, both)
    group_keys = [k for k in keys if k not in ("workload", "procs")]
    drawn = False
    for key, rows in (R.groups(table, group_keys) if group_keys else [((), table)]):
        rows = rows.dropna(subset=["ratio"]).sort_values("procs")
        if rows.empty:
            continue
        drawn = True
        values = dict(zip(group_keys, key))
        backend = values.get("backend", sides[0].backend)
        # One backend per side: the ratio line is new to the legend; otherwise its colour
        # already names its backend in the A and B panels.
        variant = " ".join(str(values[k]) for k in group_keys if table[k].nunique() > 1)
        label = (f"A/B: {sides[0].backend}/{sides[1].backend} {variant}".strip()
                 if sides[0].backend else "_ratio")
        ax.errorbar(rows["procs"], rows["ratio"],
                    yerr=[rows["ratio"] - rows["ratio_min"], rows["ratio_max"] - rows["ratio"]],
                    capsize=3, marker="o", color=plot.BACKEND_COLORS.get(backend, "k"),
                    label=label)
        for r in rows.itertuples():
            if r.mark == SIGNIFICANT:
                ax.annotate("*", (r.procs, r.ratio), xytext=(4, 2), textcoords="offset points",
                            fontsize=12, color=plot.BACKEND_COLORS.get(backend, "k"))
    ax.axhline(1.0, color="0.4", linestyle="--", linewidth=1, label="A/B = 1 (equal)")
    if not drawn:
        plot.no_data(ax, "no ratio: no ok runs on both sides")
    ax.set_ylabel("throughput ratio A/B (bars: range)")
    ax.set_title("A/B (* significant)", fontsize=10)
    for i, side in enumerate(sides[:1] if same_hosts else sides):
        plot.shade_oversubscribed(ax, side.rs, side.rows[side.rows["workload"] == workload],
                                  name_hosts=not same_hosts, first_style=i)
    fig.suptitle(f"{workload}: A = {sides[0].label}  vs  B = {sides[1].label}", fontsize=11)
    plot.figure_legend(fig, axes, fontsize=7)
    return plot.save(fig, out_dir, f"{R.safe_name(workload)}-compare")


def html_page(sides, records, keys, shown, only, alpha, rule, images, argv):
    esc = report.esc
    headers = table_headers(shown, sides)
    rows = [[esc(c) for c in cells] for cells in table_rows(records, shown)]
    classes = ["failed" if r["mark"] == FAILED else "over" if r["oversubscribed"] else ""
               for r in records]
    numeric = set(range(len(shown) + 2, len(headers) - 2))
    note = constant_note(records, keys, shown)
    ratio_html = (report.table(headers, rows, classes, numeric)
                  + f'<p class="note">{esc(legend_text(alpha, rule))}'
                  + (f"<br>{esc(note)}" if note else "") + "</p>")
    unmatched = []
    for side, missing in zip(("A", "B"), only):
        for key in missing:
            unmatched.append(f"<li>only in {side}: {esc(' '.join(map(str, key)))}</li>")
    failures = [f"<li>{esc(' '.join(str(r[k]) for k in keys))}: A {esc(r['failures_a'] or 'ok')}"
                f"; B {esc(r['failures_b'] or 'ok')}</li>"
                for r in records if r["failures_a"] or r["failures_b"]]
    runs = []
    for side in sides:
        for run in side.rs.runs():
            if run.get("run_id") in set(side.rows["run_id"]):
                runs.append(f"# {side.label}: run {run.get('run_id')} "
                            f"(commit {run.get('git_commit', '?')})\n"
                            f"{run.get('command_line', '(no command line recorded)')}")
    runs.append("# this comparison\n" + report.command("compare.py", argv))
    sections = [
        ("contexts", "Hosts side by side", report.contexts_table(
            [f"A: {sides[0].label}", f"B: {sides[1].label}"], [s.context() for s in sides])),
        ("ratios", "Ratios", ratio_html),
        ("plots", "Plots", "\n".join(report.img_tag(p, os.path.basename(p)) for p in images
                                      if p.endswith(".png")) or "<p>No plots.</p>"),
        ("unmatched", "Failures and unmatched configurations",
         "<ul>" + "\n".join(failures + unmatched) + "</ul>" if failures or unmatched
         else "<p>Every configuration matched and every repetition was ok.</p>"),
        ("reproduce", "Reproduce", f"<pre>{esc(chr(10).join(runs))}</pre>"),
    ]
    return report.page(f"ipcsync comparison: {sides[0].label} vs {sides[1].label}",
                       f"A = {esc(sides[0].path)}, B = {esc(sides[1].path)}", sections)


def text_report(args, sides, records, keys, shown, only, rule):
    """What compare.py prints: the ratio table, unmatched configurations, hosts side by side."""
    lines = [f"A = {sides[0].label} ({sides[0].path})",
             f"B = {sides[1].label} ({sides[1].path})", "",
             R.format_table(table_headers(shown, sides), table_rows(records, shown)), ""]
    note = constant_note(records, keys, shown)
    if note:
        lines.append(note)
    lines.append(legend_text(args.alpha, rule))
    if only[0] or only[1]:
        lines += ["", f"Unmatched: {len(only[0])} configuration(s) only in A, "
                      f"{len(only[1])} only in B"]
        for side, missing in zip(("A", "B"), only):
            lines += [f"  only in {side}: {' '.join(map(str, key))}" for key in missing]
    lines += ["", "Hosts side by side",
              R.format_table(["field", f"A: {sides[0].label}", f"B: {sides[1].label}", ""],
                             [[label] + values + ["differs" if d else ""]
                              for label, values, d in context_rows(sides)])]
    return "\n".join(lines)


def write_outputs(args, argv, sides, records, keys, shown, only, rule):
    """ratios.csv, contexts.csv and (unless --no-plots) the figures and compare.html."""
    out_dir = args.out or default_out_dir(args)
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as e:
        raise R.InputError(f"cannot create output directory {out_dir}: {e.strerror}")
    written = [os.path.join(out_dir, "ratios.csv"), os.path.join(out_dir, "contexts.csv")]
    write_ratios_csv(written[0], records, keys)
    write_contexts_csv(written[1], sides)
    if not args.no_plots:
        images = []
        for workload in sorted({r["workload"] for r in records}):
            images += plot_workload(workload, sides, records, keys, out_dir)
        page_path = os.path.join(out_dir, "compare.html")
        report.write_text(page_path, html_page(sides, records, keys, shown, only, args.alpha,
                                               rule, images, argv))
        written += images + [page_path]
    return written


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    ap = argparse.ArgumentParser(prog="compare.py", description="Compare two ipcsync result "
                                 "sets (machines, commits or backends): ratio table with spread "
                                 "and significance, side-by-side plots and host contexts.")
    ap.add_argument("a", metavar="A.csv", help="result set A")
    ap.add_argument("b", metavar="B.csv", nargs="?", help="result set B (default: A again, "
                    "with --backend-a/--backend-b)")
    ap.add_argument("--backend-a", help="use only this backend from A (compare backends)")
    ap.add_argument("--backend-b", help="use only this backend from B")
    ap.add_argument("--label-a", help="name of A in tables and plots")
    ap.add_argument("--label-b", help="name of B in tables and plots")
    ap.add_argument("--workload", help="compare only this workload")
    ap.add_argument("--out", metavar="DIR", help="output directory (default: "
                    "<A stem>-vs-<B stem>-compare/ beside A)")
    ap.add_argument("--alpha", type=float, default=0.05, help="significance level (0.05)")
    ap.add_argument("--rule", choices=RULES, default="auto", help="significance rule: "
                    "mannwhitney (scipy), range (min–max ranges do not overlap), or auto "
                    "(mannwhitney if scipy imports, else range)")
    ap.add_argument("--no-plots", action="store_true", help="tables only: no plots, no HTML")
    args = ap.parse_args(argv)
    if not 0 < args.alpha < 1:
        raise R.InputError(f"--alpha {args.alpha}: must be between 0 and 1")
    rule = resolve_rule(args.rule)
    if args.rule == "auto" and rule == "range":
        print("compare.py: warning: scipy is unavailable: using the range rule for "
              "significance", file=sys.stderr)
    sides = make_sides(args)
    for side in sides:
        plot.warn(side.rs.warnings, "compare.py")
    keys = [k for k in R.CONFIG_KEYS if not (k == "backend" and args.backend_a)]
    records, only_a, only_b = compare_rows(sides[0].rows, sides[1].rows, keys, args.alpha, rule)
    if not records:
        raise R.InputError(
            f"no configuration matches between A ({sides[0].path}) and B ({sides[1].path}); "
            f"configurations match on {', '.join(keys)}")

    shown = shown_keys(records, keys)
    written = write_outputs(args, argv, sides, records, keys, shown, (only_a, only_b), rule)
    print(text_report(args, sides, records, keys, shown, (only_a, only_b), rule))
    print()
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    R.main_guard(main)

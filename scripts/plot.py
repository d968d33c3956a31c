#!/usr/bin/python3
"""plot.py — per-workload plots of ipcsync results, as PNG and SVG.

    /usr/bin/python3 scripts/plot.py results/<host>/<date>.csv [more.csv ...]
        [--out DIR] [--workload W] [--run-id ID]

For each workload, four figures (each 1000 x 600 px as PNG, plus the same as SVG):
  <workload>-throughput  median ops/s against procs per backend, min–max bars over the ok
                         repetitions, a dotted ideal linear-scaling line per backend (from its
                         lowest procs), failed repetitions marked on the x axis (never plotted
                         as throughput)
  <workload>-latency     p50, p99 and p99.9 per-operation latency against procs
  <workload>-cdf         latency CDF per backend, drawn through the CSV's percentile points
                         (p50, p90, p99, p99.9, max) at the lowest procs, the most procs that fit
                         the PUs, and the most procs
  <workload>-fairness    Jain's fairness index against procs (1 = every worker did equal work)
In every procs plot the oversubscribed region (procs > PUs of the host) is shaded.

One line per written file is printed. The default output directory is <first CSV stem>-plots/
beside the first CSV. Several CSVs (e.g. two hosts) are drawn on the same axes; a line's label
names what differs between lines (host, backend, mode, pin, params).
"""

import argparse
import os
import sys
import textwrap

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ipcsync_results as R  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import (LogFormatter, NullFormatter, NullLocator,  # noqa: E402
                               ScalarFormatter)

plt.rcParams["svg.hashsalt"] = "ipcsync"     # reproducible SVG ids

KINDS = ("throughput", "latency", "cdf", "fairness")
FORMATS = ("png", "svg")
BACKEND_COLORS = {"native": "C0", "posix": "C1", "boost": "C2", "spin": "C3", "python": "C4"}
LINE_STYLES = (("-", "o"), ("--", "s"), ("-.", "^"), ((0, (1, 1)), "D"), ((0, (5, 1, 1, 1)), "v"))
SHADES = (("0.80", None), ("0.88", "//"), ("0.92", "\\\\"))
LATENCY_PANELS = (("lat_p50_ns", "p50"), ("lat_p99_ns", "p99"), ("lat_p999_ns", "p99.9"))
CDF_NOTE = "drawn through the CSV's percentile points (p50, p90, p99, p99.9, max), not raw samples"
CDF_MAX_AT = 0.9999          # where "max" sits on the logit axis (1.0 cannot be drawn)
MAX_PROCS_TICKS = 10


# --------------------------------------------------------------------------------------------
# Series: the lines of one workload's plots


class Series:
    """The rows of one line: one value of SERIES_KEYS (host, primitive, backend, ...)."""

    def __init__(self, rows, label, color, linestyle, marker):
        self.rows, self.label = rows, label
        self.color, self.linestyle, self.marker = color, linestyle, marker
        self._stats = None

    def stats(self):
        """Per procs: median/min/max ops/s, median percentiles and fairness (ok rows only)."""
        if self._stats is None:
            self._stats = R.summarize(self.rows, ["procs"])
        return self._stats

    def style(self):
        return dict(color=self.color, linestyle=self.linestyle, marker=self.marker)


def make_series(rs, df, keys=R.SERIES_KEYS):
    """Split `df` into Series. A label names the backend plus whatever else varies; colour
    follows the backend, line style the other varying keys."""
    shown = [k for k in keys if k == "backend" or k in R.varying(df, keys)]
    other = [k for k in shown if k != "backend"]
    combos = sorted({tuple(r) for r in df[other].itertuples(index=False)}) if other else [()]
    extra_colors = iter(f"C{i}" for i in range(5, 10))
    colors = dict(BACKEND_COLORS)
    out = []
    for key, rows in R.groups(df, shown):
        values = dict(zip(shown, key))
        parts = []
        for k in shown:
            v = values[k]
            parts.append(rs.host_name(v) if k == "host_id" else
                         v if k in ("backend", "primitive", "mode") else f"{k} {v}")
        backend = values["backend"]
        if backend not in colors:
            colors[backend] = next(extra_colors, "k")
        linestyle, marker = LINE_STYLES[combos.index(tuple(values[k] for k in other))
                                        % len(LINE_STYLES)]
        label = "\n".join(textwrap.wrap(" ".join(parts), 30))
        out.append(Series(rows, label, colors[backend], linestyle, marker))
    return out


# --------------------------------------------------------------------------------------------
# Axes helpers


class ShortLogFormatter(LogFormatter):
    """Log-axis labels as 12M or 3.2 µs instead of 1.2×10^7 (same choice of labelled ticks)."""

    def __init__(self, fmt):
        super().__init__(labelOnlyBase=False)
        self.fmt = fmt

    def _num_to_string(self, x, vmin, vmax):
        return self.fmt(x)


def short_log_labels(axis, fmt):
    axis.set_major_formatter(ShortLogFormatter(fmt))
    axis.set_minor_formatter(ShortLogFormatter(fmt))


def setup_procs_axis(ax, df):
    procs = sorted(df["procs"].unique())
    ax.set_xscale("log", base=2)
    ax.set_xlim(procs[0] / 1.4, procs[-1] * 1.4)
    if len(procs) > MAX_PROCS_TICKS:       # e.g. 1..32: label powers of two and the last
        procs = [p for p in procs if p & (p - 1) == 0 or p == procs[-1]]
    ax.set_xticks(procs)
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("procs (workers)")
    ax.grid(True, which="major", alpha=0.3)


def shade_oversubscribed(ax, rs, df, name_hosts=None, first_style=0):
    """Shade procs > PUs for each host in `df` whose rows reach past its PUs. Hosts are named
    in the label when there are several (or when `name_hosts` says so)."""
    hosts = sorted(df["host_id"].unique())
    name_hosts = len(hosts) > 1 if name_hosts is None else name_hosts
    right = ax.get_xlim()[1]
    for i, host in enumerate(hosts, first_style):
        pus = rs.pus(host)
        if not pus or not (df.loc[df["host_id"] == host, "procs"] > pus).any():
            continue
        color, hatch = SHADES[i % len(SHADES)]
        where = f" on {rs.host_name(host)}" if name_hosts else ""
        ax.axvspan(pus + 0.5, right, color=color, alpha=0.35, hatch=hatch, lw=0, zorder=0,
                   label=f"oversubscribed{where}\n(procs > {pus} PUs)")
    ax.set_xlim(right=right)


def mark_failures(ax, df):
    """A red x on the x axis at each procs with failed repetitions (with their count)."""
    failed = R.failed_rows(df)
    for procs, group in failed.groupby("procs"):
        ax.plot([procs], [0.03], transform=ax.get_xaxis_transform(), marker="x", color="red",
                markersize=10, mew=2, linestyle="none", clip_on=False, zorder=5,
                label="failed repetition\n(not plotted)")
        ax.annotate(f"{len(group)} failed", (procs, 0.03), xycoords=ax.get_xaxis_transform(),
                    xytext=(6, 4), textcoords="offset points", color="red", fontsize=8)


def no_data(ax, text="no successful runs"):
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="0.4")
    ax.set_yticks([])


def draw_throughput(ax, rs, df, series, ideal=True, **shade):
    """Median ops/s with min–max bars per series; dotted ideal linear scaling per series.
    `shade` goes to shade_oversubscribed."""
    setup_procs_axis(ax, df)
    drawn = False
    for s in series:
        st = s.stats().dropna(subset=["ops_median"])
        if st.empty:
            continue
        drawn = True
        ax.errorbar(st["procs"], st["ops_median"],
                    yerr=[st["ops_median"] - st["ops_min"], st["ops_max"] - st["ops_median"]],
                    capsize=3, label=s.label, **s.style())
        if ideal:
            p0, base = st["procs"].iloc[0], st["ops_median"].iloc[0]
            ax.plot(st["procs"], base * st["procs"] / p0, color=s.color, linestyle=":",
                    linewidth=1, alpha=0.7, label="_ideal")
    if drawn:
        ax.set_yscale("log")
        short_log_labels(ax.yaxis, R.fmt_rate)
    else:
        no_data(ax)
    if drawn and ideal:
        ax.plot([], [], color="0.3", linestyle=":", linewidth=1,
                label="ideal linear scaling\n(from lowest procs)")
    ax.set_ylabel("throughput (ops/s, log scale)")
    shade_oversubscribed(ax, rs, df, **shade)
    mark_failures(ax, df)


def draw_metric(ax, rs, df, series, column, ylabel, log_fmt=None):
    """Median of `column` over ok repetitions against procs, per series."""
    setup_procs_axis(ax, df)
    drawn = False
    for s in series:
        st = s.stats().dropna(subset=[column])
        if st.empty:
            continue
        drawn = True
        ax.plot(st["procs"], st[column], label=s.label, **s.style())
    if drawn and log_fmt:
        ax.set_yscale("log")
        short_log_labels(ax.yaxis, log_fmt)
    if not drawn:
        no_data(ax)
    ax.set_ylabel(ylabel)
    shade_oversubscribed(ax, rs, df)
    return drawn


def draw_cdf(ax, rs, df, series, procs):
    """Latency CDF at `procs` through the percentile points of each series (log x)."""
    drawn = False
    for s in series:
        st = s.stats()
        st = st[st["procs"] == procs]
        if st.empty:
            continue
        points = [(st[c].iloc[0], min(q, CDF_MAX_AT)) for c, q, _ in R.PERCENTILES]
        points = [(x, q) for x, q in points if x == x and x > 0]
        if not points:
            continue
        drawn = True
        ax.plot([x for x, _ in points], [q for _, q in points], label=s.label, **s.style())
    ax.set_xscale("log")
    short_log_labels(ax.xaxis, R.fmt_ns)
    ax.set_yscale("logit")
    ax.set_ylim(0.4, 0.99995)
    ax.set_yticks([q if q < 1 else CDF_MAX_AT for _, q, _ in R.PERCENTILES])
    ax.set_yticklabels([name for _, _, name in R.PERCENTILES])
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("latency per operation (log)")
    ax.grid(True, alpha=0.3)
    at = df[df["procs"] == procs]
    over = sorted(at.loc[at["oversubscribed"] == 1, "host_id"].unique())
    note = ""
    if over and len(over) == at["host_id"].nunique():
        note = " (oversubscribed)"
    elif over:
        note = f" (oversubscribed on {', '.join(rs.host_name(h) for h in over)})"
    ax.set_title(f"procs {procs}{note}", fontsize=10)
    if over:
        ax.set_facecolor("#f0f0f0")
    if not drawn:
        no_data(ax)


def cdf_procs(df):
    """The procs shown in the CDF: lowest, most that fit every host's PUs, most."""
    procs = sorted(df["procs"].unique())
    fitting = sorted(df.loc[df["oversubscribed"] == 0, "procs"].unique())
    chosen = [procs[0]] + ([fitting[-1]] if fitting else []) + [procs[-1]]
    return sorted(set(chosen))


def new_figure(ncols=1, size=R.FIG_SIZE_IN, legend_width=0.24):
    fig, axes = plt.subplots(1, ncols, figsize=size, dpi=R.FIG_DPI, squeeze=False)
    fig.subplots_adjust(left=0.08, right=1.0 - legend_width, top=0.86, bottom=0.11, wspace=0.32)
    return fig, list(axes[0])


def figure_legend(fig, axes, fontsize=8):
    """One legend for the whole figure, at the right, without duplicate labels."""
    seen = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if not label.startswith("_") and label not in seen:
                seen[label] = handle
    if seen:
        fig.legend(list(seen.values()), list(seen.keys()), loc="upper right",
                   bbox_to_anchor=(0.995, 0.86), fontsize=fontsize, frameon=False)


def save(fig, out_dir, stem):
    """Write stem.png and stem.svg; return their paths."""
    paths = []
    for ext in FORMATS:
        path = os.path.join(out_dir, f"{stem}.{ext}")
        fig.savefig(path, dpi=R.FIG_DPI, metadata={"Date": None} if ext == "svg" else None)
        paths.append(path)
    plt.close(fig)
    return paths


def hosts_title(rs, df):
    parts = []
    for host in sorted(df["host_id"].unique()):
        pus = rs.pus(host)
        parts.append(f"{rs.host_name(host)}" + (f" ({pus} PUs)" if pus else ""))
    return ", ".join(parts)


# --------------------------------------------------------------------------------------------
# Figures


def plot_workload(rs, workload, out_dir):
    """Write the four figures of one workload; return the written paths."""
    df = rs.rows[rs.rows["workload"] == workload]
    series = make_series(rs, df)
    where = hosts_title(rs, df)
    stem = R.safe_name(workload)
    paths = []

    fig, (ax,) = new_figure()
    draw_throughput(ax, rs, df, series)
    ax.set_title("median of ok repetitions, bars: min–max", fontsize=10)
    fig.suptitle(f"{workload}: throughput vs procs — {where}")
    figure_legend(fig, [ax])
    paths += save(fig, out_dir, f"{stem}-throughput")

    fig, axes = new_figure(len(LATENCY_PANELS))
    for ax, (column, name) in zip(axes, LATENCY_PANELS):
        draw_metric(ax, rs, df, series, column, f"{name} latency (log)", log_fmt=R.fmt_ns)
        ax.set_title(name, fontsize=10)
    fig.suptitle(f"{workload}: latency percentiles per operation (median of ok repetitions) "
                 f"— {where}", fontsize=11)
    figure_legend(fig, axes)
    paths += save(fig, out_dir, f"{stem}-latency")

    chosen = cdf_procs(df)
    fig, axes = new_figure(len(chosen))
    for ax, procs in zip(axes, chosen):
        draw_cdf(ax, rs, df, series, procs)
    axes[0].set_ylabel("cumulative fraction (logit)")
    fig.suptitle(f"{workload}: latency CDF — {where}\n{CDF_NOTE}", fontsize=10)
    figure_legend(fig, axes)
    paths += save(fig, out_dir, f"{stem}-cdf")

    fig, (ax,) = new_figure()
    if draw_metric(ax, rs, df, series, "fairness", "Jain's fairness index"):
        procs = sorted(df["procs"].unique())
        ax.plot(procs, [1.0 / p for p in procs], color="0.5", linestyle=":", linewidth=1,
                label="least fair possible\n(1/procs: one worker did all)")
        ax.axhline(1.0, color="0.5", linestyle="--", linewidth=1, label="perfectly fair (1)")
        ax.set_ylim(0, 1.05)
    mark_failures(ax, df)
    ax.set_title("median of ok repetitions", fontsize=10)
    fig.suptitle(f"{workload}: fairness of work across workers — {where}")
    figure_legend(fig, [ax])
    paths += save(fig, out_dir, f"{stem}-fairness")
    return paths


def plot_all(rs, out_dir, workloads=None):
    """Plot every workload (or those given); return {workload: [paths]}."""
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as e:
        raise R.InputError(f"cannot create output directory {out_dir}: {e.strerror}")
    return {w: plot_workload(rs, w, out_dir) for w in (workloads or rs.workloads())}


def default_out_dir(csv_path, suffix="plots"):
    stem = os.path.splitext(csv_path)[0]
    return f"{stem}-{suffix}"


def warn(warnings, prog):
    for w in warnings:
        print(f"{prog}: warning: {w}", file=sys.stderr)


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="plot.py", description="Plot ipcsync results: throughput, latency percentiles, "
        "latency CDF and fairness per workload, as PNG and SVG.")
    ap.add_argument("files", nargs="+", metavar="FILE.csv", help="results CSV(s)")
    ap.add_argument("--out", metavar="DIR",
                    help="output directory (default: <first CSV stem>-plots/ beside it)")
    ap.add_argument("--workload", help="plot only this workload")
    ap.add_argument("--run-id", help="plot only the rows of this run")
    args = ap.parse_args(argv)
    rs = R.load(args.files, workload=args.workload, run_id=args.run_id)
    warn(rs.warnings, "plot.py")
    out_dir = args.out or default_out_dir(args.files[0])
    for paths in plot_all(rs, out_dir).values():
        for path in paths:
            print(path)
    return 0


if __name__ == "__main__":
    R.main_guard(main)

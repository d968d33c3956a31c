#!/usr/bin/python3
"""plot.py — per-workload plots of ipcsync results, as PNG and SVG.

    /usr/bin/python3 scripts/plot.py results/<host>/<date>.csv [more.csv ...]
        [--out DIR] [--workload W] [--run-id ID]

For each workload, these figures (each 1000 x 600 px as PNG, plus the same as SVG):
  <workload>-throughput  median ops/s against procs per series, min–max bars over the ok
                         repetitions; for counter-like workloads (each worker does its own ops:
                         counter, rlock_nested, pool_counter, ...) a dotted ideal linear-scaling
                         line per series from its lowest procs up to the host's PU count; failed
                         repetitions marked on the x axis (never plotted as throughput)
  <workload>-latency     p50, p99 and p99.9 per-operation latency (µs) against procs
  <workload>-cdf         latency CDF per series, drawn through the CSV's percentile points
                         (p50, p90, p99, p99.9, max) at the lowest procs, the most procs that fit
                         the PUs, and the most procs
                         (these two are not drawn when the workload's ok rows carry no latency:
                         bounded_buffer times no single op, only its hand-offs, in the wake-up
                         figure; one line on stderr says so)
  <workload>-fairness    fairness (Jain's index of the work per worker) against procs
  <workload>-wakeup      wake-up latency p50 and p99 (µs, notify to waiter running) against
                         procs, only for workloads that record wake-ups; with one host whose
                         cache-line floor is known, the right axis reads it as multiples of it
The c2c workload (one row per PU pair) gets one figure instead, c2c-heatmap (c2c-heatmap-<host>
per host when there are several): the round trip p50 and p99 between every two PUs, as a
symmetric matrix with the diagonal blank.

A panel with nothing to draw says why: "no successful runs" only when no row is ok.
In every procs plot the oversubscribed region (procs > PUs of the host) is shaded. event_broadcast
at procs 1 (a broadcaster with no listener) is left out, and the figure says so. Colour is the
host when several hosts are drawn, else the backend; line style and marker tell apart what else
varies; the legend has one block per group, and what is the same for every line is in the title.

One line per written file is printed. The default output directory is <first CSV stem>-plots/
beside the first CSV, or <first CSV stem>-run-<run_id>-plots/ with --run-id.
"""

import argparse
import math
import os
import sys
import textwrap

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ipcsync_results as R  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import (FixedLocator, FuncFormatter, MaxNLocator,  # noqa: E402
                               NullFormatter, NullLocator, ScalarFormatter)

plt.rcParams["svg.hashsalt"] = "ipcsync"     # reproducible SVG ids

KINDS = ("throughput", "latency", "cdf", "fairness")      # every workload but c2c
WAKE_KIND = "wakeup"                                       # workloads with wake-ups
HEATMAP_KIND = "heatmap"                                   # c2c
FORMATS = ("png", "svg")
BACKEND_COLORS = {"native": "C0", "posix": "C1", "boost": "C2", "spin": "C3", "python": "C4"}
HOST_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2")
# Series line styles (never the sparse dots of the ideal-scaling line, IDEAL_STYLE).
LINE_STYLES = (("-", "o"), ("--", "s"), ("-.", "^"), ((0, (10, 3)), "D"),
               ((0, (3, 1, 1, 1, 1, 1)), "v"), ((0, (6, 2, 1, 2)), "P"), ((0, (2, 1)), "X"),
               ((0, (12, 2, 2, 2)), "h"))
IDEAL_STYLE = (0, (1, 3))
SHADES = (("0.80", None), ("0.88", "//"), ("0.92", "\\\\"))
LATENCY_PANELS = (("lat_p50_ns", "p50"), ("lat_p99_ns", "p99"), ("lat_p999_ns", "p99.9"))
WAKE_PANELS = (("wake_p50_ns", "wake-up p50"), ("wake_p99_ns", "wake-up p99"))
LATENCY_COLUMNS = tuple(c for c, _, _ in R.PERCENTILES)     # what the latency and CDF draw
WAKE_COLUMNS = tuple(c for c, _ in WAKE_PANELS)              # what the wake-up figure draws
NO_OK_ROWS = "no successful runs"
SUPTITLE_WRAP = 110          # characters per subtitle line: 120 ran past 1000 px at 11 pt
CDF_NOTE = "drawn through the CSV's percentile points (p50, p90, p99, p99.9, max), not raw samples"
CDF_MAX_AT = 0.9999          # where "max" sits on the logit axis (1.0 cannot be drawn)
MAX_PROCS_TICKS = 10
MIN_LABELLED_TICKS = 2
HEATMAP_ANNOTATE_MAX = 16    # write the value in each cell up to this many PUs
KEY_TITLES = {"host_id": "host", "backend": "backend", "primitive": "primitive", "mode": "mode",
              "pin": "pin", "params": "params", "labels": "labels", "side": "side"}


def us(values):
    """ns -> µs (the unit of every latency drawn)."""
    return np.asarray(values, dtype=float) / 1000.0


def fmt_us_tick(x):
    """A µs tick label: 0.05, 0.1, 1, 12.5, 1000."""
    return f"{x:.0f}" if x >= 100 else f"{x:.3g}"


# --------------------------------------------------------------------------------------------
# Series: the lines of one workload's plots, and how they are told apart


class Series:
    """The rows of one line: one value of the series keys (host, primitive, backend, ...)."""

    def __init__(self, rows, label, color, linestyle, marker, values):
        self.rows, self.label, self.values = rows, label, values
        self.color, self.linestyle, self.marker = color, linestyle, marker
        self._stats = None

    def stats(self):
        """Per procs: median/min/max ops/s, median percentiles and fairness (ok rows only)."""
        if self._stats is None:
            self._stats = R.summarize(self.rows, ["procs"])
        return self._stats

    def style(self):
        return dict(color=self.color, linestyle=self.linestyle, marker=self.marker)

    def host(self):
        return self.rows["host_id"].iloc[0]


def describe(rs, key, value):
    """How one key's value reads in a legend or title."""
    if key == "host_id":
        return rs.host_name(value)
    if key == "pin":
        return f"pin {value}"
    if key == "labels":
        return value or "no labels"
    return str(value)


class Styling:
    """Series of a figure plus what the legend and title need: the colour key and its
    colours, the style keys and their line styles, and the keys that are constant."""

    def __init__(self, rs, df, keys, colour_key, colours, series, style_keys, styles,
                 constants):
        self.rs, self.df, self.keys = rs, df, keys
        self.colour_key, self.colours = colour_key, colours
        self.series, self.style_keys, self.styles = series, style_keys, styles
        self.constants = constants

    def __iter__(self):
        return iter(self.series)

    def __len__(self):
        return len(self.series)

    def constants_text(self, skip=("host_id",)):
        """What every line shares, for the title: 'lock · processes · pin compact · ...'."""
        return " · ".join(describe(self.rs, k, v) for k, v in self.constants.items()
                          if k not in skip and v != "")

    def legend_groups(self):
        """[(title, [(handle, label)])]: one block for the colours, one for the styles."""
        groups = []
        if not self.style_keys:
            entries = [(Line2D([], [], **s.style()), s.label) for s in self.series]
            if entries:
                groups.append((KEY_TITLES.get(self.colour_key, self.colour_key), entries))
            return groups
        if len(self.colours) > 0:
            groups.append((KEY_TITLES.get(self.colour_key, self.colour_key),
                           [(Line2D([], [], color=c, linewidth=3), describe(self.rs,
                             self.colour_key, v)) for v, c in self.colours.items()]))
        title = " · ".join(KEY_TITLES.get(k, k) for k in self.style_keys)
        groups.append((title, [(Line2D([], [], color="0.25", linestyle=ls, marker=m),
                                " · ".join(describe(self.rs, k, v)
                                           for k, v in zip(self.style_keys, combo)))
                               for combo, (ls, m) in self.styles.items()]))
        return groups


def make_series(rs, df, keys=R.SERIES_KEYS, colour_key=None, colour_map=None):
    """Split `df` into Series. Colour follows `colour_key` (default: the host when several
    hosts are in `df`, else the backend); line style and marker follow the other keys that
    vary. A series' label names the colour key's value and the varying keys."""
    keys = list(keys)
    varying = R.varying(df, keys) if len(df) else []
    if colour_key is None:
        colour_key = "host_id" if "host_id" in varying else "backend"
    style_keys = [k for k in varying if k != colour_key]
    constants = {k: df[k].iloc[0] for k in keys if k not in varying and len(df)}
    colour_values = sorted(df[colour_key].unique()) if len(df) else []
    if colour_map is not None:
        colours = {v: colour_map[v] for v in colour_values}
    elif colour_key == "backend":
        extra = iter(f"C{i}" for i in range(5, 10))
        colours = {v: BACKEND_COLORS.get(v) or next(extra, "k") for v in colour_values}
    else:
        colours = {v: HOST_COLORS[i % len(HOST_COLORS)] for i, v in enumerate(colour_values)}
    combos = sorted({tuple(r) for r in df[style_keys].itertuples(index=False)}) \
        if style_keys and len(df) else []
    styles = {c: LINE_STYLES[i % len(LINE_STYLES)] for i, c in enumerate(combos)}
    group_keys = [colour_key] + style_keys
    out = []
    for key, rows in (R.groups(df, group_keys) if len(df) else []):
        values = dict(zip(group_keys, key))
        combo = tuple(values[k] for k in style_keys)
        linestyle, marker = styles.get(combo, LINE_STYLES[0])
        label = " · ".join(describe(rs, k, values[k]) for k in group_keys)
        out.append(Series(rows, label, colours[values[colour_key]], linestyle, marker, values))
    return Styling(rs, df, keys, colour_key, colours, out, style_keys, styles, constants)


# --------------------------------------------------------------------------------------------
# Axes helpers


def _decade_ticks(low, high, subs):
    if not (low > 0 and high > low):
        return []
    out = []
    for e in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1):
        for s in subs:
            v = s * 10.0 ** e
            if low <= v * (1 + 1e-9) and v <= high * (1 + 1e-9):
                out.append(v)
    return out


def readable_log_ticks(ax, which="y", fmt=fmt_us_tick, max_ticks=8):
    """Label at least MIN_LABELLED_TICKS ticks on a log axis, whatever its span: decades,
    else 1-2-5, else 1..9 per decade, else evenly spaced values; minor ticks unlabelled."""
    axis = ax.yaxis if which == "y" else ax.xaxis
    low, high = ax.get_ylim() if which == "y" else ax.get_xlim()
    low, high = min(low, high), max(low, high)
    ticks = []
    for subs in ((1,), (1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9)):
        ticks = _decade_ticks(low, high, subs)
        if len(ticks) >= MIN_LABELLED_TICKS:
            break
    if len(ticks) < MIN_LABELLED_TICKS:
        ticks = [t for t in MaxNLocator(nbins=3, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high)
                 if low <= t <= high and t > 0]
    if len(ticks) < MIN_LABELLED_TICKS:        # a degenerate range: its two ends
        ticks = [low, high]
    while len(ticks) > max_ticks:
        ticks = ticks[::2]
    axis.set_major_locator(FixedLocator(ticks))
    axis.set_major_formatter(FuncFormatter(lambda x, _: fmt(x)))
    axis.set_minor_formatter(NullFormatter())
    if which == "y":
        ax.set_ylim(low, high)
    else:
        ax.set_xlim(low, high)


def labelled_ticks(ax, which="y"):
    """The tick labels a reader sees on an axis of a drawn figure (non-empty, in view)."""
    ax.figure.canvas.draw()
    axis = ax.yaxis if which == "y" else ax.xaxis
    low, high = sorted(ax.get_ylim() if which == "y" else ax.get_xlim())
    out = []
    for tick in axis.get_major_ticks() + axis.get_minor_ticks():
        label = tick.label1
        loc = tick.get_loc()
        if label.get_visible() and label.get_text() and low * 0.999999 <= loc <= high * 1.000001:
            out.append(label.get_text())
    return out


def setup_procs_axis(ax, df):
    procs = sorted(df["procs"].unique())
    ax.set_xscale("log", base=2)
    ax.set_xlim(procs[0] / 1.4, procs[-1] * 1.4)
    if len(procs) > MAX_PROCS_TICKS:       # e.g. 1..32: label powers of two and the last
        procs = [p for p in procs if p & (p - 1) == 0 or p == procs[-1]]
    ax.set_xticks(procs)
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.xaxis.set_minor_locator(NullLocator())
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


def no_data(ax, text=NO_OK_ROWS):
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="0.4")
    ax.set_yticks([])


def recorded(df, columns):
    """True when an ok row of `df` carries a value in one of `columns`."""
    ok = R.ok_rows(df)
    return len(ok) > 0 and bool(ok[list(columns)].notna().to_numpy().any())


def what_column(column):
    """What a column measures, in words for an empty panel."""
    if column.startswith("lat_"):
        return "per-op latency"
    if column.startswith("wake_"):
        return "wake-up latency"
    return column


def empty_text(df, columns, what, positive=False):
    """Why a panel of `columns` drew nothing, true to the rows of `df`: 'no successful runs'
    only when none is ok; else that the ok rows recorded none (or, on a log axis drawing only
    `positive` values, that every one is 0). Short lines: a panel can be 135 px wide."""
    ok = R.ok_rows(df)
    if ok.empty:
        return NO_OK_ROWS
    if positive and recorded(df, columns):
        return f"{what}:\n0 µs in every ok row\n(net of the clock)"
    return f"no {what}\nrecorded in\n{len(ok)} ok row{'s' if len(ok) != 1 else ''}"


def ideal_procs(rs, series, procs):
    """The procs an ideal-scaling line spans: from the lowest measured to the PU count of the
    series' host (or the most procs, if fewer); [] when that is a single point."""
    pus = rs.pus(series.host())
    top = min(procs[-1], pus) if pus else procs[-1]
    return [procs[0], top] if top > procs[0] else []


def draw_throughput(ax, rs, df, series, ideal=True, **shade):
    """Median ops/s with min–max bars per series; with `ideal`, a dotted ideal linear scaling
    line per series from its lowest procs to its host's PU count. `shade` goes to
    shade_oversubscribed."""
    setup_procs_axis(ax, df)
    drawn = drawn_ideal = False
    for s in series:
        st = s.stats().dropna(subset=["ops_median"])
        if st.empty:
            continue
        drawn = True
        ax.errorbar(st["procs"], st["ops_median"],
                    yerr=[st["ops_median"] - st["ops_min"], st["ops_max"] - st["ops_median"]],
                    capsize=3, label=s.label, **s.style())
        span = ideal_procs(rs, s, list(st["procs"])) if ideal else []
        if span:
            drawn_ideal = True
            base = st["ops_median"].iloc[0]
            ax.plot(span, [base * p / span[0] for p in span], color=s.color,
                    linestyle=IDEAL_STYLE, linewidth=1.2, alpha=0.8, label="_ideal")
    if drawn:
        ax.set_yscale("log")
        readable_log_ticks(ax, fmt=R.fmt_rate)
    else:
        no_data(ax)
    if drawn_ideal:
        ax.plot([], [], color="0.3", linestyle=IDEAL_STYLE, linewidth=1.2,
                label="ideal linear scaling\n(from the lowest procs\nup to the PU count)")
    ax.set_ylabel("throughput (ops/s, log scale)")
    shade_oversubscribed(ax, rs, df, **shade)
    mark_failures(ax, df)


def draw_metric(ax, rs, df, series, column, ylabel, latency=False, log=None):
    """Median of `column` over ok repetitions against procs, per series; latencies (ns in
    the CSV) are drawn in µs on a log axis with readable ticks."""
    setup_procs_axis(ax, df)
    log = latency if log is None else log
    drawn = False
    for s in series:
        st = s.stats().dropna(subset=[column])
        if latency:
            st = st[st[column] > 0]
        if st.empty:
            continue
        drawn = True
        y = us(st[column]) if latency else st[column]
        ax.plot(st["procs"], y, label=s.label, **s.style())
    if drawn and log:
        ax.set_yscale("log")
        ax.relim()
        ax.autoscale_view()
        readable_log_ticks(ax)
    if not drawn:
        no_data(ax, empty_text(df, [column], what_column(column), positive=latency))
    ax.set_ylabel(ylabel)
    shade_oversubscribed(ax, rs, df)
    return drawn


def draw_cdf(ax, rs, df, series, procs):
    """Latency CDF at `procs` through the percentile points of each series (log x, µs)."""
    drawn = False
    for s in series:
        st = s.stats()
        st = st[st["procs"] == procs]
        if st.empty:
            continue
        points = [(st[c].iloc[0] / 1000.0, min(q, CDF_MAX_AT)) for c, q, _ in R.PERCENTILES]
        points = [(x, q) for x, q in points if x == x and x > 0]
        if not points:
            continue
        drawn = True
        ax.plot([x for x, _ in points], [q for _, q in points], label=s.label, **s.style())
    ax.set_xscale("log")
    if drawn:
        readable_log_ticks(ax, which="x")
    ax.set_yscale("logit")
    ax.set_ylim(0.4, 0.99995)
    ax.set_yticks([q if q < 1 else CDF_MAX_AT for _, q, _ in R.PERCENTILES])
    ax.set_yticklabels([name for _, _, name in R.PERCENTILES])
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("latency per operation (µs, log)")
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
        no_data(ax, empty_text(at, LATENCY_COLUMNS, "per-op latency", positive=True))


def cdf_procs(df):
    """The procs shown in the CDF: lowest, most that fit every host's PUs, most."""
    procs = sorted(df["procs"].unique())
    fitting = sorted(df.loc[df["oversubscribed"] == 0, "procs"].unique())
    chosen = [procs[0]] + ([fitting[-1]] if fitting else []) + [procs[-1]]
    return sorted(set(chosen))


def new_figure(ncols=1, size=R.FIG_SIZE_IN, legend_width=0.24, top=0.84):
    fig, axes = plt.subplots(1, ncols, figsize=size, dpi=R.FIG_DPI, squeeze=False)
    fig.subplots_adjust(left=0.08, right=1.0 - legend_width, top=top, bottom=0.11, wspace=0.32)
    return fig, list(axes[0])


def extra_entries(axes, skip_labels=()):
    """(handle, label) of what the axes drew besides the series (ideal lines, shading,
    failures, thresholds), without duplicates."""
    seen = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if not label.startswith("_") and label not in skip_labels and label not in seen:
                seen[label] = handle
    return list(seen.items())


def figure_legend(fig, axes, styling=None, fontsize=8, top=0.86, gap=0.015):
    """The legend at the right of the figure: one block per group of what varies (the colour
    key, then the style keys), then the other artists. Blocks are stacked from `top` down;
    a block that would not fit is made smaller."""
    groups = styling.legend_groups() if styling is not None else []
    series_labels = {s.label for s in styling} if styling is not None else set()
    extras = extra_entries(axes, series_labels)
    if extras:
        groups.append(("", [(h, l) for l, h in extras]))
    if not groups:
        return []
    renderer = fig.canvas.get_renderer()
    n_entries = sum(len(entries) + (1 if title else 0) for title, entries in groups)
    size = fontsize if n_entries <= 22 else max(5.5, fontsize * 22 / n_entries)
    left = fig.subplotpars.right + gap
    y = top
    legends = []
    for title, entries in groups:
        leg = fig.legend([h for h, _ in entries], [l for _, l in entries], loc="upper left",
                         bbox_to_anchor=(left, y), fontsize=size, title=title or None,
                         title_fontsize=size + 0.5, frameon=False, alignment="left",
                         borderaxespad=0.2)
        legends.append(leg)
        box = leg.get_window_extent(renderer).transformed(fig.transFigure.inverted())
        y = box.y0 - 0.01
    return legends


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


def suptitle(fig, first, styling=None, note=""):
    """Two lines: what the figure shows and where; then what every line shares."""
    second = styling.constants_text() if styling is not None else ""
    second = textwrap.fill(" — ".join(x for x in (second, note) if x), SUPTITLE_WRAP)
    fig.suptitle(first + (f"\n{second}" if second else ""), fontsize=11 if second else 12)


# --------------------------------------------------------------------------------------------
# Figures


def plot_workload(rs, workload, out_dir):
    """Write the figures of one workload; return the written paths."""
    df = rs.rows[rs.rows["workload"] == workload]
    if workload == R.C2C:
        return plot_c2c(rs, df, out_dir)
    kept, dropped = R.meaningful(df)
    note = ""
    if len(dropped) and len(kept):
        df = kept
        note = (f"procs {', '.join(map(str, sorted(dropped['procs'].unique())))} left out: "
                f"a broadcaster with no listener")
    styling = make_series(rs, df)
    where = hosts_title(rs, df)
    stem = R.safe_name(workload)
    paths = []

    fig, (ax,) = new_figure()
    draw_throughput(ax, rs, df, styling, ideal=workload in R.COUNTER_LIKE)
    ax.set_title("median of ok repetitions, bars: min–max", fontsize=10)
    suptitle(fig, f"{workload}: throughput vs procs — {where}", styling, note)
    figure_legend(fig, [ax], styling)
    paths += save(fig, out_dir, f"{stem}-throughput")

    has_wake = recorded(df, WAKE_COLUMNS)
    if R.ok_rows(df).empty or recorded(df, LATENCY_COLUMNS):
        paths += plot_latency(rs, df, styling, workload, where, note, out_dir)
    else:
        # The runs succeeded but time no single op: a latency figure would only say "nothing
        # here", which reads as a failure. Say once why there is none.
        print(f"{workload}: no per-op latency recorded "
              + ("(this workload times hand-offs: see its wake-up figure)" if has_wake else
                 "in its ok rows")
              + "; no latency or CDF figure drawn", file=sys.stderr)

    fig, (ax,) = new_figure()
    if draw_metric(ax, rs, df, styling, "fairness", "fairness (Jain's index)"):
        procs = sorted(df["procs"].unique())
        ax.plot(procs, [1.0 / p for p in procs], color="0.5", linestyle=":", linewidth=1,
                label="least fair possible\n(1/procs: one worker did all)")
        ax.axhline(1.0, color="0.5", linestyle="--", linewidth=1, label="perfectly fair (1)")
        ax.set_ylim(0, 1.05)
    mark_failures(ax, df)
    ax.set_title("median of ok repetitions", fontsize=10)
    suptitle(fig, f"{workload}: fairness (Jain's index of the ops per worker) — {where}",
             styling, note)
    figure_legend(fig, [ax], styling)
    paths += save(fig, out_dir, f"{stem}-fairness")

    if has_wake:
        paths += plot_wakeup(rs, df, styling, workload, where, note, out_dir)
    return paths


def plot_latency(rs, df, styling, workload, where, note, out_dir):
    """The latency percentiles against procs, and the latency CDF; series whose ok rows
    recorded no latency are named in the subtitle."""
    stem = R.safe_name(workload)
    silent = [s.label for s in styling
              if not R.ok_rows(s.rows).empty and not recorded(s.rows, LATENCY_COLUMNS)]
    if silent:
        note = "; ".join(x for x in (note, "no per-op latency recorded for "
                                     + ", ".join(silent)) if x)
    paths = []
    fig, axes = new_figure(len(LATENCY_PANELS))
    for i, (ax, (column, name)) in enumerate(zip(axes, LATENCY_PANELS)):
        draw_metric(ax, rs, df, styling, column,
                    "latency per operation (µs, log)" if i == 0 else "", latency=True)
        ax.set_title(name, fontsize=10)
    suptitle(fig, f"{workload}: latency per operation, median of ok repetitions — {where}",
             styling, note)
    figure_legend(fig, axes, styling)
    paths += save(fig, out_dir, f"{stem}-latency")

    chosen = cdf_procs(df)
    fig, axes = new_figure(len(chosen), top=0.80)
    for ax, procs in zip(axes, chosen):
        draw_cdf(ax, rs, df, styling, procs)
    axes[0].set_ylabel("cumulative fraction (logit)")
    suptitle(fig, f"{workload}: latency CDF — {where}\n{CDF_NOTE}", styling, note)
    figure_legend(fig, axes, styling, top=0.82)
    paths += save(fig, out_dir, f"{stem}-cdf")
    return paths


def plot_wakeup(rs, df, styling, workload, where, note, out_dir):
    """Wake-up latency p50 and p99 against procs (µs); with one host whose floor is known, a
    right axis in multiples of it."""
    fig, axes = new_figure(len(WAKE_PANELS), legend_width=0.27)
    fig.subplots_adjust(wspace=0.55)
    hosts = sorted(df["host_id"].unique())
    floor, source = rs.floor(hosts[0]) if len(hosts) == 1 else (None, None)
    for i, (ax, (column, name)) in enumerate(zip(axes, WAKE_PANELS)):
        draw_metric(ax, rs, df, styling, column, "wake-up latency (µs, log)" if i == 0 else "",
                    latency=True)
        ax.set_title(name, fontsize=10)
        if floor and ax.get_yscale() == "log":
            f_us = floor / 1000.0
            right = ax.secondary_yaxis("right", functions=(lambda y, f=f_us: y / f,
                                                          lambda m, f=f_us: m * f))
            if ax is axes[-1]:            # the ticks say "×"; one label is enough
                right.set_ylabel("× cache-line floor", fontsize=9)
            low, high = ax.get_ylim()
            ticks = _decade_ticks(low / f_us, high / f_us, (1, 2, 5))
            if len(ticks) < MIN_LABELLED_TICKS:
                ticks = _decade_ticks(low / f_us, high / f_us, range(1, 10))
            right.yaxis.set_major_locator(FixedLocator(ticks))
            right.yaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}×"))
            right.yaxis.set_minor_formatter(NullFormatter())
    floor_note = (f"cache-line floor {R.fmt_us(floor)} µs" if floor else
                  "no cache-line floor known for this host (run bench --workload c2c)"
                  if len(hosts) == 1 else "")
    suptitle(fig, f"{workload}: wake-up latency (notify to waiter running), median of ok "
             f"repetitions — {where}", styling, "; ".join(x for x in (note, floor_note) if x))
    figure_legend(fig, axes, styling, gap=0.085 if floor else 0.015)
    return save(fig, out_dir, f"{R.safe_name(workload)}-{WAKE_KIND}")


def c2c_matrix(rows, column="lat_p50_ns"):
    """(PU list, N x N matrix of the median `column` per pair in ns, NaN on the diagonal and
    for pairs not measured) from c2c rows (pus "a;b")."""
    ok = R.ok_rows(rows).dropna(subset=[column])
    pairs = {}
    for pus, group in ok.groupby("pus"):
        parts = [p for p in str(pus).split(";") if p != ""]
        if len(parts) != 2:
            continue
        try:
            a, b = int(parts[0]), int(parts[1])
        except ValueError:
            continue
        pairs[(a, b)] = float(group[column].median())
    pu_list = sorted({p for pair in pairs for p in pair})
    index = {p: i for i, p in enumerate(pu_list)}
    matrix = np.full((len(pu_list), len(pu_list)), np.nan)
    for (a, b), v in pairs.items():
        matrix[index[a], index[b]] = matrix[index[b], index[a]] = v
    return pu_list, matrix


def plot_c2c(rs, df, out_dir):
    """One heatmap figure per host: p50 and p99 round trip between every two PUs (µs)."""
    hosts = sorted(df["host_id"].unique())
    paths = []
    for host in hosts:
        rows = df[df["host_id"] == host]
        stem = "c2c-heatmap" if len(hosts) == 1 else f"c2c-heatmap-{R.safe_name(rs.host_name(host))}"
        fig, axes = plt.subplots(1, 2, figsize=R.FIG_SIZE_IN, dpi=R.FIG_DPI)
        fig.subplots_adjust(left=0.06, right=0.93, top=0.84, bottom=0.1, wspace=0.42)
        pus_n = rs.pus(host)
        for ax, (column, name) in zip(axes, (("lat_p50_ns", "p50"), ("lat_p99_ns", "p99"))):
            pu_list, matrix = c2c_matrix(rows, column)
            if not pu_list:
                no_data(ax, "no ok c2c rows")
                ax.set_xticks([])
                continue
            values = matrix / 1000.0
            cmap = plt.get_cmap("viridis").copy()
            cmap.set_bad("white")
            image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, origin="upper",
                              interpolation="nearest")
            bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
            bar.set_label(f"round trip {name} (µs)")
            step = max(1, math.ceil(len(pu_list) / 16))
            ticks = list(range(0, len(pu_list), step))
            ax.set_xticks(ticks)
            ax.set_yticks(ticks)
            ax.set_xticklabels([str(pu_list[i]) for i in ticks], fontsize=8)
            ax.set_yticklabels([str(pu_list[i]) for i in ticks], fontsize=8)
            ax.set_xlabel("PU (OS index)")
            ax.set_ylabel("PU (OS index)")
            ax.set_title(f"round trip {name}, median of ok repetitions", fontsize=10)
            if len(pu_list) <= HEATMAP_ANNOTATE_MAX:
                finite = values[np.isfinite(values)]
                mid = (finite.min() + finite.max()) / 2 if len(finite) else 0
                for i in range(len(pu_list)):
                    for j in range(len(pu_list)):
                        v = values[i, j]
                        if v == v:
                            ax.text(j, i, fmt_us_tick(v), ha="center", va="center",
                                    fontsize=7 if len(pu_list) > 8 else 8,
                                    color="white" if v < mid else "black")
        failed = len(R.failed_rows(rows))
        floor, _ = rs.floor(host)
        fig.suptitle(f"c2c: core-to-core round trip of one cache line — {rs.host_name(host)}"
                     + (f" ({pus_n} PUs)" if pus_n else "")
                     + f"\nfloor (median p50 of every pair) {R.fmt_us(floor)} µs; diagonal "
                       f"blank" + (f"; {failed} failed row(s) not used" if failed else ""),
                     fontsize=11)
        paths += save(fig, out_dir, stem)
    return paths


def plot_all(rs, out_dir, workloads=None):
    """Plot every workload (or those given); return {workload: [paths]}."""
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as e:
        raise R.InputError(f"cannot create output directory {out_dir}: {e.strerror}")
    return {w: plot_workload(rs, w, out_dir) for w in (workloads or rs.workloads())}


def default_out_dir(csv_path, suffix="plots", run_id=None):
    stem = os.path.splitext(csv_path)[0]
    if run_id:
        return f"{stem}-run-{R.safe_name(run_id)}-{suffix}"
    return f"{stem}-{suffix}"


def warn(warnings, prog):
    for w in warnings:
        print(f"{prog}: warning: {w}", file=sys.stderr)


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="plot.py", description="Plot ipcsync results: throughput, latency percentiles, "
        "latency CDF, fairness and wake-ups per workload, the c2c heatmap; PNG and SVG.")
    ap.add_argument("files", nargs="+", metavar="FILE.csv", help="results CSV(s)")
    ap.add_argument("--out", metavar="DIR",
                    help="output directory (default: <first CSV stem>-plots/ beside it, or "
                         "<first CSV stem>-run-<run_id>-plots/ with --run-id)")
    ap.add_argument("--workload", help="plot only this workload")
    ap.add_argument("--run-id", help="plot only the rows of this run")
    args = ap.parse_args(argv)
    rs = R.load(args.files, workload=args.workload, run_id=args.run_id)
    warn(rs.warnings, "plot.py")
    out_dir = args.out or default_out_dir(args.files[0], run_id=args.run_id)
    for paths in plot_all(rs, out_dir).values():
        for path in paths:
            print(path)
    return 0


if __name__ == "__main__":
    R.main_guard(main)

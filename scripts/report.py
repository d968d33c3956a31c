#!/usr/bin/python3
"""report.py — one self-contained HTML page for ipcsync results.

    /usr/bin/python3 scripts/report.py results/<host>/<date>.csv [more.csv ...]
        [--out FILE.html] [--title T] [--workload W] [--run-id ID] [--plots-dir DIR]

The page has no external resources (the plots are PNGs embedded as data: URIs, the CSS is
inline), so it can be mailed or attached as is. Sections:
  summary      files, hosts, rows, failures
  contexts     the host contexts (from the JSON beside each CSV), side by side
  workload-W   per workload: highlights, the four plots of plot.py, a summary table per
               configuration (median ops/s, min–max, scaling efficiency, p50/p99/p99.9,
               fairness, failures) and the failed repetitions
  warnings     warnings recorded by bench (runs[].warnings), oversubscribed and failed rows,
               missing JSON contexts
  reproduce    the bench command lines (runs[].command_line) and the commands that rebuild
               this page and its plots
The path of the written page is printed. Default: <first CSV stem>-report.html beside it.
"""

import argparse
import base64
import datetime
import html
import os
import shlex
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ipcsync_results as R  # noqa: E402
import plot  # noqa: E402

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto;
       max-width: 1100px; padding: 1em 2em 4em; color: #222; line-height: 1.4; }
h1 { margin-bottom: .2em; } h2 { border-bottom: 2px solid #ddd; padding-bottom: .2em;
       margin-top: 2em; } h3 { margin-top: 1.5em; }
.meta { color: #666; } nav { background: #f6f6f6; padding: .5em 1em; border-radius: 6px; }
nav a { margin-right: 1em; } table { border-collapse: collapse; margin: .8em 0;
       font-size: 13px; } th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left;
       vertical-align: top; } th { background: #f0f0f0; } td.num { text-align: right;
       font-variant-numeric: tabular-nums; } tr.over td { background: #f4f4f4; }
tr.failed td.status, .bad { color: #b00; font-weight: 600; } tr.differs td { background: #fff6d6; }
.tag { font-size: 11px; background: #e8e8e8; border-radius: 3px; padding: 0 4px; }
img.plot { max-width: 100%; height: auto; border: 1px solid #eee; margin: .4em 0; }
pre { background: #f6f6f6; padding: .6em; overflow-x: auto; white-space: pre-wrap; }
.warning { background: #fff3cd; border-left: 4px solid #e0a800; padding: .4em .8em; }
.note { color: #555; font-size: 13px; } ul.warnings li { margin: .2em 0; }
"""


# --------------------------------------------------------------------------------------------
# HTML building blocks (also used by compare.py)


def esc(value):
    return html.escape(str(value), quote=True)


def img_tag(png_path, alt):
    """An <img> with the PNG embedded as a base64 data: URI."""
    with open(png_path, "rb") as f:
        data = base64.b64encode(f.read()).decode("ascii")
    return f'<img class="plot" alt="{esc(alt)}" src="data:image/png;base64,{data}">'


def table(headers, rows, row_classes=None, numeric=()):
    """An HTML table; `rows` hold already-escaped HTML cells; `numeric` = column indexes."""
    out = ["<table>", "<tr>" + "".join(f"<th>{esc(h)}</th>" for h in headers) + "</tr>"]
    for i, row in enumerate(rows):
        cls = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        cells = []
        for j, cell in enumerate(row):
            kind = ' class="num"' if j in numeric else ""
            if j == len(row) - 1 and headers[-1] == "status":
                kind = ' class="status"'
            cells.append(f"<td{kind}>{cell}</td>")
        out.append(f"<tr{cls}>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def contexts_table(labels, contexts):
    """Host contexts side by side; rows that differ between hosts are highlighted."""
    rows, classes = [], []
    for label, values, differs in R.side_by_side_contexts(contexts):
        rows.append([esc(label)] + [esc(v) for v in values])
        classes.append("differs" if differs and len(contexts) > 1 else "")
    return table(["field"] + list(labels), rows, classes)


def page(title, subtitle, sections):
    """A complete HTML document; `sections` = [(id, heading, html)]."""
    nav = " ".join(f'<a href="#{esc(sid)}">{esc(heading)}</a>' for sid, heading, _ in sections)
    body = "\n".join(f'<section id="{esc(sid)}">\n<h2>{esc(heading)}</h2>\n{content}\n</section>'
                     for sid, heading, content in sections)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f"<h1>{esc(title)}</h1>\n<p class=\"meta\">{subtitle}</p>\n<nav>{nav}</nav>\n"
            f"{body}\n</body>\n</html>\n")


def command(script, argv):
    """The shell command that runs scripts/<script> with `argv` (the script's path relative to
    the current directory when it is below it)."""
    path = os.path.join(SCRIPTS, script)
    relative = os.path.relpath(path)
    return shlex.join([PYTHON, path if relative.startswith("..") else relative] + list(argv))


def write_text(path, text):
    try:
        parent = os.path.dirname(os.path.abspath(path))
        os.makedirs(parent, exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        raise R.InputError(f"cannot write {path}: {e.strerror}")


def warning_box(text):
    return f'<p class="warning">{esc(text)}</p>'


# --------------------------------------------------------------------------------------------
# Sections


def host_labels(rs):
    return [rs.host_name(h) for h in sorted(rs.rows["host_id"].unique())]


def summary_section(rs):
    rows = rs.rows
    n_failed = len(R.failed_rows(rows))
    items = [
        f"<li>Files: {', '.join(f'<code>{esc(f)}</code>' for f in rs.files)}</li>",
        f"<li>Hosts: {esc(', '.join(host_labels(rs)))}</li>",
        f"<li>Workloads: {esc(', '.join(rs.workloads()))}</li>",
        f"<li>{len(rows)} rows ({rows.groupby(list(R.CONFIG_KEYS) + ['host_id']).ngroups} "
        f"configurations), {len(rows) - n_failed} ok, "
        + (f'<span class="bad">{n_failed} failed</span>' if n_failed else "0 failed") + "</li>",
        f"<li>Backends: {esc(', '.join(sorted(rows['backend'].unique())))}; "
        f"procs: {esc(', '.join(map(str, sorted(rows['procs'].unique()))))}</li>",
    ]
    return "<ul>" + "\n".join(items) + "</ul>"


def contexts_section(rs):
    hosts = sorted(rs.rows["host_id"].unique())
    parts = []
    missing = [h for h in hosts if h not in rs.contexts]
    for h in missing:
        parts.append(warning_box(f"No JSON context for host {h}: its CPU, topology, compiler "
                                 f"and command lines are unknown."))
    parts.append(contexts_table([rs.host_name(h) for h in hosts],
                                [rs.contexts.get(h) for h in hosts]))
    if len(hosts) > 1:
        parts.append('<p class="note">Highlighted rows differ between hosts.</p>')
    return "\n".join(parts)


def fit_procs(rs, host, summary):
    """The most procs that fit the host's PUs (else the fewest procs) in `summary`."""
    pus = rs.pus(host)
    procs = sorted(summary["procs"].unique())
    fitting = [p for p in procs if pus is None or p <= pus]
    return fitting[-1] if fitting else procs[0]


def highlights(rs, df):
    """One sentence per host and series group: the ranking of backends at the most procs that
    fit the PUs."""
    out = []
    keys = ["host_id", "primitive", "mode", "pin", "params"]
    for key, rows in R.groups(df, keys):
        summary = R.summarize(rows, ["backend", "procs"])
        procs = fit_procs(rs, key[0], summary)
        at = summary[summary["procs"] == procs].dropna(subset=["ops_median"])
        if at.empty:
            continue
        at = at.sort_values("ops_median", ascending=False)
        best = at.iloc[0]
        others = ", ".join(f"{esc(r.backend)} {esc(R.fmt_rate(r.ops_median))} "
                           f"({best.ops_median / r.ops_median:.2f}× slower)"
                           for r in at.iloc[1:].itertuples())
        pus = rs.pus(key[0])
        where = (f"{esc(rs.host_name(key[0]))}, procs {procs}"
                 + (f" of {pus} PUs" if pus else ""))
        variant = " ".join(esc(v) for k, v in zip(keys[1:], key[1:]) if k in
                           R.varying(df, keys[1:]))
        out.append(f"<li>{where}{' ' + variant if variant else ''}: fastest "
                   f"<b>{esc(best.backend)}</b> {esc(R.fmt_rate(best.ops_median))} ops/s"
                   + (f"; then {others}" if others else "") + "</li>")
    return "<ul>" + "\n".join(out) + "</ul>" if out else ""


def summary_table(rs, df):
    """Per configuration: repetitions, median ops/s, min–max, scaling efficiency, latency
    percentiles, fairness, failures."""
    varying = R.varying(df, ["host_id", "primitive", "mode", "pin", "params"])
    keys = varying + ["backend", "procs"]
    summary = R.summarize(df, keys)
    has_wake = summary["wake_p50_ns"].notna().any()
    headers = ([("host" if k == "host_id" else k) for k in keys]
               + ["reps ok", "median ops/s", "min–max ops/s", "scaling", "p50", "p99", "p99.9",
                  "fairness"] + (["wake p50", "wake p99"] if has_wake else []) + ["status"])
    base = {}                       # series -> (lowest procs, its median ops/s)
    rows, classes = [], []
    for r in summary.to_dict("records"):
        series = tuple(r[k] for k in keys[:-1])
        if series not in base and r["ops_median"] == r["ops_median"]:
            base[series] = (r["procs"], r["ops_median"])
        p0, b0 = base.get(series, (None, None))
        scaling = (f"{r['ops_median'] / (b0 * r['procs'] / p0):.0%}"
                   if p0 and r["ops_median"] == r["ops_median"] else "-")
        cells = [esc(rs.host_name(r[k]) if k == "host_id" else r[k]) for k in keys]
        if r["oversubscribed"]:
            cells[-1] += ' <span class="tag">oversubscribed</span>'
        cells += [f"{r['n_ok']}/{r['reps']}", esc(R.fmt_rate(r["ops_median"])),
                  esc(f"{R.fmt_rate(r['ops_min'])}–{R.fmt_rate(r['ops_max'])}"
                      if r["n_ok"] else "-"),
                  scaling, esc(R.fmt_ns(r["lat_p50_ns"])), esc(R.fmt_ns(r["lat_p99_ns"])),
                  esc(R.fmt_ns(r["lat_p999_ns"])),
                  "-" if r["fairness"] != r["fairness"] else f"{r['fairness']:.3f}"]
        if has_wake:
            cells += [esc(R.fmt_ns(r["wake_p50_ns"])), esc(R.fmt_ns(r["wake_p99_ns"]))]
        cells.append(esc(r["failures"] or "ok"))
        rows.append(cells)
        classes.append(" ".join(c for c in ("over" if r["oversubscribed"] else "",
                                            "failed" if r["failures"] else "") if c))
    numeric = set(range(len(keys), len(headers) - 1))
    note = ('<p class="note">Medians over the ok repetitions; failed repetitions are counted '
            "in <i>reps ok</i> and listed in <i>status</i>, never in the statistics. "
            "<i>scaling</i> = median ops/s ÷ (ops/s at the lowest procs × procs ÷ lowest "
            "procs): 100% is ideal linear scaling. Shaded rows are oversubscribed.</p>")
    return table(headers, rows, classes, numeric) + note


def failures_table(rs, df):
    failed = R.failed_rows(df)
    if failed.empty:
        return ""
    rows = [[esc(rs.host_name(r.host_id)), esc(r.name), str(r.repetition), esc(r.status),
             esc(r.detail or "-")] for r in failed.itertuples()]
    return ("<h3>Failed repetitions</h3>"
            + table(["host", "configuration", "repetition", "status", "detail"], rows,
                    ["failed"] * len(rows)))


def workload_section(rs, workload, images):
    df = rs.rows[rs.rows["workload"] == workload]
    parts = [f'<p class="note">Primitive(s): {esc(", ".join(sorted(df["primitive"].unique())))}'
             f"; {len(df)} rows.</p>"]
    hl = highlights(rs, df)
    if hl:
        parts.append("<h3>Highlights</h3>" + hl)
    parts.append("<h3>Plots</h3>")
    for path in images:
        if path.endswith(".png"):
            kind = os.path.basename(path)[:-4].rsplit("-", 1)[-1]
            parts.append(img_tag(path, f"{workload} {kind}"))
    parts.append("<h3>Summary</h3>" + summary_table(rs, df))
    parts.append(failures_table(rs, df))
    return "\n".join(parts)


def warning_items(rs):
    """Every warning as escaped HTML list items."""
    items = [esc(w) for w in rs.warnings]
    seen = {}
    for run in rs.runs():
        for w in run.get("warnings") or []:
            seen.setdefault((run["host_id"], str(w)), []).append(str(run.get("run_id", "?")))
    for (host, text), runs in seen.items():
        items.append(f"{esc(rs.host_name(host))}: {esc(text)} "
                     f'<span class="note">(run{"s" if len(runs) > 1 else ""} '
                     f"{esc(', '.join(runs))})</span>")
    rows = rs.rows
    for host, group in rows[rows["oversubscribed"] == 1].groupby("host_id"):
        pus = rs.pus(host)
        items.append(f"{esc(rs.host_name(host))}: {len(group)} rows oversubscribed (procs "
                     f"{esc(', '.join(map(str, sorted(group['procs'].unique()))))}"
                     + (f" &gt; {pus} PUs" if pus else "")
                     + "): workers share PUs, so those numbers include scheduler effects")
    for r in R.failed_rows(rows).itertuples():
        items.append(f'<span class="bad">{esc(r.status)}</span>: {esc(rs.host_name(r.host_id))} '
                     f"{esc(r.name)} repetition {r.repetition}"
                     + (f" — {esc(r.detail)}" if r.detail else ""))
    return items


def warnings_section(rs):
    items = warning_items(rs)
    if not items:
        return "<p>No warnings.</p>"
    return '<ul class="warnings">' + "\n".join(f"<li>{i}</li>" for i in items) + "</ul>"


def reproduce_section(rs, argv):
    parts = []
    for host in sorted(rs.rows["host_id"].unique()):
        runs = [r for r in rs.runs() if r["host_id"] == host]
        used = set(rs.rows.loc[rs.rows["host_id"] == host, "run_id"])
        runs = [r for r in runs if r.get("run_id") in used] or runs
        parts.append(f"<h3>{esc(rs.host_name(host))}</h3>")
        if not runs:
            parts.append(warning_box(f"No command lines for host {host}: no JSON context "
                                     f"(runs[].command_line) was found."))
            continue
        for run in runs:
            parts.append(f'<p class="note">run {esc(run.get("run_id", "?"))}, '
                         f'{esc(run.get("date", "?"))}, commit '
                         f'<code>{esc(run.get("git_commit", "?"))}</code></p>'
                         f'<pre>{esc(run.get("command_line") or "(no command line recorded)")}'
                         f"</pre>")
    parts.append("<h3>This page and its plots</h3>")
    parts.append(f"<pre>{esc(command('report.py', argv))}\n"
                 f"{esc(command('plot.py', rs.files))}</pre>")
    return "\n".join(parts)


# --------------------------------------------------------------------------------------------


def build(rs, argv, plots_dir, title=None, images=None):
    """The report page for `rs` as a string. Plots are written to `plots_dir`, unless `images`
    ({workload: [paths]}, from plot.plot_all) already holds them."""
    images = images or plot.plot_all(rs, plots_dir)
    title = title or f"ipcsync results — {', '.join(host_labels(rs))}"
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    sections = [("summary", "Summary", summary_section(rs)),
                ("contexts", "Host contexts", contexts_section(rs))]
    for workload in rs.workloads():
        sections.append((f"workload-{R.safe_name(workload)}", f"Workload: {workload}",
                         workload_section(rs, workload, images[workload])))
    sections.append(("warnings", "Warnings", warnings_section(rs)))
    sections.append(("reproduce", "Reproduce", reproduce_section(rs, argv)))
    return page(title, f"Generated {esc(now)} by scripts/report.py", sections)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    ap = argparse.ArgumentParser(prog="report.py", description="Write one self-contained HTML "
                                 "report (plots embedded) for ipcsync results.")
    ap.add_argument("files", nargs="+", metavar="FILE.csv", help="results CSV(s)")
    ap.add_argument("--out", metavar="FILE.html",
                    help="output page (default: <first CSV stem>-report.html beside it)")
    ap.add_argument("--title", help="page title")
    ap.add_argument("--workload", help="report only this workload")
    ap.add_argument("--run-id", help="report only the rows of this run")
    ap.add_argument("--plots-dir", metavar="DIR",
                    help="also keep the PNG/SVG plots in DIR (default: a temporary directory)")
    args = ap.parse_args(argv)
    rs = R.load(args.files, workload=args.workload, run_id=args.run_id)
    plot.warn(rs.warnings, "report.py")
    out = args.out or os.path.splitext(args.files[0])[0] + "-report.html"
    if args.plots_dir:
        text = build(rs, argv, args.plots_dir, args.title)
    else:
        with tempfile.TemporaryDirectory(prefix="ipcsync-report-") as tmp:
            text = build(rs, argv, tmp, args.title)
    write_text(out, text)
    print(out)
    return 0


if __name__ == "__main__":
    R.main_guard(main)

#!/usr/bin/python3
"""report.py — one self-contained HTML page for ipcsync results.

    /usr/bin/python3 scripts/report.py results/<host>/<date>.csv [more.csv ...]
        [--out FILE.html] [--title T] [--workload W] [--run-id ID] [--plots-dir DIR]
        [--sweep DIR/sweep-manifest.json]

The page has no external resources (the plots are PNGs embedded as data: URIs, the CSS is
inline), so it can be mailed or attached as is. Sections:
  summary      files, hosts, rows (ok, and the others by status: never used in a statistic),
               each host's cache-line floor
  sweep        with --sweep (sweep.py passes it): the sweep command, every bench call with its
               exit status and error, the configurations skipped as impossible
  contexts     the host contexts (from the JSON beside each CSV), side by side
  provenance   when the runs differ in commit, build type, flags, compiler, library versions or
               labels: one row per run
  workload-W   per workload: highlights (only differences that are significant: Mann-Whitney
               U, Benjamini-Hochberg across the section, and beyond 5%), the plots of plot.py,
               a summary table per configuration (median ops/s, min–max, scaling efficiency for
               counter-like workloads, p50/p99/p99.9 in µs, fairness, wake-ups in µs and as
               multiples of the host's floor, CPU per op, failures) and the failed
               repetitions; for c2c, the heatmap and the PU pairs
  warnings     warnings recorded by bench (runs[].warnings), failed bench calls of a sweep,
               oversubscribed and failed rows, missing JSON contexts
  reproduce    the bench command lines (runs[].command_line) and the commands that rebuild
               this page and its plots
The path of the written page is printed. Default: <first CSV stem>-report.html beside it.
"""

import argparse
import base64
import datetime
import html
import json
import os
import shlex
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ipcsync_results as R  # noqa: E402
import numpy as np  # noqa: E402
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
       font-size: 13px; display: block; max-width: 100%; overflow-x: auto; } th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left;
       vertical-align: top; } th { background: #f0f0f0; } td.num { text-align: right; white-space: nowrap;
       font-variant-numeric: tabular-nums; } tr.over td { background: #f4f4f4; }
tr.failed td.status, .bad { color: #b00; font-weight: 600; } tr.differs td { background: #fff6d6; }
.tag { font-size: 11px; background: #e8e8e8; border-radius: 3px; padding: 0 4px; }
img.plot { max-width: 100%; height: auto; border: 1px solid #eee; margin: .4em 0; }
pre { background: #f6f6f6; padding: .6em; overflow-x: auto; white-space: pre-wrap; }
.warning { background: #fff3cd; border-left: 4px solid #e0a800; padding: .4em .8em; }
.note { color: #555; font-size: 13px; } ul.warnings li { margin: .2em 0; }
.verdict-faster { color: #1a7f1a; font-weight: 600; }
.verdict-slower { color: #b00; font-weight: 600; } .verdict-na { color: #888; }
.verdict-inconclusive { color: #9a6a00; }
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


def floor_text(rs, host):
    floor, source = rs.floor(host)
    return (f"{R.fmt_us(floor, unit=True)} ({source})" if floor else
            "unknown (no c2c or pingpong/cacheline rows: run bench --workload c2c)")


def summary_section(rs):
    rows = rs.rows
    n_failed = len(R.failed_rows(rows))
    hosts = sorted(rows["host_id"].unique())
    items = [
        f"<li>Files: {', '.join(f'<code>{esc(f)}</code>' for f in rs.files)}</li>",
        f"<li>Hosts: {esc(', '.join(host_labels(rs)))}</li>",
        f"<li>Workloads: {esc(', '.join(rs.workloads()))}</li>",
        f"<li>{len(rows)} rows ({rows.groupby(list(R.CONFIG_KEYS) + ['host_id']).ngroups} "
        f"configurations), {len(rows) - n_failed} ok, "
        + (f'<span class="bad">{n_failed} not ok ({esc(R.status_counts(rows))})</span>: '
           f"counted here and listed below, left out of every statistic" if n_failed
           else "0 not ok") + "</li>",
        f"<li>Backends: {esc(', '.join(sorted(rows['backend'].unique())))}; "
        f"procs: {esc(', '.join(map(str, sorted(rows['procs'].unique()))))}</li>",
    ]
    for host in hosts:
        items.append(f"<li>Cache-line floor of {esc(rs.host_name(host))}: "
                     f"{esc(floor_text(rs, host))}; wake-ups below are also given as "
                     f"multiples of it</li>")
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


def provenance_section(rs):
    """The per-run provenance table, or '' when every run was built and labelled alike."""
    prov = R.provenance_table(rs)
    if not prov:
        return ""
    headers, rows = prov
    from_file = any(c.endswith(" (file)") for row in rows for c in row)
    return (table(headers, [[esc(c) for c in row] for row in rows])
            + '<p class="note">The runs behind these rows differ in what built them or in their '
            "labels (only the fields that differ are shown)."
            + (" (file): the run entry does not record it (an older bench); the value is the "
               "file's host-level one." if from_file else "") + "</p>")


def fit_procs(rs, host, summary):
    """The most procs that fit the host's PUs (else the fewest procs) in `summary`."""
    pus = rs.pus(host)
    procs = sorted(summary["procs"].unique())
    fitting = [p for p in procs if pus is None or p <= pus]
    return fitting[-1] if fitting else procs[0]


BACKEND_ORDER = ("native", "posix", "boost", "spin", "python")


def _backend_order(b):
    return (BACKEND_ORDER.index(b) if b in BACKEND_ORDER else len(BACKEND_ORDER), b)


def highlights(rs, df, alpha=0.05, threshold=0.05):
    """Per host and series group, at the most procs that fit the PUs: the backend with the
    highest median ops/s, and which others are significantly slower than it (Mann-Whitney U,
    Benjamini-Hochberg across every comparison of the section, and more than `threshold`
    apart). Backends it cannot be told apart from are named as such; nothing is ranked on
    medians alone."""
    keys = ["host_id", "primitive", "mode", "pin", "params", "labels"]
    varying = R.varying(df, keys[1:])
    groups, pairs = [], []
    for key, rows in R.groups(df, keys):
        summary = R.summarize(rows, ["backend", "procs"])
        if summary.empty:
            continue
        procs = fit_procs(rs, key[0], summary)
        ok = R.ok_rows(rows)
        at = ok[ok["procs"] == procs]
        values = {b: list(g["ops_per_sec"]) for b, g in at.groupby("backend")}
        if len(values) < 2:
            continue
        medians = {b: float(np.median(v)) for b, v in values.items()}
        best = max(medians, key=lambda b: (medians[b], b))
        others = sorted((b for b in values if b != best), key=_backend_order)
        first = len(pairs)
        pairs += [(values[best], values[b]) for b in others]
        groups.append((key, procs, best, others, first, values, medians))
    results = R.judge(pairs, alpha, threshold, "bh")
    out = []
    for key, procs, best, others, first, values, medians in groups:
        res = dict(zip(others, results[first:first + len(others)]))
        pus = rs.pus(key[0])
        where = (f"{esc(rs.host_name(key[0]))}, procs {procs}" + (f" of {pus} PUs" if pus else "")
                 + "".join(f" {esc(v)}" for k, v in zip(keys[1:], key[1:])
                           if k in varying and v != ""))
        fewest = min(len(v) for v in values.values())
        behind = [b for b in others if res[b]["verdict"] == "faster"]
        level = [b for b in others if res[b]["verdict"] != "faster"]

        def ratio(b):
            r = res[b]
            ci = (f", 95% CI {R.fmt_ratio(r['ci_low'])}–{R.fmt_ratio(r['ci_high'])}"
                  if r["ci_low"] == r["ci_low"] else "")
            return f"{esc(b)} {esc(R.fmt_rate(medians[b]))} ({medians[best] / medians[b]:.2f}×{ci})"
        if behind:
            text = (f"<b>{esc(best)}</b> {esc(R.fmt_rate(medians[best]))} ops/s is significantly "
                    f"faster than " + ", ".join(ratio(b) for b in behind))
            if level:
                text += ("; not told apart from it: " + ", ".join(ratio(b) for b in level))
        else:
            listed = ", ".join(f"{esc(b)} {esc(R.fmt_rate(medians[b]))}"
                               for b in sorted(values, key=_backend_order))
            text = f"no backend is significantly faster than the others ({listed} ops/s)"
        if fewest < R.MIN_REPS:
            text += (f' <span class="note">({fewest} ok repetitions: fewer than {R.MIN_REPS}, '
                     f"too few for the test to separate them)</span>")
        out.append(f"<li>{where}: {text}</li>")
    if not out:
        return ""
    return ("<ul>" + "\n".join(out) + "</ul>"
            + f'<p class="note">A backend is called faster only when the difference is '
            f"significant (two-sided Mann-Whitney U on the ok repetitions, p adjusted by "
            f"Benjamini-Hochberg across this section below {alpha:g}) and larger than "
            f"{threshold * 100:g}%; the ratio is the leader's median over the other's, with "
            f"the 95% bootstrap interval. Compare any two sides in full with compare.py.</p>")


def wake_cell(rs, host, value):
    """A wake-up time in µs and as a multiple of the host's floor: '12.5 (71× floor)'."""
    text = R.fmt_us(value)
    floor, _ = rs.floor(host)
    if floor and value == value:
        text += f" ({value / floor:.3g}× floor)"
    return text


def summary_table(rs, df, workload=None):
    """Per configuration: repetitions, median ops/s, min–max, scaling efficiency (counter-like
    workloads), latency percentiles (µs), fairness, wake-ups, CPU per op, failures."""
    varying = R.varying(df, ["host_id", "primitive", "mode", "pin", "params", "labels"])
    keys = varying + ["backend", "procs"]
    summary = R.summarize(df, keys)
    has_wake = summary["wake_p50_ns"].notna().any()
    has_cpu = summary["cpu_ns_per_op"].notna().any()
    scaling_col = workload in R.COUNTER_LIKE
    headers = ([("host" if k == "host_id" else k) for k in keys]
               + ["reps ok", "median ops/s", "min–max ops/s"]
               + (["scaling"] if scaling_col else [])
               + ["p50 (µs)", "p99 (µs)", "p99.9 (µs)", "fairness"]
               + (["wake p50 (µs)", "wake p99 (µs)"] if has_wake else [])
               + (["CPU per op (µs)"] if has_cpu else []) + ["status"])
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
        host = r["host_id"] if "host_id" in r else df["host_id"].iloc[0]
        cells += [f"{r['n_ok']}/{r['reps']}", esc(R.fmt_rate(r["ops_median"])),
                  esc(f"{R.fmt_rate(r['ops_min'])}–{R.fmt_rate(r['ops_max'])}"
                      if r["n_ok"] else "-")]
        if scaling_col:
            cells.append(scaling)
        cells += [esc(R.fmt_us(r["lat_p50_ns"])), esc(R.fmt_us(r["lat_p99_ns"])),
                  esc(R.fmt_us(r["lat_p999_ns"])),
                  "-" if r["fairness"] != r["fairness"] else f"{r['fairness']:.3f}"]
        if has_wake:
            cells += [esc(wake_cell(rs, host, r["wake_p50_ns"])),
                      esc(wake_cell(rs, host, r["wake_p99_ns"]))]
        if has_cpu:
            cells.append(esc(R.fmt_us(r["cpu_ns_per_op"])))
        cells.append(esc(r["failures"] or "ok"))
        rows.append(cells)
        classes.append(" ".join(c for c in ("over" if r["oversubscribed"] else "",
                                            "failed" if r["failures"] else "") if c))
    numeric = set(range(len(keys), len(headers) - 1))
    note = ('<p class="note">Medians over the ok repetitions; repetitions with any other '
            "status are counted in <i>reps ok</i> and listed in <i>status</i>, never used in a "
            "statistic. Latencies in µs. "
            + ("<i>scaling</i> = median ops/s ÷ (ops/s at the lowest procs × procs ÷ lowest "
               "procs): 100% is ideal linear scaling. " if scaling_col else "")
            + ("Wake-ups are also given as multiples of the host's cache-line floor. "
               if has_wake else "")
            + ("<i>CPU per op</i>: the workers' CPU time per op (spinning costs CPU, parking "
               "does not). " if has_cpu else "")
            + "Shaded rows are oversubscribed.</p>")
    return table(headers, rows, classes, numeric) + note


def failures_table(rs, df):
    failed = R.failed_rows(df)
    if failed.empty:
        return ""
    rows = [[esc(rs.host_name(r.host_id)), esc(r.name), str(r.repetition), esc(r.status),
             esc(r.detail or "-")] for r in failed.itertuples()]
    return ("<h3>Rows not ok (left out of every statistic)</h3>"
            + table(["host", "configuration", "repetition", "status", "detail"], rows,
                    ["failed"] * len(rows)))


C2C_TABLE_MAX = 32


def c2c_section(rs, df, images):
    """The c2c heatmaps and the PU pairs (all of them, or the fastest and slowest)."""
    parts = []
    for path in images:
        if path.endswith(".png"):
            parts.append(img_tag(path, "c2c heatmap"))
    for host, rows in df.groupby("host_id"):
        ok = R.ok_rows(rows)
        pairs = (ok.groupby("pus").agg(p50=("lat_p50_ns", "median"), p99=("lat_p99_ns", "median"),
                                       n=("lat_p50_ns", "size"))
                 .reset_index().sort_values(["p50", "pus"]))
        total = rows.groupby("pus").size()
        parts.append(f"<h3>{esc(rs.host_name(host))}: {len(pairs)} PU pairs</h3>"
                     f"<p>Floor: {esc(floor_text(rs, host))}.</p>")
        shown = pairs
        note = ""
        if len(pairs) > C2C_TABLE_MAX:
            half = C2C_TABLE_MAX // 2
            shown = pairs.iloc[list(range(half)) + list(range(len(pairs) - half, len(pairs)))]
            note = (f'<p class="note">The {half} fastest and {half} slowest of {len(pairs)} '
                    f"pairs; the heatmap shows them all.</p>")
        body = [[esc(r.pus.replace(";", " – ")), esc(R.fmt_us(r.p50)), esc(R.fmt_us(r.p99)),
                 f"{r.n}/{total.get(r.pus, r.n)}"] for r in shown.itertuples()]
        parts.append(table(["PUs (OS index)", "round trip p50 (µs)", "round trip p99 (µs)",
                            "reps ok"], body, numeric={1, 2}) + note)
    parts.append(failures_table(rs, df))
    return "\n".join(parts)


def workload_section(rs, workload, images):
    df = rs.rows[rs.rows["workload"] == workload]
    parts = [f'<p class="note">Primitive(s): {esc(", ".join(sorted(df["primitive"].unique())))}'
             f"; {len(df)} rows.</p>"]
    if workload == R.C2C:
        parts.append('<p class="note">The one-line round trip between every two PUs, net of '
                     "the clock.</p>")
        return "\n".join(parts + [c2c_section(rs, df, images)])
    kept, dropped = R.meaningful(df)
    if len(dropped) and len(kept):
        parts.append(f'<p class="note">{len(dropped)} rows at procs '
                     f"{esc(', '.join(map(str, sorted(dropped['procs'].unique()))))} left out of "
                     f"the plots, highlights and table: a broadcaster with no listener measures "
                     f"no wake-up.</p>")
        df = kept
    hl = highlights(rs, df)
    if hl:
        parts.append("<h3>Highlights</h3>" + hl)
    parts.append("<h3>Plots</h3>")
    for path in images:
        if path.endswith(".png"):
            kind = os.path.basename(path)[:-4].rsplit("-", 1)[-1]
            parts.append(img_tag(path, f"{workload} {kind}"))
    parts.append("<h3>Summary</h3>" + summary_table(rs, df, workload))
    parts.append(failures_table(rs, rs.rows[rs.rows["workload"] == workload]))
    return "\n".join(parts)


# --------------------------------------------------------------------------------------------
# A sweep's manifest (sweep.py --out-dir DIR writes DIR/sweep-manifest.json)


def read_manifest(path):
    """The sweep manifest: {"command", "calls": [...], "skipped": [...]}; InputError if bad."""
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
    except FileNotFoundError:
        raise R.InputError(f"--sweep {path}: no such file")
    except json.JSONDecodeError as e:
        raise R.InputError(f"--sweep {path}:{e.lineno}: malformed JSON: {e.msg}")
    except (OSError, UnicodeDecodeError) as e:
        raise R.InputError(f"--sweep {path}: cannot read: {e}")
    if not (isinstance(manifest, dict) and isinstance(manifest.get("calls"), list)
            and isinstance(manifest.get("skipped", []), list)):
        raise R.InputError(f"--sweep {path}: not a sweep manifest (expected an object with "
                           f"'command', 'calls' and 'skipped')")
    return manifest


def failed_calls(manifest):
    return [c for c in (manifest or {}).get("calls", [])
            if isinstance(c, dict) and c.get("exit") not in (0, None)]


def sweep_section(manifest):
    parts = [f"<p>This sweep was made by:</p><pre>{esc(manifest.get('command', '?'))}</pre>"]
    if manifest.get("pus"):
        parts.append(f'<p class="note">{esc(manifest["pus"])} PUs '
                     f"({esc(manifest.get('pus_source', '?'))}).</p>")
    rows, classes = [], []
    for call in manifest.get("calls", []):
        if not isinstance(call, dict):
            continue
        status = call.get("exit")
        failed = status not in (0, None)
        rows.append([esc(call.get("what", "")), f"<code>{esc(call.get('command', ''))}</code>",
                     esc("not run" if status is None else status),
                     (f'<span class="bad">{esc(call.get("error") or "(no message)")}</span>'
                      if failed else esc(call.get("error") or ""))])
        classes.append("failed" if failed else "")
    parts.append(table(["what", "bench command", "exit", "error"], rows, classes))
    skipped = [s for s in manifest.get("skipped", []) if isinstance(s, dict)]
    if skipped:
        items = [f"<li>{esc(s.get('what', '?'))}"
                 + (f" {esc(s['backends'])}" if s.get("backends") else "")
                 + (f", procs {esc(s['procs'])}" if s.get("procs") else "")
                 + f": {esc(s.get('reason', ''))}</li>" for s in skipped]
        parts.append(f"<h3>Skipped: {len(skipped)} impossible or meaningless "
                     f"configuration(s)</h3><ul>" + "\n".join(items) + "</ul>")
    else:
        parts.append("<p>No configuration of the standard matrix was skipped.</p>")
    return "\n".join(parts)


def warning_items(rs, manifest=None):
    """Every warning as escaped HTML list items."""
    items = [esc(w) for w in rs.warnings]
    for call in failed_calls(manifest):
        items.append(f'<span class="bad">bench failed (exit {esc(call.get("exit"))})</span>: '
                     f"<code>{esc(call.get('command', ''))}</code> — "
                     f"{esc(call.get('error') or '(no message)')}")
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


def warnings_section(rs, manifest=None):
    items = warning_items(rs, manifest)
    if not items:
        return "<p>No warnings.</p>"
    return '<ul class="warnings">' + "\n".join(f"<li>{i}</li>" for i in items) + "</ul>"


def reproduce_section(rs, argv, manifest=None):
    parts = []
    if manifest:
        parts.append(f"<h3>The sweep</h3><pre>{esc(manifest.get('command', '?'))}</pre>")
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


def build(rs, argv, plots_dir, title=None, images=None, manifest=None):
    """The report page for `rs` as a string. Plots are written to `plots_dir`, unless `images`
    ({workload: [paths]}, from plot.plot_all) already holds them. `manifest`: a sweep's."""
    images = images or plot.plot_all(rs, plots_dir)
    title = title or f"ipcsync results — {', '.join(host_labels(rs))}"
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    sections = [("summary", "Summary", summary_section(rs))]
    if manifest:
        sections.append(("sweep", "Sweep", sweep_section(manifest)))
    sections.append(("contexts", "Host contexts", contexts_section(rs)))
    prov = provenance_section(rs)
    if prov:
        sections.append(("provenance", "Runs differ in their provenance", prov))
    for workload in rs.workloads():
        sections.append((f"workload-{R.safe_name(workload)}", f"Workload: {workload}",
                         workload_section(rs, workload, images[workload])))
    sections.append(("warnings", "Warnings", warnings_section(rs, manifest)))
    sections.append(("reproduce", "Reproduce", reproduce_section(rs, argv, manifest)))
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
    ap.add_argument("--sweep", metavar="MANIFEST.json", help="the sweep-manifest.json of a "
                    "sweep.py run: its command, bench calls and skipped configurations")
    args = ap.parse_args(argv)
    manifest = read_manifest(args.sweep) if args.sweep else None
    rs = R.load(args.files, workload=args.workload, run_id=args.run_id)
    plot.warn(rs.warnings, "report.py")
    out = args.out or os.path.splitext(args.files[0])[0] + "-report.html"
    if args.plots_dir:
        text = build(rs, argv, args.plots_dir, args.title, manifest=manifest)
    else:
        with tempfile.TemporaryDirectory(prefix="ipcsync-report-") as tmp:
            text = build(rs, argv, tmp, args.title, manifest=manifest)
    write_text(out, text)
    print(out)
    return 0


if __name__ == "__main__":
    R.main_guard(main)

#!/usr/bin/python3
"""show_latest.py — plot the latest ipcsync run right away and print the image paths.

    /usr/bin/python3 scripts/show_latest.py [--results DIR] [--host H] [--all] [--report]

Finds the newest results CSV (by modification time) under results/<host>/ (and one level
deeper, e.g. a sweep directory), skipping results/fixtures/ and any CSV that is not an
ipcsync results file, then plots the rows of its latest run (the run_id of its most recent
row; --all plots the whole file) with plot.py into <stem>-run-<run_id>-plots/ (or
<stem>-plots/ with --all) beside the CSV. The image paths go to stdout, one per line; which
file and run were chosen goes to stderr. --report also writes the HTML report and prints its
path last.

The results directory is ./results when it exists, else the repository's results/.
"""

import argparse
import glob
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ipcsync_results as R  # noqa: E402
import plot  # noqa: E402
import report  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIP_DIRS = ("fixtures",)


def default_results_dir():
    return "results" if os.path.isdir("results") else os.path.join(REPO, "results")


def is_results_csv(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.readline().lstrip("\ufeff").startswith("schema_version,")
    except OSError:
        return False


def candidates(results_dir, host=None):
    hosts = [host] if host else sorted(os.listdir(results_dir))
    out = []
    for h in hosts:
        base = os.path.join(results_dir, h)
        if h in SKIP_DIRS or not os.path.isdir(base):
            continue
        for pattern in ("*.csv", os.path.join("*", "*.csv")):
            out += [p for p in glob.glob(os.path.join(base, pattern)) if is_results_csv(p)]
    return out


def newest_csv(results_dir, host=None):
    if not os.path.isdir(results_dir):
        raise R.InputError(f"no results directory {results_dir} (run bench first, e.g. "
                           f"./build/bench --primitive lock --procs 1,2,4)")
    if host and not os.path.isdir(os.path.join(results_dir, host)):
        raise R.InputError(f"no results for host {host} in {results_dir}")
    found = candidates(results_dir, host)
    if not found:
        raise R.InputError(f"no results CSV under {results_dir}/<host>/ (run bench first, "
                           f"e.g. ./build/bench --primitive lock --procs 1,2,4)")
    return max(found, key=lambda p: (os.path.getmtime(p), p))


def latest_run_id(rows):
    """The run of the most recent row (ISO timestamps sort as text; ties: the later row)."""
    order = rows.assign(_pos=range(len(rows))).sort_values(["timestamp", "_pos"])
    return order["run_id"].iloc[-1]


def main(argv=None):
    ap = argparse.ArgumentParser(prog="show_latest.py", description="Plot the latest ipcsync "
                                 "run and print the image paths.")
    ap.add_argument("--results", metavar="DIR", help="results directory (default: ./results "
                    "if it exists, else the repository's results/)")
    ap.add_argument("--host", help="only look in results/<HOST>/")
    ap.add_argument("--all", action="store_true", help="plot the whole newest file, not only "
                    "its latest run")
    ap.add_argument("--report", action="store_true", help="also write the HTML report")
    args = ap.parse_args(argv)
    path = newest_csv(args.results or default_results_dir(), args.host)
    rs = R.load([path])
    stem = os.path.splitext(path)[0]
    if args.all:
        out_dir, what = f"{stem}-plots", "all runs"
    else:
        run_id = latest_run_id(rs.rows)
        rs = R.select(rs, run_id=run_id)
        out_dir, what = f"{stem}-run-{R.safe_name(run_id)}-plots", f"run {run_id}"
    plot.warn(rs.warnings, "show_latest.py")
    print(f"show_latest.py: {path}: {what}, {len(rs.rows)} rows, workloads "
          f"{', '.join(rs.workloads())}", file=sys.stderr)
    images = plot.plot_all(rs, out_dir)
    for paths in images.values():
        for p in paths:
            print(p)
    if args.report:
        html_path = out_dir[:-len("-plots")] + "-report.html"
        argv_report = [path, "--out", html_path, "--plots-dir", out_dir]
        if not args.all:
            argv_report += ["--run-id", run_id]
        report.write_text(html_path, report.build(rs, argv_report, out_dir, images=images))
        print(html_path)
    return 0


if __name__ == "__main__":
    R.main_guard(main)

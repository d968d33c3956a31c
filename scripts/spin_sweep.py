#!/usr/bin/python3
"""spin_sweep.py — how long should a native waiter spin before it parks? Run the workloads the
spin budget matters to under a range of budgets (IPCSYNC_SPIN_NS), interleaved, and print the
median of each figure per budget.

    /usr/bin/python3 scripts/spin_sweep.py [--build build] [--budgets 0,250,...] [--repeat 5]
                                           [--duration 0.5] [--out DIR]

The figures (all native, the workers pinned by bench's default plan):
  counter_2      Lock, 2-process counter, ops/s (higher is better)
  pingpong_p50   Semaphore ping-pong round trip, p50 in ns (lower is better)
  buffer_2       semaphore-pair bounded_buffer, 1 producer 1 consumer, items/s (higher)
  counter_8      Lock, 8-process counter (oversubscribed on small hosts), ops/s (higher)
  fairness_8     ... and its Jain fairness (at least 0.9 wanted)
Each repetition runs every budget once, in a rotated order, so the machine's drift spreads over
all budgets. Rows that are not `ok` (short_window, noisy machines still count) are left out of
the medians and counted. The calibration bench recorded (PAUSE's cost on this host, the budget
in PAUSEs) is printed from the JSON context. With --out the CSVs are kept there; otherwise they
go to a temporary directory removed at exit. Bad input: one line on stderr, exit 2.
"""

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

FIGURES = (
    # name, bench flags, column, unit
    ("counter_2", ["-w", "counter", "-p", "lock", "--procs", "2"], "ops_per_sec", "ops/s"),
    ("pingpong_p50", ["-w", "pingpong", "-p", "semaphore", "--procs", "2"], "lat_p50_ns", "ns"),
    ("buffer_2", ["-w", "bounded_buffer", "-p", "semaphore", "--procs", "2"], "ops_per_sec", "items/s"),
    ("counter_8", ["-w", "counter", "-p", "lock", "--procs", "8"], "ops_per_sec", "ops/s"),
)


def run(bench, flags, budget, duration, out):
    env = dict(os.environ, IPCSYNC_SPIN_NS=str(budget))
    env.pop("IPCSYNC_SPIN", None)  # the older PAUSE count would win over the budget
    argv = [bench, *flags, "-b", "native", "--duration", str(duration), "--warmup", "0.2",
            "--format", "csv", "--out", out, "--quiet"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=env)
    rows = list(csv.DictReader(line for line in r.stdout.splitlines() if line))
    if not rows:
        raise RuntimeError(f"{' '.join(argv)}: exit {r.returncode}: {r.stderr.strip()[:200]}")
    return rows[-1]


def fmt(v, unit):
    if v is None:
        return "-"
    if unit == "ns":
        return f"{v:.0f}"
    if unit == "":
        return f"{v:.3f}"
    return f"{v / 1e6:.2f}M"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--budgets", default="0,250,500,1000,2000,4000,8000,16000",
                    help="spin budgets in ns, comma separated [0,250,...,16000]")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--duration", type=float, default=0.5)
    ap.add_argument("--out", default="", help="keep the CSVs (and JSON contexts) in this directory")
    args = ap.parse_args()
    bench = os.path.join(args.build, "bench")
    try:
        budgets = [int(b) for b in args.budgets.split(",")]
    except ValueError:
        budgets = []
    if not budgets or any(b < 0 or b > 1_000_000_000 for b in budgets):
        print("spin_sweep.py: --budgets must be integers in [0, 1e9] ns, comma separated", file=sys.stderr)
        return 2
    if args.repeat < 1 or not 0 < args.duration <= 60:
        print("spin_sweep.py: --repeat must be >= 1 and --duration in (0, 60] seconds", file=sys.stderr)
        return 2
    if not os.access(bench, os.X_OK):
        print(f"spin_sweep.py: no bench at {bench} (build it, or give --build)", file=sys.stderr)
        return 2
    keep = bool(args.out)
    outdir = args.out or tempfile.mkdtemp(prefix="ipcsync-spin-")
    os.makedirs(outdir, exist_ok=True)
    values = {(b, f[0]): [] for b in budgets for f in FIGURES}
    fair = {b: [] for b in budgets}
    dropped = 0
    try:
        for rep in range(args.repeat):
            order = budgets[rep % len(budgets):] + budgets[:rep % len(budgets)]
            for b in order:
                for name, flags, column, _ in FIGURES:
                    row = run(bench, flags, b, args.duration, os.path.join(outdir, f"spin-{b}.csv"))
                    if row["status"] != "ok" or not row[column]:
                        dropped += 1
                        continue
                    values[(b, name)].append(float(row[column]))
                    if name == "counter_8" and row["fairness"]:
                        fair[b].append(float(row["fairness"]))
            print(f"repetition {rep + 1}/{args.repeat} done", file=sys.stderr)
        with open(os.path.join(outdir, f"spin-{budgets[0]}.json")) as f:
            runs = json.load(f).get("runs", [])
        spins = [r.get("spin", {}) for r in runs]
        pause = statistics.median([s["pause_ns"] for s in spins if "pause_ns" in s]) if spins else None
        med = lambda xs: statistics.median(xs) if xs else None
        header = ["budget ns", "PAUSEs"] + [f"{n} ({u})" for n, _, _, u in FIGURES] + ["fairness_8"]
        lines = []
        for b in budgets:
            cells = [str(b), str(round(b / pause)) if pause else "-"]
            cells += [fmt(med(values[(b, n)]), u) for n, _, _, u in FIGURES]
            cells.append(fmt(med(fair[b]), ""))
            lines.append(cells)
        widths = [max(len(h), *(len(l[i]) for l in lines)) for i, h in enumerate(header)]
        print(f"PAUSE on this host: {pause:.1f} ns (bench's calibration, median over its runs)" if pause
              else "PAUSE: not in the JSON context")
        print(f"medians of {args.repeat} interleaved repetitions, {args.duration} s each; "
              f"{dropped} rows not ok left out")
        print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
        for l in lines:
            print("  ".join(c.rjust(w) for c, w in zip(l, widths)))
        if keep:
            print(f"rows in {outdir}")
    finally:
        if not keep:
            shutil.rmtree(outdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

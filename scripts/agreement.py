#!/usr/bin/python3
"""agreement.py — does bench measure the operation, or itself? Run the independent probes of
bench_micro/probes/ and bench's matching configurations interleaved, repetition by repetition,
and print the median of each and their ratio.

    /usr/bin/python3 scripts/agreement.py [--build build] [--repeat 5] [--duration 1]
                                          [--only NAME,...] [--json FILE]

A ratio of 1 means bench and the probe agree. Throughput rows compare ops/s (bench / probe
below 1: bench counts fewer ops); time rows compare ns per op (above 1: bench reads slower).
The probes are built with the micro-benchmarks (cmake target probe_floor etc., in
<build>/probes/); the python row needs /usr/bin/python3. Each repetition runs the probe and
bench back to back, alternating which goes first, so that the machine's drift hits both. The
results are written to a temporary directory that is removed at exit (nothing in results/).
Bad input: one line on stderr and exit 2.
"""

import argparse
import csv
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PROBES_SRC = os.path.join(REPO, "bench_micro", "probes")


def allowed_pus():
    return sorted(os.sched_getaffinity(0))


class Op:
    """One operation measured both ways.

    probe(dur) -> argv; bench -> bench flags; kind: 'ops' (throughput, ops/s) or 'ns' (time per
    op); bench_value(row) -> the bench figure in the same unit as the probe's."""

    def __init__(self, name, label, kind, probe, bench, bench_value):
        self.name, self.label, self.kind = name, label, kind
        self.probe, self.bench, self.bench_value = probe, bench, bench_value


def operations(build, python):
    p = os.path.join(build, "probes")
    a, b = (allowed_pus() + allowed_pus())[:2]
    a, b = str(a), str(b)
    per_sec = lambda row: float(row["ops_per_sec"])
    ns_per_op = lambda row: 1e9 / float(row["ops_per_sec"])
    # pingpong: one op is one message and both workers count theirs, so a pair's ops/s is
    # twice its round trips/s: the mean round trip is 2e9 / ops_per_sec.
    round_trip = lambda row: 2e9 / float(row["ops_per_sec"])
    return [
        Op("posix_lock_2", "posix Lock (robust mutex), 2 processes", "ops",
           lambda d: [f"{p}/probe_mutex", "2", "robust", str(d)],
           ["-p", "lock", "-b", "posix", "--procs", "2"], per_sec),
        Op("plain_lock_2", "posix_plain Lock (plain mutex), 2 processes", "ops",
           lambda d: [f"{p}/probe_mutex", "2", "plain", str(d)],
           ["-p", "lock", "-b", "posix_plain", "--procs", "2"], per_sec),
        Op("boost_lock_2", "boost Lock, 2 processes", "ops",
           lambda d: [f"{p}/probe_boost", "2", str(d)],
           ["-p", "lock", "-b", "boost", "--procs", "2"], per_sec),
        Op("posix_lock_1", "posix Lock (robust mutex), 1 process, ns per op", "ns",
           lambda d: [f"{p}/probe_mutex", "1", "robust", str(d)],
           ["-p", "lock", "-b", "posix", "--procs", "1"], ns_per_op),
        Op("plain_lock_1", "posix_plain Lock (plain mutex), 1 process, ns per op", "ns",
           lambda d: [f"{p}/probe_mutex", "1", "plain", str(d)],
           ["-p", "lock", "-b", "posix_plain", "--procs", "1"], ns_per_op),
        Op("floor", "cache-line round trip (one line each way), mean", "ns",
           lambda d: [f"{p}/probe_floor", a, b, str(int(2e6 * d))],
           ["-w", "pingpong", "-p", "cacheline", "--procs", "2"], round_trip),
        Op("floor_p50", "cache-line round trip: bench p50 (net of the clock) / probe mean", "ns",
           lambda d: [f"{p}/probe_floor", a, b, str(int(2e6 * d))],
           ["-w", "pingpong", "-p", "cacheline", "--procs", "2"], lambda row: float(row["lat_p50_ns"])),
        Op("sem_pingpong", "sem_t ping-pong round trip, mean", "ns",
           lambda d: [f"{p}/probe_sem", a, b, str(int(4e4 * d))],
           ["-w", "pingpong", "-p", "semaphore", "-b", "posix", "--procs", "2"], round_trip),
        Op("python_lock_2", "Python multiprocessing Lock counter, 2 processes", "ops",
           lambda d: [python, os.path.join(PROBES_SRC, "probe_mp_lock.py"), "2", str(d)],
           ["-p", "lock", "-b", "python", "--procs", "2"], per_sec),
    ]


def run_probe(argv, per_op=False):
    """The probe's figure; per_op: it prints ops/s and the row compares ns per op."""
    r = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {r.returncode}: {r.stderr.strip()[:200]}")
    v = float(r.stdout.split()[-1])
    return 1e9 / v if per_op else v


def run_bench(bench, flags, duration, out):
    argv = [bench, *flags, "--duration", str(duration), "--warmup", "0.2", "--format", "csv", "--out", out]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    rows = list(csv.DictReader(line for line in r.stdout.splitlines() if line))
    if r.returncode != 0 or not rows:
        raise RuntimeError(f"{' '.join(argv)}: exit {r.returncode}: {r.stderr.strip()[:200]}")
    return rows[-1]


def median(xs):
    xs = [x for x in xs if x is not None and math.isfinite(x)]
    return statistics.median(xs) if xs else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(REPO, "build"), help="the build directory (bench, probes/)")
    ap.add_argument("--repeat", type=int, default=5, help="interleaved repetitions [5]")
    ap.add_argument("--duration", type=float, default=1.0, help="seconds per measurement [1]")
    ap.add_argument("--only", default="", help="comma separated operation names (default: all)")
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--json", default="", help="also write the medians and ratios to this JSON file")
    args = ap.parse_args()
    bench = os.path.join(args.build, "bench")
    if args.repeat < 1 or not 0 < args.duration <= 60:
        print("agreement.py: --repeat must be >= 1 and --duration in (0, 60] seconds", file=sys.stderr)
        return 2
    if not os.access(bench, os.X_OK):
        print(f"agreement.py: no bench at {bench} (build it, or give --build)", file=sys.stderr)
        return 2
    ops = operations(args.build, args.python)
    if args.only:
        wanted = args.only.split(",")
        unknown = [w for w in wanted if w not in {o.name for o in ops}]
        if unknown:
            print(f"agreement.py: --only: unknown operation(s) {', '.join(unknown)} "
                  f"(accepted: {', '.join(o.name for o in ops)})", file=sys.stderr)
            return 2
        ops = [o for o in ops if o.name in wanted]
    missing = [o.probe(1)[0] for o in ops if not os.access(o.probe(1)[0], os.X_OK)]
    if missing:
        print(f"agreement.py: probe(s) not built: {', '.join(sorted(set(missing)))} "
              f"(cmake --build {args.build} --target probe_floor probe_mutex probe_sem probe_boost)",
              file=sys.stderr)
        return 2

    probe_v = {o.name: [] for o in ops}
    bench_v = {o.name: [] for o in ops}
    flagged = {o.name: 0 for o in ops}
    overhead = []
    with tempfile.TemporaryDirectory(prefix="ipcsync-agreement-") as tmp:
        out = os.path.join(tmp, "agreement.csv")
        for rep in range(args.repeat):
            for i, o in enumerate(ops):
                def probe():
                    # probe_mutex prints ops/s; its 1-process rows compare ns per op
                    per_op = o.kind == "ns" and "probe_mutex" in o.probe(args.duration)[0]
                    probe_v[o.name].append(run_probe(o.probe(args.duration), per_op))

                def bench_run():
                    row = run_bench(bench, o.bench, args.duration, out)
                    if row["status"] != "ok":
                        flagged[o.name] += 1
                        bench_v[o.name].append(None)
                    else:
                        bench_v[o.name].append(o.bench_value(row))
                first, second = (probe, bench_run) if (rep + i) % 2 == 0 else (bench_run, probe)
                first()
                second()
                print(f"  rep {rep + 1}/{args.repeat} {o.name}: probe {probe_v[o.name][-1]:.4g}  "
                      f"bench {bench_v[o.name][-1] if bench_v[o.name][-1] is not None else 'flagged'}",
                      file=sys.stderr)
        with open(os.path.join(tmp, "agreement.json")) as f:
            for run in json.load(f).get("runs", []):
                lo = run.get("harness", {}).get("loop_overhead_ns")
                if lo is not None:
                    overhead.append(lo)

    result = []
    print(f"| operation | unit | probe (median of {args.repeat}) | bench (median) | bench / probe |")
    print("|---|---|---|---|---|")
    for o in ops:
        pm, bm = median(probe_v[o.name]), median(bench_v[o.name])
        ratio = bm / pm if pm and math.isfinite(pm) and math.isfinite(bm) else float("nan")
        unit = "ops/s" if o.kind == "ops" else "ns"
        fmt = (lambda v: f"{v / 1e6:.2f}M") if o.kind == "ops" and pm > 1e5 else (lambda v: f"{v:,.1f}")
        note = f" ({flagged[o.name]} bench rows flagged, left out)" if flagged[o.name] else ""
        print(f"| {o.label}{note} | {unit} | {fmt(pm)} | {fmt(bm)} | {ratio:.2f} |")
        result.append({"name": o.name, "label": o.label, "unit": unit, "probe": probe_v[o.name],
                       "bench": bench_v[o.name], "probe_median": pm, "bench_median": bm, "ratio": ratio,
                       "flagged": flagged[o.name]})
    by = {r["name"]: r for r in result}
    extra = {}
    for robust, plain in (("posix_lock_1", "plain_lock_1"), ("posix_lock_2", "plain_lock_2")):
        if robust in by and plain in by:
            r, p = by[robust], by[plain]
            k = "ns" if r["unit"] == "ns" else "ops"
            b = r["bench_median"] / p["bench_median"]
            q = r["probe_median"] / p["probe_median"]
            extra[f"robust_over_plain_{robust[-1]}"] = {"bench": b, "probe": q}
            what = "time per op" if k == "ns" else "ops/s"
            print(f"\nCost of robustness ({robust[-1]} process{'es' if robust[-1] != '1' else ''}, {what}, "
                  f"robust / plain): bench {b:.2f}, probe {q:.2f}")
    if overhead:
        extra["harness_loop_overhead_ns"] = median(overhead)
        print(f"harness loop overhead (empty op, median of {len(overhead)} bench runs): "
              f"{median(overhead):.2f} ns per op")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"repeat": args.repeat, "duration_s": args.duration, "operations": result, **extra}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

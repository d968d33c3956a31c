#!/usr/bin/python3
"""figures_foundation.py — measure the foundation's headline figures, side by side, in one run.

    /usr/bin/python3 scripts/figures_foundation.py [--build build] [--duration 1] [--repeat 5]
        [--out results/figures/foundation-<UTC time>.csv]

Two measurements, each one invocation so that every ratio is taken on the same machine state:
  1. build/ipcsync_micro: uncontended acquire+release of every Lock and Semaphore backend and the
     atomic fetch_add floor, --benchmark_repetitions with random interleaving; medians.
  2. build/bench: the counter workload for lock and semaphore, backends native, posix and spin,
     2 and 8 processes (8 > PUs on a 2-PU machine), repetitions interleaved; medians of ops/s.
Then it prints each figure beside its target (issue 2's list) and exits 1 if one is missed.
"""

import argparse
import datetime
import json
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ipcsync_results as R  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def micro_medians(exe, repeat):
    cmd = [exe, f"--benchmark_repetitions={repeat}", "--benchmark_enable_random_interleaving=true",
           "--benchmark_min_time=0.2", "--benchmark_format=json",
           "--benchmark_filter=BM_AtomicFetchAdd|BM_Lock|BM_Semaphore"]
    print("$", " ".join(cmd), flush=True)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    med = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name") == "median":
            med[b["run_name"]] = b["real_time"]  # ns per acquire+release (time_unit ns)
    return med


def bench_medians(exe, out, duration, repeat):
    cmd = [exe, "--primitive", "lock,semaphore", "--backend", "native,posix,spin", "--procs", "2,8",
           "--duration", str(duration), "--repeat", str(repeat), "--out", out, "--format", "csv"]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    rs = R.load(out)
    df = R.ok_rows(rs.rows)
    med = df.groupby(["primitive", "backend", "procs"])["ops_per_sec"].median()
    fair = df.groupby(["primitive", "backend", "procs"])["fairness"].median()
    return med, fair, rs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--duration", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = a.out or os.path.join(ROOT, "results", "figures", f"foundation-{stamp}.csv")
    os.makedirs(os.path.dirname(out), exist_ok=True)

    micro = micro_medians(os.path.join(a.build, "ipcsync_micro"), a.repeat)
    med, fair, rs = bench_medians(os.path.join(a.build, "bench"), out, a.duration, a.repeat)
    ctx = next(iter(rs.contexts.values()), {})

    floor = micro["BM_AtomicFetchAdd"]
    rows = []

    def fig(name, value, target, ok, detail):
        rows.append((name, value, target, "yes" if ok else "NO", detail))

    r = micro["BM_Lock/native"] / floor
    fig("native Lock uncontended / fetch_add floor", f"{r:.2f}x", "<= 2x", r <= 2,
        f"{micro['BM_Lock/native']:.2f} ns vs {floor:.2f} ns")
    r = micro["BM_Lock/native"] / micro["BM_Lock/posix"]
    fig("native Lock uncontended / posix Lock", f"{r:.2f}x", "<= 0.75x", r <= 0.75,
        f"{micro['BM_Lock/native']:.2f} ns vs {micro['BM_Lock/posix']:.2f} ns")
    r = micro["BM_Semaphore/native"] / micro["BM_Semaphore/posix"]
    fig("native Semaphore uncontended / posix sem_t", f"{r:.2f}x", "(report)", True,
        f"{micro['BM_Semaphore/native']:.2f} ns vs {micro['BM_Semaphore/posix']:.2f} ns")
    for prim in ("lock", "semaphore"):
        n2, p2 = med[(prim, "native", 2)], med[(prim, "posix", 2)]
        fig(f"{prim} counter, 2 procs: native / posix", f"{n2 / p2:.2f}x", ">= 1.5x", n2 / p2 >= 1.5,
            f"{R.fmt_rate(n2)} vs {R.fmt_rate(p2)} ops/s")
    for prim in ("lock", "semaphore"):
        for be in ("native", "posix", "spin"):
            n2, n8 = med[(prim, be, 2)], med[(prim, be, 8)]
            target = ">= 0.9x" if be == "native" else "(report)"
            fig(f"{prim} counter, {be}: 8 procs / 2 procs", f"{n8 / n2:.2f}x", target,
                n8 / n2 >= 0.9 or be != "native",
                f"{R.fmt_rate(n8)} vs {R.fmt_rate(n2)} ops/s, Jain {fair[(prim, be, 8)]:.2f} at 8")

    print()
    print(f"host {ctx.get('host_id', '?')}: {ctx.get('cpu_model', '?')}, "
          f"{ctx.get('topology', {}).get('pus', '?')} PUs, pin compact; medians of {a.repeat} "
          f"interleaved repetitions; bench rows in {out}")
    print(R.format_table(("figure", "measured", "target", "met", "detail"), rows))
    return 0 if all(r[3] == "yes" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(R.main_guard(main))

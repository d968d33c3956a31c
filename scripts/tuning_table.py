#!/usr/bin/python3
"""tuning_table.py — does native lead on this CPU, against floors measured in the same run?

    /usr/bin/python3 scripts/tuning_table.py [--build build] [--repeat 5] [--duration 0.5]
                                             [--reference CSV] [--out DIR]

One run, these figures (bench's --repeat interleaves the backends of each call; medians):
  lock_native_posix   native / posix Lock, 2-process counter, ops/s           (goal >= 1.8)
  lock_vs_atomic      native Lock acquire+release uncontended / atomic fetch_add
                      (ipcsync_micro, random interleaving)                    (goal <= 1.3)
  sem_pingpong_floor  native Semaphore ping-pong p50 / one-line round trip: bench's cacheline
                      floor p50, and the independent probe_floor's mean     (goal <= 2)
  buffer_native_spin  native / spin semaphore-pair bounded_buffer, 1P1C, items/s (goal >= 1.5)
  queue_ring_8/1024   native Queue / spsc_ring, 1P1C, 16 B items, capacity 8 and 1024, items/s
                                                                            (goal >= 0.5)
  counter_8           native Lock, 8-process counter: ops/s and fairness  (fairness >= 0.9)
With --reference (a sweep.csv of another host, e.g. results/reference/vm-49ae7fe5/sweep.csv), the
figures that sweep holds are computed from it and printed beside. Rows land in --out (default a
temporary directory, removed). Bad input: one line on stderr, exit 2.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ipcsync_results as R  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(argv):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=1800)
    if r.returncode != 0:
        raise R.InputError(f"{' '.join(argv)}: exit {r.returncode}: {r.stderr.strip()[:300]}")
    return r.stdout


def medians(df, keys, column):
    ok = R.ok_rows(df)
    return ok.groupby(keys)[column].median()


def param(df, name):
    return df["params"].str.extract(rf"(?:^|;){name}=(\d+)")[0].astype(float)


def ratio(a, b):
    return a / b if a is not None and b and b == b else None


def fmt(v, digits=2):
    return "-" if v is None or v != v else f"{v:.{digits}f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--duration", type=float, default=0.5)
    ap.add_argument("--reference", default="", help="a sweep CSV of another host, for its figures beside")
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    exe = os.path.join(a.build, "bench")
    micro = os.path.join(a.build, "ipcsync_micro")
    probe = os.path.join(a.build, "probes", "probe_floor")
    for f in (exe, micro, probe):
        if not os.access(f, os.X_OK):
            raise R.InputError(f"{f} is not built (cmake --build {a.build})")
    if a.repeat < 1 or not 0 < a.duration <= 60:
        raise R.InputError("--repeat must be >= 1 and --duration in (0, 60] seconds")
    if a.reference and not os.path.exists(a.reference):
        raise R.InputError(f"--reference: no such file {a.reference}")
    keep = bool(a.out)
    out = a.out or tempfile.mkdtemp(prefix="ipcsync-tuning-")
    os.makedirs(out, exist_ok=True)
    common = ["--duration", str(a.duration), "--warmup", "0.2", "--repeat", str(a.repeat), "--quiet", "--format", "csv"]
    fig = {}
    try:
        def bench(name, args):
            path = os.path.join(out, f"{name}.csv")
            run([exe, *args, *common, "--out", path])
            return R.load([path]).rows

        df = bench("lock", ["-w", "counter", "-p", "lock", "-b", "native,posix", "--procs", "2,8"])
        m = medians(df, ["backend", "procs"], "ops_per_sec")
        fig["lock_native_posix"] = ratio(m.get(("native", 2)), m.get(("posix", 2)))
        fig["counter_8_ops"] = m.get(("native", 8))
        fig["counter_8_fairness"] = medians(df, ["backend", "procs"], "fairness").get(("native", 8))

        js = json.loads(run([micro, "--benchmark_filter=^BM_(AtomicFetchAdd|Lock/native)$",
                             f"--benchmark_repetitions={max(a.repeat, 3)}", "--benchmark_enable_random_interleaving=true",
                             "--benchmark_min_time=0.1", "--benchmark_format=json"]))
        mic = {b["run_name"]: b["real_time"] for b in js["benchmarks"] if b.get("aggregate_name") == "median"}
        fig["lock_vs_atomic"] = ratio(mic.get("BM_Lock/native"), mic.get("BM_AtomicFetchAdd"))
        fig["atomic_ns"] = mic.get("BM_AtomicFetchAdd")

        df = bench("pingpong", ["-w", "pingpong", "-p", "cacheline,semaphore", "-b", "native", "--procs", "2"])
        m = medians(df, ["primitive"], "lat_p50_ns")
        pus = sorted(os.sched_getaffinity(0))
        probes = []
        for _ in range(a.repeat):
            probes.append(float(run([probe, str(pus[0]), str(pus[-1]), str(int(2e6 * a.duration))]).split()[-1]))
        floor_probe = statistics.median(probes)
        fig["floor_bench_p50"], fig["floor_probe"] = m.get("cacheline"), floor_probe
        fig["sem_pingpong_p50"] = m.get("semaphore")
        fig["sem_pingpong_floor_bench"] = ratio(m.get("semaphore"), m.get("cacheline"))
        fig["sem_pingpong_floor_probe"] = ratio(m.get("semaphore"), floor_probe)

        df = bench("buffer", ["-w", "bounded_buffer", "-p", "semaphore", "-b", "native,spin", "--procs", "2"])
        m = medians(df, ["backend"], "ops_per_sec")
        fig["buffer_native_spin"] = ratio(m.get("native"), m.get("spin"))

        df = bench("queue", ["-w", "bounded_buffer", "-p", "queue,spsc_ring", "-b", "native", "--procs", "2",
                             "--msg-size", "16", "--capacity", "8,1024"])
        df = df.assign(cap=param(df, "capacity"))
        m = medians(df, ["primitive", "cap"], "ops_per_sec")
        for cap in (8, 1024):
            fig[f"queue_ring_{cap}"] = ratio(m.get(("queue", cap)), m.get(("spsc_ring", cap)))
            fig[f"ring_{cap}_ops"] = m.get(("spsc_ring", cap))

        spin = json.load(open(os.path.join(out, "lock.json")))["runs"][-1].get("spin", {})
        ctx = json.load(open(os.path.join(out, "lock.json")))
        ref = {}
        if a.reference:
            rd = R.ok_rows(R.load([a.reference]).rows)
            c = rd[(rd["workload"] == "counter") & (rd["primitive"] == "lock")].groupby(["backend", "procs"])["ops_per_sec"].median()
            ref["lock_native_posix"] = ratio(c.get(("native", 2)), c.get(("posix", 2)))
        print(f"host: {ctx.get('cpu_model', '?')} ({ctx.get('host_id', '?')}), {len(pus)} allowed PUs; "
              f"PAUSE {fmt(spin.get('pause_ns'), 1)} ns, spin budget {spin.get('budget_ns', '?')} ns = "
              f"{spin.get('limit_pauses', '?')} PAUSEs ({spin.get('source', '?')})")
        print(f"medians of {a.repeat} interleaved repetitions of {a.duration} s; atomic fetch_add "
              f"{fmt(fig['atomic_ns'])} ns; floor: bench p50 {fmt(fig['floor_bench_p50'], 0)} ns, "
              f"probe_floor mean {fmt(floor_probe, 0)} ns")
        rows = [
            ("native / posix Lock, 2-process counter", fig["lock_native_posix"], ">= 1.8", ref.get("lock_native_posix")),
            ("native Lock uncontended / atomic fetch_add", fig["lock_vs_atomic"], "<= 1.3", None),
            ("native Semaphore ping-pong p50 / bench floor p50", fig["sem_pingpong_floor_bench"], "<= 2", None),
            ("native Semaphore ping-pong p50 / probe_floor", fig["sem_pingpong_floor_probe"], "<= 2", None),
            ("native / spin semaphore-pair bounded_buffer", fig["buffer_native_spin"], ">= 1.5", None),
            ("native Queue / spsc_ring, 16 B, capacity 8", fig["queue_ring_8"], ">= 0.5", None),
            ("native Queue / spsc_ring, 16 B, capacity 1024", fig["queue_ring_1024"], ">= 0.5", None),
            ("native Lock, 8-process counter, fairness", fig["counter_8_fairness"], ">= 0.9", None),
        ]
        print(R.format_table(("figure", "this run", "goal", "reference"),
                             [(n, fmt(v), g, fmt(r)) for n, v, g, r in rows]))
        print(f"8-process counter: {fmt((fig['counter_8_ops'] or 0) / 1e6)}M ops/s; "
              f"spsc_ring: {fmt((fig['ring_8_ops'] or 0) / 1e6)}M (cap 8), {fmt((fig['ring_1024_ops'] or 0) / 1e6)}M (cap 1024) items/s")
        if keep:
            print(f"rows in {out}")
    finally:
        if not keep:
            shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(R.main_guard(main))

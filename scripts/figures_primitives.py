#!/usr/bin/python3
"""figures_primitives.py — the primitive set's figures, side by side, in one run each.

    /usr/bin/python3 scripts/figures_primitives.py [--build build] [--duration 1] [--repeat 5]

  1. build/ipcsync_micro: the uncontended cost of every primitive's main operation (random
     interleaving, medians of --repeat repetitions), beside the atomic fetch_add floor.
  2. build/bench, one call: handoffs between processes — the Event, Condition and Semaphore
     ping-pong round trip, the Barrier round — beside the cache-line ping-pong floor, at 2
     processes (<= cores) and 8 (> cores). Medians of interleaved repetitions.
  3. build/bench, one call: Queue messages/s between one producer and one consumer process (capacity
     8, under the POSIX mqueue default limit of 10), for
     16-byte and 256-byte items (bounded_buffer --msg-size; 16 B is the smallest item, as it carries
     the producer tag and the put timestamp the latency needs), native beside posix and boost where
     they implement the queue role.
Prints the tables; rows land in results/figures/.
"""

import argparse
import datetime
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ipcsync_results as R  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd):
    print("$", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def micro(exe, repeat):
    out = run([exe, f"--benchmark_repetitions={repeat}", "--benchmark_enable_random_interleaving=true",
               "--benchmark_min_time=0.1", "--benchmark_format=json"])
    return {b["run_name"]: b["real_time"] for b in json.loads(out)["benchmarks"]
            if b.get("aggregate_name") == "median"}


def bench(exe, args, out):
    run([exe, *args, "--out", out, "--format", "csv"])
    return R.ok_rows(R.load(out).rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--duration", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    outdir = os.path.join(ROOT, "results", "figures")
    os.makedirs(outdir, exist_ok=True)
    exe = os.path.join(a.build, "bench")
    common = ["--duration", str(a.duration), "--repeat", str(a.repeat)]

    # 1. uncontended costs
    m = micro(os.path.join(a.build, "ipcsync_micro"), a.repeat)
    floor = m["BM_AtomicFetchAdd"]
    main_ops = [
        ("Lock acquire+release", "BM_Lock/native"), ("RLock acquire+release", "BM_RLock/acquire_release"),
        ("Semaphore acquire+release", "BM_Semaphore/native"),
        ("BoundedSemaphore acquire+release", "BM_BoundedSemaphore/acquire_release"),
        ("Condition notify (no waiter)", "BM_Condition/notify_no_waiter/Lock"),
        ("Event set+is_set+clear", "BM_Event/set_is_set_clear"), ("Event wait (already set)", "BM_Event/wait_already_set"),
        ("Barrier(1) wait", "BM_Barrier/parties1_wait"), ("Queue put+get 8 B", "BM_Queue/put_get/8B"),
        ("Queue put+get 256 B", "BM_Queue/put_get/256B"), ("MessageQueue put+get 256 B", "BM_MessageQueue/put_get/256B"),
        ("Value locked increment", "BM_Value/locked_increment"), ("Value atomic increment", "BM_Value/atomic_increment"),
        ("Array element write (checked)", "BM_Array/element_write/at_checked"),
    ]
    rows = [(name, f"{m[key]:.2f} ns", f"{m[key] / floor:.1f}x") for name, key in main_ops if key in m]
    print()
    print(f"Uncontended, one process (ipcsync_micro, medians of {a.repeat}); atomic fetch_add floor {floor:.2f} ns")
    print(R.format_table(("operation", "cost", "/ floor"), rows))

    # 2. handoffs beside the cache-line floor
    out = os.path.join(outdir, f"primitives-handoff-{stamp}.csv")
    df = bench(exe, ["--workload", "pingpong,barrier_rounds", "--primitive", "cacheline,event,condition,semaphore,barrier",
                     "--procs", "2,8", "--backend", "native", *common], out)
    med = df.groupby(["workload", "primitive", "procs"])[["ops_per_sec", "lat_p50_ns", "lat_p99_ns", "wake_p50_ns"]].median()
    rows = []
    for procs in (2, 8):
        fl = med.loc[("pingpong", "cacheline", procs)]
        for wl, prim, label in (("pingpong", "cacheline", "cache-line floor round trip"),
                                ("pingpong", "semaphore", "Semaphore ping-pong round trip"),
                                ("pingpong", "event", "Event ping-pong round trip"),
                                ("pingpong", "condition", "Condition ping-pong round trip"),
                                ("barrier_rounds", "barrier", "Barrier round")):
            r = med.loc[(wl, prim, procs)]
            rows.append((procs, label, R.fmt_us(r["lat_p50_ns"]), R.fmt_us(r["lat_p99_ns"]),
                         f"{r['lat_p50_ns'] / fl['lat_p50_ns']:.2f}x", R.fmt_rate(r["ops_per_sec"])))
    print()
    print(f"Handoffs between processes (bench, medians of {a.repeat} interleaved repetitions; rows in {out})")
    print(R.format_table(("procs", "what", "p50 (µs)", "p99 (µs)", "p50 / floor", "ops/s"), rows))

    # 3. queue messages/s, 8 B and 256 B, one producer and one consumer
    listing = json.loads(run([exe, "--list", "--format", "json"]))
    bb = next((w for w in listing["workloads"] if w["name"] == "bounded_buffer"), None)
    if bb is None or not any(p["name"] == "msg_size" for p in bb["params"]):
        print("\n(bounded_buffer with --msg-size is not built: queue figures skipped)")
        return 0
    out = os.path.join(outdir, f"primitives-queue-{stamp}.csv")
    df = bench(exe, ["--workload", "bounded_buffer", "--primitive", "queue", "--backend", "all", "--procs", "2",
                     "--producers", "1", "--consumers", "1", "--msg-size", "16,256", "--capacity", "8", *common], out)
    df = df.assign(msg=df["params"].str.extract(r"msg_size=(\d+)")[0].astype(int))
    med = df.groupby(["backend", "msg"])[["ops_per_sec", "wake_p50_ns", "wake_p99_ns"]].median()
    rows = [(be, f"{msg} B", R.fmt_rate(r["ops_per_sec"]), R.fmt_us(r["wake_p50_ns"]), R.fmt_us(r["wake_p99_ns"]))
            for (be, msg), r in med.iterrows()]
    print()
    print(f"Queue, 1 producer -> 1 consumer process (messages/s; put-to-get time, the wake_ columns; rows in {out})")
    print(R.format_table(("backend", "message", "messages/s", "p50 (µs)", "p99 (µs)"), rows))
    return 0


if __name__ == "__main__":
    sys.exit(R.main_guard(main))

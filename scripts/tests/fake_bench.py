#!/usr/bin/python3
"""fake_bench.py — a stand-in for the C++ `bench`, for testing sweep.py without a build.

It implements the part of bench's interface that sweep.py uses:

    fake_bench.py --list --format json
    fake_bench.py --primitive P --backend all|a,b --procs 1-4|1,2,4 --duration D --repeat R
                  [--pin POLICY] [--label K=V ...] (--out FILE.csv --format csv | --dry-run)
    fake_bench.py --workload c2c --duration D --repeat R [--label K=V ...]
                  (--out FILE.csv --format csv | --dry-run)

Like bench, it checks the configuration before running anything and refuses what cannot run
with one line on stderr and exit 2 (--dry-run checks and stops there): pingpong (the cacheline
primitive's workload) needs an even --procs, bounded_buffer (semaphore's) at least 2. A run
appends rows of the current schema (made by make_fixtures.make_row, with made-up numbers) to
FILE.csv, writing the header when it creates the file, and creates or extends FILE.json (the
context, with one runs[] entry per call, labels included). c2c writes one row per PU pair
(pus "a;b"). Environment:
  FAKE_BENCH_LOG=path     append each call's argv (JSON, one line) to this file
  FAKE_BENCH_PUS=n        PUs of the pretend machine (default 2)
  FAKE_BENCH_LIST_PUS=n   also put {"topology": {"pus": n}} in the --list output
  FAKE_BENCH_FAIL=P       exit 1 (writing nothing, after a message) when asked to run P
  FAKE_BENCH_NO_C2C=1     an older bench: no c2c workload in --list, and --workload c2c refused
  FAKE_BENCH_SCALE=x      multiply every throughput by x (a faster or slower build)
"""

import argparse
import datetime
import json
import os
import shlex
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
F = None            # make_fixtures (pandas, numpy): imported only when rows are written

PRIMITIVES = [
    {"name": "lock", "default_workload": "counter",
     "backends": ["native", "posix", "boost", "spin"]},
    {"name": "semaphore", "default_workload": "bounded_buffer",
     "backends": ["native", "posix", "boost"]},
    {"name": "event", "default_workload": "event_broadcast", "backends": ["native", "posix"]},
    {"name": "cacheline", "default_workload": "pingpong", "backends": ["native"]},
]
PARAMS = {"counter": "cs_ns=0;think_ns=0", "bounded_buffer": "capacity=64;msg_size=64",
          "event_broadcast": "interval_ns=10000", "pingpong": "sample_every=1", "c2c": ""}
HOST = "fakehost"


def parse_procs(spec):
    out = []
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi) + 1)) if hi else [int(lo)]
    return out


def refuse(message):
    print(f"bench: {message}", file=sys.stderr)
    return 2


def validate(workload, procs):
    """bench's workload checks: '' or the reason it refuses."""
    for n in procs:
        if workload == "pingpong" and n % 2:
            return (f"--procs: pingpong pairs processes, so it needs an even count (got {n}) "
                    f"(workload pingpong)")
        if workload == "bounded_buffer" and n < 2:
            return (f"--procs: bounded_buffer needs at least 2 processes, a producer and a "
                    f"consumer (got {n}) (workload bounded_buffer)")
    return ""


def main():
    if os.environ.get("FAKE_BENCH_LOG"):
        with open(os.environ["FAKE_BENCH_LOG"], "a") as f:
            f.write(json.dumps(sys.argv[1:]) + "\n")
    ap = argparse.ArgumentParser()
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--format", default="table")
    ap.add_argument("--primitive")
    ap.add_argument("--workload")
    ap.add_argument("--backend", default="native")
    ap.add_argument("--procs", default="1")
    ap.add_argument("--duration", type=float, default=2.0)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--out")
    ap.add_argument("--pin", default="compact")
    ap.add_argument("--label", action="append", default=[])
    ap.add_argument("--dry-run", action="store_true")
    args = ap.parse_args()
    pus = int(os.environ.get("FAKE_BENCH_PUS", "2"))
    no_c2c = bool(os.environ.get("FAKE_BENCH_NO_C2C"))
    labels = dict(l.split("=", 1) for l in args.label)
    label_text = ";".join(f"{k}={v}" for k, v in sorted(labels.items()))

    if args.list:
        workloads = sorted(w for w in PARAMS if not (no_c2c and w == "c2c"))
        listing = {"primitives": PRIMITIVES,
                   "workloads": [{"name": w, "primitives": []} for w in workloads],
                   "backends": ["native", "posix", "boost", "spin", "python"]}
        if os.environ.get("FAKE_BENCH_LIST_PUS"):
            listing["topology"] = {"pus": int(os.environ["FAKE_BENCH_LIST_PUS"])}
        print(json.dumps(listing))
        return 0

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = []
    global F
    if not args.dry_run:
        import make_fixtures as F
    if args.workload == "c2c":
        if no_c2c:
            return refuse("--workload: unknown workload 'c2c' (see --list)")
        if args.dry_run:
            return 0
        run_id = f"{now}-c2c-{os.getpid()}"
        for rep in range(args.repeat):
            for a in range(pus):
                for b in range(a + 1, pus):
                    rtt = 60.0 + 10 * (b - a) + rep
                    rows.append(F.make_row(
                        timestamp=now, run_id=run_id, host_id=f"{HOST}-00c0ffee", workload="c2c",
                        primitive="cacheline", backend="native", procs=2, pus=pus, params="",
                        repetition=rep, ops_per_sec=1e9 / rtt, fairness=1.0,
                        seconds=args.duration, pin="none", labels=label_text,
                        pu_list=f"{a};{b}", latency_ns=rtt))
        what = "c2c"
    else:
        prim = next((p for p in PRIMITIVES if p["name"] == args.primitive), None)
        if prim is None:
            return refuse(f"--primitive: unknown primitive {args.primitive!r}")
        backends = prim["backends"] if args.backend == "all" else args.backend.split(",")
        unknown = [b for b in backends if b not in prim["backends"]]
        if unknown:
            return refuse(f"--backend: '{unknown[0]}' does not implement primitive "
                          f"'{prim['name']}'")
        workload = prim["default_workload"]
        reason = validate(workload, parse_procs(args.procs))
        if reason:
            return refuse(reason)
        if args.dry_run:
            return 0
        if os.environ.get("FAKE_BENCH_FAIL") == prim["name"]:
            print(f"bench: warning: {prim['name']}: about to fail", file=sys.stderr)
            print(f"bench: error: {prim['name']}: pretend failure (worker 1 could not be "
                  f"forked)", file=sys.stderr)
            return 1
        run_id = f"{now}-{prim['name']}-{os.getpid()}"
        for backend in backends:
            for procs in parse_procs(args.procs):
                for rep in range(args.repeat):
                    rate = (1_000_000 * (1 + len(backend)) / procs * (1 + 0.01 * rep)
                            * float(os.environ.get("FAKE_BENCH_SCALE", "1")))
                    rows.append(F.make_row(
                        timestamp=now, run_id=run_id, host_id=f"{HOST}-00c0ffee",
                        workload=workload, primitive=prim["name"], backend=backend, procs=procs,
                        pus=pus, params=PARAMS[workload], repetition=rep, ops_per_sec=rate,
                        fairness=1.0 if procs == 1 else 0.9, seconds=args.duration,
                        pin=args.pin, wake=(workload == "event_broadcast"), labels=label_text))
        what = prim["name"]
    text = F.csv_text(rows)
    if os.path.exists(args.out):
        text = text.split("\n", 1)[1]         # header only when the file is created
    with open(args.out, "a", encoding="utf-8") as f:
        f.write(text)

    json_path = os.path.splitext(args.out)[0] + ".json"
    run = F.make_run(run_id, now, shlex.join(["bench"] + sys.argv[1:]), "f" * 40,
                     [f"fake bench on {HOST}: {what}"], build=F.BUILD, labels=labels)
    if os.path.exists(json_path):
        with open(json_path) as f:
            ctx = json.load(f)
        ctx["runs"].append(run)
    else:
        ctx = F.make_context("alpha", [run])
        ctx.update(host_id=f"{HOST}-00c0ffee", host_name=HOST, num_cpus=pus)
        ctx["topology"].update(pus=pus, cores=pus, pu_os_indexes=list(range(pus)))
    with open(json_path, "w", encoding="utf-8") as f:
        f.write(F.json_text(ctx))
    return 0


if __name__ == "__main__":
    sys.exit(main())

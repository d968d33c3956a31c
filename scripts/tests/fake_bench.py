#!/usr/bin/python3
"""fake_bench.py — a stand-in for the C++ `bench`, for testing sweep.py without a build.

It implements the part of bench's interface that sweep.py uses:

    fake_bench.py --list --format json
    fake_bench.py --primitive P --backend all|a,b --procs 1-4|1,2,4 --duration D --repeat R
                  --out FILE.csv --format csv [--pin POLICY]

A run appends rows of the current schema (made by make_fixtures.make_row, with made-up numbers) to FILE.csv,
writing the header when it creates the file, and creates or extends FILE.json (the context,
with one runs[] entry per call). Environment:
  FAKE_BENCH_LOG=path     append each call's argv (JSON, one line) to this file
  FAKE_BENCH_PUS=n        PUs of the pretend machine (default 2)
  FAKE_BENCH_LIST_PUS=n   also put {"topology": {"pus": n}} in the --list output
  FAKE_BENCH_FAIL=P       exit 1 (writing nothing) when asked to run primitive P
"""

import argparse
import datetime
import json
import os
import shlex
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as F  # noqa: E402

PRIMITIVES = [
    {"name": "lock", "default_workload": "counter",
     "backends": ["native", "posix", "boost", "spin"]},
    {"name": "semaphore", "default_workload": "bounded_buffer",
     "backends": ["native", "posix", "boost"]},
    {"name": "event", "default_workload": "event_broadcast", "backends": ["native", "posix"]},
]
PARAMS = {"counter": "cs_ns=0;think_ns=0", "bounded_buffer": "capacity=64;msg_size=64",
          "event_broadcast": "interval_ns=10000"}
HOST = "fakehost"


def parse_procs(spec):
    out = []
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi) + 1)) if hi else [int(lo)]
    return out


def main():
    if os.environ.get("FAKE_BENCH_LOG"):
        with open(os.environ["FAKE_BENCH_LOG"], "a") as f:
            f.write(json.dumps(sys.argv[1:]) + "\n")
    ap = argparse.ArgumentParser()
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--format", default="table")
    ap.add_argument("--primitive")
    ap.add_argument("--backend", default="native")
    ap.add_argument("--procs", default="1")
    ap.add_argument("--duration", type=float, default=2.0)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--out")
    ap.add_argument("--pin", default="compact")
    args = ap.parse_args()
    pus = int(os.environ.get("FAKE_BENCH_PUS", "2"))

    if args.list:
        listing = {"primitives": PRIMITIVES, "workloads": sorted(PARAMS),
                   "backends": ["native", "posix", "boost", "spin", "python"]}
        if os.environ.get("FAKE_BENCH_LIST_PUS"):
            listing["topology"] = {"pus": int(os.environ["FAKE_BENCH_LIST_PUS"])}
        print(json.dumps(listing))
        return 0

    prim = next((p for p in PRIMITIVES if p["name"] == args.primitive), None)
    if prim is None:
        print(f"bench: error: unknown primitive {args.primitive!r}", file=sys.stderr)
        return 2
    if os.environ.get("FAKE_BENCH_FAIL") == prim["name"]:
        print(f"bench: error: {prim['name']}: pretend failure", file=sys.stderr)
        return 1
    backends = prim["backends"] if args.backend == "all" else args.backend.split(",")
    workload = prim["default_workload"]
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    run_id = f"{now}-{prim['name']}-{os.getpid()}"
    rows = []
    for backend in backends:
        for procs in parse_procs(args.procs):
            for rep in range(args.repeat):
                rate = 1_000_000 * (1 + len(backend)) / procs * (1 + 0.01 * rep)
                rows.append(F.make_row(
                    timestamp=now, run_id=run_id, host_id=f"{HOST}-00c0ffee",
                    workload=workload, primitive=prim["name"], backend=backend, procs=procs,
                    pus=pus, params=PARAMS[workload], repetition=rep, ops_per_sec=rate,
                    fairness=1.0 if procs == 1 else 0.9, seconds=args.duration, pin=args.pin,
                    wake=(workload == "event_broadcast")))
    text = F.csv_text(rows)
    if os.path.exists(args.out):
        text = text.split("\n", 1)[1]         # header only when the file is created
    with open(args.out, "a", encoding="utf-8") as f:
        f.write(text)

    json_path = os.path.splitext(args.out)[0] + ".json"
    run = F.make_run(run_id, now, shlex.join(["bench"] + sys.argv[1:]), "f" * 40,
                     [f"fake bench on {HOST}"])
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

#!/usr/bin/python3
"""sweep.py — run the standard ipcsync matrix on this machine and write its report.

    /usr/bin/python3 scripts/sweep.py [--bench ./build/bench] [--out-dir DIR]
        [--duration 1] [--repeat 5] [--primitives lock,semaphore] [--pus N] [--procs SPEC]
        [--pin POLICY] [--dry-run]

The matrix: every primitive that `bench --list --format json` reports, each with its default
workload, every backend (`--backend all`), procs 1 to 2x the PUs (so the oversubscribed half
shows how each primitive behaves when workers outnumber PUs). One bench call per primitive:

    bench --primitive P --backend all --procs 1-<2*PUs> --duration D --repeat R
          --out DIR/sweep.csv --format csv

All calls append to DIR/sweep.csv (bench keeps DIR/sweep.json, the host context, beside it);
bench's standard output goes to DIR/bench.log (its stderr, e.g. warnings, stays on the
terminal). Then report.py writes DIR/report.html with the plots also kept in DIR/plots/.
DIR defaults to results/<hostname>/sweep-<UTC time>/.

PUs: --pus, else `topology.pus` from the --list JSON if bench provides it, else the CPUs this
process may run on (sched_getaffinity), else os.cpu_count().

To compare two machines: run the sweep on each, copy one sweep.csv + sweep.json next to the
other, and run  compare.py A/sweep.csv B/sweep.csv.

--dry-run prints the commands (it still runs `bench --list`, which only reads). Exit status: 0,
1 when a bench call failed (the report is still written from the rows that exist), 2 on bad
input (no bench binary, unusable --list output, unknown primitive), 130 on Ctrl-C.
"""

import argparse
import datetime
import json
import os
import shlex
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ipcsync_results as R  # noqa: E402
import report  # noqa: E402

LIST_TIMEOUT_S = 60


def list_bench(bench):
    """The parsed `bench --list --format json` output (validated)."""
    cmd = [bench, "--list", "--format", "json"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=LIST_TIMEOUT_S)
    except OSError as e:
        raise R.InputError(f"cannot run {bench}: {e.strerror}")
    except subprocess.TimeoutExpired:
        raise R.InputError(f"{shlex.join(cmd)} did not answer within {LIST_TIMEOUT_S} s")
    if proc.returncode != 0:
        first = (proc.stderr.strip().splitlines() or ["no message"])[0]
        raise R.InputError(f"{shlex.join(cmd)} failed (exit {proc.returncode}): {first}")
    try:
        listing = json.loads(proc.stdout)
    except json.JSONDecodeError as e:
        raise R.InputError(f"{shlex.join(cmd)}: output is not JSON ({e.msg} at line {e.lineno})")
    prims = listing.get("primitives") if isinstance(listing, dict) else None
    if not isinstance(prims, list) or not prims or not all(
            isinstance(p, dict) and isinstance(p.get("name"), str) for p in prims):
        raise R.InputError(f"{shlex.join(cmd)}: expected an object with a non-empty "
                           f"'primitives' list of {{\"name\": ...}} objects")
    return listing


def detect_pus(args, listing):
    """(PUs, where the number came from)."""
    if args.pus:
        return args.pus, "--pus"
    topo = listing.get("topology")
    if isinstance(topo, dict) and isinstance(topo.get("pus"), int) and topo["pus"] > 0:
        return topo["pus"], "bench --list topology.pus"
    try:
        return len(os.sched_getaffinity(0)), "the CPUs this process may run on"
    except (AttributeError, OSError):
        return os.cpu_count() or 1, "os.cpu_count()"


def choose_primitives(args, listing):
    available = [p["name"] for p in listing["primitives"]]
    if not args.primitives:
        return [p for p in listing["primitives"]]
    wanted = [p.strip() for p in args.primitives.split(",") if p.strip()]
    unknown = [p for p in wanted if p not in available]
    if unknown:
        raise R.InputError(f"unknown primitive(s) {', '.join(unknown)} (bench has: "
                           f"{', '.join(available)})")
    return [p for p in listing["primitives"] if p["name"] in wanted]


def bench_commands(args, primitives, procs, csv_path):
    cmds = []
    for prim in primitives:
        cmd = [args.bench, "--primitive", prim["name"], "--backend", "all", "--procs", procs,
               "--duration", f"{args.duration:g}", "--repeat", str(args.repeat),
               "--out", csv_path, "--format", "csv"]
        if args.pin:
            cmd += ["--pin", args.pin]
        cmds.append(cmd)
    return cmds


def procs_count(spec):
    """How many procs values a --procs spec (1-8 or 1,2,4) names."""
    n = 0
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        n += (int(hi) - int(lo) + 1) if hi else 1
    return n


def default_out_dir():
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return os.path.join("results", R.safe_name(socket.gethostname()), f"sweep-{stamp}")


def report_args(csv_path, out_dir, host):
    return [csv_path, "--out", os.path.join(out_dir, "report.html"),
            "--plots-dir", os.path.join(out_dir, "plots"), "--title", f"ipcsync sweep — {host}"]


def main(argv=None):
    ap = argparse.ArgumentParser(prog="sweep.py", description="Run the standard ipcsync "
                                 "matrix (every primitive's default workload, every backend, "
                                 "procs 1..2x PUs) and write its HTML report.")
    ap.add_argument("--bench", default=os.path.join(".", "build", "bench"),
                    help="the bench executable (default ./build/bench)")
    ap.add_argument("--out-dir", metavar="DIR",
                    help="where sweep.csv/.json, report.html and plots/ go (default "
                         "results/<hostname>/sweep-<UTC time>/)")
    ap.add_argument("--duration", type=float, default=1.0,
                    help="measured seconds per repetition (1)")
    ap.add_argument("--repeat", type=int, default=5, help="repetitions per configuration "
                    "(5: compare.py's Mann-Whitney test needs at least 4 for p < 0.05)")
    ap.add_argument("--primitives", metavar="P,Q", help="only these primitives")
    ap.add_argument("--pus", type=int, help="number of PUs (default: detected)")
    ap.add_argument("--procs", metavar="SPEC", help="procs to run instead of 1-<2*PUs>")
    ap.add_argument("--pin", help="pinning policy passed to bench (default: bench's)")
    ap.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    args = ap.parse_args(argv)
    if args.duration <= 0 or args.repeat < 1 or (args.pus is not None and args.pus < 1):
        raise R.InputError("--duration must be > 0, --repeat and --pus at least 1")

    if not (os.path.isfile(args.bench) and os.access(args.bench, os.X_OK)):
        raise R.InputError(f"no bench executable at {args.bench} (build it with "
                           f"cmake -B build && cmake --build build, or pass --bench PATH)")
    listing = list_bench(args.bench)
    primitives = choose_primitives(args, listing)
    pus, source = detect_pus(args, listing)
    procs = args.procs or f"1-{2 * pus}"
    out_dir = args.out_dir or default_out_dir()
    csv_path = os.path.join(out_dir, "sweep.csv")
    cmds = bench_commands(args, primitives, procs, csv_path)
    host = socket.gethostname()

    try:
        n_procs = procs_count(procs)
    except ValueError:
        raise R.InputError(f"--procs {procs!r}: expected a list or range like 1,2,4 or 1-8")
    n_configs = sum(len(p.get("backends") or [None]) for p in primitives) * n_procs
    estimate = n_configs * args.repeat * args.duration
    estimate = f"{estimate / 60:.1f} min" if estimate >= 120 else f"{estimate:.0f} s"
    print(f"sweep: {len(primitives)} primitives, procs {procs} ({pus} PUs from {source}), "
          f"{args.repeat} repetitions of {args.duration:g} s: about {n_configs} "
          f"configurations, at least {estimate} of measurement", flush=True)
    if args.dry_run:
        for cmd in cmds:
            print(shlex.join(cmd))
        print(report.command("report.py", report_args(csv_path, out_dir, host)))
        return 0

    if os.path.exists(csv_path):
        raise R.InputError(f"{csv_path} already exists; pick another --out-dir so two sweeps "
                           f"do not mix")
    os.makedirs(out_dir, exist_ok=True)
    log_path = os.path.join(out_dir, "bench.log")
    print(f"bench's standard output goes to {log_path}", flush=True)
    failed = []
    for i, (prim, cmd) in enumerate(zip(primitives, cmds), 1):
        print(f"[{i}/{len(cmds)}] {shlex.join(cmd)}", flush=True)
        try:
            with open(log_path, "a", encoding="utf-8") as log:
                log.write(f"$ {shlex.join(cmd)}\n")
                log.flush()
                status = subprocess.run(cmd, stdout=log).returncode
        except KeyboardInterrupt:
            print("sweep: interrupted; the rows written so far are in " + csv_path,
                  file=sys.stderr)
            return 130
        if status != 0:
            failed.append(f"{prim['name']} (exit {status})")
            print(f"sweep.py: warning: bench failed for {prim['name']} (exit {status}); "
                  f"continuing", file=sys.stderr)
    if not os.path.exists(csv_path):
        print(f"sweep.py: error: bench wrote no results to {csv_path}", file=sys.stderr)
        return 1
    report.main(report_args(csv_path, out_dir, host))
    print(f"results: {csv_path}\nto compare with another machine's sweep: "
          f"{report.command('compare.py', [csv_path, 'OTHER/sweep.csv'])}")
    if failed:
        print(f"sweep.py: error: bench failed for {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    R.main_guard(main)

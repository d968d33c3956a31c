#!/usr/bin/python3
"""ab.py — compare two bench builds (or one build with itself: the A/A check) on this machine,
with runs alternated so that drift between runs falls on both sides alike.

    /usr/bin/python3 scripts/ab.py --a OLD/bench --b ./build/bench [--runs 5] [--out-dir DIR]
        [--compare-arg ARG ...] -- BENCH FLAGS...
    # the A/A check: one build against itself
    /usr/bin/python3 scripts/ab.py --a ./build/bench --b ./build/bench --runs 5 -- \\
        --primitive lock,semaphore --backend native,posix --procs 1,2 --duration 0.3 --repeat 2

Two runs of one build on one machine differ by a few percent (each run has its own memory
layout and meets the machine in its own state) while the repetitions inside a run agree far
better; so a comparison of one run against one run mistakes that drift for a difference. ab.py
runs --runs bench invocations a side, in the order A B B A A B B A ... (each pair in turn, so a
steady drift in time also falls on both sides alike), each with the same BENCH FLAGS plus
`--label side=A|B --out DIR/ab.csv --format csv`, then runs

    compare.py DIR/ab.csv --a label.side=A --b label.side=B --out DIR/compare [ARG ...]

where, with 2 or more runs a side, the run is the unit of the statistics (see compare.py).
Before the first run, both executables check the flags (`bench ... --dry-run`); bench's own
message and exit 2 when they refuse. bench's standard output goes to DIR/bench.log; compare's
table is printed. DIR defaults to results/<hostname>/ab-<UTC time>/. BENCH FLAGS must not set
--out, --format, --dry-run or a label named side.

Exit status: compare.py's (0), 1 when a bench call failed (after it: nothing more is run; the
rows written so far stay in DIR/ab.csv), 2 on bad input, 130 on Ctrl-C.
"""

import argparse
import datetime
import os
import shlex
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ipcsync_results as R  # noqa: E402
import sweep  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
RESERVED = ("--out", "--format", "--dry-run")
DRY_RUN_TIMEOUT_S = 60


def order(runs):
    """The sides in run order: A B B A A B B A ... (runs of each)."""
    out = []
    for i in range(runs):
        out += ["A", "B"] if i % 2 == 0 else ["B", "A"]
    return out


def check_flags(flags):
    for flag in flags:
        name = flag.split("=", 1)[0]
        if name in RESERVED:
            raise R.InputError(f"{name}: ab.py sets it itself (the results go to DIR/ab.csv)")
    for i, flag in enumerate(flags):
        value = flags[i + 1] if flag == "--label" and i + 1 < len(flags) else \
            flag.split("=", 1)[1] if flag.startswith("--label=") else None
        if value is not None and value.split("=", 1)[0].strip() == "side":
            raise R.InputError("--label side=...: ab.py labels the sides itself (side=A, side=B)")


def executable(path, flag):
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise R.InputError(f"{flag} {path!r}: not an executable file (a bench binary)")
    return path


def dry_run(bench, flags):
    cmd = [bench] + flags + ["--dry-run"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=DRY_RUN_TIMEOUT_S)
    except OSError as e:
        raise R.InputError(f"cannot run {bench}: {e.strerror}")
    except subprocess.TimeoutExpired:
        raise R.InputError(f"{shlex.join(cmd)} did not answer within {DRY_RUN_TIMEOUT_S} s")
    if proc.returncode != 0:
        raise R.InputError(f"{shlex.join(cmd)}: "
                           + (sweep.error_line(proc.stderr) or f"exit {proc.returncode}"))


def default_out_dir():
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return os.path.join("results", R.safe_name(socket.gethostname()), f"ab-{stamp}")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    flags = []
    if "--" in argv:
        at = argv.index("--")
        argv, flags = argv[:at], argv[at + 1:]
    ap = argparse.ArgumentParser(prog="ab.py", description="Alternate bench runs of two builds "
                                 "(A B B A ...) and compare them run by run.",
                                 usage="%(prog)s --a BENCH --b BENCH [--runs N] [--out-dir DIR] "
                                       "[--compare-arg ARG ...] -- BENCH FLAGS...")
    ap.add_argument("--a", required=True, metavar="BENCH", help="side A's bench executable")
    ap.add_argument("--b", required=True, metavar="BENCH", help="side B's bench executable "
                    "(the same as --a for the A/A check)")
    ap.add_argument("--runs", type=int, default=5, help="bench runs per side (5; at least 2)")
    ap.add_argument("--out-dir", metavar="DIR", help="where ab.csv/.json, bench.log and "
                    "compare/ go (default results/<hostname>/ab-<UTC time>/)")
    ap.add_argument("--compare-arg", action="append", default=[], metavar="ARG",
                    help="passed on to compare.py (repeatable), e.g. --compare-arg=--no-plots")
    args = ap.parse_args(argv)
    if args.runs < 2:
        raise R.InputError(f"--runs {args.runs}: at least 2 runs a side (the run is the unit)")
    if not flags:
        raise R.InputError("no bench flags: give them after --, e.g. -- --primitive lock "
                           "--procs 1,2 --repeat 2")
    check_flags(flags)
    bench = {"A": executable(args.a, "--a"), "B": executable(args.b, "--b")}
    out_dir = args.out_dir or default_out_dir()
    csv_path = os.path.join(out_dir, "ab.csv")
    if os.path.exists(csv_path):
        raise R.InputError(f"{csv_path} exists: choose another --out-dir")
    for side in ("A", "B") if args.a != args.b else ("A",):
        dry_run(bench[side], flags)

    os.makedirs(out_dir, exist_ok=True)
    log_path = os.path.join(out_dir, "bench.log")
    sides = order(args.runs)
    print(f"ab: {args.runs} runs a side in the order {' '.join(sides[:4])} ...; bench's "
          f"standard output goes to {log_path}", flush=True)
    for i, side in enumerate(sides, 1):
        cmd = [bench[side]] + flags + ["--label", f"side={side}", "--out", csv_path,
                                       "--format", "csv"]
        print(f"[{i}/{len(sides)}] {side}: {shlex.join(cmd)}", flush=True)
        try:
            status, error = sweep.run_call({"command": cmd}, log_path)
        except KeyboardInterrupt:
            print(f"ab: interrupted; the rows written so far are in {csv_path}", file=sys.stderr)
            return 130
        if status != 0:
            print(f"ab.py: error: bench failed (exit {status}): {shlex.join(cmd)}: "
                  f"{error or '(no message)'}; the rows written so far are in {csv_path}",
                  file=sys.stderr)
            return 1
    # The sides' names in compare's tables: the two binaries, told apart by side when one
    # binary is compared with itself (an A/A check).
    name_a, name_b = (args.a, args.b) if args.a != args.b else (f"{args.a} (A)", f"{args.b} (B)")
    cmd = [sys.executable, os.path.join(HERE, "compare.py"), csv_path, "--a", "label.side=A",
           "--b", "label.side=B", "--label-a", name_a, "--label-b", name_b,
           "--out", os.path.join(out_dir, "compare")] + args.compare_arg
    print(f"$ {shlex.join(cmd)}", flush=True)
    return subprocess.run(cmd).returncode


if __name__ == "__main__":
    R.main_guard(main)

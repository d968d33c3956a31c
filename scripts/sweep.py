#!/usr/bin/python3
"""sweep.py — run the standard ipcsync matrix on this machine and write its report.

    /usr/bin/python3 scripts/sweep.py [--bench ./build/bench] [--out-dir DIR]
        [--duration 1] [--repeat 5] [--primitives lock,semaphore] [--pus N] [--procs SPEC]
        [--pin POLICY] [--label KEY=VALUE ...] [--c2c-duration 0.1] [--no-c2c] [--dry-run]

The matrix: every primitive that `bench --list --format json` reports, each with its default
workload and every backend that implements it, procs 1 to 2x the PUs (the oversubscribed half
shows how each primitive behaves when workers outnumber PUs); plus, when bench has it, the
core-to-core matrix (`bench --workload c2c`: the one-line round trip of every PU pair, the
host's floor). It runs on any machine:

  - Configurations bench refuses (pingpong pairs processes, so it gets even procs;
    bounded_buffer needs a producer and a consumer; a backend that cannot run here) are found
    first, by asking `bench ... --dry-run` (which checks every flag and runs nothing), and
    skipped; so are meaningless ones (event_broadcast at procs 1: a broadcaster with no
    listener). Each skipped configuration is listed, with bench's reason, on stdout and in the
    report.
  - One bench call per primitive (more when its backends accept different procs):

        bench --primitive P --backend all --procs 1-<2*PUs> --duration D --repeat R
              --out DIR/sweep.csv --format csv [--pin X] [--label K=V ...]

  - A failing bench call does not stop the sweep: its command and its error (bench's last
    message on stderr) are shown at the end and in the report, and the exit status is 1.

All calls append to DIR/sweep.csv (bench keeps DIR/sweep.json, the host context, beside it);
bench's standard output goes to DIR/bench.log (its stderr is shown and kept). DIR/
sweep-manifest.json records the sweep command, every call with its exit status and error, and
the skipped configurations; report.py reads it (--sweep) and writes DIR/report.html, with the
plots also kept in DIR/plots/. DIR defaults to results/<hostname>/sweep-<UTC time>/.

PUs: --pus, else `topology.pus` from the --list JSON if bench provides it, else the CPUs this
process may run on (sched_getaffinity), else os.cpu_count().

To compare two machines: run the sweep on each (with the same options; --label names what a
run stands for, e.g. --label smt=off), copy one sweep.csv + sweep.json next to the other, and
run  compare.py A/sweep.csv B/sweep.csv.

--dry-run prints the commands and the skipped configurations (it runs `bench --list` and
`bench --dry-run`, which only read). Exit status: 0, 1 when a bench call failed (the report is
still written from the rows that exist), 2 on bad input (no bench binary, unusable --list
output, unknown primitive, existing output), 130 on Ctrl-C.
"""

import argparse
import datetime
import json
import os
import re
import shlex
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ipcsync_results as R  # noqa: E402
import report  # noqa: E402

LIST_TIMEOUT_S = 60
PROBE_TIMEOUT_S = 60
MANIFEST = "sweep-manifest.json"


# --------------------------------------------------------------------------------------------
# What bench offers


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


def workload_names(listing):
    """The workload names of a --list JSON ('workloads': names or {"name": ...} objects)."""
    out = []
    for w in listing.get("workloads") or []:
        if isinstance(w, str):
            out.append(w)
        elif isinstance(w, dict) and isinstance(w.get("name"), str):
            out.append(w["name"])
    return out


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


def parse_procs(spec):
    """[1, 2, 3] from '1-3', '1,2,3' or '1-2,3' (sorted, unique)."""
    out = set()
    try:
        for part in spec.split(","):
            lo, _, hi = part.strip().partition("-")
            lo, hi = int(lo), int(hi) if hi else int(lo)
            if lo < 1 or hi < lo:
                raise ValueError(part)
            out.update(range(lo, hi + 1))
    except ValueError:
        raise R.InputError(f"--procs {spec!r}: expected a list or range like 1,2,4 or 1-8")
    return sorted(out)


def procs_spec(procs):
    """The shortest bench --procs text for a sorted list: '1-6', '2,4,6', '3'."""
    if len(procs) > 1 and procs == list(range(procs[0], procs[-1] + 1)):
        return f"{procs[0]}-{procs[-1]}"
    return ",".join(map(str, procs))


# --------------------------------------------------------------------------------------------
# Planning: which configurations can run


class Planner:
    """Asks bench (--dry-run) which configurations it accepts; builds the calls."""

    def __init__(self, args, csv_path):
        self.args, self.csv_path = args, csv_path
        self.probes = 0

    def common(self):
        out = ["--duration", f"{self.args.duration:g}", "--repeat", str(self.args.repeat)]
        if self.args.pin:
            out += ["--pin", self.args.pin]
        for label in self.args.label or []:
            out += ["--label", label]
        return out

    def probe(self, head):
        """(True, '') when `bench head... --dry-run` is accepted, else (False, bench's reason)."""
        cmd = [self.args.bench] + head + self.common() + ["--dry-run"]
        self.probes += 1
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S)
        except OSError as e:
            return False, f"cannot run {self.args.bench}: {e.strerror}"
        except subprocess.TimeoutExpired:
            return False, f"bench --dry-run did not answer within {PROBE_TIMEOUT_S} s"
        if proc.returncode == 0:
            return True, ""
        return False, error_line(proc.stderr) or f"refused (exit {proc.returncode})"

    def run_command(self, head):
        return ([self.args.bench] + head + self.common()
                + ["--out", self.csv_path, "--format", "csv"])

    def primitive(self, prim, procs):
        """(calls, skipped) for one primitive: calls are dicts {what, command}."""
        name = prim["name"]
        workload = prim.get("default_workload") or ""
        what = f"{name} ({workload})" if workload else name
        backends = [b for b in prim.get("backends") or [] if isinstance(b, str)]
        skipped = []
        least = R.MIN_MEANINGFUL_PROCS.get(workload, 1)
        low = [p for p in procs if p < least]
        procs = [p for p in procs if p >= least]
        if low:
            skipped.append(dict(what=what, backends="", procs=procs_spec(low),
                                reason=f"{workload} at procs below {least} is a broadcaster "
                                       f"with no listener: it measures no wake-up"))
        if not procs:
            return [], skipped
        head = ["--primitive", name, "--backend", "all"]
        ok, _ = self.probe(head + ["--procs", procs_spec(procs)])
        if ok:
            return [dict(what=what, command=self.run_command(head + ["--procs",
                                                                     procs_spec(procs)]))], skipped
        valid = {}
        for backend in backends or ["all"]:
            head_b = ["--primitive", name, "--backend", backend]
            ok, reason = self.probe(head_b + ["--procs", procs_spec(procs)])
            if ok:
                valid[backend] = procs
                continue
            reasons = {}
            good = []
            for p in procs:
                ok_p, reason_p = self.probe(head_b + ["--procs", str(p)])
                if ok_p:
                    good.append(p)
                else:              # "(got 3)": the procs are listed, so one entry for all
                    reasons.setdefault(re.sub(r" \(got [^)]*\)", "", reason_p), []).append(p)
            for reason_p, ps in reasons.items():
                skipped.append(dict(what=what, backends=backend, procs=procs_spec(ps),
                                    reason=reason_p))
            if good:
                valid[backend] = good
        skipped = merge_skipped(skipped, backends)
        by_procs = {}
        for backend, ps in valid.items():
            by_procs.setdefault(tuple(ps), []).append(backend)
        calls = []
        for ps, group in sorted(by_procs.items(), key=lambda kv: (kv[0][0], kv[0])):
            chosen = "all" if sorted(group) == sorted(backends) or group == ["all"] \
                else ",".join(group)
            calls.append(dict(what=what, command=self.run_command(
                ["--primitive", name, "--backend", chosen, "--procs", procs_spec(list(ps))])))
        return calls, skipped

    def c2c(self):
        """(calls, skipped) for the core-to-core matrix."""
        head = ["--workload", R.C2C]
        ok, reason = self.probe_c2c(head)
        if not ok:
            return [], [dict(what=R.C2C, backends="", procs="", reason=reason)]
        return [dict(what=R.C2C, command=self.c2c_command(head))], []

    def c2c_args(self):
        out = ["--duration", f"{self.args.c2c_duration:g}", "--repeat", str(self.args.repeat)]
        for label in self.args.label or []:
            out += ["--label", label]
        return out

    def probe_c2c(self, head):
        cmd = [self.args.bench] + head + self.c2c_args() + ["--dry-run"]
        self.probes += 1
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as e:
            return False, f"cannot run {self.args.bench}: {e}"
        if proc.returncode == 0:
            return True, ""
        return False, error_line(proc.stderr) or f"refused (exit {proc.returncode})"

    def c2c_command(self, head):
        return ([self.args.bench] + head + self.c2c_args()
                + ["--out", self.csv_path, "--format", "csv"])


def merge_skipped(skipped, backends):
    """One entry per (what, procs, reason), its backends joined ('' when all of them)."""
    merged = {}
    for s in skipped:
        key = (s["what"], s["procs"], s["reason"])
        if key in merged:
            merged[key]["backends"] += f",{s['backends']}"
        else:
            merged[key] = dict(s)
    for s in merged.values():
        if s["backends"] and sorted(s["backends"].split(",")) == sorted(backends):
            s["backends"] = ""
    return list(merged.values())


def error_line(stderr):
    """bench's message: its last 'error' line (or last line), without the 'bench: ' prefix."""
    lines = [l.strip() for l in (stderr or "").splitlines() if l.strip()]
    if not lines:
        return ""
    chosen = next((l for l in reversed(lines) if "error" in l.lower()), lines[-1])
    for prefix in ("bench: error: ", "bench: "):
        if chosen.startswith(prefix):
            chosen = chosen[len(prefix):]
            break
    return chosen[:500]


def default_out_dir():
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return os.path.join("results", R.safe_name(socket.gethostname()), f"sweep-{stamp}")


def report_args(csv_path, out_dir, host):
    return [csv_path, "--out", os.path.join(out_dir, "report.html"),
            "--plots-dir", os.path.join(out_dir, "plots"), "--title", f"ipcsync sweep — {host}",
            "--sweep", os.path.join(out_dir, MANIFEST)]


def write_manifest(path, manifest):
    R.write_atomic(path, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")


def skipped_text(s):
    return (f"{s['what']}" + (f" {s['backends']}" if s.get("backends") else "")
            + (f", procs {s['procs']}" if s.get("procs") else "") + f": {s['reason']}")


def run_call(call, log_path):
    """Run one bench call: stdout to the log, stderr shown and kept. Returns (exit, error)."""
    cmd = call["command"]
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(f"$ {shlex.join(cmd)}\n")
        log.flush()
        try:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.PIPE, text=True,
                                    errors="replace")
        except OSError as e:
            return 127, f"cannot run {cmd[0]}: {e.strerror}"
        kept = []
        try:
            for line in proc.stderr:
                sys.stderr.write(line)
                sys.stderr.flush()
                kept.append(line)
                del kept[:-200]
            status = proc.wait()
        except KeyboardInterrupt:
            proc.wait()
            raise
    return status, (error_line("".join(kept)) if status != 0 else "")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    ap = argparse.ArgumentParser(prog="sweep.py", description="Run the standard ipcsync "
                                 "matrix (every primitive's default workload, every backend, "
                                 "procs 1..2x PUs, and the c2c matrix) and write its HTML "
                                 "report.")
    ap.add_argument("--bench", default=os.path.join(".", "build", "bench"),
                    help="the bench executable (default ./build/bench)")
    ap.add_argument("--out-dir", metavar="DIR",
                    help="where sweep.csv/.json, report.html and plots/ go (default "
                         "results/<hostname>/sweep-<UTC time>/)")
    ap.add_argument("--duration", type=float, default=1.0,
                    help="measured seconds per repetition (1)")
    ap.add_argument("--repeat", type=int, default=5, help="repetitions per configuration "
                    "(5: compare.py warns below 5)")
    ap.add_argument("--primitives", metavar="P,Q", help="only these primitives")
    ap.add_argument("--pus", type=int, help="number of PUs (default: detected)")
    ap.add_argument("--procs", metavar="SPEC", help="procs to run instead of 1-<2*PUs>")
    ap.add_argument("--pin", help="pinning policy passed to bench (default: bench's)")
    ap.add_argument("--label", action="append", metavar="KEY=VALUE",
                    help="passed to every bench call (repeatable): what this sweep stands for, "
                         "e.g. smt=off; compare.py --a label.smt=on --b label.smt=off")
    ap.add_argument("--c2c-duration", type=float, default=0.1, metavar="S",
                    help="measured seconds per PU pair of the c2c matrix (0.1)")
    ap.add_argument("--no-c2c", action="store_true", help="leave out the c2c matrix")
    ap.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    args = ap.parse_args(argv)
    if (args.duration <= 0 or args.c2c_duration <= 0 or args.repeat < 1
            or (args.pus is not None and args.pus < 1)):
        raise R.InputError("--duration and --c2c-duration must be > 0, --repeat and --pus at "
                           "least 1")
    for label in args.label or []:
        key, eq, _ = label.partition("=")
        if not eq or not key.strip():
            raise R.InputError(f"--label {label!r}: expected KEY=VALUE (e.g. smt=off)")

    if not (os.path.isfile(args.bench) and os.access(args.bench, os.X_OK)):
        raise R.InputError(f"no bench executable at {args.bench} (build it with "
                           f"cmake -B build && cmake --build build, or pass --bench PATH)")
    listing = list_bench(args.bench)
    primitives = choose_primitives(args, listing)
    pus, source = detect_pus(args, listing)
    procs = parse_procs(args.procs or f"1-{2 * pus}")
    out_dir = args.out_dir or default_out_dir()
    csv_path = os.path.join(out_dir, "sweep.csv")
    if not args.dry_run and os.path.exists(csv_path):
        raise R.InputError(f"{csv_path} already exists; pick another --out-dir so two sweeps "
                           f"do not mix")
    host = socket.gethostname()

    planner = Planner(args, csv_path)
    calls, skipped = [], []
    for prim in primitives:
        c, s = planner.primitive(prim, procs)
        calls += c
        skipped += s
    n_pairs = 0
    if not args.no_c2c:
        if R.C2C in workload_names(listing):
            c, s = planner.c2c()
            calls += c
            skipped += s
            n_pairs = pus * (pus - 1) // 2 if c else 0
        else:
            skipped.append(dict(what=R.C2C, backends="", procs="",
                                reason="this bench has no c2c workload (an older build): no "
                                       "core-to-core matrix, the floor comes from pingpong"))

    n_configs = 0
    for call in calls:
        cmd = call["command"]
        if "--primitive" not in cmd:
            continue
        backend = cmd[cmd.index("--backend") + 1]
        prim = next(p for p in primitives if p["name"] == cmd[cmd.index("--primitive") + 1])
        n_backends = len(prim.get("backends") or [None]) if backend == "all" \
            else len(backend.split(","))
        n_configs += n_backends * len(parse_procs(cmd[cmd.index("--procs") + 1]))
    seconds = n_configs * args.repeat * args.duration + n_pairs * args.repeat * args.c2c_duration
    estimate = f"{seconds / 60:.1f} min" if seconds >= 120 else f"{seconds:.0f} s"
    print(f"sweep: {len(primitives)} primitives, procs {procs_spec(procs)} ({pus} PUs from "
          f"{source}), {args.repeat} repetitions of {args.duration:g} s: about {n_configs} "
          f"configurations" + (f" and {n_pairs} PU pairs (c2c)" if n_pairs else "")
          + f", at least {estimate} of measurement", flush=True)
    command = report.command("sweep.py", argv)
    if args.dry_run:
        for call in calls:
            print(shlex.join(call["command"]))
        for s in skipped:
            print(f"skipped: {skipped_text(s)}")
        print(report.command("report.py", report_args(csv_path, out_dir, host)))
        return 0

    os.makedirs(out_dir, exist_ok=True)
    log_path = os.path.join(out_dir, "bench.log")
    manifest_path = os.path.join(out_dir, MANIFEST)
    manifest = {"command": command, "bench": args.bench, "pus": pus, "pus_source": source,
                "calls": [dict(what=c["what"], command=shlex.join(c["command"]), exit=None,
                               error="") for c in calls],
                "skipped": skipped}
    write_manifest(manifest_path, manifest)
    print(f"bench's standard output goes to {log_path}", flush=True)
    for s in skipped:
        print(f"skipped: {skipped_text(s)}", flush=True)
    for i, (call, entry) in enumerate(zip(calls, manifest["calls"]), 1):
        print(f"[{i}/{len(calls)}] {entry['command']}", flush=True)
        try:
            status, error = run_call(call, log_path)
        except KeyboardInterrupt:
            entry.update(exit=130, error="interrupted (Ctrl-C)")
            write_manifest(manifest_path, manifest)
            print("sweep: interrupted; the rows written so far are in " + csv_path,
                  file=sys.stderr)
            return 130
        entry.update(exit=status, error=error)
        write_manifest(manifest_path, manifest)
        if status != 0:
            print(f"sweep.py: warning: bench failed for {call['what']} (exit {status}): "
                  f"{error or '(no message)'}; continuing", file=sys.stderr)
    failed = [e for e in manifest["calls"] if e["exit"] != 0]
    if not os.path.exists(csv_path):
        print(f"sweep.py: error: bench wrote no results to {csv_path}", file=sys.stderr)
        return 1
    report.main(report_args(csv_path, out_dir, host))
    print(f"results: {csv_path}\nto compare with another machine's sweep: "
          f"{report.command('compare.py', [csv_path, 'OTHER/sweep.csv'])}")
    if skipped:
        print(f"sweep: {len(skipped)} configuration(s) skipped (listed above and in the report)")
    if failed:
        for e in failed:
            print(f"sweep.py: error: bench failed (exit {e['exit']}): {e['command']}: "
                  f"{e['error'] or '(no message)'}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    R.main_guard(main)

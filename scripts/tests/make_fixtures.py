#!/usr/bin/python3
"""make_fixtures.py — writes results/fixtures/, the committed results the script tests use.

    /usr/bin/python3 scripts/tests/make_fixtures.py            # rewrite results/fixtures/
    /usr/bin/python3 scripts/tests/make_fixtures.py --check    # exit 1 if they differ

The numbers are chosen so a test can state the expected answers by hand:

alpha.csv/.json  host alpha, 2 PUs; procs 1,2,4,8 (4 and 8 oversubscribed); repetitions 0..2.
                 counter (lock: native, posix, boost, spin), bounded_buffer (semaphore: native,
                 posix, boost), event_broadcast (event: native, posix; has wake-up latencies).
                 The three repetitions of a configuration are 0.98x, 1.00x and 1.02x its median.
                 counter/spin/procs 8 repetition 1 is verify_failed.
beta.csv/.json   host beta, 4 PUs (procs 8 oversubscribed); counter and bounded_buffer only.
                 Medians relative to alpha: native x0.5, posix x1, boost x1.25, spin x1 (x10 at
                 procs 4, where alpha is oversubscribed) — so alpha/beta is 2, 1, 0.8, 1 (0.1).
                 bounded_buffer/boost/procs 8 repetition 2 timed out (no measurements).
                 Every latency percentile is 1e9 * procs / ops_per_sec times a fixed factor, so
                 the p50 ratio alpha/beta is the inverse of the throughput ratio.
commit-a/-b      host gamma (4 PUs), one host at two commits; counter/lock native and posix,
                 procs 1 and 2, repetitions 0..4, values listed in COMMIT_SERIES below:
                 separated samples (Mann-Whitney p < 0.05), interleaved ones (not significant),
                 one crashed repetition, and one configuration whose every repetition failed.
"""

import argparse
import csv
import io
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
import ipcsync_results as R  # noqa: E402

FIXTURES = os.path.join(REPO, "results", "fixtures")
PROCS = (1, 2, 4, 8)
REP_PERCENT = (98, 100, 102)         # repetition r is median * REP_PERCENT[r] / 100

WORKLOADS = {
    # workload: (primitive, params, {backend: ops/s at procs 1})
    "counter": ("lock", "cs_ns=0;think_ns=0",
                {"native": 20_000_000, "posix": 16_000_000, "boost": 12_000_000,
                 "spin": 25_000_000}),
    "bounded_buffer": ("semaphore", "capacity=64;msg_size=64",
                       {"native": 5_000_000, "posix": 4_000_000, "boost": 2_500_000}),
    "event_broadcast": ("event", "interval_ns=10000", {"native": 200_000, "posix": 150_000}),
}
# Throughput at procs p on alpha = base * SCALE[p] (percent); spin collapses once oversubscribed.
SCALE = {1: 100, 2: 80, 4: 50, 8: 25}
SPIN_SCALE = {1: 100, 2: 80, 4: 4, 8: 2}
# beta median = alpha median * num / den
BETA_FACTOR = {"native": (1, 2), "posix": (1, 1), "boost": (5, 4), "spin": (1, 1)}
BETA_SPIN_PROCS4 = (10, 1)
FAIRNESS = {"native": 0.99, "posix": 0.97, "boost": 0.95, "spin": 0.90}
LAT_FACTOR = {"lat_p50_ns": 1, "lat_p90_ns": 1.5, "lat_p99_ns": 4, "lat_p999_ns": 10,
              "lat_max_ns": 50}

HOSTS = {
    "alpha": dict(host_id="alpha-1a2b3c4d", pus=2, cores=2, cpu="Fixture CPU A @ 2.60GHz",
                  mhz=2600, date="2026-11-20", scaling=True,
                  cache_l2=262144, cache_l3=8388608),
    "beta": dict(host_id="beta-5e6f7a8b", pus=4, cores=4, cpu="Fixture CPU B @ 3.50GHz",
                 mhz=3500, date="2026-11-21", scaling=False,
                 cache_l2=524288, cache_l3=16777216),
    "gamma": dict(host_id="gamma-9c8b7a6d", pus=4, cores=4, cpu="Fixture CPU C @ 3.00GHz",
                  mhz=3000, date="2026-11-22", scaling=False,
                  cache_l2=1048576, cache_l3=33554432),
}

# commit-a / commit-b: (backend, procs) -> ops/s per repetition; None = a failed repetition.
COMMIT_SERIES = {
    "a": {("native", 1): [10_000_000, 10_100_000, 10_200_000, 10_300_000, 10_400_000],
          ("native", 2): [8_000_000, 8_200_000, 8_400_000, 8_600_000, 8_800_000],
          ("posix", 1): [5_000_000, 5_050_000, 5_100_000, 5_150_000, 5_200_000],
          ("posix", 2): [None, None, None, None, None]},
    "b": {("native", 1): [9_000_000, 9_100_000, 9_200_000, 9_300_000, 9_400_000],
          ("native", 2): [8_100_000, 8_300_000, 8_500_000, 8_700_000, 8_900_000],
          ("posix", 1): [4_000_000, 4_050_000, None, 4_100_000, 4_150_000],
          ("posix", 2): [3_000_000, 3_100_000, 3_200_000, 3_300_000, 3_400_000]},
}
COMMITS = {"a": "1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
           "b": "2222222bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}


# --------------------------------------------------------------------------------------------
# Building rows and contexts (also used by fake_bench.py)


def pin_pus(procs, pus, pin="compact"):
    if pin == "none":
        return ""
    return ";".join(str(i % pus) for i in range(procs))


def make_row(*, timestamp, run_id, host_id, workload, primitive, backend, procs, pus, params,
             repetition, ops_per_sec, fairness, status="ok", detail="", wake=False,
             seconds=1.0, pin="compact", mode="processes"):
    """One CSV row (a dict keyed by R.COLUMNS). ops_per_sec None = nothing was measured."""
    name = "/".join([workload, primitive, backend, f"procs:{procs}", f"pin:{pin}"]
                    + [kv.replace("=", ":") for kv in params.split(";") if kv])
    row = {c: "" for c in R.COLUMNS}
    row.update(schema_version=R.SCHEMA_VERSION, timestamp=timestamp, run_id=run_id,
               host_id=host_id, name=name, workload=workload, primitive=primitive,
               backend=backend, mode=mode, procs=procs, pin=pin, pus=pin_pus(procs, pus, pin),
               params=params, repetition=repetition,
               oversubscribed=int(procs > pus), duration_s=f"{seconds:.6f}",
               warmup_s="0.200000", noisy=0, status=status, detail=detail)
    if ops_per_sec is None:
        return row
    ops = int(round(ops_per_sec * seconds))
    per_worker = ops / procs
    spread = 1.0 - fairness
    p50 = 1e9 * procs / ops_per_sec
    row.update(ops=ops, seconds=f"{seconds:.6f}", ops_per_sec=f"{ops / seconds:.1f}",
               ops_min=int(per_worker * (1 - spread)), ops_max=int(per_worker * (1 + spread)),
               fairness=f"{fairness:.4f}", lat_samples=ops // 16)
    for column, factor in LAT_FACTOR.items():
        tail = 20 if (column == "lat_max_ns" and procs > pus) else 1
        row[column] = f"{p50 * factor * tail:.2f}"
    if wake:
        row.update(wake_p50_ns=f"{p50 * 2:.2f}", wake_p99_ns=f"{p50 * 8:.2f}",
                   wake_max_ns=f"{p50 * 40:.2f}")
    return row


def csv_text(rows):
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=R.COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return out.getvalue()


def make_context(host, runs):
    h = HOSTS[host]
    return {
        "json_schema_version": R.JSON_SCHEMA_VERSION,
        "host_id": h["host_id"], "host_name": host, "cpu_model": h["cpu"],
        "num_cpus": h["pus"], "mhz_per_cpu": h["mhz"],
        "cpu_scaling_enabled": h["scaling"], "aslr_enabled": True,
        "topology": {"packages": 1, "cores": h["cores"], "pus": h["pus"], "numa_nodes": 1,
                     "pu_os_indexes": list(range(h["pus"])),
                     "caches": [{"level": 1, "type": "data", "size": 32768, "count": h["cores"]},
                                {"level": 2, "type": "unified", "size": h["cache_l2"],
                                 "count": h["cores"]},
                                {"level": 3, "type": "unified", "size": h["cache_l3"],
                                 "count": 1}]},
        "kernel": "6.1.0-fixture", "os": "Debian GNU/Linux 12 (bookworm)",
        "compiler": "GNU 12.2.0", "cxx_flags": "-O2 -g -DNDEBUG", "build_type": "Release",
        "library_versions": {"ipcsync": "0.1.0", "hwloc": "2.9.0", "boost": "1.74.0",
                             "glibc": "2.36"},
        "clock": {"source": "tsc", "overhead_ns": 7.0, "ticks_per_ns": h["mhz"] / 1000},
        "runs": runs,
    }


def make_run(run_id, date, command_line, commit, warnings):
    return {"run_id": run_id, "date": date, "command_line": command_line, "git_commit": commit,
            "warnings": warnings}


def json_text(obj):
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------------------------
# The fixtures


def _scaled(value, num, den):
    assert (value * num) % den == 0, (value, num, den)
    return value * num // den


def median_ops(host, workload, backend, procs):
    """The median ops/s of a fixture configuration (what the tests expect)."""
    base = WORKLOADS[workload][2][backend]
    alpha = _scaled(base, (SPIN_SCALE if backend == "spin" else SCALE)[procs], 100)
    if host == "alpha":
        return alpha
    num, den = BETA_SPIN_PROCS4 if (backend == "spin" and procs == 4) else BETA_FACTOR[backend]
    return _scaled(alpha, num, den)


def host_files(host):
    h = HOSTS[host]
    workloads = list(WORKLOADS) if host == "alpha" else ["counter", "bounded_buffer"]
    rows, runs, second = [], [], 0
    for n, workload in enumerate(workloads, 1):
        primitive, params, bases = WORKLOADS[workload]
        run_id = f"{h['date']}T10:0{n}:00Z-{host}-{n}"
        backends = list(bases)
        command = (f"./build/bench --primitive {primitive} --workload {workload} --backend "
                   f"{','.join(backends)} --procs 1,2,4,8 --pin compact --duration 1 --repeat 3")
        warnings = []
        if h["scaling"]:
            warnings.append("***WARNING*** CPU scaling is enabled, CPU time measurements may "
                            "be noisy")
        over = [p for p in PROCS if p > h["pus"]]
        warnings.append(f"procs {', '.join(map(str, over))} > {h['pus']} PUs: oversubscribed, "
                        f"workers share PUs")
        runs.append(make_run(run_id, f"{h['date']}T10:0{n}:00Z", command,
                             "0123456789abcdef0123456789abcdef01234567", warnings))
        for backend in backends:
            for procs in PROCS:
                median = median_ops(host, workload, backend, procs)
                for rep, percent in enumerate(REP_PERCENT):
                    second += 1
                    status, detail = "ok", ""
                    ops_per_sec = _scaled(median, percent, 100)
                    if (host, workload, backend, procs, rep) == ("alpha", "counter", "spin", 8, 1):
                        status = "verify_failed"
                        detail = f"counter={ops_per_sec - 10}, expected={ops_per_sec}"
                    if (host, workload, backend, procs, rep) == ("beta", "bounded_buffer",
                                                                 "boost", 8, 2):
                        status, ops_per_sec = "timeout", None
                        detail = "watchdog: worker 3 made no progress for 10 s"
                    fair = 1.0 if procs == 1 else FAIRNESS[backend] - (0.1 if procs > h["pus"]
                                                                        else 0.0)
                    rows.append(make_row(
                        timestamp=f"{h['date']}T10:{second // 60:02d}:{second % 60:02d}Z",
                        run_id=run_id, host_id=h["host_id"], workload=workload,
                        primitive=primitive, backend=backend, procs=procs, pus=h["pus"],
                        params=params, repetition=rep, ops_per_sec=ops_per_sec, fairness=fair,
                        status=status, detail=detail, wake=(workload == "event_broadcast")))
    return csv_text(rows), json_text(make_context(host, runs))


def commit_files(side):
    h = HOSTS["gamma"]
    run_id = f"{h['date']}T12:00:00Z-gamma-{side}"
    rows, second = [], 0
    for (backend, procs), values in COMMIT_SERIES[side].items():
        for rep, value in enumerate(values):
            second += 1
            rows.append(make_row(
                timestamp=f"{h['date']}T12:{second // 60:02d}:{second % 60:02d}Z",
                run_id=run_id, host_id=h["host_id"], workload="counter", primitive="lock",
                backend=backend, procs=procs, pus=h["pus"], params="cs_ns=0;think_ns=0",
                repetition=rep, ops_per_sec=value, fairness=1.0 if procs == 1 else 0.98,
                status="ok" if value is not None else ("error" if side == "a" else "crashed"),
                detail="" if value is not None else "worker 1: sem_open: Permission denied"
                if side == "a" else "worker 0 killed by signal 11"))
    command = ("./build/bench --primitive lock --backend native,posix --procs 1,2 "
               "--duration 1 --repeat 5")
    ctx = make_context("gamma", [make_run(run_id, f"{h['date']}T12:00:00Z", command,
                                          COMMITS[side], [])])
    return csv_text(rows), json_text(ctx)


def generate():
    """{file name: text} of every fixture file."""
    files = {}
    for host in ("alpha", "beta"):
        files[f"{host}.csv"], files[f"{host}.json"] = host_files(host)
    for side in ("a", "b"):
        files[f"commit-{side}.csv"], files[f"commit-{side}.json"] = commit_files(side)
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=FIXTURES, help="directory (default results/fixtures)")
    ap.add_argument("--check", action="store_true", help="only check the files are current")
    args = ap.parse_args()
    stale = []
    for name, text in generate().items():
        path = os.path.join(args.out, name)
        current = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if current == text:
            continue
        stale.append(path)
        if not args.check:
            os.makedirs(args.out, exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            print(path)
    if args.check and stale:
        print("stale fixtures: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""make_fixtures.py — writes results/fixtures/, the committed results the script tests use.

    /usr/bin/python3 scripts/tests/make_fixtures.py            # rewrite results/fixtures/
    /usr/bin/python3 scripts/tests/make_fixtures.py --check    # exit 1 if they differ

The numbers are chosen so a test can state the expected answers by hand:

Schemas: alpha, beta, runs and delta are schema 3 (with the labels column); commit-a/-b are
schema 2 (no labels column), kept so that older files stay tested; results/reference/vm-49ae7fe5/ is schema 1.

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
runs.csv/.json   host gamma (4 PUs), three runs of one matrix, 10 repetitions each: counter/lock
                 native, posix, spin at procs 1, 2, 4; event_broadcast/event native, posix at
                 procs 2, 4 (wake-ups); pingpong/cacheline native at procs 2 (the floor:
                 the median p50 of those rows, about 79 ns).
                 Every value is its median times a lognormal factor (sigma RUN_SIGMA, seeded).
                   run aa-1, aa-2: label smt=on, one build, the same medians: two samples of one
                     distribution (the A/A check: compare --a run=...-aa-1 --b run=...-aa-2).
                   run smt-off: label smt=off, another compiler and flags, python in its
                     library_versions; medians RUN_SHIFT x those of aa-1 (native 1.25, posix 0.8,
                     spin 1.0, i.e. faster, slower, same); one short_window and one crashed row.
drift.csv/.json  host gamma, one build run 12 times, alternating label side=A and side=B (runs
                 d01 A, d02 B, d03 A, ...): counter/lock native and posix at procs 1 and 2,
                 5 repetitions per run. Each run has its own offset (DRIFT_OFFSETS, the drift
                 between runs: layout, the machine's state), and its repetitions spread by only
                 +-0.5% around it (DRIFT_REP_FACTORS). The medians of the offsets are 0.99 (A)
                 and 1.01 (B): the sides are one distribution of runs, while run d01 (1.00)
                 against run d02 (0.92) differs by 8.7% with no overlap between repetitions.
delta.csv/.json  host delta, 8 PUs (2 L3 domains of 2 cores x 2 SMT PUs); label
                 governor=performance. c2c: one row per PU pair a<b (pus "a;b"), 3 repetitions
                 (0.98x, 1x, 1.02x): SMT siblings (2k, 2k+1) 30 ns, same L3 70 ns, across L3
                 180 ns, p99 4x p50; so the floor (median p50 of the c2c rows) is 176.4 ns.
                 event_broadcast/event native, posix at procs 2, 4, 8 with wake-ups.
"""

import argparse
import csv
import io
import json
import os
import sys

import numpy as np

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
    "delta": dict(host_id="delta-0d1e2f3a", pus=8, cores=4, cpu="Fixture CPU D @ 2.40GHz",
                  mhz=2400, date="2026-11-23", scaling=False,
                  cache_l2=1048576, cache_l3=16777216),
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

# runs.csv: (workload, primitive, backend, procs) -> median ops/s of runs aa-1 and aa-2.
RUN_MATRIX = {}
for _backend, _base in (("native", 20_000_000), ("posix", 10_000_000), ("spin", 16_000_000)):
    for _procs, _scale in ((1, 1.0), (2, 0.5), (4, 0.4)):
        RUN_MATRIX[("counter", "lock", _backend, _procs)] = _base * _scale
for _backend, _base in (("native", 400_000), ("posix", 50_000)):
    for _procs, _scale in ((2, 1.0), (4, 0.5)):
        RUN_MATRIX[("event_broadcast", "event", _backend, _procs)] = _base * _scale
RUN_MATRIX[("pingpong", "cacheline", "native", 2)] = 25_000_000     # p50 = 2e9/25e6 = 80 ns
RUN_PARAMS = {"counter": "cs_ns=0;think_ns=0", "event_broadcast": "interval_ns=10000",
              "pingpong": "sample_every=1"}
RUN_REPS = 10
RUN_SIGMA = 0.03
# Seed of the lognormal noise. Chosen so that the A/A pair has a row that an uncorrected test
# with no practical threshold would call different (test_compare shows it), while the
# documented rule (Benjamini-Hochberg + 5%) calls every row "same".
RUN_SEED = 7
RUN_SHIFT = {"native": 1.25, "posix": 0.8, "spin": 1.0}   # smt-off medians / aa medians
RUNS = ("aa-1", "aa-2", "smt-off")

# drift.csv: one offset per run (runs alternate side A, side B), repetition factors within a run.
DRIFT_OFFSETS = (1.00, 0.92, 1.04, 1.06, 0.95, 1.02, 0.98, 1.07, 0.93, 1.00, 1.03, 0.97)
DRIFT_REP_FACTORS = (0.995, 0.998, 1.0, 1.002, 1.005)
DRIFT_MATRIX = {("native", 1): 20_000_000, ("native", 2): 10_000_000,
                ("posix", 1): 8_000_000, ("posix", 2): 5_000_000}

# delta.csv: c2c round trips by the relation of the two PUs.
DELTA_PUS = 8
C2C_NS = {"smt": 30.0, "l3": 70.0, "far": 180.0}
C2C_REP_PERCENT = (98, 100, 102)


# --------------------------------------------------------------------------------------------
# Building rows and contexts (also used by fake_bench.py)


def pin_pus(procs, pus, pin="compact"):
    if pin == "none":
        return ""
    return ";".join(str(i % pus) for i in range(procs))


def make_row(*, timestamp, run_id, host_id, workload, primitive, backend, procs, pus, params,
             repetition, ops_per_sec, fairness, status="ok", detail="", wake=False,
             seconds=1.0, pin="compact", mode="processes", labels="", pu_list=None,
             latency_ns=None):
    """One CSV row (a dict keyed by R.COLUMNS). ops_per_sec None = nothing was measured.
    pu_list overrides the pus column (c2c: "a;b"); latency_ns overrides the p50 (the other
    percentiles keep their factors)."""
    name = "/".join([workload, primitive, backend, f"procs:{procs}", f"pin:{pin}"]
                    + [kv.replace("=", ":") for kv in params.split(";") if kv])
    row = {c: "" for c in R.COLUMNS}
    row.update(schema_version=R.SCHEMA_VERSION, timestamp=timestamp, run_id=run_id,
               host_id=host_id, name=name, workload=workload, primitive=primitive,
               backend=backend, mode=mode, procs=procs, pin=pin,
               pus=pin_pus(procs, pus, pin) if pu_list is None else pu_list,
               params=params, labels=labels, repetition=repetition,
               oversubscribed=int(procs > pus), duration_s=f"{seconds:.6f}",
               warmup_s="0.200000", clock_overhead_ns="7.00", noisy=0, status=status,
               detail=detail)
    if ops_per_sec is None:
        return row
    ops = int(round(ops_per_sec * seconds))
    per_worker = ops / procs
    spread = 1.0 - fairness
    p50 = 1e9 * procs / ops_per_sec if latency_ns is None else latency_ns
    cpu_ns = 1e9 * procs / ops_per_sec * (1.5 if backend == "spin" else 1.0)
    cpu_s = cpu_ns * ops / 1e9
    row.update(ops=ops, seconds=f"{seconds:.6f}", ops_per_sec=f"{ops / seconds:.1f}",
               ops_min=int(per_worker * (1 - spread)), ops_max=int(per_worker * (1 + spread)),
               fairness=f"{fairness:.4f}", lat_samples=ops // 16,
               cpu_user_s=f"{cpu_s * 0.9:.6f}", cpu_sys_s=f"{cpu_s * 0.1:.6f}",
               cpu_ns_per_op=f"{cpu_ns:.2f}", vcsw=procs * 3, ivcsw=procs, steal_pct="0.00",
               others_pct="0.50", load1="0.50")
    for column, factor in LAT_FACTOR.items():
        tail = 20 if (column == "lat_max_ns" and procs > pus) else 1
        row[column] = f"{p50 * factor * tail:.2f}"
    if wake:
        row.update(wake_p50_ns=f"{p50 * 2:.2f}", wake_p99_ns=f"{p50 * 8:.2f}",
                   wake_max_ns=f"{p50 * 40:.2f}")
    return row


def csv_text(rows, schema=R.SCHEMA_VERSION):
    """The CSV of `rows` under results schema `schema` (3, or 2: no labels column)."""
    columns = R.HEADERS[schema]
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    w.writerows([dict(r, schema_version=schema) for r in rows])
    return out.getvalue()


def make_context(host, runs, packages=1, numa_nodes=1):
    h = HOSTS[host]
    return {
        "json_schema_version": R.JSON_SCHEMA_VERSION,
        "host_id": h["host_id"], "host_name": host, "cpu_model": h["cpu"],
        "num_cpus": h["pus"], "mhz_per_cpu": h["mhz"],
        "cpu_scaling_enabled": h["scaling"], "aslr_enabled": True,
        "topology": {"packages": packages, "cores": h["cores"], "pus": h["pus"],
                     "numa_nodes": numa_nodes,
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


BUILD = {"build_type": "Release", "cxx_flags": "-O2 -g -DNDEBUG", "compiler": "GNU 12.2.0",
         "library_versions": {"ipcsync": "0.1.0", "hwloc": "2.9.0", "boost": "1.74.0",
                              "glibc": "2.36"}}


def make_run(run_id, date, command_line, commit, warnings, build=None, labels=None):
    """A runs[] entry; with `build` (a dict like BUILD) it has the per-run provenance of
    bench's current JSON (build_type, cxx_flags, compiler, library_versions, labels), without
    it the older shape (run_id, date, command_line, git_commit, warnings)."""
    run = {"run_id": run_id, "date": date, "command_line": command_line, "git_commit": commit}
    if build is not None:
        run.update(json.loads(json.dumps(build)))
        run["labels"] = dict(labels or {})
    run["warnings"] = warnings
    return run


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
    return csv_text(rows, schema=2), json_text(ctx)


def runs_files():
    """runs.csv/.json: three runs on gamma (see the module docstring)."""
    h = HOSTS["gamma"]
    rng = np.random.default_rng(RUN_SEED)
    rows, runs, second = [], [], 0
    for n, name in enumerate(RUNS):
        run_id = f"{h['date']}T1{3 + n}:00:00Z-gamma-{name}"
        labels = {"smt": "off" if name == "smt-off" else "on"}
        label_text = ";".join(f"{k}={v}" for k, v in sorted(labels.items()))
        build = json.loads(json.dumps(BUILD))
        if name == "smt-off":
            build.update(compiler="Clang 16.0.6", cxx_flags="-O3 -march=native -DNDEBUG")
            build["library_versions"]["python"] = "3.11.2"
        command = ("./build/bench --workload counter,event_broadcast,pingpong --primitive "
                   "lock,event,cacheline --backend native,posix,spin --procs 1,2,4 "
                   f"--repeat {RUN_REPS} --label smt={labels['smt']}")
        runs.append(make_run(run_id, f"{h['date']}T1{3 + n}:00:00Z", command,
                             COMMITS["a"], [], build=build, labels=labels))
        for rep in range(RUN_REPS):               # interleaved, as bench does
            for (workload, primitive, backend, procs), median in RUN_MATRIX.items():
                second += 1
                if name == "smt-off":
                    median = median * RUN_SHIFT.get(backend, 1.0)
                value = float(median * np.exp(rng.normal(0.0, RUN_SIGMA)))
                status, detail = "ok", ""
                key = (name, workload, backend, procs, rep)
                if key == ("smt-off", "counter", "native", 1, 3):
                    status, detail = "short_window", "window 0.41 s of 1 s requested"
                if key == ("smt-off", "counter", "posix", 2, 7):
                    status, value, detail = "crashed", None, "worker 1 killed by signal 9"
                rows.append(make_row(
                    timestamp=f"{h['date']}T1{3 + n}:{second // 60 % 60:02d}:{second % 60:02d}Z",
                    run_id=run_id, host_id=h["host_id"], workload=workload,
                    primitive=primitive, backend=backend, procs=procs, pus=h["pus"],
                    params=RUN_PARAMS[workload], repetition=rep,
                    ops_per_sec=None if value is None else round(value, 1),
                    fairness=1.0 if procs == 1 else 0.97, status=status, detail=detail,
                    wake=(workload == "event_broadcast"), labels=label_text))
    return csv_text(rows), json_text(make_context("gamma", runs))


def drift_run_id(n):
    """The run id of drift run n (1-based): ...-gamma-d01 (side A), -d02 (side B), ..."""
    return f"{HOSTS['gamma']['date']}T{8 + n:02d}:00:00Z-gamma-d{n:02d}"


def drift_files():
    """drift.csv/.json: 12 alternating runs of one build (see the module docstring)."""
    h = HOSTS["gamma"]
    rows, runs = [], []
    for n, offset in enumerate(DRIFT_OFFSETS, 1):
        side = "A" if n % 2 else "B"
        run_id = drift_run_id(n)
        command = ("./build/bench --primitive lock --backend native,posix --procs 1,2 "
                   f"--duration 0.3 --repeat {len(DRIFT_REP_FACTORS)} --label side={side}")
        runs.append(make_run(run_id, f"{h['date']}T{8 + n:02d}:00:00Z", command, COMMITS["a"],
                             [], build=BUILD, labels={"side": side}))
        second = 0
        for rep, factor in enumerate(DRIFT_REP_FACTORS):
            for (backend, procs), median in DRIFT_MATRIX.items():
                second += 1
                rows.append(make_row(
                    timestamp=f"{h['date']}T{8 + n:02d}:00:{second:02d}Z", run_id=run_id,
                    host_id=h["host_id"], workload="counter", primitive="lock",
                    backend=backend, procs=procs, pus=h["pus"], params=RUN_PARAMS["counter"],
                    repetition=rep, ops_per_sec=round(median * offset * factor, 1),
                    fairness=1.0 if procs == 1 else 0.97, labels=f"side={side}",
                    seconds=0.3))
    return csv_text(rows), json_text(make_context("gamma", runs))


def c2c_relation(a, b):
    if a // 2 == b // 2:
        return "smt"
    return "l3" if a // 4 == b // 4 else "far"


def delta_files():
    """delta.csv/.json: a c2c matrix and event_broadcast on an 8-PU host."""
    h = HOSTS["delta"]
    labels = "governor=performance"
    rows, runs, second = [], [], 0
    build = json.loads(json.dumps(BUILD))
    c2c_run = f"{h['date']}T09:00:00Z-delta-c2c"
    runs.append(make_run(c2c_run, f"{h['date']}T09:00:00Z",
                         "./build/bench --workload c2c --repeat 3 --label governor=performance",
                         COMMITS["b"], [], build=build, labels={"governor": "performance"}))
    for rep, percent in enumerate(C2C_REP_PERCENT):
        for a in range(DELTA_PUS):
            for b in range(a + 1, DELTA_PUS):
                second += 1
                rtt = C2C_NS[c2c_relation(a, b)] * percent / 100
                rows.append(make_row(
                    timestamp=f"{h['date']}T09:{second // 60:02d}:{second % 60:02d}Z",
                    run_id=c2c_run, host_id=h["host_id"], workload="c2c", primitive="cacheline",
                    backend="native", procs=2, pus=h["pus"], params="", repetition=rep,
                    ops_per_sec=1e9 / rtt, fairness=1.0, pin="none", labels=labels,
                    pu_list=f"{a};{b}", latency_ns=rtt))
    ev_run = f"{h['date']}T09:30:00Z-delta-event"
    runs.append(make_run(ev_run, f"{h['date']}T09:30:00Z",
                         "./build/bench --primitive event --backend native,posix --procs 2,4,8 "
                         "--repeat 3 --label governor=performance",
                         COMMITS["b"], [], build=build, labels={"governor": "performance"}))
    for rep, percent in enumerate(REP_PERCENT):
        for backend, base in WORKLOADS["event_broadcast"][2].items():
            for procs in (2, 4, 8):
                second += 1
                rows.append(make_row(
                    timestamp=f"{h['date']}T09:{second // 60:02d}:{second % 60:02d}Z",
                    run_id=ev_run, host_id=h["host_id"], workload="event_broadcast",
                    primitive="event", backend=backend, procs=procs, pus=h["pus"],
                    params=WORKLOADS["event_broadcast"][1], repetition=rep,
                    ops_per_sec=_scaled(base * 2 // procs, percent, 100), fairness=0.99,
                    wake=True, labels=labels))
    return csv_text(rows), json_text(make_context("delta", runs))


def generate():
    """{file name: text} of every fixture file."""
    files = {}
    for host in ("alpha", "beta"):
        files[f"{host}.csv"], files[f"{host}.json"] = host_files(host)
    for side in ("a", "b"):
        files[f"commit-{side}.csv"], files[f"commit-{side}.json"] = commit_files(side)
    files["runs.csv"], files["runs.json"] = runs_files()
    files["delta.csv"], files["delta.json"] = delta_files()
    files["drift.csv"], files["drift.json"] = drift_files()
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

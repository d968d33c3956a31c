#!/usr/bin/python3
"""mp_backend.py — the `python` backend: ipcsync workloads driven by Python's multiprocessing.

bench --backend python runs this file with /usr/bin/python3 (or --python PATH). It reads one
JSON run configuration on stdin, runs the workload with the guide's own primitives
(multiprocessing.Lock, Semaphore, Value, ...), standard library only, and prints one JSON result
on stdout:

    {"workers": [{"ops", "warm_ops", "begin_ns", "end_ns", "pu", "hist": {bucket: count},
                  "min_ns", "max_ns"}, ...],
     "verify": {"ok": bool, "detail": str}}

or {"error": "..."} (exit status 1). Timing mirrors the C++ harness: workers are pinned
(os.sched_setaffinity) before they touch shared state, held at a start gate, warm up until the
driver flips the phase, then time every sample_every-th op with time.perf_counter_ns into the
same log-bucketed histogram layout as harness/histogram.hpp (bucket_index below), so bench
merges them into CSV rows of the same schema.
"""

import json
import multiprocessing as mp
import os
import sys
import time

SUB_BITS = 6
SUB = 1 << SUB_BITS
MAX_MAGNITUDE = 44
BUCKETS = SUB + (MAX_MAGNITUDE - SUB_BITS) * SUB

WARMUP, MEASURE, STOP = 0, 1, 2


def bucket_index(v):
    """The LogHistogram bucket of value v (ns); must match harness/histogram.hpp."""
    if v < SUB:
        return v
    m = v.bit_length() - 1
    if m >= MAX_MAGNITUDE:
        return BUCKETS - 1
    sub = (v >> (m - SUB_BITS)) & (SUB - 1)
    return SUB + (m - SUB_BITS) * SUB + sub


def busy_ns(ns, clock=time.perf_counter_ns):
    if ns > 0:
        end = clock() + ns
        while clock() < end:
            pass


# ---- workloads -----------------------------------------------------------------------------
# Each: make_shared(cfg) -> dict of picklable-at-fork shared objects; op_factory(cfg, sh) ->
# (op, after) callables for one worker; verify(cfg, sh, total_ops) -> (ok, detail).

def counter_shared(cfg):
    prim = cfg["primitive"]
    if prim == "lock":
        mutex = mp.Lock()
    elif prim == "semaphore":
        mutex = mp.Semaphore(1)
    else:
        raise ValueError(f"counter: python has no primitive {prim!r}")
    # The guide's counter: a raw shared int guarded by the primitive (Value(lock=False)).
    return {"mutex": mutex, "counter": mp.Value("Q", 0, lock=False)}


def counter_ops(cfg, sh):
    mutex, counter = sh["mutex"], sh["counter"]
    cs, think = cfg["params"].get("cs_ns", 0), cfg["params"].get("think_ns", 0)

    def bump():
        v = counter.value
        busy_ns(cs)
        counter.value = v + 1

    if cfg.get("unsafe"):
        op = bump
    else:
        def op():
            mutex.acquire()
            bump()
            mutex.release()

    def after():
        busy_ns(think)

    return op, after


def counter_verify(cfg, sh, total):
    got = sh["counter"].value
    if cfg.get("unsafe"):
        lost = max(total - got, 0)
        return got <= total, f"lost_updates={lost} counter={got} expected={total}"
    return got == total, f"counter={got} expected={total}"


WORKLOADS = {"counter": (counter_shared, counter_ops, counter_verify)}


# ---- harness ---------------------------------------------------------------------------------

def worker(idx, pu, cfg, sh, ctl, results):
    try:
        if pu >= 0:
            os.sched_setaffinity(0, {pu})
        _, ops_factory, _ = WORKLOADS[cfg["workload"]]
        op, after = ops_factory(cfg, sh)
        ctl["ready"].release()
        ctl["go"].wait()
        phase = ctl["phase"]
        warm = 0
        while phase.value == WARMUP:
            op()
            after()
            warm += 1
        hist = {}
        lo, hi = None, 0
        limit = cfg.get("ops_per_worker", 0)
        every = cfg.get("sample_every", 64)
        clock = time.perf_counter_ns
        n, k = 0, every
        begin = time.monotonic_ns()
        while True:
            if limit:
                if n >= limit:
                    break
            elif phase.value == STOP:
                break
            k -= 1
            if k == 0:
                k = every
                t0 = clock()
                op()
                d = clock() - t0
                b = bucket_index(d)
                hist[b] = hist.get(b, 0) + 1
                lo = d if lo is None or d < lo else lo
                hi = d if d > hi else hi
            else:
                op()
            after()
            n += 1
        end = time.monotonic_ns()
        results.put({"index": idx, "ops": n, "warm_ops": warm, "begin_ns": begin, "end_ns": end,
                     "pu": os.sched_getaffinity(0).pop() if pu >= 0 else -1,
                     "hist": hist, "min_ns": lo or 0, "max_ns": hi})
    except BaseException as e:  # reported, never silent
        results.put({"index": idx, "error": f"worker {idx}: {type(e).__name__}: {e}"})


def run(cfg):
    ctx_fork = mp.get_context("fork")
    mp.set_start_method("fork", force=True)
    make_shared, _, verify = WORKLOADS[cfg["workload"]]
    n = cfg["procs"]
    sh = make_shared(cfg)
    ctl = {"ready": ctx_fork.Semaphore(0), "go": ctx_fork.Event(),
           "phase": ctx_fork.Value("i", WARMUP, lock=False)}
    results = ctx_fork.Queue()
    pus = cfg.get("pus") or []
    procs = [ctx_fork.Process(target=worker, args=(i, pus[i] if pus else -1, cfg, sh, ctl, results))
             for i in range(n)]
    for p in procs:
        p.start()
    for _ in range(n):
        if not ctl["ready"].acquire(timeout=30):
            raise RuntimeError("workers did not become ready")
    ctl["go"].set()
    time.sleep(cfg["warmup_s"])
    ctl["phase"].value = MEASURE
    if not cfg.get("ops_per_worker"):
        time.sleep(cfg["duration_s"])
        ctl["phase"].value = STOP
    got = [results.get() for _ in range(n)]  # bench's watchdog bounds this
    for p in procs:
        p.join()
    errors = [g["error"] for g in got if "error" in g]
    if errors:
        return {"error": errors[0]}
    got.sort(key=lambda g: g["index"])
    total = sum(g["ops"] + g["warm_ops"] for g in got)
    ok, detail = verify(cfg, sh, total)
    return {"workers": got, "verify": {"ok": ok, "detail": detail}}


def main():
    try:
        cfg = json.load(sys.stdin)
        if cfg.get("workload") not in WORKLOADS:
            raise ValueError(f"python backend has no workload {cfg.get('workload')!r}")
        out = run(cfg)
    except Exception as e:
        out = {"error": f"{type(e).__name__}: {e}"}
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 1 if "error" in out else 0


if __name__ == "__main__":
    sys.exit(main())

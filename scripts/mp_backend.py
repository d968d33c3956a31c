#!/usr/bin/python3
"""mp_backend.py — the `python` backend: ipcsync workloads driven by Python's multiprocessing.

bench --backend python runs this file with /usr/bin/python3 (or --python PATH). It reads one
JSON run configuration on stdin,

    {"workload", "primitive", "procs", "pus": [PU per worker] or [], "warmup_s", "duration_s",
     "ops_per_worker", "sample_every", "params": {name: int}, "unsafe", "fault"}

runs the workload with the guide's own primitives (multiprocessing.Lock, RLock, Semaphore,
BoundedSemaphore, Condition, Event, Barrier, Queue, JoinableQueue, Value, Array), standard
library only, and prints one JSON result on stdout:

    {"workers": [{"ops", "warm_ops", "begin_ns", "end_ns", "pu", "hist": {bucket: count},
                  "min_ns", "max_ns",
                  "wake_hist", "wake_min_ns", "wake_max_ns",  # only when it recorded wake-ups
                  "cpu_user_ns", "cpu_sys_ns", "vcsw", "ivcsw"  # the worker's getrusage
                 }, ...],
     "verify": {"ok": bool, "detail": str},
     "clock_overhead_ns": int}   # subtracted from every latency sample (net of the clock)

or {"error": "..."} (exit status 1), with "status": "crashed" when a worker was killed by a
signal or died without a word (bench reports the row as `crashed`, like a C++ worker's). Each workload mirrors its workloads/<name>.cc: the same
parameters (cfg["params"], named as in its ParamSpec), the same op, the same stop protocol and
the same verify invariant, with a detail string in the same words. Timing mirrors the C++
harness: workers are pinned (os.sched_setaffinity) before they touch shared state, held at a
start gate, warm up until the driver flips the phase WARMUP -> MEASURE -> STOP, and time every
sample_every-th op into the same log-bucketed histogram layout as harness/histogram.hpp
(bucket_index below), so bench merges them into CSV rows of the same schema. Wake-up latency
(harness WorkerSlot::wakeup: notify/set/put in one process to the waiter running in another) is
measured from timestamps of CLOCK, time.perf_counter_ns, which is clock_gettime(CLOCK_MONOTONIC)
on Linux and so comparable across processes; the measured window uses time.monotonic_ns (the
same clock).

Where Python has no equivalent of a C++ detail, the nearest faithful form is used:
  * C++ atomics on shared counters (fetch_add, CAS) become a plain read-modify-write under a
    multiprocessing.Lock (Python has no atomic read-modify-write on shared memory); where the
    primitive under test already excludes everyone (a mutex, K == 1), no extra lock is taken.
  * --atomic 1 (value_counter, array_histogram): the lock-free fetch_add has no Python form; the
    busy work moves out of the critical section and the increment is done under get_lock().
  * Queue close() (queue_pipeline, joinable_pool): multiprocessing.Queue.close() only ends the
    calling process's feeder thread and wakes nobody, so the end of the stream is one None
    sentinel per consumer, put after every producer's items are in the pipe.
"""

import ctypes
import json
import multiprocessing as mp
import os
import queue
import resource
import signal
import sys
import threading
import time
from typing import Callable, NamedTuple

SUB_BITS = 6
SUB = 1 << SUB_BITS
MAX_MAGNITUDE = 44
BUCKETS = SUB + (MAX_MAGNITUDE - SUB_BITS) * SUB

WARMUP, MEASURE, STOP = 0, 1, 2
# Round kinds, as the C++ files name them: how the worker leading a round classifies it (round_kind).
K_WARM, K_MEASURED, K_STOP = 0, 1, 2
MASK64 = (1 << 64) - 1
CLOCK = time.perf_counter_ns  # CLOCK_MONOTONIC: per-op latency and cross-process timestamps


def measure_clock_overhead(n=2001):
    """The median cost of a back-to-back CLOCK() pair (harness Clock::overhead_ns): what a span
    timed as t0 = CLOCK(); work; CLOCK() - t0 reads when the work is empty."""
    clock = CLOCK
    d = []
    for _ in range(n):
        a = clock()
        d.append(clock() - a)
    d.sort()
    return d[len(d) // 2]


# Measured by the driver before it forks; every sample a Hist records is net of it (floored at
# 0), as bench's C++ samples are net of its own clock's overhead. Reported in the result.
CLOCK_OVERHEAD_NS = 0


# ---- histograms and timing helpers ---------------------------------------------------------

def bucket_index(v):
    """The LogHistogram bucket of value v (ns); must match harness/histogram.hpp."""
    if v < SUB:
        return v
    m = v.bit_length() - 1
    if m >= MAX_MAGNITUDE:
        return BUCKETS - 1
    sub = (v >> (m - SUB_BITS)) & (SUB - 1)
    return SUB + (m - SUB_BITS) * SUB + sub


class Hist:
    """A LogHistogram by bucket (sparse), with the exact min and max."""
    __slots__ = ("counts", "lo", "hi")

    def __init__(self):
        self.clear()

    def clear(self):
        self.counts, self.lo, self.hi = {}, None, 0

    def record(self, v):
        v = v - CLOCK_OVERHEAD_NS if v > CLOCK_OVERHEAD_NS else 0  # net of the clock
        b = bucket_index(v)
        self.counts[b] = self.counts.get(b, 0) + 1
        if self.lo is None or v < self.lo:
            self.lo = v
        if v > self.hi:
            self.hi = v


def busy_ns(ns, clock=CLOCK):
    if ns > 0:
        end = clock() + ns
        while clock() < end:
            pass


def think(env):
    """The `after` of run_ops: --think-ns of busy work outside the op (None when zero)."""
    t = env.p("think_ns")
    return (lambda: busy_ns(t)) if t > 0 else None


def xorshift(x):
    """One step of the 64-bit xorshift the C++ workloads use for their draws and jitter."""
    x ^= (x << 13) & MASK64
    x ^= x >> 7
    x ^= (x << 17) & MASK64
    return x


class Env:
    """What a worker body sees: the C++ WorkerEnv (index, nprocs, cfg, phase) and WorkerSlot
    (latency and wake-up histograms, measured window, op counts)."""

    def __init__(self, index, cfg, phase):
        self.index = index
        self.nprocs = cfg["procs"]
        self.cfg = cfg
        self.phase = phase  # RawValue('i'): WARMUP -> MEASURE -> STOP, flipped by the driver
        self.limit = cfg.get("ops_per_worker", 0)
        self.every = cfg.get("sample_every", 64) or 64
        self.latency, self.wakeup = Hist(), Hist()
        self.measuring = False
        self.warm_ops = self.ops = self.begin_ns = self.end_ns = 0

    def p(self, name):
        """A workload parameter (RunConfig::param: 0 when absent)."""
        return self.cfg["params"].get(name, 0)

    def start(self):
        """The measured window begins: histograms cleared, begin stamped."""
        self.measuring = True
        self.latency.clear()
        self.wakeup.clear()
        self.begin_ns = time.monotonic_ns()

    def finish(self, warm, ops):
        if not self.measuring:
            self.start()
        self.end_ns = time.monotonic_ns()
        self.warm_ops, self.ops = warm, ops


def run_ops(env, op, after=None):
    """The measured loop (harness/workload.hpp run_ops): `op` through the warm-up phase, then
    counted and (every sample_every-th op) timed until STOP or ops_per_worker; `after` (think
    time) runs after each op, outside the timed span.

    The loop's own cost is kept off the op: the phase (a ctypes read, ~50 ns in CPython) is
    read once per chunk of sample_every ops, not once per op, and the op with and without
    `after` are two loops, so that an op costs one Python call when no think time is set. A
    worker therefore stops at most sample_every - 1 ops after STOP; its window ends when it
    stops, so ops/s stays ops over its own window. With --ops the count is exact."""
    phase = env.phase
    warm = 0
    while phase.value == WARMUP:
        op()
        if after:
            after()
        warm += 1
    env.start()
    record, limit, every, clock = env.latency.record, env.limit, env.every, CLOCK
    n = 0
    while (n < limit) if limit else (phase.value != STOP):
        k = min(every, limit - n) if limit else every
        if after is None:
            for _ in range(k - 1):
                op()
            t0 = clock()
            op()
            record(clock() - t0)
        else:
            for _ in range(k - 1):
                op()
                after()
            t0 = clock()
            op()
            record(clock() - t0)
            after()
        n += k
    env.finish(warm, n)


def round_kind(env, measured_ops):
    """How the worker that leads a round classifies it, so that everyone counts it alike
    (event_broadcast, barrier_rounds, condition_ring's token holder, pingpong's pinger):
    warm-up, measured, or stop (the stop phase, or its last --ops done)."""
    phase = env.phase.value
    kind = K_WARM if phase == WARMUP else K_MEASURED
    if (kind == K_MEASURED and measured_ops >= env.limit) if env.limit else phase == STOP:
        kind = K_STOP
    return kind


def is_unlocked(lock):
    """True when nobody holds `lock` (Lock or RLock): the C++ verify's `!locked()`."""
    if lock.acquire(False):
        lock.release()
        return True
    return False


class Totals(NamedTuple):
    """What verify sees (harness Totals)."""
    warm_ops: int
    ops: int
    per_worker_ops: list  # warm + measured, per worker


# ---- workloads -------------------------------------------------------------------------------
# Each: shared(cfg) -> dict of shared objects, made before fork; body(env, sh) in every worker;
# verify(cfg, sh, totals) -> (ok, detail) in the driver after every worker finished.

# counter.cc: acquire -> counter++ (load, --cs-ns, store) -> release, then --think-ns.

def counter_shared(cfg):
    mutex = mp.Lock() if cfg["primitive"] == "lock" else mp.Semaphore(1)
    # The guide's counter: a raw shared int guarded by the primitive (Value(lock=False)).
    return {"mutex": mutex, "counter": mp.RawValue("Q", 0)}


def counter_body(env, sh):
    acquire, release, c = sh["mutex"].acquire, sh["mutex"].release, sh["counter"]
    cs = env.p("cs_ns")

    def bump():  # a non-atomic increment: only mutual exclusion keeps it exact
        v = c.value
        busy_ns(cs)
        c.value = v + 1

    if cs > 0:
        def locked():
            acquire()
            bump()
            release()
    else:  # the same increment inline: one Python call per op, as a user's loop has
        def locked():
            acquire()
            c.value = c.value + 1
            release()

    op = locked
    if env.cfg.get("unsafe"):
        op = bump
    elif env.cfg.get("fault") == "skip_lock":
        k = 0

        def op():  # test-only: one op in 64 increments without the lock
            nonlocal k
            k += 1
            if k & 63 == 0:
                bump()
            else:
                locked()
    run_ops(env, op, think(env))


def counter_verify(cfg, sh, t):
    expect, got = t.warm_ops + t.ops, sh["counter"].value
    if cfg.get("unsafe"):
        return got <= expect, f"lost_updates={max(expect - got, 0)} counter={got} expected={expect}"
    return got == expect, f"counter={got} expected={expect}"


# rlock_nested.cc: acquire the RLock --depth times, check the depth, counter++, release as often.

def rlock_shared(cfg):
    return {"rlock": mp.RLock(), "counter": mp.RawValue("Q", 0), "depth_errors": mp.RawValue("Q", 0)}


def rlock_body(env, sh):
    r, c, errors = sh["rlock"], sh["counter"], sh["depth_errors"]
    cs, depth = env.p("cs_ns"), env.p("depth")
    acquire, release = r.acquire, r.release
    held = r._semlock._count  # the recursion depth of the calling owner (what RLock's repr shows)
    levels = range(depth)

    def op():
        for _ in levels:
            acquire()
        if held() != depth:
            errors.value += 1  # under the RLock
        v = c.value
        busy_ns(cs)
        c.value = v + 1
        for _ in levels:
            release()
    run_ops(env, op, think(env))


def rlock_verify(cfg, sh, t):
    expect, got, errs = t.warm_ops + t.ops, sh["counter"].value, sh["depth_errors"].value
    unlocked = is_unlocked(sh["rlock"])
    return (got == expect and errs == 0 and unlocked,
            f"counter={got} expected={expect} depth_errors={errs}" + ("" if unlocked else " left_locked"))


# pool_counter.cc: K permits of a BoundedSemaphore; count holders (max <= K), bump a counter.

HOLDERS, MAX_HOLDERS = 0, 1


def pool_shared(cfg):
    k = cfg["params"].get("permits", 1)
    return {"sem": mp.BoundedSemaphore(k), "permits": k, "counter": mp.RawValue("Q", 0),
            "holders": mp.RawArray("Q", 2), "stats_lock": mp.Lock()}


def pool_body(env, sh):
    sem, c, hs, stats_lock = sh["sem"], sh["counter"], sh["holders"], sh["stats_lock"]
    cs = env.p("cs_ns")
    acquire, release = sem.acquire, sem.release

    if sh["permits"] == 1:
        # Exclusive: the semaphore alone must keep the holder count and the counter exact.
        def op():
            acquire()
            h = hs[HOLDERS] + 1
            hs[HOLDERS] = h
            if h > hs[MAX_HOLDERS]:
                hs[MAX_HOLDERS] = h
            v = c.value
            busy_ns(cs)
            c.value = v + 1
            hs[HOLDERS] -= 1
            release()
    else:
        # K holders at once: the C++ atomics become read-modify-writes under stats_lock.
        def op():
            acquire()
            with stats_lock:
                h = hs[HOLDERS] + 1
                hs[HOLDERS] = h
                if h > hs[MAX_HOLDERS]:
                    hs[MAX_HOLDERS] = h
            busy_ns(cs)
            with stats_lock:
                c.value += 1
                hs[HOLDERS] -= 1
            release()
    run_ops(env, op, think(env))


def pool_verify(cfg, sh, t):
    sem, k = sh["sem"], sh["permits"]
    expect, got, most = t.warm_ops + t.ops, sh["counter"].value, sh["holders"][MAX_HOLDERS]
    try:
        sem.release()  # every permit is back: one more must be refused (ValueError)
        refused = False
    except ValueError:
        refused = True
    value = sem.get_value()
    return (got == expect and most <= k and value == k and refused,
            f"counter={got} expected={expect} max_holders={most} permits={k} value={value}"
            + (" extra_release=refused" if refused else " extra_release=ACCEPTED"))


# condition_ring.cc: a token passed around N Conditions bound to one Lock.

PASSES, T_NOTIFY, RING_STOP, TURN_ERRORS = range(4)


def ring_shared(cfg):
    lock = mp.Lock()
    return {"lock": lock, "cond": [mp.Condition(lock) for _ in range(cfg["procs"])],
            "state": mp.RawArray("Q", 4)}  # passes, t_notify, stop, errors: under the lock


def ring_body(env, sh):
    lock, conds, s = sh["lock"], sh["cond"], sh["state"]
    n, me, every = env.nprocs, env.index, env.every
    mine, nxt = conds[me], conds[(me + 1) % n]
    clock = CLOCK
    lat, wake = env.latency.record, env.wakeup.record
    warm = ops = 0
    lock.acquire()
    while True:
        t0 = clock()
        while s[PASSES] % n != me and not s[RING_STOP]:
            mine.wait()
        if s[RING_STOP]:
            break
        t1 = clock()
        kind = round_kind(env, ops)
        if kind != K_WARM and not env.measuring:
            env.start()
        if kind == K_STOP:  # release everyone: they wake, see stop, and leave
            s[RING_STOP] = 1
            for c in conds:
                c.notify_all()
            break
        if env.measuring:
            ops += 1
            if n > 1 and s[PASSES] >= n and t1 >= s[T_NOTIFY]:
                wake(t1 - s[T_NOTIFY])
            if ops % every == 0:
                lat(t1 - t0)
        else:
            warm += 1
        if s[PASSES] % n != me:
            s[TURN_ERRORS] += 1
        s[PASSES] += 1
        s[T_NOTIFY] = clock()
        nxt.notify()
    lock.release()
    env.finish(warm, ops)


def ring_verify(cfg, sh, t):
    s = sh["state"]
    total = t.warm_ops + t.ops
    spread = max(t.per_worker_ops) - min(t.per_worker_ops)
    return (s[PASSES] == total and s[TURN_ERRORS] == 0 and spread <= 1 and is_unlocked(sh["lock"]),
            f"passes={s[PASSES]} expected={total} turn_errors={s[TURN_ERRORS]} spread={spread}")


# event_broadcast.cc: worker 0 sets go[r % 2]; N-1 listeners wake, check the round, acknowledge.

ROUND, T_SET, KIND = range(3)


def broadcast_shared(cfg):
    return {"go": [mp.Event(), mp.Event()], "acked": [mp.Event(), mp.Event()],
            "acks": mp.RawArray("Q", 2), "acks_lock": mp.Lock(),
            "state": mp.RawArray("Q", 3),  # round, t_set, kind: written by the broadcaster
            "errors": mp.Value("Q", 0)}


def broadcast_body(env, sh):
    go, acked, acks, acks_lock, s = sh["go"], sh["acked"], sh["acks"], sh["acks_lock"], sh["state"]
    listeners = env.nprocs - 1
    clock = CLOCK
    warm = ops = 0
    if env.index == 0:
        every, lat = env.every, env.latency.record
        r = 0
        while True:
            i = r & 1
            kind = round_kind(env, ops)
            s[ROUND], s[KIND] = r, kind
            t0 = clock()
            s[T_SET] = t0
            go[i].set()  # publishes the three stores above
            if kind == K_STOP:
                break
            if listeners > 0:
                acked[i].wait()
            t1 = clock()
            acked[i].clear()
            go[i].clear()
            acks[i] = 0
            if kind == K_WARM:
                warm += 1
            else:
                if not env.measuring:
                    env.start()
                ops += 1
                if ops % every == 0:
                    lat(t1 - t0)
            r += 1
    else:
        wake, errors = env.wakeup.record, sh["errors"]
        r = 0
        while True:
            i = r & 1
            go[i].wait()
            t = clock()
            kind = s[KIND]
            if kind == K_STOP:
                break
            if s[ROUND] != r:
                with errors.get_lock():
                    errors.value += 1
            t_set = s[T_SET]
            if kind == K_WARM:
                warm += 1
            else:
                if not env.measuring:
                    env.start()
                ops += 1
                if t >= t_set:
                    wake(t - t_set)
            with acks_lock:
                acks[i] += 1
                last = acks[i] == listeners
            if last:
                acked[i].set()
            r += 1
    env.finish(warm, ops)


def broadcast_verify(cfg, sh, t):
    w = t.per_worker_ops
    equal = all(x == w[0] for x in w)
    errors = sh["errors"].value
    return (equal and errors == 0,
            f"rounds={w[0] if w else 0} round_errors={errors}" + ("" if equal else " UNEQUAL_ROUNDS"))


# barrier_rounds.cc: jittered work, then Barrier.wait(), round after round; phase invariant,
# arrival indexes a permutation, one action per round.

T_RELEASE, ACTIONS, ROUNDS, PHASE_ERRORS, INDEX_ERRORS = range(5)


def barrier_shared(cfg):
    n = cfg["procs"]
    s = mp.RawArray("Q", 5)

    def action():  # run by the last arrival, before anyone is released
        s[ACTIONS] += 1
        s[T_RELEASE] = CLOCK()

    return {"barrier": mp.Barrier(n, action=action), "state": s,
            "kind": mp.RawArray("I", 2),           # round r's kind in kind[r % 2], by worker 0
            "done": mp.RawArray("Q", n),           # phases each worker has finished
            "marks": mp.RawArray("B", 2 * n),      # arrival indexes seen, per round parity
            "marked": mp.RawArray("I", 2), "mark_lock": mp.Lock()}


def barrier_body(env, sh):
    barrier, s, kinds, done = sh["barrier"], sh["state"], sh["kind"], sh["done"]
    marks, marked, mark_lock = sh["marks"], sh["marked"], sh["mark_lock"]
    n, me, every = env.nprocs, env.index, env.every
    work = env.p("work_ns")
    clock, wait = CLOCK, barrier.wait
    lat, wake = env.latency.record, env.wakeup.record
    checked = list(range(n)) if n <= 64 else None
    x = (0x2545F4914F6CDD1D * (me + 1)) & MASK64
    warm = ops = 0
    r = 0
    while True:
        par = r & 1
        if work:  # jittered work: 50%..150% of --work-ns
            x = xorshift(x)
            busy_ns(work // 2 + x % (work + 1))
        done[me] = r + 1
        if me == 0:
            kinds[par] = round_kind(env, ops)
            s[ROUNDS] += 1
        t0 = clock()
        idx = wait()
        t1 = clock()
        # Phase invariant: all finished phase r, nobody finished phase r+2. Sampled above 64.
        bad = 0
        for j in checked or ((c * 2654435761 + r) % n for c in range(64)):
            d = done[j]
            if d < r + 1 or d > r + 2:
                bad += 1
        # Arrival indexes: a permutation of 0..n-1; the mark completing the round checks and
        # clears them before it can arrive at round r+1.
        base = par * n
        with mark_lock:
            s[PHASE_ERRORS] += bad
            if idx >= n or marks[base + idx]:
                s[INDEX_ERRORS] += 1
            else:
                marks[base + idx] = 1
            marked[par] += 1
            if marked[par] == n:
                if sum(marks[base:base + n]) != n:
                    s[INDEX_ERRORS] += 1
                marks[base:base + n] = bytes(n)
                marked[par] = 0
        k = kinds[par]
        if k == K_STOP:
            break
        r += 1
        if k == K_WARM:
            warm += 1
            continue
        if not env.measuring:
            env.start()
        ops += 1
        if idx + 1 != n:
            tr = s[T_RELEASE]
            if t1 >= tr:
                wake(t1 - tr)
        if ops % every == 0:
            lat(t1 - t0)
    env.finish(warm, ops)


def barrier_verify(cfg, sh, t):
    s, broken = sh["state"], sh["barrier"].broken
    w = t.per_worker_ops
    equal = all(x == w[0] for x in w)
    ok = (equal and s[PHASE_ERRORS] == 0 and s[INDEX_ERRORS] == 0 and s[ACTIONS] == s[ROUNDS]
          and not broken)
    return ok, (f"rounds={s[ROUNDS]} actions={s[ACTIONS]} phase_errors={s[PHASE_ERRORS]} "
                f"index_errors={s[INDEX_ERRORS]}" + ("" if equal else " UNEQUAL_ROUNDS")
                + (" BROKEN" if broken else ""))


# queue_pipeline.cc: P producers put (producer, seq, t_put) into a bounded Queue, C consumers get
# them; per-producer FIFO checked; each item consumed exactly once.

def producers_of(cfg):
    p, n = cfg["params"].get("producers", 0), cfg["procs"]
    if n == 1:
        return 1
    if p > 0:
        if p >= n:  # as queue_pipeline.cc validate(): never clamped
            raise ValueError(f"--producers: {p} producers leave no consumer at --procs {n}")
        return p
    return n // 2


def pipeline_shared(cfg):
    p = producers_of(cfg)
    return {"q": mp.Queue(cfg["params"].get("capacity", 8)), "producers": p,
            "put": mp.RawArray("Q", p),          # per producer, stored by it when it stops
            "got": mp.RawArray("Q", 2 * p),      # per producer: got, seq_sum; under tally_lock
            "order_errors": mp.RawValue("Q", 0), "tally_lock": mp.Lock(),
            "left": mp.RawValue("I", p), "left_lock": mp.Lock(), "flushed": mp.Semaphore(0)}


def pipeline_publish(sh, got, sums, order_errors):
    with sh["tally_lock"]:
        for pr in range(sh["producers"]):
            sh["got"][2 * pr] += got[pr]
            sh["got"][2 * pr + 1] += sums[pr]
        sh["order_errors"].value += order_errors


def pipeline_end_of_stream(env, sh):
    """A producer is done. The C++ last producer close()s the queue; here the last one puts one
    sentinel per consumer, once every other producer has flushed its feeder thread (close() +
    join_thread()), so no item can follow a sentinel."""
    q, producers = sh["q"], sh["producers"]
    with sh["left_lock"]:
        sh["left"].value -= 1
        last = sh["left"].value == 0
    if not last:
        q.close()
        q.join_thread()
        sh["flushed"].release()
        return
    for _ in range(producers - 1):
        sh["flushed"].acquire()
    for _ in range(env.nprocs - producers):
        q.put(None)


def pipeline_body(env, sh):
    q, producers, me, clock = sh["q"], sh["producers"], env.index, CLOCK
    put, get = q.put, q.get
    after = think(env)
    seq = 0
    if env.nprocs == 1:  # put, then get it back
        got, sums, errs = [0], [0], 0

        def op():
            nonlocal seq, errs
            put((me, seq, clock()))
            seq += 1
            pr, s, _ = get()
            if s != seq - 1:
                errs += 1
            got[pr] += 1
            sums[pr] += s
        run_ops(env, op, after)
        sh["put"][me] = seq
        pipeline_publish(sh, got, sums, errs)
        return
    if me < producers:
        def op():
            nonlocal seq
            put((me, seq, clock()))
            seq += 1
        run_ops(env, op, after)
        sh["put"][me] = seq
        pipeline_end_of_stream(env, sh)
        return
    # Consumer: its own loop (it stops on the end of the stream, not on the phase).
    phase, every = env.phase, env.every
    lat, wake = env.latency.record, env.wakeup.record
    nxt, got, sums = [0] * producers, [0] * producers, [0] * producers
    errs = warm = ops = 0
    while True:
        sample = env.measuring and (ops + 1) % every == 0
        t0 = clock() if sample else 0
        it = get()
        if it is None:
            break
        t1 = clock()
        pr, s, t_put = it
        if pr >= producers or s < nxt[pr]:
            errs += 1
        else:
            nxt[pr] = s + 1
            got[pr] += 1
            sums[pr] += s
        if not env.measuring and phase.value != WARMUP:
            env.start()
        if env.measuring:
            ops += 1
            if sample:
                lat(t1 - t0)
            if ops % every == 0 and t1 >= t_put:
                wake(t1 - t_put)
        else:
            warm += 1
        if after:
            after()
    pipeline_publish(sh, got, sums, errs)
    env.finish(warm, ops)


def pipeline_verify(cfg, sh, t):
    put_total = got_total = bad = 0
    for pr in range(sh["producers"]):
        n, g, s = sh["put"][pr], sh["got"][2 * pr], sh["got"][2 * pr + 1]
        put_total += n
        got_total += g
        if g != n or s != (n * (n - 1) // 2 if n else 0):
            bad += 1
    errs = sh["order_errors"].value
    return (bad == 0 and errs == 0 and sh["q"].empty(),
            f"put={put_total} got={got_total} bad_producers={bad} order_errors={errs}")


# joinable_pool.cc: worker 0 puts --batch tasks and join()s; the others get, process, task_done().

PUT, PROCESSED, CHECKSUM, EARLY_JOINS = range(4)


def pool_queue_shared(cfg):
    return {"q": mp.JoinableQueue(cfg["params"].get("capacity", 8)),
            "state": mp.RawArray("Q", 4), "state_lock": mp.Lock()}


def pool_queue_body(env, sh):
    q, s, state_lock = sh["q"], sh["state"], sh["state_lock"]
    clock = CLOCK

    def process(task):  # counted as processed *before* task_done()
        with state_lock:
            s[CHECKSUM] += task[0]
            s[PROCESSED] += 1
        q.task_done()

    if env.index == 0:
        batch, alone = env.p("batch"), env.nprocs == 1
        put, get, join = q.put, q.get, q.join
        seq = 0

        def op():
            nonlocal seq
            for _ in range(batch):
                put((seq, clock()))
                seq += 1
                s[PUT] = seq
                if alone:
                    process(get())
            join()
            if s[PROCESSED] != seq:
                s[EARLY_JOINS] += 1
        run_ops(env, op)
        for _ in range(env.nprocs - 1):  # the C++ close(): one sentinel per worker
            q.put(None)
        return
    phase, every, wake, get = env.phase, env.every, env.wakeup.record, q.get
    warm = ops = 0
    while True:
        task = get()
        if task is None:
            q.task_done()  # sentinels are not tasks: leave nothing unfinished
            break
        t1 = clock()
        if not env.measuring and phase.value != WARMUP:
            env.start()
        if env.measuring:
            ops += 1
            if ops % every == 0 and t1 >= task[1]:
                wake(t1 - task[1])
        else:
            warm += 1
        process(task)
    env.finish(warm, ops)


def pool_queue_verify(cfg, sh, t):
    s = sh["state"]
    put, done, total, early = s[PUT], s[PROCESSED], s[CHECKSUM], s[EARLY_JOINS]
    unfinished = sh["q"]._unfinished_tasks.get_value()  # JoinableQueue's count of open tasks
    return (done == put and total == (put * (put - 1) // 2 if put else 0) and early == 0
            and unfinished == 0,
            f"put={put} processed={done} early_joins={early} unfinished={unfinished}")


# value_counter.cc: `with v.get_lock(): v.value += 1` (load, --cs-ns, store).

def value_shared(cfg):
    return {"v": mp.Value("Q", 0)}  # lock=True: the guide's Value, with its own (R)Lock


def value_body(env, sh):
    lock, raw = sh["v"].get_lock(), sh["v"].get_obj()
    cs = env.p("cs_ns")
    if env.p("atomic"):
        def op():  # no lock-free fetch_add in Python: the shortest critical section instead
            busy_ns(cs)
            with lock:
                raw.value += 1
    else:
        def op():
            with lock:
                x = raw.value
                busy_ns(cs)
                raw.value = x + 1
    run_ops(env, op, think(env))


def value_verify(cfg, sh, t):
    expect, got = t.warm_ops + t.ops, sh["v"].get_obj().value
    return got == expect and is_unlocked(sh["v"].get_lock()), f"value={got} expected={expect}"


# array_histogram.cc: increment xorshift-drawn bins of one Array under its get_lock(); each
# worker tallies its draws privately and publishes them when it stops.

MAX_BINS = 64


def histogram_shared(cfg):
    return {"hist": mp.Array("Q", MAX_BINS), "tally": mp.RawArray("Q", cfg["procs"] * MAX_BINS)}


def histogram_body(env, sh):
    lock, raw = sh["hist"].get_lock(), sh["hist"].get_obj()
    cs, bins, me = env.p("cs_ns"), env.p("bins"), env.index
    mine = [0] * MAX_BINS
    x = (0x9E3779B97F4A7C15 * (me + 1)) & MASK64

    def draw():
        nonlocal x
        x = xorshift(x)
        return x % bins

    if env.p("atomic"):
        def op():  # no lock-free fetch_add in Python: the shortest critical section instead
            b = draw()
            mine[b] += 1
            busy_ns(cs)
            with lock:
                raw[b] += 1
    else:
        def op():
            b = draw()
            mine[b] += 1
            with lock:
                v = raw[b]
                busy_ns(cs)
                raw[b] = v + 1
    run_ops(env, op, think(env))
    sh["tally"][me * MAX_BINS:(me + 1) * MAX_BINS] = mine


def histogram_verify(cfg, sh, t):
    raw, tally, bins = sh["hist"].get_obj(), sh["tally"], cfg["params"].get("bins", 0)
    total = bad = 0
    for b in range(MAX_BINS):
        want = sum(tally[w * MAX_BINS + b] for w in range(cfg["procs"]))
        got = raw[b]
        total += got
        if got != want or (b >= bins and got != 0):
            bad += 1
    expect = t.warm_ops + t.ops
    return (bad == 0 and total == expect and is_unlocked(sh["hist"].get_lock()),
            f"bins_sum={total} expected={expect} bad_bins={bad}")


# pingpong.cc: pairs bounce a message (semaphore, event or condition); the pinger records round
# trips, the ponger the one-way wake-up.

SEQ, T_PING, PAIR_STOP, RECEIVED, SEQ_ERRORS = range(5)


class SemaphoreMsg:
    def __init__(self):
        self.ping_s, self.pong_s = mp.Semaphore(0), mp.Semaphore(0)

    def ping(self):
        self.ping_s.release()

    def wait_ping(self):
        self.ping_s.acquire()

    def pong(self):
        self.pong_s.release()

    def wait_pong(self):
        self.pong_s.acquire()


class EventMsg:
    def __init__(self):
        self.ping_e, self.pong_e = mp.Event(), mp.Event()

    def ping(self):
        self.ping_e.set()

    def wait_ping(self):
        self.ping_e.wait()
        self.ping_e.clear()  # before the pong, so the next ping cannot be lost

    def pong(self):
        self.pong_e.set()

    def wait_pong(self):
        self.pong_e.wait()
        self.pong_e.clear()


class ConditionMsg:
    def __init__(self):
        self.cond = mp.Condition(mp.Lock())
        self.turn = mp.RawValue("I", 0)  # 1: ping in flight, 0: pong back (under the lock)

    def _give(self, turn):
        with self.cond:
            self.turn.value = turn
            self.cond.notify()

    def _await(self, turn):
        with self.cond:
            while self.turn.value != turn:
                self.cond.wait()

    def ping(self):
        self._give(1)

    def wait_ping(self):
        self._await(1)

    def pong(self):
        self._give(0)

    def wait_pong(self):
        self._await(0)


PINGPONG_MSG = {"semaphore": SemaphoreMsg, "event": EventMsg, "condition": ConditionMsg}


def pingpong_shared(cfg):
    if cfg["procs"] % 2:
        raise ValueError(f"--procs: pingpong pairs processes, so it needs an even count (got {cfg['procs']})")
    pairs = cfg["procs"] // 2
    return {"msg": [PINGPONG_MSG[cfg["primitive"]]() for _ in range(pairs)],
            "state": [mp.RawArray("Q", 5) for _ in range(pairs)]}


def pingpong_body(env, sh):
    msg, s = sh["msg"][env.index // 2], sh["state"][env.index // 2]
    phase, clock = env.phase, CLOCK
    warm = ops = 0
    if env.index % 2 == 0:  # pinger
        every, lat = env.every, env.latency.record
        k, seq = every, 1
        while True:
            kind = round_kind(env, ops)
            if kind != K_WARM and not env.measuring:
                env.start()
            if kind == K_STOP:
                s[PAIR_STOP] = 1
                s[SEQ] = seq
                msg.ping()  # the last ping releases the ponger; no pong comes back
                break
            s[SEQ] = seq
            t0 = clock()
            s[T_PING] = t0
            msg.ping()
            msg.wait_pong()
            t1 = clock()
            seq += 1
            if not env.measuring:
                warm += 1
                continue
            ops += 1
            k -= 1
            if k == 0:
                k = every
                lat(t1 - t0)
    else:  # ponger
        wake, expect = env.wakeup.record, 1
        while True:
            msg.wait_ping()
            t1 = clock()
            if s[SEQ] != expect:
                s[SEQ_ERRORS] += 1
            if s[PAIR_STOP]:
                break
            if not env.measuring and phase.value != WARMUP:
                env.start()
            t0 = s[T_PING]
            s[RECEIVED] += 1
            msg.pong()
            if env.measuring:
                ops += 1
                if t1 >= t0:
                    wake(t1 - t0)
            else:
                warm += 1
            expect += 1
    env.finish(warm, ops)


def pingpong_verify(cfg, sh, t):
    errors = mismatched = 0
    for i, s in enumerate(sh["state"]):
        errors += s[SEQ_ERRORS]
        # Pinger's rounds (warm-up included) == ponger's answers.
        mismatched += (s[RECEIVED] != t.per_worker_ops[2 * i]) + (s[RECEIVED] != t.per_worker_ops[2 * i + 1])
    return (errors == 0 and mismatched == 0,
            f"pairs={cfg['procs'] // 2} sequence_errors={errors} unanswered={mismatched}")


class Workload(NamedTuple):
    primitives: tuple  # roles this file implements (the C++ WorkloadDef's python_primitives)
    shared: Callable
    body: Callable
    verify: Callable


WORKLOADS = {
    "array_histogram": Workload(("array",), histogram_shared, histogram_body, histogram_verify),
    "barrier_rounds": Workload(("barrier",), barrier_shared, barrier_body, barrier_verify),
    "condition_ring": Workload(("condition",), ring_shared, ring_body, ring_verify),
    "counter": Workload(("lock", "semaphore"), counter_shared, counter_body, counter_verify),
    "event_broadcast": Workload(("event",), broadcast_shared, broadcast_body, broadcast_verify),
    "joinable_pool": Workload(("joinable_queue",), pool_queue_shared, pool_queue_body, pool_queue_verify),
    "pingpong": Workload(("semaphore", "event", "condition"), pingpong_shared, pingpong_body, pingpong_verify),
    "pool_counter": Workload(("bounded_semaphore",), pool_shared, pool_body, pool_verify),
    "queue_pipeline": Workload(("queue",), pipeline_shared, pipeline_body, pipeline_verify),
    "rlock_nested": Workload(("rlock",), rlock_shared, rlock_body, rlock_verify),
    "value_counter": Workload(("value",), value_shared, value_body, value_verify),
}


# ---- harness ---------------------------------------------------------------------------------
# Nothing of this script may outlive bench. bench starts the driver (this interpreter) with
# PR_SET_PDEATHSIG(SIGKILL), so a `kill -9` of bench kills the driver; but the workers' parent is
# the driver, so each worker asks for SIGKILL on the death of its own parent too
# (die_with_parent). PDEATHSIG fires when the parent *thread* that forked ends: multiprocessing
# forks from the driver's main thread, which lives until the driver exits, so it fires exactly
# when the driver dies. Where prctl is unavailable, a watcher thread polls os.getppid() instead;
# the driver itself also checks, in its wait loop, that bench (its parent) is still there.

PR_SET_PDEATHSIG = 1


def set_pdeathsig(sig=signal.SIGKILL):
    """prctl(PR_SET_PDEATHSIG, sig) through ctypes; False where it is unavailable."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent(parent_pid):
    """Called first thing in a worker: die when the driver (parent_pid) dies."""
    if not set_pdeathsig():
        def watch():
            while os.getppid() == parent_pid:
                time.sleep(0.2)
            os._exit(97)
        threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent_pid:  # the driver died before prctl took effect
        os._exit(97)


def hist_json(h):
    return h.counts, h.lo or 0, h.hi


def worker(idx, pu, cfg, sh, ctl, results, driver_pid):
    die_with_parent(driver_pid)
    try:
        if pu >= 0:
            os.sched_setaffinity(0, {pu})
        env = Env(idx, cfg, ctl["phase"])
        ctl["ready"].release()
        ctl["go"].wait()
        WORKLOADS[cfg["workload"]].body(env, sh)
        hist, lo, hi = hist_json(env.latency)
        out = {"index": idx, "ops": env.ops, "warm_ops": env.warm_ops, "begin_ns": env.begin_ns,
               "end_ns": env.end_ns, "pu": os.sched_getaffinity(0).pop() if pu >= 0 else -1,
               "hist": hist, "min_ns": lo, "max_ns": hi}
        if env.wakeup.counts:
            out["wake_hist"], out["wake_min_ns"], out["wake_max_ns"] = hist_json(env.wakeup)
        # CPU time and context switches of this worker process (its feeder threads included).
        ru = resource.getrusage(resource.RUSAGE_SELF)
        out.update(cpu_user_ns=int(ru.ru_utime * 1e9), cpu_sys_ns=int(ru.ru_stime * 1e9),
                   vcsw=ru.ru_nvcsw, ivcsw=ru.ru_nivcsw)
        results.put(out)
    except BaseException as e:  # reported, never silent
        results.put({"index": idx, "error": f"worker {idx}: {type(e).__name__}: {e}"})


def drive(cfg, ctl, procs, results):
    """The warm-up -> measure -> stop timeline (harness drive_phases) while collecting every
    worker's result. Returns the results in index order and None, or None and the first
    failure as a result dict: a worker that reports an error ({"error"}) or dies without a word
    ({"error", "status": "crashed"}, as a C++ worker killed by a signal) ends the run at once,
    and the others (perhaps blocked on it) are killed. bench's watchdog bounds the whole; if
    bench itself disappears (its pid is no longer our parent), everything is killed at once."""
    phase = ctl["phase"]
    bench_pid = cfg.get("_bench_pid")
    timed = not cfg.get("ops_per_worker")
    t_measure = time.monotonic() + cfg["warmup_s"]
    t_stop = t_measure + (cfg["duration_s"] if timed else 0)
    got = {}
    while len(got) < len(procs):
        now = time.monotonic()
        if phase.value == WARMUP and now >= t_measure:
            phase.value = MEASURE
        if phase.value == MEASURE and timed and now >= t_stop:
            phase.value = STOP
        deadline = t_measure if phase.value == WARMUP else t_stop if timed and phase.value == MEASURE else now + 0.1
        try:
            g = results.get(timeout=min(max(deadline - now, 0), 0.1))
        except queue.Empty:  # a phase deadline, or look for a worker that died without a word
            if bench_pid is not None and os.getppid() != bench_pid:  # bench is gone
                for p in procs:
                    if p.is_alive():
                        p.kill()
                os._exit(1)
            dead = [i for i, p in enumerate(procs) if i not in got and p.exitcode not in (None, 0)]
            if not dead:
                continue
            code = procs[dead[0]].exitcode
            if code < 0:
                try:
                    name = signal.Signals(-code).name
                except ValueError:
                    name = "?"
                why = f"killed by signal {-code} ({name})"
            else:
                why = f"exited with status {code} without reporting a result"
            g = {"index": dead[0], "error": f"worker {dead[0]} {why}", "status": "crashed"}
        if "error" in g:
            for p in procs:
                if p.is_alive():
                    p.kill()
            failure = {"error": g["error"]}
            if "status" in g:
                failure["status"] = g["status"]
            return None, failure
        got[g["index"]] = g
    return [got[i] for i in range(len(procs))], None


def run(cfg):
    mp.set_start_method("fork", force=True)
    wl = WORKLOADS[cfg["workload"]]
    n = cfg["procs"]
    sh = wl.shared(cfg)
    ctl = {"ready": mp.Semaphore(0), "go": mp.Event(), "phase": mp.RawValue("i", WARMUP)}
    results = mp.Queue()
    pus = cfg.get("pus") or []
    driver = os.getpid()
    procs = [mp.Process(target=worker, args=(i, pus[i] if pus else -1, cfg, sh, ctl, results, driver))
             for i in range(n)]
    for p in procs:
        p.start()
    for _ in range(n):
        if not ctl["ready"].acquire(timeout=30):
            raise RuntimeError("workers did not become ready")
    ctl["go"].set()
    got, error = drive(cfg, ctl, procs, results)
    for p in procs:
        p.join()
    if error:
        return error
    per_worker = [g["ops"] + g["warm_ops"] for g in got]
    totals = Totals(sum(g["warm_ops"] for g in got), sum(g["ops"] for g in got), per_worker)
    ok, detail = wl.verify(cfg, sh, totals)
    for g in got:
        del g["index"]
    return {"workers": got, "verify": {"ok": ok, "detail": detail},
            "clock_overhead_ns": CLOCK_OVERHEAD_NS}


def main():
    # `mp_backend.py --list`: the roles each workload implements here, as JSON. bench declares
    # the same list (WorkloadDef::python_primitives); a test holds the two equal.
    if sys.argv[1:] == ["--list"]:
        json.dump({name: list(wl.primitives) for name, wl in WORKLOADS.items()}, sys.stdout)
        sys.stdout.write("\n")
        return 0
    # bench is our parent; it started us with PR_SET_PDEATHSIG, set it again in case we were
    # started some other way, and remember bench's pid for the driver's wait loop.
    set_pdeathsig()
    bench_pid = os.getppid()
    try:
        cfg = json.load(sys.stdin)
        if not isinstance(cfg, dict):
            raise ValueError("the run configuration is not a JSON object")
        cfg["_bench_pid"] = bench_pid
        wl = WORKLOADS.get(cfg.get("workload"))
        if wl is None:
            raise ValueError(f"python backend has no workload {cfg.get('workload')!r}")
        if cfg.get("primitive") not in wl.primitives:
            raise ValueError(f"python backend: workload {cfg['workload']!r} has no primitive "
                             f"{cfg.get('primitive')!r} (it has: {', '.join(wl.primitives)})")
        global CLOCK_OVERHEAD_NS
        CLOCK_OVERHEAD_NS = measure_clock_overhead()
        out = run(cfg)
    except Exception as e:
        out = {"error": f"{type(e).__name__}: {e}"}
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 1 if "error" in out else 0


if __name__ == "__main__":
    sys.exit(main())

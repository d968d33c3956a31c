"""probe_mp_lock.py PROCS SECONDS: PROCS multiprocessing processes increment one shared counter
under one multiprocessing.Lock for SECONDS; prints the total ops/s. No ipcsync code."""
import multiprocessing as mp
import os
import sys
import time


def worker(pu, lock, counter, start, stop, done):
    os.sched_setaffinity(0, {pu})
    start.wait()
    n = 0
    while not stop.is_set():
        for _ in range(100):
            lock.acquire()
            counter.value += 1
            lock.release()
        n += 100
    done.put(n)


def main():
    procs, seconds = int(sys.argv[1]), float(sys.argv[2])
    ctx = mp.get_context("fork")
    lock, counter = ctx.Lock(), ctx.Value("q", 0, lock=False)
    start, stop, done = ctx.Event(), ctx.Event(), ctx.Queue()
    allowed = sorted(os.sched_getaffinity(0))
    ps = [ctx.Process(target=worker, args=(allowed[i % len(allowed)], lock, counter, start, stop, done))
          for i in range(procs)]
    for p in ps:
        p.start()
    t0 = time.perf_counter()
    start.set()
    time.sleep(seconds)
    stop.set()
    total = sum(done.get() for _ in ps)
    t1 = time.perf_counter()
    for p in ps:
        p.join()
    if counter.value != total:
        sys.exit("probe_mp_lock: lost updates")
    print(f"{total / (t1 - t0):.0f}")


if __name__ == "__main__":
    main()

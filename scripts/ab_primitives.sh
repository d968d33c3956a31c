#!/usr/bin/env bash
# ab_primitives.sh OLD_BUILD NEW_BUILD [REPS] — the primitives' own figures, before and after a
# change, measured side by side: REPS interleaved repetitions (default 5) of the 2-process
# ping-pong (bench --workload pingpong, condition and semaphore, p50 round trip) and of the
# uncontended micro-benchmarks (ipcsync_micro: atomic fetch_add, native Lock and Semaphore
# acquire+release, Condition.notify with no waiter), then the median of each and new/old.
# OLD_BUILD and NEW_BUILD are build directories holding bench and ipcsync_micro (e.g. a clean
# clone of the old commit built with `cmake --build B --target bench ipcsync_micro`). On a shared
# machine only the ratio means something; run it twice before believing a difference under 10%.
set -euo pipefail
old=$1 new=$2 reps=${3:-5}
for b in "$old" "$new"; do
  for exe in bench ipcsync_micro; do
    [ -x "$b/$exe" ] || { echo "ab_primitives.sh: $b/$exe: not built" >&2; exit 2; }
  done
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ipcsync-ab-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
filter='BM_AtomicFetchAdd|BM_Lock/native|BM_Semaphore/native|BM_Condition/notify_no_waiter/Lock'
for rep in $(seq "$reps"); do
  for side in old new; do
    b=$old; [ "$side" = new ] && b=$new
    "$b/bench" --workload pingpong --primitive condition,semaphore --procs 2 --duration 1 \
      --out "$tmp/$side.csv" >/dev/null
    "$b/ipcsync_micro" --benchmark_filter="$filter" --benchmark_min_time=0.3 --benchmark_format=csv \
      2>/dev/null | grep '^"BM' | sed "s/^/$side,/" >>"$tmp/micro.csv"
  done
done
/usr/bin/python3 - "$tmp" "$reps" <<'PY'
import csv, statistics, sys
tmp, reps = sys.argv[1], sys.argv[2]
rows = {}
for side in ("old", "new"):
    for r in csv.DictReader(open(f"{tmp}/{side}.csv")):
        rows.setdefault((f"pingpong {r['primitive']} p50 (ns)", side), []).append(float(r["lat_p50_ns"]))
for r in csv.reader(open(f"{tmp}/micro.csv")):
    rows.setdefault((r[1].strip('"') + " cpu (ns)", r[0]), []).append(float(r[4]))
print(f"medians of {reps} interleaved repetitions")
print(f"{'figure':48} {'old':>10} {'new':>10} {'new/old':>8}")
for name in sorted({k[0] for k in rows}):
    o, n = statistics.median(rows[(name, "old")]), statistics.median(rows[(name, "new")])
    print(f"{name:48} {o:10.2f} {n:10.2f} {n / o:8.2f}")
PY

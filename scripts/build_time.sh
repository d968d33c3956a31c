#!/usr/bin/env bash
# build_time.sh OLD NEW [REPS] — what a build costs on this machine, before and after a change.
#
# For each repetition, interleaved (old, new, old, new, ...), each revision is cloned afresh into
# a temporary directory and timed twice, from nothing:
#   bench-target  configure (Release; Ninja when installed, for both revisions) +
#                 `cmake --build build --target bench -j$(nproc)`
#   dev.sh-bench  `./dev.sh bench --list`: the README's first command with packages installed
#                 (it configures, builds what it builds, and runs bench; --list keeps the run short)
# Prints every time, then per figure the median of each side and new/old. The machine is shared:
# read the ratio of medians, not one time. Everything it makes is removed on every exit path.
#   scripts/build_time.sh ba93f0f main 2
set -euo pipefail
old=$1 new=$2 reps=${3:-2}
repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ipcsync-buildtime-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
results=$tmp/times.txt

clone() {  # clone REV DIR
  git clone -q "$repo" "$2" && git -C "$2" checkout -q "$1"
}
seconds() {  # seconds CMD...: wall time of CMD, output discarded
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >"$tmp/last.log" 2>&1 || { echo "build_time.sh: failed: $* (last lines below)" >&2; tail -5 "$tmp/last.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}
bench_target() {  # with Ninja when it is installed, on both sides alike
  local gen=()
  command -v ninja >/dev/null && gen=(-G Ninja)
  cmake -S "$1" -B "$1/build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release && cmake --build "$1/build" --target bench -j"$(nproc)"
}
devsh_bench() {
  (cd "$1" && ./dev.sh bench --list)
}

for ((i = 1; i <= reps; i++)); do
  for side in old new; do
    rev=$old; [ "$side" = new ] && rev=$new
    d=$tmp/$side-$i
    clone "$rev" "$d/a" && clone "$rev" "$d/b"
    t=$(seconds bench_target "$d/a"); echo "$side bench-target $t" | tee -a "$results"
    t=$(seconds devsh_bench "$d/b"); echo "$side dev.sh-bench $t" | tee -a "$results"
    rm -rf "$d"
  done
done

/usr/bin/python3 - "$results" "$old" "$new" <<'PY'
import statistics, sys
t = {}
for line in open(sys.argv[1]):
    side, fig, s = line.split()
    t.setdefault(fig, {}).setdefault(side, []).append(float(s))
print(f"\nmedians (s): old = {sys.argv[2]}, new = {sys.argv[3]}")
for fig, sides in t.items():
    o, n = statistics.median(sides["old"]), statistics.median(sides["new"])
    print(f"  {fig:13s} old {o:7.1f}  new {n:7.1f}  new/old {n / o:.2f}")
PY

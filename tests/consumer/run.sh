#!/usr/bin/env bash
# run.sh BUILD_DIR SOURCE_DIR — the consumer test: install ipcsync from BUILD_DIR into a temporary
# prefix, build tests/consumer with find_package, with pkg-config, and with add_subdirectory,
# and run each. Everything lives in one temporary directory, removed on every exit path.
set -euo pipefail
build=$1 src=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ipcsync-consumer-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
test -f "$tmp/prefix/include/ipcsync/lock.hpp"
test ! -e "$tmp/prefix/bin/bench"   # bench is installed as ipcsync-bench, shadowing nothing

echo "== the installed bench, moved: no source path compiled in, scripts found beside it"
cp -a "$tmp/prefix" "$tmp/moved"
exe=$tmp/moved/bin/ipcsync-bench
if grep -qF "$src" "$exe"; then echo "ipcsync-bench holds the source path $src"; exit 1; fi
test -f "$tmp/moved/share/ipcsync/scripts/mp_backend.py"
(cd "$tmp" && env -u IPCSYNC_SCRIPTS_DIR -u IPCSYNC_MP_BACKEND "$exe" --primitive lock --backend python \
   --procs 1 --ops 200 --warmup 0.01 --format csv --out "$tmp/r.csv" >"$tmp/r.out")
grep -q ",ok," "$tmp/r.out" || { echo "the moved bench's python run is not ok:"; cat "$tmp/r.out"; exit 1; }
# the commit it reports is the one stamped when it was built (build/generated/build_info.cc),
# whatever the source tree holds now; a git checkout never reports "unknown"
/usr/bin/python3 - "$tmp/r.json" "$src" "$build/generated/build_info.cc" <<'PY'
import json, re, subprocess, sys
got = json.load(open(sys.argv[1]))["runs"][-1]["git_commit"]
commit, dirty = re.search(r'info\{"([^"]*)", (true|false)', open(sys.argv[3]).read()).groups()
assert got == commit + ("-dirty" if dirty == "true" else ""), (got, commit, dirty)
in_git = subprocess.run(["git", "-C", sys.argv[2], "rev-parse", "HEAD"], capture_output=True).returncode == 0
assert (got != "unknown") == in_git, (got, in_git)
PY

echo "== find_package"
cmake -S "$src/tests/consumer" -B "$tmp/b1" -DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$tmp/b1" >/dev/null
"$tmp/b1/bench"

echo "== pkg-config"
pc=$(find "$tmp/prefix" -name ipcsync.pc)
flags=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --cflags --libs ipcsync)
# shellcheck disable=SC2086
c++ -O2 "$src/tests/consumer/main.cc" $flags -o "$tmp/pc_bench"
"$tmp/pc_bench"

echo "== add_subdirectory (no harness dependencies configured, no clash with ipcsync's bench)"
cmake -S "$src/tests/consumer" -B "$tmp/b2" -DIPCSYNC_SUBDIR="$src" -DCMAKE_BUILD_TYPE=Release >"$tmp/b2.log"
if grep -qiE "hwloc|CLI11|nlohmann|Catch2|benchmark" "$tmp/b2.log"; then
  echo "add_subdirectory configured a harness dependency:"; cat "$tmp/b2.log"; exit 1
fi
cmake --build "$tmp/b2" --target bench >/dev/null
"$tmp/b2/bench"
echo "consumer: ok"

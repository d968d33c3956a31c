#!/usr/bin/env bash
# dev.sh — one command from a fresh Debian 12 machine to a result.
#
#   ./dev.sh bench [bench flags]   install what is missing, build, run the main job:
#                                  bench --primitive semaphore --procs 8 (flags replace the defaults)
#   ./dev.sh test                  install what is missing, build, run every test under ctest;
#                                  with IPCSYNC_SANITIZE_TESTS=1 (or, when that is unset,
#                                  CI=true), then also the sanitizer run below; .ci/run sets it,
#                                  so a developer's run stays fast and CI's is thorough
#   ./dev.sh sanitize              only the sanitizer run: build build-asan/ (-O1 -g1,
#                                  -DIPCSYNC_SANITIZE=ON: ASan + UBSan, no micro-benchmarks) and
#                                  run its ctest (the C++ tests; the Python scripts' tests are
#                                  the same in both builds and run once, in build/)
#
# Safe to run again: packages are installed only when missing (apt-get update first), and the
# builds are incremental. Needs root (or sudo) only the first time, for apt-get.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"

BUILD_DIR=${IPCSYNC_BUILD_DIR:-build}
SAN_BUILD_DIR=${IPCSYNC_SANITIZE_BUILD_DIR:-build-asan}
# What bench needs to build and run.
PKGS_BUILD=(build-essential cmake ninja-build pkg-config git libhwloc-dev libboost-dev libbenchmark-dev catch2
            libcli11-dev nlohmann-json3-dev python3-matplotlib python3-pandas python3-numpy python3-scipy)
# What only the tests need: a headless browser to load the HTML report, and Relacy for the
# model checks of the primitives.
PKGS_TEST=(chromium relacy-dev)

install_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  local sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  echo "dev.sh: installing ${missing[*]}" >&2
  "${sudo[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
}

# generator DIR: "-G Ninja" for a tree not yet configured (Ninja schedules every file of every
# target on one queue; Make builds target after target, and a 2-core machine idles behind each
# target's slowest file). A tree configured before keeps the generator it has.
generator() {
  [ -f "$1/CMakeCache.txt" ] || ! command -v ninja >/dev/null || echo "-GNinja"
}

# build [target...]: configure and build the Release tree (every target when none is named).
build() {
  cmake -S . -B "$BUILD_DIR" $(generator "$BUILD_DIR") -DCMAKE_BUILD_TYPE=Release
  local targets=()
  (($#)) && targets=(--target "$@")
  cmake --build "$BUILD_DIR" -j"$(nproc)" "${targets[@]}"
}

# The sanitizer run. UBSan stops at the first error with a stack (halt_on_error: a report is a
# failure, not a line in a log). ASan's handle_segv=0: the harness test that makes a worker die
# of SIGSEGV on purpose ("harness: a worker killed by a signal ...") needs the signal to kill
# the worker so the run reads `crashed`; ASan's own handler would turn it into exit(1) and an
# `error` row. A real SIGSEGV elsewhere still kills its test. detect_leaks=0: forked workers and
# test children that leave through exit() would report the parent's live heap as leaks.
# Cost: the whole `.ci/run` on a clean clone (Release build + 654 tests at -j2, then this build
# and its 600 tests) took 1446 s on the 2-core CI machine (2026-12-04); the sanitizer tests,
# run serially, took 509 s of it. They run serially on purpose: they are multi-process and
# several oversubscribe the 2 PUs, so -j2 would trade minutes for watchdog margins; none is
# excluded (none is speed-bound at ASan's ~2-3x slowdown).
# Options already in the environment come after ours, so they win. (`|| return`: set -e does
# not apply inside a function called as `sanitize || ...`.)
sanitize() {
  cmake -S . -B "$SAN_BUILD_DIR" $(generator "$SAN_BUILD_DIR") -DCMAKE_BUILD_TYPE=Sanitize -DCMAKE_CXX_FLAGS_SANITIZE="-O1 -g1" \
        -DIPCSYNC_SANITIZE=ON -DIPCSYNC_BUILD_BENCHMARKS=OFF -DIPCSYNC_MODEL_CHECK=OFF || return
  cmake --build "$SAN_BUILD_DIR" -j"$(nproc)" || return
  ASAN_OPTIONS="handle_segv=0:detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
  UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" \
    ctest --test-dir "$SAN_BUILD_DIR" --output-on-failure -LE 'scripts|model|consumer'
}

case "${1:-}" in
  bench)
    shift
    install_packages "${PKGS_BUILD[@]}"
    build bench
    if (($#)); then exec "./$BUILD_DIR/bench" "$@"; fi
    exec "./$BUILD_DIR/bench" --primitive semaphore --procs 8
    ;;
  test)
    install_packages "${PKGS_BUILD[@]}" "${PKGS_TEST[@]}"
    build
    status=0
    # -j: the tests are written for a busy machine (they check counts and statuses, never a
    # speed), so running them side by side is itself part of the test; it halves CI's wall time.
    ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" || status=$?
    # IPCSYNC_SANITIZE_TESTS=1/0 decides; unset, CI=true turns the sanitizer run on.
    san=${IPCSYNC_SANITIZE_TESTS:-}
    [ -n "$san" ] || { [ "${CI:-}" = true ] && san=1 || san=0; }
    if [ "$san" = 1 ]; then
      sanitize || status=$?
    fi
    exit "$status"
    ;;
  sanitize)
    install_packages "${PKGS_BUILD[@]}"
    sanitize
    ;;
  *)
    echo "usage: ./dev.sh bench [bench flags] | ./dev.sh test | ./dev.sh sanitize" >&2
    exit 2
    ;;
esac

#!/usr/bin/env bash
# dev.sh — one command from a fresh Debian 12 machine to a result.
#
#   ./dev.sh bench [bench flags]   install what is missing, build, run the main job:
#                                  bench --primitive semaphore --procs 8 (flags replace the defaults)
#   ./dev.sh test                  install what is missing, build, run every test under ctest
#
# Safe to run again: packages are installed only when missing (apt-get update first), and the
# build is incremental. Needs root (or sudo) only the first time, for apt-get.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"

BUILD_DIR=${IPCSYNC_BUILD_DIR:-build}
# What bench needs to build and run.
PKGS_BUILD=(build-essential cmake pkg-config git libhwloc-dev libboost-dev libbenchmark-dev catch2
            libcli11-dev nlohmann-json3-dev python3-matplotlib python3-pandas python3-numpy python3-scipy)
# What only the tests need: a headless browser to load the HTML report.
PKGS_TEST=(chromium)

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

build() {
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release
  cmake --build "$BUILD_DIR" -j"$(nproc)"
}

case "${1:-}" in
  bench)
    shift
    install_packages "${PKGS_BUILD[@]}"
    build
    if (($#)); then exec "./$BUILD_DIR/bench" "$@"; fi
    exec "./$BUILD_DIR/bench" --primitive semaphore --procs 8
    ;;
  test)
    install_packages "${PKGS_BUILD[@]}" "${PKGS_TEST[@]}"
    build
    exec ctest --test-dir "$BUILD_DIR" --output-on-failure
    ;;
  *)
    echo "usage: ./dev.sh bench [bench flags] | ./dev.sh test" >&2
    exit 2
    ;;
esac

#!/bin/sh
# compare_codegen.sh REV_A REV_B — the normal build's generated code, REV_A vs REV_B: compiles
# every primitives/src/*.cc and bench_micro/*.cc of both revisions with the Release flags and
# compares `objdump -d` (issue 16: the model-checking indirection must not change it).
# Works in build/codegen/ of the repository; prints one line per object.
set -e
A=${1:?REV_A}; B=${2:?REV_B}
top=$(git rev-parse --show-toplevel)
dir=$top/build/codegen
rm -rf "$dir" && mkdir -p "$dir/a" "$dir/b"
git -C "$top" archive "$A" primitives bench_micro | tar -x -C "$dir/a"
git -C "$top" archive "$B" primitives bench_micro | tar -x -C "$dir/b"
cd "$dir"
for t in a b; do for f in $t/primitives/src/*.cc $t/bench_micro/*.cc; do echo "$t $f"; done; done |
  xargs -P2 -n2 sh -c 'g++ -O3 -DNDEBUG -DBOOST_ALL_NO_LIB -DIPCSYNC_WITH_BOOST_INTERPROCESS=1 -std=c++20 \
    -I$0/primitives/include -I$0/primitives -c $1 -o $1.o && objdump -d --no-show-raw-insn $1.o | sed 1,3d > $1.dis'
for f in a/primitives/src/*.cc a/bench_micro/*.cc; do
  g=b/${f#a/}
  if cmp -s "$f.dis" "$g.dis"; then echo "identical ${f#a/}"; else echo "DIFFERS   ${f#a/}"; fi
done

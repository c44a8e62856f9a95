#!/bin/sh
# Builds the QMP fuzz target with clang's libFuzzer and AddressSanitizer.
#
# usage: tests/fuzz/build.sh [BUILDDIR] [OUT]
#   BUILDDIR: a configured kvmpc build (default build); its libkvmpc-core.a
#             and generated monitor/qmp-gen.[ch] are used.
#   OUT:      the fuzzer binary (default BUILDDIR/tests/fuzz/fuzz-qmp).
# The monitor sources are compiled again here with coverage instrumentation;
# the rest of kvmpc links from the library as built.
set -eu
. "$(dirname "$0")/kvmpc-libs.inc.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:-$top/build}" && pwd)
OUT=${2:-$B/tests/fuzz/fuzz-qmp}
CC=${CLANG:-clang}
command -v "$CC" >/dev/null || { echo "build.sh: $CC not found (set CLANG=)"; exit 77; }
[ -f "$B/libkvmpc-core.a" ] || ninja -C "$B" libkvmpc-core.a
ninja -C "$B" monitor/qmp-gen.c monitor/qmp-gen.h >/dev/null
mkdir -p "$(dirname "$OUT")"
flags="-g -O1 -fsanitize=fuzzer-no-link,address -fno-omit-frame-pointer -I$top/include -I$top -I$B"
flags="$flags $(pkg-config --cflags glib-2.0 json-glib-1.0)"
objs=""
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for src in "$top"/monitor/json-stream.c "$top"/monitor/qmp.c "$top"/monitor/qmp-dispatch.c \
           "$top"/monitor/qmp-cmds.c "$top"/monitor/hmp.c "$top"/monitor/monitor.c \
           "$B"/monitor/qmp-gen.c "$top"/tests/fuzz/fuzz-qmp.c; do
    o="$tmp/$(basename "$src" .c).o"
    $CC $flags -c "$src" -o "$o"
    objs="$objs $o"
done
# The library's own monitor objects are left out (-Wl,--allow-multiple-definition
# is not needed: the instrumented copies come first and satisfy every symbol).
$CC -fsanitize=fuzzer,address -o "$OUT" $objs "$B/libkvmpc-core.a" \
    $kvmpc_libs
echo "built $OUT"

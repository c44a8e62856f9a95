#!/bin/sh
# Builds the qcow2 fuzz target (tests/fuzz/fuzz-qcow2.c) with clang's
# libFuzzer and AddressSanitizer.
#
# usage: tests/fuzz/build-qcow2.sh [BUILDDIR] [OUT]
#   then: OUT -max_len=1048576 -timeout=10 [CORPUS_DIR]
# block/qcow2.c and the fuzz target are compiled again with coverage
# instrumentation; the rest links from BUILDDIR's libkvmpc-core.a.
set -eu
. "$(dirname "$0")/kvmpc-libs.inc.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:-$top/build}" && pwd)
OUT=${2:-$B/tests/fuzz/fuzz-qcow2-libfuzzer}
CC=${CLANG:-clang}
command -v "$CC" >/dev/null || { echo "build-qcow2.sh: $CC not found (set CLANG=)"; exit 77; }
[ -f "$B/libkvmpc-core.a" ] || ninja -C "$B" libkvmpc-core.a
mkdir -p "$(dirname "$OUT")"
flags="-g -O1 -fsanitize=fuzzer-no-link,address -fno-omit-frame-pointer -I$top/include -I$top -I$B"
flags="$flags $(pkg-config --cflags glib-2.0 json-glib-1.0)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$CC $flags -c "$top/block/qcow2.c" -o "$tmp/qcow2.o"
$CC $flags -c "$top/tests/fuzz/fuzz-qcow2.c" -o "$tmp/fuzz-qcow2.o"
$CC -fsanitize=fuzzer,address -o "$OUT" "$tmp/fuzz-qcow2.o" "$tmp/qcow2.o" "$B/libkvmpc-core.a" \
    $kvmpc_libs
echo "built $OUT"

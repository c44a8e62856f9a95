#!/bin/sh
# Builds tcg-lite's CPU-mode fuzz target (tests/fuzz/fuzz-tcgl-exec.c) with
# clang's libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer
# (docs/tcg-lite.md, "CPU fuzzing").
#
# usage: tests/fuzz/build-tcgl.sh [BUILDDIR] [OUT]
#   BUILDDIR: a configured kvmpc build (default build); its libkvmpc-core.a
#             (the memory API, the CPU model) is linked as built.
#   OUT:      the fuzzer (default BUILDDIR/tests/fuzz/fuzz-tcgl-exec-libfuzzer).
# tcg-lite's sources (accel/tcg-lite/*.c) are compiled again here with
# coverage instrumentation and the sanitizers; UBSan's findings abort.
set -eu
. "$(dirname "$0")/kvmpc-libs.inc.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:-$top/build}" && pwd)
OUT=${2:-$B/tests/fuzz/fuzz-tcgl-exec-libfuzzer}
CC=${CLANG:-clang}
command -v "$CC" >/dev/null || { echo "build-tcgl.sh: $CC not found (set CLANG=)"; exit 77; }
[ -f "$B/libkvmpc-core.a" ] || ninja -C "$B" libkvmpc-core.a
mkdir -p "$(dirname "$OUT")"
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
flags="-g -O1 -fsanitize=fuzzer-no-link $san -fno-omit-frame-pointer -std=gnu11"
flags="$flags -D_FILE_OFFSET_BITS=64 -I$top/include -I$top -I$B -I$top/accel/tcg-lite"
flags="$flags $(pkg-config --cflags glib-2.0 json-glib-1.0)"
objs=""
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for src in "$top"/accel/tcg-lite/*.c "$top"/tests/fuzz/fuzz-tcgl-exec.c; do
    o="$tmp/$(basename "$src" .c).o"
    $CC $flags -c "$src" -o "$o" &
    objs="$objs $o"
done
wait
for o in $objs; do
    [ -f "$o" ] || { echo "build-tcgl.sh: compiling failed"; exit 1; }
done
$CC -fsanitize=fuzzer $san -o "$OUT" $objs "$B/libkvmpc-core.a" \
    $kvmpc_libs
echo "built $OUT"

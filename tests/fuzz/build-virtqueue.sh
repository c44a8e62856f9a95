#!/bin/sh
# Builds the virtqueue parser's fuzz target (tests/fuzz/fuzz-virtqueue.c)
# with clang's libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer,
# and with -r runs it for a short while (SECONDS, default 30) as a smoke
# run: exit 0 "fuzz-virtqueue: ok", 77 without clang, 1 on a finding (the
# reproducer stays in BUILDDIR/tests/fuzz/artifacts/).
#
# usage: tests/fuzz/build-virtqueue.sh [-r [SECONDS]] [BUILDDIR]
# hw/virtio/virtio.c is compiled again with coverage instrumentation; the
# rest (the memory API) links from BUILDDIR's libkvmpc-core.a.
set -eu
. "$(dirname "$0")/kvmpc-libs.inc.sh"
run=""
if [ "${1:-}" = "-r" ]; then
    shift
    run=30
    case "${1:-}" in [0-9]*) run=$1; shift ;; esac
fi
top=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:-$top/build}" && pwd)
OUT=$B/tests/fuzz/fuzz-virtqueue-libfuzzer
CC=${CLANG:-clang}
command -v "$CC" >/dev/null || { echo "build-virtqueue.sh: $CC not found (set CLANG=)"; exit 77; }
[ -f "$B/libkvmpc-core.a" ] || ninja -C "$B" libkvmpc-core.a
mkdir -p "$(dirname "$OUT")" "$B/tests/fuzz/artifacts"
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
flags="-g -O1 -fsanitize=fuzzer-no-link $san -fno-omit-frame-pointer -std=gnu11"
flags="$flags -D_FILE_OFFSET_BITS=64 -I$top/include -I$top -I$B"
flags="$flags $(pkg-config --cflags glib-2.0 json-glib-1.0)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$CC $flags -c "$top/hw/virtio/virtio.c" -o "$tmp/virtio.o"
$CC $flags -c "$top/tests/fuzz/fuzz-virtqueue.c" -o "$tmp/fuzz.o"
$CC -fsanitize=fuzzer $san -o "$OUT" "$tmp/virtio.o" "$tmp/fuzz.o" "$B/libkvmpc-core.a" \
    $kvmpc_libs
echo "built $OUT"
[ -n "$run" ] || exit 0
mkdir -p "$tmp/corpus"
if (cd "$B/tests/fuzz/artifacts" && "$OUT" -max_total_time="$run" -max_len=65552 -timeout=10 \
        -error_exitcode=99 -timeout_exitcode=98 "$tmp/corpus" "$top/tests/fuzz/corpus-virtqueue" \
        >"$tmp/log" 2>&1); then
    echo "fuzz-virtqueue: ok"
else
    grep -E "ERROR|SUMMARY|fuzz-virtqueue:" "$tmp/log" | head -5
    echo "fuzz-virtqueue: finding (see $B/tests/fuzz/artifacts)"
    exit 1
fi

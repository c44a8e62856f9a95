#!/bin/sh
# Builds the receive coalescer's fuzz target (tests/fuzz/fuzz-tcp-coalesce.c
# over net/tcp-coalesce.c) with clang's libFuzzer, AddressSanitizer and
# UndefinedBehaviorSanitizer, and with -r runs it for a short while
# (SECONDS, default 30): exit 0 "fuzz-tcp-coalesce: ok", 77 without clang,
# 1 on a finding (the reproducer stays in BUILDDIR/tests/fuzz/artifacts/).
#
# usage: tests/fuzz/build-tcp-coalesce.sh [-r [SECONDS]] [BUILDDIR]
set -eu
run=""
if [ "${1:-}" = "-r" ]; then
    shift
    run=30
    case "${1:-}" in [0-9]*) run=$1; shift ;; esac
fi
top=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:-$top/build}" && pwd)
OUT=$B/tests/fuzz/fuzz-tcp-coalesce-libfuzzer
CC=${CLANG:-clang}
command -v "$CC" >/dev/null || { echo "build-tcp-coalesce.sh: $CC not found (set CLANG=)"; exit 77; }
mkdir -p "$(dirname "$OUT")" "$B/tests/fuzz/artifacts"
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
$CC -g -O1 -fsanitize=fuzzer $san -fno-omit-frame-pointer -std=gnu11 -I"$top/include" \
    -o "$OUT" "$top/net/tcp-coalesce.c" "$top/tests/fuzz/fuzz-tcp-coalesce.c"
echo "built $OUT"
[ -n "$run" ] || exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if (cd "$B/tests/fuzz/artifacts" && "$OUT" -max_total_time="$run" -max_len=200000 -timeout=10 \
        -error_exitcode=99 -timeout_exitcode=98 "$tmp" >"$B/tests/fuzz/fuzz-tcp-coalesce.log" 2>&1); then
    echo "fuzz-tcp-coalesce: ok"
else
    grep -E "ERROR|SUMMARY|fuzz-tcp-coalesce:" "$B/tests/fuzz/fuzz-tcp-coalesce.log" | head -5
    echo "fuzz-tcp-coalesce: finding (see $B/tests/fuzz/artifacts)"
    exit 1
fi

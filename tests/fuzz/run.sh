#!/bin/sh
# A bounded fuzzing run for CI: builds the target, then fuzzes for
# SECONDS (default 60) starting from tests/fuzz/corpus-qmp.  New inputs go
# to a scratch corpus, not the checked-in one.  Exit 77 (skip) without clang.
#
# usage: tests/fuzz/run.sh [BUILDDIR] [SECONDS]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:-$top/build}" && pwd)
T=${2:-60}
"$top/tests/fuzz/build.sh" "$B" "$B/tests/fuzz/fuzz-qmp"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
ASAN_OPTIONS=detect_leaks=0 "$B/tests/fuzz/fuzz-qmp" \
    -max_total_time="$T" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -dict="$top/tests/fuzz/qmp.dict" -print_final_stats=1 \
    "$work" "$top/tests/fuzz/corpus-qmp"

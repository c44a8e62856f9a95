#!/bin/sh
# A bounded libFuzzer run of tcg-lite's CPU-mode target (fuzz-tcgl-exec,
# docs/tcg-lite.md "CPU fuzzing"): builds it (tests/fuzz/build-tcgl.sh),
# then fuzzes for SECONDS (default 60) from tests/fuzz/corpus-tcgl.  New
# inputs go to a scratch corpus.  The verdict is the last line, as
# tests/fuzz/run.sh's:
#   0   "fuzz: ok"            nothing found
#   77  "fuzz: skip (...)"    clang/libFuzzer not installed
#   1   "fuzz: crash|timeout|oom|error (...)"; the reproducer is kept in
#       BUILDDIR/tests/fuzz/artifacts-tcgl/ (replay it with
#       build/tests/fuzz/fuzz-tcgl-exec FILE, or the libFuzzer binary).
# A hang (the watchdog's abort) is reported as a crash.
#
# usage: tests/fuzz/run-tcgl.sh [BUILDDIR] [SECONDS]
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:-$top/build}" && pwd)
T=${2:-60}
bin=$B/tests/fuzz/fuzz-tcgl-exec-libfuzzer
"$top/tests/fuzz/build-tcgl.sh" "$B" "$bin"
rc=$?
if [ $rc = 77 ]; then
    echo "fuzz: skip (clang/libFuzzer not installed)"
    exit 77
elif [ $rc != 0 ]; then
    echo "fuzz: error (building the fuzz target failed, status $rc)"
    exit 1
fi
work=$(mktemp -d)
art="$B/tests/fuzz/artifacts-tcgl"
mkdir -p "$art" "$work/corpus"
log="$work/fuzz.log"
trap 'rm -rf "$work"' EXIT
cd "$work"
"$bin" -max_total_time="$T" -max_len=4096 -timeout=30 -rss_limit_mb=2048 \
    -error_exitcode=99 -timeout_exitcode=98 -artifact_prefix="$art/" \
    -dict="$top/tests/fuzz/tcgl.dict" -print_final_stats=1 "$work/corpus" "$top/tests/fuzz/corpus-tcgl" >"$log" 2>&1
rc=$?
cat "$log"
[ $rc = 0 ] && { echo "fuzz: ok"; exit 0; }
what=$(grep -o -m1 -E 'ERROR: (AddressSanitizer|libFuzzer|UndefinedBehaviorSanitizer)[^(]*|runtime error: .*|fuzz-tcgl-exec: [a-z].*' "$log")
at=$(grep -o -m1 -E "Test unit written to [^ ]+" "$log" | sed 's/Test unit written to //')
at=${at:-no reproducer}
case $what in
*"libFuzzer: timeout"*) echo "fuzz: timeout ($what; $at)" ;;
*out-of-memory*) echo "fuzz: oom ($what; $at)" ;;
?*) echo "fuzz: crash ($what; $at)" ;;
*) echo "fuzz: error (the fuzzer exited with status $rc and no report; see the log above)" ;;
esac
exit 1

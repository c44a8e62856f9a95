#!/bin/sh
# A bounded fuzzing run for CI: builds the target, then fuzzes for
# SECONDS (default 60) starting from tests/fuzz/corpus-qmp, with ASan's
# leak detection on.  New inputs go to a scratch corpus, not the
# checked-in one.
#
# Exit status and last line:
#   0   "fuzz: ok"                 nothing found
#   77  "fuzz: skip (REASON)"      clang/libFuzzer not installed
#   1   "fuzz: crash|leak|timeout|oom|error (...)" what was found, read
#       from the log (a sanitizer's or libFuzzer's report); the reproducer
#       (crash-*, leak-*...) is kept in BUILDDIR/tests/fuzz/artifacts/.
# libFuzzer's own error exit code is 77 by default, the same as "skip": it
# is set to 99 here (timeouts 98); ASan's crashes exit with 1.
# Either way a finding is never a skip.
#
# usage: tests/fuzz/run.sh [BUILDDIR] [SECONDS]
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:-$top/build}" && pwd)
T=${2:-60}
"$top/tests/fuzz/build.sh" "$B" "$B/tests/fuzz/fuzz-qmp"
rc=$?
if [ $rc = 77 ]; then
    echo "fuzz: skip (clang/libFuzzer not installed)"
    exit 77
elif [ $rc != 0 ]; then
    echo "fuzz: error (building the fuzz target failed, status $rc)"
    exit 1
fi
work=$(mktemp -d)
art="$B/tests/fuzz/artifacts"
mkdir -p "$art"
log="$work/fuzz.log"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
cd "$work"
ASAN_OPTIONS=detect_leaks=1 "$B/tests/fuzz/fuzz-qmp" \
    -max_total_time="$T" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -error_exitcode=99 -timeout_exitcode=98 -detect_leaks=1 \
    -artifact_prefix="$art/" \
    -dict="$top/tests/fuzz/qmp.dict" -print_final_stats=1 \
    "$work/corpus" "$top/tests/fuzz/corpus-qmp" >"$log" 2>&1
rc=$?
cat "$log"
what=$(grep -o -m1 -E 'ERROR: (LeakSanitizer|AddressSanitizer|libFuzzer|UndefinedBehaviorSanitizer)[^(]*' "$log")
art_file=$(grep -o -m1 -E "Test unit written to [^ ]+" "$log" | sed 's/Test unit written to //')
[ $rc = 0 ] && { echo "fuzz: ok"; exit 0; }
# A sanitizer's report (crashes exit with ASan's status 1) or libFuzzer's.
at="${art_file:-no reproducer}"
case $what in
*LeakSanitizer*) echo "fuzz: leak ($what; $at)" ;;
*"libFuzzer: timeout"*) echo "fuzz: timeout ($what; $at)" ;;
*out-of-memory*) echo "fuzz: oom ($what; $at)" ;;
*Sanitizer*|*"deadly signal"*) echo "fuzz: crash ($what; $at)" ;;
*)
    case $rc in
    98) echo "fuzz: timeout (an input ran longer than 10 s; $at)" ;;
    *) echo "fuzz: error (the fuzzer exited with status $rc and no report; see the log above)" ;;
    esac ;;
esac
exit 1

#!/bin/bash
# Sets up and builds kvmpc, then runs the whole test suite (tests/run-all).
# The last line printed is "N passed, N failed, N skipped".
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top"/scripts/setup.sh
exec "$top"/tests/run-all

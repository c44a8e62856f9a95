#!/bin/bash
# Measure the lab: boot time, per-command overhead (lab-run vs lab-batch) and
# a nested Debian QEMU -accel kvm boot (smoke-qemu.sh), for some -smp/-m
# combinations. Numbers are wall seconds on this machine; run it on an idle
# machine (TCG uses one host thread per lab vCPU).
#
# usage: tests/lab/measure.sh [SMP:MEM ...]     (default: 1:3072 2:3072 2:4096)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
configs=("$@")
[ ${#configs[@]} -gt 0 ] || configs=(1:3072 2:3072 2:4096)
"$here/lab-run" -- true >/dev/null   # build/cached images, warm the page cache
el() { awk "BEGIN { printf \"%.1f\", $2 - $1 }"; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for i in $(seq 10); do echo "t$i true"; done > "$tmp/list10"
printf 'smoke timeout=600 tests/lab/smoke-qemu.sh\n' > "$tmp/smoke"
printf 'config\tlab-run true\tready\tbatch 10x true\tper-cmd\tnested smp1\tnested smp2\n'
for c in "${configs[@]}"; do
	smp=${c%%:*} mem=${c##*:}
	export KVMPC_LAB_SMP=$smp KVMPC_LAB_MEM=$mem
	t0=$EPOCHREALTIME
	ready=$(KVMPC_VERBOSE=1 "$here/lab-run" -- true 2>&1 | sed -n 's/.*lab ready in \([0-9]*\)s.*/\1/p')
	t1=$EPOCHREALTIME
	"$here/lab-batch" "$tmp/list10" "$tmp/r10" >/dev/null
	t2=$EPOCHREALTIME
	"$here/lab-batch" "$tmp/smoke" "$tmp/rs" >/dev/null || true
	n1=$(sed -n 's/^=== qemu -accel kvm -smp 1: exit [0-9]*, \(.*\)s$/\1/p' "$tmp/rs/smoke.log")
	n2=$(sed -n 's/^=== qemu -accel kvm -smp 2: exit [0-9]*, \(.*\)s$/\1/p' "$tmp/rs/smoke.log")
	one=$(el "$t0" "$t1") ten=$(el "$t1" "$t2")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "smp=$smp mem=$mem" "$one" "${ready}" "$ten" \
		"$(awk "BEGIN { printf \"%.2f\", ($ten - $one) / 9 }")" "${n1:-?}" "${n2:-?}"
done

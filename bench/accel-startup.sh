#!/bin/bash
# Start-up cost of choosing the KVM accelerator (probe + self-test): the
# mean wall time of N launches of a guest that triple-faults at once under
# -no-reboot (so the process exits right after its first KVM_RUN), with the
# self-test on and off, interleaved to share the noise.  Run it in the lab:
#   tests/lab/lab-run -- bench/accel-startup.sh build/kvmpc [N]
set -euo pipefail
kvmpc=${1:?kvmpc} n=${2:-10}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gcc -m32 -nostdlib -static -Wl,-N -Wl,--build-id=none -Wl,-Ttext=0x100000 \
	-o "$tmp/tf.elf" "$here/../tests/functional/triple-fault.S"
declare -A sum=([on]=0 [off]=0)
launch() {
	local t0=$EPOCHREALTIME
	"$kvmpc" -accel "$1" -m 64 -nodefaults -display none -no-reboot -kernel "$tmp/tf.elf" \
		>/dev/null 2>"$tmp/err" || { cat "$tmp/err"; echo "accel-startup: $1 failed"; exit 1; }
	awk "BEGIN { printf \"%d\", ($EPOCHREALTIME - $t0) * 1000000 }"
}
launch kvm >/dev/null       # warm-up
for i in $(seq "$n"); do
	sum[on]=$((sum[on] + $(launch kvm)))
	sum[off]=$((sum[off] + $(launch kvm,self-test=off)))
done
printf 'self-test on:  %d ms per launch (mean of %d)\n' $((sum[on] / n / 1000)) "$n"
printf 'self-test off: %d ms per launch (mean of %d)\n' $((sum[off] / n / 1000)) "$n"

#!/bin/bash
# Start-up cost of choosing the KVM accelerator (probe + self-test), with
# the self-test on and off, interleaved to share the noise:
#  launch: mean wall time of N launches of a guest that leaves at once
#          through isa-debug-exit (the process ends after its first KVM_RUN);
#  probe:  mean wall time of N runs that stop right after the accelerator is
#          chosen (-qtest without -accel qtest is refused just after it), so
#          the difference on/off is the self-test alone (--probe-only).
# Run it in the lab:   tests/lab/lab-run -- bench/accel-startup.sh build/kvmpc [N]
set -euo pipefail
probe_only=false
[ "${1:-}" = --probe-only ] && { probe_only=true; shift; }
kvmpc=${1:?kvmpc} n=${2:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/exit.S" <<'ASM'
    .text
    .align 4
    .long 0x1BADB002, 0, -0x1BADB002
    .globl _start
_start:
    movw $0xf4, %dx
    xorl %eax, %eax
    outl %eax, %dx
1:  hlt
    jmp 1b
ASM
gcc -m32 -nostdlib -static -Wl,-N -Wl,--build-id=none -Wl,-Ttext=0x100000 \
	-o "$tmp/exit.elf" "$tmp/exit.S" 2>/dev/null
declare -A sum=([on]=0 [off]=0)
launch() {
	local t0=$EPOCHREALTIME rc=0
	"$kvmpc" -accel "$1" -m 64 -nodefaults -display none \
		-device isa-debug-exit,iobase=0xf4,iosize=4 -kernel "$tmp/exit.elf" \
		>/dev/null 2>"$tmp/err" || rc=$?
	[ $rc -eq 1 ] || { cat "$tmp/err" >&2; echo "accel-startup: $1: exit $rc" >&2; exit 1; }
	awk "BEGIN { printf \"%d\", ($EPOCHREALTIME - $t0) * 1000000 }"
}
probe() {
	local t0=$EPOCHREALTIME
	"$kvmpc" -accel "$1" -display none -nodefaults -qtest null 2>"$tmp/err" && exit 1
	grep -q -- "-qtest null: needs -accel qtest" "$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
	awk "BEGIN { printf \"%d\", ($EPOCHREALTIME - $t0) * 1000000 }"
}
if $probe_only; then
	probe kvm >/dev/null
	for i in $(seq "$n"); do
		sum[on]=$((sum[on] + $(probe kvm)))
		sum[off]=$((sum[off] + $(probe kvm,self-test=off)))
	done
	printf 'probe, self-test on:  %d.%03d ms (mean of %d)\n' $((sum[on] / n / 1000)) $((sum[on] / n % 1000)) "$n"
	printf 'probe, self-test off: %d.%03d ms (mean of %d)\n' $((sum[off] / n / 1000)) $((sum[off] / n % 1000)) "$n"
	exit 0
fi
launch kvm >/dev/null       # warm-up
for i in $(seq "$n"); do
	sleep 1
	sum[on]=$((sum[on] + $(launch kvm)))
	sleep 1
	sum[off]=$((sum[off] + $(launch kvm,self-test=off)))
done
printf 'self-test on:  %d ms per launch (mean of %d)\n' $((sum[on] / n / 1000)) "$n"
printf 'self-test off: %d ms per launch (mean of %d)\n' $((sum[off] / n / 1000)) "$n"

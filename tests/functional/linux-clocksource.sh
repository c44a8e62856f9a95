#!/bin/bash
# The CPU model seen by a Linux guest under KVM: with the default CPU
# (qemu64 with QEMU's KVM defaults) the guest finds the KVM paravirtual
# leaves and picks kvm-clock as its clocksource, and /proc/cpuinfo shows
# qemu64's model name; with -cpu host,kvmclock=off (the host model, the
# clock bits switched off) the clocksource is something else and the model
# name is the host's.
#
# usage: tests/functional/linux-clocksource.sh KVMPC [ACCEL]   (ACCEL: kvm)
# Needs the images prepared beforehand (tests/images/*.sh), under $KVMPC_BUILD.
set -uo pipefail
kvmpc=${1:?kvmpc binary} accel=${2:-kvm}
top=$(cd "$(dirname "$0")/../.." && pwd)
B=${KVMPC_BUILD:-$top/build}
kernel=$B/images/linux/vmlinuz
initrd=$B/images/initramfs.cpio.gz
[ -r "$kernel" ] && [ -r "$initrd" ] || { echo "FAIL: guest images missing under $B/images"; exit 1; }

script='echo "CLOCKSOURCE=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
echo "AVAILABLE=$(cat /sys/devices/system/clocksource/clocksource0/available_clocksource)"
echo "MODEL=$(sed -n "s/^model name[[:space:]]*: //p" /proc/cpuinfo | head -1)"
grep -qw hypervisor /proc/cpuinfo && echo HYPERVISOR=yes'
append="console=ttyS0 panic=-1 $("$top"/tests/images/busybox-initramfs.sh --cmdline "$script")"
out=$(mktemp)
trap 'rm -f "$out"' EXIT

boot1() {
	timeout -k 5 300 "$kvmpc" -accel "$accel" -m 512 -smp 2 -nographic -no-reboot -d cpu_reset "$@" \
		-kernel "$kernel" -initrd "$initrd" -append "$append" >"$out" 2>&1
	rc=$?
}
# LINUX_BOOT_RETRY_TRIPLE_FAULT=N: a boot that triple-faults before it
# powers off boots again, N times at most, as in linux-boot.sh
# (docs/testing-lab.md, "Known flakes"); the note says so.
boot() {
	local n=0
	boot1 "$@"
	while [ "$n" -lt "${LINUX_BOOT_RETRY_TRIPLE_FAULT:-0}" ] &&
		grep -aq "triple fault on CPU [0-9]*:" "$out" && ! grep -q "reboot: Power down" "$out"; do
		n=$((n + 1))
		ord=$(case $n in 1) echo first ;; 2) echo second ;; *) echo "${n}th" ;; esac)
		echo "NOTE: ${*:-default CPU}: booting again (after a triple fault in the $ord boot at guest time $(grep -a -o '\[ *[0-9.]*\]' "$out" | tail -1))"
		boot1 "$@"
	done
	[ $rc -eq 124 ] && fail "$*: timed out"
	grep -q "KVMPC-TEST-EXIT: 0" "$out" || fail "$*: the guest script did not complete (exit status $rc)"
	[ $rc -eq 0 ] || fail "$*: kvmpc exited with status $rc"
	clock=$(sed -n 's/^CLOCKSOURCE=\([^[:space:]]*\).*/\1/p' "$out")
	model=$(sed -n 's/^MODEL=//p' "$out" | tr -d '\r')
}
fail() { echo "--- guest output (last 30 lines) ---"; tail -30 "$out"; echo "FAIL: $*"; exit 1; }

boot
[ "$clock" = kvm-clock ] || fail "default CPU: clocksource is '${clock:-?}', not kvm-clock"
[ "$model" = "QEMU Virtual CPU version 2.5+" ] || fail "default CPU: model name '$model'"
grep -q "^HYPERVISOR=yes" "$out" || fail "default CPU: no hypervisor flag"
echo "ok: default CPU: clocksource kvm-clock, model '$model'"

boot -cpu host,kvmclock=off
[ -n "$clock" ] || fail "host,kvmclock=off: no clocksource printed"
[ "$clock" != kvm-clock ] || fail "host,kvmclock=off: the guest still uses kvm-clock"
grep -q "^AVAILABLE=.*kvm-clock" "$out" && fail "host,kvmclock=off: kvm-clock is available"
host_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
[ "$model" = "$host_model" ] || fail "host,kvmclock=off: model name '$model', the host's is '$host_model'"
echo "ok: -cpu host,kvmclock=off: clocksource $clock, model '$model'"
echo "PASS: linux clocksource, accel=$accel"

#!/bin/bash
# Smoke test / benchmark reference for the lab: Debian's qemu-system-x86_64
# with -accel kvm boots Debian's 6.1 kernel + the busybox initramfs in
# scripted mode, once with -smp 1 and once with -smp 2; checks the banner,
# the script's output, the CPU count in /proc/cpuinfo and a clean ACPI
# power-off (QEMU exits 0 by itself), and prints the wall time of each boot.
#
# usage: tests/lab/smoke-qemu.sh [lab-run options]
#   outside the lab: builds the images, then re-runs itself through
#   tests/lab/lab-run (exit statuses as lab-run: 0 pass, 1 fail, 124, 125)
#   inside the lab (KVMPC_IN_LAB=1): runs the checks directly
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

if [ "${KVMPC_IN_LAB:-0}" != 1 ]; then
	. "$here/../images/lib.sh"
	"$here/../images/debian-kernel.sh" >/dev/null
	"$here/../images/busybox-initramfs.sh" >/dev/null
	exec "$here/lab-run" --timeout 300 "$@" -- "$here/smoke-qemu.sh"
fi

. "$here/../images/lib.sh"   # only for KVMPC_BUILD (the images are built already)
kernel=$KVMPC_BUILD/images/linux/vmlinuz
initrd=$KVMPC_BUILD/images/initramfs.cpio.gz
[ -c /dev/kvm ] || { echo "smoke-qemu: no /dev/kvm"; exit 1; }
[ -e "$kernel" ] && [ -e "$initrd" ] || { echo "smoke-qemu: images not built (run tests/images/*.sh outside the lab)"; exit 1; }
fail=0
for smp in 1 2; do
	script='echo "smoke: $(grep -c ^processor /proc/cpuinfo) cpus"; grep -m1 "model name" /proc/cpuinfo; dmesg | grep -m1 -i "Hypervisor detected"; echo smoke-ok'
	append="console=ttyS0 quiet $("$here/../images/busybox-initramfs.sh" --cmdline "$script")"
	t0=$EPOCHREALTIME
	out=$(timeout 120 qemu-system-x86_64 -accel kvm -cpu host -m 512 -smp "$smp" -nographic -no-reboot \
		-kernel "$kernel" -initrd "$initrd" -append "$append" </dev/null 2>&1) && rc=0 || rc=$?
	t1=$EPOCHREALTIME
	secs=$(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }")
	echo "=== qemu -accel kvm -smp $smp: exit $rc, ${secs}s"
	printf '%s\n' "$out" | tr -d '\r' | grep -a -E '^(kvmpc-initramfs|smoke|model name|KVMPC-TEST-EXIT)|reboot: Power down|Hypervisor detected' || true
	if [ "$rc" = 0 ] \
		&& grep -aq "^kvmpc-initramfs: booted" <<<"$out" \
		&& grep -aq "^smoke: $smp cpus" <<<"$out" \
		&& grep -aq "^KVMPC-TEST-EXIT: 0" <<<"$out" \
		&& grep -aq "reboot: Power down" <<<"$out"; then
		echo "PASS smp=$smp"
	else
		echo "FAIL smp=$smp"; printf '%s\n' "$out" | tail -20; fail=1
	fi
done
exit $fail

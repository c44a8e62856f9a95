#!/bin/bash
# Boots Debian's kernel + the busybox initramfs under kvmpc and checks that
# the guest reaches its shell, runs commands, sees the expected number of
# CPUs and memory, and powers off through ACPI S5 (kvmpc exits 0).
#
# usage: tests/functional/linux-boot.sh KVMPC ACCEL SMP MEM_MB [EMULATOR ARGS...]
#   e.g. ... kvm 2 512 -machine kernel-irqchip=off
# LINUX_BOOT_LOADER=b0|ff: also check boot_params.type_of_loader as the guest
# sees it (0xb0: the kernel was entered through PVH, i.e. decompressed in the
# host, pvh-fast-path; 0xff: kvmpc's bzImage boot protocol loader).
# LINUX_BOOT_FPU=STRING: the kernel's x86/fpu line must contain STRING (e.g.
# "xstate features 0x3" with -cpu max under tcg, "will use FXSAVE").
# Under tcg, no "unchecked MSR access" may appear in the kernel log.
# LINUX_BOOT_EXPECT: extended regexes (one per line) the guest output must
# match, e.g. where the firmware put the ACPI tables.
# LINUX_BOOT_REJECT: extended regexes (one per line) it must not match.
# LINUX_BOOT_APPEND: more kernel command line (e.g. clocksource=hpet).
# LINUX_BOOT_RETRY_TRIPLE_FAULT=N: boot again, up to N times, while the guest
# triple-faults before powering off (the lab's known flake; run-all sets it
# for KVM only).
# In any case the kernel must report no ACPI errors or warnings.
# Needs the images prepared beforehand (tests/images/*.sh), under $KVMPC_BUILD.
set -uo pipefail
kvmpc=${1:?kvmpc binary} accel=${2:?accel} smp=${3:?smp} mem=${4:?mem MB}
shift 4
extra=("$@")
top=$(cd "$(dirname "$0")/../.." && pwd)
B=${KVMPC_BUILD:-$top/build}
kernel=$B/images/linux/vmlinuz
initrd=$B/images/initramfs.cpio.gz
[ -r "$kernel" ] && [ -r "$initrd" ] || { echo "FAIL: guest images missing under $B/images"; exit 1; }

script='echo "CPUS=$(grep -c ^processor /proc/cpuinfo)"
echo "MEMKB=$(sed -n "s/^MemTotal: *\([0-9]*\) kB/\1/p" /proc/meminfo)"
echo "SUM=$(echo kvmpc | md5sum | cut -c1-8)"
ls /proc/acpi >/dev/null 2>&1 && echo ACPI=yes
echo "CMDLINE_OK=$(grep -c kvmpc.test=1 /proc/cmdline)"
echo "FPU=$(dmesg | grep -o "Enabled xstate features 0x[0-9a-f]*\|will use FXSAVE" | head -1)"
echo "MSRERR=$(dmesg | grep -c "unchecked MSR access")"
echo "LOADER=$(od -An -tx1 -j 528 -N 1 /sys/kernel/boot_params/data | tr -d " ")"'
append="console=ttyS0 panic=-1 $("$top"/tests/images/busybox-initramfs.sh --cmdline "$script")"
append+="${LINUX_BOOT_APPEND:+ $LINUX_BOOT_APPEND}"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
boot() {
	timeout -k 5 300 "$kvmpc" -accel "$accel" -m "$mem" -smp "$smp" -nographic -no-reboot -d cpu_reset \
		-kernel "$kernel" -initrd "$initrd" -append "$append" "${extra[@]}" >"$out" 2>&1
	rc=$?
}
boot
# Under KVM in the lab (docs/testing-lab.md, "Known flakes"): a guest that
# triple-faults before it powers off is booted again, at most
# LINUX_BOOT_RETRY_TRIPLE_FAULT more times, and the test passes only if the
# last boot passes; every retry is reported.
retried=
n=0
while [ "$n" -lt "${LINUX_BOOT_RETRY_TRIPLE_FAULT:-0}" ] && grep -aq "triple fault on CPU [0-9]*:" "$out" &&
	! grep -q "reboot: Power down" "$out"; do
	n=$((n + 1))
	ord=$(case $n in 1) echo first ;; 2) echo second ;; *) echo "${n}th" ;; esac)
	retried="${retried:+$retried; }after a triple fault in the $ord boot at guest time $(grep -a -o '^\[ *[0-9.]*\]' "$out" | tail -1)"
	echo "NOTE: the $ord boot triple-faulted (kvmpc exit $rc); its last lines:"
	grep -a -B8 -m1 "triple fault on CPU [0-9]*:" "$out" | sed 's/^/  | /'
	boot
done
# The FAIL line (what a CI summary shows) names the guest's last words when
# it panicked or triple-faulted.
fail() {
	local last
	echo "--- guest output (last 60 lines) ---"; tail -60 "$out"
	last=$(grep -a -m1 -o "Kernel panic - not syncing:.*\|triple fault on CPU [0-9]*:.*" "$out" | tr -d '\r')
	echo "FAIL: $*${last:+ ($last)}"; exit 1
}
[ $rc -eq 124 ] && fail "timed out (no power-off within 300 s)"
grep -q "kvmpc-initramfs: booted" "$out" || fail "the initramfs did not start (exit status $rc)"
grep -q "KVMPC-TEST-EXIT: 0" "$out" || fail "the guest script did not complete (exit status $rc)"
grep -q "^CPUS=$smp\b" "$out" || fail "guest sees $(grep -o 'CPUS=[0-9]*' "$out") instead of CPUS=$smp"
grep -q "^SUM=f97fbb91" "$out" || fail "md5sum in the guest gave $(grep -o 'SUM=.*' "$out")"
grep -q "^CMDLINE_OK=1" "$out" || fail "kernel command line not passed"
if [ -n "${LINUX_BOOT_LOADER:-}" ]; then
	grep -q "^LOADER=$LINUX_BOOT_LOADER\b" "$out" ||
		fail "boot_params.type_of_loader: $(grep -o 'LOADER=.*' "$out"), expected $LINUX_BOOT_LOADER"
fi
if [ -n "${LINUX_BOOT_FPU:-}" ]; then
	grep -q "^FPU=.*$LINUX_BOOT_FPU" "$out" ||
		fail "kernel FPU setup: $(grep -o '^FPU=.*' "$out"), expected '$LINUX_BOOT_FPU'"
fi
if [ "$accel" = tcg ] && ! grep -q "^MSRERR=0" "$out"; then
	fail "the kernel hit MSRs tcg-lite refuses: $(grep -a 'unchecked MSR' "$out" | head -3)"
fi
while IFS= read -r re; do
	[ -z "$re" ] || grep -Eq -- "$re" "$out" || fail "guest output does not match: $re"
done <<<"${LINUX_BOOT_EXPECT:-}"
while IFS= read -r re; do
	[ -z "$re" ] || ! grep -Eq -- "$re" "$out" || fail "guest output matches: $re"
done <<<"${LINUX_BOOT_REJECT:-}"
if grep -Eq "ACPI (BIOS )?(Error|Warning)" "$out"; then
	fail "the kernel complains about the ACPI tables: $(grep -Ea 'ACPI (BIOS )?(Error|Warning)' "$out" | head -3)"
fi
memkb=$(sed -n 's/^MEMKB=\([0-9]*\).*/\1/p' "$out")
# The kernel reserves some; it must see most of the RAM and not more.
[ -n "$memkb" ] && [ "$memkb" -gt $((mem * 1024 * 80 / 100)) ] && [ "$memkb" -le $((mem * 1024)) ] \
	|| fail "guest MemTotal ${memkb:-?} kB does not fit -m $mem"
grep -q "reboot: Power down" "$out" || fail "no ACPI power-off message"
[ $rc -eq 0 ] || fail "kvmpc exited with status $rc after the guest powered off (expected 0)"
echo "PASS: linux boot, accel=$accel smp=$smp mem=${mem}M${extra[*]:+ ${extra[*]}}${LINUX_BOOT_LOADER:+ loader=$LINUX_BOOT_LOADER}${retried:+ ($retried)}"

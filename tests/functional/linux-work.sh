#!/bin/bash
# CPU-bound work in a Linux guest, checked against the host: md5sum of
# 64 MiB of zeros, gzip -6 of the same 64 MiB (its bytes compared with the
# host's busybox gzip, the same program the initramfs runs) and gunzip
# back; with SMP > 1 two busy shell loops in parallel, and every CPU must
# have spent user time (the guest uses all its CPUs).  The acceptance
# workload of tcg-lite (issue 11); also runs on KVM.
#
# usage: tests/functional/linux-work.sh KVMPC ACCEL SMP [EMULATOR ARGS...]
set -uo pipefail
kvmpc=${1:?kvmpc binary} accel=${2:?accel} smp=${3:?smp}
shift 3
top=$(cd "$(dirname "$0")/../.." && pwd)
B=${KVMPC_BUILD:-$top/build}
kernel=$B/images/linux/vmlinuz
initrd=$B/images/initramfs.cpio.gz
[ -r "$kernel" ] && [ -r "$initrd" ] || { echo "FAIL: guest images missing under $B/images"; exit 1; }
busybox=$(command -v busybox) || { echo "FAIL: no busybox on the host (busybox-static)"; exit 1; }
want_md5=$(head -c 64M /dev/zero | md5sum | cut -c1-32)
want_gz=$(head -c 64M /dev/zero | "$busybox" gzip -6 | md5sum | cut -c1-32)

script='dd if=/dev/zero bs=1M count=64 2>/dev/null | md5sum > /tmp/m; echo "ZMD5=$(cut -c1-32 /tmp/m)"
dd if=/dev/zero bs=1M count=64 2>/dev/null | gzip -6 > /tmp/z.gz
echo "GZMD5=$(md5sum < /tmp/z.gz | cut -c1-32)"
echo "GUNZIP=$(gunzip -c /tmp/z.gz | md5sum | cut -c1-32)"
n=0; while [ $n -lt $(grep -c ^processor /proc/cpuinfo) ]; do (i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done) & n=$((n+1)); done; wait
echo "USER=$(grep "^cpu[0-9]" /proc/stat | while read c u rest; do echo -n "$u,"; done)"'
append="console=ttyS0 panic=-1 $("$top"/tests/images/busybox-initramfs.sh --cmdline "$script")"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
start=$(date +%s)
timeout -k 5 "${KVMPC_WORK_TIMEOUT:-600}" "$kvmpc" -accel "$accel" -m 512 -smp "$smp" -nographic -no-reboot \
	-kernel "$kernel" -initrd "$initrd" -append "$append" "$@" >"$out" 2>&1
rc=$?
secs=$(( $(date +%s) - start ))
fail() { echo "--- guest output (last 30 lines) ---"; tail -30 "$out"; echo "FAIL: $*"; exit 1; }
[ $rc -eq 124 ] && fail "timed out (no power-off within ${KVMPC_WORK_TIMEOUT:-600} s)"
grep -q "KVMPC-TEST-EXIT: 0" "$out" || fail "the guest script did not complete (exit status $rc)"
grep -q "^ZMD5=$want_md5" "$out" || fail "md5sum of 64 MiB of zeros: $(grep -o 'ZMD5=.*' "$out"), host $want_md5"
grep -q "^GZMD5=$want_gz" "$out" || fail "gzip -6 output differs from the host's: $(grep -o 'GZMD5=.*' "$out"), host $want_gz"
grep -q "^GUNZIP=$want_md5" "$out" || fail "gunzip did not give the 64 MiB back: $(grep -o 'GUNZIP=.*' "$out")"
user=$(sed -n 's/^USER=//p' "$out" | tr -d '\r')
ncpu=$(echo "$user" | tr ',' '\n' | grep -c .)
[ "$ncpu" -eq "$smp" ] || fail "/proc/stat lists $ncpu CPUs, expected $smp ($user)"
echo "$user" | tr ',' '\n' | grep -qx 0 && fail "a CPU spent no user time: $user"
[ $rc -eq 0 ] || fail "kvmpc exited with status $rc after the guest powered off (expected 0)"
echo "ok: md5sum, gzip -6 (= host busybox), gunzip; user ticks per CPU: $user; ${secs} s in all"
echo "PASS: linux work, accel=$accel smp=$smp"

#!/bin/bash
# Debian's kernel drives the floppy controller (docs/floppy.md) with its
# own driver (floppy.ko: the FDC through IRQ 6 and ISA DMA channel 2): a
# second initramfs archive adds the module; the guest script md5sums the
# whole of /dev/fd0 and writes a pattern at 64 KiB; the host compares both
# with the image file.
#
# usage: tests/functional/floppy-linux.sh KVMPC ACCEL
set -uo pipefail
. "$(dirname "$0")/linux-modules.inc.sh" "${1:-}" "${2:-}" floppy

head -c 1474560 /dev/urandom > "$tmp/fd.img"
fd_md5=$(md5sum < "$tmp/fd.img" | cut -c1-32)

script='for m in $(cat /lib/modules/load.order); do insmod /lib/modules/$m || echo "INSMOD-FAILED $m"; done
i=0; while [ ! -b /dev/fd0 ]; do i=$((i+1)); [ $i -gt 600 ] && break; sleep 0.1; done
echo "FD=$(md5sum < /dev/fd0 | cut -c1-32)"
dd if=/dev/zero bs=1024 count=16 2>/dev/null | tr "\000" "\132" | dd of=/dev/fd0 bs=1024 seek=64 conv=fsync 2>/dev/null
echo "WROTE=$?"
sync
dmesg | grep -i "flop\|fd0\|fdc" | tail -20'
append="console=ttyS0 panic=-1 $("$top"/tests/images/busybox-initramfs.sh --cmdline "$script")"
timeout -k 5 600 "$kvmpc" -accel "$accel" -m 256 -nographic -no-reboot \
	-kernel "$kernel" -initrd "$tmp/initrd.gz" -append "$append" \
	-drive file="$tmp/fd.img",format=raw,if=floppy,index=0 \
	>"$tmp/out" 2>&1
rc=$?
[ $rc -eq 124 ] && fail "timed out"
grep -q "KVMPC-TEST-EXIT: 0" "$tmp/out" || fail "the guest script did not complete (exit status $rc)"
grep -q "INSMOD-FAILED" "$tmp/out" && fail "the module did not load"
grep -q "^FD=$fd_md5" "$tmp/out" || fail "the guest read the floppy as $(grep -a '^FD=' "$tmp/out"), expected $fd_md5"
grep -q "^WROTE=0" "$tmp/out" || fail "the guest could not write the floppy"
want=$(head -c 16384 /dev/zero | tr '\000' '\132' | md5sum | cut -c1-32)
got=$(dd if="$tmp/fd.img" bs=1024 skip=64 count=16 2>/dev/null | md5sum | cut -c1-32)
[ "$got" = "$want" ] || fail "the guest's write did not reach the image"
echo "PASS: Linux (floppy.ko) read /dev/fd0 and wrote it through the FDC and ISA DMA"
grep -a "FDC [0-9]\|Floppy drive" "$tmp/out"

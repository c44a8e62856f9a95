#!/bin/bash
# Linux (ata_piix) reads and writes an IDE disk that is a qcow2 image with
# a raw backing file (docs/qcow2.md): the guest md5sums the whole disk
# (backing data read through the overlay), then writes 200 KiB at an offset
# that is not cluster aligned (copy-on-write of partial clusters) and
# syncs.  Afterwards qemu-img check calls the overlay clean, the backing
# file is unchanged, and the overlay's content is the backing file with
# the guest's bytes in place (compared with qemu-img convert's output).
# A second boot with -snapshot writes to the temporary overlay only.
#
# usage: tests/functional/qcow2-linux.sh KVMPC KVMPC-IMG ACCEL
set -uo pipefail
img_tool=${2:?kvmpc-img}
set -- "$1" "$3"
. "$(dirname "$0")/linux-modules.inc.sh" "${1:-}" "${2:-}" ata_piix sd_mod
command -v qemu-img >/dev/null || { echo "SKIP: qemu-img (qemu-utils) is not installed"; exit 77; }

head -c $((16 << 20)) /dev/urandom > "$tmp/base.img"
base_md5=$(md5sum < "$tmp/base.img" | cut -c1-32)
"$img_tool" create -q -f qcow2 -o cluster_size=65536 -b base.img -F raw "$tmp/top.qcow2" ||
	fail "kvmpc-img create"

script='for m in $(cat /lib/modules/load.order); do insmod /lib/modules/$m || echo "INSMOD-FAILED $m"; done
i=0; while [ ! -b /dev/sda ]; do i=$((i+1)); [ $i -gt 600 ] && break; sleep 0.1; done
echo "DISK=$(md5sum < /dev/sda | cut -c1-32)"
dd if=/dev/zero bs=1024 count=200 2>/dev/null | tr "\000" "\132" | dd of=/dev/sda bs=512 seek=2051 conv=fsync 2>/dev/null
echo "WROTE=$?"
sync
echo 3 > /proc/sys/vm/drop_caches
echo "READBACK=$(dd if=/dev/sda bs=512 skip=2051 count=400 2>/dev/null | md5sum | cut -c1-32)"'
append="console=ttyS0 panic=-1 $("$top"/tests/images/busybox-initramfs.sh --cmdline "$script")"
timeout -k 5 600 "$kvmpc" -accel "$accel" -m 256 -nographic -no-reboot \
	-kernel "$kernel" -initrd "$tmp/initrd.gz" -append "$append" \
	-drive file="$tmp/top.qcow2",if=ide,index=0 >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 124 ] && fail "timed out"
grep -q "KVMPC-TEST-EXIT: 0" "$tmp/out" || fail "the guest script did not complete (exit status $rc)"
grep -q "INSMOD-FAILED" "$tmp/out" && fail "a module did not load"
grep -q "^DISK=$base_md5" "$tmp/out" || fail "the guest read the disk as $(grep -a '^DISK=' "$tmp/out"), expected $base_md5"
grep -q "^WROTE=0" "$tmp/out" || fail "the guest could not write the disk"
want=$(head -c 204800 /dev/zero | tr '\000' '\132' | md5sum | cut -c1-32)
grep -q "^READBACK=$want" "$tmp/out" || fail "the guest read back $(grep -a '^READBACK=' "$tmp/out")"
qemu-img check "$tmp/top.qcow2" > "$tmp/check" 2>&1 || { cat "$tmp/check"; fail "qemu-img check"; }
grep -q "No errors were found" "$tmp/check" || fail "qemu-img check: $(cat "$tmp/check")"
[ "$(md5sum < "$tmp/base.img" | cut -c1-32)" = "$base_md5" ] || fail "the backing file changed"
qemu-img convert -O raw "$tmp/top.qcow2" "$tmp/flat.img" || fail "qemu-img convert"
cp "$tmp/base.img" "$tmp/expect.img"
head -c 204800 /dev/zero | tr '\000' '\132' | dd of="$tmp/expect.img" bs=512 seek=2051 conv=notrunc 2>/dev/null
cmp "$tmp/flat.img" "$tmp/expect.img" || fail "the overlay's content is not the backing file plus the guest's write"
# -snapshot on the qcow2 image: the guest's writes go to the temporary
# overlay; the image and its backing file stay as they are
top_md5=$(md5sum < "$tmp/top.qcow2" | cut -c1-32)
script2='for m in $(cat /lib/modules/load.order); do insmod /lib/modules/$m || echo "INSMOD-FAILED $m"; done
i=0; while [ ! -b /dev/sda ]; do i=$((i+1)); [ $i -gt 600 ] && break; sleep 0.1; done
dd if=/dev/zero bs=4096 count=64 2>/dev/null | tr "\000" "\133" | dd of=/dev/sda bs=4096 seek=100 conv=fsync 2>/dev/null
echo 3 > /proc/sys/vm/drop_caches
echo "SNAPREAD=$(dd if=/dev/sda bs=4096 skip=100 count=64 2>/dev/null | md5sum | cut -c1-32)"'
append="console=ttyS0 panic=-1 $("$top"/tests/images/busybox-initramfs.sh --cmdline "$script2")"
timeout -k 5 600 "$kvmpc" -accel "$accel" -m 256 -nographic -no-reboot \
	-kernel "$kernel" -initrd "$tmp/initrd.gz" -append "$append" \
	-drive file="$tmp/top.qcow2",if=ide,index=0 -snapshot >"$tmp/out" 2>&1
grep -q "KVMPC-TEST-EXIT: 0" "$tmp/out" || fail "the -snapshot guest script did not complete"
want2=$(head -c 262144 /dev/zero | tr '\000' '\133' | md5sum | cut -c1-32)
grep -q "^SNAPREAD=$want2" "$tmp/out" || fail "-snapshot: the guest read back $(grep -a '^SNAPREAD=' "$tmp/out")"
[ "$(md5sum < "$tmp/top.qcow2" | cut -c1-32)" = "$top_md5" ] || fail "-snapshot wrote to the qcow2 image"
[ "$(md5sum < "$tmp/base.img" | cut -c1-32)" = "$base_md5" ] || fail "-snapshot wrote to the backing file"
echo "PASS: Linux read a qcow2 overlay of a raw backing file and wrote it with COW; qemu-img check clean, backing unchanged; -snapshot left both untouched"

#!/bin/bash
# Debian's kernel drives virtio-blk-pci and virtio-rng-pci (docs/virtio.md)
# with its own drivers (virtio_pci, virtio_blk, virtio-rng): the guest
# md5sums the whole of /dev/vda, writes a pattern at 1 MiB, checks that
# the hw_random core picked virtio_rng and reads /dev/hwrng; the host
# compares the disk with the image file after the guest exits.
# MODERN=0 in the environment adds disable-modern=on (legacy interface),
# PACKED=1 adds packed=on (packed virtqueues).
#
# usage: tests/functional/virtio-linux.sh KVMPC ACCEL
set -uo pipefail
. "$(dirname "$0")/linux-modules.inc.sh" "${1:-}" "${2:-}" virtio_pci virtio_blk virtio-rng

head -c $((16 << 20)) /dev/urandom > "$tmp/disk.img"
disk_md5=$(md5sum < "$tmp/disk.img" | cut -c1-32)
extra=""
[ "${MODERN:-1}" = 0 ] && extra=",disable-modern=on"
[ "${PACKED:-0}" = 1 ] && extra="$extra,packed=on"
# VIRTIO_PROPS: more virtio-*-pci properties (e.g. ",ioeventfd=on")
extra="$extra${VIRTIO_PROPS:-}"

script='for m in $(cat /lib/modules/load.order); do insmod /lib/modules/$m || echo "INSMOD-FAILED $m"; done
i=0; while [ ! -b /dev/vda ]; do i=$((i+1)); [ $i -gt 600 ] && break; sleep 0.1; done
echo "DISK=$(md5sum < /dev/vda | cut -c1-32)"
echo "SIZE=$(cat /sys/block/vda/size)"
echo "SERIAL=$(cat /sys/block/vda/serial 2>/dev/null)"
dd if=/dev/zero bs=1024 count=64 2>/dev/null | tr "\000" "\132" | dd of=/dev/vda bs=4096 seek=256 conv=fsync 2>/dev/null
echo "WROTE=$?"
sync
echo "RNG=$(cat /sys/class/misc/hw_random/rng_current)"
echo "FEATURES=$(cat /sys/bus/virtio/devices/virtio0/features)"
echo "HWRNG=$(dd if=/dev/hwrng bs=16 count=1 2>/dev/null | od -An -tx1 | tr -d " \n")"
dmesg | grep -i virtio | tail -10'
append="console=ttyS0 panic=-1 $("$top"/tests/images/busybox-initramfs.sh --cmdline "$script")"
timeout -k 5 ${VT_TIMEOUT:-600} "$kvmpc" -accel "$accel" -m 256 -nographic -no-reboot \
	-kernel "$kernel" -initrd "$tmp/initrd.gz" -append "$append" \
	-drive file="$tmp/disk.img",format=raw,if=none,id=vd0 \
	-device virtio-blk-pci,drive=vd0,serial=KVMPC-VD0$extra \
	-object rng-random,id=rng0,filename=/dev/urandom -device virtio-rng-pci,rng=rng0$extra \
	>"$tmp/out" 2>&1
rc=$?
[ $rc -eq 124 ] && fail "timed out"
grep -q "KVMPC-TEST-EXIT: 0" "$tmp/out" || fail "the guest script did not complete (exit status $rc)"
grep -q "INSMOD-FAILED" "$tmp/out" && fail "a module did not load"
grep -q "^SIZE=32768" "$tmp/out" || fail "/dev/vda: $(grep -a '^SIZE=' "$tmp/out"), expected 32768 sectors"
grep -q "^SERIAL=KVMPC-VD0" "$tmp/out" || fail "serial: $(grep -a '^SERIAL=' "$tmp/out")"
grep -q "^DISK=$disk_md5" "$tmp/out" || fail "the guest read the disk as $(grep -a '^DISK=' "$tmp/out"), expected $disk_md5"
grep -q "^WROTE=0" "$tmp/out" || fail "the guest could not write the disk"
grep -q "^RNG=virtio_rng" "$tmp/out" || fail "hw_random: $(grep -a '^RNG=' "$tmp/out")"
grep -Eq "^HWRNG=[0-9a-f]{32}" "$tmp/out" || fail "/dev/hwrng gave $(grep -a '^HWRNG=' "$tmp/out")"
grep -Eq "^HWRNG=(00){16}" "$tmp/out" && fail "/dev/hwrng gave only zeros"
if [ "${PACKED:-0}" = 1 ]; then
	# bit 34 of the negotiated features (sysfs prints bit 0 first)
	grep -Eq "^FEATURES=.{34}1" "$tmp/out" || fail "packed ring not negotiated: $(grep -a '^FEATURES=' "$tmp/out")"
fi
want=$(head -c 65536 /dev/zero | tr '\000' '\132' | md5sum | cut -c1-32)
got=$(dd if="$tmp/disk.img" bs=4096 skip=256 count=16 2>/dev/null | md5sum | cut -c1-32)
[ "$got" = "$want" ] || fail "the guest's write did not reach the image"
echo "PASS: Linux (virtio_pci$extra) read and wrote /dev/vda and read /dev/hwrng (virtio_rng)"
grep -a "^HWRNG=" "$tmp/out"

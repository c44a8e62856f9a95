#!/bin/bash
# Debian's kernel drives virtio-scsi-pci (docs/scsi.md) with its own
# drivers (virtio_scsi, sd_mod, sr_mod): a scsi-hd at target 0 LUN 0, a
# second scsi-hd at LUN 3 of the same target (found through REPORT LUNS)
# and a scsi-cd holding an ISO 9660 image built with xorriso at target 1.
# The guest md5sums /dev/sda and /dev/sr0, reads the sizes, the vendor and
# the serial (VPD page 0x80), writes a pattern at 1 MiB of /dev/sda; the
# host compares with the image files after the guest exits.
# VIRTIO_PROPS in the environment adds virtio-scsi-pci properties (e.g.
# ",disable-modern=on" or ",num_queues=2,packed=on").
#
# usage: tests/functional/virtio-scsi-linux.sh KVMPC ACCEL
set -uo pipefail
. "$(dirname "$0")/linux-modules.inc.sh" "${1:-}" "${2:-}" virtio_pci virtio_scsi sd_mod sr_mod
command -v xorriso >/dev/null || { echo "SKIP: xorriso is not installed"; exit 77; }

head -c $((16 << 20)) /dev/urandom > "$tmp/disk.img"
head -c $((1 << 20)) /dev/urandom > "$tmp/lun3.img"
mkdir -p "$tmp/cdroot"
head -c $((3 << 20)) /dev/urandom > "$tmp/cdroot/data.bin"
echo "kvmpc virtio-scsi" > "$tmp/cdroot/readme.txt"
xorriso -as mkisofs -quiet -V KVMPCSCSI -o "$tmp/cd.iso" "$tmp/cdroot" 2>/dev/null || fail "xorriso failed"
disk_md5=$(md5sum < "$tmp/disk.img" | cut -c1-32)
cd_md5=$(md5sum < "$tmp/cd.iso" | cut -c1-32)
cd_blocks=$(( $(stat -c %s "$tmp/cd.iso") / 512 ))

script='for m in $(cat /lib/modules/load.order); do insmod /lib/modules/$m || echo "INSMOD-FAILED $m"; done
i=0; while [ ! -b /dev/sda ] || [ ! -b /dev/sdb ] || [ ! -b /dev/sr0 ]; do i=$((i+1)); [ $i -gt 600 ] && break; sleep 0.1; done
# sd names follow probe order: find the disks by H:C:T:L
d0=$(ls /sys/bus/scsi/devices/*:0:0:0/block); d3=$(ls /sys/bus/scsi/devices/*:0:0:3/block)
echo "UNITS=$(ls /sys/class/scsi_device | tr "\n" " ")"
echo "DISK=$(md5sum < /dev/$d0 | cut -c1-32)"
echo "CD=$(md5sum < /dev/sr0 | cut -c1-32)"
echo "SIZE=$(cat /sys/block/$d0/size) $(cat /sys/block/$d3/size) $(cat /sys/block/sr0/size)"
echo "VENDOR=$(cat /sys/block/$d0/device/vendor)"
echo "MODEL=$(cat /sys/block/$d0/device/model)|$(cat /sys/block/sr0/device/model)"
echo "SERIAL=$(cat /sys/block/$d0/device/vpd_pg80 2>/dev/null | tr -dc "A-Z0-9-")"
echo "CACHE=$(cat /sys/class/scsi_disk/*:0:0:0/cache_type)"
echo "PROV=$(cat /sys/class/scsi_disk/*:0:0:0/provisioning_mode)"
dd if=/dev/zero bs=1024 count=64 2>/dev/null | tr "\000" "\132" | dd of=/dev/$d0 bs=4096 seek=256 conv=fsync 2>/dev/null
echo "WROTE=$?"
sync
dmesg | grep -iE "scsi|sd |sr " | tail -12'
append="console=ttyS0 panic=-1 $("$top"/tests/images/busybox-initramfs.sh --cmdline "$script")"
timeout -k 5 ${VT_TIMEOUT:-600} "$kvmpc" -accel "$accel" -m 256 -nographic -no-reboot \
	-kernel "$kernel" -initrd "$tmp/initrd.gz" -append "$append" \
	-device virtio-scsi-pci,id=scsi0${VIRTIO_PROPS:-} \
	-drive file="$tmp/disk.img",format=raw,if=none,id=sd0 \
	-device scsi-hd,drive=sd0,bus=scsi0.0,scsi-id=0,lun=0,serial=KVMPC-SD0 \
	-drive file="$tmp/lun3.img",format=raw,if=none,id=sd3 \
	-device scsi-hd,drive=sd3,bus=scsi0.0,scsi-id=0,lun=3 \
	-drive file="$tmp/cd.iso",format=raw,if=none,id=cd0,media=cdrom \
	-device scsi-cd,drive=cd0,bus=scsi0.0,scsi-id=1,lun=0 \
	>"$tmp/out" 2>&1
rc=$?
[ $rc -eq 124 ] && fail "timed out"
grep -q "KVMPC-TEST-EXIT: 0" "$tmp/out" || fail "the guest script did not complete (exit status $rc)"
grep -q "INSMOD-FAILED" "$tmp/out" && fail "a module did not load"
grep -Eq "^UNITS=[0-9]+:0:0:0 [0-9]+:0:0:3 [0-9]+:0:1:0" "$tmp/out" || fail "units: $(grep -a '^UNITS=' "$tmp/out")"
grep -q "^SIZE=32768 2048 $cd_blocks" "$tmp/out" || fail "sizes: $(grep -a '^SIZE=' "$tmp/out"), expected 32768 2048 $cd_blocks"
grep -q "^VENDOR=QEMU" "$tmp/out" || fail "vendor: $(grep -a '^VENDOR=' "$tmp/out")"
grep -q "^MODEL=QEMU HARDDISK *|QEMU CD-ROM" "$tmp/out" || fail "model: $(grep -a '^MODEL=' "$tmp/out")"
grep -q "^SERIAL=KVMPC-SD0" "$tmp/out" || fail "serial: $(grep -a '^SERIAL=' "$tmp/out")"
grep -q "^CACHE=write back" "$tmp/out" || fail "cache type: $(grep -a '^CACHE=' "$tmp/out")"
grep -q "^PROV=unmap" "$tmp/out" || fail "provisioning mode: $(grep -a '^PROV=' "$tmp/out")"
grep -q "^DISK=$disk_md5" "$tmp/out" || fail "the guest read the disk as $(grep -a '^DISK=' "$tmp/out"), expected $disk_md5"
grep -q "^CD=$cd_md5" "$tmp/out" || fail "the guest read the CD as $(grep -a '^CD=' "$tmp/out"), expected $cd_md5"
grep -q "^WROTE=0" "$tmp/out" || fail "the guest could not write the disk"
want=$(head -c 65536 /dev/zero | tr '\000' '\132' | md5sum | cut -c1-32)
got=$(dd if="$tmp/disk.img" bs=4096 skip=256 count=16 2>/dev/null | md5sum | cut -c1-32)
[ "$got" = "$want" ] || fail "the guest's write did not reach the image"
echo "PASS: Linux (virtio_scsi, sd_mod, sr_mod) read the scsi-hd at LUN 0 and 3 and the scsi-cd, and wrote the disk"

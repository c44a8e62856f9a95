#!/bin/bash
# Debian's kernel drives the PIIX3 IDE (docs/ide.md) with its own driver
# (ata_piix, bus-master DMA): a second initramfs archive adds ata_piix,
# sd_mod and sr_mod; the guest script md5sums the whole disk and the whole
# CD-ROM, and writes a pattern to the disk at 1 MiB through O_DIRECT-free
# dd + sync; the host compares all three with the image files.
#
# usage: tests/functional/ide-linux.sh KVMPC ACCEL
set -uo pipefail
. "$(dirname "$0")/linux-modules.inc.sh" "${1:-}" "${2:-}" ata_piix sd_mod sr_mod

# a 16 MiB disk and a 2 MiB "CD" of random bytes
head -c $((16 << 20)) /dev/urandom > "$tmp/disk.img"
head -c $((2 << 20)) /dev/urandom > "$tmp/cd.iso"
disk_md5=$(md5sum < "$tmp/disk.img" | cut -c1-32)
cd_md5=$(md5sum < "$tmp/cd.iso" | cut -c1-32)

script='for m in $(cat /lib/modules/load.order); do insmod /lib/modules/$m || echo "INSMOD-FAILED $m"; done
i=0; while [ ! -b /dev/sda ] || [ ! -b /dev/sr0 ]; do i=$((i+1)); [ $i -gt 600 ] && break; sleep 0.1; done
echo "DISK=$(md5sum < /dev/sda | cut -c1-32)"
echo "CD=$(md5sum < /dev/sr0 | cut -c1-32)"
echo "SIZE=$(cat /sys/block/sda/size)"
echo "MODEL=$(cat /sys/block/sda/device/model)"
echo "DMA=$(cat /sys/class/ata_device/dev1.0/xfer_mode) $(cat /sys/class/ata_device/dev2.0/xfer_mode)"
dd if=/dev/zero bs=1024 count=64 2>/dev/null | tr "\000" "\132" | dd of=/dev/sda bs=4096 seek=256 conv=fsync 2>/dev/null
echo "WROTE=$?"
sync
dmesg | grep -i "ata[0-9]" | tail -20'
append="console=ttyS0 panic=-1 $("$top"/tests/images/busybox-initramfs.sh --cmdline "$script")"
timeout -k 5 600 "$kvmpc" -accel "$accel" -m 256 -nographic -no-reboot \
	-kernel "$kernel" -initrd "$tmp/initrd.gz" -append "$append" \
	-drive file="$tmp/disk.img",format=raw,if=ide,index=0 -cdrom "$tmp/cd.iso" \
	>"$tmp/out" 2>&1
rc=$?
[ $rc -eq 124 ] && fail "timed out"
grep -q "KVMPC-TEST-EXIT: 0" "$tmp/out" || fail "the guest script did not complete (exit status $rc)"
grep -q "INSMOD-FAILED" "$tmp/out" && fail "a module did not load"
grep -q "^SIZE=32768" "$tmp/out" || fail "/dev/sda: $(grep -a '^SIZE=' "$tmp/out"), expected 32768 sectors"
grep -q "^MODEL=QEMU HARDDISK" "$tmp/out" || fail "model: $(grep -a '^MODEL=' "$tmp/out")"
grep -q "^DISK=$disk_md5" "$tmp/out" || fail "the guest read the disk as $(grep -a '^DISK=' "$tmp/out"), expected $disk_md5"
grep -q "^CD=$cd_md5" "$tmp/out" || fail "the guest read the CD as $(grep -a '^CD=' "$tmp/out"), expected $cd_md5"
grep -q "^DMA=XFER_MW_DMA_2 XFER_MW_DMA_2" "$tmp/out" || fail "libata did not pick multiword DMA 2: $(grep -a '^DMA=' "$tmp/out")"
grep -q "^WROTE=0" "$tmp/out" || fail "the guest could not write the disk"
want=$(head -c 65536 /dev/zero | tr '\000' '\132' | md5sum | cut -c1-32)
got=$(dd if="$tmp/disk.img" bs=4096 skip=256 count=16 2>/dev/null | md5sum | cut -c1-32)
[ "$got" = "$want" ] || fail "the guest's write did not reach the image"
echo "PASS: Linux (ata_piix) read /dev/sda and /dev/sr0 and wrote /dev/sda through the PIIX3 IDE"
grep -a "^DMA=" "$tmp/out"

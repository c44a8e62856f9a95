#!/bin/bash
# SeaBIOS boots from a scsi-hd on virtio-scsi-pci (docs/scsi.md) with its
# own virtio-scsi driver: the MBR of tests/functional/ide-boot.S prints
# "IDEBOOT", reads LBA 1 with int 13h and prints the 16-bit sum of its
# bytes, compared with the image; exit status 3 (isa-debug-exit) = read
# and printed.  Runs: a scsi-hd alone; -drive if=scsi; a disk at target 3
# LUN 2 found through REPORT LUNS; the legacy-only interface; and
# bootindex= (fw_cfg "bootorder", /pci@i0cf8/scsi@S/channel@0/disk@T,L)
# choosing the SCSI disk over a bootable IDE disk whose LBA 1 sums
# differently.
#
# usage: tests/functional/virtio-scsi-boot.sh KVMPC ACCEL
set -uo pipefail
. "$(dirname "$0")/boot-sector.inc.sh"

assemble_boot_sector "$tmp/mbr.bin" ide-boot.S --defsym SECTOR_SIZE=512 --defsym READ_LBA=1

mkdisk() {   # IMAGE -> prints the sum of LBA 1
	python3 - "$tmp/mbr.bin" "$1" <<'PY'
import os, sys
boot = open(sys.argv[1], 'rb').read()
data = os.urandom(512)
img = bytearray(4 << 20)
img[0:512] = boot
img[512:1024] = data
open(sys.argv[2], 'wb').write(img)
print('%04X' % (sum(data) & 0xffff))
PY
}
sum=$(mkdisk "$tmp/sd.img") || fail "cannot make the disk"
while :; do
	idesum=$(mkdisk "$tmp/hd.img") || fail "cannot make the IDE disk"
	[ "$idesum" != "$sum" ] && break
done

run() {   # NAME EXPECTED_SUM ARGS...
	boot_and_check "$1" IDEBOOT "${@:2}"
}

sd="-drive file=$tmp/sd.img,format=raw,if=none,id=s"
run "scsi-hd" "$sum" -device virtio-scsi-pci,id=scsi0 $sd -device scsi-hd,drive=s,bus=scsi0.0
run "-drive if=scsi" "$sum" -drive file="$tmp/sd.img",format=raw,if=scsi
run "target 3 LUN 2" "$sum" -device virtio-scsi-pci,id=scsi0 $sd \
	-device scsi-hd,drive=s,bus=scsi0.0,scsi-id=3,lun=2,bootindex=1
run "legacy only" "$sum" -device virtio-scsi-pci,id=scsi0,disable-modern=on $sd \
	-device scsi-hd,drive=s
run "bootindex over IDE" "$sum" -hda "$tmp/hd.img" -device virtio-scsi-pci,id=scsi0 $sd \
	-device scsi-hd,drive=s,bootindex=1
# without bootorder SeaBIOS tries ATA disks first: bootindex= above mattered
run "IDE without bootindex" "$idesum" -hda "$tmp/hd.img" -device virtio-scsi-pci,id=scsi0 $sd \
	-device scsi-hd,drive=s

#!/bin/bash
# SeaBIOS boots from virtio-blk-pci (docs/virtio.md) with its own virtio
# driver: the MBR of tests/functional/ide-boot.S prints "IDEBOOT", reads
# LBA 1 with int 13h and prints the 16-bit sum of its bytes, compared
# with the image; exit status 3 (isa-debug-exit) = read and printed.
# Runs: -drive if=virtio alone; the legacy-only and modern-only
# interfaces; and bootindex= (fw_cfg "bootorder") choosing the virtio disk
# over a bootable IDE disk whose LBA 1 sums differently.
#
# usage: tests/functional/virtio-boot.sh KVMPC ACCEL
set -uo pipefail
. "$(dirname "$0")/boot-sector.inc.sh"

assemble_boot_sector "$tmp/mbr.bin" ide-boot.S --defsym SECTOR_SIZE=512 --defsym READ_LBA=1

mkdisk() {   # IMAGE -> prints the sum of LBA 1
	make_boot_disk "$tmp/mbr.bin" "$1"
}
sum=$(mkdisk "$tmp/vd.img") || fail "cannot make the disk"
while :; do
	idesum=$(mkdisk "$tmp/hd.img") || fail "cannot make the IDE disk"
	[ "$idesum" != "$sum" ] && break
done

run() {   # NAME EXPECTED_SUM ARGS...
	boot_and_check "$1" IDEBOOT "${@:2}"
}

run "-drive if=virtio" "$sum" -drive file="$tmp/vd.img",format=raw,if=virtio
run "legacy only" "$sum" -drive file="$tmp/vd.img",format=raw,if=none,id=v \
	-device virtio-blk-pci,drive=v,disable-modern=on
run "modern only" "$sum" -drive file="$tmp/vd.img",format=raw,if=none,id=v \
	-device virtio-blk-pci,drive=v,disable-legacy=on
run "bootindex over IDE" "$sum" -hda "$tmp/hd.img" -drive file="$tmp/vd.img",format=raw,if=none,id=v \
	-device virtio-blk-pci,drive=v,bootindex=1
# without bootorder SeaBIOS tries ATA disks before virtio ones
run "IDE without bootindex" "$idesum" -hda "$tmp/hd.img" -drive file="$tmp/vd.img",format=raw,if=virtio

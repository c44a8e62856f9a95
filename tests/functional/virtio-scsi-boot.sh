#!/bin/bash
# SeaBIOS boots from a scsi-hd on virtio-scsi-pci (docs/scsi.md) with its
# own virtio-scsi driver: the MBR of tests/functional/ide-boot.S prints
# "IDEBOOT", reads LBA 1 with int 13h and prints the 16-bit sum of its
# bytes, compared with the image; exit status 3 (isa-debug-exit) = read
# and printed.  Runs: a scsi-hd alone; -drive if=scsi; a disk at target 3
# LUN 2 found through REPORT LUNS; the legacy-only interface; and
# bootindex= (fw_cfg "bootorder", /pci@i0cf8/scsi@S/channel@0/disk@T,L)
# choosing the SCSI disk over a bootable IDE disk whose LBA 1 sums
# differently.  Then a scsi-cd holding an El Torito ISO (xorriso): with
# bootindex over the IDE disk, and as -drive if=scsi,media=cdrom -boot d.
#
# usage: tests/functional/virtio-scsi-boot.sh KVMPC ACCEL
set -uo pipefail
. "$(dirname "$0")/boot-sector.inc.sh"

assemble_boot_sector "$tmp/mbr.bin" ide-boot.S --defsym SECTOR_SIZE=512 --defsym READ_LBA=1

mkdisk() {   # IMAGE -> prints the sum of LBA 1
	make_boot_disk "$tmp/mbr.bin" "$1"
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

# a scsi-cd: the El Torito no-emulation image of an ISO reads sector 16
# (2048-byte blocks through SeaBIOS's SCSI CD-ROM path)
if command -v xorriso >/dev/null; then
	assemble_boot_sector "$tmp/cd.bin" ide-boot.S --defsym SECTOR_SIZE=2048 --defsym READ_LBA=16
	mkdir "$tmp/iso"
	python3 -c "import sys; d=open(sys.argv[1],'rb').read(); open(sys.argv[2],'wb').write(d+bytes(2048-len(d)))" \
		"$tmp/cd.bin" "$tmp/iso/boot.bin"
	echo "kvmpc virtio-scsi-boot" >"$tmp/iso/readme.txt"
	xorriso -as mkisofs -quiet -V KVMPCSCSI -o "$tmp/cd.iso" -b boot.bin -no-emul-boot \
		-boot-load-size 4 "$tmp/iso" 2>/dev/null || fail "xorriso failed"
	cdsum=$(python3 -c "import sys; d=open(sys.argv[1],'rb').read(); print('%04X' % (sum(d[16*2048:17*2048]) & 0xffff))" "$tmp/cd.iso")
	run "scsi-cd bootindex" "$cdsum" -hda "$tmp/hd.img" -device virtio-scsi-pci,id=scsi0 \
		-drive file="$tmp/cd.iso",format=raw,if=none,id=c,media=cdrom \
		-device scsi-cd,drive=c,scsi-id=2,bootindex=1
	run "-drive if=scsi,media=cdrom -boot d" "$cdsum" \
		-drive file="$tmp/cd.iso",format=raw,if=scsi,media=cdrom -boot d
else
	echo "SKIP cd: xorriso is not installed (scripts/setup.sh installs it)"
fi

#!/bin/bash
# SeaBIOS boots from the PIIX3 IDE (docs/ide.md): a raw disk whose MBR boot
# sector (tests/functional/ide-boot.S) prints "IDEBOOT" on COM1, reads LBA 1
# with int 13h and prints the 16-bit sum of its bytes; and the same code as
# the El Torito no-emulation boot image of an ISO (built with xorriso),
# reading the 2048-byte sector 16 (the primary volume descriptor).  Both
# sums are compared with what Python computes from the image files.  The
# boot sector ends with isa-debug-exit: status 3 = read and printed.
#
# usage: tests/functional/ide-boot.sh KVMPC ACCEL
set -uo pipefail
. "$(dirname "$0")/boot-sector.inc.sh"

bootsector() {   # OUT SECTOR_SIZE READ_LBA
	assemble_boot_sector "$1" ide-boot.S --defsym SECTOR_SIZE="$2" --defsym READ_LBA="$3"
}
run() {   # NAME EXPECTED_SUM ARGS...
	boot_and_check "$1" IDEBOOT "${@:2}"
}

# a disk: MBR + a random sector at LBA 1
bootsector "$tmp/hd.bin" 512 1
sum=$(make_boot_disk "$tmp/hd.bin" "$tmp/disk.img") || fail "cannot make the disk"
run "disk -hda -boot c" "$sum" -hda "$tmp/disk.img" -boot c
# the same disk as the secondary master, by -drive
run "disk if=ide,index=2" "$sum" -drive file="$tmp/disk.img",format=raw,if=ide,index=2 -boot c
# and as a -device on the secondary slave
run "disk -device ide-hd,bus=ide.1,unit=1" "$sum" -drive file="$tmp/disk.img",format=raw,if=none,id=d0 \
	-device ide-hd,drive=d0,bus=ide.1,unit=1 -boot c

# a CD: El Torito no-emulation image, reads sector 16
if command -v xorriso >/dev/null; then
	bootsector "$tmp/cd.bin" 2048 16
	mkdir "$tmp/iso"
	python3 -c "import sys; d=open(sys.argv[1],'rb').read(); open(sys.argv[2],'wb').write(d+bytes(2048-len(d)))" \
		"$tmp/cd.bin" "$tmp/iso/boot.bin"
	echo "kvmpc ide-boot" >"$tmp/iso/readme.txt"
	xorriso -as mkisofs -quiet -V KVMPCIDE -o "$tmp/cd.iso" -b boot.bin -no-emul-boot \
		-boot-load-size 4 "$tmp/iso" 2>/dev/null || fail "xorriso failed"
	sum=$(python3 -c "import sys; d=open(sys.argv[1],'rb').read(); print('%04X' % (sum(d[16*2048:17*2048]) & 0xffff))" "$tmp/cd.iso")
	run "cd -cdrom -boot d" "$sum" -cdrom "$tmp/cd.iso" -boot d
	# with a disk present too, -boot d still picks the CD
	run "cd with a disk, -boot d" "$sum" -hda "$tmp/disk.img" -cdrom "$tmp/cd.iso" -boot d
else
	echo "SKIP cd: xorriso is not installed (scripts/setup.sh installs it)"
fi

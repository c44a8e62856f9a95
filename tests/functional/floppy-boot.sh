#!/bin/bash
# SeaBIOS boots from the floppy controller (docs/floppy.md): a 1.44 MB
# image whose boot sector (tests/functional/floppy-boot.S) prints "FDBOOT"
# on COM1, reads a whole track and the last sector of the disk with int 13h
# (the BIOS drives the FDC and DMA channel 2) and prints the 16-bit sum of
# their bytes, compared with what Python computes from the image.  The
# boot sector ends with isa-debug-exit: status 3 = read and printed.
#
# usage: tests/functional/floppy-boot.sh KVMPC ACCEL
set -uo pipefail
. "$(dirname "$0")/boot-sector.inc.sh"

assemble_boot_sector "$tmp/boot.bin" floppy-boot.S

sum=$(python3 - "$tmp/boot.bin" "$tmp/fd.img" <<'PY'
import os, sys
boot = open(sys.argv[1], 'rb').read()
img = bytearray(os.urandom(1474560))
img[0:512] = boot
spt, heads = 18, 2
track = img[(0 * heads + 1) * spt * 512:(0 * heads + 2) * spt * 512]
last = img[-512:]
open(sys.argv[2], 'wb').write(img)
print('%04X' % ((sum(track) + sum(last)) & 0xffff))
PY
) || fail "cannot make the image"

run() {   # NAME ARGS...
	boot_and_check "$1" FDBOOT "$sum" "${@:2}"
}

run "-fda -boot a" -fda "$tmp/fd.img" -boot a
run "-drive if=floppy -boot a" -drive file="$tmp/fd.img",format=raw,if=floppy -boot a

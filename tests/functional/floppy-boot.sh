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
kvmpc=${1:?kvmpc} accel=${2:?accel}
src=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; echo "--- serial:"; tail -c 2000 "$tmp/serial" 2>/dev/null; cat "$tmp/err" 2>/dev/null; exit 1; }

[ -f /usr/share/seabios/bios-256k.bin ] || { echo "SKIP: Debian's seabios package is not installed"; exit 77; }
command -v as >/dev/null && command -v ld >/dev/null || { echo "SKIP: no binutils"; exit 77; }

as --32 -I "$src" -o "$tmp/b.o" "$src/floppy-boot.S" &&
	ld -m elf_i386 -Ttext 0x7c00 --oformat binary -o "$tmp/boot.bin" "$tmp/b.o" || fail "cannot assemble"
[ "$(stat -c %s "$tmp/boot.bin")" = 512 ] || fail "boot sector is not 512 bytes"

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
	local name=$1 rc
	shift
	timeout 120 "$kvmpc" -accel "$accel" -nographic -m 128 -no-reboot \
		-device isa-debug-exit,iobase=0xf4,iosize=4 "$@" </dev/null >"$tmp/serial" 2>"$tmp/err"
	rc=$?
	grep -aq "FDBOOT" "$tmp/serial" || fail "$name: the boot sector did not run (exit $rc)"
	grep -aq "READERR" "$tmp/serial" && fail "$name: int 13h read failed"
	grep -aq "SUM=$sum" "$tmp/serial" || fail "$name: expected SUM=$sum"
	[ "$rc" = 3 ] || fail "$name: exit status $rc, expected 3"
	echo "PASS $name: booted, read 19 sectors, SUM=$sum"
}

run "-fda -boot a" -fda "$tmp/fd.img" -boot a
run "-drive if=floppy -boot a" -drive file="$tmp/fd.img",format=raw,if=floppy -boot a

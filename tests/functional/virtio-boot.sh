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
kvmpc=${1:?kvmpc} accel=${2:?accel}
src=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; echo "--- serial:"; tail -c 2000 "$tmp/serial" 2>/dev/null; cat "$tmp/err" 2>/dev/null; exit 1; }

[ -f /usr/share/seabios/bios-256k.bin ] || { echo "SKIP: Debian's seabios package is not installed"; exit 77; }
command -v as >/dev/null && command -v ld >/dev/null || { echo "SKIP: no binutils"; exit 77; }

as --32 -I "$src" --defsym SECTOR_SIZE=512 --defsym READ_LBA=1 -o "$tmp/b.o" "$src/ide-boot.S" &&
ld -m elf_i386 -Ttext 0x7c00 --oformat binary -o "$tmp/mbr.bin" "$tmp/b.o" || fail "cannot assemble"

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
sum=$(mkdisk "$tmp/vd.img") || fail "cannot make the disk"
while :; do
	idesum=$(mkdisk "$tmp/hd.img") || fail "cannot make the IDE disk"
	[ "$idesum" != "$sum" ] && break
done

run() {   # NAME EXPECTED_SUM ARGS...
	local name=$1 want=$2 rc
	shift 2
	timeout 120 "$kvmpc" -accel "$accel" -nographic -m 128 -no-reboot \
		-device isa-debug-exit,iobase=0xf4,iosize=4 "$@" </dev/null >"$tmp/serial" 2>"$tmp/err"
	rc=$?
	grep -aq "IDEBOOT" "$tmp/serial" || fail "$name: the boot sector did not run (exit $rc)"
	grep -aq "READERR" "$tmp/serial" && fail "$name: int 13h read failed"
	grep -aq "SUM=$want" "$tmp/serial" || fail "$name: expected SUM=$want"
	[ "$rc" = 3 ] || fail "$name: exit status $rc, expected 3"
	echo "PASS $name: booted, read a sector, SUM=$want"
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

# Sourced by the SeaBIOS boot-sector tests (ide-boot.sh, floppy-boot.sh,
# virtio-boot.sh, virtio-scsi-boot.sh),
# with "$@" = KVMPC ACCEL: sets kvmpc, accel, src (this folder), tmp
# (removed at exit) and fail(); exits 77 (SKIP) without Debian's SeaBIOS or
# binutils.  The boot sectors (*-boot.S, ending with boot-report.inc) print
# a marker and "SUM=xxxx" on COM1 and leave through isa-debug-exit.
kvmpc=${1:?kvmpc} accel=${2:?accel}
src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; echo "--- serial:"; tail -c 2000 "$tmp/serial" 2>/dev/null; cat "$tmp/err" 2>/dev/null; exit 1; }

[ -f /usr/share/seabios/bios-256k.bin ] || { echo "SKIP: Debian's seabios package is not installed"; exit 77; }
command -v as >/dev/null && command -v ld >/dev/null || { echo "SKIP: no binutils"; exit 77; }

# assemble_boot_sector OUT SOURCE.S [AS ARGS...]: a 512-byte sector linked at 0x7c00
assemble_boot_sector() {
	local out=$1 s=$2
	shift 2
	as --32 -I "$src" "$@" -o "$tmp/b.o" "$src/$s" &&
		ld -m elf_i386 -Ttext 0x7c00 --oformat binary -o "$out" "$tmp/b.o" || fail "cannot assemble $s"
	[ "$(stat -c %s "$out")" = 512 ] || fail "the boot sector from $s is not 512 bytes"
}

# make_boot_disk SECTOR IMAGE: a 4 MiB disk, SECTOR as its MBR and a random
# LBA 1; prints the 16-bit sum of LBA 1's bytes (%04X), what the sector reports.
make_boot_disk() {
	python3 - "$1" "$2" <<'PY'
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

# boot_and_check NAME MARKER SUM EMULATOR ARGS...: SeaBIOS boots the sector,
# which must print MARKER and SUM=<SUM> and exit with status 3 (read and
# printed).
boot_and_check() {
	local name=$1 marker=$2 want=$3 rc
	shift 3
	timeout 120 "$kvmpc" -accel "$accel" -nographic -m 128 -no-reboot \
		-device isa-debug-exit,iobase=0xf4,iosize=4 "$@" </dev/null >"$tmp/serial" 2>"$tmp/err"
	rc=$?
	grep -aq "$marker" "$tmp/serial" || fail "$name: the boot sector did not run (exit $rc)"
	grep -aq "READERR" "$tmp/serial" && fail "$name: int 13h read failed"
	grep -aq "SUM=$want" "$tmp/serial" || fail "$name: expected SUM=$want"
	[ "$rc" = 3 ] || fail "$name: exit status $rc, expected 3"
	echo "PASS $name: booted, read and summed, SUM=$want"
}

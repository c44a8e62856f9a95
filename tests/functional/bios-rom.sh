#!/bin/bash
# -bios with a raw 64 KiB ROM (tests/functional/test-rom.S, built here with
# the system gcc): the CPU starts at its reset vector (0xfffffff0), the ROM
# prints on COM1 from its copy below 4 GiB and from its copy at 0xf0000,
# then exits through isa-debug-exit.  Also: -L finds bios-256k.bin in a
# directory, and a missing or badly sized image is a one-line error.
#
# usage: tests/functional/bios-rom.sh KVMPC ACCEL
set -uo pipefail
kvmpc=$(readlink -f "${1:?kvmpc}") accel=${2:?accel}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

gcc -m32 -nostdlib -static -Wl,--oformat=binary -Wl,-Ttext=0 -Wl,--build-id=none \
	-o "$tmp/rom.bin" "$here/test-rom.S" 2>"$tmp/cc" || { cat "$tmp/cc"; fail "cannot build the ROM"; }
[ "$(stat -c %s "$tmp/rom.bin")" -eq 65536 ] || fail "the ROM is not 64 KiB"
common=(-accel "$accel" -m 64 -nodefaults -display none -device isa-debug-exit)

run() {   # run NAME ARGS...: the ROM's two lines on COM1 and exit status 85
	local name=$1
	shift
	rm -f "$tmp/serial"
	timeout 60 "$kvmpc" "${common[@]}" -serial "file:$tmp/serial" "$@" 2>"$tmp/err"
	local rc=$?
	[ $rc -eq 85 ] || { cat "$tmp/err"; fail "$name: exit status $rc (expected 85 from the ROM)"; }
	grep -q "^test-rom: reset vector reached" "$tmp/serial" || fail "$name: nothing from the reset vector"
	grep -q "^test-rom: running at 0xf0000" "$tmp/serial" || fail "$name: the copy at 0xf0000 did not run"
}
run "-bios FILE" -bios "$tmp/rom.bin"
# the largest image, 16 MiB (from 0xff000000, over the IOAPIC and LAPIC,
# which stay on top), with the ROM as its last 64 KiB
{ head -c $((16 * 1024 * 1024 - 65536)) /dev/zero; cat "$tmp/rom.bin"; } >"$tmp/big.bin"
run "-bios 16 MiB" -bios "$tmp/big.bin"
# a name (no slash) is searched in -L first
mkdir "$tmp/dir"
cp "$tmp/rom.bin" "$tmp/dir/bios-256k.bin"
(cd / && run "-L DIR" -L "$tmp/nonexistent" -L "$tmp/dir") || exit 1
cp "$tmp/rom.bin" "$tmp/dir/custom.bin"
(cd / && run "-L DIR -bios NAME" -L "$tmp/dir" -bios custom.bin) || exit 1

# errors: one line naming the image, status 1
timeout 30 "$kvmpc" "${common[@]}" -bios "$tmp/missing.bin" >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] || fail "missing image: exit status $rc (expected 1)"
grep -q "missing.bin" "$tmp/err" || { cat "$tmp/err"; fail "missing image: the error does not name it"; }
[ "$(wc -l <"$tmp/err")" -eq 1 ] || { cat "$tmp/err"; fail "missing image: more than one line"; }
head -c 1000 "$tmp/rom.bin" >"$tmp/short.bin"
timeout 30 "$kvmpc" "${common[@]}" -bios "$tmp/short.bin" >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] || fail "1000-byte image: exit status $rc (expected 1)"
grep -q "64 KiB" "$tmp/err" || { cat "$tmp/err"; fail "1000-byte image: the error does not say why"; }
# -boot: bad drive letters are one-line errors
for bad in order=x order=cc once=e strict=maybe; do
	timeout 30 "$kvmpc" "${common[@]}" -boot "$bad" >/dev/null 2>"$tmp/err"
	rc=$?
	[ $rc -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q -- "-boot $bad" "$tmp/err" \
		|| { cat "$tmp/err"; fail "-boot $bad: status $rc, expected one line naming it"; }
done
# firmware-boot=on loads only bzImages (through the linuxboot option ROM)
timeout 30 "$kvmpc" "${common[@]}" -bios "$tmp/rom.bin" -machine firmware-boot=on \
	-kernel "$tmp/rom.bin" >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && grep -q "not a Linux bzImage" "$tmp/err" \
	|| { cat "$tmp/err"; fail "firmware-boot=on with a non-bzImage: status $rc, no clear error"; }
echo "PASS: raw 64 KiB -bios ROM runs from the reset vector and at 0xf0000; -L search; errors"

#!/bin/bash
# What people boot, through SeaBIOS, on machine pc (docs/firmware.md,
# "Boot loaders"): real boot loaders from Debian's packages load Debian's
# kernel + the test initramfs, which runs a script and powers off (S5).
#
#   isolinux   an ISO with ISOLINUX (isolinux package), El Torito from the
#              IDE CD-ROM (-cdrom -boot d); the same ISO made isohybrid
#              boots again as a hard disk (-hda -boot c)
#   grub-iso   grub-mkrescue's ISO (grub-pc-bin): GRUB from the CD-ROM
#   grub-disk  a raw disk (tests/images/grub-disk.sh): GRUB's boot.img in
#              the MBR, core.img (grub-mkimage: biosdisk, part_msdos, fat, linux, ...) in the
#              gap after it, and a FAT partition with grub.cfg, the kernel
#              and the initramfs, which GRUB reads through int 13h
#   memtest    memtest86+ (Debian's memtest86+x64.bin, a Linux-boot-protocol
#              image) by -kernel: runs tests #0..#5 on all of RAM with no
#              error reported (its serial console is parsed)
#
# The Linux cases check that the kernel was started by that loader
# (BOOT_IMAGE= on its command line, the loader's own banner), that the
# script ran (an md5sum) and that the guest powered off.
# usage: tests/functional/boot-loaders.sh KVMPC ACCEL CASE
# Exit 77 (SKIP) when a Debian package the case needs is not installed
# (scripts/setup.sh installs them) or the guest images are missing.
set -uo pipefail
kvmpc=${1:?kvmpc} accel=${2:?accel} case=${3:?case}
top=$(cd "$(dirname "$0")/../.." && pwd)
B=${KVMPC_BUILD:-$top/build}
kernel=$B/images/linux/vmlinuz
initrd=$B/images/initramfs.cpio.gz
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/out
fail() { echo "--- guest output (last 40 lines) ---"; tail -c 3000 "$out" 2>/dev/null | cat -v | tail -40; echo "FAIL: $case: $*"; exit 1; }
skip() { echo "SKIP: $case: $*"; exit 77; }
need() { for f in "$@"; do [ -e "$f" ] || command -v "$f" >/dev/null || skip "$f is missing (scripts/setup.sh installs it)"; done; }

need /usr/share/seabios/bios-256k.bin
if [ "$case" != memtest ]; then
	[ -r "$kernel" ] && [ -r "$initrd" ] || skip "guest images missing under $B/images"
	script='echo "SUM=$(echo kvmpc | md5sum | cut -c1-8)"
echo "LOADER_IMAGE=$(tr " " "\n" </proc/cmdline | sed -n "s/^BOOT_IMAGE=//p")"'
	append="console=ttyS0 panic=-1 $("$top"/tests/images/busybox-initramfs.sh --cmdline "$script")"
fi

# run TIMEOUT EMULATOR ARGS...: kvmpc exits when the guest powers off
run() {
	local t=$1
	shift
	timeout -k 5 "$t" "$kvmpc" -accel "$accel" -m 512 -nographic -no-reboot "$@" </dev/null >"$out" 2>&1
	rc=$?
}

# linux_ok NAME BANNER_REGEX IMAGE: the kernel came from that loader
linux_ok() {
	local name=$1 banner=$2 image=$3
	[ $rc -eq 124 ] && fail "$name: timed out"
	grep -Eaq "$banner" "$out" || fail "$name: no boot loader banner /$banner/"
	grep -aq "kvmpc-initramfs: booted" "$out" || fail "$name: the initramfs did not start (exit $rc)"
	grep -aq "^SUM=f97fbb91" "$out" || fail "$name: the guest script did not run"
	grep -aq "^LOADER_IMAGE=$image" "$out" ||
		fail "$name: BOOT_IMAGE is '$(grep -a -o 'LOADER_IMAGE=.*' "$out")', expected $image"
	grep -aq "KVMPC-TEST-EXIT: 0" "$out" || fail "$name: the guest script failed"
	grep -aq "reboot: Power down" "$out" || fail "$name: no power-off"
	[ $rc -eq 0 ] || fail "$name: kvmpc exited $rc after the power-off"
	echo "PASS $case: $name"
}

case $case in
isolinux)
	need /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 xorriso
	d=$tmp/iso
	mkdir -p "$d/isolinux"
	cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$d/isolinux/"
	cp "$kernel" "$d/vmlinuz"
	cp "$initrd" "$d/initrd.gz"
	cat >"$d/isolinux/isolinux.cfg" <<-EOF
	serial 0 115200
	prompt 0
	timeout 1
	default linux
	label linux
	  kernel /vmlinuz
	  initrd /initrd.gz
	  append $append
	EOF
	xorriso -as mkisofs -quiet -V KVMPCISO -o "$tmp/cd.iso" -isohybrid-mbr /usr/lib/ISOLINUX/isohdpfx.bin \
		-b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot -boot-load-size 4 \
		-boot-info-table "$d" 2>"$tmp/xorriso.log" || { cat "$tmp/xorriso.log"; fail "xorriso failed"; }
	run 400 -cdrom "$tmp/cd.iso" -boot d
	linux_ok "-cdrom -boot d" "ISOLINUX [0-9.]+" /vmlinuz
	run 400 -drive file="$tmp/cd.iso",format=raw,if=ide,index=0 -boot c
	linux_ok "isohybrid as -hda, -boot c" "ISOLINUX [0-9.]+" /vmlinuz
	;;
grub-iso)
	need grub-mkrescue /usr/lib/grub/i386-pc/boot.img xorriso
	d=$tmp/iso
	mkdir -p "$d/boot/grub"
	cp "$kernel" "$d/boot/vmlinuz"
	cp "$initrd" "$d/boot/initrd.gz"
	cat >"$d/boot/grub/grub.cfg" <<-EOF
	serial --unit=0 --speed=115200
	terminal_input serial
	terminal_output serial
	set timeout=0
	menuentry "kvmpc test" {
	  echo "kvmpc: GRUB loads the kernel"
	  linux /boot/vmlinuz $append
	  initrd /boot/initrd.gz
	}
	EOF
	grub-mkrescue -d /usr/lib/grub/i386-pc -o "$tmp/cd.iso" "$d" >"$tmp/mkrescue.log" 2>&1 ||
		{ cat "$tmp/mkrescue.log"; fail "grub-mkrescue failed"; }
	run 400 -cdrom "$tmp/cd.iso" -boot d
	linux_ok "-cdrom -boot d" "kvmpc: GRUB loads the kernel" /boot/vmlinuz
	;;
grub-disk)
	need grub-mkimage /usr/lib/grub/i386-pc/boot.img mkfs.fat mcopy mmd
	# the builder is shared with bench/boot_bench.py
	"$top"/tests/images/grub-disk.sh "$tmp/disk.img" "$kernel" "$initrd" "$append" ||
		fail "cannot build the GRUB disk"
	run 400 -drive file="$tmp/disk.img",format=raw,if=ide,index=0 -boot c
	linux_ok "-hda -boot c" "kvmpc: GRUB loads the kernel from \(hd0,msdos1\)" /vmlinuz
	;;
memtest)
	mt=/boot/memtest86+x64.bin
	need "$mt"
	# memtest86+ never stops by itself: the run ends at the time limit,
	# and what it printed by then is checked.
	t=${MEMTEST_SECONDS:-45}
	timeout -k 30 "$t" "$kvmpc" -accel "$accel" -m 64 -nographic -no-reboot -kernel "$mt" \
		-append "console=ttyS0,115200" </dev/null >"$out" 2>&1
	rc=$?
	[ $rc -eq 124 ] || fail "kvmpc exited $rc before the time limit"
	grep -aq "Memtest86+ v[0-9]" "$out" || fail "no memtest86+ banner"
	grep -aq "Memory  : *64MB" "$out" || fail "memtest86+ does not see 64 MB"
	# its screen, replayed: every test number it started and every error count
	tests=$(grep -a -o "#[0-9]\+  \[" "$out" | tr -dc '0-9\n' | sort -un | tr '\n' ' ')
	errs=$(grep -a -o "Errors: *[0-9]\+" "$out" | grep -v "Errors: *0$" | head -1)
	[ -z "$errs" ] || fail "memtest86+ reports $errs"
	last=$(grep -a -o "#[0-9]\+  \[" "$out" | tr -dc '0-9\n' | sort -n | tail -1)
	[ -n "$last" ] && [ "$last" -ge 5 ] ||
		fail "memtest86+ only reached tests: ${tests:-none} within ${t}s (expected #5)"
	echo "PASS $case: memtest86+ ran tests ${tests}with no errors"
	;;
*)
	echo "usage: $0 KVMPC ACCEL isolinux|grub-iso|grub-disk|memtest" >&2
	exit 2
	;;
esac

#!/bin/bash
# Build a raw disk that boots Linux through SeaBIOS and GRUB from a hard
# disk: GRUB's boot.img in the MBR, core.img (grub-mkimage: biosdisk,
# part_msdos, fat, linux, serial, ...; nothing loaded as a module) in the
# gap after it, and an active FAT partition at 1 MiB holding
# /boot/grub/grub.cfg, /vmlinuz and /initrd.gz, which GRUB reads through
# int 13h.  grub.cfg puts GRUB on the serial port, boots at once and
# prints "kvmpc: GRUB loads the kernel from (hd0,msdos1)" before loading
# the kernel and the initramfs and "kvmpc: GRUB starts the kernel" after.
#
# With --ext4 ROOTDIR the partition is ext4 instead (type 83h, 4 KiB
# blocks, label kvmpcroot, made by mke2fs -d from a copy of ROOTDIR, so
# neither root nor a loop device is needed; the files keep their owners
# and modes): ROOTDIR's tree plus /boot/vmlinuz, /boot/initrd.gz and
# /boot/grub/grub.cfg, as big as those need plus 32 MiB (--free MIB:
# plus MIB instead, room for the guest's writes), in whole MiB; core.img
# has GRUB's ext2 module (ext2/3/4) instead of fat.
#
# usage: tests/images/grub-disk.sh [--ext4 ROOTDIR [--free MIB]] OUT KERNEL INITRD 'APPEND' [TOTAL_MIB]
#   TOTAL_MIB  make the disk that big (default: just the partition); the
#              space after the partition is filled with random data (not a
#              sparse hole), for read benchmarks of the whole disk
# Used by tests/functional/boot-loaders.sh (grub-disk),
# tests/functional/grub-ext4-linux.sh (--ext4) and bench/boot_bench.py.
# Needs grub-pc-bin, python3, and dosfstools + mtools (FAT) or e2fsprogs
# (--ext4).
set -euo pipefail
rootdir= free_mib=32
if [ "${1:-}" = --ext4 ]; then
	rootdir=${2:?--ext4 ROOTDIR}
	shift 2
	if [ "${1:-}" = --free ]; then
		free_mib=${2:?--free MIB}
		shift 2
	fi
fi
out=${1:?out} kernel=${2:?kernel} initrd=${3:?initrd} append=${4?append} total_mib=${5:-0}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
die() { echo "grub-disk.sh: $*" >&2; exit 1; }

if [ -n "$rootdir" ]; then
	[ -d "$rootdir" ] || die "--ext4 $rootdir: not a directory"
	fs_module=ext2 part_type=0x83 kpath=/boot/vmlinuz ipath=/boot/initrd.gz
else
	fs_module=fat part_type=0x0e kpath=/vmlinuz ipath=/initrd.gz
fi
cat >"$tmp/grub.cfg" <<EOF
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=0
menuentry "kvmpc test" {
  echo "kvmpc: GRUB loads the kernel from (\$root)"
  linux $kpath $append
  initrd $ipath
  echo "kvmpc: GRUB starts the kernel"
}
EOF
if [ -n "$rootdir" ]; then
	PATH=$PATH:/usr/sbin:/sbin
	r=$tmp/root
	mkdir -p "$r"
	cp -a "$rootdir/." "$r/" || die "cannot copy $rootdir"
	mkdir -p "$r/boot/grub"
	cp "$tmp/grub.cfg" "$r/boot/grub/grub.cfg" && cp "$kernel" "$r$kpath" && cp "$initrd" "$r$ipath" ||
		die "cannot copy grub.cfg, the kernel or the initramfs"
	part_mib=$(( $(du -sm "$r" | cut -f1) + free_mib ))
	mke2fs -q -F -t ext4 -b 4096 -L kvmpcroot -d "$r" "$tmp/part.img" "${part_mib}M" >/dev/null ||
		die "mke2fs -d failed"
else
	part_kb=$((40 * 1024))
	mkfs.fat -C -n KVMPC "$tmp/part.img" $part_kb >/dev/null || die "mkfs.fat failed"
	mmd -i "$tmp/part.img" ::/boot ::/boot/grub &&
		mcopy -i "$tmp/part.img" "$tmp/grub.cfg" ::/boot/grub/grub.cfg &&
		mcopy -i "$tmp/part.img" "$kernel" ::/vmlinuz &&
		mcopy -i "$tmp/part.img" "$initrd" ::/initrd.gz || die "mtools failed"
fi
# core.img: everything it needs built in, the prefix on partition 1
grub-mkimage -O i386-pc -d /usr/lib/grub/i386-pc -o "$tmp/core.img" -p '(hd0,msdos1)/boot/grub' \
	biosdisk part_msdos $fs_module normal linux serial terminal echo configfile test ||
	die "grub-mkimage failed"
core_sectors=$(( ($(stat -c %s "$tmp/core.img") + 511) / 512 ))
[ $core_sectors -lt 2047 ] || die "core.img does not fit before the partition"
python3 - "$out" /usr/lib/grub/i386-pc/boot.img "$tmp/core.img" "$tmp/part.img" "$total_mib" "$part_type" <<'PY' || die "cannot build the disk"
import os, struct, sys
disk, bootimg, core, part, total_mib, part_type = sys.argv[1:]
mbr = bytearray(open(bootimg, 'rb').read())
assert len(mbr) == 512
start, size = 2048, len(open(part, 'rb').read()) // 512
# boot.img loads the first sector of core.img from LBA 1 (its default
# kernel sector) and core.img's blocklist, written by grub-mkimage, the
# rest from LBA 2; the BIOS drive comes in DL (boot_drive 0xff).
mbr[446:510] = bytes(64)
# partition 1: active, FAT16 LBA (0x0e) or Linux (0x83), CHS fields
# 0xfe/0xff "use LBA"
mbr[446:462] = bytes([0x80, 0xfe, 0xff, 0xff, int(part_type, 16), 0xfe, 0xff, 0xff]) + struct.pack('<II', start, size)
mbr[510:512] = b'\x55\xaa'
with open(disk, 'wb') as f:
    f.write(mbr)
    f.write(open(core, 'rb').read())
    f.seek(start * 512)
    f.write(open(part, 'rb').read())
    end, total = f.tell(), int(total_mib) << 20
    while end < total:
        n = min(1 << 20, total - end)
        f.write(os.urandom(n))
        end += n
PY

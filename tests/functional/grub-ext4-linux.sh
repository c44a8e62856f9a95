#!/bin/bash
# Issue 12, functional test 2: a GRUB hard disk with an ext4 root on IDE.
#
# tests/images/grub-disk.sh --ext4 builds, without root or loop devices, a
# raw disk: GRUB (grub-pc-bin: boot.img in the MBR, core.img with its ext2
# module after it) and an active MBR partition 1 at 1 MiB holding an ext4
# filesystem (mke2fs -d) with Debian's kernel and an initramfs in /boot and
# a busybox userland (/bin/busybox and its applet links, from lib.sh's
# busybox_root).  kvmpc boots it under tcg-lite from -hda: SeaBIOS runs
# GRUB, which reads grub.cfg, the kernel and the initramfs from the ext4
# partition through int 13h.  The initramfs (the test initramfs + an
# archive with ata_piix, sd_mod, ext4 and what they depend on, + /test.sh)
# loads the modules, mounts /dev/sda1 as ext4, chroots into it and runs
# the root's own busybox sh, which writes /data/token.txt: a random token
# the host passed on the kernel command line (through grub.cfg) and its
# md5, computed in the guest.  Then it unmounts and powers off (exit 0).
# The host checks GRUB's output, BOOT_IMAGE=/boot/vmlinuz, then takes the
# partition out of the image (dd at its MBR offset), reads the file with
# debugfs and finds what it expects, e2fsck -fn calls it clean, and the
# superblock says it was mounted once and cleanly unmounted (no journal
# to replay).
#
# usage: tests/functional/grub-ext4-linux.sh KVMPC ACCEL
# Exit 77 (SKIP) without the guest images, grub-pc-bin, e2fsprogs or
# SeaBIOS (scripts/setup.sh installs them).
set -uo pipefail
. "$(dirname "$0")/linux-modules.inc.sh" "${1:-}" "${2:-}" ata_piix sd_mod crc32c_generic ext4
PATH=$PATH:/usr/sbin:/sbin
for f in /usr/share/seabios/bios-256k.bin /usr/lib/grub/i386-pc/boot.img grub-mkimage mke2fs debugfs e2fsck dumpe2fs; do
	[ -e "$f" ] || command -v "$f" >/dev/null ||
		{ echo "SKIP: $f is missing (scripts/setup.sh installs it)"; exit 77; }
done

token=kvmpc-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
root_id=$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
want=$(printf '%s\n' "$token" | md5sum | cut -c1-32)

# the initramfs's script (/test.sh, in a third archive; lib.sh comes with
# linux-modules.inc.sh): modules, mount, chroot into the ext4 root
mkdir -p "$tmp/init2"
cat > "$tmp/init2/test.sh" <<'SCRIPT'
for m in $(cat /lib/modules/load.order); do insmod /lib/modules/$m || echo "INSMOD-FAILED $m"; done
i=0; while [ ! -b /dev/sda1 ]; do i=$((i+1)); [ $i -gt 600 ] && break; sleep 0.1; done
echo "LOADER_IMAGE=$(tr " " "\n" </proc/cmdline | sed -n "s/^BOOT_IMAGE=//p")"
tok=$(tr " " "\n" </proc/cmdline | sed -n "s/^kvmpc.token=//p")
mkdir -p /newroot && mount -t ext4 /dev/sda1 /newroot || { echo "MOUNT-FAILED"; exit 1; }
echo "FSTYPE=$(awk '$2 == "/newroot" { print $3 }' /proc/mounts)"
mount -t proc proc /newroot/proc && mount -o bind /dev /newroot/dev || exit 1
chroot /newroot /bin/sh /etc/kvmpc-write.sh "$tok"; rc=$?
echo "CHROOT-EXIT=$rc"
umount /newroot/dev /newroot/proc && umount /newroot || { echo "UMOUNT-FAILED"; exit 1; }
echo "UNMOUNTED"
exit $rc
SCRIPT
pack_initramfs "$tmp/init2" "$tmp/init2.cpio.gz"
cat "$tmp/init2.cpio.gz" >> "$tmp/initrd.gz"

# the ext4 root: busybox and its links, an id only this disk has, and the
# script the guest runs in it with the root's busybox
busybox_root "$tmp/rootfs"
echo "$root_id" > "$tmp/rootfs/etc/kvmpc-root-id"
cat > "$tmp/rootfs/etc/kvmpc-write.sh" <<'SCRIPT'
echo "ROOT_ID=$(cat /etc/kvmpc-root-id)"
echo "ROOT_BOOT=$(ls /boot | tr "\n" " ")"
mkdir -p /data || exit 1
printf "%s\n" "$1" > /data/token.txt || exit 1
md5sum < /data/token.txt | cut -c1-32 >> /data/token.txt || exit 1
sync
echo "WROTE=$(md5sum < /data/token.txt | cut -c1-32)"
SCRIPT

append="console=ttyS0 panic=-1 kvmpc.test=1 kvmpc.token=$token"
"$top"/tests/images/grub-disk.sh --ext4 "$tmp/rootfs" "$tmp/disk.img" "$kernel" "$tmp/initrd.gz" "$append" ||
	fail "cannot build the GRUB ext4 disk"

start=$SECONDS
timeout -k 5 300 "$kvmpc" -accel "$accel" -m 256 -nographic -no-reboot \
	-drive file="$tmp/disk.img",format=raw,if=ide,index=0 -boot c </dev/null >"$tmp/out" 2>&1
rc=$?
secs=$((SECONDS - start))
[ $rc -eq 124 ] && fail "timed out"
o=$tmp/out
grep -aq "kvmpc: GRUB loads the kernel from (hd0,msdos1)" "$o" || fail "no GRUB output (the disk did not boot)"
grep -aq "kvmpc: GRUB starts the kernel" "$o" || fail "GRUB did not load the kernel and the initramfs"
grep -aq "kvmpc-initramfs: booted" "$o" || fail "the initramfs did not start (exit $rc)"
grep -aq "^LOADER_IMAGE=/boot/vmlinuz" "$o" ||
	fail "BOOT_IMAGE is '$(grep -a -o 'LOADER_IMAGE=.*' "$o")', expected /boot/vmlinuz"
grep -aq "INSMOD-FAILED" "$o" && fail "a module did not load"
grep -aq "MOUNT-FAILED" "$o" && fail "the guest could not mount /dev/sda1"
grep -aq "^FSTYPE=ext4" "$o" || fail "/dev/sda1 mounted as $(grep -a '^FSTYPE=' "$o"), expected ext4"
grep -aq "^ROOT_ID=$root_id" "$o" || fail "the chroot did not run from the disk's root"
grep -aq "^ROOT_BOOT=grub initrd.gz vmlinuz" "$o" || fail "the root's /boot: $(grep -a '^ROOT_BOOT=' "$o")"
grep -aq "^CHROOT-EXIT=0" "$o" || fail "the root's busybox could not write the file"
grep -aq "^UNMOUNTED" "$o" || fail "the guest could not unmount the root"
grep -aq "KVMPC-TEST-EXIT: 0" "$o" || fail "the guest script failed (exit status $rc)"
grep -aq "reboot: Power down" "$o" || fail "no power-off"
[ $rc -eq 0 ] || fail "kvmpc exited $rc after the power-off"

# the host reads the file out of partition 1 (its start and size from the MBR)
read -r pstart psize < <(od -An -tu4 -j 454 -N 8 "$tmp/disk.img")
[ "$pstart" = 2048 ] && [ "${psize:-0}" -gt 0 ] || fail "partition 1 in the MBR: start ${pstart:-?} size ${psize:-?}"
dd if="$tmp/disk.img" of="$tmp/part.img" bs=512 skip="$pstart" count="$psize" status=none || fail "dd"
debugfs -R "cat /data/token.txt" "$tmp/part.img" > "$tmp/token.txt" 2>"$tmp/debugfs.log" ||
	{ cat "$tmp/debugfs.log"; fail "debugfs cannot read /data/token.txt"; }
[ "$(cat "$tmp/token.txt")" = "$(printf '%s\n%s' "$token" "$want")" ] ||
	fail "/data/token.txt read on the host: '$(head -c 200 "$tmp/token.txt" | cat -v)', expected $token and $want"
grep -aq "^WROTE=$(md5sum < "$tmp/token.txt" | cut -c1-32)" "$o" || fail "the guest's and the host's md5 of the file differ"
e2fsck -fn "$tmp/part.img" > "$tmp/fsck" 2>&1 || { cat "$tmp/fsck"; fail "e2fsck -fn: the guest left the filesystem unclean"; }
# the guest mounted it once and unmounted it: no journal left to replay
dumpe2fs -h "$tmp/part.img" > "$tmp/sb" 2>/dev/null || fail "dumpe2fs -h"
grep -q "^Filesystem state: *clean$" "$tmp/sb" || fail "superblock: $(grep '^Filesystem state' "$tmp/sb")"
grep "^Filesystem features:" "$tmp/sb" | grep -q needs_recovery && fail "the journal needs recovery: the guest did not unmount"
grep -q "^Mount count: *1$" "$tmp/sb" || fail "superblock: $(grep '^Mount count' "$tmp/sb"), expected 1 (one mount by the guest)"
echo "PASS: SeaBIOS -> GRUB (ext2 module) -> Linux from an ext4 partition on -hda; the root's busybox wrote $token, read back with debugfs, e2fsck clean, unmounted cleanly (guest run ${secs}s)"

#!/bin/bash
# Issue 13, functional test 1: Linux with its root filesystem on virtio-blk,
# a qcow2 image with a backing file (docs/qcow2.md).
#
# The host builds an ext4 root filesystem (a static busybox and an
# /sbin/init) from a directory with mke2fs -d (no root needed), converts
# it to qcow2 with kvmpc-img (the backing file) and creates an empty qcow2
# overlay over it.  Each boot runs as a distribution's does: the
# initramfs loads virtio_pci, virtio_blk and ext4, mounts `root=/dev/vda`
# (`-drive file=top.qcow2,if=virtio`) and switch_roots to the disk's
# /sbin/init, which runs the boot's script (kvmpc.rootrun= on the command
# line) from the disk's busybox with / on /dev/vda.  Boot 1 checks a file
# that comes from the backing file, writes a new file of random bytes (and
# appends to an old one), remounts / read-only and powers off.  Then
# `kvmpc-img check` and `qemu-img check` both call the overlay clean, the
# backing file is unchanged, and the host reads the guest's file out of
# the overlay itself (qemu-img convert + debugfs) with the checksum the
# guest printed.  Boot 2 mounts the disk again and finds both files with
# the checksums of boot 1.
#
# usage: tests/functional/qcow2-root-linux.sh KVMPC KVMPC-IMG ACCEL
set -uo pipefail
img_tool=${2:?kvmpc-img}
set -- "$1" "$3"
. "$(dirname "$0")/linux-modules.inc.sh" "${1:-}" "${2:-}" virtio_pci virtio_blk crc32c_generic ext4
command -v qemu-img >/dev/null || { echo "SKIP: qemu-img (qemu-utils) is not installed"; exit 77; }
command -v mke2fs >/dev/null && command -v debugfs >/dev/null ||
	{ echo "SKIP: mke2fs/debugfs (e2fsprogs) are not installed"; exit 77; }
PATH=$PATH:/usr/sbin:/sbin

# the root filesystem: busybox, /sbin/init, a few directories and a file of
# random bytes
mkdir -p "$tmp/rootfs/etc" "$tmp/rootfs/data" "$tmp/rootfs/var/log" "$tmp/rootfs/bin" \
	"$tmp/rootfs/sbin" "$tmp/rootfs/proc" "$tmp/rootfs/sys" "$tmp/rootfs/dev" "$tmp/rootfs/tmp"
bb=/bin/busybox; [ -x "$bb" ] || bb=/usr/bin/busybox
cp "$bb" "$tmp/rootfs/bin/busybox" || fail "no busybox"
for a in $("$bb" --list); do
	[ "$a" = busybox ] || ln -sf busybox "$tmp/rootfs/bin/$a"
done
cat > "$tmp/rootfs/sbin/init" <<'EOF'
#!/bin/sh
# the disk's init: runs kvmpc.rootrun=b64:SCRIPT with / on the disk
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
run=
for w in $(cat /proc/cmdline); do
	case $w in kvmpc.rootrun=b64:*) run=${w#kvmpc.rootrun=b64:} ;; esac
done
echo "ROOTDEV=$(awk '$2 == "/" && $1 != "rootfs" {print $1, $3, substr($4, 1, 2)}' /proc/mounts)"
echo "$run" | base64 -d > /tmp/run.sh
sh /tmp/run.sh; rc=$?
rm -f /tmp/run.sh
echo "KVMPC-TEST-EXIT: $rc"
sync
mount -o remount,ro / || echo "REMOUNT-RO-FAILED"
poweroff -f
EOF
chmod +x "$tmp/rootfs/sbin/init"
echo kvmpc-qcow2-root > "$tmp/rootfs/etc/hostname"
head -c 300000 /dev/urandom > "$tmp/rootfs/data/old.bin"
old_md5=$(md5sum < "$tmp/rootfs/data/old.bin" | cut -c1-32)
mke2fs -q -F -t ext4 -b 4096 -L kvmpcroot -d "$tmp/rootfs" "$tmp/base.raw" 64M ||
	fail "mke2fs -d"
"$img_tool" convert -O qcow2 "$tmp/base.raw" "$tmp/base.qcow2" || fail "kvmpc-img convert"
"$img_tool" create -q -f qcow2 -b base.qcow2 -F qcow2 "$tmp/top.qcow2" ||
	fail "kvmpc-img create -b"
base_md5=$(md5sum < "$tmp/base.qcow2" | cut -c1-32)

boot() { # SCRIPT: boots from the overlay as the virtio-blk root, output in $tmp/out
	local append
	append="console=ttyS0 panic=-1 root=/dev/vda rootfstype=ext4 kvmpc.rootrun=b64:$(printf '%s\n' "$1" | base64 -w0)"
	timeout -k 5 600 "$kvmpc" -accel "$accel" -m 256 -nographic -no-reboot \
		-kernel "$kernel" -initrd "$tmp/initrd.gz" -append "$append" \
		-drive file="$tmp/top.qcow2",if=virtio >"$tmp/out" 2>&1
	local rc=$?
	[ $rc -eq 124 ] && fail "timed out"
	grep -q "KVMPC-TEST-EXIT: 0" "$tmp/out" || fail "the guest script did not complete (exit status $rc)"
	grep -q "insmod .* failed" "$tmp/out" && fail "a module did not load"
	grep -Eq "^ROOTDEV=/dev/vda ext4 rw" "$tmp/out" || fail "/ is not /dev/vda (ext4, rw): $(grep -a '^ROOTDEV=' "$tmp/out")"
	grep -q "REMOUNT-RO-FAILED" "$tmp/out" && fail "the guest could not remount / read-only"
	return 0
}

mount_disk='echo "HOST=$(cat /etc/hostname)"'

# boot 1: write a new file, append to an old one, unmount, power off
boot "$mount_disk
echo \"OLD1=\$(md5sum < /data/old.bin | cut -c1-32)\"
dd if=/dev/urandom of=/data/new.bin bs=4096 count=256 2>/dev/null || exit 1
echo appended >> /data/old.bin
echo \"NEW=\$(md5sum < /data/new.bin | cut -c1-32)\"
echo \"OLDA=\$(md5sum < /data/old.bin | cut -c1-32)\""
grep -q "^HOST=kvmpc-qcow2-root" "$tmp/out" || fail "boot 1: /etc/hostname read as $(grep -a '^HOST=' "$tmp/out")"
grep -q "^OLD1=$old_md5" "$tmp/out" || fail "boot 1: the backing file's data/old.bin read as $(grep -a '^OLD1=' "$tmp/out")"
new_md5=$(grep -a '^NEW=' "$tmp/out" | tr -d '\r' | cut -c5-36)
olda_md5=$(grep -a '^OLDA=' "$tmp/out" | tr -d '\r' | cut -c6-37)
[ ${#new_md5} -eq 32 ] && [ ${#olda_md5} -eq 32 ] || fail "boot 1: no checksums in the guest output"

# the overlay is clean for both tools; the backing file did not change
"$img_tool" check "$tmp/top.qcow2" > "$tmp/check" 2>&1 || { cat "$tmp/check"; fail "kvmpc-img check"; }
grep -q "No errors were found" "$tmp/check" || fail "kvmpc-img check: $(cat "$tmp/check")"
qemu-img check "$tmp/top.qcow2" > "$tmp/check" 2>&1 || { cat "$tmp/check"; fail "qemu-img check"; }
grep -q "No errors were found" "$tmp/check" || fail "qemu-img check: $(cat "$tmp/check")"
[ "$(md5sum < "$tmp/base.qcow2" | cut -c1-32)" = "$base_md5" ] || fail "the backing file changed"
qemu-img check "$tmp/base.qcow2" >/dev/null 2>&1 || fail "qemu-img check of the backing file"
# the host reads the guest's files out of the overlay (through qemu-img)
qemu-img convert -O raw "$tmp/top.qcow2" "$tmp/flat.raw" || fail "qemu-img convert"
debugfs -R "dump /data/new.bin $tmp/new.bin" "$tmp/flat.raw" >/dev/null 2>&1
debugfs -R "dump /data/old.bin $tmp/old.bin" "$tmp/flat.raw" >/dev/null 2>&1
[ "$(md5sum < "$tmp/new.bin" | cut -c1-32)" = "$new_md5" ] ||
	fail "the guest's new file, read on the host, is not what the guest wrote"
[ "$(md5sum < "$tmp/old.bin" | cut -c1-32)" = "$olda_md5" ] ||
	fail "the guest's appended file, read on the host, is not what the guest wrote"
e2fsck -fn "$tmp/flat.raw" > "$tmp/fsck" 2>&1 || { cat "$tmp/fsck"; fail "e2fsck of the guest's filesystem"; }

# boot 2: the data is there
boot "$mount_disk
echo \"NEW2=\$(md5sum < /data/new.bin | cut -c1-32)\"
echo \"OLD2=\$(md5sum < /data/old.bin | cut -c1-32)\""
grep -q "^NEW2=$new_md5" "$tmp/out" || fail "boot 2: data/new.bin read as $(grep -a '^NEW2=' "$tmp/out"), expected $new_md5"
grep -q "^OLD2=$olda_md5" "$tmp/out" || fail "boot 2: data/old.bin read as $(grep -a '^OLD2=' "$tmp/out"), expected $olda_md5"
qemu-img check "$tmp/top.qcow2" >/dev/null 2>&1 || fail "qemu-img check after boot 2"
[ "$(md5sum < "$tmp/base.qcow2" | cut -c1-32)" = "$base_md5" ] || fail "the backing file changed in boot 2"
echo "PASS: Linux with / on a virtio-blk qcow2 overlay of a qcow2 backing file (root=/dev/vda, switch_root) wrote a file; kvmpc-img and qemu-img check clean, the host and a second boot read the guest's file ($new_md5), backing unchanged"

#!/bin/bash
# Build $KVMPC_BUILD/images/initramfs.cpio.gz: a busybox-static initramfs for
# the default VM and for functional tests, and print its path.
#
# usage: tests/images/busybox-initramfs.sh            build (cached) and print the path
#        tests/images/busybox-initramfs.sh --cmdline 'SHELL SCRIPT'
#            print the kernel cmdline words that run SCRIPT in scripted mode:
#            "kvmpc.test=1 kvmpc.run=b64:<base64 of SCRIPT>" (gz64:<base64 of
#            the gzipped SCRIPT> when the base64 is over 1400 characters:
#            Linux takes 2047 bytes of command line)
#
# Boot: -kernel <vmlinuz> -initrd initramfs.cpio.gz -append 'console=ttyS0 ...'
# /init mounts proc, sys, devtmpfs, prints the banner line
#     kvmpc-initramfs: booted <kernel release>, <N> cpu(s)
# then, depending on the kernel cmdline:
#   kvmpc.test=1  scripted mode: runs the script named by kvmpc.run= with sh,
#                 stdout/stderr on the console:
#                   kvmpc.run=b64:<base64>  the script text, base64 (no spaces)
#                   kvmpc.run=gz64:<base64> the same, gzipped first
#                   kvmpc.run=/path         a file in the initramfs (add one by
#                                           concatenating a second cpio.gz)
#                   (none)                  /test.sh if present
#                 then prints "KVMPC-TEST-EXIT: <status>" and runs `poweroff -f`
#                 (ACPI power-off: QEMU exits).
#   root=/dev/DEV (before the above; [rootfstype=T] [init=PATH]): what a
#                 distribution's initramfs does: loads the modules listed in
#                 /lib/modules/load.order (a test appends them), waits for
#                 DEV, mounts it read-write at /newroot and hands over with
#                 `switch_root /newroot PATH` (default /sbin/init), /dev
#                 moved along; if DEV cannot be mounted, says so and goes on
#   otherwise     interactive: prints "kvmpc-initramfs: ready" and starts
#                 `setsid cttyhack sh` on the console (prompt "kvmpc# "),
#                 respawned when it exits; `poweroff -f` in it powers off.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ "${1:-}" = --cmdline ]; then
	[ $# -eq 2 ] || die "usage: $0 --cmdline 'SCRIPT'"
	b64=$(printf '%s\n' "$2" | base64 -w0)
	# Linux's command line is 2047 bytes: a long script goes gzipped
	if [ ${#b64} -gt 1400 ]; then
		printf 'kvmpc.test=1 kvmpc.run=gz64:%s\n' "$(printf '%s\n' "$2" | gzip -9n | base64 -w0)"
	else
		printf 'kvmpc.test=1 kvmpc.run=b64:%s\n' "$b64"
	fi
	exit 0
fi

out=$KVMPC_BUILD/images/initramfs.cpio.gz
self=$(readlink -f "$0")
if is_newer_than "$out" "$self" "$(dirname "$self")/lib.sh"; then
	echo "$out"; exit 0
fi

mkdir -p "$KVMPC_BUILD/images"
root=$(mktemp -d "$KVMPC_BUILD/images/.initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
busybox_root "$root"
echo 'export PS1="kvmpc# "' > "$root/etc/profile"
cat > "$root/init" <<'INIT'
#!/bin/sh
export PATH=/bin:/sbin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
ln -sf /proc/self/fd /dev/fd; ln -sf fd/0 /dev/stdin; ln -sf fd/1 /dev/stdout; ln -sf fd/2 /dev/stderr
hostname kvmpc
exec </dev/console >/dev/console 2>&1
test_mode=0 run=
for w in $(cat /proc/cmdline); do
	case $w in
	kvmpc.test=1) test_mode=1 ;;
	kvmpc.run=*) run=${w#kvmpc.run=} ;;
	esac
done
# SeaBIOS leaves its last line unterminated: start on a fresh line
echo
echo "kvmpc-initramfs: booted $(uname -r), $(grep -c ^processor /proc/cpuinfo) cpu(s)"
root_dev= root_fs= new_init=/sbin/init
for w in $(cat /proc/cmdline); do
	case $w in
	root=/dev/*) root_dev=${w#root=} ;;
	rootfstype=*) root_fs=${w#rootfstype=} ;;
	init=/*) new_init=${w#init=} ;;
	esac
done
if [ -n "$root_dev" ]; then
	if [ -r /lib/modules/load.order ]; then
		for m in $(cat /lib/modules/load.order); do
			insmod /lib/modules/$m || echo "kvmpc-initramfs: insmod $m failed"
		done
	fi
	i=0; while [ ! -b "$root_dev" ] && [ $i -lt 300 ]; do i=$((i+1)); sleep 0.1; done
	mkdir -p /newroot
	if mount ${root_fs:+-t $root_fs} -o rw "$root_dev" /newroot; then
		echo "kvmpc-initramfs: root $root_dev, switching to $new_init"
		umount /dev/pts /proc /sys 2>/dev/null
		mkdir -p /newroot/dev && mount --move /dev /newroot/dev
		exec switch_root /newroot "$new_init"
	fi
	echo "kvmpc-initramfs: cannot mount $root_dev"
fi
if [ "$test_mode" = 1 ]; then
	case $run in
	b64:*) echo "${run#b64:}" | base64 -d > /tmp/run.sh ;;
	gz64:*) echo "${run#gz64:}" | base64 -d | gunzip > /tmp/run.sh ;;
	/*)    cp "$run" /tmp/run.sh ;;
	'')    cp /test.sh /tmp/run.sh ;;
	esac
	if [ -s /tmp/run.sh ]; then
		sh /tmp/run.sh; rc=$?
	else
		echo "kvmpc-initramfs: no script (kvmpc.run=$run)"; rc=127
	fi
	echo "KVMPC-TEST-EXIT: $rc"
	sync
	poweroff -f
	sleep 10
	echo o > /proc/sysrq-trigger
fi
echo "kvmpc-initramfs: ready"
while :; do
	setsid cttyhack sh -l
	sleep 1
done
INIT
chmod +x "$root/init"
pack_initramfs "$root" "$out"
echo "$out"

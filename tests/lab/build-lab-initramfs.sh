#!/bin/bash
# Build the lab's initramfs and print its path:
#   $KVMPC_BUILD/lab/lab-initramfs.cpio.gz
# busybox-static + these modules of Debian's 6.1 kernel package (fetched by
# tests/images/debian-kernel.sh), with their modules.dep dependencies first,
# decompressed at build time if the package ships .ko.xz/.ko.zst:
#   irqbypass kvm ccp kvm-amd  virtio_ring virtio virtio_pci_modern_dev
#   virtio_pci_legacy_dev virtio_pci 9pnet 9pnet_virtio netfs fscache 9p
# Its /init is the lab side of tests/lab/lab-lib.sh (see docs/testing-lab.md).
#
# usage: tests/lab/build-lab-initramfs.sh      (cached; rebuilt when this script changes)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../images/lib.sh"

MODULES="irqbypass kvm ccp kvm-amd virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci 9pnet 9pnet_virtio netfs fscache 9p"
out=$KVMPC_BUILD/lab/lab-initramfs.cpio.gz
"$here/../images/debian-kernel.sh" >/dev/null
mods=$("$here/../images/debian-kernel.sh" --modules)
if is_newer_than "$out" "$here/build-lab-initramfs.sh" "$here/../images/lib.sh" "$KVMPC_BUILD/images/linux/.done"; then
	echo "$out"; exit 0
fi
mkdir -p "$KVMPC_BUILD/lab"
root=$(mktemp -d "$KVMPC_BUILD/lab/.initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
busybox_root "$root"
add_modules "$root" "$mods" $MODULES

cat > "$root/init" <<'INIT'
#!/bin/sh
# kvmpc lab /init: load kvm + 9p, mount the host root (ro) and the results
# share, then run the queued tests in /out/tests/NNNN (each: cmd, timeout),
# one after another, each chrooted into the host root; write NNNN/status.
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
echo
echo "kvmpc-lab: init $(uname -r), $(grep -c ^processor /proc/cpuinfo) cpu(s), uptime $(cut -d' ' -f1 /proc/uptime)s"
# The loopback interface, as on any host: tests serve files to slirp guests
# on 127.0.0.1 (without it connect() there fails with ENETUNREACH).
ip link set lo up || ifconfig lo 127.0.0.1 up
broken() {
	echo "kvmpc-lab: BROKEN: $*"
	[ -d /out/tests ] && echo "$*" > /out/broken
	poweroff -f; sleep 5; echo o > /proc/sysrq-trigger
}
for m in $(cat /lib/modules/load.order); do
	insmod /lib/modules/$m || echo "kvmpc-lab: insmod $m failed"
	[ -n "${LAB_DEBUG:-}" ] && echo "kvmpc-lab: $m loaded, uptime $(cut -d' ' -f1 /proc/uptime)s"
done
echo "kvmpc-lab: modules loaded, uptime $(cut -d' ' -f1 /proc/uptime)s"
mkdir -p /out /host
o9p=trans=virtio,version=9p2000.L,msize=512000
mount -t 9p -o $o9p labout /out || broken "cannot mount the results share"
[ -c /dev/kvm ] || broken "/dev/kvm did not appear in the lab ($(dmesg | grep -i -m1 -e svm -e kvm_amd -e 'kvm:' ))"
mount -t 9p -o $o9p,ro,cache=${LAB_CACHE:-loose} hostroot /host || broken "cannot mount the host root over 9p"
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
ln -sf /proc/self/fd /dev/fd; ln -sf fd/0 /dev/stdin; ln -sf fd/1 /dev/stdout; ln -sf fd/2 /dev/stderr
mount -o rbind /dev /host/dev || broken "cannot bind /dev into the host root"
mount -t proc proc /host/proc
mount -t sysfs sysfs /host/sys
# /tmp must be writable; the host's own /tmp stays visible under it (its
# top-level directories bound in, read-only like the rest of the host), so
# a checkout under /tmp (a CI clone) can run tests here too.
mkdir -p /hosttmp && mount -o bind /host/tmp /hosttmp
mount -t tmpfs -o mode=1777 tmpfs /host/tmp
for d in /hosttmp/*/; do
	[ -d "$d" ] || continue
	d=${d%/}; mkdir -p "/host/tmp/${d##*/}" && mount -o bind "$d" "/host/tmp/${d##*/}"
done
mount -t tmpfs -o mode=0755 tmpfs /host/run
mkdir -p /host/run/kvmpc-lab
mount -o bind /out /host/run/kvmpc-lab || broken "cannot bind the results share"
( i=0; while :; do echo $i > /out/hb; i=$((i+1)); sleep 2; done ) &
echo ready > /out/ready
echo "kvmpc-lab: ready, uptime $(cut -d' ' -f1 /proc/uptime)s"
uptime_s() { read u _ < /proc/uptime; echo $u; }
for d in /out/tests/*; do
	[ -f $d/cmd ] || continue
	[ -e $d/status ] && continue
	n=${d##*/}
	t=$(cat $d/timeout 2>/dev/null || echo 0)
	t0=$(uptime_s)
	echo "$t0" > $d/started
	setsid chroot /host /bin/bash /run/kvmpc-lab/tests/$n/cmd </dev/null >$d/log 2>&1 &
	pid=$!
	k=
	if [ "${t:-0}" -gt 0 ]; then
		( sleep $t; : > $d/timedout; kill -s TERM -- -$pid; sleep 5; kill -s KILL -- -$pid ) 2>/dev/null &
		k=$!
	fi
	wait $pid; rc=$?
	[ -n "$k" ] && kill $k 2>/dev/null
	kill -s KILL -- -$pid 2>/dev/null
	echo "$(awk "BEGIN { printf \"%.2f\", $(uptime_s) - $t0 }")" > $d/elapsed
	if [ -e $d/timedout ]; then st=timeout; else st=$rc; fi
	echo "$st" > $d/status.tmp && mv $d/status.tmp $d/status
done
echo done > /out/done
poweroff -f
sleep 5
echo o > /proc/sysrq-trigger
INIT
chmod +x "$root/init"
pack_initramfs "$root" "$out"
echo "$out"

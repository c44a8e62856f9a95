#!/bin/bash
# Issue 13's headline: an installed Debian 12 system on a qcow2 image
# boots from virtio-blk, gets an address from DHCP and reaches the host
# over the network, as with
#   qemu-system-x86_64 -drive file=disk.qcow2,if=virtio -nic user
#
# tests/images/debian-rootfs.sh (cached) installs Debian bookworm with
# mmdebstrap: minbase, systemd-sysv, udev, iproute2 and linux-image-amd64,
# whose postinst makes the initrd with initramfs-tools; systemd-networkd
# does DHCP on en*/eth*, and kvmpc-report.service, after
# network-online.target, prints the address, fetches
# http://10.0.2.2:PORT/blob with bash's /dev/tcp, prints its md5 and runs
# `systemctl poweroff`.  This script puts that root on an ext4 partition
# (256 MiB free) behind GRUB (tests/images/grub-disk.sh --ext4: GRUB boots the root's
# /boot/vmlinuz and initrd with root=LABEL=kvmpcroot and
# kvmpc.http_port=PORT), converts the raw disk to a qcow2 backing file
# with `kvmpc-img convert`, creates an overlay over it with
# `kvmpc-img create -b`, serves a random blob with python3 -m http.server
# on 127.0.0.1:PORT, and runs
#   kvmpc -accel tcg -m 1024 -drive file=disk.qcow2,if=virtio \
#         -nic user,model=virtio-net-pci -nographic -no-reboot
# (no -kernel: SeaBIOS boots GRUB from the virtio disk).  The serial
# output must show GRUB, the initrd's udev finding the root, systemd
# starting the unit, the address 10.0.2.15, the blob's md5, the system
# state "running" (no unit failed; systemd-analyze's "Startup finished"
# line is printed), and the guest must power off by itself (exit
# status 0).  Then `qemu-img check` and
# `kvmpc-img check` call the overlay clean.
#
# usage: tests/functional/debian-qcow2-linux.sh KVMPC KVMPC-IMG ACCEL
# Exit 77 (SKIP) when the Debian root cannot be built (not root and no
# cached root, or the mirror unreachable) or a host tool is missing.
set -uo pipefail
kvmpc=${1:?kvmpc} img_tool=${2:?kvmpc-img} accel=${3:?accel}
top=$(cd "$(dirname "$0")/../.." && pwd)
export KVMPC_BUILD=${KVMPC_BUILD:-$top/build}
PATH=$PATH:/usr/sbin:/sbin
tmp=$(mktemp -d)
httpd=
cleanup() { [ -n "$httpd" ] && kill "$httpd" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
# KVMPC_DEBIAN_LOG=FILE keeps the whole serial output
fail() {
	echo "--- guest output (last 60 lines) ---"; tail -60 "$tmp/out" 2>/dev/null | cat -v
	[ -n "${KVMPC_DEBIAN_LOG:-}" ] && cp "$tmp/out" "$KVMPC_DEBIAN_LOG" 2>/dev/null
	echo "FAIL: $*"; exit 1
}

for f in /usr/share/seabios/bios-256k.bin /usr/lib/grub/i386-pc/boot.img grub-mkimage mke2fs qemu-img python3; do
	[ -e "$f" ] || command -v "$f" >/dev/null ||
		{ echo "SKIP: $f is missing (scripts/setup.sh installs it)"; exit 77; }
done

# the Debian root (built once: ~1 min with a warm kernel .deb)
start=$SECONDS
if ! root=$("$top"/tests/images/debian-rootfs.sh 2>"$tmp/img.err"); then
	# a prerequisite that cannot be had (no root to run mmdebstrap, no
	# mirror) is a SKIP with the reason; anything else is a failure
	if grep -q 'needs root\|apt-get update failed\|apt-get install mmdebstrap failed\|missing Debian packages' "$tmp/img.err" ||
		grep -qi 'Temporary failure resolving\|Could not connect\|Failed to fetch\|Unable to connect' \
			"$KVMPC_BUILD/images/debian-root.log" 2>/dev/null; then
		echo "SKIP: cannot build the Debian root: $(tail -1 "$tmp/img.err")"
		exit 77
	fi
	cat "$tmp/img.err"
	echo "FAIL: tests/images/debian-rootfs.sh failed"
	exit 1
fi
img_secs=$((SECONDS - start))
vmlinuz=$(ls "$root"/boot/vmlinuz-* | tail -1)
initrd=$(ls "$root"/boot/initrd.img-* | tail -1)
[ -r "$vmlinuz" ] && [ -r "$initrd" ] || fail "no kernel or initrd in $root/boot"

# a free port on 127.0.0.1 and the blob the guest fetches
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$tmp/www"
head -c $((300 * 1024 + 17)) /dev/urandom > "$tmp/www/blob"
want=$(md5sum < "$tmp/www/blob" | cut -c1-32)
size=$(stat -c %s "$tmp/www/blob")
python3 -m http.server --bind 127.0.0.1 --directory "$tmp/www" "$port" >"$tmp/httpd.log" 2>&1 &
httpd=$!

# the disk: GRUB + ext4 root (raw) -> qcow2 backing file -> qcow2 overlay
start=$SECONDS
append="root=LABEL=kvmpcroot ro console=ttyS0 panic=-1 kvmpc.http_port=$port"
"$top"/tests/images/grub-disk.sh --ext4 "$root" --free 256 "$tmp/disk.raw" "$vmlinuz" "$initrd" "$append" ||
	fail "cannot build the GRUB ext4 disk"
"$img_tool" convert -O qcow2 "$tmp/disk.raw" "$tmp/base.qcow2" || fail "kvmpc-img convert"
rm -f "$tmp/disk.raw"
"$img_tool" create -f qcow2 -b "$tmp/base.qcow2" -F qcow2 "$tmp/disk.qcow2" >/dev/null || fail "kvmpc-img create -b"
disk_secs=$((SECONDS - start))
# the HTTP server must be listening before the guest asks
for i in $(seq 50); do
	python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break
	sleep 0.1
done

start=$SECONDS
timeout -k 5 ${KVMPC_DEBIAN_TIMEOUT:-600} "$kvmpc" -accel "$accel" -m 1024 \
	-drive file="$tmp/disk.qcow2",if=virtio \
	-nic user,model=virtio-net-pci -nographic -no-reboot </dev/null >"$tmp/out" 2>&1
rc=$?
secs=$((SECONDS - start))
o=$tmp/out
[ -n "${KVMPC_DEBIAN_LOG:-}" ] && cp "$o" "$KVMPC_DEBIAN_LOG" 2>/dev/null
[ $rc -eq 124 ] && fail "timed out after ${secs}s"
grep -aq "kvmpc: GRUB loads the kernel from (hd0,msdos1)" "$o" || fail "no GRUB output (the virtio disk did not boot)"
grep -aq "kvmpc: GRUB starts the kernel" "$o" || fail "GRUB did not load the kernel and the initrd"
grep -aq "Command line: BOOT_IMAGE=/boot/vmlinuz root=LABEL=kvmpcroot" "$o" || fail "the kernel did not get GRUB's command line"
grep -aq "virtio_blk virtio.*\[vda\]" "$o" || fail "the initrd found no virtio disk"
grep -aqE "EXT4-fs \(vda1\): mounted filesystem" "$o" || fail "the initrd did not mount vda1"
grep -aq "systemd\[1\]: systemd 252" "$o" || grep -aq "Welcome to .*Debian GNU/Linux 12" "$o" || fail "systemd did not start"
grep -aq "Kernel panic" "$o" && fail "the guest panicked"
grep -aq "kvmpc-debian: address " "$o" || fail "kvmpc-report.service did not run"
addr=$(grep -a -o "kvmpc-debian: address [0-9.]*" "$o" | head -1 | awk '{print $3}')
[ "$addr" = 10.0.2.15 ] || fail "the DHCP address is '$addr', expected 10.0.2.15"
grep -aq "kvmpc-debian: http HTTP/1.0 200" "$o" || fail "the guest's HTTP GET: $(grep -a 'kvmpc-debian: http\|no connection' "$o")"
got=$(grep -a -o "kvmpc-debian: blob md5 [0-9a-f]* size [0-9]*" "$o" | head -1)
[ "$got" = "kvmpc-debian: blob md5 $want size $size" ] || fail "the guest got '$got', expected md5 $want size $size"
grep -aq "kvmpc-debian: system running" "$o" ||
	fail "the boot did not finish cleanly: '$(grep -a -o 'kvmpc-debian: system.*' "$o" | tr -d '\r')' (degraded: a unit failed)"
grep -aq "reboot: Power down" "$o" || fail "the guest did not power off (exit $rc)"
[ $rc -eq 0 ] || fail "kvmpc exited $rc after the power-off"
# systemd units that failed show as [FAILED] on the console
if grep -aq "FAILED" "$o"; then
	grep -a "FAILED" "$o" | cat -v
	fail "a systemd unit failed"
fi

qemu-img check "$tmp/disk.qcow2" >"$tmp/qcheck" 2>&1 || { cat "$tmp/qcheck"; fail "qemu-img check"; }
grep -q "No errors were found" "$tmp/qcheck" || { cat "$tmp/qcheck"; fail "qemu-img check: not clean"; }
"$img_tool" check "$tmp/disk.qcow2" >"$tmp/kcheck" 2>&1 || { cat "$tmp/kcheck"; fail "kvmpc-img check"; }
grep -q "No errors were found" "$tmp/kcheck" || { cat "$tmp/kcheck"; fail "kvmpc-img check: not clean"; }
qemu-img check "$tmp/base.qcow2" >/dev/null 2>&1 || fail "qemu-img check of the backing file"

echo "--- boot (excerpt) ---"
grep -a "kvmpc: GRUB\|Linux version\|Welcome to\|Started.*[Nn]etwork\|Reached target.*Network is Online\|kvmpc-debian:\|Startup finished\|Power down" "$o" | cat -v
st=$(grep -a -o "Startup finished in .*" "$o" | head -1 | tr -d '\r')
echo "PASS: Debian 12 (systemd, networkd) from a qcow2 overlay on virtio-blk via SeaBIOS and GRUB; DHCP 10.0.2.15, fetched $size bytes from the host (md5 ok), powered off; both check tools clean (image ${img_secs}s, disk ${disk_secs}s, guest ${secs}s${st:+; systemd: $st})"

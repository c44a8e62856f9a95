#!/bin/bash
# -netdev tap (docs/net.md) inside a network namespace the test creates
# (removed at exit): kvmpc opens /dev/net/tun there (ifname=kvtap0,
# script=no), the test gives the TAP interface 10.0.8.1/24, and the guest
# (Debian's kernel, e1000.ko, 10.0.8.2) pings it.  SKIP when namespaces or
# /dev/net/tun are not available.
#
# usage: tests/functional/net-tap-linux.sh KVMPC ACCEL
set -uo pipefail
. "$(dirname "$0")/linux-modules.inc.sh" "${1:-}" "${2:-}" e1000

. "$(dirname "$0")/tap-netns.inc.sh" kvmpc-tap

script='for m in $(cat /lib/modules/load.order); do insmod /lib/modules/$m || echo "INSMOD-FAILED $m"; done
ifconfig eth0 10.0.8.2 netmask 255.255.255.0 up
i=0; while ! ping -c 1 -W 1 10.0.8.1 >/dev/null 2>&1; do i=$((i+1)); [ $i -gt 90 ] && break; done
ping -c 3 -W 2 10.0.8.1 >/dev/null 2>&1; echo "PING=$?"'
append="console=ttyS0 panic=-1 $("$top"/tests/images/busybox-initramfs.sh --cmdline "$script")"
nsbg timeout -k 5 400 "$kvmpc" -accel "$accel" -m 256 -nographic -no-reboot \
	-kernel "$kernel" -initrd "$tmp/initrd.gz" -append "$append" \
	-netdev tap,id=t0,ifname=kvtap0,script=no,downscript=no -device e1000,netdev=t0 \
	>"$tmp/out" 2>&1
vm_pid=$!
tap_up kvtap0 10.0.8.1/24
guest_wait
grep -q "^PING=0" "$tmp/out" || fail "no ping replies from the TAP side ($(grep -a '^PING=' "$tmp/out"))"
echo "PASS: the guest pinged 10.0.8.1 on a TAP interface in namespace $ns"

#!/bin/bash
# Debian's kernel drives two virtio-net-pci NICs (docs/net.md, virtio-net)
# with its virtio_net.ko, each on its own -netdev user (libslirp).  Every
# packet stays on this machine:
#   eth0: -netdev user,queues=2 + virtio-net-pci,mq=on (modern, mergeable
#         buffers, checksum offload, control queue, two queue pairs)
#         (a) udhcpc gets 10.0.2.15;
#         (b) the guest fetches a random file from a python http.server
#         the test runs on 127.0.0.1 (http://10.0.2.2:PORT/) and prints
#         its md5, compared with the host's; (b') the guest sends 1 MiB of
#         random bytes with nc to a host listener, md5s compared
#   eth1: -net nic,model=virtio style, legacy interface (disable-modern=on)
#         without mergeable buffers, restrict=on,hostfwd=tcp:127.0.0.1:HP-:7777
#         (c) busybox nc listens on 7777 in the guest; the test connects
#         to 127.0.0.1:HP, and each side gets the other's line
#   (d) eth0 has the MAC given and, with two vCPUs, Linux uses both queue
#       pairs (its rx-0 and rx-1 queues)
#   (e) eth0 negotiates HOST_TSO4 (-netdev user takes IPv4 TSO frames
#       whole) and the upload (b') goes out in frames bigger than the MTU
#   (f) eth0 negotiates GUEST_TSO4 (the device coalesces what one burst of
#       libslirp brings) and the fetch (b) comes in frames bigger than it
#
# PACKED=1 in the environment gives eth0 packed virtqueues (packed=on).
#
# usage: tests/functional/virtio-net-linux.sh KVMPC ACCEL
set -uo pipefail
. "$(dirname "$0")/linux-modules.inc.sh" "${1:-}" "${2:-}" virtio_pci virtio_net

eth0_extra=""
[ "${PACKED:-0}" = 1 ] && eth0_extra=",packed=on"

. "$(dirname "$0")/net-linux.inc.sh"
net_services_start

script="$net_guest_script"'
echo "MAC0=$(cat /sys/class/net/eth0/address)"
echo "QUEUES0=$(ls -d /sys/class/net/eth0/queues/rx-* | wc -l)"
echo "DRIVER0=$(basename $(readlink /sys/class/net/eth0/device/driver))"
echo "FEATURES0=$(cat /sys/class/net/eth0/device/features)"
cat /proc/net/dev | grep eth'
append="console=ttyS0 panic=-1 $("$top"/tests/images/busybox-initramfs.sh --cmdline "$script")"
timeout -k 5 600 "$kvmpc" -accel "$accel" -smp 2 -m 256 -nographic -no-reboot \
	-kernel "$kernel" -initrd "$tmp/initrd.gz" -append "$append" \
	-netdev user,id=u0,restrict=off,queues=2 \
	-device virtio-net-pci,netdev=u0,mq=on,mac=52:54:00:12:34:70$eth0_extra \
	-netdev user,id=u1,net=10.0.3.0/24,restrict=on,ipv6=off,$gf_opt,hostfwd=tcp:127.0.0.1:$fwd_port-:7777 \
	-device virtio-net-pci,netdev=u1,disable-modern=on,mrg_rxbuf=off \
	>"$tmp/out" 2>&1 &
vm_pid=$!

net_wait_and_check
grep -q "^MAC0=52:54:00:12:34:70" "$tmp/out" || fail "(d) eth0 has $(grep -a '^MAC0=' "$tmp/out")"
grep -q "^QUEUES0=2" "$tmp/out" || fail "(d) eth0 has $(grep -a '^QUEUES0=' "$tmp/out") receive queues"
if [ "${PACKED:-0}" = 1 ]; then
	# bit 34 of the negotiated features: RING_PACKED
	grep -aq "^FEATURES0=.\{34\}1" "$tmp/out" || fail "(d) eth0 did not use packed rings: $(grep -a '^FEATURES0=' "$tmp/out")"
fi
grep -q "^DRIVER0=virtio_net" "$tmp/out" || fail "(d) eth0 is driven by $(grep -a '^DRIVER0=' "$tmp/out")"
# The average frame between the guest's counter lines BEFORE= and AFTER=
# ("bytes packets" of eth0, printed by the guest script).
avg_frame() {
	local b0 p0 b1 p1
	read -r b0 p0 < <(grep -a "^$1=" "$tmp/out" | cut -d= -f2 | tr -d '\r')
	read -r b1 p1 < <(grep -a "^$2=" "$tmp/out" | cut -d= -f2 | tr -d '\r')
	[ -n "${p1:-}" ] && [ "$p1" -gt "$p0" ] || { echo 0; return; }
	echo $(( (b1 - b0) / (p1 - p0) ))
}
# (e) -netdev user takes IPv4 TSO frames whole (docs/net.md): bit 11 of
# eth0's negotiated features (HOST_TSO4), and the upload left the guest in
# frames bigger than the MTU on average (GSO frames: counted one each by
# the driver), yet arrived intact (b')
grep -aq "^FEATURES0=.\{11\}1" "$tmp/out" || fail "(e) eth0 did not negotiate HOST_TSO4: $(grep -a '^FEATURES0=' "$tmp/out")"
up_avg=$(avg_frame TXB TXA)
[ "$up_avg" -gt 1514 ] || fail "(e) the upload's frames averaged $up_avg bytes: no TSO frame went out"
# (f) and the fetch (b) came in coalesced frames (GUEST_TSO4, bit 7: the
# device merges the segments of one libslirp burst), its md5 intact
grep -aq "^FEATURES0=.\{7\}1" "$tmp/out" || fail "(f) eth0 did not negotiate GUEST_TSO4: $(grep -a '^FEATURES0=' "$tmp/out")"
down_avg=$(avg_frame RXB RXA)
[ "$down_avg" -gt 1514 ] || fail "(f) the fetch's frames averaged $down_avg bytes: nothing was coalesced"
echo "PASS: Linux's virtio_net driver: DHCP, an HTTP fetch from the host, an upload to it in TSO frames (average $up_avg bytes), the fetch in coalesced frames (average $down_avg bytes) and a hostfwd connection over -netdev user ($(grep -a '^QUEUES0=' "$tmp/out"))"
grep -a "eth[01]:" "$tmp/out"

#!/bin/bash
# Debian's kernel drives two e1000 NICs (docs/net.md) with its e1000.ko, each
# on its own -netdev user (libslirp).  Every packet stays on this machine:
#   eth0: -nic user,restrict=off,dns=10.0.2.53          (a) udhcpc gets 10.0.2.15;
#         (b) the guest fetches a random file from a python http.server
#         the test runs on 127.0.0.1 (http://10.0.2.2:PORT/) and prints
#         its md5, compared with the host's; (b') the guest sends 1 MiB of
#         random bytes with nc to a host listener (Linux uses TSO and
#         checksum offload for it), md5s compared
#   eth1: -nic user,net=10.0.3.0/24,restrict=on,ipv6=off,
#              guestfwd=tcp:10.0.3.100:1234-tcp:127.0.0.1:GP,hostfwd=tcp:127.0.0.1:HP-:7777
#         (c) busybox nc listens on 7777 in the guest; the test connects
#         to 127.0.0.1:HP, and each side gets the other's line; (f) the
#         guest's nc to 10.0.3.100:1234 reaches the host's server on GP
#         through the chardev and reads its answer
#   and the checks of net-linux.inc.sh: DNS in DHCP, restrict=on, IPv6
#
# usage: tests/functional/net-linux.sh KVMPC ACCEL
set -uo pipefail
. "$(dirname "$0")/linux-modules.inc.sh" "${1:-}" "${2:-}" e1000

. "$(dirname "$0")/net-linux.inc.sh"
net_services_start

script="$net_guest_script"'
cat /proc/net/dev | grep eth'
append="console=ttyS0 panic=-1 $("$top"/tests/images/busybox-initramfs.sh --cmdline "$script")"
timeout -k 5 600 "$kvmpc" -accel "$accel" -m 256 -nographic -no-reboot \
	-kernel "$kernel" -initrd "$tmp/initrd.gz" -append "$append" \
	-nic user,model=e1000,restrict=off,dns=10.0.2.53 \
	-nic user,model=e1000,net=10.0.3.0/24,restrict=on,ipv6=off,$gf_opt,hostfwd=tcp:127.0.0.1:$fwd_port-:7777 \
	>"$tmp/out" 2>&1 &
vm_pid=$!

eth0_dns=10.0.2.53
net_wait_and_check
echo "PASS: Linux's e1000 driver: DHCP, an HTTP fetch from the host, an upload to it and a hostfwd connection over -nic user"
grep -a "eth[01]:" "$tmp/out"

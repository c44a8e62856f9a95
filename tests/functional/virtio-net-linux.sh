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
#
# PACKED=1 in the environment gives eth0 packed virtqueues (packed=on).
#
# usage: tests/functional/virtio-net-linux.sh KVMPC ACCEL
set -uo pipefail
. "$(dirname "$0")/linux-modules.inc.sh" "${1:-}" "${2:-}" virtio_pci virtio_net

eth0_extra=""
[ "${PACKED:-0}" = 1 ] && eth0_extra=",packed=on"

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
http_port=$(free_port)
fwd_port=$(free_port)
mkdir -p "$tmp/www"
head -c $((1 << 20)) /dev/urandom > "$tmp/www/blob"
blob_md5=$(md5sum < "$tmp/www/blob" | cut -c1-32)
python3 -m http.server "$http_port" --bind 127.0.0.1 --directory "$tmp/www" \
	>"$tmp/http.log" 2>&1 &
http_pid=$!
up_port=$(free_port)
python3 - "$up_port" "$tmp/up.md5" <<'EOF2' &
import hashlib, socket, sys
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1])))
ls.listen(1)
ls.settimeout(300)
c, _ = ls.accept()
c.settimeout(120)
h, n = hashlib.md5(), 0
while n < 1 << 20:
    d = c.recv(65536)
    if not d:
        break
    h.update(d)
    n += len(d)
c.close()
open(sys.argv[2], "w").write(h.hexdigest() if n == 1 << 20 else "short %d" % n)
EOF2
up_pid=$!
trap 'kill $http_pid $up_pid 2>/dev/null; kill $vm_pid 2>/dev/null; rm -rf "$tmp"' EXIT

script='for m in $(cat /lib/modules/load.order); do insmod /lib/modules/$m || echo "INSMOD-FAILED $m"; done
printf "#!/bin/sh\n[ \"\$1\" = bound ] && ifconfig \$interface \$ip netmask \$subnet up && { [ -n \"\$router\" ] && [ \$interface = eth0 ] && route add default gw \$router; }; echo DHCP-\$interface-\$1 \$ip\n" > /tmp/dh; chmod +x /tmp/dh
ifconfig lo 127.0.0.1 up
ifconfig eth0 up; ifconfig eth1 up
i=0; while ! grep -q 1 /sys/class/net/eth1/carrier; do i=$((i+1)); [ $i -gt 100 ] && break; sleep 0.1; done
timeout 60 udhcpc -i eth0 -s /tmp/dh -n -q -t 20 -T 1
timeout 60 udhcpc -i eth1 -s /tmp/dh -n -q -t 20 -T 1
echo "IP0=$(ip -4 -o addr show eth0 | awk "{print \$4}")"
echo "MD5=$(timeout 120 wget -q -O - http://10.0.2.2:'"$http_port"'/blob | md5sum | cut -c1-32)"
head -c 1048576 /dev/urandom > /tmp/up
echo "UPMD5=$(md5sum < /tmp/up | cut -c1-32)"
timeout 120 nc 10.0.2.2 '"$up_port"' < /tmp/up
(echo GUEST-HELLO; sleep 20) | nc -l -p 7777 > /tmp/in &
sleep 1
echo LISTENING
i=0; while ! grep -q HOST /tmp/in; do i=$((i+1)); [ $i -gt 600 ] && break; sleep 0.1; done
echo "GOT=$(cat /tmp/in)"
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
	-netdev user,id=u1,net=10.0.3.0/24,restrict=on,hostfwd=tcp:127.0.0.1:$fwd_port-:7777 \
	-device virtio-net-pci,netdev=u1,disable-modern=on,mrg_rxbuf=off \
	>"$tmp/out" 2>&1 &
vm_pid=$!

# (c) the host side of the forwarded connection
for i in $(seq 600); do
	grep -q "^LISTENING" "$tmp/out" && break
	kill -0 $vm_pid 2>/dev/null || break
	sleep 0.5
done
grep -q "^LISTENING" "$tmp/out" || { wait $vm_pid; fail "the guest never listened"; }
host_got=$(python3 - "$fwd_port" <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
s.sendall(b"HOST-HELLO\n")
buf = b""
end = time.time() + 30
while b"\n" not in buf and time.time() < end:
    d = s.recv(100)
    if not d:
        break
    buf += d
print(buf.decode(errors="replace").strip())
EOF
)
wait $vm_pid
rc=$?
[ $rc -eq 124 ] && fail "timed out"
grep -q "KVMPC-TEST-EXIT: 0" "$tmp/out" || fail "the guest script did not complete (exit status $rc)"
grep -q "INSMOD-FAILED" "$tmp/out" && fail "a module did not load"
grep -q "DHCP-eth0-bound 10.0.2.15" "$tmp/out" || fail "(a) no DHCP lease 10.0.2.15 on eth0"
grep -q "DHCP-eth1-bound 10.0.3.15" "$tmp/out" || fail "(a) no DHCP lease 10.0.3.15 on eth1"
grep -q "^MD5=$blob_md5" "$tmp/out" ||
	fail "(b) the guest fetched $(grep -a '^MD5=' "$tmp/out"), expected $blob_md5"
wait $up_pid
up_md5=$(grep -a '^UPMD5=' "$tmp/out" | cut -c7-38)
[ -n "$up_md5" ] && [ "$(cat "$tmp/up.md5" 2>/dev/null)" = "$up_md5" ] ||
	fail "(b') the host received $(cat "$tmp/up.md5" 2>/dev/null), the guest sent $up_md5"
[ "$host_got" = "GUEST-HELLO" ] || fail "(c) the host read '$host_got' through hostfwd"
grep -q "^GOT=HOST-HELLO" "$tmp/out" || fail "(c) the guest read $(grep -a '^GOT=' "$tmp/out")"
grep -q "^MAC0=52:54:00:12:34:70" "$tmp/out" || fail "(d) eth0 has $(grep -a '^MAC0=' "$tmp/out")"
grep -q "^QUEUES0=2" "$tmp/out" || fail "(d) eth0 has $(grep -a '^QUEUES0=' "$tmp/out") receive queues"
if [ "${PACKED:-0}" = 1 ]; then
	# bit 34 of the negotiated features: RING_PACKED
	grep -aq "^FEATURES0=.\{34\}1" "$tmp/out" || fail "(d) eth0 did not use packed rings: $(grep -a '^FEATURES0=' "$tmp/out")"
fi
grep -q "^DRIVER0=virtio_net" "$tmp/out" || fail "(d) eth0 is driven by $(grep -a '^DRIVER0=' "$tmp/out")"
echo "PASS: Linux's virtio_net driver: DHCP, an HTTP fetch from the host, an upload to it and a hostfwd connection over -netdev user ($(grep -a '^QUEUES0=' "$tmp/out"))"
grep -a "eth[01]:" "$tmp/out"

#!/bin/bash
# virtio-net on -netdev tap (vnet_hdr on by default, as QEMU; docs/virtio.md,
# docs/net.md) inside a network namespace the test creates (removed at
# exit): the device and the kernel's tap exchange virtio-net headers, so
# the guest's partial TCP/UDP checksums (CSUM) are finished and its TSO
# frames (HOST_TSO4) segmented by the host kernel, and the kernel hands
# the guest partial-checksum and TSO frames (GUEST_CSUM, GUEST_TSO4: the
# tap's offloads follow them).  The guest (Debian's kernel, virtio_net.ko,
# 10.0.8.2) pings 10.0.8.1, fetches 8 MiB from a python http.server in
# the namespace (md5 compared) and sends 8 MiB to a listener there (md5
# compared); the negotiated feature bits (sysfs) must include CSUM,
# GUEST_CSUM, GUEST_TSO4 and HOST_TSO4, and the tap's counters must show
# frames larger than the MTU both ways (the tap's offloads themselves:
# tests/qtest/virtio-net-test.c, tap-offloads).  The same with an e1000 on
# vnet_hdr=on (the backend strips and adds the header itself): a ping.
# SKIP when namespaces or /dev/net/tun are not available.
#
# usage: tests/functional/virtio-net-tap-linux.sh KVMPC ACCEL
set -uo pipefail
. "$(dirname "$0")/linux-modules.inc.sh" "${1:-}" "${2:-}" virtio_pci virtio_net e1000

. "$(dirname "$0")/tap-netns.inc.sh" kvmpc-vtap

mkdir -p "$tmp/www"
MiB=8
head -c $((MiB << 20)) /dev/urandom > "$tmp/www/blob"
blob_md5=$(md5sum < "$tmp/www/blob" | cut -c1-32)

run_guest() {   # DEVICE-OPTIONS SCRIPT [NETDEV-EXTRA]
	local append
	append="console=ttyS0 panic=-1 $("$top"/tests/images/busybox-initramfs.sh --cmdline "$2")"
	nsbg timeout -k 5 400 "$kvmpc" -accel "$accel" -m 256 -nographic -no-reboot \
		-kernel "$kernel" -initrd "$tmp/initrd.gz" -append "$append" \
		-netdev tap,id=t0,ifname=kvtap0,script=no,downscript=no${3:-} -device "$1" \
		>"$tmp/out" 2>&1
	vm_pid=$!
	tap_up kvtap0 10.0.8.1/24
}

common='for m in $(cat /lib/modules/load.order); do insmod /lib/modules/$m || echo "INSMOD-FAILED $m"; done
ifconfig eth0 10.0.8.2 netmask 255.255.255.0 up
i=0; while ! ping -c 1 -W 1 10.0.8.1 >/dev/null 2>&1; do i=$((i+1)); [ $i -gt 90 ] && break; done
ping -c 3 -W 2 10.0.8.1 >/dev/null 2>&1; echo "PING=$?"'

# 1: virtio-net, headers end to end
script="$common"'
echo "FEATURES0=$(cat /sys/class/net/eth0/device/features)"
echo "MD5=$(timeout 200 wget -q -O - http://10.0.8.1:8080/blob | md5sum | cut -c1-32)"
head -c '$((MiB << 20))' /dev/urandom > /tmp/up
echo "UPMD5=$(md5sum < /tmp/up | cut -c1-32)"
timeout 200 nc 10.0.8.1 8081 < /tmp/up
'
run_guest virtio-net-pci,netdev=t0 "$script"
nsbg python3 -m http.server 8080 --bind 10.0.8.1 --directory "$tmp/www" \
	>"$tmp/http.log" 2>&1
srv_pid=$!
cat > "$tmp/listen.py" <<'EOF2'
import hashlib, socket, sys, time
MiB = int(sys.argv[2])
for _ in range(100):
    try:
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("10.0.8.1", 8081))
        break
    except OSError:
        time.sleep(0.1)
# a small window and a reader slower than the guest: busybox nc writes
# 1 KiB at a time, and only data queued behind a full window leaves the
# guest as TSO frames (with fast ACKs each write goes alone)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
ls.listen(1)
ls.settimeout(300)
c, _ = ls.accept()
c.settimeout(200)
h, n = hashlib.md5(), 0
while n < MiB << 20:
    d = c.recv(4096)
    if not d:
        break
    h.update(d)
    n += len(d)
    time.sleep(0.001)
open(sys.argv[1], "w").write(h.hexdigest() if n == MiB << 20 else "short %d" % n)
# the tap's counters (the fetch is over): a GSO frame counts as one packet.
# /proc/self/net/dev is this process's namespace's view (sysfs would be
# the host's: nsenter does not remount /sys)
st = None
for line in open("/proc/self/net/dev"):
    name, _, rest = line.partition(":")
    if name.strip() == "kvtap0":
        f = [int(x) for x in rest.split()]
        st = {"rx_bytes": f[0], "rx_packets": f[1], "tx_bytes": f[8], "tx_packets": f[9]}
if st is None:
    sys.exit("no kvtap0 in /proc/self/net/dev")
open(sys.argv[1] + ".avg", "w").write("%d %d\n" % (st["rx_bytes"] // max(st["rx_packets"], 1),
                                                 st["tx_bytes"] // max(st["tx_packets"], 1)))
EOF2
nsbg python3 "$tmp/listen.py" "$tmp/up.md5" $MiB
up_pid=$!
guest_wait
grep -q "^PING=0" "$tmp/out" || fail "virtio-net: no ping replies ($(grep -a '^PING=' "$tmp/out"))"
feat=$(grep -a '^FEATURES0=' "$tmp/out" | cut -d= -f2)
for b in 0:CSUM 1:GUEST_CSUM 7:GUEST_TSO4 11:HOST_TSO4; do
	[ "${feat:${b%%:*}:1}" = 1 ] || fail "virtio-net: ${b#*:} not negotiated (features $feat)"
done
grep -q "^MD5=$blob_md5" "$tmp/out" ||
	fail "virtio-net: fetched $(grep -a '^MD5=' "$tmp/out"), expected $blob_md5"
wait $up_pid
up_pid=
up_md5=$(grep -a '^UPMD5=' "$tmp/out" | cut -c7-38)
[ -n "$up_md5" ] && [ "$(cat "$tmp/up.md5" 2>/dev/null)" = "$up_md5" ] ||
	fail "virtio-net: the host received $(cat "$tmp/up.md5" 2>/dev/null), the guest sent $up_md5"
# average frame sizes on the tap above an Ethernet MTU: the guest sent TSO
# frames (rx on the tap) and the kernel handed the guest TSO frames (tx)
read -r avg_rx avg_tx < "$tmp/up.md5.avg" || fail "no tap counters"
[ "$avg_rx" -gt 1514 ] || fail "virtio-net: no TSO frames from the guest (average $avg_rx bytes)"
[ "$avg_tx" -gt 1514 ] || fail "virtio-net: no TSO frames to the guest (average $avg_tx bytes)"
kill $srv_pid 2>/dev/null
srv_pid=
echo "PASS: virtio-net on tap (vnet_hdr by default): CSUM, GUEST_CSUM, GUEST_TSO4, HOST_TSO4 negotiated; ping, $MiB MiB fetched and $MiB MiB sent (md5), average frames on the tap $avg_rx/$avg_tx bytes"

# 2: e1000 on the same kind of tap: the backend handles the header
run_guest e1000,netdev=t0 "$common" ,vnet_hdr=on
guest_wait
grep -q "^PING=0" "$tmp/out" || fail "e1000: no ping replies ($(grep -a '^PING=' "$tmp/out"))"
echo "PASS: e1000 on tap,vnet_hdr=on: ping"

# The host side and the guest script shared by net-linux.sh (e1000) and
# virtio-net-linux.sh: source after linux-modules.inc.sh (needs $tmp, $top,
# fail).
# Every packet stays on this machine (servers on 127.0.0.1).
#
#   net_services_start   ports $http_port $up_port $fwd_port; a random
#                        1 MiB file served over HTTP on 127.0.0.1
#                        ($blob_md5) and a listener that takes a 1 MiB
#                        upload and writes its md5 to $tmp/up.md5
#   $net_guest_script    the guest side: modules, DHCP on eth0 and eth1,
#                        the fetch (MD5=, eth0's rx bytes and packets
#                        before and after: RXB=, RXA=), the upload (UPMD5=,
#                        its tx bytes and packets: TXB=, TXA=),
#                        RFETCH= (the host's server through eth1, restrict=on),
#                        IP6-eth0=, IP6-eth1=, PING6= (fec0::2),
#                        GF= (a line to 10.0.3.100:1234, guestfwd's answer),
#                        nc listening
#                        on 7777 behind hostfwd (LISTENING, GOT=)
#   net_wait_and_check   with the guest started as $vm_pid writing
#                        $tmp/out: the host side of the hostfwd exchange,
#                        then checks (a) DHCP with its DNS server, (b)
#                        fetch, (b') upload, (c) hostfwd in both
#                        directions, (d) restrict=on, (e) IPv6 and (f)
#                        guestfwd to a chardev.
#                        eth1's netdev must be net=10.0.3.0/24,
#                        restrict=on,ipv6=off,$gf_opt; $eth0_dns: eth0's DNS
#                        server if not 10.0.2.3

free_port() {
	python3 "$top/tests/functional/host_peers.py" free-port
}

net_services_start() {
	http_port=$(free_port)
	fwd_port=$(free_port)
	up_port=$(free_port)
	mkdir -p "$tmp/www"
	head -c $((1 << 20)) /dev/urandom > "$tmp/www/blob"
	blob_md5=$(md5sum < "$tmp/www/blob" | cut -c1-32)
	python3 -m http.server "$http_port" --bind 127.0.0.1 --directory "$tmp/www" \
		>"$tmp/http.log" 2>&1 &
	http_pid=$!
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
	# guestfwd's chardev end: kvmpc connects at start (tcp:127.0.0.1:PORT),
	# the guest's line comes through, the answer goes back
	gf_port=$(free_port)
	python3 - "$gf_port" "$tmp/gf.got" <<'EOF3' &
import socket, sys, time
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1])))
ls.listen(1)
open(sys.argv[2] + ".ready", "w").close()
ls.settimeout(300)
c, _ = ls.accept()
c.settimeout(300)
buf = b""
while b"\n" not in buf:
    d = c.recv(100)
    if not d:
        break
    buf += d
line = buf.split(b"\n")[0].decode(errors="replace")
open(sys.argv[2], "w").write(line)
c.sendall(("HOST-GF-" + line + "\n").encode())
time.sleep(60)
EOF3
	gf_pid=$!
	gf_opt="guestfwd=tcp:10.0.3.100:1234-tcp:127.0.0.1:$gf_port"
	for i in $(seq 100); do
		[ -e "$tmp/gf.got.ready" ] && break
		sleep 0.1
	done
	vm_pid=
	trap 'kill $http_pid $up_pid $gf_pid 2>/dev/null; [ -n "$vm_pid" ] && kill $vm_pid 2>/dev/null; rm -rf "$tmp"' EXIT
	net_guest_script='for m in $(cat /lib/modules/load.order); do insmod /lib/modules/$m || echo "INSMOD-FAILED $m"; done
printf "#!/bin/sh\n[ \"\$1\" = bound ] && ifconfig \$interface \$ip netmask \$subnet up && { [ -n \"\$router\" ] && [ \$interface = eth0 ] && route add default gw \$router; }; echo DHCP-\$interface-\$1 \$ip dns=\$dns\n" > /tmp/dh; chmod +x /tmp/dh
ifconfig lo 127.0.0.1 up
ifconfig eth0 up; ifconfig eth1 up
i=0; while ! grep -q 1 /sys/class/net/eth1/carrier; do i=$((i+1)); [ $i -gt 100 ] && break; sleep 0.1; done
timeout 60 udhcpc -i eth0 -s /tmp/dh -n -q -t 20 -T 1
timeout 60 udhcpc -i eth1 -s /tmp/dh -n -q -t 20 -T 1
echo "IP0=$(ip -4 -o addr show eth0 | awk "{print \$4}")"
s=/sys/class/net/eth0/statistics;echo RXB=$(cat $s/rx_bytes $s/rx_packets)
echo "MD5=$(timeout 120 wget -q -O - http://10.0.2.2:'"$http_port"'/blob | md5sum | cut -c1-32)"
echo "RFETCH=$(timeout 5 wget -q -O /dev/null http://10.0.3.2:'"$http_port"'/blob && echo reached || echo blocked)"
i=0; while ! ip -6 -o addr show dev eth0 | grep -q "inet6 fec0:"; do i=$((i+1)); [ $i -gt 100 ] && break; sleep 0.1; done
echo "IP6-eth0=$(ip -6 -o addr show dev eth0 | awk "{print \$4}" | grep -v ^fe80)"
echo "IP6-eth1=$(ip -6 -o addr show dev eth1 | awk "{print \$4}" | grep -v ^fe80)"
echo "PING6=$(ping -6 -c 1 -W 5 fec0::2 >/dev/null 2>&1 && echo ok || echo fail)"
echo RXA=$(cat $s/rx_bytes $s/rx_packets)
head -c 1048576 /dev/urandom > /tmp/up
echo "UPMD5=$(md5sum < /tmp/up | cut -c1-32)"
echo TXB=$(cat $s/tx_bytes $s/tx_packets)
timeout 120 nc 10.0.2.2 '"$up_port"' -e dd if=/tmp/up bs=64k
echo TXA=$(cat $s/tx_bytes $s/tx_packets)
(echo GUEST-HELLO; sleep 20) | nc -l -p 7777 > /tmp/in &
sleep 1
echo "GF=$( (echo GUEST-GF; sleep 3) | timeout 20 nc 10.0.3.100 1234)"
echo LISTENING
i=0; while ! grep -q HOST /tmp/in; do i=$((i+1)); [ $i -gt 600 ] && break; sleep 0.1; done
echo "GOT=$(cat /tmp/in)"'
}

net_wait_and_check() {
	local i rc host_got up_md5
	# (c) the host side of the forwarded connection
	for i in $(seq 600); do
		grep -q "^LISTENING" "$tmp/out" && break
		kill -0 $vm_pid 2>/dev/null || break
		sleep 0.5
	done
	grep -q "^LISTENING" "$tmp/out" || { wait $vm_pid; fail "the guest never listened"; }
	host_got=$(python3 "$top/tests/functional/host_peers.py" hostfwd-hello "$fwd_port")
	guest_wait
	grep -q "DHCP-eth0-bound 10.0.2.15 dns=${eth0_dns:-10.0.2.3}\s*$" "$tmp/out" ||
		fail "(a) no DHCP lease 10.0.2.15 with DNS server ${eth0_dns:-10.0.2.3} on eth0: $(grep -a DHCP-eth0 "$tmp/out")"
	# restrict=on: libslirp's DHCP offers no router and no DNS server
	grep -q "DHCP-eth1-bound 10.0.3.15 dns=\s*$" "$tmp/out" ||
		fail "(a) no DHCP lease 10.0.3.15 without a DNS server on eth1: $(grep -a DHCP-eth1 "$tmp/out")"
	# (d) restrict=on: the guest on eth1 cannot reach the host's server
	grep -q "^RFETCH=blocked" "$tmp/out" || fail "(d) restrict=on let the guest reach the host: $(grep -a '^RFETCH=' "$tmp/out")"
	[ "$(grep -c 'GET /blob' "$tmp/http.log")" = 1 ] ||
		fail "(d) the host's HTTP server saw $(grep -c 'GET /blob' "$tmp/http.log") requests, expected 1 (eth0's)"
	# (f) guestfwd with a chardev (tcp: to a host server), through the
	# restricted NIC: the guest's line reaches the host, the answer comes back
	[ "$(cat "$tmp/gf.got" 2>/dev/null)" = GUEST-GF ] || fail "(f) the guestfwd chardev got '$(cat "$tmp/gf.got" 2>/dev/null)'"
	grep -q "^GF=HOST-GF-GUEST-GF" "$tmp/out" || fail "(f) the guest read $(grep -a '^GF=' "$tmp/out") through guestfwd"
	# (e) IPv6: slirp's router advertisement gives eth0 a fec0::/64 address
	# (ipv6= defaults to on) and answers ping to fec0::2; eth1 has ipv6=off
	grep -Eq "^IP6-eth0=fec0::[0-9a-f:]+/64" "$tmp/out" || fail "(e) no SLAAC address in fec0::/64 on eth0: $(grep -a '^IP6-eth0=' "$tmp/out")"
	grep -Eq "^IP6-eth1=\s*$" "$tmp/out" || fail "(e) ipv6=off, yet eth1 has $(grep -a '^IP6-eth1=' "$tmp/out")"
	grep -q "^PING6=ok" "$tmp/out" || fail "(e) no answer to ping fec0::2"
	grep -q "^MD5=$blob_md5" "$tmp/out" ||
		fail "(b) the guest fetched $(grep -a '^MD5=' "$tmp/out"), expected $blob_md5"
	wait $up_pid
	up_md5=$(grep -a '^UPMD5=' "$tmp/out" | cut -c7-38)
	[ -n "$up_md5" ] && [ "$(cat "$tmp/up.md5" 2>/dev/null)" = "$up_md5" ] ||
		fail "(b') the host received $(cat "$tmp/up.md5" 2>/dev/null), the guest sent $up_md5"
	[ "$host_got" = "GUEST-HELLO" ] || fail "(c) the host read '$host_got' through hostfwd"
	grep -q "^GOT=HOST-HELLO" "$tmp/out" || fail "(c) the guest read $(grep -a '^GOT=' "$tmp/out")"
}

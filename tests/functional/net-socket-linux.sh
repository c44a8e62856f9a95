#!/bin/bash
# Two kvmpc guests (Debian's kernel, e1000.ko) on one virtual wire made of
# -netdev socket: A listens on 127.0.0.1:P, B connects (docs/net.md).
# Static addresses 10.0.9.1 and 10.0.9.2; each pings the other and the
# test checks that both got replies.
#
# usage: tests/functional/net-socket-linux.sh KVMPC ACCEL
set -uo pipefail
. "$(dirname "$0")/linux-modules.inc.sh" "${1:-}" "${2:-}" e1000

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done; rm -rf "$tmp"' EXIT

guest_script() {    # own address, peer's address
	cat <<EOF
for m in \$(cat /lib/modules/load.order); do insmod /lib/modules/\$m || echo "INSMOD-FAILED \$m"; done
ifconfig eth0 $1 netmask 255.255.255.0 up
i=0; while ! ping -c 1 -W 1 $2 >/dev/null 2>&1; do i=\$((i+1)); [ \$i -gt 120 ] && break; done
ping -c 3 -W 2 $2 >/dev/null 2>&1; echo "PING=\$?"
sleep 8
EOF
}

run_guest() {   # name, own, peer, netdev options, mac
	local append
	append="console=ttyS0 panic=-1 $("$top"/tests/images/busybox-initramfs.sh --cmdline "$(guest_script "$2" "$3")")"
	timeout -k 5 400 "$kvmpc" -accel "$accel" -m 256 -nographic -no-reboot \
		-kernel "$kernel" -initrd "$tmp/initrd.gz" -append "$append" \
		-netdev socket,id=n0,"$4" -device e1000,netdev=n0,mac="$5" >"$tmp/$1.out" 2>&1 &
	pids="$pids $!"
}

run_guest a 10.0.9.1 10.0.9.2 "listen=127.0.0.1:$port" 52:54:00:00:09:01
pid_a=${pids##* }
# until A listens (state 0A in /proc/net/tcp; no probe connection: A
# takes one peer at a time)
hexport=$(printf '%04X' "$port")
for i in $(seq 100); do
	grep -q ":$hexport 00000000:0000 0A" /proc/net/tcp && break
	sleep 0.1
done
run_guest b 10.0.9.2 10.0.9.1 "connect=127.0.0.1:$port" 52:54:00:00:09:02
pid_b=${pids##* }
wait $pid_a; rc_a=$?
wait $pid_b; rc_b=$?
for g in a b; do
	cp "$tmp/$g.out" "$tmp/out"
	grep -q "KVMPC-TEST-EXIT: 0" "$tmp/out" || fail "guest $g did not complete (exit status $rc_a/$rc_b)"
	grep -q "INSMOD-FAILED" "$tmp/out" && fail "guest $g: a module did not load"
	grep -q "^PING=0" "$tmp/out" || fail "guest $g: no ping replies ($(grep -a '^PING=' "$tmp/out"))"
done
echo "PASS: two guests pinged each other over -netdev socket listen=/connect="

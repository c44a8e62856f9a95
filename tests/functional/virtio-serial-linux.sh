#!/bin/bash
# Debian's kernel drives virtio-serial-pci (docs/virtio.md) with its own
# virtio_console driver, the host playing the far end of two unix socket
# chardevs (tests/functional/vser_peer.py):
#  - a virtserialport named org.kvmpc.test: the guest finds its
#    /dev/vportNpM through /sys/class/virtio-ports/*/name, writes a line
#    that the host reads from the socket, and reads the host's answer;
#  - a guest agent's channel exactly as libvirt and users write it,
#    `-device virtserialport,chardev=ga,name=org.qemu.guest_agent.0` (no
#    bus=: the port goes on the one virtio-serial bus): the guest makes the
#    /dev/virtio-ports/NAME links udev makes, an agent-style reader opens
#    /dev/virtio-ports/org.qemu.guest_agent.0 and answers the host's
#    {"execute":"guest-sync","arguments":{"id":N}} with {"return": N},
#    the host resending it every second until the answer comes (as
#    libvirt does);
#  - a virtconsole (hvc0, console=hvc0): the guest starts a shell on
#    /dev/hvc0, the host types a command into the socket and reads the
#    shell's answer, then makes the shell exit.
#
# VIRTIO_PROPS in the environment: more virtio-serial-pci properties
# (e.g. ",disable-modern=on" for the legacy interface).
#
# usage: tests/functional/virtio-serial-linux.sh KVMPC ACCEL
set -uo pipefail
. "$(dirname "$0")/linux-modules.inc.sh" "${1:-}" "${2:-}" virtio_pci virtio_console

script='for m in $(cat /lib/modules/load.order); do insmod /lib/modules/$m || echo "INSMOD-FAILED $m"; done
dev=; i=0
while [ -z "$dev" ] && [ $i -lt 600 ]; do
	for p in /sys/class/virtio-ports/*; do
		[ "$(cat $p/name 2>/dev/null)" = org.kvmpc.test ] && dev=/dev/${p##*/}
	done
	i=$((i+1)); sleep 0.1
done
echo "PORT=$dev"
mkdir -p /dev/virtio-ports
ga=/dev/virtio-ports/org.qemu.guest_agent.0
i=0; while [ ! -c "$ga" ] && [ $i -lt 100 ]; do
	for p in /sys/class/virtio-ports/*; do
		n=$(cat $p/name 2>/dev/null); [ -n "$n" ] && ln -sf ../${p##*/} /dev/virtio-ports/$n
	done
	i=$((i+1)); sleep 0.1
done
echo "GA=$(readlink $ga)"
exec 4<>"$ga"
read -r req <&4
id=$(echo "$req" | sed -n "s/.*\"id\": *\([0-9]*\).*/\1/p")
echo "{\"return\": $id}" >&4
echo "GA-REQ=$req"
exec 4<&-
i=0; while [ ! -c "$dev" ] && [ $i -lt 100 ]; do i=$((i+1)); sleep 0.1; done
exec 3<>"$dev"
echo "guest-says-$((6*7))" >&3
read -r line <&3
echo "GOT=$line"
exec 3<&-
i=0; while [ ! -c /dev/hvc0 ] && [ $i -lt 100 ]; do i=$((i+1)); sleep 0.1; done
echo "HVC0=$(cat /sys/class/tty/hvc0/dev 2>/dev/null)"
sh -i </dev/hvc0 >/dev/hvc0 2>&1
echo "HVC-SHELL-EXIT=$?"'
append="console=ttyS0 console=hvc0 panic=-1 $("$top"/tests/images/busybox-initramfs.sh --cmdline "$script")"

python3 "$top/tests/functional/vser_peer.py" "$tmp/port.sock" "$tmp/hvc.sock" "$tmp/ga.sock" \
	>"$tmp/peer" 2>&1 &
peer=$!
timeout -k 5 ${VT_TIMEOUT:-600} "$kvmpc" -accel "$accel" -m 256 -nographic -no-reboot \
	-kernel "$kernel" -initrd "$tmp/initrd.gz" -append "$append" \
	-chardev socket,id=vp,path="$tmp/port.sock",server=on,wait=off \
	-chardev socket,id=hvc,path="$tmp/hvc.sock",server=on,wait=off \
	-chardev socket,id=ga,path="$tmp/ga.sock",server=on,wait=off \
	-device virtio-serial-pci,id=vs0${VIRTIO_PROPS:-} \
	-device virtserialport,bus=vs0.0,chardev=vp,name=org.kvmpc.test \
	-device virtconsole,bus=vs0.0,chardev=hvc \
	-device virtserialport,chardev=ga,name=org.qemu.guest_agent.0 \
	>"$tmp/out" 2>&1
rc=$?
kill $peer 2>/dev/null; wait $peer 2>/dev/null
echo "--- host peer ---"; cat "$tmp/peer"
[ $rc -eq 124 ] && fail "timed out"
grep -q "KVMPC-TEST-EXIT: 0" "$tmp/out" || fail "the guest script did not complete (exit status $rc)"
grep -q "INSMOD-FAILED" "$tmp/out" && fail "a module did not load"
grep -Eq "^PORT=/dev/vport[0-9]+p1" "$tmp/out" || fail "no port named org.kvmpc.test: $(grep -a '^PORT=' "$tmp/out")"
grep -q "^PEER-GOT=guest-says-42" "$tmp/peer" || fail "the host did not read the guest's line"
grep -q "^GOT=host-says-hello" "$tmp/out" || fail "the guest did not read the host's line: $(grep -a '^GOT=' "$tmp/out")"
grep -Eq "^GA=\.\./vport[0-9]+p[0-9]+\s*$" "$tmp/out" || fail "no /dev/virtio-ports/org.qemu.guest_agent.0: $(grep -a '^GA=' "$tmp/out")"
grep -q '^GA-REQ={"execute": *"guest-sync", *"arguments": *{"id": *4242}}' "$tmp/out" || fail "the guest's agent did not read guest-sync: $(grep -a '^GA-REQ=' "$tmp/out")"
grep -q "^PEER-GA=4242" "$tmp/peer" || fail "the host got no guest-sync answer"
grep -q "^PEER-HVC=HVC-42" "$tmp/peer" || fail "no shell answer on hvc0"
grep -q "^HVC-SHELL-EXIT=0" "$tmp/out" || fail "the hvc0 shell did not exit cleanly"
echo "PASS: Linux's virtio_console: a named virtserialport both ways, a guest agent's channel (org.qemu.guest_agent.0, no bus=) answers guest-sync, a shell on hvc0"

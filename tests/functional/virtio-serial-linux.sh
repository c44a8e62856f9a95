#!/bin/bash
# Debian's kernel drives virtio-serial-pci (docs/virtio.md) with its own
# virtio_console driver, the host playing the far end of two unix socket
# chardevs (tests/functional/vser_peer.py):
#  - a virtserialport named org.kvmpc.test: the guest finds its
#    /dev/vportNpM through /sys/class/virtio-ports/*/name, writes a line
#    that the host reads from the socket, and reads the host's answer;
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

python3 "$top/tests/functional/vser_peer.py" "$tmp/port.sock" "$tmp/hvc.sock" \
	>"$tmp/peer" 2>&1 &
peer=$!
timeout -k 5 ${VT_TIMEOUT:-600} "$kvmpc" -accel "$accel" -m 256 -nographic -no-reboot \
	-kernel "$kernel" -initrd "$tmp/initrd.gz" -append "$append" \
	-chardev socket,id=vp,path="$tmp/port.sock",server=on,wait=off \
	-chardev socket,id=hvc,path="$tmp/hvc.sock",server=on,wait=off \
	-device virtio-serial-pci,id=vs0${VIRTIO_PROPS:-} \
	-device virtserialport,bus=vs0.0,chardev=vp,name=org.kvmpc.test \
	-device virtconsole,bus=vs0.0,chardev=hvc \
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
grep -q "^PEER-HVC=HVC-42" "$tmp/peer" || fail "no shell answer on hvc0"
grep -q "^HVC-SHELL-EXIT=0" "$tmp/out" || fail "the hvc0 shell did not exit cleanly"
echo "PASS: Linux's virtio_console: a named virtserialport both ways, a shell on hvc0"

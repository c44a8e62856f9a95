#!/bin/bash
# Debian's kernel with virtio_balloon on a 512 MiB guest (docs/virtio.md):
# QMP balloon 256 MiB -> query-balloon's actual reaches 256 MiB with a
# BALLOON_CHANGE event, HMP info balloon says so, and the guest's MemTotal
# drops by about 256 MiB; balloon 512 MiB -> actual and MemTotal come
# back; qom-get guest-stats has the guest's statistics.
# tests/functional/vballoon_host.py drives QMP and reads the serial.
#
# usage: tests/functional/virtio-balloon-linux.sh KVMPC ACCEL
set -uo pipefail
. "$(dirname "$0")/linux-modules.inc.sh" "${1:-}" "${2:-}" virtio_pci virtio_balloon

script='for m in $(cat /lib/modules/load.order); do insmod /lib/modules/$m || echo "INSMOD-FAILED $m"; done
i=0; while ! ls /sys/bus/virtio/drivers/virtio_balloon/ | grep -q virtio && [ $i -lt 600 ]; do i=$((i+1)); sleep 0.1; done
mem() { awk "/^MemTotal:/ { print \$2 }" /proc/meminfo; }
m0=$(mem)
echo "MEM0=$m0"
echo "BALLOON-READY"
i=0; while [ $(mem) -gt $((m0 - 250 * 1024)) ] && [ $i -lt 3000 ]; do i=$((i+1)); sleep 0.1; done
echo "MEM1=$(mem)"
i=0; while [ $(mem) -lt $((m0 - 8 * 1024)) ] && [ $i -lt 3000 ]; do i=$((i+1)); sleep 0.1; done
echo "MEM2=$(mem)"'
append="console=ttyS0 panic=-1 $("$top"/tests/images/busybox-initramfs.sh --cmdline "$script")"

python3 "$top/tests/functional/vballoon_host.py" "$tmp" timeout -k 5 ${VT_TIMEOUT:-600} \
	"$kvmpc" -accel "$accel" -m 512 -display none -no-reboot -no-shutdown -serial file:"$tmp/out" \
	-kernel "$kernel" -initrd "$tmp/initrd.gz" -append "$append" \
	-qmp unix:"$tmp/qmp.sock",server=on,wait=off \
	-device virtio-balloon-pci,id=balloon0,guest-stats-polling-interval=1
rc=$?
[ $rc -eq 0 ] || fail "see above"
grep -q "KVMPC-TEST-EXIT: 0" "$tmp/out" || fail "the guest script did not complete"
grep -q "INSMOD-FAILED" "$tmp/out" && fail "a module did not load"
m0=$(grep -a '^MEM0=' "$tmp/out" | sed 's/^MEM0=//' | tr -dc 0-9)
m1=$(grep -a '^MEM1=' "$tmp/out" | sed 's/^MEM1=//' | tr -dc 0-9)
m2=$(grep -a '^MEM2=' "$tmp/out" | sed 's/^MEM2=//' | tr -dc 0-9)
[ -n "$m0" ] && [ -n "$m1" ] && [ -n "$m2" ] || fail "MemTotal lines missing"
drop=$(( (m0 - m1) / 1024 ))
[ $drop -ge 250 ] && [ $drop -le 260 ] || fail "MemTotal dropped by $drop MiB, expected 256 ($m0 -> $m1 KiB)"
[ $(( (m0 - m2) / 1024 )) -le 1 ] || fail "MemTotal did not come back ($m0 -> $m2 KiB)"
echo "PASS: Linux's virtio_balloon: 512 MiB -> 256 MiB (MemTotal -$drop MiB) -> 512 MiB"

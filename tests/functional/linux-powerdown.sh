#!/bin/bash
# QMP system_powerdown shuts a Linux guest down cleanly: the PIIX4 PM
# function's power button (PWRBTN_STS, SCI) reaches Linux's ACPI button
# driver, busybox acpid runs the power-button action (poweroff), and the
# guest powers off through ACPI S5: "reboot: Power down", kvmpc exits 0.
#
# usage: tests/functional/linux-powerdown.sh KVMPC ACCEL
set -uo pipefail
. "$(dirname "$0")/linux-modules.inc.sh" "${1:-}" "${2:-}" button evdev

script='for m in $(cat /lib/modules/load.order); do insmod /lib/modules/$m || echo "INSMOD-FAILED $m"; done
mkdir -p /etc/acpi/PWRF
printf "#!/bin/sh\necho ACPID-POWER-BUTTON >/dev/console\npoweroff -f\n" > /etc/acpi/PWRF/00000080
chmod +x /etc/acpi/PWRF/00000080
i=0; while ! ls /dev/input/event* >/dev/null 2>&1; do i=$((i+1)); [ $i -gt 100 ] && break; sleep 0.1; done
acpid -d -c /etc/acpi > /tmp/acpid.log 2>&1 &
ap=$!; i=0; while ! ls -l /proc/$ap/fd 2>/dev/null | grep -q input/event; do i=$((i+1)); [ $i -gt 100 ] && break; sleep 0.1; done
echo READY-FOR-POWERDOWN
for i in $(seq 1 60); do sleep 1; done; grep -i acpi /proc/interrupts; ls -l /dev/input; cat /tmp/acpid.log
echo NO-POWERDOWN'
append="console=ttyS0 panic=-1 $("$top"/tests/images/busybox-initramfs.sh --cmdline "$script")"
timeout -k 5 400 "$kvmpc" -accel "$accel" -m 256 -nographic -no-reboot \
	-qmp unix:"$tmp/qmp.sock",server=on,wait=off \
	-kernel "$kernel" -initrd "$tmp/initrd.gz" -append "$append" >"$tmp/out" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
	grep -aq "READY-FOR-POWERDOWN" "$tmp/out" && break
	kill -0 $pid 2>/dev/null || break
	sleep 0.5
done
grep -aq "READY-FOR-POWERDOWN" "$tmp/out" || { kill $pid 2>/dev/null; fail "the guest did not get ready"; }
grep -aq "INSMOD-FAILED" "$tmp/out" && { kill $pid 2>/dev/null; fail "a module did not load"; }
python3 - "$tmp/qmp.sock" "$(dirname "$0")" <<'PY' || { kill $pid 2>/dev/null; fail "QMP system_powerdown failed"; }
import sys
sys.path.insert(0, sys.argv[2])
from qmp_client import QMPClient
q = QMPClient.unix(sys.argv[1])
q.negotiate()
q.cmd('system_powerdown')
q.close()
PY
wait $pid
rc=$?
grep -aq "ACPID-POWER-BUTTON" "$tmp/out" || fail "acpid did not see the power button (exit status $rc)"
grep -aq "reboot: Power down" "$tmp/out" || fail "no ACPI power-off (exit status $rc)"
[ $rc -eq 0 ] || fail "kvmpc exited with status $rc after the power-off (expected 0)"
echo "PASS: system_powerdown: the guest's acpid saw the power button and the guest powered off (exit 0)"

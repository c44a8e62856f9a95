#!/bin/bash
# A guest that triple-faults: with -no-reboot kvmpc exits 0 after one
# attempt; without it, kvmpc resets (reloading the kernel), the guest
# faults again, and kvmpc must stop the reset loop with a register dump and
# exit status 1 instead of spinning.
#
# usage: tests/functional/triple-fault.sh KVMPC ACCEL
set -uo pipefail
kvmpc=${1:?kvmpc} accel=${2:?accel}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gcc -m32 -nostdlib -static -Wl,-N -Wl,--build-id=none -Wl,-Ttext=0x100000 \
	-o "$tmp/tf.elf" "$here/triple-fault.S" 2>/dev/null || { echo "FAIL: cannot build the guest"; exit 1; }
common=(-accel "$accel" -m 64 -nodefaults -display none -serial "file:$tmp/serial")

# In the KVM lab, the lab kernel records where the guest triple-faulted
# (lab_shutdowns.py; bql_fairness.py tells the lab's own faults apart with
# it): here that must be the guest's int3, never an address of the lab's.
py=/usr/bin/python3; [ -x $py ] || py=python3
watch=
if [ "$accel" = kvm ] && [ "${KVMPC_IN_LAB:-0}" = 1 ] && $py "$here/lab_shutdowns.py" arm triple-fault-$$; then
	watch=triple-fault-$$
	trap 'rm -rf "$tmp"; $py "$here/lab_shutdowns.py" close $watch' EXIT
fi
timeout 30 "$kvmpc" "${common[@]}" -no-reboot -kernel "$tmp/tf.elf" 2>"$tmp/err1"
rc=$?
[ $rc -eq 0 ] || { cat "$tmp/err1"; echo "FAIL: with -no-reboot, exit status $rc (expected 0)"; exit 1; }
if [ -n "$watch" ]; then
	sd=$($py "$here/lab_shutdowns.py" show $watch)
	int3=$(nm "$tmp/tf.elf" 2>/dev/null | awk '$3 == "_start" { print $1 }')
	echo "the lab kernel's record: $sd"
	case $sd in
	*LAB-FAULT*) echo "FAIL: the lab kernel's record of the shutdown names the lab's own code: $sd"; exit 1 ;;
	"shutdown exit of vCPU 0 at RIP 0x100"[0-9a-f][0-9a-f][0-9a-f]|"shutdown exit of vCPU 0 at RIP 0x100"[0-9a-f][0-9a-f][0-9a-f]", "*) ;;
	*) echo "FAIL: the lab kernel recorded no shutdown at the guest's code (_start at 0x$int3): '$sd'"; exit 1 ;;
	esac
	$py "$here/lab_shutdowns.py" close $watch
fi
[ "$(grep -c TF "$tmp/serial")" -eq 1 ] || { echo "FAIL: with -no-reboot, the guest ran $(grep -c TF "$tmp/serial") times (expected once)"; exit 1; }

timeout 30 "$kvmpc" "${common[@]}" -kernel "$tmp/tf.elf" 2>"$tmp/err2"
rc=$?
[ $rc -eq 124 ] && { echo "FAIL: reset loop not stopped (timed out)"; exit 1; }
[ $rc -eq 1 ] || { cat "$tmp/err2"; echo "FAIL: reset loop: exit status $rc (expected 1)"; exit 1; }
n=$(grep -c TF "$tmp/serial")
[ "$n" -ge 2 ] || { echo "FAIL: the guest did not run again after the first reset ($n runs)"; exit 1; }
grep -q "triple-faulted" "$tmp/err2" && grep -q "^RIP=" "$tmp/err2" && grep -q "^CR0=" "$tmp/err2" \
	|| { cat "$tmp/err2"; echo "FAIL: no error line with a register dump"; exit 1; }
[ "$(grep -c . "$tmp/err2")" -le 40 ] || { echo "FAIL: error output too long"; exit 1; }
echo "PASS: triple fault: -no-reboot exits 0; a reset loop ($n runs) ends with a register dump and status 1"

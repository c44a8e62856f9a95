#!/bin/bash
# SeaBIOS (Debian's bios-256k.bin) on the pc machine with no disk: kvmpc
# loads it, the firmware reads fw_cfg (e820, CPU count, the ACPI tables
# through the table-loader), shadows itself through the i440FX PAM
# registers, and ends with "No bootable device.".  Its debug log goes to
# port 0x402 (isa-debugcon), which this test reads; with -nographic its
# screen goes to COM1 too (etc/sercon-port), which it also checks.
#
# usage: tests/functional/seabios.sh KVMPC ACCEL [SMP] [MEM_MB]
set -uo pipefail
kvmpc=${1:?kvmpc} accel=${2:?accel} smp=${3:-2} mem=${4:-256}
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; echo "--- debug log:"; cat "$tmp/debug" 2>/dev/null | tail -40; exit 1; }

[ -f /usr/share/seabios/bios-256k.bin ] || { echo "SKIP: Debian's seabios package is not installed"; exit 77; }

uuid=5b1c6a52-0c0f-4d7e-9a3b-6f2e1d4c8a90
"$kvmpc" -accel "$accel" -nographic -m "$mem" -smp "$smp" -no-reboot -uuid "$uuid" \
	-chardev file,id=dbg,path="$tmp/debug" -device isa-debugcon,iobase=0x402,chardev=dbg \
	</dev/null >"$tmp/serial" 2>"$tmp/err" &
pid=$!
# Both logs: the serial console gets the message after the debug port,
# and its last character later still: SeaBIOS's serial console holds one
# character back (to spare cursor moves) until its timer-tick handler
# flushes it, so wait for the full stop too.
for _ in $(seq 1 240); do
	grep -q "No bootable device\." "$tmp/debug" 2>/dev/null &&
		grep -aq "No bootable device\." "$tmp/serial" 2>/dev/null && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.5
done
kill -0 "$pid" 2>/dev/null || { cat "$tmp/err"; fail "kvmpc exited early"; }
kill "$pid"; wait "$pid" 2>/dev/null; pid=

grep -q "^SeaBIOS (version " "$tmp/debug" || fail "no SeaBIOS banner"
grep -q "^Running on QEMU (i440fx)" "$tmp/debug" || fail "SeaBIOS did not recognise the i440FX"
grep -q "^QEMU fw_cfg DMA interface supported" "$tmp/debug" || fail "no fw_cfg DMA"
grep -q "^Found $smp cpu(s) max supported $smp cpu(s)" "$tmp/debug" || fail "expected $smp CPUs"
# fw_cfg's etc/e820: RAM only, what -m says (above 3.5 GiB: 3 GiB below
# the PCI hole, the rest from 4 GiB)
below=$mem above=0
[ "$mem" -ge 3584 ] && below=3072 above=$((mem - 3072))
ram=$(printf "0x%016x" $((below << 20)))
grep -q "^qemu/e820: addr 0x0000000000000000 len $ram \[RAM\]" "$tmp/debug" \
	|| fail "etc/e820 does not say $below MiB of RAM below 4 GiB"
if [ "$above" -gt 0 ]; then
	ram=$(printf "0x%016x" $((above << 20)))
	grep -q "^qemu/e820: addr 0x0000000100000000 len $ram \[RAM\]" "$tmp/debug" \
		|| fail "etc/e820 does not say $above MiB of RAM above 4 GiB"
fi
# the map SeaBIOS hands on: low RAM, its reservations, RAM above 1 MiB
grep -q "^  0: 0000000000000000 - 000000000009fc00 = 1 RAM" "$tmp/debug" || fail "e820: no low RAM"
grep -q "^  [0-9]: 0000000000100000 - [0-9a-f]* = 1 RAM" "$tmp/debug" || fail "e820: no RAM above 1 MiB"
grep -q "^  [0-9]: 00000000fffc0000 - 0000000100000000 = 2 RESERVED" "$tmp/debug" \
	|| fail "e820: the BIOS at the top of 4 GiB is not reserved"
# our ACPI tables, placed and patched by SeaBIOS through etc/table-loader
grep -q "^table(50434146)=0x[0-9a-f]* (via xsdt)" "$tmp/debug" || fail "SeaBIOS found no FADT from the table-loader"
grep -q "^ACPI: parse DSDT at " "$tmp/debug" || fail "SeaBIOS found no DSDT"
grep -q "^No bootable device\." "$tmp/debug" || fail "no 'No bootable device.'"
# kvmpc's SMBIOS type 1 (SMBIOS wire order), which SeaBIOS shows
grep -aq "Machine UUID $uuid" "$tmp/serial" || fail "SeaBIOS does not show -uuid from the SMBIOS tables"
grep -q "Retrying in" "$tmp/debug" && fail "SeaBIOS retries (etc/boot-fail-wait should be -1)"
# -nographic: SeaBIOS's screen on COM1 (etc/sercon-port)
grep -aq "SeaBIOS (version " "$tmp/serial" || fail "no banner on the serial console"
grep -aq "No bootable device\." "$tmp/serial" || fail "no 'No bootable device.' on the serial console"

# -boot reboot-timeout=0: SeaBIOS reboots at once (0xcf9, then a deliberate
# triple fault if it is still running); every reset must bring it back,
# and the resets must not look like a triple-fault loop (kvmpc ends those).
rm -f "$tmp/debug"
"$kvmpc" -accel "$accel" -display none -nodefaults -m "$mem" -smp "$smp" -boot reboot-timeout=0 \
	-chardev file,id=dbg,path="$tmp/debug" -device isa-debugcon,iobase=0x402,chardev=dbg \
	</dev/null >/dev/null 2>"$tmp/err" &
pid=$!
for _ in $(seq 1 240); do
	[ "$(cat "$tmp/debug" 2>/dev/null | grep -c "^SeaBIOS (version")" -ge 8 ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.5
done
kill -0 "$pid" 2>/dev/null || { cat "$tmp/err"; fail "reboots: kvmpc exited"; }
kill "$pid"; wait "$pid" 2>/dev/null; pid=
n=$(grep -c "^SeaBIOS (version" "$tmp/debug")
[ "$n" -ge 8 ] || fail "reboots: SeaBIOS started $n times (expected 8)"
grep -q "Retrying in 0 seconds" "$tmp/debug" || fail "reboots: no 'Retrying in 0 seconds'"
echo "PASS: SeaBIOS on $smp vCPU(s), $mem MiB: banner, e820, ACPI via table-loader, 'No bootable device.' (debug port and serial console); $n boots with reboot-timeout=0"

#!/bin/bash
# Linux on the HPET under tcg (docs/piix.md): with clocksource=hpet the
# kernel finds the ACPI HPET table, drives the 100 MHz counter and switches
# to it, with no ACPI errors or warnings (linux-boot.sh checks those);
# with -machine hpet=off there is no HPET table and no hpet clocksource.
# usage: tests/functional/linux-hpet.sh KVMPC
# Exit 77 (skip) when the guest images are not there.
set -uo pipefail
kvmpc=${1:?kvmpc binary}
top=$(cd "$(dirname "$0")/../.." && pwd)
B=${KVMPC_BUILD:-$top/build}
[ -r "$B/images/linux/vmlinuz" ] && [ -r "$B/images/initramfs.cpio.gz" ] ||
	{ echo "SKIP: guest images missing under $B/images"; exit 77; }
boot=$top/tests/functional/linux-boot.sh

LINUX_BOOT_APPEND="clocksource=hpet" \
LINUX_BOOT_EXPECT='ACPI: HPET id: 0x8086a201 base: 0xfed00000
hpet0: 3 comparators, 64-bit 100\.000000 MHz counter
clocksource: Switched to clocksource hpet
Interrupt link GSIA configured for IRQ 16' \
	"$boot" "$kvmpc" tcg 1 512 || exit 1

LINUX_BOOT_APPEND="clocksource=hpet" \
LINUX_BOOT_REJECT='ACPI: HPET
Switched to clocksource hpet' \
	"$boot" "$kvmpc" tcg 1 512 -machine hpet=off || exit 1
echo "PASS: linux-hpet"

#!/bin/bash
# Linux (tcg-lite, or KVM in the lab) on machine pc's PIIX functions and HPET (docs/piix.md),
# with no ACPI errors or warnings in any run (linux-boot.sh checks those):
#  1. direct boot, clocksource=hpet: the HPET table, the 100 MHz counter,
#     the switch to it, the PCI interrupt links of the DSDT;
#  2. through SeaBIOS (-machine firmware-boot=on): SeaBIOS programs the
#     PIIX4 PM function (PM I/O at 0x600, SMBus at 0x700) and the PIRQs,
#     the FADT's PM timer is where it put them, S5 powers off;
#  3. -machine hpet=off: no HPET table, no hpet clocksource.
# usage: tests/functional/linux-piix.sh KVMPC [ACCEL]   (default tcg; kvm in
# the lab: then the in-kernel PIT is told about LegacyReplacement)
# Exit 77 (skip) when the guest images are not there.
set -uo pipefail
kvmpc=${1:?kvmpc binary} accel=${2:-tcg}
top=$(cd "$(dirname "$0")/../.." && pwd)
B=${KVMPC_BUILD:-$top/build}
[ -r "$B/images/linux/vmlinuz" ] && [ -r "$B/images/initramfs.cpio.gz" ] ||
	{ echo "SKIP: guest images missing under $B/images"; exit 77; }
boot=$top/tests/functional/linux-boot.sh

LINUX_BOOT_APPEND="clocksource=hpet" \
LINUX_BOOT_EXPECT='ACPI: HPET id: 0x8086a201 base: 0xfed00000
hpet0: 3 comparators, 64-bit 100\.000000 MHz counter
clocksource: Switched to clocksource hpet
Interrupt link LNKA configured for IRQ 10
Interrupt link GSIA configured for IRQ 16
00:01\.3: quirk: \[io  0x0600-0x063f\] claimed by PIIX4 ACPI' \
	"$boot" "$kvmpc" "$accel" 1 512 || exit 1

# Through SeaBIOS and kvmpc's linuxboot.bin (pc-bios/optionrom).
fw_expect='SeaBIOS
ACPI: PM-Timer IO Port: 0x608
ACPI: HPET id: 0x8086a201
00:01\.3: quirk: \[io  0x0600-0x063f\] claimed by PIIX4 ACPI
00:01\.3: quirk: \[io  0x0700-0x070f\] claimed by PIIX4 SMB
Interrupt link LNKD configured for IRQ 11'
LINUX_BOOT_EXPECT=$fw_expect "$boot" "$kvmpc" "$accel" 1 512 -machine firmware-boot=on || exit 1

# Under KVM, also through QEMU's own linuxboot.bin (Debian's
# qemu-system-data), chosen with -L: it keeps its GDT inside the shadowed
# option-ROM area, which the PAM makes read-only; the CPU sets the
# descriptor's accessed bit there. With that range as a KVM_MEM_READONLY
# slot the vCPU retried the store for ever (docs/firmware.md).
if [ "$accel" = kvm ]; then
	if [ -r /usr/share/qemu/linuxboot.bin ]; then
		LINUX_BOOT_EXPECT=$fw_expect "$boot" "$kvmpc" "$accel" 1 512 \
			-machine firmware-boot=on -L /usr/share/qemu || exit 1
	else
		echo "SKIP: QEMU's linuxboot.bin case: /usr/share/qemu/linuxboot.bin missing (qemu-system-data)"
	fi
fi

LINUX_BOOT_APPEND="clocksource=hpet" \
LINUX_BOOT_REJECT='ACPI: HPET
Switched to clocksource hpet' \
	"$boot" "$kvmpc" "$accel" 1 512 -machine hpet=off || exit 1
echo "PASS: linux-piix"

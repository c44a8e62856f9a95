#!/bin/bash
# -kernel through SeaBIOS (-machine firmware-boot=on): SeaBIOS runs our
# linuxboot option ROM (pc-bios/optionrom/linuxboot.S), which loads the
# kernel, initrd and command line from fw_cfg and enters the kernel's
# real-mode setup.  The guest must boot as linux-boot.sh checks, see the
# QEMU loader ID (0xb0) in boot_params, and use the ACPI tables SeaBIOS
# placed: the RSDP in the F segment (a direct boot puts it at 0xe0000),
# with kvmpc's OEM ID; and kvmpc's SMBIOS tables (SeaBIOS's own would say
# "Bochs Bochs").
#
# usage: tests/functional/seabios-linux.sh KVMPC ACCEL SMP MEM_MB
set -uo pipefail
kvmpc=${1:?kvmpc} accel=${2:?accel} smp=${3:-1} mem=${4:-512}
here=$(cd "$(dirname "$0")" && pwd)
[ -f /usr/share/seabios/bios-256k.bin ] || { echo "SKIP: Debian's seabios package is not installed"; exit 77; }
LINUX_BOOT_LOADER=b0 \
LINUX_BOOT_EXPECT='ACPI: RSDP 0x00000000000F[0-9A-F]{4} [0-9A-F]+ \(v02 KVMPC \)
ACPI: FACP 0x[0-9A-F]+ [0-9A-F]+ \(v05 KVMPC  KVMPCTBL
DMI: QEMU Standard PC \(i440FX \+ PIIX, 1996\), BIOS 1\.' \
	"$here/linux-boot.sh" "$kvmpc" "$accel" "$smp" "$mem" -machine firmware-boot=on

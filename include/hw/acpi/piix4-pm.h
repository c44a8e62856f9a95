/*
 * The PIIX4 power management function ("PIIX4_PM", 00:01.3 of machine
 * pc).  See hw/acpi/piix4-pm.c.
 */
#ifndef KVMPC_HW_ACPI_PIIX4_PM_H
#define KVMPC_HW_ACPI_PIIX4_PM_H

#define PIIX4_PM_TYPE       "PIIX4_PM"
#define PIIX4_PM_DEVFN      0x0b        /* 01.3 */
#define PIIX4_PMBA          0x40        /* PM I/O base (64 bytes), bit 0 reads 1 */
#define PIIX4_PMREGMISC     0x80        /* bit 0 PMIOSE: decode PMBA */
#define PIIX4_SMBBA         0x90        /* SMBus I/O base (16 bytes), bit 0 reads 1 */
#define PIIX4_SMBHSTCFG     0xd2        /* bit 0 SMB_HST_EN: decode SMBBA */
#define PIIX4_SMB_BASE      0x700       /* where SeaBIOS puts the SMBus (and we without it) */

#endif

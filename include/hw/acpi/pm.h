/*
 * The ACPI fixed-hardware power-management block (PM1 event/control, PM
 * timer) and the reset register, at the ports the FADT describes.
 */
#ifndef KVMPC_HW_ACPI_PM_H
#define KVMPC_HW_ACPI_PM_H

#define ACPI_PM_BASE        0x600
#define ACPI_PM1_EVT_BLK    (ACPI_PM_BASE + 0x00)   /* PM1a_STS (2) + PM1a_EN (2) */
#define ACPI_PM1_CNT_BLK    (ACPI_PM_BASE + 0x04)   /* PM1a_CNT (2) */
#define ACPI_PM_TMR_BLK     (ACPI_PM_BASE + 0x08)   /* 24-bit 3.579545 MHz timer */
#define ACPI_PM_SIZE        0x0c
#define ACPI_PM_IOBASE_NONE 0xffffffffu     /* acpi-pm's iobase: mapped by its owner */
#define ACPI_SCI_IRQ        9
#define ACPI_RESET_PORT     0xcf9
#define ACPI_RESET_VALUE    0x06
/* SLP_TYP values our DSDT's \_S5 package declares. */
#define ACPI_S5_SLP_TYP     0
#define ACPI_PM1_CNT_SCI_EN     (1u << 0)
#define ACPI_PM1_CNT_SLP_EN     (1u << 13)
#define ACPI_PM1_STS_TMR        (1u << 0)
#define ACPI_PM1_STS_PWRBTN     (1u << 8)

#endif

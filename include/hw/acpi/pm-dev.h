/*
 * The ACPI power-management device ("acpi-pm") and the reset control
 * register ("pc-reset-control"); register layout in hw/acpi/pm.h.
 */
#ifndef KVMPC_HW_ACPI_PM_DEV_H
#define KVMPC_HW_ACPI_PM_DEV_H

#include "hw/qdev.h"
#include "hw/memory.h"

/* Power button press (system_powerdown): sets PWRBTN_STS if the guest
 * enabled PWRBTN_EN (as QEMU does), which raises the SCI. */
void acpi_pm_power_button(DeviceState *pm);

/* An acpi-pm created with iobase=ACPI_PM_IOBASE_NONE: maps its blocks at
 * base in io (as at iobase), or unmaps them with base -1. */
void acpi_pm_map(DeviceState *pm, MemoryRegion *io, int base);

#endif

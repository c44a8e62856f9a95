/*
 * The ACPI power-management device ("acpi-pm") and the reset control
 * register ("pc-reset-control"); register layout in hw/acpi/pm.h.
 */
#ifndef KVMPC_HW_ACPI_PM_DEV_H
#define KVMPC_HW_ACPI_PM_DEV_H

#include "hw/qdev.h"

/* Power button press (system_powerdown): sets PWRBTN_STS if the guest
 * enabled PWRBTN_EN (as QEMU does), which raises the SCI. */
void acpi_pm_power_button(DeviceState *pm);

#endif

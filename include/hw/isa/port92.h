/*
 * System Control Port A ("port92"): fast reset and the A20 gate.
 */
#ifndef KVMPC_HW_ISA_PORT92_H
#define KVMPC_HW_ISA_PORT92_H

#include <stdbool.h>
#include "hw/qdev.h"

/* GPIO output driven with bit 1 (the machine wires it to x86_a20_input(0)). */
#define PORT92_A20_LINE "a20"

/* Bit 1 of port 0x92 as the guest last wrote it. */
bool port92_a20_enabled(DeviceState *dev);

#endif

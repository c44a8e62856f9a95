/*
 * The ISA bus: devices claim I/O ports in the I/O address space and raise
 * ISA IRQs 0-15 (routed by the machine to the interrupt controller).
 */
#ifndef KVMPC_HW_ISA_H
#define KVMPC_HW_ISA_H

#include "hw/qdev.h"
#include "hw/memory.h"

typedef struct ISABus {
    BusState *bus;
    MemoryRegion *io;           /* I/O space container */
    MemoryRegion *mem;          /* memory space container (ISA memory) */
    qemu_irq irqs[16];
} ISABus;

/* The machine's ISA bus (one per machine). */
ISABus *isa_bus_new(DeviceState *bridge, MemoryRegion *io, MemoryRegion *mem);
ISABus *isa_bus_get(void);
qemu_irq isa_get_irq(int isairq);
/* isa_get_irq, recorded as the device's claim (DEV_RES_IRQ_* flags:
 * 0 for the ISA default, edge triggered and active high). */
qemu_irq isa_claim_irq(DeviceState *dev, int isairq, unsigned flags);
/* Map a device's PIO region at port (recorded as the device's claim). */
void isa_register_ioport(DeviceState *dev, MemoryRegion *mr, uint16_t port);

#endif

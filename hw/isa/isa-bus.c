/* The ISA bus: I/O port mapping and ISA IRQ lookup for ISA devices. */
#include "hw/isa/isa.h"

static ISABus *the_isa_bus;

ISABus *isa_bus_new(DeviceState *bridge, MemoryRegion *io, MemoryRegion *mem)
{
    ISABus *b = g_new0(ISABus, 1);

    b->bus = qbus_new("ISA", bridge, "isa.0");
    b->io = io;
    b->mem = mem;
    the_isa_bus = b;
    return b;
}

ISABus *isa_bus_get(void)
{
    return the_isa_bus;
}

qemu_irq isa_get_irq(int isairq)
{
    if (!the_isa_bus || isairq < 0 || isairq > 15) {
        return NULL;
    }
    return the_isa_bus->irqs[isairq];
}

qemu_irq isa_claim_irq(DeviceState *dev, int isairq, unsigned flags)
{
    qemu_irq irq = isa_get_irq(isairq);

    if (irq && dev) {
        qdev_claim(dev, DEV_RES_IRQ, isairq, 1, flags);
    }
    return irq;
}

void isa_register_ioport(DeviceState *dev, MemoryRegion *mr, uint16_t port)
{
    if (dev) {
        qdev_claim(dev, DEV_RES_IO, port, memory_region_size(mr), 0);
    }
    memory_region_add_subregion(the_isa_bus ? the_isa_bus->io : get_system_io(), port, mr);
}

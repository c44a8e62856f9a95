/*
 * System Control Port A ("port92").
 *
 * "PORT 0092 - PS/2 system control port A":
 *   bit 0  alternate hot reset: writing 1 (from 0) resets the system
 *   bit 1  alternate gate A20 (1 = A20 enabled)
 *   bits 7-2 other PS/2 functions; stored and read back
 *
 * The fast reset bit reads back as written until the reset happens (the
 * machine's reset clears it through our reset handler).  Bit 1 drives the
 * GPIO output "a20" on every write and at reset (which keeps it, as QEMU).
 */
#include <glib.h>

#include "hw/qdev.h"
#include "qemu/log.h"
#include "hw/isa/isa.h"
#include "hw/memory.h"
#include "hw/vmstate.h"
#include "hw/isa/port92.h"
#include "system/runstate.h"

#define PORT92_PORT             0x92
#define PORT92_FAST_RESET       0x01
#define PORT92_A20              0x02

typedef struct Port92State {
    DeviceState parent;

    MemoryRegion io;
    qemu_irq a20_out;           /* GPIO output "a20": the machine's A20 input */
    uint8_t outport;
} Port92State;

static void port92_update_a20(Port92State *s)
{
    qemu_set_irq(s->a20_out, !!(s->outport & PORT92_A20));
}

static uint64_t port92_read(void *opaque, uint64_t addr, unsigned size)
{
    Port92State *s = opaque;

    return s->outport;
}

static void port92_write(void *opaque, uint64_t addr, uint64_t data, unsigned size)
{
    Port92State *s = opaque;
    uint8_t old = s->outport;

    s->outport = data & ~PORT92_FAST_RESET;
    if ((data & PORT92_FAST_RESET) && !(old & PORT92_FAST_RESET)) {
        s->outport |= PORT92_FAST_RESET;
        qemu_log_mask(CPU_LOG_RESET, "port92: fast reset (0x%02x)\n", (unsigned)data);
        qemu_system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
    }
    port92_update_a20(s);
}

static const MemoryRegionOps port92_ops = {
    .read = port92_read,
    .write = port92_write,
    .valid = { .min_access_size = 1, .max_access_size = 1 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

bool port92_a20_enabled(DeviceState *dev)
{
    return ((Port92State *)dev)->outport & PORT92_A20;
}

static void port92_reset(DeviceState *dev)
{
    Port92State *s = (Port92State *)dev;

    s->outport &= ~PORT92_FAST_RESET;
    port92_update_a20(s);
}

static void port92_realize(DeviceState *dev, Error **errp)
{
    Port92State *s = (Port92State *)dev;

    qdev_init_gpio_out_named(dev, &s->a20_out, PORT92_A20_LINE, 1);
    memory_region_init_io(&s->io, &port92_ops, s, "port92", 1);
    isa_register_ioport(dev, &s->io, PORT92_PORT);
}

static void port92_unrealize(DeviceState *dev)
{
    Port92State *s = (Port92State *)dev;

    memory_region_destroy(&s->io);
}

static int port92_post_load(void *opaque, int version_id)
{
    port92_update_a20(opaque);
    return 0;
}

static const VMStateField port92_fields[] = {
    VMSTATE_UINT8(outport, Port92State),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_port92 = {
    .name = "port92",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = port92_post_load,
    .fields = port92_fields,
};

static const DeviceClass port92_class = {
    .name = "port92",
    .desc = "System Control Port A (fast reset, A20)",
    .bus_type = "ISA",
    .category = DEVICE_CATEGORY_MISC,
    .user_creatable = false,
    .instance_size = sizeof(Port92State),
    .vmsd = &vmstate_port92,
    .realize = port92_realize,
    .unrealize = port92_unrealize,
    .reset = port92_reset,
};

DEVICE_CLASS_REGISTER(port92_class)

/*
 * POST code port ("ioport80").
 *
 * "PORT 0080 - Manufacturing Diagnostics port": firmware writes its
 * power-on self-test progress codes here and Linux uses it as an I/O delay.
 * Writes are discarded, reads return all ones, as on QEMU's pc machine.
 * Port 0xed (Linux's io_delay=0xed alternative) is left unassigned, as on
 * QEMU, where unassigned ports read as all ones too.
 */
#include <glib.h>

#include "hw/qdev.h"
#include "hw/isa/isa.h"
#include "hw/memory.h"

#define IOPORT80_PORT   0x80

typedef struct IOPort80State {
    DeviceState parent;

    MemoryRegion io;
} IOPort80State;

static uint64_t ioport80_read(void *opaque, uint64_t addr, unsigned size)
{
    return ~(uint64_t)0;
}

static void ioport80_write(void *opaque, uint64_t addr, uint64_t data, unsigned size)
{
}

static const MemoryRegionOps ioport80_ops = {
    .read = ioport80_read,
    .write = ioport80_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

static void ioport80_realize(DeviceState *dev, Error **errp)
{
    IOPort80State *s = (IOPort80State *)dev;

    memory_region_init_io(&s->io, &ioport80_ops, s, "ioport80", 1);
    isa_register_ioport(dev, &s->io, IOPORT80_PORT);
}

static void ioport80_unrealize(DeviceState *dev)
{
    IOPort80State *s = (IOPort80State *)dev;

    memory_region_destroy(&s->io);
}

static const DeviceClass ioport80_class = {
    .name = "ioport80",
    .desc = "POST code sink at port 0x80",
    .bus_type = "ISA",
    .category = DEVICE_CATEGORY_MISC,
    .user_creatable = false,
    .instance_size = sizeof(IOPort80State),
    /* Writes are discarded and reads constant: nothing but its region. */
    .stateless = true,
    .realize = ioport80_realize,
    .unrealize = ioport80_unrealize,
};

DEVICE_CLASS_REGISTER(ioport80_class)

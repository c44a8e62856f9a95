/*
 * Debug exit port ("isa-debug-exit").
 *
 * A write of value v to any of the iosize ports at iobase makes the
 * process exit with status (v << 1) | 1, so a test guest can report its
 * result (an odd status can never be confused with a clean exit 0).
 * Reads return 0, as on QEMU, which is how a guest can probe for it.
 */
#include <glib.h>

#include "hw/qdev.h"
#include "hw/isa/isa.h"
#include "hw/memory.h"
#include "system/runstate.h"

typedef struct DebugExitState {
    DeviceState parent;

    uint32_t iobase;
    uint32_t iosize;
    MemoryRegion io;
} DebugExitState;

static uint64_t debug_exit_read(void *opaque, uint64_t addr, unsigned size)
{
    return 0;
}

static void debug_exit_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    qemu_system_exit_request((int)((val << 1) | 1));
}

static const MemoryRegionOps debug_exit_ops = {
    .read = debug_exit_read,
    .write = debug_exit_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

static void debug_exit_realize(DeviceState *dev, Error **errp)
{
    DebugExitState *s = (DebugExitState *)dev;

    if (s->iosize == 0 || s->iobase > 0xffff || s->iosize > 0x10000 - s->iobase) {
        error_setg(errp, "iobase 0x%x/iosize 0x%x do not fit the I/O space",
                   s->iobase, s->iosize);
        return;
    }
    memory_region_init_io(&s->io, &debug_exit_ops, s, "isa-debug-exit", s->iosize);
    isa_register_ioport(dev, &s->io, s->iobase);
}

static void debug_exit_unrealize(DeviceState *dev)
{
    DebugExitState *s = (DebugExitState *)dev;

    memory_region_destroy(&s->io);
}

static const Property debug_exit_props[] = {
    DEFINE_PROP_UINT32("iobase", DebugExitState, iobase, 0x501),
    DEFINE_PROP_UINT32("iosize", DebugExitState, iosize, 0x02),
    DEFINE_PROP_END_OF_LIST(),
};

static const DeviceClass debug_exit_class = {
    .name = "isa-debug-exit",
    .desc = "exit the process with a status the guest writes",
    .bus_type = "ISA",
    .category = DEVICE_CATEGORY_MISC,
    .user_creatable = true,
    .instance_size = sizeof(DebugExitState),
    /* Only its properties and port region: a write exits, nothing is kept. */
    .stateless = true,
    .props = debug_exit_props,
    .realize = debug_exit_realize,
    .unrealize = debug_exit_unrealize,
};

DEVICE_CLASS_REGISTER(debug_exit_class)

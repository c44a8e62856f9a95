/*
 * Debug console port ("isa-debugcon"), as QEMU's: the Bochs "port e9 hack".
 *
 *   iobase (default 0xe9; SeaBIOS uses 0x402)
 *     write: the low byte goes to the chardev
 *     read:  readback (default 0xe9), so a guest can probe for the port
 *
 * Firmware (SeaBIOS, OVMF) writes its debug log here.  Writes with no
 * chardev connected are dropped.
 */
#include <glib.h>

#include "chardev/char.h"
#include "hw/qdev.h"
#include "hw/isa/isa.h"
#include "hw/memory.h"

typedef struct DebugconState {
    DeviceState parent;

    uint32_t iobase;
    uint32_t readback;
    CharBackend chr;
    MemoryRegion io;
} DebugconState;

static uint64_t debugcon_read(void *opaque, uint64_t addr, unsigned size)
{
    DebugconState *s = opaque;

    return s->readback;
}

static void debugcon_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    DebugconState *s = opaque;
    uint8_t ch = val;

    if (qemu_chr_fe_backend_connected(&s->chr)) {
        qemu_chr_fe_write_all(&s->chr, &ch, 1);
    }
}

static const MemoryRegionOps debugcon_ops = {
    .read = debugcon_read,
    .write = debugcon_write,
    .valid = { .min_access_size = 1, .max_access_size = 1 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

static void debugcon_realize(DeviceState *dev, Error **errp)
{
    DebugconState *s = (DebugconState *)dev;

    if (s->iobase > 0xffff) {
        error_setg(errp, "isa-debugcon: iobase 0x%x is outside the I/O space", s->iobase);
        return;
    }
    if (s->readback > 0xff) {
        error_setg(errp, "isa-debugcon: readback 0x%x does not fit in a byte", s->readback);
        return;
    }
    memory_region_init_io(&s->io, &debugcon_ops, s, "isa-debugcon", 1);
    isa_register_ioport(dev, &s->io, s->iobase);
}

static void debugcon_unrealize(DeviceState *dev)
{
    DebugconState *s = (DebugconState *)dev;

    memory_region_destroy(&s->io);
}

static const Property debugcon_props[] = {
    DEFINE_PROP_UINT32("iobase", DebugconState, iobase, 0xe9),
    DEFINE_PROP_UINT32("readback", DebugconState, readback, 0xe9),
    DEFINE_PROP_CHR("chardev", DebugconState, chr),
    DEFINE_PROP_END_OF_LIST(),
};

static const DeviceClass debugcon_class = {
    .name = "isa-debugcon",
    .desc = "ISA debug console: bytes written to iobase go to a chardev",
    .bus_type = "ISA",
    .category = DEVICE_CATEGORY_MISC,
    .user_creatable = true,
    .instance_size = sizeof(DebugconState),
    /* Nothing to migrate: a write is passed on at once. */
    .stateless = true,
    .props = debugcon_props,
    .realize = debugcon_realize,
    .unrealize = debugcon_unrealize,
};

DEVICE_CLASS_REGISTER(debugcon_class)

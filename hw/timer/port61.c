/*
 * NMI status and control / speaker port ("port61").
 *
 * "PORT 0061 - KB controller port B (ISA, EISA)" (PC/AT system control port B):
 *   bit 0  timer 2 gate to speaker (GATE2 of the 8254)            r/w
 *   bit 1  speaker data enable                                     r/w
 *   bit 2  parity check enable (0 = enabled)                       r/w
 *   bit 3  channel check enable (0 = enabled)                      r/w
 *   bit 4  refresh request: toggles every 15.085 us                read
 *   bit 5  timer 2 output (OUT2)                                   read
 *   bit 6  channel check (IOCHK) occurred                          read, 0 here
 *   bit 7  parity check (SERR) occurred                            read, 0 here
 *
 * Counter 2 belongs to the PIT, which may be the userspace isa-pit or the
 * accelerator's in-kernel one: the machine links this device to it ("pit"
 * property), and the PIT's class says how to reach GATE2 and OUT2
 * (PITSpeakerOps).  Without a PIT, OUT2 reads 0.  The refresh bit is
 * derived from the virtual clock, so it moves only while the VM runs.
 */
#include <glib.h>

#include "hw/qdev.h"
#include "hw/isa/isa.h"
#include "hw/memory.h"
#include "hw/vmstate.h"
#include "hw/timer/i8254.h"
#include "system/main-loop.h"

#define PORT61_PORT             0x61

#define PORT61_TIMER2_GATE      0x01
#define PORT61_SPEAKER_DATA     0x02
#define PORT61_PARITY_DISABLE   0x04
#define PORT61_CHANNEL_DISABLE  0x08
#define PORT61_REFRESH          0x10
#define PORT61_TIMER2_OUT       0x20
#define PORT61_WRITABLE         0x0f

/* DRAM refresh request period on the PC/AT: 18 clocks of 1.193 MHz. */
#define PORT61_REFRESH_NS       15085

typedef struct Port61State {
    DeviceState parent;

    /* properties */
    DeviceState *pit;

    MemoryRegion io;
    const PITSpeakerOps *pit_ops;
    uint8_t control;            /* bits 0-3 as written */
} Port61State;

static void port61_update_gate(Port61State *s)
{
    if (s->pit_ops) {
        s->pit_ops->set_ch2_gate(s->pit, s->control & PORT61_TIMER2_GATE);
    }
}

static uint64_t port61_read(void *opaque, uint64_t addr, unsigned size)
{
    Port61State *s = opaque;
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    uint8_t val = s->control;

    if ((now / PORT61_REFRESH_NS) & 1) {
        val |= PORT61_REFRESH;
    }
    if (s->pit_ops && s->pit_ops->get_ch2_out(s->pit)) {
        val |= PORT61_TIMER2_OUT;
    }
    return val;
}

static void port61_write(void *opaque, uint64_t addr, uint64_t data, unsigned size)
{
    Port61State *s = opaque;

    s->control = data & PORT61_WRITABLE;
    port61_update_gate(s);
}

static const MemoryRegionOps port61_ops = {
    .read = port61_read,
    .write = port61_write,
    .valid = { .min_access_size = 1, .max_access_size = 1 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

static void port61_reset(DeviceState *dev)
{
    Port61State *s = (Port61State *)dev;

    s->control = 0;
    port61_update_gate(s);
}

static void port61_realize(DeviceState *dev, Error **errp)
{
    Port61State *s = (Port61State *)dev;

    if (s->pit) {
        s->pit_ops = pit_speaker_ops(s->pit);
        if (!s->pit_ops) {
            error_setg(errp, "pit: device '%s' (%s) is not a PIT", s->pit->canonical_path,
                       s->pit->klass->name);
            return;
        }
    }
    memory_region_init_io(&s->io, &port61_ops, s, "port61", 1);
    isa_register_ioport(dev, &s->io, PORT61_PORT);
}

static void port61_unrealize(DeviceState *dev)
{
    Port61State *s = (Port61State *)dev;

    memory_region_destroy(&s->io);
    s->pit_ops = NULL;
}

static int port61_post_load(void *opaque, int version_id)
{
    Port61State *s = opaque;

    s->control &= PORT61_WRITABLE;
    port61_update_gate(s);
    return 0;
}

static const VMStateField port61_fields[] = {
    VMSTATE_UINT8(control, Port61State),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_port61 = {
    .name = "port61",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = port61_post_load,
    .fields = port61_fields,
};

static const Property port61_props[] = {
    DEFINE_PROP_LINK("pit", Port61State, pit, NULL),
    DEFINE_PROP_END_OF_LIST(),
};

static const DeviceClass port61_class = {
    .name = "port61",
    .desc = "NMI status/control and speaker port (0x61)",
    .bus_type = "ISA",
    .category = DEVICE_CATEGORY_MISC,
    .user_creatable = false,
    .instance_size = sizeof(Port61State),
    .props = port61_props,
    .vmsd = &vmstate_port61,
    .realize = port61_realize,
    .unrealize = port61_unrealize,
    .reset = port61_reset,
};

DEVICE_CLASS_REGISTER(port61_class)

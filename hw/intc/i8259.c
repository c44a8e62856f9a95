/*
 * Intel 8259A programmable interrupt controller ("isa-i8259"), one chip
 * per device; the PC has a master and a slave cascaded on the master's IR2.
 *
 * "PORT 0020-003F - PIC 1", "PORT 00A0-00AF - PIC 2" (A0 = port bit 0):
 *   A0=0 write: ICW1 (bit 4 set), OCW3 (bits 4:3 = 01), OCW2 (bits 4:3 = 00)
 *   A0=0 read:  IRR or ISR (as OCW3 RR/RIS selected), or the poll word
 *   A0=1 write: ICW2-ICW4 during initialisation, OCW1 (IMR) otherwise
 *   A0=1 read:  IMR (or the poll word after a poll command)
 * "PORT 04D0-04D1 - EISA edge/level control registers" (ELCR1, ELCR2):
 *   bit n = 1: IRQ n of that chip is level triggered (active high)
 *
 * Datasheet (8259A, Intel 231468):
 *   ICW1: bit 0 IC4 (ICW4 follows), bit 1 SNGL, bit 2 ADI, bit 3 LTIM
 *   ICW2: vector base T7-T3;  ICW3: slave mask (master) / slave ID
 *   ICW4: bit 0 uPM (8086), bit 1 AEOI, bits 3:2 buffered mode, bit 4 SFNM
 *   OCW2: bits 7:5 R SL EOI, bits 2:0 level
 *   OCW3: bit 6 ESMM, bit 5 SMM, bit 2 P (poll), bit 1 RR, bit 0 RIS
 *
 * Where kvmpc follows QEMU rather than the datasheet: ICW3 is ignored
 * (the slave is always on IR2), buffered mode and ADI are ignored, MCS-80
 * mode (uPM = 0) behaves as 8086 mode, an edge input latches IRR on its
 * rising edge only (and ICW1 forgets the line levels), a level input's
 * IRR follows the line, INTA leaves a level request in IRR, and a
 * non-specific EOI clears the highest-priority ISR bit even in special
 * mask mode.  See docs/interrupts.md.
 */
#include <glib.h>

#include "hw/qdev.h"
#include "hw/isa/isa.h"
#include "hw/memory.h"
#include "hw/irq.h"
#include "hw/vmstate.h"
#include "hw/intc/i8259.h"
#include "hw/platform-desc.h"
#include "qemu/log.h"

#define PIC_ICW1                0x10    /* A0=0, bit 4: initialisation */
#define PIC_ICW1_IC4            0x01
#define PIC_ICW1_SNGL           0x02
#define PIC_ICW1_LTIM           0x08
#define PIC_OCW3                0x08    /* A0=0, bits 4:3 = 01 */
#define PIC_OCW3_RIS            0x01
#define PIC_OCW3_RR             0x02
#define PIC_OCW3_P              0x04
#define PIC_OCW3_SMM            0x20
#define PIC_OCW3_ESMM           0x40
#define PIC_ICW4_UPM            0x01
#define PIC_ICW4_AEOI           0x02
#define PIC_ICW4_SFNM           0x10

/* OCW2 commands (bits 7:5 = R SL EOI). */
enum {
    PIC_OCW2_ROTATE_AEOI_CLEAR = 0,
    PIC_OCW2_EOI = 1,
    PIC_OCW2_NOP = 2,
    PIC_OCW2_SPECIFIC_EOI = 3,
    PIC_OCW2_ROTATE_AEOI_SET = 4,
    PIC_OCW2_ROTATE_EOI = 5,
    PIC_OCW2_SET_PRIORITY = 6,
    PIC_OCW2_ROTATE_SPECIFIC_EOI = 7,
};

/* Where the next A0=1 write goes. */
enum {
    PIC_INIT_DONE = 0,          /* OCW1 */
    PIC_INIT_ICW2 = 1,
    PIC_INIT_ICW3 = 2,
    PIC_INIT_ICW4 = 3,
};

#define PIC_CASCADE_IRQ         2       /* the master's IR2 is the slave's INT */
#define PIC_SPURIOUS_IRQ        7
#define PIC_POLL_INT            0x80    /* poll word: an interrupt was pending */

typedef struct PICState PICState;

struct PICState {
    DeviceState parent;

    /* properties */
    uint32_t iobase;            /* UINT32_MAX: the PC's port for the role */
    uint32_t elcr_addr;         /* UINT32_MAX: as iobase; other values > 0xffff: no ELCR */
    uint8_t elcr_mask;          /* ELCR bits that may be set */
    bool master;

    MemoryRegion base_io;
    MemoryRegion elcr_io;
    qemu_irq int_out;
    PICState *slave;            /* master only, set by i8259_init() */

    uint8_t irr;                /* interrupt request register */
    uint8_t imr;                /* interrupt mask register (OCW1) */
    uint8_t isr;                /* in-service register */
    uint8_t last_irr;           /* input line levels, for edge detection */
    uint8_t priority_add;       /* IR that has the highest priority */
    uint8_t irq_base;           /* ICW2 vector base (T7-T3) */
    uint8_t read_reg_select;    /* OCW3 RIS: read ISR instead of IRR */
    uint8_t poll;               /* OCW3 P: the next read is the poll word */
    uint8_t special_mask;       /* OCW3 SMM */
    uint8_t init_state;         /* PIC_INIT_* */
    uint8_t auto_eoi;           /* ICW4 AEOI */
    uint8_t rotate_on_auto_eoi; /* OCW2 rotate in automatic EOI mode */
    uint8_t special_fully_nested_mode;
    uint8_t init4;              /* ICW1 IC4 */
    uint8_t single_mode;        /* ICW1 SNGL */
    uint8_t ltim;               /* ICW1 LTIM: every input level triggered */
    uint8_t elcr;
};

/* ---- priority resolution ------------------------------------------------ */

/* Priority (0 highest .. 7 lowest) of the best request in mask, or 8. */
static int pic_best_priority(PICState *s, uint8_t mask)
{
    for (int prio = 0; prio < 8; prio++) {
        if (mask & (1u << ((prio + s->priority_add) & 7))) {
            return prio;
        }
    }
    return 8;
}

static int pic_prio_to_irq(PICState *s, int prio)
{
    return (prio + s->priority_add) & 7;
}

/* The IR the chip wants to interrupt with, or -1. */
static int pic_get_irq(PICState *s)
{
    int req = pic_best_priority(s, s->irr & ~s->imr);
    uint8_t in_service = s->isr;

    if (req == 8) {
        return -1;
    }
    /* Special mask mode: masked levels do not block lower ones. */
    if (s->special_mask) {
        in_service &= ~s->imr;
    }
    /* Special fully nested mode: a slave request may interrupt while IR2
     * (the slave) is in service on the master. */
    if (s->special_fully_nested_mode && s->master) {
        in_service &= ~(1u << PIC_CASCADE_IRQ);
    }
    if (req < pic_best_priority(s, in_service)) {
        return pic_prio_to_irq(s, req);
    }
    return -1;
}

static void pic_update_irq(PICState *s)
{
    qemu_set_irq(s->int_out, pic_get_irq(s) >= 0);
}

static bool pic_is_level(PICState *s, int irq)
{
    return s->ltim || (s->elcr & (1u << irq));
}

/* IR0-7 inputs: a level input's IRR follows the line; an edge input
 * latches IRR on a rising edge. */
static void pic_set_irq(void *opaque, int irq, int level)
{
    PICState *s = opaque;
    uint8_t mask = 1u << irq;

    if (pic_is_level(s, irq)) {
        if (level) {
            s->irr |= mask;
        } else {
            s->irr &= ~mask;
        }
    } else if (level && !(s->last_irr & mask)) {
        s->irr |= mask;
    }
    if (level) {
        s->last_irr |= mask;
    } else {
        s->last_irr &= ~mask;
    }
    pic_update_irq(s);
}

/* The chip's part of INTA (or of a poll): irq goes in service. */
static void pic_intack(PICState *s, int irq)
{
    if (!s->auto_eoi) {
        s->isr |= 1u << irq;
    } else if (s->rotate_on_auto_eoi) {
        s->priority_add = (irq + 1) & 7;
    }
    if (!pic_is_level(s, irq)) {
        s->irr &= ~(1u << irq);
    }
    pic_update_irq(s);
}

int pic_read_irq(void *opaque)
{
    PICState *s = opaque;
    int irq = pic_get_irq(s);
    int vector;

    if (irq < 0) {
        return s->irq_base + PIC_SPURIOUS_IRQ;      /* ISR unchanged */
    }
    if (irq == PIC_CASCADE_IRQ && s->slave) {
        int irq2 = pic_get_irq(s->slave);

        if (irq2 >= 0) {
            pic_intack(s->slave, irq2);
        } else {
            irq2 = PIC_SPURIOUS_IRQ;                /* the slave's request went away */
        }
        vector = s->slave->irq_base + irq2;
    } else {
        vector = s->irq_base + irq;
    }
    pic_intack(s, irq);
    return vector;
}

bool pic_get_output(DeviceState *dev)
{
    return pic_get_irq((PICState *)dev) >= 0;
}

/* ---- registers ----------------------------------------------------------- */

/* Everything ICW1 resets; the ELCR and the line levels' effect on level
 * inputs survive (a level request stays in IRR). */
static void pic_init_reset(PICState *s)
{
    s->last_irr = 0;
    s->irr &= s->elcr;
    s->imr = 0;
    s->isr = 0;
    s->priority_add = 0;
    s->irq_base = 0;
    s->read_reg_select = 0;
    s->poll = 0;
    s->special_mask = 0;
    s->init_state = PIC_INIT_DONE;
    s->auto_eoi = 0;
    s->rotate_on_auto_eoi = 0;
    s->special_fully_nested_mode = 0;
    s->init4 = 0;
    s->single_mode = 0;
    s->ltim = 0;
    pic_update_irq(s);
}

static void pic_write_icw1(PICState *s, uint8_t val)
{
    pic_init_reset(s);
    s->init_state = PIC_INIT_ICW2;
    s->init4 = val & PIC_ICW1_IC4;
    s->single_mode = !!(val & PIC_ICW1_SNGL);
    s->ltim = !!(val & PIC_ICW1_LTIM);
    if (!s->init4) {
        qemu_log_mask(LOG_UNIMP, "%s: ICW1 without ICW4 (MCS-80 mode) treated as 8086 mode\n",
                      s->parent.canonical_path);
    }
}

static void pic_write_ocw3(PICState *s, uint8_t val)
{
    if (val & PIC_OCW3_P) {
        s->poll = 1;
    }
    if (val & PIC_OCW3_RR) {
        s->read_reg_select = val & PIC_OCW3_RIS;
    }
    if (val & PIC_OCW3_ESMM) {
        s->special_mask = !!(val & PIC_OCW3_SMM);
    }
    pic_update_irq(s);
}

static void pic_write_ocw2(PICState *s, uint8_t val)
{
    int level = val & 7;
    int prio;

    switch (val >> 5) {
    case PIC_OCW2_ROTATE_AEOI_CLEAR:
        s->rotate_on_auto_eoi = 0;
        break;
    case PIC_OCW2_ROTATE_AEOI_SET:
        s->rotate_on_auto_eoi = 1;
        break;
    case PIC_OCW2_EOI:
    case PIC_OCW2_ROTATE_EOI:
        prio = pic_best_priority(s, s->isr);
        if (prio == 8) {
            break;                      /* nothing in service: no effect */
        }
        level = pic_prio_to_irq(s, prio);
        s->isr &= ~(1u << level);
        if ((val >> 5) == PIC_OCW2_ROTATE_EOI) {
            s->priority_add = (level + 1) & 7;
        }
        break;
    case PIC_OCW2_SPECIFIC_EOI:
        s->isr &= ~(1u << level);
        break;
    case PIC_OCW2_SET_PRIORITY:         /* level becomes the lowest priority */
        s->priority_add = (level + 1) & 7;
        break;
    case PIC_OCW2_ROTATE_SPECIFIC_EOI:
        s->isr &= ~(1u << level);
        s->priority_add = (level + 1) & 7;
        break;
    default:                            /* PIC_OCW2_NOP */
        break;
    }
    pic_update_irq(s);
}

/* A0=1 writes: the rest of the initialisation sequence, or OCW1. */
static void pic_write_data(PICState *s, uint8_t val)
{
    switch (s->init_state) {
    case PIC_INIT_ICW2:
        s->irq_base = val & 0xf8;
        if (!s->single_mode) {
            s->init_state = PIC_INIT_ICW3;
        } else {
            s->init_state = s->init4 ? PIC_INIT_ICW4 : PIC_INIT_DONE;
        }
        break;
    case PIC_INIT_ICW3:                 /* cascade wiring is fixed: ignored */
        s->init_state = s->init4 ? PIC_INIT_ICW4 : PIC_INIT_DONE;
        break;
    case PIC_INIT_ICW4:
        s->auto_eoi = !!(val & PIC_ICW4_AEOI);
        s->special_fully_nested_mode = !!(val & PIC_ICW4_SFNM);
        if (!(val & PIC_ICW4_UPM)) {
            qemu_log_mask(LOG_UNIMP, "%s: ICW4 MCS-80 mode treated as 8086 mode\n",
                          s->parent.canonical_path);
        }
        s->init_state = PIC_INIT_DONE;
        break;
    default:
        s->imr = val;
        pic_update_irq(s);
        break;
    }
}

static void pic_io_write(void *opaque, uint64_t addr, uint64_t data, unsigned size)
{
    PICState *s = opaque;
    uint8_t val = data;

    if (addr & 1) {
        pic_write_data(s, val);
    } else if (val & PIC_ICW1) {
        pic_write_icw1(s, val);
    } else if (val & PIC_OCW3) {
        pic_write_ocw3(s, val);
    } else {
        pic_write_ocw2(s, val);
    }
}

/* Poll command: the read is an INTA on this chip alone. */
static uint8_t pic_poll_read(PICState *s)
{
    int irq = pic_get_irq(s);

    s->poll = 0;
    if (irq < 0) {
        return 0;
    }
    pic_intack(s, irq);
    return PIC_POLL_INT | irq;
}

static uint64_t pic_io_read(void *opaque, uint64_t addr, unsigned size)
{
    PICState *s = opaque;

    if (s->poll) {
        return pic_poll_read(s);
    }
    if (addr & 1) {
        return s->imr;
    }
    return s->read_reg_select ? s->isr : s->irr;
}

static const MemoryRegionOps pic_io_ops = {
    .read = pic_io_read,
    .write = pic_io_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

static uint64_t pic_elcr_read(void *opaque, uint64_t addr, unsigned size)
{
    return ((PICState *)opaque)->elcr;
}

/* The new trigger modes apply from the next input change, as QEMU. */
static void pic_elcr_write(void *opaque, uint64_t addr, uint64_t data, unsigned size)
{
    PICState *s = opaque;

    s->elcr = data & s->elcr_mask;
}

static const MemoryRegionOps pic_elcr_ops = {
    .read = pic_elcr_read,
    .write = pic_elcr_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

/* ---- device -------------------------------------------------------------- */

/* The MADT's PCAT_COMPAT flag: a dual 8259 is present. */
static void pic_describe(DeviceState *dev, PlatformDesc *pd)
{
    if (((PICState *)dev)->master) {
        pd->pcat_compat = true;
    }
}

static void pic_reset(DeviceState *dev)
{
    PICState *s = (PICState *)dev;

    s->elcr = 0;
    pic_init_reset(s);
}

static void pic_instance_init(DeviceState *dev)
{
    PICState *s = (PICState *)dev;

    qdev_init_gpio_in(dev, pic_set_irq, 8);
    qdev_init_gpio_out(dev, &s->int_out, 1);
}

static void pic_realize(DeviceState *dev, Error **errp)
{
    PICState *s = (PICState *)dev;

    if (s->iobase == UINT32_MAX) {
        s->iobase = s->master ? 0x20 : 0xa0;
    }
    if (s->elcr_addr == UINT32_MAX) {
        s->elcr_addr = s->master ? 0x4d0 : 0x4d1;
    }
    if (s->iobase > 0xfffe) {
        error_setg(errp, "property 'iobase' 0x%x is not an I/O port pair", s->iobase);
        return;
    }
    memory_region_init_io(&s->base_io, &pic_io_ops, s, s->master ? "pic-master" : "pic-slave", 2);
    isa_register_ioport(dev, &s->base_io, s->iobase);
    /* elcr_addr above 0xffff: a chip without an ELCR (all edge). */
    if (s->elcr_addr <= 0xffff) {
        memory_region_init_io(&s->elcr_io, &pic_elcr_ops, s, "elcr", 1);
        isa_register_ioport(dev, &s->elcr_io, s->elcr_addr);
    }
}

static void pic_unrealize(DeviceState *dev)
{
    PICState *s = (PICState *)dev;

    memory_region_destroy(&s->base_io);
    if (s->elcr_addr <= 0xffff) {
        memory_region_destroy(&s->elcr_io);
    }
}

static int pic_post_load(void *opaque, int version_id)
{
    PICState *s = opaque;

    s->init_state &= 3;
    s->priority_add &= 7;
    s->elcr &= s->elcr_mask;
    pic_update_irq(s);
    return 0;
}

static const VMStateField pic_fields[] = {
    VMSTATE_UINT8(last_irr, PICState),
    VMSTATE_UINT8(irr, PICState),
    VMSTATE_UINT8(imr, PICState),
    VMSTATE_UINT8(isr, PICState),
    VMSTATE_UINT8(priority_add, PICState),
    VMSTATE_UINT8(irq_base, PICState),
    VMSTATE_UINT8(read_reg_select, PICState),
    VMSTATE_UINT8(poll, PICState),
    VMSTATE_UINT8(special_mask, PICState),
    VMSTATE_UINT8(init_state, PICState),
    VMSTATE_UINT8(auto_eoi, PICState),
    VMSTATE_UINT8(rotate_on_auto_eoi, PICState),
    VMSTATE_UINT8(special_fully_nested_mode, PICState),
    VMSTATE_UINT8(init4, PICState),
    VMSTATE_UINT8(single_mode, PICState),
    VMSTATE_UINT8(ltim, PICState),
    VMSTATE_UINT8(elcr, PICState),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_pic = {
    .name = "i8259",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = pic_post_load,
    .fields = pic_fields,
};

static const Property pic_props[] = {
    DEFINE_PROP_UINT32("iobase", PICState, iobase, UINT32_MAX),
    DEFINE_PROP_UINT32("elcr_addr", PICState, elcr_addr, UINT32_MAX),
    DEFINE_PROP_UINT8("elcr_mask", PICState, elcr_mask, 0xff),
    DEFINE_PROP_BOOL("master", PICState, master, false),
    DEFINE_PROP_END_OF_LIST(),
};

static const DeviceClass pic_class = {
    .name = I8259_TYPE,
    .desc = "Intel 8259A programmable interrupt controller (one chip)",
    .bus_type = "ISA",
    .category = DEVICE_CATEGORY_MISC,
    .user_creatable = false,
    .instance_size = sizeof(PICState),
    .props = pic_props,
    .vmsd = &vmstate_pic,
    .instance_init = pic_instance_init,
    .realize = pic_realize,
    .unrealize = pic_unrealize,
    .reset = pic_reset,
    .describe = pic_describe,
};

DEVICE_CLASS_REGISTER(pic_class)

/* ---- the PC's pair ------------------------------------------------------- */

static DeviceState *pic_create_chip(ISABus *bus, bool master, const char *name, Error **errp)
{
    DeviceState *dev = qdev_new(I8259_TYPE, errp);

    if (!dev) {
        return NULL;
    }
    if (name) {
        g_autofree char *child = g_strdup_printf("%s-%s", name, master ? "master" : "slave");
        qdev_set_machine_child(dev, child);
    }
    if (!qdev_prop_set_bool(dev, "master", master, errp) ||
        !qdev_prop_set_uint(dev, "elcr_mask", master ? 0xf8 : 0xde, errp) ||
        !qdev_realize(dev, bus->bus, errp)) {
        qdev_free(dev);
        return NULL;
    }
    return dev;
}

DeviceState *i8259_init(ISABus *bus, qemu_irq parent_irq, const char *name,
                        qemu_irq pic_in[I8259_NUM_IRQS], Error **errp)
{
    DeviceState *master = pic_create_chip(bus, true, name, errp);
    DeviceState *slave;

    if (!master) {
        return NULL;
    }
    slave = pic_create_chip(bus, false, name, errp);
    if (!slave) {
        qdev_free(master);
        return NULL;
    }
    ((PICState *)master)->slave = (PICState *)slave;
    qdev_connect_gpio_out(master, 0, parent_irq);
    qdev_connect_gpio_out(slave, 0, qdev_get_gpio_in(master, PIC_CASCADE_IRQ));
    for (int i = 0; i < 8; i++) {
        pic_in[i] = qdev_get_gpio_in(master, i);
        pic_in[8 + i] = qdev_get_gpio_in(slave, i);
    }
    return master;
}

void pic_print_info(DeviceState *master, GString *buf)
{
    PICState *chips[2] = { (PICState *)master, ((PICState *)master)->slave };

    for (int i = 0; i < 2 && chips[i]; i++) {
        PICState *s = chips[i];
        g_string_append_printf(buf, "pic%d: irr=%02x imr=%02x isr=%02x hprio=%d irq_base=%02x "
                               "rr_sel=%d elcr=%02x fnm=%d\n",
                               i, s->irr, s->imr, s->isr, s->priority_add, s->irq_base,
                               s->read_reg_select, s->elcr, s->special_fully_nested_mode);
    }
}

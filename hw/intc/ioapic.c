/*
 * Intel 82093AA I/O APIC ("ioapic").
 *
 * MMIO window at IOAPIC_DEFAULT_ADDRESS (0xfec00000), 4 KiB, decoded
 * modulo 256 bytes:
 *   0x00  IOREGSEL  register select (8 bits)
 *   0x10  IOWIN     the selected register (32-bit accesses only)
 *   0x40  EOI       write a vector: clear remote IRR of the level entries
 *                   with that vector (version 0x20 only, as the ICH's)
 * Indirect registers:
 *   0x00  IOAPICID   bits 27:24 APIC ID
 *   0x01  IOAPICVER  bits 23:16 max redirection entry (23), 7:0 version
 *   0x02  IOAPICARB  bits 27:24 arbitration ID (reads as the ID, as QEMU)
 *   0x10-0x3f  IOREDTBL[0-23], two 32-bit halves each:
 *     7:0 vector, 10:8 delivery mode, 11 destination mode, 12 delivery
 *     status (RO), 13 polarity, 14 remote IRR (RO), 15 trigger mode
 *     (1 = level), 16 mask, 55:49 extended destination ID, 63:56 destination
 *
 * Inputs: GPIO input n is GSI n, except that input 0 (ISA IRQ 0, the PIT)
 * arrives on pin ISA_IRQ0_IOAPIC_PIN, as the MADT's interrupt source
 * override says (QEMU does the same remapping inside its IOAPIC).
 *
 * Delivery is instantaneous (delivery status always reads 0).  An edge
 * pin delivers each time its input is asserted while unmasked (QEMU and
 * KVM do the same; the datasheet's edge detector would ignore an assert
 * of a line already high).  A level pin delivers while its input is
 * asserted and remote IRR is clear; delivery sets remote IRR; an EOI (the
 * LAPICs' broadcast or the EOI register) clears it and re-delivers if the
 * input is still asserted.  The polarity bit is stored but not applied:
 * inputs are active high (as QEMU).  A guest that acknowledges a level
 * interrupt without ever quieting its source gets the re-delivery delayed
 * by 10 ms after 10000 successive ones, so it still makes progress.
 */
#include <inttypes.h>
#include <glib.h>

#include "hw/qdev.h"
#include "hw/memory.h"
#include "hw/irq.h"
#include "hw/vmstate.h"
#include "hw/i386/x86-irq.h"
#include "hw/intc/ioapic.h"
#include "hw/platform-desc.h"
#include "qemu/log.h"
#include "system/main-loop.h"

#define IOAPIC_MMIO_SIZE        0x1000
#define IOAPIC_ID_SHIFT         24
#define IOAPIC_ID_MASK          0xf
#define IOAPIC_VER_ENTRIES_SHIFT 16
#define IOAPIC_DEFAULT_VERSION  0x20

/* Bits a guest write to a redirection entry cannot change. */
#define IOAPIC_RTE_RO_BITS      (IOAPIC_RTE_DELIVS | IOAPIC_RTE_REMOTE_IRR)

/* Successive EOI re-deliveries of one asserted level pin before the next
 * one is delayed (QEMU's values). */
#define IOAPIC_STORM_COUNT      10000
#define IOAPIC_STORM_DELAY_NS   (NANOSECONDS_PER_SECOND / 100)

typedef struct IOAPICState {
    DeviceState parent;

    /* properties */
    uint8_t version;            /* 0x20 (with the EOI register) or 0x11 */

    MemoryRegion io;
    QEMUTimer *storm_timer;     /* delayed re-delivery after a storm */

    uint8_t id;
    uint8_t ioregsel;
    uint32_t irr;               /* pins with a request to deliver */
    uint32_t levels;            /* input levels, per pin */
    uint64_t ioredtbl[IOAPIC_NUM_PINS];
    uint32_t eoi_count[IOAPIC_NUM_PINS];   /* successive EOI re-deliveries */
} IOAPICState;

static bool rte_is_level(uint64_t entry)
{
    return entry & IOAPIC_RTE_TRIGGER;
}

/* ---- delivery ------------------------------------------------------------ */

static APICMessage ioapic_message(uint64_t entry)
{
    return (APICMessage) {
        .dest = (uint32_t)(entry >> IOAPIC_RTE_DEST_SHIFT) |
                (uint32_t)((entry >> IOAPIC_RTE_EXT_DEST_SHIFT) & 0x7f) << 8,
        .dest_logical = entry & IOAPIC_RTE_DESTMOD,
        .delivery_mode = (entry >> IOAPIC_RTE_DELMOD_SHIFT) & 7,
        .vector = entry & IOAPIC_RTE_VECTOR,
        .level = rte_is_level(entry),
        .assert_ = true,
    };
}

/* Tell the APIC bus what a pin sends (an in-kernel LAPIC tracks the
 * level-triggered vectors from this).  A masked entry is announced too: a
 * level interrupt delivered before the mask still needs its EOI to come
 * back and clear Remote IRR. */
static void ioapic_announce(IOAPICState *s, int pin)
{
    APICMessage msg = ioapic_message(s->ioredtbl[pin]);

    apic_bus_route_update(pin, &msg);
}

static bool ioapic_send(IOAPICState *s, int pin, uint64_t entry)
{
    APICMessage msg = ioapic_message(entry);
    int vector;

    switch (msg.delivery_mode) {
    case APIC_DM_FIXED:
    case APIC_DM_LOWPRI:
    case APIC_DM_SMI:
    case APIC_DM_NMI:
    case APIC_DM_INIT:
        break;
    case APIC_DM_EXTINT:
        /* The IOAPIC runs the PIC's INTA itself and sends its vector as a
         * fixed interrupt: what QEMU's IOAPIC and LAPIC do together. */
        vector = x86_pic_read_irq();
        if (vector < 0) {
            qemu_log_mask(LOG_GUEST_ERROR, "ioapic: pin %d is ExtINT but there is no PIC\n",
                          pin);
            return false;
        }
        msg.delivery_mode = APIC_DM_FIXED;
        msg.vector = vector;
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "ioapic: pin %d has reserved delivery mode %d\n",
                      pin, msg.delivery_mode);
        return false;
    }
    apic_bus_deliver(&msg);
    return true;
}

/* Delivers every unmasked pin with a request, lowest pin first. */
static void ioapic_service(IOAPICState *s)
{
    for (int pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
        uint32_t mask = 1u << pin;
        uint64_t entry = s->ioredtbl[pin];

        if (!(s->irr & mask) || (entry & IOAPIC_RTE_MASKED)) {
            continue;
        }
        if (rte_is_level(entry)) {
            if (entry & IOAPIC_RTE_REMOTE_IRR) {
                continue;               /* the previous one is not EOIed yet */
            }
            s->ioredtbl[pin] |= IOAPIC_RTE_REMOTE_IRR;
        } else {
            s->irr &= ~mask;
        }
        ioapic_send(s, pin, entry);
    }
}

static void ioapic_storm_timer_cb(void *opaque)
{
    ioapic_service(opaque);
}

static void ioapic_set_irq(void *opaque, int n, int level)
{
    IOAPICState *s = opaque;
    int pin = n == 0 ? ISA_IRQ0_IOAPIC_PIN : n;
    uint32_t mask = 1u << pin;
    uint64_t entry;

    if (pin < 0 || pin >= IOAPIC_NUM_PINS) {
        return;
    }
    entry = s->ioredtbl[pin];
    if (level) {
        s->levels |= mask;
    } else {
        s->levels &= ~mask;
    }
    if (rte_is_level(entry)) {
        if (level) {
            s->irr |= mask;
            ioapic_service(s);
        } else {
            s->irr &= ~mask;
        }
    } else if (level && !(entry & IOAPIC_RTE_MASKED)) {
        /* 82093AA: an edge on a masked pin is lost. */
        s->irr |= mask;
        ioapic_service(s);
    }
}

/* An EOI for vector: level entries with that vector and remote IRR set
 * accept another interrupt, delivered at once if the input is still
 * asserted. */
static void ioapic_eoi(IOAPICState *s, uint8_t vector)
{
    bool redeliver = false;

    for (int pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
        uint64_t entry = s->ioredtbl[pin];

        if ((entry & IOAPIC_RTE_VECTOR) != vector || !rte_is_level(entry) ||
            !(entry & IOAPIC_RTE_REMOTE_IRR)) {
            continue;
        }
        s->ioredtbl[pin] = entry & ~IOAPIC_RTE_REMOTE_IRR;
        if ((entry & IOAPIC_RTE_MASKED) || !(s->irr & (1u << pin))) {
            s->eoi_count[pin] = 0;
            continue;
        }
        if (++s->eoi_count[pin] >= IOAPIC_STORM_COUNT) {
            int64_t when = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + IOAPIC_STORM_DELAY_NS;

            s->eoi_count[pin] = 0;
            qemu_log_mask(LOG_GUEST_ERROR, "ioapic: pin %d interrupt storm, delaying it\n", pin);
            if (!timer_pending(s->storm_timer) || timer_expire_time_ns(s->storm_timer) > when) {
                timer_mod(s->storm_timer, when);
            }
        } else {
            redeliver = true;
        }
    }
    if (redeliver) {
        ioapic_service(s);
    }
}

static void ioapic_eoi_broadcast_cb(void *opaque, uint8_t vector)
{
    ioapic_eoi(opaque, vector);
}

/* ---- registers ----------------------------------------------------------- */

static uint32_t ioapic_read_reg(IOAPICState *s)
{
    int index = (s->ioregsel - IOAPIC_REG_REDTBL) >> 1;

    switch (s->ioregsel) {
    case IOAPIC_REG_ID:
    case IOAPIC_REG_ARB:
        return (uint32_t)s->id << IOAPIC_ID_SHIFT;
    case IOAPIC_REG_VER:
        return s->version | (IOAPIC_NUM_PINS - 1) << IOAPIC_VER_ENTRIES_SHIFT;
    }
    if (s->ioregsel < IOAPIC_REG_REDTBL || index >= IOAPIC_NUM_PINS) {
        return 0;
    }
    return s->ioregsel & 1 ? s->ioredtbl[index] >> 32 : (uint32_t)s->ioredtbl[index];
}

static void ioapic_write_rte(IOAPICState *s, int index, bool high, uint32_t val)
{
    uint64_t old = s->ioredtbl[index];
    uint64_t entry;

    if (high) {
        entry = (old & 0xffffffffull) | (uint64_t)val << 32;
    } else {
        entry = (old & ~0xffffffffull) | val;
    }
    entry = (entry & ~IOAPIC_RTE_RO_BITS) | (old & IOAPIC_RTE_RO_BITS);
    /* An edge entry has no remote IRR: Linux clears a stuck one by
     * switching the entry to edge and back (as QEMU allows). */
    if (!rte_is_level(entry)) {
        entry &= ~IOAPIC_RTE_REMOTE_IRR;
    }
    s->ioredtbl[index] = entry;
    s->eoi_count[index] = 0;
    if ((old ^ entry) & ~(IOAPIC_RTE_RO_BITS)) {
        ioapic_announce(s, index);
    }
    /* A level pin requests as long as its input is asserted; an edge pin
     * keeps only a request that is already latched. */
    if (rte_is_level(entry)) {
        s->irr = (s->irr & ~(1u << index)) | (s->levels & (1u << index));
    }
    ioapic_service(s);
}

static void ioapic_write_reg(IOAPICState *s, uint32_t val)
{
    int index = (s->ioregsel - IOAPIC_REG_REDTBL) >> 1;

    switch (s->ioregsel) {
    case IOAPIC_REG_ID:
        s->id = (val >> IOAPIC_ID_SHIFT) & IOAPIC_ID_MASK;
        return;
    case IOAPIC_REG_VER:
    case IOAPIC_REG_ARB:
        return;                         /* read only */
    }
    if (s->ioregsel < IOAPIC_REG_REDTBL || index >= IOAPIC_NUM_PINS) {
        qemu_log_mask(LOG_GUEST_ERROR, "ioapic: write to unknown register 0x%x\n", s->ioregsel);
        return;
    }
    ioapic_write_rte(s, index, s->ioregsel & 1, val);
}

static uint64_t ioapic_mmio_read(void *opaque, uint64_t addr, unsigned size)
{
    IOAPICState *s = opaque;

    switch (addr & 0xff) {
    case IOAPIC_IOREGSEL:
        return s->ioregsel;
    case IOAPIC_IOWIN:
        return size == 4 ? ioapic_read_reg(s) : 0;
    default:
        return 0;
    }
}

static void ioapic_mmio_write(void *opaque, uint64_t addr, uint64_t data, unsigned size)
{
    IOAPICState *s = opaque;

    switch (addr & 0xff) {
    case IOAPIC_IOREGSEL:
        s->ioregsel = data;
        break;
    case IOAPIC_IOWIN:
        if (size == 4) {
            ioapic_write_reg(s, data);
        }
        break;
    case IOAPIC_EOI:
        if (size == 4 && s->version == 0x20 && data <= 0xff) {
            ioapic_eoi(s, data);
        }
        break;
    }
}

static const MemoryRegionOps ioapic_mmio_ops = {
    .read = ioapic_mmio_read,
    .write = ioapic_mmio_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

/* ---- device -------------------------------------------------------------- */

uint64_t ioapic_get_entry(DeviceState *dev, int pin)
{
    IOAPICState *s = (IOAPICState *)dev;

    return pin >= 0 && pin < IOAPIC_NUM_PINS ? s->ioredtbl[pin] : 0;
}

void ioapic_print_info(DeviceState *dev, GString *buf)
{
    static const char *const modes[8] = {
        "fixed", "lowest", "SMI", "...", "NMI", "INIT", "...", "extINT"
    };
    IOAPICState *s = (IOAPICState *)dev;

    g_string_append_printf(buf, "ioapic0: ver=0x%x id=0x%02x sel=0x%02x\n", s->version, s->id,
                           s->ioregsel);
    for (int i = 0; i < IOAPIC_NUM_PINS; i++) {
        uint64_t e = s->ioredtbl[i];
        g_string_append_printf(buf, "  pin %-2d 0x%016" PRIx64 " dest=%" PRIx64 " vec=%-3u %s %-5s"
                               " %-6s %-6s %s%s\n", i, e, e >> IOAPIC_RTE_DEST_SHIFT,
                               (unsigned)(e & IOAPIC_RTE_VECTOR),
                               e & IOAPIC_RTE_POLARITY ? "active-lo" : "active-hi",
                               rte_is_level(e) ? "level" : "edge",
                               e & IOAPIC_RTE_MASKED ? "masked" : "",
                               modes[(e >> IOAPIC_RTE_DELMOD_SHIFT) & 7],
                               e & IOAPIC_RTE_DESTMOD ? "logical" : "physical",
                               e & IOAPIC_RTE_REMOTE_IRR ? " remote-irr" : "");
    }
    g_string_append_printf(buf, "  IRR 0x%06x  input levels 0x%06x\n", s->irr, s->levels);
}

/* The MADT / MP table entry: the ID it has after reset, GSIs 0-23, and
 * ISA IRQ 0 on pin 2 (ioapic_set_irq routes it there). */
static void ioapic_describe(DeviceState *dev, PlatformDesc *pd)
{
    platform_add_ioapic(pd, 0, IOAPIC_DEFAULT_ADDRESS, 0);
    platform_add_override(pd, 0, ISA_IRQ0_IOAPIC_PIN, MPS_INTI_CONFORMS);
}

static void ioapic_reset(DeviceState *dev)
{
    IOAPICState *s = (IOAPICState *)dev;

    s->id = 0;
    s->ioregsel = 0;
    s->irr = 0;
    for (int i = 0; i < IOAPIC_NUM_PINS; i++) {
        s->ioredtbl[i] = IOAPIC_RTE_MASKED;
        s->eoi_count[i] = 0;
        ioapic_announce(s, i);
    }
    timer_del(s->storm_timer);
}

static void ioapic_instance_init(DeviceState *dev)
{
    qdev_init_gpio_in(dev, ioapic_set_irq, IOAPIC_NUM_PINS);
}

static void ioapic_realize(DeviceState *dev, Error **errp)
{
    IOAPICState *s = (IOAPICState *)dev;

    if (s->version != 0x11 && s->version != 0x20) {
        error_setg(errp, "property 'version' 0x%x: only 0x11 and 0x20 are supported",
                   s->version);
        return;
    }
    memory_region_init_io(&s->io, &ioapic_mmio_ops, s, "ioapic", IOAPIC_MMIO_SIZE);
    memory_region_add_subregion(get_system_memory(), IOAPIC_DEFAULT_ADDRESS, &s->io);
    qdev_claim(dev, DEV_RES_MMIO, IOAPIC_DEFAULT_ADDRESS, IOAPIC_MMIO_SIZE, 0);
    s->storm_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, ioapic_storm_timer_cb, s);
    apic_bus_add_eoi_listener(ioapic_eoi_broadcast_cb, s);
}

static void ioapic_unrealize(DeviceState *dev)
{
    IOAPICState *s = (IOAPICState *)dev;

    apic_bus_remove_eoi_listener(ioapic_eoi_broadcast_cb, s);
    timer_free(s->storm_timer);
    s->storm_timer = NULL;
    memory_region_destroy(&s->io);
}

static int ioapic_post_load(void *opaque, int version_id)
{
    IOAPICState *s = opaque;

    s->id &= IOAPIC_ID_MASK;
    /* Requests on level pins follow the (restored) input levels. */
    for (int pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
        if (rte_is_level(s->ioredtbl[pin])) {
            s->irr = (s->irr & ~(1u << pin)) | (s->levels & (1u << pin));
        }
        ioapic_announce(s, pin);
    }
    return 0;
}

static const VMStateField ioapic_fields[] = {
    VMSTATE_UINT8(id, IOAPICState),
    VMSTATE_UINT8(ioregsel, IOAPICState),
    VMSTATE_UINT32(irr, IOAPICState),
    VMSTATE_UINT32(levels, IOAPICState),
    VMSTATE_UINT64_ARRAY(ioredtbl, IOAPICState, IOAPIC_NUM_PINS),
    VMSTATE_TIMER_PTR(storm_timer, IOAPICState),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_ioapic = {
    .name = "ioapic",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = ioapic_post_load,
    .fields = ioapic_fields,
};

static const Property ioapic_props[] = {
    DEFINE_PROP_UINT8("version", IOAPICState, version, IOAPIC_DEFAULT_VERSION),
    DEFINE_PROP_END_OF_LIST(),
};

static const DeviceClass ioapic_class = {
    .name = IOAPIC_TYPE,
    .desc = "Intel 82093AA I/O APIC (userspace model)",
    .category = DEVICE_CATEGORY_MISC,
    .user_creatable = false,
    .instance_size = sizeof(IOAPICState),
    .props = ioapic_props,
    .vmsd = &vmstate_ioapic,
    .instance_init = ioapic_instance_init,
    .realize = ioapic_realize,
    .unrealize = ioapic_unrealize,
    .reset = ioapic_reset,
    .describe = ioapic_describe,
};

DEVICE_CLASS_REGISTER(ioapic_class)

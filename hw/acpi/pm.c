/*
 * ACPI fixed-hardware power management ("acpi-pm").
 *
 * Registers (ACPI 6.4, section 4.8.3; ports from hw/acpi/pm.h):
 *   PM1a_EVT_BLK+0  PM1_STS (16 bits, write 1 to clear)
 *                   bit 0 TMR_STS, 4 BM_STS, 5 GBL_STS, 8 PWRBTN_STS,
 *                   9 SLPBTN_STS, 10 RTC_STS, 15 WAK_STS
 *   PM1a_EVT_BLK+2  PM1_EN (16 bits): 0 TMR_EN, 5 GBL_EN, 8 PWRBTN_EN,
 *                   9 SLPBTN_EN, 10 RTC_EN
 *   PM1a_CNT_BLK    PM1_CNT (16 bits): 0 SCI_EN, 1 BM_RLD, 2 GBL_RLS,
 *                   12:10 SLP_TYP, 13 SLP_EN (write-only)
 *   PM_TMR_BLK      PM_TMR (32-bit read): 24-bit counter at 3.579545 MHz;
 *                   TMR_STS is set each time bit 23 changes
 *
 * With iobase = ACPI_PM_IOBASE_NONE the blocks are not mapped at realize:
 * the function that contains them (the PIIX4's PM function, which decodes
 * them at its PMBA) places them with acpi_pm_map().
 *
 * There is no SMI_CMD port: the machine is always in ACPI mode, so SCI_EN
 * reads as 1.  The SCI (ISA IRQ 9, level) is asserted while
 * PM1_STS & PM1_EN has an event bit set.  Writing SLP_EN with SLP_TYP equal
 * to the DSDT's \_S5 value powers off; other sleep states are not
 * supported and ignored.
 */
#include <glib.h>

#include "hw/qdev.h"
#include "hw/isa/isa.h"
#include "hw/memory.h"
#include "hw/irq.h"
#include "hw/vmstate.h"
#include "hw/acpi/pm.h"
#include "hw/acpi/pm-dev.h"
#include "hw/acpi/aml.h"
#include "hw/platform-desc.h"
#include "system/main-loop.h"
#include "system/runstate.h"

#define ACPI_PM1_STS_BM         (1u << 4)
#define ACPI_PM1_STS_GBL        (1u << 5)
#define ACPI_PM1_STS_SLPBTN     (1u << 9)
#define ACPI_PM1_STS_RTC        (1u << 10)
#define ACPI_PM1_STS_WAK        (1u << 15)
#define ACPI_PM1_EN_TMR         (1u << 0)
#define ACPI_PM1_EN_GBL         (1u << 5)
#define ACPI_PM1_EN_PWRBTN      (1u << 8)
#define ACPI_PM1_EN_SLPBTN      (1u << 9)
#define ACPI_PM1_EN_RTC         (1u << 10)
#define ACPI_PM1_EN_MASK        (ACPI_PM1_EN_TMR | ACPI_PM1_EN_GBL | ACPI_PM1_EN_PWRBTN | \
                                 ACPI_PM1_EN_SLPBTN | ACPI_PM1_EN_RTC)
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_TYP    (7u << ACPI_PM1_CNT_SLP_TYP_SHIFT)
#define ACPI_PM1_CNT_STORED     0x1c07  /* SCI_EN, BM_RLD, GBL_RLS, SLP_TYP */

#define PM_TIMER_FREQUENCY      3579545
#define PM_TIMER_MASK           0xffffff
#define PM_TIMER_MSB_PERIOD     0x800000    /* ticks between TMR_STS events */

typedef struct ACPIPMState {
    DeviceState parent;

    /* properties */
    uint32_t iobase;
    uint32_t sci_irq_num;

    MemoryRegion io_evt;
    MemoryRegion io_cnt;
    MemoryRegion io_tmr;
    int32_t base;               /* where the blocks are mapped, -1: nowhere */
    MemoryRegion *map_io;       /* the I/O space acpi_pm_map() put them in */
    qemu_irq sci;
    QEMUTimer *tmr_timer;

    uint16_t sts;
    uint16_t en;
    uint16_t cnt;
    uint64_t tmr_overflow;      /* tick count at which TMR_STS is next set */
    bool sci_level;
    bool warned_sleep;
} ACPIPMState;

static uint64_t acpi_pm_tmr_ticks(int64_t vns)
{
    return (uint64_t)((unsigned __int128)(vns < 0 ? 0 : vns) * PM_TIMER_FREQUENCY /
                      NANOSECONDS_PER_SECOND);
}

static int64_t acpi_pm_tmr_ticks_to_ns(uint64_t ticks)
{
    /* Round up so the timer fires once the tick is reached. */
    return (int64_t)(((unsigned __int128)ticks * NANOSECONDS_PER_SECOND +
                      PM_TIMER_FREQUENCY - 1) / PM_TIMER_FREQUENCY);
}

static uint64_t acpi_pm_next_overflow(uint64_t ticks)
{
    return (ticks | (PM_TIMER_MSB_PERIOD - 1)) + 1;
}

/* Fold timer MSB changes up to now into TMR_STS. */
static void acpi_pm_tmr_eval(ACPIPMState *s, int64_t now)
{
    uint64_t ticks = acpi_pm_tmr_ticks(now);

    if (ticks >= s->tmr_overflow) {
        s->sts |= ACPI_PM1_STS_TMR;
        s->tmr_overflow = acpi_pm_next_overflow(ticks);
    }
}

static void acpi_pm_update_sci(ACPIPMState *s)
{
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    bool level;

    acpi_pm_tmr_eval(s, now);
    level = (s->sts & s->en & ACPI_PM1_EN_MASK) != 0;
    if (level != s->sci_level) {
        s->sci_level = level;
        qemu_set_irq(s->sci, level);
    }
    /* The overflow timer runs only while its interrupt is enabled. */
    if ((s->en & ACPI_PM1_EN_TMR) && !(s->sts & ACPI_PM1_STS_TMR)) {
        timer_mod(s->tmr_timer, acpi_pm_tmr_ticks_to_ns(s->tmr_overflow));
    } else {
        timer_del(s->tmr_timer);
    }
}

static void acpi_pm_tmr_cb(void *opaque)
{
    acpi_pm_update_sci(opaque);
}

void acpi_pm_power_button(DeviceState *dev)
{
    ACPIPMState *s = (ACPIPMState *)dev;

    if (s->en & ACPI_PM1_EN_PWRBTN) {
        s->sts |= ACPI_PM1_STS_PWRBTN;
        acpi_pm_update_sci(s);
    }
}

/* PM1 event block, byte by byte: +0/+1 PM1_STS, +2/+3 PM1_EN. */
static uint64_t acpi_pm_evt_read(void *opaque, uint64_t addr, unsigned size)
{
    ACPIPMState *s = opaque;
    uint16_t val;

    if (addr < 2) {
        acpi_pm_tmr_eval(s, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
        val = s->sts;
    } else {
        val = s->en;
    }
    return (val >> ((addr & 1) * 8)) & 0xff;
}

static void acpi_pm_evt_write(void *opaque, uint64_t addr, uint64_t data, unsigned size)
{
    ACPIPMState *s = opaque;
    unsigned shift = (addr & 1) * 8;

    if (addr < 2) {
        /* Bring TMR_STS up to date so a write of 1 clears what was seen. */
        acpi_pm_tmr_eval(s, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
        s->sts &= ~(uint16_t)((data & 0xff) << shift);
    } else {
        s->en = (s->en & ~(0xff << shift)) | ((data & 0xff) << shift);
        s->en &= ACPI_PM1_EN_MASK;
    }
    acpi_pm_update_sci(s);
}

static const MemoryRegionOps acpi_pm_evt_ops = {
    .read = acpi_pm_evt_read,
    .write = acpi_pm_evt_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

static void acpi_pm_sleep(ACPIPMState *s, unsigned slp_typ)
{
    if (slp_typ == ACPI_S5_SLP_TYP) {
        qemu_system_shutdown_request(SHUTDOWN_CAUSE_GUEST_SHUTDOWN);
    } else if (!s->warned_sleep) {
        s->warned_sleep = true;
        warn_report("acpi-pm: guest asked for sleep type %u, which is not supported; "
                    "ignored", slp_typ);
    }
}

static uint64_t acpi_pm_cnt_read(void *opaque, uint64_t addr, unsigned size)
{
    ACPIPMState *s = opaque;
    uint16_t val = s->cnt | ACPI_PM1_CNT_SCI_EN;

    return (val >> ((addr & 1) * 8)) & 0xff;
}

static void acpi_pm_cnt_write(void *opaque, uint64_t addr, uint64_t data, unsigned size)
{
    ACPIPMState *s = opaque;
    unsigned shift = (addr & 1) * 8;
    uint16_t val = (s->cnt & ~(0xff << shift)) | ((data & 0xff) << shift);

    s->cnt = val & ACPI_PM1_CNT_STORED;
    if (val & ACPI_PM1_CNT_SLP_EN) {
        acpi_pm_sleep(s, (val & ACPI_PM1_CNT_SLP_TYP) >> ACPI_PM1_CNT_SLP_TYP_SHIFT);
    }
}

static const MemoryRegionOps acpi_pm_cnt_ops = {
    .read = acpi_pm_cnt_read,
    .write = acpi_pm_cnt_write,
    .valid = { .min_access_size = 1, .max_access_size = 2 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

static uint64_t acpi_pm_tmr_read(void *opaque, uint64_t addr, unsigned size)
{
    return acpi_pm_tmr_ticks(qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL)) & PM_TIMER_MASK;
}

static void acpi_pm_tmr_write(void *opaque, uint64_t addr, uint64_t data, unsigned size)
{
    /* PM_TMR is read-only. */
}

static const MemoryRegionOps acpi_pm_tmr_ops = {
    .read = acpi_pm_tmr_read,
    .write = acpi_pm_tmr_write,
    .valid = { .min_access_size = 4, .max_access_size = 4 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

static void acpi_pm_reset(DeviceState *dev)
{
    ACPIPMState *s = (ACPIPMState *)dev;

    s->sts = 0;
    s->en = 0;
    s->cnt = 0;
    s->tmr_overflow = acpi_pm_next_overflow(
        acpi_pm_tmr_ticks(qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL)));
    acpi_pm_update_sci(s);
}

static void acpi_pm_realize(DeviceState *dev, Error **errp)
{
    ACPIPMState *s = (ACPIPMState *)dev;

    if (s->sci_irq_num > 15) {
        error_setg(errp, "isa irq %u invalid", s->sci_irq_num);
        return;
    }
    if (s->iobase != ACPI_PM_IOBASE_NONE && s->iobase > 0x10000 - ACPI_PM_SIZE) {
        error_setg(errp, "iobase 0x%x is out of the I/O space", s->iobase);
        return;
    }
    s->sci = isa_claim_irq(dev, s->sci_irq_num, DEV_RES_IRQ_LEVEL);  /* level, active high */
    s->tmr_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, acpi_pm_tmr_cb, s);
    memory_region_init_io(&s->io_evt, &acpi_pm_evt_ops, s, "acpi-evt", 4);
    memory_region_init_io(&s->io_cnt, &acpi_pm_cnt_ops, s, "acpi-cnt", 2);
    memory_region_init_io(&s->io_tmr, &acpi_pm_tmr_ops, s, "acpi-tmr", 4);
    s->base = -1;
    if (s->iobase == ACPI_PM_IOBASE_NONE) {
        return;
    }
    s->base = s->iobase;
    isa_register_ioport(dev, &s->io_evt, s->iobase + (ACPI_PM1_EVT_BLK - ACPI_PM_BASE));
    isa_register_ioport(dev, &s->io_cnt, s->iobase + (ACPI_PM1_CNT_BLK - ACPI_PM_BASE));
    isa_register_ioport(dev, &s->io_tmr, s->iobase + (ACPI_PM_TMR_BLK - ACPI_PM_BASE));
}

void acpi_pm_map(DeviceState *dev, MemoryRegion *io, int base)
{
    ACPIPMState *s = (ACPIPMState *)dev;

    if (base > 0x10000 - ACPI_PM_SIZE) {
        base = -1;
    }
    if (base == s->base) {
        return;
    }
    memory_region_transaction_begin();
    if (s->base >= 0) {
        memory_region_del_subregion(s->map_io, &s->io_evt);
        memory_region_del_subregion(s->map_io, &s->io_cnt);
        memory_region_del_subregion(s->map_io, &s->io_tmr);
    }
    s->base = base;
    s->map_io = io;
    if (base >= 0) {
        memory_region_add_subregion(io, base + (ACPI_PM1_EVT_BLK - ACPI_PM_BASE), &s->io_evt);
        memory_region_add_subregion(io, base + (ACPI_PM1_CNT_BLK - ACPI_PM_BASE), &s->io_cnt);
        memory_region_add_subregion(io, base + (ACPI_PM_TMR_BLK - ACPI_PM_BASE), &s->io_tmr);
    }
    memory_region_transaction_commit();
}

static void acpi_pm_unrealize(DeviceState *dev)
{
    ACPIPMState *s = (ACPIPMState *)dev;

    if (s->iobase == ACPI_PM_IOBASE_NONE && s->base >= 0) {
        acpi_pm_map(dev, s->map_io, -1);
    }
    memory_region_destroy(&s->io_evt);
    memory_region_destroy(&s->io_cnt);
    memory_region_destroy(&s->io_tmr);
    timer_free(s->tmr_timer);
    s->tmr_timer = NULL;
}

static int acpi_pm_post_load(void *opaque, int version_id)
{
    ACPIPMState *s = opaque;

    s->sci_level = !s->sci_level;       /* drive the line again */
    acpi_pm_update_sci(s);
    return 0;
}

static const VMStateField acpi_pm_fields[] = {
    VMSTATE_UINT16(sts, ACPIPMState),
    VMSTATE_UINT16(en, ACPIPMState),
    VMSTATE_UINT16(cnt, ACPIPMState),
    VMSTATE_UINT64(tmr_overflow, ACPIPMState),
    VMSTATE_BOOL(sci_level, ACPIPMState),
    VMSTATE_TIMER_PTR(tmr_timer, ACPIPMState),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_acpi_pm = {
    .name = "acpi-pm",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = acpi_pm_post_load,
    .fields = acpi_pm_fields,
};

/* The FADT's PM blocks and SCI, and \_S5 (the SLP_TYP our PM1_CNT takes
 * for soft-off: SLP_TYPa, SLP_TYPb, reserved, reserved; ACPI 6.4, 7.4.2).
 * Blocks that are not mapped yet (a PIIX4 PM function before the firmware
 * programmed its PMBA) are described at ACPI_PM_BASE, where SeaBIOS puts
 * them (QEMU's FADT says the same). */
static void acpi_pm_describe(DeviceState *dev, PlatformDesc *pd)
{
    ACPIPMState *s = (ACPIPMState *)dev;
    static const uint8_t s5[4] = { ACPI_S5_SLP_TYP, ACPI_S5_SLP_TYP, 0, 0 };
    uint32_t base = s->base >= 0 ? (uint32_t)s->base : ACPI_PM_BASE;

    pd->has_pm = true;
    pd->pm1_evt_blk = base + (ACPI_PM1_EVT_BLK - ACPI_PM_BASE);
    pd->pm1_cnt_blk = base + (ACPI_PM1_CNT_BLK - ACPI_PM_BASE);
    pd->pm_tmr_blk = base + (ACPI_PM_TMR_BLK - ACPI_PM_BASE);
    pd->sci_irq = s->sci_irq_num;
    aml_name_byte_package(pd->aml_root, "\\_S5_", s5, 4);
}

static const Property acpi_pm_props[] = {
    DEFINE_PROP_UINT32("iobase", ACPIPMState, iobase, ACPI_PM_BASE),
    DEFINE_PROP_UINT32("sci-irq", ACPIPMState, sci_irq_num, ACPI_SCI_IRQ),
    DEFINE_PROP_END_OF_LIST(),
};

static const DeviceClass acpi_pm_class = {
    .name = "acpi-pm",
    .desc = "ACPI PM1 event/control registers and PM timer",
    .bus_type = "ISA",
    .category = DEVICE_CATEGORY_MISC,
    .user_creatable = false,
    .instance_size = sizeof(ACPIPMState),
    .props = acpi_pm_props,
    .vmsd = &vmstate_acpi_pm,
    .realize = acpi_pm_realize,
    .unrealize = acpi_pm_unrealize,
    .reset = acpi_pm_reset,
    .describe = acpi_pm_describe,
};

DEVICE_CLASS_REGISTER(acpi_pm_class)

/*
 * High Precision Event Timer ("hpet"), IA-PC HPET specification 1.0a,
 * one timer block of 3 comparators at 0xfed00000 (1 KiB), as QEMU's.
 *
 * Registers (section 2.3), 64 bits each, 32- or 64-bit accesses:
 *   0x000  GCAP_ID     RO  7:0 REV_ID (1), 12:8 NUM_TIM_CAP (2: three
 *                          timers), 13 COUNT_SIZE_CAP (64-bit), 15
 *                          LEG_RT_CAP, 31:16 VENDOR_ID (0x8086),
 *                          63:32 COUNTER_CLK_PERIOD in fs (10000000)
 *   0x010  GEN_CONF        0 ENABLE_CNF (the counter runs, timers may
 *                          interrupt), 1 LEG_RT_CNF (LegacyReplacement:
 *                          timer 0 -> IRQ 0 / IOAPIC pin 2, timer 1 ->
 *                          IRQ 8, and the PIT's and RTC's own interrupts
 *                          are cut off)
 *   0x020  GINTR_STA       bit n Tn_INT_STS: set by a level-triggered
 *                          timer n, write 1 to clear (drops the line)
 *   0x0f0  MAIN_CNT        the counter; writable while halted
 *   0x100 + 0x20 * n   Tn_CONF_CAP
 *                          1 Tn_INT_TYPE_CNF (1 level), 2 Tn_INT_ENB_CNF,
 *                          3 Tn_TYPE_CNF (periodic), 4 Tn_PER_INT_CAP (RO 1),
 *                          5 Tn_SIZE_CAP (RO 1), 6 Tn_VAL_SET_CNF,
 *                          8 Tn_32MODE_CNF, 13:9 Tn_INT_ROUTE_CNF,
 *                          14 Tn_FSB_EN_CNF and 15 Tn_FSB_INT_DEL_CAP (RO 0:
 *                          no FSB delivery), 63:32 Tn_INT_ROUTE_CAP
 *   0x108 + 0x20 * n   Tn_COMPARATOR (reset all ones)
 *   0x110 + 0x20 * n   Tn_FSB_INT_ROUTE (reads 0: no FSB delivery)
 *
 * Behaviour, as QEMU's (which is the reference where the spec is vague):
 * - The counter advances 1 per 10 ns of the virtual clock while
 *   ENABLE_CNF is set and keeps its value while halted.  Writes to it
 *   while it runs are ignored (QEMU loses them too).
 * - A timer runs only while both ENABLE_CNF and its Tn_INT_ENB_CNF are
 *   set; a disabled timer neither interrupts nor sets its status bit.
 * - A comparator already behind the counter fires one tick later.
 * - Periodic: the comparator advances by the period at each interrupt; a
 *   comparator write sets only the period unless Tn_VAL_SET_CNF is set
 *   (then both; the bit clears itself).  Interrupts that would come more
 *   often than every HPET_MIN_PERIOD_NS are coalesced (QEMU has no
 *   such floor; a guest programming a 10 ns period would otherwise stall
 *   the emulator).
 * - 32-bit mode compares the low 32 bits; a one-shot timer in 32-bit mode
 *   also interrupts when the low 32 bits of the counter wrap.
 * - Edge-triggered interrupts are a pulse and leave the status bit clear;
 *   level-triggered ones hold the line until the status bit is cleared.
 * - Tn_INT_ROUTE_CNF names an output (interrupt controller input); one
 *   that Tn_INT_ROUTE_CAP (the "intcap" property, 0x4: IRQ 2 only, as
 *   QEMU's pc) does not allow delivers nothing.
 */
#include <string.h>
#include <glib.h>

#include "hw/qdev.h"
#include "hw/memory.h"
#include "hw/irq.h"
#include "hw/vmstate.h"
#include "hw/timer/hpet.h"
#include "hw/acpi/aml.h"
#include "hw/platform-desc.h"
#include "system/main-loop.h"
#include "qemu/log.h"

#define HPET_GCAP_ID        0x000
#define HPET_GEN_CONF       0x010
#define HPET_GINTR_STA      0x020
#define HPET_MAIN_CNT       0x0f0
#define HPET_TIMER_BASE     0x100
#define HPET_TIMER_STRIDE   0x20
#define HPET_TN_CONF        0x00
#define HPET_TN_CMP         0x08
#define HPET_TN_FSB         0x10

#define HPET_CAP_REV_ID         0x01
#define HPET_CAP_NUM_TIM_SHIFT  8
#define HPET_CAP_COUNT_SIZE     (1u << 13)
#define HPET_CAP_LEG_RT         (1u << 15)
#define HPET_CAP_VENDOR_SHIFT   16
#define HPET_VENDOR_ID          0x8086

#define HPET_CFG_ENABLE         (1u << 0)
#define HPET_CFG_LEG_RT         (1u << 1)
#define HPET_CFG_WRITE_MASK     (HPET_CFG_ENABLE | HPET_CFG_LEG_RT)

#define HPET_TN_INT_TYPE        (1u << 1)   /* level */
#define HPET_TN_INT_ENB         (1u << 2)
#define HPET_TN_PERIODIC        (1u << 3)
#define HPET_TN_PER_INT_CAP     (1u << 4)
#define HPET_TN_SIZE_CAP        (1u << 5)
#define HPET_TN_VAL_SET         (1u << 6)
#define HPET_TN_32BIT           (1u << 8)
#define HPET_TN_ROUTE_SHIFT     9
#define HPET_TN_ROUTE_MASK      (0x1fu << HPET_TN_ROUTE_SHIFT)
#define HPET_TN_CONF_WRITE_MASK (HPET_TN_INT_TYPE | HPET_TN_INT_ENB | HPET_TN_PERIODIC | \
                                 HPET_TN_VAL_SET | HPET_TN_32BIT | HPET_TN_ROUTE_MASK)
#define HPET_TN_CAP_SHIFT       32

#define HPET_PERIOD_NS          (HPET_PERIOD_FS / 1000000)
#define HPET_MIN_PERIOD_NS      10000       /* 100 kHz */
#define HPET_ISA_IRQ_RTC        8

typedef struct HPETState HPETState;

typedef struct HPETTimer {
    HPETState *hpet;
    unsigned n;
    QEMUTimer *qtimer;
    uint64_t config;            /* Tn_CONF_CAP, capability bits included */
    uint64_t cmp;               /* Tn_COMPARATOR: the next match */
    uint64_t period;            /* periodic mode: the comparator's step */
    bool wrap_pending;          /* 32-bit one-shot: armed for the wrap first */
    bool level;                 /* a level-triggered interrupt is held */
} HPETTimer;

struct HPETState {
    DeviceState parent;
    MemoryRegion iomem;
    qemu_irq lines[HPET_NUM_LINES];
    qemu_irq legacy_mode;       /* HPET_LEGACY_MODE_OUT */
    HPETTimer timer[HPET_NUM_TIMERS];

    /* property */
    uint32_t intcap;            /* Tn_INT_ROUTE_CAP of every timer */

    uint64_t config;            /* GEN_CONF */
    uint64_t isr;               /* GINTR_STA */
    uint64_t counter;           /* MAIN_CNT when halted; its value at enable_ns */
    int64_t enable_ns;          /* virtual time ENABLE_CNF was last set */
    bool pit_level, rtc_level;  /* the legacy inputs */
    uint32_t line_level;        /* what each output is driven to */
    bool warned_route;
};

/* ---- the counter ------------------------------------------------------ */

static bool hpet_enabled(HPETState *s)
{
    return s->config & HPET_CFG_ENABLE;
}

static bool hpet_legacy(HPETState *s)
{
    return s->config & HPET_CFG_LEG_RT;
}

static int64_t hpet_now(void)
{
    return qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
}

static uint64_t hpet_counter_at(HPETState *s, int64_t now)
{
    if (!hpet_enabled(s)) {
        return s->counter;
    }
    return s->counter + (uint64_t)((now - s->enable_ns) / HPET_PERIOD_NS);
}

/* The virtual time at which the running counter reaches cur + ticks. */
static int64_t hpet_deadline(HPETState *s, uint64_t cur, uint64_t ticks)
{
    unsigned __int128 t = (unsigned __int128)(cur - s->counter + ticks) * HPET_PERIOD_NS +
                          (uint64_t)s->enable_ns;

    return t > INT64_MAX ? INT64_MAX : (int64_t)t;
}

/* ---- interrupt lines ---------------------------------------------------- */

/* The output a timer interrupts on, or -1. */
static int hpet_timer_route(HPETTimer *t)
{
    HPETState *s = t->hpet;
    unsigned route;

    if (t->n <= 1 && hpet_legacy(s)) {
        return t->n == 0 ? 0 : HPET_ISA_IRQ_RTC;
    }
    route = (t->config & HPET_TN_ROUTE_MASK) >> HPET_TN_ROUTE_SHIFT;
    if (route >= HPET_NUM_LINES || !(s->intcap & (1u << route))) {
        if (!s->warned_route) {
            s->warned_route = true;
            qemu_log_mask(LOG_GUEST_ERROR, "hpet: timer %u routed to IRQ %u, which "
                          "Tn_INT_ROUTE_CAP 0x%x does not allow; not delivered\n", t->n, route,
                          s->intcap);
        }
        return -1;
    }
    return (int)route;
}

static bool hpet_line_wanted(HPETState *s, int line)
{
    for (unsigned i = 0; i < HPET_NUM_TIMERS; i++) {
        if (s->timer[i].level && hpet_timer_route(&s->timer[i]) == line) {
            return true;
        }
    }
    if (!hpet_legacy(s)) {
        return (line == 0 && s->pit_level) || (line == HPET_ISA_IRQ_RTC && s->rtc_level);
    }
    return false;
}

static void hpet_set_line(HPETState *s, int line, bool level)
{
    uint32_t bit = 1u << line;

    if (!!(s->line_level & bit) != level) {
        s->line_level = level ? s->line_level | bit : s->line_level & ~bit;
        qemu_set_irq(s->lines[line], level);
    }
}

static void hpet_update_lines(HPETState *s)
{
    for (int i = 0; i < HPET_NUM_LINES; i++) {
        hpet_set_line(s, i, hpet_line_wanted(s, i));
    }
    qemu_set_irq(s->legacy_mode, hpet_legacy(s));
}

/* A comparator match: a pulse, or a held level and the status bit. */
static void hpet_timer_interrupt(HPETTimer *t)
{
    HPETState *s = t->hpet;
    int line = hpet_timer_route(t);

    if (t->config & HPET_TN_INT_TYPE) {
        s->isr |= 1u << t->n;
        t->level = true;
        hpet_update_lines(s);
        return;
    }
    s->isr &= ~(1ull << t->n);
    if (line >= 0) {
        hpet_set_line(s, line, false);
        hpet_set_line(s, line, true);
        hpet_set_line(s, line, hpet_line_wanted(s, line));
    }
}

/* Drops a timer's interrupt and its status bit. */
static void hpet_timer_clear(HPETTimer *t)
{
    t->hpet->isr &= ~(1ull << t->n);
    if (t->level) {
        t->level = false;
        hpet_update_lines(t->hpet);
    }
}

static void hpet_legacy_in(void *opaque, int n, int level)
{
    HPETState *s = opaque;

    if (n == HPET_LEGACY_PIT) {
        s->pit_level = level;
    } else {
        s->rtc_level = level;
    }
    hpet_update_lines(s);
}

/* ---- comparators -------------------------------------------------------- */

static bool hpet_timer_running(HPETTimer *t)
{
    return hpet_enabled(t->hpet) && (t->config & HPET_TN_INT_ENB);
}

/* Ticks from cur to the comparator (at least 1). */
static uint64_t hpet_ticks_to_match(HPETTimer *t, uint64_t cur)
{
    if (t->config & HPET_TN_32BIT) {
        uint32_t d = (uint32_t)t->cmp - (uint32_t)cur;
        return (int32_t)d > 0 ? d : 1;
    }
    return (int64_t)(t->cmp - cur) > 0 ? t->cmp - cur : 1;
}

static void hpet_timer_arm(HPETTimer *t)
{
    HPETState *s = t->hpet;
    uint64_t cur, ticks;

    t->wrap_pending = false;
    if (!hpet_timer_running(t)) {
        timer_del(t->qtimer);
        return;
    }
    cur = hpet_counter_at(s, hpet_now());
    ticks = hpet_ticks_to_match(t, cur);
    if ((t->config & HPET_TN_32BIT) && !(t->config & HPET_TN_PERIODIC)) {
        uint64_t to_wrap = 0x100000000ull - (uint32_t)cur;
        if (to_wrap < ticks) {
            ticks = to_wrap;
            t->wrap_pending = true;
        }
    }
    timer_mod(t->qtimer, hpet_deadline(s, cur, ticks));
}

/* Periodic: move the comparator past cur by whole periods. */
static void hpet_timer_advance(HPETTimer *t, uint64_t cur)
{
    if (t->config & HPET_TN_32BIT) {
        uint32_t period = (uint32_t)t->period, cmp = (uint32_t)t->cmp;
        uint32_t behind = (uint32_t)cur - cmp;
        if ((int32_t)behind >= 0) {
            cmp += (behind / period + 1) * period;
        }
        t->cmp = cmp;
    } else {
        uint64_t behind = cur - t->cmp;
        if ((int64_t)behind >= 0) {
            t->cmp += (behind / t->period + 1) * t->period;
        }
    }
}

static void hpet_timer_expired(void *opaque)
{
    HPETTimer *t = opaque;
    HPETState *s = t->hpet;
    int64_t now = hpet_now();
    uint64_t cur = hpet_counter_at(s, now);

    if (!hpet_timer_running(t)) {
        return;
    }
    if (t->wrap_pending) {
        hpet_timer_arm(t);              /* the match itself comes next */
    } else if ((t->config & HPET_TN_PERIODIC) && t->period) {
        uint64_t floor = hpet_counter_at(s, now + HPET_MIN_PERIOD_NS);
        hpet_timer_advance(t, cur);
        if ((int64_t)(floor - t->cmp) > 0) {
            hpet_timer_advance(t, floor);   /* coalesce what comes too fast */
        }
        timer_mod(t->qtimer, hpet_deadline(s, cur, hpet_ticks_to_match(t, cur)));
    }
    hpet_timer_interrupt(t);
}

/* ---- register access ------------------------------------------------------ */

static uint64_t hpet_capabilities(void)
{
    return HPET_CAP_REV_ID | ((HPET_NUM_TIMERS - 1) << HPET_CAP_NUM_TIM_SHIFT) |
           HPET_CAP_COUNT_SIZE | HPET_CAP_LEG_RT |
           ((uint64_t)HPET_VENDOR_ID << HPET_CAP_VENDOR_SHIFT) |
           ((uint64_t)HPET_PERIOD_FS << 32);
}

/* The timer a register offset belongs to, or NULL. */
static HPETTimer *hpet_timer_at(HPETState *s, uint64_t reg)
{
    uint64_t n = (reg - HPET_TIMER_BASE) / HPET_TIMER_STRIDE;

    return reg >= HPET_TIMER_BASE && n < HPET_NUM_TIMERS ? &s->timer[n] : NULL;
}

static uint64_t hpet_read64(HPETState *s, uint64_t reg)
{
    HPETTimer *t = hpet_timer_at(s, reg);

    if (t) {
        switch ((reg - HPET_TIMER_BASE) % HPET_TIMER_STRIDE) {
        case HPET_TN_CONF:
            return t->config;
        case HPET_TN_CMP:
            return t->cmp;
        default:
            return 0;                   /* FSB route: no FSB delivery */
        }
    }
    switch (reg) {
    case HPET_GCAP_ID:
        return hpet_capabilities();
    case HPET_GEN_CONF:
        return s->config;
    case HPET_GINTR_STA:
        return s->isr;
    case HPET_MAIN_CNT:
        return hpet_counter_at(s, hpet_now());
    default:
        return 0;
    }
}

static void hpet_write_config(HPETState *s, uint64_t val)
{
    uint64_t old = s->config;
    int64_t now = hpet_now();

    if ((old ^ val) & HPET_CFG_ENABLE) {
        if (val & HPET_CFG_ENABLE) {
            s->enable_ns = now;         /* s->counter holds the halted value */
        } else {
            s->counter = hpet_counter_at(s, now);
        }
    }
    s->config = val & HPET_CFG_WRITE_MASK;
    for (unsigned i = 0; i < HPET_NUM_TIMERS; i++) {
        if (!hpet_timer_running(&s->timer[i])) {
            hpet_timer_clear(&s->timer[i]);
        }
        if ((old ^ s->config) & HPET_CFG_ENABLE) {
            hpet_timer_arm(&s->timer[i]);
        }
    }
    hpet_update_lines(s);               /* LEG_RT_CNF moves lines 0 and 8 */
}

static void hpet_write_timer_config(HPETTimer *t, uint64_t val)
{
    uint64_t old = t->config;

    t->config = (old & ~(uint64_t)HPET_TN_CONF_WRITE_MASK) | (val & HPET_TN_CONF_WRITE_MASK);
    if (t->config & HPET_TN_32BIT) {
        t->cmp = (uint32_t)t->cmp;
        t->period = (uint32_t)t->period;
    }
    if (!hpet_timer_running(t) || ((old ^ t->config) & HPET_TN_INT_TYPE)) {
        hpet_timer_clear(t);
    }
    if ((old ^ t->config) & (HPET_TN_INT_ENB | HPET_TN_PERIODIC | HPET_TN_32BIT)) {
        hpet_timer_arm(t);
    }
    hpet_update_lines(t->hpet);         /* the route may have changed */
}

static void hpet_write_comparator(HPETTimer *t, uint64_t val, uint64_t mask)
{
    if (t->config & HPET_TN_32BIT) {
        val = (uint32_t)val;
        mask = (uint32_t)mask;
    }
    if (!(t->config & HPET_TN_PERIODIC) || (t->config & HPET_TN_VAL_SET)) {
        t->cmp = (t->cmp & ~mask) | (val & mask);
    }
    if (t->config & HPET_TN_PERIODIC) {
        /* as QEMU: at most half the counter's range */
        uint64_t limit = (t->config & HPET_TN_32BIT ? UINT32_MAX : UINT64_MAX) >> 1;
        t->period = ((t->period & ~mask) | (val & mask)) & limit;
    }
    t->config &= ~(uint64_t)HPET_TN_VAL_SET;
    hpet_timer_arm(t);
}

/* A write of the bits in mask (a 32-bit half or all 64) of register reg. */
static void hpet_write64(HPETState *s, uint64_t reg, uint64_t val, uint64_t mask)
{
    HPETTimer *t = hpet_timer_at(s, reg);
    uint64_t merged = (hpet_read64(s, reg) & ~mask) | (val & mask);

    if (t) {
        switch ((reg - HPET_TIMER_BASE) % HPET_TIMER_STRIDE) {
        case HPET_TN_CONF:
            hpet_write_timer_config(t, merged);
            break;
        case HPET_TN_CMP:
            hpet_write_comparator(t, val, mask);
            break;
        }
        return;
    }
    switch (reg) {
    case HPET_GEN_CONF:
        hpet_write_config(s, merged);
        break;
    case HPET_GINTR_STA:
        for (unsigned i = 0; i < HPET_NUM_TIMERS; i++) {
            if (val & mask & s->isr & (1ull << i)) {
                hpet_timer_clear(&s->timer[i]);
            }
        }
        break;
    case HPET_MAIN_CNT:
        if (hpet_enabled(s)) {
            qemu_log_mask(LOG_GUEST_ERROR, "hpet: main counter written while running; "
                          "ignored\n");
            break;
        }
        s->counter = merged;
        for (unsigned i = 0; i < HPET_NUM_TIMERS; i++) {
            hpet_timer_arm(&s->timer[i]);
        }
        break;
    }
}

static uint64_t hpet_mmio_read(void *opaque, uint64_t addr, unsigned size)
{
    HPETState *s = opaque;
    unsigned shift = (addr & 7) * 8;

    if (addr & 3) {
        return 0;
    }
    if (size == 8 && shift) {           /* straddles two registers */
        return (hpet_read64(s, addr - 4) >> 32) | (hpet_read64(s, addr + 4) << 32);
    }
    return size == 8 ? hpet_read64(s, addr) : (uint32_t)(hpet_read64(s, addr & ~7ull) >> shift);
}

static void hpet_mmio_write(void *opaque, uint64_t addr, uint64_t data, unsigned size)
{
    HPETState *s = opaque;
    unsigned shift = (addr & 7) * 8;

    if (addr & 3) {
        return;
    }
    if (size == 8 && shift) {
        hpet_write64(s, addr - 4, data << 32, 0xffffffff00000000ull);
        hpet_write64(s, addr + 4, data >> 32, 0xffffffffull);
    } else if (size == 8) {
        hpet_write64(s, addr, data, UINT64_MAX);
    } else {
        hpet_write64(s, addr & ~7ull, (uint64_t)(uint32_t)data << shift,
                     0xffffffffull << shift);
    }
}

static const MemoryRegionOps hpet_ops = {
    .read = hpet_mmio_read,
    .write = hpet_mmio_write,
    .valid = { .min_access_size = 4, .max_access_size = 8 },
    .impl = { .min_access_size = 4, .max_access_size = 8 },
};

/* ---- life cycle ---------------------------------------------------------- */

static void hpet_reset(DeviceState *dev)
{
    HPETState *s = (HPETState *)dev;

    s->config = 0;
    s->isr = 0;
    s->counter = 0;
    s->enable_ns = 0;
    s->warned_route = false;
    for (unsigned i = 0; i < HPET_NUM_TIMERS; i++) {
        HPETTimer *t = &s->timer[i];
        timer_del(t->qtimer);
        t->config = HPET_TN_PER_INT_CAP | HPET_TN_SIZE_CAP |
                    ((uint64_t)s->intcap << HPET_TN_CAP_SHIFT);
        t->cmp = UINT64_MAX;
        t->period = 0;
        t->wrap_pending = false;
        t->level = false;
    }
    hpet_update_lines(s);
}

static void hpet_instance_init(DeviceState *dev)
{
    HPETState *s = (HPETState *)dev;

    qdev_init_gpio_out(dev, s->lines, HPET_NUM_LINES);
    qdev_init_gpio_in_named(dev, hpet_legacy_in, HPET_LEGACY_IN, 2);
    qdev_init_gpio_out_named(dev, &s->legacy_mode, HPET_LEGACY_MODE_OUT, 1);
}

static void hpet_realize(DeviceState *dev, Error **errp)
{
    HPETState *s = (HPETState *)dev;

    if (s->intcap & 0xff000000u) {
        error_setg(errp, "hpet: intcap 0x%x names interrupt inputs above 23", s->intcap);
        return;
    }
    for (unsigned i = 0; i < HPET_NUM_TIMERS; i++) {
        s->timer[i].hpet = s;
        s->timer[i].n = i;
        s->timer[i].qtimer = timer_new_ns(QEMU_CLOCK_VIRTUAL, hpet_timer_expired, &s->timer[i]);
    }
    memory_region_init_io(&s->iomem, &hpet_ops, s, "hpet", HPET_LEN);
    memory_region_add_subregion(get_system_memory(), HPET_BASE, &s->iomem);
    qdev_claim(dev, DEV_RES_MMIO, HPET_BASE, HPET_LEN, 0);
}

static void hpet_unrealize(DeviceState *dev)
{
    HPETState *s = (HPETState *)dev;

    memory_region_del_subregion(get_system_memory(), &s->iomem);
    memory_region_destroy(&s->iomem);
    for (unsigned i = 0; i < HPET_NUM_TIMERS; i++) {
        timer_free(s->timer[i].qtimer);
        s->timer[i].qtimer = NULL;
    }
}

/* Drive every output again from the loaded state. */
static int hpet_post_load(void *opaque, int version_id)
{
    HPETState *s = opaque;

    for (int i = 0; i < HPET_NUM_LINES; i++) {
        qemu_set_irq(s->lines[i], !!(s->line_level & (1u << i)));
    }
    hpet_update_lines(s);
    return 0;
}

static const VMStateDescription vmstate_hpet_timer = {
    .name = "hpet-timer",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(config, HPETTimer),
        VMSTATE_UINT64(cmp, HPETTimer),
        VMSTATE_UINT64(period, HPETTimer),
        VMSTATE_BOOL(wrap_pending, HPETTimer),
        VMSTATE_BOOL(level, HPETTimer),
        VMSTATE_TIMER_PTR(qtimer, HPETTimer),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_hpet = {
    .name = "hpet",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = hpet_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(config, HPETState),
        VMSTATE_UINT64(isr, HPETState),
        VMSTATE_UINT64(counter, HPETState),
        VMSTATE_INT64(enable_ns, HPETState),
        VMSTATE_BOOL(pit_level, HPETState),
        VMSTATE_BOOL(rtc_level, HPETState),
        VMSTATE_UINT32(line_level, HPETState),
        VMSTATE_STRUCT_ARRAY(timer, HPETState, HPET_NUM_TIMERS, vmstate_hpet_timer, HPETTimer),
        VMSTATE_END_OF_LIST()
    },
};

/* The ACPI HPET table's facts and Device (HPET) { PNP0103, its MMIO }. */
static void hpet_describe(DeviceState *dev, PlatformDesc *pd)
{
    pd->has_hpet = true;
    pd->hpet_addr = HPET_BASE;
    pd->hpet_block_id = (uint32_t)hpet_capabilities();
    aml_claims_device(pd->aml_sb, "HPET", "PNP0103", 0, dev);
}

static const Property hpet_props[] = {
    DEFINE_PROP_UINT32("intcap", HPETState, intcap, 0x4),
    DEFINE_PROP_END_OF_LIST(),
};

static const DeviceClass hpet_class = {
    .name = HPET_TYPE,
    .desc = "High Precision Event Timer (3 comparators at 0xfed00000)",
    .category = DEVICE_CATEGORY_MISC,
    .user_creatable = false,
    .instance_size = sizeof(HPETState),
    .props = hpet_props,
    .vmsd = &vmstate_hpet,
    .instance_init = hpet_instance_init,
    .realize = hpet_realize,
    .unrealize = hpet_unrealize,
    .reset = hpet_reset,
    .describe = hpet_describe,
};

DEVICE_CLASS_REGISTER(hpet_class)

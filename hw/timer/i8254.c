/*
 * Intel 8254 programmable interval timer ("isa-pit").
 *
 * "PORT 0040-005F - PIT (Programmable Interrupt Timer) (8253, 8254)"
 *   0x40  counter 0 (system timer, OUT0 = IRQ 0)
 *   0x41  counter 1 (DRAM refresh on the original PC; unused)
 *   0x42  counter 2 (speaker; GATE2 and OUT2 via port 0x61)
 *   0x43  control word (write only)
 *
 * Control word (Intel 8254 datasheet, figure 7):
 *   bits 7-6 SC: counter 0-2, or 3 = read-back command
 *   bits 5-4 RW: 0 = counter latch command, 1 = LSB, 2 = MSB, 3 = LSB then MSB
 *   bits 3-1 M:  mode 0-5 (6 and 7 are modes 2 and 3)
 *   bit  0   BCD: 1 = four-decade BCD counter, 0 = 16-bit binary
 * Read-back command: bit 5 = !COUNT, bit 4 = !STATUS, bits 3-1 = CNT2-0.
 * Status byte: OUT | NULL COUNT | RW1 RW0 M2 M1 M0 BCD.
 *
 * Nothing ticks: each counter remembers when counting (re)started on the
 * virtual clock and how many input clocks it had counted before that
 * (the gate may pause modes 0 and 4); the counter and OUT are computed
 * from the time when read.  Counter 0 keeps one timer armed for its next
 * OUT edge only, and drives IRQ 0 with OUT's level.
 *
 * Simplifications (as QEMU's userspace PIT): a count takes effect when its
 * last byte is written rather than at the next input clock, and a new
 * count in modes 2 and 3 restarts the period at once instead of at its end.
 */
#include <string.h>
#include <glib.h>

#include "hw/qdev.h"
#include "hw/isa/isa.h"
#include "hw/memory.h"
#include "hw/irq.h"
#include "hw/vmstate.h"
#include "hw/timer/i8254.h"
#include "system/main-loop.h"

#define PIT_CONTROL             3       /* port offset of the control word */

#define PIT_CW_SC_SHIFT         6
#define PIT_CW_SC_READBACK      3
#define PIT_CW_RW_SHIFT         4
#define PIT_CW_RW_LATCH         0
#define PIT_CW_RW_LSB           1
#define PIT_CW_RW_MSB           2
#define PIT_CW_RW_WORD          3
#define PIT_CW_MODE_SHIFT       1
#define PIT_CW_BCD              0x01

#define PIT_RB_NOT_COUNT        0x20
#define PIT_RB_NOT_STATUS       0x10
#define PIT_RB_CNT(i)           (0x02 << (i))

#define PIT_STATUS_OUT          0x80
#define PIT_STATUS_NULL_COUNT   0x40

#define PIT_NUM_CHANNELS        3

typedef struct PITChannel {
    uint32_t count;             /* reload value in clocks: 1..0x10000 */
    uint8_t control;            /* low 6 bits of the control word (status) */
    uint8_t mode;               /* 0-5 */
    uint8_t bcd;
    uint8_t rw_mode;            /* PIT_CW_RW_LSB/MSB/WORD */
    uint8_t read_msb;           /* LSB-then-MSB flip-flops */
    uint8_t write_msb;
    uint8_t write_lsb;          /* the LSB waiting for its MSB */
    uint8_t count_latched;      /* bytes of latched_count still to read (RW) */
    uint16_t latched_count;
    bool status_latched;
    uint8_t status;
    bool gate;
    bool null_count;            /* control word written, count not yet */
    bool loaded;                /* a count was written since the control word */
    bool triggered;             /* counting began (modes 1/5: gate edge seen) */
    bool running;               /* counting now (not held by the gate) */
    uint64_t base_ticks;        /* clocks counted before load_ns */
    int64_t load_ns;            /* virtual time counting (re)started */
} PITChannel;

typedef struct PITState {
    DeviceState parent;

    /* properties */
    uint32_t iobase;
    uint32_t irq_num;

    MemoryRegion io;
    qemu_irq irq;
    QEMUTimer *irq_timer;
    int64_t irq_next_ns;        /* counter 0's next OUT edge, or -1 */
    bool irq_level;
    /* The HPET's LegacyReplacement routing owns IRQ 0 (PIT_HPET_LEGACY_IN):
     * nobody hears counter 0's OUT, so no timer follows its edges (QEMU's
     * irq_disabled). An idle Linux leaves the PIT in its power-on 18.2 Hz
     * square wave when the HPET is its broadcast timer: 36 wake-ups a
     * second for nothing. The counters still count for port reads. */
    bool hpet_legacy;
    PITChannel ch[PIT_NUM_CHANNELS];
} PITState;

/* Time, clocks and OUT: hw/timer/i8254-common.c. */

static uint64_t pit_elapsed(PITChannel *c, int64_t now)
{
    if (!c->running || now <= c->load_ns) {
        return c->base_ticks;
    }
    return c->base_ticks + i8254_ns_to_ticks(now - c->load_ns);
}

static bool pit_out(PITChannel *c, int64_t now)
{
    if (!c->loaded) {
        return c->mode != 0;    /* mode 0 OUT goes low on the control word */
    }
    if (!c->triggered) {
        return true;            /* modes 1 and 5 wait for a gate edge */
    }
    if ((c->mode == 2 || c->mode == 3) && !c->gate) {
        return true;            /* gate low forces OUT high */
    }
    return i8254_out_at(c->mode, c->count, pit_elapsed(c, now));
}

/* Counter element value (binary, below 0x10000 or 10000 for BCD). */
static uint32_t pit_counter(PITChannel *c, int64_t now)
{
    uint32_t modulus = c->bcd ? 10000 : 0x10000;
    uint64_t n = c->count, d, p, h;

    if (!c->triggered) {
        return n % modulus;
    }
    d = pit_elapsed(c, now);
    switch (c->mode) {
    case 2:
        return (n - d % n) % modulus;
    case 3:
        /* decrements by two; an odd count spends one more clock high */
        p = d % n;
        h = (n + 1) / 2;
        if (!(n & 1)) {
            return (n - 2 * (p % (n / 2))) % modulus;
        }
        if (p < h) {
            return (p ? n + 1 - 2 * p : n) % modulus;
        }
        return (n - 1 - 2 * (p - h)) % modulus;
    default:
        /* modes 0, 1, 4, 5 wrap around and keep counting */
        return (n % modulus + modulus - d % modulus) % modulus;
    }
}

static uint16_t pit_to_bcd(uint32_t v)
{
    return (v / 1000 % 10) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10;
}

static uint32_t pit_from_bcd(uint16_t v)
{
    /* Nibbles above 9 are not BCD; take them at face value. */
    return (v >> 12) * 1000 + ((v >> 8) & 0xf) * 100 + ((v >> 4) & 0xf) * 10 + (v & 0xf);
}

static uint16_t pit_read_value(PITChannel *c, int64_t now)
{
    uint32_t v = pit_counter(c, now);

    return c->bcd ? pit_to_bcd(v) : v;
}

/* Virtual time of the next OUT edge after now, or -1 if OUT stays put. */
static int64_t pit_next_edge(PITChannel *c, int64_t now)
{
    uint64_t n = c->count, d, p, target;

    if (!c->loaded || !c->triggered || !c->running) {
        return -1;
    }
    d = pit_elapsed(c, now);
    switch (c->mode) {
    case 0:
    case 1:
        if (d >= n) {
            return -1;
        }
        target = n;
        break;
    case 2:
        if (n < 2) {
            return -1;
        }
        p = d % n;
        target = p < n - 1 ? d - p + n - 1 : d + 1;
        break;
    case 3:
        if (n < 2) {
            return -1;
        }
        p = d % n;
        target = p < (n + 1) / 2 ? d - p + (n + 1) / 2 : d - p + n;
        break;
    default:
        if (d > n) {
            return -1;
        }
        target = d < n ? n : n + 1;
        break;
    }
    return c->load_ns + i8254_ticks_to_ns(target - c->base_ticks);
}

/* IRQ 0 follows counter 0's OUT; the timer waits for its next edge. */

static void pit_irq_update(PITState *s, int64_t now)
{
    bool level;

    if (s->hpet_legacy) {
        return;
    }
    level = pit_out(&s->ch[0], now);

    if (level != s->irq_level) {
        s->irq_level = level;
        qemu_set_irq(s->irq, level);
    }
    s->irq_next_ns = pit_next_edge(&s->ch[0], now);
    if (s->irq_next_ns < 0) {
        timer_del(s->irq_timer);
    } else {
        timer_mod(s->irq_timer, s->irq_next_ns);
    }
}

static void pit_hpet_legacy(void *opaque, int n, int level)
{
    PITState *s = opaque;

    (void)n;
    if (!!level == s->hpet_legacy) {
        return;
    }
    s->hpet_legacy = level;
    if (level) {
        s->irq_next_ns = -1;
        if (s->irq_timer) {
            timer_del(s->irq_timer);
        }
    } else if (s->irq_timer) {
        pit_irq_update(s, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
    }
}

static void pit_irq_timer_cb(void *opaque)
{
    PITState *s = opaque;

    /* Evaluate at the edge itself, so a late timer still sees each edge. */
    pit_irq_update(s, s->irq_next_ns);
}

static void pit_channel_changed(PITState *s, int i, int64_t now)
{
    if (i == 0) {
        pit_irq_update(s, now);
    }
}

/* Counting. */

static void pit_restart(PITChannel *c, int64_t now)
{
    c->base_ticks = 0;
    c->load_ns = now;
    c->triggered = true;
    c->running = true;
}

static void pit_load_count(PITChannel *c, uint16_t raw, int64_t now)
{
    uint32_t n = c->bcd ? pit_from_bcd(raw) : raw;

    c->count = n ? n : (c->bcd ? 10000 : 0x10000);
    c->loaded = true;
    c->null_count = false;
    c->base_ticks = 0;
    c->load_ns = now;
    if (c->mode == 1 || c->mode == 5) {
        c->triggered = false;       /* hardware triggered: wait for GATE */
        c->running = false;
    } else {
        c->triggered = true;
        c->running = c->gate;
    }
}

static void pit_set_gate(PITState *s, int i, bool level, int64_t now)
{
    PITChannel *c = &s->ch[i];
    bool rising = level && !c->gate;

    if (level == c->gate) {
        return;
    }
    c->gate = level;
    switch (c->mode) {
    case 0:
    case 4:
        /* GATE low suspends counting; high resumes it */
        if (!c->triggered) {
            break;
        }
        if (!level && c->running) {
            c->base_ticks = pit_elapsed(c, now);
            c->running = false;
        } else if (level && !c->running) {
            c->load_ns = now;
            c->running = true;
        }
        break;
    case 1:
    case 5:
        /* a rising edge (re)triggers */
        if (rising && c->loaded) {
            pit_restart(c, now);
        }
        break;
    default:
        /* 2, 3: low stops counting (OUT high); a rising edge reloads */
        if (!level) {
            c->base_ticks = 0;
            c->running = false;
        } else if (c->loaded) {
            pit_restart(c, now);
        }
        break;
    }
    pit_channel_changed(s, i, now);
}

/* The control word and the counter registers. */

static void pit_latch_count(PITChannel *c, int64_t now)
{
    if (!c->count_latched) {
        c->latched_count = pit_read_value(c, now);
        c->count_latched = c->rw_mode;
    }
}

static void pit_latch_status(PITChannel *c, int64_t now)
{
    if (!c->status_latched) {
        c->status = (pit_out(c, now) ? PIT_STATUS_OUT : 0) |
                    (c->null_count ? PIT_STATUS_NULL_COUNT : 0) | c->control;
        c->status_latched = true;
    }
}

static void pit_write_control(PITState *s, uint8_t val, int64_t now)
{
    int sc = val >> PIT_CW_SC_SHIFT;
    int rw = (val >> PIT_CW_RW_SHIFT) & 3;
    PITChannel *c;

    if (sc == PIT_CW_SC_READBACK) {
        for (int i = 0; i < PIT_NUM_CHANNELS; i++) {
            if (!(val & PIT_RB_CNT(i))) {
                continue;
            }
            if (!(val & PIT_RB_NOT_COUNT)) {
                pit_latch_count(&s->ch[i], now);
            }
            if (!(val & PIT_RB_NOT_STATUS)) {
                pit_latch_status(&s->ch[i], now);
            }
        }
        return;
    }
    c = &s->ch[sc];
    if (rw == PIT_CW_RW_LATCH) {
        pit_latch_count(c, now);
        return;
    }
    c->control = val & 0x3f;
    c->mode = i8254_norm_mode(val >> PIT_CW_MODE_SHIFT);
    c->bcd = val & PIT_CW_BCD;
    c->rw_mode = rw;
    c->read_msb = 0;
    c->write_msb = 0;
    c->count_latched = 0;
    c->status_latched = false;
    c->null_count = true;
    c->loaded = false;
    c->triggered = false;
    c->running = false;
    pit_channel_changed(s, sc, now);
}

static void pit_write_counter(PITState *s, int i, uint8_t val, int64_t now)
{
    PITChannel *c = &s->ch[i];

    switch (c->rw_mode) {
    case PIT_CW_RW_LSB:
        pit_load_count(c, val, now);
        break;
    case PIT_CW_RW_MSB:
        pit_load_count(c, val << 8, now);
        break;
    default:
        if (!c->write_msb) {
            c->write_lsb = val;
            c->write_msb = 1;
            return;
        }
        c->write_msb = 0;
        pit_load_count(c, c->write_lsb | val << 8, now);
        break;
    }
    pit_channel_changed(s, i, now);
}

static uint8_t pit_read_counter(PITChannel *c, int64_t now)
{
    uint16_t v;

    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    if (c->count_latched) {
        v = c->latched_count;
        switch (c->count_latched) {
        case PIT_CW_RW_MSB:
            c->count_latched = 0;
            return v >> 8;
        case PIT_CW_RW_WORD:
            c->count_latched = PIT_CW_RW_MSB;
            return v & 0xff;
        default:
            c->count_latched = 0;
            return v & 0xff;
        }
    }
    v = pit_read_value(c, now);
    switch (c->rw_mode) {
    case PIT_CW_RW_MSB:
        return v >> 8;
    case PIT_CW_RW_WORD:
        c->read_msb ^= 1;
        return c->read_msb ? v & 0xff : v >> 8;
    default:
        return v & 0xff;
    }
}

static uint64_t pit_io_read(void *opaque, uint64_t addr, unsigned size)
{
    PITState *s = opaque;

    if (addr >= PIT_CONTROL) {
        return 0;               /* the control word register is write-only */
    }
    return pit_read_counter(&s->ch[addr], qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
}

static void pit_io_write(void *opaque, uint64_t addr, uint64_t data, unsigned size)
{
    PITState *s = opaque;
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

    if (addr == PIT_CONTROL) {
        pit_write_control(s, data, now);
    } else if (addr < PIT_CONTROL) {
        pit_write_counter(s, addr, data, now);
    }
}

static const MemoryRegionOps pit_io_ops = {
    .read = pit_io_read,
    .write = pit_io_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

/* Port 0x61's view of counter 2. */

bool i8254_get_ch2_out(DeviceState *dev)
{
    PITState *s = (PITState *)dev;

    return pit_out(&s->ch[2], qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
}

void i8254_set_ch2_gate(DeviceState *dev, bool level)
{
    PITState *s = (PITState *)dev;

    pit_set_gate(s, 2, level, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
}

static const PITSpeakerOps i8254_speaker_ops = {
    .get_ch2_out = i8254_get_ch2_out,
    .set_ch2_gate = i8254_set_ch2_gate,
};

/* Which PIT class implements port 0x61's operations how. */

static struct {
    const DeviceClass *dc;
    const PITSpeakerOps *ops;
} speaker_ops_table[4];

void pit_speaker_ops_register(const DeviceClass *dc, const PITSpeakerOps *ops)
{
    for (size_t i = 0; i < G_N_ELEMENTS(speaker_ops_table); i++) {
        if (!speaker_ops_table[i].dc || speaker_ops_table[i].dc == dc) {
            speaker_ops_table[i].dc = dc;
            speaker_ops_table[i].ops = ops;
            return;
        }
    }
    g_error("pit_speaker_ops_register: table full");
}

const PITSpeakerOps *pit_speaker_ops(DeviceState *pit)
{
    for (size_t i = 0; pit && i < G_N_ELEMENTS(speaker_ops_table); i++) {
        if (speaker_ops_table[i].dc == pit->klass) {
            return speaker_ops_table[i].ops;
        }
    }
    return NULL;
}

/* Life cycle. */

/* Power-on state (as QEMU's): every counter in mode 3 with a count of
 * 0x10000, so counter 0 gives the 18.2 Hz tick; GATE2 low until port 0x61
 * raises it. */
static void pit_reset(DeviceState *dev)
{
    PITState *s = (PITState *)dev;
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

    for (int i = 0; i < PIT_NUM_CHANNELS; i++) {
        PITChannel *c = &s->ch[i];

        memset(c, 0, sizeof(*c));
        c->gate = i != 2;
        c->mode = 3;
        c->rw_mode = PIT_CW_RW_WORD;
        c->control = PIT_CW_RW_WORD << PIT_CW_RW_SHIFT | 3 << PIT_CW_MODE_SHIFT;
        pit_load_count(c, 0, now);
    }
    pit_irq_update(s, now);
}

static void pit_realize(DeviceState *dev, Error **errp)
{
    PITState *s = (PITState *)dev;

    if (s->irq_num > 15) {
        error_setg(errp, "isa irq %u invalid", s->irq_num);
        return;
    }
    if (s->iobase > 0xfffc) {
        error_setg(errp, "iobase 0x%x is out of the I/O space", s->iobase);
        return;
    }
    s->irq = isa_get_irq(s->irq_num);
    s->irq_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, pit_irq_timer_cb, s);
    s->irq_next_ns = -1;
    memory_region_init_io(&s->io, &pit_io_ops, s, "pit", 4);
    isa_register_ioport(dev, &s->io, s->iobase);
}

static void pit_instance_init(DeviceState *dev)
{
    qdev_init_gpio_in_named(dev, pit_hpet_legacy, PIT_HPET_LEGACY_IN, 1);
}

static void pit_unrealize(DeviceState *dev)
{
    PITState *s = (PITState *)dev;

    memory_region_destroy(&s->io);
    timer_free(s->irq_timer);
    s->irq_timer = NULL;
}

static int pit_post_load(void *opaque, int version_id)
{
    PITState *s = opaque;
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

    for (int i = 0; i < PIT_NUM_CHANNELS; i++) {
        PITChannel *c = &s->ch[i];

        c->mode = i8254_norm_mode(c->mode);
        c->rw_mode &= 3;
        c->rw_mode = c->rw_mode ? c->rw_mode : PIT_CW_RW_WORD;
        c->count_latched &= 3;
        if (c->count == 0 || c->count > 0x10000) {
            c->count = 0x10000;
        }
    }
    /* Drive IRQ 0 afresh from the loaded state. */
    s->irq_level = !pit_out(&s->ch[0], now);
    pit_irq_update(s, now);
    return 0;
}

static const VMStateField pit_channel_fields[] = {
    VMSTATE_UINT32(count, PITChannel),
    VMSTATE_UINT8(control, PITChannel),
    VMSTATE_UINT8(mode, PITChannel),
    VMSTATE_UINT8(bcd, PITChannel),
    VMSTATE_UINT8(rw_mode, PITChannel),
    VMSTATE_UINT8(read_msb, PITChannel),
    VMSTATE_UINT8(write_msb, PITChannel),
    VMSTATE_UINT8(write_lsb, PITChannel),
    VMSTATE_UINT8(count_latched, PITChannel),
    VMSTATE_UINT16(latched_count, PITChannel),
    VMSTATE_BOOL(status_latched, PITChannel),
    VMSTATE_UINT8(status, PITChannel),
    VMSTATE_BOOL(gate, PITChannel),
    VMSTATE_BOOL(null_count, PITChannel),
    VMSTATE_BOOL(loaded, PITChannel),
    VMSTATE_BOOL(triggered, PITChannel),
    VMSTATE_BOOL(running, PITChannel),
    VMSTATE_UINT64(base_ticks, PITChannel),
    VMSTATE_INT64(load_ns, PITChannel),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_pit_channel = {
    .name = "isa-pit/channel",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = pit_channel_fields,
};

static const VMStateField pit_fields[] = {
    VMSTATE_STRUCT_ARRAY(ch, PITState, PIT_NUM_CHANNELS, vmstate_pit_channel, PITChannel),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_pit = {
    .name = "isa-pit",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = pit_post_load,
    .fields = pit_fields,
};

static const Property pit_props[] = {
    DEFINE_PROP_UINT32("iobase", PITState, iobase, PIT_ISA_BASE),
    DEFINE_PROP_UINT32("irq", PITState, irq_num, PIT_ISA_IRQ),
    DEFINE_PROP_END_OF_LIST(),
};

static const DeviceClass pit_class = {
    .name = "isa-pit",
    .desc = "Intel 8254 programmable interval timer",
    .bus_type = "ISA",
    .category = DEVICE_CATEGORY_MISC,
    .user_creatable = false,
    .instance_size = sizeof(PITState),
    .props = pit_props,
    .vmsd = &vmstate_pit,
    .instance_init = pit_instance_init,
    .realize = pit_realize,
    .unrealize = pit_unrealize,
    .reset = pit_reset,
};

DEVICE_CLASS_REGISTER(pit_class)

static void __attribute__((constructor)) pit_speaker_ops_init(void)
{
    pit_speaker_ops_register(&pit_class, &i8254_speaker_ops);
}

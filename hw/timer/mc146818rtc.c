/*
 * MC146818 real-time clock with 128 bytes of CMOS RAM ("mc146818rtc").
 *
 * "PORT 0070-007F - CMOS RAM/RTC (REAL TIME CLOCK)"
 *   0x70  index (write; bit 7 is the NMI mask on a PC and is ignored here)
 *   0x71  data
 *
 * CMOS map (Motorola MC146818A datasheet, figure 3 and table 2):
 *   0x00 seconds   0x01 seconds alarm   0x02 minutes   0x03 minutes alarm
 *   0x04 hours     0x05 hours alarm     0x06 day of week (1 = Sunday)
 *   0x07 date of month   0x08 month   0x09 year
 *   0x0a register A: UIP | DV2-0 (time base) | RS3-0 (periodic rate)
 *   0x0b register B: SET | PIE | AIE | UIE | SQWE | DM | 24/12 | DSE
 *   0x0c register C: IRQF | PF | AF | UF (read-only, cleared by reading)
 *   0x0d register D: VRT (read-only)
 *   0x32 century (the PC/AT convention QEMU follows); 0x37 aliases it
 *
 * Time keeping: while the clock runs, guest time is base_sec plus the
 * virtual clock elapsed since ref_vns, so it stops with the VM and moves
 * with qtest's clock_step; the time registers are recomputed when read.
 * While SET is set (or the divider is held in reset) the registers are
 * the truth and the guest may write them; when the clock restarts they are
 * converted back into base_sec.  The flags AF and UF are evaluated lazily
 * for the interval since the last evaluation; PF comes from the periodic
 * timer; the timers exist only while an interrupt that needs them is
 * enabled.
 */
#include <string.h>
#include <glib.h>

#include "hw/qdev.h"
#include "hw/isa/isa.h"
#include "hw/memory.h"
#include "hw/irq.h"
#include "hw/vmstate.h"
#include "hw/timer/mc146818rtc.h"
#include "hw/acpi/aml.h"
#include "hw/platform-desc.h"
#include "system/main-loop.h"
#include "system/system.h"

#define RTC_SECONDS             0x00
#define RTC_SECONDS_ALARM       0x01
#define RTC_MINUTES             0x02
#define RTC_MINUTES_ALARM       0x03
#define RTC_HOURS               0x04
#define RTC_HOURS_ALARM         0x05
#define RTC_DAY_OF_WEEK         0x06
#define RTC_DAY_OF_MONTH        0x07
#define RTC_MONTH               0x08
#define RTC_YEAR                0x09
#define RTC_REG_A               0x0a
#define RTC_REG_B               0x0b
#define RTC_REG_C               0x0c
#define RTC_REG_D               0x0d
#define RTC_CENTURY             0x32
#define RTC_IBM_PS2_CENTURY     0x37

#define REG_A_UIP               0x80
#define REG_A_DV                0x70
#define REG_A_RS                0x0f
#define REG_A_DV_NORMAL         0x20    /* 32.768 kHz time base */

#define REG_B_SET               0x80
#define REG_B_PIE               0x40
#define REG_B_AIE               0x20
#define REG_B_UIE               0x10
#define REG_B_SQWE              0x08
#define REG_B_DM                0x04    /* 1: binary, 0: BCD */
#define REG_B_24H               0x02
#define REG_B_DSE               0x01

#define REG_C_IRQF              0x80
#define REG_C_PF                0x40
#define REG_C_AF                0x20
#define REG_C_UF                0x10
#define REG_C_MASK              0x70

#define REG_D_VRT               0x80

/* An alarm byte with bits 7:6 set matches any value. */
#define RTC_ALARM_DONT_CARE     0xc0

#define RTC_NVRAM_SIZE          128
#define RTC_FREQ                32768
/* UIP is set for the last 244 us (8 cycles of 32.768 kHz) before an update. */
#define RTC_UIP_HOLD_NS         (8 * NANOSECONDS_PER_SECOND / RTC_FREQ)

typedef struct RTCState {
    DeviceState parent;

    /* properties */
    uint32_t iobase;
    uint32_t irq_num;
    int32_t base_year;

    MemoryRegion io;
    qemu_irq irq;
    QEMUTimer *periodic_timer;
    QEMUTimer *update_timer;

    uint8_t cmos_data[RTC_NVRAM_SIZE];
    uint8_t cmos_index;
    bool irq_level;
    int64_t base_sec;           /* guest time (s since 1970) at ref_vns */
    int64_t ref_vns;            /* virtual clock ns at a second boundary */
    int64_t last_eval_vns;      /* flags evaluated up to this virtual time */
    int64_t periodic_cycles;    /* running periodic rate (32.768 kHz cycles), 0: off */
    int64_t next_periodic_cycles;   /* virtual clock, in 32.768 kHz cycles */
} RTCState;

/* Calendar arithmetic (proleptic Gregorian, any int64 input, no asserts). */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
    return a - floor_div(a, b) * b;
}

/* Days since 1970-01-01 (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = floor_div(y, 400);
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = floor_div(z, 146097);
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

/* Register encoding per register B's DM and 24/12 bits. */

static uint8_t rtc_to_reg(RTCState *s, int v)
{
    if (s->cmos_data[RTC_REG_B] & REG_B_DM) {
        return v;
    }
    return ((v / 10) % 10) << 4 | (v % 10);
}

static int rtc_from_reg(RTCState *s, uint8_t v)
{
    if (s->cmos_data[RTC_REG_B] & REG_B_DM) {
        return v;
    }
    return (v >> 4) * 10 + (v & 0x0f);
}

static uint8_t rtc_hour_to_reg(RTCState *s, int hour)
{
    if (s->cmos_data[RTC_REG_B] & REG_B_24H) {
        return rtc_to_reg(s, hour);
    }
    /* 12-hour mode: 12, 1..11 with bit 7 set for PM. */
    return rtc_to_reg(s, hour % 12 ? hour % 12 : 12) | (hour >= 12 ? 0x80 : 0);
}

static int rtc_hour_from_reg(RTCState *s, uint8_t v)
{
    if (s->cmos_data[RTC_REG_B] & REG_B_24H) {
        return rtc_from_reg(s, v);
    }
    return rtc_from_reg(s, v & 0x7f) % 12 + ((v & 0x80) ? 12 : 0);
}

static bool rtc_divider_running(RTCState *s)
{
    return (s->cmos_data[RTC_REG_A] & REG_A_DV) <= REG_A_DV_NORMAL;
}

static bool rtc_running(RTCState *s)
{
    return !(s->cmos_data[RTC_REG_B] & REG_B_SET) && rtc_divider_running(s);
}

static int64_t rtc_guest_sec(RTCState *s, int64_t vns)
{
    return s->base_sec + floor_div(vns - s->ref_vns, NANOSECONDS_PER_SECOND);
}

static int64_t rtc_guest_phase(RTCState *s, int64_t vns)
{
    return floor_mod(vns - s->ref_vns, NANOSECONDS_PER_SECOND);
}

/* Time registers <- guest seconds. */
static void rtc_time_to_regs(RTCState *s, int64_t sec)
{
    int64_t days = floor_div(sec, 86400);
    int64_t tod = sec - days * 86400;
    int64_t year;
    int month, mday;

    civil_from_days(days, &year, &month, &mday);
    year -= s->base_year;
    if (year < 0) {
        year = 0;
    }
    s->cmos_data[RTC_SECONDS] = rtc_to_reg(s, tod % 60);
    s->cmos_data[RTC_MINUTES] = rtc_to_reg(s, (tod / 60) % 60);
    s->cmos_data[RTC_HOURS] = rtc_hour_to_reg(s, tod / 3600);
    /* 1970-01-01 was a Thursday; Sunday is 1. */
    s->cmos_data[RTC_DAY_OF_WEEK] = rtc_to_reg(s, floor_mod(days + 4, 7) + 1);
    s->cmos_data[RTC_DAY_OF_MONTH] = rtc_to_reg(s, mday);
    s->cmos_data[RTC_MONTH] = rtc_to_reg(s, month);
    s->cmos_data[RTC_YEAR] = rtc_to_reg(s, year % 100);
    s->cmos_data[RTC_CENTURY] = rtc_to_reg(s, (year / 100) % 100);
}

/* Guest seconds <- time registers (whatever the guest stored in them). */
static int64_t rtc_regs_to_time(RTCState *s)
{
    int64_t year = rtc_from_reg(s, s->cmos_data[RTC_YEAR]) +
                   rtc_from_reg(s, s->cmos_data[RTC_CENTURY]) * 100 + s->base_year;
    int month = rtc_from_reg(s, s->cmos_data[RTC_MONTH]);
    int mday = rtc_from_reg(s, s->cmos_data[RTC_DAY_OF_MONTH]);
    int64_t days;

    month = CLAMP(month, 1, 12);
    days = days_from_civil(year, month, 1) + mday - 1;
    return days * 86400 + rtc_hour_from_reg(s, s->cmos_data[RTC_HOURS]) * 3600 +
           rtc_from_reg(s, s->cmos_data[RTC_MINUTES]) * 60 +
           rtc_from_reg(s, s->cmos_data[RTC_SECONDS]);
}

/* Restart the clock from the registers; the next update after phase_ns. */
static void rtc_set_time_from_regs(RTCState *s, int64_t now, int64_t phase_ns)
{
    s->base_sec = rtc_regs_to_time(s);
    s->ref_vns = now - phase_ns;
    s->last_eval_vns = now;
}

static void rtc_refresh_regs(RTCState *s, int64_t now)
{
    if (rtc_running(s)) {
        rtc_time_to_regs(s, rtc_guest_sec(s, now));
    }
}

static bool rtc_alarm_byte_matches(uint8_t alarm, uint8_t now)
{
    return (alarm & RTC_ALARM_DONT_CARE) == RTC_ALARM_DONT_CARE || alarm == now;
}

/* Does the alarm fire at the update that starts second `sec`? */
static bool rtc_alarm_matches(RTCState *s, int64_t sec)
{
    int64_t tod = floor_mod(sec, 86400);

    return rtc_alarm_byte_matches(s->cmos_data[RTC_SECONDS_ALARM], rtc_to_reg(s, tod % 60)) &&
           rtc_alarm_byte_matches(s->cmos_data[RTC_MINUTES_ALARM],
                                  rtc_to_reg(s, (tod / 60) % 60)) &&
           rtc_alarm_byte_matches(s->cmos_data[RTC_HOURS_ALARM],
                                  rtc_hour_to_reg(s, tod / 3600));
}

/* Periodic rate in 32.768 kHz cycles, or 0 if off (datasheet table 5). */
static int64_t rtc_period_cycles(RTCState *s)
{
    int rs = s->cmos_data[RTC_REG_A] & REG_A_RS;

    if (rs == 0) {
        return 0;
    }
    if (rs <= 2) {
        rs += 7;                /* 1 and 2 repeat rates 8 and 9 (256, 128 Hz) */
    }
    return 1 << (rs - 1);
}

/* 32.768 kHz cycles in elapsed >= 0 ns, without overflow. */
static int64_t rtc_ns_to_cycles(int64_t elapsed)
{
    return (elapsed / NANOSECONDS_PER_SECOND) * RTC_FREQ +
           (elapsed % NANOSECONDS_PER_SECOND) * RTC_FREQ / NANOSECONDS_PER_SECOND;
}

static int64_t rtc_cycles_to_ns_ceil(int64_t cycles)
{
    return (cycles / RTC_FREQ) * NANOSECONDS_PER_SECOND +
           ((cycles % RTC_FREQ) * NANOSECONDS_PER_SECOND + RTC_FREQ - 1) / RTC_FREQ;
}

static void rtc_update_irq(RTCState *s)
{
    bool level = s->cmos_data[RTC_REG_C] & s->cmos_data[RTC_REG_B] & REG_C_MASK;

    /* IRQF = PF.PIE + AF.AIE + UF.UIE; the IRQ pin is active while it is set. */
    if (level) {
        s->cmos_data[RTC_REG_C] |= REG_C_IRQF;
    } else {
        s->cmos_data[RTC_REG_C] &= ~REG_C_IRQF;
    }
    if (level != s->irq_level) {
        s->irq_level = level;
        qemu_set_irq(s->irq, level);
    }
}

/* Set UF and AF for the updates between last_eval_vns and now. */
static void rtc_eval_flags(RTCState *s, int64_t now)
{
    int64_t last = s->last_eval_vns;

    if (now <= last) {
        return;
    }
    s->last_eval_vns = now;
    if (rtc_running(s)) {
        int64_t from = rtc_guest_sec(s, last), to = rtc_guest_sec(s, now);
        int64_t sec;

        if (to > from) {
            s->cmos_data[RTC_REG_C] |= REG_C_UF;
            /* The alarm compares time of day only: one day covers it all. */
            if (to - from > 86400) {
                from = to - 86400;
            }
            for (sec = from + 1; sec <= to && !(s->cmos_data[RTC_REG_C] & REG_C_AF); sec++) {
                if (rtc_alarm_matches(s, sec)) {
                    s->cmos_data[RTC_REG_C] |= REG_C_AF;
                }
            }
        }
    }
}

/*
 * The periodic interrupt, as on QEMU: its phase starts when PIE is set
 * (not at the divider chain's edges), and a rate change keeps the time
 * since the last interrupt, so the next one comes one new period after
 * it (or at once if that is already past).  PF is only produced while
 * PIE is set (the chip sets it regardless).
 */
static void rtc_periodic_update(RTCState *s, int64_t now)
{
    int64_t period = 0;
    int64_t cur, lost = 0;

    if ((s->cmos_data[RTC_REG_B] & REG_B_PIE) && rtc_divider_running(s)) {
        period = rtc_period_cycles(s);
    }
    if (!period) {
        s->periodic_cycles = 0;
        timer_del(s->periodic_timer);
        return;
    }
    if (period == s->periodic_cycles && timer_pending(s->periodic_timer)) {
        return;
    }
    cur = rtc_ns_to_cycles(MAX(now, 0));
    if (s->periodic_cycles && timer_pending(s->periodic_timer)) {
        lost = cur - (s->next_periodic_cycles - s->periodic_cycles);
        lost = CLAMP(lost, 0, period);
    }
    s->periodic_cycles = period;
    s->next_periodic_cycles = cur + period - lost;
    timer_mod(s->periodic_timer, rtc_cycles_to_ns_ceil(s->next_periodic_cycles));
}

static void rtc_periodic_cb(void *opaque)
{
    RTCState *s = opaque;
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    int64_t cur = rtc_ns_to_cycles(MAX(now, 0));
    int64_t next;

    if (!s->periodic_cycles) {
        return;
    }
    s->cmos_data[RTC_REG_C] |= REG_C_PF;
    rtc_update_irq(s);
    /* Keep the phase; after a long stall skip the ticks already missed. */
    next = s->next_periodic_cycles + s->periodic_cycles;
    if (next <= cur) {
        next += ((cur - next) / s->periodic_cycles + 1) * s->periodic_cycles;
    }
    s->next_periodic_cycles = next;
    timer_mod(s->periodic_timer, rtc_cycles_to_ns_ceil(next));
}

/* Arm the timers the enabled interrupts need, and only those. */
static void rtc_schedule(RTCState *s, int64_t now)
{
    rtc_periodic_update(s, now);
    if ((s->cmos_data[RTC_REG_B] & (REG_B_UIE | REG_B_AIE)) && rtc_running(s)) {
        int64_t next = floor_div(now - s->ref_vns, NANOSECONDS_PER_SECOND) + 1;

        timer_mod(s->update_timer, s->ref_vns + next * NANOSECONDS_PER_SECOND);
    } else {
        timer_del(s->update_timer);
    }
}

static void rtc_update_cb(void *opaque)
{
    RTCState *s = opaque;
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

    rtc_eval_flags(s, now);
    rtc_update_irq(s);
    rtc_schedule(s, now);
}

static bool rtc_update_in_progress(RTCState *s, int64_t now)
{
    return rtc_running(s) &&
           rtc_guest_phase(s, now) >= NANOSECONDS_PER_SECOND - RTC_UIP_HOLD_NS;
}

/*
 * Apply a change of register A or B, handling the clock stopping
 * (registers freeze at the current time) and restarting (registers become
 * the time; the first update follows after phase_ns).
 */
static void rtc_write_control(RTCState *s, int reg, uint8_t val, int64_t now)
{
    bool was_running = rtc_running(s);
    bool divider_was_reset = !rtc_divider_running(s);
    int64_t phase;

    uint8_t old = s->cmos_data[reg];

    rtc_refresh_regs(s, now);
    phase = rtc_guest_phase(s, now);
    s->cmos_data[reg] = val;
    if (!was_running && rtc_running(s)) {
        /* Leaving divider reset: the first update comes 500 ms later. */
        if (divider_was_reset) {
            phase = NANOSECONDS_PER_SECOND / 2;
        }
        /* The registers are in the format they were written in (as QEMU). */
        s->cmos_data[reg] = old;
        rtc_set_time_from_regs(s, now, phase);
        s->cmos_data[reg] = val;
    }
}

static void rtc_write_data(RTCState *s, uint8_t val)
{
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    int idx = s->cmos_index;

    rtc_eval_flags(s, now);
    switch (idx) {
    case RTC_SECONDS:
    case RTC_MINUTES:
    case RTC_HOURS:
    case RTC_DAY_OF_WEEK:
    case RTC_DAY_OF_MONTH:
    case RTC_MONTH:
    case RTC_YEAR:
    case RTC_IBM_PS2_CENTURY:
    case RTC_CENTURY:
        if (idx == RTC_IBM_PS2_CENTURY) {
            idx = RTC_CENTURY;
        }
        if (rtc_running(s)) {
            /* Setting a field while running sets the time at once. */
            rtc_refresh_regs(s, now);
            s->cmos_data[idx] = val;
            rtc_set_time_from_regs(s, now, rtc_guest_phase(s, now));
        } else {
            s->cmos_data[idx] = val;
        }
        break;
    case RTC_REG_A:
        /* UIP is read-only. */
        rtc_write_control(s, RTC_REG_A, val & ~REG_A_UIP, now);
        break;
    case RTC_REG_B:
        /* Setting SET clears UIE (datasheet, register B bit 4). */
        if (val & REG_B_SET) {
            val &= ~REG_B_UIE;
        }
        rtc_write_control(s, RTC_REG_B, val, now);
        break;
    case RTC_REG_C:
    case RTC_REG_D:
        break;                  /* read-only */
    default:
        s->cmos_data[idx] = val;
        break;
    }
    rtc_update_irq(s);
    rtc_schedule(s, now);
}

static uint8_t rtc_read_data(RTCState *s)
{
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    int idx = s->cmos_index;
    uint8_t ret;

    switch (idx) {
    case RTC_SECONDS:
    case RTC_MINUTES:
    case RTC_HOURS:
    case RTC_DAY_OF_WEEK:
    case RTC_DAY_OF_MONTH:
    case RTC_MONTH:
    case RTC_YEAR:
    case RTC_CENTURY:
    case RTC_IBM_PS2_CENTURY:
        rtc_refresh_regs(s, now);
        return s->cmos_data[idx == RTC_IBM_PS2_CENTURY ? RTC_CENTURY : idx];
    case RTC_REG_A:
        ret = s->cmos_data[RTC_REG_A] & ~REG_A_UIP;
        return ret | (rtc_update_in_progress(s, now) ? REG_A_UIP : 0);
    case RTC_REG_C:
        rtc_eval_flags(s, now);
        rtc_update_irq(s);
        ret = s->cmos_data[RTC_REG_C];
        s->cmos_data[RTC_REG_C] = 0;
        rtc_update_irq(s);
        return ret;
    default:
        return s->cmos_data[idx];
    }
}

static uint64_t rtc_io_read(void *opaque, uint64_t addr, unsigned size)
{
    RTCState *s = opaque;

    if ((addr & 1) == 0) {
        return 0xff;            /* the index register is write-only */
    }
    return rtc_read_data(s);
}

static void rtc_io_write(void *opaque, uint64_t addr, uint64_t data, unsigned size)
{
    RTCState *s = opaque;

    if ((addr & 1) == 0) {
        s->cmos_index = data & 0x7f;
    } else {
        rtc_write_data(s, data);
    }
}

static const MemoryRegionOps rtc_io_ops = {
    .read = rtc_io_read,
    .write = rtc_io_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

void rtc_set_memory(DeviceState *dev, int addr, uint8_t val)
{
    RTCState *s = (RTCState *)dev;

    if (addr >= 0 && addr < RTC_NVRAM_SIZE) {
        s->cmos_data[addr] = val;
    }
}

uint8_t rtc_get_memory(DeviceState *dev, int addr)
{
    RTCState *s = (RTCState *)dev;

    if (addr >= 0 && addr < RTC_NVRAM_SIZE) {
        return s->cmos_data[addr];
    }
    return 0xff;
}

void rtc_set_pc_memory(DeviceState *dev, uint64_t below_4g, uint64_t above_4g,
                       unsigned boot_cpus)
{
    uint64_t val;

    val = MIN(below_4g / 1024, 640);
    rtc_set_memory(dev, 0x15, val);
    rtc_set_memory(dev, 0x16, val >> 8);

    val = below_4g > 1024 * 1024 ? (below_4g - 1024 * 1024) / 1024 : 0;
    val = MIN(val, 0xffff);
    rtc_set_memory(dev, 0x17, val);
    rtc_set_memory(dev, 0x18, val >> 8);
    rtc_set_memory(dev, 0x30, val);
    rtc_set_memory(dev, 0x31, val >> 8);

    val = below_4g > 16 * 1024 * 1024 ? (below_4g - 16 * 1024 * 1024) / 65536 : 0;
    val = MIN(val, 0xffff);
    rtc_set_memory(dev, 0x34, val);
    rtc_set_memory(dev, 0x35, val >> 8);

    val = above_4g / 65536;
    rtc_set_memory(dev, 0x5b, val);
    rtc_set_memory(dev, 0x5c, val >> 8);
    rtc_set_memory(dev, 0x5d, val >> 16);

    rtc_set_memory(dev, 0x5f, boot_cpus ? boot_cpus - 1 : 0);
}

/* Pin RESET: clears the interrupt enables and flags, not the time. */
static void rtc_reset(DeviceState *dev)
{
    RTCState *s = (RTCState *)dev;
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

    rtc_eval_flags(s, now);
    s->cmos_data[RTC_REG_B] &= ~(REG_B_PIE | REG_B_AIE | REG_B_UIE | REG_B_SQWE);
    s->cmos_data[RTC_REG_C] = 0;
    s->last_eval_vns = now;
    s->irq_level = false;
    qemu_irq_lower(s->irq);
    rtc_schedule(s, now);
}

static void rtc_realize(DeviceState *dev, Error **errp)
{
    RTCState *s = (RTCState *)dev;
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    int64_t host = qemu_clock_get_ns(QEMU_CLOCK_HOST);

    if (s->irq_num > 15) {
        error_setg(errp, "isa irq %u invalid", s->irq_num);
        return;
    }
    if (s->iobase > 0xfffe) {
        error_setg(errp, "iobase 0x%x is out of the I/O space", s->iobase);
        return;
    }
    s->irq = isa_claim_irq(dev, s->irq_num, 0);
    s->periodic_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, rtc_periodic_cb, s);
    s->update_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, rtc_update_cb, s);

    s->cmos_data[RTC_REG_A] = 0x26;     /* 32.768 kHz, 1024 Hz periodic rate */
    s->cmos_data[RTC_REG_B] = REG_B_24H;
    s->cmos_data[RTC_REG_C] = 0;
    s->cmos_data[RTC_REG_D] = REG_D_VRT;
    s->base_sec = floor_div(host, NANOSECONDS_PER_SECOND) + rtc_host_offset_s;
    s->ref_vns = now - floor_mod(host, NANOSECONDS_PER_SECOND);
    s->last_eval_vns = now;
    rtc_time_to_regs(s, s->base_sec);

    memory_region_init_io(&s->io, &rtc_io_ops, s, "rtc", 2);
    isa_register_ioport(dev, &s->io, s->iobase);
}

static void rtc_unrealize(DeviceState *dev)
{
    RTCState *s = (RTCState *)dev;

    memory_region_destroy(&s->io);
    timer_free(s->periodic_timer);
    timer_free(s->update_timer);
    s->periodic_timer = NULL;
    s->update_timer = NULL;
}

static int rtc_post_load(void *opaque, int version_id)
{
    RTCState *s = opaque;

    s->cmos_index &= 0x7f;
    if (s->periodic_cycles < 0 || s->periodic_cycles > RTC_FREQ) {
        s->periodic_cycles = 0;
        timer_del(s->periodic_timer);
    }
    s->irq_level = !(s->cmos_data[RTC_REG_C] & REG_C_IRQF);
    rtc_update_irq(s);
    rtc_schedule(s, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
    return 0;
}

static const VMStateField rtc_fields[] = {
    VMSTATE_BUFFER(cmos_data, RTCState),
    VMSTATE_UINT8(cmos_index, RTCState),
    VMSTATE_INT64(base_sec, RTCState),
    VMSTATE_INT64(ref_vns, RTCState),
    VMSTATE_INT64(last_eval_vns, RTCState),
    VMSTATE_INT64(periodic_cycles, RTCState),
    VMSTATE_INT64(next_periodic_cycles, RTCState),
    VMSTATE_TIMER_PTR(periodic_timer, RTCState),
    VMSTATE_TIMER_PTR(update_timer, RTCState),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_rtc = {
    .name = "mc146818rtc",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = rtc_post_load,
    .fields = rtc_fields,
};

/* Device (RTC) { _HID PNP0B00, _CRS: its ports and IRQ 8 }. */
static void rtc_describe(DeviceState *dev, PlatformDesc *pd)
{
    aml_claims_device(pd->aml_sb, "RTC_", "PNP0B00", -1, dev);
}

static const Property rtc_props[] = {
    DEFINE_PROP_UINT32("iobase", RTCState, iobase, RTC_ISA_BASE),
    DEFINE_PROP_UINT32("irq", RTCState, irq_num, RTC_ISA_IRQ),
    DEFINE_PROP_INT32("base_year", RTCState, base_year, 0),
    DEFINE_PROP_END_OF_LIST(),
};

static const DeviceClass rtc_class = {
    .name = "mc146818rtc",
    .desc = "MC146818 real-time clock and CMOS RAM",
    .bus_type = "ISA",
    .category = DEVICE_CATEGORY_MISC,
    .user_creatable = false,
    .instance_size = sizeof(RTCState),
    .props = rtc_props,
    .vmsd = &vmstate_rtc,
    .realize = rtc_realize,
    .unrealize = rtc_unrealize,
    .reset = rtc_reset,
    .describe = rtc_describe,
};

DEVICE_CLASS_REGISTER(rtc_class)

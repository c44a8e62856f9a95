/*
 * i8254 PIT (0x40-0x43, port 0x61 gate/output) and the qtest virtual
 * clock: without a CPU, device timers advance only when the test steps the
 * clock (clock_step / clock_set).
 */
#include <stdlib.h>
#include "qtest-harness.h"

#define PIT_HZ 1193182ULL

static uint64_t ticks_to_ns(uint64_t ticks)
{
    return (ticks * 1000000000ULL + PIT_HZ - 1) / PIT_HZ;
}

/* latch and read a 16-bit counter (lobyte/hibyte access mode) */
static uint16_t pit_latch(QTestState *s, int ch)
{
    uint8_t lo, hi;
    qtest_outb(s, 0x43, ch << 6);                  /* counter latch */
    lo = qtest_inb(s, 0x40 + ch);
    hi = qtest_inb(s, 0x40 + ch);
    return lo | hi << 8;
}

static void pit_program(QTestState *s, int ch, int mode, uint16_t count)
{
    qtest_outb(s, 0x43, ch << 6 | 0x30 | mode << 1);   /* lo/hi, binary */
    qtest_outb(s, 0x40 + ch, count & 0xff);
    qtest_outb(s, 0x40 + ch, count >> 8);
}

static void test_clock_commands(void)
{
    QTestState *s = qtest_init("");
    int64_t t0 = qtest_clock_step(s, 0);
    int64_t t1;

    QT_ASSERT_SCMP(t0, >=, 0);
    usleep(100 * 1000);
    /* the virtual clock does not run by itself */
    QT_ASSERT_SCMP(qtest_clock_step(s, 0), ==, t0);
    t1 = qtest_clock_step(s, 1000);
    QT_ASSERT_SCMP(t1, ==, t0 + 1000);
    t1 = qtest_clock_step(s, 123456789);
    QT_ASSERT_SCMP(t1, ==, t0 + 1000 + 123456789);
    t1 = qtest_clock_set(s, t1 + 5000000);
    QT_ASSERT_SCMP(t1, ==, t0 + 1000 + 123456789 + 5000000);
    /* boundary: clock_set never moves the clock backwards */
    QT_ASSERT_SCMP(qtest_clock_set(s, t0), ==, t1);
    /* clock_step without argument goes to the next timer deadline: arm
     * PIT channel 0 (mode 2, 1000 ticks) so that one exists; the deadline
     * is in the future and at most one period away */
    pit_program(s, 0, 2, 1000);
    t0 = qtest_clock_step_next(s);
    QT_ASSERT_SCMP(t0, >, t1);
    QT_ASSERT_SCMP(t0 - t1, <=, (int64_t)ticks_to_ns(1000) + 1000);
    qtest_quit(s);
}

static void test_counter_frozen_then_steps(void)
{
    QTestState *s = qtest_init("");
    uint16_t v1, v2, v3;

    pit_program(s, 0, 2, 0x8000);                  /* rate generator */
    v1 = pit_latch(s, 0);
    QT_ASSERT_MSG(v1 >= 0x7ffe && v1 <= 0x8000, "v1=%#x", v1);
    usleep(50 * 1000);                             /* real time passes */
    v2 = pit_latch(s, 0);
    QT_ASSERT_EQ(v2, v1);                          /* ... counter doesn't */
    qtest_clock_step(s, 1000000);                  /* 1 ms = 1193.18 ticks */
    v3 = pit_latch(s, 0);
    QT_ASSERT_MSG(v1 - v3 >= 1192 && v1 - v3 <= 1195,
                  "v1=%#x v3=%#x", v1, v3);
    /* mode 2 reloads: after a whole period it is back near the start */
    qtest_clock_step(s, ticks_to_ns(0x8000));
    v2 = pit_latch(s, 0);
    QT_ASSERT_MSG(abs((int)v2 - (int)v3) <= 2, "v2=%#x v3=%#x", v2, v3);
    qtest_quit(s);
}

static void test_irq0_oneshot(void)
{
    QTestState *s = qtest_init("");
    int64_t t0, t;

    qtest_irq_intercept_in(s, "ioapic");
    /* mode 0: interrupt on terminal count after 1193 ticks (~1 ms) */
    pit_program(s, 0, 0, 1193);
    QT_ASSERT(!qtest_get_irq(s, 0));
    usleep(20 * 1000);
    QT_ASSERT(!qtest_get_irq(s, 0));               /* no stepping, no IRQ */
    t0 = qtest_clock_step(s, 0);
    qtest_clock_step(s, 900000);
    QT_ASSERT(!qtest_get_irq(s, 0));
    /* clock_step without argument lands on the next deadline */
    t = t0;
    for (int i = 0; i < 20 && !qtest_get_irq(s, 0); i++) {
        t = qtest_clock_step_next(s);
    }
    QT_ASSERT(qtest_get_irq(s, 0));
    QT_ASSERT_SCMP(t - t0, >=, 999000);
    QT_ASSERT_SCMP(t - t0, <=, 1001000);
    QT_ASSERT_EQ(qtest_irq_raise_count(s, 0), 1);
    /* mode 0 is one-shot: no further edges */
    qtest_clock_step(s, 100000000);
    QT_ASSERT_EQ(qtest_irq_raise_count(s, 0), 1);
    /* reprogramming mode 0 drops OUT (IRQ line low) until the new count */
    pit_program(s, 0, 0, 0x100);
    QT_ASSERT(!qtest_get_irq(s, 0));
    qtest_clock_step(s, ticks_to_ns(0x100) + 1000);
    QT_ASSERT(qtest_get_irq(s, 0));
    qtest_quit(s);
}

static void test_ch2_gate_output(void)
{
    QTestState *s = qtest_init("");

    qtest_outb(s, 0x61, 0x00);                     /* gate off */
    pit_program(s, 2, 0, 1193);
    qtest_outb(s, 0x61, 0x01);                     /* gate on, speaker off */
    QT_ASSERT_EQ(qtest_inb(s, 0x61) & 0x21, 0x01);
    qtest_clock_step(s, 500000);
    QT_ASSERT_EQ(qtest_inb(s, 0x61) & 0x20, 0);
    qtest_clock_step(s, 600000);
    QT_ASSERT_EQ(qtest_inb(s, 0x61) & 0x20, 0x20);   /* OUT2 went high */
    /* boundary: rewriting the control word/count restarts the one-shot:
     * OUT drops and rises again only after the full new count */
    pit_program(s, 2, 0, 2386);                   /* ~2 ms */
    QT_ASSERT_EQ(qtest_inb(s, 0x61) & 0x20, 0);
    qtest_clock_step(s, 1500000);
    QT_ASSERT_EQ(qtest_inb(s, 0x61) & 0x20, 0);
    qtest_clock_step(s, 600000);
    QT_ASSERT_EQ(qtest_inb(s, 0x61) & 0x20, 0x20);
    qtest_quit(s);
}

static void test_rtc_needs_step(void)
{
    /* The RTC periodic interrupt, like every device timer on the virtual
     * clock, fires only when the test advances the clock. */
    QTestState *s = qtest_init("-rtc clock=vm");

    qtest_irq_intercept_in(s, "ioapic");
    qtest_outb(s, 0x70, 0x0a);
    qtest_outb(s, 0x71, 0x26);
    qtest_outb(s, 0x70, 0x0b);
    qtest_outb(s, 0x71, 0x42);                     /* PIE | 24h */
    usleep(100 * 1000);
    QT_ASSERT(!qtest_get_irq(s, 8));
    qtest_clock_step(s, 2000000);
    QT_ASSERT(qtest_get_irq(s, 8));
    qtest_quit(s);
}

/* -machine pit=off (QEMU's): no counters at 0x40-0x43, no IRQ 0, and no
 * port 0x61 either (QEMU drops the PC speaker with the PIT): all read
 * 0xff, as unassigned ports do. */
static void test_pit_off(void)
{
    QTestState *s = qtest_init("-machine pit=off");

    qtest_irq_intercept_in(s, "ioapic");
    pit_program(s, 0, 2, 1000);
    qtest_outb(s, 0x61, 0x01);
    for (int port = 0x40; port <= 0x43; port++) {
        QT_ASSERT_EQ(qtest_inb(s, port), 0xff);
    }
    QT_ASSERT_EQ(qtest_inb(s, 0x61), 0xff);
    qtest_clock_step(s, 10000000);
    QT_ASSERT_EQ(qtest_irq_raise_count(s, 0), 0);
    qtest_quit(s);

    /* The same program with the PIT: counter 0 counts and raises IRQ 0. */
    s = qtest_init("-machine pit=on");
    qtest_irq_intercept_in(s, "ioapic");
    pit_program(s, 0, 2, 1000);
    QT_ASSERT(pit_latch(s, 0) <= 1000);
    qtest_clock_step(s, 10000000);
    QT_ASSERT_SCMP(qtest_irq_raise_count(s, 0), >=, 5);
    qtest_quit(s);
}

int main(int argc, char **argv)
{
    qt_init(argc, argv);
    qt_run("pit/clock-commands", test_clock_commands);
    qt_run("pit/counter-frozen-then-steps", test_counter_frozen_then_steps);
    qt_run("pit/irq0-oneshot", test_irq0_oneshot);
    qt_run("pit/ch2-gate-output", test_ch2_gate_output);
    qt_run("pit/rtc-periodic-needs-step", test_rtc_needs_step);
    qt_run("pit/machine-pit-off", test_pit_off);
    return qt_finish();
}

/*
 * The HPET at 0xfed00000 on machine pc (hw/timer/hpet.c): capabilities,
 * the main counter against the virtual clock (10 ns per tick, exactly),
 * one-shot, periodic and 32-bit comparators firing at the right virtual
 * time, level interrupts and the status register, LegacyReplacement
 * routing to ISA IRQ 0 / 8 with the PIT's and RTC's own interrupts cut
 * off, and -machine hpet=off.  Interrupts are watched at the IOAPIC's
 * inputs (ISA IRQ n is input n; the HPET's IRQ 2 route is input 2).
 */
#include "qtest-harness.h"

#define HPET        0xfed00000ull
#define GCAP        (HPET + 0x000)
#define CONF        (HPET + 0x010)
#define ISR         (HPET + 0x020)
#define COUNTER     (HPET + 0x0f0)
#define TN_CONF(n)  (HPET + 0x100 + 0x20 * (n))
#define TN_CMP(n)   (HPET + 0x108 + 0x20 * (n))

#define CFG_ENABLE  0x1
#define CFG_LEGACY  0x2
#define TN_LEVEL    0x002
#define TN_ENABLE   0x004
#define TN_PERIODIC 0x008
#define TN_SETVAL   0x040
#define TN_32BIT    0x100
#define TN_ROUTE(n) ((n) << 9)

static QTestState *start(const char *args)
{
    QTestState *s = qtest_init(args);

    qtest_irq_intercept_in(s, "ioapic");
    return s;
}

static void test_capabilities(void)
{
    QTestState *s = start("");

    QT_ASSERT_EQ(qtest_readl(s, GCAP), 0x8086a201u);           /* 3 timers, 64-bit, legacy */
    QT_ASSERT_EQ(qtest_readl(s, GCAP + 4), 10000000u);         /* 10 ns in fs */
    QT_ASSERT_EQ(qtest_readq(s, GCAP), 0x009896808086a201ull);
    QT_ASSERT_EQ(qtest_readq(s, CONF), 0);
    QT_ASSERT_EQ(qtest_readq(s, ISR), 0);
    for (int n = 0; n < 3; n++) {
        /* periodic and 64-bit capable, may route to IRQ 2 only; no FSB */
        QT_ASSERT_EQ(qtest_readq(s, TN_CONF(n)), 0x0000000400000030ull);
        QT_ASSERT_EQ(qtest_readq(s, TN_CMP(n)), UINT64_MAX);
    }
    /* Read-only bits stay; reserved configuration bits read 0. */
    qtest_writeq(s, GCAP, 0);
    QT_ASSERT_EQ(qtest_readl(s, GCAP), 0x8086a201u);
    qtest_writel(s, CONF, 0xfffffffc);
    QT_ASSERT_EQ(qtest_readq(s, CONF), 0);
    qtest_writeq(s, TN_CONF(1), 0xffffffff00000000ull | 0xc031);    /* FSB, caps, bit 0 */
    QT_ASSERT_EQ(qtest_readq(s, TN_CONF(1)), 0x0000000400000030ull);
    qtest_quit(s);
}

static void test_counter(void)
{
    QTestState *s = start("");

    /* Halted: the counter holds still and can be written. */
    qtest_clock_step(s, 1000000);
    QT_ASSERT_EQ(qtest_readq(s, COUNTER), 0);
    qtest_writel(s, COUNTER, 0x1000);
    qtest_writel(s, COUNTER + 4, 0x5);
    QT_ASSERT_EQ(qtest_readq(s, COUNTER), 0x500001000ull);
    qtest_writeq(s, COUNTER, 0x1000);
    /* Running: one tick per 10 ns of virtual time. */
    qtest_writel(s, CONF, CFG_ENABLE);
    qtest_clock_step(s, 1000);
    QT_ASSERT_EQ(qtest_readq(s, COUNTER), 0x1000 + 100);
    qtest_clock_step(s, 12345670);
    QT_ASSERT_EQ(qtest_readq(s, COUNTER), 0x1000 + 100 + 1234567);
    QT_ASSERT_EQ(qtest_readl(s, COUNTER + 4), 0);
    /* Writes while running are ignored. */
    qtest_writeq(s, COUNTER, 0);
    QT_ASSERT_EQ(qtest_readq(s, COUNTER), 0x1000 + 100 + 1234567);
    /* Halting keeps the value. */
    qtest_writel(s, CONF, 0);
    qtest_clock_step(s, 5000);
    QT_ASSERT_EQ(qtest_readq(s, COUNTER), 0x1000 + 100 + 1234567);
    qtest_writel(s, CONF, CFG_ENABLE);
    qtest_clock_step(s, 50);
    QT_ASSERT_EQ(qtest_readq(s, COUNTER), 0x1000 + 100 + 1234567 + 5);
    qtest_quit(s);
}

/* A level-triggered one-shot comparator: fires when the counter reaches
 * it, holds the line and the status bit until software clears it. */
static void test_oneshot_level(void)
{
    QTestState *s = start("");

    qtest_writeq(s, TN_CONF(2), TN_LEVEL | TN_ENABLE | TN_ROUTE(2));
    qtest_writeq(s, TN_CMP(2), 500);
    QT_ASSERT_EQ(qtest_readq(s, TN_CMP(2)), 500);
    qtest_writel(s, CONF, CFG_ENABLE);
    qtest_clock_step(s, 4990);
    QT_ASSERT(!qtest_get_irq(s, 2));
    QT_ASSERT_EQ(qtest_readq(s, ISR), 0);
    qtest_clock_step(s, 10);
    QT_ASSERT(qtest_get_irq(s, 2));
    QT_ASSERT_EQ(qtest_readq(s, ISR), 0x4);
    /* Writing 0 does nothing; 1 clears and drops the line. */
    qtest_writel(s, ISR, 0x3);
    QT_ASSERT(qtest_get_irq(s, 2));
    qtest_writel(s, ISR, 0x4);
    QT_ASSERT(!qtest_get_irq(s, 2));
    QT_ASSERT_EQ(qtest_readq(s, ISR), 0);
    /* One shot: nothing more. */
    qtest_clock_step(s, 100000000);
    QT_ASSERT(!qtest_get_irq(s, 2));
    QT_ASSERT_EQ(qtest_irq_raise_count(s, 2), 1);
    /* A comparator behind the counter fires one tick later (as QEMU). */
    qtest_writeq(s, TN_CMP(2), 5);
    qtest_clock_step(s, 10);
    QT_ASSERT(qtest_get_irq(s, 2));
    /* Disabling the timer drops its interrupt and status. */
    qtest_writeq(s, TN_CONF(2), TN_LEVEL | TN_ROUTE(2));
    QT_ASSERT(!qtest_get_irq(s, 2));
    QT_ASSERT_EQ(qtest_readq(s, ISR), 0);
    qtest_quit(s);
}

/* Periodic, edge: an interrupt every period, the comparator moving on. */
static void test_periodic(void)
{
    QTestState *s = start("");

    qtest_writeq(s, TN_CONF(0), TN_ENABLE | TN_PERIODIC | TN_SETVAL | TN_ROUTE(2));
    qtest_writeq(s, TN_CMP(0), 2000);           /* first match at 20 us */
    qtest_writeq(s, TN_CMP(0), 1000);           /* then every 10 us */
    QT_ASSERT_EQ(qtest_readq(s, TN_CMP(0)), 2000);
    QT_ASSERT_EQ(qtest_readq(s, TN_CONF(0)) & TN_SETVAL, 0);
    qtest_writel(s, CONF, CFG_ENABLE);
    qtest_clock_step(s, 19999);
    QT_ASSERT_EQ(qtest_irq_raise_count(s, 2), 0);
    qtest_clock_step(s, 1);
    QT_ASSERT_EQ(qtest_irq_raise_count(s, 2), 1);
    QT_ASSERT(!qtest_get_irq(s, 2));            /* edge: a pulse */
    QT_ASSERT_EQ(qtest_readq(s, ISR), 0);
    QT_ASSERT_EQ(qtest_readq(s, TN_CMP(0)), 3000);
    qtest_clock_step(s, 50000);
    QT_ASSERT_EQ(qtest_irq_raise_count(s, 2), 6);
    QT_ASSERT_EQ(qtest_readq(s, TN_CMP(0)), 8000);
    /* Halting stops the interrupts; they resume with the counter. */
    qtest_writel(s, CONF, 0);
    qtest_clock_step(s, 1000000);
    QT_ASSERT_EQ(qtest_irq_raise_count(s, 2), 6);
    qtest_writel(s, CONF, CFG_ENABLE);
    qtest_clock_step(s, 10000);
    QT_ASSERT_EQ(qtest_irq_raise_count(s, 2), 7);
    qtest_quit(s);
}

/* 32-bit mode: the comparator is 32 bits; a one-shot timer also fires when
 * the low half of the counter wraps. */
static void test_32bit(void)
{
    QTestState *s = start("");

    qtest_writeq(s, COUNTER, 0xffffff00ull);
    qtest_writeq(s, TN_CONF(2), TN_ENABLE | TN_32BIT | TN_ROUTE(2));
    qtest_writeq(s, TN_CMP(2), 0x100000100ull);
    QT_ASSERT_EQ(qtest_readq(s, TN_CMP(2)), 0x100);
    qtest_writel(s, CONF, CFG_ENABLE);
    qtest_clock_step(s, 0xff * 10);
    QT_ASSERT_EQ(qtest_irq_raise_count(s, 2), 0);
    qtest_clock_step(s, 10);                    /* the wrap */
    QT_ASSERT_EQ(qtest_irq_raise_count(s, 2), 1);
    qtest_clock_step(s, 0xff * 10);
    QT_ASSERT_EQ(qtest_irq_raise_count(s, 2), 1);
    qtest_clock_step(s, 10);                    /* the match */
    QT_ASSERT_EQ(qtest_irq_raise_count(s, 2), 2);
    QT_ASSERT_EQ(qtest_readq(s, COUNTER), 0x100000100ull);
    qtest_quit(s);
}

/* PIT channel 0, mode 2, about 1 kHz. */
static void pit_start(QTestState *s)
{
    qtest_outb(s, 0x43, 0x34);
    qtest_outb(s, 0x40, 1193 & 0xff);
    qtest_outb(s, 0x40, 1193 >> 8);
}

/* RTC periodic interrupt at 1024 Hz. */
static void rtc_start(QTestState *s)
{
    qtest_outb(s, 0x70, 0x0a);
    qtest_outb(s, 0x71, 0x26);
    qtest_outb(s, 0x70, 0x0b);
    qtest_outb(s, 0x71, 0x42);          /* PIE, 24-hour */
}

static void rtc_ack(QTestState *s)
{
    qtest_outb(s, 0x70, 0x0c);
    qtest_inb(s, 0x71);
}

/* While LegacyReplacement owns IRQ 0 the PIT's 1 ms square wave wakes
 * nobody: the next virtual-clock deadline is not the PIT's (QEMU's
 * irq_disabled); back to normal routing, it is again, and the counter
 * kept counting all along. */
static void test_legacy_pit_quiet(void)
{
    QTestState *s = start("");
    int64_t t0, t1;
    uint16_t c0, c1;

    pit_start(s);
    t0 = qtest_clock_step_next(s);
    t1 = qtest_clock_step_next(s);
    QT_ASSERT(t1 - t0 <= 1000000);                  /* the PIT's edges, 1 ms */
    qtest_writel(s, CONF, CFG_LEGACY);
    t0 = qtest_clock_step(s, 0);
    t1 = qtest_clock_step_next(s);
    QT_ASSERT(t1 == t0 || t1 - t0 > 10000000);     /* nothing, or a slow timer */
    qtest_outb(s, 0x43, 0x00);                      /* latch counter 0 */
    c0 = qtest_inb(s, 0x40);
    c0 |= qtest_inb(s, 0x40) << 8;
    qtest_clock_step(s, 300000);
    qtest_outb(s, 0x43, 0x00);
    c1 = qtest_inb(s, 0x40);
    c1 |= qtest_inb(s, 0x40) << 8;
    QT_ASSERT(c0 != c1);                            /* still counting */
    qtest_writel(s, CONF, 0);
    qtest_irq_reset_counts(s);
    t0 = qtest_clock_step(s, 0);
    t1 = qtest_clock_step_next(s);
    QT_ASSERT(t1 > t0 && t1 - t0 <= 1000000);
    qtest_clock_step(s, 10000000);
    QT_ASSERT(qtest_irq_raise_count(s, 0) >= 5);
    qtest_quit(s);
}

static void test_legacy(void)
{
    QTestState *s = start("");

    /* Without LegacyReplacement the PIT and RTC interrupts pass. */
    pit_start(s);
    rtc_start(s);
    qtest_clock_step(s, 10000000);
    QT_ASSERT(qtest_irq_raise_count(s, 0) >= 5);
    QT_ASSERT(qtest_get_irq(s, 8));
    rtc_ack(s);
    QT_ASSERT(!qtest_get_irq(s, 8));

    /* With it they are cut off, even before the counter runs... */
    qtest_writel(s, CONF, CFG_LEGACY);
    qtest_irq_reset_counts(s);
    qtest_clock_step(s, 10000000);
    QT_ASSERT_EQ(qtest_irq_raise_count(s, 0), 0);
    QT_ASSERT_EQ(qtest_irq_raise_count(s, 8), 0);
    rtc_ack(s);

    /* ...and timer 0 interrupts on IRQ 0, timer 1 on IRQ 8, whatever
     * their route says. */
    qtest_writeq(s, TN_CONF(0), TN_ENABLE | TN_ROUTE(2));
    qtest_writeq(s, TN_CMP(0), 100);
    qtest_writeq(s, TN_CONF(1), TN_LEVEL | TN_ENABLE | TN_ROUTE(2));
    qtest_writeq(s, TN_CMP(1), 200);
    qtest_writel(s, CONF, CFG_LEGACY | CFG_ENABLE);
    qtest_clock_step(s, 1000);
    QT_ASSERT_EQ(qtest_irq_raise_count(s, 0), 1);
    QT_ASSERT_EQ(qtest_irq_raise_count(s, 2), 0);
    QT_ASSERT_EQ(qtest_irq_raise_count(s, 8), 0);
    qtest_clock_step(s, 1000);
    QT_ASSERT(qtest_get_irq(s, 8));
    QT_ASSERT_EQ(qtest_readq(s, ISR), 0x2);
    qtest_writel(s, ISR, 0x2);
    QT_ASSERT(!qtest_get_irq(s, 8));

    /* Back to normal routing: the PIT's interrupts come again. */
    qtest_writel(s, CONF, CFG_ENABLE);
    qtest_irq_reset_counts(s);
    qtest_clock_step(s, 10000000);
    QT_ASSERT(qtest_irq_raise_count(s, 0) >= 5);
    qtest_quit(s);
}

/* A route Tn_INT_ROUTE_CAP does not allow delivers nothing. */
static void test_route_cap(void)
{
    QTestState *s = start("");

    qtest_writeq(s, TN_CONF(2), TN_LEVEL | TN_ENABLE | TN_ROUTE(11));
    qtest_writeq(s, TN_CMP(2), 10);
    qtest_writel(s, CONF, CFG_ENABLE);
    qtest_clock_step(s, 1000);
    QT_ASSERT_EQ(qtest_readq(s, ISR), 0x4);
    QT_ASSERT(!qtest_get_irq(s, 11));
    QT_ASSERT(!qtest_get_irq(s, 2));
    qtest_quit(s);

    /* intcap=0x800 allows IRQ 11. */
    s = start("-global hpet.intcap=0x800");
    QT_ASSERT_EQ(qtest_readl(s, TN_CONF(2) + 4), 0x800u);
    qtest_writeq(s, TN_CONF(2), TN_LEVEL | TN_ENABLE | TN_ROUTE(11));
    qtest_writeq(s, TN_CMP(2), 10);
    qtest_writel(s, CONF, CFG_ENABLE);
    qtest_clock_step(s, 1000);
    QT_ASSERT(qtest_get_irq(s, 11));
    qtest_quit(s);
}

/* A tiny period does not flood the emulator: interrupts are coalesced to
 * at most one per 10 us of virtual time. */
static void test_tiny_period(void)
{
    QTestState *s = start("");

    qtest_writeq(s, TN_CONF(0), TN_ENABLE | TN_PERIODIC | TN_SETVAL | TN_ROUTE(2));
    qtest_writeq(s, TN_CMP(0), 1);
    qtest_writeq(s, TN_CMP(0), 1);
    qtest_writel(s, CONF, CFG_ENABLE);
    qtest_clock_step(s, 1000000);
    QT_ASSERT(qtest_irq_raise_count(s, 2) <= 101);
    QT_ASSERT(qtest_irq_raise_count(s, 2) >= 90);
    qtest_quit(s);
}

static void test_hpet_off(void)
{
    QTestState *s = start("-machine hpet=off");

    QT_ASSERT(qtest_readl(s, GCAP) != 0x8086a201u);
    qtest_quit(s);
    s = start("-no-hpet");
    QT_ASSERT(qtest_readl(s, GCAP) != 0x8086a201u);
    qtest_quit(s);
}

int main(int argc, char **argv)
{
    qt_init(argc, argv);
    qt_run("hpet/capabilities", test_capabilities);
    qt_run("hpet/counter", test_counter);
    qt_run("hpet/oneshot-level", test_oneshot_level);
    qt_run("hpet/periodic", test_periodic);
    qt_run("hpet/32bit", test_32bit);
    qt_run("hpet/legacy", test_legacy);
    qt_run("hpet/legacy-pit-quiet", test_legacy_pit_quiet);
    qt_run("hpet/route-cap", test_route_cap);
    qt_run("hpet/tiny-period", test_tiny_period);
    qt_run("hpet/off", test_hpet_off);
    return qt_finish();
}

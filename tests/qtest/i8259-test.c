/*
 * The userspace 8259A pair of the pc machine under -accel qtest (no
 * in-kernel irqchip): master 0x20/0x21 + ELCR 0x4d0 at
 * /machine/i8259-master, slave 0xa0/0xa1 + ELCR 0x4d1 at
 * /machine/i8259-slave.  Inputs are driven with set_irq_in (or by real
 * devices through the machine's GSI wiring), the master's INT output is
 * watched with irq_intercept_out (line 0), and the poll command (OCW3
 * P=1) stands in for the CPU's INTA cycle.
 */
#include "qtest-harness.h"

#define MASTER "/machine/i8259-master"
#define SLAVE  "/machine/i8259-slave"

static void cmd_ok(QTestState *s, const char *line)
{
    char *r = qtest_command_raw(s, "%s", line);

    QT_ASSERT_MSG(!strncmp(r, "OK", 2), "'%s' -> '%s'", line, r);
    free(r);
}

static void set_irq_in(QTestState *s, const char *path, int n, int level)
{
    char line[128];

    snprintf(line, sizeof(line), "set_irq_in %s unnamed-gpio-in %d %d", path, n, level);
    cmd_ok(s, line);
}

/* The pair as a PC BIOS programs it: vectors 0x08 and 0x70. */
static void init_pair(QTestState *s, uint8_t icw4)
{
    qtest_outb(s, 0x20, 0x11);
    qtest_outb(s, 0x21, 0x08);
    qtest_outb(s, 0x21, 0x04);
    qtest_outb(s, 0x21, icw4);
    qtest_outb(s, 0xa0, 0x11);
    qtest_outb(s, 0xa1, 0x70);
    qtest_outb(s, 0xa1, 0x02);
    qtest_outb(s, 0xa1, icw4);
}

static uint8_t poll(QTestState *s, uint16_t base)
{
    qtest_outb(s, base, 0x0c);
    return qtest_inb(s, base);
}

static uint8_t read_isr(QTestState *s, uint16_t base)
{
    uint8_t v;

    qtest_outb(s, base, 0x0b);
    v = qtest_inb(s, base);
    qtest_outb(s, base, 0x0a);
    return v;
}

static QTestState *start(void)
{
    QTestState *s = qtest_init("-rtc clock=vm");

    cmd_ok(s, "irq_intercept_out " MASTER);
    init_pair(s, 0x01);
    return s;
}

static void test_reset_and_elcr(void)
{
    QTestState *s = qtest_init("");

    QT_ASSERT_EQ(qtest_inb(s, 0x21), 0x00);
    QT_ASSERT_EQ(qtest_inb(s, 0xa1), 0x00);
    QT_ASSERT_EQ(qtest_inb(s, 0x20), 0x00);
    QT_ASSERT_EQ(qtest_inb(s, 0x4d0), 0x00);
    QT_ASSERT_EQ(qtest_inb(s, 0x4d1), 0x00);
    qtest_outb(s, 0x4d0, 0xff);
    qtest_outb(s, 0x4d1, 0xff);
    QT_ASSERT_EQ(qtest_inb(s, 0x4d0), 0xf8);
    QT_ASSERT_EQ(qtest_inb(s, 0x4d1), 0xde);
    qtest_outb(s, 0x21, 0xa5);
    QT_ASSERT_EQ(qtest_inb(s, 0x21), 0xa5);
    qtest_quit(s);
}

static void test_int_and_poll(void)
{
    QTestState *s = start();

    QT_ASSERT(!qtest_get_irq(s, 0));
    set_irq_in(s, MASTER, 3, 1);
    QT_ASSERT(qtest_get_irq(s, 0));
    qtest_outb(s, 0x20, 0x0a);
    QT_ASSERT_EQ(qtest_inb(s, 0x20), 0x08);        /* IRR */
    QT_ASSERT_EQ(poll(s, 0x20), 0x83);
    QT_ASSERT(!qtest_get_irq(s, 0));
    QT_ASSERT_EQ(read_isr(s, 0x20), 0x08);
    QT_ASSERT_EQ(poll(s, 0x20), 0x00);             /* nothing left */
    /* a higher priority nests, a lower one waits for the EOI */
    set_irq_in(s, MASTER, 5, 1);
    QT_ASSERT(!qtest_get_irq(s, 0));
    set_irq_in(s, MASTER, 1, 1);
    QT_ASSERT(qtest_get_irq(s, 0));
    QT_ASSERT_EQ(poll(s, 0x20), 0x81);
    qtest_outb(s, 0x20, 0x20);                     /* EOI 1 */
    QT_ASSERT(!qtest_get_irq(s, 0));
    qtest_outb(s, 0x20, 0x20);                     /* EOI 3 */
    QT_ASSERT(qtest_get_irq(s, 0));
    QT_ASSERT_EQ(poll(s, 0x20), 0x85);
    qtest_outb(s, 0x20, 0x20);
    QT_ASSERT_EQ(read_isr(s, 0x20), 0x00);
    QT_ASSERT_EQ(qtest_irq_raise_count(s, 0), 3);
    qtest_quit(s);
}

static void test_mask_and_special_mask(void)
{
    QTestState *s = start();

    qtest_outb(s, 0x21, 0x10);
    set_irq_in(s, MASTER, 4, 1);
    QT_ASSERT(!qtest_get_irq(s, 0));
    qtest_outb(s, 0x21, 0x00);
    QT_ASSERT(qtest_get_irq(s, 0));
    QT_ASSERT_EQ(poll(s, 0x20), 0x84);
    set_irq_in(s, MASTER, 6, 1);
    QT_ASSERT(!qtest_get_irq(s, 0));
    qtest_outb(s, 0x21, 0x10);                     /* mask the in-service 4 */
    qtest_outb(s, 0x20, 0x68);                     /* special mask mode on */
    QT_ASSERT(qtest_get_irq(s, 0));
    QT_ASSERT_EQ(poll(s, 0x20), 0x86);
    QT_ASSERT_EQ(read_isr(s, 0x20), 0x50);
    qtest_quit(s);
}

static void test_edge_level_and_cascade(void)
{
    QTestState *s = start();

    /* edge: latched on the rising edge, INT stays after the line drops */
    set_irq_in(s, SLAVE, 4, 1);
    set_irq_in(s, SLAVE, 4, 0);
    QT_ASSERT(qtest_get_irq(s, 0));
    QT_ASSERT_EQ(poll(s, 0xa0), 0x84);             /* the slave: IRQ 12 */
    QT_ASSERT_EQ(poll(s, 0x20), 0x82);             /* the master: cascade */
    qtest_outb(s, 0xa0, 0x20);
    qtest_outb(s, 0x20, 0x20);
    QT_ASSERT(!qtest_get_irq(s, 0));
    /* level (ELCR bit 3 of the slave: IRQ 11): IRR follows the line */
    qtest_outb(s, 0x4d1, 0x08);
    set_irq_in(s, SLAVE, 3, 1);
    QT_ASSERT(qtest_get_irq(s, 0));
    QT_ASSERT_EQ(poll(s, 0xa0), 0x83);
    qtest_outb(s, 0xa0, 0x0a);
    QT_ASSERT_EQ(qtest_inb(s, 0xa0), 0x08);        /* still requested */
    QT_ASSERT_EQ(poll(s, 0x20), 0x82);
    set_irq_in(s, SLAVE, 3, 0);
    qtest_outb(s, 0xa0, 0x0a);
    QT_ASSERT_EQ(qtest_inb(s, 0xa0), 0x00);
    qtest_quit(s);
}

static void test_auto_eoi_and_rotation(void)
{
    QTestState *s = qtest_init("");

    cmd_ok(s, "irq_intercept_out " MASTER);
    init_pair(s, 0x03);                            /* AEOI */
    qtest_outb(s, 0x20, 0x80);                     /* rotate in AEOI mode */
    set_irq_in(s, MASTER, 1, 1);
    QT_ASSERT_EQ(poll(s, 0x20), 0x81);
    QT_ASSERT_EQ(read_isr(s, 0x20), 0x00);         /* no ISR in AEOI mode */
    set_irq_in(s, MASTER, 0, 1);
    set_irq_in(s, MASTER, 4, 1);
    QT_ASSERT_EQ(poll(s, 0x20), 0x84);             /* 1 was rotated to lowest: 4 > 0 */
    QT_ASSERT_EQ(poll(s, 0x20), 0x80);
    QT_ASSERT(!qtest_get_irq(s, 0));
    qtest_quit(s);
}

/* Real devices reach the pair through the pc machine's GSI wiring: the
 * RTC's periodic interrupt (ISA IRQ 8) through the slave and the cascade. */
static void test_rtc_through_cascade(void)
{
    QTestState *s = start();

    qtest_outb(s, 0x70, 0x0c);
    qtest_inb(s, 0x71);
    qtest_outb(s, 0x70, 0x0a);
    qtest_outb(s, 0x71, 0x26);                     /* 1024 Hz */
    qtest_outb(s, 0x70, 0x0b);
    qtest_outb(s, 0x71, 0x42);                     /* PIE, 24h */
    for (int i = 0; i < 20 && !qtest_get_irq(s, 0); i++) {
        qtest_clock_step(s, 100000);
    }
    QT_ASSERT(qtest_get_irq(s, 0));
    QT_ASSERT_EQ(poll(s, 0xa0), 0x80);
    QT_ASSERT_EQ(poll(s, 0x20), 0x82);
    QT_ASSERT_EQ(read_isr(s, 0xa0), 0x01);
    qtest_quit(s);
}

/* Without interception or set_irq_in (so it runs on QEMU too): the PIT
 * (IRQ 0) and the RTC (IRQ 8) found by polling, with priorities. */
static void test_devices_poll(void)
{
    QTestState *s = qtest_init("-rtc clock=vm");

    init_pair(s, 0x01);
    qtest_outb(s, 0x70, 0x0c);
    qtest_inb(s, 0x71);
    qtest_outb(s, 0x70, 0x0a);
    qtest_outb(s, 0x71, 0x26);
    qtest_outb(s, 0x70, 0x0b);
    qtest_outb(s, 0x71, 0x42);
    qtest_outb(s, 0x43, 0x30);                     /* PIT 0: mode 0, lo/hi */
    qtest_outb(s, 0x40, 100);
    qtest_outb(s, 0x40, 0);
    qtest_clock_step(s, 2000000);                  /* both have fired */
    qtest_outb(s, 0x20, 0x0a);
    QT_ASSERT_EQ(qtest_inb(s, 0x20), 0x05);        /* IRR: IRQ 0 and the cascade */
    QT_ASSERT_EQ(poll(s, 0x20), 0x80);             /* IRQ 0 first */
    QT_ASSERT_EQ(poll(s, 0x20), 0x00);             /* IR2 waits below IR0 */
    qtest_outb(s, 0x20, 0x20);
    QT_ASSERT_EQ(poll(s, 0xa0), 0x80);
    QT_ASSERT_EQ(poll(s, 0x20), 0x82);
    QT_ASSERT_EQ(read_isr(s, 0x20), 0x04);
    QT_ASSERT_EQ(read_isr(s, 0xa0), 0x01);
    qtest_quit(s);
}

static void test_intercept_errors(void)
{
    QTestState *s = qtest_init("");
    char *r;

    r = qtest_command_raw(s, "irq_intercept_out /machine/ioapic");
    QT_ASSERT_MSG(!strncmp(r, "FAIL", 4), "%s", r);
    free(r);
    r = qtest_command_raw(s, "irq_intercept_out /machine/nothing-here");
    QT_ASSERT_MSG(!strncmp(r, "FAIL", 4), "%s", r);
    free(r);
    r = qtest_command_raw(s, "set_irq_in " MASTER " unnamed-gpio-in 8 1");
    QT_ASSERT_MSG(!strncmp(r, "FAIL", 4), "%s", r);
    free(r);
    qtest_quit(s);
}

int main(int argc, char **argv)
{
    qt_init(argc, argv);
    qt_run("i8259/reset-and-elcr", test_reset_and_elcr);
    qt_run("i8259/int-and-poll", test_int_and_poll);
    qt_run("i8259/mask-and-special-mask", test_mask_and_special_mask);
    qt_run("i8259/edge-level-and-cascade", test_edge_level_and_cascade);
    qt_run("i8259/auto-eoi-and-rotation", test_auto_eoi_and_rotation);
    qt_run("i8259/rtc-through-cascade", test_rtc_through_cascade);
    qt_run("i8259/devices-poll", test_devices_poll);
    qt_run("i8259/intercept-errors", test_intercept_errors);
    return qt_finish();
}

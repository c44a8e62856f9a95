/*
 * The userspace IOAPIC of the pc machine under -accel qtest, through its
 * MMIO window at 0xfec00000 (IOREGSEL 0x00, IOWIN 0x10, EOI 0x40): ID,
 * version, arbitration and redirection entries with their read-only bits,
 * and delivery as the remote IRR bit of level entries shows it (the
 * messages go to CPU 0's LAPIC, which no CPU ever acknowledges under
 * qtest; the IOAPIC's own state is what the test reads).  Inputs are
 * driven with set_irq_in on "ioapic" (a partial QOM path, as QEMU resolves
 * it: its IOAPIC sits under the host bridge) or by the RTC through the
 * machine's wiring; irq_intercept_in ioapic still sees the lines and lets
 * them through.
 */
#include "qtest-harness.h"

#define IOAPIC_BASE     0xfec00000ULL
#define IOREGSEL        0x00
#define IOWIN           0x10
#define IOEOI           0x40
#define RIRR            (1u << 14)
#define LEVEL           (1u << 15)
#define MASKED          (1u << 16)

static uint32_t reg_read(QTestState *s, uint8_t reg)
{
    qtest_writel(s, IOAPIC_BASE + IOREGSEL, reg);
    return qtest_readl(s, IOAPIC_BASE + IOWIN);
}

static void reg_write(QTestState *s, uint8_t reg, uint32_t val)
{
    qtest_writel(s, IOAPIC_BASE + IOREGSEL, reg);
    qtest_writel(s, IOAPIC_BASE + IOWIN, val);
}

static void cmd_ok(QTestState *s, const char *line)
{
    char *r = qtest_command_raw(s, "%s", line);

    QT_ASSERT_MSG(!strncmp(r, "OK", 2), "'%s' -> '%s'", line, r);
    free(r);
}

static void set_input(QTestState *s, int n, int level)
{
    char line[96];

    snprintf(line, sizeof(line), "set_irq_in ioapic unnamed-gpio-in %d %d", n, level);
    cmd_ok(s, line);
}

static void test_registers(void)
{
    QTestState *s = qtest_init("");

    QT_ASSERT_EQ(reg_read(s, 0x01), 0x00170020);
    QT_ASSERT_EQ(reg_read(s, 0x00), 0x00000000);
    reg_write(s, 0x00, 0x0a000000);
    QT_ASSERT_EQ(reg_read(s, 0x00), 0x0a000000);
    QT_ASSERT_EQ(reg_read(s, 0x02), 0x0a000000);
    reg_write(s, 0x01, 0xffffffff);
    QT_ASSERT_EQ(reg_read(s, 0x01), 0x00170020);
    qtest_writel(s, IOAPIC_BASE + IOREGSEL, 0x23);
    QT_ASSERT_EQ(qtest_readl(s, IOAPIC_BASE + IOREGSEL), 0x23);
    for (int pin = 0; pin < 24; pin++) {
        QT_ASSERT_EQ(reg_read(s, 0x10 + 2 * pin), MASKED);
        QT_ASSERT_EQ(reg_read(s, 0x11 + 2 * pin), 0);
    }
    /* delivery status (12) and remote IRR (14) are read only */
    reg_write(s, 0x10 + 2 * 9, 0xffffffff);
    QT_ASSERT_EQ(reg_read(s, 0x10 + 2 * 9), 0xffffafff);
    reg_write(s, 0x11 + 2 * 9, 0xff000000);
    QT_ASSERT_EQ(reg_read(s, 0x11 + 2 * 9), 0xff000000);
    qtest_quit(s);
}

static void test_level_remote_irr_and_eoi(void)
{
    QTestState *s = qtest_init("");

    reg_write(s, 0x10 + 2 * 10, 0x51 | LEVEL);
    set_input(s, 10, 1);
    QT_ASSERT_EQ(reg_read(s, 0x10 + 2 * 10), 0x51 | LEVEL | RIRR);
    /* the EOI register with the line still high: delivered again */
    qtest_writel(s, IOAPIC_BASE + IOEOI, 0x51);
    QT_ASSERT_EQ(reg_read(s, 0x10 + 2 * 10), 0x51 | LEVEL | RIRR);
    set_input(s, 10, 0);
    qtest_writel(s, IOAPIC_BASE + IOEOI, 0x51);
    QT_ASSERT_EQ(reg_read(s, 0x10 + 2 * 10), 0x51 | LEVEL);
    /* masked: no delivery until unmasked */
    reg_write(s, 0x10 + 2 * 10, 0x51 | LEVEL | MASKED);
    set_input(s, 10, 1);
    QT_ASSERT_EQ(reg_read(s, 0x10 + 2 * 10), 0x51 | LEVEL | MASKED);
    reg_write(s, 0x10 + 2 * 10, 0x51 | LEVEL);
    QT_ASSERT_EQ(reg_read(s, 0x10 + 2 * 10), 0x51 | LEVEL | RIRR);
    /* switching to edge clears remote IRR */
    reg_write(s, 0x10 + 2 * 10, 0x51);
    QT_ASSERT_EQ(reg_read(s, 0x10 + 2 * 10), 0x51);
    qtest_quit(s);
}

static void test_isa_irq0_on_pin2(void)
{
    QTestState *s = qtest_init("");

    reg_write(s, 0x10 + 2 * 2, 0x30 | LEVEL);
    reg_write(s, 0x10 + 2 * 0, 0x20 | LEVEL);
    set_input(s, 0, 1);
    QT_ASSERT_EQ(reg_read(s, 0x10 + 2 * 2), 0x30 | LEVEL | RIRR);
    QT_ASSERT_EQ(reg_read(s, 0x10 + 2 * 0), 0x20 | LEVEL);
    qtest_quit(s);
}

/* The RTC's IRQ 8 through the machine's wiring, seen both by the qtest
 * interceptor and by the IOAPIC behind it. */
static void test_rtc_intercepted(void)
{
    QTestState *s = qtest_init("-rtc clock=vm");

    qtest_irq_intercept_in(s, "ioapic");
    reg_write(s, 0x10 + 2 * 8, 0x38 | LEVEL);
    qtest_outb(s, 0x70, 0x0c);
    qtest_inb(s, 0x71);
    qtest_outb(s, 0x70, 0x0a);
    qtest_outb(s, 0x71, 0x26);
    qtest_outb(s, 0x70, 0x0b);
    qtest_outb(s, 0x71, 0x42);
    for (int i = 0; i < 20 && !qtest_get_irq(s, 8); i++) {
        qtest_clock_step(s, 100000);
    }
    QT_ASSERT(qtest_get_irq(s, 8));
    QT_ASSERT_EQ(reg_read(s, 0x10 + 2 * 8), 0x38 | LEVEL | RIRR);
    qtest_outb(s, 0x70, 0x0c);                     /* acknowledge: line low */
    qtest_inb(s, 0x71);
    QT_ASSERT(!qtest_get_irq(s, 8));
    qtest_writel(s, IOAPIC_BASE + IOEOI, 0x38);
    QT_ASSERT_EQ(reg_read(s, 0x10 + 2 * 8), 0x38 | LEVEL);
    qtest_quit(s);
}

int main(int argc, char **argv)
{
    qt_init(argc, argv);
    qt_run("ioapic/registers", test_registers);
    qt_run("ioapic/level-remote-irr-and-eoi", test_level_remote_irr_and_eoi);
    qt_run("ioapic/isa-irq0-on-pin2", test_isa_irq0_on_pin2);
    qt_run("ioapic/rtc-intercepted", test_rtc_intercepted);
    return qt_finish();
}

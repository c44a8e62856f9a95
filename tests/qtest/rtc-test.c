/*
 * MC146818 RTC / CMOS at 0x70 (index) / 0x71 (data), ISA IRQ 8.
 * Time-dependent cases use "-rtc clock=vm" so the RTC follows the qtest
 * virtual clock (clock_step), not the host clock.
 */
#include "qtest-harness.h"

#define RTC_SEC   0x00
#define RTC_MIN   0x02
#define RTC_HOUR  0x04
#define RTC_DOW   0x06
#define RTC_DAY   0x07
#define RTC_MON   0x08
#define RTC_YEAR  0x09
#define REG_A     0x0a
#define REG_B     0x0b
#define REG_C     0x0c
#define REG_D     0x0d
#define RTC_CENT  0x32

#define B_SET  0x80
#define B_PIE  0x40
#define B_AIE  0x20
#define B_UIE  0x10
#define B_DM   0x04
#define B_24H  0x02
#define C_IRQF 0x80
#define C_PF   0x40

static uint8_t cmos_read(QTestState *s, uint8_t reg)
{
    qtest_outb(s, 0x70, reg);
    return qtest_inb(s, 0x71);
}

static void cmos_write(QTestState *s, uint8_t reg, uint8_t v)
{
    qtest_outb(s, 0x70, reg);
    qtest_outb(s, 0x71, v);
}

static bool is_bcd(uint8_t v)
{
    return (v & 0x0f) <= 9 && (v >> 4) <= 9;
}

static int bcd2bin(uint8_t v)
{
    return (v >> 4) * 10 + (v & 0x0f);
}

static void test_format_regs(void)
{
    QTestState *s = qtest_init("");
    uint8_t a = cmos_read(s, REG_A), b = cmos_read(s, REG_B);
    uint8_t d = cmos_read(s, REG_D);

    /* 32.768 kHz time base (DV=010), 1024 Hz rate selection (RS=0110) */
    QT_ASSERT_EQ(a & 0x7f, 0x26);
    /* 24-hour, BCD, clock running, no interrupts enabled */
    QT_ASSERT(b & B_24H);
    QT_ASSERT_EQ(b & (B_DM | B_SET | B_PIE | B_AIE | B_UIE), 0);
    /* valid RAM and time */
    QT_ASSERT(d & 0x80);
    /* the format bits of register B are writable */
    cmos_write(s, REG_B, B_24H | B_DM);
    QT_ASSERT_EQ(cmos_read(s, REG_B) & (B_24H | B_DM), B_24H | B_DM);
    cmos_write(s, REG_B, B_24H);
    QT_ASSERT_EQ(cmos_read(s, REG_B) & (B_24H | B_DM), B_24H);
    /* registers C and D are read-only */
    cmos_write(s, REG_D, 0x00);
    QT_ASSERT(cmos_read(s, REG_D) & 0x80);
    qtest_quit(s);
}

static void test_bcd_time(void)
{
    QTestState *s = qtest_init("");
    uint8_t sec = cmos_read(s, RTC_SEC), min = cmos_read(s, RTC_MIN);
    uint8_t hour = cmos_read(s, RTC_HOUR), dow = cmos_read(s, RTC_DOW);
    uint8_t day = cmos_read(s, RTC_DAY), mon = cmos_read(s, RTC_MON);
    uint8_t year = cmos_read(s, RTC_YEAR), cent = cmos_read(s, RTC_CENT);

    printf("# rtc: %02x%02x-%02x-%02x %02x:%02x:%02x dow %x\n", cent, year,
           mon, day, hour, min, sec, dow);
    QT_ASSERT(is_bcd(sec) && bcd2bin(sec) < 60);
    QT_ASSERT(is_bcd(min) && bcd2bin(min) < 60);
    QT_ASSERT(is_bcd(hour) && bcd2bin(hour) < 24);
    QT_ASSERT(dow >= 1 && dow <= 7);
    QT_ASSERT(is_bcd(day) && bcd2bin(day) >= 1 && bcd2bin(day) <= 31);
    QT_ASSERT(is_bcd(mon) && bcd2bin(mon) >= 1 && bcd2bin(mon) <= 12);
    QT_ASSERT(is_bcd(year));
    QT_ASSERT(cent == 0x20 || cent == 0x21);
    qtest_quit(s);
}

static void set_time(QTestState *s, uint8_t cent, uint8_t year, uint8_t mon,
                     uint8_t day, uint8_t hour, uint8_t min, uint8_t sec)
{
    uint8_t b = cmos_read(s, REG_B);
    cmos_write(s, REG_B, b | B_SET);
    cmos_write(s, RTC_SEC, sec);
    cmos_write(s, RTC_MIN, min);
    cmos_write(s, RTC_HOUR, hour);
    cmos_write(s, RTC_DAY, day);
    cmos_write(s, RTC_MON, mon);
    cmos_write(s, RTC_YEAR, year);
    cmos_write(s, RTC_CENT, cent);
    cmos_write(s, REG_B, b & ~B_SET);
}

static void test_set_time(void)
{
    QTestState *s = qtest_init("-rtc clock=vm");

    set_time(s, 0x20, 0x24, 0x02, 0x29, 0x12, 0x34, 0x56);   /* leap day */
    QT_ASSERT_EQ(cmos_read(s, RTC_SEC), 0x56);
    QT_ASSERT_EQ(cmos_read(s, RTC_MIN), 0x34);
    QT_ASSERT_EQ(cmos_read(s, RTC_HOUR), 0x12);
    QT_ASSERT_EQ(cmos_read(s, RTC_DAY), 0x29);
    QT_ASSERT_EQ(cmos_read(s, RTC_MON), 0x02);
    QT_ASSERT_EQ(cmos_read(s, RTC_YEAR), 0x24);
    QT_ASSERT_EQ(cmos_read(s, RTC_CENT), 0x20);
    QT_ASSERT_EQ(cmos_read(s, REG_B) & B_SET, 0);
    qtest_quit(s);
}

static void test_clock_step_seconds(void)
{
    QTestState *s = qtest_init("-rtc clock=vm");

    set_time(s, 0x20, 0x21, 0x12, 0x31, 0x23, 0x59, 0x57);
    /* no virtual time passes without clock_step */
    usleep(1200 * 1000);
    QT_ASSERT_EQ(cmos_read(s, RTC_SEC), 0x57);
    qtest_clock_step(s, 1000000000LL);
    QT_ASSERT_EQ(cmos_read(s, RTC_SEC), 0x58);
    QT_ASSERT_EQ(cmos_read(s, RTC_MIN), 0x59);
    /* boundary: roll over minute, hour, day, month and year */
    qtest_clock_step(s, 2000000000LL);
    QT_ASSERT_EQ(cmos_read(s, RTC_SEC), 0x00);
    QT_ASSERT_EQ(cmos_read(s, RTC_MIN), 0x00);
    QT_ASSERT_EQ(cmos_read(s, RTC_HOUR), 0x00);
    QT_ASSERT_EQ(cmos_read(s, RTC_DAY), 0x01);
    QT_ASSERT_EQ(cmos_read(s, RTC_MON), 0x01);
    QT_ASSERT_EQ(cmos_read(s, RTC_YEAR), 0x22);
    QT_ASSERT_EQ(cmos_read(s, RTC_CENT), 0x20);
    qtest_quit(s);
}

static void test_periodic_irq(void)
{
    QTestState *s = qtest_init("-rtc clock=vm");
    int64_t t0, t;
    uint8_t c;

    qtest_irq_intercept_in(s, "ioapic");
    (void)cmos_read(s, REG_C);
    cmos_write(s, REG_A, 0x26);                    /* 1024 Hz */
    cmos_write(s, REG_B, B_24H | B_PIE);
    /* nothing fires while the virtual clock stands still */
    usleep(50 * 1000);
    QT_ASSERT(!qtest_get_irq(s, 8));
    t0 = qtest_clock_step(s, 0);
    /* one period is 976.5625 us: half of it is not enough ... */
    qtest_clock_step(s, 400000);
    QT_ASSERT(!qtest_get_irq(s, 8));
    /* ... but stepping past the next tick raises IRQ 8 */
    t = t0;
    for (int i = 0; i < 100 && !qtest_get_irq(s, 8); i++) {
        t = qtest_clock_step(s, 100000);
    }
    QT_ASSERT(qtest_get_irq(s, 8));
    QT_ASSERT_SCMP(t - t0, <=, 1100000);
    /* register C reports IRQF|PF and reading it clears flags and IRQ */
    c = cmos_read(s, REG_C);
    QT_ASSERT_EQ(c & (C_IRQF | C_PF), C_IRQF | C_PF);
    QT_ASSERT(!qtest_get_irq(s, 8));
    c = cmos_read(s, REG_C);
    QT_ASSERT_EQ(c & (C_IRQF | C_PF), 0);
    /* it keeps ticking: ~10 interrupts in ~10 ms when acknowledged */
    qtest_irq_reset_counts(s);
    for (int i = 0; i < 40; i++) {
        qtest_clock_step(s, 250000);
        if (qtest_get_irq(s, 8)) {
            (void)cmos_read(s, REG_C);
        }
    }
    QT_ASSERT_CMP(qtest_irq_raise_count(s, 8), >=, 9);
    QT_ASSERT_CMP(qtest_irq_raise_count(s, 8), <=, 11);
    /* boundary: rate selection 0 disables the periodic interrupt */
    cmos_write(s, REG_A, 0x20);
    (void)cmos_read(s, REG_C);
    QT_ASSERT(!qtest_get_irq(s, 8));
    qtest_clock_step(s, 10000000);
    QT_ASSERT(!qtest_get_irq(s, 8));
    QT_ASSERT_EQ(cmos_read(s, REG_C) & C_PF, 0);
    qtest_quit(s);
}

static void test_periodic_rate(void)
{
    QTestState *s = qtest_init("-rtc clock=vm");

    qtest_irq_intercept_in(s, "ioapic");
    cmos_write(s, REG_A, 0x2f);                    /* RS=15: 2 Hz */
    cmos_write(s, REG_B, B_24H | B_PIE);
    (void)cmos_read(s, REG_C);
    qtest_clock_step(s, 400000000);                /* 0.4 s < 0.5 s */
    QT_ASSERT(!qtest_get_irq(s, 8));
    qtest_clock_step(s, 200000000);                /* 0.6 s */
    QT_ASSERT(qtest_get_irq(s, 8));
    QT_ASSERT(cmos_read(s, REG_C) & C_PF);
    QT_ASSERT(!qtest_get_irq(s, 8));
    /* PIE off: no interrupt even though time passes */
    cmos_write(s, REG_B, B_24H);
    qtest_clock_step(s, 2000000000);
    QT_ASSERT(!qtest_get_irq(s, 8));
    qtest_quit(s);
}

static void check_mem(const char *args, uint16_t ext16m_64k, uint32_t above4g_64k)
{
    QTestState *s = qtest_init(args);
    uint16_t base = cmos_read(s, 0x15) | cmos_read(s, 0x16) << 8;
    uint16_t ext = cmos_read(s, 0x17) | cmos_read(s, 0x18) << 8;
    uint16_t ext2 = cmos_read(s, 0x30) | cmos_read(s, 0x31) << 8;
    uint16_t hi = cmos_read(s, 0x34) | cmos_read(s, 0x35) << 8;
    uint32_t a4 = cmos_read(s, 0x5b) | cmos_read(s, 0x5c) << 8 |
                  (uint32_t)cmos_read(s, 0x5d) << 16;

    QT_ASSERT_EQ(base, 640);
    /* KB above 1 MB, saturated at 0xffff (boundary) */
    QT_ASSERT_EQ(ext, 0xffff);
    QT_ASSERT_EQ(ext2, 0xffff);
    QT_ASSERT_EQ(hi, ext16m_64k);
    QT_ASSERT_EQ(a4, above4g_64k);
    qtest_quit(s);
}

static void test_cmos_mem_128m(void)
{
    /* (128M - 16M) / 64K = 0x0700, nothing above 4G */
    check_mem("-m 128M", 0x0700, 0);
}

static void test_cmos_mem_5g(void)
{
    /* i440fx: 3G below 4G -> (3G - 16M) / 64K = 0xbf00; 2G above = 0x8000 */
    check_mem("-m 5G", 0xbf00, 0x8000);
}

int main(int argc, char **argv)
{
    qt_init(argc, argv);
    qt_run("rtc/format-registers", test_format_regs);
    qt_run("rtc/bcd-time", test_bcd_time);
    qt_run("rtc/set-time", test_set_time);
    qt_run("rtc/clock-step-seconds", test_clock_step_seconds);
    qt_run("rtc/periodic-irq", test_periodic_irq);
    qt_run("rtc/periodic-rate", test_periodic_rate);
    qt_run("rtc/cmos-mem-128m", test_cmos_mem_128m);
    qt_run("rtc/cmos-mem-5g", test_cmos_mem_5g);
    return qt_finish();
}

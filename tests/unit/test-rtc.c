/*
 * MC146818 RTC ("mc146818rtc") through qdev and the I/O address space:
 * host time at start, BCD/binary and 12/24-hour encodings, calendar
 * roll-over, SET freezing, UIP, update-ended, alarm (with don't-care
 * bytes) and periodic interrupts, lazily computed flags, timers only when
 * needed, CMOS memory bytes for the machine, vmstate.
 */
#include <string.h>
#include <glib.h>

#include "hw/qdev.h"
#include "hw/isa/isa.h"
#include "hw/memory.h"
#include "hw/vmstate.h"
#include "hw/timer/mc146818rtc.h"
#include "system/main-loop.h"
#include "isa-test-util.h"

#define RTC_SECONDS     0x00
#define RTC_SEC_ALARM   0x01
#define RTC_MINUTES     0x02
#define RTC_MIN_ALARM   0x03
#define RTC_HOURS       0x04
#define RTC_HOUR_ALARM  0x05
#define RTC_DOW         0x06
#define RTC_DAY         0x07
#define RTC_MONTH       0x08
#define RTC_YEAR        0x09
#define RTC_REG_A       0x0a
#define RTC_REG_B       0x0b
#define RTC_REG_C       0x0c
#define RTC_REG_D       0x0d
#define RTC_CENTURY     0x32

#define MS (1000 * 1000LL)


static uint8_t cmos_read(uint8_t idx)
{
    uint64_t v;

    address_space_st(&address_space_io, 0x70, idx, 1);
    address_space_ld(&address_space_io, 0x71, &v, 1);
    return v;
}

static void cmos_write(uint8_t idx, uint8_t val)
{
    address_space_st(&address_space_io, 0x70, idx, 1);
    address_space_st(&address_space_io, 0x71, val, 1);
}

static DeviceState *rtc_new(void)
{
    Error *err = NULL;
    DeviceState *dev = qdev_new("mc146818rtc", &err);

    g_assert_no_error(err);
    g_assert_true(qdev_realize(dev, isa_bus_get()->bus, &err));
    g_assert_no_error(err);
    memset(irq_raises, 0, sizeof(irq_raises));
    return dev;
}

static int bcd(uint8_t v)
{
    return (v >> 4) * 10 + (v & 0xf);
}

/*
 * Set the time with the divider held in reset, then release it: the first
 * update comes exactly 500 ms later, which makes the phase known.
 */
static void set_time_bcd(int century, int year, int month, int day, int h, int m, int s)
{
    cmos_write(RTC_REG_A, 0x76);
    cmos_write(RTC_SECONDS, s);
    cmos_write(RTC_MINUTES, m);
    cmos_write(RTC_HOURS, h);
    cmos_write(RTC_DAY, day);
    cmos_write(RTC_MONTH, month);
    cmos_write(RTC_YEAR, year);
    cmos_write(RTC_CENTURY, century);
    cmos_write(RTC_REG_A, 0x26);
}

static void test_host_time(void)
{
    DeviceState *dev = rtc_new();
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autoptr(GDateTime) rtc = NULL;
    GTimeSpan diff;

    g_assert_cmphex(cmos_read(RTC_REG_A) & 0x7f, ==, 0x26);
    g_assert_cmphex(cmos_read(RTC_REG_B), ==, 0x02);
    g_assert_cmphex(cmos_read(RTC_REG_D), ==, 0x80);
    rtc = g_date_time_new_utc(bcd(cmos_read(RTC_CENTURY)) * 100 + bcd(cmos_read(RTC_YEAR)),
                              bcd(cmos_read(RTC_MONTH)), bcd(cmos_read(RTC_DAY)),
                              bcd(cmos_read(RTC_HOURS)), bcd(cmos_read(RTC_MINUTES)),
                              bcd(cmos_read(RTC_SECONDS)));
    g_assert_nonnull(rtc);
    diff = g_date_time_difference(now, rtc);
    g_assert_cmpint(ABS(diff), <=, 2 * G_TIME_SPAN_SECOND);
    g_assert_cmpint(bcd(cmos_read(RTC_DOW)), ==, g_date_time_get_day_of_week(rtc) % 7 + 1);
    /* Index port reads as 0xff; bit 7 of the index (NMI mask) is ignored. */
    {
        uint64_t v;
        address_space_ld(&address_space_io, 0x70, &v, 1);
        g_assert_cmphex(v, ==, 0xff);
    }
    cmos_write(0x8e, 0x5a);
    g_assert_cmphex(cmos_read(0x0e), ==, 0x5a);
    /* C and D are read-only. */
    cmos_write(RTC_REG_D, 0x00);
    g_assert_cmphex(cmos_read(RTC_REG_D), ==, 0x80);
    qdev_free(dev);
}

static void test_rollover_and_formats(void)
{
    DeviceState *dev = rtc_new();

    set_time_bcd(0x20, 0x99, 0x12, 0x31, 0x23, 0x59, 0x59);
    g_assert_cmphex(cmos_read(RTC_SECONDS), ==, 0x59);
    clock_step(499 * MS);
    g_assert_cmphex(cmos_read(RTC_SECONDS), ==, 0x59);
    clock_step(1 * MS);
    g_assert_cmphex(cmos_read(RTC_SECONDS), ==, 0x00);
    g_assert_cmphex(cmos_read(RTC_MINUTES), ==, 0x00);
    g_assert_cmphex(cmos_read(RTC_HOURS), ==, 0x00);
    g_assert_cmphex(cmos_read(RTC_DAY), ==, 0x01);
    g_assert_cmphex(cmos_read(RTC_MONTH), ==, 0x01);
    g_assert_cmphex(cmos_read(RTC_YEAR), ==, 0x00);
    g_assert_cmphex(cmos_read(RTC_CENTURY), ==, 0x21);
    g_assert_cmphex(cmos_read(RTC_DOW), ==, 0x06);       /* 2100-01-01: Friday */

    /* Leap day, then 13:05:09 in each format. */
    set_time_bcd(0x20, 0x00, 0x02, 0x29, 0x13, 0x05, 0x09);
    g_assert_cmphex(cmos_read(RTC_DOW), ==, 0x03);       /* Tuesday */
    cmos_write(RTC_REG_B, 0x00);                         /* BCD, 12-hour */
    g_assert_cmphex(cmos_read(RTC_HOURS), ==, 0x81);
    cmos_write(RTC_REG_B, 0x04);                         /* binary, 12-hour */
    g_assert_cmphex(cmos_read(RTC_HOURS), ==, 0x81);
    g_assert_cmphex(cmos_read(RTC_MINUTES), ==, 5);
    g_assert_cmphex(cmos_read(RTC_SECONDS), ==, 9);
    g_assert_cmphex(cmos_read(RTC_DAY), ==, 29);
    cmos_write(RTC_REG_B, 0x06);                         /* binary, 24-hour */
    g_assert_cmphex(cmos_read(RTC_HOURS), ==, 13);
    /* Midnight and noon in 12-hour mode (format changes made while the
     * clock runs, so the registers are converted). */
    cmos_write(RTC_REG_B, 0x00);
    cmos_write(RTC_REG_B, 0x80);                         /* SET, BCD, 12-hour */
    cmos_write(RTC_HOURS, 0x12);                         /* 12 AM */
    cmos_write(RTC_REG_B, 0x02);
    g_assert_cmphex(cmos_read(RTC_HOURS), ==, 0x00);
    cmos_write(RTC_REG_B, 0x00);
    g_assert_cmphex(cmos_read(RTC_HOURS), ==, 0x12);
    cmos_write(RTC_REG_B, 0x80);
    cmos_write(RTC_HOURS, 0x92);                         /* 12 PM */
    cmos_write(RTC_REG_B, 0x02);
    g_assert_cmphex(cmos_read(RTC_HOURS), ==, 0x12);
    g_assert_cmphex(cmos_read(RTC_DAY), ==, 0x29);
    qdev_free(dev);
}

static void test_set_freezes(void)
{
    DeviceState *dev = rtc_new();

    set_time_bcd(0x20, 0x26, 0x11, 0x22, 0x10, 0x00, 0x00);
    cmos_write(RTC_REG_B, 0x82 | 0x10);                  /* SET (clears UIE) */
    g_assert_cmphex(cmos_read(RTC_REG_B), ==, 0x82);
    clock_step(5000 * MS);
    g_assert_cmphex(cmos_read(RTC_SECONDS), ==, 0x00);
    g_assert_cmphex(cmos_read(RTC_REG_A) & 0x80, ==, 0);
    cmos_write(RTC_SECONDS, 0x30);
    cmos_write(RTC_REG_B, 0x02);
    g_assert_cmphex(cmos_read(RTC_SECONDS), ==, 0x30);
    clock_step(1000 * MS);
    g_assert_cmphex(cmos_read(RTC_SECONDS), ==, 0x31);
    /* Writing a field while running sets the time at once. */
    cmos_write(RTC_MINUTES, 0x42);
    g_assert_cmphex(cmos_read(RTC_MINUTES), ==, 0x42);
    g_assert_cmphex(cmos_read(RTC_HOURS), ==, 0x10);
    clock_step(60 * 1000 * MS);
    g_assert_cmphex(cmos_read(RTC_MINUTES), ==, 0x43);
    qdev_free(dev);
}

static void test_uip(void)
{
    DeviceState *dev = rtc_new();

    set_time_bcd(0x20, 0x26, 0x11, 0x22, 0x10, 0x00, 0x00);
    g_assert_cmphex(cmos_read(RTC_REG_A), ==, 0x26);
    clock_step(500 * MS - 300 * 1000);                   /* 300 us before the update */
    g_assert_cmphex(cmos_read(RTC_REG_A), ==, 0x26);
    clock_step(100 * 1000);                              /* 200 us before */
    g_assert_cmphex(cmos_read(RTC_REG_A), ==, 0xa6);
    g_assert_cmphex(cmos_read(RTC_SECONDS), ==, 0x00);
    clock_step(200 * 1000);
    g_assert_cmphex(cmos_read(RTC_REG_A), ==, 0x26);
    g_assert_cmphex(cmos_read(RTC_SECONDS), ==, 0x01);
    qdev_free(dev);
}

static void test_update_interrupt(void)
{
    DeviceState *dev = rtc_new();

    set_time_bcd(0x20, 0x26, 0x11, 0x22, 0x10, 0x00, 0x00);
    cmos_read(RTC_REG_C);
    /* Nothing enabled: no timer at all. */
    g_assert_cmpint(qemu_clock_virtual_deadline(), ==, -1);
    cmos_write(RTC_REG_B, 0x12);                         /* UIE */
    g_assert_cmpint(qemu_clock_virtual_deadline(), >=, 0);
    clock_step(499 * MS);
    g_assert_cmpint(irq_level[8], ==, 0);
    clock_step(1 * MS);
    g_assert_cmpint(irq_level[8], ==, 1);
    g_assert_cmphex(cmos_read(RTC_REG_C), ==, 0x90);     /* IRQF | UF */
    g_assert_cmpint(irq_level[8], ==, 0);
    g_assert_cmphex(cmos_read(RTC_REG_C), ==, 0x00);
    clock_step(1000 * MS);
    g_assert_cmpint(irq_level[8], ==, 1);
    /* Disabling the source drops IRQF and the line. */
    cmos_write(RTC_REG_B, 0x02);
    g_assert_cmpint(irq_level[8], ==, 0);
    g_assert_cmphex(cmos_read(RTC_REG_C), ==, 0x10);     /* UF still set */
    g_assert_cmpint(qemu_clock_virtual_deadline(), ==, -1);
    /* Flags are kept without interrupts: UF appears after a second. */
    clock_step(1000 * MS);
    g_assert_cmphex(cmos_read(RTC_REG_C), ==, 0x10);
    /* Reset clears enables and flags. */
    cmos_write(RTC_REG_B, 0x72);
    qdev_reset(dev);
    g_assert_cmphex(cmos_read(RTC_REG_B), ==, 0x02);
    g_assert_cmpint(qemu_clock_virtual_deadline(), ==, -1);
    qdev_free(dev);
}

static void test_alarm(void)
{
    DeviceState *dev = rtc_new();

    set_time_bcd(0x20, 0x26, 0x11, 0x22, 0x10, 0x00, 0x00);
    cmos_write(RTC_SEC_ALARM, 0x05);
    cmos_write(RTC_MIN_ALARM, 0x00);
    cmos_write(RTC_HOUR_ALARM, 0x10);
    cmos_write(RTC_REG_B, 0x22);                         /* AIE */
    cmos_read(RTC_REG_C);
    clock_step(4400 * MS);                               /* 10:00:04.9 */
    g_assert_cmpint(irq_level[8], ==, 0);
    g_assert_cmphex(cmos_read(RTC_REG_C) & 0x20, ==, 0);
    clock_step(100 * MS);                                /* 10:00:05 */
    g_assert_cmpint(irq_level[8], ==, 1);
    g_assert_cmphex(cmos_read(RTC_REG_C), ==, 0xb0);     /* IRQF | AF | UF */
    g_assert_cmphex(cmos_read(RTC_REG_C), ==, 0x00);

    /* Don't-care hours and minutes: fires at every :30. */
    cmos_write(RTC_SEC_ALARM, 0x30);
    cmos_write(RTC_MIN_ALARM, 0xc0);
    cmos_write(RTC_HOUR_ALARM, 0xff);
    clock_step(24 * 1000 * MS);                          /* 10:00:29 */
    g_assert_cmpint(irq_level[8], ==, 0);
    cmos_read(RTC_REG_C);
    clock_step(1000 * MS);                               /* 10:00:30 */
    g_assert_cmpint(irq_level[8], ==, 1);
    g_assert_cmphex(cmos_read(RTC_REG_C) & 0xa0, ==, 0xa0);
    clock_step(60 * 1000 * MS);                          /* 10:01:30 */
    g_assert_cmpint(irq_level[8], ==, 1);
    cmos_read(RTC_REG_C);

    /* An alarm passed while AIE was off is still flagged (lazily). */
    cmos_write(RTC_REG_B, 0x02);
    cmos_read(RTC_REG_C);
    clock_step(3600 * 1000 * MS);
    g_assert_cmphex(cmos_read(RTC_REG_C), ==, 0x30);
    qdev_free(dev);
}

static void test_periodic(void)
{
    DeviceState *dev = rtc_new();
    int64_t end;
    int fired = 0;

    set_time_bcd(0x20, 0x26, 0x11, 0x22, 0x10, 0x00, 0x00);
    cmos_read(RTC_REG_C);
    /* Without PIE: no timer, and (as on QEMU) no PF. */
    g_assert_cmpint(qemu_clock_virtual_deadline(), ==, -1);
    clock_step(10 * MS);
    g_assert_cmphex(cmos_read(RTC_REG_C), ==, 0x00);

    /* 2 Hz. */
    cmos_write(RTC_REG_A, 0x2f);
    cmos_read(RTC_REG_C);
    cmos_write(RTC_REG_B, 0x42);
    g_assert_cmpint(qemu_clock_virtual_deadline(), >=, 0);
    clock_step(600 * MS);
    g_assert_cmpint(irq_level[8], ==, 1);
    g_assert_cmphex(cmos_read(RTC_REG_C) & 0xc0, ==, 0xc0);

    /* 1024 Hz for one second. */
    cmos_write(RTC_REG_A, 0x26);
    cmos_read(RTC_REG_C);
    end = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + 1000 * MS;
    while (qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) < end) {
        int64_t d = qemu_clock_virtual_deadline();
        qemu_clock_virtual_advance(d > 0 && d < end ? d : end);
        if (irq_level[8]) {
            fired++;
            cmos_read(RTC_REG_C);
        }
    }
    g_assert_cmpint(fired, >=, 1023);
    g_assert_cmpint(fired, <=, 1025);

    /* Alternating 8 Hz and 2 Hz: each rate change counts from the last
     * interrupt, so 10 rounds take 10 * (125 + 500) ms (QEMU's rtc-test). */
    cmos_write(RTC_REG_B, 0x02);
    cmos_write(RTC_REG_A, 0x2d);
    cmos_write(RTC_REG_B, 0x42);
    cmos_read(RTC_REG_C);
    {
        int64_t start = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
        int round, rate;

        for (round = 0; round < 10; round++) {
            for (rate = 0; rate < 2; rate++) {
                cmos_write(RTC_REG_A, rate ? 0x2f : 0x2d);
                while (!irq_level[8]) {
                    qemu_clock_virtual_advance(qemu_clock_virtual_deadline());
                }
                g_assert_cmphex(cmos_read(RTC_REG_C) & 0x40, ==, 0x40);
            }
        }
        end = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) - start;
        g_assert_cmpint(end, >=, 6249 * MS);
        g_assert_cmpint(end, <=, 6251 * MS);
    }
    cmos_write(RTC_REG_B, 0x02);
    g_assert_cmpint(qemu_clock_virtual_deadline(), ==, -1);
    qdev_free(dev);
}

static void test_memory_bytes(void)
{
    DeviceState *dev = rtc_new();

    rtc_set_pc_memory(dev, 512 * 1024 * 1024ULL, 1024 * 1024 * 1024ULL, 4);
    g_assert_cmphex(cmos_read(0x15), ==, 0x80);
    g_assert_cmphex(cmos_read(0x16), ==, 0x02);
    g_assert_cmphex(cmos_read(0x17), ==, 0xff);
    g_assert_cmphex(cmos_read(0x18), ==, 0xff);
    g_assert_cmphex(cmos_read(0x30), ==, 0xff);
    g_assert_cmphex(cmos_read(0x31), ==, 0xff);
    g_assert_cmphex(cmos_read(0x34), ==, 0x00);
    g_assert_cmphex(cmos_read(0x35), ==, 0x1f);
    g_assert_cmphex(cmos_read(0x5b), ==, 0x00);
    g_assert_cmphex(cmos_read(0x5c), ==, 0x40);
    g_assert_cmphex(cmos_read(0x5d), ==, 0x00);
    g_assert_cmphex(cmos_read(0x5f), ==, 0x03);
    rtc_set_pc_memory(dev, 32 * 1024 * 1024ULL, 0, 1);
    g_assert_cmphex(cmos_read(0x17) | cmos_read(0x18) << 8, ==, 31 * 1024);
    g_assert_cmphex(cmos_read(0x34) | cmos_read(0x35) << 8, ==, 256);
    g_assert_cmphex(cmos_read(0x5f), ==, 0);
    rtc_set_memory(dev, 200, 1);                         /* ignored */
    g_assert_cmphex(rtc_get_memory(dev, 0x5c), ==, 0x00);
    qdev_free(dev);
}

static void test_vmstate_and_fuzz(void)
{
    DeviceState *dev = rtc_new();
    g_autoptr(GByteArray) buf = g_byte_array_new();
    Error *err = NULL;
    size_t pos = 0;
    GRand *rand = g_rand_new_with_seed(42);
    int i;

    set_time_bcd(0x20, 0x26, 0x11, 0x22, 0x10, 0x00, 0x00);
    cmos_write(0x40, 0x99);
    cmos_write(RTC_REG_B, 0x12);
    g_assert_true(vmstate_save(dev->klass->vmsd, dev, buf, &err));
    cmos_write(0x40, 0x00);
    cmos_write(RTC_REG_B, 0x02);
    g_assert_true(vmstate_load(dev->klass->vmsd, dev, buf->data, buf->len, &pos, &err));
    g_assert_no_error(err);
    g_assert_cmphex(cmos_read(0x40), ==, 0x99);
    g_assert_cmphex(cmos_read(RTC_REG_B), ==, 0x12);
    g_assert_cmphex(cmos_read(RTC_HOURS), ==, 0x10);
    clock_step(600 * MS);
    g_assert_cmpint(irq_level[8], ==, 1);

    /* Garbage in every register must not crash or hang. */
    for (i = 0; i < 20000; i++) {
        uint8_t idx = g_rand_int_range(rand, 0, 0x40);
        cmos_write(idx, g_rand_int_range(rand, 0, 256));
        cmos_read(g_rand_int_range(rand, 0, 0x80));
        if (i % 100 == 0) {
            clock_step(g_rand_int_range(rand, 0, 2000) * MS);
        }
    }
    g_rand_free(rand);
    qdev_free(dev);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    isa_test_init(NULL);

    g_test_add_func("/rtc/host-time", test_host_time);
    g_test_add_func("/rtc/rollover-and-formats", test_rollover_and_formats);
    g_test_add_func("/rtc/set-freezes", test_set_freezes);
    g_test_add_func("/rtc/uip", test_uip);
    g_test_add_func("/rtc/update-interrupt", test_update_interrupt);
    g_test_add_func("/rtc/alarm", test_alarm);
    g_test_add_func("/rtc/periodic", test_periodic);
    g_test_add_func("/rtc/memory-bytes", test_memory_bytes);
    g_test_add_func("/rtc/vmstate-and-fuzz", test_vmstate_and_fuzz);
    return g_test_run();
}

/*
 * i8254 PIT ("isa-pit") and port 0x61 ("port61") through qdev and the I/O
 * address space, on the manual virtual clock: OUT waveforms and counter
 * values of all six modes at chosen times, the gate (through port 0x61),
 * lo/hi/word access, counter latch and read-back (status and count), BCD,
 * IRQ 0 edges with only the next edge's timer armed, the refresh toggle,
 * vmstate, and random guest writes that must not crash.
 */
#include <string.h>
#include <glib.h>

#include "hw/qdev.h"
#include "hw/isa/isa.h"
#include "hw/memory.h"
#include "hw/vmstate.h"
#include "hw/timer/i8254.h"
#include "system/main-loop.h"
#include "isa-test-util.h"
#include "pio-test-util.h"

#define FREQ 1193182ULL

static DeviceState *pit, *port61;
static int64_t t0;              /* virtual time the count under test was loaded */

static int64_t now(void)
{
    return qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
}

/* First ns at which `ticks` input clocks have elapsed (the datasheet's
 * clock, computed independently of the device). */
static int64_t tns(uint64_t ticks)
{
    return (ticks * 1000000000ULL + FREQ - 1) / FREQ;
}

/* Move the clock to `ticks` clocks after t0 (running the timers due). */
static void at_tick(uint64_t ticks)
{
    qemu_clock_virtual_advance(t0 + tns(ticks));
}

/* Control word for ch, lo/hi access, mode, optional BCD; then the count. */
static void program(int ch, int mode, uint16_t count, bool bcd)
{
    outb(0x43, ch << 6 | 0x30 | mode << 1 | bcd);
    outb(0x40 + ch, count & 0xff);
    outb(0x40 + ch, count >> 8);
    t0 = now();
}

/* Two reads, LSB first (the flip-flop's order). */
static uint16_t read_word(int ch)
{
    uint8_t lo = inb(0x40 + ch);
    uint8_t hi = inb(0x40 + ch);

    return lo | hi << 8;
}

static uint16_t latch(int ch)
{
    outb(0x43, ch << 6);
    return read_word(ch);
}

static uint8_t status(int ch)
{
    outb(0x43, 0xe0 | 2 << ch);         /* read-back: status only */
    return inb(0x40 + ch);
}

static bool out(int ch)
{
    return status(ch) & 0x80;
}

static void setup(void)
{
    /* Start each test at a fresh, odd-looking time. */
    qemu_clock_virtual_advance(now() + 1234567);
    qdev_reset(pit);
    qdev_reset(port61);
    memset(irq_raises, 0, sizeof(irq_raises));
}

static void test_mode0(void)
{
    setup();
    outb(0x43, 0x30);                   /* ch0, mode 0: OUT goes low */
    g_assert_cmpint(irq_level[0], ==, 0);
    g_assert_false(out(0));
    g_assert_true(status(0) & 0x40);    /* null count until the count */
    outb(0x40, 100);
    g_assert_false(out(0));              /* MSB still missing */
    outb(0x40, 0);
    t0 = now();
    g_assert_false(status(0) & 0x40);
    g_assert_cmpuint(latch(0), ==, 100);
    /* Only the terminal-count edge is armed. */
    g_assert_cmpint(qemu_clock_virtual_deadline(), ==, t0 + tns(100));
    at_tick(40);
    g_assert_cmpuint(latch(0), ==, 60);
    g_assert_false(out(0));
    at_tick(99);
    g_assert_cmpuint(latch(0), ==, 1);
    g_assert_cmpint(irq_level[0], ==, 0);
    at_tick(100);
    g_assert_cmpint(irq_level[0], ==, 1);
    g_assert_true(out(0));
    g_assert_cmpuint(latch(0), ==, 0);
    /* It wraps around and keeps counting; OUT stays high, no more timers. */
    at_tick(150);
    g_assert_cmpuint(latch(0), ==, 0x10000 - 50);
    g_assert_cmpint(qemu_clock_virtual_deadline(), ==, -1);
    qemu_clock_virtual_advance(now() + 1000000000LL);
    g_assert_cmpint(irq_raises[0], ==, 1);
    /* A new count restarts the one-shot with OUT low. */
    program(0, 0, 10, false);
    g_assert_cmpint(irq_level[0], ==, 0);
    at_tick(10);
    g_assert_cmpint(irq_level[0], ==, 1);
    g_assert_cmpint(irq_raises[0], ==, 2);
}

static void test_mode1(void)
{
    setup();
    outb(0x61, 0x00);                   /* GATE2 low */
    program(2, 1, 10, false);
    g_assert_true(out(2));              /* waits for a trigger, OUT high */
    qemu_clock_virtual_advance(now() + tns(100));
    g_assert_true(inb(0x61) & 0x20);
    outb(0x61, 0x01);                   /* rising edge: trigger */
    t0 = now();
    g_assert_false(inb(0x61) & 0x20);
    at_tick(4);
    g_assert_cmpuint(latch(2), ==, 6);
    g_assert_false(out(2));
    at_tick(10);
    g_assert_true(out(2));
    g_assert_true(inb(0x61) & 0x20);
    /* Retrigger. */
    outb(0x61, 0x00);
    outb(0x61, 0x01);
    t0 = now();
    g_assert_false(out(2));
    g_assert_cmpuint(latch(2), ==, 10);
    at_tick(9);
    g_assert_false(out(2));
    at_tick(10);
    g_assert_true(out(2));
}

static void test_mode2(void)
{
    setup();
    program(0, 2, 5, false);
    for (int k = 0; k < 25; k++) {
        at_tick(k);
        g_assert_cmpuint(latch(0), ==, 5 - k % 5);
        g_assert_cmpint(irq_level[0], ==, k % 5 != 4);
        g_assert_cmpint(out(0), ==, k % 5 != 4);
        /* The timer waits for the next edge only. */
        g_assert_cmpint(qemu_clock_virtual_deadline(), ==,
                        t0 + tns(k % 5 == 4 ? k + 1 : k - k % 5 + 4));
    }
    /* One rising edge (IRQ) per period: 5 periods ended by tick 24 ... */
    g_assert_cmpint(irq_raises[0], ==, 4);
    /* ... and a long run gives one edge per period. */
    at_tick(5000);
    g_assert_cmpint(irq_raises[0], ==, 1000);
    /* 6 (and 7) are modes 2 (and 3). */
    outb(0x43, 0x3c);
    g_assert_cmphex(status(0) & 0x3f, ==, 0x3c);
}

static void test_mode3(void)
{
    static const uint16_t even[] = { 6, 4, 2, 6, 4, 2 };

    setup();
    program(0, 3, 6, false);
    for (int k = 0; k < 12; k++) {
        at_tick(k);
        g_assert_cmpint(out(0), ==, k % 6 < 3);
        g_assert_cmpint(irq_level[0], ==, k % 6 < 3);
        g_assert_cmpuint(latch(0), ==, even[k % 6]);
    }
    /* Odd count: high for (n + 1) / 2 clocks, low for (n - 1) / 2. */
    program(0, 3, 5, false);
    for (int k = 0; k < 15; k++) {
        at_tick(k);
        g_assert_cmpint(out(0), ==, k % 5 < 3);
        g_assert_cmpuint(latch(0) & 1, ==, k % 5 == 0);     /* n, then even */
    }
    /* 18.2 Hz after reset: mode 3, count 0x10000 (reads as 0). */
    setup();
    g_assert_cmphex(status(0) & 0x3f, ==, 0x36);
    irq_raises[0] = 0;
    qemu_clock_virtual_advance(now() + 1000000000LL);
    g_assert_cmpint(irq_raises[0], >=, 18);
    g_assert_cmpint(irq_raises[0], <=, 19);
}

static void test_mode4_and_5(void)
{
    setup();
    program(0, 4, 10, false);
    at_tick(9);
    g_assert_true(out(0));
    g_assert_cmpuint(latch(0), ==, 1);
    at_tick(10);
    g_assert_false(out(0));             /* one clock low at terminal count */
    g_assert_cmpint(irq_level[0], ==, 0);
    at_tick(11);
    g_assert_true(out(0));
    g_assert_cmpint(irq_level[0], ==, 1);
    g_assert_cmpuint(latch(0), ==, 0xffff);
    g_assert_cmpint(qemu_clock_virtual_deadline(), ==, -1);

    /* Mode 5 counts from a gate edge. */
    outb(0x61, 0x00);
    program(2, 5, 8, false);
    qemu_clock_virtual_advance(now() + tns(50));
    g_assert_true(out(2));
    g_assert_cmpuint(latch(2), ==, 8);
    outb(0x61, 0x01);
    t0 = now();
    at_tick(7);
    g_assert_true(out(2));
    at_tick(8);
    g_assert_false(out(2));
    at_tick(9);
    g_assert_true(out(2));
}

static void test_gate(void)
{
    setup();
    /* Mode 0: GATE low suspends counting. */
    outb(0x61, 0x01);
    program(2, 0, 100, false);
    at_tick(30);
    outb(0x61, 0x00);
    qemu_clock_virtual_advance(now() + tns(1000));
    g_assert_cmpuint(latch(2), ==, 70);
    g_assert_false(inb(0x61) & 0x20);
    outb(0x61, 0x01);
    t0 = now() - tns(30);
    at_tick(99);
    g_assert_false(inb(0x61) & 0x20);
    at_tick(101);
    g_assert_true(inb(0x61) & 0x20);
    /* Mode 2: GATE low forces OUT high and stops; rising edge reloads. */
    program(2, 2, 10, false);
    at_tick(9);
    g_assert_false(out(2));
    outb(0x61, 0x00);
    g_assert_true(out(2));
    qemu_clock_virtual_advance(now() + tns(5));
    g_assert_cmpuint(latch(2), ==, 10);
    outb(0x61, 0x01);
    t0 = now();
    at_tick(3);
    g_assert_cmpuint(latch(2), ==, 7);
    /* Port 0x61 reads its stored bits back; the status bits are read-only. */
    outb(0x61, 0xff);
    g_assert_cmphex(inb(0x61) & 0xcf, ==, 0x0f);
}

static void test_access_and_latch(void)
{
    setup();
    /* LSB only and MSB only. */
    outb(0x43, 0x90 | 0 << 1);          /* ch2, LSB, mode 0 */
    outb(0x61, 0x00);
    outb(0x42, 0x34);
    g_assert_cmphex(inb(0x42), ==, 0x34);
    g_assert_cmphex(inb(0x42), ==, 0x34);
    outb(0x43, 0xa0);                   /* ch2, MSB, mode 0 */
    outb(0x42, 0x12);
    g_assert_cmphex(inb(0x42), ==, 0x12);
    g_assert_cmphex(status(2) & 0x3f, ==, 0x20);
    /* Word access without a latch: the flip-flop alternates LSB/MSB. */
    program(2, 0, 0xabcd, false);
    g_assert_cmphex(inb(0x42), ==, 0xcd);
    g_assert_cmphex(inb(0x42), ==, 0xab);
    g_assert_cmphex(inb(0x42), ==, 0xcd);
    g_assert_cmphex(inb(0x42), ==, 0xab);
    /* A latch holds its value while time passes; a second latch command
     * before reading is ignored. */
    program(0, 2, 1000, false);
    at_tick(100);
    outb(0x43, 0x00);
    at_tick(200);
    outb(0x43, 0x00);
    g_assert_cmpuint(read_word(0), ==, 900);
    g_assert_cmpuint(latch(0), ==, 800);
    /* Read-back of count and status for channels 0 and 2: status first. */
    outb(0x61, 0x01);
    program(2, 3, 0x100, false);
    at_tick(16);
    outb(0x43, 0xc0 | 0x02 | 0x08);
    at_tick(50);
    g_assert_cmphex(inb(0x40), ==, 0xb4);        /* OUT high, word, mode 2 */
    g_assert_cmpuint(read_word(0), ==, 1000 - 216 % 1000);
    g_assert_cmphex(inb(0x42), ==, 0xb6);        /* OUT high, word, mode 3 */
    g_assert_cmpuint(read_word(2), ==, 0x100 - 32);
    /* Read-back count only leaves the status unlatched. */
    outb(0x43, 0xd0 | 0x08);
    g_assert_cmpuint(read_word(2), ==, 0x100 - 100);
    /* Read-back with no channel selected does nothing. */
    outb(0x43, 0xc0);
    /* The control word register reads as 0. */
    g_assert_cmphex(inb(0x43), ==, 0);
}

static void test_bcd(void)
{
    setup();
    program(0, 0, 0x1000, true);        /* 1000 decimal */
    g_assert_cmphex(latch(0), ==, 0x1000);
    at_tick(1);
    g_assert_cmphex(latch(0), ==, 0x0999);
    at_tick(999);
    g_assert_cmphex(latch(0), ==, 0x0001);
    g_assert_false(out(0));
    at_tick(1000);
    g_assert_true(out(0));
    at_tick(1001);
    g_assert_cmphex(latch(0), ==, 0x9999);       /* wraps within 4 decades */
    g_assert_cmphex(status(0) & 0x01, ==, 0x01);
    /* Count 0 in BCD is 10000. */
    program(0, 2, 0x0000, true);
    at_tick(1);
    g_assert_cmphex(latch(0), ==, 0x9999);
    at_tick(10000);
    g_assert_cmphex(latch(0), ==, 0x0000);       /* reloaded: 10000 */
    at_tick(10001);
    g_assert_cmphex(latch(0), ==, 0x9999);
    /* Not-BCD digits must not crash. */
    program(0, 0, 0xffff, true);
    at_tick(3);
    latch(0);
}

static void test_refresh_toggle(void)
{
    int64_t base;
    uint8_t first;

    setup();
    base = (now() / 15085 + 1) * 15085;          /* a toggle boundary */
    qemu_clock_virtual_advance(base);
    first = inb(0x61) & 0x10;
    g_assert_cmphex(inb(0x61) & 0x10, ==, first); /* no toggle without time */
    qemu_clock_virtual_advance(base + 15084);
    g_assert_cmphex(inb(0x61) & 0x10, ==, first);
    qemu_clock_virtual_advance(base + 15085);
    g_assert_cmphex(inb(0x61) & 0x10, ==, first ^ 0x10);
    qemu_clock_virtual_advance(base + 2 * 15085);
    g_assert_cmphex(inb(0x61) & 0x10, ==, first);
}

static void test_vmstate(void)
{
    g_autoptr(GByteArray) buf = g_byte_array_new();
    Error *err = NULL;
    size_t pos = 0;

    int64_t saved_t0;

    setup();
    program(0, 2, 500, false);
    saved_t0 = t0;
    at_tick(123);
    outb(0x43, 0x00);                   /* a pending latch travels too */
    g_assert_true(vmstate_save(pit->klass->vmsd, pit, buf, &err));
    g_assert_no_error(err);
    program(0, 0, 7, false);
    outb(0x43, 0x36);
    g_assert_true(vmstate_load(pit->klass->vmsd, pit, buf->data, buf->len, &pos, &err));
    g_assert_no_error(err);
    t0 = saved_t0;
    g_assert_cmpuint(read_word(0), ==, 500 - 123);
    g_assert_cmphex(status(0) & 0x3f, ==, 0x34);
    at_tick(499);
    g_assert_cmpint(irq_level[0], ==, 0);
    at_tick(500);
    g_assert_cmpint(irq_level[0], ==, 1);
}

static void test_fuzz(void)
{
    static const uint16_t ports[] = { 0x40, 0x41, 0x42, 0x43, 0x43, 0x61 };
    GRand *rand = g_rand_new_with_seed(8254);

    setup();
    for (int i = 0; i < 50000; i++) {
        uint16_t port = ports[g_rand_int_range(rand, 0, G_N_ELEMENTS(ports))];

        if (g_rand_boolean(rand)) {
            outb(port, g_rand_int_range(rand, 0, 256));
        } else {
            inb(port);
        }
        if (i % 64 == 0) {
            /* Short steps: a guest may legally ask for an edge per clock. */
            qemu_clock_virtual_advance(now() + g_rand_int_range(rand, 0, 200000));
        }
    }
    g_rand_free(rand);
    /* Still a working PIT afterwards. */
    program(0, 0, 50, false);
    at_tick(50);
    g_assert_cmpint(irq_level[0], ==, 1);
}

int main(int argc, char **argv)
{
    ISABus *bus;
    Error *err = NULL;

    g_test_init(&argc, &argv, NULL);
    bus = isa_test_init(NULL);

    pit = qdev_new("isa-pit", &err);
    g_assert_no_error(err);
    g_assert_true(qdev_realize(pit, bus->bus, &err));
    port61 = qdev_new("port61", &err);
    g_assert_no_error(err);
    g_assert_true(qdev_prop_parse(port61, "pit", pit->canonical_path, &err));
    g_assert_true(qdev_realize(port61, bus->bus, &err));
    g_assert_no_error(err);
    g_assert_nonnull(pit_speaker_ops(pit));

    g_test_add_func("/i8254/mode0", test_mode0);
    g_test_add_func("/i8254/mode1", test_mode1);
    g_test_add_func("/i8254/mode2", test_mode2);
    g_test_add_func("/i8254/mode3", test_mode3);
    g_test_add_func("/i8254/mode4-and-5", test_mode4_and_5);
    g_test_add_func("/i8254/gate", test_gate);
    g_test_add_func("/i8254/access-and-latch", test_access_and_latch);
    g_test_add_func("/i8254/bcd", test_bcd);
    g_test_add_func("/i8254/port61-refresh", test_refresh_toggle);
    g_test_add_func("/i8254/vmstate", test_vmstate);
    g_test_add_func("/i8254/fuzz", test_fuzz);
    return g_test_run();
}

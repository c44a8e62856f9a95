/*
 * The HPET model (hw/timer/hpet.c) alone, with its outputs recorded: what
 * the qtest cannot reach — vmstate (a running periodic timer and a held
 * level interrupt survive save/reset/load), reset, odd access sizes.
 */
#include <string.h>
#include <glib.h>
#include "hw/qdev.h"
#include "hw/irq.h"
#include "hw/vmstate.h"
#include "hw/timer/hpet.h"
#include "isa-test-util.h"

#define CONF        0x010
#define ISR         0x020
#define COUNTER     0x0f0
#define TN_CONF(n)  (0x100 + 0x20 * (n))
#define TN_CMP(n)   (0x108 + 0x20 * (n))

static int line_level[HPET_NUM_LINES];
static int line_raises[HPET_NUM_LINES];

static void line_handler(void *opaque, int n, int level)
{
    if (level && !line_level[n]) {
        line_raises[n]++;
    }
    line_level[n] = level;
}

static void isa_irq_ignore(void *opaque, int n, int level)
{
}

static uint64_t rd(uint64_t off, unsigned size)
{
    uint64_t v = 0;

    address_space_ld(&address_space_memory, HPET_BASE + off, &v, size);
    return v;
}

static void wr(uint64_t off, uint64_t v, unsigned size)
{
    address_space_st(&address_space_memory, HPET_BASE + off, v, size);
}

static DeviceState *hpet_new(void)
{
    Error *err = NULL;
    DeviceState *dev = qdev_new(HPET_TYPE, &err);

    g_assert_no_error(err);
    g_assert_true(qdev_realize(dev, NULL, &err));
    g_assert_no_error(err);
    static qemu_irq lines[HPET_NUM_LINES];     /* the test's, shared by its devices */

    for (int i = 0; i < HPET_NUM_LINES; i++) {
        if (!lines[i]) {
            lines[i] = qemu_allocate_irq(line_handler, NULL, i);
        }
        qdev_connect_gpio_out(dev, i, lines[i]);
    }
    qdev_reset(dev);
    memset(line_level, 0, sizeof(line_level));
    memset(line_raises, 0, sizeof(line_raises));
    return dev;
}

static void test_vmstate(void)
{
    DeviceState *dev = hpet_new();
    g_autoptr(GByteArray) buf = g_byte_array_new();
    Error *err = NULL;
    size_t pos = 0;
    uint64_t counter;

    /* timer 0: periodic edge every 10 us on IRQ 2; timer 2: level one-shot */
    wr(TN_CONF(0), 0x04c | (2 << 9), 8);
    wr(TN_CMP(0), 1000, 8);
    wr(TN_CMP(0), 1000, 8);
    wr(TN_CONF(2), 0x006 | (2 << 9), 8);
    wr(TN_CMP(2), 50, 8);
    wr(CONF, 1, 4);
    clock_step(5000);
    g_assert_cmpint(line_level[2], ==, 1);                      /* timer 2 holds it */
    g_assert_cmphex(rd(ISR, 8), ==, 0x4);
    counter = rd(COUNTER, 8);
    g_assert_cmpuint(counter, ==, 500);

    g_assert_true(vmstate_save(dev->klass->vmsd, dev, buf, &err));
    g_assert_no_error(err);
    qdev_reset(dev);
    g_assert_cmpint(line_level[2], ==, 0);
    g_assert_cmphex(rd(CONF, 8), ==, 0);
    g_assert_true(vmstate_load(dev->klass->vmsd, dev, buf->data, buf->len, &pos, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(pos, ==, buf->len);

    g_assert_cmpint(line_level[2], ==, 1);                      /* driven again */
    g_assert_cmphex(rd(ISR, 8), ==, 0x4);
    g_assert_cmpuint(rd(COUNTER, 8), ==, counter);
    g_assert_cmpuint(rd(TN_CMP(0), 8), ==, 1000);
    /* the periodic timer still fires at 10 us, 20 us... */
    wr(ISR, 0x4, 4);
    g_assert_cmpint(line_level[2], ==, 0);
    line_raises[2] = 0;
    clock_step(4999);
    g_assert_cmpint(line_raises[2], ==, 0);
    clock_step(1);
    g_assert_cmpint(line_raises[2], ==, 1);
    clock_step(10000);
    g_assert_cmpint(line_raises[2], ==, 2);
    qdev_free(dev);
    g_assert_cmpint(qemu_clock_virtual_deadline(), ==, -1);
}

/* Reset: everything back to power-on, timers stopped, lines low. */
static void test_reset(void)
{
    DeviceState *dev = hpet_new();

    wr(TN_CONF(1), 0x006 | (2 << 9), 8);
    wr(TN_CMP(1), 10, 8);
    wr(CONF, 3, 4);
    clock_step(1000);
    g_assert_cmpint(line_level[8], ==, 1);                      /* legacy: IRQ 8 */
    qdev_reset(dev);
    g_assert_cmpint(line_level[8], ==, 0);
    g_assert_cmphex(rd(CONF, 8), ==, 0);
    g_assert_cmphex(rd(ISR, 8), ==, 0);
    g_assert_cmphex(rd(COUNTER, 8), ==, 0);
    g_assert_cmphex(rd(TN_CONF(1), 8), ==, 0x0000000400000030ull);
    g_assert_cmphex(rd(TN_CMP(1), 8), ==, UINT64_MAX);
    g_assert_cmpint(qemu_clock_virtual_deadline(), ==, -1);
    qdev_free(dev);
}

/* The legacy-mode output (an in-kernel PIT listens to it) follows
 * LEG_RT_CNF, enabled counter or not, and drops at reset. */
static int legacy_mode = -1;

static void legacy_mode_handler(void *opaque, int n, int level)
{
    legacy_mode = level;
}

static void test_legacy_mode_line(void)
{
    DeviceState *dev = hpet_new();
    qemu_irq legacy = qemu_allocate_irq(legacy_mode_handler, NULL, 0);

    qdev_connect_gpio_out_named(dev, HPET_LEGACY_MODE_OUT, 0, legacy);
    wr(CONF, 2, 4);                     /* LEG_RT, counter halted */
    g_assert_cmpint(legacy_mode, ==, 1);
    wr(CONF, 3, 4);
    g_assert_cmpint(legacy_mode, ==, 1);
    wr(CONF, 1, 4);
    g_assert_cmpint(legacy_mode, ==, 0);
    wr(CONF, 2, 4);
    g_assert_cmpint(legacy_mode, ==, 1);
    qdev_reset(dev);
    g_assert_cmpint(legacy_mode, ==, 0);
    qdev_free(dev);
    qemu_free_irq(legacy);
}

/* 32-bit halves of 64-bit registers, and misaligned accesses. */
static void test_access(void)
{
    DeviceState *dev = hpet_new();

    wr(TN_CMP(0), 0x1122334455667788ull, 8);
    g_assert_cmphex(rd(TN_CMP(0), 4), ==, 0x55667788);
    g_assert_cmphex(rd(TN_CMP(0) + 4, 4), ==, 0x11223344);
    wr(TN_CMP(0) + 4, 0xaabbccdd, 4);
    g_assert_cmphex(rd(TN_CMP(0), 8), ==, 0xaabbccdd55667788ull);
    /* misaligned writes change nothing */
    wr(TN_CMP(0) + 2, 0, 4);
    wr(TN_CMP(0) + 4, 0, 8);
    g_assert_cmphex(rd(TN_CMP(0), 8), ==, 0xaabbccdd55667788ull);
    /* past the timers: reads 0 */
    g_assert_cmphex(rd(0x3f8, 8), ==, 0);
    qdev_free(dev);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    isa_test_init(isa_irq_ignore);
    g_test_add_func("/hpet/vmstate", test_vmstate);
    g_test_add_func("/hpet/reset", test_reset);
    g_test_add_func("/hpet/access", test_access);
    g_test_add_func("/hpet/legacy-mode-line", test_legacy_mode_line);
    return g_test_run();
}

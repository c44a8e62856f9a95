/*
 * Small PC devices: port92 (fast reset, A20), ioport80 (POST codes),
 * isa-debug-exit (exit status), pc-testdev (kvm-unit-tests' test device).
 */
#include <string.h>
#include <glib.h>

#include "hw/qdev.h"
#include "hw/isa/isa.h"
#include "hw/isa/port92.h"
#include "hw/memory.h"
#include "system/main-loop.h"
#include "system/runstate.h"
#include "isa-test-util.h"

static int resets;

static void on_reset(bool guest, ShutdownCause cause)
{
    g_assert_cmpint(cause, ==, SHUTDOWN_CAUSE_GUEST_RESET);
    resets++;
}

static const RunstateNotifiers notifiers = { .on_reset = on_reset };

static uint64_t in(uint16_t port, unsigned size)
{
    uint64_t v;

    address_space_ld(&address_space_io, port, &v, size);
    return v;
}

static void out(uint16_t port, uint64_t val, unsigned size)
{
    address_space_st(&address_space_io, port, val, size);
}

static DeviceState *dev_new(const char *type, const char *prop, const char *val)
{
    Error *err = NULL;
    DeviceState *dev = qdev_new(type, &err);

    g_assert_no_error(err);
    if (prop) {
        g_assert_true(qdev_prop_parse(dev, prop, val, &err));
    }
    g_assert_true(qdev_realize(dev, isa_bus_get()->bus, &err));
    g_assert_no_error(err);
    return dev;
}

static bool handle_requests(int *status)
{
    return runstate_handle_requests(status);
}

static void test_port92(void)
{
    DeviceState *dev = dev_new("port92", NULL, NULL);
    int status;

    resets = 0;
    g_assert_cmphex(in(0x92, 1), ==, 0x00);
    out(0x92, 0x02, 1);
    g_assert_cmphex(in(0x92, 1), ==, 0x02);
    g_assert_true(port92_a20_enabled(dev));
    g_assert_false(handle_requests(&status));
    g_assert_cmpint(resets, ==, 0);
    out(0x92, 0x03, 1);                         /* fast reset */
    g_assert_false(handle_requests(&status));
    g_assert_cmpint(resets, ==, 1);
    g_assert_cmphex(in(0x92, 1), ==, 0x02);     /* bit 0 cleared by the reset, A20 kept */
    out(0x92, 0x00, 1);
    g_assert_false(port92_a20_enabled(dev));
    qdev_free(dev);
}

static void test_ioport80(void)
{
    DeviceState *dev = dev_new("ioport80", NULL, NULL);

    out(0x80, 0x42, 1);
    g_assert_cmphex(in(0x80, 1), ==, 0xff);
    qdev_free(dev);
}

static void test_debug_exit(void)
{
    DeviceState *dev = dev_new("isa-debug-exit", NULL, NULL);
    DeviceState *dev2 = dev_new("isa-debug-exit", "iobase", "0xf4");
    int status = -1;

    g_assert_false(handle_requests(&status));
    g_assert_cmphex(in(0x501, 1), ==, 0);
    g_assert_cmphex(in(0x502, 1), ==, 0);
    out(0x501, 0x10, 1);
    g_assert_true(handle_requests(&status));
    g_assert_cmpint(status, ==, 0x21);
    out(0xf4, 0, 4);
    g_assert_true(handle_requests(&status));
    g_assert_cmpint(status, ==, 1);
    qdev_free(dev);
    qdev_free(dev2);

    {
        Error *err = NULL;
        DeviceState *bad = qdev_new("isa-debug-exit", &err);

        g_assert_true(qdev_prop_parse(bad, "iobase", "0xffff", &err));
        g_assert_true(qdev_prop_parse(bad, "iosize", "4", &err));
        g_assert_false(qdev_realize(bad, isa_bus_get()->bus, &err));
        g_assert_nonnull(err);
        g_clear_error(&err);
        qdev_free(bad);
    }
}

static void test_pc_testdev(void)
{
    MemoryRegion ram;
    DeviceState *dev;
    uint64_t v;
    uint32_t word = 0x12345678;

    g_assert_true(memory_region_init_ram(&ram, "ram", 0x10000, NULL));
    memory_region_add_subregion(get_system_memory(), 0, &ram);
    address_space_write(&address_space_memory, 0x1000, &word, 4);
    dev = dev_new("pc-testdev", NULL, NULL);

    /* Scratch register at 0xe0 (any width) and 0xe8 (byte-wise). */
    out(0xe0, 0xdeadbeef, 4);
    g_assert_cmphex(in(0xe0, 4), ==, 0xdeadbeef);
    g_assert_cmphex(in(0xe1, 1), ==, 0xbe);
    g_assert_cmphex(in(0xe2, 2), ==, 0xdead);
    out(0xe3, 0x11, 1);
    g_assert_cmphex(in(0xe8, 4), ==, 0x11adbeef);
    out(0xe8, 0xcafe, 2);
    g_assert_cmphex(in(0xe0, 4), ==, 0x11adcafe);

    /* IRQ lines. */
    out(0x2000 + 10, 1, 1);
    g_assert_cmpint(irq_level[10], ==, 1);
    out(0x2000 + 10, 0, 1);
    g_assert_cmpint(irq_level[10], ==, 0);
    out(0x2000 + 20, 1, 1);                     /* a GSI without a machine: ignored */

    /* Flush page keeps the contents. */
    out(0xe4, 0x1234, 4);
    address_space_read(&address_space_memory, 0x1000, &word, 4);
    g_assert_cmphex(word, ==, 0x12345678);
    out(0xe4, 0xfff00000, 4);                   /* not RAM: ignored */

    /* 64 KiB of MMIO scratch. */
    address_space_st(&address_space_memory, 0xff000010, 0x0102030405060708ULL, 8);
    address_space_ld(&address_space_memory, 0xff000012, &v, 2);
    g_assert_cmphex(v, ==, 0x0506);
    address_space_st(&address_space_memory, 0xff00ffff, 0xaa, 1);
    address_space_ld(&address_space_memory, 0xff00ffff, &v, 1);
    g_assert_cmphex(v, ==, 0xaa);

    qdev_free(dev);
    address_space_ld(&address_space_memory, 0xff000010, &v, 1);
    g_assert_cmphex(v, ==, 0xff);               /* unmapped again */
    memory_region_del_subregion(get_system_memory(), &ram);
    memory_region_destroy(&ram);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    isa_test_init(NULL);
    runstate_add_notifiers(&notifiers);

    g_test_add_func("/pc-misc/port92", test_port92);
    g_test_add_func("/pc-misc/ioport80", test_ioport80);
    g_test_add_func("/pc-misc/debug-exit", test_debug_exit);
    g_test_add_func("/pc-misc/pc-testdev", test_pc_testdev);
    return g_test_run();
}

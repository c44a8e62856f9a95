/*
 * The 8237 DMA pair and the floppy controller without a machine: vmstate
 * round trips (registers, the FDC's phase and what SPECIFY/SEEK left) and
 * random port writes that must not crash (docs/floppy.md).  The data path
 * with disks is in tests/qtest/fdc-test.c.
 */
#include <string.h>
#include <glib.h>

#include "hw/qdev.h"
#include "hw/isa/isa.h"
#include "hw/memory.h"
#include "hw/vmstate.h"
#include "hw/dma/i8257.h"
#include "hw/block/fdc.h"
#include "system/main-loop.h"
#include "isa-test-util.h"
#include "pio-test-util.h"


static DeviceState *dev_new(const char *type, const char *props)
{
    Error *err = NULL;
    DeviceState *dev = qdev_new(type, &err);

    g_assert_no_error(err);
    if (props) {
        g_auto(GStrv) kv = g_strsplit(props, ",", -1);
        for (int i = 0; kv[i]; i++) {
            g_auto(GStrv) p = g_strsplit(kv[i], "=", 2);
            g_assert_true(qdev_prop_parse(dev, p[0], p[1], &err));
        }
    }
    g_assert_true(qdev_realize(dev, isa_bus_get()->bus, &err));
    g_assert_no_error(err);
    return dev;
}

static void roundtrip(DeviceState *dev)
{
    g_autoptr(GByteArray) buf = g_byte_array_new();
    Error *err = NULL;
    size_t pos = 0;

    g_assert_true(vmstate_save(dev->klass->vmsd, dev, buf, &err));
    qdev_reset(dev);
    g_assert_true(vmstate_load(dev->klass->vmsd, dev, buf->data, buf->len, &pos, &err));
    g_assert_no_error(err);
}

static void fd_byte(uint8_t v)
{
    g_assert_cmphex(inb(0x3f4) & 0xc0, ==, 0x80);
    outb(0x3f5, v);
}

static uint8_t fd_result(void)
{
    g_assert_cmphex(inb(0x3f4) & 0xc0, ==, 0xc0);
    return inb(0x3f5);
}

static void test_all(void)
{
    DeviceState *dma0, *dma1, *fdc;
    GRand *rand;

    isa_test_init(NULL);
    dma0 = dev_new(I8257_TYPE, NULL);
    dma1 = dev_new(I8257_TYPE, "base=0xc0,page-base=0x88,dshift=1");
    fdc = dev_new(FDC_TYPE, NULL);
    g_assert_cmpint(fdc_cmos_drive_type(fdc, 0), ==, FDC_CMOS_NONE);

    /* DMA channel 2 and channel 6 programmed, then saved and restored */
    outb(0x0c, 0);
    outb(0x04, 0x11);
    outb(0x04, 0x22);
    outb(0x81, 0x33);
    outb(0x0b, 0x56);
    outb(0xd8, 0);
    outb(0xc8, 0x44);
    outb(0xc8, 0x55);
    outb(0x89, 0x66);
    roundtrip(dma0);
    roundtrip(dma1);
    outb(0x0c, 0);
    g_assert_cmphex(inb(0x04), ==, 0x11);
    g_assert_cmphex(inb(0x04), ==, 0x22);
    g_assert_cmphex(inb(0x81), ==, 0x33);
    outb(0xd8, 0);
    g_assert_cmphex(inb(0xc8), ==, 0x44);
    g_assert_cmphex(inb(0xc8), ==, 0x55);
    g_assert_cmphex(inb(0x89), ==, 0x66);
    /* cascade channel 4 is not for devices */
    g_assert_false(i8257_dma_register_channel(4, NULL, NULL));

    /* FDC: SPECIFY, SEEK to 9, restored in the middle of the result */
    fd_byte(0x03);
    fd_byte(0xdf);
    fd_byte(0x02);
    fd_byte(0x0f);
    fd_byte(0x00);
    fd_byte(9);
    g_assert_cmpint(irq_level[6], ==, 1);
    fd_byte(0x08);
    g_assert_cmphex(fd_result(), ==, 0x20);
    roundtrip(fdc);
    g_assert_cmphex(fd_result(), ==, 9);        /* the PCN byte still waits */
    fd_byte(0x0e);
    g_assert_cmphex(fd_result(), ==, 9);        /* DUMPREG: PCN drive 0 */
    for (int i = 1; i < 4; i++) {
        fd_result();
    }
    g_assert_cmphex(fd_result(), ==, 0xdf);
    g_assert_cmphex(fd_result(), ==, 0x02);
    for (int i = 6; i < 10; i++) {
        fd_result();
    }
    g_assert_cmphex(inb(0x3f4) & 0xd0, ==, 0x80);

    /* random writes anywhere in both devices */
    rand = g_rand_new_with_seed(12);
    for (int i = 0; i < 50000; i++) {
        static const uint16_t ports[] = { 0x3f0, 0x3f1, 0x3f2, 0x3f3, 0x3f4, 0x3f5, 0x3f5,
                                          0x3f5, 0x3f7, 0x00, 0x04, 0x05, 0x08, 0x09, 0x0a,
                                          0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x81, 0x87, 0xc8,
                                          0xd4, 0xd6 };
        uint16_t p = ports[g_rand_int_range(rand, 0, G_N_ELEMENTS(ports))];

        if (g_rand_boolean(rand)) {
            outb(p, g_rand_int_range(rand, 0, 256));
        } else {
            inb(p);
        }
        if (!(i % 64)) {
            main_loop_drain();
        }
    }
    g_rand_free(rand);
    roundtrip(fdc);
    qdev_free(fdc);
    qdev_free(dma1);
    qdev_free(dma0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    g_test_add_func("/fdc/vmstate-and-fuzz", test_all);
    return g_test_run();
}

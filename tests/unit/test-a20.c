/*
 * The A20 line as the pc machine wires it: port 0x92 bit 1 drives
 * x86_a20_input(0), the i8042 output port bit 1 drives x86_a20_input(1)
 * (GPIO output "a20" of each device), and A20 is enabled while either
 * input is high.  After reset A20 is enabled (the i8042 output port
 * comes up with A20 set), on every change the line follows the bits, and
 * a loaded state drives the line again.
 */
#include <glib.h>

#include "hw/qdev.h"
#include "hw/isa/isa.h"
#include "hw/isa/port92.h"
#include "hw/input/i8042.h"
#include "hw/i386/x86-irq.h"
#include "hw/vmstate.h"
#include "isa-test-util.h"
#include "pio-test-util.h"

static DeviceState *port92, *kbc;

static void isa_irq_handler(void *opaque, int n, int level)
{
}

static void kbc_write_outport(uint8_t val)
{
    outb(0x64, 0xd1);
    outb(0x60, val);
}

static void test_reset_enables_a20(void)
{
    outb(0x92, 0x00);
    outb(0x64, 0xdd);                   /* i8042: disable A20 */
    g_assert_false(x86_a20_enabled());
    qdev_reset_all();
    g_assert_true(x86_a20_enabled());
    g_assert_true(i8042_a20_enabled(kbc));
    g_assert_false(port92_a20_enabled(port92));
}

static void test_each_source(void)
{
    qdev_reset_all();
    outb(0x64, 0xdd);
    g_assert_false(x86_a20_enabled());
    outb(0x92, 0x02);                   /* port 0x92 alone enables it */
    g_assert_true(x86_a20_enabled());
    g_assert_cmphex(inb(0x92), ==, 0x02);
    outb(0x92, 0x00);
    g_assert_false(x86_a20_enabled());
    outb(0x64, 0xdf);                   /* i8042: enable A20 */
    g_assert_true(x86_a20_enabled());
    kbc_write_outport(0x01);            /* output port with A20 clear */
    g_assert_false(x86_a20_enabled());
    kbc_write_outport(0x03);
    g_assert_true(x86_a20_enabled());
    /* port 0x92's A20 bit survives a reset (as QEMU) */
    outb(0x92, 0x02);
    outb(0x64, 0xdd);
    qdev_reset_all();
    g_assert_true(port92_a20_enabled(port92));
    outb(0x64, 0xdd);
    g_assert_true(x86_a20_enabled());
    outb(0x92, 0x00);
    g_assert_false(x86_a20_enabled());
}

static void test_loadvm_drives_line(void)
{
    g_autoptr(GByteArray) buf = g_byte_array_new();
    g_autoptr(GError) err = NULL;
    size_t pos = 0;

    qdev_reset_all();
    outb(0x64, 0xdd);
    g_assert_true(vmstate_save(kbc->klass->vmsd, kbc, buf, &err));
    outb(0x64, 0xdf);
    g_assert_true(x86_a20_enabled());
    g_assert_true(vmstate_load(kbc->klass->vmsd, kbc, buf->data, buf->len, &pos, &err));
    g_assert_no_error(err);
    g_assert_false(x86_a20_enabled());
}

int main(int argc, char **argv)
{
    ISABus *bus;
    Error *err = NULL;

    g_test_init(&argc, &argv, NULL);
    bus = isa_test_init(isa_irq_handler);
    port92 = qdev_new("port92", &err);
    g_assert_true(qdev_realize(port92, bus->bus, &err));
    kbc = qdev_new("i8042", &err);
    g_assert_true(qdev_realize(kbc, bus->bus, &err));
    g_assert_no_error(err);
    qdev_connect_gpio_out_named(port92, PORT92_A20_LINE, 0, x86_a20_input(0));
    qdev_connect_gpio_out_named(kbc, I8042_A20_LINE, 0, x86_a20_input(1));

    g_test_add_func("/a20/reset-enables-a20", test_reset_enables_a20);
    g_test_add_func("/a20/each-source", test_each_source);
    g_test_add_func("/a20/loadvm-drives-line", test_loadvm_drives_line);
    return g_test_run();
}

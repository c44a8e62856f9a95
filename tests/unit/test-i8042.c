/*
 * i8042 keyboard controller ("i8042"): the sequences firmware and Linux's
 * i8042/atkbd/psmouse probes use, output buffer and IRQs 1/12, the output
 * port (reset line, A20), scancode injection, vmstate.
 */
#include <string.h>
#include <glib.h>

#include "hw/qdev.h"
#include "hw/isa/isa.h"
#include "hw/memory.h"
#include "hw/vmstate.h"
#include "hw/input/i8042.h"
#include "system/main-loop.h"
#include "system/runstate.h"
#include "isa-test-util.h"
#include "pio-test-util.h"

#define DATA    0x60
#define CMD     0x64

static int resets;

static void on_reset(bool guest, ShutdownCause cause)
{
    g_assert_cmpint(cause, ==, SHUTDOWN_CAUSE_GUEST_RESET);
    resets++;
}

static const RunstateNotifiers notifiers = { .on_reset = on_reset };

static void handle_requests(void)
{
    int status;

    runstate_handle_requests(&status);
}

static DeviceState *kbd_new(void)
{
    Error *err = NULL;
    DeviceState *dev = qdev_new("i8042", &err);

    g_assert_no_error(err);
    g_assert_true(qdev_realize(dev, isa_bus_get()->bus, &err));
    g_assert_no_error(err);
    return dev;
}

/* Read one byte the guest expects, checking OBF and the AUX flag. */
static uint8_t read_ob(bool aux)
{
    uint8_t st = inb(CMD);

    g_assert_cmphex(st & 0x01, ==, 0x01);
    g_assert_cmphex(st & 0x20, ==, aux ? 0x20 : 0x00);
    return inb(DATA);
}

static void assert_empty(void)
{
    g_assert_cmphex(inb(CMD) & 0x01, ==, 0);
}

static void test_controller(void)
{
    DeviceState *dev = kbd_new();

    g_assert_cmphex(inb(CMD), ==, 0x18);        /* CMD | UNLOCKED */
    outb(CMD, 0xaa);
    g_assert_cmphex(read_ob(false), ==, 0x55);
    g_assert_cmphex(inb(CMD) & 0x04, ==, 0x04); /* system flag */
    outb(CMD, 0x20);
    g_assert_cmphex(read_ob(false), ==, 0x03);  /* KBD_INT | AUX_INT */
    outb(CMD, 0x60);
    outb(DATA, 0x47);                           /* XLATE | SYS | both ints */
    outb(CMD, 0x20);
    g_assert_cmphex(read_ob(false), ==, 0x47);
    outb(CMD, 0xab);
    g_assert_cmphex(read_ob(false), ==, 0x00);
    outb(CMD, 0xa9);
    g_assert_cmphex(read_ob(false), ==, 0x00);
    /* AUX disable/enable show in the command byte (Linux checks this). */
    outb(CMD, 0xa7);
    outb(CMD, 0x20);
    g_assert_cmphex(read_ob(false) & 0x20, ==, 0x20);
    outb(CMD, 0xa8);
    outb(CMD, 0x20);
    g_assert_cmphex(read_ob(false) & 0x20, ==, 0x00);
    outb(CMD, 0xad);
    outb(CMD, 0x20);
    g_assert_cmphex(read_ob(false) & 0x10, ==, 0x10);
    outb(CMD, 0xae);
    /* Writing the output buffers: D2 as keyboard data, D3 as mouse data. */
    outb(CMD, 0xd2);
    outb(DATA, 0x12);
    g_assert_cmpint(irq_level[1], ==, 1);
    g_assert_cmphex(read_ob(false), ==, 0x12);
    g_assert_cmpint(irq_level[1], ==, 0);
    outb(CMD, 0xd3);
    outb(DATA, 0x5a);
    g_assert_cmpint(irq_level[12], ==, 1);
    g_assert_cmpint(irq_level[1], ==, 0);
    g_assert_cmphex(read_ob(true), ==, 0x5a);
    g_assert_cmpint(irq_level[12], ==, 0);
    assert_empty();
    /* Reading an empty buffer gives the last byte again. */
    g_assert_cmphex(inb(DATA), ==, 0x5a);
    /* No interrupts when the command byte disables them. */
    outb(CMD, 0x60);
    outb(DATA, 0x44);
    outb(CMD, 0xd2);
    outb(DATA, 0x34);
    g_assert_cmpint(irq_level[1], ==, 0);
    g_assert_cmphex(read_ob(false), ==, 0x34);
    /* Unknown commands are ignored. */
    outb(CMD, 0xc8);
    assert_empty();
    qdev_free(dev);
}

static void test_output_port(void)
{
    DeviceState *dev = kbd_new();

    resets = 0;
    g_assert_true(i8042_a20_enabled(dev));
    outb(CMD, 0xd0);
    g_assert_cmphex(read_ob(false), ==, 0xcf);
    outb(CMD, 0xd1);
    outb(DATA, 0xcd);                           /* A20 off, reset line high */
    g_assert_false(i8042_a20_enabled(dev));
    handle_requests();
    g_assert_cmpint(resets, ==, 0);
    outb(CMD, 0xdf);
    g_assert_true(i8042_a20_enabled(dev));
    outb(CMD, 0xdd);
    g_assert_false(i8042_a20_enabled(dev));
    outb(CMD, 0xd1);
    outb(DATA, 0xce);                           /* reset line low */
    handle_requests();
    g_assert_cmpint(resets, ==, 1);
    g_assert_true(i8042_a20_enabled(dev));      /* device reset by the system reset */
    outb(CMD, 0xff);                            /* pulse nothing */
    handle_requests();
    g_assert_cmpint(resets, ==, 1);
    outb(CMD, 0xfe);                            /* pulse the reset line */
    handle_requests();
    g_assert_cmpint(resets, ==, 2);
    qdev_free(dev);
}

static void test_keyboard(void)
{
    DeviceState *dev = kbd_new();
    /* The keyboard sends set 2; the controller translates (XLATE is on). */
    static const uint8_t press_a[] = { 0x1c };
    static const uint8_t release_a[] = { 0xf0, 0x1c };
    int raises;

    outb(DATA, 0xff);                           /* reset */
    g_assert_cmphex(read_ob(false), ==, 0xfa);
    g_assert_cmphex(read_ob(false), ==, 0xaa);
    assert_empty();
    outb(DATA, 0xf2);                           /* identify, no translation */
    g_assert_cmphex(read_ob(false), ==, 0xfa);
    g_assert_cmphex(read_ob(false), ==, 0xab);
    g_assert_cmphex(read_ob(false), ==, 0x83);
    outb(CMD, 0x60);
    outb(DATA, 0x45);                           /* translated */
    outb(DATA, 0xf2);
    g_assert_cmphex(read_ob(false), ==, 0xfa);
    g_assert_cmphex(read_ob(false), ==, 0xab);
    g_assert_cmphex(read_ob(false), ==, 0x41);
    outb(DATA, 0xf0);                           /* get scancode set */
    g_assert_cmphex(read_ob(false), ==, 0xfa);
    outb(DATA, 0x00);
    g_assert_cmphex(read_ob(false), ==, 0xfa);
    g_assert_cmphex(read_ob(false), ==, 0x41);  /* set 2, translated */
    outb(DATA, 0xed);                           /* LEDs */
    g_assert_cmphex(read_ob(false), ==, 0xfa);
    outb(DATA, 0x07);
    g_assert_cmphex(read_ob(false), ==, 0xfa);
    outb(DATA, 0xee);
    g_assert_cmphex(read_ob(false), ==, 0xee);
    outb(DATA, 0xf5);
    g_assert_cmphex(read_ob(false), ==, 0xfa);
    i8042_kbd_put_scancode(dev, press_a, 1);    /* scanning disabled: dropped */
    assert_empty();
    outb(DATA, 0xf4);
    g_assert_cmphex(read_ob(false), ==, 0xfa);
    outb(DATA, 0x77);                           /* unknown: ACK */
    g_assert_cmphex(read_ob(false), ==, 0xfa);
    g_assert_true(i8042_kbd_translating(dev));
    g_assert_cmpint(i8042_kbd_scancode_set(dev), ==, 2);
    i8042_kbd_put_scancode(dev, press_a, 1);
    i8042_kbd_put_scancode(dev, release_a, 2);
    g_assert_cmpint(irq_level[1], ==, 1);
    /* Every byte is a new rising edge on IRQ 1 (the ISA PIC input is edge
     * triggered), also one that was queued before the guest read the
     * previous one. */
    raises = irq_raises[1];
    g_assert_cmphex(read_ob(false), ==, 0x1e);
    g_assert_cmpint(irq_level[1], ==, 1);
    g_assert_cmpint(irq_raises[1], ==, raises + 1);
    g_assert_cmphex(read_ob(false), ==, 0x9e);
    g_assert_cmpint(irq_level[1], ==, 0);
    g_assert_cmpint(irq_raises[1], ==, raises + 1);
    /* 0xAD holds keyboard data back until 0xAE. */
    outb(CMD, 0xad);
    i8042_kbd_put_scancode(dev, press_a, 1);
    assert_empty();
    outb(CMD, 0xae);
    g_assert_cmphex(read_ob(false), ==, 0x1e);
    qdev_free(dev);
}

static void test_mouse(void)
{
    DeviceState *dev = kbd_new();

    outb(CMD, 0xd4);
    outb(DATA, 0xff);                           /* reset */
    g_assert_cmpint(irq_level[12], ==, 1);
    g_assert_cmphex(read_ob(true), ==, 0xfa);
    g_assert_cmphex(read_ob(true), ==, 0xaa);
    g_assert_cmphex(read_ob(true), ==, 0x00);
    assert_empty();
    g_assert_cmpint(irq_level[12], ==, 0);
    outb(CMD, 0xd4);
    outb(DATA, 0xf2);
    g_assert_cmphex(read_ob(true), ==, 0xfa);
    g_assert_cmphex(read_ob(true), ==, 0x00);
    outb(CMD, 0xd4);
    outb(DATA, 0xf3);
    g_assert_cmphex(read_ob(true), ==, 0xfa);
    outb(CMD, 0xd4);
    outb(DATA, 200);
    g_assert_cmphex(read_ob(true), ==, 0xfa);
    outb(CMD, 0xd4);
    outb(DATA, 0xe9);
    g_assert_cmphex(read_ob(true), ==, 0xfa);
    g_assert_cmphex(read_ob(true), ==, 0x00);
    g_assert_cmphex(read_ob(true), ==, 0x02);
    g_assert_cmphex(read_ob(true), ==, 200);
    i8042_mouse_put_event(dev, 5, -3, 1);       /* not enabled: dropped */
    assert_empty();
    outb(CMD, 0xd4);
    outb(DATA, 0xf4);
    g_assert_cmphex(read_ob(true), ==, 0xfa);
    i8042_mouse_put_event(dev, 5, -3, 1);
    g_assert_cmphex(read_ob(true), ==, 0x29);
    g_assert_cmphex(read_ob(true), ==, 0x05);
    g_assert_cmphex(read_ob(true), ==, 0xfd);
    qdev_free(dev);
}

static void test_vmstate_and_fuzz(void)
{
    DeviceState *dev = kbd_new();
    g_autoptr(GByteArray) buf = g_byte_array_new();
    Error *err = NULL;
    size_t pos = 0;
    GRand *rand = g_rand_new_with_seed(7);
    int i;

    outb(DATA, 0xf2);
    outb(CMD, 0x60);
    outb(DATA, 0x07);
    g_assert_true(vmstate_save(dev->klass->vmsd, dev, buf, &err));
    qdev_reset(dev);
    assert_empty();
    g_assert_true(vmstate_load(dev->klass->vmsd, dev, buf->data, buf->len, &pos, &err));
    g_assert_no_error(err);
    g_assert_cmpint(irq_level[1], ==, 1);
    g_assert_cmphex(read_ob(false), ==, 0xfa);
    g_assert_cmphex(read_ob(false), ==, 0xab);
    g_assert_cmphex(read_ob(false), ==, 0x83);

    for (i = 0; i < 20000; i++) {
        uint8_t v = g_rand_int_range(rand, 0, 256);

        if (v >= 0xf0 && !(v & 1)) {
            v |= 1;             /* keep the pulse-reset commands out of the way */
        }
        outb(g_rand_boolean(rand) ? CMD : DATA, v);
        inb(g_rand_boolean(rand) ? CMD : DATA);
    }
    g_rand_free(rand);
    handle_requests();
    qdev_free(dev);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    isa_test_init(NULL);
    runstate_add_notifiers(&notifiers);

    g_test_add_func("/i8042/controller", test_controller);
    g_test_add_func("/i8042/output-port", test_output_port);
    g_test_add_func("/i8042/keyboard", test_keyboard);
    g_test_add_func("/i8042/mouse", test_mouse);
    g_test_add_func("/i8042/vmstate-and-fuzz", test_vmstate_and_fuzz);
    return g_test_run();
}

/*
 * 16550A UART ("isa-serial") through qdev and the I/O address space:
 * reset values, THRE interrupt semantics, FIFOs and trigger levels, the
 * character timeout, overrun, loopback and modem status deltas, OUT2
 * gating, chardev input/output, COM index assignment and vmstate.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "hw/qdev.h"
#include "hw/isa/isa.h"
#include "hw/memory.h"
#include "hw/vmstate.h"
#include "chardev/char.h"
#include "system/main-loop.h"
#include "isa-test-util.h"
#include "pio-test-util.h"

#define COM1 0x3f8
#define COM2 0x2f8


static DeviceState *serial_new(const char *chardev, const char *index)
{
    Error *err = NULL;
    DeviceState *dev = qdev_new("isa-serial", &err);

    g_assert_no_error(err);
    if (chardev) {
        g_assert_true(qdev_prop_parse(dev, "chardev", chardev, &err));
    }
    if (index) {
        g_assert_true(qdev_prop_parse(dev, "index", index, &err));
    }
    g_assert_true(qdev_realize(dev, isa_bus_get()->bus, &err));
    g_assert_no_error(err);
    return dev;
}

static void test_reset_values(void)
{
    DeviceState *dev = serial_new(NULL, "0");

    g_assert_cmphex(inb(COM1 + 1), ==, 0x00);   /* IER */
    g_assert_cmphex(inb(COM1 + 2), ==, 0x01);   /* IIR: no interrupt */
    g_assert_cmphex(inb(COM1 + 3), ==, 0x00);   /* LCR */
    g_assert_cmphex(inb(COM1 + 4), ==, 0x08);   /* MCR: OUT2 */
    g_assert_cmphex(inb(COM1 + 5), ==, 0x60);   /* LSR: THRE | TEMT */
    g_assert_cmphex(inb(COM1 + 6), ==, 0xb0);   /* MSR: DCD | DSR | CTS */
    outb(COM1 + 7, 0x5a);
    g_assert_cmphex(inb(COM1 + 7), ==, 0x5a);   /* SCR */
    outb(COM1 + 3, 0x80);                       /* DLAB */
    g_assert_cmphex(inb(COM1 + 0), ==, 0x0c);
    g_assert_cmphex(inb(COM1 + 1), ==, 0x00);
    outb(COM1 + 0, 0x01);                       /* 115200 baud */
    g_assert_cmphex(inb(COM1 + 0), ==, 0x01);
    outb(COM1 + 3, 0x03);
    g_assert_cmphex(inb(COM1 + 3), ==, 0x03);
    g_assert_cmphex(inb(COM1 + 1), ==, 0x00);   /* IER again, not DLM */
    g_assert_cmpint(irq_level[4], ==, 0);
    /* No timer runs for an idle UART. */
    g_assert_cmpint(qemu_clock_virtual_deadline(), ==, -1);
    qdev_free(dev);
}

static void test_thre_interrupt(void)
{
    DeviceState *dev = serial_new(NULL, "0");

    outb(COM1 + 1, 0x02);                       /* IER: THRI */
    g_assert_cmphex(inb(COM1 + 2), ==, 0x02);   /* THRE is the source... */
    g_assert_cmpint(irq_level[4], ==, 0);       /* ...and reading IIR acked it */
    g_assert_cmphex(inb(COM1 + 2), ==, 0x01);
    outb(COM1 + 0, 'x');                        /* THR write: empty again at once */
    g_assert_cmpint(irq_level[4], ==, 1);
    g_assert_cmphex(inb(COM1 + 5), ==, 0x60);
    outb(COM1 + 1, 0x00);
    g_assert_cmpint(irq_level[4], ==, 0);
    outb(COM1 + 1, 0x02);                       /* re-enabling re-arms THRE */
    g_assert_cmpint(irq_level[4], ==, 1);
    outb(COM1 + 1, 0x00);
    qdev_free(dev);
}

static void test_out2_gates_irq(void)
{
    DeviceState *dev = serial_new(NULL, "0");

    outb(COM1 + 4, 0x00);                       /* OUT2 off */
    outb(COM1 + 1, 0x02);
    g_assert_cmpint(irq_level[4], ==, 0);
    outb(COM1 + 4, 0x08);
    g_assert_cmpint(irq_level[4], ==, 1);
    g_assert_cmphex(inb(COM1 + 2), ==, 0x02);
    g_assert_cmpint(irq_level[4], ==, 0);
    qdev_free(dev);
}

static void test_loopback_nonfifo_overrun(void)
{
    DeviceState *dev = serial_new(NULL, "0");

    outb(COM1 + 4, 0x18);                       /* LOOP | OUT2 */
    outb(COM1 + 1, 0x05);                       /* RDI | RLSI */
    outb(COM1 + 0, 'a');
    g_assert_cmphex(inb(COM1 + 5) & 0x01, ==, 0x01);
    g_assert_cmphex(inb(COM1 + 2), ==, 0x04);   /* received data available */
    g_assert_cmpint(irq_level[4], ==, 1);
    outb(COM1 + 0, 'b');                        /* overruns 'a' */
    g_assert_cmphex(inb(COM1 + 2), ==, 0x06);   /* line status outranks data */
    g_assert_cmphex(inb(COM1 + 5), ==, 0x63);   /* OE | DR | THRE | TEMT */
    g_assert_cmphex(inb(COM1 + 5), ==, 0x61);   /* OE cleared by the read */
    g_assert_cmphex(inb(COM1 + 2), ==, 0x04);
    g_assert_cmphex(inb(COM1 + 0), ==, 'b');
    g_assert_cmphex(inb(COM1 + 5), ==, 0x60);
    g_assert_cmphex(inb(COM1 + 2), ==, 0x01);
    g_assert_cmpint(irq_level[4], ==, 0);
    qdev_free(dev);
}

static void test_fifo_trigger_and_timeout(void)
{
    DeviceState *dev = serial_new(NULL, "0");
    int i;

    outb(COM1 + 3, 0x03);                       /* 8N1 */
    outb(COM1 + 4, 0x18);                       /* loopback */
    outb(COM1 + 2, 0xc7);                       /* FIFO on, reset both, trigger 14 */
    g_assert_cmphex(inb(COM1 + 2), ==, 0xc1);
    outb(COM1 + 1, 0x01);                       /* RDI */
    for (i = 0; i < 3; i++) {
        outb(COM1 + 0, '0' + i);
    }
    g_assert_cmphex(inb(COM1 + 5) & 0x01, ==, 0x01);
    g_assert_cmphex(inb(COM1 + 2), ==, 0xc1);   /* below trigger: nothing yet */
    g_assert_cmpint(irq_level[4], ==, 0);
    /* 9600 8N1: about 1.04 ms a character; timeout after 4 of them. */
    g_assert_cmpint(qemu_clock_virtual_deadline(), >, 0);
    clock_step(3 * 1000 * 1000);
    g_assert_cmphex(inb(COM1 + 2), ==, 0xc1);
    clock_step(2 * 1000 * 1000);
    g_assert_cmphex(inb(COM1 + 2), ==, 0xcc);   /* character timeout */
    g_assert_cmpint(irq_level[4], ==, 1);
    g_assert_cmphex(inb(COM1 + 0), ==, '0');    /* reading clears the timeout */
    g_assert_cmphex(inb(COM1 + 2), ==, 0xc1);
    g_assert_cmphex(inb(COM1 + 0), ==, '1');
    g_assert_cmphex(inb(COM1 + 0), ==, '2');
    g_assert_cmphex(inb(COM1 + 5) & 0x01, ==, 0x00);
    g_assert_cmpint(qemu_clock_virtual_deadline(), ==, -1);

    for (i = 0; i < 14; i++) {
        outb(COM1 + 0, 'A' + i);
    }
    g_assert_cmphex(inb(COM1 + 2), ==, 0xc4);   /* trigger level reached */
    g_assert_cmpint(irq_level[4], ==, 1);
    for (i = 0; i < 3; i++) {
        outb(COM1 + 0, 'x');                    /* 17 bytes: one overrun */
    }
    g_assert_cmphex(inb(COM1 + 5) & 0x02, ==, 0x02);
    for (i = 0; i < 16; i++) {
        g_assert_cmphex(inb(COM1 + 0), ==, i < 14 ? 'A' + i : 'x');
    }
    g_assert_cmphex(inb(COM1 + 5), ==, 0x60);
    g_assert_cmpint(irq_level[4], ==, 0);

    /* RCVR FIFO reset drops what was received. */
    outb(COM1 + 0, 'z');
    outb(COM1 + 2, 0xc3);
    g_assert_cmphex(inb(COM1 + 5) & 0x01, ==, 0x00);
    /* Disabling the FIFOs clears the IIR FIFO bits. */
    outb(COM1 + 2, 0x00);
    g_assert_cmphex(inb(COM1 + 2), ==, 0x01);
    qdev_free(dev);
}

static void test_loopback_modem_status(void)
{
    DeviceState *dev = serial_new(NULL, "0");

    outb(COM1 + 1, 0x08);                       /* MSI */
    outb(COM1 + 4, 0x13);                       /* LOOP | RTS | DTR, OUT2 off */
    g_assert_cmphex(inb(COM1 + 2), ==, 0x00);   /* modem status pending (masked) */
    g_assert_cmpint(irq_level[4], ==, 0);
    g_assert_cmphex(inb(COM1 + 6), ==, 0x38);   /* CTS | DSR, DCD dropped */
    g_assert_cmphex(inb(COM1 + 6), ==, 0x30);
    g_assert_cmphex(inb(COM1 + 2), ==, 0x01);
    outb(COM1 + 4, 0x1f);                       /* + OUT1 (RI) + OUT2 (DCD) */
    g_assert_cmphex(inb(COM1 + 6), ==, 0xf8);
    outb(COM1 + 4, 0x1b);                       /* RI falls: trailing edge */
    g_assert_cmpint(irq_level[4], ==, 1);
    g_assert_cmphex(inb(COM1 + 6), ==, 0xb4);
    g_assert_cmpint(irq_level[4], ==, 0);
    outb(COM1 + 4, 0x0b);                       /* leave loopback: lines as before */
    g_assert_cmphex(inb(COM1 + 6), ==, 0xb0);
    qdev_free(dev);
}

static void test_chardev_io(void)
{
    Error *err = NULL;
    g_autofree char *dir = g_dir_make_tmp("test-serial-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "out", NULL);
    g_autofree char *opts = g_strdup_printf("file,id=serout,path=%s", path);
    Chardev *out = qemu_chr_new_from_opts(opts, &err);
    Chardev *in = qemu_chr_new_from_opts("null,id=serin", &err);
    DeviceState *d1, *d2;
    g_autofree char *text = NULL;
    gsize len;

    g_assert_no_error(err);
    g_assert_nonnull(out);
    g_assert_nonnull(in);
    d1 = serial_new("serout", "0");
    d2 = serial_new("serin", "1");
    outb(COM1, 'h');
    outb(COM1, 'i');
    outb(COM1 + 4, 0x18);                       /* loopback: not sent out */
    outb(COM1, '!');
    g_assert_true(g_file_get_contents(path, &text, &len, NULL));
    g_assert_cmpstr(text, ==, "hi");

    /* Input: one byte at a time without FIFO, then flow control. */
    g_assert_cmpint(qemu_chr_be_can_write(in), ==, 1);
    qemu_chr_be_write(in, (const uint8_t *)"k", 1);
    g_assert_cmpint(qemu_chr_be_can_write(in), ==, 0);
    outb(COM2 + 1, 0x01);
    g_assert_cmpint(irq_level[3], ==, 1);
    g_assert_cmphex(inb(COM2), ==, 'k');
    g_assert_cmpint(irq_level[3], ==, 0);
    g_assert_cmpint(qemu_chr_be_can_write(in), ==, 1);
    /* With the FIFO (trigger 8) it advertises up to the trigger level. */
    outb(COM2 + 2, 0x81);
    g_assert_cmpint(qemu_chr_be_can_write(in), ==, 8);
    qemu_chr_be_write(in, (const uint8_t *)"01234567", 8);
    g_assert_cmpint(irq_level[3], ==, 1);
    g_assert_cmpint(qemu_chr_be_can_write(in), ==, 1);
    qemu_chr_be_event(in, CHR_EVENT_BREAK);
    outb(COM2 + 1, 0x04);                       /* RLSI only */
    g_assert_cmphex(inb(COM2 + 2), ==, 0xc6);
    g_assert_cmphex(inb(COM2 + 5) & 0x91, ==, 0x91);  /* FIFO error | BI | DR */

    qdev_free(d1);
    qdev_free(d2);
    qemu_chr_delete(out);
    qemu_chr_delete(in);
    g_unlink(path);
    g_rmdir(dir);
}

static void test_index_assignment(void)
{
    DeviceState *a = serial_new(NULL, NULL);
    DeviceState *b = serial_new(NULL, NULL);
    Error *err = NULL;
    DeviceState *c;

    outb(COM1 + 7, 0x11);
    outb(COM2 + 7, 0x22);
    g_assert_cmphex(inb(COM1 + 7), ==, 0x11);
    g_assert_cmphex(inb(COM2 + 7), ==, 0x22);
    qdev_free(a);
    qdev_free(b);

    c = qdev_new("isa-serial", &err);
    g_assert_true(qdev_prop_parse(c, "index", "4", &err));
    g_assert_false(qdev_realize(c, isa_bus_get()->bus, &err));
    g_assert_nonnull(err);
    g_clear_error(&err);
    qdev_free(c);
}

static void test_vmstate(void)
{
    DeviceState *dev = serial_new(NULL, "0");
    g_autoptr(GByteArray) buf = g_byte_array_new();
    Error *err = NULL;
    size_t pos = 0;

    outb(COM1 + 4, 0x18);
    outb(COM1 + 2, 0x41);                       /* FIFO, trigger 4 */
    outb(COM1 + 0, 'q');
    outb(COM1 + 0, 'r');
    outb(COM1 + 7, 0x77);
    outb(COM1 + 3, 0x83);
    outb(COM1 + 0, 0x30);
    outb(COM1 + 3, 0x03);
    g_assert_true(vmstate_save(dev->klass->vmsd, dev, buf, &err));
    qdev_reset(dev);
    g_assert_cmphex(inb(COM1 + 7), ==, 0x00);
    g_assert_true(vmstate_load(dev->klass->vmsd, dev, buf->data, buf->len, &pos, &err));
    g_assert_no_error(err);
    g_assert_cmphex(inb(COM1 + 7), ==, 0x77);
    g_assert_cmphex(inb(COM1 + 3), ==, 0x03);
    g_assert_cmphex(inb(COM1 + 2), ==, 0xc1);
    g_assert_cmphex(inb(COM1 + 0), ==, 'q');
    g_assert_cmphex(inb(COM1 + 0), ==, 'r');
    outb(COM1 + 3, 0x80);
    g_assert_cmphex(inb(COM1 + 0), ==, 0x30);
    qdev_free(dev);
}

static void test_bad_guest_input(void)
{
    DeviceState *dev = serial_new(NULL, "0");
    int i, j;

    /* Divisor 0, every LCR, garbage everywhere: nothing may crash. */
    outb(COM1 + 3, 0x80);
    outb(COM1 + 0, 0);
    outb(COM1 + 1, 0);
    for (i = 0; i < 256; i++) {
        outb(COM1 + 3, i & 0x7f);
        outb(COM1 + 4, 0x18);
        outb(COM1 + 2, i);
        for (j = 0; j < 8; j++) {
            outb(COM1 + j, i * 7 + j);
            inb(COM1 + j);
        }
    }
    clock_step(NANOSECONDS_PER_SECOND);
    address_space_st(&address_space_io, COM1, 0x41424344, 4);
    qdev_free(dev);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    isa_test_init(NULL);

    g_test_add_func("/serial/reset-values", test_reset_values);
    g_test_add_func("/serial/thre-interrupt", test_thre_interrupt);
    g_test_add_func("/serial/out2-gates-irq", test_out2_gates_irq);
    g_test_add_func("/serial/loopback-overrun", test_loopback_nonfifo_overrun);
    g_test_add_func("/serial/fifo-trigger-timeout", test_fifo_trigger_and_timeout);
    g_test_add_func("/serial/loopback-modem-status", test_loopback_modem_status);
    g_test_add_func("/serial/chardev-io", test_chardev_io);
    g_test_add_func("/serial/index-assignment", test_index_assignment);
    g_test_add_func("/serial/vmstate", test_vmstate);
    g_test_add_func("/serial/bad-guest-input", test_bad_guest_input);
    return g_test_run();
}

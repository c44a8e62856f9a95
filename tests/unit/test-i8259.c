/*
 * The 8259A pair ("isa-i8259" x 2, built by i8259_init) through its I/O
 * ports, its 16 inputs and the INTA cycle (pic_read_irq): the ICW
 * sequence (cascade, single, ICW4, auto-EOI), IRR/ISR/IMR reads, edge and
 * level triggering by ELCR and LTIM, priority resolution and nesting,
 * every OCW2 command (EOI, specific EOI, rotations, set priority), the
 * poll command, special mask mode, special fully nested mode, cascade and
 * spurious vectors, reset values, vmstate and random guest writes.
 */
#include <string.h>
#include <glib.h>

#include "hw/qdev.h"
#include "hw/isa/isa.h"
#include "hw/memory.h"
#include "hw/vmstate.h"
#include "hw/intc/i8259.h"
#include "hw/platform-desc.h"
#include "isa-test-util.h"
#include "pio-test-util.h"

static DeviceState *master;
static qemu_irq pic_in[I8259_NUM_IRQS];
static int int_level;           /* the master's INT output */
static int int_raises;

static void int_handler(void *opaque, int n, int level)
{
    if (level && !int_level) {
        int_raises++;
    }
    int_level = level;
}

static void isa_irq_handler(void *opaque, int n, int level)
{
}

static void irq(int n, int level)
{
    qemu_set_irq(pic_in[n], level);
}

static void pulse(int n)
{
    irq(n, 1);
    irq(n, 0);
}

static int inta(void)
{
    return pic_read_irq(master);
}

static uint8_t read_irr(uint16_t base)
{
    outb(base, 0x0a);                   /* OCW3: read IRR */
    return inb(base);
}

static uint8_t read_isr(uint16_t base)
{
    uint8_t v;

    outb(base, 0x0b);                   /* OCW3: read ISR */
    v = inb(base);
    outb(base, 0x0a);
    return v;
}

/* The PC BIOS's programming: vectors 0x08 and 0x70, cascade on IR2. */
static void init_pair(uint8_t icw4_master, uint8_t icw4_slave)
{
    outb(0x20, 0x11);
    outb(0x21, 0x08);
    outb(0x21, 0x04);
    outb(0x21, icw4_master);
    outb(0xa0, 0x11);
    outb(0xa1, 0x70);
    outb(0xa1, 0x02);
    outb(0xa1, icw4_slave);
}

static void setup(void)
{
    for (int i = 0; i < I8259_NUM_IRQS; i++) {
        if (i != 2) {
            irq(i, 0);
        }
    }
    qdev_reset_all();
    init_pair(0x01, 0x01);
    int_raises = 0;
}

static void test_reset_values(void)
{
    setup();
    qdev_reset_all();
    g_assert_cmphex(inb(0x21), ==, 0x00);
    g_assert_cmphex(inb(0xa1), ==, 0x00);
    g_assert_cmphex(inb(0x20), ==, 0x00);      /* IRR */
    g_assert_cmphex(read_isr(0x20), ==, 0x00);
    g_assert_cmphex(inb(0x4d0), ==, 0x00);
    g_assert_cmphex(inb(0x4d1), ==, 0x00);
    g_assert_cmpint(int_level, ==, 0);
    /* reset leaves vector base 0: an unprogrammed master gives 0..7 */
    pulse(5);
    g_assert_cmpint(int_level, ==, 1);
    g_assert_cmpint(inta(), ==, 5);
}

static void test_init_and_inta(void)
{
    setup();
    outb(0x21, 0x5a);                   /* OCW1 after init: IMR */
    g_assert_cmphex(inb(0x21), ==, 0x5a);
    outb(0x21, 0x00);
    g_assert_cmpint(int_level, ==, 0);
    irq(1, 1);
    g_assert_cmpint(int_level, ==, 1);
    g_assert_cmphex(read_irr(0x20), ==, 0x02);
    g_assert_cmphex(inta(), ==, 0x09);
    g_assert_cmpint(int_level, ==, 0);
    g_assert_cmphex(read_irr(0x20), ==, 0x00);
    g_assert_cmphex(read_isr(0x20), ==, 0x02);
    outb(0x20, 0x20);                   /* non-specific EOI */
    g_assert_cmphex(read_isr(0x20), ==, 0x00);
    /* the line is still high: no new edge, no new request */
    g_assert_cmpint(int_level, ==, 0);
    irq(1, 0);
}

static void test_priority_and_nesting(void)
{
    setup();
    pulse(3);
    pulse(5);
    g_assert_cmphex(read_irr(0x20), ==, 0x28);
    g_assert_cmphex(inta(), ==, 0x0b);  /* 3 beats 5 */
    /* 5 is lower than the in-service 3: no INT until the EOI */
    g_assert_cmpint(int_level, ==, 0);
    pulse(1);                           /* 1 is higher: nests */
    g_assert_cmpint(int_level, ==, 1);
    g_assert_cmphex(inta(), ==, 0x09);
    g_assert_cmphex(read_isr(0x20), ==, 0x0a);
    outb(0x20, 0x20);                   /* clears the highest: 1 */
    g_assert_cmphex(read_isr(0x20), ==, 0x08);
    g_assert_cmpint(int_level, ==, 0);
    outb(0x20, 0x20);
    g_assert_cmpint(int_level, ==, 1);
    g_assert_cmphex(inta(), ==, 0x0d);
    outb(0x20, 0x20);
    g_assert_cmphex(read_isr(0x20), ==, 0);
    /* EOI with nothing in service changes nothing */
    outb(0x20, 0x20);
    g_assert_cmphex(read_isr(0x20), ==, 0);
}

static void test_mask(void)
{
    setup();
    outb(0x21, 0x10);
    pulse(4);
    g_assert_cmpint(int_level, ==, 0);
    g_assert_cmphex(read_irr(0x20), ==, 0x10);  /* latched though masked */
    outb(0x21, 0x00);
    g_assert_cmpint(int_level, ==, 1);
    g_assert_cmphex(inta(), ==, 0x0c);
    outb(0x20, 0x20);
}

static void test_edge_latch(void)
{
    setup();
    irq(6, 1);
    irq(6, 0);                          /* gone before INTA: still latched */
    g_assert_cmpint(int_level, ==, 1);
    g_assert_cmphex(inta(), ==, 0x0e);
    outb(0x20, 0x20);
    /* staying high is one edge only */
    irq(6, 1);
    g_assert_cmphex(inta(), ==, 0x0e);
    outb(0x20, 0x20);
    irq(6, 1);
    g_assert_cmpint(int_level, ==, 0);
    g_assert_cmphex(read_irr(0x20), ==, 0x00);
    irq(6, 0);
}

static void test_elcr_level(void)
{
    setup();
    outb(0x4d0, 0xff);
    outb(0x4d1, 0xff);
    g_assert_cmphex(inb(0x4d0), ==, 0xf8);     /* IRQ 0-2 are always edge */
    g_assert_cmphex(inb(0x4d1), ==, 0xde);     /* IRQ 8 and 13 too */
    outb(0x4d0, 0x00);
    outb(0x4d1, 0x04);                  /* IRQ 10 level */
    irq(10, 1);
    g_assert_cmphex(read_irr(0xa0), ==, 0x04);
    g_assert_cmpint(int_level, ==, 1);
    g_assert_cmphex(inta(), ==, 0x72);
    /* INTA leaves a level request in IRR */
    g_assert_cmphex(read_irr(0xa0), ==, 0x04);
    g_assert_cmphex(read_isr(0xa0), ==, 0x04);
    g_assert_cmphex(read_isr(0x20), ==, 0x04);
    outb(0xa0, 0x20);
    outb(0x20, 0x20);
    /* still asserted after the EOIs: interrupts again */
    g_assert_cmpint(int_level, ==, 1);
    irq(10, 0);
    g_assert_cmphex(read_irr(0xa0), ==, 0x00); /* IRR follows the line */
    /* the master latched the slave's INT edge (IR2 is edge triggered):
     * the INTA finds the slave's request gone and gets IRQ 15's vector */
    g_assert_cmpint(int_level, ==, 1);
    g_assert_cmphex(inta(), ==, 0x77);
    outb(0x20, 0x20);
    g_assert_cmpint(int_level, ==, 0);
    /* an edge IRQ on the same chip still latches */
    pulse(11);
    g_assert_cmphex(read_irr(0xa0), ==, 0x08);
    g_assert_cmphex(inta(), ==, 0x73);
    outb(0xa0, 0x20);
    outb(0x20, 0x20);
    /* ICW1 keeps level requests and the ELCR, forgets edge requests */
    irq(10, 1);
    pulse(12);
    outb(0xa0, 0x11);
    outb(0xa1, 0x70);
    outb(0xa1, 0x02);
    outb(0xa1, 0x01);
    g_assert_cmphex(read_irr(0xa0), ==, 0x04);
    g_assert_cmphex(inb(0x4d1), ==, 0x04);
    irq(10, 0);
    /* device reset clears the ELCR */
    qdev_reset_all();
    g_assert_cmphex(inb(0x4d1), ==, 0x00);
}

static void test_ltim(void)
{
    setup();
    outb(0x20, 0x19);                   /* ICW1 with LTIM */
    outb(0x21, 0x08);
    outb(0x21, 0x04);
    outb(0x21, 0x01);
    irq(3, 1);
    g_assert_cmphex(inta(), ==, 0x0b);
    g_assert_cmphex(read_irr(0x20), ==, 0x08);
    irq(3, 0);
    g_assert_cmphex(read_irr(0x20), ==, 0x00);
    outb(0x20, 0x20);
    g_assert_cmpint(int_level, ==, 0);
}

static void test_cascade(void)
{
    setup();
    pulse(12);
    g_assert_cmpint(int_level, ==, 1);
    g_assert_cmphex(read_irr(0x20), ==, 0x04);
    g_assert_cmphex(inta(), ==, 0x74);
    g_assert_cmphex(read_isr(0xa0), ==, 0x10);
    g_assert_cmphex(read_isr(0x20), ==, 0x04);
    g_assert_cmpint(int_level, ==, 0);
    /* a master IRQ of higher priority than IR2 nests; a lower one waits */
    pulse(4);
    g_assert_cmpint(int_level, ==, 0);
    pulse(1);
    g_assert_cmphex(inta(), ==, 0x09);
    outb(0x20, 0x20);
    outb(0xa0, 0x20);
    outb(0x20, 0x20);
    g_assert_cmphex(inta(), ==, 0x0c);
    outb(0x20, 0x20);
    g_assert_cmphex(read_isr(0x20), ==, 0);
    g_assert_cmphex(read_isr(0xa0), ==, 0);
}

static void test_spurious(void)
{
    setup();
    /* nothing pending: IRQ 7's vector, nothing in service */
    g_assert_cmphex(inta(), ==, 0x0f);
    g_assert_cmphex(read_isr(0x20), ==, 0x00);
    /* the slave's request vanishes after the master latched IR2 */
    irq(9, 1);
    g_assert_cmphex(read_irr(0x20), ==, 0x04);
    outb(0xa1, 0x02);                   /* mask IRQ 9 on the slave */
    g_assert_cmphex(read_irr(0x20), ==, 0x04);
    g_assert_cmphex(inta(), ==, 0x77);  /* spurious IRQ 15 */
    g_assert_cmphex(read_isr(0xa0), ==, 0x00);
    g_assert_cmphex(read_isr(0x20), ==, 0x04);
    outb(0x20, 0x20);
    irq(9, 0);
    outb(0xa1, 0x00);
}

static void test_auto_eoi(void)
{
    setup();
    init_pair(0x03, 0x03);              /* 8086 mode, AEOI */
    pulse(4);
    pulse(12);
    g_assert_cmphex(inta(), ==, 0x74);  /* IR2 (the slave) ranks above IR4 */
    g_assert_cmphex(read_isr(0x20), ==, 0x00);
    g_assert_cmphex(read_isr(0xa0), ==, 0x00);
    g_assert_cmpint(int_level, ==, 1);  /* no EOI needed for the next */
    g_assert_cmphex(inta(), ==, 0x0c);
    g_assert_cmphex(read_isr(0x20), ==, 0x00);
}

static void test_rotate_auto_eoi(void)
{
    setup();
    init_pair(0x03, 0x01);
    outb(0x20, 0x80);                   /* OCW2: rotate in AEOI mode, set */
    pulse(1);
    g_assert_cmphex(inta(), ==, 0x09);  /* 1 becomes the lowest priority */
    pulse(0);
    pulse(3);
    g_assert_cmphex(inta(), ==, 0x0b);  /* 3 ranks above 0 now */
    g_assert_cmphex(inta(), ==, 0x08);
    outb(0x20, 0x00);                   /* rotate in AEOI mode, clear */
    pulse(5);
    pulse(7);
    g_assert_cmphex(inta(), ==, 0x0d);  /* priority stays as last rotated (0 lowest) */
    g_assert_cmphex(inta(), ==, 0x0f);
    pulse(0);
    pulse(6);
    g_assert_cmphex(inta(), ==, 0x0e);  /* no rotation since: 0 still lowest */
    g_assert_cmphex(inta(), ==, 0x08);
}

static void test_rotate_eoi(void)
{
    setup();
    pulse(1);
    g_assert_cmphex(inta(), ==, 0x09);
    outb(0x20, 0xa0);                   /* rotate on non-specific EOI */
    g_assert_cmphex(read_isr(0x20), ==, 0x00);
    pulse(0);
    pulse(3);
    g_assert_cmphex(inta(), ==, 0x0b);  /* 2..7 rank above 0 and 1 */
    outb(0x20, 0x20);
    g_assert_cmphex(inta(), ==, 0x08);
    outb(0x20, 0x20);
}

static void test_specific_eoi_and_set_priority(void)
{
    setup();
    pulse(3);
    g_assert_cmphex(inta(), ==, 0x0b);
    pulse(1);
    g_assert_cmphex(inta(), ==, 0x09);
    g_assert_cmphex(read_isr(0x20), ==, 0x0a);
    outb(0x20, 0x63);                   /* specific EOI for 3 (not the highest) */
    g_assert_cmphex(read_isr(0x20), ==, 0x02);
    outb(0x20, 0x61);
    g_assert_cmphex(read_isr(0x20), ==, 0x00);
    outb(0x20, 0xc4);                   /* set priority: 4 lowest, 5 highest */
    pulse(3);
    pulse(6);
    g_assert_cmphex(inta(), ==, 0x0e);
    outb(0x20, 0xe6);                   /* rotate on specific EOI 6: 7 highest */
    g_assert_cmphex(read_isr(0x20), ==, 0x00);
    pulse(7);
    g_assert_cmphex(inta(), ==, 0x0f);  /* 7 before the waiting 3 */
    outb(0x20, 0x67);
    g_assert_cmphex(inta(), ==, 0x0b);
    outb(0x20, 0x63);
    outb(0x20, 0x40);                   /* OCW2 no-op */
    g_assert_cmphex(read_isr(0x20), ==, 0x00);
}

static void test_poll(void)
{
    setup();
    outb(0x20, 0x0c);                   /* OCW3: poll */
    g_assert_cmphex(inb(0x20), ==, 0x00);      /* nothing pending */
    outb(0x21, 0xff);                   /* the poll honours IMR */
    pulse(5);
    outb(0x20, 0x0c);
    g_assert_cmphex(inb(0x21), ==, 0x00);
    outb(0x21, 0x00);
    g_assert_cmpint(int_level, ==, 1);
    outb(0x20, 0x0c);
    g_assert_cmphex(inb(0x21), ==, 0x85);      /* poll word, read at A0=1 too */
    g_assert_cmpint(int_level, ==, 0);
    g_assert_cmphex(read_isr(0x20), ==, 0x20); /* the poll acknowledged it */
    g_assert_cmphex(inb(0x21), ==, 0x00);      /* one read only: IMR again */
    outb(0x20, 0x20);
    /* polling the slave, then the master's cascade input */
    pulse(13);
    outb(0xa0, 0x0c);
    g_assert_cmphex(inb(0xa0), ==, 0x85);
    outb(0x20, 0x0c);
    g_assert_cmphex(inb(0x20), ==, 0x82);
    outb(0xa0, 0x20);
    outb(0x20, 0x20);
}

static void test_special_mask(void)
{
    setup();
    pulse(3);
    g_assert_cmphex(inta(), ==, 0x0b);
    pulse(5);
    g_assert_cmpint(int_level, ==, 0);  /* blocked by 3 in service */
    outb(0x21, 0x08);                   /* mask the in-service level */
    g_assert_cmpint(int_level, ==, 0);
    outb(0x20, 0x68);                   /* OCW3: set special mask mode */
    g_assert_cmpint(int_level, ==, 1);
    g_assert_cmphex(inta(), ==, 0x0d);
    g_assert_cmphex(read_isr(0x20), ==, 0x28);
    outb(0x20, 0x65);
    outb(0x20, 0x48);                   /* reset special mask mode */
    pulse(6);
    g_assert_cmpint(int_level, ==, 0);  /* 3 blocks again */
    outb(0x20, 0x63);
    outb(0x21, 0x00);
    g_assert_cmphex(inta(), ==, 0x0e);
    outb(0x20, 0x20);
    /* ESMM clear: SMM bit ignored */
    outb(0x20, 0x28);
    pulse(3);
    g_assert_cmphex(inta(), ==, 0x0b);
    outb(0x21, 0x08);
    pulse(5);
    g_assert_cmpint(int_level, ==, 0);
    outb(0x20, 0x20);
    outb(0x21, 0x00);
    g_assert_cmphex(inta(), ==, 0x0d);
    outb(0x20, 0x20);
}

static void test_special_fully_nested(void)
{
    setup();
    pulse(9);
    g_assert_cmphex(inta(), ==, 0x71);  /* master IR2 and slave IR1 in service */
    pulse(8);                           /* higher on the slave */
    g_assert_cmpint(int_level, ==, 0);  /* fully nested: IR2 blocks itself */
    outb(0xa0, 0x20);
    outb(0x20, 0x20);
    g_assert_cmphex(inta(), ==, 0x70);
    outb(0xa0, 0x20);
    outb(0x20, 0x20);

    init_pair(0x11, 0x01);              /* SFNM on the master */
    pulse(9);
    g_assert_cmphex(inta(), ==, 0x71);
    pulse(8);
    g_assert_cmpint(int_level, ==, 1);
    g_assert_cmphex(inta(), ==, 0x70);
    g_assert_cmphex(read_isr(0xa0), ==, 0x03);
    g_assert_cmphex(read_isr(0x20), ==, 0x04);
    pulse(11);                          /* lower than 9 on the slave: waits */
    g_assert_cmpint(int_level, ==, 0);
    outb(0xa0, 0x20);
    outb(0xa0, 0x20);
    outb(0x20, 0x20);
    g_assert_cmphex(inta(), ==, 0x73);
    outb(0xa0, 0x20);
    outb(0x20, 0x20);
}

static void test_single_mode(void)
{
    setup();
    outb(0x20, 0x13);                   /* SNGL + IC4: no ICW3 */
    outb(0x21, 0x20);
    outb(0x21, 0x01);                   /* this is ICW4 */
    outb(0x21, 0x0f);                   /* and this OCW1 */
    g_assert_cmphex(inb(0x21), ==, 0x0f);
    pulse(5);
    g_assert_cmphex(inta(), ==, 0x25);
    outb(0x20, 0x20);
    /* without IC4 the sequence ends after ICW3 */
    outb(0x20, 0x10);
    outb(0x21, 0x40);
    outb(0x21, 0x04);
    outb(0x21, 0x33);
    g_assert_cmphex(inb(0x21), ==, 0x33);
    outb(0x21, 0x00);
    pulse(6);
    g_assert_cmphex(inta(), ==, 0x46);
    outb(0x20, 0x20);
}

static void test_vmstate(void)
{
    DeviceState *slave = qdev_find_by_path("/machine/i8259-slave");
    g_autoptr(GByteArray) m = g_byte_array_new();
    g_autoptr(GByteArray) sl = g_byte_array_new();
    g_autoptr(GError) err = NULL;
    size_t pos = 0;

    g_assert_nonnull(slave);
    setup();
    outb(0x4d1, 0x04);
    irq(10, 1);
    g_assert_cmphex(inta(), ==, 0x72);
    outb(0x21, 0x40);
    g_assert_true(vmstate_save(master->klass->vmsd, master, m, &err));
    g_assert_true(vmstate_save(slave->klass->vmsd, slave, sl, &err));
    irq(10, 0);
    qdev_reset_all();
    g_assert_cmphex(inb(0x4d1), ==, 0x00);
    g_assert_true(vmstate_load(master->klass->vmsd, master, m->data, m->len, &pos, &err));
    pos = 0;
    g_assert_true(vmstate_load(slave->klass->vmsd, slave, sl->data, sl->len, &pos, &err));
    g_assert_no_error(err);
    g_assert_cmphex(inb(0x4d1), ==, 0x04);
    g_assert_cmphex(inb(0x21), ==, 0x40);
    g_assert_cmphex(read_isr(0xa0), ==, 0x04);
    g_assert_cmphex(read_isr(0x20), ==, 0x04);
    g_assert_cmphex(read_irr(0xa0), ==, 0x04);
    outb(0xa0, 0x20);
    outb(0x20, 0x20);
    g_assert_cmpint(int_level, ==, 1);  /* the level request survived */
    g_assert_cmphex(inta(), ==, 0x72);
    irq(10, 0);
    outb(0xa0, 0x20);
    outb(0x20, 0x20);
}

static void test_info(void)
{
    g_autoptr(GString) buf = g_string_new(NULL);

    setup();
    outb(0x21, 0xfb);
    pic_print_info(master, buf);
    g_assert_nonnull(strstr(buf->str, "pic0: irr=00 imr=fb isr=00 hprio=0 irq_base=08"));
    g_assert_nonnull(strstr(buf->str, "pic1: irr=00 imr=00 isr=00 hprio=0 irq_base=70"));
}

/* PCAT_COMPAT for the MADT; the ports each chip claims. */
static void test_describe(void)
{
    DeviceState *slave = qdev_find_by_path("/machine/i8259-slave");
    static const struct { DeviceState **dev; uint64_t port, size; } claims[] = {
        { &master, 0x20, 2 }, { &master, 0x4d0, 1 }, { NULL, 0xa0, 2 }, { NULL, 0x4d1, 1 },
    };
    PlatformDesc pd;

    platform_desc_init(&pd);
    platform_desc_collect(&pd);
    g_assert_true(pd.pcat_compat);
    platform_desc_free(&pd);
    for (size_t c = 0; c < G_N_ELEMENTS(claims); c++) {
        DeviceState *dev = claims[c].dev ? *claims[c].dev : slave;
        bool found = false;
        for (guint i = 0; i < qdev_resource_count(dev); i++) {
            const DeviceResource *r = qdev_resource(dev, i);
            found |= r->kind == DEV_RES_IO && r->base == claims[c].port &&
                     r->size == claims[c].size;
        }
        g_assert_true(found);
    }
}

static void test_fuzz(void)
{
    static const uint16_t ports[] = { 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1 };
    GRand *rand = g_rand_new_with_seed(8259);

    setup();
    for (int i = 0; i < 100000; i++) {
        int r = g_rand_int_range(rand, 0, 8);

        if (r < 3) {
            outb(ports[g_rand_int_range(rand, 0, G_N_ELEMENTS(ports))],
                 g_rand_int_range(rand, 0, 256));
        } else if (r < 5) {
            inb(ports[g_rand_int_range(rand, 0, G_N_ELEMENTS(ports))]);
        } else if (r < 7) {
            int n = g_rand_int_range(rand, 0, 16);
            if (n != 2) {
                irq(n, g_rand_boolean(rand));
            }
        } else {
            int v = inta();
            g_assert_cmpint(v, >=, 0);
            g_assert_cmpint(v, <=, 0xff);
        }
    }
    g_rand_free(rand);
    /* still a working pair after a normal initialisation */
    setup();
    pulse(14);
    g_assert_cmphex(inta(), ==, 0x76);
}

int main(int argc, char **argv)
{
    ISABus *bus;
    Error *err = NULL;

    g_test_init(&argc, &argv, NULL);
    bus = isa_test_init(isa_irq_handler);
    master = i8259_init(bus, qemu_allocate_irq(int_handler, NULL, 0), "i8259", pic_in, &err);
    g_assert_no_error(err);
    g_assert_nonnull(master);

    g_test_add_func("/i8259/reset-values", test_reset_values);
    g_test_add_func("/i8259/init-and-inta", test_init_and_inta);
    g_test_add_func("/i8259/priority-and-nesting", test_priority_and_nesting);
    g_test_add_func("/i8259/mask", test_mask);
    g_test_add_func("/i8259/edge-latch", test_edge_latch);
    g_test_add_func("/i8259/elcr-level", test_elcr_level);
    g_test_add_func("/i8259/ltim", test_ltim);
    g_test_add_func("/i8259/cascade", test_cascade);
    g_test_add_func("/i8259/spurious", test_spurious);
    g_test_add_func("/i8259/auto-eoi", test_auto_eoi);
    g_test_add_func("/i8259/rotate-auto-eoi", test_rotate_auto_eoi);
    g_test_add_func("/i8259/rotate-eoi", test_rotate_eoi);
    g_test_add_func("/i8259/specific-eoi-and-set-priority", test_specific_eoi_and_set_priority);
    g_test_add_func("/i8259/poll", test_poll);
    g_test_add_func("/i8259/special-mask", test_special_mask);
    g_test_add_func("/i8259/special-fully-nested", test_special_fully_nested);
    g_test_add_func("/i8259/single-mode", test_single_mode);
    g_test_add_func("/i8259/vmstate", test_vmstate);
    g_test_add_func("/i8259/info", test_info);
    g_test_add_func("/i8259/describe", test_describe);
    g_test_add_func("/i8259/fuzz", test_fuzz);
    return g_test_run();
}

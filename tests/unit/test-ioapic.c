/*
 * The 82093AA IOAPIC ("ioapic") through its MMIO window and its 24 inputs,
 * with a recording APIC bus backend in place of the LAPICs: ID, version,
 * arbitration and redirection-entry registers (read-only bits, 32-bit
 * only IOWIN), the messages it sends (vector, destination, modes,
 * trigger), edge and level delivery, masking, remote IRR with the EOI
 * broadcast and the EOI register, re-delivery of a still-asserted line,
 * the ISA IRQ 0 -> pin 2 route, ExtINT through the PIC's INTA, the
 * interrupt-storm delay, vmstate and random guest writes.
 */
#include <string.h>
#include <glib.h>

#include "hw/qdev.h"
#include "hw/memory.h"
#include "hw/vmstate.h"
#include "hw/i386/x86-irq.h"
#include "hw/intc/ioapic.h"
#include "hw/platform-desc.h"
#include "system/main-loop.h"

#define BASE            IOAPIC_DEFAULT_ADDRESS
#define MAX_MSGS        64

static DeviceState *ioapic;
static APICMessage msgs[MAX_MSGS];
static int nmsgs;               /* messages since the last clear */
static unsigned long total_msgs;

static void record_deliver(const APICMessage *msg)
{
    if (nmsgs < MAX_MSGS) {
        msgs[nmsgs] = *msg;
    }
    nmsgs++;
    total_msgs++;
}

static const APICBusBackend recorder = {
    .deliver = record_deliver,
};

static uint32_t mmio_read(uint64_t off, unsigned size)
{
    uint64_t v;

    address_space_ld(&address_space_memory, BASE + off, &v, size);
    return v;
}

static void mmio_write(uint64_t off, uint32_t val, unsigned size)
{
    address_space_st(&address_space_memory, BASE + off, val, size);
}

static uint32_t reg_read(uint8_t reg)
{
    mmio_write(IOAPIC_IOREGSEL, reg, 4);
    return mmio_read(IOAPIC_IOWIN, 4);
}

static void reg_write(uint8_t reg, uint32_t val)
{
    mmio_write(IOAPIC_IOREGSEL, reg, 4);
    mmio_write(IOAPIC_IOWIN, val, 4);
}

static uint64_t rte_read(int pin)
{
    return reg_read(0x10 + 2 * pin) | (uint64_t)reg_read(0x11 + 2 * pin) << 32;
}

/* Writes the high half first, as Linux does, so the entry is complete
 * when the low half (with the mask bit) lands. */
static void rte_write(int pin, uint64_t entry)
{
    reg_write(0x11 + 2 * pin, entry >> 32);
    reg_write(0x10 + 2 * pin, (uint32_t)entry);
}

static void input(int n, int level)
{
    qemu_set_irq(qdev_get_gpio_in(ioapic, n), level);
}

#define RTE(vec, dest)  ((uint64_t)(vec) | (uint64_t)(dest) << 56)
#define LEVEL           IOAPIC_RTE_TRIGGER
#define MASKED          IOAPIC_RTE_MASKED
#define DM(m)           ((uint64_t)(m) << 8)

static void setup(void)
{
    for (int i = 0; i < IOAPIC_NUM_PINS; i++) {
        input(i, 0);
    }
    qdev_reset_all();
    nmsgs = 0;
}

static void expect_msg(int i, uint8_t vector, uint32_t dest, bool logical, int mode, bool level)
{
    g_assert_cmpint(i, <, nmsgs);
    g_assert_cmphex(msgs[i].vector, ==, vector);
    g_assert_cmphex(msgs[i].dest, ==, dest);
    g_assert_cmpint(msgs[i].dest_logical, ==, logical);
    g_assert_cmpint(msgs[i].delivery_mode, ==, mode);
    g_assert_cmpint(msgs[i].level, ==, level);
    g_assert_true(msgs[i].assert_);
}

static void test_registers(void)
{
    setup();
    g_assert_cmphex(reg_read(0x01), ==, 0x00170020);   /* 24 entries, version 0x20 */
    g_assert_cmphex(reg_read(0x00), ==, 0);
    reg_write(0x00, 0xffffffff);
    g_assert_cmphex(reg_read(0x00), ==, 0x0f000000);   /* 4-bit ID in 27:24 */
    g_assert_cmphex(reg_read(0x02), ==, 0x0f000000);   /* arbitration reads the ID */
    reg_write(0x01, 0);
    reg_write(0x02, 0);
    g_assert_cmphex(reg_read(0x01), ==, 0x00170020);   /* read only */
    g_assert_cmphex(reg_read(0x02), ==, 0x0f000000);
    /* IOREGSEL reads back; unknown registers read 0 and ignore writes */
    mmio_write(IOAPIC_IOREGSEL, 0x42, 4);
    g_assert_cmphex(mmio_read(IOAPIC_IOREGSEL, 4), ==, 0x42);
    g_assert_cmphex(mmio_read(IOAPIC_IOWIN, 4), ==, 0);
    reg_write(0x05, 0x1234);
    g_assert_cmphex(reg_read(0x05), ==, 0);
    reg_write(0x40, 0x1234);                            /* beyond entry 23 */
    g_assert_cmphex(reg_read(0x40), ==, 0);
    /* every entry comes out of reset masked */
    for (int i = 0; i < IOAPIC_NUM_PINS; i++) {
        g_assert_cmphex(rte_read(i), ==, 0x10000);
    }
    /* entries hold what is written, except the read-only bits 12 and 14 */
    rte_write(5, 0xff000000ffffffffull);
    g_assert_cmphex(rte_read(5), ==, 0xff000000ffffafffull);
    rte_write(5, 0x12fe0000000109a5ull);
    g_assert_cmphex(rte_read(5), ==, 0x12fe0000000109a5ull);
    g_assert_cmphex(reg_read(0x1a), ==, 0x000109a5);
    g_assert_cmphex(reg_read(0x1b), ==, 0x12fe0000);
    /* IOWIN takes 32-bit accesses only */
    mmio_write(IOAPIC_IOREGSEL, 0x1a, 4);
    mmio_write(IOAPIC_IOWIN, 0xee, 1);
    g_assert_cmphex(mmio_read(IOAPIC_IOWIN, 1), ==, 0);
    g_assert_cmphex(reg_read(0x1a), ==, 0x000109a5);
    /* the window repeats every 256 bytes */
    g_assert_cmphex(mmio_read(0x110, 4), ==, 0x000109a5);
    /* reset */
    qdev_reset_all();
    g_assert_cmphex(rte_read(5), ==, 0x10000);
    g_assert_cmphex(reg_read(0x00), ==, 0);
    g_assert_cmpint(nmsgs, ==, 0);
}

static void test_edge(void)
{
    setup();
    rte_write(4, RTE(0x34, 3));
    g_assert_cmpint(nmsgs, ==, 0);
    input(4, 1);
    g_assert_cmpint(nmsgs, ==, 1);
    expect_msg(0, 0x34, 3, false, APIC_DM_FIXED, false);
    input(4, 0);
    g_assert_cmpint(nmsgs, ==, 1);
    /* each assert is an edge, even of a line already high (QEMU, KVM) */
    input(4, 1);
    input(4, 1);
    g_assert_cmpint(nmsgs, ==, 3);
    input(4, 0);
    /* no remote IRR on edge entries */
    g_assert_cmphex(rte_read(4) & IOAPIC_RTE_REMOTE_IRR, ==, 0);
    /* masked: the edge is lost, unmasking does not bring it back */
    rte_write(4, RTE(0x34, 3) | MASKED);
    input(4, 1);
    input(4, 0);
    rte_write(4, RTE(0x34, 3));
    g_assert_cmpint(nmsgs, ==, 3);
}

static void test_isa_irq0_and_high_gsis(void)
{
    setup();
    rte_write(2, RTE(0x30, 0));
    rte_write(0, RTE(0x50, 0));
    input(0, 1);                        /* ISA IRQ 0 arrives on pin 2 */
    g_assert_cmpint(nmsgs, ==, 1);
    expect_msg(0, 0x30, 0, false, APIC_DM_FIXED, false);
    input(0, 0);
    for (int gsi = 16; gsi < IOAPIC_NUM_PINS; gsi++) {
        rte_write(gsi, RTE(0x60 + gsi, 1));
        input(gsi, 1);
        input(gsi, 0);
        g_assert_cmpint(nmsgs, ==, gsi - 14);
        g_assert_cmphex(msgs[nmsgs - 1].vector, ==, 0x60 + gsi);
    }
}

static void test_level_and_eoi(void)
{
    setup();
    rte_write(10, RTE(0x41, 1) | LEVEL);
    input(10, 1);
    g_assert_cmpint(nmsgs, ==, 1);
    expect_msg(0, 0x41, 1, false, APIC_DM_FIXED, true);
    g_assert_cmphex(rte_read(10) & IOAPIC_RTE_REMOTE_IRR, !=, 0);
    /* remote IRR set: nothing more until the EOI */
    input(10, 1);
    input(10, 0);
    input(10, 1);
    g_assert_cmpint(nmsgs, ==, 1);
    /* an EOI for another vector changes nothing */
    apic_bus_eoi_broadcast(0x42);
    g_assert_cmphex(rte_read(10) & IOAPIC_RTE_REMOTE_IRR, !=, 0);
    g_assert_cmpint(nmsgs, ==, 1);
    /* the EOI with the line still asserted: delivered again */
    apic_bus_eoi_broadcast(0x41);
    g_assert_cmpint(nmsgs, ==, 2);
    g_assert_cmphex(rte_read(10) & IOAPIC_RTE_REMOTE_IRR, !=, 0);
    /* the line drops, then the EOI: remote IRR clears, nothing sent */
    input(10, 0);
    apic_bus_eoi_broadcast(0x41);
    g_assert_cmpint(nmsgs, ==, 2);
    g_assert_cmphex(rte_read(10) & IOAPIC_RTE_REMOTE_IRR, ==, 0);
    /* the EOI register does what the broadcast does */
    input(10, 1);
    g_assert_cmpint(nmsgs, ==, 3);
    mmio_write(IOAPIC_EOI, 0x41, 4);
    g_assert_cmpint(nmsgs, ==, 4);
    input(10, 0);
    mmio_write(IOAPIC_EOI, 0x41, 4);
    g_assert_cmphex(rte_read(10) & IOAPIC_RTE_REMOTE_IRR, ==, 0);
    g_assert_cmpint(nmsgs, ==, 4);
    /* an EOI never touches edge entries with the same vector */
    rte_write(11, RTE(0x41, 1));
    apic_bus_eoi_broadcast(0x41);
    g_assert_cmpint(nmsgs, ==, 4);
}

static void test_level_mask(void)
{
    setup();
    rte_write(9, RTE(0x51, 0) | LEVEL | MASKED);
    input(9, 1);
    g_assert_cmpint(nmsgs, ==, 0);
    /* unmasking an asserted level pin delivers */
    rte_write(9, RTE(0x51, 0) | LEVEL);
    g_assert_cmpint(nmsgs, ==, 1);
    /* masked while remote IRR is set: the EOI clears it, no delivery */
    rte_write(9, RTE(0x51, 0) | LEVEL | MASKED);
    g_assert_cmphex(rte_read(9) & IOAPIC_RTE_REMOTE_IRR, !=, 0);
    apic_bus_eoi_broadcast(0x51);
    g_assert_cmphex(rte_read(9) & IOAPIC_RTE_REMOTE_IRR, ==, 0);
    g_assert_cmpint(nmsgs, ==, 1);
    rte_write(9, RTE(0x51, 0) | LEVEL);
    g_assert_cmpint(nmsgs, ==, 2);
    input(9, 0);
    /* a line that went high while the entry was edge and masked counts
     * once the entry becomes level */
    apic_bus_eoi_broadcast(0x51);
    rte_write(8, RTE(0x52, 0) | MASKED);
    input(8, 1);
    rte_write(8, RTE(0x52, 0) | LEVEL);
    g_assert_cmpint(nmsgs, ==, 3);
    expect_msg(2, 0x52, 0, false, APIC_DM_FIXED, true);
    input(8, 0);
}

static void test_edge_clears_remote_irr(void)
{
    setup();
    rte_write(7, RTE(0x61, 0) | LEVEL);
    input(7, 1);
    g_assert_cmphex(rte_read(7) & IOAPIC_RTE_REMOTE_IRR, !=, 0);
    input(7, 0);
    /* Linux's EOI without an EOI register: masked edge, then level */
    rte_write(7, RTE(0x61, 0) | MASKED);
    g_assert_cmphex(rte_read(7) & IOAPIC_RTE_REMOTE_IRR, ==, 0);
    rte_write(7, RTE(0x61, 0) | LEVEL);
    g_assert_cmphex(rte_read(7) & IOAPIC_RTE_REMOTE_IRR, ==, 0);
    input(7, 1);
    g_assert_cmpint(nmsgs, ==, 2);
    input(7, 0);
}

static void test_destinations_and_modes(void)
{
    setup();
    rte_write(1, RTE(0x70, 0x0c) | IOAPIC_RTE_DESTMOD | DM(APIC_DM_LOWPRI));
    input(1, 1);
    expect_msg(0, 0x70, 0x0c, true, APIC_DM_LOWPRI, false);
    input(1, 0);
    rte_write(1, RTE(0x71, 0xff) | DM(APIC_DM_NMI));
    input(1, 1);
    expect_msg(1, 0x71, 0xff, false, APIC_DM_NMI, false);
    input(1, 0);
    rte_write(1, RTE(0x00, 0x02) | DM(APIC_DM_SMI));
    input(1, 1);
    expect_msg(2, 0x00, 0x02, false, APIC_DM_SMI, false);
    input(1, 0);
    rte_write(1, RTE(0x00, 0x03) | DM(APIC_DM_INIT));
    input(1, 1);
    expect_msg(3, 0x00, 0x03, false, APIC_DM_INIT, false);
    input(1, 0);
    /* extended destination ID in bits 55:49 (as QEMU's MSI translation) */
    rte_write(1, RTE(0x72, 0x34) | 0x5aull << 49);
    input(1, 1);
    expect_msg(4, 0x72, 0x5a34, false, APIC_DM_FIXED, false);
    input(1, 0);
    /* polarity is stored, not applied: inputs are active high (QEMU) */
    rte_write(1, RTE(0x73, 0) | IOAPIC_RTE_POLARITY);
    input(1, 1);
    expect_msg(5, 0x73, 0, false, APIC_DM_FIXED, false);
    input(1, 0);
    /* reserved delivery modes 3 and 6 send nothing */
    rte_write(1, RTE(0x74, 0) | DM(3));
    input(1, 1);
    input(1, 0);
    rte_write(1, RTE(0x74, 0) | DM(6));
    input(1, 1);
    input(1, 0);
    g_assert_cmpint(nmsgs, ==, 6);
}

static int fake_pic_vector = -1;
static int fake_pic_intas;

static int fake_pic_read_irq(void *pic)
{
    fake_pic_intas++;
    return fake_pic_vector;
}

static void test_extint(void)
{
    setup();
    rte_write(3, RTE(0x99, 0) | DM(APIC_DM_EXTINT));
    /* no PIC: nothing sent */
    input(3, 1);
    input(3, 0);
    g_assert_cmpint(nmsgs, ==, 0);
    x86_irq_set_pic(NULL, fake_pic_read_irq);
    fake_pic_vector = 0x23;
    input(3, 1);
    g_assert_cmpint(fake_pic_intas, ==, 1);
    g_assert_cmpint(nmsgs, ==, 1);
    /* the PIC's vector, delivered as a fixed interrupt (QEMU) */
    expect_msg(0, 0x23, 0, false, APIC_DM_FIXED, false);
    input(3, 0);
    x86_irq_set_pic(NULL, NULL);
}

static void test_storm(void)
{
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

    setup();
    rte_write(12, RTE(0x81, 0) | LEVEL);
    input(12, 1);
    g_assert_cmpint(nmsgs, ==, 1);
    /* a guest that EOIs without quieting the device */
    for (int i = 1; i < 10000; i++) {
        apic_bus_eoi_broadcast(0x81);
    }
    g_assert_cmpint(nmsgs, ==, 10000);
    apic_bus_eoi_broadcast(0x81);
    g_assert_cmpint(nmsgs, ==, 10000);           /* delayed now */
    g_assert_cmphex(rte_read(12) & IOAPIC_RTE_REMOTE_IRR, ==, 0);
    qemu_clock_virtual_advance(now + 9 * 1000 * 1000);
    g_assert_cmpint(nmsgs, ==, 10000);
    qemu_clock_virtual_advance(now + 10 * 1000 * 1000);
    g_assert_cmpint(nmsgs, ==, 10001);
    g_assert_cmphex(rte_read(12) & IOAPIC_RTE_REMOTE_IRR, !=, 0);
    /* and the count starts again */
    apic_bus_eoi_broadcast(0x81);
    g_assert_cmpint(nmsgs, ==, 10002);
    input(12, 0);
    apic_bus_eoi_broadcast(0x81);
}

static void test_version_11(void)
{
    g_autoptr(GError) err = NULL;
    DeviceState *bad = qdev_new(IOAPIC_TYPE, &err);

    g_assert_true(qdev_prop_set_uint(bad, "version", 0x17, &err));
    g_assert_false(qdev_realize(bad, NULL, &err));
    g_assert_nonnull(strstr(err->message, "version"));
    qdev_free(bad);
    g_clear_error(&err);

    /* the old IOAPIC has no EOI register */
    setup();
    qdev_unrealize(ioapic);
    g_assert_true(qdev_prop_set_uint(ioapic, "version", 0x11, &err));
    g_assert_true(qdev_realize(ioapic, NULL, &err));
    g_assert_cmphex(reg_read(0x01), ==, 0x00170011);
    rte_write(6, RTE(0x91, 0) | LEVEL);
    input(6, 1);
    input(6, 0);
    mmio_write(IOAPIC_EOI, 0x91, 4);
    g_assert_cmphex(rte_read(6) & IOAPIC_RTE_REMOTE_IRR, !=, 0);
    apic_bus_eoi_broadcast(0x91);
    g_assert_cmphex(rte_read(6) & IOAPIC_RTE_REMOTE_IRR, ==, 0);
    qdev_unrealize(ioapic);
    g_assert_true(qdev_prop_set_uint(ioapic, "version", 0x20, &err));
    g_assert_true(qdev_realize(ioapic, NULL, &err));
    /* exactly one EOI listener again: one EOI, one re-delivery */
    setup();
    rte_write(6, RTE(0x91, 0) | LEVEL);
    input(6, 1);
    apic_bus_eoi_broadcast(0x91);
    g_assert_cmpint(nmsgs, ==, 2);
    input(6, 0);
}

static void test_vmstate(void)
{
    g_autoptr(GByteArray) buf = g_byte_array_new();
    g_autoptr(GError) err = NULL;
    size_t pos = 0;

    setup();
    reg_write(0x00, 0x03000000);
    rte_write(13, RTE(0xa1, 2) | LEVEL);
    rte_write(14, RTE(0xa2, 2));
    input(13, 1);
    g_assert_true(vmstate_save(ioapic->klass->vmsd, ioapic, buf, &err));
    qdev_reset_all();
    g_assert_true(vmstate_load(ioapic->klass->vmsd, ioapic, buf->data, buf->len, &pos, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(pos, ==, buf->len);
    g_assert_cmphex(reg_read(0x00), ==, 0x03000000);
    g_assert_cmphex(rte_read(14), ==, RTE(0xa2, 2));
    g_assert_cmphex(rte_read(13) & IOAPIC_RTE_REMOTE_IRR, !=, 0);
    nmsgs = 0;
    apic_bus_eoi_broadcast(0xa1);       /* the asserted line travelled too */
    g_assert_cmpint(nmsgs, ==, 1);
    input(13, 0);
}

static void test_info(void)
{
    g_autoptr(GString) buf = g_string_new(NULL);

    setup();
    rte_write(4, RTE(0x34, 3) | LEVEL);
    ioapic_print_info(ioapic, buf);
    g_assert_nonnull(strstr(buf->str, "ioapic0: ver=0x20 id=0x00"));
    g_assert_nonnull(strstr(buf->str, "pin 4  0x0300000000008034 dest=3 vec=52"));
    g_assert_cmphex(ioapic_get_entry(ioapic, 4), ==, RTE(0x34, 3) | LEVEL);
}

static void test_describe(void)
{
    PlatformDesc pd;
    uint16_t flags = 0xffff;
    const DeviceResource *mmio = NULL;

    platform_desc_init(&pd);
    platform_desc_collect(&pd);
    g_assert_cmpuint(pd.nr_ioapics, ==, 1);
    g_assert_cmpuint(pd.ioapics[0].id, ==, 0);
    g_assert_cmphex(pd.ioapics[0].addr, ==, 0xfec00000);
    g_assert_cmpuint(pd.ioapics[0].gsi_base, ==, 0);
    g_assert_cmpuint(platform_isa_irq_to_gsi(&pd, 0, &flags), ==, 2);
    g_assert_cmphex(flags, ==, MPS_INTI_CONFORMS);
    g_assert_cmpuint(platform_isa_irq_to_gsi(&pd, 4, &flags), ==, 4);
    platform_desc_free(&pd);
    for (guint i = 0; i < qdev_resource_count(ioapic); i++) {
        const DeviceResource *r = qdev_resource(ioapic, i);
        if (r->kind == DEV_RES_MMIO) {
            mmio = r;
        }
    }
    g_assert_nonnull(mmio);
    g_assert_cmphex(mmio->base, ==, 0xfec00000);
    g_assert_cmphex(mmio->size, ==, 0x1000);
}

static void test_fuzz(void)
{
    GRand *rand = g_rand_new_with_seed(82093);

    setup();
    for (int i = 0; i < 100000; i++) {
        int r = g_rand_int_range(rand, 0, 10);
        static const unsigned sizes[] = { 1, 2, 4 };
        unsigned size = sizes[g_rand_int_range(rand, 0, 3)];
        uint64_t off = g_rand_int_range(rand, 0, 0x1000) & ~(uint64_t)(size - 1);

        if (r < 3) {
            mmio_write(IOAPIC_IOREGSEL, g_rand_int_range(rand, 0, 0x48), 4);
            mmio_write(IOAPIC_IOWIN, g_rand_int(rand), 4);
        } else if (r < 4) {
            mmio_write(off, g_rand_int(rand), size);
        } else if (r < 5) {
            mmio_read(off, size);
        } else if (r < 8) {
            input(g_rand_int_range(rand, 0, IOAPIC_NUM_PINS), g_rand_boolean(rand));
        } else {
            apic_bus_eoi_broadcast(g_rand_int_range(rand, 0, 256));
        }
    }
    g_rand_free(rand);
    setup();
    rte_write(4, RTE(0x34, 3));
    input(4, 1);
    g_assert_cmpint(nmsgs, ==, 1);
    input(4, 0);
}

int main(int argc, char **argv)
{
    Error *err = NULL;

    g_test_init(&argc, &argv, NULL);
    memory_init_system();
    qemu_clock_virtual_set_manual(true);
    apic_bus_set_backend(&recorder);
    ioapic = qdev_new(IOAPIC_TYPE, &err);
    g_assert_no_error(err);
    g_assert_true(qdev_realize(ioapic, NULL, &err));
    g_assert_no_error(err);

    g_test_add_func("/ioapic/registers", test_registers);
    g_test_add_func("/ioapic/edge", test_edge);
    g_test_add_func("/ioapic/isa-irq0-and-high-gsis", test_isa_irq0_and_high_gsis);
    g_test_add_func("/ioapic/level-and-eoi", test_level_and_eoi);
    g_test_add_func("/ioapic/level-mask", test_level_mask);
    g_test_add_func("/ioapic/edge-clears-remote-irr", test_edge_clears_remote_irr);
    g_test_add_func("/ioapic/destinations-and-modes", test_destinations_and_modes);
    g_test_add_func("/ioapic/extint", test_extint);
    g_test_add_func("/ioapic/storm", test_storm);
    g_test_add_func("/ioapic/version-0x11", test_version_11);
    g_test_add_func("/ioapic/vmstate", test_vmstate);
    g_test_add_func("/ioapic/info", test_info);
    g_test_add_func("/ioapic/describe", test_describe);
    g_test_add_func("/ioapic/fuzz", test_fuzz);
    return g_test_run();
}

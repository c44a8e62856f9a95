/*
 * The userspace local APIC (hw/intc/apic.c), driven directly with four fake
 * vCPUs, a fake 8259 and the virtual clock in manual mode.
 */
#include <string.h>
#include <glib.h>
#include "hw/intc/apic.h"
#include "hw/i386/x86-irq.h"
#include "hw/memory.h"
#include "hw/qdev.h"
#include "hw/vmstate.h"
#include "system/main-loop.h"

#define NCPU 4

/* xAPIC MMIO offsets */
#define ID      0x020
#define LVR     0x030
#define TPR     0x080
#define APR     0x090
#define PPR     0x0a0
#define EOI     0x0b0
#define LDR     0x0d0
#define DFR     0x0e0
#define SVR     0x0f0
#define ISR     0x100
#define TMR     0x180
#define IRR     0x200
#define ESR     0x280
#define CMCI    0x2f0
#define ICR_LO  0x300
#define ICR_HI  0x310
#define LVTT    0x320
#define LINT0   0x350
#define LINT1   0x360
#define LVTERR  0x370
#define TMICT   0x380
#define TMCCT   0x390
#define TDCR    0x3e0

/* APIC IDs of the fake CPUs: the last one is in x2APIC cluster 1. */
static const uint32_t apic_ids[NCPU] = { 0, 1, 2, 0x11 };
static CPUState *cpu[NCPU];
static DeviceState *lapic[NCPU];

static struct {
    int vector;         /* what INTA on the PIC returns */
    int reads;
} fake_pic;

static GArray *eois;    /* vectors broadcast to the "IOAPIC" */

static int fake_pic_read_irq(void *opaque)
{
    fake_pic.reads++;
    return fake_pic.vector;
}

static void eoi_listener(void *opaque, uint8_t vector)
{
    int v = vector;

    g_array_append_val(eois, v);
}

/* A register by its xAPIC offset, through the MSR in x2APIC mode. */
static uint32_t rd(int i, unsigned off)
{
    uint64_t v = 0;

    if (apic_is_x2apic(lapic[i])) {
        apic_msr_read(lapic[i], MSR_X2APIC_BASE + (off >> 4), &v);
        return v;
    }
    return apic_mmio_read(lapic[i], off, 4);
}

static void wr(int i, unsigned off, uint32_t v)
{
    apic_mmio_write(lapic[i], off, v, 4);
}

static bool reg_bit(int i, unsigned base, int v)
{
    return rd(i, base + (v / 32) * 0x10) & (1u << (v % 32));
}

static bool in_irr(int i, int v) { return reg_bit(i, IRR, v); }
static bool in_isr(int i, int v) { return reg_bit(i, ISR, v); }
static bool in_tmr(int i, int v) { return reg_bit(i, TMR, v); }

static bool pending(int i, uint32_t mask)
{
    return cpu_interrupt_pending(cpu[i], mask);
}

static bool hard(int i)
{
    return pending(i, CPU_INTERRUPT_HARD);
}

static int64_t now(void)
{
    return qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
}

static void advance_to(int64_t t)
{
    qemu_clock_virtual_advance(t);
}

static void send(uint32_t dest, bool logical, int dm, int vector, bool level)
{
    APICMessage m = {
        .dest = dest, .dest_logical = logical, .delivery_mode = dm,
        .vector = vector, .level = level, .assert_ = true,
    };

    apic_bus_deliver(&m);
}

static void sw_enable(int i)
{
    wr(i, SVR, 0x1ff);
}

/* Power-on state for every LAPIC and CPU, PIC INTR low, no EOIs logged. */
static void reset_all(void)
{
    qemu_set_irq(x86_pic_intr_line(), 0);
    for (int i = 0; i < NCPU; i++) {
        qdev_reset(lapic[i]);
        cpu[i]->interrupt_request = 0;
        cpu[i]->sipi_vector = 0;
    }
    fake_pic.reads = 0;
    fake_pic.vector = 0x20;
    g_array_set_size(eois, 0);
}

/* IRR bit v on which CPUs, as a bitmask. */
static unsigned who_has(int v)
{
    unsigned m = 0;

    for (int i = 0; i < NCPU; i++) {
        m |= in_irr(i, v) ? 1u << i : 0;
    }
    return m;
}

/* ---- registers ------------------------------------------------------------ */

static void test_reset_values(void)
{
    reset_all();
    g_assert_cmphex(rd(2, ID), ==, 2u << 24);
    g_assert_cmphex(rd(3, ID), ==, 0x11u << 24);
    g_assert_cmphex(rd(0, LVR), ==, 0x00050014);
    g_assert_cmphex(rd(0, SVR), ==, 0xff);
    g_assert_cmphex(rd(0, DFR), ==, 0xffffffff);
    g_assert_cmphex(rd(0, LDR), ==, 0);
    g_assert_cmphex(rd(0, TPR), ==, 0);
    g_assert_cmphex(rd(0, APR), ==, 0);
    g_assert_cmphex(rd(0, PPR), ==, 0);
    /* every LVT masked, except the BSP's LINT0 in virtual-wire mode */
    for (unsigned off = LVTT; off <= LVTERR; off += 0x10) {
        for (int i = 0; i < NCPU; i++) {
            uint32_t want = (i == 0 && off == LINT0) ? 0x700 : 0x10000;
            g_assert_cmphex(rd(i, off), ==, want);
        }
    }
    g_assert_cmphex(rd(1, CMCI), ==, 0x10000);
    g_assert_cmphex(apic_get_base(lapic[0]), ==, 0xfee00900);
    g_assert_cmphex(apic_get_base(lapic[1]), ==, 0xfee00800);
    g_assert_true(cpu[2]->apic == lapic[2]);
    g_assert_true(apic_find_by_id(0x11) == lapic[3]);
}

static void test_id_ldr_dfr(void)
{
    reset_all();
    /* ID is writable in xAPIC mode (bits 31:24) */
    wr(1, ID, 0x07000000);
    g_assert_cmphex(rd(1, ID), ==, 0x07000000);
    send(7, false, APIC_DM_FIXED, 0x40, false);
    g_assert_cmphex(who_has(0x40), ==, 1u << 1);
    /* LDR keeps bits 31:24 only; DFR bits 31:28, the rest read as ones */
    wr(1, LDR, 0xa5ffffff);
    g_assert_cmphex(rd(1, LDR), ==, 0xa5000000);
    wr(1, DFR, 0x0);
    g_assert_cmphex(rd(1, DFR), ==, 0x0fffffff);
    wr(1, DFR, 0x12345678);
    g_assert_cmphex(rd(1, DFR), ==, 0x1fffffff);
    /* the version register is read-only */
    wr(1, LVR, 0);
    g_assert_cmphex(rd(1, LVR), ==, 0x00050014);
}

static void test_tpr_ppr(void)
{
    reset_all();
    sw_enable(0);
    wr(0, TPR, 0x2f);
    g_assert_cmphex(rd(0, TPR), ==, 0x2f);
    g_assert_cmphex(rd(0, PPR), ==, 0x2f);
    g_assert_cmpuint(apic_get_tpr(lapic[0]), ==, 2);
    send(0, false, APIC_DM_FIXED, 0x45, false);
    g_assert_cmpint(cpu_get_interrupt(cpu[0]), ==, 0x45);
    /* in service 0x45: PPR is its class when the TPR's is lower */
    g_assert_cmphex(rd(0, PPR), ==, 0x40);
    wr(0, TPR, 0x57);
    g_assert_cmphex(rd(0, PPR), ==, 0x57);
    /* CR8 writes TPR[7:4] */
    apic_set_tpr(lapic[0], 3);
    g_assert_cmphex(rd(0, TPR), ==, 0x30);
    g_assert_cmphex(rd(0, PPR), ==, 0x40);
    wr(0, EOI, 0);
    g_assert_cmphex(rd(0, PPR), ==, 0x30);
}

static void test_irr_isr_eoi_order(void)
{
    reset_all();
    sw_enable(1);
    send(1, false, APIC_DM_FIXED, 0x31, false);
    send(1, false, APIC_DM_FIXED, 0x52, false);
    send(1, false, APIC_DM_FIXED, 0x55, false);
    g_assert_true(hard(1));
    g_assert_cmpint(cpu_get_interrupt(cpu[1]), ==, 0x55);
    g_assert_false(in_irr(1, 0x55));
    g_assert_true(in_isr(1, 0x55));
    /* 0x52 is in the same priority class as 0x55 in service: blocked */
    g_assert_false(hard(1));
    /* a higher class nests */
    send(1, false, APIC_DM_FIXED, 0x61, false);
    g_assert_true(hard(1));
    g_assert_cmpint(cpu_get_interrupt(cpu[1]), ==, 0x61);
    g_assert_false(hard(1));
    /* EOI retires the highest in service first */
    wr(1, EOI, 0);
    g_assert_false(in_isr(1, 0x61));
    g_assert_true(in_isr(1, 0x55));
    g_assert_false(hard(1));
    wr(1, EOI, 0);
    g_assert_false(in_isr(1, 0x55));
    g_assert_true(hard(1));
    g_assert_cmpint(cpu_get_interrupt(cpu[1]), ==, 0x52);
    wr(1, EOI, 0);
    g_assert_cmpint(cpu_get_interrupt(cpu[1]), ==, 0x31);
    wr(1, EOI, 0);
    g_assert_false(hard(1));
    g_assert_cmpint(rd(1, ISR + 0x30), ==, 0);
    /* an EOI with nothing in service is harmless */
    wr(1, EOI, 0);
    g_assert_false(hard(1));
}

static void test_tpr_masking(void)
{
    reset_all();
    wr(2, SVR, 0x1ef);
    wr(2, TPR, 0x50);
    send(2, false, APIC_DM_FIXED, 0x45, false);
    send(2, false, APIC_DM_FIXED, 0x50, false);
    g_assert_false(hard(2));
    send(2, false, APIC_DM_FIXED, 0x65, false);
    g_assert_true(hard(2));
    /* raising the TPR takes the interrupt away... */
    wr(2, TPR, 0x70);
    g_assert_false(hard(2));
    /* ...and an INTA that raced with it gets the spurious vector */
    g_assert_cmpint(cpu_get_interrupt(cpu[2]), ==, 0xef);
    g_assert_true(in_irr(2, 0x65));
    g_assert_false(in_isr(2, 0x65));
    /* CR8 lowers it again */
    apic_set_tpr(lapic[2], 0);
    g_assert_true(hard(2));
    g_assert_cmpint(cpu_get_interrupt(cpu[2]), ==, 0x65);
}

static void test_spurious_when_disabled(void)
{
    reset_all();
    /* software-disabled (SVR bit 8 clear): IRR is kept, nothing delivered */
    send(1, false, APIC_DM_FIXED, 0x40, false);
    g_assert_true(in_irr(1, 0x40));
    g_assert_false(hard(1));
    g_assert_cmpint(cpu_get_interrupt(cpu[1]), ==, 0xff);
    g_assert_true(in_irr(1, 0x40));
    wr(1, SVR, 0x13f);
    g_assert_true(hard(1));
    g_assert_cmpint(cpu_get_interrupt(cpu[1]), ==, 0x40);
    wr(1, SVR, 0x03f);
    send(1, false, APIC_DM_FIXED, 0x41, false);
    g_assert_false(hard(1));
    g_assert_cmpint(cpu_get_interrupt(cpu[1]), ==, 0x3f);
}

static void test_eoi_broadcast(void)
{
    reset_all();
    sw_enable(0);
    send(0, false, APIC_DM_FIXED, 0x40, true);
    g_assert_true(in_tmr(0, 0x40));
    g_assert_cmpint(cpu_get_interrupt(cpu[0]), ==, 0x40);
    g_assert_cmpuint(eois->len, ==, 0);
    wr(0, EOI, 0);
    g_assert_cmpuint(eois->len, ==, 1);
    g_assert_cmpint(g_array_index(eois, int, 0), ==, 0x40);
    /* an edge-triggered vector is not broadcast, and clears its TMR bit */
    send(0, false, APIC_DM_FIXED, 0x40, false);
    g_assert_false(in_tmr(0, 0x40));
    g_assert_cmpint(cpu_get_interrupt(cpu[0]), ==, 0x40);
    wr(0, EOI, 0);
    g_assert_cmpuint(eois->len, ==, 1);
    /* SVR bit 12 suppresses the broadcast */
    wr(0, SVR, 0x11ff);
    g_assert_cmphex(rd(0, SVR), ==, 0x11ff);
    send(0, false, APIC_DM_FIXED, 0x48, true);
    g_assert_cmpint(cpu_get_interrupt(cpu[0]), ==, 0x48);
    wr(0, EOI, 0);
    g_assert_cmpuint(eois->len, ==, 1);
    g_assert_false(in_isr(0, 0x48));
}

#define EOI_PA  (0xfee00000u + EOI)

/* The EOI a vCPU without the BQL does itself (apic_write_unlocked): an
 * edge-triggered vector ends there (ISR cleared, the next one raised,
 * nothing broadcast); a level-triggered one is refused and left in
 * service for the usual write, which broadcasts it. */
static void test_eoi_unlocked(void)
{
    reset_all();
    sw_enable(0);
    send(0, false, APIC_DM_FIXED, 0x50, false);
    send(0, false, APIC_DM_FIXED, 0x41, false);
    g_assert_cmpint(cpu_get_interrupt(cpu[0]), ==, 0x50);
    g_assert_false(hard(0));                /* 0x41 is below 0x50's class */
    g_assert_true(apic_write_unlocked(lapic[0], EOI_PA, 4));
    g_assert_false(in_isr(0, 0x50));
    g_assert_true(hard(0));                 /* 0x41 deliverable again */
    g_assert_cmpint(cpu_get_interrupt(cpu[0]), ==, 0x41);
    g_assert_true(apic_write_unlocked(lapic[0], EOI_PA, 4));
    g_assert_false(in_isr(0, 0x41));
    g_assert_cmpuint(eois->len, ==, 0);
    g_assert_true(apic_write_unlocked(lapic[0], EOI_PA, 4));     /* nothing in service */
    /* only a 4-byte write to the EOI register */
    g_assert_false(apic_write_unlocked(lapic[0], EOI_PA, 2));
    g_assert_false(apic_write_unlocked(lapic[0], 0xfee00000u + 0x80, 4));
    /* level-triggered: refused, still in service; the usual write ends it */
    send(0, false, APIC_DM_FIXED, 0x60, true);
    g_assert_cmpint(cpu_get_interrupt(cpu[0]), ==, 0x60);
    g_assert_false(apic_write_unlocked(lapic[0], EOI_PA, 4));
    g_assert_true(in_isr(0, 0x60));
    g_assert_cmpuint(eois->len, ==, 0);
    wr(0, EOI, 0);
    g_assert_cmpuint(eois->len, ==, 1);
    g_assert_false(in_isr(0, 0x60));
    /* with broadcasts suppressed (SVR bit 12) a level vector ends here too */
    wr(0, SVR, 0x11ff);
    send(0, false, APIC_DM_FIXED, 0x61, true);
    g_assert_cmpint(cpu_get_interrupt(cpu[0]), ==, 0x61);
    g_assert_true(apic_write_unlocked(lapic[0], EOI_PA, 4));
    g_assert_false(in_isr(0, 0x61));
    g_assert_cmpuint(eois->len, ==, 1);
}

/* ---- destinations --------------------------------------------------------- */

static void test_physical_and_broadcast(void)
{
    reset_all();
    send(2, false, APIC_DM_FIXED, 0x40, false);
    g_assert_cmphex(who_has(0x40), ==, 1u << 2);
    send(0x11, false, APIC_DM_FIXED, 0x41, false);
    g_assert_cmphex(who_has(0x41), ==, 1u << 3);
    send(5, false, APIC_DM_FIXED, 0x42, false);
    g_assert_cmphex(who_has(0x42), ==, 0);
    send(0xff, false, APIC_DM_FIXED, 0x43, false);
    g_assert_cmphex(who_has(0x43), ==, 0xf);
    send(0xffffffff, false, APIC_DM_FIXED, 0x44, false);
    g_assert_cmphex(who_has(0x44), ==, 0xf);
}

static void test_logical_flat(void)
{
    reset_all();
    for (int i = 0; i < NCPU; i++) {
        wr(i, LDR, (1u << i) << 24);
    }
    send(0x05, true, APIC_DM_FIXED, 0x40, false);
    g_assert_cmphex(who_has(0x40), ==, 0x5);
    send(0x0a, true, APIC_DM_FIXED, 0x41, false);
    g_assert_cmphex(who_has(0x41), ==, 0xa);
    send(0xff, true, APIC_DM_FIXED, 0x42, false);
    g_assert_cmphex(who_has(0x42), ==, 0xf);
    send(0x30, true, APIC_DM_FIXED, 0x43, false);
    g_assert_cmphex(who_has(0x43), ==, 0);
    /* lowest priority: QEMU's choice, the first CPU of the set */
    send(0x0e, true, APIC_DM_LOWPRI, 0x44, false);
    g_assert_cmphex(who_has(0x44), ==, 0x2);
    send(0x0c, true, APIC_DM_LOWPRI, 0x45, false);
    g_assert_cmphex(who_has(0x45), ==, 0x4);
    send(0xff, false, APIC_DM_LOWPRI, 0x46, false);
    g_assert_cmphex(who_has(0x46), ==, 0x1);
}

static void test_logical_cluster(void)
{
    static const uint8_t ldr[NCPU] = { 0x11, 0x12, 0x21, 0x22 };

    reset_all();
    for (int i = 0; i < NCPU; i++) {
        wr(i, DFR, 0x0fffffff);
        wr(i, LDR, ldr[i] << 24);
    }
    send(0x13, true, APIC_DM_FIXED, 0x40, false);
    g_assert_cmphex(who_has(0x40), ==, 0x3);
    send(0x22, true, APIC_DM_FIXED, 0x41, false);
    g_assert_cmphex(who_has(0x41), ==, 0x8);
    send(0x31, true, APIC_DM_FIXED, 0x42, false);
    g_assert_cmphex(who_has(0x42), ==, 0);
    /* cluster 0xf: every cluster */
    send(0xf1, true, APIC_DM_FIXED, 0x43, false);
    g_assert_cmphex(who_has(0x43), ==, 0x5);
    send(0xff, true, APIC_DM_FIXED, 0x44, false);
    g_assert_cmphex(who_has(0x44), ==, 0xf);
    /* mixed: CPU 3 back in the flat model with LDR 0x22 */
    wr(3, DFR, 0xffffffff);
    send(0x12, true, APIC_DM_FIXED, 0x45, false);
    g_assert_cmphex(who_has(0x45), ==, 0xa);
}

static bool to_x2apic(int i)
{
    return apic_set_base(lapic[i], 0xfee00000 | MSR_IA32_APICBASE_ENABLE |
                         MSR_IA32_APICBASE_EXTD);
}

static void test_x2apic_destinations(void)
{
    reset_all();
    for (int i = 0; i < NCPU; i++) {
        g_assert_true(to_x2apic(i));
    }
    /* logical x2APIC ID: cluster ID[19:4] << 16 | 1 << ID[3:0] */
    send(0x00000003, true, APIC_DM_FIXED, 0x40, false);
    g_assert_cmphex(who_has(0x40), ==, 0x3);
    send(0x00010002, true, APIC_DM_FIXED, 0x41, false);
    g_assert_cmphex(who_has(0x41), ==, 0x8);
    send(0x00000002 | 0x00010000, true, APIC_DM_FIXED, 0x42, false);
    g_assert_cmphex(who_has(0x42), ==, 0x8);
    send(0xffffffff, true, APIC_DM_FIXED, 0x43, false);
    g_assert_cmphex(who_has(0x43), ==, 0xf);
    /* physical: the 32-bit x2APIC ID; 0xff is not a broadcast here */
    send(0x11, false, APIC_DM_FIXED, 0x44, false);
    g_assert_cmphex(who_has(0x44), ==, 0x8);
    send(0xff, false, APIC_DM_FIXED, 0x45, false);
    g_assert_cmphex(who_has(0x45), ==, 0);
    send(0xffffffff, false, APIC_DM_FIXED, 0x46, false);
    g_assert_cmphex(who_has(0x46), ==, 0xf);
}

static void icr_send(int from, uint32_t dest_hi, uint32_t lo)
{
    wr(from, ICR_HI, dest_hi);
    wr(from, ICR_LO, lo);
    /* delivered at once: the delivery status bit reads idle */
    g_assert_cmphex(rd(from, ICR_LO) & (1u << 12), ==, 0);
}

static void test_ipi_shorthands(void)
{
    reset_all();
    /* no shorthand, physical */
    icr_send(1, 0x11u << 24, 0x4040);
    g_assert_cmphex(who_has(0x40), ==, 0x8);
    g_assert_cmphex(rd(1, ICR_LO), ==, 0x4040);
    g_assert_cmphex(rd(1, ICR_HI), ==, 0x11u << 24);
    /* logical flat */
    for (int i = 0; i < NCPU; i++) {
        wr(i, LDR, (1u << i) << 24);
    }
    icr_send(1, 0x09u << 24, 0x0841);
    g_assert_cmphex(who_has(0x41), ==, 0x9);
    /* self (destination ignored) */
    icr_send(1, 0xffu << 24, (1u << 18) | 0x42);
    g_assert_cmphex(who_has(0x42), ==, 0x2);
    /* all including self */
    icr_send(1, 0, (2u << 18) | 0x43);
    g_assert_cmphex(who_has(0x43), ==, 0xf);
    /* all excluding self */
    icr_send(1, 0, (3u << 18) | 0x44);
    g_assert_cmphex(who_has(0x44), ==, 0xd);
    /* lowest priority to a logical set */
    icr_send(2, 0x0cu << 24, 0x0945);
    g_assert_cmphex(who_has(0x45), ==, 0x4);
    /* level-triggered fixed IPI sets TMR */
    icr_send(0, 2u << 24, 0xc046);
    g_assert_true(in_tmr(2, 0x46));
}

static void test_init_sipi_nmi_smi(void)
{
    reset_all();
    sw_enable(2);
    wr(2, TPR, 0x40);
    wr(2, LDR, 0x04000000);
    send(2, false, APIC_DM_FIXED, 0x70, false);
    /* INIT assert: CPU 2's LAPIC goes back to its INIT state (ID kept) */
    icr_send(0, 2u << 24, 0x4500);
    g_assert_true(pending(2, CPU_INTERRUPT_INIT));
    g_assert_false(pending(1, CPU_INTERRUPT_INIT));
    g_assert_cmphex(rd(2, TPR), ==, 0);
    g_assert_cmphex(rd(2, SVR), ==, 0xff);
    g_assert_cmphex(rd(2, LDR), ==, 0);
    g_assert_false(in_irr(2, 0x70));
    g_assert_cmphex(rd(2, ID), ==, 2u << 24);
    g_assert_cmphex(apic_get_base(lapic[2]), ==, 0xfee00800);
    /* INIT level de-assert does nothing */
    cpu[1]->interrupt_request = 0;
    sw_enable(1);
    icr_send(0, 1u << 24, 0x8500);
    g_assert_false(pending(1, CPU_INTERRUPT_INIT));
    g_assert_cmphex(rd(1, SVR), ==, 0x1ff);
    /* SIPI to all but self */
    icr_send(0, 0, (3u << 18) | 0x4600 | 0x9a);
    for (int i = 1; i < NCPU; i++) {
        g_assert_true(pending(i, CPU_INTERRUPT_SIPI));
        g_assert_cmphex(cpu[i]->sipi_vector, ==, 0x9a);
    }
    g_assert_false(pending(0, CPU_INTERRUPT_SIPI));
    /* NMI and SMI IPIs */
    icr_send(0, 3u << 24, 0x4400);
    g_assert_false(pending(3, CPU_INTERRUPT_NMI));
    icr_send(0, 0x11u << 24, 0x4400);
    g_assert_true(pending(3, CPU_INTERRUPT_NMI));
    icr_send(0, 1u << 24, 0x4200);
    g_assert_true(pending(1, CPU_INTERRUPT_SMI));
    g_assert_false(pending(1, CPU_INTERRUPT_NMI));
    /* NMI through LINT1: masked at reset, delivered once programmed */
    apic_deliver_nmi(lapic[0]);
    g_assert_false(pending(0, CPU_INTERRUPT_NMI));
    wr(0, LINT1, 0x400);
    apic_deliver_nmi(lapic[0]);
    g_assert_true(pending(0, CPU_INTERRUPT_NMI));
    /* an INIT from the bus (IOAPIC/MSI) too */
    send(1, false, APIC_DM_INIT, 0, false);
    g_assert_true(pending(1, CPU_INTERRUPT_INIT));
    g_assert_cmphex(rd(1, SVR), ==, 0xff);
}

/* ---- x2APIC and IA32_APIC_BASE -------------------------------------------- */

static uint64_t msr(int i, uint32_t index)
{
    uint64_t v = 0xdead;

    g_assert_true(apic_msr_read(lapic[i], index, &v));
    return v;
}

static void test_x2apic_msrs(void)
{
    uint64_t v;

    reset_all();
    /* not in x2APIC mode: every x2APIC MSR raises #GP */
    g_assert_false(apic_msr_read(lapic[3], 0x802, &v));
    g_assert_false(apic_msr_write(lapic[3], 0x808, 0));
    g_assert_true(to_x2apic(3));
    g_assert_true(apic_is_x2apic(lapic[3]));
    g_assert_cmphex(msr(3, 0x802), ==, 0x11);
    g_assert_cmphex(msr(3, 0x803), ==, 0x00050014);
    g_assert_cmphex(msr(3, 0x80d), ==, 0x00010002);
    /* read-only, write-only and absent registers */
    g_assert_false(apic_msr_write(lapic[3], 0x802, 5));
    g_assert_false(apic_msr_write(lapic[3], 0x80d, 5));
    g_assert_false(apic_msr_write(lapic[3], 0x803, 5));
    g_assert_false(apic_msr_write(lapic[3], 0x80a, 5));
    g_assert_false(apic_msr_write(lapic[3], 0x839, 5));
    g_assert_false(apic_msr_read(lapic[3], 0x80b, &v));     /* EOI */
    g_assert_false(apic_msr_read(lapic[3], 0x83f, &v));     /* SELF IPI */
    g_assert_false(apic_msr_read(lapic[3], 0x80e, &v));     /* no DFR */
    g_assert_false(apic_msr_write(lapic[3], 0x80e, 0));
    g_assert_false(apic_msr_read(lapic[3], 0x831, &v));     /* no ICR high */
    g_assert_false(apic_msr_read(lapic[3], 0x809, &v));     /* no APR */
    g_assert_false(apic_msr_read(lapic[3], 0x804, &v));     /* reserved */
    g_assert_false(apic_msr_read(lapic[3], 0x8ff, &v));
    /* reserved bits: 63:32 outside the ICR, non-zero EOI and ESR writes */
    g_assert_false(apic_msr_write(lapic[3], 0x808, 1ull << 32));
    g_assert_false(apic_msr_write(lapic[3], 0x80b, 1));
    g_assert_false(apic_msr_write(lapic[3], 0x828, 1));
    g_assert_true(apic_msr_write(lapic[3], 0x828, 0));
    g_assert_true(apic_msr_write(lapic[3], 0x808, 0x20));
    g_assert_cmphex(msr(3, 0x808), ==, 0x20);
    g_assert_cmphex(msr(3, 0x80a), ==, 0x20);
    g_assert_true(apic_msr_write(lapic[3], 0x80f, 0x1ff));
    g_assert_cmphex(msr(3, 0x80f), ==, 0x1ff);
    /* 64-bit ICR: destination in bits 63:32 (CPU 1 is still xAPIC, ID 1) */
    g_assert_true(apic_msr_write(lapic[3], 0x830, (1ull << 32) | 0x4051));
    g_assert_cmphex(who_has(0x51), ==, 0x2);
    g_assert_cmphex(msr(3, 0x830), ==, (1ull << 32) | 0x4051);
    /* SELF IPI */
    g_assert_true(apic_msr_write(lapic[3], 0x83f, 0x77));
    g_assert_cmphex(who_has(0x77), ==, 0x8);
    g_assert_false(apic_msr_write(lapic[3], 0x83f, 0x177));
    g_assert_true(hard(3));
    g_assert_cmpint(cpu_get_interrupt(cpu[3]), ==, 0x77);
    g_assert_false(apic_msr_write(lapic[3], 0x80b, 1));
    g_assert_true(apic_msr_write(lapic[3], 0x80b, 0));
    g_assert_false(in_isr(3, 0x77));
    /* the IRR/ISR/TMR banks and LVTs through MSRs */
    g_assert_true(apic_msr_write(lapic[3], 0x83f, 0x81));
    g_assert_cmphex(msr(3, 0x824), ==, 2);
    g_assert_true(apic_msr_write(lapic[3], 0x835, 0x10000));
    g_assert_cmphex(msr(3, 0x835), ==, 0x10000);
    /* the xAPIC page is not decoded in x2APIC mode */
    g_assert_cmphex(apic_mmio_read(lapic[3], ID, 4), ==, 0xffffffff);
    g_assert_false(apic_mmio_claims(lapic[3], 0xfee00020));
    /* and in xAPIC mode the x2APIC-only SELF IPI is an illegal register */
    wr(0, ESR, 0);
    g_assert_cmphex(rd(0, 0x3f0), ==, 0);
    wr(0, 0x3f0, 0x40);
    g_assert_false(in_irr(0, 0x40));
    wr(0, ESR, 0);
    g_assert_cmphex(rd(0, ESR), ==, 0x80);
}

static void test_apic_base(void)
{
    const uint64_t en = MSR_IA32_APICBASE_ENABLE, extd = MSR_IA32_APICBASE_EXTD;

    reset_all();
    /* reserved bits, EXTD without EN */
    g_assert_false(apic_set_base(lapic[1], 0xfee00000 | en | (1 << 9)));
    g_assert_false(apic_set_base(lapic[1], 0xfee00000 | en | 1));
    g_assert_false(apic_set_base(lapic[1], 0x100000000ull | en));
    g_assert_false(apic_set_base(lapic[1], 0xfee00000 | extd));
    g_assert_cmphex(apic_get_base(lapic[1]), ==, 0xfee00800);
    /* relocation in xAPIC mode; the BSP flag is not writable */
    g_assert_true(apic_set_base(lapic[1], 0xfed00000 | en | MSR_IA32_APICBASE_BSP));
    g_assert_cmphex(apic_get_base(lapic[1]), ==, 0xfed00800);
    g_assert_true(apic_mmio_claims(lapic[1], 0xfed00020));
    g_assert_false(apic_mmio_claims(lapic[1], 0xfee00020));
    g_assert_true(apic_set_base(lapic[0], 0xfee00000 | en));
    g_assert_cmphex(apic_get_base(lapic[0]), ==, 0xfee00900);
    /* xAPIC -> x2APIC -> (xAPIC refused) -> disabled -> (x2APIC refused) -> xAPIC */
    g_assert_true(apic_set_base(lapic[1], 0xfee00000 | en | extd));
    g_assert_false(apic_set_base(lapic[1], 0xfee00000 | en));
    g_assert_true(apic_is_x2apic(lapic[1]));
    g_assert_true(apic_set_base(lapic[1], 0xfee00000));
    g_assert_false(apic_is_enabled(lapic[1]));
    g_assert_false(apic_is_x2apic(lapic[1]));
    g_assert_false(apic_set_base(lapic[1], 0xfee00000 | en | extd));
    g_assert_cmphex(apic_mmio_read(lapic[1], ID, 4), ==, 0xffffffff);
    g_assert_true(apic_set_base(lapic[1], 0xfee00000 | en));
    g_assert_true(apic_is_enabled(lapic[1]));
    g_assert_cmphex(rd(1, ID), ==, 1u << 24);
    /* disabling clears the software enable (as QEMU) */
    sw_enable(2);
    g_assert_true(apic_set_base(lapic[2], 0xfee00000));
    g_assert_true(apic_set_base(lapic[2], 0xfee00000 | en));
    g_assert_cmphex(rd(2, SVR) & 0x100, ==, 0);
}

static void test_x2apic_unsupported(void)
{
    g_autoptr(GError) err = NULL;
    CPUState *c = g_new0(CPUState, 1);
    DeviceState *dev;

    c->index = NCPU;
    c->apic_id = 9;
    g_ptr_array_add(cpus, c);
    dev = apic_create(c, false, &err);
    g_assert_no_error(err);
    g_assert_false(apic_set_base(dev, 0xfee00000 | MSR_IA32_APICBASE_ENABLE |
                                 MSR_IA32_APICBASE_EXTD));
    g_assert_false(apic_is_x2apic(dev));
    /* a second LAPIC for the same CPU is refused, naming the property */
    g_assert_null(apic_create(c, true, &err));
    g_assert_nonnull(strstr(err->message, "cpu-index"));
    qdev_free(dev);
    g_assert_null(c->apic);
    g_ptr_array_remove(cpus, c);
    g_free(c);
}

static void test_esr(void)
{
    reset_all();
    sw_enable(1);
    wr(1, LVTERR, 0x5e);
    /* an error is latched, then shown by the next ESR write */
    rd(1, 0x040);                       /* reserved register */
    g_assert_cmphex(rd(1, ESR), ==, 0);
    wr(1, ESR, 0);
    g_assert_cmphex(rd(1, ESR), ==, 0x80);
    wr(1, ESR, 0xffffffff);             /* the value written does not matter */
    g_assert_cmphex(rd(1, ESR), ==, 0);
    /* the error LVT delivered it */
    g_assert_true(in_irr(1, 0x5e));
    /* an illegal vector to send: not sent */
    icr_send(1, 2u << 24, 0x4005);
    wr(1, ESR, 0);
    g_assert_cmphex(rd(1, ESR), ==, 0x20);
    g_assert_cmphex(rd(2, IRR), ==, 0);
    /* an illegal vector received */
    send(2, false, APIC_DM_FIXED, 0x07, false);
    wr(2, ESR, 0);
    g_assert_cmphex(rd(2, ESR), ==, 0x40);
    g_assert_cmphex(rd(2, IRR), ==, 0);
    /* the error LVT itself with an illegal vector: recorded, not looped */
    wr(2, LVTERR, 0x03);
    rd(2, 0x040);
    wr(2, ESR, 0);
    g_assert_cmphex(rd(2, ESR), ==, 0xc0);
    g_assert_cmphex(rd(2, IRR), ==, 0);
    /* so is a timer LVT with an illegal vector */
    wr(2, LVTERR, 0x10000);
    wr(2, LVTT, 0x05);
    wr(2, TDCR, 0xb);
    wr(2, TMICT, 10);
    advance_to(now() + 100);
    wr(2, ESR, 0);
    g_assert_cmphex(rd(2, ESR), ==, 0x40);
    g_assert_cmphex(rd(2, IRR), ==, 0);
}

/* ---- ExtINT and the PIC ---------------------------------------------------------- */

static void test_extint(void)
{
    qemu_irq intr = x86_pic_intr_line();

    reset_all();
    fake_pic.vector = 0x21;
    /* virtual wire: the BSP's LINT0 is ExtINT even while software-disabled */
    qemu_set_irq(intr, 1);
    g_assert_true(hard(0));
    for (int i = 1; i < NCPU; i++) {
        g_assert_false(hard(i));
    }
    g_assert_cmpint(cpu_get_interrupt(cpu[0]), ==, 0x21);
    g_assert_cmpint(fake_pic.reads, ==, 1);
    /* INTR still high: still pending; ExtINT ignores the TPR */
    wr(0, TPR, 0xf0);
    g_assert_true(hard(0));
    qemu_set_irq(intr, 0);
    g_assert_false(hard(0));
    wr(0, TPR, 0);
    /* LINT0 masked: the PIC is not heard */
    wr(0, LINT0, 0x10700);
    qemu_set_irq(intr, 1);
    g_assert_false(hard(0));
    /* unmasking while INTR is high delivers it */
    wr(0, LINT0, 0x700);
    g_assert_true(hard(0));
    qemu_set_irq(intr, 0);
    /* the LAPIC hardware-disabled: the PIC drives the CPU directly */
    g_assert_true(apic_set_base(lapic[0], 0xfee00000 | MSR_IA32_APICBASE_BSP));
    wr(0, LINT0, 0x10000);      /* not decoded now: no effect */
    qemu_set_irq(intr, 1);
    g_assert_true(hard(0));
    fake_pic.vector = 0x27;
    g_assert_cmpint(cpu_get_interrupt(cpu[0]), ==, 0x27);
    qemu_set_irq(intr, 0);
    g_assert_false(hard(0));
    /* an ExtINT message (IOAPIC pin in ExtINT mode) to CPU 2 */
    fake_pic.vector = 0x30;
    send(2, false, APIC_DM_EXTINT, 0, false);
    g_assert_true(hard(2));
    g_assert_cmpint(cpu_get_interrupt(cpu[2]), ==, 0x30);
    g_assert_false(hard(2));
}

static void test_lint0_fixed(void)
{
    qemu_irq intr = x86_pic_intr_line();

    reset_all();
    sw_enable(0);
    /* LINT0 as a level-triggered fixed interrupt, vector 0x58 */
    wr(0, LINT0, 0x8058);
    qemu_set_irq(intr, 1);
    g_assert_true(in_irr(0, 0x58));
    g_assert_true(in_tmr(0, 0x58));
    qemu_set_irq(intr, 0);
    g_assert_false(in_irr(0, 0x58));
    g_assert_false(hard(0));
    g_assert_cmpint(fake_pic.reads, ==, 0);
}

/* ---- the timer ---------------------------------------------------------------- */

static void ack(int i)
{
    cpu_get_interrupt(cpu[i]);
    wr(i, EOI, 0);
}

static void test_timer_oneshot(void)
{
    int64_t t0;

    reset_all();
    sw_enable(1);
    wr(1, TDCR, 0xb);                   /* divide by 1 */
    wr(1, LVTT, 0x30);
    t0 = now();
    wr(1, TMICT, 1000);
    g_assert_cmpuint(rd(1, TMICT), ==, 1000);
    g_assert_cmpuint(rd(1, TMCCT), ==, 1000);
    advance_to(t0 + 400);
    g_assert_cmpuint(rd(1, TMCCT), ==, 600);
    advance_to(t0 + 1000);
    g_assert_cmpuint(rd(1, TMCCT), ==, 0);
    g_assert_false(in_irr(1, 0x30));
    /* as QEMU: the interrupt comes one tick after the count reaches 0 */
    advance_to(t0 + 1001);
    g_assert_true(in_irr(1, 0x30));
    g_assert_true(hard(1));
    ack(1);
    advance_to(t0 + 100000);
    g_assert_false(in_irr(1, 0x30));
    g_assert_cmpint(qemu_clock_virtual_deadline(), ==, -1);
    g_assert_cmpuint(rd(1, TMCCT), ==, 0);
    /* writing 0 stops a running timer */
    t0 = now();
    wr(1, TMICT, 50);
    wr(1, TMICT, 0);
    advance_to(t0 + 1000);
    g_assert_false(in_irr(1, 0x30));
    /* masked: counts, but no interrupt */
    wr(1, LVTT, 0x10030);
    t0 = now();
    wr(1, TMICT, 100);
    advance_to(t0 + 50);
    g_assert_cmpuint(rd(1, TMCCT), ==, 50);
    advance_to(t0 + 1000);
    g_assert_false(in_irr(1, 0x30));
}

static void test_timer_periodic(void)
{
    int64_t t0, fired[5];
    int n = 0;

    reset_all();
    sw_enable(2);
    wr(2, TDCR, 0x0);                   /* divide by 2 */
    wr(2, LVTT, 0x20031);
    t0 = now();
    wr(2, TMICT, 500);
    advance_to(t0 + 2 * 100);
    g_assert_cmpuint(rd(2, TMCCT), ==, 400);
    /* measure the period: step from deadline to deadline */
    while (n < 5) {
        int64_t d = qemu_clock_virtual_deadline();
        g_assert_cmpint(d, >, 0);
        advance_to(d);
        if (in_irr(2, 0x31)) {
            fired[n++] = now();
            ack(2);
        }
    }
    for (int i = 0; i < 5; i++) {
        /* a period is (initial count + 1) ticks of 2 ns (QEMU's) */
        g_assert_cmpint(fired[i] - t0, ==, (i + 1) * 1002);
    }
    /* reloads: counting again from the initial count */
    advance_to(fired[4] + 2);
    g_assert_cmpuint(rd(2, TMCCT), ==, 499);
    /* switching to one-shot keeps the count; it then stops at 0 */
    wr(2, LVTT, 0x00031);
    advance_to(fired[4] + 1002 + 10);
    g_assert_true(in_irr(2, 0x31));
    ack(2);
    advance_to(now() + 10000);
    g_assert_false(in_irr(2, 0x31));
    g_assert_cmpuint(rd(2, TMCCT), ==, 0);
}

static void test_timer_divide(void)
{
    static const struct { uint32_t dcr; int shift; } cases[] = {
        { 0x0, 1 }, { 0x1, 2 }, { 0x2, 3 }, { 0x3, 4 },
        { 0x8, 5 }, { 0x9, 6 }, { 0xa, 7 }, { 0xb, 0 },
    };

    reset_all();
    sw_enable(3);
    wr(3, LVTT, 0x3a);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        int64_t t0, fire = (int64_t)11 << cases[i].shift;

        wr(3, TDCR, cases[i].dcr | 0xf4);      /* reserved bits ignored */
        g_assert_cmphex(rd(3, TDCR), ==, cases[i].dcr);
        t0 = now();
        wr(3, TMICT, 10);
        advance_to(t0 + (3 << cases[i].shift));
        g_assert_cmpuint(rd(3, TMCCT), ==, 7);
        advance_to(t0 + fire - 1);
        g_assert_false(in_irr(3, 0x3a));
        advance_to(t0 + fire);
        g_assert_true(in_irr(3, 0x3a));
        ack(3);
    }
}

static void test_timer_tsc_deadline(void)
{
    uint64_t tsc, v;
    int64_t t0;

    reset_all();
    sw_enable(0);
    /* not in TSC-deadline mode: the MSR reads 0 and ignores writes */
    g_assert_true(apic_msr_write(lapic[0], MSR_IA32_TSC_DEADLINE, 12345));
    g_assert_true(apic_msr_read(lapic[0], MSR_IA32_TSC_DEADLINE, &v));
    g_assert_cmphex(v, ==, 0);
    /* the TSC: 1 GHz by default, 0 at reset, writable */
    t0 = now();
    g_assert_cmpuint(cpu_get_tsc(cpu[0]), ==, 0);
    advance_to(t0 + 777);
    g_assert_cmpuint(cpu_get_tsc(cpu[0]), ==, 777);
    cpu_set_tsc(cpu[0], 1000000);
    g_assert_cmpuint(cpu_get_tsc(cpu[0]), ==, 1000000);

    wr(0, LVTT, 0x40000 | 0x48);
    /* the initial count is ignored in TSC-deadline mode */
    wr(0, TMICT, 5);
    g_assert_cmpuint(rd(0, TMICT), ==, 0);
    g_assert_cmpuint(rd(0, TMCCT), ==, 0);
    t0 = now();
    tsc = cpu_get_tsc(cpu[0]);
    g_assert_true(apic_msr_write(lapic[0], MSR_IA32_TSC_DEADLINE, tsc + 5000));
    g_assert_true(apic_msr_read(lapic[0], MSR_IA32_TSC_DEADLINE, &v));
    g_assert_cmphex(v, ==, tsc + 5000);
    advance_to(t0 + 4999);
    g_assert_false(in_irr(0, 0x48));
    advance_to(t0 + 5000);
    g_assert_true(in_irr(0, 0x48));
    g_assert_cmpuint(cpu_get_tsc(cpu[0]), ==, tsc + 5000);
    /* it fired once, and the MSR reads 0 */
    g_assert_true(apic_msr_read(lapic[0], MSR_IA32_TSC_DEADLINE, &v));
    g_assert_cmphex(v, ==, 0);
    ack(0);
    advance_to(now() + 100000);
    g_assert_false(in_irr(0, 0x48));
    /* writing 0 disarms */
    t0 = now();
    apic_msr_write(lapic[0], MSR_IA32_TSC_DEADLINE, cpu_get_tsc(cpu[0]) + 100);
    apic_msr_write(lapic[0], MSR_IA32_TSC_DEADLINE, 0);
    advance_to(t0 + 1000);
    g_assert_false(in_irr(0, 0x48));
    /* a deadline in the past fires at once */
    apic_msr_write(lapic[0], MSR_IA32_TSC_DEADLINE, 1);
    advance_to(now());
    g_assert_true(in_irr(0, 0x48));
    ack(0);
    /* leaving TSC-deadline mode disarms */
    t0 = now();
    apic_msr_write(lapic[0], MSR_IA32_TSC_DEADLINE, cpu_get_tsc(cpu[0]) + 100);
    wr(0, LVTT, 0x48);
    g_assert_true(apic_msr_read(lapic[0], MSR_IA32_TSC_DEADLINE, &v));
    g_assert_cmphex(v, ==, 0);
    advance_to(t0 + 1000);
    g_assert_false(in_irr(0, 0x48));
    /* and entering it stops a one-shot count */
    wr(0, TMICT, 100);
    wr(0, LVTT, 0x40048);
    advance_to(now() + 1000);
    g_assert_false(in_irr(0, 0x48));
    g_assert_cmpuint(rd(0, TMICT), ==, 0);
}

static void test_tsc_frequency(void)
{
    g_autoptr(GError) err = NULL;
    CPUState *c = g_new0(CPUState, 1);
    DeviceState *dev;
    uint64_t tsc;
    int64_t t0;

    c->index = NCPU;
    c->apic_id = 9;
    g_ptr_array_add(cpus, c);
    dev = qdev_new(TYPE_APIC, &err);
    g_assert_nonnull(dev);
    g_assert_true(qdev_prop_set_uint(dev, "cpu-index", NCPU, &err));
    g_assert_true(qdev_prop_parse(dev, "tsc-frequency", "2500000000", &err));
    g_assert_true(qdev_realize(dev, NULL, &err));
    t0 = now();
    advance_to(t0 + 1000);
    g_assert_cmpuint(cpu_get_tsc(c), ==, 2500);
    apic_mmio_write(dev, SVR, 0x1ff, 4);
    apic_mmio_write(dev, LVTT, 0x40000 | 0x49, 4);
    tsc = cpu_get_tsc(c);
    t0 = now();
    /* 1001 cycles at 2.5 GHz: 400.4 ns, so it fires at 401 */
    apic_msr_write(dev, MSR_IA32_TSC_DEADLINE, tsc + 1001);
    advance_to(t0 + 400);
    g_assert_cmphex(apic_get_highest_irr(dev), ==, -1);
    advance_to(t0 + 401);
    g_assert_cmphex(apic_get_highest_irr(dev), ==, 0x49);
    qdev_free(dev);
    g_ptr_array_remove(cpus, c);
    g_free(c);
    /* a frequency of 0 is refused */
    c = g_new0(CPUState, 1);
    c->index = NCPU;
    g_ptr_array_add(cpus, c);
    dev = qdev_new(TYPE_APIC, &err);
    qdev_prop_set_uint(dev, "cpu-index", NCPU, &err);
    qdev_prop_set_uint(dev, "tsc-frequency", 0, &err);
    g_assert_false(qdev_realize(dev, NULL, &err));
    g_assert_nonnull(strstr(err->message, "tsc-frequency"));
    qdev_free(dev);
    g_ptr_array_remove(cpus, c);
    g_free(c);
}

/* Guest-reachable input never crashes or hangs: random register writes,
 * MSR accesses, APIC base values and INTAs, with the clock running. */
static void test_random_programming(void)
{
    static const unsigned sizes[] = { 1, 2, 4, 8 };
    GRand *r = g_rand_new_with_seed(0x1a41c);
    int checked = 0;

    reset_all();
    for (int n = 0; n < 20000; n++) {
        int i = g_rand_int_range(r, 0, NCPU);
        uint64_t v = (uint64_t)g_rand_int(r) << 32 | g_rand_int(r);
        uint64_t dummy;

        switch (g_rand_int_range(r, 0, 9)) {
        case 8:
            /* keep some LAPICs listening */
            if (apic_is_x2apic(lapic[i])) {
                apic_msr_write(lapic[i], 0x80f, 0x1ff);
                apic_msr_write(lapic[i], 0x808, 0);
            } else {
                wr(i, SVR, 0x1ff);
                wr(i, TPR, 0);
            }
            break;
        case 0:
        case 1:
        case 2:
            apic_mmio_write(lapic[i], g_rand_int_range(r, 0, 0x1000),
                            g_rand_boolean(r) ? (uint32_t)v : v,
                            sizes[g_rand_int_range(r, 0, 4)]);
            break;
        case 3:
            apic_mmio_read(lapic[i], g_rand_int_range(r, 0, 0x1000), 4);
            break;
        case 4:
            apic_msr_write(lapic[i], 0x800 + g_rand_int_range(r, 0, 0x100),
                           g_rand_boolean(r) ? (v & 0xffffffff) : v);
            apic_msr_read(lapic[i], 0x800 + g_rand_int_range(r, 0, 0x100), &dummy);
            break;
        case 5:
            if (!(v & 0x7000)) {
                apic_set_base(lapic[i], v & 0xfffff0d00ull);
            }
            apic_msr_write(lapic[i], MSR_IA32_TSC_DEADLINE, cpu_get_tsc(cpu[i]) + (v & 0xffff));
            break;
        case 6:
            if (hard(i)) {
                cpu_get_interrupt(cpu[i]);
            }
            break;
        default:
            send((v >> 32) & (v & 0x100000 ? 0xffffffff : 0x13), v & 1, (v >> 1) & 3,
                 (v >> 8) & 0xff, (v >> 16) & 1);
            advance_to(now() + (v & 0x3ff));
            break;
        }
        /* the invariant: HARD is set exactly when something is deliverable */
        for (int j = 0; j < NCPU; j++) {
            if (!hard(j) && apic_is_enabled(lapic[j]) && (rd(j, SVR) & 0x100)) {
                int irrv = apic_get_highest_irr(lapic[j]);
                /* nothing above the processor priority waits in IRR */
                g_assert_true(irrv < 0 || (irrv >> 4) <= (int)(rd(j, PPR) >> 4));
            }
            if (hard(j)) {
                int reads = fake_pic.reads;
                int vec = cpu_get_interrupt(cpu[j]);

                /* a real vector: from the PIC, or now in service */
                g_assert_cmpint(vec, >=, 16);
                g_assert_true(fake_pic.reads == reads + 1 ||
                              (apic_is_enabled(lapic[j]) && in_isr(j, vec)));
                checked++;
                /* the handler's EOI */
                if (apic_is_x2apic(lapic[j])) {
                    apic_msr_write(lapic[j], 0x80b, 0);
                } else {
                    wr(j, EOI, 0);
                }
            }
        }
    }
    g_rand_free(r);
    g_assert_cmpint(checked, >, 300);
    reset_all();
}

/* ---- the system-memory page, migration, dump --------------------------------- */

static void test_global_page(void)
{
    uint64_t v;

    reset_all();
    current_cpu = cpu[2];
    g_assert_cmpint(address_space_ld(&address_space_memory, 0xfee00020, &v, 4), ==, MEMTX_OK);
    g_assert_cmphex(v, ==, 2u << 24);
    address_space_st(&address_space_memory, 0xfee00080, 0x30, 4);
    g_assert_cmphex(rd(2, TPR), ==, 0x30);
    current_cpu = cpu[3];
    address_space_ld(&address_space_memory, 0xfee00020, &v, 4);
    g_assert_cmphex(v, ==, 0x11u << 24);
    /* no CPU: a device's write there is an MSI (destination 0, vector 0x62) */
    current_cpu = NULL;
    address_space_st(&address_space_memory, 0xfee00000, 0x62, 4);
    g_assert_cmphex(who_has(0x62), ==, 0x1);
    current_cpu = NULL;
}

static void test_vmstate(void)
{
    const VMStateDescription *vmsd = lapic[1]->klass->vmsd;
    g_autoptr(GByteArray) buf = g_byte_array_new();
    g_autoptr(GError) err = NULL;
    size_t pos = 0;
    int64_t t0;

    reset_all();
    sw_enable(1);
    wr(1, TPR, 0x20);
    wr(1, LDR, 0x42000000);
    send(1, false, APIC_DM_FIXED, 0x40, true);
    send(1, false, APIC_DM_FIXED, 0x81, false);
    g_assert_cmpint(cpu_get_interrupt(cpu[1]), ==, 0x81);
    wr(1, TDCR, 0xb);
    wr(1, LVTT, 0x20033);
    t0 = now();
    wr(1, TMICT, 1000);
    advance_to(t0 + 300);
    g_assert_true(vmstate_save(vmsd, lapic[1], buf, &err));
    /* (a one-shot saved after its count reached 0 but before it fired is
     * checked below with lapic[2]) */

    qdev_reset(lapic[1]);
    g_assert_cmphex(rd(1, TPR), ==, 0);
    g_assert_true(vmstate_load(vmsd, lapic[1], buf->data, buf->len, &pos, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(pos, ==, buf->len);
    g_assert_cmphex(rd(1, TPR), ==, 0x20);
    g_assert_cmphex(rd(1, LDR), ==, 0x42000000);
    g_assert_cmphex(rd(1, SVR), ==, 0x1ff);
    g_assert_true(in_irr(1, 0x40));
    g_assert_true(in_tmr(1, 0x40));
    g_assert_true(in_isr(1, 0x81));
    g_assert_cmpuint(rd(1, TMCCT), ==, 700);
    /* the timer runs on: the 0x40 below the in-service 0x81 stays pending */
    g_assert_false(hard(1));
    advance_to(t0 + 1001);
    g_assert_true(in_irr(1, 0x33));
    wr(1, EOI, 0);
    g_assert_true(hard(1));

    /* a one-shot whose count reads 0 but whose interrupt is one tick away */
    g_byte_array_set_size(buf, 0);
    pos = 0;
    sw_enable(2);
    wr(2, TDCR, 0xa);                   /* divide by 128 */
    wr(2, LVTT, 0x34);
    t0 = now();
    wr(2, TMICT, 2);
    advance_to(t0 + 2 * 128 + 5);
    g_assert_cmpuint(rd(2, TMCCT), ==, 0);
    g_assert_true(vmstate_save(vmsd, lapic[2], buf, &err));
    qdev_reset(lapic[2]);
    g_assert_true(vmstate_load(vmsd, lapic[2], buf->data, buf->len, &pos, &err));
    g_assert_false(in_irr(2, 0x34));
    advance_to(t0 + 3 * 128);
    g_assert_true(in_irr(2, 0x34));
}

static void test_dump(void)
{
    g_autoptr(GString) out = g_string_new("");

    reset_all();
    send(2, false, APIC_DM_FIXED, 0x42, false);
    apic_dump(lapic[2], out);
    g_assert_nonnull(strstr(out->str, "LAPIC id 0x2"));
    g_assert_nonnull(strstr(out->str, "IRR\t 66"));
    g_assert_nonnull(strstr(out->str, "LVT0\t0x00010000"));
}

int main(int argc, char **argv)
{
    g_autoptr(GError) err = NULL;

    g_test_init(&argc, &argv, NULL);
    memory_init_system();
    qemu_clock_virtual_set_manual(true);
    cpus = g_ptr_array_new();
    for (int i = 0; i < NCPU; i++) {
        cpu[i] = g_new0(CPUState, 1);
        cpu[i]->index = i;
        cpu[i]->apic_id = apic_ids[i];
        g_ptr_array_add(cpus, cpu[i]);
    }
    for (int i = 0; i < NCPU; i++) {
        lapic[i] = apic_create(cpu[i], true, &err);
        g_assert_no_error(err);
    }
    apic_bus_init();
    x86_irq_set_pic(&fake_pic, fake_pic_read_irq);
    eois = g_array_new(FALSE, FALSE, sizeof(int));
    apic_bus_add_eoi_listener(eoi_listener, NULL);

    g_test_add_func("/apic/reset-values", test_reset_values);
    g_test_add_func("/apic/id-ldr-dfr", test_id_ldr_dfr);
    g_test_add_func("/apic/tpr-ppr", test_tpr_ppr);
    g_test_add_func("/apic/irr-isr-eoi-order", test_irr_isr_eoi_order);
    g_test_add_func("/apic/tpr-masking", test_tpr_masking);
    g_test_add_func("/apic/spurious-when-disabled", test_spurious_when_disabled);
    g_test_add_func("/apic/eoi-broadcast", test_eoi_broadcast);
    g_test_add_func("/apic/eoi-unlocked", test_eoi_unlocked);
    g_test_add_func("/apic/dest/physical-broadcast", test_physical_and_broadcast);
    g_test_add_func("/apic/dest/logical-flat-lowpri", test_logical_flat);
    g_test_add_func("/apic/dest/logical-cluster", test_logical_cluster);
    g_test_add_func("/apic/dest/x2apic", test_x2apic_destinations);
    g_test_add_func("/apic/ipi/shorthands", test_ipi_shorthands);
    g_test_add_func("/apic/ipi/init-sipi-nmi-smi", test_init_sipi_nmi_smi);
    g_test_add_func("/apic/x2apic-msrs", test_x2apic_msrs);
    g_test_add_func("/apic/apic-base", test_apic_base);
    g_test_add_func("/apic/x2apic-unsupported", test_x2apic_unsupported);
    g_test_add_func("/apic/esr", test_esr);
    g_test_add_func("/apic/extint", test_extint);
    g_test_add_func("/apic/lint0-fixed", test_lint0_fixed);
    g_test_add_func("/apic/timer/oneshot", test_timer_oneshot);
    g_test_add_func("/apic/timer/periodic", test_timer_periodic);
    g_test_add_func("/apic/timer/divide", test_timer_divide);
    g_test_add_func("/apic/timer/tsc-deadline", test_timer_tsc_deadline);
    g_test_add_func("/apic/timer/tsc-frequency", test_tsc_frequency);
    g_test_add_func("/apic/random-programming", test_random_programming);
    g_test_add_func("/apic/global-page", test_global_page);
    g_test_add_func("/apic/vmstate", test_vmstate);
    g_test_add_func("/apic/dump", test_dump);
    return g_test_run();
}

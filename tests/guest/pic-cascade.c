/* pic-cascade: the 8259 pair behind the LAPIC in virtual-wire mode (LINT0
 * ExtINT), then with the LAPIC disabled.  ICW1-4 remap the chips to 0x50 /
 * 0x58 (so a vector proves the remap); interrupts come from pc-testdev's
 * IRQ-line ports (0x2000 + n) and the RTC's periodic interrupt (IRQ 8).
 * Checks: IRR/ISR through OCW3 (in and out of the handler), OCW1 masking,
 * a slave interrupt through the cascade (both ISRs), EOI of both chips and
 * what a missing master EOI blocks, the ELCR (0x4d0/0x4d1: hardwired bits,
 * level mode re-delivering while the line is high, IRR following the line),
 * an IRQ 7 handler that tells spurious from real, LINT0 masking. */
#include "lib.h"

TEST("pic-cascade");

#define M_CMD 0x20
#define M_DATA 0x21
#define S_CMD 0xa0
#define S_DATA 0xa1
#define ELCR1 0x4d0
#define ELCR2 0x4d1
#define MBASE 0x50
#define SBASE 0x58

static volatile uint32_t count[16], spurious[16];
static volatile uint16_t isr_seen[16];
static volatile uint32_t slave_eoi_only;    /* IRQ >= 8: skip the master EOI */
static volatile uint32_t lower_at[16];      /* lower the line when count reaches this */

static void pic_irq(struct irq_frame *f)
{
    int irq = (int)f->vector - MBASE;
    uint16_t isr = pic_get_isr();
    if ((irq == 7 || irq == 15) && !(isr & (1u << irq))) {
        spurious[irq]++;                    /* spurious: no EOI (slave's: master only) */
        if (irq == 15)
            outb(M_CMD, 0x20);
        return;
    }
    isr_seen[irq] = isr;
    count[irq]++;
    if (irq == 8) {                         /* RTC: reading C acknowledges */
        outb(0x70, 0x0c);
        (void)inb(0x71);
    }
    if (lower_at[irq] && count[irq] >= lower_at[irq])
        testdev_set_irq(irq, 0);
    if (irq >= 8)
        outb(S_CMD, 0x20);
    if (irq < 8 || !slave_eoi_only)
        outb(M_CMD, 0x20);
}

static void pic_remap(void)
{
    outb(M_CMD, 0x11); io_delay();          /* ICW1: edge, cascade, ICW4 follows */
    outb(S_CMD, 0x11); io_delay();
    outb(M_DATA, MBASE); io_delay();        /* ICW2: vector base */
    outb(S_DATA, SBASE); io_delay();
    outb(M_DATA, 0x04); io_delay();         /* ICW3: slave on IR2 */
    outb(S_DATA, 0x02); io_delay();         /*       slave id 2 */
    outb(M_DATA, 0x01); io_delay();         /* ICW4: 8086 mode, normal EOI */
    outb(S_DATA, 0x01); io_delay();
    outb(M_DATA, 0xff);                     /* OCW1: all masked */
    outb(S_DATA, 0xff);
}

static void settle(int irq, uint32_t want, const char *what)
{
    wait_count(&count[irq], want, 500);
    mdelay(20);
    CHECK(count[irq] == want, "%s: IRQ %d taken %u time(s), expected %u (IRR 0x%04x ISR 0x%04x IMR 0x%02x%02x)",
          what, irq, count[irq], want, pic_get_irr(), pic_get_isr(), inb(S_DATA), inb(M_DATA));
    printf("%-60s ok\n", what);
}

static void check_idle(const char *what)
{
    uint16_t isr = pic_get_isr();
    CHECK(isr == 0, "%s: ISR 0x%04x, expected 0", what, isr);
}

void test_main(void)
{
    lapic_enable();
    lapic_write(LAPIC_LVT_LINT0, 0x700);            /* ExtINT, unmasked: virtual wire */
    pic_remap();
    CHECK(inb(M_DATA) == 0xff && inb(S_DATA) == 0xff, "IMR reads 0x%02x/0x%02x after masking all",
          inb(M_DATA), inb(S_DATA));
    for (int v = 0; v < 16; v++)
        irq_set_handler(MBASE + v, pic_irq);
    uint8_t elcr1 = inb(ELCR1), elcr2 = inb(ELCR2);
    printf("ELCR at start: 0x%02x 0x%02x\n", elcr1, elcr2);
    /* all our lines edge for now */
    outb(ELCR1, elcr1 & ~(1u << 3 | 1u << 7));
    outb(ELCR2, elcr2 & ~(1u << 2 | 1u << 3));
    for (int l = 0; l < 16; l++)
        if (l == 3 || l == 7 || l == 10 || l == 11)
            testdev_set_irq(l, 0);
    check_idle("after init");
    sti();

    /* master, edge: vector MBASE + 3, ISR bit 3 in the handler */
    pic_unmask(3);
    testdev_set_irq(3, 1);
    settle(3, 1, "IRQ 3 (master) -> vector 0x53");
    testdev_set_irq(3, 0);
    CHECK(isr_seen[3] == 0x0008, "ISR in the IRQ 3 handler 0x%04x, expected 0x0008", isr_seen[3]);
    check_idle("after EOI of IRQ 3");

    /* OCW1 masking: IRR latches, delivery waits for the unmask */
    pic_mask(3);
    testdev_set_irq(3, 1);
    settle(3, 1, "IRQ 3 masked: not delivered");
    CHECK(pic_get_irr() & 0x0008, "IRR 0x%04x: bit 3 not set for a masked, raised line", pic_get_irr());
    pic_unmask(3);
    settle(3, 2, "IRQ 3 unmasked: delivered");
    testdev_set_irq(3, 0);
    CHECK(!(pic_get_irr() & 0x0008), "IRR 0x%04x: bit 3 still set after delivery", pic_get_irr());

    /* slave through the cascade: both ISRs in the handler */
    pic_unmask(10);
    testdev_set_irq(10, 1);
    settle(10, 1, "IRQ 10 (slave, via IR2) -> vector 0x5a");
    testdev_set_irq(10, 0);
    CHECK(isr_seen[10] == 0x0404, "ISR in the IRQ 10 handler 0x%04x, expected 0x0404 (slave IR2 + master IR2)",
          isr_seen[10]);
    check_idle("after EOI of both chips");

    /* slave EOI only: master IR2 stays in service and blocks IR2..7 */
    slave_eoi_only = 1;
    testdev_set_irq(10, 1);
    settle(10, 2, "IRQ 10 again, handler EOIs the slave only");
    testdev_set_irq(10, 0);
    slave_eoi_only = 0;
    CHECK(pic_get_isr() == 0x0004, "ISR 0x%04x after the slave-only EOI, expected 0x0004", pic_get_isr());
    pic_unmask(11);
    testdev_set_irq(11, 1);
    testdev_set_irq(3, 1);
    settle(11, 0, "IRQ 11 blocked by master IR2 in service");
    settle(3, 2, "IRQ 3 blocked by master IR2 in service");
    CHECK((pic_get_irr() & 0x0808) == 0x0808, "IRR 0x%04x: IRQ 3 and 11 should be pending", pic_get_irr());
    outb(M_CMD, 0x20);                              /* the missing master EOI */
    settle(11, 1, "master EOI: IRQ 11 delivered");
    settle(3, 3, "master EOI: IRQ 3 delivered");
    testdev_set_irq(11, 0);
    testdev_set_irq(3, 0);
    check_idle("after both");

    /* RTC periodic interrupt on IRQ 8 (slave), 64 Hz */
    outb(0x70, 0x0a); outb(0x71, 0x2a);
    outb(0x70, 0x0b); uint8_t b = inb(0x71);
    outb(0x70, 0x0c); inb(0x71);
    pic_unmask(8);
    outb(0x70, 0x0b); outb(0x71, b | 0x40);
    CHECK(wait_count(&count[8], 3, 2000), "RTC periodic: %u of 3 IRQ 8 within 2 s", count[8]);
    outb(0x70, 0x0b); outb(0x71, b & ~0x40);
    pic_mask(8);
    outb(0x70, 0x0c); inb(0x71);
    CHECK(isr_seen[8] == 0x0104, "ISR in the IRQ 8 handler 0x%04x, expected 0x0104", isr_seen[8]);
    printf("%-60s ok\n", "RTC periodic interrupt through the cascade (IRQ 8)");
    mdelay(20);
    check_idle("after RTC");

    /* ELCR: IRQ 0, 1, 2, 8, 13 are edge only */
    cli();
    outb(ELCR1, 0xff); outb(ELCR2, 0xff);
    uint8_t e1 = inb(ELCR1), e2 = inb(ELCR2);
    printf("ELCR after writing 0xff: 0x%02x 0x%02x\n", e1, e2);
    CHECK((e1 & 0x07) == 0 && (e2 & 0x21) == 0, "ELCR 0x%02x 0x%02x: IRQ 0/1/2/8/13 must stay edge", e1, e2);
    CHECK(e1 == 0xf8 && e2 == 0xde, "ELCR 0x%02x 0x%02x: the other bits are writable", e1, e2);
    outb(ELCR1, elcr1 & ~(1u << 3 | 1u << 7));
    outb(ELCR2, (elcr2 & ~(1u << 3)) | (1u << 2));  /* IRQ 10 level */
    CHECK(inb(ELCR2) & 0x04, "ELCR2 0x%02x: IRQ 10 level bit did not stick", inb(ELCR2));
    sti();

    /* level: IRR follows the line while masked */
    pic_mask(10);
    testdev_set_irq(10, 1);
    CHECK(pic_get_irr() & 0x0400, "level IRQ 10 high: IRR 0x%04x", pic_get_irr());
    testdev_set_irq(10, 0);
    CHECK(!(pic_get_irr() & 0x0400), "level IRQ 10 lowered: IRR 0x%04x still has it", pic_get_irr());
    /* re-delivered after each EOI while high; the handler lowers it on the 3rd */
    lower_at[10] = count[10] + 3;
    pic_unmask(10);
    testdev_set_irq(10, 1);
    settle(10, lower_at[10], "level IRQ 10: re-delivered until the line is lowered (3x)");
    lower_at[10] = 0;
    check_idle("after level IRQ 10");

    /* IRQ 7: the handler counts only interrupts with ISR bit 7 set */
    pic_unmask(7);
    testdev_set_irq(7, 1);
    settle(7, 1, "IRQ 7 (real: ISR bit 7 set) counted once");
    testdev_set_irq(7, 0);
    printf("spurious IRQ 7: %u, IRQ 15: %u (not counted)\n", spurious[7], spurious[15]);

    /* LINT0 masked: the 8259's request goes nowhere */
    lapic_write(LAPIC_LVT_LINT0, 0x700 | LVT_MASKED);
    testdev_set_irq(3, 1);
    settle(3, 3, "LAPIC LINT0 masked: IRQ 3 not delivered");
    CHECK(pic_get_irr() & 0x0008, "IRR 0x%04x: IRQ 3 should be pending", pic_get_irr());
    lapic_write(LAPIC_LVT_LINT0, 0x700);
    /* re-raise the 8259 output (mask/unmask) so that KVM, which does not
     * re-examine a pending ExtINT on a LINT0 write, sees it */
    pic_mask(3);
    pic_unmask(3);
    settle(3, 4, "LINT0 unmasked: IRQ 3 delivered");
    testdev_set_irq(3, 0);
    lapic_write(LAPIC_ESR, 0);
    CHECK(lapic_read(LAPIC_ESR) == 0, "LAPIC ESR 0x%x", lapic_read(LAPIC_ESR));

    /* LAPIC globally disabled: the 8259 drives INTR directly */
    cli();
    wrmsr(MSR_IA32_APIC_BASE, rdmsr(MSR_IA32_APIC_BASE) & ~(1ull << 11));
    sti();
    testdev_set_irq(3, 1);
    settle(3, 5, "LAPIC disabled (IA32_APIC_BASE.EN=0): IRQ 3 delivered");
    lower_at[10] = count[10] + 1;          /* before raising: else a level storm */
    testdev_set_irq(10, 1);
    settle(10, lower_at[10], "LAPIC disabled: level IRQ 10 through the cascade");
    testdev_set_irq(3, 0);
    cli();
    check_idle("at the end");
    outb(ELCR1, elcr1);
    outb(ELCR2, elcr2);
    pass();
}

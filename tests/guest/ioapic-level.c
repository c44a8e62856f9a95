/* ioapic-level: level-triggered IOAPIC interrupts and their EOI, driven by
 * pc-testdev's IRQ-line ports (a byte write to 0x2000 + n sets ISA IRQ n's
 * level).  Checks: Remote IRR set on delivery and held until the LAPIC EOI
 * (no re-delivery meanwhile), re-delivery after EOI while the line stays
 * high, none once it is low; masking/unmasking an asserted line; the LAPIC
 * TMR bit for level vs edge; an edge entry for contrast (one interrupt per
 * rising edge); the version-0x20 EOI register when the IOAPIC has one. */
#include "lib.h"

TEST("ioapic-level");

#define LINE 11         /* an ISA IRQ no device of a -nodefaults pc drives */
#define VEC 0x51

static volatile uint32_t count;
static volatile uint32_t defer_eoi;     /* leave the EOI to the test body */
static volatile uint32_t tmr_in_handler, isr_in_handler;
static uintptr_t io;
static int pin;

static void irq(struct irq_frame *f)
{
    tmr_in_handler = lapic_vec_bit(LAPIC_TMR0, VEC);
    isr_in_handler = lapic_vec_bit(LAPIC_ISR0, VEC);
    count++;
    if (!defer_eoi)
        lapic_eoi();
}

static bool remote_irr(void) { return (ioapic_get_redir(io, pin) >> 14) & 1; }

/* let anything in flight arrive, then compare the count */
static void settle_expect(uint32_t want, const char *what)
{
    wait_count(&count, want, 500);
    mdelay(20);
    CHECK(count == want, "%s: %u interrupt(s), expected %u (entry 0x%llx)", what, count, want,
          (unsigned long long)ioapic_get_redir(io, pin));
    printf("%-58s ok (%u)\n", what, count);
}

void test_main(void)
{
    struct platform_info pi;
    CHECK(platform_discover(&pi), "no ACPI MADT and no MP table found");
    CHECK(pi.nioapic >= 1, "no IOAPIC described");
    pic_init();                     /* 8259 masked: only the IOAPIC path */
    lapic_enable();
    lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
    io = pi.ioapic_addr;
    uint32_t ver = ioapic_read(io, 1) & 0xff;
    uint32_t gsi = isa_irq_to_gsi(&pi, LINE, NULL);
    pin = (int)(gsi - pi.ioapic_gsi_base);
    CHECK(pin >= 0 && pin <= ioapic_max_redir(io), "ISA IRQ %d -> GSI %u: not on the first IOAPIC", LINE, gsi);
    printf("IOAPIC at 0x%08lx version 0x%02x; ISA IRQ %d -> pin %d\n", (unsigned long)io, ver, LINE, pin);
    ioapic_mask_all(io);
    irq_set_handler(VEC, irq);
    testdev_set_irq(LINE, 0);

    uint64_t dest = (uint64_t)lapic_id() << 56;
    uint64_t level = dest | VEC | (1u << 15);      /* fixed, physical, active high, level */
    uint64_t edge = dest | VEC;
    sti();

    /* 1. asserted while masked: nothing; unmasking delivers */
    ioapic_set_redir(io, pin, level | LVT_MASKED);
    testdev_set_irq(LINE, 1);
    settle_expect(0, "level line high, entry masked");
    CHECK(!remote_irr(), "Remote IRR set on a masked entry");
    defer_eoi = 1;
    ioapic_set_redir(io, pin, level);
    settle_expect(1, "unmasked with the line high: delivered");
    CHECK(remote_irr(), "Remote IRR clear after a level interrupt was delivered (entry 0x%llx)",
          (unsigned long long)ioapic_get_redir(io, pin));
    CHECK(tmr_in_handler, "LAPIC TMR bit clear for a level-triggered vector");
    CHECK(isr_in_handler, "LAPIC ISR bit clear in the handler");

    /* 2. no EOI yet: Remote IRR holds further deliveries back */
    settle_expect(1, "line still high, no EOI: no re-delivery");
    CHECK(remote_irr(), "Remote IRR cleared without an EOI");

    /* 3. EOI with the line high: delivered again */
    lapic_eoi();
    settle_expect(2, "EOI with the line still high: re-delivered");
    CHECK(remote_irr(), "Remote IRR clear after the re-delivery");

    /* 4. lower the line, then EOI: Remote IRR clears and nothing follows */
    testdev_set_irq(LINE, 0);
    settle_expect(2, "line lowered before EOI");
    lapic_eoi();
    settle_expect(2, "EOI with the line low: no re-delivery");
    CHECK(!remote_irr(), "Remote IRR still set after EOI");
    CHECK(!lapic_vec_bit(LAPIC_ISR0, VEC), "LAPIC ISR bit still set after EOI");

    /* 5. the usual driver pattern: handler lowers the line, then EOIs */
    for (int i = 0; i < 3; i++) {
        defer_eoi = 1;
        testdev_set_irq(LINE, 1);
        settle_expect(3 + i, "raise -> one interrupt");
        testdev_set_irq(LINE, 0);
        lapic_eoi();
    }
    settle_expect(5, "three raise/lower/EOI rounds: three interrupts");

    /* 6. masking an asserted, in-service level line */
    testdev_set_irq(LINE, 1);
    settle_expect(6, "raised again");
    ioapic_set_redir(io, pin, level | LVT_MASKED);
    lapic_eoi();
    settle_expect(6, "masked, then EOI with the line high: nothing");
    CHECK(!remote_irr(), "Remote IRR still set after EOI (masked entry)");
    ioapic_set_redir(io, pin, level);
    settle_expect(7, "unmasked again with the line high: delivered");
    testdev_set_irq(LINE, 0);
    lapic_eoi();
    settle_expect(7, "lowered + EOI");

    /* 7. the IOAPIC's own EOI register (version >= 0x20) */
    if (ver >= 0x20) {
        testdev_set_irq(LINE, 1);
        settle_expect(8, "version 0x20 EOI register: raised");
        CHECK(remote_irr(), "Remote IRR clear after delivery");
        testdev_set_irq(LINE, 0);
        mmio_write32(io + 0x40, VEC);
        CHECK(!remote_irr(), "write of vector 0x%x to the IOAPIC EOI register left Remote IRR set", VEC);
        lapic_eoi();
        settle_expect(8, "IOAPIC EOI register cleared Remote IRR");
    } else {
        printf("IOAPIC version 0x%02x: no EOI register, skipped\n", ver);
        count++;                    /* keep the numbering below */
    }

    /* 8. edge for contrast: one interrupt per rising edge, none on EOI */
    defer_eoi = 0;
    ioapic_set_redir(io, pin, edge);
    testdev_set_irq(LINE, 1);
    settle_expect(9, "edge: rising edge delivers once");
    CHECK(!tmr_in_handler, "LAPIC TMR bit set for an edge-triggered vector");
    settle_expect(9, "edge: line held high, after EOI: nothing more");
    testdev_set_irq(LINE, 0);
    settle_expect(9, "edge: falling edge: nothing");
    testdev_set_irq(LINE, 1);
    settle_expect(10, "edge: second rising edge delivers");
    testdev_set_irq(LINE, 0);

    cli();
    ioapic_set_redir(io, pin, LVT_MASKED);
    lapic_write(LAPIC_ESR, 0);
    uint32_t esr = lapic_read(LAPIC_ESR);
    CHECK(esr == 0, "LAPIC ESR 0x%x", esr);
    pass();
}

/* x2apic: the local APIC through its MSR interface.  Needs
 * CPUID.01H:ECX[21] (FAILs with "x2APIC not advertised" otherwise).
 * Checks: IA32_APIC_BASE.EXTD, the 32-bit ID (0x802) against the xAPIC ID
 * and the MADT, version, LDR (0x80d) derived from the ID and read-only,
 * xAPIC-only registers (DFR 0x80e, ICR high 0x831) and invalid MSRs #GP,
 * self-IPI (0x83f), the 64-bit ICR (0x830), ISR/TMR through MSRs, EOI
 * (0x80b), the timer through MSRs, and that leaving x2APIC for xAPIC
 * directly is refused (#GP). */
#include "lib.h"

TEST("x2apic");

#define VEC 0x61
#define TVEC 0x62

static volatile uint32_t count, tcount, isr_ok;

static void irq(struct irq_frame *f)
{
    /* ISR bit of our vector, read through MSR 0x810 + vec/32 */
    isr_ok = (x2apic_read(LAPIC_ISR0 + (VEC / 32) * 0x10) >> (VEC % 32)) & 1;
    count++;
    x2apic_write(LAPIC_EOI, 0);
}

static void timer_irq(struct irq_frame *f)
{
    tcount++;
    x2apic_write(LAPIC_EOI, 0);
}

static void expect_gp_read(uint32_t msr, const char *what)
{
    uint64_t v;
    CHECK(!rdmsr_safe(msr, &v), "RDMSR 0x%x (%s) in x2APIC mode did not #GP (read 0x%llx)", msr, what,
          (unsigned long long)v);
}

void test_main(void)
{
    if (!cpuid1_ecx(21))
        fail("x2APIC not advertised (CPUID.01H:ECX[21] clear)");
    struct platform_info pi;
    CHECK(platform_discover(&pi), "no ACPI MADT and no MP table found");
    pic_init();
    lapic_enable();
    lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
    uint32_t xid = lapic_id(), xver = lapic_read(LAPIC_VER);
    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    CHECK(b >> 24 == xid, "CPUID.01H:EBX[31:24] %u != xAPIC ID %u", b >> 24, xid);
    bool in_madt = false;
    for (int i = 0; i < pi.ncpus; i++)
        if (pi.cpu_apic_id[i] == xid) in_madt = true;
    CHECK(in_madt, "xAPIC ID %u not in the MADT", xid);

    CHECK(x2apic_enable(), "x2APIC not advertised");
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
    CHECK((base & (3u << 10)) == (3u << 10), "IA32_APIC_BASE 0x%llx: EN|EXTD not both set", (unsigned long long)base);
    uint32_t id = (uint32_t)x2apic_read(LAPIC_ID);
    uint32_t ver = (uint32_t)x2apic_read(LAPIC_VER);
    printf("x2APIC on: IA32_APIC_BASE 0x%llx, ID %u (xAPIC %u), version 0x%08x (xAPIC 0x%08x)\n",
           (unsigned long long)base, id, xid, ver, xver);
    CHECK(id == xid, "x2APIC ID (MSR 0x802) %u != xAPIC ID %u", id, xid);
    CHECK(ver == xver, "version via MSR 0x%08x != via MMIO 0x%08x", ver, xver);
    cpuid(0, 0, &a, &b, &c, &d);
    uint32_t maxleaf = a;
    cpuid(0xb, 0, &a, &b, &c, &d);
    if (maxleaf >= 0xb && (a | b))                   /* leaf 0xB present: EDX is the x2APIC ID */
        CHECK(d == id, "CPUID.0BH:EDX %u != x2APIC ID %u", d, id);

    /* LDR: cluster (ID[19:4]) << 16 | 1 << ID[3:0], read-only */
    uint32_t ldr = (uint32_t)x2apic_read(LAPIC_LDR);
    uint32_t want = ((id >> 4) << 16) | (1u << (id & 0xf));
    CHECK(ldr == want, "LDR (MSR 0x80d) 0x%08x, expected 0x%08x for ID %u", ldr, want, id);
    CHECK(!wrmsr_safe(X2APIC_MSR(LAPIC_LDR), 0x12345678), "WRMSR to the LDR (read-only) did not #GP");
    CHECK(x2apic_read(LAPIC_LDR) == ldr, "LDR changed by a faulting write");
    printf("LDR 0x%08x ok (read-only)\n", ldr);

    /* registers xAPIC has and x2APIC does not */
    expect_gp_read(X2APIC_MSR(LAPIC_DFR), "DFR");
    expect_gp_read(X2APIC_MSR(LAPIC_ICR_HI), "ICR high");
    expect_gp_read(0x801, "reserved");
    expect_gp_read(X2APIC_SELF_IPI, "SELF IPI is write-only");
    printf("DFR, ICR high, 0x801 and reads of SELF IPI #GP\n");

    /* SVR / TPR / ESR through MSRs */
    x2apic_write(LAPIC_SVR, 0x1ff);
    CHECK((x2apic_read(LAPIC_SVR) & 0x1ff) == 0x1ff, "SVR reads 0x%llx", (unsigned long long)x2apic_read(LAPIC_SVR));
    x2apic_write(LAPIC_TPR, 0x20);
    CHECK(x2apic_read(LAPIC_TPR) == 0x20, "TPR reads 0x%llx after writing 0x20", (unsigned long long)x2apic_read(LAPIC_TPR));
    x2apic_write(LAPIC_TPR, 0);
    x2apic_write(LAPIC_ESR, 0);

    irq_set_handler(VEC, irq);
    irq_set_handler(TVEC, timer_irq);
    sti();

    /* self IPI register */
    x2apic_write(0x3f0, VEC);       /* X2APIC_MSR(0x3f0) == 0x83f */
    CHECK(wait_count(&count, 1, 200), "SELF IPI (MSR 0x83f) vector 0x%x not delivered", VEC);
    CHECK(isr_ok, "ISR bit (MSR 0x%x) not set in the handler", X2APIC_MSR(LAPIC_ISR0 + (VEC / 32) * 0x10));

    /* ICR as one 64-bit MSR: destination in bits 63:32 */
    x2apic_write(LAPIC_ICR_LO, ((uint64_t)id << 32) | VEC);
    CHECK(wait_count(&count, 2, 200), "ICR (MSR 0x830) fixed IPI to own ID %u not delivered", id);
    uint64_t icr = x2apic_read(LAPIC_ICR_LO);
    CHECK((icr & 0xff) == VEC && (icr >> 32) == id, "ICR reads 0x%llx", (unsigned long long)icr);
    /* self shorthand */
    x2apic_write(LAPIC_ICR_LO, ICR_SELF | VEC);
    CHECK(wait_count(&count, 3, 200), "ICR self shorthand not delivered");
    /* logical destination: our own LDR */
    x2apic_write(LAPIC_ICR_LO, ((uint64_t)ldr << 32) | ICR_LOGICAL | VEC);
    CHECK(wait_count(&count, 4, 200), "ICR logical destination 0x%08x (own LDR) not delivered", ldr);
    /* a logical destination in another cluster does not reach us */
    x2apic_write(LAPIC_ICR_LO, ((uint64_t)(ldr + 0x10000) << 32) | ICR_LOGICAL | VEC);
    mdelay(20);
    CHECK(count == 4, "logical destination in another cluster reached this CPU");
    printf("self IPI, 64-bit ICR (physical, self, logical) ok; EOI via MSR 0x80b\n");
    CHECK(!(x2apic_read(LAPIC_ISR0 + (VEC / 32) * 0x10) & (1u << (VEC % 32))), "ISR bit still set after EOI");

    /* timer through MSRs: one-shot, divide by 1 */
    x2apic_write(LAPIC_TIMER_DCR, 0xb);
    x2apic_write(LAPIC_LVT_TIMER, TVEC);
    x2apic_write(LAPIC_TIMER_ICR, 0xffffffffu);
    uint32_t c0 = (uint32_t)x2apic_read(LAPIC_TIMER_CCR);
    udelay(1000);
    uint32_t c1 = (uint32_t)x2apic_read(LAPIC_TIMER_CCR);
    CHECK(c1 < c0, "timer current count (MSR 0x839) not decreasing: %u then %u", c0, c1);
    uint32_t per_ms = c0 - c1;
    x2apic_write(LAPIC_TIMER_ICR, per_ms * 5);      /* ~5 ms */
    CHECK(wait_count(&tcount, 1, 1000), "x2APIC timer one-shot: no interrupt within 1 s");
    mdelay(30);
    CHECK(tcount == 1, "x2APIC one-shot fired %u times", tcount);
    CHECK(x2apic_read(LAPIC_TIMER_CCR) == 0, "CCR %llu after the one-shot", (unsigned long long)x2apic_read(LAPIC_TIMER_CCR));
    x2apic_write(LAPIC_LVT_TIMER, TVEC | LVT_PERIODIC);
    x2apic_write(LAPIC_TIMER_ICR, per_ms * 5);
    CHECK(wait_count(&tcount, 4, 1000), "x2APIC periodic timer: %u of 3 interrupts within 1 s", tcount - 1);
    x2apic_write(LAPIC_LVT_TIMER, TVEC | LVT_MASKED);
    x2apic_write(LAPIC_TIMER_ICR, 0);
    printf("timer via MSRs 0x832/0x838/0x839/0x83e: ~%u counts/ms, one-shot once, periodic ok\n", per_ms);
    cli();

    x2apic_write(LAPIC_ESR, 0);
    CHECK(x2apic_read(LAPIC_ESR) == 0, "ESR 0x%llx", (unsigned long long)x2apic_read(LAPIC_ESR));

    /* x2APIC -> xAPIC directly is an invalid transition */
    base = rdmsr(MSR_IA32_APIC_BASE);
    CHECK(!wrmsr_safe(MSR_IA32_APIC_BASE, base & ~(1ull << 10)), "x2APIC -> xAPIC (EXTD=0, EN=1) did not #GP");
    CHECK(rdmsr(MSR_IA32_APIC_BASE) == base, "IA32_APIC_BASE changed by a faulting write");
    printf("x2APIC -> xAPIC refused with #GP\n");
    pass();
}

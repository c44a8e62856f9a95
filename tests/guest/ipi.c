/* ipi: inter-processor interrupts through the xAPIC ICR, with -smp 3
 * (BSP + 2 APs).  Every CPU counts, per vector, the interrupts it takes, so
 * each IPI is checked for reaching exactly the CPUs it names: fixed IPIs to
 * a physical APIC ID (BSP -> AP, AP -> BSP), NMI IPIs (an NMI handler
 * counts), the shorthands self / all-including-self / all-excluding-self,
 * logical destinations in the flat model (LDR bits, DFR), and the ICR
 * delivery status clearing after every send. */
#include "lib.h"

TEST("ipi");

#define VEC 0x41        /* counted */
#define KICK 0x42       /* wakes an AP to run a command; not counted */
#define NCPU 3

static volatile uint32_t apic_of[NCPU];
static volatile uint32_t fixed_cnt[NCPU], nmi_cnt[NCPU];
static volatile uint32_t ap_ready[NCPU];
static volatile uint32_t ap_cmd[NCPU];      /* 1: send a fixed IPI to the BSP */
static volatile uint32_t ap_cmd_ok[NCPU];

static int my_idx(void)
{
    uint32_t id = lapic_id();
    for (int i = 0; i < NCPU; i++)
        if (apic_of[i] == id)
            return i;
    fail("interrupt on a CPU with unknown APIC id %u", id);
}

static void vec_irq(struct irq_frame *f) { atomic_inc(&fixed_cnt[my_idx()]); lapic_eoi(); }
static void kick_irq(struct irq_frame *f) { lapic_eoi(); }
static void nmi(struct irq_frame *f) { atomic_inc(&nmi_cnt[my_idx()]); }

static void flat_logical_setup(int idx)
{
    lapic_write(LAPIC_DFR, 0xffffffffu);
    lapic_write(LAPIC_LDR, (1u << idx) << 24);
}

static void ap_main(uint32_t idx)
{
    lapic_enable();
    flat_logical_setup((int)idx);
    ap_ready[idx] = 1;
    for (;;) {
        cli();
        if (ap_cmd[idx] == 1) {
            ap_cmd_ok[idx] = lapic_send_ipi(apic_of[0], VEC) ? 1 : 2;
            ap_cmd[idx] = 0;
        }
        __asm__ volatile("sti; hlt" ::: "memory");
    }
}

/* after an IPI: wait for the expected counts, then a little longer so that
 * an extra (wrong) delivery would be seen too */
static void expect(const char *what, const uint32_t want_fixed[NCPU], const uint32_t want_nmi[NCPU])
{
    for (int i = 0; i < NCPU; i++) {
        wait_count(&fixed_cnt[i], want_fixed[i], 500);
        wait_count(&nmi_cnt[i], want_nmi[i], 500);
    }
    mdelay(20);
    for (int i = 0; i < NCPU; i++) {
        CHECK(fixed_cnt[i] == want_fixed[i], "%s: CPU %d (APIC id %u) took %u fixed IPIs, expected %u",
              what, i, apic_of[i], fixed_cnt[i], want_fixed[i]);
        CHECK(nmi_cnt[i] == want_nmi[i], "%s: CPU %d (APIC id %u) took %u NMIs, expected %u",
              what, i, apic_of[i], nmi_cnt[i], want_nmi[i]);
    }
    printf("%-40s ok (fixed %u/%u/%u, NMI %u/%u/%u)\n", what, fixed_cnt[0], fixed_cnt[1], fixed_cnt[2],
           nmi_cnt[0], nmi_cnt[1], nmi_cnt[2]);
}

static uint32_t wf[NCPU], wn[NCPU];

static void send(const char *what, uint32_t dest, uint32_t icr)
{
    lapic_write(LAPIC_ICR_HI, dest << 24);
    lapic_write(LAPIC_ICR_LO, icr);
    uint64_t d = tsc_deadline_ms(100);
    uint32_t v;
    while ((v = lapic_read(LAPIC_ICR_LO)) & ICR_BUSY)
        CHECK(!tsc_expired(d), "%s: ICR delivery status still set after 100 ms (ICR 0x%08x)", what, v);
    CHECK((v & 0xcfff) == (icr & 0xcfff), "%s: ICR low reads 0x%08x after writing 0x%08x", what, v, icr);
}

void test_main(void)
{
    struct platform_info pi;
    CHECK(platform_discover(&pi), "no ACPI MADT and no MP table found");
    CHECK(pi.ncpus == NCPU, "%d CPUs described, this test needs exactly %d (-smp %d)", pi.ncpus, NCPU, NCPU);
    pic_init();
    lapic_enable();
    lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
    apic_of[0] = lapic_id();
    int n = 1;
    for (int i = 0; i < pi.ncpus; i++)
        if (pi.cpu_apic_id[i] != apic_of[0])
            apic_of[n++] = pi.cpu_apic_id[i];
    CHECK(n == NCPU, "BSP APIC id %u not in the MADT", apic_of[0]);
    irq_set_handler(VEC, vec_irq);
    irq_set_handler(KICK, kick_irq);
    irq_set_handler(2, nmi);
    flat_logical_setup(0);
    CHECK((lapic_read(LAPIC_DFR) >> 28) == 0xf, "DFR reads 0x%08x after writing flat model", lapic_read(LAPIC_DFR));
    CHECK(lapic_read(LAPIC_LDR) >> 24 == 1, "LDR reads 0x%08x, wrote 0x01000000", lapic_read(LAPIC_LDR));

    ap_trampoline_install(ap_main);
    for (uint32_t i = 1; i < NCPU; i++) {
        CHECK(ap_start(apic_of[i], i), "AP with APIC id %u did not start", apic_of[i]);
        CHECK(wait_flag(&ap_ready[i], 1, 1000), "AP %u did not enable its LAPIC", i);
    }
    printf("CPUs: BSP APIC id %u, APs %u and %u\n", apic_of[0], apic_of[1], apic_of[2]);
    lapic_write(LAPIC_ESR, 0);
    sti();

    /* fixed, physical destination: only the named CPU */
    /* (one at a time: a second IPI sent before the first is taken merges
     * with it in the target's IRR) */
    for (int k = 0; k < 3; k++) {
        send("fixed -> AP1", apic_of[1], VEC);
        wf[1]++;
        expect("fixed IPI to AP1 by APIC id", wf, wn);
    }
    send("fixed -> AP2", apic_of[2], VEC);
    wf[2]++;
    expect("fixed IPI to AP2 by APIC id", wf, wn);

    /* AP -> BSP */
    ap_cmd[2] = 1;
    send("kick AP2", apic_of[2], KICK);
    CHECK(wait_flag(&ap_cmd[2], 0, 500), "AP2 did not run its command");
    CHECK(ap_cmd_ok[2] == 1, "AP2: its IPI to the BSP stayed pending (delivery status)");
    wf[0]++;
    expect("fixed IPI from AP2 to the BSP", wf, wn);

    /* NMI */
    send("NMI -> AP1", apic_of[1], ICR_NMI | ICR_ASSERT);
    wn[1]++;
    expect("NMI IPI to AP1", wf, wn);

    /* shorthands (destination field ignored: point it at AP2 to catch that) */
    send("self", apic_of[2], ICR_SELF | VEC);
    wf[0]++;
    expect("shorthand self", wf, wn);
    send("all incl self", apic_of[2], ICR_ALL_INCL | VEC);
    wf[0]++, wf[1]++, wf[2]++;
    expect("shorthand all-including-self", wf, wn);
    send("all excl self", apic_of[0], ICR_ALL_EXCL | VEC);
    wf[1]++, wf[2]++;
    expect("shorthand all-excluding-self", wf, wn);
    send("NMI all excl self", 0, ICR_ALL_EXCL | ICR_NMI | ICR_ASSERT);
    wn[1]++, wn[2]++;
    expect("NMI all-excluding-self", wf, wn);

    /* logical destinations, flat model: LDR bit i on CPU i */
    send("logical 0x2", 0x02, ICR_LOGICAL | VEC);
    wf[1]++;
    expect("logical dest 0x02 (AP1)", wf, wn);
    send("logical 0x6", 0x06, ICR_LOGICAL | VEC);
    wf[1]++, wf[2]++;
    expect("logical dest 0x06 (AP1+AP2)", wf, wn);
    send("logical 0x5", 0x05, ICR_LOGICAL | VEC);
    wf[0]++, wf[2]++;
    expect("logical dest 0x05 (BSP+AP2)", wf, wn);
    send("logical 0x8", 0x08, ICR_LOGICAL | VEC);
    expect("logical dest 0x08 (nobody)", wf, wn);
    /* logical 0xff: broadcast to every CPU whose LDR has a bit in the mask */
    send("logical 0xff", 0xff, ICR_LOGICAL | VEC);
    wf[0]++, wf[1]++, wf[2]++;
    expect("logical dest 0xff (all)", wf, wn);
    /* physical 0xff is a broadcast in xAPIC mode */
    send("physical 0xff", 0xff, VEC);
    wf[0]++, wf[1]++, wf[2]++;
    expect("physical dest 0xff (broadcast)", wf, wn);

    cli();
    lapic_write(LAPIC_ESR, 0);
    uint32_t esr = lapic_read(LAPIC_ESR);
    CHECK(esr == 0, "LAPIC ESR 0x%x after the IPIs", esr);
    pass();
}

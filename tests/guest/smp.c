/* smp: start every AP listed in the MADT with INIT-SIPI-SIPI through the
 * LAPIC; the real-mode trampoline (lib/ap_boot.S, at 0x8000) brings each AP
 * to the BSP's mode (32-bit protected mode for "smp", long mode for
 * "smp64").  APs check in (counter + APIC id), contend on a spinlock, then
 * take a fixed IPI from the BSP.  Optional -append "cpus=N". */
#include "lib.h"

#ifdef __x86_64__
TEST("smp64");
#else
TEST("smp");
#endif

#define IPI_VEC 0x40
#define LOCK_ITERS 20000

static volatile uint32_t checked_in;
static volatile uint32_t ap_apic_id[MAX_CPUS];
static volatile uint32_t ap_mode_ok[MAX_CPUS];
static volatile uint32_t ipi_count[MAX_CPUS];
static volatile uint32_t ap_ready[MAX_CPUS];
static spinlock_t lock;
static volatile uint64_t shared_counter;   /* protected by lock */
static volatile uint32_t lock_done;

static void ipi_handler(struct irq_frame *f)
{
    /* which AP are we?  look up our APIC id */
    uint32_t id = lapic_id();
    for (int i = 0; i < MAX_CPUS; i++)
        if (ap_ready[i] && ap_apic_id[i] == id) {
            __atomic_add_fetch(&ipi_count[i], 1, __ATOMIC_SEQ_CST);
            break;
        }
    lapic_eoi();
}

static void ap_main(uint32_t idx)
{
    uint32_t id = lapic_id();
    ap_apic_id[idx] = id;
#ifdef __x86_64__
    ap_mode_ok[idx] = (rdmsr(0xc0000080) & 0x400) != 0;    /* EFER.LMA */
#else
    ureg cr0;
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    ap_mode_ok[idx] = (cr0 & 1) && !(cr0 & 0x80000000u);
#endif
    atomic_inc(&checked_in);
    for (int i = 0; i < LOCK_ITERS; i++) {
        spin_lock(&lock);
        shared_counter = shared_counter + 1;   /* non-atomic RMW under the lock */
        spin_unlock(&lock);
    }
    atomic_inc(&lock_done);
    lapic_enable();
    ap_ready[idx] = 1;
    for (;;) {
        sti();
        hlt();
    }
}

void test_main(void)
{
    struct platform_info pi;
    CHECK(platform_discover(&pi), "no ACPI MADT and no MP table found");
    lapic_enable();
    uint32_t bsp = lapic_id();
    printf("%s lists %d enabled CPU(s); BSP APIC id %u\n", pi.source == 1 ? "MADT" : "MP table", pi.ncpus, bsp);
    for (int i = 0; i < pi.ncpus; i++)
        printf("  cpu %d: ACPI id %u APIC id %u\n", i, pi.cpu_acpi_id[i], pi.cpu_apic_id[i]);
    uint64_t want;
    if (cmdline_u64("cpus", &want))
        CHECK((uint64_t)pi.ncpus == want, "MADT lists %d CPUs, expected %llu (-smp)", pi.ncpus, (unsigned long long)want);
    if (fw_cfg_present()) {
        uint16_t nb;
        fw_cfg_read_item(FW_CFG_NB_CPUS, &nb, 2);
        CHECK(nb == pi.ncpus, "fw_cfg NB_CPUS %u != MADT CPU count %d", nb, pi.ncpus);
    }
    CHECK(pi.ncpus >= 2, "only %d CPU: run with -smp 2 or more", pi.ncpus);
    CHECK(pi.ncpus < 16, "too many CPUs for this test (%d)", pi.ncpus);
    bool bsp_listed = false;
    for (int i = 0; i < pi.ncpus; i++)
        for (int j = i + 1; j < pi.ncpus; j++)
            CHECK(pi.cpu_apic_id[i] != pi.cpu_apic_id[j], "duplicate APIC id %u in MADT", pi.cpu_apic_id[i]);
    for (int i = 0; i < pi.ncpus; i++)
        if (pi.cpu_apic_id[i] == bsp) bsp_listed = true;
    CHECK(bsp_listed, "BSP APIC id %u not in MADT", bsp);

    irq_set_handler(IPI_VEC, ipi_handler);
    ap_trampoline_install(ap_main);
    uint32_t idx = 0;
    int apic_of_idx[MAX_CPUS];
    for (int i = 0; i < pi.ncpus; i++) {
        if (pi.cpu_apic_id[i] == bsp) continue;
        idx++;
        apic_of_idx[idx] = pi.cpu_apic_id[i];
        uint64_t t0 = rdtsc();
        if (!ap_start(pi.cpu_apic_id[i], idx))
            fail("AP with APIC id %u did not start (INIT-SIPI-SIPI, ESR=0x%x)", pi.cpu_apic_id[i], lapic_read(LAPIC_ESR));
        printf("AP %u (APIC id %u) running after %llu us\n", idx, pi.cpu_apic_id[i],
               (unsigned long long)((rdtsc() - t0) * 1000 / tsc_khz));
    }
    uint32_t naps = idx;
    CHECK(wait_flag(&checked_in, naps, 2000), "only %u of %u APs checked in", checked_in, naps);
    CHECK(wait_flag(&lock_done, naps, 10000), "only %u of %u APs finished the spinlock loop", lock_done, naps);
    CHECK(shared_counter == (uint64_t)naps * LOCK_ITERS, "spinlock counter %llu, expected %llu: lost updates",
          (unsigned long long)shared_counter, (unsigned long long)naps * LOCK_ITERS);
    for (uint32_t i = 1; i <= naps; i++) {
        CHECK(ap_apic_id[i] == (uint32_t)apic_of_idx[i], "AP %u reports APIC id %u, MADT says %d", i, ap_apic_id[i], apic_of_idx[i]);
        CHECK(ap_mode_ok[i], "AP %u is not in %d-bit mode", i, GUEST_BITS);
        for (uint32_t j = 1; j < i; j++)
            CHECK(ap_apic_id[i] != ap_apic_id[j], "APs %u and %u share APIC id %u", j, i, ap_apic_id[i]);
        CHECK(ap_apic_id[i] != bsp, "AP %u has the BSP's APIC id", i);
    }
    printf("%u APs checked in with distinct APIC ids; spinlock counter %llu ok\n", naps,
           (unsigned long long)shared_counter);

    /* fixed IPIs BSP -> each AP */
    for (uint32_t i = 1; i <= naps; i++) {
        CHECK(wait_flag(&ap_ready[i], 1, 1000), "AP %u never enabled its LAPIC", i);
        for (int k = 0; k < 3; k++) {
            CHECK(lapic_send_ipi(ap_apic_id[i], IPI_VEC), "IPI to APIC id %u not delivered", ap_apic_id[i]);
            CHECK(wait_flag(&ipi_count[i], k + 1, 1000), "AP %u handled %u of %d IPIs", i, ipi_count[i], k + 1);
        }
    }
    printf("fixed IPIs (vector 0x%x) delivered to all APs\n", IPI_VEC);
    CHECK(checked_in == naps, "AP checked in twice? count %u", checked_in);
    pass();
}

/* apreset: a triple fault on an AP, then on the BSP, resets the machine,
 * and every CPU starts again after each reset (-smp 2 or more).
 *
 * A boot counter in CMOS (index 0x4f; reset.c uses 0x4e) picks the step:
 *   0 -> start the APs; once they all run, the last one triple-faults
 *        (an IDT of limit 0, then UD2: #UD, #GP and #DF all miss it)
 *   1 -> start the APs again (each must come up and run); then the BSP
 *        triple-faults the same way
 *   2 -> start the APs again: PASS.
 * A triple fault resets the whole machine, as QEMU does for any CPU;
 * the CPUs then wait for INIT-SIPI-SIPI as after power-on.  (The KVM lab
 * once showed a guest whose AP "did not start" after a reset; this is the
 * test that tells kvmpc's reset path from the lab's.) */
#include "lib.h"

TEST("apreset");

#define CMOS_STEP 0x4f

static volatile uint32_t running;
static volatile uint32_t fault_idx;         /* which AP faults (0: none) */
static volatile uint32_t counts[MAX_CPUS];

static void triple_fault(void)
{
    static const struct __attribute__((packed)) {
        uint16_t limit;
        uint32_t base;
    } none = { 0, 0 };
    __asm__ volatile("lidt %0\n\tud2" : : "m"(none));
    for (;;) {
        pause();
    }
}

static void ap_main(uint32_t idx)
{
    atomic_inc(&running);
    for (;;) {
        counts[idx % MAX_CPUS]++;
        if (idx == fault_idx) {
            triple_fault();
        }
        pause();
    }
}

static uint32_t start_aps(const struct platform_info *pi, uint32_t bsp)
{
    uint32_t naps = 0;

    running = 0;
    for (int i = 0; i < pi->ncpus; i++) {
        if (pi->cpu_apic_id[i] == bsp) {
            continue;
        }
        naps++;
        CHECK(ap_start(pi->cpu_apic_id[i], naps), "AP with APIC id %u did not start",
              pi->cpu_apic_id[i]);
    }
    CHECK(wait_flag(&running, naps, 5000), "only %u of %u APs run", running, naps);
    /* each one keeps running (its count moves) */
    for (uint32_t k = 1; k <= naps; k++) {
        uint32_t c0 = counts[k];
        uint64_t d = tsc_deadline_ms(2000);
        while (counts[k] == c0) {
            CHECK(!tsc_expired(d), "AP %u stopped running", k);
            pause();
        }
    }
    return naps;
}

static void wait_for_reset(const char *who)
{
    for (uint64_t d = tsc_deadline_ms(3000); !tsc_expired(d);) {
        pause();
    }
    fail("no reset within 3 s of the triple fault on %s", who);
}

void test_main(void)
{
    struct platform_info pi;
    uint8_t step = cmos_read(CMOS_STEP);
    uint32_t naps;

    printf("step %u\n", step);
    CHECK(step <= 2, "CMOS step counter is %u: stale from another run?", step);
    CHECK(platform_discover(&pi), "no ACPI MADT and no MP table found");
    CHECK(pi.ncpus >= 2, "needs -smp 2 or more (%u CPUs)", pi.ncpus);
    lapic_enable();
    ap_trampoline_install(ap_main);
    naps = start_aps(&pi, lapic_id());
    printf("%u APs run\n", naps);
    cmos_write(CMOS_STEP, step + 1);
    CHECK(cmos_read(CMOS_STEP) == step + 1, "CMOS byte 0x%x does not keep a value", CMOS_STEP);
    uint64_t v;
    if (cmdline_u64("bspfirst", &v) && v && step < 2) {
        step = !step;               /* the BSP's fault first, then the AP's */
    }
    switch (step) {
    case 0:
        printf("AP %u triple-faults\n", naps);
        fault_idx = naps;
        wait_for_reset("an AP");
        break;
    case 1:
        printf("the BSP triple-faults\n");
        triple_fault();
        break;
    default:
        printf("every CPU came back after an AP's and the BSP's triple fault\n");
        cmos_write(CMOS_STEP, 0);
        pass();
    }
}

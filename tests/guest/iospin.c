/* iospin: every CPU writes port 0x80 in a tight loop, forever, so that
 * each vCPU thread takes the emulator's big lock for one exit after
 * another.  tests/functional/bql_fairness.py measures QMP round trips
 * meanwhile (the main loop must still get the lock).  Prints
 * "SPINNING on N cpus" once all CPUs spin, then every second how many
 * writes the BSP made.  With "noio=1" on the command line the CPUs spin
 * on a counter instead, with no I/O at all (a software CPU that keeps
 * the lock while it runs guest code must still let the main loop in),
 * and the BSP prints "spins N".  It never exits by itself (not in
 * tests.list). */
#include "lib.h"

TEST("iospin");

#define SPIN_PORT 0x80

static volatile uint32_t spinning;
static volatile uint32_t noio;
/* only written: it keeps the noio AP loop a real memory loop (a store
 * each turn), never read */
static volatile uint64_t ap_spins[MAX_CPUS];

static void ap_main(uint32_t idx)
{
    atomic_inc(&spinning);
    if (noio) {
        for (;;) {
            ap_spins[idx % MAX_CPUS]++;
        }
    }
    for (;;) {
        outb(SPIN_PORT, (uint8_t)idx);
    }
}

void test_main(void)
{
    struct platform_info pi;
    uint32_t naps = 0;
    uint32_t bsp;

    uint64_t v;
    noio = cmdline_u64("noio", &v) && v;
    CHECK(platform_discover(&pi), "no ACPI MADT and no MP table found");
    lapic_enable();
    bsp = lapic_id();
    ap_trampoline_install(ap_main);
    for (int i = 0; i < pi.ncpus; i++) {
        if (pi.cpu_apic_id[i] == bsp) {
            continue;
        }
        naps++;
        CHECK(ap_start(pi.cpu_apic_id[i], naps), "AP with APIC id %u did not start",
              pi.cpu_apic_id[i]);
    }
    CHECK(wait_flag(&spinning, naps, 5000), "only %u of %u APs spin", spinning, naps);
    printf("SPINNING on %u cpus\n", naps + 1);
    uint64_t writes = 0, next = tsc_deadline_ms(1000);
    for (;;) {
        if (!noio) {
            outb(SPIN_PORT, 0);
        }
        writes++;
        if (tsc_expired(next)) {
            printf("%s %llu\n", noio ? "spins" : "writes", (unsigned long long)writes);
            next = tsc_deadline_ms(1000);
        }
    }
}

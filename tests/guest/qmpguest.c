/* qmpguest: the guest half of tests/functional/qmp_guest.py (QMP against
 * a running guest; the host half drives it).  The guest fills 4 KiB at
 * 0x200000 with bytes (i * 31 + 7), prints "READY", and waits (30 s at
 * most) for an NMI; the host checks `pmemsave` of that page against the
 * pattern and sends `inject-nmi`.  The NMI handler prints "NMI received"
 * with the interrupted RIP; then PASS.  Run alone (no host half) it fails
 * after 30 s: it is not in tests.list. */
#include "lib.h"

TEST("qmpguest");

#define PATTERN_ADDR 0x200000u
#define PATTERN_SIZE 4096u

static volatile uint32_t nmis;

static void nmi_handler(struct irq_frame *f)
{
    nmis++;
    printf("NMI received at RIP=0x%lx\n", (unsigned long)f->ip);
}

void test_main(void)
{
    volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)PATTERN_ADDR;

    for (uint32_t i = 0; i < PATTERN_SIZE; i++)
        p[i] = (uint8_t)(i * 31 + 7);
    irq_set_handler(2, nmi_handler);
    printf("READY pattern at 0x%x\n", PATTERN_ADDR);
    CHECK(wait_flag(&nmis, 1, 30000), "no NMI within 30 s");
    CHECK(nmis == 1, "%u NMIs for one inject-nmi", nmis);
    pass();
}

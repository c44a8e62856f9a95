/* sieve: what kvm-unit-tests' x86/sieve.c does, to find why it fails under
 * kvmpc when its output matches QEMU's.  The sieve of Eratosthenes over a
 * 1 MB static array, then three times over a 100 MB buffer of fresh
 * memory (the suite mallocs it with paging on: every page is touched for
 * the first time), then exit through isa-debug-exit with status 0 -> the
 * process exits 1.  The suite runs it with QEMU's default 128 MiB and no
 * -append, with timeout = 180 s (x86/unittests.cfg), and its runner counts
 * the run as failed when the emulator writes anything but warnings to
 * stderr (scripts/arch-run.bash run_qemu): run-guest-test --strict-stderr
 * checks the same.  -append vsize_mb=N changes the buffer size. */
#include "lib.h"

TEST("sieve");

#define STATIC_SIZE 1000000
#define VBASE (8u << 20)          /* above the kernel, below 128 MiB - 100 MB */

static char static_data[STATIC_SIZE];

static unsigned sieve(volatile char *data, unsigned size)
{
    unsigned r = 0;

    for (unsigned i = 0; i < size; i++)
        data[i] = 1;
    data[0] = data[1] = 0;
    for (unsigned i = 2; i < size; i++) {
        if (data[i]) {
            r++;
            for (unsigned j = i * 2; j < size; j += i)
                data[j] = 0;
        }
    }
    return r;
}

static unsigned primes_below(unsigned n)
{
    switch (n) {
    case 1000000: return 78498;
    case 10000000: return 664579;
    case 100000000: return 5761455;
    }
    return 0;
}

void test_main(void)
{
    uint64_t vsize_mb = 100, t0, ms;
    unsigned size, r;

    cmdline_u64("vsize_mb", &vsize_mb);
    size = (unsigned)vsize_mb * 1000000u;
    CHECK(mb_info && (mb_info->flags & 1), "no memory size in the multiboot info");
    CHECK(VBASE + size <= 1024ull + mb_info->mem_upper * 1024ull,
          "%u MB at 0x%x do not fit in %u KiB of upper memory", (unsigned)vsize_mb, VBASE,
          mb_info->mem_upper);
    printf("starting sieve\n");
    r = sieve(static_data, STATIC_SIZE);
    printf("static:%u out of %u\n", r, STATIC_SIZE);
    CHECK(r == primes_below(STATIC_SIZE), "static sieve found %u primes", r);
    for (int pass_no = 0; pass_no < 3; pass_no++) {
        t0 = rdtsc();
        r = sieve((volatile char *)(uintptr_t)VBASE, size);
        ms = tsc_khz ? (rdtsc() - t0) / tsc_khz : 0;
        printf("virtual:%u out of %u (%u ms)\n", r, size, (unsigned)ms);
        CHECK(!primes_below(size) || r == primes_below(size), "sieve of %u found %u primes",
              size, r);
        /* fresh memory next time, as the suite's malloc after free may be */
        memset((void *)(uintptr_t)VBASE, 0, 4096);
    }
    pass();
}

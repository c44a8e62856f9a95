/* long64: we run in 64-bit long mode (entered by lib/boot.S); check CPUID
 * long-mode bits, EFER/CR state, and do some 64-bit C arithmetic. */
#include "lib.h"

TEST("long64");

static uint8_t buf[65536];

/* Fletcher-64-ish checksum over 32-bit words */
static uint64_t checksum(const uint32_t *p, size_t n)
{
    uint64_t a = 0, b = 0;
    for (size_t i = 0; i < n; i++) {
        a = (a + p[i]) % 0xffffffffull;
        b = (b + a) % 0xffffffffull;
    }
    return (b << 32) | a;
}

static uint64_t __attribute__((noinline)) mulhi(uint64_t x, uint64_t y)
{
    return (uint64_t)(((unsigned __int128)x * y) >> 64);
}

void test_main(void)
{
    uint32_t a, b, c, d;
    cpuid(0x80000000, 0, &a, &b, &c, &d);
    CHECK(a >= 0x80000001, "CPUID max extended leaf 0x%x < 0x80000001", a);
    cpuid(0x80000001, 0, &a, &b, &c, &d);
    printf("CPUID 80000001: ecx=%08x edx=%08x\n", c, d);
    CHECK(d & (1u << 29), "CPUID.80000001:EDX.LM (bit 29) clear");
    CHECK(d & (1u << 20), "CPUID.80000001:EDX.NX (bit 20) clear");
    cpuid(1, 0, &a, &b, &c, &d);
    CHECK(d & (1u << 6), "CPUID.1:EDX.PAE clear");

    uint64_t efer = rdmsr(0xc0000080);
    printf("EFER=0x%llx\n", (unsigned long long)efer);
    CHECK((efer & 0x500) == 0x500, "EFER.LME/LMA not both set (0x%llx)", (unsigned long long)efer);
    uint64_t cr0, cr4, cs;
    __asm__ volatile("mov %%cr0,%0; mov %%cr4,%1; mov %%cs,%2" : "=r"(cr0), "=r"(cr4), "=r"(cs));
    CHECK((cr0 & 0x80000001) == 0x80000001, "CR0.PG/PE not set (0x%llx)", (unsigned long long)cr0);
    CHECK(cr4 & (1 << 5), "CR4.PAE clear");
    CHECK(cs == 0x18, "CS=0x%llx, expected 64-bit selector 0x18", (unsigned long long)cs);

    /* pointers really are 64 bits wide, and a 64-bit register holds >32-bit values */
    CHECK(sizeof(void *) == 8, "sizeof(void*) != 8");

    /* checksum over memory with a 64-bit LCG pattern */
    uint64_t x = 0x0123456789abcdefull;
    for (size_t i = 0; i < sizeof(buf); i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        buf[i] = (uint8_t)(x >> 56);
    }
    uint64_t ck = checksum((const uint32_t *)buf, sizeof(buf) / 4);
    uint64_t ck2 = checksum((const uint32_t *)buf, sizeof(buf) / 4);
    printf("checksum=0x%016llx last=0x%016llx\n", (unsigned long long)ck, (unsigned long long)x);
    CHECK(ck == ck2, "checksum not deterministic");
    CHECK(x == 0x60e3f12ad30ccdefull, "64-bit LCG final value wrong: 0x%llx", (unsigned long long)x);
    CHECK(ck == 0x77d1837c6c241825ull, "checksum wrong (expected 0x77d1837c6c241825)");

    /* 64-bit multiply/divide with known answers */
    volatile uint64_t m1 = 0xfedcba9876543210ull, m2 = 0x0123456789abcdefull;
    uint64_t lo = m1 * m2;
    uint64_t hi = mulhi(m1, m2);
    printf("mul: hi=0x%016llx lo=0x%016llx\n", (unsigned long long)hi, (unsigned long long)lo);
    CHECK(lo == 0x2236d88fe5618cf0ull, "64-bit multiply low wrong: 0x%llx", (unsigned long long)lo);
    CHECK(hi == 0x0121fa00ad77d742ull, "64-bit multiply high wrong: 0x%llx", (unsigned long long)hi);
    volatile uint64_t n = 0xffffffffffffffffull, dv = 0x100000001ull;
    uint64_t q = n / dv, r = n % dv;
    CHECK(q == 0xffffffffull && r == 0, "64-bit divide wrong: q=0x%llx r=0x%llx",
          (unsigned long long)q, (unsigned long long)r);
    volatile int64_t sn = -0x123456789abcdefll, sd = 12345;
    int64_t sq = sn / sd, sr = sn % sd;
    CHECK(sq * sd + sr == sn && sr <= 0 && sr > -12345, "signed 64-bit divide inconsistent");
    CHECK(sq == -6641193132157ll, "signed 64-bit divide: q=%lld", (long long)sq);
    /* 128/64 divide via inline div */
    uint64_t qq, rr;
    __asm__("divq %4" : "=a"(qq), "=d"(rr) : "a"(0x0ull), "d"(0x1ull), "r"(0x3ull));
    CHECK(qq == 0x5555555555555555ull && rr == 1, "divq 2^64/3 wrong");
    /* shifts and rotates at 64-bit width */
    volatile uint64_t s = 1;
    CHECK((s << 63) == 0x8000000000000000ull, "shl 63");
    CHECK(__builtin_popcountll(0xf0f0f0f0f0f0f0f0ull) == 32, "popcount");
    CHECK(__builtin_clzll(s << 40) == 23, "clz");
    pass();
}

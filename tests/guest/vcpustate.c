/* vcpustate: state that lives only in the vCPU survives the host reading
 * and writing it back.  The guest sets the debug registers, MTRRs,
 * MISC_ENABLE (fast strings off: a value kvmpc used to force back on),
 * TSC_AUX (with RDTSCP), x87 control word and st0, MXCSR, XMM0-7, and with
 * XSAVE+AVX also XCR0 and the upper halves of YMM0-7; prints "STATE-SET"
 * and waits for an NMI.  The host (tests/functional/vcpu_state_kvm.py)
 * stops the VM, reads the registers (HMP info registers), continues it
 * (the registers are written back before the vCPU runs) and injects the
 * NMI; the guest then checks every value. Not in tests.list: it needs the
 * host's part. */
#include "lib.h"

TEST("vcpustate");

#define MSR_MISC_ENABLE     0x1a0
#define MSR_MTRR_CAP        0xfe
#define MSR_MTRR_BASE(n)    (0x200 + 2 * (n))
#define MSR_MTRR_MASK(n)    (0x201 + 2 * (n))
#define MSR_MTRR_FIX64K     0x250
#define MSR_MTRR_FIX16K_A   0x259
#define MSR_MTRR_FIX4K_F8   0x26f
#define MSR_MTRR_DEF_TYPE   0x2ff
#define MSR_TSC_AUX         0xc0000103

#define DR0_VAL 0x00dea000u
#define DR7_VAL 0x000d0409u     /* L0, G1, DR0: write, 4 bytes; bit 10 reads 1 */
#define FCW_VAL 0x027f          /* 53-bit precision */
#define MXCSR_VAL 0x7f80        /* round toward zero, all masked */
#define TSC_AUX_VAL 0x2a5

static volatile uint32_t nmi_seen;
static uint8_t xmm_set[8][16] __attribute__((aligned(16)));
static uint8_t ymm_set[8][32] __attribute__((aligned(32)));
static uint64_t mtrr_vals[6][2];    /* msr, value */
static bool have_avx, have_rdtscp;

static void nmi_handler(struct irq_frame *f)
{
    nmi_seen = 1;
}

static inline void write_dr(int n, ureg v)
{
    switch (n) {
    case 0: __asm__ volatile("mov %0, %%db0" :: "r"(v)); break;
    case 1: __asm__ volatile("mov %0, %%db1" :: "r"(v)); break;
    case 2: __asm__ volatile("mov %0, %%db2" :: "r"(v)); break;
    case 3: __asm__ volatile("mov %0, %%db3" :: "r"(v)); break;
    case 7: __asm__ volatile("mov %0, %%db7" :: "r"(v)); break;
    }
}

static inline ureg read_dr(int n)
{
    ureg v = 0;

    switch (n) {
    case 0: __asm__ volatile("mov %%db0, %0" : "=r"(v)); break;
    case 1: __asm__ volatile("mov %%db1, %0" : "=r"(v)); break;
    case 2: __asm__ volatile("mov %%db2, %0" : "=r"(v)); break;
    case 3: __asm__ volatile("mov %%db3, %0" : "=r"(v)); break;
    case 7: __asm__ volatile("mov %%db7, %0" : "=r"(v)); break;
    }
    return v;
}

static void enable_sse(void)
{
    ureg cr0, cr4;

    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    cr0 = (cr0 & ~(ureg)(1 << 2)) | (1 << 1);          /* EM off, MP on */
    __asm__ volatile("mov %0, %%cr0" :: "r"(cr0));
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    cr4 |= (1 << 9) | (1 << 10);                        /* OSFXSR, OSXMMEXCPT */
    if (have_avx) {
        cr4 |= 1 << 18;                                 /* OSXSAVE */
    }
    __asm__ volatile("mov %0, %%cr4" :: "r"(cr4));
    if (have_avx) {
        __asm__ volatile("xsetbv" :: "c"(0), "a"(7), "d"(0));   /* x87 | SSE | AVX */
    }
}

static uint64_t xgetbv0(void)
{
    uint32_t lo, hi;

    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (uint64_t)hi << 32 | lo;
}

#define XMM_LOAD(n) __asm__ volatile("movdqu (%0), %%xmm" #n :: "r"(xmm_set[n]) : "memory")
#define XMM_STORE(n, p) __asm__ volatile("movdqu %%xmm" #n ", (%0)" :: "r"(p) : "memory")
#define YMM_LOAD(n) __asm__ volatile("vmovdqu (%0), %%ymm" #n :: "r"(ymm_set[n]) : "memory")
#define YMM_STORE(n, p) __asm__ volatile("vmovdqu %%ymm" #n ", (%0)" :: "r"(p) : "memory")

static void set_vector_regs(void)
{
    uint32_t mxcsr = MXCSR_VAL;
    uint16_t fcw = FCW_VAL;

    for (int i = 0; i < 8; i++) {
        for (int j = 0; j < 32; j++) {
            ymm_set[i][j] = (uint8_t)(0x40 + i * 32 + j);
        }
        for (int j = 0; j < 16; j++) {
            xmm_set[i][j] = have_avx ? ymm_set[i][j] : (uint8_t)(0x80 + i * 16 + j);
        }
    }
    __asm__ volatile("fninit; fldcw %0; fld1" :: "m"(fcw));
    __asm__ volatile("ldmxcsr %0" :: "m"(mxcsr));
    if (have_avx) {
        YMM_LOAD(0); YMM_LOAD(1); YMM_LOAD(2); YMM_LOAD(3);
        YMM_LOAD(4); YMM_LOAD(5); YMM_LOAD(6); YMM_LOAD(7);
    } else {
        XMM_LOAD(0); XMM_LOAD(1); XMM_LOAD(2); XMM_LOAD(3);
        XMM_LOAD(4); XMM_LOAD(5); XMM_LOAD(6); XMM_LOAD(7);
    }
}

static int check_vector_regs(void)
{
    static uint8_t got[8][32] __attribute__((aligned(32)));
    uint32_t mxcsr = 0;
    uint16_t fcw = 0;
    uint64_t st0 = 0;
    int bad = 0;

    /* First, before any other instruction can touch them. */
    if (have_avx) {
        YMM_STORE(0, got[0]); YMM_STORE(1, got[1]); YMM_STORE(2, got[2]); YMM_STORE(3, got[3]);
        YMM_STORE(4, got[4]); YMM_STORE(5, got[5]); YMM_STORE(6, got[6]); YMM_STORE(7, got[7]);
    } else {
        XMM_STORE(0, got[0]); XMM_STORE(1, got[1]); XMM_STORE(2, got[2]); XMM_STORE(3, got[3]);
        XMM_STORE(4, got[4]); XMM_STORE(5, got[5]); XMM_STORE(6, got[6]); XMM_STORE(7, got[7]);
    }
    __asm__ volatile("fnstcw %0; stmxcsr %1; fstpl %2" : "=m"(fcw), "=m"(mxcsr), "=m"(st0));
    for (int i = 0; i < 8; i++) {
        if (memcmp(got[i], have_avx ? ymm_set[i] : xmm_set[i], have_avx ? 32 : 16)) {
            printf("%cMM%d changed\n", have_avx ? 'Y' : 'X', i);
            bad++;
        }
    }
    if (fcw != FCW_VAL || mxcsr != MXCSR_VAL || st0 != 0x3ff0000000000000ull) {
        printf("x87/SSE control: FCW %04x MXCSR %08x st0 %08x%08x\n", fcw, mxcsr,
               (uint32_t)(st0 >> 32), (uint32_t)st0);
        bad++;
    }
    if (have_avx && xgetbv0() != 7) {
        printf("XCR0 %x (want 7)\n", (uint32_t)xgetbv0());
        bad++;
    }
    return bad;
}

static void set_msrs(void)
{
    uint32_t a, b, c, d, maxphy = 36;
    uint64_t physmask;

    cpuid(0x80000000, 0, &a, &b, &c, &d);
    if (a >= 0x80000008) {
        cpuid(0x80000008, 0, &a, &b, &c, &d);
        maxphy = a & 0xff;
    }
    physmask = ((1ull << maxphy) - 1) & ~0xfffull;
    /* WB by default, UC for the 1 GiB at 3 GiB, WP for the BIOS area. */
    mtrr_vals[0][0] = MSR_MTRR_BASE(1);  mtrr_vals[0][1] = 0xc0000000ull;
    mtrr_vals[1][0] = MSR_MTRR_MASK(1);  mtrr_vals[1][1] = (physmask & ~0x3fffffffull) | 0x800;
    mtrr_vals[2][0] = MSR_MTRR_FIX64K;   mtrr_vals[2][1] = 0x0606060606060606ull;
    mtrr_vals[3][0] = MSR_MTRR_FIX16K_A; mtrr_vals[3][1] = 0x0000000001010101ull;
    mtrr_vals[4][0] = MSR_MTRR_FIX4K_F8; mtrr_vals[4][1] = 0x0505050505050505ull;
    mtrr_vals[5][0] = MSR_MTRR_DEF_TYPE; mtrr_vals[5][1] = 0xc06;  /* E, FE, WB */
    for (int i = 0; i < 6; i++) {
        wrmsr((uint32_t)mtrr_vals[i][0], mtrr_vals[i][1]);
    }
    wrmsr(MSR_MISC_ENABLE, rdmsr(MSR_MISC_ENABLE) & ~1ull);     /* fast strings off */
    if (have_rdtscp) {
        wrmsr(MSR_TSC_AUX, TSC_AUX_VAL);
    }
}

static int check_msrs(void)
{
    int bad = 0;

    for (int i = 0; i < 6; i++) {
        uint64_t v = rdmsr((uint32_t)mtrr_vals[i][0]);
        if (v != mtrr_vals[i][1]) {
            printf("MSR %x: %08x%08x (want %08x%08x)\n", (uint32_t)mtrr_vals[i][0],
                   (uint32_t)(v >> 32), (uint32_t)v, (uint32_t)(mtrr_vals[i][1] >> 32),
                   (uint32_t)mtrr_vals[i][1]);
            bad++;
        }
    }
    if (rdmsr(MSR_MISC_ENABLE) & 1) {
        printf("MISC_ENABLE fast strings came back on\n");
        bad++;
    }
    if (have_rdtscp) {
        uint32_t lo, hi, aux;
        __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
        if (aux != TSC_AUX_VAL) {
            printf("TSC_AUX %x (want %x)\n", aux, TSC_AUX_VAL);
            bad++;
        }
    }
    return bad;
}

static int check_drs(void)
{
    int bad = 0;

    for (int i = 0; i < 4; i++) {
        if (read_dr(i) != DR0_VAL + 0x100u * i) {
            printf("DR%d %x\n", i, (uint32_t)read_dr(i));
            bad++;
        }
    }
    if ((read_dr(7) ^ DR7_VAL) & 0xffff00ffu) {
        printf("DR7 %x (want %x)\n", (uint32_t)read_dr(7), DR7_VAL);
        bad++;
    }
    return bad;
}

void test_main(void)
{
    uint32_t a, b, c, d;
    uint64_t deadline;
    int bad;

    cpuid(1, 0, &a, &b, &c, &d);
    CHECK(d & (1 << 12), "no MTRRs in CPUID");
    have_avx = (c & (1 << 26)) && (c & (1 << 28));
    cpuid(0x80000001, 0, &a, &b, &c, &d);
    have_rdtscp = d & (1 << 27);
    printf("vcpustate: %s, %s\n", have_avx ? "XSAVE+AVX" : "no AVX (SSE only)",
           have_rdtscp ? "RDTSCP" : "no RDTSCP");
    irq_set_handler(2, nmi_handler);
    enable_sse();
    set_msrs();
    for (int i = 0; i < 4; i++) {
        write_dr(i, DR0_VAL + 0x100u * i);
    }
    write_dr(7, DR7_VAL);
    bad = check_drs() + check_msrs();
    CHECK(bad == 0, "values did not stick before the round trip");
    set_vector_regs();
    /* From here to the checks: no library call that could touch x87/SSE. */
    puts_raw("STATE-SET\n");
    deadline = tsc_deadline_ms(180000);
    while (!atomic_read(&nmi_seen) && !tsc_expired(deadline)) {
        pause();
    }
    bad = check_vector_regs();
    CHECK(nmi_seen, "no NMI from the host");
    bad += check_drs() + check_msrs();
    CHECK(bad == 0, "%d value(s) changed by the round trip", bad);
    pass();
}

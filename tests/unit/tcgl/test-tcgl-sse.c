/*
 * tcg-lite part "fp": MMX/SSE/SSE2 handlers, MXCSR, FXSAVE/FXRSTOR.
 *
 * Directed tests with expected bit patterns worked out by hand, plus a
 * differential pass: the same operation run natively on the host CPU
 * (inline asm) is the oracle for results and MXCSR flags.
 */
#include <glib.h>
#include <math.h>
#include "stub-fp.h"

#define M0F TCGL_MAP_0F
#define NONE TCGL_MP_NONE
#define P66 TCGL_MP_66
#define PF3 TCGL_MP_F3
#define PF2 TCGL_MP_F2

static XMMReg *X(unsigned n)
{
    return &stub_fpu()->xmm[n];
}

static void set_ps(unsigned n, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    X(n)->l[0] = a;
    X(n)->l[1] = b;
    X(n)->l[2] = c;
    X(n)->l[3] = d;
}

static void set_pd(unsigned n, uint64_t a, uint64_t b)
{
    X(n)->q[0] = a;
    X(n)->q[1] = b;
}

static int run_r(unsigned op, unsigned mp, unsigned reg, unsigned rm)
{
    TCGLInsn i = stub_insn_r(M0F, op, mp, reg, rm, 0);
    return stub_run(&i);
}

static int run_ri(unsigned op, unsigned mp, unsigned reg, unsigned rm, uint8_t imm)
{
    TCGLInsn i = stub_insn_r(M0F, op, mp, reg, rm, imm);
    return stub_run(&i);
}

static int run_m(unsigned op, unsigned mp, unsigned reg, uint64_t addr)
{
    TCGLInsn i = stub_insn_m(M0F, op, mp, reg, addr, 0);
    return stub_run(&i);
}

/* ---- arithmetic: rounding, NaNs, denormals, flags ------------------------------ */

static void test_addps_rounding(void)
{
    /* 1.0 + 2^-24: the exact sum lies halfway; nearest-even gives 1.0,
     * up gives the next float, both with PE. */
    static const struct { uint32_t rc; uint32_t res; } cases[] = {
        { 0x0000, 0x3f800000 }, { 0x2000, 0x3f800000 },
        { 0x4000, 0x3f800001 }, { 0x6000, 0x3f800000 },
    };
    for (unsigned k = 0; k < G_N_ELEMENTS(cases); k++) {
        stub_fp_init();
        stub_fpu()->mxcsr = MXCSR_MASKS | cases[k].rc;
        set_ps(1, 0x3f800000, 0xbf800000, 0x40000000, 0x3f800000);
        set_ps(2, 0x33800000, 0xb3800000, 0x40000000, 0);
        g_assert_cmpint(run_r(0x58, NONE, 1, 2), ==, -1);
        g_assert_cmphex(X(1)->l[0], ==, cases[k].res);
        /* -1 - 2^-24: down rounds away from zero */
        g_assert_cmphex(X(1)->l[1], ==, cases[k].rc == 0x2000 ? 0xbf800001 : 0xbf800000);
        g_assert_cmphex(X(1)->l[2], ==, 0x40800000);
        g_assert_cmphex(X(1)->l[3], ==, 0x3f800000);
        g_assert_cmphex(stub_fpu()->mxcsr, ==, MXCSR_MASKS | cases[k].rc | MXCSR_PE);
    }
}

static void test_nan_and_special(void)
{
    stub_fp_init();
    /* QNaN op SNaN: the first operand's NaN; SNaN op x: quieted; 0*inf:
     * the default NaN (negative QNaN); 1/0 = inf with ZE. */
    set_ps(1, 0x7fc00001, 0x7f800002, 0x00000000, 0x3f800000);
    set_ps(2, 0x7f800003, 0x3f800000, 0x7f800000, 0x00000000);
    g_assert_cmpint(run_r(0x59, NONE, 1, 2), ==, -1);        /* MULPS */
    g_assert_cmphex(X(1)->l[0], ==, 0x7fc00001);
    g_assert_cmphex(X(1)->l[1], ==, 0x7fc00002);
    g_assert_cmphex(X(1)->l[2], ==, 0xffc00000);
    g_assert_cmphex(X(1)->l[3], ==, 0x00000000);
    g_assert_cmphex(stub_fpu()->mxcsr, ==, MXCSR_MASKS | MXCSR_IE);

    set_pd(1, 0x3ff0000000000000ULL, 0x8000000000000000ULL);
    set_pd(2, 0, 0);
    g_assert_cmpint(run_r(0x5e, P66, 1, 2), ==, -1);         /* DIVPD */
    g_assert_cmphex(X(1)->q[0], ==, 0x7ff0000000000000ULL);
    g_assert_cmphex(X(1)->q[1], ==, 0xfff8000000000000ULL);   /* -0/0: default NaN */
    g_assert_cmphex(stub_fpu()->mxcsr, ==, MXCSR_MASKS | MXCSR_IE | MXCSR_ZE);

    /* MINPS/MAXPS: a NaN or equal operands return the second operand */
    stub_fp_init();
    set_ps(1, 0x7fc00000, 0x00000000, 0x3f800000, 0x40000000);
    set_ps(2, 0x3f800000, 0x80000000, 0x7fc00005, 0x3f800000);
    g_assert_cmpint(run_r(0x5d, NONE, 1, 2), ==, -1);
    g_assert_cmphex(X(1)->l[0], ==, 0x3f800000);
    g_assert_cmphex(X(1)->l[1], ==, 0x80000000);
    g_assert_cmphex(X(1)->l[2], ==, 0x7fc00005);
    g_assert_cmphex(X(1)->l[3], ==, 0x3f800000);
    g_assert_cmphex(stub_fpu()->mxcsr, ==, MXCSR_MASKS | MXCSR_IE);
}

static void test_denormals(void)
{
    /* 2^-100 * 2^-40 = 2^-140 is a single denormal (0x00000400 >> ...):
     * 2^-140 = 2^-149 * 2^9 -> 0x00000200; FTZ flushes it to +0. */
    stub_fp_init();
    set_ps(1, 0x0d800000, 0, 0, 0);             /* 2^-100 */
    set_ps(2, 0x2b800000, 0, 0, 0);             /* 2^-40 */
    g_assert_cmpint(run_r(0x59, PF3, 1, 2), ==, -1);         /* MULSS */
    g_assert_cmphex(X(1)->l[0], ==, 0x00000200);
    /* exact tiny result: no UE when masked and exact, no PE */
    g_assert_cmphex(stub_fpu()->mxcsr & MXCSR_FLAGS, ==, 0);

    stub_fp_init();
    stub_fpu()->mxcsr = MXCSR_MASKS | MXCSR_FTZ;
    set_ps(1, 0x0d800000, 0, 0, 0);
    set_ps(2, 0x2b800000, 0, 0, 0);
    g_assert_cmpint(run_r(0x59, PF3, 1, 2), ==, -1);
    g_assert_cmphex(X(1)->l[0], ==, 0);
    g_assert_cmphex(stub_fpu()->mxcsr & MXCSR_FLAGS, ==, MXCSR_UE | MXCSR_PE);

    /* DAZ: a denormal input counts as zero, no DE */
    stub_fp_init();
    stub_fpu()->mxcsr = MXCSR_MASKS | MXCSR_DAZ;
    set_ps(1, 0x00000001, 0, 0, 0);
    set_ps(2, 0x00000000, 0, 0, 0);
    g_assert_cmpint(run_r(0x58, PF3, 1, 2), ==, -1);
    g_assert_cmphex(X(1)->l[0], ==, 0);
    g_assert_cmphex(stub_fpu()->mxcsr & MXCSR_FLAGS, ==, 0);
    /* without DAZ: the denormal survives and DE is set */
    stub_fpu()->mxcsr = MXCSR_MASKS;
    set_ps(1, 0x00000001, 0, 0, 0);
    g_assert_cmpint(run_r(0x58, PF3, 1, 2), ==, -1);
    g_assert_cmphex(X(1)->l[0], ==, 1);
    g_assert_cmphex(stub_fpu()->mxcsr & MXCSR_FLAGS, ==, MXCSR_DE);
}

static void test_unmasked_exceptions(void)
{
    /* divide by zero unmasked: #XM, destination unchanged, ZE set */
    stub_fp_init();
    stub_fpu()->mxcsr = MXCSR_MASKS & ~0x200;
    set_ps(1, 0x3f800000, 0x11111111, 0x22222222, 0x33333333);
    set_ps(2, 0, 0, 0, 0);
    g_assert_cmpint(run_r(0x5e, PF3, 1, 2), ==, TCGL_EXC_XM);
    g_assert_cmphex(X(1)->l[0], ==, 0x3f800000);
    g_assert_cmphex(stub_fpu()->mxcsr, ==, (MXCSR_MASKS & ~0x200) | MXCSR_ZE);
    /* without CR4.OSXMMEXCPT: #UD */
    stub_env.cr4 &= ~TCGL_CR4_OSXMMEXCPT;
    g_assert_cmpint(run_r(0x5e, PF3, 1, 2), ==, TCGL_EXC_UD);
    /* masked again: inf */
    stub_fpu()->mxcsr = MXCSR_MASKS;
    g_assert_cmpint(run_r(0x5e, PF3, 1, 2), ==, -1);
    g_assert_cmphex(X(1)->l[0], ==, 0x7f800000);
    g_assert_cmphex(X(1)->l[1], ==, 0x11111111);
    /* precision unmasked: post-computation fault, PE recorded */
    stub_fp_init();
    stub_fpu()->mxcsr = MXCSR_MASKS & ~0x1000;
    set_ps(1, 0x3f800000, 0, 0, 0);
    set_ps(2, 0x40400000, 0, 0, 0);
    g_assert_cmpint(run_r(0x5e, PF3, 1, 2), ==, TCGL_EXC_XM);    /* 1/3 inexact */
    g_assert_cmphex(X(1)->l[0], ==, 0x3f800000);
    g_assert_cmphex(stub_fpu()->mxcsr & MXCSR_FLAGS, ==, MXCSR_PE);
}

static void test_sqrt_rcp_scalar_merge(void)
{
    stub_fp_init();
    set_pd(1, 0x1111111111111111ULL, 0x2222222222222222ULL);
    set_pd(2, 0x4010000000000000ULL, 0xbff0000000000000ULL);    /* 4.0, -1.0 */
    g_assert_cmpint(run_r(0x51, PF2, 1, 2), ==, -1);             /* SQRTSD */
    g_assert_cmphex(X(1)->q[0], ==, 0x4000000000000000ULL);
    g_assert_cmphex(X(1)->q[1], ==, 0x2222222222222222ULL);
    g_assert_cmpint(run_r(0x51, P66, 3, 2), ==, -1);             /* SQRTPD */
    g_assert_cmphex(X(3)->q[0], ==, 0x4000000000000000ULL);
    g_assert_cmphex(X(3)->q[1], ==, 0xfff8000000000000ULL);
    g_assert_cmphex(stub_fpu()->mxcsr & MXCSR_FLAGS, ==, MXCSR_IE);
    /* scalar from memory: m32 */
    stub_fp_init();
    memcpy(stub_mem + 0x104, "\x00\x00\x80\x40", 4);        /* 4.0f */
    set_ps(1, 0x40000000, 0xaaaaaaaa, 0xbbbbbbbb, 0xcccccccc);
    g_assert_cmpint(run_m(0x5c, PF3, 1, 0x104), ==, -1);         /* SUBSS, unaligned ok */
    g_assert_cmphex(X(1)->l[0], ==, 0xc0000000);
    g_assert_cmphex(X(1)->l[3], ==, 0xcccccccc);
}

/* ---- compares -------------------------------------------------------------------- */

static void test_cmpps_predicates(void)
{
    /* a = {1, 1, NaN, 2}, b = {1, 2, 1, 1} */
    static const uint32_t expect[8][4] = {
        { ~0u, 0, 0, 0 },       /* EQ */
        { 0, ~0u, 0, 0 },       /* LT */
        { ~0u, ~0u, 0, 0 },     /* LE */
        { 0, 0, ~0u, 0 },       /* UNORD */
        { 0, ~0u, ~0u, ~0u },   /* NEQ */
        { ~0u, 0, ~0u, ~0u },   /* NLT */
        { 0, 0, ~0u, ~0u },     /* NLE */
        { ~0u, ~0u, 0, ~0u },   /* ORD */
    };
    for (unsigned p = 0; p < 8; p++) {
        stub_fp_init();
        set_ps(1, 0x3f800000, 0x3f800000, 0x7fc00000, 0x40000000);
        set_ps(2, 0x3f800000, 0x40000000, 0x3f800000, 0x3f800000);
        g_assert_cmpint(run_ri(0xc2, NONE, 1, 2, p), ==, -1);
        for (unsigned k = 0; k < 4; k++) {
            g_assert_cmphex(X(1)->l[k], ==, expect[p][k]);
        }
        /* QNaN: invalid only for the ordered-signalling LT LE NLT NLE */
        bool signals = p == 1 || p == 2 || p == 5 || p == 6;
        g_assert_cmphex(stub_fpu()->mxcsr & MXCSR_FLAGS, ==, signals ? MXCSR_IE : 0);
    }
    /* CMPSD keeps the upper quadword */
    stub_fp_init();
    set_pd(1, 0x3ff0000000000000ULL, 0x1234);
    set_pd(2, 0x3ff0000000000000ULL, 0);
    g_assert_cmpint(run_ri(0xc2, PF2, 1, 2, 0), ==, -1);
    g_assert_cmphex(X(1)->q[0], ==, ~0ULL);
    g_assert_cmphex(X(1)->q[1], ==, 0x1234);
}

static void test_comis(void)
{
    static const struct { uint32_t a, b; uint64_t flags; uint32_t ie_u, ie_c; } cases[] = {
        { 0x3f800000, 0x40000000, 0x01, 0, 0 },         /* less: CF */
        { 0x40000000, 0x3f800000, 0x00, 0, 0 },         /* greater */
        { 0x3f800000, 0x3f800000, 0x40, 0, 0 },         /* equal: ZF */
        { 0x00000000, 0x80000000, 0x40, 0, 0 },         /* +0 == -0 */
        { 0x7fc00000, 0x3f800000, 0x45, 0, MXCSR_IE },  /* QNaN: unordered */
        { 0x7f800001, 0x3f800000, 0x45, MXCSR_IE, MXCSR_IE },  /* SNaN */
    };
    for (unsigned k = 0; k < G_N_ELEMENTS(cases); k++) {
        for (unsigned op = 0x2e; op <= 0x2f; op++) {
            stub_fp_init();
            stub_env.rflags = 0x2 | 0x8d5;         /* all arithmetic flags set */
            set_ps(1, cases[k].a, 0, 0, 0);
            set_ps(2, cases[k].b, 0, 0, 0);
            g_assert_cmpint(run_r(op, NONE, 1, 2), ==, -1);
            g_assert_cmphex(stub_env.rflags, ==, 0x2 | cases[k].flags);
            g_assert_cmphex(stub_fpu()->mxcsr & MXCSR_FLAGS, ==,
                            op == 0x2e ? cases[k].ie_u : cases[k].ie_c);
        }
    }
    /* UCOMISD from memory */
    stub_fp_init();
    set_pd(1, 0x3ff0000000000000ULL, 0);
    memcpy(stub_mem + 0x200, &(double){ 0.5 }, 8);
    g_assert_cmpint(run_m(0x2e, P66, 1, 0x200), ==, -1);
    g_assert_cmphex(stub_env.rflags, ==, 0x2);
}

/* ---- conversions ------------------------------------------------------------------ */

static void test_conversions(void)
{
    TCGLInsn i;

    stub_fp_init();
    /* CVTSS2SI eax, xmm1 with 2.5: nearest-even 2, up 3, truncating 2 */
    set_ps(1, 0x40200000, 0, 0, 0);
    i = stub_insn_r(M0F, 0x2d, PF3, R_EAX, 1, 0);
    stub_env.regs[R_EAX] = ~0ULL;
    g_assert_cmpint(stub_run(&i), ==, -1);
    g_assert_cmphex(stub_env.regs[R_EAX], ==, 2);
    stub_fpu()->mxcsr = MXCSR_MASKS | 0x4000;
    g_assert_cmpint(stub_run(&i), ==, -1);
    g_assert_cmphex(stub_env.regs[R_EAX], ==, 3);
    i = stub_insn_r(M0F, 0x2c, PF3, R_EAX, 1, 0);
    g_assert_cmpint(stub_run(&i), ==, -1);
    g_assert_cmphex(stub_env.regs[R_EAX], ==, 2);
    /* overflow: the integer indefinite, IE */
    stub_fp_init();
    set_ps(1, 0x4f000000, 0, 0, 0);     /* 2^31 */
    i = stub_insn_r(M0F, 0x2c, PF3, R_ECX, 1, 0);
    g_assert_cmpint(stub_run(&i), ==, -1);
    g_assert_cmphex(stub_env.regs[R_ECX], ==, 0x80000000);
    g_assert_cmphex(stub_fpu()->mxcsr & MXCSR_FLAGS, ==, MXCSR_IE);
    /* REX.W: 64-bit, 2^31 fits; NaN gives 0x8000000000000000 */
    i.rex = 0x48;
    g_assert_cmpint(stub_run(&i), ==, -1);
    g_assert_cmphex(stub_env.regs[R_ECX], ==, 0x80000000);
    set_pd(2, 0x7ff8000000000000ULL, 0);
    i = stub_insn_r(M0F, 0x2d, PF2, R_EDX, 2, 0);
    i.rex = 0x48;
    g_assert_cmpint(stub_run(&i), ==, -1);
    g_assert_cmphex(stub_env.regs[R_EDX], ==, 0x8000000000000000ULL);
    /* CVTSI2SD xmm3, rax (REX.W) of 2^53+1: rounds to even */
    stub_fp_init();
    stub_env.regs[R_EAX] = (1ULL << 53) + 1;
    set_pd(3, 0, 0x5555);
    i = stub_insn_r(M0F, 0x2a, PF2, 3, R_EAX, 0);
    i.rex = 0x48;
    g_assert_cmpint(stub_run(&i), ==, -1);
    g_assert_cmphex(X(3)->q[0], ==, 0x4340000000000000ULL);
    g_assert_cmphex(X(3)->q[1], ==, 0x5555);
    g_assert_cmphex(stub_fpu()->mxcsr & MXCSR_FLAGS, ==, MXCSR_PE);
    /* without REX.W: the low 32 bits, signed (-1) */
    stub_env.regs[R_EAX] = 0x12345678ffffffffULL;
    i.rex = 0;
    g_assert_cmpint(stub_run(&i), ==, -1);
    g_assert_cmphex(X(3)->q[0], ==, 0xbff0000000000000ULL);
    /* CVTPS2PD from m64, CVTPD2PS zeroes the top */
    stub_fp_init();
    memcpy(stub_mem + 0x308, "\x00\x00\xc0\x3f\x00\x00\x80\xbf", 8);     /* 1.5, -1 */
    g_assert_cmpint(run_m(0x5a, NONE, 4, 0x308), ==, -1);
    g_assert_cmphex(X(4)->q[0], ==, 0x3ff8000000000000ULL);
    g_assert_cmphex(X(4)->q[1], ==, 0xbff0000000000000ULL);
    set_ps(5, 1, 2, 3, 4);
    g_assert_cmpint(run_r(0x5a, P66, 5, 4), ==, -1);
    g_assert_cmphex(X(5)->l[0], ==, 0x3fc00000);
    g_assert_cmphex(X(5)->l[1], ==, 0xbf800000);
    g_assert_cmphex(X(5)->q[1], ==, 0);
    /* CVTTPD2DQ with out-of-range: indefinite */
    set_pd(6, 0x41e0000000000000ULL /* 2^31 */, 0xc000000000000000ULL /* -2 */);
    g_assert_cmpint(run_r(0xe6, P66, 7, 6), ==, -1);
    g_assert_cmphex(X(7)->l[0], ==, 0x80000000);
    g_assert_cmphex(X(7)->l[1], ==, 0xfffffffe);
    g_assert_cmphex(X(7)->q[1], ==, 0);
    /* CVTPI2PS xmm, mm: MMX transition, the top half kept */
    stub_fp_init();
    stub_fpu()->fpr[2].r.mant = 0xfffffffd00000003ULL;
    stub_fpu()->top = 5;
    set_ps(1, 9, 9, 9, 9);
    g_assert_cmpint(run_r(0x2a, NONE, 1, 2), ==, -1);
    g_assert_cmphex(X(1)->l[0], ==, 0x40400000);
    g_assert_cmphex(X(1)->l[1], ==, 0xc0400000);
    g_assert_cmphex(X(1)->l[2], ==, 9);
    g_assert_cmpint(stub_fpu()->top, ==, 0);
    g_assert_cmphex(stub_fpu()->ftw, ==, 0xff);
    /* CVTTPS2PI mm3, xmm1 */
    set_ps(1, 0xc0600000 /* -3.5 */, 0x4f800000 /* 2^32 */, 0, 0);
    g_assert_cmpint(run_r(0x2c, NONE, 3, 1), ==, -1);
    g_assert_cmphex(stub_fpu()->fpr[3].r.mant, ==, 0x80000000fffffffdULL);
    g_assert_cmphex(stub_fpu()->fpr[3].r.sexp, ==, 0xffff);
}

/* ---- moves --------------------------------------------------------------------------- */

static void test_moves(void)
{
    TCGLInsn i;

    stub_fp_init();
    for (unsigned k = 0; k < 32; k++) {
        stub_mem[0x100 + k] = 0x10 + k;
    }
    /* MOVAPS misaligned: #GP(0); MOVUPS fine */
    g_assert_cmpint(run_m(0x28, NONE, 1, 0x108), ==, TCGL_EXC_GP);
    g_assert_cmphex(stub_cpu.event.error, ==, 0);
    g_assert_cmpint(run_m(0x10, NONE, 1, 0x108), ==, -1);
    g_assert_cmphex(X(1)->q[0], ==, 0x1f1e1d1c1b1a1918ULL);
    g_assert_cmpint(run_m(0x6f, P66, 2, 0x100), ==, -1);        /* MOVDQA */
    g_assert_cmphex(X(2)->q[1], ==, 0x1f1e1d1c1b1a1918ULL);
    /* MOVSS load zero-extends, register form merges */
    set_ps(3, 1, 2, 3, 4);
    g_assert_cmpint(run_m(0x10, PF3, 3, 0x104), ==, -1);
    g_assert_cmphex(X(3)->l[0], ==, 0x17161514);
    g_assert_cmphex(X(3)->l[1], ==, 0);
    g_assert_cmphex(X(3)->q[1], ==, 0);
    set_ps(3, 1, 2, 3, 4);
    g_assert_cmpint(run_r(0x10, PF3, 3, 2), ==, -1);
    g_assert_cmphex(X(3)->l[0], ==, 0x13121110);
    g_assert_cmphex(X(3)->l[1], ==, 2);
    /* MOVHLPS / MOVLHPS / MOVHPS store */
    set_pd(4, 0xa, 0xb);
    set_pd(5, 0xc, 0xd);
    g_assert_cmpint(run_r(0x12, NONE, 4, 5), ==, -1);
    g_assert_cmphex(X(4)->q[0], ==, 0xd);
    g_assert_cmpint(run_r(0x16, NONE, 4, 5), ==, -1);
    g_assert_cmphex(X(4)->q[1], ==, 0xc);
    g_assert_cmpint(run_m(0x17, NONE, 4, 0x203), ==, -1);
    g_assert_cmphex(stub_rd(0x203, 8), ==, 0xc);
    /* MOVAPS store misaligned, MOVNTDQ store aligned */
    g_assert_cmpint(run_m(0x29, NONE, 4, 0x204), ==, TCGL_EXC_GP);
    g_assert_cmpint(run_m(0xe7, P66, 4, 0x210), ==, -1);
    g_assert_cmphex(*(uint64_t *)(stub_mem + 0x218), ==, 0xc);
    /* MOVD xmm, r32 zero-extends; MOVQ xmm, r64 with REX.W; MOVD r32, xmm */
    stub_env.regs[R_EBX] = 0x1122334455667788ULL;
    set_pd(6, ~0ULL, ~0ULL);
    g_assert_cmpint(run_r(0x6e, P66, 6, R_EBX), ==, -1);
    g_assert_cmphex(X(6)->q[0], ==, 0x55667788);
    g_assert_cmphex(X(6)->q[1], ==, 0);
    i = stub_insn_r(M0F, 0x6e, P66, 6, R_EBX, 0);
    i.rex = 0x48;
    g_assert_cmpint(stub_run(&i), ==, -1);
    g_assert_cmphex(X(6)->q[0], ==, 0x1122334455667788ULL);
    set_pd(7, 0xdeadbeefcafef00dULL, 1);
    stub_env.regs[R_ESI] = ~0ULL;
    g_assert_cmpint(run_r(0x7e, P66, 7, R_ESI), ==, -1);
    g_assert_cmphex(stub_env.regs[R_ESI], ==, 0xcafef00d);
    /* MOVQ xmm, xmm (F3 0F 7E) zero-extends; 66 0F D6 register form too */
    set_pd(8, 5, 6);
    g_assert_cmpint(run_r(0x7e, PF3, 8, 7), ==, -1);
    g_assert_cmphex(X(8)->q[0], ==, 0xdeadbeefcafef00dULL);
    g_assert_cmphex(X(8)->q[1], ==, 0);
    set_pd(9, 5, 6);
    g_assert_cmpint(run_r(0xd6, P66, 7, 9), ==, -1);
    g_assert_cmphex(X(9)->q[1], ==, 0);
    /* MOVQ2DQ / MOVDQ2Q */
    stub_fpu()->fpr[3].r.mant = 0x0102030405060708ULL;
    g_assert_cmpint(run_r(0xd6, PF3, 10, 3), ==, -1);
    g_assert_cmphex(X(10)->q[0], ==, 0x0102030405060708ULL);
    g_assert_cmpint(run_r(0xd6, PF2, 4, 7), ==, -1);
    g_assert_cmphex(stub_fpu()->fpr[4].r.mant, ==, 0xdeadbeefcafef00dULL);
    /* MOVMSKPS / PMOVMSKB */
    set_ps(11, 0x80000000, 1, 0xffffffff, 0x7fffffff);
    g_assert_cmpint(run_r(0x50, NONE, R_EAX, 11), ==, -1);
    g_assert_cmphex(stub_env.regs[R_EAX], ==, 0x5);
    g_assert_cmpint(run_r(0xd7, P66, R_EAX, 11), ==, -1);
    g_assert_cmphex(stub_env.regs[R_EAX], ==, 0x7f08);
    /* MASKMOVDQU to [rdi] */
    stub_env.regs[R_EDI] = 0x400;
    memset(stub_mem + 0x400, 0xee, 16);
    for (unsigned k = 0; k < 16; k++) {
        X(12)->b[k] = k;
        X(13)->b[k] = (k & 1) ? 0x80 : 0x7f;
    }
    g_assert_cmpint(run_r(0xf7, P66, 12, 13), ==, -1);
    g_assert_cmphex(stub_mem[0x400], ==, 0xee);
    g_assert_cmphex(stub_mem[0x401], ==, 1);
    g_assert_cmphex(stub_mem[0x40f], ==, 15);
    /* PINSRW / PEXTRW */
    stub_env.regs[R_EDX] = 0xabcd1234;
    g_assert_cmpint(run_ri(0xc4, P66, 12, R_EDX, 13), ==, -1);     /* index 13 & 7 = 5 */
    g_assert_cmphex(X(12)->w[5], ==, 0x1234);
    g_assert_cmpint(run_ri(0xc5, P66, R_ECX, 12, 5), ==, -1);
    g_assert_cmphex(stub_env.regs[R_ECX], ==, 0x1234);
}

/* ---- integer SIMD ----------------------------------------------------------------------- */

static void test_integer_directed(void)
{
    stub_fp_init();
    /* PADDSB / PADDUSB saturation */
    for (unsigned k = 0; k < 16; k++) {
        X(1)->sb[k] = 100;
        X(2)->sb[k] = k < 8 ? 100 : -100;
    }
    *X(3) = *X(1);
    g_assert_cmpint(run_r(0xec, P66, 1, 2), ==, -1);
    g_assert_cmpint(X(1)->sb[0], ==, 127);
    g_assert_cmpint(X(1)->sb[15], ==, 0);
    g_assert_cmpint(run_r(0xdc, P66, 3, 2), ==, -1);
    g_assert_cmphex(X(3)->b[0], ==, 200);
    g_assert_cmphex(X(3)->b[15], ==, 255);          /* 100 + 156 */
    /* PACKSSWB xmm: words of dst then src, signed saturation */
    set_pd(4, 0x7fff8000007f0080ULL, 0xffff0001ff80ff7fULL);
    set_pd(5, 0, 0x0100fffe00020003ULL);
    g_assert_cmpint(run_r(0x63, P66, 4, 5), ==, -1);
    g_assert_cmphex(X(4)->q[0], ==, 0xff0180807f807f7fULL);
    g_assert_cmphex(X(4)->q[1], ==, 0x7ffe020300000000ULL);
    /* PMADDWD, PSADBW */
    for (unsigned k = 0; k < 8; k++) {
        X(6)->sw[k] = -32768;
        X(7)->sw[k] = k == 0 ? -32768 : 3;
    }
    g_assert_cmpint(run_r(0xf5, P66, 6, 7), ==, -1);
    g_assert_cmphex(X(6)->l[0], ==, 0x3ffe8000);    /* 2^30 - 98304 */
    g_assert_cmphex(X(6)->l[1], ==, 0xfffd0000);
    for (unsigned k = 0; k < 16; k++) {
        X(8)->b[k] = k * 16;
        X(9)->b[k] = 255 - k;
    }
    g_assert_cmpint(run_r(0xf6, P66, 8, 9), ==, -1);
    /* sum |16k - (255 - k)| for k = 0..7 = sum (255 - 17k) = 2040 - 476 */
    g_assert_cmphex(X(8)->q[0], ==, 1564);
    /* k = 8..15: |16k - 255 + k| = 17k - 255 for k >= 15, else 255 - 17k */
    g_assert_cmphex(X(8)->q[1], ==, 119 + 102 + 85 + 68 + 51 + 34 + 17 + 0);
    /* shifts: count >= width gives 0 (logical) or the sign (arithmetic) */
    set_pd(10, 0x8000400020001000ULL, 0x0001000200040008ULL);
    set_pd(11, 16, 0);
    *X(12) = *X(10);
    g_assert_cmpint(run_r(0xd1, P66, 10, 11), ==, -1);          /* PSRLW */
    g_assert_cmphex(X(10)->q[0], ==, 0);
    g_assert_cmpint(run_r(0xe1, P66, 12, 11), ==, -1);          /* PSRAW */
    g_assert_cmphex(X(12)->q[0], ==, 0xffff000000000000ULL);
    set_pd(13, 0x8000000000000001ULL, 0x00ff00ff00ff00ffULL);
    g_assert_cmpint(run_ri(0x73, P66, 6, 13, 63), ==, -1);     /* PSLLQ 63 */
    g_assert_cmphex(X(13)->q[0], ==, 0x8000000000000000ULL);
    g_assert_cmphex(X(13)->q[1], ==, 0x8000000000000000ULL);
    set_pd(13, 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL);
    g_assert_cmpint(run_ri(0x73, P66, 3, 13, 3), ==, -1);      /* PSRLDQ 3 */
    g_assert_cmphex(X(13)->q[0], ==, 0x0a09080706050403ULL);
    g_assert_cmphex(X(13)->q[1], ==, 0x0000000f0e0d0c0bULL);
    g_assert_cmpint(run_ri(0x73, P66, 7, 13, 17), ==, -1);     /* PSLLDQ 17 */
    g_assert_cmphex(X(13)->q[0] | X(13)->q[1], ==, 0);
    /* PSHUFD / PSHUFLW / PSHUFHW */
    set_ps(14, 0xa, 0xb, 0xc, 0xd);
    g_assert_cmpint(run_ri(0x70, P66, 15, 14, 0x1b), ==, -1);
    g_assert_cmphex(X(15)->l[0], ==, 0xd);
    g_assert_cmphex(X(15)->l[3], ==, 0xa);
    set_pd(14, 0x0004000300020001ULL, 0x0008000700060005ULL);
    g_assert_cmpint(run_ri(0x70, PF2, 15, 14, 0x00), ==, -1);
    g_assert_cmphex(X(15)->q[0], ==, 0x0001000100010001ULL);
    g_assert_cmphex(X(15)->q[1], ==, 0x0008000700060005ULL);
    g_assert_cmpint(run_ri(0x70, PF3, 15, 14, 0xff), ==, -1);
    g_assert_cmphex(X(15)->q[0], ==, 0x0004000300020001ULL);
    g_assert_cmphex(X(15)->q[1], ==, 0x0008000800080008ULL);
    /* PUNPCKHQDQ, PUNPCKLQDQ */
    set_pd(1, 1, 2);
    set_pd(2, 3, 4);
    g_assert_cmpint(run_r(0x6d, P66, 1, 2), ==, -1);
    g_assert_cmphex(X(1)->q[0], ==, 2);
    g_assert_cmphex(X(1)->q[1], ==, 4);
    /* SHUFPS / SHUFPD / UNPCKHPS */
    set_ps(1, 10, 11, 12, 13);
    set_ps(2, 20, 21, 22, 23);
    g_assert_cmpint(run_ri(0xc6, NONE, 1, 2, 0x4e), ==, -1);    /* 1,0 | 3,2... */
    g_assert_cmphex(X(1)->l[0], ==, 12);
    g_assert_cmphex(X(1)->l[1], ==, 13);
    g_assert_cmphex(X(1)->l[2], ==, 20);
    g_assert_cmphex(X(1)->l[3], ==, 21);
    set_ps(1, 10, 11, 12, 13);
    g_assert_cmpint(run_r(0x15, NONE, 1, 2), ==, -1);
    g_assert_cmphex(X(1)->l[0], ==, 12);
    g_assert_cmphex(X(1)->l[1], ==, 22);
    g_assert_cmphex(X(1)->l[3], ==, 23);
    set_pd(1, 1, 2);
    set_pd(2, 3, 4);
    g_assert_cmpint(run_ri(0xc6, P66, 1, 2, 1), ==, -1);
    g_assert_cmphex(X(1)->q[0], ==, 2);
    g_assert_cmphex(X(1)->q[1], ==, 3);
    /* ANDNPS */
    set_pd(1, 0xff00ff00ff00ff00ULL, 0);
    set_pd(2, 0x0ff00ff00ff00ff0ULL, ~0ULL);
    g_assert_cmpint(run_r(0x55, NONE, 1, 2), ==, -1);
    g_assert_cmphex(X(1)->q[0], ==, 0x00f000f000f000f0ULL);
    g_assert_cmphex(X(1)->q[1], ==, ~0ULL);
}

static uint64_t *MM(unsigned n)
{
    return &stub_fpu()->fpr[n].r.mant;
}

static void test_mmx(void)
{
    stub_fp_init();
    stub_fpu()->top = 3;
    stub_fpu()->ftw = 0x01;
    *MM(1) = 0x7fff8000007f0080ULL;
    *MM(2) = 0xffff0001ff80ff7fULL;
    g_assert_cmpint(run_r(0x63, NONE, 1, 2), ==, -1);           /* PACKSSWB mm */
    g_assert_cmphex(*MM(1), ==, 0xff0180807f807f7fULL);
    g_assert_cmpint(stub_fpu()->top, ==, 0);
    g_assert_cmphex(stub_fpu()->ftw, ==, 0xff);
    g_assert_cmphex(stub_fpu()->fpr[1].r.sexp, ==, 0xffff);
    /* PUNPCKHBW mm: the high 4 bytes interleaved */
    *MM(3) = 0x8877665544332211ULL;
    *MM(4) = 0x0807060504030201ULL;
    g_assert_cmpint(run_r(0x68, NONE, 3, 4), ==, -1);
    g_assert_cmphex(*MM(3), ==, 0x0888077706660555ULL);
    *MM(3) = 0x8877665544332211ULL;
    g_assert_cmpint(run_r(0x60, NONE, 3, 4), ==, -1);           /* PUNPCKLBW */
    g_assert_cmphex(*MM(3), ==, 0x0444033302220111ULL);
    /* PADDUSW from memory, PSRLQ by immediate, PSHUFW */
    stub_wr(0x333, 8, 0x0001000100010001ULL);
    *MM(5) = 0xffff000100020003ULL;
    g_assert_cmpint(run_m(0xdd, NONE, 5, 0x333), ==, -1);
    g_assert_cmphex(*MM(5), ==, 0xffff000200030004ULL);
    g_assert_cmpint(run_ri(0x73, NONE, 2, 5, 16), ==, -1);
    g_assert_cmphex(*MM(5), ==, 0x0000ffff00020003ULL);
    g_assert_cmpint(run_ri(0x70, NONE, 6, 5, 0x1b), ==, -1);
    g_assert_cmphex(*MM(6), ==, 0x00030002ffff0000ULL);
    /* MOVD mm, r32 / MOVQ m64, mm */
    stub_env.regs[R_EAX] = 0x1234567890ULL;
    g_assert_cmpint(run_r(0x6e, NONE, 7, R_EAX), ==, -1);
    g_assert_cmphex(*MM(7), ==, 0x34567890);
    g_assert_cmpint(run_m(0x7f, NONE, 7, 0x500), ==, -1);
    g_assert_cmphex(*(uint64_t *)(stub_mem + 0x500), ==, 0x34567890);
    /* PMULUDQ mm: the low dwords */
    *MM(1) = 0x00000005ffffffffULL;
    *MM(2) = 0x00000007ffffffffULL;
    g_assert_cmpint(run_r(0xf4, NONE, 1, 2), ==, -1);
    g_assert_cmphex(*MM(1), ==, 0xfffffffe00000001ULL);
    /* EMMS empties the tags */
    g_assert_cmpint(run_r(0x77, NONE, 0, 0), ==, -1);
    g_assert_cmphex(stub_fpu()->ftw, ==, 0);
    /* faults: EM -> #UD, TS -> #NM, a pending x87 exception -> #MF */
    stub_env.cr0 |= TCGL_CR0_EM;
    g_assert_cmpint(run_r(0xfc, NONE, 1, 2), ==, TCGL_EXC_UD);
    stub_env.cr0 &= ~TCGL_CR0_EM;
    stub_env.cr0 |= TCGL_CR0_TS;
    g_assert_cmpint(run_r(0xfc, NONE, 1, 2), ==, TCGL_EXC_NM);
    g_assert_cmpint(run_r(0x77, NONE, 1, 2), ==, TCGL_EXC_NM);
    stub_env.cr0 &= ~TCGL_CR0_TS;
    stub_fpu()->fsw = FSW_ES | FSW_ZE;
    g_assert_cmpint(run_r(0xfc, NONE, 1, 2), ==, TCGL_EXC_MF);
}

/* A fault in an MMX instruction after its x87 -> MMX transition undoes
 * the transition (tcgl_mmx_fault_undo, which the execution loop calls at
 * every fault), but only in the same run of that instruction: a record a
 * completed run left at the same rip must not apply when that rip faults
 * later before its transition (#MF from a pending x87 exception).  The
 * loop's c->insns moves at every block end in between (here by hand);
 * chained blocks in compiled code never pass the executor's
 * tcgl_mmx_undo_forget, so this is what tells the two runs apart. */
static void test_mmx_fault_undo(void)
{
    TCGLFPU *f;

    stub_fp_init();
    f = stub_fpu();
    stub_env.rip = 0x1000;
    stub_cpu.insns = 100;
    /* PADDW mm1, [0x600]: #PF in the load, after the transition: undone */
    f->top = 5;
    f->ftw = 0x07;
    stub_fault_off = 0x600;
    g_assert_cmpint(run_m(0xfd, NONE, 1, 0x600), ==, 14);
    g_assert_cmpint(f->top, ==, 0);         /* the transition happened... */
    g_assert_cmphex(f->ftw, ==, 0xff);
    tcgl_mmx_fault_undo(&stub_cpu);
    g_assert_cmpint(f->top, ==, 5);         /* ...and is undone */
    g_assert_cmphex(f->ftw, ==, 0x07);
    /* the same instruction completes: its record stays behind */
    stub_fault_off = ~0ULL;
    g_assert_cmpint(run_m(0xfd, NONE, 1, 0x600), ==, -1);
    g_assert_cmpint(f->top, ==, 0);
    /* x87 code runs (top 3, two registers in use, a pending #MF) in
     * later blocks, then the same rip again: #MF before the transition */
    stub_cpu.insns += 4;
    f->top = 3;
    f->ftw = 0xc0;
    f->fsw = FSW_ES | FSW_ZE;
    g_assert_cmpint(run_m(0xfd, NONE, 1, 0x600), ==, TCGL_EXC_MF);
    tcgl_mmx_fault_undo(&stub_cpu);
    g_assert_cmpint(f->top, ==, 3);         /* not the stale record's 5/0x07 */
    g_assert_cmphex(f->ftw, ==, 0xc0);
}

/* ---- faults, MXCSR, FXSAVE -------------------------------------------------------------- */

static void test_sse_faults(void)
{
    stub_fp_init();
    stub_env.cr0 |= TCGL_CR0_TS;
    g_assert_cmpint(run_r(0x58, NONE, 1, 2), ==, TCGL_EXC_NM);
    g_assert_cmpint(run_r(0xfe, P66, 1, 2), ==, TCGL_EXC_NM);
    stub_env.cr4 &= ~TCGL_CR4_OSFXSR;
    g_assert_cmpint(run_r(0x58, NONE, 1, 2), ==, TCGL_EXC_UD);     /* #UD before #NM */
    stub_env.cr0 &= ~TCGL_CR0_TS;
    g_assert_cmpint(run_r(0x58, NONE, 1, 2), ==, TCGL_EXC_UD);
    stub_env.cr4 |= TCGL_CR4_OSFXSR;
    stub_env.cr0 |= TCGL_CR0_EM;
    g_assert_cmpint(run_r(0x28, NONE, 1, 2), ==, TCGL_EXC_UD);
    stub_env.cr0 &= ~TCGL_CR0_EM;
    g_assert_cmpint(run_r(0x28, NONE, 1, 2), ==, -1);
    /* packed integer memory operands must be aligned too */
    g_assert_cmpint(run_m(0xfe, P66, 1, 0x101), ==, TCGL_EXC_GP);
    g_assert_cmpint(run_m(0xfe, NONE, 1, 0x101), ==, -1);          /* MMX: no */
}

static void test_mxcsr(void)
{
    stub_fp_init();
    *(uint32_t *)(stub_mem + 0x40) = 0x0000ffc0;
    g_assert_cmpint(run_m(0xae, NONE, 2, 0x40), ==, -1);            /* LDMXCSR */
    g_assert_cmphex(stub_fpu()->mxcsr, ==, 0xffc0);
    *(uint32_t *)(stub_mem + 0x40) = 0x00011f80;
    g_assert_cmpint(run_m(0xae, NONE, 2, 0x40), ==, TCGL_EXC_GP);
    g_assert_cmphex(stub_fpu()->mxcsr, ==, 0xffc0);
    g_assert_cmpint(run_m(0xae, NONE, 3, 0x43), ==, -1);            /* STMXCSR */
    g_assert_cmphex(stub_rd(0x43, 4), ==, 0xffc0);
    stub_env.cr4 &= ~TCGL_CR4_OSFXSR;
    g_assert_cmpint(run_m(0xae, NONE, 3, 0x43), ==, TCGL_EXC_UD);
}

static void test_fxsave_fxrstor(void)
{
    TCGLFPU *f;
    TCGLInsn i;

    stub_fp_init();
    f = stub_fpu();
    f->fcw = 0x027f;
    f->fsw = FSW_C3 | FSW_PE;
    f->top = 6;
    f->ftw = 0xc0;                      /* R6, R7 in use */
    f->fop = 0x1dd;
    f->fip = 0x1122334455667788ULL;
    f->fdp = 0x99aabbccddeeff00ULL;
    f->fpr[6].ld = 1.0L;
    f->fpr[7].ld = -2.5L;
    f->mxcsr = 0x9fc0;
    for (unsigned k = 0; k < 16; k++) {
        set_pd(k, 0x0101010101010101ULL * k, ~(0x0101010101010101ULL * k));
    }
    memset(stub_mem + 0x1000, 0x5a, 0x300);
    /* 64-bit layout (REX.W) */
    i = stub_insn_m(M0F, 0xae, NONE, 0, 0x1000, 0);
    i.rex = 0x48;
    g_assert_cmpint(stub_run(&i), ==, -1);
    uint8_t *img = stub_mem + 0x1000;
    g_assert_cmphex(*(uint16_t *)(img + 0), ==, 0x027f);
    g_assert_cmphex(*(uint16_t *)(img + 2), ==, FSW_C3 | FSW_PE | (6 << 11));
    g_assert_cmphex(img[4], ==, 0xc0);
    g_assert_cmphex(*(uint16_t *)(img + 6), ==, 0x1dd);
    g_assert_cmphex(*(uint64_t *)(img + 8), ==, 0x1122334455667788ULL);
    g_assert_cmphex(*(uint64_t *)(img + 16), ==, 0x99aabbccddeeff00ULL);
    g_assert_cmphex(*(uint32_t *)(img + 24), ==, 0x9fc0);
    g_assert_cmphex(*(uint32_t *)(img + 28), ==, 0xffff);
    /* ST0 = R6 = 1.0: mantissa 8000.., exponent 3fff */
    g_assert_cmphex(*(uint64_t *)(img + 32), ==, 0x8000000000000000ULL);
    g_assert_cmphex(*(uint16_t *)(img + 40), ==, 0x3fff);
    g_assert_cmphex(*(uint16_t *)(img + 56), ==, 0xc000);     /* ST1 = -2.5 */
    g_assert_cmphex(*(uint64_t *)(img + 160 + 16 * 15), ==, 0x0f0f0f0f0f0f0f0fULL);
    g_assert_cmphex(img[464], ==, 0x5a);                    /* software area kept */
    /* 32-bit layout outside 64-bit mode: FCS/FDS, XMM8-15 not written */
    memset(stub_mem + 0x1400, 0x5a, 0x200);
    stub_cpu.hflags = TCGL_HF_PE | TCGL_HF_CS32;
    f->fcs = 0x23;
    f->fds = 0x2b;
    g_assert_cmpint(run_m(0xae, NONE, 0, 0x1400), ==, -1);
    img = stub_mem + 0x1400;
    g_assert_cmphex(*(uint32_t *)(img + 8), ==, 0x55667788);
    g_assert_cmphex(*(uint16_t *)(img + 12), ==, 0x23);
    g_assert_cmphex(*(uint32_t *)(img + 16), ==, 0xddeeff00);
    g_assert_cmphex(*(uint16_t *)(img + 20), ==, 0x2b);
    g_assert_cmphex(*(uint64_t *)(img + 160 + 16 * 7), ==, 0x0707070707070707ULL);
    g_assert_cmphex(img[160 + 16 * 8], ==, 0x5a);
    /* alignment */
    g_assert_cmpint(run_m(0xae, NONE, 0, 0x1408), ==, TCGL_EXC_GP);
    g_assert_cmpint(run_m(0xae, NONE, 1, 0x1408), ==, TCGL_EXC_GP);
    /* round trip: wipe, restore from the 64-bit image */
    stub_cpu.hflags = TCGL_HF_CS64 | TCGL_HF_LMA | TCGL_HF_PE;
    tcgl_fpu_reset(f);
    i = stub_insn_m(M0F, 0xae, NONE, 1, 0x1000, 0);
    i.rex = 0x48;
    g_assert_cmpint(stub_run(&i), ==, -1);
    g_assert_cmphex(f->fcw, ==, 0x027f);
    g_assert_cmpint(f->top, ==, 6);
    g_assert_cmphex(f->ftw, ==, 0xc0);
    g_assert_cmphex(f->fip, ==, 0x1122334455667788ULL);
    g_assert_true(f->fpr[6].ld == 1.0L);
    g_assert_true(f->fpr[7].ld == -2.5L);
    g_assert_cmphex(f->mxcsr, ==, 0x9fc0);
    g_assert_cmphex(X(15)->q[1], ==, ~0x0f0f0f0f0f0f0f0fULL);
    /* a reserved MXCSR bit in the image: #GP, nothing loaded */
    *(uint32_t *)(stub_mem + 0x1000 + 24) = 0x10000;
    f->fcw = 0x37f;
    g_assert_cmpint(stub_run(&i), ==, TCGL_EXC_GP);
    g_assert_cmphex(f->fcw, ==, 0x37f);
    /* #NM with CR0.TS or CR0.EM */
    stub_env.cr0 |= TCGL_CR0_EM;
    g_assert_cmpint(run_m(0xae, NONE, 0, 0x1000), ==, TCGL_EXC_NM);
    /* env image sync */
    stub_env.cr0 &= ~TCGL_CR0_EM;
    f->mxcsr = 0x1f80 | MXCSR_PE;
    set_pd(3, 0x3333, 0x4444);
    tcgl_fp_state_to_env(&stub_cpu);
    g_assert_cmphex(*(uint32_t *)(stub_env.xsave + 24), ==, 0x1fa0);
    g_assert_cmphex(*(uint64_t *)(stub_env.xsave + 160 + 48 + 8), ==, 0x4444);
    g_assert_cmphex(*(uint64_t *)(stub_env.xsave + 512) & 3, ==, 3);
    tcgl_fpu_reset(f);
    tcgl_fp_state_from_env(&stub_cpu);
    g_assert_cmphex(X(3)->q[1], ==, 0x4444);
    g_assert_cmphex(f->mxcsr, ==, 0x1fa0);
    g_assert_cmpint(f->top, ==, 6);
}

/* The state a reset leaves in env (x86_cpu_reset_state) loads as FNINIT
 * + MXCSR 0x1f80; CR4.OSFXSR is clear then, so SSE is #UD until the OS
 * turns it on, while the x87 works. */
static void test_reset_state(void)
{
    TCGLFPU *f;
    TCGLInsn i;

    stub_fp_init();
    x86_cpu_reset_state(&stub_env, 0, true);
    memset(stub_fpu(), 0xa5, sizeof(TCGLFPU));
    tcgl_fp_state_from_env(&stub_cpu);
    f = stub_fpu();
    g_assert_cmphex(f->fcw, ==, 0x037f);
    g_assert_cmphex(tcgl_fpu_get_fsw(f), ==, 0);
    g_assert_cmphex(tcgl_fpu_get_ftw(f), ==, 0xffff);
    g_assert_cmphex(f->mxcsr, ==, 0x1f80);
    g_assert_cmphex(X(15)->q[0] | X(15)->q[1], ==, 0);
    g_assert_cmpint(run_r(0x58, NONE, 1, 2), ==, TCGL_EXC_UD);
    i = stub_insn_r(TCGL_MAP_1B, 0xd9, TCGL_MP_ANY, 5, 0, 0);      /* FLD1 */
    g_assert_cmpint(stub_run(&i), ==, -1);
    tcgl_fp_state_to_env(&stub_cpu);
    g_assert_cmphex(*(uint16_t *)(stub_env.xsave + 2), ==, 7 << 11);
    g_assert_cmphex(stub_env.xsave[4], ==, 0x80);
    g_assert_cmphex(*(uint16_t *)(stub_env.xsave + 32 + 8), ==, 0x3fff);
}

/* The decoder asserts at start-up that no form is claimed twice: check
 * the fp tables among themselves (and that each row has a handler). */
static bool rows_overlap(const TCGLOpDesc *a, const TCGLOpDesc *b)
{
    return a->opc == b->opc &&
           (a->reg < 0 || b->reg < 0 || a->reg == b->reg) &&
           (a->pfx == TCGL_MP_ANY || b->pfx == TCGL_MP_ANY || a->pfx == b->pfx) &&
           (a->mod == TCGL_MOD_ANY || b->mod == TCGL_MOD_ANY || a->mod == b->mod);
}

static void test_tables(void)
{
    const TCGLOpDesc *tables[] = { tcgl_ops_sse, tcgl_ops_fpu };
    unsigned rows = 0;

    for (unsigned t = 0; t < 2; t++) {
        for (const TCGLOpDesc *a = tables[t]; a->opc != 0xffff; a++) {
            rows++;
            g_assert_true(a->fn || a->select);
            for (unsigned u = t; u < 2; u++) {
                const TCGLOpDesc *b = u == t ? a + 1 : tables[u];
                for (; b->opc != 0xffff; b++) {
                    if (rows_overlap(a, b)) {
                        g_test_message("opc %#x reg %d pfx %d mod %d twice", a->opc, a->reg,
                                       a->pfx, a->mod);
                    }
                    g_assert_false(rows_overlap(a, b));
                }
            }
        }
    }
    g_assert_cmpuint(rows, >, 400);
}

/* Guest-reachable input never crashes: every form of both tables with
 * random registers, control words, x87 contents (any encoding), MXCSR,
 * CR0/CR4 bits, immediates and memory operands; any outcome but a host
 * crash (or a host FP exception left unmasked) is fine. */
static void test_random_robustness(void)
{
    const TCGLOpDesc *tables[] = { tcgl_ops_sse, tcgl_ops_fpu };
    GRand *r = g_rand_new_with_seed(99);
    unsigned runs = 0;

    for (unsigned t = 0; t < 2; t++) {
        for (const TCGLOpDesc *d = tables[t]; d->opc != 0xffff; d++) {
            for (unsigned iter = 0; iter < 40; iter++) {
                TCGLInsn i = { 0 };
                TCGLFPU *f;
                bool mem = d->mod == TCGL_MOD_MEM ||
                           (d->mod == TCGL_MOD_ANY && g_rand_boolean(r));
                unsigned reg = d->reg >= 0 ? (unsigned)d->reg : g_rand_int_range(r, 0, 8);

                stub_fp_init();
                f = stub_fpu();
                for (unsigned k = 0; k < 16; k++) {
                    stub_env.regs[k] = g_rand_boolean(r) ? g_rand_int(r) :
                                       (uint64_t)g_rand_int(r) << 32 | g_rand_int(r);
                    for (unsigned j = 0; j < 4; j++) {
                        f->xmm[k].l[j] = g_rand_int(r);
                    }
                }
                for (unsigned k = 0; k < 8; k++) {
                    f->fpr[k].r.mant = (uint64_t)g_rand_int(r) << 32 | g_rand_int(r);
                    f->fpr[k].r.sexp = g_rand_int(r);
                }
                f->top = g_rand_int_range(r, 0, 8);
                f->ftw = g_rand_int(r);
                f->fcw = g_rand_int(r);
                f->fsw = g_rand_int(r) & ~FSW_TOP & ~(FSW_ES | FSW_B);
                f->mxcsr = g_rand_int(r) & 0xffff;
                stub_env.cr0 ^= (g_rand_int_range(r, 0, 8) == 0) ? TCGL_CR0_TS : 0;
                stub_env.cr0 ^= (g_rand_int_range(r, 0, 8) == 0) ? TCGL_CR0_EM : 0;
                stub_env.cr4 ^= (g_rand_int_range(r, 0, 8) == 0) ? TCGL_CR4_OSXMMEXCPT : 0;
                for (unsigned k = 0; k < 0x800; k += 4) {
                    stub_wr(0x1000 + k, 4, g_rand_int(r));
                }
                i.opc = d->opc;
                i.len = 5;
                i.opsize = g_rand_boolean(r) ? 4 : 2;
                i.adsize = 8;
                i.seg = R_DS;
                i.rex = g_rand_boolean(r) ? 0x48 : 0;
                i.pfx = g_rand_boolean(r) ? TCGL_PFX_OPSIZE : 0;
                i.reg = reg | (g_rand_boolean(r) ? 8 : 0);
                i.base = i.index = TCGL_NOREG;
                i.imm = g_rand_int(r) & 0xff;
                if (mem) {
                    i.mod = 0;
                    i.modrm = reg << 3 | 4;
                    i.disp = 0x1000 + g_rand_int_range(r, 0, 0x400) *
                             (g_rand_boolean(r) ? 1 : 16);
                } else {
                    i.mod = 3;
                    i.rm = g_rand_int_range(r, 0, 16);
                    i.modrm = 0xc0 | reg << 3 | (i.rm & 7);
                }
                i.fn = d->select ? d->select(&i) : d->fn;
                if (!i.fn) {
                    continue;
                }
                stub_run(&i);
                runs++;
                /* the host's own state is as it was */
                g_assert_cmphex(_mm_getcsr() & ~MXCSR_FLAGS, ==, 0x1f80);
                uint16_t host_cw;
                __asm__ volatile("fnstcw %0" : "=m" (host_cw));
                g_assert_cmphex(host_cw, ==, 0x037f);
            }
        }
    }
    g_assert_cmpuint(runs, >, 10000);
    g_rand_free(r);
}

/* Forms the other tests do not reach. */
static void test_misc_forms(void)
{
    TCGLInsn i;

    stub_fp_init();
    /* MOVDDUP xmm, m64 / MOVSLDUP / MOVSHDUP */
    stub_wr(0x108, 8, 0x1122334455667788ULL);
    i = stub_insn_m(M0F, 0x12, PF2, 1, 0x108, 0);
    g_assert_cmpint(stub_run(&i), ==, -1);
    g_assert_cmphex(X(1)->q[0], ==, 0x1122334455667788ULL);
    g_assert_cmphex(X(1)->q[1], ==, 0x1122334455667788ULL);
    set_ps(2, 1, 2, 3, 4);
    g_assert_cmpint(run_r(0x12, PF3, 3, 2), ==, -1);
    g_assert_cmphex(X(3)->l[0], ==, 1);
    g_assert_cmphex(X(3)->l[1], ==, 1);
    g_assert_cmphex(X(3)->l[2], ==, 3);
    g_assert_cmpint(run_r(0x16, PF3, 3, 2), ==, -1);
    g_assert_cmphex(X(3)->l[0], ==, 2);
    g_assert_cmphex(X(3)->l[3], ==, 4);
    /* LDDQU unaligned, MOVNTI m64 (REX.W), MOVNTPS aligned */
    for (unsigned k = 0; k < 16; k++) {
        stub_mem[0x121 + k] = k;
    }
    i = stub_insn_m(M0F, 0xf0, PF2, 4, 0x121, 0);
    g_assert_cmpint(stub_run(&i), ==, -1);
    g_assert_cmphex(X(4)->q[1], ==, 0x0f0e0d0c0b0a0908ULL);
    stub_env.regs[R_ESI] = 0xfedcba9876543210ULL;
    i = stub_insn_m(M0F, 0xc3, NONE, R_ESI, 0x141, 0);
    i.rex = 0x48;
    g_assert_cmpint(stub_run(&i), ==, -1);
    g_assert_cmphex(stub_rd(0x141, 8), ==, 0xfedcba9876543210ULL);
    i.rex = 0;
    stub_wr(0x141, 8, 0);
    g_assert_cmpint(stub_run(&i), ==, -1);
    g_assert_cmphex(stub_rd(0x141, 8), ==, 0x76543210);
    g_assert_cmpint(run_m(0x2b, NONE, 4, 0x148), ==, TCGL_EXC_GP);
    /* CVTPD2PI mm, xmm; CVTPI2PD xmm, m64 */
    set_pd(5, 0xc004000000000000ULL /* -2.5 */, 0x4016000000000000ULL /* 5.5 */);
    g_assert_cmpint(run_r(0x2d, P66, 2, 5), ==, -1);
    g_assert_cmphex(stub_fpu()->fpr[2].r.mant, ==, 0x00000006fffffffeULL);
    stub_wr(0x150, 8, 0xfffffffd00000007ULL);
    g_assert_cmpint(run_m(0x2a, P66, 6, 0x150), ==, -1);
    g_assert_cmphex(X(6)->q[0], ==, 0x401c000000000000ULL);       /* 7.0 */
    g_assert_cmphex(X(6)->q[1], ==, 0xc008000000000000ULL);       /* -3.0 */
    /* PSHUFW mm, m64; PINSRW mm; PEXTRW r, mm; PMOVMSKB r, mm */
    stub_wr(0x160, 8, 0x4444333322221111ULL);
    i = stub_insn_m(M0F, 0x70, NONE, 3, 0x160, 0x1b);
    g_assert_cmpint(stub_run(&i), ==, -1);
    g_assert_cmphex(stub_fpu()->fpr[3].r.mant, ==, 0x1111222233334444ULL);
    stub_env.regs[R_EAX] = 0xabcd;
    g_assert_cmpint(run_ri(0xc4, NONE, 3, R_EAX, 6), ==, -1);
    g_assert_cmphex(stub_fpu()->fpr[3].r.mant, ==, 0x1111abcd33334444ULL);
    g_assert_cmpint(run_ri(0xc5, NONE, R_EDX, 3, 1), ==, -1);
    g_assert_cmphex(stub_env.regs[R_EDX], ==, 0x3333);
    stub_fpu()->fpr[4].r.mant = 0x80ff007f01800000ULL;
    g_assert_cmpint(run_r(0xd7, NONE, R_EBX, 4), ==, -1);
    g_assert_cmphex(stub_env.regs[R_EBX], ==, 0xc4);
    /* MASKMOVQ */
    stub_env.regs[R_EDI] = 0x170;
    stub_fpu()->fpr[5].r.mant = 0x0807060504030201ULL;
    stub_fpu()->fpr[6].r.mant = 0x8000000000000080ULL;
    g_assert_cmpint(run_r(0xf7, NONE, 5, 6), ==, -1);
    g_assert_cmphex(stub_rd(0x170, 8), ==, 0x0800000000000001ULL);
    /* MOVD m32, mm; MOVQ mm, mm */
    g_assert_cmpint(run_m(0x7e, NONE, 5, 0x180), ==, -1);
    g_assert_cmphex(stub_rd(0x180, 8), ==, 0x04030201);
    g_assert_cmpint(run_r(0x6f, NONE, 7, 5), ==, -1);
    g_assert_cmphex(stub_fpu()->fpr[7].r.mant, ==, 0x0807060504030201ULL);
    /* MOVLPD m64 load keeps the top, MOVHPD store */
    set_pd(7, 1, 2);
    g_assert_cmpint(run_m(0x12, P66, 7, 0x160), ==, -1);
    g_assert_cmphex(X(7)->q[0], ==, 0x4444333322221111ULL);
    g_assert_cmphex(X(7)->q[1], ==, 2);
    g_assert_cmpint(run_m(0x17, P66, 7, 0x188), ==, -1);
    g_assert_cmphex(stub_rd(0x188, 8), ==, 2);
    /* CVTSS2SD xmm, m32 keeps the top; CVTDQ2PD from m64 */
    set_pd(8, 0, 0x9999);
    stub_wr(0x190, 4, 0x3fc00000);
    g_assert_cmpint(run_m(0x5a, PF3, 8, 0x190), ==, -1);
    g_assert_cmphex(X(8)->q[0], ==, 0x3ff8000000000000ULL);
    g_assert_cmphex(X(8)->q[1], ==, 0x9999);
    stub_wr(0x198, 8, 0x80000000ffffffffULL);
    g_assert_cmpint(run_m(0xe6, PF3, 8, 0x198), ==, -1);
    g_assert_cmphex(X(8)->q[0], ==, 0xbff0000000000000ULL);
    g_assert_cmphex(X(8)->q[1], ==, 0xc1e0000000000000ULL);
}

/* ---- XSAVE / XRSTOR / XSAVEOPT ----------------------------------------------------- */

static int xop(unsigned r, uint64_t addr, uint64_t rfbm)
{
    stub_env.regs[R_EAX] = (uint32_t)rfbm | 0xdead00000000ULL;
    stub_env.regs[R_EDX] = rfbm >> 32;
    return run_m(0xae, NONE, r, addr);
}

static uint64_t xstate_bv(uint64_t addr)
{
    return *(uint64_t *)(stub_mem + addr + 512);
}

static void test_xsave(void)
{
    stub_fp_init();
    /* faults: OSXSAVE, TS, alignment 64 */
    stub_env.cr4 &= ~TCGL_CR4_OSXSAVE;
    g_assert_cmpint(xop(4, 0x2000, 3), ==, TCGL_EXC_UD);
    stub_env.cr4 |= TCGL_CR4_OSXSAVE;
    stub_env.cr0 |= TCGL_CR0_TS;
    g_assert_cmpint(xop(4, 0x2000, 3), ==, TCGL_EXC_NM);
    stub_env.cr0 &= ~TCGL_CR0_TS;
    g_assert_cmpint(xop(4, 0x2020, 3), ==, TCGL_EXC_GP);
    g_assert_cmpint(xop(5, 0x2020, 3), ==, TCGL_EXC_GP);

    /* everything in its initial configuration: XSTATE_BV 0, the legacy
     * fields written anyway by XSAVE */
    memset(stub_mem + 0x2000, 0x5a, 0x300);
    *(uint64_t *)(stub_mem + 0x2000 + 512) = 0x8000000000000004ULL;
    g_assert_cmpint(xop(4, 0x2000, ~0ULL), ==, -1);
    g_assert_cmphex(xstate_bv(0x2000), ==, 0x8000000000000004ULL);   /* others kept */
    g_assert_cmphex(*(uint16_t *)(stub_mem + 0x2000), ==, 0x037f);
    g_assert_cmphex(*(uint32_t *)(stub_mem + 0x2000 + 24), ==, 0x1f80);
    g_assert_cmphex(*(uint64_t *)(stub_mem + 0x2000 + 160), ==, 0);
    g_assert_cmphex(stub_mem[0x2000 + 520], ==, 0x5a);                /* XCOMP_BV untouched */
    /* XSAVEOPT skips components in the initial configuration */
    memset(stub_mem + 0x2400, 0x5a, 0x300);
    g_assert_cmpint(xop(6, 0x2400, 3), ==, -1);
    g_assert_cmphex(xstate_bv(0x2400), ==, 0x5a5a5a5a5a5a5a58ULL);
    g_assert_cmphex(*(uint16_t *)(stub_mem + 0x2400), ==, 0x5a5a);
    g_assert_cmphex(*(uint64_t *)(stub_mem + 0x2400 + 160), ==, 0x5a5a5a5a5a5a5a5aULL);
    g_assert_cmphex(*(uint32_t *)(stub_mem + 0x2400 + 24), ==, 0x1f80);

    /* state in use: only the requested components, XSTATE_BV follows */
    set_pd(1, 0x1111, 0x2222);
    stub_fpu()->fcw = 0x027f;
    stub_fpu()->mxcsr = 0x9fc0;
    memset(stub_mem + 0x2800, 0, 0x300);
    g_assert_cmpint(xop(4, 0x2800, 2), ==, -1);                 /* SSE only */
    g_assert_cmphex(xstate_bv(0x2800), ==, 2);
    g_assert_cmphex(*(uint16_t *)(stub_mem + 0x2800), ==, 0);   /* x87 not written */
    g_assert_cmphex(*(uint64_t *)(stub_mem + 0x2800 + 176 + 8), ==, 0x2222);
    stub_env.xcr0 = XSTATE_FP;                                  /* XCR0 limits RFBM */
    g_assert_cmpint(xop(4, 0x2800, 3), ==, -1);
    g_assert_cmphex(xstate_bv(0x2800), ==, 3);
    g_assert_cmphex(*(uint16_t *)(stub_mem + 0x2800), ==, 0x027f);
    stub_env.xcr0 = XSTATE_FP | XSTATE_SSE;

    /* XRSTOR: a component with its XSTATE_BV bit clear is initialised;
     * MXCSR comes from memory whenever SSE is requested */
    tcgl_fpu_reset(stub_fpu());
    *(uint64_t *)(stub_mem + 0x2800 + 512) = 1;
    *(uint32_t *)(stub_mem + 0x2800 + 24) = 0x1fc0;
    set_pd(2, 7, 7);
    g_assert_cmpint(xop(5, 0x2800, 3), ==, -1);
    g_assert_cmphex(stub_fpu()->fcw, ==, 0x027f);
    g_assert_cmphex(X(1)->q[1], ==, 0);
    g_assert_cmphex(X(2)->q[0], ==, 0);
    g_assert_cmphex(stub_fpu()->mxcsr, ==, 0x1fc0);
    *(uint64_t *)(stub_mem + 0x2800 + 512) = 3;
    g_assert_cmpint(xop(5, 0x2800, 2), ==, -1);
    g_assert_cmphex(X(1)->q[1], ==, 0x2222);
    /* header checks: a bit outside XCR0, XCOMP_BV, reserved MXCSR */
    *(uint64_t *)(stub_mem + 0x2800 + 512) = 7;
    g_assert_cmpint(xop(5, 0x2800, 3), ==, TCGL_EXC_GP);
    *(uint64_t *)(stub_mem + 0x2800 + 512) = 3;
    *(uint64_t *)(stub_mem + 0x2800 + 520) = 1ULL << 63;
    g_assert_cmpint(xop(5, 0x2800, 3), ==, TCGL_EXC_GP);
    *(uint64_t *)(stub_mem + 0x2800 + 520) = 0;
    *(uint32_t *)(stub_mem + 0x2800 + 24) = 0x10000;
    g_assert_cmpint(xop(5, 0x2800, 3), ==, TCGL_EXC_GP);
    g_assert_cmpint(xop(5, 0x2800, 1), ==, -1);                 /* MXCSR not requested */
}

/* ---- differential: the host CPU as the oracle ---------------------------------------- */

typedef void NativeFn(XMMReg *d, const XMMReg *s);

#define NATIVE(name, insn) \
static void nat_##name(XMMReg *d, const XMMReg *s) \
{ __asm__ volatile(insn " %1, %0" : "+x" (d->v) : "x" (s->v)); }

NATIVE(addps, "addps") NATIVE(subps, "subps") NATIVE(mulps, "mulps") NATIVE(divps, "divps")
NATIVE(minps, "minps") NATIVE(maxps, "maxps") NATIVE(sqrtps, "sqrtps")
NATIVE(addpd, "addpd") NATIVE(subpd, "subpd") NATIVE(mulpd, "mulpd") NATIVE(divpd, "divpd")
NATIVE(minpd, "minpd") NATIVE(maxpd, "maxpd") NATIVE(sqrtpd, "sqrtpd")
NATIVE(subss, "subss") NATIVE(divsd, "divsd") NATIVE(maxss, "maxss") NATIVE(minsd, "minsd")
NATIVE(cvtps2dq, "cvtps2dq") NATIVE(cvttps2dq, "cvttps2dq") NATIVE(cvtpd2dq, "cvtpd2dq")
NATIVE(cvtdq2ps, "cvtdq2ps") NATIVE(cvtpd2ps, "cvtpd2ps") NATIVE(cvtsd2ss, "cvtsd2ss")
NATIVE(addsubps, "addsubps") NATIVE(haddpd, "haddpd") NATIVE(hsubps, "hsubps")
NATIVE(paddw, "paddw") NATIVE(psubsw, "psubsw") NATIVE(psubusb, "psubusb")
NATIVE(pmulhw, "pmulhw") NATIVE(pmulhuw, "pmulhuw") NATIVE(pmullw, "pmullw")
NATIVE(pmuludq, "pmuludq") NATIVE(pavgb, "pavgb") NATIVE(pavgw, "pavgw")
NATIVE(pcmpgtb, "pcmpgtb") NATIVE(pcmpgtd, "pcmpgtd") NATIVE(pcmpeqw, "pcmpeqw")
NATIVE(packssdw, "packssdw") NATIVE(packuswb, "packuswb") NATIVE(punpckhwd, "punpckhwd")
NATIVE(punpcklbw, "punpcklbw") NATIVE(psrad, "psrad") NATIVE(psllq, "psllq")
NATIVE(pminsw, "pminsw") NATIVE(pmaxub, "pmaxub") NATIVE(psubq, "psubq")
NATIVE(paddsb, "paddsb") NATIVE(psubusw, "psubusw")

static const struct {
    const char *name;
    unsigned op, mp;
    NativeFn *fn;
} diff_ops[] = {
    { "addps", 0x58, NONE, nat_addps }, { "subps", 0x5c, NONE, nat_subps },
    { "mulps", 0x59, NONE, nat_mulps }, { "divps", 0x5e, NONE, nat_divps },
    { "minps", 0x5d, NONE, nat_minps }, { "maxps", 0x5f, NONE, nat_maxps },
    { "sqrtps", 0x51, NONE, nat_sqrtps },
    { "addpd", 0x58, P66, nat_addpd }, { "subpd", 0x5c, P66, nat_subpd },
    { "mulpd", 0x59, P66, nat_mulpd }, { "divpd", 0x5e, P66, nat_divpd },
    { "minpd", 0x5d, P66, nat_minpd }, { "maxpd", 0x5f, P66, nat_maxpd },
    { "sqrtpd", 0x51, P66, nat_sqrtpd },
    { "subss", 0x5c, PF3, nat_subss }, { "divsd", 0x5e, PF2, nat_divsd },
    { "maxss", 0x5f, PF3, nat_maxss }, { "minsd", 0x5d, PF2, nat_minsd },
    { "cvtps2dq", 0x5b, P66, nat_cvtps2dq }, { "cvttps2dq", 0x5b, PF3, nat_cvttps2dq },
    { "cvtpd2dq", 0xe6, PF2, nat_cvtpd2dq }, { "cvtdq2ps", 0x5b, NONE, nat_cvtdq2ps },
    { "cvtpd2ps", 0x5a, P66, nat_cvtpd2ps }, { "cvtsd2ss", 0x5a, PF2, nat_cvtsd2ss },
    { "addsubps", 0xd0, PF2, nat_addsubps }, { "haddpd", 0x7c, P66, nat_haddpd },
    { "hsubps", 0x7d, PF2, nat_hsubps },
    { "paddw", 0xfd, P66, nat_paddw }, { "psubsw", 0xe9, P66, nat_psubsw },
    { "psubusb", 0xd8, P66, nat_psubusb }, { "pmulhw", 0xe5, P66, nat_pmulhw },
    { "pmulhuw", 0xe4, P66, nat_pmulhuw }, { "pmullw", 0xd5, P66, nat_pmullw },
    { "pmuludq", 0xf4, P66, nat_pmuludq }, { "pavgb", 0xe0, P66, nat_pavgb },
    { "pavgw", 0xe3, P66, nat_pavgw }, { "pcmpgtb", 0x64, P66, nat_pcmpgtb },
    { "pcmpgtd", 0x66, P66, nat_pcmpgtd }, { "pcmpeqw", 0x75, P66, nat_pcmpeqw },
    { "packssdw", 0x6b, P66, nat_packssdw }, { "packuswb", 0x67, P66, nat_packuswb },
    { "punpckhwd", 0x69, P66, nat_punpckhwd }, { "punpcklbw", 0x60, P66, nat_punpcklbw },
    { "psrad", 0xe2, P66, nat_psrad }, { "psllq", 0xf3, P66, nat_psllq },
    { "pminsw", 0xea, P66, nat_pminsw }, { "pmaxub", 0xde, P66, nat_pmaxub },
    { "psubq", 0xfb, P66, nat_psubq }, { "paddsb", 0xec, P66, nat_paddsb },
    { "psubusw", 0xd9, P66, nat_psubusw },
};

/* Interesting float/double bit patterns: zeros, denormals, normals near
 * 1, huge values, infinities, QNaN/SNaN of both signs. */
static uint32_t pick_f32(GRand *r)
{
    static const uint32_t special[] = {
        0, 0x80000000, 1, 0x807fffff, 0x00800000, 0x3f800000, 0xbf800000, 0x3f800001,
        0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001,
        0x7f800001, 0xff812345, 0x4f000000, 0xcf000000, 0x3effffff, 0x40200000,
    };
    if (g_rand_int_range(r, 0, 3) == 0) {
        return special[g_rand_int_range(r, 0, G_N_ELEMENTS(special))];
    }
    return g_rand_int(r);
}

static uint64_t pick_f64(GRand *r)
{
    static const uint64_t special[] = {
        0, 0x8000000000000000ULL, 1, 0x000fffffffffffffULL, 0x3ff0000000000000ULL,
        0xbff0000000000001ULL, 0x7fefffffffffffffULL, 0x7ff0000000000000ULL,
        0xfff0000000000000ULL, 0x7ff8000000000000ULL, 0x7ff0000000000001ULL,
        0x41e0000000000000ULL, 0xc1e0000000200000ULL, 0x4004000000000000ULL,
        0x3810000000000000ULL, 0x47f0000000000000ULL,
    };
    if (g_rand_int_range(r, 0, 3) == 0) {
        return special[g_rand_int_range(r, 0, G_N_ELEMENTS(special))];
    }
    return (uint64_t)g_rand_int(r) << 32 | g_rand_int(r);
}

static void test_differential(void)
{
    GRand *r = g_rand_new_with_seed(0x5eed);
    static const uint32_t csrs[] = { 0x1f80, 0x3f80, 0x5f80, 0x7f80, 0x9fc0, 0x1fc0, 0x9f80 };

    for (unsigned n = 0; n < G_N_ELEMENTS(diff_ops); n++) {
        for (unsigned iter = 0; iter < 400; iter++) {
            XMMReg a, b, want;
            uint32_t csr = csrs[iter % G_N_ELEMENTS(csrs)];
            bool dbl = diff_ops[n].mp == P66 || diff_ops[n].mp == PF2;

            for (unsigned k = 0; k < 4; k++) {
                if (dbl) {
                    if (k < 2) {
                        a.q[k] = pick_f64(r);
                        b.q[k] = pick_f64(r);
                    }
                } else {
                    a.l[k] = pick_f32(r);
                    b.l[k] = pick_f32(r);
                }
            }
            if (diff_ops[n].op == 0xe2 || diff_ops[n].op == 0xf3) {
                b.q[0] &= 0x4f;                 /* shift counts around the width */
            }
            stub_fp_init();
            stub_fpu()->mxcsr = csr;
            *X(1) = a;
            *X(2) = b;
            g_assert_cmpint(run_r(diff_ops[n].op, diff_ops[n].mp, 1, 2), ==, -1);

            uint32_t host = _mm_getcsr();
            want = a;
            _mm_setcsr(csr);
            diff_ops[n].fn(&want, &b);
            uint32_t got_csr = _mm_getcsr();
            _mm_setcsr(host);
            if (memcmp(&want, X(1), 16) || got_csr != stub_fpu()->mxcsr) {
                g_test_message("%s mxcsr %#x: a %016" G_GINT64_MODIFIER "x%016"
                               G_GINT64_MODIFIER "x b %016" G_GINT64_MODIFIER "x%016"
                               G_GINT64_MODIFIER "x", diff_ops[n].name, csr,
                               a.q[1], a.q[0], b.q[1], b.q[0]);
            }
            g_assert_cmphex(X(1)->q[0], ==, want.q[0]);
            g_assert_cmphex(X(1)->q[1], ==, want.q[1]);
            g_assert_cmphex(stub_fpu()->mxcsr, ==, got_csr);
        }
    }
    g_rand_free(r);
}


/* MMX forms of the integer ops against the host's MMX unit. */
#define NATM(name) \
static uint64_t natm_##name(uint64_t d, uint64_t s) \
{ \
    __asm__ volatile("movq %0, %%mm0\n\tmovq %1, %%mm1\n\t" #name " %%mm1, %%mm0\n\t" \
                     "movq %%mm0, %0\n\temms" : "+m" (d) : "m" (s) : "mm0", "mm1"); \
    return d; \
}
NATM(paddb) NATM(paddw) NATM(paddd) NATM(paddq) NATM(psubsb) NATM(psubusw) NATM(paddsw)
NATM(pmullw) NATM(pmulhw) NATM(pmulhuw) NATM(pmuludq) NATM(pmaddwd) NATM(psadbw)
NATM(pavgb) NATM(pavgw) NATM(pminub) NATM(pmaxsw) NATM(pcmpgtw) NATM(pcmpeqb)
NATM(packsswb) NATM(packssdw) NATM(packuswb) NATM(punpcklbw) NATM(punpckhbw)
NATM(punpcklwd) NATM(punpckhwd) NATM(punpckldq) NATM(punpckhdq) NATM(psllw) NATM(psrld)
NATM(psraw) NATM(psrlq) NATM(pandn) NATM(pxor)

static const struct {
    const char *name;
    unsigned op;
    uint64_t (*fn)(uint64_t, uint64_t);
    bool shift;
} mmx_ops[] = {
    { "paddb", 0xfc, natm_paddb }, { "paddw", 0xfd, natm_paddw }, { "paddd", 0xfe, natm_paddd },
    { "paddq", 0xd4, natm_paddq }, { "psubsb", 0xe8, natm_psubsb },
    { "psubusw", 0xd9, natm_psubusw }, { "paddsw", 0xed, natm_paddsw },
    { "pmullw", 0xd5, natm_pmullw }, { "pmulhw", 0xe5, natm_pmulhw },
    { "pmulhuw", 0xe4, natm_pmulhuw }, { "pmuludq", 0xf4, natm_pmuludq },
    { "pmaddwd", 0xf5, natm_pmaddwd }, { "psadbw", 0xf6, natm_psadbw },
    { "pavgb", 0xe0, natm_pavgb }, { "pavgw", 0xe3, natm_pavgw },
    { "pminub", 0xda, natm_pminub }, { "pmaxsw", 0xee, natm_pmaxsw },
    { "pcmpgtw", 0x65, natm_pcmpgtw }, { "pcmpeqb", 0x74, natm_pcmpeqb },
    { "packsswb", 0x63, natm_packsswb }, { "packssdw", 0x6b, natm_packssdw },
    { "packuswb", 0x67, natm_packuswb }, { "punpcklbw", 0x60, natm_punpcklbw },
    { "punpckhbw", 0x68, natm_punpckhbw }, { "punpcklwd", 0x61, natm_punpcklwd },
    { "punpckhwd", 0x69, natm_punpckhwd }, { "punpckldq", 0x62, natm_punpckldq },
    { "punpckhdq", 0x6a, natm_punpckhdq }, { "psllw", 0xf1, natm_psllw, true },
    { "psrld", 0xd2, natm_psrld, true }, { "psraw", 0xe1, natm_psraw, true },
    { "psrlq", 0xd3, natm_psrlq, true }, { "pandn", 0xdf, natm_pandn },
    { "pxor", 0xef, natm_pxor },
};

static void test_mmx_differential(void)
{
    GRand *r = g_rand_new_with_seed(1234);

    for (unsigned n = 0; n < G_N_ELEMENTS(mmx_ops); n++) {
        for (unsigned iter = 0; iter < 300; iter++) {
            uint64_t a = (uint64_t)g_rand_int(r) << 32 | g_rand_int(r);
            uint64_t b = (uint64_t)g_rand_int(r) << 32 | g_rand_int(r);
            if (iter % 3 == 0) {
                a |= 0x7fff80007fff8000ULL;
            }
            if (mmx_ops[n].shift) {
                b = iter % 5 == 0 ? b : b & 0x47;
            }
            stub_fp_init();
            stub_fpu()->fpr[5].r.mant = a;
            stub_fpu()->fpr[6].r.mant = b;
            g_assert_cmpint(run_r(mmx_ops[n].op, NONE, 5, 6), ==, -1);
            if (stub_fpu()->fpr[5].r.mant != mmx_ops[n].fn(a, b)) {
                g_test_message("%s", mmx_ops[n].name);
            }
            g_assert_cmphex(stub_fpu()->fpr[5].r.mant, ==, mmx_ops[n].fn(a, b));
        }
    }
    g_rand_free(r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/tcgl/sse/addps-rounding", test_addps_rounding);
    g_test_add_func("/tcgl/sse/nan-special", test_nan_and_special);
    g_test_add_func("/tcgl/sse/denormals", test_denormals);
    g_test_add_func("/tcgl/sse/unmasked", test_unmasked_exceptions);
    g_test_add_func("/tcgl/sse/sqrt-scalar", test_sqrt_rcp_scalar_merge);
    g_test_add_func("/tcgl/sse/cmpps", test_cmpps_predicates);
    g_test_add_func("/tcgl/sse/comis", test_comis);
    g_test_add_func("/tcgl/sse/conversions", test_conversions);
    g_test_add_func("/tcgl/sse/moves", test_moves);
    g_test_add_func("/tcgl/sse/integer", test_integer_directed);
    g_test_add_func("/tcgl/sse/mmx", test_mmx);
    g_test_add_func("/tcgl/sse/mmx-fault-undo", test_mmx_fault_undo);
    g_test_add_func("/tcgl/sse/faults", test_sse_faults);
    g_test_add_func("/tcgl/sse/mxcsr", test_mxcsr);
    g_test_add_func("/tcgl/sse/fxsave", test_fxsave_fxrstor);
    g_test_add_func("/tcgl/sse/misc-forms", test_misc_forms);
    g_test_add_func("/tcgl/sse/tables", test_tables);
    g_test_add_func("/tcgl/sse/random-robustness", test_random_robustness);
    g_test_add_func("/tcgl/sse/xsave", test_xsave);
    g_test_add_func("/tcgl/sse/reset-state", test_reset_state);
    g_test_add_func("/tcgl/sse/differential", test_differential);
    g_test_add_func("/tcgl/sse/mmx-differential", test_mmx_differential);
    return g_test_run();
}

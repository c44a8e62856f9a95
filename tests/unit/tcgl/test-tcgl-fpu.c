/*
 * tcg-lite part "fp": x87 handlers.
 *
 * Expected values are worked out by hand (bit patterns of the 80-bit
 * format) or computed by the host's own x87 unit running the same
 * instruction (inline asm) under the same control word.
 */
#include <glib.h>
#include <string.h>
#include "stub-fp.h"

#define ANY TCGL_MP_ANY

/* Runs D8+op /r with ModRM 0xc0 | r << 3 | m (register forms). */
static int x87r(unsigned op, unsigned r, unsigned m)
{
    TCGLInsn i = stub_insn_r(TCGL_MAP_1B, 0xd8 + op, ANY, r, m, 0);
    return stub_run(&i);
}

/* Runs D8+op /r with a memory operand at addr; opsize for the
 * environment forms. */
static int x87m_size(unsigned op, unsigned r, uint64_t addr, unsigned opsize)
{
    TCGLInsn i = stub_insn_m(TCGL_MAP_1B, 0xd8 + op, ANY, r, addr, 0);
    i.opsize = opsize;
    return stub_run(&i);
}

static int x87m(unsigned op, unsigned r, uint64_t addr)
{
    return x87m_size(op, r, addr, 4);
}

static TCGLFPU *F(void)
{
    return stub_fpu();
}

static FPReg st(unsigned n)
{
    return F()->fpr[(F()->top + n) & 7];
}

static uint16_t fsw(void)
{
    return tcgl_fpu_get_fsw(F());
}

/* Pushes v through FLD m80. */
static void push(long double v)
{
    FPReg r = { .ld = v };
    memcpy(stub_mem + 0x800, r.raw, 10);
    g_assert_cmpint(x87m(3, 5, 0x800), ==, -1);
}

static void push_raw(uint64_t mant, uint16_t sexp)
{
    FPReg r = { .r = { .mant = mant, .sexp = sexp } };
    memcpy(stub_mem + 0x800, r.raw, 10);
    g_assert_cmpint(x87m(3, 5, 0x800), ==, -1);
}

static void assert_st(unsigned n, uint64_t mant, uint16_t sexp)
{
    g_assert_false(!(F()->ftw & (1u << ((F()->top + n) & 7))));
    g_assert_cmphex(st(n).r.mant, ==, mant);
    g_assert_cmphex(st(n).r.sexp, ==, sexp);
}

static bool st_empty_test(unsigned n)
{
    return !(F()->ftw & (1u << ((F()->top + n) & 7)));
}

static void test_basic_stack(void)
{
    stub_fp_init();
    g_assert_cmpint(x87r(1, 5, 0), ==, -1);         /* FLD1 */
    g_assert_cmpint(F()->top, ==, 7);
    g_assert_cmphex(F()->ftw, ==, 0x80);
    assert_st(0, 0x8000000000000000ULL, 0x3fff);
    g_assert_cmpint(x87r(1, 5, 0), ==, -1);         /* FLD1 */
    g_assert_cmpint(x87r(6, 0, 1), ==, -1);         /* FADDP ST(1), ST(0) */
    g_assert_cmpint(F()->top, ==, 7);
    assert_st(0, 0x8000000000000000ULL, 0x4000);    /* 2.0 */
    g_assert_cmpint(x87r(1, 5, 3), ==, -1);         /* FLDPI */
    assert_st(0, 0xc90fdaa22168c235ULL, 0x4000);    /* pi rounded to nearest */
    g_assert_cmphex(tcgl_fpu_get_ftw(F()), ==, 0x0fff);
    g_assert_cmpint(x87r(1, 1, 1), ==, -1);         /* FXCH ST(1) */
    assert_st(0, 0x8000000000000000ULL, 0x4000);
    assert_st(1, 0xc90fdaa22168c235ULL, 0x4000);
    /* FSUBR ST(0), ST(1) (D8 E9): ST0 = ST1 - ST0 = pi - 2 */
    g_assert_cmpint(x87r(0, 5, 1), ==, -1);
    g_assert_true(st(0).ld == st(1).ld - 2.0L);
    /* DC E8+i = FSUB ST(i), ST(0): ST1 = ST1 - ST0 = 2 */
    g_assert_cmpint(x87r(4, 5, 1), ==, -1);
    g_assert_true(st(1).ld == 2.0L);
    /* DE F9 = FDIVP ST(1), ST(0): ST1 = ST1 / ST0, pop */
    long double num = st(1).ld, den = st(0).ld;
    g_assert_cmpint(x87r(6, 7, 1), ==, -1);
    g_assert_cmpint(F()->top, ==, 7);
    g_assert_true(st(0).ld == num / den);
    g_assert_true(st(0).ld > 1.75L && st(0).ld < 1.76L);
    /* FINCSTP / FDECSTP / FFREE */
    g_assert_cmpint(x87r(1, 6, 7), ==, -1);         /* FINCSTP */
    g_assert_cmpint(F()->top, ==, 0);
    g_assert_cmpint(x87r(1, 6, 6), ==, -1);         /* FDECSTP */
    g_assert_cmpint(F()->top, ==, 7);
    g_assert_cmpint(x87r(5, 0, 0), ==, -1);         /* FFREE ST(0) */
    g_assert_cmphex(F()->ftw, ==, 0);
    /* FNSTSW AX: TOP in bits 11-13 */
    stub_env.regs[R_EAX] = 0xffffffffffff0000ULL;
    g_assert_cmpint(x87r(7, 4, 0), ==, -1);
    g_assert_cmphex(stub_env.regs[R_EAX], ==, 0xffffffffffff3820ULL);     /* PE from the FDIVP */
}

static long double host_div(long double a, long double b, uint16_t cw, uint16_t *sw)
{
    long double r;
    uint16_t hcw = 0x037f;
    __asm__ volatile("fldcw %[c]\n\tfnclex\n\tfdiv %%st(1), %%st\n\tfnstsw %[s]\n\tfldcw %[h]"
                     : "=t" (r), [s] "=m" (*sw) : "0" (a), "u" (b), [c] "m" (cw),
                       [h] "m" (hcw));
    return r;
}

static void test_precision_rounding(void)
{
    static const struct { uint16_t fcw; uint64_t mant; bool c1; } cases[] = {
        { 0x037f, 0xaaaaaaaaaaaaaaabULL, true },        /* extended, nearest: up */
        { 0x077f, 0xaaaaaaaaaaaaaaaaULL, false },       /* down */
        { 0x0b7f, 0xaaaaaaaaaaaaaaabULL, true },        /* up */
        { 0x0f7f, 0xaaaaaaaaaaaaaaaaULL, false },       /* chop */
        { 0x027f, 0xaaaaaaaaaaaaa800ULL, false },       /* double, nearest */
        { 0x0a7f, 0xaaaaaaaaaaaab000ULL, true },        /* double, up */
        { 0x007f, 0xaaaaab0000000000ULL, true },        /* single, nearest */
        { 0x0c7f, 0xaaaaaa0000000000ULL, false },       /* single, chop */
    };
    for (unsigned k = 0; k < G_N_ELEMENTS(cases); k++) {
        stub_fp_init();
        F()->fcw = cases[k].fcw;
        push(3.0L);
        push(1.0L);
        g_assert_cmpint(x87r(0, 6, 1), ==, -1);     /* FDIV ST(0), ST(1) */
        assert_st(0, cases[k].mant, 0x3ffd);
        g_assert_cmphex(fsw() & (FSW_C1 | 0x3f), ==, FSW_PE | (cases[k].c1 ? FSW_C1 : 0));
    }
}

static void test_stack_faults(void)
{
    stub_fp_init();
    for (unsigned k = 0; k < 8; k++) {
        g_assert_cmpint(x87r(1, 5, 6), ==, -1);     /* FLDZ */
    }
    g_assert_cmphex(fsw() & 0xff, ==, 0);
    /* the ninth push: overflow, C1 = 1, masked: the indefinite */
    g_assert_cmpint(x87r(1, 5, 0), ==, -1);
    g_assert_cmphex(fsw() & (0xff | FSW_C1), ==, FSW_IE | FSW_SF | FSW_C1);
    assert_st(0, 0xc000000000000000ULL, 0xffff);
    /* underflow: FNINIT, then FADD from an empty stack */
    g_assert_cmpint(x87r(3, 4, 3), ==, -1);         /* FNINIT */
    g_assert_cmphex(fsw(), ==, 0);
    g_assert_cmphex(F()->fcw, ==, 0x037f);
    g_assert_cmpint(x87r(0, 0, 1), ==, -1);         /* FADD ST(0), ST(1) */
    g_assert_cmphex(fsw() & (0xff | FSW_C1), ==, FSW_IE | FSW_SF);
    assert_st(0, 0xc000000000000000ULL, 0xffff);
    /* FST m32 of an empty register: the single QNaN indefinite */
    g_assert_cmpint(x87r(3, 4, 3), ==, -1);
    g_assert_cmpint(x87m(1, 2, 0x40), ==, -1);
    g_assert_cmphex(*(uint32_t *)(stub_mem + 0x40), ==, 0xffc00000);
    /* unmasked invalid: nothing pushed, ES and B */
    g_assert_cmpint(x87r(3, 4, 3), ==, -1);
    F()->fcw = 0x037e;
    for (unsigned k = 0; k < 8; k++) {
        g_assert_cmpint(x87r(1, 5, 0), ==, -1);
    }
    g_assert_cmpint(x87r(1, 5, 6), ==, -1);
    assert_st(0, 0x8000000000000000ULL, 0x3fff);
    g_assert_cmphex(fsw() & 0xffc7, ==, FSW_B | FSW_ES | FSW_C1 | FSW_SF | FSW_IE);
    /* the next waiting instruction: #MF with CR0.NE */
    g_assert_cmpint(x87r(1, 5, 6), ==, TCGL_EXC_MF);
    /* FNSTSW does not wait; FNCLEX clears */
    g_assert_cmpint(x87m(5, 7, 0x50), ==, -1);
    g_assert_cmphex(*(uint16_t *)(stub_mem + 0x50) & FSW_ES, ==, FSW_ES);
    g_assert_cmpint(x87r(3, 4, 2), ==, -1);         /* FNCLEX */
    g_assert_cmphex(fsw() & 0x80ff, ==, 0);
    g_assert_cmpint(x87r(1, 4, 0), ==, -1);         /* FCHS */
    assert_st(0, 0x8000000000000000ULL, 0xbfff);
    /* FCHS / FABS of an empty ST(0): the indefinite itself */
    g_assert_cmpint(x87r(3, 4, 3), ==, -1);
    g_assert_cmpint(x87r(1, 4, 1), ==, -1);         /* FABS */
    assert_st(0, 0xc000000000000000ULL, 0xffff);
    g_assert_cmphex(fsw() & 0x7f, ==, FSW_IE | FSW_SF);
}

static void test_unmasked_and_mf(void)
{
    TCGLInsn w = stub_insn_r(TCGL_MAP_1B, 0x9b, ANY, 0, 0, 0);

    stub_fp_init();
    F()->fcw = 0x037b;                              /* ZE unmasked */
    push(0.0L);
    push(5.0L);
    g_assert_cmpint(x87r(0, 6, 1), ==, -1);         /* FDIV ST(0), ST(1): 5 / 0 */
    assert_st(0, 0xa000000000000000ULL, 0x4001);    /* unchanged 5.0 */
    g_assert_cmphex(fsw() & 0x80ff, ==, FSW_B | FSW_ES | FSW_ZE);
    g_assert_cmpint(stub_run(&w), ==, TCGL_EXC_MF);  /* FWAIT */
    /* CR0.NE = 0: no #MF (FERR# is not modelled) */
    stub_env.cr0 &= ~CR0_NE;
    g_assert_cmpint(stub_run(&w), ==, -1);
    stub_env.cr0 |= CR0_NE;
    /* FLDCW masking it clears ES; unmasking sets it again */
    *(uint16_t *)(stub_mem + 0x60) = 0x037f;
    g_assert_cmpint(x87m_size(1, 5, 0x60, 4), ==, TCGL_EXC_MF);     /* FLDCW waits */
    g_assert_cmpint(x87r(3, 4, 2), ==, -1);         /* FNCLEX */
    g_assert_cmpint(x87m(1, 5, 0x60), ==, -1);
    g_assert_cmpint(stub_run(&w), ==, -1);
    /* masked: the infinity */
    g_assert_cmpint(x87r(0, 6, 1), ==, -1);
    assert_st(0, 0x8000000000000000ULL, 0x7fff);
    F()->fsw |= FSW_ZE;
    *(uint16_t *)(stub_mem + 0x60) = 0x037b;
    g_assert_cmpint(x87m(1, 5, 0x60), ==, -1);
    g_assert_cmphex(fsw() & FSW_ES, ==, FSW_ES);
    /* #NM: TS or EM; FWAIT only with MP and TS */
    stub_fp_init();
    stub_env.cr0 |= TCGL_CR0_TS;
    g_assert_cmpint(x87r(1, 5, 0), ==, TCGL_EXC_NM);
    g_assert_cmpint(x87r(3, 4, 3), ==, TCGL_EXC_NM);    /* FNINIT too */
    g_assert_cmpint(stub_run(&w), ==, TCGL_EXC_NM);
    stub_env.cr0 &= ~TCGL_CR0_MP;
    g_assert_cmpint(stub_run(&w), ==, -1);
    stub_env.cr0 &= ~TCGL_CR0_TS;
    stub_env.cr0 |= TCGL_CR0_EM;
    g_assert_cmpint(x87r(1, 5, 0), ==, TCGL_EXC_NM);
    g_assert_cmpint(stub_run(&w), ==, -1);
}

static void test_int_bcd(void)
{
    stub_fp_init();
    *(int16_t *)(stub_mem + 0x10) = -1234;
    g_assert_cmpint(x87m(7, 0, 0x10), ==, -1);      /* FILD m16 */
    g_assert_true(st(0).ld == -1234.0L);
    *(int64_t *)(stub_mem + 0x18) = INT64_MIN + 1;
    g_assert_cmpint(x87m(7, 5, 0x18), ==, -1);      /* FILD m64: exact */
    g_assert_true(st(0).ld == (long double)(INT64_MIN + 1));
    g_assert_cmpint(x87m(7, 7, 0x20), ==, -1);      /* FISTP m64 */
    g_assert_cmphex(*(uint64_t *)(stub_mem + 0x20), ==, (uint64_t)(INT64_MIN + 1));
    /* FIST m16 overflow: the integer indefinite, IE */
    push(40000.0L);
    g_assert_cmpint(x87m(7, 2, 0x28), ==, -1);
    g_assert_cmphex(*(uint16_t *)(stub_mem + 0x28), ==, 0x8000);
    g_assert_cmphex(fsw() & 0x3f, ==, FSW_IE);
    /* FIST m32 with rounding control; FISTTP truncates */
    stub_fp_init();
    push(-2.5L);
    g_assert_cmpint(x87m(3, 2, 0x30), ==, -1);      /* nearest even: -2 */
    g_assert_cmphex(*(uint32_t *)(stub_mem + 0x30), ==, 0xfffffffe);
    F()->fcw = 0x077f;                              /* down */
    g_assert_cmpint(x87m(3, 2, 0x30), ==, -1);
    g_assert_cmphex(*(uint32_t *)(stub_mem + 0x30), ==, 0xfffffffd);
    F()->fcw = 0x037f;
    push(2.75L);
    g_assert_cmpint(x87m(3, 1, 0x34), ==, -1);      /* FISTTP m32 */
    g_assert_cmphex(*(uint32_t *)(stub_mem + 0x34), ==, 2);
    g_assert_cmpint(F()->top, ==, 7);
    /* FBLD / FBSTP */
    stub_fp_init();
    static const uint8_t bcd[10] = { 0x21, 0x43, 0x65, 0x87, 0x09, 0, 0, 0, 0, 0x80 };
    memcpy(stub_mem + 0x40, bcd, 10);
    g_assert_cmpint(x87m(7, 4, 0x40), ==, -1);
    g_assert_true(st(0).ld == -987654321.0L);
    g_assert_cmpint(x87r(1, 5, 0), ==, -1);         /* FLD1 */
    g_assert_cmpint(x87r(6, 5, 1), ==, -1);         /* FSUBP: ST1 = ST1 - ST0 */
    g_assert_cmpint(x87m(7, 6, 0x50), ==, -1);      /* FBSTP */
    static const uint8_t bcd2[10] = { 0x22, 0x43, 0x65, 0x87, 0x09, 0, 0, 0, 0, 0x80 };
    g_assert_cmpmem(stub_mem + 0x50, 10, bcd2, 10);
    g_assert_cmphex(F()->ftw, ==, 0);
}

static void test_fp_memory_formats(void)
{
    stub_fp_init();
    /* FLD m32 SNaN: IE, quieted; FLD m64 denormal: DE */
    *(uint32_t *)(stub_mem + 0x10) = 0x7f800001;
    g_assert_cmpint(x87m(1, 0, 0x10), ==, -1);
    assert_st(0, 0xc000010000000000ULL, 0x7fff);
    g_assert_cmphex(fsw() & 0x3f, ==, FSW_IE);
    *(uint64_t *)(stub_mem + 0x18) = 1;
    g_assert_cmpint(x87m(5, 0, 0x18), ==, -1);
    assert_st(0, 0x8000000000000000ULL, 0x3bcd);    /* 2^-1074 */
    g_assert_cmphex(fsw() & 0x3f, ==, FSW_IE | FSW_DE);
    /* FSTP m64 of 1 + 2^-60: inexact, rounds to 1.0 */
    stub_fp_init();
    push_raw(0x8000000000000010ULL, 0x3fff);
    g_assert_cmpint(x87m(5, 3, 0x20), ==, -1);
    g_assert_cmphex(*(uint64_t *)(stub_mem + 0x20), ==, 0x3ff0000000000000ULL);
    g_assert_cmphex(fsw() & 0x3f, ==, FSW_PE);
    g_assert_cmphex(F()->ftw, ==, 0);
    /* FSTP m80 keeps every bit; FST m32 overflow: inf with OE PE */
    push_raw(0x8000000000000001ULL, 0xc123);
    g_assert_cmpint(x87m(3, 7, 0x30), ==, -1);
    g_assert_cmphex(*(uint64_t *)(stub_mem + 0x30), ==, 0x8000000000000001ULL);
    g_assert_cmphex(*(uint16_t *)(stub_mem + 0x38), ==, 0xc123);
    stub_fp_init();
    push_raw(0x8000000000000000ULL, 0x4400);
    g_assert_cmpint(x87m(1, 2, 0x40), ==, -1);
    g_assert_cmphex(*(uint32_t *)(stub_mem + 0x40), ==, 0x7f800000);
    g_assert_cmphex(fsw() & 0x3f, ==, FSW_OE | FSW_PE);
    /* FADD m32, FMUL m64, FISUB m16, FIDIVR m32 */
    stub_fp_init();
    push(10.0L);
    *(float *)(stub_mem + 0x50) = 0.5f;
    g_assert_cmpint(x87m(0, 0, 0x50), ==, -1);
    g_assert_true(st(0).ld == 10.5L);
    *(double *)(stub_mem + 0x58) = -2.0;
    g_assert_cmpint(x87m(4, 1, 0x58), ==, -1);
    g_assert_true(st(0).ld == -21.0L);
    *(int16_t *)(stub_mem + 0x60) = -21;
    g_assert_cmpint(x87m(6, 4, 0x60), ==, -1);
    g_assert_true(st(0).ld == 0.0L);
    push(4.0L);
    *(int32_t *)(stub_mem + 0x64) = 2;
    g_assert_cmpint(x87m(2, 7, 0x64), ==, -1);      /* FIDIVR: 2 / 4 */
    g_assert_true(st(0).ld == 0.5L);
    /* the reversed forms from memory: FSUBR m64 (DC /5), FDIV m32 (D8 /6),
     * FDIVR m64 (DC /7), FISUBR m32 (DA /5) */
    stub_fp_init();
    push(10.0L);
    *(double *)(stub_mem + 0x70) = 3.0;
    g_assert_cmpint(x87m(4, 5, 0x70), ==, -1);
    g_assert_true(st(0).ld == -7.0L);
    *(float *)(stub_mem + 0x78) = 4.0f;
    g_assert_cmpint(x87m(0, 6, 0x78), ==, -1);
    g_assert_true(st(0).ld == -1.75L);
    g_assert_cmpint(x87m(4, 7, 0x70), ==, -1);
    g_assert_true(st(0).ld == 3.0L / -1.75L);
    push(1.0L);
    *(int32_t *)(stub_mem + 0x7c) = 5;
    g_assert_cmpint(x87m(2, 5, 0x7c), ==, -1);
    g_assert_true(st(0).ld == 4.0L);
    push(4.0L);
    *(int32_t *)(stub_mem + 0x64) = 2;
    g_assert_cmpint(x87m(2, 7, 0x64), ==, -1);      /* FIDIVR again: FOP below */
    /* FIP/FOP/FDP: the last non-control instruction */
    g_assert_cmphex(F()->fop, ==, (2 << 8) | 0x3c);
    g_assert_cmphex(F()->fdp, ==, 0x64);
}

static void test_compare(void)
{
    static const struct { long double a, b; uint16_t cc; uint64_t fl; } cases[] = {
        { 1.0L, 2.0L, FSW_C0, 0x01 },
        { 2.0L, 1.0L, 0, 0 },
        { 3.0L, 3.0L, FSW_C3, 0x40 },
    };
    for (unsigned k = 0; k < G_N_ELEMENTS(cases); k++) {
        stub_fp_init();
        push(cases[k].b);
        push(cases[k].a);
        g_assert_cmpint(x87r(0, 2, 1), ==, -1);     /* FCOM ST(1) */
        g_assert_cmphex(fsw() & FSW_CC, ==, cases[k].cc);
        stub_env.rflags = 0x8d7;
        g_assert_cmpint(x87r(3, 6, 1), ==, -1);     /* FCOMI */
        g_assert_cmphex(stub_env.rflags, ==, 0x2 | cases[k].fl);
        g_assert_cmpint(x87r(6, 3, 1), ==, -1);     /* FCOMPP */
        g_assert_cmphex(F()->ftw, ==, 0);
    }
    /* unordered: FUCOM with a QNaN raises nothing, FCOM raises IE */
    stub_fp_init();
    push(1.0L);
    push_raw(0xc000000000000000ULL, 0x7fff);
    g_assert_cmpint(x87r(5, 4, 1), ==, -1);         /* FUCOM */
    g_assert_cmphex(fsw() & (FSW_CC | 0x3f), ==, FSW_C0 | FSW_C2 | FSW_C3);
    g_assert_cmpint(x87r(0, 2, 1), ==, -1);         /* FCOM */
    g_assert_cmphex(fsw() & (FSW_CC | 0x3f), ==, FSW_C0 | FSW_C2 | FSW_C3 | FSW_IE);
    g_assert_cmpint(x87r(7, 5, 1), ==, -1);         /* FUCOMIP */
    g_assert_cmphex(stub_env.rflags, ==, 0x47);
    g_assert_cmpint(F()->top, ==, 7);
    /* FTST, FXAM */
    stub_fp_init();
    push(-0.0L);
    g_assert_cmpint(x87r(1, 4, 4), ==, -1);         /* FTST */
    g_assert_cmphex(fsw() & FSW_CC, ==, FSW_C3);
    static const struct { uint64_t m; uint16_t e; uint16_t cc; } xam[] = {
        { 0, 0x8000, FSW_C3 | FSW_C1 },                         /* -0 */
        { 0x8000000000000000ULL, 0x3fff, FSW_C2 },              /* normal */
        { 0x8000000000000000ULL, 0x7fff, FSW_C2 | FSW_C0 },     /* inf */
        { 0xc000000000000000ULL, 0xffff, FSW_C0 | FSW_C1 },     /* -NaN */
        { 1, 0, FSW_C3 | FSW_C2 },                              /* denormal */
    };
    for (unsigned k = 0; k < G_N_ELEMENTS(xam); k++) {
        stub_fp_init();
        push_raw(xam[k].m, xam[k].e);
        g_assert_cmpint(x87r(1, 4, 5), ==, -1);
        g_assert_cmphex(fsw() & FSW_CC, ==, xam[k].cc);
    }
    stub_fp_init();
    g_assert_cmpint(x87r(1, 4, 5), ==, -1);         /* empty */
    g_assert_cmphex(fsw() & (FSW_CC & ~FSW_C1), ==, FSW_C3 | FSW_C0);
    /* FCMOVB / FCMOVNE */
    stub_fp_init();
    push(7.0L);
    push(1.0L);
    stub_env.rflags = 0x2;
    g_assert_cmpint(x87r(2, 0, 1), ==, -1);         /* CF = 0: no move */
    g_assert_true(st(0).ld == 1.0L);
    g_assert_cmpint(x87r(3, 1, 1), ==, -1);         /* FCMOVNE: ZF = 0: move */
    g_assert_true(st(0).ld == 7.0L);
}

/* Forms the other tests do not reach, and the constants' bits. */
static void test_misc_x87(void)
{
    static const struct { unsigned m; uint64_t mant; uint16_t exp; } consts[] = {
        { 1, 0xd49a784bcd1b8afeULL, 0x4000 },      /* FLDL2T */
        { 2, 0xb8aa3b295c17f0bcULL, 0x3fff },      /* FLDL2E */
        { 3, 0xc90fdaa22168c235ULL, 0x4000 },      /* FLDPI */
        { 4, 0x9a209a84fbcff799ULL, 0x3ffd },      /* FLDLG2 */
        { 5, 0xb17217f7d1cf79acULL, 0x3ffe },      /* FLDLN2 */
        { 6, 0, 0 },                               /* FLDZ */
    };
    for (unsigned k = 0; k < G_N_ELEMENTS(consts); k++) {
        stub_fp_init();
        g_assert_cmpint(x87r(1, 5, consts[k].m), ==, -1);
        assert_st(0, consts[k].mant, consts[k].exp);
    }
    /* rounded per RC: pi rounded down */
    stub_fp_init();
    F()->fcw = 0x077f;
    g_assert_cmpint(x87r(1, 5, 3), ==, -1);
    assert_st(0, 0xc90fdaa22168c234ULL, 0x4000);

    /* FISTTP m16 / m64 truncate and pop */
    stub_fp_init();
    push(-7.9L);
    push(12345.99L);
    g_assert_cmpint(x87m(7, 1, 0x10), ==, -1);
    g_assert_cmphex(stub_rd(0x10, 2), ==, 12345);
    g_assert_cmpint(x87m(5, 1, 0x18), ==, -1);
    g_assert_cmphex(stub_rd(0x18, 8), ==, (uint64_t)-7);
    g_assert_cmphex(F()->ftw, ==, 0);
    /* FILD m32, FST m64 (no pop), FSTP m32 */
    stub_wr(0x20, 4, (uint32_t)-3);
    g_assert_cmpint(x87m(3, 0, 0x20), ==, -1);
    g_assert_cmpint(x87m(5, 2, 0x28), ==, -1);
    g_assert_cmphex(stub_rd(0x28, 8), ==, 0xc008000000000000ULL);
    g_assert_cmpint(x87m(1, 3, 0x30), ==, -1);
    g_assert_cmphex(stub_rd(0x30, 4), ==, 0xc0400000);
    g_assert_cmphex(F()->ftw, ==, 0);
    /* FLD ST(1), FST ST(2), FSTP ST(1), FFREEP */
    stub_fp_init();
    push(3.0L);
    push(2.0L);
    push(1.0L);
    g_assert_cmpint(x87r(1, 0, 2), ==, -1);         /* FLD ST(2): push 3 */
    g_assert_true(st(0).ld == 3.0L);
    g_assert_cmpint(x87r(5, 2, 2), ==, -1);         /* FST ST(2): ST2 = 3 */
    g_assert_true(st(2).ld == 3.0L);
    g_assert_cmpint(x87r(5, 3, 1), ==, -1);         /* FSTP ST(1) */
    g_assert_true(st(0).ld == 3.0L);
    g_assert_true(st(1).ld == 3.0L);
    g_assert_cmpint(F()->top, ==, 5);
    g_assert_cmpint(x87r(7, 0, 1), ==, -1);         /* FFREEP ST(1) */
    g_assert_cmpint(F()->top, ==, 6);
    g_assert_true(st_empty_test(0));
    /* FUCOMI / FCOMIP: unordered sets ZF PF CF */
    stub_fp_init();
    push(1.0L);
    push(5.0L);
    stub_env.rflags = 0x2;
    g_assert_cmpint(x87r(3, 5, 1), ==, -1);         /* FUCOMI: 5 > 1 */
    g_assert_cmphex(stub_env.rflags, ==, 0x2);
    g_assert_cmpint(x87r(7, 6, 1), ==, -1);         /* FCOMIP */
    g_assert_cmpint(F()->top, ==, 7);
    /* FCMOVcc: each condition */
    static const struct { unsigned op, r; uint64_t fl; bool move; } cm[] = {
        { 2, 0, 0x01, true }, { 2, 1, 0x00, false }, { 2, 2, 0x40, true },
        { 2, 3, 0x04, true }, { 3, 0, 0x01, false }, { 3, 1, 0x00, true },
        { 3, 2, 0x00, true }, { 3, 3, 0x04, false },
    };
    for (unsigned k = 0; k < G_N_ELEMENTS(cm); k++) {
        stub_fp_init();
        push(9.0L);
        push(1.0L);
        stub_env.rflags = 0x2 | cm[k].fl;
        g_assert_cmpint(x87r(cm[k].op, cm[k].r, 1), ==, -1);
        g_assert_true(st(0).ld == (cm[k].move ? 9.0L : 1.0L));
    }
    /* FNSTSW m16 / FNSTCW wait for nothing; FDECSTP wraps */
    stub_fp_init();
    g_assert_cmpint(x87r(1, 6, 6), ==, -1);
    g_assert_cmpint(F()->top, ==, 7);
    /* undefined forms are not claimed */
    TCGLInsn i = { .opc = TCGL_OPC(TCGL_MAP_1B, 0xd9), .mod = 0, .modrm = 0x08 };
    g_assert_null(stub_lookup(&i, TCGL_MP_ANY));
    i.mod = 3;
    i.modrm = 0xd1;                                 /* D9 D1 */
    g_assert_null(stub_lookup(&i, TCGL_MP_ANY));
    i.opc = TCGL_OPC(TCGL_MAP_1B, 0xde);
    i.modrm = 0xd8;                                 /* DE D8: not FCOMPP */
    g_assert_null(stub_lookup(&i, TCGL_MP_ANY));
}

/* Host x87 oracle for one-operand and two-operand instructions. */
#define HOST1(insn, a) ({ long double r_; __asm__ volatile(insn : "=t" (r_) : "0" (a)); r_; })
#define HOST2(insn, a, b) ({ long double r_; __asm__ volatile(insn : "=t" (r_) : "0" (a), "u" (b)); r_; })
#define HOST2POP(insn, x, y) ({ long double r_; __asm__ volatile(insn : "=t" (r_) : "0" (x), "u" (y) : "st(1)"); r_; })

static void test_transcendental(void)
{
    long double x = 0.7853981L, y = 3.25L;

    stub_fp_init();
    push(x);
    g_assert_cmpint(x87r(1, 7, 6), ==, -1);         /* FSIN */
    g_assert_true(st(0).ld == HOST1("fsin", x));
    push(x);
    g_assert_cmpint(x87r(1, 7, 7), ==, -1);         /* FCOS */
    g_assert_true(st(0).ld == HOST1("fcos", x));
    push(x);
    g_assert_cmpint(x87r(1, 7, 2), ==, -1);         /* FSQRT */
    g_assert_true(st(0).ld == HOST1("fsqrt", x));
    push(-0.3L);
    g_assert_cmpint(x87r(1, 6, 0), ==, -1);         /* F2XM1 */
    g_assert_true(st(0).ld == HOST1("f2xm1", -0.3L));
    push(2.5L);
    g_assert_cmpint(x87r(1, 7, 4), ==, -1);         /* FRNDINT: nearest even */
    g_assert_true(st(0).ld == 2.0L);
    g_assert_cmpint(F()->top, ==, 3);

    /* FPTAN: tan in ST(1), 1.0 pushed */
    stub_fp_init();
    push(x);
    g_assert_cmpint(x87r(1, 6, 2), ==, -1);
    g_assert_true(st(0).ld == 1.0L);
    long double t = HOST1("fptan\n\tfstp %%st(0)", x);
    g_assert_true(st(1).ld == t);
    /* out of range: C2, nothing changes */
    stub_fp_init();
    push(0x1p70L);
    g_assert_cmpint(x87r(1, 6, 2), ==, -1);
    g_assert_cmphex(fsw() & FSW_C2, ==, FSW_C2);
    g_assert_true(st(0).ld == 0x1p70L);
    g_assert_cmpint(F()->top, ==, 7);
    g_assert_cmpint(x87r(1, 7, 6), ==, -1);         /* FSIN too */
    g_assert_cmphex(fsw() & FSW_C2, ==, FSW_C2);
    g_assert_true(st(0).ld == 0x1p70L);
    /* FSINCOS: ST0 = cos, ST1 = sin */
    stub_fp_init();
    push(x);
    g_assert_cmpint(x87r(1, 7, 3), ==, -1);
    g_assert_true(st(0).ld == HOST1("fcos", x));
    g_assert_true(st(1).ld == HOST1("fsin", x));
    /* FPATAN, FYL2X, FYL2XP1: ST1 = f(ST1, ST0), pop */
    stub_fp_init();
    push(y);
    push(x);
    g_assert_cmpint(x87r(1, 6, 3), ==, -1);
    g_assert_true(st(0).ld == HOST2POP("fpatan", x, y));
    g_assert_cmpint(F()->top, ==, 7);
    push(x);
    g_assert_cmpint(x87r(1, 6, 1), ==, -1);
    g_assert_true(st(0).ld == HOST2POP("fyl2x", x, HOST2POP("fpatan", x, y)));
    stub_fp_init();
    push(y);
    push(0.125L);
    g_assert_cmpint(x87r(1, 7, 1), ==, -1);
    g_assert_true(st(0).ld == HOST2POP("fyl2xp1", 0.125L, y));
    /* FSCALE: 3 * 2^trunc(3.25) = 24 */
    stub_fp_init();
    push(y);
    push(3.0L);
    g_assert_cmpint(x87r(1, 7, 5), ==, -1);
    g_assert_true(st(0).ld == 24.0L);
    /* FXTRACT: 24 -> exponent 4 in ST1, significand 1.5 in ST0 */
    g_assert_cmpint(x87r(1, 6, 4), ==, -1);
    g_assert_true(st(0).ld == 1.5L);
    g_assert_true(st(1).ld == 4.0L);
    /* FPREM: 10 rem 3 = 1, quotient 3 = 0b011: C1 = q0, C3 = q1, C0 = q2 */
    stub_fp_init();
    push(3.0L);
    push(10.0L);
    g_assert_cmpint(x87r(1, 7, 0), ==, -1);
    g_assert_true(st(0).ld == 1.0L);
    g_assert_cmphex(fsw() & FSW_CC, ==, FSW_C1 | FSW_C3);
    /* FPREM1: 11 rem 3 rounds the quotient to 4: -1 */
    stub_fp_init();
    push(3.0L);
    push(11.0L);
    g_assert_cmpint(x87r(1, 6, 5), ==, -1);
    g_assert_true(st(0).ld == -1.0L);
    g_assert_cmphex(fsw() & FSW_CC, ==, FSW_C0);
}

static void test_env_save(void)
{
    TCGLFPU *f;

    stub_fp_init();
    f = F();
    push(1.0L);
    push(2.0L);
    f->fcw = 0x0272;
    f->fsw |= FSW_PE | FSW_C2;
    f->fip = 0x12345678;
    f->fdp = 0x9abcdef0;
    f->fop = 0x5aa;
    f->fcs = 0x10;
    f->fds = 0x18;
    /* FNSTENV 32-bit protected */
    g_assert_cmpint(x87m_size(1, 6, 0x100, 4), ==, -1);
    g_assert_cmphex(*(uint32_t *)(stub_mem + 0x100), ==, 0xffff0272);
    g_assert_cmphex(*(uint16_t *)(stub_mem + 0x104), ==, FSW_PE | FSW_C2 | (6 << 11));
    g_assert_cmphex(*(uint16_t *)(stub_mem + 0x108), ==, 0x0fff);     /* R6, R7 valid */
    g_assert_cmphex(*(uint32_t *)(stub_mem + 0x10c), ==, 0x12345678);
    g_assert_cmphex(*(uint32_t *)(stub_mem + 0x110), ==, 0x05aa0010);
    g_assert_cmphex(*(uint32_t *)(stub_mem + 0x114), ==, 0x9abcdef0);
    g_assert_cmphex(*(uint16_t *)(stub_mem + 0x118), ==, 0x18);
    g_assert_cmphex(f->fcw, ==, 0x027f);        /* all masked after FNSTENV */
    /* FLDENV back */
    g_assert_cmpint(x87m_size(1, 4, 0x100, 4), ==, -1);
    g_assert_cmphex(f->fcw, ==, 0x0272);
    /* FNSAVE 16-bit real mode: 14 + 80 bytes, then FNINIT; the pointers
     * are linear: CS 0x1000:0x2345, DS 0x6000:0x789a */
    stub_cpu.hflags = 0;
    f->fcs = 0x1000;
    f->fip = 0x2345;
    f->fds = 0x6000;
    f->fdp = 0x789a;
    g_assert_cmpint(x87m_size(5, 6, 0x200, 2), ==, -1);
    g_assert_cmphex(*(uint16_t *)(stub_mem + 0x206), ==, 0x2345);
    g_assert_cmphex(*(uint16_t *)(stub_mem + 0x208), ==, 0x15aa);
    g_assert_cmphex(*(uint16_t *)(stub_mem + 0x20a), ==, 0x789a);
    g_assert_cmphex(*(uint16_t *)(stub_mem + 0x20c), ==, 0x6000);
    g_assert_cmphex(stub_rd(0x20e, 8), ==, 0x8000000000000000ULL);
    g_assert_cmphex(*(uint16_t *)(stub_mem + 0x216), ==, 0x4000);      /* ST0 = 2 */
    g_assert_cmphex(f->fcw, ==, 0x037f);
    g_assert_cmphex(f->ftw, ==, 0);
    g_assert_cmpint(f->top, ==, 0);
    /* FRSTOR */
    g_assert_cmpint(x87m_size(5, 4, 0x200, 2), ==, -1);
    g_assert_cmphex(f->fcw, ==, 0x0272);
    g_assert_cmpint(f->top, ==, 6);
    g_assert_cmphex(f->ftw, ==, 0xc0);
    g_assert_true(st(0).ld == 2.0L);
    g_assert_true(st(1).ld == 1.0L);
    g_assert_cmphex(f->fip, ==, 0x12345);
    g_assert_cmphex(f->fdp, ==, 0x6789a);
    g_assert_cmphex(f->fop, ==, 0x5aa);
    /* FNSTCW / FLDCW */
    g_assert_cmpint(x87m(1, 7, 0x300), ==, -1);
    g_assert_cmphex(*(uint16_t *)(stub_mem + 0x300), ==, 0x0272);
}

/* Differential: random operands, every precision and rounding control. */
static void test_differential(void)
{
    GRand *r = g_rand_new_with_seed(87);
    static const uint16_t cws[] = { 0x037f, 0x077f, 0x0b7f, 0x0f7f, 0x027f, 0x007f, 0x0e7f };

    for (unsigned n = 0; n < 4000; n++) {
        FPReg a = { .raw = { 0 } }, b = { .raw = { 0 } };
        uint16_t cw = cws[n % G_N_ELEMENTS(cws)], want_sw;
        a.r.mant = (uint64_t)g_rand_int(r) << 32 | g_rand_int(r) | 1ULL << 63;
        b.r.mant = (uint64_t)g_rand_int(r) << 32 | g_rand_int(r) | 1ULL << 63;
        a.r.sexp = 0x3fff + g_rand_int_range(r, -70, 70) + (g_rand_boolean(r) ? 0x8000 : 0);
        b.r.sexp = 0x3fff + g_rand_int_range(r, -70, 70);
        if (n % 50 == 0) {
            b.r.sexp = 0x0000;                  /* a denormal divisor */
            b.r.mant >>= 3;
        }
        stub_fp_init();
        F()->fcw = cw;
        push(b.ld);
        push(a.ld);
        g_assert_cmpint(x87r(0, 6, 1), ==, -1);     /* FDIV ST(0), ST(1) */
        FPReg want = { .ld = host_div(a.ld, b.ld, (cw & 0xf00) | 0x7f, &want_sw) };
        g_assert_cmphex(st(0).r.mant, ==, want.r.mant);
        g_assert_cmphex(st(0).r.sexp, ==, want.r.sexp);
        g_assert_cmphex(fsw() & (0x3f | FSW_C1), ==, want_sw & (0x3f | FSW_C1));
    }
    g_rand_free(r);
}


/* More ops against the host under every control word, with special
 * operands (zeros, denormals, infinities, NaNs, unnormals). */
static FPReg pick80(GRand *r)
{
    FPReg v = { .raw = { 0 } };
    static const struct { uint64_t m; uint16_t e; } special[] = {
        { 0, 0 }, { 0, 0x8000 }, { 1, 0 }, { 0x8000000000000000ULL, 0x7fff },
        { 0xc000000000000000ULL, 0xffff }, { 0x8000000000000001ULL, 0x7fff },
        { 0x4000000000000000ULL, 0x3fff }, { 0xffffffffffffffffULL, 0x43fe },
        { 0x8000000000000000ULL, 0x3f81 }, { 0xffffffffffffffffULL, 0x407e },
        { 0x8000000000000000ULL, 0x401e }, { 0xc000000000000000ULL, 0x403d },
    };
    if (g_rand_int_range(r, 0, 4) == 0) {
        unsigned k = g_rand_int_range(r, 0, G_N_ELEMENTS(special));
        v.r.mant = special[k].m;
        v.r.sexp = special[k].e | (g_rand_boolean(r) ? 0x8000 : 0);
        return v;
    }
    v.r.mant = (uint64_t)g_rand_int(r) << 32 | g_rand_int(r) | 1ULL << 63;
    v.r.sexp = 0x3fff + g_rand_int_range(r, -200, 200) + (g_rand_boolean(r) ? 0x8000 : 0);
    return v;
}

#define H2(insn) \
static long double h_##insn(long double a, long double b, uint16_t cw, uint16_t *sw) \
{ \
    long double r; uint16_t hcw = 0x037f; \
    __asm__ volatile("fldcw %[c]\n\tfnclex\n\t" #insn " %%st(1), %%st\n\tfnstsw %[s]\n\tfldcw %[h]" \
                     : "=t" (r), [s] "=m" (*sw) : "0" (a), "u" (b), [c] "m" (cw), [h] "m" (hcw)); \
    return r; \
}
H2(fadd) H2(fsub) H2(fsubr) H2(fmul) H2(fdivr)

static long double h_fsqrt(long double a, long double b, uint16_t cw, uint16_t *sw)
{
    long double r;
    uint16_t hcw = 0x037f;
    __asm__ volatile("fldcw %[c]\n\tfnclex\n\tfsqrt\n\tfnstsw %[s]\n\tfldcw %[h]"
                     : "=t" (r), [s] "=m" (*sw) : "0" (a), [c] "m" (cw), [h] "m" (hcw));
    return r;
}

static long double h_frndint(long double a, long double b, uint16_t cw, uint16_t *sw)
{
    long double r;
    uint16_t hcw = 0x037f;
    __asm__ volatile("fldcw %[c]\n\tfnclex\n\tfrndint\n\tfnstsw %[s]\n\tfldcw %[h]"
                     : "=t" (r), [s] "=m" (*sw) : "0" (a), [c] "m" (cw), [h] "m" (hcw));
    return r;
}

static void test_differential_more(void)
{
    static const struct {
        const char *name;
        unsigned op, r, m;
        long double (*fn)(long double, long double, uint16_t, uint16_t *);
    } ops[] = {
        { "fadd", 0, 0, 1, h_fadd }, { "fsub", 0, 4, 1, h_fsub }, { "fsubr", 0, 5, 1, h_fsubr },
        { "fmul", 0, 1, 1, h_fmul }, { "fdivr", 0, 7, 1, h_fdivr },
        { "fsqrt", 1, 7, 2, h_fsqrt }, { "frndint", 1, 7, 4, h_frndint },
    };
    static const uint16_t cws[] = { 0x037f, 0x077f, 0x0b7f, 0x0f7f, 0x027f, 0x007f, 0x0e7f };
    GRand *r = g_rand_new_with_seed(2024);

    for (unsigned n = 0; n < G_N_ELEMENTS(ops); n++) {
        for (unsigned iter = 0; iter < 1500; iter++) {
            FPReg a = pick80(r), b = pick80(r);
            uint16_t cw = cws[iter % G_N_ELEMENTS(cws)], sw;
            stub_fp_init();
            F()->fcw = cw;
            push(b.ld);
            push(a.ld);
            g_assert_cmpint(x87r(ops[n].op, ops[n].r, ops[n].m), ==, -1);
            FPReg want = { .ld = ops[n].fn(a.ld, b.ld, (cw & 0xf00) | 0x7f, &sw) };
            if (st(0).r.mant != want.r.mant || st(0).r.sexp != want.r.sexp) {
                g_test_message("%s cw %#x", ops[n].name, cw);
            }
            g_assert_cmphex(st(0).r.mant, ==, want.r.mant);
            g_assert_cmphex(st(0).r.sexp, ==, want.r.sexp);
            g_assert_cmphex(fsw() & (0x3f | FSW_C1), ==, sw & (0x3f | FSW_C1));
        }
    }
    /* stores to m32 / m64 / m32 int / m16 int (FST, FIST) */
    for (unsigned iter = 0; iter < 3000; iter++) {
        FPReg a = pick80(r);
        uint16_t cw = cws[iter % G_N_ELEMENTS(cws)], sw, hcw = 0x037f, gcw = (cw & 0xf00) | 0x7f;
        uint32_t f32, i32;
        uint64_t f64;
        uint16_t i16;
        unsigned kind = iter % 4;
        stub_fp_init();
        F()->fcw = cw;
        push(a.ld);
        switch (kind) {
        case 0:
            g_assert_cmpint(x87m(1, 2, 0x100), ==, -1);
            __asm__ volatile("fldcw %[c]\n\tfnclex\n\tfsts %[o]\n\tfnstsw %[s]\n\tfldcw %[h]"
                             : [o] "=m" (f32), [s] "=m" (sw) : "t" (a.ld), [c] "m" (gcw), [h] "m" (hcw));
            g_assert_cmphex(*(uint32_t *)(stub_mem + 0x100), ==, f32);
            break;
        case 1:
            g_assert_cmpint(x87m(5, 2, 0x100), ==, -1);
            __asm__ volatile("fldcw %[c]\n\tfnclex\n\tfstl %[o]\n\tfnstsw %[s]\n\tfldcw %[h]"
                             : [o] "=m" (f64), [s] "=m" (sw) : "t" (a.ld), [c] "m" (gcw), [h] "m" (hcw));
            g_assert_cmphex(*(uint64_t *)(stub_mem + 0x100), ==, f64);
            break;
        case 2:
            g_assert_cmpint(x87m(3, 2, 0x100), ==, -1);
            __asm__ volatile("fldcw %[c]\n\tfnclex\n\tfistl %[o]\n\tfnstsw %[s]\n\tfldcw %[h]"
                             : [o] "=m" (i32), [s] "=m" (sw) : "t" (a.ld), [c] "m" (gcw), [h] "m" (hcw));
            g_assert_cmphex(*(uint32_t *)(stub_mem + 0x100), ==, i32);
            break;
        default:
            g_assert_cmpint(x87m(7, 2, 0x100), ==, -1);
            __asm__ volatile("fldcw %[c]\n\tfnclex\n\tfists %[o]\n\tfnstsw %[s]\n\tfldcw %[h]"
                             : [o] "=m" (i16), [s] "=m" (sw) : "t" (a.ld), [c] "m" (gcw), [h] "m" (hcw));
            g_assert_cmphex(*(uint16_t *)(stub_mem + 0x100), ==, i16);
            break;
        }
        g_assert_cmphex(fsw() & (0x3f | FSW_C1), ==, sw & (0x3f | FSW_C1));
    }
    g_rand_free(r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/tcgl/fpu/stack", test_basic_stack);
    g_test_add_func("/tcgl/fpu/precision-rounding", test_precision_rounding);
    g_test_add_func("/tcgl/fpu/stack-faults", test_stack_faults);
    g_test_add_func("/tcgl/fpu/unmasked-mf", test_unmasked_and_mf);
    g_test_add_func("/tcgl/fpu/int-bcd", test_int_bcd);
    g_test_add_func("/tcgl/fpu/memory-formats", test_fp_memory_formats);
    g_test_add_func("/tcgl/fpu/compare", test_compare);
    g_test_add_func("/tcgl/fpu/misc", test_misc_x87);
    g_test_add_func("/tcgl/fpu/transcendental", test_transcendental);
    g_test_add_func("/tcgl/fpu/env-save", test_env_save);
    g_test_add_func("/tcgl/fpu/differential", test_differential);
    g_test_add_func("/tcgl/fpu/differential-more", test_differential_more);
    return g_test_run();
}

/*
 * Directed cases, x87: two values from the data page (80-bit, over edge
 * values: zeros, denormals and pseudo-denormals, unnormals, infinities,
 * quiet/signalling NaNs, the real indefinite, ties, integer limits) are
 * loaded, then one operation runs under every rounding control and
 * precision control (24, 53, 64 bits) and with exceptions unmasked (#MF).
 * The stack registers, the status word (less C0/C2/C3 where the manuals
 * leave them undefined), the tags and the stores are compared.
 */
#include <stdio.h>
#include "enc.h"
#include "gen.h"

/* 80-bit values: significand (with the explicit J bit), sign+exponent */
static const struct { uint64_t m; uint16_t se; } f80v[] = {
    { 0, 0 }, { 0, 0x8000 },                                        /* +0 -0 */
    { 0x8000000000000000ULL, 0x3fff }, { 0x8000000000000000ULL, 0xbfff },   /* 1 -1 */
    { 0xc000000000000000ULL, 0x4000 }, { 0xa000000000000000ULL, 0x4000 },   /* 3 2.5 */
    { 0xa000000000000000ULL, 0xc000 }, { 0x8000000000000000ULL, 0x3ffe },   /* -2.5 0.5 */
    { 0xaaaaaaaaaaaaaaabULL, 0x3ffd }, { 0xffffffffffffffffULL, 0x7ffe },   /* 1/3 max */
    { 0x8000000000000000ULL, 0x0001 }, { 0x0000000000000001ULL, 0x0000 },   /* min normal, denormal */
    { 0x8000000000000001ULL, 0x0000 },                              /* pseudo-denormal */
    { 0x4000000000000000ULL, 0x3fff },                              /* unnormal (invalid) */
    { 0x8000000000000000ULL, 0x7fff }, { 0x8000000000000000ULL, 0xffff },   /* +inf -inf */
    { 0xc000000000000000ULL, 0x7fff }, { 0xc000000000000000ULL, 0xffff },   /* QNaN, indefinite */
    { 0xc000000012345678ULL, 0x7fff }, { 0xa000000000000000ULL, 0x7fff },   /* QNaN payload, SNaN */
    { 0x8000000000000000ULL, 0x403e }, { 0x8000000000000000ULL, 0xc03e },   /* 2^63 -2^63 */
    { 0xffffffffffffffffULL, 0x403d }, { 0x8000000000000000ULL, 0x401e },   /* 2^63-1 2^31 */
    { 0xfffffffffffffffeULL, 0x401e }, { 0xc90fdaa22168c235ULL, 0x4000 },   /* ~2^32 pi */
    { 0x8000000000000001ULL, 0x3fff }, { 0xffffffffffffffffULL, 0x3ffe },   /* 1+ulp 1-ulp/2 */
    { 0x8000000000000000ULL, 0x4d00 }, { 0x8000000000000000ULL, 0x3100 },   /* huge tiny */
};
#define NF80 (sizeof(f80v) / sizeof(f80v[0]))

static void put80(uint8_t *p, unsigned i)
{
    memcpy(p, &f80v[i % NF80].m, 8);
    memcpy(p + 8, &f80v[i % NF80].se, 2);
}

/* C0 C2 C3: undefined after arithmetic, loads, stores */
#define U_C023 0x4500

typedef struct X87Op {
    const char *nm;
    uint8_t b[4];
    int n;
    bool binary;                /* uses ST1 (two values loaded) */
    bool all_fcw;               /* every rounding/precision control */
    uint16_t undef_fsw;
} X87Op;

static const X87Op ops[] = {
    { "fadd", { 0xd8, 0xc1 }, 2, true, true, U_C023 },
    { "fsub", { 0xd8, 0xe1 }, 2, true, true, U_C023 },
    { "fsubr", { 0xd8, 0xe9 }, 2, true, true, U_C023 },
    { "fmul", { 0xd8, 0xc9 }, 2, true, true, U_C023 },
    { "fdiv", { 0xd8, 0xf1 }, 2, true, true, U_C023 },
    { "fdivr", { 0xd8, 0xf9 }, 2, true, true, U_C023 },
    { "faddp", { 0xde, 0xc1 }, 2, true, false, U_C023 },
    { "fmul m64", { 0xdc, 0x4f, 0x30 }, 3, false, true, U_C023 },
    { "fiadd m32", { 0xda, 0x47, 0x20 }, 3, false, true, U_C023 },
    { "fsqrt", { 0xd9, 0xfa }, 2, false, true, U_C023 },
    { "frndint", { 0xd9, 0xfc }, 2, false, true, U_C023 },
    { "fabs", { 0xd9, 0xe1 }, 2, false, false, U_C023 },
    { "fchs", { 0xd9, 0xe0 }, 2, false, false, U_C023 },
    { "fscale", { 0xd9, 0xfd }, 2, true, true, U_C023 },
    { "fxtract", { 0xd9, 0xf4 }, 2, false, false, U_C023 },
    { "fprem", { 0xd9, 0xf8 }, 2, true, false, 0 },
    { "fprem1", { 0xd9, 0xf5 }, 2, true, false, 0 },
    { "fcom", { 0xd8, 0xd1 }, 2, true, false, 0 },
    { "fucompp", { 0xda, 0xe9 }, 2, true, false, 0 },
    { "fcomi", { 0xdb, 0xf1 }, 2, true, false, 0 },
    { "fucomip", { 0xdf, 0xe9 }, 2, true, false, 0 },
    { "ftst", { 0xd9, 0xe4 }, 2, false, false, 0 },
    { "fxam", { 0xd9, 0xe5 }, 2, false, false, 0 },
    { "fxch", { 0xd9, 0xc9 }, 2, true, false, U_C023 },
    { "fist m32", { 0xdb, 0x57, 0x40 }, 3, false, true, U_C023 },
    { "fistp m64", { 0xdf, 0x7f, 0x48 }, 3, false, true, U_C023 },
    { "fist m16", { 0xdf, 0x57, 0x50 }, 3, false, true, U_C023 },
    { "fisttp m32", { 0xdb, 0x4f, 0x50 }, 3, false, false, U_C023 },
    { "fst m32", { 0xd9, 0x57, 0x58 }, 3, false, true, U_C023 },
    { "fst m64", { 0xdd, 0x57, 0x60 }, 3, false, true, U_C023 },
    { "fstp m80", { 0xdb, 0x7f, 0x70 }, 3, false, false, U_C023 },
    { "fbstp", { 0xdf, 0x77, 0x80 }, 3, false, true, U_C023 },
    { "fld m32", { 0xd9, 0x47, 0x28 }, 3, false, true, U_C023 },
    { "fld m64", { 0xdd, 0x47, 0x30 }, 3, false, true, U_C023 },
    { "fild m32", { 0xdb, 0x47, 0x20 }, 3, false, false, U_C023 },
    { "fnstsw ax", { 0xdf, 0xe0 }, 2, true, false, 0 },
    { "fdecstp ffree", { 0xd9, 0xf6, 0xdd, 0xc1 }, 4, true, false, U_C023 },
};

void gen_x87(DiffEmit *emit, void *opaque)
{
    static DiffCase c;
    char name[64];
    static const uint32_t ints[] = { 0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 12345 };
    static const uint64_t dbl[] = { 0x3ff0000000000000ULL, 0x7ff0000000000001ULL,
                                    0x0000000000000001ULL, 0x4004000000000000ULL,
                                    0xfff8000000000000ULL, 0x7fefffffffffffffULL };

    for (unsigned k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
        const X87Op *t = &ops[k];
        unsigned nfcw = t->all_fcw ? 13 : 2;
        for (unsigned i = 0; i < NF80; i++) {
            for (unsigned j = t->binary ? 0 : i; j < (t->binary ? NF80 : i + 1); j++) {
                for (unsigned f = 0; f < nfcw; f++) {
                    /* RC 0-3 x PC 24/53/64, then all exceptions unmasked but PE */
                    static const uint16_t pcs[3] = { 0x000, 0x200, 0x300 };
                    uint16_t fcw = f < 12 ? 0x7f | pcs[f % 3] | (uint16_t)((f / 3) << 10) : 0x0360;
                    if (!t->all_fcw && f == 1) {
                        fcw = 0x0360;
                    }
                    snprintf(name, sizeof(name), "%s i%u j%u fcw %#x", t->nm, i, j, fcw);
                    diff_case_init(&c, name, 64);
                    emit_bytes(&c, 2, 0xdb, 0x6f);          /* fld tword [rdi+16] (ST1) */
                    emit_bytes(&c, 1, 0x10);
                    emit_bytes(&c, 2, 0xdb, 0x2f);          /* fld tword [rdi]    (ST0) */
                    diff_case_emit(&c, t->b, t->n);
                    emit_bytes(&c, 1, 0x9b);                /* fwait: a pending exception is #MF */
                    c.in.gpr[D_RDI] = DIFF_DATA_ADDR + 0x100;
                    c.in.gpr[D_RAX] = GARBAGE;
                    put80(c.in.data + 0x100, i);
                    put80(c.in.data + 0x110, j);
                    memcpy(c.in.data + 0x120, &ints[(i + j) % 6], 4);
                    float fv = (float)(int)(i * 7) / 4.0f;
                    memcpy(c.in.data + 0x128, &fv, 4);
                    memcpy(c.in.data + 0x130, &dbl[(i + 2 * j) % 6], 8);
                    c.in.fcw = fcw;
                    c.in.rflags = (i & 1) ? FL_ALL : FL_NONE;
                    c.undef_fsw = t->undef_fsw;
                    /* FCOMI/FUCOMIP with an unmasked invalid operation: the
                     * SDM leaves EFLAGS alone (tcg-lite too), AMD sets them */
                    if ((t->b[0] == 0xdb && t->b[1] == 0xf1) || (t->b[0] == 0xdf && t->b[1] == 0xe9)) {
                        c.undef_flags = (fcw & 1) ? 0 : 0x8d5;
                    }
                    emit(opaque, &c);
                }
            }
        }
    }
    /* a full stack: an eighth load overflows (the stack fault, C1) */
    for (unsigned i = 0; i < 2; i++) {
        snprintf(name, sizeof(name), "fld overflow %u", i);
        diff_case_init(&c, name, 64);
        for (int k = 0; k < 9; k++) {
            emit_bytes(&c, 2, 0xdb, 0x2f);
        }
        c.in.gpr[D_RDI] = DIFF_DATA_ADDR + 0x100;
        put80(c.in.data + 0x100, 3);
        c.in.fcw = i ? 0x0360 : 0x037f;
        c.undef_fsw = U_C023;
        emit(opaque, &c);
    }
}

/*
 * Directed cases, SSE..SSE4.2: arithmetic, comparisons, logic, shuffles,
 * conversions, integer SIMD, SSSE3, SSE4.1/4.2, each over edge inputs
 * (zeros, denormals, infinities, quiet and signalling NaNs, rounding
 * ties, integer-conversion limits) under every MXCSR rounding mode, with
 * and without FTZ/DAZ, and with unmasked exceptions (#XM).
 *
 * Every case has the same shape: `op xmm1, xmm2` (ModRM reg = 1, rm = 2),
 * or with REX `op xmm9, xmm10`, or `op xmm1, [rdi]` with rdi aligned or
 * not; GPR operands of the same ModRM are then rcx/rdx (r9/r10), which
 * get integer inputs too.  xmm0 holds the BLENDV mask, eax/edx the
 * PCMPESTR lengths.
 */
#include <stdio.h>
#include "enc.h"
#include "gen.h"

enum { IN_F32, IN_F64, IN_INT };
enum { IMM_NONE, IMM_CMP, IMM_ROUND, IMM_SHUF, IMM_BLEND, IMM_SHIFT, IMM_DP, IMM_INS, IMM_LANE,
       IMM_ALIGN, IMM_STR, IMM_MPSAD };

static const uint8_t imm_lists[][13] = {
    [IMM_NONE] = { 0 },
    [IMM_CMP] = { 8, 0, 1, 2, 3, 4, 5, 6, 7 },
    [IMM_ROUND] = { 10, 0, 1, 2, 3, 4, 8, 9, 10, 11, 12 },
    [IMM_SHUF] = { 8, 0x00, 0x1b, 0xe4, 0x4e, 0xb1, 0xff, 0x39, 0x93 },
    [IMM_BLEND] = { 6, 0x00, 0x05, 0x0a, 0xff, 0x3c, 0x81 },
    [IMM_SHIFT] = { 12, 0, 1, 7, 8, 15, 16, 31, 32, 63, 64, 127, 255 },
    [IMM_DP] = { 6, 0xff, 0x31, 0xf1, 0x7c, 0x3f, 0x12 },
    [IMM_INS] = { 7, 0x00, 0x10, 0x4e, 0xc7, 0x30, 0x0f, 0x8a },
    [IMM_LANE] = { 7, 0, 1, 2, 3, 7, 15, 16 },
    [IMM_ALIGN] = { 8, 0, 1, 4, 15, 16, 17, 31, 32 },
    [IMM_STR] = { 12, 0x00, 0x04, 0x08, 0x0c, 0x01, 0x18, 0x3a, 0x44, 0x4c, 0x70, 0x40, 0x42 },
    [IMM_MPSAD] = { 8, 0, 1, 2, 3, 4, 5, 6, 7 },
};

typedef struct SseOp {
    const char *nm;
    uint8_t pfx;                /* mandatory prefix: 0, 0x66, 0xf3, 0xf2 */
    uint8_t map;                /* 1: 0f, 2: 0f 38, 3: 0f 3a */
    uint8_t op;
    int8_t ext;                 /* ModRM.reg for group opcodes (register form only), -1 */
    uint8_t in;                 /* IN_* */
    uint8_t imm;                /* IMM_* */
    uint8_t w;                  /* REX.W (64-bit GPR operand) */
} SseOp;

/* ---- input values ------------------------------------------------------------- */

static const uint32_t f32v[] = {
    0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3fc00000, 0x40200000, 0xc0200000,
    0x3f000000, 0xbf000000, 0x7f7fffff, 0xff7fffff, 0x00800000, 0x00000001, 0x807fffff,
    0x7f800000, 0xff800000, 0x7fc00000, 0xffc12345, 0x7f800001, 0xffa00000, 0x4f000000,
    0xcf000000, 0x5f000000, 0x3eaaaaab, 0x4affffff, 0x3effffff, 0x40400000, 0x00400000,
};
#define NF32 (sizeof(f32v) / sizeof(f32v[0]))

static const uint64_t f64v[] = {
    0x0000000000000000ULL, 0x8000000000000000ULL, 0x3ff0000000000000ULL, 0xbff0000000000000ULL,
    0x3ff8000000000000ULL, 0x4004000000000000ULL, 0xc004000000000000ULL, 0x3fe0000000000000ULL,
    0xbfe0000000000000ULL, 0x7fefffffffffffffULL, 0xffefffffffffffffULL, 0x0010000000000000ULL,
    0x0000000000000001ULL, 0x800fffffffffffffULL, 0x7ff0000000000000ULL, 0xfff0000000000000ULL,
    0x7ff8000000000000ULL, 0xfff8000012345678ULL, 0x7ff0000000000001ULL, 0xfff4000000000000ULL,
    0x41e0000000000000ULL, 0xc1e0000000000000ULL, 0x43e0000000000000ULL, 0x3fd5555555555555ULL,
    0x432fffffffffffffULL, 0x3fdfffffffffffffULL, 0x41dfffffffc00000ULL, 0x36a0000000000000ULL,
};
#define NF64 (sizeof(f64v) / sizeof(f64v[0]))

#define NVEC 56
static uint8_t ivec[NVEC][16];

static void init_int_vectors(void)
{
    static const uint8_t be[] = { 0x00, 0x01, 0x7f, 0x80, 0x81, 0xff, 0xfe, 0x55, 0xaa, 0x0f, 0xf0, 0x02 };
    static const uint64_t lanes[] = { 0, ~0ULL, 0x7fff7fff7fff7fffULL, 0x8000800080008000ULL,
                                      0x7fffffff7fffffffULL, 0x8000000080000000ULL,
                                      0x7fffffffffffffffULL, 0x8000000000000000ULL };
    uint64_t s = 0x5eed;

    for (int v = 0; v < NVEC; v++) {
        if (v < 8) {
            memcpy(ivec[v], &lanes[v], 8);
            memcpy(ivec[v] + 8, &lanes[(v + 3) & 7], 8);
        } else if (v == 8) {
            for (int b = 0; b < 16; b++) {
                ivec[v][b] = b;                 /* identity for PSHUFB */
            }
        } else if (v == 9) {
            for (int b = 0; b < 16; b++) {
                ivec[v][b] = 'a' + b % 5;       /* a string for PCMPxSTRx */
            }
            ivec[v][11] = 0;
        } else {
            for (int b = 0; b < 16; b++) {
                uint64_t r = diff_rand(&s);
                ivec[v][b] = (r & 0x30) ? be[r % sizeof(be)] : (uint8_t)(r >> 24);
            }
            if (v % 7 == 3) {
                ivec[v][v % 16] = 0;            /* a NUL in a string */
            }
        }
    }
}

static void fill(int in, unsigned i, uint8_t out[16])
{
    if (in == IN_F32) {
        for (int k = 0; k < 4; k++) {
            memcpy(out + 4 * k, &f32v[(i + 7 * k) % NF32], 4);
        }
    } else if (in == IN_F64) {
        for (int k = 0; k < 2; k++) {
            memcpy(out + 8 * k, &f64v[(i + 11 * k) % NF64], 8);
        }
    } else {
        memcpy(out, ivec[i % NVEC], 16);
    }
}

/* MXCSR variants: four rounding modes, FTZ+DAZ, all exceptions unmasked,
 * sticky status flags already set. */
static const uint32_t mxcsr_v[] = { 0x1f80, 0x3f80, 0x5f80, 0x7f80, 0x9fc0, 0xffc0, 0x0000, 0x6000,
                                    0x1fbf };
#define NMX (sizeof(mxcsr_v) / sizeof(mxcsr_v[0]))

/* ---- running a table ----------------------------------------------------------------- */

static void sse_case(DiffEmit *emit, void *opaque, const SseOp *t, unsigned i, unsigned j,
                     unsigned imm, uint32_t mxcsr, int form)
{
    static DiffCase c;
    char name[64];
    uint64_t ev[16];
    unsigned ne = edge_values(8, ev);
    /* form 0: xmm1, xmm2; 1: xmm9, xmm10 (REX); 2: xmm1, [rdi]; 3: xmm1, [rdi+4] */
    EncOp o = enc_op(t->map == 1 ? 2 : 3, 0x0f, t->map == 1 ? t->op : t->map == 2 ? 0x38 : 0x3a, t->op);

    if (t->pfx) {
        enc_pfx(&o, t->pfx);
    }
    o.w = t->w;
    o.reg = t->ext >= 0 ? t->ext : form == 1 ? 9 : 1;
    o.rm = t->ext >= 0 && form == 1 ? 9 : form == 1 ? 10 : t->ext >= 0 ? 1 : 2;
    if (form >= 2 && t->ext < 0) {
        o.base = D_RDI;
    }
    if (imm) {
        o.immlen = 1;
        o.imm = imm_lists[t->imm][imm];
    }
    snprintf(name, sizeof(name), "%s i%u j%u imm%u mx%x f%d", t->nm, i, j,
             imm ? imm_lists[t->imm][imm] : 0, mxcsr, form);
    diff_case_init(&c, name, 64);
    emit_op(&c, &o);
    fill(t->in, i, c.in.xmm[1]);
    fill(t->in, j, c.in.xmm[2]);
    memcpy(c.in.xmm[9], c.in.xmm[1], 16);
    memcpy(c.in.xmm[10], c.in.xmm[2], 16);
    fill(IN_INT, i + j, c.in.xmm[0]);
    fill(t->in, j + 1, c.in.xmm[3]);
    c.in.gpr[D_RCX] = c.in.gpr[D_R9] = ev[i % ne] ^ (j & 1 ? 0 : 0x8000);
    c.in.gpr[D_RDX] = c.in.gpr[D_R10] = ev[j % ne] ^ (i & 4 ? 0x80000000ULL : 0);
    c.in.gpr[D_RAX] = (uint64_t)(int64_t)((int)(i % 23) - 5);
    if (t->map == 3 && (t->op == 0x60 || t->op == 0x61)) {
        c.in.gpr[D_RDX] = c.in.gpr[D_R10] = (uint64_t)(int64_t)((int)(j % 41) - 20);
    }
    c.in.gpr[D_RDI] = DIFF_DATA_ADDR + 0x100 + (form == 3 ? 4 : 0);
    memcpy(c.in.data + 0x100 + (form == 3 ? 4 : 0), c.in.xmm[2], 16);
    c.in.mxcsr = mxcsr;
    c.in.rflags = (i & 1) ? FL_ALL : FL_NONE;
    if (t->map == 1 && (t->op == 0x52 || t->op == 0x53)) {
        /* RCP/RSQRT approximations: the relative error is architectural,
         * the bits are the implementation's (Intel and AMD differ) */
        c.undef |= DIFF_U_XMM;
    }
    emit(opaque, &c);
}

static void run_table(DiffEmit *emit, void *opaque, const SseOp *tab, unsigned n, bool all_mxcsr)
{
    static bool init;
    if (!init) {
        init_int_vectors();
        init = true;
    }
    for (unsigned k = 0; k < n; k++) {
        const SseOp *t = &tab[k];
        unsigned ni = t->in == IN_F32 ? NF32 : t->in == IN_F64 ? NF64 : NVEC;
        unsigned nimm = imm_lists[t->imm][0];
        unsigned jstep = t->in == IN_INT ? 7 : nimm > 1 ? 3 : 1;
        unsigned nmx = t->in == IN_INT ? 1 : all_mxcsr ? NMX : 4;
        for (unsigned imm = nimm ? 1 : 0; imm <= nimm; imm++) {
            for (unsigned i = 0; i < ni; i++) {
                for (unsigned j = i % jstep; j < ni; j += jstep) {
                    for (unsigned m = 0; m < nmx; m++) {
                        uint32_t mx = all_mxcsr ? mxcsr_v[m] : mxcsr_v[(m + i + j) % NMX];
                        sse_case(emit, opaque, t, i, j, imm, mx, (i + j + m) % 5 == 1);
                    }
                    if ((i + j) % 4 == 0 && t->ext < 0) {
                        sse_case(emit, opaque, t, i, j, imm, 0x1f80, 2);
                        sse_case(emit, opaque, t, i, j, imm, 0x1f80, 3);
                    }
                }
            }
        }
    }
}

#define N(t) (sizeof(t) / sizeof(t[0]))

/* ---- SSE/SSE2/SSE3 floating point -------------------------------------------------------- */

void gen_sse_float(DiffEmit *emit, void *opaque)
{
    static const SseOp t[] = {
        { "addps", 0, 1, 0x58, -1, IN_F32, 0, 0 }, { "addpd", 0x66, 1, 0x58, -1, IN_F64, 0, 0 },
        { "addss", 0xf3, 1, 0x58, -1, IN_F32, 0, 0 }, { "addsd", 0xf2, 1, 0x58, -1, IN_F64, 0, 0 },
        { "subps", 0, 1, 0x5c, -1, IN_F32, 0, 0 }, { "subpd", 0x66, 1, 0x5c, -1, IN_F64, 0, 0 },
        { "subss", 0xf3, 1, 0x5c, -1, IN_F32, 0, 0 }, { "subsd", 0xf2, 1, 0x5c, -1, IN_F64, 0, 0 },
        { "mulps", 0, 1, 0x59, -1, IN_F32, 0, 0 }, { "mulpd", 0x66, 1, 0x59, -1, IN_F64, 0, 0 },
        { "mulss", 0xf3, 1, 0x59, -1, IN_F32, 0, 0 }, { "mulsd", 0xf2, 1, 0x59, -1, IN_F64, 0, 0 },
        { "divps", 0, 1, 0x5e, -1, IN_F32, 0, 0 }, { "divpd", 0x66, 1, 0x5e, -1, IN_F64, 0, 0 },
        { "divss", 0xf3, 1, 0x5e, -1, IN_F32, 0, 0 }, { "divsd", 0xf2, 1, 0x5e, -1, IN_F64, 0, 0 },
        { "minps", 0, 1, 0x5d, -1, IN_F32, 0, 0 }, { "minpd", 0x66, 1, 0x5d, -1, IN_F64, 0, 0 },
        { "minss", 0xf3, 1, 0x5d, -1, IN_F32, 0, 0 }, { "minsd", 0xf2, 1, 0x5d, -1, IN_F64, 0, 0 },
        { "maxps", 0, 1, 0x5f, -1, IN_F32, 0, 0 }, { "maxpd", 0x66, 1, 0x5f, -1, IN_F64, 0, 0 },
        { "maxss", 0xf3, 1, 0x5f, -1, IN_F32, 0, 0 }, { "maxsd", 0xf2, 1, 0x5f, -1, IN_F64, 0, 0 },
        { "sqrtps", 0, 1, 0x51, -1, IN_F32, 0, 0 }, { "sqrtpd", 0x66, 1, 0x51, -1, IN_F64, 0, 0 },
        { "sqrtss", 0xf3, 1, 0x51, -1, IN_F32, 0, 0 }, { "sqrtsd", 0xf2, 1, 0x51, -1, IN_F64, 0, 0 },
        { "rcpss", 0xf3, 1, 0x53, -1, IN_F32, 0, 0 }, { "rsqrtss", 0xf3, 1, 0x52, -1, IN_F32, 0, 0 },
        { "cmpps", 0, 1, 0xc2, -1, IN_F32, IMM_CMP, 0 }, { "cmppd", 0x66, 1, 0xc2, -1, IN_F64, IMM_CMP, 0 },
        { "cmpss", 0xf3, 1, 0xc2, -1, IN_F32, IMM_CMP, 0 }, { "cmpsd", 0xf2, 1, 0xc2, -1, IN_F64, IMM_CMP, 0 },
        { "ucomiss", 0, 1, 0x2e, -1, IN_F32, 0, 0 }, { "ucomisd", 0x66, 1, 0x2e, -1, IN_F64, 0, 0 },
        { "comiss", 0, 1, 0x2f, -1, IN_F32, 0, 0 }, { "comisd", 0x66, 1, 0x2f, -1, IN_F64, 0, 0 },
        { "andps", 0, 1, 0x54, -1, IN_F32, 0, 0 }, { "andnpd", 0x66, 1, 0x55, -1, IN_F64, 0, 0 },
        { "orps", 0, 1, 0x56, -1, IN_F32, 0, 0 }, { "xorpd", 0x66, 1, 0x57, -1, IN_F64, 0, 0 },
        { "haddps", 0xf2, 1, 0x7c, -1, IN_F32, 0, 0 }, { "haddpd", 0x66, 1, 0x7c, -1, IN_F64, 0, 0 },
        { "hsubps", 0xf2, 1, 0x7d, -1, IN_F32, 0, 0 }, { "hsubpd", 0x66, 1, 0x7d, -1, IN_F64, 0, 0 },
        { "addsubps", 0xf2, 1, 0xd0, -1, IN_F32, 0, 0 }, { "addsubpd", 0x66, 1, 0xd0, -1, IN_F64, 0, 0 },
        { "dpps", 0x66, 3, 0x40, -1, IN_F32, IMM_DP, 0 }, { "dppd", 0x66, 3, 0x41, -1, IN_F64, IMM_DP, 0 },
    };
    run_table(emit, opaque, t, N(t), false);
}

/* ---- conversions: every rounding mode on every input ----------------------------------------- */

void gen_sse_cvt(DiffEmit *emit, void *opaque)
{
    static const SseOp t[] = {
        { "cvtps2pd", 0, 1, 0x5a, -1, IN_F32, 0, 0 }, { "cvtpd2ps", 0x66, 1, 0x5a, -1, IN_F64, 0, 0 },
        { "cvtss2sd", 0xf3, 1, 0x5a, -1, IN_F32, 0, 0 }, { "cvtsd2ss", 0xf2, 1, 0x5a, -1, IN_F64, 0, 0 },
        { "cvtdq2ps", 0, 1, 0x5b, -1, IN_INT, 0, 0 }, { "cvtps2dq", 0x66, 1, 0x5b, -1, IN_F32, 0, 0 },
        { "cvttps2dq", 0xf3, 1, 0x5b, -1, IN_F32, 0, 0 }, { "cvttpd2dq", 0x66, 1, 0xe6, -1, IN_F64, 0, 0 },
        { "cvtdq2pd", 0xf3, 1, 0xe6, -1, IN_INT, 0, 0 }, { "cvtpd2dq", 0xf2, 1, 0xe6, -1, IN_F64, 0, 0 },
        { "cvtss2si", 0xf3, 1, 0x2d, -1, IN_F32, 0, 0 }, { "cvtss2si64", 0xf3, 1, 0x2d, -1, IN_F32, 0, 1 },
        { "cvtsd2si", 0xf2, 1, 0x2d, -1, IN_F64, 0, 0 }, { "cvtsd2si64", 0xf2, 1, 0x2d, -1, IN_F64, 0, 1 },
        { "cvttss2si", 0xf3, 1, 0x2c, -1, IN_F32, 0, 0 }, { "cvttss2si64", 0xf3, 1, 0x2c, -1, IN_F32, 0, 1 },
        { "cvttsd2si", 0xf2, 1, 0x2c, -1, IN_F64, 0, 0 }, { "cvttsd2si64", 0xf2, 1, 0x2c, -1, IN_F64, 0, 1 },
        { "cvtsi2ss", 0xf3, 1, 0x2a, -1, IN_F32, 0, 0 }, { "cvtsi2ss64", 0xf3, 1, 0x2a, -1, IN_F32, 0, 1 },
        { "cvtsi2sd", 0xf2, 1, 0x2a, -1, IN_F64, 0, 0 }, { "cvtsi2sd64", 0xf2, 1, 0x2a, -1, IN_F64, 0, 1 },
        { "roundps", 0x66, 3, 0x08, -1, IN_F32, IMM_ROUND, 0 }, { "roundpd", 0x66, 3, 0x09, -1, IN_F64, IMM_ROUND, 0 },
        { "roundss", 0x66, 3, 0x0a, -1, IN_F32, IMM_ROUND, 0 }, { "roundsd", 0x66, 3, 0x0b, -1, IN_F64, IMM_ROUND, 0 },
    };
    run_table(emit, opaque, t, N(t), true);
}

/* ---- SSE2 integer ------------------------------------------------------------------------------ */

#define I66(nm, op) { nm, 0x66, 1, op, -1, IN_INT, 0, 0 }
#define I38(nm, op) { nm, 0x66, 2, op, -1, IN_INT, 0, 0 }

void gen_sse_int(DiffEmit *emit, void *opaque)
{
    static const SseOp t[] = {
        I66("paddb", 0xfc), I66("paddw", 0xfd), I66("paddd", 0xfe), I66("paddq", 0xd4),
        I66("psubb", 0xf8), I66("psubw", 0xf9), I66("psubd", 0xfa), I66("psubq", 0xfb),
        I66("paddsb", 0xec), I66("paddsw", 0xed), I66("paddusb", 0xdc), I66("paddusw", 0xdd),
        I66("psubsb", 0xe8), I66("psubsw", 0xe9), I66("psubusb", 0xd8), I66("psubusw", 0xd9),
        I66("pmullw", 0xd5), I66("pmulhw", 0xe5), I66("pmulhuw", 0xe4), I66("pmuludq", 0xf4),
        I66("pmaddwd", 0xf5), I66("psadbw", 0xf6), I66("pavgb", 0xe0), I66("pavgw", 0xe3),
        I66("pminub", 0xda), I66("pmaxub", 0xde), I66("pminsw", 0xea), I66("pmaxsw", 0xee),
        I66("pcmpeqb", 0x74), I66("pcmpeqw", 0x75), I66("pcmpeqd", 0x76),
        I66("pcmpgtb", 0x64), I66("pcmpgtw", 0x65), I66("pcmpgtd", 0x66),
        I66("pand", 0xdb), I66("pandn", 0xdf), I66("por", 0xeb), I66("pxor", 0xef),
        I66("packsswb", 0x63), I66("packssdw", 0x6b), I66("packuswb", 0x67),
        I66("psrlw", 0xd1), I66("psrld", 0xd2), I66("psrlq", 0xd3), I66("psraw", 0xe1),
        I66("psrad", 0xe2), I66("psllw", 0xf1), I66("pslld", 0xf2), I66("psllq", 0xf3),
        { "psrlw imm", 0x66, 1, 0x71, 2, IN_INT, IMM_SHIFT, 0 }, { "psraw imm", 0x66, 1, 0x71, 4, IN_INT, IMM_SHIFT, 0 },
        { "psllw imm", 0x66, 1, 0x71, 6, IN_INT, IMM_SHIFT, 0 }, { "psrld imm", 0x66, 1, 0x72, 2, IN_INT, IMM_SHIFT, 0 },
        { "psrad imm", 0x66, 1, 0x72, 4, IN_INT, IMM_SHIFT, 0 }, { "pslld imm", 0x66, 1, 0x72, 6, IN_INT, IMM_SHIFT, 0 },
        { "psrlq imm", 0x66, 1, 0x73, 2, IN_INT, IMM_SHIFT, 0 }, { "psrldq", 0x66, 1, 0x73, 3, IN_INT, IMM_SHIFT, 0 },
        { "psllq imm", 0x66, 1, 0x73, 6, IN_INT, IMM_SHIFT, 0 }, { "pslldq", 0x66, 1, 0x73, 7, IN_INT, IMM_SHIFT, 0 },
        I66("pmovmskb", 0xd7), { "movmskps", 0, 1, 0x50, -1, IN_F32, 0, 0 }, I66("movmskpd", 0x50),
        I66("movd xmm,r32", 0x6e), { "movq xmm,r64", 0x66, 1, 0x6e, -1, IN_INT, 0, 1 },
        I66("movd r32,xmm", 0x7e), { "movq r64,xmm", 0x66, 1, 0x7e, -1, IN_INT, 0, 1 },
        { "movq xmm,xmm", 0xf3, 1, 0x7e, -1, IN_INT, 0, 0 }, I66("movq xmm/m64", 0xd6),
        { "movaps", 0, 1, 0x28, -1, IN_INT, 0, 0 }, { "movups", 0, 1, 0x10, -1, IN_INT, 0, 0 },
        I66("movdqa", 0x6f), { "movdqu", 0xf3, 1, 0x6f, -1, IN_INT, 0, 0 },
        { "movss", 0xf3, 1, 0x10, -1, IN_INT, 0, 0 }, { "movsd", 0xf2, 1, 0x10, -1, IN_INT, 0, 0 },
        { "movlps", 0, 1, 0x12, -1, IN_INT, 0, 0 }, { "movhps", 0, 1, 0x16, -1, IN_INT, 0, 0 },
        { "lddqu", 0xf2, 1, 0xf0, -1, IN_INT, 0, 0 },
    };
    run_table(emit, opaque, t, N(t), false);
}

/* ---- shuffles, unpacks, inserts/extracts, SSSE3 --------------------------------------------------- */

void gen_sse_shuf(DiffEmit *emit, void *opaque)
{
    static const SseOp t[] = {
        { "shufps", 0, 1, 0xc6, -1, IN_F32, IMM_SHUF, 0 }, { "shufpd", 0x66, 1, 0xc6, -1, IN_F64, IMM_SHUF, 0 },
        { "pshufd", 0x66, 1, 0x70, -1, IN_INT, IMM_SHUF, 0 }, { "pshufhw", 0xf3, 1, 0x70, -1, IN_INT, IMM_SHUF, 0 },
        { "pshuflw", 0xf2, 1, 0x70, -1, IN_INT, IMM_SHUF, 0 },
        { "unpcklps", 0, 1, 0x14, -1, IN_F32, 0, 0 }, { "unpckhps", 0, 1, 0x15, -1, IN_F32, 0, 0 },
        { "unpcklpd", 0x66, 1, 0x14, -1, IN_F64, 0, 0 }, { "unpckhpd", 0x66, 1, 0x15, -1, IN_F64, 0, 0 },
        I66("punpcklbw", 0x60), I66("punpcklwd", 0x61), I66("punpckldq", 0x62), I66("punpcklqdq", 0x6c),
        I66("punpckhbw", 0x68), I66("punpckhwd", 0x69), I66("punpckhdq", 0x6a), I66("punpckhqdq", 0x6d),
        { "movshdup", 0xf3, 1, 0x16, -1, IN_F32, 0, 0 }, { "movsldup", 0xf3, 1, 0x12, -1, IN_F32, 0, 0 },
        { "movddup", 0xf2, 1, 0x12, -1, IN_F64, 0, 0 },
        { "pinsrw", 0x66, 1, 0xc4, -1, IN_INT, IMM_LANE, 0 }, { "pextrw", 0x66, 1, 0xc5, -1, IN_INT, IMM_LANE, 0 },
        I38("pshufb", 0x00), I38("phaddw", 0x01), I38("phaddd", 0x02), I38("phaddsw", 0x03),
        I38("pmaddubsw", 0x04), I38("phsubw", 0x05), I38("phsubd", 0x06), I38("phsubsw", 0x07),
        I38("psignb", 0x08), I38("psignw", 0x09), I38("psignd", 0x0a), I38("pmulhrsw", 0x0b),
        I38("pabsb", 0x1c), I38("pabsw", 0x1d), I38("pabsd", 0x1e),
        { "palignr", 0x66, 3, 0x0f, -1, IN_INT, IMM_ALIGN, 0 },
    };
    run_table(emit, opaque, t, N(t), false);
}

/* ---- SSE4.1, SSE4.2 ------------------------------------------------------------------------------ */

void gen_sse4(DiffEmit *emit, void *opaque)
{
    static const SseOp t[] = {
        I38("pblendvb", 0x10), { "blendvps", 0x66, 2, 0x14, -1, IN_F32, 0, 0 },
        { "blendvpd", 0x66, 2, 0x15, -1, IN_F64, 0, 0 }, I38("ptest", 0x17),
        I38("pmovsxbw", 0x20), I38("pmovsxbd", 0x21), I38("pmovsxbq", 0x22), I38("pmovsxwd", 0x23),
        I38("pmovsxwq", 0x24), I38("pmovsxdq", 0x25), I38("pmuldq", 0x28), I38("pcmpeqq", 0x29),
        I38("packusdw", 0x2b), I38("pmovzxbw", 0x30), I38("pmovzxbd", 0x31), I38("pmovzxbq", 0x32),
        I38("pmovzxwd", 0x33), I38("pmovzxwq", 0x34), I38("pmovzxdq", 0x35), I38("pcmpgtq", 0x37),
        I38("pminsb", 0x38), I38("pminsd", 0x39), I38("pminuw", 0x3a), I38("pminud", 0x3b),
        I38("pmaxsb", 0x3c), I38("pmaxsd", 0x3d), I38("pmaxuw", 0x3e), I38("pmaxud", 0x3f),
        I38("pmulld", 0x40), I38("phminposuw", 0x41),
        { "blendps", 0x66, 3, 0x0c, -1, IN_F32, IMM_BLEND, 0 }, { "blendpd", 0x66, 3, 0x0d, -1, IN_F64, IMM_BLEND, 0 },
        { "pblendw", 0x66, 3, 0x0e, -1, IN_INT, IMM_BLEND, 0 },
        { "pextrb", 0x66, 3, 0x14, -1, IN_INT, IMM_LANE, 0 }, { "pextrw m", 0x66, 3, 0x15, -1, IN_INT, IMM_LANE, 0 },
        { "pextrd", 0x66, 3, 0x16, -1, IN_INT, IMM_LANE, 0 }, { "pextrq", 0x66, 3, 0x16, -1, IN_INT, IMM_LANE, 1 },
        { "extractps", 0x66, 3, 0x17, -1, IN_F32, IMM_LANE, 0 },
        { "pinsrb", 0x66, 3, 0x20, -1, IN_INT, IMM_LANE, 0 }, { "insertps", 0x66, 3, 0x21, -1, IN_F32, IMM_INS, 0 },
        { "pinsrd", 0x66, 3, 0x22, -1, IN_INT, IMM_LANE, 0 }, { "pinsrq", 0x66, 3, 0x22, -1, IN_INT, IMM_LANE, 1 },
        { "mpsadbw", 0x66, 3, 0x42, -1, IN_INT, IMM_MPSAD, 0 },
        { "pcmpestrm", 0x66, 3, 0x60, -1, IN_INT, IMM_STR, 0 }, { "pcmpestri", 0x66, 3, 0x61, -1, IN_INT, IMM_STR, 0 },
        { "pcmpistrm", 0x66, 3, 0x62, -1, IN_INT, IMM_STR, 0 }, { "pcmpistri", 0x66, 3, 0x63, -1, IN_INT, IMM_STR, 0 },
        { "crc32b", 0xf2, 2, 0xf0, -1, IN_INT, 0, 0 }, { "crc32d", 0xf2, 2, 0xf1, -1, IN_INT, 0, 0 },
        { "crc32q", 0xf2, 2, 0xf1, -1, IN_INT, 0, 1 },
    };
    run_table(emit, opaque, t, N(t), false);
}

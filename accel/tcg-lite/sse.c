/*
 * tcg-lite part "fp": MMX, SSE, SSE2, SSE3 (SSSE3..SSE4.2 in sse4.c.inc),
 * MXCSR, FXSAVE/FXRSTOR, XSAVE/XRSTOR/XSAVEOPT.
 *
 * Floating-point results are computed by the host's own SSE unit (the
 * host is x86-64) with the guest's MXCSR rounding, DAZ and FTZ loaded
 * and every exception masked; the flags the host raised are merged into
 * the guest MXCSR, and an unmasked one faults (#XM, or #UD without
 * CR4.OSXMMEXCPT) before the destination is written.  So rounding, NaN
 * propagation, the default NaN, denormals and the integer indefinite are
 * bit-exact.  Integer operations use SSE2 intrinsics (exact by nature).
 *
 * Handler naming: <op>_r / <op>_m are the register and memory forms of
 * the XMM instruction, mmx_<op>_r / _m those of its MMX (no prefix) form.
 */
#include "fp.h"
#include "sse-ops.h"

/* ---- the SIMD floating-point exception path --------------------------------- */

void tcgl_sse_fp_exception(TCGLCPU *c, TCGLFPU *f, uint32_t e)
{
    uint32_t unmasked = e & ~(f->mxcsr >> 7) & MXCSR_FLAGS;

    if (!unmasked) {
        f->mxcsr |= e;
        return;
    }
    /* An unmasked pre-computation exception (invalid, denormal, divide by
     * zero) reports only those; otherwise the post-computation ones. */
    if (e & unmasked & (MXCSR_IE | MXCSR_DE | MXCSR_ZE)) {
        e &= MXCSR_IE | MXCSR_DE | MXCSR_ZE;
    }
    f->mxcsr |= e;
    tcgl_raise(c, (c->env->cr4 & TCGL_CR4_OSXMMEXCPT) ? TCGL_EXC_XM : TCGL_EXC_UD, -1);
}

/* ---- moves ----------------------------------------------------------------- */

/* MOVUPS/MOVUPD/MOVDQU/MOVAPS/MOVAPD/MOVDQA/LDDQU loads, 0F 10/28/6F... */
static void movx_r(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    f->xmm[i->reg].v = f->xmm[i->rm].v;
}

static void movx_st_r(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    f->xmm[i->rm].v = f->xmm[i->reg].v;
}

static void movu_m(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    f->xmm[i->reg].v = sse_ldm(c, i, 16, false);
}

static void mova_m(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    f->xmm[i->reg].v = sse_ldm(c, i, 16, true);
}

static void movu_st_m(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    sse_stm(c, i, &f->xmm[i->reg], 16, false);
}

static void mova_st_m(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    sse_stm(c, i, &f->xmm[i->reg], 16, true);
}

/* MOVSS (F3 0F 10/11) and MOVSD (F2 0F 10/11) */
static void movss_r(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    f->xmm[i->reg].l[0] = f->xmm[i->rm].l[0];
}

static void movss_m(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    f->xmm[i->reg].v = sse_ldm(c, i, 4, false);
}

static void movss_st_r(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    f->xmm[i->rm].l[0] = f->xmm[i->reg].l[0];
}

static void movss_st_m(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    sse_stm(c, i, &f->xmm[i->reg], 4, false);
}

static void movsd_r(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    f->xmm[i->reg].q[0] = f->xmm[i->rm].q[0];
}

static void movsd_m(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    f->xmm[i->reg].v = sse_ldm(c, i, 8, false);
}

static void movsd_st_r(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    f->xmm[i->rm].q[0] = f->xmm[i->reg].q[0];
}

/* MOVSD/MOVLPS/MOVLPD/MOVQ stores of the low quadword. */
static void movlq_st_m(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    sse_stm(c, i, &f->xmm[i->reg], 8, false);
}

/* MOVLPS/MOVLPD load (0F 12 mem), MOVHLPS (0F 12 reg) */
static void movlp_m(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    f->xmm[i->reg].q[0] = tcgl_ldq(c, i->seg, tcgl_ea(c, i));
}

static void movhlps_r(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    f->xmm[i->reg].q[0] = f->xmm[i->rm].q[1];
}

/* MOVHPS/MOVHPD load (0F 16 mem), MOVLHPS (0F 16 reg), stores (0F 17) */
static void movhp_m(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    f->xmm[i->reg].q[1] = tcgl_ldq(c, i->seg, tcgl_ea(c, i));
}

static void movlhps_r(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    f->xmm[i->reg].q[1] = f->xmm[i->rm].q[0];
}

static void movhp_st_m(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    tcgl_stq(c, i->seg, tcgl_ea(c, i), f->xmm[i->reg].q[1]);
}

/* MOVSLDUP (F3 0F 12), MOVSHDUP (F3 0F 16), MOVDDUP (F2 0F 12): SSE3 */
static inline void op_movsldup(TCGLCPU *c, TCGLFPU *f, XMMReg *d, __m128i s, const TCGLInsn *i)
{
    d->v = _mm_shuffle_epi32(s, 0xa0);
}
SSE_RM(op_movsldup, 16, true)

static inline void op_movshdup(TCGLCPU *c, TCGLFPU *f, XMMReg *d, __m128i s, const TCGLInsn *i)
{
    d->v = _mm_shuffle_epi32(s, 0xf5);
}
SSE_RM(op_movshdup, 16, true)

static inline void op_movddup(TCGLCPU *c, TCGLFPU *f, XMMReg *d, __m128i s, const TCGLInsn *i)
{
    d->v = _mm_unpacklo_epi64(s, s);
}
SSE_RM(op_movddup, 8, false)

/* MOVD/MOVQ xmm, r/m32/64 (66 0F 6E) and mm, r/m32/64 (0F 6E) */
static void movd_x_r(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    uint64_t v = c->env->regs[i->rm];
    f->xmm[i->reg].v = _mm_cvtsi64_si128((i->rex & 8) ? v : (uint32_t)v);
}

static void movd_x_m(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    f->xmm[i->reg].v = sse_ldm(c, i, (i->rex & 8) ? 8 : 4, false);
}

static void movd_mm_r(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = mmx_enter(c);
    uint64_t v = c->env->regs[i->rm];
    mmx_set(f, i->reg, (i->rex & 8) ? v : (uint32_t)v);
}

static void movd_mm_m(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = mmx_enter(c);
    mmx_set(f, i->reg, tcgl_ld(c, i->seg, tcgl_ea(c, i), (i->rex & 8) ? 8 : 4));
}

/* MOVD/MOVQ r/m32/64, xmm (66 0F 7E) and r/m32/64, mm (0F 7E) */
static void movd_st_x_r(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    tcgl_reg_set(c, i->rm, (i->rex & 8) ? 8 : 4, f->xmm[i->reg].q[0]);
}

static void movd_st_x_m(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    sse_stm(c, i, &f->xmm[i->reg], (i->rex & 8) ? 8 : 4, false);
}

static void movd_st_mm_r(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = mmx_enter(c);
    tcgl_reg_set(c, i->rm, (i->rex & 8) ? 8 : 4, mmx_get(f, i->reg));
}

static void movd_st_mm_m(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = mmx_enter(c);
    tcgl_st(c, i->seg, tcgl_ea(c, i), (i->rex & 8) ? 8 : 4, mmx_get(f, i->reg));
}

/* MOVQ xmm, xmm/m64 (F3 0F 7E): zero-extends */
static void movq_x_r(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    f->xmm[i->reg].v = _mm_move_epi64(f->xmm[i->rm].v);
}

/* MOVQ xmm/m64, xmm (66 0F D6): the register form zero-extends */
static void movq_st_x_r(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    f->xmm[i->rm].v = _mm_move_epi64(f->xmm[i->reg].v);
}

/* MOVQ mm, mm/m64 (0F 6F) and mm/m64, mm (0F 7F), MOVNTQ (0F E7) */
static void movq_mm_r(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = mmx_enter(c);
    mmx_set(f, i->reg, mmx_get(f, i->rm));
}

static void movq_mm_m(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = mmx_enter(c);
    mmx_set(f, i->reg, tcgl_ldq(c, i->seg, tcgl_ea(c, i)));
}

static void movq_st_mm_r(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = mmx_enter(c);
    mmx_set(f, i->rm, mmx_get(f, i->reg));
}

static void movq_st_mm_m(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = mmx_enter(c);
    tcgl_stq(c, i->seg, tcgl_ea(c, i), mmx_get(f, i->reg));
}

/* MOVQ2DQ xmm, mm (F3 0F D6) and MOVDQ2Q mm, xmm (F2 0F D6) */
static void movq2dq_r(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    mmx_enter(c);
    f->xmm[i->reg].v = _mm_cvtsi64_si128(mmx_get(f, i->rm));
}

static void movdq2q_r(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    mmx_enter(c);
    mmx_set(f, i->reg, f->xmm[i->rm].q[0]);
}

/* MOVNTI m32/64, r32/64 (0F C3) */
static void movnti_m(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned size = (i->rex & 8) ? 8 : 4;
    tcgl_st(c, i->seg, tcgl_ea(c, i), size, tcgl_reg_get(c, i->reg, size));
}

/* MASKMOVDQU xmm1, xmm2 (66 0F F7) and MASKMOVQ mm1, mm2 (0F F7): the
 * bytes of the first operand whose mask byte has its top bit set go to
 * [DS:rDI] (the segment may be overridden). */
static void maskmov_store(TCGLCPU *c, const TCGLInsn *i, const uint8_t *data,
                          const uint8_t *mask, unsigned n)
{
    uint64_t off = c->env->regs[R_EDI] & tcgl_size_mask(i->adsize);
    unsigned any = 0;
    for (unsigned k = 0; k < n; k++) {
        any |= mask[k] & 0x80;
    }
    if (any) {
        /* silicon checks the whole operand first: a #PF reports rDI, not
         * the first selected byte (tcgl-diff random "maskmovq mm2, mm7") */
        tcgl_probe_write(c, i->seg, off, n);
    }
    for (unsigned k = 0; k < n; k++) {
        if (mask[k] & 0x80) {
            tcgl_stb(c, i->seg, (off + k) & tcgl_size_mask(i->adsize), data[k]);
        }
    }
}

static void maskmovdqu_r(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    XMMReg d = f->xmm[i->reg], m = f->xmm[i->rm];
    maskmov_store(c, i, d.b, m.b, 16);
}

static void maskmovq_r(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = mmx_enter(c);
    uint64_t d = mmx_get(f, i->reg), m = mmx_get(f, i->rm);
    f->mmx_undo = false;    /* a faulting store keeps the transition (silicon) */
    maskmov_store(c, i, (const uint8_t *)&d, (const uint8_t *)&m, 8);
}

/* ---- floating-point arithmetic ---------------------------------------------- */

/* Each op runs the same host instruction; ps/pd packed (aligned m128),
 * ss/sd scalar (m32/m64, the upper part of the destination kept). */
#define FP_OP(name, insn, size, align)                                          \
static inline void op_##name(TCGLCPU *c, TCGLFPU *f, XMMReg *d, __m128i s,     \
                             const TCGLInsn *i)                                 \
{                                                                               \
    __m128i r = d->v;                                                           \
    uint32_t h = sse_fp_begin(f);                                               \
    __asm__ volatile(insn " %1, %0" : "+x" (r) : "x" (s));                      \
    sse_fp_check(c, f, sse_fp_end(h));                                          \
    d->v = r;                                                                   \
}                                                                               \
SSE_RM(op_##name, size, align)

#define FP_OP4(op)                          \
    FP_OP(op##ps, #op "ps", 16, true)       \
    FP_OP(op##pd, #op "pd", 16, true)       \
    FP_OP(op##ss, #op "ss", 4, false)       \
    FP_OP(op##sd, #op "sd", 8, false)

FP_OP4(add)
FP_OP4(sub)
FP_OP4(mul)
FP_OP4(div)
FP_OP4(min)
FP_OP4(max)
FP_OP4(sqrt)
FP_OP(rcpps, "rcpps", 16, true)
FP_OP(rcpss, "rcpss", 4, false)
FP_OP(rsqrtps, "rsqrtps", 16, true)
FP_OP(rsqrtss, "rsqrtss", 4, false)
/* SSE3 */
FP_OP(addsubps, "addsubps", 16, true)
FP_OP(addsubpd, "addsubpd", 16, true)
FP_OP(haddps, "haddps", 16, true)
FP_OP(haddpd, "haddpd", 16, true)
FP_OP(hsubps, "hsubps", 16, true)
FP_OP(hsubpd, "hsubpd", 16, true)
/* conversions between float formats and packed dword integers */
FP_OP(cvtps2pd, "cvtps2pd", 8, false)
FP_OP(cvtpd2ps, "cvtpd2ps", 16, true)
FP_OP(cvtss2sd, "cvtss2sd", 4, false)
FP_OP(cvtsd2ss, "cvtsd2ss", 8, false)
FP_OP(cvtdq2ps, "cvtdq2ps", 16, true)
FP_OP(cvtps2dq, "cvtps2dq", 16, true)
FP_OP(cvttps2dq, "cvttps2dq", 16, true)
FP_OP(cvtdq2pd, "cvtdq2pd", 8, false)
FP_OP(cvtpd2dq, "cvtpd2dq", 16, true)
FP_OP(cvttpd2dq, "cvttpd2dq", 16, true)

/* Bitwise ops on packed floats (no exceptions): ANDPS/ANDNPS/ORPS/XORPS
 * and their PD twins (same result, the same handlers). */
static inline void op_andp(TCGLCPU *c, TCGLFPU *f, XMMReg *d, __m128i s, const TCGLInsn *i)
{
    d->v = _mm_and_si128(d->v, s);
}
SSE_RM(op_andp, 16, true)
static inline void op_andnp(TCGLCPU *c, TCGLFPU *f, XMMReg *d, __m128i s, const TCGLInsn *i)
{
    d->v = _mm_andnot_si128(d->v, s);
}
SSE_RM(op_andnp, 16, true)
static inline void op_orp(TCGLCPU *c, TCGLFPU *f, XMMReg *d, __m128i s, const TCGLInsn *i)
{
    d->v = _mm_or_si128(d->v, s);
}
SSE_RM(op_orp, 16, true)
static inline void op_xorp(TCGLCPU *c, TCGLFPU *f, XMMReg *d, __m128i s, const TCGLInsn *i)
{
    d->v = _mm_xor_si128(d->v, s);
}
SSE_RM(op_xorp, 16, true)

/* CMPPS/CMPPD/CMPSS/CMPSD (0F C2 ib): predicate imm8[2:0] (legacy SSE
 * ignores the higher bits, as the CPU does). */
#define CMP_CASE(n, insn) \
    case n: __asm__ volatile(insn " $" #n ", %1, %0" : "+x" (r) : "x" (s)); break;
#define FP_CMP(name, insn, size, align)                                         \
static inline void op_##name(TCGLCPU *c, TCGLFPU *f, XMMReg *d, __m128i s,     \
                             const TCGLInsn *i)                                 \
{                                                                               \
    __m128i r = d->v;                                                           \
    uint32_t h = sse_fp_begin(f);                                               \
    switch (i->imm & 7) {                                                       \
    CMP_CASE(0, insn) CMP_CASE(1, insn) CMP_CASE(2, insn) CMP_CASE(3, insn)     \
    CMP_CASE(4, insn) CMP_CASE(5, insn) CMP_CASE(6, insn) CMP_CASE(7, insn)     \
    }                                                                           \
    sse_fp_check(c, f, sse_fp_end(h));                                          \
    d->v = r;                                                                   \
}                                                                               \
SSE_RM(op_##name, size, align)

FP_CMP(cmpps, "cmpps", 16, true)
FP_CMP(cmppd, "cmppd", 16, true)
FP_CMP(cmpss, "cmpss", 4, false)
FP_CMP(cmpsd, "cmpsd", 8, false)

/* COMISS/UCOMISS/COMISD/UCOMISD: ZF PF CF from the comparison, OF SF AF
 * cleared. */
#define FP_COMI(name, insn, size)                                               \
static inline void op_##name(TCGLCPU *c, TCGLFPU *f, XMMReg *d, __m128i s,     \
                             const TCGLInsn *i)                                 \
{                                                                               \
    uint8_t zf, pf, cf;                                                         \
    uint32_t h = sse_fp_begin(f);                                               \
    __asm__ volatile(insn " %4, %3\n\tsetz %0\n\tsetp %1\n\tsetc %2"            \
                     : "=q" (zf), "=q" (pf), "=q" (cf) : "x" (d->v), "x" (s)    \
                     : "cc");                                                   \
    sse_fp_check(c, f, sse_fp_end(h));                                          \
    tcgl_set_rflags(c, (zf ? 0x40 : 0) | (pf ? 0x04 : 0) | (cf ? 0x01 : 0),     \
                    TCGL_RFLAGS_ARITH);                                         \
}                                                                               \
SSE_RM(op_##name, size, false)

FP_COMI(comiss, "comiss", 4)
FP_COMI(ucomiss, "ucomiss", 4)
FP_COMI(comisd, "comisd", 8)
FP_COMI(ucomisd, "ucomisd", 8)

/* CVTSI2SS/CVTSI2SD xmm, r/m32/64 (REX.W: 64-bit integer) */
#define FP_CVTSI(name, insn)                                                    \
static inline void cvt_##name(TCGLCPU *c, const TCGLInsn *i, uint64_t v)       \
{                                                                               \
    TCGLFPU *f = tcgl_fpu(c);                                                   \
    __m128i r = f->xmm[i->reg].v;                                               \
    uint32_t h = sse_fp_begin(f);                                               \
    if (i->rex & 8) {                                                           \
        __asm__ volatile(insn "q %1, %0" : "+x" (r) : "r" (v));                 \
    } else {                                                                    \
        __asm__ volatile(insn "l %k1, %0" : "+x" (r) : "r" (v));                \
    }                                                                           \
    sse_fp_check(c, f, sse_fp_end(h));                                          \
    f->xmm[i->reg].v = r;                                                       \
}                                                                               \
static void name##_r(TCGLCPU *c, const TCGLInsn *i)                            \
{                                                                               \
    sse_enter(c);                                                               \
    cvt_##name(c, i, c->env->regs[i->rm]);                                      \
}                                                                               \
static void name##_m(TCGLCPU *c, const TCGLInsn *i)                            \
{                                                                               \
    sse_enter(c);                                                               \
    cvt_##name(c, i, tcgl_ld(c, i->seg, tcgl_ea(c, i), (i->rex & 8) ? 8 : 4));  \
}

FP_CVTSI(cvtsi2ss, "cvtsi2ss")
FP_CVTSI(cvtsi2sd, "cvtsi2sd")

/* CVT(T)SS2SI / CVT(T)SD2SI r32/64, xmm/m32/64 */
#define FP_CVT2SI(name, insn, size)                                             \
static inline void cvt_##name(TCGLCPU *c, const TCGLInsn *i, __m128i s)        \
{                                                                               \
    TCGLFPU *f = tcgl_fpu(c);                                                   \
    uint64_t v;                                                                 \
    uint32_t h = sse_fp_begin(f);                                               \
    if (i->rex & 8) {                                                           \
        __asm__ volatile(insn "q %1, %0" : "=r" (v) : "x" (s));                 \
    } else {                                                                    \
        uint32_t v32;                                                           \
        __asm__ volatile(insn "l %1, %0" : "=r" (v32) : "x" (s));               \
        v = v32;                                                                \
    }                                                                           \
    sse_fp_check(c, f, sse_fp_end(h));                                          \
    tcgl_reg_set(c, i->reg, (i->rex & 8) ? 8 : 4, v);                           \
}                                                                               \
static void name##_r(TCGLCPU *c, const TCGLInsn *i)                            \
{                                                                               \
    TCGLFPU *f = sse_enter(c);                                                  \
    cvt_##name(c, i, f->xmm[i->rm].v);                                          \
}                                                                               \
static void name##_m(TCGLCPU *c, const TCGLInsn *i)                            \
{                                                                               \
    sse_enter(c);                                                               \
    cvt_##name(c, i, sse_ldm(c, i, size, false));                               \
}

FP_CVT2SI(cvtss2si, "cvtss2si", 4)
FP_CVT2SI(cvttss2si, "cvttss2si", 4)
FP_CVT2SI(cvtsd2si, "cvtsd2si", 8)
FP_CVT2SI(cvttsd2si, "cvttsd2si", 8)

/* Conversions with an MMX operand: CVTPI2PS/CVTPI2PD xmm, mm/m64 and
 * CVT(T)PS2PI/CVT(T)PD2PI mm, xmm/m.  A register MMX operand makes the
 * x87 -> MMX transition (and #MF for a pending x87 exception). */
static inline uint64_t mmx_operand_for_sse(TCGLCPU *c, const TCGLInsn *i)
{
    if (i->mod == 3) {
        return mmx_get(mmx_enter(c), i->rm);
    }
    return tcgl_ldq(c, i->seg, tcgl_ea(c, i));
}

static void cvtpi2ps_rm(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    __m128i s = _mm_cvtsi64_si128(mmx_operand_for_sse(c, i));
    __m128i r;
    uint32_t h = sse_fp_begin(f);
    __asm__ volatile("cvtdq2ps %1, %0" : "=x" (r) : "x" (s));
    sse_fp_check(c, f, sse_fp_end(h));
    f->xmm[i->reg].q[0] = _mm_cvtsi128_si64(r);
}

static void cvtpi2pd_rm(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    __m128i s = _mm_cvtsi64_si128(mmx_operand_for_sse(c, i));
    __asm__ volatile("cvtdq2pd %1, %0" : "=x" (f->xmm[i->reg].v) : "x" (s));
}

#define FP_CVT2PI(name, insn, size, align)                                      \
static inline void cvt_##name(TCGLCPU *c, const TCGLInsn *i, __m128i s)        \
{                                                                               \
    TCGLFPU *f = tcgl_fpu(c);                                                   \
    __m128i r;                                                                  \
    uint32_t h = sse_fp_begin(f);                                               \
    __asm__ volatile(insn " %1, %0" : "=x" (r) : "x" (s));                      \
    sse_fp_check(c, f, sse_fp_end(h));                                          \
    mmx_set(f, i->reg, _mm_cvtsi128_si64(r));                                   \
}                                                                               \
static void name##_r(TCGLCPU *c, const TCGLInsn *i)                            \
{                                                                               \
    TCGLFPU *f = sse_enter(c);                                                  \
    __m128i s = f->xmm[i->rm].v;                                                \
    mmx_enter(c);                                                               \
    cvt_##name(c, i, size == 8 ? _mm_move_epi64(s) : s);                        \
}                                                                               \
static void name##_m(TCGLCPU *c, const TCGLInsn *i)                            \
{                                                                               \
    sse_enter(c);                                                               \
    mmx_enter(c);                                                               \
    cvt_##name(c, i, sse_ldm(c, i, size, align));                               \
}

FP_CVT2PI(cvtps2pi, "cvtps2dq", 8, false)
FP_CVT2PI(cvttps2pi, "cvttps2dq", 8, false)
FP_CVT2PI(cvtpd2pi, "cvtpd2dq", 16, true)
FP_CVT2PI(cvttpd2pi, "cvttpd2dq", 16, true)

/* ---- shuffles, unpacks, masks ------------------------------------------------- */

static inline void op_shufps(TCGLCPU *c, TCGLFPU *f, XMMReg *d, __m128i s, const TCGLInsn *i)
{
    XMMReg a = *d, b = { .v = s };
    unsigned n = i->imm;
    d->l[0] = a.l[n & 3];
    d->l[1] = a.l[(n >> 2) & 3];
    d->l[2] = b.l[(n >> 4) & 3];
    d->l[3] = b.l[(n >> 6) & 3];
}
SSE_RM(op_shufps, 16, true)

static inline void op_shufpd(TCGLCPU *c, TCGLFPU *f, XMMReg *d, __m128i s, const TCGLInsn *i)
{
    XMMReg a = *d, b = { .v = s };
    d->q[0] = a.q[i->imm & 1];
    d->q[1] = b.q[(i->imm >> 1) & 1];
}
SSE_RM(op_shufpd, 16, true)

static void movmskps_r(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    tcgl_reg_set(c, i->reg, 8, (unsigned)_mm_movemask_ps(_mm_castsi128_ps(f->xmm[i->rm].v)));
}

static void movmskpd_r(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    tcgl_reg_set(c, i->reg, 8, (unsigned)_mm_movemask_pd(_mm_castsi128_pd(f->xmm[i->rm].v)));
}

/* ---- integer SIMD (MMX and SSE2 forms) ----------------------------------------- */

/* PUNPCKLxx, PACKxx and PUNPCKHxx on MMX registers: the 128-bit operation
 * on [d | s] or on zero-extended operands gives the 64-bit result. */
static inline uint64_t mmx_via_lo(__m128i (*fn)(__m128i, __m128i), uint64_t a, uint64_t b)
{
    return _mm_cvtsi128_si64(fn(_mm_cvtsi64_si128(a), _mm_cvtsi64_si128(b)));
}

static inline __m128i f_packsswb(__m128i a, __m128i b) { return _mm_packs_epi16(a, b); }
static inline __m128i f_packssdw(__m128i a, __m128i b) { return _mm_packs_epi32(a, b); }
static inline __m128i f_packuswb(__m128i a, __m128i b) { return _mm_packus_epi16(a, b); }
static inline __m128i f_punpcklbw(__m128i a, __m128i b) { return _mm_unpacklo_epi8(a, b); }
static inline __m128i f_punpcklwd(__m128i a, __m128i b) { return _mm_unpacklo_epi16(a, b); }
static inline __m128i f_punpckldq(__m128i a, __m128i b) { return _mm_unpacklo_epi32(a, b); }
static inline __m128i f_punpcklqdq(__m128i a, __m128i b) { return _mm_unpacklo_epi64(a, b); }
static inline __m128i f_punpckhbw(__m128i a, __m128i b) { return _mm_unpackhi_epi8(a, b); }
static inline __m128i f_punpckhwd(__m128i a, __m128i b) { return _mm_unpackhi_epi16(a, b); }
static inline __m128i f_punpckhdq(__m128i a, __m128i b) { return _mm_unpackhi_epi32(a, b); }
static inline __m128i f_punpckhqdq(__m128i a, __m128i b) { return _mm_unpackhi_epi64(a, b); }

/* MMX PACK*: pack [d | s] with itself, keep the low half. */
#define MMX_PACK(name)                                                          \
static inline uint64_t m_##name(uint64_t a, uint64_t b)                         \
{                                                                               \
    __m128i v = _mm_set_epi64x((int64_t)b, (int64_t)a);                         \
    return _mm_cvtsi128_si64(f_##name(v, v));                                   \
}
/* MMX PUNPCKH*: the high half of the 128-bit low unpack of the operands. */
#define MMX_UNPCKH(name, lo)                                                    \
static inline uint64_t m_##name(uint64_t a, uint64_t b)                         \
{                                                                               \
    __m128i r = f_##lo(_mm_cvtsi64_si128(a), _mm_cvtsi64_si128(b));              \
    return (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(r, r));               \
}
#define MMX_LO(name)                                                            \
static inline uint64_t m_##name(uint64_t a, uint64_t b)                         \
{                                                                               \
    return mmx_via_lo(f_##name, a, b);                                          \
}

MMX_PACK(packsswb)
MMX_PACK(packssdw)
MMX_PACK(packuswb)
MMX_LO(punpcklbw)
MMX_LO(punpcklwd)
MMX_LO(punpckldq)
MMX_UNPCKH(punpckhbw, punpcklbw)
MMX_UNPCKH(punpckhwd, punpcklwd)
MMX_UNPCKH(punpckhdq, punpckldq)

/* An integer op on XMM (66 prefix, aligned m128) and MMX (no prefix, m64). */
#define INT_X(name)                                                             \
static inline void op_##name(TCGLCPU *c, TCGLFPU *f, XMMReg *d, __m128i s,     \
                             const TCGLInsn *i)                                 \
{                                                                               \
    d->v = f_##name(d->v, s);                                                   \
}                                                                               \
SSE_RM(op_##name, 16, true)
#define INT_M(name)                                                             \
static void mmx_##name##_r(TCGLCPU *c, const TCGLInsn *i)                      \
{                                                                               \
    TCGLFPU *f = mmx_enter(c);                                                  \
    mmx_set(f, i->reg, m_##name(mmx_get(f, i->reg), mmx_get(f, i->rm)));        \
}                                                                               \
static void mmx_##name##_m(TCGLCPU *c, const TCGLInsn *i)                      \
{                                                                               \
    TCGLFPU *f = mmx_enter(c);                                                  \
    uint64_t s = tcgl_ldq(c, i->seg, tcgl_ea(c, i));                            \
    mmx_set(f, i->reg, m_##name(mmx_get(f, i->reg), s));                        \
}
#define INT_OP(name, expr)                                                      \
static inline __m128i f_##name(__m128i a, __m128i b) { return (expr); }         \
MMX_LO(name)                                                                    \
INT_X(name)                                                                     \
INT_M(name)

INT_X(packsswb) INT_M(packsswb)
INT_X(packssdw) INT_M(packssdw)
INT_X(packuswb) INT_M(packuswb)
/* MMX PUNPCKLxx mm, mm/m32: the memory operand is 32 bits (an access to
 * its 4 bytes only: #AC and #PF as such; tcgl-diff random
 * "punpckldq mm3, [rdi]" with rdi=0xc and AC on is #PF, not #AC). */
#define INT_M32(name)                                                           \
static void mmx_##name##_r(TCGLCPU *c, const TCGLInsn *i)                      \
{                                                                               \
    TCGLFPU *f = mmx_enter(c);                                                  \
    mmx_set(f, i->reg, m_##name(mmx_get(f, i->reg), mmx_get(f, i->rm)));        \
}                                                                               \
static void mmx_##name##_m(TCGLCPU *c, const TCGLInsn *i)                      \
{                                                                               \
    TCGLFPU *f = mmx_enter(c);                                                  \
    uint64_t s = tcgl_ldl(c, i->seg, tcgl_ea(c, i));                            \
    mmx_set(f, i->reg, m_##name(mmx_get(f, i->reg), s));                        \
}
INT_X(punpcklbw) INT_M32(punpcklbw)
INT_X(punpcklwd) INT_M32(punpcklwd)
INT_X(punpckldq) INT_M32(punpckldq)
INT_X(punpckhbw) INT_M(punpckhbw)
INT_X(punpckhwd) INT_M(punpckhwd)
INT_X(punpckhdq) INT_M(punpckhdq)
INT_X(punpcklqdq)
INT_X(punpckhqdq)

INT_OP(paddb, _mm_add_epi8(a, b))
INT_OP(paddw, _mm_add_epi16(a, b))
INT_OP(paddd, _mm_add_epi32(a, b))
INT_OP(paddq, _mm_add_epi64(a, b))
INT_OP(psubb, _mm_sub_epi8(a, b))
INT_OP(psubw, _mm_sub_epi16(a, b))
INT_OP(psubd, _mm_sub_epi32(a, b))
INT_OP(psubq, _mm_sub_epi64(a, b))
INT_OP(paddsb, _mm_adds_epi8(a, b))
INT_OP(paddsw, _mm_adds_epi16(a, b))
INT_OP(paddusb, _mm_adds_epu8(a, b))
INT_OP(paddusw, _mm_adds_epu16(a, b))
INT_OP(psubsb, _mm_subs_epi8(a, b))
INT_OP(psubsw, _mm_subs_epi16(a, b))
INT_OP(psubusb, _mm_subs_epu8(a, b))
INT_OP(psubusw, _mm_subs_epu16(a, b))
INT_OP(pmullw, _mm_mullo_epi16(a, b))
INT_OP(pmulhw, _mm_mulhi_epi16(a, b))
INT_OP(pmulhuw, _mm_mulhi_epu16(a, b))
INT_OP(pmuludq, _mm_mul_epu32(a, b))
INT_OP(pmaddwd, _mm_madd_epi16(a, b))
INT_OP(psadbw, _mm_sad_epu8(a, b))
INT_OP(pavgb, _mm_avg_epu8(a, b))
INT_OP(pavgw, _mm_avg_epu16(a, b))
INT_OP(pminub, _mm_min_epu8(a, b))
INT_OP(pmaxub, _mm_max_epu8(a, b))
INT_OP(pminsw, _mm_min_epi16(a, b))
INT_OP(pmaxsw, _mm_max_epi16(a, b))
INT_OP(pcmpeqb, _mm_cmpeq_epi8(a, b))
INT_OP(pcmpeqw, _mm_cmpeq_epi16(a, b))
INT_OP(pcmpeqd, _mm_cmpeq_epi32(a, b))
INT_OP(pcmpgtb, _mm_cmpgt_epi8(a, b))
INT_OP(pcmpgtw, _mm_cmpgt_epi16(a, b))
INT_OP(pcmpgtd, _mm_cmpgt_epi32(a, b))
INT_OP(pand, _mm_and_si128(a, b))
INT_OP(pandn, _mm_andnot_si128(a, b))
INT_OP(por, _mm_or_si128(a, b))
INT_OP(pxor, _mm_xor_si128(a, b))
/* shifts by a count in the low quadword of the source */
INT_OP(psllw, _mm_sll_epi16(a, b))
INT_OP(pslld, _mm_sll_epi32(a, b))
INT_OP(psllq, _mm_sll_epi64(a, b))
INT_OP(psrlw, _mm_srl_epi16(a, b))
INT_OP(psrld, _mm_srl_epi32(a, b))
INT_OP(psrlq, _mm_srl_epi64(a, b))
INT_OP(psraw, _mm_sra_epi16(a, b))
INT_OP(psrad, _mm_sra_epi32(a, b))

/* Shifts by imm8 (0F 71/72/73 /2 /4 /6, register operand in rm). */
#define SHIFT_IMM(name)                                                         \
static void name##_i_r(TCGLCPU *c, const TCGLInsn *i)                          \
{                                                                               \
    TCGLFPU *f = sse_enter(c);                                                  \
    f->xmm[i->rm].v = f_##name(f->xmm[i->rm].v, _mm_cvtsi32_si128((uint8_t)i->imm)); \
}                                                                               \
static void mmx_##name##_i_r(TCGLCPU *c, const TCGLInsn *i)                    \
{                                                                               \
    TCGLFPU *f = mmx_enter(c);                                                  \
    mmx_set(f, i->rm, m_##name(mmx_get(f, i->rm), (uint8_t)i->imm));            \
}
SHIFT_IMM(psllw)
SHIFT_IMM(pslld)
SHIFT_IMM(psllq)
SHIFT_IMM(psrlw)
SHIFT_IMM(psrld)
SHIFT_IMM(psrlq)
SHIFT_IMM(psraw)
SHIFT_IMM(psrad)

/* PSRLDQ / PSLLDQ xmm, imm8 (66 0F 73 /3 /7): byte shifts */
static void psrldq_i_r(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    XMMReg a = f->xmm[i->rm], r = { .v = _mm_setzero_si128() };
    unsigned n = (uint8_t)i->imm;
    for (unsigned k = 0; n < 16 && k < 16 - n; k++) {
        r.b[k] = a.b[k + n];
    }
    f->xmm[i->rm] = r;
}

static void pslldq_i_r(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    XMMReg a = f->xmm[i->rm], r = { .v = _mm_setzero_si128() };
    unsigned n = (uint8_t)i->imm;
    for (unsigned k = n; k < 16; k++) {
        r.b[k] = a.b[k - n];
    }
    f->xmm[i->rm] = r;
}

/* PSHUFD (66), PSHUFHW (F3), PSHUFLW (F2) 0F 70 ib; PSHUFW mm (0F 70) */
static inline void op_pshufd(TCGLCPU *c, TCGLFPU *f, XMMReg *d, __m128i s, const TCGLInsn *i)
{
    XMMReg a = { .v = s };
    unsigned n = i->imm;
    for (unsigned k = 0; k < 4; k++) {
        d->l[k] = a.l[(n >> (2 * k)) & 3];
    }
}
SSE_RM(op_pshufd, 16, true)

static inline void op_pshufhw(TCGLCPU *c, TCGLFPU *f, XMMReg *d, __m128i s, const TCGLInsn *i)
{
    XMMReg a = { .v = s };
    unsigned n = i->imm;
    d->q[0] = a.q[0];
    for (unsigned k = 0; k < 4; k++) {
        d->w[4 + k] = a.w[4 + ((n >> (2 * k)) & 3)];
    }
}
SSE_RM(op_pshufhw, 16, true)

static inline void op_pshuflw(TCGLCPU *c, TCGLFPU *f, XMMReg *d, __m128i s, const TCGLInsn *i)
{
    XMMReg a = { .v = s };
    unsigned n = i->imm;
    d->q[1] = a.q[1];
    for (unsigned k = 0; k < 4; k++) {
        d->w[k] = a.w[(n >> (2 * k)) & 3];
    }
}
SSE_RM(op_pshuflw, 16, true)

static inline uint64_t pshufw(uint64_t a, unsigned n)
{
    uint64_t r = 0;
    for (unsigned k = 0; k < 4; k++) {
        r |= ((a >> (16 * ((n >> (2 * k)) & 3))) & 0xffff) << (16 * k);
    }
    return r;
}

static void mmx_pshufw_r(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = mmx_enter(c);
    mmx_set(f, i->reg, pshufw(mmx_get(f, i->rm), i->imm));
}

static void mmx_pshufw_m(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = mmx_enter(c);
    mmx_set(f, i->reg, pshufw(tcgl_ldq(c, i->seg, tcgl_ea(c, i)), i->imm));
}

/* PMOVMSKB r32/64, xmm / mm (0F D7, register forms) */
static void pmovmskb_r(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    tcgl_reg_set(c, i->reg, 8, (unsigned)_mm_movemask_epi8(f->xmm[i->rm].v));
}

static void mmx_pmovmskb_r(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = mmx_enter(c);
    unsigned m = _mm_movemask_epi8(_mm_cvtsi64_si128(mmx_get(f, i->rm))) & 0xff;
    tcgl_reg_set(c, i->reg, 8, m);
}

/* PINSRW xmm/mm, r32/m16, imm8 (0F C4) and PEXTRW r32, xmm/mm, imm8 (0F C5) */
static void pinsrw_r(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    f->xmm[i->reg].w[i->imm & 7] = c->env->regs[i->rm];
}

static void pinsrw_m(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    f->xmm[i->reg].w[i->imm & 7] = tcgl_ldw(c, i->seg, tcgl_ea(c, i));
}

static inline uint64_t pinsrw64(uint64_t a, uint16_t v, unsigned n)
{
    unsigned sh = 16 * (n & 3);
    return (a & ~(0xffffULL << sh)) | ((uint64_t)v << sh);
}

static void mmx_pinsrw_r(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = mmx_enter(c);
    mmx_set(f, i->reg, pinsrw64(mmx_get(f, i->reg), c->env->regs[i->rm], i->imm));
}

static void mmx_pinsrw_m(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = mmx_enter(c);
    uint16_t v = tcgl_ldw(c, i->seg, tcgl_ea(c, i));
    mmx_set(f, i->reg, pinsrw64(mmx_get(f, i->reg), v, i->imm));
}

static void pextrw_r(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    tcgl_reg_set(c, i->reg, 8, f->xmm[i->rm].w[i->imm & 7]);
}

static void mmx_pextrw_r(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = mmx_enter(c);
    tcgl_reg_set(c, i->reg, 8, (mmx_get(f, i->rm) >> (16 * (i->imm & 3))) & 0xffff);
}

/* EMMS (0F 77): every x87 tag empty */
static void emms(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = tcgl_fpu(c);
    if (unlikely((c->env->cr0 & (TCGL_CR0_EM | TCGL_CR0_TS)) || (f->fsw & FSW_ES))) {
        tcgl_mmx_unavailable(c);
    }
    f->ftw = 0;
}

/* ---- MXCSR, FXSAVE/FXRSTOR, XSAVE ---------------------------------------------- */

/* LDMXCSR m32 (0F AE /2): reserved bits #GP(0) */
static void ldmxcsr_m(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    uint32_t v = tcgl_ldl(c, i->seg, tcgl_ea(c, i));
    if (v & ~MXCSR_MASK_SUPPORTED) {
        tcgl_raise(c, TCGL_EXC_GP, 0);
    }
    f->mxcsr = v;
}

/* STMXCSR m32 (0F AE /3) */
static void stmxcsr_m(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = sse_enter(c);
    tcgl_stl(c, i->seg, tcgl_ea(c, i), f->mxcsr);
}

/* FXSAVE/FXRSTOR: #NM when CR0.TS or CR0.EM; a 16-byte aligned operand. */
static TCGLFPU *fxsave_enter(TCGLCPU *c, const TCGLInsn *i, uint64_t ea)
{
    if (c->env->cr0 & (TCGL_CR0_EM | TCGL_CR0_TS)) {
        tcgl_raise(c, TCGL_EXC_NM, -1);
    }
    if (tcgl_misaligned(c, i, ea, 16)) {
        tcgl_raise(c, TCGL_EXC_GP, 0);
    }
    return tcgl_fpu(c);
}

/* XMM8-15 only in 64-bit mode; XMM and MXCSR only with CR4.OSFXSR (as
 * QEMU does: the SDM leaves it to the implementation). */
static void fxsave_m(TCGLCPU *c, const TCGLInsn *i)
{
    uint64_t ea = tcgl_ea(c, i);
    TCGLFPU *f = fxsave_enter(c, i, ea);
    unsigned nxmm = (c->hflags & TCGL_HF_CS64) ? 16 : 8;
    bool sse = c->env->cr4 & TCGL_CR4_OSFXSR;
    uint8_t img[512];

    /* Fields FXSAVE does not write (XMM area without OSFXSR, XMM8-15
     * outside 64-bit mode, bytes 416-511) keep their memory contents. */
    tcgl_ld_buf(c, i->seg, ea, img, 512);
    tcgl_fxsave_image(f, img, i->rex & 8, nxmm, true, sse);
    tcgl_st_buf(c, i->seg, ea, img, 512);
}

static void fxrstor_m(TCGLCPU *c, const TCGLInsn *i)
{
    uint64_t ea = tcgl_ea(c, i);
    TCGLFPU *f = fxsave_enter(c, i, ea);
    unsigned nxmm = (c->hflags & TCGL_HF_CS64) ? 16 : 8;
    bool sse = c->env->cr4 & TCGL_CR4_OSFXSR;
    uint8_t img[512];
    uint32_t mxcsr;

    tcgl_ld_buf(c, i->seg, ea, img, 512);
    memcpy(&mxcsr, img + FXS_MXCSR, 4);
    if (sse && (mxcsr & ~MXCSR_MASK_SUPPORTED)) {
        tcgl_raise(c, TCGL_EXC_GP, 0);
    }
    tcgl_fxrstor_image(f, img, i->rex & 8, nxmm, true, sse);
}

/*
 * XSAVE/XRSTOR/XSAVEOPT (0F AE /4 /5 /6), standard format, for the x87
 * (bit 0) and SSE (bit 1) components: the requested-feature bitmap is
 * XCR0 & EDX:EAX.  The area is 64-byte aligned: the legacy region (the
 * FXSAVE image) and the header (XSTATE_BV at 512, XCOMP_BV at 520).
 */
#define XSAVE_AREA_MIN (XSAVE_HDR + 64)
#define XSTATE_SUPPORTED (XSTATE_FP | XSTATE_SSE)

static inline void put64le(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static inline uint64_t get64le(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* XINUSE: which components are not in their initial configuration. */
static uint64_t xinuse(const TCGLFPU *f)
{
    uint64_t u = 0;
    bool regs_zero = true;

    for (unsigned k = 0; k < 8; k++) {
        if (f->fpr[k].r.mant || f->fpr[k].r.sexp) {
            regs_zero = false;
        }
    }
    if (f->fcw != FCW_RESET || tcgl_fpu_get_fsw(f) || f->ftw || f->fop || f->fip ||
        f->fdp || f->fcs || f->fds || !regs_zero) {
        u |= XSTATE_FP;
    }
    for (unsigned k = 0; k < 16; k++) {
        if (f->xmm[k].q[0] | f->xmm[k].q[1]) {
            u |= XSTATE_SSE;
            break;
        }
    }
    return u;
}

static TCGLFPU *xsave_enter(TCGLCPU *c, const TCGLInsn *i, uint64_t ea)
{
    if (!(c->env->cr4 & TCGL_CR4_OSXSAVE)) {
        tcgl_raise(c, TCGL_EXC_UD, -1);
    }
    if (c->env->cr0 & TCGL_CR0_TS) {
        tcgl_raise(c, TCGL_EXC_NM, -1);
    }
    if (tcgl_misaligned(c, i, ea, 64)) {
        tcgl_raise(c, TCGL_EXC_GP, 0);
    }
    return tcgl_fpu(c);
}

static inline uint64_t xsave_rfbm(const TCGLCPU *c)
{
    uint64_t edx_eax = (c->env->regs[R_EDX] & 0xffffffffULL) << 32 |
                       (c->env->regs[R_EAX] & 0xffffffffULL);
    return c->env->xcr0 & edx_eax & XSTATE_SUPPORTED;
}

static void xsave_common(TCGLCPU *c, const TCGLInsn *i, bool opt)
{
    uint64_t ea = tcgl_ea(c, i);
    TCGLFPU *f = xsave_enter(c, i, ea);
    uint64_t rfbm = xsave_rfbm(c), inuse = xinuse(f), bv;
    unsigned nxmm = (c->hflags & TCGL_HF_CS64) ? 16 : 8;
    uint8_t area[XSAVE_AREA_MIN];

    tcgl_ld_buf(c, i->seg, ea, area, sizeof(area));
    /* XSAVEOPT's init optimisation: a component in its initial
     * configuration is not written, its XSTATE_BV bit says so. */
    uint64_t write = opt ? rfbm & inuse : rfbm;
    tcgl_fxsave_image(f, area, i->rex & 8, nxmm, write & XSTATE_FP, write & XSTATE_SSE);
    if (rfbm & XSTATE_SSE) {
        /* MXCSR goes with the SSE (or AVX) bit whatever its state */
        memcpy(area + FXS_MXCSR, &f->mxcsr, 4);
        uint32_t mask = MXCSR_MASK_SUPPORTED;
        memcpy(area + FXS_MXCSR_MASK, &mask, 4);
    }
    bv = get64le(area + XSAVE_HDR);
    bv = (bv & ~rfbm) | (inuse & rfbm);
    put64le(area + XSAVE_HDR, bv);
    tcgl_st_buf(c, i->seg, ea, area, sizeof(area));
}

static void xsave_m(TCGLCPU *c, const TCGLInsn *i)
{
    xsave_common(c, i, false);
}

static void xsaveopt_m(TCGLCPU *c, const TCGLInsn *i)
{
    xsave_common(c, i, true);
}

static void xrstor_m(TCGLCPU *c, const TCGLInsn *i)
{
    uint64_t ea = tcgl_ea(c, i);
    TCGLFPU *f = xsave_enter(c, i, ea);
    uint64_t rfbm = xsave_rfbm(c), bv;
    unsigned nxmm = (c->hflags & TCGL_HF_CS64) ? 16 : 8;
    uint8_t area[XSAVE_AREA_MIN];
    uint32_t mxcsr;

    tcgl_ld_buf(c, i->seg, ea, area, sizeof(area));
    bv = get64le(area + XSAVE_HDR);
    /* standard form: XCOMP_BV and the next 8 bytes zero; XSTATE_BV only
     * within XCR0 (the compacted form is not supported: XCOMP_BV[63] is
     * a #GP as well) */
    if ((bv & ~c->env->xcr0) || get64le(area + XSAVE_HDR + 8) ||
        get64le(area + XSAVE_HDR + 16)) {
        tcgl_raise(c, TCGL_EXC_GP, 0);
    }
    memcpy(&mxcsr, area + FXS_MXCSR, 4);
    if ((rfbm & XSTATE_SSE) && (mxcsr & ~MXCSR_MASK_SUPPORTED)) {
        tcgl_raise(c, TCGL_EXC_GP, 0);
    }
    if (rfbm & XSTATE_FP) {
        if (bv & XSTATE_FP) {
            tcgl_fxrstor_image(f, area, i->rex & 8, 0, true, false);
        } else {
            tcgl_fpu_finit(f);
            memset(f->fpr, 0, sizeof(f->fpr));
        }
    }
    if (rfbm & XSTATE_SSE) {
        if (bv & XSTATE_SSE) {
            memcpy(f->xmm, area + FXS_XMM(0), 16 * nxmm);
        } else {
            memset(f->xmm, 0, 16 * nxmm);
        }
        f->mxcsr = mxcsr;
    }
}

/* SSSE3, SSE4.1, SSE4.2 handlers and TCGL_SSE4_ROWS */
#include "sse4.c.inc"

/* ---- the table -------------------------------------------------------------------- */

#define O0F(b) TCGL_OPC(TCGL_MAP_0F, b)
/* register and memory forms of one prefix */
#define RM(b, mp, h)                                                            \
    { O0F(b), -1, mp, TCGL_MOD_REG, 0, h##_r, NULL },                           \
    { O0F(b), -1, mp, TCGL_MOD_MEM, 0, h##_m, NULL }
#define R_ONLY(b, mp, h) { O0F(b), -1, mp, TCGL_MOD_REG, 0, h, NULL }
#define M_ONLY(b, mp, h) { O0F(b), -1, mp, TCGL_MOD_MEM, 0, h, NULL }
#define RM2(b, mp, hr, hm) R_ONLY(b, mp, hr), M_ONLY(b, mp, hm)
/* an integer op: MMX form (no prefix) and XMM form (66) */
#define MX(b, name) RM(b, TCGL_MP_NONE, mmx_##name), RM(b, TCGL_MP_66, op_##name)
/* the four FP forms ps (none), pd (66), ss (F3), sd (F2) */
#define FP4(b, op)                                                              \
    RM(b, TCGL_MP_NONE, op_##op##ps), RM(b, TCGL_MP_66, op_##op##pd),           \
    RM(b, TCGL_MP_F3, op_##op##ss), RM(b, TCGL_MP_F2, op_##op##sd)
#define GRP(b, r, mp, h) { O0F(b), r, mp, TCGL_MOD_REG, 0, h, NULL }
#define GRPM(b, r, mp, h) { O0F(b), r, mp, TCGL_MOD_MEM, 0, h, NULL }

const TCGLOpDesc tcgl_ops_sse[] = {
    /* moves */
    RM2(0x10, TCGL_MP_NONE, movx_r, movu_m),        /* MOVUPS */
    RM2(0x10, TCGL_MP_66, movx_r, movu_m),          /* MOVUPD */
    RM2(0x10, TCGL_MP_F3, movss_r, movss_m),        /* MOVSS */
    RM2(0x10, TCGL_MP_F2, movsd_r, movsd_m),        /* MOVSD */
    RM2(0x11, TCGL_MP_NONE, movx_st_r, movu_st_m),
    RM2(0x11, TCGL_MP_66, movx_st_r, movu_st_m),
    RM2(0x11, TCGL_MP_F3, movss_st_r, movss_st_m),
    RM2(0x11, TCGL_MP_F2, movsd_st_r, movlq_st_m),
    RM2(0x12, TCGL_MP_NONE, movhlps_r, movlp_m),    /* MOVHLPS / MOVLPS */
    M_ONLY(0x12, TCGL_MP_66, movlp_m),              /* MOVLPD */
    RM(0x12, TCGL_MP_F3, op_movsldup),
    RM(0x12, TCGL_MP_F2, op_movddup),
    M_ONLY(0x13, TCGL_MP_NONE, movlq_st_m),         /* MOVLPS m64, xmm */
    M_ONLY(0x13, TCGL_MP_66, movlq_st_m),           /* MOVLPD m64, xmm */
    RM(0x14, TCGL_MP_NONE, op_punpckldq),           /* UNPCKLPS */
    RM(0x14, TCGL_MP_66, op_punpcklqdq),            /* UNPCKLPD */
    RM(0x15, TCGL_MP_NONE, op_punpckhdq),           /* UNPCKHPS */
    RM(0x15, TCGL_MP_66, op_punpckhqdq),            /* UNPCKHPD */
    RM2(0x16, TCGL_MP_NONE, movlhps_r, movhp_m),    /* MOVLHPS / MOVHPS */
    M_ONLY(0x16, TCGL_MP_66, movhp_m),              /* MOVHPD */
    RM(0x16, TCGL_MP_F3, op_movshdup),
    M_ONLY(0x17, TCGL_MP_NONE, movhp_st_m),         /* MOVHPS m64, xmm */
    M_ONLY(0x17, TCGL_MP_66, movhp_st_m),           /* MOVHPD m64, xmm */
    RM2(0x28, TCGL_MP_NONE, movx_r, mova_m),        /* MOVAPS */
    RM2(0x28, TCGL_MP_66, movx_r, mova_m),          /* MOVAPD */
    RM2(0x29, TCGL_MP_NONE, movx_st_r, mova_st_m),
    RM2(0x29, TCGL_MP_66, movx_st_r, mova_st_m),
    { O0F(0x2a), -1, TCGL_MP_NONE, TCGL_MOD_ANY, 0, cvtpi2ps_rm, NULL },
    { O0F(0x2a), -1, TCGL_MP_66, TCGL_MOD_ANY, 0, cvtpi2pd_rm, NULL },
    RM(0x2a, TCGL_MP_F3, cvtsi2ss),
    RM(0x2a, TCGL_MP_F2, cvtsi2sd),
    M_ONLY(0x2b, TCGL_MP_NONE, mova_st_m),          /* MOVNTPS */
    M_ONLY(0x2b, TCGL_MP_66, mova_st_m),            /* MOVNTPD */
    RM(0x2c, TCGL_MP_NONE, cvttps2pi),
    RM(0x2c, TCGL_MP_66, cvttpd2pi),
    RM(0x2c, TCGL_MP_F3, cvttss2si),
    RM(0x2c, TCGL_MP_F2, cvttsd2si),
    RM(0x2d, TCGL_MP_NONE, cvtps2pi),
    RM(0x2d, TCGL_MP_66, cvtpd2pi),
    RM(0x2d, TCGL_MP_F3, cvtss2si),
    RM(0x2d, TCGL_MP_F2, cvtsd2si),
    RM(0x2e, TCGL_MP_NONE, op_ucomiss),
    RM(0x2e, TCGL_MP_66, op_ucomisd),
    RM(0x2f, TCGL_MP_NONE, op_comiss),
    RM(0x2f, TCGL_MP_66, op_comisd),
    R_ONLY(0x50, TCGL_MP_NONE, movmskps_r),
    R_ONLY(0x50, TCGL_MP_66, movmskpd_r),
    FP4(0x51, sqrt),
    RM(0x52, TCGL_MP_NONE, op_rsqrtps),
    RM(0x52, TCGL_MP_F3, op_rsqrtss),
    RM(0x53, TCGL_MP_NONE, op_rcpps),
    RM(0x53, TCGL_MP_F3, op_rcpss),
    RM(0x54, TCGL_MP_NONE, op_andp), RM(0x54, TCGL_MP_66, op_andp),
    RM(0x55, TCGL_MP_NONE, op_andnp), RM(0x55, TCGL_MP_66, op_andnp),
    RM(0x56, TCGL_MP_NONE, op_orp), RM(0x56, TCGL_MP_66, op_orp),
    RM(0x57, TCGL_MP_NONE, op_xorp), RM(0x57, TCGL_MP_66, op_xorp),
    FP4(0x58, add),
    FP4(0x59, mul),
    RM(0x5a, TCGL_MP_NONE, op_cvtps2pd),
    RM(0x5a, TCGL_MP_66, op_cvtpd2ps),
    RM(0x5a, TCGL_MP_F3, op_cvtss2sd),
    RM(0x5a, TCGL_MP_F2, op_cvtsd2ss),
    RM(0x5b, TCGL_MP_NONE, op_cvtdq2ps),
    RM(0x5b, TCGL_MP_66, op_cvtps2dq),
    RM(0x5b, TCGL_MP_F3, op_cvttps2dq),
    FP4(0x5c, sub),
    FP4(0x5d, min),
    FP4(0x5e, div),
    FP4(0x5f, max),
    /* integer: 0F 60-7F */
    MX(0x60, punpcklbw), MX(0x61, punpcklwd), MX(0x62, punpckldq), MX(0x63, packsswb),
    MX(0x64, pcmpgtb), MX(0x65, pcmpgtw), MX(0x66, pcmpgtd), MX(0x67, packuswb),
    MX(0x68, punpckhbw), MX(0x69, punpckhwd), MX(0x6a, punpckhdq), MX(0x6b, packssdw),
    RM(0x6c, TCGL_MP_66, op_punpcklqdq),
    RM(0x6d, TCGL_MP_66, op_punpckhqdq),
    RM2(0x6e, TCGL_MP_NONE, movd_mm_r, movd_mm_m),
    RM2(0x6e, TCGL_MP_66, movd_x_r, movd_x_m),
    RM2(0x6f, TCGL_MP_NONE, movq_mm_r, movq_mm_m),
    RM2(0x6f, TCGL_MP_66, movx_r, mova_m),          /* MOVDQA */
    RM2(0x6f, TCGL_MP_F3, movx_r, movu_m),          /* MOVDQU */
    RM(0x70, TCGL_MP_NONE, mmx_pshufw),
    RM(0x70, TCGL_MP_66, op_pshufd),
    RM(0x70, TCGL_MP_F3, op_pshufhw),
    RM(0x70, TCGL_MP_F2, op_pshuflw),
    GRP(0x71, 2, TCGL_MP_NONE, mmx_psrlw_i_r), GRP(0x71, 2, TCGL_MP_66, psrlw_i_r),
    GRP(0x71, 4, TCGL_MP_NONE, mmx_psraw_i_r), GRP(0x71, 4, TCGL_MP_66, psraw_i_r),
    GRP(0x71, 6, TCGL_MP_NONE, mmx_psllw_i_r), GRP(0x71, 6, TCGL_MP_66, psllw_i_r),
    GRP(0x72, 2, TCGL_MP_NONE, mmx_psrld_i_r), GRP(0x72, 2, TCGL_MP_66, psrld_i_r),
    GRP(0x72, 4, TCGL_MP_NONE, mmx_psrad_i_r), GRP(0x72, 4, TCGL_MP_66, psrad_i_r),
    GRP(0x72, 6, TCGL_MP_NONE, mmx_pslld_i_r), GRP(0x72, 6, TCGL_MP_66, pslld_i_r),
    GRP(0x73, 2, TCGL_MP_NONE, mmx_psrlq_i_r), GRP(0x73, 2, TCGL_MP_66, psrlq_i_r),
    GRP(0x73, 3, TCGL_MP_66, psrldq_i_r),
    GRP(0x73, 6, TCGL_MP_NONE, mmx_psllq_i_r), GRP(0x73, 6, TCGL_MP_66, psllq_i_r),
    GRP(0x73, 7, TCGL_MP_66, pslldq_i_r),
    MX(0x74, pcmpeqb), MX(0x75, pcmpeqw), MX(0x76, pcmpeqd),
    { O0F(0x77), -1, TCGL_MP_NONE, TCGL_MOD_ANY, 0, emms, NULL },
    RM(0x7c, TCGL_MP_66, op_haddpd),
    RM(0x7c, TCGL_MP_F2, op_haddps),
    RM(0x7d, TCGL_MP_66, op_hsubpd),
    RM(0x7d, TCGL_MP_F2, op_hsubps),
    RM2(0x7e, TCGL_MP_NONE, movd_st_mm_r, movd_st_mm_m),
    RM2(0x7e, TCGL_MP_66, movd_st_x_r, movd_st_x_m),
    RM2(0x7e, TCGL_MP_F3, movq_x_r, movsd_m),       /* MOVQ xmm, xmm/m64 */
    RM2(0x7f, TCGL_MP_NONE, movq_st_mm_r, movq_st_mm_m),
    RM2(0x7f, TCGL_MP_66, movx_st_r, mova_st_m),    /* MOVDQA */
    RM2(0x7f, TCGL_MP_F3, movx_st_r, movu_st_m),    /* MOVDQU */
    /* 0F AE group, memory forms (the fences and CLFLUSH are the core's) */
    GRPM(0xae, 0, TCGL_MP_NONE, fxsave_m),
    GRPM(0xae, 1, TCGL_MP_NONE, fxrstor_m),
    GRPM(0xae, 2, TCGL_MP_NONE, ldmxcsr_m),
    GRPM(0xae, 3, TCGL_MP_NONE, stmxcsr_m),
    GRPM(0xae, 4, TCGL_MP_NONE, xsave_m),
    GRPM(0xae, 5, TCGL_MP_NONE, xrstor_m),
    GRPM(0xae, 6, TCGL_MP_NONE, xsaveopt_m),
    RM(0xc2, TCGL_MP_NONE, op_cmpps),
    RM(0xc2, TCGL_MP_66, op_cmppd),
    RM(0xc2, TCGL_MP_F3, op_cmpss),
    RM(0xc2, TCGL_MP_F2, op_cmpsd),
    M_ONLY(0xc3, TCGL_MP_NONE, movnti_m),
    RM(0xc4, TCGL_MP_NONE, mmx_pinsrw),
    RM(0xc4, TCGL_MP_66, pinsrw),
    R_ONLY(0xc5, TCGL_MP_NONE, mmx_pextrw_r),
    R_ONLY(0xc5, TCGL_MP_66, pextrw_r),
    RM(0xc6, TCGL_MP_NONE, op_shufps),
    RM(0xc6, TCGL_MP_66, op_shufpd),
    /* 0F D0-FF */
    RM(0xd0, TCGL_MP_66, op_addsubpd),
    RM(0xd0, TCGL_MP_F2, op_addsubps),
    MX(0xd1, psrlw), MX(0xd2, psrld), MX(0xd3, psrlq), MX(0xd4, paddq),
    MX(0xd5, pmullw),
    RM2(0xd6, TCGL_MP_66, movq_st_x_r, movlq_st_m),
    R_ONLY(0xd6, TCGL_MP_F3, movq2dq_r),
    R_ONLY(0xd6, TCGL_MP_F2, movdq2q_r),
    R_ONLY(0xd7, TCGL_MP_NONE, mmx_pmovmskb_r),
    R_ONLY(0xd7, TCGL_MP_66, pmovmskb_r),
    MX(0xd8, psubusb), MX(0xd9, psubusw), MX(0xda, pminub), MX(0xdb, pand),
    MX(0xdc, paddusb), MX(0xdd, paddusw), MX(0xde, pmaxub), MX(0xdf, pandn),
    MX(0xe0, pavgb), MX(0xe1, psraw), MX(0xe2, psrad), MX(0xe3, pavgw),
    MX(0xe4, pmulhuw), MX(0xe5, pmulhw),
    RM(0xe6, TCGL_MP_66, op_cvttpd2dq),
    RM(0xe6, TCGL_MP_F3, op_cvtdq2pd),
    RM(0xe6, TCGL_MP_F2, op_cvtpd2dq),
    M_ONLY(0xe7, TCGL_MP_NONE, movq_st_mm_m),       /* MOVNTQ */
    M_ONLY(0xe7, TCGL_MP_66, mova_st_m),            /* MOVNTDQ */
    MX(0xe8, psubsb), MX(0xe9, psubsw), MX(0xea, pminsw), MX(0xeb, por),
    MX(0xec, paddsb), MX(0xed, paddsw), MX(0xee, pmaxsw), MX(0xef, pxor),
    M_ONLY(0xf0, TCGL_MP_F2, movu_m),               /* LDDQU */
    MX(0xf1, psllw), MX(0xf2, pslld), MX(0xf3, psllq), MX(0xf4, pmuludq),
    MX(0xf5, pmaddwd), MX(0xf6, psadbw),
    R_ONLY(0xf7, TCGL_MP_NONE, maskmovq_r),
    R_ONLY(0xf7, TCGL_MP_66, maskmovdqu_r),
    MX(0xf8, psubb), MX(0xf9, psubw), MX(0xfa, psubd), MX(0xfb, psubq),
    MX(0xfc, paddb), MX(0xfd, paddw), MX(0xfe, paddd),
    TCGL_SSE4_ROWS
    TCGL_OPDESC_END
};

/*
 * tcg-lite part "fp": the x87 FPU, the working state and its sync with
 * env->xsave (docs/tcg-lite.md, section "fp").
 *
 * x87 arithmetic runs on the host's own x87 unit (the x86-64 host's long
 * double is the 80-bit format) with the guest's precision and rounding
 * control loaded and every exception masked; the host status word gives
 * the exception flags and C1 (rounded up), so results are bit-exact at
 * every precision and rounding mode.
 */
#include <stdlib.h>
#include "fp.h"

/* ---- the state -------------------------------------------------------------- */

void tcgl_fpu_finit(TCGLFPU *f)
{
    f->fcw = FCW_RESET;
    f->fsw = 0;
    f->top = 0;
    f->ftw = 0;
    f->fop = 0;
    f->fip = f->fdp = 0;
    f->fcs = f->fds = 0;
}

void tcgl_fpu_reset(TCGLFPU *f)
{
    memset(f, 0, sizeof(*f));
    tcgl_fpu_finit(f);
    f->mxcsr = MXCSR_RESET;
}

uint16_t tcgl_fpu_get_fsw(const TCGLFPU *f)
{
    return (f->fsw & ~FSW_TOP) | (f->top & 7) << 11;
}

uint8_t tcgl_fpu_full_tag(const TCGLFPU *f, unsigned phys)
{
    const FPReg *r = &f->fpr[phys & 7];
    unsigned exp = r->r.sexp & 0x7fff;

    if (!(f->ftw & (1u << (phys & 7)))) {
        return 3;
    }
    if (exp == 0x7fff) {
        return 2;
    }
    if (exp == 0) {
        return r->r.mant == 0 ? 1 : 2;
    }
    return (r->r.mant >> 63) ? 0 : 2;
}

uint16_t tcgl_fpu_get_ftw(const TCGLFPU *f)
{
    uint16_t t = 0;
    for (unsigned k = 0; k < 8; k++) {
        t |= tcgl_fpu_full_tag(f, k) << (2 * k);
    }
    return t;
}

void tcgl_fpu_set_ftw(TCGLFPU *f, uint16_t ftw)
{
    f->ftw = 0;
    for (unsigned k = 0; k < 8; k++) {
        if (((ftw >> (2 * k)) & 3) != 3) {
            f->ftw |= 1u << k;
        }
    }
}

static inline void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static inline uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

void tcgl_fxsave_image(const TCGLFPU *f, uint8_t *img, bool rex_w, unsigned nxmm, bool x87,
                       bool sse)
{
    if (x87) {
        put16(img + FXS_FCW, f->fcw);
        put16(img + FXS_FSW, tcgl_fpu_get_fsw(f));
        img[FXS_FTW] = f->ftw;
        img[FXS_FTW + 1] = 0;
        put16(img + FXS_FOP, f->fop & 0x7ff);
        if (rex_w) {
            put64(img + FXS_FIP, f->fip);
            put64(img + FXS_FDP, f->fdp);
        } else {
            put32(img + FXS_FIP, f->fip);
            put32(img + FXS_FCS, f->fcs);
            put32(img + FXS_FDP, f->fdp);
            put32(img + FXS_FDS, f->fds);
        }
        for (unsigned k = 0; k < 8; k++) {
            const FPReg *r = &f->fpr[(f->top + k) & 7];
            memset(img + FXS_ST(k), 0, 16);
            memcpy(img + FXS_ST(k), r->raw, 10);
        }
    }
    if (sse) {
        put32(img + FXS_MXCSR, f->mxcsr);
        put32(img + FXS_MXCSR_MASK, MXCSR_MASK_SUPPORTED);
        memcpy(img + FXS_XMM(0), f->xmm, 16 * nxmm);
    }
}

void tcgl_fxrstor_image(TCGLFPU *f, const uint8_t *img, bool rex_w, unsigned nxmm, bool x87,
                        bool sse)
{
    if (x87) {
        uint16_t fsw = get16(img + FXS_FSW);
        f->fcw = get16(img + FXS_FCW);
        f->fsw = fsw & ~FSW_TOP;
        f->top = (fsw >> 11) & 7;
        f->ftw = img[FXS_FTW];
        f->fop = get16(img + FXS_FOP) & 0x7ff;
        if (rex_w) {
            f->fip = get64(img + FXS_FIP);
            f->fdp = get64(img + FXS_FDP);
            f->fcs = f->fds = 0;
        } else {
            f->fip = get32(img + FXS_FIP);
            f->fcs = get16(img + FXS_FCS);
            f->fdp = get32(img + FXS_FDP);
            f->fds = get16(img + FXS_FDS);
        }
        for (unsigned k = 0; k < 8; k++) {
            FPReg *r = &f->fpr[(f->top + k) & 7];
            memset(r->raw, 0, sizeof(r->raw));
            memcpy(r->raw, img + FXS_ST(k), 10);
        }
    }
    if (sse) {
        f->mxcsr = get32(img + FXS_MXCSR) & MXCSR_MASK_SUPPORTED;
        memcpy(f->xmm, img + FXS_XMM(0), 16 * nxmm);
    }
}

void tcgl_fp_state_from_env(TCGLCPU *c)
{
    TCGLFPU *f = c->fpu;

    if (!f) {
        /* C11 aligned_alloc: the size a multiple of the alignment */
        f = aligned_alloc(64, (sizeof(TCGLFPU) + 63) & ~(size_t)63);
        if (!f) {
            abort();
        }
        c->fpu = f;
    }
    tcgl_fpu_reset(f);
    tcgl_fxrstor_image(f, c->env->xsave, true, 16, true, true);
}

void tcgl_fp_state_to_env(TCGLCPU *c)
{
    TCGLFPU *f = c->fpu;
    uint64_t bv;

    if (!f) {
        return;
    }
    tcgl_fxsave_image(f, c->env->xsave, true, 16, true, true);
    memcpy(&bv, c->env->xsave + XSAVE_HDR, 8);
    bv |= XSTATE_FP | XSTATE_SSE;
    memcpy(c->env->xsave + XSAVE_HDR, &bv, 8);
}

/* ---- entry faults ---------------------------------------------------------------- */

void tcgl_sse_unavailable(TCGLCPU *c)
{
    if ((c->env->cr0 & TCGL_CR0_EM) || !(c->env->cr4 & TCGL_CR4_OSFXSR)) {
        tcgl_raise(c, TCGL_EXC_UD, -1);
    }
    tcgl_raise(c, TCGL_EXC_NM, -1);
}

void tcgl_mmx_unavailable(TCGLCPU *c)
{
    if (c->env->cr0 & TCGL_CR0_EM) {
        tcgl_raise(c, TCGL_EXC_UD, -1);
    }
    if (c->env->cr0 & TCGL_CR0_TS) {
        tcgl_raise(c, TCGL_EXC_NM, -1);
    }
    /* A pending x87 exception: #MF with CR0.NE; without it the PC's
     * FERR# -> IRQ 13 path is not modelled and the instruction goes on. */
    if (c->env->cr0 & TCGL_CR0_NE) {
        tcgl_raise(c, TCGL_EXC_MF, -1);
    }
}


/* ---- host x87 primitives ------------------------------------------------------------ */

/* The host control word between operations (Linux's default). */
static const uint16_t host_fcw = 0x037f;

/* The guest's precision and rounding control with every exception
 * masked. */
static inline uint16_t x87_cw(const TCGLFPU *f)
{
    return (f->fcw & 0x0f00) | 0x007f;
}

/*
 * Runs `body` on the host x87 with control word cw (FNCLEX before, the
 * status word into operand %[s] after).  The FLDCW pair is skipped when
 * cw is the host's own (the usual guest FCW 0x037f).  OUTS, INS, CLOB:
 * parenthesised operand lists; OUTS must name [s], INS gets [gcw] and
 * [hcw] appended.
 */
#define X87_UNPAREN(...) __VA_ARGS__
#define X87_ASM(cw, body, OUTS, INS, CLOB)                                      \
    do {                                                                        \
        if ((cw) == host_fcw) {                                                 \
            __asm__ volatile("fnclex\n\t" body "\n\tfnstsw %[s]"               \
                             : X87_UNPAREN OUTS                                 \
                             : X87_UNPAREN INS, [gcw] "m" (cw), [hcw] "m" (host_fcw) \
                             : X87_UNPAREN CLOB);                               \
        } else {                                                                \
            __asm__ volatile("fldcw %[gcw]\n\tfnclex\n\t" body "\n\tfnstsw %[s]\n\t" \
                             "fldcw %[hcw]"                                     \
                             : X87_UNPAREN OUTS                                 \
                             : X87_UNPAREN INS, [gcw] "m" (cw), [hcw] "m" (host_fcw) \
                             : X87_UNPAREN CLOB);                               \
        }                                                                       \
    } while (0)

/*
 * One host x87 instruction with the guest control word: `insn` sees the
 * first operand in st(0) and the second in st(1); it leaves the result
 * in st(0) and pops nothing.  Returns the host status word (exception
 * flags, condition codes) in *sw.
 */
#define X87_HOST2(insn, r, a, b, cw, sw) \
    X87_ASM(cw, insn, ("=t" (r), [s] "=m" (sw)), ("0" (a), "u" (b)), ("cc"))
#define X87_HOST1(insn, r, a, cw, sw) \
    X87_ASM(cw, insn, ("=t" (r), [s] "=m" (sw)), ("0" (a)), ("cc"))

enum { OP_ADD, OP_MUL, OP_COM, OP_COMP, OP_SUB, OP_SUBR, OP_DIV, OP_DIVR };

static inline __attribute__((always_inline)) long double
x87_arith(int op, long double d, long double s, uint16_t cw, uint16_t *sw)
{
    long double r;
    uint16_t w;

    switch (op) {
    case OP_ADD: X87_HOST2("fadd %%st(1), %%st", r, d, s, cw, w); break;
    case OP_MUL: X87_HOST2("fmul %%st(1), %%st", r, d, s, cw, w); break;
    case OP_SUB: X87_HOST2("fsub %%st(1), %%st", r, d, s, cw, w); break;
    case OP_SUBR: X87_HOST2("fsubr %%st(1), %%st", r, d, s, cw, w); break;
    case OP_DIV: X87_HOST2("fdiv %%st(1), %%st", r, d, s, cw, w); break;
    default: X87_HOST2("fdivr %%st(1), %%st", r, d, s, cw, w); break;
    }
    *sw = w;
    return r;
}

/* FCOM (ordered: QNaN is invalid) or FUCOM; returns the host status
 * word (C0 C2 C3 and the flags). */
static inline uint16_t x87_compare(long double a, long double b, bool unordered_ok,
                                   uint16_t cw)
{
    long double r;
    uint16_t w;
    if (unordered_ok) {
        X87_HOST2("fucom %%st(1)", r, a, b, cw, w);
    } else {
        X87_HOST2("fcom %%st(1)", r, a, b, cw, w);
    }
    (void)r;
    return w;
}

static inline long double x87_from_f32(uint32_t v, uint16_t cw, uint16_t *sw)
{
    long double r;
    X87_ASM(cw, "flds %[m]", ("=t" (r), [s] "=m" (*sw)), ([m] "m" (v)), ("cc"));
    return r;
}

static inline long double x87_from_f64(uint64_t v, uint16_t cw, uint16_t *sw)
{
    long double r;
    X87_ASM(cw, "fldl %[m]", ("=t" (r), [s] "=m" (*sw)), ([m] "m" (v)), ("cc"));
    return r;
}

/* Stores st(0) = a to memory in a narrower format on the host; the asm
 * duplicates a first so its popping forms leave the stack as it was. */
#define X87_STORE(insn, out, a, cw, sw) \
    X87_ASM(cw, "fld %%st(0)\n\t" insn " %[o]", ([o] "=m" (out), [s] "=m" (sw)), ("t" (a)), ("cc"))

/* ---- the register stack --------------------------------------------------------------- */

#define X87_STACK_UNDER (FSW_IE | FSW_SF)
#define X87_STACK_OVER  (FSW_IE | FSW_SF | FSW_C1)

static inline long double x87_indefinite(void)
{
    FPReg r = { .r = { .mant = 0xc000000000000000ULL, .sexp = 0xffff } };
    return r.ld;
}

static inline unsigned st_phys(const TCGLFPU *f, unsigned n)
{
    return (f->top + n) & 7;
}

static inline bool st_empty(const TCGLFPU *f, unsigned n)
{
    return !(f->ftw & (1u << st_phys(f, n)));
}

/* ST(n), or the QNaN indefinite with a stack underflow noted in *sf. */
static inline long double st_get(const TCGLFPU *f, unsigned n, uint16_t *sf)
{
    if (unlikely(st_empty(f, n))) {
        *sf |= X87_STACK_UNDER;
        return x87_indefinite();
    }
    return f->fpr[st_phys(f, n)].ld;
}

static inline void st_set(TCGLFPU *f, unsigned n, long double v)
{
    unsigned p = st_phys(f, n);
    f->fpr[p].ld = v;
    f->ftw |= 1u << p;
}

static inline void st_pop(TCGLFPU *f)
{
    f->ftw &= ~(1u << f->top);
    f->top = (f->top + 1) & 7;
}

/* Room for a push: a full slot is a stack overflow (noted in *sf). */
static inline void st_check_push(const TCGLFPU *f, uint16_t *sf)
{
    if (unlikely(f->ftw & (1u << ((f->top - 1) & 7)))) {
        *sf |= X87_STACK_OVER;
    }
}

static inline void st_push(TCGLFPU *f, long double v)
{
    f->top = (f->top - 1) & 7;
    st_set(f, 0, v);
}

/*
 * Merges an operation's outcome into FSW: the host status word hsw
 * (exception flags; the condition codes in ccmask) and the stack fault
 * sf.  An unmasked exception sets ES and B (#MF comes at the next
 * waiting x87 instruction).  Returns false when the destination must
 * not be written: an unmasked invalid, denormal or divide-by-zero (and,
 * for stores to memory, any unmasked exception but precision).
 */
static inline bool x87_status(TCGLFPU *f, uint16_t hsw, uint16_t sf, uint16_t ccmask,
                              uint16_t nowrite)
{
    uint16_t e = (hsw | sf) & 0x3f;
    /* an unmasked invalid, denormal or divide-by-zero stops the operation
     * before it computes: no precision, underflow or overflow from the
     * host's (masked) result (tcgl-diff x87 'fadd i4 j11 fcw 0x360': a
     * denormal operand gives b082 on silicon, not b0a2) */
    if (unlikely(e & ~f->fcw & (FSW_IE | FSW_DE | FSW_ZE))) {
        e &= ~(FSW_PE | FSW_UE | FSW_OE);
        hsw &= ~FSW_C1;         /* nor a round-up indication ('fdiv i3 j11') */
    } else if (unlikely(e & ~f->fcw & nowrite & (FSW_OE | FSW_UE))) {
        /* a store to memory stopped by an unmasked overflow/underflow:
         * no precision or round-up either ('fst m32 i9 j9 fcw 0x360':
         * b088 on silicon) */
        e &= ~FSW_PE;
        hsw &= ~FSW_C1;
    }
    uint16_t fsw = (f->fsw & ~ccmask) | (hsw & ccmask) | e | (sf & FSW_SF);
    if (unlikely(sf)) {
        fsw = (fsw & ~FSW_C1) | (sf & FSW_C1);
    }
    f->fsw = fsw;
    if (unlikely(e & ~f->fcw & 0x3f)) {
        f->fsw |= FSW_ES | FSW_B;
        return !(e & ~f->fcw & nowrite);
    }
    return true;
}

#define NOWRITE_REG (FSW_IE | FSW_DE | FSW_ZE)
#define NOWRITE_MEM (FSW_IE | FSW_DE | FSW_ZE | FSW_OE | FSW_UE)

/* ---- instruction entry ------------------------------------------------------------------ */

static void x87_unavailable(TCGLCPU *c)
{
    TCGLFPU *f = tcgl_fpu(c);
    if (c->env->cr0 & (TCGL_CR0_EM | TCGL_CR0_TS)) {
        tcgl_raise(c, TCGL_EXC_NM, -1);
    }
    if ((f->fsw & FSW_ES) && (c->env->cr0 & TCGL_CR0_NE)) {
        tcgl_raise(c, TCGL_EXC_MF, -1);
    }
}

/* A waiting control instruction (FLDCW, FLDENV, FRSTOR): #NM, #MF. */
static inline TCGLFPU *x87_enter_ctl(TCGLCPU *c)
{
    TCGLFPU *f = tcgl_fpu(c);
    if (unlikely((c->env->cr0 & (TCGL_CR0_EM | TCGL_CR0_TS)) || (f->fsw & FSW_ES))) {
        x87_unavailable(c);
    }
    return f;
}

/* A non-waiting control instruction (FNINIT, FNCLEX, FNSTSW...): #NM only. */
static inline TCGLFPU *x87_enter_nowait(TCGLCPU *c)
{
    if (unlikely(c->env->cr0 & (TCGL_CR0_EM | TCGL_CR0_TS))) {
        tcgl_raise(c, TCGL_EXC_NM, -1);
    }
    return tcgl_fpu(c);
}

/* Any other x87 instruction: also records FOP, FIP/FCS. */
static inline TCGLFPU *x87_enter(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = x87_enter_ctl(c);
    f->fop = (i->opc & 7) << 8 | i->modrm;
    f->fip = c->env->rip;
    f->fcs = c->env->segs[R_CS].selector;
    return f;
}

/* ... with a memory operand: FDP/FDS too; returns the offset. */
static inline uint64_t x87_enter_m(TCGLCPU *c, const TCGLInsn *i, TCGLFPU **fp)
{
    TCGLFPU *f = x87_enter(c, i);
    uint64_t ea = tcgl_ea(c, i);
    f->fdp = ea;
    f->fds = c->env->segs[i->seg].selector;
    *fp = f;
    return ea;
}

/* ---- arithmetic: FADD FMUL FCOM FCOMP FSUB FSUBR FDIV FDIVR ---------------------------- */

/* ST(0) = ST(0) op src */
static inline void arith_st0(TCGLFPU *f, int op, long double s, uint16_t sw, uint16_t sf)
{
    long double d = st_get(f, 0, &sf), r;
    uint16_t w;

    if (op == OP_COM || op == OP_COMP) {
        w = x87_compare(d, s, false, x87_cw(f));
        if (sf & FSW_SF) {
            w |= FSW_C0 | FSW_C2 | FSW_C3;
        }
        if (x87_status(f, w | sw, sf, FSW_CC, NOWRITE_REG) && op == OP_COMP) {
            st_pop(f);
        }
        return;
    }
    r = x87_arith(op, d, s, x87_cw(f), &w);
    if (x87_status(f, w | sw, sf, FSW_C1, NOWRITE_REG)) {
        st_set(f, 0, r);
    }
}

#define ARITH_MEM(opname, op)                                                   \
static void fop_##opname##_m32(TCGLCPU *c, const TCGLInsn *i)                  \
{                                                                               \
    TCGLFPU *f;                                                                 \
    uint64_t ea = x87_enter_m(c, i, &f);                                        \
    uint16_t sw;                                                                \
    long double s = x87_from_f32(tcgl_ldl(c, i->seg, ea), x87_cw(f), &sw);      \
    arith_st0(f, op, s, sw & 0x3f, 0);                                          \
}                                                                               \
static void fop_##opname##_m64(TCGLCPU *c, const TCGLInsn *i)                  \
{                                                                               \
    TCGLFPU *f;                                                                 \
    uint64_t ea = x87_enter_m(c, i, &f);                                        \
    uint16_t sw;                                                                \
    long double s = x87_from_f64(tcgl_ldq(c, i->seg, ea), x87_cw(f), &sw);      \
    arith_st0(f, op, s, sw & 0x3f, 0);                                          \
}                                                                               \
static void fop_##opname##_i32(TCGLCPU *c, const TCGLInsn *i)                  \
{                                                                               \
    TCGLFPU *f;                                                                 \
    uint64_t ea = x87_enter_m(c, i, &f);                                        \
    arith_st0(f, op, (int32_t)tcgl_ldl(c, i->seg, ea), 0, 0);                   \
}                                                                               \
static void fop_##opname##_i16(TCGLCPU *c, const TCGLInsn *i)                  \
{                                                                               \
    TCGLFPU *f;                                                                 \
    uint64_t ea = x87_enter_m(c, i, &f);                                        \
    arith_st0(f, op, (int16_t)tcgl_ldw(c, i->seg, ea), 0, 0);                   \
}                                                                               \
static void fop_##opname##_st0(TCGLCPU *c, const TCGLInsn *i)                  \
{                                                                               \
    TCGLFPU *f = x87_enter(c, i);                                               \
    uint16_t sf = 0;                                                            \
    long double s = st_get(f, i->rm & 7, &sf);                                  \
    arith_st0(f, op, s, 0, sf);                                                 \
}

ARITH_MEM(add, OP_ADD)
ARITH_MEM(mul, OP_MUL)
ARITH_MEM(com, OP_COM)
ARITH_MEM(comp, OP_COMP)
ARITH_MEM(sub, OP_SUB)
ARITH_MEM(subr, OP_SUBR)
ARITH_MEM(div, OP_DIV)
ARITH_MEM(divr, OP_DIVR)

/* ST(i) = ST(i) op ST(0), then pop for the DE forms */
#define ARITH_STI(opname, op)                                                   \
static inline void sti_##opname(TCGLCPU *c, const TCGLInsn *i, bool pop)       \
{                                                                               \
    TCGLFPU *f = x87_enter(c, i);                                               \
    unsigned n = i->rm & 7;                                                     \
    uint16_t sf = 0, w;                                                         \
    long double d = st_get(f, n, &sf), s = st_get(f, 0, &sf);                   \
    long double r = x87_arith(op, d, s, x87_cw(f), &w);                         \
    if (x87_status(f, w, sf, FSW_C1, NOWRITE_REG)) {                            \
        st_set(f, n, r);                                                        \
        if (pop) {                                                              \
            st_pop(f);                                                          \
        }                                                                       \
    }                                                                           \
}                                                                               \
static void fop_##opname##_sti(TCGLCPU *c, const TCGLInsn *i)                  \
{                                                                               \
    sti_##opname(c, i, false);                                                  \
}                                                                               \
static void fop_##opname##_stip(TCGLCPU *c, const TCGLInsn *i)                 \
{                                                                               \
    sti_##opname(c, i, true);                                                   \
}

ARITH_STI(add, OP_ADD)
ARITH_STI(mul, OP_MUL)
ARITH_STI(sub, OP_SUB)
ARITH_STI(subr, OP_SUBR)
ARITH_STI(div, OP_DIV)
ARITH_STI(divr, OP_DIVR)

/* FCOM/FCOMP/FUCOM/FUCOMP ST(i) (D8 D0/D8, DC/DE aliases, DD E0/E8),
 * FCOMPP (DE D9), FUCOMPP (DA E9) */
static inline void compare_sti(TCGLCPU *c, const TCGLInsn *i, unsigned n, bool unord,
                               unsigned pops)
{
    TCGLFPU *f = x87_enter(c, i);
    uint16_t sf = 0, w;
    long double a = st_get(f, 0, &sf), b = st_get(f, n, &sf);

    w = x87_compare(a, b, unord, x87_cw(f));
    if (sf) {
        w |= FSW_C0 | FSW_C2 | FSW_C3;
    }
    if (x87_status(f, w, sf, FSW_CC, NOWRITE_REG)) {
        while (pops--) {
            st_pop(f);
        }
    }
}

static void fcom_sti(TCGLCPU *c, const TCGLInsn *i) { compare_sti(c, i, i->rm & 7, false, 0); }
static void fcomp_sti(TCGLCPU *c, const TCGLInsn *i) { compare_sti(c, i, i->rm & 7, false, 1); }
static void fucom_sti(TCGLCPU *c, const TCGLInsn *i) { compare_sti(c, i, i->rm & 7, true, 0); }
static void fucomp_sti(TCGLCPU *c, const TCGLInsn *i) { compare_sti(c, i, i->rm & 7, true, 1); }
static void fcompp(TCGLCPU *c, const TCGLInsn *i) { compare_sti(c, i, 1, false, 2); }
static void fucompp(TCGLCPU *c, const TCGLInsn *i) { compare_sti(c, i, 1, true, 2); }

/* FCOMI/FUCOMI/FCOMIP/FUCOMIP: ZF PF CF = C3 C2 C0; OF SF AF cleared */
static inline void comi_sti(TCGLCPU *c, const TCGLInsn *i, bool unord, bool pop)
{
    TCGLFPU *f = x87_enter(c, i);
    uint16_t sf = 0, w;
    long double a = st_get(f, 0, &sf), b = st_get(f, i->rm & 7, &sf);

    w = x87_compare(a, b, unord, x87_cw(f));
    if (sf) {
        w |= FSW_C0 | FSW_C2 | FSW_C3;
    }
    if (!x87_status(f, w, sf, FSW_C1, NOWRITE_REG)) {
        return;
    }
    tcgl_set_rflags(c, ((w & FSW_C3) ? 0x40 : 0) | ((w & FSW_C2) ? 0x04 : 0) |
                    ((w & FSW_C0) ? 0x01 : 0), TCGL_RFLAGS_ARITH);
    if (pop) {
        st_pop(f);
    }
}

static void fcomi_sti(TCGLCPU *c, const TCGLInsn *i) { comi_sti(c, i, false, false); }
static void fucomi_sti(TCGLCPU *c, const TCGLInsn *i) { comi_sti(c, i, true, false); }
static void fcomip_sti(TCGLCPU *c, const TCGLInsn *i) { comi_sti(c, i, false, true); }
static void fucomip_sti(TCGLCPU *c, const TCGLInsn *i) { comi_sti(c, i, true, true); }

/* ---- loads and stores -------------------------------------------------------------------- */

static inline void push_value(TCGLFPU *f, long double v, uint16_t sw, uint16_t sf)
{
    st_check_push(f, &sf);
    if (sf & FSW_SF) {
        v = x87_indefinite();
    }
    if (x87_status(f, sw, sf, FSW_C1, NOWRITE_REG)) {
        st_push(f, v);
    }
}

static void fld_m32(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f;
    uint64_t ea = x87_enter_m(c, i, &f);
    uint16_t sw;
    long double v = x87_from_f32(tcgl_ldl(c, i->seg, ea), x87_cw(f), &sw);
    push_value(f, v, sw & 0x3f, 0);
}

static void fld_m64(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f;
    uint64_t ea = x87_enter_m(c, i, &f);
    uint16_t sw;
    long double v = x87_from_f64(tcgl_ldq(c, i->seg, ea), x87_cw(f), &sw);
    push_value(f, v, sw & 0x3f, 0);
}

static void fld_m80(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f;
    uint64_t ea = x87_enter_m(c, i, &f);
    FPReg r = { .raw = { 0 } };
    tcgl_ld_buf(c, i->seg, ea, r.raw, 10);
    push_value(f, r.ld, 0, 0);
}

static void fild_m16(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f;
    uint64_t ea = x87_enter_m(c, i, &f);
    push_value(f, (int16_t)tcgl_ldw(c, i->seg, ea), 0, 0);
}

static void fild_m32(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f;
    uint64_t ea = x87_enter_m(c, i, &f);
    push_value(f, (int32_t)tcgl_ldl(c, i->seg, ea), 0, 0);
}

static void fild_m64(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f;
    uint64_t ea = x87_enter_m(c, i, &f);
    push_value(f, (int64_t)tcgl_ldq(c, i->seg, ea), 0, 0);
}

static void fbld_m80(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f;
    uint64_t ea = x87_enter_m(c, i, &f);
    uint8_t bcd[10];
    long double v;
    uint16_t sw, cw;

    tcgl_ld_buf(c, i->seg, ea, bcd, 10);
    cw = x87_cw(f);
    X87_ASM(cw, "fbld %[m]", ("=t" (v), [s] "=m" (sw)), ([m] "m" (bcd)), ("cc"));
    push_value(f, v, sw & 0x3f, 0);
}

/* FLD ST(i) */
static void fld_sti(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = x87_enter(c, i);
    uint16_t sf = 0;
    long double v = st_get(f, i->rm & 7, &sf);
    push_value(f, v, 0, sf);
}

/* Store forms: the value of ST(0) (indefinite if empty), converted on the
 * host; the memory written only when no unmasked exception forbids it.
 * The destination is checked first: a #PF/#GP/#AC there comes before any
 * status flag changes, and even when an unmasked exception suppresses the
 * write (silicon; tcgl-diff random "fistp word ptr [rip+0x79a0bae0]",
 * "fist dword ptr [rbx+0x4179a730]"). */
#define STORE_OP(name, type, insn, stfn, pop)                                   \
static void name(TCGLCPU *c, const TCGLInsn *i)                                \
{                                                                               \
    TCGLFPU *f;                                                                 \
    uint64_t ea = x87_enter_m(c, i, &f);                                        \
    uint16_t sf = 0, sw, cw = x87_cw(f);                                        \
    long double v = st_get(f, 0, &sf);                                          \
    type out;                                                                   \
    X87_STORE(insn, out, v, cw, sw);                                            \
    tcgl_probe_write(c, i->seg, ea, sizeof(type));                              \
    if (x87_status(f, sw, sf, FSW_C1, NOWRITE_MEM)) {                           \
        stfn(c, i->seg, ea, out);                                               \
        if (pop) {                                                              \
            st_pop(f);                                                          \
        }                                                                       \
    }                                                                           \
}

STORE_OP(fst_m32, uint32_t, "fstps", tcgl_stl, false)
STORE_OP(fstp_m32, uint32_t, "fstps", tcgl_stl, true)
STORE_OP(fst_m64, uint64_t, "fstpl", tcgl_stq, false)
STORE_OP(fstp_m64, uint64_t, "fstpl", tcgl_stq, true)
STORE_OP(fist_m16, uint16_t, "fistps", tcgl_stw, false)
STORE_OP(fistp_m16, uint16_t, "fistps", tcgl_stw, true)
STORE_OP(fist_m32, uint32_t, "fistpl", tcgl_stl, false)
STORE_OP(fistp_m32, uint32_t, "fistpl", tcgl_stl, true)
STORE_OP(fistp_m64, uint64_t, "fistpll", tcgl_stq, true)
STORE_OP(fisttp_m16, uint16_t, "fisttps", tcgl_stw, true)
STORE_OP(fisttp_m32, uint32_t, "fisttpl", tcgl_stl, true)
STORE_OP(fisttp_m64, uint64_t, "fisttpll", tcgl_stq, true)

static void fstp_m80(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f;
    uint64_t ea = x87_enter_m(c, i, &f);
    uint16_t sf = 0;
    FPReg r = { .ld = st_get(f, 0, &sf) };
    tcgl_probe_write(c, i->seg, ea, 10);
    if (x87_status(f, 0, sf, FSW_C1, NOWRITE_MEM)) {
        tcgl_st_buf(c, i->seg, ea, r.raw, 10);
        st_pop(f);
    }
}

static void fbstp_m80(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f;
    uint64_t ea = x87_enter_m(c, i, &f);
    uint16_t sf = 0, sw, cw = x87_cw(f);
    long double v = st_get(f, 0, &sf);
    struct { uint8_t b[10]; } out;
    X87_STORE("fbstp", out, v, cw, sw);
    tcgl_probe_write(c, i->seg, ea, 10);
    if (x87_status(f, sw, sf, FSW_C1, NOWRITE_MEM)) {
        tcgl_st_buf(c, i->seg, ea, out.b, 10);
        st_pop(f);
    }
}

/* FST/FSTP ST(i) */
static inline void fst_sti_common(TCGLCPU *c, const TCGLInsn *i, bool pop)
{
    TCGLFPU *f = x87_enter(c, i);
    uint16_t sf = 0;
    long double v = st_get(f, 0, &sf);
    if (x87_status(f, 0, sf, FSW_C1, NOWRITE_REG)) {
        st_set(f, i->rm & 7, v);
        if (pop) {
            st_pop(f);
        }
    }
}

static void fst_sti(TCGLCPU *c, const TCGLInsn *i) { fst_sti_common(c, i, false); }
static void fstp_sti(TCGLCPU *c, const TCGLInsn *i) { fst_sti_common(c, i, true); }

/* FXCH ST(i): an empty operand becomes the indefinite (masked underflow) */
static void fxch_sti(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = x87_enter(c, i);
    unsigned n = i->rm & 7;
    uint16_t sf = 0;
    long double a = st_get(f, 0, &sf), b = st_get(f, n, &sf);
    if (x87_status(f, 0, sf, FSW_C1, NOWRITE_REG)) {
        st_set(f, 0, b);
        st_set(f, n, a);
    }
}

/* FCMOVcc ST(0), ST(i): cc as in Jcc */
static inline void fcmov(TCGLCPU *c, const TCGLInsn *i, unsigned cc)
{
    TCGLFPU *f = x87_enter(c, i);
    uint16_t sf = 0;
    long double v;

    st_get(f, 0, &sf);
    v = st_get(f, i->rm & 7, &sf);
    if (sf) {
        if (x87_status(f, 0, sf, FSW_C1, NOWRITE_REG)) {
            st_set(f, 0, x87_indefinite());
        }
        return;
    }
    f->fsw &= ~FSW_C1;
    if (tcgl_cond(c, cc)) {
        st_set(f, 0, v);
    }
}

static void fcmovb(TCGLCPU *c, const TCGLInsn *i) { fcmov(c, i, 2); }
static void fcmove(TCGLCPU *c, const TCGLInsn *i) { fcmov(c, i, 4); }
static void fcmovbe(TCGLCPU *c, const TCGLInsn *i) { fcmov(c, i, 6); }
static void fcmovu(TCGLCPU *c, const TCGLInsn *i) { fcmov(c, i, 10); }
static void fcmovnb(TCGLCPU *c, const TCGLInsn *i) { fcmov(c, i, 3); }
static void fcmovne(TCGLCPU *c, const TCGLInsn *i) { fcmov(c, i, 5); }
static void fcmovnbe(TCGLCPU *c, const TCGLInsn *i) { fcmov(c, i, 7); }
static void fcmovnu(TCGLCPU *c, const TCGLInsn *i) { fcmov(c, i, 11); }

/* ---- one-operand and stack-control instructions (D9 E0-FF) ------------------------------ */

static void fchs(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = x87_enter(c, i);
    uint16_t sf = 0;
    FPReg r = { .ld = st_get(f, 0, &sf) };
    if (x87_status(f, 0, sf, FSW_C1, NOWRITE_REG)) {
        if (!sf) {          /* an empty ST(0) becomes the indefinite as is */
            r.r.sexp ^= 0x8000;
        }
        st_set(f, 0, r.ld);
    }
}

static void fabs_(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = x87_enter(c, i);
    uint16_t sf = 0;
    FPReg r = { .ld = st_get(f, 0, &sf) };
    if (x87_status(f, 0, sf, FSW_C1, NOWRITE_REG)) {
        if (!sf) {          /* an empty ST(0) becomes the indefinite as is */
            r.r.sexp &= 0x7fff;
        }
        st_set(f, 0, r.ld);
    }
}

static void ftst(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = x87_enter(c, i);
    uint16_t sf = 0, w;
    long double a = st_get(f, 0, &sf);
    w = x87_compare(a, 0.0L, false, x87_cw(f));
    if (sf) {
        w |= FSW_C0 | FSW_C2 | FSW_C3;
    }
    x87_status(f, w, sf, FSW_CC, NOWRITE_REG);
}

/* FXAM: the class of ST(0) in C3 C2 C0, its sign in C1; empty is 101 */
static void fxam(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = x87_enter(c, i);
    uint16_t cc;

    if (st_empty(f, 0)) {
        cc = FSW_C3 | FSW_C0;
        if (f->fpr[f->top].r.sexp & 0x8000) {
            cc |= FSW_C1;
        }
    } else {
        long double r, a = f->fpr[f->top].ld;
        uint16_t cw = x87_cw(f);
        X87_HOST1("fxam", r, a, cw, cc);
        (void)r;
    }
    f->fsw = (f->fsw & ~FSW_CC) | (cc & FSW_CC);
}

/* FLD1 FLDL2T FLDL2E FLDPI FLDLG2 FLDLN2 FLDZ: the host's constants,
 * rounded per the guest's rounding control as the CPU does. */
#define FLD_CONST(name, insn)                                                   \
static void name(TCGLCPU *c, const TCGLInsn *i)                                \
{                                                                               \
    TCGLFPU *f = x87_enter(c, i);                                               \
    uint16_t cw = x87_cw(f), sw;                                                \
    long double v;                                                              \
    __asm__ volatile("fldcw %[gcw]\n\tfnclex\n\t" insn "\n\tfnstsw %[s]\n\tfldcw %[hcw]" \
                     : "=t" (v), [s] "=m" (sw) : [gcw] "m" (cw), [hcw] "m" (host_fcw)); \
    push_value(f, v, 0, 0);                                                     \
}

FLD_CONST(fld1, "fld1")
FLD_CONST(fldl2t, "fldl2t")
FLD_CONST(fldl2e, "fldl2e")
FLD_CONST(fldpi, "fldpi")
FLD_CONST(fldlg2, "fldlg2")
FLD_CONST(fldln2, "fldln2")
FLD_CONST(fldz, "fldz")

/* ST(0) = f(ST(0)) on the host: FSQRT FRNDINT F2XM1 FSIN FCOS (the last
 * two set C2 and leave ST(0) alone when |x| >= 2^63). */
#define UNARY_OP(name, insn, ccmask)                                            \
static void name(TCGLCPU *c, const TCGLInsn *i)                                \
{                                                                               \
    TCGLFPU *f = x87_enter(c, i);                                               \
    uint16_t sf = 0, sw, cw = x87_cw(f);                                        \
    long double a = st_get(f, 0, &sf), r;                                       \
    X87_HOST1(insn, r, a, cw, sw);                                              \
    if (x87_status(f, sw, sf, ccmask, NOWRITE_REG)) {                           \
        st_set(f, 0, r);                                                        \
    }                                                                           \
}

UNARY_OP(fsqrt, "fsqrt", FSW_C1)
UNARY_OP(frndint, "frndint", FSW_C1)
UNARY_OP(f2xm1, "f2xm1", FSW_C1)
UNARY_OP(fsin, "fsin", FSW_C1 | FSW_C2)
UNARY_OP(fcos, "fcos", FSW_C1 | FSW_C2)

/* ST(1) = f(ST(1), ST(0)), pop: FYL2X FYL2XP1 FPATAN */
#define BINARY_POP(name, insn)                                                  \
static void name(TCGLCPU *c, const TCGLInsn *i)                                \
{                                                                               \
    TCGLFPU *f = x87_enter(c, i);                                               \
    uint16_t sf = 0, sw, cw = x87_cw(f);                                        \
    long double x = st_get(f, 0, &sf), y = st_get(f, 1, &sf), r;                \
    X87_ASM(cw, insn, ("=t" (r), [s] "=m" (sw)), ("0" (x), "u" (y)), ("st(1)", "cc")); \
    if (x87_status(f, sw, sf, FSW_C1, NOWRITE_REG)) {                           \
        st_set(f, 1, r);                                                        \
        st_pop(f);                                                              \
    }                                                                           \
}

BINARY_POP(fyl2x, "fyl2x")
BINARY_POP(fyl2xp1, "fyl2xp1")
BINARY_POP(fpatan, "fpatan")

/* ST(0) = f(ST(0), ST(1)): FSCALE, FPREM, FPREM1 (quotient bits in C0 C3 C1,
 * C2 = incomplete) */
#define BINARY_OP(name, insn, ccmask)                                           \
static void name(TCGLCPU *c, const TCGLInsn *i)                                \
{                                                                               \
    TCGLFPU *f = x87_enter(c, i);                                               \
    uint16_t sf = 0, sw, cw = x87_cw(f);                                        \
    long double a = st_get(f, 0, &sf), b = st_get(f, 1, &sf), r;                \
    X87_HOST2(insn, r, a, b, cw, sw);                                           \
    if (x87_status(f, sw, sf, ccmask, NOWRITE_REG)) {                           \
        st_set(f, 0, r);                                                        \
    }                                                                           \
}

BINARY_OP(fscale, "fscale", FSW_C1)
BINARY_OP(fprem, "fprem", FSW_CC)
BINARY_OP(fprem1, "fprem1", FSW_CC)

/* FPTAN: ST(0) = tan, push 1.0; out of range: C2 and nothing changes.
 * The asm pops the host's 1.0 itself so the host stack depth is fixed. */
static void fptan(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = x87_enter(c, i);
    uint16_t sf = 0, sw, cw = x87_cw(f);
    long double a = st_get(f, 0, &sf), r;

    __asm__ volatile("fldcw %[gcw]\n\tfnclex\n\tfptan\n\tfnstsw %[s]\n\t"
                     "testw $0x400, %[s]\n\tjnz 1f\n\tfstp %%st(0)\n"
                     "1:\n\tfldcw %[hcw]"
                     : "=t" (r), [s] "=m" (sw)
                     : "0" (a), [gcw] "m" (cw), [hcw] "m" (host_fcw) : "cc");
    if (sw & FSW_C2) {
        f->fsw = (f->fsw & ~FSW_C2) | FSW_C2;
        return;
    }
    st_check_push(f, &sf);
    if (x87_status(f, sw, sf, FSW_C1 | FSW_C2, NOWRITE_REG)) {
        if (sf & FSW_C1) {
            st_set(f, 0, x87_indefinite());
            st_push(f, x87_indefinite());
        } else {
            st_set(f, 0, r);
            st_push(f, 1.0L);
        }
    }
}

/* FSINCOS: ST(0) = sin, push cos */
static void fsincos(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = x87_enter(c, i);
    uint16_t sf = 0, sw, cw = x87_cw(f);
    long double a = st_get(f, 0, &sf), s, co = 0;

    __asm__ volatile("fldcw %[gcw]\n\tfnclex\n\tfsincos\n\tfnstsw %[s]\n\t"
                     "testw $0x400, %[s]\n\tjnz 1f\n\tfstpt %[co]\n"
                     "1:\n\tfldcw %[hcw]"
                     : "=t" (s), [s] "=m" (sw), [co] "+m" (co)
                     : "0" (a), [gcw] "m" (cw), [hcw] "m" (host_fcw) : "cc");
    if (sw & FSW_C2) {
        f->fsw |= FSW_C2;
        return;
    }
    st_check_push(f, &sf);
    if (x87_status(f, sw, sf, FSW_C1 | FSW_C2, NOWRITE_REG)) {
        if (sf & FSW_C1) {
            st_set(f, 0, x87_indefinite());
            st_push(f, x87_indefinite());
        } else {
            st_set(f, 0, s);
            st_push(f, co);
        }
    }
}

/* FXTRACT: ST(0) = exponent, push the significand */
static void fxtract(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = x87_enter(c, i);
    uint16_t sf = 0, sw, cw = x87_cw(f);
    long double a = st_get(f, 0, &sf), sig, ex;

    X87_ASM(cw, "fxtract", ("=t" (sig), "=u" (ex), [s] "=m" (sw)), ("0" (a)), ("cc"));
    st_check_push(f, &sf);
    if (x87_status(f, sw, sf, FSW_C1, NOWRITE_REG)) {
        if (sf & FSW_C1) {
            st_set(f, 0, x87_indefinite());
            st_push(f, x87_indefinite());
        } else {
            st_set(f, 0, ex);
            st_push(f, sig);
        }
    }
}

static void fdecstp(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = x87_enter(c, i);
    f->top = (f->top - 1) & 7;
    f->fsw &= ~FSW_C1;
}

static void fincstp(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = x87_enter(c, i);
    f->top = (f->top + 1) & 7;
    f->fsw &= ~FSW_C1;
}

static void ffree_sti(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = x87_enter(c, i);
    f->ftw &= ~(1u << st_phys(f, i->rm & 7));
}

/* FFREEP (DF C0+i): free, then pop (an undocumented alias the CPUs have) */
static void ffreep_sti(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = x87_enter(c, i);
    f->ftw &= ~(1u << st_phys(f, i->rm & 7));
    st_pop(f);
}

static void fnop(TCGLCPU *c, const TCGLInsn *i)
{
    x87_enter(c, i);
}

/* ---- control --------------------------------------------------------------------------- */

static void fninit(TCGLCPU *c, const TCGLInsn *i)
{
    tcgl_fpu_finit(x87_enter_nowait(c));
}

static void fnclex(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = x87_enter_nowait(c);
    f->fsw &= ~(0x7f | FSW_ES | FSW_B);
}

/* FENI/FDISI/FSETPM (DB E0/E1/E4): no-ops since the 387 */
static void fnop_nowait(TCGLCPU *c, const TCGLInsn *i)
{
    x87_enter_nowait(c);
}

/* A new control word can unmask a pending exception: ES and B follow.
 * The reserved bits 7 and 13-15 read as 0 (silicon: FLDCW 0xf9d4 reads
 * back 0x1954, tcgl-diff random 'fldcw [rcx]'). */
static void x87_set_fcw(TCGLFPU *f, uint16_t v)
{
    v &= 0x1f7f;
    f->fcw = v;
    if (f->fsw & ~v & 0x3f) {
        f->fsw |= FSW_ES | FSW_B;
    } else {
        f->fsw &= ~(FSW_ES | FSW_B);
    }
}

static void fldcw_m(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = x87_enter_ctl(c);
    x87_set_fcw(f, tcgl_ldw(c, i->seg, tcgl_ea(c, i)));
}

static void fnstcw_m(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = x87_enter_nowait(c);
    tcgl_stw(c, i->seg, tcgl_ea(c, i), f->fcw);
}

static void fnstsw_m(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = x87_enter_nowait(c);
    tcgl_stw(c, i->seg, tcgl_ea(c, i), tcgl_fpu_get_fsw(f));
}

static void fnstsw_ax(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = x87_enter_nowait(c);
    tcgl_reg_set(c, R_EAX, 2, tcgl_fpu_get_fsw(f));
}

/* FWAIT: #NM only when CR0.MP and CR0.TS; then a pending exception. */
static void fwait(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = tcgl_fpu(c);
    if ((c->env->cr0 & (TCGL_CR0_MP | TCGL_CR0_TS)) == (TCGL_CR0_MP | TCGL_CR0_TS)) {
        tcgl_raise(c, TCGL_EXC_NM, -1);
    }
    if ((f->fsw & FSW_ES) && (c->env->cr0 & TCGL_CR0_NE)) {
        tcgl_raise(c, TCGL_EXC_MF, -1);
    }
}

/*
 * FLDENV/FNSTENV/FRSTOR/FNSAVE environment: 14 bytes (16-bit operand
 * size) or 28 (32-bit; also in 64-bit mode, REX.W or not), in the real
 * mode (and virtual-8086) layout or the protected mode one.
 */
static inline bool env_real(const TCGLCPU *c)
{
    return !(c->hflags & TCGL_HF_PE) || (c->hflags & TCGL_HF_VM);
}

static unsigned x87_env_store(TCGLCPU *c, const TCGLInsn *i, const TCGLFPU *f, uint8_t *b)
{
    uint16_t fsw = tcgl_fpu_get_fsw(f), ftw = tcgl_fpu_get_ftw(f);
    uint32_t fip = f->fip, fdp = f->fdp;

    if (env_real(c)) {
        /* the real-mode layouts hold 20-bit (32-bit: 32-bit) linear
         * pointers: selector * 16 + offset */
        fip += (uint32_t)f->fcs << 4;
        fdp += (uint32_t)f->fds << 4;
    }

    if (i->opsize == 2) {
        put16(b + 0, f->fcw);
        put16(b + 2, fsw);
        put16(b + 4, ftw);
        if (env_real(c)) {
            put16(b + 6, fip);
            put16(b + 8, ((fip >> 4) & 0xf000) | (f->fop & 0x7ff));
            put16(b + 10, fdp);
            put16(b + 12, (fdp >> 4) & 0xf000);
        } else {
            put16(b + 6, fip);
            put16(b + 8, f->fcs);
            put16(b + 10, fdp);
            put16(b + 12, f->fds);
        }
        return 14;
    }
    put32(b + 0, 0xffff0000u | f->fcw);
    put32(b + 4, 0xffff0000u | fsw);
    put32(b + 8, 0xffff0000u | ftw);
    if (env_real(c)) {
        put32(b + 12, 0xffff0000u | (fip & 0xffff));
        put32(b + 16, ((fip >> 4) & 0x0ffff000) | (f->fop & 0x7ff));
        put32(b + 20, 0xffff0000u | (fdp & 0xffff));
        put32(b + 24, (fdp >> 4) & 0x0ffff000);
    } else {
        put32(b + 12, fip);
        put32(b + 16, f->fcs | (uint32_t)(f->fop & 0x7ff) << 16);
        put32(b + 20, fdp);
        put32(b + 24, 0xffff0000u | f->fds);
    }
    return 28;
}

static unsigned x87_env_size(const TCGLInsn *i)
{
    return i->opsize == 2 ? 14 : 28;
}

static void x87_env_load(TCGLCPU *c, const TCGLInsn *i, TCGLFPU *f, const uint8_t *b)
{
    uint16_t fsw;

    if (i->opsize == 2) {
        f->fcw = get16(b + 0);
        fsw = get16(b + 2);
        tcgl_fpu_set_ftw(f, get16(b + 4));
        if (env_real(c)) {
            f->fip = get16(b + 6) | (uint32_t)(get16(b + 8) & 0xf000) << 4;
            f->fop = get16(b + 8) & 0x7ff;
            f->fdp = get16(b + 10) | (uint32_t)(get16(b + 12) & 0xf000) << 4;
            f->fcs = f->fds = 0;
        } else {
            f->fip = get16(b + 6);
            f->fcs = get16(b + 8);
            f->fdp = get16(b + 10);
            f->fds = get16(b + 12);
        }
    } else {
        f->fcw = get16(b + 0);
        fsw = get16(b + 4);
        tcgl_fpu_set_ftw(f, get16(b + 8));
        if (env_real(c)) {
            f->fip = get16(b + 12) | (get32(b + 16) & 0x0ffff000) << 4;
            f->fop = get32(b + 16) & 0x7ff;
            f->fdp = get16(b + 20) | (get32(b + 24) & 0x0ffff000) << 4;
            f->fcs = f->fds = 0;
        } else {
            f->fip = get32(b + 12);
            f->fcs = get16(b + 16);
            f->fop = (get32(b + 16) >> 16) & 0x7ff;
            f->fdp = get32(b + 20);
            f->fds = get16(b + 24);
        }
    }
    f->fsw = fsw & ~FSW_TOP;
    f->top = (fsw >> 11) & 7;
}

static void fldenv_m(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = x87_enter_ctl(c);
    uint8_t b[28];
    tcgl_ld_buf(c, i->seg, tcgl_ea(c, i), b, x87_env_size(i));
    x87_env_load(c, i, f, b);
}

/* FNSTENV also masks every exception afterwards. */
static void fnstenv_m(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = x87_enter_nowait(c);
    uint8_t b[28];
    unsigned n = x87_env_store(c, i, f, b);
    tcgl_st_buf(c, i->seg, tcgl_ea(c, i), b, n);
    f->fcw |= 0x3f;
}

static void frstor_m(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = x87_enter_ctl(c);
    uint8_t b[28 + 80];
    unsigned n = x87_env_size(i);
    tcgl_ld_buf(c, i->seg, tcgl_ea(c, i), b, n + 80);
    x87_env_load(c, i, f, b);
    for (unsigned k = 0; k < 8; k++) {
        FPReg *r = &f->fpr[st_phys(f, k)];
        memset(r->raw, 0, sizeof(r->raw));
        memcpy(r->raw, b + n + 10 * k, 10);
    }
}

/* FNSAVE: the environment and ST(0)-ST(7), then FNINIT. */
static void fnsave_m(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLFPU *f = x87_enter_nowait(c);
    uint8_t b[28 + 80];
    unsigned n = x87_env_store(c, i, f, b);
    for (unsigned k = 0; k < 8; k++) {
        memcpy(b + n + 10 * k, f->fpr[st_phys(f, k)].raw, 10);
    }
    tcgl_st_buf(c, i->seg, tcgl_ea(c, i), b, n + 80);
    tcgl_fpu_finit(f);
}

/* ---- decoding the D8-DF forms ------------------------------------------------------------ */

static TCGLHandler *const arith_mem[4][8] = {
    { fop_add_m32, fop_mul_m32, fop_com_m32, fop_comp_m32,
      fop_sub_m32, fop_subr_m32, fop_div_m32, fop_divr_m32 },     /* D8 */
    { fop_add_i32, fop_mul_i32, fop_com_i32, fop_comp_i32,
      fop_sub_i32, fop_subr_i32, fop_div_i32, fop_divr_i32 },     /* DA */
    { fop_add_m64, fop_mul_m64, fop_com_m64, fop_comp_m64,
      fop_sub_m64, fop_subr_m64, fop_div_m64, fop_divr_m64 },     /* DC */
    { fop_add_i16, fop_mul_i16, fop_com_i16, fop_comp_i16,
      fop_sub_i16, fop_subr_i16, fop_div_i16, fop_divr_i16 },     /* DE */
};

static TCGLHandler *const mem_d9[8] = {
    fld_m32, NULL, fst_m32, fstp_m32, fldenv_m, fldcw_m, fnstenv_m, fnstcw_m };
static TCGLHandler *const mem_db[8] = {
    fild_m32, fisttp_m32, fist_m32, fistp_m32, NULL, fld_m80, NULL, fstp_m80 };
static TCGLHandler *const mem_dd[8] = {
    fld_m64, fisttp_m64, fst_m64, fstp_m64, frstor_m, NULL, fnsave_m, fnstsw_m };
static TCGLHandler *const mem_df[8] = {
    fild_m16, fisttp_m16, fist_m16, fistp_m16, fbld_m80, fild_m64, fbstp_m80, fistp_m64 };

static TCGLHandler *const reg_d8[8] = {
    fop_add_st0, fop_mul_st0, fop_com_st0, fop_comp_st0,
    fop_sub_st0, fop_subr_st0, fop_div_st0, fop_divr_st0 };
/* DC/DE register forms: /4 is FSUBR ST(i),ST(0) i.e. ST(i) = ST(0) - ST(i) */
static TCGLHandler *const reg_dc[8] = {
    fop_add_sti, fop_mul_sti, fcom_sti, fcomp_sti,
    fop_subr_sti, fop_sub_sti, fop_divr_sti, fop_div_sti };
static TCGLHandler *const reg_de[8] = {
    fop_add_stip, fop_mul_stip, fcomp_sti, NULL,
    fop_subr_stip, fop_sub_stip, fop_divr_stip, fop_div_stip };
static TCGLHandler *const reg_d9_e0[32] = {
    fchs, fabs_, NULL, NULL, ftst, fxam, NULL, NULL,
    fld1, fldl2t, fldl2e, fldpi, fldlg2, fldln2, fldz, NULL,
    f2xm1, fyl2x, fptan, fpatan, fxtract, fprem1, fdecstp, fincstp,
    fprem, fyl2xp1, fsqrt, fsincos, frndint, fscale, fsin, fcos };

static TCGLHandler *x87_select(const TCGLInsn *i)
{
    unsigned op = i->opc & 7, r = (i->modrm >> 3) & 7, m = i->modrm & 7;

    if (i->mod != 3) {
        switch (op) {
        case 0: return arith_mem[0][r];
        case 2: return arith_mem[1][r];
        case 4: return arith_mem[2][r];
        case 6: return arith_mem[3][r];
        case 1: return mem_d9[r];
        case 3: return mem_db[r];
        case 5: return mem_dd[r];
        default: return mem_df[r];
        }
    }
    switch (op) {
    case 0:
        return reg_d8[r];
    case 1:
        switch (r) {
        case 0: return fld_sti;
        case 1: return fxch_sti;
        case 2: return m == 0 ? fnop : NULL;
        case 3: return fstp_sti;                    /* FSTP1 alias */
        default: return reg_d9_e0[(r - 4) * 8 + m];
        }
    case 2:
        switch (r) {
        case 0: return fcmovb;
        case 1: return fcmove;
        case 2: return fcmovbe;
        case 3: return fcmovu;
        case 5: return m == 1 ? fucompp : NULL;
        default: return NULL;
        }
    case 3:
        switch (r) {
        case 0: return fcmovnb;
        case 1: return fcmovne;
        case 2: return fcmovnbe;
        case 3: return fcmovnu;
        case 4:
            switch (m) {
            case 0: case 1: case 4: return fnop_nowait;
            case 2: return fnclex;
            case 3: return fninit;
            default: return NULL;
            }
        case 5: return fucomi_sti;
        case 6: return fcomi_sti;
        default: return NULL;
        }
    case 4:
        return reg_dc[r];
    case 5:
        switch (r) {
        case 0: return ffree_sti;
        case 1: return fxch_sti;                    /* FXCH4 alias */
        case 2: return fst_sti;
        case 3: return fstp_sti;
        case 4: return fucom_sti;
        case 5: return fucomp_sti;
        default: return NULL;
        }
    case 6:
        if (r == 3) {
            return m == 1 ? fcompp : NULL;
        }
        return reg_de[r];
    default:
        switch (r) {
        case 0: return ffreep_sti;
        case 1: return fxch_sti;                    /* FXCH7 alias */
        case 2: case 3: return fstp_sti;            /* FSTP8/9 aliases */
        case 4: return m == 0 ? fnstsw_ax : NULL;
        case 5: return fucomip_sti;
        case 6: return fcomip_sti;
        default: return NULL;
        }
    }
}

#define X87_ROW(b) { TCGL_OPC(TCGL_MAP_1B, b), -1, TCGL_MP_ANY, TCGL_MOD_ANY, 0, NULL, x87_select }

const TCGLOpDesc tcgl_ops_fpu[] = {
    X87_ROW(0xd8), X87_ROW(0xd9), X87_ROW(0xda), X87_ROW(0xdb),
    X87_ROW(0xdc), X87_ROW(0xdd), X87_ROW(0xde), X87_ROW(0xdf),
    { TCGL_OPC(TCGL_MAP_1B, 0x9b), -1, TCGL_MP_ANY, TCGL_MOD_ANY, 0, fwait, NULL },
    TCGL_OPDESC_END
};

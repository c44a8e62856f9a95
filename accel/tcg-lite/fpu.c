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
        f = aligned_alloc(64, sizeof(TCGLFPU));
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

/* ---- the table ------------------------------------------------------------------- */

const TCGLOpDesc tcgl_ops_fpu[] = {
    TCGL_OPDESC_END
};

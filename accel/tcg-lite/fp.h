/*
 * tcg-lite part "fp": the x87/MMX/SSE working state and the helpers
 * shared by fpu.c and sse.c (docs/tcg-lite.md, section "fp").
 *
 * Working state: a TCGLFPU in c->fpu, loaded from env->xsave by
 * tcgl_fp_state_from_env() and stored back by tcgl_fp_state_to_env().
 * The XMM registers are 16-byte aligned host vectors; the x87 registers
 * are kept by *physical* number (R0-R7) as host long doubles (the x86-64
 * host's long double is the 80-bit x87 format), with TOP apart, so a push
 * or pop moves no data.  MMX register i is the mantissa of R_i.
 */
#ifndef KVMPC_TCGL_FP_H
#define KVMPC_TCGL_FP_H

#include <stdint.h>
#include <string.h>
#include <emmintrin.h>
#include "tcgl.h"

/* Control register bits this part checks. */
#define TCGL_CR0_MP        (1u << 1)
#define TCGL_CR0_EM        (1u << 2)
#define TCGL_CR0_TS        (1u << 3)
#define TCGL_CR0_NE        (1u << 5)
#define TCGL_CR4_OSFXSR    (1u << 9)
#define TCGL_CR4_OSXMMEXCPT (1u << 10)
#define TCGL_CR4_OSXSAVE   (1u << 18)

/* Exception vectors. */
#define TCGL_EXC_UD 6
#define TCGL_EXC_NM 7
#define TCGL_EXC_GP 13
#define TCGL_EXC_MF 16
#define TCGL_EXC_XM 19

/* MXCSR */
#define MXCSR_IE   0x0001
#define MXCSR_DE   0x0002
#define MXCSR_ZE   0x0004
#define MXCSR_OE   0x0008
#define MXCSR_UE   0x0010
#define MXCSR_PE   0x0020
#define MXCSR_FLAGS 0x003f
#define MXCSR_DAZ  0x0040
#define MXCSR_MASKS 0x1f80
#define MXCSR_RC   0x6000
#define MXCSR_FTZ  0x8000
#define MXCSR_MASK_SUPPORTED 0xffffu   /* MXCSR_MASK reported by FXSAVE (DAZ supported) */
#define MXCSR_RESET 0x1f80

/* x87 status word */
#define FSW_IE 0x0001
#define FSW_DE 0x0002
#define FSW_ZE 0x0004
#define FSW_OE 0x0008
#define FSW_UE 0x0010
#define FSW_PE 0x0020
#define FSW_SF 0x0040
#define FSW_ES 0x0080
#define FSW_C0 0x0100
#define FSW_C1 0x0200
#define FSW_C2 0x0400
#define FSW_TOP 0x3800
#define FSW_C3 0x4000
#define FSW_B  0x8000
#define FSW_CC (FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)
#define FCW_RESET 0x037f

/* FXSAVE image offsets (env->xsave) */
#define FXS_FCW    0
#define FXS_FSW    2
#define FXS_FTW    4
#define FXS_FOP    6
#define FXS_FIP    8
#define FXS_FCS    12
#define FXS_FDP    16
#define FXS_FDS    20
#define FXS_MXCSR  24
#define FXS_MXCSR_MASK 28
#define FXS_ST(n)  (32 + 16 * (n))
#define FXS_XMM(n) (160 + 16 * (n))
#define XSAVE_HDR  512

typedef union XMMReg {
    uint8_t b[16];
    int8_t sb[16];
    uint16_t w[8];
    int16_t sw[8];
    uint32_t l[4];
    int32_t sl[4];
    uint64_t q[2];
    int64_t sq[2];
    float s[4];
    double d[2];
    __m128i v;
} XMMReg;

typedef union FPReg {
    long double ld;
    struct {
        uint64_t mant;
        uint16_t sexp;          /* sign << 15 | biased exponent */
    } r;
    uint8_t raw[16];
} FPReg;

typedef struct TCGLFPU {
    XMMReg xmm[16];
    FPReg fpr[8];               /* physical x87 registers R0-R7 */
    uint32_t mxcsr;
    uint16_t fcw;
    uint16_t fsw;               /* status word with the TOP field clear (see top) */
    uint16_t fop;
    uint8_t top;
    uint8_t ftw;                /* abridged tag: bit i set = R_i not empty */
    uint64_t fip, fdp;
    uint16_t fcs, fds;
    /* The x87 -> MMX transition of the instruction at mmx_undo_rip, to
     * undo if that instruction faults (tcgl_mmx_fault_undo).  c->insns
     * then: it moves at every block end, and at a fault's delivery too
     * by the time the guest can run that rip again, so a record left by
     * an instruction that completed never matches a later fault there. */
    uint64_t mmx_undo_rip, mmx_undo_insns;
    uint8_t mmx_undo_top, mmx_undo_ftw;
    bool mmx_undo;
} TCGLFPU;

static inline TCGLFPU *tcgl_fpu(TCGLCPU *c)
{
    return (TCGLFPU *)c->fpu;
}

/* ---- the entry checks ---------------------------------------------------- */

/* #UD / #NM for an SSE instruction (slow path, fpu.c). */
__attribute__((noreturn)) void tcgl_sse_unavailable(TCGLCPU *c);
/* #UD / #NM / #MF for an MMX instruction (slow path, fpu.c); returns
 * when a pending x87 exception is not reported (CR0.NE = 0). */
void tcgl_mmx_unavailable(TCGLCPU *c);

/* SSE: #UD when CR0.EM or !CR4.OSFXSR, #NM when CR0.TS. */
static inline TCGLFPU *sse_enter(TCGLCPU *c)
{
    if (unlikely((c->env->cr0 & (TCGL_CR0_EM | TCGL_CR0_TS)) ||
                 !(c->env->cr4 & TCGL_CR4_OSFXSR))) {
        tcgl_sse_unavailable(c);
    }
    return tcgl_fpu(c);
}

/* MMX: #UD when CR0.EM, #NM when CR0.TS, #MF for a pending x87
 * exception; then the x87 -> MMX transition (TOP = 0, all tags valid). */
static inline TCGLFPU *mmx_enter(TCGLCPU *c)
{
    TCGLFPU *f = tcgl_fpu(c);
    if (unlikely((c->env->cr0 & (TCGL_CR0_EM | TCGL_CR0_TS)) || (f->fsw & FSW_ES))) {
        tcgl_mmx_unavailable(c);
    }
    f->mmx_undo = true;
    f->mmx_undo_rip = c->env->rip;
    f->mmx_undo_insns = c->insns;
    f->mmx_undo_top = f->top;
    f->mmx_undo_ftw = f->ftw;
    f->top = 0;
    f->ftw = 0xff;
    return f;
}

/* A fault (#PF, #GP, #AC, #XM...) in an MMX instruction after its
 * transition: the instruction has no effect, TOP and the tags stay as
 * they were (silicon; tcgl-diff random "packssdw mm0, [r15+...]" with an
 * unmapped operand).  #XM (CVTPS2PI) and a fault in MASKMOVQ's store keep
 * the transition, as the silicon does.  The execution loop calls this
 * for every fault; the record applies only to the same run of that
 * instruction (its rip and c->insns; blocks chained in compiled code do
 * not pass the executor's tcgl_mmx_undo_forget). */
static inline void tcgl_mmx_fault_undo(TCGLCPU *c)
{
    TCGLFPU *f = tcgl_fpu(c);
    if (f && f->mmx_undo && f->mmx_undo_rip == c->env->rip && f->mmx_undo_insns == c->insns &&
        c->event.vector != TCGL_EXC_XM) {
        f->top = f->mmx_undo_top;
        f->ftw = f->mmx_undo_ftw;
    }
    if (f) {
        f->mmx_undo = false;
    }
}

static inline void tcgl_mmx_undo_forget(TCGLCPU *c)
{
    TCGLFPU *f = tcgl_fpu(c);
    if (f) {
        f->mmx_undo = false;
    }
}

static inline uint64_t mmx_get(const TCGLFPU *f, unsigned n)
{
    return f->fpr[n & 7].r.mant;
}

static inline void mmx_set(TCGLFPU *f, unsigned n, uint64_t v)
{
    f->fpr[n & 7].r.mant = v;
    f->fpr[n & 7].r.sexp = 0xffff;
}

/* Linear address alignment of a memory operand (segment base included). */
static inline bool tcgl_misaligned(const TCGLCPU *c, const TCGLInsn *i, uint64_t ea,
                                   unsigned align)
{
    return ((c->seg_base[i->seg] + ea) & (align - 1)) != 0;
}

/* ---- state sync and shared pieces (fpu.c) -------------------------------- */

void tcgl_fpu_reset(TCGLFPU *f);                 /* FNINIT + MXCSR + XMM cleared */
void tcgl_fpu_finit(TCGLFPU *f);                 /* FNINIT */
uint16_t tcgl_fpu_get_fsw(const TCGLFPU *f);     /* with TOP */
uint8_t tcgl_fpu_full_tag(const TCGLFPU *f, unsigned phys);   /* 0 valid 1 zero 2 special 3 empty */
uint16_t tcgl_fpu_get_ftw(const TCGLFPU *f);     /* full tag word */
void tcgl_fpu_set_ftw(TCGLFPU *f, uint16_t ftw); /* from a full tag word */
/* FXSAVE image (512 bytes) from / to the working state; rex_w picks the
 * 64-bit FIP/FDP layout, nxmm the XMM registers included. */
void tcgl_fxsave_image(const TCGLFPU *f, uint8_t *img, bool rex_w, unsigned nxmm, bool x87,
                       bool sse);
void tcgl_fxrstor_image(TCGLFPU *f, const uint8_t *img, bool rex_w, unsigned nxmm, bool x87,
                        bool sse);

#endif

/*
 * tcg-lite part "fp": inline helpers of the SSE handlers (sse.c, sse4.c).
 */
#ifndef KVMPC_TCGL_SSE_OPS_H
#define KVMPC_TCGL_SSE_OPS_H

#include "fp.h"

/* The host address of a 16-byte operand when the TLB has the page of its
 * last byte and the segment allows it (tcgl_ld_buf()/tcgl_st_buf()'s own
 * fast path, without their call and variable-size copy); else NULL.  One
 * that crosses into the next page misses: the entry is the first byte's. */
static inline __attribute__((always_inline)) void *
sse_fast16(TCGLCPU *c, int seg, uint64_t off, bool write)
{
    if ((int64_t)(off + 15) <= (write ? c->seg_wlim[seg] : c->seg_rlim[seg])) {
        uint64_t lin = (c->seg_base[seg] + off) & c->lin_mask;
        const TCGLTLBEntry *e = &c->tlb[c->mmu_idx][(lin >> TCGL_PAGE_BITS) &
                                                     (TCGL_TLB_SIZE - 1)];
        if ((write ? e->tag_write : e->tag_read) == ((lin + 15) & TCGL_PAGE_MASK)) {
            return (void *)(uintptr_t)(lin + e->addend);
        }
    }
    return NULL;
}

/* Loads a memory operand of `size` bytes (16, 8, 4, 2) zero-extended to
 * 128 bits; a 16-byte operand of an aligned form is #GP(0) when
 * misaligned.  size and align are constants at every call. */
static inline __attribute__((always_inline)) __m128i
sse_ldm(TCGLCPU *c, const TCGLInsn *i, unsigned size, bool align)
{
    uint64_t ea = tcgl_ea(c, i);
    XMMReg t;

    switch (size) {
    case 16:
        if (align && unlikely(tcgl_misaligned(c, i, ea, 16))) {
            tcgl_raise(c, TCGL_EXC_GP, 0);
        }
        {
            const void *p = sse_fast16(c, i->seg, ea, false);
            if (likely(p)) {
                return _mm_loadu_si128((const __m128i *)p);
            }
        }
        tcgl_ld_buf(c, i->seg, ea, &t, 16);
        return t.v;
    case 8:
        return _mm_cvtsi64_si128(tcgl_ldq(c, i->seg, ea));
    case 4:
        return _mm_cvtsi32_si128(tcgl_ldl(c, i->seg, ea));
    default:
        return _mm_cvtsi32_si128(tcgl_ldw(c, i->seg, ea));
    }
}

/* Stores the low `size` bytes of x to the memory operand. */
static inline __attribute__((always_inline)) void
sse_stm(TCGLCPU *c, const TCGLInsn *i, const XMMReg *x, unsigned size, bool align)
{
    uint64_t ea = tcgl_ea(c, i);

    switch (size) {
    case 16:
        if (align && unlikely(tcgl_misaligned(c, i, ea, 16))) {
            tcgl_raise(c, TCGL_EXC_GP, 0);
        }
        {
            void *p = sse_fast16(c, i->seg, ea, true);
            if (likely(p)) {
                _mm_storeu_si128((__m128i *)p, x->v);
                break;
            }
        }
        tcgl_st_buf(c, i->seg, ea, x, 16);
        break;
    case 8:
        tcgl_stq(c, i->seg, ea, x->q[0]);
        break;
    case 4:
        tcgl_stl(c, i->seg, ea, x->l[0]);
        break;
    default:
        tcgl_stw(c, i->seg, ea, x->w[0]);
        break;
    }
}

/* MXCSR access as volatile asm: the compiler keeps volatile asms in
 * order, which it does not guarantee between them and the
 * _mm_getcsr/_mm_setcsr builtins (it moved a STMXCSR above the
 * operation it was to observe). */
static inline uint32_t host_stmxcsr(void)
{
    uint32_t v;
    __asm__ volatile("stmxcsr %0" : "=m" (v));
    return v;
}

static inline void host_ldmxcsr(uint32_t v)
{
    __asm__ volatile("ldmxcsr %0" : : "m" (v));
}

/*
 * Host MXCSR around a floating-point operation: the guest's RC, DAZ and
 * FTZ with every exception masked and no flag set.  The operation itself
 * is a volatile asm between the two.  LDMXCSR is the costly part, so it
 * is skipped when the host already has the wanted value (the usual
 * guest MXCSR 0x1f80 with no flag pending) and, after, when nothing
 * changed.
 */
static inline uint32_t sse_fp_begin(const TCGLFPU *f)
{
    uint32_t host = host_stmxcsr();
    uint32_t want = (f->mxcsr & (MXCSR_RC | MXCSR_DAZ | MXCSR_FTZ)) | MXCSR_MASKS;
    if (host != want) {
        host_ldmxcsr(want);
    }
    return host;
}

/* Restores the host MXCSR; returns the exception flags raised (the
 * operation started with none set). */
static inline uint32_t sse_fp_end(uint32_t host)
{
    uint32_t out = host_stmxcsr();
    if (out != host) {
        host_ldmxcsr(host);
    }
    return out & MXCSR_FLAGS;
}

/* Merges raised flags e into the guest MXCSR; faults (#XM, #UD) when one
 * is unmasked.  The fast path: nothing raised that is not already set
 * and masked. */
void tcgl_sse_fp_exception(TCGLCPU *c, TCGLFPU *f, uint32_t e);

static inline void sse_fp_check(TCGLCPU *c, TCGLFPU *f, uint32_t e)
{
    if (unlikely(e & ~(f->mxcsr & (f->mxcsr >> 7)))) {
        tcgl_sse_fp_exception(c, f, e);
    }
}

/*
 * The register and memory handlers of an "xmm, xmm/m" operation written
 * once as an inline function op(c, f, dst, src, insn): name_r takes the
 * source from XMM rm, name_m from memory (size bytes, aligned or not).
 */
#define SSE_RM(op, size, align)                                                 \
static void op##_r(TCGLCPU *c, const TCGLInsn *i)                              \
{                                                                               \
    TCGLFPU *f = sse_enter(c);                                                  \
    op(c, f, &f->xmm[i->reg], f->xmm[i->rm].v, i);                              \
}                                                                               \
static void op##_m(TCGLCPU *c, const TCGLInsn *i)                              \
{                                                                               \
    TCGLFPU *f = sse_enter(c);                                                  \
    __m128i s = sse_ldm(c, i, size, align);                                     \
    op(c, f, &f->xmm[i->reg], s, i);                                            \
}

#endif

/*
 * tcg-lite part "mmu": the inline fast paths of the memory accesses.
 *
 * A handler that includes this header gets the TLB-hit path inlined
 * (tcgl_ldl_inl() and friends); the out-of-line loads and stores of tcgl.h
 * are the same code wrapped in a function.  Everything that is not a hit (segment slow cases, TLB miss,
 * MMIO/ROM/dirty-tracked pages, page crossing, alignment check) goes to
 * tcgl_mmu_ld_slow/tcgl_mmu_st_slow in mmu.c, which redo every check.
 *
 * The hit test of an access of `size` bytes at linear address lin:
 *     entry = tlb[mmu_idx][(lin >> 12) & (TCGL_TLB_SIZE - 1)]
 *     entry.tag == (lin + size - 1) & TCGL_PAGE_MASK
 * An access that crosses into the next page never matches (the next page
 * has the next slot), so one compare checks the page and the crossing.
 * Tags of entries that need the slow path carry TCGL_TLB_SLOW (access
 * allowed, but go through the memory API) or TCGL_TLB_INVALID.
 */
#ifndef KVMPC_TCGL_MMU_H
#define KVMPC_TCGL_MMU_H

#include <string.h>
#include "tcgl.h"

/* Low bits of a tag (a tag is otherwise a page-aligned linear address). */
#define TCGL_TLB_SLOW    2ULL       /* translated and allowed: use the memory API on phys */
#define TCGL_TLB_FLAGS   3ULL       /* TCGL_TLB_INVALID | TCGL_TLB_SLOW */

#define TCGL_MMU_RFLAGS_AC (1ULL << 18)
#define TCGL_MMU_CR0_AM    (1ULL << 18)

static inline TCGL_ALWAYS_INLINE TCGLTLBEntry *tcgl_tlb_entry(TCGLCPU *c, int mmu_idx, uint64_t lin)
{
    return &c->tlb[mmu_idx][(lin >> TCGL_PAGE_BITS) & (TCGL_TLB_SIZE - 1)];
}

/* Alignment checking is on (CR0.AM, RFLAGS.AC, CPL 3). */
static inline TCGL_ALWAYS_INLINE bool tcgl_ac_on(const TCGLCPU *c)
{
    return (c->env->rflags & TCGL_MMU_RFLAGS_AC) && c->mmu_idx == TCGL_MMU_USER &&
           (c->env->cr0 & TCGL_MMU_CR0_AM);
}

/* Page walks done so far (a debug counter for tests and profiling). */
extern uint64_t tcgl_mmu_walks;

/* The slow paths (mmu.c): every check, faults raised. */
uint64_t tcgl_mmu_ld_slow(TCGLCPU *c, int seg, uint64_t off, unsigned size);
void tcgl_mmu_st_slow(TCGLCPU *c, int seg, uint64_t off, unsigned size, uint64_t v);

/* Host address of a hit, or NULL (size 1, 2, 4, 8 or 16). */
static inline TCGL_ALWAYS_INLINE void *tcgl_hit_read(TCGLCPU *c, int seg, uint64_t off, unsigned size)
{
    if (likely((int64_t)(off + size - 1) <= c->seg_rlim[seg])) {
        uint64_t lin = (c->seg_base[seg] + off) & c->lin_mask;
        const TCGLTLBEntry *e = tcgl_tlb_entry(c, c->mmu_idx, lin);
        if (likely(e->tag_read == ((lin + size - 1) & TCGL_PAGE_MASK)) &&
            likely(!(lin & (size - 1)) || !tcgl_ac_on(c))) {
            return (void *)(uintptr_t)(lin + e->addend);
        }
    }
    return NULL;
}

static inline TCGL_ALWAYS_INLINE void *tcgl_hit_write(TCGLCPU *c, int seg, uint64_t off, unsigned size)
{
    if (likely((int64_t)(off + size - 1) <= c->seg_wlim[seg])) {
        uint64_t lin = (c->seg_base[seg] + off) & c->lin_mask;
        const TCGLTLBEntry *e = tcgl_tlb_entry(c, c->mmu_idx, lin);
        if (likely(e->tag_write == ((lin + size - 1) & TCGL_PAGE_MASK)) &&
            likely(!(lin & (size - 1)) || !tcgl_ac_on(c))) {
            return (void *)(uintptr_t)(lin + e->addend);
        }
    }
    return NULL;
}

#define TCGL_MMU_DEFINE_LD(name, type, size)                                \
    static inline TCGL_ALWAYS_INLINE type name(TCGLCPU *c, int seg, uint64_t off)             \
    {                                                                       \
        if (likely((int64_t)(off + (size) - 1) <= c->seg_rlim[seg])) {      \
            uint64_t lin = (c->seg_base[seg] + off) & c->lin_mask;          \
            const TCGLTLBEntry *e = tcgl_tlb_entry(c, c->mmu_idx, lin);     \
            if (likely(e->tag_read == ((lin + (size) - 1) & TCGL_PAGE_MASK)) && \
                likely(!(lin & ((size) - 1)) || !tcgl_ac_on(c))) {          \
                type v;                                                     \
                memcpy(&v, (const void *)(uintptr_t)(lin + e->addend), size); \
                return v;                                                   \
            }                                                               \
        }                                                                   \
        return (type)tcgl_mmu_ld_slow(c, seg, off, size);                   \
    }

#define TCGL_MMU_DEFINE_ST(name, type, size)                                \
    static inline TCGL_ALWAYS_INLINE void name(TCGLCPU *c, int seg, uint64_t off, type v)     \
    {                                                                       \
        if (likely((int64_t)(off + (size) - 1) <= c->seg_wlim[seg])) {      \
            uint64_t lin = (c->seg_base[seg] + off) & c->lin_mask;          \
            const TCGLTLBEntry *e = tcgl_tlb_entry(c, c->mmu_idx, lin);     \
            if (likely(e->tag_write == ((lin + (size) - 1) & TCGL_PAGE_MASK)) && \
                likely(!(lin & ((size) - 1)) || !tcgl_ac_on(c))) {          \
                memcpy((void *)(uintptr_t)(lin + e->addend), &v, size);     \
                return;                                                     \
            }                                                               \
        }                                                                   \
        tcgl_mmu_st_slow(c, seg, off, size, v);                             \
    }

TCGL_MMU_DEFINE_LD(tcgl_ldb_inl, uint8_t, 1)
TCGL_MMU_DEFINE_LD(tcgl_ldw_inl, uint16_t, 2)
TCGL_MMU_DEFINE_LD(tcgl_ldl_inl, uint32_t, 4)
TCGL_MMU_DEFINE_LD(tcgl_ldq_inl, uint64_t, 8)
TCGL_MMU_DEFINE_ST(tcgl_stb_inl, uint8_t, 1)
TCGL_MMU_DEFINE_ST(tcgl_stw_inl, uint16_t, 2)
TCGL_MMU_DEFINE_ST(tcgl_stl_inl, uint32_t, 4)
TCGL_MMU_DEFINE_ST(tcgl_stq_inl, uint64_t, 8)

/* By size (1, 2, 4, 8); a constant size folds to one of the above. */
static inline TCGL_ALWAYS_INLINE uint64_t tcgl_ld_inl(TCGLCPU *c, int seg, uint64_t off, unsigned size)
{
    switch (size) {
    case 1: return tcgl_ldb_inl(c, seg, off);
    case 2: return tcgl_ldw_inl(c, seg, off);
    case 4: return tcgl_ldl_inl(c, seg, off);
    default: return tcgl_ldq_inl(c, seg, off);
    }
}

static inline TCGL_ALWAYS_INLINE void tcgl_st_inl(TCGLCPU *c, int seg, uint64_t off, unsigned size, uint64_t v)
{
    switch (size) {
    case 1: tcgl_stb_inl(c, seg, off, (uint8_t)v); break;
    case 2: tcgl_stw_inl(c, seg, off, (uint16_t)v); break;
    case 4: tcgl_stl_inl(c, seg, off, (uint32_t)v); break;
    default: tcgl_stq_inl(c, seg, off, v); break;
    }
}

#endif

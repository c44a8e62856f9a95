/*
 * tcg-lite integer handlers: inline helpers shared by int-*.c (private to
 * the core part).  Sizes passed as constants fold away in the specialised
 * handlers.
 */
#ifndef KVMPC_TCGL_INT_H
#define KVMPC_TCGL_INT_H

#include "flags.h"
#include "mmu.h"

#define EXC_DE 0
#define EXC_UD 6
#define EXC_BR 5
#define EXC_GP 13

/* Memory operands: the TLB-hit path inlined (mmu.h), misses out of line. */
static inline TCGL_ALWAYS_INLINE uint64_t ld_sz(TCGLCPU *c, int seg, uint64_t off, unsigned size)
{
    return tcgl_ld_inl(c, seg, off, size);
}

static inline TCGL_ALWAYS_INLINE void st_sz(TCGLCPU *c, int seg, uint64_t off, unsigned size, uint64_t v)
{
    tcgl_st_inl(c, seg, off, size, v);
}

/* Host pointer for a read-modify-write, or NULL (split across pages, MMIO). */
static inline TCGL_ALWAYS_INLINE void *rmw_ptr(TCGLCPU *c, int seg, uint64_t off, unsigned size)
{
    void *p = tcgl_hit_write(c, seg, off, size);
    return likely(p != NULL) ? p : tcgl_rmw_ptr(c, seg, off, size);
}

static inline TCGL_ALWAYS_INLINE uint64_t host_ld(const void *p, unsigned size)
{
    switch (size) {
    case 1: return *(const uint8_t *)p;
    case 2: { uint16_t v; __builtin_memcpy(&v, p, 2); return v; }
    case 4: { uint32_t v; __builtin_memcpy(&v, p, 4); return v; }
    default: { uint64_t v; __builtin_memcpy(&v, p, 8); return v; }
    }
}

static inline TCGL_ALWAYS_INLINE void host_st(void *p, unsigned size, uint64_t v)
{
    switch (size) {
    case 1: *(uint8_t *)p = (uint8_t)v; break;
    case 2: { uint16_t x = (uint16_t)v; __builtin_memcpy(p, &x, 2); break; }
    case 4: { uint32_t x = (uint32_t)v; __builtin_memcpy(p, &x, 4); break; }
    default: __builtin_memcpy(p, &v, 8); break;
    }
}

/* r/m operand read at a run-time size (the less common handlers). */
static inline TCGL_ALWAYS_INLINE uint64_t rm_read(TCGLCPU *c, const TCGLInsn *i, unsigned size)
{
    if (i->mod == 3) {
        return tcgl_reg_get(c, i->rm, size);
    }
    return ld_sz(c, i->seg, tcgl_ea(c, i), size);
}

static inline void rm_write(TCGLCPU *c, const TCGLInsn *i, unsigned size, uint64_t v)
{
    if (i->mod == 3) {
        tcgl_reg_set(c, i->rm, size, v);
    } else {
        st_sz(c, i->seg, tcgl_ea(c, i), size, v);
    }
}

/* Read-modify-write of the r/m operand at the decoded size with expr_of_a (a names the
 * old value; the store comes after all checks, as RMW must). */
#define RMW_RM(c, i, size, expr_of_a) do {                                   \
        if ((i)->mod == 3) {                                                 \
            uint64_t a = tcgl_reg_get(c, (i)->rm, size);                     \
            tcgl_reg_set(c, (i)->rm, size, expr_of_a);                       \
        } else {                                                             \
            uint64_t ea_ = tcgl_ea(c, i);                                    \
            void *p_ = rmw_ptr(c, (i)->seg, ea_, size);                         \
            if (p_) {                                                        \
                uint64_t a = host_ld(p_, size);                              \
                host_st(p_, size, expr_of_a);                                \
            } else {                                                         \
                uint64_t a;                                                  \
                tcgl_probe_write(c, (i)->seg, ea_, size);                    \
                a = ld_sz(c, (i)->seg, ea_, size);                           \
                st_sz(c, (i)->seg, ea_, size, expr_of_a);                    \
            }                                                                \
        }                                                                    \
    } while (0)

/* Sets CF, keeps the other arithmetic flags. */
static inline void set_cf(TCGLCPU *c, bool cf)
{
    uint32_t f = tcgl_arith_flags(c);
    tcgl_set_arith(c, (f & ~CC_C) | (cf ? CC_C : 0));
}

/* ---- the stack ---------------------------------------------------------- */

static inline uint64_t sp_mask(const TCGLCPU *c)
{
    return (c->hflags & TCGL_HF_CS64) ? ~0ULL : (c->hflags & TCGL_HF_SS32) ? 0xffffffffULL
                                                                          : 0xffffULL;
}

/* Writes the new stack pointer keeping the bits above the stack size. */
static inline void sp_set(TCGLCPU *c, uint64_t sp)
{
    uint64_t m = sp_mask(c);
    uint64_t *r = &c->env->regs[R_ESP];
    if (m == ~0ULL) {
        *r = sp;
    } else if (m == 0xffffffffULL) {
        *r = (uint32_t)sp;
    } else {
        *r = (*r & ~0xffffULL) | (sp & 0xffff);
    }
}

/* Pushes without touching RSP; returns the new stack pointer (the store
 * comes first so a fault leaves RSP as it was). */
static inline uint64_t push_at(TCGLCPU *c, uint64_t sp, unsigned size, uint64_t v)
{
    sp = (sp - size) & sp_mask(c);
    st_sz(c, R_SS, sp, size, v);
    return sp;
}

static inline void push(TCGLCPU *c, unsigned size, uint64_t v)
{
    sp_set(c, push_at(c, c->env->regs[R_ESP], size, v));
}

static inline uint64_t pop(TCGLCPU *c, unsigned size)
{
    uint64_t sp = c->env->regs[R_ESP] & sp_mask(c);
    uint64_t v = ld_sz(c, R_SS, sp, size);
    sp_set(c, sp + size);
    return v;
}

/* The next instruction's address, wrapped to the code size. */
static inline uint64_t next_ip(const TCGLCPU *c, const TCGLInsn *i)
{
    uint64_t ip = c->env->rip + i->len;
    return (c->hflags & TCGL_HF_CS64) ? ip : (c->hflags & TCGL_HF_CS32) ? (uint32_t)ip
                                                                        : (uint16_t)ip;
}

/* A near branch target at operand size: 16-bit truncates, 32-bit outside
 * 64-bit mode wraps at 4 GiB. */
static inline void jump_to(TCGLCPU *c, const TCGLInsn *i, uint64_t target)
{
    if (i->opsize == 2) {
        target &= 0xffff;
    } else if (!(c->hflags & TCGL_HF_CS64)) {
        target &= 0xffffffffULL;
    }
    c->env->rip = target;
}

#endif

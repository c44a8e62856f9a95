/*
 * tcg-lite string instructions: MOVS, CMPS, STOS, LODS, SCAS with and
 * without REP/REPE/REPNE, DF, and 16/32/64-bit addressing.
 *
 * A REP form works in chunks: at most one page's worth of elements per
 * call, then it leaves env->rip on itself when rCX is not yet zero, so the
 * executor takes interrupts between chunks and the instruction resumes.
 * REP MOVS and REP STOS copy a run of elements that stays within one page
 * of source and destination (either direction) through host pointers
 * (tcgl_lin_ptr); everything else (MMIO, page crossings, segment checks
 * that need the slow path) goes element by element.
 */
#include <string.h>
#include "int.h"
#include "int-ops.h"

#define CHUNK_BYTES TCGL_PAGE_SIZE

static inline int64_t str_step(const TCGLCPU *c, unsigned s)
{
    return (c->env->rflags & RFLAGS_DF) ? -(int64_t)s : (int64_t)s;
}

static inline void adv(TCGLCPU *c, int reg, unsigned as, int64_t d)
{
    tcgl_reg_set(c, reg, as, c->env->regs[reg] + (uint64_t)d);
}

/* One element of each instruction. */
static inline void movs1(TCGLCPU *c, const TCGLInsn *i, unsigned s, unsigned as)
{
    uint64_t m = tcgl_size_mask(as);
    uint64_t v = ld_sz(c, i->seg, c->env->regs[R_ESI] & m, s);
    st_sz(c, R_ES, c->env->regs[R_EDI] & m, s, v);
    adv(c, R_ESI, as, str_step(c, s));
    adv(c, R_EDI, as, str_step(c, s));
}

static inline void stos1(TCGLCPU *c, unsigned s, unsigned as)
{
    st_sz(c, R_ES, c->env->regs[R_EDI] & tcgl_size_mask(as), s, tcgl_reg_get(c, R_EAX, s));
    adv(c, R_EDI, as, str_step(c, s));
}

static inline void lods1(TCGLCPU *c, const TCGLInsn *i, unsigned s, unsigned as)
{
    tcgl_reg_set(c, R_EAX, s, ld_sz(c, i->seg, c->env->regs[R_ESI] & tcgl_size_mask(as), s));
    adv(c, R_ESI, as, str_step(c, s));
}

static inline void cmps1(TCGLCPU *c, const TCGLInsn *i, unsigned s, unsigned as)
{
    uint64_t m = tcgl_size_mask(as), sm = tcgl_size_mask(s);
    uint64_t a = ld_sz(c, i->seg, c->env->regs[R_ESI] & m, s);
    uint64_t b = ld_sz(c, R_ES, c->env->regs[R_EDI] & m, s);
    tcgl_cc_set(c, TCGL_CC(CC_K_SUB, s), (a - b) & sm, b);
    adv(c, R_ESI, as, str_step(c, s));
    adv(c, R_EDI, as, str_step(c, s));
}

static inline void scas1(TCGLCPU *c, unsigned s, unsigned as)
{
    uint64_t sm = tcgl_size_mask(s);
    uint64_t a = tcgl_reg_get(c, R_EAX, s);
    uint64_t b = ld_sz(c, R_ES, c->env->regs[R_EDI] & tcgl_size_mask(as), s);
    tcgl_cc_set(c, TCGL_CC(CC_K_SUB, s), (a - b) & sm, b);
    adv(c, R_EDI, as, str_step(c, s));
}

/* ---- without REP ---------------------------------------------------------------- */

void tcgl_int_movs(TCGLCPU *c, const TCGLInsn *i) { movs1(c, i, i->opsize, i->adsize); }
void tcgl_int_stos(TCGLCPU *c, const TCGLInsn *i) { stos1(c, i->opsize, i->adsize); }
void tcgl_int_lods(TCGLCPU *c, const TCGLInsn *i) { lods1(c, i, i->opsize, i->adsize); }
void tcgl_int_cmps(TCGLCPU *c, const TCGLInsn *i) { cmps1(c, i, i->opsize, i->adsize); }
void tcgl_int_scas(TCGLCPU *c, const TCGLInsn *i) { scas1(c, i->opsize, i->adsize); }

/* ---- REP ---------------------------------------------------------------------------- */

/* Ends a REP chunk: done (rCX = 0 or the REPE/REPNE condition ended it):
 * on to the next instruction; else stay on this one. */
static inline void rep_end(TCGLCPU *c, const TCGLInsn *i, bool done)
{
    if (done) {
        c->env->rip = next_ip(c, i);
    }
}

/* Whether [off, off+len) of segment seg passes the fast-path limit check.
 * In 64-bit mode (limit INT64_MAX, as seg.c sets it) there is no limit:
 * an offset with bit 63 set (every kernel address) passes, as in mmu.h's
 * signed comparison. */
static inline bool seg_ok(const TCGLCPU *c, int seg, uint64_t off, uint64_t len, bool write)
{
    int64_t lim = write ? c->seg_wlim[seg] : c->seg_rlim[seg];
    if (lim == INT64_MAX) {
        return true;
    }
    return lim >= 0 && off + len - 1 >= off && off + len - 1 <= (uint64_t)lim;
}

/* Elements of size s from lin in direction DF that stay within lin's page
 * (0 if the first one crosses its end). */
static inline uint64_t page_room(uint64_t lin, unsigned s, bool down)
{
    uint64_t in = lin & (TCGL_PAGE_SIZE - 1);
    if (in + s > TCGL_PAGE_SIZE) {
        return 0;
    }
    return down ? in / s + 1 : (TCGL_PAGE_SIZE - in) / s;
}

/* A run of n elements starting at offset off (downwards with DF): its
 * lowest offset, or false if it wraps the address size. */
static inline bool run_low(uint64_t off, uint64_t n, unsigned s, bool down, uint64_t m,
                           uint64_t *low)
{
    uint64_t bytes = n * s;
    if (down) {
        if (off < (n - 1) * s) {
            return false;
        }
        *low = off - (n - 1) * s;
    } else {
        *low = off;
    }
    return !((*low + bytes - 1) & ~m);
}

/* Fast REP MOVS: returns the elements moved (0: take the slow path). */
static uint64_t movs_fast(TCGLCPU *c, const TCGLInsn *i, unsigned s, unsigned as, uint64_t cnt)
{
    const bool down = c->env->rflags & RFLAGS_DF;
    uint64_t m = tcgl_size_mask(as);
    uint64_t si = c->env->regs[R_ESI] & m, di = c->env->regs[R_EDI] & m, n, bytes;
    uint64_t ls, ld, slo, dlo;
    uint8_t *src, *dst;

    ls = (c->seg_base[i->seg] + si) & c->lin_mask;
    ld = (c->seg_base[R_ES] + di) & c->lin_mask;
    n = cnt;
    n = n < page_room(ls, s, down) ? n : page_room(ls, s, down);
    n = n < page_room(ld, s, down) ? n : page_room(ld, s, down);
    bytes = n * s;
    if (n == 0 || !run_low(si, n, s, down, m, &slo) || !run_low(di, n, s, down, m, &dlo) ||
        !seg_ok(c, i->seg, slo, bytes, false) || !seg_ok(c, R_ES, dlo, bytes, true)) {
        return 0;
    }
    src = tcgl_lin_ptr(c, (c->seg_base[i->seg] + slo) & c->lin_mask, (unsigned)bytes,
                       TCGL_ACC_READ);
    if (!src) {
        return 0;
    }
    dst = tcgl_lin_ptr(c, (c->seg_base[R_ES] + dlo) & c->lin_mask, (unsigned)bytes,
                       TCGL_ACC_WRITE);
    if (!dst) {
        return 0;
    }
    if (dst < src + bytes && src < dst + bytes && (down ? dst < src : dst > src)) {
        /* overlap where the order of elements shows (the pattern-fill
         * idiom): one element at a time, each read before it is written */
        if (down) {
            for (uint64_t k = n; k-- > 0; ) {
                memmove(dst + k * s, src + k * s, s);
            }
        } else {
            for (uint64_t k = 0; k < n; k++) {
                memmove(dst + k * s, src + k * s, s);
            }
        }
    } else {
        memmove(dst, src, bytes);
    }
    tcgl_reg_set(c, R_ESI, as, down ? si - bytes : si + bytes);
    tcgl_reg_set(c, R_EDI, as, down ? di - bytes : di + bytes);
    return n;
}

static uint64_t stos_fast(TCGLCPU *c, unsigned s, unsigned as, uint64_t cnt)
{
    const bool down = c->env->rflags & RFLAGS_DF;
    uint64_t m = tcgl_size_mask(as);
    uint64_t di = c->env->regs[R_EDI] & m, n, bytes, v, ld, dlo;
    uint8_t *dst;

    ld = (c->seg_base[R_ES] + di) & c->lin_mask;
    n = cnt < page_room(ld, s, down) ? cnt : page_room(ld, s, down);
    bytes = n * s;
    if (n == 0 || !run_low(di, n, s, down, m, &dlo) || !seg_ok(c, R_ES, dlo, bytes, true)) {
        return 0;
    }
    dst = tcgl_lin_ptr(c, (c->seg_base[R_ES] + dlo) & c->lin_mask, (unsigned)bytes,
                       TCGL_ACC_WRITE);
    if (!dst) {
        return 0;
    }
    v = tcgl_reg_get(c, R_EAX, s);
    if (s == 1) {
        memset(dst, (int)v, bytes);
    } else {
        for (uint64_t k = 0; k < n; k++) {
            host_st(dst + k * s, s, v);
        }
    }
    tcgl_reg_set(c, R_EDI, as, down ? di - bytes : di + bytes);
    return n;
}

/* The element at lin (size s, direction DF) straddles a page boundary:
 * the fast paths stop there (page_room() is 0). */
static inline bool crosses(uint64_t lin, unsigned s)
{
    return (lin & (TCGL_PAGE_SIZE - 1)) + s > TCGL_PAGE_SIZE;
}

void tcgl_int_rep_movs(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned s = i->opsize, as = i->adsize;
    uint64_t cnt = tcgl_reg_get(c, R_ECX, as), n, m = tcgl_size_mask(as);

    if (cnt == 0) {
        rep_end(c, i, true);
        return;
    }
    if (s > 1 && (crosses((c->seg_base[i->seg] + (c->env->regs[R_ESI] & m)) & c->lin_mask, s) ||
                  crosses((c->seg_base[R_ES] + (c->env->regs[R_EDI] & m)) & c->lin_mask, s))) {
        /* a misaligned MOVSQ/D/W at a page end (Linux copies unaligned
         * buffers so): this one element by the slow path, the rest of
         * the chunk fast, not CHUNK_BYTES of elements one at a time */
        movs1(c, i, s, as);
        tcgl_reg_set(c, R_ECX, as, --cnt);
        if (cnt == 0) {
            rep_end(c, i, true);
            return;
        }
    }
    n = movs_fast(c, i, s, as, cnt);
    if (n) {
        cnt -= n;
        tcgl_reg_set(c, R_ECX, as, cnt);
    } else {
        for (unsigned k = 0; k < CHUNK_BYTES / s && cnt; k++) {
            movs1(c, i, s, as);
            tcgl_reg_set(c, R_ECX, as, --cnt);
        }
    }
    rep_end(c, i, cnt == 0);
}

void tcgl_int_rep_stos(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned s = i->opsize, as = i->adsize;
    uint64_t cnt = tcgl_reg_get(c, R_ECX, as), n;

    if (cnt == 0) {
        rep_end(c, i, true);
        return;
    }
    if (s > 1 && crosses((c->seg_base[R_ES] + (c->env->regs[R_EDI] & tcgl_size_mask(as))) &
                         c->lin_mask, s)) {
        stos1(c, s, as);                /* as for MOVS above */
        tcgl_reg_set(c, R_ECX, as, --cnt);
        if (cnt == 0) {
            rep_end(c, i, true);
            return;
        }
    }
    n = stos_fast(c, s, as, cnt);
    if (n) {
        cnt -= n;
        tcgl_reg_set(c, R_ECX, as, cnt);
    } else {
        for (unsigned k = 0; k < CHUNK_BYTES / s && cnt; k++) {
            stos1(c, s, as);
            tcgl_reg_set(c, R_ECX, as, --cnt);
        }
    }
    rep_end(c, i, cnt == 0);
}

void tcgl_int_rep_lods(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned s = i->opsize, as = i->adsize;
    uint64_t cnt = tcgl_reg_get(c, R_ECX, as);

    for (unsigned k = 0; k < CHUNK_BYTES / s && cnt; k++) {
        lods1(c, i, s, as);
        tcgl_reg_set(c, R_ECX, as, --cnt);
    }
    rep_end(c, i, cnt == 0);
}

/* REPE (F3) / REPNE (F2) CMPS and SCAS stop when ZF says so. */
void tcgl_int_rep_cmps(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned s = i->opsize, as = i->adsize;
    bool repe = i->pfx & TCGL_PFX_REP;
    uint64_t cnt = tcgl_reg_get(c, R_ECX, as);

    for (unsigned k = 0; k < CHUNK_BYTES / s && cnt; k++) {
        cmps1(c, i, s, as);
        tcgl_reg_set(c, R_ECX, as, --cnt);
        if ((c->cc_dst == 0) != repe) {
            rep_end(c, i, true);
            return;
        }
    }
    rep_end(c, i, cnt == 0);
}

void tcgl_int_rep_scas(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned s = i->opsize, as = i->adsize;
    bool repe = i->pfx & TCGL_PFX_REP;
    uint64_t cnt = tcgl_reg_get(c, R_ECX, as);

    for (unsigned k = 0; k < CHUNK_BYTES / s && cnt; k++) {
        scas1(c, s, as);
        tcgl_reg_set(c, R_ECX, as, --cnt);
        if ((c->cc_dst == 0) != repe) {
            rep_end(c, i, true);
            return;
        }
    }
    rep_end(c, i, cnt == 0);
}

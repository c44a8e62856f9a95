/*
 * tcg-lite: segmentation.  The mode flags and the segment fast path,
 * descriptor loads with their checks (SDM vol. 3 ch. 5), segment register
 * instructions, far JMP/CALL/RET through code segments, call gates and
 * task gates, IRET in every mode, the 32-bit task switch (SDM 7.3), and
 * the descriptor-table instructions (LGDT..LTR, LAR/LSL/VERR/VERW).
 *
 * A fault is raised before anything architectural changes: frames are
 * written to memory first, registers are committed last.
 */
#include <string.h>
#include "tcgl-sys.h"
#include "qemu/log.h"

/* ---- mode flags and the fast path --------------------------------------- */

/*
 * CPL is SS.DPL in protected mode (as KVM and QEMU keep it: SS.DPL always
 * equals CPL there, while CS.RPL may not right after CR0.PE is set), 3 in
 * v86 mode and 0 in real mode.
 */
void tcgl_update_hflags(TCGLCPU *c)
{
    X86CPUState *env = c->env;
    uint32_t hf = 0;
    unsigned cpl = 0;

    c->code_epoch++;            /* the mode may change: no same-page shortcuts across it */
    c->chain_break = true;

    if (env->cr0 & CR0_PE) {
        hf |= TCGL_HF_PE;
        if (env->rflags & RFL_VM) {
            hf |= TCGL_HF_VM;
            cpl = 3;
        } else {
            cpl = env->segs[R_SS].dpl & 3;
        }
    }
    hf |= cpl;
    if (env->cr0 & CR0_PG) {
        hf |= TCGL_HF_PG;
    }
    if (env->efer & EFER_LMA) {
        hf |= TCGL_HF_LMA;
        if (env->segs[R_CS].l && (hf & TCGL_HF_PE) && !(hf & TCGL_HF_VM)) {
            hf |= TCGL_HF_CS64;
        }
    }
    if (!(hf & TCGL_HF_CS64)) {
        if (env->segs[R_CS].db) {
            hf |= TCGL_HF_CS32;
        }
        if (env->segs[R_SS].db) {
            hf |= TCGL_HF_SS32;
        }
    }
    c->hflags = hf;
    c->mmu_idx = cpl == 3 ? TCGL_MMU_USER : TCGL_MMU_SUPER;
    c->lin_mask = (hf & TCGL_HF_CS64) ? ~0ULL : 0xffffffffULL;

    for (int s = 0; s < R_NB_SEGS; s++) {
        const SegmentCache *sc = &env->segs[s];
        int64_t r, w;
        if (hf & TCGL_HF_CS64) {
            c->seg_base[s] = (s == R_FS || s == R_GS) ? sc->base : 0;
            c->seg_rlim[s] = c->seg_wlim[s] = INT64_MAX;
            continue;
        }
        c->seg_base[s] = (uint32_t)sc->base;
        if (!(hf & TCGL_HF_PE) || (hf & TCGL_HF_VM)) {
            /* Real and v86 mode: the cached limit, no type checks (QEMU). */
            r = w = sc->limit;
        } else if (sc->unusable || !sc->present || !sc->dpl_s) {
            r = w = -1;
        } else if (sc->type & SEG_TYPE_CODE) {
            r = (sc->type & SEG_TYPE_W) ? (int64_t)sc->limit : -1;
            w = -1;
        } else if (sc->type & SEG_TYPE_E) {
            r = w = -1;         /* expand-down: the slow path checks */
        } else {
            r = sc->limit;
            w = (sc->type & SEG_TYPE_W) ? (int64_t)sc->limit : -1;
        }
        c->seg_rlim[s] = r;
        c->seg_wlim[s] = w;
    }
}

/* ---- descriptors --------------------------------------------------------- */

static bool desc_addr(TCGLCPU *c, unsigned sel, unsigned size, uint64_t *addr)
{
    X86CPUState *env = c->env;
    uint64_t base;
    uint32_t limit;

    if (sel & 4) {
        if (env->ldt.unusable || !env->ldt.present || (env->ldt.selector & ~3) == 0) {
            return false;
        }
        base = env->ldt.base;
        limit = env->ldt.limit;
    } else {
        base = env->gdt.base;
        limit = env->gdt.limit;
    }
    if ((sel & ~7u) + size - 1 > limit) {
        return false;
    }
    *addr = tcgl_sys_lin(c, base + (sel & ~7u));
    return true;
}

bool tcgl_read_desc(TCGLCPU *c, unsigned sel, uint32_t *lo, uint32_t *hi)
{
    uint64_t a, d;

    if (!desc_addr(c, sel, 8, &a)) {
        return false;
    }
    d = tcgl_ld_lin(c, a, 8, TCGL_ACC_READ | TCGL_ACC_SUPER);
    *lo = (uint32_t)d;
    *hi = (uint32_t)(d >> 32);
    return true;
}

/* The upper half of a 16-byte system descriptor (long mode). */
static bool read_desc_high(TCGLCPU *c, unsigned sel, uint32_t *base_hi)
{
    uint64_t a, d;

    if (!desc_addr(c, sel, 16, &a)) {
        return false;
    }
    d = tcgl_ld_lin(c, a + 8, 8, TCGL_ACC_READ | TCGL_ACC_SUPER);
    if ((d >> 40) & 0x1f) {
        return false;           /* the type field of the upper half must be 0 */
    }
    *base_hi = (uint32_t)d;
    return true;
}

static uint32_t desc_base(uint32_t lo, uint32_t hi)
{
    return (lo >> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000u);
}

static uint32_t desc_limit(uint32_t lo, uint32_t hi)
{
    uint32_t l = (lo & 0xffff) | (hi & 0xf0000);

    return (hi & DESC_G) ? (l << 12) | 0xfff : l;
}

void tcgl_seg_from_desc(SegmentCache *s, unsigned sel, uint32_t lo, uint32_t hi)
{
    s->selector = sel;
    s->base = desc_base(lo, hi);
    s->limit = desc_limit(lo, hi);
    s->type = DESC_TYPE(hi);
    s->present = hi & DESC_P;
    s->dpl_s = hi & DESC_S;
    s->dpl = DESC_DPL(hi);
    s->db = hi & DESC_DB;
    s->l = hi & DESC_L;
    s->g = hi & DESC_G;
    s->avl = (hi >> 20) & 1;
    s->unusable = false;
}

void tcgl_set_accessed(TCGLCPU *c, unsigned sel, uint32_t hi)
{
    uint64_t a;

    if (!(hi & (SEG_TYPE_A << 8)) && desc_addr(c, sel, 8, &a)) {
        tcgl_st_lin(c, a + 4, 4, hi | (SEG_TYPE_A << 8), TCGL_ACC_WRITE | TCGL_ACC_SUPER);
    }
}

void tcgl_seg_null(SegmentCache *s, unsigned sel)
{
    memset(s, 0, sizeof(*s));
    s->selector = sel;
    s->unusable = true;
}

/* A null SS in 64-bit mode (CPL < 3): usable, flat, DPL = CPL (QEMU). */
void tcgl_seg_null_ss64(SegmentCache *s, unsigned cpl)
{
    memset(s, 0, sizeof(*s));
    s->selector = cpl;
    s->limit = 0xffffffff;
    s->type = 3;
    s->present = true;
    s->dpl_s = true;
    s->db = true;
    s->g = true;
    s->dpl = cpl;
}

void tcgl_seg_load_vm(TCGLCPU *c, int seg, unsigned sel)
{
    SegmentCache *s = &c->env->segs[seg];

    memset(s, 0, sizeof(*s));
    s->selector = sel;
    s->base = (uint32_t)sel << 4;
    s->limit = 0xffff;
    s->type = seg == R_CS ? 0xb : 3;
    s->present = true;
    s->dpl_s = true;
    s->dpl = 3;
}

/*
 * ES/SS/DS/FS/GS in protected mode (SDM MOV, POP, LDS...).  gpv is the
 * vector for descriptor errors (#GP; #TS inside a task switch).
 */
static void load_seg_pm(TCGLCPU *c, int seg, unsigned sel, unsigned cpl, int gpv)
{
    SegmentCache *s = &c->env->segs[seg];
    uint32_t lo, hi;
    unsigned rpl = sel & 3, dpl, type;

    if ((sel & ~3u) == 0) {
        if (seg == R_SS) {
            if (!(c->hflags & TCGL_HF_CS64) || cpl == 3 || rpl != cpl) {
                tcgl_raise(c, gpv, 0);
            }
            tcgl_seg_null_ss64(s, cpl);
            s->selector = sel;
            return;
        }
        tcgl_seg_null(s, sel);
        return;
    }
    if (!tcgl_read_desc(c, sel, &lo, &hi) || !(hi & DESC_S)) {
        tcgl_raise(c, gpv, sel & 0xfffc);
    }
    dpl = DESC_DPL(hi);
    type = DESC_TYPE(hi);
    if (seg == R_SS) {
        if (rpl != cpl || dpl != cpl || (type & (SEG_TYPE_CODE | SEG_TYPE_W)) != SEG_TYPE_W) {
            tcgl_raise(c, gpv, sel & 0xfffc);
        }
        if (!(hi & DESC_P)) {
            tcgl_raise(c, EXCP_SS, sel & 0xfffc);
        }
    } else {
        if ((type & (SEG_TYPE_CODE | SEG_TYPE_W)) == SEG_TYPE_CODE) {
            tcgl_raise(c, gpv, sel & 0xfffc);     /* execute-only code */
        }
        if (!(type & SEG_TYPE_CODE) || !(type & SEG_TYPE_E)) {
            if (rpl > dpl || cpl > dpl) {
                tcgl_raise(c, gpv, sel & 0xfffc);
            }
        }
        if (!(hi & DESC_P)) {
            tcgl_raise(c, EXCP_NP, sel & 0xfffc);
        }
    }
    tcgl_set_accessed(c, sel, hi);
    tcgl_seg_from_desc(s, sel, lo, hi | (SEG_TYPE_A << 8));
}

void tcgl_load_seg(TCGLCPU *c, int seg, unsigned sel)
{
    sel &= 0xffff;
    if (!tcgl_pmode(c)) {
        /* Real and v86 mode: selector and base only; limits and attributes
         * stay (QEMU's TCG does the same: "unreal mode" works).  Nothing
         * else in hflags or the fast path depends on them. */
        c->env->segs[seg].selector = sel;
        c->env->segs[seg].base = (uint32_t)sel << 4;
        c->seg_base[seg] = (uint32_t)sel << 4;
        return;
    }
    load_seg_pm(c, seg, sel, tcgl_cpl(c), EXCP_GP);
    tcgl_update_hflags(c);
}

/* After a return to an outer level: data segments the new CPL may not use
 * become null (SDM RET, IRET). */
static void validate_data_segs(TCGLCPU *c, unsigned cpl)
{
    static const int segs[] = { R_ES, R_DS, R_FS, R_GS };

    for (unsigned i = 0; i < 4; i++) {
        SegmentCache *s = &c->env->segs[segs[i]];
        bool conforming_code = (s->type & (SEG_TYPE_CODE | SEG_TYPE_E)) ==
                               (SEG_TYPE_CODE | SEG_TYPE_E);
        if ((s->selector & ~3u) == 0 || s->unusable) {
            continue;
        }
        if (!conforming_code && s->dpl < cpl) {
            tcgl_seg_null(s, 0);
        }
    }
}

/* ---- code segment checks ------------------------------------------------- */

/* The descriptor of a code segment for a far JMP/CALL/RET target.  The
 * privilege rule depends on the transfer; here only "code, present". */
static void read_code_desc(TCGLCPU *c, unsigned sel, uint32_t *lo, uint32_t *hi)
{
    if ((sel & ~3u) == 0) {
        tcgl_raise(c, EXCP_GP, 0);
    }
    if (!tcgl_read_desc(c, sel, lo, hi)) {
        tcgl_raise(c, EXCP_GP, sel & 0xfffc);
    }
    if ((*hi & DESC_S) == 0 || !(DESC_TYPE(*hi) & SEG_TYPE_CODE)) {
        tcgl_raise(c, EXCP_GP, sel & 0xfffc);
    }
}

static bool code_is_64(const TCGLCPU *c, uint32_t hi)
{
    return (c->hflags & TCGL_HF_LMA) && (hi & DESC_L);
}

/* Offset checks for a new CS:rip: the limit outside 64-bit code,
 * canonical inside. */
static void check_target(TCGLCPU *c, uint32_t lo, uint32_t hi, uint64_t off)
{
    if (code_is_64(c, hi)) {
        if (!tcgl_canonical(off)) {
            tcgl_raise(c, EXCP_GP, 0);
        }
    } else if (off > desc_limit(lo, hi)) {
        tcgl_raise(c, EXCP_GP, 0);
    }
}

void tcgl_load_cs(TCGLCPU *c, unsigned sel, uint32_t lo, uint32_t hi, unsigned cpl)
{
    tcgl_set_accessed(c, sel, hi);
    tcgl_seg_from_desc(&c->env->segs[R_CS], (sel & 0xfffc) | cpl, lo, hi | (SEG_TYPE_A << 8));
}

/* ---- far JMP / CALL -------------------------------------------------------- */

/* A call gate's target (16-, 32- or 64-bit gate). */
typedef struct Gate {
    unsigned sel, dpl, params, type;
    uint64_t off;
} Gate;

static void read_call_gate(TCGLCPU *c, unsigned sel, uint32_t lo, uint32_t hi, Gate *g)
{
    unsigned cpl = tcgl_cpl(c);

    g->type = DESC_TYPE(hi);
    g->dpl = DESC_DPL(hi);
    if (g->dpl < cpl || g->dpl < (sel & 3)) {
        tcgl_raise(c, EXCP_GP, sel & 0xfffc);
    }
    if (!(hi & DESC_P)) {
        tcgl_raise(c, EXCP_NP, sel & 0xfffc);
    }
    g->sel = lo >> 16;
    g->params = hi & 0x1f;
    g->off = (lo & 0xffff) | (hi & 0xffff0000u);
    if (g->type == SYS_CALL16) {
        g->off &= 0xffff;
    }
    if (c->hflags & TCGL_HF_LMA) {
        uint32_t up;
        if (!read_desc_high(c, sel, &up)) {
            tcgl_raise(c, EXCP_GP, sel & 0xfffc);
        }
        g->off |= (uint64_t)up << 32;
        g->params = 0;
    }
}

/* System descriptor types a far JMP/CALL may name. */
static bool far_sys_type_ok(const TCGLCPU *c, unsigned type)
{
    if (c->hflags & TCGL_HF_LMA) {
        return type == SYS_CALL32;      /* 64-bit call gate; no tasks */
    }
    return type == SYS_CALL16 || type == SYS_CALL32 || type == SYS_TASK ||
           type == SYS_TSS16_AVL || type == SYS_TSS32_AVL;
}

/* JMP/CALL to a TSS or through a task gate. */
static void far_task(TCGLCPU *c, unsigned sel, uint32_t lo, uint32_t hi, int source,
                     uint64_t next_rip)
{
    unsigned cpl = tcgl_cpl(c), type = DESC_TYPE(hi);

    if (DESC_DPL(hi) < cpl || DESC_DPL(hi) < (sel & 3)) {
        tcgl_raise(c, EXCP_GP, sel & 0xfffc);
    }
    if (!(hi & DESC_P)) {
        tcgl_raise(c, EXCP_NP, sel & 0xfffc);
    }
    if (type == SYS_TASK) {
        unsigned tss = lo >> 16;
        uint32_t tlo, thi;
        if ((tss & 4) || !tcgl_read_desc(c, tss, &tlo, &thi)) {
            tcgl_raise(c, EXCP_GP, tss & 0xfffc);
        }
        if ((thi & DESC_S) || (DESC_TYPE(thi) & 7) != 1) {
            tcgl_raise(c, EXCP_GP, tss & 0xfffc);   /* not an available TSS */
        }
        if (!(thi & DESC_P)) {
            tcgl_raise(c, EXCP_NP, tss & 0xfffc);
        }
        tcgl_task_switch(c, tss, tlo, thi, source, next_rip);
    } else {
        tcgl_task_switch(c, sel, lo, hi, source, next_rip);
    }
}

void tcgl_far_jmp(TCGLCPU *c, unsigned sel, uint64_t off, uint64_t next_rip)
{
    X86CPUState *env = c->env;
    unsigned cpl = tcgl_cpl(c);
    uint32_t lo, hi;

    sel &= 0xffff;
    if (!tcgl_pmode(c)) {
        if (c->hflags & TCGL_HF_VM) {
            tcgl_seg_load_vm(c, R_CS, sel);
        } else {
            env->segs[R_CS].selector = sel;
            env->segs[R_CS].base = (uint32_t)sel << 4;
        }
        env->rip = off;
        tcgl_update_hflags(c);
        return;
    }
    if ((sel & ~3u) == 0) {
        tcgl_raise(c, EXCP_GP, 0);
    }
    if (!tcgl_read_desc(c, sel, &lo, &hi)) {
        tcgl_raise(c, EXCP_GP, sel & 0xfffc);
    }
    if (hi & DESC_S) {
        unsigned dpl = DESC_DPL(hi), type = DESC_TYPE(hi);
        if (!(type & SEG_TYPE_CODE)) {
            tcgl_raise(c, EXCP_GP, sel & 0xfffc);
        }
        if (type & SEG_TYPE_E ? dpl > cpl : ((sel & 3) > cpl || dpl != cpl)) {
            tcgl_raise(c, EXCP_GP, sel & 0xfffc);
        }
        if (!(hi & DESC_P)) {
            tcgl_raise(c, EXCP_NP, sel & 0xfffc);
        }
        check_target(c, lo, hi, off);
        tcgl_load_cs(c, sel, lo, hi, cpl);
        env->rip = off;
        tcgl_update_hflags(c);
        return;
    }
    if (!far_sys_type_ok(c, DESC_TYPE(hi))) {
        tcgl_raise(c, EXCP_GP, sel & 0xfffc);
    }
    if (DESC_TYPE(hi) == SYS_CALL16 || DESC_TYPE(hi) == SYS_CALL32) {
        Gate g;
        uint32_t clo, chi;
        read_call_gate(c, sel, lo, hi, &g);
        read_code_desc(c, g.sel, &clo, &chi);
        unsigned dpl = DESC_DPL(chi);
        if ((DESC_TYPE(chi) & SEG_TYPE_E) ? dpl > cpl : dpl != cpl) {
            tcgl_raise(c, EXCP_GP, g.sel & 0xfffc);
        }
        if (!(chi & DESC_P)) {
            tcgl_raise(c, EXCP_NP, g.sel & 0xfffc);
        }
        if ((c->hflags & TCGL_HF_LMA) && (!(chi & DESC_L) || (chi & DESC_DB))) {
            tcgl_raise(c, EXCP_GP, g.sel & 0xfffc);
        }
        check_target(c, clo, chi, g.off);
        tcgl_load_cs(c, g.sel, clo, chi, cpl);
        env->rip = g.off;
        tcgl_update_hflags(c);
        return;
    }
    far_task(c, sel, lo, hi, TCGL_TS_JMP, next_rip);
}

/* The TSS's stack for privilege level dpl (32- or 16-bit TSS). */
void tcgl_tss_stack(TCGLCPU *c, unsigned dpl, unsigned *ss, uint64_t *sp)
{
    const SegmentCache *tr = &c->env->tr;
    unsigned shift = (tr->type >> 3) & 1;
    unsigned idx = (dpl * 4 + 2) << shift;

    if (!tr->present || idx + (4u << shift) - 1 > tr->limit) {
        tcgl_raise(c, EXCP_TS, tr->selector & 0xfffc);
    }
    if (shift) {
        *sp = tcgl_ld_lin(c, tcgl_sys_lin(c, tr->base + idx), 4, TCGL_ACC_SUPER);
        *ss = tcgl_ld_lin(c, tcgl_sys_lin(c, tr->base + idx + 4), 2, TCGL_ACC_SUPER);
    } else {
        *sp = tcgl_ld_lin(c, tcgl_sys_lin(c, tr->base + idx), 2, TCGL_ACC_SUPER);
        *ss = tcgl_ld_lin(c, tcgl_sys_lin(c, tr->base + idx + 2), 2, TCGL_ACC_SUPER);
    }
}

/* A stack segment from the TSS for level dpl (#TS on a bad one). */
void tcgl_check_tss_ss(TCGLCPU *c, unsigned ss, unsigned dpl, uint32_t *lo, uint32_t *hi)
{
    if ((ss & ~3u) == 0) {
        tcgl_raise(c, EXCP_TS, ss & 0xfffc);
    }
    if ((ss & 3) != dpl || !tcgl_read_desc(c, ss, lo, hi)) {
        tcgl_raise(c, EXCP_TS, ss & 0xfffc);
    }
    if (!(*hi & DESC_S) || DESC_DPL(*hi) != dpl ||
        (DESC_TYPE(*hi) & (SEG_TYPE_CODE | SEG_TYPE_W)) != SEG_TYPE_W) {
        tcgl_raise(c, EXCP_TS, ss & 0xfffc);
    }
    if (!(*hi & DESC_P)) {
        tcgl_raise(c, EXCP_SS, ss & 0xfffc);
    }
}

/* 64-bit TSS: RSPn (n < 3) or ISTn (n = 3 + ist, ist 1..7). */
uint64_t tcgl_tss64_rsp(TCGLCPU *c, unsigned n)
{
    const SegmentCache *tr = &c->env->tr;
    unsigned idx = 4 + n * 8;

    if (!tr->present || idx + 7 > tr->limit) {
        tcgl_raise(c, EXCP_TS, tr->selector & 0xfffc);
    }
    return tcgl_ld_lin(c, tr->base + idx, 8, TCGL_ACC_SUPER);
}

void tcgl_far_call(TCGLCPU *c, unsigned sel, uint64_t off, unsigned opsize, uint64_t next_rip)
{
    X86CPUState *env = c->env;
    unsigned cpl = tcgl_cpl(c);
    uint32_t lo, hi;

    sel &= 0xffff;
    if (!tcgl_pmode(c)) {
        uint64_t mask = tcgl_sp_mask(c), sp = env->regs[R_ESP];
        tcgl_st(c, R_SS, (sp - opsize) & mask, opsize, env->segs[R_CS].selector);
        tcgl_st(c, R_SS, (sp - 2 * opsize) & mask, opsize, next_rip);
        env->regs[R_ESP] = (sp & ~mask) | ((sp - 2 * opsize) & mask);
        if (c->hflags & TCGL_HF_VM) {
            tcgl_seg_load_vm(c, R_CS, sel);
        } else {
            env->segs[R_CS].selector = sel;
            env->segs[R_CS].base = (uint32_t)sel << 4;
        }
        env->rip = off;
        tcgl_update_hflags(c);
        return;
    }
    if ((sel & ~3u) == 0) {
        tcgl_raise(c, EXCP_GP, 0);
    }
    if (!tcgl_read_desc(c, sel, &lo, &hi)) {
        tcgl_raise(c, EXCP_GP, sel & 0xfffc);
    }
    if (hi & DESC_S) {
        unsigned dpl = DESC_DPL(hi), type = DESC_TYPE(hi);
        uint64_t mask = tcgl_sp_mask(c), sp = env->regs[R_ESP];
        if (!(type & SEG_TYPE_CODE)) {
            tcgl_raise(c, EXCP_GP, sel & 0xfffc);
        }
        if (type & SEG_TYPE_E ? dpl > cpl : ((sel & 3) > cpl || dpl != cpl)) {
            tcgl_raise(c, EXCP_GP, sel & 0xfffc);
        }
        if (!(hi & DESC_P)) {
            tcgl_raise(c, EXCP_NP, sel & 0xfffc);
        }
        check_target(c, lo, hi, off);
        /* Push first (a stack fault leaves everything as it was). */
        tcgl_st(c, R_SS, (sp - opsize) & mask, opsize, env->segs[R_CS].selector);
        tcgl_st(c, R_SS, (sp - 2 * opsize) & mask, opsize, next_rip);
        env->regs[R_ESP] = (sp & ~mask) | ((sp - 2 * opsize) & mask);
        tcgl_load_cs(c, sel, lo, hi, cpl);
        env->rip = off;
        tcgl_update_hflags(c);
        return;
    }
    if (!far_sys_type_ok(c, DESC_TYPE(hi))) {
        tcgl_raise(c, EXCP_GP, sel & 0xfffc);
    }
    if (DESC_TYPE(hi) != SYS_CALL16 && DESC_TYPE(hi) != SYS_CALL32) {
        far_task(c, sel, lo, hi, TCGL_TS_CALL, next_rip);
        return;
    }

    Gate g;
    uint32_t clo, chi;
    unsigned dpl, gsize;
    read_call_gate(c, sel, lo, hi, &g);
    read_code_desc(c, g.sel, &clo, &chi);
    dpl = DESC_DPL(chi);
    if (dpl > cpl) {
        tcgl_raise(c, EXCP_GP, g.sel & 0xfffc);
    }
    if (!(chi & DESC_P)) {
        tcgl_raise(c, EXCP_NP, g.sel & 0xfffc);
    }
    if ((c->hflags & TCGL_HF_LMA) && (!(chi & DESC_L) || (chi & DESC_DB))) {
        tcgl_raise(c, EXCP_GP, g.sel & 0xfffc);
    }
    check_target(c, clo, chi, g.off);
    gsize = (c->hflags & TCGL_HF_LMA) ? 8 : g.type == SYS_CALL32 ? 4 : 2;

    if (!(DESC_TYPE(chi) & SEG_TYPE_E) && dpl < cpl) {
        /* More privileged: the stack of level dpl from the TSS. */
        SegmentCache nss;
        TCGLStack ns;
        uint64_t old_sp = env->regs[R_ESP], old_mask = tcgl_sp_mask(c);
        unsigned old_ss = env->segs[R_SS].selector;

        if (c->hflags & TCGL_HF_LMA) {
            tcgl_seg_null_ss64(&nss, dpl);
            ns = (TCGLStack){ 0, tcgl_tss64_rsp(c, dpl), ~0ULL, TCGL_ACC_SUPER };
        } else {
            unsigned ss;
            uint64_t sp;
            uint32_t slo, shi;
            tcgl_tss_stack(c, dpl, &ss, &sp);
            tcgl_check_tss_ss(c, ss, dpl, &slo, &shi);
            tcgl_seg_from_desc(&nss, ss, slo, shi | (SEG_TYPE_A << 8));
            ns = (TCGLStack){ nss.base, sp, nss.db ? 0xffffffffULL : 0xffffULL,
                              TCGL_ACC_SUPER };
            tcgl_set_accessed(c, ss, shi);
        }
        tcgl_stack_push(c, &ns, gsize, old_ss);
        tcgl_stack_push(c, &ns, gsize, old_sp);
        for (int i = (int)g.params - 1; i >= 0; i--) {
            uint64_t v = tcgl_ld(c, R_SS, (old_sp + (unsigned)i * gsize) & old_mask, gsize);
            tcgl_stack_push(c, &ns, gsize, v);
        }
        tcgl_stack_push(c, &ns, gsize, env->segs[R_CS].selector);
        tcgl_stack_push(c, &ns, gsize, next_rip);
        env->segs[R_SS] = nss;
        env->regs[R_ESP] = ns.mask == 0xffff ? (env->regs[R_ESP] & ~0xffffULL) | ns.sp : ns.sp;
        tcgl_load_cs(c, g.sel, clo, chi, dpl);
    } else {
        uint64_t mask = tcgl_sp_mask(c), sp = env->regs[R_ESP];
        tcgl_st(c, R_SS, (sp - gsize) & mask, gsize, env->segs[R_CS].selector);
        tcgl_st(c, R_SS, (sp - 2 * gsize) & mask, gsize, next_rip);
        env->regs[R_ESP] = (sp & ~mask) | ((sp - 2 * gsize) & mask);
        tcgl_load_cs(c, g.sel, clo, chi, cpl);
    }
    env->rip = g.off;
    tcgl_update_hflags(c);
}

/* ---- far RET and IRET ------------------------------------------------------ */

/* The RFLAGS bits an IRET/POPF may change (QEMU's masks). */
static uint64_t iret_flags_mask(const TCGLCPU *c, unsigned opsize)
{
    unsigned cpl = tcgl_cpl(c);
    uint64_t m = TCGL_RFLAGS_ARITH | RFL_DF | RFL_TF | RFL_AC | RFL_ID | RFL_RF | RFL_NT;

    if (cpl == 0) {
        m |= RFL_IOPL | RFL_VIF | RFL_VIP;
    }
    if (cpl <= tcgl_iopl(c)) {
        m |= RFL_IF;
    }
    if (opsize == 2) {
        m &= 0xffff;
    }
    return m;
}

static void iret_to_v86(TCGLCPU *c, TCGLStack *st, uint64_t eip, unsigned cs, uint64_t fl)
{
    X86CPUState *env = c->env;
    uint64_t esp = tcgl_stack_pop(c, st, 4);
    unsigned ss = tcgl_stack_pop(c, st, 4) & 0xffff;
    unsigned es = tcgl_stack_pop(c, st, 4) & 0xffff;
    unsigned ds = tcgl_stack_pop(c, st, 4) & 0xffff;
    unsigned fs = tcgl_stack_pop(c, st, 4) & 0xffff;
    unsigned gs = tcgl_stack_pop(c, st, 4) & 0xffff;

    tcgl_set_rflags(c, fl, TCGL_RFLAGS_ARITH | RFL_DF | RFL_TF | RFL_AC | RFL_ID | RFL_IF |
                    RFL_IOPL | RFL_VM | RFL_NT | RFL_VIF | RFL_VIP | RFL_RF);
    env->rflags |= RFL_VM;
    tcgl_seg_load_vm(c, R_CS, cs & 0xffff);
    tcgl_seg_load_vm(c, R_SS, ss);
    tcgl_seg_load_vm(c, R_ES, es);
    tcgl_seg_load_vm(c, R_DS, ds);
    tcgl_seg_load_vm(c, R_FS, fs);
    tcgl_seg_load_vm(c, R_GS, gs);
    env->regs[R_ESP] = (uint32_t)esp;
    env->rip = eip & 0xffff;
    tcgl_update_hflags(c);
}

/* IRET with NT set (legacy protected mode): back to the linked task. */
static void iret_task(TCGLCPU *c)
{
    const SegmentCache *tr = &c->env->tr;
    unsigned link;
    uint32_t lo, hi;

    if (c->hflags & TCGL_HF_LMA) {
        tcgl_raise(c, EXCP_GP, 0);
    }
    link = tcgl_ld_lin(c, tcgl_sys_lin(c, tr->base), 2, TCGL_ACC_SUPER);
    if ((link & 4) || !tcgl_read_desc(c, link, &lo, &hi)) {
        tcgl_raise(c, EXCP_TS, link & 0xfffc);
    }
    if ((hi & DESC_S) || (DESC_TYPE(hi) & 7) != 3) {
        tcgl_raise(c, EXCP_TS, link & 0xfffc);      /* must be a busy TSS */
    }
    if (!(hi & DESC_P)) {
        tcgl_raise(c, EXCP_NP, link & 0xfffc);
    }
    tcgl_task_switch(c, link, lo, hi, TCGL_TS_IRET, c->env->rip);
}

void tcgl_far_ret(TCGLCPU *c, unsigned opsize, unsigned imm, bool iret)
{
    X86CPUState *env = c->env;
    unsigned cpl = tcgl_cpl(c);
    TCGLStack st = { env->segs[R_SS].base, env->regs[R_ESP], tcgl_sp_mask(c),
                     cpl == 3 ? 0 : TCGL_ACC_SUPER };
    uint64_t eip, fl = 0;
    unsigned sel;
    uint32_t lo, hi;

    if (c->hflags & TCGL_HF_CS64) {
        st.base = 0;
    }
    if (iret && tcgl_pmode(c) && (env->rflags & RFL_NT)) {
        iret_task(c);
        return;
    }
    if (iret && (c->hflags & TCGL_HF_VM) && tcgl_iopl(c) < 3) {
        tcgl_raise(c, EXCP_GP, 0);
    }
    /* Pops at SS:rSP without limit checks (as QEMU). */
    eip = tcgl_stack_pop(c, &st, opsize);
    sel = tcgl_stack_pop(c, &st, opsize) & 0xffff;
    if (iret) {
        fl = tcgl_stack_pop(c, &st, opsize);
    }
    if (!tcgl_pmode(c)) {
        uint64_t m;
        if (c->hflags & TCGL_HF_VM) {
            tcgl_seg_load_vm(c, R_CS, sel);
            /* v86 (IOPL 3): IOPL and VM stay. */
            m = TCGL_RFLAGS_ARITH | RFL_DF | RFL_TF | RFL_AC | RFL_ID | RFL_RF | RFL_NT | RFL_IF;
        } else {
            env->segs[R_CS].selector = sel;
            env->segs[R_CS].base = (uint32_t)sel << 4;
            m = TCGL_RFLAGS_ARITH | RFL_DF | RFL_TF | RFL_AC | RFL_ID | RFL_RF | RFL_NT | RFL_IF |
                RFL_IOPL;
        }
        if (iret) {
            tcgl_set_rflags(c, fl, opsize == 2 ? m & 0xffff : m);
            env->events.nmi_masked = false;
        }
        st.sp = (st.sp + imm) & st.mask;
        env->regs[R_ESP] = (env->regs[R_ESP] & ~st.mask) | st.sp;
        env->rip = opsize == 2 ? eip & 0xffff : eip;
        tcgl_update_hflags(c);
        return;
    }
    if (iret && opsize == 4 && !(c->hflags & TCGL_HF_LMA) && (fl & RFL_VM) && cpl == 0) {
        iret_to_v86(c, &st, eip, sel, fl);
        env->events.nmi_masked = false;
        return;
    }
    read_code_desc(c, sel, &lo, &hi);
    unsigned rpl = sel & 3, dpl = DESC_DPL(hi);
    if (rpl < cpl) {
        tcgl_raise(c, EXCP_GP, sel & 0xfffc);
    }
    if ((DESC_TYPE(hi) & SEG_TYPE_E) ? dpl > rpl : dpl != rpl) {
        tcgl_raise(c, EXCP_GP, sel & 0xfffc);
    }
    if (!(hi & DESC_P)) {
        tcgl_raise(c, EXCP_NP, sel & 0xfffc);
    }
    if ((c->hflags & TCGL_HF_LMA) && (hi & DESC_L) && (hi & DESC_DB)) {
        tcgl_raise(c, EXCP_GP, sel & 0xfffc);
    }
    if (!iret) {
        st.sp = (st.sp + imm) & st.mask;
    }
    if (rpl == cpl && !(iret && (c->hflags & TCGL_HF_CS64))) {
        uint64_t fmask = iret ? iret_flags_mask(c, opsize) : 0;
        check_target(c, lo, hi, eip);
        tcgl_load_cs(c, sel, lo, hi, cpl);
        env->regs[R_ESP] = st.mask == ~0ULL ? st.sp : (env->regs[R_ESP] & ~st.mask) | st.sp;
        if (iret) {
            tcgl_set_rflags(c, fl, fmask);
        }
    } else {
        /* Outer level (or IRET in 64-bit mode): SS:rSP come from the stack. */
        uint64_t nsp = tcgl_stack_pop(c, &st, opsize);
        unsigned ss = tcgl_stack_pop(c, &st, opsize) & 0xffff;
        SegmentCache nss;
        uint32_t slo, shi;
        uint64_t fmask = iret ? iret_flags_mask(c, opsize) : 0;

        if ((ss & ~3u) == 0) {
            if (!(c->hflags & TCGL_HF_LMA) || !(hi & DESC_L) || rpl == 3 || (ss & 3) != rpl) {
                tcgl_raise(c, EXCP_GP, 0);
            }
            tcgl_seg_null_ss64(&nss, rpl);
            nss.selector = ss;
        } else {
            if ((ss & 3) != rpl || !tcgl_read_desc(c, ss, &slo, &shi)) {
                tcgl_raise(c, EXCP_GP, ss & 0xfffc);
            }
            if (!(shi & DESC_S) || DESC_DPL(shi) != rpl ||
                (DESC_TYPE(shi) & (SEG_TYPE_CODE | SEG_TYPE_W)) != SEG_TYPE_W) {
                tcgl_raise(c, EXCP_GP, ss & 0xfffc);
            }
            if (!(shi & DESC_P)) {
                tcgl_raise(c, EXCP_SS, ss & 0xfffc);
            }
            tcgl_set_accessed(c, ss, shi);
            tcgl_seg_from_desc(&nss, ss, slo, shi | (SEG_TYPE_A << 8));
        }
        check_target(c, lo, hi, eip);
        tcgl_load_cs(c, sel, lo, hi, rpl);
        env->segs[R_SS] = nss;
        if (!iret) {
            nsp += imm;
        }
        if ((c->hflags & TCGL_HF_LMA) && (hi & DESC_L)) {
            env->regs[R_ESP] = nsp;
        } else if (nss.db) {
            env->regs[R_ESP] = (uint32_t)nsp;
        } else {
            env->regs[R_ESP] = (env->regs[R_ESP] & ~0xffffULL) | (nsp & 0xffff);
        }
        if (iret) {
            tcgl_set_rflags(c, fl, fmask);
        }
        if (rpl > cpl) {
            validate_data_segs(c, rpl);
        }
    }
    env->rip = opsize == 2 ? eip & 0xffff : opsize == 4 ? (uint32_t)eip : eip;
    if (iret) {
        env->events.nmi_masked = false;
    }
    tcgl_update_hflags(c);
}

/* ---- task switch (SDM 7.3) --------------------------------------------------- */

/* TSS32 offsets */
#define TSS_LINK    0x00
#define TSS_CR3     0x1c
#define TSS_EIP     0x20
#define TSS_EFLAGS  0x24
#define TSS_EAX     0x28
#define TSS_ES      0x48
#define TSS_LDT     0x60
#define TSS_TBIT    0x64

static void tss_set_busy(TCGLCPU *c, unsigned sel, bool busy)
{
    uint64_t a;
    uint32_t hi;

    if (!desc_addr(c, sel, 8, &a)) {
        return;
    }
    hi = tcgl_ld_lin(c, a + 4, 4, TCGL_ACC_SUPER);
    hi = busy ? hi | (2u << 8) : hi & ~(2u << 8);
    tcgl_st_lin(c, a + 4, 4, hi, TCGL_ACC_WRITE | TCGL_ACC_SUPER);
}

/* Segment loads of the new task: errors are #TS with the selector. */
static void task_load_cs(TCGLCPU *c, unsigned sel)
{
    uint32_t lo, hi;
    unsigned rpl = sel & 3, dpl;

    if ((sel & ~3u) == 0 || !tcgl_read_desc(c, sel, &lo, &hi) || !(hi & DESC_S) ||
        !(DESC_TYPE(hi) & SEG_TYPE_CODE)) {
        tcgl_raise(c, EXCP_TS, sel & 0xfffc);
    }
    dpl = DESC_DPL(hi);
    if ((DESC_TYPE(hi) & SEG_TYPE_E) ? dpl > rpl : dpl != rpl) {
        tcgl_raise(c, EXCP_TS, sel & 0xfffc);
    }
    if (!(hi & DESC_P)) {
        tcgl_raise(c, EXCP_NP, sel & 0xfffc);
    }
    tcgl_set_accessed(c, sel, hi);
    tcgl_seg_from_desc(&c->env->segs[R_CS], sel, lo, hi | (SEG_TYPE_A << 8));
}

void tcgl_task_switch(TCGLCPU *c, unsigned sel, uint32_t lo, uint32_t hi, int source,
                      uint64_t next_rip)
{
    X86CPUState *env = c->env;
    SegmentCache *tr = &env->tr;
    uint64_t nbase = desc_base(lo, hi), obase = tr->base;
    uint32_t nlimit = desc_limit(lo, hi);
    uint32_t regs[8], neip, nfl, ncr3;
    unsigned segs[6], nldt, type = DESC_TYPE(hi);
    uint64_t fl;

    if (!(type & 8)) {
        qemu_log_mask(LOG_UNIMP, "tcg-lite: task switch to a 16-bit TSS (selector 0x%x)\n",
                      sel);
        tcgl_raise(c, EXCP_GP, sel & 0xfffc);
    }
    if (nlimit < 0x67) {
        tcgl_raise(c, EXCP_TS, sel & 0xfffc);
    }
    if (!tr->present || tr->limit < 0x5f) {
        tcgl_raise(c, EXCP_TS, tr->selector & 0xfffc);
    }
    /* Read the new task's state first (a fault leaves the old task intact). */
    ncr3 = tcgl_ld_lin(c, (uint32_t)(nbase + TSS_CR3), 4, TCGL_ACC_SUPER);
    neip = tcgl_ld_lin(c, (uint32_t)(nbase + TSS_EIP), 4, TCGL_ACC_SUPER);
    nfl = tcgl_ld_lin(c, (uint32_t)(nbase + TSS_EFLAGS), 4, TCGL_ACC_SUPER);
    for (int i = 0; i < 8; i++) {
        regs[i] = tcgl_ld_lin(c, (uint32_t)(nbase + TSS_EAX + 4 * i), 4, TCGL_ACC_SUPER);
    }
    for (int i = 0; i < 6; i++) {
        segs[i] = tcgl_ld_lin(c, (uint32_t)(nbase + TSS_ES + 4 * i), 2, TCGL_ACC_SUPER);
    }
    nldt = tcgl_ld_lin(c, (uint32_t)(nbase + TSS_LDT), 2, TCGL_ACC_SUPER);

    /* Save the old task. */
    fl = tcgl_get_rflags(c);
    if (source == TCGL_TS_JMP || source == TCGL_TS_IRET) {
        tss_set_busy(c, tr->selector, false);
    }
    if (source == TCGL_TS_IRET) {
        fl &= ~(uint64_t)RFL_NT;
    }
    tcgl_st_lin(c, (uint32_t)(obase + TSS_EIP), 4, next_rip, TCGL_ACC_WRITE | TCGL_ACC_SUPER);
    tcgl_st_lin(c, (uint32_t)(obase + TSS_EFLAGS), 4, fl, TCGL_ACC_WRITE | TCGL_ACC_SUPER);
    for (int i = 0; i < 8; i++) {
        tcgl_st_lin(c, (uint32_t)(obase + TSS_EAX + 4 * i), 4, env->regs[i],
                    TCGL_ACC_WRITE | TCGL_ACC_SUPER);
    }
    for (int i = 0; i < 6; i++) {
        tcgl_st_lin(c, (uint32_t)(obase + TSS_ES + 4 * i), 2, env->segs[i].selector,
                    TCGL_ACC_WRITE | TCGL_ACC_SUPER);
    }
    if (source == TCGL_TS_CALL || source == TCGL_TS_INT) {
        tcgl_st_lin(c, (uint32_t)(nbase + TSS_LINK), 2, tr->selector,
                    TCGL_ACC_WRITE | TCGL_ACC_SUPER);
        nfl |= RFL_NT;
    }
    if (source != TCGL_TS_IRET) {
        tss_set_busy(c, sel, true);
        hi |= 2u << 8;
    }

    /* Switch: TR, CR0.TS, CR3, registers, then the checked segment loads. */
    tcgl_seg_from_desc(tr, sel, lo, hi);
    env->cr0 |= CR0_TS;
    if (env->cr0 & CR0_PG) {
        env->cr3 = ncr3;
        tcgl_tlb_flush(c);
    }
    env->rip = neip;
    for (int i = 0; i < 8; i++) {
        env->regs[i] = regs[i];
    }
    tcgl_set_rflags(c, nfl | 2, ~0ULL);
    for (int i = 0; i < 6; i++) {
        env->segs[i].selector = segs[i];
    }
    env->ldt.selector = nldt;
    if (nfl & RFL_VM) {
        for (int i = 0; i < 6; i++) {
            tcgl_seg_load_vm(c, i, segs[i]);
        }
        tcgl_update_hflags(c);
        return;
    }
    /* LDT */
    if ((nldt & ~3u) == 0) {
        tcgl_seg_null(&env->ldt, nldt);
    } else {
        uint32_t llo, lhi;
        if ((nldt & 4) || !tcgl_read_desc(c, nldt, &llo, &lhi) || (lhi & DESC_S) ||
            DESC_TYPE(lhi) != SYS_LDT) {
            tcgl_raise(c, EXCP_TS, nldt & 0xfffc);
        }
        if (!(lhi & DESC_P)) {
            tcgl_raise(c, EXCP_TS, nldt & 0xfffc);
        }
        tcgl_seg_from_desc(&env->ldt, nldt, llo, lhi);
    }
    /* CS then SS decide the CPL; data segments are checked against it. */
    task_load_cs(c, segs[R_CS]);
    env->segs[R_SS].dpl = segs[R_CS] & 3;
    tcgl_update_hflags(c);
    load_seg_pm(c, R_SS, segs[R_SS], segs[R_CS] & 3, EXCP_TS);
    tcgl_update_hflags(c);
    for (int i = 0; i < 6; i++) {
        if (i != R_CS && i != R_SS) {
            load_seg_pm(c, i, segs[i], segs[R_CS] & 3, EXCP_TS);
        }
    }
    tcgl_update_hflags(c);
    if (neip > env->segs[R_CS].limit) {
        tcgl_raise(c, EXCP_GP, 0);
    }
}

/* ---- instruction handlers ------------------------------------------------------ */

static unsigned stack_opsize(const TCGLInsn *i)
{
    return i->opsize;
}

/* MOV Sreg, r/m16 (8E).  MOV SS starts an interrupt shadow. */
void tcgl_op_mov_sreg(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_mov_sreg(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned seg = i->reg & 7;
    unsigned sel;

    if (seg == R_CS || seg >= R_NB_SEGS) {
        tcgl_raise(c, EXCP_UD, -1);
    }
    sel = i->mod == 3 ? tcgl_reg_get(c, i->rm, 2) : tcgl_ldw(c, i->seg, tcgl_ea(c, i));
    tcgl_load_seg(c, seg, sel);
    if (seg == R_SS) {
        c->env->events.interrupt_shadow = X86_SHADOW_MOV_SS;
        c->chain_break = true;
    }
}

/* MOV r/m, Sreg (8C): 16 bits to memory; a register gets the operand size
 * (zero-extended). */
void tcgl_op_mov_from_sreg(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_mov_from_sreg(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned seg = i->reg & 7;
    unsigned sel;

    if (seg >= R_NB_SEGS) {
        tcgl_raise(c, EXCP_UD, -1);
    }
    sel = c->env->segs[seg].selector;
    if (i->mod == 3) {
        tcgl_reg_set(c, i->rm, i->opsize == 2 ? 2 : i->opsize == 8 ? 8 : 4, sel);
    } else {
        tcgl_stw(c, i->seg, tcgl_ea(c, i), sel);
    }
}

static int sreg_of_push_pop(uint16_t opc)
{
    switch (opc) {
    case 0x06: case 0x07: return R_ES;
    case 0x0e: return R_CS;
    case 0x16: case 0x17: return R_SS;
    case 0x1e: case 0x1f: return R_DS;
    case TCGL_OPC(TCGL_MAP_0F, 0xa0): case TCGL_OPC(TCGL_MAP_0F, 0xa1): return R_FS;
    default: return R_GS;
    }
}

void tcgl_op_push_sreg(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_push_sreg(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned size = stack_opsize(i);
    uint64_t mask = tcgl_sp_mask(c), sp = (c->env->regs[R_ESP] - size) & mask;

    /* A 32-bit push of a segment register writes 16 bits (recent CPUs and
     * QEMU keep the upper half; QEMU writes the zero-extended value: we do
     * as QEMU). */
    tcgl_st(c, R_SS, sp, size, c->env->segs[sreg_of_push_pop(i->opc)].selector);
    c->env->regs[R_ESP] = (c->env->regs[R_ESP] & ~mask) | sp;
}

void tcgl_op_pop_sreg(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_pop_sreg(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned size = stack_opsize(i);
    int seg = sreg_of_push_pop(i->opc);
    uint64_t mask = tcgl_sp_mask(c), sp = c->env->regs[R_ESP];
    unsigned sel = tcgl_ld(c, R_SS, sp & mask, size) & 0xffff;

    tcgl_load_seg(c, seg, sel);
    /* ESP moves after the load (a faulting load leaves it). */
    c->env->regs[R_ESP] = (sp & ~mask) | ((sp + size) & mask);
    if (seg == R_SS) {
        c->env->events.interrupt_shadow = X86_SHADOW_MOV_SS;
        c->chain_break = true;
    }
}

/* LES/LDS/LSS/LFS/LGS r, m16:16/32/64 */
void tcgl_op_lxs(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_lxs(TCGLCPU *c, const TCGLInsn *i)
{
    int seg;
    uint64_t ea = tcgl_ea(c, i), off;
    unsigned sel;

    switch (i->opc) {
    case 0xc4: seg = R_ES; break;
    case 0xc5: seg = R_DS; break;
    case TCGL_OPC(TCGL_MAP_0F, 0xb2): seg = R_SS; break;
    case TCGL_OPC(TCGL_MAP_0F, 0xb4): seg = R_FS; break;
    default: seg = R_GS; break;
    }
    if (i->mod == 3) {
        tcgl_raise(c, EXCP_UD, -1);
    }
    off = tcgl_ld(c, i->seg, ea, i->opsize);
    sel = tcgl_ldw(c, i->seg, (ea + i->opsize) & tcgl_size_mask(i->adsize));
    tcgl_load_seg(c, seg, sel);
    tcgl_reg_set(c, i->reg, i->opsize, off);
}

/* JMP ptr16:16/32 (EA), CALL ptr16:16/32 (9A): imm = offset, imm2 = selector. */
void tcgl_op_jmpf_ptr(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_jmpf_ptr(TCGLCPU *c, const TCGLInsn *i)
{
    tcgl_far_jmp(c, i->imm2, i->imm & tcgl_size_mask(i->opsize), c->env->rip + i->len);
}

void tcgl_op_callf_ptr(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_callf_ptr(TCGLCPU *c, const TCGLInsn *i)
{
    tcgl_far_call(c, i->imm2, i->imm & tcgl_size_mask(i->opsize), i->opsize,
                  (c->env->rip + i->len) & tcgl_size_mask(i->opsize == 8 ? 8 : i->opsize));
}

/* FF /3, FF /5: m16:16, m16:32, m16:64 (REX.W) */
static void far_mem_operand(TCGLCPU *c, const TCGLInsn *i, unsigned *sel, uint64_t *off)
{
    uint64_t ea = tcgl_ea(c, i);

    if (i->mod == 3) {
        tcgl_raise(c, EXCP_UD, -1);
    }
    *off = tcgl_ld(c, i->seg, ea, i->opsize);
    *sel = tcgl_ldw(c, i->seg, (ea + i->opsize) & tcgl_size_mask(i->adsize));
}

void tcgl_op_jmpf_mem(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_jmpf_mem(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned sel;
    uint64_t off;

    far_mem_operand(c, i, &sel, &off);
    tcgl_far_jmp(c, sel, off, c->env->rip + i->len);
}

void tcgl_op_callf_mem(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_callf_mem(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned sel;
    uint64_t off, next = c->env->rip + i->len;

    far_mem_operand(c, i, &sel, &off);
    if (!(c->hflags & TCGL_HF_CS64)) {
        next &= 0xffffffff;
    }
    tcgl_far_call(c, sel, off, i->opsize, next);
}

/* RETF (CB), RETF imm16 (CA) */
void tcgl_op_retf(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_retf(TCGLCPU *c, const TCGLInsn *i)
{
    tcgl_far_ret(c, i->opsize, i->opc == 0xca ? (unsigned)(i->imm & 0xffff) : 0, false);
}

/* IRET/IRETD/IRETQ (CF) */
void tcgl_op_iret(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_iret(TCGLCPU *c, const TCGLInsn *i)
{
    tcgl_far_ret(c, i->opsize, 0, true);
}

/* ---- descriptor tables -------------------------------------------------------- */

static void need_pmode(TCGLCPU *c)
{
    if (!tcgl_pmode(c)) {
        tcgl_raise(c, EXCP_UD, -1);
    }
}

/* SGDT/SIDT (0F 01 /0, /1) */
void tcgl_op_sxdt(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_sxdt(TCGLCPU *c, const TCGLInsn *i)
{
    const DescTable *dt = (i->reg & 7) == 0 ? &c->env->gdt : &c->env->idt;
    uint64_t ea = tcgl_ea(c, i), m = tcgl_size_mask(i->adsize);
    unsigned bsize = (c->hflags & TCGL_HF_CS64) ? 8 : 4;

    tcgl_probe_write(c, i->seg, ea, 2 + bsize);
    tcgl_stw(c, i->seg, ea, dt->limit);
    tcgl_st(c, i->seg, (ea + 2) & m, bsize, bsize == 4 ? (uint32_t)dt->base : dt->base);
}

/* LGDT/LIDT (0F 01 /2, /3); CPL 0 (TCGL_OPF_PRIV) */
void tcgl_op_lxdt(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_lxdt(TCGLCPU *c, const TCGLInsn *i)
{
    DescTable *dt = (i->reg & 7) == 2 ? &c->env->gdt : &c->env->idt;
    uint64_t ea = tcgl_ea(c, i), m = tcgl_size_mask(i->adsize), base;
    unsigned limit;

    limit = tcgl_ldw(c, i->seg, ea);
    if (c->hflags & TCGL_HF_CS64) {
        base = tcgl_ldq(c, i->seg, (ea + 2) & m);
        if (!tcgl_canonical(base)) {
            tcgl_raise(c, EXCP_GP, 0);
        }
    } else {
        base = tcgl_ldl(c, i->seg, (ea + 2) & m);
        if (i->opsize == 2) {
            base &= 0xffffff;
        }
    }
    dt->limit = limit;
    dt->base = base;
}

/* SLDT/STR (0F 00 /0, /1) */
void tcgl_op_sldt_str(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_sldt_str(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned sel = (i->reg & 7) == 0 ? c->env->ldt.selector : c->env->tr.selector;

    need_pmode(c);
    if (i->mod == 3) {
        tcgl_reg_set(c, i->rm, i->opsize == 2 ? 2 : i->opsize == 8 ? 8 : 4, sel);
    } else {
        tcgl_stw(c, i->seg, tcgl_ea(c, i), sel);
    }
}

static unsigned rm16_operand(TCGLCPU *c, const TCGLInsn *i)
{
    return i->mod == 3 ? tcgl_reg_get(c, i->rm, 2) : tcgl_ldw(c, i->seg, tcgl_ea(c, i));
}

/* LLDT (0F 00 /2) */
void tcgl_op_lldt(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_lldt(TCGLCPU *c, const TCGLInsn *i)
{
    X86CPUState *env = c->env;
    unsigned sel;
    uint32_t lo, hi, up = 0;

    need_pmode(c);
    sel = rm16_operand(c, i);
    if ((sel & ~3u) == 0) {
        tcgl_seg_null(&env->ldt, sel);
        return;
    }
    if ((sel & 4) || !tcgl_read_desc(c, sel, &lo, &hi) || (hi & DESC_S) ||
        DESC_TYPE(hi) != SYS_LDT) {
        tcgl_raise(c, EXCP_GP, sel & 0xfffc);
    }
    if ((c->hflags & TCGL_HF_LMA) && !read_desc_high(c, sel, &up)) {
        tcgl_raise(c, EXCP_GP, sel & 0xfffc);
    }
    if (!(hi & DESC_P)) {
        tcgl_raise(c, EXCP_NP, sel & 0xfffc);
    }
    tcgl_seg_from_desc(&env->ldt, sel, lo, hi);
    env->ldt.base |= (uint64_t)up << 32;
}

/* LTR (0F 00 /3): marks the TSS busy. */
void tcgl_op_ltr(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_ltr(TCGLCPU *c, const TCGLInsn *i)
{
    X86CPUState *env = c->env;
    unsigned sel, type;
    uint32_t lo, hi, up = 0;

    need_pmode(c);
    sel = rm16_operand(c, i);
    if ((sel & ~3u) == 0) {
        tcgl_raise(c, EXCP_GP, 0);
    }
    if ((sel & 4) || !tcgl_read_desc(c, sel, &lo, &hi) || (hi & DESC_S)) {
        tcgl_raise(c, EXCP_GP, sel & 0xfffc);
    }
    type = DESC_TYPE(hi);
    if ((c->hflags & TCGL_HF_LMA) ? type != SYS_TSS32_AVL
                                  : (type != SYS_TSS32_AVL && type != SYS_TSS16_AVL)) {
        tcgl_raise(c, EXCP_GP, sel & 0xfffc);
    }
    if ((c->hflags & TCGL_HF_LMA) && !read_desc_high(c, sel, &up)) {
        tcgl_raise(c, EXCP_GP, sel & 0xfffc);
    }
    if (!(hi & DESC_P)) {
        tcgl_raise(c, EXCP_NP, sel & 0xfffc);
    }
    tss_set_busy(c, sel, true);
    tcgl_seg_from_desc(&env->tr, sel, lo, hi | (2u << 8));
    env->tr.base |= (uint64_t)up << 32;
}

/* The descriptor LAR/LSL/VERR/VERW may look at, or false (ZF = 0). */
static bool visible_desc(TCGLCPU *c, unsigned sel, uint32_t *lo, uint32_t *hi)
{
    unsigned cpl = tcgl_cpl(c), dpl;

    if ((sel & ~3u) == 0 || !tcgl_read_desc(c, sel, lo, hi)) {
        return false;
    }
    dpl = DESC_DPL(*hi);
    if ((*hi & DESC_S) && (DESC_TYPE(*hi) & (SEG_TYPE_CODE | SEG_TYPE_E)) ==
                          (SEG_TYPE_CODE | SEG_TYPE_E)) {
        return true;            /* conforming code: no privilege check */
    }
    return dpl >= cpl && dpl >= (sel & 3);
}

static void set_zf(TCGLCPU *c, bool z)
{
    tcgl_set_rflags(c, z ? RFL_ZF : 0, RFL_ZF);
}

/* LAR (0F 02) / LSL (0F 03) */
void tcgl_op_lar_lsl(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_lar_lsl(TCGLCPU *c, const TCGLInsn *i)
{
    bool lsl = (i->opc & 0xff) == 0x03;
    unsigned sel;
    uint32_t lo, hi;

    need_pmode(c);
    sel = rm16_operand(c, i);
    if (!visible_desc(c, sel, &lo, &hi)) {
        set_zf(c, false);
        return;
    }
    if (!(hi & DESC_S)) {
        unsigned t = DESC_TYPE(hi);
        bool ok;
        if (c->hflags & TCGL_HF_LMA) {
            ok = t == SYS_LDT || t == SYS_TSS32_AVL || t == SYS_TSS32_BUSY ||
                 (!lsl && t == SYS_CALL32);
        } else {
            ok = t == SYS_TSS16_AVL || t == SYS_LDT || t == SYS_TSS16_BUSY ||
                 t == SYS_TSS32_AVL || t == SYS_TSS32_BUSY ||
                 (!lsl && (t == SYS_CALL16 || t == SYS_TASK || t == SYS_CALL32));
        }
        if (!ok) {
            set_zf(c, false);
            return;
        }
    }
    if (lsl) {
        tcgl_reg_set(c, i->reg, i->opsize, desc_limit(lo, hi));
    } else {
        tcgl_reg_set(c, i->reg, i->opsize, hi & 0x00f0ff00u);
    }
    set_zf(c, true);
}

/* VERR (0F 00 /4) / VERW (0F 00 /5) */
void tcgl_op_verr_verw(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_verr_verw(TCGLCPU *c, const TCGLInsn *i)
{
    bool w = (i->reg & 7) == 5;
    unsigned sel, t;
    uint32_t lo, hi;

    need_pmode(c);
    sel = rm16_operand(c, i);
    if (!visible_desc(c, sel, &lo, &hi) || !(hi & DESC_S)) {
        set_zf(c, false);
        return;
    }
    t = DESC_TYPE(hi);
    if (w) {
        set_zf(c, !(t & SEG_TYPE_CODE) && (t & SEG_TYPE_W));
    } else {
        set_zf(c, !(t & SEG_TYPE_CODE) || (t & SEG_TYPE_W));
    }
}

/*
 * tcg-lite data movement: MOV in every form (specialised by form and
 * size), MOVZX/MOVSX/MOVSXD, LEA, XCHG, PUSH/POP (register, r/m,
 * immediate), PUSHA/POPA, ENTER/LEAVE, XLAT, MOVBE, ARPL, NOP and the
 * hints (PAUSE, fences, CLFLUSH, PREFETCH).
 */
#include "int.h"
#include "int-ops.h"

/* ---- MOV ------------------------------------------------------------------------ */

static inline void mov_rr_e(TCGLCPU *c, const TCGLInsn *i, const unsigned s)
{
    tcgl_reg_set(c, i->rm, s, tcgl_reg_get(c, i->reg, s));
}

static inline void mov_rr_g(TCGLCPU *c, const TCGLInsn *i, const unsigned s)
{
    tcgl_reg_set(c, i->reg, s, tcgl_reg_get(c, i->rm, s));
}

static inline void mov_rm(TCGLCPU *c, const TCGLInsn *i, const unsigned s)
{
    tcgl_reg_set(c, i->reg, s, ld_sz(c, i->seg, tcgl_ea(c, i), s));
}

static inline void mov_mr(TCGLCPU *c, const TCGLInsn *i, const unsigned s)
{
    st_sz(c, i->seg, tcgl_ea(c, i), s, tcgl_reg_get(c, i->reg, s));
}

static inline void mov_ri(TCGLCPU *c, const TCGLInsn *i, const unsigned s)
{
    tcgl_reg_set(c, i->rm, s, i->imm);
}

static inline void mov_mi(TCGLCPU *c, const TCGLInsn *i, const unsigned s)
{
    st_sz(c, i->seg, tcgl_ea(c, i), s, i->imm);
}

#define MOV_FORM(form, s) \
    static void mov_##form##_##s(TCGLCPU *c, const TCGLInsn *i) { mov_##form(c, i, s); }
#define MOV_SIZES(form) MOV_FORM(form, 1) MOV_FORM(form, 2) MOV_FORM(form, 4) MOV_FORM(form, 8)
MOV_SIZES(rr_e)
MOV_SIZES(rr_g)
MOV_SIZES(rm)
MOV_SIZES(mr)
MOV_SIZES(ri)
MOV_SIZES(mi)

#define MOV_ROW(form) { mov_##form##_1, mov_##form##_2, mov_##form##_4, mov_##form##_8 }
TCGLHandler *const mov_handlers[ALU_NB_FORMS][4] = {
    MOV_ROW(rr_e), MOV_ROW(rr_g), MOV_ROW(rm), MOV_ROW(mr), MOV_ROW(ri), MOV_ROW(mi),
};

/* A0-A3: MOV between rAX and moffs */
void tcgl_int_mov_a_moffs(TCGLCPU *c, const TCGLInsn *i)
{
    tcgl_reg_set(c, R_EAX, i->opsize, ld_sz(c, i->seg, i->imm, i->opsize));
}

void tcgl_int_mov_moffs_a(TCGLCPU *c, const TCGLInsn *i)
{
    st_sz(c, i->seg, i->imm, i->opsize, tcgl_reg_get(c, R_EAX, i->opsize));
}

/* ---- extensions, LEA --------------------------------------------------------------- */

void tcgl_int_movzx8(TCGLCPU *c, const TCGLInsn *i)
{
    tcgl_reg_set(c, i->reg, i->opsize, rm_read(c, i, 1));
}

void tcgl_int_movzx16(TCGLCPU *c, const TCGLInsn *i)
{
    tcgl_reg_set(c, i->reg, i->opsize, rm_read(c, i, 2));
}

void tcgl_int_movsx8(TCGLCPU *c, const TCGLInsn *i)
{
    tcgl_reg_set(c, i->reg, i->opsize, (uint64_t)tcgl_sext(rm_read(c, i, 1), 1));
}

void tcgl_int_movsx16(TCGLCPU *c, const TCGLInsn *i)
{
    tcgl_reg_set(c, i->reg, i->opsize, (uint64_t)tcgl_sext(rm_read(c, i, 2), 2));
}

/* 63 in 64-bit mode: MOVSXD (without REX.W a plain 32/16-bit move) */
void tcgl_int_movsxd(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned s = i->opsize == 8 ? 4 : i->opsize;
    tcgl_reg_set(c, i->reg, i->opsize, (uint64_t)tcgl_sext(rm_read(c, i, s), s));
}

/* 63 outside 64-bit mode: ARPL Ew,Gw (#UD in real and virtual-8086 mode) */
void tcgl_int_arpl(TCGLCPU *c, const TCGLInsn *i)
{
    uint64_t d, src = tcgl_reg_get(c, i->reg, 2);
    uint32_t f = tcgl_arith_flags(c) & ~CC_Z;

    if (!(c->hflags & TCGL_HF_PE) || (c->hflags & TCGL_HF_VM)) {
        tcgl_raise(c, EXC_UD, -1);
    }
    d = rm_read(c, i, 2);
    if ((d & 3) < (src & 3)) {
        rm_write(c, i, 2, (d & ~3ULL) | (src & 3));
        f |= CC_Z;
    }
    tcgl_set_arith(c, f);
}

void tcgl_int_lea(TCGLCPU *c, const TCGLInsn *i)
{
    tcgl_reg_set(c, i->reg, i->opsize, tcgl_ea(c, i));
}

/* ---- XCHG ---------------------------------------------------------------------------- */

void tcgl_int_xchg(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned s = i->opsize;
    uint64_t r = tcgl_reg_get(c, i->reg, s);
    if (i->mod == 3) {
        tcgl_reg_set(c, i->reg, s, tcgl_reg_get(c, i->rm, s));
        tcgl_reg_set(c, i->rm, s, r);
    } else {
        uint64_t old = 0;
        RMW_RM(c, i, s, (old = a, r));
        tcgl_reg_set(c, i->reg, s, old);
    }
}

/* 90-97: XCHG r, rAX (90 without REX.B is NOP; F3 90 is PAUSE) */
void tcgl_int_xchg_ax(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned s = i->opsize;
    uint64_t a = tcgl_reg_get(c, R_EAX, s);
    tcgl_reg_set(c, R_EAX, s, tcgl_reg_get(c, i->reg, s));
    tcgl_reg_set(c, i->reg, s, a);
}

void tcgl_int_nop(TCGLCPU *c, const TCGLInsn *i)
{
    (void)c;
    (void)i;
}

void tcgl_int_pause(TCGLCPU *c, const TCGLInsn *i)
{
    (void)i;
    tcgl_pause(c);
}

/* ---- the stack -------------------------------------------------------------------------- */

void tcgl_int_push_r(TCGLCPU *c, const TCGLInsn *i)
{
    push(c, i->opsize, tcgl_reg_get(c, i->reg, i->opsize));
}

void tcgl_int_pop_r(TCGLCPU *c, const TCGLInsn *i)
{
    uint64_t v = pop(c, i->opsize);
    tcgl_reg_set(c, i->reg, i->opsize, v);
}

void tcgl_int_push_i(TCGLCPU *c, const TCGLInsn *i)
{
    push(c, i->opsize, i->imm);
}

void tcgl_int_push_rm(TCGLCPU *c, const TCGLInsn *i)
{
    push(c, i->opsize, rm_read(c, i, i->opsize));
}

/* 8F /0 POP Ev: the address is computed with the incremented stack
 * pointer (SDM: POP [ESP] uses ESP after the pop). */
void tcgl_int_pop_rm(TCGLCPU *c, const TCGLInsn *i)
{
    uint64_t old_sp = c->env->regs[R_ESP];
    uint64_t v = pop(c, i->opsize), new_sp, ea;

    if (i->mod == 3) {
        tcgl_reg_set(c, i->rm, i->opsize, v);
        return;
    }
    /* the address with the new RSP; RSP changes only once the store is done */
    ea = tcgl_ea(c, i);
    new_sp = c->env->regs[R_ESP];
    c->env->regs[R_ESP] = old_sp;
    st_sz(c, i->seg, ea, i->opsize, v);
    c->env->regs[R_ESP] = new_sp;
}

void tcgl_int_pusha(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned s = i->opsize;
    uint64_t sp = c->env->regs[R_ESP], orig = sp;
    for (int r = R_EAX; r <= R_EDI; r++) {
        sp = push_at(c, sp, s, r == R_ESP ? orig : c->env->regs[r]);
    }
    sp_set(c, sp);
}

void tcgl_int_popa(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned s = i->opsize;
    uint64_t sp = c->env->regs[R_ESP] & sp_mask(c), v[8];
    for (int r = R_EDI; r >= R_EAX; r--) {
        v[r] = ld_sz(c, R_SS, sp, s);
        sp = (sp + s) & sp_mask(c);
    }
    for (int r = R_EAX; r <= R_EDI; r++) {
        if (r != R_ESP) {
            tcgl_reg_set(c, r, s, v[r]);
        }
    }
    sp_set(c, sp);
}

/* ENTER size, level: nested frames copy level-1 frame pointers. */
void tcgl_int_enter(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned s = i->opsize, level = i->imm2 & 31;
    uint64_t m = sp_mask(c);
    uint64_t sp = c->env->regs[R_ESP], bp = c->env->regs[R_EBP], frame;

    sp = push_at(c, sp, s, bp);
    frame = sp;
    if (level > 0) {
        for (unsigned k = 1; k < level; k++) {
            bp = (bp - s) & m;
            sp = push_at(c, sp, s, ld_sz(c, R_SS, bp, s));
        }
        sp = push_at(c, sp, s, frame);
    }
    sp = (sp - i->imm) & m;
    /* touch the bottom of the frame as the CPU does (a #SS/#PF comes now) */
    if (i->imm) {
        tcgl_probe_write(c, R_SS, sp, 1);
    }
    tcgl_reg_set(c, R_EBP, s, frame);
    sp_set(c, sp);
}

void tcgl_int_leave(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned s = i->opsize;
    uint64_t bp = c->env->regs[R_EBP] & sp_mask(c);
    uint64_t v = ld_sz(c, R_SS, bp, s);
    sp_set(c, bp + s);
    tcgl_reg_set(c, R_EBP, s, v);
}

/* ---- the rest ------------------------------------------------------------------------------- */

void tcgl_int_xlat(TCGLCPU *c, const TCGLInsn *i)
{
    uint64_t ea = (c->env->regs[R_EBX] + tcgl_reg_get(c, R_EAX, 1)) & tcgl_size_mask(i->adsize);
    tcgl_reg_set(c, R_EAX, 1, tcgl_ldb(c, i->seg, ea));
}

/* 0F 38 F0/F1: MOVBE (memory operand only) */
void tcgl_int_movbe_load(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned s = i->opsize;
    uint64_t v = ld_sz(c, i->seg, tcgl_ea(c, i), s);
    v = s == 8 ? __builtin_bswap64(v) : s == 4 ? __builtin_bswap32((uint32_t)v)
                                              : __builtin_bswap16((uint16_t)v);
    tcgl_reg_set(c, i->reg, s, v);
}

void tcgl_int_movbe_store(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned s = i->opsize;
    uint64_t v = tcgl_reg_get(c, i->reg, s);
    v = s == 8 ? __builtin_bswap64(v) : s == 4 ? __builtin_bswap32((uint32_t)v)
                                              : __builtin_bswap16((uint16_t)v);
    st_sz(c, i->seg, tcgl_ea(c, i), s, v);
}

/* CLFLUSH: the line must be addressable (a fault like a byte load) */
void tcgl_int_clflush(TCGLCPU *c, const TCGLInsn *i)
{
    tcgl_ldb(c, i->seg, tcgl_ea(c, i));
}

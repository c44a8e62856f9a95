/*
 * tcg-lite control flow within a code segment: Jcc, JMP, CALL, RET near
 * (relative and indirect), LOOP/LOOPcc/JrCXZ, and BOUND.  All of them end
 * a block and set env->rip themselves.  Far transfers are the sys part's.
 */
#include "int.h"
#include "int-ops.h"

/* Jcc specialised by condition: the condition folds to the lazy-flags fast path. */
#define JCC(n) \
    static void jcc_##n(TCGLCPU *c, const TCGLInsn *i) \
    { \
        uint64_t next = next_ip(c, i); \
        if (tcgl_cond_inline(c, n)) { \
            jump_to(c, i, next + i->imm); \
        } else { \
            c->env->rip = next; \
        } \
    }
JCC(0) JCC(1) JCC(2) JCC(3) JCC(4) JCC(5) JCC(6) JCC(7)
JCC(8) JCC(9) JCC(10) JCC(11) JCC(12) JCC(13) JCC(14) JCC(15)

TCGLHandler *const jcc_handlers[16] = {
    jcc_0, jcc_1, jcc_2, jcc_3, jcc_4, jcc_5, jcc_6, jcc_7,
    jcc_8, jcc_9, jcc_10, jcc_11, jcc_12, jcc_13, jcc_14, jcc_15,
};

void tcgl_int_jmp_rel(TCGLCPU *c, const TCGLInsn *i)
{
    jump_to(c, i, next_ip(c, i) + i->imm);
}

void tcgl_int_jmp_rm(TCGLCPU *c, const TCGLInsn *i)
{
    jump_to(c, i, rm_read(c, i, i->opsize));
}

void tcgl_int_call_rel(TCGLCPU *c, const TCGLInsn *i)
{
    uint64_t next = next_ip(c, i);
    push(c, i->opsize, next);
    jump_to(c, i, next + i->imm);
}

void tcgl_int_call_rm(TCGLCPU *c, const TCGLInsn *i)
{
    uint64_t target = rm_read(c, i, i->opsize);
    push(c, i->opsize, next_ip(c, i));
    jump_to(c, i, target);
}

void tcgl_int_ret(TCGLCPU *c, const TCGLInsn *i)
{
    uint64_t sp = c->env->regs[R_ESP] & sp_mask(c);
    uint64_t target = ld_sz(c, R_SS, sp, i->opsize);
    sp_set(c, sp + i->opsize + i->imm);
    jump_to(c, i, target);
}

/* E0 LOOPNE, E1 LOOPE, E2 LOOP, E3 JrCXZ: the count register has the address size. */
void tcgl_int_loop(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned as = i->adsize, op = i->opc & 3;
    uint64_t cnt = tcgl_reg_get(c, R_ECX, as), next = next_ip(c, i);
    bool take;

    if (op == 3) {
        take = cnt == 0;
    } else {
        cnt = (cnt - 1) & tcgl_size_mask(as);
        tcgl_reg_set(c, R_ECX, as, cnt);
        take = cnt != 0;
        if (op == 0) {
            take = take && !tcgl_cond_inline(c, 4);     /* ZF = 0 */
        } else if (op == 1) {
            take = take && tcgl_cond_inline(c, 4);      /* ZF = 1 */
        }
    }
    if (take) {
        jump_to(c, i, next + i->imm);
    } else {
        c->env->rip = next;
    }
}

/* 62: BOUND Gv, Ma: #BR when the index is outside [lower, upper]. */
void tcgl_int_bound(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned s = i->opsize;
    uint64_t ea = tcgl_ea(c, i);
    int64_t idx = tcgl_sext(tcgl_reg_get(c, i->reg, s), s);
    int64_t lo = tcgl_sext(ld_sz(c, i->seg, ea, s), s);
    int64_t hi = tcgl_sext(ld_sz(c, i->seg, (ea + s) & tcgl_size_mask(i->adsize), s), s);
    if (idx < lo || idx > hi) {
        tcgl_raise(c, EXC_BR, -1);
    }
}

/*
 * tcg-lite bit operations and the small rest: BT/BTS/BTR/BTC, BSF/BSR,
 * TZCNT/LZCNT/POPCNT, CBW/CWD and friends, LAHF/SAHF, CLC/STC/CMC/
 * CLD/STD, SALC, and the BCD adjustments.
 */
#include "int.h"
#include "int-ops.h"

/* ---- bit test, scan, count ---------------------------------------------------------- */

/* kind: 0 BT, 1 BTS, 2 BTR, 3 BTC.  With a register bit offset and a
 * memory operand the offset reaches beyond the operand (signed). */
static void bit_op(TCGLCPU *c, const TCGLInsn *i, unsigned kind, uint64_t off, bool reg_off)
{
    unsigned s = i->opsize, bits = s * 8;
    uint64_t bit, a, r;

    if (i->mod == 3) {
        bit = off & (bits - 1);
        a = tcgl_reg_get(c, i->rm, s);
        r = kind == 1 ? a | (1ULL << bit) : kind == 2 ? a & ~(1ULL << bit)
          : a ^ (1ULL << bit);
        if (kind) {
            tcgl_reg_set(c, i->rm, s, r);
        }
    } else {
        uint64_t ea = tcgl_ea(c, i);
        if (reg_off) {
            int64_t so = tcgl_sext(off, s);
            ea += (uint64_t)((so >> (s == 2 ? 4 : s == 4 ? 5 : 6)) * (int64_t)s);
            ea &= tcgl_size_mask(i->adsize);
            bit = (uint64_t)so & (bits - 1);
        } else {
            bit = off & (bits - 1);
        }
        a = ld_sz(c, i->seg, ea, s);
        r = kind == 1 ? a | (1ULL << bit) : kind == 2 ? a & ~(1ULL << bit)
          : a ^ (1ULL << bit);
        if (kind) {
            st_sz(c, i->seg, ea, s, r);
        }
    }
    set_cf(c, (a >> bit) & 1);
}

void tcgl_int_bt_r(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned kind = i->opc == TCGL_OPC(1, 0xa3) ? 0 : i->opc == TCGL_OPC(1, 0xab) ? 1
                  : i->opc == TCGL_OPC(1, 0xb3) ? 2 : 3;
    bit_op(c, i, kind, tcgl_reg_get(c, i->reg, i->opsize), true);
}

void tcgl_int_bt_i(TCGLCPU *c, const TCGLInsn *i)
{
    bit_op(c, i, ((i->modrm >> 3) & 7) - 4, i->imm, false);
}

/* BSF/BSR: ZF = source zero, destination unchanged then (as on Intel and
 * in QEMU); TZCNT/LZCNT: CF = source zero, ZF = result zero; POPCNT. */
void tcgl_int_bsf(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned s = i->opsize;
    uint64_t v = rm_read(c, i, s);
    if (v) {
        tcgl_reg_set(c, i->reg, s, (uint64_t)__builtin_ctzll(v));
    }
    tcgl_cc_set(c, TCGL_CC(CC_K_LOGIC, s), v, 0);
}

void tcgl_int_bsr(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned s = i->opsize;
    uint64_t v = rm_read(c, i, s);
    if (v) {
        tcgl_reg_set(c, i->reg, s, (uint64_t)(63 - __builtin_clzll(v)));
    }
    tcgl_cc_set(c, TCGL_CC(CC_K_LOGIC, s), v, 0);
}

void tcgl_int_tzcnt(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned s = i->opsize;
    uint64_t v = rm_read(c, i, s);
    uint64_t r = v ? (uint64_t)__builtin_ctzll(v) : s * 8;
    tcgl_reg_set(c, i->reg, s, r);
    tcgl_set_arith(c, (v ? 0 : CC_C) | (r ? 0 : CC_Z));
}

void tcgl_int_lzcnt(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned s = i->opsize;
    uint64_t v = rm_read(c, i, s);
    uint64_t r = v ? (uint64_t)(__builtin_clzll(v) - (64 - s * 8)) : s * 8;
    tcgl_reg_set(c, i->reg, s, r);
    tcgl_set_arith(c, (v ? 0 : CC_C) | (r ? 0 : CC_Z));
}

void tcgl_int_popcnt(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned s = i->opsize;
    uint64_t v = rm_read(c, i, s);
    tcgl_reg_set(c, i->reg, s, (uint64_t)__builtin_popcountll(v));
    tcgl_set_arith(c, v ? 0 : CC_Z);
}

/* ---- conversions and flag instructions ------------------------------------------------ */

void tcgl_int_cbw(TCGLCPU *c, const TCGLInsn *i)    /* CBW CWDE CDQE */
{
    unsigned s = i->opsize;
    tcgl_reg_set(c, R_EAX, s, (uint64_t)tcgl_sext(tcgl_reg_get(c, R_EAX, s / 2), s / 2));
}

void tcgl_int_cwd(TCGLCPU *c, const TCGLInsn *i)    /* CWD CDQ CQO */
{
    unsigned s = i->opsize;
    int64_t a = tcgl_sext(tcgl_reg_get(c, R_EAX, s), s);
    tcgl_reg_set(c, R_EDX, s, a < 0 ? ~0ULL : 0);
}

void tcgl_int_lahf(TCGLCPU *c, const TCGLInsn *i)
{
    (void)i;
    tcgl_reg_set(c, 16, 1, (tcgl_arith_flags(c) & 0xd5) | 2);
}

void tcgl_int_sahf(TCGLCPU *c, const TCGLInsn *i)
{
    uint32_t f = tcgl_arith_flags(c);
    (void)i;
    tcgl_set_arith(c, (f & CC_O) | ((uint32_t)tcgl_reg_get(c, 16, 1) & 0xd5));
}

void tcgl_int_clc(TCGLCPU *c, const TCGLInsn *i) { (void)i; set_cf(c, false); }
void tcgl_int_stc(TCGLCPU *c, const TCGLInsn *i) { (void)i; set_cf(c, true); }
void tcgl_int_cmc(TCGLCPU *c, const TCGLInsn *i) { (void)i; set_cf(c, !tcgl_get_cf(c)); }
void tcgl_int_cld(TCGLCPU *c, const TCGLInsn *i) { (void)i; c->env->rflags &= ~(uint64_t)RFLAGS_DF; }
void tcgl_int_std(TCGLCPU *c, const TCGLInsn *i) { (void)i; c->env->rflags |= RFLAGS_DF; }

void tcgl_int_salc(TCGLCPU *c, const TCGLInsn *i)
{
    (void)i;
    tcgl_reg_set(c, R_EAX, 1, tcgl_get_cf(c) ? 0xff : 0);
}

/* ---- BCD (outside 64-bit mode) ---------------------------------------------------- */

void tcgl_int_daa(TCGLCPU *c, const TCGLInsn *i)
{
    uint32_t f = tcgl_arith_flags(c);
    uint64_t al = tcgl_reg_get(c, R_EAX, 1), old = al;
    bool cf = f & CC_C, af = false;
    (void)i;
    if ((al & 0x0f) > 9 || (f & CC_A)) {
        al = (al + 6) & 0xff;
        af = true;
    }
    if (old > 0x99 || cf) {
        al = (al + 0x60) & 0xff;
        cf = true;
    }
    tcgl_reg_set(c, R_EAX, 1, al);
    tcgl_cc_set(c, TCGL_CC(CC_K_LOGIC, 1), al, 0);
    f = tcgl_arith_flags(c);
    tcgl_set_arith(c, f | (cf ? CC_C : 0) | (af ? CC_A : 0));
}

void tcgl_int_das(TCGLCPU *c, const TCGLInsn *i)
{
    uint32_t f = tcgl_arith_flags(c);
    uint64_t al = tcgl_reg_get(c, R_EAX, 1), old = al;
    bool cf = false, af = false;
    (void)i;
    if ((al & 0x0f) > 9 || (f & CC_A)) {
        cf = (f & CC_C) || al < 6;
        al = (al - 6) & 0xff;
        af = true;
    }
    if (old > 0x99 || (f & CC_C)) {
        al = (al - 0x60) & 0xff;
        cf = true;
    }
    tcgl_reg_set(c, R_EAX, 1, al);
    tcgl_cc_set(c, TCGL_CC(CC_K_LOGIC, 1), al, 0);
    f = tcgl_arith_flags(c);
    tcgl_set_arith(c, f | (cf ? CC_C : 0) | (af ? CC_A : 0));
}

/* AAA/AAS: QEMU's form (AX adjusted as a whole; OF, SF, ZF, PF from the
 * previous state are undefined: kept). */
static void aaa_aas(TCGLCPU *c, bool add)
{
    uint32_t f = tcgl_arith_flags(c);
    uint64_t ax = tcgl_reg_get(c, R_EAX, 2);
    if ((ax & 0x0f) > 9 || (f & CC_A)) {
        ax = add ? ax + 0x106 : ax - 0x106;
        f |= CC_A | CC_C;
    } else {
        f &= ~(CC_A | CC_C);
    }
    tcgl_reg_set(c, R_EAX, 2, ax & 0xff0f);
    tcgl_set_arith(c, f);
}

void tcgl_int_aaa(TCGLCPU *c, const TCGLInsn *i) { (void)i; aaa_aas(c, true); }
void tcgl_int_aas(TCGLCPU *c, const TCGLInsn *i) { (void)i; aaa_aas(c, false); }

void tcgl_int_aam(TCGLCPU *c, const TCGLInsn *i)
{
    uint64_t al = tcgl_reg_get(c, R_EAX, 1), base = i->imm & 0xff;
    if (base == 0) {
        tcgl_raise(c, EXC_DE, -1);
    }
    tcgl_reg_set(c, 16, 1, al / base);
    tcgl_reg_set(c, R_EAX, 1, al % base);
    tcgl_cc_set(c, TCGL_CC(CC_K_LOGIC, 1), al % base, 0);
}

void tcgl_int_aad(TCGLCPU *c, const TCGLInsn *i)
{
    uint64_t al = tcgl_reg_get(c, R_EAX, 1), ah = tcgl_reg_get(c, 16, 1);
    uint64_t r = (al + ah * (i->imm & 0xff)) & 0xff;
    tcgl_reg_set(c, R_EAX, 2, r);
    tcgl_cc_set(c, TCGL_CC(CC_K_LOGIC, 1), r, 0);
}

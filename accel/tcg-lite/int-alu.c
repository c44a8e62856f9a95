/*
 * tcg-lite integer arithmetic: ADD..CMP and TEST in every form, INC/DEC,
 * NOT/NEG, MUL/IMUL/DIV/IDIV, XADD/CMPXCHG/CMPXCHG8B/16B, BSWAP,
 * SETcc/CMOVcc.
 * Shifts are in int-shift.c, bit operations, conversions, flag
 * instructions and BCD in int-bits.c.
 *
 * The two-operand ALU group is specialised by operation, operand form
 * (register/register, register/memory, immediate) and size; the decoder's
 * select functions (int-table.c) pick one from alu_handlers[].
 */
#include "int.h"
#include "int-ops.h"

/* ---- the eight ALU operations and TEST ------------------------------------ */

enum { OP_ADD, OP_OR, OP_ADC, OP_SBB, OP_AND, OP_SUB, OP_XOR, OP_CMP, OP_TEST };

static inline uint64_t alu(TCGLCPU *c, const int op, const unsigned size, uint64_t a, uint64_t b)
{
    const uint64_t m = tcgl_size_mask(size);
    uint64_t r, cin;

    a &= m;
    b &= m;
    switch (op) {
    case OP_ADD:
        r = (a + b) & m;
        tcgl_cc_set(c, TCGL_CC(CC_K_ADD, size), r, b);
        return r;
    case OP_ADC:
        cin = tcgl_get_cf(c);
        r = (a + b + cin) & m;
        tcgl_cc_set3(c, TCGL_CC(CC_K_ADC, size), r, b, cin);
        return r;
    case OP_SUB:
    case OP_CMP:
        r = (a - b) & m;
        tcgl_cc_set(c, TCGL_CC(CC_K_SUB, size), r, b);
        return r;
    case OP_SBB:
        cin = tcgl_get_cf(c);
        r = (a - b - cin) & m;
        tcgl_cc_set3(c, TCGL_CC(CC_K_SBB, size), r, b, cin);
        return r;
    case OP_OR:
        r = a | b;
        break;
    case OP_XOR:
        r = a ^ b;
        break;
    default:    /* AND, TEST */
        r = a & b;
        break;
    }
    tcgl_cc_set(c, TCGL_CC(CC_K_LOGIC, size), r, 0);
    return r;
}

#define ALU_WRITES(op) ((op) != OP_CMP && (op) != OP_TEST)

/* dst r/m register, src reg (Ev,Gv) */
static inline void alu_rr_e(TCGLCPU *c, const TCGLInsn *i, const int op, const unsigned size)
{
    uint64_t r = alu(c, op, size, tcgl_reg_get(c, i->rm, size), tcgl_reg_get(c, i->reg, size));
    if (ALU_WRITES(op)) {
        tcgl_reg_set(c, i->rm, size, r);
    }
}

/* dst reg, src r/m register (Gv,Ev) */
static inline void alu_rr_g(TCGLCPU *c, const TCGLInsn *i, const int op, const unsigned size)
{
    uint64_t r = alu(c, op, size, tcgl_reg_get(c, i->reg, size), tcgl_reg_get(c, i->rm, size));
    if (ALU_WRITES(op)) {
        tcgl_reg_set(c, i->reg, size, r);
    }
}

/* dst reg, src memory (Gv,Ev) */
static inline void alu_rm(TCGLCPU *c, const TCGLInsn *i, const int op, const unsigned size)
{
    uint64_t b = ld_sz(c, i->seg, tcgl_ea(c, i), size);
    uint64_t r = alu(c, op, size, tcgl_reg_get(c, i->reg, size), b);
    if (ALU_WRITES(op)) {
        tcgl_reg_set(c, i->reg, size, r);
    }
}

/* Memory destination: read-modify-write through a host pointer when the
 * operand is in RAM, else probe, load, store. */
static inline void alu_mem(TCGLCPU *c, const TCGLInsn *i, const int op, const unsigned size,
                           uint64_t b)
{
    uint64_t ea = tcgl_ea(c, i);
    void *p;

    if (!ALU_WRITES(op)) {
        alu(c, op, size, ld_sz(c, i->seg, ea, size), b);
        return;
    }
    p = rmw_ptr(c, i->seg, ea, size);
    if (likely(p != NULL)) {
        host_st(p, size, alu(c, op, size, host_ld(p, size), b));
    } else {
        uint64_t a;
        tcgl_probe_write(c, i->seg, ea, size);
        a = ld_sz(c, i->seg, ea, size);
        st_sz(c, i->seg, ea, size, alu(c, op, size, a, b));
    }
}

static inline void alu_mr(TCGLCPU *c, const TCGLInsn *i, const int op, const unsigned size)
{
    alu_mem(c, i, op, size, tcgl_reg_get(c, i->reg, size));
}

/* register destination (r/m register, or rAX for the short forms) and immediate */
static inline void alu_ri(TCGLCPU *c, const TCGLInsn *i, const int op, const unsigned size)
{
    uint64_t r = alu(c, op, size, tcgl_reg_get(c, i->rm, size), i->imm);
    if (ALU_WRITES(op)) {
        tcgl_reg_set(c, i->rm, size, r);
    }
}

static inline void alu_mi(TCGLCPU *c, const TCGLInsn *i, const int op, const unsigned size)
{
    alu_mem(c, i, op, size, i->imm);
}

#define ALU_FORM(form, name, op, size) \
    static void name##_##form##_##size(TCGLCPU *c, const TCGLInsn *i) { alu_##form(c, i, op, size); }
#define ALU_SIZES(form, name, op) \
    ALU_FORM(form, name, op, 1) ALU_FORM(form, name, op, 2) \
    ALU_FORM(form, name, op, 4) ALU_FORM(form, name, op, 8)
#define ALU_OP(name, op) \
    ALU_SIZES(rr_e, name, op) ALU_SIZES(rr_g, name, op) ALU_SIZES(rm, name, op) \
    ALU_SIZES(mr, name, op) ALU_SIZES(ri, name, op) ALU_SIZES(mi, name, op)

ALU_OP(add, OP_ADD)
ALU_OP(or, OP_OR)
ALU_OP(adc, OP_ADC)
ALU_OP(sbb, OP_SBB)
ALU_OP(and, OP_AND)
ALU_OP(sub, OP_SUB)
ALU_OP(xor, OP_XOR)
ALU_OP(cmp, OP_CMP)
ALU_OP(test, OP_TEST)

#define ALU_ROW(form, name) { name##_##form##_1, name##_##form##_2, name##_##form##_4, name##_##form##_8 }
#define ALU_ENTRY(name) { ALU_ROW(rr_e, name), ALU_ROW(rr_g, name), ALU_ROW(rm, name), \
                          ALU_ROW(mr, name), ALU_ROW(ri, name), ALU_ROW(mi, name) }

TCGLHandler *const alu_handlers[9][ALU_NB_FORMS][4] = {
    ALU_ENTRY(add), ALU_ENTRY(or), ALU_ENTRY(adc), ALU_ENTRY(sbb),
    ALU_ENTRY(and), ALU_ENTRY(sub), ALU_ENTRY(xor), ALU_ENTRY(cmp), ALU_ENTRY(test),
};

/* ---- CMP/TEST fused with the Jcc that follows ---------------------------------- */

/* Bit (CF | ZF << 1 | SF << 2 | OF << 3) of cond_masks[cc] says whether
 * condition cc holds (P/NP: 0, handled apart). */
static const uint16_t cond_masks[16] = {
    0xff00, 0x00ff, 0xaaaa, 0x5555, 0xcccc, 0x3333, 0xeeee, 0x1111,
    0xf0f0, 0x0f0f, 0x0000, 0x0000, 0x0ff0, 0xf00f, 0xcffc, 0x3003,
};

/* Condition cc from the lazy flags that a CMP (SUB kind) or TEST (LOGIC
 * kind) of `size` just set, without branching on cc. */
static inline TCGL_ALWAYS_INLINE bool fused_cond(TCGLCPU *c, unsigned cc, const int op,
                                                 const unsigned size)
{
    const uint64_t m = tcgl_size_mask(size);
    const unsigned sbit = size * 8 - 1;
    uint64_t r = c->cc_dst & m;
    unsigned cf = 0, of = 0, zf = r == 0, sf = (r >> sbit) & 1;

    if (op == OP_CMP) {
        uint64_t b = c->cc_src & m, a = (r + b) & m;
        cf = a < b;
        of = (((a ^ b) & (a ^ r)) >> sbit) & 1;
    }
    if (unlikely((cc >> 1) == 5)) {
        return tcgl_cond(c, cc);        /* parity: the full flags */
    }
    return (cond_masks[cc] >> (cf | zf << 1 | sf << 2 | of << 3)) & 1;
}

/* i: the CMP/TEST, i + 1: the Jcc (the block's last instruction, which the
 * executor does not run on its own). */
#define FUSED_FORM(form, name, op, size) \
    static void fused_##name##_##form##_##size(TCGLCPU *c, const TCGLInsn *i) \
    { \
        const TCGLInsn *j = i + 1; \
        uint64_t next; \
        alu_##form(c, i, op, size); \
        c->env->rip += i->len; \
        next = next_ip(c, j); \
        if (fused_cond(c, j->opc & 15, op, size)) { \
            jump_to(c, j, next + j->imm); \
        } else { \
            c->env->rip = next; \
        } \
    }
#define FUSED_SIZES(form, name, op) \
    FUSED_FORM(form, name, op, 1) FUSED_FORM(form, name, op, 2) \
    FUSED_FORM(form, name, op, 4) FUSED_FORM(form, name, op, 8)
#define FUSED_OP(name, op) \
    FUSED_SIZES(rr_e, name, op) FUSED_SIZES(rr_g, name, op) FUSED_SIZES(rm, name, op) \
    FUSED_SIZES(mr, name, op) FUSED_SIZES(ri, name, op) FUSED_SIZES(mi, name, op)

FUSED_OP(cmp, OP_CMP)
FUSED_OP(test, OP_TEST)

#define FUSED_ROW(form, name) { fused_##name##_##form##_1, fused_##name##_##form##_2, \
                                fused_##name##_##form##_4, fused_##name##_##form##_8 }
#define FUSED_ENTRY(name) { FUSED_ROW(rr_e, name), FUSED_ROW(rr_g, name), FUSED_ROW(rm, name), \
                            FUSED_ROW(mr, name), FUSED_ROW(ri, name), FUSED_ROW(mi, name) }

static TCGLHandler *const fused_handlers[2][ALU_NB_FORMS][4] = {
    FUSED_ENTRY(cmp), FUSED_ENTRY(test),
};

TCGLHandler *tcgl_int_fuse_jcc(const TCGLInsn *first, const TCGLInsn *jcc)
{
    if (jcc->fn != jcc_handlers[jcc->opc & 15]) {
        return NULL;
    }
    for (int op = 0; op < 2; op++) {
        for (int form = 0; form < ALU_NB_FORMS; form++) {
            for (int size = 0; size < 4; size++) {
                if (first->fn == alu_handlers[OP_CMP + op][form][size]) {
                    return fused_handlers[op][form][size];
                }
            }
        }
    }
    return NULL;
}

/* ---- INC DEC NOT NEG ------------------------------------------------------------ */

static inline uint64_t do_inc(TCGLCPU *c, unsigned size, uint64_t a)
{
    uint64_t r = (a + 1) & tcgl_size_mask(size);
    uint64_t cf = tcgl_get_cf(c);
    tcgl_cc_set3(c, TCGL_CC(CC_K_INC, size), r, 0, cf);
    return r;
}

static inline uint64_t do_dec(TCGLCPU *c, unsigned size, uint64_t a)
{
    uint64_t r = (a - 1) & tcgl_size_mask(size);
    uint64_t cf = tcgl_get_cf(c);
    tcgl_cc_set3(c, TCGL_CC(CC_K_DEC, size), r, 0, cf);
    return r;
}

static inline uint64_t do_neg(TCGLCPU *c, unsigned size, uint64_t a)
{
    uint64_t m = tcgl_size_mask(size);
    uint64_t r = (0 - a) & m;
    tcgl_cc_set(c, TCGL_CC(CC_K_SUB, size), r, a & m);
    return r;
}

/* INC/DEC of a register (FE/FF /0 /1 with mod 3), by size */
#define INCDEC_REG(s) \
    static void inc_reg_##s(TCGLCPU *c, const TCGLInsn *i) \
    { tcgl_reg_set(c, i->rm, s, do_inc(c, s, tcgl_reg_get(c, i->rm, s))); } \
    static void dec_reg_##s(TCGLCPU *c, const TCGLInsn *i) \
    { tcgl_reg_set(c, i->rm, s, do_dec(c, s, tcgl_reg_get(c, i->rm, s))); }
INCDEC_REG(1) INCDEC_REG(2) INCDEC_REG(4) INCDEC_REG(8)
TCGLHandler *const incdec_reg_handlers[2][4] = {
    { inc_reg_1, inc_reg_2, inc_reg_4, inc_reg_8 },
    { dec_reg_1, dec_reg_2, dec_reg_4, dec_reg_8 },
};

void tcgl_int_inc(TCGLCPU *c, const TCGLInsn *i) { RMW_RM(c, i, i->opsize, do_inc(c, i->opsize, a)); }
void tcgl_int_dec(TCGLCPU *c, const TCGLInsn *i) { RMW_RM(c, i, i->opsize, do_dec(c, i->opsize, a)); }
void tcgl_int_not(TCGLCPU *c, const TCGLInsn *i) { RMW_RM(c, i, i->opsize, ~a); }
void tcgl_int_neg(TCGLCPU *c, const TCGLInsn *i) { RMW_RM(c, i, i->opsize, do_neg(c, i->opsize, a)); }

/* 40-4F outside 64-bit mode: the register in the opcode */
void tcgl_int_inc_r(TCGLCPU *c, const TCGLInsn *i)
{
    tcgl_reg_set(c, i->reg, i->opsize, do_inc(c, i->opsize, tcgl_reg_get(c, i->reg, i->opsize)));
}

void tcgl_int_dec_r(TCGLCPU *c, const TCGLInsn *i)
{
    tcgl_reg_set(c, i->reg, i->opsize, do_dec(c, i->opsize, tcgl_reg_get(c, i->reg, i->opsize)));
}

/* ---- multiply and divide ------------------------------------------------------ */

static inline void set_mul_flags(TCGLCPU *c, unsigned size, uint64_t lo, bool ovf)
{
    tcgl_cc_set(c, TCGL_CC(CC_K_MUL, size), lo & tcgl_size_mask(size), ovf);
}

/* F6/F7 /4 MUL: rDX:rAX = rAX * r/m (AX = AL * r/m8) */
void tcgl_int_mul(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned s = i->opsize;
    uint64_t b = rm_read(c, i, s), a = tcgl_reg_get(c, R_EAX, s);
    if (s == 1) {
        uint64_t r = a * b;
        tcgl_reg_set(c, R_EAX, 2, r);
        set_mul_flags(c, 1, r, r >> 8);
    } else if (s == 8) {
        unsigned __int128 r = (unsigned __int128)a * b;
        tcgl_reg_set(c, R_EAX, 8, (uint64_t)r);
        tcgl_reg_set(c, R_EDX, 8, (uint64_t)(r >> 64));
        set_mul_flags(c, 8, (uint64_t)r, (r >> 64) != 0);
    } else {
        uint64_t r = a * b;
        tcgl_reg_set(c, R_EAX, s, r);
        tcgl_reg_set(c, R_EDX, s, r >> (s * 8));
        set_mul_flags(c, s, r, (r >> (s * 8)) != 0);
    }
}

/* F6/F7 /5 IMUL one operand */
void tcgl_int_imul1(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned s = i->opsize;
    int64_t b = tcgl_sext(rm_read(c, i, s), s), a = tcgl_sext(tcgl_reg_get(c, R_EAX, s), s);
    if (s == 8) {
        __int128 r = (__int128)a * b;
        tcgl_reg_set(c, R_EAX, 8, (uint64_t)r);
        tcgl_reg_set(c, R_EDX, 8, (uint64_t)((unsigned __int128)r >> 64));
        set_mul_flags(c, 8, (uint64_t)r, r != (int64_t)r);
    } else {
        int64_t r = a * b;
        if (s == 1) {
            tcgl_reg_set(c, R_EAX, 2, (uint64_t)r);
        } else {
            tcgl_reg_set(c, R_EAX, s, (uint64_t)r);
            tcgl_reg_set(c, R_EDX, s, (uint64_t)r >> (s * 8));
        }
        set_mul_flags(c, s, (uint64_t)r, r != tcgl_sext((uint64_t)r, s));
    }
}

static inline uint64_t imul2(TCGLCPU *c, unsigned s, uint64_t x, uint64_t y)
{
    int64_t a = tcgl_sext(x, s), b = tcgl_sext(y, s);
    if (s == 8) {
        __int128 r = (__int128)a * b;
        set_mul_flags(c, 8, (uint64_t)r, r != (int64_t)r);
        return (uint64_t)r;
    } else {
        int64_t r = a * b;
        set_mul_flags(c, s, (uint64_t)r, r != tcgl_sext((uint64_t)r, s));
        return (uint64_t)r;
    }
}

/* 0F AF IMUL Gv,Ev */
void tcgl_int_imul_gv(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned s = i->opsize;
    uint64_t b = rm_read(c, i, s);
    tcgl_reg_set(c, i->reg, s, imul2(c, s, tcgl_reg_get(c, i->reg, s), b));
}

/* 69/6B IMUL Gv,Ev,imm */
void tcgl_int_imul_gvi(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned s = i->opsize;
    uint64_t b = rm_read(c, i, s);
    tcgl_reg_set(c, i->reg, s, imul2(c, s, b, i->imm));
}

/* F6/F7 /6 DIV: #DE on a zero divisor or a quotient that does not fit */
void tcgl_int_div(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned s = i->opsize;
    uint64_t d = rm_read(c, i, s);
    if (d == 0) {
        tcgl_raise(c, EXC_DE, -1);
    }
    if (s == 8) {
        unsigned __int128 n = (unsigned __int128)c->env->regs[R_EDX] << 64 | c->env->regs[R_EAX];
        unsigned __int128 q = n / d;
        if (q >> 64) {
            tcgl_raise(c, EXC_DE, -1);
        }
        c->env->regs[R_EAX] = (uint64_t)q;
        c->env->regs[R_EDX] = (uint64_t)(n % d);
    } else if (s == 1) {
        uint64_t n = tcgl_reg_get(c, R_EAX, 2), q = n / d;
        if (q > 0xff) {
            tcgl_raise(c, EXC_DE, -1);
        }
        tcgl_reg_set(c, R_EAX, 1, q);
        tcgl_reg_set(c, 16, 1, n % d);     /* AH */
    } else {
        uint64_t n = tcgl_reg_get(c, R_EDX, s) << (s * 8) | tcgl_reg_get(c, R_EAX, s);
        uint64_t q = n / d;
        if (q > tcgl_size_mask(s)) {
            tcgl_raise(c, EXC_DE, -1);
        }
        tcgl_reg_set(c, R_EAX, s, q);
        tcgl_reg_set(c, R_EDX, s, n % d);
    }
}

/* F6/F7 /7 IDIV */
void tcgl_int_idiv(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned s = i->opsize;
    int64_t d = tcgl_sext(rm_read(c, i, s), s);
    if (d == 0) {
        tcgl_raise(c, EXC_DE, -1);
    }
    if (s == 8) {
        __int128 n = (__int128)((unsigned __int128)c->env->regs[R_EDX] << 64 |
                                c->env->regs[R_EAX]);
        __int128 q, r;
        if ((unsigned __int128)n == (unsigned __int128)1 << 127 && d == -1) {
            tcgl_raise(c, EXC_DE, -1);
        }
        q = n / d;
        r = n % d;
        if (q != (int64_t)q) {
            tcgl_raise(c, EXC_DE, -1);
        }
        c->env->regs[R_EAX] = (uint64_t)q;
        c->env->regs[R_EDX] = (uint64_t)r;
    } else {
        int64_t n, q;
        if (s == 1) {
            n = (int16_t)tcgl_reg_get(c, R_EAX, 2);
        } else {
            n = tcgl_sext(tcgl_reg_get(c, R_EDX, s) << (s * 8) | tcgl_reg_get(c, R_EAX, s),
                          s * 2);
        }
        if (n == INT64_MIN && d == -1) {
            tcgl_raise(c, EXC_DE, -1);      /* (the host division would trap) */
        }
        q = n / d;
        if (q != tcgl_sext((uint64_t)q, s)) {
            tcgl_raise(c, EXC_DE, -1);
        }
        if (s == 1) {
            tcgl_reg_set(c, R_EAX, 1, (uint64_t)q);
            tcgl_reg_set(c, 16, 1, (uint64_t)(n % d));
        } else {
            tcgl_reg_set(c, R_EAX, s, (uint64_t)q);
            tcgl_reg_set(c, R_EDX, s, (uint64_t)(n % d));
        }
    }
}

/* ---- exchange-and-operate ---------------------------------------------------------- */

void tcgl_int_xadd(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned s = i->opsize;
    uint64_t b = tcgl_reg_get(c, i->reg, s);
    if (i->mod == 3) {
        uint64_t a = tcgl_reg_get(c, i->rm, s);
        uint64_t r = alu(c, OP_ADD, s, a, b);
        tcgl_reg_set(c, i->reg, s, a);
        tcgl_reg_set(c, i->rm, s, r);
    } else {
        uint64_t old = 0;
        RMW_RM(c, i, s, (old = a, alu(c, OP_ADD, s, a, b)));
        tcgl_reg_set(c, i->reg, s, old);
    }
}

/* CMPXCHG: compare rAX with r/m; equal: r/m = reg, else rAX = r/m.  The
 * memory operand is always written (the old value back on a mismatch). */
void tcgl_int_cmpxchg(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned s = i->opsize;
    uint64_t acc = tcgl_reg_get(c, R_EAX, s), src = tcgl_reg_get(c, i->reg, s), old = 0;

    if (i->mod == 3) {
        old = tcgl_reg_get(c, i->rm, s);
        alu(c, OP_CMP, s, acc, old);
        if (old == acc) {
            tcgl_reg_set(c, i->rm, s, src);
        } else {
            tcgl_reg_set(c, R_EAX, s, old);
        }
        return;
    }
    RMW_RM(c, i, s, (old = a, a == acc ? src : a));
    alu(c, OP_CMP, s, acc, old);
    if (old != acc) {
        tcgl_reg_set(c, R_EAX, s, old);
    }
}

/* 0F C7 /1: CMPXCHG8B m64, CMPXCHG16B m128 (REX.W; 16-byte aligned or #GP) */
void tcgl_int_cmpxchg8b(TCGLCPU *c, const TCGLInsn *i)
{
    X86CPUState *env = c->env;
    uint64_t ea = tcgl_ea(c, i);
    uint32_t f = tcgl_arith_flags(c) & ~CC_Z;

    if (i->rex & 8) {
        uint64_t lo, hi;
        if (ea & 15) {
            tcgl_raise(c, EXC_GP, 0);
        }
        tcgl_probe_write(c, i->seg, ea, 16);
        lo = tcgl_ldq(c, i->seg, ea);
        hi = tcgl_ldq(c, i->seg, ea + 8);
        if (lo == env->regs[R_EAX] && hi == env->regs[R_EDX]) {
            tcgl_stq(c, i->seg, ea, env->regs[R_EBX]);
            tcgl_stq(c, i->seg, ea + 8, env->regs[R_ECX]);
            f |= CC_Z;
        } else {
            tcgl_stq(c, i->seg, ea, lo);
            tcgl_stq(c, i->seg, ea + 8, hi);
            env->regs[R_EAX] = lo;
            env->regs[R_EDX] = hi;
        }
    } else {
        uint64_t v, cmp = (uint64_t)(uint32_t)env->regs[R_EDX] << 32 | (uint32_t)env->regs[R_EAX];
        tcgl_probe_write(c, i->seg, ea, 8);
        v = tcgl_ldq(c, i->seg, ea);
        if (v == cmp) {
            tcgl_stq(c, i->seg, ea, (uint64_t)(uint32_t)env->regs[R_ECX] << 32 |
                                    (uint32_t)env->regs[R_EBX]);
            f |= CC_Z;
        } else {
            tcgl_stq(c, i->seg, ea, v);
            tcgl_reg_set(c, R_EAX, 4, v);
            tcgl_reg_set(c, R_EDX, 4, v >> 32);
        }
    }
    tcgl_set_arith(c, f);
}

void tcgl_int_bswap(TCGLCPU *c, const TCGLInsn *i)
{
    uint64_t v = c->env->regs[i->reg];
    if (i->opsize == 8) {
        c->env->regs[i->reg] = __builtin_bswap64(v);
    } else if (i->opsize == 4) {
        c->env->regs[i->reg] = __builtin_bswap32((uint32_t)v);
    } else {
        tcgl_reg_set(c, i->reg, 2, 0);      /* BSWAP r16 is undefined; QEMU and CPUs give 0 */
    }
}

/* ---- conditions -------------------------------------------------------------------- */

void tcgl_int_setcc(TCGLCPU *c, const TCGLInsn *i)
{
    rm_write(c, i, 1, tcgl_cond_inline(c, i->opc & 15));
}

/* CMOVcc: the source is read (and may fault) even when the condition is
 * false; a 32-bit destination is zero-extended either way. */
void tcgl_int_cmovcc(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned s = i->opsize;
    uint64_t v = rm_read(c, i, s);
    if (tcgl_cond_inline(c, i->opc & 15)) {
        tcgl_reg_set(c, i->reg, s, v);
    } else if (s == 4) {
        tcgl_reg_set(c, i->reg, 4, c->env->regs[i->reg]);
    }
}

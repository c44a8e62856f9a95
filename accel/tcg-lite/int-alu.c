/*
 * tcg-lite integer arithmetic: ADD..CMP and TEST in every form, INC/DEC,
 * NOT/NEG, MUL/IMUL/DIV/IDIV, shifts and rotates, SHLD/SHRD, bit tests
 * and scans, XADD/CMPXCHG/CMPXCHG8B/16B, BSWAP, SETcc/CMOVcc, sign
 * extensions, flag instructions and BCD.
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
    p = tcgl_rmw_ptr(c, i->seg, ea, size);
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

/* ---- shifts and rotates --------------------------------------------------------- */

/* count already masked (5 bits, 6 for 64-bit operands); count 0 changes nothing. */
static inline __attribute__((always_inline))
uint64_t do_shift(TCGLCPU *c, unsigned kind, unsigned s, uint64_t a, unsigned cnt)
{
    const unsigned bits = s * 8;
    const uint64_t m = tcgl_size_mask(s), sign = 1ULL << (bits - 1);
    uint64_t r, f;

    a &= m;
    switch (kind) {
    case 4:     /* SHL */
    case 6:     /* SAL */
        if (cnt == 0) {
            return a;
        }
        r = cnt >= 64 ? 0 : (a << cnt) & m;
        tcgl_cc_set(c, TCGL_CC(CC_K_SHL, s), r, (cnt - 1) >= 64 ? 0 : (a << (cnt - 1)) & m);
        return r;
    case 5:     /* SHR */
        if (cnt == 0) {
            return a;
        }
        r = cnt >= 64 ? 0 : a >> cnt;
        tcgl_cc_set(c, TCGL_CC(CC_K_SAR, s), r, (cnt - 1) >= 64 ? 0 : a >> (cnt - 1));
        return r;
    case 7: {   /* SAR */
        int64_t sa = tcgl_sext(a, s);
        if (cnt == 0) {
            return a;
        }
        r = (uint64_t)(sa >> (cnt > 63 ? 63 : cnt)) & m;
        tcgl_cc_set(c, TCGL_CC(CC_K_SAR, s), r, (uint64_t)(sa >> (cnt - 1 > 63 ? 63 : cnt - 1)) & m);
        return r;
    }
    case 0:     /* ROL */
    case 1: {   /* ROR */
        unsigned n;
        if (cnt == 0) {
            return a;
        }
        n = cnt % bits;
        if (kind == 0) {
            r = n ? ((a << n) | (a >> (bits - n))) & m : a;
            f = tcgl_arith_flags(c) & ~(CC_C | CC_O);
            f |= (r & 1) ? CC_C : 0;
            f |= (((r >> (bits - 1)) ^ r) & 1) ? CC_O : 0;
        } else {
            r = n ? ((a >> n) | (a << (bits - n))) & m : a;
            f = tcgl_arith_flags(c) & ~(CC_C | CC_O);
            f |= (r & sign) ? CC_C : 0;
            f |= ((r ^ (r << 1)) & sign) ? CC_O : 0;
        }
        tcgl_set_arith(c, (uint32_t)f);
        return r;
    }
    default: {  /* 2 RCL, 3 RCR: through CF, modulo size + 1 */
        unsigned n = s == 8 ? cnt : s == 4 ? cnt : cnt % (bits + 1);
        unsigned __int128 v, w, mm = ((unsigned __int128)1 << (bits + 1)) - 1;
        uint64_t cf;
        if (n == 0) {
            return a;
        }
        f = tcgl_arith_flags(c);
        cf = f & CC_C;
        if (kind == 2) {
            v = (unsigned __int128)a | (unsigned __int128)cf << bits;  /* CF above the MSB */
            w = ((v << n) | (v >> (bits + 1 - n))) & mm;
            r = (uint64_t)w & m;
            cf = (uint64_t)(w >> bits) & 1;
            f = (f & ~(CC_C | CC_O)) | (cf ? CC_C : 0) | ((((r >> (bits - 1)) & 1) ^ cf) ? CC_O : 0);
        } else {
            v = (unsigned __int128)a << 1 | cf;                         /* CF below the LSB */
            w = ((v >> n) | (v << (bits + 1 - n))) & mm;
            r = (uint64_t)(w >> 1) & m;
            cf = (uint64_t)w & 1;
            f = (f & ~(CC_C | CC_O)) | (cf ? CC_C : 0) | (((r ^ (r << 1)) & sign) ? CC_O : 0);
        }
        tcgl_set_arith(c, (uint32_t)f);
        return r;
    }
    }
}

static inline unsigned shift_count(const TCGLInsn *i, uint64_t cnt)
{
    return (unsigned)(cnt & (i->opsize == 8 ? 63 : 31));
}

static inline void shift_rm(TCGLCPU *c, const TCGLInsn *i, uint64_t cnt)
{
    unsigned kind = (i->modrm >> 3) & 7, n = shift_count(i, cnt);
    if (n == 0) {
        if (i->mod != 3) {
            rm_read(c, i, i->opsize);   /* the access still faults */
        }
        return;
    }
    RMW_RM(c, i, i->opsize, do_shift(c, kind, i->opsize, a, n));
}

/* SHL/SHR/SAR of a register, specialised by operation and size (the
 * common forms; select in int-table.c). */
static inline void shift_reg(TCGLCPU *c, const TCGLInsn *i, const unsigned kind,
                             const unsigned s, uint64_t cnt)
{
    unsigned n = (unsigned)(cnt & (s == 8 ? 63 : 31));
    if (n) {
        tcgl_reg_set(c, i->rm, s, do_shift(c, kind, s, tcgl_reg_get(c, i->rm, s), n));
    }
}

#define SHIFT_REG(name, kind, s) \
    static void name##_ib_##s(TCGLCPU *c, const TCGLInsn *i) { shift_reg(c, i, kind, s, i->imm); } \
    static void name##_1_##s(TCGLCPU *c, const TCGLInsn *i) { shift_reg(c, i, kind, s, 1); } \
    static void name##_cl_##s(TCGLCPU *c, const TCGLInsn *i) \
    { shift_reg(c, i, kind, s, c->env->regs[R_ECX]); }
#define SHIFT_REG_SIZES(name, kind) \
    SHIFT_REG(name, kind, 1) SHIFT_REG(name, kind, 2) SHIFT_REG(name, kind, 4) SHIFT_REG(name, kind, 8)
SHIFT_REG_SIZES(shl_r, 4)
SHIFT_REG_SIZES(shr_r, 5)
SHIFT_REG_SIZES(sar_r, 7)

#define SHIFT_ROW(name, form) { name##_##form##_1, name##_##form##_2, name##_##form##_4, name##_##form##_8 }
#define SHIFT_ENTRY(name) { SHIFT_ROW(name, ib), SHIFT_ROW(name, 1), SHIFT_ROW(name, cl) }
/* [SHL SHR SAR][by imm, by 1, by CL][size] */
TCGLHandler *const shift_reg_handlers[3][3][4] = {
    SHIFT_ENTRY(shl_r), SHIFT_ENTRY(shr_r), SHIFT_ENTRY(sar_r),
};

void tcgl_int_shift_1(TCGLCPU *c, const TCGLInsn *i) { shift_rm(c, i, 1); }
void tcgl_int_shift_cl(TCGLCPU *c, const TCGLInsn *i) { shift_rm(c, i, c->env->regs[R_ECX]); }
void tcgl_int_shift_ib(TCGLCPU *c, const TCGLInsn *i) { shift_rm(c, i, i->imm); }

/* SHLD/SHRD: 0F A4/A5 (left), 0F AC/AD (right).  A count above the operand
 * size (16-bit operands) gives QEMU's result: the shift runs through the
 * 32-bit concatenation of the operands. */
static uint64_t do_shd(TCGLCPU *c, bool left, unsigned s, uint64_t a, uint64_t b, unsigned n)
{
    const unsigned bits = s * 8;
    const uint64_t m = tcgl_size_mask(s);
    unsigned __int128 v, sh;
    uint64_t r, src;

    a &= m;
    b &= m;
    if (left) {
        v = (unsigned __int128)a << bits | b;
        if (s == 2) {
            v = (unsigned __int128)(a << 16 | b) << 16 | a;    /* a:b:a */
            sh = v << n;
            r = (uint64_t)(sh >> 32) & m;
            src = (uint64_t)((v << (n - 1)) >> 32) & m;
        } else {
            sh = v << n;
            r = (uint64_t)(sh >> bits) & m;
            src = (uint64_t)((v << (n - 1)) >> bits) & m;
        }
        tcgl_cc_set(c, TCGL_CC(CC_K_SHL, s), r, src);
    } else {
        if (s == 2) {
            v = (unsigned __int128)a << 32 | b << 16 | a;           /* a:b:a */
        } else {
            v = (unsigned __int128)b << bits | a;
        }
        r = (uint64_t)(v >> n) & m;
        src = (uint64_t)(v >> (n - 1)) & m;
        tcgl_cc_set(c, TCGL_CC(CC_K_SAR, s), r, src);
    }
    return r;
}

static inline void shd(TCGLCPU *c, const TCGLInsn *i, bool left, uint64_t cnt)
{
    unsigned n = shift_count(i, cnt);
    uint64_t b = tcgl_reg_get(c, i->reg, i->opsize);
    if (n == 0) {
        if (i->mod != 3) {
            rm_read(c, i, i->opsize);
        }
        return;
    }
    RMW_RM(c, i, i->opsize, do_shd(c, left, i->opsize, a, b, n));
}

void tcgl_int_shld_ib(TCGLCPU *c, const TCGLInsn *i) { shd(c, i, true, i->imm); }
void tcgl_int_shld_cl(TCGLCPU *c, const TCGLInsn *i) { shd(c, i, true, c->env->regs[R_ECX]); }
void tcgl_int_shrd_ib(TCGLCPU *c, const TCGLInsn *i) { shd(c, i, false, i->imm); }
void tcgl_int_shrd_cl(TCGLCPU *c, const TCGLInsn *i) { shd(c, i, false, c->env->regs[R_ECX]); }

/* ---- bit test, scan, count ---------------------------------------------------------- */

static inline void set_cf(TCGLCPU *c, bool cf)
{
    uint32_t f = tcgl_arith_flags(c);
    tcgl_set_arith(c, (f & ~CC_C) | (cf ? CC_C : 0));
}

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

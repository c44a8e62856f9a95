/*
 * tcg-lite shifts and rotates: SHL/SAL/SHR/SAR/ROL/ROR/RCL/RCR by 1, CL
 * and an immediate (register forms of SHL/SHR/SAR specialised by size),
 * SHLD/SHRD.
 */
#include "int.h"
#include "int-ops.h"

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

/* A count of 0 leaves the flags and the value alone, but a 32-bit register
 * destination is still written: bits 63:32 are cleared (Intel and AMD
 * silicon, QEMU; tcgl-diff "shl32 0 eax"). */
static inline void count0_zext(TCGLCPU *c, unsigned reg)
{
    tcgl_reg_set(c, reg, 4, tcgl_reg_get(c, reg, 4));
}

static inline void shift_rm(TCGLCPU *c, const TCGLInsn *i, uint64_t cnt)
{
    unsigned kind = (i->modrm >> 3) & 7, n = shift_count(i, cnt);
    if (n == 0) {
        if (i->mod != 3) {
            rm_read(c, i, i->opsize);   /* the access still faults */
        } else if (i->opsize == 4) {
            count0_zext(c, i->rm);
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
    } else if (s == 4) {
        count0_zext(c, i->rm);
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
        } else if (i->opsize == 4) {
            count0_zext(c, i->rm);
        }
        return;
    }
    RMW_RM(c, i, i->opsize, do_shd(c, left, i->opsize, a, b, n));
}

void tcgl_int_shld_ib(TCGLCPU *c, const TCGLInsn *i) { shd(c, i, true, i->imm); }
void tcgl_int_shld_cl(TCGLCPU *c, const TCGLInsn *i) { shd(c, i, true, c->env->regs[R_ECX]); }
void tcgl_int_shrd_ib(TCGLCPU *c, const TCGLInsn *i) { shd(c, i, false, i->imm); }
void tcgl_int_shrd_cl(TCGLCPU *c, const TCGLInsn *i) { shd(c, i, false, c->env->regs[R_ECX]); }

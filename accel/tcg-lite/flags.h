/*
 * tcg-lite lazy condition flags (private to the core part).
 *
 * An instruction that sets the arithmetic flags records what it did, not
 * the flags: cc_op = kind << 2 | log2(size) and up to three values.  The
 * flags are computed only when something reads them (Jcc, SETcc, PUSHF,
 * ADC...), and the common reads after CMP/SUB/TEST go straight from the
 * values to the condition.
 *
 *   kind      cc_dst     cc_src                       cc_src2
 *   EFLAGS    -          the six flags                -
 *   ADD/SUB   result     second operand               -
 *   ADC/SBB   result     second operand               carry in
 *   LOGIC     result     -                            -
 *   INC/DEC   result     -                            CF before
 *   SHL       result     value shifted by count - 1   -
 *   SAR       result     value shifted by count - 1   -   (SHR and SAR)
 *   MUL       low half   non-zero: CF = OF = 1        -
 * Values are kept truncated to the operation size.
 */
#ifndef KVMPC_TCGL_FLAGS_H
#define KVMPC_TCGL_FLAGS_H

#include "tcgl.h"

enum {
    CC_K_EFLAGS = 0, CC_K_ADD, CC_K_ADC, CC_K_SUB, CC_K_SBB, CC_K_LOGIC,
    CC_K_INC, CC_K_DEC, CC_K_SHL, CC_K_SAR, CC_K_MUL,
};

#define CC_C 0x0001u
#define CC_P 0x0004u
#define CC_A 0x0010u
#define CC_Z 0x0040u
#define CC_S 0x0080u
#define CC_O 0x0800u
#define RFLAGS_DF 0x0400u
#define RFLAGS_IF 0x0200u

static inline unsigned tcgl_size_log(unsigned size)
{
    return size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
}

#define TCGL_CC(kind, size) ((uint32_t)((kind) << 2 | tcgl_size_log(size)))

static inline void tcgl_cc_set(TCGLCPU *c, uint32_t op, uint64_t dst, uint64_t src)
{
    c->cc_op = op;
    c->cc_dst = dst;
    c->cc_src = src;
}

static inline void tcgl_cc_set3(TCGLCPU *c, uint32_t op, uint64_t dst, uint64_t src,
                                uint64_t src2)
{
    c->cc_op = op;
    c->cc_dst = dst;
    c->cc_src = src;
    c->cc_src2 = src2;
}

/* The six arithmetic flags (CF PF AF ZF SF OF) from the lazy state. */
uint32_t tcgl_arith_flags(const TCGLCPU *c);

/* Replace the six flags by `f` (eager form). */
static inline void tcgl_set_arith(TCGLCPU *c, uint32_t f)
{
    c->cc_op = TCGL_CC_EFLAGS;
    c->cc_src = f & TCGL_RFLAGS_ARITH;
}

static inline TCGL_ALWAYS_INLINE bool tcgl_get_cf(const TCGLCPU *c)
{
    unsigned kind = c->cc_op >> 2;
    uint64_t m;

    switch (kind) {
    case CC_K_ADD:
        return c->cc_dst < c->cc_src;
    case CC_K_SUB:
        m = tcgl_size_mask(1u << (c->cc_op & 3));
        return ((c->cc_dst + c->cc_src) & m) < c->cc_src;
    case CC_K_LOGIC:
        return false;
    case CC_K_INC:
    case CC_K_DEC:
        return c->cc_src2 & 1;
    case CC_K_SHL:
        return (c->cc_src >> ((8u << (c->cc_op & 3)) - 1)) & 1;
    case CC_K_SAR:
        return c->cc_src & 1;
    case CC_K_MUL:
        return c->cc_src != 0;
    default:
        return tcgl_arith_flags(c) & CC_C;
    }
}

/* Condition cc (0-15) from the six flags. */
static inline TCGL_ALWAYS_INLINE bool tcgl_cond_from_flags(uint32_t f, unsigned cc)
{
    bool r;
    switch (cc >> 1) {
    case 0: r = f & CC_O; break;
    case 1: r = f & CC_C; break;
    case 2: r = f & CC_Z; break;
    case 3: r = f & (CC_C | CC_Z); break;
    case 4: r = f & CC_S; break;
    case 5: r = f & CC_P; break;
    case 6: r = !(f & CC_S) != !(f & CC_O); break;
    default: r = (f & CC_Z) || (!(f & CC_S) != !(f & CC_O)); break;
    }
    return r ^ (cc & 1);
}

static inline TCGL_ALWAYS_INLINE int64_t tcgl_sext(uint64_t v, unsigned size)
{
    switch (size) {
    case 1: return (int8_t)v;
    case 2: return (int16_t)v;
    case 4: return (int32_t)v;
    default: return (int64_t)v;
    }
}

/* The fast path: conditions after CMP/SUB and TEST/AND/OR/XOR straight
 * from the operands; anything else through the full flags. */
static inline TCGL_ALWAYS_INLINE bool tcgl_cond_inline(const TCGLCPU *c, unsigned cc)
{
    unsigned kind = c->cc_op >> 2;
    unsigned size = 1u << (c->cc_op & 3);
    uint64_t m = tcgl_size_mask(size);
    bool r;

    if (kind == CC_K_SUB) {
        uint64_t dst = c->cc_dst, src = c->cc_src, a = (dst + src) & m;
        switch (cc >> 1) {
        case 1: r = a < src; break;
        case 2: r = dst == 0; break;
        case 3: r = a <= src; break;
        case 4: r = tcgl_sext(dst, size) < 0; break;
        case 6: r = tcgl_sext(a, size) < tcgl_sext(src, size); break;
        case 7: r = tcgl_sext(a, size) <= tcgl_sext(src, size); break;
        default: return tcgl_cond_from_flags(tcgl_arith_flags(c), cc);
        }
        return r ^ (cc & 1);
    }
    if (kind == CC_K_LOGIC) {
        int64_t s = tcgl_sext(c->cc_dst, size);
        switch (cc >> 1) {
        case 0: r = false; break;
        case 1: r = false; break;
        case 2: r = s == 0; break;
        case 3: r = s == 0; break;
        case 4: r = s < 0; break;
        case 6: r = s < 0; break;
        case 7: r = s <= 0; break;
        default: return tcgl_cond_from_flags(tcgl_arith_flags(c), cc);
        }
        return r ^ (cc & 1);
    }
    if (kind != CC_K_EFLAGS && ((cc >> 1) == 2 || (cc >> 1) == 4)) {
        /* ZF and SF come from the result for every kind (DEC; JNZ) */
        r = (cc >> 1) == 2 ? (c->cc_dst & m) == 0 : tcgl_sext(c->cc_dst, size) < 0;
        return r ^ (cc & 1);
    }
    return tcgl_cond_from_flags(tcgl_arith_flags(c), cc);
}

#endif

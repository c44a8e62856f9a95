/*
 * tcg-lite lazy condition flags: computing RFLAGS from the recorded
 * operation (flags.h describes the encoding).  Where the SDM leaves a flag
 * undefined, the value is QEMU's: AF = 0 after logic ops, shifts and
 * multiplies; SF/ZF/PF from the low half after MUL/IMUL.
 */
#include "flags.h"

static inline uint32_t parity(uint64_t v)
{
    return (__builtin_parity((unsigned)(v & 0xff)) ? 0 : CC_P);
}

uint32_t tcgl_arith_flags(const TCGLCPU *c)
{
    unsigned kind = c->cc_op >> 2;
    unsigned size = 1u << (c->cc_op & 3);
    uint64_t m = tcgl_size_mask(size);
    uint64_t sign = 1ULL << (size * 8 - 1);
    uint64_t dst = c->cc_dst, src = c->cc_src, cin = c->cc_src2 & 1, src1;
    uint32_t f = 0;

    if (kind == CC_K_EFLAGS) {
        return (uint32_t)c->cc_src & TCGL_RFLAGS_ARITH;
    }
    f |= parity(dst);
    f |= (dst & m) == 0 ? CC_Z : 0;
    f |= (dst & sign) ? CC_S : 0;
    switch (kind) {
    case CC_K_ADD:
    case CC_K_ADC:
        cin = kind == CC_K_ADC ? cin : 0;
        src1 = (dst - src - cin) & m;
        f |= (cin ? dst <= src : dst < src) ? CC_C : 0;
        f |= (src1 ^ src ^ dst) & CC_A;
        f |= ((src1 ^ dst) & (src ^ dst) & sign) ? CC_O : 0;
        break;
    case CC_K_SUB:
    case CC_K_SBB:
        cin = kind == CC_K_SBB ? cin : 0;
        src1 = (dst + src + cin) & m;
        f |= (cin ? src1 <= src : src1 < src) ? CC_C : 0;
        f |= (src1 ^ src ^ dst) & CC_A;
        f |= ((src1 ^ src) & (src1 ^ dst) & sign) ? CC_O : 0;
        break;
    case CC_K_LOGIC:
        break;
    case CC_K_INC:
        f |= cin ? CC_C : 0;
        f |= (((dst - 1) ^ 1 ^ dst) & CC_A);
        f |= (dst & m) == sign ? CC_O : 0;
        break;
    case CC_K_DEC:
        f |= cin ? CC_C : 0;
        f |= (((dst + 1) ^ 1 ^ dst) & CC_A);
        f |= (dst & m) == sign - 1 ? CC_O : 0;
        break;
    case CC_K_SHL:
        f |= (src & sign) ? CC_C : 0;
        f |= ((src ^ dst) & sign) ? CC_O : 0;
        break;
    case CC_K_SAR:
        f |= (src & 1) ? CC_C : 0;
        f |= ((src ^ dst) & sign) ? CC_O : 0;
        break;
    case CC_K_MUL:
        f |= src ? (CC_C | CC_O) : 0;
        break;
    default:
        break;
    }
    return f;
}

uint64_t tcgl_get_rflags(TCGLCPU *c)
{
    return (c->env->rflags & ~(uint64_t)TCGL_RFLAGS_ARITH) | tcgl_arith_flags(c) | 2;
}

void tcgl_set_rflags(TCGLCPU *c, uint64_t val, uint64_t mask)
{
    uint64_t old = c->env->rflags;

    if (mask & TCGL_RFLAGS_ARITH) {
        uint32_t f = tcgl_arith_flags(c);
        f = (uint32_t)((f & ~mask) | (val & mask)) & TCGL_RFLAGS_ARITH;
        tcgl_set_arith(c, f);
    }
    mask &= ~(uint64_t)TCGL_RFLAGS_ARITH;
    c->env->rflags = ((old & ~mask) | (val & mask) | 2) & ~(uint64_t)TCGL_RFLAGS_ARITH;
    if ((old ^ c->env->rflags) & (1u << 17)) {      /* VM */
        tcgl_update_hflags(c);
    }
    /* IF from 0 to 1 with a request pending (POPF, IRET, SYSRET...):
     * chained code does not test interrupt_request (jit.c emit_chain),
     * the executor must look before the next block. */
    if ((c->env->rflags & ~old & RFLAGS_IF) && c->cpu &&
        __atomic_load_n(&c->cpu->interrupt_request, __ATOMIC_RELAXED)) {
        c->chain_break = true;
    }
}

bool tcgl_cond(TCGLCPU *c, unsigned cc)
{
    return tcgl_cond_inline(c, cc);
}

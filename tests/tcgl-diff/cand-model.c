/*
 * Test candidates for the oracle itself (until tcg-lite is wired in):
 * a C model of `add eax, ecx` / `add rax, rcx` (01 c8, 48 01 c8), exact
 * or with CF deliberately flipped.  Anything else is "cannot run".
 */
#include <string.h>
#include "cand-model.h"

static bool model_add(const uint8_t *code, size_t len, const DiffState *in, DiffState *out,
                      bool flip_cf)
{
    unsigned size;
    uint64_t a, b, r, m, sign;
    uint32_t f = 0;

    if (len == 2 && code[0] == 0x01 && code[1] == 0xc8) {
        size = 4;
    } else if (len == 3 && code[0] == 0x48 && code[1] == 0x01 && code[2] == 0xc8) {
        size = 8;
    } else {
        return false;
    }
    m = size == 8 ? ~0ULL : 0xffffffffULL;
    sign = 1ULL << (size * 8 - 1);
    a = in->gpr[D_RAX] & m;
    b = in->gpr[D_RCX] & m;
    r = (a + b) & m;
    if (r < a) {
        f |= DF_CF;
    }
    if (!__builtin_parity(r & 0xff)) {
        f |= DF_PF;
    }
    if ((a ^ b ^ r) & 0x10) {
        f |= DF_AF;
    }
    if (!r) {
        f |= DF_ZF;
    }
    if (r & sign) {
        f |= DF_SF;
    }
    if (((a ^ r) & (b ^ r)) & sign) {
        f |= DF_OF;
    }
    if (flip_cf) {
        f ^= DF_CF;
    }
    *out = *in;
    out->gpr[D_RAX] = r;
    out->rflags = (in->rflags & ~(uint64_t)DIFF_FLAGS_ARITH) | f | 2;
    out->rip = DIFF_CODE_ADDR + len;
    out->vector = DIFF_VEC_NONE;
    out->fault_addr = 0;
    return true;
}

bool diff_cand_model_add(const uint8_t *code, size_t len, const DiffState *in, DiffState *out)
{
    return model_add(code, len, in, out, false);
}

bool diff_cand_wrong_add(const uint8_t *code, size_t len, const DiffState *in, DiffState *out)
{
    return model_add(code, len, in, out, true);
}

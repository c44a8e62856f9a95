/*
 * A small x86 encoder for the directed generators: legacy prefixes, REX,
 * opcode bytes, ModRM with a register or [base + disp] operand, immediate.
 */
#ifndef TCGL_DIFF_ENC_H
#define TCGL_DIFF_ENC_H

#include <stdarg.h>
#include <string.h>
#include "diff.h"

typedef struct EncOp {
    uint8_t pfx[4];         /* legacy prefixes, in order */
    int npfx;
    bool w;                 /* REX.W */
    bool rex;               /* emit a REX byte even if no bit is set (SPL..DIL) */
    uint8_t op[3];          /* opcode bytes (0f, 0f 38, 0f 3a included) */
    int oplen;
    int reg;                /* ModRM.reg (register 0-15 or /digit), -1: no ModRM */
    int rm;                 /* register operand (mod 3) when base < 0 */
    int base;               /* >= 0: memory operand [base + disp] */
    int32_t disp;
    int immlen;
    uint64_t imm;
} EncOp;

/* An EncOp with opcode bytes (1-3), register operands. */
static inline EncOp enc_op(int oplen, uint8_t b0, uint8_t b1, uint8_t b2)
{
    EncOp o;
    memset(&o, 0, sizeof(o));
    o.oplen = oplen;
    o.op[0] = b0, o.op[1] = b1, o.op[2] = b2;
    o.reg = -1;
    o.base = -1;
    return o;
}

static inline void enc_pfx(EncOp *o, uint8_t p)
{
    o->pfx[o->npfx++] = p;
}

/* Operand size prefix/REX.W for an integer size (1, 2, 4, 8). */
static inline void enc_size(EncOp *o, unsigned size)
{
    if (size == 2) {
        enc_pfx(o, 0x66);
    } else if (size == 8) {
        o->w = true;
    }
}

static inline size_t enc(uint8_t *out, const EncOp *o)
{
    size_t n = 0;
    int reg = o->reg < 0 ? 0 : o->reg;
    int rmreg = o->base >= 0 ? o->base : o->rm;
    uint8_t rex = 0x40 | (o->w ? 8 : 0) | ((reg & 8) ? 4 : 0) | ((rmreg & 8) ? 1 : 0);

    for (int i = 0; i < o->npfx; i++) {
        out[n++] = o->pfx[i];
    }
    if (rex != 0x40 || o->rex) {
        out[n++] = rex;
    }
    for (int i = 0; i < o->oplen; i++) {
        out[n++] = o->op[i];
    }
    if (o->reg >= 0) {
        if (o->base < 0) {
            out[n++] = 0xc0 | (reg & 7) << 3 | (o->rm & 7);
        } else {
            int mod = (o->disp == 0 && (o->base & 7) != 5) ? 0
                      : (o->disp >= -128 && o->disp <= 127) ? 1 : 2;
            out[n++] = mod << 6 | (reg & 7) << 3 | (o->base & 7);
            if ((o->base & 7) == 4) {
                out[n++] = 0x24;            /* SIB: no index, base = rsp/r12 */
            }
            if (mod == 1) {
                out[n++] = (uint8_t)o->disp;
            } else if (mod == 2) {
                memcpy(out + n, &o->disp, 4);
                n += 4;
            }
        }
    }
    for (int i = 0; i < o->immlen; i++) {
        out[n++] = (uint8_t)(o->imm >> (8 * i));
    }
    return n;
}

static inline void emit_op(DiffCase *c, const EncOp *o)
{
    uint8_t b[32];
    diff_case_emit(c, b, enc(b, o));
}

static inline void emit_bytes(DiffCase *c, int n, ...)
{
    uint8_t b[32];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        b[i] = (uint8_t)va_arg(ap, int);
    }
    va_end(ap);
    diff_case_emit(c, b, n);
}

static inline uint64_t size_mask(unsigned size)
{
    return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

/* Upper bits put under a sub-register input: a result must keep them
 * (8/16-bit) or zero them (32-bit). */
#define GARBAGE 0xa5c3e1f00f1e3c5aULL

/* Sets register r (16-19: AH..BH) to v at `size`, garbage above. */
static inline void set_reg(DiffCase *c, int r, unsigned size, uint64_t v)
{
    if (r >= 16) {
        uint64_t *g = &c->in.gpr[r - 16];
        *g = (*g & ~0xff00ULL) | (v & 0xff) << 8;
        return;
    }
    c->in.gpr[r] = (GARBAGE & ~size_mask(size)) | (v & size_mask(size));
}

/* Edge values of an operand size: 0, 1, 2, nibble carries, patterns,
 * sign boundaries, all ones. */
static inline unsigned edge_values(unsigned size, uint64_t *v)
{
    uint64_t m = size_mask(size), smax = m >> 1;
    unsigned n = 0;
    v[n++] = 0;
    v[n++] = 1;
    v[n++] = 2;
    v[n++] = 0x0f;
    v[n++] = 0x10;
    v[n++] = 0x5555555555555555ULL & m;
    v[n++] = 0xaaaaaaaaaaaaaaaaULL & m;
    v[n++] = smax - 1;
    v[n++] = smax;
    v[n++] = smax + 1;
    v[n++] = smax + 2;
    v[n++] = m - 1;
    v[n++] = m;
    v[n++] = 0x0123456789abcdefULL & m;
    return n;
}

#define FL_NONE 0x2ULL
#define FL_ALL  (0x2ULL | DIFF_FLAGS_ARITH)

#endif

/*
 * tcg-lite core: what the decoder tells the block builder beyond TCGLInsn
 * (private to the core part; tcgl.h is the contract between parts).
 */
#ifndef KVMPC_TCGL_DECODE_H
#define KVMPC_TCGL_DECODE_H

#include "tcgl.h"

/* Decoder verdicts on an encoding that is not an instruction here. */
enum {
    TCGL_DEC_OK = 0,
    TCGL_DEC_UNCLAIMED,     /* valid format, no part claims the form */
    TCGL_DEC_VEX,           /* VEX/EVEX/XOP escape (AVX not advertised) */
    TCGL_DEC_INVALID,       /* invalid in this mode, bad LOCK, reserved opcode */
};

typedef struct TCGLDecodeInfo {
    uint16_t opflags;       /* TCGL_OPF_* of the matched description */
    uint8_t verdict;        /* TCGL_DEC_* */
} TCGLDecodeInfo;

/* tcgl_decode() that also reports the form's flags (BRANCH/END/PRIV). */
int tcgl_decode_ex(const uint8_t *bytes, unsigned avail, uint32_t hflags, TCGLInsn *out,
                   TCGLDecodeInfo *info);

#endif

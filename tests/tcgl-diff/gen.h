/* The directed generators (gen-int.c, gen-sse.c), listed in diff_groups[]. */
#ifndef TCGL_DIFF_GEN_H
#define TCGL_DIFF_GEN_H

#include "diff.h"

void gen_alu(DiffEmit *emit, void *opaque);
void gen_unary(DiffEmit *emit, void *opaque);
void gen_cond(DiffEmit *emit, void *opaque);
void gen_misc(DiffEmit *emit, void *opaque);
void gen_shift(DiffEmit *emit, void *opaque);
void gen_shiftd(DiffEmit *emit, void *opaque);
void gen_muldiv(DiffEmit *emit, void *opaque);
void gen_bcd(DiffEmit *emit, void *opaque);
void gen_bitops(DiffEmit *emit, void *opaque);
void gen_string(DiffEmit *emit, void *opaque);
void gen_atomic(DiffEmit *emit, void *opaque);
void gen_faults(DiffEmit *emit, void *opaque);
void gen_sse_float(DiffEmit *emit, void *opaque);
void gen_sse_cvt(DiffEmit *emit, void *opaque);
void gen_sse_int(DiffEmit *emit, void *opaque);
void gen_sse_shuf(DiffEmit *emit, void *opaque);
void gen_sse4(DiffEmit *emit, void *opaque);
void gen_x87(DiffEmit *emit, void *opaque);
void gen_stack(DiffEmit *emit, void *opaque);
void gen_branch(DiffEmit *emit, void *opaque);
void gen_cmpjcc(DiffEmit *emit, void *opaque);

#endif

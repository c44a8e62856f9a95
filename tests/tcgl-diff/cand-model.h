/* Candidates that test the oracle (cand-model.c). */
#ifndef TCGL_DIFF_CAND_MODEL_H
#define TCGL_DIFF_CAND_MODEL_H

#include "diff.h"

/* add eax, ecx / add rax, rcx computed in C: exact. */
bool diff_cand_model_add(const uint8_t *code, size_t len, const DiffState *in, DiffState *out);
/* The same with CF flipped: every case it runs must be a mismatch. */
bool diff_cand_wrong_add(const uint8_t *code, size_t len, const DiffState *in, DiffState *out);

#endif

/* tcg-lite as the oracle's candidate (cand-tcgl.c). */
#ifndef TCGL_DIFF_CAND_TCGL_H
#define TCGL_DIFF_CAND_TCGL_H

#include "diff.h"

#define TCGL_DIFF_PHYS      0x100000ULL             /* guest RAM of the harness */
#define TCGL_DIFF_RAM_SIZE  0x10000ULL
#define TCGL_DIFF_HANDLERS  (TCGL_DIFF_PHYS + 0x9000)   /* HLT stub of vector v at +16 v */

bool diff_candidate_tcgl(const uint8_t *code, size_t len, const DiffState *in, DiffState *out);
/* The guest RAM (TCGL_DIFF_RAM_SIZE bytes at TCGL_DIFF_PHYS), for tests. */
uint8_t *tcgl_diff_ram(void);

#endif

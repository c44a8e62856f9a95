/*
 * The test harness of tcg-lite part "fp": one vCPU over a flat guest
 * memory (stub-fp.c stands in for the other parts' functions), and
 * helpers that build a TCGLInsn by hand as the decoder would.
 */
#ifndef KVMPC_TEST_STUB_FP_H
#define KVMPC_TEST_STUB_FP_H

#include "fp.h"

#define STUB_MEM_SIZE 0x10000

extern uint8_t stub_mem[STUB_MEM_SIZE];
extern X86CPUState stub_env;
extern TCGLCPU stub_cpu;
/* An access touching this offset faults with #PF (14); ~0: none. */
extern uint64_t stub_fault_off;

/* Fresh vCPU: 64-bit mode, CR0.PE|NE|MP|ET, CR4.OSFXSR|OSXMMEXCPT|
 * OSXSAVE, XCR0 = x87|SSE, the reset x87/SSE state, memory cleared. */
void stub_fp_init(void);
/* Runs one instruction; returns -1, or the vector it raised (the error
 * code in stub_cpu.event.error). */
int stub_run(const TCGLInsn *i);
/* The handler the fp tables give for this form (NULL: not claimed). */
TCGLHandler *stub_lookup(TCGLInsn *i, unsigned mp);

/* Builds a register-form (mod 3) or memory-form instruction of map
 * `map`, byte `op`, mandatory prefix mp (TCGL_MP_*), with the handler
 * from the tables; mem operand at absolute offset `addr`. */
TCGLInsn stub_insn_r(unsigned map, unsigned op, unsigned mp, unsigned reg, unsigned rm,
                     uint64_t imm);
TCGLInsn stub_insn_m(unsigned map, unsigned op, unsigned mp, unsigned reg, uint64_t addr,
                     uint64_t imm);

/* Unaligned reads and writes of the flat memory. */
static inline uint64_t stub_rd(uint64_t addr, unsigned size)
{
    uint64_t v = 0;
    memcpy(&v, stub_mem + addr, size);
    return v;
}

static inline void stub_wr(uint64_t addr, unsigned size, uint64_t v)
{
    memcpy(stub_mem + addr, &v, size);
}

static inline TCGLFPU *stub_fpu(void)
{
    return tcgl_fpu(&stub_cpu);
}

#endif

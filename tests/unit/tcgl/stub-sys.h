/*
 * The stand-ins of tests/unit/tcgl/stub-sys.c (part "sys"'s tests).
 */
#ifndef KVMPC_TESTS_TCGL_STUB_SYS_H
#define KVMPC_TESTS_TCGL_STUB_SYS_H

#include "tcgl.h"

#define STUB_MEM_SIZE (4u << 20)

/* Guest memory (physical = linear & A20 mask, paging off). */
extern uint8_t stub_mem[STUB_MEM_SIZE];
extern unsigned stub_tlb_flushes, stub_tlb_page_flushes;

/* A program: instructions by linear address (flags as in TCGLOpDesc). */
typedef struct StubInsn {
    uint64_t lin;
    uint16_t flags;
    unsigned hits;          /* times executed */
    TCGLInsn insn;
} StubInsn;
extern StubInsn *stub_prog;
extern unsigned stub_prog_len;
extern unsigned stub_steps;
/* tcgl_cpu_exec returns after this many instructions (default 10000). */
extern unsigned stub_max_steps;
/* tcgl_cpu_exec stopped because no instruction was at rip. */
extern bool stub_off_program;

#endif

/*
 * tcg-lite part "sys": what seg.c, excp.c, sys.c and tcg-all.c share
 * (not part of the contract between the parts: that is tcgl.h).
 */
#ifndef KVMPC_TCGL_SYS_H
#define KVMPC_TCGL_SYS_H

#include "tcgl.h"
#include "target/i386/cpu-model.h"

/* ---- architectural constants (SDM vol. 3) ------------------------------ */

/* RFLAGS */
#define RFL_CF   0x00000001u
#define RFL_PF   0x00000004u
#define RFL_AF   0x00000010u
#define RFL_ZF   0x00000040u
#define RFL_SF   0x00000080u
#define RFL_TF   0x00000100u
#define RFL_IF   0x00000200u
#define RFL_DF   0x00000400u
#define RFL_OF   0x00000800u
#define RFL_IOPL 0x00003000u
#define RFL_NT   0x00004000u
#define RFL_RF   0x00010000u
#define RFL_VM   0x00020000u
#define RFL_AC   0x00040000u
#define RFL_VIF  0x00080000u
#define RFL_VIP  0x00100000u
#define RFL_ID   0x00200000u

/* CR0 / CR4 bits beyond accel/cpu.h */
#define CR0_MP  (1u << 1)
#define CR0_EM  (1u << 2)
#define CR0_TS  (1u << 3)
#define CR0_AM  (1u << 18)
#define CR0_NW  (1u << 29)
#define CR0_CD  (1u << 30)
#define CR4_VME (1u << 0)
#define CR4_PVI (1u << 1)
#define CR4_TSD (1u << 2)
#define CR4_DE  (1u << 3)
#define CR4_PSE (1u << 4)
#define CR4_MCE (1u << 6)
#define CR4_PGE (1u << 7)
#define CR4_PCE (1u << 8)
#define CR4_OSFXSR (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)
#define CR4_OSXSAVE (1u << 18)
#define EFER_SCE (1u << 0)
#define EFER_NXE (1u << 11)

/* Exception vectors */
enum {
    EXCP_DE = 0, EXCP_DB = 1, EXCP_NMI = 2, EXCP_BP = 3, EXCP_OF = 4, EXCP_BR = 5,
    EXCP_UD = 6, EXCP_NM = 7, EXCP_DF = 8, EXCP_TS = 10, EXCP_NP = 11, EXCP_SS = 12,
    EXCP_GP = 13, EXCP_PF = 14, EXCP_MF = 16, EXCP_AC = 17, EXCP_MC = 18, EXCP_XM = 19,
};

/* Segment descriptor, high dword (bits 32-63 of the descriptor). */
#define DESC_TYPE(hi)   (((hi) >> 8) & 0xf)
#define DESC_S          (1u << 12)
#define DESC_DPL(hi)    (((hi) >> 13) & 3)
#define DESC_P          (1u << 15)
#define DESC_L          (1u << 21)
#define DESC_DB         (1u << 22)
#define DESC_G          (1u << 23)
/* type field of code/data descriptors (S = 1) */
#define SEG_TYPE_A      1u      /* accessed */
#define SEG_TYPE_W      2u      /* data: writable; code: readable */
#define SEG_TYPE_E      4u      /* data: expand-down; code: conforming */
#define SEG_TYPE_CODE   8u
/* system descriptor types (S = 0) */
enum {
    SYS_TSS16_AVL = 1, SYS_LDT = 2, SYS_TSS16_BUSY = 3, SYS_CALL16 = 4, SYS_TASK = 5,
    SYS_INT16 = 6, SYS_TRAP16 = 7, SYS_TSS32_AVL = 9, SYS_TSS32_BUSY = 11, SYS_CALL32 = 12,
    SYS_INT32 = 14, SYS_TRAP32 = 15,
};

/* ---- small helpers ---------------------------------------------------- */

static inline unsigned tcgl_cpl(const TCGLCPU *c)
{
    return c->hflags & TCGL_HF_CPL_MASK;
}

static inline unsigned tcgl_iopl(const TCGLCPU *c)
{
    return (c->env->rflags >> 12) & 3;
}

/* Protected mode proper (not real, not v86). */
static inline bool tcgl_pmode(const TCGLCPU *c)
{
    return (c->hflags & (TCGL_HF_PE | TCGL_HF_VM)) == TCGL_HF_PE;
}

/* Linear address of a system structure (descriptor tables, TSS): 64 bits
 * in long mode, 32 bits otherwise. */
static inline uint64_t tcgl_sys_lin(const TCGLCPU *c, uint64_t a)
{
    return (c->hflags & TCGL_HF_LMA) ? a : (uint32_t)a;
}

/* The stack pointer width of the current stack. */
static inline uint64_t tcgl_sp_mask(const TCGLCPU *c)
{
    if (c->hflags & TCGL_HF_CS64) {
        return ~0ULL;
    }
    return (c->hflags & TCGL_HF_SS32) ? 0xffffffffULL : 0xffffULL;
}

static inline bool tcgl_canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* Push/pop on the current stack (SS checks by mmu.c). */
static inline void tcgl_push(TCGLCPU *c, unsigned size, uint64_t v)
{
    uint64_t mask = tcgl_sp_mask(c);
    uint64_t sp = (c->env->regs[R_ESP] - size) & mask;

    tcgl_st(c, R_SS, sp, size, v);
    c->env->regs[R_ESP] = (c->env->regs[R_ESP] & ~mask) | sp;
}

/*
 * A stack being built or read at an explicit base (new stacks of gates and
 * far returns): no limit checks (as QEMU), linear addresses wrapped to 32
 * bits outside long mode.  acc is TCGL_ACC_SUPER or 0 (the CPL's access).
 */
typedef struct TCGLStack {
    uint64_t base, sp, mask;
    int acc;
} TCGLStack;

static inline void tcgl_stack_push(TCGLCPU *c, TCGLStack *s, unsigned size, uint64_t v)
{
    s->sp = (s->sp - size) & s->mask;
    tcgl_st_lin(c, tcgl_sys_lin(c, s->base + s->sp), size, v, TCGL_ACC_WRITE | s->acc);
}

static inline uint64_t tcgl_stack_pop(TCGLCPU *c, TCGLStack *s, unsigned size)
{
    uint64_t v = tcgl_ld_lin(c, tcgl_sys_lin(c, s->base + s->sp), size, TCGL_ACC_READ | s->acc);

    s->sp = (s->sp + size) & s->mask;
    return v;
}

/* ---- seg.c ------------------------------------------------------------ */

/* The 8-byte descriptor of sel in the GDT or LDT; false past the limit. */
bool tcgl_read_desc(TCGLCPU *c, unsigned sel, uint32_t *lo, uint32_t *hi);
/* A segment cache from a code/data descriptor. */
void tcgl_seg_from_desc(SegmentCache *s, unsigned sel, uint32_t lo, uint32_t hi);
/* Sets the accessed bit of sel's descriptor in memory if clear. */
void tcgl_set_accessed(TCGLCPU *c, unsigned sel, uint32_t hi);
/* Real-mode / v86 style segment (selector << 4; v86: limit 0xffff, DPL 3). */
void tcgl_seg_load_vm(TCGLCPU *c, int seg, unsigned sel);
/* MOV Sreg semantics for ES/SS/DS/FS/GS in every mode (faults raised). */
void tcgl_load_seg(TCGLCPU *c, int seg, unsigned sel);
/* A null data segment (protected mode): unusable. */
void tcgl_seg_null(SegmentCache *s, unsigned sel);

/* Task switch (32-bit TSS) to the TSS sel whose descriptor is lo/hi. */
enum { TCGL_TS_JMP, TCGL_TS_CALL, TCGL_TS_IRET, TCGL_TS_INT };
void tcgl_task_switch(TCGLCPU *c, unsigned sel, uint32_t lo, uint32_t hi, int source,
                      uint64_t next_rip);

/* 64-bit TSS stack n: RSP0-2 (n < 3) or IST1-7 (n = 3 + ist); #TS past the limit. */
uint64_t tcgl_tss64_rsp(TCGLCPU *c, unsigned n);
/* The TSS stack (SS:ESP) of level dpl in a 16/32-bit TSS; #TS past the limit. */
void tcgl_tss_stack(TCGLCPU *c, unsigned dpl, unsigned *ss, uint64_t *sp);
/* Checks a stack segment from the TSS for level dpl (#TS/#SS). */
void tcgl_check_tss_ss(TCGLCPU *c, unsigned ss, unsigned dpl, uint32_t *lo, uint32_t *hi);
/* A null SS in 64-bit mode at CPL cpl < 3. */
void tcgl_seg_null_ss64(SegmentCache *s, unsigned cpl);
/* CS from a code descriptor with RPL cpl, accessed bit set. */
void tcgl_load_cs(TCGLCPU *c, unsigned sel, uint32_t lo, uint32_t hi, unsigned cpl);

/* Far transfers (also used by the tests directly). */
void tcgl_far_jmp(TCGLCPU *c, unsigned sel, uint64_t off, uint64_t next_rip);
void tcgl_far_call(TCGLCPU *c, unsigned sel, uint64_t off, unsigned opsize, uint64_t next_rip);
void tcgl_far_ret(TCGLCPU *c, unsigned opsize, unsigned imm, bool iret);

/* ---- excp.c ------------------------------------------------------------ */

/* Exception class for #DF (SDM Table 6-5). */
static inline bool tcgl_excp_contributory(int v)
{
    return v == EXCP_DE || (v >= EXCP_TS && v <= EXCP_GP);
}

/* ---- sys.c ------------------------------------------------------------- */

/* The CPUID table of the vCPU with this index (tcg-all.c sets it; the
 * CPUID instruction reads it).  The table stays the caller's. */
void tcgl_sys_set_cpuid(int cpu_index, const CPUIDTable *t);
/* What tcg-lite can run, as a supported-CPUID table for the CPU model. */
void tcgl_supported_cpuid(CPUIDTable *t);
/* CPUID of leaf/subleaf for c (the table, plus CR4/APIC-dependent bits). */
void tcgl_cpuid(TCGLCPU *c, uint32_t leaf, uint32_t sub, uint32_t *eax, uint32_t *ebx,
                uint32_t *ecx, uint32_t *edx);
/* RDMSR/WRMSR: false means #GP. */
bool tcgl_msr_read(TCGLCPU *c, uint32_t index, uint64_t *val);
bool tcgl_msr_write(TCGLCPU *c, uint32_t index, uint64_t val);
/* MOV CRn (false: #GP). */
bool tcgl_write_cr(TCGLCPU *c, int cr, uint64_t val);
/* The I/O permission check of IN/OUT/INS/OUTS (#GP(0) raised). */
void tcgl_check_io(TCGLCPU *c, unsigned port, unsigned size);
/* Port I/O through address_space_io. */
uint64_t tcgl_io_read(TCGLCPU *c, unsigned port, unsigned size);
void tcgl_io_write(TCGLCPU *c, unsigned port, unsigned size, uint64_t v);
/* A20: c->a20_mask from x86_a20_enabled(), the TLB flushed on a change. */
void tcgl_sync_a20(TCGLCPU *c);

#endif

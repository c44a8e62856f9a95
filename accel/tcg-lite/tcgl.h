/*
 * tcg-lite: kvmpc's software x86-64 CPU.  The contract between its parts.
 *
 *   decode.c, decode-tables.c   bytes -> TCGLInsn (format tables, prefixes,
 *                               ModRM/SIB, sizes); picks the handler
 *   cpu-exec.c                  block cache per guest-physical page, block
 *                               linking, code-write invalidation, the
 *                               execution loop (threaded dispatch)
 *   flags.c, int-*.c            lazy condition flags, integer handlers
 *   mmu.c                       segmentation checks, softmmu TLB, page walks,
 *                               memory access slow paths, code fetch
 *   seg.c, excp.c, sys.c        descriptor loads, far transfers, gates, TSS,
 *                               exception/interrupt delivery, system insns,
 *                               CR/DR/MSR/CPUID/RDTSC, port I/O
 *   fpu.c, sse.c                x87, MMX, SSE..SSE4.2, FXSAVE/XSAVE
 *   tcg-all.c                   the AccelOps ("tcg"), vCPU threads, HLT,
 *                               interrupts, INIT/SIPI, kicks
 *
 * Decoding and execution are apart (docs/tcg-lite.md): a block is an array
 * of TCGLInsn, each carrying the handler chosen for its exact form, so a
 * JIT can later translate the same decoded form to host code.
 *
 * Threads: each vCPU has a thread; with several vCPUs it runs guest code
 * holding the big lock (BQL) and drops it between time slices, so one vCPU
 * runs at a time and device callbacks, the memory API and the block cache
 * need no other lock.  A single vCPU runs guest code without the BQL and
 * takes it around calls into the machine (tcgl_bql_enter below).
 */
#ifndef KVMPC_TCGL_H
#define KVMPC_TCGL_H

#include <glib.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include "accel/cpu.h"
#include "system/main-loop.h"

/* Hot helpers that must fold into each specialised handler. */
#define TCGL_ALWAYS_INLINE __attribute__((always_inline))

typedef struct TCGLCPU TCGLCPU;
typedef struct TCGLInsn TCGLInsn;
typedef void TCGLHandler(TCGLCPU *c, const TCGLInsn *i);

#ifndef likely
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

/* ---- the decoded form -------------------------------------------------- */

/* Opcode maps (TCGLInsn.opc = map << 8 | opcode byte). */
enum { TCGL_MAP_1B = 0, TCGL_MAP_0F = 1, TCGL_MAP_0F38 = 2, TCGL_MAP_0F3A = 3 };
#define TCGL_OPC(map, byte) ((uint16_t)((map) << 8 | (byte)))

/* TCGLInsn.pfx */
#define TCGL_PFX_LOCK   0x01
#define TCGL_PFX_REP    0x02    /* F3 (last of F2/F3 wins, as the CPU does) */
#define TCGL_PFX_REPNE  0x04    /* F2 */
#define TCGL_PFX_OPSIZE 0x08    /* 66 */
#define TCGL_PFX_ADSIZE 0x10    /* 67 */
#define TCGL_PFX_REX    0x20    /* a REX prefix is present (byte regs: SPL.., not AH..) */
#define TCGL_PFX_SEG    0x40    /* an explicit segment override */

#define TCGL_NOREG  0xff        /* base/index absent */
#define TCGL_RIPREL 0xfe        /* base: RIP-relative (64-bit mode) */

/*
 * One decoded instruction.  Register numbers are 0-15 (REX applied).  For
 * byte operands (opsize 1) a register number 16-19 means AH, CH, DH, BH
 * (register 0-3, bits 8-15): the decoder resolves REX vs no REX.
 */
struct TCGLInsn {
    TCGLHandler *fn;            /* the handler for this exact form */
    uint16_t opc;               /* TCGL_OPC(map, byte) */
    uint8_t len;                /* bytes, 1-15 */
    uint8_t opsize;             /* effective operand size in bytes: 1, 2, 4, 8 */
    uint8_t adsize;             /* effective address size: 2, 4, 8 */
    uint8_t pfx;                /* TCGL_PFX_* */
    uint8_t seg;                /* segment of the memory operand (R_ES..R_GS), default or override */
    uint8_t modrm;              /* the ModRM byte as read (0 if none) */
    uint8_t mod;                /* 0-2 memory, 3 register (3 also when there is no ModRM) */
    uint8_t reg;                /* ModRM.reg | REX.R << 3 (or the register of the opcode's low bits) */
    uint8_t rm;                 /* register operand when mod == 3: ModRM.rm | REX.B << 3 */
    uint8_t base, index;        /* memory operand registers, TCGL_NOREG, TCGL_RIPREL */
    uint8_t scale;              /* 0-3 */
    uint8_t rex;                /* the REX byte (0: none) */
    uint16_t off;               /* offset of this instruction from its block's first byte */
    uint16_t imm2;              /* second immediate (ENTER's level, a far pointer's selector) */
    int32_t disp;               /* displacement, sign-extended */
    uint64_t imm;               /* first immediate, sign- or zero-extended per opcode */
};
/* 40 bytes: an idle guest's wake-up runs thousands of instructions that
 * are cold in the host's caches, and every line counts. */
_Static_assert(sizeof(struct TCGLInsn) == 40, "TCGLInsn grew");

/* The effective address (offset in the segment) of the memory operand. */
static inline TCGL_ALWAYS_INLINE uint64_t tcgl_ea(const TCGLCPU *c, const TCGLInsn *i);

/* ---- opcode descriptions: how each part hands its handlers to the decoder */

/* TCGLOpDesc.pfx: the mandatory prefix an SSE form needs (0: none allowed
 * there; TCGL_MP_ANY: the prefixes do not select the instruction). */
enum { TCGL_MP_NONE = 0, TCGL_MP_66 = 1, TCGL_MP_F3 = 2, TCGL_MP_F2 = 3, TCGL_MP_ANY = 4 };
/* TCGLOpDesc.mod */
enum { TCGL_MOD_ANY = 0, TCGL_MOD_MEM = 1, TCGL_MOD_REG = 2 };
/* TCGLOpDesc.flags */
#define TCGL_OPF_BRANCH  0x0001 /* ends the block; the handler sets env.rip itself, taken or not */
#define TCGL_OPF_END     0x0002 /* ends the block after it (mode, CR, flags IF/TF, MOV SS...);
                                 * the executor advances rip as for any instruction */
#define TCGL_OPF_LOCK    0x0004 /* LOCK is allowed (with a memory destination) */
#define TCGL_OPF_NO64    0x0008 /* #UD in 64-bit mode */
#define TCGL_OPF_ONLY64  0x0010 /* #UD outside 64-bit mode */
#define TCGL_OPF_PRIV    0x0020 /* CPL 0 only (#GP(0) otherwise) checked before the handler */

typedef struct TCGLOpDesc {
    uint16_t opc;               /* TCGL_OPC(map, byte); 0xffff ends a table */
    int8_t reg;                 /* ModRM.reg (group opcodes) or -1: any */
    uint8_t pfx;                /* TCGL_MP_* */
    uint8_t mod;                /* TCGL_MOD_* */
    uint16_t flags;             /* TCGL_OPF_* */
    TCGLHandler *fn;            /* the handler, or NULL: select picks it */
    /* Picks the specialised handler for this decoded form (register vs
     * memory, operand size, x87 register forms by ModRM.rm ...), or NULL
     * for #UD.  May not change other fields. */
    TCGLHandler *(*select)(const TCGLInsn *i);
} TCGLOpDesc;

#define TCGL_OPDESC_END { .opc = 0xffff }

/* The tables each part provides (the decoder merges them at start-up; an
 * opcode form claimed twice is a start-up assertion). */
extern const TCGLOpDesc tcgl_ops_int[];     /* int-*.c: integer, control flow in a segment */
extern const TCGLOpDesc tcgl_ops_sys[];     /* sys.c, seg.c: system, segments, I/O, far transfers */
extern const TCGLOpDesc tcgl_ops_fpu[];     /* fpu.c: x87, FWAIT */
extern const TCGLOpDesc tcgl_ops_sse[];     /* sse.c: MMX, SSE..SSE4.2, FXSAVE/XSAVE/MXCSR */

/* Handlers every part may name. */
TCGLHandler tcgl_op_ud;     /* #UD */

/* ---- decoding ----------------------------------------------------------- */

#define TCGL_MAX_INSN_LEN 15
#define TCGL_DECODE_MORE  0     /* needs more bytes than `avail` */
/* Decodes one instruction from `bytes` (avail bytes readable) for a CPU in
 * mode `hflags` (TCGL_HF_CS32, TCGL_HF_CS64 matter).  Returns the length,
 * TCGL_DECODE_MORE if the instruction runs past `avail` (avail <
 * TCGL_MAX_INSN_LEN), or -1 if it is longer than 15 bytes (#GP(0)).
 * Invalid encodings decode with fn = tcgl_op_ud. */
int tcgl_decode(const uint8_t *bytes, unsigned avail, uint32_t hflags, TCGLInsn *out);
void tcgl_decode_init(void);    /* merges the op tables (idempotent) */

/* ---- the vCPU ------------------------------------------------------------ */

/* TCGLCPU.hflags: the mode, recomputed by tcgl_update_hflags() whenever
 * CS, SS, CR0, CR4, EFER or RFLAGS.VM change. */
#define TCGL_HF_CPL_MASK  0x0003
#define TCGL_HF_CS32      0x0004    /* CS.D: 32-bit default operand/address size */
#define TCGL_HF_SS32      0x0008    /* SS.B: 32-bit stack */
#define TCGL_HF_CS64      0x0010    /* 64-bit mode (EFER.LMA and CS.L) */
#define TCGL_HF_LMA       0x0020    /* long mode active (64-bit or compatibility) */
#define TCGL_HF_PE        0x0040    /* CR0.PE */
#define TCGL_HF_VM        0x0080    /* virtual-8086 */
#define TCGL_HF_PG        0x0100    /* CR0.PG */
#define TCGL_HF_DECODE_MASK (TCGL_HF_CS32 | TCGL_HF_CS64)
/* A block's key beside its addresses: how it decodes, and the CPL it was
 * found at (compiled code leaves out the #AC test below CPL 3); a CPL
 * change goes through tcgl_update_hflags(), which breaks every chain */
#define TCGL_HF_BLOCK_MASK (TCGL_HF_DECODE_MASK | TCGL_HF_CPL_MASK)

/* Lazy condition flags: cc_op says how CF/PF/AF/ZF/SF/OF follow from
 * cc_dst/cc_src/cc_src2 (the values are flags.c's business).  The other
 * RFLAGS bits (DF, IF, TF, IOPL, NT, RF, VM, AC, ID, bit 1) are always in
 * env->rflags. */
enum { TCGL_CC_EFLAGS = 0 /* cc_src holds the six flags */ };
#define TCGL_RFLAGS_ARITH 0x8d5u    /* CF PF AF ZF SF OF */

/* An event waiting for delivery (excp.c). */
typedef enum TCGLEventKind {
    TCGL_EV_NONE,
    TCGL_EV_FAULT,          /* exception; env->rip is the faulting instruction */
    TCGL_EV_TRAP,           /* exception after the instruction (#DB trap, INTO, INT3) */
    TCGL_EV_SOFTINT,        /* INT n: privilege checked against the gate DPL */
    TCGL_EV_HWINT,          /* external interrupt or NMI */
} TCGLEventKind;

typedef struct TCGLEvent {
    TCGLEventKind kind;
    uint8_t vector;
    bool has_error;
    uint32_t error;
    uint64_t next_rip;      /* TRAP/SOFTINT: the return address */
} TCGLEvent;

/* Why tcgl_cpu_exec() returned. */
typedef enum TCGLExit {
    TCGL_EXIT_REQUEST,      /* exit_request was set (kick, stop, I/O that needs the thread) */
    TCGL_EXIT_HALT,         /* HLT (or MWAIT): sleep until an interrupt */
    TCGL_EXIT_SHUTDOWN,     /* triple fault or reset request: the vCPU parks for the reset */
} TCGLExit;

/* The softmmu TLB (mmu.c owns the entries).  Direct-mapped, indexed by the
 * linear page number; one TLB per privilege (supervisor / user), each
 * with separate read, write and execute tags: a tag equals the page's
 * linear address when the access may go straight to host memory at
 * lin + addend; anything else (invalid, MMIO, watched for code or dirty
 * logging) takes the slow path. */
#define TCGL_TLB_BITS 12
#define TCGL_TLB_SIZE (1u << TCGL_TLB_BITS)
#define TCGL_PAGE_BITS 12
#define TCGL_PAGE_SIZE (1u << TCGL_PAGE_BITS)
#define TCGL_PAGE_MASK (~(uint64_t)(TCGL_PAGE_SIZE - 1))
#define TCGL_TLB_INVALID 1ULL       /* a tag with this bit never matches an aligned address */
enum { TCGL_MMU_SUPER = 0, TCGL_MMU_USER = 1, TCGL_NB_MMU = 2 };

typedef struct TCGLTLBEntry {
    uint64_t tag_read, tag_write, tag_exec;
    uintptr_t addend;           /* host pointer = lin + addend */
} TCGLTLBEntry;                 /* 32 bytes: the inline index is a shift and a mask;
                                 * the guest-physical page is in tlb_phys[][] */

/* Access kinds for the slow paths. */
#define TCGL_ACC_READ   0
#define TCGL_ACC_WRITE  1
#define TCGL_ACC_EXEC   2
#define TCGL_ACC_SUPER  0x10    /* implicit supervisor access (descriptor tables, TSS) */

struct TCGLCPU {
    X86CPUState *env;           /* = &cpu->env: the architectural state lives there */
    CPUState *cpu;
    /* lazy flags (flags.c) */
    uint64_t cc_dst, cc_src, cc_src2;
    uint32_t cc_op;
    uint32_t hflags;
    /* Segmentation fast path, kept by seg.c from env->segs: an access of
     * size n at offset off in segment s is allowed without further checks
     * when off + n - 1 <= seg_rlim[s] (read) / seg_wlim[s] (write) with
     * no wrap; the linear address is (seg_base[s] + off) & lin_mask.
     * Segments that need the slow path (expand-down, not present, null,
     * not readable) get a limit below 0 in that direction: -1 i.e. the
     * check is done as a signed comparison against int64 limits. */
    uint64_t seg_base[R_NB_SEGS];
    int64_t seg_rlim[R_NB_SEGS], seg_wlim[R_NB_SEGS];
    uint64_t lin_mask;          /* 0xffffffff outside long mode, ~0 in it */
    uint64_t a20_mask;          /* physical address mask: bit 20 cleared while A20 is off */
    int mmu_idx;                /* TCGL_MMU_USER at CPL 3 */
    TCGLTLBEntry tlb[TCGL_NB_MMU][TCGL_TLB_SIZE];
    uint64_t tlb_phys[TCGL_NB_MMU][TCGL_TLB_SIZE];     /* each entry's guest-physical page */
    uint64_t tlb_generation;    /* address_space_generation when filled */
    /* events (excp.c) and the unwinding point of the execution loop */
    TCGLEvent event;
    sigjmp_buf jmp;
    /* Compiled code chained from block to block reads these three as one
     * word (jit.c emit_chain): any of them set sends it back to the
     * executor. */
    union {
        struct {
            /* Set from any thread to make tcgl_cpu_exec() return soon
             * (checked between blocks). */
            volatile int exit_request;
            /* Set by a code write that hit the block being executed: the
             * executor leaves the block after the current instruction. */
            bool block_invalidated;
            /* Set by what the executor must see before the next block: a
             * TLB flush or mode change (code_epoch moved) or an interrupt
             * shadow; cleared when it enters compiled code. */
            bool chain_break;
            uint8_t chain_pad[2];       /* (never written: the word reads them as 0) */
        };
        uint64_t chain_stop;
    };
    /* What tcgl_cpu_exec() returns when it sees exit_request: a handler
     * that must stop the loop (HLT after advancing rip, a shutdown) sets
     * exit_reason and then exit_request; the loop resets exit_reason to
     * TCGL_EXIT_REQUEST when it returns. */
    TCGLExit exit_reason;
    uint64_t insns;             /* instructions retired (approximate: counted per block) */
    /* Blocks the executor looked up (rounds of its loop); compiled code
     * that goes on into a chained block does not come back for one. */
    uint64_t exec_lookups;
    struct TCGLBlock *cur_block;
    void *fpu;                  /* fpu.c/sse.c private state, if any */
    /* Bumped by every TLB flush (whole, non-global, one page) and every
     * hflags update: while it keeps its value, a linear page that was
     * found mapped to a physical page still is (the executor's same-page
     * block links rely on it). */
    uint32_t code_epoch;
    /* The executor's per-CPU cache of blocks by linear pc (cpu-exec.c),
     * valid while the block cache's flush count equals jmp_cache_flushes. */
    struct TCGLBlock **jmp_cache;
    uint64_t jmp_cache_flushes;
    /* Guest code without the big lock (one vCPU; docs/tcg-lite.md "Guest
     * code without the big lock").  bql_free: this slice runs without it
     * (set and cleared by the vCPU thread holding the BQL); bql_wrapped:
     * inside the slice, the vCPU took it for a call into the machine
     * (tcgl_bql_enter) and holds it, or waits for a condition with it;
     * in_guest: the vCPU may be touching its TLB, the block cache or its
     * state without the BQL (others wait for 0: tcgl_exclusive_begin);
     * excl_pending: another thread holding the BQL needs those now. */
    bool bql_free;
    bool bql_wrapped;
    int in_guest;
    int excl_pending;
    /* Interrupt acknowledgements put off in a row because the BQL was
     * busy (cpu-exec.c, check_events). */
    unsigned irq_ack_busy;
    /* With bql_free: asked when exit_request was set with no exit_reason
     * (a kick); false lets the slice go on (an interrupt, which the loop
     * takes between blocks, needs no new slice).  NULL: every kick ends
     * the slice. */
    bool (*slice_over)(TCGLCPU *c);
};

/* ---- registers (inline, used by every part) ------------------------------ */

static inline TCGL_ALWAYS_INLINE uint64_t tcgl_size_mask(unsigned size)
{
    return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

/* Reads register n (0-15, or 16-19 = AH..BH for size 1) at size bytes. */
/* The guest-physical page of TLB entry e of c (tlb_phys beside tlb). */
static inline uint64_t *tcgl_tlb_phys(TCGLCPU *c, const TCGLTLBEntry *e)
{
    return &c->tlb_phys[0][0] + (e - &c->tlb[0][0]);
}

static inline TCGL_ALWAYS_INLINE uint64_t tcgl_reg_get(const TCGLCPU *c, unsigned n, unsigned size)
{
    if (size == 1 && n >= 16) {
        return (c->env->regs[n - 16] >> 8) & 0xff;
    }
    return c->env->regs[n] & tcgl_size_mask(size);
}

/* Writes register n at size bytes: 32-bit writes zero the upper half,
 * 8- and 16-bit writes keep the rest. */
static inline TCGL_ALWAYS_INLINE void tcgl_reg_set(TCGLCPU *c, unsigned n, unsigned size, uint64_t v)
{
    uint64_t *r;
    switch (size) {
    case 1:
        if (n >= 16) {
            r = &c->env->regs[n - 16];
            *r = (*r & ~0xff00ULL) | ((v & 0xff) << 8);
        } else {
            r = &c->env->regs[n];
            *r = (*r & ~0xffULL) | (v & 0xff);
        }
        break;
    case 2:
        r = &c->env->regs[n];
        *r = (*r & ~0xffffULL) | (v & 0xffff);
        break;
    case 4:
        c->env->regs[n] = (uint32_t)v;
        break;
    default:
        c->env->regs[n] = v;
        break;
    }
}

static inline TCGL_ALWAYS_INLINE uint64_t tcgl_ea(const TCGLCPU *c, const TCGLInsn *i)
{
    uint64_t a = (uint64_t)(int64_t)i->disp;
    if (i->base == TCGL_RIPREL) {
        a += c->env->rip + i->len;
    } else if (i->base != TCGL_NOREG) {
        a += c->env->regs[i->base];
    }
    if (i->index != TCGL_NOREG) {
        a += c->env->regs[i->index] << i->scale;
    }
    return a & tcgl_size_mask(i->adsize);
}

/* ---- flags (flags.c) ----------------------------------------------------- */

/* The whole RFLAGS (arithmetic flags computed from the lazy state). */
uint64_t tcgl_get_rflags(TCGLCPU *c);
/* Sets the bits of `mask` in RFLAGS to `val` (arithmetic ones included);
 * bit 1 stays set.  Does not check privilege: the caller (POPF, IRET)
 * builds the mask; calls tcgl_update_hflags() if VM changes. */
void tcgl_set_rflags(TCGLCPU *c, uint64_t val, uint64_t mask);
/* Condition code cc (0-15 as in Jcc/SETcc/CMOVcc) is true. */
bool tcgl_cond(TCGLCPU *c, unsigned cc);

/* ---- memory (mmu.c) ------------------------------------------------------ */

/* Segmented accesses for instructions: seg R_ES..R_GS, off the effective
 * address (already truncated to the address size).  Segment checks
 * (#GP(0), #SS(0) for SS), canonical checks in 64-bit mode, paging
 * (#PF with CR2 and the error code), alignment check if CR0.AM/AC.  An
 * access crossing a page is split; nothing is written unless both pages
 * are writable. */
uint8_t tcgl_ldb(TCGLCPU *c, int seg, uint64_t off);
uint16_t tcgl_ldw(TCGLCPU *c, int seg, uint64_t off);
uint32_t tcgl_ldl(TCGLCPU *c, int seg, uint64_t off);
uint64_t tcgl_ldq(TCGLCPU *c, int seg, uint64_t off);
void tcgl_stb(TCGLCPU *c, int seg, uint64_t off, uint8_t v);
void tcgl_stw(TCGLCPU *c, int seg, uint64_t off, uint16_t v);
void tcgl_stl(TCGLCPU *c, int seg, uint64_t off, uint32_t v);
void tcgl_stq(TCGLCPU *c, int seg, uint64_t off, uint64_t v);
/* By size (1, 2, 4, 8). */
uint64_t tcgl_ld(TCGLCPU *c, int seg, uint64_t off, unsigned size);
void tcgl_st(TCGLCPU *c, int seg, uint64_t off, unsigned size, uint64_t v);
/* 16-byte and arbitrary-size buffers (SSE, FXSAVE, descriptor images):
 * all checks first, then the copy. */
void tcgl_ld_buf(TCGLCPU *c, int seg, uint64_t off, void *buf, unsigned size);
void tcgl_st_buf(TCGLCPU *c, int seg, uint64_t off, const void *buf, unsigned size);
/* Read-modify-write (LOCK, XCHG, CMPXCHG, ADD to memory...): returns a
 * host pointer to `size` bytes translated for writing (all checks done,
 * the page marked dirty) when the operand is in RAM within one page, else
 * NULL: then use tcgl_ld + tcgl_st, after checking writability with
 * tcgl_probe_write().  Valid until the next memory access. */
void *tcgl_rmw_ptr(TCGLCPU *c, int seg, uint64_t off, unsigned size);
void tcgl_probe_write(TCGLCPU *c, int seg, uint64_t off, unsigned size);
/* Linear-address accesses (descriptor tables, TSS, IDT: pass
 * TCGL_ACC_SUPER; string fast paths pass the CPL's access). */
uint64_t tcgl_ld_lin(TCGLCPU *c, uint64_t lin, unsigned size, int acc);
void tcgl_st_lin(TCGLCPU *c, uint64_t lin, unsigned size, uint64_t v, int acc);
/* Host pointer to `len` bytes at a linear address within one page for
 * the given access (RAM only), or NULL (MMIO, ROM for write, crossing):
 * the REP MOVS/STOS fast path. */
void *tcgl_lin_ptr(TCGLCPU *c, uint64_t lin, unsigned len, int acc);
/* Code fetch: the host pointer of the page holding linear address pc,
 * checked for execute (#PF), with its guest-physical address and the
 * bytes left in the page; NULL (and *phys set) if the page is not RAM/ROM
 * (code in MMIO: fetch with tcgl_fetch_bytes()). */
const uint8_t *tcgl_fetch_page(TCGLCPU *c, uint64_t pc, uint64_t *phys, unsigned *avail);
void tcgl_fetch_bytes(TCGLCPU *c, uint64_t pc, uint8_t *buf, unsigned len);
/* TLB maintenance: after CR0/CR3/CR4/EFER changes, INVLPG, A20, memory
 * map changes (the generation). */
void tcgl_tlb_flush(TCGLCPU *c);
void tcgl_tlb_flush_page(TCGLCPU *c, uint64_t lin);
/* Physical address of a linear address without side effects (debugger,
 * monitor), -1 if unmapped. */
uint64_t tcgl_debug_translate(TCGLCPU *c, uint64_t lin);
/* Added by part "mmu":
 * - CR3 write with CR4.PGE set: drops every entry except global pages
 *   (a full flush when CR4.PGE is clear).
 * - The guest-physical address space the vCPUs see (default: NULL, i.e.
 *   address_space_memory); set before the vCPUs run.
 * - The CPU model's physical address width (entry bits above it are
 *   reserved; default 40) and whether 1 GiB pages exist (pdpe1gb; default
 *   true: else PS in a PDPTE is a reserved bit).
 * - tcgl_mmu_cpu_init: once per vCPU before its first access (sets
 *   a20_mask to ~0 if 0, flushes the TLB: a zeroed TLB is NOT empty, and
 *   registers the vCPU for memory-map and dirty-log notifications);
 *   tcgl_mmu_cpu_exit before the TCGLCPU is freed. */
struct AddressSpace;
void tcgl_tlb_flush_nonglobal(TCGLCPU *c);
void tcgl_mmu_set_address_space(struct AddressSpace *as);
void tcgl_mmu_set_model(unsigned phys_bits, bool pdpe1gb);
void tcgl_mmu_cpu_init(TCGLCPU *c);
void tcgl_mmu_cpu_exit(TCGLCPU *c);

/* ---- segments, events, system (seg.c, excp.c, sys.c) -------------------- */

/* Recompute hflags, the segment fast path and mmu_idx from env. */
void tcgl_update_hflags(TCGLCPU *c);
/* Raise an exception (fault): records it and unwinds to the execution
 * loop (siglongjmp to c->jmp); err < 0: no error code.  env->rip must be
 * the faulting instruction's address (the executor sets it before each
 * handler). */
__attribute__((noreturn)) void tcgl_raise(TCGLCPU *c, int vector, int err);
/* INT n / INT3 / INTO: a software interrupt returning to next_rip. */
__attribute__((noreturn)) void tcgl_raise_softint(TCGLCPU *c, int vector, uint64_t next_rip,
                                                  TCGLEventKind kind);
/* Deliver c->event (through the IDT/IVT, gates, stack switch, IST...),
 * turning a fault during delivery into #DF and a fault during #DF into a
 * shutdown.  Called by the execution loop; may unwind again to c->jmp. */
void tcgl_deliver_event(TCGLCPU *c);
/* Deliver an external interrupt (vector from cpu_get_interrupt) or NMI
 * now, between instructions. */
void tcgl_deliver_hwint(TCGLCPU *c, int vector, bool nmi);
/* PAUSE: a hint that the vCPU spins (tcg-all.c may yield). */
void tcgl_pause(TCGLCPU *c);
/* Added by part "sys": the execution loop calls this between blocks when
 * cpu->interrupt_request is non-zero or env->events.interrupt_shadow is
 * set.  A pending shadow (STI, MOV SS, POP SS: all end their block) is
 * consumed and nothing is taken, so the next block runs its first
 * instruction shadowed; otherwise an unmasked NMI, then a maskable
 * interrupt if IF=1 (cpu_get_interrupt), is delivered.  INIT/SIPI/SMI set
 * exit_request for the vCPU thread.  Returns true if it delivered one.  May
 * unwind to c->jmp (a fault during delivery). */
bool tcgl_take_interrupts(TCGLCPU *c);

/* ---- x87/SSE state (fpu.c, sse.c) ----------------------------------------- */

/* env->xsave (FXSAVE layout + XSAVE header) is the architectural image;
 * fpu.c may keep a working copy in c->fpu.  from_env loads the working
 * state from env (after put_state, reset), to_env stores it (before
 * get_state hands env out). */
void tcgl_fp_state_from_env(TCGLCPU *c);
void tcgl_fp_state_to_env(TCGLCPU *c);

/* ---- guest code without the big lock ----------------------------------------- */

/* The vCPU (not holding the BQL) goes back to guest code: it says so,
 * then looks whether a thread holding the BQL wants it to stay out (the
 * two sides store, then load: one sees the other, seq_cst). */
static inline void tcgl_guest_enter(TCGLCPU *c)
{
    for (;;) {
        __atomic_store_n(&c->in_guest, 1, __ATOMIC_SEQ_CST);
        if (!__atomic_load_n(&c->excl_pending, __ATOMIC_SEQ_CST)) {
            return;
        }
        __atomic_store_n(&c->in_guest, 0, __ATOMIC_SEQ_CST);
        bql_lock();             /* the other side holds it until it is done */
        bql_unlock();
    }
}

/* Around every call from guest code into the machine (port I/O, MMIO,
 * the memory map, the interrupt controllers, MSRs): takes the BQL if this
 * slice runs without it.  A fault that unwinds from inside goes to
 * tcgl_cpu_exec(), which gives it back. */
static inline bool tcgl_bql_enter(TCGLCPU *c)
{
    if (likely(!c->bql_free) || c->bql_wrapped) {
        return false;
    }
    __atomic_store_n(&c->in_guest, 0, __ATOMIC_SEQ_CST);
    bql_lock();
    c->bql_wrapped = true;
    return true;
}

/* tcgl_bql_enter() without the wait: -1 when the BQL is busy (held or
 * queued for), the caller does something else and asks again later;
 * else what tcgl_bql_enter() returns. */
static inline int tcgl_bql_try_enter(TCGLCPU *c)
{
    if (likely(!c->bql_free) || c->bql_wrapped) {
        return 0;
    }
    __atomic_store_n(&c->in_guest, 0, __ATOMIC_SEQ_CST);
    if (!bql_trylock()) {
        tcgl_guest_enter(c);
        return -1;
    }
    c->bql_wrapped = true;
    return 1;
}

static inline void tcgl_bql_leave(TCGLCPU *c, bool taken)
{
    if (taken) {
        c->bql_wrapped = false;
        bql_unlock();
        tcgl_guest_enter(c);
    }
}

/* Another thread, holding the BQL, is about to change what a vCPU running
 * without it reads (its TLB for a map change or cleared dirty bits, the
 * block cache for a code write): waits until every such vCPU is out of
 * guest code (in a call into the machine, or at the end of its slice),
 * and keeps it out until tcgl_exclusive_end().  Nothing to do for a
 * vCPU that holds the BQL or waits inside a call (bql_wrapped).  mmu.c. */
void tcgl_exclusive_begin(void);
void tcgl_exclusive_end(void);

/* ---- execution (cpu-exec.c) ------------------------------------------------ */

/* Runs guest code until exit_request, HLT or shutdown (the caller holds
 * the BQL, or set bql_free and dropped it; interrupts are taken between
 * blocks). */
TCGLExit tcgl_cpu_exec(TCGLCPU *c);
/* Drop every decoded block (code memory changed wholesale, reset). */
void tcgl_blocks_flush(void);
/* Drop the compiled code of every block, keep the decoded blocks (between
 * slices); false if there was none. */
bool tcgl_blocks_uncompile(void);
/* HMP `info jit`: the block cache's figures. */
void tcgl_blocks_info(GString *out);
/* Start tracking code writes (DIRTY_MEMORY_CODE), once. */
void tcgl_exec_init(void);

#endif

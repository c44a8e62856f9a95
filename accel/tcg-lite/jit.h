/*
 * tcg-lite JIT backend (docs/tcg-lite.md "The JIT backend").
 *
 * A block that ran `threshold` times gets host code: a function that runs
 * its instructions exactly as the interpreter loop (run_block) would, and
 * returns how many it ran (fewer than the block's count only when a code
 * write invalidated the running block).  Host x86-64 only; elsewhere the
 * interpreter runs and jit=on is an error.
 *
 * The code lives in one mmap'd arena that is emptied together with the
 * block arena (tcgl_jit_flush from cpu-exec.c's flush): a dropped block's
 * code is never entered (the executor checks the block first), a flushed
 * arena is reused only after every block pointing into it is gone.
 */
#ifndef KVMPC_TCGL_JIT_H
#define KVMPC_TCGL_JIT_H

#include "tcgl.h"
#include "qemu/error.h"

/* Runs the block whose first instruction's rip is `start`, and the blocks
 * chained after it (tcgl_jit_link), with c->cur_block the running one.
 * It finishes as run_block() does: rip after a non-branch last
 * instruction, c->insns per block, rip after the storing instruction when
 * a code write invalidated the running block.  On return c->cur_block is
 * the last block that ran. */
typedef void TCGLJitFn(TCGLCPU *c, uint64_t start);

/* What the executor passes per block. */
typedef struct TCGLJitBlock {
    const TCGLInsn *insns;      /* the block's instructions (their addresses are baked in) */
    unsigned n;                 /* how many the executor runs */
    bool last_branch;           /* the last one sets rip itself */
    bool fused_jcc;             /* insns[n - 1] is a CMP/TEST fused with the Jcc insns[n] */
    uint32_t hflags;            /* the block's mode (TCGL_HF_BLOCK_MASK) */
    uint64_t ip_mask;           /* rip wrap of the block's mode */
    uint64_t cs_base;           /* the block's CS base (chaining checks it) */
    uint64_t pc;                /* linear address of its first byte (for the perf map) */
    void *owner;                /* the executor's block (c->cur_block while it runs) */
    /* filled by tcgl_jit_compile: where a chained predecessor enters (rbx,
     * r13 set, r12 = start), and the block's chain exit for tcgl_jit_link */
    void *body;
    void *chain;
    /* and the block's byte in the JIT's dense array of "dropped" flags:
     * the executor sets it when it drops the block (tcgl_jit_kill) and a
     * chained predecessor reads it, a byte among its neighbours' rather
     * than a line of the block's own (a cache miss at every chained
     * transition, 8% of a kernel-bound profile) */
    uint8_t *dead;
} TCGLJitBlock;

/* Reads KVMPC_TCGL_JIT (0/1, off/on) and KVMPC_TCGL_JIT_THRESHOLD unless
 * tcgl_jit_set_enabled()/tcgl_jit_set_threshold() were called before. */
void tcgl_jit_init(void);
/* -accel tcg,jit=on|off.  false (errp set) for on where there is no JIT. */
bool tcgl_jit_set_enabled(bool on, Error **errp);
bool tcgl_jit_enabled(void);
/* Executions of a block before it is compiled (>= 1). */
void tcgl_jit_set_threshold(unsigned n);
unsigned tcgl_jit_threshold(void);
/* A block is compiled once it ran tcgl_jit_threshold() times within this
 * many milliseconds (0: counted since it was decoded, however slowly);
 * KVMPC_TCGL_JIT_WINDOW_MS. */
unsigned tcgl_jit_window_ms(void);
void tcgl_jit_set_window_ms(unsigned ms);
/* Host code for the block, or NULL when the arena is full (the caller
 * flushes both arenas at the next block boundary and tries again later). */
TCGLJitFn *tcgl_jit_compile(TCGLJitBlock *jb);
/* Block chaining.  After a compiled block ends normally, its code checks
 * (every time) that no code write hit it, no exit or interrupt request is
 * pending, no TLB flush, mode change or interrupt shadow happened since the
 * executor entered compiled code (c->chain_stop, one word, is zero) and the
 * CS base is the block's; then compares the new
 * rip with its TCGL_JIT_LINKS link slots and jumps straight into the
 * matching successor's body, if that block is not dropped and (another
 * page) its execute TLB entry still maps its page.  The executor links
 * only successors of the same CS base and mode.  Returns false when the
 * slot cannot take it. */
#define TCGL_JIT_LINKS 2
typedef struct TCGLJitLink {
    uint64_t rip;               /* the successor's first rip */
    void *owner, *body;         /* its block (TCGLJitBlock.owner) and code */
    const uint8_t *dead;        /* its TCGLJitBlock.dead */
    bool same_page;             /* same linear and physical page: no TLB check */
    /* else: its execute TLB entry (offset in TCGLCPU) must map lin_page
     * to phys_page */
    uint32_t tlb_off, phys_off;     /* (phys_off: its tlb_phys[][]) */
    uint64_t lin_page, phys_page;
} TCGLJitLink;
bool tcgl_jit_link(void *chain, unsigned slot, const TCGLJitLink *l);
/* Chained code whose link slots all missed (returns, indirect jumps, a
 * successor not linked yet): the executor's next block by its jump cache
 * (cpu-exec.c), if find_block() would take it from there and it is
 * compiled.  Links it into a free slot of the running block as the
 * executor would, sets c->cur_block to it and returns its body (entered
 * with r12 = rip); NULL sends the code back to the executor. */
void *tcgl_chain_lookup(TCGLCPU *c);
/* A compiled block is dropped: chained predecessors no longer enter it.
 * `dead` is its TCGLJitBlock.dead, valid until the next tcgl_jit_flush(). */
static inline void tcgl_jit_kill(uint8_t *dead)
{
    __atomic_store_n(dead, 1, __ATOMIC_RELEASE);
}
/* Chaining on (default) or off (KVMPC_TCGL_JIT_CHAIN=0; tests compare). */
void tcgl_jit_set_chain(bool on);
bool tcgl_jit_chain_enabled(void);
/* Stage 2 on (default) or off: inline code for the hottest forms, or
 * every instruction a handler call (tests compare both). */
void tcgl_jit_set_inline(bool on);
/* Forget all host code (every block using it is being dropped). */
void tcgl_jit_flush(void);

typedef struct TCGLJitStats {
    uint64_t blocks;            /* compiled since start */
    uint64_t inlined;           /* instructions emitted inline (no handler call) */
    uint64_t flushes;
    uint64_t links;             /* successors patched in (block chaining) */
    uint64_t links_far;         /* of which on another page */
    uint64_t slow_paths;        /* inline accesses that went to the handler (run time) */
    uint64_t pushpop_runs;      /* PUSH/POP runs compiled as one access */
    size_t used, size;          /* arena bytes */
} TCGLJitStats;
void tcgl_jit_stats(TCGLJitStats *s);

#endif

/*
 * tcg-lite execution: the block cache and the execution loop.
 *
 * A block is the decoded form of a run of instructions: up to a control
 * transfer (TCGL_OPF_BRANCH), an instruction that ends the block
 * (TCGL_OPF_END), the end of its guest page, or BLOCK_MAX_INSNS.  An
 * instruction that runs into the next page starts a block of its own
 * (which then depends on both pages), so a fetch fault on the second page
 * is raised by the right instruction.
 *
 * Blocks are found by (guest-physical address of the first byte, linear
 * pc, CS base, hflags & TCGL_HF_BLOCK_MASK) in a hash table, and each
 * block remembers its last two successors (a direct link, checked against
 * the key and the execute TLB before it is followed).  Each guest page
 * holding decoded code has a descriptor listing its blocks; a write to the
 * page (docs/memory.md section 2 item 3) drops them all.
 *
 * Memory: blocks and page descriptors come from an arena; dropped blocks
 * stay there, marked invalid, until the arena fills and everything is
 * flushed at a block boundary (links to a dropped block are never
 * followed: the flag is checked).
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <glib.h>
#include "hw/memory.h"
#include "hw/i386/x86-irq.h"
#include "decode.h"
#include "flags.h"
#include "fp.h"
#include "int-ops.h"
#include "jit.h"

#define BLOCK_MAX_INSNS 64
#define HASH_BITS 17
#define JMP_CACHE_BITS 14
#define PAGE_HASH_BITS 12
#define ARENA_CHUNK (4u << 20)
#define ARENA_MAX_CHUNKS 16         /* 64 MiB of decoded code, then flush */

typedef struct TCGLPageDesc TCGLPageDesc;

/* The fields every run of a block reads (the lookup, the link checks, the
 * executor) come first: an idle guest runs its blocks cold in the host's
 * caches, and the header and the first instructions share lines (blocks
 * are 64-byte aligned). */
typedef struct TCGLBlock {
    uint64_t pc;                    /* linear address of the first byte */
    uint64_t phys;                  /* guest-physical address of the first byte */
    uint64_t cs_base;
    struct TCGLBlock *link[2];      /* last successors */
    TCGLJitFn *host_code;           /* JIT code for the whole block (jit.h), or NULL */
    uint8_t hflags;                 /* & TCGL_HF_BLOCK_MASK */
    bool last_branch;               /* the last instruction sets rip itself */
    bool fused_jcc;                 /* insns[n - 1] is CMP/TEST fused with the Jcc at insns[n] */
    bool invalid;                   /* dropped (code write, flush of the page) */
    bool two_pages;                 /* phys2 != -1 */
    bool link_same[2];              /* link[k] is on this block's linear and physical page */
    uint8_t nchained;
    uint16_t n;                     /* instructions */
    uint32_t exec_count;            /* runs so far, until it reaches the JIT threshold */
    /* (64 bytes) */
    uint64_t phys2;                 /* second page (straddling instruction) or -1 */
    uint32_t count_since_ms;        /* when exec_count last started from 0 (coarse clock) */
    TCGLHandler **priv_fn;          /* real handlers of CPL-0-only instructions, or NULL */
    struct TCGLBlock *hash_next;
    struct TCGLBlock *page_next[2]; /* in the descriptors of page 1 and page 2 */
    TCGLPageDesc *page[2];
    void *jit_body, *jit_chain;     /* its entry for chained predecessors, its link slots */
    uint8_t *jit_dead;              /* its flag for chained predecessors (tcgl_jit_kill) */
    uint64_t chained_rip[TCGL_JIT_LINKS];   /* successors linked into its code, by rip */
    TCGLInsn insns[];
} TCGLBlock;
_Static_assert(TCGL_HF_BLOCK_MASK <= 0xff, "TCGLBlock.hflags is a byte");
_Static_assert(offsetof(TCGLBlock, phys2) == 64, "TCGLBlock's hot fields moved");

struct TCGLPageDesc {
    MemoryRegion *mr;               /* the RAM/ROM region and the page's offset in it */
    uint64_t offset;
    TCGLBlock *blocks;
    TCGLPageDesc *next;
};

static struct {
    TCGLBlock *hash[1u << HASH_BITS];
    TCGLPageDesc *pages[1u << PAGE_HASH_BITS];
    uint8_t *chunks[ARENA_MAX_CHUNKS];
    unsigned nr_chunks;
    size_t used;                    /* in the last chunk */
    uint64_t flush_count;
    bool flush_pending;
    bool executing;
    MemoryDirtyNotifier notifier;
    bool init_done;
} bc;

static uint32_t coarse_ms(void);

/* ---- arena ---------------------------------------------------------------- */

/* 2 MiB aligned and advised for large pages, as the JIT's code arena. */
static uint8_t *chunk_alloc(void)
{
    void *p;

    if (posix_memalign(&p, 2u << 20, ARENA_CHUNK) != 0) {
        g_error("tcg-lite: cannot allocate %u MiB for decoded code", ARENA_CHUNK >> 20);
    }
#ifdef MADV_HUGEPAGE
    madvise(p, ARENA_CHUNK, MADV_HUGEPAGE);
#endif
    return p;
}

static void *arena_alloc(size_t size)
{
    void *p;

    size = (size + 63) & ~(size_t)63;         /* cache-line aligned (TCGLBlock) */
    if (bc.nr_chunks == 0 || bc.used + size > ARENA_CHUNK) {
        if (bc.nr_chunks == ARENA_MAX_CHUNKS) {
            return NULL;
        }
        bc.chunks[bc.nr_chunks++] = chunk_alloc();
        bc.used = 0;
    }
    p = bc.chunks[bc.nr_chunks - 1] + bc.used;
    bc.used += size;
    return p;
}

/* b is dropped: never found or entered again (compiled predecessors
 * chained to it read its JIT flag) */
static inline void block_drop(TCGLBlock *b)
{
    b->invalid = true;
    if (b->jit_dead) {
        tcgl_jit_kill(b->jit_dead);
    }
}

static void flush_now(void)
{
    memset(bc.hash, 0, sizeof(bc.hash));
    memset(bc.pages, 0, sizeof(bc.pages));
    for (unsigned k = 1; k < bc.nr_chunks; k++) {
        free(bc.chunks[k]);
    }
    bc.nr_chunks = bc.nr_chunks ? 1 : 0;
    bc.used = 0;
    tcgl_jit_flush();               /* no block refers to host code any more */
    bc.flush_count++;
    bc.flush_pending = false;
}

/* The executing vCPU: code_write needs it to stop a block it invalidates. */
static TCGLCPU *exec_cpu;

void tcgl_blocks_flush(void)
{
    if (bc.executing) {
        /* the running block (and a chain of compiled blocks) stops after
         * the current instruction, as after a code write into it */
        if (exec_cpu && exec_cpu->cur_block) {
            exec_cpu->block_invalidated = true;
        }
        /* a handler asked: drop everything at the next block boundary, and
         * stop using the blocks we have now */
        for (unsigned h = 0; h < (1u << HASH_BITS); h++) {
            for (TCGLBlock *b = bc.hash[h]; b; b = b->hash_next) {
                block_drop(b);
            }
        }
        bc.flush_pending = true;
        return;
    }
    flush_now();
}

/* Forgets every block's compiled code and empties the JIT's arena; the
 * decoded blocks stay, run by the executor, and compile again when they
 * are hot again (tcg-all.c calls this when the guest has been idle for a
 * while: compiled code that runs now and then is slower than the
 * executor, docs/tcg-lite.md "Dropping cold code").  Only between
 * slices (no compiled code can be running). */
bool tcgl_blocks_uncompile(void)
{
    uint32_t now = coarse_ms();
    TCGLJitStats st;

    tcgl_jit_stats(&st);
    if (bc.executing || !st.used) {
        return false;
    }
    for (unsigned h = 0; h < (1u << HASH_BITS); h++) {
        for (TCGLBlock *b = bc.hash[h]; b; b = b->hash_next) {
            b->host_code = NULL;
            b->jit_body = NULL;
            b->jit_chain = NULL;
            b->jit_dead = NULL;
            b->nchained = 0;
            b->exec_count = 0;
            b->count_since_ms = now;
        }
    }
    tcgl_jit_flush();
    return true;
}

void tcgl_blocks_info(GString *out)
{
    unsigned blocks = 0, compiled = 0, insns = 0;

    for (unsigned h = 0; h < (1u << HASH_BITS); h++) {
        for (TCGLBlock *b = bc.hash[h]; b; b = b->hash_next) {
            if (!b->invalid) {
                blocks++;
                insns += b->n;
                compiled += b->host_code != NULL;
            }
        }
    }
    g_string_append_printf(out, "decoded blocks: %u (%u instructions), %zu KiB in %u chunks, "
                           "%" PRIu64 " flushes\n", blocks, insns,
                           (bc.nr_chunks ? (size_t)(bc.nr_chunks - 1) * ARENA_CHUNK + bc.used : 0) >> 10,
                           bc.nr_chunks, bc.flush_count);
    g_string_append_printf(out, "compiled blocks now: %u\n", compiled);
}

/* ---- lookup tables ------------------------------------------------------------ */

static inline unsigned block_hash(uint64_t phys, uint64_t pc, uint32_t hf)
{
    uint64_t h = (phys ^ (pc << 7) ^ hf) * 0x9e3779b97f4a7c15ULL;
    return (unsigned)(h >> (64 - HASH_BITS));
}

static inline unsigned page_hash(const MemoryRegion *mr, uint64_t offset)
{
    uint64_t h = ((uintptr_t)mr ^ (offset >> TCGL_PAGE_BITS)) * 0x9e3779b97f4a7c15ULL;
    return (unsigned)(h >> (64 - PAGE_HASH_BITS));
}

static TCGLPageDesc *page_find(MemoryRegion *mr, uint64_t offset)
{
    for (TCGLPageDesc *p = bc.pages[page_hash(mr, offset)]; p; p = p->next) {
        if (p->mr == mr && p->offset == offset) {
            return p;
        }
    }
    return NULL;
}

static void unlink_hash(TCGLBlock *b)
{
    TCGLBlock **pp = &bc.hash[block_hash(b->phys, b->pc, b->hflags)];
    for (; *pp; pp = &(*pp)->hash_next) {
        if (*pp == b) {
            *pp = b->hash_next;
            return;
        }
    }
}

/* Drop every block of a page (a write to it).  A block on two pages stays
 * in the other page's list, marked invalid. */
static void page_drop(TCGLCPU *c, TCGLPageDesc *p)
{
    TCGLBlock *b = p->blocks;
    while (b) {
        TCGLBlock *next = b->page[0] == p ? b->page_next[0] : b->page_next[1];
        if (!b->invalid) {
            block_drop(b);
            unlink_hash(b);
        }
        if (c && c->cur_block == b) {
            c->block_invalidated = true;
        }
        b = next;
    }
    p->blocks = NULL;
}

/* A write into a page with decoded code: by the guest (a slow-path store
 * of the running vCPU), or by a device's DMA from another thread holding
 * the BQL, which first stops a vCPU that runs without it. */
static void code_write_cb(MemoryDirtyNotifier *n, MemoryRegion *mr, uint64_t addr, uint64_t len)
{
    uint64_t first = addr & TCGL_PAGE_MASK, last = (addr + (len ? len : 1) - 1) & TCGL_PAGE_MASK;

    (void)n;
    /* before page_find: the vCPU may be emptying the cache (flush_now) */
    tcgl_exclusive_begin();
    for (uint64_t pg = first; ; pg += TCGL_PAGE_SIZE) {
        TCGLPageDesc *p = page_find(mr, pg);
        if (p) {
            page_drop(exec_cpu, p);
        }
        if (pg >= last) {
            break;
        }
    }
    tcgl_exclusive_end();
}

void tcgl_exec_init(void)
{
    if (bc.init_done) {
        return;
    }
    bc.init_done = true;
    tcgl_decode_init();
    tcgl_jit_init();
    memory_global_dirty_log_start(DIRTY_MEMORY_CODE);
    bc.notifier.code_write = code_write_cb;
    memory_dirty_notifier_register(&bc.notifier);
}

/* Registers block b on the page at guest-physical `phys`: the page is now
 * watched for writes (clean for CODE).  Returns false for a page that is
 * not RAM/ROM (the block is then not cached). */
static bool page_add(TCGLBlock *b, uint64_t phys, int which)
{
    MemoryTranslation t;
    TCGLPageDesc *p;
    uint64_t off;

    address_space_translate(&address_space_memory, phys & TCGL_PAGE_MASK, &t);
    if ((t.kind != MEMORY_TRANSLATION_RAM && t.kind != MEMORY_TRANSLATION_ROM) ||
        !memory_translation_covers(&t, phys & TCGL_PAGE_MASK, TCGL_PAGE_SIZE)) {
        return false;
    }
    off = t.offset & TCGL_PAGE_MASK;
    p = page_find(t.mr, off);
    if (!p) {
        unsigned h = page_hash(t.mr, off);
        p = arena_alloc(sizeof(*p));
        if (!p) {
            return false;
        }
        p->mr = t.mr;
        p->offset = off;
        p->blocks = NULL;
        p->next = bc.pages[h];
        bc.pages[h] = p;
    }
    b->page_next[which] = p->blocks;
    b->page[which] = p;
    p->blocks = b;
    return true;
}

/* Clears the page's CODE dirty bit before decoding from it. */
static void page_protect(uint64_t phys)
{
    MemoryTranslation t;
    address_space_translate(&address_space_memory, phys & TCGL_PAGE_MASK, &t);
    if (t.kind == MEMORY_TRANSLATION_RAM || t.kind == MEMORY_TRANSLATION_ROM) {
        memory_region_test_and_clear_dirty(t.mr, t.offset & TCGL_PAGE_MASK, TCGL_PAGE_SIZE,
                                           DIRTY_MEMORY_CODE);
    }
}

/* ---- translation ---------------------------------------------------------------- */

static void op_gp_too_long(TCGLCPU *c, const TCGLInsn *i)
{
    (void)i;
    tcgl_raise(c, 13, 0);
}

/* CPL-0-only instruction: #GP(0) above CPL 0, else its handler. */
static void op_priv(TCGLCPU *c, const TCGLInsn *i)
{
    TCGLBlock *b = c->cur_block;
    if (c->hflags & TCGL_HF_CPL_MASK) {
        tcgl_raise(c, 13, 0);
    }
    b->priv_fn[i - b->insns](c, i);
}

/* A block for code outside RAM/ROM (never cached): one instruction. */
static union {
    TCGLBlock b;
    uint8_t space[sizeof(TCGLBlock) + sizeof(TCGLInsn) + 16];
} mmio_block;
static TCGLHandler *mmio_priv_fn[1];

static uint64_t ip_mask(uint32_t hf)
{
    return (hf & TCGL_HF_CS64) ? ~0ULL : (hf & TCGL_HF_CS32) ? 0xffffffffULL : 0xffffULL;
}

static TCGLBlock *translate(TCGLCPU *c, uint64_t pc, uint64_t phys, const uint8_t *host,
                            unsigned avail)
{
    TCGLInsn insns[BLOCK_MAX_INSNS];
    uint16_t opflags[BLOCK_MAX_INSNS];
    uint32_t hf = c->hflags & TCGL_HF_BLOCK_MASK;
    uint64_t rip = c->env->rip, phys2 = (uint64_t)-1, ipm = ip_mask(hf);
    unsigned n = 0, off = 0;
    bool cached = host != NULL, last_branch = false, any_priv = false;
    TCGLBlock *b;
    size_t size;

    if (host) {
        page_protect(phys);
    }
    while (n < BLOCK_MAX_INSNS) {
        TCGLDecodeInfo info;
        uint8_t buf[2 * TCGL_MAX_INSN_LEN];
        int len;

        if (n > 0 && ((rip + off) & ipm) != rip + off) {
            break;                  /* IP wraps: a new block at the wrapped address */
        }
        if (!host) {
            tcgl_fetch_bytes(c, pc, buf, TCGL_MAX_INSN_LEN);
            len = tcgl_decode_ex(buf, TCGL_MAX_INSN_LEN, hf, &insns[n], &info);
        } else {
            len = tcgl_decode_ex(host + off, avail - off, hf, &insns[n], &info);
        }
        if (len == TCGL_DECODE_MORE) {
            /* runs into the next page: only as the first instruction */
            unsigned have = avail - off, avail2 = 0;
            const uint8_t *h2;
            if (n > 0) {
                break;
            }
            memcpy(buf, host + off, have);
            h2 = tcgl_fetch_page(c, pc + have, &phys2, &avail2);
            if (h2) {
                unsigned k = avail2 < TCGL_MAX_INSN_LEN ? avail2 : TCGL_MAX_INSN_LEN;
                memcpy(buf + have, h2, k);
                page_protect(phys2);
                len = tcgl_decode_ex(buf, have + k, hf, &insns[n], &info);
            } else {
                tcgl_fetch_bytes(c, pc + have, buf + have, TCGL_MAX_INSN_LEN);
                cached = false;
                len = tcgl_decode_ex(buf, have + TCGL_MAX_INSN_LEN, hf, &insns[n], &info);
            }
            phys2 &= TCGL_PAGE_MASK;
        }
        if (len <= 0) {
            /* longer than 15 bytes: #GP(0) when it is reached */
            if (n > 0) {
                break;
            }
            memset(&insns[n], 0, sizeof(insns[n]));
            insns[n].fn = op_gp_too_long;
            insns[n].len = TCGL_MAX_INSN_LEN;
            info.opflags = TCGL_OPF_BRANCH;
            len = TCGL_MAX_INSN_LEN;
        }
        insns[n].off = (uint16_t)off;
        opflags[n] = info.opflags;
        any_priv |= (info.opflags & TCGL_OPF_PRIV) != 0;
        off += (unsigned)len;
        n++;
        if ((info.opflags & (TCGL_OPF_BRANCH | TCGL_OPF_END)) || !host || phys2 != (uint64_t)-1) {
            last_branch = info.opflags & TCGL_OPF_BRANCH;
            break;
        }
        if (off >= avail) {
            break;
        }
    }

    size = sizeof(TCGLBlock) + n * sizeof(TCGLInsn);
    b = cached ? arena_alloc(size + (any_priv ? n * sizeof(TCGLHandler *) : 0)) : NULL;
    if (!b) {
        if (cached && !bc.executing) {
            /* the arena is full: start over (nothing runs from it now) */
            flush_now();
            b = arena_alloc(size + (any_priv ? n * sizeof(TCGLHandler *) : 0));
        }
        if (!b) {
            cached = false;
            n = 1;
            b = &mmio_block.b;
        }
    }
    memset(b, 0, sizeof(*b));
    b->phys = phys;
    b->pc = pc;
    b->cs_base = c->seg_base[R_CS];
    b->phys2 = phys2;
    b->two_pages = phys2 != (uint64_t)-1;
    b->hflags = hf;
    b->n = (uint16_t)n;
    b->count_since_ms = coarse_ms();
    b->last_branch = n == 1 ? (opflags[0] & TCGL_OPF_BRANCH) != 0 : last_branch;
    memcpy(b->insns, insns, n * sizeof(TCGLInsn));
    if (any_priv) {
        b->priv_fn = cached ? (TCGLHandler **)((uint8_t *)b + size) : mmio_priv_fn;
        for (unsigned k = 0; k < n; k++) {
            if (opflags[k] & TCGL_OPF_PRIV) {
                b->priv_fn[k] = b->insns[k].fn;
                b->insns[k].fn = op_priv;
            }
        }
    }
    if (n >= 2 && b->last_branch && !(opflags[n - 2] & TCGL_OPF_PRIV)) {
        /* CMP/TEST + Jcc: one handler, which reads the Jcc that stays in
         * the array after the last instruction the executor runs */
        TCGLHandler *f = tcgl_int_fuse_jcc(&b->insns[n - 2], &b->insns[n - 1]);
        if (f) {
            b->insns[n - 2].fn = f;
            b->n = (uint16_t)(n - 1);
            b->fused_jcc = true;
        }
    }
    if (cached) {
        if (!page_add(b, phys, 0) || (phys2 != (uint64_t)-1 && !page_add(b, phys2, 1))) {
            b->invalid = true;      /* runs once, never found again */
            return b;
        }
        {
            unsigned h = block_hash(phys, pc, hf);
            b->hash_next = bc.hash[h];
            bc.hash[h] = b;
        }
    } else {
        b->invalid = true;
    }
    return b;
}

/* ---- finding the next block ---------------------------------------------------------- */

/* The execute TLB still maps pc's page to the block's physical page. */
static inline bool tlb_exec_ok(const TCGLCPU *c, uint64_t lin, uint64_t phys)
{
    unsigned idx = (unsigned)((lin >> TCGL_PAGE_BITS) & (TCGL_TLB_SIZE - 1));
    return c->tlb[c->mmu_idx][idx].tag_exec == (lin & TCGL_PAGE_MASK) &&
           c->tlb_phys[c->mmu_idx][idx] == (phys & TCGL_PAGE_MASK);
}

static inline bool link_ok(const TCGLCPU *c, const TCGLBlock *b, uint64_t pc, uint64_t cs_base,
                           uint32_t hf)
{
    return b && !b->invalid && b->pc == pc && b->cs_base == cs_base && b->hflags == hf &&
           tlb_exec_ok(c, pc, b->phys) &&
           (!b->two_pages || tlb_exec_ok(c, (pc | (TCGL_PAGE_SIZE - 1)) + 1, b->phys2));
}

static inline unsigned jmp_cache_hash(uint64_t pc)
{
    return (unsigned)((pc ^ (pc >> JMP_CACHE_BITS)) & ((1u << JMP_CACHE_BITS) - 1));
}

/* Empties the CPU's jump cache if the block cache was flushed since. */
static void jmp_cache_check(TCGLCPU *c)
{
    if (!c->jmp_cache) {
        c->jmp_cache = g_new0(TCGLBlock *, 1u << JMP_CACHE_BITS);
    } else if (c->jmp_cache_flushes != bc.flush_count) {
        memset(c->jmp_cache, 0, sizeof(TCGLBlock *) << JMP_CACHE_BITS);
    }
    c->jmp_cache_flushes = bc.flush_count;
}

/* The linear page `lin` maps to the physical page `phys` in one of the
 * (one or two) pages that `from` was decoded from. */
static inline bool page_of(const TCGLBlock *from, uint64_t lin, uint64_t phys)
{
    if (!((from->pc ^ lin) & TCGL_PAGE_MASK)) {
        return !((from->phys ^ phys) & TCGL_PAGE_MASK);
    }
    return from->phys2 != (uint64_t)-1 && !((((from->pc | (TCGL_PAGE_SIZE - 1)) + 1) ^ lin) &
                                             TCGL_PAGE_MASK) && from->phys2 == (phys & TCGL_PAGE_MASK);
}

/* Every page of `to` is one of `from`'s, mapped alike, and the same CS
 * base and mode ("same page" for short): once `from` was found mapped,
 * `to` is too, until the CPU's code_epoch changes.  A block that spans
 * two pages qualifies when `from` has both (a loop across a page boundary
 * onto itself). */
static inline bool same_page(const TCGLBlock *from, const TCGLBlock *to)
{
    return from->cs_base == to->cs_base && from->hflags == to->hflags &&
           page_of(from, to->pc, to->phys) &&
           (to->phys2 == (uint64_t)-1 || page_of(from, (to->pc | (TCGL_PAGE_SIZE - 1)) + 1, to->phys2));
}

/* The block at the current pc.  *checked: it was validated against the
 * execute TLB (false when reached by a same-page link, which needs no
 * check while the code_epoch the caller saw at the last check holds:
 * same_ok). */
static TCGLBlock *find_block(TCGLCPU *c, TCGLBlock *prev, bool same_ok, bool *checked)
{
    uint64_t cs_base = c->seg_base[R_CS];
    uint64_t pc = (cs_base + c->env->rip) & c->lin_mask;
    uint32_t hf = c->hflags & TCGL_HF_BLOCK_MASK;
    uint64_t phys;
    unsigned avail;
    const uint8_t *host;
    TCGLBlock *b;

    if (prev) {
        TCGLBlock *t = prev->link[0];
        if (same_ok && prev->link_same[0] && t->pc == pc && !t->invalid &&
            t->cs_base == cs_base && t->hflags == hf) {
            *checked = false;
            return t;
        }
        if (same_ok && prev->link_same[1] && prev->link[1]->pc == pc && !prev->link[1]->invalid &&
            prev->link[1]->cs_base == cs_base && prev->link[1]->hflags == hf) {
            bool s0 = prev->link_same[0];
            t = prev->link[1];
            prev->link[1] = prev->link[0];
            prev->link_same[1] = s0;
            prev->link[0] = t;
            prev->link_same[0] = true;
            *checked = false;
            return t;
        }
        *checked = true;
        if (link_ok(c, prev->link[0], pc, cs_base, hf)) {
            return prev->link[0];
        }
        if (link_ok(c, prev->link[1], pc, cs_base, hf)) {
            bool s0 = prev->link_same[0];
            t = prev->link[1];
            prev->link[1] = prev->link[0];
            prev->link_same[1] = s0;
            prev->link[0] = t;
            prev->link_same[0] = same_page(prev, t);
            return t;
        }
    }
    *checked = true;
    {
        /* returns and indirect jumps: the per-CPU cache by pc */
        TCGLBlock **jc = &c->jmp_cache[jmp_cache_hash(pc)];
        if (link_ok(c, *jc, pc, cs_base, hf)) {
            b = *jc;
            goto found;
        }
    }
    host = tcgl_fetch_page(c, pc, &phys, &avail);
    for (b = bc.hash[block_hash(phys, pc, hf)]; b; b = b->hash_next) {
        if (b->phys == phys && b->pc == pc && b->cs_base == cs_base && b->hflags == hf) {
            if (b->phys2 != (uint64_t)-1) {
                uint64_t p2;
                unsigned a2;
                tcgl_fetch_page(c, (pc | (TCGL_PAGE_SIZE - 1)) + 1, &p2, &a2);
                if ((p2 & TCGL_PAGE_MASK) != b->phys2) {
                    continue;
                }
            }
            break;
        }
    }
    if (!b) {
        uint64_t flushes = bc.flush_count;
        bool locked = tcgl_bql_enter(c);    /* page_add(), page_protect() */
        b = translate(c, pc, phys, host, avail);
        tcgl_bql_leave(c, locked);
        if (flushes != bc.flush_count) {
            return b;               /* the arena was emptied: prev is gone */
        }
    }
    if (!b->invalid) {
        c->jmp_cache[jmp_cache_hash(pc)] = b;
    }
found:
    if (prev && !b->invalid && !prev->invalid) {
        prev->link[1] = prev->link[0];
        prev->link_same[1] = prev->link_same[0];
        prev->link[0] = b;
        prev->link_same[0] = same_page(prev, b);
    }
    return b;
}

/* ---- the loop ------------------------------------------------------------------------- */

/* Runs the block (or only its first instruction when `one`); returns the
 * last block that ran (compiled code may go on into chained blocks). */
static inline TCGLBlock *run_block(TCGLCPU *c, TCGLBlock *b, bool one)
{
    X86CPUState *env = c->env;
    const uint64_t start = env->rip;
    const unsigned n = one ? 1 : b->n;
    const TCGLInsn *i = b->insns;

    c->cur_block = b;
    c->block_invalidated = false;
    if (b->host_code && !one) {
        /* rip, the count and an early exit are handled by the code */
        c->chain_break = false;
        b->host_code(c, start);
        b = c->cur_block;
        c->cur_block = NULL;
        return b;
    }
    for (unsigned k = 0; k < n; k++, i++) {
        env->rip = start + i->off;
        i->fn(c, i);
        if (unlikely(c->block_invalidated) && k + 1 < n) {
            env->rip = (start + i->off + i->len) & ip_mask(b->hflags);
            c->insns += k + 1;
            c->cur_block = NULL;
            return b;
        }
    }
    i--;
    if (!(b->last_branch && n == b->n)) {
        env->rip = (start + i->off + i->len) & ip_mask(b->hflags);
    }
    c->insns += n;
    c->cur_block = NULL;
    return b;
}

/* Compiles a hot block; a full code arena flushes everything at the next
 * block boundary (the block runs interpreted this time). */
static void jit_block(TCGLBlock *b)
{
    TCGLJitBlock jb = {
        .insns = b->insns, .n = b->n, .last_branch = b->last_branch,
        .fused_jcc = b->fused_jcc, .hflags = b->hflags, .ip_mask = ip_mask(b->hflags),
        .cs_base = b->cs_base, .pc = b->pc, .owner = b,
    };
    b->host_code = tcgl_jit_compile(&jb);
    b->jit_body = jb.body;
    b->jit_dead = b->host_code ? jb.dead : NULL;
    b->jit_chain = b->host_code ? jb.chain : NULL;
    b->nchained = 0;
    if (!b->host_code) {
        if (tcgl_jit_enabled()) {
            bc.flush_pending = true;
        }
        b->exec_count = 0;
    }
}

/*
 * With a window (tcgl_jit_window_ms()), a block is compiled when it ran
 * `threshold` times within it, and its count starts again when the
 * window has passed: code that runs now and then (an idle guest's timer
 * interrupt, ~10 times a second) stays with the executor, for compiled
 * code that runs rarely is slower than the executor (its host code is
 * cold in the caches at each run).  docs/benchmarks.md, session 10.
 */
static uint32_t coarse_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint32_t)(ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void jit_hot_block(TCGLBlock *b)
{
    unsigned window = tcgl_jit_window_ms();
    uint32_t now;

    if (!window) {
        jit_block(b);
        return;
    }
    now = coarse_ms();
    if (now - b->count_since_ms <= window) {
        jit_block(b);
    } else {
        b->exec_count = 0;
        b->count_since_ms = now;
    }
}

/* Block chaining: prev's code goes on into b's when rip is b's start next
 * time, under find_block()'s link rules, which the chained code checks
 * again: the same CS base and mode (the code_epoch check holds the mode),
 * b not dropped, and for b on another page (or another physical page),
 * its execute TLB entry mapping its page.  Same-page successors need no
 * TLB check while the epoch holds.  Only compiled blocks, and b on one
 * page, or on two of which prev has one (the link checks the TLB entry
 * of the other: a loop whose body crosses a page boundary) or both
 * (same_page()).  A flush empties the code arena (and stops a running
 * chain through block_invalidated). */
static void chain_blocks(TCGLCPU *c, TCGLBlock *prev, TCGLBlock *b)
{
    uint64_t rip = c->env->rip;
    uint64_t lin = b->pc, phys = b->phys;
    unsigned idx;
    TCGLJitLink l;

    if (prev->nchained >= TCGL_JIT_LINKS || !prev->jit_chain || !b->host_code) {
        return;                         /* (most calls: prev's slots are taken) */
    }
    l = (TCGLJitLink){
        .rip = rip, .owner = b, .body = b->jit_body, .dead = b->jit_dead,
        .same_page = same_page(prev, b),
    };
    if (b->phys2 != (uint64_t)-1 && !l.same_page) {
        uint64_t lin2 = (b->pc | (TCGL_PAGE_SIZE - 1)) + 1;
        if (page_of(prev, b->pc, b->phys)) {
            lin = lin2;                 /* check the second page */
            phys = b->phys2;
        } else if (!page_of(prev, lin2, b->phys2)) {
            return;                     /* neither page is prev's */
        }
    }
    idx = (unsigned)((lin >> TCGL_PAGE_BITS) & (TCGL_TLB_SIZE - 1));
    l.tlb_off = (uint32_t)((uintptr_t)&c->tlb[c->mmu_idx][idx] - (uintptr_t)c);
    l.phys_off = (uint32_t)((uintptr_t)&c->tlb_phys[c->mmu_idx][idx] - (uintptr_t)c);
    l.lin_page = lin & TCGL_PAGE_MASK;
    l.phys_page = phys & TCGL_PAGE_MASK;
    if (b->invalid || prev->invalid ||
        b->cs_base != prev->cs_base || b->hflags != prev->hflags ||
        (c->hflags & TCGL_HF_BLOCK_MASK) != b->hflags || !tlb_exec_ok(c, lin, phys)) {
        return;
    }
    for (unsigned k = 0; k < prev->nchained; k++) {
        if (prev->chained_rip[k] == rip) {
            return;
        }
    }
    if (tcgl_jit_link(prev->jit_chain, prev->nchained, &l)) {
        prev->chained_rip[prev->nchained++] = rip;
    }
}

/* Compiled code's way to the next block when its link slots missed
 * (jit.h): the jump cache only (never a fetch, a translation or anything
 * else that can fault or take the BQL), under find_block()'s rules
 * (link_ok(): not dropped, same pc, CS base and mode, the execute TLB
 * still mapping its pages), and only between two flushes; the chain's
 * own checks before it stand for the executor's check_events().  The
 * running block gets a link to it if it has a free slot, so the next
 * time takes the slot. */
void *tcgl_chain_lookup(TCGLCPU *c)
{
    uint64_t cs_base = c->seg_base[R_CS];
    uint64_t pc = (cs_base + c->env->rip) & c->lin_mask;
    uint32_t hf = c->hflags & TCGL_HF_BLOCK_MASK;
    TCGLBlock *prev = c->cur_block, *b;

    if (unlikely(bc.flush_pending || c->jmp_cache_flushes != bc.flush_count || !prev)) {
        return NULL;
    }
    b = c->jmp_cache[jmp_cache_hash(pc)];
    if (!link_ok(c, b, pc, cs_base, hf) || !b->jit_body) {
        return NULL;
    }
    chain_blocks(c, prev, b);           /* (returns at once when prev's slots are taken) */
    c->cur_block = b;
    return b->jit_body;
}

/* How many blocks an unlocked vCPU runs, at most, while the BQL is busy
 * before it waits for it to take an interrupt. */
#define IRQ_ACK_BUSY_MAX 256

/* Interrupts and requests between blocks; returns true to leave the loop. */
static inline bool check_events(TCGLCPU *c, TCGLExit *ret)
{
    CPUState *cpu = c->cpu;
    X86CPUState *env = c->env;
    uint32_t req;

    if (unlikely(c->exit_request)) {
        /* (the exchange orders the kicker's stores before its kick
         * against slice_over's loads) */
        __atomic_exchange_n(&c->exit_request, 0, __ATOMIC_SEQ_CST);
        if (c->exit_reason != TCGL_EXIT_REQUEST || !c->bql_free || !c->slice_over ||
            c->slice_over(c)) {
            *ret = c->exit_reason;
            c->exit_reason = TCGL_EXIT_REQUEST;
            return true;
        }
    }
    req = __atomic_load_n(&cpu->interrupt_request, __ATOMIC_ACQUIRE);
    if (likely(!req) || env->events.interrupt_shadow) {
        return false;
    }
    if (req & (CPU_INTERRUPT_INIT | CPU_INTERRUPT_SIPI | CPU_INTERRUPT_SMI)) {
        *ret = TCGL_EXIT_REQUEST;
        return true;
    }
    if ((req & CPU_INTERRUPT_NMI) && !env->events.nmi_masked) {
        cpu_reset_interrupt(cpu, CPU_INTERRUPT_NMI);
        tcgl_deliver_hwint(c, 2, true);
        return false;
    }
    if ((req & CPU_INTERRUPT_HARD) && (env->rflags & RFLAGS_IF)) {
        /* Without the BQL: when the main loop holds it (moving a frame
         * into guest memory, say), guest code goes on and the loop asks
         * again after the next block rather than wait (the interrupt is
         * asynchronous anyway); after IRQ_ACK_BUSY_MAX tries in a row it
         * waits.  docs/tcg-lite.md, "Guest code without the big lock". */
        int locked = c->irq_ack_busy < IRQ_ACK_BUSY_MAX ? tcgl_bql_try_enter(c)
                                                        : tcgl_bql_enter(c);
        if (locked < 0) {
            c->irq_ack_busy++;
            c->exit_request = 1;    /* back here after the next block */
            return false;
        }
        c->irq_ack_busy = 0;
        int v = cpu_get_interrupt(cpu);
        tcgl_bql_leave(c, locked);
        if (v >= 0) {
            tcgl_deliver_hwint(c, v, false);
        }
    }
    return false;
}

/* The loop proper; a fault unwinds out of it to tcgl_cpu_exec(), which
 * delivers the event and enters it again (so its locals need not survive
 * a longjmp). */
static __attribute__((noinline)) TCGLExit exec_loop(TCGLCPU *c)
{
    TCGLBlock *prev = NULL;
    uint64_t flushes = bc.flush_count;
    uint32_t epoch = c->code_epoch;     /* when the running page was last checked */
    TCGLExit ret;

    jmp_cache_check(c);

    for (;;) {
        TCGLBlock *b;
        bool shadow, checked;

        if (check_events(c, &ret)) {
            return ret;
        }
        if (unlikely(bc.flush_pending || flushes != bc.flush_count)) {
            if (bc.flush_pending) {
                flush_now();
            }
            flushes = bc.flush_count;
            jmp_cache_check(c);
            prev = NULL;
        }
        c->exec_lookups++;
        b = find_block(c, prev, prev && c->code_epoch == epoch, &checked);
        if (checked) {
            epoch = c->code_epoch;
        }
        shadow = c->env->events.interrupt_shadow != 0;
        if (shadow) {
            /* the shadow covers one instruction (which may set it again) */
            c->env->events.interrupt_shadow = 0;
        }
        if (unlikely(!b->host_code) && !b->invalid && tcgl_jit_enabled() &&
            ++b->exec_count >= tcgl_jit_threshold()) {
            jit_hot_block(b);
        }
        if (prev && b->host_code && flushes == bc.flush_count && !bc.flush_pending) {
            chain_blocks(c, prev, b);   /* (after a flush in find_block prev is gone) */
        }
        tcgl_mmx_undo_forget(c);
        bc.executing = true;
        b = run_block(c, b, shadow);
        bc.executing = false;
        prev = b->invalid ? NULL : b;
    }
}

TCGLExit tcgl_cpu_exec(TCGLCPU *c)
{
    TCGLExit ret;

    tcgl_exec_init();
    exec_cpu = c;
    if (sigsetjmp(c->jmp, 0)) {
        /* a fault: deliver it (which may fault again and come back here) */
        if (c->bql_wrapped) {
            tcgl_bql_leave(c, true);    /* it came from inside a call that took the BQL */
        }
        bc.executing = false;
        c->cur_block = NULL;
        if (c->event.kind == TCGL_EV_FAULT) {
            tcgl_mmx_fault_undo(c);
        }
        /* A benign exception whose delivery faults the same way again
         * (#AC on a misaligned CPL 3 stack: no #DF, the CPU delivers it
         * again, forever) never reaches exec_loop()'s checks: on a request
         * leave with the event pending, delivered at the next entry. */
        if (unlikely(c->exit_request)) {
            c->exit_request = 0;
            ret = c->exit_reason;
            c->exit_reason = TCGL_EXIT_REQUEST;
            exec_cpu = NULL;
            return ret;
        }
        tcgl_deliver_event(c);
    } else if (unlikely(c->event.kind != TCGL_EV_NONE)) {
        tcgl_deliver_event(c);          /* left pending by the above */
    }
    ret = exec_loop(c);
    exec_cpu = NULL;
    return ret;
}

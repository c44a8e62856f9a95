/*
 * tcg-lite part "mmu": segment checks, the softmmu TLB, page walks, the
 * memory access slow paths and code fetch (docs/tcg-lite.md, "mmu").
 *
 * Paging structures (SDM vol. 3, chapter 4):
 *   32-bit:  CR3[31:12] -> PDE[31:22] -> PTE[21:12]; PDE.PS with CR4.PSE
 *            maps 4 MiB (PDE bits 20:13 are physical bits 39:32, PSE-36)
 *   PAE:     CR3[31:5] -> PDPTE[31:30] -> PDE[29:21] (PS: 2 MiB) -> PTE[20:12]
 *   4-level: CR3[51:12] -> PML4E[47:39] -> PDPTE[38:30] (PS: 1 GiB)
 *            -> PDE[29:21] (PS: 2 MiB) -> PTE[20:12]
 * Entry bits: P 0, R/W 1, U/S 2, PWT 3, PCD 4, A 5, D 6 (leaf), PS 7
 * (PAT in a PTE), G 8 (leaf), XD 63 (PAE/4-level with EFER.NXE).
 * #PF error code: P 0 (protection, not "not present"), W/R 1, U/S 2,
 * RSVD 3, I/D 4 (fetch, with NX paging).
 *
 * TLB entries (mmu.h): a tag equal to the page's linear address allows
 * host access at lin + addend; page | TCGL_TLB_SLOW means the access is
 * allowed but goes through the memory API at the entry's physical page
 * (MMIO, holes, ROM writes, RAM that a dirty client watches).  A write
 * tag is installed only once the leaf's D bit is set.
 */
#include <sched.h>
#include <string.h>
#include <glib.h>

#include "hw/memory.h"
#include "hw/intc/apic.h"
#include "mmu.h"
#include "system/main-loop.h"

#define EXCP_SS 12
#define EXCP_GP 13
#define EXCP_PF 14
#define EXCP_AC 17

#define PTE_P   (1ULL << 0)
#define PTE_W   (1ULL << 1)
#define PTE_U   (1ULL << 2)
#define PTE_A   (1ULL << 5)
#define PTE_D   (1ULL << 6)
#define PTE_PS  (1ULL << 7)
#define PTE_G   (1ULL << 8)
#define PTE_NX  (1ULL << 63)

#define PFEC_P    0x01
#define PFEC_W    0x02
#define PFEC_U    0x04
#define PFEC_RSVD 0x08
#define PFEC_ID   0x10

#define MMU_CR4_PSE  (1ULL << 4)
#define MMU_CR4_PGE  (1ULL << 7)
#define MMU_EFER_NXE (1ULL << 11)

/* Segment descriptor type bits (code/data) */
#define SEGT_W     2u       /* data: writable; code: readable */
#define SEGT_E     4u       /* data: expand-down */
#define SEGT_CODE  8u

enum { KIND_READ = TCGL_ACC_READ, KIND_WRITE = TCGL_ACC_WRITE, KIND_EXEC = TCGL_ACC_EXEC };
#define ACC_NOALIGN 0x100       /* no #AC check (buffers, code fetch) */

/* ---- module state ---------------------------------------------------------- */

/* One registered vCPU: notified of map changes and cleared dirty bits.
 * global: which TLB slots hold a global page (CR4.PGE and G), kept by
 * non-global flushes (here rather than in the entry, whose phys stays a
 * plain page address for the executor's block-link checks).
 * large_*: the linear range that covers every large page in its TLB
 * (INVLPG inside it flushes the whole TLB of that privilege).
 * victim: entries a fill pushed out of their slot (round robin), looked
 * at before a walk: two hot pages that share a slot do not walk in turn
 * (QEMU's victim TLB).  Every flush and dirty notification treats them
 * as TLB entries.
 * used: which slots were filled since their last flush, so that a flush
 * (every CR3 write without PCID) touches those only, not the whole TLB. */
#define MMU_NB_VICTIMS 8

typedef struct MMUCpu {
    TCGLCPU *c;
    uint64_t global[TCGL_NB_MMU][TCGL_TLB_SIZE / 64];
    uint64_t used[TCGL_NB_MMU][TCGL_TLB_SIZE / 64];
    uint64_t large_addr[TCGL_NB_MMU];
    uint64_t large_mask[TCGL_NB_MMU];
    bool has_large[TCGL_NB_MMU];
    TCGLTLBEntry victim[TCGL_NB_MMU][MMU_NB_VICTIMS];
    uint64_t victim_phys[TCGL_NB_MMU][MMU_NB_VICTIMS];     /* (c->tlb_phys's) */
    uint8_t victim_global[TCGL_NB_MMU];     /* bit i: victim i is a global page */
    unsigned victim_next[TCGL_NB_MMU];
} MMUCpu;

uint64_t tcgl_mmu_walks;

static AddressSpace *mmu_as;            /* NULL: address_space_memory */
static AddressSpace *mmu_listening;     /* where mmu_listener is registered */
static GPtrArray *mmu_cpus;             /* MMUCpu* */
static unsigned mmu_phys_bits = 40;
static bool mmu_pdpe1gb = true;
static MemoryDirtyNotifier mmu_notifier;
static MemoryListener mmu_listener;

static inline AddressSpace *mmu_space(void)
{
    return mmu_as ? mmu_as : &address_space_memory;
}

static inline bool canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/*
 * The last RAM/ROM run translated: page-table reads and TLB fills that fall
 * in it (nearly all: page tables and most memory live in main RAM) skip
 * the flat-view search.  Used while its generation is current.
 */
static MemoryTranslation mmu_last;
static uint64_t mmu_last_addr;
static AddressSpace *mmu_last_as;

static MemoryTranslationKind mmu_translate(uint64_t pa, MemoryTranslation *t)
{
    AddressSpace *as = mmu_space();

    if (mmu_last_as == as && mmu_last.generation == address_space_generation(as) &&
        pa - mmu_last.start < mmu_last.size) {
        *t = mmu_last;
        t->offset += pa - mmu_last_addr;
        t->host += (int64_t)(pa - mmu_last_addr);
        return t->kind;
    }
    address_space_translate(as, pa, t);
    if (t->kind == MEMORY_TRANSLATION_RAM || t->kind == MEMORY_TRANSLATION_ROM) {
        mmu_last = *t;
        mmu_last_addr = pa;
        mmu_last_as = as;
    }
    return t->kind;
}

static MMUCpu *mmu_cpu_last;           /* the last one found */

static MMUCpu *mmu_cpu_find(TCGLCPU *c)
{
    if (mmu_cpu_last && mmu_cpu_last->c == c) {
        return mmu_cpu_last;
    }
    for (guint i = 0; mmu_cpus && i < mmu_cpus->len; i++) {
        MMUCpu *m = g_ptr_array_index(mmu_cpus, i);
        if (m->c == c) {
            mmu_cpu_last = m;
            return m;
        }
    }
    return NULL;
}

static void mmu_dirty_cleared(MemoryDirtyNotifier *n, MemoryRegion *mr, uint64_t addr,
                              uint64_t len);
static void mmu_begin(MemoryListener *l);
static void mmu_commit(MemoryListener *l);

static void mmu_hooks_update(void)
{
    bool want = mmu_cpus && mmu_cpus->len;
    AddressSpace *as = want ? mmu_space() : NULL;

    if (mmu_listening != as) {
        if (mmu_listening) {
            memory_listener_unregister(&mmu_listener);
            memory_dirty_notifier_unregister(&mmu_notifier);
        }
        mmu_listening = as;
        if (as) {
            mmu_notifier.dirty_cleared = mmu_dirty_cleared;
            memory_dirty_notifier_register(&mmu_notifier);
            mmu_listener = (MemoryListener){ .begin = mmu_begin, .commit = mmu_commit };
            memory_listener_register(&mmu_listener, as);
        }
    }
}

static MMUCpu *mmu_cpu_get(TCGLCPU *c)
{
    MMUCpu *m = mmu_cpu_find(c);

    if (!m) {
        if (!mmu_cpus) {
            mmu_cpus = g_ptr_array_new_with_free_func(g_free);
        }
        m = g_new0(MMUCpu, 1);
        m->c = c;
        memset(m->used, 0xff, sizeof(m->used));     /* the first flush clears every slot */
        g_ptr_array_add(mmu_cpus, m);
        mmu_hooks_update();
    }
    return m;
}

void tcgl_mmu_set_address_space(struct AddressSpace *as)
{
    mmu_as = as;
    mmu_last_as = NULL;
    mmu_hooks_update();
    for (guint i = 0; mmu_cpus && i < mmu_cpus->len; i++) {
        tcgl_tlb_flush(((MMUCpu *)g_ptr_array_index(mmu_cpus, i))->c);
    }
}

void tcgl_mmu_set_model(unsigned phys_bits, bool pdpe1gb)
{
    mmu_phys_bits = phys_bits < 32 ? 32 : phys_bits > 52 ? 52 : phys_bits;
    mmu_pdpe1gb = pdpe1gb;
}

void tcgl_mmu_cpu_init(TCGLCPU *c)
{
    if (!c->a20_mask) {
        c->a20_mask = ~0ULL;
    }
    tcgl_tlb_flush(c);
}

void tcgl_mmu_cpu_exit(TCGLCPU *c)
{
    MMUCpu *m = mmu_cpu_find(c);

    if (m) {
        mmu_cpu_last = NULL;
        g_ptr_array_remove(mmu_cpus, m);
        mmu_hooks_update();
    }
}

/* ---- flushes ----------------------------------------------------------------- */

static void flush_entry(TCGLTLBEntry *e)
{
    e->tag_read = e->tag_write = e->tag_exec = TCGL_TLB_INVALID;
}

/* The linear page an entry holds, or TCGL_TLB_INVALID.  A valid entry
 * always has a read tag: whatever a translation allows, it allows reads. */
static inline uint64_t entry_page(const TCGLTLBEntry *e)
{
    return (e->tag_read & TCGL_TLB_INVALID) ? TCGL_TLB_INVALID : e->tag_read & TCGL_PAGE_MASK;
}

static inline bool slot_global(const MMUCpu *m, int idx, unsigned slot)
{
    return m->global[idx][slot / 64] >> (slot % 64) & 1;
}

static inline void set_slot_global(MMUCpu *m, int idx, unsigned slot, bool g)
{
    if (g) {
        m->global[idx][slot / 64] |= 1ULL << (slot % 64);
    } else {
        m->global[idx][slot / 64] &= ~(1ULL << (slot % 64));
    }
}

static void flush_victims(MMUCpu *m, int idx, bool keep_global)
{
    for (unsigned i = 0; i < MMU_NB_VICTIMS; i++) {
        if (!keep_global || !(m->victim_global[idx] >> i & 1)) {
            flush_entry(&m->victim[idx][i]);
        }
    }
    if (!keep_global) {
        m->victim_global[idx] = 0;
    }
}

/* Flushes the used slots of idx that are not in keep (a bitmap or NULL). */
static void flush_used(TCGLCPU *c, MMUCpu *m, int idx, const uint64_t *keep)
{
    for (unsigned w = 0; w < TCGL_TLB_SIZE / 64; w++) {
        uint64_t bits = m->used[idx][w] & (keep ? ~keep[w] : ~0ULL);
        m->used[idx][w] &= ~bits;
        while (bits) {
            flush_entry(&c->tlb[idx][w * 64 + (unsigned)__builtin_ctzll(bits)]);
            bits &= bits - 1;
        }
    }
}

static inline void set_slot_used(MMUCpu *m, int idx, unsigned slot)
{
    m->used[idx][slot / 64] |= 1ULL << (slot % 64);
}

void tcgl_tlb_flush(TCGLCPU *c)
{
    MMUCpu *m = mmu_cpu_get(c);

    c->code_epoch++;
    c->chain_break = true;

    for (int idx = 0; idx < TCGL_NB_MMU; idx++) {
        flush_used(c, m, idx, NULL);
        m->has_large[idx] = false;
        memset(m->global[idx], 0, sizeof(m->global[idx]));
        flush_victims(m, idx, false);
    }
    c->tlb_generation = address_space_generation(mmu_space());
}

void tcgl_tlb_flush_nonglobal(TCGLCPU *c)
{
    MMUCpu *m;

    if (!(c->env->cr4 & MMU_CR4_PGE)) {
        tcgl_tlb_flush(c);
        return;
    }
    c->code_epoch++;
    c->chain_break = true;
    m = mmu_cpu_get(c);
    for (int idx = 0; idx < TCGL_NB_MMU; idx++) {
        flush_used(c, m, idx, m->global[idx]);
        flush_victims(m, idx, true);
    }
}

void tcgl_tlb_flush_page(TCGLCPU *c, uint64_t lin)
{
    MMUCpu *m = mmu_cpu_get(c);

    c->code_epoch++;
    c->chain_break = true;

    for (int idx = 0; idx < TCGL_NB_MMU; idx++) {
        if (m->has_large[idx] && !((lin ^ m->large_addr[idx]) & m->large_mask[idx])) {
            /* inside a large page we hold as 4 KiB pieces: drop them all */
            flush_used(c, m, idx, NULL);
            flush_victims(m, idx, false);
            m->has_large[idx] = false;
        } else {
            TCGLTLBEntry *e = tcgl_tlb_entry(c, idx, lin);
            if (entry_page(e) == (lin & TCGL_PAGE_MASK)) {
                flush_entry(e);         /* (not another page sharing the slot) */
            }
            for (unsigned i = 0; i < MMU_NB_VICTIMS; i++) {
                if (entry_page(&m->victim[idx][i]) == (lin & TCGL_PAGE_MASK)) {
                    flush_entry(&m->victim[idx][i]);
                }
            }
        }
    }
}

static void note_large_page(TCGLCPU *c, int idx, uint64_t lin, uint64_t size)
{
    MMUCpu *m = mmu_cpu_get(c);
    uint64_t mask = ~(size - 1);

    if (m->has_large[idx]) {
        mask &= m->large_mask[idx];
        while ((m->large_addr[idx] ^ lin) & mask) {
            mask <<= 1;
        }
    }
    m->has_large[idx] = true;
    m->large_mask[idx] = mask;
    m->large_addr[idx] = lin & mask;
}

/* ---- threads: vCPUs that run guest code without the BQL ---------------------- */

/* (never the calling vCPU itself: it is not in guest code while it runs
 * this, and waiting for it would wait forever) */
static inline bool runs_unlocked(const TCGLCPU *c)
{
    return c->bql_free && !c->bql_wrapped && !(c->cpu && c->cpu == current_cpu);
}

void tcgl_exclusive_begin(void)
{
    for (guint i = 0; mmu_cpus && i < mmu_cpus->len; i++) {
        TCGLCPU *c = ((MMUCpu *)g_ptr_array_index(mmu_cpus, i))->c;
        if (!runs_unlocked(c)) {
            continue;
        }
        __atomic_add_fetch(&c->excl_pending, 1, __ATOMIC_SEQ_CST);
        while (__atomic_load_n(&c->in_guest, __ATOMIC_SEQ_CST)) {
            c->exit_request = 1;        /* it leaves at the next block boundary */
            sched_yield();
        }
    }
}

void tcgl_exclusive_end(void)
{
    /* the same vCPUs as begin: their flags cannot change while we hold
     * the BQL */
    for (guint i = 0; mmu_cpus && i < mmu_cpus->len; i++) {
        TCGLCPU *c = ((MMUCpu *)g_ptr_array_index(mmu_cpus, i))->c;
        if (runs_unlocked(c)) {
            __atomic_sub_fetch(&c->excl_pending, 1, __ATOMIC_SEQ_CST);
        }
    }
}

/* A memory map rebuild starts: vCPUs running without the BQL stop using
 * their TLBs (host pointers into RAM that may go) until it is done. */
static void mmu_begin(MemoryListener *l)
{
    (void)l;
    tcgl_exclusive_begin();
}

/* Memory map changed: flush the TLBs that hold the old map. */
static void mmu_commit(MemoryListener *l)
{
    uint64_t gen = address_space_generation(l->as);

    for (guint i = 0; mmu_cpus && i < mmu_cpus->len; i++) {
        TCGLCPU *c = ((MMUCpu *)g_ptr_array_index(mmu_cpus, i))->c;
        if (c->tlb_generation != gen) {
            tcgl_tlb_flush(c);
        }
    }
    tcgl_exclusive_end();
}

/* A direct-write entry whose host page meets [lo, hi) takes the slow path. */
static inline void slow_if_in(TCGLTLBEntry *e, uintptr_t lo, uintptr_t hi)
{
    if (!(e->tag_write & TCGL_TLB_FLAGS)) {
        uintptr_t host = (uintptr_t)(e->tag_write + e->addend);
        if (host + TCGL_PAGE_SIZE > lo && host < hi) {
            e->tag_write |= TCGL_TLB_SLOW;
        }
    }
}

/* A client cleared dirty bits of [addr, addr+len) of mr (e.g. the code
 * tracker before decoding a page): direct writes there must go back to
 * the slow path so that the next write marks the page dirty again. */
static void mmu_dirty_cleared(MemoryDirtyNotifier *n, MemoryRegion *mr, uint64_t addr,
                              uint64_t len)
{
    uintptr_t lo, hi;

    (void)n;
    if (!mr->ram || addr >= mr->size) {
        return;
    }
    lo = (uintptr_t)mr->ram + addr;
    hi = (uintptr_t)mr->ram + MIN(mr->size, addr + len);
    tcgl_exclusive_begin();
    for (guint k = 0; mmu_cpus && k < mmu_cpus->len; k++) {
        MMUCpu *m = g_ptr_array_index(mmu_cpus, k);
        for (int idx = 0; idx < TCGL_NB_MMU; idx++) {
            for (unsigned w = 0; w < TCGL_TLB_SIZE / 64; w++) {
                for (uint64_t bits = m->used[idx][w]; bits; bits &= bits - 1) {
                    slow_if_in(&m->c->tlb[idx][w * 64 + (unsigned)__builtin_ctzll(bits)], lo, hi);
                }
            }
            for (unsigned i = 0; i < MMU_NB_VICTIMS; i++) {
                slow_if_in(&m->victim[idx][i], lo, hi);
            }
        }
    }
    tcgl_exclusive_end();
}

/* ---- page walks ---------------------------------------------------------------- */

typedef struct PageWalk {
    uint64_t phys;              /* the 4 KiB physical page holding the address */
    uint64_t size;              /* the page size */
    bool user, write, nx, global;
    uint64_t leaf;              /* the leaf entry as read */
    unsigned n;                 /* entries that have an A bit */
    uint64_t addr[4], val[4];   /* their physical addresses and values (last: the leaf) */
} PageWalk;

static uint64_t pt_read(TCGLCPU *c, uint64_t pa, unsigned size)
{
    AddressSpace *as = mmu_space();
    MemoryTranslation t;
    const uint8_t *host = NULL;
    uint64_t v = 0;

    pa &= c->a20_mask;
    if (likely(mmu_last_as == as && mmu_last.generation == address_space_generation(as) &&
               pa - mmu_last.start < mmu_last.size &&
               mmu_last.size - (pa - mmu_last.start) >= size)) {
        host = mmu_last.host + (int64_t)(pa - mmu_last_addr);
    } else if (mmu_translate(pa, &t) != MEMORY_TRANSLATION_UNMAPPED && t.host &&
               memory_translation_covers(&t, pa, size)) {
        host = t.host;
    }
    if (likely(host != NULL)) {
        /* entries are naturally aligned */
        return size == 8 ? __atomic_load_n((const uint64_t *)host, __ATOMIC_RELAXED)
                         : __atomic_load_n((const uint32_t *)host, __ATOMIC_RELAXED);
    }
    bool locked = tcgl_bql_enter(c);    /* a table outside RAM: a device answers */
    address_space_ld(as, pa, &v, size);
    tcgl_bql_leave(c, locked);
    return v;
}

/* Bits [hi:lo] set. */
static inline uint64_t bits(unsigned hi, unsigned lo)
{
    return (hi >= 63 ? ~0ULL : (1ULL << (hi + 1)) - 1) & ~((1ULL << lo) - 1);
}

static void walk_note(PageWalk *w, uint64_t pa, uint64_t e, bool has_a)
{
    if (has_a) {
        w->addr[w->n] = pa;
        w->val[w->n] = e;
        w->n++;
    }
    w->user &= !!(e & PTE_U);
    w->write &= !!(e & PTE_W);
    w->nx |= !!(e & PTE_NX);
}

/* Walks the page tables for linear address lin (paging on).  Returns -1
 * on success, else the #PF error code bits found (0: not present,
 * PFEC_P | PFEC_RSVD: a reserved bit).  No side effects. */
static int walk(TCGLCPU *c, uint64_t lin, PageWalk *w)
{
    const X86CPUState *env = c->env;
    uint64_t addr_mask = bits(mmu_phys_bits - 1, 12);
    uint64_t nx_rsvd = (env->efer & MMU_EFER_NXE) ? 0 : PTE_NX;
    uint64_t e, pa, rsvd;

    memset(w, 0, sizeof(*w));
    w->user = w->write = true;

    if (env->efer & EFER_LMA) {
        uint64_t table = env->cr3 & addr_mask;
        uint64_t hi_rsvd = bits(51, mmu_phys_bits) | nx_rsvd;
        for (int level = 4; level >= 1; level--) {
            unsigned shift = 12 + 9 * (level - 1);
            pa = table + ((lin >> shift) & 511) * 8;
            e = pt_read(c, pa, 8);
            if (!(e & PTE_P)) {
                return 0;
            }
            rsvd = hi_rsvd;
            bool leaf = level == 1;
            if (level == 4) {
                rsvd |= PTE_PS;
            } else if ((level == 3 || level == 2) && (e & PTE_PS)) {
                if (level == 3 && !mmu_pdpe1gb) {
                    return PFEC_P | PFEC_RSVD;
                }
                rsvd |= bits(shift - 1, 13);
                leaf = true;
            }
            if (e & rsvd) {
                return PFEC_P | PFEC_RSVD;
            }
            walk_note(w, pa, e, true);
            if (leaf) {
                w->size = 1ULL << shift;
                w->phys = (e & addr_mask & ~(w->size - 1)) | (lin & (w->size - 1) & TCGL_PAGE_MASK);
                w->leaf = e;
                break;
            }
            table = e & addr_mask;
        }
    } else if (env->cr4 & CR4_PAE) {
        uint64_t hi_rsvd = bits(62, mmu_phys_bits) | nx_rsvd;
        lin = (uint32_t)lin;
        pa = (env->cr3 & 0xffffffe0ULL) + ((lin >> 30) & 3) * 8;
        e = pt_read(c, pa, 8);
        if (!(e & PTE_P)) {
            return 0;
        }
        if (e & (bits(63, mmu_phys_bits) | bits(8, 5) | bits(2, 1))) {
            return PFEC_P | PFEC_RSVD;
        }
        uint64_t table = e & addr_mask;
        for (int level = 2; level >= 1; level--) {
            unsigned shift = 12 + 9 * (level - 1);
            pa = table + ((lin >> shift) & 511) * 8;
            e = pt_read(c, pa, 8);
            if (!(e & PTE_P)) {
                return 0;
            }
            rsvd = hi_rsvd;
            bool leaf = level == 1;
            if (level == 2 && (e & PTE_PS)) {
                rsvd |= bits(20, 13);
                leaf = true;
            }
            if (e & rsvd) {
                return PFEC_P | PFEC_RSVD;
            }
            walk_note(w, pa, e, true);
            if (leaf) {
                w->size = 1ULL << shift;
                w->phys = (e & addr_mask & ~(w->size - 1)) | (lin & (w->size - 1) & TCGL_PAGE_MASK);
                w->leaf = e;
                break;
            }
            table = e & addr_mask;
        }
    } else {
        lin = (uint32_t)lin;
        pa = (env->cr3 & 0xfffff000ULL) + ((lin >> 22) & 1023) * 4;
        e = pt_read(c, pa, 4);
        if (!(e & PTE_P)) {
            return 0;
        }
        if ((e & PTE_PS) && (env->cr4 & MMU_CR4_PSE)) {
            /* 4 MiB page; PDE bits 20:13 are physical bits 39:32 (PSE-36) */
            uint64_t high = (e & bits(20, 13)) << 19;
            if ((e & (1ULL << 21)) || (high >> mmu_phys_bits)) {
                return PFEC_P | PFEC_RSVD;
            }
            walk_note(w, pa, e, true);
            w->size = 4ULL << 20;
            w->phys = (e & 0xffc00000ULL) | high | (lin & 0x3ff000);
            w->leaf = e;
        } else {
            walk_note(w, pa, e, true);
            pa = (e & 0xfffff000ULL) + ((lin >> 12) & 1023) * 4;
            e = pt_read(c, pa, 4);
            if (!(e & PTE_P)) {
                return 0;
            }
            walk_note(w, pa, e, true);
            w->size = TCGL_PAGE_SIZE;
            w->phys = e & 0xfffff000ULL;
            w->leaf = e;
        }
        w->nx = false;
    }
    w->global = (w->leaf & PTE_G) && (env->cr4 & MMU_CR4_PGE);
    return -1;
}

/* Sets A on every entry walked and D on the leaf for a write, one byte
 * store each (the BQL makes it atomic against the other vCPUs; an
 * unlocked vCPU takes it for the stores: they mark pages dirty and may
 * hit a device). */
static void walk_set_ad(TCGLCPU *c, PageWalk *w, bool write)
{
    for (unsigned i = 0; i < w->n; i++) {
        uint64_t set = PTE_A | (i == w->n - 1 && write ? PTE_D : 0);
        if ((w->val[i] & set) != set) {
            bool locked = tcgl_bql_enter(c);
            w->val[i] |= set;
            address_space_st(mmu_space(), w->addr[i] & c->a20_mask, w->val[i] & 0xff, 1);
            tcgl_bql_leave(c, locked);
        }
    }
    if (write) {
        w->leaf |= PTE_D;
    }
}

/* ---- TLB fill ---------------------------------------------------------------- */

static inline bool paging_on(const TCGLCPU *c)
{
    return c->env->cr0 & CR0_PG;
}

/* An NX-capable paging mode: the I/D bit of the error code is defined. */
static inline bool nx_paging(const TCGLCPU *c)
{
    return (c->env->efer & MMU_EFER_NXE) && (c->env->cr4 & CR4_PAE);
}

__attribute__((noreturn))
static void raise_pf(TCGLCPU *c, uint64_t lin, int pfec)
{
    c->env->cr2 = lin;
    tcgl_raise(c, EXCP_PF, pfec);
}

/*
 * Translates lin's page for an access of `kind` with privilege idx and
 * installs the entry (all tags this translation allows).  On a fault:
 * raises #PF (CR2 = lin), or returns NULL when probing.
 */
static TCGLTLBEntry *tlb_fill(TCGLCPU *c, uint64_t lin, int kind, int idx, bool probe)
{
    uint64_t page = lin & TCGL_PAGE_MASK;
    bool user = idx == TCGL_MMU_USER;
    bool can_read = true, can_write = true, can_exec = true, global = false;
    uint64_t phys, size = TCGL_PAGE_SIZE;
    PageWalk w;

    if (paging_on(c)) {
        int r = walk(c, lin, &w);
        tcgl_mmu_walks++;
        bool wp = c->env->cr0 & CR0_WP;
        if (r < 0) {
            can_read = !user || w.user;
            can_write = user ? w.user && w.write : w.write || !wp;
            can_exec = can_read && !w.nx;
            if (!(kind == KIND_READ ? can_read : kind == KIND_WRITE ? can_write : can_exec)) {
                r = PFEC_P;
            }
        }
        if (r >= 0) {
            if (probe) {
                return NULL;
            }
            r |= (kind == KIND_WRITE ? PFEC_W : 0) | (user ? PFEC_U : 0) |
                 (kind == KIND_EXEC && nx_paging(c) ? PFEC_ID : 0);
            raise_pf(c, lin, r);
        }
        walk_set_ad(c, &w, kind == KIND_WRITE);
        can_write &= !!(w.leaf & PTE_D);
        global = w.global;
        phys = w.phys;
        size = w.size;
    } else {
        phys = page;
    }
    phys &= c->a20_mask;

    MemoryTranslation t;
    mmu_translate(phys, &t);
    if (t.generation != c->tlb_generation) {
        tcgl_tlb_flush(c);
    }
    if (size > TCGL_PAGE_SIZE) {
        note_large_page(c, idx, lin, size);
    }
    TCGLTLBEntry *e = tcgl_tlb_entry(c, idx, lin);
    MMUCpu *m = mmu_cpu_get(c);
    unsigned slot = (lin >> TCGL_PAGE_BITS) & (TCGL_TLB_SIZE - 1);
    uint64_t old = entry_page(e);

    if (old != TCGL_TLB_INVALID && old != page) {
        /* the entry moves to the victims */
        unsigned v = m->victim_next[idx];
        m->victim[idx][v] = *e;
        m->victim_phys[idx][v] = *tcgl_tlb_phys(c, e);
        m->victim_global[idx] = (uint8_t)((m->victim_global[idx] & ~(1u << v)) |
                                          slot_global(m, idx, slot) << v);
        m->victim_next[idx] = (v + 1) % MMU_NB_VICTIMS;
    }
    set_slot_global(m, idx, slot, global);
    set_slot_used(m, idx, slot);

    bool direct = (t.kind == MEMORY_TRANSLATION_RAM || t.kind == MEMORY_TRANSLATION_ROM) &&
                  memory_translation_covers(&t, phys, TCGL_PAGE_SIZE);
    uint64_t tag = page | (direct ? 0 : TCGL_TLB_SLOW);

    e->addend = direct ? (uintptr_t)t.host - (uintptr_t)page : 0;
    *tcgl_tlb_phys(c, e) = phys;
    e->tag_read = can_read ? tag : TCGL_TLB_INVALID;
    e->tag_exec = can_exec ? tag : TCGL_TLB_INVALID;
    if (!can_write) {
        e->tag_write = TCGL_TLB_INVALID;
    } else if (direct && t.kind == MEMORY_TRANSLATION_RAM &&
               !memory_region_page_any_clean(t.mr, t.offset)) {
        e->tag_write = page;
    } else {
        e->tag_write = page | TCGL_TLB_SLOW;
    }
    return e;
}

static inline uint64_t entry_tag(const TCGLTLBEntry *e, int kind)
{
    return kind == KIND_READ ? e->tag_read : kind == KIND_WRITE ? e->tag_write : e->tag_exec;
}

/* A victim that holds lin's page for `kind` trades places with the
 * entry in lin's slot; returns that slot, or NULL. */
static TCGLTLBEntry *victim_swap(TCGLCPU *c, uint64_t lin, int kind, int idx)
{
    MMUCpu *m = mmu_cpu_get(c);
    uint64_t page = lin & TCGL_PAGE_MASK;
    unsigned slot = (lin >> TCGL_PAGE_BITS) & (TCGL_TLB_SIZE - 1);

    for (unsigned v = 0; v < MMU_NB_VICTIMS; v++) {
        TCGLTLBEntry *ve = &m->victim[idx][v], *e, tmp;
        bool g;

        if (entry_page(ve) != page) {
            continue;
        }
        if ((entry_tag(ve, kind) & ~TCGL_TLB_SLOW) != page) {
            flush_entry(ve);    /* the page, not for this access: the fill replaces it */
            continue;
        }
        e = tcgl_tlb_entry(c, idx, lin);
        tmp = *e;
        *e = *ve;
        *ve = tmp;
        uint64_t tp = *tcgl_tlb_phys(c, e);
        *tcgl_tlb_phys(c, e) = m->victim_phys[idx][v];
        m->victim_phys[idx][v] = tp;
        g = slot_global(m, idx, slot);
        set_slot_global(m, idx, slot, m->victim_global[idx] >> v & 1);
        set_slot_used(m, idx, slot);
        m->victim_global[idx] = (uint8_t)((m->victim_global[idx] & ~(1u << v)) | g << v);
        return e;
    }
    return NULL;
}

/*
 * The entry for lin's page, valid for `kind` at privilege idx (a hit, or
 * a fill).  Non-canonical addresses in long mode raise vec(0) (#GP, or #SS
 * for the stack segment).  NULL only when probing and the access faults.
 */
static TCGLTLBEntry *tlb_get(TCGLCPU *c, uint64_t lin, int kind, int idx, int vec, bool probe)
{
    TCGLTLBEntry *e;

    if (unlikely(address_space_generation(mmu_space()) != c->tlb_generation)) {
        tcgl_tlb_flush(c);
    }
    e = tcgl_tlb_entry(c, idx, lin);
    if ((entry_tag(e, kind) & ~TCGL_TLB_SLOW) == (lin & TCGL_PAGE_MASK)) {
        return e;
    }
    e = victim_swap(c, lin, kind, idx);
    if (e) {
        return e;
    }
    if ((c->env->efer & EFER_LMA) && !canonical(lin)) {
        if (probe) {
            return NULL;
        }
        tcgl_raise(c, vec, 0);
    }
    /* Without the BQL: the walk reads RAM and the flat view, which only
     * change while this vCPU is out of guest code (tcgl_exclusive_begin:
     * map rebuilds, cleared dirty bits); the dirty bitmaps only gain bits
     * meanwhile (a stale "clean" costs a slow write, nothing more); a
     * table outside RAM and the A/D stores take the lock (pt_read,
     * walk_set_ad). */
    return tlb_fill(c, lin, kind, idx, probe);
}

static inline uint64_t entry_phys(TCGLCPU *c, const TCGLTLBEntry *e, uint64_t lin)
{
    return (*tcgl_tlb_phys(c, e) & TCGL_PAGE_MASK) | (lin & ~TCGL_PAGE_MASK);
}

/* After a slow write to a RAM page: once no client sees it clean, let
 * writes go straight to memory again. */
static void try_direct_write(TCGLCPU *c, int idx, uint64_t lin)
{
    TCGLTLBEntry *e = tcgl_tlb_entry(c, idx, lin);
    uint64_t page = lin & TCGL_PAGE_MASK;
    MemoryTranslation t;

    if (e->tag_write != (page | TCGL_TLB_SLOW) || e->tag_read != page) {
        return;         /* not a RAM page with a direct read entry */
    }
    mmu_translate(*tcgl_tlb_phys(c, e) & TCGL_PAGE_MASK, &t);
    if (t.generation == c->tlb_generation && t.kind == MEMORY_TRANSLATION_RAM &&
        memory_translation_covers(&t, *tcgl_tlb_phys(c, e) & TCGL_PAGE_MASK, TCGL_PAGE_SIZE) &&
        !memory_region_page_any_clean(t.mr, t.offset) &&
        (uintptr_t)t.host - (uintptr_t)page == e->addend) {
        e->tag_write = page;
    }
}

/* ---- access within one page -------------------------------------------------- */

static inline bool pow2_size(unsigned n)
{
    return n == 1 || n == 2 || n == 4 || n == 8;
}

static void page_read(TCGLCPU *c, const TCGLTLBEntry *e, uint64_t lin, void *buf, unsigned n,
                      int kind)
{
    if (!(entry_tag(e, kind) & TCGL_TLB_SLOW)) {
        memcpy(buf, (void *)(uintptr_t)(lin + e->addend), n);
    } else if (pow2_size(n)) {
        uint64_t v = 0;
        bool locked = tcgl_bql_enter(c);
        vcpu_io_begin();
        address_space_ld(mmu_space(), entry_phys(c, e, lin), &v, n);
        vcpu_io_end();
        tcgl_bql_leave(c, locked);
        memcpy(buf, &v, n);
    } else {
        bool locked = tcgl_bql_enter(c);
        vcpu_io_begin();
        address_space_read(mmu_space(), entry_phys(c, e, lin), buf, n);
        vcpu_io_end();
        tcgl_bql_leave(c, locked);
    }
}

static void page_write(TCGLCPU *c, const TCGLTLBEntry *e, int idx, uint64_t lin,
                       const void *buf, unsigned n)
{
    if (!(e->tag_write & TCGL_TLB_SLOW)) {
        memcpy((void *)(uintptr_t)(lin + e->addend), buf, n);
        return;
    }
    if (c->bql_free && !c->bql_wrapped && pow2_size(n) && n <= 8) {
        /* without the BQL: the LAPIC's EOI, an ioeventfd (apic.c, memory.c) */
        uint64_t v = 0, pa = entry_phys(c, e, lin);
        memcpy(&v, buf, n);
        if ((c->cpu->apic && apic_write_unlocked(c->cpu->apic, pa, n)) ||
            address_space_ioeventfd_write(mmu_space(), pa, v, n)) {
            return;
        }
    }
    bool locked = tcgl_bql_enter(c);
    vcpu_io_begin();
    if (pow2_size(n)) {
        uint64_t v = 0;
        memcpy(&v, buf, n);
        address_space_st(mmu_space(), entry_phys(c, e, lin), v, n);
    } else {
        address_space_write(mmu_space(), entry_phys(c, e, lin), buf, n);
    }
    vcpu_io_end();
    try_direct_write(c, idx, lin);
    tcgl_bql_leave(c, locked);
}

/* Alignment is checked before the page walk: a misaligned access to an
 * unmapped page raises #AC, not #PF (silicon; tcgl-diff random
 * "movsx edi, word ptr [rcx+0x77d19df9]" with AC set). */
static void check_align(TCGLCPU *c, uint64_t lin, unsigned size, int acc)
{
    if ((lin & (size - 1)) && pow2_size(size) && !(acc & (TCGL_ACC_SUPER | ACC_NOALIGN)) &&
        tcgl_ac_on(c)) {
        tcgl_raise(c, EXCP_AC, 0);
    }
}

/* ---- linear accesses ---------------------------------------------------------- */

static inline int acc_idx(const TCGLCPU *c, int acc)
{
    return (acc & TCGL_ACC_SUPER) ? TCGL_MMU_SUPER : c->mmu_idx;
}

/* Reads size bytes (1..4096) at lin: every page translated and checked
 * first, then read. */
static void lin_read(TCGLCPU *c, uint64_t lin, void *buf, unsigned size, int acc, int vec)
{
    int idx = acc_idx(c, acc);
    int kind = acc & 3;
    unsigned first = TCGL_PAGE_SIZE - (lin & ~TCGL_PAGE_MASK);

    check_align(c, lin, size, acc);
    if (size <= first) {
        TCGLTLBEntry *e = tlb_get(c, lin, kind, idx, vec, false);
        page_read(c, e, lin, buf, size, kind);
        return;
    }
    /* several pages: check all, then read (re-getting each entry, since a
     * device read may change the map and flush) */
    uint64_t a = lin;
    for (unsigned done = 0, n = first; done < size; done += n, n = MIN(size - done, TCGL_PAGE_SIZE)) {
        tlb_get(c, a, kind, idx, vec, false);
        a = (a + n) & c->lin_mask;
    }
    a = lin;
    for (unsigned done = 0, n = first; done < size; done += n, n = MIN(size - done, TCGL_PAGE_SIZE)) {
        TCGLTLBEntry *e = tlb_get(c, a, kind, idx, vec, false);
        page_read(c, e, a, (uint8_t *)buf + done, n, kind);
        a = (a + n) & c->lin_mask;
    }
}

static void lin_write(TCGLCPU *c, uint64_t lin, const void *buf, unsigned size, int acc, int vec)
{
    int idx = acc_idx(c, acc);
    unsigned first = TCGL_PAGE_SIZE - (lin & ~TCGL_PAGE_MASK);

    check_align(c, lin, size, acc);
    if (size <= first) {
        TCGLTLBEntry *e = tlb_get(c, lin, KIND_WRITE, idx, vec, false);
        page_write(c, e, idx, lin, buf, size);
        return;
    }
    uint64_t a = lin;
    for (unsigned done = 0, n = first; done < size; done += n, n = MIN(size - done, TCGL_PAGE_SIZE)) {
        tlb_get(c, a, KIND_WRITE, idx, vec, false);
        a = (a + n) & c->lin_mask;
    }
    a = lin;
    for (unsigned done = 0, n = first; done < size; done += n, n = MIN(size - done, TCGL_PAGE_SIZE)) {
        TCGLTLBEntry *e = tlb_get(c, a, KIND_WRITE, idx, vec, false);
        page_write(c, e, idx, a, (const uint8_t *)buf + done, n);
        a = (a + n) & c->lin_mask;
    }
}

uint64_t tcgl_ld_lin(TCGLCPU *c, uint64_t lin, unsigned size, int acc)
{
    TCGLTLBEntry *e = tcgl_tlb_entry(c, acc_idx(c, acc), lin);
    uint64_t v = 0;

    acc = (acc & ~3) | KIND_READ;
    if (likely(e->tag_read == ((lin + size - 1) & TCGL_PAGE_MASK)) &&
        likely(!(lin & (size - 1)) || (acc & TCGL_ACC_SUPER) || !tcgl_ac_on(c))) {
        memcpy(&v, (void *)(uintptr_t)(lin + e->addend), size);
        return v;
    }
    lin_read(c, lin, &v, size, acc, EXCP_GP);
    return v;
}

void tcgl_st_lin(TCGLCPU *c, uint64_t lin, unsigned size, uint64_t v, int acc)
{
    TCGLTLBEntry *e = tcgl_tlb_entry(c, acc_idx(c, acc), lin);

    acc = (acc & ~3) | KIND_WRITE;
    if (likely(e->tag_write == ((lin + size - 1) & TCGL_PAGE_MASK)) &&
        likely(!(lin & (size - 1)) || (acc & TCGL_ACC_SUPER) || !tcgl_ac_on(c))) {
        memcpy((void *)(uintptr_t)(lin + e->addend), &v, size);
        return;
    }
    lin_write(c, lin, &v, size, acc, EXCP_GP);
}

/* ---- segmentation -------------------------------------------------------------- */

/*
 * The linear address of [off, off + size) in segment seg for an access of
 * `kind`, with every check: #GP(0) (#SS(0) for SS) for a null or unusable
 * segment, a write to a code or read-only segment, a read of an
 * execute-only one, a limit violation (expand-down included) or a
 * non-canonical address in 64-bit mode.  Real and v86 mode check only
 * the limit.  A segment whose limit is 4 GiB - 1 wraps instead of
 * faulting (the SDM leaves it to the implementation).
 */
static uint64_t seg_lin(TCGLCPU *c, int seg, uint64_t off, unsigned size, int kind)
{
    const SegmentCache *s = &c->env->segs[seg];
    int vec = seg == R_SS ? EXCP_SS : EXCP_GP;
    uint64_t last = off + size - 1;

    if (c->hflags & TCGL_HF_CS64) {
        uint64_t lin = c->seg_base[seg] + off;
        if (!canonical(lin) || !canonical(lin + size - 1)) {
            tcgl_raise(c, vec, 0);
        }
        return lin;
    }
    if ((c->hflags & (TCGL_HF_PE | TCGL_HF_VM)) == TCGL_HF_PE) {
        if (s->unusable || !s->present || !s->dpl_s) {
            tcgl_raise(c, vec, 0);
        }
        if (s->type & SEGT_CODE) {
            if (kind == KIND_WRITE || !(s->type & SEGT_W)) {
                tcgl_raise(c, vec, 0);
            }
        } else {
            if (kind == KIND_WRITE && !(s->type & SEGT_W)) {
                tcgl_raise(c, vec, 0);
            }
            if (s->type & SEGT_E) {
                uint64_t top = s->db ? 0xffffffffULL : 0xffffULL;
                if (off <= s->limit || last > top || last < off) {
                    tcgl_raise(c, vec, 0);
                }
                return (c->seg_base[seg] + off) & c->lin_mask;
            }
        }
    }
    if (last > s->limit || last < off) {
        if (!(s->limit == 0xffffffffu && off <= 0xffffffffULL)) {
            tcgl_raise(c, vec, 0);
        }
    }
    return (c->seg_base[seg] + off) & c->lin_mask;
}

static inline int seg_vec(int seg)
{
    return seg == R_SS ? EXCP_SS : EXCP_GP;
}

uint64_t tcgl_mmu_ld_slow(TCGLCPU *c, int seg, uint64_t off, unsigned size)
{
    uint64_t lin = seg_lin(c, seg, off, size, KIND_READ);
    uint64_t v = 0;

    lin_read(c, lin, &v, size, KIND_READ, seg_vec(seg));
    return v;
}

void tcgl_mmu_st_slow(TCGLCPU *c, int seg, uint64_t off, unsigned size, uint64_t v)
{
    uint64_t lin = seg_lin(c, seg, off, size, KIND_WRITE);

    lin_write(c, lin, &v, size, KIND_WRITE, seg_vec(seg));
}

uint8_t tcgl_ldb(TCGLCPU *c, int seg, uint64_t off) { return tcgl_ldb_inl(c, seg, off); }
uint16_t tcgl_ldw(TCGLCPU *c, int seg, uint64_t off) { return tcgl_ldw_inl(c, seg, off); }
uint32_t tcgl_ldl(TCGLCPU *c, int seg, uint64_t off) { return tcgl_ldl_inl(c, seg, off); }
uint64_t tcgl_ldq(TCGLCPU *c, int seg, uint64_t off) { return tcgl_ldq_inl(c, seg, off); }
void tcgl_stb(TCGLCPU *c, int seg, uint64_t off, uint8_t v) { tcgl_stb_inl(c, seg, off, v); }
void tcgl_stw(TCGLCPU *c, int seg, uint64_t off, uint16_t v) { tcgl_stw_inl(c, seg, off, v); }
void tcgl_stl(TCGLCPU *c, int seg, uint64_t off, uint32_t v) { tcgl_stl_inl(c, seg, off, v); }
void tcgl_stq(TCGLCPU *c, int seg, uint64_t off, uint64_t v) { tcgl_stq_inl(c, seg, off, v); }

uint64_t tcgl_ld(TCGLCPU *c, int seg, uint64_t off, unsigned size)
{
    return tcgl_ld_inl(c, seg, off, size);
}

void tcgl_st(TCGLCPU *c, int seg, uint64_t off, unsigned size, uint64_t v)
{
    tcgl_st_inl(c, seg, off, size, v);
}

void tcgl_ld_buf(TCGLCPU *c, int seg, uint64_t off, void *buf, unsigned size)
{
    if (!size) {
        return;
    }
    if ((int64_t)(off + size - 1) <= c->seg_rlim[seg]) {
        uint64_t lin = (c->seg_base[seg] + off) & c->lin_mask;
        const TCGLTLBEntry *e = tcgl_tlb_entry(c, c->mmu_idx, lin);
        if (e->tag_read == ((lin + size - 1) & TCGL_PAGE_MASK)) {
            memcpy(buf, (void *)(uintptr_t)(lin + e->addend), size);
            return;
        }
    }
    /* (no #AC for buffers: their users raise #GP for misalignment) */
    lin_read(c, seg_lin(c, seg, off, size, KIND_READ), buf, size,
             KIND_READ | ACC_NOALIGN, seg_vec(seg));
}

void tcgl_st_buf(TCGLCPU *c, int seg, uint64_t off, const void *buf, unsigned size)
{
    if (!size) {
        return;
    }
    if ((int64_t)(off + size - 1) <= c->seg_wlim[seg]) {
        uint64_t lin = (c->seg_base[seg] + off) & c->lin_mask;
        const TCGLTLBEntry *e = tcgl_tlb_entry(c, c->mmu_idx, lin);
        if (e->tag_write == ((lin + size - 1) & TCGL_PAGE_MASK)) {
            memcpy((void *)(uintptr_t)(lin + e->addend), buf, size);
            return;
        }
    }
    lin_write(c, seg_lin(c, seg, off, size, KIND_WRITE), buf, size, KIND_WRITE | ACC_NOALIGN,
              seg_vec(seg));
}

/* ---- pointers for read-modify-write and string fast paths ------------------- */

/* A host pointer to [lin, lin+len) in the RAM page of e (write tag slow
 * because a dirty client watches it): mark it dirty (the code tracker
 * hears it first), then hand it out.  NULL for ROM, MMIO or holes. */
static void *ram_write_ptr_locked(TCGLCPU *c, int idx, uint64_t lin, unsigned len);

static void *ram_write_ptr(TCGLCPU *c, int idx, uint64_t lin, unsigned len)
{
    bool locked = tcgl_bql_enter(c);    /* the dirty bitmaps and the code tracker */
    void *p = ram_write_ptr_locked(c, idx, lin, len);
    tcgl_bql_leave(c, locked);
    return p;
}

static void *ram_write_ptr_locked(TCGLCPU *c, int idx, uint64_t lin, unsigned len)
{
    TCGLTLBEntry *e = tcgl_tlb_entry(c, idx, lin);
    uint64_t page = lin & TCGL_PAGE_MASK, phys = *tcgl_tlb_phys(c, e) & TCGL_PAGE_MASK;
    MemoryTranslation t;

    if ((e->tag_write & ~TCGL_TLB_SLOW) != page) {
        return NULL;
    }
    mmu_translate(phys, &t);
    if (t.generation != c->tlb_generation || t.kind != MEMORY_TRANSLATION_RAM ||
        !memory_translation_covers(&t, phys, TCGL_PAGE_SIZE)) {
        return NULL;
    }
    memory_region_set_dirty(t.mr, t.offset + (lin & ~TCGL_PAGE_MASK), len);
    try_direct_write(c, idx, lin);
    return t.host + (lin & ~TCGL_PAGE_MASK);
}

void *tcgl_rmw_ptr(TCGLCPU *c, int seg, uint64_t off, unsigned size)
{
    void *p = tcgl_hit_write(c, seg, off, size);
    uint64_t lin;

    if (likely(p != NULL)) {
        return p;
    }
    lin = seg_lin(c, seg, off, size, KIND_WRITE);
    if ((lin & ~TCGL_PAGE_MASK) + size > TCGL_PAGE_SIZE) {
        return NULL;
    }
    check_align(c, lin, size, 0);
    TCGLTLBEntry *e = tlb_get(c, lin, KIND_WRITE, c->mmu_idx, seg_vec(seg), false);
    if (!(e->tag_write & TCGL_TLB_SLOW)) {
        return (void *)(uintptr_t)(lin + e->addend);
    }
    return ram_write_ptr(c, c->mmu_idx, lin, size);
}

void tcgl_probe_write(TCGLCPU *c, int seg, uint64_t off, unsigned size)
{
    uint64_t lin = seg_lin(c, seg, off, size, KIND_WRITE);
    unsigned first = TCGL_PAGE_SIZE - (lin & ~TCGL_PAGE_MASK);
    int vec = seg_vec(seg);

    check_align(c, lin, size, 0);
    tlb_get(c, lin, KIND_WRITE, c->mmu_idx, vec, false);
    if (size > first) {
        tlb_get(c, (lin + first) & c->lin_mask, KIND_WRITE, c->mmu_idx, vec, false);
    }
}

void *tcgl_lin_ptr(TCGLCPU *c, uint64_t lin, unsigned len, int acc)
{
    int idx = acc_idx(c, acc);
    int kind = acc & 3;
    TCGLTLBEntry *e;

    if (!len || (lin & ~TCGL_PAGE_MASK) + len > TCGL_PAGE_SIZE || kind == KIND_EXEC ||
        (!(acc & TCGL_ACC_SUPER) && tcgl_ac_on(c))) {
        return NULL;
    }
    e = tlb_get(c, lin, kind, idx, EXCP_GP, true);
    if (!e) {
        return NULL;
    }
    if (!(entry_tag(e, kind) & TCGL_TLB_SLOW)) {
        return (void *)(uintptr_t)(lin + e->addend);
    }
    return kind == KIND_WRITE ? ram_write_ptr(c, idx, lin, len) : NULL;
}

/* ---- code fetch --------------------------------------------------------------- */

const uint8_t *tcgl_fetch_page(TCGLCPU *c, uint64_t pc, uint64_t *phys, unsigned *avail)
{
    TCGLTLBEntry *e = tcgl_tlb_entry(c, c->mmu_idx, pc);

    if (unlikely(e->tag_exec != (pc & TCGL_PAGE_MASK))) {
        e = tlb_get(c, pc, KIND_EXEC, c->mmu_idx, EXCP_GP, false);
    }
    *phys = entry_phys(c, e, pc);
    *avail = TCGL_PAGE_SIZE - (pc & ~TCGL_PAGE_MASK);
    if (e->tag_exec & TCGL_TLB_SLOW) {
        return NULL;
    }
    return (const uint8_t *)(uintptr_t)(pc + e->addend);
}

void tcgl_fetch_bytes(TCGLCPU *c, uint64_t pc, uint8_t *buf, unsigned len)
{
    lin_read(c, pc, buf, len, KIND_EXEC | ACC_NOALIGN, EXCP_GP);
}

/* ---- debugging ------------------------------------------------------------------ */

uint64_t tcgl_debug_translate(TCGLCPU *c, uint64_t lin)
{
    PageWalk w;

    if (!paging_on(c)) {
        if (!(c->env->efer & EFER_LMA)) {
            lin = (uint32_t)lin;
        }
        return lin & c->a20_mask;
    }
    if ((c->env->efer & EFER_LMA) && !canonical(lin)) {
        return (uint64_t)-1;
    }
    if (walk(c, lin, &w) >= 0) {
        return (uint64_t)-1;
    }
    return (w.phys | (lin & ~TCGL_PAGE_MASK)) & c->a20_mask;
}

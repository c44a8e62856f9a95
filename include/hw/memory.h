/*
 * The memory API.
 *
 * A MemoryRegion is one of: RAM (backed by host memory), ROM (RAM the guest
 * cannot write), IO (MMIO or port I/O through read/write callbacks), an
 * ALIAS (a window onto part of another region) or a CONTAINER of
 * subregions.  Subregions are placed at an offset in their container; where
 * they overlap, the higher priority wins (equal priority: the one added
 * last).  An AddressSpace has a root region; a change to the region
 * tree rebuilds the FlatView (a sorted array of non-overlapping ranges,
 * each pointing at a terminal region) of the address spaces whose tree
 * holds the changed region (directly or through aliases), and only
 * those, and tells their MemoryListeners what appeared and disappeared.
 * Dispatch is a binary search in the FlatView.
 *
 * Devices see memory only through this API; accelerators listen to it.
 * All calls are made with the big lock held.  docs/memory.md states the
 * contract a software CPU relies on (translation, generations, dirty
 * clients, attributes, costs).
 */
#ifndef KVMPC_HW_MEMORY_H
#define KVMPC_HW_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "qemu/error.h"
#include "qemu/event_notifier.h"

typedef struct MemoryRegion MemoryRegion;
typedef struct AddressSpace AddressSpace;
typedef struct FlatView FlatView;
typedef struct MemoryListener MemoryListener;

typedef enum MemTxResult {
    MEMTX_OK = 0,
    MEMTX_ERROR = 1,            /* a device refused the access */
    MEMTX_DECODE_ERROR = 2,     /* nothing is mapped there */
} MemTxResult;

/*
 * Attributes of one memory transaction, passed to the regions' *_with_attrs
 * callbacks.  `smm` is set for accesses a CPU makes in System Management
 * Mode (the CPU also picks its SMM address space from it), `secure` for
 * accesses from a secure context, `requester_id` is the PCI requester
 * (bus << 8 | devfn) of a DMA, 0 for CPUs.  `unspecified` marks the calls
 * without attributes (address_space_read(), _ld(), ...).
 */
typedef struct MemTxAttrs {
    unsigned int unspecified:1;
    unsigned int secure:1;
    unsigned int smm:1;
    unsigned int requester_id:16;
} MemTxAttrs;

#define MEMTXATTRS_UNSPECIFIED ((MemTxAttrs){ .unspecified = 1 })

typedef struct MemoryRegionOps {
    /* addr is relative to the region's start; size is 1, 2, 4 or 8. */
    uint64_t (*read)(void *opaque, uint64_t addr, unsigned size);
    void (*write)(void *opaque, uint64_t addr, uint64_t data, unsigned size);
    /* Used instead of read/write when set: they see the transaction's
     * attributes and may fail it (MEMTX_ERROR; a failed read reads as all
     * ones). */
    MemTxResult (*read_with_attrs)(void *opaque, uint64_t addr, uint64_t *data, unsigned size,
                                   MemTxAttrs attrs);
    MemTxResult (*write_with_attrs)(void *opaque, uint64_t addr, uint64_t data, unsigned size,
                                    MemTxAttrs attrs);
    /* What the guest may do.  An access outside these rules reads as all
     * ones and is ignored on write (0 means: 1 and 8 respectively). */
    struct {
        unsigned min_access_size;
        unsigned max_access_size;
        bool unaligned;
    } valid;
    /* What the callbacks implement.  The core splits wider accesses into
     * several callback calls and widens narrower ones (read-modify-write is
     * NOT done: narrower writes are extended with zeros at the right shift). */
    struct {
        unsigned min_access_size;
        unsigned max_access_size;
    } impl;
} MemoryRegionOps;

typedef enum MemoryRegionType {
    MR_CONTAINER,
    MR_RAM,
    MR_ROM,             /* ops != NULL: a ROM device (writes go to ops) */
    MR_IO,
    MR_ALIAS,
} MemoryRegionType;

/*
 * Dirty-log clients.  Each client that logs a RAM/ROM region has its own
 * bitmap for it, one bit per DIRTY_PAGE_SIZE page: set = written since the
 * client last cleared it.  A client that does not log a region sees every
 * page of it as dirty (it cannot know better), and a client that starts
 * logging finds every page dirty.
 *   VGA: a display's framebuffer (per region, memory_region_set_log()).
 *   CODE: a software CPU's decoded-code cache; the CPU clears a page's bit
 *         when it decodes code from it and must see writes to such pages
 *         (memory_region_page_clean(), MemoryDirtyNotifier).
 *   MIGRATION: RAM pre-copy (every RAM/ROM region,
 *         memory_global_dirty_log_start()).
 */
typedef enum DirtyMemoryClient {
    DIRTY_MEMORY_VGA = 0,
    DIRTY_MEMORY_CODE = 1,
    DIRTY_MEMORY_MIGRATION = 2,
    DIRTY_MEMORY_NUM = 3,
} DirtyMemoryClient;

#define DIRTY_PAGE_BITS 12
#define DIRTY_PAGE_SIZE (1ULL << DIRTY_PAGE_BITS)
#define DIRTY_BITS_PER_LONG (8 * sizeof(unsigned long))

struct MemoryRegion {
    char *name;
    MemoryRegionType type;
    uint64_t size;
    /* IO */
    const MemoryRegionOps *ops;
    void *opaque;
    /* RAM/ROM */
    uint8_t *ram;
    bool ram_owned;             /* allocated by us (freed on destroy) */
    unsigned dirty_log_mask;    /* clients logging this RAM: 1 << client */
    unsigned dirty_log_request; /* of those, asked by memory_region_set_log() */
    unsigned long *dirty[DIRTY_MEMORY_NUM];   /* per client, NULL when not logging */
    /* ALIAS */
    MemoryRegion *alias;
    uint64_t alias_offset;
    MemoryRegion *alias_users;  /* aliases showing this region ... */
    MemoryRegion *alias_next;   /* ... linked through this field */
    uint64_t walk_stamp;        /* finding the address spaces a change touches */
    /* placement */
    MemoryRegion *container;
    uint64_t addr;
    int priority;
    bool enabled;
    bool readonly;              /* for RAM: writes are ignored (like ROM) */
    unsigned add_seq;           /* tie-break for equal priority */
    GPtrArray *subregions;      /* for containers: sorted high priority first */
    /* Coalesced I/O windows (CoalescedRange, addr relative to the region)
     * and ioeventfds (MemoryRegionIoeventfd); NULL when there are none. */
    GArray *coalesced;
    GArray *ioeventfds;
};

typedef struct CoalescedRange {
    uint64_t addr, size;
} CoalescedRange;

/* A guest write of exactly `size` bytes at `addr` in the region (and, if
 * match_data, of exactly `data`) sets `e` instead of calling the region's
 * write callback.  An accelerator that can (KVM) does it without leaving
 * the kernel; otherwise the dispatch below does it. */
typedef struct MemoryRegionIoeventfd {
    uint64_t addr;
    unsigned size;
    bool match_data;
    uint64_t data;
    EventNotifier *e;
} MemoryRegionIoeventfd;

struct AddressSpace {
    char *name;
    MemoryRegion *root;
    FlatView *current_map;
    /* Changes whenever current_map's ranges change (never 0): a software
     * TLB that remembers it flushes when it differs. */
    uint64_t generation;
    uint64_t rebuilds;          /* flat views built (a debug counter) */
    bool update_pending;        /* touched inside a transaction */
    GList *listeners;
    GArray *coalesced;          /* current windows: CoalescedRange, addr absolute */
    GArray *ioeventfds;         /* current MemoryRegionIoeventfd, addr absolute */
};

/* One range of a FlatView, as handed to listeners. */
typedef struct MemoryRegionSection {
    MemoryRegion *mr;                   /* terminal region (RAM, ROM or IO) */
    AddressSpace *as;
    uint64_t offset_within_region;
    uint64_t offset_within_address_space;
    uint64_t size;
    bool readonly;
} MemoryRegionSection;

struct FlatView {
    MemoryRegionSection *ranges;
    unsigned nr;
    unsigned ref;               /* the address space's, plus dispatch in progress */
};

struct MemoryListener {
    void (*begin)(MemoryListener *l);
    void (*region_add)(MemoryListener *l, MemoryRegionSection *s);
    void (*region_del)(MemoryListener *l, MemoryRegionSection *s);
    /* begin/commit bracket every rebuild of the listener's address space
     * (a software TLB may flush here; see also AddressSpace.generation). */
    void (*commit)(MemoryListener *l);
    /* The region started/stopped being logged by any client at all. */
    void (*log_start)(MemoryListener *l, MemoryRegionSection *s);
    void (*log_stop)(MemoryListener *l, MemoryRegionSection *s);
    /* Fetch dirty bits from the accelerator into the section's region,
     * for every client that logs it (memory_region_set_dirty_from_bitmap()). */
    void (*log_sync)(MemoryListener *l, MemoryRegionSection *s);
    /* Coalesced I/O windows of the address space, in absolute addresses:
     * guest writes there may be queued by the accelerator and performed
     * later, in order, before any other exit is handled (and at least
     * every 100 ms).  Reads are never queued. */
    void (*coalesced_io_add)(MemoryListener *l, uint64_t addr, uint64_t size);
    void (*coalesced_io_del)(MemoryListener *l, uint64_t addr, uint64_t size);
    /* ioeventfds of the address space, addr absolute. */
    void (*eventfd_add)(MemoryListener *l, const MemoryRegionIoeventfd *fd);
    void (*eventfd_del)(MemoryListener *l, const MemoryRegionIoeventfd *fd);
    AddressSpace *as;
};

/* Region constructors.  The MemoryRegion storage belongs to the caller
 * (usually embedded in a device's state). */
void memory_region_init(MemoryRegion *mr, const char *name, uint64_t size);
bool memory_region_init_ram(MemoryRegion *mr, const char *name, uint64_t size, Error **errp);
/* RAM backed by caller-provided host memory (not freed by us). */
void memory_region_init_ram_ptr(MemoryRegion *mr, const char *name, uint64_t size, void *ptr);
bool memory_region_init_rom(MemoryRegion *mr, const char *name, uint64_t size, Error **errp);
/* A ROM device (flash): reads come from its memory like ROM, writes go to
 * ops->write (or write_with_attrs); address_space_write_rom() still stores. */
bool memory_region_init_rom_device(MemoryRegion *mr, const MemoryRegionOps *ops, void *opaque,
                                   const char *name, uint64_t size, Error **errp);
void memory_region_init_io(MemoryRegion *mr, const MemoryRegionOps *ops, void *opaque,
                           const char *name, uint64_t size);
void memory_region_init_alias(MemoryRegion *mr, const char *name, MemoryRegion *orig,
                              uint64_t offset, uint64_t size);
/* Unmaps (if mapped) and frees what the region owns. */
void memory_region_destroy(MemoryRegion *mr);

void memory_region_add_subregion(MemoryRegion *container, uint64_t offset, MemoryRegion *sub);
void memory_region_add_subregion_overlap(MemoryRegion *container, uint64_t offset,
                                         MemoryRegion *sub, int priority);
void memory_region_del_subregion(MemoryRegion *container, MemoryRegion *sub);
void memory_region_set_enabled(MemoryRegion *mr, bool enabled);
void memory_region_set_address(MemoryRegion *mr, uint64_t addr);
void memory_region_set_alias_offset(MemoryRegion *mr, uint64_t offset);
void memory_region_set_readonly(MemoryRegion *mr, bool readonly);

static inline void *memory_region_get_ram_ptr(MemoryRegion *mr) { return mr->ram; }
static inline uint64_t memory_region_size(MemoryRegion *mr) { return mr->size; }

/*
 * Coalesced I/O: writes to [offset, offset+size) of the region may be
 * deferred by the accelerator (KVM's coalesced MMIO/PIO ring) and replayed
 * in order at the next exit.  Use it for write-only latches whose effect is
 * only observed through another access that does exit, like the PCI
 * configuration address at 0xcf8.  The window is the region's own range,
 * even where a higher-priority region covers part of it: writes there are
 * deferred too (the accelerator replays them within 100 ms at most).
 */
void memory_region_add_coalescing(MemoryRegion *mr, uint64_t offset, uint64_t size);
void memory_region_clear_coalescing(MemoryRegion *mr);
/* ioeventfds (see MemoryRegionIoeventfd).  size is 1, 2, 4 or 8. */
void memory_region_add_eventfd(MemoryRegion *mr, uint64_t addr, unsigned size, bool match_data,
                               uint64_t data, EventNotifier *e);
void memory_region_del_eventfd(MemoryRegion *mr, uint64_t addr, unsigned size, bool match_data,
                               uint64_t data, EventNotifier *e);

/* Batch several changes into one FlatView rebuild. Nestable. */
void memory_region_transaction_begin(void);
void memory_region_transaction_commit(void);

/*
 * Dirty logging (RAM/ROM regions; see DirtyMemoryClient).  Addresses and
 * sizes are offsets in the region, rounded out to whole pages; the part of
 * a range past the region's end is ignored.
 */
void memory_region_set_log(MemoryRegion *mr, bool log, DirtyMemoryClient client);
/* `client` logs every RAM/ROM region, present and future (migration; a
 * software CPU for CODE), on top of the per-region requests. */
void memory_global_dirty_log_start(DirtyMemoryClient client);
void memory_global_dirty_log_stop(DirtyMemoryClient client);
/* Pull dirty bits from the listeners (KVM_GET_DIRTY_LOG) into every client
 * that logs the region; one sync serves all clients. */
void memory_region_sync_dirty_bitmap(MemoryRegion *mr);
void memory_global_dirty_log_sync(void);
/* Whether any page of the range is dirty for client. */
bool memory_region_get_dirty(MemoryRegion *mr, uint64_t addr, uint64_t size,
                             DirtyMemoryClient client);
/* Test and clear for client only; returns whether any page was dirty.  No
 * sync: call memory_region_sync_dirty_bitmap() first to see the
 * accelerator's writes. */
bool memory_region_test_and_clear_dirty(MemoryRegion *mr, uint64_t addr, uint64_t size,
                                        DirtyMemoryClient client);
/* Mark the pages dirty for every client: writes that bypass the memory
 * API's own dispatch (a software CPU writing RAM through a host pointer,
 * a device's DMA through address_space_get_ram_ptr() is done for it). */
void memory_region_set_dirty(MemoryRegion *mr, uint64_t addr, uint64_t size);
/* OR an accelerator's log into every client: bit i of bitmap (64 per
 * unsigned long, as KVM_GET_DIRTY_LOG) is the page at addr + i pages. */
void memory_region_set_dirty_from_bitmap(MemoryRegion *mr, uint64_t addr,
                                         const unsigned long *bitmap, uint64_t pages);

/* Sync, then take and clear client's bits for a range in one step (a
 * display's frame, a migration pass); query the copy at leisure. */
typedef struct DirtyBitmapSnapshot {
    uint64_t start, end;        /* page-aligned offsets in the region */
    unsigned long bits[];
} DirtyBitmapSnapshot;
DirtyBitmapSnapshot *memory_region_snapshot_and_clear_dirty(MemoryRegion *mr, uint64_t addr,
                                                            uint64_t size,
                                                            DirtyMemoryClient client);
bool memory_region_snapshot_get_dirty(MemoryRegion *mr, const DirtyBitmapSnapshot *snap,
                                      uint64_t addr, uint64_t size);
/* (g_free() works too) */
void memory_region_snapshot_free(DirtyBitmapSnapshot *snap);

/*
 * The cheap per-page check of a software TLB's fill: is the page at offset
 * addr of mr clean for client, i.e. logged and not written since the
 * client cleared it?  A TLB must not hand out a direct write entry for a
 * page that is clean for any logging client (memory_region_page_any_clean):
 * writes there go through a slow path that ends in memory_region_set_dirty(),
 * which first tells the CODE client (MemoryDirtyNotifier.code_write).
 */
static inline bool memory_region_page_clean(const MemoryRegion *mr, uint64_t addr,
                                            DirtyMemoryClient client)
{
    const unsigned long *map = mr->dirty[client];
    uint64_t page = addr >> DIRTY_PAGE_BITS;

    if (!map || addr >= mr->size) {
        return false;
    }
    return !((__atomic_load_n(&map[page / DIRTY_BITS_PER_LONG], __ATOMIC_RELAXED) >>
              (page % DIRTY_BITS_PER_LONG)) & 1);
}

static inline bool memory_region_page_any_clean(const MemoryRegion *mr, uint64_t addr)
{
    if (!mr->dirty_log_mask) {
        return false;
    }
    for (int c = 0; c < DIRTY_MEMORY_NUM; c++) {
        if (memory_region_page_clean(mr, addr, (DirtyMemoryClient)c)) {
            return true;
        }
    }
    return false;
}

/*
 * What a software CPU hears about dirty state (a global list; all
 * callbacks optional, called with the big lock held):
 *   code_write: pages of [addr, addr+len) of mr that were clean for CODE
 *     are about to become dirty (a write through the memory API, a DMA, the
 *     accelerator's log, memory_region_set_dirty()): drop the code decoded
 *     from them.  Called before the bits are set.
 *   dirty_cleared: some client's bits were cleared in [addr, addr+len) of mr
 *     (test_and_clear, snapshot): direct write entries of the TLB for those
 *     pages must go back to the slow path.
 */
typedef struct MemoryDirtyNotifier MemoryDirtyNotifier;
struct MemoryDirtyNotifier {
    void (*code_write)(MemoryDirtyNotifier *n, MemoryRegion *mr, uint64_t addr, uint64_t len);
    void (*dirty_cleared)(MemoryDirtyNotifier *n, MemoryRegion *mr, uint64_t addr,
                          uint64_t len);
};
void memory_dirty_notifier_register(MemoryDirtyNotifier *n);
void memory_dirty_notifier_unregister(MemoryDirtyNotifier *n);

/* Address spaces. */
void address_space_init(AddressSpace *as, MemoryRegion *root, const char *name);
void address_space_destroy(AddressSpace *as);
void memory_listener_register(MemoryListener *l, AddressSpace *as);
void memory_listener_unregister(MemoryListener *l);

/* Find the range containing addr in as's current FlatView, or NULL.  The
 * pointer is valid until the next change to the address space. */
const MemoryRegionSection *address_space_lookup(AddressSpace *as, uint64_t addr);

/* A guest write of size bytes at addr that one of as's ioeventfds takes
 * (what the dispatch of address_space_st() would do first): sets its
 * notifier and returns true; false if none matches.  Callable without the
 * BQL by a software vCPU that map changes wait for (tcg-lite's exclusive
 * section): the array is replaced only inside a rebuild's begin/commit. */
bool address_space_ioeventfd_write(AddressSpace *as, uint64_t addr, uint64_t val,
                                   unsigned size);

static inline uint64_t address_space_generation(const AddressSpace *as)
{
    return __atomic_load_n(&as->generation, __ATOMIC_ACQUIRE);
}

/*
 * Translation for a software TLB (docs/memory.md has the contract).
 * For a guest physical address, what lies there and how far it extends:
 *   MEMORY_TRANSLATION_RAM: read and write at `host` directly (writes then
 *     need memory_region_set_dirty() while memory_region_page_any_clean()).
 *   MEMORY_TRANSLATION_ROM: read at `host`; writes go through
 *     address_space_st() (ignored, or a ROM device's write callback).
 *   MEMORY_TRANSLATION_MMIO: every access goes through address_space_ld/st.
 *   MEMORY_TRANSLATION_UNMAPPED: a hole: reads all ones, writes dropped.
 * [start, start + size) is the run of the address space that holds addr
 * and has the same answer (one flat-view range, or the whole hole; a hole
 * that reaches the top of the 64-bit space ends at UINT64_MAX).  Host
 * pointers are contiguous over a RAM/ROM run.  The answer holds while
 * address_space_generation(as) == generation.
 */
typedef enum MemoryTranslationKind {
    MEMORY_TRANSLATION_UNMAPPED,
    MEMORY_TRANSLATION_RAM,
    MEMORY_TRANSLATION_ROM,
    MEMORY_TRANSLATION_MMIO,
} MemoryTranslationKind;

typedef struct MemoryTranslation {
    MemoryTranslationKind kind;
    MemoryRegion *mr;           /* the terminal region; NULL for a hole */
    uint64_t offset;            /* addr's offset in mr */
    uint8_t *host;              /* RAM/ROM: addr's host address; else NULL */
    uint64_t start, size;       /* the run, in the address space */
    uint64_t generation;
} MemoryTranslation;

MemoryTranslationKind address_space_translate(AddressSpace *as, uint64_t addr,
                                              MemoryTranslation *t);

/* Whether [addr, addr+len) lies in the translation's run (a TLB caches a
 * page only if the whole page does). */
static inline bool memory_translation_covers(const MemoryTranslation *t, uint64_t addr,
                                             uint64_t len)
{
    return addr >= t->start && len <= t->size && addr - t->start <= t->size - len;
}

/* Accesses.  Unmapped reads return all ones; unmapped writes are dropped;
 * both return MEMTX_DECODE_ERROR.  Crossing ranges is handled; a hole is
 * skipped in one step, whatever its size.  The calls without attrs pass
 * MEMTXATTRS_UNSPECIFIED. */
MemTxResult address_space_rw_attrs(AddressSpace *as, uint64_t addr, MemTxAttrs attrs,
                                   void *buf, uint64_t len, bool is_write);
MemTxResult address_space_read_attrs(AddressSpace *as, uint64_t addr, MemTxAttrs attrs,
                                     void *buf, uint64_t len);
MemTxResult address_space_write_attrs(AddressSpace *as, uint64_t addr, MemTxAttrs attrs,
                                      const void *buf, uint64_t len);
MemTxResult address_space_ld_attrs(AddressSpace *as, uint64_t addr, uint64_t *val,
                                   unsigned size, MemTxAttrs attrs);
MemTxResult address_space_st_attrs(AddressSpace *as, uint64_t addr, uint64_t val,
                                   unsigned size, MemTxAttrs attrs);
MemTxResult address_space_rw(AddressSpace *as, uint64_t addr, void *buf, uint64_t len,
                             bool is_write);
MemTxResult address_space_read(AddressSpace *as, uint64_t addr, void *buf, uint64_t len);
MemTxResult address_space_write(AddressSpace *as, uint64_t addr, const void *buf, uint64_t len);
/* Like write, but also stores into ROM (used by loaders). */
MemTxResult address_space_write_rom(AddressSpace *as, uint64_t addr, const void *buf, uint64_t len);
/* One access of size 1/2/4/8 with the region's access rules (vCPU exits). */
MemTxResult address_space_ld(AddressSpace *as, uint64_t addr, uint64_t *val, unsigned size);
MemTxResult address_space_st(AddressSpace *as, uint64_t addr, uint64_t val, unsigned size);
/* Whether all of [addr, addr+len) is RAM (possibly several ranges): the
 * check a DMA-capable device makes before it touches guest memory, which
 * must never reach MMIO, ROM or a hole.  len 0: true. */
bool address_space_is_ram(AddressSpace *as, uint64_t addr, uint64_t len);
/* Host pointer for [addr, addr+len) if it lies entirely within one RAM/ROM
 * range, else NULL.  For DMA-style access by devices and loaders. */
void *address_space_get_ram_ptr(AddressSpace *as, uint64_t addr, uint64_t len, bool is_write);

/* The machine's two address spaces (set up by the machine). */
extern AddressSpace address_space_memory;
extern AddressSpace address_space_io;
MemoryRegion *get_system_memory(void);
MemoryRegion *get_system_io(void);
void memory_init_system(void);

/* Text dump of a region tree and a flat view (HMP `info mtree`). */
void memory_region_dump_tree(GString *out, MemoryRegion *mr);
void address_space_dump_flat(GString *out, AddressSpace *as);

/* Loop iterations of address_space_read/write so far (a debug counter:
 * one per flat-view range or hole visited, one per device access). */
uint64_t memory_debug_dispatch_steps(void);

#endif

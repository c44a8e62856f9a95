/*
 * The memory API.
 *
 * A MemoryRegion is one of: RAM (backed by host memory), ROM (RAM the guest
 * cannot write), IO (MMIO or port I/O through read/write callbacks), an
 * ALIAS (a window onto part of another region) or a CONTAINER of
 * subregions.  Subregions are placed at an offset in their container; where
 * they overlap, the higher priority wins (equal priority: the one added
 * last).  An AddressSpace has a root region; every change to the region
 * tree rebuilds the address space's FlatView (a sorted array of
 * non-overlapping ranges, each pointing at a terminal region) and tells
 * the MemoryListeners what appeared and disappeared.  Dispatch is a binary
 * search in the FlatView.
 *
 * Devices see memory only through this API; accelerators listen to it.
 * All calls are made with the big lock held.
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

typedef struct MemoryRegionOps {
    /* addr is relative to the region's start; size is 1, 2, 4 or 8. */
    uint64_t (*read)(void *opaque, uint64_t addr, unsigned size);
    void (*write)(void *opaque, uint64_t addr, uint64_t data, unsigned size);
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
    MR_ROM,
    MR_IO,
    MR_ALIAS,
} MemoryRegionType;

/* Dirty-log clients (bitmask). */
#define DIRTY_MEMORY_MIGRATION  1u
#define DIRTY_MEMORY_VGA        2u

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
    unsigned dirty_log_mask;    /* clients logging this RAM */
    unsigned long *dirty;       /* one bit per 4 KiB page, for all clients */
    /* ALIAS */
    MemoryRegion *alias;
    uint64_t alias_offset;
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
    unsigned ref;
};

struct MemoryListener {
    void (*begin)(MemoryListener *l);
    void (*region_add)(MemoryListener *l, MemoryRegionSection *s);
    void (*region_del)(MemoryListener *l, MemoryRegionSection *s);
    void (*commit)(MemoryListener *l);
    void (*log_start)(MemoryListener *l, MemoryRegionSection *s);
    void (*log_stop)(MemoryListener *l, MemoryRegionSection *s);
    /* Fetch dirty bits from the accelerator into mr->dirty. */
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

/* Dirty logging (RAM regions). */
void memory_region_set_log(MemoryRegion *mr, bool log, unsigned client);
/* Pull dirty bits from listeners (accelerators) into the region's bitmap. */
void memory_region_sync_dirty_bitmap(MemoryRegion *mr);
bool memory_region_get_dirty(MemoryRegion *mr, uint64_t addr, uint64_t size);
/* Test and clear; returns whether any page in [addr, addr+size) was dirty. */
bool memory_region_test_and_clear_dirty(MemoryRegion *mr, uint64_t addr, uint64_t size);
/* Mark pages dirty (writes that do not go through an accelerator). */
void memory_region_set_dirty(MemoryRegion *mr, uint64_t addr, uint64_t size);

/* Address spaces. */
void address_space_init(AddressSpace *as, MemoryRegion *root, const char *name);
void address_space_destroy(AddressSpace *as);
void memory_listener_register(MemoryListener *l, AddressSpace *as);
void memory_listener_unregister(MemoryListener *l);

/* Find the range containing addr in as's current FlatView, or NULL. */
const MemoryRegionSection *address_space_lookup(AddressSpace *as, uint64_t addr);

/* Accesses.  Unmapped reads return all ones; unmapped writes are dropped;
 * both return MEMTX_DECODE_ERROR.  Crossing ranges is handled. */
MemTxResult address_space_rw(AddressSpace *as, uint64_t addr, void *buf, uint64_t len,
                             bool is_write);
MemTxResult address_space_read(AddressSpace *as, uint64_t addr, void *buf, uint64_t len);
MemTxResult address_space_write(AddressSpace *as, uint64_t addr, const void *buf, uint64_t len);
/* Like write, but also stores into ROM (used by loaders). */
MemTxResult address_space_write_rom(AddressSpace *as, uint64_t addr, const void *buf, uint64_t len);
/* One access of size 1/2/4/8 with the region's access rules (vCPU exits). */
MemTxResult address_space_ld(AddressSpace *as, uint64_t addr, uint64_t *val, unsigned size);
MemTxResult address_space_st(AddressSpace *as, uint64_t addr, uint64_t val, unsigned size);
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

#endif

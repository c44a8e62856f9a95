/*
 * The memory API: region trees, flat views, listeners, dirty logging,
 * dispatch, translation for a software TLB.
 * See include/hw/memory.h for the model and docs/memory.md for the contract.
 */
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <inttypes.h>
#include "hw/memory.h"
#include "qemu/log.h"

#define PAGE_BITS 12
#define PAGE_SIZE (1ULL << PAGE_BITS)

AddressSpace address_space_memory;
AddressSpace address_space_io;
static MemoryRegion system_memory;
static MemoryRegion system_io;

static GList *address_spaces;
static unsigned transaction_depth;
static unsigned add_seq_counter;
static uint64_t walk_stamp;             /* see mark_touched() */
static unsigned global_dirty_clients;   /* 1 << client, memory_global_dirty_log_start() */
static GList *dirty_notifiers;
static uint64_t dispatch_steps;

/* ---- regions ---------------------------------------------------------- */

static void region_init_common(MemoryRegion *mr, const char *name, uint64_t size,
                               MemoryRegionType type)
{
    memset(mr, 0, sizeof(*mr));
    mr->name = g_strdup(name ? name : "anonymous");
    mr->size = size;
    mr->type = type;
    mr->enabled = true;
}

void memory_region_init(MemoryRegion *mr, const char *name, uint64_t size)
{
    region_init_common(mr, name, size, MR_CONTAINER);
    mr->subregions = g_ptr_array_new();
}

#define HUGE_ALIGN (2ULL << 20)

static bool alloc_ram(MemoryRegion *mr, uint64_t size, Error **errp)
{
    uint8_t *p, *aligned;
    uint64_t map_size;

    if (size == 0 || size > (1ULL << 46)) {
        error_setg(errp, "cannot allocate %" G_GUINT64_FORMAT " bytes for '%s'", size, mr->name);
        return false;
    }
    /* Anonymous mmap: zeroed, lazily backed.  Blocks of 2 MiB or more are
     * 2 MiB aligned and marked for transparent huge pages, so that the
     * accelerator can map guest RAM with large pages (far fewer nested
     * page faults), as QEMU does. */
    map_size = size >= HUGE_ALIGN ? size + HUGE_ALIGN : size;
    p = mmap(NULL, map_size, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        error_setg_errno(errp, errno, "cannot allocate %" G_GUINT64_FORMAT " MiB of RAM for '%s'",
                         size >> 20, mr->name);
        return false;
    }
    aligned = p;
    if (map_size != size) {
        aligned = (uint8_t *)(((uintptr_t)p + HUGE_ALIGN - 1) & ~(uintptr_t)(HUGE_ALIGN - 1));
        if (aligned > p) {
            munmap(p, aligned - p);
        }
        if (aligned + size < p + map_size) {
            munmap(aligned + size, p + map_size - (aligned + size));
        }
#ifdef MADV_HUGEPAGE
        madvise(aligned, size, MADV_HUGEPAGE);
#endif
    }
    mr->ram = aligned;
    mr->ram_owned = true;
    return true;
}

bool memory_region_init_ram(MemoryRegion *mr, const char *name, uint64_t size, Error **errp)
{
    region_init_common(mr, name, size, MR_RAM);
    return alloc_ram(mr, size, errp);
}

void memory_region_init_ram_ptr(MemoryRegion *mr, const char *name, uint64_t size, void *ptr)
{
    region_init_common(mr, name, size, MR_RAM);
    mr->ram = ptr;
}

bool memory_region_init_rom(MemoryRegion *mr, const char *name, uint64_t size, Error **errp)
{
    region_init_common(mr, name, size, MR_ROM);
    mr->readonly = true;
    return alloc_ram(mr, size, errp);
}

bool memory_region_init_rom_device(MemoryRegion *mr, const MemoryRegionOps *ops, void *opaque,
                                   const char *name, uint64_t size, Error **errp)
{
    if (!memory_region_init_rom(mr, name, size, errp)) {
        return false;
    }
    mr->ops = ops;
    mr->opaque = opaque;
    return true;
}

static inline bool is_rom_device(const MemoryRegion *mr)
{
    return mr->type == MR_ROM && mr->ops;
}

void memory_region_init_io(MemoryRegion *mr, const MemoryRegionOps *ops, void *opaque,
                           const char *name, uint64_t size)
{
    region_init_common(mr, name, size, MR_IO);
    mr->ops = ops;
    mr->opaque = opaque;
}

void memory_region_init_alias(MemoryRegion *mr, const char *name, MemoryRegion *orig,
                              uint64_t offset, uint64_t size)
{
    region_init_common(mr, name, size, MR_ALIAS);
    mr->alias = orig;
    mr->alias_offset = offset;
    if (orig) {
        mr->alias_next = orig->alias_users;
        orig->alias_users = mr;
    }
}

static void alias_unlink(MemoryRegion *alias)
{
    MemoryRegion **pp = &alias->alias->alias_users;

    while (*pp && *pp != alias) {
        pp = &(*pp)->alias_next;
    }
    if (*pp) {
        *pp = alias->alias_next;
    }
    alias->alias_next = NULL;
}

/* ---- which address spaces a change touches ----------------------------- */

/*
 * A region belongs to the address spaces whose root is reached by going
 * up through containers, and from any region on the way up through the
 * aliases that show it.  Mark those for a rebuild; each region is visited
 * once per change (walk_stamp), so the cost is the size of the region's
 * upward closure, not of the trees.
 */
static void mark_touched(MemoryRegion *mr)
{
    for (; mr; mr = mr->container) {
        if (mr->walk_stamp == walk_stamp) {
            return;
        }
        mr->walk_stamp = walk_stamp;
        for (GList *l = address_spaces; l; l = l->next) {
            AddressSpace *as = l->data;
            if (as->root == mr) {
                as->update_pending = true;
            }
        }
        for (MemoryRegion *a = mr->alias_users; a; a = a->alias_next) {
            mark_touched(a);
        }
    }
}

static void address_space_update(AddressSpace *as);

static void memory_update_pending(void)
{
    for (GList *l = address_spaces; l; l = l->next) {
        AddressSpace *as = l->data;
        if (as->update_pending) {
            as->update_pending = false;
            address_space_update(as);
        }
    }
}

static void memory_region_changed(MemoryRegion *mr)
{
    walk_stamp++;
    mark_touched(mr);
    if (!transaction_depth) {
        memory_update_pending();
    }
}

void memory_region_destroy(MemoryRegion *mr)
{
    /* Unmap everything first (one rebuild), then free. */
    memory_region_transaction_begin();
    if (mr->container) {
        memory_region_del_subregion(mr->container, mr);
    }
    if (mr->subregions) {
        while (mr->subregions->len) {
            memory_region_del_subregion(mr, g_ptr_array_index(mr->subregions, 0));
        }
    }
    if (mr->type == MR_ALIAS && mr->alias) {
        alias_unlink(mr);
    }
    /* Aliases of a destroyed region show nothing from now on. */
    while (mr->alias_users) {
        MemoryRegion *a = mr->alias_users;
        mr->alias_users = a->alias_next;
        a->alias_next = NULL;
        a->alias = NULL;
        memory_region_changed(a);
    }
    memory_region_transaction_commit();
    if (mr->subregions) {
        g_ptr_array_free(mr->subregions, TRUE);
    }
    if (mr->ram_owned) {
        munmap(mr->ram, mr->size);
    }
    for (int c = 0; c < DIRTY_MEMORY_NUM; c++) {
        g_free(mr->dirty[c]);
    }
    g_free(mr->name);
    if (mr->coalesced) {
        g_array_free(mr->coalesced, TRUE);
    }
    if (mr->ioeventfds) {
        g_array_free(mr->ioeventfds, TRUE);
    }
    memset(mr, 0, sizeof(*mr));
}

static inline uint64_t size_mask(unsigned size);

/* ---- coalesced I/O and ioeventfds -------------------------------------- */

void memory_region_add_coalescing(MemoryRegion *mr, uint64_t offset, uint64_t size)
{
    CoalescedRange w = { offset, size };

    g_assert(size > 0 && offset < mr->size && size <= mr->size - offset);
    if (!mr->coalesced) {
        mr->coalesced = g_array_new(FALSE, FALSE, sizeof(CoalescedRange));
    }
    g_array_append_val(mr->coalesced, w);
    memory_region_changed(mr);
}

void memory_region_clear_coalescing(MemoryRegion *mr)
{
    if (mr->coalesced && mr->coalesced->len) {
        g_array_set_size(mr->coalesced, 0);
        memory_region_changed(mr);
    }
}

static bool ioeventfd_eq(const MemoryRegionIoeventfd *a, const MemoryRegionIoeventfd *b)
{
    return a->addr == b->addr && a->size == b->size && a->match_data == b->match_data &&
           (!a->match_data || a->data == b->data) && a->e == b->e;
}

void memory_region_add_eventfd(MemoryRegion *mr, uint64_t addr, unsigned size, bool match_data,
                               uint64_t data, EventNotifier *e)
{
    MemoryRegionIoeventfd fd = {
        .addr = addr, .size = size, .match_data = match_data,
        .data = match_data ? data : 0, .e = e,
    };

    g_assert(size == 1 || size == 2 || size == 4 || size == 8);
    g_assert(addr < mr->size && size <= mr->size - addr);
    if (!mr->ioeventfds) {
        mr->ioeventfds = g_array_new(FALSE, FALSE, sizeof(MemoryRegionIoeventfd));
    }
    g_array_append_val(mr->ioeventfds, fd);
    memory_region_changed(mr);
}

void memory_region_del_eventfd(MemoryRegion *mr, uint64_t addr, unsigned size, bool match_data,
                               uint64_t data, EventNotifier *e)
{
    MemoryRegionIoeventfd fd = {
        .addr = addr, .size = size, .match_data = match_data,
        .data = match_data ? data : 0, .e = e,
    };

    for (guint i = 0; mr->ioeventfds && i < mr->ioeventfds->len; i++) {
        if (ioeventfd_eq(&g_array_index(mr->ioeventfds, MemoryRegionIoeventfd, i), &fd)) {
            g_array_remove_index(mr->ioeventfds, i);
            memory_region_changed(mr);
            return;
        }
    }
}

/* A write one of fds (a region's, or an address space's) takes: set its
 * notifier, skip the device. */
static bool ioeventfd_fire(GArray *fds, uint64_t addr, uint64_t val, unsigned size)
{
    for (guint i = 0; fds && i < fds->len; i++) {
        MemoryRegionIoeventfd *fd = &g_array_index(fds, MemoryRegionIoeventfd, i);
        if (fd->addr == addr && fd->size == size &&
            (!fd->match_data || fd->data == (val & size_mask(size)))) {
            event_notifier_set(fd->e);
            return true;
        }
    }
    return false;
}

static bool ioeventfd_dispatch(MemoryRegion *mr, uint64_t off, uint64_t val, unsigned size)
{
    return ioeventfd_fire(mr->ioeventfds, off, val, size);
}

bool address_space_ioeventfd_write(AddressSpace *as, uint64_t addr, uint64_t val,
                                   unsigned size)
{
    return ioeventfd_fire(as->ioeventfds, addr, val, size);
}

/* Higher priority first; among equals, the most recently added first. */
static gint subregion_cmp(gconstpointer a, gconstpointer b)
{
    const MemoryRegion *x = *(MemoryRegion *const *)a;
    const MemoryRegion *y = *(MemoryRegion *const *)b;

    if (x->priority != y->priority) {
        return x->priority > y->priority ? -1 : 1;
    }
    return x->add_seq > y->add_seq ? -1 : (x->add_seq < y->add_seq);
}

void memory_region_add_subregion_overlap(MemoryRegion *container, uint64_t offset,
                                         MemoryRegion *sub, int priority)
{
    g_return_if_fail(container->type == MR_CONTAINER);
    g_return_if_fail(!sub->container);
    sub->container = container;
    sub->addr = offset;
    sub->priority = priority;
    sub->add_seq = ++add_seq_counter;
    /* The newest region goes first among its priority: before the first
     * one of lower or equal priority (binary search, the array is sorted). */
    guint lo = 0, hi = container->subregions->len;
    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;
        if (subregion_cmp(&g_ptr_array_index(container->subregions, mid), &sub) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    g_ptr_array_insert(container->subregions, (gint)lo, sub);
    memory_region_changed(container);
}

void memory_region_add_subregion(MemoryRegion *container, uint64_t offset, MemoryRegion *sub)
{
    memory_region_add_subregion_overlap(container, offset, sub, 0);
}

void memory_region_del_subregion(MemoryRegion *container, MemoryRegion *sub)
{
    g_return_if_fail(sub->container == container);
    g_ptr_array_remove(container->subregions, sub);
    sub->container = NULL;
    memory_region_changed(container);
}

void memory_region_set_enabled(MemoryRegion *mr, bool enabled)
{
    if (mr->enabled != enabled) {
        mr->enabled = enabled;
        memory_region_changed(mr);
    }
}

void memory_region_set_address(MemoryRegion *mr, uint64_t addr)
{
    if (mr->addr != addr) {
        mr->addr = addr;
        memory_region_changed(mr);
    }
}

void memory_region_set_alias_offset(MemoryRegion *mr, uint64_t offset)
{
    if (mr->alias_offset != offset) {
        mr->alias_offset = offset;
        memory_region_changed(mr);
    }
}

void memory_region_set_readonly(MemoryRegion *mr, bool readonly)
{
    if (mr->readonly != readonly) {
        mr->readonly = readonly;
        memory_region_changed(mr);
    }
}

void memory_region_transaction_begin(void)
{
    transaction_depth++;
}

void memory_region_transaction_commit(void)
{
    g_return_if_fail(transaction_depth > 0);
    if (--transaction_depth == 0) {
        memory_update_pending();
    }
}

/* ---- flattening --------------------------------------------------------- */

static inline uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a + b < a ? UINT64_MAX : a + b;
}

#define FR(arr, i) g_array_index((arr), MemoryRegionSection, (i))

/*
 * Flattening.  render() walks the tree in priority order (higher priority
 * first, depth first) and emits one piece per terminal region it reaches,
 * clipped to its containers; a piece's rank is its place in that order.
 * At every address the piece with the lowest rank wins.  A sweep over the
 * pieces' sorted end points with a min-heap of ranks (lazy deletion) turns
 * that into sorted, non-overlapping ranges in O(n log n).
 */
typedef struct FlatPiece {
    MemoryRegion *mr;
    uint64_t start, end;        /* absolute, end exclusive */
    uint64_t region_off;        /* offset in mr at start */
    bool readonly;
} FlatPiece;

typedef struct FlatEvent {
    uint64_t pos;
    uint32_t piece;
    bool start;
} FlatEvent;

/* Render mr whose origin is at absolute address base (which may lie below
 * 0 for an alias that starts inside its target), clipped to [clip_lo, clip_hi). */
typedef __int128 addr128;

static void render(GArray *pieces, MemoryRegion *mr, addr128 base, uint64_t clip_lo,
                   uint64_t clip_hi, bool readonly)
{
    addr128 lo, hi;

    if (!mr->enabled) {
        return;
    }
    lo = MAX(base, (addr128)clip_lo);
    hi = MIN(base + (addr128)mr->size, (addr128)clip_hi);
    if (lo >= hi) {
        return;
    }
    readonly |= mr->readonly;
    switch (mr->type) {
    case MR_ALIAS:
        /* The alias shows [alias_offset, alias_offset + size) of its target
         * at base: the target's origin is at base - alias_offset. */
        if (mr->alias) {
            render(pieces, mr->alias, base - (addr128)mr->alias_offset, lo, hi, readonly);
        }
        return;
    case MR_CONTAINER:
        for (guint i = 0; i < mr->subregions->len; i++) {
            MemoryRegion *sub = g_ptr_array_index(mr->subregions, i);
            render(pieces, sub, base + (addr128)sub->addr, lo, hi, readonly);
        }
        return;
    case MR_ROM:
        readonly = true;        /* whatever set_readonly() said: KVM maps it read-only */
        /* fall through */
    case MR_RAM:
    case MR_IO: {
        FlatPiece p = {
            .mr = mr, .start = (uint64_t)lo, .end = (uint64_t)hi,
            .region_off = (uint64_t)(lo - base), .readonly = readonly,
        };
        g_array_append_val(pieces, p);
        return;
    }
    }
}

static int flat_event_cmp(const void *a, const void *b)
{
    const FlatEvent *x = a, *y = b;

    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static void heap_push(GArray *h, uint32_t v)
{
    guint i;

    g_array_append_val(h, v);
    for (i = h->len - 1; i > 0; i = (i - 1) / 2) {
        uint32_t *p = &g_array_index(h, uint32_t, (i - 1) / 2), *c = &g_array_index(h, uint32_t, i);
        if (*p <= *c) {
            break;
        }
        uint32_t t = *p;
        *p = *c;
        *c = t;
    }
}

static void heap_pop(GArray *h)
{
    uint32_t *a = (uint32_t *)h->data;
    guint n = h->len - 1, i = 0;

    a[0] = a[n];
    g_array_set_size(h, n);
    for (;;) {
        guint l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && a[l] < a[m]) {
            m = l;
        }
        if (r < n && a[r] < a[m]) {
            m = r;
        }
        if (m == i) {
            break;
        }
        uint32_t t = a[i];
        a[i] = a[m];
        a[m] = t;
        i = m;
    }
}

/* Append [lo, hi) of piece p, merged into the previous range when it
 * continues the same region. */
static void flat_emit(GArray *out, AddressSpace *as, const FlatPiece *p, uint64_t lo, uint64_t hi)
{
    uint64_t off = p->region_off + (lo - p->start);

    if (out->len) {
        MemoryRegionSection *last = &FR(out, out->len - 1);
        if (last->mr == p->mr && last->readonly == p->readonly &&
            last->offset_within_address_space + last->size == lo &&
            last->offset_within_region + last->size == off) {
            last->size += hi - lo;
            return;
        }
    }
    MemoryRegionSection s = {
        .mr = p->mr, .as = as, .offset_within_region = off,
        .offset_within_address_space = lo, .size = hi - lo, .readonly = p->readonly,
    };
    g_array_append_val(out, s);
}

static void flat_sweep(GArray *out, AddressSpace *as, const FlatPiece *pieces, guint n)
{
    FlatEvent *ev = g_new(FlatEvent, 2 * (size_t)n);
    bool *active = g_new0(bool, n);
    GArray *heap = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    size_t nev = 0, i = 0;

    for (guint k = 0; k < n; k++) {
        ev[nev++] = (FlatEvent){ pieces[k].start, k, true };
        ev[nev++] = (FlatEvent){ pieces[k].end, k, false };
    }
    if (nev > 1) {          /* qsort(NULL, 0, ...) is undefined */
        qsort(ev, nev, sizeof(*ev), flat_event_cmp);
    }
    while (i < nev) {
        uint64_t x = ev[i].pos;
        for (; i < nev && ev[i].pos == x; i++) {
            active[ev[i].piece] = ev[i].start;
            if (ev[i].start) {
                heap_push(heap, ev[i].piece);
            }
        }
        while (heap->len && !active[g_array_index(heap, uint32_t, 0)]) {
            heap_pop(heap);
        }
        if (i < nev && heap->len) {
            flat_emit(out, as, &pieces[g_array_index(heap, uint32_t, 0)], x, ev[i].pos);
        }
    }
    g_array_free(heap, TRUE);
    g_free(active);
    g_free(ev);
}

static bool section_eq(const MemoryRegionSection *a, const MemoryRegionSection *b)
{
    return a->mr == b->mr && a->offset_within_address_space == b->offset_within_address_space &&
           a->size == b->size && a->offset_within_region == b->offset_within_region &&
           a->readonly == b->readonly;
}

static FlatView *generate_flat_view(AddressSpace *as)
{
    GArray *pieces = g_array_new(FALSE, FALSE, sizeof(FlatPiece));
    GArray *arr = g_array_new(FALSE, FALSE, sizeof(MemoryRegionSection));
    FlatView *fv = g_new0(FlatView, 1);

    if (as->root) {
        render(pieces, as->root, 0, 0, UINT64_MAX, false);
    }
    flat_sweep(arr, as, (FlatPiece *)pieces->data, pieces->len);
    g_array_free(pieces, TRUE);
    fv->nr = arr->len;
    fv->ranges = (MemoryRegionSection *)g_array_free(arr, FALSE);
    fv->ref = 1;
    return fv;
}

static FlatView *flat_view_ref(FlatView *fv)
{
    if (fv) {
        fv->ref++;
    }
    return fv;
}

static void flat_view_unref(FlatView *fv)
{
    if (fv && --fv->ref == 0) {
        g_free(fv->ranges);
        g_free(fv);
    }
}

/* Index of the first range that ends above addr (fv->nr if none). */
static unsigned flat_view_find(const FlatView *fv, uint64_t addr)
{
    unsigned lo = 0, hi = fv->nr;

    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        const MemoryRegionSection *s = &fv->ranges[mid];
        if (s->offset_within_address_space + s->size <= addr) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/*
 * Which ranges of old and new are the same: both are sorted and
 * non-overlapping, so equal ranges meet in one merge-like pass.
 * Returns whether anything differs.
 */
static bool flat_view_diff(const FlatView *old, const FlatView *new, bool *old_kept,
                           bool *new_kept)
{
    unsigned i = 0, j = 0, same = 0;

    while (old && i < old->nr && j < new->nr) {
        const MemoryRegionSection *a = &old->ranges[i], *b = &new->ranges[j];
        if (section_eq(a, b)) {
            old_kept[i++] = new_kept[j++] = true;
            same++;
        } else if (a->offset_within_address_space < b->offset_within_address_space) {
            i++;
        } else if (b->offset_within_address_space < a->offset_within_address_space) {
            j++;
        } else {
            i++;
            j++;
        }
    }
    return same != new->nr || same != (old ? old->nr : 0);
}

static bool window_in(GArray *co, const CoalescedRange *w)
{
    for (guint k = 0; co && k < co->len; k++) {
        const CoalescedRange *c = &g_array_index(co, CoalescedRange, k);
        if (c->addr == w->addr && c->size == w->size) {
            return true;
        }
    }
    return false;
}

static bool ioeventfd_in(GArray *fds, const MemoryRegionIoeventfd *fd)
{
    for (guint k = 0; fds && k < fds->len; k++) {
        if (ioeventfd_eq(&g_array_index(fds, MemoryRegionIoeventfd, k), fd)) {
            return true;
        }
    }
    return false;
}

/* The coalesced windows and ioeventfds a flat view exposes, absolute. */
static void collect_io_extras(const FlatView *fv, GArray *co, GArray *fds)
{
    for (unsigned i = 0; fv && i < fv->nr; i++) {
        const MemoryRegionSection *s = &fv->ranges[i];
        MemoryRegion *mr = s->mr;
        uint64_t base = s->offset_within_address_space - s->offset_within_region;
        uint64_t lo = s->offset_within_region, hi = lo + s->size;   /* visible part */

        for (guint j = 0; mr->coalesced && j < mr->coalesced->len; j++) {
            CoalescedRange w = g_array_index(mr->coalesced, CoalescedRange, j);
            if (w.addr >= hi || w.addr + w.size <= lo) {
                continue;
            }
            w.addr += base;
            if (!window_in(co, &w)) {
                g_array_append_val(co, w);
            }
        }
        for (guint j = 0; mr->ioeventfds && j < mr->ioeventfds->len; j++) {
            MemoryRegionIoeventfd fd = g_array_index(mr->ioeventfds, MemoryRegionIoeventfd, j);
            if (fd.addr < lo || fd.addr >= hi) {
                continue;
            }
            fd.addr += base;
            if (!ioeventfd_in(fds, &fd)) {
                g_array_append_val(fds, fd);
            }
        }
    }
}

/* Tell listeners which windows and ioeventfds went away and which came. */
static void address_space_update_io_extras(AddressSpace *as)
{
    GArray *co = g_array_new(FALSE, FALSE, sizeof(CoalescedRange));
    GArray *fds = g_array_new(FALSE, FALSE, sizeof(MemoryRegionIoeventfd));
    GArray *oco = as->coalesced, *ofds = as->ioeventfds;

    collect_io_extras(as->current_map, co, fds);
    for (GList *l = as->listeners; l; l = l->next) {
        MemoryListener *ml = l->data;
        for (guint k = 0; oco && k < oco->len; k++) {
            CoalescedRange *w = &g_array_index(oco, CoalescedRange, k);
            if (ml->coalesced_io_del && !window_in(co, w)) {
                ml->coalesced_io_del(ml, w->addr, w->size);
            }
        }
        for (guint k = 0; ofds && k < ofds->len; k++) {
            MemoryRegionIoeventfd *fd = &g_array_index(ofds, MemoryRegionIoeventfd, k);
            if (ml->eventfd_del && !ioeventfd_in(fds, fd)) {
                ml->eventfd_del(ml, fd);
            }
        }
        for (guint k = 0; k < co->len; k++) {
            CoalescedRange *w = &g_array_index(co, CoalescedRange, k);
            if (ml->coalesced_io_add && !window_in(oco, w)) {
                ml->coalesced_io_add(ml, w->addr, w->size);
            }
        }
        for (guint k = 0; k < fds->len; k++) {
            MemoryRegionIoeventfd *fd = &g_array_index(fds, MemoryRegionIoeventfd, k);
            if (ml->eventfd_add && !ioeventfd_in(ofds, fd)) {
                ml->eventfd_add(ml, fd);
            }
        }
    }
    if (oco) {
        g_array_free(oco, TRUE);
    }
    if (ofds) {
        g_array_free(ofds, TRUE);
    }
    as->coalesced = co;
    as->ioeventfds = fds;
}

static void dirty_log_reconcile_view(const FlatView *fv);

static void address_space_update(AddressSpace *as)
{
    FlatView *old = as->current_map, *new = generate_flat_view(as);
    bool *old_kept = g_new0(bool, old ? old->nr + 1 : 1);
    bool *new_kept = g_new0(bool, new->nr + 1);
    bool changed = flat_view_diff(old, new, old_kept, new_kept);
    GList *l;

    as->rebuilds++;
    /* Regions that appear while a client logs globally start logging
     * before the listeners map them (KVM then creates the slot logging). */
    dirty_log_reconcile_view(new);
    for (l = as->listeners; l; l = l->next) {
        MemoryListener *ml = l->data;
        if (ml->begin) {
            ml->begin(ml);
        }
    }
    for (unsigned i = 0; old && i < old->nr; i++) {
        if (old_kept[i]) {
            continue;
        }
        if (old->ranges[i].mr->type != MR_IO) {
            qemu_log_mask(LOG_TRACE, "memory: address space %s: unmap RAM/ROM '%s' at 0x%" PRIx64 "+0x%" PRIx64 "\n",
                          as->name, old->ranges[i].mr->name, old->ranges[i].offset_within_address_space,
                          old->ranges[i].size);
        }
        for (l = as->listeners; l; l = l->next) {
            MemoryListener *ml = l->data;
            if (ml->region_del) {
                ml->region_del(ml, &old->ranges[i]);
            }
        }
    }
    as->current_map = new;
    if (changed) {
        __atomic_store_n(&as->generation, as->generation + 1, __ATOMIC_RELEASE);
    }
    for (unsigned i = 0; i < new->nr; i++) {
        if (new_kept[i]) {
            continue;
        }
        for (l = as->listeners; l; l = l->next) {
            MemoryListener *ml = l->data;
            if (ml->region_add) {
                ml->region_add(ml, &new->ranges[i]);
            }
        }
    }
    address_space_update_io_extras(as);
    for (l = as->listeners; l; l = l->next) {
        MemoryListener *ml = l->data;
        if (ml->commit) {
            ml->commit(ml);
        }
    }
    g_free(old_kept);
    g_free(new_kept);
    flat_view_unref(old);
}

/* ---- address spaces and listeners ------------------------------------- */

void address_space_init(AddressSpace *as, MemoryRegion *root, const char *name)
{
    memset(as, 0, sizeof(*as));
    as->name = g_strdup(name);
    as->root = root;
    as->generation = 1;
    address_spaces = g_list_append(address_spaces, as);
    address_space_update(as);
}

void address_space_destroy(AddressSpace *as)
{
    address_spaces = g_list_remove(address_spaces, as);
    flat_view_unref(as->current_map);
    if (as->coalesced) {
        g_array_free(as->coalesced, TRUE);
    }
    if (as->ioeventfds) {
        g_array_free(as->ioeventfds, TRUE);
    }
    g_list_free(as->listeners);
    g_free(as->name);
    memset(as, 0, sizeof(*as));
}

void memory_listener_register(MemoryListener *l, AddressSpace *as)
{
    FlatView *fv = as->current_map;

    l->as = as;
    as->listeners = g_list_append(as->listeners, l);
    if (l->begin) {
        l->begin(l);
    }
    for (unsigned i = 0; fv && i < fv->nr; i++) {
        if (l->region_add) {
            l->region_add(l, &fv->ranges[i]);
        }
    }
    for (guint k = 0; as->coalesced && k < as->coalesced->len; k++) {
        CoalescedRange *w = &g_array_index(as->coalesced, CoalescedRange, k);
        if (l->coalesced_io_add) {
            l->coalesced_io_add(l, w->addr, w->size);
        }
    }
    for (guint k = 0; as->ioeventfds && k < as->ioeventfds->len; k++) {
        if (l->eventfd_add) {
            l->eventfd_add(l, &g_array_index(as->ioeventfds, MemoryRegionIoeventfd, k));
        }
    }
    if (l->commit) {
        l->commit(l);
    }
}

void memory_listener_unregister(MemoryListener *l)
{
    if (l->as) {
        l->as->listeners = g_list_remove(l->as->listeners, l);
        l->as = NULL;
    }
}

MemoryRegion *get_system_memory(void)
{
    return &system_memory;
}

MemoryRegion *get_system_io(void)
{
    return &system_io;
}

void memory_init_system(void)
{
    if (address_space_memory.root) {
        /* again (tests): the old roots go with their names and lists */
        address_space_destroy(&address_space_memory);
        address_space_destroy(&address_space_io);
        memory_region_destroy(&system_memory);
        memory_region_destroy(&system_io);
    }
    memory_region_init(&system_memory, "system", UINT64_MAX);
    memory_region_init(&system_io, "io", 0x10000);
    address_space_init(&address_space_memory, &system_memory, "memory");
    address_space_init(&address_space_io, &system_io, "I/O");
}

/* The vCPU exit path: a three-way binary search that stops on a hit. */
const MemoryRegionSection *address_space_lookup(AddressSpace *as, uint64_t addr)
{
    FlatView *fv = as->current_map;
    unsigned lo = 0, hi;

    if (!fv) {
        return NULL;
    }
    hi = fv->nr;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        const MemoryRegionSection *s = &fv->ranges[mid];
        if (addr < s->offset_within_address_space) {
            hi = mid;
        } else if (addr - s->offset_within_address_space >= s->size) {
            lo = mid + 1;
        } else {
            return s;
        }
    }
    return NULL;
}

/* ---- dirty logging ---------------------------------------------------- */

#define BITS_PER_LONG DIRTY_BITS_PER_LONG

static inline uint64_t dirty_pages(const MemoryRegion *mr)
{
    return (mr->size + PAGE_SIZE - 1) >> PAGE_BITS;
}

/* The pages [*first, *last] that [addr, addr+size) touches in mr; false if none. */
static bool page_range(const MemoryRegion *mr, uint64_t addr, uint64_t size, uint64_t *first,
                       uint64_t *last)
{
    if (size == 0 || addr >= mr->size) {
        return false;
    }
    *first = addr >> PAGE_BITS;
    *last = (size - 1 <= mr->size - 1 - addr ? addr + size - 1 : mr->size - 1) >> PAGE_BITS;
    return true;
}

/* The bits of word w that lie in pages [first, last]. */
static inline unsigned long word_mask(uint64_t first, uint64_t last, uint64_t w)
{
    uint64_t lo = w * BITS_PER_LONG, hi = lo + BITS_PER_LONG - 1;
    unsigned s = first > lo ? (unsigned)(first - lo) : 0;
    unsigned e = last < hi ? (unsigned)(last - lo) : BITS_PER_LONG - 1;

    return (~0UL >> (BITS_PER_LONG - 1 - e)) & (~0UL << s);
}

static void bitmap_set_range(unsigned long *map, uint64_t first, uint64_t last)
{
    for (uint64_t w = first / BITS_PER_LONG; w <= last / BITS_PER_LONG; w++) {
        __atomic_fetch_or(&map[w], word_mask(first, last, w), __ATOMIC_RELAXED);
    }
}

static bool bitmap_any(const unsigned long *map, uint64_t first, uint64_t last, bool set)
{
    for (uint64_t w = first / BITS_PER_LONG; w <= last / BITS_PER_LONG; w++) {
        unsigned long v = __atomic_load_n(&map[w], __ATOMIC_RELAXED);
        if ((set ? v : ~v) & word_mask(first, last, w)) {
            return true;
        }
    }
    return false;
}

/* Clear [first, last]; the bits that were set are copied to out (bit 0 =
 * page first) when out is given.  Returns whether any was set. */
static bool bitmap_take_range(unsigned long *map, uint64_t first, uint64_t last,
                              unsigned long *out)
{
    bool any = false;

    for (uint64_t w = first / BITS_PER_LONG; w <= last / BITS_PER_LONG; w++) {
        unsigned long m = word_mask(first, last, w);
        unsigned long old = __atomic_fetch_and(&map[w], ~m, __ATOMIC_RELAXED) & m;
        any |= old != 0;
        while (out && old) {
            uint64_t bit = w * BITS_PER_LONG + __builtin_ctzl(old) - first;
            out[bit / BITS_PER_LONG] |= 1UL << (bit % BITS_PER_LONG);
            old &= old - 1;
        }
    }
    return any;
}

static unsigned dirty_log_wanted(const MemoryRegion *mr)
{
    bool ram = mr->type == MR_RAM || mr->type == MR_ROM;

    return mr->dirty_log_request | (ram ? global_dirty_clients : 0);
}

static void for_each_section_of(MemoryRegion *mr,
                                void (*fn)(MemoryListener *, MemoryRegionSection *))
{
    for (GList *a = address_spaces; a; a = a->next) {
        AddressSpace *as = a->data;
        FlatView *fv = as->current_map;
        for (unsigned i = 0; fv && i < fv->nr; i++) {
            if (fv->ranges[i].mr != mr) {
                continue;
            }
            for (GList *l = as->listeners; l; l = l->next) {
                fn(l->data, &fv->ranges[i]);
            }
        }
    }
}

static void call_log_start(MemoryListener *l, MemoryRegionSection *s)
{
    if (l->log_start) {
        l->log_start(l, s);
    }
}

static void call_log_stop(MemoryListener *l, MemoryRegionSection *s)
{
    if (l->log_stop) {
        l->log_stop(l, s);
    }
}

static void call_log_sync(MemoryListener *l, MemoryRegionSection *s)
{
    if (l->log_sync) {
        l->log_sync(l, s);
    }
}

/*
 * Bring mr's bitmaps in line with the clients that want it logged.  A new
 * client's bitmap starts all dirty: nothing was tracked before, so every
 * page may have changed since the client last looked.
 */
static void dirty_log_reconcile(MemoryRegion *mr)
{
    unsigned old = mr->dirty_log_mask, want = dirty_log_wanted(mr);
    uint64_t pages = dirty_pages(mr);

    if (old == want) {
        return;
    }
    for (int c = 0; c < DIRTY_MEMORY_NUM; c++) {
        unsigned bit = 1u << c;
        if ((want & bit) && !(old & bit)) {
            mr->dirty[c] = g_new0(unsigned long, (pages + BITS_PER_LONG - 1) / BITS_PER_LONG);
            if (pages) {
                bitmap_set_range(mr->dirty[c], 0, pages - 1);
            }
        } else if (!(want & bit) && (old & bit)) {
            g_clear_pointer(&mr->dirty[c], g_free);
        }
    }
    mr->dirty_log_mask = want;
    if (!old) {
        for_each_section_of(mr, call_log_start);
    } else if (!want) {
        for_each_section_of(mr, call_log_stop);
    }
}

static void dirty_log_reconcile_view(const FlatView *fv)
{
    for (unsigned i = 0; i < fv->nr; i++) {
        MemoryRegion *mr = fv->ranges[i].mr;
        if (mr->type != MR_IO && mr->dirty_log_mask != dirty_log_wanted(mr)) {
            dirty_log_reconcile(mr);
        }
    }
}

void memory_region_set_log(MemoryRegion *mr, bool log, DirtyMemoryClient client)
{
    g_return_if_fail(mr->type == MR_RAM || mr->type == MR_ROM);
    g_return_if_fail((unsigned)client < DIRTY_MEMORY_NUM);
    if (log) {
        mr->dirty_log_request |= 1u << client;
    } else {
        mr->dirty_log_request &= ~(1u << client);
    }
    dirty_log_reconcile(mr);
}

/* Every region mapped anywhere now; regions mapped later are reconciled
 * by address_space_update(). */
static void dirty_log_reconcile_all(void)
{
    for (GList *a = address_spaces; a; a = a->next) {
        AddressSpace *as = a->data;
        if (as->current_map) {
            dirty_log_reconcile_view(as->current_map);
        }
    }
}

void memory_global_dirty_log_start(DirtyMemoryClient client)
{
    g_return_if_fail((unsigned)client < DIRTY_MEMORY_NUM);
    global_dirty_clients |= 1u << client;
    dirty_log_reconcile_all();
}

void memory_global_dirty_log_stop(DirtyMemoryClient client)
{
    g_return_if_fail((unsigned)client < DIRTY_MEMORY_NUM);
    global_dirty_clients &= ~(1u << client);
    dirty_log_reconcile_all();
}

void memory_region_sync_dirty_bitmap(MemoryRegion *mr)
{
    if (mr->dirty_log_mask) {
        for_each_section_of(mr, call_log_sync);
    }
}

void memory_global_dirty_log_sync(void)
{
    for (GList *a = address_spaces; a; a = a->next) {
        AddressSpace *as = a->data;
        FlatView *fv = as->current_map;
        for (unsigned i = 0; fv && i < fv->nr; i++) {
            if (!fv->ranges[i].mr->dirty_log_mask) {
                continue;
            }
            for (GList *l = as->listeners; l; l = l->next) {
                call_log_sync(l->data, &fv->ranges[i]);
            }
        }
    }
}

void memory_dirty_notifier_register(MemoryDirtyNotifier *n)
{
    dirty_notifiers = g_list_append(dirty_notifiers, n);
}

void memory_dirty_notifier_unregister(MemoryDirtyNotifier *n)
{
    dirty_notifiers = g_list_remove(dirty_notifiers, n);
}

static void notify_code_write(MemoryRegion *mr, uint64_t addr, uint64_t len)
{
    for (GList *l = dirty_notifiers; l; l = l->next) {
        MemoryDirtyNotifier *n = l->data;
        if (n->code_write) {
            n->code_write(n, mr, addr, len);
        }
    }
}

static void notify_dirty_cleared(MemoryRegion *mr, uint64_t first, uint64_t last)
{
    for (GList *l = dirty_notifiers; l; l = l->next) {
        MemoryDirtyNotifier *n = l->data;
        if (n->dirty_cleared) {
            n->dirty_cleared(n, mr, first << PAGE_BITS, (last - first + 1) << PAGE_BITS);
        }
    }
}

/* Pages [first, last] of mr were written; [addr, addr+len) is what the
 * CODE client is told if any of them held decoded code. */
static void mark_dirty(MemoryRegion *mr, uint64_t first, uint64_t last, uint64_t addr,
                       uint64_t len)
{
    if (mr->dirty[DIRTY_MEMORY_CODE] && dirty_notifiers &&
        bitmap_any(mr->dirty[DIRTY_MEMORY_CODE], first, last, false)) {
        notify_code_write(mr, addr, len);
    }
    for (int c = 0; c < DIRTY_MEMORY_NUM; c++) {
        if (mr->dirty[c]) {
            bitmap_set_range(mr->dirty[c], first, last);
        }
    }
}

void memory_region_set_dirty(MemoryRegion *mr, uint64_t addr, uint64_t size)
{
    uint64_t first, last;

    if (!mr->dirty_log_mask || !page_range(mr, addr, size, &first, &last)) {
        return;
    }
    mark_dirty(mr, first, last, addr, MIN(size, mr->size - addr));
}

void memory_region_set_dirty_from_bitmap(MemoryRegion *mr, uint64_t addr,
                                         const unsigned long *bitmap, uint64_t pages)
{
    const unsigned bits = 8 * sizeof(unsigned long);

    if (!mr->dirty_log_mask) {
        return;
    }
    for (uint64_t w = 0; w < (pages + bits - 1) / bits; w++) {
        unsigned long v = bitmap[w];
        if (w == pages / bits) {
            v &= (1UL << (pages % bits)) - 1;       /* bits past `pages` */
        }
        while (v) {
            uint64_t off = addr + ((w * bits + __builtin_ctzl(v)) << PAGE_BITS);
            uint64_t first, last;
            v &= v - 1;
            if (off < addr || !page_range(mr, off, PAGE_SIZE, &first, &last)) {
                break;          /* past the region: the rest is too */
            }
            mark_dirty(mr, first, last, off, MIN(PAGE_SIZE, mr->size - off));
        }
    }
}

bool memory_region_get_dirty(MemoryRegion *mr, uint64_t addr, uint64_t size,
                             DirtyMemoryClient client)
{
    uint64_t first, last;

    g_return_val_if_fail((unsigned)client < DIRTY_MEMORY_NUM, true);
    if (!page_range(mr, addr, size, &first, &last)) {
        return false;
    }
    return !mr->dirty[client] || bitmap_any(mr->dirty[client], first, last, true);
}

bool memory_region_test_and_clear_dirty(MemoryRegion *mr, uint64_t addr, uint64_t size,
                                        DirtyMemoryClient client)
{
    uint64_t first, last;

    g_return_val_if_fail((unsigned)client < DIRTY_MEMORY_NUM, true);
    if (!page_range(mr, addr, size, &first, &last)) {
        return false;
    }
    if (!mr->dirty[client]) {
        return true;
    }
    if (!bitmap_take_range(mr->dirty[client], first, last, NULL)) {
        return false;
    }
    notify_dirty_cleared(mr, first, last);
    return true;
}

DirtyBitmapSnapshot *memory_region_snapshot_and_clear_dirty(MemoryRegion *mr, uint64_t addr,
                                                            uint64_t size,
                                                            DirtyMemoryClient client)
{
    DirtyBitmapSnapshot *snap;
    uint64_t first, last, n;

    g_return_val_if_fail((unsigned)client < DIRTY_MEMORY_NUM, NULL);
    if (!page_range(mr, addr, size, &first, &last)) {
        snap = g_malloc0(sizeof(*snap));
        snap->start = snap->end = addr & ~(PAGE_SIZE - 1);
        return snap;
    }
    n = last - first + 1;
    snap = g_malloc0(sizeof(*snap) + (n + BITS_PER_LONG - 1) / BITS_PER_LONG * sizeof(long));
    snap->start = first << PAGE_BITS;
    snap->end = (last + 1) << PAGE_BITS;
    memory_region_sync_dirty_bitmap(mr);
    if (!mr->dirty[client]) {
        bitmap_set_range(snap->bits, 0, n - 1);
    } else if (bitmap_take_range(mr->dirty[client], first, last, snap->bits)) {
        notify_dirty_cleared(mr, first, last);
    }
    return snap;
}

bool memory_region_snapshot_get_dirty(MemoryRegion *mr, const DirtyBitmapSnapshot *snap,
                                      uint64_t addr, uint64_t size)
{
    uint64_t first, last;

    if (!page_range(mr, addr, size, &first, &last)) {
        return false;
    }
    first = MAX(first, snap->start >> PAGE_BITS);
    last = MIN(last, (snap->end >> PAGE_BITS) - 1);
    if (snap->end == snap->start || first > last) {
        return false;
    }
    first -= snap->start >> PAGE_BITS;
    last -= snap->start >> PAGE_BITS;
    return bitmap_any(snap->bits, first, last, true);
}

void memory_region_snapshot_free(DirtyBitmapSnapshot *snap)
{
    g_free(snap);
}

/* ---- dispatch --------------------------------------------------------- */

static unsigned valid_min(const MemoryRegionOps *ops)
{
    return ops->valid.min_access_size ? ops->valid.min_access_size : 1;
}

static unsigned valid_max(const MemoryRegionOps *ops)
{
    return ops->valid.max_access_size ? ops->valid.max_access_size : 8;
}

static unsigned impl_min(const MemoryRegionOps *ops)
{
    return ops->impl.min_access_size ? ops->impl.min_access_size : 1;
}

static unsigned impl_max(const MemoryRegionOps *ops)
{
    return ops->impl.max_access_size ? ops->impl.max_access_size : 4;
}

static bool io_access_valid(MemoryRegion *mr, uint64_t addr, unsigned size)
{
    const MemoryRegionOps *ops = mr->ops;

    if (!ops || size < valid_min(ops) || size > valid_max(ops)) {
        return false;
    }
    if (!ops->valid.unaligned && (addr & (size - 1))) {
        return false;
    }
    return addr < mr->size && size <= mr->size - addr;
}

static inline uint64_t size_mask(unsigned size)
{
    return size >= 8 ? UINT64_MAX : (1ULL << (size * 8)) - 1;
}

/* One call of the region's callbacks, in a size the callbacks implement. */
static MemTxResult io_unit_read(MemoryRegion *mr, uint64_t addr, unsigned size, uint64_t *val,
                                MemTxAttrs attrs)
{
    const MemoryRegionOps *ops = mr->ops;

    if (ops->read_with_attrs) {
        uint64_t v = 0;
        MemTxResult r = ops->read_with_attrs(mr->opaque, addr, &v, size, attrs);
        *val = r == MEMTX_OK ? v : size_mask(size);
        return r;
    }
    *val = ops->read ? ops->read(mr->opaque, addr, size) : size_mask(size);
    return MEMTX_OK;
}

static MemTxResult io_unit_write(MemoryRegion *mr, uint64_t addr, uint64_t val, unsigned size,
                                 MemTxAttrs attrs)
{
    const MemoryRegionOps *ops = mr->ops;

    if (ops->write_with_attrs) {
        return ops->write_with_attrs(mr->opaque, addr, val, size, attrs);
    }
    if (ops->write) {
        ops->write(mr->opaque, addr, val, size);
    }
    return MEMTX_OK;
}

static MemTxResult io_read(MemoryRegion *mr, uint64_t addr, unsigned size, uint64_t *val,
                           MemTxAttrs attrs)
{
    unsigned lo = impl_min(mr->ops), hi = impl_max(mr->ops);
    MemTxResult r = MEMTX_OK;
    uint64_t v;

    if (size < lo) {
        /* Widen: read the containing aligned unit and extract. */
        uint64_t base = addr & ~(uint64_t)(lo - 1);
        r = io_unit_read(mr, base, lo, &v, attrs);
        *val = (v >> ((addr - base) * 8)) & size_mask(size);
        return r;
    }
    if (size <= hi) {
        r = io_unit_read(mr, addr, size, &v, attrs);
        *val = v & size_mask(size);
        return r;
    }
    *val = 0;
    for (unsigned off = 0; off < size; off += hi) {
        r |= io_unit_read(mr, addr + off, hi, &v, attrs);
        *val |= (v & size_mask(hi)) << (off * 8);
    }
    return r;
}

static MemTxResult io_write(MemoryRegion *mr, uint64_t addr, uint64_t val, unsigned size,
                            MemTxAttrs attrs)
{
    unsigned lo = impl_min(mr->ops), hi = impl_max(mr->ops);
    MemTxResult r = MEMTX_OK;

    val &= size_mask(size);
    if (size < lo) {
        uint64_t base = addr & ~(uint64_t)(lo - 1);
        return io_unit_write(mr, base, val << ((addr - base) * 8), lo, attrs);
    }
    if (size <= hi) {
        return io_unit_write(mr, addr, val, size, attrs);
    }
    for (unsigned off = 0; off < size; off += hi) {
        r |= io_unit_write(mr, addr + off, (val >> (off * 8)) & size_mask(hi), hi, attrs);
    }
    return r;
}

/* A device access with the region's rules: ioeventfds, then validity. */
static MemTxResult io_dispatch_read(MemoryRegion *mr, uint64_t off, unsigned size,
                                    uint64_t *val, MemTxAttrs attrs)
{
    if (!io_access_valid(mr, off, size)) {
        *val = size_mask(size);
        return MEMTX_ERROR;
    }
    return io_read(mr, off, size, val, attrs);
}

static MemTxResult io_dispatch_write(MemoryRegion *mr, uint64_t off, uint64_t val,
                                     unsigned size, MemTxAttrs attrs)
{
    if (ioeventfd_dispatch(mr, off, val, size)) {
        return MEMTX_OK;
    }
    if (!io_access_valid(mr, off, size)) {
        return MEMTX_ERROR;
    }
    return io_write(mr, off, val, size, attrs);
}

static void ram_note_write(MemoryRegion *mr, uint64_t off, uint64_t len)
{
    if (mr->dirty_log_mask) {
        memory_region_set_dirty(mr, off, len);
    }
}

/*
 * One access of a vCPU (port I/O, MMIO exit).  An access that starts in a
 * device region goes to that region whole, even where a higher-priority
 * region hides part of it in the flat view (the PCI config address dword
 * at 0xcf8 under the byte-wide reset control register at 0xcf9).  One
 * that starts where nothing is mapped is dropped whole.  One that starts
 * in RAM and runs past it is done byte by byte.
 */
static const MemoryRegionSection *access_section(AddressSpace *as, uint64_t addr,
                                                 unsigned size, uint64_t *off, bool *whole)
{
    const MemoryRegionSection *s = address_space_lookup(as, addr);

    *whole = false;
    if (!s) {
        return NULL;
    }
    *off = s->offset_within_region + (addr - s->offset_within_address_space);
    if (size <= s->size - (addr - s->offset_within_address_space)) {
        *whole = true;
    } else if (s->mr->type == MR_IO && size <= s->mr->size && *off <= s->mr->size - size) {
        *whole = true;
    }
    return s;
}

MemTxResult address_space_ld_attrs(AddressSpace *as, uint64_t addr, uint64_t *val,
                                   unsigned size, MemTxAttrs attrs)
{
    uint64_t off;
    bool whole;
    const MemoryRegionSection *s = access_section(as, addr, size, &off, &whole);

    if (!s) {
        *val = size_mask(size);
        return MEMTX_DECODE_ERROR;
    }
    if (!whole) {
        uint8_t buf[8];
        MemTxResult r = address_space_read_attrs(as, addr, attrs, buf, size);
        uint64_t v = 0;
        for (unsigned i = 0; i < size; i++) {
            v |= (uint64_t)buf[i] << (8 * i);
        }
        *val = v;
        return r;
    }
    if (s->mr->type == MR_IO) {
        return io_dispatch_read(s->mr, off, size, val, attrs);
    }
    uint64_t v = 0;
    memcpy(&v, s->mr->ram + off, size);
    *val = v;
    return MEMTX_OK;
}

MemTxResult address_space_st_attrs(AddressSpace *as, uint64_t addr, uint64_t val,
                                   unsigned size, MemTxAttrs attrs)
{
    uint64_t off;
    bool whole;
    const MemoryRegionSection *s = access_section(as, addr, size, &off, &whole);

    if (!s) {
        return MEMTX_DECODE_ERROR;
    }
    if (!whole) {
        uint8_t buf[8];
        for (unsigned i = 0; i < size; i++) {
            buf[i] = val >> (8 * i);
        }
        return address_space_write_attrs(as, addr, attrs, buf, size);
    }
    if (s->mr->type == MR_IO || is_rom_device(s->mr)) {
        return io_dispatch_write(s->mr, off, val, size, attrs);
    }
    if (s->readonly) {
        return MEMTX_OK;        /* ROM: writes are ignored */
    }
    memcpy(s->mr->ram + off, &val, size);
    ram_note_write(s->mr, off, size);
    return MEMTX_OK;
}

MemTxResult address_space_ld(AddressSpace *as, uint64_t addr, uint64_t *val, unsigned size)
{
    return address_space_ld_attrs(as, addr, val, size, MEMTXATTRS_UNSPECIFIED);
}

MemTxResult address_space_st(AddressSpace *as, uint64_t addr, uint64_t val, unsigned size)
{
    return address_space_st_attrs(as, addr, val, size, MEMTXATTRS_UNSPECIFIED);
}

/* Largest naturally aligned access of at most len bytes the region allows. */
static unsigned io_chunk(MemoryRegion *mr, uint64_t off, uint64_t len)
{
    unsigned max = MIN(valid_max(mr->ops), 8);
    unsigned sz = 1;

    while (sz * 2 <= max && sz * 2 <= len && !(off & (sz * 2 - 1))) {
        sz *= 2;
    }
    return MAX(sz, valid_min(mr->ops));
}

/* One device-sized piece of a buffer access; returns the bytes done. */
static uint64_t as_rw_io(MemoryRegion *mr, uint64_t off, uint8_t *buf, uint64_t n,
                         bool is_write, MemTxAttrs attrs, MemTxResult *result)
{
    unsigned sz = io_chunk(mr, off, n);
    uint64_t v = 0;

    if (sz > n) {
        sz = (unsigned)n;
    }
    if (is_write) {
        memcpy(&v, buf, sz);
        *result |= io_dispatch_write(mr, off, v, sz, attrs);
    } else {
        *result |= io_dispatch_read(mr, off, sz, &v, attrs);
        memcpy(buf, &v, sz);
    }
    return sz;
}

/*
 * A buffer access walks the flat view range by range: a hole is skipped in
 * one step, RAM is one memcpy per range, a device gets one call per
 * access-sized piece.  The view is held (referenced) for the walk; a device
 * callback that changes the address space makes the walk continue in the
 * new view at the next address.
 */
static MemTxResult as_rw(AddressSpace *as, uint64_t addr, MemTxAttrs attrs, uint8_t *buf,
                         uint64_t len, bool is_write, bool rom_ok)
{
    MemTxResult result = MEMTX_OK;
    FlatView *fv = flat_view_ref(as->current_map);
    unsigned i = fv ? flat_view_find(fv, addr) : 0;

    while (len > 0) {
        const MemoryRegionSection *s;
        uint64_t n, start = addr;

        dispatch_steps++;
        if (fv != as->current_map) {
            flat_view_unref(fv);
            fv = flat_view_ref(as->current_map);
            i = fv ? flat_view_find(fv, addr) : 0;
        }
        if (!fv || i >= fv->nr || fv->ranges[i].offset_within_address_space > addr) {
            /* A hole: up to the next range, the top of the space or the end. */
            n = len;
            if (fv && i < fv->nr) {
                n = MIN(len, fv->ranges[i].offset_within_address_space - addr);
            } else if (addr && len - 1 > UINT64_MAX - addr) {
                n = 0 - addr;
            }
            if (!is_write) {
                memset(buf, 0xff, n);
            }
            result |= MEMTX_DECODE_ERROR;
        } else {
            s = &fv->ranges[i];
            uint64_t in = addr - s->offset_within_address_space;
            uint64_t off = s->offset_within_region + in;
            n = MIN(len, s->size - in);
            if (s->mr->type == MR_IO || (is_write && !rom_ok && is_rom_device(s->mr))) {
                n = as_rw_io(s->mr, off, buf, n, is_write, attrs, &result);
            } else if (is_write) {
                if (!s->readonly || rom_ok) {
                    memcpy(s->mr->ram + off, buf, n);
                    ram_note_write(s->mr, off, n);
                }
            } else {
                memcpy(buf, s->mr->ram + off, n);
            }
            if (in + n == s->size) {
                i++;
            }
        }
        buf += n;
        addr += n;
        len -= n;
        if (addr < start) {
            i = fv ? flat_view_find(fv, addr) : 0;    /* wrapped past 2^64 */
        }
    }
    flat_view_unref(fv);
    return result;
}

MemTxResult address_space_rw_attrs(AddressSpace *as, uint64_t addr, MemTxAttrs attrs,
                                   void *buf, uint64_t len, bool is_write)
{
    return as_rw(as, addr, attrs, buf, len, is_write, false);
}

MemTxResult address_space_read_attrs(AddressSpace *as, uint64_t addr, MemTxAttrs attrs,
                                     void *buf, uint64_t len)
{
    return as_rw(as, addr, attrs, buf, len, false, false);
}

MemTxResult address_space_write_attrs(AddressSpace *as, uint64_t addr, MemTxAttrs attrs,
                                      const void *buf, uint64_t len)
{
    return as_rw(as, addr, attrs, (uint8_t *)buf, len, true, false);
}

MemTxResult address_space_rw(AddressSpace *as, uint64_t addr, void *buf, uint64_t len,
                             bool is_write)
{
    return as_rw(as, addr, MEMTXATTRS_UNSPECIFIED, buf, len, is_write, false);
}

MemTxResult address_space_read(AddressSpace *as, uint64_t addr, void *buf, uint64_t len)
{
    return as_rw(as, addr, MEMTXATTRS_UNSPECIFIED, buf, len, false, false);
}

MemTxResult address_space_write(AddressSpace *as, uint64_t addr, const void *buf, uint64_t len)
{
    return as_rw(as, addr, MEMTXATTRS_UNSPECIFIED, (uint8_t *)buf, len, true, false);
}

MemTxResult address_space_write_rom(AddressSpace *as, uint64_t addr, const void *buf,
                                    uint64_t len)
{
    return as_rw(as, addr, MEMTXATTRS_UNSPECIFIED, (uint8_t *)buf, len, true, true);
}

uint64_t memory_debug_dispatch_steps(void)
{
    return dispatch_steps;
}

bool address_space_is_ram(AddressSpace *as, uint64_t addr, uint64_t len)
{
    while (len) {
        MemoryTranslation t;
        uint64_t run;

        if (address_space_translate(as, addr, &t) != MEMORY_TRANSLATION_RAM) {
            return false;
        }
        run = t.start + t.size - addr;
        if (run >= len) {
            return true;
        }
        addr += run;
        len -= run;
    }
    return true;
}

void *address_space_get_ram_ptr(AddressSpace *as, uint64_t addr, uint64_t len, bool is_write)
{
    const MemoryRegionSection *s = address_space_lookup(as, addr);

    if (!s || s->mr->type == MR_IO || (is_write && s->readonly) ||
        len > s->size - (addr - s->offset_within_address_space)) {
        return NULL;
    }
    uint64_t off = s->offset_within_region + (addr - s->offset_within_address_space);
    if (is_write) {
        ram_note_write(s->mr, off, len);
    }
    return s->mr->ram + off;
}

/* ---- translation for a software TLB ------------------------------------ */

MemoryTranslationKind address_space_translate(AddressSpace *as, uint64_t addr,
                                              MemoryTranslation *t)
{
    FlatView *fv = as->current_map;
    unsigned i = fv ? flat_view_find(fv, addr) : 0;

    memset(t, 0, sizeof(*t));
    t->generation = address_space_generation(as);
    if (!fv || i >= fv->nr || fv->ranges[i].offset_within_address_space > addr) {
        /* The hole between the previous range and the next one. */
        const MemoryRegionSection *prev = fv && i > 0 ? &fv->ranges[i - 1] : NULL;
        t->kind = MEMORY_TRANSLATION_UNMAPPED;
        t->start = prev ? prev->offset_within_address_space + prev->size : 0;
        if (fv && i < fv->nr) {
            t->size = fv->ranges[i].offset_within_address_space - t->start;
        } else {
            t->size = t->start ? 0 - t->start : UINT64_MAX;
        }
        return t->kind;
    }

    const MemoryRegionSection *s = &fv->ranges[i];
    t->mr = s->mr;
    t->offset = s->offset_within_region + (addr - s->offset_within_address_space);
    t->start = s->offset_within_address_space;
    t->size = s->size;
    if (s->mr->type == MR_IO) {
        t->kind = MEMORY_TRANSLATION_MMIO;
    } else {
        t->kind = s->readonly || s->mr->type == MR_ROM ? MEMORY_TRANSLATION_ROM
                                                       : MEMORY_TRANSLATION_RAM;
        t->host = s->mr->ram + t->offset;
    }
    return t->kind;
}

/* ---- dumps ------------------------------------------------------------ */

static const char *type_name(const MemoryRegion *mr)
{
    switch (mr->type) {
    case MR_CONTAINER: return "container";
    case MR_RAM: return mr->readonly ? "rom" : "ram";
    case MR_ROM: return "rom";
    case MR_IO: return "i/o";
    case MR_ALIAS: return "alias";
    }
    return "?";
}

static void dump_tree(GString *out, MemoryRegion *mr, uint64_t base, int level)
{
    uint64_t end = mr->size ? sat_add(base, mr->size - 1) : base;

    g_string_append_printf(out, "%*s%016" G_GINT64_MODIFIER "x-%016" G_GINT64_MODIFIER
                           "x (prio %d, %s): %s%s", level * 2, "", base, end,
                           mr->priority, type_name(mr), mr->name,
                           mr->enabled ? "" : " [disabled]");
    if (mr->type == MR_ALIAS && mr->alias) {
        g_string_append_printf(out, " @%s %016" G_GINT64_MODIFIER "x", mr->alias->name,
                               mr->alias_offset);
    }
    g_string_append_c(out, '\n');
    if (mr->type == MR_CONTAINER) {
        for (guint i = 0; i < mr->subregions->len; i++) {
            MemoryRegion *sub = g_ptr_array_index(mr->subregions, i);
            dump_tree(out, sub, sat_add(base, sub->addr), level + 1);
        }
    }
}

void memory_region_dump_tree(GString *out, MemoryRegion *mr)
{
    dump_tree(out, mr, 0, 0);
}

void address_space_dump_flat(GString *out, AddressSpace *as)
{
    FlatView *fv = as->current_map;

    g_string_append_printf(out, "FlatView for %s:\n", as->name);
    for (unsigned i = 0; fv && i < fv->nr; i++) {
        MemoryRegionSection *s = &fv->ranges[i];
        g_string_append_printf(out, "  %016" G_GINT64_MODIFIER "x-%016" G_GINT64_MODIFIER
                               "x (%s%s): %s @%016" G_GINT64_MODIFIER "x\n",
                               s->offset_within_address_space,
                               s->offset_within_address_space + s->size - 1,
                               type_name(s->mr), s->readonly && s->mr->type == MR_RAM ? ", ro" : "",
                               s->mr->name, s->offset_within_region);
    }
}

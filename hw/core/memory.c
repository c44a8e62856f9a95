/*
 * The memory API: region trees, flat views, listeners, dispatch.
 * See include/hw/memory.h for the model.
 */
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include "hw/memory.h"

#define PAGE_BITS 12
#define PAGE_SIZE (1ULL << PAGE_BITS)

AddressSpace address_space_memory;
AddressSpace address_space_io;
static MemoryRegion system_memory;
static MemoryRegion system_io;

static GList *address_spaces;
static unsigned transaction_depth;
static bool update_pending;
static unsigned add_seq_counter;

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
}

static void memory_update_all(void);

static void memory_region_changed(void)
{
    if (transaction_depth) {
        update_pending = true;
    } else {
        memory_update_all();
    }
}

void memory_region_destroy(MemoryRegion *mr)
{
    if (mr->container) {
        memory_region_del_subregion(mr->container, mr);
    }
    if (mr->subregions) {
        while (mr->subregions->len) {
            memory_region_del_subregion(mr, g_ptr_array_index(mr->subregions, 0));
        }
        g_ptr_array_free(mr->subregions, TRUE);
    }
    if (mr->ram_owned) {
        munmap(mr->ram, mr->size);
    }
    g_free(mr->dirty);
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
    memory_region_changed();
}

void memory_region_clear_coalescing(MemoryRegion *mr)
{
    if (mr->coalesced && mr->coalesced->len) {
        g_array_set_size(mr->coalesced, 0);
        memory_region_changed();
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
    memory_region_changed();
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
            memory_region_changed();
            return;
        }
    }
}

/* A write the region's ioeventfds take: set the notifier, skip the device. */
static bool ioeventfd_dispatch(MemoryRegion *mr, uint64_t off, uint64_t val, unsigned size)
{
    for (guint i = 0; mr->ioeventfds && i < mr->ioeventfds->len; i++) {
        MemoryRegionIoeventfd *fd = &g_array_index(mr->ioeventfds, MemoryRegionIoeventfd, i);
        if (fd->addr == off && fd->size == size &&
            (!fd->match_data || fd->data == (val & size_mask(size)))) {
            event_notifier_set(fd->e);
            return true;
        }
    }
    return false;
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
    g_ptr_array_add(container->subregions, sub);
    g_ptr_array_sort(container->subregions, subregion_cmp);
    memory_region_changed();
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
    memory_region_changed();
}

void memory_region_set_enabled(MemoryRegion *mr, bool enabled)
{
    if (mr->enabled != enabled) {
        mr->enabled = enabled;
        memory_region_changed();
    }
}

void memory_region_set_address(MemoryRegion *mr, uint64_t addr)
{
    if (mr->addr != addr) {
        mr->addr = addr;
        memory_region_changed();
    }
}

void memory_region_set_alias_offset(MemoryRegion *mr, uint64_t offset)
{
    if (mr->alias_offset != offset) {
        mr->alias_offset = offset;
        memory_region_changed();
    }
}

void memory_region_set_readonly(MemoryRegion *mr, bool readonly)
{
    if (mr->readonly != readonly) {
        mr->readonly = readonly;
        memory_region_changed();
    }
}

void memory_region_transaction_begin(void)
{
    transaction_depth++;
}

void memory_region_transaction_commit(void)
{
    g_return_if_fail(transaction_depth > 0);
    if (--transaction_depth == 0 && update_pending) {
        update_pending = false;
        memory_update_all();
    }
}

/* ---- flattening --------------------------------------------------------- */

static inline uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a + b < a ? UINT64_MAX : a + b;
}

#define FR(arr, i) g_array_index((arr), MemoryRegionSection, (i))

/* Fill the gaps of [start, end) left by higher-priority ranges with mr.
 * region_off is the offset within mr that corresponds to start. */
static void flat_insert(GArray *fv, AddressSpace *as, MemoryRegion *mr, uint64_t start,
                        uint64_t end, uint64_t region_off, bool readonly)
{
    uint64_t cur = start;
    guint i = 0;

    while (cur < end) {
        while (i < fv->len && sat_add(FR(fv, i).offset_within_address_space, FR(fv, i).size) <= cur) {
            i++;
        }
        if (i < fv->len && FR(fv, i).offset_within_address_space <= cur) {
            cur = sat_add(FR(fv, i).offset_within_address_space, FR(fv, i).size);
            i++;
            continue;
        }
        uint64_t gap_end = end;
        if (i < fv->len && FR(fv, i).offset_within_address_space < end) {
            gap_end = FR(fv, i).offset_within_address_space;
        }
        MemoryRegionSection s = {
            .mr = mr,
            .as = as,
            .offset_within_region = region_off + (cur - start),
            .offset_within_address_space = cur,
            .size = gap_end - cur,
            .readonly = readonly,
        };
        g_array_insert_val(fv, i, s);
        i++;
        cur = gap_end;
    }
}

/* Render mr whose origin is at absolute address base (which may lie below
 * 0 for an alias that starts inside its target), clipped to [clip_lo, clip_hi). */
typedef __int128 addr128;

static void render(GArray *fv, AddressSpace *as, MemoryRegion *mr, addr128 base,
                   uint64_t clip_lo, uint64_t clip_hi, bool readonly)
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
            render(fv, as, mr->alias, base - (addr128)mr->alias_offset, lo, hi, readonly);
        }
        return;
    case MR_CONTAINER:
        for (guint i = 0; i < mr->subregions->len; i++) {
            MemoryRegion *sub = g_ptr_array_index(mr->subregions, i);
            render(fv, as, sub, base + (addr128)sub->addr, lo, hi, readonly);
        }
        return;
    case MR_RAM:
    case MR_ROM:
    case MR_IO:
        flat_insert(fv, as, mr, (uint64_t)lo, (uint64_t)hi, (uint64_t)(lo - base), readonly);
        return;
    }
}

static bool section_eq(const MemoryRegionSection *a, const MemoryRegionSection *b)
{
    return a->mr == b->mr && a->offset_within_address_space == b->offset_within_address_space &&
           a->size == b->size && a->offset_within_region == b->offset_within_region &&
           a->readonly == b->readonly;
}

static FlatView *generate_flat_view(AddressSpace *as)
{
    GArray *arr = g_array_new(FALSE, FALSE, sizeof(MemoryRegionSection));
    FlatView *fv = g_new0(FlatView, 1);

    if (as->root) {
        render(arr, as, as->root, 0, 0, UINT64_MAX, false);
    }
    /* Merge neighbours that continue the same region. */
    for (guint i = 1; i < arr->len;) {
        MemoryRegionSection *p = &FR(arr, i - 1), *c = &FR(arr, i);
        if (p->mr == c->mr && p->readonly == c->readonly &&
            p->offset_within_address_space + p->size == c->offset_within_address_space &&
            p->offset_within_region + p->size == c->offset_within_region) {
            p->size += c->size;
            g_array_remove_index(arr, i);
        } else {
            i++;
        }
    }
    fv->nr = arr->len;
    fv->ranges = (MemoryRegionSection *)g_array_free(arr, FALSE);
    fv->ref = 1;
    return fv;
}

static bool flat_view_contains(const FlatView *fv, const MemoryRegionSection *s)
{
    for (unsigned i = 0; i < fv->nr; i++) {
        if (section_eq(&fv->ranges[i], s)) {
            return true;
        }
    }
    return false;
}

static void flat_view_free(FlatView *fv)
{
    if (fv) {
        g_free(fv->ranges);
        g_free(fv);
    }
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

static void address_space_update(AddressSpace *as)
{
    FlatView *old = as->current_map, *new = generate_flat_view(as);
    GList *l;

    for (l = as->listeners; l; l = l->next) {
        MemoryListener *ml = l->data;
        if (ml->begin) {
            ml->begin(ml);
        }
    }
    if (old) {
        for (unsigned i = 0; i < old->nr; i++) {
            if (flat_view_contains(new, &old->ranges[i])) {
                continue;
            }
            for (l = as->listeners; l; l = l->next) {
                MemoryListener *ml = l->data;
                if (ml->region_del) {
                    ml->region_del(ml, &old->ranges[i]);
                }
            }
        }
    }
    as->current_map = new;
    for (unsigned i = 0; i < new->nr; i++) {
        if (old && flat_view_contains(old, &new->ranges[i])) {
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
    flat_view_free(old);
}

static void memory_update_all(void)
{
    for (GList *l = address_spaces; l; l = l->next) {
        address_space_update(l->data);
    }
}

/* ---- address spaces and listeners ------------------------------------- */

void address_space_init(AddressSpace *as, MemoryRegion *root, const char *name)
{
    memset(as, 0, sizeof(*as));
    as->name = g_strdup(name);
    as->root = root;
    address_spaces = g_list_append(address_spaces, as);
    address_space_update(as);
}

void address_space_destroy(AddressSpace *as)
{
    address_spaces = g_list_remove(address_spaces, as);
    flat_view_free(as->current_map);
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
        address_space_destroy(&address_space_memory);
        address_space_destroy(&address_space_io);
    }
    memory_region_init(&system_memory, "system", UINT64_MAX);
    memory_region_init(&system_io, "io", 0x10000);
    address_space_init(&address_space_memory, &system_memory, "memory");
    address_space_init(&address_space_io, &system_io, "I/O");
}

const MemoryRegionSection *address_space_lookup(AddressSpace *as, uint64_t addr)
{
    FlatView *fv = as->current_map;
    unsigned lo = 0, hi;

    if (!fv) {
        return NULL;
    }
    hi = fv->nr;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
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

static inline uint64_t dirty_pages(const MemoryRegion *mr)
{
    return (mr->size + PAGE_SIZE - 1) >> PAGE_BITS;
}

static void for_each_section_of(MemoryRegion *mr,
                                void (*fn)(MemoryListener *, MemoryRegionSection *, void *),
                                void *opaque)
{
    for (GList *a = address_spaces; a; a = a->next) {
        AddressSpace *as = a->data;
        FlatView *fv = as->current_map;
        for (unsigned i = 0; fv && i < fv->nr; i++) {
            if (fv->ranges[i].mr != mr) {
                continue;
            }
            for (GList *l = as->listeners; l; l = l->next) {
                fn(l->data, &fv->ranges[i], opaque);
            }
        }
    }
}

static void call_log_start(MemoryListener *l, MemoryRegionSection *s, void *op)
{
    if (l->log_start) {
        l->log_start(l, s);
    }
}

static void call_log_stop(MemoryListener *l, MemoryRegionSection *s, void *op)
{
    if (l->log_stop) {
        l->log_stop(l, s);
    }
}

static void call_log_sync(MemoryListener *l, MemoryRegionSection *s, void *op)
{
    if (l->log_sync) {
        l->log_sync(l, s);
    }
}

void memory_region_set_log(MemoryRegion *mr, bool log, unsigned client)
{
    unsigned old = mr->dirty_log_mask;

    g_return_if_fail(mr->type == MR_RAM || mr->type == MR_ROM);
    if (log) {
        mr->dirty_log_mask |= client;
    } else {
        mr->dirty_log_mask &= ~client;
    }
    if (!old && mr->dirty_log_mask) {
        uint64_t words = (dirty_pages(mr) + 63) / 64;
        g_free(mr->dirty);
        mr->dirty = g_new0(unsigned long, words);
        for_each_section_of(mr, call_log_start, NULL);
    } else if (old && !mr->dirty_log_mask) {
        for_each_section_of(mr, call_log_stop, NULL);
        g_clear_pointer(&mr->dirty, g_free);
    }
}

void memory_region_sync_dirty_bitmap(MemoryRegion *mr)
{
    if (mr->dirty) {
        for_each_section_of(mr, call_log_sync, NULL);
    }
}

#define BITS_PER_LONG (8 * sizeof(unsigned long))

void memory_region_set_dirty(MemoryRegion *mr, uint64_t addr, uint64_t size)
{
    if (!mr->dirty || size == 0 || addr >= mr->size) {
        return;
    }
    uint64_t last = MIN(addr + size - 1, mr->size - 1) >> PAGE_BITS;
    for (uint64_t p = addr >> PAGE_BITS; p <= last; p++) {
        __atomic_fetch_or(&mr->dirty[p / BITS_PER_LONG], 1UL << (p % BITS_PER_LONG),
                          __ATOMIC_RELAXED);
    }
}

static bool dirty_scan(MemoryRegion *mr, uint64_t addr, uint64_t size, bool clear)
{
    bool any = false;

    if (!mr->dirty || size == 0 || addr >= mr->size) {
        return false;
    }
    uint64_t last = MIN(addr + size - 1, mr->size - 1) >> PAGE_BITS;
    for (uint64_t p = addr >> PAGE_BITS; p <= last; p++) {
        unsigned long bit = 1UL << (p % BITS_PER_LONG);
        if (mr->dirty[p / BITS_PER_LONG] & bit) {
            any = true;
            if (clear) {
                __atomic_fetch_and(&mr->dirty[p / BITS_PER_LONG], ~bit, __ATOMIC_RELAXED);
            }
        }
    }
    return any;
}

bool memory_region_get_dirty(MemoryRegion *mr, uint64_t addr, uint64_t size)
{
    return dirty_scan(mr, addr, size, false);
}

bool memory_region_test_and_clear_dirty(MemoryRegion *mr, uint64_t addr, uint64_t size)
{
    return dirty_scan(mr, addr, size, true);
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

static uint64_t io_read(MemoryRegion *mr, uint64_t addr, unsigned size)
{
    const MemoryRegionOps *ops = mr->ops;
    unsigned lo = impl_min(ops), hi = impl_max(ops);
    uint64_t val = 0;

    if (!ops->read) {
        return size_mask(size);
    }
    if (size < lo) {
        /* Widen: read the containing aligned unit and extract. */
        uint64_t base = addr & ~(uint64_t)(lo - 1);
        uint64_t v = ops->read(mr->opaque, base, lo);
        return (v >> ((addr - base) * 8)) & size_mask(size);
    }
    if (size <= hi) {
        return ops->read(mr->opaque, addr, size) & size_mask(size);
    }
    for (unsigned off = 0; off < size; off += hi) {
        val |= (ops->read(mr->opaque, addr + off, hi) & size_mask(hi)) << (off * 8);
    }
    return val;
}

static void io_write(MemoryRegion *mr, uint64_t addr, uint64_t val, unsigned size)
{
    const MemoryRegionOps *ops = mr->ops;
    unsigned lo = impl_min(ops), hi = impl_max(ops);

    if (!ops->write) {
        return;
    }
    val &= size_mask(size);
    if (size < lo) {
        uint64_t base = addr & ~(uint64_t)(lo - 1);
        ops->write(mr->opaque, base, val << ((addr - base) * 8), lo);
        return;
    }
    if (size <= hi) {
        ops->write(mr->opaque, addr, val, size);
        return;
    }
    for (unsigned off = 0; off < size; off += hi) {
        ops->write(mr->opaque, addr + off, (val >> (off * 8)) & size_mask(hi), hi);
    }
}

static void ram_note_write(MemoryRegion *mr, uint64_t off, uint64_t len)
{
    if (mr->dirty) {
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

MemTxResult address_space_ld(AddressSpace *as, uint64_t addr, uint64_t *val, unsigned size)
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
        MemTxResult r = address_space_read(as, addr, buf, size);
        uint64_t v = 0;
        for (unsigned i = 0; i < size; i++) {
            v |= (uint64_t)buf[i] << (8 * i);
        }
        *val = v;
        return r;
    }
    if (s->mr->type == MR_IO) {
        if (!io_access_valid(s->mr, off, size)) {
            *val = size_mask(size);
            return MEMTX_ERROR;
        }
        *val = io_read(s->mr, off, size);
        return MEMTX_OK;
    }
    uint64_t v = 0;
    memcpy(&v, s->mr->ram + off, size);
    *val = v;
    return MEMTX_OK;
}

MemTxResult address_space_st(AddressSpace *as, uint64_t addr, uint64_t val, unsigned size)
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
        return address_space_write(as, addr, buf, size);
    }
    if (s->mr->type == MR_IO) {
        if (ioeventfd_dispatch(s->mr, off, val, size)) {
            return MEMTX_OK;
        }
        if (!io_access_valid(s->mr, off, size)) {
            return MEMTX_ERROR;
        }
        io_write(s->mr, off, val, size);
        return MEMTX_OK;
    }
    if (s->readonly) {
        return MEMTX_OK;        /* ROM: writes are ignored */
    }
    memcpy(s->mr->ram + off, &val, size);
    ram_note_write(s->mr, off, size);
    return MEMTX_OK;
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

static MemTxResult as_rw(AddressSpace *as, uint64_t addr, uint8_t *buf, uint64_t len,
                         bool is_write, bool rom_ok)
{
    MemTxResult result = MEMTX_OK;

    while (len > 0) {
        const MemoryRegionSection *s = address_space_lookup(as, addr);
        uint64_t n;

        if (!s) {
            /* Skip to the next mapped range (or the end). */
            n = 1;
            if (!is_write) {
                *buf = 0xff;
            }
            result |= MEMTX_DECODE_ERROR;
            buf += n;
            addr += n;
            len -= n;
            continue;
        }
        uint64_t off = s->offset_within_region + (addr - s->offset_within_address_space);
        n = MIN(len, s->size - (addr - s->offset_within_address_space));
        if (s->mr->type == MR_IO) {
            unsigned sz = io_chunk(s->mr, off, n);
            if (sz > n) {
                sz = (unsigned)n;
            }
            if (is_write) {
                uint64_t v = 0;
                memcpy(&v, buf, sz);
                if (ioeventfd_dispatch(s->mr, off, v, sz)) {
                    /* taken by an ioeventfd */
                } else if (io_access_valid(s->mr, off, sz)) {
                    io_write(s->mr, off, v, sz);
                } else {
                    result |= MEMTX_ERROR;
                }
            } else {
                uint64_t v = size_mask(sz);
                if (io_access_valid(s->mr, off, sz)) {
                    v = io_read(s->mr, off, sz);
                } else {
                    result |= MEMTX_ERROR;
                }
                memcpy(buf, &v, sz);
            }
            n = sz;
        } else if (is_write) {
            if (!s->readonly || rom_ok) {
                memcpy(s->mr->ram + off, buf, n);
                ram_note_write(s->mr, off, n);
            }
        } else {
            memcpy(buf, s->mr->ram + off, n);
        }
        buf += n;
        addr += n;
        len -= n;
    }
    return result;
}

MemTxResult address_space_rw(AddressSpace *as, uint64_t addr, void *buf, uint64_t len,
                             bool is_write)
{
    return as_rw(as, addr, buf, len, is_write, false);
}

MemTxResult address_space_read(AddressSpace *as, uint64_t addr, void *buf, uint64_t len)
{
    return as_rw(as, addr, buf, len, false, false);
}

MemTxResult address_space_write(AddressSpace *as, uint64_t addr, const void *buf, uint64_t len)
{
    return as_rw(as, addr, (uint8_t *)buf, len, true, false);
}

MemTxResult address_space_write_rom(AddressSpace *as, uint64_t addr, const void *buf,
                                    uint64_t len)
{
    return as_rw(as, addr, (uint8_t *)buf, len, true, true);
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

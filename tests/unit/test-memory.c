/* The memory API (hw/core/memory.c): flat views, listeners, dispatch, dirty logging. */
#include <string.h>
#include <glib.h>
#include "hw/memory.h"

#define KiB 1024ULL
#define GiB (1024ULL * 1024 * 1024)

/* ---- helpers ------------------------------------------------------------ */

static void check_range(AddressSpace *as, unsigned i, uint64_t start, uint64_t size,
                        MemoryRegion *mr, uint64_t off)
{
    FlatView *fv = as->current_map;

    g_assert_nonnull(fv);
    g_assert_cmpuint(i, <, fv->nr);
    g_assert_cmpuint(fv->ranges[i].offset_within_address_space, ==, start);
    g_assert_cmpuint(fv->ranges[i].size, ==, size);
    if (fv->ranges[i].mr != mr) {
        g_error("range %u [%" G_GINT64_MODIFIER "x+%" G_GINT64_MODIFIER "x): expected %s, got %s",
                i, start, size, mr->name, fv->ranges[i].mr->name);
    }
    g_assert_cmpuint(fv->ranges[i].offset_within_region, ==, off);
}

static unsigned nr_ranges(AddressSpace *as)
{
    return as->current_map ? as->current_map->nr : 0;
}

/* A RAM region backed by a static buffer filled with a pattern. */
static uint8_t *new_ram(MemoryRegion *mr, const char *name, uint64_t size, uint8_t seed)
{
    g_assert_true(memory_region_init_ram(mr, name, size, NULL));
    for (uint64_t i = 0; i < size; i++) {
        mr->ram[i] = (uint8_t)(seed + i);
    }
    return mr->ram;
}

/* ---- flat views ----------------------------------------------------------- */

static void test_flat_add_del(void)
{
    MemoryRegion root, a, b;
    AddressSpace as;

    memory_region_init(&root, "root", 0x10000);
    address_space_init(&as, &root, "test");
    g_assert_cmpuint(nr_ranges(&as), ==, 0);
    new_ram(&a, "a", 0x1000, 0);
    new_ram(&b, "b", 0x1000, 0);
    memory_region_add_subregion(&root, 0x2000, &b);
    memory_region_add_subregion(&root, 0x0, &a);
    g_assert_cmpuint(nr_ranges(&as), ==, 2);
    check_range(&as, 0, 0x0, 0x1000, &a, 0);
    check_range(&as, 1, 0x2000, 0x1000, &b, 0);

    memory_region_del_subregion(&root, &a);
    g_assert_cmpuint(nr_ranges(&as), ==, 1);
    check_range(&as, 0, 0x2000, 0x1000, &b, 0);
    g_assert_null(a.container);

    /* A region that sticks out of its container is clipped. */
    memory_region_add_subregion(&root, 0xf800, &a);
    g_assert_cmpuint(nr_ranges(&as), ==, 2);
    check_range(&as, 1, 0xf800, 0x800, &a, 0);

    address_space_destroy(&as);
    memory_region_destroy(&root);
    memory_region_destroy(&a);
    memory_region_destroy(&b);
}

static void test_flat_priorities(void)
{
    MemoryRegion root, low, a, b, c, bg;
    AddressSpace as;

    memory_region_init(&root, "root", 0x10000);
    address_space_init(&as, &root, "test");
    new_ram(&a, "a", 0x4000, 0);
    new_ram(&b, "b", 0x1000, 0);
    new_ram(&c, "c", 0x1000, 0);
    new_ram(&low, "low", 0x10000, 0);
    new_ram(&bg, "bg", 0x4000, 0);

    memory_region_add_subregion(&root, 0, &a);
    memory_region_add_subregion_overlap(&root, 0x1000, &b, 1);
    /* higher priority wins */
    g_assert_cmpuint(nr_ranges(&as), ==, 3);
    check_range(&as, 0, 0x0, 0x1000, &a, 0);
    check_range(&as, 1, 0x1000, 0x1000, &b, 0);
    check_range(&as, 2, 0x2000, 0x2000, &a, 0x2000);

    /* equal priority: the one added later wins */
    memory_region_add_subregion_overlap(&root, 0x1800, &c, 1);
    g_assert_cmpuint(nr_ranges(&as), ==, 4);
    check_range(&as, 0, 0x0, 0x1000, &a, 0);
    check_range(&as, 1, 0x1000, 0x800, &b, 0);
    check_range(&as, 2, 0x1800, 0x1000, &c, 0);
    check_range(&as, 3, 0x2800, 0x1800, &a, 0x2800);

    /* a lower priority region only shows in the gaps */
    memory_region_add_subregion_overlap(&root, 0, &low, -1);
    g_assert_cmpuint(nr_ranges(&as), ==, 5);
    check_range(&as, 4, 0x4000, 0xc000, &low, 0x4000);

    /* equal priority (0): bg added after a hides a, but not the priority-1 b/c */
    memory_region_add_subregion(&root, 0x0, &bg);
    g_assert_cmpuint(nr_ranges(&as), ==, 5);
    check_range(&as, 0, 0x0, 0x1000, &bg, 0);
    check_range(&as, 3, 0x2800, 0x1800, &bg, 0x2800);
    memory_region_del_subregion(&root, &bg);

    /* removal restores what was underneath */
    memory_region_del_subregion(&root, &c);
    g_assert_cmpuint(nr_ranges(&as), ==, 4);
    check_range(&as, 1, 0x1000, 0x1000, &b, 0);
    check_range(&as, 2, 0x2000, 0x2000, &a, 0x2000);
    memory_region_del_subregion(&root, &b);
    g_assert_cmpuint(nr_ranges(&as), ==, 2);
    check_range(&as, 0, 0x0, 0x4000, &a, 0);
    check_range(&as, 1, 0x4000, 0xc000, &low, 0x4000);
    memory_region_del_subregion(&root, &a);
    g_assert_cmpuint(nr_ranges(&as), ==, 1);
    check_range(&as, 0, 0x0, 0x10000, &low, 0);

    address_space_destroy(&as);
    memory_region_destroy(&root);
    memory_region_destroy(&a);
    memory_region_destroy(&b);
    memory_region_destroy(&c);
    memory_region_destroy(&low);
    memory_region_destroy(&bg);
}

static void test_flat_nested(void)
{
    MemoryRegion root, outer, inner, r1, r2, over;
    AddressSpace as;

    memory_region_init(&root, "root", 0x100000);
    memory_region_init(&outer, "outer", 0x10000);
    memory_region_init(&inner, "inner", 0x1000);
    address_space_init(&as, &root, "test");
    new_ram(&r1, "r1", 0x100, 0);
    new_ram(&r2, "r2", 0x2000, 0);
    new_ram(&over, "over", 0x100000, 0);

    memory_region_add_subregion(&inner, 0x100, &r1);
    memory_region_add_subregion(&inner, 0x800, &r2);     /* clipped to 0x800 by inner */
    memory_region_add_subregion(&outer, 0x2000, &inner);
    memory_region_add_subregion(&root, 0x10000, &outer);
    g_assert_cmpuint(nr_ranges(&as), ==, 2);
    check_range(&as, 0, 0x12100, 0x100, &r1, 0);
    check_range(&as, 1, 0x12800, 0x800, &r2, 0);

    /* A container's priority applies to everything inside it. */
    memory_region_add_subregion_overlap(&root, 0, &over, -1);
    g_assert_cmpuint(nr_ranges(&as), ==, 5);
    check_range(&as, 0, 0x0, 0x12100, &over, 0);
    check_range(&as, 1, 0x12100, 0x100, &r1, 0);
    check_range(&as, 2, 0x12200, 0x600, &over, 0x12200);
    check_range(&as, 3, 0x12800, 0x800, &r2, 0);
    check_range(&as, 4, 0x13000, 0xed000, &over, 0x13000);

    /* moving a container moves everything in it */
    memory_region_set_address(&outer, 0x20000);
    check_range(&as, 1, 0x22100, 0x100, &r1, 0);
    check_range(&as, 3, 0x22800, 0x800, &r2, 0);

    /* disabling the container hides its contents */
    memory_region_set_enabled(&outer, false);
    g_assert_cmpuint(nr_ranges(&as), ==, 1);
    check_range(&as, 0, 0, 0x100000, &over, 0);
    memory_region_set_enabled(&outer, true);
    g_assert_cmpuint(nr_ranges(&as), ==, 5);

    address_space_destroy(&as);
    memory_region_destroy(&root);
    memory_region_destroy(&outer);
    memory_region_destroy(&inner);
    memory_region_destroy(&r1);
    memory_region_destroy(&r2);
    memory_region_destroy(&over);
}

static void test_flat_alias(void)
{
    MemoryRegion root, ram, al, alal, cont, cram, cram2, calias;
    AddressSpace as;
    uint8_t buf[4];

    memory_region_init(&root, "root", 0x10000);
    address_space_init(&as, &root, "test");
    new_ram(&ram, "ram", 0x4000, 0);
    for (unsigned i = 0; i < 0x4000; i++) {
        ram.ram[i] = i >> 8;        /* page-ish marker: byte = offset / 256 */
    }

    /* alias [0x1000, 0x3000) of ram at 0x8000 */
    memory_region_init_alias(&al, "al", &ram, 0x1000, 0x2000);
    memory_region_add_subregion(&root, 0x8000, &al);
    g_assert_cmpuint(nr_ranges(&as), ==, 1);
    check_range(&as, 0, 0x8000, 0x2000, &ram, 0x1000);
    g_assert_cmpint(address_space_read(&as, 0x8000, buf, 1), ==, MEMTX_OK);
    g_assert_cmpuint(buf[0], ==, 0x10);
    g_assert_cmpint(address_space_read(&as, 0x9fff, buf, 1), ==, MEMTX_OK);
    g_assert_cmpuint(buf[0], ==, 0x2f);

    /* alias of alias: [0x800, 0x1000) of al => ram [0x1800, 0x2000) */
    memory_region_init_alias(&alal, "alal", &al, 0x800, 0x800);
    memory_region_add_subregion(&root, 0xc000, &alal);
    g_assert_cmpuint(nr_ranges(&as), ==, 2);
    check_range(&as, 1, 0xc000, 0x800, &ram, 0x1800);
    g_assert_cmpint(address_space_read(&as, 0xc000, buf, 1), ==, MEMTX_OK);
    g_assert_cmpuint(buf[0], ==, 0x18);

    /* set_alias_offset moves the window */
    memory_region_set_alias_offset(&al, 0x2000);
    check_range(&as, 0, 0x8000, 0x2000, &ram, 0x2000);
    check_range(&as, 1, 0xc000, 0x800, &ram, 0x2800);

    /* alias of a container, starting inside the target (window [0x200, 0x400)) */
    memory_region_init(&cont, "cont", 0x1000);
    new_ram(&cram, "cram", 0x100, 0);
    new_ram(&cram2, "cram2", 0x100, 0);
    memory_region_add_subregion(&cont, 0x180, &cram);   /* [0x180,0x280): visible 0x200.. */
    memory_region_add_subregion(&cont, 0x300, &cram2);  /* [0x300,0x400): fully visible */
    memory_region_init_alias(&calias, "calias", &cont, 0x200, 0x200);
    memory_region_add_subregion(&root, 0xe000, &calias);
    g_assert_cmpuint(nr_ranges(&as), ==, 4);
    check_range(&as, 2, 0xe000, 0x80, &cram, 0x80);
    check_range(&as, 3, 0xe100, 0x100, &cram2, 0);

    /* disabled target disappears through the alias */
    memory_region_set_enabled(&cram2, false);
    g_assert_cmpuint(nr_ranges(&as), ==, 3);
    memory_region_set_enabled(&cram2, true);
    g_assert_cmpuint(nr_ranges(&as), ==, 4);

    /* disabled alias: as in QEMU, an alias of a disabled region shows nothing
     * either, so alal goes too */
    memory_region_set_enabled(&al, false);
    g_assert_cmpuint(nr_ranges(&as), ==, 2);
    check_range(&as, 0, 0xe000, 0x80, &cram, 0x80);
    memory_region_set_enabled(&al, true);
    g_assert_cmpuint(nr_ranges(&as), ==, 4);

    address_space_destroy(&as);
    memory_region_destroy(&root);
    memory_region_destroy(&calias);
    memory_region_destroy(&cont);
    memory_region_destroy(&cram);
    memory_region_destroy(&cram2);
    memory_region_destroy(&alal);
    memory_region_destroy(&al);
    memory_region_destroy(&ram);
}

static void test_flat_disable_move(void)
{
    MemoryRegion root, a, b;
    AddressSpace as;

    memory_region_init(&root, "root", 0x10000);
    address_space_init(&as, &root, "test");
    new_ram(&a, "a", 0x4000, 0);
    new_ram(&b, "b", 0x1000, 0);
    memory_region_add_subregion(&root, 0, &a);
    memory_region_add_subregion_overlap(&root, 0x1000, &b, 1);
    g_assert_cmpuint(nr_ranges(&as), ==, 3);

    memory_region_set_enabled(&b, false);
    g_assert_cmpuint(nr_ranges(&as), ==, 1);
    check_range(&as, 0, 0, 0x4000, &a, 0);
    memory_region_set_enabled(&b, true);
    check_range(&as, 1, 0x1000, 0x1000, &b, 0);

    memory_region_set_address(&b, 0x3000);
    g_assert_cmpuint(nr_ranges(&as), ==, 2);
    check_range(&as, 0, 0, 0x3000, &a, 0);
    check_range(&as, 1, 0x3000, 0x1000, &b, 0);
    memory_region_set_address(&b, 0x8000);
    g_assert_cmpuint(nr_ranges(&as), ==, 2);
    check_range(&as, 0, 0, 0x4000, &a, 0);
    check_range(&as, 1, 0x8000, 0x1000, &b, 0);

    /* destroy unmaps */
    memory_region_destroy(&b);
    g_assert_cmpuint(nr_ranges(&as), ==, 1);

    address_space_destroy(&as);
    memory_region_destroy(&root);
    memory_region_destroy(&a);
}

/* ---- listeners ------------------------------------------------------------ */

typedef struct CountListener {
    MemoryListener l;
    int begin, commit, add, del, log_start, log_stop, log_sync;
    uint64_t last_add_start, last_del_start;
} CountListener;

static void cl_begin(MemoryListener *l) { ((CountListener *)l)->begin++; }
static void cl_commit(MemoryListener *l) { ((CountListener *)l)->commit++; }
static void cl_add(MemoryListener *l, MemoryRegionSection *s)
{
    ((CountListener *)l)->add++;
    ((CountListener *)l)->last_add_start = s->offset_within_address_space;
}
static void cl_del(MemoryListener *l, MemoryRegionSection *s)
{
    ((CountListener *)l)->del++;
    ((CountListener *)l)->last_del_start = s->offset_within_address_space;
}
static void cl_log_start(MemoryListener *l, MemoryRegionSection *s) { ((CountListener *)l)->log_start++; }
static void cl_log_stop(MemoryListener *l, MemoryRegionSection *s) { ((CountListener *)l)->log_stop++; }
static void cl_log_sync(MemoryListener *l, MemoryRegionSection *s)
{
    ((CountListener *)l)->log_sync++;
    /* pretend the accelerator saw a write to page 3 of the region */
    memory_region_set_dirty(s->mr, 3 * 4096, 1);
}

static void cl_init(CountListener *cl)
{
    memset(cl, 0, sizeof(*cl));
    cl->l.begin = cl_begin;
    cl->l.commit = cl_commit;
    cl->l.region_add = cl_add;
    cl->l.region_del = cl_del;
    cl->l.log_start = cl_log_start;
    cl->l.log_stop = cl_log_stop;
    cl->l.log_sync = cl_log_sync;
}

static void cl_zero(CountListener *cl)
{
    cl->begin = cl->commit = cl->add = cl->del = 0;
    cl->log_start = cl->log_stop = cl->log_sync = 0;
}

static void test_listener_transactions(void)
{
    MemoryRegion root, a, b, c;
    AddressSpace as;
    CountListener cl, late;

    memory_region_init(&root, "root", 0x10000);
    address_space_init(&as, &root, "test");
    cl_init(&cl);
    memory_listener_register(&cl.l, &as);
    g_assert_cmpint(cl.add, ==, 0);
    cl_zero(&cl);
    new_ram(&a, "a", 0x1000, 0);
    new_ram(&b, "b", 0x1000, 0);
    new_ram(&c, "c", 0x1000, 0);

    /* one change, one notification */
    memory_region_add_subregion(&root, 0x0, &a);
    g_assert_cmpint(cl.begin, ==, 1);
    g_assert_cmpint(cl.add, ==, 1);
    g_assert_cmpint(cl.del, ==, 0);
    g_assert_cmpint(cl.commit, ==, 1);
    cl_zero(&cl);

    /* a transaction batches: nothing until the outer commit */
    memory_region_transaction_begin();
    memory_region_add_subregion(&root, 0x2000, &b);
    memory_region_transaction_begin();
    memory_region_add_subregion(&root, 0x4000, &c);
    memory_region_set_address(&a, 0x8000);
    memory_region_transaction_commit();
    g_assert_cmpint(cl.begin + cl.add + cl.del + cl.commit, ==, 0);
    g_assert_cmpuint(nr_ranges(&as), ==, 1);     /* old view still current */
    memory_region_transaction_commit();
    g_assert_cmpint(cl.begin, ==, 1);
    g_assert_cmpint(cl.commit, ==, 1);
    g_assert_cmpint(cl.add, ==, 3);              /* b, c, a at its new place */
    g_assert_cmpint(cl.del, ==, 1);              /* a at its old place */
    g_assert_cmpuint(cl.last_del_start, ==, 0);
    g_assert_cmpuint(nr_ranges(&as), ==, 3);
    cl_zero(&cl);

    /* a transaction that changes nothing visible: no add/del */
    memory_region_transaction_begin();
    memory_region_set_enabled(&b, false);
    memory_region_set_enabled(&b, true);
    memory_region_transaction_commit();
    g_assert_cmpint(cl.add + cl.del, ==, 0);

    /* a late listener gets the current view replayed */
    cl_init(&late);
    memory_listener_register(&late.l, &as);
    g_assert_cmpint(late.add, ==, 3);
    g_assert_cmpint(late.del, ==, 0);
    g_assert_cmpint(late.begin, ==, 1);
    g_assert_cmpint(late.commit, ==, 1);

    /* unregistered listeners hear nothing */
    memory_listener_unregister(&late.l);
    cl_zero(&late);
    cl_zero(&cl);
    memory_region_del_subregion(&root, &c);
    g_assert_cmpint(late.add + late.del + late.begin + late.commit, ==, 0);
    g_assert_cmpint(cl.del, ==, 1);
    g_assert_cmpuint(cl.last_del_start, ==, 0x4000);

    memory_listener_unregister(&cl.l);
    address_space_destroy(&as);
    memory_region_destroy(&root);
    memory_region_destroy(&a);
    memory_region_destroy(&b);
    memory_region_destroy(&c);
}

static void test_listener_misc(void)
{
    MemoryRegion root, cont, a, rom;
    AddressSpace as;
    CountListener cl;
    uint8_t b = 0;

    memory_region_init(&root, "root", 0x10000);
    memory_region_init(&cont, "cont", 0x4000);
    address_space_init(&as, &root, "test");
    new_ram(&a, "a", 0x1000, 0);
    g_assert_true(memory_region_init_rom(&rom, "rom", 0x1000, NULL));
    memory_region_add_subregion(&cont, 0x1000, &a);
    memory_region_add_subregion(&root, 0x4000, &cont);
    memory_region_add_subregion(&root, 0x0, &rom);
    cl_init(&cl);
    memory_listener_register(&cl.l, &as);
    g_assert_cmpint(cl.add, ==, 2);
    g_assert_true(as.current_map->ranges[0].readonly);     /* ROM section is read-only */
    g_assert_false(as.current_map->ranges[1].readonly);
    cl_zero(&cl);

    /* del + re-add at the same place within a transaction: no notification */
    memory_region_transaction_begin();
    memory_region_del_subregion(&cont, &a);
    memory_region_add_subregion(&cont, 0x1000, &a);
    memory_region_transaction_commit();
    g_assert_cmpint(cl.add + cl.del, ==, 0);

    /* readonly change: the section is replaced */
    memory_region_set_readonly(&a, true);
    g_assert_cmpint(cl.del, ==, 1);
    g_assert_cmpint(cl.add, ==, 1);
    g_assert_true(address_space_lookup(&as, 0x5000)->readonly);
    memory_region_set_readonly(&a, false);
    cl_zero(&cl);

    /* zero-length accesses do nothing */
    g_assert_cmpint(address_space_write(&as, 0x5000, &b, 0), ==, MEMTX_OK);
    g_assert_cmpint(address_space_read(&as, 0x9000, &b, 0), ==, MEMTX_OK);

    /* destroying a container unmaps everything in it and detaches the children */
    memory_region_destroy(&cont);
    g_assert_cmpint(cl.del, ==, 1);
    g_assert_null(a.container);
    g_assert_cmpuint(nr_ranges(&as), ==, 1);
    memory_region_add_subregion(&root, 0x8000, &a);   /* reusable */
    check_range(&as, 1, 0x8000, 0x1000, &a, 0);

    memory_listener_unregister(&cl.l);
    address_space_destroy(&as);
    memory_region_destroy(&root);
    memory_region_destroy(&a);
    memory_region_destroy(&rom);
}

/* ---- dispatch ------------------------------------------------------------- */

typedef struct IOLog {
    int n;
    struct { uint64_t addr; unsigned size; uint64_t data; bool write; } call[32];
} IOLog;

static uint64_t io_rd(void *opaque, uint64_t addr, unsigned size)
{
    IOLog *log = opaque;
    uint64_t v = 0;

    g_assert_cmpint(log->n, <, 32);
    log->call[log->n].addr = addr;
    log->call[log->n].size = size;
    log->call[log->n].write = false;
    log->n++;
    /* byte i of the device reads as 0x10 + i */
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)(0x10 + addr + i) << (8 * i);
    }
    return v;
}

static void io_wr(void *opaque, uint64_t addr, uint64_t data, unsigned size)
{
    IOLog *log = opaque;

    g_assert_cmpint(log->n, <, 32);
    log->call[log->n].addr = addr;
    log->call[log->n].size = size;
    log->call[log->n].data = data;
    log->call[log->n].write = true;
    log->n++;
}

static const MemoryRegionOps ops_valid_2_4 = {
    .read = io_rd, .write = io_wr,
    .valid = { .min_access_size = 2, .max_access_size = 4 },
};
static const MemoryRegionOps ops_impl_1 = {
    .read = io_rd, .write = io_wr,
    .valid = { .min_access_size = 1, .max_access_size = 8 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};
static const MemoryRegionOps ops_impl_4 = {
    .read = io_rd, .write = io_wr,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};
static const MemoryRegionOps ops_unaligned = {
    .read = io_rd, .write = io_wr,
    .valid = { .max_access_size = 4, .unaligned = true },
};

static void test_dispatch_io(void)
{
    MemoryRegion root, v24, i1, i4, ua;
    AddressSpace as;
    IOLog lv = { 0 }, l1 = { 0 }, l4 = { 0 }, lu = { 0 };
    uint64_t val;

    memory_region_init(&root, "root", 0x10000);
    address_space_init(&as, &root, "test");
    memory_region_init_io(&v24, &ops_valid_2_4, &lv, "v24", 0x10);
    memory_region_init_io(&i1, &ops_impl_1, &l1, "i1", 0x10);
    memory_region_init_io(&i4, &ops_impl_4, &l4, "i4", 0x10);
    memory_region_init_io(&ua, &ops_unaligned, &lu, "ua", 0x10);
    memory_region_add_subregion(&root, 0x100, &v24);
    memory_region_add_subregion(&root, 0x200, &i1);
    memory_region_add_subregion(&root, 0x300, &i4);
    memory_region_add_subregion(&root, 0x400, &ua);

    /* valid.min 2 / max 4: 1- and 8-byte accesses are refused */
    g_assert_cmpint(address_space_ld(&as, 0x100, &val, 1), !=, MEMTX_OK);
    g_assert_cmphex(val, ==, 0xff);
    g_assert_cmpint(address_space_ld(&as, 0x100, &val, 8), !=, MEMTX_OK);
    g_assert_cmphex(val, ==, UINT64_MAX);
    g_assert_cmpint(address_space_st(&as, 0x100, 0x12, 1), !=, MEMTX_OK);
    g_assert_cmpint(lv.n, ==, 0);
    g_assert_cmpint(address_space_ld(&as, 0x104, &val, 4), ==, MEMTX_OK);
    g_assert_cmphex(val, ==, 0x17161514);
    g_assert_cmpint(lv.n, ==, 1);
    g_assert_cmpuint(lv.call[0].addr, ==, 4);
    g_assert_cmpuint(lv.call[0].size, ==, 4);
    /* unaligned refused (valid.unaligned false) */
    g_assert_cmpint(address_space_ld(&as, 0x102 + 1, &val, 2), !=, MEMTX_OK);
    g_assert_cmphex(val, ==, 0xffff);
    g_assert_cmpint(address_space_ld(&as, 0x102, &val, 4), !=, MEMTX_OK);
    g_assert_cmphex(val, ==, 0xffffffff);
    g_assert_cmpint(lv.n, ==, 1);
    /* past the end of the region */
    g_assert_cmpint(address_space_ld(&as, 0x10c, &val, 4), ==, MEMTX_OK);

    /* impl.max 1: a 4-byte read is 4 byte calls, assembled little-endian */
    g_assert_cmpint(address_space_ld(&as, 0x204, &val, 4), ==, MEMTX_OK);
    g_assert_cmphex(val, ==, 0x17161514);
    g_assert_cmpint(l1.n, ==, 4);
    for (int i = 0; i < 4; i++) {
        g_assert_cmpuint(l1.call[i].addr, ==, 4 + i);
        g_assert_cmpuint(l1.call[i].size, ==, 1);
        g_assert_false(l1.call[i].write);
    }
    l1.n = 0;
    g_assert_cmpint(address_space_st(&as, 0x208, 0x44332211, 4), ==, MEMTX_OK);
    g_assert_cmpint(l1.n, ==, 4);
    for (int i = 0; i < 4; i++) {
        g_assert_cmpuint(l1.call[i].addr, ==, 8 + i);
        g_assert_cmphex(l1.call[i].data, ==, 0x11 * (i + 1));
        g_assert_true(l1.call[i].write);
    }
    l1.n = 0;
    g_assert_cmpint(address_space_ld(&as, 0x208, &val, 8), ==, MEMTX_OK);
    g_assert_cmphex(val, ==, 0x1f1e1d1c1b1a1918ULL);
    g_assert_cmpint(l1.n, ==, 8);

    /* impl.min 4: a byte read is widened to the containing dword */
    g_assert_cmpint(address_space_ld(&as, 0x306, &val, 1), ==, MEMTX_OK);
    g_assert_cmphex(val, ==, 0x16);
    g_assert_cmpint(l4.n, ==, 1);
    g_assert_cmpuint(l4.call[0].addr, ==, 4);
    g_assert_cmpuint(l4.call[0].size, ==, 4);
    g_assert_cmpint(address_space_ld(&as, 0x302, &val, 2), ==, MEMTX_OK);
    g_assert_cmphex(val, ==, 0x1312);
    g_assert_cmpuint(l4.call[1].addr, ==, 0);
    /* a narrow write is extended with zeros at the right shift */
    g_assert_cmpint(address_space_st(&as, 0x305, 0xab, 1), ==, MEMTX_OK);
    g_assert_cmpint(l4.n, ==, 3);
    g_assert_cmpuint(l4.call[2].addr, ==, 4);
    g_assert_cmpuint(l4.call[2].size, ==, 4);
    g_assert_cmphex(l4.call[2].data, ==, 0xab00);

    /* unaligned allowed when valid.unaligned */
    g_assert_cmpint(address_space_ld(&as, 0x401, &val, 2), ==, MEMTX_OK);
    g_assert_cmphex(val, ==, 0x1211);
    g_assert_cmpint(lu.n, ==, 1);

    /* address_space_read on IO follows the same rules */
    {
        uint8_t buf[4];
        l1.n = 0;
        g_assert_cmpint(address_space_read(&as, 0x200, buf, 4), ==, MEMTX_OK);
        g_assert_cmphex(buf[0] | buf[1] << 8 | buf[2] << 16 | (uint32_t)buf[3] << 24, ==,
                        0x13121110);
        g_assert_cmpint(l1.n, ==, 4);
        lv.n = 0;
        memset(buf, 0, sizeof(buf));
        g_assert_cmpint(address_space_read(&as, 0x100, buf, 1), ==, MEMTX_ERROR);
        g_assert_cmphex(buf[0], ==, 0xff);
        g_assert_cmpint(lv.n, ==, 0);
    }

    address_space_destroy(&as);
    memory_region_destroy(&root);
    memory_region_destroy(&v24);
    memory_region_destroy(&i1);
    memory_region_destroy(&i4);
    memory_region_destroy(&ua);
}

static void test_dispatch_unmapped(void)
{
    MemoryRegion root, ram;
    AddressSpace as;
    uint8_t buf[8];
    uint64_t val = 0;

    memory_region_init(&root, "root", 0x10000);
    address_space_init(&as, &root, "test");
    new_ram(&ram, "ram", 0x1000, 0);
    memory_region_add_subregion(&root, 0x1000, &ram);

    memset(buf, 0, sizeof(buf));
    g_assert_cmpint(address_space_read(&as, 0x8000, buf, 8), ==, MEMTX_DECODE_ERROR);
    for (int i = 0; i < 8; i++) {
        g_assert_cmphex(buf[i], ==, 0xff);
    }
    g_assert_cmpint(address_space_ld(&as, 0x8000, &val, 4), ==, MEMTX_DECODE_ERROR);
    g_assert_cmphex(val, ==, 0xffffffff);
    g_assert_cmpint(address_space_ld(&as, 0x8000, &val, 8), ==, MEMTX_DECODE_ERROR);
    g_assert_cmphex(val, ==, UINT64_MAX);
    g_assert_cmpint(address_space_write(&as, 0x8000, buf, 8), ==, MEMTX_DECODE_ERROR);
    g_assert_cmpint(address_space_st(&as, 0x8000, 1, 2), ==, MEMTX_DECODE_ERROR);
    /* past the end of an address space's root */
    g_assert_cmpint(address_space_ld(&as, 0x20000, &val, 1), ==, MEMTX_DECODE_ERROR);
    g_assert_cmphex(val, ==, 0xff);

    /* half mapped: the mapped part reads, the rest is 0xff */
    memset(buf, 0, sizeof(buf));
    g_assert_cmpint(address_space_read(&as, 0x1ffc, buf, 8), ==, MEMTX_DECODE_ERROR);
    g_assert_cmphex(buf[0], ==, 0xfc);
    g_assert_cmphex(buf[3], ==, 0xff);  /* ram byte 0xfff */
    g_assert_cmphex(buf[4], ==, 0xff);
    g_assert_cmphex(buf[7], ==, 0xff);
    /* A single (vCPU) access that starts unmapped is unmapped as a whole. */
    g_assert_cmpint(address_space_ld(&as, 0xffe, &val, 4), ==, MEMTX_DECODE_ERROR);
    g_assert_cmphex(val, ==, 0xffffffff);

    address_space_destroy(&as);
    memory_region_destroy(&root);
    memory_region_destroy(&ram);
}

static void test_ram_rom(void)
{
    MemoryRegion root, ram, rom;
    AddressSpace as;
    uint8_t buf[4] = { 1, 2, 3, 4 }, out[4];
    uint64_t val;
    g_autoptr(GError) err = NULL;

    memory_region_init(&root, "root", 0x10000);
    address_space_init(&as, &root, "test");
    g_assert_true(memory_region_init_ram(&ram, "ram", 0x1000, &err));
    g_assert_true(memory_region_init_rom(&rom, "rom", 0x1000, &err));
    g_assert_cmpuint(ram.ram[5], ==, 0);    /* fresh RAM is zeroed */
    memory_region_add_subregion(&root, 0x0, &ram);
    memory_region_add_subregion(&root, 0x1000, &rom);

    g_assert_cmpint(address_space_write(&as, 0x10, buf, 4), ==, MEMTX_OK);
    g_assert_cmpmem(ram.ram + 0x10, 4, buf, 4);
    g_assert_cmpint(address_space_read(&as, 0x10, out, 4), ==, MEMTX_OK);
    g_assert_cmpmem(out, 4, buf, 4);
    g_assert_cmpint(address_space_ld(&as, 0x10, &val, 4), ==, MEMTX_OK);
    g_assert_cmphex(val, ==, 0x04030201);
    g_assert_cmpint(address_space_st(&as, 0x12, 0xbeef, 2), ==, MEMTX_OK);
    g_assert_cmphex(ram.ram[0x12], ==, 0xef);
    g_assert_cmphex(ram.ram[0x13], ==, 0xbe);
    g_assert_cmpint(address_space_ld(&as, 0x10, &val, 8), ==, MEMTX_OK);
    g_assert_cmphex(val, ==, 0xbeef0201);

    /* ROM ignores writes ... */
    g_assert_cmpint(address_space_write(&as, 0x1010, buf, 4), ==, MEMTX_OK);
    g_assert_cmpuint(rom.ram[0x10], ==, 0);
    address_space_st(&as, 0x1010, 0xffffffff, 4);
    g_assert_cmpuint(rom.ram[0x10], ==, 0);
    /* ... but the loader can write it */
    g_assert_cmpint(address_space_write_rom(&as, 0x1010, buf, 4), ==, MEMTX_OK);
    g_assert_cmpmem(rom.ram + 0x10, 4, buf, 4);
    g_assert_cmpint(address_space_ld(&as, 0x1010, &val, 4), ==, MEMTX_OK);
    g_assert_cmphex(val, ==, 0x04030201);

    /* read-only RAM acts like ROM */
    memory_region_set_readonly(&ram, true);
    address_space_write(&as, 0x20, buf, 4);
    g_assert_cmpuint(ram.ram[0x20], ==, 0);
    g_assert_null(address_space_get_ram_ptr(&as, 0x20, 4, true));
    memory_region_set_readonly(&ram, false);
    address_space_write(&as, 0x20, buf, 4);
    g_assert_cmpuint(ram.ram[0x20], ==, 1);

    /* a write_rom that spans RAM and ROM */
    uint8_t big[8] = { 9, 9, 9, 9, 8, 8, 8, 8 };
    g_assert_cmpint(address_space_write_rom(&as, 0xffc, big, 8), ==, MEMTX_OK);
    g_assert_cmpuint(ram.ram[0xfff], ==, 9);
    g_assert_cmpuint(rom.ram[0], ==, 8);
    g_assert_cmpuint(rom.ram[3], ==, 8);

    address_space_destroy(&as);
    memory_region_destroy(&root);
    memory_region_destroy(&ram);
    memory_region_destroy(&rom);
}

static void test_cross_ranges(void)
{
    MemoryRegion root, ram, io;
    AddressSpace as;
    IOLog log = { 0 };
    uint8_t buf[8];
    uint64_t val;

    memory_region_init(&root, "root", 0x10000);
    address_space_init(&as, &root, "test");
    new_ram(&ram, "ram", 0x1000, 0);
    memory_region_init_io(&io, &ops_impl_1, &log, "io", 0x10);
    memory_region_add_subregion(&root, 0x0, &ram);
    memory_region_add_subregion(&root, 0x1000, &io);

    /* read: 4 bytes of RAM (0xfc..0xff) then 4 bytes of IO (0x10..0x13) */
    g_assert_cmpint(address_space_read(&as, 0xffc, buf, 8), ==, MEMTX_OK);
    g_assert_cmphex(buf[0], ==, 0xfc);
    g_assert_cmphex(buf[3], ==, 0xff);
    g_assert_cmphex(buf[4], ==, 0x10);
    g_assert_cmphex(buf[7], ==, 0x13);
    g_assert_cmpint(log.n, ==, 4);
    log.n = 0;

    /* one ld that straddles the boundary */
    g_assert_cmpint(address_space_ld(&as, 0xffe, &val, 4), ==, MEMTX_OK);
    g_assert_cmphex(val, ==, 0x1110fffe);
    log.n = 0;

    /* write across: RAM bytes land in RAM, the rest goes to the device */
    uint8_t w[4] = { 0xa1, 0xa2, 0xa3, 0xa4 };
    g_assert_cmpint(address_space_write(&as, 0xffe, w, 4), ==, MEMTX_OK);
    g_assert_cmphex(ram.ram[0xffe], ==, 0xa1);
    g_assert_cmphex(ram.ram[0xfff], ==, 0xa2);
    g_assert_cmpint(log.n, ==, 2);
    g_assert_cmpuint(log.call[0].addr, ==, 0);
    g_assert_cmphex(log.call[0].data, ==, 0xa3);
    g_assert_cmpuint(log.call[1].addr, ==, 1);
    g_assert_cmphex(log.call[1].data, ==, 0xa4);
    log.n = 0;
    g_assert_cmpint(address_space_st(&as, 0xfff, 0xc3c2c1, 3 + 1), ==, MEMTX_OK);
    g_assert_cmphex(ram.ram[0xfff], ==, 0xc1);
    g_assert_cmpint(log.n, ==, 3);

    /* host pointers: only inside one RAM range */
    g_assert_true(address_space_get_ram_ptr(&as, 0x10, 0x10, false) == ram.ram + 0x10);
    g_assert_true(address_space_get_ram_ptr(&as, 0x0, 0x1000, true) == ram.ram);
    g_assert_null(address_space_get_ram_ptr(&as, 0xff0, 0x20, false));
    g_assert_null(address_space_get_ram_ptr(&as, 0x1000, 1, false));
    g_assert_null(address_space_get_ram_ptr(&as, 0x8000, 1, false));
    /* is_ram: the whole range, which may not run into the device */
    g_assert_true(address_space_is_ram(&as, 0x0, 0x1000));
    g_assert_true(address_space_is_ram(&as, 0xfff, 1));
    g_assert_true(address_space_is_ram(&as, 0x1000, 0));
    g_assert_false(address_space_is_ram(&as, 0xff0, 0x20));
    g_assert_false(address_space_is_ram(&as, 0x1000, 1));
    g_assert_false(address_space_is_ram(&as, 0x8000, 1));

    address_space_destroy(&as);
    memory_region_destroy(&root);
    memory_region_destroy(&ram);
    memory_region_destroy(&io);
}

#define MIG DIRTY_MEMORY_MIGRATION
#define VGA DIRTY_MEMORY_VGA
#define CODE DIRTY_MEMORY_CODE

static void test_dirty_log(void)
{
    MemoryRegion root, ram;
    AddressSpace as;
    CountListener cl;
    uint8_t b = 1;

    memory_region_init(&root, "root", 0x100000);
    address_space_init(&as, &root, "test");
    g_assert_true(memory_region_init_ram(&ram, "ram", 64 * 4096 + 100, NULL));
    memory_region_add_subregion(&root, 0x10000, &ram);
    cl_init(&cl);
    memory_listener_register(&cl.l, &as);

    /* not logging: no bitmap, every page counts as dirty and stays so */
    address_space_write(&as, 0x10000, &b, 1);
    g_assert_null(ram.dirty[MIG]);
    g_assert_true(memory_region_get_dirty(&ram, 5 * 4096, 1, MIG));
    g_assert_true(memory_region_test_and_clear_dirty(&ram, 5 * 4096, 1, MIG));
    g_assert_true(memory_region_get_dirty(&ram, 5 * 4096, 1, MIG));
    g_assert_false(memory_region_page_clean(&ram, 5 * 4096, MIG));

    /* a client that starts logging finds everything dirty */
    memory_region_set_log(&ram, true, MIG);
    g_assert_cmpint(cl.log_start, ==, 1);
    g_assert_true(memory_region_get_dirty(&ram, 64 * 4096, 1, MIG));
    g_assert_true(memory_region_test_and_clear_dirty(&ram, 0, ram.size, MIG));
    g_assert_false(memory_region_get_dirty(&ram, 0, ram.size, MIG));
    g_assert_true(memory_region_page_clean(&ram, 7 * 4096, MIG));

    address_space_write(&as, 0x10000 + 2 * 4096 + 5, &b, 1);
    g_assert_true(memory_region_get_dirty(&ram, 2 * 4096, 4096, MIG));
    g_assert_false(memory_region_get_dirty(&ram, 1 * 4096, 4096, MIG));
    g_assert_false(memory_region_get_dirty(&ram, 3 * 4096, 4096, MIG));
    g_assert_false(memory_region_page_clean(&ram, 2 * 4096 + 100, MIG));
    /* a write across a page boundary marks both */
    uint8_t two[2] = { 1, 2 };
    address_space_write(&as, 0x10000 + 6 * 4096 - 1, two, 2);
    g_assert_true(memory_region_get_dirty(&ram, 5 * 4096, 1, MIG));
    g_assert_true(memory_region_get_dirty(&ram, 6 * 4096, 1, MIG));
    /* st, and host pointers handed out for writing */
    address_space_st(&as, 0x10000 + 10 * 4096, 7, 4);
    g_assert_true(memory_region_get_dirty(&ram, 10 * 4096, 1, MIG));
    g_assert_nonnull(address_space_get_ram_ptr(&as, 0x10000 + 20 * 4096, 8, true));
    g_assert_true(memory_region_get_dirty(&ram, 20 * 4096, 1, MIG));
    g_assert_nonnull(address_space_get_ram_ptr(&as, 0x10000 + 21 * 4096, 8, false));
    g_assert_false(memory_region_get_dirty(&ram, 21 * 4096, 1, MIG));
    /* the partial last page */
    address_space_write(&as, 0x10000 + 64 * 4096 + 99, &b, 1);
    g_assert_true(memory_region_get_dirty(&ram, 64 * 4096, 100, MIG));
    /* ranges past the end are clipped, ranges beyond it ignored */
    memory_region_set_dirty(&ram, ram.size, 4096);
    memory_region_set_dirty(&ram, 30 * 4096, UINT64_MAX);
    g_assert_true(memory_region_get_dirty(&ram, 40 * 4096, 1, MIG));
    g_assert_false(memory_region_get_dirty(&ram, ram.size, 1, MIG));

    /* test and clear */
    g_assert_true(memory_region_test_and_clear_dirty(&ram, 2 * 4096, 4096, MIG));
    g_assert_false(memory_region_test_and_clear_dirty(&ram, 2 * 4096, 4096, MIG));
    g_assert_true(memory_region_test_and_clear_dirty(&ram, 0, ram.size, MIG));
    g_assert_false(memory_region_get_dirty(&ram, 0, ram.size, MIG));
    g_assert_false(memory_region_test_and_clear_dirty(&ram, 0, 0, MIG));

    /* sync pulls bits from listeners */
    memory_region_sync_dirty_bitmap(&ram);
    g_assert_cmpint(cl.log_sync, ==, 1);
    g_assert_true(memory_region_get_dirty(&ram, 3 * 4096, 1, MIG));

    /* a second client keeps logging on; the first one's bitmap goes */
    memory_region_set_log(&ram, true, VGA);
    memory_region_set_log(&ram, false, MIG);
    g_assert_cmpint(cl.log_start, ==, 1);
    g_assert_cmpint(cl.log_stop, ==, 0);
    g_assert_null(ram.dirty[MIG]);
    g_assert_nonnull(ram.dirty[VGA]);
    memory_region_set_log(&ram, false, VGA);
    g_assert_cmpint(cl.log_stop, ==, 1);
    g_assert_cmpuint(ram.dirty_log_mask, ==, 0);
    /* no client: a sync asks nobody */
    memory_region_sync_dirty_bitmap(&ram);
    g_assert_cmpint(cl.log_sync, ==, 1);

    memory_listener_unregister(&cl.l);
    address_space_destroy(&as);
    memory_region_destroy(&root);
    memory_region_destroy(&ram);
}

/* Clients are independent: each has its own bits, a write sets them all. */
static void test_dirty_clients(void)
{
    MemoryRegion root, ram;
    AddressSpace as;
    uint8_t b = 1;

    memory_region_init(&root, "root", 0x100000);
    address_space_init(&as, &root, "test");
    g_assert_true(memory_region_init_ram(&ram, "ram", 16 * 4096, NULL));
    memory_region_add_subregion(&root, 0, &ram);
    memory_region_set_log(&ram, true, VGA);
    memory_region_set_log(&ram, true, CODE);
    memory_region_set_log(&ram, true, MIG);
    g_assert_cmpuint(ram.dirty_log_mask, ==, 7);
    for (int c = 0; c < DIRTY_MEMORY_NUM; c++) {
        g_assert_true(memory_region_test_and_clear_dirty(&ram, 0, ram.size, c));
    }

    /* one write, every client sees it */
    address_space_write(&as, 4 * 4096, &b, 1);
    for (int c = 0; c < DIRTY_MEMORY_NUM; c++) {
        g_assert_true(memory_region_get_dirty(&ram, 4 * 4096, 4096, c));
        g_assert_false(memory_region_get_dirty(&ram, 5 * 4096, 4096, c));
    }
    /* clearing one client leaves the others alone */
    g_assert_true(memory_region_test_and_clear_dirty(&ram, 4 * 4096, 1, VGA));
    g_assert_false(memory_region_get_dirty(&ram, 4 * 4096, 1, VGA));
    g_assert_true(memory_region_get_dirty(&ram, 4 * 4096, 1, CODE));
    g_assert_true(memory_region_get_dirty(&ram, 4 * 4096, 1, MIG));
    g_assert_true(memory_region_page_clean(&ram, 4 * 4096, VGA));
    g_assert_true(memory_region_page_any_clean(&ram, 4 * 4096));
    g_assert_true(memory_region_test_and_clear_dirty(&ram, 0, ram.size, MIG));
    g_assert_true(memory_region_get_dirty(&ram, 4 * 4096, 1, CODE));
    g_assert_false(memory_region_get_dirty(&ram, 4 * 4096, 1, MIG));

    /* the page is dirty for everybody again: a TLB may write it directly */
    memory_region_set_dirty(&ram, 4 * 4096 + 10, 2);
    g_assert_false(memory_region_page_any_clean(&ram, 4 * 4096));
    g_assert_true(memory_region_page_any_clean(&ram, 5 * 4096));

    /* a client that stops and starts again begins all dirty; others keep theirs */
    memory_region_set_log(&ram, false, VGA);
    g_assert_true(memory_region_get_dirty(&ram, 9 * 4096, 1, VGA));
    g_assert_false(memory_region_get_dirty(&ram, 9 * 4096, 1, MIG));
    memory_region_set_log(&ram, true, VGA);
    g_assert_true(memory_region_get_dirty(&ram, 9 * 4096, 1, VGA));
    g_assert_false(memory_region_get_dirty(&ram, 9 * 4096, 1, MIG));
    g_assert_false(memory_region_get_dirty(&ram, 9 * 4096, 1, CODE));

    /* large ranges over word boundaries */
    for (int c = 0; c < DIRTY_MEMORY_NUM; c++) {
        memory_region_test_and_clear_dirty(&ram, 0, ram.size, c);
    }
    memory_region_set_dirty(&ram, 3 * 4096, 10 * 4096);
    g_assert_false(memory_region_get_dirty(&ram, 2 * 4096, 4096, MIG));
    g_assert_true(memory_region_get_dirty(&ram, 3 * 4096, 4096, MIG));
    g_assert_true(memory_region_get_dirty(&ram, 12 * 4096, 4096, MIG));
    g_assert_false(memory_region_get_dirty(&ram, 13 * 4096, 4096, MIG));

    /* set_log on something that is not RAM is refused */
    g_test_expect_message(NULL, G_LOG_LEVEL_CRITICAL, "*type == MR_RAM*");
    memory_region_set_log(&root, true, VGA);
    g_test_assert_expected_messages();
    g_assert_null(root.dirty[VGA]);

    address_space_destroy(&as);
    memory_region_destroy(&root);
    memory_region_destroy(&ram);
}

/* Global logging covers every RAM/ROM region, including ones mapped later. */
static void test_dirty_global(void)
{
    MemoryRegion root, ioroot, ram, ram2, rom, alias, io;
    AddressSpace as, ioas;
    CountListener cl;
    IOLog *dummy = NULL;
    static const MemoryRegionOps nop_ops = { 0 };

    memory_region_init(&root, "root", 0x100000);
    memory_region_init(&ioroot, "ioroot", 0x10000);
    address_space_init(&as, &root, "test");
    address_space_init(&ioas, &ioroot, "test-io");
    g_assert_true(memory_region_init_ram(&ram, "ram", 8 * 4096, NULL));
    g_assert_true(memory_region_init_ram(&ram2, "ram2", 8 * 4096, NULL));
    g_assert_true(memory_region_init_rom(&rom, "rom", 4096, NULL));
    memory_region_init_alias(&alias, "alias", &ram, 4096, 4096);
    memory_region_init_io(&io, &nop_ops, dummy, "io", 16);
    memory_region_add_subregion(&root, 0x10000, &alias);   /* ram shown through an alias */
    memory_region_add_subregion(&root, 0x20000, &rom);
    memory_region_add_subregion(&ioroot, 0x10, &io);
    memory_region_set_log(&ram, true, VGA);
    cl_init(&cl);
    memory_listener_register(&cl.l, &as);

    memory_global_dirty_log_start(MIG);
    g_assert_nonnull(ram.dirty[MIG]);
    g_assert_nonnull(rom.dirty[MIG]);
    g_assert_cmpuint(io.dirty_log_mask, ==, 0);
    g_assert_cmpint(cl.log_start, ==, 1);       /* rom starts; ram already logged */
    g_assert_null(ram2.dirty[MIG]);             /* not mapped anywhere yet */
    g_assert_true(memory_region_test_and_clear_dirty(&ram, 0, ram.size, MIG));

    /* mapped later: logs from the moment it appears (the listener sees it) */
    memory_region_add_subregion(&root, 0x40000, &ram2);
    g_assert_nonnull(ram2.dirty[MIG]);
    g_assert_cmpuint(ram2.dirty_log_mask, ==, 1u << MIG);
    g_assert_true(memory_region_test_and_clear_dirty(&ram2, 0, ram2.size, MIG));
    uint8_t v = 5;
    address_space_write(&as, 0x40000 + 3 * 4096, &v, 1);
    address_space_write(&as, 0x10000, &v, 1);       /* page 1 of ram */
    g_assert_true(memory_region_get_dirty(&ram2, 3 * 4096, 1, MIG));
    g_assert_true(memory_region_get_dirty(&ram, 4096, 1, MIG));
    g_assert_false(memory_region_get_dirty(&ram, 0, 1, MIG));

    /* a global sync asks the listener about every logging section */
    cl.log_sync = 0;
    memory_global_dirty_log_sync();
    g_assert_cmpint(cl.log_sync, ==, 3);

    /* stop: per-region requests survive */
    cl.log_stop = 0;
    memory_global_dirty_log_stop(MIG);
    g_assert_null(ram.dirty[MIG]);
    g_assert_null(ram2.dirty[MIG]);
    g_assert_nonnull(ram.dirty[VGA]);
    g_assert_cmpuint(rom.dirty_log_mask, ==, 0);
    g_assert_cmpint(cl.log_stop, ==, 2);        /* rom and ram2 */

    /* a region unmapped during global logging drops it when remapped */
    memory_global_dirty_log_start(MIG);
    memory_region_del_subregion(&root, &ram2);
    memory_global_dirty_log_stop(MIG);
    g_assert_nonnull(ram2.dirty[MIG]);           /* not visible: not reconciled yet */
    memory_region_add_subregion(&root, 0x40000, &ram2);
    g_assert_null(ram2.dirty[MIG]);
    g_assert_cmpuint(ram2.dirty_log_mask, ==, 0);

    memory_listener_unregister(&cl.l);
    address_space_destroy(&as);
    address_space_destroy(&ioas);
    memory_region_destroy(&root);
    memory_region_destroy(&ioroot);
    memory_region_destroy(&alias);
    memory_region_destroy(&ram);
    memory_region_destroy(&ram2);
    memory_region_destroy(&rom);
    memory_region_destroy(&io);
}

/*
 * A fake accelerator: a per-section "kernel" log that, like
 * KVM_GET_DIRTY_LOG, is handed over and cleared by each sync.
 */
typedef struct FakeKvm {
    MemoryListener l;
    uint64_t gpa[2];
    unsigned long log[2][2];        /* 128 pages per slot */
    int fetches;
} FakeKvm;

static void fake_kvm_sync(MemoryListener *l, MemoryRegionSection *s)
{
    FakeKvm *k = (FakeKvm *)l;

    for (int i = 0; i < 2; i++) {
        if (k->gpa[i] == s->offset_within_address_space) {
            memory_region_set_dirty_from_bitmap(s->mr, s->offset_within_region, k->log[i],
                                                s->size >> 12);
            memset(k->log[i], 0, sizeof(k->log[i]));
            k->fetches++;
        }
    }
}

static void test_dirty_kvm_merge(void)
{
    MemoryRegion root, ram, low, high;
    AddressSpace as;
    FakeKvm k = { .l = { .log_sync = fake_kvm_sync }, .gpa = { 0, 0x1000000 } };

    /* like pc.ram: one region, two windows onto it */
    memory_region_init(&root, "root", 0x2000000);
    address_space_init(&as, &root, "test");
    g_assert_true(memory_region_init_ram(&ram, "ram", 256 * 4096, NULL));
    memory_region_init_alias(&low, "low", &ram, 0, 128 * 4096);
    memory_region_init_alias(&high, "high", &ram, 128 * 4096, 100 * 4096);
    memory_region_add_subregion(&root, 0, &low);
    memory_region_add_subregion(&root, 0x1000000, &high);
    memory_listener_register(&k.l, &as);
    memory_region_set_log(&ram, true, VGA);
    memory_region_set_log(&ram, true, MIG);
    memory_region_test_and_clear_dirty(&ram, 0, ram.size, VGA);
    memory_region_test_and_clear_dirty(&ram, 0, ram.size, MIG);

    /* the guest wrote pages 0, 63, 64 and 127 of the low slot and page 5
     * of the high one; bits past the slot's 100 pages are garbage */
    k.log[0][0] = 1UL | 1UL << 63;
    k.log[0][1] = 1UL | 1UL << 63;
    k.log[1][0] = 1UL << 5;
    k.log[1][1] = ~0UL << 40;
    memory_region_sync_dirty_bitmap(&ram);
    g_assert_cmpint(k.fetches, ==, 2);
    for (int c = VGA; c <= MIG; c += MIG - VGA) {
        g_assert_true(memory_region_get_dirty(&ram, 0, 1, c));
        g_assert_false(memory_region_get_dirty(&ram, 4096, 62 * 4096, c));
        g_assert_true(memory_region_get_dirty(&ram, 63 * 4096, 1, c));
        g_assert_true(memory_region_get_dirty(&ram, 64 * 4096, 1, c));
        g_assert_true(memory_region_get_dirty(&ram, 127 * 4096, 1, c));
        g_assert_false(memory_region_get_dirty(&ram, 128 * 4096, 5 * 4096, c));
        g_assert_true(memory_region_get_dirty(&ram, 133 * 4096, 1, c));
        g_assert_false(memory_region_get_dirty(&ram, 134 * 4096, 122 * 4096, c));
    }
    g_assert_true(memory_region_get_dirty(&ram, 0, ram.size, CODE));   /* not logging */
    g_assert_true(memory_region_page_clean(&ram, 1 * 4096, MIG));

    /* the log was taken once: one client clearing does not lose it for the other */
    g_assert_true(memory_region_test_and_clear_dirty(&ram, 0, ram.size, VGA));
    memory_region_sync_dirty_bitmap(&ram);
    g_assert_false(memory_region_get_dirty(&ram, 0, ram.size, VGA));
    g_assert_true(memory_region_get_dirty(&ram, 133 * 4096, 1, MIG));

    /* a snapshot syncs first */
    k.log[1][0] = 1UL << 7;
    k.fetches = 0;
    DirtyBitmapSnapshot *snap = memory_region_snapshot_and_clear_dirty(&ram, 128 * 4096,
                                                                       128 * 4096, VGA);
    g_assert_cmpint(k.fetches, ==, 2);
    g_assert_true(memory_region_snapshot_get_dirty(&ram, snap, 135 * 4096, 4096));
    g_assert_false(memory_region_snapshot_get_dirty(&ram, snap, 133 * 4096, 4096));
    memory_region_snapshot_free(snap);
    g_assert_true(memory_region_get_dirty(&ram, 135 * 4096, 1, MIG));

    memory_listener_unregister(&k.l);
    address_space_destroy(&as);
    memory_region_destroy(&root);
    memory_region_destroy(&low);
    memory_region_destroy(&high);
    memory_region_destroy(&ram);
}

typedef struct DirtyWatch {
    MemoryDirtyNotifier n;
    int code_writes, cleared;
    uint64_t addr, len;
    bool clean_at_call;             /* was the page still clean for CODE when told? */
} DirtyWatch;

static void watch_code_write(MemoryDirtyNotifier *n, MemoryRegion *mr, uint64_t addr,
                             uint64_t len)
{
    DirtyWatch *w = (DirtyWatch *)n;

    w->code_writes++;
    w->addr = addr;
    w->len = len;
    w->clean_at_call = memory_region_page_clean(mr, addr, CODE);
}

static void watch_cleared(MemoryDirtyNotifier *n, MemoryRegion *mr, uint64_t addr, uint64_t len)
{
    DirtyWatch *w = (DirtyWatch *)n;

    w->cleared++;
    w->addr = addr;
    w->len = len;
}

static void test_dirty_snapshot(void)
{
    MemoryRegion ram;
    DirtyBitmapSnapshot *snap;
    DirtyWatch w = { .n = { .dirty_cleared = watch_cleared } };

    g_assert_true(memory_region_init_ram(&ram, "vram", 200 * 4096, NULL));
    /* not logging: a snapshot says everything is dirty */
    snap = memory_region_snapshot_and_clear_dirty(&ram, 0, ram.size, VGA);
    g_assert_true(memory_region_snapshot_get_dirty(&ram, snap, 150 * 4096, 1));
    g_free(snap);

    memory_region_set_log(&ram, true, VGA);
    memory_dirty_notifier_register(&w.n);
    snap = memory_region_snapshot_and_clear_dirty(&ram, 0, ram.size, VGA);
    g_assert_cmpint(w.cleared, ==, 1);
    g_assert_cmpuint(w.addr, ==, 0);
    g_assert_cmpuint(w.len, ==, 200 * 4096);
    g_assert_true(memory_region_snapshot_get_dirty(&ram, snap, 0, ram.size));
    memory_region_snapshot_free(snap);
    g_assert_false(memory_region_get_dirty(&ram, 0, ram.size, VGA));

    /* a frame: pages 2, 70 and 199 were drawn */
    memory_region_set_dirty(&ram, 2 * 4096, 1);
    memory_region_set_dirty(&ram, 70 * 4096 + 4090, 10);      /* 70 and 71 */
    memory_region_set_dirty(&ram, 199 * 4096, 4096);
    snap = memory_region_snapshot_and_clear_dirty(&ram, 65 * 4096 + 12, 135 * 4096, VGA);
    g_assert_cmpuint(snap->start, ==, 65 * 4096);
    g_assert_cmpuint(snap->end, ==, 200 * 4096);
    g_assert_cmpint(w.cleared, ==, 2);
    g_assert_false(memory_region_snapshot_get_dirty(&ram, snap, 65 * 4096, 5 * 4096));
    g_assert_true(memory_region_snapshot_get_dirty(&ram, snap, 70 * 4096, 1));
    g_assert_true(memory_region_snapshot_get_dirty(&ram, snap, 71 * 4096, 1));
    g_assert_false(memory_region_snapshot_get_dirty(&ram, snap, 72 * 4096, 127 * 4096));
    g_assert_true(memory_region_snapshot_get_dirty(&ram, snap, 199 * 4096, 4096));
    /* outside the snapshot: not in it */
    g_assert_false(memory_region_snapshot_get_dirty(&ram, snap, 2 * 4096, 1));
    memory_region_snapshot_free(snap);
    /* page 2 was outside the range and is still dirty; the rest is clean */
    g_assert_true(memory_region_get_dirty(&ram, 2 * 4096, 1, VGA));
    g_assert_false(memory_region_get_dirty(&ram, 65 * 4096, 135 * 4096, VGA));

    /* nothing to clear: nobody is told */
    snap = memory_region_snapshot_and_clear_dirty(&ram, 100 * 4096, 4096, VGA);
    g_assert_cmpint(w.cleared, ==, 2);
    g_assert_false(memory_region_snapshot_get_dirty(&ram, snap, 100 * 4096, 4096));
    g_free(snap);
    /* an empty range */
    snap = memory_region_snapshot_and_clear_dirty(&ram, ram.size, 4096, VGA);
    g_assert_false(memory_region_snapshot_get_dirty(&ram, snap, 0, ram.size));
    g_free(snap);

    memory_dirty_notifier_unregister(&w.n);
    memory_region_destroy(&ram);
}

/* The CODE client as a software CPU uses it. */
static void test_dirty_code(void)
{
    MemoryRegion root, ram;
    AddressSpace as;
    DirtyWatch w = { .n = { .code_write = watch_code_write, .dirty_cleared = watch_cleared } };
    uint8_t b = 0x90;
    unsigned long log[1] = { 1UL << 9 | 1UL << 10 };

    memory_region_init(&root, "root", 0x100000);
    address_space_init(&as, &root, "test");
    g_assert_true(memory_region_init_ram(&ram, "ram", 16 * 4096, NULL));
    memory_region_add_subregion(&root, 0x8000, &ram);
    memory_dirty_notifier_register(&w.n);
    memory_global_dirty_log_start(CODE);
    g_assert_nonnull(ram.dirty[CODE]);
    g_assert_cmpint(w.code_writes + w.cleared, ==, 0);
    g_assert_false(memory_region_page_clean(&ram, 2 * 4096, CODE));  /* no code yet */

    /* the CPU decodes code from page 2: it takes the page's bit */
    g_assert_true(memory_region_test_and_clear_dirty(&ram, 2 * 4096, 4096, CODE));
    g_assert_cmpint(w.cleared, ==, 1);
    g_assert_cmpuint(w.addr, ==, 2 * 4096);
    g_assert_cmpuint(w.len, ==, 4096);
    g_assert_true(memory_region_page_clean(&ram, 2 * 4096 + 0xfff, CODE));
    g_assert_true(memory_region_page_any_clean(&ram, 2 * 4096));
    g_assert_false(memory_region_page_clean(&ram, 3 * 4096, CODE));

    /* a write through the API to that page: the CPU hears of it first */
    address_space_write(&as, 0x8000 + 2 * 4096 + 0x10, &b, 1);
    g_assert_cmpint(w.code_writes, ==, 1);
    g_assert_cmpuint(w.addr, ==, 2 * 4096 + 0x10);
    g_assert_cmpuint(w.len, ==, 1);
    g_assert_true(w.clean_at_call);
    g_assert_false(memory_region_page_clean(&ram, 2 * 4096, CODE));
    /* the next write there is a plain write */
    address_space_write(&as, 0x8000 + 2 * 4096 + 0x11, &b, 1);
    g_assert_cmpint(w.code_writes, ==, 1);
    /* writes elsewhere are not the CPU's business */
    address_space_st(&as, 0x8000 + 5 * 4096, 1, 4);
    g_assert_cmpint(w.code_writes, ==, 1);

    /* the CPU's own slow-path write, a DMA through a host pointer, the
     * accelerator's log: each dirties a code page and says so */
    memory_region_test_and_clear_dirty(&ram, 0, ram.size, CODE);
    memory_region_set_dirty(&ram, 7 * 4096 + 0xffe, 4);
    g_assert_cmpint(w.code_writes, ==, 2);
    g_assert_cmpuint(w.addr, ==, 7 * 4096 + 0xffe);
    g_assert_cmpuint(w.len, ==, 4);
    g_assert_false(memory_region_page_clean(&ram, 8 * 4096, CODE));
    g_assert_nonnull(address_space_get_ram_ptr(&as, 0x8000 + 12 * 4096, 64, true));
    g_assert_cmpint(w.code_writes, ==, 3);
    g_assert_cmpuint(w.addr, ==, 12 * 4096);
    g_assert_null(address_space_get_ram_ptr(&as, 0x8000 + 13 * 4096, 3 * 4096 + 1, false));
    g_assert_nonnull(address_space_get_ram_ptr(&as, 0x8000 + 13 * 4096, 64, false));
    g_assert_cmpint(w.code_writes, ==, 3);
    memory_region_set_dirty_from_bitmap(&ram, 0, log, 16);
    g_assert_cmpint(w.code_writes, ==, 5);
    g_assert_cmpuint(w.addr, ==, 10 * 4096);
    g_assert_false(memory_region_page_clean(&ram, 9 * 4096, CODE));
    g_assert_true(memory_region_page_clean(&ram, 11 * 4096, CODE));

    /* stopping CODE logging leaves no clean page behind */
    memory_global_dirty_log_stop(CODE);
    g_assert_false(memory_region_page_any_clean(&ram, 11 * 4096));
    address_space_write(&as, 0x8000 + 11 * 4096, &b, 1);
    g_assert_cmpint(w.code_writes, ==, 5);

    memory_dirty_notifier_unregister(&w.n);
    address_space_destroy(&as);
    memory_region_destroy(&root);
    memory_region_destroy(&ram);
}

/* ---- translation for a software TLB ------------------------------------- */

typedef struct FlashLog {
    int writes;
    uint64_t addr, data;
    unsigned size;
} FlashLog;

static void flash_write(void *opaque, uint64_t addr, uint64_t data, unsigned size)
{
    FlashLog *f = opaque;

    f->writes++;
    f->addr = addr;
    f->data = data;
    f->size = size;
}

static const MemoryRegionOps flash_ops = {
    .write = flash_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
};

static void test_translate(void)
{
    MemoryRegion root, ram, rom, flash, io, roram, win;
    AddressSpace as, empty;
    MemoryRegion eroot;
    MemoryTranslation t;
    IOLog log = { 0 };
    FlashLog fl = { 0 };
    uint64_t val;

    memory_region_init(&root, "root", UINT64_MAX);
    address_space_init(&as, &root, "test");
    new_ram(&ram, "ram", 0x10000, 0);
    g_assert_true(memory_region_init_rom(&rom, "rom", 0x2000, NULL));
    g_assert_true(memory_region_init_rom_device(&flash, &flash_ops, &fl, "flash", 0x4000, NULL));
    memory_region_init_io(&io, &ops_impl_1, &log, "io", 0x100);
    new_ram(&roram, "roram", 0x1000, 0x40);
    memory_region_set_readonly(&roram, true);
    memory_region_init_alias(&win, "win", &ram, 0x8000, 0x2000);
    memory_region_add_subregion(&root, 0x0, &ram);
    memory_region_add_subregion_overlap(&root, 0x3000, &io, 1);    /* splits ram */
    memory_region_add_subregion(&root, 0x20000, &rom);
    memory_region_add_subregion(&root, 0x30000, &flash);
    memory_region_add_subregion(&root, 0x40000, &roram);
    memory_region_add_subregion(&root, 0x50000, &win);

    /* RAM: host pointer and the run around the address (cut by io) */
    g_assert_cmpint(address_space_translate(&as, 0x1234, &t), ==, MEMORY_TRANSLATION_RAM);
    g_assert_true(t.mr == &ram);
    g_assert_cmpuint(t.offset, ==, 0x1234);
    g_assert_true(t.host == ram.ram + 0x1234);
    g_assert_cmpuint(t.start, ==, 0);
    g_assert_cmpuint(t.size, ==, 0x3000);
    g_assert_cmpuint(t.generation, ==, address_space_generation(&as));
    g_assert_true(memory_translation_covers(&t, 0x2000, 0x1000));
    g_assert_false(memory_translation_covers(&t, 0x2800, 0x1000));   /* page shared with io */
    g_assert_cmpint(address_space_translate(&as, 0x3100, &t), ==, MEMORY_TRANSLATION_RAM);
    g_assert_cmpuint(t.start, ==, 0x3100);
    g_assert_cmpuint(t.size, ==, 0xcf00);
    g_assert_true(t.host == ram.ram + 0x3100);

    /* MMIO: no host pointer, goes through dispatch */
    g_assert_cmpint(address_space_translate(&as, 0x30ff, &t), ==, MEMORY_TRANSLATION_MMIO);
    g_assert_true(t.mr == &io);
    g_assert_null(t.host);
    g_assert_cmpuint(t.offset, ==, 0xff);
    g_assert_cmpuint(t.start, ==, 0x3000);
    g_assert_cmpuint(t.size, ==, 0x100);

    /* ROM, read-only RAM, ROM device: read at host, write by dispatch */
    g_assert_cmpint(address_space_translate(&as, 0x21000, &t), ==, MEMORY_TRANSLATION_ROM);
    g_assert_true(t.host == rom.ram + 0x1000);
    g_assert_cmpuint(t.size, ==, 0x2000);
    g_assert_cmpint(address_space_translate(&as, 0x40010, &t), ==, MEMORY_TRANSLATION_ROM);
    g_assert_cmpuint(*t.host, ==, 0x50);
    g_assert_cmpint(address_space_translate(&as, 0x30004, &t), ==, MEMORY_TRANSLATION_ROM);
    g_assert_true(t.mr == &flash);
    g_assert_true(t.host == flash.ram + 4);
    flash.ram[4] = 0x5a;
    g_assert_cmpint(address_space_ld(&as, 0x30004, &val, 1), ==, MEMTX_OK);
    g_assert_cmphex(val, ==, 0x5a);
    /* writes to a ROM device reach the device, not the memory */
    g_assert_cmpint(address_space_st(&as, 0x30004, 0xf0, 1), ==, MEMTX_OK);
    g_assert_cmpint(fl.writes, ==, 1);
    g_assert_cmpuint(fl.addr, ==, 4);
    g_assert_cmphex(fl.data, ==, 0xf0);
    g_assert_cmphex(flash.ram[4], ==, 0x5a);
    uint8_t two[2] = { 0x98, 0x00 };
    g_assert_cmpint(address_space_write(&as, 0x30554, two, 2), ==, MEMTX_OK);
    g_assert_cmpint(fl.writes, ==, 2);
    g_assert_cmpuint(fl.addr, ==, 0x554);
    g_assert_cmpuint(fl.size, ==, 2);
    g_assert_cmphex(fl.data, ==, 0x98);
    g_assert_cmpint(address_space_st(&as, 0x30000, 0, 8), ==, MEMTX_ERROR);  /* > valid max */
    g_assert_cmpint(fl.writes, ==, 2);
    /* ... while the loader stores into it */
    g_assert_cmpint(address_space_write_rom(&as, 0x30010, two, 2), ==, MEMTX_OK);
    g_assert_cmpint(fl.writes, ==, 2);
    g_assert_cmphex(flash.ram[0x10], ==, 0x98);
    /* a ROM stays read-only in the flat view whatever set_readonly() says */
    memory_region_set_readonly(&flash, false);
    g_assert_true(address_space_lookup(&as, 0x30000)->readonly);
    g_assert_cmpint(address_space_st(&as, 0x30004, 0xf1, 1), ==, MEMTX_OK);
    g_assert_cmpint(fl.writes, ==, 3);
    g_assert_cmphex(flash.ram[4], ==, 0x5a);
    fl.writes = 2;
    /* a plain ROM still ignores them */
    g_assert_cmpint(address_space_st(&as, 0x21000, 0xff, 1), ==, MEMTX_OK);
    g_assert_cmphex(rom.ram[0x1000], ==, 0);

    /* an alias translates to its target */
    g_assert_cmpint(address_space_translate(&as, 0x50010, &t), ==, MEMORY_TRANSLATION_RAM);
    g_assert_true(t.mr == &ram);
    g_assert_cmpuint(t.offset, ==, 0x8010);
    g_assert_true(t.host == ram.ram + 0x8010);
    g_assert_cmpuint(t.start, ==, 0x50000);
    g_assert_cmpuint(t.size, ==, 0x2000);

    /* holes: between ranges, below the first, above the last */
    g_assert_cmpint(address_space_translate(&as, 0x10000, &t), ==, MEMORY_TRANSLATION_UNMAPPED);
    g_assert_null(t.mr);
    g_assert_null(t.host);
    g_assert_cmpuint(t.start, ==, 0x10000);
    g_assert_cmpuint(t.size, ==, 0x10000);
    g_assert_cmpint(address_space_translate(&as, 0x2ffff, &t), ==, MEMORY_TRANSLATION_UNMAPPED);
    g_assert_cmpuint(t.start, ==, 0x22000);
    g_assert_cmpuint(t.size, ==, 0xe000);
    g_assert_cmpint(address_space_translate(&as, 1ULL << 40, &t), ==,
                    MEMORY_TRANSLATION_UNMAPPED);
    g_assert_cmpuint(t.start, ==, 0x52000);
    g_assert_cmpuint(t.size, ==, 0 - 0x52000ULL);
    g_assert_true(memory_translation_covers(&t, UINT64_MAX, 1));
    memory_region_init(&eroot, "eroot", 0x10000);
    address_space_init(&empty, &eroot, "empty");
    g_assert_cmpint(address_space_translate(&empty, 0x1234, &t), ==,
                    MEMORY_TRANSLATION_UNMAPPED);
    g_assert_cmpuint(t.start, ==, 0);
    g_assert_cmpuint(t.size, ==, UINT64_MAX);

    address_space_destroy(&empty);
    address_space_destroy(&as);
    memory_region_destroy(&eroot);
    memory_region_destroy(&root);
    memory_region_destroy(&win);
    memory_region_destroy(&ram);
    memory_region_destroy(&rom);
    memory_region_destroy(&flash);
    memory_region_destroy(&io);
    memory_region_destroy(&roram);
}

static void test_generation(void)
{
    MemoryRegion root, ioroot, ram, ram2, pio, cont;
    AddressSpace as, ioas;
    uint64_t g, gio;
    IOLog log = { 0 };

    memory_region_init(&root, "root", 0x100000);
    memory_region_init(&ioroot, "ioroot", 0x10000);
    memory_region_init(&cont, "cont", 0x10000);
    address_space_init(&as, &root, "test");
    address_space_init(&ioas, &ioroot, "test-io");
    g_assert_cmpuint(address_space_generation(&as), !=, 0);
    new_ram(&ram, "ram", 0x1000, 0);
    new_ram(&ram2, "ram2", 0x1000, 0);
    memory_region_init_io(&pio, &ops_impl_1, &log, "pio", 8);

#define BUMPED(as, g) (address_space_generation(as) != (g))
    g = address_space_generation(&as);
    gio = address_space_generation(&ioas);
    memory_region_add_subregion(&root, 0x1000, &ram);
    g_assert_true(BUMPED(&as, g));
    g_assert_false(BUMPED(&ioas, gio));            /* another address space */

    g = address_space_generation(&as);
    memory_region_add_subregion(&ioroot, 0x60, &pio);
    g_assert_true(BUMPED(&ioas, gio));
    g_assert_false(BUMPED(&as, g));

    memory_region_set_enabled(&ram, false);
    g_assert_true(BUMPED(&as, g));
    g = address_space_generation(&as);
    memory_region_set_enabled(&ram, true);
    g_assert_true(BUMPED(&as, g));
    g = address_space_generation(&as);
    memory_region_set_address(&ram, 0x2000);
    g_assert_true(BUMPED(&as, g));
    g = address_space_generation(&as);
    memory_region_set_readonly(&ram, true);
    g_assert_true(BUMPED(&as, g));
    g = address_space_generation(&as);
    memory_region_del_subregion(&root, &ram);
    g_assert_true(BUMPED(&as, g));

    /* changes that leave the view as it was do not */
    g = address_space_generation(&as);
    memory_region_add_subregion(&root, 0x0, &cont);         /* empty container */
    g_assert_false(BUMPED(&as, g));
    memory_region_transaction_begin();
    memory_region_add_subregion(&cont, 0x4000, &ram2);
    memory_region_set_enabled(&ram2, false);
    memory_region_transaction_commit();
    g_assert_false(BUMPED(&as, g));
    memory_region_set_log(&ram2, true, VGA);
    memory_region_set_log(&ram2, false, VGA);
    g_assert_false(BUMPED(&as, g));
    /* ... and changes to regions outside every tree do not either */
    memory_region_set_address(&ram, 0x8000);
    g_assert_false(BUMPED(&as, g));
    /* a change deep inside a container does */
    memory_region_set_enabled(&ram2, true);
    g_assert_true(BUMPED(&as, g));
    g_assert_false(BUMPED(&ioas, gio + 1));
#undef BUMPED

    address_space_destroy(&as);
    address_space_destroy(&ioas);
    memory_region_destroy(&root);
    memory_region_destroy(&ioroot);
    memory_region_destroy(&cont);
    memory_region_destroy(&ram);
    memory_region_destroy(&ram2);
    memory_region_destroy(&pio);
}

/* ---- attributes ------------------------------------------------------------ */

typedef struct AttrDev {
    int calls;
    MemTxAttrs last;
    unsigned last_size;
    uint64_t stored;
} AttrDev;

/* A device that only answers in SMM (like SMRAM's control registers). */
static MemTxResult attr_read(void *opaque, uint64_t addr, uint64_t *data, unsigned size,
                             MemTxAttrs attrs)
{
    AttrDev *d = opaque;

    d->calls++;
    d->last = attrs;
    d->last_size = size;
    if (!attrs.smm) {
        *data = 0x1234;             /* must not reach the caller */
        return MEMTX_ERROR;
    }
    *data = 0xa0 + addr;
    return MEMTX_OK;
}

static MemTxResult attr_write(void *opaque, uint64_t addr, uint64_t data, unsigned size,
                              MemTxAttrs attrs)
{
    AttrDev *d = opaque;

    d->calls++;
    d->last = attrs;
    d->last_size = size;
    if (!attrs.smm) {
        return MEMTX_ERROR;
    }
    d->stored = data;
    return MEMTX_OK;
}

static const MemoryRegionOps attr_ops = {
    .read_with_attrs = attr_read,
    .write_with_attrs = attr_write,
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

static void test_attrs(void)
{
    MemoryRegion root, dev;
    AddressSpace as;
    AttrDev d = { 0 };
    MemTxAttrs smm = { .smm = 1, .requester_id = 0x18 };
    MemTxAttrs secure = { .secure = 1 };
    uint64_t val;
    uint8_t buf[4];

    memory_region_init(&root, "root", 0x10000);
    address_space_init(&as, &root, "test");
    memory_region_init_io(&dev, &attr_ops, &d, "smm-dev", 0x10);
    memory_region_add_subregion(&root, 0x100, &dev);

    /* the old calls: unspecified, refused by this device */
    g_assert_cmpint(address_space_ld(&as, 0x100, &val, 1), ==, MEMTX_ERROR);
    g_assert_cmphex(val, ==, 0xff);
    g_assert_true(d.last.unspecified);
    g_assert_false(d.last.smm);
    g_assert_cmpint(address_space_st(&as, 0x100, 1, 1), ==, MEMTX_ERROR);
    g_assert_cmpuint(d.stored, ==, 0);

    /* SMM accesses go through, attributes reach the device */
    g_assert_cmpint(address_space_ld_attrs(&as, 0x102, &val, 1, smm), ==, MEMTX_OK);
    g_assert_cmphex(val, ==, 0xa2);
    g_assert_true(d.last.smm);
    g_assert_false(d.last.unspecified);
    g_assert_cmpuint(d.last.requester_id, ==, 0x18);
    g_assert_cmpint(address_space_st_attrs(&as, 0x101, 0x77, 1, smm), ==, MEMTX_OK);
    g_assert_cmphex(d.stored, ==, 0x77);
    g_assert_cmpint(address_space_st_attrs(&as, 0x101, 0x66, 1, secure), ==, MEMTX_ERROR);
    g_assert_true(d.last.secure);
    g_assert_cmphex(d.stored, ==, 0x77);

    /* wide accesses are split, each piece carries the attributes */
    d.calls = 0;
    g_assert_cmpint(address_space_ld_attrs(&as, 0x104, &val, 4, smm), ==, MEMTX_OK);
    g_assert_cmpint(d.calls, ==, 4);
    g_assert_cmpuint(d.last_size, ==, 1);
    g_assert_cmphex(val, ==, 0xa7a6a5a4);
    g_assert_cmpint(address_space_ld_attrs(&as, 0x104, &val, 4, secure), ==, MEMTX_ERROR);
    g_assert_cmphex(val, ==, 0xffffffff);

    /* buffer accesses */
    g_assert_cmpint(address_space_read_attrs(&as, 0x100, smm, buf, 4), ==, MEMTX_OK);
    g_assert_cmphex(buf[3], ==, 0xa3);
    g_assert_cmpint(address_space_read(&as, 0x100, buf, 4), ==, MEMTX_ERROR);
    g_assert_cmphex(buf[0], ==, 0xff);
    buf[0] = 0x42;
    g_assert_cmpint(address_space_write_attrs(&as, 0x100, smm, buf, 1), ==, MEMTX_OK);
    g_assert_cmphex(d.stored, ==, 0x42);
    buf[0] = 0x43;
    g_assert_cmpint(address_space_rw_attrs(&as, 0x100, smm, buf, 1, true), ==, MEMTX_OK);
    g_assert_cmphex(d.stored, ==, 0x43);
    g_assert_cmpint(address_space_write(&as, 0x100, buf, 1), ==, MEMTX_ERROR);
    /* a refused access next to a hole reports both */
    g_assert_cmpint(address_space_read(&as, 0xff, buf, 2), ==, MEMTX_ERROR | MEMTX_DECODE_ERROR);

    address_space_destroy(&as);
    memory_region_destroy(&root);
    memory_region_destroy(&dev);
}

/* ---- costs: holes in one step, rebuild only what a change touches -------- */

static void test_hole_skip(void)
{
    MemoryRegion root, a, b, io;
    AddressSpace as;
    IOLog log = { 0 };
    const uint64_t len = 16ULL << 20;
    uint8_t *buf = g_malloc(len);
    uint64_t steps;

    memory_region_init(&root, "root", UINT64_MAX);
    address_space_init(&as, &root, "test");
    new_ram(&a, "a", 0x1000, 1);
    new_ram(&b, "b", 0x2000, 2);
    memory_region_init_io(&io, &ops_impl_1, &log, "io", 4);
    memory_region_add_subregion(&root, 0x100000 + 0x3000, &a);
    memory_region_add_subregion(&root, 0x100000 + 0x800000, &io);
    memory_region_add_subregion(&root, 0x100000 + 0xfff000, &b);   /* runs past the end */

    /* 16 MiB over three ranges and four holes: a handful of steps */
    memset(buf, 0, len);
    steps = memory_debug_dispatch_steps();
    g_assert_cmpint(address_space_read(&as, 0x100000, buf, len), ==, MEMTX_DECODE_ERROR);
    g_assert_cmpuint(memory_debug_dispatch_steps() - steps, <=, 8);
    g_assert_cmphex(buf[0], ==, 0xff);
    g_assert_cmphex(buf[0x2fff], ==, 0xff);
    g_assert_cmphex(buf[0x3000], ==, 1);
    g_assert_cmphex(buf[0x3fff], ==, (uint8_t)(1 + 0xfff));
    g_assert_cmphex(buf[0x4000], ==, 0xff);
    g_assert_cmphex(buf[0x800000], ==, 0x10);       /* the device, four byte calls */
    g_assert_cmphex(buf[0x800003], ==, 0x13);
    g_assert_cmpint(log.n, ==, 4);
    g_assert_cmphex(buf[0x800004], ==, 0xff);
    g_assert_cmphex(buf[0xffefff], ==, 0xff);
    g_assert_cmphex(buf[0xfff000], ==, 2);
    g_assert_cmphex(buf[len - 1], ==, (uint8_t)(2 + 0xfff));

    /* writes too */
    memset(buf, 0x5c, len);
    log.n = 0;
    steps = memory_debug_dispatch_steps();
    g_assert_cmpint(address_space_write(&as, 0x100000, buf, len), ==, MEMTX_DECODE_ERROR);
    g_assert_cmpuint(memory_debug_dispatch_steps() - steps, <=, 8);
    g_assert_cmphex(a.ram[0], ==, 0x5c);
    g_assert_cmphex(b.ram[0xfff], ==, 0x5c);
    g_assert_cmphex(b.ram[0x1000], ==, (uint8_t)(2 + 0x1000));
    g_assert_cmpint(log.n, ==, 4);

    /* all of a 64-bit hole at once, and an access that wraps past 2^64 */
    steps = memory_debug_dispatch_steps();
    g_assert_cmpint(address_space_read(&as, 1ULL << 40, buf, len), ==, MEMTX_DECODE_ERROR);
    g_assert_cmpuint(memory_debug_dispatch_steps() - steps, ==, 1);
    g_assert_cmpint(address_space_read(&as, UINT64_MAX - 1, buf, 4), ==, MEMTX_DECODE_ERROR);
    memory_region_del_subregion(&root, &a);
    memory_region_destroy(&a);
    new_ram(&a, "a0", 0x1000, 7);
    memory_region_add_subregion(&root, 0, &a);
    memset(buf, 0, 4);
    g_assert_cmpint(address_space_read(&as, UINT64_MAX - 1, buf, 4), ==, MEMTX_DECODE_ERROR);
    g_assert_cmphex(buf[0], ==, 0xff);
    g_assert_cmphex(buf[1], ==, 0xff);
    g_assert_cmphex(buf[2], ==, 7);
    g_assert_cmphex(buf[3], ==, 8);

    address_space_destroy(&as);
    memory_region_destroy(&root);
    memory_region_destroy(&a);
    memory_region_destroy(&b);
    memory_region_destroy(&io);
    g_free(buf);
}

/* A device whose register write moves another region (a BAR): the rest
 * of a buffer access continues in the new view. */
typedef struct Remapper {
    MemoryRegion io, *target;
    AddressSpace *as;
} Remapper;

static void remap_write(void *opaque, uint64_t addr, uint64_t data, unsigned size)
{
    Remapper *r = opaque;

    memory_region_set_address(r->target, data);
}

static const MemoryRegionOps remap_ops = {
    .write = remap_write,
    .valid = { .min_access_size = 1, .max_access_size = 1 },
};

static void test_remap_during_access(void)
{
    MemoryRegion root, ram;
    AddressSpace as;
    Remapper r;
    uint8_t buf[2] = { 0x11, 0xaa };

    memory_region_init(&root, "root", 0x10000);
    address_space_init(&as, &root, "test");
    new_ram(&ram, "bar", 0x1000, 0);
    memset(ram.ram, 0, 0x1000);
    r.target = &ram;
    r.as = &as;
    memory_region_init_io(&r.io, &remap_ops, &r, "remap", 1);
    memory_region_add_subregion(&root, 0x1000, &ram);
    memory_region_add_subregion(&root, 0x10, &r.io);
    /* byte 0 moves the RAM to 0x11, so byte 1 lands in it */
    g_assert_cmpint(address_space_write(&as, 0x10, buf, 2), ==, MEMTX_OK);
    g_assert_cmpuint(ram.addr, ==, 0x11);
    g_assert_cmphex(ram.ram[0], ==, 0xaa);

    address_space_destroy(&as);
    memory_region_destroy(&root);
    memory_region_destroy(&ram);
    memory_region_destroy(&r.io);
}

static void test_rebuild_scope(void)
{
    MemoryRegion mroot, ioroot, pci, shared, bar, port, dev, sub, loose;
    AddressSpace mem, io, dma;
    CountListener lmem, lio;
    IOLog log = { 0 };

    memory_region_init(&mroot, "system", UINT64_MAX);
    memory_region_init(&ioroot, "io", 0x10000);
    memory_region_init(&pci, "pci", 1ULL << 32);
    memory_region_init(&shared, "shared", 0x10000);
    memory_region_init(&dev, "dev", 0x1000);
    address_space_init(&mem, &mroot, "memory");
    address_space_init(&io, &ioroot, "I/O");
    address_space_init(&dma, &pci, "dma");           /* a root inside another tree */
    memory_region_add_subregion_overlap(&mroot, 0, &pci, -1);
    new_ram(&bar, "bar", 0x1000, 0);
    new_ram(&sub, "sub", 0x100, 0);
    new_ram(&loose, "loose", 0x100, 0);
    memory_region_init_io(&port, &ops_impl_1, &log, "port", 4);
    cl_init(&lmem);
    cl_init(&lio);
    memory_listener_register(&lmem.l, &mem);
    memory_listener_register(&lio.l, &io);
    cl_zero(&lmem);
    cl_zero(&lio);

    uint64_t rm = mem.rebuilds, ri = io.rebuilds, rd = dma.rebuilds;
    /* an I/O port: only the I/O space */
    memory_region_add_subregion(&ioroot, 0x60, &port);
    g_assert_cmpuint(io.rebuilds, ==, ri + 1);
    g_assert_cmpuint(mem.rebuilds, ==, rm);
    g_assert_cmpuint(dma.rebuilds, ==, rd);
    g_assert_cmpint(lio.begin, ==, 1);
    g_assert_cmpint(lmem.begin + lmem.commit, ==, 0);
    memory_region_set_address(&port, 0x64);
    memory_region_set_enabled(&port, false);
    g_assert_cmpuint(io.rebuilds, ==, ri + 3);
    g_assert_cmpuint(mem.rebuilds, ==, rm);

    /* a BAR in the PCI window: memory and the DMA space, not I/O */
    ri = io.rebuilds;
    memory_region_add_subregion(&pci, 0xe0000000, &bar);
    g_assert_cmpuint(mem.rebuilds, ==, rm + 1);
    g_assert_cmpuint(dma.rebuilds, ==, rd + 1);
    g_assert_cmpuint(io.rebuilds, ==, ri);
    g_assert_cmpint(lmem.add, ==, 1);

    /* a region shown in both spaces through aliases: a change inside it
     * rebuilds both, in one transaction once each */
    MemoryRegion amem, aio;
    memory_region_init_alias(&amem, "shared@mem", &shared, 0, 0x10000);
    memory_region_init_alias(&aio, "shared@io", &shared, 0x8000, 0x8000);
    memory_region_add_subregion(&mroot, 0xa0000, &amem);
    memory_region_add_subregion(&ioroot, 0x8000, &aio);
    memory_region_add_subregion(&shared, 0x9000, &dev);
    rm = mem.rebuilds;
    ri = io.rebuilds;
    rd = dma.rebuilds;
    memory_region_transaction_begin();
    memory_region_add_subregion(&dev, 0x10, &sub);
    memory_region_set_address(&sub, 0x20);
    memory_region_transaction_commit();
    g_assert_cmpuint(mem.rebuilds, ==, rm + 1);
    g_assert_cmpuint(io.rebuilds, ==, ri + 1);
    g_assert_cmpuint(dma.rebuilds, ==, rd);
    check_range(&io, 0, 0x9020, 0x100, &sub, 0);      /* the port is disabled */

    /* regions outside every tree: nothing */
    rm = mem.rebuilds;
    ri = io.rebuilds;
    memory_region_set_address(&loose, 0x100);
    memory_region_set_enabled(&loose, false);
    g_assert_cmpuint(mem.rebuilds + io.rebuilds, ==, rm + ri);

    /* destroying an alias target empties the alias, in both spaces */
    memory_region_del_subregion(&shared, &dev);
    memory_region_destroy(&shared);
    g_assert_null(amem.alias);
    g_assert_null(aio.alias);
    g_assert_null(address_space_lookup(&io, 0x9020));
    g_assert_null(address_space_lookup(&mem, 0xa9020));

    memory_listener_unregister(&lmem.l);
    memory_listener_unregister(&lio.l);
    address_space_destroy(&dma);
    address_space_destroy(&mem);
    address_space_destroy(&io);
    memory_region_destroy(&amem);
    memory_region_destroy(&aio);
    memory_region_destroy(&mroot);
    memory_region_destroy(&ioroot);
    memory_region_destroy(&pci);
    memory_region_destroy(&dev);
    memory_region_destroy(&bar);
    memory_region_destroy(&sub);
    memory_region_destroy(&loose);
    memory_region_destroy(&port);
}

/*
 * The flat view against an independent reference: for each address, walk
 * the tree top-down (subregions by priority, later-added first among
 * equals) and take the first enabled terminal region that covers it.
 */
#define RSPACE 0x400

static MemoryRegion *ref_owner(MemoryRegion *mr, int64_t addr, uint64_t *off)
{
    if (!mr->enabled || addr < 0 || (uint64_t)addr >= mr->size) {
        return NULL;
    }
    switch (mr->type) {
    case MR_ALIAS:
        return mr->alias ? ref_owner(mr->alias, addr + (int64_t)mr->alias_offset, off) : NULL;
    case MR_CONTAINER: {
        MemoryRegion *best = NULL, *winner = NULL;
        for (guint i = 0; i < mr->subregions->len; i++) {
            MemoryRegion *c = g_ptr_array_index(mr->subregions, i);
            uint64_t o;
            MemoryRegion *r;
            if (best && (c->priority < best->priority ||
                         (c->priority == best->priority && c->add_seq < best->add_seq))) {
                continue;
            }
            r = ref_owner(c, addr - (int64_t)c->addr, &o);
            if (r) {
                best = c;
                winner = r;
                *off = o;
            }
        }
        return winner;
    }
    default:
        *off = (uint64_t)addr;
        return mr;
    }
}

static void test_flat_random(void)
{
    enum { NT = 12, NC = 4, NA = 3 };
    MemoryRegion root, term[NT], cont[NC], alias[NA];
    AddressSpace as;
    GRand *rnd = g_rand_new_with_seed(20261204);

    for (int round = 0; round < 200; round++) {
        memory_region_init(&root, "root", RSPACE);
        for (int i = 0; i < NT; i++) {
            g_autofree char *n = g_strdup_printf("t%d", i);
            memory_region_init_ram_ptr(&term[i], n, g_rand_int_range(rnd, 1, 0x200), NULL);
        }
        for (int i = 0; i < NC; i++) {
            g_autofree char *n = g_strdup_printf("c%d", i);
            memory_region_init(&cont[i], n, g_rand_int_range(rnd, 0x40, 0x300));
        }
        for (int i = 0; i < NA; i++) {
            g_autofree char *n = g_strdup_printf("a%d", i);
            MemoryRegion *tgt = i == 0 ? &cont[NC - 1] : &term[g_rand_int_range(rnd, 0, NT)];
            memory_region_init_alias(&alias[i], n, tgt, g_rand_int_range(rnd, 0, 0x40),
                                     g_rand_int_range(rnd, 1, 0x200));
        }
        address_space_init(&as, &root, "random");
        /* containers 0..NC-2 go into root or an earlier container; the
         * last one is only reached through alias 0 */
        for (int i = 0; i < NC - 1; i++) {
            MemoryRegion *parent = i == 0 ? &root : (g_rand_boolean(rnd) ? &root : &cont[i - 1]);
            memory_region_add_subregion_overlap(parent, g_rand_int_range(rnd, 0, RSPACE),
                                                &cont[i], g_rand_int_range(rnd, -2, 3));
        }
        for (int i = 0; i < NT + NA; i++) {
            MemoryRegion *m = i < NT ? &term[i] : &alias[i - NT];
            MemoryRegion *parent = g_rand_int_range(rnd, 0, 3) == 0 ? &root
                                   : &cont[g_rand_int_range(rnd, 0, NC)];
            if (i >= NT && parent == &cont[NC - 1]) {
                parent = &root;         /* no alias inside its own target */
            }
            memory_region_add_subregion_overlap(parent, g_rand_int_range(rnd, 0, RSPACE),
                                                m, g_rand_int_range(rnd, -2, 3));
        }
        memory_region_set_enabled(&term[g_rand_int_range(rnd, 0, NT)], false);
        memory_region_set_address(&cont[0], g_rand_int_range(rnd, 0, RSPACE));

        /* every address agrees, and the ranges are sorted, disjoint, merged */
        FlatView *fv = as.current_map;
        for (unsigned i = 1; i < fv->nr; i++) {
            MemoryRegionSection *p = &fv->ranges[i - 1], *c = &fv->ranges[i];
            g_assert_cmpuint(p->offset_within_address_space + p->size, <=,
                             c->offset_within_address_space);
            g_assert_false(p->mr == c->mr &&
                           p->offset_within_address_space + p->size ==
                               c->offset_within_address_space &&
                           p->offset_within_region + p->size == c->offset_within_region);
        }
        for (int64_t a = 0; a < RSPACE; a++) {
            uint64_t off = 0;
            MemoryRegion *want = ref_owner(&root, a, &off);
            const MemoryRegionSection *s = address_space_lookup(&as, a);
            if (!want) {
                g_assert_null(s);
                continue;
            }
            g_assert_nonnull(s);
            if (s->mr != want) {
                g_error("round %d addr 0x%" G_GINT64_MODIFIER "x: expected %s, got %s", round,
                        a, want->name, s->mr->name);
            }
            g_assert_cmpuint(s->offset_within_region + (a - s->offset_within_address_space), ==,
                             off);
        }

        address_space_destroy(&as);
        for (int i = 0; i < NA; i++) {
            memory_region_destroy(&alias[i]);
        }
        for (int i = NC - 1; i >= 0; i--) {
            memory_region_destroy(&cont[i]);
        }
        for (int i = 0; i < NT; i++) {
            memory_region_destroy(&term[i]);
        }
        memory_region_destroy(&root);
    }
    g_rand_free(rnd);
}

/* Many regions: the result is right (the cost is O(n log n); not timed). */
static void test_flat_many(void)
{
    enum { N = 20000 };
    MemoryRegion root, bg, *r = g_new(MemoryRegion, N);
    AddressSpace as;
    CountListener cl;

    memory_region_init(&root, "root", UINT64_MAX);
    address_space_init(&as, &root, "many");
    g_assert_true(memory_region_init_ram(&bg, "bg", (uint64_t)N * 0x2000, NULL));
    memory_region_transaction_begin();
    memory_region_add_subregion_overlap(&root, 0, &bg, -1);
    for (int i = 0; i < N; i++) {
        memory_region_init_ram_ptr(&r[i], "r", 0x1000, NULL);
        memory_region_add_subregion(&root, (uint64_t)i * 0x2000, &r[i]);
    }
    memory_region_transaction_commit();
    g_assert_cmpuint(nr_ranges(&as), ==, 2 * N);
    check_range(&as, 2 * 777, 777 * 0x2000, 0x1000, &r[777], 0);
    check_range(&as, 2 * 777 + 1, 777 * 0x2000 + 0x1000, 0x1000, &bg, 777 * 0x2000 + 0x1000);

    /* one change: one del and one add for the listener, whatever N is */
    cl_init(&cl);
    memory_listener_register(&cl.l, &as);
    cl_zero(&cl);
    memory_region_set_enabled(&r[N / 2], false);
    g_assert_cmpint(cl.del, ==, 3);     /* r, and bg's two neighbours merge into one */
    g_assert_cmpint(cl.add, ==, 1);
    g_assert_cmpuint(nr_ranges(&as), ==, 2 * N - 2);

    memory_listener_unregister(&cl.l);
    address_space_destroy(&as);
    memory_region_transaction_begin();
    for (int i = 0; i < N; i++) {
        memory_region_destroy(&r[i]);
    }
    memory_region_transaction_commit();
    memory_region_destroy(&bg);
    memory_region_destroy(&root);
    g_free(r);
}

static void test_lookup_boundaries(void)
{
    MemoryRegion root, a, b;
    AddressSpace as;
    const MemoryRegionSection *s;

    memory_region_init(&root, "root", UINT64_MAX);
    address_space_init(&as, &root, "test");
    new_ram(&a, "a", 0x1000, 0);
    new_ram(&b, "b", 0x1000, 0);
    memory_region_add_subregion(&root, 0x1000, &a);
    memory_region_add_subregion(&root, 0x2000, &b);

    g_assert_null(address_space_lookup(&as, 0));
    g_assert_null(address_space_lookup(&as, 0xfff));
    s = address_space_lookup(&as, 0x1000);
    g_assert_true(s && s->mr == &a);
    s = address_space_lookup(&as, 0x1fff);
    g_assert_true(s && s->mr == &a);
    s = address_space_lookup(&as, 0x2000);
    g_assert_true(s && s->mr == &b);
    s = address_space_lookup(&as, 0x2fff);
    g_assert_true(s && s->mr == &b);
    g_assert_null(address_space_lookup(&as, 0x3000));
    g_assert_null(address_space_lookup(&as, UINT64_MAX));

    /* a region at the very top of a 64-bit address space */
    memory_region_set_address(&b, UINT64_MAX - 0xfff - 0x1000);
    s = address_space_lookup(&as, UINT64_MAX - 0x1fff);
    g_assert_true(s && s->mr == &b);
    s = address_space_lookup(&as, UINT64_MAX - 0x1000);
    g_assert_true(s && s->mr == &b);
    g_assert_null(address_space_lookup(&as, UINT64_MAX - 0xfff));

    address_space_destroy(&as);
    memory_region_destroy(&root);
    memory_region_destroy(&a);
    memory_region_destroy(&b);
}

/* A PC-like layout: one RAM block shown below 4 GiB (up to the PCI hole)
 * and above 4 GiB through two aliases, like a 5 GiB guest, scaled down. */
static void test_high_ram_layout(void)
{
    MemoryRegion root, ram, below, above, hole, bios, bios_hi;
    AddressSpace as;
    IOLog log = { 0 };
    uint64_t val;
    const uint64_t below_sz = 0x3000, above_sz = 0x2000;
    const uint64_t hole_at = 0xe0000000ULL;

    memory_region_init(&root, "system", UINT64_MAX);
    address_space_init(&as, &root, "test");
    new_ram(&ram, "pc.ram", below_sz + above_sz, 0);
    memcpy(ram.ram + below_sz, "HIGH", 4);
    memory_region_init_alias(&below, "ram-below-4g", &ram, 0, below_sz);
    memory_region_init_alias(&above, "ram-above-4g", &ram, below_sz, above_sz);
    memory_region_init_io(&hole, &ops_impl_1, &log, "pci-hole", 4 * GiB - hole_at);
    g_assert_true(memory_region_init_rom(&bios, "bios", 0x1000, NULL));
    memcpy(bios.ram + 0xff0, "RESET", 5);
    memory_region_init_alias(&bios_hi, "isa-bios-hi", &bios, 0, 0x1000);

    memory_region_transaction_begin();
    memory_region_add_subregion(&root, 0, &below);
    memory_region_add_subregion(&root, 4 * GiB, &above);
    memory_region_add_subregion_overlap(&root, hole_at, &hole, -1);
    memory_region_add_subregion(&root, 4 * GiB - 0x1000, &bios_hi);
    memory_region_transaction_commit();

    g_assert_cmpuint(nr_ranges(&as), ==, 4);
    check_range(&as, 0, 0, below_sz, &ram, 0);
    check_range(&as, 1, hole_at, 4 * GiB - 0x1000 - hole_at, &hole, 0);
    check_range(&as, 2, 4 * GiB - 0x1000, 0x1000, &bios, 0);
    check_range(&as, 3, 4 * GiB, above_sz, &ram, below_sz);

    char s[6] = { 0 };
    g_assert_cmpint(address_space_read(&as, 4 * GiB, s, 4), ==, MEMTX_OK);
    g_assert_cmpstr(s, ==, "HIGH");
    g_assert_cmpint(address_space_read(&as, 4 * GiB - 0x10, s, 5), ==, MEMTX_OK);
    g_assert_cmpstr(s, ==, "RESET");
    /* first and last byte of high RAM */
    g_assert_cmpint(address_space_st(&as, 4 * GiB + above_sz - 1, 0x5a, 1), ==, MEMTX_OK);
    g_assert_cmphex(ram.ram[below_sz + above_sz - 1], ==, 0x5a);
    g_assert_cmpint(address_space_ld(&as, 4 * GiB + above_sz, &val, 1), ==,
                    MEMTX_DECODE_ERROR);
    /* the same host byte through both windows */
    g_assert_true(address_space_get_ram_ptr(&as, 4 * GiB, 4, true) == ram.ram + below_sz);
    g_assert_true(address_space_get_ram_ptr(&as, 0, 4, true) == ram.ram);
    /* a 4-byte read that runs from the top of high RAM into nothing */
    g_assert_cmpint(address_space_ld(&as, 4 * GiB + above_sz - 2, &val, 4), ==,
                    MEMTX_DECODE_ERROR);
    g_assert_cmphex(val, ==, 0xffff5afe);
    /* the PCI hole below the BIOS decodes to the device */
    g_assert_cmpint(address_space_ld(&as, hole_at + 2, &val, 1), ==, MEMTX_OK);
    g_assert_cmphex(val, ==, 0x12);
    g_assert_cmpint(log.n, ==, 1);
    /* the gap between low RAM and the hole is unmapped */
    g_assert_cmpint(address_space_ld(&as, below_sz, &val, 4), ==, MEMTX_DECODE_ERROR);

    GString *dump = g_string_new(NULL);
    address_space_dump_flat(dump, &as);
    g_assert_nonnull(strstr(dump->str, "pc.ram"));
    memory_region_dump_tree(dump, &root);
    g_assert_nonnull(strstr(dump->str, "ram-above-4g"));
    g_string_free(dump, TRUE);

    address_space_destroy(&as);
    memory_region_destroy(&root);
    memory_region_destroy(&below);
    memory_region_destroy(&above);
    memory_region_destroy(&bios_hi);
    memory_region_destroy(&hole);
    memory_region_destroy(&bios);
    memory_region_destroy(&ram);
}

/* A dword access that starts in a region goes there whole, even where a
 * byte-wide higher-priority region covers part of it (0xcf8 vs 0xcf9). */
static uint64_t cf8_last, cf9_last;
static unsigned cf8_writes, cf9_writes;

static void cf8_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    cf8_last = val | ((uint64_t)size << 40) | (addr << 48);
    cf8_writes++;
}

static void cf9_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    cf9_last = val;
    cf9_writes++;
}

static const MemoryRegionOps cf8_ops = { .write = cf8_write, .impl.max_access_size = 4 };
static const MemoryRegionOps cf9_ops = { .write = cf9_write, .valid.max_access_size = 1 };

static void test_overlap_whole_access(void)
{
    MemoryRegion root, conf, rcr;
    AddressSpace as;

    memory_region_init(&root, "io", 0x10000);
    address_space_init(&as, &root, "io");
    memory_region_init_io(&conf, &cf8_ops, NULL, "conf", 4);
    memory_region_init_io(&rcr, &cf9_ops, NULL, "rcr", 1);
    memory_region_add_subregion(&root, 0xcf8, &conf);
    memory_region_add_subregion_overlap(&root, 0xcf9, &rcr, 1);
    cf8_writes = cf9_writes = 0;
    g_assert_cmpint(address_space_st(&as, 0xcf8, 0x80000400, 4), ==, MEMTX_OK);
    g_assert_cmpuint(cf8_writes, ==, 1);
    g_assert_cmpuint(cf9_writes, ==, 0);
    g_assert_cmphex(cf8_last, ==, 0x80000400ULL | (4ULL << 40));
    g_assert_cmpint(address_space_st(&as, 0xcf9, 0x06, 1), ==, MEMTX_OK);
    g_assert_cmpuint(cf9_writes, ==, 1);
    g_assert_cmphex(cf9_last, ==, 0x06);
    /* An access that would run past its region's end is not sent whole. */
    g_assert_cmpint(address_space_st(&as, 0xcfa, 0x1234, 4), !=, MEMTX_OK);
    address_space_destroy(&as);
    memory_region_destroy(&conf);
    memory_region_destroy(&rcr);
    memory_region_destroy(&root);
}

/* ---- coalesced I/O windows and ioeventfds --------------------------------- */

typedef struct ExtrasLog {
    MemoryListener l;
    GString *log;
} ExtrasLog;

static void xl_co_add(MemoryListener *l, uint64_t addr, uint64_t size)
{
    g_string_append_printf(((ExtrasLog *)l)->log, "+co %" G_GINT64_MODIFIER "x/%" G_GINT64_MODIFIER "u;",
                           addr, size);
}

static void xl_co_del(MemoryListener *l, uint64_t addr, uint64_t size)
{
    g_string_append_printf(((ExtrasLog *)l)->log, "-co %" G_GINT64_MODIFIER "x/%" G_GINT64_MODIFIER "u;",
                           addr, size);
}

static void xl_fd_add(MemoryListener *l, const MemoryRegionIoeventfd *fd)
{
    g_string_append_printf(((ExtrasLog *)l)->log, "+fd %" G_GINT64_MODIFIER "x/%u%s;", fd->addr,
                           fd->size, fd->match_data ? "=" : "*");
}

static void xl_fd_del(MemoryListener *l, const MemoryRegionIoeventfd *fd)
{
    g_string_append_printf(((ExtrasLog *)l)->log, "-fd %" G_GINT64_MODIFIER "x/%u%s;", fd->addr,
                           fd->size, fd->match_data ? "=" : "*");
}

static void test_coalesced_windows(void)
{
    MemoryRegion root, conf, rcr;
    AddressSpace as;
    ExtrasLog xl = { .l = { .coalesced_io_add = xl_co_add, .coalesced_io_del = xl_co_del },
                     .log = g_string_new(NULL) };

    memory_region_init(&root, "io", 0x10000);
    address_space_init(&as, &root, "io");
    memory_region_init_io(&conf, &cf8_ops, NULL, "conf", 4);
    memory_region_init_io(&rcr, &cf9_ops, NULL, "rcr", 1);
    memory_region_add_coalescing(&conf, 0, 4);
    memory_region_add_subregion(&root, 0xcf8, &conf);
    memory_region_add_subregion_overlap(&root, 0xcf9, &rcr, 1);
    /* Registered late: told what exists.  The window is the region's own
     * range, once, although the flat view splits it around 0xcf9. */
    memory_listener_register(&xl.l, &as);
    g_assert_cmpstr(xl.log->str, ==, "+co cf8/4;");
    g_string_truncate(xl.log, 0);
    memory_region_set_address(&conf, 0x1cf8);
    g_assert_cmpstr(xl.log->str, ==, "-co cf8/4;+co 1cf8/4;");
    g_string_truncate(xl.log, 0);
    memory_region_set_enabled(&conf, false);
    g_assert_cmpstr(xl.log->str, ==, "-co 1cf8/4;");
    g_string_truncate(xl.log, 0);
    memory_region_set_enabled(&conf, true);
    memory_region_clear_coalescing(&conf);
    g_assert_cmpstr(xl.log->str, ==, "+co 1cf8/4;-co 1cf8/4;");
    /* Writes still reach the device directly when nothing defers them. */
    cf8_writes = 0;
    g_assert_cmpint(address_space_st(&as, 0x1cf8, 0x80000000, 4), ==, MEMTX_OK);
    g_assert_cmpuint(cf8_writes, ==, 1);
    memory_listener_unregister(&xl.l);
    address_space_destroy(&as);
    memory_region_destroy(&conf);
    memory_region_destroy(&rcr);
    memory_region_destroy(&root);
    g_string_free(xl.log, TRUE);
}

static void test_ioeventfd_dispatch(void)
{
    MemoryRegion root, dev;
    AddressSpace as;
    EventNotifier any, match;
    ExtrasLog xl = { .l = { .eventfd_add = xl_fd_add, .eventfd_del = xl_fd_del },
                     .log = g_string_new(NULL) };

    g_assert_true(event_notifier_init(&any, NULL));
    g_assert_true(event_notifier_init(&match, NULL));
    memory_region_init(&root, "io", 0x10000);
    address_space_init(&as, &root, "io");
    memory_listener_register(&xl.l, &as);
    memory_region_init_io(&dev, &cf8_ops, NULL, "dev", 0x10);
    memory_region_add_subregion(&root, 0x100, &dev);
    memory_region_add_eventfd(&dev, 4, 1, false, 0, &any);
    memory_region_add_eventfd(&dev, 8, 2, true, 0xbeef, &match);
    g_assert_cmpstr(xl.log->str, ==, "+fd 104/1*;+fd 108/2=;");

    cf8_writes = 0;
    /* Right size at the right place: the notifier, not the device. */
    address_space_st(&as, 0x104, 0x11, 1);
    address_space_st(&as, 0x104, 0x22, 1);
    g_assert_cmpuint(event_notifier_test_and_clear(&any), ==, 2);
    g_assert_cmpuint(event_notifier_test_and_clear(&any), ==, 0);
    g_assert_cmpuint(cf8_writes, ==, 0);
    /* Other sizes, other data, other offsets: the device. */
    address_space_st(&as, 0x104, 0x1122, 2);
    address_space_st(&as, 0x108, 0xbeee, 2);
    address_space_st(&as, 0x108, 0xbeef, 4);
    g_assert_cmpuint(cf8_writes, ==, 3);
    address_space_st(&as, 0x108, 0xbeef, 2);
    g_assert_cmpuint(event_notifier_test_and_clear(&match), ==, 1);
    g_assert_cmpuint(cf8_writes, ==, 3);
    /* address_space_write (DMA-style) goes the same way. */
    uint8_t b = 0x33;
    address_space_write(&as, 0x104, &b, 1);
    g_assert_cmpuint(event_notifier_test_and_clear(&any), ==, 1);

    g_string_truncate(xl.log, 0);
    memory_region_set_address(&dev, 0x200);
    g_assert_cmpstr(xl.log->str, ==, "-fd 104/1*;-fd 108/2=;+fd 204/1*;+fd 208/2=;");
    g_string_truncate(xl.log, 0);
    memory_region_del_eventfd(&dev, 4, 1, false, 0, &any);
    g_assert_cmpstr(xl.log->str, ==, "-fd 204/1*;");
    address_space_st(&as, 0x204, 0x11, 1);
    g_assert_cmpuint(event_notifier_test_and_clear(&any), ==, 0);
    g_assert_cmpuint(cf8_writes, ==, 4);

    memory_listener_unregister(&xl.l);
    address_space_destroy(&as);
    memory_region_destroy(&dev);
    memory_region_destroy(&root);
    event_notifier_cleanup(&any);
    event_notifier_cleanup(&match);
    g_string_free(xl.log, TRUE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/memory/flat/add-del", test_flat_add_del);
    g_test_add_func("/memory/flat/priorities", test_flat_priorities);
    g_test_add_func("/memory/flat/nested", test_flat_nested);
    g_test_add_func("/memory/flat/alias", test_flat_alias);
    g_test_add_func("/memory/flat/disable-move", test_flat_disable_move);
    g_test_add_func("/memory/listener/transactions", test_listener_transactions);
    g_test_add_func("/memory/listener/misc", test_listener_misc);
    g_test_add_func("/memory/dispatch/io", test_dispatch_io);
    g_test_add_func("/memory/dispatch/unmapped", test_dispatch_unmapped);
    g_test_add_func("/memory/dispatch/ram-rom", test_ram_rom);
    g_test_add_func("/memory/dispatch/cross", test_cross_ranges);
    g_test_add_func("/memory/dirty", test_dirty_log);
    g_test_add_func("/memory/dirty/clients", test_dirty_clients);
    g_test_add_func("/memory/dirty/global", test_dirty_global);
    g_test_add_func("/memory/dirty/kvm-merge", test_dirty_kvm_merge);
    g_test_add_func("/memory/dirty/snapshot", test_dirty_snapshot);
    g_test_add_func("/memory/dirty/code", test_dirty_code);
    g_test_add_func("/memory/translate", test_translate);
    g_test_add_func("/memory/generation", test_generation);
    g_test_add_func("/memory/attrs", test_attrs);
    g_test_add_func("/memory/dispatch/hole-skip", test_hole_skip);
    g_test_add_func("/memory/dispatch/remap-during-access", test_remap_during_access);
    g_test_add_func("/memory/rebuild-scope", test_rebuild_scope);
    g_test_add_func("/memory/flat/random", test_flat_random);
    g_test_add_func("/memory/flat/many", test_flat_many);
    g_test_add_func("/memory/lookup-boundaries", test_lookup_boundaries);
    g_test_add_func("/memory/high-ram", test_high_ram_layout);
    g_test_add_func("/memory/overlap-whole-access", test_overlap_whole_access);
    g_test_add_func("/memory/coalesced-windows", test_coalesced_windows);
    g_test_add_func("/memory/ioeventfd-dispatch", test_ioeventfd_dispatch);
    return g_test_run();
}

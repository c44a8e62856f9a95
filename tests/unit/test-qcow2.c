/*
 * The qcow2 driver (block/qcow2.c) through its synchronous paths: random
 * writes at odd offsets and lengths across cluster boundaries against a
 * model, every refcount width, backing files (COW of partial clusters,
 * reads past the backing file's end), zero clusters, discard, compressed
 * clusters (zlib, zstd), the dirty and corrupt bits, and every damaged
 * header field refused with an error naming the image.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include "block/block-int.h"
#include "block/qcow2.h"

static char *tmpdir;

static char *tpath(const char *name)
{
    return g_build_filename(tmpdir, name, NULL);
}

static BlockDriverState *open_q(const char *path, bool ro, Error **errp)
{
    return bdrv_open_image(path, "qcow2", ro, NULL, errp);
}

static void create(const char *path, Qcow2CreateOptions *o)
{
    Error *err = NULL;

    g_assert_true(qcow2_create(path, o, &err));
    g_assert_no_error(err);
}

static void assert_clean(BlockDriverState *bs)
{
    Qcow2CheckResult r = { 0 };

    g_assert_cmpint(qcow2_check(bs, 0, &r), ==, 0);
    if (r.corruptions || r.leaks || r.check_errors) {
        g_printerr("%s", r.log->str);
    }
    g_assert_cmpint(r.corruptions, ==, 0);
    g_assert_cmpint(r.leaks, ==, 0);
    g_assert_cmpint(r.check_errors, ==, 0);
    g_string_free(r.log, true);
}

static void io(BlockDriverState *bs, BlockRequestType t, int64_t off, void *buf, int64_t n)
{
    g_assert_cmpint(bdrv_sync_io(bs, t, off, buf, n, 0), ==, 0);
}

static void assert_reads(BlockDriverState *bs, const uint8_t *model, int64_t size)
{
    g_autofree uint8_t *b = g_malloc(size);

    io(bs, BLOCK_REQ_READ, 0, b, size);
    for (int64_t i = 0; i < size; i++) {
        if (b[i] != model[i]) {
            g_error("byte %" G_GINT64_FORMAT ": read %#x, expected %#x", i, b[i], model[i]);
        }
    }
}

/* Random writes (and some zeroes) mirrored into a model. */
static void random_writes(BlockDriverState *bs, uint8_t *model, int64_t size, int n,
                          uint32_t seed)
{
    GRand *r = g_rand_new_with_seed(seed);
    g_autofree uint8_t *b = g_malloc(256 * 1024);

    for (int i = 0; i < n; i++) {
        int64_t len = g_rand_int_range(r, 1, 200000);
        int64_t off = g_rand_int_range(r, 0, size - len);
        int kind = g_rand_int_range(r, 0, 4);
        for (int64_t k = 0; k < len; k++) {
            b[k] = kind == 0 ? 0 : kind == 1 ? 0x5a : g_rand_int(r);
        }
        io(bs, BLOCK_REQ_WRITE, off, b, len);
        memcpy(model + off, b, len);
    }
    g_rand_free(r);
}

static void test_random(gconstpointer data)
{
    int cs = GPOINTER_TO_INT(data);
    g_autofree char *path = tpath("random.qcow2");
    int64_t size = 4 << 20;
    g_autofree uint8_t *model = g_malloc0(size);
    Qcow2CreateOptions o = { .size = size, .cluster_size = cs };
    BlockDriverState *bs;
    Error *err = NULL;

    create(path, &o);
    bs = open_q(path, false, &err);
    g_assert_no_error(err);
    random_writes(bs, model, size, 60, cs);
    assert_reads(bs, model, size);
    assert_clean(bs);
    bdrv_unref(bs);
    bs = open_q(path, true, &err);
    g_assert_no_error(err);
    assert_reads(bs, model, size);
    bdrv_unref(bs);
}

/*
 * Writes of many whole clusters at once (what convert and a guest's large
 * requests do): fresh clusters become one run of contiguous host clusters
 * (one DATA extent), all-zero clusters inside become zero clusters (v3),
 * clusters that already have a host cluster are written in place, runs
 * stop at L2 table ends (512-byte clusters: 64 entries per table, new
 * refcount blocks on the way), and the image stays clean.
 */
static void test_write_runs(gconstpointer data)
{
    int variant = GPOINTER_TO_INT(data);        /* 0 v3, 1 v2, 2 extended L2, 3 512 B */
    int cs = variant == 2 ? 32768 : variant == 3 ? 512 : 65536;
    int64_t size = 8 << 20, len = 1 << 20, base = 2 << 20;
    g_autofree char *path = tpath("runs.qcow2");
    g_autofree uint8_t *model = g_malloc0(size);
    g_autofree uint8_t *b = g_malloc(len);
    Qcow2CreateOptions o = { .size = size, .cluster_size = cs, .version = variant == 1 ? 2 : 3,
                             .extended_l2 = variant == 2 };
    GRand *r = g_rand_new_with_seed(77 + variant);
    BlockDriverState *bs;
    Error *err = NULL;
    int64_t pnum;
    uint64_t host, host2;

    create(path, &o);
    bs = open_q(path, false, &err);
    g_assert_no_error(err);
    /* one cluster already there (written in place later), one zero cluster */
    memset(b, 0x11, cs);
    io(bs, BLOCK_REQ_WRITE, base + 5 * cs, b, cs);
    io(bs, BLOCK_REQ_WRITE_ZEROES, base + 9 * cs, NULL, cs);
    g_assert_cmpint(qcow2_block_status(bs, base + 5 * cs, cs, &pnum, &host2), ==,
                    QCOW2_ST_DATA);
    for (int64_t i = 0; i < len; i++) {
        b[i] = g_rand_int(r) | 1;
    }
    memset(b + 12 * cs, 0, cs);                 /* an all-zero cluster inside */
    io(bs, BLOCK_REQ_WRITE, base, b, len);
    memcpy(model + base, b, len);
    /* the first five clusters: one allocation, contiguous */
    g_assert_cmpint(qcow2_block_status(bs, base, 5 * cs, &pnum, &host), ==, QCOW2_ST_DATA);
    g_assert_cmpint(pnum, ==, 5 * cs);
    /* the old cluster kept its place */
    g_assert_cmpint(qcow2_block_status(bs, base + 5 * cs, cs, &pnum, &host), ==,
                    QCOW2_ST_DATA);
    g_assert_cmpuint(host, ==, host2);
    if (variant == 0) {
        g_assert_cmpint(qcow2_block_status(bs, base + 12 * cs, cs, &pnum, &host), ==,
                        QCOW2_ST_ZERO);
        /* after the zero cluster, the rest (3 clusters) in one run */
        g_assert_cmpint(qcow2_block_status(bs, base + 13 * cs, len - 13 * cs, &pnum, &host),
                        ==, QCOW2_ST_DATA);
        g_assert_cmpint(pnum, ==, len - 13 * cs);
    }
    /* a run that starts in the middle of a file cluster and crosses L2 tables */
    for (int64_t i = 0; i < len; i++) {
        b[i] = g_rand_int(r);
    }
    io(bs, BLOCK_REQ_WRITE, 5 * cs + 100, b, len - 200);
    memcpy(model + 5 * cs + 100, b, len - 200);
    assert_reads(bs, model, size);
    assert_clean(bs);
    bdrv_unref(bs);
    bs = open_q(path, true, &err);
    g_assert_no_error(err);
    assert_reads(bs, model, size);
    bdrv_unref(bs);
    g_rand_free(r);
}

static void test_refcount_widths(void)
{
    for (int bits = 1; bits <= 64; bits *= 2) {
        g_autofree char *path = tpath("rc.qcow2");
        int64_t size = 2 << 20;
        g_autofree uint8_t *model = g_malloc0(size);
        Qcow2CreateOptions o = { .size = size, .cluster_size = 512, .refcount_bits = bits };
        Qcow2ImageInfo qi;
        BlockDriverState *bs;
        Error *err = NULL;

        create(path, &o);
        bs = open_q(path, false, &err);
        g_assert_no_error(err);
        qcow2_get_info(bs, &qi);
        g_assert_cmpint(qi.refcount_bits, ==, bits);
        /* 512-byte clusters and wide refcounts: many refcount blocks and a
         * refcount table that has to grow */
        random_writes(bs, model, size, 30, bits);
        assert_reads(bs, model, size);
        assert_clean(bs);
        bdrv_unref(bs);
    }
}

static char *make_raw(const char *name, int64_t size, uint32_t seed, uint8_t **data)
{
    char *path = tpath(name);
    uint8_t *b = g_malloc(size);
    GRand *r = g_rand_new_with_seed(seed);

    for (int64_t i = 0; i < size; i++) {
        b[i] = g_rand_int(r);
    }
    g_assert_true(g_file_set_contents(path, (char *)b, size, NULL));
    g_rand_free(r);
    *data = b;
    return path;
}

static void test_backing(void)
{
    uint8_t *base_data;
    g_autofree char *base = make_raw("base.raw", 300000, 7, &base_data);
    g_autofree char *top = tpath("top.qcow2");
    int64_t size = 1 << 20;
    g_autofree uint8_t *model = g_malloc0(size);
    Qcow2CreateOptions o = { .size = size, .cluster_size = 4096, .backing_file = "base.raw",
                             .backing_fmt = "raw" };
    g_autofree uint8_t *b = g_malloc(size);
    g_autofree char *after = NULL;
    gsize alen;
    BlockDriverState *bs;
    Error *err = NULL;
    int64_t pnum;
    uint64_t host;

    create(top, &o);
    memcpy(model, base_data, 300000);    /* past the backing file's end: zeroes */
    bs = open_q(top, false, &err);
    g_assert_no_error(err);
    assert_reads(bs, model, size);
    /* 100 bytes in the middle of a cluster: the rest of it is the base's */
    memset(b, 0xee, 100);
    io(bs, BLOCK_REQ_WRITE, 8192 + 1000, b, 100);
    memset(model + 8192 + 1000, 0xee, 100);
    g_assert_cmpint(qcow2_block_status(bs, 8192, 4096, &pnum, &host), ==, QCOW2_ST_DATA);
    g_assert_cmpint(qcow2_block_status(bs, 0, 4096, &pnum, &host), ==, QCOW2_ST_UNALLOC);
    /* a write that straddles the backing file's end */
    memset(b, 0x11, 9000);
    io(bs, BLOCK_REQ_WRITE, 296000, b, 9000);
    memset(model + 296000, 0x11, 9000);
    random_writes(bs, model, size, 20, 3);
    assert_reads(bs, model, size);
    assert_clean(bs);
    bdrv_unref(bs);
    g_assert_true(g_file_get_contents(base, &after, &alen, NULL));
    g_assert_cmpint(alen, ==, 300000);
    g_assert_true(memcmp(after, base_data, alen) == 0);
    g_free(base_data);
}

static void test_zero_discard(void)
{
    uint8_t *base_data;
    g_autofree char *base = make_raw("zbase.raw", 1 << 20, 9, &base_data);
    g_autofree char *top = tpath("z.qcow2");
    Qcow2CreateOptions o = { .size = 1 << 20, .cluster_size = 65536,
                             .backing_file = base, .backing_fmt = "raw" };
    g_autofree uint8_t *model = g_memdup2(base_data, 1 << 20);
    g_autofree uint8_t *b = g_malloc(65536);
    BlockDriverState *bs;
    Error *err = NULL;
    int64_t pnum;
    uint64_t host;

    create(top, &o);
    bs = open_q(top, false, &err);
    g_assert_no_error(err);
    /* write-zeroes of whole clusters over the backing: zero clusters */
    io(bs, BLOCK_REQ_WRITE_ZEROES, 65536, NULL, 131072);
    memset(model + 65536, 0, 131072);
    g_assert_cmpint(qcow2_block_status(bs, 65536, 131072, &pnum, &host), ==, QCOW2_ST_ZERO);
    g_assert_cmpint(pnum, ==, 131072);
    /* partial write-zeroes: written as data, the rest from the backing */
    io(bs, BLOCK_REQ_WRITE_ZEROES, 300000, NULL, 1000);
    memset(model + 300000, 0, 1000);
    /* a whole cluster of zeroes written as data becomes a zero cluster */
    memset(b, 0, 65536);
    io(bs, BLOCK_REQ_WRITE, 524288, b, 65536);
    memset(model + 524288, 0, 65536);
    g_assert_cmpint(qcow2_block_status(bs, 524288, 65536, &pnum, &host), ==, QCOW2_ST_ZERO);
    /* data then discard: with a backing file the cluster reads as zeroes */
    memset(b, 0x77, 65536);
    io(bs, BLOCK_REQ_WRITE, 655360, b, 65536);
    io(bs, BLOCK_REQ_DISCARD, 655360, NULL, 65536);
    memset(model + 655360, 0, 65536);
    assert_reads(bs, model, 1 << 20);
    assert_clean(bs);
    bdrv_unref(bs);

    /* without a backing file discard deallocates, and frees the cluster */
    {
        g_autofree char *p = tpath("d.qcow2");
        Qcow2CreateOptions o2 = { .size = 1 << 20 };
        create(p, &o2);
        bs = open_q(p, false, &err);
        g_assert_no_error(err);
        io(bs, BLOCK_REQ_WRITE, 0, b, 65536);
        g_assert_cmpint(qcow2_block_status(bs, 0, 65536, &pnum, &host), ==, QCOW2_ST_DATA);
        io(bs, BLOCK_REQ_DISCARD, 0, NULL, 65536);
        g_assert_cmpint(qcow2_block_status(bs, 0, 65536, &pnum, &host), ==, QCOW2_ST_UNALLOC);
        memset(model, 0, 65536);
        assert_reads(bs, model, 65536);
        assert_clean(bs);           /* no leak: the refcount dropped */
        bdrv_unref(bs);
    }
    g_free(base_data);
}

/* block/file-posix.c's hook: every fdatasync of the image file. */
static int syncs;

static void count_sync(const char *filename, int ret)
{
    g_atomic_int_inc(&syncs);
}

/* A read-only open of a copy of the file as it is now. */
static BlockDriverState *open_copy(const char *path, const char *copy)
{
    g_autofree char *data = NULL;
    Error *err = NULL;
    BlockDriverState *bs;
    gsize len;

    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    g_assert_true(g_file_set_contents(copy, data, len, NULL));
    bs = open_q(copy, true, &err);
    g_assert_no_error(err);
    return bs;
}

static void check_counts(BlockDriverState *bs, int64_t *leaks, int64_t *corruptions)
{
    Qcow2CheckResult r = { 0 };

    g_assert_cmpint(qcow2_check(bs, 0, &r), ==, 0);
    *leaks = r.leaks;
    *corruptions = r.corruptions + r.check_errors;
    g_string_free(r.log, true);
}

/*
 * Writes that allocate clusters flush nothing: the new L2 entries wait in
 * the cache (the file still has the old tables: what a crash would leave,
 * leaked clusters and nothing worse) until the guest's flush writes them,
 * after one host flush for the refcounts and data, and one after.  A
 * fresh cluster gets only its data written and the rest zeroed by the
 * file; one reused inside the file (freed by a discard) reads as zeroes
 * around the data too.
 */
static void test_deferred_l2(void)
{
    g_autofree char *path = tpath("defer.qcow2"), *copy = tpath("defer-copy.qcow2");
    int64_t size = 64 << 20, leaks, bad, pnum;
    Qcow2CreateOptions o = { .size = size };
    g_autofree uint8_t *model = g_malloc0(size);
    g_autofree uint8_t *b = g_malloc(65536);
    GRand *r = g_rand_new_with_seed(42);
    BlockDriverState *bs, *ro;
    uint64_t freed, host;
    Error *err = NULL;

    create(path, &o);
    bs = open_q(path, false, &err);
    g_assert_no_error(err);
    /* the L2 table first (a new table is flushed before the L1 entry) */
    memset(b, 0x11, 512);
    io(bs, BLOCK_REQ_WRITE, size - 512, b, 512);
    memcpy(model + size - 512, b, 512);
    io(bs, BLOCK_REQ_FLUSH, 0, NULL, 0);
    block_file_sync_hook = count_sync;
    syncs = 0;
    for (int i = 0; i < 300; i++) {
        int64_t off = g_rand_int_range(r, 0, (size - 8192) / 512) * 512;
        for (int k = 0; k < 4096; k++) {
            b[k] = g_rand_int(r) | 1;
        }
        io(bs, BLOCK_REQ_WRITE, off, b, 4096);
        memcpy(model + off, b, 4096);
    }
    g_assert_cmpint(syncs, ==, 0);
    assert_reads(bs, model, size);

    /* a copy of the file now is what a crash would leave */
    ro = open_copy(path, copy);
    g_assert_no_error(err);
    check_counts(ro, &leaks, &bad);
    g_assert_cmpint(bad, ==, 0);
    g_assert_cmpint(leaks, >, 250);
    bdrv_unref(ro);

    io(bs, BLOCK_REQ_FLUSH, 0, NULL, 0);
    g_assert_cmpint(syncs, ==, 2);
    ro = open_copy(path, copy);
    g_assert_no_error(err);
    assert_reads(ro, model, size);
    check_counts(ro, &leaks, &bad);
    g_assert_cmpint(leaks + bad, ==, 0);
    bdrv_unref(ro);
    io(bs, BLOCK_REQ_FLUSH, 0, NULL, 0);
    g_assert_cmpint(syncs, ==, 3);          /* nothing dirty: one flush */

    /* a freed cluster inside the file, reused: zeroes around new data */
    memset(b, 0xee, 65536);
    io(bs, BLOCK_REQ_WRITE, 0, b, 65536);
    g_assert_cmpint(qcow2_block_status(bs, 0, 65536, &pnum, &freed), ==, QCOW2_ST_DATA);
    io(bs, BLOCK_REQ_DISCARD, 0, NULL, 65536);
    memset(model, 0, 65536);
    for (int64_t off = 65536; off < size; off += 65536) {
        if (qcow2_block_status(bs, off, 65536, &pnum, &host) == QCOW2_ST_UNALLOC) {
            memset(b, 0x3c, 4096);
            io(bs, BLOCK_REQ_WRITE, off + 8192, b, 4096);
            memcpy(model + off + 8192, b, 4096);
            g_assert_cmpint(qcow2_block_status(bs, off, 65536, &pnum, &host), ==,
                            QCOW2_ST_DATA);
            g_assert_cmpuint(host, ==, freed);
            break;
        }
    }
    assert_reads(bs, model, size);
    block_file_sync_hook = NULL;
    bdrv_unref(bs);
    bs = open_q(path, true, &err);
    g_assert_no_error(err);
    assert_reads(bs, model, size);
    assert_clean(bs);
    bdrv_unref(bs);
    g_rand_free(r);
}

/* A discard (and write-zeroes) of many whole clusters changes their
 * entries table by table: one table write and one host flush per L2
 * table, before the clusters are released (not one flush per cluster). */
static void test_discard_batch(void)
{
    g_autofree char *path = tpath("dbatch.qcow2");
    int64_t size = 8 << 20, leaks, bad;
    Qcow2CreateOptions o = { .size = size, .cluster_size = 4096 };
    g_autofree uint8_t *model = g_malloc(size);
    BlockDriverState *bs;
    Error *err = NULL;

    create(path, &o);
    bs = open_q(path, false, &err);
    g_assert_no_error(err);
    memset(model, 0x6b, size);
    io(bs, BLOCK_REQ_WRITE, 0, model, size);
    io(bs, BLOCK_REQ_FLUSH, 0, NULL, 0);
    block_file_sync_hook = count_sync;
    syncs = 0;
    /* 4096-byte clusters: 512 entries (2 MiB) per table; 6 MiB from 1 MiB
     * touches four tables */
    io(bs, BLOCK_REQ_DISCARD, 1 << 20, NULL, 6 << 20);
    memset(model + (1 << 20), 0, 6 << 20);
    g_assert_cmpint(syncs, ==, 4);
    syncs = 0;
    io(bs, BLOCK_REQ_WRITE_ZEROES, 0, NULL, 1 << 20);
    memset(model, 0, 1 << 20);
    g_assert_cmpint(syncs, ==, 1);
    block_file_sync_hook = NULL;
    assert_reads(bs, model, size);
    check_counts(bs, &leaks, &bad);
    g_assert_cmpint(leaks + bad, ==, 0);
    bdrv_unref(bs);
}

static void test_compressed(void)
{
    for (int ct = 0; ct < 2; ct++) {
        g_autofree char *p = tpath("c.qcow2");
        Qcow2CreateOptions o = { .size = 1 << 20, .cluster_size = 4096, .compression_type = ct };
        g_autofree uint8_t *model = g_malloc0(1 << 20);
        BlockDriverState *bs;
        Error *err = NULL;
        int64_t pnum;
        uint64_t host;

        create(p, &o);
        bs = open_q(p, false, &err);
        g_assert_no_error(err);
        for (int c = 0; c < 64; c++) {
            for (int i = 0; i < 4096; i++) {
                model[c * 4096 + i] = (i / (c + 1)) ^ c;
            }
            g_assert_cmpint(qcow2_write_compressed(bs, c * 4096, model + c * 4096), ==, 0);
        }
        g_assert_cmpint(qcow2_block_status(bs, 4096, 4096, &pnum, &host), ==,
                        QCOW2_ST_COMPRESSED);
        assert_reads(bs, model, 1 << 20);
        assert_clean(bs);
        /* a partial overwrite decompresses, merges, and frees its share */
        memset(model + 5 * 4096 + 100, 0xab, 50);
        io(bs, BLOCK_REQ_WRITE, 5 * 4096 + 100, model + 5 * 4096 + 100, 50);
        g_assert_cmpint(qcow2_block_status(bs, 5 * 4096, 4096, &pnum, &host), ==,
                        QCOW2_ST_DATA);
        assert_reads(bs, model, 1 << 20);
        assert_clean(bs);
        bdrv_unref(bs);
        bs = open_q(p, true, &err);
        g_assert_no_error(err);
        assert_reads(bs, model, 1 << 20);
        bdrv_unref(bs);
    }
}

static uint64_t header_u64(const char *path, off_t off)
{
    uint64_t v = 0;
    int fd = open(path, O_RDONLY);

    g_assert_cmpint(pread(fd, &v, 8, off), ==, 8);
    close(fd);
    return GUINT64_FROM_BE(v);
}

static void poke(const char *path, off_t off, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY);

    g_assert_cmpint(pwrite(fd, data, len, off), ==, (ssize_t)len);
    close(fd);
}

static void poke64(const char *path, off_t off, uint64_t v)
{
    v = GUINT64_TO_BE(v);
    poke(path, off, &v, 8);
}

static void poke32(const char *path, off_t off, uint32_t v)
{
    v = GUINT32_TO_BE(v);
    poke(path, off, &v, 4);
}

static void test_dirty_bit(void)
{
    g_autofree char *p = tpath("lazy.qcow2");
    Qcow2CreateOptions o = { .size = 1 << 20, .lazy_refcounts = true };
    uint8_t b[4096];
    BlockDriverState *bs;
    Error *err = NULL;
    Qcow2ImageInfo qi;

    create(p, &o);
    g_assert_cmphex(header_u64(p, 72) & 1, ==, 0);
    bs = open_q(p, false, &err);
    g_assert_no_error(err);
    memset(b, 1, sizeof(b));
    io(bs, BLOCK_REQ_WRITE, 0, b, sizeof(b));
    g_assert_cmphex(header_u64(p, 72) & 1, ==, 1);      /* dirty while open */
    qcow2_get_info(bs, &qi);
    g_assert_true(qi.dirty && qi.lazy_refcounts);
    bdrv_unref(bs);
    g_assert_cmphex(header_u64(p, 72) & 1, ==, 0);      /* clean after close */

    /* a crash left the bit set and a leaked cluster: opening repairs */
    poke64(p, 72, 1);
    {
        uint64_t rt = header_u64(p, 48), rb = header_u64(p, rt);
        uint16_t one = GUINT16_TO_BE(1);
        poke(p, rb + 2 * 40, &one, 2);       /* cluster 40: nobody uses it */
    }
    bs = open_q(p, false, &err);
    g_assert_no_error(err);
    assert_clean(bs);
    bdrv_unref(bs);
    g_assert_cmphex(header_u64(p, 72) & 1, ==, 0);
}

static void test_corrupt_bit(void)
{
    g_autofree char *p = tpath("corrupt.qcow2");
    Qcow2CreateOptions o = { .size = 1 << 20, .cluster_size = 4096 };
    uint8_t b[4096];
    BlockDriverState *bs;
    Error *err = NULL;
    uint64_t l1;

    create(p, &o);
    bs = open_q(p, false, &err);
    memset(b, 2, sizeof(b));
    io(bs, BLOCK_REQ_WRITE, 0, b, sizeof(b));
    bdrv_unref(bs);
    /* an L1 entry pointing into the header: detected, the image marked corrupt */
    l1 = header_u64(p, 40);
    poke64(p, l1, (1ull << 63) | 512);
    bs = open_q(p, false, &err);
    g_assert_no_error(err);
    g_assert_cmpint(bdrv_sync_io(bs, BLOCK_REQ_READ, 0, b, 512, 0), ==, -EIO);
    g_assert_cmpint(bdrv_sync_io(bs, BLOCK_REQ_WRITE, 0, b, 512, 0), ==, -EPERM);
    bdrv_unref(bs);
    g_assert_cmphex(header_u64(p, 72) & 2, ==, 2);
    /* then read-only only, as QEMU */
    g_assert_null(open_q(p, false, &err));
    g_assert_nonnull(strstr(err->message, "is corrupt; cannot be opened read/write"));
    g_assert_nonnull(strstr(err->message, p));
    g_clear_error(&err);
    bs = open_q(p, true, &err);
    g_assert_no_error(err);
    bdrv_unref(bs);
}

typedef struct HeaderCase {
    const char *what;
    off_t off;
    int width;                  /* 4 or 8; 0: truncate the file to off */
    uint64_t value;
    const char *expect;
} HeaderCase;

static void test_bad_headers(void)
{
    static const HeaderCase cases[] = {
        { "truncated", 50, 0, 0, "too short" },
        { "truncated v3 header", 90, 0, 0, "truncated" },
        { "magic", 0, 4, 0x12345678, "not in qcow2 format" },
        { "version", 4, 4, 4, "Unsupported qcow2 version 4" },
        { "cluster bits", 20, 4, 30, "cluster size" },
        { "cluster bits low", 20, 4, 8, "cluster size" },
        { "encryption", 32, 4, 1, "encrypted" },
        { "size", 24, 8, 1ull << 62, "too large" },
        { "L1 size absurd", 36, 4, 0x10000000, "L1 table is too large" },
        { "L1 size small", 36, 4, 0, "L1 table is too small" },
        { "L1 offset beyond", 40, 8, 1ull << 40, "beyond the end" },
        { "L1 offset unaligned", 40, 8, 65536 + 8, "not cluster aligned" },
        { "L1 over header", 40, 8, 0, "overlaps the header" },
        { "refcount table beyond", 48, 8, 1ull << 40, "beyond the end" },
        { "refcount table clusters", 56, 4, 0x100000, "reference count table is too large" },
        { "refcount table none", 56, 4, 0, "no reference count table" },
        { "unknown incompatible", 72, 8, 1ull << 40, "unsupported qcow2 feature" },
        { "external data file", 72, 8, 4, "external data file" },
        { "refcount order", 96, 4, 7, "refcount width" },
        { "header length", 100, 4, 7, "invalid header length" },
        { "backing name", 8, 8, 70000, "backing file name is invalid" },
        { "compression bit without type", 72, 8, 8, "compression type" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *p = tpath("bad.qcow2");
        Qcow2CreateOptions o = { .size = 1 << 20 };
        Error *err = NULL;

        create(p, &o);
        if (!cases[i].width) {
            g_assert_cmpint(truncate(p, cases[i].off), ==, 0);
        } else if (cases[i].width == 4) {
            poke32(p, cases[i].off, cases[i].value);
        } else {
            if (!strcmp(cases[i].what, "backing name")) {
                poke32(p, 16, 10);
            }
            poke64(p, cases[i].off, cases[i].value);
        }
        g_assert_null(open_q(p, true, &err));
        if (!err || !strstr(err->message, cases[i].expect) || !strstr(err->message, p)) {
            g_error("%s: got '%s', expected '%s' and the image name", cases[i].what,
                    err ? err->message : "(no error)", cases[i].expect);
        }
        g_clear_error(&err);
    }
}

static void test_extended_l2_read(void)
{
    /* An extended-L2 image written through the driver reads back; the
     * subcluster bitmap says "allocated" for whole written clusters and
     * zero/unallocated subclusters come from their bits. */
    g_autofree char *p = tpath("ext.qcow2");
    Qcow2CreateOptions o = { .size = 1 << 20, .cluster_size = 65536, .extended_l2 = true };
    g_autofree uint8_t *model = g_malloc0(1 << 20);
    BlockDriverState *bs;
    Error *err = NULL;
    uint64_t l1, l2, bitmap;

    create(p, &o);
    bs = open_q(p, false, &err);
    g_assert_no_error(err);
    random_writes(bs, model, 1 << 20, 10, 5);
    assert_reads(bs, model, 1 << 20);
    assert_clean(bs);
    bdrv_unref(bs);
    /* mark subcluster 1 of cluster 0 "zero" instead of allocated */
    l1 = header_u64(p, 40);
    l2 = header_u64(p, l1) & 0x00fffffffffffe00ull;
    bitmap = header_u64(p, l2 + 8);
    if (bitmap & 2) {
        poke64(p, l2 + 8, (bitmap & ~2ull) | (1ull << 33));
        memset(model + 2048, 0, 2048);
    }
    bs = open_q(p, true, &err);
    g_assert_no_error(err);
    assert_reads(bs, model, 1 << 20);
    bdrv_unref(bs);
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    /* tmpfs where there is one: every allocation is flushed (fdatasync) */
    tmpdir = g_file_test("/dev/shm", G_FILE_TEST_IS_DIR)
             ? g_mkdtemp(g_strdup("/dev/shm/kvmpc-qcow2-XXXXXX"))
             : g_dir_make_tmp("kvmpc-qcow2-XXXXXX", NULL);
    g_test_add_data_func("/qcow2/random/512", GINT_TO_POINTER(512), test_random);
    g_test_add_data_func("/qcow2/random/4k", GINT_TO_POINTER(4096), test_random);
    g_test_add_data_func("/qcow2/random/64k", GINT_TO_POINTER(65536), test_random);
    g_test_add_data_func("/qcow2/random/2M", GINT_TO_POINTER(2 << 20), test_random);
    g_test_add_data_func("/qcow2/write-runs/v3", GINT_TO_POINTER(0), test_write_runs);
    g_test_add_data_func("/qcow2/write-runs/v2", GINT_TO_POINTER(1), test_write_runs);
    g_test_add_data_func("/qcow2/write-runs/extl2", GINT_TO_POINTER(2), test_write_runs);
    g_test_add_data_func("/qcow2/write-runs/512", GINT_TO_POINTER(3), test_write_runs);
    g_test_add_func("/qcow2/refcount-widths", test_refcount_widths);
    g_test_add_func("/qcow2/backing", test_backing);
    g_test_add_func("/qcow2/zero-discard", test_zero_discard);
    g_test_add_func("/qcow2/compressed", test_compressed);
    g_test_add_func("/qcow2/deferred-l2", test_deferred_l2);
    g_test_add_func("/qcow2/discard-batch", test_discard_batch);
    g_test_add_func("/qcow2/dirty-bit", test_dirty_bit);
    g_test_add_func("/qcow2/corrupt-bit", test_corrupt_bit);
    g_test_add_func("/qcow2/bad-headers", test_bad_headers);
    g_test_add_func("/qcow2/extended-l2", test_extended_l2_read);
    ret = g_test_run();
    {
        g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);
        if (system(cmd) != 0) {
            g_printerr("could not remove %s\n", tmpdir);
        }
    }
    return ret;
}

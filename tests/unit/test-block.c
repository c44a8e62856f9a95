/*
 * The block layer (block/): BlockBackend requests on file/raw nodes through
 * both I/O engines, flush semantics, discard, write-zeroes, bounds and
 * read-only refusal, O_DIRECT bounce buffers, the -snapshot overlay, image
 * locking, the I/O accounting of query-blockstats, and the -drive /
 * -blockdev parsers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib.h>
#include "block/block-int.h"
#include "block/blockdev.h"
#include "block/qcow2.h"
#include "system/main-loop.h"

static char *tmpdir;
/* Calls that must succeed report here; every test checks it. */
static Error *ok_err;

/* ---- helpers ---------------------------------------------------------- */

static char *make_image(const char *name, size_t size, uint32_t seed)
{
    char *path = g_build_filename(tmpdir, name, NULL);
    uint8_t *buf = g_malloc(size);
    GRand *r = g_rand_new_with_seed(seed);

    g_assert_no_error(ok_err);
    for (size_t i = 0; i < size; i++) {
        buf[i] = g_rand_int(r);
    }
    g_assert_true(g_file_set_contents(path, (char *)buf, size, NULL));
    g_rand_free(r);
    g_free(buf);
    return path;
}

static uint8_t *file_contents(const char *path, size_t *len)
{
    char *data;
    gsize n;

    g_assert_true(g_file_get_contents(path, &data, &n, NULL));
    *len = n;
    return (uint8_t *)data;
}

static char *sha256(const void *p, size_t len)
{
    return g_compute_checksum_for_data(G_CHECKSUM_SHA256, p, len);
}

static BlockBackend *open_blk(const char *path, BlockFileOptions *fo_in, Error **errp)
{
    BlockFileOptions fo = fo_in ? *fo_in : (BlockFileOptions){ 0 };
    BlockDriverState *bs;
    BlockBackend *blk;

    fo.filename = path;
    bs = bdrv_open_file(&fo, errp);
    if (!bs) {
        return NULL;
    }
    bs = bdrv_open_raw(bs, 0, -1, errp);
    if (!bs) {
        return NULL;
    }
    blk = blk_new(NULL);
    blk_insert_bs(blk, bs, &ok_err);
    bdrv_unref(bs);
    blk_set_read_only(blk, fo.read_only);
    blk_set_discard(blk, fo.discard_unmap);
    return blk;
}

/* ---- read/write through both engines ---------------------------------- */

typedef struct AioCtx {
    int done, ret_sum;
    bool in_submit;
    bool completed_in_submit;
    bool bql_at_completion;
} AioCtx;

static void aio_cb(void *opaque, int ret)
{
    AioCtx *c = opaque;

    c->done++;
    c->ret_sum += ret < 0 ? 1 : 0;
    c->completed_in_submit |= c->in_submit;
    c->bql_at_completion = bql_locked();
}

static void rw_random(BlockAioMode aio, bool direct)
{
    const size_t size = 1 << 20;
    g_autofree char *path = make_image("rw.img", size, 1);
    BlockFileOptions fo = { .aio = aio, .direct = direct };
    g_autoptr(GError) err = NULL;
    BlockBackend *blk = open_blk(path, &fo, &err);
    uint8_t *shadow, *buf;
    GRand *r = g_rand_new_with_seed(42);
    size_t flen;

    if (!blk && direct) {
        g_test_skip(err->message);
        return;
    }
    g_assert_no_error(err);
    if (aio == BLOCK_AIO_IO_URING && strcmp(bdrv_file_engine(blk_bs(blk)), "io_uring")) {
        g_test_skip("io_uring_queue_init failed here: the thread-pool fallback is in use");
        blk_unref(blk);
        g_rand_free(r);
        return;
    }
    g_assert_cmpstr(bdrv_file_engine(blk_bs(blk)), ==,
                    aio == BLOCK_AIO_THREADS ? "threads" : "io_uring");
    shadow = file_contents(path, &flen);
    g_assert_cmpint(blk_getlength(blk), ==, size);
    g_assert_cmpuint(blk_get_nb_sectors(blk), ==, size / 512);
    buf = g_malloc(65536 + 1);

    /* Unaligned and aligned writes and reads at random; a shadow copy
     * says what every read must return. */
    for (int i = 0; i < 200; i++) {
        bool aligned = i & 1;
        int64_t len = aligned ? 512 * g_rand_int_range(r, 1, 128) : g_rand_int_range(r, 1, 65536);
        int64_t off = aligned ? 512 * g_rand_int_range(r, 0, (size - len) / 512)
                              : g_rand_int_range(r, 0, size - len);
        uint8_t *p = buf + (aligned ? 0 : 1);       /* an unaligned buffer too */

        if (g_rand_boolean(r)) {
            for (int64_t k = 0; k < len; k++) {
                p[k] = g_rand_int(r);
            }
            g_assert_cmpint(blk_pwrite(blk, off, p, len, 0), ==, 0);
            memcpy(shadow + off, p, len);
        } else {
            g_assert_cmpint(blk_pread(blk, off, p, len), ==, 0);
            g_assert_true(memcmp(p, shadow + off, len) == 0);
        }
    }
    /* Several requests in flight at once, with a scattered vector. */
    {
        AioCtx c = { 0 };
        struct iovec iov[8][3];
        uint8_t *bufs = g_malloc(8 * 3 * 1000);
        for (int i = 0; i < 8 * 3 * 1000; i++) {
            bufs[i] = i * 7 + 3;
        }
        c.in_submit = true;
        for (int i = 0; i < 8; i++) {
            for (int j = 0; j < 3; j++) {
                iov[i][j].iov_base = bufs + (i * 3 + j) * 1000;
                iov[i][j].iov_len = 1000;
            }
            blk_aio_pwritev(blk, 100000 + i * 3000, iov[i], 3, 0, aio_cb, &c);
            memcpy(shadow + 100000 + i * 3000, bufs + i * 3000, 3000);
        }
        c.in_submit = false;
        g_assert_cmpuint(blk_in_flight(blk), ==, 8);
        blk_drain(blk);
        g_assert_cmpint(c.done, ==, 8);
        g_assert_cmpint(c.ret_sum, ==, 0);
        g_assert_false(c.completed_in_submit);
        g_assert_true(c.bql_at_completion);
        g_free(bufs);
    }
    g_assert_cmpint(blk_flush(blk), ==, 0);
    blk_unref(blk);

    /* What reached the file is the shadow, byte for byte. */
    {
        g_autofree uint8_t *now = file_contents(path, &flen);
        g_autofree char *a = sha256(now, flen);
        g_autofree char *b = sha256(shadow, size);
        g_assert_cmpuint(flen, ==, size);
        g_assert_cmpstr(a, ==, b);
    }
    g_free(shadow);
    g_free(buf);
    g_rand_free(r);
    unlink(path);
}

static void test_rw_threads(void) { rw_random(BLOCK_AIO_THREADS, false); }
static void test_rw_io_uring(void) { rw_random(BLOCK_AIO_IO_URING, false); }
static void test_rw_direct_threads(void) { rw_random(BLOCK_AIO_THREADS, true); }
static void test_rw_direct_io_uring(void) { rw_random(BLOCK_AIO_IO_URING, true); }

/*
 * aio=threads serves a buffered read from the page cache on the submitting
 * thread (preadv2 RWF_NOWAIT) and completes it later from the main loop; a
 * read of pages the cache does not hold goes to a worker.  Both give the
 * file's bytes, neither completes inside the submitting call.
 */
static void read_once(BlockBackend *blk, int64_t off, uint8_t *buf, size_t len)
{
    struct iovec iov[2] = { { buf, len / 2 }, { buf + len / 2, len - len / 2 } };
    AioCtx c = { 0 };

    c.in_submit = true;
    blk_aio_preadv(blk, off, iov, 2, aio_cb, &c);
    c.in_submit = false;
    while (!c.done) {
        main_loop_iterate(true);
    }
    g_assert_false(c.completed_in_submit);
    g_assert_true(c.bql_at_completion);
    g_assert_cmpint(c.ret_sum, ==, 0);
}

static void test_read_nowait(void)
{
    const size_t size = 256 << 10;
    g_autofree char *path = make_image("nowait.img", size, 7);
    g_autofree uint8_t *want = NULL;
    uint8_t *buf = g_malloc(65536);
    size_t len;
    uint64_t before;
    unsigned char resident[64];
    void *map;
    BlockBackend *blk = open_blk(path, NULL, &ok_err);
    int fd = open(path, O_RDONLY);

    want = file_contents(path, &len);
    /* out of the page cache: a worker reads it (unless the file system
     * keeps the pages anyway, as tmpfs does).  The host may bring a page
     * back between the look and the read (it did once in ~5 runs of the
     * unit suite on a loaded host): then try again, a few times. */
    for (int attempt = 0;; attempt++) {
        g_assert_cmpint(fdatasync(fd), ==, 0);
        g_assert_cmpint(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), ==, 0);
        map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
        g_assert_true(map != MAP_FAILED);
        g_assert_cmpint(mincore(map, size, resident), ==, 0);
        munmap(map, size);
        before = block_file_nowait_reads;
        read_once(blk, 65536, buf, 65536);
        g_assert_cmpmem(buf, 65536, want + 65536, 65536);
        if (block_file_nowait_reads - before == (resident[16] & 1) || attempt == 4) {
            break;
        }
    }
    g_assert_cmpuint(block_file_nowait_reads - before, ==, resident[16] & 1);
    /* cached now: served by the submitting thread */
    before = block_file_nowait_reads;
    memset(buf, 0, 65536);
    read_once(blk, 65536 + 512, buf, 65536 - 512);
    g_assert_cmpmem(buf, 65536 - 512, want + 65536 + 512, 65536 - 512);
    g_assert_cmpuint(block_file_nowait_reads - before, ==, 1);
    /* O_DIRECT never takes that path */
    blk_unref(blk);
    blk = open_blk(path, &(BlockFileOptions){ .direct = true }, &ok_err);
    before = block_file_nowait_reads;
    read_once(blk, 0, buf, 65536);
    g_assert_cmpmem(buf, 65536, want, 65536);
    g_assert_cmpuint(block_file_nowait_reads, ==, before);
    blk_unref(blk);
    close(fd);
    g_free(buf);
    g_assert_no_error(ok_err);
}

/*
 * A request complete at submission, submitted from a vCPU's register access
 * (vcpu_io_begin/end, as the accelerators bracket port I/O and MMIO),
 * completes on that thread when the access returns, not through the main
 * loop; a completion that submits the next request chains there, up to
 * VCPU_IO_DEFER_MAX, and the rest go to bottom halves; outside an access
 * nothing changes.  Two kinds: a read the page cache holds (RWF_NOWAIT),
 * and a read past the end (refused before it reaches the driver).
 */
typedef struct VcpuChain {
    BlockBackend *blk;
    uint8_t *buf;
    int64_t off0;               /* where the reads go */
    int want_ret;
    unsigned left, done;
    GThread *thread_at_done[128];
    bool in_submit, completed_in_submit;
} VcpuChain;

static void chain_cb(void *opaque, int ret)
{
    VcpuChain *v = opaque;
    struct iovec iov = { v->buf, 4096 };

    g_assert_cmpint(ret, ==, v->want_ret);
    g_assert_true(bql_locked());
    v->completed_in_submit |= v->in_submit;
    v->thread_at_done[v->done++] = g_thread_self();
    if (--v->left) {
        v->in_submit = true;
        blk_aio_preadv(v->blk, v->off0 + (v->done % 16) * 4096, &iov, 1, chain_cb, v);
        v->in_submit = false;
    }
}

static void chain_start(VcpuChain *v, unsigned n)
{
    struct iovec iov = { v->buf, 4096 };

    v->left = n;
    v->done = 0;
    v->in_submit = true;
    blk_aio_preadv(v->blk, v->off0, &iov, 1, chain_cb, v);
    v->in_submit = false;
}

static gpointer vcpu_thread_reads(gpointer opaque)
{
    VcpuChain *v = opaque;
    uint64_t before;

    bql_lock();
    /* one read inside an access: done when the access ends, here */
    before = vcpu_io_deferred_total;
    vcpu_io_begin();
    vcpu_io_begin();                    /* nested (DMA into MMIO): no drain */
    chain_start(v, 1);
    vcpu_io_end();
    g_assert_cmpuint(v->done, ==, 0);
    vcpu_io_end();
    g_assert_cmpuint(v->done, ==, 1);
    g_assert_true(v->thread_at_done[0] == g_thread_self());
    g_assert_cmpuint(vcpu_io_deferred_total - before, ==, 1);
    /* a chain of 100: the first VCPU_IO_DEFER_MAX here, the rest later */
    vcpu_io_begin();
    chain_start(v, 100);
    g_assert_cmpuint(v->done, ==, 0);
    vcpu_io_end();
    g_assert_cmpuint(v->done, ==, VCPU_IO_DEFER_MAX);
    for (unsigned i = 0; i < VCPU_IO_DEFER_MAX; i++) {
        g_assert_true(v->thread_at_done[i] == g_thread_self());
    }
    bql_unlock();
    return NULL;
}

static void vcpu_completion(bool cached)
{
    const size_t size = 65536;
    g_autofree char *path = make_image("vcpu.img", size, 11);
    g_autofree uint8_t *want = NULL;
    size_t len;
    VcpuChain v = { .buf = g_malloc(4096) };
    GThread *t;

    v.blk = open_blk(path, NULL, &ok_err);
    want = file_contents(path, &len);
    if (cached) {
        /* the image was just written: its pages are in the cache, unless
         * this file system refuses RWF_NOWAIT (tmpfs in the KVM lab) */
        uint64_t probe = block_file_nowait_reads;
        chain_start(&v, 1);
        while (v.left) {
            main_loop_iterate(true);
        }
        if (block_file_nowait_reads == probe) {
            g_test_skip("preadv2(RWF_NOWAIT) is refused on this file system (the KVM lab's /tmp, a tmpfs under Linux 6.1); the error case still runs");
            blk_unref(v.blk);
            g_free(v.buf);
            return;
        }
    } else {
        v.off0 = size + 4096;           /* past the end: -EIO, never submitted */
        v.want_ret = -EIO;
    }
    bql_unlock();
    t = g_thread_new("vcpu", vcpu_thread_reads, &v);
    g_thread_join(t);
    bql_lock();
    while (v.left) {
        main_loop_iterate(true);
    }
    g_assert_cmpuint(v.done, ==, 100);
    for (unsigned i = VCPU_IO_DEFER_MAX; i < 100; i++) {
        g_assert_true(v.thread_at_done[i] == g_thread_self());     /* bottom halves */
    }
    g_assert_false(v.completed_in_submit);
    if (cached) {
        g_assert_cmpmem(v.buf, 4096, want + ((100 - 1) % 16) * 4096, 4096);
    }
    /* outside an access: a bottom half, as before */
    chain_start(&v, 1);
    g_assert_cmpuint(v.done, ==, 0);
    while (v.left) {
        main_loop_iterate(true);
    }
    g_assert_false(v.completed_in_submit);
    blk_unref(v.blk);
    g_free(v.buf);
    g_assert_no_error(ok_err);
}

static void test_vcpu_completion_cached(void) { vcpu_completion(true); }
static void test_vcpu_completion_error(void) { vcpu_completion(false); }

/* The backend reads its medium's length once (as QEMU's total_sectors):
 * range checks then cost no fstat(); a new medium is measured again. */
static void test_length_per_medium(void)
{
    g_autofree char *path = make_image("len.img", 65536, 9);
    BlockBackend *blk = open_blk(path, NULL, &ok_err);
    BlockDriverState *bs = blk_bs(blk);
    uint8_t buf[512];

    g_assert_cmpint(blk_getlength(blk), ==, 65536);
    g_assert_cmpint(blk_pread(blk, 65536 - 512, buf, 512), ==, 0);
    g_assert_cmpint(blk_pread(blk, 65536, buf, 512), ==, -EIO);
    g_assert_cmpint(truncate(path, 131072), ==, 0);       /* behind its back */
    g_assert_cmpint(blk_getlength(blk), ==, 65536);
    g_assert_cmpint(blk_pread(blk, 65536, buf, 512), ==, -EIO);
    bdrv_ref(bs);
    blk_remove_bs(blk);
    g_assert_cmpint(blk_getlength(blk), ==, -ENOMEDIUM);
    g_assert_true(blk_insert_bs(blk, bs, &ok_err));
    bdrv_unref(bs);
    g_assert_cmpint(blk_getlength(blk), ==, 131072);
    g_assert_cmpint(blk_pread(blk, 65536, buf, 512), ==, 0);
    blk_unref(blk);
    g_assert_no_error(ok_err);
}

static void test_io_uring_fallback(void)
{
    g_autofree char *path = make_image("fb.img", 4096, 2);
    BlockFileOptions fo = { .aio = BLOCK_AIO_IO_URING };
    BlockBackend *blk;
    uint8_t b[16];

    /* A ring that cannot be set up: the thread pool serves the node.  (Only
     * meaningful before the process's ring exists, hence its own test.) */
    block_file_io_uring_disabled = true;
    blk = open_blk(path, &fo, NULL);
    block_file_io_uring_disabled = false;
    g_assert_nonnull(blk);
    if (!strcmp(bdrv_file_engine(blk_bs(blk)), "io_uring")) {
        /* another test made the ring first: nothing to fall back from */
        blk_unref(blk);
        g_test_skip("the process's ring already exists");
        return;
    }
    g_assert_cmpstr(bdrv_file_engine(blk_bs(blk)), ==, "threads");
    g_assert_cmpint(blk_pwrite(blk, 10, "fallback", 8, 0), ==, 0);
    g_assert_cmpint(blk_pread(blk, 10, b, 8), ==, 0);
    g_assert_true(memcmp(b, "fallback", 8) == 0);
    blk_unref(blk);
    unlink(path);
}

/* main_loop_drain() (reset, exit) waits for requests in the io_uring ring
 * too, including the flush a writethrough write chains after itself. */
static void test_drain_io_uring(void)
{
    g_autofree char *path = make_image("drain.img", 1 << 20, 12);
    BlockFileOptions fo = { .aio = BLOCK_AIO_IO_URING };
    BlockBackend *blk = open_blk(path, &fo, NULL);
    static uint8_t data[8][4096];
    struct iovec iov[8];
    AioCtx c = { 0 };

    if (strcmp(bdrv_file_engine(blk_bs(blk)), "io_uring")) {
        blk_unref(blk);
        g_test_skip("io_uring_queue_init failed here");
        return;
    }
    blk_set_enable_write_cache(blk, false);
    for (int i = 0; i < 8; i++) {
        memset(data[i], i + 1, sizeof(data[i]));
        iov[i].iov_base = data[i];
        iov[i].iov_len = sizeof(data[i]);
        blk_aio_pwritev(blk, i * 65536, &iov[i], 1, 0, aio_cb, &c);
    }
    main_loop_drain();
    g_assert_cmpint(c.done, ==, 8);
    g_assert_cmpint(c.ret_sum, ==, 0);
    g_assert_cmpuint(blk_in_flight(blk), ==, 0);
    for (int i = 0; i < 8; i++) {
        uint8_t b[4096];
        g_assert_cmpint(blk_pread(blk, i * 65536, b, sizeof(b)), ==, 0);
        g_assert_true(memcmp(b, data[i], sizeof(b)) == 0);
    }
    blk_unref(blk);
    unlink(path);
}

/* ---- flushes ---------------------------------------------------------- */

static int syncs;
static void count_sync(const char *filename, int ret)
{
    g_assert_cmpint(ret, ==, 0);
    g_atomic_int_inc(&syncs);
}

typedef struct FlushCtx {
    int syncs_at_cb;
    int ret;
    bool done;
} FlushCtx;

static void flush_cb(void *opaque, int ret)
{
    FlushCtx *f = opaque;

    f->syncs_at_cb = g_atomic_int_get(&syncs);
    f->ret = ret;
    f->done = true;
}

static void flush_case(BlockAioMode aio)
{
    g_autofree char *path = make_image("fl.img", 65536, 3);
    BlockFileOptions fo = { .aio = aio };
    BlockBackend *blk = open_blk(path, &fo, NULL);
    FlushCtx f = { 0 };
    struct iovec iov = { .iov_base = "data", .iov_len = 4 };

    block_file_sync_hook = count_sync;
    syncs = 0;
    /* writeback: a write does not sync; a flush completes only after
     * fdatasync returned. */
    g_assert_cmpint(blk_pwrite(blk, 0, "abcd", 4, 0), ==, 0);
    g_assert_cmpint(syncs, ==, 0);
    blk_aio_flush(blk, flush_cb, &f);
    g_assert_false(f.done);
    blk_drain(blk);
    g_assert_true(f.done);
    g_assert_cmpint(f.ret, ==, 0);
    g_assert_cmpint(f.syncs_at_cb, ==, 1);

    /* writethrough: the write's completion comes after its sync. */
    blk_set_enable_write_cache(blk, false);
    f = (FlushCtx){ 0 };
    blk_aio_pwritev(blk, 512, &iov, 1, 0, flush_cb, &f);
    blk_drain(blk);
    g_assert_cmpint(f.ret, ==, 0);
    g_assert_cmpint(f.syncs_at_cb, ==, 2);
    /* FUA on a writeback backend: the same. */
    blk_set_enable_write_cache(blk, true);
    f = (FlushCtx){ 0 };
    blk_aio_pwritev(blk, 1024, &iov, 1, BDRV_REQ_FUA, flush_cb, &f);
    blk_drain(blk);
    g_assert_cmpint(f.syncs_at_cb, ==, 3);
    blk_unref(blk);

    /* cache=unsafe (cache.no-flush): flushes succeed without a sync. */
    fo.no_flush = true;
    blk = open_blk(path, &fo, NULL);
    syncs = 0;
    g_assert_cmpint(blk_pwrite(blk, 0, "abcd", 4, 0), ==, 0);
    g_assert_cmpint(blk_flush(blk), ==, 0);
    g_assert_cmpint(syncs, ==, 0);
    blk_unref(blk);
    block_file_sync_hook = NULL;
    unlink(path);
}

static void test_flush_threads(void) { flush_case(BLOCK_AIO_THREADS); }
static void test_flush_io_uring(void) { flush_case(BLOCK_AIO_IO_URING); }

/* ---- discard, write-zeroes, bounds, read-only, medium ----------------- */

static int64_t allocated(const char *path)
{
    struct stat st;

    g_assert_cmpint(stat(path, &st), ==, 0);
    return (int64_t)st.st_blocks * 512;
}

/* Write-zeroes past a file's end (what qcow2 asks for a fresh cluster's
 * tail): the file grows and the range reads as zeroes, on a file system
 * without ZERO_RANGE (tmpfs) through fallocate(0). */
static void test_write_zeroes_past_end(void)
{
    const size_t size = 65536;
    g_autofree char *path = make_image("wzend.img", size, 5);
    BlockFileOptions fo = { .filename = path };
    BlockDriverState *bs = bdrv_open_file(&fo, &ok_err);
    g_autofree uint8_t *zero = g_malloc0(3 * size);
    g_autofree uint8_t *data = NULL;
    size_t len;

    g_assert_nonnull(bs);
    g_assert_cmpint(bdrv_sync_io(bs, BLOCK_REQ_WRITE_ZEROES, 2 * size, NULL, size, 0), ==, 0);
    data = file_contents(path, &len);
    g_assert_cmpuint(len, ==, 3 * size);
    g_assert_true(memcmp(data + size, zero, 2 * size) == 0);     /* hole + zeroes */
    g_assert_true(memcmp(data, zero, size) != 0);                /* the data stays */
    bdrv_unref(bs);
    unlink(path);
}

static void test_discard(void)
{
    const size_t size = 1 << 20;
    g_autofree char *path = make_image("dis.img", size, 4);
    BlockFileOptions fo = { .discard_unmap = true };
    BlockBackend *blk = open_blk(path, &fo, NULL);
    g_autofree uint8_t *buf = g_malloc(size);
    g_autofree uint8_t *zero = g_malloc0(size);
    int64_t before = allocated(path);

    /* discard=unmap punches a hole: the blocks go, the range reads zero. */
    g_assert_cmpint(blk_pdiscard(blk, 256 * 1024, 512 * 1024), ==, 0);
    g_assert_cmpint(allocated(path), <=, before - 512 * 1024);
    g_assert_cmpint(blk_pread(blk, 256 * 1024, buf, 512 * 1024), ==, 0);
    g_assert_true(memcmp(buf, zero, 512 * 1024) == 0);
    g_assert_cmpint(blk_getlength(blk), ==, size);
    /* write-zeroes that may unmap: a hole too */
    before = allocated(path);
    g_assert_cmpint(blk_pwrite_zeroes(blk, 896 * 1024, 128 * 1024, BDRV_REQ_MAY_UNMAP), ==, 0);
    g_assert_cmpint(allocated(path), <=, before - 128 * 1024);
    g_assert_cmpint(blk_pread(blk, 896 * 1024, buf, 128 * 1024), ==, 0);
    g_assert_true(memcmp(buf, zero, 128 * 1024) == 0);
    blk_unref(blk);

    /* discard=ignore: the data stays. */
    fo.discard_unmap = false;
    blk = open_blk(path, &fo, NULL);
    g_assert_cmpint(blk_pread(blk, 0, buf, 4096), ==, 0);
    before = allocated(path);
    g_assert_cmpint(blk_pdiscard(blk, 0, 4096), ==, 0);
    g_assert_cmpint(allocated(path), ==, before);
    {
        uint8_t again[4096];
        g_assert_cmpint(blk_pread(blk, 0, again, 4096), ==, 0);
        g_assert_true(memcmp(again, buf, 4096) == 0);
        g_assert_true(memcmp(again, zero, 4096) != 0);
    }
    /* write-zeroes, unaligned */
    g_assert_cmpint(blk_pwrite_zeroes(blk, 1001, 70000, 0), ==, 0);
    g_assert_cmpint(blk_pread(blk, 1000, buf, 70002), ==, 0);
    g_assert_true(memcmp(buf + 1, zero, 70000) == 0);
    blk_unref(blk);
    unlink(path);
}

static void test_bounds_readonly_medium(void)
{
    g_autofree char *path = make_image("ro.img", 8192, 5);
    BlockFileOptions fo = { .read_only = true };
    BlockBackend *blk = open_blk(path, &fo, NULL);
    uint8_t buf[1024];
    g_autofree uint8_t *orig = NULL;
    size_t len;

    orig = file_contents(path, &len);
    g_assert_true(blk_is_read_only(blk));
    g_assert_cmpint(blk_pread(blk, 8192 - 512, buf, 512), ==, 0);
    g_assert_cmpint(blk_pread(blk, 8192 - 511, buf, 512), ==, -EIO);
    g_assert_cmpint(blk_pread(blk, -1, buf, 1), ==, -EIO);
    g_assert_cmpint(blk_pread(blk, INT64_MAX - 10, buf, 512), ==, -EIO);
    g_assert_cmpint(blk_pwrite(blk, 0, buf, 512, 0), ==, -EPERM);
    g_assert_cmpint(blk_pwrite_zeroes(blk, 0, 512, 0), ==, -EPERM);
    g_assert_cmpint(blk_pdiscard(blk, 0, 512), ==, -EPERM);
    g_assert_cmpint(blk_flush(blk), ==, 0);
    {
        g_autofree uint8_t *now = file_contents(path, &len);
        g_assert_true(memcmp(now, orig, 8192) == 0);
    }
    /* sector helpers, and a sector count that overflows */
    {
        AioCtx c = { 0 };
        blk_aio_read_sectors(blk, 15, buf, 1, aio_cb, &c);
        blk_aio_read_sectors(blk, INT64_MAX / 256, buf, 1, aio_cb, &c);
        blk_drain(blk);
        g_assert_cmpint(c.done, ==, 2);
        g_assert_cmpint(c.ret_sum, ==, 1);
        g_assert_true(memcmp(buf, orig + 15 * 512, 512) == 0);
    }
    /* no medium */
    blk_remove_bs(blk);
    g_assert_false(blk_is_inserted(blk));
    g_assert_cmpint(blk_getlength(blk), ==, -ENOMEDIUM);
    g_assert_cmpint(blk_pread(blk, 0, buf, 512), ==, -ENOMEDIUM);
    blk_unref(blk);
    unlink(path);
}

/* ---- I/O accounting (query-blockstats) -------------------------------- */

/* One request at a time: submit, wait; 0 or -1 (it failed). */
typedef enum AcctOp { OP_READ, OP_WRITE, OP_FLUSH, OP_DISCARD, OP_ZEROES } AcctOp;

static int acct_io(BlockBackend *blk, AcctOp op, int64_t off, uint8_t *buf, int64_t len)
{
    struct iovec iov = { buf, len < 0 ? 0 : (size_t)len };
    AioCtx c = { 0 };

    switch (op) {
    case OP_READ:
        blk_aio_preadv(blk, off, &iov, 1, aio_cb, &c);
        break;
    case OP_WRITE:
        blk_aio_pwritev(blk, off, &iov, 1, 0, aio_cb, &c);
        break;
    case OP_FLUSH:
        blk_aio_flush(blk, aio_cb, &c);
        break;
    case OP_DISCARD:
        blk_aio_pdiscard(blk, off, len, aio_cb, &c);
        break;
    case OP_ZEROES:
        blk_aio_pwrite_zeroes(blk, off, len, 0, aio_cb, &c);
        break;
    }
    blk_drain(blk);
    g_assert_cmpint(c.done, ==, 1);
    return c.ret_sum ? -1 : 0;
}

/* The counters of one request type: ops, bytes, failed, invalid, merged. */
static void assert_acct(const BlockAcctStats *st, BlockAcctType t, uint64_t ops,
                        uint64_t bytes, uint64_t failed, uint64_t invalid, uint64_t merged)
{
    g_assert_cmpuint(st->ops[t], ==, ops);
    g_assert_cmpuint(st->bytes[t], ==, bytes);
    g_assert_cmpuint(st->failed_ops[t], ==, failed);
    g_assert_cmpuint(st->invalid_ops[t], ==, invalid);
    g_assert_cmpuint(st->merged[t], ==, merged);
}

/*
 * Every counter, exactly: N reads of K bytes, M writes, write-zeroes (a
 * write), a discard (unmap, discard=ignore still counts), a flush; a
 * write refused on a read-only backend and a read without a medium
 * (failed); reads past the end and at a negative offset (invalid); the
 * synchronous forms count nothing; blk_account_merged and
 * blk_account_invalid; wr_highest_offset; the time sums and idle time.
 */
static void test_accounting(void)
{
    enum { N = 7, K = 4096, M = 3, WLEN = 1000, SIZE = 64 * 1024 };
    g_autofree char *path = make_image("acct.img", SIZE, 9);
    BlockBackend *blk = open_blk(path, NULL, NULL);
    const BlockAcctStats *st = blk_get_stats(blk);
    BlockDriverState *bs = blk_bs(blk);
    uint8_t *buf = g_malloc0(K * 4);
    int64_t t0, t1, prev;
    uint64_t all_time;
    AioCtx c = { 0 };
    struct iovec iov;

    /* nothing yet: no idle time either */
    for (int t = 0; t < BLOCK_ACCT__MAX; t++) {
        assert_acct(st, t, 0, 0, 0, 0, 0);
        g_assert_cmpuint(st->total_time_ns[t], ==, 0);
    }
    g_assert_cmpint(st->last_access_ns, ==, 0);
    g_assert_cmpuint(bdrv_get_wr_highest_offset(bs), ==, 0);

    t0 = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);
    for (int i = 0; i < N; i++) {
        g_assert_cmpint(acct_io(blk, OP_READ, i * K, buf, K), ==, 0);
    }
    assert_acct(st, BLOCK_ACCT_READ, N, N * K, 0, 0, 0);
    assert_acct(st, BLOCK_ACCT_WRITE, 0, 0, 0, 0, 0);
    g_assert_cmpuint(st->total_time_ns[BLOCK_ACCT_READ], >, 0);
    g_assert_cmpuint(st->total_time_ns[BLOCK_ACCT_WRITE], ==, 0);
    for (int i = 0; i < M; i++) {
        acct_io(blk, OP_WRITE, 10000 + i * 3000, buf, WLEN);
    }
    g_assert_cmpuint(bdrv_get_wr_highest_offset(bs), ==, 10000 + (M - 1) * 3000 + WLEN);
    acct_io(blk, OP_ZEROES, 40000, NULL, 512);
    acct_io(blk, OP_DISCARD, 0, NULL, 8192);
    acct_io(blk, OP_FLUSH, 0, NULL, 0);
    assert_acct(st, BLOCK_ACCT_READ, N, N * K, 0, 0, 0);
    assert_acct(st, BLOCK_ACCT_WRITE, M + 1, M * WLEN + 512, 0, 0, 0);
    assert_acct(st, BLOCK_ACCT_UNMAP, 1, 8192, 0, 0, 0);
    assert_acct(st, BLOCK_ACCT_FLUSH, 1, 0, 0, 0, 0);
    g_assert_cmpuint(bdrv_get_wr_highest_offset(bs), ==, 40512);
    for (int t = 0; t < BLOCK_ACCT__MAX; t++) {
        g_assert_cmpuint(st->total_time_ns[t], >, 0);
    }

    /* failed: a write on a read-only backend, a read without a medium */
    blk_set_read_only(blk, true);
    prev = st->total_time_ns[BLOCK_ACCT_WRITE];
    acct_io(blk, OP_WRITE, 0, buf, 512);
    blk_set_read_only(blk, false);
    g_assert_cmpuint(st->total_time_ns[BLOCK_ACCT_WRITE], >, prev);    /* account_failed */
    bdrv_ref(bs);
    blk_remove_bs(blk);
    g_assert_cmpint(acct_io(blk, OP_READ, 0, buf, 512), ==, -1);
    g_assert_true(blk_insert_bs(blk, bs, &ok_err));
    bdrv_unref(bs);
    /* invalid: past the end, straddling it, negative */
    g_assert_cmpint(acct_io(blk, OP_READ, SIZE, buf, 512), ==, -1);
    g_assert_cmpint(acct_io(blk, OP_READ, SIZE - 511, buf, 512), ==, -1);
    g_assert_cmpint(acct_io(blk, OP_READ, -512, buf, 512), ==, -1);
    acct_io(blk, OP_DISCARD, SIZE, NULL, 512);
    assert_acct(st, BLOCK_ACCT_READ, N, N * K, 1, 3, 0);
    assert_acct(st, BLOCK_ACCT_WRITE, M + 1, M * WLEN + 512, 1, 0, 0);
    assert_acct(st, BLOCK_ACCT_UNMAP, 1, 8192, 0, 1, 0);
    assert_acct(st, BLOCK_ACCT_FLUSH, 1, 0, 0, 0, 0);

    /* the synchronous forms are not accounted (firmware, probes, tools) */
    prev = st->last_access_ns;
    g_assert_cmpint(blk_pread(blk, 0, buf, 512), ==, 0);
    g_assert_cmpint(blk_pwrite(blk, 60000, buf, 512, 0), ==, 0);
    g_assert_cmpint(blk_flush(blk), ==, 0);
    g_assert_cmpint(blk_pdiscard(blk, 0, 512), ==, 0);
    g_assert_cmpint(blk_pwrite_zeroes(blk, 0, 512, 0), ==, 0);
    g_assert_cmpint(blk_pread(blk, SIZE, buf, 512), ==, -EIO);
    assert_acct(st, BLOCK_ACCT_READ, N, N * K, 1, 3, 0);
    assert_acct(st, BLOCK_ACCT_WRITE, M + 1, M * WLEN + 512, 1, 0, 0);
    assert_acct(st, BLOCK_ACCT_UNMAP, 1, 8192, 0, 1, 0);
    assert_acct(st, BLOCK_ACCT_FLUSH, 1, 0, 0, 0, 0);
    g_assert_cmpint(st->last_access_ns, ==, prev);
    g_assert_cmpuint(bdrv_get_wr_highest_offset(bs), ==, 40512);

    /* every request ran alone: the time sums fit in the elapsed time */
    t1 = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);
    all_time = 0;
    for (int t = 0; t < BLOCK_ACCT__MAX; t++) {
        all_time += st->total_time_ns[t];
    }
    g_assert_cmpuint(all_time, <=, (uint64_t)(t1 - t0));
    g_assert_cmpint(st->last_access_ns, >, t0);
    g_assert_cmpint(st->last_access_ns, <=, t1);

    /*
     * Merged: a read of 3 * K said to carry 999 more guest requests.  The
     * merges count at once, the operations when it completes: 1 + 999 of
     * them, and 1000 times its latency.
     */
    prev = st->total_time_ns[BLOCK_ACCT_READ];
    iov = (struct iovec){ buf, 3 * K };
    blk_aio_preadv(blk, 0, &iov, 1, aio_cb, &c);
    blk_account_merged(blk, BLOCK_ACCT_READ, 999);
    assert_acct(st, BLOCK_ACCT_READ, N, N * K, 1, 3, 999);
    blk_drain(blk);
    g_assert_cmpint(c.ret_sum, ==, 0);
    assert_acct(st, BLOCK_ACCT_READ, N + 1000, N * K + 3 * K, 1, 3, 999);
    g_assert_cmpuint(st->total_time_ns[BLOCK_ACCT_READ], >, prev);
    g_assert_cmpuint((st->total_time_ns[BLOCK_ACCT_READ] - prev) % 1000, ==, 0);
    /* a merged write that fails: 1 + 2 failed operations, 2 merged */
    blk_set_read_only(blk, true);
    iov = (struct iovec){ buf, 1024 };
    memset(&c, 0, sizeof(c));
    blk_aio_pwritev(blk, 0, &iov, 1, 0, aio_cb, &c);
    blk_account_merged(blk, BLOCK_ACCT_WRITE, 2);
    blk_drain(blk);
    blk_set_read_only(blk, false);
    g_assert_cmpint(c.ret_sum, ==, 1);
    assert_acct(st, BLOCK_ACCT_WRITE, M + 1, M * WLEN + 512, 1 + 3, 0, 2);
    /* nothing in flight: the operations count at once; a flush has no merges */
    blk_account_merged(blk, BLOCK_ACCT_UNMAP, 4);
    assert_acct(st, BLOCK_ACCT_UNMAP, 1 + 4, 8192, 0, 1, 4);
    blk_account_merged(blk, BLOCK_ACCT_FLUSH, 5);
    assert_acct(st, BLOCK_ACCT_FLUSH, 1, 0, 0, 0, 0);
    /* a merge of another type than the request in flight counts at once */
    memset(&c, 0, sizeof(c));
    blk_aio_flush(blk, aio_cb, &c);
    blk_account_merged(blk, BLOCK_ACCT_WRITE, 1);
    assert_acct(st, BLOCK_ACCT_WRITE, M + 2, M * WLEN + 512, 4, 0, 3);
    blk_drain(blk);
    assert_acct(st, BLOCK_ACCT_FLUSH, 2, 0, 0, 0, 0);

    /* a device's own range check */
    prev = st->last_access_ns;
    blk_account_invalid(blk, BLOCK_ACCT_WRITE);
    assert_acct(st, BLOCK_ACCT_WRITE, M + 2, M * WLEN + 512, 4, 1, 3);
    g_assert_cmpint(st->last_access_ns, >, prev);

    /* a new medium: wr_highest_offset is the node's, the counters stay */
    {
        g_autofree char *path2 = make_image("acct2.img", SIZE, 10);
        BlockBackend *other = open_blk(path2, NULL, NULL);
        BlockDriverState *bs2 = blk_bs(other);

        bdrv_ref(bs2);
        blk_unref(other);
        blk_remove_bs(blk);
        g_assert_true(blk_insert_bs(blk, bs2, &ok_err));
        bdrv_unref(bs2);
        g_assert_cmpuint(bdrv_get_wr_highest_offset(bs2), ==, 0);
        acct_io(blk, OP_WRITE, 512, buf, 512);
        g_assert_cmpuint(bdrv_get_wr_highest_offset(bs2), ==, 1024);
        assert_acct(st, BLOCK_ACCT_WRITE, M + 3, M * WLEN + 1024, 4, 1, 3);
        unlink(path2);
    }
    blk_unref(blk);
    g_free(buf);
    unlink(path);
}

/* ---- removable media and the attached device -------------------------- */

typedef struct FakeCdrom {
    bool locked, tray_open;
    int loads, unloads, eject_requests;
} FakeCdrom;

static void cd_change_media(void *opaque, bool load)
{
    FakeCdrom *cd = opaque;

    if (load) {
        cd->loads++;
    } else {
        cd->unloads++;
    }
}

static void cd_eject_request(void *opaque, bool force)
{
    ((FakeCdrom *)opaque)->eject_requests++;
}

static bool cd_is_locked(void *opaque)
{
    return ((FakeCdrom *)opaque)->locked;
}

static bool cd_tray_open(void *opaque)
{
    return ((FakeCdrom *)opaque)->tray_open;
}

static const BlockDevOps cd_ops = {
    .change_media_cb = cd_change_media,
    .eject_request_cb = cd_eject_request,
    .is_medium_locked = cd_is_locked,
    .is_tray_open = cd_tray_open,
};

static void test_removable_media(void)
{
    g_autofree char *a = make_image("cd-a.iso", 8192, 13);
    g_autofree char *b = make_image("cd-b.iso", 16384, 14);
    BlockFileOptions fa = { .filename = a, .read_only = true };
    BlockFileOptions fb = { .filename = b, .read_only = true };
    BlockBackend *blk = blk_new("cd0");
    BlockDriverState *bs;
    FakeCdrom cd = { 0 };
    g_autoptr(GError) err = NULL;
    int dev_a, dev_b;

    blk_set_removable(blk, true);
    blk_set_read_only(blk, true);
    g_assert_true(blk_attach_dev(blk, &dev_a, "cd-dev", &err));
    g_assert_false(blk_attach_dev(blk, &dev_b, "other", &err));     /* one device only */
    g_assert_nonnull(strstr(err->message, "cd-dev"));
    g_clear_error(&err);
    g_assert_true(blk_get_attached_dev(blk) == &dev_a);
    g_assert_cmpstr(blk_get_attached_dev_id(blk), ==, "cd-dev");
    blk_set_dev_ops(blk, &cd_ops, &cd);

    /* an empty drive, then a disc */
    g_assert_false(blk_is_inserted(blk));
    bs = bdrv_open_raw(bdrv_open_file(&fa, &ok_err), 0, -1, &ok_err);
    g_assert_true(blk_change_medium(blk, bs, &ok_err));
    bdrv_unref(bs);
    g_assert_cmpint(cd.loads, ==, 1);
    g_assert_cmpint(blk_getlength(blk), ==, 8192);
    /* the guest locked the tray: eject asks the device and fails, force works */
    cd.locked = true;
    g_assert_true(blk_is_locked(blk));
    g_assert_false(blk_eject(blk, false, &err));
    g_assert_nonnull(strstr(err->message, "is locked"));
    g_clear_error(&err);
    g_assert_cmpint(cd.eject_requests, ==, 1);
    g_assert_true(blk_is_inserted(blk));
    g_assert_true(blk_eject(blk, true, &ok_err));
    g_assert_cmpint(cd.unloads, ==, 1);
    g_assert_false(blk_is_inserted(blk));
    g_assert_cmpint(blk_getlength(blk), ==, -ENOMEDIUM);
    /* another disc */
    bs = bdrv_open_raw(bdrv_open_file(&fb, &ok_err), 0, -1, &ok_err);
    g_assert_true(blk_change_medium(blk, bs, &ok_err));
    bdrv_unref(bs);
    g_assert_cmpint(blk_getlength(blk), ==, 16384);
    cd.tray_open = true;
    g_assert_true(blk_is_tray_open(blk));
    /* a fixed disk is not removable */
    {
        BlockBackend *hd = blk_new("hd0");
        g_assert_false(blk_eject(hd, true, &err));
        g_assert_nonnull(strstr(err->message, "not removable"));
        g_clear_error(&err);
        blk_unref(hd);
    }
    blk_detach_dev(blk, &dev_a);
    g_assert_null(blk_get_attached_dev(blk));
    blk_unref(blk);
    g_assert_null(blk_by_name("cd0"));
    unlink(a);
    unlink(b);
}

/* A synchronous request from a thread that cannot run the main loop (a
 * vCPU thread while the main loop polls) is refused, not a hang. */
static gpointer sync_from_thread(gpointer blk)
{
    uint8_t b[512];

    return GINT_TO_POINTER(blk_pread(blk, 0, b, sizeof(b)));
}

static void test_sync_outside_main_loop(void)
{
    g_autofree char *path = make_image("sync.img", 4096, 15);
    BlockBackend *blk = open_blk(path, NULL, NULL);
    GThread *t;
    uint8_t b[512];

    g_assert_true(g_main_context_acquire(NULL));    /* as the polling main loop */
    t = g_thread_new("vcpu", sync_from_thread, blk);
    g_assert_cmpint(GPOINTER_TO_INT(g_thread_join(t)), ==, -EDEADLK);
    g_main_context_release(NULL);
    g_assert_cmpuint(blk_in_flight(blk), ==, 0);
    g_assert_cmpint(blk_pread(blk, 0, b, sizeof(b)), ==, 0);
    blk_unref(blk);
    unlink(path);
}

/* ---- raw offset/size -------------------------------------------------- */

static void test_raw_window(void)
{
    g_autofree char *path = make_image("win.img", 65536, 6);
    BlockFileOptions fo = { .filename = path };
    g_autoptr(GError) err = NULL;
    BlockDriverState *file = bdrv_open_file(&fo, &ok_err);
    BlockDriverState *bs;
    BlockBackend *blk;
    size_t len;
    g_autofree uint8_t *orig = file_contents(path, &len);
    uint8_t buf[4096];

    bdrv_ref(file);
    bs = bdrv_open_raw(file, 8192, 16384, &ok_err);
    blk = blk_new(NULL);
    blk_insert_bs(blk, bs, NULL);
    bdrv_unref(bs);
    g_assert_cmpint(blk_getlength(blk), ==, 16384);
    g_assert_cmpint(blk_pread(blk, 0, buf, 4096), ==, 0);
    g_assert_true(memcmp(buf, orig + 8192, 4096) == 0);
    g_assert_cmpint(blk_pread(blk, 16384 - 4095, buf, 4096), ==, -EIO);
    memset(buf, 0xab, 4096);
    g_assert_cmpint(blk_pwrite(blk, 16384 - 4096, buf, 4096, 0), ==, 0);
    blk_unref(blk);
    {
        g_autofree uint8_t *now = file_contents(path, &len);
        g_assert_true(memcmp(now + 8192 + 16384 - 4096, buf, 4096) == 0);
        g_assert_true(memcmp(now + 8192 + 16384, orig + 8192 + 16384, 65536 - 24576) == 0);
    }
    /* a size the file does not have: refused, naming the file */
    g_assert_null(bdrv_open_raw(file, 4096, 65536, &err));
    g_assert_nonnull(strstr(err->message, "actual size of the containing file (65536)"));
    g_assert_nonnull(strstr(err->message, "win.img"));
    unlink(path);
}

/* ---- a probed raw image's block 0 (QEMU's rule) ------------------------ */

static void test_raw_probed_block0(void)
{
    static const struct { size_t off; const char *magic; size_t n; } hdr[] = {
        { 0, "QFI\xfb", 4 }, { 0x40, "\x7f\x10\xda\xbe", 4 },
        { 0, "# Disk DescriptorFile", 21 }, { 0, "conectix", 8 },
    };
    g_autofree char *path = make_image("probed.img", 65536, 8);
    BlockFileOptions fo = { .filename = path };
    BlockDriverState *bs = bdrv_open_raw(bdrv_open_file(&fo, &ok_err), 0, -1, &ok_err);
    BlockBackend *blk = blk_new(NULL);
    uint8_t buf[4096], plain[512];
    size_t len;

    blk_insert_bs(blk, bs, NULL);
    bdrv_unref(bs);                     /* (blk holds it) */
    memset(buf, 0x33, sizeof(buf));
    memcpy(buf, "QFI\xfb", 4);
    /* format=raw given: block 0 is the guest's */
    g_assert_cmpint(blk_pwrite(blk, 0, buf, 512, 0), ==, 0);
    g_assert_cmpstr(bdrv_probe_format(path, &ok_err), ==, "qcow2");

    bdrv_raw_set_probed(bs);
    memset(plain, 0x44, sizeof(plain));
    g_assert_cmpint(blk_pwrite(blk, 0, plain, 512, 0), ==, 0);     /* plain data: fine */
    for (size_t i = 0; i < G_N_ELEMENTS(hdr); i++) {
        g_autofree uint8_t *now = NULL;

        memset(buf, 0x33, sizeof(buf));
        memcpy(buf + hdr[i].off, hdr[i].magic, hdr[i].n);
        g_assert_nonnull(bdrv_probe_signature(buf, 512));
        g_assert_cmpint(blk_pwrite(blk, 0, buf, 512, 0), ==, -EPERM);
        g_assert_cmpint(blk_pwrite(blk, 0, buf, sizeof(buf), 0), ==, -EPERM);
        g_assert_cmpint(blk_pwrite(blk, 512, buf, 512, 0), ==, 0);  /* block 1: fine */
        now = file_contents(path, &len);
        g_assert_true(memcmp(now, plain, 512) == 0);               /* block 0 unchanged */
    }
    g_assert_cmpstr(bdrv_probe_format(path, &ok_err), ==, "raw");
    /* a write into block 0 that does not cover it: refused as QEMU does */
    g_assert_cmpint(blk_pwrite(blk, 100, plain, 64, 0), ==, -EINVAL);
    g_assert_cmpint(blk_pwrite(blk, 0, plain, 100, 0), ==, -EINVAL);
    g_assert_cmpint(blk_pwrite(blk, 511, plain, 2, 0), ==, -EINVAL);
    g_assert_cmpint(blk_pwrite_zeroes(blk, 0, 4096, 0), ==, 0);
    g_assert_null(bdrv_probe_signature(plain, sizeof(plain)));
    blk_unref(blk);
    unlink(path);
}

/* ---- -snapshot overlay ------------------------------------------------ */

static void test_snapshot_overlay(void)
{
    const size_t size = 300 * 1024 + 512;   /* not a whole number of granules */
    g_autofree char *path = make_image("snap.img", size, 7);
    BlockFileOptions fo = { .filename = path, .read_only = true };
    size_t len;
    g_autofree uint8_t *orig = file_contents(path, &len);
    g_autofree char *orig_sum = sha256(orig, len);
    uint8_t *shadow = g_memdup2(orig, size);
    uint8_t *buf = g_malloc(size);
    BlockDriverState *bs = bdrv_open_raw(bdrv_open_file(&fo, &ok_err), 0, -1,
                                         &ok_err);
    BlockBackend *blk = blk_new(NULL);
    GRand *r = g_rand_new_with_seed(9);
    g_autoptr(GDir) dir = NULL;

    bs = bdrv_open_snapshot_overlay(bs, tmpdir, &ok_err);
    g_assert_true(bdrv_is_snapshot_overlay(bs));
    blk_insert_bs(blk, bs, NULL);
    bdrv_unref(bs);
    g_assert_false(blk_is_read_only(blk));
    g_assert_cmpint(blk_getlength(blk), ==, size);

    /* Writes of every shape, including across granules and at the end. */
    for (int i = 0; i < 300; i++) {
        int64_t l = g_rand_int_range(r, 1, 20000);
        int64_t off = g_rand_int_range(r, 0, size - l + 1);
        if (i == 0) {
            off = size - 100, l = 100;
        }
        if (g_rand_int_range(r, 0, 3)) {
            for (int64_t k = 0; k < l; k++) {
                buf[k] = g_rand_int(r);
            }
            g_assert_cmpint(blk_pwrite(blk, off, buf, l, 0), ==, 0);
            memcpy(shadow + off, buf, l);
        } else {
            g_assert_cmpint(blk_pread(blk, off, buf, l), ==, 0);
            g_assert_true(memcmp(buf, shadow + off, l) == 0);
        }
    }
    g_assert_cmpint(blk_pwrite_zeroes(blk, 5, 9000, 0), ==, 0);
    memset(shadow + 5, 0, 9000);
    g_assert_cmpint(blk_flush(blk), ==, 0);
    g_assert_cmpint(blk_pread(blk, 0, buf, size), ==, 0);
    g_assert_true(memcmp(buf, shadow, size) == 0);

    /* The base file is byte-identical, and no overlay file is visible. */
    {
        g_autofree uint8_t *now = file_contents(path, &len);
        g_autofree char *now_sum = sha256(now, len);
        g_assert_cmpstr(now_sum, ==, orig_sum);
    }
    dir = g_dir_open(tmpdir, 0, NULL);
    for (const char *n; (n = g_dir_read_name(dir));) {
        g_assert_false(g_str_has_prefix(n, "kvmpc-snapshot"));
    }
    blk_unref(blk);
    g_rand_free(r);
    g_free(shadow);
    g_free(buf);
    unlink(path);
}

/* ---- locking ---------------------------------------------------------- */

static void test_locking(void)
{
    g_autofree char *path = make_image("lock.img", 4096, 8);
    BlockFileOptions rw = { 0 }, ro = { .read_only = true }, off = { .locking = BLOCK_LOCK_OFF };
    g_autoptr(GError) err = NULL;
    g_autofree char *expect = g_strdup_printf("Is another process using the image [%s]?", path);
    BlockBackend *a, *b;

    /* OFD locks belong to the open file, so two opens in one process
     * conflict as two processes would. */
    a = open_blk(path, &rw, &ok_err);
    g_assert_null(open_blk(path, &rw, &err));
    g_assert_nonnull(strstr(err->message, "Failed to get \"write\" lock"));
    g_assert_nonnull(strstr(err->message, expect));
    g_clear_error(&err);
    g_assert_null(open_blk(path, &ro, &err));
    g_assert_nonnull(strstr(err->message, "Failed to get shared \"write\" lock"));
    g_clear_error(&err);
    b = open_blk(path, &off, &ok_err);       /* locking=off */
    blk_unref(b);
    blk_unref(a);
    /* two readers share; a writer then waits for both to go */
    a = open_blk(path, &ro, &ok_err);
    b = open_blk(path, &ro, &ok_err);
    g_assert_null(open_blk(path, &rw, &err));
    g_clear_error(&err);
    blk_unref(a);
    blk_unref(b);
    a = open_blk(path, &rw, &ok_err);
    blk_unref(a);
    unlink(path);
}

/* ---- the command-line parsers ----------------------------------------- */

static void test_drive_parse(void)
{
    g_autofree char *path = make_image("drv.img", 1 << 20, 10);
    g_autofree char *spec = NULL;
    g_autoptr(GError) err = NULL;
    DriveInfo *d;

#define EXPECT_FAIL(s, msg) do { \
        g_autofree char *s_ = (s); \
        g_assert_null(drive_new(s_, IF_IDE, &err)); \
        g_assert_nonnull(err); \
        if (!strstr(err->message, (msg))) { \
            g_error("%s: '%s' lacks '%s'", s_, err->message, (msg)); \
        } \
        g_clear_error(&err); \
    } while (0)

    spec = g_strdup_printf("file=%s,format=raw,cache=none,media=disk", path);
    d = drive_new(spec, IF_IDE, &err);
    g_assert_no_error(err);
    g_assert_cmpint(d->type, ==, IF_IDE);
    g_assert_cmpint(d->bus, ==, 0);
    g_assert_cmpint(d->unit, ==, 0);
    g_assert_cmpstr(blk_name(d->blk), ==, "ide0-hd0");
    g_assert_true(drive_get(IF_IDE, 0, 0) == d);
    g_assert_true(bdrv_file_options(blk_bs(d->blk))->direct);
    g_assert_true(blk_enable_write_cache(d->blk));
    /* index=3 is ide1, unit 1; a cdrom is read-only and removable */
    g_free(spec);
    spec = g_strdup_printf("file=%s,format=raw,index=3,media=cdrom,file.locking=off", path);
    d = drive_new(spec, IF_IDE, &err);
    g_assert_no_error(err);
    g_assert_cmpint(d->bus, ==, 1);
    g_assert_cmpint(d->unit, ==, 1);
    g_assert_cmpstr(blk_name(d->blk), ==, "ide1-cd1");
    g_assert_true(blk_is_read_only(d->blk));
    g_assert_true(blk_is_removable(d->blk));
    g_assert_true(drive_get_by_index(IF_IDE, 3) == d);
    g_assert_cmpint(drive_get_max_bus(IF_IDE), ==, 1);
    /* the next free unit */
    g_free(spec);
    spec = g_strdup_printf("file=%s,format=raw,readonly=on,file.locking=off", path);
    d = drive_new(spec, IF_IDE, &err);
    g_assert_no_error(err);
    g_assert_cmpint(d->bus * 2 + d->unit, ==, 1);
    /* an empty floppy drive; writethrough */
    d = drive_new("if=floppy,cache=writethrough,id=fd", IF_IDE, &err);
    g_assert_no_error(err);
    g_assert_false(blk_is_inserted(d->blk));
    g_assert_false(blk_enable_write_cache(d->blk));
    g_assert_true(blk_by_name("fd") == d->blk);

    EXPECT_FAIL(g_strdup_printf("file=%s,format=qcow2,if=none,file.locking=off", path), "not in qcow2 format");
    EXPECT_FAIL(g_strdup_printf("file=%s,format=raw,if=none,aio=native,file.locking=off", path),
                "requires cache.direct=on");
    EXPECT_FAIL(g_strdup_printf("file=%s,format=raw,if=none,cache=bogus,file.locking=off", path),
                "invalid cache option");
    EXPECT_FAIL(g_strdup_printf("file=%s,format=raw,index=0,file.locking=off", path), "exists");
    EXPECT_FAIL(g_strdup_printf("file=%s,format=raw,if=none,bogus=1,file.locking=off", path), "bogus");
    EXPECT_FAIL(g_strdup_printf("file=%s,format=raw,if=ide,unit=2,file.locking=off", path), "too big");
    EXPECT_FAIL(g_strdup_printf("file=%s/nosuch,format=raw,if=none", tmpdir), "nosuch");
    EXPECT_FAIL(g_strdup_printf("file=%s,format=raw,if=none,id=fd,file.locking=off", path), "Duplicate ID");
    EXPECT_FAIL(g_strdup_printf("file=%s,format=raw,if=none,size=4M,file.locking=off", path),
                "actual size of the containing file");
    EXPECT_FAIL(g_strdup_printf("file=%s,format=raw,if=none,index=0,bus=0,file.locking=off", path),
                "index cannot be used");
    unlink(path);
}

static void test_blockdev_parse(void)
{
    g_autofree char *path = make_image("bd.img", 1 << 16, 11);
    g_autofree char *spec = NULL;
    g_autoptr(GError) err = NULL;
    BlockDriverState *bs;
    BlockBackend *blk;
    uint8_t a[16], b[16];
    size_t len;
    g_autofree uint8_t *orig = file_contents(path, &len);

    spec = g_strdup_printf("driver=file,node-name=f0,filename=%s,locking=off", path);
    g_assert_nonnull(blockdev_new(spec, &err));
    g_assert_no_error(err);
    bs = blockdev_new("driver=raw,node-name=r0,file=f0,offset=512,read-only=on", &err);
    g_assert_no_error(err);
    g_assert_true(bdrv_find_node("r0") == bs);
    g_assert_true(bdrv_is_read_only(bs));
    blk = blockdev_backend_for("r0", &err);
    g_assert_no_error(err);
    g_assert_cmpint(blk_getlength(blk), ==, 65536 - 512);
    g_assert_cmpint(blk_pread(blk, 0, a, 16), ==, 0);
    g_assert_true(memcmp(a, orig + 512, 16) == 0);
    g_assert_cmpint(blk_pwrite(blk, 0, a, 16, 0), ==, -EPERM);

    /* The JSON form, with the file node nested. */
    g_free(spec);
    spec = g_strdup_printf("{\"driver\": \"raw\", \"node-name\": \"j0\", \"offset\": 1024, "
                           "\"file\": {\"driver\": \"file\", \"filename\": \"%s\", "
                           "\"locking\": \"off\", \"cache\": {\"no-flush\": true}}}", path);
    bs = blockdev_new(spec, &err);
    g_assert_no_error(err);
    g_assert_true(bdrv_file_options(bs)->no_flush);
    blk = blockdev_backend_for("j0", &err);
    g_assert_cmpint(blk_pread(blk, 0, b, 16), ==, 0);
    g_assert_true(memcmp(b, orig + 1024, 16) == 0);

    g_assert_null(blockdev_new("driver=file,filename=/nonexistent", &err));
    g_assert_nonnull(strstr(err->message, "node-name"));
    g_clear_error(&err);
    g_assert_null(blockdev_new("driver=qcow2,node-name=q", &err));
    g_assert_nonnull(strstr(err->message, "Parameter 'file' is missing"));
    g_clear_error(&err);
    g_assert_null(blockdev_new("driver=raw,node-name=x,file=nosuch", &err));
    g_assert_nonnull(strstr(err->message, "nosuch"));
    g_clear_error(&err);
    g_assert_null(blockdev_new("driver=raw,node-name=r0,file=f0", &err));
    g_assert_nonnull(strstr(err->message, "Duplicate"));
    g_clear_error(&err);
    g_assert_null(blockdev_backend_for("nonode", &err));
    g_clear_error(&err);
    unlink(path);
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    tmpdir = g_dir_make_tmp("test-block-XXXXXX", NULL);
    g_assert_nonnull(tmpdir);
    /* first: it needs the process's io_uring ring not to exist yet */
    g_test_add_func("/block/io-uring-fallback", test_io_uring_fallback);
    g_test_add_func("/block/rw/threads", test_rw_threads);
    g_test_add_func("/block/read-nowait", test_read_nowait);
    g_test_add_func("/block/vcpu-completion/cached-read", test_vcpu_completion_cached);
    g_test_add_func("/block/vcpu-completion/error", test_vcpu_completion_error);
    g_test_add_func("/block/length-per-medium", test_length_per_medium);
    g_test_add_func("/block/rw/io_uring", test_rw_io_uring);
    g_test_add_func("/block/rw/direct-threads", test_rw_direct_threads);
    g_test_add_func("/block/rw/direct-io_uring", test_rw_direct_io_uring);
    g_test_add_func("/block/drain-io_uring", test_drain_io_uring);
    g_test_add_func("/block/flush/threads", test_flush_threads);
    g_test_add_func("/block/flush/io_uring", test_flush_io_uring);
    g_test_add_func("/block/discard-write-zeroes", test_discard);
    g_test_add_func("/block/write-zeroes-past-end", test_write_zeroes_past_end);
    g_test_add_func("/block/bounds-readonly-medium", test_bounds_readonly_medium);
    g_test_add_func("/block/accounting", test_accounting);
    g_test_add_func("/block/raw-window", test_raw_window);
    g_test_add_func("/block/raw-probed-block0", test_raw_probed_block0);
    g_test_add_func("/block/removable-media", test_removable_media);
    g_test_add_func("/block/sync-outside-main-loop", test_sync_outside_main_loop);
    g_test_add_func("/block/snapshot-overlay", test_snapshot_overlay);
    g_test_add_func("/block/locking", test_locking);
    g_test_add_func("/block/drive-parse", test_drive_parse);
    g_test_add_func("/block/blockdev-parse", test_blockdev_parse);
    ret = g_test_run();
    g_assert_no_error(ok_err);
    rmdir(tmpdir);
    return ret;
}

/*
 * The block layer core: graph nodes (BlockDriverState), request dispatch
 * to drivers, and BlockBackend, the object devices attach to.  See
 * include/block/block.h and docs/block.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "block/block-int.h"
#include "qemu/thread-pool.h"
#include "system/main-loop.h"

static GPtrArray *all_nodes;            /* BlockDriverState *, named or not */

/* ---- I/O vectors ------------------------------------------------------ */

int64_t iov_size(const struct iovec *iov, int niov)
{
    int64_t n = 0;

    for (int i = 0; i < niov; i++) {
        n += iov[i].iov_len;
    }
    return n;
}

static void iov_copy(const struct iovec *iov, int niov, int64_t off, void *buf,
                     int64_t bytes, bool to_buf)
{
    uint8_t *p = buf;

    for (int i = 0; i < niov && bytes > 0; i++) {
        int64_t len = iov[i].iov_len;
        if (off >= len) {
            off -= len;
            continue;
        }
        int64_t n = MIN(len - off, bytes);
        if (to_buf) {
            memcpy(p, (uint8_t *)iov[i].iov_base + off, n);
        } else {
            memcpy((uint8_t *)iov[i].iov_base + off, p, n);
        }
        p += n;
        bytes -= n;
        off = 0;
    }
}

void iov_to_buf(const struct iovec *iov, int niov, int64_t off, void *buf, int64_t bytes)
{
    iov_copy(iov, niov, off, buf, bytes, true);
}

void iov_from_buf(const struct iovec *iov, int niov, int64_t off, const void *buf,
                  int64_t bytes)
{
    iov_copy(iov, niov, off, (void *)buf, bytes, false);
}

/* ---- nodes ------------------------------------------------------------ */

BlockDriverState *bdrv_new(const BlockDriver *drv, void *opaque)
{
    BlockDriverState *bs = g_new0(BlockDriverState, 1);

    bs->drv = drv;
    bs->opaque = opaque;
    bs->refcnt = 1;
    if (!all_nodes) {
        all_nodes = g_ptr_array_new();
    }
    g_ptr_array_add(all_nodes, bs);
    return bs;
}

void bdrv_ref(BlockDriverState *bs)
{
    bs->refcnt++;
}

void bdrv_unref(BlockDriverState *bs)
{
    if (!bs || --bs->refcnt > 0) {
        return;
    }
    g_ptr_array_remove(all_nodes, bs);
    if (bs->drv->close) {
        bs->drv->close(bs);
    }
    if (bs->child) {
        bdrv_unref(bs->child);
    }
    g_free(bs->node_name);
    g_free(bs->filename);
    g_free(bs);
}

const char *bdrv_get_node_name(BlockDriverState *bs)
{
    return bs->node_name ? bs->node_name : "";
}

BlockDriverState *bdrv_find_node(const char *node_name)
{
    for (guint i = 0; all_nodes && i < all_nodes->len; i++) {
        BlockDriverState *bs = g_ptr_array_index(all_nodes, i);
        if (bs->node_name && !strcmp(bs->node_name, node_name)) {
            return bs;
        }
    }
    return NULL;
}

bool bdrv_set_node_name(BlockDriverState *bs, const char *name, Error **errp)
{
    if (bdrv_find_node(name) || blk_by_name(name)) {
        error_setg(errp, "node-name=%s is conflicting with a node or device id", name);
        return false;
    }
    g_free(bs->node_name);
    bs->node_name = g_strdup(name);
    return true;
}

BlockDriverState *bdrv_next_named(BlockDriverState *bs)
{
    guint i = 0;

    if (!all_nodes) {
        return NULL;
    }
    if (bs) {
        while (i < all_nodes->len && g_ptr_array_index(all_nodes, i) != bs) {
            i++;
        }
        i++;
    }
    for (; i < all_nodes->len; i++) {
        BlockDriverState *n = g_ptr_array_index(all_nodes, i);
        if (n->node_name) {
            return n;
        }
    }
    return NULL;
}

const char *bdrv_get_format_name(BlockDriverState *bs)
{
    return bs->drv->format_name;
}

const char *bdrv_get_filename(BlockDriverState *bs)
{
    return bs->filename ? bs->filename : "";
}

bool bdrv_is_read_only(BlockDriverState *bs)
{
    return bs->read_only;
}

int64_t bdrv_getlength(BlockDriverState *bs)
{
    return bs->drv->getlength(bs);
}

uint64_t bdrv_get_wr_highest_offset(BlockDriverState *bs)
{
    return bs->wr_highest_offset;
}

BlockDriverState *bdrv_get_file(BlockDriverState *bs)
{
    while (bs->child) {
        bs = bs->child;
    }
    return bs;
}

/* ---- requests --------------------------------------------------------- */

static int run_blocking_in_worker(void *opaque)
{
    BlockRequest *req = opaque;

    return bdrv_run_blocking(req->bs, req);
}

static void run_blocking_done(void *opaque, int ret)
{
    block_request_complete(opaque, ret);
}

void bdrv_submit(BlockDriverState *bs, BlockRequest *req)
{
    req->bs = bs;
    if (bs->drv->submit) {
        bs->drv->submit(bs, req);
    } else {
        thread_pool_submit(run_blocking_in_worker, req, run_blocking_done);
    }
}

int bdrv_run_blocking(BlockDriverState *bs, BlockRequest *req)
{
    req->bs = bs;
    return bs->drv->run_blocking ? bs->drv->run_blocking(bs, req) : -ENOTSUP;
}

void block_request_complete(BlockRequest *req, int ret)
{
    BlockCompletionFunc *cb = req->cb;
    void *opaque = req->opaque;

    g_free(req);
    cb(opaque, ret);
}

typedef struct LaterCompletion {
    BlockRequest *req;
    QEMUBH *bh;
} LaterCompletion;

static void complete_later_bh(void *opaque)
{
    LaterCompletion *lc = opaque;
    BlockRequest *req = lc->req;

    qemu_bh_delete(lc->bh);
    g_free(lc);
    block_request_complete(req, req->ret);
}

static void complete_on_vcpu(void *opaque)
{
    BlockRequest *req = opaque;

    block_request_complete(req, req->ret);
}

/* Never from inside the submitting call: on the vCPU thread whose register
 * access submitted it, right after that access (vcpu_io_defer), else from
 * a bottom half. */
void block_request_complete_later(BlockRequest *req, int ret)
{
    LaterCompletion *lc;

    req->ret = ret;
    if (vcpu_io_defer(complete_on_vcpu, req)) {
        return;
    }
    lc = g_new0(LaterCompletion, 1);
    lc->req = req;
    lc->bh = qemu_bh_new(complete_later_bh, lc);
    qemu_bh_schedule(lc->bh);
}

static BlockRequest *request_new(BlockRequestType type, int64_t offset, int64_t bytes,
                                 struct iovec *iov, int niov, int flags,
                                 BlockCompletionFunc *cb, void *opaque)
{
    BlockRequest *req = g_new0(BlockRequest, 1);

    req->type = type;
    req->offset = offset;
    req->bytes = bytes;
    req->iov = iov;
    req->niov = niov;
    req->flags = flags;
    req->cb = cb;
    req->opaque = opaque;
    return req;
}

/* Checks and submits; every error completes from a bottom half. */
/* Checks req against bs (len: bs's length if the caller knows it, else
 * -1) and hands it to the driver. */
static void bdrv_start_len(BlockDriverState *bs, BlockRequest *req, int64_t len)
{
    req->bs = bs;
    if (req->type != BLOCK_REQ_FLUSH) {
        if (len < 0) {
            len = bdrv_getlength(bs);
        }
        if (len < 0) {
            block_request_complete_later(req, (int)len);
            return;
        }
        if (req->offset < 0 || req->bytes < 0 || req->offset > len ||
            req->bytes > len - req->offset) {
            block_request_complete_later(req, -EIO);
            return;
        }
    }
    if (req->type != BLOCK_REQ_READ && req->type != BLOCK_REQ_FLUSH && bs->read_only) {
        block_request_complete_later(req, -EPERM);
        return;
    }
    if (req->bytes == 0 && req->type != BLOCK_REQ_FLUSH) {
        block_request_complete_later(req, 0);
        return;
    }
    bdrv_submit(bs, req);
}

static void bdrv_start(BlockDriverState *bs, BlockRequest *req)
{
    bdrv_start_len(bs, req, -1);
}

void bdrv_aio_preadv(BlockDriverState *bs, int64_t offset, struct iovec *iov, int niov,
                     BlockCompletionFunc *cb, void *opaque)
{
    bdrv_start(bs, request_new(BLOCK_REQ_READ, offset, iov_size(iov, niov), iov, niov, 0,
                               cb, opaque));
}

void bdrv_aio_pwritev(BlockDriverState *bs, int64_t offset, struct iovec *iov, int niov,
                      int flags, BlockCompletionFunc *cb, void *opaque)
{
    bdrv_start(bs, request_new(BLOCK_REQ_WRITE, offset, iov_size(iov, niov), iov, niov,
                               flags, cb, opaque));
}

void bdrv_aio_flush(BlockDriverState *bs, BlockCompletionFunc *cb, void *opaque)
{
    bdrv_start(bs, request_new(BLOCK_REQ_FLUSH, 0, 0, NULL, 0, 0, cb, opaque));
}

/* ---- BlockBackend ----------------------------------------------------- */

typedef struct BlkAio BlkAio;

struct BlockBackend {
    char *name;
    BlockDriverState *root;
    void *dev;
    char *dev_id;
    const BlockDevOps *dev_ops;
    void *dev_opaque;
    bool read_only, removable, wce, discard_unmap;
    unsigned in_flight;
    int refcnt;
    /* The root's length, read once per medium (as QEMU's total_sectors):
     * a raw image's length is an fstat(), which every request's range check
     * would otherwise pay, twice for virtio-blk.  Nothing resizes a medium
     * in use (no block_resize); a new medium reads it again. */
    int64_t len;
    bool len_valid;
    /* KVMPC_BLOCK_LATENCY=1: submit -> completion times of reads and
     * writes, in power-of-two microsecond buckets, printed at exit. */
    uint64_t lat_count[2], lat_sum_us[2], lat_hist[2][24];
    /* query-blockstats (block.h, "I/O accounting"). */
    BlockAcctStats stats;
    /* The last accounted request submitted, while it is in flight: what
     * blk_account_merged() adds to. */
    BlkAio *last_aio;
};

static bool blk_latency_on = false, blk_latency_checked = false;

static void blk_latency_report(void);
static void blk_latency_report_one(BlockBackend *blk);

static bool blk_latency_enabled(void)
{
    if (!blk_latency_checked) {
        const char *e = getenv("KVMPC_BLOCK_LATENCY");
        blk_latency_checked = true;
        blk_latency_on = e && !strcmp(e, "1");
        if (blk_latency_on) {
            atexit(blk_latency_report);
        }
    }
    return blk_latency_on;
}

static GPtrArray *all_backends;

BlockBackend *blk_new(const char *name)
{
    BlockBackend *blk = g_new0(BlockBackend, 1);

    blk->name = g_strdup(name ? name : "");
    blk->wce = true;
    blk->refcnt = 1;
    if (!all_backends) {
        all_backends = g_ptr_array_new();
    }
    g_ptr_array_add(all_backends, blk);
    return blk;
}

void blk_unref(BlockBackend *blk)
{
    if (!blk || --blk->refcnt > 0) {
        return;
    }
    blk_drain(blk);
    blk_latency_report_one(blk);
    blk_remove_bs(blk);
    g_ptr_array_remove(all_backends, blk);
    g_free(blk->dev_id);
    g_free(blk->name);
    g_free(blk);
}

const char *blk_name(BlockBackend *blk)
{
    return blk->name;
}

BlockBackend *blk_by_name(const char *name)
{
    for (guint i = 0; all_backends && i < all_backends->len; i++) {
        BlockBackend *blk = g_ptr_array_index(all_backends, i);
        if (blk->name[0] && !strcmp(blk->name, name)) {
            return blk;
        }
    }
    return NULL;
}

BlockBackend *blk_next(BlockBackend *blk)
{
    guint i = 0;

    if (!all_backends) {
        return NULL;
    }
    if (blk) {
        while (i < all_backends->len && g_ptr_array_index(all_backends, i) != blk) {
            i++;
        }
        i++;
    }
    for (; i < all_backends->len; i++) {
        BlockBackend *b = g_ptr_array_index(all_backends, i);
        if (b->name[0] || b->dev) {
            return b;       /* anonymous ones only once a device uses them */
        }
    }
    return NULL;
}

bool blk_insert_bs(BlockBackend *blk, BlockDriverState *bs, Error **errp)
{
    if (blk->root) {
        error_setg(errp, "drive '%s' already has a medium", blk->name);
        return false;
    }
    bdrv_ref(bs);
    blk->root = bs;
    blk->len_valid = false;
    return true;
}

void blk_remove_bs(BlockBackend *blk)
{
    if (!blk->root) {
        return;
    }
    blk_drain(blk);
    bdrv_unref(blk->root);
    blk->root = NULL;
    blk->len_valid = false;
}

BlockDriverState *blk_bs(BlockBackend *blk)
{
    return blk->root;
}

bool blk_is_inserted(BlockBackend *blk)
{
    return blk->root != NULL;
}

void blk_set_removable(BlockBackend *blk, bool removable)
{
    blk->removable = removable;
}

bool blk_is_removable(BlockBackend *blk)
{
    return blk->removable;
}

bool blk_is_locked(BlockBackend *blk)
{
    return blk->dev_ops && blk->dev_ops->is_medium_locked &&
           blk->dev_ops->is_medium_locked(blk->dev_opaque);
}

bool blk_is_tray_open(BlockBackend *blk)
{
    return blk->dev_ops && blk->dev_ops->is_tray_open &&
           blk->dev_ops->is_tray_open(blk->dev_opaque);
}

bool blk_eject(BlockBackend *blk, bool force, Error **errp)
{
    if (!blk->removable) {
        error_setg(errp, "Device '%s' is not removable", blk->name);
        return false;
    }
    if (blk_is_locked(blk) && !force) {
        if (blk->dev_ops->eject_request_cb) {
            blk->dev_ops->eject_request_cb(blk->dev_opaque, false);
        }
        error_setg(errp, "Device '%s' is locked and force was not specified, "
                   "wait for tray to open and try again", blk->name);
        return false;
    }
    blk_remove_bs(blk);
    if (blk->dev_ops && blk->dev_ops->change_media_cb) {
        blk->dev_ops->change_media_cb(blk->dev_opaque, false);
    }
    return true;
}

bool blk_change_medium(BlockBackend *blk, BlockDriverState *bs, Error **errp)
{
    if (!blk->removable) {
        error_setg(errp, "Device '%s' is not removable", blk->name);
        return false;
    }
    blk_remove_bs(blk);
    if (!blk_insert_bs(blk, bs, errp)) {
        return false;
    }
    if (blk->dev_ops && blk->dev_ops->change_media_cb) {
        blk->dev_ops->change_media_cb(blk->dev_opaque, true);
    }
    return true;
}

bool blk_attach_dev(BlockBackend *blk, void *dev, const char *dev_id, Error **errp)
{
    if (blk->dev) {
        error_setg(errp, "Drive '%s' is already in use by %s", blk->name,
                   blk->dev_id ? blk->dev_id : "another device");
        return false;
    }
    blk->dev = dev;
    blk->dev_id = g_strdup(dev_id);
    blk->refcnt++;
    return true;
}

void blk_detach_dev(BlockBackend *blk, void *dev)
{
    if (blk->dev != dev) {
        return;
    }
    blk->dev = NULL;
    blk->dev_ops = NULL;
    blk->dev_opaque = NULL;
    g_clear_pointer(&blk->dev_id, g_free);
    blk_unref(blk);
}

void *blk_get_attached_dev(BlockBackend *blk)
{
    return blk->dev;
}

const char *blk_get_attached_dev_id(BlockBackend *blk)
{
    return blk->dev_id;
}

void blk_set_dev_ops(BlockBackend *blk, const BlockDevOps *ops, void *opaque)
{
    blk->dev_ops = ops;
    blk->dev_opaque = opaque;
}

void blk_set_read_only(BlockBackend *blk, bool ro)
{
    blk->read_only = ro;
}

bool blk_is_read_only(BlockBackend *blk)
{
    return blk->read_only || (blk->root && blk->root->read_only);
}

void blk_set_enable_write_cache(BlockBackend *blk, bool wce)
{
    blk->wce = wce;
}

bool blk_enable_write_cache(BlockBackend *blk)
{
    return blk->wce;
}

void blk_set_discard(BlockBackend *blk, bool unmap)
{
    blk->discard_unmap = unmap;
}

bool blk_discard_enabled(BlockBackend *blk)
{
    return blk->discard_unmap;
}

int64_t blk_getlength(BlockBackend *blk)
{
    if (!blk->root) {
        return -ENOMEDIUM;
    }
    if (!blk->len_valid) {
        int64_t len = bdrv_getlength(blk->root);
        if (len < 0) {
            return len;
        }
        blk->len = len;
        blk->len_valid = true;
    }
    return blk->len;
}

uint64_t blk_get_nb_sectors(BlockBackend *blk)
{
    int64_t len = blk_getlength(blk);

    return len < 0 ? 0 : (uint64_t)len >> BDRV_SECTOR_BITS;
}

unsigned blk_in_flight(BlockBackend *blk)
{
    return blk->in_flight;
}

/* A backend request: in-flight count, I/O accounting and the
 * write-through flush. */
struct BlkAio {
    BlockBackend *blk;
    BlockCompletionFunc *cb;
    void *opaque;
    bool flush_after;
    bool invalid;               /* refused by the range check: an invalid operation */
    int8_t acct;                /* BlockAcctType, -1: not accounted (synchronous forms) */
    int8_t lat_kind;            /* 0 read, 1 write, -1 not measured */
    unsigned merged;            /* guest requests folded in (blk_account_merged) */
    int64_t offset, bytes;
    int64_t start_ns;           /* QEMU_CLOCK_REALTIME at submission */
};

const BlockAcctStats *blk_get_stats(BlockBackend *blk)
{
    return &blk->stats;
}

void blk_account_merged(BlockBackend *blk, BlockAcctType type, unsigned n)
{
    BlkAio *a = blk->last_aio;

    if (type != BLOCK_ACCT_READ && type != BLOCK_ACCT_WRITE && type != BLOCK_ACCT_UNMAP) {
        return;
    }
    blk->stats.merged[type] += n;
    if (a && a->acct == (int8_t)type) {
        a->merged += n;             /* counted with the request when it completes */
    } else {
        blk->stats.ops[type] += n;
    }
}

void blk_account_invalid(BlockBackend *blk, BlockAcctType type)
{
    if ((unsigned)type < BLOCK_ACCT__MAX) {
        blk->stats.invalid_ops[type]++;
        blk->stats.last_access_ns = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);
    }
}

static void blk_latency_report_one(BlockBackend *blk)
{
    static const char *const kind[2] = { "read", "write" };

    for (int k = 0; k < 2; k++) {
        uint64_t n = blk->lat_count[k], seen = 0;
        int p50 = -1, p99 = -1;

        if (!n) {
            continue;
        }
        for (int b = 0; b < 24; b++) {
            seen += blk->lat_hist[k][b];
            if (p50 < 0 && seen * 2 >= n) {
                p50 = b;
            }
            if (p99 < 0 && seen * 100 >= n * 99) {
                p99 = b;
            }
        }
        fprintf(stderr, "kvmpc: block latency %s %s: %" PRIu64 " requests, mean %" PRIu64
                " us, median < %u us, p99 < %u us\n", blk->name[0] ? blk->name : "(anon)",
                kind[k], n, blk->lat_sum_us[k] / n, 1u << (p50 + 1), 1u << (p99 + 1));
        blk->lat_count[k] = 0;
    }
}

static void blk_latency_report(void)
{
    for (guint i = 0; all_backends && i < all_backends->len; i++) {
        blk_latency_report_one(g_ptr_array_index(all_backends, i));
    }
}

static void blk_latency_note(BlkAio *a, int64_t now_ns)
{
    int64_t us = (now_ns - a->start_ns) / SCALE_US;
    int b = 0;

    while (b < 23 && (us >> (b + 1))) {
        b++;
    }
    a->blk->lat_count[a->lat_kind]++;
    a->blk->lat_sum_us[a->lat_kind] += us;
    a->blk->lat_hist[a->lat_kind][b]++;
}

/* QEMU's block_account_one_io(), with account_failed and account_invalid
 * on: a few adds per request, the clock already read by the caller. */
static void blk_account_done(BlockBackend *blk, BlkAio *a, int ret, int64_t now_ns)
{
    BlockAcctStats *st = &blk->stats;
    uint64_t n = 1 + (uint64_t)a->merged;
    int t = a->acct;

    st->last_access_ns = now_ns;
    if (a->invalid) {
        st->invalid_ops[t] += n;
        return;
    }
    st->total_time_ns[t] += n * (uint64_t)(now_ns - a->start_ns);
    if (ret < 0) {
        st->failed_ops[t] += n;
        return;
    }
    st->ops[t] += n;
    st->bytes[t] += a->bytes;
    if (t == BLOCK_ACCT_WRITE && blk->root &&
        (uint64_t)(a->offset + a->bytes) > blk->root->wr_highest_offset) {
        blk->root->wr_highest_offset = a->offset + a->bytes;
    }
}

static void blk_aio_finish(BlkAio *a, int ret)
{
    BlockBackend *blk = a->blk;
    BlockCompletionFunc *cb = a->cb;
    void *opaque = a->opaque;

    if (a->acct >= 0 || a->lat_kind >= 0) {
        int64_t now_ns = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);
        if (a->acct >= 0) {
            blk_account_done(blk, a, ret, now_ns);
        }
        if (a->lat_kind >= 0) {
            blk_latency_note(a, now_ns);
        }
    }
    if (blk->last_aio == a) {
        blk->last_aio = NULL;
    }
    g_free(a);
    blk->in_flight--;
    cb(opaque, ret);
}

static void blk_aio_flush_done(void *opaque, int ret)
{
    blk_aio_finish(opaque, ret);
}

static void blk_aio_done(void *opaque, int ret)
{
    BlkAio *a = opaque;

    if (ret == 0 && a->flush_after && a->blk->root) {
        a->flush_after = false;
        bdrv_aio_flush(a->blk->root, blk_aio_flush_done, a);
        return;
    }
    blk_aio_finish(a, ret);
}

/* What each request type counts as. */
static const int8_t acct_type_of[] = {
    [BLOCK_REQ_READ] = BLOCK_ACCT_READ,
    [BLOCK_REQ_WRITE] = BLOCK_ACCT_WRITE,
    [BLOCK_REQ_FLUSH] = BLOCK_ACCT_FLUSH,
    [BLOCK_REQ_DISCARD] = BLOCK_ACCT_UNMAP,
    [BLOCK_REQ_WRITE_ZEROES] = BLOCK_ACCT_WRITE,
};

/* acct: count it in the backend's statistics (the blk_aio_* forms). */
static void blk_start(BlockBackend *blk, BlockRequestType type, int64_t offset,
                      int64_t bytes, struct iovec *iov, int niov, int flags, bool acct,
                      BlockCompletionFunc *cb, void *opaque)
{
    BlkAio *a = g_new0(BlkAio, 1);
    BlockRequest *req;
    int64_t len = -1;

    a->blk = blk;
    a->cb = cb;
    a->opaque = opaque;
    a->acct = acct ? acct_type_of[type] : -1;
    a->lat_kind = -1;
    a->offset = offset;
    a->bytes = bytes;
    if (blk_latency_enabled() && (type == BLOCK_REQ_READ || type == BLOCK_REQ_WRITE)) {
        a->lat_kind = type == BLOCK_REQ_WRITE;
    }
    if (acct) {
        blk->last_aio = a;
    }
    if (acct || a->lat_kind >= 0) {
        a->start_ns = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);
    }
    blk->in_flight++;
    req = request_new(type, offset, bytes, iov, niov, flags, blk_aio_done, a);
    if (!blk->root) {
        block_request_complete_later(req, -ENOMEDIUM);
        return;
    }
    if (type != BLOCK_REQ_READ && type != BLOCK_REQ_FLUSH && blk->read_only) {
        block_request_complete_later(req, -EPERM);
        return;
    }
    if (type != BLOCK_REQ_FLUSH) {
        /* The range check, here so that its refusals count as invalid. */
        len = blk_getlength(blk);
        if (len < 0) {
            block_request_complete_later(req, (int)len);
            return;
        }
        if (offset < 0 || bytes < 0 || offset > len || bytes > len - offset) {
            a->invalid = true;
            block_request_complete_later(req, -EIO);
            return;
        }
    }
    if (type == BLOCK_REQ_WRITE || type == BLOCK_REQ_WRITE_ZEROES) {
        a->flush_after = !blk->wce || (flags & BDRV_REQ_FUA);
    }
    if (type == BLOCK_REQ_DISCARD && !blk->discard_unmap) {
        /* discard=ignore: checked like a discard, then nothing happens. */
        block_request_complete_later(req, blk->root->read_only ? -EPERM : 0);
        return;
    }
    if (type == BLOCK_REQ_WRITE_ZEROES && !blk->discard_unmap) {
        req->flags &= ~BDRV_REQ_MAY_UNMAP;
    }
    bdrv_start_len(blk->root, req, len);
}

void blk_aio_preadv(BlockBackend *blk, int64_t offset, struct iovec *iov, int niov,
                    BlockCompletionFunc *cb, void *opaque)
{
    blk_start(blk, BLOCK_REQ_READ, offset, iov_size(iov, niov), iov, niov, 0, true, cb, opaque);
}

void blk_aio_pwritev(BlockBackend *blk, int64_t offset, struct iovec *iov, int niov,
                     int flags, BlockCompletionFunc *cb, void *opaque)
{
    blk_start(blk, BLOCK_REQ_WRITE, offset, iov_size(iov, niov), iov, niov, flags, true, cb,
              opaque);
}

void blk_aio_flush(BlockBackend *blk, BlockCompletionFunc *cb, void *opaque)
{
    blk_start(blk, BLOCK_REQ_FLUSH, 0, 0, NULL, 0, 0, true, cb, opaque);
}

void blk_aio_pdiscard(BlockBackend *blk, int64_t offset, int64_t bytes,
                      BlockCompletionFunc *cb, void *opaque)
{
    blk_start(blk, BLOCK_REQ_DISCARD, offset, bytes, NULL, 0, 0, true, cb, opaque);
}

void blk_aio_pwrite_zeroes(BlockBackend *blk, int64_t offset, int64_t bytes, int flags,
                           BlockCompletionFunc *cb, void *opaque)
{
    blk_start(blk, BLOCK_REQ_WRITE_ZEROES, offset, bytes, NULL, 0, flags, true, cb, opaque);
}

/* The sector forms keep their one-element vector with the request. */
typedef struct SectorAio {
    struct iovec iov;
    BlockCompletionFunc *cb;
    void *opaque;
} SectorAio;

static void sector_aio_done(void *opaque, int ret)
{
    SectorAio *s = opaque;
    BlockCompletionFunc *cb = s->cb;
    void *cb_opaque = s->opaque;

    g_free(s);
    cb(cb_opaque, ret);
}

static SectorAio *sector_aio_new(const void *buf, int nb_sectors, BlockCompletionFunc *cb,
                                 void *opaque)
{
    SectorAio *s = g_new0(SectorAio, 1);

    s->iov.iov_base = (void *)buf;
    s->iov.iov_len = nb_sectors < 0 ? 0 : (size_t)nb_sectors << BDRV_SECTOR_BITS;
    s->cb = cb;
    s->opaque = opaque;
    return s;
}

void blk_aio_read_sectors(BlockBackend *blk, int64_t sector, void *buf, int nb_sectors,
                          BlockCompletionFunc *cb, void *opaque)
{
    SectorAio *s = sector_aio_new(buf, nb_sectors, cb, opaque);
    int64_t off = sector < 0 || sector > (INT64_MAX >> BDRV_SECTOR_BITS) ? -1
                  : sector << BDRV_SECTOR_BITS;

    blk_aio_preadv(blk, off, &s->iov, 1, sector_aio_done, s);
}

void blk_aio_write_sectors(BlockBackend *blk, int64_t sector, const void *buf, int nb_sectors,
                           BlockCompletionFunc *cb, void *opaque)
{
    SectorAio *s = sector_aio_new(buf, nb_sectors, cb, opaque);
    int64_t off = sector < 0 || sector > (INT64_MAX >> BDRV_SECTOR_BITS) ? -1
                  : sector << BDRV_SECTOR_BITS;

    blk_aio_pwritev(blk, off, &s->iov, 1, 0, sector_aio_done, s);
}

/* ---- synchronous wrappers --------------------------------------------- */

typedef struct SyncWait {
    bool done;
    int ret;
} SyncWait;

static void sync_done(void *opaque, int ret)
{
    SyncWait *w = opaque;

    w->ret = ret;
    w->done = true;
}

/* The synchronous forms run the main loop, which only its owner (the main
 * thread) can: from a vCPU thread they would spin forever holding the BQL.
 * Checked before anything is submitted. */
static bool sync_allowed(void)
{
    static bool warned;

    if (g_main_context_acquire(NULL)) {
        g_main_context_release(NULL);
        return true;
    }
    if (!warned) {
        error_report("block: synchronous I/O requested outside the main loop thread; refused");
        warned = true;
    }
    return false;
}

static int sync_wait(SyncWait *w)
{
    while (!w->done) {
        main_loop_iterate(true);
    }
    return w->ret;
}

int blk_pread(BlockBackend *blk, int64_t offset, void *buf, int64_t bytes)
{
    SyncWait w = { 0 };
    struct iovec iov = { .iov_base = buf, .iov_len = bytes < 0 ? 0 : bytes };

    if (!sync_allowed()) {
        return -EDEADLK;
    }
    blk_start(blk, BLOCK_REQ_READ, offset, bytes, &iov, 1, 0, false, sync_done, &w);
    return sync_wait(&w);
}

int blk_pwrite(BlockBackend *blk, int64_t offset, const void *buf, int64_t bytes, int flags)
{
    SyncWait w = { 0 };
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = bytes < 0 ? 0 : bytes };

    if (!sync_allowed()) {
        return -EDEADLK;
    }
    blk_start(blk, BLOCK_REQ_WRITE, offset, bytes, &iov, 1, flags, false, sync_done, &w);
    return sync_wait(&w);
}

int blk_flush(BlockBackend *blk)
{
    SyncWait w = { 0 };

    if (!sync_allowed()) {
        return -EDEADLK;
    }
    blk_start(blk, BLOCK_REQ_FLUSH, 0, 0, NULL, 0, 0, false, sync_done, &w);
    return sync_wait(&w);
}

int blk_pdiscard(BlockBackend *blk, int64_t offset, int64_t bytes)
{
    SyncWait w = { 0 };

    if (!sync_allowed()) {
        return -EDEADLK;
    }
    blk_start(blk, BLOCK_REQ_DISCARD, offset, bytes, NULL, 0, 0, false, sync_done, &w);
    return sync_wait(&w);
}

int blk_pwrite_zeroes(BlockBackend *blk, int64_t offset, int64_t bytes, int flags)
{
    SyncWait w = { 0 };

    if (!sync_allowed()) {
        return -EDEADLK;
    }
    blk_start(blk, BLOCK_REQ_WRITE_ZEROES, offset, bytes, NULL, 0, flags, false, sync_done,
              &w);
    return sync_wait(&w);
}

void blk_drain(BlockBackend *blk)
{
    while (blk->in_flight) {
        main_loop_iterate(true);
    }
}

void blk_drain_all(void)
{
    for (guint i = 0; all_backends && i < all_backends->len; i++) {
        blk_drain(g_ptr_array_index(all_backends, i));
    }
}

int blk_flush_all(void)
{
    int ret = 0;

    for (guint i = 0; all_backends && i < all_backends->len; i++) {
        BlockBackend *blk = g_ptr_array_index(all_backends, i);
        int r;

        blk_drain(blk);
        if (blk->root && !blk->read_only && !blk->root->read_only &&
            (r = blk_flush(blk)) < 0 && ret == 0) {
            error_report("block: flushing '%s' failed: %s", blk->name, g_strerror(-r));
            ret = r;
        }
    }
    return ret;
}

/*
 * Driver "snapshot-overlay": what -snapshot / snapshot=on puts above an
 * image until qcow2 exists.  Writes go to a sparse temporary file of the
 * image's size, unlinked as soon as it is created (so it disappears with
 * the process, even on SIGKILL); an allocation bitmap with one bit per
 * 4 KiB granule says which granules live in the overlay.  A write that
 * covers part of a granule not yet in the overlay first copies the
 * granule from the base.  The base is opened read-only and never written.
 *
 * Requests run on a thread-pool worker, one at a time (a mutex), reaching
 * the base and the overlay file through bdrv_run_blocking().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "block/block-int.h"

#define OVERLAY_GRANULE 4096

typedef struct OverlayState {
    BlockDriverState *file;     /* the temporary file node */
    int64_t length;
    unsigned long *bitmap;
    GMutex lock;
} OverlayState;

#define BITS_PER_WORD (8 * sizeof(unsigned long))

static bool granule_allocated(OverlayState *s, int64_t g)
{
    return s->bitmap[g / BITS_PER_WORD] & (1UL << (g % BITS_PER_WORD));
}

static void granule_set(OverlayState *s, int64_t g)
{
    s->bitmap[g / BITS_PER_WORD] |= 1UL << (g % BITS_PER_WORD);
}

/* The part [off, off + len) of iov as a new vector (caller frees). */
static struct iovec *iov_slice(const struct iovec *iov, int niov, int64_t off, int64_t len,
                               int *out_n)
{
    struct iovec *out = g_new(struct iovec, niov ? niov : 1);
    int n = 0;

    for (int i = 0; i < niov && len > 0; i++) {
        int64_t l = iov[i].iov_len;
        if (off >= l) {
            off -= l;
            continue;
        }
        out[n].iov_base = (uint8_t *)iov[i].iov_base + off;
        out[n].iov_len = MIN(l - off, len);
        len -= out[n].iov_len;
        off = 0;
        n++;
    }
    *out_n = n;
    return out;
}

static int node_rw(BlockDriverState *bs, bool write, int64_t offset, struct iovec *iov,
                   int niov)
{
    BlockRequest sub = {
        .type = write ? BLOCK_REQ_WRITE : BLOCK_REQ_READ,
        .offset = offset, .bytes = iov_size(iov, niov), .iov = iov, .niov = niov,
    };

    return bdrv_run_blocking(bs, &sub);
}

static int overlay_read(BlockDriverState *bs, OverlayState *s, BlockRequest *req)
{
    int64_t pos = req->offset, end = req->offset + req->bytes;

    while (pos < end) {
        int64_t g = pos / OVERLAY_GRANULE;
        bool alloc = granule_allocated(s, g);
        int64_t run_end = (g + 1) * OVERLAY_GRANULE;
        struct iovec *iov;
        int niov, ret;

        while (run_end < end && granule_allocated(s, run_end / OVERLAY_GRANULE) == alloc) {
            run_end += OVERLAY_GRANULE;
        }
        run_end = MIN(run_end, end);
        iov = iov_slice(req->iov, req->niov, pos - req->offset, run_end - pos, &niov);
        ret = node_rw(alloc ? s->file : bs->child, false, pos, iov, niov);
        g_free(iov);
        if (ret < 0) {
            return ret;
        }
        pos = run_end;
    }
    return 0;
}

/* Bring granule g into the overlay, merged with the bytes of the request
 * that fall in it. */
static int overlay_copy_granule(BlockDriverState *bs, OverlayState *s, BlockRequest *req,
                                int64_t g)
{
    int64_t gs = g * OVERLAY_GRANULE, ge = MIN(gs + OVERLAY_GRANULE, s->length);
    int64_t lo = MAX(gs, req->offset), hi = MIN(ge, req->offset + req->bytes);
    uint8_t buf[OVERLAY_GRANULE];
    struct iovec iov = { .iov_base = buf, .iov_len = ge - gs };
    int ret = node_rw(bs->child, false, gs, &iov, 1);

    if (ret < 0) {
        return ret;
    }
    iov_to_buf(req->iov, req->niov, lo - req->offset, buf + (lo - gs), hi - lo);
    ret = node_rw(s->file, true, gs, &iov, 1);
    if (ret == 0) {
        granule_set(s, g);
    }
    return ret;
}

static bool granule_covered(OverlayState *s, int64_t g, int64_t start, int64_t end)
{
    int64_t gs = g * OVERLAY_GRANULE, ge = MIN(gs + OVERLAY_GRANULE, s->length);

    return start <= gs && ge <= end;
}

static int overlay_write(BlockDriverState *bs, OverlayState *s, BlockRequest *req)
{
    int64_t start = req->offset, end = req->offset + req->bytes;
    int64_t g0 = start / OVERLAY_GRANULE, g1 = (end - 1) / OVERLAY_GRANULE;
    int64_t lo = start, hi = end;
    struct iovec *iov;
    int niov, ret;

    /* Head and tail granules only partly written and still in the base:
     * copied up with the request's bytes merged in. */
    if (!granule_covered(s, g0, start, end) && !granule_allocated(s, g0)) {
        if ((ret = overlay_copy_granule(bs, s, req, g0)) < 0) {
            return ret;
        }
        lo = MIN((g0 + 1) * OVERLAY_GRANULE, end);
    }
    if (g1 != g0 && !granule_covered(s, g1, start, end) && !granule_allocated(s, g1)) {
        if ((ret = overlay_copy_granule(bs, s, req, g1)) < 0) {
            return ret;
        }
        hi = g1 * OVERLAY_GRANULE;
    }
    if (lo >= hi) {
        return 0;
    }
    /* The rest: whole granules, or partial ones already in the overlay. */
    iov = iov_slice(req->iov, req->niov, lo - start, hi - lo, &niov);
    ret = node_rw(s->file, true, lo, iov, niov);
    g_free(iov);
    if (ret < 0) {
        return ret;
    }
    for (int64_t g = lo / OVERLAY_GRANULE; g <= (hi - 1) / OVERLAY_GRANULE; g++) {
        granule_set(s, g);
    }
    return 0;
}

static int overlay_write_zeroes(BlockDriverState *bs, OverlayState *s, BlockRequest *req)
{
    int64_t chunk = 1 << 20;
    uint8_t *zeroes = g_malloc0(chunk);
    int ret = 0;

    for (int64_t pos = 0; pos < req->bytes && ret == 0; pos += chunk) {
        struct iovec iov = { .iov_base = zeroes, .iov_len = MIN(chunk, req->bytes - pos) };
        BlockRequest sub = { .type = BLOCK_REQ_WRITE, .offset = req->offset + pos,
                             .bytes = iov.iov_len, .iov = &iov, .niov = 1 };
        ret = overlay_write(bs, s, &sub);
    }
    g_free(zeroes);
    return ret;
}

static int overlay_run_blocking(BlockDriverState *bs, BlockRequest *req)
{
    OverlayState *s = bs->opaque;
    int ret = 0;

    g_mutex_lock(&s->lock);
    switch (req->type) {
    case BLOCK_REQ_READ:
        ret = overlay_read(bs, s, req);
        break;
    case BLOCK_REQ_WRITE:
        ret = overlay_write(bs, s, req);
        break;
    case BLOCK_REQ_WRITE_ZEROES:
        ret = overlay_write_zeroes(bs, s, req);
        break;
    case BLOCK_REQ_FLUSH:       /* the overlay dies with the process */
    case BLOCK_REQ_DISCARD:     /* advisory; the base must not change */
        break;
    }
    g_mutex_unlock(&s->lock);
    return ret;
}

static int64_t overlay_getlength(BlockDriverState *bs)
{
    return ((OverlayState *)bs->opaque)->length;
}

static void overlay_close(BlockDriverState *bs)
{
    OverlayState *s = bs->opaque;

    bdrv_unref(s->file);
    g_free(s->bitmap);
    g_mutex_clear(&s->lock);
    g_free(s);
}

static const BlockDriver overlay_driver = {
    .format_name = "snapshot-overlay",
    .close = overlay_close,
    .getlength = overlay_getlength,
    .run_blocking = overlay_run_blocking,
};

bool bdrv_is_snapshot_overlay(BlockDriverState *bs)
{
    return bs->drv == &overlay_driver;
}

BlockDriverState *bdrv_open_snapshot_overlay(BlockDriverState *base, const char *tmpdir,
                                             Error **errp)
{
    const char *dir = tmpdir ? tmpdir : g_getenv("TMPDIR");
    g_autofree char *path = g_build_filename(dir && dir[0] ? dir : "/var/tmp",
                                             "kvmpc-snapshot.XXXXXX", NULL);
    BlockFileOptions fo = { .filename = path, .locking = BLOCK_LOCK_OFF };
    int64_t length = bdrv_getlength(base);
    BlockDriverState *file, *bs;
    OverlayState *s;
    int fd;

    if (length < 0) {
        error_setg_errno(errp, (int)-length, "Could not get the size of '%s'",
                         bdrv_get_filename(base));
        bdrv_unref(base);
        return NULL;
    }
    fd = g_mkstemp(path);
    if (fd < 0 || ftruncate(fd, length) < 0) {
        error_setg_errno(errp, errno, "Could not create the temporary snapshot overlay '%s'",
                         path);
        if (fd >= 0) {
            close(fd);
            unlink(path);
        }
        bdrv_unref(base);
        return NULL;
    }
    file = bdrv_open_file(&fo, errp);
    unlink(path);
    close(fd);
    if (!file) {
        bdrv_unref(base);
        return NULL;
    }
    s = g_new0(OverlayState, 1);
    s->file = file;
    s->length = length;
    s->bitmap = g_new0(unsigned long,
                       (length / OVERLAY_GRANULE + 1) / BITS_PER_WORD + 1);
    g_mutex_init(&s->lock);
    bs = bdrv_new(&overlay_driver, s);
    bs->child = base;
    bs->filename = g_strdup(bdrv_get_filename(base));
    return bs;
}

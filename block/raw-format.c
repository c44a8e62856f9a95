/*
 * Driver "raw": the guest sees its child's bytes as they are, or the
 * window [offset, offset + size) of them (QEMU's raw offset=/size=).
 */
#include <errno.h>
#include "block/block-int.h"

typedef struct RawState {
    uint64_t offset;
    int64_t size;               /* -1: up to the end of the child */
} RawState;

static int64_t raw_getlength(BlockDriverState *bs)
{
    RawState *s = bs->opaque;
    int64_t len;

    if (s->size >= 0) {
        return s->size;
    }
    len = bdrv_getlength(bs->child);
    if (len < 0) {
        return len;
    }
    return len > (int64_t)s->offset ? len - (int64_t)s->offset : 0;
}

static void raw_submit(BlockDriverState *bs, BlockRequest *req)
{
    RawState *s = bs->opaque;

    if (req->type != BLOCK_REQ_FLUSH) {
        req->offset += s->offset;
    }
    bdrv_submit(bs->child, req);
}

static int raw_run_blocking(BlockDriverState *bs, BlockRequest *req)
{
    RawState *s = bs->opaque;
    BlockRequest sub = *req;

    if (sub.type != BLOCK_REQ_FLUSH) {
        sub.offset += s->offset;
    }
    return bdrv_run_blocking(bs->child, &sub);
}

static void raw_close(BlockDriverState *bs)
{
    g_free(bs->opaque);
}

static const BlockDriver raw_driver = {
    .format_name = "raw",
    .close = raw_close,
    .getlength = raw_getlength,
    .submit = raw_submit,
    .run_blocking = raw_run_blocking,
};

BlockDriverState *bdrv_open_raw(BlockDriverState *child, uint64_t offset, int64_t size,
                                Error **errp)
{
    int64_t child_len = bdrv_getlength(child);
    BlockDriverState *bs;
    RawState *s;

    if (child_len < 0) {
        error_setg_errno(errp, (int)-child_len, "Could not get the size of '%s'",
                         bdrv_get_filename(child));
        goto fail;
    }
    if (offset > (uint64_t)child_len) {
        error_setg(errp, "The offset (%" G_GUINT64_FORMAT ") of '%s' is beyond its end (%"
                   G_GINT64_FORMAT ")", offset, bdrv_get_filename(child), child_len);
        goto fail;
    }
    if (size >= 0 && (uint64_t)size > (uint64_t)child_len - offset) {
        /* QEMU's wording: a truncated image is refused, not padded. */
        error_setg(errp, "The sum of offset (%" G_GUINT64_FORMAT ") and size (%" G_GINT64_FORMAT
                   ") has to be smaller or equal to the actual size of the containing file (%"
                   G_GINT64_FORMAT ") of '%s'", offset, size, child_len,
                   bdrv_get_filename(child));
        goto fail;
    }
    if (size >= 0 && size % BDRV_SECTOR_SIZE) {
        error_setg(errp, "Specified size is not multiple of %d (size=%" G_GINT64_FORMAT
                   " for '%s')", BDRV_SECTOR_SIZE, size, bdrv_get_filename(child));
        goto fail;
    }
    s = g_new0(RawState, 1);
    s->offset = offset;
    s->size = size;
    bs = bdrv_new(&raw_driver, s);
    bs->child = child;
    bs->filename = g_strdup(bdrv_get_filename(child));
    bs->read_only = bdrv_is_read_only(child);
    return bs;

fail:
    bdrv_unref(child);
    return NULL;
}

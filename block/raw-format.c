/*
 * Driver "raw": the guest sees its child's bytes as they are, or the
 * window [offset, offset + size) of them (QEMU's raw offset=/size=).
 */
#include <errno.h>
#include <string.h>
#include "block/block-int.h"
#include "qemu/log.h"

typedef struct RawState {
    uint64_t offset;
    int64_t size;               /* -1: up to the end of the child */
    bool probed;                /* the format was probed: block 0 is guarded */
} RawState;

/* The magic numbers QEMU's probe looks for at the start of an image, so
 * that an image guarded here is safe for a later QEMU too (kvmpc itself
 * opens only qcow2 and raw). */
const char *bdrv_probe_signature(const uint8_t *b, size_t len)
{
    static const struct { const char *fmt; size_t off; const char *magic; size_t n; } sig[] = {
        { "qcow2", 0, "QFI\xfb", 4 },          /* qcow (v1) too */
        { "qed", 0, "QED\0", 4 },
        { "vpc", 0, "conectix", 8 },
        { "vhdx", 0, "vhdxfile", 8 },
        { "vmdk", 0, "KDMV", 4 },
        { "vmdk", 0, "COWD", 4 },
        { "vmdk", 0, "# Disk DescriptorFile", 21 },
        { "vdi", 0x40, "\x7f\x10\xda\xbe", 4 },
        { "luks", 0, "LUKS\xba\xbe", 6 },
        { "bochs", 0, "Bochs Virtual HD Image", 22 },
        { "parallels", 0, "WithoutFreeSpace", 16 },
        { "parallels", 0, "WithouFreSpacExt", 16 },
        { "cloop", 0, "#!/bin/sh\n#V2.0 Format\n", 23 },
    };

    for (size_t i = 0; i < sizeof(sig) / sizeof(sig[0]); i++) {
        if (len >= sig[i].off + sig[i].n && !memcmp(b + sig[i].off, sig[i].magic, sig[i].n)) {
            return sig[i].fmt;
        }
    }
    return NULL;
}

/* QEMU's rule for a raw image opened writable without format=: a guest
 * must not write another format's header into block 0, or the next start
 * would probe the image as that format (and follow, say, a backing file
 * name the guest chose: any file on the host).  0: go on; -EPERM: such a
 * header; -EINVAL: a write into block 0 that does not cover all of it
 * (QEMU requires 512-byte alignment there; devices write whole sectors). */
static int raw_check_block0(BlockDriverState *bs, const BlockRequest *req)
{
    RawState *s = bs->opaque;
    uint8_t b[BDRV_SECTOR_SIZE];
    const char *fmt;

    if (!s->probed || req->type != BLOCK_REQ_WRITE || req->bytes <= 0 ||
        req->offset >= BDRV_SECTOR_SIZE) {
        return 0;
    }
    if (req->offset != 0 || req->bytes < BDRV_SECTOR_SIZE) {
        return -EINVAL;
    }
    iov_to_buf(req->iov, req->niov, 0, b, sizeof(b));
    fmt = bdrv_probe_signature(b, sizeof(b));
    if (fmt) {
        qemu_log_mask(LOG_GUEST_ERROR, "raw: '%s': a write of a %s header into block 0 "
                      "refused (the format was probed; give format=raw to allow it)\n",
                      bs->filename, fmt);
        return -EPERM;
    }
    return 0;
}

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
    int r = raw_check_block0(bs, req);

    if (r) {
        block_request_complete_later(req, r);
        return;
    }
    if (req->type != BLOCK_REQ_FLUSH) {
        req->offset += s->offset;
    }
    bdrv_submit(bs->child, req);
}

static int raw_run_blocking(BlockDriverState *bs, BlockRequest *req)
{
    RawState *s = bs->opaque;
    BlockRequest sub = *req;
    int r = raw_check_block0(bs, req);

    if (r) {
        return r;
    }
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

void bdrv_raw_set_probed(BlockDriverState *bs)
{
    if (bs && bs->drv == &raw_driver) {
        ((RawState *)bs->opaque)->probed = true;
    }
}

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

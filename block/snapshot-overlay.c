/*
 * What -snapshot / snapshot=on puts above an image, as QEMU does: a
 * temporary qcow2 image (64 KiB clusters, the image's size rounded up to
 * 512 bytes) in $TMPDIR (default /var/tmp) whose backing node is the
 * image, opened read-only.  The file is unlinked as soon as it is open, so
 * it disappears with the process, even on SIGKILL.  It is opened without
 * flushes (QEMU's cache.no-flush=on for the overlay: its contents die with
 * the process).  The overlay is an ordinary qcow2 node: writes allocate
 * clusters with copy-on-write from the image, discards become zero
 * clusters (the image's data does not come back), reads of clusters never
 * written come from the image.  The header names no backing file: the
 * backing node is attached in memory (the image may be a window offset=/
 * size= of a file, which a name cannot say).
 */
#include <errno.h>
#include <unistd.h>
#include "block/qcow2.h"

BlockDriverState *bdrv_open_snapshot_overlay(BlockDriverState *base, const char *tmpdir,
                                             Error **errp)
{
    const char *dir = tmpdir ? tmpdir : g_getenv("TMPDIR");
    g_autofree char *path = g_build_filename(dir && dir[0] ? dir : "/var/tmp",
                                             "kvmpc-snapshot.XXXXXX", NULL);
    BlockFileOptions fo = { .filename = path, .locking = BLOCK_LOCK_OFF, .no_flush = true };
    int64_t length = bdrv_getlength(base);
    Qcow2CreateOptions co = { .size = MAX(length, 0) };
    BlockDriverState *file, *bs = NULL;
    int fd;

    if (length < 0) {
        error_setg_errno(errp, (int)-length, "Could not get the size of '%s'",
                         bdrv_get_filename(base));
        bdrv_unref(base);
        return NULL;
    }
    fd = g_mkstemp(path);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Could not create the temporary snapshot overlay '%s'",
                         path);
        bdrv_unref(base);
        return NULL;
    }
    close(fd);
    if (qcow2_create(path, &co, errp) && (file = bdrv_open_file(&fo, errp))) {
        bs = bdrv_open_qcow2(file, false, QCOW2_OPEN_NO_BACKING | QCOW2_OPEN_TEMPORARY, errp);
    }
    unlink(path);
    if (bs) {
        qcow2_set_backing(bs, base);
    }
    bdrv_unref(base);
    return bs;
}

bool bdrv_is_snapshot_overlay(BlockDriverState *bs)
{
    return bdrv_is_qcow2(bs) && qcow2_is_temporary(bs);
}

BlockDriverState *bdrv_snapshot_overlay_base(BlockDriverState *bs)
{
    return bdrv_is_snapshot_overlay(bs) ? qcow2_backing(bs) : bs;
}

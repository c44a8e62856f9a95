/*
 * QMP commands on removable media: eject and blockdev-change-medium
 * (QEMU's arguments).  The drive is named by its backend (`device`, the
 * -drive id) or by the device that holds it (`id`, its qdev id).  The
 * device model hears of the change through its BlockDevOps
 * (change_media_cb), e.g. the IDE CD-ROM (hw/ide/atapi.c) reports UNIT
 * ATTENTION and a media event to the guest.
 */
#include <string.h>
#include "block/block.h"
#include "block/blockdev.h"
#include "block/qcow2.h"
#include "monitor/monitor.h"
#include "monitor/qmp-internal.h"
#include "monitor/qmp-gen.h"

static BlockBackend *medium_find(bool has_device, const char *device, bool has_id,
                                 const char *id, Error **errp)
{
    if (has_device == has_id) {
        error_setg(errp, "Need exactly one of 'device' and 'id'");
        return NULL;
    }
    for (BlockBackend *blk = blk_next(NULL); blk; blk = blk_next(blk)) {
        const char *dev_id = blk_get_attached_dev_id(blk);
        if (has_device ? !strcmp(blk_name(blk), device) : dev_id && !strcmp(dev_id, id)) {
            return blk;
        }
    }
    error_setg(errp, "Device '%s' not found", has_device ? device : id);
    return NULL;
}

JsonNode *qmp_eject(Monitor *mon, const QmpArgs_eject *args, Error **errp)
{
    BlockBackend *blk = medium_find(args->has_device, args->device, args->has_id, args->id,
                                    errp);

    if (blk) {
        blk_eject(blk, args->has_force && args->force, errp);
    }
    return NULL;
}

JsonNode *qmp_blockdev_change_medium(Monitor *mon, const QmpArgs_blockdev_change_medium *args,
                                     Error **errp)
{
    BlockBackend *blk = medium_find(args->has_device, args->device, args->has_id, args->id,
                                    errp);
    BlockFileOptions fo = { 0 };
    BlockDriverState *file, *bs;
    const char *fmt;

    if (!blk) {
        return NULL;
    }
    if (!blk_is_removable(blk)) {
        error_setg(errp, "Device '%s' is not removable", blk_name(blk));
        return NULL;
    }
    fmt = args->has_format ? args->format : bdrv_probe_format(args->filename, NULL);
    if (fmt && strcmp(fmt, "raw") && strcmp(fmt, "qcow2")) {
        error_setg(errp, "format '%s' is not supported (kvmpc has raw and qcow2)", fmt);
        return NULL;
    }
    /* retain (the default): the backend's mode; a CD-ROM is read-only */
    fo.filename = args->filename;
    fo.read_only = blk_is_read_only(blk);
    if (args->has_read_only_mode && args->read_only_mode) {
        fo.read_only = args->read_only_mode == 1;
    }
    if (blk_is_inserted(blk) && !blk_eject(blk, args->has_force && args->force, errp)) {
        return NULL;
    }
    file = bdrv_open_file(&fo, errp);
    if (!file) {
        return NULL;
    }
    if (fmt && !strcmp(fmt, "qcow2")) {
        bs = bdrv_open_qcow2(file, fo.read_only, 0, errp);
    } else {
        bs = bdrv_open_raw(file, 0, -1, errp);
    }
    if (!bs) {
        return NULL;
    }
    blk_change_medium(blk, bs, errp);   /* takes its own reference */
    bdrv_unref(bs);
    return NULL;
}

/* HMP: "eject [-f] device" and "change device filename [format]". */
void hmp_eject(Monitor *mon, int argc, char **argv)
{
    QmpArgs_eject args = { .has_device = true };
    Error *err = NULL;
    int i = 1;

    if (i < argc && !strcmp(argv[i], "-f")) {
        args.has_force = args.force = true;
        i++;
    }
    if (i >= argc) {
        monitor_printf(mon, "eject: missing device\n");
        return;
    }
    args.device = argv[i];
    qmp_eject(mon, &args, &err);
    if (err) {
        monitor_printf(mon, "Error: %s\n", err->message);
        g_error_free(err);
    }
}

void hmp_change(Monitor *mon, int argc, char **argv)
{
    QmpArgs_blockdev_change_medium args = { .has_device = true };
    Error *err = NULL;

    if (argc < 3) {
        monitor_printf(mon, "change: usage: change device filename [format]\n");
        return;
    }
    args.device = argv[1];
    args.filename = argv[2];
    if (argc > 3) {
        args.has_format = true;
        args.format = argv[3];
    }
    qmp_blockdev_change_medium(mon, &args, &err);
    if (err) {
        monitor_printf(mon, "Error: %s\n", err->message);
        g_error_free(err);
    }
}

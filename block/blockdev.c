/*
 * The block command line and the drive table; QMP query-block,
 * query-named-block-nodes and query-blockstats, HMP info block and info
 * blockstats.  See include/block/blockdev.h and docs/block.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <json-glib/json-glib.h>
#include "block/blockdev.h"
#include "block/block-int.h"
#include "block/qcow2.h"
#include "monitor/monitor.h"
#include "monitor/qmp-internal.h"
#include "monitor/qmp-gen.h"
#include "qemu/option.h"
#include "system/main-loop.h"

static const char *const if_names[IF_COUNT] = {
    [IF_NONE] = "none", [IF_IDE] = "ide", [IF_FLOPPY] = "floppy",
    [IF_VIRTIO] = "virtio", [IF_SCSI] = "scsi",
};
/* Units per bus (0: one unit number space, no buses). */
static const int if_max_devs[IF_COUNT] = { [IF_IDE] = 2, [IF_SCSI] = 7 };

typedef struct CmdlineEntry {
    char *opt;                  /* "-drive", "-hda", "-blockdev" ... */
    char *arg;                  /* as the user wrote it */
    char *spec;                 /* the -drive / -blockdev option string */
} CmdlineEntry;

static GPtrArray *cmdline_drives, *cmdline_blockdevs;
static GPtrArray *drives;       /* DriveInfo * */
static bool snapshot_all;

const char *drive_if_name(BlockInterfaceType type)
{
    return type < IF_COUNT ? if_names[type] : "?";
}

/* ---- the drive table -------------------------------------------------- */

DriveInfo *drive_get(BlockInterfaceType type, int bus, int unit)
{
    for (guint i = 0; drives && i < drives->len; i++) {
        DriveInfo *d = g_ptr_array_index(drives, i);
        if (d->type == type && d->bus == bus && d->unit == unit) {
            return d;
        }
    }
    return NULL;
}

DriveInfo *drive_get_by_index(BlockInterfaceType type, int index)
{
    int max = if_max_devs[type];

    return max ? drive_get(type, index / max, index % max) : drive_get(type, 0, index);
}

int drive_get_max_bus(BlockInterfaceType type)
{
    int max = -1;

    for (guint i = 0; drives && i < drives->len; i++) {
        DriveInfo *d = g_ptr_array_index(drives, i);
        if (d->type == type && d->bus > max) {
            max = d->bus;
        }
    }
    return max;
}

DriveInfo *blk_legacy_dinfo(BlockBackend *blk)
{
    for (guint i = 0; drives && i < drives->len; i++) {
        DriveInfo *d = g_ptr_array_index(drives, i);
        if (d->blk == blk) {
            return d;
        }
    }
    return NULL;
}

BlockBackend *blockdev_backend_for(const char *name, Error **errp)
{
    BlockBackend *blk = blk_by_name(name);
    BlockDriverState *bs;

    if (blk) {
        return blk;
    }
    bs = bdrv_find_node(name);
    if (!bs) {
        error_setg(errp, "Property 'drive' can't find value '%s'", name);
        return NULL;
    }
    blk = blk_new(NULL);
    blk_insert_bs(blk, bs, errp);
    blk_set_read_only(blk, bdrv_is_read_only(bs));
    return blk;
}

/* ---- option values ---------------------------------------------------- */

static bool opt_enum(QemuOpts *o, const char *key, const char *const *names, int n,
                     int def, int *out, Error **errp)
{
    const char *v = qemu_opt_get(o, key);

    *out = def;
    if (!v) {
        return true;
    }
    for (int i = 0; i < n; i++) {
        if (names[i] && !strcmp(v, names[i])) {
            *out = i;
            return true;
        }
    }
    error_setg(errp, "invalid %s option '%s'", key, v);
    return false;
}

static bool opt_int(QemuOpts *o, const char *key, int *out, Error **errp)
{
    const char *v = qemu_opt_get(o, key);
    uint64_t n;

    *out = -1;
    if (!v) {
        return true;
    }
    if (!parse_uint(key, v, &n, errp)) {
        return false;
    }
    if (n > 1023) {
        error_setg(errp, "%s=%s is out of range", key, v);
        return false;
    }
    *out = (int)n;
    return true;
}

/* QEMU's format probe, minus the formats we do not have: a file that
 * starts with the qcow2 magic is qcow2, everything else is raw (probed:
 * the caller warns).  *fmt_out is "raw" or "qcow2". */
static bool check_format(const char *filename, const char *format, bool *probed,
                         const char **fmt_out, Error **errp)
{
    *probed = false;
    *fmt_out = "raw";
    if (format) {
        if (!strcmp(format, "raw") || !strcmp(format, "qcow2")) {
            *fmt_out = !strcmp(format, "raw") ? "raw" : "qcow2";
            return true;
        }
        if (!strcmp(format, "qcow") || !strcmp(format, "vmdk") ||
            !strcmp(format, "vdi") || !strcmp(format, "vpc") || !strcmp(format, "vhdx") ||
            !strcmp(format, "qed") || !strcmp(format, "luks")) {
            error_setg(errp, "format '%s' is not supported (kvmpc has raw and qcow2)",
                       format);
        } else {
            error_setg(errp, "Unknown driver '%s'", format);
        }
        return false;
    }
    if (filename) {
        const char *f = bdrv_probe_format(filename, NULL);
        if (f && !strcmp(f, "qcow2")) {
            *fmt_out = "qcow2";
            return true;
        }
        *probed = true;
    }
    return true;
}

typedef struct CacheMode {
    bool direct, no_flush, writeback;
} CacheMode;

static bool parse_cache(const char *mode, CacheMode *c, Error **errp)
{
    static const struct { const char *name; CacheMode c; } modes[] = {
        { "writeback", { false, false, true } },
        { "none", { true, false, true } },
        { "off", { true, false, true } },
        { "writethrough", { false, false, false } },
        { "directsync", { true, false, false } },
        { "unsafe", { false, true, true } },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(modes); i++) {
        if (!strcmp(mode, modes[i].name)) {
            *c = modes[i].c;
            return true;
        }
    }
    error_setg(errp, "invalid cache option '%s'", mode);
    return false;
}

static const char *const aio_names[] = { "threads", "io_uring", "native" };
static const char *const lock_names[] = { "auto", "on", "off" };

/* file-level options shared by -drive and -blockdev driver=file; prefix
 * is "" or "file." (the -drive spelling). */
static bool parse_file_opts(QemuOpts *o, BlockFileOptions *fo, Error **errp)
{
    int aio, lock;
    const char *discard;

    if (!opt_enum(o, "aio", aio_names, 3, BLOCK_AIO_THREADS, &aio, errp)) {
        return false;
    }
    fo->aio = aio;
    if (!opt_enum(o, qemu_opt_has(o, "file.locking") ? "file.locking" : "locking",
                  lock_names, 3, BLOCK_LOCK_AUTO, &lock, errp)) {
        return false;
    }
    fo->locking = lock;
    discard = qemu_opt_get(o, "discard");
    if (discard && strcmp(discard, "ignore") && strcmp(discard, "off") &&
        strcmp(discard, "unmap") && strcmp(discard, "on")) {
        error_setg(errp, "Invalid discard option '%s'", discard);
        return false;
    }
    fo->discard_unmap = discard && (!strcmp(discard, "unmap") || !strcmp(discard, "on"));
    if (!qemu_opt_get_bool(o, "cache.direct", fo->direct, &fo->direct, errp) ||
        !qemu_opt_get_bool(o, "cache.no-flush", fo->no_flush, &fo->no_flush, errp)) {
        return false;
    }
    if (fo->aio == BLOCK_AIO_NATIVE && !fo->direct) {
        error_setg(errp, "aio=native was specified, but it requires cache.direct=on, "
                   "which was not specified.");
        return false;
    }
    return true;
}

/* ---- -drive ----------------------------------------------------------- */

static void drive_default_id(DriveInfo *d, GString *out)
{
    const char *media = "";

    if (d->type == IF_IDE || d->type == IF_SCSI) {
        media = d->media == MEDIA_CDROM ? "-cd" : "-hd";
    }
    if (if_max_devs[d->type]) {
        g_string_printf(out, "%s%d%s%d", if_names[d->type], d->bus, media, d->unit);
    } else {
        g_string_printf(out, "%s%s%d", if_names[d->type], media, d->unit);
    }
}

DriveInfo *drive_new(const char *spec, BlockInterfaceType default_if, Error **errp)
{
    g_autoptr(GString) id = g_string_new(NULL);
    QemuOpts *o = qemu_opts_parse(spec, NULL, errp);
    BlockFileOptions fo = { 0 };
    CacheMode cache = { false, false, true };
    const char *file, *format, *v;
    int type, index, bus, unit, media;
    bool ro = false, snap = snapshot_all, probed;
    const char *fmt = "raw";
    uint64_t offset = 0, size = 0;
    BlockDriverState *bs = NULL;
    BlockBackend *blk;
    DriveInfo *d;

    if (!o) {
        return NULL;
    }
    file = qemu_opt_get(o, "file");
    format = qemu_opt_get(o, "format");
    if (!opt_enum(o, "if", if_names, IF_COUNT, default_if, &type, errp) ||
        !opt_int(o, "index", &index, errp) || !opt_int(o, "bus", &bus, errp) ||
        !opt_int(o, "unit", &unit, errp) ||
        !opt_enum(o, "media", (const char *const[]){ "disk", "cdrom" }, 2, MEDIA_DISK,
                  &media, errp)) {
        goto fail;
    }
    if (!qemu_opt_get_bool(o, "readonly", false, &ro, errp) ||
        !qemu_opt_get_bool(o, "read-only", ro, &ro, errp) ||
        !qemu_opt_get_bool(o, "snapshot", snap, &snap, errp)) {
        goto fail;
    }
    if ((v = qemu_opt_get(o, "cache")) && !parse_cache(v, &cache, errp)) {
        goto fail;
    }
    fo.direct = cache.direct;
    fo.no_flush = cache.no_flush;
    if (!qemu_opt_get_bool(o, "cache.writeback", cache.writeback, &cache.writeback, errp) ||
        !parse_file_opts(o, &fo, errp)) {
        goto fail;
    }
    if (!qemu_opt_get_size(o, "offset", 0, &offset, errp) ||
        !qemu_opt_get_size(o, "size", 0, &size, errp)) {
        goto fail;
    }
    if ((v = qemu_opt_get(o, "werror")) && strcmp(v, "enospc") && strcmp(v, "report")) {
        error_setg(errp, "werror=%s is not supported yet (errors are reported to the guest)", v);
        goto fail;
    }
    if ((v = qemu_opt_get(o, "rerror")) && strcmp(v, "report")) {
        error_setg(errp, "rerror=%s is not supported yet (errors are reported to the guest)", v);
        goto fail;
    }
    if (media == MEDIA_CDROM) {
        if (type != IF_IDE && type != IF_SCSI && type != IF_NONE) {
            error_setg(errp, "media=cdrom is not supported with if=%s", if_names[type]);
            goto fail;
        }
        ro = true;
    }
    if (file && !file[0]) {
        file = NULL;
    }

    /* Where the drive sits: QEMU's rules for index=, bus=, unit=. */
    if (index >= 0) {
        if (bus >= 0 || unit >= 0) {
            error_setg(errp, "index cannot be used with bus and unit");
            goto fail;
        }
        bus = if_max_devs[type] ? index / if_max_devs[type] : 0;
        unit = if_max_devs[type] ? index % if_max_devs[type] : index;
    }
    if (bus < 0) {
        bus = 0;
    }
    if (unit < 0) {
        unit = 0;
        while (drive_get(type, bus, unit)) {
            unit++;
            if (if_max_devs[type] && unit >= if_max_devs[type]) {
                unit -= if_max_devs[type];
                bus++;
            }
        }
    }
    if (if_max_devs[type] && unit >= if_max_devs[type]) {
        error_setg(errp, "unit %d too big (max is %d)", unit, if_max_devs[type] - 1);
        goto fail;
    }
    if (drive_get(type, bus, unit)) {
        error_setg(errp, "drive with bus=%d, unit=%d (index=%d) exists", bus, unit,
                   if_max_devs[type] ? bus * if_max_devs[type] + unit : unit);
        goto fail;
    }
    d = g_new0(DriveInfo, 1);
    d->type = type;
    d->bus = bus;
    d->unit = unit;
    d->media = media;
    if ((v = qemu_opt_get(o, "id"))) {
        if (!id_wellformed(v)) {
            error_setg(errp, "Parameter 'id' expects an identifier");
            g_free(d);
            goto fail;
        }
        g_string_assign(id, v);
    } else {
        drive_default_id(d, id);
    }
    if (blk_by_name(id->str) || bdrv_find_node(id->str)) {
        error_setg(errp, "Duplicate ID '%s' for drive", id->str);
        g_free(d);
        goto fail;
    }
    if (!qemu_opts_check_unused(o, errp)) {
        g_free(d);
        goto fail;
    }

    if (file) {
        if (!check_format(file, format, &probed, &fmt, errp)) {
            g_free(d);
            goto fail;
        }
        if (!strcmp(fmt, "qcow2") && (qemu_opt_has(o, "offset") || qemu_opt_has(o, "size"))) {
            error_setg(errp, "offset= and size= are options of the raw format only");
            g_free(d);
            goto fail;
        }
        fo.filename = file;
        fo.read_only = ro || snap;
        bs = bdrv_open_file(&fo, errp);
        if (bs && !strcmp(fmt, "qcow2")) {
            bs = bdrv_open_qcow2(bs, ro || snap, 0, errp);
        } else if (bs) {
            bs = bdrv_open_raw(bs, offset, qemu_opt_has(o, "size") ? (int64_t)size : -1, errp);
            if (bs && probed && !(ro || snap)) {
                bdrv_raw_set_probed(bs);
            }
        }
        if (bs && snap && !ro) {
            bs = bdrv_open_snapshot_overlay(bs, NULL, errp);
        }
        if (!bs) {
            g_free(d);
            goto fail;
        }
        if (probed && !ro) {
            warn_report("Image format was not specified for '%s' and probing guessed raw.\n"
                        "         Automatically detecting the format is dangerous for raw "
                        "images.\n         Specify the 'raw' format explicitly.", file);
        }
    } else if (format && !check_format(NULL, format, &probed, &fmt, errp)) {
        g_free(d);
        goto fail;
    }

    blk = blk_new(id->str);
    if (bs) {
        blk_insert_bs(blk, bs, NULL);
        bdrv_unref(bs);
    }
    blk_set_read_only(blk, ro);
    blk_set_enable_write_cache(blk, cache.writeback);
    blk_set_discard(blk, fo.discard_unmap);
    blk_set_removable(blk, media == MEDIA_CDROM || type == IF_FLOPPY);
    d->blk = blk;
    d->spec = g_strdup_printf("-drive %s", spec);
    if (!drives) {
        drives = g_ptr_array_new();
    }
    g_ptr_array_add(drives, d);
    qemu_opts_free(o);
    return d;

fail:
    qemu_opts_free(o);
    return NULL;
}

/* ---- -blockdev -------------------------------------------------------- */

/* '{"driver":"raw","file":{"driver":"file","filename":"x"}}' as the
 * dotted keys the option parser gives: driver=raw,file.driver=file,... */
static void json_flatten(JsonObject *obj, const char *prefix, QemuOpts *out)
{
    g_autoptr(GList) members = json_object_get_members(obj);

    for (GList *l = members; l; l = l->next) {
        const char *name = l->data;
        JsonNode *n = json_object_get_member(obj, name);
        g_autofree char *key = g_strconcat(prefix, name, NULL);

        if (JSON_NODE_HOLDS_OBJECT(n)) {
            g_autofree char *sub = g_strconcat(key, ".", NULL);
            json_flatten(json_node_get_object(n), sub, out);
        } else if (JSON_NODE_HOLDS_VALUE(n)) {
            GType t = json_node_get_value_type(n);
            g_autofree char *v = t == G_TYPE_BOOLEAN
                ? g_strdup(json_node_get_boolean(n) ? "on" : "off")
                : t == G_TYPE_INT64 ? g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(n))
                : t == G_TYPE_STRING ? g_strdup(json_node_get_string(n))
                : g_strdup_printf("%g", json_node_get_double(n));
            qemu_opt_set(out, key, v);
        } else if (JSON_NODE_HOLDS_NULL(n)) {
            /* "backing": null, the one place QEMU takes null: no backing file */
            qemu_opt_set(out, key, "null");
        }
    }
}

static QemuOpts *blockdev_parse(const char *spec, Error **errp)
{
    g_autoptr(JsonParser) parser = NULL;
    g_autoptr(GError) jerr = NULL;
    QemuOpts *o;

    if (spec[0] != '{') {
        return qemu_opts_parse(spec, NULL, errp);
    }
    parser = json_parser_new();
    if (!json_parser_load_from_data(parser, spec, -1, &jerr) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
        error_setg(errp, "invalid JSON: %s", jerr ? jerr->message : "not an object");
        return NULL;
    }
    o = qemu_opts_new();
    json_flatten(json_node_get_object(json_parser_get_root(parser)), "", o);
    return o;
}

static BlockDriverState *blockdev_node(QemuOpts *o, const char *prefix, bool top,
                                       Error **errp);

/* A format node's file child: file=NODE-NAME (a new reference) or a node
 * described by the file.* keys. */
static BlockDriverState *blockdev_child(QemuOpts *o, const char *prefix, Error **errp)
{
    g_autofree char *k_file = g_strconcat(prefix, "file", NULL);
    g_autofree char *k_fdrv = g_strconcat(prefix, "file.driver", NULL);
    const char *child_name = qemu_opt_get(o, k_file);
    BlockDriverState *child;

    if (child_name) {
        child = bdrv_find_node(child_name);
        if (!child) {
            error_setg(errp, "Cannot find device='' nor node-name='%s'", child_name);
            return NULL;
        }
        bdrv_ref(child);
        return child;
    }
    if (qemu_opt_has(o, k_fdrv)) {
        g_autofree char *cp = g_strconcat(prefix, "file.", NULL);
        return blockdev_node(o, cp, false, errp);
    }
    error_setg(errp, "Parameter '%sfile' is missing", prefix);
    return NULL;
}

/* driver=qcow2: file=NODE or file.driver=..., backing=NODE|null (default:
 * the backing file the image names). */
static BlockDriverState *blockdev_qcow2(QemuOpts *o, const char *prefix, bool ro,
                                       Error **errp)
{
    g_autofree char *k_backing = g_strconcat(prefix, "backing", NULL);
    const char *backing = qemu_opt_get(o, k_backing);
    BlockDriverState *child, *bs, *bk = NULL;

    if (backing && backing[0] && strcmp(backing, "null")) {
        bk = bdrv_find_node(backing);
        if (!bk) {
            error_setg(errp, "Cannot find device='' nor node-name='%s'", backing);
            return NULL;
        }
    }
    if (!(child = blockdev_child(o, prefix, errp))) {
        return NULL;
    }
    bs = bdrv_open_qcow2(child, ro, backing ? QCOW2_OPEN_NO_BACKING : 0, errp);
    if (bs && bk) {
        qcow2_set_backing(bs, bk);
    }
    return bs;
}

/* One node described by the keys under prefix ("" or "file."). */
static BlockDriverState *blockdev_node(QemuOpts *o, const char *prefix, bool top,
                                       Error **errp)
{
    g_autofree char *k_driver = g_strconcat(prefix, "driver", NULL);
    g_autofree char *k_node = g_strconcat(prefix, "node-name", NULL);
    g_autofree char *k_ro = g_strconcat(prefix, "read-only", NULL);
    const char *driver = qemu_opt_get(o, k_driver);
    const char *node_name = qemu_opt_get(o, k_node);
    BlockDriverState *bs = NULL;
    bool ro = false;

    if (!driver) {
        error_setg(errp, "Parameter '%sdriver' is missing", prefix);
        return NULL;
    }
    if (top && !node_name) {
        error_setg(errp, "A node-name is required for -blockdev");
        return NULL;
    }
    if (node_name && (!id_wellformed(node_name) || bdrv_find_node(node_name) ||
                      blk_by_name(node_name))) {
        error_setg(errp, bdrv_find_node(node_name) || blk_by_name(node_name)
                   ? "Duplicate nodes with node-name='%s'" : "Invalid node-name: '%s'",
                   node_name);
        return NULL;
    }
    if (!qemu_opt_get_bool(o, k_ro, false, &ro, errp)) {
        return NULL;
    }
    if (!strcmp(driver, "file") || !strcmp(driver, "host_device")) {
        g_autofree char *k_fn = g_strconcat(prefix, "filename", NULL);
        g_autofree char *k_aio = g_strconcat(prefix, "aio", NULL);
        g_autofree char *k_lock = g_strconcat(prefix, "locking", NULL);
        g_autofree char *k_direct = g_strconcat(prefix, "cache.direct", NULL);
        g_autofree char *k_noflush = g_strconcat(prefix, "cache.no-flush", NULL);
        g_autofree char *k_discard = g_strconcat(prefix, "discard", NULL);
        BlockFileOptions fo = { .read_only = ro };
        QemuOpts *sub = qemu_opts_new();
        const char *keys[][2] = {
            { k_aio, "aio" }, { k_lock, "locking" }, { k_direct, "cache.direct" },
            { k_noflush, "cache.no-flush" }, { k_discard, "discard" },
        };
        bool ok;

        fo.filename = qemu_opt_get(o, k_fn);
        for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
            const char *v = qemu_opt_get(o, keys[i][0]);
            if (v) {
                qemu_opt_set(sub, keys[i][1], v);
            }
        }
        ok = parse_file_opts(sub, &fo, errp);
        qemu_opts_free(sub);
        if (!ok) {
            return NULL;
        }
        if (!fo.filename) {
            error_setg(errp, "Parameter '%sfilename' is missing", prefix);
            return NULL;
        }
        bs = bdrv_open_file(&fo, errp);
    } else if (!strcmp(driver, "raw")) {
        g_autofree char *k_off = g_strconcat(prefix, "offset", NULL);
        g_autofree char *k_size = g_strconcat(prefix, "size", NULL);
        BlockDriverState *child;
        uint64_t off = 0, size = 0;

        if (!qemu_opt_get_size(o, k_off, 0, &off, errp) ||
            !qemu_opt_get_size(o, k_size, 0, &size, errp)) {
            return NULL;
        }
        if (!(child = blockdev_child(o, prefix, errp))) {
            return NULL;
        }
        if (ro && !bdrv_is_read_only(child)) {
            /* a read-only format node over a writable file is fine */
        }
        bs = bdrv_open_raw(child, off, qemu_opt_has(o, k_size) ? (int64_t)size : -1, errp);
        if (bs && ro) {
            bs->read_only = true;
        }
    } else if (!strcmp(driver, "qcow2")) {
        bs = blockdev_qcow2(o, prefix, ro, errp);
    } else {
        error_setg(errp, "Invalid parameter value for '%sdriver': '%s' (kvmpc has 'file', "
                   "'raw' and 'qcow2')", prefix, driver);
        return NULL;
    }
    if (bs && node_name) {
        bdrv_set_node_name(bs, node_name, NULL);
    }
    return bs;
}

BlockDriverState *blockdev_new(const char *spec, Error **errp)
{
    QemuOpts *o = blockdev_parse(spec, errp);
    BlockDriverState *bs;
    const char *v;

    if (!o) {
        return NULL;
    }
    if ((v = qemu_opt_get(o, "driver")) && (!strcmp(v, "raw") || !strcmp(v, "qcow2"))) {
        qemu_opt_get(o, "file");    /* a node reference, read by blockdev_node */
    }
    bs = blockdev_node(o, "", true, errp);
    if (bs && !qemu_opts_check_unused(o, errp)) {
        bdrv_unref(bs);
        bs = NULL;
    }
    qemu_opts_free(o);
    return bs;
}

/* ---- the command line ------------------------------------------------- */

static void cmdline_add(GPtrArray **list, const char *opt, const char *arg, char *spec)
{
    CmdlineEntry *e = g_new0(CmdlineEntry, 1);

    e->opt = g_strdup(opt);
    e->arg = g_strdup(arg);
    e->spec = spec;
    if (!*list) {
        *list = g_ptr_array_new();
    }
    g_ptr_array_add(*list, e);
}

/* A file name inside an option string: commas doubled. */
static char *escape_commas(const char *s)
{
    g_auto(GStrv) parts = g_strsplit(s, ",", -1);

    return g_strjoinv(",,", parts);
}

int blockdev_cmdline_option(int argc, char **argv)
{
    static const struct { const char *name; const char *fmt; } legacy[] = {
        { "hda", "index=0,media=disk" }, { "hdb", "index=1,media=disk" },
        { "hdc", "index=2,media=disk" }, { "hdd", "index=3,media=disk" },
        { "cdrom", "index=2,media=cdrom" },
        { "fda", "if=floppy,index=0" }, { "fdb", "if=floppy,index=1" },
    };
    const char *name = argv[0];

    if (name[0] != '-') {
        /* QEMU: a word that is not an option is the first hard disk */
        g_autofree char *file = escape_commas(name);
        cmdline_add(&cmdline_drives, "-hda", name,
                    g_strdup_printf("file=%s,index=0,media=disk", file));
        return 1;
    }
    if (!name[1]) {
        return 0;
    }
    name += name[1] == '-' ? 2 : 1;
    if (!strcmp(name, "snapshot")) {
        snapshot_all = true;
        return 1;
    }
    if (strcmp(name, "drive") && strcmp(name, "blockdev")) {
        size_t i;
        for (i = 0; i < G_N_ELEMENTS(legacy) && strcmp(name, legacy[i].name); i++) {
        }
        if (i == G_N_ELEMENTS(legacy)) {
            return 0;
        }
    }
    if (argc < 2) {
        error_report("%s: requires an argument", argv[0]);
        exit(1);
    }
    if (!strcmp(name, "drive")) {
        cmdline_add(&cmdline_drives, argv[0], argv[1], g_strdup(argv[1]));
    } else if (!strcmp(name, "blockdev")) {
        cmdline_add(&cmdline_blockdevs, argv[0], argv[1], g_strdup(argv[1]));
    } else {
        for (size_t i = 0; i < G_N_ELEMENTS(legacy); i++) {
            if (!strcmp(name, legacy[i].name)) {
                g_autofree char *file = escape_commas(argv[1]);
                cmdline_add(&cmdline_drives, argv[0], argv[1],
                            g_strdup_printf("file=%s,%s", file, legacy[i].fmt));
            }
        }
    }
    return 2;
}

void blockdev_print_help(void)
{
    static const char *const lines[][2] = {
        { "-drive [file=F][,format=raw|qcow2][,if=ide|floppy|virtio|scsi|none][,index=N][,bus=B,unit=U]"
          "[,media=disk|cdrom][,id=ID][,readonly=on][,cache=writeback|none|writethrough|"
          "directsync|unsafe][,aio=threads|io_uring|native][,discard=ignore|unmap]"
          "[,snapshot=on][,file.locking=auto|on|off]", "add a drive (docs/block.md)" },
        { "-hda/-hdb/-hdc/-hdd F", "IDE disk image at index 0..3" },
        { "-cdrom F", "IDE CD-ROM image at index 2" },
        { "-fda/-fdb F", "floppy image 0/1" },
        { "-snapshot", "write to temporary overlays, never to the images" },
        { "-blockdev driver=file|raw,node-name=N[,filename=F|file=NODE][,...]",
          "add a block node (also in JSON)" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(lines); i++) {
        if (strlen(lines[i][0]) > 28) {
            printf("%s\n%-30s%s\n", lines[i][0], "", lines[i][1]);
        } else {
            printf("%-30s%s\n", lines[i][0], lines[i][1]);
        }
    }
}

void blockdev_open_all(void)
{
    for (guint i = 0; cmdline_blockdevs && i < cmdline_blockdevs->len; i++) {
        CmdlineEntry *e = g_ptr_array_index(cmdline_blockdevs, i);
        Error *err = NULL;
        if (!blockdev_new(e->spec, &err)) {
            error_report("%s %s: %s", e->opt, e->arg, err->message);
            exit(1);
        }
    }
    for (guint i = 0; cmdline_drives && i < cmdline_drives->len; i++) {
        CmdlineEntry *e = g_ptr_array_index(cmdline_drives, i);
        Error *err = NULL;
        DriveInfo *d = drive_new(e->spec, IF_IDE, &err);
        if (!d) {
            error_report("%s %s: %s", e->opt, e->arg, err->message);
            exit(1);
        }
        g_free(d->spec);
        d->spec = g_strdup_printf("%s %s", e->opt, e->arg);
    }
}

void blockdev_check_orphans(void)
{
    const char *allow = getenv("KVMPC_ALLOW_ORPHAN_DRIVES");
    bool fatal = !(allow && !strcmp(allow, "1"));
    bool found = false;

    for (guint i = 0; drives && i < drives->len; i++) {
        DriveInfo *d = g_ptr_array_index(drives, i);
        if (d->type == IF_NONE || blk_get_attached_dev(d->blk)) {
            continue;
        }
        /* QEMU's message for a drive no device took. */
        if (fatal) {
            error_report("%s: machine type does not support if=%s,bus=%d,unit=%d",
                         d->spec, if_names[d->type], d->bus, d->unit);
        } else {
            warn_report("%s: machine type does not support if=%s,bus=%d,unit=%d "
                        "(left unclaimed: KVMPC_ALLOW_ORPHAN_DRIVES=1)",
                        d->spec, if_names[d->type], d->bus, d->unit);
        }
        found = true;
    }
    if (found && fatal) {
        exit(1);
    }
}

/* ---- query-block / info block ----------------------------------------- */

static JsonObject *image_info(BlockDriverState *bs)
{
    JsonObject *img = json_object_new();
    BlockDriverState *file = bdrv_get_file(bs);
    int64_t len = bdrv_getlength(bs);
    struct stat st;

    json_object_set_string_member(img, "filename", bdrv_get_filename(bs));
    json_object_set_string_member(img, "format", bdrv_get_format_name(bs));
    json_object_set_int_member(img, "virtual-size", len < 0 ? 0 : len);
    if (stat(bdrv_get_filename(file), &st) == 0) {
        json_object_set_int_member(img, "actual-size", (int64_t)st.st_blocks * 512);
    }
    json_object_set_boolean_member(img, "dirty-flag", false);
    return img;
}

static JsonObject *inserted_info(BlockBackend *blk, BlockDriverState *bs)
{
    JsonObject *o = json_object_new();
    JsonObject *cache = json_object_new();
    const BlockFileOptions *fo = bdrv_file_options(bs);
    BlockDriverState *top = bs;
    const char *drv;

    /* The format node the user asked for (the overlay is an implementation
     * detail of -snapshot: reported as the raw image, see docs/block.md). */
    if (bdrv_is_snapshot_overlay(bs)) {
        bs = bdrv_snapshot_overlay_base(bs);
    }
    drv = bdrv_get_format_name(bs);
    json_object_set_string_member(o, "file", bdrv_get_filename(bs));
    if (top->node_name) {
        json_object_set_string_member(o, "node-name", top->node_name);
    }
    json_object_set_boolean_member(o, "ro", blk ? blk_is_read_only(blk) : bdrv_is_read_only(bs));
    json_object_set_string_member(o, "drv", drv);
    json_object_set_int_member(o, "backing_file_depth", 0);
    json_object_set_boolean_member(o, "encrypted", false);
    json_object_set_string_member(o, "detect_zeroes", "off");
    json_object_set_int_member(o, "bps", 0);
    json_object_set_int_member(o, "bps_rd", 0);
    json_object_set_int_member(o, "bps_wr", 0);
    json_object_set_int_member(o, "iops", 0);
    json_object_set_int_member(o, "iops_rd", 0);
    json_object_set_int_member(o, "iops_wr", 0);
    json_object_set_object_member(o, "image", image_info(bs));
    json_object_set_boolean_member(cache, "writeback", blk ? blk_enable_write_cache(blk) : true);
    json_object_set_boolean_member(cache, "direct", fo && fo->direct);
    json_object_set_boolean_member(cache, "no-flush", fo && fo->no_flush);
    json_object_set_object_member(o, "cache", cache);
    json_object_set_int_member(o, "write_threshold", 0);
    return o;
}

JsonNode *qmp_query_block(Monitor *mon, const QmpArgs_query_block *args, Error **errp)
{
    JsonArray *a = json_array_new();

    for (BlockBackend *blk = blk_next(NULL); blk; blk = blk_next(blk)) {
        JsonObject *o = json_object_new();
        const char *qdev = blk_get_attached_dev_id(blk);

        json_object_set_string_member(o, "device", blk_name(blk));
        if (qdev) {
            json_object_set_string_member(o, "qdev", qdev);
        }
        json_object_set_string_member(o, "type", "unknown");
        json_object_set_boolean_member(o, "removable", blk_is_removable(blk));
        json_object_set_boolean_member(o, "locked", blk_is_locked(blk));
        if (blk_is_removable(blk)) {
            json_object_set_boolean_member(o, "tray_open", blk_is_tray_open(blk));
        }
        if (blk_bs(blk)) {
            json_object_set_object_member(o, "inserted", inserted_info(blk, blk_bs(blk)));
        }
        json_array_add_object_element(a, o);
    }
    return qmp_node_array(a);
}

/* Every node with a node-name (-blockdev), as QEMU's flat list. */
JsonNode *qmp_query_named_block_nodes(Monitor *mon, const QmpArgs_query_named_block_nodes *args,
                                      Error **errp)
{
    JsonArray *a = json_array_new();

    for (BlockDriverState *bs = bdrv_next_named(NULL); bs; bs = bdrv_next_named(bs)) {
        json_array_add_object_element(a, inserted_info(NULL, bs));
    }
    return qmp_node_array(a);
}

static const char *cache_mode_name(BlockBackend *blk)
{
    const BlockFileOptions *fo = blk_bs(blk) ? bdrv_file_options(blk_bs(blk)) : NULL;
    bool wb = blk_enable_write_cache(blk);

    if (!fo) {
        return wb ? "writeback" : "writethrough";
    }
    if (fo->no_flush) {
        return wb ? "writeback, ignore flushes" : "writethrough, ignore flushes";
    }
    if (fo->direct) {
        return wb ? "writeback, direct" : "writethrough, direct";
    }
    return wb ? "writeback" : "writethrough";
}

void hmp_info_block(Monitor *mon, int argc, char **argv)
{
    bool first = true;

    for (BlockBackend *blk = blk_next(NULL); blk; blk = blk_next(blk)) {
        BlockDriverState *bs = blk_bs(blk);
        const char *qdev = blk_get_attached_dev_id(blk);

        if (!first) {
            monitor_printf(mon, "\n");
        }
        first = false;
        if (bs) {
            BlockDriverState *fmt = bdrv_snapshot_overlay_base(bs);
            monitor_printf(mon, "%s: %s (%s%s%s)\n", blk_name(blk)[0] ? blk_name(blk) : qdev,
                           bdrv_get_filename(fmt),
                           bdrv_get_format_name(fmt), blk_is_read_only(blk) ? ", read-only" : "",
                           bdrv_is_snapshot_overlay(bs) ? ", snapshot" : "");
        } else {
            monitor_printf(mon, "%s: [not inserted]\n", blk_name(blk)[0] ? blk_name(blk) : qdev);
        }
        monitor_printf(mon, "    Attached to:      %s\n", qdev ? qdev : "(none)");
        if (blk_is_removable(blk)) {
            monitor_printf(mon, "    Removable device: %slocked, tray %s\n",
                           blk_is_locked(blk) ? "" : "not ", blk_is_tray_open(blk) ? "open"
                                                                                   : "closed");
        }
        if (bs) {
            monitor_printf(mon, "    Cache mode:       %s\n", cache_mode_name(blk));
        }
    }
}

/* ---- query-blockstats / info blockstats ------------------------------- */

/* QEMU's BlockDeviceStats, in its member order.  st NULL: a node's entry
 * (query-nodes), which QEMU fills with zeroes and account_* false. */
static JsonObject *device_stats(const BlockAcctStats *st, uint64_t wr_highest_offset,
                                int64_t now_ns)
{
    static const BlockAcctStats none;
    static const char *const pfx[BLOCK_ACCT__MAX] = {
        [BLOCK_ACCT_READ] = "rd", [BLOCK_ACCT_WRITE] = "wr",
        [BLOCK_ACCT_FLUSH] = "flush", [BLOCK_ACCT_UNMAP] = "unmap",
    };
    /* rd, wr, flush, unmap; flush has no bytes and no merged */
    static const BlockAcctType order[] = {
        BLOCK_ACCT_READ, BLOCK_ACCT_WRITE, BLOCK_ACCT_FLUSH, BLOCK_ACCT_UNMAP,
    };
    JsonObject *o = json_object_new();
    const BlockAcctStats *s = st ? st : &none;
    char key[40];

    for (size_t i = 0; i < G_N_ELEMENTS(order); i++) {
        if (order[i] != BLOCK_ACCT_FLUSH) {
            snprintf(key, sizeof(key), "%s_bytes", pfx[order[i]]);
            json_object_set_int_member(o, key, s->bytes[order[i]]);
        }
    }
    for (size_t i = 0; i < G_N_ELEMENTS(order); i++) {
        snprintf(key, sizeof(key), "%s_operations", pfx[order[i]]);
        json_object_set_int_member(o, key, s->ops[order[i]]);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(order); i++) {
        snprintf(key, sizeof(key), "%s_total_time_ns", pfx[order[i]]);
        json_object_set_int_member(o, key, s->total_time_ns[order[i]]);
    }
    json_object_set_int_member(o, "wr_highest_offset", wr_highest_offset);
    for (size_t i = 0; i < G_N_ELEMENTS(order); i++) {
        if (order[i] != BLOCK_ACCT_FLUSH) {
            snprintf(key, sizeof(key), "%s_merged", pfx[order[i]]);
            json_object_set_int_member(o, key, s->merged[order[i]]);
        }
    }
    if (s->last_access_ns) {
        json_object_set_int_member(o, "idle_time_ns", now_ns - s->last_access_ns);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(order); i++) {
        snprintf(key, sizeof(key), "failed_%s_operations", pfx[order[i]]);
        json_object_set_int_member(o, key, s->failed_ops[order[i]]);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(order); i++) {
        snprintf(key, sizeof(key), "invalid_%s_operations", pfx[order[i]]);
        json_object_set_int_member(o, key, s->invalid_ops[order[i]]);
    }
    json_object_set_boolean_member(o, "account_invalid", st != NULL);
    json_object_set_boolean_member(o, "account_failed", st != NULL);
    json_object_set_array_member(o, "timed_stats", json_array_new());
    return o;
}

/* query-blockstats: one entry per backend (device, qdev, node-name, stats,
 * as QEMU; no "parent": docs/block.md), or with query-nodes one per named
 * node (node-name, stats: only wr_highest_offset, as QEMU's node entries). */
JsonNode *qmp_query_blockstats(Monitor *mon, const QmpArgs_query_blockstats *args,
                               Error **errp)
{
    JsonArray *a = json_array_new();
    int64_t now_ns = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);

    if (args->has_query_nodes && args->query_nodes) {
        for (BlockDriverState *bs = bdrv_next_named(NULL); bs; bs = bdrv_next_named(bs)) {
            JsonObject *o = json_object_new();
            json_object_set_string_member(o, "node-name", bdrv_get_node_name(bs));
            json_object_set_object_member(o, "stats",
                                          device_stats(NULL, bdrv_get_wr_highest_offset(bs),
                                                       now_ns));
            json_array_add_object_element(a, o);
        }
        return qmp_node_array(a);
    }
    for (BlockBackend *blk = blk_next(NULL); blk; blk = blk_next(blk)) {
        JsonObject *o = json_object_new();
        const char *qdev = blk_get_attached_dev_id(blk);
        BlockDriverState *bs = blk_bs(blk);

        json_object_set_string_member(o, "device", blk_name(blk));
        if (qdev && *qdev) {
            json_object_set_string_member(o, "qdev", qdev);
        }
        if (bs && *bdrv_get_node_name(bs)) {
            json_object_set_string_member(o, "node-name", bdrv_get_node_name(bs));
        }
        json_object_set_object_member(o, "stats",
                                      device_stats(blk_get_stats(blk),
                                                   bs ? bdrv_get_wr_highest_offset(bs) : 0,
                                                   now_ns));
        json_array_add_object_element(a, o);
    }
    return qmp_node_array(a);
}

/* QEMU's one line per drive.  An anonymous backend (-device ...,drive=
 * on a -blockdev node) is named by its device, as in info block (QEMU
 * prints an empty name there). */
void hmp_info_blockstats(Monitor *mon, int argc, char **argv)
{
    int64_t now_ns = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);

    for (BlockBackend *blk = blk_next(NULL); blk; blk = blk_next(blk)) {
        const BlockAcctStats *s = blk_get_stats(blk);
        const char *qdev = blk_get_attached_dev_id(blk);
        const char *name = blk_name(blk)[0] ? blk_name(blk) : qdev ? qdev : "";

        monitor_printf(mon, "%s: rd_bytes=%" PRIu64 " wr_bytes=%" PRIu64
                       " rd_operations=%" PRIu64 " wr_operations=%" PRIu64
                       " flush_operations=%" PRIu64 " wr_total_time_ns=%" PRIu64
                       " rd_total_time_ns=%" PRIu64 " flush_total_time_ns=%" PRIu64
                       " rd_merged=%" PRIu64 " wr_merged=%" PRIu64 " idle_time_ns=%" PRId64 "\n",
                       name, s->bytes[BLOCK_ACCT_READ], s->bytes[BLOCK_ACCT_WRITE],
                       s->ops[BLOCK_ACCT_READ], s->ops[BLOCK_ACCT_WRITE],
                       s->ops[BLOCK_ACCT_FLUSH], s->total_time_ns[BLOCK_ACCT_WRITE],
                       s->total_time_ns[BLOCK_ACCT_READ], s->total_time_ns[BLOCK_ACCT_FLUSH],
                       s->merged[BLOCK_ACCT_READ], s->merged[BLOCK_ACCT_WRITE],
                       s->last_access_ns ? now_ns - s->last_access_ns : (int64_t)0);
    }
}

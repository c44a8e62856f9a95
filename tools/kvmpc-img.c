/*
 * kvmpc-img: create, inspect, check and convert disk images (raw, qcow2),
 * with qemu-img's command line, output and exit codes (docs/kvmpc-img.md).
 *
 * Everything runs synchronously on the main thread through the block
 * drivers' run_blocking paths (bdrv_sync_io); no main loop is needed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-glib/json-glib.h>
#include "block/qcow2.h"
#include "qemu/json-writer.h"
#include "qemu/option.h"

#define CHUNK (2 * 1024 * 1024)     /* qemu-img convert's buffer size */

static void die_err(Error *err)
{
    error_report("%s", err->message);
    error_free(err);
    exit(1);
}

/* "k=v,k=v" into opts (commas doubled stay in the value). */
static bool parse_o(QemuOpts **o, const char *arg, Error **errp)
{
    QemuOpts *n = qemu_opts_parse(arg, NULL, errp);

    if (!n) {
        return false;
    }
    if (!*o) {
        *o = n;
        return true;
    }
    /* merge: the later -o wins */
    g_auto(GStrv) parts = g_strsplit(arg, ",", -1);
    for (int i = 0; parts[i]; i++) {
        char *eq = strchr(parts[i], '=');
        if (eq) {
            *eq = 0;
            qemu_opt_set(*o, parts[i], eq + 1);
        }
    }
    qemu_opts_free(n);
    return true;
}

static bool get_size_arg(const char *s, uint64_t *out, Error **errp)
{
    return parse_size("size", s, 0, out, errp);
}

static char *full_backing(const char *image, const char *backing)
{
    g_autofree char *dir = NULL;

    if (g_path_is_absolute(backing) || !strchr(image, '/')) {
        return g_strdup(backing);
    }
    dir = g_path_get_dirname(image);
    return g_build_filename(dir, backing, NULL);
}

/*
 * no_flush: the qcow2 driver's ordering flushes are skipped, as qemu-img
 * convert's default cache mode "unsafe" does for its output (a convert
 * cut short leaves a file to delete anyway; the page cache keeps the
 * write order against a killed process).
 */
static BlockDriverState *open_img_flush(const char *file, const char *fmt, bool rw, bool backing,
                                        bool no_flush)
{
    Error *err = NULL;
    BlockDriverState *bs;
    bool probed;

    if (!fmt) {
        fmt = bdrv_probe_format(file, &err);
        if (!fmt) {
            die_err(err);
        }
    }
    if (!strcmp(fmt, "qcow2")) {
        BlockFileOptions fo = { .filename = file, .read_only = !rw, .no_flush = no_flush };
        BlockDriverState *f = bdrv_open_file(&fo, &err);
        bs = f ? bdrv_open_qcow2(f, !rw, backing ? 0 : QCOW2_OPEN_NO_BACKING, &err) : NULL;
    } else if (!strcmp(fmt, "raw") && no_flush) {
        BlockFileOptions fo = { .filename = file, .read_only = !rw, .no_flush = true };
        BlockDriverState *f = bdrv_open_file(&fo, &err);
        bs = f ? bdrv_open_raw(f, 0, -1, &err) : NULL;
    } else {
        bs = bdrv_open_image(file, fmt, !rw, &probed, &err);
    }
    if (!bs) {
        error_prepend(&err, "Could not open '%s': ", file);
        die_err(err);
    }
    return bs;
}

static BlockDriverState *open_img(const char *file, const char *fmt, bool rw, bool backing)
{
    return open_img_flush(file, fmt, rw, backing, false);
}

static int64_t img_len(BlockDriverState *bs)
{
    return bdrv_getlength(bs);
}

/* The one image file name a subcommand takes, after its options. */
static const char *one_image_arg(int argc, char **argv)
{
    if (optind >= argc) {
        error_report("Expecting one image file name");
        return NULL;
    }
    return argv[optind];
}

/* ---- create ------------------------------------------------------------- */

/* A second line under an error, as qemu-img prints its hints. */
static void error_add_line(Error **errp, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void error_add_line(Error **errp, const char *fmt, ...)
{
    g_autofree char *l = NULL;
    char *old;
    va_list ap;

    if (!errp || !*errp) {
        return;
    }
    va_start(ap, fmt);
    l = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    old = (*errp)->message;
    (*errp)->message = g_strconcat(old, "\n", l, NULL);
    g_free(old);
}

static bool create_image(const char *file, const char *fmt, uint64_t size, QemuOpts *o,
                         const char *backing, const char *bfmt, bool quiet, bool unsafe,
                         Error **errp)
{
    const char *v;
    Qcow2CreateOptions co = { .size = size };
    g_autofree char *detected = NULL;
    g_autoptr(GString) line = NULL;
    uint64_t n;

    if (!strcmp(fmt, "raw")) {
        const char *pre = o ? qemu_opt_get(o, "preallocation") : NULL;
        int fd;
        if (o && !qemu_opts_check_unused(o, errp)) {
            return false;
        }
        if (backing) {
            error_setg(errp, "Backing file not supported for file format 'raw'");
            return false;
        }
        if (!quiet) {
            printf("Formatting '%s', fmt=raw size=%" G_GUINT64_FORMAT "\n", file, size);
        }
        fd = open(file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || ftruncate(fd, size) < 0 ||
            (pre && (!strcmp(pre, "falloc") || !strcmp(pre, "full")) && size &&
             posix_fallocate(fd, 0, size))) {
            error_setg_errno(errp, errno, "Could not create '%s'", file);
            if (fd >= 0) {
                close(fd);
            }
            return false;
        }
        close(fd);
        return true;
    }
    if (strcmp(fmt, "qcow2")) {
        error_setg(errp, "Unknown file format '%s'", fmt);
        return false;
    }
    /* -b and -F win over -o backing_file= and backing_fmt=, as in qemu-img */
    co.backing_file = backing;
    co.backing_fmt = bfmt;
    if (o) {
        if ((v = qemu_opt_get(o, "backing_file")) && !co.backing_file) {
            co.backing_file = v;
        }
        if ((v = qemu_opt_get(o, "backing_fmt")) && !co.backing_fmt) {
            co.backing_fmt = v;
        }
        if ((v = qemu_opt_get(o, "compat"))) {
            if (!strcmp(v, "0.10") || !strcmp(v, "v2")) {
                co.version = 2;
            } else if (!strcmp(v, "1.1") || !strcmp(v, "v3")) {
                co.version = 3;
            } else {
                error_setg(errp, "Invalid parameter 'compat': '%s'", v);
                return false;
            }
        }
        if (!qemu_opt_get_size(o, "cluster_size", 0, &n, errp)) {
            return false;
        }
        co.cluster_size = n;
        if (!qemu_opt_get_number(o, "refcount_bits", 0, &n, errp)) {
            return false;
        }
        co.refcount_bits = n;
        if (!qemu_opt_get_bool(o, "lazy_refcounts", false, &co.lazy_refcounts, errp) ||
            !qemu_opt_get_bool(o, "extended_l2", false, &co.extended_l2, errp)) {
            return false;
        }
        if ((v = qemu_opt_get(o, "compression_type"))) {
            if (!strcmp(v, "zstd")) {
                co.compression_type = 1;
            } else if (strcmp(v, "zlib")) {
                error_setg(errp, "Invalid parameter 'compression_type': '%s'", v);
                return false;
            }
        }
        co.preallocation = qemu_opt_get(o, "preallocation");
        if (!qemu_opts_check_unused(o, errp)) {
            return false;
        }
    }
    if (co.backing_file && unsafe) {
        /* -u: the backing file is not opened, so nothing can be taken from it */
        if (!co.backing_fmt) {
            error_setg(errp, "Backing file specified without backing format");
            return false;
        }
        if (!co.size) {
            error_setg(errp, "Image creation needs a size parameter");
            return false;
        }
        co.backing_unchecked = true;
    } else if (co.backing_file) {
        /* qemu-img 7.2 opens the backing file even when the size is given, and
         * refuses to guess its format (an error that names what it found) */
        BlockDriverState *b = qcow2_open_backing_of(file, co.backing_file, co.backing_fmt, errp);
        int64_t len;

        if (!b) {
            error_add_line(errp, "Could not open backing image.");
            return false;
        }
        len = bdrv_getlength(b);
        detected = g_strdup(bdrv_get_format_name(b));
        bdrv_unref(b);
        if (!co.backing_fmt) {
            error_setg(errp, "Backing file specified without backing format");
            error_add_line(errp, "Detected format of %s.", detected);
            return false;
        }
        if (!co.size) {
            if (len < 0) {
                error_setg_errno(errp, (int)-len, "Could not get the size of '%s'",
                                 co.backing_file);
                return false;
            }
            co.size = len;
        }
        co.backing_unchecked = true;
    }
    size = co.size;
    if (!quiet) {
        /* qemu-img's line: its option order, the optional ones only when given */
        line = g_string_new(NULL);
        g_string_append_printf(line, "Formatting '%s', fmt=qcow2 cluster_size=%d extended_l2=%s",
                               file, co.cluster_size ? co.cluster_size : 65536,
                               co.extended_l2 ? "on" : "off");
        if (co.preallocation) {
            g_string_append_printf(line, " preallocation=%s", co.preallocation);
        }
        g_string_append_printf(line, " compression_type=%s size=%" G_GUINT64_FORMAT,
                               co.compression_type ? "zstd" : "zlib", size);
        if (o && (v = qemu_opt_get(o, "compat"))) {
            g_string_append_printf(line, " compat=%s", v);
        }
        if (co.backing_file) {
            g_string_append_printf(line, " backing_file=%s", co.backing_file);
        }
        if (co.backing_fmt) {
            g_string_append_printf(line, " backing_fmt=%s", co.backing_fmt);
        }
        g_string_append_printf(line, " lazy_refcounts=%s refcount_bits=%d",
                               co.lazy_refcounts ? "on" : "off",
                               co.refcount_bits ? co.refcount_bits : 16);
        printf("%s\n", line->str);
    }
    if (co.backing_fmt && !co.backing_file) {
        /* qemu-img's qcow2 driver says so after the "Formatting" line */
        error_setg(errp, "Backing format cannot be used without backing file");
        return false;
    }
    return qcow2_create(file, &co, errp);
}

static int cmd_create(int argc, char **argv)
{
    const char *fmt = "raw", *backing = NULL, *bfmt = NULL;
    QemuOpts *o = NULL;
    Error *err = NULL;
    uint64_t size = 0;
    bool quiet = false, unsafe = false;
    int c;

    while ((c = getopt(argc, argv, "f:o:b:F:qu")) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'o': if (!parse_o(&o, optarg, &err)) die_err(err); break;
        case 'b': backing = optarg; break;
        case 'F': bfmt = optarg; break;
        case 'q': quiet = true; break;
        case 'u': unsafe = true; break;
        default: return 1;
        }
    }
    if (optind >= argc) {
        error_report("Expecting image file name");
        return 1;
    }
    if (optind + 1 < argc && !get_size_arg(argv[optind + 1], &size, &err)) {
        error_report("Invalid image size specified. You may use k, M, G, T, P or E "
                     "suffixes for");
        error_free(err);
        return 1;
    }
    if (optind + 1 >= argc && !backing && !(o && qemu_opt_has(o, "backing_file"))) {
        error_report("%s: Image creation needs a size parameter", argv[optind]);
        return 1;
    }
    if (!create_image(argv[optind], fmt, size, o, backing, bfmt, quiet, unsafe, &err)) {
        error_prepend(&err, "%s: ", argv[optind]);
        die_err(err);
    }
    qemu_opts_free(o);
    return 0;
}

/* ---- info --------------------------------------------------------------- */

static const char *human_size(uint64_t v, char *buf, size_t len)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    int i = 0;
    double d = v;

    while (d >= 1024 && i < 6) {
        d /= 1024;
        i++;
    }
    if (i == 0) {
        snprintf(buf, len, "%" G_GUINT64_FORMAT " B", v);
    } else {
        snprintf(buf, len, "%.3g %s", d, units[i]);
    }
    return buf;
}

/* qemu-img shows a raw image's size in whole sectors (its block layer
 * rounds the length up to 512); a qcow2 size is a multiple of 512 anyway. */
static int64_t info_size(BlockDriverState *bs)
{
    int64_t len = img_len(bs);

    return len < 0 ? len : (len + 511) & ~511ll;
}

/* Prints the builder's document the way qemu-img does, and a newline. */
static void json_print(JsonBuilder *b)
{
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree char *text = json_to_string_qemu(root, true);

    printf("%s\n", text);
}

static void info_json(JsonBuilder *b, const char *file, BlockDriverState *bs,
                      const struct stat *st)
{
    Qcow2ImageInfo qi = { 0 };
    int64_t vsize = info_size(bs);

    json_builder_begin_object(b);
    if (bdrv_is_qcow2(bs)) {
        qcow2_get_info(bs, &qi);
    }
    if (qi.backing_fmt) {
        json_builder_set_member_name(b, "backing-filename-format");
        json_builder_add_string_value(b, qi.backing_fmt);
    }
    json_builder_set_member_name(b, "virtual-size");
    json_builder_add_int_value(b, vsize);
    json_builder_set_member_name(b, "filename");
    json_builder_add_string_value(b, file);
    if (bdrv_is_qcow2(bs)) {
        json_builder_set_member_name(b, "cluster-size");
        json_builder_add_int_value(b, qi.cluster_size);
    }
    json_builder_set_member_name(b, "format");
    json_builder_add_string_value(b, bdrv_get_format_name(bs));
    json_builder_set_member_name(b, "actual-size");
    json_builder_add_int_value(b, (int64_t)st->st_blocks * 512);
    if (bdrv_is_qcow2(bs)) {
        json_builder_set_member_name(b, "format-specific");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "type");
        json_builder_add_string_value(b, "qcow2");
        json_builder_set_member_name(b, "data");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "compat");
        json_builder_add_string_value(b, qi.version >= 3 ? "1.1" : "0.10");
        json_builder_set_member_name(b, "compression-type");
        json_builder_add_string_value(b, qi.compression_type ? "zstd" : "zlib");
        if (qi.version >= 3) {
            json_builder_set_member_name(b, "lazy-refcounts");
            json_builder_add_boolean_value(b, qi.lazy_refcounts);
        }
        json_builder_set_member_name(b, "refcount-bits");
        json_builder_add_int_value(b, qi.refcount_bits);
        if (qi.version >= 3) {
            json_builder_set_member_name(b, "corrupt");
            json_builder_add_boolean_value(b, qi.corrupt);
            json_builder_set_member_name(b, "extended-l2");
            json_builder_add_boolean_value(b, qi.extended_l2);
        }
        json_builder_end_object(b);
        json_builder_end_object(b);
    }
    if (qi.backing_file) {
        g_autofree char *full = full_backing(file, qi.backing_file);
        json_builder_set_member_name(b, "full-backing-filename");
        json_builder_add_string_value(b, full);
        json_builder_set_member_name(b, "backing-filename");
        json_builder_add_string_value(b, qi.backing_file);
    }
    json_builder_set_member_name(b, "dirty-flag");
    json_builder_add_boolean_value(b, qi.dirty);
    json_builder_end_object(b);
}

static void info_human(const char *file, BlockDriverState *bs, const struct stat *st)
{
    int64_t vsize = info_size(bs);
    char b1[32], b2[32];
    printf("image: %s\nfile format: %s\nvirtual size: %s (%" G_GINT64_FORMAT " bytes)\n"
           "disk size: %s\n", file, bdrv_get_format_name(bs),
           human_size(vsize, b1, sizeof(b1)), vsize,
           human_size((uint64_t)st->st_blocks * 512, b2, sizeof(b2)));
    if (bdrv_is_qcow2(bs)) {
        Qcow2ImageInfo qi;
        qcow2_get_info(bs, &qi);
        printf("cluster_size: %d\n", qi.cluster_size);
        if (qi.backing_file) {
            g_autofree char *full = full_backing(file, qi.backing_file);
            if (strcmp(full, qi.backing_file)) {
                printf("backing file: %s (actual path: %s)\n", qi.backing_file, full);
            } else {
                printf("backing file: %s\n", qi.backing_file);
            }
            if (qi.backing_fmt) {
                printf("backing file format: %s\n", qi.backing_fmt);
            }
        }
        printf("Format specific information:\n    compat: %s\n    compression type: %s\n",
               qi.version >= 3 ? "1.1" : "0.10", qi.compression_type ? "zstd" : "zlib");
        if (qi.version >= 3) {
            printf("    lazy refcounts: %s\n", qi.lazy_refcounts ? "true" : "false");
        }
        printf("    refcount bits: %d\n", qi.refcount_bits);
        if (qi.version >= 3) {
            printf("    corrupt: %s\n    extended l2: %s\n", qi.corrupt ? "true" : "false",
                   qi.extended_l2 ? "true" : "false");
        }
    }
}

static int cmd_info(int argc, char **argv)
{
    const char *fmt = NULL, *output = "human";
    static const struct option longopts[] = {
        { "output", required_argument, NULL, 'O' },
        { "backing-chain", no_argument, NULL, 'B' },
        { NULL, 0, NULL, 0 },
    };
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autofree char *cur = NULL, *cur_fmt = NULL;
    bool chain = false, json;
    int c, depth = 0;

    while ((c = getopt_long(argc, argv, "f:U", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'O': output = optarg; break;
        case 'B': chain = true; break;
        case 'U': break;
        default: return 1;
        }
    }
    if (!one_image_arg(argc, argv)) {
        return 1;
    }
    json = !strcmp(output, "json");
    cur = g_strdup(argv[optind]);
    cur_fmt = g_strdup(fmt);
    if (chain && json) {
        json_builder_begin_array(b);
    }
    /* the image, then with --backing-chain each backing file in turn (its
     * name as the image above resolves it), as qemu-img */
    while (cur) {
        BlockDriverState *bs = open_img(cur, cur_fmt, false, false);
        struct stat st = { 0 };
        char *next = NULL, *next_fmt = NULL;

        stat(cur, &st);
        if (json) {
            info_json(b, cur, bs, &st);
        } else {
            if (depth) {
                printf("\n");
            }
            info_human(cur, bs, &st);
        }
        if (chain && bdrv_is_qcow2(bs) && ++depth < 64) {
            Qcow2ImageInfo qi;
            qcow2_get_info(bs, &qi);
            if (qi.backing_file) {
                next = full_backing(cur, qi.backing_file);
                next_fmt = g_strdup(qi.backing_fmt);
            }
        }
        bdrv_unref(bs);
        g_free(cur);
        g_free(cur_fmt);
        cur = next;
        cur_fmt = next_fmt;
    }
    if (json) {
        if (chain) {
            json_builder_end_array(b);
        }
        json_print(b);
    }
    return 0;
}

/* ---- check -------------------------------------------------------------- */

static int cmd_check(int argc, char **argv)
{
    const char *fmt = NULL, *output = "human", *repair = NULL, *file;
    static const struct option longopts[] = {
        { "output", required_argument, NULL, 'O' },
        { "repair", required_argument, NULL, 'r' },
        { NULL, 0, NULL, 0 },
    };
    Qcow2CheckResult r = { 0 };
    BlockDriverState *bs;
    int fix = 0, c, ret;

    while ((c = getopt_long(argc, argv, "f:r:qU", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'O': output = optarg; break;
        case 'r': repair = optarg; break;
        case 'q': case 'U': break;
        default: return 1;
        }
    }
    if (!(file = one_image_arg(argc, argv))) {
        return 1;
    }
    if (repair) {
        if (!strcmp(repair, "leaks")) {
            fix = QCOW2_FIX_LEAKS;
        } else if (!strcmp(repair, "all")) {
            fix = QCOW2_FIX_LEAKS | QCOW2_FIX_ERRORS;
        } else {
            error_report("Unknown option value for -r (expecting 'leaks' or 'all'): %s",
                         repair);
            return 1;
        }
    }
    if (fix && (fmt ? !strcmp(fmt, "qcow2") : !g_strcmp0(bdrv_probe_format(file, NULL),
                                                          "qcow2"))) {
        /* a corrupt image opens read-write for the repair only */
        Error *err = NULL;
        BlockFileOptions fo = { .filename = file };
        BlockDriverState *f = bdrv_open_file(&fo, &err);
        bs = f ? bdrv_open_qcow2(f, false, QCOW2_OPEN_NO_BACKING | QCOW2_OPEN_CHECK, &err)
               : NULL;
        if (!bs) {
            die_err(err);
        }
    } else {
        bs = open_img(file, fmt, false, false);
    }
    if (!bdrv_is_qcow2(bs)) {
        error_report("This image format does not support checks");
        bdrv_unref(bs);
        return 63;
    }
    ret = qcow2_check(bs, fix, &r);
    if (ret < 0) {
        error_report("Check failed: %s", strerror(-ret));
        bdrv_unref(bs);
        return 1;
    }
    if (!strcmp(output, "json")) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        const struct { const char *k; int64_t v; bool always; } f[] = {
            { "image-end-offset", r.image_end_offset, true },
            { "total-clusters", r.total_clusters, true },
            { "check-errors", r.check_errors, true },
            { "leaks", r.leaks, false },
            { "corruptions", r.corruptions, false },
            { "leaks-fixed", r.leaks_fixed, false },
            { "corruptions-fixed", r.corruptions_fixed, false },
            { "allocated-clusters", r.allocated_clusters, false },
            { "fragmented-clusters", r.fragmented_clusters, false },
            { "compressed-clusters", r.compressed_clusters, false },
        };
        json_builder_begin_object(b);
        for (size_t i = 0; i < G_N_ELEMENTS(f); i++) {
            if (f[i].always || f[i].v) {
                json_builder_set_member_name(b, f[i].k);
                json_builder_add_int_value(b, f[i].v);
            }
        }
        json_builder_set_member_name(b, "filename");
        json_builder_add_string_value(b, file);
        json_builder_set_member_name(b, "format");
        json_builder_add_string_value(b, "qcow2");
        json_builder_end_object(b);
        json_print(b);
    } else {
        fputs(r.log->str, stdout);
        if (r.leaks_fixed || r.corruptions_fixed) {
            printf("The following inconsistencies were found and repaired:\n\n"
                   "    %" G_GINT64_FORMAT " leaked clusters\n    %" G_GINT64_FORMAT
                   " corruptions\n\nDouble checking the fixed image now...\n",
                   r.leaks_fixed, r.corruptions_fixed);
        }
        if (!r.corruptions && !r.leaks && !r.check_errors) {
            printf("No errors were found on the image.\n");
        } else {
            if (r.corruptions) {
                printf("\n%" G_GINT64_FORMAT " errors were found on the image.\nData may be "
                       "corrupted, or further writes to the image may corrupt it.\n",
                       r.corruptions);
            }
            if (r.leaks) {
                printf("\n%" G_GINT64_FORMAT " leaked clusters were found on the image.\nThis "
                       "means waste of disk space, but no harm to data.\n", r.leaks);
            }
            if (r.check_errors) {
                printf("\n%" G_GINT64_FORMAT " internal errors have occurred during the "
                       "check.\n", r.check_errors);
            }
        }
        if (r.total_clusters && r.allocated_clusters) {
            printf("%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT " = %0.2f%% allocated, %0.2f%% "
                   "fragmented, %0.2f%% compressed clusters\n", r.allocated_clusters,
                   r.total_clusters, r.allocated_clusters * 100.0 / r.total_clusters,
                   r.fragmented_clusters * 100.0 / r.allocated_clusters,
                   r.compressed_clusters * 100.0 / r.allocated_clusters);
        }
        printf("Image end offset: %" G_GINT64_FORMAT "\n", r.image_end_offset);
    }
    g_string_free(r.log, true);
    bdrv_unref(bs);
    return r.check_errors ? 1 : r.corruptions ? 2 : r.leaks ? 3 : 0;
}

/* ---- convert ------------------------------------------------------------ */

static bool buf_zero(const uint8_t *b, size_t n)
{
    return !n || (b[0] == 0 && !memcmp(b, b + 1, n - 1));
}

/*
 * How much of [off, off + max) from off must be read: a positive length
 * (data, or not known to be zeroes), or minus the length of a stretch that
 * reads as zeroes (a hole in a raw file, SEEK_DATA/SEEK_HOLE on fd; zero
 * or unallocated clusters of a qcow2 image without a backing file), which
 * qemu-img convert does not read either.  off is a multiple of cs and so
 * are the lengths (but for the last piece): a hole that covers only part
 * of a cluster is read.
 */
static int64_t convert_extent(BlockDriverState *in, int fd, int64_t off, int64_t max,
                              int64_t cs)
{
    int64_t zero = 0, data = max;

    if (bdrv_is_qcow2(in)) {
        int64_t pnum;
        uint64_t host;
        int st = qcow2_block_status(in, off, max, &pnum, &host);
        if (st == QCOW2_ST_ZERO || (st == QCOW2_ST_UNALLOC && !qcow2_backing(in))) {
            zero = pnum;
        }
    } else if (fd >= 0) {
        off_t d = lseek(fd, off, SEEK_DATA), h;
        if (d < 0 && errno == ENXIO) {
            zero = max;                         /* a hole up to the end */
        } else if (d > off) {
            zero = d - off;
        } else if (d == off && (h = lseek(fd, off, SEEK_HOLE)) > off) {
            data = h - off;
        }
    }
    if (zero >= max) {
        return -max;
    }
    if (zero >= cs) {
        return -(zero / cs * cs);
    }
    return data >= max ? max : MIN(max, (data + cs - 1) / cs * cs);
}

/*
 * convert -c: the clusters of each piece read are compressed by a few
 * worker threads at once (QEMU's qcow2 also compresses on up to 4
 * threads) while this thread writes the piece before, in guest order as
 * one thread does; so the output's layout and refcounts are what one
 * thread makes.
 */
#define COMPRESS_THREADS 4         /* -m N: N of them */
#define COMPRESS_PIECE (8 * 1024 * 1024)   /* read and compressed at once */

typedef struct ConvertPiece ConvertPiece;

typedef struct CompressJob {
    ConvertPiece *pc;
    const uint8_t *in;
    uint8_t *out;               /* a cluster's room */
    size_t len;                 /* compressed length, 0: stored as it is */
} CompressJob;

struct ConvertPiece {
    BlockDriverState *bs;       /* the output */
    uint8_t *buf, *cbuf;
    CompressJob *jobs;          /* job i: the cluster at i * cluster size */
    int64_t off, n;             /* n 0: nothing waits to be written */
    int64_t cs;
    GMutex lock;
    GCond done;
    unsigned pending;           /* clusters still being compressed, or 1
                                 * while the writer thread writes it */
    int wret;                   /* the writer thread's result */
};

static int convert_write(BlockDriverState *out, ConvertPiece *pc, int64_t cs, bool compress);

static void compress_worker(gpointer data, gpointer opaque)
{
    CompressJob *j = data;
    ConvertPiece *pc = j->pc;

    (void)opaque;
    j->len = qcow2_compress_cluster(pc->bs, j->in, j->out);
    g_mutex_lock(&pc->lock);
    if (--pc->pending == 0) {
        g_cond_signal(&pc->done);
    }
    g_mutex_unlock(&pc->lock);
}

/* Hands every whole, non-zero cluster of the piece to the workers. */
static void compress_start(GThreadPool *pool, ConvertPiece *pc, int64_t cs)
{
    unsigned count = 0;

    for (int64_t p = 0; p + cs <= pc->n; p += cs) {
        count += !buf_zero(pc->buf + p, cs);
    }
    g_mutex_lock(&pc->lock);
    pc->pending = count;
    g_mutex_unlock(&pc->lock);
    for (int64_t p = 0; p + cs <= pc->n; p += cs) {
        if (!buf_zero(pc->buf + p, cs)) {
            pc->jobs[p / cs].in = pc->buf + p;
            g_thread_pool_push(pool, &pc->jobs[p / cs], NULL);
        }
    }
}

static void compress_wait(ConvertPiece *pc)
{
    g_mutex_lock(&pc->lock);
    while (pc->pending) {
        g_cond_wait(&pc->done, &pc->lock);
    }
    g_mutex_unlock(&pc->lock);
}

/* Without -c: the writer thread writes one piece while the main thread
 * reads the next (qemu-img overlaps its reads and writes too, on 8
 * coroutines); pieces are written in order, one at a time. */
static void write_worker(gpointer data, gpointer opaque)
{
    ConvertPiece *pc = data;
    int ret = convert_write(pc->bs, pc, pc->cs, false);

    (void)opaque;
    g_mutex_lock(&pc->lock);
    pc->wret = ret;
    pc->pending = 0;
    g_cond_signal(&pc->done);
    g_mutex_unlock(&pc->lock);
}

static void write_start(GThreadPool *pool, ConvertPiece *pc)
{
    g_mutex_lock(&pc->lock);
    pc->pending = 1;
    g_mutex_unlock(&pc->lock);
    g_thread_pool_push(pool, pc, NULL);
}

/* Waits for the piece's write; its result. */
static int write_wait(ConvertPiece *pc)
{
    compress_wait(pc);
    pc->n = 0;
    return pc->wret;
}

/* Writes what was read at pc->off: runs of clusters that are not all
 * zeroes, each in one write (one cluster each, compressed, with -c). */
static int convert_write(BlockDriverState *out, ConvertPiece *pc, int64_t cs, bool compress)
{
    const uint8_t *buf = pc->buf;
    int64_t n = pc->n;
    int ret = 0;

    for (int64_t p = 0; p < n && ret == 0;) {
        int64_t q = p;
        if (buf_zero(buf + p, MIN(cs, n - p))) {
            p += MIN(cs, n - p);
            continue;
        }
        while (q < n && !buf_zero(buf + q, MIN(cs, n - q)) && !(compress && q > p)) {
            q += MIN(cs, n - q);
        }
        if (compress && q - p == cs) {
            ret = qcow2_write_compressed_data(out, pc->off + p, buf + p, pc->jobs[p / cs].out,
                                              pc->jobs[p / cs].len);
        } else {
            ret = bdrv_sync_io(out, BLOCK_REQ_WRITE, pc->off + p, (void *)(buf + p), q - p, 0);
        }
        if (ret < 0) {
            error_report("error while writing at byte %" G_GINT64_FORMAT ": %s", pc->off + p,
                         strerror(-ret));
        }
        p = q;
    }
    return ret;
}

static int cmd_convert(int argc, char **argv)
{
    const char *sfmt = NULL, *ofmt = "raw", *src, *dst;
    bool compress = false, progress = false;
    QemuOpts *o = NULL;
    Error *err = NULL;
    BlockDriverState *in, *out;
    int64_t len, cs;
    ConvertPiece pcs[2] = { 0 };
    GThreadPool *pool = NULL, *wpool = NULL;
    int64_t piece;
    unsigned cur = 0;
    int c, ret = 0, sfd = -1, threads = COMPRESS_THREADS;
    double shown = 0;

    while ((c = getopt(argc, argv, "f:O:co:pqnUWm:")) != -1) {
        switch (c) {
        case 'm':
            /* qemu-img's parallel requests; here the compressing threads */
            threads = atoi(optarg);
            if (threads < 1 || threads > 16) {
                error_report("Invalid number of coroutines. Allowed number of coroutines is "
                             "between 1 and 16");
                return 1;
            }
            break;
        case 'f': sfmt = optarg; break;
        case 'O': ofmt = optarg; break;
        case 'c': compress = true; break;
        case 'o': if (!parse_o(&o, optarg, &err)) die_err(err); break;
        case 'p': progress = true; break;
        default: break;
        }
    }
    if (optind + 2 != argc) {
        error_report("Expecting a source and a destination image");
        return 1;
    }
    src = argv[optind];
    dst = argv[optind + 1];
    if (compress && strcmp(ofmt, "qcow2")) {
        error_report("Compression not supported for this file format");
        return 1;
    }
    in = open_img(src, sfmt, false, true);
    len = img_len(in);
    if (!create_image(dst, ofmt, len, o, NULL, NULL, true, false, &err)) {
        error_prepend(&err, "%s: error while converting %s: ", dst, ofmt);
        die_err(err);
    }
    qemu_opts_free(o);
    out = open_img_flush(dst, ofmt, true, false, true);     /* cache=unsafe, as qemu-img */
    cs = bdrv_is_qcow2(out) ? qcow2_cluster_size(out) : 65536;
    piece = MAX(compress ? COMPRESS_PIECE : CHUNK, cs);
    for (unsigned k = 0; k < 2; k++) {
        ConvertPiece *pc = &pcs[k];
        pc->bs = out;
        pc->cs = cs;
        pc->buf = g_malloc(piece);
        g_mutex_init(&pc->lock);
        g_cond_init(&pc->done);
        if (compress) {
            pc->cbuf = g_malloc(piece);
            pc->jobs = g_new0(CompressJob, piece / cs);
            for (int64_t i = 0; i < piece / cs; i++) {
                pc->jobs[i].pc = pc;
                pc->jobs[i].out = pc->cbuf + i * cs;
            }
        }
    }
    if (compress) {
        pool = g_thread_pool_new(compress_worker, NULL, threads, TRUE, NULL);
    } else {
        wpool = g_thread_pool_new(write_worker, NULL, 1, TRUE, NULL);
    }
    if (progress) {
        printf("    (0.00/100%%)\r");
        fflush(stdout);
    }
    if (!bdrv_is_qcow2(in)) {
        /* our own descriptor on the raw source, to ask it where its data is */
        sfd = open(bdrv_get_filename(bdrv_get_file(in)), O_RDONLY);
    }
    for (int64_t off = 0; off < len && ret == 0;) {
        int64_t n = MIN(len - off, piece), ext = convert_extent(in, sfd, off, n, cs);
        ConvertPiece *pc;

        if (ext < 0) {
            /* a hole (or zeroes) of -ext bytes: nothing to read or write */
            off += -ext;
            goto progress;
        }
        n = ext;
        pc = &pcs[cur];
        if (wpool && pc->n && (ret = write_wait(pc)) < 0) {
            break;              /* (its error was reported by convert_write) */
        }
        if ((ret = bdrv_sync_io(in, BLOCK_REQ_READ, off, pc->buf, n, 0)) < 0) {
            error_report("error while reading at byte %" G_GINT64_FORMAT ": %s", off,
                         strerror(-ret));
            break;
        }
        pc->off = off;
        pc->n = n;
        if (pool) {
            /* compress this piece while the one before is written */
            ConvertPiece *prev = &pcs[cur ^ 1];
            compress_start(pool, pc, cs);
            if (prev->n) {
                compress_wait(prev);
                ret = convert_write(out, prev, cs, true);
                prev->n = 0;
            }
            cur ^= 1;
        } else {
            write_start(wpool, pc);
            cur ^= 1;
        }
        off += n;
progress:
        if (progress && off * 100.0 / len - shown >= 1.0) {
            /* qemu-img's progress: redrawn in place, in steps of at least 1% */
            shown = off * 100.0 / len;
            printf("    (%.2f/100%%)\r", shown);
            fflush(stdout);
        }
    }
    if (sfd >= 0) {
        close(sfd);
    }
    for (unsigned k = 0; k < 2; k++) {
        /* the last pieces (or ones in flight when an error stopped us),
         * in order: the one not current was read first */
        ConvertPiece *pc = &pcs[cur ^ 1 ^ k];
        if (pc->n && wpool) {
            int r = write_wait(pc);
            ret = ret ? ret : r;
        } else if (pc->n) {
            compress_wait(pc);
            if (ret == 0) {
                ret = convert_write(out, pc, cs, true);
            }
        }
    }
    if (pool) {
        g_thread_pool_free(pool, FALSE, TRUE);
    }
    if (wpool) {
        g_thread_pool_free(wpool, FALSE, TRUE);
    }
    for (unsigned k = 0; k < 2; k++) {
        g_mutex_clear(&pcs[k].lock);
        g_cond_clear(&pcs[k].done);
        g_free(pcs[k].buf);
        g_free(pcs[k].cbuf);
        g_free(pcs[k].jobs);
    }
    if (progress) {
        /* the last state once more, and the line ended, as qemu-img */
        printf("    (100.00/100%%)\r\n");
    }
    if (ret == 0) {
        ret = bdrv_sync_io(out, BLOCK_REQ_FLUSH, 0, NULL, 0, 0);
    }
    bdrv_unref(out);
    bdrv_unref(in);
    return ret < 0 ? 1 : 0;
}

/* ---- map ---------------------------------------------------------------- */

typedef struct MapExt {
    int64_t start, length, offset;
    int depth;
    bool present, zero, data, has_offset;
    const char *file;           /* the file the data is in (human output) */
} MapExt;

/* What [off, off + max) is, through the chain; returns its length. */
static int64_t map_one(BlockDriverState *bs, int64_t off, int64_t max, MapExt *e)
{
    int depth = 0;

    for (;;) {
        if (!bdrv_is_qcow2(bs)) {
            int64_t l = img_len(bs);
            if (off >= l) {
                *e = (MapExt){ .depth = depth, .zero = true };
                return max;
            }
            /* a raw file: data or a hole, as SEEK_DATA/SEEK_HOLE say
             * (qemu-img's file-posix block status) */
            int64_t n = MIN(max, l - off);
            bool data = true;
            int fd = open(bdrv_get_filename(bdrv_get_file(bs)), O_RDONLY | O_CLOEXEC);
            if (fd >= 0) {
                off_t d = lseek(fd, off, SEEK_DATA), h;
                if (d < 0 && errno == ENXIO) {
                    data = false;
                } else if (d > off) {
                    data = false;
                    n = MIN(n, d - off);
                } else if (d == off && (h = lseek(fd, off, SEEK_HOLE)) > off) {
                    n = MIN(n, h - off);
                }
                close(fd);
            }
            *e = (MapExt){ .depth = depth, .present = true, .zero = !data, .data = data,
                           .has_offset = true, .offset = off,
                           .file = bdrv_get_filename(bdrv_get_file(bs)) };
            return n;
        }
        int64_t pnum;
        uint64_t host;
        int st = qcow2_block_status(bs, off, MIN(max, img_len(bs) - off), &pnum, &host);
        if (off >= img_len(bs)) {
            *e = (MapExt){ .depth = depth, .zero = true };
            return max;
        }
        if (st < 0) {
            return st;
        }
        if (st == QCOW2_ST_UNALLOC && qcow2_backing(bs)) {
            bs = qcow2_backing(bs);
            depth++;
            max = pnum;
            continue;
        }
        *e = (MapExt){ .depth = depth, .present = st != QCOW2_ST_UNALLOC,
                       .zero = st == QCOW2_ST_ZERO || st == QCOW2_ST_UNALLOC,
                       .data = st == QCOW2_ST_DATA || st == QCOW2_ST_COMPRESSED,
                       .has_offset = st == QCOW2_ST_DATA, .offset = host,
                       .file = bdrv_get_filename(bdrv_get_file(bs)) };
        return pnum;
    }
}

static void map_print(const MapExt *e, bool json, bool first)
{
    if (json) {
        printf("%s{ \"start\": %" G_GINT64_FORMAT ", \"length\": %" G_GINT64_FORMAT ", "
               "\"depth\": %d, \"present\": %s, \"zero\": %s, \"data\": %s", first ? "[" : ",\n",
               e->start, e->length, e->depth, e->present ? "true" : "false",
               e->zero ? "true" : "false", e->data ? "true" : "false");
        if (e->has_offset) {
            printf(", \"offset\": %" G_GINT64_FORMAT, e->offset);
        }
        printf("}");
    } else if (e->data && e->has_offset) {
        printf("%#-16" G_GINT64_MODIFIER "x%#-16" G_GINT64_MODIFIER "x%#-16" G_GINT64_MODIFIER
               "x%s\n", e->start, e->length, e->offset, e->file ? e->file : "");
    }
}

static int cmd_map(int argc, char **argv)
{
    const char *fmt = NULL, *output = "human", *file;
    static const struct option longopts[] = {
        { "output", required_argument, NULL, 'O' },
        { NULL, 0, NULL, 0 },
    };
    BlockDriverState *bs;
    MapExt cur = { .length = 0 }, e;
    bool json, first = true;
    int64_t len;
    int c;

    while ((c = getopt_long(argc, argv, "f:U", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'O': output = optarg; break;
        default: break;
        }
    }
    if (!(file = one_image_arg(argc, argv))) {
        return 1;
    }
    json = !strcmp(output, "json");
    bs = open_img(file, fmt, false, true);
    len = img_len(bs);
    if (!json) {
        printf("%-16s%-16s%-16s%s\n", "Offset", "Length", "Mapped to", "File");
    }
    for (int64_t off = 0; off < len;) {
        int64_t n = map_one(bs, off, len - off, &e);
        if (n <= 0) {
            error_report("Could not read the image map at %" G_GINT64_FORMAT, off);
            bdrv_unref(bs);
            return 1;
        }
        e.start = off;
        e.length = n;
        if (cur.length && cur.depth == e.depth && cur.present == e.present &&
            cur.zero == e.zero && cur.data == e.data && cur.has_offset == e.has_offset &&
            (!e.has_offset || cur.offset + cur.length == e.offset)) {
            cur.length += n;
        } else {
            if (cur.length) {
                map_print(&cur, json, first);
                first = false;
            }
            cur = e;
        }
        off += n;
    }
    if (cur.length) {
        map_print(&cur, json, first);
        first = false;
    }
    if (json) {
        printf(first ? "[]\n" : "]\n");
    }
    bdrv_unref(bs);
    return 0;
}

/* ---- compare ------------------------------------------------------------ */

static int cmd_compare(int argc, char **argv)
{
    const char *fa = NULL, *fb = NULL;
    BlockDriverState *a, *b;
    g_autofree uint8_t *ba = g_malloc(CHUNK), *bb = g_malloc(CHUNK);
    int64_t la, lb, common;
    bool strict = false;
    int c;

    while ((c = getopt(argc, argv, "f:F:sqpU")) != -1) {
        switch (c) {
        case 'f': fa = optarg; break;
        case 'F': fb = optarg; break;
        case 's': strict = true; break;
        default: break;
        }
    }
    if (optind + 2 != argc) {
        error_report("Expecting two image file names");
        return 2;
    }
    if (!fb) {
        fb = fa;
    }
    a = open_img(argv[optind], fa, false, true);
    b = open_img(argv[optind + 1], fb, false, true);
    la = img_len(a);
    lb = img_len(b);
    common = MIN(la, lb);
    if (la != lb) {
        if (strict) {
            printf("Strict mode: Image size mismatch!\n");
            return 1;
        }
        printf("Warning: Image size mismatch!\n");
    }
    for (int64_t off = 0; off < MAX(la, lb); off += CHUNK) {
        int64_t n = MIN(CHUNK, MAX(la, lb) - off);
        int64_t na = MAX(0, MIN(n, la - off)), nb = MAX(0, MIN(n, lb - off));
        memset(ba, 0, n);
        memset(bb, 0, n);
        if ((na && bdrv_sync_io(a, BLOCK_REQ_READ, off, ba, na, 0) < 0) ||
            (nb && bdrv_sync_io(b, BLOCK_REQ_READ, off, bb, nb, 0) < 0)) {
            error_report("Error while reading offset %" G_GINT64_FORMAT, off);
            return 2;
        }
        if (memcmp(ba, bb, n)) {
            int64_t i = 0;
            while (ba[i] == bb[i]) {
                i++;
            }
            printf("Content mismatch at offset %" G_GINT64_FORMAT "!\n",
                   (off + i) & ~(int64_t)511);
            return 1;
        }
    }
    (void)common;
    printf("Images are identical.\n");
    bdrv_unref(a);
    bdrv_unref(b);
    return 0;
}

/* ---- resize, commit ----------------------------------------------------- */

static int cmd_resize(int argc, char **argv)
{
    const char *fmt = NULL, *arg;
    static const struct option longopts[] = {
        { "shrink", no_argument, NULL, 'S' },
        { NULL, 0, NULL, 0 },
    };
    bool shrink = false;
    BlockDriverState *bs;
    Error *err = NULL;
    uint64_t n;
    int64_t old, size;
    int c;

    while ((c = getopt_long(argc, argv, "f:qU", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'S': shrink = true; break;
        default: break;
        }
    }
    if (optind + 2 != argc) {
        error_report("Expecting image file name and size");
        return 1;
    }
    arg = argv[optind + 1];
    if (!get_size_arg(arg[0] == '+' || arg[0] == '-' ? arg + 1 : arg, &n, &err)) {
        die_err(err);
    }
    bs = open_img(argv[optind], fmt, true, false);
    old = img_len(bs);
    size = arg[0] == '+' ? old + (int64_t)n : arg[0] == '-' ? old - (int64_t)n : (int64_t)n;
    if (size < 0) {
        error_report("New image size must be positive");
        return 1;
    }
    if (size < old && !shrink) {
        error_report("Use the --shrink option to perform a shrink operation.");
        return 1;
    }
    if (bdrv_is_qcow2(bs)) {
        if (qcow2_truncate(bs, size, &err) < 0) {
            die_err(err);
        }
    } else {
        int fd = open(argv[optind], O_WRONLY | O_CLOEXEC);
        if (fd < 0 || ftruncate(fd, size) < 0) {
            error_report("Could not resize '%s': %s", argv[optind], strerror(errno));
            return 1;
        }
        close(fd);
    }
    bdrv_unref(bs);
    printf("Image resized.\n");
    return 0;
}

static int cmd_commit(int argc, char **argv)
{
    const char *fmt = NULL, *file;
    BlockDriverState *top, *base;
    Qcow2ImageInfo qi;
    g_autofree char *path = NULL;
    g_autofree uint8_t *buf = NULL;
    bool keep = false;
    int64_t len;
    int c, ret = 0;

    while ((c = getopt(argc, argv, "f:dqpt:b:")) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'd': keep = true; break;
        default: break;
        }
    }
    if (!(file = one_image_arg(argc, argv))) {
        return 1;
    }
    top = open_img(file, fmt, true, false);
    if (!bdrv_is_qcow2(top) || (qcow2_get_info(top, &qi), !qi.backing_file)) {
        error_report("Image does not have a backing file");
        return 1;
    }
    path = full_backing(argv[optind], qi.backing_file);
    base = open_img(path, qi.backing_fmt, true, true);
    len = img_len(top);
    buf = g_malloc(CHUNK);
    for (int64_t off = 0; off < len && ret >= 0;) {
        int64_t pnum;
        uint64_t host;
        int st = qcow2_block_status(top, off, MIN(CHUNK, len - off), &pnum, &host);
        if (st < 0) {
            ret = st;
            break;
        }
        if (st != QCOW2_ST_UNALLOC) {
            int64_t blen = img_len(base), n = MIN(pnum, MAX(0, blen - off));
            if (n > 0 && (ret = bdrv_sync_io(top, BLOCK_REQ_READ, off, buf, n, 0)) == 0) {
                ret = bdrv_sync_io(base, BLOCK_REQ_WRITE, off, buf, n, 0);
            }
            if (ret == 0 && !keep) {
                ret = bdrv_sync_io(top, BLOCK_REQ_DISCARD, off, NULL, pnum, 0);
            }
        }
        off += pnum;
    }
    if (ret == 0) {
        ret = bdrv_sync_io(base, BLOCK_REQ_FLUSH, 0, NULL, 0, 0);
    }
    bdrv_unref(base);
    bdrv_unref(top);
    if (ret < 0) {
        error_report("Commit failed: %s", strerror(-ret));
        return 1;
    }
    printf("Image committed.\n");
    return 0;
}

static int cmd_rebase(int argc, char **argv)
{
    const char *fmt = NULL, *backing = NULL, *bfmt = NULL, *file;
    g_autofree uint8_t *a = g_malloc(CHUNK), *b = g_malloc(CHUNK);
    BlockDriverState *top, *nb = NULL;
    bool unsafe = false;
    Error *err = NULL;
    int64_t len;
    int c, ret = 0;

    while ((c = getopt(argc, argv, "f:b:F:uqpU")) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'b': backing = optarg; break;
        case 'F': bfmt = optarg; break;
        case 'u': unsafe = true; break;
        default: break;
        }
    }
    if (optind >= argc || !backing) {
        error_report("Expecting one image file name and -b BACKING (\"\" for none)");
        return 1;
    }
    file = argv[optind];
    if (!backing[0]) {
        backing = NULL;
    }
    top = open_img(file, fmt, true, !unsafe);
    if (!bdrv_is_qcow2(top)) {
        error_report("'%s': only qcow2 images have a backing file", file);
        return 1;
    }
    if (backing) {
        g_autofree char *path = full_backing(file, backing);
        if (!bfmt && !(bfmt = bdrv_probe_format(path, unsafe ? NULL : &err)) && !unsafe) {
            die_err(err);
        }
        if (!unsafe) {
            nb = open_img(path, bfmt, false, true);
        }
    }
    len = img_len(top);
    /* safe mode: what the old chain shows and the new one would not goes
     * into the image itself */
    for (int64_t off = 0; !unsafe && off < len && ret == 0;) {
        int64_t pnum;
        uint64_t host;
        int st = qcow2_block_status(top, off, MIN(CHUNK, len - off), &pnum, &host);
        if (st < 0) {
            ret = st;
            break;
        }
        if (st == QCOW2_ST_UNALLOC) {
            int64_t nlen = nb ? img_len(nb) : 0, n = MAX(0, MIN(pnum, nlen - off));
            memset(b, 0, pnum);
            if ((ret = bdrv_sync_io(top, BLOCK_REQ_READ, off, a, pnum, 0)) < 0 ||
                (n && (ret = bdrv_sync_io(nb, BLOCK_REQ_READ, off, b, n, 0)) < 0)) {
                break;
            }
            if (memcmp(a, b, pnum)) {
                ret = bdrv_sync_io(top, BLOCK_REQ_WRITE, off, a, pnum, 0);
            }
        }
        off += pnum;
    }
    if (ret < 0) {
        error_report("Could not rebase '%s': %s", file, strerror(-ret));
        return 1;
    }
    if (qcow2_change_backing_file(top, backing, backing ? bfmt : NULL, &err) < 0) {
        die_err(err);
    }
    if (nb) {
        bdrv_unref(nb);
    }
    bdrv_unref(top);
    return 0;
}

/* Refcount table and block clusters needed to count `clusters` clusters
 * plus themselves (a fixed point). */
static uint64_t refcount_meta_clusters(uint64_t clusters, uint64_t cs, int rbits)
{
    uint64_t per_block = cs * 8 / rbits, per_table = cs / 8;
    uint64_t blocks = 0, table = 0, prev;

    do {
        prev = blocks + table;
        blocks = (clusters + blocks + table + per_block - 1) / per_block;
        table = (blocks + per_table - 1) / per_table;
    } while (blocks + table != prev);
    return blocks + table;
}

/* qcow2 metadata for a fully allocated image of size bytes: header, every
 * L2 table, the L1 table (whole clusters) and the refcounts. */
static uint64_t qcow2_meta_bytes(uint64_t size, uint64_t cs, int rbits, bool ext_l2)
{
    uint64_t l2e = ext_l2 ? 16 : 8, data = (size + cs - 1) / cs;
    uint64_t l2_entries = (data + cs / l2e - 1) / (cs / l2e) * (cs / l2e);
    uint64_t l1_entries = l2_entries * l2e / cs;
    uint64_t meta;

    l1_entries = (l1_entries + cs / 8 - 1) / (cs / 8) * (cs / 8);
    meta = cs + l2_entries * l2e + l1_entries * 8;
    return meta + refcount_meta_clusters((meta + data * cs) / cs, cs, rbits) * cs;
}

static int cmd_measure(int argc, char **argv)
{
    const char *fmt = NULL, *ofmt = "raw", *size_arg = NULL, *output = "human";
    static const struct option longopts[] = {
        { "size", required_argument, NULL, 'S' },
        { "output", required_argument, NULL, 'J' },
        { NULL, 0, NULL, 0 },
    };
    QemuOpts *o = NULL;
    Error *err = NULL;
    uint64_t size = 0, cs = 65536, rbits = 16, used = 0;
    bool ext_l2 = false, have_file, src_qcow2 = false;
    int c;

    while ((c = getopt_long(argc, argv, "f:O:o:U", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'O': ofmt = optarg; break;
        case 'o': if (!parse_o(&o, optarg, &err)) die_err(err); break;
        case 'S': size_arg = optarg; break;
        case 'J': output = optarg; break;
        default: break;
        }
    }
    if (strcmp(output, "human") && strcmp(output, "json")) {
        error_report("--output must be used with human or json as argument.");
        return 1;
    }
    have_file = optind < argc;
    if (have_file == !!size_arg) {
        error_report("Either --size N or one filename must be specified.");
        return 1;
    }
    if (o) {
        if (!qemu_opt_get_size(o, "cluster_size", cs, &cs, &err) ||
            !qemu_opt_get_number(o, "refcount_bits", rbits, &rbits, &err) ||
            !qemu_opt_get_bool(o, "extended_l2", false, &ext_l2, &err)) {
            die_err(err);
        }
    }
    if (size_arg && !get_size_arg(size_arg, &size, &err)) {
        die_err(err);
    }
    if (have_file) {
        BlockDriverState *bs = open_img(argv[optind], fmt, false, true);
        g_autofree uint8_t *buf = g_malloc(cs);
        size = img_len(bs);
        src_qcow2 = bdrv_is_qcow2(bs);
        /* qcow2 (as qemu-img): the clusters of the new image that the
         * source's allocated data touches */
        for (uint64_t off = 0, last = UINT64_MAX; bdrv_is_qcow2(bs) && off < size;) {
            MapExt e;
            int64_t n = map_one(bs, off, size - off, &e);
            if (n <= 0) {
                error_report("Could not read the image map of '%s'", argv[optind]);
                return 1;
            }
            if (e.data) {
                uint64_t first = off / cs, end = (off + n - 1) / cs;
                used += end - first + 1 - (first == last);
                last = end;
            }
            off += n;
        }
        /* raw: the clusters that hold non-zero data */
        for (uint64_t off = 0; !bdrv_is_qcow2(bs) && off < size; off += cs) {
            uint64_t n = MIN(cs, size - off);
            if (bdrv_sync_io(bs, BLOCK_REQ_READ, off, buf, n, 0) < 0) {
                error_report("Could not read '%s'", argv[optind]);
                return 1;
            }
            used += !buf_zero(buf, n);
        }
        bdrv_unref(bs);
    }
    uint64_t required, full;
    /* qemu-img: the bitmaps' size for a qcow2 source into qcow2 (none here) */
    bool bitmaps = src_qcow2 && !strcmp(ofmt, "qcow2");
    if (!strcmp(ofmt, "raw")) {
        required = full = size;
    } else if (!strcmp(ofmt, "qcow2")) {
        uint64_t meta = qcow2_meta_bytes(size, cs, rbits, ext_l2);
        required = meta + used * cs;
        full = meta + (size + cs - 1) / cs * cs;
    } else {
        error_report("Unknown file format '%s'", ofmt);
        return 1;
    }
    if (!strcmp(output, "json")) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        if (bitmaps) {
            json_builder_set_member_name(b, "bitmaps");
            json_builder_add_int_value(b, 0);
        }
        json_builder_set_member_name(b, "required");
        json_builder_add_int_value(b, required);
        json_builder_set_member_name(b, "fully-allocated");
        json_builder_add_int_value(b, full);
        json_builder_end_object(b);
        json_print(b);
    } else {
        printf("required size: %" G_GUINT64_FORMAT "\nfully allocated size: %" G_GUINT64_FORMAT
               "\n", required, full);
        if (bitmaps) {
            printf("bitmaps size: 0\n");
        }
    }
    qemu_opts_free(o);
    return 0;
}

static int cmd_amend(int argc, char **argv)
{
    const char *fmt = NULL;
    QemuOpts *o = NULL;
    Error *err = NULL;
    BlockDriverState *bs = NULL;
    Qcow2ImageInfo qi;
    const char *v;
    bool lazy;
    int c, version = 0, ret = 1;
    uint64_t rbits = 0;

    while ((c = getopt(argc, argv, "f:o:qpU")) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'o': if (!parse_o(&o, optarg, &err)) die_err(err); break;
        default: break;
        }
    }
    if (optind >= argc || !o) {
        error_report("Expecting one image file name and -o options");
        goto out;
    }
    bs = open_img(argv[optind], fmt, true, false);
    if (!bdrv_is_qcow2(bs)) {
        error_report("Format driver '%s' does not support option amendment",
                     bdrv_get_format_name(bs));
        goto out;
    }
    qcow2_get_info(bs, &qi);
    lazy = qi.lazy_refcounts;
    if (!qemu_opt_get_bool(o, "lazy_refcounts", lazy, &lazy, &err)) {
        die_err(err);
    }
    if ((v = qemu_opt_get(o, "compat"))) {
        if (!strcmp(v, "0.10") || !strcmp(v, "v2")) {
            version = 2;
        } else if (!strcmp(v, "1.1") || !strcmp(v, "v3")) {
            version = 3;
        } else {
            error_report("Unknown compatibility level %s", v);
            goto out;
        }
    }
    if (!qemu_opt_get_number(o, "refcount_bits", 0, &rbits, &err)) {
        die_err(err);
    }
    if (!qemu_opts_check_unused(o, &err)) {
        error_prepend(&err, "Option not supported for amend: ");
        die_err(err);
    }
    if ((version ? version : qi.version) < 3 && lazy && qemu_opt_has(o, "lazy_refcounts")) {
        error_report("Lazy refcounts only supported with compatibility level 1.1 and above "
                     "(use compat=1.1 or greater)");
        goto out;
    }
    if (qcow2_amend(bs, version, (int)rbits, &err) < 0) {
        die_err(err);
    }
    qcow2_get_info(bs, &qi);
    if (qi.version >= 3 && lazy != qi.lazy_refcounts &&
        qcow2_set_lazy_refcounts(bs, lazy, &err) < 0) {
        die_err(err);
    }
    ret = 0;
out:
    qemu_opts_free(o);
    if (bs) {
        bdrv_unref(bs);
    }
    return ret;
}

static void usage(void)
{
    printf("kvmpc-img: disk image utility (qemu-img's commands)\n"
           "usage: kvmpc-img COMMAND [options]\n"
           "  create [-f raw|qcow2] [-o opts] [-b backing -F fmt] FILE [SIZE]\n"
           "  info [--output=json] [-f fmt] FILE\n"
           "  check [-r leaks|all] [--output=json] [-f fmt] FILE\n"
           "  convert [-f fmt] [-O fmt] [-c] [-m N] [-p] [-o opts] SRC DST\n"
           "  map [--output=json] [-f fmt] FILE\n"
           "  compare [-f fmt] [-F fmt] [-s] FILE1 FILE2\n"
           "  resize [--shrink] [-f fmt] FILE [+|-]SIZE\n"
           "  commit [-f fmt] [-d] FILE\n"
           "  rebase [-f fmt] [-u] -b BACKING [-F fmt] FILE\n"
           "  measure [-O fmt] [-o opts] (--size N | [-f fmt] FILE)\n"
           "  amend [-f fmt] -o compat=0.10|1.1,refcount_bits=N,lazy_refcounts=on|off FILE\n"
           "See docs/kvmpc-img.md.\n");
}

int main(int argc, char **argv)
{
    static const struct { const char *name; int (*fn)(int, char **); } cmds[] = {
        { "create", cmd_create }, { "info", cmd_info }, { "check", cmd_check },
        { "convert", cmd_convert }, { "map", cmd_map }, { "compare", cmd_compare },
        { "resize", cmd_resize }, { "commit", cmd_commit }, { "rebase", cmd_rebase },
        { "measure", cmd_measure }, { "amend", cmd_amend },
    };

    error_progname = "kvmpc-img";
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage();
        return argc < 2;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(cmds); i++) {
        if (!strcmp(argv[1], cmds[i].name)) {
            optind = 1;
            return cmds[i].fn(argc - 1, argv + 1);
        }
    }
    error_report("Command not found: %s", argv[1]);
    return 1;
}

/*
 * Chardev core: the backend registry, creation from -chardev and from the
 * legacy -serial/-monitor/-qmp syntax, the list of live chardevs, logfiles
 * and the backend-side helpers (can_write/write/event).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "chardev/char-internal.h"
#include "chardev/char-mux.h"

#define MAX_CHARDEV_CLASSES 32

static const ChardevClass *chardev_classes[MAX_CHARDEV_CLASSES];
static int nb_chardev_classes;

/* Live chardevs in creation order. */
static GPtrArray *chardevs;

void chardev_class_register(const ChardevClass *cc)
{
    g_assert(nb_chardev_classes < MAX_CHARDEV_CLASSES);
    chardev_classes[nb_chardev_classes++] = cc;
}

const ChardevClass *chardev_class_find(const char *name)
{
    for (int i = 0; i < nb_chardev_classes; i++) {
        if (strcmp(chardev_classes[i]->name, name) == 0) {
            return chardev_classes[i];
        }
    }
    return NULL;
}

static void chardev_print_help(void)
{
    printf("Available chardev backend types:\n");
    for (int i = 0; i < nb_chardev_classes; i++) {
        printf("  %s\n", chardev_classes[i]->name);
    }
}

Chardev *qemu_chr_find(const char *label)
{
    if (!chardevs || !label) {
        return NULL;
    }
    for (guint i = 0; i < chardevs->len; i++) {
        Chardev *chr = g_ptr_array_index(chardevs, i);
        if (strcmp(chr->label, label) == 0) {
            return chr;
        }
    }
    return NULL;
}

GPtrArray *qemu_chr_list(void)
{
    GPtrArray *list = g_ptr_array_new();

    for (guint i = 0; chardevs && i < chardevs->len; i++) {
        g_ptr_array_add(list, g_ptr_array_index(chardevs, i));
    }
    return list;
}

void qemu_chr_update_filename(Chardev *chr)
{
    char *name = chr->klass->describe ? chr->klass->describe(chr)
                                      : g_strdup(chr->klass->name);

    g_free(chr->filename);
    chr->filename = name;
}

static bool chr_open_logfile(Chardev *chr, QemuOpts *opts, Error **errp)
{
    const char *logfile = qemu_opt_get(opts, "logfile");
    bool append;
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC;

    if (!qemu_opt_get_bool(opts, "logappend", false, &append, errp)) {
        return false;
    }
    if (!logfile) {
        return true;
    }
    flags |= append ? O_APPEND : O_TRUNC;
    chr->logfd = open(logfile, flags, 0666);
    if (chr->logfd < 0) {
        error_setg_errno(errp, errno, "Could not open '%s'", logfile);
        return false;
    }
    return true;
}

static void chr_free(Chardev *chr)
{
    if (chr->logfd >= 0) {
        close(chr->logfd);
    }
    g_mutex_clear(&chr->write_lock);
    g_free(chr->label);
    g_free(chr->filename);
    g_free(chr);
}

/* Create chardev id of backend type from opts (whose keys it consumes). */
static Chardev *chr_new(const char *id, const char *type, QemuOpts *opts, Error **errp)
{
    const ChardevClass *cc;
    Chardev *chr;
    bool be_opened = true;
    bool mux = false;
    Error *err = NULL;

    if (type && strcmp(type, "help") == 0) {
        chardev_print_help();   /* -chardev help: list and exit, as QEMU */
        exit(0);
    }
    if (!id) {
        error_setg(errp, "chardev: no id specified");
        return NULL;
    }
    if (!type) {
        error_setg(errp, "chardev: \"%s\" missing backend", id);
        return NULL;
    }
    if (!id_wellformed(id)) {
        error_setg(errp, "Parameter 'id' expects an identifier");
        return NULL;
    }
    cc = chardev_class_find(type);
    if (!cc) {
        error_setg(errp, "'%s' is not a valid char driver name", type);
        return NULL;
    }
    if (qemu_chr_find(id)) {
        error_setg(errp, "Duplicate ID '%s' for chardev", id);
        return NULL;
    }
    if (!qemu_opt_get_bool(opts, "mux", false, &mux, errp)) {
        return NULL;
    }
    if (mux) {
        error_setg(errp, "chardev '%s': mux=on is not supported yet", id);
        return NULL;
    }

    g_assert(cc->instance_size >= sizeof(Chardev));
    chr = g_malloc0(cc->instance_size);
    chr->klass = cc;
    chr->label = g_strdup(id);
    chr->logfd = -1;
    g_mutex_init(&chr->write_lock);

    if (!chr_open_logfile(chr, opts, &err) ||
        !cc->open(chr, opts, &be_opened, &err)) {
        error_prepend(&err, "chardev '%s': ", id);
        error_propagate(errp, err);
        chr_free(chr);
        return NULL;
    }
    if (!qemu_opts_check_unused(opts, &err)) {
        error_prepend(&err, "chardev '%s': ", id);
        error_propagate(errp, err);
        if (cc->close) {
            cc->close(chr);
        }
        chr_free(chr);
        return NULL;
    }
    if (!chr->filename) {
        qemu_chr_update_filename(chr);
    }

    if (!chardevs) {
        chardevs = g_ptr_array_new();
    }
    g_ptr_array_add(chardevs, chr);
    if (be_opened) {
        qemu_chr_be_event(chr, CHR_EVENT_OPENED);
    }
    return chr;
}

Chardev *qemu_chr_new_from_opts(const char *optstr, Error **errp)
{
    QemuOpts *opts = qemu_opts_parse(optstr, "backend", errp);
    Chardev *chr;

    if (!opts) {
        return NULL;
    }
    chr = chr_new(qemu_opt_get(opts, "id"), qemu_opt_get(opts, "backend"), opts, errp);
    qemu_opts_free(opts);
    return chr;
}

/* "HOST:PORT[,opts]" (HOST may be empty or "[v6addr]") into opts. */
static QemuOpts *chr_parse_legacy_inet(const char *p, const char *filename, Error **errp)
{
    const char *colon, *rest;
    char *host, *port;
    QemuOpts *opts;

    if (*p == '[') {
        const char *end = strchr(p, ']');
        if (!end || end[1] != ':') {
            goto fail;
        }
        host = g_strndup(p + 1, end - p - 1);
        colon = end + 1;
    } else {
        colon = strchr(p, ':');
        if (!colon) {
            goto fail;
        }
        host = g_strndup(p, colon - p);
    }
    rest = strchr(colon + 1, ',');
    port = rest ? g_strndup(colon + 1, rest - colon - 1) : g_strdup(colon + 1);
    opts = qemu_opts_parse(rest ? rest + 1 : "", NULL, errp);
    if (opts) {
        qemu_opt_set(opts, "host", host);
        qemu_opt_set(opts, "port", port);
    }
    g_free(host);
    g_free(port);
    return opts;

fail:
    error_setg(errp, "'%s' is not a valid char driver", filename);
    return NULL;
}

/* The legacy syntax of -serial/-monitor/-qmp as -chardev options. */
static QemuOpts *chr_parse_legacy(const char *filename, Error **errp)
{
    static const char *const plain[] = { "null", "stdio", "pty" };
    QemuOpts *opts;

    for (size_t i = 0; i < G_N_ELEMENTS(plain); i++) {
        if (strcmp(filename, plain[i]) == 0) {
            opts = qemu_opts_new();
            qemu_opt_set(opts, "backend", filename);
            return opts;
        }
    }
    if (g_str_has_prefix(filename, "file:")) {
        opts = qemu_opts_new();
        qemu_opt_set(opts, "backend", "file");
        qemu_opt_set(opts, "path", filename + 5);
        return opts;
    }
    if (g_str_has_prefix(filename, "unix:")) {
        opts = qemu_opts_parse(filename + 5, "path", errp);
        if (opts) {
            qemu_opt_set(opts, "backend", "socket");
        }
        return opts;
    }
    if (g_str_has_prefix(filename, "tcp:")) {
        opts = chr_parse_legacy_inet(filename + 4, filename, errp);
        if (opts) {
            qemu_opt_set(opts, "backend", "socket");
        }
        return opts;
    }
    if (g_str_has_prefix(filename, "telnet:")) {
        error_setg(errp, "'%s': telnet is not supported (use tcp:)", filename);
        return NULL;
    }
    if (g_str_has_prefix(filename, "mon:")) {
        error_setg(errp, "'%s': the 'mon:' prefix (monitor multiplexing) is not supported yet",
                   filename);
        return NULL;
    }
    error_setg(errp, "'%s' is not a valid char driver", filename);
    return NULL;
}

Chardev *qemu_chr_new(const char *label, const char *filename, Error **errp)
{
    QemuOpts *opts;
    Chardev *chr;

    if (g_str_has_prefix(filename, "chardev:")) {
        chr = qemu_chr_find(filename + 8);
        if (!chr) {
            error_setg(errp, "Chardev '%s' not found", filename + 8);
        }
        return chr;
    }
    if (strcmp(filename, "none") == 0) {
        return NULL;    /* no chardev wanted; errp stays unset */
    }
    if (g_str_has_prefix(filename, "mon:")) {
        return qemu_chr_new_mux_mon(label, filename + 4, errp);     /* char-mux.c */
    }
    opts = chr_parse_legacy(filename, errp);
    if (!opts) {
        return NULL;
    }
    chr = chr_new(label, qemu_opt_get(opts, "backend"), opts, errp);
    qemu_opts_free(opts);
    return chr;
}

void qemu_chr_delete(Chardev *chr)
{
    if (chr->be) {
        chr->be->chr = NULL;
        chr->be = NULL;
    }
    if (chardevs) {
        g_ptr_array_remove(chardevs, chr);
    }
    if (chr->klass->close) {
        chr->klass->close(chr);
    }
    chr_free(chr);
}

void qemu_chr_cleanup_all(void)
{
    while (chardevs && chardevs->len) {
        qemu_chr_delete(g_ptr_array_index(chardevs, chardevs->len - 1));
    }
}

/* Backend side. */

int qemu_chr_be_can_write(Chardev *chr)
{
    CharBackend *be = chr->be;

    if (!be || !be->can_read) {
        return 0;
    }
    return be->can_read(be->opaque);
}

void qemu_chr_be_write(Chardev *chr, const uint8_t *buf, int len)
{
    CharBackend *be = chr->be;

    if (be && be->read) {
        be->read(be->opaque, buf, len);
    }
}

void qemu_chr_be_event(Chardev *chr, QEMUChrEvent event)
{
    CharBackend *be = chr->be;

    if (event == CHR_EVENT_OPENED) {
        chr->be_open = true;
    } else if (event == CHR_EVENT_CLOSED) {
        chr->be_open = false;
    }
    if (be && be->event) {
        be->event(be->opaque, event);
    }
}

/*
 * rng-random and rng-builtin, the entropy sources of virtio-rng, and the
 * "-object" option that creates them (see include/system/rng.h).
 *
 * rng-random opens its file when created (non-blocking), so a bad name
 * fails at start-up with the option named, as QEMU reports it.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <glib.h>
#include "system/rng.h"
#include "qemu/option.h"

struct RngBackend {
    char *id;
    const char *type;           /* "rng-random" or "rng-builtin" */
    int fd;                     /* rng-random: the file, else -1 */
};

static GHashTable *rng_backends;

RngBackend *rng_backend_find(const char *id)
{
    return rng_backends && id ? g_hash_table_lookup(rng_backends, id) : NULL;
}

RngBackend *rng_backend_new_builtin(void)
{
    RngBackend *b = g_new0(RngBackend, 1);

    b->type = "rng-builtin";
    b->fd = -1;
    return b;
}

const char *rng_backend_type(const RngBackend *b)
{
    return b->type;
}

size_t rng_backend_read(RngBackend *b, void *buf, size_t len)
{
    ssize_t n;

    if (!len) {
        return 0;
    }
    do {
        n = b->fd >= 0 ? read(b->fd, buf, len) : getrandom(buf, len, GRND_NONBLOCK);
    } while (n < 0 && errno == EINTR);
    return n > 0 ? (size_t)n : 0;
}

bool user_object_add(const char *spec, Error **errp)
{
    QemuOpts *o = qemu_opts_parse(spec, "qom-type", errp);
    const char *type, *id, *file = NULL;
    RngBackend *b;
    int fd = -1;

    if (!o) {
        return false;
    }
    type = qemu_opt_get(o, "qom-type");
    id = qemu_opt_get(o, "id");
    if (!type) {
        error_setg(errp, "Parameter 'qom-type' is missing");
        goto fail;
    }
    if (strcmp(type, "rng-random") && strcmp(type, "rng-builtin")) {
        error_setg(errp, "object type '%s' is not supported (kvmpc has rng-random and "
                   "rng-builtin)", type);
        goto fail;
    }
    if (!id || !id_wellformed(id)) {
        error_setg(errp, "Parameter 'id' %s", id ? "expects an identifier" : "is missing");
        goto fail;
    }
    if (rng_backend_find(id)) {
        error_setg(errp, "attempt to add duplicate property '%s' to object (type 'container')",
                   id);
        goto fail;
    }
    if (!strcmp(type, "rng-random")) {
        file = qemu_opt_get(o, "filename");
        if (!file) {
            file = "/dev/urandom";
        }
    }
    if (!qemu_opts_check_unused(o, errp)) {
        goto fail;
    }
    if (file) {
        fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            error_setg_errno(errp, errno, "Could not open '%s'", file);
            goto fail;
        }
    }
    b = g_new0(RngBackend, 1);
    b->id = g_strdup(id);
    b->type = file ? "rng-random" : "rng-builtin";
    b->fd = fd;
    if (!rng_backends) {
        rng_backends = g_hash_table_new(g_str_hash, g_str_equal);
    }
    g_hash_table_insert(rng_backends, b->id, b);
    qemu_opts_free(o);
    return true;

fail:
    qemu_opts_free(o);
    return false;
}

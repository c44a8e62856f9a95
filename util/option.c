/*
 * QEMU-style option strings.  "a,b=1,c=x,,y" with implied key K parses to
 * K=a, b=1, c="x,y".  A bare word after the first element is a boolean
 * flag "word=on" (QEMU accepts "server,nowait"; "noX" means X=off).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "qemu/option.h"

QemuOpts *qemu_opts_new(void)
{
    QemuOpts *opts = g_new0(QemuOpts, 1);

    opts->opts = g_ptr_array_new();
    return opts;
}

void qemu_opts_free(QemuOpts *opts)
{
    if (!opts) {
        return;
    }
    for (guint i = 0; i < opts->opts->len; i++) {
        QemuOpt *o = g_ptr_array_index(opts->opts, i);
        g_free(o->key);
        g_free(o->value);
        g_free(o);
    }
    g_ptr_array_free(opts->opts, TRUE);
    g_free(opts);
}

void qemu_opt_set(QemuOpts *opts, const char *key, const char *value)
{
    QemuOpt *o = g_new0(QemuOpt, 1);

    o->key = g_strdup(key);
    o->value = g_strdup(value);
    g_ptr_array_add(opts->opts, o);
}

/* Reads up to an unescaped delimiter (',' and, if eq_stops, '='), undoing
 * ",," escapes.  Returns the position after the element. */
static const char *get_token(const char *p, bool eq_stops, GString *out)
{
    while (*p) {
        if (*p == ',') {
            if (p[1] == ',') {
                g_string_append_c(out, ',');
                p += 2;
                continue;
            }
            break;
        }
        if (eq_stops && *p == '=') {
            break;
        }
        g_string_append_c(out, *p++);
    }
    return p;
}

QemuOpts *qemu_opts_parse(const char *str, const char *implied_key, Error **errp)
{
    QemuOpts *opts = qemu_opts_new();
    const char *p = str ? str : "";
    bool first = true;

    while (*p) {
        g_autoptr(GString) key = g_string_new(NULL);
        g_autoptr(GString) val = g_string_new(NULL);
        const char *q = get_token(p, true, key);

        if (*q == '=') {
            q = get_token(q + 1, false, val);
            if (key->len == 0) {
                error_setg(errp, "Invalid option '%s': empty parameter name", str);
                qemu_opts_free(opts);
                return NULL;
            }
            qemu_opt_set(opts, key->str, val->str);
        } else if (first && implied_key) {
            qemu_opt_set(opts, implied_key, key->str);
        } else if (key->len == 0) {
            /* "a,,": an empty element after an escaped comma is fine;
             * a stray ",x" with empty key is not. */
            if (*q == ',' || *q == '\0') {
                error_setg(errp, "Invalid option '%s': empty parameter", str);
                qemu_opts_free(opts);
                return NULL;
            }
        } else if (g_str_has_prefix(key->str, "no") && key->len > 2) {
            qemu_opt_set(opts, key->str + 2, "off");
        } else {
            qemu_opt_set(opts, key->str, "on");
        }
        first = false;
        p = q;
        if (*p == ',') {
            p++;
            if (*p == '\0') {
                error_setg(errp, "Invalid option '%s': trailing comma", str);
                qemu_opts_free(opts);
                return NULL;
            }
        }
    }
    return opts;
}

static QemuOpt *find_opt(QemuOpts *opts, const char *key)
{
    QemuOpt *found = NULL;

    for (guint i = 0; i < opts->opts->len; i++) {
        QemuOpt *o = g_ptr_array_index(opts->opts, i);
        if (strcmp(o->key, key) == 0) {
            o->used = true;
            found = o;      /* the last one wins, as in QEMU */
        }
    }
    return found;
}

const char *qemu_opt_get(QemuOpts *opts, const char *key)
{
    QemuOpt *o = find_opt(opts, key);

    return o ? o->value : NULL;
}

bool qemu_opt_has(QemuOpts *opts, const char *key)
{
    return find_opt(opts, key) != NULL;
}

bool qemu_opt_get_bool(QemuOpts *opts, const char *key, bool def, bool *out, Error **errp)
{
    const char *v = qemu_opt_get(opts, key);

    if (!v) {
        *out = def;
        return true;
    }
    return parse_bool(key, v, out, errp);
}

bool qemu_opt_get_number(QemuOpts *opts, const char *key, uint64_t def, uint64_t *out,
                         Error **errp)
{
    const char *v = qemu_opt_get(opts, key);

    if (!v) {
        *out = def;
        return true;
    }
    return parse_uint(key, v, out, errp);
}

bool qemu_opt_get_size(QemuOpts *opts, const char *key, uint64_t def, uint64_t *out,
                       Error **errp)
{
    const char *v = qemu_opt_get(opts, key);

    if (!v) {
        *out = def;
        return true;
    }
    return parse_size(key, v, 0, out, errp);
}

bool qemu_opts_check_unused(QemuOpts *opts, Error **errp)
{
    for (guint i = 0; i < opts->opts->len; i++) {
        QemuOpt *o = g_ptr_array_index(opts->opts, i);
        if (!o->used) {
            error_setg(errp, "Invalid parameter '%s'", o->key);
            return false;
        }
    }
    return true;
}

bool parse_bool(const char *name, const char *value, bool *out, Error **errp)
{
    if (!strcmp(value, "on") || !strcmp(value, "yes") || !strcmp(value, "true") ||
        !strcmp(value, "y")) {
        *out = true;
        return true;
    }
    if (!strcmp(value, "off") || !strcmp(value, "no") || !strcmp(value, "false") ||
        !strcmp(value, "n")) {
        *out = false;
        return true;
    }
    error_setg(errp, "Parameter '%s' expects 'on' or 'off'", name);
    return false;
}

bool parse_uint(const char *name, const char *value, uint64_t *out, Error **errp)
{
    char *end;

    if (!*value || *value == '-' || g_ascii_isspace(*value)) {
        goto bad;
    }
    errno = 0;
    *out = strtoull(value, &end, 0);
    if (errno || *end) {
        goto bad;
    }
    return true;
bad:
    error_setg(errp, "Parameter '%s' expects a non-negative number, got '%s'", name, value);
    return false;
}

bool parse_int(const char *name, const char *value, int64_t *out, Error **errp)
{
    char *end;

    errno = 0;
    *out = strtoll(value, &end, 0);
    if (!*value || errno || *end) {
        error_setg(errp, "Parameter '%s' expects a number, got '%s'", name, value);
        return false;
    }
    return true;
}

bool parse_size(const char *name, const char *value, char default_suffix, uint64_t *out,
                Error **errp)
{
    char *end;
    uint64_t n, mul = 1;
    char suffix;

    if (!*value || *value == '-' || g_ascii_isspace(*value)) {
        goto bad;
    }
    errno = 0;
    /* Decimal unless 0x: QEMU reads "010" as ten, not as octal eight. */
    n = strtoull(value, &end, g_ascii_strncasecmp(value, "0x", 2) ? 10 : 16);
    if (errno || end == value) {
        goto bad;
    }
    suffix = *end ? *end : default_suffix;
    switch (g_ascii_toupper(suffix)) {
    case 0: case 'B': mul = 1; break;
    case 'K': mul = 1ULL << 10; break;
    case 'M': mul = 1ULL << 20; break;
    case 'G': mul = 1ULL << 30; break;
    case 'T': mul = 1ULL << 40; break;
    default: goto bad;
    }
    if (*end && end[1] && !(g_ascii_toupper(end[1]) == 'B' && !end[2]) &&
        !(g_ascii_toupper(end[1]) == 'I' && g_ascii_toupper(end[2] ? end[2] : 'x') == 'B' && !end[3])) {
        goto bad;
    }
    if (mul > 1 && n > UINT64_MAX / mul) {
        error_setg(errp, "Parameter '%s': size '%s' is too large", name, value);
        return false;
    }
    *out = n * mul;
    return true;
bad:
    error_setg(errp, "Parameter '%s' expects a size (e.g. 512M, 4G), got '%s'", name, value);
    return false;
}

bool id_wellformed(const char *id)
{
    if (!g_ascii_isalpha(id[0])) {
        return false;
    }
    for (const char *p = id + 1; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("-._", *p)) {
            return false;
        }
    }
    return true;
}

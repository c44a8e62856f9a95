/*
 * QEMU-style option strings: "value,key=val,flag=on,other=a,,b".
 * The first element may omit its key (the "implied" key, e.g. "driver" for
 * -device or "type" for -chardev).  ",," is a literal comma.
 */
#ifndef KVMPC_QEMU_OPTION_H
#define KVMPC_QEMU_OPTION_H

#include <stdbool.h>
#include <stdint.h>
#include "qemu/error.h"

typedef struct QemuOpt {
    char *key;
    char *value;
    bool used;
} QemuOpt;

typedef struct QemuOpts {
    GPtrArray *opts;            /* of QemuOpt*, in command-line order */
} QemuOpts;

QemuOpts *qemu_opts_parse(const char *str, const char *implied_key, Error **errp);
QemuOpts *qemu_opts_new(void);
void qemu_opts_free(QemuOpts *opts);
void qemu_opt_set(QemuOpts *opts, const char *key, const char *value);
/* Last value for key (and marks it used), or NULL. */
const char *qemu_opt_get(QemuOpts *opts, const char *key);
bool qemu_opt_has(QemuOpts *opts, const char *key);
/* Typed getters: return false and set errp on a malformed value. */
bool qemu_opt_get_bool(QemuOpts *opts, const char *key, bool def, bool *out, Error **errp);
bool qemu_opt_get_number(QemuOpts *opts, const char *key, uint64_t def, uint64_t *out, Error **errp);
bool qemu_opt_get_size(QemuOpts *opts, const char *key, uint64_t def, uint64_t *out, Error **errp);
/* Fails naming the first key nobody asked for: "Invalid parameter 'foo'". */
bool qemu_opts_check_unused(QemuOpts *opts, Error **errp);

/* QEMU's rule for ids (-device id=, -chardev id=...): a letter, then
 * letters, digits, '-', '.', '_'. */
bool id_wellformed(const char *id);

/* Value parsers shared by options and device properties. */
bool parse_bool(const char *name, const char *value, bool *out, Error **errp);
bool parse_uint(const char *name, const char *value, uint64_t *out, Error **errp);
bool parse_int(const char *name, const char *value, int64_t *out, Error **errp);
/* "512", "512M", "4G", "1T", "0x1000"; a bare number is bytes unless
 * default_suffix is 'M' (as for -m). */
bool parse_size(const char *name, const char *value, char default_suffix,
                uint64_t *out, Error **errp);

#endif

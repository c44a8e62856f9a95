/*
 * Debug logging selected with -d ITEMS and sent to -D FILE (default
 * stderr).  Devices report guest programming errors with
 * qemu_log_mask(LOG_GUEST_ERROR, ...) and unimplemented features with
 * LOG_UNIMP; neither ever stops the guest.
 */
#ifndef KVMPC_QEMU_LOG_H
#define KVMPC_QEMU_LOG_H

#include <stdbool.h>
#include "qemu/error.h"

#define LOG_GUEST_ERROR (1u << 0)
#define LOG_UNIMP       (1u << 1)
#define CPU_LOG_INT     (1u << 2)
#define CPU_LOG_RESET   (1u << 3)
#define LOG_TRACE       (1u << 4)

extern unsigned qemu_loglevel;

static inline bool qemu_loglevel_mask(unsigned mask)
{
    return (qemu_loglevel & mask) != 0;
}

void qemu_log(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
#define qemu_log_mask(mask, ...) \
    do { if (qemu_loglevel_mask(mask)) { qemu_log(__VA_ARGS__); } } while (0)

/* "guest_errors,unimp"; "help" prints the list and returns false with no error. */
bool qemu_set_log_items(const char *items, Error **errp);
void qemu_print_log_items(GString *out);
bool qemu_set_log_filename(const char *path, Error **errp);

#endif

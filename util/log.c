/* -d / -D debug logging. */
#include <stdio.h>
#include <string.h>
#include "qemu/log.h"

unsigned qemu_loglevel;
static FILE *logfile;
static GMutex log_lock;

static const struct {
    unsigned mask;
    const char *name, *help;
} log_items[] = {
    { LOG_GUEST_ERROR, "guest_errors", "log when the guest programs a device wrongly" },
    { LOG_UNIMP, "unimp", "log unimplemented functionality" },
    { CPU_LOG_INT, "int", "show interrupts/exceptions handled in userspace" },
    { CPU_LOG_RESET, "cpu_reset", "show CPU state before CPU resets" },
    { LOG_TRACE, "trace", "show device-level traces" },
};

void qemu_log(const char *fmt, ...)
{
    va_list ap;

    g_mutex_lock(&log_lock);
    va_start(ap, fmt);
    vfprintf(logfile ? logfile : stderr, fmt, ap);
    va_end(ap);
    fflush(logfile ? logfile : stderr);
    g_mutex_unlock(&log_lock);
}

void qemu_print_log_items(GString *out)
{
    g_string_append(out, "Log items (comma separated):\n");
    for (size_t i = 0; i < G_N_ELEMENTS(log_items); i++) {
        g_string_append_printf(out, "%-15s %s\n", log_items[i].name, log_items[i].help);
    }
}

bool qemu_set_log_items(const char *items, Error **errp)
{
    g_auto(GStrv) parts = g_strsplit(items, ",", -1);
    unsigned mask = 0;

    for (int i = 0; parts[i]; i++) {
        size_t j;
        if (!strcmp(parts[i], "help") || !strcmp(parts[i], "?")) {
            return false;
        }
        for (j = 0; j < G_N_ELEMENTS(log_items); j++) {
            if (!strcmp(parts[i], log_items[j].name)) {
                mask |= log_items[j].mask;
                break;
            }
        }
        if (j == G_N_ELEMENTS(log_items)) {
            error_setg(errp, "-d %s: unknown log item '%s' (see -d help)", items, parts[i]);
            return false;
        }
    }
    qemu_loglevel = mask;
    return true;
}

bool qemu_set_log_filename(const char *path, Error **errp)
{
    FILE *f = fopen(path, "a");

    if (!f) {
        error_setg_errno(errp, errno, "-D %s: cannot open log file", path);
        return false;
    }
    setvbuf(f, NULL, _IOLBF, 0);
    logfile = f;
    return true;
}

/*
 * Errors are values: a function that can fail takes `Error **errp` last and
 * returns false/NULL/-1 on failure after setting *errp.  The caller that can
 * report the error does so with error_report_err().  Error is GLib's GError.
 */
#ifndef KVMPC_QEMU_ERROR_H
#define KVMPC_QEMU_ERROR_H

#include <glib.h>
#include <stdarg.h>

typedef GError Error;

#define KVMPC_ERROR kvmpc_error_quark()
GQuark kvmpc_error_quark(void);

#define error_setg(errp, ...) g_set_error((errp), KVMPC_ERROR, 0, __VA_ARGS__)
/* Like error_setg, with ": strerror(errno_value)" appended. */
void error_setg_errno(Error **errp, int errno_value, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
#define error_propagate(dst, src) g_propagate_error((dst), (src))
#define error_prepend(errp, ...) g_prefix_error((errp), __VA_ARGS__)
#define error_free(err) g_error_free(err)

/* The program name used as prefix of every message ("kvmpc"). */
extern const char *error_progname;

/* Print "kvmpc: <message>" on stderr. */
void error_report(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
void warn_report(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
void info_report(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* Report and free an error. */
void error_report_err(Error *err);

#endif

/* Error reporting: messages go to stderr prefixed with the program name. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "qemu/error.h"

const char *error_progname = "kvmpc";

G_DEFINE_QUARK(kvmpc-error-quark, kvmpc_error)

void error_setg_errno(Error **errp, int errno_value, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    if (!errp) {
        return;
    }
    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(errp, KVMPC_ERROR, 0, "%s: %s", msg, g_strerror(errno_value));
    g_free(msg);
}

static void vreport(const char *kind, const char *fmt, va_list ap)
{
    char *msg = g_strdup_vprintf(fmt, ap);

    fprintf(stderr, "%s: %s%s\n", error_progname, kind, msg);
    g_free(msg);
}

void error_report(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport("", fmt, ap);
    va_end(ap);
}

void warn_report(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport("warning: ", fmt, ap);
    va_end(ap);
}

void info_report(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport("info: ", fmt, ap);
    va_end(ap);
}

void error_report_err(Error *err)
{
    if (err) {
        error_report("%s", err->message);
        g_error_free(err);
    }
}

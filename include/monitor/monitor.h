/*
 * The monitors: QMP (JSON, for programs) and HMP (text, for people), each
 * on a chardev.  Several may run at once.  Created from the command line
 * (-qmp, -monitor, -mon, -serial mon:stdio) after the machine exists.
 */
#ifndef KVMPC_MONITOR_MONITOR_H
#define KVMPC_MONITOR_MONITOR_H

#include <stdbool.h>
#include <json-glib/json-glib.h>
#include "qemu/error.h"
#include "chardev/char.h"

typedef struct Monitor Monitor;

/* Records a monitor option for monitor_init_all():
 *   option "qmp" / "qmp-pretty" / "monitor": arg is a chardev spec
 *   ("unix:/tmp/q,server=on,wait=off", "tcp::4444,server=on", "stdio",
 *   "chardev:ID", "none");
 *   option "mon": arg is "chardev=ID[,mode=control|readline][,pretty=on]".
 * Fails only on a malformed -mon. */
bool monitor_add_from_cmdline(const char *option, const char *arg, Error **errp);
/* Creates the recorded monitors, plus an HMP monitor on every "mon:"
 * multiplexed chardev.  Call once the machine is built.  Exits on error. */
void monitor_init_all(void);

Monitor *monitor_new_qmp(Chardev *chr, bool pretty, Error **errp);
Monitor *monitor_new_hmp(Chardev *chr, Error **errp);

/* Output on a monitor (HMP text; "\n" becomes "\r\n" as in QEMU). */
void monitor_printf(Monitor *mon, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void monitor_puts(Monitor *mon, const char *str);

/* Sends event name with data (taken; NULL: no "data" member) to every
 * QMP monitor past capabilities negotiation. */
void qmp_event_emit(const char *name, JsonObject *data);

/* Takes the fd that QMP getfd stored on mon under name (mon no longer
 * holds it; QEMU's monitor_get_fd); -1 with errp set if there is none. */
int monitor_get_fd(Monitor *mon, const char *name, Error **errp);

#endif

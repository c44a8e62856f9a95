/* Accelerator registry, and the probe results of this process. */
#include <string.h>
#include "accel/accel.h"

typedef struct AccelEntry {
    const AccelOps *ops;
    bool probed;
    bool usable;
    char *why;                  /* the probe's error when not usable */
} AccelEntry;

static GPtrArray *accels;       /* AccelOps*, registration order */
static GPtrArray *entries;      /* AccelEntry*, same order */

void accel_register(const AccelOps *ops)
{
    AccelEntry *e = g_new0(AccelEntry, 1);

    if (!accels) {
        accels = g_ptr_array_new();
        entries = g_ptr_array_new();
    }
    e->ops = ops;
    g_ptr_array_add(accels, (gpointer)ops);
    g_ptr_array_add(entries, e);
}

const AccelOps *accel_find(const char *name)
{
    for (guint i = 0; accels && i < accels->len; i++) {
        const AccelOps *ops = g_ptr_array_index(accels, i);
        if (!strcmp(ops->name, name)) {
            return ops;
        }
    }
    return NULL;
}

GPtrArray *accel_list(void)
{
    if (!accels) {
        accels = g_ptr_array_new();
        entries = g_ptr_array_new();
    }
    return accels;
}

bool accel_probe(const AccelOps *ops, Error **errp)
{
    AccelEntry *e = NULL;

    for (guint i = 0; entries && i < entries->len; i++) {
        AccelEntry *c = g_ptr_array_index(entries, i);
        if (c->ops == ops) {
            e = c;
        }
    }
    if (!e) {
        error_setg(errp, "%s: not a registered accelerator", ops->name);
        return false;
    }
    if (!e->probed) {
        Error *err = NULL;
        e->usable = !ops->probe || ops->probe(&err);
        if (!e->usable) {
            e->why = g_strdup(err ? err->message : "not usable");
            g_clear_error(&err);
        }
        e->probed = true;
    }
    if (!e->usable) {
        error_setg(errp, "%s", e->why);
    }
    return e->usable;
}

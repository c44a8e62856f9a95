/* Accelerator registry. */
#include <string.h>
#include "accel/accel.h"

static GPtrArray *accels;

void accel_register(const AccelOps *ops)
{
    if (!accels) {
        accels = g_ptr_array_new();
    }
    g_ptr_array_add(accels, (gpointer)ops);
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
    }
    return accels;
}

/* Machine class registry. */
#include <string.h>
#include "hw/machine.h"

MachineState *current_machine;
static GPtrArray *machine_classes;

void machine_class_register(const MachineClass *mc)
{
    if (!machine_classes) {
        machine_classes = g_ptr_array_new();
    }
    g_ptr_array_add(machine_classes, (gpointer)mc);
}

const MachineClass *machine_class_find(const char *name)
{
    for (guint i = 0; machine_classes && i < machine_classes->len; i++) {
        const MachineClass *mc = g_ptr_array_index(machine_classes, i);
        if (!strcmp(mc->name, name) || (mc->alias && !strcmp(mc->alias, name))) {
            return mc;
        }
    }
    return NULL;
}

GPtrArray *machine_class_list(void)
{
    if (!machine_classes) {
        machine_classes = g_ptr_array_new();
    }
    return machine_classes;
}

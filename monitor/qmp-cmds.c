/*
 * QMP command handlers: one function per schema command, taking the
 * generated QmpArgs_NAME.  A NULL return means {}.
 */
#include <inttypes.h>
#include <string.h>
#include <unistd.h>
#include "config-host.h"
#include "monitor-internal.h"
#include "monitor/qmp-gen.h"
#include "system/runstate.h"
#include "hw/machine.h"
#include "hw/qdev.h"
#include "accel/accel.h"
#include "ui/console.h"
#include "system/balloon.h"

/* ---- run state -------------------------------------------------------- */

JsonNode *qmp_query_status(Monitor *mon, const QmpArgs_query_status *args, Error **errp)
{
    JsonObject *o = json_object_new();

    json_object_set_boolean_member(o, "running", runstate_is_running());
    json_object_set_boolean_member(o, "singlestep", false);
    json_object_set_string_member(o, "status", runstate_name(runstate_get()));
    return qmp_node_object(o);
}

JsonNode *qmp_stop(Monitor *mon, const QmpArgs_stop *args, Error **errp)
{
    if (runstate_is_running()) {
        vm_stop(RUN_STATE_PAUSED);
    }
    return NULL;
}

JsonNode *qmp_cont(Monitor *mon, const QmpArgs_cont *args, Error **errp)
{
    RunState s = runstate_get();

    if (s == RUN_STATE_INTERNAL_ERROR || s == RUN_STATE_SHUTDOWN ||
        s == RUN_STATE_GUEST_PANICKED) {
        error_setg(errp, "Resetting the Virtual Machine is required");
        return NULL;
    }
    if (s == RUN_STATE_INMIGRATE) {
        error_setg(errp, "Migration is not finished yet");
        return NULL;
    }
    if (s == RUN_STATE_SUSPENDED) {
        error_setg(errp, "Guest is suspended: use system_wakeup");
        return NULL;
    }
    vm_start();
    return NULL;
}

JsonNode *qmp_system_reset(Monitor *mon, const QmpArgs_system_reset *args, Error **errp)
{
    qemu_system_reset_request(SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET);
    return NULL;
}

JsonNode *qmp_system_powerdown(Monitor *mon, const QmpArgs_system_powerdown *args, Error **errp)
{
    qemu_system_powerdown_request();
    return NULL;
}

JsonNode *qmp_system_wakeup(Monitor *mon, const QmpArgs_system_wakeup *args, Error **errp)
{
    /* kvmpc has no S3 yet, so the guest is never suspended. */
    if (runstate_get() != RUN_STATE_SUSPENDED) {
        error_setg(errp, "Unable to wake up: guest is not in suspended state");
    }
    return NULL;
}

JsonNode *qmp_inject_nmi(Monitor *mon, const QmpArgs_inject_nmi *args, Error **errp)
{
    /* Every vCPU gets it (QEMU's x86 nmi_monitor_handle); under qtest the
     * accelerator runs no code, so there is nothing to deliver. */
    for (guint i = 0; cpus && i < cpus->len; i++) {
        if (current_accel && current_accel->inject_nmi) {
            current_accel->inject_nmi(g_ptr_array_index(cpus, i));
        }
    }
    return NULL;
}

JsonNode *qmp_quit(Monitor *mon, const QmpArgs_quit *args, Error **errp)
{
    qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_QMP_QUIT);
    return NULL;
}

/* ---- machine ---------------------------------------------------------- */

JsonNode *qmp_query_name(Monitor *mon, const QmpArgs_query_name *args, Error **errp)
{
    JsonObject *o = json_object_new();

    if (current_machine && current_machine->name) {
        json_object_set_string_member(o, "name", current_machine->name);
    }
    return qmp_node_object(o);
}

JsonNode *qmp_query_uuid(Monitor *mon, const QmpArgs_query_uuid *args, Error **errp)
{
    JsonObject *o = json_object_new();
    const uint8_t *u = current_machine ? current_machine->uuid : (const uint8_t[16]){ 0 };
    g_autofree char *s = g_strdup_printf(
        "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
        u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
        u[13], u[14], u[15]);

    json_object_set_string_member(o, "UUID", s);
    return qmp_node_object(o);
}

/*
 * enabled: the VM runs on KVM.  present: KVM is built in and usable on this
 * host (its probe, self-test included, passes; probed now if kvm was not
 * tried at start-up, then remembered).  QEMU's "present" only says "built
 * in"; ours answers the question a client asks (could this host run KVM?).
 */
JsonNode *qmp_query_kvm(Monitor *mon, const QmpArgs_query_kvm *args, Error **errp)
{
    JsonObject *o = json_object_new();
    const AccelOps *kvm = accel_find("kvm");
    bool enabled = kvm && current_accel == kvm;

    json_object_set_boolean_member(o, "enabled", enabled);
    json_object_set_boolean_member(o, "present", enabled || (kvm && accel_probe(kvm, NULL)));
    return qmp_node_object(o);
}

JsonNode *qmp_query_target(Monitor *mon, const QmpArgs_query_target *args, Error **errp)
{
    JsonObject *o = json_object_new();

    json_object_set_string_member(o, "arch", "x86_64");
    return qmp_node_object(o);
}

#define CPU_TYPE "qemu64-x86_64-cpu"

JsonNode *qmp_query_machines(Monitor *mon, const QmpArgs_query_machines *args, Error **errp)
{
    GPtrArray *list = machine_class_list();     /* the live list: not ours */
    JsonArray *a = json_array_new();

    for (guint i = 0; i < list->len; i++) {
        const MachineClass *mc = g_ptr_array_index(list, i);
        JsonObject *o = json_object_new();
        json_object_set_string_member(o, "name", mc->name);
        if (mc->alias) {
            json_object_set_string_member(o, "alias", mc->alias);
        }
        if (mc->is_default) {
            json_object_set_boolean_member(o, "is-default", true);
        }
        json_object_set_int_member(o, "cpu-max", mc->max_cpus);
        json_object_set_boolean_member(o, "hotpluggable-cpus", false);
        json_object_set_boolean_member(o, "numa-mem-supported", false);
        json_object_set_boolean_member(o, "deprecated", false);
        json_object_set_string_member(o, "default-cpu-type", CPU_TYPE);
        json_object_set_string_member(o, "default-ram-id", "pc.ram");
        json_array_add_object_element(a, o);
    }
    return qmp_node_array(a);
}

static JsonObject *cpu_props(int index)
{
    JsonObject *p = json_object_new();
    SMPConfig smp = current_machine ? current_machine->smp : (SMPConfig){ 0 };
    unsigned threads = smp.threads ? smp.threads : 1;
    unsigned cores = smp.cores ? smp.cores : 1;
    unsigned dies = smp.dies ? smp.dies : 1;

    json_object_set_int_member(p, "core-id", (index / threads) % cores);
    json_object_set_int_member(p, "thread-id", index % threads);
    if (dies > 1) {
        json_object_set_int_member(p, "die-id", (index / (threads * cores)) % dies);
    }
    json_object_set_int_member(p, "socket-id", index / (threads * cores * dies));
    return p;
}

static char *cpu_qom_path(int index)
{
    return g_strdup_printf("/machine/unattached/device[%d]", index);
}

JsonNode *qmp_query_cpus_fast(Monitor *mon, const QmpArgs_query_cpus_fast *args, Error **errp)
{
    JsonArray *a = json_array_new();

    for (guint i = 0; cpus && i < cpus->len; i++) {
        CPUState *cpu = g_ptr_array_index(cpus, i);
        JsonObject *o = json_object_new();
        g_autofree char *path = cpu_qom_path(cpu->index);
        json_object_set_int_member(o, "cpu-index", cpu->index);
        json_object_set_string_member(o, "qom-path", path);
        /* QEMU reports the vCPU thread; without one (qtest), the process. */
        json_object_set_int_member(o, "thread-id", cpu->thread_id ? cpu->thread_id : getpid());
        json_object_set_object_member(o, "props", cpu_props(cpu->index));
        json_object_set_string_member(o, "target", "x86_64");
        json_array_add_object_element(a, o);
    }
    return qmp_node_array(a);
}

JsonNode *qmp_query_hotpluggable_cpus(Monitor *mon, const QmpArgs_query_hotpluggable_cpus *args,
                                      Error **errp)
{
    JsonArray *a = json_array_new();
    int max = current_machine ? (int)MAX(current_machine->smp.maxcpus, current_machine->smp.cpus) : 0;

    for (int i = max - 1; i >= 0; i--) {
        JsonObject *o = json_object_new();
        json_object_set_string_member(o, "type", CPU_TYPE);
        json_object_set_int_member(o, "vcpus-count", 1);
        json_object_set_object_member(o, "props", cpu_props(i));
        if (cpu_by_index(i)) {
            g_autofree char *path = cpu_qom_path(i);
            json_object_set_string_member(o, "qom-path", path);
        }
        json_array_add_object_element(a, o);
    }
    return qmp_node_array(a);
}

JsonNode *qmp_query_memory_size_summary(Monitor *mon,
                                        const QmpArgs_query_memory_size_summary *args,
                                        Error **errp)
{
    JsonObject *o = json_object_new();

    json_object_set_int_member(o, "base-memory", current_machine ? current_machine->ram_size : 0);
    json_object_set_int_member(o, "plugged-memory", 0);
    return qmp_node_object(o);
}

/* ---- command line ----------------------------------------------------- */

typedef struct CmdlineParam {
    const char *option, *name, *type, *help;
} CmdlineParam;

static const CmdlineParam cmdline_params[] = {
    { "chardev", "backend", "string", NULL },
    { "chardev", "id", "string", NULL },
    { "chardev", "path", "string", NULL },
    { "chardev", "host", "string", NULL },
    { "chardev", "port", "string", NULL },
    { "chardev", "server", "boolean", NULL },
    { "chardev", "wait", "boolean", NULL },
    { "chardev", "nodelay", "boolean", NULL },
    { "chardev", "reconnect", "number", NULL },
    { "chardev", "ipv4", "boolean", NULL },
    { "chardev", "ipv6", "boolean", NULL },
    { "chardev", "mux", "boolean", NULL },
    { "chardev", "logfile", "string", NULL },
    { "chardev", "logappend", "boolean", NULL },
    { "chardev", "append", "boolean", NULL },
    { "mon", "mode", "string", NULL },
    { "mon", "chardev", "string", NULL },
    { "mon", "pretty", "boolean", NULL },
    { "machine", "type", "string", "emulated machine" },
    { "machine", "accel", "string", "accelerator list" },
    { "accel", "accel", "string", "Select the type of accelerator" },
    { "smp-opts", "cpus", "number", NULL },
    { "smp-opts", "sockets", "number", NULL },
    { "smp-opts", "dies", "number", NULL },
    { "smp-opts", "cores", "number", NULL },
    { "smp-opts", "threads", "number", NULL },
    { "smp-opts", "maxcpus", "number", NULL },
    { "memory", "size", "size", NULL },
    { "name", "guest", "string", "Sets the name of the guest" },
    { "name", "process", "string", "Sets the name of the QEMU process" },
    { "device", NULL, NULL, NULL },
    { "global", "driver", "string", NULL },
    { "global", "property", "string", NULL },
    { "global", "value", "string", NULL },
    { "serial", NULL, NULL, NULL },
    { "display", "type", "string", NULL },
    { "boot-opts", NULL, NULL, NULL },
};

JsonNode *qmp_query_command_line_options(Monitor *mon,
                                         const QmpArgs_query_command_line_options *args,
                                         Error **errp)
{
    JsonArray *a = json_array_new();
    JsonObject *cur = NULL;
    JsonArray *params = NULL;
    const char *cur_name = NULL;

    for (size_t i = 0; i < G_N_ELEMENTS(cmdline_params); i++) {
        const CmdlineParam *p = &cmdline_params[i];
        if (args->has_option && strcmp(args->option, p->option)) {
            continue;
        }
        if (!cur_name || strcmp(cur_name, p->option)) {
            cur = json_object_new();
            params = json_array_new();
            json_object_set_string_member(cur, "option", p->option);
            json_object_set_array_member(cur, "parameters", params);
            json_array_add_object_element(a, cur);
            cur_name = p->option;
        }
        if (p->name) {
            JsonObject *po = json_object_new();
            json_object_set_string_member(po, "name", p->name);
            json_object_set_string_member(po, "type", p->type);
            if (p->help) {
                json_object_set_string_member(po, "help", p->help);
            }
            json_array_add_object_element(params, po);
        }
    }
    if (args->has_option && json_array_get_length(a) == 0) {
        json_array_unref(a);
        error_setg(errp, "invalid option name: %s", args->option);
        return NULL;
    }
    return qmp_node_array(a);
}

/* ---- QOM-style tree --------------------------------------------------- */

/* The device whose canonical path is exactly path, or a partial path or
 * id that names one device. */
static DeviceState *qom_find_device(const char *path)
{
    return qdev_find_by_path(path);
}

static char *machine_type_name(void)
{
    return g_strdup_printf("%s-machine", current_machine && current_machine->mc
                                             ? current_machine->mc->name : "none");
}

/* Containers: "/", "/machine" and every proper prefix of a device path. */
static bool qom_is_container(const char *path)
{
    GPtrArray *devs;
    size_t n = strlen(path);

    if (!strcmp(path, "/") || !strcmp(path, "/machine") || !strcmp(path, "/chardevs")) {
        return true;
    }
    devs = qdev_all_devices();
    for (guint i = 0; i < devs->len; i++) {
        DeviceState *d = g_ptr_array_index(devs, i);
        if (d->canonical_path && !strncmp(d->canonical_path, path, n) &&
            d->canonical_path[n] == '/') {
            return true;
        }
    }
    return false;
}

static void qom_add_prop(JsonArray *a, const char *name, const char *type)
{
    JsonObject *o = json_object_new();

    json_object_set_string_member(o, "name", name);
    json_object_set_string_member(o, "type", type);
    json_array_add_object_element(a, o);
}

static void qom_list_children(JsonArray *a, const char *path)
{
    GPtrArray *devs = qdev_all_devices();     /* the live list: not ours */
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    bool root = !strcmp(path, "/");
    size_t n = root ? 0 : strlen(path);

    if (root) {
        g_autofree char *mt = machine_type_name();
        g_autofree char *t = g_strdup_printf("child<%s>", mt);
        qom_add_prop(a, "machine", t);
        qom_add_prop(a, "chardevs", "child<container>");
        return;
    }
    if (!strcmp(path, "/chardevs")) {
        g_autoptr(GPtrArray) chrs = qemu_chr_list();
        for (guint i = 0; i < chrs->len; i++) {
            Chardev *c = g_ptr_array_index(chrs, i);
            g_autofree char *t = g_strdup_printf("child<chardev-%s>", c->klass->name);
            qom_add_prop(a, c->label, t);
        }
        return;
    }
    for (guint i = 0; i < devs->len; i++) {
        DeviceState *d = g_ptr_array_index(devs, i);
        const char *cp = d->canonical_path, *rest, *slash;
        g_autofree char *child = NULL, *type = NULL, *full = NULL;

        if (!cp || strncmp(cp, path, n) || cp[n] != '/') {
            continue;
        }
        rest = cp + n + 1;
        slash = strchr(rest, '/');
        child = slash ? g_strndup(rest, slash - rest) : g_strdup(rest);
        if (g_hash_table_contains(seen, child)) {
            continue;
        }
        full = g_strdup_printf("%s/%s", path, child);
        type = slash ? g_strdup("child<container>")
                     : g_strdup_printf("child<%s>", d->klass->name);
        if (slash) {
            /* A container unless a device lives at that very path. */
            for (guint j = 0; j < devs->len; j++) {
                DeviceState *e = g_ptr_array_index(devs, j);
                if (e->canonical_path && !strcmp(e->canonical_path, full)) {
                    g_free(type);
                    type = g_strdup_printf("child<%s>", e->klass->name);
                }
            }
        }
        qom_add_prop(a, child, type);
        g_hash_table_add(seen, g_steal_pointer(&child));
    }
}

JsonNode *qmp_qom_list(Monitor *mon, const QmpArgs_qom_list *args, Error **errp)
{
    DeviceState *dev = qom_find_device(args->path);
    JsonArray *a;

    if (!dev && !qom_is_container(args->path)) {
        error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Device '%s' not found", args->path);
        return NULL;
    }
    a = json_array_new();
    qom_add_prop(a, "type", "string");
    if (dev) {
        qom_add_prop(a, "realized", "bool");
        if (dev->parent_bus) {
            qom_add_prop(a, "parent_bus", "link<bus>");
        }
        for (const Property *p = dev->klass->props; p && p->name; p++) {
            g_autofree char *t = p->kind == PROP_LINK
                ? g_strdup_printf("link<%s>", p->link_type ? p->link_type : "device")
                : g_strdup(qdev_prop_type_name(p));
            qom_add_prop(a, p->name, t);
        }
        if (dev->canonical_path) {
            qom_list_children(a, dev->canonical_path);
        }
    } else {
        qom_list_children(a, args->path);
    }
    return qmp_node_array(a);
}

static JsonNode *prop_value(DeviceState *dev, const Property *p)
{
    g_autofree char *s = qdev_prop_format(dev, p);

    switch (p->kind) {
    case PROP_BOOL:
        return qmp_node_bool(s && (!strcmp(s, "on") || !strcmp(s, "true")));
    case PROP_UINT8: case PROP_UINT16: case PROP_UINT32: case PROP_UINT64: case PROP_SIZE: {
        JsonNode *n = qmp_node_int((int64_t)g_ascii_strtoull(s ? s : "0", NULL, 0));
        return n;
    }
    case PROP_INT32: case PROP_INT64:
        return qmp_node_int(g_ascii_strtoll(s ? s : "0", NULL, 0));
    default:
        return qmp_node_str(s ? s : "");
    }
}

JsonNode *qmp_qom_get(Monitor *mon, const QmpArgs_qom_get *args, Error **errp)
{
    DeviceState *dev = qom_find_device(args->path);
    const Property *p;

    if (!dev) {
        if (!qom_is_container(args->path)) {
            error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Device '%s' not found", args->path);
            return NULL;
        }
        if (!strcmp(args->property, "type")) {
            if (!strcmp(args->path, "/machine")) {
                g_autofree char *mt = machine_type_name();
                return qmp_node_str(mt);
            }
            return qmp_node_str("container");
        }
        g_autofree char *mt = machine_type_name();
        error_setg(errp, "Property '%s.%s' not found",
                   strcmp(args->path, "/machine") ? "container" : mt, args->property);
        return NULL;
    }
    if (!strcmp(args->property, "type")) {
        return qmp_node_str(dev->klass->name);
    }
    if (!strcmp(args->property, "realized")) {
        return qmp_node_bool(dev->realized);
    }
    p = qdev_prop_find(dev->klass, args->property);
    if (!p) {
        JsonNode *n = NULL;

        if (balloon_qom_get(dev, args->property, &n, errp)) {
            return n;           /* the balloon's guest-stats (monitor/balloon.c) */
        }
        error_setg(errp, "Property '%s.%s' not found", dev->klass->name, args->property);
        return NULL;
    }
    return prop_value(dev, p);
}

typedef struct TypeEntry {
    const char *name, *parent;
    bool abstract;
} TypeEntry;

static const TypeEntry base_types[] = {
    { "object", NULL, true },
    { "device", "object", true },
    { "sys-bus-device", "device", true },
    { "isa-device", "device", true },
    { "machine", "object", true },
    { "x86-machine", "machine", true },
    { "generic-pc-machine", "x86-machine", true },
    { "cpu", "device", true },
    { "x86_64-cpu", "cpu", true },
    { CPU_TYPE, "x86_64-cpu", false },
    { "container", "object", false },
    { "chardev", "object", true },
};

static const char *device_parent(const DeviceClass *dc)
{
    if (dc->bus_type && !strcmp(dc->bus_type, "ISA")) {
        return "isa-device";
    }
    if (dc->bus_type && !strcmp(dc->bus_type, "System")) {
        return "sys-bus-device";
    }
    return "device";
}

static const char *type_parent(const char *name)
{
    const DeviceClass *dc = device_class_find(name);

    if (dc) {
        return device_parent(dc);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(base_types); i++) {
        if (!strcmp(base_types[i].name, name)) {
            return base_types[i].parent;
        }
    }
    if (g_str_has_suffix(name, "-machine")) {
        return "generic-pc-machine";
    }
    if (g_str_has_prefix(name, "chardev-")) {
        return "chardev";
    }
    return NULL;
}

static bool type_implements(const char *name, const char *ancestor)
{
    for (const char *t = name; t; t = type_parent(t)) {
        if (!strcmp(t, ancestor)) {
            return true;
        }
    }
    return false;
}

static void add_type(JsonArray *a, const char *name, bool abstract, const QmpArgs_qom_list_types *args)
{
    JsonObject *o;
    const char *parent = type_parent(name);

    if (abstract && !(args->has_abstract && args->abstract)) {
        return;
    }
    if (args->has_implements && !type_implements(name, args->implements)) {
        return;
    }
    o = json_object_new();
    json_object_set_string_member(o, "name", name);
    if (abstract) {
        json_object_set_boolean_member(o, "abstract", true);
    }
    if (parent) {
        json_object_set_string_member(o, "parent", parent);
    }
    json_array_add_object_element(a, o);
}

JsonNode *qmp_qom_list_types(Monitor *mon, const QmpArgs_qom_list_types *args, Error **errp)
{
    g_autoptr(GPtrArray) devs = device_class_list();
    GPtrArray *machines = machine_class_list();     /* the live list */
    JsonArray *a = json_array_new();
    static const char *const chardevs[] = { "chardev-null", "chardev-stdio", "chardev-file",
                                            "chardev-pty", "chardev-socket", "chardev-mux" };

    for (size_t i = 0; i < G_N_ELEMENTS(base_types); i++) {
        add_type(a, base_types[i].name, base_types[i].abstract, args);
    }
    for (guint i = 0; i < devs->len; i++) {
        const DeviceClass *dc = g_ptr_array_index(devs, i);
        add_type(a, dc->name, false, args);
    }
    for (guint i = 0; i < machines->len; i++) {
        const MachineClass *mc = g_ptr_array_index(machines, i);
        g_autofree char *n = g_strdup_printf("%s-machine", mc->name);
        add_type(a, n, false, args);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(chardevs); i++) {
        add_type(a, chardevs[i], false, args);
    }
    return qmp_node_array(a);
}

JsonNode *qmp_device_list_properties(Monitor *mon, const QmpArgs_device_list_properties *args,
                                     Error **errp)
{
    const DeviceClass *dc = device_class_find(args->typename);
    JsonArray *a;

    if (!dc) {
        for (size_t i = 0; i < G_N_ELEMENTS(base_types); i++) {
            if (!strcmp(base_types[i].name, args->typename) && base_types[i].abstract) {
                error_setg(errp, "Parameter 'typename' expects a non-abstract device type");
                return NULL;
            }
        }
        error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Device '%s' not found", args->typename);
        return NULL;
    }
    a = json_array_new();
    for (const Property *p = dc->props; p && p->name; p++) {
        JsonObject *o = json_object_new();
        json_object_set_string_member(o, "name", p->name);
        json_object_set_string_member(o, "type", qdev_prop_type_name(p));
        if (p->description) {
            json_object_set_string_member(o, "description", p->description);
        }
        switch (p->kind) {
        case PROP_BOOL:
            json_object_set_boolean_member(o, "default-value", p->defval.b);
            break;
        case PROP_UINT8: case PROP_UINT16: case PROP_UINT32: case PROP_UINT64: case PROP_SIZE:
            json_object_set_int_member(o, "default-value", (int64_t)p->defval.u);
            break;
        case PROP_INT32: case PROP_INT64:
            json_object_set_int_member(o, "default-value", p->defval.i);
            break;
        case PROP_ENUM:
            if (p->enum_names) {
                json_object_set_string_member(o, "default-value", p->enum_names[p->defval.i]);
            }
            break;
        default:
            break;
        }
        json_array_add_object_element(a, o);
    }
    return qmp_node_array(a);
}

/* ---- memory ----------------------------------------------------------- */

JsonNode *qmp_memsave(Monitor *mon, const QmpArgs_memsave *args, Error **errp)
{
    int cpu = args->has_cpu_index ? (int)args->cpu_index : mon->cpu_index;

    monitor_save_memory(false, cpu, args->val, args->size, args->filename, errp);
    return NULL;
}

JsonNode *qmp_pmemsave(Monitor *mon, const QmpArgs_pmemsave *args, Error **errp)
{
    monitor_save_memory(true, 0, args->val, args->size, args->filename, errp);
    return NULL;
}

JsonNode *qmp_screendump(Monitor *mon, const QmpArgs_screendump *args, Error **errp)
{
    static const char *const formats[] = { "ppm", "png" };

    (void)mon;
    if (args->has_head && args->head != 0) {
        error_setg(errp, "screendump: head %" PRId64 " does not exist", args->head);
        return NULL;
    }
    qemu_console_screendump(args->filename,
                            args->has_format && args->format >= 0 && args->format < 2
                            ? formats[args->format] : "ppm", errp);
    return NULL;
}

JsonNode *qmp_human_monitor_command(Monitor *mon, const QmpArgs_human_monitor_command *args,
                                    Error **errp)
{
    Monitor hmp = { 0 };
    char *out;

    hmp.capture = g_string_new(NULL);
    hmp.cpu_index = args->has_cpu_index ? (int)args->cpu_index : 0;
    hmp.fds = mon->fds;
    if (args->has_cpu_index && !cpu_by_index(hmp.cpu_index)) {
        g_string_free(hmp.capture, TRUE);
        error_setg(errp, "Parameter 'cpu-index' expects a CPU number");
        return NULL;
    }
    hmp_handle_command(&hmp, args->command_line);
    out = g_string_free(hmp.capture, FALSE);
    JsonNode *n = qmp_node_str(out);
    g_free(out);
    return n;
}

/* ---- fds -------------------------------------------------------------- */

JsonNode *qmp_getfd(Monitor *mon, const QmpArgs_getfd *args, Error **errp)
{
    int fd = mon->capture ? -1 : qemu_chr_fe_get_msgfd(&mon->chr);
    gpointer old;

    if (fd < 0) {
        error_setg(errp, "No file descriptor supplied via SCM_RIGHTS");
        return NULL;
    }
    if (g_ascii_isdigit(args->fdname[0])) {
        close(fd);
        error_setg(errp, "Parameter 'fdname' expects a name not starting with a digit");
        return NULL;
    }
    if (g_hash_table_lookup_extended(mon->fds, args->fdname, NULL, &old)) {
        close(GPOINTER_TO_INT(old));
    }
    g_hash_table_insert(mon->fds, g_strdup(args->fdname), GINT_TO_POINTER(fd));
    return NULL;
}

int monitor_get_fd(Monitor *mon, const char *name, Error **errp)
{
    gpointer fd;

    if (!mon || !mon->fds || !g_hash_table_lookup_extended(mon->fds, name, NULL, &fd)) {
        error_setg(errp, "File descriptor named '%s' not found", name);
        return -1;
    }
    g_hash_table_remove(mon->fds, name);
    return GPOINTER_TO_INT(fd);
}

JsonNode *qmp_closefd(Monitor *mon, const QmpArgs_closefd *args, Error **errp)
{
    gpointer fd;

    if (!g_hash_table_lookup_extended(mon->fds, args->fdname, NULL, &fd)) {
        error_setg(errp, "File descriptor named '%s' not found", args->fdname);
        return NULL;
    }
    close(GPOINTER_TO_INT(fd));
    g_hash_table_remove(mon->fds, args->fdname);
    return NULL;
}

/* ---- chardevs --------------------------------------------------------- */

JsonNode *qmp_query_chardev(Monitor *mon, const QmpArgs_query_chardev *args, Error **errp)
{
    g_autoptr(GPtrArray) list = qemu_chr_list();
    JsonArray *a = json_array_new();

    for (guint i = 0; i < list->len; i++) {
        Chardev *c = g_ptr_array_index(list, i);
        JsonObject *o = json_object_new();
        json_object_set_string_member(o, "label", c->label);
        json_object_set_string_member(o, "filename", c->filename ? c->filename : "");
        json_object_set_boolean_member(o, "frontend-open", c->be != NULL);
        json_array_add_object_element(a, o);
    }
    return qmp_node_array(a);
}

/* Appends ",key=value" with QEMU option escaping (",," for ","). */
static void opt_add(GString *s, const char *key, const char *value)
{
    g_string_append_printf(s, ",%s=", key);
    for (const char *p = value; *p; p++) {
        if (*p == ',') {
            g_string_append_c(s, ',');
        }
        g_string_append_c(s, *p);
    }
}

static void opt_add_bool(GString *s, JsonObject *o, const char *key)
{
    if (json_object_has_member(o, key)) {
        opt_add(s, key, json_object_get_boolean_member(o, key) ? "on" : "off");
    }
}

static void opt_add_common(GString *s, JsonObject *d)
{
    if (json_object_has_member(d, "logfile")) {
        opt_add(s, "logfile", json_object_get_string_member(d, "logfile"));
    }
    opt_add_bool(s, d, "logappend");
}

JsonNode *qmp_chardev_add(Monitor *mon, const QmpArgs_chardev_add *args, Error **errp)
{
    JsonObject *b = json_node_get_object(args->backend);
    const char *type = json_object_get_string_member(b, "type");
    JsonObject *d = json_object_get_object_member(b, "data");
    g_autoptr(GString) s = g_string_new(type);
    JsonObject *ret;
    Chardev *chr;

    if (qemu_chr_find(args->id)) {
        error_setg(errp, "Chardev '%s' already exists", args->id);
        return NULL;
    }
    opt_add(s, "id", args->id);
    opt_add_common(s, d);
    if (!strcmp(type, "file")) {
        if (json_object_has_member(d, "in")) {
            error_setg(errp, "chardev-add: file 'in' is not supported");
            return NULL;
        }
        opt_add(s, "path", json_object_get_string_member(d, "out"));
        opt_add_bool(s, d, "append");
    } else if (!strcmp(type, "socket")) {
        JsonObject *addr = json_object_get_object_member(d, "addr");
        const char *atype = json_object_get_string_member(addr, "type");
        JsonObject *ad = json_object_get_object_member(addr, "data");
        if (!strcmp(atype, "unix")) {
            opt_add(s, "path", json_object_get_string_member(ad, "path"));
        } else {
            opt_add(s, "host", json_object_get_string_member(ad, "host"));
            opt_add(s, "port", json_object_get_string_member(ad, "port"));
            opt_add_bool(s, ad, "ipv4");
            opt_add_bool(s, ad, "ipv6");
        }
        /* QMP's defaults differ from -chardev's: server=off, wait=on. */
        opt_add_bool(s, d, "server");
        if (json_object_has_member(d, "server") && json_object_get_boolean_member(d, "server")) {
            opt_add(s, "wait", json_object_has_member(d, "wait") &&
                               json_object_get_boolean_member(d, "wait") ? "on" : "off");
        } else {
            opt_add_bool(s, d, "wait");
        }
        opt_add_bool(s, d, "nodelay");
        opt_add_bool(s, d, "telnet");
        if (json_object_has_member(d, "reconnect")) {
            g_autofree char *r = g_strdup_printf("%" G_GINT64_FORMAT,
                                                 json_object_get_int_member(d, "reconnect"));
            opt_add(s, "reconnect", r);
        }
    }
    chr = qemu_chr_new_from_opts(s->str, errp);
    if (!chr) {
        return NULL;
    }
    ret = json_object_new();
    if (!strcmp(type, "pty") && chr->filename) {
        const char *name = g_str_has_prefix(chr->filename, "pty:") ? chr->filename + 4
                                                                    : chr->filename;
        json_object_set_string_member(ret, "pty", name);
    }
    return qmp_node_object(ret);
}

JsonNode *qmp_chardev_remove(Monitor *mon, const QmpArgs_chardev_remove *args, Error **errp)
{
    Chardev *chr = qemu_chr_find(args->id);

    if (!chr) {
        error_setg(errp, "Chardev '%s' not found", args->id);
        return NULL;
    }
    if (chr->be) {
        error_setg(errp, "Chardev '%s' is busy", args->id);
        return NULL;
    }
    qemu_chr_delete(chr);
    return NULL;
}

/* ---- yank (the out-of-band command) ------------------------------------ */

JsonNode *qmp_query_yank(Monitor *mon, const QmpArgs_query_yank *args, Error **errp)
{
    /* No backend registers yank instances yet. */
    return qmp_node_array(json_array_new());
}

JsonNode *qmp_yank(Monitor *mon, const QmpArgs_yank *args, Error **errp)
{
    JsonArray *a = json_node_get_array(args->instances);

    if (json_array_get_length(a)) {
        error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Instance not found");
    }
    return NULL;
}

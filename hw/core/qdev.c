/*
 * The device model: class registry, -global, properties, realize/reset,
 * buses, GPIO lines and the instance tree.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "hw/qdev.h"
#include "qemu/option.h"
#include "chardev/char.h"

static GHashTable *classes;         /* name -> const DeviceClass* */
static GPtrArray *all_devices;      /* DeviceState*, creation order */
static GPtrArray *all_buses;
static GPtrArray *globals;          /* of Global* */
static unsigned anon_counter, unattached_counter;

typedef struct Global {
    char *driver, *prop, *value;
    bool used;
} Global;

void device_class_register(const DeviceClass *dc)
{
    if (!classes) {
        classes = g_hash_table_new(g_str_hash, g_str_equal);
    }
    g_assert(!g_hash_table_contains(classes, dc->name));
    g_hash_table_insert(classes, (gpointer)dc->name, (gpointer)dc);
}

const DeviceClass *device_class_find(const char *name)
{
    return classes ? g_hash_table_lookup(classes, name) : NULL;
}

static gint class_cmp(gconstpointer a, gconstpointer b)
{
    const DeviceClass *x = *(const DeviceClass *const *)a;
    const DeviceClass *y = *(const DeviceClass *const *)b;
    return strcmp(x->name, y->name);
}

GPtrArray *device_class_list(void)
{
    GPtrArray *arr = g_ptr_array_new();
    GHashTableIter it;
    gpointer v;

    if (classes) {
        g_hash_table_iter_init(&it, classes);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
            g_ptr_array_add(arr, v);
        }
    }
    g_ptr_array_sort(arr, class_cmp);
    return arr;
}

/* ---- -global ---------------------------------------------------------- */

bool qdev_add_global(const char *spec, Error **errp)
{
    const char *dot = strchr(spec, '.'), *eq = dot ? strchr(dot, '=') : NULL;
    Global *g;

    /* Also accepted: driver=D,property=P,value=V. */
    if (g_str_has_prefix(spec, "driver=")) {
        g_autoptr(GError) local = NULL;
        QemuOpts *o = qemu_opts_parse(spec, NULL, &local);
        if (!o) {
            error_setg(errp, "-global %s: %s", spec, local->message);
            return false;
        }
        const char *d = qemu_opt_get(o, "driver"), *p = qemu_opt_get(o, "property"),
                   *v = qemu_opt_get(o, "value");
        if (!d || !p || !v || !qemu_opts_check_unused(o, NULL)) {
            error_setg(errp, "-global %s: expected driver=D,property=P,value=V", spec);
            qemu_opts_free(o);
            return false;
        }
        g = g_new0(Global, 1);
        g->driver = g_strdup(d);
        g->prop = g_strdup(p);
        g->value = g_strdup(v);
        qemu_opts_free(o);
    } else {
        if (!dot || !eq || dot == spec || eq == dot + 1) {
            error_setg(errp, "-global %s: expected DRIVER.PROPERTY=VALUE", spec);
            return false;
        }
        g = g_new0(Global, 1);
        g->driver = g_strndup(spec, dot - spec);
        g->prop = g_strndup(dot + 1, eq - dot - 1);
        g->value = g_strdup(eq + 1);
    }
    const DeviceClass *dc = device_class_find(g->driver);
    if (!dc) {
        error_setg(errp, "-global %s: no device called '%s'", spec, g->driver);
        goto fail;
    }
    if (!qdev_prop_find(dc, g->prop)) {
        error_setg(errp, "-global %s: device '%s' has no property '%s'", spec, g->driver,
                   g->prop);
        goto fail;
    }
    if (!globals) {
        globals = g_ptr_array_new();
    }
    g_ptr_array_add(globals, g);
    return true;
fail:
    g_free(g->driver);
    g_free(g->prop);
    g_free(g->value);
    g_free(g);
    return false;
}

void qdev_clear_globals(void)
{
    if (!globals) {
        return;
    }
    for (guint i = 0; i < globals->len; i++) {
        Global *g = g_ptr_array_index(globals, i);
        g_free(g->driver);
        g_free(g->prop);
        g_free(g->value);
        g_free(g);
    }
    g_ptr_array_set_size(globals, 0);
}

/* ---- properties ------------------------------------------------------- */

const Property *qdev_prop_find(const DeviceClass *dc, const char *name)
{
    for (const Property *p = dc->props; p && p->name; p++) {
        if (!strcmp(p->name, name)) {
            return p;
        }
    }
    return NULL;
}

static void *prop_ptr(DeviceState *dev, const Property *p)
{
    return (uint8_t *)dev + p->offset;
}

static uint64_t prop_uint_max(PropertyKind k)
{
    switch (k) {
    case PROP_UINT8: return UINT8_MAX;
    case PROP_UINT16: return UINT16_MAX;
    case PROP_UINT32: return UINT32_MAX;
    default: return UINT64_MAX;
    }
}

static bool prop_store_uint(DeviceState *dev, const Property *p, uint64_t v, Error **errp)
{
    void *ptr = prop_ptr(dev, p);

    if (v > prop_uint_max(p->kind)) {
        error_setg(errp, "Property '%s.%s' doesn't take value %" PRIu64 " (maximum: %" PRIu64 ")",
                   dev->klass->name, p->name, v, prop_uint_max(p->kind));
        return false;
    }
    switch (p->kind) {
    case PROP_UINT8: *(uint8_t *)ptr = v; break;
    case PROP_UINT16: *(uint16_t *)ptr = v; break;
    case PROP_UINT32: *(uint32_t *)ptr = v; break;
    default: *(uint64_t *)ptr = v; break;
    }
    return true;
}

static void prop_set_default(DeviceState *dev, const Property *p)
{
    void *ptr = prop_ptr(dev, p);

    switch (p->kind) {
    case PROP_BOOL: *(bool *)ptr = p->defval.b; break;
    case PROP_UINT8: case PROP_UINT16: case PROP_UINT32: case PROP_UINT64: case PROP_SIZE:
        prop_store_uint(dev, p, p->defval.u, NULL);
        break;
    case PROP_INT32: *(int32_t *)ptr = p->defval.i; break;
    case PROP_INT64: *(int64_t *)ptr = p->defval.i; break;
    case PROP_ENUM: *(int *)ptr = p->defval.i; break;
    case PROP_STRING: *(char **)ptr = g_strdup(p->defval.s); break;
    case PROP_CHR: memset(ptr, 0, sizeof(CharBackend)); break;
    case PROP_LINK: *(DeviceState **)ptr = NULL; break;
    }
}

bool qdev_prop_parse(DeviceState *dev, const char *name, const char *value, Error **errp)
{
    const Property *p = qdev_prop_find(dev->klass, name);
    void *ptr;
    g_autoptr(GError) local = NULL;

    if (!p) {
        error_setg(errp, "Property '%s.%s' not found", dev->klass->name, name);
        return false;
    }
    if (dev->realized) {
        error_setg(errp, "Property '%s.%s' cannot be set after realize", dev->klass->name, name);
        return false;
    }
    ptr = prop_ptr(dev, p);
    switch (p->kind) {
    case PROP_BOOL:
        if (!parse_bool(name, value, ptr, &local)) {
            goto bad;
        }
        return true;
    case PROP_UINT8: case PROP_UINT16: case PROP_UINT32: case PROP_UINT64: {
        uint64_t v;
        if (!parse_uint(name, value, &v, &local)) {
            goto bad;
        }
        return prop_store_uint(dev, p, v, errp);
    }
    case PROP_SIZE: {
        uint64_t v;
        if (!parse_size(name, value, 0, &v, &local)) {
            goto bad;
        }
        return prop_store_uint(dev, p, v, errp);
    }
    case PROP_INT32: case PROP_INT64: {
        int64_t v;
        if (!parse_int(name, value, &v, &local)) {
            goto bad;
        }
        if (p->kind == PROP_INT32) {
            if (v < INT32_MIN || v > INT32_MAX) {
                error_setg(errp, "Property '%s.%s' doesn't take value %" PRId64,
                           dev->klass->name, name, v);
                return false;
            }
            *(int32_t *)ptr = v;
        } else {
            *(int64_t *)ptr = v;
        }
        return true;
    }
    case PROP_ENUM:
        for (int i = 0; p->enum_names[i]; i++) {
            if (!strcmp(p->enum_names[i], value)) {
                *(int *)ptr = i;
                return true;
            }
        }
        error_setg(errp, "Property '%s.%s' doesn't take value '%s'", dev->klass->name, name,
                   value);
        return false;
    case PROP_STRING:
        g_free(*(char **)ptr);
        *(char **)ptr = g_strdup(value);
        return true;
    case PROP_CHR: {
        Chardev *chr = qemu_chr_find(value);
        if (!chr) {
            error_setg(errp, "Property '%s.%s' can't find value '%s'", dev->klass->name, name,
                       value);
            return false;
        }
        return qemu_chr_fe_init(ptr, chr, errp);
    }
    case PROP_LINK: {
        DeviceState *target = qdev_find_by_path(value);
        if (!target) {
            error_setg(errp, "Property '%s.%s': device '%s' not found", dev->klass->name, name,
                       value);
            return false;
        }
        if (p->link_type && strcmp(target->klass->name, p->link_type)) {
            error_setg(errp, "Property '%s.%s': device '%s' is not a '%s'", dev->klass->name,
                       name, value, p->link_type);
            return false;
        }
        *(DeviceState **)ptr = target;
        return true;
    }
    }
bad:
    error_setg(errp, "Property '%s.%s': %s", dev->klass->name, name, local->message);
    return false;
}

bool qdev_prop_set_uint(DeviceState *dev, const char *name, uint64_t value, Error **errp)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%" PRIu64, value);
    return qdev_prop_parse(dev, name, buf, errp);
}

bool qdev_prop_set_bool(DeviceState *dev, const char *name, bool value, Error **errp)
{
    return qdev_prop_parse(dev, name, value ? "on" : "off", errp);
}

bool qdev_prop_set_string(DeviceState *dev, const char *name, const char *value, Error **errp)
{
    return qdev_prop_parse(dev, name, value, errp);
}

char *qdev_prop_format(DeviceState *dev, const Property *p)
{
    void *ptr = prop_ptr(dev, p);

    switch (p->kind) {
    case PROP_BOOL: return g_strdup(*(bool *)ptr ? "true" : "false");
    case PROP_UINT8: return g_strdup_printf("%u", *(uint8_t *)ptr);
    case PROP_UINT16: return g_strdup_printf("%u", *(uint16_t *)ptr);
    case PROP_UINT32: return g_strdup_printf("%u", *(uint32_t *)ptr);
    case PROP_UINT64: case PROP_SIZE: return g_strdup_printf("%" PRIu64, *(uint64_t *)ptr);
    case PROP_INT32: return g_strdup_printf("%d", *(int32_t *)ptr);
    case PROP_INT64: return g_strdup_printf("%" PRId64, *(int64_t *)ptr);
    case PROP_ENUM: return g_strdup(p->enum_names[*(int *)ptr]);
    case PROP_STRING: return g_strdup(*(char **)ptr ? *(char **)ptr : "");
    case PROP_CHR: {
        CharBackend *be = ptr;
        return g_strdup(be->chr ? be->chr->label : "");
    }
    case PROP_LINK: {
        DeviceState *t = *(DeviceState **)ptr;
        return g_strdup(t ? t->canonical_path : "");
    }
    }
    return g_strdup("");
}

const char *qdev_prop_type_name(const Property *p)
{
    switch (p->kind) {
    case PROP_BOOL: return "bool";
    case PROP_UINT8: return "uint8";
    case PROP_UINT16: return "uint16";
    case PROP_UINT32: return "uint32";
    case PROP_UINT64: return "uint64";
    case PROP_INT32: return "int32";
    case PROP_INT64: return "int64";
    case PROP_SIZE: return "size";
    case PROP_STRING: return "str";
    case PROP_CHR: return "str";
    case PROP_LINK: return "link";
    case PROP_ENUM: return "str";
    }
    return "?";
}

/* ---- instances -------------------------------------------------------- */

void qdev_claim(DeviceState *dev, DeviceResourceKind kind, uint64_t base, uint64_t size,
                unsigned flags)
{
    DeviceResource r = { .kind = kind, .base = base, .size = size, .flags = flags };

    g_array_append_val(dev->resources, r);
}

DeviceState *qdev_new(const char *type, Error **errp)
{
    const DeviceClass *dc = device_class_find(type);
    DeviceState *dev;

    if (!dc) {
        error_setg(errp, "'%s' is not a valid device model name", type);
        return NULL;
    }
    g_assert(dc->instance_size >= sizeof(DeviceState));
    dev = g_malloc0(dc->instance_size);
    dev->klass = dc;
    dev->child_buses = g_ptr_array_new();
    dev->gpios = g_ptr_array_new();
    dev->resources = g_array_new(FALSE, FALSE, sizeof(DeviceResource));
    for (const Property *p = dc->props; p && p->name; p++) {
        prop_set_default(dev, p);
    }
    for (guint i = 0; globals && i < globals->len; i++) {
        Global *g = g_ptr_array_index(globals, i);
        if (!strcmp(g->driver, type)) {
            g_autoptr(GError) local = NULL;
            if (!qdev_prop_parse(dev, g->prop, g->value, &local)) {
                error_setg(errp, "-global %s.%s=%s: %s", g->driver, g->prop, g->value,
                           local->message);
                qdev_free(dev);
                return NULL;
            }
            g->used = true;
        }
    }
    if (dc->instance_init) {
        dc->instance_init(dev);
    }
    if (!all_devices) {
        all_devices = g_ptr_array_new();
    }
    g_ptr_array_add(all_devices, dev);
    return dev;
}

void qdev_set_id(DeviceState *dev, const char *id)
{
    g_free(dev->id);
    dev->id = g_strdup(id);
}

void qdev_set_machine_child(DeviceState *dev, const char *name)
{
    g_free(dev->canonical_path);
    dev->canonical_path = g_strdup_printf("/machine/%s", name);
}

bool qdev_realize(DeviceState *dev, BusState *bus, Error **errp)
{
    const DeviceClass *dc = dev->klass;
    g_autoptr(GError) local = NULL;

    if (dev->realized) {
        return true;
    }
    if (dc->bus_type && (!bus || strcmp(bus->type, dc->bus_type))) {
        error_setg(errp, "Device '%s' needs a bus of type %s", dc->name, dc->bus_type);
        return false;
    }
    if (!dc->bus_type && bus) {
        bus = NULL;
    }
    if (!dev->canonical_path) {
        if (dev->id) {
            dev->canonical_path = g_strdup_printf("/machine/peripheral/%s", dev->id);
        } else if (dc->user_creatable) {
            dev->canonical_path = g_strdup_printf("/machine/peripheral-anon/device[%u]",
                                                  anon_counter++);
        } else {
            dev->canonical_path = g_strdup_printf("/machine/unattached/device[%u]",
                                                  unattached_counter++);
        }
    }
    dev->parent_bus = bus;
    if (bus) {
        g_ptr_array_add(bus->children, dev);
    }
    if (dc->realize) {
        dc->realize(dev, &local);
        if (local) {
            if (bus) {
                g_ptr_array_remove(bus->children, dev);
            }
            dev->parent_bus = NULL;
            if (dev->id) {
                error_setg(errp, "Device '%s' (id '%s'): %s", dc->name, dev->id, local->message);
            } else {
                error_setg(errp, "Device '%s': %s", dc->name, local->message);
            }
            return false;
        }
    }
    dev->realized = true;
    if (dc->reset) {
        dc->reset(dev);
    }
    return true;
}

void qdev_unrealize(DeviceState *dev)
{
    if (!dev->realized) {
        return;
    }
    for (guint i = 0; i < dev->child_buses->len; i++) {
        BusState *b = g_ptr_array_index(dev->child_buses, i);
        while (b->children->len) {
            qdev_free(g_ptr_array_index(b->children, b->children->len - 1));
        }
    }
    if (dev->klass->unrealize) {
        dev->klass->unrealize(dev);
    }
    if (dev->parent_bus) {
        g_ptr_array_remove(dev->parent_bus->children, dev);
        dev->parent_bus = NULL;
    }
    g_array_set_size(dev->resources, 0);
    dev->realized = false;
}

void qdev_free(DeviceState *dev)
{
    if (!dev) {
        return;
    }
    qdev_unrealize(dev);
    if (dev->klass->finalize) {
        dev->klass->finalize(dev);
    }
    for (const Property *p = dev->klass->props; p && p->name; p++) {
        if (p->kind == PROP_STRING) {
            g_free(*(char **)prop_ptr(dev, p));
        } else if (p->kind == PROP_CHR) {
            qemu_chr_fe_deinit(prop_ptr(dev, p));
        }
    }
    for (guint i = 0; i < dev->gpios->len; i++) {
        NamedGPIO *g = g_ptr_array_index(dev->gpios, i);
        for (int j = 0; j < g->n_in; j++) {
            qemu_free_irq(g->in[j]);
        }
        g_free(g->in);
        g_free(g->name);
        g_free(g);
    }
    g_ptr_array_free(dev->gpios, TRUE);
    g_array_free(dev->resources, TRUE);
    for (guint i = 0; i < dev->child_buses->len; i++) {
        BusState *b = g_ptr_array_index(dev->child_buses, i);
        g_ptr_array_remove(all_buses, b);
        g_ptr_array_free(b->children, TRUE);
        g_free(b->name);
        g_free(b);
    }
    g_ptr_array_free(dev->child_buses, TRUE);
    if (all_devices) {
        g_ptr_array_remove(all_devices, dev);
    }
    g_free(dev->id);
    g_free(dev->canonical_path);
    g_free(dev);
}

DeviceState *qdev_device_add(const char *optstr, Error **errp)
{
    g_autoptr(GError) local = NULL;
    QemuOpts *opts = qemu_opts_parse(optstr, "driver", &local);
    const char *driver, *id, *busname;
    const DeviceClass *dc;
    DeviceState *dev = NULL;
    BusState *bus = NULL;

    if (!opts) {
        error_setg(errp, "-device %s: %s", optstr, local->message);
        return NULL;
    }
    driver = qemu_opt_get(opts, "driver");
    if (!driver || !*driver) {
        error_setg(errp, "-device %s: parameter 'driver' is missing", optstr);
        goto out;
    }
    dc = device_class_find(driver);
    if (!dc) {
        error_setg(errp, "-device %s: '%s' is not a valid device model name", optstr, driver);
        goto out;
    }
    if (!dc->user_creatable) {
        error_setg(errp, "-device %s: Parameter 'driver' expects a pluggable device type",
                   optstr);
        goto out;
    }
    id = qemu_opt_get(opts, "id");
    if (id && !id_wellformed(id)) {
        /* The id becomes a QOM path component (/machine/peripheral/ID). */
        error_setg(errp, "-device %s: Parameter 'id' expects an identifier (letters, digits, "
                   "'-', '.', '_', starting with a letter)", optstr);
        goto out;
    }
    if (id && qdev_find_by_id(id)) {
        error_setg(errp, "-device %s: Duplicate device ID '%s'", optstr, id);
        goto out;
    }
    busname = qemu_opt_get(opts, "bus");
    if (dc->bus_type) {
        bus = qbus_find(busname ? busname : dc->bus_type);
        if (!bus || strcmp(bus->type, dc->bus_type)) {
            error_setg(errp, "-device %s: no %s bus found for device '%s'", optstr,
                       dc->bus_type, driver);
            goto out;
        }
    }
    dev = qdev_new(driver, &local);
    if (!dev) {
        error_setg(errp, "-device %s: %s", optstr, local->message);
        goto out;
    }
    qdev_set_id(dev, id);
    for (guint i = 0; i < opts->opts->len; i++) {
        QemuOpt *o = g_ptr_array_index(opts->opts, i);
        if (!strcmp(o->key, "driver") || !strcmp(o->key, "id") || !strcmp(o->key, "bus")) {
            continue;
        }
        if (!qdev_prop_parse(dev, o->key, o->value, &local)) {
            error_setg(errp, "-device %s: %s", optstr, local->message);
            goto fail;
        }
    }
    if (!qdev_realize(dev, bus, &local)) {
        error_setg(errp, "-device %s: %s", optstr, local->message);
        goto fail;
    }
    goto out;
fail:
    qdev_free(dev);
    dev = NULL;
out:
    qemu_opts_free(opts);
    return dev;
}

static const char *category_title[DEVICE_CATEGORY_MAX] = {
    [DEVICE_CATEGORY_MISC] = "Misc devices",
    [DEVICE_CATEGORY_BRIDGE] = "Controller/Bridge/Hub devices",
    [DEVICE_CATEGORY_STORAGE] = "Storage devices",
    [DEVICE_CATEGORY_NETWORK] = "Network devices",
    [DEVICE_CATEGORY_INPUT] = "Input devices",
    [DEVICE_CATEGORY_DISPLAY] = "Display devices",
    [DEVICE_CATEGORY_SOUND] = "Sound devices",
    [DEVICE_CATEGORY_USB] = "USB devices",
    [DEVICE_CATEGORY_CPU] = "CPU devices",
};

void qdev_print_device_list(GString *out)
{
    g_autoptr(GPtrArray) list = device_class_list();
    bool first = true;

    for (int cat = 0; cat < DEVICE_CATEGORY_MAX; cat++) {
        bool header = false;
        for (guint i = 0; i < list->len; i++) {
            const DeviceClass *dc = g_ptr_array_index(list, i);
            if ((int)dc->category != cat || !dc->user_creatable) {
                continue;
            }
            if (!header) {
                g_string_append_printf(out, "%s%s:\n", first ? "" : "\n", category_title[cat]);
                header = true;
                first = false;
            }
            g_string_append_printf(out, "name \"%s\"", dc->name);
            if (dc->bus_type) {
                g_string_append_printf(out, ", bus %s", dc->bus_type);
            }
            if (dc->desc) {
                g_string_append_printf(out, ", desc \"%s\"", dc->desc);
            }
            g_string_append_c(out, '\n');
        }
    }
}

bool qdev_print_device_props(GString *out, const char *name, Error **errp)
{
    const DeviceClass *dc = device_class_find(name);

    if (!dc) {
        error_setg(errp, "'%s' is not a valid device model name", name);
        return false;
    }
    if (!dc->props || !dc->props->name) {
        g_string_append_printf(out, "There are no options for %s.\n", name);
        return true;
    }
    g_string_append_printf(out, "%s options:\n", name);
    for (const Property *p = dc->props; p->name; p++) {
        g_autofree char *left = g_strdup_printf("%s=<%s>", p->name, p->kind == PROP_ENUM ? "enum" : qdev_prop_type_name(p));
        g_string_append_printf(out, "  %-22s -%s%s", left,
                               p->description ? " " : "", p->description ? p->description : "");
        switch (p->kind) {
        case PROP_BOOL:
            g_string_append_printf(out, " (default: %s)", p->defval.b ? "true" : "false");
            break;
        case PROP_UINT8: case PROP_UINT16: case PROP_UINT32: case PROP_UINT64: case PROP_SIZE:
            g_string_append_printf(out, " (default: %" PRIu64 ")", p->defval.u);
            break;
        case PROP_INT32: case PROP_INT64:
            g_string_append_printf(out, " (default: %" PRId64 ")", p->defval.i);
            break;
        case PROP_ENUM:
            g_string_append_printf(out, " (default: \"%s\")", p->enum_names[p->defval.i]);
            break;
        default:
            break;
        }
        g_string_append_c(out, '\n');
    }
    return true;
}

DeviceState *qdev_find_by_id(const char *id)
{
    for (guint i = 0; all_devices && i < all_devices->len; i++) {
        DeviceState *d = g_ptr_array_index(all_devices, i);
        if (d->id && !strcmp(d->id, id)) {
            return d;
        }
    }
    return NULL;
}

DeviceState *qdev_find_by_path(const char *path)
{
    DeviceState *found = NULL;
    int matches = 0;

    for (guint i = 0; all_devices && i < all_devices->len; i++) {
        DeviceState *d = g_ptr_array_index(all_devices, i);
        if (d->canonical_path && !strcmp(d->canonical_path, path)) {
            return d;
        }
    }
    if (strchr(path, '/') == NULL) {
        DeviceState *byid = qdev_find_by_id(path);
        if (byid) {
            return byid;
        }
    }
    /* A partial path: unique match of the trailing components. */
    for (guint i = 0; all_devices && i < all_devices->len; i++) {
        DeviceState *d = g_ptr_array_index(all_devices, i);
        const char *cp = d->canonical_path;
        size_t lc, lp = strlen(path);
        if (!cp) {
            continue;
        }
        lc = strlen(cp);
        if (lc > lp && !strcmp(cp + lc - lp, path) && cp[lc - lp - 1] == '/') {
            found = d;
            matches++;
        }
    }
    return matches == 1 ? found : NULL;
}

GPtrArray *qdev_all_devices(void)
{
    if (!all_devices) {
        all_devices = g_ptr_array_new();
    }
    return all_devices;
}

void qdev_reset(DeviceState *dev)
{
    for (guint i = 0; i < dev->child_buses->len; i++) {
        BusState *b = g_ptr_array_index(dev->child_buses, i);
        for (guint j = 0; j < b->children->len; j++) {
            qdev_reset(g_ptr_array_index(b->children, j));
        }
    }
    if (dev->realized && dev->klass->reset) {
        dev->klass->reset(dev);
    }
}

void qdev_reset_all(void)
{
    /* Devices on a bus are reset by their bus's parent; start from roots. */
    for (guint i = 0; all_devices && i < all_devices->len; i++) {
        DeviceState *d = g_ptr_array_index(all_devices, i);
        if (!d->parent_bus || !d->parent_bus->parent) {
            qdev_reset(d);
        }
    }
}

/* ---- buses ------------------------------------------------------------ */

BusState *qbus_new(const char *type, DeviceState *parent, const char *name)
{
    BusState *b = g_new0(BusState, 1);

    b->type = type;
    b->name = g_strdup(name);
    b->parent = parent;
    b->children = g_ptr_array_new();
    if (parent) {
        g_ptr_array_add(parent->child_buses, b);
    }
    if (!all_buses) {
        all_buses = g_ptr_array_new();
    }
    g_ptr_array_add(all_buses, b);
    return b;
}

BusState *qbus_find(const char *name)
{
    for (guint i = 0; all_buses && i < all_buses->len; i++) {
        BusState *b = g_ptr_array_index(all_buses, i);
        if (!strcmp(b->name, name)) {
            return b;
        }
    }
    for (guint i = 0; all_buses && i < all_buses->len; i++) {
        BusState *b = g_ptr_array_index(all_buses, i);
        if (!strcmp(b->type, name)) {
            return b;
        }
    }
    return NULL;
}

/* ---- GPIO ------------------------------------------------------------- */

NamedGPIO *qdev_get_named_gpio(DeviceState *dev, const char *name)
{
    for (guint i = 0; i < dev->gpios->len; i++) {
        NamedGPIO *g = g_ptr_array_index(dev->gpios, i);
        if (g_strcmp0(g->name, name) == 0) {
            return g;
        }
    }
    return NULL;
}

void qdev_init_gpio_in_named(DeviceState *dev, qemu_irq_handler handler, const char *name, int n)
{
    NamedGPIO *g = qdev_get_named_gpio(dev, name);
    int old;

    if (!g) {
        g = g_new0(NamedGPIO, 1);
        g->name = g_strdup(name);
        g_ptr_array_add(dev->gpios, g);
    }
    old = g->n_in;
    g->in = g_renew(qemu_irq, g->in, old + n);
    for (int i = 0; i < n; i++) {
        g->in[old + i] = qemu_allocate_irq(handler, dev, old + i);
    }
    g->n_in += n;
}

static NamedGPIO *qdev_get_or_add_named_gpio(DeviceState *dev, const char *name)
{
    NamedGPIO *g = qdev_get_named_gpio(dev, name);

    if (!g) {
        g = g_new0(NamedGPIO, 1);
        g->name = g_strdup(name);
        g_ptr_array_add(dev->gpios, g);
    }
    return g;
}

void qdev_init_gpio_out_named(DeviceState *dev, qemu_irq *pins, const char *name, int n)
{
    NamedGPIO *g = qdev_get_or_add_named_gpio(dev, name);

    g_assert(g->n_out == 0 || g->out == pins);  /* one array of output fields per name */
    g->out = pins;
    g->n_out = n;
}

void qdev_connect_gpio_out_named(DeviceState *dev, const char *name, int n, qemu_irq irq)
{
    NamedGPIO *g = qdev_get_named_gpio(dev, name);

    g_assert(g && n >= 0 && n < g->n_out);
    g->out[n] = irq;
}

qemu_irq qdev_get_gpio_in_named(DeviceState *dev, const char *name, int n)
{
    NamedGPIO *g = qdev_get_named_gpio(dev, name);

    if (!g || n < 0 || n >= g->n_in) {
        return NULL;
    }
    return g->in[n];
}

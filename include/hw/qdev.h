/*
 * The device model.
 *
 * A DeviceClass describes a kind of device: its name, the bus it plugs
 * into, its properties, its migratable state and its life cycle
 * (instance_init -> properties set -> realize -> reset ... -> unrealize).
 * A device file defines one DeviceClass and registers it with
 * DEVICE_CLASS_REGISTER(); nothing central lists devices.
 *
 * A DeviceState is an instance; the device's own state struct embeds it as
 * its first member, so `(MyState *)dev` and `&s->parent` convert.
 * Instances live in a tree (QOM paths such as /machine/peripheral/net0 or
 * /machine/unattached/device[3]) that qom-list and `info qtree` show.
 */
#ifndef KVMPC_HW_QDEV_H
#define KVMPC_HW_QDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>
#include "qemu/error.h"
#include "hw/irq.h"
#include "hw/vmstate.h"

typedef struct DeviceState DeviceState;
typedef struct DeviceClass DeviceClass;
typedef struct BusState BusState;
typedef struct Property Property;
typedef struct PlatformDesc PlatformDesc;

typedef enum PropertyKind {
    PROP_BOOL,
    PROP_UINT8,
    PROP_UINT16,
    PROP_UINT32,
    PROP_UINT64,
    PROP_INT32,
    PROP_INT64,
    PROP_SIZE,          /* uint64_t, accepts suffixes: 64K, 1M, 2G */
    PROP_STRING,        /* char *, owned by the device */
    PROP_CHR,           /* CharBackend, set from a chardev id */
    PROP_LINK,          /* DeviceState *, set from a device id or QOM path */
    PROP_ENUM,          /* int, one of prop->enum_names[] */
} PropertyKind;

struct Property {
    const char *name;
    PropertyKind kind;
    size_t offset;
    union {
        uint64_t u;
        int64_t i;
        bool b;
        const char *s;
    } defval;
    const char *const *enum_names;  /* PROP_ENUM: NULL-terminated */
    const char *link_type;          /* PROP_LINK: required class name (or NULL) */
    const char *description;
};

#define DEFINE_PROP_(n, S, f, k, T, ...) \
    { .name = (n), .kind = (k), .offset = offsetof(S, f) + 0 * sizeof(&((S *)0)->f == (T *)0), \
      __VA_ARGS__ }
#define DEFINE_PROP_BOOL(n, S, f, d)   DEFINE_PROP_(n, S, f, PROP_BOOL, bool, .defval.b = (d))
#define DEFINE_PROP_UINT8(n, S, f, d)  DEFINE_PROP_(n, S, f, PROP_UINT8, uint8_t, .defval.u = (d))
#define DEFINE_PROP_UINT16(n, S, f, d) DEFINE_PROP_(n, S, f, PROP_UINT16, uint16_t, .defval.u = (d))
#define DEFINE_PROP_UINT32(n, S, f, d) DEFINE_PROP_(n, S, f, PROP_UINT32, uint32_t, .defval.u = (d))
#define DEFINE_PROP_UINT64(n, S, f, d) DEFINE_PROP_(n, S, f, PROP_UINT64, uint64_t, .defval.u = (d))
#define DEFINE_PROP_INT32(n, S, f, d)  DEFINE_PROP_(n, S, f, PROP_INT32, int32_t, .defval.i = (d))
#define DEFINE_PROP_INT64(n, S, f, d)  DEFINE_PROP_(n, S, f, PROP_INT64, int64_t, .defval.i = (d))
#define DEFINE_PROP_SIZE(n, S, f, d)   DEFINE_PROP_(n, S, f, PROP_SIZE, uint64_t, .defval.u = (d))
#define DEFINE_PROP_STRING(n, S, f)    DEFINE_PROP_(n, S, f, PROP_STRING, char *, .defval.s = NULL)
#define DEFINE_PROP_CHR(n, S, f)       DEFINE_PROP_(n, S, f, PROP_CHR, CharBackend, .defval.s = NULL)
#define DEFINE_PROP_LINK(n, S, f, type) \
    DEFINE_PROP_(n, S, f, PROP_LINK, DeviceState *, .link_type = (type))
#define DEFINE_PROP_ENUM(n, S, f, names, d) \
    DEFINE_PROP_(n, S, f, PROP_ENUM, int, .enum_names = (names), .defval.i = (d))
#define DEFINE_PROP_END_OF_LIST() { .name = NULL }

typedef enum DeviceCategory {
    DEVICE_CATEGORY_MISC,
    DEVICE_CATEGORY_BRIDGE,
    DEVICE_CATEGORY_STORAGE,
    DEVICE_CATEGORY_NETWORK,
    DEVICE_CATEGORY_INPUT,
    DEVICE_CATEGORY_DISPLAY,
    DEVICE_CATEGORY_SOUND,
    DEVICE_CATEGORY_USB,
    DEVICE_CATEGORY_CPU,
    DEVICE_CATEGORY_MAX
} DeviceCategory;

struct DeviceClass {
    const char *name;           /* "isa-serial" */
    const char *desc;
    const char *bus_type;       /* "ISA", "System", "PCI"... or NULL: no bus */
    DeviceCategory category;
    bool user_creatable;        /* may be given to -device */
    size_t instance_size;       /* of the device's state struct */
    const Property *props;      /* NULL or terminated by DEFINE_PROP_END_OF_LIST */
    const VMStateDescription *vmsd;
    /* No migratable state although the instance is bigger than DeviceState
     * (only properties and memory regions, say): say why beside it.  A
     * class with neither vmsd nor this fails tests/unit/test-vmstate-coverage. */
    bool stateless;
    void (*instance_init)(DeviceState *dev);
    void (*realize)(DeviceState *dev, Error **errp);
    void (*unrealize)(DeviceState *dev);
    void (*reset)(DeviceState *dev);
    void (*finalize)(DeviceState *dev);
    /* Self-description (optional): what the machine's table builders and
     * fw_cfg should say about this device -- its ACPI node, FADT/MADT
     * facts, fw_cfg files, boot order entry (include/hw/platform-desc.h).
     * Called on realized devices, at every table build. */
    void (*describe)(DeviceState *dev, PlatformDesc *pd);
};

/* What a device claims, recorded as it realizes (isa_register_ioport and
 * isa_claim_irq do it for ISA devices) and dropped when it unrealizes.
 * The table builders read the claims (a device's _CRS, the interrupt
 * source overrides for level-triggered ISA IRQs). */
typedef enum DeviceResourceKind {
    DEV_RES_IO,
    DEV_RES_MMIO,
    DEV_RES_IRQ,        /* base = ISA IRQ / GSI, size 1 */
} DeviceResourceKind;
#define DEV_RES_IRQ_LEVEL       0x1u    /* level triggered (else edge) */
#define DEV_RES_IRQ_ACTIVE_LOW  0x2u    /* (else active high) */

typedef struct DeviceResource {
    DeviceResourceKind kind;
    uint64_t base, size;
    unsigned flags;
} DeviceResource;

typedef struct NamedGPIO {
    char *name;                 /* NULL: the unnamed list */
    qemu_irq *in;               /* inputs the device handles */
    int n_in;
    qemu_irq *out;              /* the device's own output fields (out[0..n_out-1]) */
    int n_out;
} NamedGPIO;

struct DeviceState {
    const DeviceClass *klass;
    char *id;                   /* -device ...,id=X (NULL if none) */
    char *canonical_path;       /* /machine/... */
    BusState *parent_bus;
    GPtrArray *child_buses;     /* BusState* */
    GPtrArray *gpios;           /* NamedGPIO* */
    GArray *resources;          /* DeviceResource: what it claims */
    bool realized;
};

struct BusState {
    const char *type;           /* "ISA", "System", ... */
    char *name;                 /* "isa.0" */
    DeviceState *parent;        /* NULL for the machine's main system bus */
    GPtrArray *children;        /* DeviceState*, in realize order */
};

#define DEVICE(obj) ((DeviceState *)(obj))

/* Class registry. */
void device_class_register(const DeviceClass *dc);
const DeviceClass *device_class_find(const char *name);
/* All classes sorted by name. Free the array (not the elements). */
GPtrArray *device_class_list(void);
#define DEVICE_CLASS_REGISTER(dc) \
    static void __attribute__((constructor)) dc##_register_(void) { device_class_register(&(dc)); }

/* -global DRIVER.PROP=VALUE, applied by qdev_new() before instance props. */
bool qdev_add_global(const char *spec, Error **errp);
void qdev_clear_globals(void);

/* Instances. */
DeviceState *qdev_new(const char *type, Error **errp);
void qdev_set_id(DeviceState *dev, const char *id);
bool qdev_prop_parse(DeviceState *dev, const char *name, const char *value, Error **errp);
bool qdev_prop_set_uint(DeviceState *dev, const char *name, uint64_t value, Error **errp);
bool qdev_prop_set_bool(DeviceState *dev, const char *name, bool value, Error **errp);
bool qdev_prop_set_string(DeviceState *dev, const char *name, const char *value, Error **errp);
/* Formats a property's current value as a string (g_free it). */
char *qdev_prop_format(DeviceState *dev, const Property *prop);
const Property *qdev_prop_find(const DeviceClass *dc, const char *name);
/* The QOM type name of a property's value ("bool", "uint32", "str"...). */
const char *qdev_prop_type_name(const Property *p);
/* Attaches to bus (may be NULL for bus-less devices) and realizes.  On
 * failure the error names the device; the device stays unrealized. */
bool qdev_realize(DeviceState *dev, BusState *bus, Error **errp);
void qdev_unrealize(DeviceState *dev);
/* Unrealize if needed, detach and free. */
void qdev_free(DeviceState *dev);
/* Create from a -device option string ("isa-serial,chardev=s0,id=com1"). */
DeviceState *qdev_device_add(const char *optstr, Error **errp);
/* Human help for `-device help` / `-device NAME,help`. */
void qdev_print_device_list(GString *out);
bool qdev_print_device_props(GString *out, const char *name, Error **errp);

DeviceState *qdev_find_by_id(const char *id);
/* Full path, unique last path component, or id. */
DeviceState *qdev_find_by_path(const char *path);
/* Every live device, in creation order. */
GPtrArray *qdev_all_devices(void);
/* Resets every realized device (children before parents). */
void qdev_reset_all(void);
void qdev_reset(DeviceState *dev);

/* Claims (see DeviceResource). */
void qdev_claim(DeviceState *dev, DeviceResourceKind kind, uint64_t base, uint64_t size,
                unsigned flags);
static inline guint qdev_resource_count(const DeviceState *dev)
{
    return dev->resources ? dev->resources->len : 0;
}
static inline const DeviceResource *qdev_resource(const DeviceState *dev, guint i)
{
    return &g_array_index(dev->resources, DeviceResource, i);
}

/* Buses. */
BusState *qbus_new(const char *type, DeviceState *parent, const char *name);
BusState *qbus_find(const char *name);      /* by name, or first of type */

/* GPIO lines. */
void qdev_init_gpio_in_named(DeviceState *dev, qemu_irq_handler handler, const char *name, int n);
static inline void qdev_init_gpio_in(DeviceState *dev, qemu_irq_handler handler, int n)
{
    qdev_init_gpio_in_named(dev, handler, NULL, n);
}
qemu_irq qdev_get_gpio_in_named(DeviceState *dev, const char *name, int n);
static inline qemu_irq qdev_get_gpio_in(DeviceState *dev, int n)
{
    return qdev_get_gpio_in_named(dev, NULL, n);
}
NamedGPIO *qdev_get_named_gpio(DeviceState *dev, const char *name);
/* Outputs: the device raises its own qemu_irq fields pins[0..n-1]; the
 * machine connects each to another device's input (unconnected: NULL,
 * raising it does nothing).  Connect before the line is first driven. */
void qdev_init_gpio_out_named(DeviceState *dev, qemu_irq *pins, const char *name, int n);
static inline void qdev_init_gpio_out(DeviceState *dev, qemu_irq *pins, int n)
{
    qdev_init_gpio_out_named(dev, pins, NULL, n);
}
void qdev_connect_gpio_out_named(DeviceState *dev, const char *name, int n, qemu_irq irq);
static inline void qdev_connect_gpio_out(DeviceState *dev, int n, qemu_irq irq)
{
    qdev_connect_gpio_out_named(dev, NULL, n, irq);
}

/* Machine-wide instance tree: name -> path helpers for devices created by the
 * machine (not -device): put under /machine/<name>. */
void qdev_set_machine_child(DeviceState *dev, const char *name);

#endif

/* The device model (hw/core/qdev.c): properties, -global, -device, buses, reset, GPIO. */
#include <string.h>
#include <glib.h>
#include "hw/qdev.h"
#include "chardev/char.h"

/* ---- test device classes ------------------------------------------------ */

static GString *reset_log;

typedef struct TQBridge {
    DeviceState parent;
    BusState *bus;
} TQBridge;

static void tq_bridge_init(DeviceState *dev)
{
    TQBridge *s = (TQBridge *)dev;
    s->bus = qbus_new("TQ", dev, "tq.0");
}

static void tq_log_reset(DeviceState *dev)
{
    g_string_append_printf(reset_log, "%s;", dev->id ? dev->id : dev->klass->name);
}

static const DeviceClass tq_bridge_class = {
    .name = "tq-bridge",
    .desc = "test bridge",
    .category = DEVICE_CATEGORY_BRIDGE,
    .user_creatable = false,
    .instance_size = sizeof(TQBridge),
    .instance_init = tq_bridge_init,
    .reset = tq_log_reset,
};

enum { MODE_OFF, MODE_SLOW, MODE_FAST };
static const char *const tq_modes[] = { "off", "slow", "fast", NULL };

typedef struct TQDev {
    DeviceState parent;
    bool flag;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    int32_t i32;
    int64_t i64;
    uint64_t size;
    char *str;
    int mode;
    DeviceState *peer;
    CharBackend chr;
    bool fail;
    int realized_count;
} TQDev;

static const Property tq_dev_props[] = {
    DEFINE_PROP_BOOL("flag", TQDev, flag, true),
    DEFINE_PROP_UINT8("u8", TQDev, u8, 5),
    DEFINE_PROP_UINT16("u16", TQDev, u16, 0x1234),
    DEFINE_PROP_UINT32("u32", TQDev, u32, 0xdeadbeef),
    DEFINE_PROP_UINT64("u64", TQDev, u64, 1ULL << 40),
    DEFINE_PROP_INT32("i32", TQDev, i32, -7),
    DEFINE_PROP_INT64("i64", TQDev, i64, -(1LL << 40)),
    DEFINE_PROP_SIZE("size", TQDev, size, 64 * 1024),
    DEFINE_PROP_STRING("str", TQDev, str),
    DEFINE_PROP_ENUM("mode", TQDev, mode, tq_modes, MODE_SLOW),
    DEFINE_PROP_LINK("peer", TQDev, peer, "tq-sys"),
    DEFINE_PROP_CHR("chardev", TQDev, chr),
    DEFINE_PROP_BOOL("fail", TQDev, fail, false),
    DEFINE_PROP_END_OF_LIST(),
};

static void tq_dev_realize(DeviceState *dev, Error **errp)
{
    TQDev *s = (TQDev *)dev;

    if (s->fail) {
        error_setg(errp, "told to fail");
        return;
    }
    s->realized_count++;
}

static const DeviceClass tq_dev_class = {
    .name = "tq-dev",
    .desc = "test device",
    .bus_type = "TQ",
    .category = DEVICE_CATEGORY_MISC,
    .user_creatable = true,
    .instance_size = sizeof(TQDev),
    .props = tq_dev_props,
    .realize = tq_dev_realize,
    .reset = tq_log_reset,
};

typedef struct TQSys {
    DeviceState parent;
    int levels[4];
    int ctl_level;
    int ctl_n;
} TQSys;

static void tq_sys_irq(void *opaque, int n, int level)
{
    TQSys *s = opaque;
    g_assert_cmpint(n, <, 4);
    s->levels[n] = level;
}

static void tq_sys_ctl(void *opaque, int n, int level)
{
    TQSys *s = opaque;
    s->ctl_n = n;
    s->ctl_level = level;
}

static void tq_sys_init(DeviceState *dev)
{
    qdev_init_gpio_in(dev, tq_sys_irq, 2);
    qdev_init_gpio_in_named(dev, tq_sys_ctl, "ctl", 1);
    qdev_init_gpio_in(dev, tq_sys_irq, 2);     /* extends the unnamed list to 4 */
}

static const DeviceClass tq_sys_class = {
    .name = "tq-sys",
    .category = DEVICE_CATEGORY_MISC,
    .user_creatable = true,
    .instance_size = sizeof(TQSys),
    .instance_init = tq_sys_init,
    .reset = tq_log_reset,
};

typedef struct TQNoProps {
    DeviceState parent;
} TQNoProps;

static const DeviceClass tq_noprops_class = {
    .name = "tq-noprops",
    .category = DEVICE_CATEGORY_INPUT,
    .user_creatable = true,
    .instance_size = sizeof(TQNoProps),
};

static const DeviceClass tq_nouser_class = {
    .name = "tq-nouser",
    .category = DEVICE_CATEGORY_MISC,
    .user_creatable = false,
    .instance_size = sizeof(TQNoProps),
};

/* ---- helpers -------------------------------------------------------------- */

static TQBridge *bridge;

static void assert_err(GError *err, const char *s1, const char *s2)
{
    g_assert_nonnull(err);
    if (s1 && !strstr(err->message, s1)) {
        g_error("error '%s' does not mention '%s'", err->message, s1);
    }
    if (s2 && !strstr(err->message, s2)) {
        g_error("error '%s' does not mention '%s'", err->message, s2);
    }
}

static char *fmt(DeviceState *dev, const char *name)
{
    return qdev_prop_format(dev, qdev_prop_find(dev->klass, name));
}

static void free_all_test_devices(void)
{
    GPtrArray *all = qdev_all_devices();
    for (guint i = all->len; i-- > 0;) {
        DeviceState *d = g_ptr_array_index(all, i);
        if (g_str_has_prefix(d->klass->name, "tq-") && (DeviceState *)bridge != d) {
            qdev_free(d);
            i = MIN(i, all->len);
        }
    }
}

/* ---- tests ---------------------------------------------------------------- */

static void test_defaults(void)
{
    DeviceState *dev = qdev_new("tq-dev", NULL);
    TQDev *s = (TQDev *)dev;
    g_autofree char *f1 = NULL, *f2 = NULL, *f3 = NULL, *f4 = NULL;

    g_assert_nonnull(dev);
    g_assert_true(s->flag);
    g_assert_cmpuint(s->u8, ==, 5);
    g_assert_cmpuint(s->u16, ==, 0x1234);
    g_assert_cmpuint(s->u32, ==, 0xdeadbeef);
    g_assert_cmpuint(s->u64, ==, 1ULL << 40);
    g_assert_cmpint(s->i32, ==, -7);
    g_assert_cmpint(s->i64, ==, -(1LL << 40));
    g_assert_cmpuint(s->size, ==, 65536);
    g_assert_null(s->str);
    g_assert_cmpint(s->mode, ==, MODE_SLOW);
    g_assert_null(s->peer);
    g_assert_null(s->chr.chr);
    g_assert_false(dev->realized);
    f1 = fmt(dev, "flag");
    f2 = fmt(dev, "i32");
    f3 = fmt(dev, "mode");
    f4 = fmt(dev, "u32");
    g_assert_cmpstr(f1, ==, "true");
    g_assert_cmpstr(f2, ==, "-7");
    g_assert_cmpstr(f3, ==, "slow");
    g_assert_cmpstr(f4, ==, "3735928559");
    g_assert_null(qdev_new("tq-nosuch", NULL));
    qdev_free(dev);
}

static void test_parse(void)
{
    DeviceState *dev = qdev_new("tq-dev", NULL);
    TQDev *s = (TQDev *)dev;

    g_assert_true(qdev_prop_parse(dev, "flag", "off", NULL));
    g_assert_false(s->flag);
    g_assert_true(qdev_prop_parse(dev, "flag", "on", NULL));
    g_assert_true(s->flag);
    g_assert_true(qdev_prop_set_bool(dev, "flag", false, NULL));
    g_assert_false(s->flag);
    g_assert_true(qdev_prop_parse(dev, "u8", "255", NULL));
    g_assert_cmpuint(s->u8, ==, 255);
    g_assert_true(qdev_prop_parse(dev, "u8", "0x10", NULL));
    g_assert_cmpuint(s->u8, ==, 16);
    g_assert_true(qdev_prop_parse(dev, "u16", "65535", NULL));
    g_assert_cmpuint(s->u16, ==, 65535);
    g_assert_true(qdev_prop_parse(dev, "u32", "4294967295", NULL));
    g_assert_cmpuint(s->u32, ==, UINT32_MAX);
    g_assert_true(qdev_prop_parse(dev, "u64", "18446744073709551615", NULL));
    g_assert_cmpuint(s->u64, ==, UINT64_MAX);
    g_assert_true(qdev_prop_set_uint(dev, "u64", 42, NULL));
    g_assert_cmpuint(s->u64, ==, 42);
    g_assert_true(qdev_prop_parse(dev, "i32", "-2147483648", NULL));
    g_assert_cmpint(s->i32, ==, INT32_MIN);
    g_assert_true(qdev_prop_parse(dev, "i32", "2147483647", NULL));
    g_assert_cmpint(s->i32, ==, INT32_MAX);
    g_assert_true(qdev_prop_parse(dev, "i64", "-9223372036854775808", NULL));
    g_assert_cmpint(s->i64, ==, INT64_MIN);
    g_assert_true(qdev_prop_parse(dev, "size", "2G", NULL));
    g_assert_cmpuint(s->size, ==, 2ULL << 30);
    g_assert_true(qdev_prop_parse(dev, "size", "64K", NULL));
    g_assert_cmpuint(s->size, ==, 65536);
    g_assert_true(qdev_prop_parse(dev, "size", "4096", NULL));
    g_assert_cmpuint(s->size, ==, 4096);
    g_assert_true(qdev_prop_set_string(dev, "str", "hello", NULL));
    g_assert_cmpstr(s->str, ==, "hello");
    g_assert_true(qdev_prop_set_string(dev, "str", "a,b", NULL));
    g_assert_cmpstr(s->str, ==, "a,b");
    g_assert_true(qdev_prop_parse(dev, "mode", "fast", NULL));
    g_assert_cmpint(s->mode, ==, MODE_FAST);
    g_assert_true(qdev_prop_parse(dev, "mode", "off", NULL));
    g_assert_cmpint(s->mode, ==, MODE_OFF);

    /* chardev property */
    g_autoptr(GError) err = NULL;
    Chardev *chr = qemu_chr_new("tq-chr0", "null", &err);
    g_assert_no_error(err);
    g_assert_nonnull(chr);
    g_assert_true(qdev_prop_parse(dev, "chardev", "tq-chr0", &err));
    g_assert_no_error(err);
    g_assert_true(s->chr.chr == chr);
    g_autofree char *f = fmt(dev, "chardev");
    g_assert_cmpstr(f, ==, "tq-chr0");
    g_assert_false(qdev_prop_parse(dev, "chardev", "tq-nochr", &err));
    assert_err(err, "tq-dev.chardev", "tq-nochr");
    qdev_free(dev);
}

static void test_parse_errors(void)
{
    DeviceState *dev = qdev_new("tq-dev", NULL);
    TQDev *s = (TQDev *)dev;
    static const struct {
        const char *prop, *value;
    } bad[] = {
        { "u8", "256" }, { "u8", "-1" }, { "u8", "abc" }, { "u8", "" }, { "u8", "1x" },
        { "u16", "65536" }, { "u32", "4294967296" }, { "u32", "-1" },
        { "u64", "18446744073709551616" }, { "u64", "-5" },
        { "i32", "2147483648" }, { "i32", "-2147483649" }, { "i32", "1.5" },
        { "i64", "9223372036854775808" }, { "i64", "" },
        { "size", "1Q" }, { "size", "-1" }, { "size", "99999999999T" }, { "size", "" },
        { "flag", "maybe" }, { "flag", "" },
        { "mode", "medium" }, { "mode", "" },
        { "peer", "nosuchdev" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) err = NULL;
        g_autofree char *want = g_strdup_printf("tq-dev.%s", bad[i].prop);
        if (qdev_prop_parse(dev, bad[i].prop, bad[i].value, &err)) {
            g_error("%s=%s was accepted", bad[i].prop, bad[i].value);
        }
        assert_err(err, want, NULL);
    }
    /* nothing was changed by the refused values */
    g_assert_cmpuint(s->u8, ==, 5);
    g_assert_cmpuint(s->u16, ==, 0x1234);
    g_assert_cmpuint(s->u32, ==, 0xdeadbeef);
    g_assert_cmpint(s->i32, ==, -7);
    g_assert_cmpint(s->mode, ==, MODE_SLOW);

    g_autoptr(GError) err = NULL;
    g_assert_false(qdev_prop_parse(dev, "nosuch", "1", &err));
    assert_err(err, "tq-dev.nosuch", NULL);
    g_clear_error(&err);
    g_assert_false(qdev_prop_parse(dev, "u8", "256", &err));
    assert_err(err, "256", "255");
    qdev_free(dev);
}

static void test_link(void)
{
    DeviceState *sys = qdev_new("tq-sys", NULL);
    DeviceState *other = qdev_new("tq-noprops", NULL);
    DeviceState *dev = qdev_new("tq-dev", NULL);
    g_autoptr(GError) err = NULL;

    qdev_set_id(sys, "sys0");
    qdev_set_id(other, "other0");
    g_assert_true(qdev_realize(sys, NULL, NULL));
    g_assert_true(qdev_realize(other, NULL, NULL));
    g_assert_true(qdev_prop_parse(dev, "peer", "sys0", &err));
    g_assert_true(((TQDev *)dev)->peer == sys);
    g_autofree char *f = fmt(dev, "peer");
    g_assert_cmpstr(f, ==, "/machine/peripheral/sys0");
    g_assert_true(qdev_prop_parse(dev, "peer", "/machine/peripheral/sys0", &err));
    g_assert_false(qdev_prop_parse(dev, "peer", "other0", &err));
    assert_err(err, "tq-dev.peer", "tq-sys");
    qdev_free(dev);
    qdev_free(other);
    qdev_free(sys);
}

static void test_globals(void)
{
    g_autoptr(GError) err = NULL;
    DeviceState *dev;

    g_assert_true(qdev_add_global("tq-dev.u8=7", &err));
    g_assert_true(qdev_add_global("driver=tq-dev,property=str,value=glob", &err));
    g_assert_true(qdev_add_global("tq-dev.mode=fast", &err));
    g_assert_no_error(err);
    dev = qdev_new("tq-dev", &err);
    g_assert_nonnull(dev);
    g_assert_cmpuint(((TQDev *)dev)->u8, ==, 7);
    g_assert_cmpstr(((TQDev *)dev)->str, ==, "glob");
    g_assert_cmpint(((TQDev *)dev)->mode, ==, MODE_FAST);
    /* explicit properties override globals */
    g_assert_true(qdev_prop_parse(dev, "u8", "9", NULL));
    g_assert_cmpuint(((TQDev *)dev)->u8, ==, 9);
    qdev_free(dev);
    /* globals for another driver do not apply */
    dev = qdev_new("tq-sys", &err);
    g_assert_nonnull(dev);
    qdev_free(dev);

    /* -global that names nothing */
    g_assert_false(qdev_add_global("tq-nosuch.x=1", &err));
    assert_err(err, "tq-nosuch", NULL);
    g_clear_error(&err);
    g_assert_false(qdev_add_global("tq-dev.nosuch=1", &err));
    assert_err(err, "tq-dev", "nosuch");
    g_clear_error(&err);
    g_assert_false(qdev_add_global("tq-dev", &err));
    g_clear_error(&err);
    g_assert_false(qdev_add_global("tq-dev.u8", &err));
    g_clear_error(&err);
    g_assert_false(qdev_add_global(".u8=1", &err));
    g_clear_error(&err);
    g_assert_false(qdev_add_global("driver=tq-dev,property=u8", &err));
    g_clear_error(&err);

    /* a bad value is found when the device is created, naming it */
    g_assert_true(qdev_add_global("tq-dev.u16=70000", &err));
    dev = qdev_new("tq-dev", &err);
    g_assert_null(dev);
    assert_err(err, "tq-dev.u16", "70000");
    g_clear_error(&err);
    qdev_clear_globals();
    dev = qdev_new("tq-dev", &err);
    g_assert_nonnull(dev);
    g_assert_cmpuint(((TQDev *)dev)->u8, ==, 5);
    qdev_free(dev);
}

static void test_device_add(void)
{
    g_autoptr(GError) err = NULL;
    DeviceState *dev, *dev2;
    TQDev *s;

    dev = qdev_device_add("tq-dev,id=d1,u8=3,str=x,,y,mode=fast,size=1M", &err);
    g_assert_no_error(err);
    g_assert_nonnull(dev);
    s = (TQDev *)dev;
    g_assert_true(dev->realized);
    g_assert_cmpint(s->realized_count, ==, 1);
    g_assert_cmpuint(s->u8, ==, 3);
    g_assert_cmpstr(s->str, ==, "x,y");
    g_assert_cmpint(s->mode, ==, MODE_FAST);
    g_assert_cmpuint(s->size, ==, 1 << 20);
    g_assert_cmpstr(dev->id, ==, "d1");
    g_assert_cmpstr(dev->canonical_path, ==, "/machine/peripheral/d1");
    g_assert_true(dev->parent_bus == bridge->bus);
    g_assert_true(qdev_find_by_id("d1") == dev);
    /* driver= spelling and an explicit bus */
    dev2 = qdev_device_add("driver=tq-dev,bus=tq.0", &err);
    g_assert_no_error(err);
    g_assert_nonnull(dev2);
    g_assert_true(dev2->parent_bus == bridge->bus);
    g_assert_true(g_str_has_prefix(dev2->canonical_path, "/machine/peripheral-anon/device["));
    g_assert_cmpuint(bridge->bus->children->len, ==, 2);

    /* properties cannot change after realize */
    g_assert_false(qdev_prop_parse(dev, "u8", "4", &err));
    assert_err(err, "tq-dev.u8", NULL);
    g_clear_error(&err);

    static const struct {
        const char *opts, *s1, *s2;
    } bad[] = {
        { "tq-nosuch", "tq-nosuch", NULL },
        { "tq-dev,nosuch=1", "nosuch", "tq-dev" },
        { "tq-dev,id=d1", "d1", "Duplicate" },
        { "tq-nouser", "tq-nouser", "pluggable" },
        { "tq-dev,fail=on,id=ff", "tq-dev", "told to fail" },
        { "tq-dev,u8=1000", "tq-dev.u8", "1000" },
        { "tq-dev,bus=nosuch", "tq-dev", NULL },
        { "tq-dev,id=", "id", "identifier" },
        { "tq-dev,id=a/b", "id", "identifier" },
        { "tq-dev,id=1abc", "id", "identifier" },
        { "tq-dev,id=a b", "id", "identifier" },
        { "tq-dev,", "tq-dev", NULL },
        { "", NULL, NULL },
        { "id=x", NULL, NULL },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        guint before = qdev_all_devices()->len;
        DeviceState *d = qdev_device_add(bad[i].opts, &err);
        if (d) {
            g_error("-device %s was accepted", bad[i].opts);
        }
        assert_err(err, bad[i].s1, bad[i].s2);
        g_clear_error(&err);
        /* nothing is left behind */
        g_assert_cmpuint(qdev_all_devices()->len, ==, before);
        g_assert_cmpuint(bridge->bus->children->len, ==, 2);
    }
    /* a failed realize does not take the id */
    g_assert_null(qdev_find_by_id("ff"));
    dev = qdev_device_add("tq-dev,id=ff", &err);
    g_assert_no_error(err);
    g_assert_nonnull(dev);

    /* bus-less user device */
    dev = qdev_device_add("tq-sys,id=s1.x_y-Z9", &err);
    g_assert_no_error(err);
    g_assert_null(dev->parent_bus);
    free_all_test_devices();
    g_assert_cmpuint(bridge->bus->children->len, ==, 0);
}

static void test_realize_bus(void)
{
    g_autoptr(GError) err = NULL;
    DeviceState *dev = qdev_new("tq-dev", NULL);

    /* a bus device needs its bus */
    g_assert_false(qdev_realize(dev, NULL, &err));
    assert_err(err, "tq-dev", "TQ");
    g_clear_error(&err);
    g_assert_false(dev->realized);
    g_assert_true(qdev_realize(dev, bridge->bus, &err));
    g_assert_true(dev->parent_bus == bridge->bus);
    g_assert_true(qdev_realize(dev, bridge->bus, &err));   /* idempotent */
    g_assert_cmpuint(bridge->bus->children->len, ==, 1);
    qdev_unrealize(dev);
    g_assert_false(dev->realized);
    g_assert_cmpuint(bridge->bus->children->len, ==, 0);
    g_assert_null(dev->parent_bus);
    qdev_free(dev);

    /* a failing realize leaves the device off the bus and unrealized */
    dev = qdev_new("tq-dev", NULL);
    qdev_set_id(dev, "bad0");
    g_assert_true(qdev_prop_set_bool(dev, "fail", true, NULL));
    g_assert_false(qdev_realize(dev, bridge->bus, &err));
    assert_err(err, "tq-dev", "bad0");
    g_assert_false(dev->realized);
    g_assert_cmpuint(bridge->bus->children->len, ==, 0);
    qdev_free(dev);

    g_assert_true(qbus_find("tq.0") == bridge->bus);
    g_assert_true(qbus_find("TQ") == bridge->bus);
    g_assert_null(qbus_find("tq-nosuch-bus"));
}

static void test_reset_order(void)
{
    DeviceState *br = qdev_new("tq-bridge", NULL);
    BusState *bus = ((TQBridge *)br)->bus;
    DeviceState *a = qdev_new("tq-dev", NULL), *b = qdev_new("tq-dev", NULL);
    DeviceState *c = qdev_new("tq-dev", NULL);

    qdev_set_id(br, "br");
    qdev_set_id(a, "a");
    qdev_set_id(b, "b");
    qdev_set_id(c, "c");
    g_assert_true(qdev_realize(br, NULL, NULL));
    g_assert_true(qdev_realize(a, bus, NULL));
    g_assert_true(qdev_realize(b, bus, NULL));
    g_string_truncate(reset_log, 0);
    qdev_reset_all();
    /* children before their parent, siblings in realize order; the
     * unrealized c is not reset */
    g_assert_nonnull(strstr(reset_log->str, "a;b;br;"));
    g_assert_null(strstr(reset_log->str, "c;"));
    g_string_truncate(reset_log, 0);
    qdev_reset(br);
    g_assert_cmpstr(reset_log->str, ==, "a;b;br;");

    /* freeing the parent frees what is plugged into its bus */
    qdev_free(c);
    qdev_free(br);
    g_assert_null(qdev_find_by_id("a"));
    g_assert_null(qdev_find_by_id("b"));
    g_assert_true(qbus_find("tq.0") == bridge->bus);
    (void)bus;
}

static void test_gpio(void)
{
    DeviceState *dev = qdev_new("tq-sys", NULL);
    TQSys *s = (TQSys *)dev;
    NamedGPIO *g;

    g = qdev_get_named_gpio(dev, NULL);
    g_assert_nonnull(g);
    g_assert_cmpint(g->n_in, ==, 4);
    g = qdev_get_named_gpio(dev, "ctl");
    g_assert_nonnull(g);
    g_assert_cmpint(g->n_in, ==, 1);
    g_assert_null(qdev_get_named_gpio(dev, "nosuch"));

    qemu_set_irq(qdev_get_gpio_in(dev, 1), 1);
    g_assert_cmpint(s->levels[1], ==, 1);
    qemu_irq_raise(qdev_get_gpio_in(dev, 3));
    g_assert_cmpint(s->levels[3], ==, 1);
    qemu_irq_lower(qdev_get_gpio_in(dev, 3));
    g_assert_cmpint(s->levels[3], ==, 0);
    g_assert_cmpint(s->levels[0], ==, 0);
    qemu_set_irq(qdev_get_gpio_in_named(dev, "ctl", 0), 1);
    g_assert_cmpint(s->ctl_level, ==, 1);
    g_assert_cmpint(s->ctl_n, ==, 0);
    g_assert_null(qdev_get_gpio_in(dev, 4));
    g_assert_null(qdev_get_gpio_in(dev, -1));
    g_assert_null(qdev_get_gpio_in_named(dev, "ctl", 1));
    g_assert_null(qdev_get_gpio_in_named(dev, "nosuch", 0));
    qemu_set_irq(NULL, 1);      /* an unconnected line is harmless */
    qdev_free(dev);
}

static void test_find_by_path(void)
{
    DeviceState *a = qdev_new("tq-sys", NULL), *b = qdev_new("tq-sys", NULL);
    DeviceState *c = qdev_new("tq-sys", NULL), *d = qdev_new("tq-sys", NULL);

    qdev_set_id(a, "alpha");
    g_assert_true(qdev_realize(a, NULL, NULL));
    qdev_set_machine_child(b, "x/leaf");
    qdev_set_machine_child(c, "y/leaf");
    qdev_set_machine_child(d, "z/unique");
    g_assert_true(qdev_realize(b, NULL, NULL));
    g_assert_true(qdev_realize(c, NULL, NULL));
    g_assert_true(qdev_realize(d, NULL, NULL));
    g_assert_cmpstr(d->canonical_path, ==, "/machine/z/unique");

    g_assert_true(qdev_find_by_path("/machine/peripheral/alpha") == a);
    g_assert_true(qdev_find_by_path("peripheral/alpha") == a);
    g_assert_true(qdev_find_by_path("alpha") == a);
    g_assert_true(qdev_find_by_path("/machine/x/leaf") == b);
    g_assert_true(qdev_find_by_path("x/leaf") == b);
    g_assert_true(qdev_find_by_path("unique") == d);
    g_assert_true(qdev_find_by_path("z/unique") == d);
    g_assert_null(qdev_find_by_path("leaf"));         /* ambiguous */
    g_assert_null(qdev_find_by_path("nique"));        /* not a whole component */
    g_assert_null(qdev_find_by_path("/machine/nosuch"));
    g_assert_null(qdev_find_by_path(""));
    qdev_free(a);
    qdev_free(b);
    qdev_free(c);
    qdev_free(d);
    g_assert_null(qdev_find_by_path("alpha"));
}

static void test_help(void)
{
    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(GError) err = NULL;

    qdev_print_device_list(out);
    g_assert_nonnull(strstr(out->str, "name \"tq-dev\", bus TQ, desc \"test device\"\n"));
    g_assert_nonnull(strstr(out->str, "name \"isa-debug-exit\", bus ISA"));
    g_assert_nonnull(strstr(out->str, "name \"tq-sys\"\n"));
    {
        const char *hdr = strstr(out->str, "Input devices:\n");
        const char *np = strstr(out->str, "name \"tq-noprops\"\n");
        const char *next = hdr ? strstr(hdr + 1, "\n\n") : NULL;
        g_assert_nonnull(hdr);
        g_assert_nonnull(np);
        g_assert_true(np > hdr);
        g_assert_true(!next || np < next);
    }
    g_assert_null(strstr(out->str, "tq-nouser"));
    g_assert_null(strstr(out->str, "tq-bridge"));
    g_assert_true(g_str_has_suffix(out->str, "\n"));

    g_string_truncate(out, 0);
    g_assert_true(qdev_print_device_props(out, "tq-dev", &err));
    g_assert_true(g_str_has_prefix(out->str, "tq-dev options:\n"));
    g_assert_nonnull(strstr(out->str, "u8=<uint8>"));
    g_assert_nonnull(strstr(out->str, "(default: 5)"));
    g_assert_nonnull(strstr(out->str, "flag=<bool>"));
    g_assert_nonnull(strstr(out->str, "(default: true)"));
    g_assert_nonnull(strstr(out->str, "mode=<enum>"));
    g_assert_nonnull(strstr(out->str, "(default: \"slow\")"));
    g_assert_nonnull(strstr(out->str, "i32=<int32>"));
    g_assert_nonnull(strstr(out->str, "(default: -7)"));
    g_assert_nonnull(strstr(out->str, "peer=<link>"));
    g_assert_nonnull(strstr(out->str, "size=<size>"));
    g_assert_nonnull(strstr(out->str, "str=<str>"));

    g_string_truncate(out, 0);
    g_assert_true(qdev_print_device_props(out, "isa-debug-exit", &err));
    g_assert_nonnull(strstr(out->str, "iobase=<uint32>"));

    g_string_truncate(out, 0);
    g_assert_true(qdev_print_device_props(out, "tq-noprops", &err));
    g_assert_nonnull(strstr(out->str, "There are no options for tq-noprops"));

    g_assert_false(qdev_print_device_props(out, "tq-nosuch", &err));
    assert_err(err, "tq-nosuch", NULL);

    /* the class list is sorted and includes non-user classes */
    g_autoptr(GPtrArray) l = device_class_list();
    for (guint i = 1; i < l->len; i++) {
        const DeviceClass *p = g_ptr_array_index(l, i - 1), *c = g_ptr_array_index(l, i);
        g_assert_cmpint(strcmp(p->name, c->name), <, 0);
    }
    g_assert_true(device_class_find("tq-bridge") == &tq_bridge_class);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    device_class_register(&tq_bridge_class);
    device_class_register(&tq_dev_class);
    device_class_register(&tq_sys_class);
    device_class_register(&tq_noprops_class);
    device_class_register(&tq_nouser_class);
    reset_log = g_string_new(NULL);

    /* The bus used by -device tests: a machine-made bridge. */
    bridge = (TQBridge *)qdev_new("tq-bridge", NULL);
    g_assert_nonnull(bridge);
    qdev_set_machine_child(DEVICE(bridge), "tq-bridge");
    g_assert_true(qdev_realize(DEVICE(bridge), NULL, NULL));

    g_test_add_func("/qdev/props/defaults", test_defaults);
    g_test_add_func("/qdev/props/parse", test_parse);
    g_test_add_func("/qdev/props/errors", test_parse_errors);
    g_test_add_func("/qdev/props/link", test_link);
    g_test_add_func("/qdev/global", test_globals);
    g_test_add_func("/qdev/device-add", test_device_add);
    g_test_add_func("/qdev/realize-bus", test_realize_bus);
    g_test_add_func("/qdev/reset-order", test_reset_order);
    g_test_add_func("/qdev/gpio", test_gpio);
    g_test_add_func("/qdev/find-by-path", test_find_by_path);
    g_test_add_func("/qdev/help", test_help);
    return g_test_run();
}

/*
 * The balloon's monitor commands (QEMU's names and messages): QMP balloon
 * and query-balloon, the BALLOON_CHANGE event, HMP balloon and info
 * balloon.  The device (hw/virtio/virtio-balloon.c) registers its ops.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "monitor/monitor.h"
#include "monitor/qmp-internal.h"
#include "monitor/qmp-gen.h"
#include "hw/machine.h"
#include "system/balloon.h"

static const BalloonOps *balloon_ops;
static void *balloon_opaque;
static DeviceState *balloon_dev;

bool qemu_add_balloon_handler(const BalloonOps *ops, void *opaque, DeviceState *dev,
                              Error **errp)
{
    if (balloon_ops) {
        error_setg(errp, "Only one balloon device is supported");
        return false;
    }
    balloon_ops = ops;
    balloon_opaque = opaque;
    balloon_dev = dev;
    return true;
}

void qemu_remove_balloon_handler(void *opaque)
{
    if (balloon_opaque == opaque) {
        balloon_ops = NULL;
        balloon_opaque = NULL;
        balloon_dev = NULL;
    }
}

void qemu_balloon_changed(uint64_t actual)
{
    JsonObject *o = json_object_new();

    json_object_set_int_member(o, "actual", (int64_t)actual);
    qmp_event_emit("BALLOON_CHANGE", o);
}

bool balloon_qom_get(DeviceState *dev, const char *property, JsonNode **ret, Error **errp)
{
    if (!balloon_ops || dev != balloon_dev || strcmp(property, "guest-stats") ||
        !balloon_ops->get_stats) {
        return false;
    }
    *ret = balloon_ops->get_stats(balloon_opaque, errp);
    return true;
}

static bool have_balloon(Error **errp)
{
    if (!balloon_ops) {
        error_set(errp, ERROR_CLASS_DEVICE_NOT_ACTIVE, "No balloon device has been activated");
        return false;
    }
    return true;
}

static bool balloon_set(int64_t value, Error **errp)
{
    uint64_t ram = current_machine ? current_machine->ram_size : 0;

    if (!have_balloon(errp)) {
        return false;
    }
    if (value <= 0) {
        error_setg(errp, "Parameter 'target' expects a size");
        return false;
    }
    balloon_ops->set_target(balloon_opaque, MIN((uint64_t)value, ram));
    return true;
}

JsonNode *qmp_balloon(Monitor *mon, const QmpArgs_balloon *args, Error **errp)
{
    (void)mon;
    balloon_set(args->value, errp);
    return NULL;
}

JsonNode *qmp_query_balloon(Monitor *mon, const QmpArgs_query_balloon *args, Error **errp)
{
    JsonObject *o;

    (void)mon;
    (void)args;
    if (!have_balloon(errp)) {
        return NULL;
    }
    o = json_object_new();
    json_object_set_int_member(o, "actual", (int64_t)balloon_ops->get_actual(balloon_opaque));
    return qmp_node_object(o);
}

static void hmp_report(Monitor *mon, Error *err)
{
    monitor_printf(mon, "Error: %s\n", err->message);
    g_error_free(err);
}

/* HMP's "M" argument: a number of MiB, or a size with a suffix
 * (K, M, G, T: 1G is 1024 MiB). */
static bool hmp_parse_mib(const char *str, int64_t *bytes)
{
    char *end;
    long long v;
    int shift = 20;

    errno = 0;
    v = strtoll(str, &end, 0);
    if (end == str || errno) {
        return false;
    }
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    case 'b': case 'B': shift = 0; end++; break;
    }
    if (*end || v > INT64_MAX >> shift || v < INT64_MIN >> shift) {
        return false;
    }
    *bytes = (int64_t)v * ((int64_t)1 << shift);
    return true;
}

void hmp_balloon(Monitor *mon, int argc, char **argv)
{
    Error *err = NULL;
    int64_t bytes;

    if (argc != 2) {
        monitor_printf(mon, "usage: balloon target\n");
        return;
    }
    if (!hmp_parse_mib(argv[1], &bytes)) {
        monitor_printf(mon, "Error: invalid size '%s'\n", argv[1]);
        return;
    }
    if (!balloon_set(bytes, &err)) {
        hmp_report(mon, err);
    }
}

void hmp_info_balloon(Monitor *mon, int argc, char **argv)
{
    Error *err = NULL;

    (void)argc;
    (void)argv;
    if (!have_balloon(&err)) {
        hmp_report(mon, err);
        return;
    }
    monitor_printf(mon, "balloon: actual=%" PRId64 "\n",
                   (int64_t)(balloon_ops->get_actual(balloon_opaque) >> 20));
}

/*
 * Monitor commands of the input layer, as QEMU's ui/input.c and
 * ui/input-legacy.c: QMP send-key, input-send-event, query-mice; HMP
 * sendkey and info mice.
 */
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "monitor/monitor.h"
#include "monitor/qmp-gen.h"
#include "ui/input.h"
#include "ui/input-monitor.h"

/* The schema's enums are the C enums of ui/input.h. */
G_STATIC_ASSERT(QKEYCODE__MAX == Q_KEY_CODE__MAX);
G_STATIC_ASSERT(INPUTBUTTON__MAX == INPUT_BUTTON__MAX);
G_STATIC_ASSERT(INPUTAXIS__MAX == INPUT_AXIS__MAX);
G_STATIC_ASSERT(INPUTEVENTKIND__MAX == INPUT_EVENT_KIND__MAX);

static const char *const event_kind_names[INPUT_EVENT_KIND__MAX] = {
    "key", "btn", "rel", "abs",
};

/* A KeyValue ({"type": "qcode"|"number", "data": ...}, checked by the
 * schema) as a QKeyCode; Q_KEY_CODE_UNMAPPED if it names no key. */
static QKeyCode key_value(JsonNode *node)
{
    JsonObject *o = json_node_get_object(node);
    const char *type = json_object_get_string_member(o, "type");

    if (!strcmp(type, "number")) {
        return qemu_input_qcode_from_number(json_object_get_int_member(o, "data"));
    }
    int q = qemu_input_qcode_from_name(json_object_get_string_member(o, "data"));
    return q < 0 ? Q_KEY_CODE_UNMAPPED : q;
}

static bool keys_to_qcodes(JsonArray *keys, QKeyCode *out, Error **errp)
{
    for (guint i = 0; i < json_array_get_length(keys); i++) {
        out[i] = key_value(json_array_get_element(keys, i));
        if (out[i] == Q_KEY_CODE_UNMAPPED) {
            error_setg(errp, "send-key: key %u names no key (unmapped)", i);
            return false;
        }
    }
    return true;
}

/* Presses the keys in order, holds them hold_ms, releases them in reverse. */
static void send_keys(const QKeyCode *q, guint n, int64_t hold_ms)
{
    for (guint i = 0; i < n; i++) {
        qemu_input_event_send_key_queued(q[i], true);
    }
    qemu_input_event_send_key_delay(hold_ms);
    for (guint i = n; i-- > 0;) {
        qemu_input_event_send_key_queued(q[i], false);
    }
}

JsonNode *qmp_send_key(Monitor *mon, const QmpArgs_send_key *args, Error **errp)
{
    JsonArray *keys = json_node_get_array(args->keys);
    guint n = json_array_get_length(keys);
    g_autofree QKeyCode *q = g_new0(QKeyCode, n + 1);
    int64_t hold = args->has_hold_time ? args->hold_time : 100;

    if (!keys_to_qcodes(keys, q, errp)) {
        return NULL;
    }
    send_keys(q, n, CLAMP(hold, 0, 60000));
    return NULL;
}

static bool input_event_parse(JsonNode *node, InputEvent *e, Error **errp)
{
    JsonObject *o = json_node_get_object(node);
    const char *type = json_object_get_string_member(o, "type");
    JsonObject *d = json_object_get_object_member(o, "data");
    int i;

    memset(e, 0, sizeof(*e));
    for (i = 0; i < INPUT_EVENT_KIND__MAX; i++) {
        if (!strcmp(type, event_kind_names[i])) {
            break;
        }
    }
    e->kind = i;
    switch (e->kind) {
    case INPUT_EVENT_KIND_KEY:
        e->u.key.qcode = key_value(json_object_get_member(d, "key"));
        e->u.key.down = json_object_get_boolean_member(d, "down");
        break;
    case INPUT_EVENT_KIND_BTN:
        e->u.btn.button = qmp_enum_lookup(&qmp_type_InputButton,
                                          json_object_get_string_member(d, "button"));
        e->u.btn.down = json_object_get_boolean_member(d, "down");
        break;
    case INPUT_EVENT_KIND_REL:
    case INPUT_EVENT_KIND_ABS:
        e->u.move.axis = qmp_enum_lookup(&qmp_type_InputAxis,
                                         json_object_get_string_member(d, "axis"));
        e->u.move.value = json_object_get_int_member(d, "value");
        break;
    default:
        error_setg(errp, "input-send-event: unknown event type '%s'", type);
        return false;
    }
    /* As QEMU: every event needs a device that takes its kind; absolute
     * motion goes only to absolute pointers, and the PS/2 mouse is not one. */
    if (!qemu_input_has_handler(e->kind)) {
        error_setg(errp, "Input handler not found for event type %s", type);
        return false;
    }
    return true;
}

JsonNode *qmp_input_send_event(Monitor *mon, const QmpArgs_input_send_event *args,
                               Error **errp)
{
    JsonArray *events = json_node_get_array(args->events);
    guint n = json_array_get_length(events);
    g_autofree InputEvent *ev = g_new0(InputEvent, n + 1);

    if (args->has_device) {
        /* Routing to a display console's device: there are no consoles. */
        error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Device '%s' not found", args->device);
        return NULL;
    }
    for (guint i = 0; i < n; i++) {
        if (!input_event_parse(json_array_get_element(events, i), &ev[i], errp)) {
            return NULL;
        }
    }
    for (guint i = 0; i < n; i++) {
        qemu_input_event_send(&ev[i]);
    }
    qemu_input_event_sync();
    return NULL;
}

JsonNode *qmp_query_mice(Monitor *mon, const QmpArgs_query_mice *args, Error **errp)
{
    InputMouseInfo info[16];
    int n = MIN(qemu_input_mice(info, G_N_ELEMENTS(info)), (int)G_N_ELEMENTS(info));
    JsonArray *a = json_array_new();

    for (int i = 0; i < n; i++) {
        JsonObject *o = json_object_new();

        json_object_set_string_member(o, "name", info[i].name);
        json_object_set_int_member(o, "index", info[i].index);
        json_object_set_boolean_member(o, "current", info[i].current);
        json_object_set_boolean_member(o, "absolute", info[i].absolute);
        json_array_add_object_element(a, o);
    }
    return qmp_node_array(a);
}

/* HMP "sendkey ctrl-alt-f1 [hold_ms]": names or 0x.. numbers joined by '-'. */
void hmp_sendkey(Monitor *mon, int argc, char **argv)
{
    g_auto(GStrv) parts = NULL;
    g_autofree QKeyCode *q = NULL;
    int64_t hold = 100;
    guint n;

    if (argc < 2) {
        monitor_printf(mon, "sendkey: missing keys\n");
        return;
    }
    if (argc > 2) {
        char *end;

        hold = strtoll(argv[2], &end, 0);
        if (*end || hold < 0) {
            monitor_printf(mon, "sendkey: invalid hold time '%s'\n", argv[2]);
            return;
        }
    }
    parts = g_strsplit(argv[1], "-", -1);
    n = g_strv_length(parts);
    q = g_new0(QKeyCode, n + 1);
    for (guint i = 0; i < n; i++) {
        int v = qemu_input_qcode_from_name(parts[i]);

        if (v < 0 && g_str_has_prefix(parts[i], "0x")) {
            char *end;
            long num = strtol(parts[i], &end, 16);

            v = *end ? -1 : qemu_input_qcode_from_number(num);
        }
        if (v <= 0) {
            monitor_printf(mon, "invalid parameter: %s\n", parts[i]);
            return;
        }
        q[i] = v;
    }
    send_keys(q, n, MIN(hold, 60000));
}

void hmp_info_mice(Monitor *mon, int argc, char **argv)
{
    InputMouseInfo info[16];
    int n = MIN(qemu_input_mice(info, G_N_ELEMENTS(info)), (int)G_N_ELEMENTS(info));

    if (!n) {
        monitor_printf(mon, "No mouse devices connected\n");
        return;
    }
    for (int i = 0; i < n; i++) {
        monitor_printf(mon, "%c Mouse #%d: %s%s\n", info[i].current ? '*' : ' ',
                       info[i].index, info[i].name, info[i].absolute ? " (absolute)" : "");
    }
}

/*
 * The QMP protocol on one monitor: greeting, capabilities negotiation,
 * request checking and dispatch, responses.  As in QEMU's monitor/qmp.c
 * and qapi/qmp-dispatch.c; requests run in the main thread, in order.
 */
#include <stdio.h>
#include <string.h>
#include "config-host.h"
#include "monitor-internal.h"
#include "monitor/qmp-gen.h"

static GHashTable *disabled_commands;

void qmp_disable_command(const char *name)
{
    if (!disabled_commands) {
        disabled_commands = g_hash_table_new(g_str_hash, g_str_equal);
    }
    g_hash_table_add(disabled_commands, (gpointer)g_intern_string(name));
}

static void qmp_send(Monitor *mon, JsonNode *msg)
{
    GString *s = g_string_new(NULL);

    json_write_qemu(s, msg, mon->pretty);
    g_string_append_c(s, '\n');
    monitor_puts(mon, s->str);
    g_string_free(s, TRUE);
}

static JsonNode *qmp_error_node(const Error *err)
{
    JsonObject *e = json_object_new();

    json_object_set_string_member(e, "class", qmp_error_class_name(err));
    json_object_set_string_member(e, "desc", err->message);
    return qmp_node_object(e);
}

bool qmp_monitor_is_negotiated(Monitor *mon)
{
    return mon->negotiated;
}

/* Checks the request's shape (qmp_dispatch_check_obj) and runs it. */
static JsonNode *qmp_dispatch(Monitor *mon, JsonNode *req, Error **errp)
{
    const char *exec_key = NULL, *command;
    const QmpCommand *cmd;
    JsonObject *dict, *args;
    g_autoptr(JsonObject) empty = NULL;
    GList *keys;
    bool bad = false;
    Error *err = NULL;
    JsonNode *ret;

    if (!JSON_NODE_HOLDS_OBJECT(req)) {
        error_setg(errp, "QMP input must be a JSON object");
        return NULL;
    }
    dict = json_node_get_object(req);
    keys = json_object_get_members(dict);
    for (GList *l = keys; l && !bad; l = l->next) {
        const char *k = l->data;
        JsonNode *v = json_object_get_member(dict, k);
        if (!strcmp(k, "execute") || (!strcmp(k, "exec-oob") && mon->oob_enabled)) {
            if (!JSON_NODE_HOLDS_VALUE(v) || json_node_get_value_type(v) != G_TYPE_STRING) {
                error_setg(errp, "QMP input member '%s' must be a string", k);
                bad = true;
            } else if (exec_key) {
                /* QEMU's dict order visits exec-oob first. */
                error_setg(errp, "QMP input member 'execute' clashes with 'exec-oob'");
                bad = true;
            }
            exec_key = k;
        } else if (!strcmp(k, "arguments")) {
            if (!JSON_NODE_HOLDS_OBJECT(v)) {
                error_setg(errp, "QMP input member 'arguments' must be an object");
                bad = true;
            }
        } else if (strcmp(k, "id")) {
            error_setg(errp, "QMP input member '%s' is unexpected", k);
            bad = true;
        }
    }
    g_list_free(keys);
    if (bad) {
        return NULL;
    }
    if (!exec_key) {
        error_setg(errp, "QMP input lacks member 'execute'");
        return NULL;
    }
    command = json_object_get_string_member(dict, exec_key);
    cmd = qmp_find_command(command);
    if (!mon->negotiated && (!cmd || strcmp(cmd->name, "qmp_capabilities"))) {
        error_set(errp, ERROR_CLASS_COMMAND_NOT_FOUND,
                  "Expecting capabilities negotiation with 'qmp_capabilities'");
        return NULL;
    }
    if (!cmd) {
        error_set(errp, ERROR_CLASS_COMMAND_NOT_FOUND, "The command %s has not been found", command);
        return NULL;
    }
    if (disabled_commands && g_hash_table_contains(disabled_commands, command)) {
        error_setg(errp, "The command %s has been disabled for this instance", command);
        return NULL;
    }
    if (!strcmp(exec_key, "exec-oob") && !cmd->allow_oob) {
        error_setg(errp, "The command %s does not support OOB", command);
        return NULL;
    }
    if (json_object_has_member(dict, "arguments")) {
        args = json_object_get_object_member(dict, "arguments");
    } else {
        args = empty = json_object_new();
    }
    if (!qmp_check_args(args, cmd->arg_type, errp)) {
        return NULL;
    }
    ret = cmd->fn(mon, args, &err);
    if (err) {
        if (ret) {
            json_node_unref(ret);
        }
        error_propagate(errp, err);
        return NULL;
    }
    return ret ? ret : qmp_node_object(json_object_new());
}

/* One message from the stream: a request or a parse error. */
static void qmp_handle_message(void *opaque, JsonNode *req, Error *err)
{
    Monitor *mon = opaque;
    g_autoptr(JsonNode) rsp = json_node_new(JSON_NODE_OBJECT);
    JsonObject *o = json_object_new();
    JsonNode *id = NULL, *ret = NULL;

    if (req) {
        if (JSON_NODE_HOLDS_OBJECT(req)) {
            id = json_object_get_member(json_node_get_object(req), "id");
            if (id) {
                bool big = json_node_is_big_uint(id);
                id = json_node_copy(id);
                if (big) {
                    json_node_mark_big_uint(id);
                }
            }
        }
        ret = qmp_dispatch(mon, req, &err);
    }
    /* Member order as QEMU's QDict prints them: "id" before "error",
     * after "return". */
    if (err) {
        if (id) {
            json_object_set_member(o, "id", id);
        }
        json_object_set_member(o, "error", qmp_error_node(err));
        g_error_free(err);
    } else {
        json_object_set_member(o, "return", ret);
        if (id) {
            json_object_set_member(o, "id", id);
        }
    }
    json_node_take_object(rsp, o);
    qmp_send(mon, rsp);
    if (req) {
        json_node_unref(req);
    }
}

static JsonNode *qmp_greeting(Monitor *mon)
{
    JsonObject *qmp = json_object_new(), *top = json_object_new();
    JsonArray *caps = json_array_new();

    json_object_set_member(qmp, "version", qmp_query_version(mon, NULL, NULL));
    if (mon->oob_offered) {
        json_array_add_string_element(caps, "oob");
    }
    json_object_set_array_member(qmp, "capabilities", caps);
    json_object_set_object_member(top, "QMP", qmp);
    return qmp_node_object(top);
}

static int qmp_can_read(void *opaque)
{
    Monitor *mon = opaque;

    /* No new requests while replies wait for the client to read them. */
    return mon->outbuf && mon->outbuf->len ? 0 : 4096;
}

static void qmp_read(void *opaque, const uint8_t *buf, int size)
{
    Monitor *mon = opaque;

    json_stream_feed(&mon->js, (const char *)buf, size);
}

static void qmp_event(void *opaque, QEMUChrEvent event)
{
    Monitor *mon = opaque;

    switch (event) {
    case CHR_EVENT_OPENED: {
        g_autoptr(JsonNode) greeting = NULL;
        mon->connected = true;
        mon->negotiated = false;
        mon->oob_enabled = false;
        monitor_drop_output(mon);
        json_stream_reset(&mon->js);
        greeting = qmp_greeting(mon);
        qmp_send(mon, greeting);
        break;
    }
    case CHR_EVENT_CLOSED:
        mon->connected = false;
        mon->negotiated = false;
        monitor_drop_output(mon);
        json_stream_reset(&mon->js);
        break;
    default:
        break;
    }
}

void qmp_monitor_setup(Monitor *mon)
{
    json_stream_init(&mon->js, JSON_STREAM_MAX_SIZE, qmp_handle_message, mon);
    qemu_chr_fe_set_handlers(&mon->chr, qmp_can_read, qmp_read, qmp_event, mon);
}

Monitor *qmp_monitor_new_detached(void)
{
    Monitor *mon = g_new0(Monitor, 1);

    mon->is_qmp = true;
    mon->capture = g_string_new(NULL);
    mon->fds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    json_stream_init(&mon->js, JSON_STREAM_MAX_SIZE, qmp_handle_message, mon);
    return mon;
}

void qmp_monitor_feed(Monitor *mon, const uint8_t *data, size_t len, bool negotiated)
{
    g_string_truncate(mon->capture, 0);
    json_stream_reset(&mon->js);
    mon->negotiated = negotiated;
    mon->oob_enabled = false;
    mon->oob_offered = true;
    json_stream_feed(&mon->js, (const char *)data, len);
}

GString *qmp_monitor_output(Monitor *mon)
{
    return mon->capture;
}

/* ---- control commands ------------------------------------------------- */

JsonNode *qmp_qmp_capabilities(Monitor *mon, const QmpArgs_qmp_capabilities *args, Error **errp)
{
    bool oob = false;

    if (mon->negotiated) {
        error_set(errp, ERROR_CLASS_COMMAND_NOT_FOUND,
                  "Capabilities negotiation is already complete, command ignored");
        return NULL;
    }
    if (args->has_enable) {
        JsonArray *a = json_node_get_array(args->enable);
        for (guint i = 0; i < json_array_get_length(a); i++) {
            oob = true;     /* "oob" is the only capability */
        }
    }
    if (oob && !mon->oob_offered) {
        error_setg(errp, "Capability oob not available");
        return NULL;
    }
    mon->negotiated = true;
    mon->oob_enabled = oob;
    return NULL;
}

JsonNode *qmp_query_version(Monitor *mon, const QmpArgs_query_version *args, Error **errp)
{
    JsonObject *v = json_object_new(), *q = json_object_new();
    unsigned major = 0, minor = 0, micro = 0;

    sscanf(KVMPC_QEMU_VERSION, "%u.%u.%u", &major, &minor, &micro);
    json_object_set_int_member(q, "micro", micro);
    json_object_set_int_member(q, "minor", minor);
    json_object_set_int_member(q, "major", major);
    json_object_set_object_member(v, "qemu", q);
    json_object_set_string_member(v, "package", "kvmpc " KVMPC_VERSION);
    return qmp_node_object(v);
}

JsonNode *qmp_query_commands(Monitor *mon, const QmpArgs_query_commands *args, Error **errp)
{
    JsonArray *a = json_array_new();

    for (const QmpCommand *c = qmp_commands; c->name; c++) {
        JsonObject *o;
        if (disabled_commands && g_hash_table_contains(disabled_commands, c->name)) {
            continue;
        }
        o = json_object_new();
        json_object_set_string_member(o, "name", c->name);
        json_array_add_object_element(a, o);
    }
    return qmp_node_array(a);
}

JsonNode *qmp_query_qmp_schema(Monitor *mon, const QmpArgs_query_qmp_schema *args, Error **errp)
{
    static JsonNode *schema;

    if (!schema) {
        g_autoptr(JsonParser) p = json_parser_new_immutable();
        json_parser_load_from_data(p, qmp_schema_json, -1, NULL);
        schema = json_parser_steal_root(p);
        g_assert(schema);
    }
    return json_node_copy(schema);
}

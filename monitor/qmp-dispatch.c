/*
 * Checking requests against the schema's type descriptors, the argument
 * getters used by generated marshal functions, and JSON output in QEMU's
 * layout.  Error messages are QEMU's (qobject-input-visitor, QAPI 7.2).
 */
#include <math.h>
#include <string.h>
#include "monitor/qmp-internal.h"
#include "monitor/json-stream.h"

const char *qmp_error_class_name(const Error *err)
{
    static const char *const names[] = {
        [ERROR_CLASS_GENERIC_ERROR] = "GenericError",
        [ERROR_CLASS_COMMAND_NOT_FOUND] = "CommandNotFound",
        [ERROR_CLASS_DEVICE_NOT_ACTIVE] = "DeviceNotActive",
        [ERROR_CLASS_DEVICE_NOT_FOUND] = "DeviceNotFound",
        [ERROR_CLASS_KVM_MISSING_CAP] = "KVMMissingCap",
    };

    if (err->domain == KVMPC_ERROR && err->code >= 0 && (size_t)err->code < G_N_ELEMENTS(names)) {
        return names[err->code];
    }
    return "GenericError";
}

const QmpCommand *qmp_find_command(const char *name)
{
    for (const QmpCommand *c = qmp_commands; c->name; c++) {
        if (strcmp(c->name, name) == 0) {
            return c;
        }
    }
    return NULL;
}

int qmp_enum_lookup(const QmpType *type, const char *value)
{
    for (int i = 0; type->values[i]; i++) {
        if (strcmp(type->values[i], value) == 0) {
            return i;
        }
    }
    return -1;
}

/* ---- checking --------------------------------------------------------- */

static bool node_is(JsonNode *n, GType t)
{
    return JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == t;
}

static bool check_int(JsonNode *v, QmpKind kind, const char *what, const char *short_name,
                      Error **errp)
{
    static const struct { QmpKind kind; const char *name; int64_t min; uint64_t max; } ranges[] = {
        { QK_INT8, "int8_t", INT8_MIN, INT8_MAX },
        { QK_INT16, "int16_t", INT16_MIN, INT16_MAX },
        { QK_INT32, "int32_t", INT32_MIN, INT32_MAX },
        { QK_UINT8, "uint8_t", 0, UINT8_MAX },
        { QK_UINT16, "uint16_t", 0, UINT16_MAX },
        { QK_UINT32, "uint32_t", 0, UINT32_MAX },
    };
    bool is_unsigned = kind == QK_UINT8 || kind == QK_UINT16 || kind == QK_UINT32 ||
                       kind == QK_UINT64 || kind == QK_SIZE;
    int64_t i;

    if (!node_is(v, G_TYPE_INT64)) {
        if (is_unsigned) {
            error_setg(errp, "Parameter '%s' expects %s", what, kind == QK_SIZE ? "size" : "uint64");
        } else {
            error_setg(errp, "Invalid parameter type for '%s', expected: integer", what);
        }
        return false;
    }
    i = json_node_get_int(v);
    if (!is_unsigned && json_node_is_big_uint(v)) {
        error_setg(errp, "Invalid parameter type for '%s', expected: integer", what);
        return false;
    }
    for (size_t k = 0; k < G_N_ELEMENTS(ranges); k++) {
        if (ranges[k].kind != kind) {
            continue;
        }
        /* QEMU's visit_type_uintN: negative values wrap, then range check. */
        if (is_unsigned ? (uint64_t)i > ranges[k].max
                        : (i < ranges[k].min || i > (int64_t)ranges[k].max)) {
            /* QEMU's visit_type_intN names the member alone. */
            error_setg(errp, "Parameter '%s' expects %s", short_name ? short_name : "null",
                       ranges[k].name);
            return false;
        }
    }
    return true;
}

static bool check_object(JsonNode *v, const QmpType *type, const char *what, Error **errp);

static bool check_value(JsonNode *v, const QmpType *type, const char *what,
                        const char *short_name, Error **errp)
{
    switch (type->kind) {
    case QK_STR:
        if (!node_is(v, G_TYPE_STRING)) {
            error_setg(errp, "Invalid parameter type for '%s', expected: string", what);
            return false;
        }
        return true;
    case QK_INT: case QK_INT8: case QK_INT16: case QK_INT32: case QK_INT64:
    case QK_UINT8: case QK_UINT16: case QK_UINT32: case QK_UINT64: case QK_SIZE:
        return check_int(v, type->kind, what, short_name, errp);
    case QK_NUMBER:
        if (!node_is(v, G_TYPE_INT64) && !node_is(v, G_TYPE_DOUBLE)) {
            error_setg(errp, "Invalid parameter type for '%s', expected: number", what);
            return false;
        }
        return true;
    case QK_BOOL:
        if (!node_is(v, G_TYPE_BOOLEAN)) {
            error_setg(errp, "Invalid parameter type for '%s', expected: boolean", what);
            return false;
        }
        return true;
    case QK_ANY:
        return true;
    case QK_NULL:
        if (!JSON_NODE_HOLDS_NULL(v)) {
            error_setg(errp, "Invalid parameter type for '%s', expected: null", what);
            return false;
        }
        return true;
    case QK_ENUM:
        if (!node_is(v, G_TYPE_STRING)) {
            error_setg(errp, "Invalid parameter type for '%s', expected: string", what);
            return false;
        }
        if (qmp_enum_lookup(type, json_node_get_string(v)) < 0) {
            error_setg(errp, "Parameter '%s' does not accept value '%s'",
                       short_name ? short_name : "null", json_node_get_string(v));
            return false;
        }
        return true;
    case QK_ARRAY: {
        JsonArray *a;
        if (!JSON_NODE_HOLDS_ARRAY(v)) {
            error_setg(errp, "Invalid parameter type for '%s', expected: array", what);
            return false;
        }
        a = json_node_get_array(v);
        for (guint i = 0; i < json_array_get_length(a); i++) {
            g_autofree char *sub = g_strdup_printf("%s[%u]", what, i);
            if (!check_value(json_array_get_element(a, i), type->element, sub, NULL, errp)) {
                return false;
            }
        }
        return true;
    }
    case QK_OBJECT:
        return check_object(v, type, what, errp);
    case QK_ALTERNATE:
        for (const QmpMember *m = type->members; m->name; m++) {
            if (check_value(v, m->type, what, short_name, NULL)) {
                return true;
            }
        }
        error_setg(errp, "Invalid parameter type for '%s', expected: %s", what, type->name);
        return false;
    }
    return false;
}

static char *member_path(const char *what, const char *name)
{
    return what && *what ? g_strdup_printf("%s.%s", what, name) : g_strdup(name);
}

/* Checks the members of type (and of the variant the tag selects) in o;
 * marks each one seen in seen. */
static bool check_members(JsonObject *o, const QmpMember *members, const char *what,
                          GHashTable *seen, Error **errp)
{
    for (const QmpMember *m = members; m && m->name; m++) {
        JsonNode *v = json_object_get_member(o, m->name);
        g_autofree char *path = member_path(what, m->name);

        if (!v) {
            if (!m->optional) {
                error_setg(errp, "Parameter '%s' is missing", path);
                return false;
            }
            continue;
        }
        g_hash_table_add(seen, (gpointer)m->name);
        if (!check_value(v, m->type, path, m->name, errp)) {
            return false;
        }
    }
    return true;
}

static bool check_object(JsonNode *v, const QmpType *type, const char *what, Error **errp)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    JsonObject *o;
    GList *keys;
    bool ok = true;

    if (!JSON_NODE_HOLDS_OBJECT(v)) {
        error_setg(errp, "Invalid parameter type for '%s', expected: object",
                   what && *what ? what : "<anonymous>");
        return false;
    }
    o = json_node_get_object(v);
    if (!check_members(o, type->members, what, seen, errp)) {
        return false;
    }
    if (type->tag) {
        const char *tag = json_object_get_string_member(o, type->tag);
        for (const QmpVariant *var = type->variants; var->value; var++) {
            if (strcmp(var->value, tag) == 0 &&
                !check_members(o, var->type->members, what, seen, errp)) {
                return false;
            }
        }
    }
    keys = json_object_get_members(o);
    for (GList *l = keys; l; l = l->next) {
        if (!g_hash_table_contains(seen, l->data)) {
            g_autofree char *path = member_path(what, l->data);
            error_setg(errp, "Parameter '%s' is unexpected", path);
            ok = false;
            break;
        }
    }
    g_list_free(keys);
    return ok;
}

bool qmp_check_value(JsonNode *value, const QmpType *type, const char *what, Error **errp)
{
    return check_value(value, type, what, what, errp);
}

bool qmp_check_args(JsonObject *args, const QmpType *type, Error **errp)
{
    g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);

    json_node_set_object(node, args);
    return check_object(node, type, "", errp);
}

/* ---- getters ---------------------------------------------------------- */

const char *qmp_arg_str(JsonObject *o, const char *name)
{
    return json_object_get_string_member(o, name);
}

int64_t qmp_arg_int(JsonObject *o, const char *name)
{
    return json_object_get_int_member(o, name);
}

uint64_t qmp_arg_uint(JsonObject *o, const char *name)
{
    return (uint64_t)json_object_get_int_member(o, name);
}

double qmp_arg_number(JsonObject *o, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);

    return node_is(n, G_TYPE_INT64) ? (double)json_node_get_int(n) : json_node_get_double(n);
}

bool qmp_arg_bool(JsonObject *o, const char *name)
{
    return json_object_get_boolean_member(o, name);
}

JsonNode *qmp_arg_node(JsonObject *o, const char *name)
{
    return json_object_get_member(o, name);
}

int qmp_arg_enum(JsonObject *o, const char *name, const QmpType *type)
{
    return qmp_enum_lookup(type, json_object_get_string_member(o, name));
}

/* ---- output ----------------------------------------------------------- */

JsonNode *qmp_node_object(JsonObject *o)
{
    JsonNode *n = json_node_new(JSON_NODE_OBJECT);

    json_node_take_object(n, o);
    return n;
}

JsonNode *qmp_node_array(JsonArray *a)
{
    JsonNode *n = json_node_new(JSON_NODE_ARRAY);

    json_node_take_array(n, a);
    return n;
}

JsonNode *qmp_node_str(const char *s)
{
    return json_node_init_string(json_node_alloc(), s);
}

JsonNode *qmp_node_int(int64_t v)
{
    return json_node_init_int(json_node_alloc(), v);
}

JsonNode *qmp_node_bool(bool v)
{
    return json_node_init_boolean(json_node_alloc(), v);
}

/*
 * JSON text exactly as QEMU writes it (its qobject JSON writer): what QMP
 * clients and scripts reading qemu-img's --output=json see byte for byte.
 * Compact: {"a": 1, "b": [2, 3]}; pretty: a new line and four spaces per
 * level for every member and closing bracket (an empty container too:
 * "{" newline "}").  Strings: printable ASCII as is, everything else
 * \uXXXX (upper-case hex, surrogate pairs above U+FFFF, U+FFFD for bytes
 * that are not UTF-8).
 */
#include <math.h>
#include <string.h>
#include "qemu/json-writer.h"
#include "monitor/json-stream.h"     /* json_node_is_big_uint() */

/* As QEMU's to_json(): ASCII as is, everything else \uXXXX (upper-case
 * hex, surrogate pairs beyond the BMP, U+FFFD for invalid UTF-8). */
static void append_string(GString *out, const char *s)
{
    const char *p = s;

    g_string_append_c(out, '"');
    while (*p) {
        gunichar cp = g_utf8_get_char_validated(p, -1);
        const char *next;

        if (cp == (gunichar)-1 || cp == (gunichar)-2) {
            cp = 0xfffd;
            next = p + 1;
        } else {
            next = g_utf8_next_char(p);
        }
        switch (cp) {
        case '"': g_string_append(out, "\\\""); break;
        case '\\': g_string_append(out, "\\\\"); break;
        case '\b': g_string_append(out, "\\b"); break;
        case '\f': g_string_append(out, "\\f"); break;
        case '\n': g_string_append(out, "\\n"); break;
        case '\r': g_string_append(out, "\\r"); break;
        case '\t': g_string_append(out, "\\t"); break;
        default:
            if (cp > 0xffff) {
                g_string_append_printf(out, "\\u%04X\\u%04X", 0xd800 + ((cp - 0x10000) >> 10),
                                       0xdc00 + ((cp - 0x10000) & 0x3ff));
            } else if (cp < 0x20 || cp >= 0x7f) {
                g_string_append_printf(out, "\\u%04X", cp);
            } else {
                g_string_append_c(out, cp);
            }
        }
        p = next;
    }
    g_string_append_c(out, '"');
}

static void append_indent(GString *out, bool pretty, int level)
{
    if (pretty) {
        g_string_append_c(out, '\n');
        for (int i = 0; i < level; i++) {
            g_string_append(out, "    ");
        }
    }
}

static void append_node(GString *out, JsonNode *node, bool pretty, int level)
{
    switch (json_node_get_node_type(node)) {
    case JSON_NODE_OBJECT: {
        JsonObject *o = json_node_get_object(node);
        GList *keys = json_object_get_members(o);
        g_string_append_c(out, '{');
        for (GList *l = keys; l; l = l->next) {
            append_indent(out, pretty, level + 1);
            append_string(out, l->data);
            g_string_append(out, ": ");
            append_node(out, json_object_get_member(o, l->data), pretty, level + 1);
            if (l->next) {
                g_string_append(out, pretty ? "," : ", ");
            }
        }
        /* QEMU's writer closes a container on a new line when pretty,
         * an empty one too ("{\n}") */
        append_indent(out, pretty, level);
        g_list_free(keys);
        g_string_append_c(out, '}');
        break;
    }
    case JSON_NODE_ARRAY: {
        JsonArray *a = json_node_get_array(node);
        guint n = json_array_get_length(a);
        g_string_append_c(out, '[');
        for (guint i = 0; i < n; i++) {
            append_indent(out, pretty, level + 1);
            append_node(out, json_array_get_element(a, i), pretty, level + 1);
            if (i + 1 < n) {
                g_string_append(out, pretty ? "," : ", ");
            }
        }
        append_indent(out, pretty, level);
        g_string_append_c(out, ']');
        break;
    }
    case JSON_NODE_NULL:
        g_string_append(out, "null");
        break;
    case JSON_NODE_VALUE:
        switch (json_node_get_value_type(node)) {
        case G_TYPE_INT64:
            if (json_node_is_big_uint(node)) {
                g_string_append_printf(out, "%" G_GUINT64_FORMAT, (guint64)json_node_get_int(node));
            } else {
                g_string_append_printf(out, "%" G_GINT64_FORMAT, json_node_get_int(node));
            }
            break;
        case G_TYPE_DOUBLE: {
            double d = json_node_get_double(node);
            char buf[G_ASCII_DTOSTR_BUF_SIZE];
            if (!isfinite(d)) {
                g_string_append(out, "null");
                break;
            }
            /* QEMU prints %.17g; keep a ".0"-less integer form the same. */
            g_ascii_formatd(buf, sizeof(buf), "%.17g", d);
            g_string_append(out, buf);
            break;
        }
        case G_TYPE_BOOLEAN:
            g_string_append(out, json_node_get_boolean(node) ? "true" : "false");
            break;
        case G_TYPE_STRING:
            append_string(out, json_node_get_string(node));
            break;
        default:
            g_string_append(out, "null");
        }
        break;
    }
}

void json_write_qemu(GString *out, JsonNode *node, bool pretty)
{
    append_node(out, node, pretty, 0);
}

char *json_to_string_qemu(JsonNode *node, bool pretty)
{
    GString *s = g_string_new(NULL);

    append_node(s, node, pretty, 0);
    return g_string_free(s, FALSE);
}

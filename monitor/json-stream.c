/*
 * JSON message splitting and parsing for QMP (see monitor/json-stream.h).
 *
 * The splitter only tracks what delimits a message: brace and bracket
 * depth, and whether it is inside a string (and after a backslash there).
 * json-glib parses each complete message.  Like QEMU's streamer, a
 * message ends when the depth returns to zero, or goes negative (an
 * error); a top-level scalar ends at whitespace or a delimiter.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "monitor/json-stream.h"

void json_stream_init(JsonStreamer *s, size_t max_size, JsonStreamEmit *emit, void *opaque)
{
    memset(s, 0, sizeof(*s));
    s->emit = emit;
    s->opaque = opaque;
    s->max_size = max_size ? max_size : JSON_STREAM_MAX_SIZE;
    s->buf = g_string_new(NULL);
}

void json_stream_reset(JsonStreamer *s)
{
    g_string_truncate(s->buf, 0);
    s->braces = s->brackets = 0;
    s->quote = 0;
    s->escape = s->skipping = s->scalar = false;
}

void json_stream_destroy(JsonStreamer *s)
{
    if (s->buf) {
        g_string_free(s->buf, TRUE);
        s->buf = NULL;
    }
}

static void stream_emit_error(JsonStreamer *s, const char *fmt, const char *arg)
{
    Error *err = NULL;

    error_setg(&err, fmt, arg);
    s->emit(s->opaque, NULL, err);
}

/* The message in buf is complete (or broken): parse and hand it on. */
static void stream_flush(JsonStreamer *s)
{
    Error *err = NULL;
    JsonNode *node;
    bool skipped = s->skipping;

    if (!skipped && s->scalar && g_ascii_isalpha(s->buf->str[0]) &&
        strcmp(s->buf->str, "true") && strcmp(s->buf->str, "false") &&
        strcmp(s->buf->str, "null")) {
        /* QEMU's lexer: a word that is not a JSON keyword. */
        g_autofree char *word = g_strdup(s->buf->str);
        json_stream_reset(s);
        stream_emit_error(s, "JSON parse error, invalid keyword '%s'", word);
        return;
    }
    if (!skipped && s->buf->len) {
        node = json_parse_text(s->buf->str, s->buf->len, &err);
        json_stream_reset(s);
        s->emit(s->opaque, node, err);
        return;
    }
    json_stream_reset(s);
}

static bool is_delim(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '{' || c == '[' ||
           c == '}' || c == ']' || c == ',' || c == ':' || c == '"' || c == '\'';
}

/* Grows buf by c, unless over the size limit (then skip the message). */
static void stream_put(JsonStreamer *s, char c)
{
    if (s->skipping) {
        return;
    }
    if (s->buf->len >= s->max_size) {
        s->skipping = true;
        g_string_truncate(s->buf, 0);
        stream_emit_error(s, "JSON token size limit exceeded%s", "");
        return;
    }
    g_string_append_c(s->buf, c);
}

static void stream_feed_char(JsonStreamer *s, char c)
{
    int depth = s->braces + s->brackets;

    if (s->quote) {
        stream_put(s, c);
        if (s->escape) {
            s->escape = false;
        } else if (c == '\\') {
            s->escape = true;
        } else if (c == s->quote) {
            s->quote = 0;
            if (depth == 0) {
                stream_flush(s);        /* a top-level string */
            }
        }
        return;
    }
    if (s->scalar) {
        if (!is_delim(c)) {
            stream_put(s, c);
            return;
        }
        stream_flush(s);
        depth = 0;
    }
    switch (c) {
    case ' ': case '\t': case '\r': case '\n':
        if (depth) {
            stream_put(s, c);
        }
        return;
    case '"': case '\'':
        s->quote = c;
        stream_put(s, c);
        return;
    case '{': case '[':
        if (c == '{') {
            s->braces++;
        } else {
            s->brackets++;
        }
        if (s->braces + s->brackets > JSON_STREAM_MAX_NESTING && !s->skipping) {
            s->skipping = true;
            g_string_truncate(s->buf, 0);
            stream_emit_error(s, "JSON nesting depth limit exceeded%s", "");
            return;
        }
        stream_put(s, c);
        return;
    case '}': case ']':
        if (depth == 0) {
            stream_emit_error(s, "JSON parse error, expecting value%s", "");
            return;
        }
        if (c == '}') {
            s->braces--;
        } else {
            s->brackets--;
        }
        stream_put(s, c);
        if (s->braces < 0 || s->brackets < 0 || (s->braces == 0 && s->brackets == 0)) {
            stream_flush(s);
        }
        return;
    default:
        if (depth) {
            stream_put(s, c);
            return;
        }
        /* A top-level scalar (number, keyword) or garbage. */
        s->scalar = true;
        stream_put(s, c);
        return;
    }
}

void json_stream_feed(JsonStreamer *s, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        stream_feed_char(s, data[i]);
    }
}

/* ---- parsing with QEMU's number rules --------------------------------- */

static GHashTable *big_uint_nodes;      /* of the most recent parse */

bool json_node_is_big_uint(JsonNode *node)
{
    return big_uint_nodes && g_hash_table_contains(big_uint_nodes, node);
}

void json_node_mark_big_uint(JsonNode *node)
{
    if (!big_uint_nodes) {
        big_uint_nodes = g_hash_table_new(NULL, NULL);
    }
    g_hash_table_add(big_uint_nodes, node);
}

typedef enum { NUM_INT, NUM_BIG_UINT, NUM_HUGE } NumClass;

/* Integer tokens outside strings, in text order; also whether any is not
 * a plain int64.  Returns the classes (or NULL if all fit int64). */
static GArray *scan_integers(const char *text, size_t len, GArray **ends)
{
    GArray *classes = g_array_new(FALSE, FALSE, sizeof(int));
    bool special = false;
    char quote = 0;

    *ends = g_array_new(FALSE, FALSE, sizeof(size_t));
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (quote) {
            if (c == '\\') {
                i++;
            } else if (c == quote) {
                quote = 0;
            }
            continue;
        }
        if (c == '"' || c == '\'') {
            quote = c;
            continue;
        }
        if (c == '-' || g_ascii_isdigit(c)) {
            size_t start = i, end;
            bool is_int = true;
            while (i + 1 < len && (g_ascii_isdigit(text[i + 1]) || strchr(".eE+-", text[i + 1]))) {
                i++;
                if (!g_ascii_isdigit(text[i])) {
                    is_int = false;
                }
            }
            end = i + 1;
            if (!is_int) {
                continue;
            }
            int cls = NUM_INT;
            g_autofree char *tok = g_strndup(text + start, end - start);
            errno = 0;
            if (tok[0] == '-') {
                (void)g_ascii_strtoll(tok, NULL, 10);
                if (errno == ERANGE) {
                    cls = NUM_HUGE;
                }
            } else {
                (void)g_ascii_strtoll(tok, NULL, 10);
                if (errno == ERANGE) {
                    errno = 0;
                    (void)g_ascii_strtoull(tok, NULL, 10);
                    cls = errno == ERANGE ? NUM_HUGE : NUM_BIG_UINT;
                }
            }
            special |= cls != NUM_INT;
            g_array_append_val(classes, cls);
            g_array_append_val(*ends, end);
        }
    }
    if (!special) {
        g_array_free(classes, TRUE);
        g_array_free(*ends, TRUE);
        *ends = NULL;
        return NULL;
    }
    return classes;
}

static void mark_big_uints(JsonNode *node, GArray *classes, guint *idx)
{
    switch (json_node_get_node_type(node)) {
    case JSON_NODE_OBJECT: {
        JsonObject *o = json_node_get_object(node);
        GList *members = json_object_get_members(o);
        for (GList *l = members; l; l = l->next) {
            mark_big_uints(json_object_get_member(o, l->data), classes, idx);
        }
        g_list_free(members);
        break;
    }
    case JSON_NODE_ARRAY: {
        JsonArray *a = json_node_get_array(node);
        for (guint i = 0; i < json_array_get_length(a); i++) {
            mark_big_uints(json_array_get_element(a, i), classes, idx);
        }
        break;
    }
    case JSON_NODE_VALUE:
        if (json_node_get_value_type(node) == G_TYPE_INT64) {
            if (*idx < classes->len && g_array_index(classes, int, *idx) == NUM_BIG_UINT) {
                g_hash_table_add(big_uint_nodes, node);
            }
            (*idx)++;
        }
        break;
    default:
        break;
    }
}

/* QEMU's lexer reports a bare word that is not a JSON keyword as
 * "invalid keyword": find the first one outside strings. */
static char *first_bad_word(const char *text, size_t len)
{
    char quote = 0;

    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (quote) {
            if (c == '\\') {
                i++;
            } else if (c == quote) {
                quote = 0;
            }
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else if (g_ascii_isalpha(c) && (i == 0 || !g_ascii_isalnum(text[i - 1]))) {
            size_t j = i;
            g_autofree char *w = NULL;
            while (j < len && (g_ascii_isalnum(text[j]) || text[j] == '_')) {
                j++;
            }
            w = g_strndup(text + i, j - i);
            /* 1e5 style exponents follow a digit and are skipped above. */
            if (strcmp(w, "true") && strcmp(w, "false") && strcmp(w, "null")) {
                return g_steal_pointer(&w);
            }
            i = j - 1;
        }
    }
    return NULL;
}

JsonNode *json_parse_text(const char *text, size_t len, Error **errp)
{
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    g_autoptr(GError) gerr = NULL;
    GArray *ends = NULL;
    GArray *classes = scan_integers(text, len, &ends);
    g_autofree char *copy = NULL;
    JsonNode *root;

    if (big_uint_nodes) {
        g_hash_table_remove_all(big_uint_nodes);
    }
    if (classes) {
        /* Integers beyond uint64 become doubles, as in QEMU: append ".0". */
        GString *s = g_string_new_len(text, len);
        for (gint i = classes->len - 1; i >= 0; i--) {
            if (g_array_index(classes, int, i) == NUM_HUGE) {
                g_string_insert(s, g_array_index(ends, size_t, i), ".0");
            }
        }
        len = s->len;
        copy = g_string_free(s, FALSE);
        text = copy;
    }
    if (memchr(text, 0, len)) {
        error_setg(errp, "JSON parse error, invalid character NUL");
        goto out;
    }
    if (!json_parser_load_from_data(parser, text, len, &gerr)) {
        const char *msg = gerr->message;
        g_autofree char *word = first_bad_word(text, len);
        if (word) {
            error_setg(errp, "JSON parse error, invalid keyword '%s'", word);
            goto out;
        }
        /* "<data>:1:10: Parse error: ..." -> the part after the position */
        const char *p = strstr(msg, "Parse error: ");
        error_setg(errp, "JSON parse error, %s", p ? p + 13 : msg);
        goto out;
    }
    root = json_parser_steal_root(parser);
    if (!root) {
        error_setg(errp, "JSON parse error, expecting value");
        goto out;
    }
    if (classes) {
        guint idx = 0;
        if (!big_uint_nodes) {
            big_uint_nodes = g_hash_table_new(NULL, NULL);
        }
        mark_big_uints(root, classes, &idx);
    }
    if (classes) {
        g_array_free(classes, TRUE);
        g_array_free(ends, TRUE);
    }
    return root;
out:
    if (classes) {
        g_array_free(classes, TRUE);
        g_array_free(ends, TRUE);
    }
    return NULL;
}

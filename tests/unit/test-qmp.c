/* QMP without a VM: the JSON splitter (monitor/json-stream.c), the
 * argument checker and the serializer (monitor/qmp-dispatch.c). */
#include <string.h>
#include <glib.h>
#include "monitor/json-stream.h"
#include "monitor/qmp-internal.h"
#include "monitor/qmp-gen.h"

typedef struct Seen {
    GPtrArray *msgs;            /* serialized value or "ERR:<message>" */
} Seen;

static void collect(void *opaque, JsonNode *value, Error *err)
{
    Seen *s = opaque;

    if (err) {
        g_ptr_array_add(s->msgs, g_strdup_printf("ERR:%s", err->message));
        g_error_free(err);
    } else {
        g_ptr_array_add(s->msgs, json_to_string_qemu(value, false));
        json_node_unref(value);
    }
}

static GPtrArray *feed_chunks(const char *const *chunks, size_t max)
{
    JsonStreamer js;
    Seen s = { g_ptr_array_new_with_free_func(g_free) };

    json_stream_init(&js, max, collect, &s);
    for (; *chunks; chunks++) {
        json_stream_feed(&js, *chunks, strlen(*chunks));
    }
    json_stream_destroy(&js);
    return s.msgs;
}

static GPtrArray *feed(const char *text)
{
    const char *chunks[] = { text, NULL };
    return feed_chunks(chunks, 0);
}

static void expect(GPtrArray *got, const char *const *want)
{
    guint i = 0;

    for (; want[i]; i++) {
        g_assert_cmpuint(i, <, got->len);
        g_assert_cmpstr(g_ptr_array_index(got, i), ==, want[i]);
    }
    g_assert_cmpuint(got->len, ==, i);
    g_ptr_array_unref(got);
}

static void test_split(void)
{
    expect(feed("{\"a\": 1}{\"b\": [2, {\"c\": \"}\"}]}\n  {\"d\":\"\\\"{\"}"),
           (const char *const[]){ "{\"a\": 1}", "{\"b\": [2, {\"c\": \"}\"}]}",
                                  "{\"d\": \"\\\"{\"}", NULL });
}

static void test_byte_by_byte(void)
{
    const char *text = "{ \"execute\" : \"x\", \"id\": [1, 2.5, \"\\u00e9\"] }";
    JsonStreamer js;
    Seen s = { g_ptr_array_new_with_free_func(g_free) };

    json_stream_init(&js, 0, collect, &s);
    for (const char *p = text; *p; p++) {
        json_stream_feed(&js, p, 1);
        if (p[1]) {
            g_assert_cmpuint(s.msgs->len, ==, 0);
        }
    }
    json_stream_destroy(&js);
    expect(s.msgs, (const char *const[]){ "{\"execute\": \"x\", \"id\": [1, 2.5, \"\\u00E9\"]}", NULL });
}

static void test_garbage_resync(void)
{
    expect(feed("}oops {\"a\": tru} 42 [1] {\"ok\": null}"),
           (const char *const[]){ "ERR:JSON parse error, expecting value",
                                  "ERR:JSON parse error, invalid keyword 'oops'",
                                  "ERR:JSON parse error, invalid keyword 'tru'",
                                  "42", "[1]", "{\"ok\": null}", NULL });
}

static void test_limits(void)
{
    g_autofree char *big = g_strdup_printf("{\"a\": \"%0*d\"}{\"b\": 1}", 200, 0);
    const char *chunks[] = { big, NULL };
    GString *deep = g_string_new(NULL);

    expect(feed_chunks(chunks, 100),
           (const char *const[]){ "ERR:JSON token size limit exceeded", "{\"b\": 1}", NULL });
    for (int i = 0; i < 1100; i++) {
        g_string_append_c(deep, '[');
    }
    for (int i = 0; i < 1100; i++) {
        g_string_append_c(deep, ']');
    }
    g_string_append(deep, "{}");
    expect(feed(deep->str),
           (const char *const[]){ "ERR:JSON nesting depth limit exceeded", "{}", NULL });
    g_string_free(deep, TRUE);
}

static void test_numbers(void)
{
    expect(feed("[9223372036854775807, -9223372036854775808, 18446744073709551615, "
                "100000000000000000000, 1.5e3, -0]"),
           (const char *const[]){ "[9223372036854775807, -9223372036854775808, "
                                  "18446744073709551615, 1e+20, 1500, 0]", NULL });
}

static JsonObject *obj(const char *text)
{
    JsonNode *n = json_parse_text(text, strlen(text), NULL);
    JsonObject *o;

    g_assert_nonnull(n);
    o = json_object_ref(json_node_get_object(n));
    json_node_unref(n);
    return o;
}

static void check_args(const char *cmd, const char *args, const char *want_err)
{
    const QmpCommand *c = qmp_find_command(cmd);
    JsonObject *o = obj(args);
    g_autoptr(GError) err = NULL;
    bool ok;

    g_assert_nonnull(c);
    ok = qmp_check_args(o, c->arg_type, &err);
    if (want_err) {
        g_assert_false(ok);
        g_assert_cmpstr(err->message, ==, want_err);
    } else {
        g_assert_true(ok);
    }
    json_object_unref(o);
}

static void test_arg_check(void)
{
    check_args("pmemsave", "{\"val\": 1, \"size\": 2, \"filename\": \"f\"}", NULL);
    check_args("pmemsave", "{\"size\": 2, \"filename\": \"f\"}", "Parameter 'val' is missing");
    check_args("pmemsave", "{\"val\": true, \"size\": 2, \"filename\": \"f\"}",
               "Invalid parameter type for 'val', expected: integer");
    check_args("pmemsave", "{\"val\": 1, \"size\": 2, \"filename\": \"f\", \"z\": 0}",
               "Parameter 'z' is unexpected");
    check_args("qmp_capabilities", "{\"enable\": [\"oob\"]}", NULL);
    check_args("qmp_capabilities", "{\"enable\": \"oob\"}",
               "Invalid parameter type for 'enable', expected: array");
    check_args("qmp_capabilities", "{\"enable\": [\"x\"]}",
               "Parameter 'null' does not accept value 'x'");
    check_args("chardev-add", "{\"id\": \"a\", \"backend\": {\"type\": \"socket\", \"data\": "
               "{\"addr\": {\"type\": \"inet\", \"data\": {\"host\": \"h\", \"port\": \"1\", "
               "\"to\": 70000}}}}}",
               "Parameter 'to' expects uint16_t");
    check_args("chardev-add", "{\"id\": \"a\", \"backend\": {\"type\": \"pty\", \"data\": {},"
               " \"extra\": 1}}", "Parameter 'backend.extra' is unexpected");
    check_args("query-status", "{}", NULL);
}

static void test_pretty(void)
{
    const char *text = "{\"a\": [1, {}], \"b\": {\"c\": []}}";
    g_autoptr(JsonNode) n = json_parse_text(text, strlen(text), NULL);
    g_autofree char *s = json_to_string_qemu(n, true);

    /* QEMU's writer closes every container on a new line when pretty,
     * empty ones too (qemu-img's JSON and -mon pretty=on show it) */
    g_assert_cmpstr(s, ==, "{\n    \"a\": [\n        1,\n        {\n        }\n    ],\n"
                           "    \"b\": {\n        \"c\": [\n        ]\n    }\n}");
    g_free(s);
    s = json_to_string_qemu(n, false);
    g_assert_cmpstr(s, ==, "{\"a\": [1, {}], \"b\": {\"c\": []}}");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qmp/split", test_split);
    g_test_add_func("/qmp/byte-by-byte", test_byte_by_byte);
    g_test_add_func("/qmp/garbage", test_garbage_resync);
    g_test_add_func("/qmp/limits", test_limits);
    g_test_add_func("/qmp/numbers", test_numbers);
    g_test_add_func("/qmp/args", test_arg_check);
    g_test_add_func("/qmp/pretty", test_pretty);
    return g_test_run();
}

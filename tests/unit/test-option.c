/* Option strings and value parsers (util/option.c). */
#include <string.h>
#include <glib.h>
#include "qemu/option.h"

#define MiB (1024ULL * 1024)
#define GiB (1024ULL * MiB)

static QemuOpts *parse_ok(const char *s, const char *implied)
{
    g_autoptr(GError) err = NULL;
    QemuOpts *o = qemu_opts_parse(s, implied, &err);

    if (!o) {
        g_error("'%s' refused: %s", s, err->message);
    }
    return o;
}

static void parse_bad(const char *s, const char *implied, const char *needle)
{
    g_autoptr(GError) err = NULL;
    QemuOpts *o = qemu_opts_parse(s, implied, &err);

    if (o) {
        g_error("'%s' accepted", s);
    }
    g_assert_nonnull(err);
    if (needle && !strstr(err->message, needle)) {
        g_error("error for '%s' is '%s', without '%s'", s, err->message, needle);
    }
}

static void test_parse_basic(void)
{
    QemuOpts *o = parse_ok("isa-serial,chardev=s0,id=com1", "driver");

    g_assert_cmpuint(o->opts->len, ==, 3);
    g_assert_cmpstr(qemu_opt_get(o, "driver"), ==, "isa-serial");
    g_assert_cmpstr(qemu_opt_get(o, "chardev"), ==, "s0");
    g_assert_cmpstr(qemu_opt_get(o, "id"), ==, "com1");
    g_assert_null(qemu_opt_get(o, "nosuch"));
    g_assert_false(qemu_opt_has(o, "nosuch"));
    g_assert_true(qemu_opts_check_unused(o, NULL));
    qemu_opts_free(o);

    /* the implied key may also be spelled out */
    o = parse_ok("driver=isa-serial,id=x", "driver");
    g_assert_cmpstr(qemu_opt_get(o, "driver"), ==, "isa-serial");
    qemu_opts_free(o);

    /* without an implied key, a bare first word is a flag */
    o = parse_ok("foo,bar=1", NULL);
    g_assert_cmpstr(qemu_opt_get(o, "foo"), ==, "on");
    qemu_opts_free(o);

    /* empty string: no options */
    o = parse_ok("", "driver");
    g_assert_cmpuint(o->opts->len, ==, 0);
    qemu_opts_free(o);

    /* values may be empty or contain '=' */
    o = parse_ok("a=,b=x=y", NULL);
    g_assert_cmpstr(qemu_opt_get(o, "a"), ==, "");
    g_assert_cmpstr(qemu_opt_get(o, "b"), ==, "x=y");
    qemu_opts_free(o);
}

static void test_parse_escapes(void)
{
    QemuOpts *o = parse_ok("file,path=/tmp/a,,b,,,,c,id=x", "backend");

    g_assert_cmpstr(qemu_opt_get(o, "backend"), ==, "file");
    g_assert_cmpstr(qemu_opt_get(o, "path"), ==, "/tmp/a,b,,c");
    g_assert_cmpstr(qemu_opt_get(o, "id"), ==, "x");
    qemu_opts_free(o);

    o = parse_ok("a,,b,k=v", "implied");
    g_assert_cmpstr(qemu_opt_get(o, "implied"), ==, "a,b");
    g_assert_cmpstr(qemu_opt_get(o, "k"), ==, "v");
    qemu_opts_free(o);

    o = parse_ok("k=v,,", NULL);
    g_assert_cmpstr(qemu_opt_get(o, "k"), ==, "v,");
    qemu_opts_free(o);
}

static void test_parse_flags(void)
{
    QemuOpts *o = parse_ok("socket,id=mon,path=/tmp/s,server,nowait", "backend");
    bool b;

    g_assert_cmpstr(qemu_opt_get(o, "backend"), ==, "socket");
    g_assert_cmpstr(qemu_opt_get(o, "server"), ==, "on");
    g_assert_cmpstr(qemu_opt_get(o, "wait"), ==, "off");
    g_assert_true(qemu_opt_get_bool(o, "server", false, &b, NULL));
    g_assert_true(b);
    g_assert_true(qemu_opt_get_bool(o, "wait", true, &b, NULL));
    g_assert_false(b);
    g_assert_true(qemu_opt_get_bool(o, "telnet", true, &b, NULL));
    g_assert_true(b);   /* default */
    g_assert_null(qemu_opt_get(o, "nowait"));
    qemu_opts_free(o);
}

static void test_parse_errors(void)
{
    parse_bad("a,", "k", "trailing");
    parse_bad("a,b=1,", "k", NULL);
    parse_bad("a,=1", "k", "empty");
    parse_bad("=1", NULL, "empty");
    parse_bad(",a", NULL, NULL);
    parse_bad("a,,,", "k", NULL);
}

static void test_last_wins_and_unused(void)
{
    QemuOpts *o = parse_ok("x=1,y=2,x=3", NULL);
    g_autoptr(GError) err = NULL;
    uint64_t n;

    g_assert_cmpstr(qemu_opt_get(o, "x"), ==, "3");
    g_assert_true(qemu_opt_get_number(o, "x", 0, &n, NULL));
    g_assert_cmpuint(n, ==, 3);
    /* y was never asked for */
    g_assert_false(qemu_opts_check_unused(o, &err));
    g_assert_nonnull(strstr(err->message, "'y'"));
    g_clear_error(&err);
    g_assert_true(qemu_opt_has(o, "y"));
    g_assert_true(qemu_opts_check_unused(o, &err));

    /* typed getters */
    qemu_opt_set(o, "sz", "2G");
    qemu_opt_set(o, "bad", "zz");
    g_assert_true(qemu_opt_get_size(o, "sz", 0, &n, NULL));
    g_assert_cmpuint(n, ==, 2 * GiB);
    g_assert_true(qemu_opt_get_size(o, "absent", 77, &n, NULL));
    g_assert_cmpuint(n, ==, 77);
    g_assert_true(qemu_opt_get_number(o, "absent", 5, &n, NULL));
    g_assert_cmpuint(n, ==, 5);
    g_assert_false(qemu_opt_get_number(o, "bad", 0, &n, &err));
    g_assert_nonnull(strstr(err->message, "bad"));
    g_clear_error(&err);
    bool b;
    g_assert_false(qemu_opt_get_bool(o, "bad", false, &b, &err));
    g_assert_nonnull(strstr(err->message, "bad"));
    qemu_opts_free(o);
}

static void size_ok(const char *s, char suffix, uint64_t want)
{
    g_autoptr(GError) err = NULL;
    uint64_t v = 12345;

    if (!parse_size("size", s, suffix, &v, &err)) {
        g_error("size '%s' refused: %s", s, err->message);
    }
    if (v != want) {
        g_error("size '%s' (default suffix %c) = %" G_GUINT64_FORMAT ", want %" G_GUINT64_FORMAT,
                s, suffix ? suffix : '-', v, want);
    }
}

static void size_bad(const char *s, char suffix)
{
    g_autoptr(GError) err = NULL;
    uint64_t v = 12345;

    if (parse_size("mysize", s, suffix, &v, &err)) {
        g_error("size '%s' accepted as %" G_GUINT64_FORMAT, s, v);
    }
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(err->message, "mysize"));
    g_assert_cmpuint(v, ==, 12345);
}

static void test_parse_size(void)
{
    size_ok("512", 0, 512);
    size_ok("512", 'M', 512 * MiB);
    size_ok("512M", 0, 512 * MiB);
    size_ok("512m", 0, 512 * MiB);
    size_ok("512M", 'M', 512 * MiB);
    size_ok("4G", 'M', 4 * GiB);
    size_ok("4G", 0, 4 * GiB);
    size_ok("4GB", 0, 4 * GiB);
    size_ok("4GiB", 0, 4 * GiB);
    size_ok("64K", 0, 65536);
    size_ok("1T", 0, 1ULL << 40);
    size_ok("0x1000", 0, 0x1000);
    size_ok("0", 0, 0);
    size_ok("100B", 'M', 100);
    size_ok("16777215T", 0, 16777215ULL << 40);
    size_ok("18446744073709551615", 0, UINT64_MAX);
    /* a leading zero is not octal (QEMU reads sizes as decimal) */
    size_ok("010", 0, 10);
    size_ok("08M", 0, 8 * MiB);

    size_bad("", 0);
    size_bad("M", 0);
    size_bad("abc", 0);
    size_bad("-1", 0);
    size_bad("-1M", 'M');
    size_bad(" 1", 0);
    size_bad("12X", 0);
    size_bad("1MM", 0);
    size_bad("1Gx", 0);
    size_bad("16777216T", 0);               /* 2^64: overflow */
    size_bad("18446744073709551616", 0);    /* overflow */
    size_bad("17179869184G", 0);
    size_bad("17592186044416", 'M');        /* overflow through the default suffix */
    size_bad("0x", 0);
}

static void test_parse_bool(void)
{
    static const char *const yes[] = { "on", "yes", "true", "y" };
    static const char *const no[] = { "off", "no", "false", "n" };
    static const char *const bad[] = { "", "1", "0", "On", "maybe", "onn" };
    bool b;

    for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
        b = false;
        g_assert_true(parse_bool("p", yes[i], &b, NULL));
        g_assert_true(b);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(no); i++) {
        b = true;
        g_assert_true(parse_bool("p", no[i], &b, NULL));
        g_assert_false(b);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) err = NULL;
        if (parse_bool("myflag", bad[i], &b, &err)) {
            g_error("bool '%s' accepted", bad[i]);
        }
        g_assert_nonnull(strstr(err->message, "myflag"));
    }
}

static void test_parse_uint_int(void)
{
    static const char *const bad_uint[] = { "-1", "-0", " 1", "", "1x", "x", "18446744073709551616",
                                            "1.0", "0x" };
    uint64_t u;
    int64_t i;

    g_assert_true(parse_uint("n", "0", &u, NULL));
    g_assert_cmpuint(u, ==, 0);
    g_assert_true(parse_uint("n", "42", &u, NULL));
    g_assert_cmpuint(u, ==, 42);
    g_assert_true(parse_uint("n", "0x10", &u, NULL));
    g_assert_cmpuint(u, ==, 16);
    g_assert_true(parse_uint("n", "18446744073709551615", &u, NULL));
    g_assert_cmpuint(u, ==, UINT64_MAX);
    for (size_t k = 0; k < G_N_ELEMENTS(bad_uint); k++) {
        g_autoptr(GError) err = NULL;
        if (parse_uint("count", bad_uint[k], &u, &err)) {
            g_error("uint '%s' accepted as %" G_GUINT64_FORMAT, bad_uint[k], u);
        }
        g_assert_nonnull(strstr(err->message, "count"));
    }

    g_assert_true(parse_int("n", "-42", &i, NULL));
    g_assert_cmpint(i, ==, -42);
    g_assert_true(parse_int("n", "9223372036854775807", &i, NULL));
    g_assert_cmpint(i, ==, INT64_MAX);
    g_assert_false(parse_int("n", "9223372036854775808", &i, NULL));
    g_assert_false(parse_int("n", "", &i, NULL));
    g_assert_false(parse_int("n", "12a", &i, NULL));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/option/parse/basic", test_parse_basic);
    g_test_add_func("/option/parse/escapes", test_parse_escapes);
    g_test_add_func("/option/parse/flags", test_parse_flags);
    g_test_add_func("/option/parse/errors", test_parse_errors);
    g_test_add_func("/option/parse/last-wins-unused", test_last_wins_and_unused);
    g_test_add_func("/option/size", test_parse_size);
    g_test_add_func("/option/bool", test_parse_bool);
    g_test_add_func("/option/uint-int", test_parse_uint_int);
    return g_test_run();
}

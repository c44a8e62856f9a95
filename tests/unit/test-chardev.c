/*
 * Chardev core and backends: option errors, file/null/logfile output,
 * unix and tcp sockets (server and client) driven through the GLib main
 * loop, flow control, pty.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>
#include "chardev/char.h"

static char *tmpdir;

typedef struct TestFe {
    CharBackend be;
    GByteArray *in;
    int window;             /* bytes can_read() grants; 0 pauses input */
    bool fifo;              /* reads use up the window, as a UART's FIFO */
    int opened;
    int closed;
} TestFe;

static int fe_can_read(void *opaque)
{
    return ((TestFe *)opaque)->window;
}

static void fe_read(void *opaque, const uint8_t *buf, int size)
{
    TestFe *fe = opaque;

    g_assert_cmpint(size, <=, fe->window);
    g_byte_array_append(fe->in, buf, size);
    if (fe->fifo) {
        fe->window -= size;
    }
}

static void fe_event(void *opaque, QEMUChrEvent event)
{
    TestFe *fe = opaque;

    if (event == CHR_EVENT_OPENED) {
        fe->opened++;
    } else if (event == CHR_EVENT_CLOSED) {
        fe->closed++;
    }
}

static void fe_attach(TestFe *fe, Chardev *chr)
{
    Error *err = NULL;

    memset(fe, 0, sizeof(*fe));
    fe->in = g_byte_array_new();
    fe->window = 4096;
    g_assert_true(qemu_chr_fe_init(&fe->be, chr, &err));
    g_assert_no_error(err);
    qemu_chr_fe_set_handlers(&fe->be, fe_can_read, fe_read, fe_event, fe);
}

static void fe_detach(TestFe *fe)
{
    qemu_chr_fe_deinit(&fe->be);
    g_byte_array_free(fe->in, TRUE);
}

static int fe_write_str(TestFe *fe, const char *s)
{
    return qemu_chr_fe_write_all(&fe->be, (const uint8_t *)s, strlen(s));
}

/* Runs the main loop until *counter reaches want (5 s at most). */
static bool iterate_until_count(int *counter, int want)
{
    gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

    while (*counter < want && g_get_monotonic_time() < end) {
        if (!g_main_context_iteration(NULL, FALSE)) {
            g_usleep(1000);
        }
    }
    return *counter >= want;
}

static bool iterate_until_bytes(TestFe *fe, guint want)
{
    gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

    while (fe->in->len < want && g_get_monotonic_time() < end) {
        if (!g_main_context_iteration(NULL, FALSE)) {
            g_usleep(1000);
        }
    }
    return fe->in->len >= want;
}

static void iterate_briefly(void)
{
    for (int i = 0; i < 20; i++) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(500);
    }
}

static Chardev *chr_new_ok(const char *optstr)
{
    Error *err = NULL;
    Chardev *chr = qemu_chr_new_from_opts(optstr, &err);

    g_assert_no_error(err);
    g_assert_nonnull(chr);
    return chr;
}

static void chr_new_fails(const char *optstr, const char *message)
{
    Error *err = NULL;
    Chardev *chr = qemu_chr_new_from_opts(optstr, &err);

    g_assert_null(chr);
    g_assert_nonnull(err);
    if (!strstr(err->message, message)) {
        g_error("'%s': got '%s', want '%s'", optstr, err->message, message);
    }
    g_error_free(err);
}

static char *read_file(const char *path)
{
    char *contents = NULL;

    g_assert_true(g_file_get_contents(path, &contents, NULL, NULL));
    return contents;
}

/* Reads exactly len bytes from a plain socket/fd, 5 s at most. */
static void fd_read_exact(int fd, char *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        ssize_t n;

        g_assert_cmpint(poll(&pfd, 1, 5000), ==, 1);
        n = read(fd, buf + got, len - got);
        g_assert_cmpint(n, >, 0);
        got += n;
    }
}

static void fd_write_str(int fd, const char *s)
{
    g_assert_cmpint(send(fd, s, strlen(s), MSG_NOSIGNAL), ==, (ssize_t)strlen(s));
}

/* accept() while the main loop runs (the chardev may connect from a timer). */
static int accept_iterating(int lfd)
{
    gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

    while (g_get_monotonic_time() < end) {
        struct pollfd pfd = { .fd = lfd, .events = POLLIN };
        if (poll(&pfd, 1, 0) == 1) {
            return accept(lfd, NULL, NULL);
        }
        if (!g_main_context_iteration(NULL, FALSE)) {
            g_usleep(1000);
        }
    }
    g_assert_not_reached();
}

static int unix_connect(const char *path)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    g_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
    g_assert_cmpint(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), ==, 0);
    return fd;
}

static int tcp_connect(int port)
{
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    g_assert_cmpint(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), ==, 0);
    return fd;
}

/* Options */

static void test_parse_errors(void)
{
    Chardev *chr;

    chr_new_fails("bogus,id=c0", "'bogus' is not a valid char driver name");
    chr_new_fails("null", "chardev: no id specified");
    chr_new_fails("id=c0", "chardev: \"c0\" missing backend");
    chr_new_fails("null,id=c0,frob=1", "Invalid parameter 'frob'");
    chr_new_fails("null,id=c0,frob=1", "chardev 'c0'");
    chr_new_fails("null,id=0bad", "Parameter 'id' expects an identifier");
    chr_new_fails("file,id=c0", "chardev: file: no filename given");
    chr_new_fails("file,id=c0,path=/nonexistent/dir/x", "Could not open '/nonexistent/dir/x'");
    chr_new_fails("socket,id=c0", "chardev: socket: no host given");
    chr_new_fails("socket,id=c0,host=localhost", "chardev: socket: no port given");
    chr_new_fails("socket,id=c0,path=/tmp/x,wait=off", "'wait' option is incompatible");
    chr_new_fails("socket,id=c0,host=127.0.0.1,port=1,server=on,telnet=on",
                  "telnet=on is not supported");
    chr_new_fails("socket,id=c0,server=on,wait=maybe,path=/tmp/x", "Parameter 'wait'");
    chr_new_fails("null,id=c0,mux=on", "mux=on is not supported");
    g_assert_null(qemu_chr_find("c0"));

    chr = chr_new_ok("null,id=c0");
    g_assert_true(qemu_chr_find("c0") == chr);
    chr_new_fails("null,id=c0", "Duplicate ID 'c0' for chardev");
    qemu_chr_delete(chr);
    g_assert_null(qemu_chr_find("c0"));
}

static void test_legacy(void)
{
    Error *err = NULL;
    Chardev *chr, *chr2;
    GPtrArray *list;

    chr = qemu_chr_new("serial0", "null", &err);
    g_assert_no_error(err);
    g_assert_cmpstr(chr->label, ==, "serial0");
    g_assert_cmpstr(chr->filename, ==, "null");

    chr2 = qemu_chr_new("serial1", "chardev:serial0", &err);
    g_assert_no_error(err);
    g_assert_true(chr2 == chr);

    list = qemu_chr_list();
    g_assert_cmpuint(list->len, ==, 1);
    g_ptr_array_free(list, TRUE);

    g_assert_null(qemu_chr_new("serial1", "chardev:nope", &err));
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(err->message, "Chardev 'nope' not found"));
    g_clear_error(&err);

    g_assert_null(qemu_chr_new("serial1", "none", &err));
    g_assert_no_error(err);

    /* mon: needs a backend after the prefix. */
    g_assert_null(qemu_chr_new("mon0", "mon:", &err));
    g_assert_nonnull(err);
    g_clear_error(&err);

    g_assert_null(qemu_chr_new("serial1", "vc", &err));
    g_assert_nonnull(strstr(err->message, "'vc' is not a valid char driver"));
    g_clear_error(&err);

    g_assert_null(qemu_chr_new("serial1", "unix:/tmp/x,bogus=1", &err));
    g_assert_nonnull(strstr(err->message, "Invalid parameter 'bogus'"));
    g_clear_error(&err);

    chr2 = qemu_chr_new("serial1", "tcp:127.0.0.1:0,server=on,wait=off", &err);
    g_assert_no_error(err);
    g_assert_true(g_str_has_prefix(chr2->filename, "disconnected:tcp:127.0.0.1:"));
    g_assert_true(g_str_has_suffix(chr2->filename, ",server=on"));
    g_assert_false(g_str_has_prefix(chr2->filename, "disconnected:tcp:127.0.0.1:0,"));

    /* "server,nowait" old style */
    char *path = g_build_filename(tmpdir, "legacy.sock", NULL);
    char *spec = g_strdup_printf("unix:%s,server,nowait", path);
    Chardev *chr3 = qemu_chr_new("mon1", spec, &err);
    g_assert_no_error(err);
    g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
    qemu_chr_cleanup_all();
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    (void)chr3;
    g_free(spec);
    g_free(path);
    list = qemu_chr_list();
    g_assert_cmpuint(list->len, ==, 0);
    g_ptr_array_free(list, TRUE);
}

/* Output backends */

static void test_null(void)
{
    char *log = g_build_filename(tmpdir, "null.log", NULL);
    char *opts = g_strdup_printf("null,id=n0,logfile=%s", log);
    Chardev *chr = chr_new_ok(opts);
    TestFe fe;
    char *contents;

    fe_attach(&fe, chr);
    g_assert_cmpint(fe_write_str(&fe, "discarded"), ==, 9);
    g_assert_cmpint(fe.opened, ==, 0);
    contents = read_file(log);
    g_assert_cmpstr(contents, ==, "discarded");
    g_free(contents);
    fe_detach(&fe);
    qemu_chr_delete(chr);
    g_free(opts);
    g_free(log);
}

static void test_file(void)
{
    char *path = g_build_filename(tmpdir, "out.txt", NULL);
    char *log = g_build_filename(tmpdir, "out.log", NULL);
    char *opts = g_strdup_printf("file,id=f0,path=%s,logfile=%s", path, log);
    char *contents;
    Chardev *chr;
    TestFe fe, fe2;
    Error *err = NULL;

    g_file_set_contents(log, "old\n", -1, NULL);
    chr = chr_new_ok(opts);
    g_assert_cmpstr(chr->filename, ==, "file");
    g_assert_true(chr->be_open);
    fe_attach(&fe, chr);
    g_assert_cmpint(fe.opened, ==, 1);      /* already open when attached */

    /* One frontend per chardev. */
    g_assert_false(qemu_chr_fe_init(&fe2.be, chr, &err));
    g_assert_nonnull(err);
    g_assert_cmpstr(err->message, ==, "Device 'f0' is in use");
    g_clear_error(&err);

    g_assert_cmpint(fe_write_str(&fe, "hello "), ==, 6);
    g_assert_cmpint(fe_write_str(&fe, "world\n"), ==, 6);
    contents = read_file(path);
    g_assert_cmpstr(contents, ==, "hello world\n");
    g_free(contents);
    contents = read_file(log);
    g_assert_cmpstr(contents, ==, "hello world\n");  /* logappend=off truncates */
    g_free(contents);
    fe_detach(&fe);
    qemu_chr_delete(chr);

    /* append=on and logappend=on keep what was there. */
    g_free(opts);
    opts = g_strdup_printf("file,id=f0,path=%s,append=on,logfile=%s,logappend=on", path, log);
    chr = chr_new_ok(opts);
    fe_attach(&fe, chr);
    fe_write_str(&fe, "again\n");
    contents = read_file(path);
    g_assert_cmpstr(contents, ==, "hello world\nagain\n");
    g_free(contents);
    contents = read_file(log);
    g_assert_cmpstr(contents, ==, "hello world\nagain\n");
    g_free(contents);
    fe_detach(&fe);
    qemu_chr_delete(chr);

    /* input-path feeds the frontend, then ends. */
    g_free(opts);
    g_file_set_contents(log, "typed input", -1, NULL);
    opts = g_strdup_printf("file,id=f0,path=%s,input-path=%s", path, log);
    chr = chr_new_ok(opts);
    fe_attach(&fe, chr);
    g_assert_true(iterate_until_bytes(&fe, 11));
    g_assert_cmpmem(fe.in->data, fe.in->len, "typed input", 11);
    fe_detach(&fe);
    qemu_chr_delete(chr);

    g_free(opts);
    g_free(path);
    g_free(log);
}

/* Sockets */

static void test_unix_server(void)
{
    char *path = g_build_filename(tmpdir, "srv.sock", NULL);
    char *opts = g_strdup_printf("socket,id=s0,path=%s,server=on,wait=off", path);
    char *expect;
    char buf[16];
    Chardev *chr = chr_new_ok(opts);
    TestFe fe;
    int c1, c2;

    expect = g_strdup_printf("disconnected:unix:%s,server=on", path);
    g_assert_cmpstr(chr->filename, ==, expect);
    g_free(expect);
    fe_attach(&fe, chr);
    g_assert_cmpint(fe.opened, ==, 0);

    /* Output with no client is dropped, not an error. */
    g_assert_cmpint(fe_write_str(&fe, "nobody"), ==, 6);

    c1 = unix_connect(path);
    g_assert_true(iterate_until_count(&fe.opened, 1));
    expect = g_strdup_printf("unix:%s,server=on", path);
    g_assert_cmpstr(chr->filename, ==, expect);
    g_free(expect);

    /* A second client waits in the backlog while the first is served. */
    c2 = unix_connect(path);
    fd_write_str(c2, "second");

    fd_write_str(c1, "ping");
    g_assert_true(iterate_until_bytes(&fe, 4));
    g_assert_cmpmem(fe.in->data, fe.in->len, "ping", 4);
    g_assert_cmpint(fe_write_str(&fe, "pong"), ==, 4);
    fd_read_exact(c1, buf, 4);
    g_assert_cmpmem(buf, 4, "pong", 4);

    close(c1);
    g_assert_true(iterate_until_count(&fe.closed, 1));
    g_assert_false(chr->be_open);

    /* Now the second client is accepted, with what it already sent. */
    g_assert_true(iterate_until_count(&fe.opened, 2));
    g_byte_array_set_size(fe.in, 0);
    g_assert_true(iterate_until_bytes(&fe, 6));
    g_assert_cmpmem(fe.in->data, fe.in->len, "second", 6);
    fe_write_str(&fe, "hi2");
    fd_read_exact(c2, buf, 3);
    g_assert_cmpmem(buf, 3, "hi2", 3);
    close(c2);
    g_assert_true(iterate_until_count(&fe.closed, 2));

    fe_detach(&fe);
    qemu_chr_delete(chr);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));  /* removed at close */
    g_free(opts);
    g_free(path);
}

static void test_flow_control(void)
{
    char *path = g_build_filename(tmpdir, "flow.sock", NULL);
    char *opts = g_strdup_printf("socket,id=s1,path=%s,server=on,wait=off", path);
    Chardev *chr = chr_new_ok(opts);
    TestFe fe;
    int c;

    fe_attach(&fe, chr);
    fe.window = 0;
    c = unix_connect(path);
    g_assert_true(iterate_until_count(&fe.opened, 1));
    fd_write_str(c, "abcdef");
    iterate_briefly();
    g_assert_cmpuint(fe.in->len, ==, 0);    /* can_read() == 0: nothing delivered */

    fe.window = 2;
    qemu_chr_fe_accept_input(&fe.be);
    g_assert_true(iterate_until_bytes(&fe, 2));
    fe.window = 0;                          /* fe_read() asserts size <= window */
    iterate_briefly();
    g_assert_cmpuint(fe.in->len, ==, 2);

    fe.window = 4096;
    qemu_chr_fe_accept_input(&fe.be);
    g_assert_true(iterate_until_bytes(&fe, 6));
    g_assert_cmpmem(fe.in->data, fe.in->len, "abcdef", 6);

    close(c);
    g_assert_true(iterate_until_count(&fe.closed, 1));
    fe_detach(&fe);
    qemu_chr_delete(chr);
    g_free(opts);
    g_free(path);
}

/*
 * -serial mon:stdio: a frontend in focus that is full (a 16550 whose FIFO
 * the guest has not read) must not lose pasted input, and the escape keys
 * must still work while it is full (QEMU's mux holds 32 bytes).
 */
static void test_mux_backpressure(void)
{
    char *path = g_build_filename(tmpdir, "mux.sock", NULL);
    char *opts = g_strdup_printf("socket,id=muxbase,path=%s,server=on,wait=off", path);
    Chardev *mux;
    TestFe uart, mon;
    char pasted[201];
    int c, rounds = 0;

    chr_new_ok(opts);       /* owned by the mux from here on */
    mux = chr_new_ok("mux,id=mux0,chardev=muxbase");

    fe_attach(&uart, mux);
    fe_attach(&mon, mux);
    uart.fifo = true;
    uart.window = 0;
    c = unix_connect(path);
    for (int i = 0; i < 200; i++) {
        pasted[i] = 'A' + i % 26;
    }
    pasted[200] = 0;
    fd_write_str(c, pasted);
    iterate_briefly();
    g_assert_cmpuint(uart.in->len, ==, 0);
    g_assert_cmpuint(mon.in->len, ==, 0);

    /* The guest empties its 16-byte FIFO again and again. */
    while (uart.in->len < 200 && rounds++ < 100) {
        guint had = uart.in->len;
        uart.window = 16;
        qemu_chr_fe_accept_input(&uart.be);
        g_assert_true(iterate_until_bytes(&uart, MIN(had + 16, 200)));
        uart.window = 0;
        iterate_briefly();
    }
    g_assert_cmpmem(uart.in->data, uart.in->len, pasted, 200);

    /* Full again: keys wait in the mux, C-a c still switches to the
     * monitor, which gets what follows; back on the serial port, the
     * waiting keys arrive first. */
    fd_write_str(c, "abcde\001chi");
    g_assert_true(iterate_until_bytes(&mon, 2));
    g_assert_cmpmem(mon.in->data, mon.in->len, "hi", 2);
    fd_write_str(c, "\001c");
    iterate_briefly();
    g_assert_cmpuint(uart.in->len, ==, 200);
    uart.window = 16;
    qemu_chr_fe_accept_input(&uart.be);
    g_assert_true(iterate_until_bytes(&uart, 205));
    g_assert_cmpmem(uart.in->data + 200, 5, "abcde", 5);

    close(c);
    fe_detach(&mon);
    fe_detach(&uart);
    qemu_chr_delete(mux);
    g_free(opts);
    g_free(path);
}

static void test_tcp_server(void)
{
    Chardev *chr = chr_new_ok("socket,id=t0,host=127.0.0.1,port=0,server=on,wait=off,nodelay=on");
    const char *p;
    char buf[8];
    TestFe fe;
    int port, c;

    g_assert_true(g_str_has_prefix(chr->filename, "disconnected:tcp:127.0.0.1:"));
    p = chr->filename + strlen("disconnected:tcp:127.0.0.1:");
    port = atoi(p);
    g_assert_cmpint(port, >, 0);

    fe_attach(&fe, chr);
    c = tcp_connect(port);
    g_assert_true(iterate_until_count(&fe.opened, 1));
    g_assert_true(g_str_has_prefix(chr->filename, "tcp:127.0.0.1:"));
    g_assert_nonnull(strstr(chr->filename, ",server=on <-> 127.0.0.1:"));

    fd_write_str(c, "tcp-in");
    g_assert_true(iterate_until_bytes(&fe, 6));
    g_assert_cmpmem(fe.in->data, fe.in->len, "tcp-in", 6);
    fe_write_str(&fe, "tcp-out");
    fd_read_exact(c, buf, 7);
    g_assert_cmpmem(buf, 7, "tcp-out", 7);

    close(c);                               /* TCP: seen as EOF on read */
    g_assert_true(iterate_until_count(&fe.closed, 1));
    g_assert_true(g_str_has_prefix(chr->filename, "disconnected:tcp:"));

    c = tcp_connect(port);
    g_assert_true(iterate_until_count(&fe.opened, 2));
    close(c);
    g_assert_true(iterate_until_count(&fe.closed, 2));

    fe_detach(&fe);
    qemu_chr_delete(chr);
}

static gpointer connect_later(gpointer path)
{
    g_usleep(100 * 1000);
    return GINT_TO_POINTER(unix_connect(path));
}

static void test_unix_server_wait(void)
{
    char *path = g_build_filename(tmpdir, "wait.sock", NULL);
    char *opts = g_strdup_printf("socket,id=w0,path=%s,server=on", path);
    GThread *th;
    Chardev *chr;
    TestFe fe;
    int c;

    /* open blocks until the client arrives. */
    th = g_thread_new("client", connect_later, path);
    chr = chr_new_ok(opts);
    c = GPOINTER_TO_INT(g_thread_join(th));
    g_assert_true(chr->be_open);
    fe_attach(&fe, chr);
    g_assert_cmpint(fe.opened, ==, 1);
    fd_write_str(c, "x");
    g_assert_true(iterate_until_bytes(&fe, 1));
    close(c);
    g_assert_true(iterate_until_count(&fe.closed, 1));
    fe_detach(&fe);
    qemu_chr_delete(chr);
    g_free(opts);
    g_free(path);
}

static void test_unix_client(void)
{
    char *path = g_build_filename(tmpdir, "cli.sock", NULL);
    char *opts = g_strdup_printf("socket,id=c0,path=%s", path);
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0), c;
    Chardev *chr;
    char buf[8];
    TestFe fe;
    Error *err = NULL;

    /* No server: a plain client fails. */
    g_assert_null(qemu_chr_new_from_opts(opts, &err));
    g_assert_nonnull(strstr(err->message, "Failed to connect to"));
    g_clear_error(&err);

    g_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
    g_assert_cmpint(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), ==, 0);
    g_assert_cmpint(listen(lfd, 1), ==, 0);
    chr = chr_new_ok(opts);
    c = accept(lfd, NULL, NULL);
    g_assert_cmpint(c, >=, 0);
    g_assert_cmpstr(chr->filename + strlen("unix:"), ==, path);
    fe_attach(&fe, chr);
    g_assert_cmpint(fe.opened, ==, 1);
    fe_write_str(&fe, "client");
    fd_read_exact(c, buf, 6);
    g_assert_cmpmem(buf, 6, "client", 6);
    fd_write_str(c, "srv");
    g_assert_true(iterate_until_bytes(&fe, 3));
    close(c);
    g_assert_true(iterate_until_count(&fe.closed, 1));
    g_assert_true(g_str_has_prefix(chr->filename, "disconnected:unix:"));
    g_assert_cmpint(fe_write_str(&fe, "dropped"), ==, 7);
    fe_detach(&fe);
    qemu_chr_delete(chr);
    g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));  /* not ours to remove */

    /* reconnect: comes back by itself. */
    g_free(opts);
    opts = g_strdup_printf("socket,id=c0,path=%s,reconnect-ms=100", path);
    chr = chr_new_ok(opts);
    fe_attach(&fe, chr);
    c = accept(lfd, NULL, NULL);
    g_assert_true(iterate_until_count(&fe.opened, 1));
    close(c);
    g_assert_true(iterate_until_count(&fe.closed, 1));
    c = accept_iterating(lfd);              /* the retry, 100 ms later */
    g_assert_true(iterate_until_count(&fe.opened, 2));
    close(c);
    g_assert_true(iterate_until_count(&fe.closed, 2));
    fe_detach(&fe);
    qemu_chr_delete(chr);

    close(lfd);
    unlink(path);
    g_free(opts);
    g_free(path);
}

/* A client that stops reading: writes time out once, then drop fast. */
static void test_stalled_peer(void)
{
    char *path = g_build_filename(tmpdir, "stall.sock", NULL);
    char *opts = g_strdup_printf("socket,id=st0,path=%s,server=on,wait=off", path);
    Chardev *chr = chr_new_ok(opts);
    static uint8_t big[65536];
    gint64 start;
    TestFe fe;
    int c, ret = 0;

    fe_attach(&fe, chr);
    c = unix_connect(path);
    g_assert_true(iterate_until_count(&fe.opened, 1));
    for (int i = 0; i < 100 && ret >= 0; i++) {
        ret = qemu_chr_fe_write_all(&fe.be, big, sizeof(big));
    }
    g_assert_cmpint(ret, ==, -1);
    g_assert_true(chr->write_stalled);
    start = g_get_monotonic_time();
    for (int i = 0; i < 100; i++) {
        qemu_chr_fe_write_all(&fe.be, (const uint8_t *)"x", 1);
    }
    g_assert_cmpint(g_get_monotonic_time() - start, <, 50 * 1000);
    close(c);
    g_assert_true(iterate_until_count(&fe.closed, 1));
    fe_detach(&fe);
    qemu_chr_delete(chr);
    g_free(opts);
    g_free(path);
}

/* pty */

static void test_pty(void)
{
    Chardev *chr = chr_new_ok("pty,id=p0");
    const char *slave;
    char buf[8];
    TestFe fe;
    int fd;

    g_assert_true(g_str_has_prefix(chr->filename, "pty:/dev/pts/"));
    slave = chr->filename + 4;
    g_assert_true(g_file_test(slave, G_FILE_TEST_EXISTS));
    fe_attach(&fe, chr);
    g_assert_false(chr->be_open);
    g_assert_cmpint(fe_write_str(&fe, "lost"), ==, 4);     /* nobody there */

    fd = open(slave, O_RDWR | O_NOCTTY);
    g_assert_cmpint(fd, >=, 0);
    g_assert_true(iterate_until_count(&fe.opened, 1));
    fe_write_str(&fe, "out");
    fd_read_exact(fd, buf, 3);
    g_assert_cmpmem(buf, 3, "out", 3);
    g_assert_cmpint(write(fd, "in\n", 3), ==, 3);
    g_assert_true(iterate_until_bytes(&fe, 3));
    g_assert_cmpmem(fe.in->data, fe.in->len, "in\n", 3);   /* raw: no translation */
    close(fd);
    g_assert_true(iterate_until_count(&fe.closed, 1));

    fe_detach(&fe);
    qemu_chr_delete(chr);
}

static void test_stdio_once(void)
{
    Chardev *chr = chr_new_ok("stdio,id=io0,signal=off");

    g_assert_cmpstr(chr->filename, ==, "stdio");
    chr_new_fails("stdio,id=io1", "cannot use stdio by multiple character devices");
    qemu_chr_delete(chr);
    chr = chr_new_ok("stdio,id=io1");       /* free again after delete */
    qemu_chr_delete(chr);
}

int main(int argc, char **argv)
{
    int ret;

    signal(SIGPIPE, SIG_IGN);
    g_test_init(&argc, &argv, NULL);
    tmpdir = g_dir_make_tmp("test-chardev-XXXXXX", NULL);
    g_assert_nonnull(tmpdir);

    g_test_add_func("/chardev/parse-errors", test_parse_errors);
    g_test_add_func("/chardev/legacy", test_legacy);
    g_test_add_func("/chardev/null", test_null);
    g_test_add_func("/chardev/file", test_file);
    g_test_add_func("/chardev/socket/unix-server", test_unix_server);
    g_test_add_func("/chardev/socket/flow-control", test_flow_control);
    g_test_add_func("/chardev/socket/tcp-server", test_tcp_server);
    g_test_add_func("/chardev/mux/backpressure", test_mux_backpressure);
    g_test_add_func("/chardev/socket/unix-server-wait", test_unix_server_wait);
    g_test_add_func("/chardev/socket/unix-client", test_unix_client);
    g_test_add_func("/chardev/socket/stalled-peer", test_stalled_peer);
    g_test_add_func("/chardev/pty", test_pty);
    g_test_add_func("/chardev/stdio-once", test_stdio_once);
    ret = g_test_run();

    qemu_chr_cleanup_all();
    g_autoptr(GDir) dir = g_dir_open(tmpdir, 0, NULL);
    for (const char *name; dir && (name = g_dir_read_name(dir));) {
        g_autofree char *p = g_build_filename(tmpdir, name, NULL);
        g_unlink(p);
    }
    g_rmdir(tmpdir);
    g_free(tmpdir);
    return ret;
}

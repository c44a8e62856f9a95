/*
 * -netdev user (net/slirp.c) in the main loop: while libslirp has host
 * sockets to poll (a hostfwd listener, a forwarded connection) and nothing
 * happens on them, a blocking main-loop iteration sleeps until the next
 * timer; it does not return at once.
 *
 * It used to: the slirp GSource took its fds out of the poll set and put
 * them back on every prepare and every dispatch, and GLib wakes the
 * context (writes its eventfd) on each such change, so every poll
 * returned immediately and the loop spun, taking the big lock from the
 * vCPU thread thousands of times a second (guest->host TCP through slirp
 * ran at a few Mbit/s; docs/net.md).  Here a loop left alone for 300 ms
 * of a realtime timer counted thousands of iterations; it now counts a
 * handful.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <glib.h>

#include "net/net.h"
#include "system/main-loop.h"

#define WINDOW_MS       300
#define MAX_ITERATIONS  20      /* expected: 1-3; a spinning loop: thousands */

static bool window_over;

static void window_end(void *opaque)
{
    (void)opaque;
    window_over = true;
}

/* Blocking iterations until a realtime timer WINDOW_MS away fires. */
static unsigned iterations_in_window(void)
{
    QEMUTimer *t = timer_new_ns(QEMU_CLOCK_REALTIME, window_end, NULL);
    unsigned n = 0;

    window_over = false;
    timer_mod(t, qemu_clock_get_ns(QEMU_CLOCK_REALTIME) + WINDOW_MS * SCALE_MS);
    while (!window_over && n < 100000) {
        main_loop_iterate(true);
        n++;
    }
    timer_free(t);
    return n;
}

static int free_port(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&a, &len), ==, 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static int port;

static void test_idle_loop_sleeps(void)
{
    unsigned n;

    /* settle: the first iterations dispatch whatever creation scheduled */
    for (int i = 0; i < 3; i++) {
        main_loop_iterate(false);
    }
    n = iterations_in_window();
    g_test_message("%u iterations in %d ms with a hostfwd listener", n, WINDOW_MS);
    g_assert_cmpuint(n, <=, MAX_ITERATIONS);
}

static void test_connected_loop_sleeps(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    unsigned n;

    g_assert_cmpint(fd, >=, 0);
    /* the hostfwd listener is libslirp's socket: the connection proves it
     * is really listening on the port asked for */
    g_assert_cmpint(connect(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    /* libslirp accepts it (a new fd in its poll set) and, with no guest
     * behind the NIC, keeps it half-open; nothing more happens */
    for (int i = 0; i < 5; i++) {
        main_loop_iterate(false);
    }
    n = iterations_in_window();
    g_test_message("%u iterations in %d ms with a forwarded connection", n, WINDOW_MS);
    g_assert_cmpuint(n, <=, MAX_ITERATIONS);
    close(fd);
}

int main(int argc, char **argv)
{
    g_autofree char *opts = NULL;
    Error *err = NULL;

    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    port = free_port();
    opts = g_strdup_printf("user,id=u0,restrict=on,hostfwd=tcp:127.0.0.1:%d-:7777", port);
    if (!net_client_init(opts, true, &err)) {
        g_error("%s: %s", opts, err->message);
    }
    g_test_add_func("/slirp/idle-loop-sleeps", test_idle_loop_sleeps);
    g_test_add_func("/slirp/connected-loop-sleeps", test_connected_loop_sleeps);
    return g_test_run();
}

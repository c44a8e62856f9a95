/*
 * libqtest - minimal client for the QEMU-compatible qtest text protocol.
 * See libqtest.h and docs/qtest.md.
 */
#define _GNU_SOURCE
#include "libqtest.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct QTestState {
    pid_t pid;
    int fd;                 /* connected qtest socket, -1 once closed */
    bool exited;            /* child reaped */
    int wstatus;            /* valid when exited */
    char *rbuf;             /* receive buffer */
    char *tmp_send;         /* a line being sent, freed here if a send fails */
    char *tmp_reply;        /* a reply being parsed, likewise */
    size_t rlen, rcap;
    bool irq_level[QTEST_MAX_IRQ];
    unsigned irq_raises[QTEST_MAX_IRQ];
    bool verbose;
    struct QTestState *next;
};

static QTestState *all_states;
static QTestFailHandler fail_handler;
static int sock_counter;

/* ------------------------------------------------------------------------ */

void qtest_set_fail_handler(QTestFailHandler fn)
{
    fail_handler = fn;
}

void qtest_fail(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (fail_handler) {
        fail_handler(msg);
    }
    fprintf(stderr, "libqtest: %s\n", msg);
    qtest_kill_all();
    exit(1);
}

static int timeout_ms(void)
{
    const char *t = getenv("QTEST_TIMEOUT");
    int sec = t ? atoi(t) : 0;
    return (sec > 0 ? sec : 30) * 1000;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *qtest_binary_path(void)
{
    const char *b = getenv("QTEST_BINARY");
    if (!b || !*b) {
        qtest_fail("QTEST_BINARY is not set (path of the emulator to test)");
    }
    return b;
}

pid_t qtest_pid(QTestState *s)
{
    return s->pid;
}

static void register_state(QTestState *s)
{
    s->next = all_states;
    all_states = s;
}

static void unregister_state(QTestState *s)
{
    QTestState **p;
    for (p = &all_states; *p; p = &(*p)->next) {
        if (*p == s) {
            *p = s->next;
            return;
        }
    }
}

/* Reap the child if it has exited; returns true if it has. */
static bool reap(QTestState *s, bool block)
{
    int st;
    pid_t r;

    if (s->exited) {
        return true;
    }
    do {
        r = waitpid(s->pid, &st, block ? 0 : WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == s->pid) {
        s->exited = true;
        s->wstatus = st;
        return true;
    }
    if (r < 0) {            /* not our child any more?! treat as gone */
        s->exited = true;
        s->wstatus = 0;
        return true;
    }
    return false;
}

static void describe_status(QTestState *s, char *buf, size_t n)
{
    if (!s->exited) {
        snprintf(buf, n, "still running");
    } else if (WIFEXITED(s->wstatus)) {
        snprintf(buf, n, "exited with status %d", WEXITSTATUS(s->wstatus));
    } else if (WIFSIGNALED(s->wstatus)) {
        snprintf(buf, n, "killed by signal %d", WTERMSIG(s->wstatus));
    } else {
        snprintf(buf, n, "wait status 0x%x", s->wstatus);
    }
}

static void kill_and_reap(QTestState *s)
{
    int64_t deadline;

    if (s->exited) {
        return;
    }
    kill(s->pid, SIGTERM);
    deadline = now_ms() + 2000;
    while (!reap(s, false)) {
        if (now_ms() > deadline) {
            kill(s->pid, SIGKILL);
            reap(s, true);
            break;
        }
        usleep(5000);
    }
}

/* States killed by qtest_kill_all: a test may still hold the pointer, so
 * they are freed only at exit. */
static QTestState *dead_states;

void qtest_kill_all(void)
{
    while (all_states) {
        QTestState *s = all_states;
        all_states = s->next;
        kill_and_reap(s);
        if (s->fd >= 0) {
            close(s->fd);
            s->fd = -1;
        }
        s->next = dead_states;
        dead_states = s;
    }
}

static void atexit_cleanup(void)
{
    qtest_kill_all();
    while (dead_states) {
        QTestState *s = dead_states;
        dead_states = s->next;
        free(s->tmp_send);
        free(s->tmp_reply);
        free(s->rbuf);
        free(s);
    }
}

/* ------------------------------------------------------------------------ */

QTestState *qtest_init(const char *extra_args)
{
    return qtest_init_with_binary(qtest_binary_path(), extra_args);
}

QTestState *qtest_initf(const char *fmt, ...)
{
    va_list ap;
    char *args;
    QTestState *s;

    va_start(ap, fmt);
    if (vasprintf(&args, fmt, ap) < 0) {
        qtest_fail("out of memory");
    }
    va_end(ap);
    s = qtest_init(args);
    free(args);
    return s;
}

QTestState *qtest_init_with_binary(const char *binary, const char *extra_args)
{
    static bool atexit_done;
    struct sockaddr_un addr;
    char sockpath[sizeof(addr.sun_path)];
    const char *tmp = getenv("TMPDIR");
    const char *log = getenv("QTEST_LOG");
    char *cmd;
    int lfd, cfd = -1;
    pid_t pid;
    QTestState *s;
    int64_t deadline;

    if (!atexit_done) {
        atexit(atexit_cleanup);
        signal(SIGPIPE, SIG_IGN);
        atexit_done = true;
    }
    if (!tmp || strlen(tmp) > 60) {
        tmp = "/tmp";
    }
    snprintf(sockpath, sizeof(sockpath), "%s/qtest-%d-%d.sock", tmp,
             (int)getpid(), sock_counter++);
    unlink(sockpath);

    lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0) {
        qtest_fail("socket: %s", strerror(errno));
    }
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    strcpy(addr.sun_path, sockpath);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        listen(lfd, 1) < 0) {
        qtest_fail("bind/listen %s: %s", sockpath, strerror(errno));
    }

    if (asprintf(&cmd, "exec %s -qtest unix:%s -qtest-log %s -accel qtest "
                 "-machine pc -nodefaults -display none %s",
                 binary, sockpath, log && *log ? log : "/dev/null",
                 extra_args ? extra_args : "") < 0) {
        qtest_fail("out of memory");
    }
    if (getenv("QTEST_VERBOSE")) {
        fprintf(stderr, "libqtest: starting: %s\n", cmd + 5);
    }

    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        qtest_fail("fork: %s", strerror(errno));
    }
    if (pid == 0) {
        /* make sure the emulator dies with us, even on SIGKILL */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    free(cmd);

    s = calloc(1, sizeof(*s));
    s->pid = pid;
    s->fd = -1;
    s->verbose = getenv("QTEST_VERBOSE") != NULL;
    register_state(s);

    /* wait for the emulator to connect, watching for its early death */
    deadline = now_ms() + timeout_ms();
    for (;;) {
        struct pollfd pfd = { .fd = lfd, .events = POLLIN };
        int r = poll(&pfd, 1, 50);
        if (r > 0) {
            cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
            if (cfd >= 0) {
                break;
            }
        }
        if (reap(s, false)) {
            char st[64];
            close(lfd);
            unlink(sockpath);
            describe_status(s, st, sizeof(st));
            qtest_fail("emulator %s %s before connecting to the qtest socket",
                       binary, st);
        }
        if (now_ms() > deadline) {
            close(lfd);
            unlink(sockpath);
            qtest_fail("timeout waiting for emulator %s to connect", binary);
        }
    }
    close(lfd);
    unlink(sockpath);
    s->fd = cfd;
    return s;
}

void qtest_quit(QTestState *s)
{
    if (!s) {
        return;
    }
    unregister_state(s);
    /* kill first: closing the socket first makes some emulators log noise */
    kill_and_reap(s);
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
    free(s->tmp_send);
    free(s->tmp_reply);
    free(s->rbuf);
    free(s);
}

int qtest_wait_exit(QTestState *s, int tmo_ms)
{
    int64_t deadline = now_ms() + tmo_ms;

    while (!reap(s, false)) {
        if (now_ms() > deadline) {
            return -1;
        }
        usleep(2000);
    }
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
    return s->wstatus;
}

/* ------------------------------------------------------------------------ */

static void send_line(QTestState *s, const char *line)
{
    size_t len = strlen(line), off = 0;

    if (s->fd < 0) {
        qtest_fail("command '%.*s' sent to a closed qtest connection",
                   (int)strcspn(line, "\n"), line);
    }
    if (s->verbose) {
        fprintf(stderr, "qtest> %s", line);
    }
    while (off < len) {
        ssize_t n = write(s->fd, line + off, len - off);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            char st[64];
            int64_t dl = now_ms() + 1000;
            while (!reap(s, false) && now_ms() < dl) {
                usleep(2000);
            }
            describe_status(s, st, sizeof(st));
            qtest_fail("write to qtest socket failed (%s); emulator %s",
                       strerror(errno), st);
        }
        off += n;
    }
}

static void vsend(QTestState *s, const char *fmt, va_list ap)
{
    char *line;
    size_t n;

    if (vasprintf(&line, fmt, ap) < 0) {
        qtest_fail("out of memory");
    }
    n = strlen(line);
    if (n == 0 || line[n - 1] != '\n') {
        line = realloc(line, n + 2);
        line[n] = '\n';
        line[n + 1] = 0;
    }
    s->tmp_send = line;
    send_line(s, line);
    s->tmp_send = NULL;
    free(line);
}

/* Handle an asynchronous "IRQ raise N" / "IRQ lower N" line. */
static void handle_irq_line(QTestState *s, const char *line)
{
    char what[16];
    int n;

    if (sscanf(line, "IRQ %15s %d", what, &n) != 2 || n < 0 ||
        n >= QTEST_MAX_IRQ) {
        qtest_fail("malformed IRQ line from emulator: '%s'", line);
    }
    if (strcmp(what, "raise") == 0) {
        s->irq_level[n] = true;
        s->irq_raises[n]++;
    } else if (strcmp(what, "lower") == 0) {
        s->irq_level[n] = false;
    } else {
        qtest_fail("malformed IRQ line from emulator: '%s'", line);
    }
}

/* Extract one complete line from the buffer, or NULL. */
static char *take_line(QTestState *s)
{
    char *nl, *line;
    size_t len;

    if (!s->rlen) {
        return NULL;
    }
    nl = memchr(s->rbuf, '\n', s->rlen);
    if (!nl) {
        return NULL;
    }
    len = nl - s->rbuf;
    line = malloc(len + 1);
    memcpy(line, s->rbuf, len);
    line[len] = 0;
    if (len && line[len - 1] == '\r') {
        line[len - 1] = 0;
    }
    memmove(s->rbuf, nl + 1, s->rlen - len - 1);
    s->rlen -= len + 1;
    if (s->verbose) {
        fprintf(stderr, "qtest< %s\n", line);
    }
    return line;
}

/* Read more data, waiting at most wait_ms. Returns false on timeout. */
static bool fill(QTestState *s, int wait_ms, const char *ctx)
{
    struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
    char tmp[4096];
    ssize_t n;
    int r;

    if (s->fd < 0) {
        qtest_fail("reading reply to '%s' from a closed connection", ctx);
    }
    do {
        r = poll(&pfd, 1, wait_ms);
    } while (r < 0 && errno == EINTR);
    if (r == 0) {
        return false;
    }
    do {
        n = read(s->fd, tmp, sizeof(tmp));
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        char st[64];
        int64_t dl = now_ms() + 1000;
        while (!reap(s, false) && now_ms() < dl) {
            usleep(2000);
        }
        describe_status(s, st, sizeof(st));
        close(s->fd);
        s->fd = -1;
        qtest_fail("emulator closed the qtest connection while waiting for "
                   "the reply to '%s' (emulator %s)", ctx, st);
    }
    if (s->rlen + n + 1 > s->rcap) {
        s->rcap = (s->rlen + n + 1) * 2;
        s->rbuf = realloc(s->rbuf, s->rcap);
    }
    memcpy(s->rbuf + s->rlen, tmp, n);
    s->rlen += n;
    return true;
}

/* Wait for the reply line to a command, handling IRQ lines. */
static char *read_reply(QTestState *s, const char *ctx)
{
    int64_t deadline = now_ms() + timeout_ms();

    for (;;) {
        char *line;
        while ((line = take_line(s)) != NULL) {
            if (strncmp(line, "IRQ", 3) == 0) {
                handle_irq_line(s, line);
                free(line);
                continue;
            }
            return line;
        }
        int64_t left = deadline - now_ms();
        if (left <= 0 || !fill(s, (int)left, ctx)) {
            qtest_fail("timeout (%d s) waiting for the reply to '%s'",
                       timeout_ms() / 1000, ctx);
        }
    }
}

/* Drain IRQ lines already sent without blocking. */
static void drain_async(QTestState *s)
{
    char *line;

    while (s->fd >= 0 && fill(s, 0, "(async)")) {
        /* keep reading while data is immediately available */
    }
    /* only IRQ lines can be pending between commands */
    while ((line = take_line(s)) != NULL) {
        if (strncmp(line, "IRQ", 3) == 0) {
            handle_irq_line(s, line);
        } else {
            qtest_fail("unexpected unsolicited line from emulator: '%s'", line);
        }
        free(line);
    }
}

char *qtest_command_raw(QTestState *s, const char *fmt, ...)
{
    va_list ap;
    char ctx[256];

    va_start(ap, fmt);
    vsnprintf(ctx, sizeof(ctx), fmt, ap);
    va_end(ap);
    ctx[strcspn(ctx, "\n")] = 0;
    va_start(ap, fmt);
    vsend(s, fmt, ap);
    va_end(ap);
    return read_reply(s, ctx);
}

void qtest_send_nowait(QTestState *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsend(s, fmt, ap);
    va_end(ap);
}

char *qtest_read_reply_raw(QTestState *s)
{
    return read_reply(s, "(a command sent without waiting)");
}

/* Send a command; require "OK"; return the reply (caller frees). */
static char *command_ok(QTestState *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static char *command_ok(QTestState *s, const char *fmt, ...)
{
    va_list ap;
    char ctx[256];
    char *reply;

    va_start(ap, fmt);
    vsnprintf(ctx, sizeof(ctx), fmt, ap);
    va_end(ap);
    va_start(ap, fmt);
    vsend(s, fmt, ap);
    va_end(ap);
    reply = read_reply(s, ctx);
    if (strcmp(reply, "OK") != 0 && strncmp(reply, "OK ", 3) != 0) {
        char r[256];
        snprintf(r, sizeof(r), "%s", reply);
        free(reply);
        qtest_fail("command '%s' failed: '%s'", ctx, r);
    }
    return reply;
}

static void command_ok_noval(QTestState *s, const char *ctx)
{
    free(command_ok(s, "%s", ctx));
}

/* Parse "OK <number>" (hex with 0x or decimal) */
static uint64_t parse_ok_value(const char *reply, const char *ctx, bool is_signed,
                               int64_t *sval)
{
    const char *p = reply + 2;
    char *end;
    uint64_t v;

    while (*p == ' ') {
        p++;
    }
    if (!*p) {
        qtest_fail("reply to '%s' has no value: '%s'", ctx, reply);
    }
    errno = 0;
    if (is_signed) {
        *sval = strtoll(p, &end, 0);
        v = (uint64_t)*sval;
    } else {
        v = strtoull(p, &end, 0);
    }
    if (errno || end == p || (*end && *end != ' ')) {
        qtest_fail("reply to '%s' has a malformed value: '%s'", ctx, reply);
    }
    return v;
}

static uint64_t command_value(QTestState *s, uint64_t max, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static uint64_t command_value(QTestState *s, uint64_t max, const char *fmt, ...)
{
    va_list ap;
    char ctx[256];
    char *reply;
    uint64_t v;

    va_start(ap, fmt);
    vsnprintf(ctx, sizeof(ctx), fmt, ap);
    va_end(ap);
    reply = command_ok(s, "%s", ctx);
    s->tmp_reply = reply;
    v = parse_ok_value(reply, ctx, false, NULL);
    s->tmp_reply = NULL;
    if (v > max) {
        char r[256];
        snprintf(r, sizeof(r), "%s", reply);
        free(reply);
        qtest_fail("reply to '%s' out of range: '%s'", ctx, r);
    }
    free(reply);
    return v;
}

/* ------------------------------------------------------------------------ */

#define DEF_OUT(suffix, type)                                               \
void qtest_out##suffix(QTestState *s, uint16_t port, type v)                \
{                                                                           \
    char c[64];                                                             \
    snprintf(c, sizeof(c), "out" #suffix " 0x%x 0x%x", port, (unsigned)v);  \
    command_ok_noval(s, c);                                                 \
}
DEF_OUT(b, uint8_t)
DEF_OUT(w, uint16_t)
DEF_OUT(l, uint32_t)

uint8_t qtest_inb(QTestState *s, uint16_t port)
{
    return command_value(s, 0xff, "inb 0x%x", port);
}

uint16_t qtest_inw(QTestState *s, uint16_t port)
{
    return command_value(s, 0xffff, "inw 0x%x", port);
}

uint32_t qtest_inl(QTestState *s, uint16_t port)
{
    return command_value(s, 0xffffffffu, "inl 0x%x", port);
}

#define DEF_WRITE(suffix, type)                                             \
void qtest_write##suffix(QTestState *s, uint64_t addr, type v)              \
{                                                                           \
    char c[96];                                                             \
    snprintf(c, sizeof(c), "write" #suffix " 0x%" PRIx64 " 0x%" PRIx64,     \
             addr, (uint64_t)v);                                            \
    command_ok_noval(s, c);                                                 \
}
DEF_WRITE(b, uint8_t)
DEF_WRITE(w, uint16_t)
DEF_WRITE(l, uint32_t)
DEF_WRITE(q, uint64_t)

uint8_t qtest_readb(QTestState *s, uint64_t addr)
{
    return command_value(s, 0xff, "readb 0x%" PRIx64, addr);
}

uint16_t qtest_readw(QTestState *s, uint64_t addr)
{
    return command_value(s, 0xffff, "readw 0x%" PRIx64, addr);
}

uint32_t qtest_readl(QTestState *s, uint64_t addr)
{
    return command_value(s, 0xffffffffu, "readl 0x%" PRIx64, addr);
}

uint64_t qtest_readq(QTestState *s, uint64_t addr)
{
    return command_value(s, UINT64_MAX, "readq 0x%" PRIx64, addr);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

void qtest_memread(QTestState *s, uint64_t addr, void *buf, size_t size)
{
    char ctx[96];
    char *reply;
    const char *p;
    uint8_t *out = buf;
    size_t i;

    if (size == 0) {
        return;
    }
    snprintf(ctx, sizeof(ctx), "read 0x%" PRIx64 " 0x%zx", addr, size);
    reply = command_ok(s, "%s", ctx);
    p = reply + 2;
    while (*p == ' ') {
        p++;
    }
    if (p[0] != '0' || (p[1] != 'x' && p[1] != 'X') ||
        strlen(p + 2) != size * 2) {
        qtest_fail("reply to '%s' is malformed (want 0x + %zu hex digits): "
                   "'%.200s'", ctx, size * 2, reply);
    }
    p += 2;
    for (i = 0; i < size; i++) {
        int hi = hexval(p[2 * i]), lo = hexval(p[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            qtest_fail("reply to '%s' has non-hex data: '%.200s'", ctx, reply);
        }
        out[i] = hi << 4 | lo;
    }
    free(reply);
}

void qtest_memwrite(QTestState *s, uint64_t addr, const void *buf, size_t size)
{
    const uint8_t *in = buf;
    char *hex;
    size_t i;

    if (size == 0) {
        return;
    }
    hex = malloc(size * 2 + 1);
    for (i = 0; i < size; i++) {
        sprintf(hex + 2 * i, "%02x", in[i]);
    }
    free(command_ok(s, "write 0x%" PRIx64 " 0x%zx 0x%s", addr, size, hex));
    free(hex);
}

/* ------------------------------------------------------------------------ */

static int64_t clock_cmd(QTestState *s, const char *ctx)
{
    char *reply = command_ok(s, "%s", ctx);
    int64_t v;

    parse_ok_value(reply, ctx, true, &v);
    free(reply);
    return v;
}

int64_t qtest_clock_step(QTestState *s, int64_t ns)
{
    char c[64];
    snprintf(c, sizeof(c), "clock_step %" PRId64, ns);
    return clock_cmd(s, c);
}

int64_t qtest_clock_step_next(QTestState *s)
{
    return clock_cmd(s, "clock_step");
}

int64_t qtest_clock_set(QTestState *s, int64_t ns)
{
    char c[64];
    snprintf(c, sizeof(c), "clock_set %" PRId64, ns);
    return clock_cmd(s, c);
}

void qtest_irq_intercept_in(QTestState *s, const char *qom_path)
{
    free(command_ok(s, "irq_intercept_in %s", qom_path));
}

bool qtest_get_irq(QTestState *s, int n)
{
    if (n < 0 || n >= QTEST_MAX_IRQ) {
        qtest_fail("qtest_get_irq: bad irq %d", n);
    }
    drain_async(s);
    return s->irq_level[n];
}

unsigned qtest_irq_raise_count(QTestState *s, int n)
{
    if (n < 0 || n >= QTEST_MAX_IRQ) {
        qtest_fail("qtest_irq_raise_count: bad irq %d", n);
    }
    drain_async(s);
    return s->irq_raises[n];
}

void qtest_irq_reset_counts(QTestState *s)
{
    drain_async(s);
    memset(s->irq_raises, 0, sizeof(s->irq_raises));
}

/* ---- sockets ----------------------------------------------------------- */

int qtest_listen_loopback(int *port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        return -1;
    }
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 1) ||
        getsockname(fd, (struct sockaddr *)&a, &len)) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

bool qtest_read_full(int fd, void *buf, size_t len, int timeout_ms)
{
    uint8_t *p = buf;

    while (len) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        ssize_t n;

        if (poll(&pfd, 1, timeout_ms) <= 0) {
            return false;
        }
        n = read(fd, p, len);
        if (n <= 0) {
            return false;
        }
        p += n;
        len -= n;
    }
    return true;
}

bool qtest_send_frame(int fd, const void *frame, uint32_t len)
{
    uint8_t hdr[4] = { len >> 24, len >> 16, len >> 8, len };

    return write(fd, hdr, 4) == 4 && write(fd, frame, len) == (ssize_t)len;
}

char *qtest_read_line(int fd, int timeout_ms)
{
    size_t cap = 256, len = 0;
    char *l = malloc(cap), c;

    for (;;) {
        if (!qtest_read_full(fd, &c, 1, timeout_ms)) {
            free(l);
            return NULL;
        }
        if (c == '\n') {
            break;
        }
        if (len + 2 > cap) {
            l = realloc(l, cap *= 2);
        }
        l[len++] = c;
    }
    l[len] = 0;
    return l;
}

char *qtest_qmp(int fd, const char *cmd)
{
    size_t n = strlen(cmd);

    if (write(fd, cmd, n) != (ssize_t)n) {
        return NULL;
    }
    for (;;) {
        char *l = qtest_read_line(fd, 10000);

        if (!l || strstr(l, "\"return\"") || strstr(l, "\"error\"")) {
            return l;
        }
        free(l);                /* an event */
    }
}

int qtest_qmp_connect(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    char *l;

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    for (int t = 0; fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)); t++) {
        if (t >= 1000) {
            fprintf(stderr, "libqtest: no QMP socket at %s\n", path);
            close(fd);
            return -1;
        }
        usleep(10 * 1000);
    }
    l = fd >= 0 ? qtest_read_line(fd, 10000) : NULL;
    if (!l || !strstr(l, "\"QMP\"")) {
        fprintf(stderr, "libqtest: no QMP greeting at %s\n", path);
        free(l);
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    free(l);
    l = qtest_qmp(fd, "{\"execute\":\"qmp_capabilities\"}\n");
    if (!l || !strstr(l, "\"return\"")) {
        fprintf(stderr, "libqtest: qmp_capabilities: %s\n", l ? l : "no reply");
        free(l);
        close(fd);
        return -1;
    }
    free(l);
    return fd;
}

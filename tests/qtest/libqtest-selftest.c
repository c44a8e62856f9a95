/*
 * Self-test of libqtest against a fake emulator (this same executable,
 * re-executed with LIBQTEST_FAKE_MODE set), so the client library's
 * protocol handling, timeouts and child management are checked without
 * QEMU or kvmpc.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "qtest-harness.h"

/* ---------------------------------------------------------------- fake -- */

static uint8_t fake_mem[0x10000];
static uint32_t fake_ports[0x10000];
static int64_t fake_clock;

static void fake_reply(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fflush(f);
}

static int fake_main(int argc, char **argv, const char *mode)
{
    const char *path = NULL;
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    char line[70000];
    FILE *f;
    int fd;

    for (int i = 1; i < argc - 1; i++) {
        if (!strcmp(argv[i], "-qtest") && !strncmp(argv[i + 1], "unix:", 5)) {
            path = argv[i + 1] + 5;
        }
    }
    if (!path || !strcmp(mode, "noconnect")) {
        return 3;
    }
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        return 4;
    }
    f = fdopen(fd, "r+");
    while (fgets(line, sizeof(line), f)) {
        char cmd[32] = "", a1[70000 / 2] = "", a2[64] = "", a3[34000] = "";
        unsigned long long x, y;

        if (!strcmp(mode, "hang")) {
            continue;
        }
        if (!strcmp(mode, "die")) {
            _exit(42);
        }
        if (!strcmp(mode, "fail")) {
            fake_reply(f, "FAIL nope\n");
            continue;
        }
        if (!strcmp(mode, "garbage")) {
            fake_reply(f, "OK zzz\n");
            continue;
        }
        sscanf(line, "%31s %34999s %63s %33999s", cmd, a1, a2, a3);
        x = strtoull(a1, NULL, 0);
        y = strtoull(a2, NULL, 0);
        if (!strncmp(cmd, "out", 3)) {
            if (x == 0x10) {
                fake_reply(f, "IRQ raise %llu\n", y);
            } else if (x == 0x11) {
                fake_reply(f, "IRQ lower %llu\n", y);
            } else if (x == 0x12) {
                fclose(f);
                _exit((int)y);
            } else if (x == 0x13) {
                /* asynchronous IRQ after the reply */
                fake_reply(f, "OK\n");
                usleep(100000);
                fake_reply(f, "IRQ raise %llu\n", y);
                continue;
            }
            fake_ports[x & 0xffff] = y;
            fake_reply(f, "OK\n");
        } else if (!strncmp(cmd, "in", 2)) {
            fake_reply(f, "OK 0x%04x\n", fake_ports[x & 0xffff]);
        } else if (!strncmp(cmd, "write", 5) && cmd[5]) {
            int n = cmd[5] == 'b' ? 1 : cmd[5] == 'w' ? 2 : cmd[5] == 'l' ? 4 : 8;
            memcpy(fake_mem + (x & 0xfff0), &y, n);
            fake_reply(f, "OK\n");
        } else if (!strncmp(cmd, "read", 4) && cmd[4]) {
            int n = cmd[4] == 'b' ? 1 : cmd[4] == 'w' ? 2 : cmd[4] == 'l' ? 4 : 8;
            uint64_t v = 0;
            memcpy(&v, fake_mem + (x & 0xfff0), n);
            fake_reply(f, "OK 0x%016llx\n", (unsigned long long)v);
        } else if (!strcmp(cmd, "write")) {
            for (unsigned long long i = 0; i < y; i++) {
                unsigned b;
                sscanf(a3 + 2 + 2 * i, "%2x", &b);
                fake_mem[(x + i) & 0xffff] = b;
            }
            fake_reply(f, "OK\n");
        } else if (!strcmp(cmd, "read")) {
            fprintf(f, "OK 0x");
            for (unsigned long long i = 0; i < y; i++) {
                fprintf(f, "%02x", fake_mem[(x + i) & 0xffff]);
            }
            fake_reply(f, "\n");
        } else if (!strcmp(cmd, "clock_step")) {
            fake_clock += a1[0] ? (int64_t)x : 1000;
            fake_reply(f, "OK %lld\n", (long long)fake_clock);
        } else if (!strcmp(cmd, "clock_set")) {
            if ((int64_t)x > fake_clock) {
                fake_clock = x;
            }
            fake_reply(f, "OK %lld\n", (long long)fake_clock);
        } else if (!strcmp(cmd, "irq_intercept_in")) {
            fake_reply(f, a1[0] ? "OK\n" : "FAIL missing path\n");
        } else {
            fake_reply(f, "FAIL Unknown command '%s'\n", cmd);
        }
    }
    return 0;
}

/* --------------------------------------------------------------- tests -- */

static jmp_buf expect_jmp;
static char expect_msg[400];

static void expect_handler(const char *msg)
{
    snprintf(expect_msg, sizeof(expect_msg), "%s", msg);
    longjmp(expect_jmp, 1);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Run body; it must end in a libqtest failure whose message contains want,
 * within max_s seconds. */
#define EXPECT_QTEST_FAIL(want, max_s, body)                                \
    do {                                                                    \
        double t0_ = now_s();                                               \
        expect_msg[0] = 0;                                                  \
        qtest_set_fail_handler(expect_handler);                             \
        if (setjmp(expect_jmp) == 0) {                                      \
            body;                                                           \
            qtest_set_fail_handler(qt_fail_handler);                        \
            QT_FAIL("expected a libqtest failure (%s)", want);              \
        }                                                                   \
        qtest_set_fail_handler(qt_fail_handler);                            \
        printf("# got expected failure: %s\n", expect_msg);                 \
        QT_ASSERT_MSG(strstr(expect_msg, want), "message '%s'", expect_msg); \
        QT_ASSERT_MSG(now_s() - t0_ <= (max_s), "took %.1f s", now_s() - t0_); \
    } while (0)

static void set_mode(const char *m)
{
    setenv("LIBQTEST_FAKE_MODE", m, 1);
}

static void test_protocol(void)
{
    QTestState *s;
    uint8_t buf[300], back[300];
    char *r;

    set_mode("good");
    s = qtest_init("-machine whatever");
    qtest_outb(s, 0x80, 0x41);
    QT_ASSERT_EQ(qtest_inb(s, 0x80), 0x41);
    qtest_outw(s, 0x82, 0xbeef);
    QT_ASSERT_EQ(qtest_inw(s, 0x82), 0xbeef);
    qtest_outl(s, 0x84, 0xdeadbeef);
    QT_ASSERT_EQ(qtest_inl(s, 0x84), 0xdeadbeef);
    qtest_writeq(s, 0x100, 0x0123456789abcdefULL);
    QT_ASSERT_EQ(qtest_readq(s, 0x100), 0x0123456789abcdefULL);
    QT_ASSERT_EQ(qtest_readl(s, 0x100), 0x89abcdef);
    qtest_writew(s, 0x110, 0x1234);
    QT_ASSERT_EQ(qtest_readw(s, 0x110), 0x1234);
    qtest_writeb(s, 0x120, 0x99);
    QT_ASSERT_EQ(qtest_readb(s, 0x120), 0x99);
    for (size_t i = 0; i < sizeof(buf); i++) {
        buf[i] = i * 7 + 3;
    }
    qtest_memwrite(s, 0x1000, buf, sizeof(buf));
    qtest_memread(s, 0x1000, back, sizeof(back));
    QT_ASSERT(memcmp(buf, back, sizeof(buf)) == 0);
    qtest_memread(s, 0x1001, back, 1);
    QT_ASSERT_EQ(back[0], buf[1]);
    QT_ASSERT_SCMP(qtest_clock_step(s, 500), ==, 500);
    QT_ASSERT_SCMP(qtest_clock_step_next(s), ==, 1500);
    QT_ASSERT_SCMP(qtest_clock_set(s, 10000), ==, 10000);
    QT_ASSERT_SCMP(qtest_clock_set(s, 10), ==, 10000);
    /* raw commands return FAIL replies instead of failing */
    r = qtest_command_raw(s, "no_such_command 1 2");
    QT_ASSERT(strncmp(r, "FAIL", 4) == 0);
    free(r);
    qtest_quit(s);
}

static void test_irqs(void)
{
    QTestState *s;

    set_mode("good");
    s = qtest_init("");
    qtest_irq_intercept_in(s, "ioapic");
    QT_ASSERT(!qtest_get_irq(s, 4));
    qtest_outb(s, 0x10, 4);                        /* fake raises IRQ 4 */
    QT_ASSERT(qtest_get_irq(s, 4));
    qtest_outb(s, 0x10, 4);
    QT_ASSERT_EQ(qtest_irq_raise_count(s, 4), 2);
    qtest_outb(s, 0x11, 4);
    QT_ASSERT(!qtest_get_irq(s, 4));
    qtest_outb(s, 0x10, 255);
    QT_ASSERT(qtest_get_irq(s, 255));
    qtest_irq_reset_counts(s);
    QT_ASSERT_EQ(qtest_irq_raise_count(s, 4), 0);
    /* an IRQ line that arrives between commands is picked up */
    qtest_outb(s, 0x13, 9);
    usleep(300000);
    QT_ASSERT(qtest_get_irq(s, 9));
    qtest_quit(s);
}

static void test_wait_exit(void)
{
    QTestState *s;
    int st;

    set_mode("good");
    s = qtest_init("");
    QT_ASSERT_EQ(qtest_wait_exit(s, 100), -1);     /* still running */
    qtest_send_nowait(s, "outb 0x12 0x0b");
    st = qtest_wait_exit(s, 5000);
    QT_ASSERT(st != -1 && WIFEXITED(st));
    QT_ASSERT_EQ(WEXITSTATUS(st), 11);
    /* commands after exit fail cleanly */
    EXPECT_QTEST_FAIL("closed", 2, qtest_inb(s, 0));
    qtest_quit(s);
}

static void test_quit_kills(void)
{
    QTestState *s;
    pid_t pid;

    set_mode("hang");
    s = qtest_init("");
    pid = qtest_pid(s);
    QT_ASSERT(kill(pid, 0) == 0);
    qtest_quit(s);
    QT_ASSERT(kill(pid, 0) < 0 && errno == ESRCH);
}

static void test_timeout(void)
{
    setenv("QTEST_TIMEOUT", "2", 1);
    set_mode("hang");
    EXPECT_QTEST_FAIL("timeout", 5, {
        QTestState *s = qtest_init("");
        qtest_inb(s, 0x3f8);
    });
    unsetenv("QTEST_TIMEOUT");
}

static void test_emulator_dies(void)
{
    set_mode("die");
    EXPECT_QTEST_FAIL("status 42", 5, {
        QTestState *s = qtest_init("");
        qtest_outb(s, 0x3f8, 1);
    });
}

static void test_no_connect(void)
{
    set_mode("noconnect");
    EXPECT_QTEST_FAIL("before connecting", 5, qtest_init(""));
}

static void test_fail_reply(void)
{
    set_mode("fail");
    EXPECT_QTEST_FAIL("FAIL nope", 5, {
        QTestState *s = qtest_init("");
        qtest_outb(s, 0x3f8, 1);
    });
}

static void test_garbage_reply(void)
{
    set_mode("garbage");
    EXPECT_QTEST_FAIL("malformed", 5, {
        QTestState *s = qtest_init("");
        qtest_inb(s, 0x3f8);
    });
}

static void test_missing_binary(void)
{
    EXPECT_QTEST_FAIL("before connecting", 5,
                      qtest_init_with_binary("/nonexistent/emulator", ""));
}

int main(int argc, char **argv)
{
    const char *mode = getenv("LIBQTEST_FAKE_MODE");
    char self[4096];
    ssize_t n;

    if (mode) {
        return fake_main(argc, argv, mode);
    }
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) {
        fprintf(stderr, "readlink /proc/self/exe failed\n");
        return 1;
    }
    self[n] = 0;
    setenv("QTEST_BINARY", self, 1);
    qt_init(argc, argv);
    qt_run("libqtest/protocol", test_protocol);
    qt_run("libqtest/irqs", test_irqs);
    qt_run("libqtest/wait-exit", test_wait_exit);
    qt_run("libqtest/quit-kills-child", test_quit_kills);
    qt_run("libqtest/timeout", test_timeout);
    qt_run("libqtest/emulator-dies", test_emulator_dies);
    qt_run("libqtest/no-connect", test_no_connect);
    qt_run("libqtest/fail-reply", test_fail_reply);
    qt_run("libqtest/garbage-reply", test_garbage_reply);
    qt_run("libqtest/missing-binary", test_missing_binary);
    return qt_finish();
}

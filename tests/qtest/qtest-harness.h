/*
 * Tiny TAP-producing test harness for the qtest device tests.
 *
 *   static void test_foo(void) { ... QT_ASSERT_EQ(a, b); ... }
 *   int main(int argc, char **argv) {
 *       qt_init(argc, argv);
 *       qt_run("foo", test_foo);
 *       return qt_finish();
 *   }
 *
 * Each qt_run() case prints "ok N - name" / "not ok N - name" (or
 * "ok N - name # SKIP reason"); a failed assertion or a libqtest failure
 * aborts only the current case (longjmp) and kills its emulators.
 * qt_finish() prints the plan "1..N" and returns 1 if any case failed.
 * An optional argument selects cases whose name contains it.
 *
 * Header-only on purpose: every test is its own executable.
 */
#ifndef KVMPC_QTEST_HARNESS_H
#define KVMPC_QTEST_HARNESS_H

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "libqtest.h"

static int qt_count, qt_failed, qt_skipped;
static int qt_case_failed;
static const char *qt_filter;
static jmp_buf qt_jmp;
static int qt_in_case;
static char qt_log_path[256];       /* qt_log_redirect()'s file, removed after each case */

/* After a case: a failed one shows the emulator's log, then it goes. */
static inline void qt_log_done(void)
{
    char line[512];
    FILE *f;

    if (!qt_log_path[0]) {
        return;
    }
    if (qt_case_failed && (f = fopen(qt_log_path, "r"))) {
        while (fgets(line, sizeof(line), f)) {
            printf("# log: %s", line);
        }
        fclose(f);
    }
    unlink(qt_log_path);
    qt_log_path[0] = 0;
}

static void qt_fail_handler(const char *msg)
{
    printf("# FAIL: %s\n", msg);
    fflush(stdout);
    if (qt_in_case) {
        qt_case_failed = 1;
        longjmp(qt_jmp, 1);
    }
}

static inline void qt_init(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    qt_filter = argc > 1 ? argv[1] : NULL;
    qtest_set_fail_handler(qt_fail_handler);
    /* fail early and clearly if the binary is not configured */
    printf("# emulator: %s\n", qtest_binary_path());
}

static char qt_skip_reason[256];

static inline void qt_run(const char *name, void (*fn)(void))
{
    if (qt_filter && !strstr(name, qt_filter)) {
        return;
    }
    qt_count++;
    qt_case_failed = 0;
    qt_skip_reason[0] = 0;
    qt_in_case = 1;
    if (setjmp(qt_jmp) == 0) {
        fn();
    }
    qt_in_case = 0;
    qtest_kill_all();
    qt_log_done();
    if (qt_case_failed) {
        qt_failed++;
        printf("not ok %d - %s\n", qt_count, name);
    } else if (qt_skip_reason[0]) {
        qt_skipped++;
        printf("ok %d - %s # SKIP %s\n", qt_count, name, qt_skip_reason);
    } else {
        printf("ok %d - %s\n", qt_count, name);
    }
}

static inline int qt_finish(void)
{
    printf("1..%d\n", qt_count);
    printf("# %d passed, %d failed, %d skipped\n",
           qt_count - qt_failed - qt_skipped, qt_failed, qt_skipped);
    return qt_failed ? 1 : 0;
}

#define QT_FAIL(...) qtest_fail(__VA_ARGS__)

#define QT_SKIP(...)                                                        \
    do {                                                                    \
        snprintf(qt_skip_reason, sizeof(qt_skip_reason), __VA_ARGS__);      \
        longjmp(qt_jmp, 2);                                                 \
    } while (0)

#define QT_ASSERT(cond)                                                     \
    do {                                                                    \
        if (!(cond)) {                                                      \
            qtest_fail("%s:%d: assertion failed: %s", __FILE__, __LINE__,   \
                       #cond);                                              \
        }                                                                   \
    } while (0)

#define QT_ASSERT_MSG(cond, ...)                                            \
    do {                                                                    \
        if (!(cond)) {                                                      \
            char qt_m_[512];                                                \
            snprintf(qt_m_, sizeof(qt_m_), __VA_ARGS__);                    \
            qtest_fail("%s:%d: assertion failed: %s (%s)", __FILE__,        \
                       __LINE__, #cond, qt_m_);                             \
        }                                                                   \
    } while (0)

#define QT_ASSERT_CMP(a, op, b)                                             \
    do {                                                                    \
        uint64_t qt_a_ = (uint64_t)(a), qt_b_ = (uint64_t)(b);              \
        if (!(qt_a_ op qt_b_)) {                                            \
            qtest_fail("%s:%d: assertion failed: %s %s %s "                 \
                       "(0x%" PRIx64 " %s 0x%" PRIx64 ")", __FILE__,        \
                       __LINE__, #a, #op, #b, qt_a_, #op, qt_b_);           \
        }                                                                   \
    } while (0)

#define QT_ASSERT_EQ(a, b) QT_ASSERT_CMP(a, ==, b)
#define QT_ASSERT_NE(a, b) QT_ASSERT_CMP(a, !=, b)

/* signed comparisons (clock values) */
#define QT_ASSERT_SCMP(a, op, b)                                            \
    do {                                                                    \
        int64_t qt_a_ = (int64_t)(a), qt_b_ = (int64_t)(b);                 \
        if (!(qt_a_ op qt_b_)) {                                            \
            qtest_fail("%s:%d: assertion failed: %s %s %s "                 \
                       "(%" PRId64 " %s %" PRId64 ")", __FILE__, __LINE__,  \
                       #a, #op, #b, qt_a_, #op, qt_b_);                     \
        }                                                                   \
    } while (0)

/* Per-process scratch file path (removed by caller). */
static inline void qt_tmpfile(char *buf, size_t n, const char *tag)
{
    const char *tmp = getenv("TMPDIR");
    static int counter;
    snprintf(buf, n, "%s/qtest-%s-%d-%d", tmp && *tmp ? tmp : "/tmp", tag,
             (int)getpid(), counter++);
}

/*
 * The emulator's log (its stderr) in a file, for the cases that check a
 * log line: append qt_log_redirect() to its arguments (" 2>PATH"; the
 * arguments go through /bin/sh), then count lines with qt_log_lines().
 */
static inline const char *qt_log_redirect(void)
{
    static char arg[300];

    qt_tmpfile(qt_log_path, sizeof(qt_log_path), "log");
    snprintf(arg, sizeof(arg), " 2>%s", qt_log_path);
    return arg;
}

/* Lines of the log that contain every one of the NULL-terminated strings;
 * the first such line is copied into first (if not NULL). */
static inline int qt_log_lines(char *first, size_t n, ...)
{
    char line[1024];
    int count = 0;
    FILE *f = fopen(qt_log_path, "r");

    if (first && n) {
        first[0] = 0;
    }
    if (!f) {
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        va_list ap;
        const char *want;
        int all = 1;

        va_start(ap, n);
        while ((want = va_arg(ap, const char *))) {
            all &= strstr(line, want) != NULL;
        }
        va_end(ap);
        if (all && count++ == 0 && first && n) {
            snprintf(first, n, "%s", line);
        }
    }
    fclose(f);
    return count;
}

/* Exactly one "needs reset" line for device DEV (virtio_error's,
 * docs/virtio.md: "kvmpc: warning: DEV: WHAT (device needs reset)"),
 * whose WHAT contains about (if not NULL), and no other for DEV. */
#define QT_ASSERT_NEEDS_RESET_LOGGED(dev, about)                                \
    do {                                                                    \
        char qt_l_[1024];                                                   \
        int qt_n_ = qt_log_lines(qt_l_, sizeof(qt_l_), "kvmpc: warning: " dev ": ", \
                                 "(device needs reset)", (char *)NULL);     \
        QT_ASSERT_MSG(qt_n_ == 1, "%d \"needs reset\" log lines for %s in %s", qt_n_, \
                      dev, qt_log_path);                                    \
        QT_ASSERT_MSG(!(about) || strstr(qt_l_, (about) ? (about) : ""),     \
                      "log line \"%.300s\" does not mention \"%.100s\"", qt_l_, \
                      (about) ? (about) : "");                              \
    } while (0)

/* The emulator refuses a configuration: started with ARGS (and -accel
 * qtest -display none -nodefaults) it exits non-zero, and its output
 * contains MSG. */
static inline void qt_expect_fail(const char *args, const char *msg)
{
    char cmd[1024], out[4096];
    size_t n;
    FILE *f;
    int st;

    snprintf(cmd, sizeof(cmd), "timeout 20 %s -accel qtest -display none -nodefaults %s 2>&1",
             qtest_binary_path(), args);
    f = popen(cmd, "r");
    QT_ASSERT(f);
    n = fread(out, 1, sizeof(out) - 1, f);
    out[n] = 0;
    st = pclose(f);
    QT_ASSERT_MSG(WIFEXITED(st) && WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 124,
                  "'%.100s' did not fail: %.300s", args, out);
    QT_ASSERT_MSG(strstr(out, msg), "'%.100s' said: %.300s", args, out);
}

#endif

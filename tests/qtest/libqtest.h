/*
 * libqtest - minimal client for the QEMU-compatible qtest text protocol.
 *
 * The test process listens on a unix socket, starts the emulator with
 *   BINARY -qtest unix:SOCK -qtest-log LOG -accel qtest -machine pc
 *          -nodefaults -display none EXTRA_ARGS
 * and the emulator connects to the socket.  Every command is a single line,
 * every reply is a line starting with "OK" (success) or "FAIL"/"ERR"; lines
 * starting with "IRQ" are asynchronous interrupt notifications and may appear
 * at any point before a reply.
 *
 * Failures (bad reply, timeout, emulator death) are reported through the
 * failure handler (see qtest_set_fail_handler); the default one prints the
 * message, kills all emulators and exits with status 1.
 *
 * Environment:
 *   QTEST_BINARY   emulator binary (used by qtest_init)
 *   QTEST_TIMEOUT  seconds to wait for any single reply/startup (default 30)
 *   QTEST_LOG      if set, passed as -qtest-log (e.g. /dev/stderr); default
 *                  /dev/null
 *   QTEST_VERBOSE  if set, echo every command and reply to stderr
 */
#ifndef KVMPC_LIBQTEST_H
#define KVMPC_LIBQTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct QTestState QTestState;

#define QTEST_MAX_IRQ 256

/* --- lifecycle ---------------------------------------------------------- */

/* Start the emulator given by $QTEST_BINARY with extra_args (split by
 * /bin/sh, so quoting works).  Never returns NULL (fails via handler). */
QTestState *qtest_init(const char *extra_args);
QTestState *qtest_initf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
QTestState *qtest_init_with_binary(const char *binary, const char *extra_args);

/* Kill the emulator (SIGTERM, then SIGKILL after a grace period), reap it
 * and free the state. */
void qtest_quit(QTestState *s);

/* Wait up to timeout_ms for the emulator to exit by itself.  Returns the
 * raw wait status (use WIFEXITED/WEXITSTATUS), or -1 on timeout (the
 * emulator is left running).  After a successful wait further commands
 * are not allowed; qtest_quit() must still be called to free the state. */
int qtest_wait_exit(QTestState *s, int timeout_ms);

/* Kill every emulator still running (used by the test harness between test
 * cases and at exit). */
void qtest_kill_all(void);

pid_t qtest_pid(QTestState *s);
const char *qtest_binary_path(void);

/* Failure handler: called with a message; must not return (longjmp/exit).
 * If it returns, the process exits with status 1. */
typedef void (*QTestFailHandler)(const char *msg);
void qtest_set_fail_handler(QTestFailHandler fn);
void qtest_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* --- raw protocol ------------------------------------------------------- */

/* Send a command line and return the reply line (malloc'd, no newline),
 * whatever it is ("OK ..." or "FAIL ..." or "ERR ...").  Caller frees. */
char *qtest_command_raw(QTestState *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Send a command and do not wait for any reply (e.g. a write that makes the
 * emulator exit). */
void qtest_send_nowait(QTestState *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The next reply line (after qtest_send_nowait: one per command sent),
 * whatever it is.  Caller frees. */
char *qtest_read_reply_raw(QTestState *s);

/* --- port I/O ----------------------------------------------------------- */
void qtest_outb(QTestState *s, uint16_t port, uint8_t v);
void qtest_outw(QTestState *s, uint16_t port, uint16_t v);
void qtest_outl(QTestState *s, uint16_t port, uint32_t v);
uint8_t qtest_inb(QTestState *s, uint16_t port);
uint16_t qtest_inw(QTestState *s, uint16_t port);
uint32_t qtest_inl(QTestState *s, uint16_t port);

/* --- guest memory (guest physical addresses) ----------------------------- */
void qtest_writeb(QTestState *s, uint64_t addr, uint8_t v);
void qtest_writew(QTestState *s, uint64_t addr, uint16_t v);
void qtest_writel(QTestState *s, uint64_t addr, uint32_t v);
void qtest_writeq(QTestState *s, uint64_t addr, uint64_t v);
uint8_t qtest_readb(QTestState *s, uint64_t addr);
uint16_t qtest_readw(QTestState *s, uint64_t addr);
uint32_t qtest_readl(QTestState *s, uint64_t addr);
uint64_t qtest_readq(QTestState *s, uint64_t addr);
/* "read ADDR SIZE" / "write ADDR SIZE 0xHEX" (bytes in memory order) */
void qtest_memread(QTestState *s, uint64_t addr, void *buf, size_t size);
void qtest_memwrite(QTestState *s, uint64_t addr, const void *buf, size_t size);

/* --- virtual clock ------------------------------------------------------ */
/* "clock_step NS": advance the virtual clock by ns; returns the new clock */
int64_t qtest_clock_step(QTestState *s, int64_t ns);
/* "clock_step": advance to the next timer deadline; returns the new clock */
int64_t qtest_clock_step_next(QTestState *s);
/* "clock_set NS": advance the virtual clock to ns; returns the new clock */
int64_t qtest_clock_set(QTestState *s, int64_t ns);

/* --- interrupts --------------------------------------------------------- */
/* "irq_intercept_in QOM-PATH" (e.g. "ioapic") */
void qtest_irq_intercept_in(QTestState *s, const char *qom_path);
/* Current level of intercepted line n (after draining pending IRQ lines). */
bool qtest_get_irq(QTestState *s, int n);
/* Number of "IRQ raise n" lines seen since start / last reset. */
unsigned qtest_irq_raise_count(QTestState *s, int n);
void qtest_irq_reset_counts(QTestState *s);

/* ---- sockets the tests hold the other end of (backends, chardevs, QMP) -- */

/* A TCP socket listening on 127.0.0.1 at a free port (*port): fd or -1. */
int qtest_listen_loopback(int *port);
/* Reads exactly len bytes; false on EOF, error or timeout_ms without data. */
bool qtest_read_full(int fd, void *buf, size_t len, int timeout_ms);
/* An Ethernet frame in -netdev socket's framing (4-byte big-endian length). */
bool qtest_send_frame(int fd, const void *frame, uint32_t len);
/* One line without its '\n' (malloc'd), or NULL on EOF or timeout. */
char *qtest_read_line(int fd, int timeout_ms);
/* Connects to a QMP server socket at path (kvmpc started with "-qmp
 * unix:PATH,server=on,wait=off"), reads the greeting and leaves
 * capabilities negotiation: the fd, or -1 (with a message) if it cannot. */
int qtest_qmp_connect(const char *path);
/* Sends cmd (one JSON line, '\n' included) and returns the reply line
 * (malloc'd, "return" or "error"); event lines before it are dropped.
 * NULL if the connection closed or nothing came within 10 s. */
char *qtest_qmp(int fd, const char *cmd);

#endif

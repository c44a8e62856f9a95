/*
 * qtest: no CPU runs; a test process drives the device model over a
 * text protocol on a chardev (QEMU's qtest protocol: outb/inb, readl/
 * writel, read/write, memset, b64read/b64write, clock_step/clock_set,
 * irq_intercept_in/out, set_irq_in, endianness).  The virtual clock
 * moves only when the test steps it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "accel/accel.h"
#include "accel/qtest.h"
#include "chardev/char.h"
#include "hw/memory.h"
#include "hw/qdev.h"
#include "system/main-loop.h"
#include "system/runstate.h"

#define QTEST_MAX_LINE (64 * 1024 * 1024)

typedef struct QTestState {
    CharBackend be;
    GString *inbuf;
    FILE *log;
    int64_t start_ns;
    GHashTable *irq_levels;     /* "path/n" -> level, to report changes only */
} QTestState;

static QTestState qts;

/* ---- accelerator ------------------------------------------------------ */

static bool qtest_probe(Error **errp)
{
    return true;
}

static bool qtest_init_machine(MachineState *ms, Error **errp)
{
    qemu_clock_virtual_set_manual(true);
    return true;
}

static void qtest_set_irq(int gsi, int level)
{
}

/* No CPU runs: env itself is the state. */
static bool qtest_get_state(CPUState *cpu, Error **errp)
{
    cpu->env_valid = true;
    return true;
}

static bool qtest_put_state(CPUState *cpu, Error **errp)
{
    return true;
}

static const AccelOps qtest_accel_ops = {
    .name = "qtest",
    .desc = "no CPU: devices driven by a test over the qtest protocol",
    .probe = qtest_probe,
    .init_machine = qtest_init_machine,
    .get_state = qtest_get_state,
    .put_state = qtest_put_state,
    .set_irq = qtest_set_irq,
};

ACCEL_REGISTER(qtest_accel_ops)

/* ---- protocol --------------------------------------------------------- */

static void qtest_log(const char *dir, const char *line)
{
    if (qts.log) {
        double t = (qemu_clock_get_ns(QEMU_CLOCK_REALTIME) - qts.start_ns) / 1e9;
        fprintf(qts.log, "[%s +%f] %s%s", dir, t, line,
                line[0] && line[strlen(line) - 1] == '\n' ? "" : "\n");
        fflush(qts.log);
    }
}

static void qtest_send(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static void qtest_send(const char *fmt, ...)
{
    va_list ap;
    g_autofree char *s = NULL;

    va_start(ap, fmt);
    s = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    qtest_log("R", s);
    qemu_chr_fe_write_all(&qts.be, (const uint8_t *)s, strlen(s));
}

static bool parse_u64(const char *s, uint64_t *v)
{
    char *end;

    if (!s || !*s) {
        return false;
    }
    errno = 0;
    *v = strtoull(s, &end, 0);
    return !errno && !*end;
}

static bool parse_i64(const char *s, int64_t *v)
{
    char *end;

    if (!s || !*s) {
        return false;
    }
    errno = 0;
    *v = strtoll(s, &end, 0);
    return !errno && !*end;
}

/* An intercepted line: reported as "IRQ raise/lower N" on every change and
 * still passed on to where it went before (as QEMU's qtest does). */
typedef struct QTestIrqTap {
    IRQState next;              /* the line's previous handler */
    char *key;                  /* "PATH/in|out/N": the last level reported */
} QTestIrqTap;

static void qtest_irq_handler(void *opaque, int n, int level)
{
    QTestIrqTap *tap = opaque;
    gpointer old = g_hash_table_lookup(qts.irq_levels, tap->key);
    int prev = old ? GPOINTER_TO_INT(old) - 1 : 0;

    qemu_set_irq(&tap->next, level);
    level = !!level;
    if (prev == level && old) {
        return;
    }
    g_hash_table_replace(qts.irq_levels, g_strdup(tap->key), GINT_TO_POINTER(level + 1));
    qtest_send("IRQ %s %d\n", level ? "raise" : "lower", n);
}

static QTestIrqTap *qtest_irq_tap_new(DeviceState *dev, const char *dir, int n, qemu_irq next)
{
    QTestIrqTap *tap = g_new0(QTestIrqTap, 1);

    if (next) {
        tap->next = *next;
    }
    tap->key = g_strdup_printf("%s/%s/%d", dev->canonical_path, dir, n);
    return tap;
}

/* Intercepts the device's unnamed GPIO inputs (out = false) or outputs. */
static bool qtest_intercept(const char *path, bool out, Error **errp)
{
    DeviceState *dev = qdev_find_by_path(path);
    NamedGPIO *g;

    if (!dev) {
        error_setg(errp, "Could not find '%s'", path);
        return false;
    }
    g = qdev_get_named_gpio(dev, NULL);
    if (!g || (out ? g->n_out : g->n_in) == 0) {
        error_setg(errp, "'%s' has no %s interrupt lines", path, out ? "output" : "input");
        return false;
    }
    if (out) {
        for (int i = 0; i < g->n_out; i++) {
            QTestIrqTap *tap = qtest_irq_tap_new(dev, "out", i, g->out[i]);
            g->out[i] = qemu_allocate_irq(qtest_irq_handler, tap, i);
        }
        return true;
    }
    for (int i = 0; i < g->n_in; i++) {
        QTestIrqTap *tap = qtest_irq_tap_new(dev, "in", i, g->in[i]);
        g->in[i]->handler = qtest_irq_handler;
        g->in[i]->opaque = tap;
    }
    return true;
}

static void qtest_cmd_memread(char **w, int n, bool b64)
{
    uint64_t addr, len;

    if (n != 3 || !parse_u64(w[1], &addr) || !parse_u64(w[2], &len) || len > QTEST_MAX_LINE) {
        qtest_send("FAIL bad arguments\n");
        return;
    }
    g_autofree uint8_t *buf = g_malloc(len ? len : 1);
    address_space_read(&address_space_memory, addr, buf, len);
    if (b64) {
        g_autofree char *enc = g_base64_encode(buf, len);
        qtest_send("OK %s\n", enc);
        return;
    }
    GString *s = g_string_sized_new(len * 2 + 8);
    g_string_append(s, "OK 0x");
    for (uint64_t i = 0; i < len; i++) {
        g_string_append_printf(s, "%02x", buf[i]);
    }
    g_string_append_c(s, '\n');
    qtest_send("%s", s->str);
    g_string_free(s, TRUE);
}

static void qtest_cmd_memwrite(char **w, int n, bool b64)
{
    uint64_t addr, len;
    g_autofree uint8_t *buf = NULL;

    if (n != 4 || !parse_u64(w[1], &addr) || !parse_u64(w[2], &len) || len > QTEST_MAX_LINE) {
        qtest_send("FAIL bad arguments\n");
        return;
    }
    buf = g_malloc0(len ? len : 1);
    if (b64) {
        gsize out_len;
        g_autofree guchar *dec = g_base64_decode(w[3], &out_len);
        memcpy(buf, dec, MIN(out_len, len));
    } else {
        const char *hex = w[3];
        if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) {
            hex += 2;
        }
        size_t hl = strlen(hex);
        for (uint64_t i = 0; i < len && 2 * i + 1 < hl; i++) {
            int hi = g_ascii_xdigit_value(hex[2 * i]), lo = g_ascii_xdigit_value(hex[2 * i + 1]);
            if (hi < 0 || lo < 0) {
                qtest_send("FAIL bad hex data\n");
                return;
            }
            buf[i] = hi << 4 | lo;
        }
    }
    address_space_write(&address_space_memory, addr, buf, len);
    qtest_send("OK\n");
}

static int access_size(char c)
{
    switch (c) {
    case 'b': return 1;
    case 'w': return 2;
    case 'l': return 4;
    case 'q': return 8;
    }
    return 0;
}

static void qtest_process_command(char **w, int n)
{
    const char *cmd = w[0];
    uint64_t addr, val;
    int64_t ns;
    int size;

    if (n == 0) {
        return;
    }
    if ((!strcmp(cmd, "outb") || !strcmp(cmd, "outw") || !strcmp(cmd, "outl")) && n == 3) {
        if (!parse_u64(w[1], &addr) || !parse_u64(w[2], &val) || addr > 0xffff) {
            qtest_send("FAIL bad arguments\n");
            return;
        }
        address_space_st(&address_space_io, addr, val, access_size(cmd[3]));
        qtest_send("OK\n");
    } else if ((!strcmp(cmd, "inb") || !strcmp(cmd, "inw") || !strcmp(cmd, "inl")) && n == 2) {
        if (!parse_u64(w[1], &addr) || addr > 0xffff) {
            qtest_send("FAIL bad arguments\n");
            return;
        }
        address_space_ld(&address_space_io, addr, &val, access_size(cmd[2]));
        qtest_send("OK 0x%04" PRIx64 "\n", val);
    } else if (strlen(cmd) == 6 && g_str_has_prefix(cmd, "write") &&
               (size = access_size(cmd[5])) && n == 3) {
        if (!parse_u64(w[1], &addr) || !parse_u64(w[2], &val)) {
            qtest_send("FAIL bad arguments\n");
            return;
        }
        address_space_st(&address_space_memory, addr, val, size);
        qtest_send("OK\n");
    } else if (strlen(cmd) == 5 && g_str_has_prefix(cmd, "read") &&
               (size = access_size(cmd[4])) && n == 2) {
        if (!parse_u64(w[1], &addr)) {
            qtest_send("FAIL bad arguments\n");
            return;
        }
        address_space_ld(&address_space_memory, addr, &val, size);
        qtest_send("OK 0x%016" PRIx64 "\n", val);
    } else if (!strcmp(cmd, "read")) {
        qtest_cmd_memread(w, n, false);
    } else if (!strcmp(cmd, "b64read")) {
        qtest_cmd_memread(w, n, true);
    } else if (!strcmp(cmd, "write")) {
        qtest_cmd_memwrite(w, n, false);
    } else if (!strcmp(cmd, "b64write")) {
        qtest_cmd_memwrite(w, n, true);
    } else if (!strcmp(cmd, "memset") && n == 4) {
        uint64_t len, pat;
        if (!parse_u64(w[1], &addr) || !parse_u64(w[2], &len) || !parse_u64(w[3], &pat) ||
            len > QTEST_MAX_LINE) {
            qtest_send("FAIL bad arguments\n");
            return;
        }
        g_autofree uint8_t *buf = g_malloc(len ? len : 1);
        memset(buf, (int)pat, len);
        address_space_write(&address_space_memory, addr, buf, len);
        qtest_send("OK\n");
    } else if (!strcmp(cmd, "clock_step") && (n == 1 || n == 2)) {
        int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL), to;
        if (n == 2) {
            if (!parse_i64(w[1], &ns) || ns < 0) {
                qtest_send("FAIL bad arguments\n");
                return;
            }
            to = now + ns;
        } else {
            to = qemu_clock_virtual_deadline();
            if (to < 0) {
                to = now;
            }
        }
        qtest_send("OK %" PRId64 "\n", qemu_clock_virtual_advance(to));
    } else if (!strcmp(cmd, "clock_set") && n == 2) {
        if (!parse_i64(w[1], &ns)) {
            qtest_send("FAIL bad arguments\n");
            return;
        }
        qtest_send("OK %" PRId64 "\n", qemu_clock_virtual_advance(ns));
    } else if ((!strcmp(cmd, "irq_intercept_in") || !strcmp(cmd, "irq_intercept_out")) &&
               n == 2) {
        g_autoptr(GError) err = NULL;
        if (!qtest_intercept(w[1], !strcmp(cmd, "irq_intercept_out"), &err)) {
            qtest_send("FAIL %s\n", err->message);
        } else {
            qtest_send("OK\n");
        }
    } else if (!strcmp(cmd, "set_irq_in") && n == 5) {
        DeviceState *dev = qdev_find_by_path(w[1]);
        const char *name = strcmp(w[2], "unnamed-gpio-in") ? w[2] : NULL;
        int64_t num, level;
        qemu_irq irq;
        if (!dev || !parse_i64(w[3], &num) || !parse_i64(w[4], &level) ||
            !(irq = qdev_get_gpio_in_named(dev, name, num))) {
            qtest_send("FAIL bad arguments\n");
            return;
        }
        qemu_set_irq(irq, level);
        qtest_send("OK\n");
    } else if (!strcmp(cmd, "endianness")) {
        qtest_send("OK little\n");
    } else {
        qtest_send("FAIL Unknown command '%s'\n", cmd);
    }
}

static void qtest_process_line(char *line)
{
    g_auto(GStrv) words = NULL;
    int n;

    qtest_log("I", line);
    words = g_strsplit_set(g_strstrip(line), " \t", -1);
    /* Drop empty words from repeated spaces. */
    n = 0;
    for (int i = 0; words[i]; i++) {
        if (*words[i]) {
            char *tmp = words[n];
            words[n] = words[i];
            words[i] = tmp;
            n++;
        }
    }
    qtest_process_command(words, n);
}

static int qtest_can_read(void *opaque)
{
    return 4096;
}

static void qtest_read(void *opaque, const uint8_t *buf, int size)
{
    char *nl;

    g_string_append_len(qts.inbuf, (const char *)buf, size);
    while ((nl = memchr(qts.inbuf->str, '\n', qts.inbuf->len))) {
        size_t len = nl - qts.inbuf->str;
        g_autofree char *line = g_strndup(qts.inbuf->str, len);
        g_string_erase(qts.inbuf, 0, len + 1);
        qtest_process_line(line);
    }
    if (qts.inbuf->len > QTEST_MAX_LINE) {
        qtest_send("FAIL line too long\n");
        g_string_truncate(qts.inbuf, 0);
    }
}

static void qtest_event(void *opaque, QEMUChrEvent event)
{
    if (event == CHR_EVENT_OPENED) {
        qtest_log("I", "OPENED");
    } else if (event == CHR_EVENT_CLOSED) {
        /* The test went away: nothing will drive us any more. */
        qtest_log("I", "CLOSED");
        qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_QMP_QUIT);
    }
}

bool qtest_server_init(const char *spec, const char *log, Error **errp)
{
    Chardev *chr = qemu_chr_new("qtest", spec, errp);

    if (!chr) {
        error_prepend(errp, "-qtest %s: ", spec);
        return false;
    }
    if (log) {
        qts.log = strcmp(log, "none") && strcmp(log, "/dev/null") ? fopen(log, "w") : NULL;
    }
    qts.inbuf = g_string_new(NULL);
    qts.start_ns = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);
    qts.irq_levels = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if (!qemu_chr_fe_init(&qts.be, chr, errp)) {
        return false;
    }
    qemu_chr_fe_set_handlers(&qts.be, qtest_can_read, qtest_read, qtest_event, NULL);
    return true;
}

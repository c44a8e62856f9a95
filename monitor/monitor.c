/*
 * Monitors common to QMP and HMP: creation from the command line, output,
 * events (from runstate notifiers), and guest memory access for memsave,
 * pmemsave and HMP's x/xp.
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "config-host.h"
#include "monitor/monitor.h"
#include "monitor-internal.h"
#include "chardev/char-mux.h"
#include "system/runstate.h"
#include "hw/memory.h"
#include "accel/accel.h"
#include "accel/cpu.h"
#include "hw/qdev.h"
#include "hw/acpi/pm-dev.h"

GPtrArray *monitors;

typedef struct MonitorOpt {
    char *option;
    char *arg;
} MonitorOpt;

static GPtrArray *monitor_opts;
static unsigned compat_count;

bool monitor_add_from_cmdline(const char *option, const char *arg, Error **errp)
{
    MonitorOpt *o;

    if (strcmp(option, "mon") == 0) {
        g_autoptr(GError) err = NULL;
        QemuOpts *opts = qemu_opts_parse(arg, "chardev", errp);
        if (!opts) {
            return false;
        }
        qemu_opts_free(opts);
    } else if (strcmp(option, "qmp") && strcmp(option, "qmp-pretty") &&
               strcmp(option, "monitor")) {
        error_setg(errp, "unknown monitor option -%s", option);
        return false;
    }
    if (!monitor_opts) {
        monitor_opts = g_ptr_array_new();
    }
    o = g_new0(MonitorOpt, 1);
    o->option = g_strdup(option);
    o->arg = g_strdup(arg);
    g_ptr_array_add(monitor_opts, o);
    return true;
}

/* -mon chardev=ID[,mode=readline|control][,pretty=on|off] */
static bool monitor_init_mon_opt(const char *arg, Error **errp)
{
    QemuOpts *opts = qemu_opts_parse(arg, "chardev", errp);
    const char *id, *mode;
    bool pretty = false;
    Chardev *chr;
    bool ok = false;

    if (!opts) {
        return false;
    }
    id = qemu_opt_get(opts, "chardev");
    mode = qemu_opt_get(opts, "mode");
    if (!qemu_opt_get_bool(opts, "pretty", false, &pretty, errp)) {
        goto out;
    }
    qemu_opt_get(opts, "id");
    if (!qemu_opts_check_unused(opts, errp)) {
        goto out;
    }
    if (!id) {
        error_setg(errp, "Parameter 'chardev' is missing");
        goto out;
    }
    chr = qemu_chr_find(id);
    if (!chr) {
        error_setg(errp, "chardev \"%s\" not found", id);
        goto out;
    }
    if (!mode || strcmp(mode, "readline") == 0) {
        if (pretty) {
            error_setg(errp, "'pretty' is not compatible with HMP monitors");
            goto out;
        }
        ok = monitor_new_hmp(chr, errp) != NULL;
    } else if (strcmp(mode, "control") == 0) {
        ok = monitor_new_qmp(chr, pretty, errp) != NULL;
    } else {
        error_setg(errp, "Parameter 'mode' does not accept value '%s'", mode);
    }
out:
    qemu_opts_free(opts);
    return ok;
}

static bool monitor_init_legacy(const char *option, const char *spec, Error **errp)
{
    g_autofree char *label = NULL;
    Chardev *chr;

    if (strcmp(spec, "none") == 0) {
        return true;
    }
    if (g_str_has_prefix(spec, "chardev:")) {
        chr = qemu_chr_find(spec + 8);
        if (!chr) {
            error_setg(errp, "chardev \"%s\" not found", spec + 8);
            return false;
        }
    } else {
        label = g_strdup_printf("compat_monitor%u", compat_count++);
        chr = qemu_chr_new(label, spec, errp);
        if (!chr) {
            return false;
        }
    }
    if (strcmp(option, "monitor") == 0) {
        return monitor_new_hmp(chr, errp) != NULL;
    }
    return monitor_new_qmp(chr, strcmp(option, "qmp-pretty") == 0, errp) != NULL;
}

static void monitor_events_init(void);

/* At exit, what QMP clients have not read yet (the SHUTDOWN event, the
 * reply to quit) is written out, waiting a little if the peer is slow. */
static void monitor_flush_at_exit(void)
{
    for (guint i = 0; monitors && i < monitors->len; i++) {
        Monitor *mon = g_ptr_array_index(monitors, i);
        if (mon->outbuf && mon->outbuf->len) {
            qemu_chr_fe_write_all(&mon->chr, (const uint8_t *)mon->outbuf->str,
                                  mon->outbuf->len);
            g_string_truncate(mon->outbuf, 0);
        }
    }
}

void monitor_init_all(void)
{
    g_autoptr(GPtrArray) chrs = qemu_chr_list();
    Error *err = NULL;

    monitor_events_init();
    atexit(monitor_flush_at_exit);      /* runs before the chardevs close */
    for (guint i = 0; monitor_opts && i < monitor_opts->len; i++) {
        MonitorOpt *o = g_ptr_array_index(monitor_opts, i);
        bool ok = strcmp(o->option, "mon") == 0 ? monitor_init_mon_opt(o->arg, &err)
                                                : monitor_init_legacy(o->option, o->arg, &err);
        if (!ok) {
            error_report("-%s %s: %s", o->option, o->arg, err->message);
            exit(1);
        }
    }
    for (guint i = 0; i < chrs->len; i++) {
        Chardev *chr = g_ptr_array_index(chrs, i);
        if (qemu_chr_mux_wants_monitor(chr) && !monitor_new_hmp(chr, &err)) {
            error_report("%s: %s", chr->label, err->message);
            exit(1);
        }
    }
}

static Monitor *monitor_new(Chardev *chr, bool is_qmp, Error **errp)
{
    Monitor *mon = g_new0(Monitor, 1);

    if (!qemu_chr_fe_init(&mon->chr, chr, errp)) {
        g_free(mon);
        return NULL;
    }
    mon->is_qmp = is_qmp;
    mon->fds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if (!monitors) {
        monitors = g_ptr_array_new();
    }
    g_ptr_array_add(monitors, mon);
    return mon;
}

Monitor *monitor_new_qmp(Chardev *chr, bool pretty, Error **errp)
{
    Monitor *mon = monitor_new(chr, true, errp);

    if (mon) {
        mon->pretty = pretty;
        mon->outbuf = g_string_new(NULL);
        /* QEMU offers oob on monitors with their own I/O context (sockets). */
        mon->oob_offered = !strcmp(chr->klass->name, "socket") || !strcmp(chr->klass->name, "pty");
        qmp_monitor_setup(mon);
    }
    return mon;
}

Monitor *monitor_new_hmp(Chardev *chr, Error **errp)
{
    Monitor *mon = monitor_new(chr, false, errp);

    if (mon) {
        hmp_monitor_setup(mon);
    }
    return mon;
}

void monitor_puts(Monitor *mon, const char *str)
{
    g_autoptr(GString) out = g_string_sized_new(strlen(str) + 16);

    for (const char *p = str; *p; p++) {
        if (*p == '\n') {
            g_string_append_c(out, '\r');
        }
        g_string_append_c(out, *p);
    }
    if (mon->capture) {
        g_string_append_len(mon->capture, out->str, out->len);
        return;
    }
    if (mon->mux_out) {
        return;     /* QEMU: a monitor out of focus on a mux stays quiet */
    }
    if (mon->outbuf) {
        g_string_append_len(mon->outbuf, out->str, out->len);
        monitor_flush(mon);
        return;
    }
    qemu_chr_fe_write_all(&mon->chr, (const uint8_t *)out->str, out->len);
}

/* How often a backed-up QMP monitor retries its output. */
#define MONITOR_FLUSH_RETRY_MS 1

static gboolean monitor_flush_retry(gpointer opaque)
{
    Monitor *mon = opaque;

    mon->flush_timer = 0;
    monitor_flush(mon);
    return G_SOURCE_REMOVE;
}

void monitor_flush(Monitor *mon)
{
    while (mon->outbuf->len) {
        int n = qemu_chr_fe_write(&mon->chr, (const uint8_t *)mon->outbuf->str,
                                  MIN(mon->outbuf->len, (gsize)G_MAXINT));
        if (n > 0) {
            g_string_erase(mon->outbuf, 0, n);
        } else if (n < 0 && errno == EAGAIN) {
            break;
        } else {
            g_string_truncate(mon->outbuf, 0);      /* the peer is gone */
        }
    }
    if (mon->outbuf->len) {
        if (!mon->flush_timer) {
            mon->flush_timer = g_timeout_add(MONITOR_FLUSH_RETRY_MS, monitor_flush_retry, mon);
        }
        return;
    }
    if (mon->flush_timer) {
        g_source_remove(mon->flush_timer);
        mon->flush_timer = 0;
    }
    qemu_chr_fe_accept_input(&mon->chr);
}

void monitor_drop_output(Monitor *mon)
{
    if (mon->outbuf) {
        g_string_truncate(mon->outbuf, 0);
        monitor_flush(mon);
    }
}

void monitor_printf(Monitor *mon, const char *fmt, ...)
{
    g_autofree char *s = NULL;
    va_list ap;

    va_start(ap, fmt);
    s = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    monitor_puts(mon, s);
}

/* ---- events ----------------------------------------------------------- */

void qmp_event_emit(const char *name, JsonObject *data)
{
    g_autoptr(JsonNode) ev = json_node_new(JSON_NODE_OBJECT);
    JsonObject *o = json_object_new();
    JsonObject *ts = json_object_new();
    gint64 now = g_get_real_time();
    g_autofree char *text = NULL, *pretty = NULL;

    json_object_set_int_member(ts, "seconds", now / G_USEC_PER_SEC);
    json_object_set_int_member(ts, "microseconds", now % G_USEC_PER_SEC);
    json_object_set_object_member(o, "timestamp", ts);
    json_object_set_string_member(o, "event", name);
    if (data) {
        json_object_set_object_member(o, "data", data);
    }
    json_node_take_object(ev, o);
    for (guint i = 0; monitors && i < monitors->len; i++) {
        Monitor *mon = g_ptr_array_index(monitors, i);
        char **text_p = mon->pretty ? &pretty : &text;
        if (!mon->is_qmp || !mon->negotiated || !mon->connected) {
            continue;
        }
        if (!*text_p) {
            GString *s = g_string_new(NULL);
            json_write_qemu(s, ev, mon->pretty);
            g_string_append_c(s, '\n');
            *text_p = g_string_free(s, FALSE);
        }
        monitor_puts(mon, *text_p);
    }
}

static JsonObject *event_guest_reason(bool guest, ShutdownCause cause)
{
    JsonObject *d = json_object_new();

    json_object_set_boolean_member(d, "guest", guest);
    json_object_set_string_member(d, "reason", shutdown_cause_name(cause));
    return d;
}

static void on_stop(void)
{
    qmp_event_emit("STOP", NULL);
}

static void on_resume(void)
{
    qmp_event_emit("RESUME", NULL);
}

static void on_shutdown(bool guest, ShutdownCause cause)
{
    qmp_event_emit("SHUTDOWN", event_guest_reason(guest, cause));
}

static void on_reset(bool guest, ShutdownCause cause)
{
    qmp_event_emit("RESET", event_guest_reason(guest, cause));
}

/* system_powerdown reaches the guest as an ACPI power button press. */
static void press_power_button(void)
{
    GPtrArray *devs = qdev_all_devices();     /* the live list: not ours */

    for (guint i = 0; i < devs->len; i++) {
        DeviceState *d = g_ptr_array_index(devs, i);
        if (!strcmp(d->klass->name, "acpi-pm") && d->realized) {
            acpi_pm_power_button(d);
        }
    }
}

static void on_powerdown(void)
{
    qmp_event_emit("POWERDOWN", NULL);
    press_power_button();
}

static const RunstateNotifiers monitor_notifiers = {
    .on_stop = on_stop,
    .on_resume = on_resume,
    .on_shutdown = on_shutdown,
    .on_reset = on_reset,
    .on_powerdown = on_powerdown,
};

static void monitor_events_init(void)
{
    static bool done;

    if (!done) {
        runstate_add_notifiers(&monitor_notifiers);
        done = true;
    }
}

/* ---- guest memory ----------------------------------------------------- */

bool monitor_cpu_get_env(int cpu_index, X86CPUState **env, Error **errp)
{
    CPUState *cpu = cpu_by_index(cpu_index);

    if (!cpu) {
        error_setg(errp, "Parameter 'cpu-index' expects a CPU number");
        return false;
    }
    if (current_accel && current_accel->get_state) {
        /* A running vCPU is parked so that its registers can be read. */
        bool running = runstate_is_running();
        if (running) {
            cpus_pause_all();
        }
        bool ok = current_accel->get_state(cpu, errp);
        if (running) {
            cpus_resume_all();
        }
        if (!ok) {
            return false;
        }
    }
    *env = &cpu->env;
    return true;
}

static bool read_phys_u64(uint64_t addr, uint64_t *val)
{
    *val = 0;
    return address_space_read(&address_space_memory, addr, val, 8) == MEMTX_OK;
}

/* x86 page walk: legacy 32-bit (4K/4M), PAE and 4-level long mode. */
bool monitor_translate(Monitor *mon, int cpu_index, uint64_t vaddr, uint64_t *paddr,
                       Error **errp)
{
    X86CPUState *env;
    uint64_t e;

    if (!monitor_cpu_get_env(cpu_index, &env, errp)) {
        return false;
    }
    if (!(env->cr0 & CR0_PG)) {
        *paddr = vaddr;
        return true;
    }
    if (env->cr4 & CR4_PAE) {
        static const int shifts[] = { 39, 30, 21, 12 };
        bool lma = env->efer & EFER_LMA;
        uint64_t table = env->cr3 & (lma ? 0x000ffffffffff000ULL : 0xffffffe0ULL);
        int level = lma ? 0 : 1;

        if (!lma) {
            if (!read_phys_u64(table + ((vaddr >> 30) & 3) * 8, &e) || !(e & 1)) {
                goto fault;
            }
            table = e & 0x000ffffffffff000ULL;
            level = 2;
        }
        for (; level < 4; level++) {
            uint64_t idx = (vaddr >> shifts[level]) & 0x1ff;
            if (!read_phys_u64(table + idx * 8, &e) || !(e & 1)) {
                goto fault;
            }
            if (level == 3 || ((level == 1 || level == 2) && (e & 0x80))) {
                uint64_t mask = (1ULL << shifts[level]) - 1;
                *paddr = (e & 0x000ffffffffff000ULL & ~mask) | (vaddr & mask);
                return true;
            }
            table = e & 0x000ffffffffff000ULL;
        }
    } else {
        uint32_t pde, pte;
        if (address_space_read(&address_space_memory, (env->cr3 & ~0xfffULL) + ((vaddr >> 22) & 0x3ff) * 4,
                               &pde, 4) != MEMTX_OK || !(pde & 1)) {
            goto fault;
        }
        if ((pde & 0x80) && (env->cr4 & 0x10)) {
            *paddr = (pde & 0xffc00000u) | (vaddr & 0x3fffff);
            return true;
        }
        if (address_space_read(&address_space_memory, (pde & ~0xfffu) + ((vaddr >> 12) & 0x3ff) * 4,
                               &pte, 4) != MEMTX_OK || !(pte & 1)) {
            goto fault;
        }
        *paddr = (pte & ~0xfffu) | (vaddr & 0xfff);
        return true;
    }
fault:
    error_setg(errp, "Invalid addr 0x%016" PRIx64 " specified", vaddr);
    return false;
}

bool monitor_memory_read(bool physical, int cpu_index, uint64_t addr, void *buf, uint64_t len,
                         Error **errp)
{
    uint8_t *p = buf;

    if (physical) {
        address_space_read(&address_space_memory, addr, buf, len);
        return true;
    }
    while (len) {
        uint64_t pa, chunk = MIN(len, 0x1000 - (addr & 0xfff));
        if (!monitor_translate(NULL, cpu_index, addr, &pa, errp)) {
            return false;
        }
        address_space_read(&address_space_memory, pa, p, chunk);
        p += chunk;
        addr += chunk;
        len -= chunk;
    }
    return true;
}

bool monitor_save_memory(bool physical, int cpu_index, int64_t addr, int64_t size,
                         const char *filename, Error **errp)
{
    uint8_t buf[4096];
    int fd;
    bool ok = true;

    if (!physical) {
        X86CPUState *env;
        if (!monitor_cpu_get_env(cpu_index, &env, errp)) {
            return false;
        }
    }
    fd = open(filename, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Could not open '%s'", filename);
        return false;
    }
    while (size > 0) {
        uint64_t l = MIN((uint64_t)size, sizeof(buf));
        Error *err = NULL;
        if (!monitor_memory_read(physical, cpu_index, addr, buf, l, &err)) {
            g_error_free(err);
            error_setg(errp, "Invalid addr 0x%016" PRIx64 "/size %" PRId64 " specified",
                       (uint64_t)addr, size);
            ok = false;
            break;
        }
        if (write(fd, buf, l) != (ssize_t)l) {
            error_setg_errno(errp, errno, "writing memory to '%s' failed", filename);
            ok = false;
            break;
        }
        addr += l;
        size -= l;
    }
    close(fd);
    return ok;
}

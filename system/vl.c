/*
 * The command line (QEMU's syntax for what kvmpc supports) and the
 * start-up sequence.  Unknown, malformed or unsupported options get one
 * line naming the option and exit status 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <glib-unix.h>
#include "config-host.h"
#include "accel/accel.h"
#include "accel/qtest.h"
#include "block/blockdev.h"
#include "net/net.h"
#include "chardev/char.h"
#include "hw/machine.h"
#include "hw/i386/firmware.h"
#include "hw/memory.h"
#include "hw/qdev.h"
#include "monitor/monitor.h"
#include "qemu/log.h"
#include "qemu/option.h"
#include "system/main-loop.h"
#include "system/runstate.h"
#include "system/system.h"
#include "system/rng.h"
#include "hw/virtio/virtio-blk.h"
#include "hw/scsi/virtio-scsi.h"
#include "target/i386/cpu-model.h"

Chardev *serial_hds[MAX_SERIAL_PORTS];
int64_t rtc_host_offset_s;
bool display_nographic;
const char *qemu_name;

typedef enum {
    OPT_HELP, OPT_VERSION, OPT_MACHINE, OPT_ACCEL, OPT_ENABLE_KVM, OPT_CPU, OPT_SMP, OPT_M,
    OPT_KERNEL, OPT_INITRD, OPT_APPEND, OPT_SERIAL, OPT_CHARDEV, OPT_DEVICE, OPT_GLOBAL,
    OPT_NODEFAULTS, OPT_DISPLAY, OPT_NOGRAPHIC, OPT_VGA, OPT_NAME, OPT_UUID, OPT_PIDFILE,
    OPT_DAEMONIZE, OPT_S, OPT_NO_REBOOT, OPT_NO_SHUTDOWN, OPT_LOGFILE, OPT_LOG, OPT_QTEST,
    OPT_QTEST_LOG, OPT_NO_HPET, OPT_RTC, OPT_MONITOR, OPT_VNC, OPT_UNSUPPORTED,
    OPT_BIOS, OPT_DATADIR, OPT_BOOT, OPT_SMBIOS, OPT_OBJECT,
} OptId;

typedef struct OptDef {
    const char *name;
    bool has_arg;
    OptId id;
    const char *arg_name;
    const char *help;
} OptDef;

/* -machine kernel-irqchip=on|split|off, handed to KVM when it is chosen. */
static char *machine_kernel_irqchip;

static const OptDef options[] = {
    { "h", false, OPT_HELP, NULL, "display this help and exit" },
    { "help", false, OPT_HELP, NULL, NULL },
    { "version", false, OPT_VERSION, NULL, "display version information and exit" },
    { "machine", true, OPT_MACHINE, "[type=]name[,accel=kvm:tcg]", "select the machine (-machine help lists them)" },
    { "M", true, OPT_MACHINE, NULL, NULL },
    { "accel", true, OPT_ACCEL, "kvm|tcg|qtest[,prop=value]", "select an accelerator (-accel help); repeat to give fallbacks" },
    { "enable-kvm", false, OPT_ENABLE_KVM, NULL, "same as -accel kvm" },
    { "cpu", true, OPT_CPU, "model[,+feat][,-feat][,prop=val]", "select the CPU model and its features (-cpu help)" },
    { "smp", true, OPT_SMP, "[cpus=]n[,maxcpus=m][,sockets=s][,dies=d][,cores=c][,threads=t]", "number of vCPUs and their topology" },
    { "m", true, OPT_M, "[size=]megs[M|G]", "guest RAM size (default 128M)" },
    { "kernel", true, OPT_KERNEL, "bzImage", "boot this kernel (Linux bzImage, PVH ELF or Multiboot)" },
    { "initrd", true, OPT_INITRD, "file", "initial ram disk (Multiboot: a,b for several modules)" },
    { "append", true, OPT_APPEND, "cmdline", "kernel command line" },
    { "serial", true, OPT_SERIAL, "dev", "redirect the next COM port to chardev dev (stdio, pty, null, file:P, unix:P, tcp:H:P, chardev:ID)" },
    { "chardev", true, OPT_CHARDEV, "backend,id=id[,...]", "create a character device backend" },
    { "device", true, OPT_DEVICE, "driver[,prop=value]", "add a device (-device help, -device driver,help)" },
    { "global", true, OPT_GLOBAL, "driver.prop=value", "set a default property value for every device of a type" },
    { "nodefaults", false, OPT_NODEFAULTS, NULL, "don't create default devices (serial port, VGA)" },
    { "display", true, OPT_DISPLAY, "none", "select the display (only 'none' so far)" },
    { "nographic", false, OPT_NOGRAPHIC, NULL, "no display; COM1 on stdio" },
    { "vga", true, OPT_VGA, "none", "select the video card (std or none)" },
    { "name", true, OPT_NAME, "[guest=]name[,process=p]", "name the guest" },
    { "uuid", true, OPT_UUID, "uuid", "set the system UUID" },
    { "pidfile", true, OPT_PIDFILE, "file", "write the process id to file (locked)" },
    { "daemonize", false, OPT_DAEMONIZE, NULL, "detach from the terminal once the VM is set up" },
    { "S", false, OPT_S, NULL, "do not start the vCPUs at start-up" },
    { "no-reboot", false, OPT_NO_REBOOT, NULL, "exit instead of rebooting" },
    { "no-shutdown", false, OPT_NO_SHUTDOWN, NULL, "stop the VM instead of exiting when the guest powers off" },
    { "D", true, OPT_LOGFILE, "logfile", "write -d output to logfile" },
    { "d", true, OPT_LOG, "item,...", "enable debug logging (-d help)" },
    { "qtest", true, OPT_QTEST, "chardev", "run the qtest protocol on chardev (with -accel qtest)" },
    { "qtest-log", true, OPT_QTEST_LOG, "file", "log the qtest protocol to file" },
    { "rtc", true, OPT_RTC, "[base=utc|localtime|datetime][,clock=vm][,driftfix=none|slew]", "RTC start time and clock" },
    { "no-hpet", false, OPT_NO_HPET, NULL, "no HPET (as -machine hpet=off)" },
    /* Known QEMU options we do not implement yet: refuse them by name. */
    { "monitor", true, OPT_MONITOR, "dev", "redirect the HMP monitor to char device dev" },
    { "qmp", true, OPT_MONITOR, "dev", "like -monitor but opens in 'control' mode (QMP)" },
    { "qmp-pretty", true, OPT_MONITOR, "dev", "like -qmp but uses pretty JSON formatting" },
    { "mon", true, OPT_MONITOR, "[chardev=]name[,mode=readline|control][,pretty=on|off]", "put a monitor on a chardev" },
    { "spice", true, OPT_UNSUPPORTED, NULL, NULL },
    { "vnc", true, OPT_VNC, "none", "VNC display (only 'none': no VNC server, as QEMU)" },
    { "boot", true, OPT_BOOT, "[order=drives][,menu=on|off][,splash-time=ms][,reboot-timeout=ms]", "boot order (a floppy, c disk, d CD-ROM, n network) and menu, for the firmware" },
    { "bios", true, OPT_BIOS, "file", "the BIOS image (default bios-256k.bin, Debian's SeaBIOS)" },
    { "L", true, OPT_DATADIR, "path", "search path for the BIOS image (may be repeated)" },
    { "smbios", true, OPT_SMBIOS, "type=0|1[,field=str...]", "SMBIOS fields for the firmware (type 0: vendor, version, date, release; type 1: manufacturer, product, version, serial, uuid, sku, family)" },
    { "snapshot", false, OPT_UNSUPPORTED, NULL, NULL },
    { "incoming", true, OPT_UNSUPPORTED, NULL, NULL },
    { "usb", false, OPT_UNSUPPORTED, NULL, NULL },
    { "object", true, OPT_OBJECT, "rng-random|rng-builtin,id=ID[,filename=F]", "add an object (only the rng backends of virtio-rng)" },
    { "numa", true, OPT_UNSUPPORTED, NULL, NULL },
    { "gdb", true, OPT_UNSUPPORTED, NULL, NULL },
    { "s", false, OPT_UNSUPPORTED, NULL, NULL },
    { "readconfig", true, OPT_UNSUPPORTED, NULL, NULL },
    { "overcommit", true, OPT_UNSUPPORTED, NULL, NULL },
    { "sandbox", true, OPT_UNSUPPORTED, NULL, NULL },
};

typedef struct Config {
    GPtrArray *machine_opts;        /* strings */
    GPtrArray *accels;              /* strings "kvm,prop=v" */
    GPtrArray *chardevs, *devices, *serials;
    GPtrArray *objects;             /* -object */
    const char *cpu, *smp, *mem, *kernel, *initrd, *append, *name, *uuid;
    const char *pidfile, *logfile, *logitems, *qtest, *qtest_log;
    bool nodefaults, nographic, daemonize, start_paused;
    bool display_none_given;
    bool no_hpet;               /* -no-hpet */
    GPtrArray *bios_dirs;           /* -L */
    GPtrArray *bios_smbios;         /* -smbios */
    const char *bios, *boot;
    const char *vga;                /* -vga (last one wins), or NULL */
} Config;

static G_NORETURN void die(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static G_NORETURN void die(const char *fmt, ...)
{
    va_list ap;
    char *msg;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    error_report("%s", msg);
    g_free(msg);                /* exit() does not return: no g_autofree */
    exit(1);
}

static G_NORETURN void die_err(Error *err)
{
    error_report_err(err);
    exit(1);
}

static void print_version_line(void)
{
    printf("%s emulator version %s (kvmpc %s)\n", error_progname, KVMPC_QEMU_VERSION,
           KVMPC_VERSION);
}

static void print_help(void)
{
    print_version_line();
    printf("usage: %s [options]\n\n"
           "kvmpc is a PC emulator that takes QEMU's command-line syntax (QEMU-compatible\n"
           "options, QEMU's qtest protocol; QMP follows).  Options supported so far:\n\n",
           error_progname);
    for (size_t i = 0; i < G_N_ELEMENTS(options); i++) {
        const OptDef *o = &options[i];
        g_autofree char *left = NULL;
        if (!o->help) {
            continue;
        }
        left = g_strdup_printf("-%s%s%s", o->name, o->arg_name ? " " : "",
                               o->arg_name ? o->arg_name : "");
        if (strlen(left) > 28) {
            printf("%s\n%-30s%s\n", left, "", o->help);
        } else {
            printf("%-30s%s\n", left, o->help);
        }
    }
    blockdev_print_help();
    net_print_help();
    printf("\nDuring emulation, a guest write to isa-debug-exit exits with (value << 1) | 1.\n"
           "Exit status: 0 on guest power-off or quit, 1 on errors.\n");
}

static const OptDef *find_option(const char *arg)
{
    const char *name = arg + 1;

    if (*name == '-') {
        name++;             /* --no-reboot is -no-reboot */
    }
    for (size_t i = 0; i < G_N_ELEMENTS(options); i++) {
        if (!strcmp(options[i].name, name)) {
            return &options[i];
        }
    }
    return NULL;
}

static bool is_help(const char *s)
{
    return !strcmp(s, "help") || !strcmp(s, "?");
}

static void list_machines(void)
{
    GPtrArray *l = machine_class_list();

    printf("Supported machines are:\n");
    for (guint i = 0; i < l->len; i++) {
        const MachineClass *mc = g_ptr_array_index(l, i);
        if (mc->alias) {
            printf("%-20s %s (alias of %s)\n", mc->alias, mc->desc, mc->name);
        }
        printf("%-20s %s%s\n", mc->name, mc->desc, mc->is_default ? " (default)" : "");
    }
}

static void list_accels(void)
{
    GPtrArray *l = accel_list();

    printf("Accelerators supported in %s binary:\n", error_progname);
    for (guint i = 0; i < l->len; i++) {
        const AccelOps *a = g_ptr_array_index(l, i);
        printf("%s\n", a->name);
    }
}

static void list_cpus(void)
{
    g_autoptr(GString) out = g_string_new(NULL);

    x86_cpu_list(out);
    fputs(out->str, stdout);
}

/* ---- parsing ---------------------------------------------------------- */

/* -rtc base=utc|localtime|YYYY-MM-DD[THH:MM:SS],clock=vm,driftfix=none|slew */
static void parse_rtc(const char *arg)
{
    g_autoptr(GError) err = NULL;
    QemuOpts *o = qemu_opts_parse(arg, NULL, &err);
    const char *v;

    if (!o) {
        die("-rtc %s: %s", arg, err->message);
    }
    if ((v = qemu_opt_get(o, "base")) && strcmp(v, "utc")) {
        if (!strcmp(v, "localtime")) {
            g_autoptr(GDateTime) now = g_date_time_new_now_local();
            rtc_host_offset_s = g_date_time_get_utc_offset(now) / G_TIME_SPAN_SECOND;
        } else {
            g_autofree char *iso = strchr(v, 'T') ? g_strdup_printf("%sZ", v)
                                                  : g_strdup_printf("%sT00:00:00Z", v);
            g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(iso, NULL);
            if (!dt) {
                die("-rtc %s: invalid datetime format (valid formats: '2006-06-17T16:01:21' or "
                    "'2006-06-17')", arg);
            }
            rtc_host_offset_s = g_date_time_to_unix(dt) - (int64_t)time(NULL);
        }
    }
    if ((v = qemu_opt_get(o, "clock")) && strcmp(v, "vm")) {
        if (strcmp(v, "host") && strcmp(v, "rt")) {
            die("-rtc %s: invalid option value '%s'", arg, v);
        }
        die("-rtc %s: clock=%s is not supported yet (the RTC runs on the virtual clock: "
            "use clock=vm)", arg, v);
    }
    if ((v = qemu_opt_get(o, "driftfix")) && strcmp(v, "none") && strcmp(v, "slew")) {
        die("-rtc %s: invalid option value '%s'", arg, v);
    }
    if (!qemu_opts_check_unused(o, &err)) {
        die("-rtc %s: %s", arg, err->message);
    }
    qemu_opts_free(o);
}

static void parse_args(int argc, char **argv, Config *c)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = NULL;
        const OptDef *o;

        /* -drive, -blockdev, -hda..-hdd, -cdrom, -fda/-fdb, -snapshot, and
         * a bare image name (QEMU: -hda) */
        int block_words = blockdev_cmdline_option(argc - i, argv + i);
        if (block_words) {
            i += block_words - 1;
            continue;
        }
        /* -netdev, -nic, -net (net/net.c) */
        int net_words = net_cmdline_option(argc - i, argv + i);
        if (net_words) {
            i += net_words - 1;
            continue;
        }
        if (arg[0] != '-' || !arg[1]) {
            die("%s: unexpected argument", arg);
        }
        o = find_option(arg);
        if (!o) {
            die("%s: invalid option", arg);
        }
        if (o->has_arg) {
            if (i + 1 >= argc) {
                die("%s: requires an argument", arg);
            }
            val = argv[++i];
        }
        switch (o->id) {
        case OPT_HELP:
            print_help();
            exit(0);
        case OPT_VERSION:
            print_version_line();
            printf("Copyright (c) the kvmpc developers; QEMU-compatible command line\n");
            exit(0);
        case OPT_MACHINE: g_ptr_array_add(c->machine_opts, (char *)val); break;
        case OPT_ACCEL: g_ptr_array_add(c->accels, (char *)val); break;
        case OPT_ENABLE_KVM: g_ptr_array_add(c->accels, "kvm"); break;
        case OPT_CPU: c->cpu = val; break;
        case OPT_SMP: c->smp = val; break;
        case OPT_M: c->mem = val; break;
        case OPT_KERNEL: c->kernel = val; break;
        case OPT_INITRD: c->initrd = val; break;
        case OPT_APPEND: c->append = val; break;
        case OPT_SERIAL: g_ptr_array_add(c->serials, (char *)val); break;
        case OPT_CHARDEV: g_ptr_array_add(c->chardevs, (char *)val); break;
        case OPT_DEVICE: g_ptr_array_add(c->devices, (char *)val); break;
        case OPT_OBJECT: g_ptr_array_add(c->objects, (char *)val); break;
        case OPT_GLOBAL: {
            g_autoptr(GError) err = NULL;
            if (!qdev_add_global(val, &err)) {
                die("%s", err->message);
            }
            break;
        }
        case OPT_NODEFAULTS: c->nodefaults = true; break;
        case OPT_DISPLAY:
            if (is_help(val)) {
                printf("Available display backend types:\nnone\n");
                exit(0);
            }
            if (strcmp(val, "none") && !g_str_has_prefix(val, "none,")) {
                die("-display %s: display '%s' is not supported yet (available: none)", val,
                    val);
            }
            c->display_none_given = true;
            break;
        case OPT_NOGRAPHIC: c->nographic = true; break;
        case OPT_VNC:
            /* kvm-unit-tests always passes -vnc none: QEMU starts no server */
            if (strcmp(val, "none")) {
                die("-vnc %s: VNC is not supported yet (only -vnc none)", val);
            }
            break;
        case OPT_VGA:
            if (strcmp(val, "std") && strcmp(val, "none")) {
                die("-vga %s: video card not supported (available: std, none)", val);
            }
            c->vga = val;
            break;
        case OPT_NAME: c->name = val; break;
        case OPT_UUID: c->uuid = val; break;
        case OPT_PIDFILE: c->pidfile = val; break;
        case OPT_DAEMONIZE: c->daemonize = true; break;
        case OPT_S: c->start_paused = true; break;
        case OPT_NO_REBOOT: no_reboot = true; break;
        case OPT_NO_SHUTDOWN: no_shutdown = true; break;
        case OPT_LOGFILE: c->logfile = val; break;
        case OPT_LOG: c->logitems = val; break;
        case OPT_QTEST: c->qtest = val; break;
        case OPT_QTEST_LOG: c->qtest_log = val; break;
        case OPT_NO_HPET: c->no_hpet = true; break;
        case OPT_RTC: parse_rtc(val); break;
        case OPT_MONITOR: {
            g_autoptr(GError) err = NULL;
            if (!monitor_add_from_cmdline(o->name, val, &err)) {
                die("%s %s: %s", arg, val, err->message);
            }
            break;
        }
        case OPT_UNSUPPORTED:
            die("%s: this option is not supported by kvmpc yet", arg);
        case OPT_BIOS: c->bios = val; break;
        case OPT_DATADIR: g_ptr_array_add(c->bios_dirs, g_strdup(val)); break;
        case OPT_BOOT: c->boot = val; break;
        case OPT_SMBIOS: g_ptr_array_add(c->bios_smbios, (char *)val); break;
        }
    }
}

static void parse_machine(Config *c, MachineState *ms, GPtrArray *accel_names)
{
    ms->pvh_fast_path = -1;        /* auto: see docs/direct-boot.md */
    ms->firmware_boot = -1;        /* auto: see docs/firmware.md */
    ms->hpet = -1;                 /* auto: on unless the PIT is in the kernel */
    ms->boot_menu_wait_ms = ms->boot_reboot_timeout_ms = -1;
    for (guint i = 0; i < c->machine_opts->len; i++) {
        const char *s = g_ptr_array_index(c->machine_opts, i);
        g_autoptr(GError) err = NULL;
        QemuOpts *o = qemu_opts_parse(s, "type", &err);
        const char *v, *type = NULL;    /* this -machine's: o owns it */
        bool b;

        if (!o) {
            die("-machine %s: %s", s, err->message);
        }
        if ((v = qemu_opt_get(o, "type"))) {
            if (is_help(v)) {
                list_machines();
                qemu_opts_free(o);
                exit(0);
            }
            type = v;
        }
        if ((v = qemu_opt_get(o, "accel"))) {
            g_auto(GStrv) names = g_strsplit(v, ":", -1);
            for (int j = 0; names[j]; j++) {
                g_ptr_array_add(accel_names, g_strdup(names[j]));
            }
        }
        /* Options that only say "without X", which is what we have. */
        static const char *const off_only[] = { "usb", "vmport", "smm", "graphics" };
        for (size_t j = 0; j < G_N_ELEMENTS(off_only); j++) {
            if (!qemu_opt_get_bool(o, off_only[j], false, &b, &err)) {
                die("-machine %s: %s", s, err->message);
            }
            if (b && strcmp(off_only[j], "graphics")) {
                die("-machine %s: %s=on is not supported yet", s, off_only[j]);
            }
        }
        if ((v = qemu_opt_get(o, "kernel-irqchip"))) {
            if (strcmp(v, "on") && strcmp(v, "true") && strcmp(v, "off") &&
                strcmp(v, "false") && strcmp(v, "split")) {
                die("-machine %s: kernel-irqchip=%s: expected on, split or off", s, v);
            }
            g_free(machine_kernel_irqchip);
            machine_kernel_irqchip = g_strdup(v);
        }
        if ((v = qemu_opt_get(o, "pvh-fast-path")) && !strcmp(v, "auto")) {
            ms->pvh_fast_path = -1;
        } else if (v) {
            if (!qemu_opt_get_bool(o, "pvh-fast-path", false, &b, &err)) {
                die("-machine %s: pvh-fast-path: expected on, off or auto", s);
            }
            ms->pvh_fast_path = b;
        }
        /* firmware-boot=on: -kernel through SeaBIOS and the linuxboot ROM */
        if ((v = qemu_opt_get(o, "firmware-boot")) && !strcmp(v, "auto")) {
            ms->firmware_boot = -1;
        } else if (v) {
            if (!qemu_opt_get_bool(o, "firmware-boot", false, &b, &err)) {
                die("-machine %s: firmware-boot: expected on, off or auto", s);
            }
            ms->firmware_boot = b;
        }
        /* pit=off: no PIT, neither in userspace nor in the kernel (QEMU's
         * pit=on|off|auto; on and auto are what we do anyway). */
        if ((v = qemu_opt_get(o, "pit")) && !strcmp(v, "auto")) {
            ms->no_pit = false;
        } else if (!qemu_opt_get_bool(o, "pit", !ms->no_pit, &b, &err)) {
            die("-machine %s: %s", s, err->message);
        } else {
            ms->no_pit = !b;
        }
        if ((v = qemu_opt_get(o, "hpet"))) {
            if (!qemu_opt_get_bool(o, "hpet", true, &b, &err)) {
                die("-machine %s: %s", s, err->message);
            }
            ms->hpet = b;
        }
        if (!qemu_opt_get_bool(o, "dump-guest-core", true, &b, &err) ||
            !qemu_opt_get_bool(o, "mem-merge", true, &b, &err)) {
            die("-machine %s: %s", s, err->message);
        }
        if (!qemu_opts_check_unused(o, &err)) {
            die("-machine %s: %s", s, err->message);
        }
        if (type) {
            ms->mc = machine_class_find(type);
            if (!ms->mc) {
                die("-machine %s: unsupported machine type '%s' (use -machine help)", s, type);
            }
        }
        qemu_opts_free(o);
    }
    if (!ms->mc) {
        GPtrArray *l = machine_class_list();
        for (guint i = 0; i < l->len; i++) {
            const MachineClass *mc = g_ptr_array_index(l, i);
            if (mc->is_default) {
                ms->mc = mc;
            }
        }
    }
}

static void parse_memory(Config *c, MachineState *ms)
{
    uint64_t size = ms->mc->default_ram_size;
    g_autoptr(GError) err = NULL;

    if (c->mem) {
        QemuOpts *o = qemu_opts_parse(c->mem, "size", &err);
        const char *v;
        if (!o) {
            die("-m %s: %s", c->mem, err->message);
        }
        if ((v = qemu_opt_get(o, "size")) && !parse_size("size", v, 'M', &size, &err)) {
            die("-m %s: %s", c->mem, err->message);
        }
        if (!qemu_opts_check_unused(o, &err)) {
            die("-m %s: %s (memory hotplug is not supported yet)", c->mem, err->message);
        }
        qemu_opts_free(o);
    }
    if (size < (2 << 20)) {
        die("-m %s: at least 2 MiB of RAM are needed", c->mem);
    }
    if (size > (1ULL << 40)) {
        die("-m %s: at most 1 TiB of RAM is supported", c->mem);
    }
    ms->ram_size = (size + 0xfff) & ~0xfffULL;
}

static void parse_smp(Config *c, MachineState *ms)
{
    SMPConfig *smp = &ms->smp;
    uint64_t v[6] = { 0 };
    static const char *const keys[6] = { "cpus", "sockets", "dies", "cores", "threads",
                                         "maxcpus" };
    g_autoptr(GError) err = NULL;

    if (c->smp) {
        QemuOpts *o = qemu_opts_parse(c->smp, "cpus", &err);
        if (!o) {
            die("-smp %s: %s", c->smp, err->message);
        }
        for (int i = 0; i < 6; i++) {
            if (!qemu_opt_get_number(o, keys[i], 0, &v[i], &err)) {
                die("-smp %s: %s", c->smp, err->message);
            }
            if (qemu_opt_has(o, keys[i]) && v[i] == 0) {
                die("-smp %s: %s must be greater than 0", c->smp, keys[i]);
            }
            if (v[i] > 4096) {
                die("-smp %s: %s=%" G_GUINT64_FORMAT " is too large", c->smp, keys[i], v[i]);
            }
        }
        if (!qemu_opts_check_unused(o, &err)) {
            die("-smp %s: %s", c->smp, err->message);
        }
        qemu_opts_free(o);
    }
    uint64_t cpus = v[0], sockets = v[1], dies = v[2] ? v[2] : 1, cores = v[3], threads = v[4],
             maxcpus = v[5];
    /* QEMU's rules (machine_parse_smp_config) for its 6.2+ machine types,
     * which pc-i440fx-7.2 is: missing values are derived, preferring cores
     * (-smp 4 is one socket of four cores). */
    if (!cpus && !maxcpus) {
        sockets = sockets ? sockets : 1;
        cores = cores ? cores : 1;
        threads = threads ? threads : 1;
    } else {
        maxcpus = maxcpus ? maxcpus : cpus;
        if (!cores) {
            sockets = sockets ? sockets : 1;
            threads = threads ? threads : 1;
            cores = maxcpus / (dies * sockets * threads);
        } else if (!sockets) {
            threads = threads ? threads : 1;
            sockets = maxcpus / (dies * cores * threads);
        }
        if (!threads) {
            threads = maxcpus / (dies * sockets * cores);
        }
    }
    if (!maxcpus) {
        maxcpus = sockets * dies * cores * threads;
    }
    if (!cpus) {
        cpus = maxcpus;
    }
    if (sockets * dies * cores * threads != maxcpus) {
        die("-smp %s: Invalid CPU topology: product of the hierarchy must match maxcpus: "
            "sockets (%" G_GUINT64_FORMAT ") * dies (%" G_GUINT64_FORMAT ") * cores (%"
            G_GUINT64_FORMAT ") * threads (%" G_GUINT64_FORMAT ") != maxcpus (%"
            G_GUINT64_FORMAT ")", c->smp ? c->smp : "", sockets, dies, cores, threads, maxcpus);
    }
    if (cpus > maxcpus) {
        die("-smp %s: maxcpus must be equal to or greater than smp", c->smp);
    }
    if (maxcpus > (uint64_t)ms->mc->max_cpus) {
        die("-smp %s: Invalid SMP CPUs %" G_GUINT64_FORMAT ". The max CPUs supported by "
            "machine '%s' is %d", c->smp, maxcpus, ms->mc->name, ms->mc->max_cpus);
    }
    if (cpus < maxcpus) {
        die("-smp %s: CPU hotplug (maxcpus > cpus) is not supported yet", c->smp);
    }
    smp->cpus = cpus;
    smp->sockets = sockets;
    smp->dies = dies;
    smp->cores = cores;
    smp->threads = threads;
    smp->maxcpus = maxcpus;
}

static void parse_cpu(Config *c, MachineState *ms)
{
    const char *spec = c->cpu ? c->cpu : "qemu64";
    g_autoptr(GError) err = NULL;

    if (is_help(spec)) {
        list_cpus();
        exit(0);
    }
    ms->cpu = x86_cpu_model_parse(spec, &err);
    if (!ms->cpu) {
        die("-cpu %s: %s", spec, err->message);
    }
    ms->cpu_model = g_strdup(ms->cpu->def->name);
}

static void parse_name(Config *c, MachineState *ms)
{
    g_autoptr(GError) err = NULL;
    QemuOpts *o;
    const char *v;
    bool dbg;

    if (!c->name) {
        return;
    }
    o = qemu_opts_parse(c->name, "guest", &err);
    if (!o) {
        die("-name %s: %s", c->name, err->message);
    }
    ms->name = g_strdup(qemu_opt_get(o, "guest"));
    qemu_name = ms->name;
    if ((v = qemu_opt_get(o, "process"))) {
        prctl(PR_SET_NAME, v);
    }
    if (!qemu_opt_get_bool(o, "debug-threads", false, &dbg, &err) ||
        !qemu_opts_check_unused(o, &err)) {
        die("-name %s: %s", c->name, err->message);
    }
    qemu_opts_free(o);
}

static void parse_uuid(Config *c, MachineState *ms)
{
    const char *s = c->uuid;
    int n = 0;

    if (!s) {
        return;
    }
    if (!g_uuid_string_is_valid(s)) {
        die("-uuid %s: Fail to parse UUID string", s);
    }
    for (const char *p = s; *p && n < 16; p++) {
        if (*p == '-') {
            continue;
        }
        ms->uuid[n++] = g_ascii_xdigit_value(p[0]) << 4 | g_ascii_xdigit_value(p[1]);
        p++;
    }
    ms->uuid_set = true;
}

/* ---- accelerator selection -------------------------------------------- */

/* Why an accelerator named on the command line is not in this binary. */
static void accel_missing_reason(const char *name, GString *reasons)
{
    g_string_append_printf(reasons, "%s%s: no such accelerator (use -accel help)",
                           reasons->len ? "; " : "", name);
}

/*
 * The accelerators named by -accel (in order), then by -machine accel=a:b,
 * are tried in turn: the first that exists and whose probe passes (for KVM
 * that includes the self-test) is used, each one skipped says why on
 * stderr.  With none named: -qtest means qtest, otherwise the best the host
 * offers, kvm then tcg (QEMU's default is tcg).  None usable: one line with
 * every reason, exit 1.
 */
static void select_accel(Config *c, GPtrArray *names_from_machine)
{
    g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GString) reasons = g_string_new(NULL);

    for (guint i = 0; i < c->accels->len; i++) {
        g_ptr_array_add(specs, g_strdup(g_ptr_array_index(c->accels, i)));
    }
    for (guint i = 0; i < names_from_machine->len; i++) {
        g_ptr_array_add(specs, g_strdup(g_ptr_array_index(names_from_machine, i)));
    }
    if (c->qtest && specs->len == 0) {
        g_ptr_array_add(specs, g_strdup("qtest"));
    }
    if (specs->len == 0) {
        g_ptr_array_add(specs, g_strdup("kvm"));
        g_ptr_array_add(specs, g_strdup("tcg"));
    }
    for (guint i = 0; i < specs->len; i++) {
        const char *spec = g_ptr_array_index(specs, i);
        g_autoptr(GError) err = NULL;
        QemuOpts *o = qemu_opts_parse(spec, "accel", &err);
        g_autofree char *name = NULL;
        const AccelOps *ops;

        if (!o) {
            die("-accel %s: %s", spec, err->message);
        }
        name = g_strdup(qemu_opt_get(o, "accel"));
        if (!name || is_help(name)) {
            list_accels();
            exit(0);
        }
        ops = accel_find(name);
        if (!ops) {
            accel_missing_reason(name, reasons);
            qemu_opts_free(o);
            continue;
        }
        /* -machine kernel-irqchip= is KVM's (other accelerators have no
         * in-kernel irqchip and ignore it, as QEMU's TCG does); -accel
         * kvm,kernel-irqchip= given too wins. */
        if (machine_kernel_irqchip && !strcmp(name, "kvm") && ops->set_option &&
            !ops->set_option("kernel-irqchip", machine_kernel_irqchip, &err)) {
            die("-machine kernel-irqchip=%s: %s", machine_kernel_irqchip, err->message);
        }
        for (guint j = 0; j < o->opts->len; j++) {
            QemuOpt *opt = g_ptr_array_index(o->opts, j);
            if (strcmp(opt->key, "accel") && (!ops->set_option ||
                                             !ops->set_option(opt->key, opt->value, &err))) {
                if (!err) {
                    error_setg(&err, "unknown option '%s'", opt->key);
                }
                die("-accel %s: %s", spec, err->message);
            }
        }
        qemu_opts_free(o);
        if (!accel_probe(ops, &err)) {
            g_string_append_printf(reasons, "%s%s: %s", reasons->len ? "; " : "", name,
                                   err->message);
            continue;
        }
        if (reasons->len) {
            warn_report("accelerator %s chosen; skipped %s", name, reasons->str);
        }
        current_accel = ops;
        return;
    }
    die("no usable accelerator: %s", reasons->str);
}

/* ---- process plumbing ------------------------------------------------- */

static char *pidfile_path;
static int pidfile_fd = -1;

/* A stopped VM's images are complete on disk (QEMU's vm_stop flushes). */
static void block_on_stop(void)
{
    blk_flush_all();
}

static const RunstateNotifiers block_notifiers = { .on_stop = block_on_stop };

static void pidfile_remove(void)
{
    if (pidfile_path) {
        unlink(pidfile_path);
    }
}

static void pidfile_create(const char *path)
{
    char buf[32];

    pidfile_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (pidfile_fd < 0) {
        die("-pidfile %s: cannot open: %s", path, strerror(errno));
    }
    if (lockf(pidfile_fd, F_TLOCK, 0) < 0) {
        die("-pidfile %s: cannot lock (is another instance running?): %s", path,
            strerror(errno));
    }
    snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
    if (ftruncate(pidfile_fd, 0) < 0 || write(pidfile_fd, buf, strlen(buf)) < 0) {
        die("-pidfile %s: cannot write: %s", path, strerror(errno));
    }
    pidfile_path = realpath(path, NULL);
    atexit(pidfile_remove);
}

static int daemon_pipe = -1;

/* Fork; the parent waits for the child to report that set-up succeeded. */
static void daemonize_start(void)
{
    int fds[2];
    pid_t pid;

    if (pipe(fds) < 0) {
        die("-daemonize: pipe: %s", strerror(errno));
    }
    pid = fork();
    if (pid < 0) {
        die("-daemonize: fork: %s", strerror(errno));
    }
    if (pid > 0) {
        char status = 1;
        close(fds[1]);
        if (read(fds[0], &status, 1) != 1) {
            status = 1;     /* the child died during set-up; it said why */
        }
        _exit(status);
    }
    close(fds[0]);
    daemon_pipe = fds[1];
    setsid();
}

static void daemonize_finish(void)
{
    char ok = 0;
    int null;

    if (daemon_pipe < 0) {
        return;
    }
    null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        close(null);
    }
    if (write(daemon_pipe, &ok, 1) < 0) {
        /* The parent is gone: nothing to tell. */
    }
    close(daemon_pipe);
    daemon_pipe = -1;
}

static gboolean on_signal(gpointer data)
{
    int sig = GPOINTER_TO_INT(data);

    error_report("terminating on signal %d", sig);
    qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_SIGNAL);
    return G_SOURCE_CONTINUE;
}

static void setup_serials(Config *c)
{
    guint n = 0;

    if (c->serials->len == 0 && !c->nodefaults) {
        /* QEMU's default COM1: stdio shared with the monitor (Ctrl-A c) with
         * -nographic, else a (hidden) console. */
        g_ptr_array_add(c->serials, c->nographic ? "mon:stdio" : "null");
    }
    for (guint i = 0; i < c->serials->len; i++) {
        const char *spec = g_ptr_array_index(c->serials, i);
        g_autoptr(GError) err = NULL;
        g_autofree char *label = NULL;

        if (!strcmp(spec, "none")) {
            continue;
        }
        if (n >= MAX_SERIAL_PORTS) {
            die("-serial %s: too many serial ports (at most %d)", spec, MAX_SERIAL_PORTS);
        }
        label = g_strdup_printf("serial%u", n);
        serial_hds[n] = qemu_chr_new(label, spec, &err);
        if (!serial_hds[n]) {
            die("-serial %s: %s", spec, err->message);
        }
        n++;
    }
}

/*
 * The video card: -vga, else std as QEMU's pc, unless -nodefaults or a
 * display device is on the command line already (docs/vga.md).
 */
static const char *vga_model(Config *c)
{
    if (c->vga) {
        return c->vga;
    }
    if (c->nodefaults) {
        return "none";
    }
    for (guint i = 0; i < c->devices->len; i++) {
        const char *d = g_ptr_array_index(c->devices, i);
        size_t n = strcspn(d, ",");
        if (n == 3 && !strncmp(d, "VGA", 3)) {
            return "none";
        }
    }
    return "std";
}

static bool config_uses_stdio(Config *c)
{
    for (guint i = 0; i < c->serials->len; i++) {
        const char *sp = g_ptr_array_index(c->serials, i);
        if (!strcmp(sp, "stdio") || !strcmp(sp, "mon:stdio")) {
            return true;
        }
    }
    for (guint i = 0; i < c->chardevs->len; i++) {
        if (g_str_has_prefix(g_ptr_array_index(c->chardevs, i), "stdio")) {
            return true;
        }
    }
    return c->nographic && c->serials->len == 0 && !c->nodefaults;
}

static void print_device_help(Config *c)
{
    for (guint i = 0; i < c->devices->len; i++) {
        const char *d = g_ptr_array_index(c->devices, i);
        g_autoptr(GString) out = g_string_new(NULL);
        g_autoptr(GError) err = NULL;

        if (is_help(d)) {
            qdev_print_device_list(out);
        } else if (g_str_has_suffix(d, ",help") || g_str_has_suffix(d, ",?")) {
            g_autofree char *name = g_strndup(d, strrchr(d, ',') - d);
            if (!qdev_print_device_props(out, name, &err)) {
                die("-device %s: %s", d, err->message);
            }
        } else {
            continue;
        }
        fputs(out->str, stdout);
        exit(0);
    }
}

int kvmpc_main(int argc, char **argv)
{
    Config c = {
        .machine_opts = g_ptr_array_new(),
        .accels = g_ptr_array_new(),
        .chardevs = g_ptr_array_new(),
        .devices = g_ptr_array_new(),
        .objects = g_ptr_array_new(),
        .serials = g_ptr_array_new(),
        .bios_dirs = g_ptr_array_new(),
        .bios_smbios = g_ptr_array_new(),
    };
    g_autoptr(GPtrArray) machine_accels = g_ptr_array_new_with_free_func(g_free);
    MachineState *ms = g_new0(MachineState, 1);
    g_autoptr(GError) err = NULL;
    int status;

    signal(SIGPIPE, SIG_IGN);
    parse_args(argc, argv, &c);
    print_device_help(&c);
    if (c.logitems) {
        if (!qemu_set_log_items(c.logitems, &err)) {
            if (err) {
                die_err(g_steal_pointer(&err));
            }
            g_autoptr(GString) out = g_string_new(NULL);
            qemu_print_log_items(out);
            fputs(out->str, stdout);
            exit(0);
        }
    }
    if (c.logfile && !qemu_set_log_filename(c.logfile, &err)) {
        die_err(g_steal_pointer(&err));
    }
    parse_machine(&c, ms, machine_accels);
    if (c.no_hpet) {
        ms->hpet = 0;
    }
    parse_cpu(&c, ms);
    parse_memory(&c, ms);
    parse_smp(&c, ms);
    parse_name(&c, ms);
    parse_uuid(&c, ms);
    /* Firmware: -bios, -L, -boot (hw/i386/firmware.c, docs/firmware.md). */
    ms->firmware = g_strdup(c.bios);
    g_ptr_array_add(c.bios_dirs, NULL);
    ms->firmware_dirs = (char **)g_ptr_array_free(c.bios_dirs, FALSE);
    if (c.boot && !firmware_parse_boot(ms, c.boot, &err)) {
        die("-boot %s: %s", c.boot, err->message);
    }
    for (guint i = 0; i < c.bios_smbios->len; i++) {
        const char *v = g_ptr_array_index(c.bios_smbios, i);
        if (!smbios_parse_option(ms, v, &err)) {
            die("-smbios %s: %s", v, err->message);
        }
    }
    ms->kernel_filename = g_strdup(c.kernel);
    ms->initrd_filename = g_strdup(c.initrd);
    ms->kernel_cmdline = g_strdup(c.append ? c.append : "");
    if (!c.kernel && (c.initrd || c.append)) {
        die("%s cannot be used without -kernel", c.initrd ? "-initrd" : "-append");
    }
    display_nographic = c.nographic;
    if (c.daemonize && config_uses_stdio(&c)) {
        die(c.nographic && c.serials->len == 0 && !c.nodefaults
            ? "-nographic cannot be used with -daemonize (it needs stdio)"
            : "-daemonize: a chardev on stdio (-serial stdio, -chardev stdio) cannot be used "
              "with -daemonize");
    }
    select_accel(&c, machine_accels);
    if (x86_cpu_model_needs_host(ms->cpu) && strcmp(current_accel->name, "kvm")) {
        die("-cpu %s: CPU model '%s' requires KVM", c.cpu, ms->cpu->def->name);
    }
    if (c.qtest && strcmp(current_accel->name, "qtest")) {
        die("-qtest %s: needs -accel qtest", c.qtest);
    }
    if (c.daemonize) {
        daemonize_start();
    }
    if (c.pidfile) {
        pidfile_create(c.pidfile);
    }

    main_loop_init();
    blockdev_open_all();
    runstate_add_notifiers(&block_notifiers);
    net_init_clients(!c.nodefaults);
    memory_init_system();
    atexit(qemu_chr_cleanup_all);
    g_unix_signal_add(SIGINT, on_signal, GINT_TO_POINTER(SIGINT));
    g_unix_signal_add(SIGTERM, on_signal, GINT_TO_POINTER(SIGTERM));
    g_unix_signal_add(SIGHUP, on_signal, GINT_TO_POINTER(SIGHUP));

    for (guint i = 0; i < c.objects->len; i++) {
        const char *spec = g_ptr_array_index(c.objects, i);
        if (!user_object_add(spec, &err)) {
            die("-object %s: %s", spec, err->message);
        }
    }
    for (guint i = 0; i < c.chardevs->len; i++) {
        const char *spec = g_ptr_array_index(c.chardevs, i);
        if (!qemu_chr_new_from_opts(spec, &err)) {
            die("-chardev %s: %s", spec, err->message);
        }
    }
    setup_serials(&c);
    current_machine = ms;
    if (!current_accel->init_machine(ms, &err)) {
        error_prepend(&err, "-accel %s: ", current_accel->name);
        die_err(g_steal_pointer(&err));
    }
    if (!ms->mc->init(ms, &err)) {
        die_err(g_steal_pointer(&err));
    }
    /* The video card comes first, as on QEMU's pc (00:02.0), then the
     * -nic/-net cards, then -device in order. */
    if (!strcmp(vga_model(&c), "std") && !qdev_device_add("VGA", &err)) {
        die_err(g_steal_pointer(&err));
    }
    net_create_nics();
    for (guint i = 0; i < c.devices->len; i++) {
        if (!qdev_device_add(g_ptr_array_index(c.devices, i), &err)) {
            die_err(g_steal_pointer(&err));
        }
    }
    if (!virtio_blk_create_cmdline_drives(&err)) {
        die_err(g_steal_pointer(&err));
    }
    if (!virtio_scsi_create_cmdline_drives(&err)) {
        die_err(g_steal_pointer(&err));
    }
    blockdev_check_orphans();
    if (c.qtest && !qtest_server_init(c.qtest, c.qtest_log, &err)) {
        die_err(g_steal_pointer(&err));
    }
    monitor_init_all();
    ms->mc->reset(ms);
    if (runstate_handle_requests(&status)) {
        return status;      /* the first reset failed (e.g. a bad kernel) */
    }
    for (guint i = 0; cpus && i < cpus->len; i++) {
        if (current_accel->vcpu_start) {
            current_accel->vcpu_start(g_ptr_array_index(cpus, i));
        }
    }
    if (!c.start_paused) {
        vm_start();
    }
    daemonize_finish();
    status = main_loop_run();
    fflush(stdout);
    exit(status);
}

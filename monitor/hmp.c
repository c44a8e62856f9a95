/*
 * HMP: QEMU's human monitor.  A line editor (echo, cursor keys, history)
 * on the chardev, a command table, and the commands, most of them thin
 * wrappers over the QMP handlers so both monitors say the same thing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "config-host.h"
#include "monitor-internal.h"
#include "monitor/qmp-gen.h"
#include "system/runstate.h"
#include "hw/machine.h"
#include "hw/qdev.h"
#include "hw/memory.h"
#include "hw/intc/i8259.h"
#include "hw/intc/ioapic.h"
#include "accel/accel.h"
#include "hw/intc/apic.h"
#include "chardev/char-mux.h"
#include "block/blockdev.h"
#include "ui/input-monitor.h"
#include "hw/pci/pci-monitor.h"
#include "ui/console.h"
#include "net/net-monitor.h"
#include "system/balloon.h"

#define HMP_PROMPT "(qemu) "

typedef struct HMPCommand {
    const char *name;           /* "c|cont": aliases before the main name */
    const char *params;
    const char *help;
    void (*fn)(Monitor *mon, int argc, char **argv);
} HMPCommand;

static const HMPCommand hmp_cmds[];
static const HMPCommand hmp_info_cmds[];

static void hmp_report(Monitor *mon, Error *err)
{
    monitor_printf(mon, "Error: %s\n", err->message);
    g_error_free(err);
}

/* Runs a QMP handler's result through: errors are printed. */
static JsonNode *hmp_check(Monitor *mon, JsonNode *ret, Error *err)
{
    if (err) {
        hmp_report(mon, err);
        return NULL;
    }
    return ret;
}

/* ---- info ------------------------------------------------------------- */

static void hmp_info_status(Monitor *mon, int argc, char **argv)
{
    RunState s = runstate_get();

    monitor_printf(mon, "VM status: %s", runstate_is_running() ? "running" : "paused");
    if (!runstate_is_running() && s != RUN_STATE_PAUSED) {
        monitor_printf(mon, " (%s)", runstate_name(s));
    }
    monitor_printf(mon, "\n");
}

static void hmp_info_version(Monitor *mon, int argc, char **argv)
{
    /* QEMU prints the triple and the package string back to back. */
    monitor_printf(mon, "%s%s\n", KVMPC_QEMU_VERSION, "kvmpc " KVMPC_VERSION);
}

static void hmp_info_name(Monitor *mon, int argc, char **argv)
{
    if (current_machine && current_machine->name) {
        monitor_printf(mon, "%s\n", current_machine->name);
    }
}

static void hmp_info_uuid(Monitor *mon, int argc, char **argv)
{
    g_autoptr(JsonNode) n = qmp_query_uuid(mon, NULL, NULL);

    monitor_printf(mon, "%s\n", json_object_get_string_member(json_node_get_object(n), "UUID"));
}

/* QEMU's three answers: "not compiled" (no KVM in this binary), else
 * whether the VM runs on it. */
static void hmp_info_kvm(Monitor *mon, int argc, char **argv)
{
    const AccelOps *kvm = accel_find("kvm");

    monitor_printf(mon, "kvm support: %s\n",
                   !kvm ? "not compiled" : current_accel == kvm ? "enabled" : "disabled");
}

/* The software CPU's code cache (tcg-lite's blocks and JIT); KVM has none. */
static void hmp_info_jit(Monitor *mon, int argc, char **argv)
{
    g_autoptr(GString) out = g_string_new(NULL);

    if (!current_accel || !current_accel->info_jit) {
        monitor_printf(mon, "info jit: only with -accel tcg (this VM runs on %s)\n",
                       current_accel ? current_accel->name : "no accelerator");
        return;
    }
    current_accel->info_jit(out);
    monitor_printf(mon, "%s", out->str);
}

static void hmp_info_cpus(Monitor *mon, int argc, char **argv)
{
    g_autoptr(JsonNode) n = qmp_query_cpus_fast(mon, NULL, NULL);
    JsonArray *a = json_node_get_array(n);

    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonObject *o = json_array_get_object_element(a, i);
        int64_t idx = json_object_get_int_member(o, "cpu-index");
        monitor_printf(mon, "%c CPU #%" PRId64 ": thread_id=%" PRId64 "\n",
                       idx == mon->cpu_index ? '*' : ' ', idx,
                       json_object_get_int_member(o, "thread-id"));
    }
}

static void hmp_info_registers(Monitor *mon, int argc, char **argv)
{
    bool all = argc > 1 && !strcmp(argv[1], "-a");

    for (guint i = 0; cpus && i < cpus->len; i++) {
        CPUState *cpu = g_ptr_array_index(cpus, i);
        X86CPUState *env;
        Error *err = NULL;
        g_autoptr(GString) out = g_string_new(NULL);

        if (!all && cpu->index != mon->cpu_index) {
            continue;
        }
        if (!monitor_cpu_get_env(cpu->index, &env, &err)) {
            hmp_report(mon, err);
            return;
        }
        if (all) {
            monitor_printf(mon, "\nCPU#%d\n", cpu->index);
        }
        x86_cpu_dump_state(env, out);
        monitor_puts(mon, out->str);
        if (!all) {
            return;
        }
    }
    if (all) {
        return;
    }
    if (!cpu_by_index(mon->cpu_index)) {
        monitor_printf(mon, "No CPU available\n");
    }
}

/* info lapic: the userspace LAPIC of the monitor's current CPU. */
static void hmp_info_lapic(Monitor *mon, int argc, char **argv)
{
    CPUState *cpu = cpu_by_index(mon->cpu_index);
    g_autoptr(GString) out = g_string_new(NULL);

    if (!cpu) {
        monitor_printf(mon, "No CPU available\n");
        return;
    }
    if (!cpu->apic) {
        monitor_printf(mon, "CPU#%d: no userspace LAPIC (the accelerator's in-kernel one)\n",
                       cpu->index);
        return;
    }
    apic_dump(cpu->apic, out);
    monitor_puts(mon, out->str);
}

static void hmp_info_chardev(Monitor *mon, int argc, char **argv)
{
    g_autoptr(GPtrArray) list = qemu_chr_list();

    for (guint i = 0; i < list->len; i++) {
        Chardev *c = g_ptr_array_index(list, i);
        monitor_printf(mon, "%s: filename=%s\n", c->label, c->filename ? c->filename : "");
    }
}

static void qtree_print_dev(Monitor *mon, DeviceState *dev, int indent);

static void qtree_print_bus(Monitor *mon, BusState *bus, int indent)
{
    monitor_printf(mon, "%*sbus: %s\n", indent, "", bus->name);
    monitor_printf(mon, "%*stype %s\n", indent + 2, "", bus->type);
    for (guint i = 0; bus->children && i < bus->children->len; i++) {
        qtree_print_dev(mon, g_ptr_array_index(bus->children, i), indent + 2);
    }
}

static void qtree_print_dev(Monitor *mon, DeviceState *dev, int indent)
{
    monitor_printf(mon, "%*sdev: %s, id \"%s\"\n", indent, "", dev->klass->name,
                   dev->id ? dev->id : "");
    for (const Property *p = dev->klass->props; p && p->name; p++) {
        g_autofree char *v = qdev_prop_format(dev, p);
        bool quote = p->kind == PROP_STRING || p->kind == PROP_CHR || p->kind == PROP_LINK;
        monitor_printf(mon, "%*s%s = %s%s%s\n", indent + 2, "", p->name, quote ? "\"" : "",
                       v ? v : "", quote ? "\"" : "");
    }
    for (guint i = 0; dev->child_buses && i < dev->child_buses->len; i++) {
        qtree_print_bus(mon, g_ptr_array_index(dev->child_buses, i), indent + 2);
    }
}

static void hmp_info_qtree(Monitor *mon, int argc, char **argv)
{
    GPtrArray *devs = qdev_all_devices();     /* the live list: not ours */

    monitor_printf(mon, "bus: main-system-bus\n  type System\n");
    for (guint i = 0; i < devs->len; i++) {
        DeviceState *d = g_ptr_array_index(devs, i);
        if (!d->parent_bus || !d->parent_bus->parent) {
            qtree_print_dev(mon, d, 2);
        }
    }
}

/* The userspace PIC pair and IOAPIC (docs/interrupts.md); an in-kernel
 * irqchip is the accelerator's and not shown. */
static void hmp_info_pic(Monitor *mon, int argc, char **argv)
{
    g_autoptr(GString) out = g_string_new(NULL);
    DeviceState *pic = qdev_find_by_path("/machine/i8259-master");
    DeviceState *ioapic = qdev_find_by_path("/machine/ioapic");

    if (pic) {
        pic_print_info(pic, out);
    }
    if (ioapic && !strcmp(ioapic->klass->name, IOAPIC_TYPE)) {
        ioapic_print_info(ioapic, out);
    }
    if (!out->len) {
        g_string_append(out, "the interrupt controllers are in the accelerator\n");
    }
    monitor_puts(mon, out->str);
}

static void hmp_info_mtree(Monitor *mon, int argc, char **argv)
{
    g_autoptr(GString) out = g_string_new(NULL);
    bool flat = argc > 1 && !strcmp(argv[1], "-f");

    if (flat) {
        address_space_dump_flat(out, &address_space_memory);
        g_string_append_c(out, '\n');
        address_space_dump_flat(out, &address_space_io);
    } else {
        g_string_append(out, "address-space: memory\n");
        memory_region_dump_tree(out, get_system_memory());
        g_string_append(out, "\naddress-space: I/O\n");
        memory_region_dump_tree(out, get_system_io());
    }
    monitor_puts(mon, out->str);
}

static void hmp_info_commands(Monitor *mon, int argc, char **argv)
{
    for (const QmpCommand *c = qmp_commands; c->name; c++) {
        monitor_printf(mon, "%s\n", c->name);
    }
}

static void hmp_info_help(Monitor *mon, const HMPCommand *table, const char *prefix);

static void hmp_info(Monitor *mon, int argc, char **argv)
{
    if (argc < 2) {
        hmp_info_help(mon, hmp_info_cmds, "info ");
        return;
    }
    for (const HMPCommand *c = hmp_info_cmds; c->name; c++) {
        if (!strcmp(c->name, argv[1])) {
            c->fn(mon, argc - 1, argv + 1);
            return;
        }
    }
    monitor_printf(mon, "unknown command: 'info %s'\n", argv[1]);
}

/* ---- control ---------------------------------------------------------- */

static void hmp_stop(Monitor *mon, int argc, char **argv)
{
    qmp_stop(mon, NULL, NULL);
}

static void hmp_cont(Monitor *mon, int argc, char **argv)
{
    Error *err = NULL;

    hmp_check(mon, qmp_cont(mon, NULL, &err), err);
}

static void hmp_system_reset(Monitor *mon, int argc, char **argv)
{
    qmp_system_reset(mon, NULL, NULL);
}

static void hmp_system_powerdown(Monitor *mon, int argc, char **argv)
{
    qmp_system_powerdown(mon, NULL, NULL);
}

static void hmp_quit(Monitor *mon, int argc, char **argv)
{
    mon->quitting = true;
    qmp_quit(mon, NULL, NULL);
}

static void hmp_cpu(Monitor *mon, int argc, char **argv)
{
    int idx;

    if (argc < 2) {
        monitor_printf(mon, "cpu: missing argument\n");
        return;
    }
    idx = atoi(argv[1]);
    if (!cpu_by_index(idx)) {
        monitor_printf(mon, "invalid CPU index\n");
        return;
    }
    mon->cpu_index = idx;
}

/* ---- expressions and memory ------------------------------------------- */

static bool hmp_register(Monitor *mon, const char *name, uint64_t *val)
{
    static const char *const regs[CPU_NB_REGS] = {
        "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
        "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
    };
    X86CPUState *env;
    Error *err = NULL;

    if (!monitor_cpu_get_env(mon->cpu_index, &env, &err)) {
        hmp_report(mon, err);       /* then the caller's "unknown register" */
        return false;
    }
    for (int i = 0; i < CPU_NB_REGS; i++) {
        if (!g_ascii_strcasecmp(name, regs[i]) ||
            (name[0] == 'r' && i < 8 && !g_ascii_strcasecmp(name + 1, regs[i] + 1))) {
            *val = env->regs[i];
            if (name[0] == 'e' || name[0] == 'E') {
                *val &= 0xffffffff;
            }
            return true;
        }
    }
    if (!g_ascii_strcasecmp(name, "pc") || !g_ascii_strcasecmp(name, "rip") ||
        !g_ascii_strcasecmp(name, "eip")) {
        *val = env->rip;
    } else if (!g_ascii_strcasecmp(name, "eflags") || !g_ascii_strcasecmp(name, "rflags")) {
        *val = env->rflags;
    } else if (!g_ascii_strcasecmp(name, "cr0")) {
        *val = env->cr0;
    } else if (!g_ascii_strcasecmp(name, "cr2")) {
        *val = env->cr2;
    } else if (!g_ascii_strcasecmp(name, "cr3")) {
        *val = env->cr3;
    } else if (!g_ascii_strcasecmp(name, "cr4")) {
        *val = env->cr4;
    } else {
        static const char *const segs[R_NB_SEGS] = { "es", "cs", "ss", "ds", "fs", "gs" };
        for (int i = 0; i < R_NB_SEGS; i++) {
            if (!g_ascii_strcasecmp(name, segs[i])) {
                *val = env->segs[i].selector;
                return true;
            }
        }
        return false;
    }
    return true;
}

static bool hmp_sum(Monitor *mon, const char **p, uint64_t *val);

/* term: number | $reg | '(' sum ')' | '-' term */
static bool hmp_term(Monitor *mon, const char **p, uint64_t *val)
{
    char *end;

    while (**p == ' ') {
        (*p)++;
    }
    if (**p == '$') {
        char name[16];
        size_t n = 0;
        (*p)++;
        while ((g_ascii_isalnum(**p) || **p == '_') && n < sizeof(name) - 1) {
            name[n++] = *(*p)++;
        }
        name[n] = 0;
        if (!hmp_register(mon, name, val)) {
            monitor_printf(mon, "unknown register\n");
            return false;
        }
        return true;
    }
    if (**p == '(') {
        (*p)++;
        if (!hmp_sum(mon, p, val)) {
            return false;
        }
        while (**p == ' ') {
            (*p)++;
        }
        if (**p != ')') {
            monitor_printf(mon, "')' expected\n");
            return false;
        }
        (*p)++;
        return true;
    }
    if (**p == '-') {
        (*p)++;
        if (!hmp_term(mon, p, val)) {
            return false;
        }
        *val = -*val;
        return true;
    }
    errno = 0;
    *val = g_ascii_strtoull(*p, &end, 0);
    if (end == *p || errno) {
        monitor_printf(mon, "invalid char '%c' in expression\n", **p ? **p : ' ');
        return false;
    }
    *p = end;
    return true;
}

/* product: term (('*'|'/'|'%'|'&') term)* */
static bool hmp_product(Monitor *mon, const char **p, uint64_t *val)
{
    uint64_t rhs;

    if (!hmp_term(mon, p, val)) {
        return false;
    }
    for (;;) {
        char op;
        while (**p == ' ') {
            (*p)++;
        }
        op = **p;
        if (!op || !strchr("*/%&", op)) {
            return true;
        }
        (*p)++;
        if (!hmp_term(mon, p, &rhs)) {
            return false;
        }
        if ((op == '/' || op == '%') && !rhs) {
            monitor_printf(mon, "division by zero\n");
            return false;
        }
        *val = op == '*' ? *val * rhs : op == '/' ? *val / rhs : op == '%' ? *val % rhs
                                                              : *val & rhs;
    }
}

/* sum: product (('+'|'-'|'|'|'^') product)*, QEMU's precedence. */
static bool hmp_sum(Monitor *mon, const char **p, uint64_t *val)
{
    uint64_t rhs;

    if (!hmp_product(mon, p, val)) {
        return false;
    }
    for (;;) {
        char op;
        while (**p == ' ') {
            (*p)++;
        }
        op = **p;
        if (!op || !strchr("+-|^", op)) {
            return true;
        }
        (*p)++;
        if (!hmp_product(mon, p, &rhs)) {
            return false;
        }
        *val = op == '+' ? *val + rhs : op == '-' ? *val - rhs : op == '|' ? *val | rhs
                                                              : *val ^ rhs;
    }
}

static bool hmp_expr(Monitor *mon, const char *s, uint64_t *val)
{
    const char *p = s;

    if (!hmp_sum(mon, &p, val)) {
        return false;
    }
    while (*p == ' ') {
        p++;
    }
    if (*p) {
        monitor_printf(mon, "invalid char '%c' in expression\n", *p);
        return false;
    }
    return true;
}

/* "/[count][format][size]" as QEMU: format x d u o c; size b h w g. */
static bool hmp_parse_fmt(Monitor *mon, const char *s, int *count, char *fmt, int *size)
{
    *count = 1;
    if (!s || s[0] != '/') {
        return true;
    }
    s++;
    if (g_ascii_isdigit(*s)) {
        *count = strtol(s, (char **)&s, 10);
    }
    for (; *s; s++) {
        switch (*s) {
        case 'x': case 'd': case 'u': case 'o': case 'c': case 'i':
            *fmt = *s;
            break;
        case 'b': *size = 1; break;
        case 'h': *size = 2; break;
        case 'w': *size = 4; break;
        case 'g': *size = 8; break;
        default:
            monitor_printf(mon, "invalid char in format: '%c'\n", *s);
            return false;
        }
    }
    if (*fmt == 'c') {
        *size = 1;
    }
    return true;
}

static void hmp_memory_dump(Monitor *mon, int argc, char **argv, bool physical)
{
    int count, size = 4, i = 1;
    char fmt = 'x';
    uint64_t addr;
    int per_line, digits;

    if (argc > 1 && argv[1][0] == '/') {
        if (!hmp_parse_fmt(mon, argv[1], &count, &fmt, &size)) {
            return;
        }
        i = 2;
    } else {
        count = 1;
    }
    if (argc <= i) {
        monitor_printf(mon, "%s: address expected\n", argv[0]);
        return;
    }
    g_autofree char *expr = g_strjoinv(" ", argv + i);
    if (!hmp_expr(mon, expr, &addr)) {
        return;
    }
    per_line = fmt == 'c' ? 16 : 16 / size;
    switch (fmt) {
    case 'o': digits = (size * 8 + 2) / 3; break;
    case 'd': case 'u': digits = (size * 8 * 10 + 32) / 33; break;
    default: digits = (size * 8) / 4; break;
    }
    for (int n = 0; n < count; n += per_line) {
        monitor_printf(mon, "%016" PRIx64 ":", addr);
        for (int k = 0; k < per_line && n + k < count; k++) {
            uint64_t v = 0;
            Error *err = NULL;
            if (!monitor_memory_read(physical, mon->cpu_index, addr, &v, size, &err)) {
                monitor_printf(mon, " Cannot access memory\n");
                g_error_free(err);
                return;
            }
            switch (fmt) {
            case 'x': monitor_printf(mon, " 0x%0*" PRIx64, digits, v); break;
            case 'o': monitor_printf(mon, " %#*" PRIo64, digits, v); break;
            case 'u': monitor_printf(mon, " %*" PRIu64, digits, v); break;
            /* QEMU loads zero-extended and prints as int64. */
            case 'd': monitor_printf(mon, " %*" PRId64, digits, (int64_t)v); break;
            case 'c':
                if (v >= 32 && v < 127 && v != '\'') {
                    monitor_printf(mon, " '%c'", (int)v);
                } else {
                    monitor_printf(mon, " '\\x%02x'", (unsigned)v);
                }
                break;
            default:
                monitor_printf(mon, " 0x%0*" PRIx64, digits, v);
            }
            addr += size;
        }
        monitor_printf(mon, "\n");
    }
}

static void hmp_x(Monitor *mon, int argc, char **argv)
{
    hmp_memory_dump(mon, argc, argv, false);
}

static void hmp_xp(Monitor *mon, int argc, char **argv)
{
    hmp_memory_dump(mon, argc, argv, true);
}

static void hmp_print(Monitor *mon, int argc, char **argv)
{
    int count, size = 8, i = 1;
    char fmt = 'x';
    uint64_t v;

    if (argc > 1 && argv[1][0] == '/') {
        if (!hmp_parse_fmt(mon, argv[1], &count, &fmt, &size)) {
            return;
        }
        i = 2;
    }
    if (argc <= i) {
        monitor_printf(mon, "print: expression expected\n");
        return;
    }
    g_autofree char *expr = g_strjoinv(" ", argv + i);
    if (!hmp_expr(mon, expr, &v)) {
        return;
    }
    switch (fmt) {
    case 'd': monitor_printf(mon, "%" PRId64 "\n", (int64_t)v); break;
    case 'u': monitor_printf(mon, "%" PRIu64 "\n", v); break;
    case 'o': monitor_printf(mon, "%#" PRIo64 "\n", v); break;
    case 'c': monitor_printf(mon, "'%c'\n", (int)(v & 0xff)); break;
    default: monitor_printf(mon, "%#" PRIx64 "\n", v); break;
    }
}

static void hmp_save(Monitor *mon, int argc, char **argv, bool physical)
{
    uint64_t addr, size;
    Error *err = NULL;

    if (argc != 4) {
        monitor_printf(mon, "%s: expects addr size file\n", argv[0]);
        return;
    }
    if (!hmp_expr(mon, argv[1], &addr) || !hmp_expr(mon, argv[2], &size)) {
        return;
    }
    if (!monitor_save_memory(physical, mon->cpu_index, addr, size, argv[3], &err)) {
        hmp_report(mon, err);
    }
}

static void hmp_memsave(Monitor *mon, int argc, char **argv)
{
    hmp_save(mon, argc, argv, false);
}

static void hmp_pmemsave(Monitor *mon, int argc, char **argv)
{
    hmp_save(mon, argc, argv, true);
}

static void hmp_screendump(Monitor *mon, int argc, char **argv)
{
    Error *err = NULL;
    const char *file = NULL, *fmt = NULL;

    /* screendump FILE [-f FORMAT] */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-f") && i + 1 < argc) {
            fmt = argv[++i];
        } else if (!file) {
            file = argv[i];
        }
    }
    if (!file) {
        monitor_printf(mon, "screendump: missing filename\n");
        return;
    }
    if (!qemu_console_screendump(file, fmt, &err)) {
        hmp_report(mon, err);
    }
}

static void hmp_help(Monitor *mon, int argc, char **argv);

static const HMPCommand hmp_cmds[] = {
    { "help|?", "[cmd]", "show the help", hmp_help },
    { "info", "[subcommand]", "show various information about the system state", hmp_info },
    { "stop", "", "stop emulation", hmp_stop },
    { "c|cont", "", "resume emulation", hmp_cont },
    { "system_reset", "", "reset the system", hmp_system_reset },
    { "system_powerdown", "", "send system power down event", hmp_system_powerdown },
    { "q|quit", "", "quit the emulator", hmp_quit },
    { "cpu", "index", "set the default CPU", hmp_cpu },
    { "x", "/fmt addr", "virtual memory dump starting at 'addr'", hmp_x },
    { "xp", "/fmt addr", "physical memory dump starting at 'addr'", hmp_xp },
    { "p|print", "/fmt expr", "print expression value (use $reg for CPU register access)",
      hmp_print },
    { "memsave", "addr size file", "save to disk virtual memory dump starting at 'addr' of size 'size'",
      hmp_memsave },
    { "pmemsave", "addr size file",
      "save to disk physical memory dump starting at 'addr' of size 'size'", hmp_pmemsave },
    { "screendump", "filename [-f format]", "save screen to a file as PPM", hmp_screendump },
    { "eject", "[-f] device", "eject a removable medium (use -f to force it)", hmp_eject },
    { "change", "device filename [format]", "change a removable medium", hmp_change },
    { "sendkey", "keys [hold_ms]", "send keys to the VM (e.g. 'sendkey ctrl-alt-f1')",
      hmp_sendkey },
    { "set_link", "name on|off", "change the link status of a network adapter", hmp_set_link },
    { "netdev_add", "[user|tap|socket|hubport],id=str[,prop=value][,...]", "add host network device",
      hmp_netdev_add },
    { "netdev_del", "id", "remove host network device", hmp_netdev_del },
    { "announce_self", "[interfaces] [id]",
      "trigger GARP/RARP announcements (interfaces: comma-separated NIC names)",
      hmp_announce_self },
    { "balloon", "target", "request VM to change its memory allocation (in MB)", hmp_balloon },
    { NULL },
};

static const HMPCommand hmp_info_cmds[] = {
    { "balloon", "", "show balloon information", hmp_info_balloon },
    { "block", "", "show the block devices", hmp_info_block },
    { "blockstats", "", "show block device statistics", hmp_info_blockstats },
    { "chardev", "", "show the character devices", hmp_info_chardev },
    { "commands", "", "list QMP available commands", hmp_info_commands },
    { "cpus", "", "show infos for each CPU", hmp_info_cpus },
    { "jit", "", "show the software CPU's code cache (-accel tcg)", hmp_info_jit },
    { "kvm", "", "show KVM information", hmp_info_kvm },
    { "lapic", "", "show the local APIC state of the current CPU", hmp_info_lapic },
    { "mice", "", "show which guest mouse is receiving events", hmp_info_mice },
    { "mtree", "[-f]", "show memory tree (-f: flat views)", hmp_info_mtree },
    { "name", "", "show the current VM name", hmp_info_name },
    { "network", "", "show the network state", hmp_info_network },
    { "pci", "", "show PCI info", hmp_info_pci },
    { "pic", "", "show PIC and IOAPIC state", hmp_info_pic },
    { "qtree", "", "show device tree", hmp_info_qtree },
    { "registers", "[-a]", "show the cpu registers (-a: all CPUs)", hmp_info_registers },
    { "status", "", "show the current VM status (running|paused)", hmp_info_status },
    { "uuid", "", "show the current VM UUID", hmp_info_uuid },
    { "version", "", "show the version of QEMU", hmp_info_version },
    { NULL },
};

static bool hmp_name_matches(const char *names, const char *word)
{
    g_auto(GStrv) alts = g_strsplit(names, "|", -1);

    for (char **a = alts; *a; a++) {
        if (!strcmp(*a, word)) {
            return true;
        }
    }
    return false;
}

static void hmp_info_help(Monitor *mon, const HMPCommand *table, const char *prefix)
{
    for (const HMPCommand *c = table; c->name; c++) {
        monitor_printf(mon, "%s%s %s -- %s\n", prefix, c->name, c->params, c->help);
    }
}

static void hmp_help(Monitor *mon, int argc, char **argv)
{
    if (argc > 1) {
        if (!strcmp(argv[1], "info")) {
            hmp_info_help(mon, hmp_info_cmds, "info ");
            return;
        }
        for (const HMPCommand *c = hmp_cmds; c->name; c++) {
            if (hmp_name_matches(c->name, argv[1])) {
                monitor_printf(mon, "%s %s -- %s\n", c->name, c->params, c->help);
                return;
            }
        }
        monitor_printf(mon, "unknown command: '%s'\n", argv[1]);
        return;
    }
    hmp_info_help(mon, hmp_cmds, "");
}

void hmp_handle_command(Monitor *mon, const char *cmdline)
{
    g_auto(GStrv) argv = NULL;
    int argc;

    while (*cmdline == ' ' || *cmdline == '\t') {
        cmdline++;
    }
    if (!*cmdline) {
        return;
    }
    /* "x/4x addr": the format may be glued to the command name. */
    g_autofree char *line = g_strdup(cmdline);
    char *slash = strchr(line, '/');
    char *space = strpbrk(line, " \t");
    if (slash && (!space || slash < space)) {
        g_autofree char *fixed = g_strdup_printf("%.*s %s", (int)(slash - line), line, slash);
        g_free(line);
        line = g_steal_pointer(&fixed);
    }
    argv = g_strsplit_set(g_strstrip(line), " \t", -1);
    /* Drop empty words from repeated blanks. */
    argc = 0;
    for (int i = 0; argv[i]; i++) {
        if (*argv[i]) {
            argv[argc++] = argv[i];
        } else {
            g_free(argv[i]);
        }
    }
    argv[argc] = NULL;
    for (const HMPCommand *c = hmp_cmds; c->name; c++) {
        if (hmp_name_matches(c->name, argv[0])) {
            c->fn(mon, argc, argv);
            return;
        }
    }
    monitor_printf(mon, "unknown command: '%s'\n", argv[0]);
}

/* ---- line editing ----------------------------------------------------- */

static void hmp_prompt(Monitor *mon)
{
    monitor_puts(mon, HMP_PROMPT);
}

/* Redraws the line after the prompt and puts the cursor where it belongs. */
static void hmp_redraw(Monitor *mon)
{
    g_autoptr(GString) s = g_string_new("\r" HMP_PROMPT);

    g_string_append_len(s, mon->line->str, mon->line->len);
    g_string_append(s, "\033[K");
    for (size_t i = mon->line->len; i > mon->cursor; i--) {
        g_string_append_c(s, '\b');
    }
    monitor_puts(mon, s->str);
}

static void hmp_history_add(Monitor *mon, const char *line)
{
    if (!*line) {
        return;
    }
    if (mon->history->len &&
        !strcmp(g_ptr_array_index(mon->history, mon->history->len - 1), line)) {
        return;
    }
    if (mon->history->len >= HMP_HISTORY_MAX) {
        g_ptr_array_remove_index(mon->history, 0);
    }
    g_ptr_array_add(mon->history, g_strdup(line));
}

static void hmp_history_move(Monitor *mon, int dir)
{
    int n = mon->history->len, pos = mon->hist_pos < 0 ? n : mon->hist_pos;

    pos += dir;
    if (pos < 0 || pos > n) {
        return;
    }
    mon->hist_pos = pos == n ? -1 : pos;
    g_string_assign(mon->line, pos == n ? "" : g_ptr_array_index(mon->history, pos));
    mon->cursor = mon->line->len;
    hmp_redraw(mon);
}

static void hmp_escape(Monitor *mon, char c)
{
    if (mon->esc_state == 1) {
        mon->esc_state = (c == '[' || c == 'O') ? 2 : 0;
        return;
    }
    if (g_ascii_isdigit(c)) {
        g_string_append_c(mon->esc_param, c);
        return;
    }
    mon->esc_state = 0;
    switch (c) {
    case 'A': hmp_history_move(mon, -1); break;
    case 'B': hmp_history_move(mon, 1); break;
    case 'C':
        if (mon->cursor < mon->line->len) {
            mon->cursor++;
            hmp_redraw(mon);
        }
        break;
    case 'D':
        if (mon->cursor > 0) {
            mon->cursor--;
            hmp_redraw(mon);
        }
        break;
    case 'H': mon->cursor = 0; hmp_redraw(mon); break;
    case 'F': mon->cursor = mon->line->len; hmp_redraw(mon); break;
    case '~':
        if (!strcmp(mon->esc_param->str, "3") && mon->cursor < mon->line->len) {
            g_string_erase(mon->line, mon->cursor, 1);
            hmp_redraw(mon);
        }
        break;
    }
    g_string_truncate(mon->esc_param, 0);
}

/* Tab: completes the command name (or the info subcommand) being typed;
 * with several candidates, lists them and redraws the line. */
static void hmp_complete(Monitor *mon)
{
    g_autofree char *head = g_strndup(mon->line->str, mon->cursor);
    const HMPCommand *table = hmp_cmds;
    const char *word = head, *sp = strchr(head, ' ');
    g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(g_free);

    if (sp) {
        if (strncmp(head, "info ", 5) || strchr(sp + 1, ' ')) {
            return;
        }
        table = hmp_info_cmds;
        word = sp + 1;
    }
    for (const HMPCommand *c = table; c->name; c++) {
        g_auto(GStrv) alts = g_strsplit(c->name, "|", -1);
        for (char **a = alts; *a; a++) {
            if (g_str_has_prefix(*a, word)) {
                g_ptr_array_add(found, g_strdup(*a));
            }
        }
    }
    if (found->len == 1) {
        const char *rest = (const char *)g_ptr_array_index(found, 0) + strlen(word);
        g_string_insert(mon->line, mon->cursor, rest);
        mon->cursor += strlen(rest);
        g_string_insert_c(mon->line, mon->cursor++, ' ');
        hmp_redraw(mon);
    } else if (found->len > 1) {
        monitor_puts(mon, "\n");
        for (guint i = 0; i < found->len; i++) {
            monitor_printf(mon, "%s\n", (char *)g_ptr_array_index(found, i));
        }
        hmp_redraw(mon);
    }
}

static void hmp_key(Monitor *mon, char c)
{
    if (mon->esc_state) {
        hmp_escape(mon, c);
        return;
    }
    switch (c) {
    case '\r': case '\n': {
        g_autofree char *line = g_strdup(mon->line->str);
        monitor_puts(mon, "\n");
        g_string_truncate(mon->line, 0);
        mon->cursor = 0;
        mon->hist_pos = -1;
        hmp_history_add(mon, line);
        hmp_handle_command(mon, line);
        if (!mon->quitting) {
            hmp_prompt(mon);
        }
        break;
    }
    case 27:
        mon->esc_state = 1;
        break;
    case 127: case 8:
        if (mon->cursor > 0) {
            g_string_erase(mon->line, --mon->cursor, 1);
            hmp_redraw(mon);
        }
        break;
    case '\t':
        hmp_complete(mon);
        break;
    case 5:     /* Ctrl-E */
        mon->cursor = mon->line->len;
        hmp_redraw(mon);
        break;
    case 21:    /* Ctrl-U */
        g_string_erase(mon->line, 0, mon->cursor);
        mon->cursor = 0;
        hmp_redraw(mon);
        break;
    default:
        if ((unsigned char)c < 32) {
            break;
        }
        g_string_insert_c(mon->line, mon->cursor++, c);
        if (mon->cursor == mon->line->len) {
            char s[2] = { c, 0 };
            monitor_puts(mon, s);
        } else {
            hmp_redraw(mon);
        }
    }
}

static int hmp_can_read(void *opaque)
{
    return 256;
}

static void hmp_read(void *opaque, const uint8_t *buf, int size)
{
    Monitor *mon = opaque;
    bool was_crlf = false;

    for (int i = 0; i < size; i++) {
        /* "\r\n" from a terminal-less client is one Enter. */
        if (buf[i] == '\n' && was_crlf) {
            was_crlf = false;
            continue;
        }
        was_crlf = buf[i] == '\r';
        hmp_key(mon, buf[i]);
    }
}

static void hmp_event(void *opaque, QEMUChrEvent event)
{
    Monitor *mon = opaque;

    switch (event) {
    case CHR_EVENT_OPENED:
        mon->connected = true;
        mon->banner_pending = true;
        if (mon->mux_out) {
            break;          /* shown when Ctrl-A c brings us in */
        }
        /* fall through */
    case CHR_EVENT_MUX_IN:
        mon->mux_out = false;
        if (mon->banner_pending) {
            monitor_printf(mon, "QEMU %s monitor - type 'help' for more information\n",
                           KVMPC_QEMU_VERSION);
            mon->banner_pending = false;
        }
        g_string_truncate(mon->line, 0);
        mon->cursor = 0;
        hmp_prompt(mon);
        break;
    case CHR_EVENT_MUX_OUT:
        mon->mux_out = true;
        break;
    case CHR_EVENT_CLOSED:
        mon->connected = false;
        break;
    default:
        break;
    }
}

void hmp_monitor_setup(Monitor *mon)
{
    mon->line = g_string_new(NULL);
    mon->esc_param = g_string_new(NULL);
    mon->history = g_ptr_array_new_with_free_func(g_free);
    mon->hist_pos = -1;
    mon->mux_out = !qemu_chr_fe_is_focused(&mon->chr);
    qemu_chr_fe_set_handlers(&mon->chr, hmp_can_read, hmp_read, hmp_event, mon);
}

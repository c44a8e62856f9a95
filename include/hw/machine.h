/*
 * Machines.  A machine file (hw/i386/pc.c) is the one place that knows
 * which devices a PC has and how they connect; it registers a MachineClass.
 */
#ifndef KVMPC_HW_MACHINE_H
#define KVMPC_HW_MACHINE_H

#include <stdbool.h>
#include <stdint.h>
#include "qemu/error.h"
#include "hw/irq.h"
#include "hw/memory.h"

typedef struct MachineState MachineState;
typedef struct FWCfgState FWCfgState;

typedef struct MachineClass {
    const char *name;           /* "pc-i440fx-7.2" style or "pc" */
    const char *alias;          /* "pc" */
    const char *desc;
    bool is_default;
    int max_cpus;
    uint64_t default_ram_size;
    bool (*init)(MachineState *ms, Error **errp);
    /* Full system reset (devices, vCPUs, boot state). */
    void (*reset)(MachineState *ms);
} MachineClass;

void machine_class_register(const MachineClass *mc);
#define MACHINE_CLASS_REGISTER(mc) \
    static void __attribute__((constructor)) mc##_register_(void) { machine_class_register(&(mc)); }
const MachineClass *machine_class_find(const char *name);
GPtrArray *machine_class_list(void);

typedef struct SMPConfig {
    unsigned cpus, sockets, dies, cores, threads, maxcpus;
} SMPConfig;

struct MachineState {
    const MachineClass *mc;
    uint64_t ram_size;
    SMPConfig smp;
    char *cpu_model;            /* the model's name: "host", "qemu64", "max"... */
    struct X86CPUModel *cpu;    /* -cpu parsed (target/i386/cpu-model.h) */
    char *kernel_filename;
    char *initrd_filename;      /* may be a comma list for multiboot modules */
    char *kernel_cmdline;
    char *firmware;             /* -bios */
    char **firmware_dirs;       /* -L, in order (NULL-terminated), or NULL */
    char *boot_order;           /* -boot order=: drive letters (a, c, d, n), or NULL */
    char *boot_once;            /* -boot once=: the order for the first boot only, or NULL */
    bool boot_strict;           /* -boot strict=on: boot only from the bootindex list */
    bool boot_menu;             /* -boot menu=on */
    int boot_menu_wait_ms;      /* -boot splash-time=, -1 if not given */
    int boot_reboot_timeout_ms; /* -boot reboot-timeout=, -1 if not given */
    int firmware_boot;          /* -machine firmware-boot: 1 on, 0 off, -1 auto */
    struct SMBiosFields *smbios;    /* -smbios type=0|1 (hw/i386/smbios.c), or NULL */
    char *name;                 /* -name */
    uint8_t uuid[16];
    bool uuid_set;
    int pvh_fast_path;          /* -machine pvh-fast-path: 1 on, 0 off, -1 auto (on under tcg) */
    bool no_pit;                /* -machine pit=off: no i8254 at all (nor port 0x61) */
    int hpet;                   /* -machine hpet: 1 on, 0 off (or -no-hpet), -1 default */
    /* Built by the machine. */
    MemoryRegion *ram;          /* all guest RAM (one block) */
    uint64_t below_4g_mem_size, above_4g_mem_size;
    qemu_irq gsi[24];           /* interrupt controller inputs */
    FWCfgState *fw_cfg;
    void *boot_state;           /* machine-private boot data (for reset) */
};

extern MachineState *current_machine;

#endif

/*
 * Booting without firmware: e820, the kernel loaders (Linux bzImage,
 * PVH ELF, Multiboot v1), ACPI and MP tables, and the vCPU entry state.
 *
 * The parsers take a byte buffer and never trust it: every offset and size
 * read from an image is checked against the buffer and against guest RAM
 * before use, so a truncated or hostile file gives an Error, not a crash.
 */
#ifndef KVMPC_HW_I386_BOOT_H
#define KVMPC_HW_I386_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "qemu/error.h"
#include "hw/memory.h"
#include "hw/machine.h"
#include "accel/cpu.h"

#define E820_RAM        1
#define E820_RESERVED   2
#define E820_ACPI       3
#define E820_NVS        4
#define E820_UNUSABLE   5

#define E820_MAX_ENTRIES 128

typedef struct __attribute__((packed)) E820Entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
} E820Entry;

typedef struct E820Table {
    E820Entry entry[E820_MAX_ENTRIES];
    unsigned nr;
} E820Table;

/* Adds a range; fails when the table is full. */
bool e820_add(E820Table *t, uint64_t addr, uint64_t size, uint32_t type);
/* The PC layout: RAM 0..0x9fc00, reserved 0x9fc00..0x100000 (EBDA, VGA,
 * BIOS area, our ACPI/MP tables), RAM 1 MiB..below_4g, RAM 4 GiB..+above. */
void pc_build_e820(E820Table *t, uint64_t below_4g, uint64_t above_4g);

/* How the boot vCPU starts. */
typedef enum BootCPUMode {
    BOOT_CPU_FLAT32,    /* protected mode, flat segments, paging off */
    BOOT_CPU_LONG64,    /* long mode, identity-mapped page tables at cr3 */
} BootCPUMode;

typedef struct BootCPUSetup {
    BootCPUMode mode;
    uint64_t rip;
    uint64_t regs[CPU_NB_REGS];     /* initial general registers (eax, ebx, esi...) */
    uint64_t cr3;                   /* BOOT_CPU_LONG64 */
    uint64_t gdt_base;              /* a flat GDT the loader placed in RAM */
    uint16_t gdt_limit;
} BootCPUSetup;

typedef enum KernelFormat {
    KERNEL_FORMAT_UNKNOWN,
    KERNEL_FORMAT_LINUX,        /* bzImage (boot protocol >= 2.06) */
    KERNEL_FORMAT_PVH,          /* ELF with XEN_ELFNOTE_PHYS32_ENTRY */
    KERNEL_FORMAT_MULTIBOOT,    /* multiboot v1 header in the first 8 KiB */
} KernelFormat;

/* Parsed Linux setup header (the parts we use). */
typedef struct LinuxKernelInfo {
    uint16_t protocol;          /* e.g. 0x020f */
    uint8_t setup_sects;
    size_t setup_size;          /* (setup_sects + 1) * 512 */
    size_t payload_offset;      /* = setup_size: the protected-mode kernel */
    size_t payload_size;
    uint32_t code32_start;
    uint32_t initrd_addr_max;
    uint32_t cmdline_size;      /* max cmdline length */
    uint16_t xloadflags;
    uint8_t loadflags;
    bool relocatable;
    uint32_t kernel_alignment;
    uint64_t pref_address;
    uint32_t init_size;
} LinuxKernelInfo;

typedef struct MultibootInfo {
    uint32_t flags;
    uint32_t header_offset;     /* in the file */
    bool aout_kludge;           /* flags bit 16: use the address fields */
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
} MultibootInfo;

KernelFormat kernel_detect_format(const uint8_t *img, size_t size);
bool linux_parse_header(const uint8_t *img, size_t size, LinuxKernelInfo *info, Error **errp);
bool multiboot_parse_header(const uint8_t *img, size_t size, MultibootInfo *info, Error **errp);
/* PVH entry point from the ELF note; fails if the ELF is malformed. */
bool pvh_find_entry(const uint8_t *img, size_t size, uint32_t *entry, Error **errp);

/* Everything a loader needs: where to write and what the machine is. */
typedef struct BootParams {
    AddressSpace *as;
    uint64_t below_4g, above_4g;        /* RAM sizes */
    const E820Table *e820;
    const char *kernel_filename;        /* -kernel as given (multiboot's argv[0]);
                                           NULL: x86_load_kernel's filename */
    const char *cmdline;                /* never NULL ("" if none) */
    const char *initrd_filenames;       /* NULL, one file, or "a args,b" (multiboot;
                                           ",," is a comma in a name, as QEMU) */
    uint64_t rsdp_addr;                 /* 0 if no ACPI */
    unsigned ncpus;
    bool pvh_fast_path;                 /* bzImage: try linux_load_pvh first */
} BootParams;

/* Load and prepare the entry state.  img/size is the kernel file. */
bool linux_load(const BootParams *bp, const uint8_t *img, size_t size,
                BootCPUSetup *cpu, Error **errp);
bool pvh_load(const BootParams *bp, const uint8_t *img, size_t size,
              BootCPUSetup *cpu, Error **errp);
bool multiboot_load(const BootParams *bp, const uint8_t *img, size_t size,
                    BootCPUSetup *cpu, Error **errp);

/* The PVH fast path for a bzImage (hw/i386/bzimage-pvh.c). */
#define BZIMAGE_PVH_MAX (512ULL << 20)  /* bound on the decompressed vmlinux */
/* Decompresses the payload (protocol 2.08+, xz or gzip) into a new buffer
 * of at most max bytes; NULL with an error if anything does not fit. */
uint8_t *linux_decompress_payload(const uint8_t *img, size_t size, uint64_t max,
                                  size_t *out_size, Error **errp);
/* Boots the bzImage's decompressed vmlinux through pvh_load (bounded by
 * MIN(BZIMAGE_PVH_MAX, guest RAM)).  Fails, saying why, when it does not
 * apply: the caller then uses linux_load (guest memory may have been
 * partly written; linux_load rewrites what it needs). */
bool linux_load_pvh(const BootParams *bp, const uint8_t *img, size_t size,
                    BootCPUSetup *cpu, Error **errp);
/* Reads the file, detects the format, dispatches. */
bool x86_load_kernel(const BootParams *bp, const char *filename, BootCPUSetup *cpu, Error **errp);

/* Tables in the reserved BIOS area (0xe0000-0xfffff). */
#define ACPI_TABLES_BASE    0xe0000
#define ACPI_TABLES_SIZE    0x10000
#define MPTABLE_BASE        0xf0000
#define MPTABLE_SIZE        0x1000

/* ACPI: RSDP (in the BIOS area, found by scanning), XSDT/RSDT, FADT, MADT
 * and DSDT from what the devices described (platform_desc_collect) and the
 * machine's CPUs.  Returns the RSDP address. */
typedef struct PlatformDesc PlatformDesc;
bool acpi_build_tables(AddressSpace *as, const PlatformDesc *pd, uint64_t *rsdp_addr,
                       Error **errp);
/* The same tables for firmware (SeaBIOS): fw_cfg files "etc/acpi/rsdp",
 * "etc/acpi/tables" and QEMU's "etc/table-loader" script. */
bool acpi_build_fw_cfg(FWCfgState *s, const PlatformDesc *pd, Error **errp);
/* The MP table (MPS 1.4) at MPTABLE_BASE: processors, the ISA bus, the
 * IOAPICs and an interrupt entry per ISA IRQ (after the overrides). */
bool mptable_build(AddressSpace *as, const PlatformDesc *pd, Error **errp);

/* Put a BootCPUSetup into a vCPU's state. */
void boot_cpu_apply(const BootCPUSetup *setup, X86CPUState *env);

#endif

/*
 * What the machine's devices say about themselves, collected for the
 * table builders (ACPI FADT/MADT/DSDT, the MP table) and for fw_cfg.
 *
 * The builders read a PlatformDesc and never name a device: a device
 * class's `describe` hook fills in its part (the ACPI PM device its PM
 * blocks and SCI, the reset control its reset register, the i8042 the
 * "8042 present" flag and its DSDT nodes, the interrupt controllers their
 * MADT entries), and the claims each device recorded (I/O ports, IRQs)
 * give the _CRS of its node and the interrupt source overrides of
 * level-triggered ISA IRQs.  The machine adds the CPUs.
 */
#ifndef KVMPC_HW_PLATFORM_DESC_H
#define KVMPC_HW_PLATFORM_DESC_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include "hw/qdev.h"

#define PLATFORM_MAX_CPUS       255
#define PLATFORM_MAX_IOAPICS    8

/* FADT IAPC_BOOT_ARCH flags (ACPI 6.4, table 5.11). */
#define PLATFORM_IAPC_LEGACY_DEVICES    (1u << 0)
#define PLATFORM_IAPC_8042              (1u << 1)

/* MPS INTI flags (polarity bits 1:0, trigger bits 3:2), as in the MADT's
 * interrupt source override and the MP table's interrupt entries. */
#define MPS_INTI_CONFORMS       0x0
#define MPS_INTI_ACTIVE_HIGH    0x1
#define MPS_INTI_ACTIVE_LOW     0x3
#define MPS_INTI_EDGE           (0x1 << 2)
#define MPS_INTI_LEVEL          (0x3 << 2)

typedef struct PlatformIOAPIC {
    uint8_t id;
    uint32_t addr;
    uint32_t gsi_base;
} PlatformIOAPIC;

typedef struct PlatformOverride {
    uint8_t isa_irq;
    uint32_t gsi;
    uint16_t flags;             /* MPS_INTI_* */
} PlatformOverride;

typedef struct PlatformFile {
    char *name;                 /* fw_cfg file name */
    GByteArray *data;
} PlatformFile;

typedef struct PlatformBootEntry {
    int32_t bootindex;
    char *path;                 /* OpenFirmware device path, as SeaBIOS reads it */
} PlatformBootEntry;

struct PlatformDesc {
    /* CPUs (from the machine). */
    unsigned ncpus;
    uint32_t apic_ids[PLATFORM_MAX_CPUS];

    /* FADT: the ACPI PM block, the SCI and the reset register. */
    bool has_pm;
    uint16_t pm1_evt_blk, pm1_cnt_blk, pm_tmr_blk;  /* I/O ports */
    uint16_t sci_irq;
    bool has_reset_reg;
    uint16_t reset_port;
    uint8_t reset_value;
    uint16_t iapc_boot_arch;    /* PLATFORM_IAPC_* */

    /* The HPET table (IA-PC HPET 1.0a, 3.2.4): one event timer block. */
    bool has_hpet;
    uint64_t hpet_addr;
    uint32_t hpet_block_id;     /* its GCAP_ID bits 31:0 */

    /* Interrupt controllers (MADT, MP table). */
    bool pcat_compat;           /* a dual 8259 is present */
    unsigned nr_ioapics;
    PlatformIOAPIC ioapics[PLATFORM_MAX_IOAPICS];
    unsigned nr_overrides;
    PlatformOverride overrides[16];

    /* DSDT: AML at the namespace root and inside \_SB. */
    GByteArray *aml_root;
    GByteArray *aml_sb;

    /* fw_cfg files and boot order entries. */
    GPtrArray *files;           /* PlatformFile* */
    GArray *boot;               /* PlatformBootEntry */
    bool boot_strict;           /* -boot strict=on: "HALT" ends the boot order */
};

void platform_desc_init(PlatformDesc *pd);
void platform_desc_free(PlatformDesc *pd);
/* Asks every realized device to describe itself, then derives the
 * interrupt source overrides of level-triggered ISA IRQs from the claims. */
void platform_desc_collect(PlatformDesc *pd);

/* For describe hooks. */
void platform_add_ioapic(PlatformDesc *pd, uint8_t id, uint32_t addr, uint32_t gsi_base);
/* An ISA IRQ that does not arrive on the IOAPIC pin of the same number, or
 * not with the ISA default (edge, active high).  A later one for the same
 * IRQ replaces the earlier. */
void platform_add_override(PlatformDesc *pd, uint8_t isa_irq, uint32_t gsi, uint16_t flags);
void platform_add_file(PlatformDesc *pd, const char *name, const void *data, size_t len);
void platform_add_boot_entry(PlatformDesc *pd, int32_t bootindex, const char *path);
/* The "bootorder" file SeaBIOS reads: paths sorted by bootindex, separated
 * by newlines, no newline after the last (as QEMU writes it; the fw_cfg
 * file adds the terminating NUL).  With boot_strict a last line "HALT"
 * tells SeaBIOS not to try the devices left out (as QEMU, even when no
 * device has a boot index).  NULL when there is nothing to say. */
char *platform_bootorder(const PlatformDesc *pd);
/* The ISA IRQ -> GSI mapping the overrides say (identity otherwise). */
uint32_t platform_isa_irq_to_gsi(const PlatformDesc *pd, uint8_t isa_irq, uint16_t *flags);

#endif

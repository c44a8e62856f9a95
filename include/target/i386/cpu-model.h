/*
 * The x86 CPU model: named models (qemu64, max, host, Skylake-Client,
 * EPYC), feature flags with QEMU's names, the -cpu option string, the
 * topology (sockets/dies/cores/threads -> APIC IDs) and the guest CPUID
 * table built from all of that.
 *
 * One module for every accelerator.  An accelerator only says what it can
 * run, as a "supported CPUID" table in the same format as the guest table
 * (KVM: KVM_GET_SUPPORTED_CPUID; tcg-lite: its own table), and the model is
 * filtered by it: bits the accelerator cannot do are dropped with a
 * warning naming them, or refused with `enforce`.
 *
 * Life of a model:
 *   x86_cpu_model_parse("qemu64,+x2apic,vendor=GenuineIntel", &m, errp)
 *   x86_cpu_model_realize(m, &accel_caps, warnings, errp)   (filter)
 *   x86_cpu_build_cpuid(m, &topo, apic_id, &table)          (per vCPU)
 */
#ifndef KVMPC_TARGET_I386_CPU_MODEL_H
#define KVMPC_TARGET_I386_CPU_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include "qemu/error.h"

/* ---- CPUID tables ------------------------------------------------------ */

/* The index (ECX) selects a sub-leaf: KVM_CPUID_FLAG_SIGNIFICANT_INDEX. */
#define CPUID_FLAG_SIGNIFICANT_INDEX 1u

typedef struct CPUIDEntry {
    uint32_t function, index, flags;
    uint32_t eax, ebx, ecx, edx;
} CPUIDEntry;

typedef struct CPUIDTable {
    unsigned nent, cap;
    CPUIDEntry *entries;
} CPUIDTable;

void cpuid_table_init(CPUIDTable *t);
void cpuid_table_free(CPUIDTable *t);
/* Appends (or replaces) the entry for function/index. */
CPUIDEntry *cpuid_table_set(CPUIDTable *t, uint32_t function, uint32_t index, uint32_t flags,
                            uint32_t eax, uint32_t ebx, uint32_t ecx, uint32_t edx);
/* The entry for function/index, or NULL. */
const CPUIDEntry *cpuid_table_find(const CPUIDTable *t, uint32_t function, uint32_t index);

/* CPUID register numbers used by feature words and lookups. */
enum { CPUID_EAX, CPUID_EBX, CPUID_ECX, CPUID_EDX };

/* ---- feature words -------------------------------------------------------- */

typedef enum FeatureWord {
    FEAT_1_EDX,
    FEAT_1_ECX,
    FEAT_6_EAX,
    FEAT_7_0_EBX,
    FEAT_7_0_ECX,
    FEAT_7_0_EDX,
    FEAT_7_1_EAX,
    FEAT_XSAVE,             /* 0xd.1 EAX */
    FEAT_8000_0001_EDX,
    FEAT_8000_0001_ECX,
    FEAT_8000_0007_EDX,
    FEAT_8000_0008_EBX,
    FEAT_SVM,               /* 0x8000000a EDX */
    FEAT_KVM,               /* 0x40000001 EAX */
    FEATURE_WORDS
} FeatureWord;

typedef struct FeatureWordInfo {
    uint32_t function, index;
    int reg;                        /* CPUID_EAX.. */
    const char *names[32];          /* QEMU's names; NULL: no name */
} FeatureWordInfo;

extern const FeatureWordInfo feature_word_info[FEATURE_WORDS];

/* Looks a feature name up (QEMU's spelling or an alias, '_' == '-'):
 * false if unknown, else sets its word and mask ("kvmclock" is two bits). */
bool x86_feature_lookup(const char *name, FeatureWord *w, uint32_t *mask);
/* "CPUID.01H:ECX.x2apic [bit 21]" for a warning. */
char *x86_feature_describe(FeatureWord w, int bit);

/* Bits of leaf 1 and the KVM leaf that other code names. */
#define CPUID_1_ECX_X2APIC          (1u << 21)
#define CPUID_1_ECX_TSC_DEADLINE    (1u << 24)
#define CPUID_1_ECX_HYPERVISOR      (1u << 31)
#define CPUID_1_EDX_HTT             (1u << 28)
#define KVM_FEATURE_BIT_CLOCKSOURCE     (1u << 0)
#define KVM_FEATURE_BIT_CLOCKSOURCE2    (1u << 3)
#define KVM_FEATURE_BIT_POLL_CONTROL    (1u << 12)

/* ---- the model ------------------------------------------------------------ */

typedef struct X86CPUCache {
    uint8_t level, type;            /* type: 1 data, 2 instruction, 3 unified */
    uint32_t size, line_size, associativity, sets, partitions, lines_per_tag;
    bool self_init, no_invd_sharing, inclusive, complex_indexing;
    bool share_die;                 /* shared by the die (else by the core) */
    uint8_t desc2;                  /* leaf 2 descriptor byte (0xff: none) */
} X86CPUCache;

typedef struct X86CPUCaches {
    const X86CPUCache *l1d, *l1i, *l2, *l3;
} X86CPUCaches;

/* QEMU's default caches (leaves 2/4, and 0x80000005/6 on AMD). */
extern const X86CPUCaches x86_legacy_caches, x86_legacy_caches_amd;

typedef struct X86CPUDef {
    const char *name;
    const char *desc;
    uint32_t level, xlevel;
    const char *vendor;             /* 12 characters */
    int family, model, stepping;
    const char *model_id;
    uint32_t features[FEATURE_WORDS];
    const X86CPUCaches *caches;     /* NULL: the legacy (QEMU default) caches */
    bool max;                       /* everything the accelerator supports */
    bool host;                      /* max, and only where the host is the CPU (KVM) */
} X86CPUDef;

typedef struct X86CPUModel {
    const X86CPUDef *def;
    char *spec;                     /* the -cpu string as given */
    char vendor[13];
    int family, model, stepping;
    char model_id[49];
    uint32_t level, xlevel;         /* 0: from the model (and raised to fit) */
    bool level_set, xlevel_set;
    uint32_t features[FEATURE_WORDS];
    /* Bits the user turned on or off explicitly (+f, -f, f=on|off). */
    uint32_t user_on[FEATURE_WORDS], user_off[FEATURE_WORDS];
    unsigned phys_bits;             /* 0: default */
    bool host_phys_bits, host_phys_bits_set;
    bool expose_kvm;                /* kvm=on|off: the 0x40000000 leaves */
    bool pmu, pmu_set;
    bool enforce;                   /* missing features are an error */
    bool check;                     /* missing features are warned about */
    bool vendor_set, family_set, model_set, stepping_set, model_id_set;
    /* After realize. */
    bool realized;
    bool kvm_leaves;                /* advertise 0x40000000/0x40000001 */
    unsigned host_phys_bits_value;
    CPUIDTable accel_leaves;        /* the accelerator's table (0xa, 0xd sizes) */
} X86CPUModel;

/* What the accelerator can run. */
typedef struct X86AccelCaps {
    const char *name;               /* in warnings: "host" (KVM), "TCG" */
    const CPUIDTable *supported;    /* the supported CPUID table */
    bool host_cpu;                  /* -cpu host is possible (KVM) */
    bool kvm_pv;                    /* KVM paravirtual leaves and defaults */
} X86AccelCaps;

const X86CPUDef *x86_cpu_def_find(const char *name);
const X86CPUDef *const *x86_cpu_defs(unsigned *n);

/* Parses "model[,+feat][,-feat][,feat=on|off][,prop=value]...". */
X86CPUModel *x86_cpu_model_parse(const char *spec, Error **errp);
void x86_cpu_model_free(X86CPUModel *m);
/* Does the model need the host CPU (-cpu host)? */
bool x86_cpu_model_needs_host(const X86CPUModel *m);

/* Resolves the model against what the accelerator can run: max/host take
 * every supported bit; other models lose the unsupported bits, each one
 * reported in `warnings` (char *, may be NULL) as QEMU words it, or with
 * enforce=on the first missing one is an error. */
bool x86_cpu_model_realize(X86CPUModel *m, const X86AccelCaps *caps, GPtrArray *warnings,
                           Error **errp);

/* -cpu help */
void x86_cpu_list(GString *out);

/* ---- topology ------------------------------------------------------------- */

typedef struct X86Topology {
    unsigned sockets, dies, cores, threads;     /* per parent level; 0 = 1 */
} X86Topology;

/* Widths and offsets of the APIC ID fields (thread, core, die, package). */
unsigned x86_topo_core_offset(const X86Topology *t);
unsigned x86_topo_die_offset(const X86Topology *t);
unsigned x86_topo_pkg_offset(const X86Topology *t);
/* The APIC ID of the CPU with this index (thread, then core, die, socket). */
uint32_t x86_apic_id_from_index(const X86Topology *t, unsigned index);

/* ---- the guest CPUID table --------------------------------------------- */

/* Builds the CPUID table of the vCPU with this APIC ID (model realized). */
void x86_cpu_build_cpuid(const X86CPUModel *m, const X86Topology *t, uint32_t apic_id,
                         CPUIDTable *out);
/* Convenience for tests: the register values of one leaf (0 if absent). */
void cpuid_table_get(const CPUIDTable *t, uint32_t function, uint32_t index, uint32_t *eax,
                     uint32_t *ebx, uint32_t *ecx, uint32_t *edx);

#endif

/*
 * x86 CPU models: the table of named models, the -cpu option string
 * ("MODEL,+feat,-feat,feat=on|off,prop=value"), and resolving a model
 * against what the accelerator can run (the filter).
 *
 * Model values follow QEMU's builtin_x86_defs (what guests see on QEMU),
 * written here as our own table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "target/i386/cpu-model.h"

#define VENDOR_INTEL "GenuineIntel"
#define VENDOR_AMD   "AuthenticAMD"

/* Leaf 1 EDX groups (bit numbers from the SDM). */
#define F1D(name) (1u << F1D_##name)
enum { F1D_FPU = 0, F1D_VME = 1, F1D_DE = 2, F1D_PSE = 3, F1D_TSC = 4, F1D_MSR = 5, F1D_PAE = 6,
       F1D_MCE = 7, F1D_CX8 = 8, F1D_APIC = 9, F1D_SEP = 11, F1D_MTRR = 12, F1D_PGE = 13,
       F1D_MCA = 14, F1D_CMOV = 15, F1D_PAT = 16, F1D_PSE36 = 17, F1D_CLFLUSH = 19,
       F1D_ACPI = 22, F1D_MMX = 23, F1D_FXSR = 24, F1D_SSE = 25, F1D_SSE2 = 26 };
/* The Pentium Pro set plus what every x86-64 has. */
#define PPRO_FEATURES (F1D(FPU) | F1D(DE) | F1D(PSE) | F1D(TSC) | F1D(MSR) | F1D(MCE) | \
                       F1D(CX8) | F1D(PGE) | F1D(CMOV) | F1D(PAT) | F1D(FXSR) | F1D(MMX) | \
                       F1D(SSE) | F1D(SSE2) | F1D(PAE) | F1D(SEP) | F1D(APIC))
#define X86_64_1_EDX (PPRO_FEATURES | F1D(MTRR) | F1D(CLFLUSH) | F1D(MCA) | F1D(PSE36))

/* Leaf 1 ECX */
#define F1C_SSE3        (1u << 0)
#define F1C_PCLMULQDQ   (1u << 1)
#define F1C_MONITOR     (1u << 3)
#define F1C_SSSE3       (1u << 9)
#define F1C_FMA         (1u << 12)
#define F1C_CX16        (1u << 13)
#define F1C_PCID        (1u << 17)
#define F1C_SSE41       (1u << 19)
#define F1C_SSE42       (1u << 20)
#define F1C_MOVBE       (1u << 22)
#define F1C_POPCNT      (1u << 23)
#define F1C_AES         (1u << 25)
#define F1C_XSAVE       (1u << 26)
#define F1C_AVX         (1u << 28)
#define F1C_F16C        (1u << 29)
#define F1C_RDRAND      (1u << 30)
/* Leaf 7.0 EBX */
#define F7B_FSGSBASE    (1u << 0)
#define F7B_BMI1        (1u << 3)
#define F7B_HLE         (1u << 4)
#define F7B_AVX2        (1u << 5)
#define F7B_SMEP        (1u << 7)
#define F7B_BMI2        (1u << 8)
#define F7B_ERMS        (1u << 9)
#define F7B_INVPCID     (1u << 10)
#define F7B_RTM         (1u << 11)
#define F7B_MPX         (1u << 14)
#define F7B_RDSEED      (1u << 18)
#define F7B_ADX         (1u << 19)
#define F7B_SMAP        (1u << 20)
#define F7B_CLFLUSHOPT  (1u << 23)
#define F7B_SHA_NI      (1u << 29)
/* 0xd.1 EAX */
#define FXS_XSAVEOPT    (1u << 0)
#define FXS_XSAVEC      (1u << 1)
#define FXS_XGETBV1     (1u << 2)
/* 0x80000001 EDX / ECX */
#define FE2_SYSCALL     (1u << 11)
#define FE2_NX          (1u << 20)
#define FE2_MMXEXT      (1u << 22)
#define FE2_FFXSR       (1u << 25)
#define FE2_PDPE1GB     (1u << 26)
#define FE2_RDTSCP      (1u << 27)
#define FE2_LM          (1u << 29)
#define FE3_LAHF_LM     (1u << 0)
#define FE3_SVM         (1u << 2)
#define FE3_CR8LEG      (1u << 4)
#define FE3_ABM         (1u << 5)
#define FE3_SSE4A       (1u << 6)
#define FE3_MISALIGNSSE (1u << 7)
#define FE3_3DNOWPREFETCH (1u << 8)
#define FE3_OSVW        (1u << 9)
#define FE3_TOPOEXT     (1u << 22)
/* 0x8000000a EDX */
#define FSVM_NPT        (1u << 0)
#define FSVM_NRIPSAVE   (1u << 3)
/* 0x80000007 EDX */
#define FAPM_INVTSC     (1u << 8)
/* 0x40000001 EAX: QEMU's defaults for a KVM guest. */
#define KVM_PV_DEFAULTS (KVM_FEATURE_BIT_CLOCKSOURCE | (1u << 1) /* nopiodelay */ | \
                         KVM_FEATURE_BIT_CLOCKSOURCE2 | (1u << 4) /* asyncpf */ | \
                         (1u << 5) /* steal-time */ | (1u << 6) /* pv-eoi */ | \
                         (1u << 14) /* asyncpf-int */ | (1u << 24) /* stable bit */)
#define F6A_ARAT        (1u << 2)

/* ---- caches ------------------------------------------------------------- */

/* QEMU's "legacy" caches, for models that declare none (leaf 2 descriptors
 * 0x2c, 0x30, 0x7d, 0x4d; the leaf 2 L2 says 2 MiB where leaf 4 says 4 MiB,
 * as on QEMU). */
static const X86CPUCache legacy_l1d = {
    .level = 1, .type = 1, .size = 32 * 1024, .line_size = 64, .associativity = 8, .sets = 64,
    .partitions = 1, .self_init = true, .no_invd_sharing = true, .desc2 = 0x2c };
static const X86CPUCache legacy_l1i = {
    .level = 1, .type = 2, .size = 32 * 1024, .line_size = 64, .associativity = 8, .sets = 64,
    .partitions = 1, .self_init = true, .no_invd_sharing = true, .desc2 = 0x30 };
static const X86CPUCache legacy_l2 = {
    .level = 2, .type = 3, .size = 4 * 1024 * 1024, .line_size = 64, .associativity = 16,
    .sets = 4096, .partitions = 1, .self_init = true, .no_invd_sharing = true, .desc2 = 0x7d };
static const X86CPUCache legacy_l3 = {
    .level = 3, .type = 3, .size = 16 * 1024 * 1024, .line_size = 64, .associativity = 16,
    .sets = 16384, .partitions = 1, .lines_per_tag = 1, .self_init = true, .inclusive = true,
    .complex_indexing = true, .share_die = true, .desc2 = 0x4d };
/* The AMD leaves 0x80000005/6 of the legacy caches. */
static const X86CPUCache legacy_l1d_amd = {
    .level = 1, .type = 1, .size = 64 * 1024, .line_size = 64, .associativity = 2, .sets = 512,
    .partitions = 1, .lines_per_tag = 1, .self_init = true, .no_invd_sharing = true,
    .desc2 = 0xff };
static const X86CPUCache legacy_l1i_amd = {
    .level = 1, .type = 2, .size = 64 * 1024, .line_size = 64, .associativity = 2, .sets = 512,
    .partitions = 1, .lines_per_tag = 1, .self_init = true, .no_invd_sharing = true,
    .desc2 = 0xff };
static const X86CPUCache legacy_l2_amd = {
    .level = 2, .type = 3, .size = 512 * 1024, .line_size = 64, .associativity = 16, .sets = 512,
    .partitions = 1, .lines_per_tag = 1, .desc2 = 0xff };

const X86CPUCaches x86_legacy_caches = { &legacy_l1d, &legacy_l1i, &legacy_l2, &legacy_l3 };
const X86CPUCaches x86_legacy_caches_amd = { &legacy_l1d_amd, &legacy_l1i_amd, &legacy_l2_amd,
                                             &legacy_l3 };

/* EPYC (Zen 1): 32K 8-way L1d, 64K 4-way L1i, 512K 8-way L2 per core, 8M
 * 16-way L3 per CCX (die). */
static const X86CPUCache epyc_l1d = {
    .level = 1, .type = 1, .size = 32 * 1024, .line_size = 64, .associativity = 8, .sets = 64,
    .partitions = 1, .lines_per_tag = 1, .self_init = true, .no_invd_sharing = true,
    .desc2 = 0xff };
static const X86CPUCache epyc_l1i = {
    .level = 1, .type = 2, .size = 64 * 1024, .line_size = 64, .associativity = 4, .sets = 256,
    .partitions = 1, .lines_per_tag = 1, .self_init = true, .no_invd_sharing = true,
    .desc2 = 0xff };
static const X86CPUCache epyc_l2 = {
    .level = 2, .type = 3, .size = 512 * 1024, .line_size = 64, .associativity = 8, .sets = 1024,
    .partitions = 1, .lines_per_tag = 1, .desc2 = 0xff };
static const X86CPUCache epyc_l3 = {
    .level = 3, .type = 3, .size = 8 * 1024 * 1024, .line_size = 64, .associativity = 16,
    .sets = 8192, .partitions = 1, .lines_per_tag = 1, .self_init = true, .inclusive = true,
    .complex_indexing = true, .share_die = true, .desc2 = 0xff };
static const X86CPUCaches epyc_caches = { &epyc_l1d, &epyc_l1i, &epyc_l2, &epyc_l3 };

/* ---- the models --------------------------------------------------------- */

#define QEMU_MODEL_ID "QEMU Virtual CPU version 2.5+"

static const X86CPUDef def_qemu64 = {
    .name = "qemu64",
    .desc = "QEMU Virtual CPU version 2.5+ (default)",
    .level = 0xd, .xlevel = 0x8000000a,
    .vendor = VENDOR_AMD, .family = 15, .model = 107, .stepping = 1,
    .model_id = QEMU_MODEL_ID,
    .features = {
        [FEAT_1_EDX] = X86_64_1_EDX,
        [FEAT_1_ECX] = F1C_SSE3 | F1C_CX16,
        [FEAT_8000_0001_EDX] = FE2_LM | FE2_SYSCALL | FE2_NX,
        [FEAT_8000_0001_ECX] = FE3_LAHF_LM | FE3_SVM,
    },
};

static const X86CPUDef def_kvm64 = {
    .name = "kvm64",
    .desc = "Common KVM processor",
    .level = 0xd, .xlevel = 0x80000008,
    .vendor = VENDOR_INTEL, .family = 15, .model = 6, .stepping = 1,
    .model_id = "Common KVM processor",
    .features = {
        [FEAT_1_EDX] = X86_64_1_EDX | F1D(VME),
        [FEAT_1_ECX] = F1C_SSE3 | F1C_CX16,
        [FEAT_8000_0001_EDX] = FE2_LM | FE2_SYSCALL | FE2_NX,
    },
};

static const X86CPUDef def_skylake_client = {
    .name = "Skylake-Client",
    .desc = "Intel Core Processor (Skylake)",
    .level = 0xd, .xlevel = 0x80000008,
    .vendor = VENDOR_INTEL, .family = 6, .model = 94, .stepping = 3,
    .model_id = "Intel Core Processor (Skylake)",
    .features = {
        [FEAT_1_EDX] = X86_64_1_EDX | F1D(VME),
        [FEAT_1_ECX] = F1C_AVX | F1C_XSAVE | F1C_AES | F1C_POPCNT | CPUID_1_ECX_X2APIC |
                       F1C_SSE42 | F1C_SSE41 | F1C_CX16 | F1C_SSSE3 | F1C_PCLMULQDQ |
                       F1C_SSE3 | CPUID_1_ECX_TSC_DEADLINE | F1C_FMA | F1C_MOVBE | F1C_PCID |
                       F1C_F16C | F1C_RDRAND,
        [FEAT_8000_0001_EDX] = FE2_LM | FE2_RDTSCP | FE2_NX | FE2_SYSCALL,
        [FEAT_8000_0001_ECX] = FE3_ABM | FE3_LAHF_LM | FE3_3DNOWPREFETCH,
        [FEAT_7_0_EBX] = F7B_FSGSBASE | F7B_BMI1 | F7B_HLE | F7B_AVX2 | F7B_SMEP | F7B_BMI2 |
                         F7B_ERMS | F7B_INVPCID | F7B_RTM | F7B_RDSEED | F7B_ADX | F7B_SMAP |
                         F7B_MPX,
        [FEAT_XSAVE] = FXS_XSAVEOPT | FXS_XSAVEC | FXS_XGETBV1,
        [FEAT_6_EAX] = F6A_ARAT,
    },
};

static const X86CPUDef def_epyc = {
    .name = "EPYC",
    .desc = "AMD EPYC Processor",
    .level = 0xd, .xlevel = 0x8000001e,
    .vendor = VENDOR_AMD, .family = 23, .model = 1, .stepping = 2,
    .model_id = "AMD EPYC Processor",
    .features = {
        [FEAT_1_EDX] = X86_64_1_EDX | F1D(VME),
        [FEAT_1_ECX] = F1C_RDRAND | F1C_F16C | F1C_AVX | F1C_XSAVE | F1C_AES | F1C_POPCNT |
                       F1C_MOVBE | F1C_SSE42 | F1C_SSE41 | F1C_CX16 | F1C_FMA | F1C_SSSE3 |
                       F1C_MONITOR | F1C_PCLMULQDQ | F1C_SSE3,
        [FEAT_8000_0001_EDX] = FE2_LM | FE2_RDTSCP | FE2_PDPE1GB | FE2_FFXSR | FE2_MMXEXT |
                               FE2_NX | FE2_SYSCALL,
        [FEAT_8000_0001_ECX] = FE3_OSVW | FE3_3DNOWPREFETCH | FE3_MISALIGNSSE | FE3_SSE4A |
                               FE3_ABM | FE3_CR8LEG | FE3_SVM | FE3_LAHF_LM | FE3_TOPOEXT,
        [FEAT_7_0_EBX] = F7B_FSGSBASE | F7B_BMI1 | F7B_AVX2 | F7B_SMEP | F7B_BMI2 |
                         F7B_RDSEED | F7B_ADX | F7B_SMAP | F7B_CLFLUSHOPT | F7B_SHA_NI,
        [FEAT_XSAVE] = FXS_XSAVEOPT | FXS_XSAVEC | FXS_XGETBV1,
        [FEAT_6_EAX] = F6A_ARAT,
        [FEAT_SVM] = FSVM_NPT | FSVM_NRIPSAVE,
    },
    .caches = &epyc_caches,
};

/* Without a host CPU behind it (tcg-lite), "max" is QEMU's TCG max CPU. */
static const X86CPUDef def_max = {
    .name = "max",
    .desc = "Enables all features supported by the accelerator in the current host",
    .level = 0xd, .xlevel = 0x8000000a,
    .vendor = VENDOR_AMD, .family = 6, .model = 6, .stepping = 3,
    .model_id = "QEMU TCG CPU version 2.5+",
    .max = true,
};

static const X86CPUDef def_host = {
    .name = "host",
    .desc = "KVM processor with all supported host features (only available in KVM mode)",
    .level = 0xd, .xlevel = 0x8000000a,
    .vendor = VENDOR_AMD, .family = 6, .model = 6, .stepping = 3,
    .model_id = "",
    .max = true, .host = true,
};

static const X86CPUDef *const x86_cpu_def_table[] = {
    &def_qemu64, &def_kvm64, &def_skylake_client, &def_epyc, &def_max, &def_host,
};

const X86CPUDef *const *x86_cpu_defs(unsigned *n)
{
    *n = G_N_ELEMENTS(x86_cpu_def_table);
    return x86_cpu_def_table;
}

const X86CPUDef *x86_cpu_def_find(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(x86_cpu_def_table); i++) {
        if (!g_ascii_strcasecmp(name, x86_cpu_def_table[i]->name)) {
            return x86_cpu_def_table[i];
        }
    }
    /* QEMU's versioned name of the first version. */
    if (g_str_has_suffix(name, "-v1")) {
        g_autofree char *base = g_strndup(name, strlen(name) - 3);
        for (size_t i = 0; i < G_N_ELEMENTS(x86_cpu_def_table); i++) {
            if (!x86_cpu_def_table[i]->max &&
                !g_ascii_strcasecmp(base, x86_cpu_def_table[i]->name)) {
                return x86_cpu_def_table[i];
            }
        }
    }
    return NULL;
}

/* ---- parsing ------------------------------------------------------------ */

static bool parse_bool(const char *name, const char *val, bool *out, Error **errp)
{
    if (!strcmp(val, "on") || !strcmp(val, "yes") || !strcmp(val, "true")) {
        *out = true;
    } else if (!strcmp(val, "off") || !strcmp(val, "no") || !strcmp(val, "false")) {
        *out = false;
    } else {
        error_setg(errp, "invalid value '%s' for '%s' (on or off)", val, name);
        return false;
    }
    return true;
}

static bool parse_uint(const char *name, const char *val, uint64_t min, uint64_t max,
                       uint64_t *out, Error **errp)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(val, &end, 0);
    if (!*val || *end || errno || val[0] == '-') {
        error_setg(errp, "invalid value '%s' for '%s' (not a number)", val, name);
        return false;
    }
    if (v < min || v > max) {
        error_setg(errp, "invalid value '%s' for '%s' (from %" G_GUINT64_FORMAT " to %"
                   G_GUINT64_FORMAT ")", val, name, min, max);
        return false;
    }
    *out = v;
    return true;
}

/* Properties other than feature flags; false with errp set on a bad value,
 * false without errp when the name is no property. */
static bool parse_property(X86CPUModel *m, const char *name, const char *val, bool *known,
                           Error **errp)
{
    uint64_t v;

    *known = true;
    if (!strcmp(name, "vendor")) {
        if (strlen(val) != 12) {
            error_setg(errp, "invalid value '%s' for 'vendor' (12 characters)", val);
            return false;
        }
        memcpy(m->vendor, val, 13);
        m->vendor_set = true;
    } else if (!strcmp(name, "family")) {
        if (!parse_uint(name, val, 0, 0xff + 0xf, &v, errp)) {
            return false;
        }
        m->family = v;
        m->family_set = true;
    } else if (!strcmp(name, "model")) {
        if (!parse_uint(name, val, 0, 0xff, &v, errp)) {
            return false;
        }
        m->model = v;
        m->model_set = true;
    } else if (!strcmp(name, "stepping")) {
        if (!parse_uint(name, val, 0, 0xf, &v, errp)) {
            return false;
        }
        m->stepping = v;
        m->stepping_set = true;
    } else if (!strcmp(name, "model-id")) {
        g_strlcpy(m->model_id, val, sizeof(m->model_id));
        m->model_id_set = true;
    } else if (!strcmp(name, "level")) {
        if (!parse_uint(name, val, 0, 0xffffffffu, &v, errp)) {
            return false;
        }
        m->level = v;
        m->level_set = true;
    } else if (!strcmp(name, "xlevel")) {
        if (!parse_uint(name, val, 0, 0xffffffffu, &v, errp)) {
            return false;
        }
        /* As QEMU: a value below the extended range means the range base. */
        m->xlevel = v < 0x80000000u ? (v ? v + 0x80000000u : 0) : v;
        m->xlevel_set = true;
    } else if (!strcmp(name, "phys-bits")) {
        if (!parse_uint(name, val, 0, 0xff, &v, errp)) {
            return false;
        }
        m->phys_bits = v;
    } else if (!strcmp(name, "host-phys-bits")) {
        m->host_phys_bits_set = true;
        return parse_bool(name, val, &m->host_phys_bits, errp);
    } else if (!strcmp(name, "kvm")) {
        return parse_bool(name, val, &m->expose_kvm, errp);
    } else if (!strcmp(name, "pmu")) {
        m->pmu_set = true;
        return parse_bool(name, val, &m->pmu, errp);
    } else if (!strcmp(name, "enforce")) {
        return parse_bool(name, val, &m->enforce, errp);
    } else if (!strcmp(name, "check")) {
        return parse_bool(name, val, &m->check, errp);
    } else if (g_str_has_prefix(name, "hv-") || g_str_has_prefix(name, "hv_")) {
        error_setg(errp, "'%s': Hyper-V enlightenments (hv-*) are not supported", name);
        return false;
    } else {
        *known = false;
        return false;
    }
    return true;
}

static void apply_user_features(X86CPUModel *m, uint32_t *features)
{
    for (int w = 0; w < FEATURE_WORDS; w++) {
        features[w] = (features[w] | m->user_on[w]) & ~m->user_off[w];
    }
}

X86CPUModel *x86_cpu_model_parse(const char *spec, Error **errp)
{
    g_auto(GStrv) parts = NULL;
    X86CPUModel *m;
    const X86CPUDef *def;
    uint32_t plus[FEATURE_WORDS] = { 0 }, minus[FEATURE_WORDS] = { 0 };

    if (!spec || !*spec) {
        spec = "qemu64";
    }
    parts = g_strsplit(spec, ",", -1);
    def = x86_cpu_def_find(parts[0]);
    if (!def) {
        error_setg(errp, "unable to find CPU model '%s' (use -cpu help)", parts[0]);
        return NULL;
    }
    m = g_new0(X86CPUModel, 1);
    m->def = def;
    m->spec = g_strdup(spec);
    g_strlcpy(m->vendor, def->vendor, sizeof(m->vendor));
    m->family = def->family;
    m->model = def->model;
    m->stepping = def->stepping;
    g_strlcpy(m->model_id, def->model_id, sizeof(m->model_id));
    m->expose_kvm = true;
    m->check = true;
    cpuid_table_init(&m->accel_leaves);

    for (int i = 1; parts[i]; i++) {
        char *p = parts[i];
        FeatureWord w;
        uint32_t mask;

        if (!*p) {
            continue;
        }
        if (p[0] == '+' || p[0] == '-') {
            if (!x86_feature_lookup(p + 1, &w, &mask)) {
                error_setg(errp, "unknown CPU feature '%s'", p + 1);
                goto fail;
            }
            (p[0] == '+' ? plus : minus)[w] |= mask;
            continue;
        }
        char *eq = strchr(p, '=');
        const char *val = eq ? eq + 1 : "on";
        bool known, on;
        if (eq) {
            *eq = '\0';
        }
        if (x86_feature_lookup(p, &w, &mask)) {
            if (!parse_bool(p, val, &on, errp)) {
                goto fail;
            }
            /* feat=on|off: the last one wins, as QEMU's property setters. */
            m->user_on[w] = on ? m->user_on[w] | mask : m->user_on[w] & ~mask;
            m->user_off[w] = on ? m->user_off[w] & ~mask : m->user_off[w] | mask;
            continue;
        }
        Error *local = NULL;
        if (!parse_property(m, p, val, &known, &local)) {
            if (!known) {
                error_setg(errp, eq ? "unknown CPU property '%s'" : "unknown CPU feature '%s'",
                           p);
            } else {
                error_propagate(errp, local);
            }
            goto fail;
        }
    }
    /* QEMU applies every +feat after the feat=on|off settings, then every
     * -feat: "-x2apic" wins over "+x2apic" and over "x2apic=on". */
    for (int w = 0; w < FEATURE_WORDS; w++) {
        m->user_on[w] = (m->user_on[w] | plus[w]) & ~minus[w];
        m->user_off[w] = (m->user_off[w] & ~plus[w]) | minus[w];
    }
    memcpy(m->features, def->features, sizeof(m->features));
    m->features[FEAT_1_ECX] |= CPUID_1_ECX_HYPERVISOR;
    apply_user_features(m, m->features);
    return m;
fail:
    x86_cpu_model_free(m);
    return NULL;
}

void x86_cpu_model_free(X86CPUModel *m)
{
    if (m) {
        cpuid_table_free(&m->accel_leaves);
        g_free(m->spec);
        g_free(m);
    }
}

bool x86_cpu_model_needs_host(const X86CPUModel *m)
{
    return m->def->host;
}

/* ---- realize: the accelerator filter ------------------------------------ */

static uint32_t reg_of(const CPUIDEntry *e, int reg)
{
    if (!e) {
        return 0;
    }
    switch (reg) {
    case CPUID_EAX: return e->eax;
    case CPUID_EBX: return e->ebx;
    case CPUID_ECX: return e->ecx;
    default: return e->edx;
    }
}

static uint32_t supported_word(const X86AccelCaps *caps, FeatureWord w)
{
    const FeatureWordInfo *f = &feature_word_info[w];

    return reg_of(cpuid_table_find(caps->supported, f->function, f->index), f->reg);
}

/* Bits that max/host never turn on by themselves (as QEMU: HTT follows the
 * topology, topoext needs consistent cache leaves, invtsc blocks
 * migration, the MSI extended destination ID needs a split irqchip). */
static const uint32_t no_autoenable[FEATURE_WORDS] = {
    [FEAT_1_EDX] = CPUID_1_EDX_HTT,
    [FEAT_8000_0001_ECX] = FE3_TOPOEXT,
    [FEAT_8000_0007_EDX] = FAPM_INVTSC,
    [FEAT_KVM] = 1u << 15,
};

/* Bits of 0x80000001 EDX that AMD CPUs copy from leaf 1 EDX. */
#define AMD_ALIAS_MASK 0x0183f3ffu

static void host_identity(X86CPUModel *m, const CPUIDTable *sup)
{
    uint32_t eax, ebx, ecx, edx;

    cpuid_table_get(sup, 0, 0, &eax, &ebx, &ecx, &edx);
    if (!m->vendor_set && ebx) {
        memcpy(m->vendor, &ebx, 4);
        memcpy(m->vendor + 4, &edx, 4);
        memcpy(m->vendor + 8, &ecx, 4);
        m->vendor[12] = '\0';
    }
    cpuid_table_get(sup, 1, 0, &eax, NULL, NULL, NULL);
    if (eax) {
        unsigned fam = (eax >> 8) & 0xf;
        if (!m->family_set) {
            m->family = fam == 0xf ? fam + ((eax >> 20) & 0xff) : fam;
        }
        if (!m->model_set) {
            m->model = ((eax >> 4) & 0xf) | ((eax >> 12) & 0xf0);
        }
        if (!m->stepping_set) {
            m->stepping = eax & 0xf;
        }
    }
    if (!m->model_id_set) {
        char id[49] = { 0 };
        for (int i = 0; i < 3; i++) {
            const CPUIDEntry *e = cpuid_table_find(sup, 0x80000002 + i, 0);
            if (e) {
                memcpy(id + 16 * i, &e->eax, 4);
                memcpy(id + 16 * i + 4, &e->ebx, 4);
                memcpy(id + 16 * i + 8, &e->ecx, 4);
                memcpy(id + 16 * i + 12, &e->edx, 4);
            }
        }
        g_strlcpy(m->model_id, g_strstrip(id), sizeof(m->model_id));
    }
}

/* QEMU raises the model's level/xlevel to cover the leaves its features
 * live in. */
static void adjust_levels(X86CPUModel *m, uint32_t *level, uint32_t *xlevel)
{
    for (int w = 0; w < FEATURE_WORDS; w++) {
        uint32_t fn = feature_word_info[w].function;
        if (!m->features[w] || w == FEAT_KVM) {
            continue;
        }
        if (fn < 0x80000000u) {
            *level = MAX(*level, fn);
        } else {
            *xlevel = MAX(*xlevel, fn);
        }
    }
    if (m->features[FEAT_8000_0001_ECX] & FE3_TOPOEXT) {
        *xlevel = MAX(*xlevel, 0x8000001eu);
    }
}

bool x86_cpu_model_realize(X86CPUModel *m, const X86AccelCaps *caps, GPtrArray *warnings,
                           Error **errp)
{
    const X86CPUDef *def = m->def;
    const char *who = caps && caps->name ? caps->name : "accelerator";
    bool filter = caps && caps->supported;
    uint32_t base[FEATURE_WORDS];
    uint32_t level = def->level, xlevel = def->xlevel;

    if (def->host && !(caps && caps->host_cpu)) {
        error_setg(errp, "CPU model '%s' requires KVM", def->name);
        return false;
    }
    memcpy(base, def->features, sizeof(base));
    base[FEAT_1_ECX] |= CPUID_1_ECX_HYPERVISOR;
    if (caps && caps->kvm_pv) {
        /* QEMU's kvm_default_props. */
        base[FEAT_KVM] |= KVM_PV_DEFAULTS;
        base[FEAT_1_ECX] |= CPUID_1_ECX_X2APIC;
        base[FEAT_1_ECX] &= ~F1C_MONITOR;
        base[FEAT_1_EDX] &= ~F1D(ACPI);
        base[FEAT_8000_0001_ECX] &= ~FE3_SVM;
    }
    if (def->max && filter) {
        for (int w = 0; w < FEATURE_WORDS; w++) {
            base[w] = supported_word(caps, w) & ~no_autoenable[w];
        }
        base[FEAT_1_ECX] |= CPUID_1_ECX_HYPERVISOR;
        if (caps->host_cpu) {
            host_identity(m, caps->supported);
        }
        cpuid_table_get(caps->supported, 0, 0, &level, NULL, NULL, NULL);
        cpuid_table_get(caps->supported, 0x80000000, 0, &xlevel, NULL, NULL, NULL);
    } else if (caps && caps->kvm_pv && filter &&
               (supported_word(caps, FEAT_KVM) & KVM_FEATURE_BIT_POLL_CONTROL)) {
        /* QEMU turns halt-poll control on wherever the host has it. */
        base[FEAT_KVM] |= KVM_FEATURE_BIT_POLL_CONTROL;
    }
    apply_user_features(m, base);
    memcpy(m->features, base, sizeof(base));

    if (filter) {
        for (int w = 0; w < FEATURE_WORDS; w++) {
            uint32_t sup = supported_word(caps, w);
            uint32_t missing;
            if (w == FEAT_8000_0001_EDX) {
                sup |= AMD_ALIAS_MASK;      /* derived from leaf 1 below */
            }
            missing = m->features[w] & ~sup;
            for (int bit = 0; bit < 32 && missing; bit++) {
                if (!(missing & (1u << bit))) {
                    continue;
                }
                g_autofree char *what = x86_feature_describe(w, bit);
                if (m->enforce) {
                    error_setg(errp, "%s doesn't support requested feature: %s (enforce=on)",
                               who, what);
                    return false;
                }
                if (warnings && (m->check || (m->user_on[w] & (1u << bit)))) {
                    g_ptr_array_add(warnings, g_strdup_printf(
                        "%s doesn't support requested feature: %s", who, what));
                }
            }
            m->features[w] &= sup;
        }
        cpuid_table_free(&m->accel_leaves);
        for (unsigned i = 0; i < caps->supported->nent; i++) {
            const CPUIDEntry *e = &caps->supported->entries[i];
            cpuid_table_set(&m->accel_leaves, e->function, e->index, e->flags, e->eax, e->ebx,
                            e->ecx, e->edx);
        }
    }
    if (!strcmp(m->vendor, VENDOR_AMD) || !strcmp(m->vendor, "HygonGenuine")) {
        m->features[FEAT_8000_0001_EDX] &= ~AMD_ALIAS_MASK;
        m->features[FEAT_8000_0001_EDX] |= m->features[FEAT_1_EDX] & AMD_ALIAS_MASK;
    }
    adjust_levels(m, &level, &xlevel);
    if (!m->level_set) {
        m->level = level;
    }
    if (!m->xlevel_set) {
        m->xlevel = xlevel;
    }
    if (!m->pmu_set) {
        m->pmu = def->max;
    }
    if (!m->host_phys_bits_set) {
        m->host_phys_bits = def->max && caps && caps->host_cpu;
    }
    m->host_phys_bits_value = 0;
    if (filter) {
        uint32_t eax;
        cpuid_table_get(caps->supported, 0x80000008, 0, &eax, NULL, NULL, NULL);
        m->host_phys_bits_value = eax & 0xff;
    }
    if (m->host_phys_bits && m->host_phys_bits_value) {
        m->phys_bits = m->host_phys_bits_value;
    } else if (!m->phys_bits) {
        m->phys_bits = 40;          /* QEMU's default for every model */
    }
    if (m->phys_bits < 32 || m->phys_bits > 52) {
        error_setg(errp, "phys-bits should be between 32 and 52 (but is %u)", m->phys_bits);
        return false;
    }
    m->kvm_leaves = caps && caps->kvm_pv && m->expose_kvm;
    if (!m->kvm_leaves) {
        m->features[FEAT_KVM] = 0;
    }
    m->realized = true;
    return true;
}

/* ---- -cpu help ---------------------------------------------------------- */

static gint compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void x86_cpu_list(GString *out)
{
    GPtrArray *names = g_ptr_array_new();

    g_string_append(out, "Available CPUs:\n");
    for (size_t i = 0; i < G_N_ELEMENTS(x86_cpu_def_table); i++) {
        g_string_append_printf(out, "x86 %-20s %s\n", x86_cpu_def_table[i]->name,
                               x86_cpu_def_table[i]->desc);
    }
    g_string_append(out, "\nRecognized CPUID flags:\n");
    for (int w = 0; w < FEATURE_WORDS; w++) {
        for (int bit = 0; bit < 32; bit++) {
            const char *n = feature_word_info[w].names[bit];
            bool dup = false;
            if (!n) {
                continue;
            }
            for (guint j = 0; j < names->len && !dup; j++) {
                dup = !strcmp(g_ptr_array_index(names, j), n);
            }
            if (!dup) {
                g_ptr_array_add(names, (gpointer)n);
            }
        }
    }
    g_ptr_array_sort(names, compare_names);
    /* QEMU prints the flags wrapped at 75 columns, indented. */
    GString *line = g_string_new("  ");
    for (guint i = 0; i < names->len; i++) {
        const char *n = g_ptr_array_index(names, i);
        if (line->len + strlen(n) + 1 > 75) {
            g_string_append_printf(out, "%s\n", line->str);
            g_string_assign(line, "  ");
        }
        g_string_append_printf(line, "%s ", n);
    }
    g_string_append_printf(out, "%s\n", line->str);
    g_string_free(line, TRUE);
    g_ptr_array_free(names, TRUE);
}

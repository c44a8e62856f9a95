/*
 * x86 feature flags: where each bit lives in CPUID and the name QEMU gives
 * it (the names users type after -cpu MODEL,+name), aliases included.
 * Also the small CPUID table container shared by the model and the
 * accelerators.
 */
#include <string.h>
#include "target/i386/cpu-model.h"

/* Feature words: one CPUID register each, bit names as QEMU spells them
 * (Intel SDM vol. 2A "CPUID", AMD APM vol. 3 appendix E, Linux's
 * Documentation/virt/kvm/x86/cpuid.rst for the KVM leaf). */
const FeatureWordInfo feature_word_info[FEATURE_WORDS] = {
    [FEAT_1_EDX] = { 1, 0, CPUID_EDX, {
        "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce",
        "cx8", "apic", NULL, "sep", "mtrr", "pge", "mca", "cmov",
        "pat", "pse36", "pn", "clflush", NULL, "ds", "acpi", "mmx",
        "fxsr", "sse", "sse2", "ss", "ht", "tm", "ia64", "pbe" } },
    [FEAT_1_ECX] = { 1, 0, CPUID_ECX, {
        "pni", "pclmulqdq", "dtes64", "monitor", "ds-cpl", "vmx", "smx", "est",
        "tm2", "ssse3", "cid", NULL, "fma", "cx16", "xtpr", "pdcm",
        NULL, "pcid", "dca", "sse4.1", "sse4.2", "x2apic", "movbe", "popcnt",
        "tsc-deadline", "aes", "xsave", NULL /* osxsave: set by the OS */,
        "avx", "f16c", "rdrand", "hypervisor" } },
    [FEAT_6_EAX] = { 6, 0, CPUID_EAX, {
        [2] = "arat" } },
    [FEAT_7_0_EBX] = { 7, 0, CPUID_EBX, {
        "fsgsbase", "tsc-adjust", "sgx", "bmi1", "hle", "avx2", "fdp-excptn-only", "smep",
        "bmi2", "erms", "invpcid", "rtm", NULL, "zero-fcs-fds", "mpx", NULL,
        "avx512f", "avx512dq", "rdseed", "adx", "smap", "avx512ifma", "pcommit", "clflushopt",
        "clwb", "intel-pt", "avx512pf", "avx512er", "avx512cd", "sha-ni", "avx512bw",
        "avx512vl" } },
    [FEAT_7_0_ECX] = { 7, 0, CPUID_ECX, {
        NULL, "avx512vbmi", "umip", "pku", NULL /* ospke */, "waitpkg", "avx512vbmi2", NULL,
        "gfni", "vaes", "vpclmulqdq", "avx512vnni", "avx512bitalg", NULL, "avx512-vpopcntdq",
        NULL, "la57", NULL, NULL, NULL, NULL, NULL, "rdpid", NULL,
        "bus-lock-detect", "cldemote", NULL, "movdiri", "movdir64b", NULL, "sgxlc", "pks" } },
    [FEAT_7_0_EDX] = { 7, 0, CPUID_EDX, {
        NULL, NULL, "avx512-4vnniw", "avx512-4fmaps", "fsrm", NULL, NULL, NULL,
        "avx512-vp2intersect", NULL, "md-clear", NULL, NULL, NULL, "serialize", NULL,
        "tsx-ldtrk", NULL, NULL, "arch-lbr", NULL, NULL, "amx-bf16", "avx512-fp16",
        "amx-tile", "amx-int8", "spec-ctrl", "stibp", "flush-l1d", "arch-capabilities",
        "core-capability", "ssbd" } },
    [FEAT_7_1_EAX] = { 7, 1, CPUID_EAX, {
        "sha512", "sm3", "sm4", NULL, "avx-vnni", "avx512-bf16", NULL, "cmpccxadd",
        NULL, NULL, "fzrm", "fsrs", "fsrc", NULL, NULL, NULL,
        NULL, "fred", "lkgs", "wrmsrns", NULL, "amx-fp16", NULL, "avx-ifma",
        NULL, NULL, "lam" } },
    [FEAT_XSAVE] = { 0xd, 1, CPUID_EAX, {
        "xsaveopt", "xsavec", "xgetbv1", "xsaves", "xfd" } },
    [FEAT_8000_0001_EDX] = { 0x80000001, 0, CPUID_EDX, {
        /* Bits 0-17, 23, 24 repeat leaf 1 on AMD (filled in from it). */
        [11] = "syscall", [20] = "nx", [22] = "mmxext", [25] = "fxsr-opt",
        [26] = "pdpe1gb", [27] = "rdtscp", [29] = "lm", [30] = "3dnowext", [31] = "3dnow" } },
    [FEAT_8000_0001_ECX] = { 0x80000001, 0, CPUID_ECX, {
        "lahf-lm", "cmp-legacy", "svm", "extapic", "cr8legacy", "abm", "sse4a", "misalignsse",
        "3dnowprefetch", "osvw", "ibs", "xop", "skinit", "wdt", NULL, "lwp",
        "fma4", "tce", NULL, "nodeid-msr", NULL, "tbm", "topoext", "perfctr-core",
        "perfctr-nb" } },
    [FEAT_8000_0007_EDX] = { 0x80000007, 0, CPUID_EDX, {
        [8] = "invtsc" } },
    [FEAT_8000_0008_EBX] = { 0x80000008, 0, CPUID_EBX, {
        "clzero", NULL, "xsaveerptr", NULL, NULL, NULL, NULL, NULL,
        NULL, "wbnoinvd", NULL, NULL, "ibpb", NULL, "ibrs", "amd-stibp",
        NULL, "stibp-always-on", NULL, NULL, NULL, NULL, NULL, NULL,
        "amd-ssbd", "virt-ssbd", "amd-no-ssb", NULL, "amd-psfd" } },
    [FEAT_SVM] = { 0x8000000a, 0, CPUID_EDX, {
        "npt", "lbrv", "svm-lock", "nrip-save", "tsc-scale", "vmcb-clean", "flushbyasid",
        "decodeassists", NULL, NULL, "pause-filter", NULL, "pfthreshold", "avic", NULL,
        "v-vmsave-vmload", "vgif", NULL, NULL, NULL, NULL, NULL, NULL, NULL,
        NULL, "vnmi", NULL, NULL, "svme-addr-chk" } },
    /* "kvmclock" names both clock source bits (0: old MSRs, 3: new MSRs). */
    [FEAT_KVM] = { 0x40000001, 0, CPUID_EAX, {
        "kvmclock", "kvm-nopiodelay", "kvm-mmu", "kvmclock", "kvm-asyncpf", "kvm-steal-time",
        "kvm-pv-eoi", "kvm-pv-unhalt", NULL, "kvm-pv-tlb-flush", "kvm-asyncpf-vmexit",
        "kvm-pv-ipi", "kvm-poll-control", "kvm-pv-sched-yield", "kvm-asyncpf-int",
        "kvm-msi-ext-dest-id", [24] = "kvmclock-stable-bit" } },
};

/* Other spellings QEMU accepts ('_' for '-' is handled generally). */
static const struct { const char *alias, *name; } feature_aliases[] = {
    { "sse3", "pni" },
    { "pclmuldq", "pclmulqdq" },
    { "sse4-1", "sse4.1" },
    { "sse4-2", "sse4.2" },
    { "xd", "nx" },
    { "ffxsr", "fxsr-opt" },
    { "i64", "lm" },
};

bool x86_feature_lookup(const char *name, FeatureWord *w, uint32_t *mask)
{
    g_autofree char *n = g_strdup(name);
    bool found = false;

    g_strdelimit(n, "_", '-');
    for (size_t i = 0; i < G_N_ELEMENTS(feature_aliases); i++) {
        if (!strcmp(n, feature_aliases[i].alias)) {
            g_free(n);
            n = g_strdup(feature_aliases[i].name);
            break;
        }
    }
    *mask = 0;
    for (int fw = 0; fw < FEATURE_WORDS && !found; fw++) {
        for (int bit = 0; bit < 32; bit++) {
            const char *f = feature_word_info[fw].names[bit];
            if (f && !strcmp(f, n)) {
                *w = fw;
                *mask |= 1u << bit;
                found = true;
            }
        }
    }
    return found;
}

char *x86_feature_describe(FeatureWord w, int bit)
{
    static const char *const regs[] = { "EAX", "EBX", "ECX", "EDX" };
    const FeatureWordInfo *f = &feature_word_info[w];
    const char *name = f->names[bit];
    /* QEMU's wording names the leaf, not the sub-leaf. */
    return g_strdup_printf("CPUID.%02XH:%s%s%s [bit %d]", f->function, regs[f->reg],
                           name ? "." : "", name ? name : "", bit);
}

/* ---- CPUID tables ------------------------------------------------------ */

void cpuid_table_init(CPUIDTable *t)
{
    memset(t, 0, sizeof(*t));
}

void cpuid_table_free(CPUIDTable *t)
{
    g_free(t->entries);
    memset(t, 0, sizeof(*t));
}

static CPUIDEntry *cpuid_table_lookup(const CPUIDTable *t, uint32_t function, uint32_t index)
{
    for (unsigned i = 0; i < t->nent; i++) {
        CPUIDEntry *e = &t->entries[i];
        if (e->function == function &&
            (e->index == index || !(e->flags & CPUID_FLAG_SIGNIFICANT_INDEX))) {
            return e;
        }
    }
    return NULL;
}

const CPUIDEntry *cpuid_table_find(const CPUIDTable *t, uint32_t function, uint32_t index)
{
    return t ? cpuid_table_lookup(t, function, index) : NULL;
}

CPUIDEntry *cpuid_table_set(CPUIDTable *t, uint32_t function, uint32_t index, uint32_t flags,
                            uint32_t eax, uint32_t ebx, uint32_t ecx, uint32_t edx)
{
    CPUIDEntry *e = NULL;

    for (unsigned i = 0; i < t->nent; i++) {
        if (t->entries[i].function == function && t->entries[i].index == index) {
            e = &t->entries[i];
            break;
        }
    }
    if (!e) {
        if (t->nent == t->cap) {
            t->cap = t->cap ? t->cap * 2 : 64;
            t->entries = g_renew(CPUIDEntry, t->entries, t->cap);
        }
        e = &t->entries[t->nent++];
    }
    *e = (CPUIDEntry) { .function = function, .index = index, .flags = flags,
                        .eax = eax, .ebx = ebx, .ecx = ecx, .edx = edx };
    return e;
}

void cpuid_table_get(const CPUIDTable *t, uint32_t function, uint32_t index, uint32_t *eax,
                     uint32_t *ebx, uint32_t *ecx, uint32_t *edx)
{
    const CPUIDEntry *e = cpuid_table_find(t, function, index);
    uint32_t dummy;

    *(eax ? eax : &dummy) = e ? e->eax : 0;
    *(ebx ? ebx : &dummy) = e ? e->ebx : 0;
    *(ecx ? ecx : &dummy) = e ? e->ecx : 0;
    *(edx ? edx : &dummy) = e ? e->edx : 0;
}

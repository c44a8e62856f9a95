/*
 * The guest CPUID table of one vCPU, from a realized CPU model and the
 * machine's topology, and the APIC ID layout of that topology.
 *
 * APIC ID (SDM vol. 3A 10.12 "Extended topology"): from the least
 * significant bit, the thread (SMT) field, the core field, the die field
 * and the package; each field is ceil(log2(count)) bits wide, so IDs are
 * not contiguous when a count is not a power of two.  Leaves 0xb/0x1f
 * describe the fields, leaf 1 EBX[31:24] and leaf 0xb EDX give the ID,
 * leaf 4 EAX and 0x80000008 ECX the number of addressable IDs, as QEMU
 * computes them.
 */
#include <string.h>
#include "target/i386/cpu-model.h"

/* ---- topology ------------------------------------------------------------- */

static unsigned count_or_1(unsigned n)
{
    return n ? n : 1;
}

/* Bits needed to number `count` items: ceil(log2(count)). */
static unsigned field_width(unsigned count)
{
    return count <= 1 ? 0 : g_bit_storage(count - 1);
}

unsigned x86_topo_core_offset(const X86Topology *t)
{
    return field_width(count_or_1(t->threads));
}

unsigned x86_topo_die_offset(const X86Topology *t)
{
    return x86_topo_core_offset(t) + field_width(count_or_1(t->cores));
}

unsigned x86_topo_pkg_offset(const X86Topology *t)
{
    return x86_topo_die_offset(t) + field_width(count_or_1(t->dies));
}

uint32_t x86_apic_id_from_index(const X86Topology *t, unsigned index)
{
    unsigned threads = count_or_1(t->threads), cores = count_or_1(t->cores);
    unsigned dies = count_or_1(t->dies);
    unsigned smt = index % threads;
    unsigned core = index / threads % cores;
    unsigned die = index / (threads * cores) % dies;
    unsigned pkg = index / (threads * cores * dies);

    return (pkg << x86_topo_pkg_offset(t)) | (die << x86_topo_die_offset(t)) |
           (core << x86_topo_core_offset(t)) | smt;
}

static unsigned threads_per_pkg(const X86Topology *t)
{
    return count_or_1(t->threads) * count_or_1(t->cores) * count_or_1(t->dies);
}

/* ---- helpers ------------------------------------------------------------ */

static bool vendor_is_amd(const X86CPUModel *m)
{
    return !strcmp(m->vendor, "AuthenticAMD") || !strcmp(m->vendor, "HygonGenuine");
}

static bool vendor_is_intel(const X86CPUModel *m)
{
    return !strcmp(m->vendor, "GenuineIntel");
}

static uint32_t str4(const char *s)
{
    uint32_t v;

    memcpy(&v, s, 4);
    return v;
}

/* Leaf 1 EAX: stepping, model, family with the extended fields. */
static uint32_t cpu_signature(const X86CPUModel *m)
{
    uint32_t v = (m->stepping & 0xf) | ((m->model & 0xf) << 4) | (((m->model >> 4) & 0xf) << 16);

    if (m->family > 0xf) {
        v |= 0xf00 | ((uint32_t)(m->family - 0xf) << 20);
    } else {
        v |= (uint32_t)m->family << 8;
    }
    return v;
}

static void set(CPUIDTable *t, uint32_t fn, uint32_t eax, uint32_t ebx, uint32_t ecx,
                uint32_t edx)
{
    cpuid_table_set(t, fn, 0, 0, eax, ebx, ecx, edx);
}

static void set_sub(CPUIDTable *t, uint32_t fn, uint32_t idx, uint32_t eax, uint32_t ebx,
                    uint32_t ecx, uint32_t edx)
{
    cpuid_table_set(t, fn, idx, CPUID_FLAG_SIGNIFICANT_INDEX, eax, ebx, ecx, edx);
}

/* ---- caches ------------------------------------------------------------- */

static const X86CPUCaches *model_caches(const X86CPUModel *m, bool amd_leaves)
{
    if (m->def->caches) {
        return m->def->caches;
    }
    return amd_leaves ? &x86_legacy_caches_amd : &x86_legacy_caches;
}

/* (1 << offset of the level sharing the cache) - 1: leaf 4 / 0x8000001d. */
static uint32_t cache_sharing_ids(const X86CPUCache *c, const X86Topology *t)
{
    unsigned off = c->share_die ? x86_topo_die_offset(t) : x86_topo_core_offset(t);

    return (1u << off) - 1;
}

static void cache_leaf4(const X86CPUCache *c, const X86Topology *t, bool cores_field,
                        uint32_t *eax, uint32_t *ebx, uint32_t *ecx, uint32_t *edx)
{
    *eax = c->type | (c->level << 5) | (c->self_init ? 1u << 8 : 0) |
           (cache_sharing_ids(c, t) << 14);
    if (cores_field) {
        unsigned core_bits = x86_topo_pkg_offset(t) - x86_topo_core_offset(t);
        *eax |= ((1u << core_bits) - 1) << 26;
    }
    *ebx = (c->line_size - 1) | ((c->partitions - 1) << 12) | ((c->associativity - 1) << 22);
    *ecx = c->sets - 1;
    *edx = (c->no_invd_sharing ? 1 : 0) | (c->inclusive ? 2 : 0) | (c->complex_indexing ? 4 : 0);
}

/* AMD's associativity code of 0x80000006. */
static uint32_t amd_assoc(uint32_t a)
{
    switch (a) {
    case 0: case 1: case 2: case 4: return a;
    case 8: return 6;
    case 16: return 8;
    case 32: return 0xa;
    case 48: return 0xb;
    case 64: return 0xc;
    case 96: return 0xd;
    case 128: return 0xe;
    case 0xff: return 0xf;
    default: return 0;
    }
}

static uint32_t cache_80000005(const X86CPUCache *c)
{
    return ((c->size / 1024) << 24) | (c->associativity << 16) | (c->lines_per_tag << 8) |
           c->line_size;
}

static uint32_t cache_80000006_l2(const X86CPUCache *c)
{
    return ((c->size / 1024) << 16) | (amd_assoc(c->associativity) << 12) |
           (c->lines_per_tag << 8) | c->line_size;
}

static uint32_t cache_80000006_l3(const X86CPUCache *c)
{
    return ((c->size / (512 * 1024)) << 18) | (amd_assoc(c->associativity) << 12) |
           (c->lines_per_tag << 8) | c->line_size;
}

/* QEMU's TLB figures for 0x80000005/6. */
#define L1_TLB_2M   0x01ff01ffu     /* 1-way, 255 entries, data and instruction */
#define L1_TLB_4K   0x01ff01ffu
#define L2_TLB_2M   0x00000000u     /* none */
#define L2_TLB_4K   0x42004200u     /* 4-way, 512 entries */

/* ---- XSAVE components (SDM vol. 1 13.4, standard format) --------------- */

static const struct {
    int bit;
    FeatureWord w;
    uint32_t feature, size, offset;
} xsave_components[] = {
    { 2, FEAT_1_ECX, 1u << 28, 256, 576 },          /* AVX: YMM_Hi128 */
    { 3, FEAT_7_0_EBX, 1u << 14, 64, 960 },         /* MPX: BNDREGS */
    { 4, FEAT_7_0_EBX, 1u << 14, 64, 1024 },        /* MPX: BNDCSR */
    { 5, FEAT_7_0_EBX, 1u << 16, 64, 1088 },        /* AVX-512: opmask */
    { 6, FEAT_7_0_EBX, 1u << 16, 512, 1152 },       /* AVX-512: ZMM_Hi256 */
    { 7, FEAT_7_0_EBX, 1u << 16, 1024, 1664 },      /* AVX-512: Hi16_ZMM */
    { 9, FEAT_7_0_ECX, 1u << 3, 8, 2688 },          /* PKU: PKRU */
};

static void build_xsave_leaf(const X86CPUModel *m, CPUIDTable *t)
{
    const CPUIDEntry *sup0 = cpuid_table_find(&m->accel_leaves, 0xd, 0);
    uint32_t xcr0 = 3, size = 576;

    if (!(m->features[FEAT_1_ECX] & (1u << 26))) {
        set_sub(t, 0xd, 0, 0, 0, 0, 0);
        set_sub(t, 0xd, 1, 0, 0, 0, 0);
        return;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(xsave_components); i++) {
        uint32_t bit = 1u << xsave_components[i].bit;
        uint32_t sz = xsave_components[i].size, off = xsave_components[i].offset;
        const CPUIDEntry *e;
        if (!(m->features[xsave_components[i].w] & xsave_components[i].feature) ||
            (sup0 && !(sup0->eax & bit))) {
            continue;
        }
        e = cpuid_table_find(&m->accel_leaves, 0xd, xsave_components[i].bit);
        if (e && e->eax) {
            sz = e->eax;
            off = e->ebx;
        }
        xcr0 |= bit;
        size = MAX(size, off + sz);
        set_sub(t, 0xd, xsave_components[i].bit, sz, off, 0, 0);
    }
    set_sub(t, 0xd, 0, xcr0, size, size, 0);
    set_sub(t, 0xd, 1, m->features[FEAT_XSAVE], 0, 0, 0);
}

/* ---- the table ---------------------------------------------------------- */

static void build_topology_leaves(const X86CPUModel *m, const X86Topology *t, uint32_t apic_id,
                                  uint32_t level, CPUIDTable *out)
{
    unsigned threads = count_or_1(t->threads);
    unsigned per_die = threads * count_or_1(t->cores);

    if (level >= 0xb) {
        set_sub(out, 0xb, 0, x86_topo_core_offset(t), threads, (1u << 8) | 0, apic_id);
        set_sub(out, 0xb, 1, x86_topo_pkg_offset(t), threads_per_pkg(t) & 0xffff,
                (2u << 8) | 1, apic_id);
        set_sub(out, 0xb, 2, 0, 0, 2, apic_id);
    }
    if (level >= 0x1f) {
        if (count_or_1(t->dies) > 1) {
            set_sub(out, 0x1f, 0, x86_topo_core_offset(t), threads, (1u << 8) | 0, apic_id);
            set_sub(out, 0x1f, 1, x86_topo_die_offset(t), per_die, (2u << 8) | 1, apic_id);
            set_sub(out, 0x1f, 2, x86_topo_pkg_offset(t), threads_per_pkg(t) & 0xffff,
                    (5u << 8) | 2, apic_id);
            set_sub(out, 0x1f, 3, 0, 0, 3, apic_id);
        } else {
            set_sub(out, 0x1f, 0, 0, 0, 0, 0);
        }
    }
}

static void build_basic(const X86CPUModel *m, const X86Topology *t, uint32_t apic_id,
                        uint32_t level, CPUIDTable *out)
{
    const char *v = m->vendor;
    unsigned per_pkg = threads_per_pkg(t);
    const X86CPUCaches *c = model_caches(m, false);

    for (uint32_t fn = 0; fn <= level && fn <= 0x1f; fn++) {
        set(out, fn, 0, 0, 0, 0);
    }
    set(out, 0, level, str4(v), str4(v + 8), str4(v + 4));
    {
        uint32_t ebx = (apic_id << 24) | (8u << 8);     /* CLFLUSH line: 8 qwords */
        uint32_t edx = m->features[FEAT_1_EDX], ecx = m->features[FEAT_1_ECX];
        if (per_pkg > 1) {
            ebx |= MIN(1u << x86_topo_pkg_offset(t), 255u) << 16;
            edx |= CPUID_1_EDX_HTT;
        }
        if (!m->pmu) {
            ecx &= ~(1u << 15);                         /* pdcm */
        }
        set(out, 1, cpu_signature(m), ebx, ecx, edx);
    }
    if (level >= 2 && !vendor_is_amd(m)) {
        set(out, 2, 1, 0, c->l3->desc2, (c->l1d->desc2 << 16) | (c->l1i->desc2 << 8) |
            c->l2->desc2);
    }
    if (level >= 4) {
        const X86CPUCache *list[] = { c->l1d, c->l1i, c->l2, c->l3 };
        uint32_t a, b, cc, d;
        if (vendor_is_amd(m)) {
            set_sub(out, 4, 0, 0, 0, 0, 0);
        } else {
            for (unsigned i = 0; i < 4; i++) {
                cache_leaf4(list[i], t, true, &a, &b, &cc, &d);
                set_sub(out, 4, i, a, b, cc, d);
            }
            set_sub(out, 4, 4, 0, 0, 0, 0);
        }
    }
    if (level >= 5 && (m->features[FEAT_1_ECX] & (1u << 3))) {
        set(out, 5, 0, 0, 3, 0);                /* MWAIT extensions, interrupt break */
    }
    if (level >= 6) {
        set(out, 6, m->features[FEAT_6_EAX], 0, 0, 0);
    }
    if (level >= 7) {
        set_sub(out, 7, 0, m->features[FEAT_7_1_EAX] ? 1 : 0, m->features[FEAT_7_0_EBX],
                m->features[FEAT_7_0_ECX], m->features[FEAT_7_0_EDX]);
        set_sub(out, 7, 1, m->features[FEAT_7_1_EAX], 0, 0, 0);
    }
    if (level >= 0xa && m->pmu) {
        const CPUIDEntry *e = cpuid_table_find(&m->accel_leaves, 0xa, 0);
        if (e) {
            set(out, 0xa, e->eax, e->ebx, e->ecx, e->edx);
        }
    }
    build_topology_leaves(m, t, apic_id, level, out);
    if (level >= 0xd) {
        build_xsave_leaf(m, out);
    }
}

static void build_extended(const X86CPUModel *m, const X86Topology *t, uint32_t apic_id,
                           CPUIDTable *out)
{
    const char *v = m->vendor;
    uint32_t xlevel = MIN(m->xlevel, 0x80000021u);
    unsigned per_pkg = threads_per_pkg(t);
    bool amd = vendor_is_amd(m);
    const X86CPUCaches *c = model_caches(m, true);
    bool topoext = amd && (m->features[FEAT_8000_0001_ECX] & (1u << 22));

    if (xlevel < 0x80000000u) {
        return;
    }
    for (uint32_t fn = 0x80000000u; fn <= xlevel; fn++) {
        set(out, fn, 0, 0, 0, 0);
    }
    set(out, 0x80000000, xlevel, str4(v), str4(v + 8), str4(v + 4));
    if (xlevel >= 0x80000001) {
        uint32_t ecx = m->features[FEAT_8000_0001_ECX];
        if (per_pkg > 1 && !vendor_is_intel(m)) {
            ecx |= 1u << 1;                         /* CmpLegacy */
        }
        if (!m->pmu) {
            ecx &= ~(1u << 23);                     /* perfctr-core */
        }
        set(out, 0x80000001, cpu_signature(m), 0, ecx, m->features[FEAT_8000_0001_EDX]);
    }
    for (uint32_t i = 0; i < 3 && 0x80000002 + i <= xlevel; i++) {
        char s[16] = { 0 };
        size_t len = strlen(m->model_id);
        if (len > 16 * i) {
            memcpy(s, m->model_id + 16 * i, MIN(16, len - 16 * i));
        }
        set(out, 0x80000002 + i, str4(s), str4(s + 4), str4(s + 8), str4(s + 12));
    }
    if (xlevel >= 0x80000005 && amd) {
        set(out, 0x80000005, L1_TLB_2M, L1_TLB_4K, cache_80000005(c->l1d),
            cache_80000005(c->l1i));
    }
    if (xlevel >= 0x80000006) {
        if (amd) {
            set(out, 0x80000006, L2_TLB_2M, L2_TLB_4K, cache_80000006_l2(c->l2),
                cache_80000006_l3(c->l3));
        } else {
            set(out, 0x80000006, 0, 0, cache_80000006_l2(model_caches(m, false)->l2), 0);
        }
    }
    if (xlevel >= 0x80000007) {
        set(out, 0x80000007, 0, 0, 0, m->features[FEAT_8000_0007_EDX]);
    }
    if (xlevel >= 0x80000008) {
        bool lm = m->features[FEAT_8000_0001_EDX] & (1u << 29);
        bool la57 = m->features[FEAT_7_0_ECX] & (1u << 16);
        /* Virtual address bits only for a 64-bit CPU, as QEMU (KVM refuses
         * any value but 0, 48 and 57). */
        uint32_t eax = m->phys_bits | (lm ? (la57 ? 57u : 48u) << 8 : 0);
        uint32_t ecx = per_pkg > 1 ? (x86_topo_pkg_offset(t) << 12) | (per_pkg - 1) : 0;
        set(out, 0x80000008, eax, m->features[FEAT_8000_0008_EBX], ecx, 0);
    }
    if (xlevel >= 0x8000000a && (m->features[FEAT_8000_0001_ECX] & (1u << 2))) {
        set(out, 0x8000000a, 1, 0x10, 0, m->features[FEAT_SVM]);   /* rev 1, 16 ASIDs */
    }
    if (xlevel >= 0x8000001d && topoext) {
        const X86CPUCache *list[] = { c->l1d, c->l1i, c->l2, c->l3 };
        uint32_t a, b, cc, d;
        for (unsigned i = 0; i < 4; i++) {
            cache_leaf4(list[i], t, false, &a, &b, &cc, &d);
            set_sub(out, 0x8000001d, i, a, b, cc, d);
        }
        set_sub(out, 0x8000001d, 4, 0, 0, 0, 0);
    }
    if (xlevel >= 0x8000001e && topoext) {
        unsigned core_id = (apic_id >> x86_topo_core_offset(t)) &
                           ((1u << (x86_topo_die_offset(t) - x86_topo_core_offset(t))) - 1);
        set(out, 0x8000001e, apic_id, ((count_or_1(t->threads) - 1) << 8) | (core_id & 0xff),
            (apic_id >> x86_topo_pkg_offset(t)) & 0xff, 0);
    }
}

void x86_cpu_build_cpuid(const X86CPUModel *m, const X86Topology *t, uint32_t apic_id,
                         CPUIDTable *out)
{
    uint32_t level = m->level;

    if (count_or_1(t->dies) > 1 && !m->level_set) {
        level = MAX(level, 0x1fu);
    }
    cpuid_table_free(out);
    build_basic(m, t, apic_id, level, out);
    if (m->kvm_leaves) {
        /* "KVMKVMKVM\0\0\0", highest leaf 0x40000001. */
        set(out, 0x40000000, 0x40000001, str4("KVMK"), str4("VMKV"), str4("M\0\0\0"));
        set(out, 0x40000001, m->features[FEAT_KVM], 0, 0, 0);
    }
    build_extended(m, t, apic_id, out);
}

/*
 * The x86 CPU model (target/i386): CPUID leaves per model, the -cpu option
 * string, the topology (APIC IDs, leaves 1/4/0xb/0x1f/0x80000008) and the
 * accelerator filter with a fake "supported" table.  No KVM needed.
 */
#include <string.h>
#include <glib.h>
#include "target/i386/cpu-model.h"

#define R(t, fn, idx, reg) cpuid_reg((t), (fn), (idx), (reg))

static uint32_t cpuid_reg(const CPUIDTable *t, uint32_t fn, uint32_t idx, int reg)
{
    uint32_t r[4];

    cpuid_table_get(t, fn, idx, &r[CPUID_EAX], &r[CPUID_EBX], &r[CPUID_ECX], &r[CPUID_EDX]);
    return r[reg];
}

static bool has_leaf(const CPUIDTable *t, uint32_t fn)
{
    return cpuid_table_find(t, fn, 0) != NULL;
}

static const X86Topology one_cpu = { 1, 1, 1, 1 };

/* Parses and realizes without a filter (what every accelerator agrees on). */
static X86CPUModel *model(const char *spec)
{
    Error *err = NULL;
    X86CPUModel *m = x86_cpu_model_parse(spec, &err);

    g_assert_no_error(err);
    g_assert_nonnull(m);
    g_assert_true(x86_cpu_model_realize(m, NULL, NULL, &err));
    g_assert_no_error(err);
    return m;
}

static void build(X86CPUModel *m, const X86Topology *topo, uint32_t apic_id, CPUIDTable *t)
{
    cpuid_table_init(t);
    x86_cpu_build_cpuid(m, topo, apic_id, t);
}

static void vendor_of(const CPUIDTable *t, uint32_t fn, char *out)
{
    uint32_t ebx = R(t, fn, 0, CPUID_EBX), ecx = R(t, fn, 0, CPUID_ECX);
    uint32_t edx = R(t, fn, 0, CPUID_EDX);

    memcpy(out, &ebx, 4);
    memcpy(out + 4, &edx, 4);
    memcpy(out + 8, &ecx, 4);
    out[12] = '\0';
}

static void model_id_of(const CPUIDTable *t, char *out)
{
    for (int i = 0; i < 3; i++) {
        for (int r = 0; r < 4; r++) {
            uint32_t v = R(t, 0x80000002 + i, 0, r == 0 ? CPUID_EAX : r == 1 ? CPUID_EBX :
                                                  r == 2 ? CPUID_ECX : CPUID_EDX);
            memcpy(out + 16 * i + 4 * r, &v, 4);
        }
    }
    out[48] = '\0';
}

/* ---- models ------------------------------------------------------------- */

static void test_qemu64(void)
{
    X86CPUModel *m = model("qemu64");
    CPUIDTable t;
    char s[49];

    build(m, &one_cpu, 0, &t);
    vendor_of(&t, 0, s);
    g_assert_cmpstr(s, ==, "AuthenticAMD");
    vendor_of(&t, 0x80000000, s);
    g_assert_cmpstr(s, ==, "AuthenticAMD");
    g_assert_cmphex(R(&t, 0, 0, CPUID_EAX), ==, 0xd);
    g_assert_cmphex(R(&t, 0x80000000, 0, CPUID_EAX), ==, 0x8000000a);
    /* Family 15, model 107 (0x6b: extended model 6), stepping 1. */
    g_assert_cmphex(R(&t, 1, 0, CPUID_EAX), ==, 0x00060fb1);
    g_assert_cmphex(R(&t, 0x80000001, 0, CPUID_EAX), ==, 0x00060fb1);
    /* QEMU's qemu64 feature words (as a TCG guest sees them). */
    g_assert_cmphex(R(&t, 1, 0, CPUID_EDX), ==, 0x078bfbfd);
    g_assert_cmphex(R(&t, 1, 0, CPUID_ECX), ==, 0x80002001);   /* sse3 cx16 hypervisor */
    g_assert_cmphex(R(&t, 0x80000001, 0, CPUID_EDX), ==, 0x2193fbfd);
    g_assert_cmphex(R(&t, 0x80000001, 0, CPUID_ECX), ==, 0x5);  /* lahf-lm svm */
    g_assert_cmphex(R(&t, 1, 0, CPUID_EBX), ==, 0x00000800);   /* clflush 64 B, APIC 0 */
    model_id_of(&t, s);
    g_assert_cmpstr(s, ==, "QEMU Virtual CPU version 2.5+");
    /* 40 physical, 48 virtual address bits. */
    g_assert_cmphex(R(&t, 0x80000008, 0, CPUID_EAX), ==, 0x3028);
    /* AMD: no Intel cache leaves, 0x80000005/6 legacy AMD caches. */
    g_assert_cmphex(R(&t, 2, 0, CPUID_EAX), ==, 0);
    g_assert_cmphex(R(&t, 0x80000005, 0, CPUID_ECX), ==, 0x40020140);
    g_assert_cmphex(R(&t, 0x80000006, 0, CPUID_ECX), ==, 0x02008140);
    g_assert_cmphex(R(&t, 0x80000006, 0, CPUID_EDX), ==, 0x00808140);
    /* SVM leaf: revision 1, 16 ASIDs. */
    g_assert_cmphex(R(&t, 0x8000000a, 0, CPUID_EAX), ==, 1);
    g_assert_false(has_leaf(&t, 0x40000000));                  /* no KVM: no PV leaves */
    cpuid_table_free(&t);
    x86_cpu_model_free(m);
}

static void test_skylake(void)
{
    X86CPUModel *m = model("Skylake-Client");
    CPUIDTable t;
    char s[49];

    build(m, &one_cpu, 0, &t);
    vendor_of(&t, 0, s);
    g_assert_cmpstr(s, ==, "GenuineIntel");
    /* Family 6, model 94 = 0x5e (extended model 5), stepping 3. */
    g_assert_cmphex(R(&t, 1, 0, CPUID_EAX), ==, 0x000506e3);
    model_id_of(&t, s);
    g_assert_cmpstr(s, ==, "Intel Core Processor (Skylake)");
    g_assert_cmphex(R(&t, 0x80000000, 0, CPUID_EAX), ==, 0x80000008);
    /* avx2 (bit 5), smep (7), bmi2 (8), rtm (11), mpx (14), smap (20) */
    g_assert_cmphex(R(&t, 7, 0, CPUID_EBX), ==, 0x001c4fb9);
    g_assert_true(R(&t, 1, 0, CPUID_ECX) & (1u << 24));        /* tsc-deadline */
    g_assert_true(R(&t, 1, 0, CPUID_ECX) & (1u << 21));        /* x2apic */
    g_assert_true(R(&t, 6, 0, CPUID_EAX) & (1u << 2));         /* arat */
    g_assert_cmphex(R(&t, 0xd, 1, CPUID_EAX), ==, 0x7);        /* xsaveopt xsavec xgetbv1 */
    /* XCR0: x87, SSE, AVX, MPX (no AVX-512): 0x1f, area up to BNDCSR. */
    g_assert_cmphex(R(&t, 0xd, 0, CPUID_EAX), ==, 0x1f);
    g_assert_cmpuint(R(&t, 0xd, 0, CPUID_ECX), ==, 1088);
    g_assert_cmpuint(R(&t, 0xd, 2, CPUID_EAX), ==, 256);
    g_assert_cmpuint(R(&t, 0xd, 2, CPUID_EBX), ==, 576);
    /* Intel: leaf 2 descriptors and leaf 4 (QEMU's legacy caches), no
     * 0x80000005, L2 in 0x80000006 ECX, no CmpLegacy. */
    g_assert_cmphex(R(&t, 2, 0, CPUID_EDX), ==, 0x002c307d);
    g_assert_cmphex(R(&t, 2, 0, CPUID_ECX), ==, 0x4d);
    g_assert_cmphex(R(&t, 4, 0, CPUID_EAX) & 0x1ff, ==, 0x121);    /* L1d, self-init */
    g_assert_cmphex(R(&t, 4, 3, CPUID_EAX) & 0x1ff, ==, 0x163);    /* L3 unified */
    g_assert_cmpuint(R(&t, 4, 3, CPUID_ECX), ==, 16383);
    g_assert_cmphex(R(&t, 4, 4, CPUID_EAX), ==, 0);
    g_assert_cmphex(R(&t, 0x80000005, 0, CPUID_ECX), ==, 0);
    g_assert_cmphex(R(&t, 0x80000006, 0, CPUID_ECX), ==, 0x10008040);
    cpuid_table_free(&t);
    x86_cpu_model_free(m);
}

static void test_epyc(void)
{
    X86CPUModel *m = model("EPYC");
    const X86Topology topo = { 1, 1, 4, 2 };
    CPUIDTable t;
    char s[49];

    build(m, &topo, 3, &t);
    vendor_of(&t, 0, s);
    g_assert_cmpstr(s, ==, "AuthenticAMD");
    /* Family 23 = 0xf + extended 8, model 1, stepping 2. */
    g_assert_cmphex(R(&t, 1, 0, CPUID_EAX), ==, 0x00800f12);
    model_id_of(&t, s);
    g_assert_cmpstr(s, ==, "AMD EPYC Processor");
    g_assert_cmphex(R(&t, 0x80000000, 0, CPUID_EAX), ==, 0x8000001e);
    g_assert_true(R(&t, 0x80000001, 0, CPUID_ECX) & (1u << 22));   /* topoext */
    g_assert_true(R(&t, 0x80000001, 0, CPUID_ECX) & (1u << 1));    /* CmpLegacy: 8 threads */
    g_assert_cmphex(R(&t, 0x8000000a, 0, CPUID_EDX), ==, 0x9);     /* npt nrip-save */
    g_assert_cmphex(R(&t, 0x80000005, 0, CPUID_ECX), ==, 0x20080140);  /* 32K 8-way */
    g_assert_cmphex(R(&t, 0x80000005, 0, CPUID_EDX), ==, 0x40040140);  /* 64K 4-way */
    g_assert_cmphex(R(&t, 0x80000006, 0, CPUID_ECX), ==, 0x02006140);
    g_assert_cmphex(R(&t, 0x80000006, 0, CPUID_EDX), ==, 0x00408140);
    /* 0x8000001d: L3 (subleaf 3) shared by the 8 threads of the die. */
    g_assert_cmphex(R(&t, 0x8000001d, 3, CPUID_EAX), ==, (7u << 14) | 0x163);
    g_assert_cmphex(R(&t, 0x8000001d, 0, CPUID_EAX), ==, (1u << 14) | 0x121);
    /* 0x8000001e: APIC 3 = core 1 thread 1; 2 threads per core. */
    g_assert_cmphex(R(&t, 0x8000001e, 0, CPUID_EAX), ==, 3);
    g_assert_cmphex(R(&t, 0x8000001e, 0, CPUID_EBX), ==, 0x101);
    g_assert_cmphex(R(&t, 0x8000001e, 0, CPUID_ECX), ==, 0);
    /* 0x80000008 ECX: ApicIdSize 3, NC = 8 - 1. */
    g_assert_cmphex(R(&t, 0x80000008, 0, CPUID_ECX), ==, 0x3007);
    cpuid_table_free(&t);
    x86_cpu_model_free(m);
}

/* ---- -cpu parsing ------------------------------------------------------- */

static bool feature_on(const X86CPUModel *m, const char *name)
{
    FeatureWord w;
    uint32_t mask;

    g_assert_true(x86_feature_lookup(name, &w, &mask));
    return (m->features[w] & mask) == mask;
}

static void test_feature_syntax(void)
{
    X86CPUModel *m = model("qemu64,+x2apic,-x2apic,+tsc-deadline");

    g_assert_false(feature_on(m, "x2apic"));
    g_assert_true(feature_on(m, "tsc-deadline"));
    x86_cpu_model_free(m);

    /* As QEMU: +feat after feat=on|off, then -feat, whatever the order. */
    m = model("qemu64,-x2apic,x2apic=on");
    g_assert_false(feature_on(m, "x2apic"));
    x86_cpu_model_free(m);
    m = model("qemu64,x2apic=off,+x2apic");
    g_assert_true(feature_on(m, "x2apic"));
    x86_cpu_model_free(m);
    m = model("qemu64,pni=off,sse3=on");            /* alias, last one wins */
    g_assert_true(feature_on(m, "pni"));
    x86_cpu_model_free(m);
    m = model("qemu64,lm=off,svm=no,cx16=false");
    g_assert_false(feature_on(m, "lm"));
    g_assert_false(feature_on(m, "svm"));
    g_assert_false(feature_on(m, "cx16"));
    x86_cpu_model_free(m);
    m = model("qemu64,popcnt");                     /* a bare name is =on */
    g_assert_true(feature_on(m, "popcnt"));
    x86_cpu_model_free(m);
}

static void test_feature_aliases(void)
{
    static const char *const same[][3] = {
        { "sse4.1", "sse4_1", "sse4-1" },
        { "sse4.2", "sse4_2", "sse4-2" },
        { "tsc-deadline", "tsc_deadline", "tsc-deadline" },
        { "lahf-lm", "lahf_lm", "lahf-lm" },
        { "pni", "sse3", "pni" },
        { "nx", "xd", "nx" },
        { "lm", "i64", "lm" },
        { "fxsr-opt", "ffxsr", "fxsr_opt" },
        { "kvm-pv-eoi", "kvm_pv_eoi", "kvm-pv-eoi" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(same); i++) {
        FeatureWord w0, w;
        uint32_t m0, m;
        g_assert_true(x86_feature_lookup(same[i][0], &w0, &m0));
        for (int j = 1; j < 3; j++) {
            g_assert_true(x86_feature_lookup(same[i][j], &w, &m));
            g_assert_cmpint(w, ==, w0);
            g_assert_cmphex(m, ==, m0);
        }
    }
    /* The bits, from the manuals. */
    FeatureWord w;
    uint32_t mask;
    g_assert_true(x86_feature_lookup("x2apic", &w, &mask));
    g_assert_cmpint(w, ==, FEAT_1_ECX);
    g_assert_cmphex(mask, ==, 1u << 21);
    g_assert_true(x86_feature_lookup("sse4.1", &w, &mask));
    g_assert_cmphex(mask, ==, 1u << 19);
    g_assert_true(x86_feature_lookup("kvmclock", &w, &mask));
    g_assert_cmpint(w, ==, FEAT_KVM);
    g_assert_cmphex(mask, ==, 0x9);                 /* both clock source bits */
    g_assert_true(x86_feature_lookup("kvmclock-stable-bit", &w, &mask));
    g_assert_cmphex(mask, ==, 1u << 24);
    g_assert_true(x86_feature_lookup("avx512f", &w, &mask));
    g_assert_cmpint(w, ==, FEAT_7_0_EBX);
    g_assert_cmphex(mask, ==, 1u << 16);
    g_assert_true(x86_feature_lookup("xsaveopt", &w, &mask));
    g_assert_cmpint(w, ==, FEAT_XSAVE);
    g_assert_true(x86_feature_lookup("invtsc", &w, &mask));
    g_assert_cmpint(w, ==, FEAT_8000_0007_EDX);
    g_assert_cmphex(mask, ==, 1u << 8);
    g_assert_false(x86_feature_lookup("foo", &w, &mask));
}

static void test_properties(void)
{
    X86CPUModel *m = model("qemu64,vendor=GenuineIntel,family=21,model=0x9e,stepping=10,"
                           "model-id=Test CPU,level=7,xlevel=0x80000008,phys-bits=36");
    CPUIDTable t;
    char s[49];

    build(m, &one_cpu, 0, &t);
    vendor_of(&t, 0, s);
    g_assert_cmpstr(s, ==, "GenuineIntel");
    /* Family 21 = 0xf + 6; model 0x9e: extended 9, base 0xe. */
    g_assert_cmphex(R(&t, 1, 0, CPUID_EAX), ==, 0x00690fea);
    model_id_of(&t, s);
    g_assert_cmpstr(s, ==, "Test CPU");
    g_assert_cmphex(R(&t, 0, 0, CPUID_EAX), ==, 7);
    g_assert_cmphex(R(&t, 0x80000000, 0, CPUID_EAX), ==, 0x80000008);
    g_assert_false(has_leaf(&t, 0xd));
    g_assert_cmphex(R(&t, 0x80000008, 0, CPUID_EAX) & 0xff, ==, 36);
    /* GenuineIntel: Intel cache leaves, no AMD alias bits in 0x80000001. */
    g_assert_cmphex(R(&t, 2, 0, CPUID_EAX), ==, 1);
    g_assert_cmphex(R(&t, 0x80000001, 0, CPUID_EDX), ==, 0x20100800);
    cpuid_table_free(&t);
    x86_cpu_model_free(m);
}

static void expect_error(const char *spec, const char *words)
{
    Error *err = NULL;
    X86CPUModel *m = x86_cpu_model_parse(spec, &err);

    if (m) {
        /* Some values are only checked against the accelerator. */
        g_assert_false(x86_cpu_model_realize(m, NULL, NULL, &err));
        x86_cpu_model_free(m);
    }
    g_assert_nonnull(err);
    if (!strstr(err->message, words)) {
        g_error("-cpu %s: error '%s' does not contain '%s'", spec, err->message, words);
    }
    g_error_free(err);
}

static void test_errors(void)
{
    expect_error("qemu64,+foo", "unknown CPU feature 'foo'");
    expect_error("qemu64,-bar", "unknown CPU feature 'bar'");
    expect_error("qemu64,baz", "unknown CPU feature 'baz'");
    expect_error("qemu64,foo=on", "unknown CPU property 'foo'");
    expect_error("nosuch", "unable to find CPU model 'nosuch'");
    expect_error("qemu64,vendor=Intel", "'vendor'");
    expect_error("qemu64,family=300", "'family'");
    expect_error("qemu64,model=256", "'model'");
    expect_error("qemu64,stepping=16", "'stepping'");
    expect_error("qemu64,level=x", "'level'");
    expect_error("qemu64,x2apic=maybe", "'x2apic'");
    expect_error("qemu64,kvm=2", "'kvm'");
    expect_error("qemu64,hv-relaxed", "hv-relaxed");
    expect_error("qemu64,phys-bits=99", "phys-bits");
    expect_error("qemu64,phys-bits=20", "phys-bits");
    /* host needs an accelerator that runs the host CPU. */
    expect_error("host", "requires KVM");
}

/* ---- topology ----------------------------------------------------------- */

static void test_apic_ids(void)
{
    const X86Topology one_pkg = { 1, 1, 3, 2 };             /* -smp 6,cores=3,threads=2 */
    const X86Topology two_pkg = { 2, 1, 3, 2 };             /* -smp 12,sockets=2,... */
    const X86Topology dies = { 2, 2, 3, 1 };                /* 2 sockets x 2 dies x 3 cores */
    static const uint32_t two_pkg_ids[] = { 0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13 };
    static const uint32_t dies_ids[] = { 0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14 };

    g_assert_cmpuint(x86_topo_core_offset(&one_pkg), ==, 1);
    g_assert_cmpuint(x86_topo_die_offset(&one_pkg), ==, 3);
    g_assert_cmpuint(x86_topo_pkg_offset(&one_pkg), ==, 3);
    for (unsigned i = 0; i < 6; i++) {
        g_assert_cmpuint(x86_apic_id_from_index(&one_pkg, i), ==, i);
    }
    for (unsigned i = 0; i < 12; i++) {
        g_assert_cmpuint(x86_apic_id_from_index(&two_pkg, i), ==, two_pkg_ids[i]);
        g_assert_cmpuint(x86_apic_id_from_index(&dies, i), ==, dies_ids[i]);
    }
    g_assert_cmpuint(x86_topo_pkg_offset(&dies), ==, 3);
    /* Zero counts mean one. */
    const X86Topology zero = { 0, 0, 0, 0 };
    g_assert_cmpuint(x86_apic_id_from_index(&zero, 5), ==, 5);
}

static void test_topology_leaves(void)
{
    const X86Topology topo = { 2, 1, 3, 2 };
    X86CPUModel *m = model("Skylake-Client,level=0xd");
    CPUIDTable t;
    uint32_t apic = x86_apic_id_from_index(&topo, 9);      /* package 1, core 1, thread 1 */

    g_assert_cmpuint(apic, ==, 11);
    build(m, &topo, apic, &t);
    /* Leaf 1: initial APIC ID, 8 addressable IDs per package, HTT. */
    g_assert_cmphex(R(&t, 1, 0, CPUID_EBX) >> 24, ==, 11);
    g_assert_cmphex((R(&t, 1, 0, CPUID_EBX) >> 16) & 0xff, ==, 8);
    g_assert_true(R(&t, 1, 0, CPUID_EDX) & (1u << 28));
    /* Leaf 0xb: SMT level (shift 1, 2 threads), core level (shift 3, 6). */
    g_assert_cmphex(R(&t, 0xb, 0, CPUID_EAX), ==, 1);
    g_assert_cmphex(R(&t, 0xb, 0, CPUID_EBX), ==, 2);
    g_assert_cmphex(R(&t, 0xb, 0, CPUID_ECX), ==, 0x100);
    g_assert_cmphex(R(&t, 0xb, 0, CPUID_EDX), ==, 11);
    g_assert_cmphex(R(&t, 0xb, 1, CPUID_EAX), ==, 3);
    g_assert_cmphex(R(&t, 0xb, 1, CPUID_EBX), ==, 6);
    g_assert_cmphex(R(&t, 0xb, 1, CPUID_ECX), ==, 0x201);
    g_assert_cmphex(R(&t, 0xb, 1, CPUID_EDX), ==, 11);
    g_assert_cmphex(R(&t, 0xb, 2, CPUID_EAX), ==, 0);
    g_assert_cmphex(R(&t, 0xb, 2, CPUID_ECX), ==, 2);
    /* Leaf 4: addressable core IDs - 1 = 3 (2 bits); L1 shared by the 2
     * threads of a core (1), L3 by the package's 8 IDs (7). */
    g_assert_cmphex(R(&t, 4, 0, CPUID_EAX) >> 26, ==, 3);
    g_assert_cmphex((R(&t, 4, 0, CPUID_EAX) >> 14) & 0xfff, ==, 1);
    g_assert_cmphex((R(&t, 4, 3, CPUID_EAX) >> 14) & 0xfff, ==, 7);
    /* 0x80000008 ECX (QEMU fills it for every vendor): ApicIdSize, NC. */
    g_assert_cmphex(R(&t, 0x80000008, 0, CPUID_ECX), ==, 0x3005);
    g_assert_false(has_leaf(&t, 0x1f));
    cpuid_table_free(&t);

    /* One CPU: no HTT, count 0. */
    build(m, &one_cpu, 0, &t);
    g_assert_cmphex(R(&t, 1, 0, CPUID_EBX) & 0xffff0000, ==, 0);
    g_assert_false(R(&t, 1, 0, CPUID_EDX) & (1u << 28));
    g_assert_cmphex(R(&t, 0xb, 1, CPUID_EBX), ==, 1);
    cpuid_table_free(&t);
    x86_cpu_model_free(m);
}

static void test_dies_leaf_1f(void)
{
    const X86Topology topo = { 2, 2, 3, 2 };        /* -smp 24,sockets=2,dies=2,cores=3,threads=2 */
    X86CPUModel *m = model("qemu64");
    CPUIDTable t;
    uint32_t apic = x86_apic_id_from_index(&topo, 23);

    /* thread 1, core 2, die 1, package 1: 1 | 2 << 1 | 1 << 3 | 1 << 4 */
    g_assert_cmpuint(apic, ==, 0x1d);
    build(m, &topo, apic, &t);
    g_assert_cmphex(R(&t, 0, 0, CPUID_EAX), ==, 0x1f);   /* raised for the die level */
    g_assert_cmphex(R(&t, 0x1f, 0, CPUID_EAX), ==, 1);
    g_assert_cmphex(R(&t, 0x1f, 0, CPUID_ECX), ==, 0x100);
    g_assert_cmphex(R(&t, 0x1f, 1, CPUID_EAX), ==, 3);
    g_assert_cmphex(R(&t, 0x1f, 1, CPUID_EBX), ==, 6);
    g_assert_cmphex(R(&t, 0x1f, 1, CPUID_ECX), ==, 0x201);
    g_assert_cmphex(R(&t, 0x1f, 2, CPUID_EAX), ==, 4);
    g_assert_cmphex(R(&t, 0x1f, 2, CPUID_EBX), ==, 12);
    g_assert_cmphex(R(&t, 0x1f, 2, CPUID_ECX), ==, 0x502);   /* die */
    g_assert_cmphex(R(&t, 0x1f, 2, CPUID_EDX), ==, 0x1d);
    g_assert_cmphex(R(&t, 0x1f, 3, CPUID_ECX), ==, 3);
    g_assert_cmphex(R(&t, 0xb, 1, CPUID_EAX), ==, 4);
    g_assert_cmphex(R(&t, 0xb, 1, CPUID_EBX), ==, 12);
    cpuid_table_free(&t);
    x86_cpu_model_free(m);
}

/* ---- the accelerator filter --------------------------------------------- */

/* A small "host": AMD family 25 with tsc-deadline, xsave and avx but no
 * x2apic, no svm, no avx512f; the KVM PV features of a 6.x kernel. */
static void fake_host(CPUIDTable *sup)
{
    const char *v = "AuthenticAMD";
    const char *id = "Fake Host CPU 9000";
    uint32_t w[12] = { 0 };

    cpuid_table_init(sup);
    cpuid_table_set(sup, 0, 0, 0, 0x10, *(uint32_t *)v, *(uint32_t *)(v + 8),
                    *(uint32_t *)(v + 4));
    cpuid_table_set(sup, 1, 0, 0, 0x00a00f11, 0, 0x95802001, 0x178bfbff);
    cpuid_table_set(sup, 7, 0, 1, 0, 0x219c91a9, 0, 0);
    cpuid_table_set(sup, 0xd, 0, 1, 0x7, 832, 832, 0);
    cpuid_table_set(sup, 0xd, 1, 1, 0xf, 0, 0, 0);
    cpuid_table_set(sup, 0xd, 2, 1, 256, 576, 0, 0);
    cpuid_table_set(sup, 0x40000000, 0, 0, 0x40000001, 0, 0, 0);
    cpuid_table_set(sup, 0x40000001, 0, 0, 0x01007afb, 0, 0, 0);
    cpuid_table_set(sup, 0x80000000, 0, 0, 0x80000021, 0, 0, 0);
    cpuid_table_set(sup, 0x80000001, 0, 0, 0x00a00f11, 0, 0x75c237ff & ~(1u << 2), 0x2fd3fbff);
    memcpy(w, id, strlen(id));
    for (int i = 0; i < 3; i++) {
        cpuid_table_set(sup, 0x80000002 + i, 0, 0, w[4 * i], w[4 * i + 1], w[4 * i + 2],
                        w[4 * i + 3]);
    }
    cpuid_table_set(sup, 0x80000008, 0, 0, 0x3030, 0, 0, 0);
}

static X86CPUModel *filtered(const char *spec, const CPUIDTable *sup, GPtrArray *warnings,
                             Error **errp)
{
    X86AccelCaps caps = { .name = "host", .supported = sup, .host_cpu = true, .kvm_pv = true };
    X86CPUModel *m = x86_cpu_model_parse(spec, errp);

    if (m && !x86_cpu_model_realize(m, &caps, warnings, errp)) {
        x86_cpu_model_free(m);
        return NULL;
    }
    return m;
}

static bool has_warning(GPtrArray *w, const char *text)
{
    for (guint i = 0; i < w->len; i++) {
        if (!strcmp(g_ptr_array_index(w, i), text)) {
            return true;
        }
    }
    return false;
}

static void test_filter(void)
{
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    CPUIDTable sup, t;
    Error *err = NULL;
    X86CPUModel *m;

    fake_host(&sup);
    /* qemu64 under KVM: x2apic on and svm off (QEMU's KVM defaults); the
     * fake host has no x2apic: dropped with QEMU's warning. */
    m = filtered("qemu64,+tsc-deadline", &sup, warnings, &err);
    g_assert_no_error(err);
    g_assert_true(has_warning(warnings,
        "host doesn't support requested feature: CPUID.01H:ECX.x2apic [bit 21]"));
    g_assert_cmpuint(warnings->len, ==, 1);
    build(m, &one_cpu, 0, &t);
    g_assert_false(R(&t, 1, 0, CPUID_ECX) & (1u << 21));
    g_assert_true(R(&t, 1, 0, CPUID_ECX) & (1u << 24));        /* supported: kept */
    g_assert_false(R(&t, 0x80000001, 0, CPUID_ECX) & (1u << 2));   /* svm off */
    /* The PV leaves: signature and QEMU's default features. */
    g_assert_cmphex(R(&t, 0x40000000, 0, CPUID_EAX), ==, 0x40000001);
    g_assert_cmphex(R(&t, 0x40000000, 0, CPUID_EBX), ==, 0x4b4d564b);     /* "KVMK" */
    g_assert_cmphex(R(&t, 0x40000000, 0, CPUID_ECX), ==, 0x564b4d56);     /* "VMKV" */
    g_assert_cmphex(R(&t, 0x40000000, 0, CPUID_EDX), ==, 0x4d);           /* "M\0\0\0" */
    /* kvmclock(0,3) nopiodelay asyncpf steal-time pv-eoi asyncpf-int
     * stable-bit, and poll-control because the host has it. */
    g_assert_cmphex(R(&t, 0x40000001, 0, CPUID_EAX), ==, 0x0100507b);
    cpuid_table_free(&t);
    x86_cpu_model_free(m);

    /* Explicit requests the host lacks: the same warning. */
    g_ptr_array_set_size(warnings, 0);
    m = filtered("qemu64,+avx512f,-x2apic", &sup, warnings, &err);
    g_assert_no_error(err);
    g_assert_true(has_warning(warnings,
        "host doesn't support requested feature: CPUID.07H:EBX.avx512f [bit 16]"));
    g_assert_cmpuint(warnings->len, ==, 1);
    g_assert_false(feature_on(m, "avx512f"));
    x86_cpu_model_free(m);

    /* enforce: an error naming the feature. */
    m = filtered("qemu64,+avx512f,-x2apic,enforce", &sup, warnings, &err);
    g_assert_null(m);
    g_assert_nonnull(strstr(err->message, "CPUID.07H:EBX.avx512f [bit 16]"));
    g_clear_error(&err);
    m = filtered("qemu64,enforce=on", &sup, warnings, &err);
    g_assert_null(m);
    g_assert_nonnull(strstr(err->message, "x2apic"));
    g_clear_error(&err);
    m = filtered("qemu64,-x2apic,enforce", &sup, warnings, &err);
    g_assert_no_error(err);
    x86_cpu_model_free(m);

    /* kvm=off hides the PV leaves; kvmclock=off clears both clock bits. */
    m = filtered("qemu64,kvm=off", &sup, NULL, &err);
    build(m, &one_cpu, 0, &t);
    g_assert_false(has_leaf(&t, 0x40000000));
    g_assert_false(has_leaf(&t, 0x40000001));
    cpuid_table_free(&t);
    x86_cpu_model_free(m);
    m = filtered("qemu64,kvmclock=off,+kvm-pv-unhalt", &sup, NULL, &err);
    build(m, &one_cpu, 0, &t);
    g_assert_cmphex(R(&t, 0x40000001, 0, CPUID_EAX) & 0x9, ==, 0);
    g_assert_true(R(&t, 0x40000001, 0, CPUID_EAX) & (1u << 7));
    cpuid_table_free(&t);
    x86_cpu_model_free(m);

    /* A non-KVM accelerator: no PV leaves, and asking for one warns. */
    CPUIDTable tcg_sup;
    fake_host(&tcg_sup);
    cpuid_table_set(&tcg_sup, 0x40000001, 0, 0, 0, 0, 0, 0);
    X86AccelCaps tcg = { .name = "TCG", .supported = &tcg_sup };
    g_ptr_array_set_size(warnings, 0);
    m = x86_cpu_model_parse("qemu64,+kvm-pv-eoi,-svm", NULL);
    g_assert_true(x86_cpu_model_realize(m, &tcg, warnings, &err));
    g_assert_true(has_warning(warnings,
        "TCG doesn't support requested feature: CPUID.40000001H:EAX.kvm-pv-eoi [bit 6]"));
    build(m, &one_cpu, 0, &t);
    g_assert_false(has_leaf(&t, 0x40000000));
    cpuid_table_free(&t);
    x86_cpu_model_free(m);
    cpuid_table_free(&tcg_sup);
    cpuid_table_free(&sup);
}

static void test_max_host(void)
{
    CPUIDTable sup, t;
    Error *err = NULL;
    X86CPUModel *m;
    char s[49];

    fake_host(&sup);
    /* host: the host's identity and every supported bit, no warning. */
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    m = filtered("host,kvmclock=off", &sup, warnings, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(warnings->len, ==, 0);
    build(m, &one_cpu, 0, &t);
    vendor_of(&t, 0, s);
    g_assert_cmpstr(s, ==, "AuthenticAMD");
    g_assert_cmphex(R(&t, 1, 0, CPUID_EAX), ==, 0x00a00f11);
    g_assert_cmpint(m->family, ==, 25);
    model_id_of(&t, s);
    g_assert_cmpstr(s, ==, "Fake Host CPU 9000");
    g_assert_cmphex(R(&t, 0, 0, CPUID_EAX), ==, 0x10);
    g_assert_cmphex(R(&t, 7, 0, CPUID_EBX), ==, 0x219c91a9);
    g_assert_cmphex(R(&t, 1, 0, CPUID_ECX), ==, 0x95802001);   /* as the host */
    g_assert_false(R(&t, 1, 0, CPUID_EDX) & (1u << 28));      /* HTT follows topology */
    /* All supported PV bits but the clock. */
    g_assert_cmphex(R(&t, 0x40000001, 0, CPUID_EAX), ==, 0x01007afb & ~0x9u);
    /* host-phys-bits by default for host: 48 from 0x80000008. */
    g_assert_cmphex(R(&t, 0x80000008, 0, CPUID_EAX) & 0xff, ==, 0x30);
    /* XSAVE from the host's leaf: x87, SSE, AVX. */
    g_assert_cmphex(R(&t, 0xd, 0, CPUID_EAX), ==, 0x7);
    g_assert_cmpuint(R(&t, 0xd, 0, CPUID_ECX), ==, 832);
    g_assert_cmphex(R(&t, 0xd, 1, CPUID_EAX), ==, 0xf);
    cpuid_table_free(&t);
    x86_cpu_model_free(m);

    /* max,host-phys-bits: the same; qemu64,host-phys-bits takes 48 too. */
    m = filtered("max,host-phys-bits", &sup, NULL, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(m->phys_bits, ==, 48);
    x86_cpu_model_free(m);
    m = filtered("qemu64", &sup, NULL, &err);
    g_assert_cmpuint(m->phys_bits, ==, 40);
    x86_cpu_model_free(m);
    m = filtered("qemu64,host-phys-bits=on", &sup, NULL, &err);
    g_assert_cmpuint(m->phys_bits, ==, 48);
    x86_cpu_model_free(m);
    cpuid_table_free(&sup);
}

static void test_cpu_list(void)
{
    g_autoptr(GString) out = g_string_new(NULL);

    x86_cpu_list(out);
    g_assert_nonnull(strstr(out->str, "x86 qemu64 "));
    g_assert_nonnull(strstr(out->str, "x86 max "));
    g_assert_nonnull(strstr(out->str, "x86 host "));
    g_assert_nonnull(strstr(out->str, "x86 Skylake-Client "));
    g_assert_nonnull(strstr(out->str, "x86 EPYC "));
    g_assert_nonnull(strstr(out->str, " x2apic "));
    g_assert_nonnull(strstr(out->str, " kvmclock "));
    g_assert_nonnull(strstr(out->str, " sse4.1 "));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cpu-model/qemu64", test_qemu64);
    g_test_add_func("/cpu-model/skylake-client", test_skylake);
    g_test_add_func("/cpu-model/epyc", test_epyc);
    g_test_add_func("/cpu-model/feature-syntax", test_feature_syntax);
    g_test_add_func("/cpu-model/feature-aliases", test_feature_aliases);
    g_test_add_func("/cpu-model/properties", test_properties);
    g_test_add_func("/cpu-model/errors", test_errors);
    g_test_add_func("/cpu-model/apic-ids", test_apic_ids);
    g_test_add_func("/cpu-model/topology-leaves", test_topology_leaves);
    g_test_add_func("/cpu-model/dies-leaf-1f", test_dies_leaf_1f);
    g_test_add_func("/cpu-model/filter", test_filter);
    g_test_add_func("/cpu-model/max-host", test_max_host);
    g_test_add_func("/cpu-model/list", test_cpu_list);
    return g_test_run();
}

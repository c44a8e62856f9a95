/*
 * The oracle's own tests: the host runner against results worked out by
 * hand, the comparison against candidates known to be right or wrong,
 * reproducers, robustness against sequences that fault or hang.
 */
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <xmmintrin.h>
#include "cand-model.h"
#include "gen.h"

static DiffCase c;
static DiffState out;

static void run(void)
{
    memset(&out, 0xcc, sizeof(out));
    g_assert_true(diff_host_run(c.code, c.len, &c.in, &out));
}

static void test_add_overflow(void)
{
    /* add eax, ecx: 0x7fffffff + 1 = 0x80000000, OF SF AF PF set, CF ZF clear */
    diff_case_init(&c, "add", 64);
    diff_case_emit(&c, (const uint8_t *)"\x01\xc8", 2);
    c.in.gpr[D_RAX] = 0xffffffff7fffffffULL;
    c.in.gpr[D_RCX] = 1;
    run();
    g_assert_cmphex(out.vector, ==, DIFF_VEC_NONE);
    g_assert_cmphex(out.gpr[D_RAX], ==, 0x80000000);        /* upper half zeroed */
    g_assert_cmphex(out.rflags & DIFF_FLAGS_ARITH, ==, DF_OF | DF_SF | DF_AF | DF_PF);
    g_assert_cmphex(out.rip, ==, DIFF_CODE_ADDR + 2);
    g_assert_cmphex(out.gpr[D_RSP], ==, DIFF_STACK_ADDR + 0x800);
    /* the flags going in are the case's: STC; ADC with CF */
    diff_case_init(&c, "stc adc", 64);
    diff_case_emit(&c, (const uint8_t *)"\x48\x11\xc8", 3);   /* adc rax, rcx */
    c.in.rflags = 2 | DF_CF;
    c.in.gpr[D_RAX] = ~0ULL;
    run();
    g_assert_cmphex(out.gpr[D_RAX], ==, 0);
    g_assert_cmphex(out.rflags & (DF_CF | DF_ZF), ==, DF_CF | DF_ZF);
}

static void test_div_zero(void)
{
    /* add rax, rbx; div rcx with rcx = 0: #DE at the DIV, the ADD done */
    diff_case_init(&c, "div0", 64);
    diff_case_emit(&c, (const uint8_t *)"\x48\x01\xd8\x48\xf7\xf1", 6);
    c.in.gpr[D_RAX] = 5;
    c.in.gpr[D_RBX] = 7;
    run();
    g_assert_cmpint(out.vector, ==, 0);
    g_assert_cmphex(out.rip, ==, DIFF_CODE_ADDR + 3);
    g_assert_cmphex(out.gpr[D_RAX], ==, 12);
    /* the harness is fine afterwards: the default MXCSR is back */
    g_assert_cmphex(_mm_getcsr() & 0xffc0, ==, 0x1f80);
}

static void test_store(void)
{
    /* mov [rdi+8], rax; push rbx: the store lands in the data page, the push in the stack page */
    diff_case_init(&c, "store", 64);
    diff_case_emit(&c, (const uint8_t *)"\x48\x89\x47\x08\x53", 5);
    c.in.gpr[D_RAX] = 0x1122334455667788ULL;
    c.in.gpr[D_RBX] = 0xa1a2a3a4a5a6a7a8ULL;
    c.in.gpr[D_RDI] = DIFF_DATA_ADDR;
    c.in.data[7] = 0x99;
    run();
    g_assert_cmpint(out.vector, ==, DIFF_VEC_NONE);
    uint64_t v;
    memcpy(&v, out.data + 8, 8);
    g_assert_cmphex(v, ==, 0x1122334455667788ULL);
    g_assert_cmphex(out.data[7], ==, 0x99);
    g_assert_cmphex(out.data[16], ==, 0);
    memcpy(&v, out.stack + 0x7f8, 8);
    g_assert_cmphex(v, ==, 0xa1a2a3a4a5a6a7a8ULL);
    g_assert_cmphex(out.gpr[D_RSP], ==, DIFF_STACK_ADDR + 0x7f8);
}

static void test_faults(void)
{
    /* ud2 */
    diff_case_init(&c, "ud2", 64);
    diff_case_emit(&c, (const uint8_t *)"\x90\x0f\x0b", 3);
    run();
    g_assert_cmpint(out.vector, ==, 6);
    g_assert_cmphex(out.rip, ==, DIFF_CODE_ADDR + 1);
    /* a load from an unmapped page: #PF with the address */
    diff_case_init(&c, "pf", 64);
    diff_case_emit(&c, (const uint8_t *)"\x48\x8b\x47\x10", 4);
    c.in.gpr[D_RDI] = 0x40000000;
    run();
    g_assert_cmpint(out.vector, ==, 14);
    g_assert_cmphex(out.fault_addr, ==, 0x40000010);
    /* a write to the code page: #PF */
    diff_case_init(&c, "pf code", 64);
    diff_case_emit(&c, (const uint8_t *)"\x48\x89\x07", 3);
    c.in.gpr[D_RDI] = DIFF_CODE_ADDR + 0x80;
    run();
    g_assert_cmpint(out.vector, ==, 14);
    g_assert_cmphex(out.fault_addr, ==, DIFF_CODE_ADDR + 0x80);
    /* movaps from a misaligned address: #GP */
    diff_case_init(&c, "gp", 64);
    diff_case_emit(&c, (const uint8_t *)"\x0f\x28\x47\x04", 4);
    c.in.gpr[D_RDI] = DIFF_DATA_ADDR;
    run();
    g_assert_cmpint(out.vector, ==, 13);
    /* rsp pointed at garbage, then a push: a fault, and the harness survives */
    diff_case_init(&c, "bad rsp", 64);
    diff_case_emit(&c, (const uint8_t *)"\x31\xe4\x50", 3);      /* xor esp, esp; push rax */
    run();
    g_assert_cmpint(out.vector, ==, 14);
    g_assert_cmphex(out.gpr[D_RSP], ==, 0);
    /* alignment check: AC set, a misaligned load is #AC (the kernel has CR0.AM) */
    diff_case_init(&c, "ac", 64);
    diff_case_emit(&c, (const uint8_t *)"\x48\x8b\x47\x01", 4);
    c.in.gpr[D_RDI] = DIFF_DATA_ADDR;
    c.in.rflags = 2 | DF_AC;
    run();
    g_assert_cmpint(out.vector, ==, 17);
    c.in.rflags = 2;
    run();
    g_assert_cmpint(out.vector, ==, DIFF_VEC_NONE);
    /* unmasked SSE exception: divss 1/0 with ZM clear is #XM */
    diff_case_init(&c, "xm", 64);
    diff_case_emit(&c, (const uint8_t *)"\xf3\x0f\x5e\xc1", 4); /* divss xmm0, xmm1 */
    c.in.mxcsr = 0x1f80 & ~0x200;
    float one = 1.0f;
    memcpy(c.in.xmm[0], &one, 4);
    run();
    g_assert_cmpint(out.vector, ==, 19);
    g_assert_cmphex(out.mxcsr & 0x3f, ==, 0x4);                 /* ZE */
    g_assert_cmphex(_mm_getcsr() & 0xffc0, ==, 0x1f80);
}

static void test_timeout(void)
{
    diff_case_init(&c, "hang", 64);
    diff_case_emit(&c, (const uint8_t *)"\xeb\xfe", 2);          /* jmp . */
    run();
    g_assert_cmpint(out.vector, ==, DIFF_VEC_TIMEOUT);
    g_assert_cmphex(out.rip, ==, DIFF_CODE_ADDR);
}

static void test_single_step(void)
{
    bool was = diff_host_single_step(true);

    /* exactly one instruction runs: inc eax; inc ebx stops after the first */
    diff_case_init(&c, "two", 64);
    diff_case_emit(&c, (const uint8_t *)"\xff\xc0\xff\xc3", 4);
    run();
    g_assert_cmpint(out.vector, ==, DIFF_VEC_ESCAPE);
    g_assert_cmphex(out.rip, ==, DIFF_CODE_ADDR + 2);
    g_assert_cmphex(out.gpr[D_RAX], ==, 1);
    g_assert_cmphex(out.gpr[D_RBX], ==, 0);
    /* capstone takes 66 f3 47 68 for PUSH imm32; the silicon reads imm16,
     * and the jmp after it never runs */
    diff_case_init(&c, "push16", 64);
    diff_case_emit(&c, (const uint8_t *)"\x66\xf3\x47\x68\xe7\xa0\xe9\xd5", 8);
    run();
    g_assert_cmpint(out.vector, ==, DIFF_VEC_ESCAPE);
    g_assert_cmphex(out.rip, ==, DIFF_CODE_ADDR + 6);
    g_assert_cmphex(out.gpr[D_RSP], ==, DIFF_STACK_ADDR + 0x7fe);
    /* a REP instruction runs all its iterations */
    diff_case_init(&c, "rep", 64);
    diff_case_emit(&c, (const uint8_t *)"\xf3\xa4", 2);
    c.in.gpr[D_RCX] = 5;
    c.in.gpr[D_RSI] = DIFF_DATA_ADDR;
    c.in.gpr[D_RDI] = DIFF_DATA_ADDR + 0x100;
    memcpy(c.in.data, "hello", 5);
    run();
    g_assert_cmpint(out.vector, ==, DIFF_VEC_NONE);
    g_assert_cmphex(out.rip, ==, DIFF_CODE_ADDR + 2);
    g_assert_cmphex(out.gpr[D_RCX], ==, 0);
    g_assert_cmpmem(out.data + 0x100, 5, "hello", 5);
    g_assert_cmphex(out.rflags & 0x100, ==, 0);         /* TF is not part of the result */
    /* a fault is still the fault */
    diff_case_init(&c, "ud", 64);
    diff_case_emit(&c, (const uint8_t *)"\x0f\x0b", 2);
    run();
    g_assert_cmpint(out.vector, ==, 6);
    diff_host_single_step(was);
}

static void test_mode32(void)
{
    if (!diff_host_mode32()) {
        g_test_skip("this host cannot run 32-bit user code (IA32 emulation off)");
        return;
    }
    /* DAA: AL 0x0f -> 0x15 with AF; INC EAX is 0x40 there (a REX in 64-bit) */
    diff_case_init(&c, "daa", 32);
    diff_case_emit(&c, (const uint8_t *)"\x27\x43", 2);          /* daa; inc ebx */
    c.in.gpr[D_RAX] = 0x1234560f;
    c.in.gpr[D_RBX] = 0xffffffff;
    run();
    g_assert_cmpint(out.vector, ==, DIFF_VEC_NONE);
    g_assert_cmphex(out.gpr[D_RAX], ==, 0x12345615);
    g_assert_cmphex(out.gpr[D_RBX], ==, 0);
    g_assert_cmphex(out.rflags & (DF_AF | DF_CF | DF_ZF), ==, DF_AF | DF_ZF);
    g_assert_cmphex(out.rip, ==, DIFF_CODE_ADDR + 2);
    /* AAM 0 is #DE; a push lands in the stack page with a 32-bit esp */
    diff_case_init(&c, "aam0", 32);
    diff_case_emit(&c, (const uint8_t *)"\x53\xd4\x00", 3);
    c.in.gpr[D_RBX] = 0xcafe;
    run();
    g_assert_cmpint(out.vector, ==, 0);
    g_assert_cmphex(out.rip, ==, DIFF_CODE_ADDR + 1);
    g_assert_cmphex(out.gpr[D_RSP], ==, DIFF_STACK_ADDR + 0x7fc);
    g_assert_cmphex(out.stack[0x7fc], ==, 0xfe);
    /* DAA is #UD in 64-bit mode */
    diff_case_init(&c, "daa64", 64);
    diff_case_emit(&c, (const uint8_t *)"\x27", 1);
    run();
    g_assert_cmpint(out.vector, ==, 6);
}

static void test_sse(void)
{
    float a = 1.0f, b = 2.0f, r;
    /* addps xmm1, xmm2 */
    diff_case_init(&c, "addps", 64);
    diff_case_emit(&c, (const uint8_t *)"\x0f\x58\xca", 3);
    memcpy(c.in.xmm[1], &a, 4);
    memcpy(c.in.xmm[2], &b, 4);
    run();
    memcpy(&r, out.xmm[1], 4);
    g_assert_cmpfloat(r, ==, 3.0f);
    /* cvtss2si eax, xmm1 with 2.5: 2 to nearest, 3 rounding up, 2 down */
    static const struct { uint32_t mxcsr; uint64_t res; } rc[] = {
        { 0x1f80, 2 }, { 0x3f80, 2 }, { 0x5f80, 3 }, { 0x7f80, 2 },
    };
    a = 2.5f;
    for (unsigned i = 0; i < 4; i++) {
        diff_case_init(&c, "cvtss2si", 64);
        diff_case_emit(&c, (const uint8_t *)"\xf3\x0f\x2d\xc1", 4);
        memcpy(c.in.xmm[1], &a, 4);
        c.in.mxcsr = rc[i].mxcsr;
        run();
        g_assert_cmphex(out.gpr[D_RAX], ==, rc[i].res);
        g_assert_cmphex(out.mxcsr, ==, rc[i].mxcsr | 0x20);   /* PE */
    }
}

static void emit_to_runner(void *opaque, const DiffCase *dc)
{
    diff_run_case(opaque, dc);
}

static void test_x87(void)
{
    /* fld1; fld1; faddp: ST0 = 2.0, one register in use (physical 7), TOP 7 */
    diff_case_init(&c, "x87", 64);
    diff_case_emit(&c, (const uint8_t *)"\xd9\xe8\xd9\xe8\xde\xc1", 6);
    run();
    g_assert_cmpint(out.vector, ==, DIFF_VEC_NONE);
    g_assert_cmphex((out.fsw >> 11) & 7, ==, 7);
    g_assert_cmphex(out.ftw, ==, 0x80);
    uint64_t m;
    uint16_t se;
    memcpy(&m, out.st[0], 8);
    memcpy(&se, out.st[0] + 8, 2);
    g_assert_cmphex(m, ==, 0x8000000000000000ULL);
    g_assert_cmphex(se, ==, 0x4000);
    /* the stack goes in: ST0 = 2.5 (TOP 3), FIST rounds per FCW.RC */
    static const struct { uint16_t fcw; uint32_t res; } rc[] = {
        { 0x037f, 2 }, { 0x077f, 2 }, { 0x0b7f, 3 }, { 0x0f7f, 2 },
    };
    for (unsigned i = 0; i < 4; i++) {
        diff_case_init(&c, "fist", 64);
        diff_case_emit(&c, (const uint8_t *)"\xdb\x17", 2);         /* fist dword [rdi] */
        c.in.gpr[D_RDI] = DIFF_DATA_ADDR;
        c.in.fsw = 3 << 11;
        c.in.ftw = 1 << 3;
        m = 0xa000000000000000ULL;
        se = 0x4000;
        memcpy(c.in.st[0], &m, 8);
        memcpy(c.in.st[0] + 8, &se, 2);
        c.in.fcw = rc[i].fcw;
        run();
        g_assert_cmpint(out.vector, ==, DIFF_VEC_NONE);
        uint32_t v;
        memcpy(&v, out.data, 4);
        g_assert_cmpuint(v, ==, rc[i].res);
        g_assert_cmphex(out.fsw & 0x20, ==, 0x20);                   /* PE */
    }
    /* an unmasked exception is #MF at the next waiting instruction */
    diff_case_init(&c, "mf", 64);
    diff_case_emit(&c, (const uint8_t *)"\xd9\xee\xd9\xe8\xde\xf1\x9b", 7); /* fldz fld1 fdivp fwait */
    c.in.fcw = 0x037b;                                          /* ZM clear */
    run();
    g_assert_cmpint(out.vector, ==, 16);
    g_assert_cmphex(out.rip, ==, DIFF_CODE_ADDR + 6);
    /* and an x87 difference is a mismatch, but not in an empty register */
    static DiffState a, b;
    diff_case_init(&c, "x87 cmp", 64);
    diff_case_emit(&c, (const uint8_t *)"\xd9\xe8", 2);
    diff_host_run(c.code, c.len, &c.in, &a);
    b = a;
    b.st[1][3] ^= 1;                                            /* ST1 is empty */
    g_assert_cmphex(diff_compare(&c, &a, &b), ==, 0);
    b.st[0][3] ^= 1;
    g_assert_cmphex(diff_compare(&c, &a, &b), ==, DIFF_M_X87);
    b = a;
    b.fsw ^= 0x4000;                                            /* C3 */
    g_assert_cmphex(diff_compare(&c, &a, &b), ==, DIFF_M_X87);
    c.undef_fsw = 0x4500;
    g_assert_cmphex(diff_compare(&c, &a, &b), ==, 0);
}

static void test_compare_model(void)
{
    DiffRunner r = { .cand = diff_cand_model_add, .cand_name = "model-add" };
    gen_alu(emit_to_runner, &r);
    /* the exact model agrees on every ADD r32/r64 case it can run */
    g_assert_cmpuint(r.cases - r.skipped, >=, 2 * 196);
    g_assert_cmpuint(r.mismatches, ==, 0);
}

static void test_compare_wrong(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    DiffRunner r = { .cand = diff_cand_wrong_add, .cand_name = "wrong-add", .report = f,
                     .max_reports = 1, .reduce = true };

    gen_alu(emit_to_runner, &r);
    fclose(f);
    /* every case the wrong candidate ran is a mismatch in RFLAGS only */
    g_assert_cmpuint(r.cases - r.skipped, >=, 2 * 196);
    g_assert_cmpuint(r.mismatches, ==, r.cases - r.skipped);
    g_assert_cmphex(r.last_mismatch & ~DIFF_M_FLAGS, ==, 0);
    g_assert_nonnull(strstr(buf, "MISMATCH add32"));
    g_assert_nonnull(strstr(buf, "add eax, ecx"));          /* capstone's disassembly */
    g_assert_nonnull(strstr(buf, "differs: rflags\n"));
    g_assert_nonnull(strstr(buf, "minimal:   tcgl-diff --candidate wrong-add --repro 'm64 c=01c8"));
    /* the first mismatch is add32 0,0 with flags clear: the minimal input is the default one */
    g_assert_nonnull(strstr(buf, "--repro 'm64 c=01c8'\n"));
    free(buf);

    /* a CF flip is not reported where the case says CF is undefined */
    DiffCase u;
    DiffState a, b;
    diff_case_init(&u, "undef", 64);
    diff_case_emit(&u, (const uint8_t *)"\x01\xc8", 2);
    u.in.gpr[D_RAX] = 0xffffffff;
    u.in.gpr[D_RCX] = 2;
    diff_host_run(u.code, u.len, &u.in, &a);
    diff_cand_wrong_add(u.code, u.len, &u.in, &b);
    g_assert_cmphex(diff_compare(&u, &a, &b), ==, DIFF_M_FLAGS);
    u.undef_flags = DF_CF;
    g_assert_cmphex(diff_compare(&u, &a, &b), ==, 0);
    /* nor a register the case says is undefined */
    b.gpr[D_RDX] ^= 1;
    g_assert_cmphex(diff_compare(&u, &a, &b), ==, DIFF_M_GPR);
    u.undef_gpr = 1u << D_RDX;
    g_assert_cmphex(diff_compare(&u, &a, &b), ==, 0);
    /* memory, XMM, the vector are compared */
    b.data[100] ^= 1;
    b.xmm[15][3] ^= 1;
    b.vector = 13;
    g_assert_cmphex(diff_compare(&u, &a, &b), ==, DIFF_M_MEM | DIFF_M_XMM | DIFF_M_VECTOR);
}

/* The implementation-specific outcomes: either side's is accepted, and
 * nothing else is. */
static void test_compare_either(void)
{
    static DiffCase u;
    static DiffState a, b;

    diff_case_init(&u, "either", 64);
    diff_case_emit(&u, (const uint8_t *)"\x67\xf3\xa4", 3);     /* rep movsb, a32 */
    a = u.in;
    a.gpr[D_RCX] = 0xffffffff00000000ULL;
    a.gpr[D_RSI] = 0xffffffff20000500ULL;
    a.vector = DIFF_VEC_NONE;
    b = a;
    b.gpr[D_RCX] = 0;                    /* the upper half cleared */
    b.gpr[D_RSI] = 0x20000500;
    g_assert_cmphex(diff_compare(&u, &a, &b), ==, DIFF_M_GPR);
    u.undef = DIFF_U_A32CNT0;
    g_assert_cmphex(diff_compare(&u, &a, &b), ==, 0);
    b.gpr[D_RSI] = 0x20000501;           /* the low half differs: still wrong */
    g_assert_cmphex(diff_compare(&u, &a, &b), ==, DIFF_M_GPR);
    b.gpr[D_RSI] = 0x20000500;
    b.gpr[D_RDX] = 1;                    /* not RCX/RSI/RDI */
    g_assert_cmphex(diff_compare(&u, &a, &b), ==, DIFF_M_GPR);

    /* an MMX store that faults: TOP 2 and one tag kept, or TOP 0 and every
     * tag valid, the same physical registers */
    a = u.in;
    a.vector = b.vector = 14;
    a.fsw = 2 << 11;
    a.ftw = 0x04;
    for (unsigned i = 0; i < 8; i++) {
        memset(a.st[i], 0x10 + ((i + 2) & 7), 10);  /* physical (2 + i) & 7 */
    }
    b = a;
    b.fsw = 0;
    b.ftw = 0xff;
    for (unsigned p = 0; p < 8; p++) {
        memset(b.st[p], 0x10 + p, 10);
    }
    u.undef = 0;
    g_assert_cmphex(diff_compare(&u, &a, &b), ==, DIFF_M_X87);
    u.undef = DIFF_U_MMXFAULT;
    g_assert_cmphex(diff_compare(&u, &a, &b), ==, 0);
    b.st[3][9] ^= 1;                     /* a register's contents differ */
    g_assert_cmphex(diff_compare(&u, &a, &b), ==, DIFF_M_X87);
    b.st[3][9] ^= 1;
    b.vector = DIFF_VEC_NONE;            /* only when both fault */
    g_assert_cmphex(diff_compare(&u, &a, &b) & DIFF_M_X87, ==, DIFF_M_X87);

    /* an x87 store with an unmasked stack underflow to a faulting address */
    a = u.in;
    a.vector = 14;
    a.fsw = 0x1000;
    b = a;
    b.vector = DIFF_VEC_NONE;
    b.rip = a.rip + 3;
    b.fsw = 0x90c1;                      /* B ES SF IE: pending, nothing stored */
    u.undef = 0;
    g_assert_cmphex(diff_compare(&u, &a, &b), ==, DIFF_M_RIP | DIFF_M_VECTOR | DIFF_M_X87);
    u.undef = DIFF_U_FPSTFAULT;
    g_assert_cmphex(diff_compare(&u, &a, &b), ==, 0);
    g_assert_cmphex(diff_compare(&u, &b, &a), ==, 0);
    b.data[7] ^= 1;                      /* but it stored something */
    g_assert_cmphex(diff_compare(&u, &a, &b), ==, DIFF_M_MEM);
    b.data[7] ^= 1;
    b.fsw = 0x1000;                      /* completed with no exception pending */
    g_assert_cmphex(diff_compare(&u, &a, &b), ==, DIFF_M_RIP | DIFF_M_VECTOR);
}

static void test_repro(void)
{
    static DiffCase a, b;
    char buf[16384];

    diff_case_init(&a, "r", 32);
    diff_case_emit(&a, (const uint8_t *)"\x27\x90", 2);
    a.in.gpr[D_RAX] = 0x99;
    a.in.gpr[D_RSP] = DIFF_STACK_ADDR + 0x100;
    a.in.rflags = 0x13;
    a.in.xmm[3][0] = 0x42;
    a.in.xmm[3][15] = 0x24;
    a.in.mxcsr = 0x7f80;
    a.in.data[0x123] = 0x77;
    a.in.data[0x124] = 0x78;
    a.in.stack[0xfff] = 1;
    a.in.fsw = 0x3800;
    a.in.ftw = 0x80;
    a.in.st[0][9] = 0x3f;
    a.undef_flags = DF_OF;
    a.undef_fsw = 0x4500;
    diff_repro_format(&a, buf, sizeof(buf));
    g_assert_cmpstr(buf, ==, "m32 c=2790 rax=0x99 rsp=0x30000100 fl=0x13 "
                    "x3=42000000000000000000000000000024 mxcsr=0x7f80 fsw=0x3800 ftw=0x80 "
                    "st0=0000000000000000003f ufsw=0x4500 uf=0x800 d123=7778 sfff=01");
    g_assert_true(diff_repro_parse(buf, &b));
    g_assert_cmpuint(b.len, ==, 2);
    g_assert_cmpmem(b.code, 2, a.code, 2);
    g_assert_cmpmem(&b.in, sizeof(b.in), &a.in, sizeof(a.in));
    g_assert_cmphex(b.undef_flags, ==, DF_OF);
    g_assert_cmphex(b.undef_fsw, ==, 0x4500);
    g_assert_false(diff_repro_parse("m64 c=zz", &b));
}

static void emit_count(void *opaque, const DiffCase *dc)
{
    (*(unsigned long *)opaque)++;
    g_assert_cmpuint(dc->len, >, 0);
}

static void test_random(void)
{
    /* random mode is deterministic for a seed and only makes accepted instructions */
    static DiffCase a, b;
    DiffRandom *g1 = diff_random_new(7, 64), *g2 = diff_random_new(7, 64);
    char d[256];

    for (int i = 0; i < 200; i++) {
        diff_random_case(g1, &a);
        diff_random_case(g2, &b);
        g_assert_cmpuint(a.len, ==, b.len);
        g_assert_cmpmem(a.code, a.len, b.code, b.len);
        g_assert_cmpmem(&a.in, sizeof(a.in), &b.in, sizeof(b.in));
        diff_disasm(a.code, a.len, 64, d, sizeof(d));
        g_assert_null(strchr(d, ';'));              /* one instruction */
        g_assert_null(strstr(d, "undecodable"));
        g_assert_true(strncmp(d, "j", 1) && strncmp(d, "call", 4) && strncmp(d, "syscall", 7));
    }
    diff_random_free(g1);
    diff_random_free(g2);
    unsigned long n = 0;
    gen_bcd(emit_count, &n);
    g_assert_cmpuint(n, >, 4000);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (!diff_host_init()) {
        return 1;
    }
    g_test_add_func("/tcgl-diff/host/add-overflow", test_add_overflow);
    g_test_add_func("/tcgl-diff/host/div-zero", test_div_zero);
    g_test_add_func("/tcgl-diff/host/store", test_store);
    g_test_add_func("/tcgl-diff/host/faults", test_faults);
    g_test_add_func("/tcgl-diff/host/timeout", test_timeout);
    g_test_add_func("/tcgl-diff/host/mode32", test_mode32);
    g_test_add_func("/tcgl-diff/host/single-step", test_single_step);
    g_test_add_func("/tcgl-diff/host/sse", test_sse);
    g_test_add_func("/tcgl-diff/host/x87", test_x87);
    g_test_add_func("/tcgl-diff/compare/model", test_compare_model);
    g_test_add_func("/tcgl-diff/compare/wrong", test_compare_wrong);
    g_test_add_func("/tcgl-diff/compare/either", test_compare_either);
    g_test_add_func("/tcgl-diff/repro", test_repro);
    g_test_add_func("/tcgl-diff/random", test_random);
    return g_test_run();
}

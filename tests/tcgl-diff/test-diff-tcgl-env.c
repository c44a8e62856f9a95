/*
 * cand-tcgl.c, the adapter that makes tcg-lite a candidate, checked with
 * stub-tcgl.c standing in for tcg-lite: the guest it builds (paging, GDT,
 * IDT, TSS) works as a CPU walks it, states go in and come out, and the
 * host and the adapter agree on the stub's instructions, faults included.
 */
#include <glib.h>
#include <string.h>
#include "cand-tcgl.h"

extern unsigned stub_tcgl_flushes;

static DiffRunner runner = { .cand = diff_candidate_tcgl, .cand_name = "tcgl(stub)",
                             .max_reports = 5, .reduce = false };

static void check_agree(const char *name, const char *code, size_t len, uint64_t rax, uint64_t rcx,
                        uint64_t rdi, int vector)
{
    static DiffCase c;
    static DiffState a, b;

    diff_case_init(&c, name, 64);
    diff_case_emit(&c, (const uint8_t *)code, len);
    c.in.gpr[D_RAX] = rax;
    c.in.gpr[D_RCX] = rcx;
    c.in.gpr[D_RDI] = rdi;
    c.in.gpr[D_R13] = 0x1313131313131313ULL;
    c.in.rflags = 2 | DF_DF | DF_CF;
    c.in.mxcsr = 0x7fa0;                        /* RC up, PE set: passes through */
    c.in.fcw = 0x27f;
    for (int i = 0; i < 16; i++) {
        memset(c.in.xmm[i], 0x11 * i, 16);
    }
    for (int i = 0; i < DIFF_PAGE; i++) {
        c.in.data[i] = (uint8_t)(i * 3);
        c.in.stack[i] = (uint8_t)(i * 5);
    }
    unsigned long mm = runner.mismatches;
    diff_run_case(&runner, &c);
    g_assert_cmpuint(runner.mismatches, ==, mm);
    g_assert_cmpuint(runner.skipped, ==, 0);
    /* and the candidate's answer is the expected one */
    g_assert_true(diff_host_run(c.code, c.len, &c.in, &a));
    g_assert_true(diff_candidate_tcgl(c.code, c.len, &c.in, &b));
    g_assert_cmpint(a.vector, ==, vector);
    g_assert_cmpint(b.vector, ==, vector);
    g_assert_cmphex(diff_compare(&c, &a, &b), ==, 0);
}

static void test_add(void)
{
    runner.report = stdout;
    check_agree("add", "\x01\xc8", 2, 0x7fffffff, 1, 0, DIFF_VEC_NONE);
    check_agree("add zero", "\x01\xc8", 2, 0xffffffff00000000ULL, 0, 0, DIFF_VEC_NONE);
    check_agree("add twice", "\x01\xc8\x01\xc8", 4, 0x80000000, 0x80000000, 0, DIFF_VEC_NONE);
    g_assert_cmpuint(stub_tcgl_flushes, >, 0);
}

static void test_store(void)
{
    check_agree("store data", "\x48\x89\x07", 3, 0x1122334455667788ULL, 0, DIFF_DATA_ADDR + 0x10,
                DIFF_VEC_NONE);
    check_agree("store stack", "\x48\x89\x07", 3, 0x99, 0, DIFF_STACK_ADDR + 0xff8, DIFF_VEC_NONE);
    /* #PF: the code page is read-only, the harness's own pages are not the user's,
     * nothing is mapped elsewhere */
    check_agree("store code", "\x01\xc8\x48\x89\x07", 5, 1, 2, DIFF_CODE_ADDR + 0x40, 14);
    check_agree("store system page", "\x48\x89\x07", 3, 1, 2, TCGL_DIFF_PHYS + 0x7000, 14);
    check_agree("store unmapped", "\x48\x89\x07", 3, 1, 2, 0x40000000, 14);
    check_agree("store page end", "\x48\x89\x07", 3, 1, 2, DIFF_DATA_ADDR + 0xffc, 14);
}

static void test_ud(void)
{
    check_agree("ud2", "\x01\xc8\x0f\x0b", 4, 1, 2, 0, 6);
}

static void test_guest_layout(void)
{
    uint8_t *ram = tcgl_diff_ram();
    uint64_t e;

    g_assert_nonnull(ram);
    /* IDT gate 3 is callable from CPL 3, the others are not */
    memcpy(&e, ram + 0x8000 + 16 * 3, 8);
    g_assert_cmphex((e >> 45) & 3, ==, 3);
    memcpy(&e, ram + 0x8000 + 16 * 13, 8);
    g_assert_cmphex((e >> 45) & 3, ==, 0);
    /* every vector's stub is a HLT */
    for (int v = 0; v < 32; v++) {
        g_assert_cmphex(ram[0x9000 + 16 * v], ==, 0xf4);
    }
}

/* The adapter has a thread of its own: the host runner's watchdog still
 * stops a looping sequence (its ticks go to the running thread). */
static void test_host_timeout(void)
{
    static DiffCase c;
    static DiffState a;

    g_assert_nonnull(tcgl_diff_ram());
    diff_case_init(&c, "hang", 64);
    diff_case_emit(&c, (const uint8_t *)"\xeb\xfe", 2);
    g_assert_true(diff_host_run(c.code, c.len, &c.in, &a));
    g_assert_cmpint(a.vector, ==, DIFF_VEC_TIMEOUT);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (!diff_host_init()) {
        return 1;
    }
    g_test_add_func("/tcgl-diff/adapter/add", test_add);
    g_test_add_func("/tcgl-diff/adapter/store", test_store);
    g_test_add_func("/tcgl-diff/adapter/ud", test_ud);
    g_test_add_func("/tcgl-diff/adapter/layout", test_guest_layout);
    g_test_add_func("/tcgl-diff/adapter/host-timeout", test_host_timeout);
    return g_test_run();
}

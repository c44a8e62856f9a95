/*
 * tcg-lite execution loop and block cache (accel/tcg-lite/cpu-exec.c):
 * blocks, links, self-modifying code (a store into the running block and
 * into an earlier one, a write through the memory API), instructions that
 * straddle pages, faults inside a block, the REP chunks and interrupts
 * between blocks (a fake PIC behind cpu_get_interrupt), the interrupt
 * shadow and exit requests.  The other parts are the stubs of
 * tests/unit/tcgl/stub-core.c.
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include "hw/i386/x86-irq.h"
#include "stub-core.h"

static uint64_t *R(void) { return stub.c.env->regs; }

static void put(uint64_t addr, const char *hex)
{
    uint8_t b[256];
    unsigned n = 0, v;
    for (const char *p = hex; *p; ) {
        if (*p == ' ') {
            p++;
            continue;
        }
        g_assert_true(sscanf(p, "%2x", &v) == 1);
        b[n++] = (uint8_t)v;
        p += 2;
    }
    stub_write(addr, b, n);
}

/* Runs from rip until the loop returns (a delivered exception stops it). */
static TCGLExit exec_at(uint64_t rip)
{
    stub.c.env->rip = rip;
    stub.nr_events = 0;
    return tcgl_cpu_exec(&stub.c);
}

static void expect_stop(uint64_t rip, int vector)
{
    g_assert_cmpuint(stub.nr_events, ==, 1);
    g_assert_cmpint(stub.last_event.vector, ==, vector);
    g_assert_cmphex(stub.c.env->rip, ==, rip);
}

static void test_exec_basic(void)
{
    stub_reset(32);
    /* sum 1..100 with a loop, then UD2 */
    put(0x1000, "31 c0 b9 64 00 00 00 01 c8 e2 fc 0f 0b");
    g_assert_cmpint(exec_at(0x1000), ==, TCGL_EXIT_REQUEST);
    expect_stop(0x100b, 6);
    g_assert_cmphex(R()[R_EAX], ==, 5050);
    g_assert_cmpuint(stub.c.insns, >=, 2 + 200);
    /* a fault in the middle of a block: earlier effects stay, rip is the
     * faulting instruction */
    R()[R_ECX] = 0;
    put(0x1100, "b8 07 00 00 00 31 d2 f7 f1 bb 01 00 00 00");
    exec_at(0x1100);
    expect_stop(0x1107, 0);
    g_assert_cmphex(R()[R_EAX], ==, 7);
    /* an instruction longer than 15 bytes: #GP(0) */
    put(0x1200, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 90");
    exec_at(0x1200);
    expect_stop(0x1200, 13);
}

/* Blocks of a hot loop are linked: the lookups (fetch_page) stay few. */
static void test_exec_links(void)
{
    stub_reset(32);
    /* 0x2000: loop of two blocks: dec ecx; jz out; jmp back */
    put(0x2000, "49 74 02 eb fb 0f 0b");
    R()[R_ECX] = 10000;
    stub.nr_fetch_page = 0;
    exec_at(0x2000);
    expect_stop(0x2005, 6);
    g_assert_cmphex(R()[R_ECX], ==, 0);
    g_assert_cmpuint(stub.nr_fetch_page, <, 20);
}

static void test_exec_smc(void)
{
    stub_reset(32);
    /* a store into the running block changes the immediate of a later
     * instruction in it: mov byte [0x3008], 5; mov eax, 1; ud2 */
    put(0x3000, "c6 05 08 30 00 00 05 b8 01 00 00 00 0f 0b");
    exec_at(0x3000);
    expect_stop(0x300c, 6);
    g_assert_cmphex(R()[R_EAX], ==, 5);
    /* run it again: the block decoded anew holds the stored value */
    put(0x3008, "01");
    exec_at(0x3000);
    g_assert_cmphex(R()[R_EAX], ==, 5);

    /* an earlier block: 0x4000 "mov eax, 1; ret" runs, then the guest
     * changes it and calls it again */
    put(0x4000, "b8 01 00 00 00 c3");
    R()[R_ESP] = 0x7000;
    put(0x3100, "e8 fb 0e 00 00 89 c3 c6 05 01 40 00 00 07 e8 ed 0e 00 00 0f 0b");
    exec_at(0x3100);
    expect_stop(0x3113, 6);
    g_assert_cmphex(R()[R_EBX], ==, 1);
    g_assert_cmphex(R()[R_EAX], ==, 7);
    /* a write through the memory API (a device's DMA, a loader) */
    put(0x4001, "09");
    put(0x3200, "e8 fb 0d 00 00 0f 0b");
    exec_at(0x3200);
    g_assert_cmphex(R()[R_EAX], ==, 9);
}

/* An instruction across a page boundary: its block depends on both pages. */
static void test_exec_straddle(void)
{
    stub_reset(32);
    /* 0x5ffd: mov eax, 0x44332211 (bytes 0x5ffd..0x6001); ud2 */
    put(0x5ff8, "90 90 90 90 90 b8 11 22 33 44 0f 0b");
    exec_at(0x5ff8);
    expect_stop(0x6002, 6);
    g_assert_cmphex(R()[R_EAX], ==, 0x44332211);
    put(0x6000, "55");                     /* the second page only */
    exec_at(0x5ff8);
    g_assert_cmphex(R()[R_EAX], ==, 0x44552211);
}

/* ---- interrupts ---------------------------------------------------------- */

static int fake_vector = 0x20;
static unsigned fake_acks;

static int fake_pic_read_irq(void *pic)
{
    (void)pic;
    fake_acks++;
    return fake_vector;
}

static void raise_hard(void)
{
    __atomic_or_fetch(&stub.cpu.interrupt_request, CPU_INTERRUPT_HARD, __ATOMIC_SEQ_CST);
}

static void test_exec_interrupts(void)
{
    stub_reset(32);
    x86_irq_set_pic(NULL, fake_pic_read_irq);
    stub.hwint_handler = 0x9000;
    put(0x9000, "0f 0b");

    /* IF = 0: the interrupt waits */
    put(0x1000, "b8 01 00 00 00 0f 0b");
    raise_hard();
    exec_at(0x1000);
    g_assert_cmpuint(stub.nr_hwints, ==, 0);
    expect_stop(0x1005, 6);

    /* IF = 1: taken before the first block */
    stub.c.env->rflags |= 0x200;
    fake_acks = 0;
    exec_at(0x1000);
    g_assert_cmpuint(stub.nr_hwints, ==, 1);
    g_assert_cmpint(stub.last_hwint, ==, 0x20);
    g_assert_cmphex(stub.hwint_rip, ==, 0x1000);
    expect_stop(0x9000, 6);

    /* the interrupt shadow (after STI) holds it for one instruction */
    raise_hard();
    stub.c.env->events.interrupt_shadow = X86_SHADOW_STI;
    stub.nr_hwints = 0;
    exec_at(0x1000);
    g_assert_cmpuint(stub.nr_hwints, ==, 1);
    g_assert_cmphex(stub.hwint_rip, ==, 0x1005);
    g_assert_cmphex(R()[R_EAX], ==, 1);

    /* REP MOVSB over pages is interruptible between chunks and resumes */
    stub.c.env->rflags |= 0x200;
    for (unsigned k = 0; k < 3 * 4096; k++) {
        stub.ram[0x100000 + k] = (uint8_t)(k * 13);
    }
    put(0x1100, "f3 a4 0f 0b");
    R()[R_ESI] = 0x100000;
    R()[R_EDI] = 0x180000;
    R()[R_ECX] = 3 * 4096;
    stub.c.env->rip = 0x1100;
    stub.nr_hwints = 0;
    stub.hwint_handler = 0;         /* "return" at once: rip stays */
    /* the interrupt arrives after the first chunk: a block boundary */
    {
        /* first chunk without interrupt */
        stub.cpu.interrupt_request = 0;
        stub.c.exit_request = 0;
        /* run one chunk: an exit request set by the fake PIC's next INTA
         * ends the loop afterwards */
    }
    raise_hard();
    stub.c.env->events.interrupt_shadow = X86_SHADOW_MOV_SS;  /* let one chunk run first */
    stub.hwint_handler = 0;
    stub.nr_events = 0;
    tcgl_cpu_exec(&stub.c);
    g_assert_cmpuint(stub.nr_hwints, >=, 1);
    g_assert_cmphex(stub.hwint_rip, ==, 0x1100);            /* on the REP instruction */
    g_assert_cmphex(stub.hwint_rcx, ==, 2 * 4096);          /* after one page */
    expect_stop(0x1102, 6);                                 /* then it finished */
    g_assert_cmphex(R()[R_ECX], ==, 0);
    g_assert_cmpmem(stub.ram + 0x180000, 3 * 4096, stub.ram + 0x100000, 3 * 4096);
    x86_irq_set_pic(NULL, NULL);
    stub.cpu.interrupt_request = 0;
}

static void test_exec_requests(void)
{
    stub_reset(32);
    put(0x1000, "0f 0b");
    stub.c.exit_request = 1;
    stub.c.exit_reason = TCGL_EXIT_HALT;
    g_assert_cmpint(exec_at(0x1000), ==, TCGL_EXIT_HALT);
    g_assert_cmpuint(stub.nr_events, ==, 0);                 /* nothing ran */
    g_assert_cmpint(stub.c.exit_reason, ==, TCGL_EXIT_REQUEST);
    g_assert_cmpint(stub.c.exit_request, ==, 0);
    __atomic_or_fetch(&stub.cpu.interrupt_request, CPU_INTERRUPT_INIT, __ATOMIC_SEQ_CST);
    g_assert_cmpint(exec_at(0x1000), ==, TCGL_EXIT_REQUEST);
    g_assert_cmpuint(stub.nr_events, ==, 0);
    stub.cpu.interrupt_request = 0;
    /* a flush from a handler, in a loop: the loop goes on with blocks
     * decoded anew (dec ecx; wbinvd; jnz back; ud2) */
    put(0x1200, "49 0f 09 75 fb 0f 0b");
    R()[R_ECX] = 50;
    stub.nr_fetch_page = 0;
    exec_at(0x1200);
    expect_stop(0x1205, 6);
    g_assert_cmphex(R()[R_ECX], ==, 0);
    g_assert_cmpuint(stub.nr_fetch_page, >=, 100);     /* no links survive a flush */
    /* a flush between runs: everything is decoded again */
    tcgl_blocks_flush();
    exec_at(0x1000);
    expect_stop(0x1000, 6);
}

/* The flags of other parts' forms: CPL-0-only (#GP above CPL 0) and
 * "ends the block"; code fetched from a page that is not RAM. */
static void test_exec_opflags(void)
{
    stub_reset(32);
    /* mov eax, 1; clts; mov eax, 2; ud2 */
    put(0x1000, "b8 01 00 00 00 0f 06 b8 02 00 00 00 0f 0b");
    stub.nr_clts = 0;
    exec_at(0x1000);
    expect_stop(0x100c, 6);
    g_assert_cmpuint(stub.nr_clts, ==, 1);
    g_assert_cmphex(R()[R_EAX], ==, 2);
    stub.c.hflags |= 3;                             /* CPL 3 */
    exec_at(0x1000);
    expect_stop(0x1005, 13);
    g_assert_cmpuint(stub.nr_clts, ==, 1);
    stub.c.hflags &= ~3u;
    /* a handler from another part's table (CLI, END): IF=0 after it, so the
     * pending interrupt is not taken */
    x86_irq_set_pic(NULL, fake_pic_read_irq);
    stub.c.env->rflags |= 0x200;
    put(0x1100, "fa 0f 0b");
    stub.c.env->events.interrupt_shadow = X86_SHADOW_STI;   /* not before the CLI either */
    raise_hard();
    stub.nr_hwints = 0;
    exec_at(0x1100);
    expect_stop(0x1101, 6);
    g_assert_cmpuint(stub.nr_hwints, ==, 0);
    stub.cpu.interrupt_request = 0;
    x86_irq_set_pic(NULL, NULL);
    /* code outside RAM: one instruction at a time, never cached */
    put(STUB_MMIO_CODE_PAGE, "31 c0 40 40 40 0f 0b");
    exec_at(STUB_MMIO_CODE_PAGE);
    expect_stop(STUB_MMIO_CODE_PAGE + 5, 6);
    g_assert_cmphex(R()[R_EAX], ==, 3);
    put(STUB_MMIO_CODE_PAGE + 2, "48");            /* inc -> dec */
    exec_at(STUB_MMIO_CODE_PAGE);
    g_assert_cmphex(R()[R_EAX], ==, 1);
}

/* A CPU-bound loop: checks its result and prints the instruction rate
 * (docs/tcg-lite.md quotes it). */
static void test_exec_speed(void)
{
    gint64 t0, t1;
    uint64_t insns0;

    stub_reset(64);
    /* loop: add rax, rbx; xor rdx, rax; lea rbx, [rbx+rdx*2+1]; shr rdx, 3;
     *       mov [rsp+8], rdx; add rax, [rsp+8]; dec ecx; jnz loop; ud2 */
    put(0x1000, "48 01 d8 48 31 c2 48 8d 5c 53 01 48 c1 ea 03 48 89 54 24 08 "
                "48 03 44 24 08 ff c9 75 e3 0f 0b");
    R()[R_ECX] = 2000000;
    R()[R_ESP] = 0x7000;
    insns0 = stub.c.insns;
    t0 = g_get_monotonic_time();
    exec_at(0x1000);
    t1 = g_get_monotonic_time();
    expect_stop(0x101d, 6);
    {
        /* the same loop in C */
        uint64_t rax = 0, rbx = 0, rdx = 0;
        for (unsigned k = 0; k < 2000000; k++) {
            rax += rbx;
            rdx ^= rax;
            rbx = rbx + rdx * 2 + 1;
            rdx >>= 3;
            rax += rdx;
        }
        g_assert_cmphex(R()[R_EAX], ==, rax);
        g_assert_cmphex(R()[R_EBX], ==, rbx);
    }
    printf("# loop: %.0f million guest instructions/s\n",
           (double)(stub.c.insns - insns0) / (double)(t1 - t0 + 1));

    /* registers only: the dispatch itself */
    put(0x1100, "48 01 d8 48 31 c2 48 8d 5c 53 01 48 c1 ea 03 48 01 d0 ff c9 75 ea 0f 0b");
    R()[R_EAX] = R()[R_EBX] = R()[R_EDX] = 0;
    R()[R_ECX] = 5000000;
    insns0 = stub.c.insns;
    t0 = g_get_monotonic_time();
    exec_at(0x1100);
    t1 = g_get_monotonic_time();
    expect_stop(0x1116, 6);
    {
        uint64_t rax = 0, rbx = 0, rdx = 0;
        for (unsigned k = 0; k < 5000000; k++) {
            rax += rbx;
            rdx ^= rax;
            rbx = rbx + rdx * 2 + 1;
            rdx >>= 3;
            rax += rdx;
        }
        g_assert_cmphex(R()[R_EAX], ==, rax);
    }
    printf("# register loop: %.0f million guest instructions/s\n",
           (double)(stub.c.insns - insns0) / (double)(t1 - t0 + 1));
}

/* Random bytes run by the loop in every mode, placed across page ends
 * (straddling instructions, blocks cut at the page end), with stores
 * into the code itself; a watchdog thread kicks the loop as a vCPU kick
 * would.  The loop must always come back. */
static volatile bool watchdog_on;

static gpointer watchdog(gpointer data)
{
    (void)data;
    while (watchdog_on) {
        g_usleep(500);
        stub.c.exit_request = 1;
    }
    return NULL;
}

static void test_exec_random(void)
{
    GRand *r = g_rand_new_with_seed(99);
    const int modes[3] = { 16, 32, 64 };
    GThread *t;
    uint64_t insns = 0;

    watchdog_on = true;
    t = g_thread_new("watchdog", watchdog, NULL);
    for (int m = 0; m < 3; m++) {
        for (unsigned n = 0; n < 1500; n++) {
            uint8_t code[64];
            uint64_t at = 0x20000 + (uint64_t)g_rand_int_range(r, 0, 16) * 0x1000 - 32 +
                          (uint64_t)g_rand_int_range(r, 0, 8);
            stub_reset(modes[m]);
            for (unsigned k = 0; k < sizeof(code); k++) {
                code[k] = (uint8_t)g_rand_int(r);
            }
            stub_write(at, code, sizeof(code));
            for (int k = 0; k < 16; k++) {
                R()[k] = (uint64_t)g_rand_int_range(r, 0x20000, 0x31000);
            }
            R()[R_ESP] = 0x7000;
            stub.c.env->rip = at;
            stub.c.exit_request = 0;
            tcgl_cpu_exec(&stub.c);
            insns += stub.c.insns;
        }
    }
    watchdog_on = false;
    g_thread_join(t);
    printf("# random code through the loop: %" G_GINT64_MODIFIER "u instructions\n", insns);
    g_assert_cmpuint(insns, >, 3 * 1500);
    g_rand_free(r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    stub_reset(32);
    tcgl_exec_init();
    g_test_add_func("/tcgl/exec/basic", test_exec_basic);
    g_test_add_func("/tcgl/exec/links", test_exec_links);
    g_test_add_func("/tcgl/exec/smc", test_exec_smc);
    g_test_add_func("/tcgl/exec/straddle", test_exec_straddle);
    g_test_add_func("/tcgl/exec/interrupts", test_exec_interrupts);
    g_test_add_func("/tcgl/exec/requests", test_exec_requests);
    g_test_add_func("/tcgl/exec/opflags", test_exec_opflags);
    g_test_add_func("/tcgl/exec/speed", test_exec_speed);
    g_test_add_func("/tcgl/exec/random", test_exec_random);
    return g_test_run();
}

/*
 * tcg-lite part "sys": segments, far transfers, gates, task switches,
 * interrupt delivery (IVT, IDT, 64-bit IDT with IST), #DF and triple
 * fault, SYSCALL/SYSENTER, control registers, CPUID, MSRs and port I/O.
 * Instructions are TCGLInsn built by hand and run by the stub executor
 * (stub-sys.c) over flat memory; frames are checked on the stack.
 */
#include <inttypes.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <glib.h>
#include "accel/accel.h"
#include "system/runstate.h"
#include "tcgl-sys.h"
#include "stub-sys.h"
#include "hw/i386/x86-irq.h"
#include "hw/intc/apic.h"
#include "hw/memory.h"
#include "system/main-loop.h"

/* seg.c / sys.c handlers named by the tests */
TCGLHandler tcgl_op_lxdt, tcgl_op_sxdt, tcgl_op_sldt_str, tcgl_op_lxs, tcgl_op_pushf, tcgl_op_popf, tcgl_op_cli, tcgl_op_rdtsc, tcgl_op_callf_mem, tcgl_op_mov_sreg, tcgl_op_iret, tcgl_op_retf, tcgl_op_callf_ptr, tcgl_op_jmpf_ptr,
    tcgl_op_int, tcgl_op_sti, tcgl_op_cpuid, tcgl_op_hlt, tcgl_op_syscall, tcgl_op_sysret,
    tcgl_op_sysenter, tcgl_op_sysexit, tcgl_op_rdmsr, tcgl_op_wrmsr, tcgl_op_in, tcgl_op_out,
    tcgl_op_ins_outs, tcgl_op_lar_lsl, tcgl_op_ltr;

#define GDT   0x1000
#define IDT   0x2000
#define TSS   0x3000
#define TSS2  0x3100
#define TSS64 0x3200
#define IOMAP 0x3400        /* TSS32 with an I/O bitmap */

/* GDT selectors */
enum {
    S_CODE0 = 0x08, S_DATA0 = 0x10, S_CODE3 = 0x18, S_DATA3 = 0x20, S_TSS = 0x28,
    S_GATE = 0x30, S_CODE64 = 0x38, S_DATA64 = 0x40, S_TSS64 = 0x48, S_NP = 0x58,
    S_TSS2 = 0x60, S_DATA3B = 0x68, S_CODE64_3 = 0x70, S_XONLY = 0x78, S_TSSIO = 0x80,
    S_GATE64 = 0x88,
};

static CPUState cpu0;
static CPUIDTable max_cpuid;        /* "-cpu max" on tcg-lite: what it implements */
static TCGLCPU cpu;
static TCGLCPU *c = &cpu;

static uint64_t rd(uint64_t a, unsigned n)
{
    uint64_t v = 0;
    memcpy(&v, &stub_mem[a], n);
    return v;
}

static void wr(uint64_t a, unsigned n, uint64_t v)
{
    memcpy(&stub_mem[a], &v, n);
}

static uint64_t desc(uint32_t base, uint32_t limit, unsigned type, unsigned dpl, bool s,
                     bool p, bool db, bool l, bool g)
{
    uint32_t lo = (limit & 0xffff) | (base << 16);
    uint32_t hi = ((base >> 16) & 0xff) | (type << 8) | (s << 12) | (dpl << 13) | (p << 15) |
                  (limit & 0xf0000) | (l << 21) | (db << 22) | (g << 23) | (base & 0xff000000);
    return lo | (uint64_t)hi << 32;
}

static uint64_t gate(unsigned sel, uint32_t off, unsigned type, unsigned dpl, unsigned params)
{
    uint32_t lo = (off & 0xffff) | (sel << 16);
    uint32_t hi = (off & 0xffff0000) | (1u << 15) | (dpl << 13) | (type << 8) | params;
    return lo | (uint64_t)hi << 32;
}

static void set_gdt(unsigned sel, uint64_t d)
{
    wr(GDT + (sel & ~7u), 8, d);
}

static void idt32(int v, unsigned sel, uint32_t off, unsigned type, unsigned dpl)
{
    wr(IDT + v * 8, 8, gate(sel, off, type, dpl, 0));
}

static void idt64(int v, unsigned sel, uint64_t off, unsigned dpl, unsigned ist)
{
    wr(IDT + v * 16, 8, gate(sel, off, SYS_INT32, dpl, ist));
    wr(IDT + v * 16 + 8, 8, off >> 32);
}

/* Loads a segment register from its GDT descriptor (test set-up). */
static void seg(int s, unsigned sel)
{
    uint64_t d = rd(GDT + (sel & ~7u), 8);
    tcgl_seg_from_desc(&c->env->segs[s], sel, (uint32_t)d, d >> 32);
}

static void reset_all(void)
{
    memset(stub_mem, 0, sizeof(stub_mem));
    memset(&cpu0, 0, sizeof(cpu0));
    cpu0.index = 0;
    memset(&cpu, 0, sizeof(cpu));
    c->env = &cpu0.env;
    c->cpu = &cpu0;
    c->a20_mask = ~0ULL;
    x86_cpu_reset_state(c->env, 0, true);
    stub_prog = NULL;
    stub_prog_len = 0;
    stub_steps = 0;
    stub_tlb_flushes = 0;

    set_gdt(S_CODE0, desc(0, 0xfffff, 0xb, 0, 1, 1, 1, 0, 1));
    set_gdt(S_DATA0, desc(0, 0xfffff, 0x3, 0, 1, 1, 1, 0, 1));
    set_gdt(S_CODE3, desc(0, 0xfffff, 0xb, 3, 1, 1, 1, 0, 1));
    set_gdt(S_DATA3, desc(0, 0xfffff, 0x2, 3, 1, 1, 1, 0, 1));
    set_gdt(S_TSS, desc(TSS, 0x67, SYS_TSS32_BUSY, 0, 0, 1, 0, 0, 0));
    set_gdt(S_GATE, gate(S_CODE0, 0x5100, SYS_CALL32, 3, 2));
    set_gdt(S_CODE64, desc(0, 0xfffff, 0xb, 0, 1, 1, 0, 1, 1));
    set_gdt(S_DATA64, desc(0, 0xfffff, 0x3, 0, 1, 1, 1, 0, 1));
    set_gdt(S_TSS64, desc(TSS64, 0x67, SYS_TSS32_BUSY, 0, 0, 1, 0, 0, 0));
    set_gdt(S_NP, desc(0, 0xfffff, 0x3, 0, 1, 0, 1, 0, 1));
    set_gdt(S_TSS2, desc(TSS2, 0x67, SYS_TSS32_AVL, 0, 0, 1, 0, 0, 0));
    set_gdt(S_DATA3B, desc(0, 0xfffff, 0x3, 3, 1, 1, 1, 0, 1));
    set_gdt(S_CODE64_3, desc(0, 0xfffff, 0xb, 3, 1, 1, 0, 1, 1));
    set_gdt(S_XONLY, desc(0, 0xfffff, 0x9, 0, 1, 1, 1, 0, 1));
    set_gdt(S_TSSIO, desc(IOMAP, 0x68 + 0x100 / 8 + 0xa0, SYS_TSS32_BUSY, 0, 0, 1, 0, 0, 0));
    c->env->gdt.base = GDT;
    set_gdt(S_GATE64, gate(S_CODE64, 0x80003000, SYS_CALL32, 3, 0));
    wr(GDT + S_GATE64 + 8, 8, 0xffffffff);          /* offset bits 63:32 */
    c->env->gdt.limit = 0x97;
    c->env->idt.base = IDT;
    c->env->idt.limit = 0x7ff;
    tcgl_update_hflags(c);
}

/* 32-bit protected mode, flat, at CPL cpl, TR = the 32-bit TSS. */
static void pmode32(unsigned cpl)
{
    X86CPUState *env = c->env;

    env->cr0 = CR0_PE | CR0_ET;
    seg(R_CS, cpl ? S_CODE3 | 3 : S_CODE0);
    seg(R_SS, cpl ? S_DATA3 | 3 : S_DATA0);
    seg(R_DS, cpl ? S_DATA3 | 3 : S_DATA0);
    seg(R_ES, cpl ? S_DATA3 | 3 : S_DATA0);
    env->tr.selector = S_TSS;
    env->tr.base = TSS;
    env->tr.limit = 0x67;
    env->tr.type = SYS_TSS32_BUSY;
    env->tr.present = true;
    wr(TSS + 4, 4, 0x9000);         /* ESP0 */
    wr(TSS + 8, 2, S_DATA0);        /* SS0 */
    env->rflags = 0x202;
    env->regs[R_ESP] = cpl ? 0x7000 : 0x9000;
    tcgl_update_hflags(c);
}

/* 64-bit mode at CPL cpl (paging is the mmu's: the stub ignores it). */
static void lmode64(unsigned cpl)
{
    X86CPUState *env = c->env;

    env->cr0 = CR0_PE | CR0_ET | CR0_PG;
    env->cr4 = CR4_PAE;
    env->efer = EFER_LME | EFER_LMA | EFER_SCE;
    seg(R_CS, cpl ? S_CODE64_3 | 3 : S_CODE64);
    seg(R_SS, cpl ? S_DATA3B | 3 : S_DATA64);
    env->tr.selector = S_TSS64;
    env->tr.base = TSS64;
    env->tr.limit = 0x67;
    env->tr.type = SYS_TSS32_BUSY;
    env->tr.present = true;
    wr(TSS64 + 4, 8, 0xa000);       /* RSP0 */
    wr(TSS64 + 0x24, 8, 0xb008);    /* IST1 (aligned down to 16 on use) */
    env->idt.limit = 0xfff;
    env->rflags = 0x202;
    env->regs[R_ESP] = 0x8000;
    tcgl_update_hflags(c);
}

static TCGLInsn insn(TCGLHandler *fn, unsigned opc, unsigned len, unsigned opsize)
{
    return (TCGLInsn){ .fn = fn, .opc = opc, .len = len, .opsize = opsize, .adsize = 4,
                       .mod = 3, .base = TCGL_NOREG, .index = TCGL_NOREG, .seg = R_DS };
}

/* Runs fn on i, returning the vector it raised or -1. */
static int run_op(TCGLHandler *fn, const TCGLInsn *i)
{
    c->event.kind = TCGL_EV_NONE;
    if (sigsetjmp(c->jmp, 1)) {
        return c->event.vector;
    }
    fn(c, i);
    return -1;
}

/* ---- segment loads ------------------------------------------------------- */

static int mov_sreg(int s, unsigned sel)
{
    TCGLInsn i = insn(tcgl_op_mov_sreg, 0x8e, 2, 2);
    i.reg = s;
    i.rm = R_EAX;
    c->env->regs[R_EAX] = sel;
    return run_op(tcgl_op_mov_sreg, &i);
}

static void test_seg_loads(void)
{
    reset_all();
    pmode32(0);
    g_assert_cmpint(c->hflags & TCGL_HF_CPL_MASK, ==, 0);
    g_assert_true(c->hflags & TCGL_HF_CS32);

    /* a good load sets the accessed bit in the GDT */
    g_assert_false(rd(GDT + S_DATA3 + 5, 1) & 1);
    g_assert_cmpint(mov_sreg(R_ES, S_DATA3 | 3), ==, -1);
    g_assert_cmpint(c->env->segs[R_ES].selector, ==, S_DATA3 | 3);
    g_assert_true(rd(GDT + S_DATA3 + 5, 1) & 1);
    g_assert_cmpint(c->seg_wlim[R_ES], ==, 0xffffffff);

    /* not present: #NP(sel) */
    g_assert_cmpint(mov_sreg(R_DS, S_NP), ==, EXCP_NP);
    g_assert_cmpint(c->event.error, ==, S_NP);
    /* execute-only code into DS: #GP(sel) */
    g_assert_cmpint(mov_sreg(R_DS, S_XONLY | 1), ==, EXCP_GP);
    g_assert_cmpint(c->event.error, ==, S_XONLY);
    /* SS with RPL != CPL: #GP(sel) */
    g_assert_cmpint(mov_sreg(R_SS, S_DATA0 | 3), ==, EXCP_GP);
    g_assert_cmpint(c->event.error, ==, S_DATA0);
    /* SS with DPL 3 at CPL 0 */
    g_assert_cmpint(mov_sreg(R_SS, S_DATA3), ==, EXCP_GP);
    g_assert_cmpint(c->event.error, ==, S_DATA3);
    /* null SS outside 64-bit mode: #GP(0) */
    g_assert_cmpint(mov_sreg(R_SS, 0), ==, EXCP_GP);
    g_assert_cmpint(c->event.error, ==, 0);
    /* past the GDT limit */
    g_assert_cmpint(mov_sreg(R_DS, 0x100), ==, EXCP_GP);
    g_assert_cmpint(c->event.error, ==, 0x100);
    /* CS cannot be loaded with MOV */
    g_assert_cmpint(mov_sreg(R_CS, S_CODE0), ==, EXCP_UD);
    /* null DS is fine, and unusable */
    g_assert_cmpint(mov_sreg(R_DS, 0), ==, -1);
    g_assert_true(c->env->segs[R_DS].unusable);
    g_assert_cmpint(c->seg_rlim[R_DS], ==, -1);
    /* MOV SS sets the interrupt shadow, and chained blocks stop for it */
    c->chain_break = false;
    g_assert_cmpint(mov_sreg(R_SS, S_DATA0), ==, -1);
    g_assert_cmpint(c->env->events.interrupt_shadow, ==, X86_SHADOW_MOV_SS);
    g_assert_true(c->chain_break);

    /* CPL 3: a DPL 0 data segment is refused */
    c->chain_break = false;
    pmode32(3);
    g_assert_true(c->chain_break);                  /* a mode change stops chained blocks */
    g_assert_cmpint(c->hflags & TCGL_HF_CPL_MASK, ==, 3);
    g_assert_cmpint(c->mmu_idx, ==, TCGL_MMU_USER);
    g_assert_cmpint(mov_sreg(R_DS, S_DATA0 | 3), ==, EXCP_GP);
    g_assert_cmpint(c->event.error, ==, S_DATA0);

    /* 64-bit mode, CPL 0: a null SS with RPL 0 is allowed */
    lmode64(0);
    g_assert_true(c->hflags & TCGL_HF_CS64);
    g_assert_cmpint(mov_sreg(R_SS, 0), ==, -1);
    g_assert_cmpint(c->hflags & TCGL_HF_CPL_MASK, ==, 0);

    /* real mode: base = selector << 4 */
    reset_all();
    g_assert_cmpint(mov_sreg(R_DS, 0x1234), ==, -1);
    g_assert_cmphex(c->env->segs[R_DS].base, ==, 0x12340);
    g_assert_cmphex(c->seg_base[R_DS], ==, 0x12340);
}

static void test_lar_lsl(void)
{
    TCGLInsn i = insn(tcgl_op_lar_lsl, TCGL_OPC(TCGL_MAP_0F, 0x02), 3, 4);

    reset_all();
    pmode32(3);
    i.reg = R_EBX;
    i.rm = R_EAX;
    c->env->regs[R_EAX] = S_DATA3 | 3;
    g_assert_cmpint(run_op(tcgl_op_lar_lsl, &i), ==, -1);
    g_assert_true(c->env->rflags & RFL_ZF);
    g_assert_cmphex(c->env->regs[R_EBX], ==, 0x00c0f200);
    c->env->regs[R_EAX] = S_DATA0;      /* DPL 0 from CPL 3: ZF = 0 */
    g_assert_cmpint(run_op(tcgl_op_lar_lsl, &i), ==, -1);
    g_assert_false(c->env->rflags & RFL_ZF);
    i.opc = TCGL_OPC(TCGL_MAP_0F, 0x03);
    c->env->regs[R_EAX] = S_DATA3 | 3;
    g_assert_cmpint(run_op(tcgl_op_lar_lsl, &i), ==, -1);
    g_assert_cmphex(c->env->regs[R_EBX], ==, 0xffffffff);
}

/* ---- interrupt delivery --------------------------------------------------- */

static StubInsn prog[16];

static void prog_set(unsigned n, uint64_t lin, uint16_t flags, TCGLInsn i)
{
    prog[n] = (StubInsn){ .lin = lin, .flags = flags, .insn = i };
    stub_prog = prog;
    if (n + 1 > stub_prog_len) {
        stub_prog_len = n + 1;
    }
}

static void test_real_mode_int(void)
{
    X86CPUState *env;
    TCGLInsn i;

    reset_all();
    env = c->env;
    wr(0x21 * 4, 4, 0x12345678);            /* IVT: 1234:5678 */
    env->idt.base = 0;
    env->idt.limit = 0x3ff;
    env->segs[R_CS].selector = 0x1000;
    env->segs[R_CS].base = 0x10000;
    env->segs[R_SS].selector = 0x2000;
    env->segs[R_SS].base = 0x20000;
    env->regs[R_ESP] = 0x100;
    env->rip = 0x10;
    env->rflags = 0x202;
    tcgl_update_hflags(c);
    i = insn(tcgl_op_int, 0xcd, 2, 2);
    i.imm = 0x21;
    prog_set(0, 0x10010, TCGL_OPF_BRANCH, i);
    prog_set(1, 0x12340 + 0x5678, TCGL_OPF_BRANCH, insn(tcgl_op_iret, 0xcf, 1, 2));
    stub_prog_len = 1;
    g_assert_cmpint(tcgl_cpu_exec(c), ==, TCGL_EXIT_REQUEST);
    g_assert_true(stub_off_program);
    g_assert_cmphex(env->segs[R_CS].selector, ==, 0x1234);
    g_assert_cmphex(env->segs[R_CS].base, ==, 0x12340);
    g_assert_cmphex(env->rip, ==, 0x5678);
    g_assert_cmphex(env->regs[R_ESP], ==, 0xfa);
    g_assert_cmphex(rd(0x200fa, 2), ==, 0x12);      /* IP after INT */
    g_assert_cmphex(rd(0x200fc, 2), ==, 0x1000);    /* CS */
    g_assert_cmphex(rd(0x200fe, 2), ==, 0x202);     /* FLAGS */
    g_assert_false(env->rflags & RFL_IF);
    /* IRET comes back */
    stub_prog_len = 2;
    tcgl_cpu_exec(c);
    g_assert_cmphex(env->segs[R_CS].selector, ==, 0x1000);
    g_assert_cmphex(env->rip, ==, 0x12);
    g_assert_cmphex(env->regs[R_ESP], ==, 0x100);
    g_assert_true(env->rflags & RFL_IF);
}

static void test_pm_int_ring3(void)
{
    X86CPUState *env;
    TCGLInsn i;

    reset_all();
    env = c->env;
    pmode32(3);
    idt32(0x80, S_CODE0, 0x5000, SYS_INT32, 3);
    idt32(0x81, S_CODE0, 0x5800, SYS_INT32, 0);     /* DPL 0: INT 0x81 from ring 3 faults */
    idt32(EXCP_GP, S_CODE0, 0x6000, SYS_TRAP32, 0);
    env->rip = 0x4000;
    i = insn(tcgl_op_int, 0xcd, 2, 4);
    i.imm = 0x80;
    prog_set(0, 0x4000, TCGL_OPF_BRANCH, i);
    prog_set(1, 0x5000, TCGL_OPF_BRANCH, insn(tcgl_op_iret, 0xcf, 1, 4));
    stub_prog_len = 1;
    tcgl_cpu_exec(c);
    g_assert_cmphex(env->rip, ==, 0x5000);
    g_assert_cmphex(env->segs[R_CS].selector, ==, S_CODE0);
    g_assert_cmphex(env->segs[R_SS].selector, ==, S_DATA0);
    g_assert_cmpint(c->hflags & TCGL_HF_CPL_MASK, ==, 0);
    g_assert_cmphex(env->regs[R_ESP], ==, 0x9000 - 20);
    g_assert_cmphex(rd(0x8fec, 4), ==, 0x4002);
    g_assert_cmphex(rd(0x8ff0, 4), ==, S_CODE3 | 3);
    g_assert_cmphex(rd(0x8ff4, 4), ==, 0x202);
    g_assert_cmphex(rd(0x8ff8, 4), ==, 0x7000);
    g_assert_cmphex(rd(0x8ffc, 4), ==, S_DATA3 | 3);
    g_assert_false(env->rflags & RFL_IF);

    /* A DPL 0 data segment in DS becomes null on the way back to ring 3. */
    seg(R_DS, S_DATA0);
    stub_prog_len = 2;
    tcgl_cpu_exec(c);
    g_assert_cmphex(env->rip, ==, 0x4002);
    g_assert_cmphex(env->segs[R_CS].selector, ==, S_CODE3 | 3);
    g_assert_cmphex(env->segs[R_SS].selector, ==, S_DATA3 | 3);
    g_assert_cmphex(env->regs[R_ESP], ==, 0x7000);
    g_assert_cmpint(c->hflags & TCGL_HF_CPL_MASK, ==, 3);
    g_assert_true(env->rflags & RFL_IF);
    g_assert_true(env->segs[R_DS].unusable);
    g_assert_cmphex(env->segs[R_ES].selector, ==, S_DATA3 | 3);

    /* INT 0x81 through a DPL 0 gate: #GP(0x81 * 8 + 2), error code pushed */
    env->rip = 0x4000;
    prog[0].insn.imm = 0x81;
    stub_prog_len = 1;
    tcgl_cpu_exec(c);
    g_assert_cmphex(env->rip, ==, 0x6000);
    g_assert_cmphex(env->regs[R_ESP], ==, 0x9000 - 24);
    g_assert_cmphex(rd(0x8fe8, 4), ==, 0x81 * 8 + 2);
    g_assert_cmphex(rd(0x8fec, 4), ==, 0x4000);     /* a fault: the INT itself */
    g_assert_true(env->rflags & RFL_IF);            /* trap gate */
}

static void test_long_mode_ist(void)
{
    X86CPUState *env;
    TCGLInsn i;

    reset_all();
    env = c->env;
    lmode64(0);
    idt64(EXCP_NMI, S_CODE64, 0xffffffff80001000ULL, 0, 1);
    env->rip = 0x400123;
    c->event.kind = TCGL_EV_NONE;
    if (!sigsetjmp(c->jmp, 1)) {
        tcgl_deliver_hwint(c, 0, true);
    } else {
        g_assert_not_reached();
    }
    g_assert_cmphex(env->rip, ==, 0xffffffff80001000ULL);
    g_assert_cmphex(env->regs[R_ESP], ==, 0xb000 - 40);
    g_assert_cmphex(rd(0xb000 - 40, 8), ==, 0x400123);
    g_assert_cmphex(rd(0xb000 - 32, 8), ==, S_CODE64);
    g_assert_cmphex(rd(0xb000 - 24, 8), ==, 0x202);
    g_assert_cmphex(rd(0xb000 - 16, 8), ==, 0x8000);
    g_assert_cmphex(rd(0xb000 - 8, 8), ==, S_DATA64);
    g_assert_true(env->events.nmi_masked);
    g_assert_false(env->rflags & RFL_IF);
    /* IRETQ returns and unmasks NMIs */
    i = insn(tcgl_op_iret, 0xcf, 2, 8);
    g_assert_cmpint(run_op(tcgl_op_iret, &i), ==, -1);
    g_assert_cmphex(env->rip, ==, 0x400123);
    g_assert_cmphex(env->regs[R_ESP], ==, 0x8000);
    g_assert_false(env->events.nmi_masked);
    g_assert_true(env->rflags & RFL_IF);

    /* ring 3 -> ring 0 without IST: RSP0, SS = null selector */
    lmode64(3);
    idt64(0x80, S_CODE64, 0xffffffff80002000ULL, 3, 0);
    env->rip = 0x400000;
    env->regs[R_ESP] = 0x7ff8;
    i = insn(tcgl_op_int, 0xcd, 2, 8);
    i.imm = 0x80;
    prog_set(0, 0x400000, TCGL_OPF_BRANCH, i);
    stub_prog_len = 1;
    tcgl_cpu_exec(c);
    g_assert_cmphex(env->rip, ==, 0xffffffff80002000ULL);
    g_assert_cmpint(c->hflags & TCGL_HF_CPL_MASK, ==, 0);
    g_assert_cmphex(env->segs[R_SS].selector, ==, 0);
    g_assert_cmphex(env->regs[R_ESP], ==, 0xa000 - 40);
    g_assert_cmphex(rd(0xa000 - 16, 8), ==, 0x7ff8);
    g_assert_cmphex(rd(0xa000 - 8, 8), ==, S_DATA3B | 3);
    g_assert_cmphex(rd(0xa000 - 32, 8), ==, S_CODE64_3 | 3);
}

static void test_double_triple_fault(void)
{
    X86CPUState *env;

    reset_all();
    env = c->env;
    pmode32(0);
    idt32(EXCP_DF, S_CODE0, 0x7000, SYS_INT32, 0);
    /* #GP's gate is not present: #NP while delivering #GP -> #DF */
    wr(IDT + EXCP_GP * 8, 8, gate(S_CODE0, 0x6000, SYS_INT32, 0, 0) & ~(1ULL << 47));
    env->rip = 0x4000;
    env->regs[R_EAX] = S_XONLY;
    TCGLInsn i = insn(tcgl_op_mov_sreg, 0x8e, 2, 2);
    i.reg = R_DS;
    i.rm = R_EAX;
    prog_set(0, 0x4000, TCGL_OPF_END, i);
    stub_prog_len = 1;
    g_assert_cmpint(tcgl_cpu_exec(c), ==, TCGL_EXIT_REQUEST);
    g_assert_cmphex(env->rip, ==, 0x7000);
    g_assert_cmphex(rd(env->regs[R_ESP], 4), ==, 0);           /* #DF error code */
    g_assert_cmphex(rd(env->regs[R_ESP] + 4, 4), ==, 0x4000);
    g_assert_false(env->events.exception_injected);

    /* #DF's gate missing too: shutdown */
    pmode32(0);
    env->rip = 0x4000;
    wr(IDT + EXCP_DF * 8, 8, 0);
    g_assert_cmpint(tcgl_cpu_exec(c), ==, TCGL_EXIT_SHUTDOWN);
    g_assert_cmphex(env->rip, ==, 0x4000);
}

/* ---- far transfers, gates, tasks ------------------------------------------- */

static void test_call_gate(void)
{
    X86CPUState *env;
    TCGLInsn i;

    reset_all();
    env = c->env;
    pmode32(3);
    env->rip = 0x4000;
    wr(0x7000, 4, 0x11111111);
    wr(0x7004, 4, 0x22222222);
    i = insn(tcgl_op_callf_ptr, 0x9a, 7, 4);
    i.imm = 0xdeadbeef;                  /* ignored: the gate gives the offset */
    i.imm2 = S_GATE | 3;
    g_assert_cmpint(run_op(tcgl_op_callf_ptr, &i), ==, -1);
    g_assert_cmphex(env->rip, ==, 0x5100);
    g_assert_cmphex(env->segs[R_CS].selector, ==, S_CODE0);
    g_assert_cmphex(env->segs[R_SS].selector, ==, S_DATA0);
    g_assert_cmpint(c->hflags & TCGL_HF_CPL_MASK, ==, 0);
    g_assert_cmphex(env->regs[R_ESP], ==, 0x9000 - 24);
    g_assert_cmphex(rd(0x8ffc, 4), ==, S_DATA3 | 3);
    g_assert_cmphex(rd(0x8ff8, 4), ==, 0x7000);
    g_assert_cmphex(rd(0x8ff4, 4), ==, 0x22222222);
    g_assert_cmphex(rd(0x8ff0, 4), ==, 0x11111111);
    g_assert_cmphex(rd(0x8fec, 4), ==, S_CODE3 | 3);
    g_assert_cmphex(rd(0x8fe8, 4), ==, 0x4007);

    /* RETF 8 back to ring 3 releases the parameters on both stacks */
    i = insn(tcgl_op_retf, 0xca, 3, 4);
    i.imm = 8;
    g_assert_cmpint(run_op(tcgl_op_retf, &i), ==, -1);
    g_assert_cmphex(env->rip, ==, 0x4007);
    g_assert_cmphex(env->segs[R_CS].selector, ==, S_CODE3 | 3);
    g_assert_cmphex(env->regs[R_ESP], ==, 0x7008);
    g_assert_cmpint(c->hflags & TCGL_HF_CPL_MASK, ==, 3);

    /* a gate with DPL 0 from ring 3: #GP(gate selector) */
    set_gdt(S_GATE, gate(S_CODE0, 0x5100, SYS_CALL32, 0, 2));
    i = insn(tcgl_op_callf_ptr, 0x9a, 7, 4);
    i.imm2 = S_GATE | 3;
    g_assert_cmpint(run_op(tcgl_op_callf_ptr, &i), ==, EXCP_GP);
    g_assert_cmphex(c->event.error, ==, S_GATE);
    g_assert_cmphex(env->rip, ==, 0x4007);          /* nothing changed */
    g_assert_cmphex(env->regs[R_ESP], ==, 0x7008);
}

static void test_iret_v86(void)
{
    X86CPUState *env;
    TCGLInsn i;
    static const uint32_t frame[] = { 0x100, 0x2000, 0x20202, 0xfff0, 0x3000, 0x4000, 0x5000,
                                      0x6000, 0x7000 };

    reset_all();
    env = c->env;
    pmode32(0);
    for (unsigned n = 0; n < G_N_ELEMENTS(frame); n++) {
        wr(0x8000 + 4 * n, 4, frame[n]);
    }
    env->regs[R_ESP] = 0x8000;
    i = insn(tcgl_op_iret, 0xcf, 1, 4);
    g_assert_cmpint(run_op(tcgl_op_iret, &i), ==, -1);
    g_assert_true(c->hflags & TCGL_HF_VM);
    g_assert_cmpint(c->hflags & TCGL_HF_CPL_MASK, ==, 3);
    g_assert_cmphex(env->segs[R_CS].base, ==, 0x20000);
    g_assert_cmphex(env->rip, ==, 0x100);
    g_assert_cmphex(env->segs[R_SS].base, ==, 0x30000);
    g_assert_cmphex(env->regs[R_ESP], ==, 0xfff0);
    g_assert_cmphex(env->segs[R_ES].selector, ==, 0x4000);
    g_assert_cmphex(env->segs[R_GS].base, ==, 0x70000);
    g_assert_cmphex(c->seg_base[R_DS], ==, 0x50000);

    /* INT n in v86 with IOPL 0: #GP(0) to ring 0, pushing GS, FS, DS, ES */
    idt32(EXCP_GP, S_CODE0, 0x6000, SYS_INT32, 0);
    i = insn(tcgl_op_int, 0xcd, 2, 2);
    i.imm = 0x21;
    prog_set(0, 0x20100, TCGL_OPF_BRANCH, i);
    stub_prog_len = 1;
    tcgl_cpu_exec(c);
    g_assert_false(c->hflags & TCGL_HF_VM);
    g_assert_cmphex(env->rip, ==, 0x6000);
    g_assert_cmphex(env->regs[R_ESP], ==, 0x9000 - 40);
    g_assert_cmphex(rd(0x9000 - 40, 4), ==, 0);          /* error code */
    g_assert_cmphex(rd(0x9000 - 36, 4), ==, 0x100);      /* EIP */
    g_assert_cmphex(rd(0x9000 - 32, 4), ==, 0x2000);     /* CS */
    g_assert_cmphex(rd(0x9000 - 28, 4) & RFL_VM, ==, RFL_VM);
    g_assert_cmphex(rd(0x9000 - 24, 4), ==, 0xfff0);
    g_assert_cmphex(rd(0x9000 - 20, 4), ==, 0x3000);
    g_assert_cmphex(rd(0x9000 - 16, 4), ==, 0x4000);     /* ES */
    g_assert_cmphex(rd(0x9000 - 4, 4), ==, 0x7000);      /* GS */
    g_assert_true(env->segs[R_DS].unusable);
}

static void test_task_switch(void)
{
    X86CPUState *env;
    TCGLInsn i;

    reset_all();
    env = c->env;
    pmode32(0);
    wr(TSS2 + 0x20, 4, 0x4444);             /* EIP */
    wr(TSS2 + 0x24, 4, 0x2);                /* EFLAGS */
    wr(TSS2 + 0x28, 4, 0xaaaa);             /* EAX */
    wr(TSS2 + 0x38, 4, 0x8800);             /* ESP */
    for (int s = 0; s < 6; s++) {
        wr(TSS2 + 0x48 + 4 * s, 2, s == R_CS ? S_CODE0 : S_DATA0);
    }
    env->regs[R_EAX] = 0x1234;
    env->rip = 0x4000;
    i = insn(tcgl_op_callf_ptr, 0x9a, 7, 4);
    i.imm2 = S_TSS2;
    g_assert_cmpint(run_op(tcgl_op_callf_ptr, &i), ==, -1);
    g_assert_cmphex(env->tr.selector, ==, S_TSS2);
    g_assert_cmphex(env->rip, ==, 0x4444);
    g_assert_cmphex(env->regs[R_EAX], ==, 0xaaaa);
    g_assert_cmphex(env->regs[R_ESP], ==, 0x8800);
    g_assert_true(env->rflags & RFL_NT);
    g_assert_true(env->cr0 & CR0_TS);
    g_assert_cmphex(rd(TSS2, 2), ==, S_TSS);                    /* back link */
    g_assert_cmphex((rd(GDT + S_TSS2 + 5, 1) & 0xf), ==, SYS_TSS32_BUSY);
    g_assert_cmphex(rd(TSS + 0x20, 4), ==, 0x4007);             /* old EIP saved */
    g_assert_cmphex(rd(TSS + 0x28, 4), ==, 0x1234);             /* old EAX saved */

    /* IRET with NT returns to the old task and frees the new one */
    i = insn(tcgl_op_iret, 0xcf, 1, 4);
    g_assert_cmpint(run_op(tcgl_op_iret, &i), ==, -1);
    g_assert_cmphex(env->tr.selector, ==, S_TSS);
    g_assert_cmphex(env->rip, ==, 0x4007);
    g_assert_cmphex(env->regs[R_EAX], ==, 0x1234);
    g_assert_cmphex((rd(GDT + S_TSS2 + 5, 1) & 0xf), ==, SYS_TSS32_AVL);
    g_assert_false(rd(TSS2 + 0x24, 4) & RFL_NT);

    /* a busy TSS cannot be jumped to */
    set_gdt(S_TSS2, desc(TSS2, 0x67, SYS_TSS32_BUSY, 0, 0, 1, 0, 0, 0));
    i = insn(tcgl_op_jmpf_ptr, 0xea, 7, 4);
    i.imm2 = S_TSS2;
    g_assert_cmpint(run_op(tcgl_op_jmpf_ptr, &i), ==, EXCP_GP);
    g_assert_cmphex(c->event.error, ==, S_TSS2);
}

/* ---- fast system calls -------------------------------------------------------- */

static void test_syscall_sysret(void)
{
    X86CPUState *env;
    TCGLInsn i;

    reset_all();
    env = c->env;
    lmode64(3);
    env->star = ((uint64_t)0x60 << 48) | ((uint64_t)S_CODE64 << 32);
    env->lstar = 0xffffffff81000000ULL;
    env->fmask = RFL_IF | RFL_DF;
    env->rip = 0x400000;
    env->rflags = 0x602;
    i = insn(tcgl_op_syscall, TCGL_OPC(TCGL_MAP_0F, 0x05), 2, 4);
    g_assert_cmpint(run_op(tcgl_op_syscall, &i), ==, -1);
    g_assert_cmphex(env->regs[R_ECX], ==, 0x400002);
    g_assert_cmphex(env->regs[R_R11], ==, 0x602);
    g_assert_cmphex(env->rip, ==, 0xffffffff81000000ULL);
    g_assert_cmphex(env->segs[R_CS].selector, ==, S_CODE64);
    g_assert_cmphex(env->segs[R_SS].selector, ==, S_DATA64);
    g_assert_cmpint(c->hflags & TCGL_HF_CPL_MASK, ==, 0);
    g_assert_true(c->hflags & TCGL_HF_CS64);
    g_assert_cmphex(env->rflags, ==, 0x2);

    i = insn(tcgl_op_sysret, TCGL_OPC(TCGL_MAP_0F, 0x07), 3, 8);
    g_assert_cmpint(run_op(tcgl_op_sysret, &i), ==, -1);
    g_assert_cmphex(env->rip, ==, 0x400002);
    g_assert_cmphex(env->segs[R_CS].selector, ==, 0x73);
    g_assert_cmphex(env->segs[R_SS].selector, ==, 0x6b);
    g_assert_cmpint(c->hflags & TCGL_HF_CPL_MASK, ==, 3);
    g_assert_true(c->hflags & TCGL_HF_CS64);
    g_assert_cmphex(env->rflags, ==, 0x602);
    /* SYSRET from ring 3: #GP(0) */
    g_assert_cmpint(run_op(tcgl_op_sysret, &i), ==, EXCP_GP);
    /* without EFER.SCE SYSCALL is #UD */
    env->efer &= ~(uint64_t)EFER_SCE;
    i = insn(tcgl_op_syscall, TCGL_OPC(TCGL_MAP_0F, 0x05), 2, 4);
    g_assert_cmpint(run_op(tcgl_op_syscall, &i), ==, EXCP_UD);
}

static void test_sysenter_sysexit(void)
{
    X86CPUState *env;
    TCGLInsn i;

    reset_all();
    env = c->env;
    pmode32(3);
    i = insn(tcgl_op_sysenter, TCGL_OPC(TCGL_MAP_0F, 0x34), 2, 4);
    g_assert_cmpint(run_op(tcgl_op_sysenter, &i), ==, EXCP_GP);    /* SYSENTER_CS = 0 */
    env->sysenter_cs = S_CODE0;
    env->sysenter_esp = 0x9000;
    env->sysenter_eip = 0x5000;
    g_assert_cmpint(run_op(tcgl_op_sysenter, &i), ==, -1);
    g_assert_cmphex(env->segs[R_CS].selector, ==, S_CODE0);
    g_assert_cmphex(env->segs[R_SS].selector, ==, S_DATA0);
    g_assert_cmphex(env->regs[R_ESP], ==, 0x9000);
    g_assert_cmphex(env->rip, ==, 0x5000);
    g_assert_cmpint(c->hflags & TCGL_HF_CPL_MASK, ==, 0);
    g_assert_false(env->rflags & RFL_IF);

    env->regs[R_ECX] = 0x6ff0;
    env->regs[R_EDX] = 0x4010;
    i = insn(tcgl_op_sysexit, TCGL_OPC(TCGL_MAP_0F, 0x35), 2, 4);
    g_assert_cmpint(run_op(tcgl_op_sysexit, &i), ==, -1);
    g_assert_cmphex(env->segs[R_CS].selector, ==, S_CODE3 | 3);
    g_assert_cmphex(env->segs[R_SS].selector, ==, S_DATA3 | 3);
    g_assert_cmphex(env->regs[R_ESP], ==, 0x6ff0);
    g_assert_cmphex(env->rip, ==, 0x4010);
    g_assert_cmpint(c->hflags & TCGL_HF_CPL_MASK, ==, 3);
}

/* ---- control registers, MSRs, CPUID ------------------------------------------------- */

static void test_long_mode_entry(void)
{
    X86CPUState *env;

    reset_all();
    env = c->env;
    g_assert_false(tcgl_write_cr(c, 0, CR0_PG | CR0_ET));          /* PG without PE */
    g_assert_true(tcgl_write_cr(c, 0, CR0_PE | CR0_ET));
    g_assert_true(c->hflags & TCGL_HF_PE);
    g_assert_false(tcgl_write_cr(c, 4, 1u << 20));                 /* reserved (SMEP) */
    g_assert_true(tcgl_msr_write(c, 0xc0000080, EFER_LME));
    g_assert_false(tcgl_write_cr(c, 0, CR0_PE | CR0_ET | CR0_PG)); /* no PAE */
    g_assert_true(tcgl_write_cr(c, 4, CR4_PAE));
    unsigned flushes = stub_tlb_flushes;
    g_assert_true(tcgl_write_cr(c, 0, CR0_PE | CR0_ET | CR0_PG));
    g_assert_cmpuint(stub_tlb_flushes, >, flushes);
    g_assert_true(env->efer & EFER_LMA);
    g_assert_true(c->hflags & TCGL_HF_LMA);
    g_assert_false(c->hflags & TCGL_HF_CS64);           /* compatibility mode until CS.L */
    g_assert_false(tcgl_write_cr(c, 4, 0));             /* PAE stays while LMA */
    g_assert_false(tcgl_msr_write(c, 0xc0000080, 0));   /* LME frozen while PG */
    seg(R_CS, S_CODE64);
    tcgl_update_hflags(c);
    g_assert_true(c->hflags & TCGL_HF_CS64);
    g_assert_cmphex(c->lin_mask, ==, ~0ULL);
    g_assert_false(tcgl_write_cr(c, 0, CR0_PE | CR0_ET));  /* no PG off in 64-bit mode */
    seg(R_CS, S_CODE0);
    tcgl_update_hflags(c);
    g_assert_true(tcgl_write_cr(c, 0, CR0_PE | CR0_ET));
    g_assert_false(env->efer & EFER_LMA);
    g_assert_false(tcgl_write_cr(c, 8, 16));
    g_assert_true(tcgl_write_cr(c, 8, 5));
    g_assert_cmpint(env->cr8, ==, 5);
}

static void test_msrs(void)
{
    TCGLInsn i = insn(tcgl_op_rdmsr, TCGL_OPC(TCGL_MAP_0F, 0x32), 2, 4);
    uint64_t v;

    reset_all();
    c->env->regs[R_ECX] = 0x12345;
    g_assert_cmpint(run_op(tcgl_op_rdmsr, &i), ==, EXCP_GP);
    c->env->regs[R_ECX] = 0x802;                /* x2APIC ID, no LAPIC here */
    g_assert_cmpint(run_op(tcgl_op_rdmsr, &i), ==, EXCP_GP);
    c->env->regs[R_ECX] = 0x277;                /* PAT */
    g_assert_cmpint(run_op(tcgl_op_rdmsr, &i), ==, -1);
    g_assert_cmphex(c->env->regs[R_EAX], ==, 0x00070406);
    g_assert_cmphex(c->env->regs[R_EDX], ==, 0x00070406);

    i = insn(tcgl_op_wrmsr, TCGL_OPC(TCGL_MAP_0F, 0x30), 2, 4);
    c->env->regs[R_ECX] = 0xc0000082;           /* LSTAR, not canonical */
    c->env->regs[R_EAX] = 0;
    c->env->regs[R_EDX] = 0x00800000;
    g_assert_cmpint(run_op(tcgl_op_wrmsr, &i), ==, EXCP_GP);
    c->env->regs[R_EDX] = 0xffff8000;
    g_assert_cmpint(run_op(tcgl_op_wrmsr, &i), ==, -1);
    g_assert_cmphex(c->env->lstar, ==, 0xffff800000000000ULL);
    c->env->regs[R_ECX] = 0xc0000080;           /* EFER bit 1: reserved */
    c->env->regs[R_EAX] = 2;
    c->env->regs[R_EDX] = 0;
    g_assert_cmpint(run_op(tcgl_op_wrmsr, &i), ==, EXCP_GP);
    g_assert_true(tcgl_msr_write(c, 0x201, 0xff0000800ULL));     /* MTRR mask 0 */
    g_assert_true(tcgl_msr_read(c, 0x201, &v));
    g_assert_cmphex(v, ==, 0xff0000800ULL);
    g_assert_false(tcgl_msr_write(c, 0x200, 2));                 /* reserved type */
    g_assert_true(tcgl_msr_read(c, 0xfe, &v));
    g_assert_cmphex(v, ==, 0x508);
    g_assert_true(tcgl_msr_write(c, 0xc0000101, 0x1000));        /* GS base: the fast path */
    g_assert_cmphex(c->env->segs[R_GS].base, ==, 0x1000);
}

/* The CPUID table of `model` filtered by what tcg-lite implements, made the
 * current one; free with cpuid_table_free(t). */
static void use_model_cpuid(const char *model, CPUIDTable *t)
{
    g_autoptr(GError) err = NULL;
    CPUIDTable sup;
    X86AccelCaps caps = { .name = "TCG", .supported = &sup };
    X86Topology topo = { 1, 1, 1, 1 };
    X86CPUModel *m;

    cpuid_table_init(&sup);
    cpuid_table_init(t);
    tcgl_supported_cpuid(&sup);
    m = x86_cpu_model_parse(model, &err);
    g_assert_no_error(err);
    g_assert_true(x86_cpu_model_realize(m, &caps, NULL, &err));
    x86_cpu_build_cpuid(m, &topo, 0, t);
    tcgl_sys_set_cpuid(0, t);
    cpuid_table_free(&sup);
    x86_cpu_model_free(m);
}

static void test_cpuid_model(void)
{
    CPUIDTable t;
    TCGLInsn i = insn(tcgl_op_cpuid, TCGL_OPC(TCGL_MAP_0F, 0xa2), 2, 4);
    uint32_t a, b, cx, d, a2, b2, c2, d2;

    reset_all();
    use_model_cpuid("qemu64", &t);

    c->env->regs[R_EAX] = 0;
    run_op(tcgl_op_cpuid, &i);
    g_assert_cmphex(c->env->regs[R_EBX], ==, 0x68747541);     /* "Auth" */
    c->env->regs[R_EAX] = 1;
    run_op(tcgl_op_cpuid, &i);
    g_assert_true(c->env->regs[R_EDX] & (1u << 26));          /* sse2 */
    g_assert_true(c->env->regs[R_EDX] & (1u << 9));           /* apic */
    g_assert_true(c->env->regs[R_ECX] & 1);                   /* sse3 (qemu64 has pni) */
    g_assert_true(c->env->regs[R_ECX] & (1u << 13));          /* cx16 */
    g_assert_false(c->env->regs[R_ECX] & (1u << 26));         /* xsave: not offered */
    g_assert_true(c->env->regs[R_ECX] & CPUID_1_ECX_HYPERVISOR);
    c->env->regs[R_EAX] = 0x80000001;
    run_op(tcgl_op_cpuid, &i);
    g_assert_true(c->env->regs[R_EDX] & (1u << 29));          /* lm */
    g_assert_true(c->env->regs[R_EDX] & (1u << 11));          /* syscall */
    g_assert_false(c->env->regs[R_ECX] & (1u << 2));          /* svm filtered */
    /* a basic leaf past the maximum answers as the maximum */
    tcgl_cpuid(c, 0x1234, 0, &a, &b, &cx, &d);
    cpuid_table_get(&t, 0, 0, &a2, NULL, NULL, NULL);
    tcgl_cpuid(c, a2, 0, &a2, &b2, &c2, &d2);
    g_assert_cmphex(a, ==, a2);
    g_assert_cmphex(d, ==, d2);

    tcgl_sys_set_cpuid(0, &max_cpuid);
    cpuid_table_free(&t);
}

/* XSAVE is offered by "-cpu max" (x87 | SSE only) and not by qemu64; CR4.OSXSAVE
 * follows the guest's CPUID; the AMD MSRs Linux reads on a qemu64 guest. */
static void test_xsave_cpuid_msrs(void)
{
    CPUIDTable t;
    uint32_t a, b, cx, d;
    uint64_t v;

    reset_all();
    tcgl_sys_set_cpuid(0, &max_cpuid);
    tcgl_cpuid(c, 1, 0, &a, &b, &cx, &d);
    g_assert_true(cx & (1u << 26));                       /* xsave */
    g_assert_false(cx & (1u << 27));                      /* osxsave: CR4 off */
    tcgl_cpuid(c, 0xd, 0, &a, &b, &cx, &d);
    g_assert_cmphex(a, ==, 3);                            /* x87 | SSE */
    g_assert_cmpuint(b, ==, 576);
    g_assert_cmpuint(cx, ==, 576);
    tcgl_cpuid(c, 0xd, 1, &a, &b, &cx, &d);
    g_assert_cmphex(a, ==, 1);                            /* XSAVEOPT only */
    g_assert_true(tcgl_write_cr(c, 4, c->env->cr4 | CR4_OSXSAVE));
    tcgl_cpuid(c, 1, 0, &a, &b, &cx, &d);
    g_assert_true(cx & (1u << 27));
    g_assert_true(tcgl_write_cr(c, 4, c->env->cr4 & ~CR4_OSXSAVE));

    use_model_cpuid("qemu64", &t);
    g_assert_false(tcgl_write_cr(c, 4, c->env->cr4 | CR4_OSXSAVE));   /* no XSAVE */
    g_assert_true(tcgl_msr_read(c, 0xc0010010, &v));          /* SYSCFG */
    g_assert_cmphex(v, ==, 0);
    g_assert_true(tcgl_msr_read(c, 0xc0010055, &v));          /* INT_PENDING_MSG */
    g_assert_cmphex(v, ==, 0);
    g_assert_true(tcgl_msr_write(c, 0x410, ~0ULL & ~(1ULL << 10)));  /* MC4_CTL, GART bit */
    g_assert_false(tcgl_msr_write(c, 0x410, ~0ULL & ~(1ULL << 11)));
    tcgl_sys_set_cpuid(0, &max_cpuid);
    cpuid_table_free(&t);
}

/* ---- port I/O, HLT, interrupt shadow ------------------------------------------------- */

static uint64_t io_last_write;
static unsigned io_writes;

static uint64_t tdev_read(void *opaque, uint64_t addr, unsigned size)
{
    return 0x12345678 + addr;
}

static void tdev_write(void *opaque, uint64_t addr, uint64_t v, unsigned size)
{
    io_last_write = (addr << 32) | v;
    io_writes++;
}

static const MemoryRegionOps tdev_ops = {
    .read = tdev_read, .write = tdev_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

static MemoryRegion tdev;

static void test_port_io(void)
{
    TCGLInsn i;

    reset_all();
    memory_init_system();
    memory_region_init_io(&tdev, &tdev_ops, NULL, "tcgl-test-dev", 8);
    memory_region_add_subregion(address_space_io.root, 0x500, &tdev);

    /* IN EAX, DX */
    c->env->regs[R_EDX] = 0x500;
    i = insn(tcgl_op_in, 0xed, 1, 4);
    g_assert_cmpint(run_op(tcgl_op_in, &i), ==, -1);
    g_assert_cmphex(c->env->regs[R_EAX], ==, 0x12345678);
    /* OUT imm8, AL */
    c->env->regs[R_EAX] = 0xabcd;
    i = insn(tcgl_op_out, 0xe6, 2, 4);
    i.imm = 0x1;
    g_assert_cmpint(run_op(tcgl_op_out, &i), ==, -1);
    g_assert_cmpuint(io_writes, ==, 0);         /* nothing at port 1 */
    /* REP OUTSB of 3 bytes from DS:ESI */
    memcpy(&stub_mem[0x600], "xyz", 3);
    c->env->regs[R_ESI] = 0x600;
    c->env->regs[R_ECX] = 3;
    c->env->regs[R_EDX] = 0x502;
    c->env->rip = 0x100;
    i = insn(tcgl_op_ins_outs, 0x6e, 2, 4);
    i.pfx = TCGL_PFX_REP;
    i.adsize = 2;
    g_assert_cmpint(run_op(tcgl_op_ins_outs, &i), ==, -1);
    g_assert_cmpuint(io_writes, ==, 3);
    g_assert_cmphex(io_last_write, ==, (2ULL << 32) | 'z');
    g_assert_cmphex(c->env->regs[R_ESI], ==, 0x603);
    g_assert_cmphex(c->env->regs[R_ECX], ==, 0);
    g_assert_cmphex(c->env->rip, ==, 0x102);

    /* CPL 3, IOPL 0: the TSS bitmap allows 0x500 but not 0x501 */
    pmode32(3);
    c->env->tr.selector = S_TSSIO;
    c->env->tr.base = IOMAP;
    c->env->tr.limit = 0x68 + 0x100 / 8 + 0xa0;
    c->env->tr.type = SYS_TSS32_BUSY;
    wr(IOMAP + 0x66, 2, 0x68);
    memset(&stub_mem[IOMAP + 0x68], 0xff, 0xc0);
    stub_mem[IOMAP + 0x68 + 0x500 / 8] = 0xfe;      /* port 0x500 allowed */
    c->env->regs[R_EDX] = 0x500;
    i = insn(tcgl_op_in, 0xec, 1, 4);
    g_assert_cmpint(run_op(tcgl_op_in, &i), ==, -1);
    g_assert_cmphex(c->env->regs[R_EAX] & 0xff, ==, 0x78);
    i = insn(tcgl_op_in, 0xed, 1, 2);               /* 2 bytes: 0x501 too */
    g_assert_cmpint(run_op(tcgl_op_in, &i), ==, EXCP_GP);
    c->env->rflags |= RFL_IOPL;                     /* IOPL 3: no bitmap */
    g_assert_cmpint(run_op(tcgl_op_in, &i), ==, -1);
    memory_region_del_subregion(address_space_io.root, &tdev);
}

static int fake_pic_vector = -1;

static int fake_pic_read(void *opaque)
{
    return fake_pic_vector;
}

static void test_hlt_and_sti_shadow(void)
{
    X86CPUState *env;

    reset_all();
    env = c->env;
    /* HLT: rip after it, HALTED, the loop returns HALT */
    env->segs[R_CS].base = 0;
    env->segs[R_CS].selector = 0;
    env->rip = 0x100;
    tcgl_update_hflags(c);
    prog_set(0, 0x100, TCGL_OPF_BRANCH | TCGL_OPF_PRIV, insn(tcgl_op_hlt, 0xf4, 1, 2));
    stub_prog_len = 1;
    g_assert_cmpint(tcgl_cpu_exec(c), ==, TCGL_EXIT_HALT);
    g_assert_cmphex(env->rip, ==, 0x101);
    g_assert_cmpint(env->mp_state, ==, CPU_MP_HALTED);

    /* STI; CPUID; with an interrupt pending: taken after CPUID (shadow) */
    x86_irq_set_pic(NULL, fake_pic_read);
    fake_pic_vector = 0x30;
    wr(0x30 * 4, 4, 0x00008000);           /* 0000:8000 */
    env->idt.base = 0;
    env->idt.limit = 0x3ff;
    env->segs[R_SS].base = 0;
    env->regs[R_ESP] = 0x1000;
    env->rflags = 0x2;
    env->rip = 0x200;
    env->mp_state = CPU_MP_RUNNABLE;
    cpu_interrupt(c->cpu, CPU_INTERRUPT_HARD);
    prog_set(0, 0x200, TCGL_OPF_END, insn(tcgl_op_sti, 0xfb, 1, 2));
    prog_set(1, 0x201, 0, insn(tcgl_op_cpuid, TCGL_OPC(TCGL_MAP_0F, 0xa2), 2, 2));
    stub_prog_len = 2;
    c->chain_break = false;
    tcgl_cpu_exec(c);
    g_assert_true(c->chain_break);                  /* STI's shadow stops chained blocks */
    g_assert_cmphex(env->rip, ==, 0x8000);
    g_assert_cmphex(rd(0xffa, 2), ==, 0x203);       /* after CPUID, not after STI */
    g_assert_cmphex(rd(0xffe, 2) & RFL_IF, ==, RFL_IF);
    x86_irq_set_pic(NULL, NULL);
    cpu_reset_interrupt(c->cpu, ~0u);
}

/* An interrupt cannot be taken while the gate's code segment is bad: the
 * #GP that follows carries the selector (EXT clear, as QEMU). */
static void test_bad_gate_target(void)
{
    reset_all();
    pmode32(0);
    idt32(0x40, S_DATA0, 0x1000, SYS_INT32, 0);     /* target is a data segment */
    idt32(EXCP_GP, S_CODE0, 0x6000, SYS_INT32, 0);
    c->env->rip = 0x4321;
    c->event.kind = TCGL_EV_NONE;
    if (sigsetjmp(c->jmp, 1) == 0) {
        tcgl_deliver_hwint(c, 0x40, false);
        g_assert_not_reached();
    }
    g_assert_cmpint(c->event.vector, ==, EXCP_GP);
    g_assert_cmphex(c->event.error, ==, S_DATA0);
    tcgl_deliver_event(c);
    g_assert_cmphex(c->env->rip, ==, 0x6000);
    g_assert_cmphex(rd(c->env->regs[R_ESP], 4), ==, S_DATA0);
    g_assert_cmphex(rd(c->env->regs[R_ESP] + 4, 4), ==, 0x4321);
}

/* Linux 32-bit: #DF through a task gate to its own TSS. */
static void test_df_task_gate(void)
{
    X86CPUState *env;
    TCGLInsn i;

    reset_all();
    env = c->env;
    pmode32(0);
    wr(IDT + EXCP_DF * 8, 8, gate(S_TSS2, 0, SYS_TASK, 0, 0));
    wr(IDT + EXCP_GP * 8, 8, 0);                   /* #GP: no gate -> #DF */
    wr(TSS2 + 0x20, 4, 0x4444);
    wr(TSS2 + 0x24, 4, 0x2);
    wr(TSS2 + 0x38, 4, 0x8800);
    for (int s = 0; s < 6; s++) {
        wr(TSS2 + 0x48 + 4 * s, 2, s == R_CS ? S_CODE0 : s == R_GS ? 0 : S_DATA0);
    }
    env->rip = 0x4000;
    env->regs[R_EAX] = S_XONLY;
    i = insn(tcgl_op_mov_sreg, 0x8e, 2, 2);
    i.reg = R_DS;
    i.rm = R_EAX;
    prog_set(0, 0x4000, TCGL_OPF_END, i);
    stub_prog_len = 1;
    g_assert_cmpint(tcgl_cpu_exec(c), ==, TCGL_EXIT_REQUEST);
    g_assert_cmphex(env->tr.selector, ==, S_TSS2);
    g_assert_cmphex(env->rip, ==, 0x4444);
    g_assert_cmphex(env->regs[R_ESP], ==, 0x87fc);
    g_assert_cmphex(rd(0x87fc, 4), ==, 0);                  /* #DF's error code */
    g_assert_cmphex(rd(TSS2, 2), ==, S_TSS);
    g_assert_cmphex(rd(TSS + 0x20, 4), ==, 0x4000);         /* the faulting EIP */
    g_assert_true(env->rflags & RFL_NT);
    g_assert_true(env->segs[R_GS].unusable);
}

/* A 64-bit call gate from ring 3, and RETF (REX.W) back. */
static void test_call_gate64(void)
{
    X86CPUState *env;
    TCGLInsn i;

    reset_all();
    env = c->env;
    lmode64(3);
    env->rip = 0x400000;
    env->regs[R_ESP] = 0x7ff0;
    wr(0x6000, 8, 0x1111);                          /* offset (ignored) */
    wr(0x6008, 2, S_GATE64 | 3);
    i = insn(tcgl_op_callf_mem, 0xff, 3, 8);
    i.reg = 3;
    i.mod = 0;
    i.disp = 0x6000;
    i.adsize = 8;
    g_assert_cmpint(run_op(tcgl_op_callf_mem, &i), ==, -1);
    g_assert_cmphex(env->rip, ==, 0xffffffff80003000ULL);
    g_assert_cmphex(env->segs[R_CS].selector, ==, S_CODE64);
    g_assert_cmphex(env->segs[R_SS].selector, ==, 0);
    g_assert_cmpint(c->hflags & TCGL_HF_CPL_MASK, ==, 0);
    g_assert_cmphex(env->regs[R_ESP], ==, 0xa000 - 32);
    g_assert_cmphex(rd(0xa000 - 8, 8), ==, S_DATA3B | 3);
    g_assert_cmphex(rd(0xa000 - 16, 8), ==, 0x7ff0);
    g_assert_cmphex(rd(0xa000 - 24, 8), ==, S_CODE64_3 | 3);
    g_assert_cmphex(rd(0xa000 - 32, 8), ==, 0x400003);

    i = insn(tcgl_op_retf, 0xcb, 2, 8);
    g_assert_cmpint(run_op(tcgl_op_retf, &i), ==, -1);
    g_assert_cmphex(env->rip, ==, 0x400003);
    g_assert_cmphex(env->segs[R_CS].selector, ==, S_CODE64_3 | 3);
    g_assert_cmphex(env->segs[R_SS].selector, ==, S_DATA3B | 3);
    g_assert_cmphex(env->regs[R_ESP], ==, 0x7ff0);
    g_assert_cmpint(c->hflags & TCGL_HF_CPL_MASK, ==, 3);
}

static TCGLInsn mem_insn(TCGLHandler *fn, unsigned opc, unsigned reg, unsigned opsize,
                         int32_t disp)
{
    TCGLInsn i = insn(fn, opc, 3, opsize);

    i.mod = 0;
    i.reg = reg;
    i.disp = disp;
    return i;
}

/* LGDT/SGDT, LIDT, LTR (busy bit)/STR, LSS. */
static void test_desc_tables(void)
{
    X86CPUState *env;
    TCGLInsn i;

    reset_all();
    env = c->env;
    pmode32(0);
    wr(0x6000, 2, 0x1ff);
    wr(0x6002, 4, 0x12345678);
    i = mem_insn(tcgl_op_lxdt, TCGL_OPC(TCGL_MAP_0F, 0x01), 3, 4, 0x6000);
    g_assert_cmpint(run_op(tcgl_op_lxdt, &i), ==, -1);
    g_assert_cmphex(env->idt.base, ==, 0x12345678);
    g_assert_cmphex(env->idt.limit, ==, 0x1ff);
    i = mem_insn(tcgl_op_lxdt, TCGL_OPC(TCGL_MAP_0F, 0x01), 3, 2, 0x6000);  /* o16: 24 bits */
    g_assert_cmpint(run_op(tcgl_op_lxdt, &i), ==, -1);
    g_assert_cmphex(env->idt.base, ==, 0x345678);
    i = mem_insn(tcgl_op_sxdt, TCGL_OPC(TCGL_MAP_0F, 0x01), 0, 4, 0x6100);
    g_assert_cmpint(run_op(tcgl_op_sxdt, &i), ==, -1);
    g_assert_cmphex(rd(0x6100, 2), ==, 0x97);
    g_assert_cmphex(rd(0x6102, 4), ==, GDT);

    /* LTR: an available TSS becomes busy; a busy one is refused */
    env->regs[R_EAX] = S_TSS2;
    i = insn(tcgl_op_ltr, TCGL_OPC(TCGL_MAP_0F, 0x00), 3, 2);
    i.reg = 3;
    i.rm = R_EAX;
    g_assert_cmpint(run_op(tcgl_op_ltr, &i), ==, -1);
    g_assert_cmphex(env->tr.selector, ==, S_TSS2);
    g_assert_cmphex(env->tr.base, ==, TSS2);
    g_assert_cmphex(rd(GDT + S_TSS2 + 5, 1) & 0xf, ==, SYS_TSS32_BUSY);
    g_assert_cmpint(run_op(tcgl_op_ltr, &i), ==, EXCP_GP);
    g_assert_cmphex(c->event.error, ==, S_TSS2);
    env->regs[R_EAX] = S_DATA0;                     /* not a TSS */
    g_assert_cmpint(run_op(tcgl_op_ltr, &i), ==, EXCP_GP);
    i = insn(tcgl_op_sldt_str, TCGL_OPC(TCGL_MAP_0F, 0x00), 3, 4);
    i.reg = 1;
    i.rm = R_EBX;
    g_assert_cmpint(run_op(tcgl_op_sldt_str, &i), ==, -1);
    g_assert_cmphex(env->regs[R_EBX], ==, S_TSS2);

    /* LSS ESP, m16:32 */
    wr(0x6200, 4, 0x8765);
    wr(0x6204, 2, S_DATA0);
    i = mem_insn(tcgl_op_lxs, TCGL_OPC(TCGL_MAP_0F, 0xb2), R_ESP, 4, 0x6200);
    g_assert_cmpint(run_op(tcgl_op_lxs, &i), ==, -1);
    g_assert_cmphex(env->regs[R_ESP], ==, 0x8765);
    g_assert_cmphex(env->segs[R_SS].selector, ==, S_DATA0);
    wr(0x6204, 2, S_NP);                            /* not present: #SS, ESP kept */
    g_assert_cmpint(run_op(tcgl_op_lxs, &i), ==, EXCP_SS);
    g_assert_cmphex(env->regs[R_ESP], ==, 0x8765);

    /* real mode: LTR is #UD */
    reset_all();
    i = insn(tcgl_op_ltr, TCGL_OPC(TCGL_MAP_0F, 0x00), 3, 2);
    i.reg = 3;
    g_assert_cmpint(run_op(tcgl_op_ltr, &i), ==, EXCP_UD);
}

/* IRET in v86 mode is IOPL-sensitive. */
static void test_v86_iret_iopl(void)
{
    TCGLInsn i = insn(tcgl_op_iret, 0xcf, 1, 2);

    reset_all();
    c->env->cr0 = CR0_PE | CR0_ET;
    c->env->rflags = RFL_VM | 2;
    tcgl_update_hflags(c);
    g_assert_cmpint(run_op(tcgl_op_iret, &i), ==, EXCP_GP);
    /* IOPL 3: a 16-bit IRET, VM and IOPL stay */
    c->env->rflags = RFL_VM | RFL_IOPL | 2;
    tcgl_seg_load_vm(c, R_SS, 0x100);
    tcgl_seg_load_vm(c, R_CS, 0x200);
    tcgl_update_hflags(c);
    c->env->regs[R_ESP] = 0x10;
    wr(0x1010, 2, 0x55);
    wr(0x1012, 2, 0x300);
    wr(0x1014, 2, RFL_IF | RFL_CF);
    g_assert_cmpint(run_op(tcgl_op_iret, &i), ==, -1);
    g_assert_cmphex(c->env->rip, ==, 0x55);
    g_assert_cmphex(c->env->segs[R_CS].base, ==, 0x3000);
    g_assert_cmphex(c->env->rflags, ==, RFL_VM | RFL_IOPL | RFL_IF | RFL_CF | 2);
    g_assert_true(c->hflags & TCGL_HF_VM);
}

/* A20: an OUT re-reads the line; the mask follows it, the TLB goes. */
static void test_a20(void)
{
    TCGLInsn i = insn(tcgl_op_out, 0xe6, 2, 4);
    unsigned flushes;

    reset_all();
    i.imm = 0x80;
    qemu_irq_lower(x86_a20_input(0));
    qemu_irq_lower(x86_a20_input(1));
    g_assert_cmpint(run_op(tcgl_op_out, &i), ==, -1);
    g_assert_cmphex(c->a20_mask, ==, ~(1ULL << 20));
    wr(0x000010, 1, 0x11);
    wr(0x100010, 1, 0x22);
    g_assert_cmphex(tcgl_ld_lin(c, 0x100010, 1, TCGL_ACC_READ), ==, 0x11);   /* wraps */
    flushes = stub_tlb_flushes;
    qemu_irq_raise(x86_a20_input(0));
    g_assert_cmpint(run_op(tcgl_op_out, &i), ==, -1);
    g_assert_cmphex(c->a20_mask, ==, ~0ULL);
    g_assert_cmpuint(stub_tlb_flushes, ==, flushes + 1);
    g_assert_cmphex(tcgl_ld_lin(c, 0x100010, 1, TCGL_ACC_READ), ==, 0x22);
    qemu_irq_lower(x86_a20_input(0));
}

/* 16-bit gates: a 16-bit interrupt gate pushes a 16-bit frame; a 16-bit
 * call gate copies word parameters. */
static void test_gates16(void)
{
    X86CPUState *env;
    TCGLInsn i;

    reset_all();
    env = c->env;
    pmode32(3);
    idt32(0x50, S_CODE0, 0x1234, SYS_INT16, 3);
    env->rip = 0x4000;
    i = insn(tcgl_op_int, 0xcd, 2, 4);
    i.imm = 0x50;
    prog_set(0, 0x4000, TCGL_OPF_BRANCH, i);
    stub_prog_len = 1;
    tcgl_cpu_exec(c);
    g_assert_cmphex(env->rip, ==, 0x1234);
    g_assert_cmphex(env->regs[R_ESP], ==, 0x9000 - 10);
    g_assert_cmphex(rd(0x9000 - 10, 2), ==, 0x4002);
    g_assert_cmphex(rd(0x9000 - 8, 2), ==, S_CODE3 | 3);
    g_assert_cmphex(rd(0x9000 - 6, 2), ==, 0x202);
    g_assert_cmphex(rd(0x9000 - 4, 2), ==, 0x7000);
    g_assert_cmphex(rd(0x9000 - 2, 2), ==, S_DATA3 | 3);

    pmode32(3);
    set_gdt(S_GATE, gate(S_CODE0, 0x5100, SYS_CALL16, 3, 3));
    env->rip = 0x4000;
    wr(0x7000, 2, 0xa1);
    wr(0x7002, 2, 0xb2);
    wr(0x7004, 2, 0xc3);
    i = insn(tcgl_op_callf_ptr, 0x9a, 7, 4);
    i.imm2 = S_GATE | 3;
    g_assert_cmpint(run_op(tcgl_op_callf_ptr, &i), ==, -1);
    g_assert_cmphex(env->rip, ==, 0x5100);
    g_assert_cmphex(env->regs[R_ESP], ==, 0x9000 - 14);
    g_assert_cmphex(rd(0x9000 - 2, 2), ==, S_DATA3 | 3);
    g_assert_cmphex(rd(0x9000 - 4, 2), ==, 0x7000);
    g_assert_cmphex(rd(0x9000 - 6, 2), ==, 0xc3);
    g_assert_cmphex(rd(0x9000 - 8, 2), ==, 0xb2);
    g_assert_cmphex(rd(0x9000 - 10, 2), ==, 0xa1);
    g_assert_cmphex(rd(0x9000 - 12, 2), ==, S_CODE3 | 3);
    g_assert_cmphex(rd(0x9000 - 14, 2), ==, 0x4007);
}

/* ---- flags and privilege ------------------------------------------------------------ */

static void test_flags_iopl(void)
{
    X86CPUState *env;
    TCGLInsn i;

    reset_all();
    env = c->env;
    pmode32(3);
    env->rflags = 0x202;                          /* IOPL 0, IF 1 */
    i = insn(tcgl_op_cli, 0xfa, 1, 4);
    g_assert_cmpint(run_op(tcgl_op_cli, &i), ==, EXCP_GP);
    g_assert_true(env->rflags & RFL_IF);
    /* POPF at CPL 3, IOPL 0: IF and IOPL silently kept, DF/CF change */
    wr(0x6ffc, 4, RFL_DF | RFL_CF | RFL_IOPL | 2);
    env->regs[R_ESP] = 0x6ffc;
    i = insn(tcgl_op_popf, 0x9d, 1, 4);
    g_assert_cmpint(run_op(tcgl_op_popf, &i), ==, -1);
    g_assert_cmphex(env->rflags, ==, RFL_DF | RFL_CF | RFL_IF | 2);     /* IF kept */
    g_assert_cmphex(env->regs[R_ESP], ==, 0x7000);
    /* IOPL 3: CLI allowed */
    env->rflags |= RFL_IOPL | RFL_IF;
    i = insn(tcgl_op_cli, 0xfa, 1, 4);
    g_assert_cmpint(run_op(tcgl_op_cli, &i), ==, -1);
    g_assert_false(env->rflags & RFL_IF);
    /* PUSHF never shows VM or RF */
    env->rflags |= RFL_RF;
    i = insn(tcgl_op_pushf, 0x9c, 1, 4);
    g_assert_cmpint(run_op(tcgl_op_pushf, &i), ==, -1);
    g_assert_cmphex(rd(env->regs[R_ESP], 4), ==, (env->rflags & ~(uint64_t)RFL_RF));
    /* CPL 0 POPF can change IOPL */
    pmode32(0);
    wr(0x8ffc, 4, RFL_IOPL | 2);
    env->regs[R_ESP] = 0x8ffc;
    i = insn(tcgl_op_popf, 0x9d, 1, 4);
    g_assert_cmpint(run_op(tcgl_op_popf, &i), ==, -1);
    g_assert_cmpint(tcgl_iopl(c), ==, 3);
    /* v86 with IOPL < 3: PUSHF faults */
    env->rflags = RFL_VM | 2;
    tcgl_update_hflags(c);
    i = insn(tcgl_op_pushf, 0x9c, 1, 2);
    g_assert_cmpint(run_op(tcgl_op_pushf, &i), ==, EXCP_GP);
}

static void test_tsc(void)
{
    TCGLInsn i = insn(tcgl_op_rdtsc, TCGL_OPC(TCGL_MAP_0F, 0x31), 2, 4);
    uint64_t t1, t2;

    reset_all();
    pmode32(3);
    qemu_clock_virtual_start();
    g_assert_cmpint(run_op(tcgl_op_rdtsc, &i), ==, -1);
    t1 = (c->env->regs[R_EDX] << 32) | (uint32_t)c->env->regs[R_EAX];
    g_usleep(2000);
    g_assert_cmpint(run_op(tcgl_op_rdtsc, &i), ==, -1);
    t2 = (c->env->regs[R_EDX] << 32) | (uint32_t)c->env->regs[R_EAX];
    g_assert_cmpuint(t2, >, t1);
    c->env->cr4 |= CR4_TSD;
    g_assert_cmpint(run_op(tcgl_op_rdtsc, &i), ==, EXCP_GP);
}

/* With a userspace LAPIC: CR8 is its TPR, x2APIC MSRs, the CPUID APIC bit. */
static void test_lapic(void)
{
    g_autoptr(GError) err = NULL;
    uint64_t v;
    uint32_t a, b, cx, d;

    reset_all();
    cpu0.apic = apic_create(&cpu0, true, &err);
    g_assert_no_error(err);
    g_assert_true(tcgl_write_cr(c, 8, 0x9));
    g_assert_cmpint(apic_get_tpr(cpu0.apic), ==, 0x9);
    g_assert_cmphex(apic_mmio_read(cpu0.apic, 0x80, 4), ==, 0x90);
    /* x2APIC registers #GP until IA32_APIC_BASE.EXTD */
    g_assert_false(tcgl_msr_read(c, 0x802, &v));
    g_assert_true(tcgl_msr_read(c, 0x1b, &v));
    g_assert_true(tcgl_msr_write(c, 0x1b, v | MSR_IA32_APICBASE_EXTD));
    g_assert_true(tcgl_msr_read(c, 0x802, &v));      /* x2APIC ID */
    g_assert_cmphex(v, ==, 0);
    g_assert_true(tcgl_msr_read(c, 0x808, &v));      /* TPR */
    g_assert_cmphex(v, ==, 0x90);
    /* x2APIC -> xAPIC directly is refused (SDM 10.12.5) */
    g_assert_false(tcgl_msr_write(c, 0x1b, v & ~MSR_IA32_APICBASE_EXTD));
    tcgl_cpuid(c, 1, 0, &a, &b, &cx, &d);
    g_assert_true(d & (1u << 9));
    g_assert_true(tcgl_msr_read(c, 0x1b, &v));
    g_assert_true(tcgl_msr_write(c, 0x1b, v & ~(MSR_IA32_APICBASE_EXTD |
                                                 MSR_IA32_APICBASE_ENABLE)));
    tcgl_cpuid(c, 1, 0, &a, &b, &cx, &d);
    g_assert_false(d & (1u << 9));                   /* disabled: no APIC bit */
    /* WRMSR IA32_TSC moves the LAPIC's virtual TSC */
    qemu_clock_virtual_start();
    g_assert_true(tcgl_msr_write(c, 0x10, 1ULL << 40));
    g_assert_true(tcgl_msr_read(c, 0x10, &v));
    g_assert_cmphex(v >> 40, ==, 1);
    cpu0.apic = NULL;
}

/* ---- the accelerator (tcg-all.c) ------------------------------------------------ */

static int64_t thread_cpu_ns(pthread_t t)
{
    clockid_t id;
    struct timespec ts;

    g_assert_cmpint(pthread_getcpuclockid(t, &id), ==, 0);
    clock_gettime(id, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Polls cond (under the BQL) for up to 20 s. */
static bool wait_for(bool (*cond)(CPUState *), CPUState *cpu)
{
    int64_t end = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;

    while (g_get_monotonic_time() < end) {
        bool ok;
        bql_lock();
        ok = cond(cpu);
        bql_unlock();
        if (ok) {
            return true;
        }
        g_usleep(1000);
    }
    g_printerr("wait_for: rip %" PRIx64 " mp %d steps %u ir %x reset %d stopped %d\n",
               cpu->env.rip, cpu->env.mp_state, stub_steps, cpu->interrupt_request,
               cpu->reset_pending, cpu->stopped);
    return false;
}

static bool is_halted_at_handler(CPUState *cpu)
{
    return cpu->env.mp_state == CPU_MP_HALTED && cpu->env.rip == 0x8001;
}

static bool is_halted(CPUState *cpu)
{
    return cpu->env.mp_state == CPU_MP_HALTED;
}

static bool is_busy(CPUState *cpu)
{
    return stub_steps > 1000;
}

/*
 * A vCPU thread: HLT sleeps (no CPU time burnt), an interrupt wakes it and
 * is delivered, and a vCPU that never halts still lets another thread have
 * the BQL.
 */
/* The accel tests' vCPUs outlive them, as kvmpc's vCPUs live as long as
 * the process (no CPU hot-unplug, so no vcpu destroy): kept reachable
 * here (volatile: stores the compiler may not drop) so that
 * LeakSanitizer does not report them and their accelerator state. */
static CPUState *volatile kept_vcpus[3];

static void test_accel_threads(void)
{
    const AccelOps *ops = accel_find("tcg");
    g_autoptr(GError) err = NULL;
    CPUState *vcpu = kept_vcpus[0] = g_new0(CPUState, 1);
    TCGLInsn jmp;
    int64_t t0, t1, w0;

    g_assert_nonnull(ops);
    reset_all();
    current_accel = ops;
    x86_cpu_reset_state(&vcpu->env, 0, true);
    vcpu->env.rflags = 0x202;
    vcpu->env.regs[R_ESP] = 0x1000;
    wr(0x30 * 4, 4, 0x00008000);                    /* IVT 0x30 -> 0000:8000 */
    g_assert_true(ops->vcpu_create(vcpu, &err));
    g_ptr_array_index(cpus, 0) = vcpu;
    prog_set(0, 0xfffffff0, TCGL_OPF_BRANCH | TCGL_OPF_PRIV, insn(tcgl_op_hlt, 0xf4, 1, 2));
    prog_set(1, 0x8000, TCGL_OPF_BRANCH | TCGL_OPF_PRIV, insn(tcgl_op_hlt, 0xf4, 1, 2));
    stub_prog_len = 2;
    runstate_set(RUN_STATE_RUNNING);
    bql_lock();
    ops->vcpu_start(vcpu);
    bql_unlock();
    g_assert_true(wait_for(is_halted, vcpu));

    /* idle: the halted vCPU thread uses (almost) no CPU */
    t0 = thread_cpu_ns(vcpu->thread);
    g_usleep(300 * 1000);
    t1 = thread_cpu_ns(vcpu->thread);
    g_assert_cmpint(t1 - t0, <, 20 * 1000 * 1000);

    /* an interrupt from the "PIC" wakes it; the handler halts again */
    bql_lock();
    fake_pic_vector = 0x30;
    x86_irq_set_pic(NULL, fake_pic_read);
    cpu_interrupt(vcpu, CPU_INTERRUPT_HARD);
    bql_unlock();
    g_assert_true(wait_for(is_halted_at_handler, vcpu));
    g_assert_cmphex(rd(0xffa, 2), ==, 0xfff1);      /* IP after the first HLT */
    g_assert_cmphex(rd(0xffc, 2), ==, 0xf000);

    /* busy: JMP FAR to itself forever; the BQL still changes hands */
    bql_lock();
    stub_steps = 0;
    stub_max_steps = ~0u;
    jmp = insn(tcgl_op_jmpf_ptr, 0xea, 5, 2);
    jmp.imm = 0x9000;
    jmp.imm2 = 0;
    prog_set(2, 0x9000, TCGL_OPF_BRANCH, jmp);
    stub_prog_len = 3;
    vcpu->env.rip = 0x9000;
    vcpu->env.mp_state = CPU_MP_RUNNABLE;
    ops->vcpu_kick(vcpu);
    bql_unlock();
    g_assert_true(wait_for(is_busy, vcpu));
    w0 = g_get_monotonic_time();
    for (int n = 0; n < 20; n++) {
        bql_lock();
        bql_unlock();
    }
    g_assert_cmpint(g_get_monotonic_time() - w0, <, 2 * G_USEC_PER_SEC);

    bql_lock();
    vcpu->exit_thread = true;
    ops->vcpu_kick(vcpu);
    bql_unlock();
    pthread_join(vcpu->thread, NULL);
    stub_max_steps = 10000;
    x86_irq_set_pic(NULL, NULL);
    g_ptr_array_index(cpus, 0) = &cpu0;
    tcgl_sys_set_cpuid(0, &max_cpuid);
    current_accel = NULL;
}

static bool is_parked(CPUState *cpu)
{
    return cpu->reset_pending && cpu->stopped;
}

static bool is_waiting_sipi(CPUState *cpu)
{
    return cpu->env.mp_state == CPU_MP_INIT_RECEIVED;
}

static bool both_busy(CPUState *cpu)
{
    return prog[0].hits > 20000 && prog[1].hits > 20000;
}

static void stop_vcpu(const AccelOps *ops, CPUState *vcpu)
{
    bql_lock();
    vcpu->exit_thread = true;
    ops->vcpu_kick(vcpu);
    bql_unlock();
    pthread_join(vcpu->thread, NULL);
}

/* Triple fault -> the vCPU parks and the machine is asked to reset;
 * INIT/SIPI start an AP in real mode at vector << 12; two busy vCPUs
 * both make progress. */
static void test_accel_smp(void)
{
    const AccelOps *ops = accel_find("tcg");
    g_autoptr(GError) err = NULL;
    CPUState *a = kept_vcpus[1] = g_new0(CPUState, 1), *b = kept_vcpus[2] = g_new0(CPUState, 1);
    TCGLInsn i;

    reset_all();
    current_accel = ops;
    runstate_set(RUN_STATE_RUNNING);
    a->index = 0;
    b->index = 1;
    b->apic_id = 1;
    g_ptr_array_index(cpus, 0) = a;
    g_ptr_array_add(cpus, b);
    x86_cpu_reset_state(&a->env, 0, true);
    x86_cpu_reset_state(&b->env, 1, false);
    b->env.mp_state = CPU_MP_UNINITIALIZED;
    g_assert_true(ops->vcpu_create(a, &err));
    g_assert_true(ops->vcpu_create(b, &err));

    /* A: INT 0x21 with an empty IVT (limit 0): #GP, #GP -> #DF -> shutdown */
    a->env.idt.limit = 0;
    a->env.segs[R_CS].base = 0;
    a->env.segs[R_CS].selector = 0;
    a->env.rip = 0x9000;
    a->env_dirty = true;            /* edited after vcpu_create: put before running */
    i = insn(tcgl_op_int, 0xcd, 2, 2);
    i.imm = 0x21;
    prog_set(0, 0x9000, TCGL_OPF_BRANCH, i);
    i = insn(tcgl_op_jmpf_ptr, 0xea, 5, 2);
    i.imm = 0;
    i.imm2 = 0x0a00;
    prog_set(1, 0xa000, TCGL_OPF_BRANCH, i);         /* B: JMP FAR 0a00:0000 forever */
    stub_prog_len = 2;
    bql_lock();
    ops->vcpu_start(a);
    ops->vcpu_start(b);
    bql_unlock();
    if (!wait_for(is_parked, a)) {
        g_printerr("A: rp %d stopped %d rip %" PRIx64 " mp %d steps %u hits %u ex %d\n",
                   a->reset_pending, a->stopped, a->env.rip, a->env.mp_state, stub_steps,
                   prog[0].hits, a->env.events.exception_injected);
    }
    g_assert_true(is_parked(a));
    g_assert_cmpint(a->env.mp_state, !=, CPU_MP_HALTED);
    g_assert_true(b->env.mp_state == CPU_MP_UNINITIALIZED);

    /* INIT + SIPI(0x0a) to B */
    bql_lock();
    cpu_interrupt(b, CPU_INTERRUPT_INIT);
    bql_unlock();
    g_assert_true(wait_for(is_waiting_sipi, b));
    bql_lock();
    stub_max_steps = ~0u;
    stub_steps = 0;
    b->sipi_vector = 0x0a;
    cpu_interrupt(b, CPU_INTERRUPT_SIPI);
    bql_unlock();

    /* A back (as a reset would): JMP FAR 0900:0000 forever as well */
    bql_lock();
    prog[0].insn = insn(tcgl_op_jmpf_ptr, 0xea, 5, 2);
    prog[0].insn.imm2 = 0x0900;
    a->env.segs[R_CS].selector = 0x900;
    a->env.segs[R_CS].base = 0x9000;
    a->env.rip = 0;
    a->env.events = (X86CPUEvents){ 0 };
    a->env_dirty = true;
    cpus_reset_done();
    bql_unlock();
    g_assert_true(wait_for(both_busy, a));
    g_assert_cmphex(b->env.segs[R_CS].base, ==, 0xa000);

    stop_vcpu(ops, a);
    stop_vcpu(ops, b);
    stub_max_steps = 10000;
    g_ptr_array_set_size(cpus, 1);
    g_ptr_array_index(cpus, 0) = &cpu0;
    tcgl_sys_set_cpuid(0, &max_cpuid);
    current_accel = NULL;
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    memory_init_system();
    cpus = g_ptr_array_new();
    g_ptr_array_add(cpus, &cpu0);
    {
        g_autoptr(GError) err = NULL;
        CPUIDTable sup;
        X86AccelCaps caps = { .name = "TCG", .supported = &sup };
        X86Topology topo = { 1, 1, 1, 1 };
        X86CPUModel *m = x86_cpu_model_parse("max", &err);
        cpuid_table_init(&sup);
        cpuid_table_init(&max_cpuid);
        tcgl_supported_cpuid(&sup);
        g_assert_true(x86_cpu_model_realize(m, &caps, NULL, &err));
        x86_cpu_build_cpuid(m, &topo, 0, &max_cpuid);
        tcgl_sys_set_cpuid(0, &max_cpuid);
        cpuid_table_free(&sup);
        x86_cpu_model_free(m);
    }

    g_test_add_func("/tcgl-sys/seg/loads", test_seg_loads);
    g_test_add_func("/tcgl-sys/seg/lar-lsl", test_lar_lsl);
    g_test_add_func("/tcgl-sys/seg/desc-tables", test_desc_tables);
    g_test_add_func("/tcgl-sys/far/v86-iret-iopl", test_v86_iret_iopl);
    g_test_add_func("/tcgl-sys/intr/real-mode", test_real_mode_int);
    g_test_add_func("/tcgl-sys/intr/pm-ring3", test_pm_int_ring3);
    g_test_add_func("/tcgl-sys/intr/long-ist", test_long_mode_ist);
    g_test_add_func("/tcgl-sys/intr/double-triple", test_double_triple_fault);
    g_test_add_func("/tcgl-sys/intr/bad-gate-target", test_bad_gate_target);
    g_test_add_func("/tcgl-sys/intr/df-task-gate", test_df_task_gate);
    g_test_add_func("/tcgl-sys/far/call-gate", test_call_gate);
    g_test_add_func("/tcgl-sys/far/call-gate64", test_call_gate64);
    g_test_add_func("/tcgl-sys/far/gates16", test_gates16);
    g_test_add_func("/tcgl-sys/far/iret-v86", test_iret_v86);
    g_test_add_func("/tcgl-sys/far/task-switch", test_task_switch);
    g_test_add_func("/tcgl-sys/sys/syscall", test_syscall_sysret);
    g_test_add_func("/tcgl-sys/sys/sysenter", test_sysenter_sysexit);
    g_test_add_func("/tcgl-sys/sys/long-mode-entry", test_long_mode_entry);
    g_test_add_func("/tcgl-sys/sys/msr", test_msrs);
    g_test_add_func("/tcgl-sys/sys/cpuid-model", test_cpuid_model);
    g_test_add_func("/tcgl-sys/sys/xsave-cpuid-msrs", test_xsave_cpuid_msrs);
    g_test_add_func("/tcgl-sys/sys/port-io", test_port_io);
    g_test_add_func("/tcgl-sys/sys/hlt-sti-shadow", test_hlt_and_sti_shadow);
    g_test_add_func("/tcgl-sys/sys/flags-iopl", test_flags_iopl);
    g_test_add_func("/tcgl-sys/sys/tsc", test_tsc);
    g_test_add_func("/tcgl-sys/sys/a20", test_a20);
    g_test_add_func("/tcgl-sys/accel/threads", test_accel_threads);
    g_test_add_func("/tcgl-sys/accel/smp", test_accel_smp);
    g_test_add_func("/tcgl-sys/sys/lapic", test_lapic);
    return g_test_run();
}

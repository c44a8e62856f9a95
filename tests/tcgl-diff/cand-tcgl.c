/*
 * tcg-lite as a candidate of the differential oracle: diff_candidate_tcgl().
 *
 * The guest is a 64-bit long-mode machine at CPL 3 whose linear pages
 * DIFF_CODE_ADDR (user, read-only), DIFF_DATA_ADDR and DIFF_STACK_ADDR
 * (user, read-write) are the only user mappings: what the host process
 * has.  The sequence is followed by INT3.  Every IDT vector 0-31 is an
 * interrupt gate to a one-byte HLT stub at TCGL_DIFF_HANDLERS + 16 * v,
 * on the TSS.RSP0 stack (a supervisor page): tcgl_cpu_exec() returns
 * TCGL_EXIT_HALT there, the HLT's address says the vector, the frame on
 * the supervisor stack says rip/rflags/rsp at the fault (the GPRs are
 * untouched by delivery).  INT3 from the end of the sequence is the normal
 * completion.  So exception delivery through a gate with a stack switch is
 * exercised on every case.
 *
 * Guest-physical layout (RAM at TCGL_DIFF_PHYS, 64 KiB):
 *   +0x0000 PML4  +0x1000 PDPT  +0x2000 PD  +0x3000 PT (system pages,
 *   identity-mapped, supervisor)  +0x4000/5000/6000 PT of the code, data
 *   and stack pages  +0x7000 GDT, TSS at +0x7100  +0x8000 IDT
 *   +0x9000 HLT stubs  +0xa000 supervisor stack (RSP0 = +0xb000)
 *   +0xb000 code page  +0xc000 data page  +0xd000 stack page
 *
 * Built only when tcg-lite's parts are linked (tests/tcgl-diff/meson.build);
 * tests/tcgl-diff/stub-tcgl.c stands in for them in test-diff-tcgl-env.
 */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include "cand-tcgl.h"
#include "hw/memory.h"
#include "tcgl.h"
#include "tcgl-sys.h"

#define P0          TCGL_DIFF_PHYS
#define PG_P        0x001ULL
#define PG_RW       0x002ULL
#define PG_US       0x004ULL
#define PG_NX       (1ULL << 63)

#define SEL_KCODE   0x08
#define SEL_KDATA   0x10
#define SEL_UCODE   0x1b
#define SEL_UDATA   0x23
#define SEL_TSS     0x28

#define CR0_MP      (1u << 1)
#define CR0_AM      (1u << 18)
#define CR4_OSFXSR  (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)
#define EFER_NXE    (1u << 11)

/* FXSAVE image: MXCSR_MASK (the rest: diff_state_to_fx()) */
#define FX_MXCSR_MASK 28

static MemoryRegion ram_mr;
static uint8_t *ram;
static CPUState *cpu;
static CPUIDTable cpuid;
static TCGLCPU *tc;
static pthread_t watchdog;
static volatile unsigned long run_seq;
static volatile int in_run;

/* Integration hook: whatever else a TCGLCPU needs before it runs (the
 * parts' per-vCPU init), defined by the file that links tcg-lite in. */
void tcgl_diff_cpu_init_hook(TCGLCPU *c) __attribute__((weak));

static void put64(uint64_t pa, uint64_t v)
{
    memcpy(ram + (pa - P0), &v, 8);
}

static uint64_t get64(uint64_t pa)
{
    uint64_t v;
    memcpy(&v, ram + (pa - P0), 8);
    return v;
}

static bool vector_has_error(int v)
{
    return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
}

/* A run still going after about a second is stopped (the guest loops). */
static void *watchdog_main(void *opaque)
{
    unsigned long seen = 0;
    unsigned ticks = 0;
    (void)opaque;
    for (;;) {
        usleep(250000);
        if (!in_run || run_seq != seen) {
            seen = run_seq;
            ticks = 0;
        } else if (++ticks >= 4 && tc) {
            tc->exit_request = 1;
        }
    }
    return NULL;
}

static void build_tables(void)
{
    /* paging */
    put64(P0 + 0x0000, (P0 + 0x1000) | PG_P | PG_RW | PG_US);
    put64(P0 + 0x1000, (P0 + 0x2000) | PG_P | PG_RW | PG_US);
    put64(P0 + 0x2000 + 8 * ((P0 >> 21) & 511), (P0 + 0x3000) | PG_P | PG_RW | PG_US);
    put64(P0 + 0x2000 + 8 * ((DIFF_CODE_ADDR >> 21) & 511), (P0 + 0x4000) | PG_P | PG_RW | PG_US);
    put64(P0 + 0x2000 + 8 * ((DIFF_DATA_ADDR >> 21) & 511), (P0 + 0x5000) | PG_P | PG_RW | PG_US);
    put64(P0 + 0x2000 + 8 * ((DIFF_STACK_ADDR >> 21) & 511), (P0 + 0x6000) | PG_P | PG_RW | PG_US);
    for (uint64_t a = P0; a < P0 + 0xb000; a += 0x1000) {
        /* the system pages: supervisor only, the stubs executable */
        uint64_t nx = (a == P0 + 0x9000) ? 0 : PG_NX;
        put64(P0 + 0x3000 + 8 * ((a >> 12) & 511), a | PG_P | PG_RW | nx);
    }
    put64(P0 + 0x4000 + 8 * ((DIFF_CODE_ADDR >> 12) & 511), (P0 + 0xb000) | PG_P | PG_US);
    put64(P0 + 0x5000 + 8 * ((DIFF_DATA_ADDR >> 12) & 511), (P0 + 0xc000) | PG_P | PG_RW | PG_US | PG_NX);
    put64(P0 + 0x6000 + 8 * ((DIFF_STACK_ADDR >> 12) & 511), (P0 + 0xd000) | PG_P | PG_RW | PG_US | PG_NX);

    /* GDT: null, kernel code/data, user code/data, 64-bit TSS */
    put64(P0 + 0x7000 + SEL_KCODE, 0x00209a0000000000ULL);
    put64(P0 + 0x7000 + SEL_KDATA, 0x00cf92000000ffffULL);
    put64(P0 + 0x7000 + (SEL_UCODE & ~3), 0x0020fa0000000000ULL);
    put64(P0 + 0x7000 + (SEL_UDATA & ~3), 0x00cff2000000ffffULL);
    uint64_t tss = P0 + 0x7100;
    put64(P0 + 0x7000 + SEL_TSS, 0x67 | (tss & 0xffffff) << 16 | 0x8bULL << 40 |
                                 ((tss >> 24) & 0xff) << 56);
    put64(P0 + 0x7000 + SEL_TSS + 8, tss >> 32);
    put64(tss + 4, P0 + 0xb000);                        /* RSP0 */

    /* IDT: interrupt gates; INT3 callable from CPL 3 */
    for (int v = 0; v < 32; v++) {
        uint64_t h = TCGL_DIFF_HANDLERS + 16 * v;
        uint64_t dpl = v == 3 ? 3 : 0;
        put64(P0 + 0x8000 + 16 * v, (h & 0xffff) | (uint64_t)SEL_KCODE << 16 |
                                    (0x8eULL | dpl << 5) << 40 | ((h >> 16) & 0xffff) << 48);
        put64(P0 + 0x8000 + 16 * v + 8, h >> 32);
        ram[0x9000 + 16 * v] = 0xf4;                    /* hlt */
        ram[0x9000 + 16 * v + 1] = 0xeb;                /* jmp back to it */
        ram[0x9000 + 16 * v + 2] = 0xfd;
    }
}

static bool setup(void)
{
    static bool done;
    if (done) {
        return tc != NULL;
    }
    done = true;
    memory_init_system();
    if (!memory_region_init_ram(&ram_mr, "tcgl-diff-ram", TCGL_DIFF_RAM_SIZE, NULL)) {
        return false;
    }
    memory_region_add_subregion(get_system_memory(), P0, &ram_mr);
    ram = memory_region_get_ram_ptr(&ram_mr);
    memset(ram, 0, TCGL_DIFF_RAM_SIZE);
    build_tables();

    cpu = g_new0(CPUState, 1);
    tc = g_new0(TCGLCPU, 1);
    tc->env = &cpu->env;
    tc->cpu = cpu;
    cpu->accel = tc;
    /* what tcg-all.c does for a machine and a vCPU (tcg_init_machine,
     * tcg_vcpu_create): the op tables, code-write tracking, the MMU's
     * model, the vCPU's TLB and CPUID table */
    tcgl_decode_init();
    tcgl_exec_init();
    tcgl_mmu_set_model(40, true);
    cpuid_table_init(&cpuid);
    tcgl_supported_cpuid(&cpuid);
    tcgl_sys_set_cpuid(cpu->index, &cpuid);
    tcgl_mmu_cpu_init(tc);
    if (tcgl_diff_cpu_init_hook) {
        tcgl_diff_cpu_init_hook(tc);
    }
    /* the watchdog takes no signal: the host runner's are for this thread */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_create(&watchdog, NULL, watchdog_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return true;
}

static void set_seg(SegmentCache *s, uint16_t sel, bool code)
{
    memset(s, 0, sizeof(*s));
    s->selector = sel;
    s->limit = 0xffffffff;
    s->type = code ? 0xb : 0x3;
    s->present = true;
    s->dpl_s = true;
    s->l = code;
    s->db = !code;
    s->g = true;
    s->dpl = sel & 3;
}

/* The state the sequence starts from. */
static void load_env(const uint8_t *code, size_t len, const DiffState *in)
{
    X86CPUState *env = &cpu->env;
    uint8_t page[DIFF_PAGE];

    diff_code_page(code, len, 64, page);
    page[len] = 0xcc;                                   /* int3: the end */
    memcpy(ram + 0xb000, page, DIFF_PAGE);
    memcpy(ram + 0xc000, in->data, DIFF_PAGE);
    memcpy(ram + 0xd000, in->stack, DIFF_PAGE);
    memset(ram + 0xa000, 0, DIFF_PAGE);

    memcpy(env->regs, in->gpr, sizeof(env->regs));
    env->rip = DIFF_CODE_ADDR;
    env->rflags = (in->rflags & DIFF_FLAGS_IN) | 2;
    set_seg(&env->segs[R_CS], SEL_UCODE, true);
    set_seg(&env->segs[R_SS], SEL_UDATA, false);
    set_seg(&env->segs[R_DS], SEL_UDATA, false);
    set_seg(&env->segs[R_ES], SEL_UDATA, false);
    memset(&env->segs[R_FS], 0, sizeof(env->segs[R_FS]));
    memset(&env->segs[R_GS], 0, sizeof(env->segs[R_GS]));
    env->segs[R_FS].unusable = env->segs[R_GS].unusable = true;
    memset(&env->ldt, 0, sizeof(env->ldt));
    env->ldt.unusable = true;
    memset(&env->tr, 0, sizeof(env->tr));
    env->tr.selector = SEL_TSS;
    env->tr.base = P0 + 0x7100;
    env->tr.limit = 0x67;
    env->tr.type = 0xb;
    env->tr.present = true;
    env->gdt.base = P0 + 0x7000;
    env->gdt.limit = SEL_TSS + 15;
    env->idt.base = P0 + 0x8000;
    env->idt.limit = 32 * 16 - 1;
    env->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
    env->cr2 = 0;
    env->cr3 = P0;
    env->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
    env->efer = EFER_LME | EFER_LMA | EFER_NXE;
    env->xcr0 = XSTATE_FP | XSTATE_SSE;
    memset(env->xsave, 0, X86_XSAVE_HDR_OFFSET + 64);
    diff_state_to_fx(in, env->fxsave);
    uint32_t mask = 0xffff;
    memcpy(env->fxsave + FX_MXCSR_MASK, &mask, 4);
    uint64_t xstate_bv = XSTATE_FP | XSTATE_SSE;
    memcpy(env->xsave + X86_XSAVE_HDR_OFFSET, &xstate_bv, 8);
    memset(&env->events, 0, sizeof(env->events));
    env->mp_state = CPU_MP_RUNNABLE;
}

static bool result(TCGLExit why, size_t len, const DiffState *in, DiffState *out);

bool diff_candidate_tcgl(const uint8_t *code, size_t len, const DiffState *in, DiffState *out)
{
    TCGLExit why;

    if (in->mode != 64 || len + 1 > DIFF_STUB_OFF || !setup()) {
        return false;
    }
    load_env(code, len, in);
    tcgl_blocks_flush();                /* the code page changed behind the TLB's back */
    tcgl_set_rflags(tc, cpu->env.rflags, ~0ULL);
    tcgl_update_hflags(tc);
    tcgl_tlb_flush(tc);
    tcgl_fp_state_from_env(tc);
    tc->exit_request = 0;
    tc->exit_reason = TCGL_EXIT_REQUEST;

    run_seq++;
    in_run = 1;
    why = tcgl_cpu_exec(tc);
    in_run = 0;
    cpu->env.rflags = tcgl_get_rflags(tc);
    tcgl_fp_state_to_env(tc);
    return result(why, len, in, out);
}

/* The result: where the HLT stopped says the vector, the frame the rest. */
static bool result(TCGLExit why, size_t len, const DiffState *in, DiffState *out)
{
    X86CPUState *env = &cpu->env;
    uint64_t h = env->rip - 1 - TCGL_DIFF_HANDLERS;
    int v = (int)(h / 16);

    *out = *in;
    memcpy(out->gpr, env->regs, sizeof(out->gpr));
    out->rflags = env->rflags;
    out->rip = env->rip;
    out->vector = DIFF_VEC_TIMEOUT;
    out->fault_addr = 0;
    if (why == TCGL_EXIT_HALT && h % 16 == 0 && v < 32) {
        /* the frame on the RSP0 stack: [error code] rip cs rflags rsp ss */
        uint64_t f = env->regs[R_ESP] + (vector_has_error(v) ? 8 : 0);
        if (f < P0 + 0xa000 || f + 40 > P0 + 0xb000) {
            return false;
        }
        out->rip = get64(f);
        out->rflags = get64(f + 16);
        out->gpr[D_RSP] = get64(f + 24);
        if (v == 3 && out->rip == DIFF_CODE_ADDR + len + 1) {
            out->vector = DIFF_VEC_NONE;
            out->rip = DIFF_CODE_ADDR + len;
        } else {
            out->vector = v;
            out->fault_addr = v == 14 ? env->cr2 : 0;
        }
    } else if (why == TCGL_EXIT_SHUTDOWN) {
        return false;                   /* a triple fault: not a result */
    }
    diff_fx_to_state(env->fxsave, out);
    memcpy(out->data, ram + 0xc000, DIFF_PAGE);
    memcpy(out->stack, ram + 0xd000, DIFF_PAGE);
    return true;
}

uint8_t *tcgl_diff_ram(void)
{
    return setup() ? ram : NULL;
}

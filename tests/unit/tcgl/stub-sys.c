/*
 * Stand-ins for the other tcg-lite parts, for part "sys"'s unit tests:
 * flags kept whole in env->rflags, memory as one flat buffer with paging
 * off (segment limits from the fast path, linear = physical & A20), and a
 * tiny executor that runs a list of hand-built TCGLInsn the way
 * cpu-exec.c will (event delivery after an unwind, interrupts between
 * instructions, rip advanced unless the handler branches).
 */
#include <string.h>
#include "stub-sys.h"
#include "jit.h"

uint8_t stub_mem[STUB_MEM_SIZE];
unsigned stub_tlb_flushes, stub_tlb_page_flushes;
StubInsn *stub_prog;
unsigned stub_prog_len;
unsigned stub_steps;
unsigned stub_max_steps = 10000;
bool stub_off_program;

/* ---- flags (flags.c) ------------------------------------------------------ */

uint64_t tcgl_get_rflags(TCGLCPU *c)
{
    return c->env->rflags | 2;
}

void tcgl_set_rflags(TCGLCPU *c, uint64_t val, uint64_t mask)
{
    uint64_t old = c->env->rflags;

    c->env->rflags = (old & ~mask) | (val & mask) | 2;
    if ((old ^ c->env->rflags) & 0x20000) {
        tcgl_update_hflags(c);
    }
}

bool tcgl_cond(TCGLCPU *c, unsigned cc)
{
    return false;
}

/* ---- memory (mmu.c) -------------------------------------------------------- */

static uint64_t phys_of(TCGLCPU *c, uint64_t lin)
{
    return lin & c->a20_mask;
}

uint64_t tcgl_ld_lin(TCGLCPU *c, uint64_t lin, unsigned size, int acc)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < size; i++) {
        uint64_t p = phys_of(c, lin + i);
        uint64_t b = p < STUB_MEM_SIZE ? stub_mem[p] : 0xff;
        v |= b << (8 * i);
    }
    return v;
}

void tcgl_st_lin(TCGLCPU *c, uint64_t lin, unsigned size, uint64_t v, int acc)
{
    for (unsigned i = 0; i < size; i++) {
        uint64_t p = phys_of(c, lin + i);
        if (p < STUB_MEM_SIZE) {
            stub_mem[p] = v >> (8 * i);
        }
    }
}

void *tcgl_lin_ptr(TCGLCPU *c, uint64_t lin, unsigned len, int acc)
{
    return NULL;
}

static uint64_t seg_lin(TCGLCPU *c, int seg, uint64_t off, unsigned size, bool write)
{
    int64_t lim = write ? c->seg_wlim[seg] : c->seg_rlim[seg];

    if ((int64_t)(off + size - 1) > lim || off + size - 1 < off) {
        tcgl_raise(c, seg == R_SS ? 12 : 13, 0);
    }
    return (c->seg_base[seg] + off) & c->lin_mask;
}

uint64_t tcgl_ld(TCGLCPU *c, int seg, uint64_t off, unsigned size)
{
    return tcgl_ld_lin(c, seg_lin(c, seg, off, size, false), size, TCGL_ACC_READ);
}

void tcgl_st(TCGLCPU *c, int seg, uint64_t off, unsigned size, uint64_t v)
{
    tcgl_st_lin(c, seg_lin(c, seg, off, size, true), size, v, TCGL_ACC_WRITE);
}

uint8_t tcgl_ldb(TCGLCPU *c, int seg, uint64_t off) { return tcgl_ld(c, seg, off, 1); }
uint16_t tcgl_ldw(TCGLCPU *c, int seg, uint64_t off) { return tcgl_ld(c, seg, off, 2); }
uint32_t tcgl_ldl(TCGLCPU *c, int seg, uint64_t off) { return tcgl_ld(c, seg, off, 4); }
uint64_t tcgl_ldq(TCGLCPU *c, int seg, uint64_t off) { return tcgl_ld(c, seg, off, 8); }
void tcgl_stb(TCGLCPU *c, int seg, uint64_t off, uint8_t v) { tcgl_st(c, seg, off, 1, v); }
void tcgl_stw(TCGLCPU *c, int seg, uint64_t off, uint16_t v) { tcgl_st(c, seg, off, 2, v); }
void tcgl_stl(TCGLCPU *c, int seg, uint64_t off, uint32_t v) { tcgl_st(c, seg, off, 4, v); }
void tcgl_stq(TCGLCPU *c, int seg, uint64_t off, uint64_t v) { tcgl_st(c, seg, off, 8, v); }

void tcgl_ld_buf(TCGLCPU *c, int seg, uint64_t off, void *buf, unsigned size)
{
    for (unsigned i = 0; i < size; i++) {
        ((uint8_t *)buf)[i] = tcgl_ld(c, seg, off + i, 1);
    }
}

void tcgl_st_buf(TCGLCPU *c, int seg, uint64_t off, const void *buf, unsigned size)
{
    for (unsigned i = 0; i < size; i++) {
        tcgl_st(c, seg, off + i, 1, ((const uint8_t *)buf)[i]);
    }
}

void *tcgl_rmw_ptr(TCGLCPU *c, int seg, uint64_t off, unsigned size)
{
    return NULL;
}

void tcgl_probe_write(TCGLCPU *c, int seg, uint64_t off, unsigned size)
{
    seg_lin(c, seg, off, size, true);
}

const uint8_t *tcgl_fetch_page(TCGLCPU *c, uint64_t pc, uint64_t *phys, unsigned *avail)
{
    *phys = phys_of(c, pc);
    *avail = 0;
    return NULL;
}

void tcgl_fetch_bytes(TCGLCPU *c, uint64_t pc, uint8_t *buf, unsigned len)
{
    for (unsigned i = 0; i < len; i++) {
        buf[i] = tcgl_ld_lin(c, pc + i, 1, TCGL_ACC_EXEC);
    }
}

void tcgl_tlb_flush(TCGLCPU *c)
{
    stub_tlb_flushes++;
}

void tcgl_tlb_flush_page(TCGLCPU *c, uint64_t lin)
{
    stub_tlb_page_flushes++;
}

uint64_t tcgl_debug_translate(TCGLCPU *c, uint64_t lin)
{
    return phys_of(c, lin);
}

/* ---- x87/SSE (fpu.c) ---------------------------------------------------------- */

void tcgl_fp_state_from_env(TCGLCPU *c)
{
}

void tcgl_fp_state_to_env(TCGLCPU *c)
{
}

/* ---- decoder and executor (decode.c, cpu-exec.c) --------------------------------- */

void tcgl_op_ud(TCGLCPU *c, const TCGLInsn *i)
{
    tcgl_raise(c, 6, -1);
}

void tcgl_decode_init(void)
{
}

void tcgl_exec_init(void)
{
}

void tcgl_blocks_flush(void)
{
}

bool tcgl_blocks_uncompile(void)
{
    return false;
}

void tcgl_blocks_info(GString *out)
{
    g_string_append(out, "stub\n");
}

bool tcgl_jit_enabled(void)
{
    return false;
}

void tcgl_jit_stats(TCGLJitStats *s)
{
    memset(s, 0, sizeof(*s));
}

static StubInsn *find_insn(uint64_t lin)
{
    for (unsigned n = 0; n < stub_prog_len; n++) {
        if (stub_prog[n].lin == lin) {
            return &stub_prog[n];
        }
    }
    return NULL;
}

/* The core's JIT switch (-accel tcg,jit=): tcg-all.c's option parser. */
bool tcgl_jit_set_enabled(bool on, Error **errp)
{
    (void)on;
    (void)errp;
    return true;
}

/* Runs the program from env->rip until an instruction is missing there
 * (stub_off_program), exit_request, or stub_max_steps. */
TCGLExit tcgl_cpu_exec(TCGLCPU *c)
{
    stub_off_program = false;
    if (sigsetjmp(c->jmp, 1) != 0) {
        tcgl_deliver_event(c);
    }
    for (;;) {
        StubInsn *s;
        if (c->exit_request) {
            TCGLExit r = c->exit_reason;
            c->exit_request = 0;
            c->exit_reason = TCGL_EXIT_REQUEST;
            return r;
        }
        if (c->env->events.interrupt_shadow || c->cpu->interrupt_request) {
            tcgl_take_interrupts(c);
        }
        s = find_insn((c->seg_base[R_CS] + c->env->rip) & c->lin_mask);
        if (!s || stub_steps >= stub_max_steps) {
            stub_off_program = true;
            return TCGL_EXIT_REQUEST;
        }
        stub_steps++;
        s->hits++;
        if ((s->flags & TCGL_OPF_PRIV) && (c->hflags & TCGL_HF_CPL_MASK)) {
            tcgl_raise(c, 13, 0);
        }
        if ((s->flags & TCGL_OPF_NO64) && (c->hflags & TCGL_HF_CS64)) {
            tcgl_raise(c, 6, -1);
        }
        s->insn.fn(c, &s->insn);
        if (!(s->flags & TCGL_OPF_BRANCH)) {
            c->env->rip += s->insn.len;
        }
    }
}

/* The mmu part's set-up calls (tcg-all.c): the flat stub has no TLB. */
void tcgl_mmu_cpu_init(TCGLCPU *c)
{
    (void)c;
}

void tcgl_mmu_set_model(unsigned phys_bits, bool pdpe1gb)
{
    (void)phys_bits;
    (void)pdpe1gb;
}

/* mmu.c: no vCPU runs without the BQL in these tests */
void tcgl_exclusive_begin(void) { }
void tcgl_exclusive_end(void) { }

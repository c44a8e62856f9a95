/*
 * A stand-in for tcg-lite's parts in test-diff-tcgl-env: just enough of a
 * 64-bit CPU to check the guest cand-tcgl.c builds (4-level page walk from
 * CR3 through the system memory with U/S, R/W, NX and CR0.WP; IDT gates,
 * the TSS.RSP0 stack switch, the frame) and that states go in and come
 * out right.  It executes ADD EAX,ECX; MOV [RDI],RAX; UD2; INT3; HLT.
 */
#include <string.h>
#include "hw/memory.h"
#include "tcgl.h"
#include "tcgl-sys.h"

unsigned stub_tcgl_flushes;

void tcgl_decode_init(void) {}
void tcgl_exec_init(void) {}
void tcgl_blocks_flush(void) { stub_tcgl_flushes++; }
void tcgl_tlb_flush(TCGLCPU *c) { (void)c; }
void tcgl_fp_state_from_env(TCGLCPU *c) { (void)c; }
void tcgl_fp_state_to_env(TCGLCPU *c) { (void)c; }
void tcgl_mmu_set_model(unsigned phys_bits, bool pdpe1gb) { (void)phys_bits; (void)pdpe1gb; }
void tcgl_mmu_cpu_init(TCGLCPU *c) { c->a20_mask = ~0ULL; }
void tcgl_supported_cpuid(CPUIDTable *t) { (void)t; }
void tcgl_sys_set_cpuid(int cpu_index, const CPUIDTable *t) { (void)cpu_index; (void)t; }
/* the stub keeps every flag in env->rflags */
uint64_t tcgl_get_rflags(TCGLCPU *c) { return c->env->rflags; }
void tcgl_set_rflags(TCGLCPU *c, uint64_t val, uint64_t mask)
{
    c->env->rflags = (c->env->rflags & ~mask) | (val & mask) | 2;
}

void tcgl_update_hflags(TCGLCPU *c)
{
    X86CPUState *env = c->env;
    c->hflags = env->segs[R_CS].dpl & 3;
    if ((env->efer & EFER_LMA) && env->segs[R_CS].l) {
        c->hflags |= TCGL_HF_CS64 | TCGL_HF_LMA;
    }
    if (env->cr0 & CR0_PE) {
        c->hflags |= TCGL_HF_PE;
    }
    if (env->cr0 & CR0_PG) {
        c->hflags |= TCGL_HF_PG;
    }
}

typedef struct Fault { int vector; uint32_t err; } Fault;

/* lin -> phys, or a #PF (err: P W U I bits as the CPU builds them) */
static bool walk(TCGLCPU *c, uint64_t lin, bool write, bool user, bool exec, uint64_t *pa, Fault *f)
{
    X86CPUState *env = c->env;
    uint64_t t = env->cr3 & ~0xfffULL, e = 0;
    bool ok_w = true, ok_u = true, nx = false;

    for (int level = 3; level >= 0; level--) {
        address_space_read(&address_space_memory, t + 8 * ((lin >> (12 + 9 * level)) & 511), &e, 8);
        if (!(e & 1)) {
            goto fault;
        }
        ok_w &= !!(e & 2);
        ok_u &= !!(e & 4);
        nx |= !!(e >> 63);
        t = e & 0x000ffffffffff000ULL;
    }
    if ((user && !ok_u) || (write && !ok_w && (user || (env->cr0 & CR0_WP))) || (exec && nx)) {
        f->err = 1;
        goto fault_p;
    }
    *pa = t | (lin & 0xfff);
    return true;
fault:
    f->err = 0;
fault_p:
    f->vector = 14;
    f->err |= (write ? 2 : 0) | (user ? 4 : 0) | (exec ? 16 : 0);
    env->cr2 = lin;
    return false;
}

static uint64_t rd(TCGLCPU *c, uint64_t lin, unsigned n, bool user, bool exec, Fault *f)
{
    uint64_t pa, v = 0;
    if (!walk(c, lin, false, user, exec, &pa, f)) {
        return 0;
    }
    address_space_read(&address_space_memory, pa, &v, n);
    return v;
}

static bool wr(TCGLCPU *c, uint64_t lin, uint64_t v, unsigned n, bool user, Fault *f)
{
    uint64_t pa;
    /* both pages of a crossing store must be writable (the stub then fails
     * it: only the tests' aligned stores are done) */
    if ((lin & 0xfff) + n > 0x1000 && !walk(c, (lin | 0xfff) + 1, true, user, false, &pa, f)) {
        return false;
    }
    if (!walk(c, lin, true, user, false, &pa, f)) {
        return false;
    }
    address_space_write(&address_space_memory, pa, &v, n);
    return true;
}

/* An exception or INT3 from CPL 3 through a 64-bit interrupt gate. */
static bool deliver(TCGLCPU *c, int v, bool has_err, uint32_t err, uint64_t ret_rip, bool soft)
{
    X86CPUState *env = c->env;
    Fault f = { 0, 0 };
    uint64_t lo = rd(c, env->idt.base + 16 * v, 8, false, false, &f);
    uint64_t hi = rd(c, env->idt.base + 16 * v + 8, 8, false, false, &f);
    uint64_t rsp0 = rd(c, env->tr.base + 4, 8, false, false, &f);
    if (f.vector || !(lo >> 47 & 1) || ((lo >> 40) & 0xf) != 0xe ||
        (soft && ((lo >> 45) & 3) < 3) || ((lo >> 16) & 0xffff) != 0x08) {
        return false;
    }
    uint64_t frame[6], *p = frame;
    if (has_err) {
        *p++ = err;
    }
    *p++ = ret_rip;
    *p++ = env->segs[R_CS].selector;
    *p++ = env->rflags;
    *p++ = env->regs[R_ESP];
    *p++ = env->segs[R_SS].selector;
    uint64_t sp = rsp0 - 8 * (p - frame);
    for (int i = 0; i < p - frame; i++) {
        if (!wr(c, sp + 8 * i, frame[i], 8, false, &f)) {
            return false;
        }
    }
    env->regs[R_ESP] = sp;
    env->rip = (lo & 0xffff) | ((lo >> 48) & 0xffff) << 16 | hi << 32;
    env->segs[R_CS].selector = 0x08;
    env->segs[R_CS].dpl = 0;
    env->segs[R_SS].selector = 0;
    tcgl_update_hflags(c);
    return true;
}

TCGLExit tcgl_cpu_exec(TCGLCPU *c)
{
    X86CPUState *env = c->env;

    for (int n = 0; n < 100; n++) {
        bool user = (c->hflags & TCGL_HF_CPL_MASK) == 3;
        Fault f = { 0, 0 };
        uint64_t b = rd(c, env->rip, 8, user, true, &f);
        if (f.vector) {
            if (!deliver(c, 14, true, f.err, env->rip, false)) {
                return TCGL_EXIT_SHUTDOWN;
            }
            continue;
        }
        if ((b & 0xffff) == 0xc801) {                   /* add eax, ecx */
            uint32_t a = env->regs[R_EAX], s = env->regs[R_ECX], r = a + s;
            uint64_t fl = 0;
            fl |= r < a ? 0x1 : 0;
            fl |= __builtin_parity(r & 0xff) ? 0 : 0x4;
            fl |= ((a ^ s ^ r) & 0x10) ? 0x10 : 0;
            fl |= r == 0 ? 0x40 : 0;
            fl |= (r >> 31) ? 0x80 : 0;
            fl |= (((a ^ r) & (s ^ r)) >> 31) ? 0x800 : 0;
            env->regs[R_EAX] = r;
            env->rflags = (env->rflags & ~(uint64_t)TCGL_RFLAGS_ARITH) | fl;
            env->rip += 2;
        } else if ((b & 0xffffff) == 0x078948) {        /* mov [rdi], rax */
            if (!wr(c, env->regs[R_EDI], env->regs[R_EAX], 8, user, &f)) {
                if (!deliver(c, 14, true, f.err, env->rip, false)) {
                    return TCGL_EXIT_SHUTDOWN;
                }
                continue;
            }
            env->rip += 3;
        } else if ((b & 0xffff) == 0x0b0f) {            /* ud2 */
            if (!deliver(c, 6, false, 0, env->rip, false)) {
                return TCGL_EXIT_SHUTDOWN;
            }
        } else if ((b & 0xff) == 0xcc) {                /* int3 */
            if (!deliver(c, 3, false, 0, env->rip + 1, true)) {
                return TCGL_EXIT_SHUTDOWN;
            }
        } else if ((b & 0xff) == 0xf4 && !user) {       /* hlt */
            env->rip += 1;
            return TCGL_EXIT_HALT;
        } else {
            return TCGL_EXIT_SHUTDOWN;
        }
    }
    return TCGL_EXIT_REQUEST;
}

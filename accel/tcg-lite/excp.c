/*
 * tcg-lite: exceptions and interrupts (SDM vol. 3 ch. 6).  Raising unwinds
 * to the execution loop with the event in c->event; delivery goes through
 * the IVT (real mode), 8-byte gates (protected mode: interrupt, trap and
 * task gates, stack switch from the TSS, v86 -> ring 0) or 16-byte gates
 * (long mode, IST), and escalates a fault during delivery to #DF and a
 * fault during #DF to a shutdown (triple fault).
 *
 * env->events says what is being delivered while it is (exception_injected
 * / interrupt_injected), which is how a nested fault knows what it
 * interrupted and what get_state shows if the vCPU stops in between.
 */
#include <inttypes.h>
#include "tcgl-sys.h"
#include "hw/i386/x86-irq.h"
#include "qemu/log.h"

void tcgl_raise(TCGLCPU *c, int vector, int err)
{
    c->event.kind = TCGL_EV_FAULT;
    c->event.vector = vector;
    c->event.has_error = err >= 0;
    c->event.error = err >= 0 ? (uint32_t)err : 0;
    c->event.next_rip = c->env->rip;
    siglongjmp(c->jmp, 1);
}

void tcgl_raise_softint(TCGLCPU *c, int vector, uint64_t next_rip, TCGLEventKind kind)
{
    /* INT n in v86 mode is IOPL-sensitive (no VME: CR4.VME is not offered). */
    if (kind == TCGL_EV_SOFTINT && (c->hflags & TCGL_HF_VM) && tcgl_iopl(c) < 3) {
        tcgl_raise(c, EXCP_GP, 0);
    }
    c->event.kind = kind;
    c->event.vector = vector;
    c->event.has_error = false;
    c->event.error = 0;
    c->event.next_rip = next_rip;
    siglongjmp(c->jmp, 1);
}

/* INT n, INT3 and INTO check the gate's DPL; #DB, hardware interrupts and
 * exceptions do not. */
static bool is_soft(TCGLEventKind kind, int vector)
{
    return kind == TCGL_EV_SOFTINT ||
           (kind == TCGL_EV_TRAP && (vector == EXCP_BP || vector == EXCP_OF));
}

static void gate_fault(TCGLCPU *c, int vector, int excp)
{
    tcgl_raise(c, excp, vector * 8 + 2);
}

/* ---- real mode ----------------------------------------------------------- */

static void intr_real(TCGLCPU *c, int vector, uint64_t ret)
{
    X86CPUState *env = c->env;
    TCGLStack st = { env->segs[R_SS].base, env->regs[R_ESP], 0xffff, 0 };
    uint32_t v;

    if ((unsigned)vector * 4 + 3 > env->idt.limit) {
        gate_fault(c, vector, EXCP_GP);
    }
    v = tcgl_ld_lin(c, (uint32_t)(env->idt.base + vector * 4), 4, TCGL_ACC_SUPER);
    tcgl_stack_push(c, &st, 2, tcgl_get_rflags(c));
    tcgl_stack_push(c, &st, 2, env->segs[R_CS].selector);
    tcgl_stack_push(c, &st, 2, ret);
    env->regs[R_ESP] = (env->regs[R_ESP] & ~0xffffULL) | st.sp;
    env->rflags &= ~(uint64_t)(RFL_IF | RFL_TF | RFL_AC | RFL_RF);
    env->segs[R_CS].selector = v >> 16;
    env->segs[R_CS].base = (v >> 16) << 4;
    env->rip = v & 0xffff;
}

/* ---- protected mode ----------------------------------------------------------- */

/* The code segment a gate names; returns its descriptor. */
static void gate_target(TCGLCPU *c, unsigned sel, uint32_t *lo, uint32_t *hi)
{
    if ((sel & ~3u) == 0) {
        tcgl_raise(c, EXCP_GP, 0);
    }
    if (!tcgl_read_desc(c, sel, lo, hi) || !(*hi & DESC_S) ||
        !(DESC_TYPE(*hi) & SEG_TYPE_CODE) || DESC_DPL(*hi) > tcgl_cpl(c)) {
        tcgl_raise(c, EXCP_GP, sel & 0xfffc);
    }
    if (!(*hi & DESC_P)) {
        tcgl_raise(c, EXCP_NP, sel & 0xfffc);
    }
}

static void intr_prot(TCGLCPU *c, int vector, TCGLEventKind kind, bool has_err, uint32_t err,
                      uint64_t ret)
{
    X86CPUState *env = c->env;
    unsigned cpl = tcgl_cpl(c), type, sel, dpl, new_cpl, size;
    uint32_t lo, hi, clo, chi;
    uint64_t off, fl = tcgl_get_rflags(c);
    bool inter, vm = c->hflags & TCGL_HF_VM;
    TCGLStack st;
    SegmentCache nss;

    if ((unsigned)vector * 8 + 7 > env->idt.limit) {
        gate_fault(c, vector, EXCP_GP);
    }
    uint64_t d = tcgl_ld_lin(c, tcgl_sys_lin(c, env->idt.base + vector * 8), 8,
                             TCGL_ACC_SUPER);
    lo = (uint32_t)d;
    hi = (uint32_t)(d >> 32);
    type = DESC_TYPE(hi);
    if ((hi & DESC_S) || !(type == SYS_TASK || type == SYS_INT16 || type == SYS_TRAP16 ||
                           type == SYS_INT32 || type == SYS_TRAP32)) {
        gate_fault(c, vector, EXCP_GP);
    }
    if (is_soft(kind, vector) && DESC_DPL(hi) < cpl) {
        gate_fault(c, vector, EXCP_GP);
    }
    if (!(hi & DESC_P)) {
        gate_fault(c, vector, EXCP_NP);
    }
    if (type == SYS_TASK) {
        unsigned tss = lo >> 16;
        uint32_t tlo, thi;
        if ((tss & 4) || !tcgl_read_desc(c, tss, &tlo, &thi) || (thi & DESC_S) ||
            (DESC_TYPE(thi) & 7) != 1) {
            tcgl_raise(c, EXCP_TS, tss & 0xfffc);
        }
        if (!(thi & DESC_P)) {
            tcgl_raise(c, EXCP_NP, tss & 0xfffc);
        }
        tcgl_task_switch(c, tss, tlo, thi, TCGL_TS_INT, ret);
        if (has_err) {
            /* The error code goes on the new task's stack. */
            size = (DESC_TYPE(thi) & 8) ? 4 : 2;
            tcgl_push(c, size, err);
        }
        return;
    }
    size = (type & 8) ? 4 : 2;
    sel = lo >> 16;
    off = (lo & 0xffff) | (hi & 0xffff0000u);
    if (size == 2) {
        off &= 0xffff;
    }
    gate_target(c, sel, &clo, &chi);
    dpl = DESC_DPL(chi);
    inter = !(DESC_TYPE(chi) & SEG_TYPE_E) && dpl < cpl;
    if (inter) {
        unsigned ss;
        uint64_t sp;
        uint32_t slo, shi;
        if (vm && dpl != 0) {
            tcgl_raise(c, EXCP_GP, sel & 0xfffc);
        }
        tcgl_tss_stack(c, dpl, &ss, &sp);
        tcgl_check_tss_ss(c, ss, dpl, &slo, &shi);
        tcgl_seg_from_desc(&nss, ss, slo, shi | (SEG_TYPE_A << 8));
        tcgl_set_accessed(c, ss, shi);
        st = (TCGLStack){ nss.base, sp, nss.db ? 0xffffffffULL : 0xffffULL, TCGL_ACC_SUPER };
        new_cpl = dpl;
    } else {
        if (vm) {
            tcgl_raise(c, EXCP_GP, sel & 0xfffc);
        }
        st = (TCGLStack){ env->segs[R_SS].base, env->regs[R_ESP], tcgl_sp_mask(c),
                          cpl == 3 ? 0 : TCGL_ACC_SUPER };
        new_cpl = cpl;
    }
    if (off > ((chi & DESC_G) ? (((chi & 0xf0000) | (clo & 0xffff)) << 12) | 0xfff
                              : ((chi & 0xf0000) | (clo & 0xffff)))) {
        tcgl_raise(c, EXCP_GP, 0);
    }
    if (vm) {
        tcgl_stack_push(c, &st, size, env->segs[R_GS].selector);
        tcgl_stack_push(c, &st, size, env->segs[R_FS].selector);
        tcgl_stack_push(c, &st, size, env->segs[R_DS].selector);
        tcgl_stack_push(c, &st, size, env->segs[R_ES].selector);
    }
    if (inter) {
        tcgl_stack_push(c, &st, size, env->segs[R_SS].selector);
        tcgl_stack_push(c, &st, size, env->regs[R_ESP]);
    }
    tcgl_stack_push(c, &st, size, fl);
    tcgl_stack_push(c, &st, size, env->segs[R_CS].selector);
    tcgl_stack_push(c, &st, size, ret);
    if (has_err) {
        tcgl_stack_push(c, &st, size, err);
    }
    /* Commit. */
    if (inter) {
        env->segs[R_SS] = nss;
    }
    if (vm) {
        tcgl_seg_null(&env->segs[R_ES], 0);
        tcgl_seg_null(&env->segs[R_DS], 0);
        tcgl_seg_null(&env->segs[R_FS], 0);
        tcgl_seg_null(&env->segs[R_GS], 0);
    }
    env->regs[R_ESP] = st.mask == 0xffff ? (env->regs[R_ESP] & ~0xffffULL) | st.sp : st.sp;
    tcgl_load_cs(c, sel, clo, chi, new_cpl);
    env->rip = off;
    env->rflags &= ~(uint64_t)(RFL_TF | RFL_VM | RFL_RF | RFL_NT);
    if (!(type & 1)) {
        env->rflags &= ~(uint64_t)RFL_IF;     /* interrupt gate */
    }
}

/* ---- long mode ------------------------------------------------------------------- */

static void intr_long(TCGLCPU *c, int vector, TCGLEventKind kind, bool has_err, uint32_t err,
                      uint64_t ret)
{
    X86CPUState *env = c->env;
    unsigned cpl = tcgl_cpl(c), type, sel, dpl, new_cpl, ist;
    uint32_t lo, hi, clo, chi;
    uint64_t off, rsp, fl = tcgl_get_rflags(c), a;
    bool inter;

    if ((unsigned)vector * 16 + 15 > env->idt.limit) {
        gate_fault(c, vector, EXCP_GP);
    }
    a = env->idt.base + vector * 16;
    uint64_t d0 = tcgl_ld_lin(c, a, 8, TCGL_ACC_SUPER);
    uint64_t d1 = tcgl_ld_lin(c, a + 8, 8, TCGL_ACC_SUPER);
    lo = (uint32_t)d0;
    hi = (uint32_t)(d0 >> 32);
    type = DESC_TYPE(hi);
    if ((hi & DESC_S) || (type != SYS_INT32 && type != SYS_TRAP32)) {
        gate_fault(c, vector, EXCP_GP);
    }
    if (is_soft(kind, vector) && DESC_DPL(hi) < cpl) {
        gate_fault(c, vector, EXCP_GP);
    }
    if (!(hi & DESC_P)) {
        gate_fault(c, vector, EXCP_NP);
    }
    sel = lo >> 16;
    off = (lo & 0xffff) | (hi & 0xffff0000u) | (d1 << 32);
    ist = hi & 7;
    gate_target(c, sel, &clo, &chi);
    if (!(chi & DESC_L) || (chi & DESC_DB)) {
        tcgl_raise(c, EXCP_GP, sel & 0xfffc);
    }
    dpl = DESC_DPL(chi);
    inter = !(DESC_TYPE(chi) & SEG_TYPE_E) && dpl < cpl;
    new_cpl = inter ? dpl : cpl;
    if (ist) {
        rsp = tcgl_tss64_rsp(c, 3 + ist);
    } else if (inter) {
        rsp = tcgl_tss64_rsp(c, dpl);
    } else {
        rsp = env->regs[R_ESP];
    }
    if (!tcgl_canonical(off)) {
        tcgl_raise(c, EXCP_GP, 0);
    }
    TCGLStack st = { 0, rsp & ~0xfULL, ~0ULL, new_cpl == 3 ? 0 : TCGL_ACC_SUPER };
    tcgl_stack_push(c, &st, 8, env->segs[R_SS].selector);
    tcgl_stack_push(c, &st, 8, env->regs[R_ESP]);
    tcgl_stack_push(c, &st, 8, fl);
    tcgl_stack_push(c, &st, 8, env->segs[R_CS].selector);
    tcgl_stack_push(c, &st, 8, ret);
    if (has_err) {
        tcgl_stack_push(c, &st, 8, err);
    }
    if (inter) {
        tcgl_seg_null_ss64(&env->segs[R_SS], new_cpl);
    }
    env->regs[R_ESP] = st.sp;
    tcgl_load_cs(c, sel, clo, chi, new_cpl);
    env->rip = off;
    env->rflags &= ~(uint64_t)(RFL_TF | RFL_VM | RFL_RF | RFL_NT);
    if (!(type & 1)) {
        env->rflags &= ~(uint64_t)RFL_IF;
    }
}

/* ---- delivery ------------------------------------------------------------------------ */

static void do_interrupt(TCGLCPU *c, int vector, TCGLEventKind kind, bool has_err,
                         uint32_t err, uint64_t ret)
{
    if (qemu_loglevel_mask(CPU_LOG_INT)) {
        qemu_log("tcg-lite: CPU %d vector 0x%02x kind %d err %s0x%x rip 0x%" PRIx64 "\n",
                 c->cpu ? c->cpu->index : -1, vector, kind, has_err ? "" : "(none) ", err,
                 c->env->rip);
    }
    if (c->hflags & TCGL_HF_LMA) {
        intr_long(c, vector, kind, has_err, err, ret);
    } else if (c->hflags & TCGL_HF_PE) {
        intr_prot(c, vector, kind, has_err, err, ret);
    } else {
        intr_real(c, vector, ret);
    }
    tcgl_update_hflags(c);
}

static void triple_fault(TCGLCPU *c)
{
    X86CPUEvents *e = &c->env->events;

    qemu_log_mask(CPU_LOG_RESET | LOG_GUEST_ERROR,
                  "tcg-lite: triple fault on CPU %d at rip 0x%" PRIx64 "\n",
                  c->cpu ? c->cpu->index : -1, c->env->rip);
    e->exception_injected = false;
    e->interrupt_injected = false;
    c->event.kind = TCGL_EV_NONE;
    c->exit_reason = TCGL_EXIT_SHUTDOWN;
    c->exit_request = 1;
}

void tcgl_deliver_event(TCGLCPU *c)
{
    X86CPUEvents *e = &c->env->events;
    TCGLEvent ev = c->event;
    uint64_t ret;

    c->event.kind = TCGL_EV_NONE;
    if (ev.kind == TCGL_EV_NONE) {
        return;
    }
    if (ev.kind == TCGL_EV_FAULT && e->exception_injected) {
        /* A fault while delivering an exception (SDM Table 6-5). */
        int prev = e->exception_nr;
        bool contrib = tcgl_excp_contributory(ev.vector);
        if (prev == EXCP_DF && (contrib || ev.vector == EXCP_PF)) {
            triple_fault(c);
            return;
        }
        if ((tcgl_excp_contributory(prev) && contrib) ||
            (prev == EXCP_PF && (contrib || ev.vector == EXCP_PF))) {
            ev.vector = EXCP_DF;
            ev.has_error = true;
            ev.error = 0;
        }
    }
    if (ev.kind == TCGL_EV_FAULT || ev.kind == TCGL_EV_TRAP) {
        e->exception_injected = true;
        e->exception_nr = ev.vector;
        e->exception_has_error_code = ev.has_error;
        e->exception_error_code = ev.error;
        e->interrupt_injected = false;
    } else {
        e->exception_injected = false;
        e->interrupt_injected = true;
        e->interrupt_nr = ev.vector;
        e->interrupt_soft = true;
    }
    ret = ev.kind == TCGL_EV_FAULT ? c->env->rip : ev.next_rip;
    do_interrupt(c, ev.vector, ev.kind, ev.has_error, ev.error, ret);
    e->exception_injected = false;
    e->interrupt_injected = false;
    e->interrupt_shadow = 0;
}

void tcgl_deliver_hwint(TCGLCPU *c, int vector, bool nmi)
{
    X86CPUEvents *e = &c->env->events;

    if (nmi) {
        vector = EXCP_NMI;
        e->nmi_masked = true;
        e->nmi_pending = false;
    }
    if (c->env->mp_state == CPU_MP_HALTED) {
        c->env->mp_state = CPU_MP_RUNNABLE;
    }
    e->exception_injected = false;
    e->interrupt_injected = true;
    e->interrupt_nr = vector;
    e->interrupt_soft = false;
    do_interrupt(c, vector, TCGL_EV_HWINT, false, 0, c->env->rip);
    e->interrupt_injected = false;
    e->interrupt_shadow = 0;
}

bool tcgl_take_interrupts(TCGLCPU *c)
{
    X86CPUEvents *e = &c->env->events;
    CPUState *cpu = c->cpu;

    if (e->interrupt_shadow) {
        e->interrupt_shadow = 0;
        return false;
    }
    if (cpu_interrupt_pending(cpu, CPU_INTERRUPT_INIT | CPU_INTERRUPT_SIPI | CPU_INTERRUPT_SMI)) {
        c->exit_request = 1;        /* the vCPU thread handles these */
        return false;
    }
    if (cpu_interrupt_pending(cpu, CPU_INTERRUPT_NMI) && !e->nmi_masked) {
        cpu_reset_interrupt(cpu, CPU_INTERRUPT_NMI);
        tcgl_deliver_hwint(c, EXCP_NMI, true);
        return true;
    }
    if ((c->env->rflags & RFL_IF) && cpu_interrupt_pending(cpu, CPU_INTERRUPT_HARD)) {
        bool locked = tcgl_bql_enter(c);
        int v = cpu_get_interrupt(cpu);
        tcgl_bql_leave(c, locked);
        if (v >= 0) {
            tcgl_deliver_hwint(c, v, false);
            return true;
        }
    }
    return false;
}

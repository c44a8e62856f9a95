/*
 * tcg-lite: the accelerator "tcg" (AccelOps).  One thread per vCPU.  With
 * one vCPU, guest code runs without the BQL (tcg_unlocked: calls into the
 * machine take it, tcgl_bql_enter; docs/tcg-lite.md "Guest code without
 * the big lock").  With several, the thread holds the BQL while it runs
 * guest code (tcgl_cpu_exec) and drops it between time slices.  A slice
 * ends when the main loop (or another thread) waits for the BQL: the main
 * loop at once, other vCPUs after TCG_SLICE_US so that two vCPUs do not
 * ping-pong at every block.  HLT and wait-for-SIPI sleep on the vCPU
 * condition until cpu_interrupt() kicks.
 *
 * Each vCPU thread runs its own LAPIC timer (cpu->timers): a halted vCPU
 * sleeps until its next deadline and fires the timer itself, so an idle
 * guest's timer interrupts wake that thread only, not the main loop as
 * well (QEMU's TCG wakes both).  While it runs guest code a POSIX timer
 * signals the thread at the deadline (the handler sets exit_request).
 *
 * The architectural state lives in cpu->env itself (TCGLCPU.env points
 * there); get_state only materialises what the CPU keeps elsewhere (lazy
 * flags, the x87/SSE working copy), put_state recomputes what is derived
 * from env (mode flags, the segment fast path, the TLB).
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "accel/accel.h"
#include "tcgl-sys.h"
#include "jit.h"
#include "hw/i386/x86-irq.h"
#include "hw/intc/apic.h"
#include "hw/machine.h"
#include "qemu/log.h"
#include "system/main-loop.h"
#include "system/runstate.h"

#define TCG_SLICE_US 2000       /* a vCPU waiting for the BQL gets it after this */

typedef struct TCGVcpu {
    TCGLCPU c;                  /* first: cpu->accel points here */
    CPUIDTable cpuid;
    /* cpu->timers' next deadline while guest code runs (vCPU thread only) */
    timer_t host_timer;
    bool host_timer_ok;
    int64_t host_timer_armed;   /* CLOCK_MONOTONIC ns it fires at, or -1 */
    int64_t shutdown_window_start;
    int shutdowns_in_window;
    /* unlocked slices: its timers need the thread (a deadline came or
     * moved), and when the slice started */
    bool timer_kick;
    int64_t slice_t0;
} TCGVcpu;

static X86CPUModel *tcg_cpu_model;
static X86Topology tcg_topo;
static CPUIDTable tcg_supported;
/* The vCPU executing guest code now (it holds the BQL), or NULL. */
static TCGLCPU *tcg_running;
static unsigned tcg_nr_vcpus;
/* One vCPU: its slices run guest code without the BQL (docs/tcg-lite.md
 * "Guest code without the big lock"); KVMPC_TCGL_UNLOCKED=0 keeps it held
 * as with several vCPUs. */
static bool tcg_unlocked;

/* ---- time slices --------------------------------------------------------- */

static GMutex tick_lock;
static GCond tick_cond;
static bool tick_wanted;
static bool tick_thread_started;
/* The main loop waits for the BQL: the next slice to start ends at once
 * (for when its kick found no vCPU in guest code, the holder being between
 * slices).  A vCPU's wait needs no such flag: each slice starts by looking
 * at the BQL's queue. */
static bool kick_missed_main;

static void tick_request(void)
{
    g_mutex_lock(&tick_lock);
    tick_wanted = true;
    g_cond_signal(&tick_cond);
    g_mutex_unlock(&tick_lock);
}

/* Another vCPU (not the main loop) waits for the BQL: the running vCPU
 * leaves after TCG_SLICE_US. */
static void *tcg_tick_thread(void *opaque)
{
    for (;;) {
        g_mutex_lock(&tick_lock);
        while (!tick_wanted) {
            g_cond_wait(&tick_cond, &tick_lock);
        }
        tick_wanted = false;
        g_mutex_unlock(&tick_lock);
        g_usleep(TCG_SLICE_US);
        TCGLCPU *c = __atomic_load_n(&tcg_running, __ATOMIC_SEQ_CST);
        if (c) {
            c->exit_request = 1;
        }
        /* else the next slice_start() sees the queue and asks again */
    }
    return NULL;
}

/* Called by bql_lock() (with the lock's internal mutex held) each time a
 * thread waits for the BQL: only flags are touched here.  A vCPU thread
 * calls it also when the lock is free but not its turn.  A vCPU's wait
 * arms the tick only while another vCPU runs guest code: when the holder
 * is the main loop (an idle guest woken by a timer) or a vCPU between
 * slices, the next slice_start() finds the waiter in the BQL's queue
 * (bql_others_waiting(), ordered against our ticket). */
static void tcg_bql_contended(bool main_thread)
{
    TCGLCPU *c;

    if (tcg_unlocked) {
        return;     /* the vCPU holds it only for short calls into the machine */
    }
    if (main_thread) {
        /* The flag first, then the look at who runs (slice_start() stores
         * tcg_running, then takes the flag): one of us sees the other.
         * Looking first lost the kick when a slice started between our
         * look (no vCPU in guest code) and our store of the flag: that
         * slice ran on, the main loop starved until the guest happened to
         * leave it (CI: 2 of 32 RTC interrupts in a 500 ms window, a PIT
         * one-shot that never came).  When the flag also ends the next
         * slice at once, that costs one empty slice. */
        __atomic_store_n(&kick_missed_main, true, __ATOMIC_SEQ_CST);
        c = __atomic_load_n(&tcg_running, __ATOMIC_SEQ_CST);
        if (c) {
            c->exit_request = 1;
        }
        return;
    }
    c = __atomic_load_n(&tcg_running, __ATOMIC_SEQ_CST);
    if (c && tick_thread_started) {
        tick_request();
    }
}

/* The vCPU thread c starts a slice: kicks that came while no vCPU ran
 * guest code apply to it (the store of tcg_running and the loads of the
 * flag and of the BQL queue are ordered against the waiters' stores and
 * loads). */
static void slice_start(TCGLCPU *c)
{
    c->exit_request = 0;
    if (tcg_unlocked) {
        return;
    }
    __atomic_store_n(&tcg_running, c, __ATOMIC_SEQ_CST);
    if (__atomic_exchange_n(&kick_missed_main, false, __ATOMIC_SEQ_CST)) {
        c->exit_request = 1;
    }
    if (bql_others_waiting()) {
        tick_request();
    }
}

/* Spinning on a lock another vCPU holds: end the slice right after the
 * PAUSE, as QEMU's round-robin TCG does, so the holder runs now.  Waiting
 * for the holder's own slice to end is not enough when it drops the lock
 * for a few instructions only: it would almost always take it back first
 * (SeaBIOS's smp_scan() waits for the APs that way and never saw them). */
void tcgl_pause(TCGLCPU *c)
{
    if (tcg_nr_vcpus > 1) {
        c->block_invalidated = true;    /* leave the block after this instruction */
        c->exit_request = 1;
    }
}

/* ---- state ------------------------------------------------------------------- */

static TCGLCPU *tcgl_of(CPUState *cpu)
{
    return cpu->accel;
}

static bool tcg_get_state(CPUState *cpu, Error **errp)
{
    TCGLCPU *c = tcgl_of(cpu);
    X86CPUEvents *e = &cpu->env.events;

    cpu->env.rflags = tcgl_get_rflags(c);
    tcgl_fp_state_to_env(c);
    if (c->event.kind == TCGL_EV_FAULT || c->event.kind == TCGL_EV_TRAP) {
        e->exception_injected = true;
        e->exception_nr = c->event.vector;
        e->exception_has_error_code = c->event.has_error;
        e->exception_error_code = c->event.error;
    }
    if (cpu->apic) {
        cpu->env.cr8 = apic_get_tpr(cpu->apic);
        cpu->env.apic_base = apic_get_base(cpu->apic);
    }
    cpu->env_valid = true;
    cpu->env_dirty = true;
    return true;
}

static bool tcg_put_state(CPUState *cpu, Error **errp)
{
    TCGLCPU *c = tcgl_of(cpu);

    tcgl_set_rflags(c, cpu->env.rflags, ~0ULL);
    tcgl_update_hflags(c);
    tcgl_tlb_flush(c);
    tcgl_fp_state_from_env(c);
    c->event.kind = TCGL_EV_NONE;
    cpu->env_dirty = false;
    return true;
}

static bool tcg_vcpu_reset(CPUState *cpu, Error **errp)
{
    TCGLCPU *c = tcgl_of(cpu);

    cpu_reset_interrupt(cpu, ~0u);
    c->exit_reason = TCGL_EXIT_REQUEST;
    memset(&cpu->env.events, 0, sizeof(cpu->env.events));
    tcgl_blocks_flush();
    return tcg_put_state(cpu, errp);
}

/* ---- interrupts that the vCPU thread handles ------------------------------------ */

/* INIT: reset keeping IA32_APIC_BASE; an AP then waits for a SIPI. */
static void tcg_do_init(CPUState *cpu)
{
    uint64_t apic_base = cpu->apic ? apic_get_base(cpu->apic) : cpu->env.apic_base;
    bool bsp = apic_base & MSR_IA32_APICBASE_BSP;

    x86_cpu_reset_state(&cpu->env, cpu->apic_id, bsp);
    cpu->env.apic_base = apic_base;
    cpu->env.mp_state = bsp ? CPU_MP_RUNNABLE : CPU_MP_INIT_RECEIVED;
    if (cpu->apic) {
        apic_init_reset(cpu->apic);
    }
    tcg_put_state(cpu, NULL);
}

/* SIPI: real mode at vector:0000. */
static void tcg_do_sipi(CPUState *cpu)
{
    SegmentCache *cs = &cpu->env.segs[R_CS];

    cs->selector = cpu->sipi_vector << 8;
    cs->base = (uint64_t)cpu->sipi_vector << 12;
    cpu->env.rip = 0;
    cpu->env.mp_state = CPU_MP_RUNNABLE;
    tcg_put_state(cpu, NULL);
}

/* Before a slice: false if the vCPU must sleep (halted, waiting for SIPI). */
static bool tcg_pre_run(CPUState *cpu)
{
    TCGLCPU *c = tcgl_of(cpu);
    X86CPUState *env = &cpu->env;

    if (cpu_interrupt_pending(cpu, CPU_INTERRUPT_INIT)) {
        cpu_reset_interrupt(cpu, CPU_INTERRUPT_INIT);
        tcg_do_init(cpu);
    }
    if (cpu_interrupt_pending(cpu, CPU_INTERRUPT_SIPI)) {
        cpu_reset_interrupt(cpu, CPU_INTERRUPT_SIPI);
        if (env->mp_state == CPU_MP_INIT_RECEIVED) {
            tcg_do_sipi(cpu);
        }
    }
    if (cpu_interrupt_pending(cpu, CPU_INTERRUPT_SMI)) {
        cpu_reset_interrupt(cpu, CPU_INTERRUPT_SMI);
        qemu_log_mask(LOG_UNIMP, "tcg-lite: SMI on CPU %d ignored (no SMM)\n", cpu->index);
    }
    if (env->mp_state == CPU_MP_UNINITIALIZED || env->mp_state == CPU_MP_INIT_RECEIVED) {
        return false;
    }
    if (env->mp_state == CPU_MP_HALTED) {
        bool wake = (cpu_interrupt_pending(cpu, CPU_INTERRUPT_HARD) &&
                     (env->rflags & RFL_IF)) ||
                    (cpu_interrupt_pending(cpu, CPU_INTERRUPT_NMI) && !env->events.nmi_masked);
        if (!wake) {
            return false;
        }
        env->mp_state = CPU_MP_RUNNABLE;
    }
    tcgl_sync_a20(c);
    return true;
}

/* A triple fault resets the machine, as KVM's shutdown exit does; a guest
 * that keeps triple-faulting right after reset is an error. */
static void tcg_handle_shutdown(CPUState *cpu)
{
    TCGVcpu *v = cpu->accel;
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);

    if (now - v->shutdown_window_start > NANOSECONDS_PER_SECOND) {
        v->shutdown_window_start = now;
        v->shutdowns_in_window = 0;
    }
    if (++v->shutdowns_in_window >= 5) {
        g_autoptr(GString) dump = g_string_new(NULL);
        error_report("the guest triple-faulted %d times within a second (reset loop) (CPU %d)",
                     v->shutdowns_in_window, cpu->index);
        tcg_get_state(cpu, NULL);
        x86_cpu_dump_state(&cpu->env, dump);
        fputs(dump->str, stderr);
        cpu_park_until_reset(cpu);
        runstate_set(RUN_STATE_INTERNAL_ERROR);
        qemu_system_internal_error();
        return;
    }
    if (qemu_loglevel_mask(CPU_LOG_RESET)) {
        g_autoptr(GString) dump = g_string_new(NULL);
        tcg_get_state(cpu, NULL);
        x86_cpu_dump_state(&cpu->env, dump);
        qemu_log("triple fault on CPU %d:\n%s", cpu->index, dump->str);
    }
    cpu_park_until_reset(cpu);
    qemu_system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
}

/* ---- per-vCPU timers -------------------------------------------------------------- */

static void tcg_vcpu_kick(CPUState *cpu);

#define TCG_SIG_TIMER SIGRTMIN

static void tcg_timer_signal(int sig, siginfo_t *si, void *uc)
{
    TCGLCPU *c = si->si_value.sival_ptr;

    (void)sig, (void)uc;
    if (c) {
        __atomic_store_n(&((TCGVcpu *)c)->timer_kick, true, __ATOMIC_SEQ_CST);
        c->exit_request = 1;
    }
}

/* In the vCPU thread: a POSIX timer that signals this thread. */
static void host_timer_init(TCGVcpu *v)
{
    struct sigevent sev = {
        .sigev_notify = SIGEV_THREAD_ID,
        .sigev_signo = TCG_SIG_TIMER,
        .sigev_value.sival_ptr = &v->c,
    };

    sev._sigev_un._tid = (int)syscall(SYS_gettid);
    v->host_timer_armed = -1;
    v->host_timer_ok = timer_create(CLOCK_MONOTONIC, &sev, &v->host_timer) == 0;
    if (!v->host_timer_ok) {
        warn_report("tcg-lite: vCPU %d: timer_create failed (%s): its LAPIC timer runs "
                    "in the main loop", v->c.cpu->index, strerror(errno));
        /* the APIC's timer leaves the list before the list goes */
        if (v->c.cpu->apic) {
            apic_set_timer_list(v->c.cpu->apic, NULL);
        }
        timerlist_free(v->c.cpu->timers);
        v->c.cpu->timers = NULL;
    }
}

static void host_timer_set(TCGVcpu *v, int64_t at_ns)
{
    struct itimerspec its = { 0 };

    if (at_ns >= 0) {
        its.it_value.tv_sec = at_ns / NANOSECONDS_PER_SECOND;
        its.it_value.tv_nsec = at_ns % NANOSECONDS_PER_SECOND;
    }
    if (timer_settime(v->host_timer, TIMER_ABSTIME, &its, NULL) == 0) {
        v->host_timer_armed = at_ns;
    }
}

/* Guest code is about to run (or runs: the guest re-armed its timer): the
 * POSIX timer follows the list's earliest deadline.  A deadline that
 * moved by less than 50 us later keeps the armed one (it ends the slice a
 * little early, and the loop looks again). */
static void host_timer_update(TCGVcpu *v)
{
    CPUState *cpu = v->c.cpu;
    int64_t ns, at;
    struct timespec now;

    if (!v->host_timer_ok || !cpu->timers) {
        return;
    }
    ns = timerlist_timeout_ns(cpu->timers);
    if (ns < 0) {
        if (v->host_timer_armed >= 0) {
            host_timer_set(v, -1);
        }
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    at = now.tv_sec * NANOSECONDS_PER_SECOND + now.tv_nsec + MAX(ns, 1);
    /* Only while the armed one is still ahead: one that went off may have
     * had its signal's exit_request cleared by slice_start() (it came
     * between the timers' run and the slice), and nothing would end the
     * slice for the timer that is due now (a guest's periodic LAPIC timer
     * stopped after one period, with one vCPU running unlocked, which no
     * main-loop wake-up interrupts). */
    if (v->host_timer_armed >= 0 && v->host_timer_armed > at - MAX(ns, 1) &&
        at >= v->host_timer_armed && at <= v->host_timer_armed + 50 * SCALE_US) {
        return;
    }
    host_timer_set(v, at);
}

/* cpu->timers' earliest deadline moved (timer_mod, BQL held). */
static void tcg_timers_notify(void *opaque)
{
    CPUState *cpu = opaque;

    if (cpu == current_cpu) {
        host_timer_update(cpu->accel);  /* the guest re-armed its own timer */
    } else if (cpu->thread_started) {
        __atomic_store_n(&((TCGVcpu *)cpu->accel)->timer_kick, true, __ATOMIC_SEQ_CST);
        tcg_vcpu_kick(cpu);             /* it looks again at its loop's top */
    }
}

/* Nothing to run: sleep until kicked or the next timer of this vCPU. */
static void tcg_vcpu_sleep(TCGVcpu *v)
{
    CPUState *cpu = v->c.cpu;
    int64_t ns = cpu->timers ? timerlist_timeout_ns(cpu->timers) : -1;

    if (ns == 0) {
        return;                 /* due: the loop runs it */
    }
    if (v->host_timer_armed >= 0) {
        host_timer_set(v, -1);  /* one wake-up: the condition's timeout */
    }
    if (ns < 0) {
        cpus_wait();            /* cpu_interrupt() -> vcpu_kick wakes us */
    } else {
        cpus_wait_until(g_get_monotonic_time() + (ns + SCALE_US - 1) / SCALE_US);
    }
}

/* An unlocked slice was kicked (tcgl.h, slice_over): it ends only for what
 * the thread does between slices: stop or reset the vCPU, the machine's
 * exit or reset, its timers, a state write from outside, INIT/SIPI/SMI,
 * an exclusive section; and after 50 ms in any case (idle accounting,
 * and whatever else a kick may have meant).  A plain interrupt does not:
 * the loop takes it between blocks. */
#define UNLOCKED_SLICE_MAX_NS (50 * SCALE_MS)

static int64_t mono_ns(void);

static bool tcg_slice_over(TCGLCPU *c)
{
    TCGVcpu *v = (TCGVcpu *)c;
    CPUState *cpu = c->cpu;

    if (__atomic_load_n(&v->timer_kick, __ATOMIC_SEQ_CST)) {
        return true;
    }
    return !cpu_can_run(cpu) || cpu->env_dirty || qemu_system_exit_pending() ||
           qemu_system_reset_pending() || __atomic_load_n(&c->excl_pending, __ATOMIC_SEQ_CST) ||
           (__atomic_load_n(&cpu->interrupt_request, __ATOMIC_SEQ_CST) &
            (CPU_INTERRUPT_INIT | CPU_INTERRUPT_SIPI | CPU_INTERRUPT_SMI)) ||
           mono_ns() - v->slice_t0 > UNLOCKED_SLICE_MAX_NS;
}

/* ---- dropping cold compiled code --------------------------------------------- */

/*
 * Compiled code that runs now and then is slower than the executor: at
 * each run its host code and the decoded instructions it points into are
 * cold in the host's caches, where the executor's own code stays warm.
 * An idle guest runs a few thousand blocks ten times a second (its timer
 * interrupt and the idle loop), most of them compiled while it booted.
 * So when the guest has run less than KVMPC_TCGL_JIT_IDLE_PCT percent
 * (default 2) of one host core for a second, every block's compiled code
 * is dropped (the decoded blocks stay); code that becomes hot again
 * compiles again (the JIT window).  0 turns this off.  docs/tcg-lite.md,
 * "Dropping cold code".  All under the BQL.
 */
#define IDLE_WINDOW_NS 1000000000LL
#define IDLE_DEFAULT_PCT 2

static struct {
    int pct;                    /* -1: not read yet */
    int64_t window_start, busy_ns;
    bool armed;                 /* the guest was busy since the last drop */
    uint64_t drops;
} idle_drop = { .pct = -1, .armed = true };

static int64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void idle_drop_init(void)
{
    const char *s = getenv("KVMPC_TCGL_JIT_IDLE_PCT");
    char *end;
    long v;

    idle_drop.pct = IDLE_DEFAULT_PCT;
    if (s) {
        v = strtol(s, &end, 10);
        if (*s && !*end && v >= 0 && v <= 100) {
            idle_drop.pct = (int)v;
        } else {
            fprintf(stderr, "KVMPC_TCGL_JIT_IDLE_PCT=%s: expected 0..100; using %d\n", s,
                    IDLE_DEFAULT_PCT);
        }
    }
    idle_drop.window_start = mono_ns();
}

/* A slice ran guest code from start to now. */
static void idle_drop_account(int64_t start, int64_t now)
{
    int64_t span;

    idle_drop.busy_ns += now - start;
    span = now - idle_drop.window_start;
    if (span < IDLE_WINDOW_NS) {
        return;
    }
    if (idle_drop.busy_ns * 100 >= span * idle_drop.pct) {
        idle_drop.armed = true;             /* busy: the next idle second drops */
    } else if (idle_drop.pct > 0 && idle_drop.armed) {
        /* once per idle period: what an idle guest compiles again (its
         * loops) stays, rather than being compiled every second */
        idle_drop.armed = false;
        if (tcgl_blocks_uncompile()) {
            idle_drop.drops++;
        }
    }
    idle_drop.window_start = now;
    idle_drop.busy_ns = 0;
}

/* ---- the vCPU thread ------------------------------------------------------------- */

/* An unlocked slice (tcg_unlocked): guest code runs without the BQL; calls
 * into the machine take it (tcgl_bql_enter), other threads that change
 * what the vCPU reads stop it first (tcgl_exclusive_begin).  The vCPU
 * says it is in guest code only after dropping the lock, and out of it
 * before taking the lock back (tcgl.h, the in_guest handshake). */
static void slice_unlock(TCGLCPU *c)
{
    c->bql_free = true;
    bql_unlock();
    tcgl_guest_enter(c);
}

static void slice_relock(TCGLCPU *c)
{
    __atomic_store_n(&c->in_guest, 0, __ATOMIC_SEQ_CST);
    bql_lock();
    c->bql_free = false;
}

static void *tcg_vcpu_thread(void *opaque)
{
    CPUState *cpu = opaque;
    TCGLCPU *c = tcgl_of(cpu);

    cpu->thread_id = (int)syscall(SYS_gettid);
    current_cpu = cpu;
    bql_lock();
    if (cpu->timers) {
        host_timer_init(cpu->accel);
    }
    while (!cpu->exit_thread) {
        CPULoopStep step = cpu_loop_begin(cpu);
        if (step == CPU_LOOP_EXIT) {
            break;
        } else if (step == CPU_LOOP_AGAIN) {
            continue;
        }
        if (cpu->env_dirty) {
            tcg_put_state(cpu, NULL);
        }
        if (cpu->timers) {
            timerlist_run_due(cpu->timers);
        }
        if (!tcg_pre_run(cpu)) {
            tcg_vcpu_sleep(cpu->accel);
            continue;
        }
        cpu->env_valid = false;
        slice_start(c);
        ((TCGVcpu *)cpu->accel)->timer_kick = false;
        host_timer_update(cpu->accel);  /* after slice_start() cleared exit_request */
        int64_t t0 = mono_ns();
        ((TCGVcpu *)cpu->accel)->slice_t0 = t0;
        if (tcg_unlocked) {
            slice_unlock(c);
        }
        TCGLExit r = tcgl_cpu_exec(c);
        if (tcg_unlocked) {
            slice_relock(c);
        }
        idle_drop_account(t0, mono_ns());
        __atomic_store_n(&tcg_running, NULL, __ATOMIC_SEQ_CST);
        if (r == TCGL_EXIT_SHUTDOWN) {
            tcg_handle_shutdown(cpu);
        }
        /* End of the slice: whoever waits for the BQL goes first. */
        bql_unlock();
        bql_lock();
    }
    if (cpu->timers && ((TCGVcpu *)cpu->accel)->host_timer_ok) {
        timer_delete(((TCGVcpu *)cpu->accel)->host_timer);
    }
    bql_unlock();
    return NULL;
}

static void tcg_vcpu_start(CPUState *cpu)
{
    static bool sig_installed;

    if (!sig_installed) {
        struct sigaction sa = { .sa_sigaction = tcg_timer_signal,
                                .sa_flags = SA_SIGINFO | SA_RESTART };
        sigemptyset(&sa.sa_mask);
        sigaction(TCG_SIG_TIMER, &sa, NULL);
        sig_installed = true;
    }
    bql_set_contention_hook(tcg_bql_contended);
    if (idle_drop.pct < 0) {
        idle_drop_init();
    }
    if (!tick_thread_started) {
        /* It sleeps unless a thread other than the main loop waits for
         * the BQL (another vCPU): then it ends the running slice. */
        tick_thread_started = true;
        g_thread_unref(g_thread_new("tcg-tick", tcg_tick_thread, NULL));
    }
    cpu->thread_started = true;
    if (pthread_create(&cpu->thread, NULL, tcg_vcpu_thread, cpu) != 0) {
        cpu->thread_started = false;
        error_report("cannot create the thread of vCPU %d", cpu->index);
        qemu_system_internal_error();
    }
}

static void tcg_vcpu_kick(CPUState *cpu)
{
    TCGLCPU *c = tcgl_of(cpu);

    if (c) {
        c->exit_request = 1;
    }
    if (cpu != current_cpu) {
        cpus_broadcast();       /* (its own thread is not waiting) */
    }
}

static void tcg_inject_nmi(CPUState *cpu)
{
    apic_external_nmi(cpu);
}

static bool tcg_vcpu_create(CPUState *cpu, Error **errp)
{
    TCGVcpu *v = g_new0(TCGVcpu, 1);
    TCGLCPU *c = &v->c;

    c->env = &cpu->env;
    c->cpu = cpu;
    c->a20_mask = ~0ULL;
    cpuid_table_init(&v->cpuid);
    if (tcg_cpu_model) {
        x86_cpu_build_cpuid(tcg_cpu_model, &tcg_topo, cpu->apic_id, &v->cpuid);
    }
    tcgl_sys_set_cpuid(cpu->index, &v->cpuid);
    cpu->accel = c;
    v->host_timer_armed = -1;
    cpu->timers = timerlist_new(tcg_timers_notify, cpu);
    c->slice_over = tcg_slice_over;     /* asked only in an unlocked slice */
    tcgl_mmu_cpu_init(c);
    tcgl_update_hflags(c);
    tcgl_fp_state_from_env(c);
    return true;
}

/* ---- machine -------------------------------------------------------------------- */

static bool tcg_probe(Error **errp)
{
    return true;
}

static AccelIrqchip tcg_irqchip(void)
{
    return ACCEL_IRQCHIP_NONE;
}

static bool tcg_set_option(const char *key, const char *value, Error **errp)
{
    if (!strcmp(key, "jit")) {
        if (!strcmp(value, "on")) {
            return tcgl_jit_set_enabled(true, errp);
        } else if (!strcmp(value, "off")) {
            return tcgl_jit_set_enabled(false, errp);
        }
        error_setg(errp, "jit=%s: expected on or off", value);
        return false;
    }
    error_setg(errp, "-accel tcg: unknown option '%s'", key);
    return false;
}

static bool tcg_init_machine(MachineState *ms, Error **errp)
{
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    X86AccelCaps caps = { .name = "TCG", .supported = &tcg_supported };

    cpuid_table_free(&tcg_supported);
    cpuid_table_init(&tcg_supported);
    tcgl_supported_cpuid(&tcg_supported);
    if (!ms->cpu) {
        ms->cpu = x86_cpu_model_parse("qemu64", errp);
        if (!ms->cpu) {
            return false;
        }
    }
    tcg_cpu_model = ms->cpu;
    /* qemu64 (and others) name svm, which tcg-lite does not implement:
     * dropped without a warning unless asked for with +svm (QEMU's TCG has
     * SVM, so its qemu64 keeps it; docs/tcg-lite.md). */
    if (!(tcg_cpu_model->user_on[FEAT_8000_0001_ECX] & (1u << 2))) {
        tcg_cpu_model->user_off[FEAT_8000_0001_ECX] |= 1u << 2;
    }
    if (!x86_cpu_model_realize(tcg_cpu_model, &caps, warnings, errp)) {
        error_prepend(errp, "-cpu %s: ", tcg_cpu_model->spec);
        return false;
    }
    for (guint i = 0; i < warnings->len; i++) {
        warn_report("%s", (const char *)g_ptr_array_index(warnings, i));
    }
    tcgl_mmu_set_model(tcg_cpu_model->phys_bits ? tcg_cpu_model->phys_bits : 40, false);
    tcg_topo = (X86Topology) { ms->smp.sockets, ms->smp.dies, ms->smp.cores,
                               ms->smp.threads };
    tcg_nr_vcpus = ms->smp.cpus;
    {
        const char *u = getenv("KVMPC_TCGL_UNLOCKED");
        tcg_unlocked = tcg_nr_vcpus == 1 && !(u && !strcmp(u, "0"));
    }
    tcgl_decode_init();
    tcgl_exec_init();
    return true;
}

static void tcg_info_jit(GString *out)
{
    TCGLJitStats st;

    tcgl_exclusive_begin();     /* the block cache of a vCPU running without the BQL */
    tcgl_blocks_info(out);
    tcgl_exclusive_end();
    if (!tcgl_jit_enabled()) {
        g_string_append(out, "JIT: off (the executor runs every block)\n");
        return;
    }
    tcgl_jit_stats(&st);
    g_string_append_printf(out, "JIT: %" PRIu64 " blocks compiled since start, %" PRIu64
                           " inline instructions, code %zu/%zu KiB, %" PRIu64 " flushes\n",
                           st.blocks, st.inlined, st.used >> 10, st.size >> 10, st.flushes);
    g_string_append_printf(out, "JIT links: %" PRIu64 " (%" PRIu64 " to another page)\n",
                           st.links, st.links_far);
    g_string_append_printf(out, "JIT slow paths: %" PRIu64 " (inline accesses that went to "
                           "their handler: TLB miss, MMIO, page crossing)\n", st.slow_paths);
    g_string_append_printf(out, "idle drops: %" PRIu64 " (compiled code dropped after an idle "
                           "second, below %d%% of a core)\n", idle_drop.drops, idle_drop.pct);
}

static const AccelOps tcg_accel_ops = {
    .name = "tcg",
    .desc = "tcg-lite (kvmpc's software x86-64 CPU)",
    .irqchip = tcg_irqchip,
    .probe = tcg_probe,
    .init_machine = tcg_init_machine,
    .vcpu_create = tcg_vcpu_create,
    .vcpu_start = tcg_vcpu_start,
    .vcpu_kick = tcg_vcpu_kick,
    .get_state = tcg_get_state,
    .put_state = tcg_put_state,
    .inject_nmi = tcg_inject_nmi,
    .vcpu_reset = tcg_vcpu_reset,
    .set_option = tcg_set_option,
    .info_jit = tcg_info_jit,
};

ACCEL_REGISTER(tcg_accel_ops)

/*
 * The host runner: executes a sequence natively in this process.
 *
 *   DIFF_CODE_ADDR   the code page, mapped twice from a memfd: read+execute
 *                    at the fixed address, read+write elsewhere for us
 *   DIFF_DATA_ADDR   the data page   (read+write)
 *   DIFF_STACK_ADDR  the stack page  (read+write; the test's rsp)
 *
 * host-tramp.S loads the state and jumps to the sequence; the return stub
 * after it jumps back.  A fault (SIGSEGV #PF/#GP/#SS, SIGILL #UD, SIGFPE
 * #DE/#XM/#MF, SIGBUS #AC, SIGTRAP #DB/#BP) is caught on an alternate
 * signal stack; the state at the fault comes from the ucontext (the
 * vector from its trapno) and siglongjmp returns to the runner.  A
 * sequence that runs for about a second is stopped by a periodic
 * SIGALRM (vector DIFF_VEC_TIMEOUT).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include "diff.h"

#define USER32_CS 0x23      /* Linux x86-64's flat 32-bit user code segment */
#define USER_CS   0x33      /* ... and its 64-bit one */
#define USER_DS   0x2b
#define RFLAGS_TF 0x100

struct DiffHostCtx {
    uint64_t gpr[16];
    uint64_t rflags;
    uint64_t entry;
    uint64_t host_rsp;
    uint8_t unused[272];
    uint64_t mode32;
    uint32_t ds, es;
    uint8_t pad2[8];
    uint64_t frame[5];          /* IRET: rip, cs, rflags, rsp, ss */
    uint8_t pad3[24];
    uint8_t fx[512];            /* FXSAVE image: x87, MXCSR, XMM */
};
_Static_assert(offsetof(struct DiffHostCtx, rflags) == 128, "ctx layout");
_Static_assert(offsetof(struct DiffHostCtx, mode32) == 424, "ctx layout");
_Static_assert(offsetof(struct DiffHostCtx, ds) == 432, "ctx layout");
_Static_assert(offsetof(struct DiffHostCtx, frame) == 448, "ctx layout");
_Static_assert(offsetof(struct DiffHostCtx, fx) == 512, "ctx layout");
_Static_assert(sizeof(struct DiffHostCtx) == 1024, "ctx layout");

extern struct DiffHostCtx diff_host_ctx;
void diff_host_enter(void);
void diff_host_exit(void);
void diff_host_restore(void);

static uint8_t *code_rw;
static uint8_t *data_page = (uint8_t *)(uintptr_t)DIFF_DATA_ADDR;
static uint8_t *stack_page = (uint8_t *)(uintptr_t)DIFF_STACK_ADDR;
static sigjmp_buf run_jmp;
static volatile sig_atomic_t running;
static volatile sig_atomic_t probing;  /* a fault anywhere is the probe's answer */
static bool mode32_ok;
static bool single_step;    /* run with TF: exactly one instruction */
static size_t cur_len;
static volatile unsigned long run_seq;
static unsigned long tick_seq;
static unsigned ticks;
static DiffState *cur_out;

/* ucontext gregs index of each GPR in encoding order */
static const int greg_of[16] = {
    REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
    REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

static void on_signal(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    greg_t *g;
    uint64_t rip;
    DiffState *o = cur_out;
    (void)si;

    /* the sequence may have set AC: C code must not run with it */
    __asm__ volatile("pushfq; andq $~0x40000, (%%rsp); popfq" ::: "memory", "cc");
    g = uc->uc_mcontext.gregs;
    rip = g[REG_RIP];

    if (sig == SIGTRAP && running && single_step && g[REG_TRAPNO] == 1) {
        if (rip == DIFF_CODE_ADDR) {
            return;                     /* a REP instruction between iterations */
        }
        g[REG_EFL] &= ~(greg_t)RFLAGS_TF;
    }
    if (sig == SIGALRM) {
        if (!running || run_seq != tick_seq) {
            tick_seq = run_seq;
            ticks = 0;
            return;
        }
        if (++ticks < 4 || rip - DIFF_CODE_ADDR >= DIFF_PAGE) {
            return;
        }
    } else if (!running || (rip - DIFF_CODE_ADDR >= DIFF_PAGE && !probing)) {
        /* Not the sequence's fault: a harness bug.  Say where, die of it. */
        char msg[160];
        int n = snprintf(msg, sizeof(msg), "tcgl-diff: signal %d at rip %#llx (trapno %lld, "
                         "running %d) outside the sequence\n", sig, (unsigned long long)rip,
                         (long long)g[REG_TRAPNO], (int)running);
        if (write(2, msg, n) < 0) {
            /* dying anyway */
        }
        if (running) {
            for (int i = 0; i < 16 && code_rw; i++) {
                n = snprintf(msg, sizeof(msg), "%02x ", code_rw[i]);
                if (write(2, msg, n) < 0) {
                }
            }
        }
        signal(sig, SIG_DFL);
        return;
    }
    for (int i = 0; i < 16; i++) {
        o->gpr[i] = g[greg_of[i]];
    }
    o->rflags = g[REG_EFL] & ~(uint64_t)RFLAGS_TF;
    o->rip = rip;
    o->vector = sig == SIGALRM ? DIFF_VEC_TIMEOUT : (int)g[REG_TRAPNO];
    if (sig == SIGTRAP && single_step && o->vector == 1) {
        /* the trap after the one instruction: where it ended says its length */
        o->vector = rip == DIFF_CODE_ADDR + cur_len ? DIFF_VEC_NONE : DIFF_VEC_ESCAPE;
    }
    o->fault_addr = o->vector == 14 ? (uint64_t)g[REG_CR2] : 0;
    if (uc->uc_mcontext.fpregs) {
        diff_fx_to_state((const uint8_t *)uc->uc_mcontext.fpregs, o);
    }
    running = 0;
    siglongjmp(run_jmp, 1);
}

static bool map_fixed(uint64_t addr, int prot, int flags, int fd)
{
    void *p = mmap((void *)(uintptr_t)addr, DIFF_PAGE, prot, flags | MAP_FIXED_NOREPLACE, fd, 0);
    if (p == MAP_FAILED || p != (void *)(uintptr_t)addr) {
        fprintf(stderr, "tcgl-diff: cannot map the page at 0x%llx\n", (unsigned long long)addr);
        return false;
    }
    return true;
}

bool diff_host_init(void)
{
    static bool done;
    static const int sigs[] = { SIGSEGV, SIGILL, SIGFPE, SIGBUS, SIGTRAP, SIGALRM };
    struct sigaction sa;
    stack_t ss;
    int fd;

    if (done) {
        return true;
    }
    fd = memfd_create("tcgl-diff-code", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, DIFF_PAGE) < 0) {
        perror("tcgl-diff: memfd");
        return false;
    }
    if (!map_fixed(DIFF_CODE_ADDR, PROT_READ | PROT_EXEC, MAP_SHARED, fd) ||
        !map_fixed(DIFF_DATA_ADDR, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1) ||
        !map_fixed(DIFF_STACK_ADDR, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1)) {
        return false;
    }
    code_rw = mmap(NULL, DIFF_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (code_rw == MAP_FAILED) {
        perror("tcgl-diff: mmap");
        return false;
    }

    /* static: only the kernel points at it, which LeakSanitizer cannot see */
    static uint8_t altstack[256 * 1024] __attribute__((aligned(16)));
    ss.ss_size = sizeof(altstack);
    ss.ss_sp = altstack;
    ss.ss_flags = 0;
    if (sigaltstack(&ss, NULL) < 0) {
        perror("tcgl-diff: sigaltstack");
        return false;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_signal;
    /* NODEFER: we leave the handler with siglongjmp and no saved mask */
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        if (sigaction(sigs[i], &sa, NULL) < 0) {
            perror("tcgl-diff: sigaction");
            return false;
        }
    }
    /* The watchdog: a sequence still running after 4 ticks is stopped.
     * The ticks go to this thread (the one that runs sequences: the
     * alternate signal stack is per thread), not to any other. */
    struct sigevent sev;
    timer_t timer;
    struct itimerspec its = { { 0, 250000000 }, { 0, 250000000 } };
    memset(&sev, 0, sizeof(sev));
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SIGALRM;
    sev._sigev_un._tid = gettid();
    if (timer_create(CLOCK_MONOTONIC, &sev, &timer) < 0 || timer_settime(timer, 0, &its, NULL) < 0) {
        perror("tcgl-diff: timer_create");
        return false;
    }
    done = true;

    /* Can this host run 32-bit user code (compatibility mode)?  Not where
     * the kernel has IA32 emulation off (or a hypervisor forbids it):
     * then the far jump itself faults, and mode-32 cases are skipped. */
    static DiffState in, out;
    diff_state_init(&in, 32);
    in.gpr[D_RAX] = 0xffffffff00000041ULL;
    probing = 1;
    mode32_ok = true;
    diff_host_run((const uint8_t *)"\x40", 1, &in, &out);    /* inc eax */
    probing = 0;
    mode32_ok = out.vector == DIFF_VEC_NONE && out.gpr[D_RAX] == 0x42;
    return true;
}

bool diff_host_single_step(bool on)
{
    bool was = single_step;
    single_step = on;
    return was;
}

bool diff_host_mode32(void)
{
    return diff_host_init() && mode32_ok;
}

#define DIFF_EXIT_PTR 0xff8

/* jmp *[rip + to DIFF_EXIT_PTR], placed at page offset `at` */
static void jmp_exit(uint8_t *p, size_t at)
{
    int32_t disp = (int32_t)(DIFF_EXIT_PTR - (at + 6));
    p[0] = 0xff;
    p[1] = 0x25;
    memcpy(p + 2, &disp, 4);
}

void diff_state_to_fx(const DiffState *s, uint8_t fx[512])
{
    uint32_t mxcsr = s->mxcsr & 0xffff;         /* reserved bits would #GP in FXRSTOR */
    memset(fx, 0, 512);
    memcpy(fx + 0, &s->fcw, 2);
    memcpy(fx + 2, &s->fsw, 2);
    fx[4] = s->ftw;
    memcpy(fx + 24, &mxcsr, 4);
    for (int i = 0; i < 8; i++) {
        memcpy(fx + 32 + 16 * i, s->st[i], 10);
    }
    memcpy(fx + 160, s->xmm, sizeof(s->xmm));
}

void diff_fx_to_state(const uint8_t fx[512], DiffState *s)
{
    memcpy(&s->fcw, fx + 0, 2);
    memcpy(&s->fsw, fx + 2, 2);
    s->ftw = fx[4];
    memcpy(&s->mxcsr, fx + 24, 4);
    for (int i = 0; i < 8; i++) {
        memcpy(s->st[i], fx + 32 + 16 * i, 10);
    }
    memcpy(s->xmm, fx + 160, sizeof(s->xmm));
}

void diff_code_page(const uint8_t *code, size_t len, int mode, uint8_t page[DIFF_PAGE])
{
    uint64_t exit_addr = (uint64_t)(uintptr_t)diff_host_exit;
    uint8_t *p;

    if (len > DIFF_MAX_CODE) {
        len = DIFF_MAX_CODE;
    }
    memset(page, 0, DIFF_PAGE);
    memcpy(page, code, len);
    /* the exit address at an aligned place (a sequence may run with AC) */
    memcpy(page + DIFF_EXIT_PTR, &exit_addr, 8);
    /* 64-bit: jmp *diff_host_exit(%rip) */
    p = page + DIFF_STUB_OFF;
    jmp_exit(p, DIFF_STUB_OFF);
    p = page + len;
    if (mode == 32) {
        /* ljmp $USER_CS, $DIFF_CODE_ADDR + DIFF_STUB_OFF */
        uint32_t off = (uint32_t)(DIFF_CODE_ADDR + DIFF_STUB_OFF);
        uint16_t sel = USER_CS;
        p[0] = 0xea;
        memcpy(p + 1, &off, 4);
        memcpy(p + 5, &sel, 2);
    } else {
        jmp_exit(p, len);
    }
}

bool diff_host_run(const uint8_t *code, size_t len, const DiffState *in, DiffState *out)
{
    struct DiffHostCtx *x = &diff_host_ctx;

    if (!diff_host_init()) {
        abort();
    }
    if (in->mode == 32 && !mode32_ok) {
        *out = *in;
        return false;
    }
    diff_code_page(code, len, in->mode, code_rw);
    memcpy(data_page, in->data, DIFF_PAGE);
    memcpy(stack_page, in->stack, DIFF_PAGE);

    memcpy(x->gpr, in->gpr, sizeof(x->gpr));
    x->rflags = (in->rflags & DIFF_FLAGS_IN) | 2;
    x->entry = DIFF_CODE_ADDR;
    diff_state_to_fx(in, x->fx);
    x->mode32 = in->mode == 32;
    x->frame[0] = DIFF_CODE_ADDR;
    x->frame[1] = in->mode == 32 ? USER32_CS : USER_CS;
    x->frame[2] = x->rflags | (single_step ? RFLAGS_TF : 0);
    x->frame[3] = in->gpr[D_RSP];
    x->frame[4] = USER_DS;
    cur_len = len;

    out->mode = in->mode;
    out->fault_addr = 0;
    cur_out = out;
    if (sigsetjmp(run_jmp, 0) == 0) {
        run_seq++;
        running = 1;
        diff_host_enter();
        running = 0;
        memcpy(out->gpr, x->gpr, sizeof(out->gpr));
        out->rflags = x->rflags;
        out->rip = DIFF_CODE_ADDR + len;
        diff_fx_to_state(x->fx, out);
        out->vector = DIFF_VEC_NONE;
    } else {
        diff_host_restore();
    }
    memcpy(out->data, data_page, DIFF_PAGE);
    memcpy(out->stack, stack_page, DIFF_PAGE);
    if (in->mode == 32) {
        /* the upper halves are undefined after a return to 64-bit mode */
        for (int i = 0; i < 16; i++) {
            out->gpr[i] = i < 8 ? (uint32_t)out->gpr[i] : 0;
        }
        out->rip = (uint32_t)out->rip;
    }
    return true;
}

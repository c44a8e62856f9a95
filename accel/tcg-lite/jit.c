/*
 * tcg-lite JIT backend, host x86-64 (docs/tcg-lite.md "The JIT backend").
 *
 * Stage 1, call threading: a hot block becomes one host function that,
 * per guest instruction, does what run_block() in cpu-exec.c does:
 *
 *   env->rip = start + insn.off       (faults and RIP-relative operands)
 *   insn.fn(c, &insn)                 (a direct call, both as constants)
 *   if (c->block_invalidated) return k + 1   (not after the last one)
 *
 * and returns the block's count.  The caller finishes as the interpreter
 * does (rip after a non-branch last instruction, c->insns).  A fault in a
 * handler unwinds with siglongjmp to c->jmp straight through the host
 * frame, which holds nothing that needs undoing.
 *
 * Host registers inside a block function: rbx = c, r12 = start (the
 * block's first rip), r13 = env; all three callee-saved, so the handlers
 * keep them.  Three pushes leave rsp 16-byte aligned for the calls.
 *
 * The code arena: one mmap'd region, read-write-execute, placed near the
 * kvmpc binary when the kernel agrees so that calls to handlers are
 * `call rel32`; otherwise `mov rax, imm64; call rax`.  It fills linearly
 * and is emptied only by tcgl_jit_flush(), which cpu-exec.c calls when it
 * drops every block.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "jit.h"
#include "qemu/log.h"

#define JIT_DEFAULT_THRESHOLD 16

static struct {
    int mode;                   /* -1: not configured, 0 off, 1 on */
    unsigned threshold;         /* 0: not configured */
    uint8_t *base;
    size_t size, used;
    bool map_failed;
    TCGLJitStats st;
} jit = { .mode = -1 };

static bool env_bool(const char *s, bool *out)
{
    if (!strcmp(s, "1") || !strcasecmp(s, "on") || !strcasecmp(s, "yes")) {
        *out = true;
        return true;
    }
    if (!strcmp(s, "0") || !strcasecmp(s, "off") || !strcasecmp(s, "no")) {
        *out = false;
        return true;
    }
    return false;
}

#if defined(__x86_64__)

#include <sys/mman.h>

#define JIT_ARENA_SIZE (32u << 20)

static bool arena_map(void)
{
    /* below the binary's text, so that rel32 calls reach the handlers */
    uintptr_t text = (uintptr_t)&tcgl_jit_compile;
    void *hint = text > (256u << 20) ? (void *)((text - (128u << 20)) & ~(uintptr_t)0xfffff) : NULL;
    void *p;

    if (jit.base || jit.map_failed) {
        return jit.base != NULL;
    }
    p = mmap(hint, JIT_ARENA_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        jit.map_failed = true;
        jit.mode = 0;
        qemu_log_mask(LOG_UNIMP, "tcg-lite: JIT code arena unavailable (mmap RWX failed); "
                      "interpreting\n");
        return false;
    }
    jit.base = p;
    jit.size = JIT_ARENA_SIZE;
    jit.used = 0;
    return true;
}

/* ---- the emitter --------------------------------------------------------------- */

typedef struct Emit {
    uint8_t *p, *end;
} Emit;

static inline void e8(Emit *e, uint8_t b) { *e->p++ = b; }

static inline void e32(Emit *e, uint32_t v)
{
    memcpy(e->p, &v, 4);
    e->p += 4;
}

static inline void e64(Emit *e, uint64_t v)
{
    memcpy(e->p, &v, 8);
    e->p += 8;
}

static void eb(Emit *e, const char *bytes, unsigned n)
{
    memcpy(e->p, bytes, n);
    e->p += n;
}

/* rel32 from the end of a field at `at` (4 bytes) to `target`, if it fits */
static bool rel32_ok(const uint8_t *at, const void *target, int32_t *rel)
{
    intptr_t d = (intptr_t)target - (intptr_t)(at + 4);
    if (d != (int32_t)d) {
        return false;
    }
    *rel = (int32_t)d;
    return true;
}

static void patch_rel32(uint8_t *field, const uint8_t *target)
{
    int32_t rel = (int32_t)((intptr_t)target - (intptr_t)(field + 4));
    memcpy(field, &rel, 4);
}

/* call a C function (the System V argument registers are already set) */
static void emit_call(Emit *e, const void *fn)
{
    int32_t rel;
    if (rel32_ok(e->p + 1, fn, &rel)) {
        e8(e, 0xe8);
        e32(e, (uint32_t)rel);
    } else {
        eb(e, "\x48\xb8", 2);           /* mov rax, imm64 */
        e64(e, (uint64_t)(uintptr_t)fn);
        eb(e, "\xff\xd0", 2);           /* call rax */
    }
}

/* mov rsi, imm64 (or the shorter mov esi, imm32 when it fits) */
static void emit_mov_rsi(Emit *e, uint64_t v)
{
    if (v <= 0xffffffffu) {
        e8(e, 0xbe);
        e32(e, (uint32_t)v);
    } else {
        eb(e, "\x48\xbe", 2);
        e64(e, v);
    }
}

/* mov eax, imm32 */
static void emit_mov_eax(Emit *e, uint32_t v)
{
    e8(e, 0xb8);
    e32(e, v);
}

/* Upper bound of the bytes one instruction takes (with its exit stub). */
#define JIT_MAX_PER_INSN 64
#define JIT_MAX_FIXED 64

TCGLJitFn *tcgl_jit_compile(const TCGLJitBlock *jb)
{
    Emit e;
    uint8_t *start, *epilogue;
    uint8_t *exit_field[256];
    size_t need = JIT_MAX_FIXED + (size_t)jb->n * JIT_MAX_PER_INSN;
    unsigned n = jb->n;

    if (jit.mode != 1 || n == 0 || n > 256 || !arena_map()) {
        return NULL;
    }
    jit.used = (jit.used + 15) & ~(size_t)15;
    if (jit.used + need > jit.size) {
        return NULL;
    }
    start = jit.base + jit.used;
    e.p = start;
    e.end = start + need;

    /* prologue: rbx = c, r12 = start, r13 = c->env */
    e8(&e, 0x53);                                   /* push rbx */
    eb(&e, "\x41\x54", 2);                          /* push r12 */
    eb(&e, "\x41\x55", 2);                          /* push r13 */
    eb(&e, "\x48\x89\xfb", 3);                      /* mov rbx, rdi */
    eb(&e, "\x49\x89\xf4", 3);                      /* mov r12, rsi */
    eb(&e, "\x4c\x8b\xab", 3);                      /* mov r13, [rbx + disp32] */
    e32(&e, (uint32_t)offsetof(TCGLCPU, env));

    for (unsigned k = 0; k < n; k++) {
        const TCGLInsn *i = &jb->insns[k];

        eb(&e, "\x49\x8d\x84\x24", 4);              /* lea rax, [r12 + off] */
        e32(&e, i->off);
        eb(&e, "\x49\x89\x85", 3);                  /* mov [r13 + rip], rax */
        e32(&e, (uint32_t)offsetof(X86CPUState, rip));
        eb(&e, "\x48\x89\xdf", 3);                  /* mov rdi, rbx */
        emit_mov_rsi(&e, (uint64_t)(uintptr_t)i);
        emit_call(&e, (const void *)i->fn);
        if (k + 1 < n) {
            eb(&e, "\x80\xbb", 2);                  /* cmp byte [rbx + block_invalidated], 0 */
            e32(&e, (uint32_t)offsetof(TCGLCPU, block_invalidated));
            e8(&e, 0);
            eb(&e, "\x0f\x85", 2);                  /* jne exit_k */
            exit_field[k] = e.p;
            e32(&e, 0);
        }
    }
    emit_mov_eax(&e, n);
    epilogue = e.p;
    eb(&e, "\x41\x5d", 2);                          /* pop r13 */
    eb(&e, "\x41\x5c", 2);                          /* pop r12 */
    e8(&e, 0x5b);                                   /* pop rbx */
    e8(&e, 0xc3);                                   /* ret */
    /* exit stubs: the block was invalidated after instruction k */
    for (unsigned k = 0; k + 1 < n; k++) {
        patch_rel32(exit_field[k], e.p);
        emit_mov_eax(&e, k + 1);
        e8(&e, 0xe9);                               /* jmp epilogue */
        e.p += 4;
        patch_rel32(e.p - 4, epilogue);
    }
    if (e.p > e.end) {
        /* the per-instruction bound is wrong: a bug, not a guest input */
        fprintf(stderr, "tcg-lite JIT: block code overran its bound\n");
        abort();
    }
    jit.used = (size_t)(e.p - jit.base);
    jit.st.blocks++;
    return (TCGLJitFn *)(void *)start;
}

void tcgl_jit_flush(void)
{
    if (jit.used) {
        jit.st.flushes++;
    }
    jit.used = 0;
}

static bool jit_available(Error **errp)
{
    (void)errp;
    return true;
}

#else /* !__x86_64__ */

TCGLJitFn *tcgl_jit_compile(const TCGLJitBlock *jb)
{
    (void)jb;
    return NULL;
}

void tcgl_jit_flush(void)
{
}

static bool jit_available(Error **errp)
{
    error_setg(errp, "-accel tcg,jit=on: the tcg-lite JIT needs an x86-64 host");
    return false;
}

#endif

void tcgl_jit_init(void)
{
    const char *s;

    if (jit.mode < 0) {
        bool on = true;
        s = getenv("KVMPC_TCGL_JIT");
        if (s && !env_bool(s, &on)) {
            fprintf(stderr, "KVMPC_TCGL_JIT=%s: expected on or off; JIT off\n", s);
            on = false;
        }
        jit.mode = on && jit_available(NULL) ? 1 : 0;
    }
    if (!jit.threshold) {
        s = getenv("KVMPC_TCGL_JIT_THRESHOLD");
        jit.threshold = JIT_DEFAULT_THRESHOLD;
        if (s) {
            char *end;
            unsigned long v = strtoul(s, &end, 0);
            if (*end || v < 1 || v > 1000000) {
                fprintf(stderr, "KVMPC_TCGL_JIT_THRESHOLD=%s: expected 1..1000000; using %u\n",
                        s, JIT_DEFAULT_THRESHOLD);
            } else {
                jit.threshold = (unsigned)v;
            }
        }
    }
}

bool tcgl_jit_set_enabled(bool on, Error **errp)
{
    if (on && !jit_available(errp)) {
        return false;
    }
    jit.mode = on ? 1 : 0;
    return true;
}

bool tcgl_jit_enabled(void)
{
    return jit.mode == 1;
}

void tcgl_jit_set_threshold(unsigned n)
{
    jit.threshold = n ? n : 1;
}

unsigned tcgl_jit_threshold(void)
{
    return jit.threshold ? jit.threshold : JIT_DEFAULT_THRESHOLD;
}

void tcgl_jit_stats(TCGLJitStats *s)
{
    *s = jit.st;
    s->used = jit.used;
    s->size = jit.size;
}

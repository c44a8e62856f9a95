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
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "jit.h"
#include "flags.h"
#include "fp.h"
#include "int-ops.h"
#include "hw/i386/x86-irq.h"
#include "qemu/log.h"

#define JIT_DEFAULT_THRESHOLD 16
#define JIT_DEFAULT_WINDOW_MS 20

static struct {
    int mode;                   /* -1: not configured, 0 off, 1 on */
    unsigned threshold;         /* 0: not configured */
    unsigned window_ms;         /* the threshold's runs within this (0: any time) */
    bool window_set;
    uint8_t *base;
    size_t size, used;          /* code from JIT_CELLS on */
    size_t cells_used;          /* bytes of the dropped-block flags at the arena's start */
    bool map_failed;
    bool inline_on;             /* stage 2: inline code for the hottest forms */
    bool chain_on;              /* block chaining (tcgl_jit_link) */
    TCGLJitStats st;
    FILE *perfmap;              /* KVMPC_TCGL_PERFMAP=1: /tmp/perf-PID.map */
} jit = { .mode = -1, .inline_on = true, .chain_on = true };

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
/* The arena's first bytes: a flag per compiled block (TCGLJitBlock.dead),
 * within rel32 of every link slot; a page boundary apart from the code */
#define JIT_CELLS (1u << 20)

static bool arena_map(void)
{
    /* below the binary's text, so that rel32 calls reach the handlers */
    uintptr_t text = (uintptr_t)&tcgl_jit_compile;
    void *hint = text > (256u << 20) ? (void *)((text - (128u << 20)) & ~(uintptr_t)0x1fffff) : NULL;
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
#ifdef MADV_HUGEPAGE
    /* Large pages for the code (QEMU does the same for its TCG buffer):
     * an idle guest's wake-up runs a few thousand blocks scattered over
     * the arena, and each 4 KiB page of them costs a host TLB miss. */
    madvise(p, JIT_ARENA_SIZE, MADV_HUGEPAGE);
#endif
    jit.base = p;
    jit.size = JIT_ARENA_SIZE;
    jit.used = JIT_CELLS;
    jit.cells_used = 0;
    return true;
}

/* ---- the emitter --------------------------------------------------------------- */

typedef struct Emit {
    uint8_t *p, *end;
    bool cs64;                  /* the block runs in 64-bit mode (TCGL_HF_CS64) */
    bool user;                  /* ... at CPL 3 (the only place #AC applies) */
    /* rax holds guest register rax_reg (all 64 bits) when the code reaches
     * rax_at: set where the register is stored from rax, so that a load
     * of it right after (nothing emitted in between but stores that keep
     * rax) is left out.  A slow path that resumes there loads rax
     * likewise (slow[].rax_reg); nothing else jumps into a block's body
     * but to its start */
    const uint8_t *rax_at;
    unsigned rax_reg;
    /* the flags the current instruction writes are dead (flags_dead_after()):
     * its inline code stores no lazy flags (a CMP or TEST of registers is
     * then no code at all) */
    bool flags_dead;
} Emit;

/* drop what was emitted from `mark` on (an inline form that gave up) */
static inline void rollback(Emit *e, uint8_t *mark)
{
    e->p = mark;
    if (e->rax_at > mark) {
        e->rax_at = NULL;
    }
}

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

/* ---- what a handler does, by its identity ------------------------------------ */

/* The forms the integer part specialises (int-ops.h): reg/reg either way
 * and reg/imm.  Such a handler never faults, never reads env->rip and
 * never writes memory: no rip store, no invalidation check after it. */
enum { ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP, ALU_TEST };

typedef struct Form {
    int kind;                   /* FK_* */
    int op;                     /* ALU_* for FK_ALU */
    int form;                   /* FORM_RR_E, FORM_RR_G, FORM_RI */
    unsigned size;              /* 1, 2, 4, 8 */
} Form;

enum { FK_OTHER, FK_ALU, FK_MOV, FK_PURE, FK_LEA, FK_ALUMEM };

static Form classify(const TCGLInsn *i)
{
    static const int forms[3] = { FORM_RR_E, FORM_RR_G, FORM_RI };
    Form f = { FK_OTHER, 0, 0, 0 };

    for (int k = 0; k < 3; k++) {
        for (unsigned s = 0; s < 4; s++) {
            for (int op = 0; op < 9; op++) {
                if (i->fn == alu_handlers[op][forms[k]][s]) {
                    return (Form) { FK_ALU, op, forms[k], 1u << s };
                }
            }
            if (i->fn == mov_handlers[forms[k]][s]) {
                return (Form) { FK_MOV, 0, forms[k], 1u << s };
            }
        }
    }
    for (unsigned s = 0; s < 4; s++) {
        for (int op = 0; op < 9; op++) {
            for (int fm = FORM_RM; fm <= FORM_MI; fm++) {
                if (fm != FORM_RI && i->fn == alu_handlers[op][fm][s]) {
                    return (Form) { FK_ALUMEM, op, fm, 1u << s };
                }
            }
        }
        for (int a = 0; a < 3; a++) {
            for (int b = 0; b < 3; b++) {
                if (i->fn == shift_reg_handlers[a][b][s]) {
                    f.kind = FK_PURE;
                    return f;
                }
            }
        }
        if (i->fn == incdec_reg_handlers[0][s] || i->fn == incdec_reg_handlers[1][s]) {
            f.kind = FK_PURE;
            return f;
        }
    }
    if (i->fn == tcgl_int_lea) {
        f.kind = FK_LEA;
        f.size = i->opsize;
    }
    return f;
}

/* Neither faults nor reads rip nor writes memory. */
static bool is_pure(const TCGLInsn *i, const Form *f)
{
    return f->kind == FK_ALU || f->kind == FK_MOV || f->kind == FK_PURE ||
           (f->kind == FK_LEA && i->base != TCGL_RIPREL);
}

/* ---- inline code for the hottest forms --------------------------------------- */

#define REG_OFF(n) ((uint32_t)(offsetof(X86CPUState, regs) + (n) * sizeof(uint64_t)))
#define CPU_OFF(f) ((uint32_t)offsetof(TCGLCPU, f))

/* mov rax|rcx, guest register n (32-bit: zero-extended) */
static void emit_ld_reg(Emit *e, bool rcx, unsigned n, unsigned size)
{
    if (!rcx && e->rax_at == e->p && e->rax_reg == n) {
        if (size != 8) {
            eb(e, "\x89\xc0", 2);                  /* mov eax, eax */
        }
        return;
    }
    e8(e, size == 8 ? 0x49 : 0x41);
    e8(e, 0x8b);
    e8(e, rcx ? 0x8d : 0x85);                       /* [r13 + disp32] */
    e32(e, REG_OFF(n));
}

/* guest register n = rax (all 64 bits: a 32-bit result is zero-extended) */
static void emit_st_reg(Emit *e, unsigned n)
{
    eb(e, "\x49\x89\x85", 3);
    e32(e, REG_OFF(n));
    e->rax_at = e->p;
    e->rax_reg = n;
}

/* mov rax|rcx, v */
static void emit_imm(Emit *e, bool rcx, uint64_t v)
{
    if (v <= 0xffffffffu) {
        e8(e, rcx ? 0xb9 : 0xb8);
        e32(e, (uint32_t)v);
    } else {
        e8(e, 0x48);
        e8(e, rcx ? 0xb9 : 0xb8);
        e64(e, v);
    }
}

/* A register operand the inline forms take: 0-15, and at size 1 also
 * 16-19, AH CH DH BH (tcgl_reg_get()'s numbering: byte 1 of 0-3). */
static inline bool reg_ok(unsigned n, unsigned size)
{
    return n < 16 || (size == 1 && n < 20);
}

/* where the `size` bytes of guest register n are (reg_ok()) */
static inline uint32_t reg_off_sized(unsigned n, unsigned size)
{
    return size == 1 && n >= 16 ? REG_OFF(n - 16) + 1 : REG_OFF(n);
}

/* eax|rax = guest register n's low `size` bytes (reg_ok()), zero-extended */
static void emit_ld_reg_sized(Emit *e, bool rcx, unsigned n, unsigned size)
{
    if (size >= 4) {
        emit_ld_reg(e, rcx, n, size);
        return;
    }
    eb(e, "\x41\x0f", 2);                           /* movzx eax|ecx, byte|word [r13 + d] */
    e8(e, size == 1 ? 0xb6 : 0xb7);
    e8(e, rcx ? 0x8d : 0x85);
    e32(e, reg_off_sized(n, size));
}

/* guest register n (its low `size` bytes, reg_ok(); 4 zero-extends, as
 * tcgl_reg_set) = rax */
static void emit_st_reg_sized(Emit *e, unsigned n, unsigned size)
{
    if (size == 1) {
        eb(e, "\x41\x88\x85", 3);                   /* mov [r13 + d], al */
    } else if (size == 2) {
        eb(e, "\x66\x41\x89\x85", 4);               /* mov [r13 + d], ax */
    } else {
        eb(e, "\x49\x89\x85", 3);                   /* mov [r13 + d], rax */
    }
    e32(e, reg_off_sized(n, size));
    if (size >= 4) {
        e->rax_at = e->p;
        e->rax_reg = n;
    }
}

/* The host opcode (r/m, reg form) of an ALU operation, and whether it is
 * a logic one (flags kind LOGIC); 0 for ADC/SBB (the carry in: calls). */
static uint8_t alu_opcode(int op, bool *logic)
{
    *logic = op == ALU_AND || op == ALU_TEST || op == ALU_OR || op == ALU_XOR;
    switch (op) {
    case ALU_ADD: return 0x01;
    case ALU_SUB: case ALU_CMP: return 0x29;
    case ALU_AND: case ALU_TEST: return 0x21;
    case ALU_OR: return 0x09;
    case ALU_XOR: return 0x31;
    default: return 0;
    }
}

/* op al|ax|eax|rax, cl|cx|ecx|rcx: the operands zero-extended in rax and
 * rcx, so rax holds the result zero-extended (the upper bits untouched by
 * 8/16-bit operations, cleared by 32-bit ones) and the host flags are the
 * guest's */
static void emit_alu_op(Emit *e, uint8_t opb, unsigned size)
{
    if (size == 2) {
        e8(e, 0x66);
    } else if (size == 8) {
        e8(e, 0x48);
    }
    e8(e, size == 1 ? (uint8_t)(opb - 1) : opb);
    e8(e, 0xc8);
}

/* cc_op, cc_dst = rax, cc_src = rcx or 0, as alu() in int-alu.c */
static void emit_alu_flags(Emit *e, int op, bool logic, unsigned size)
{
    bool keep = e->rax_at == e->p;                  /* (stores only: rax stays) */

    if (e->flags_dead) {
        return;
    }

    eb(e, "\xc7\x83", 2);                           /* mov dword [rbx + cc_op], imm32 */
    e32(e, CPU_OFF(cc_op));
    e32(e, TCGL_CC(logic ? CC_K_LOGIC : op == ALU_ADD ? CC_K_ADD : CC_K_SUB, size));
    eb(e, "\x48\x89\x83", 3);                       /* mov [rbx + cc_dst], rax */
    e32(e, CPU_OFF(cc_dst));
    if (logic) {
        eb(e, "\x48\xc7\x83", 3);                   /* mov qword [rbx + cc_src], 0 */
        e32(e, CPU_OFF(cc_src));
        e32(e, 0);
    } else {
        eb(e, "\x48\x89\x8b", 3);                   /* mov [rbx + cc_src], rcx */
        e32(e, CPU_OFF(cc_src));
    }
    if (keep) {
        e->rax_at = e->p;
    }
}

/* ADD/SUB/AND/OR/XOR/CMP/TEST and MOV of registers (reg_ok(): AH..BH too) and
 * immediates, every size: the same values in the registers and the lazy
 * flags as alu() and mov_*() in int-alu.c / int-mov.c. */
static bool emit_inline_alu_mov(Emit *e, const TCGLInsn *i, const Form *f)
{
    unsigned size = f->size, dst, src;
    uint64_t m = tcgl_size_mask(size);
    uint8_t opb;
    bool logic;

    /* FORM_RR_E: rm op= reg; FORM_RR_G: reg op= rm; FORM_RI: rm op= imm */
    dst = f->form == FORM_RR_G ? i->reg : i->rm;
    src = f->form == FORM_RR_G ? i->rm : i->reg;
    if (!reg_ok(dst, size) || (f->form != FORM_RI && !reg_ok(src, size))) {
        return false;
    }
    if (f->kind == FK_MOV) {
        if (f->form == FORM_RI) {
            emit_imm(e, false, i->imm & m);
        } else {
            emit_ld_reg_sized(e, false, src, size);
        }
        emit_st_reg_sized(e, dst, size);
        return true;
    }
    opb = alu_opcode(f->op, &logic);
    if (!opb) {
        return false;
    }
    if (e->flags_dead && (f->op == ALU_CMP || f->op == ALU_TEST)) {
        return true;                                /* nothing it does is seen */
    }
    if (f->form == FORM_RI && size >= 4 && (logic || e->flags_dead) &&
        (size == 4 || (int64_t)i->imm == (int32_t)i->imm)) {
        /* no cc_src wanted (LOGIC's is 0): op eax|rax, imm32 */
        static const uint8_t digit[] = {
            [ALU_ADD] = 0, [ALU_OR] = 1, [ALU_AND] = 4, [ALU_SUB] = 5, [ALU_XOR] = 6,
            [ALU_CMP] = 7, [ALU_TEST] = 4,          /* (AND: the result is cc_dst) */
        };
        emit_ld_reg_sized(e, false, dst, size);
        if (size == 8) {
            e8(e, 0x48);
        }
        e8(e, 0x81);
        e8(e, (uint8_t)(0xc0 | digit[f->op] << 3));
        e32(e, (uint32_t)i->imm);
    } else if (f->form != FORM_RI && size >= 4 && e->rax_at == e->p && e->rax_reg == src) {
        /* the source is in rax already (just stored from it) */
        if (dst == src) {
            emit_ld_reg_sized(e, false, dst, size);
        }
        eb(e, size == 8 ? "\x48\x89\xc1" : "\x89\xc1", size == 8 ? 3 : 2);   /* mov rcx|ecx, rax|eax */
        if (dst != src) {
            emit_ld_reg_sized(e, false, dst, size);
        }
        emit_alu_op(e, opb, size);
    } else {
        emit_ld_reg_sized(e, false, dst, size);
        if (f->form == FORM_RI) {
            emit_imm(e, true, i->imm & m);
        } else {
            emit_ld_reg_sized(e, true, src, size);
        }
        emit_alu_op(e, opb, size);
    }
    if (f->op != ALU_CMP && f->op != ALU_TEST) {
        emit_st_reg_sized(e, dst, size);
    }
    emit_alu_flags(e, f->op, logic, size);
    return true;
}

/* rax = the effective address of i's memory operand (tcgl_ea()), for
 * 32- and 64-bit address sizes; false for what it does not handle. */
static bool emit_ea(Emit *e, const TCGLInsn *i)
{
    int64_t disp = i->disp;

    if ((i->adsize != 4 && i->adsize != 8) || i->mod == 3 ||
        (i->base != TCGL_RIPREL && i->base != TCGL_NOREG && i->base > 15) ||
        (i->index != TCGL_NOREG && i->index > 15)) {
        return false;
    }
    if (i->base == TCGL_RIPREL) {
        disp += (int64_t)i->off + i->len;           /* rip = r12 + off */
        if (disp != (int32_t)disp) {
            return false;
        }
        eb(e, "\x49\x8d\x84\x24", 4);              /* lea rax, [r12 + disp32] */
        e32(e, (uint32_t)(int32_t)disp);
        disp = 0;
    } else if (i->base != TCGL_NOREG) {
        emit_ld_reg(e, false, i->base, 8);
    } else {
        eb(e, "\x31\xc0", 2);                        /* xor eax, eax */
    }
    if (i->index != TCGL_NOREG) {
        emit_ld_reg(e, true, i->index, 8);
        eb(e, "\x48\x8d\x84", 3);                   /* lea rax, [rax + rcx*s + disp32] */
        e8(e, (uint8_t)((i->scale & 3) << 6 | 1 << 3 | 0));
        e32(e, (uint32_t)(int32_t)disp);
    } else if (disp) {
        eb(e, "\x48\x8d\x80", 3);                   /* lea rax, [rax + disp32] */
        e32(e, (uint32_t)(int32_t)disp);
    }
    if (i->adsize == 4) {
        eb(e, "\x89\xc0", 2);                        /* mov eax, eax */
    }
    return true;
}

/* LEA r32/r64: tcgl_ea() then tcgl_reg_set() */
static bool emit_inline_lea(Emit *e, const TCGLInsn *i)
{
    if ((i->opsize != 4 && i->opsize != 8) || i->reg > 15 || !emit_ea(e, i)) {
        return false;
    }
    if (i->opsize == 4) {
        eb(e, "\x89\xc0", 2);                        /* mov eax, eax */
    }
    emit_st_reg(e, i->reg);
    return true;
}

/*
 * rax = the host address of i's memory operand of `size` bytes, by the
 * inline TLB-hit path of mmu.h (segment limit, linear address, TLB tag of
 * the page of its last byte, so an access that crosses into the next page
 * misses), misaligned ones only below CPL 3 (where alignment checking
 * never applies, as tcgl_ac_on()); anything else jumps to the
 * slow path (slow_field[0..2] to patch), which calls the handler: it
 * redoes the access from the start, the fast path having changed nothing.
 * A write-tag hit is never a page holding code (those writes go through
 * the memory API: mmu.c), so a fast store cannot invalidate the block.
 */
static bool emit_mem_addr_seg(Emit *e, unsigned seg, unsigned size, bool store,
                              uint8_t **slow_field);

static bool emit_mem_addr(Emit *e, const TCGLInsn *i, unsigned size, bool store,
                          uint8_t **slow_field)
{
    /* LOCK (on the read-modify-write forms the decoder lets it prefix)
     * needs nothing here: one vCPU runs guest code at a time
     * (docs/tcg-lite.md), as for the handlers */
    if (i->seg >= R_NB_SEGS || !emit_ea(e, i)) {
        return false;
    }
    return emit_mem_addr_seg(e, i->seg, size, store, slow_field);
}

/* The same with the offset already in rax. */
static bool emit_mem_addr_seg(Emit *e, unsigned seg, unsigned size, bool store,
                              uint8_t **slow_field)
{
    uint32_t lim = store ? CPU_OFF(seg_wlim[0]) : CPU_OFF(seg_rlim[0]);
    uint32_t tag = store ? (uint32_t)offsetof(TCGLTLBEntry, tag_write)
                         : (uint32_t)offsetof(TCGLTLBEntry, tag_read);

    if (e->cs64) {
        /* 64-bit mode: no limit (seg_rlim/wlim are INT64_MAX), no
         * linear mask (~0), a base only in FS and GS (tcgl_update_hflags) */
        slow_field[0] = NULL;
        if (seg == R_FS || seg == R_GS) {
            eb(e, "\x48\x03\x83", 3);               /* add rax, [rbx + seg_base[seg]] */
            e32(e, CPU_OFF(seg_base[0]) + seg * 8u);
        }
    } else {
        eb(e, "\x48\x8d\x50", 3);                   /* lea rdx, [rax + size - 1] */
        e8(e, (uint8_t)(size - 1));
        eb(e, "\x48\x3b\x93", 3);                   /* cmp rdx, [rbx + lim[seg]] */
        e32(e, lim + seg * 8u);
        eb(e, "\x0f\x8f", 2);                       /* jg slow (signed, as mmu.h) */
        slow_field[0] = e->p;
        e32(e, 0);
        eb(e, "\x48\x03\x83", 3);                   /* add rax, [rbx + seg_base[seg]] */
        e32(e, CPU_OFF(seg_base[0]) + seg * 8u);
        eb(e, "\x48\x23\x83", 3);                   /* and rax, [rbx + lin_mask] */
        e32(e, CPU_OFF(lin_mask));
    }
    if (size > 1 && e->user) {
        /* misaligned at CPL 3: the slow path, which knows whether #AC
         * applies (tcgl_ac_on()).  Below CPL 3 it never does (the
         * block's key holds its CPL), so misaligned accesses take the
         * fast path there, as mmu.h's; one that crosses into the next
         * page fails the tag compare below */
        e8(e, 0xa8);                                /* test al, size - 1 */
        e8(e, (uint8_t)(size - 1));
        eb(e, "\x0f\x85", 2);                       /* jnz slow */
        slow_field[1] = e->p;
        e32(e, 0);
    } else {
        slow_field[1] = NULL;
    }
    /* the entry: tlb[mmu_idx] is a constant offset from rbx, mmu_idx
     * following the CPL, which is part of the block's key */
    uint32_t tlb = CPU_OFF(tlb[0]) + (e->user ? TCGL_MMU_USER : TCGL_MMU_SUPER) *
                   (uint32_t)sizeof(((TCGLCPU *)0)->tlb[0]);
    _Static_assert(sizeof(TCGLTLBEntry) == 32, "the index below is the byte offset");
    eb(e, "\x89\xc2", 2);                           /* mov edx, eax */
    eb(e, "\xc1\xea", 2);                           /* shr edx, 12 - 5 */
    e8(e, TCGL_PAGE_BITS - 5);
    eb(e, "\x81\xe2", 2);                           /* and edx, (TLB_SIZE - 1) << 5 */
    e32(e, (TCGL_TLB_SIZE - 1) << 5);
    eb(e, "\x48\x8d\x48", 3);                       /* lea rcx, [rax + size - 1] */
    e8(e, (uint8_t)(size - 1));
    eb(e, "\x48\x81\xe1", 3);                       /* and rcx, PAGE_MASK */
    e32(e, (uint32_t)TCGL_PAGE_MASK);
    eb(e, "\x48\x3b\x8c\x13", 4);                   /* cmp rcx, [rbx + rdx + tlb + tag] (last byte's page) */
    e32(e, tlb + tag);
    eb(e, "\x0f\x85", 2);                           /* jne slow */
    slow_field[2] = e->p;
    e32(e, 0);
    eb(e, "\x48\x03\x84\x13", 4);                   /* add rax, [rbx + rdx + tlb + addend] */
    e32(e, tlb + (uint32_t)offsetof(TCGLTLBEntry, addend));
    return true;
}

/* The memory forms inlined: MOV r, m / m, r / m, imm of every size, MOVZX
 * r, m8 / m16 (mov_handlers and tcgl_int_movzx* in int-mov.c). */
enum { MEM_NONE, MEM_LD, MEM_ST, MEM_STI, MEM_ZX8, MEM_ZX16, MEM_SX8, MEM_SX16, MEM_SXD };

/* the bytes a MOVZX/MOVSX form reads */
static unsigned ext_size(int kind)
{
    return kind == MEM_ZX8 || kind == MEM_SX8 ? 1 : kind == MEM_ZX16 || kind == MEM_SX16 ? 2 : 4;
}

static bool is_ext(int kind)
{
    return kind >= MEM_ZX8;
}

/* eax|rax = the ext_size(kind) bytes at [base + disp32] (base: r13 or
 * rax), zero- or sign-extended to the operand size (a 32-bit result with
 * bits 63:32 clear, as tcgl_reg_set stores it) */
static void emit_ext_load(Emit *e, int kind, unsigned opsize, bool from_r13, uint32_t disp)
{
    bool sx = kind == MEM_SX8 || kind == MEM_SX16 || kind == MEM_SXD;
    uint8_t rex = (uint8_t)((sx && opsize == 8 ? 0x48 : 0) | (from_r13 ? 0x41 : 0));

    if (kind == MEM_SXD) {
        rex |= 0x48;
        if (rex != 0x40) {
            e8(e, rex);
        }
        e8(e, 0x63);                                /* movsxd rax, dword [base + d] */
    } else {
        if (rex) {
            e8(e, rex);
        }
        e8(e, 0x0f);                                /* movzx|movsx eax|rax, byte|word */
        e8(e, (uint8_t)((sx ? 0xbe : 0xb6) + (ext_size(kind) == 2)));
    }
    if (from_r13) {
        e8(e, 0x85);
        e32(e, disp);
    } else {
        e8(e, 0x00);
    }
}

static int mem_form(const TCGLInsn *i, unsigned *size)
{
    for (unsigned s = 0; s < 4; s++) {
        *size = 1u << s;
        if (i->fn == mov_handlers[FORM_RM][s]) {
            return MEM_LD;
        }
        if (i->fn == mov_handlers[FORM_MR][s]) {
            return MEM_ST;
        }
        if (i->fn == mov_handlers[FORM_MI][s]) {
            return MEM_STI;
        }
    }
    *size = i->opsize;
    if (i->fn == tcgl_int_movzx8) {
        return MEM_ZX8;
    }
    if (i->fn == tcgl_int_movzx16) {
        return MEM_ZX16;
    }
    if (i->fn == tcgl_int_movsx8) {
        return MEM_SX8;
    }
    if (i->fn == tcgl_int_movsx16) {
        return MEM_SX16;
    }
    if (i->fn == tcgl_int_movsxd && i->opsize == 8) {
        return MEM_SXD;
    }
    return MEM_NONE;
}

/* MOVZX r, r8/r16 (registers 0-15): pure */
static bool emit_inline_movzx_reg(Emit *e, const TCGLInsn *i, int kind)
{
    if (i->mod != 3 || i->rm > 15 || i->reg > 15 || i->opsize < 2) {
        return false;
    }
    emit_ext_load(e, kind, i->opsize, true, REG_OFF(i->rm));
    emit_st_reg_sized(e, i->reg, i->opsize);
    return true;
}

/* A memory form of mem_form(); false: nothing emitted that matters. */
static bool emit_inline_mem(Emit *e, const TCGLInsn *i, int kind, unsigned size,
                            uint8_t **slow_field)
{
    static const char *const ld[4] = { "\x0f\xb6\x00", "\x0f\xb7\x00", "\x8b\x00", "\x48\x8b\x00" };
    static const char *const st[4] = { "\x88\x08", "\x66\x89\x08", "\x89\x08", "\x48\x89\x08" };
    static const unsigned ldn[4] = { 3, 3, 2, 3 }, stn[4] = { 2, 3, 2, 3 };
    unsigned acc = is_ext(kind) ? ext_size(kind) : size;
    unsigned lg = acc == 1 ? 0 : acc == 2 ? 1 : acc == 4 ? 2 : 3;

    if (i->mod == 3 || (kind != MEM_STI && i->reg > 15) || (acc != 1 && acc != 2 && acc != 4 &&
                                                            acc != 8)) {
        return false;
    }
    if (is_ext(kind) && size < 2) {
        return false;
    }
    if (!emit_mem_addr(e, i, acc, kind == MEM_ST || kind == MEM_STI, slow_field)) {
        return false;
    }
    switch (kind) {
    case MEM_LD:
        eb(e, ld[lg], ldn[lg]);                     /* eax|rax = [rax], zero-extended */
        emit_st_reg_sized(e, i->reg, size);
        break;
    case MEM_ZX8:
    case MEM_ZX16:
    case MEM_SX8:
    case MEM_SX16:
    case MEM_SXD:
        emit_ext_load(e, kind, i->opsize, false, 0);    /* eax|rax = [rax], extended */
        emit_st_reg_sized(e, i->reg, i->opsize);
        break;
    case MEM_ST:
        emit_ld_reg_sized(e, true, i->reg, size);   /* rcx = the register */
        eb(e, st[lg], stn[lg]);                     /* [rax] = cl|cx|ecx|rcx */
        break;
    default:
        emit_imm(e, true, i->imm & tcgl_size_mask(size));
        eb(e, st[lg], stn[lg]);
        break;
    }
    return true;
}

static void emit_carry_r8(Emit *e, bool flags_live);
static void emit_adc_cc(Emit *e, bool sbb, unsigned size);

/*
 * ALU with a memory operand (FORM_RM: reg op= m; FORM_MR: m op= reg;
 * FORM_MI: m op= imm), every size and op, LOCKed or not (as
 * emit_mem_addr()): alu_rm()/alu_mem() of int-alu.c with the memory
 * through emit_mem_addr() (a write-tag hit for the forms that write
 * memory, as rmw_ptr()).  ADC/SBB take the carry in first (r8, from the
 * host flags when flags_live; emit_mem_addr() keeps r8) and leave alu()'s
 * lazy state, cc_src2 written only once the access went ahead (the slow
 * path's handler takes the carry from the lazy state as it was).
 */
static bool emit_inline_alu_mem(Emit *e, const TCGLInsn *i, const Form *f, bool flags_live,
                                uint8_t **slow_field)
{
    static const char *const ld_a[4] = { "\x0f\xb6\x02", "\x0f\xb7\x02", "\x8b\x02", "\x48\x8b\x02" };
    static const char *const ld_b[4] = { "\x0f\xb6\x0a", "\x0f\xb7\x0a", "\x8b\x0a", "\x48\x8b\x0a" };
    static const char *const st_a[4] = { "\x88\x02", "\x66\x89\x02", "\x89\x02", "\x48\x89\x02" };
    static const unsigned ldn[4] = { 3, 3, 2, 3 }, stn[4] = { 2, 3, 2, 3 };
    unsigned size = f->size, lg = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
    bool logic = false, writes = f->op != ALU_CMP && f->op != ALU_TEST;
    bool mem_dst = f->form != FORM_RM, carry = f->op == ALU_ADC || f->op == ALU_SBB;
    uint8_t opb = carry ? (f->op == ALU_SBB ? 0x19 : 0x11) : alu_opcode(f->op, &logic);

    if (!opb || i->mod == 3 || (f->form != FORM_MI && i->reg > 15)) {
        return false;
    }
    if (carry) {
        emit_carry_r8(e, flags_live);
    }
    if (!emit_mem_addr(e, i, size, mem_dst && writes, slow_field)) {
        return false;
    }
    eb(e, "\x48\x89\xc2", 3);                       /* mov rdx, rax (the host pointer) */
    if (f->form == FORM_RM) {
        eb(e, ld_b[lg], ldn[lg]);                   /* rcx = [rdx] */
        emit_ld_reg_sized(e, false, i->reg, size);  /* rax = the register */
    } else {
        eb(e, ld_a[lg], ldn[lg]);                   /* rax = [rdx] */
        if (f->form == FORM_MR) {
            emit_ld_reg_sized(e, true, i->reg, size);
        } else {
            emit_imm(e, true, i->imm & tcgl_size_mask(size));
        }
    }
    if (carry) {
        eb(e, "\x41\x0f\xba\xe0\x00", 5);         /* bt r8d, 0: CF = the carry in */
    }
    emit_alu_op(e, opb, size);
    if (writes) {
        if (mem_dst) {
            eb(e, st_a[lg], stn[lg]);               /* [rdx] = the result */
        } else {
            emit_st_reg_sized(e, i->reg, size);
        }
    }
    if (carry) {
        emit_adc_cc(e, f->op == ALU_SBB, size);
    } else {
        emit_alu_flags(e, f->op, logic, size);
    }
    return true;
}

/* NOT r (F6/F7 /2, registers, every size): no flags, so the host's stay
 * the guest's across it. */
static bool emit_inline_not(Emit *e, const TCGLInsn *i)
{
    unsigned size = i->opsize;

    if (i->mod != 3 || !reg_ok(i->rm, size)) {
        return false;
    }
    emit_ld_reg_sized(e, false, i->rm, size);
    if (size == 8) {
        e8(e, 0x48);
    }
    eb(e, "\xf7\xd0", 2);                           /* not eax|rax (32: zero-extends) */
    emit_st_reg_sized(e, i->rm, size);
    return true;
}

/* NEG r (F6/F7 /3, registers, every size): the host's NEG, lazy flags as
 * do_neg(): SUB kind, cc_dst = -a, cc_src = a; the host's flags are the
 * guest's after it. */
static bool emit_inline_neg(Emit *e, const TCGLInsn *i)
{
    unsigned size = i->opsize;

    if (i->mod != 3 || !reg_ok(i->rm, size)) {
        return false;
    }
    emit_ld_reg_sized(e, false, i->rm, size);
    eb(e, "\x48\x89\xc1", 3);                       /* mov rcx, rax: a */
    if (size == 2) {
        e8(e, 0x66);
    } else if (size == 8) {
        e8(e, 0x48);
    }
    eb(e, size == 1 ? "\xf6\xd8" : "\xf7\xd8", 2);   /* neg al|ax|eax|rax */
    emit_st_reg_sized(e, i->rm, size);
    emit_alu_flags(e, ALU_SUB, false, size);
    return true;
}

/* The read-modify-write forms m32/m64, r of XADD and CMPXCHG: rdx = the
 * host address of the memory operand through the write tag (a miss: the
 * slow path), or false for what they do not take. */
static bool emit_rmw_ptr_r(Emit *e, const TCGLInsn *i, uint8_t **slow_field)
{
    if (i->mod == 3 || (i->opsize != 4 && i->opsize != 8) || i->reg > 15 ||
        !emit_mem_addr(e, i, i->opsize, true, slow_field)) {
        return false;
    }
    eb(e, "\x48\x89\xc2", 3);                       /* mov rdx, rax (the host pointer) */
    return true;
}

/* XADD m32/m64, r (0F C1, LOCKed or not): r/m = r/m + r, r = the old
 * r/m, lazy flags of the ADD (tcgl_int_xadd()), through the write tag. */
static bool emit_inline_xadd(Emit *e, const TCGLInsn *i, uint8_t **slow_field)
{
    unsigned size = i->opsize;
    bool w = size == 8;

    if (!emit_rmw_ptr_r(e, i, slow_field)) {
        return false;
    }
    emit_ld_reg(e, true, i->reg, size);             /* rcx = b */
    eb(e, w ? "\x48\x8b\x02" : "\x8b\x02", w ? 3 : 2);   /* mov eax|rax, [rdx]: a */
    eb(e, "\x49\x89\xc0", 3);                       /* mov r8, rax */
    eb(e, w ? "\x48\x01\xc8" : "\x01\xc8", w ? 3 : 2);   /* add eax|rax, ecx|rcx */
    eb(e, w ? "\x48\x89\x02" : "\x89\x02", w ? 3 : 2);   /* mov [rdx], eax|rax */
    emit_alu_flags(e, ALU_ADD, false, size);
    eb(e, "\x4c\x89\xc0", 3);                       /* mov rax, r8 */
    emit_st_reg(e, i->reg);                         /* r = a (32: zero-extended) */
    return true;
}

/*
 * CMPXCHG m32/m64, r (0F B1, LOCKed or not, as emit_mem_addr()): the
 * host's CMPXCHG on the guest's memory through the write tag, then what
 * tcgl_int_cmpxchg() leaves: rAX = the old value only when it differed
 * (a 32-bit operand that matched leaves RAX's upper half), the lazy flags
 * of CMP rAX, old.  The old value is in eax|rax after the host
 * instruction either way (when it matched, it equals rAX).
 */
static bool emit_inline_cmpxchg(Emit *e, const TCGLInsn *i, uint8_t **slow_field)
{
    unsigned size = i->opsize;
    bool w = size == 8;

    if (!emit_rmw_ptr_r(e, i, slow_field)) {
        return false;
    }
    emit_ld_reg(e, false, R_EAX, size);             /* rax = rAX */
    eb(e, "\x49\x89\xc0", 3);                       /* mov r8, rax */
    emit_ld_reg(e, true, i->reg, size);             /* rcx = the source */
    if (w) {
        e8(e, 0x48);
    }
    eb(e, "\x0f\xb1\x0a", 3);                       /* cmpxchg [rdx], ecx|rcx */
    eb(e, "\x74\x07", 2);                           /* je: rAX stays */
    eb(e, "\x49\x89\x85", 3);                       /* mov [r13 + rAX], rax (32: zero-extended) */
    e32(e, REG_OFF(R_EAX));
    eb(e, "\x48\x89\xc1", 3);                       /* mov rcx, rax: the old value */
    eb(e, "\x4c\x89\xc0", 3);                       /* mov rax, r8 */
    if (w) {
        e8(e, 0x48);
    }
    eb(e, "\x29\xc8", 2);                           /* sub eax|rax, ecx|rcx */
    emit_alu_flags(e, ALU_CMP, false, size);
    return true;
}

/* The multiplies inlined, 16-, 32- and 64-bit (int-alu.c): MUL and IMUL
 * r/m (F7 /4, /5: rDX:rAX = rAX * r/m), IMUL r, r/m (0F AF) and IMUL r,
 * r/m, imm (69, 6B). */
enum { MUL_NONE, MUL_MUL, MUL_IMUL1, MUL_IMUL2, MUL_IMUL3 };

static int mul_form(const TCGLInsn *i)
{
    if (i->opsize < 2) {
        return MUL_NONE;
    }
    return i->fn == tcgl_int_mul ? MUL_MUL : i->fn == tcgl_int_imul1 ? MUL_IMUL1 :
           i->fn == tcgl_int_imul_gv ? MUL_IMUL2 : i->fn == tcgl_int_imul_gvi ? MUL_IMUL3 :
           MUL_NONE;
}

/* The host does the multiply: the results, and CF = OF = the overflow
 * into cc_src (0 or 1) with the low half, truncated, in cc_dst, as
 * set_mul_flags().  A memory operand goes through emit_mem_addr() (a
 * read; its slow path is the handler). */
static bool emit_inline_mul(Emit *e, const TCGLInsn *i, int form, uint8_t **slow_field)
{
    static const char *const ld_c[3] = { "\x0f\xb7\x08", "\x8b\x08", "\x48\x8b\x08" };
    unsigned size = i->opsize, lg = size == 2 ? 0 : size == 4 ? 1 : 2;
    uint8_t pfx = size == 2 ? 0x66 : size == 8 ? 0x48 : 0;

    if ((size != 2 && size != 4 && size != 8) || (form >= MUL_IMUL2 && i->reg > 15) ||
        (i->mod == 3 && i->rm > 15)) {
        return false;
    }
    /* rcx = the r/m operand */
    if (i->mod == 3) {
        emit_ld_reg_sized(e, true, i->rm, size);
    } else {
        if (!emit_mem_addr(e, i, size, false, slow_field)) {
            return false;
        }
        eb(e, ld_c[lg], lg == 1 ? 2 : 3);     /* rcx = [rax], zero-extended */
    }
    switch (form) {
    case MUL_MUL:
    case MUL_IMUL1:
        emit_ld_reg_sized(e, false, R_EAX, size);
        if (pfx) {
            e8(e, pfx);
        }
        e8(e, 0xf7);                                /* mul|imul cx|ecx|rcx */
        e8(e, form == MUL_MUL ? 0xe1 : 0xe9);
        break;
    case MUL_IMUL2:
        emit_ld_reg_sized(e, false, i->reg, size);
        break;
    default:
        eb(e, "\x48\x89\xc8", 3);                   /* mov rax, rcx */
        emit_imm(e, true, i->imm & tcgl_size_mask(size));
        break;
    }
    if (form >= MUL_IMUL2) {
        if (pfx) {
            e8(e, pfx);
        }
        eb(e, "\x0f\xaf\xc1", 3);                   /* imul ax|eax|rax, cx|ecx|rcx */
    }
    eb(e, "\x0f\x92\xc1", 3);                       /* setc cl */
    eb(e, "\x0f\xb6\xc9", 3);                       /* movzx ecx, cl */
    if (form >= MUL_IMUL2) {
        emit_st_reg_sized(e, i->reg, size);
    } else {
        emit_st_reg_sized(e, R_EAX, size);
        if (size == 2) {
            e8(e, 0x66);
        }
        eb(e, size == 2 ? "\x41\x89\x95" : "\x49\x89\x95", 3);   /* mov [r13 + d], dx|rdx */
        e32(e, REG_OFF(R_EDX));
    }
    /* cc_op = MUL, cc_dst = rax (the low half, zero-extended), cc_src = rcx */
    eb(e, "\xc7\x83", 2);
    e32(e, CPU_OFF(cc_op));
    e32(e, TCGL_CC(CC_K_MUL, size));
    eb(e, "\x48\x89\x83", 3);
    e32(e, CPU_OFF(cc_dst));
    eb(e, "\x48\x89\x8b", 3);
    e32(e, CPU_OFF(cc_src));
    return true;
}

/* PUSH r64 / POP r64 in 64-bit mode (tcgl_int_push_r / pop_r: the stack
 * pointer is not masked there): the new RSP in r8 until the access has
 * passed every check, then RSP and (POP) the register, in that order. */
static bool emit_inline_pushpop(Emit *e, const TCGLJitBlock *jb, const TCGLInsn *i, bool is_push,
                                uint8_t **slow_field)
{
    if (!(jb->hflags & TCGL_HF_CS64) || i->opsize != 8 || i->reg > 15) {
        return false;
    }
    emit_ld_reg(e, false, R_ESP, 8);                /* rax = rsp */
    if (is_push) {
        eb(e, "\x48\x83\xe8\x08", 4);              /* sub rax, 8 */
    }
    eb(e, "\x49\x89\xc0", 3);                       /* mov r8, rax */
    if (!emit_mem_addr_seg(e, R_SS, 8, is_push, slow_field)) {
        return false;
    }
    if (is_push) {
        emit_ld_reg(e, true, i->reg, 8);            /* rcx = the register (old RSP for RSP) */
        eb(e, "\x48\x89\x08", 3);                   /* mov [rax], rcx */
        eb(e, "\x4d\x89\x85", 3);                   /* mov [r13 + rsp], r8 */
        e32(e, REG_OFF(R_ESP));
    } else {
        eb(e, "\x48\x8b\x00", 3);                   /* mov rax, [rax] */
        eb(e, "\x49\x83\xc0\x08", 4);              /* add r8, 8 */
        eb(e, "\x4d\x89\x85", 3);                   /* mov [r13 + rsp], r8 */
        e32(e, REG_OFF(R_ESP));
        emit_st_reg(e, i->reg);                     /* POP RSP: the value wins */
    }
    return true;
}

/* PUSH r64 or POP r64 (not RSP) in 64-bit code below CPL 3, as
 * emit_inline_pushpop takes them: how many of them in a row from k (at
 * most 8), all pushes or all pops. */
#define PUSHPOP_RUN_MAX 8
static unsigned pushpop_run(const TCGLJitBlock *jb, unsigned k, unsigned n, bool is_push)
{
    void (*fn)(TCGLCPU *, const TCGLInsn *) = is_push ? tcgl_int_push_r : tcgl_int_pop_r;
    unsigned m = 0;

    while (k + m < n && m < PUSHPOP_RUN_MAX) {
        const TCGLInsn *i = &jb->insns[k + m];
        if (i->fn != fn || i->opsize != 8 || i->reg > 15 || i->reg == R_ESP) {
            break;
        }
        m++;
    }
    return m;
}

/* A function's prologue or epilogue: m PUSH r64 (or POP r64) in a row
 * (pushpop_run) as one access of 8*m bytes: one TLB test for the whole
 * range (it must lie in one page, else the slow path), the values, RSP
 * once.  The slow path (*slow_field) runs the first instruction's handler
 * and goes on with the others one by one, from code the caller emits
 * after this; *over_field jumps over that code. */
static bool emit_pushpop_run(Emit *e, const TCGLJitBlock *jb, unsigned k, unsigned m,
                             bool is_push, uint8_t **slow_field, uint8_t **over_field)
{
    if (!e->cs64 || e->user || m < 2 || m > PUSHPOP_RUN_MAX) {
        return false;
    }
    emit_ld_reg(e, false, R_ESP, 8);                /* rax = rsp */
    eb(e, "\x49\x89\xc0", 3);                       /* mov r8, rax */
    if (is_push) {
        eb(e, "\x48\x83\xe8", 3);                   /* sub rax, 8m */
        e8(e, (uint8_t)(8 * m));
        eb(e, "\x49\x83\xe8", 3);                   /* sub r8, 8m */
    } else {
        eb(e, "\x49\x83\xc0", 3);                   /* add r8, 8m */
    }
    e8(e, (uint8_t)(8 * m));
    if (!emit_mem_addr_seg(e, R_SS, 8 * m, is_push, slow_field)) {
        return false;
    }
    for (unsigned j = 0; j < m; j++) {
        const TCGLInsn *i = &jb->insns[k + j];
        /* the first push goes highest; the first pop reads lowest */
        uint8_t disp = (uint8_t)(8 * (is_push ? m - 1 - j : j));
        if (is_push) {
            emit_ld_reg(e, true, i->reg, 8);        /* rcx = the register */
            eb(e, "\x48\x89\x48", 3);               /* mov [rax + disp8], rcx */
            e8(e, disp);
        } else {
            eb(e, "\x48\x8b\x48", 3);               /* mov rcx, [rax + disp8] */
            e8(e, disp);
            eb(e, "\x49\x89\x8d", 3);               /* mov [r13 + reg], rcx */
            e32(e, REG_OFF(i->reg));
        }
    }
    eb(e, "\x4d\x89\x85", 3);                       /* mov [r13 + rsp], r8 */
    e32(e, REG_OFF(R_ESP));
    e8(e, 0xe9);                                    /* jmp over the one-by-one code */
    *over_field = e->p;
    e32(e, 0);
    e->rax_at = NULL;
    return true;
}

/*
 * The end of a block whose last Jcc reads the host flags (set by inline
 * code just before): rip = cc ? next + rel : next, truncated to 32 bits
 * outside 64-bit code, written without a branch (CMOVcc).
 */
static void emit_jcc_rip(Emit *e, uint32_t next_off, int32_t rel, unsigned cc, bool cs64)
{
    eb(e, "\x49\x8d\x84\x24", 4);                 /* lea rax, [r12 + next] */
    e32(e, next_off);
    if (!cs64) {
        eb(e, "\x89\xc0", 2);                       /* mov eax, eax */
    }
    eb(e, "\x48\x8d\x88", 3);                      /* lea rcx, [rax + rel] */
    e32(e, (uint32_t)rel);
    if (!cs64) {
        eb(e, "\x89\xc9", 2);                       /* mov ecx, ecx */
    }
    eb(e, "\x48\x0f", 2);                           /* cmovcc rax, rcx */
    e8(e, 0x40 | (cc & 15));
    e8(e, 0xc1);
    eb(e, "\x49\x89\x85", 3);                      /* mov [r13 + rip], rax */
    e32(e, (uint32_t)offsetof(X86CPUState, rip));
}

/*
 * Near JMP rel, CALL rel and RET (imm16) at the block's end, as
 * tcgl_int_jmp_rel / call_rel / ret do: JMP in 32- and 64-bit code (not
 * with a 16-bit operand), CALL and RET in 64-bit mode with a 64-bit
 * operand (the stack pointer unmasked there).  CALL's push and RET's pop
 * go through the TLB fast path (*slow: the handler does it all); RSP and
 * rip are written only after every check passed.
 */
static bool emit_inline_branch(Emit *e, const TCGLJitBlock *jb, const TCGLInsn *i,
                               uint8_t **slow_field, bool *slow, bool flags_live)
{
    bool cs64 = jb->hflags & TCGL_HF_CS64;
    int64_t next = (int64_t)i->off + i->len, target = next + i->imm;

    *slow = false;
    if (flags_live && i->fn == jcc_handlers[i->opc & 15]) {
        /* Jcc right after an inline ALU/INC/DEC: the host flags are the
         * guest's, the branch as the fused CMP/TEST + Jcc takes it */
        if (!(jb->hflags & (TCGL_HF_CS64 | TCGL_HF_CS32)) || i->opsize == 2 ||
            (int64_t)i->imm != (int32_t)i->imm) {
            return false;
        }
        emit_jcc_rip(e, (uint32_t)next, (int32_t)i->imm, i->opc, cs64);
        return true;
    }
    if (i->fn == tcgl_int_jmp_rel) {
        if (!(jb->hflags & (TCGL_HF_CS64 | TCGL_HF_CS32)) || i->opsize == 2 ||
            target != (int32_t)target) {
            return false;
        }
        eb(e, "\x49\x8d\x84\x24", 4);             /* lea rax, [r12 + target] */
        e32(e, (uint32_t)(int32_t)target);
        if (!cs64) {
            eb(e, "\x89\xc0", 2);                   /* mov eax, eax */
        }
        eb(e, "\x49\x89\x85", 3);                  /* mov [r13 + rip], rax */
        e32(e, (uint32_t)offsetof(X86CPUState, rip));
        return true;
    }
    if (!cs64 || i->opsize != 8) {
        return false;
    }
    if (i->fn == tcgl_int_call_rel) {
        if (target != (int32_t)target) {
            return false;
        }
        emit_ld_reg(e, false, R_ESP, 8);            /* rax = rsp - 8 */
        eb(e, "\x48\x83\xe8\x08", 4);
        eb(e, "\x49\x89\xc0", 3);                  /* mov r8, rax */
        if (!emit_mem_addr_seg(e, R_SS, 8, true, slow_field)) {
            return false;
        }
        eb(e, "\x49\x8d\x8c\x24", 4);             /* lea rcx, [r12 + next] */
        e32(e, (uint32_t)next);
        eb(e, "\x48\x89\x08", 3);                  /* mov [rax], rcx */
        eb(e, "\x4d\x89\x85", 3);                  /* mov [r13 + rsp], r8 */
        e32(e, REG_OFF(R_ESP));
        eb(e, "\x49\x8d\x84\x24", 4);             /* lea rax, [r12 + target] */
        e32(e, (uint32_t)(int32_t)target);
    } else if (i->fn == tcgl_int_ret) {
        emit_ld_reg(e, false, R_ESP, 8);            /* rax = rsp */
        eb(e, "\x49\x89\xc0", 3);                  /* mov r8, rax */
        if (!emit_mem_addr_seg(e, R_SS, 8, false, slow_field)) {
            return false;
        }
        eb(e, "\x48\x8b\x00", 3);                  /* mov rax, [rax] */
        eb(e, "\x49\x81\xc0", 3);                  /* add r8, 8 + imm16 */
        e32(e, (uint32_t)(8 + (i->imm & 0xffff)));
        eb(e, "\x4d\x89\x85", 3);                  /* mov [r13 + rsp], r8 */
        e32(e, REG_OFF(R_ESP));
    } else {
        return false;
    }
    eb(e, "\x49\x89\x85", 3);                      /* mov [r13 + rip], rax */
    e32(e, (uint32_t)offsetof(X86CPUState, rip));
    *slow = true;
    return true;
}

/*
 * SHL/SHR/SAR r32/r64 by an immediate or 1 (shift_reg() of int-shift.c):
 * count n = imm & 31|63; n = 0 changes nothing but a 32-bit register's
 * bits 63:32 (cleared); else r = a op n and cc_src = a op (n - 1) with
 * cc_op SHL|SAR (SHR shares SAR's lazy kind), as do_shift() sets them.
 * 32-bit operations keep the values zero-extended, as the masks do.
 */
static bool emit_inline_shift(Emit *e, const TCGLInsn *i, unsigned op, unsigned by, unsigned size)
{
    static const uint8_t ext[3] = { 4, 5, 7 };      /* the /digit of SHL, SHR, SAR */
    unsigned n;

    if (by == 2 || (size != 4 && size != 8) || i->mod != 3 || i->rm > 15) {
        return false;
    }
    n = (unsigned)((by == 0 ? i->imm : 1) & (size == 8 ? 63 : 31));
    emit_ld_reg(e, false, i->rm, size);             /* rax = a (32-bit: zero-extended) */
    if (n == 0) {
        if (size == 4) {
            emit_st_reg(e, i->rm);
        }
        return true;
    }
    if (e->flags_dead) {
        if (size == 8) {
            e8(e, 0x48);
        }
        e8(e, 0xc1);                                /* op eax|rax, n: no cc_src wanted */
        e8(e, (uint8_t)(0xc0 | ext[op] << 3));
        e8(e, (uint8_t)n);
        emit_st_reg(e, i->rm);
        return true;
    }
    if (n > 1) {
        if (size == 8) {
            e8(e, 0x48);
        }
        e8(e, 0xc1);                                /* op eax|rax, n - 1 */
        e8(e, (uint8_t)(0xc0 | ext[op] << 3));
        e8(e, (uint8_t)(n - 1));
    }
    eb(e, "\x48\x89\xc1", 3);                      /* mov rcx, rax (cc_src) */
    if (size == 8) {
        e8(e, 0x48);
    }
    e8(e, 0xd1);                                    /* op eax|rax, 1 */
    e8(e, (uint8_t)(0xc0 | ext[op] << 3));
    emit_st_reg(e, i->rm);
    eb(e, "\xc7\x83", 2);                           /* mov dword [rbx + cc_op], imm32 */
    e32(e, CPU_OFF(cc_op));
    e32(e, TCGL_CC(op == 0 ? CC_K_SHL : CC_K_SAR, size));
    eb(e, "\x48\x89\x83", 3);                      /* mov [rbx + cc_dst], rax */
    e32(e, CPU_OFF(cc_dst));
    eb(e, "\x48\x89\x8b", 3);                      /* mov [rbx + cc_src], rcx */
    e32(e, CPU_OFF(cc_src));
    return true;
}

/*
 * ROL/ROR of a 32/64-bit register by an immediate or 1 (shift_rm() of
 * int-shift.c, the handlers tcgl_int_shift_ib and tcgl_int_shift_1):
 * the register only, for when flags_dead_after() found the rotate's
 * flags overwritten before anything reads them.  Count n = imm & 31|63;
 * n = 0 changes nothing but a 32-bit register's bits 63:32 (cleared);
 * the host's rotate by the same masked count gives the same value.
 */
static bool rot_form(const TCGLInsn *i)
{
    unsigned kind = (i->modrm >> 3) & 7;
    return (i->fn == tcgl_int_shift_ib || i->fn == tcgl_int_shift_1) && i->mod == 3 &&
           (kind == 0 || kind == 1) && (i->opsize == 4 || i->opsize == 8) && i->rm <= 15;
}

static void emit_inline_rot_dead(Emit *e, const TCGLInsn *i)
{
    unsigned size = i->opsize, kind = (i->modrm >> 3) & 7;
    unsigned n = (unsigned)((i->fn == tcgl_int_shift_1 ? 1 : i->imm) & (size == 8 ? 63 : 31));

    emit_ld_reg(e, false, i->rm, size);             /* rax = a (32-bit: zero-extended) */
    if (n) {
        if (size == 8) {
            e8(e, 0x48);
        }
        e8(e, 0xc1);                                /* rol|ror eax|rax, n */
        e8(e, (uint8_t)(0xc0 | kind << 3));
        e8(e, (uint8_t)n);
    }
    emit_st_reg(e, i->rm);
}

/*
 * Whether the flags instruction k of the block writes are dead: a later
 * instruction of the block overwrites all six (an ALU operation of
 * registers or an immediate, but ADC/SBB, which read CF; a register shift
 * by a non-zero constant) before anything could see them.  Only register
 * MOVs, MOVZX/MOVSX and NOTs, LEAs (not RIP-relative), further register
 * rotates (rot_form) and NOPs may come between: none of them faults,
 * reads the flags or leaves the block.  A handler, a branch, a memory
 * access or the block's end means they may be seen: not dead.  (A memory
 * form never kills: it may fault before it writes the flags, and the
 * exception's frame must have the earlier ones.)
 */
static bool shift_form(const TCGLInsn *i, unsigned *op, unsigned *by, unsigned *size);

static bool flags_dead_after(const TCGLJitBlock *jb, unsigned k, unsigned n)
{
    for (unsigned j = k + 1; j < n; j++) {
        const TCGLInsn *i = &jb->insns[j];
        Form f = classify(i);
        unsigned sa, sb, ss, msize;
        if (f.kind == FK_ALU) {
            return f.op != ALU_ADC && f.op != ALU_SBB;
        }
        if (f.kind == FK_PURE && shift_form(i, &sa, &sb, &ss)) {
            /* SHL/SHR/SAR of a register by 1 or by a non-zero count (as
             * masked): all six written (AF and OF as shift_rm() leaves
             * them); by CL, or a count of 0, writes none */
            return sb == 1 || (sb == 0 && (i->imm & (ss == 8 ? 63 : 31)) != 0);
        }
        if (!(f.kind == FK_MOV || (f.kind == FK_LEA && is_pure(i, &f)) || rot_form(i) ||
              i->fn == tcgl_int_nop || (i->fn == tcgl_int_not && i->mod == 3) ||
              (i->mod == 3 && is_ext(mem_form(i, &msize))))) {
            return false;
        }
    }
    return false;
}

/* i is shift_reg_handlers[*op][*by][log2 *size] */
static bool shift_form(const TCGLInsn *i, unsigned *op, unsigned *by, unsigned *size)
{
    for (unsigned a = 0; a < 3; a++) {
        for (unsigned b = 0; b < 3; b++) {
            for (unsigned s = 0; s < 4; s++) {
                if (i->fn == shift_reg_handlers[a][b][s]) {
                    *op = a;
                    *by = b;
                    *size = 1u << s;
                    return true;
                }
            }
        }
    }
    return false;
}

/*
 * The host flags made the guest's again from the lazy state, when the
 * block's code knows its kind and size (the last flag writer was inline
 * code of this block): the same host operation on the operands the lazy
 * fields give back (ADD: a = dst - src, then a + src; SUB: a = dst + src,
 * then CMP a, src; ADC/SBB: a = dst -/+ src -/+ the carry in (cc_src2),
 * then the same ADC/SBB with that carry in CF; LOGIC: TEST dst; INC/DEC:
 * dst -/+ 1 with CF = cc_src2, then INC/DEC, which keeps CF).  Conditions
 * and CF come out as
 * tcgl_cond_inline()/tcgl_get_cf() give them (AF may differ: no
 * condition reads it).  Returns whether the flags are now live.
 */
static bool emit_flags_remat(Emit *e, int kind, unsigned size)
{
    uint8_t pfx = size == 2 ? 0x66 : size == 8 ? 0x48 : 0;

    if (kind != CC_K_ADD && kind != CC_K_SUB && kind != CC_K_LOGIC && kind != CC_K_INC &&
        kind != CC_K_DEC && kind != CC_K_ADC && kind != CC_K_SBB) {
        return false;
    }
    if (kind == CC_K_ADC || kind == CC_K_SBB) {
        eb(e, "\x48\x8b\x8b", 3);                  /* mov rcx, [rbx + cc_src] */
        e32(e, CPU_OFF(cc_src));
        eb(e, "\x48\x8b\x93", 3);                  /* mov rdx, [rbx + cc_src2] */
        e32(e, CPU_OFF(cc_src2));
        eb(e, "\x83\xe2\x01", 3);                  /* and edx, 1: the carry in */
    } else if (kind == CC_K_INC || kind == CC_K_DEC) {
        eb(e, "\x48\x8b\x8b", 3);                  /* mov rcx, [rbx + cc_src2] */
        e32(e, CPU_OFF(cc_src2));
    } else if (kind != CC_K_LOGIC) {
        eb(e, "\x48\x8b\x8b", 3);                  /* mov rcx, [rbx + cc_src] */
        e32(e, CPU_OFF(cc_src));
    }
    eb(e, "\x48\x8b\x83", 3);                      /* mov rax, [rbx + cc_dst] */
    e32(e, CPU_OFF(cc_dst));
    switch (kind) {
    case CC_K_ADD:
        eb(e, "\x48\x29\xc8", 3);                  /* sub rax, rcx */
        break;
    case CC_K_SUB:
        eb(e, "\x48\x01\xc8", 3);                  /* add rax, rcx */
        break;
    case CC_K_ADC:
        eb(e, "\x48\x29\xc8", 3);                  /* sub rax, rcx */
        eb(e, "\x48\x29\xd0", 3);                  /* sub rax, rdx */
        eb(e, "\x0f\xba\xe2\x00", 4);             /* bt edx, 0 */
        break;
    case CC_K_SBB:
        eb(e, "\x48\x01\xc8", 3);                  /* add rax, rcx */
        eb(e, "\x48\x01\xd0", 3);                  /* add rax, rdx */
        eb(e, "\x0f\xba\xe2\x00", 4);             /* bt edx, 0 */
        break;
    case CC_K_INC:
        eb(e, "\x48\x83\xe8\x01", 4);             /* sub rax, 1 */
        eb(e, "\x0f\xba\xe1\x00", 4);             /* bt ecx, 0 */
        break;
    case CC_K_DEC:
        eb(e, "\x48\x83\xc0\x01", 4);             /* add rax, 1 */
        eb(e, "\x0f\xba\xe1\x00", 4);             /* bt ecx, 0 */
        break;
    default:
        break;
    }
    if (pfx) {
        e8(e, pfx);
    }
    switch (kind) {
    case CC_K_ADD:                                  /* add al|ax|eax|rax, cl.. */
        e8(e, size == 1 ? 0x00 : 0x01);
        e8(e, 0xc8);
        break;
    case CC_K_SUB:                                  /* cmp al|ax|eax|rax, cl.. */
        e8(e, size == 1 ? 0x38 : 0x39);
        e8(e, 0xc8);
        break;
    case CC_K_ADC:                                  /* adc al|ax|eax|rax, cl.. */
        e8(e, size == 1 ? 0x10 : 0x11);
        e8(e, 0xc8);
        break;
    case CC_K_SBB:                                  /* sbb al|ax|eax|rax, cl.. */
        e8(e, size == 1 ? 0x18 : 0x19);
        e8(e, 0xc8);
        break;
    case CC_K_LOGIC:                                /* test al|ax|eax|rax, itself */
        e8(e, size == 1 ? 0x84 : 0x85);
        e8(e, 0xc0);
        break;
    default:                                        /* inc|dec al|ax|eax|rax */
        e8(e, size == 1 ? 0xfe : 0xff);
        e8(e, kind == CC_K_INC ? 0xc0 : 0xc8);
        break;
    }
    return true;
}

/* CF of the lazy flags (tcgl_get_cf), for INC/DEC after a handler */
static uint64_t jit_get_cf(const TCGLCPU *c)
{
    return tcgl_get_cf(c);
}

/* r8 = the guest's CF (0/1): from the host's when the flags are live,
 * else from the lazy state (jit_get_cf); emit_mem_addr() keeps r8. */
static void emit_carry_r8(Emit *e, bool flags_live)
{
    if (flags_live) {
        eb(e, "\x41\x0f\x92\xc0", 4);              /* setc r8b */
        eb(e, "\x45\x0f\xb6\xc0", 4);              /* movzx r8d, r8b */
    } else {
        eb(e, "\x48\x89\xdf", 3);                  /* mov rdi, rbx */
        emit_call(e, (const void *)jit_get_cf);
        eb(e, "\x41\x89\xc0", 3);                  /* mov r8d, eax */
    }
}

/* inc|dec al|ax|eax|rax: CF kept, the other flags the guest's */
static void emit_incdec_op(Emit *e, bool dec, unsigned size)
{
    if (size == 2) {
        e8(e, 0x66);
    } else if (size == 8) {
        e8(e, 0x48);
    }
    e8(e, size == 1 ? 0xfe : 0xff);
    e8(e, dec ? 0xc8 : 0xc0);                       /* inc|dec al|ax|eax|rax */
}

/* the lazy flags of do_inc/do_dec: cc_op, cc_dst = rax, cc_src = 0 (the
 * carry before it is already in cc_src2) */
static void emit_incdec_cc(Emit *e, bool dec, unsigned size)
{
    eb(e, "\xc7\x83", 2);                           /* mov dword [rbx + cc_op], imm32 */
    e32(e, CPU_OFF(cc_op));
    e32(e, TCGL_CC(dec ? CC_K_DEC : CC_K_INC, size));
    eb(e, "\x48\x89\x83", 3);                      /* mov [rbx + cc_dst], rax */
    e32(e, CPU_OFF(cc_dst));
    eb(e, "\x48\xc7\x83", 3);                      /* mov qword [rbx + cc_src], 0 */
    e32(e, CPU_OFF(cc_src));
    e32(e, 0);
}

/*
 * INC/DEC r (registers 0-15, every size) as do_inc/do_dec in int-alu.c:
 * cc_src2 = the carry before it (from the host's CF when the flags are
 * live: the previous instruction was inline ALU/INC/DEC; else from the
 * lazy state, and put in the host's CF), then the host INC/DEC, which
 * keeps CF: afterwards the host flags are all the guest's.
 */
static bool emit_inline_incdec(Emit *e, const TCGLInsn *i, bool dec, unsigned size, bool flags_live)
{
    if (i->mod != 3 || i->rm > 15) {
        return false;
    }
    emit_carry_r8(e, flags_live);
    if (!flags_live) {
        eb(e, "\x41\x0f\xba\xe0\x00", 5);         /* bt r8d, 0: CF = the carry */
    }
    eb(e, "\x4c\x89\x83", 3);                      /* mov [rbx + cc_src2], r8 */
    e32(e, CPU_OFF(cc_src2));
    emit_ld_reg_sized(e, false, i->rm, size);
    emit_incdec_op(e, dec, size);
    emit_st_reg_sized(e, i->rm, size);
    emit_incdec_cc(e, dec, size);
    return true;
}

/*
 * INC/DEC m, every size, LOCKed or not (one vCPU runs guest code at a
 * time: the handler's read-modify-write is no more atomic than this), as
 * do_inc/do_dec through RMW_RM: the carry before it is taken first (r8:
 * emit_mem_addr() leaves r8 alone) but stored in cc_src2 only once the
 * access is known to go ahead, since the slow path's handler reads the
 * lazy flags as they were.  The host flags are left as they fall (the
 * code after it rebuilds them from the lazy state, which a slow path
 * also leaves).
 */
static bool emit_inline_incdec_mem(Emit *e, const TCGLInsn *i, bool dec, bool flags_live,
                                   uint8_t **slow_field)
{
    static const char *const ld_a[4] = { "\x0f\xb6\x02", "\x0f\xb7\x02", "\x8b\x02", "\x48\x8b\x02" };
    static const char *const st_a[4] = { "\x88\x02", "\x66\x89\x02", "\x89\x02", "\x48\x89\x02" };
    static const unsigned ldn[4] = { 3, 3, 2, 3 }, stn[4] = { 2, 3, 2, 3 };
    unsigned size = i->opsize, lg = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;

    if (i->mod == 3 || (size != 1 && size != 2 && size != 4 && size != 8)) {
        return false;
    }
    emit_carry_r8(e, flags_live);
    if (!emit_mem_addr(e, i, size, true, slow_field)) {
        return false;
    }
    eb(e, "\x48\x89\xc2", 3);                      /* mov rdx, rax (the host pointer) */
    eb(e, ld_a[lg], ldn[lg]);                       /* rax = [rdx] */
    eb(e, "\x4c\x89\x83", 3);                      /* mov [rbx + cc_src2], r8 */
    e32(e, CPU_OFF(cc_src2));
    emit_incdec_op(e, dec, size);
    eb(e, st_a[lg], stn[lg]);                       /* [rdx] = the result */
    emit_incdec_cc(e, dec, size);
    return true;
}

/* alu()'s lazy state of an ADC/SBB: the result (rax), the source (rcx),
 * the carry in (r8); the host flags are left alone */
static void emit_adc_cc(Emit *e, bool sbb, unsigned size)
{
    eb(e, "\xc7\x83", 2);                           /* mov dword [rbx + cc_op], imm32 */
    e32(e, CPU_OFF(cc_op));
    e32(e, TCGL_CC(sbb ? CC_K_SBB : CC_K_ADC, size));
    eb(e, "\x48\x89\x83", 3);                      /* mov [rbx + cc_dst], rax */
    e32(e, CPU_OFF(cc_dst));
    eb(e, "\x48\x89\x8b", 3);                      /* mov [rbx + cc_src], rcx */
    e32(e, CPU_OFF(cc_src));
    eb(e, "\x4c\x89\x83", 3);                      /* mov [rbx + cc_src2], r8 */
    e32(e, CPU_OFF(cc_src2));
}

/*
 * ADC/SBB of registers (0-15) and immediates, every size, as alu() in
 * int-alu.c: the carry in (the host's CF when the flags are live, else
 * the lazy state's) in r8 and cc_src2, then the host ADC/SBB, whose flags
 * are all the guest's: afterwards the flags are live.
 */
static bool emit_inline_adc(Emit *e, const TCGLInsn *i, const Form *f, bool flags_live)
{
    unsigned size = f->size, dst, src;
    bool sbb = f->op == ALU_SBB;

    dst = f->form == FORM_RR_G ? i->reg : i->rm;
    src = f->form == FORM_RR_G ? i->rm : i->reg;
    if (dst > 15 || (f->form != FORM_RI && src > 15)) {
        return false;
    }
    emit_carry_r8(e, flags_live);
    emit_ld_reg_sized(e, false, dst, size);
    if (f->form == FORM_RI) {
        emit_imm(e, true, i->imm & tcgl_size_mask(size));
    } else {
        emit_ld_reg_sized(e, true, src, size);
    }
    eb(e, "\x41\x0f\xba\xe0\x00", 5);             /* bt r8d, 0: CF = the carry in */
    emit_alu_op(e, sbb ? 0x19 : 0x11, size);        /* adc|sbb al.., cl.. */
    emit_st_reg_sized(e, dst, size);
    emit_adc_cc(e, sbb, size);
    return true;
}

/* CMOVcc r, r (32/64-bit) and SETcc r8 (registers 0-15) while the host
 * flags are the guest's; they leave the flags alone. */
static bool emit_inline_cc_use(Emit *e, const TCGLInsn *i)
{
    unsigned cc = i->opc & 15;

    if (i->mod != 3 || !reg_ok(i->rm, i->fn == tcgl_int_setcc ? 1 : 8)) {
        return false;
    }
    if (i->fn == tcgl_int_cmovcc) {
        if ((i->opsize != 4 && i->opsize != 8) || i->reg > 15) {
            return false;
        }
        emit_ld_reg(e, false, i->reg, i->opsize);   /* rax = the destination */
        emit_ld_reg(e, true, i->rm, i->opsize);     /* rcx = the source */
        if (i->opsize == 8) {
            e8(e, 0x48);
        }
        eb(e, "\x0f", 1);                           /* cmovcc eax|rax, ecx|rcx */
        e8(e, 0x40 | cc);
        e8(e, 0xc1);
        emit_st_reg(e, i->reg);                     /* 32-bit: zero-extended either way */
        return true;
    }
    if (i->fn == tcgl_int_setcc) {
        eb(e, "\x0f", 1);                           /* setcc al */
        e8(e, 0x90 | cc);
        e8(e, 0xc0);
        emit_st_reg_sized(e, i->rm, 1);
        return true;
    }
    return false;
}

/*
 * CMP/TEST fused with the Jcc after it (the block's end), every operand
 * form and size: the comparison inline (as emit_inline_alu_mov() or
 * emit_inline_alu_mem()), then the branch from the host's own flags (the
 * same x86 operation sets the same CF/PF/ZF/SF/OF: the Jcc's own condition,
 * taken by CMOVcc) and rip as the fused handler sets it.  A memory operand
 * that misses the fast path calls the fused handler, which does all of
 * it: *slow_field is then set, and that path resumes at the block's end.
 * 16-bit code and 16-bit Jcc are left to the handler.
 */
static bool emit_inline_fused(Emit *e, const TCGLJitBlock *jb, const TCGLInsn *i,
                              uint8_t **slow_field, bool *mem)
{
    const TCGLInsn *j = i + 1;
    bool cs64 = jb->hflags & TCGL_HF_CS64;
    int64_t next_off = (int64_t)j->off + j->len;

    *mem = false;
    if (!(jb->hflags & (TCGL_HF_CS64 | TCGL_HF_CS32)) || j->opsize == 2 ||
        (int64_t)j->imm != (int32_t)j->imm || j->fn != jcc_handlers[j->opc & 15]) {
        return false;
    }
    for (int op = ALU_CMP; op <= ALU_TEST; op++) {
        for (int fm = 0; fm < ALU_NB_FORMS; fm++) {
            for (unsigned s = 0; s < 4; s++) {
                TCGLInsn probe = *i;
                Form f = { fm == FORM_RR_E || fm == FORM_RR_G || fm == FORM_RI ? FK_ALU
                                                                                : FK_ALUMEM,
                           op, fm, 1u << s };
                probe.fn = alu_handlers[op][fm][s];
                if (tcgl_int_fuse_jcc(&probe, j) != i->fn) {
                    continue;
                }
                if (f.kind == FK_ALU ? !emit_inline_alu_mov(e, i, &f)
                                     : !emit_inline_alu_mem(e, i, &f, false, slow_field)) {
                    return false;
                }
                *mem = f.kind == FK_ALUMEM;
                /* from here on only MOV/LEA/CMOV: the flags stay */
                emit_jcc_rip(e, (uint32_t)next_off, (int32_t)j->imm, j->opc, cs64);
                return true;
            }
        }
    }
    return false;
}

/* Upper bound of the bytes one instruction takes (with its exit stub). */
#define JIT_MAX_PER_INSN 384
#define JIT_MAX_FIXED 256
#define JIT_LOOKUP_CALL 32      /* emit_chain()'s tcgl_chain_lookup() call after the slots */
#define JIT_MAX_SLOW 64

/* rip = (start + off) masked as the block's mode wraps it */
static void emit_set_rip(Emit *e, const TCGLJitBlock *jb, uint32_t off)
{
    eb(e, "\x49\x8d\x84\x24", 4);                 /* lea rax, [r12 + off] */
    e32(e, off);
    if (!(jb->hflags & TCGL_HF_CS64)) {
        if (jb->ip_mask == 0xffff) {
            eb(e, "\x0f\xb7\xc0", 3);              /* movzx eax, ax */
        } else {
            eb(e, "\x89\xc0", 2);                   /* mov eax, eax */
        }
    }
    eb(e, "\x49\x89\x85", 3);                      /* mov [r13 + rip], rax */
    e32(e, (uint32_t)offsetof(X86CPUState, rip));
}

/* c->insns += n */
static void emit_count(Emit *e, unsigned n)
{
    eb(e, "\x48\x81\x83", 3);                      /* add qword [rbx + insns], imm32 */
    e32(e, CPU_OFF(insns));
    e32(e, n);
}

/* The block was invalidated after instruction k: rip after it, the count,
 * then leave (c->cur_block stays this block). */
static void emit_early_exit(Emit *e, const TCGLJitBlock *jb, unsigned k, const uint8_t *epilogue)
{
    const TCGLInsn *i = &jb->insns[k];
    emit_set_rip(e, jb, (uint32_t)i->off + i->len);
    emit_count(e, k + 1);
    e8(e, 0xe9);                                    /* jmp epilogue */
    e32(e, 0);
    patch_rel32(e->p - 4, epilogue);
}

/*
 * A link slot (TCGL_JIT_LINKS of them after the chain checks), rax = rip:
 *    0: mov rcx, imm64 (the successor's rip)     10: cmp rax, rcx
 *   13: jne next slot (rel8)                     15: mov rcx, imm64 (its block)
 *   25: cmp byte [rcx + invalid], 0              32: jne out
 *   38: jmp +46 (same page) or a 2-byte NOP (another page: the checks)
 *   40: mov rdx, imm64 (its linear page)         50: cmp rdx, [rbx + tag_exec]
 *   57: jne out                                  63: mov rdx, imm64 (its physical page)
 *   73: cmp rdx, [rbx + phys]                    80: jne out
 *   86: mov [rbx + cur_block], rcx               93: mov r12, rax
 *   96: jmp rel32 (its body)
 * Another page's successor is entered only while its execute TLB entry
 * (whose place the executor computed for the mode, which the epoch check
 * holds) maps its page, as link_ok() in cpu-exec.c checks.  An empty slot
 * holds rip ~0, this block and a jump to the exit: should rip ever be ~0,
 * it leaves with c->cur_block this block, which is right.
 */
#define SLOT_SIZE 101
#define SLOT_RIP 2
#define SLOT_OWNER 17
#define SLOT_INVALID 27
#define SLOT_OUT1 34
#define SLOT_SAME 38
#define SLOT_LIN 42
#define SLOT_TAG 53
#define SLOT_OUT2 59
#define SLOT_PHYS 65
#define SLOT_PHYSOFF 76
#define SLOT_OUT3 82
#define SLOT_JMP 97

static void emit_slot(Emit *e, const TCGLJitBlock *jb)
{
    uint8_t *p = e->p;

    eb(e, "\x48\xb9", 2);
    e64(e, ~0ULL);
    eb(e, "\x48\x39\xc8", 3);                      /* cmp rax, rcx */
    e8(e, 0x75);                                    /* jne the next slot */
    e8(e, SLOT_SIZE - 15);
    eb(e, "\x48\xb9", 2);
    e64(e, (uint64_t)(uintptr_t)jb->owner);
    eb(e, "\x80\x3d", 2);                           /* cmp byte [rip + its dead flag], 0 */
    e32(e, (uint32_t)(int32_t)(jb->dead - (e->p + 5)));
    e8(e, 0);
    eb(e, "\x0f\x85", 2);                           /* jne out */
    e32(e, 0);
    e8(e, 0xeb);                                    /* jmp over the TLB checks */
    e8(e, 86 - 40);
    eb(e, "\x48\xba", 2);                           /* mov rdx, imm64 */
    e64(e, 0);
    eb(e, "\x48\x3b\x93", 3);                      /* cmp rdx, [rbx + disp32] */
    e32(e, 0);
    eb(e, "\x0f\x85", 2);
    e32(e, 0);
    eb(e, "\x48\xba", 2);
    e64(e, 0);
    eb(e, "\x48\x3b\x93", 3);
    e32(e, 0);
    eb(e, "\x0f\x85", 2);
    e32(e, 0);
    eb(e, "\x48\x89\x8b", 3);                      /* mov [rbx + cur_block], rcx */
    e32(e, CPU_OFF(cur_block));
    eb(e, "\x49\x89\xc4", 3);                      /* mov r12, rax */
    e8(e, 0xe9);                                    /* jmp (patched) */
    e32(e, 0);
    if (e->p - p != SLOT_SIZE) {
        fprintf(stderr, "tcg-lite JIT: link slot layout\n");
        abort();
    }
}

/* After a block that ran to its end: go on into a linked successor when
 * nothing asks the executor to look (a code write into this block or a
 * flush, an exit request, an interrupt shadow, a TLB flush or mode
 * change since the executor's check, a new CS base outside 64-bit
 * mode), else to `out` (at most 2 exits: out_field[8]).  An interrupt
 * request needs no test of its own here: cpu_interrupt() kicks
 * (exit_request), and IF going from 0 to 1 with a request pending sets
 * chain_break (tcgl_set_rflags; STI, IRET and the mode changes set it
 * anyway), so a request held off by IF costs nothing per block.
 * rax_rip: rax holds the rip just stored (the checks keep it: they use
 * rdx and rcx).  Returns the first slot. */
static uint8_t *emit_chain(Emit *e, const TCGLJitBlock *jb, uint8_t **out_field, unsigned *nout,
                           bool rax_rip)
{
    uint8_t *slots;

#define JNE_OUT() do { eb(e, "\x0f\x85", 2); out_field[(*nout)++] = e->p; e32(e, 0); } while (0)
    /* exit_request, block_invalidated, chain_break (a TLB flush, a mode
     * change, an interrupt shadow or IF set with a request pending since
     * the executor's check) */
    eb(e, "\x48\x83\xbb", 3);                      /* cmp qword [rbx + chain_stop], 0 */
    e32(e, CPU_OFF(chain_stop));
    e8(e, 0);
    JNE_OUT();
    if (e->cs64) {
        /* 64-bit mode: CS's base is 0 in every block of the mode (the
         * mode is in the key, and a chain joins blocks of one key) */
    } else if ((int64_t)jb->cs_base == (int32_t)jb->cs_base) {
        eb(e, "\x48\x81\xbb", 3);                  /* cmp qword [rbx + cs base], imm32 */
        e32(e, CPU_OFF(seg_base[R_CS]));
        e32(e, (uint32_t)jb->cs_base);
    } else {
        eb(e, "\x48\xb9", 2);                       /* mov rcx, imm64 */
        e64(e, jb->cs_base);
        eb(e, "\x48\x3b\x8b", 3);                  /* cmp rcx, [rbx + cs base] */
        e32(e, CPU_OFF(seg_base[R_CS]));
    }
    if (!e->cs64) {
        JNE_OUT();
    }
#undef JNE_OUT
    if (!rax_rip) {
        eb(e, "\x49\x8b\x85", 3);                  /* mov rax, [r13 + rip] */
        e32(e, (uint32_t)offsetof(X86CPUState, rip));
    }
    slots = e->p;
    for (unsigned k = 0; k < TCGL_JIT_LINKS; k++) {
        emit_slot(e, jb);
    }
    /* no slot matched: the executor's jump cache, by a call (returns and
     * indirect jumps have more successors than slots) */
    eb(e, "\x48\x89\xdf", 3);                      /* mov rdi, rbx */
    emit_call(e, (const void *)tcgl_chain_lookup);
    eb(e, "\x48\x85\xc0", 3);                      /* test rax, rax */
    eb(e, "\x74\x09", 2);                           /* jz +9: to the epilogue, after this */
    eb(e, "\x4d\x8b\xa5", 3);                      /* mov r12, [r13 + rip] */
    e32(e, (uint32_t)offsetof(X86CPUState, rip));
    eb(e, "\xff\xe0", 2);                           /* jmp rax */
    return slots;
}

bool tcgl_jit_link(void *chain, unsigned slot, const TCGLJitLink *l)
{
    uint8_t *p = (uint8_t *)chain + slot * SLOT_SIZE;
    uint64_t o = (uint64_t)(uintptr_t)l->owner;
    uint32_t tag = l->tlb_off + (uint32_t)offsetof(TCGLTLBEntry, tag_exec);
    uint32_t phys = l->phys_off;
    int32_t rel, dead_rel;

    if (!chain || slot >= TCGL_JIT_LINKS || !rel32_ok(p + SLOT_JMP, l->body, &rel)) {
        return false;
    }
    if (!rel32_ok(p + SLOT_INVALID + 1, l->dead, &dead_rel)) {
        return false;
    }
    memcpy(p + SLOT_RIP, &l->rip, 8);
    memcpy(p + SLOT_OWNER, &o, 8);
    memcpy(p + SLOT_INVALID, &dead_rel, 4);
    if (l->same_page) {
        p[SLOT_SAME] = 0xeb;                        /* jmp over the TLB checks */
        p[SLOT_SAME + 1] = 86 - 40;
    } else {
        p[SLOT_SAME] = 0x66;                        /* 2-byte NOP: check the TLB */
        p[SLOT_SAME + 1] = 0x90;
        memcpy(p + SLOT_LIN, &l->lin_page, 8);
        memcpy(p + SLOT_TAG, &tag, 4);
        memcpy(p + SLOT_PHYS, &l->phys_page, 8);
        memcpy(p + SLOT_PHYSOFF, &phys, 4);
    }
    memcpy(p + SLOT_JMP, &rel, 4);
    jit.st.links++;
    if (!l->same_page) {
        jit.st.links_far++;
    }
    return true;
}

TCGLJitFn *tcgl_jit_compile(TCGLJitBlock *jb)
{
    Emit e;
    uint8_t *start, *epilogue, *done;
    uint8_t *out_field[8];
    unsigned nout = 0;
    uint8_t *exit_field[256] = { 0 };
    struct {
        uint8_t *field[3];                          /* jumps to the slow path */
        uint8_t *resume;
        unsigned k;
        bool store;
        int rax_reg;                                /* rax holds it at resume (the fast path) */
    } slow[JIT_MAX_SLOW];
    unsigned nslow = 0;
    size_t need = JIT_MAX_FIXED + (size_t)jb->n * JIT_MAX_PER_INSN + TCGL_JIT_LINKS * SLOT_SIZE +
                  JIT_LOOKUP_CALL;
    unsigned n = jb->n;

    if (jit.mode != 1 || n == 0 || n > 256 || !arena_map()) {
        return NULL;
    }
    jit.used = (jit.used + 15) & ~(size_t)15;
    if (jit.used + need > jit.size || jit.cells_used >= JIT_CELLS) {
        return NULL;
    }
    jb->dead = jit.base + jit.cells_used++;     /* (wasted if this fails below) */
    start = jit.base + jit.used;
    e.p = start;
    e.end = start + need;
    e.cs64 = (jb->hflags & TCGL_HF_CS64) != 0;
    e.user = (jb->hflags & TCGL_HF_CPL_MASK) == 3;
    e.rax_at = NULL;
    e.rax_reg = 0;

    /* prologue: rbx = c, r12 = start, r13 = c->env */
    e8(&e, 0x53);                                   /* push rbx */
    eb(&e, "\x41\x54", 2);                          /* push r12 */
    eb(&e, "\x41\x55", 2);                          /* push r13 */
    eb(&e, "\x48\x89\xfb", 3);                      /* mov rbx, rdi */
    eb(&e, "\x49\x89\xf4", 3);                      /* mov r12, rsi */
    eb(&e, "\x4c\x8b\xab", 3);                      /* mov r13, [rbx + disp32] */
    e32(&e, (uint32_t)offsetof(TCGLCPU, env));
    jb->body = e.p;                                 /* chained predecessors enter here */
    jb->chain = NULL;

    bool flags_live = false;    /* the host flags are the guest's (the last was inline ALU/INC/DEC) */
    int cc_kind = -1;           /* the lazy flags' kind when this block's inline code set them */
    unsigned cc_size = 0;
    bool tail_rax_rip = !jb->last_branch;   /* the block's end finds rip in rax */

    for (unsigned k = 0; k < n; k++) {
        const TCGLInsn *i = &jb->insns[k];
        Form f = classify(i);
        bool pure = is_pure(i, &f);
        bool live = flags_live;

        flags_live = false;
        e.flags_dead = false;
        if (jit.inline_on) {
            unsigned msize = 0;
            unsigned s_op, s_by, s_size;
            if ((f.kind == FK_ALU && f.op != ALU_ADC && f.op != ALU_SBB) ||
                (f.kind == FK_ALUMEM && f.op != ALU_ADC && f.op != ALU_SBB) ||
                i->fn == tcgl_int_cmpxchg || i->fn == tcgl_int_xadd ||
                (i->fn == tcgl_int_neg && i->mod == 3) ||
                (f.kind == FK_PURE && shift_form(i, &s_op, &s_by, &s_size))) {
                e.flags_dead = flags_dead_after(jb, k, n);
            }
            int mkind = f.kind == FK_OTHER ? mem_form(i, &msize) : MEM_NONE;
            uint8_t *mark = e.p;
            if (i->fn == tcgl_int_nop) {
                /* NOP, hint NOPs, PREFETCH, fences: nothing to do (the
                 * kernel's every function starts with a 5-byte NOP, the
                 * ftrace site); the host flags stay the guest's */
                flags_live = live;
                jit.st.inlined++;
                continue;
            }
            if (k + 1 == n && jb->fused_jcc && nslow < JIT_MAX_SLOW) {
                bool mem;
                if (emit_inline_fused(&e, jb, i, slow[nslow].field, &mem)) {
                    tail_rax_rip = true;
                    if (mem) {
                        slow[nslow].k = k;
                        slow[nslow].store = false;
                        slow[nslow].resume = NULL;  /* the block's end */
                        nslow++;
                    }
                    jit.st.inlined++;
                    continue;
                }
                rollback(&e, mark);
            }
            if (k + 1 == n && jb->last_branch && !jb->fused_jcc && nslow < JIT_MAX_SLOW) {
                bool slow_used;
                if (!live && i->fn == jcc_handlers[i->opc & 15]) {
                    live = emit_flags_remat(&e, cc_kind, cc_size);
                }
                if (emit_inline_branch(&e, jb, i, slow[nslow].field, &slow_used, live)) {
                    tail_rax_rip = true;
                    if (slow_used) {
                        slow[nslow].k = k;
                        slow[nslow].store = false;
                        slow[nslow].resume = NULL;  /* the block's end */
                        nslow++;
                    }
                    jit.st.inlined++;
                    continue;
                }
                rollback(&e, mark);
            }
            if ((i->fn == tcgl_int_push_r || i->fn == tcgl_int_pop_r) && nslow < JIT_MAX_SLOW) {
                bool is_push = i->fn == tcgl_int_push_r;
                unsigned m = pushpop_run(jb, k, n, is_push), nslow0 = nslow;
                uint8_t *over;
                if (m >= 2 && nslow + m <= JIT_MAX_SLOW &&
                    emit_pushpop_run(&e, jb, k, m, is_push, slow[nslow].field, &over)) {
                    /* its slow path: instruction k by its handler, then
                     * the others inline one by one */
                    slow[nslow].k = k;
                    slow[nslow].store = is_push;
                    slow[nslow].resume = e.p;
                    slow[nslow].rax_reg = -1;
                    nslow++;
                    bool ok = true;
                    for (unsigned j = 1; j < m && ok; j++) {
                        ok = emit_inline_pushpop(&e, jb, &jb->insns[k + j], is_push,
                                                 slow[nslow].field);
                        if (ok) {
                            slow[nslow].k = k + j;
                            slow[nslow].store = is_push;
                            slow[nslow].resume = e.p;
                            slow[nslow].rax_reg = e.rax_at == e.p ? (int)e.rax_reg : -1;
                            nslow++;
                        }
                    }
                    if (ok) {
                        patch_rel32(over, e.p);
                        e.rax_at = NULL;
                        jit.st.inlined += m;
                        jit.st.pushpop_runs++;
                        k += m - 1;
                        continue;
                    }
                    nslow = nslow0;     /* (cannot happen: pushpop_run checked
                                         * what emit_inline_pushpop needs) */
                }
                rollback(&e, mark);
                if (emit_inline_pushpop(&e, jb, i, is_push, slow[nslow].field)) {
                    slow[nslow].k = k;
                    slow[nslow].store = is_push;
                    slow[nslow].resume = e.p;
                    slow[nslow].rax_reg = e.rax_at == e.p ? (int)e.rax_reg : -1;
                    nslow++;
                    jit.st.inlined++;
                    continue;
                }
                rollback(&e, mark);
            }
            if ((i->fn == tcgl_int_inc || i->fn == tcgl_int_dec) && i->mod != 3 &&
                nslow < JIT_MAX_SLOW) {
                bool dec = i->fn == tcgl_int_dec;
                if (emit_inline_incdec_mem(&e, i, dec, live, slow[nslow].field)) {
                    slow[nslow].k = k;
                    slow[nslow].store = true;
                    slow[nslow].resume = e.p;
                    slow[nslow].rax_reg = e.rax_at == e.p ? (int)e.rax_reg : -1;
                    nslow++;
                    cc_kind = dec ? CC_K_DEC : CC_K_INC;    /* rebuilt after a slow path too */
                    cc_size = i->opsize;
                    jit.st.inlined++;
                    continue;
                }
                rollback(&e, mark);
            }
            if (i->fn == tcgl_int_cmpxchg && nslow < JIT_MAX_SLOW) {
                if (emit_inline_cmpxchg(&e, i, slow[nslow].field)) {
                    slow[nslow].k = k;
                    slow[nslow].store = true;
                    slow[nslow].resume = e.p;
                    slow[nslow].rax_reg = -1;
                    nslow++;
                    cc_kind = e.flags_dead ? -1 : CC_K_SUB;  /* rebuilt after a slow path too */
                    cc_size = i->opsize;
                    jit.st.inlined++;
                    continue;
                }
                rollback(&e, mark);
            }
            if (i->fn == tcgl_int_xadd && nslow < JIT_MAX_SLOW) {
                if (emit_inline_xadd(&e, i, slow[nslow].field)) {
                    slow[nslow].k = k;
                    slow[nslow].store = true;
                    slow[nslow].resume = e.p;
                    slow[nslow].rax_reg = e.rax_at == e.p ? (int)e.rax_reg : -1;
                    nslow++;
                    cc_kind = e.flags_dead ? -1 : CC_K_ADD;  /* rebuilt after a slow path too */
                    cc_size = i->opsize;
                    jit.st.inlined++;
                    continue;
                }
                rollback(&e, mark);
            }
            if (i->fn == tcgl_int_neg && emit_inline_neg(&e, i)) {
                flags_live = !e.flags_dead;
                cc_kind = e.flags_dead ? -1 : CC_K_SUB;
                cc_size = i->opsize;
                jit.st.inlined++;
                continue;
            }
            rollback(&e, mark);
            if (i->fn == tcgl_int_not && emit_inline_not(&e, i)) {
                flags_live = live;                  /* (the host's flags untouched) */
                jit.st.inlined++;
                continue;
            }
            rollback(&e, mark);
            int mform = f.kind == FK_OTHER ? mul_form(i) : MUL_NONE;
            if (mform != MUL_NONE && nslow < JIT_MAX_SLOW) {
                slow[nslow].field[0] = slow[nslow].field[1] = slow[nslow].field[2] = NULL;
                if (emit_inline_mul(&e, i, mform, slow[nslow].field)) {
                    if (i->mod != 3) {
                        slow[nslow].k = k;
                        slow[nslow].store = false;
                        slow[nslow].resume = e.p;
                        slow[nslow].rax_reg = e.rax_at == e.p ? (int)e.rax_reg : -1;
                        nslow++;
                    }
                    cc_kind = -1;                   /* MUL kind: not rebuilt */
                    jit.st.inlined++;
                    continue;
                }
                rollback(&e, mark);
            }
            if (f.kind == FK_ALUMEM && (f.op == ALU_ADC || f.op == ALU_SBB) &&
                nslow < JIT_MAX_SLOW) {
                bool l = live || emit_flags_remat(&e, cc_kind, cc_size);
                if (emit_inline_alu_mem(&e, i, &f, l, slow[nslow].field)) {
                    cc_kind = f.op == ALU_SBB ? CC_K_SBB : CC_K_ADC;  /* rebuilt after a slow path too */
                    cc_size = f.size;
                    slow[nslow].k = k;
                    slow[nslow].store = f.form != FORM_RM;
                    slow[nslow].resume = e.p;
                    slow[nslow].rax_reg = e.rax_at == e.p ? (int)e.rax_reg : -1;
                    nslow++;
                    jit.st.inlined++;
                    continue;
                }
                rollback(&e, mark);
            }
            if (f.kind == FK_ALUMEM && f.op != ALU_ADC && f.op != ALU_SBB && nslow < JIT_MAX_SLOW) {
                if (emit_inline_alu_mem(&e, i, &f, false, slow[nslow].field)) {
                    bool logic;
                    alu_opcode(f.op, &logic);
                    cc_kind = e.flags_dead ? -1 : logic ? CC_K_LOGIC : f.op == ALU_ADD ? CC_K_ADD
                                                                                      : CC_K_SUB;
                    cc_size = f.size;
                    slow[nslow].k = k;
                    slow[nslow].store = f.form != FORM_RM && f.op != ALU_CMP && f.op != ALU_TEST;
                    slow[nslow].resume = e.p;
                    slow[nslow].rax_reg = e.rax_at == e.p ? (int)e.rax_reg : -1;
                    nslow++;
                    jit.st.inlined++;
                    continue;
                }
                rollback(&e, mark);
            }
            if (is_ext(mkind) && emit_inline_movzx_reg(&e, i, mkind)) {
                jit.st.inlined++;
                continue;
            }
            rollback(&e, mark);
            if (mkind != MEM_NONE && i->mod != 3 && nslow < JIT_MAX_SLOW) {
                if (emit_inline_mem(&e, i, mkind, msize, slow[nslow].field)) {
                    slow[nslow].k = k;
                    slow[nslow].store = mkind == MEM_ST || mkind == MEM_STI;
                    slow[nslow].resume = e.p;
                    slow[nslow].rax_reg = e.rax_at == e.p ? (int)e.rax_reg : -1;
                    nslow++;
                    jit.st.inlined++;
                    continue;
                }
                rollback(&e, mark);                     /* drop a partial emission */
            }
            if (f.kind == FK_ALU && (f.op == ALU_ADC || f.op == ALU_SBB)) {
                bool l = live || emit_flags_remat(&e, cc_kind, cc_size);
                if (emit_inline_adc(&e, i, &f, l)) {
                    jit.st.inlined++;
                    flags_live = true;
                    cc_kind = f.op == ALU_SBB ? CC_K_SBB : CC_K_ADC;
                    cc_size = f.size;
                    continue;
                }
                rollback(&e, mark);
            }
            if ((f.kind == FK_ALU || f.kind == FK_MOV) && emit_inline_alu_mov(&e, i, &f)) {
                jit.st.inlined++;
                flags_live = f.kind == FK_ALU && !e.flags_dead;
                if (f.kind == FK_ALU) {
                    bool logic;
                    alu_opcode(f.op, &logic);
                    cc_kind = e.flags_dead ? -1 : logic ? CC_K_LOGIC : f.op == ALU_ADD ? CC_K_ADD
                                                                                     : CC_K_SUB;
                    cc_size = f.size;
                }
                continue;
            }
            if (!live && (i->fn == tcgl_int_cmovcc || i->fn == tcgl_int_setcc) && i->mod == 3) {
                live = emit_flags_remat(&e, cc_kind, cc_size);
            }
            if (live && emit_inline_cc_use(&e, i)) {
                jit.st.inlined++;
                flags_live = true;
                continue;
            }
            rollback(&e, mark);
            if (rot_form(i) && flags_dead_after(jb, k, n)) {
                emit_inline_rot_dead(&e, i);
                jit.st.inlined++;
                continue;                           /* the lazy flags untouched: cc_kind stays */
            }
            if (f.kind == FK_PURE) {
                unsigned sa, sb, ss;
                if (shift_form(i, &sa, &sb, &ss) && emit_inline_shift(&e, i, sa, sb, ss)) {
                    jit.st.inlined++;
                    cc_kind = -1;                   /* SHL/SAR kinds: not rebuilt */
                    continue;
                }
                rollback(&e, mark);
            }
            for (unsigned d = 0; d < 2 && f.kind == FK_PURE; d++) {
                for (unsigned sz = 0; sz < 4; sz++) {
                    if (i->fn == incdec_reg_handlers[d][sz] && i->mod == 3) {
                        if (!live) {
                            live = emit_flags_remat(&e, cc_kind, cc_size);
                        }
                        if (emit_inline_incdec(&e, i, d == 1, 1u << sz, live)) {
                            flags_live = true;
                            cc_kind = d == 1 ? CC_K_DEC : CC_K_INC;
                            cc_size = 1u << sz;
                        }
                        break;
                    }
                }
            }
            if (flags_live) {
                jit.st.inlined++;
                continue;
            }
            rollback(&e, mark);
            if (f.kind == FK_LEA && emit_inline_lea(&e, i)) {
                jit.st.inlined++;
                continue;
            }
            rollback(&e, mark);
        }
        cc_kind = -1;                               /* a handler: the flags are its business */
        if (pure) {
            /* no fault, no rip read, no memory write: just the call */
            eb(&e, "\x48\x89\xdf", 3);              /* mov rdi, rbx */
            emit_mov_rsi(&e, (uint64_t)(uintptr_t)i);
            emit_call(&e, (const void *)i->fn);
            continue;
        }
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
    done = e.p;
    /* the block's end, as run_block(): rip after a non-branch last
     * instruction, the count, then on to a chained successor */
    if (!jb->last_branch) {
        const TCGLInsn *last = &jb->insns[n - 1];
        emit_set_rip(&e, jb, (uint32_t)last->off + last->len);
    }
    emit_count(&e, n);
    if (jit.chain_on && jb->owner) {
        jb->chain = emit_chain(&e, jb, out_field, &nout, tail_rax_rip);
    }
    epilogue = e.p;
    for (unsigned k = 0; k < nout; k++) {
        patch_rel32(out_field[k], epilogue);
    }
    if (jb->chain) {
        for (unsigned k = 0; k < TCGL_JIT_LINKS; k++) {
            uint8_t *sl = (uint8_t *)jb->chain + k * SLOT_SIZE;
            patch_rel32(sl + SLOT_JMP, epilogue);
            patch_rel32(sl + SLOT_OUT1, epilogue);
            patch_rel32(sl + SLOT_OUT2, epilogue);
            patch_rel32(sl + SLOT_OUT3, epilogue);
        }
    }
    eb(&e, "\x41\x5d", 2);                          /* pop r13 */
    eb(&e, "\x41\x5c", 2);                          /* pop r12 */
    e8(&e, 0x5b);                                   /* pop rbx */
    e8(&e, 0xc3);                                   /* ret */
    /* slow paths of inline memory accesses: the handler, as stage 1 */
    e.rax_at = NULL;
    for (unsigned s = 0; s < nslow; s++) {
        const TCGLInsn *i = &jb->insns[slow[s].k];
        for (int f = 0; f < 3; f++) {
            if (slow[s].field[f]) {
                patch_rel32(slow[s].field[f], e.p);
            }
        }
        eb(&e, "\x48\xb8", 2);                      /* mov rax, &jit.st.slow_paths */
        e64(&e, (uint64_t)(uintptr_t)&jit.st.slow_paths);
        eb(&e, "\x48\xff\x00", 3);                  /* inc qword [rax] */
        eb(&e, "\x49\x8d\x84\x24", 4);              /* lea rax, [r12 + off] */
        e32(&e, i->off);
        eb(&e, "\x49\x89\x85", 3);                  /* mov [r13 + rip], rax */
        e32(&e, (uint32_t)offsetof(X86CPUState, rip));
        eb(&e, "\x48\x89\xdf", 3);                  /* mov rdi, rbx */
        emit_mov_rsi(&e, (uint64_t)(uintptr_t)i);
        emit_call(&e, (const void *)i->fn);
        /* the fast path reaches its resume point with rax holding a
         * guest register (the code after may count on it: Emit.rax_at),
         * so this path loads it too; otherwise rax gets a value no code
         * can mistake for a register's, so that such a mistake shows */
        if (slow[s].resume && slow[s].rax_reg >= 0) {
            emit_ld_reg(&e, false, (unsigned)slow[s].rax_reg, 8);
        } else if (!slow[s].resume) {
            /* the block's end, whose chain may take rip from rax */
            eb(&e, "\x49\x8b\x85", 3);              /* mov rax, [r13 + rip] */
            e32(&e, (uint32_t)offsetof(X86CPUState, rip));
        } else {
            e8(&e, 0xb8);                           /* mov eax, 0xdeadbeef */
            e32(&e, 0xdeadbeefu);
        }
        if (slow[s].store && slow[s].k + 1 < n) {
            eb(&e, "\x80\xbb", 2);                  /* cmp byte [rbx + block_invalidated], 0 */
            e32(&e, (uint32_t)offsetof(TCGLCPU, block_invalidated));
            e8(&e, 0);
            uint8_t *leave;
            eb(&e, "\x0f\x85", 2);                  /* jne: leave after instruction k */
            leave = e.p;
            e32(&e, 0);
            e8(&e, 0xe9);                           /* jmp resume */
            e32(&e, 0);
            patch_rel32(e.p - 4, slow[s].resume);
            patch_rel32(leave, e.p);
            emit_early_exit(&e, jb, slow[s].k, epilogue);
        } else {
            e8(&e, 0xe9);                           /* jmp resume (or the block's end) */
            e32(&e, 0);
            patch_rel32(e.p - 4, slow[s].resume ? slow[s].resume : done);
        }
    }
    /* exit stubs: the block was invalidated after instruction k */
    for (unsigned k = 0; k + 1 < n; k++) {
        if (!exit_field[k]) {
            continue;
        }
        patch_rel32(exit_field[k], e.p);
        emit_early_exit(&e, jb, k, epilogue);
    }
    if (e.p > e.end) {
        /* the per-instruction bound is wrong: a bug, not a guest input */
        fprintf(stderr, "tcg-lite JIT: block code overran its bound\n");
        abort();
    }
    jit.used = (size_t)(e.p - jit.base);
    jit.st.blocks++;
    if (jit.perfmap) {
        /* perf's JIT symbol map: host code range -> the guest block's
         * linear address (bench/guest_profile.py names them) */
        fprintf(jit.perfmap, "%lx %lx tcgl_guest_%" PRIx64 "\n", (unsigned long)(uintptr_t)start,
                (unsigned long)(e.p - start), jb->pc);
        fflush(jit.perfmap);
    }
    return (TCGLJitFn *)(void *)start;
}

void tcgl_jit_flush(void)
{
    if (jit.base) {
        memset(jit.base, 0, jit.cells_used);
    }
    jit.cells_used = 0;
    if (jit.used > JIT_CELLS) {
        jit.st.flushes++;
        if (jit.perfmap) {
            /* the arena is reused: older names for these addresses are stale */
            fprintf(stderr, "tcg-lite JIT: code arena flushed (perf map names before this are stale)\n");
        }
    }
    jit.used = JIT_CELLS;
}

static bool jit_available(Error **errp)
{
    (void)errp;
    return true;
}

#else /* !__x86_64__ */

TCGLJitFn *tcgl_jit_compile(TCGLJitBlock *jb)
{
    (void)jb;
    return NULL;
}

bool tcgl_jit_link(void *chain, unsigned slot, const TCGLJitLink *l)
{
    (void)chain; (void)slot; (void)l;
    return false;
}

void tcgl_jit_flush(void)
{
}

static bool jit_available(Error **errp)
{
    error_setg(errp, "jit=on: the tcg-lite JIT needs an x86-64 host");
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
    s = getenv("KVMPC_TCGL_PERFMAP");
    if (s && jit.mode == 1 && !jit.perfmap) {
        bool on = false;
        if (!env_bool(s, &on)) {
            fprintf(stderr, "KVMPC_TCGL_PERFMAP=%s: expected on or off; off\n", s);
        } else if (on) {
            char path[64];
            snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
            jit.perfmap = fopen(path, "w");
            if (!jit.perfmap) {
                fprintf(stderr, "KVMPC_TCGL_PERFMAP: cannot create %s: %s\n", path, strerror(errno));
            }
        }
    }
    s = getenv("KVMPC_TCGL_JIT_CHAIN");
    if (s) {
        bool on = true;
        if (!env_bool(s, &on)) {
            fprintf(stderr, "KVMPC_TCGL_JIT_CHAIN=%s: expected on or off; on\n", s);
        }
        jit.chain_on = on;
    }
    s = getenv("KVMPC_TCGL_JIT_INLINE");
    if (s) {
        bool on = true;
        if (!env_bool(s, &on)) {
            fprintf(stderr, "KVMPC_TCGL_JIT_INLINE=%s: expected on or off; on\n", s);
        }
        jit.inline_on = on;
    }
    if (!jit.window_set) {
        s = getenv("KVMPC_TCGL_JIT_WINDOW_MS");
        jit.window_ms = JIT_DEFAULT_WINDOW_MS;
        jit.window_set = true;
        if (s) {
            char *end;
            unsigned long v = strtoul(s, &end, 0);
            if (*end || v > 100000) {
                fprintf(stderr, "KVMPC_TCGL_JIT_WINDOW_MS=%s: expected 0..100000; using %u\n",
                        s, JIT_DEFAULT_WINDOW_MS);
            } else {
                jit.window_ms = (unsigned)v;
            }
        }
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

unsigned tcgl_jit_window_ms(void)
{
    return jit.window_set ? jit.window_ms : JIT_DEFAULT_WINDOW_MS;
}

void tcgl_jit_set_window_ms(unsigned ms)
{
    jit.window_ms = ms;
    jit.window_set = true;
}

void tcgl_jit_stats(TCGLJitStats *s)
{
    *s = jit.st;
    s->used = jit.used > JIT_CELLS ? jit.used - JIT_CELLS : 0;     /* code bytes */
    s->size = jit.size ? jit.size - JIT_CELLS : 0;
}

void tcgl_jit_set_inline(bool on)
{
    jit.inline_on = on;
}

void tcgl_jit_set_chain(bool on)
{
    jit.chain_on = on;
}

bool tcgl_jit_chain_enabled(void)
{
    return jit.mode == 1 && jit.chain_on;
}

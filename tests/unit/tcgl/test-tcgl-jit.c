/*
 * tcg-lite JIT backend (accel/tcg-lite/jit.c): the same guest code run by
 * the interpreter alone and with every block compiled before its first
 * run (threshold 1), compared: registers, rip, RFLAGS, the data memory,
 * the instruction count and the event that stopped it.  Generated loops of
 * integer instructions (ALU, MOV, LEA, shifts, multiply/divide, stack,
 * SETcc/CMOVcc, forward Jcc) in 64- and 32-bit mode, with faults (#DE,
 * #GP, #UD) inside compiled blocks; self-modifying code in a compiled
 * loop; a block that is compiled, then dropped by a write and decoded
 * anew; -accel tcg,jit= errors.  Core stubs (tests/unit/tcgl/stub-core.c):
 * no paging, so #PF with CR2 inside compiled code is covered by the guest
 * programs and the differential oracle run with the JIT (tests/meson.build).
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include "hw/i386/x86-irq.h"
#include "stub-core.h"
#include "jit.h"
#include "mmu.h"

#define CODE_AT  0x2000u
/* the data the generated code can reach: rbx = 0x10400 (whose bits 8-15
 * byte forms may change: BH) plus or minus a disp8, the stack at 0x10800 */
#define DATA_AT  0xf000u
#define DATA_LEN 0x12000u

typedef struct Result {
    uint64_t regs[16], rip, rflags, insns;
    unsigned nr_events;
    int vector;
    uint8_t data[DATA_LEN];
} Result;

static uint64_t *R(void) { return stub.c.env->regs; }

/* Flushes every block (and its host code) and sets the JIT mode. */
static void jit_mode(bool on, unsigned threshold)
{
    tcgl_blocks_flush();
    g_assert_true(tcgl_jit_set_enabled(on, NULL));
    tcgl_jit_set_threshold(threshold);
}

/* With tlb_hits, the data pages hit in the TLB (the inline paths of mmu.h
 * and the JIT's inline loads and stores go straight to RAM); the code
 * pages never do, so code writes still reach the block cache. */
static bool tlb_hits;
/* With tlb_hits, this data page's TLB entry points REMAP_BY bytes further
 * into RAM than the slow path (identity) goes (0: none). */
static uint64_t remap_page;
#define REMAP_BY 0x40000u

static void fill_tlb(void)
{
    for (uint64_t pg = DATA_AT; pg < DATA_AT + DATA_LEN; pg += TCGL_PAGE_SIZE) {
        for (int m = 0; m < TCGL_NB_MMU; m++) {
            TCGLTLBEntry *te = &stub.c.tlb[m][(pg >> TCGL_PAGE_BITS) & (TCGL_TLB_SIZE - 1)];
            te->tag_read = te->tag_write = pg;
            te->addend = (uintptr_t)stub.ram + (pg == remap_page ? REMAP_BY : 0);
            *tcgl_tlb_phys(&stub.c, te) = pg + (pg == remap_page ? REMAP_BY : 0);
        }
    }
}

static void run(int mode, const uint8_t *code, size_t len, const uint64_t *regs0,
                const uint8_t *data0, Result *out)
{
    stub_reset(mode);
    /* FS and GS have bases in every mode (in 64-bit mode only they do):
     * [rbx + d8] through them still lands in the data pages */
    stub.c.env->segs[R_FS].base = 0x100;
    stub.c.env->segs[R_GS].base = 0x380;
    tcgl_update_hflags(&stub.c);
    if (tlb_hits) {
        fill_tlb();
    }
    stub_write(CODE_AT, code, len);
    stub_write(DATA_AT, data0, DATA_LEN);
    memcpy(R(), regs0, 16 * sizeof(uint64_t));
    stub.c.env->rip = CODE_AT;
    stub.nr_events = 0;
    stub.c.insns = 0;
    tcgl_cpu_exec(&stub.c);
    memcpy(out->regs, R(), sizeof(out->regs));
    out->rip = stub.c.env->rip;
    out->rflags = tcgl_get_rflags(&stub.c);
    out->insns = stub.c.insns;
    out->nr_events = stub.nr_events;
    out->vector = stub.nr_events ? stub.last_event.vector : -1;
    memcpy(out->data, stub.ram + DATA_AT, DATA_LEN);
}

static void compare(const Result *a, const Result *b, const char *what, unsigned seed)
{
    if (memcmp(a->regs, b->regs, sizeof(a->regs)) || a->rip != b->rip ||
        a->rflags != b->rflags || a->insns != b->insns || a->nr_events != b->nr_events ||
        a->vector != b->vector || memcmp(a->data, b->data, DATA_LEN)) {
        fprintf(stderr, "%s, case %u: interpreter and JIT differ\n", what, seed);

        for (int k = 0; k < 16; k++) {
            if (a->regs[k] != b->regs[k]) {
                fprintf(stderr, "  r%d %#llx vs %#llx\n", k, (unsigned long long)a->regs[k],
                        (unsigned long long)b->regs[k]);
            }
        }
        fprintf(stderr, "  rip %#llx vs %#llx, rflags %#llx vs %#llx, insns %llu vs %llu, "
                "vector %d vs %d\n", (unsigned long long)a->rip, (unsigned long long)b->rip,
                (unsigned long long)a->rflags, (unsigned long long)b->rflags,
                (unsigned long long)a->insns, (unsigned long long)b->insns, a->vector, b->vector);
        g_assert_not_reached();
    }
}

/* ---- generated code ------------------------------------------------------------ */

typedef struct Gen {
    uint8_t b[4096];
    size_t n;
    GRand *r;
    bool x64;
} Gen;

static void put8(Gen *g, unsigned v) { g->b[g->n++] = (uint8_t)v; }

static void put32(Gen *g, uint32_t v)
{
    for (int k = 0; k < 4; k++) {
        put8(g, v >> (8 * k));
    }
}

static unsigned rnd(Gen *g, unsigned n) { return (unsigned)g_rand_int_range(g->r, 0, (gint32)n); }

/* A register the generated code may write: not rsp, rbx (the data base),
 * r15 (the loop counter); 64-bit mode may use r8-r14. */
static unsigned dst_reg(Gen *g)
{
    static const unsigned r64[] = { 0, 1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 };
    static const unsigned r32[] = { 0, 1, 2, 5, 6, 7 };
    return g->x64 ? r64[rnd(g, G_N_ELEMENTS(r64))] : r32[rnd(g, G_N_ELEMENTS(r32))];
}

/* Prefixes, opcode bytes, ModRM (+SIB/disp) for an instruction whose
 * ModRM.reg is `reg` (a register or a /digit); the r/m operand is a
 * writable register or memory at [rbx + disp8] (reads and writes of the
 * data area) or, rarely, far outside RAM (#GP). */
static bool modrm_insn(Gen *g, const uint8_t *op, unsigned oplen, unsigned reg, bool w,
                       bool allow_66, bool mem_ok)
{
    unsigned rm = dst_reg(g), rex = 0;
    int kind = mem_ok ? (int)rnd(g, 8) : 0;     /* 0-4 register, 5-6 [rbx+d8], 7 rare far */
    bool o16 = allow_66 && !w && rnd(g, 6) == 0;

    if (kind == 7 && rnd(g, 40) != 0) {
        kind = 5;
    }
    if (kind == 5 && rnd(g, 3) == 0) {
        put8(g, rnd(g, 2) ? 0x64 : 0x65);           /* FS: or GS: (bases set in run()) */
    }
    if (o16) {
        put8(g, 0x66);
    }
    if (g->x64) {
        rex = (w ? 8 : 0) | ((reg & 8) ? 4 : 0) | (kind <= 4 && (rm & 8) ? 1 : 0);
        if (rex || rnd(g, 4) == 0) {
            put8(g, 0x40 | rex);
        }
    }
    for (unsigned k = 0; k < oplen; k++) {
        put8(g, op[k]);
    }
    if (kind <= 4) {
        put8(g, 0xc0 | (reg & 7) << 3 | (rm & 7));
    } else if (kind <= 6) {
        put8(g, 0x40 | (reg & 7) << 3 | 3);             /* [rbx + disp8] */
        put8(g, (uint8_t)(rnd(g, 0xf0) - 0x78));
    } else {
        put8(g, 0x80 | (reg & 7) << 3 | 3);             /* [rbx + 0x7ff00000]: outside RAM */
        put32(g, 0x7ff00000u);
    }
    return kind > 4;
}

/* A LOCK prefix, one time in three, on the instruction put from `at` on
 * when its operand is memory (the read-modify-write forms only). */
static void maybe_lock(Gen *g, size_t at, bool mem)
{
    if (mem && rnd(g, 3) == 0) {
        memmove(g->b + at + 1, g->b + at, g->n - at);
        g->b[at] = 0xf0;
        g->n++;
    }
}

/* An ALU, INC or DEC of registers (the JIT then keeps the guest flags in
 * the host's for a Jcc, CMOVcc or SETcc right after it). */
static void gen_flag_setter(Gen *g)
{
    uint8_t op[1];
    bool w = g->x64 && rnd(g, 2);

    if (rnd(g, 3) == 0) {
        op[0] = (uint8_t)(0xfe + rnd(g, 2));        /* INC/DEC r */
        modrm_insn(g, op, 1, rnd(g, 2), w, true, false);
    } else {
        op[0] = (uint8_t)(rnd(g, 8) << 3 | rnd(g, 4));
        modrm_insn(g, op, 1, dst_reg(g), w, true, false);
    }
}

static void gen_insn(Gen *g)
{
    unsigned k = rnd(g, 24), reg = dst_reg(g);
    bool w = g->x64 && rnd(g, 2), mem;
    uint8_t op[3];
    size_t at;

    if (rnd(g, 10) == 0) {
        /* MOV r, [rbx + d8] then an ALU operation with r as its
         * destination: the JIT leaves out reloading r from the CPU state
         * (rax still holds it), but not after the load's slow path */
        unsigned src = dst_reg(g);
        if (g->x64) {
            put8(g, 0x48 | ((reg & 8) ? 4 : 0));
        }
        put8(g, 0x8b);
        put8(g, 0x40 | (reg & 7) << 3 | 3);
        put8(g, (uint8_t)(rnd(g, 0xf0) - 0x78));
        if (g->x64) {
            put8(g, (w ? 0x48 : 0x40) | ((src & 8) ? 4 : 0) | ((reg & 8) ? 1 : 0));
        }
        put8(g, (uint8_t[]){ 0x01, 0x29, 0x31, 0x21, 0x89 }[rnd(g, 5)]);
        put8(g, 0xc0 | (src & 7) << 3 | (reg & 7));
        return;
    }

    switch (k) {
    case 0: case 1: case 2: case 3:
        /* ALU r/m, r and r, r/m: ADD OR ADC SBB AND SUB XOR CMP, any size;
         * LOCKed r/m, r (but CMP) */
        op[0] = (uint8_t)(rnd(g, 8) << 3 | rnd(g, 4));
        at = g->n;
        mem = modrm_insn(g, op, 1, reg, w, true, true);
        maybe_lock(g, at, mem && !(op[0] & 2) && (op[0] >> 3) != 7);
        break;
    case 4: case 5:
        /* ALU r/m, imm8 / imm32 (80, 81, 83) */
        op[0] = (uint8_t)(0x80 + (rnd(g, 3) == 0 ? 0 : rnd(g, 2) ? 1 : 3));
        at = g->n;
        k = rnd(g, 8);
        mem = modrm_insn(g, op, 1, k, w, false, true);
        if (op[0] == 0x81) {
            put32(g, g_rand_int(g->r));
        } else {
            put8(g, g_rand_int(g->r));
        }
        maybe_lock(g, at, mem && k != 7);
        break;
    case 6:
        /* TEST r/m, r */
        op[0] = (uint8_t)(0x84 + rnd(g, 2));
        modrm_insn(g, op, 1, reg, w, true, true);
        break;
    case 7: case 8:
        /* MOV r/m, r and r, r/m */
        op[0] = (uint8_t)(0x88 + rnd(g, 4));
        modrm_insn(g, op, 1, reg, w, true, true);
        break;
    case 9:
        /* MOV r, imm32 / imm64 */
        if (g->x64) {
            put8(g, 0x40 | (w ? 8 : 0) | (reg >> 3));
        }
        put8(g, 0xb8 + (reg & 7));
        put32(g, g_rand_int(g->r));
        if (w) {
            put32(g, g_rand_int(g->r));
        }
        break;
    case 10: {
        /* LEA r, [rbx + rX*s + disp8] */
        unsigned idx = dst_reg(g);
        if (g->x64) {
            put8(g, 0x40 | (w ? 8 : 0) | (reg & 8 ? 4 : 0) | (idx & 8 ? 2 : 0));
        }
        put8(g, 0x8d);
        put8(g, 0x44 | (reg & 7) << 3);
        put8(g, rnd(g, 4) << 6 | (idx & 7) << 3 | 3);
        put8(g, g_rand_int(g->r));
        break;
    }
    case 11:
        /* INC/DEC/NOT/NEG r/m */
        if (rnd(g, 2)) {
            op[0] = (uint8_t)(0xfe + rnd(g, 2));
            at = g->n;
            mem = modrm_insn(g, op, 1, rnd(g, 2), w, true, true);
            maybe_lock(g, at, mem);
        } else {
            op[0] = (uint8_t)(0xf6 + rnd(g, 2));
            modrm_insn(g, op, 1, 2 + rnd(g, 2), w, true, true);
        }
        break;
    case 12:
        /* shifts and rotates by imm8, 1, CL; half the time a register
         * ROL/ROR by imm8 or 1, up to two register MOVs, then an ALU
         * or INC/DEC of registers (ADC/SBB too, which read the rotate's
         * CF, as INC/DEC keeps it): the JIT's rotate whose flags are
         * dead (or, for ADC/SBB and INC/DEC, not) */
        if (rnd(g, 2)) {
            unsigned between = rnd(g, 3);
            op[0] = (uint8_t)(rnd(g, 2) ? 0xc1 : 0xd1);
            modrm_insn(g, op, 1, rnd(g, 2), w, true, false);
            if (op[0] == 0xc1) {
                put8(g, rnd(g, 70));
            }
            while (between--) {
                op[0] = (uint8_t)(0x89 + 2 * rnd(g, 2));    /* MOV r, r either way */
                modrm_insn(g, op, 1, dst_reg(g), g->x64 && rnd(g, 2), true, false);
            }
            gen_flag_setter(g);
            break;
        }
        op[0] = (uint8_t)(rnd(g, 3) == 0 ? 0xd1 : rnd(g, 2) ? 0xc1 : 0xd3);
        modrm_insn(g, op, 1, rnd(g, 8), w, true, true);
        if (op[0] == 0xc1) {
            put8(g, rnd(g, 70));
        }
        break;
    case 13:
        /* IMUL r, r/m; IMUL r, r/m, imm8|imm32; MUL/IMUL r/m (any size
         * but 8: the JIT's inline forms) */
        switch (rnd(g, 3)) {
        case 0:
            op[0] = 0x0f;
            op[1] = 0xaf;
            modrm_insn(g, op, 2, reg, w, true, true);
            break;
        case 1: {
            at = g->n;
            op[0] = (uint8_t)(rnd(g, 2) ? 0x6b : 0x69);
            modrm_insn(g, op, 1, reg, w, true, true);
            if (op[0] == 0x6b) {
                put8(g, rnd(g, 256));
            } else if (g->b[at] == 0x66) {      /* imm16 after a 66 prefix */
                put8(g, rnd(g, 256));
                put8(g, rnd(g, 256));
            } else {
                put32(g, g_rand_int(g->r));
            }
            break;
        }
        default:
            op[0] = 0xf7;
            modrm_insn(g, op, 1, 4 + rnd(g, 2), w, true, true);
            break;
        }
        break;
    case 14:
        /* DIV/IDIV r/m: #DE on zero or overflow (rarely: it ends the run) */
        if (rnd(g, 4)) {
            op[0] = 0x31;
            modrm_insn(g, op, 1, reg, w, true, false);
            break;
        }
        op[0] = 0xf7;
        modrm_insn(g, op, 1, 6 + rnd(g, 2), w, false, rnd(g, 3) == 0);
        break;
    case 15:
        /* MOVZX/MOVSX, MOVSXD (64-bit) */
        if (g->x64 && rnd(g, 3) == 0) {
            op[0] = 0x63;
            modrm_insn(g, op, 1, reg, true, false, true);
            break;
        }
        op[0] = 0x0f;
        op[1] = (uint8_t)(0xb6 + rnd(g, 2) + (rnd(g, 2) ? 8 : 0));
        modrm_insn(g, op, 2, reg, w, false, true);
        break;
    case 16:
        /* SETcc r/m8, CMOVcc r, r/m (half of them after ALU/INC/DEC) */
        if (rnd(g, 2)) {
            gen_flag_setter(g);
        }
        op[0] = 0x0f;
        if (rnd(g, 2)) {
            op[1] = (uint8_t)(0x90 + rnd(g, 16));
            modrm_insn(g, op, 2, 0, false, false, true);
        } else {
            op[1] = (uint8_t)(0x40 + rnd(g, 16));
            modrm_insn(g, op, 2, reg, w, true, true);
        }
        break;
    case 17:
        /* PUSH r; POP r (balanced) */
        if (g->x64 && (reg & 8)) {
            put8(g, 0x41);
        }
        put8(g, 0x50 + (reg & 7));
        reg = dst_reg(g);
        if (g->x64 && (reg & 8)) {
            put8(g, 0x41);
        }
        put8(g, 0x58 + (reg & 7));
        break;
    case 18: {
        /* Jcc over the next instruction (ends the block: another block),
         * half of them after ALU/INC/DEC */
        if (rnd(g, 2)) {
            gen_flag_setter(g);
        }
        at = g->n;
        put8(g, 0x70 + rnd(g, 16));
        put8(g, 0);
        gen_insn(g);
        if (g->n - at - 2 > 127) {
            g->b[at] = 0x90;                        /* too far: NOP; NOP */
            g->b[at + 1] = 0x90;
        } else {
            g->b[at + 1] = (uint8_t)(g->n - at - 2);
        }
        break;
    }
    case 19:
        /* XCHG, XADD, CMPXCHG, BT r/m, r */
        switch (rnd(g, 4)) {
        case 0:
            op[0] = 0x87;
            modrm_insn(g, op, 1, reg, w, true, true);
            break;
        case 1:
            op[0] = 0x0f;
            op[1] = 0xc1;
            modrm_insn(g, op, 2, reg, w, true, true);
            break;
        case 2:
            op[0] = 0x0f;
            op[1] = 0xb1;
            modrm_insn(g, op, 2, reg, w, true, true);
            break;
        default:
            op[0] = 0x0f;
            op[1] = 0xa3;
            modrm_insn(g, op, 2, reg, w, true, false);
            break;
        }
        break;
    case 20:
        /* CMP/TEST + Jcc (fused by the block builder when it ends a
         * block), register, memory and immediate forms, every size */
        switch (rnd(g, 4)) {
        case 0:
            op[0] = (uint8_t)(0x38 + rnd(g, 4));    /* CMP Eb,Gb .. Gv,Ev */
            modrm_insn(g, op, 1, reg, w, true, true);
            break;
        case 1:
            op[0] = (uint8_t)(0x84 + rnd(g, 2));    /* TEST */
            modrm_insn(g, op, 1, reg, w, true, true);
            break;
        case 2:
            op[0] = (uint8_t)(rnd(g, 2) ? 0x80 : 0x83);  /* CMP r/m, imm8 */
            modrm_insn(g, op, 1, 7, w, op[0] == 0x83, true);
            put8(g, g_rand_int(g->r));
            break;
        default:
            op[0] = 0x81;                           /* CMP r/m, imm32 */
            modrm_insn(g, op, 1, 7, w, false, true);
            put32(g, g_rand_int(g->r));
            break;
        }
        put8(g, 0x70 + rnd(g, 16));
        put8(g, 0);
        break;
    case 21: {
        /* CALL a local "function" (one instruction and RET / RET 0), JMP
         * over it: call f; jmp over; f: <insn>; ret; over: */
        size_t jmp_at;
        put8(g, 0xe8);
        put32(g, 5);                                /* over the JMP rel32 */
        put8(g, 0xe9);
        jmp_at = g->n;
        put32(g, 0);
        gen_insn(g);
        if (rnd(g, 4) == 0) {
            put8(g, 0xc2);                          /* ret 0 */
            put8(g, 0);
            put8(g, 0);
        } else {
            put8(g, 0xc3);
        }
        {
            uint32_t rel = (uint32_t)(g->n - jmp_at - 4);
            memcpy(&g->b[jmp_at], &rel, 4);
        }
        break;
    }
    case 22:
        /* JMP rel8 / rel32 over the next instruction */
        if (rnd(g, 2)) {
            at = g->n;
            put8(g, 0xeb);
            put8(g, 0);
            gen_insn(g);
            if (g->n - at - 2 > 127) {
                g->b[at] = 0x90;                    /* too far: NOP; NOP */
                g->b[at + 1] = 0x90;
            } else {
                g->b[at + 1] = (uint8_t)(g->n - at - 2);
            }
        } else {
            uint32_t rel;
            at = g->n;
            put8(g, 0xe9);
            put32(g, 0);
            gen_insn(g);
            rel = (uint32_t)(g->n - at - 5);
            memcpy(&g->b[at + 1], &rel, 4);
        }
        break;
    default:
        /* rare: UD2 (#UD) or a CPUID-free NOP */
        if (rnd(g, 30) == 0) {
            put8(g, 0x0f);
            put8(g, 0x0b);
        } else {
            put8(g, 0x90);
        }
        break;
    }
}

/* loop: <body>; dec r15 / dec edi-free counter; jnz loop; ud2 */
static size_t gen_loop(Gen *g, unsigned body)
{
    g->n = 0;
    for (unsigned k = 0; k < body && g->n < sizeof(g->b) - 64; k++) {
        gen_insn(g);
    }
    if (g->x64) {
        put8(g, 0x49);                      /* dec r15 */
        put8(g, 0xff);
        put8(g, 0xcf);
    } else {
        put8(g, 0xff);                      /* dec dword [0x10ff8] (the counter) */
        put8(g, 0x0d);
        put32(g, DATA_AT + DATA_LEN - 8);
    }
    put8(g, 0x0f);                          /* jnz rel32 to the start */
    put8(g, 0x85);
    put32(g, (uint32_t)-(int32_t)(g->n + 4));
    put8(g, 0x0f);
    put8(g, 0x0b);
    return g->n;
}

static void test_jit_differential(void)
{
    GRand *r = g_rand_new_with_seed(2026);
    static Gen g;
    static Result a, b;
    static uint8_t data[DATA_LEN];
    uint64_t regs[16];
    unsigned faults = 0, cases = 0;
    TCGLJitStats st0, st1;

    g.r = r;
    tcgl_jit_stats(&st0);
    for (int mode = 64; mode >= 32; mode -= 32) {
        g.x64 = mode == 64;
        for (unsigned n = 0; n < 400; n++) {
            size_t len = gen_loop(&g, 4 + rnd(&g, 60));
            for (unsigned k = 0; k < DATA_LEN; k++) {
                data[k] = (uint8_t)g_rand_int(r);
            }
            for (int k = 0; k < 16; k++) {
                regs[k] = ((uint64_t)g_rand_int(r) << 32 | g_rand_int(r)) >> rnd(&g, 64);
            }
            regs[R_ESP] = 0x10800;
            regs[R_EBX] = 0x10400;
            regs[15] = 1 + rnd(&g, 40);
            if (!g.x64) {
                uint32_t cnt = (uint32_t)regs[15];
                for (int k = 0; k < 16; k++) {
                    regs[k] &= 0xffffffffu;
                }
                memcpy(data + DATA_LEN - 8, &cnt, 4);
            }
            tlb_hits = n & 1;
            jit_mode(false, 16);
            run(mode, g.b, len, regs, data, &a);
            jit_mode(true, 1);
            run(mode, g.b, len, regs, data, &b);
            compare(&a, &b, mode == 64 ? "64-bit loop" : "32-bit loop", n);
            /* threshold 3 (some runs interpreted, then compiled), and
             * stage 1 alone (every instruction a handler call) */
            jit_mode(true, 3);
            tcgl_jit_set_inline(false);
            run(mode, g.b, len, regs, data, &b);
            tcgl_jit_set_inline(true);
            compare(&a, &b, mode == 64 ? "64-bit loop, threshold 3, calls only" :
                    "32-bit loop, threshold 3, calls only", n);
            faults += a.vector != 6;
            cases++;
        }
    }
    tcgl_jit_stats(&st1);
    printf("# %u generated loops, %u stopped by a fault other than the final #UD, "
           "%llu blocks compiled, %llu instructions inline, %llu chain links\n", cases, faults,
           (unsigned long long)(st1.blocks - st0.blocks),
           (unsigned long long)(st1.inlined - st0.inlined),
           (unsigned long long)(st1.links - st0.links));
    g_assert_cmpuint(st1.inlined - st0.inlined, >, cases);
    /* and chained blocks (the loops' back edges, the forward Jcc) */
    g_assert_cmpuint(st1.links - st0.links, >, cases);
    /* the comparison must have compared compiled code, and faults in it */
    g_assert_cmpuint(st1.blocks - st0.blocks, >, cases);
    g_assert_cmpuint(faults, >, 20);
    tlb_hits = false;
    g_rand_free(r);
}

/* A store from a compiled loop into its own code: the block is dropped
 * after the store, and the next iteration runs the new code. */
static void test_jit_smc(void)
{
    /* 0x2000: add eax, 1 (83 c0 01)
     *         cmp ecx, 10 / jne +7 (skip the store)
     *         mov byte [0x2002], 2 (c6 05 02 20 00 00 02)
     *         dec ecx / jnz 0x2000 / ud2
     * in 32-bit mode: iterations 1..N add 1 until ecx reaches 10 (from
     * the top), then the immediate becomes 2 */
    static const uint8_t code[] = {
        0x83, 0xc0, 0x01,
        0x83, 0xf9, 0x0a, 0x75, 0x07,
        0xc6, 0x05, 0x02, 0x20, 0x00, 0x00, 0x02,
        0x49, 0x75, 0xee, 0x0f, 0x0b,
    };
    for (unsigned thr = 1; thr <= 17; thr += 16) {
        jit_mode(true, thr);
        stub_reset(32);
        stub_write(CODE_AT, code, sizeof(code));
        R()[R_EAX] = 0;
        R()[R_ECX] = 100;
        stub.c.env->rip = CODE_AT;
        stub.nr_events = 0;
        tcgl_cpu_exec(&stub.c);
        g_assert_cmpuint(stub.nr_events, ==, 1);
        g_assert_cmpint(stub.last_event.vector, ==, 6);
        g_assert_cmphex(stub.c.env->rip, ==, CODE_AT + sizeof(code) - 2);
        /* 91 iterations with ecx = 100..10 add 1, the 9 after it add 2 */
        g_assert_cmpuint(R()[R_EAX], ==, 91 + 9 * 2);
    }
    /* a write through the memory API (DMA) into a compiled block between
     * runs: the new code runs */
    jit_mode(true, 1);
    stub_reset(64);
    stub_write(CODE_AT, "\xb8\x05\x00\x00\x00\x0f\x0b", 7);    /* mov eax, 5; ud2 */
    for (int k = 0; k < 3; k++) {
        stub.c.env->rip = CODE_AT;
        tcgl_cpu_exec(&stub.c);
        g_assert_cmphex(R()[R_EAX], ==, 5);
    }
    stub_write(CODE_AT + 1, "\x07", 1);
    stub.c.env->rip = CODE_AT;
    tcgl_cpu_exec(&stub.c);
    g_assert_cmphex(R()[R_EAX], ==, 7);
}

/* Faults inside compiled blocks: the right vector and rip, earlier
 * instructions done, later ones not. */
static void test_jit_faults(void)
{
    /* 64-bit: loop { add rax, 1; mov rdx, [rbx]; add rbx, 0x100000; dec ecx; jnz }
     * RAM is 4 MiB: the load faults (#GP(0)) at rbx = 0x410000 */
    static const uint8_t code[] = {
        0x48, 0x83, 0xc0, 0x01,
        0x48, 0x8b, 0x13,
        0x48, 0x81, 0xc3, 0x00, 0x00, 0x10, 0x00,
        0xff, 0xc9, 0x75, 0xee, 0x0f, 0x0b,
    };
    jit_mode(true, 1);
    stub_reset(64);
    stub_write(CODE_AT, code, sizeof(code));
    R()[R_EAX] = 0;
    R()[R_EBX] = 0x10000;
    R()[R_ECX] = 100;
    stub.c.env->rip = CODE_AT;
    stub.nr_events = 0;
    tcgl_cpu_exec(&stub.c);
    g_assert_cmpuint(stub.nr_events, ==, 1);
    g_assert_cmpint(stub.last_event.vector, ==, 13);
    g_assert_cmphex(stub.c.env->rip, ==, CODE_AT + 4);
    g_assert_cmphex(R()[R_EAX], ==, 5);          /* the add before it ran */
    g_assert_cmphex(R()[R_EBX], ==, 0x410000);   /* the add after it did not */
    g_assert_cmphex(R()[R_ECX], ==, 96);

    /* #DE in the middle of a compiled block, #UD at its end */
    jit_mode(true, 1);
    stub_reset(32);
    /* mov eax, 7; xor edx, edx; div ecx; mov ebx, 1; ud2 */
    stub_write(CODE_AT, "\xb8\x07\x00\x00\x00\x31\xd2\xf7\xf1\xbb\x01\x00\x00\x00\x0f\x0b", 16);
    for (int k = 0; k < 2; k++) {
        R()[R_ECX] = k;
        R()[R_EBX] = 0;
        stub.c.env->rip = CODE_AT;
        stub.nr_events = 0;
        tcgl_cpu_exec(&stub.c);
        g_assert_cmpuint(stub.nr_events, ==, 1);
        g_assert_cmpint(stub.last_event.vector, ==, k ? 6 : 0);
        g_assert_cmphex(stub.c.env->rip, ==, CODE_AT + (k ? 14 : 7));
        g_assert_cmphex(R()[R_EBX], ==, k ? 1 : 0);
    }
}

/* A store as the last instruction of a block (the 64th) into the block
 * chained after it: the chain must not go on into the dropped code.
 *   0x2000: mov ebx, 0x10000; cmp ecx, 10; cmove ebx, edx (= 0x204b);
 *           60 x nop; mov [ebx], cl             (64 instructions)
 *   0x2049: add eax, imm8 (the imm at 0x204b); dec ecx; jnz 0x2000; ud2
 * ecx = 100..11 add 1, at 10 the store makes the immediate 10 before the
 * add runs: 90 + 10 * 10. */
static void test_jit_chain_smc(void)
{
    uint8_t code[0x60];
    size_t n = 0;
    TCGLJitStats st0, st1;

    code[n++] = 0xbb; code[n++] = 0x00; code[n++] = 0x00; code[n++] = 0x01; code[n++] = 0x00;
    code[n++] = 0x83; code[n++] = 0xf9; code[n++] = 0x0a;
    code[n++] = 0x0f; code[n++] = 0x44; code[n++] = 0xda;
    for (int k = 0; k < 60; k++) {
        code[n++] = 0x90;
    }
    code[n++] = 0x88; code[n++] = 0x0b;                 /* mov [ebx], cl */
    g_assert_cmpuint(n, ==, 0x49);
    code[n++] = 0x83; code[n++] = 0xc0; code[n++] = 0x01;
    code[n++] = 0x49;
    code[n++] = 0x75; code[n] = (uint8_t)(-(int)(n + 1)); n++;
    code[n++] = 0x0f; code[n++] = 0x0b;
    for (unsigned thr = 1; thr <= 5; thr += 4) {
        jit_mode(true, thr);
        tcgl_jit_stats(&st0);
        stub_reset(32);
        stub_write(CODE_AT, code, n);
        R()[R_EAX] = 0;
        R()[R_ECX] = 100;
        R()[R_EDX] = CODE_AT + 0x4b;
        stub.c.env->rip = CODE_AT;
        stub.nr_events = 0;
        stub.c.insns = 0;
        tcgl_cpu_exec(&stub.c);
        tcgl_jit_stats(&st1);
        g_assert_cmpuint(stub.nr_events, ==, 1);
        g_assert_cmpint(stub.last_event.vector, ==, 6);
        g_assert_cmphex(stub.c.env->rip, ==, CODE_AT + n - 2);
        g_assert_cmpuint(R()[R_EAX], ==, 90 + 10 * 10);
        g_assert_cmpuint(stub.c.insns, ==, 100 * 67);
        g_assert_cmpuint(st1.links - st0.links, >=, 2);     /* 0x2000 -> 0x2049 and back */
    }
}

/* Chaining across pages.  0x2000: mov ebx, 0x10000; cmp ecx, 10;
 * cmove ebx, edx; mov [ebx], cl; pause; jmp 0x3000.  0x3000: add eax, 1;
 * dec ecx; jnz 0x2000; ud2.  With edx = 0x3002 the store at ecx = 10
 * drops the block at 0x3000 (not the running one): the chain must not
 * enter it (90 + 10 * 10).  With the store elsewhere, the 50th PAUSE
 * points the execute TLB entry of 0x3000 at another physical page (as a
 * remapping would): the chain must leave for the executor, which looks
 * the page up again. */
static unsigned pages_fetches, pages_fetches2;

static void pages_pause_hook(void)
{
    if (stub.nr_pauses == 52) {
        pages_fetches2 = stub.nr_fetch_page;
    }
    if (stub.nr_pauses == 50) {
        TCGLTLBEntry *e = &stub.c.tlb[stub.c.mmu_idx][(0x3000 >> TCGL_PAGE_BITS) &
                                                     (TCGL_TLB_SIZE - 1)];
        g_assert_cmphex(e->tag_exec, ==, 0x3000);
        *tcgl_tlb_phys(&stub.c, e) = 0x5000;
        pages_fetches = stub.nr_fetch_page;
    }
}

static void test_jit_chain_pages(void)
{
    static const uint8_t a[] = {
        0xbb, 0x00, 0x00, 0x01, 0x00, 0x83, 0xf9, 0x0a, 0x0f, 0x44, 0xda, 0x88, 0x0b,
        0xf3, 0x90, 0xe9, 0xec, 0x0f, 0x00, 0x00,
    };
    static const uint8_t b[] = {
        0x83, 0xc0, 0x01, 0x49, 0x0f, 0x85, 0xf6, 0xef, 0xff, 0xff, 0x0f, 0x0b,
    };
    for (int smc = 1; smc >= 0; smc--) {
        TCGLJitStats st0, st1;
        jit_mode(true, 1);
        tcgl_jit_stats(&st0);
        stub_reset(32);
        stub_write(CODE_AT, a, sizeof(a));
        stub_write(0x3000, b, sizeof(b));
        R()[R_EAX] = 0;
        R()[R_ECX] = 100;
        R()[R_EDX] = smc ? 0x3002 : 0x10000;
        stub.c.env->rip = CODE_AT;
        stub.nr_events = 0;
        stub.c.insns = 0;
        stub.pause_hook = smc ? NULL : pages_pause_hook;
        pages_fetches = ~0u;
        tcgl_cpu_exec(&stub.c);
        stub.pause_hook = NULL;
        tcgl_jit_stats(&st1);
        g_assert_cmpuint(stub.nr_events, ==, 1);
        g_assert_cmpint(stub.last_event.vector, ==, 6);
        g_assert_cmphex(stub.c.env->rip, ==, 0x300a);
        g_assert_cmpuint(R()[R_EAX], ==, smc ? 90 + 10 * 10 : 100);
        g_assert_cmpuint(stub.c.insns, ==, 100 * 9);
        g_assert_cmpuint(st1.links_far - st0.links_far, >=, 2);
        if (!smc) {
            /* the next pass from 0x2000 to 0x3000 (before the 52nd PAUSE) */
            g_assert_cmpuint(pages_fetches2, >, pages_fetches);
        }
    }
}

/* Flags rebuilt from the lazy state inside a compiled block: ADD, SUB,
 * AND, INC, DEC of every size on boundary values, then a MOV (the host
 * flags are lost), then SETcc for the 16 conditions, each followed by a
 * store (lost again); interpreter and JIT must agree on every byte. */
static void test_jit_flags_remat(void)
{
    static const uint64_t vals[5] = {
        0, 1, 0x7f7f7f7f7f7f7f7fULL, 0x8080808080808080ULL, ~0ULL,
    };
    static Gen g;
    static Result a, b;
    static uint8_t data[DATA_LEN];
    uint64_t regs[16] = { 0 };
    /* ADD SUB AND INC DEC, ADC SBB (registers), ADC r, m and SBB m, r:
     * every kind the JIT rebuilds, from a register and a memory ALU */
    static const uint8_t ops[9] = { 0x01, 0x29, 0x21, 0xc0, 0xc8, 0x11, 0x19, 0x13, 0x19 };

    regs[R_ESP] = 0x10800;
    regs[R_EBX] = 0x10400;
    tlb_hits = true;
    for (unsigned size = 1; size <= 8; size *= 2) {
        for (unsigned op = 0; op < 9; op++) {
            unsigned cases = 0;
            g.n = 0;
            for (unsigned x = 0; x < 5; x++) {
                for (unsigned y = 0; y < 5; y++) {
                    Gen *G = &g;
                    if (y == 2) {
                        continue;                       /* (room: 20 cases of 169 bytes) */
                    }
                    g_assert_cmpuint(g.n + 200, <, sizeof(g.b));
                    put8(G, 0x48); put8(G, 0xb8);               /* mov rax, imm64 */
                    put32(G, (uint32_t)vals[x]); put32(G, (uint32_t)(vals[x] >> 32));
                    put8(G, 0x48); put8(G, 0xb9);               /* mov rcx, imm64 */
                    put32(G, (uint32_t)vals[y]); put32(G, (uint32_t)(vals[y] >> 32));
                    if (op >= 7) {
                        put8(G, 0x48); put8(G, 0x89); put8(G, 0x8b);    /* mov [rbx + 0x1f0], rcx */
                        put32(G, 0x1f0);
                    }
                    if (op >= 3) {
                        put8(G, 0x48); put8(G, 0x39); put8(G, 0xc8);    /* cmp rax, rcx: CF */
                    }
                    if (size == 2) {
                        put8(G, 0x66);
                    } else if (size == 8) {
                        put8(G, 0x48);
                    }
                    if (op >= 7) {
                        /* adc al.., [rbx + 0x1f0] | sbb [rbx + 0x1f0], al.. */
                        put8(G, size == 1 ? ops[op] - 1 : ops[op]);
                        put8(G, 0x83);
                        put32(G, 0x1f0);
                    } else if (op < 3 || op >= 5) {
                        put8(G, size == 1 ? ops[op] - 1 : ops[op]);     /* op al.., cl.. */
                        put8(G, 0xc8);
                    } else {
                        put8(G, size == 1 ? 0xfe : 0xff);               /* inc|dec al.. */
                        put8(G, ops[op]);
                    }
                    put8(G, 0x48); put8(G, 0x89); put8(G, 0xd2);        /* mov rdx, rdx */
                    for (unsigned cc = 0; cc < 16; cc++) {
                        put8(G, 0x0f); put8(G, 0x90 + cc); put8(G, 0xc2);   /* setcc dl */
                        put8(G, 0x88); put8(G, 0x93);                   /* mov [rbx + d32], dl */
                        put32(G, cases * 16 + cc);
                    }
                    cases++;
                }
            }
            put8(&g, 0x0f);
            put8(&g, 0x0b);
            g_assert_cmpuint(g.n, <, sizeof(g.b));
            memset(data, 0xaa, sizeof(data));
            jit_mode(false, 16);
            run(64, g.b, g.n, regs, data, &a);
            jit_mode(true, 1);
            run(64, g.b, g.n, regs, data, &b);
            compare(&a, &b, "flags rebuilt", size * 8 + op);
            g_assert_cmpint(a.vector, ==, 6);
        }
    }
    tlb_hits = false;
}

/* Misaligned loads and stores below CPL 3: one that stays in its page
 * takes the inline TLB-hit path, one that crosses into the next page the
 * slow path.  The first page's TLB entry maps it REMAP_BY further into RAM
 * than the slow path's identity, so the two paths read different bytes: a
 * misaligned access that went to the slow path, or a crossing one that
 * used the first page's entry past its end, differs from the interpreter
 * (whose fast path is mmu.h's); the JIT's slow-path count says which path
 * each took. */
static void test_jit_misaligned(void)
{
    static const uint8_t code[] = {
        0x48, 0x8b, 0x83, 0xf8, 0x07, 0x00, 0x00,       /* mov rax, [rbx + 0x7f8]: in the page */
        0x48, 0x8b, 0x8b, 0xf1, 0x07, 0x00, 0x00,       /* mov rcx, [rbx + 0x7f1]: misaligned */
        0x8b, 0x93, 0xfe, 0x07, 0x00, 0x00,             /* mov edx, [rbx + 0x7fe]: crosses */
        0x48, 0x89, 0xb3, 0xf3, 0x07, 0x00, 0x00,       /* mov [rbx + 0x7f3], rsi: misaligned */
        0x48, 0x89, 0xbb, 0xfd, 0x07, 0x00, 0x00,       /* mov [rbx + 0x7fd], rdi: crosses */
        0x66, 0x01, 0x83, 0xe1, 0x07, 0x00, 0x00,       /* add [rbx + 0x7e1], ax: misaligned */
        0x0f, 0x0b,
    };
    static Result a, b;
    static uint8_t data[DATA_LEN];
    uint64_t regs[16] = { 0 };
    TCGLJitStats st0, st1;

    regs[R_EBX] = 0x10800;                      /* the page 0x10000 */
    regs[R_ESI] = 0x1122334455667788ULL;
    regs[R_EDI] = 0x99aabbccddeeff00ULL;
    for (unsigned k = 0; k < DATA_LEN; k++) {
        data[k] = (uint8_t)(k * 7 + 1);
    }
    tlb_hits = true;
    remap_page = 0x10000;
    stub_reset(64);
    memset(stub.ram + 0x10000 + REMAP_BY, 0x5a, 2 * TCGL_PAGE_SIZE);
    jit_mode(false, 16);
    run(64, code, sizeof(code), regs, data, &a);
    memset(stub.ram + 0x10000 + REMAP_BY, 0x5a, 2 * TCGL_PAGE_SIZE);
    jit_mode(true, 1);
    tcgl_jit_stats(&st0);
    run(64, code, sizeof(code), regs, data, &b);
    tcgl_jit_stats(&st1);
    compare(&a, &b, "misaligned", 0);
    g_assert_cmpint(b.vector, ==, 6);
    /* only the two that cross went to their handlers (which read through
     * the same TLB entry: this count is what tells the paths apart) */
    g_assert_cmpuint(st1.slow_paths - st0.slow_paths, ==, 2);
    /* the misaligned load read the remapped page, the crossing one the
     * identity: bytes 0xffe, 0xfff of the page and 0, 1 of the next */
    g_assert_cmphex(b.regs[R_ECX], ==, 0x5a5a5a5a5a5a5a5aULL);
    g_assert_cmphex(b.regs[R_EDX] & 0xffff, ==,
                    (uint64_t)data[0x10ffe - DATA_AT] | (uint64_t)data[0x10fff - DATA_AT] << 8);
    g_assert_cmphex(memcmp(stub.ram + 0x10ffd, &regs[R_EDI], 8), ==, 0);
    g_assert_cmphex(memcmp(stub.ram + 0x10ff3 + REMAP_BY, &regs[R_ESI], 8), ==, 0);
    g_assert_cmphex(stub.ram[0x10fe1 + REMAP_BY], ==, 0xb4);  /* 0x5a + AL (0x5a, the first load) */
    remap_page = 0;
    tlb_hits = false;
}

/* NOPs (the 5-byte one every kernel function starts with, PREFETCH, a
 * fence) compile to nothing: no handler call, and the host flags an ALU
 * operation left stay the guest's across them (the ADC after reads CF
 * from them).  Same results as the interpreter. */
static void test_jit_nop(void)
{
    static const uint8_t code[] = {
        0x48, 0x01, 0xc8,                               /* add rax, rcx: CF = 1 */
        0x0f, 0x1f, 0x44, 0x00, 0x00,                   /* nop dword [rax + rax + 0] */
        0x0f, 0x18, 0x0b,                               /* prefetcht0 [rbx] */
        0x90,                                           /* nop */
        0x0f, 0xae, 0xf8,                               /* sfence */
        0x48, 0x83, 0xd2, 0x05,                         /* adc rdx, 5 */
        0x0f, 0x0b,
    };
    static Result a, b;
    static uint8_t data[DATA_LEN];
    uint64_t regs[16] = { 0 };
    TCGLJitStats s0, s1;

    regs[R_EAX] = ~0ULL;
    regs[R_ECX] = 2;
    regs[R_EDX] = 0x100;
    regs[R_EBX] = 0x12345678;                       /* outside RAM: PREFETCH never faults */
    jit_mode(false, 16);
    run(64, code, sizeof(code), regs, data, &a);
    jit_mode(true, 1);
    tcgl_jit_stats(&s0);
    run(64, code, sizeof(code), regs, data, &b);
    tcgl_jit_stats(&s1);
    compare(&a, &b, "nop", 0);
    g_assert_cmphex(b.regs[R_EDX], ==, 0x106);
    g_assert_cmpint(b.vector, ==, 6);
    g_assert_cmpuint(s1.blocks - s0.blocks, ==, 1);
    g_assert_cmpuint(s1.inlined - s0.inlined, ==, 6);   /* every one but UD2 */
}

/* Runs code under the interpreter (a) and compiled (b), with the data
 * pages hitting the TLB or not, and compares the two; returns how many
 * instructions the JIT inlined. */
static uint64_t run_both_cmp(const uint8_t *code, size_t len, const uint64_t *regs,
                             const uint8_t *data, bool hits, Result *a, Result *b,
                             const char *what)
{
    TCGLJitStats s0, s1;

    tlb_hits = hits;
    jit_mode(false, 16);
    run(64, code, len, regs, data, a);
    jit_mode(true, 1);
    tcgl_jit_stats(&s0);
    run(64, code, len, regs, data, b);
    tcgl_jit_stats(&s1);
    compare(a, b, what, hits);
    tlb_hits = false;
    return s1.inlined - s0.inlined;
}

/* The forms inlined in session 22, against the interpreter, through a
 * TLB hit and through the slow path: TEST/CMP/ADD/MOV on AH..BH (the
 * kernel tests gfp flag bits in BH), NOT of a register, and CMPXCHG m, r
 * (32-bit: matched, RAX's upper half kept; not matched, the old value
 * zero-extended into RAX; 64-bit both ways). */
static void test_jit_inline_ops(void)
{
    static const uint8_t code[] = {
        0xf6, 0xc7, 0x04,                               /* test bh, 4 */
        0x0f, 0x95, 0xc0,                               /* setne al */
        0x00, 0xec,                                     /* add ah, ch */
        0x88, 0xe2,                                     /* mov dl, ah */
        0x38, 0xe5,                                     /* cmp ch, ah */
        0x0f, 0x92, 0xc6,                               /* setb dh */
        0x48, 0xf7, 0xd6,                               /* not rsi */
        0xf7, 0xd7,                                     /* not edi */
        0xf6, 0xd4,                                     /* not ah */
        0x48, 0x89, 0xc5,                               /* mov rbp, rax */
        0x48, 0xb8, 0x78, 0x56, 0x34, 0x12, 0x01, 0x00, 0x00, 0x00, /* mov rax, 0x112345678 */
        0xf0, 0x0f, 0xb1, 0x8b, 0x00, 0x01, 0x00, 0x00, /* lock cmpxchg [rbx + 0x100], ecx: matches */
        0x49, 0x89, 0xc0,                               /* mov r8, rax */
        0x41, 0x0f, 0x94, 0xc2,                         /* sete r10b */
        0x0f, 0xb1, 0x8b, 0x00, 0x01, 0x00, 0x00,       /* cmpxchg [rbx + 0x100], ecx: differs */
        0x49, 0x89, 0xc1,                               /* mov r9, rax */
        0x48, 0x0f, 0xb1, 0x93, 0x08, 0x01, 0x00, 0x00, /* cmpxchg [rbx + 0x108], rdx: differs */
        0x48, 0x0f, 0xb1, 0x93, 0x08, 0x01, 0x00, 0x00, /* cmpxchg [rbx + 0x108], rdx: matches */
        0x0f, 0x0b,
    };
    static Result a, b;
    static uint8_t data[DATA_LEN];
    uint64_t regs[16] = { 0 };

    regs[R_EAX] = 0x0000a1b2c3d4e5f6ULL;
    regs[R_ECX] = 0x1111222233334444ULL;
    regs[R_EDX] = 0x5555666677778888ULL;
    regs[R_EBX] = 0x10400;
    regs[R_ESP] = 0x10800;
    regs[R_ESI] = 0x0123456789abcdefULL;
    regs[R_EDI] = 0xfedcba9876543210ULL;
    for (unsigned k = 0; k < DATA_LEN; k++) {
        data[k] = (uint8_t)(k * 11 + 5);
    }
    memcpy(data + 0x10500 - DATA_AT, "\x78\x56\x34\x12", 4);  /* [rbx + 0x100] = 0x12345678 */
    memcpy(data + 0x10508 - DATA_AT, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    for (int hits = 0; hits < 2; hits++) {
        uint64_t inlined = run_both_cmp(code, sizeof(code), regs, data, hits, &a, &b, "inline ops");
        g_assert_cmpint(b.vector, ==, 6);
        /* matched: ECX stored, RAX (upper half too) unchanged */
        g_assert_cmphex(b.regs[R_R8], ==, 0x112345678ULL);
        g_assert_cmphex(b.regs[R_R10], ==, 1);                       /* ZF */
        /* differed: the old value (ECX's, stored just before) in RAX */
        g_assert_cmphex(b.regs[R_R9], ==, 0x33334444ULL);
        /* 64-bit: differed once (RAX = the old value), then matched */
        g_assert_cmphex(b.regs[R_EAX], ==, 0x0807060504030201ULL);
        g_assert_cmphex(memcmp(b.data + 0x10508 - DATA_AT, &b.regs[R_EDX], 8), ==, 0);
        g_assert_cmphex(b.regs[R_ESI], ==, ~0x0123456789abcdefULL);
        g_assert_cmphex(b.regs[R_EDI], ==, 0x89abcdefULL);
        /* every instruction but UD2 ran inline code (the SETccs from the
         * host's flags or the lazy ones rebuilt) */
        g_assert_cmpuint(inlined, ==, 18);
    }
}

/* NEG of registers (every size, AH too) and XADD m32/m64, r inline:
 * the same registers, memory and flags as the interpreter, through a TLB
 * hit and through the slow path. */
static void test_jit_neg_xadd(void)
{
    static const uint8_t code[] = {
        0x48, 0xf7, 0xd8,                               /* neg rax */
        0x0f, 0x92, 0xc3,                               /* setb bl: CF = rax was not 0 */
        0xf7, 0xd9,                                     /* neg ecx */
        0xf6, 0xdc,                                     /* neg ah */
        0x66, 0xf7, 0xda,                               /* neg dx */
        0x0f, 0x9c, 0xc7,                               /* setl bh */
        0xbb, 0x00, 0x04, 0x01, 0x00,                   /* mov ebx, 0x10400 */
        0xf0, 0x48, 0x0f, 0xc1, 0xb3, 0x00, 0x01, 0x00, 0x00,   /* lock xadd [rbx + 0x100], rsi */
        0x0f, 0xc1, 0xbb, 0x08, 0x01, 0x00, 0x00,       /* xadd [rbx + 0x108], edi */
        0x0f, 0x94, 0xc1,                               /* sete cl */
        0x0f, 0x0b,
    };
    static Result a, b;
    static uint8_t data[DATA_LEN];
    uint64_t regs[16] = { 0 };

    regs[R_EAX] = 0x1234;
    regs[R_ECX] = 0xffffffff80000000ULL;
    regs[R_EDX] = 0x5555666677778000ULL;
    regs[R_ESI] = 0x0100000000000001ULL;
    regs[R_EDI] = 0xfffffffff0000000ULL;
    for (unsigned k = 0; k < DATA_LEN; k++) {
        data[k] = (uint8_t)(k * 13 + 7);
    }
    memcpy(data + 0x10508 - DATA_AT, "\x00\x00\x00\x10", 4);  /* + edi: 0, ZF */
    for (int hits = 0; hits < 2; hits++) {
        uint64_t inlined = run_both_cmp(code, sizeof(code), regs, data, hits, &a, &b, "neg/xadd");
        g_assert_cmpint(b.vector, ==, 6);
        g_assert_cmphex(b.regs[R_EAX], ==, 0xffffffffffff13ccULL);      /* -0x1234, then AH -0xed */
        g_assert_cmphex(b.regs[R_ECX] & 0xff, ==, 1);                  /* the XADD's ZF */
        g_assert_cmphex(b.regs[R_EDI], ==, 0x10000000);                 /* the old m32 */
        g_assert_cmpuint(inlined, ==, 10);                              /* all but UD2 */
    }
}

/* PUSH/POP runs (a function's prologue and epilogue) compiled as one
 * access each (emit_pushpop_run): the values in order (the first push
 * highest, the first pop from the lowest), RSP once; through a TLB hit,
 * through the slow path (no TLB hits), and with the stack crossing a page
 * in the middle of a run (the slow path: the first by its handler, the
 * rest one by one).  A PUSH RSP ends a run (it pushes RSP's old value). */
static void test_jit_pushpop_run(void)
{
    static const uint8_t code[] = {
        0x53, 0x55, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57,  /* push rbx rbp r12-r15 */
        0x49, 0x89, 0xe1,                               /* mov r9, rsp */
        0x58, 0x59, 0x5a, 0x5e, 0x5f, 0x41, 0x58,       /* pop rax rcx rdx rsi rdi r8 */
        0x41, 0x52, 0x41, 0x53, 0x54, 0x41, 0x52,       /* push r10 r11 rsp r10 */
        0x41, 0x5c, 0x41, 0x5d,                         /* pop r12 r13 */
        0x0f, 0x0b,
    };
    static Result a, b;
    static uint8_t data[DATA_LEN];
    static const uint64_t stacks[] = { 0x10800, 0x10018 };
    uint64_t regs[16];
    TCGLJitStats s0, s1;

    for (unsigned k = 0; k < DATA_LEN; k++) {
        data[k] = (uint8_t)(k * 7 + 3);
    }
    for (unsigned st = 0; st < 2; st++) {
        for (unsigned r = 0; r < 16; r++) {
            regs[r] = 0x1000000000000001ULL * (r + 1) ^ 0x55aa;
        }
        regs[R_ESP] = stacks[st];
        for (int hits = 0; hits < 2; hits++) {
            tcgl_jit_stats(&s0);
            run_both_cmp(code, sizeof(code), regs, data, hits, &a, &b, "push/pop runs");
            tcgl_jit_stats(&s1);
            g_assert_cmpint(b.vector, ==, 6);
            g_assert_cmpuint(s1.pushpop_runs - s0.pushpop_runs, ==, 4);   /* 6, 6, 2, 2 */
            g_assert_cmphex(b.regs[R_EAX], ==, regs[R_R15]);        /* the last pushed */
            g_assert_cmphex(b.regs[R_ECX], ==, regs[R_R14]);
            g_assert_cmphex(b.regs[R_EDX], ==, regs[R_R13]);
            g_assert_cmphex(b.regs[R_ESI], ==, regs[R_R12]);
            g_assert_cmphex(b.regs[R_EDI], ==, regs[R_EBP]);
            g_assert_cmphex(b.regs[R_R8], ==, regs[R_EBX]);
            g_assert_cmphex(b.regs[R_R9], ==, stacks[st] - 48);
            g_assert_cmphex(b.regs[R_R12], ==, regs[R_R10]);
            g_assert_cmphex(b.regs[R_R13], ==, stacks[st] - 16);   /* PUSH RSP's value */
            g_assert_cmphex(b.regs[R_ESP], ==, stacks[st] - 16);
        }
    }
}

/* Flags an instruction writes and a later one of the block overwrites
 * before anything reads them are not stored (flags_dead_after()): the
 * registers and the final flags as the interpreter has them, for ALU
 * ops killed by ALU ops and by shifts, across MOV/MOVZX/NOT/LEA; a CMP
 * so killed is no code at all.  Not when a memory access comes between:
 * a fault there must see the ADD's flags (CF and ZF set below). */
static void test_jit_dead_flags(void)
{
    static const uint8_t killed[] = {
        0x48, 0x01, 0xc8,                               /* add rax, rcx: dead */
        0x48, 0x89, 0xc2,                               /* mov rdx, rax */
        0x0f, 0xb6, 0xf0,                               /* movzx esi, al */
        0x48, 0xf7, 0xd7,                               /* not rdi */
        0x48, 0x39, 0xc8,                               /* cmp rax, rcx: dead */
        0x4c, 0x8d, 0x04, 0x10,                         /* lea r8, [rax + rdx] */
        0x48, 0x29, 0xd0,                               /* sub rax, rdx: dead (the SHL) */
        0x48, 0xc1, 0xe2, 0x03,                         /* shl rdx, 3 */
        0x0f, 0x92, 0xc3,                               /* setb bl: the SHL's CF */
        0x48, 0x21, 0xc9,                               /* and rcx, rcx: dead */
        0x48, 0xd1, 0xef,                               /* shr rdi, 1 */
        0x0f, 0x94, 0xc7,                               /* sete bh */
        0x48, 0x31, 0xf6,                               /* xor rsi, rsi: dead (the CMP) */
        0x48, 0x83, 0xf8, 0x05,                         /* cmp rax, 5 */
        0x0f, 0x0b,
    };
    static const uint8_t fault[] = {
        0x48, 0x01, 0xc8,                               /* add rax, rcx: CF, ZF */
        0x48, 0x89, 0xc2,                               /* mov rdx, rax */
        0x48, 0x8b, 0x93, 0x00, 0x00, 0x00, 0x40,       /* mov rdx, [rbx + 1 GiB]: #GP/#PF */
        0x48, 0x31, 0xc0,                               /* xor rax, rax */
        0x0f, 0x0b,
    };
    static Result a, b;
    static uint8_t data[DATA_LEN];
    uint64_t regs[16] = { 0 };

    regs[R_EAX] = 0x8000000000000001ULL;
    regs[R_ECX] = 0x7fffffffffffffffULL;
    regs[R_EDI] = 0x5a5a5a5a5a5a5a5aULL;
    regs[R_EBX] = 0x10000;
    jit_mode(false, 16);
    run(64, killed, sizeof(killed), regs, data, &a);
    jit_mode(true, 1);
    run(64, killed, sizeof(killed), regs, data, &b);
    compare(&a, &b, "dead flags", 0);
    g_assert_cmpint(b.vector, ==, 6);

    /* a source register just stored from rax is taken from it */
    static const uint8_t reuse[] = {
        0x48, 0x89, 0xc2,                               /* mov rdx, rax */
        0x48, 0x01, 0xd6,                               /* add rsi, rdx */
        0x48, 0x89, 0xf2,                               /* mov rdx, rsi */
        0x48, 0x29, 0xd2,                               /* sub rdx, rdx */
        0x0f, 0x94, 0xc1,                               /* sete cl */
        0x89, 0xf7,                                     /* mov edi, esi */
        0x31, 0xfb,                                     /* xor ebx, edi */
        0x0f, 0x98, 0xc0,                               /* sets al */
        0x48, 0x83, 0xe6, 0xf0,                         /* and rsi, -16 */
        0x0f, 0x0b,
    };
    regs[R_EAX] = 0x8000000000000001ULL;
    regs[R_EBX] = 0xffffffff00000000ULL;
    regs[R_ESI] = 0x0123456789abcdefULL;
    jit_mode(false, 16);
    run(64, reuse, sizeof(reuse), regs, data, &a);
    jit_mode(true, 1);
    run(64, reuse, sizeof(reuse), regs, data, &b);
    compare(&a, &b, "rax reuse", 0);
    g_assert_cmphex(b.regs[R_EDX], ==, 0);
    g_assert_cmphex(b.regs[R_ECX] & 0xff, ==, 1);
    g_assert_cmphex(b.regs[R_EBX], ==, (uint32_t)(0x0123456789abcdefULL + 0x8000000000000001ULL));

    regs[R_EBX] = 0x10000;
    regs[R_EAX] = 1;
    regs[R_ECX] = ~0ULL;                            /* 1 + ~0: 0, carry */
    jit_mode(false, 16);
    run(64, fault, sizeof(fault), regs, data, &a);
    jit_mode(true, 1);
    run(64, fault, sizeof(fault), regs, data, &b);
    compare(&a, &b, "flags at a fault", 0);
    g_assert_cmpint(b.vector, !=, 6);
    g_assert_cmphex(b.rflags & 0x41, ==, 0x41);     /* the ADD's CF and ZF */
}

/* Blocks are per CPL: code compiled at CPL 0 has no #AC test (only CPL
 * 3 checks alignment), so the same bytes at CPL 3 with CR0.AM and
 * RFLAGS.AC set must not reuse it.  A misaligned load through a TLB hit
 * runs at CPL 0 (no fault: UD2 ends it), then at CPL 3 (#AC before the
 * load), then at CPL 3 with AC clear (no fault), all without the code
 * being written again (which would drop the block anyway). */
static void test_jit_ac_cpl(void)
{
    static const uint8_t code[] = {
        0x48, 0x8b, 0x8b, 0xf1, 0x07, 0x00, 0x00,       /* mov rcx, [rbx + 0x7f1]: misaligned */
        0x0f, 0x0b,
    };
    static uint8_t data[DATA_LEN];
    static const int want[3] = { 6, 17, 6 };
    TCGLJitStats s0, s1;
    uint64_t v;

    for (unsigned k = 0; k < DATA_LEN; k++) {
        data[k] = (uint8_t)(k * 5 + 3);
    }
    memcpy(&v, data + 0x10ff1 - DATA_AT, 8);
    jit_mode(true, 1);
    tlb_hits = true;
    stub_reset(64);
    fill_tlb();
    stub_write(CODE_AT, code, sizeof(code));
    stub_write(DATA_AT, data, DATA_LEN);
    stub.c.env->cr0 |= TCGL_MMU_CR0_AM;
    tcgl_jit_stats(&s0);
    for (int run = 0; run < 3; run++) {
        stub.c.env->segs[R_CS].selector = run ? 3 : 0;
        stub.c.env->rflags = run == 1 ? 2 | TCGL_MMU_RFLAGS_AC : 2;
        tcgl_update_hflags(&stub.c);
        R()[R_EBX] = 0x10800;
        R()[R_ECX] = 0;
        stub.c.env->rip = CODE_AT;
        stub.nr_events = 0;
        tcgl_cpu_exec(&stub.c);
        g_assert_cmpuint(stub.nr_events, ==, 1);
        g_assert_cmpint(stub.last_event.vector, ==, want[run]);
        g_assert_cmphex(stub.c.env->rip, ==, CODE_AT + (run == 1 ? 0 : 7));
        g_assert_cmphex(R()[R_ECX], ==, run == 1 ? 0 : v);
    }
    tcgl_jit_stats(&s1);
    g_assert_cmpuint(s1.blocks - s0.blocks, ==, 2);  /* one per CPL */
    tlb_hits = false;
}

/* A timer that fires after `timer_after` PAUSEs: the interrupt must be
 * taken at the same block boundary with the chained code as with the
 * interpreter (chained code stops for the kick that goes with it). */
static unsigned timer_after;
static uint64_t timer_rcx;

static void timer_pause_hook(void)
{
    if (stub.nr_pauses == timer_after) {
        timer_rcx = R()[R_ECX];
        __atomic_or_fetch(&stub.cpu.interrupt_request, CPU_INTERRUPT_HARD, __ATOMIC_SEQ_CST);
        /* cpu_interrupt()'s kick on the vCPU's own thread, in an unlocked
         * slice that a plain interrupt does not end (tcg-all.c
         * tcg_slice_over): the executor looks before the next block */
        stub.c.chain_break = true;
    }
}

static int timer_read_irq(void *pic)
{
    (void)pic;
    stub.cpu.interrupt_request = 0;
    return 0x30;
}

/* 0x2000: inc rax; pause; inc rcx; jnz 0x2000; ud2.  The handler at
 * 0x9000: ud2. */
static void run_timer_loop(bool jit, unsigned after, uint64_t *rip, uint64_t *rcx,
                           uint64_t *insns)
{
    static const uint8_t code[] = {
        0x48, 0xff, 0xc0, 0xf3, 0x90, 0x48, 0xff, 0xc1, 0x75, 0xf6, 0x0f, 0x0b,
    };
    jit_mode(jit, 1);
    stub_reset(64);
    x86_irq_set_pic(NULL, timer_read_irq);
    stub_write(CODE_AT, code, sizeof(code));
    stub_write(0x9000, "\x0f\x0b", 2);
    stub.hwint_handler = 0x9000;
    stub.pause_hook = timer_pause_hook;
    timer_after = after;
    stub.c.env->rflags |= 0x200;
    R()[R_EAX] = 0;
    R()[R_ECX] = 1;
    stub.c.env->rip = CODE_AT;
    stub.nr_events = 0;
    stub.c.insns = 0;
    tcgl_cpu_exec(&stub.c);
    g_assert_cmpuint(stub.nr_hwints, ==, 1);
    g_assert_cmpint(stub.last_hwint, ==, 0x30);
    g_assert_cmpint(stub.last_event.vector, ==, 6);
    g_assert_cmphex(stub.c.env->rip, ==, 0x9000);
    *rip = stub.hwint_rip;
    *rcx = stub.hwint_rcx;
    *insns = stub.c.insns;
    stub.pause_hook = NULL;
    x86_irq_set_pic(NULL, NULL);
    stub.cpu.interrupt_request = 0;
}

static void test_jit_chain_timer(void)
{
    TCGLJitStats st0, st1;

    for (unsigned after = 1; after < 3000; after = after * 3 + 1) {
        uint64_t rip_i, rcx_i, n_i, rip_j, rcx_j, n_j;
        run_timer_loop(false, after, &rip_i, &rcx_i, &n_i);
        tcgl_jit_stats(&st0);
        run_timer_loop(true, after, &rip_j, &rcx_j, &n_j);
        tcgl_jit_stats(&st1);
        g_assert_cmphex(rip_j, ==, rip_i);
        g_assert_cmphex(rcx_j, ==, rcx_i);
        g_assert_cmpuint(n_j, ==, n_i);
        /* within the block that raised it (the PAUSE ends no block here:
         * the interrupt comes at the loop's end, one INC later) */
        g_assert_cmpuint(rcx_j - timer_rcx, <=, 1);
        if (after > 10) {
            g_assert_cmpuint(st1.links - st0.links, >=, 1);
        }
    }
}

/* An interrupt and an exit request from another thread while a chained
 * loop spins (inc rax; jmp back): both are seen.  The interrupt comes as
 * cpu_interrupt() raises it, with its kick (exit_request): the stub's
 * slice ends at the kick and the interrupt is taken when it runs again. */
static gpointer raise_later(gpointer arg)
{
    g_usleep(50 * 1000);
    if (!arg) {
        __atomic_or_fetch(&stub.cpu.interrupt_request, CPU_INTERRUPT_HARD, __ATOMIC_SEQ_CST);
    }
    stub.c.exit_request = 1;
    return NULL;
}

static void test_jit_chain_async(void)
{
    TCGLJitStats st0, st1;

    for (int k = 0; k < 2; k++) {
        GThread *t;
        TCGLExit ret;

        jit_mode(true, 1);
        tcgl_jit_stats(&st0);
        stub_reset(64);
        x86_irq_set_pic(NULL, timer_read_irq);
        stub_write(CODE_AT, "\x48\xff\xc0\xeb\xfb\x0f\x0b", 7);   /* inc rax; jmp $-3 */
        stub_write(0x9000, "\x0f\x0b", 2);
        stub.hwint_handler = 0x9000;
        stub.c.env->rflags |= 0x200;
        stub.c.env->rip = CODE_AT;
        stub.nr_events = 0;
        t = g_thread_new("raise", raise_later, k ? (gpointer)1 : NULL);
        ret = tcgl_cpu_exec(&stub.c);
        g_thread_join(t);
        g_assert_cmpint(ret, ==, TCGL_EXIT_REQUEST);
        g_assert_cmphex(stub.c.env->rip, ==, CODE_AT);
        if (!k) {
            g_assert_cmpuint(stub.nr_hwints, ==, 0);
            ret = tcgl_cpu_exec(&stub.c);       /* the next slice takes it */
        }
        tcgl_jit_stats(&st1);
        g_assert_cmpuint(st1.links - st0.links, >=, 1);     /* the loop onto itself */
        g_assert_cmpuint(R()[R_EAX], >, 1000);
        if (k) {
            g_assert_cmpint(ret, ==, TCGL_EXIT_REQUEST);
            g_assert_cmpuint(stub.nr_hwints, ==, 0);
            g_assert_cmphex(stub.c.env->rip, ==, CODE_AT);
        } else {
            g_assert_cmpuint(stub.nr_hwints, ==, 1);
            g_assert_cmphex(stub.hwint_rip, ==, CODE_AT);
            g_assert_cmphex(stub.c.env->rip, ==, 0x9000);
        }
        x86_irq_set_pic(NULL, NULL);
        stub.cpu.interrupt_request = 0;
    }
}

/* A maskable interrupt pending while the guest runs with IF clear (IRQ 0
 * of the PIT that SeaBIOS left running, while the kernel's decompressor
 * runs with interrupts off): the chained code must not leave for the
 * executor at every block end (which finds nothing to deliver), and the
 * interrupt comes as soon as IF is set, at the end of that block even
 * when the block is chained to the next (here IF is set by the 1000th
 * PAUSE, through tcgl_set_rflags() as POPF sets it: the core stubs have
 * no STI).
 * 0x2000: inc rax; dec rcx; jnz 0x2000; 0x2008: inc rdx; pause; jmp
 * 0x2008; ud2.  The handler at 0x9000: ud2. */
static void set_if_hook(void)
{
    if (stub.nr_pauses == 1000) {
        tcgl_set_rflags(&stub.c, 0x200, 0x200);     /* as POPF does */
    } else if (stub.nr_pauses > 100000) {
        stub.c.exit_request = 1;                    /* (missed: give up) */
    }
}

static void run_masked_irq(bool jit, uint64_t *lookups, uint64_t *hw_rip, uint64_t *rdx,
                           uint64_t *insns)
{
    static const uint8_t code[] = {
        0x48, 0xff, 0xc0, 0x48, 0xff, 0xc9, 0x75, 0xf8,
        0x48, 0xff, 0xc2, 0xf3, 0x90, 0xeb, 0xf9, 0x0f, 0x0b,
    };
    jit_mode(jit, 1);
    stub_reset(64);
    x86_irq_set_pic(NULL, timer_read_irq);
    stub_write(CODE_AT, code, sizeof(code));
    stub_write(0x9000, "\x0f\x0b", 2);
    stub.hwint_handler = 0x9000;
    stub.pause_hook = set_if_hook;
    stub.nr_pauses = 0;
    stub.c.env->rflags &= ~(uint64_t)0x200;
    stub.cpu.interrupt_request = CPU_INTERRUPT_HARD;
    R()[R_EAX] = 0;
    R()[R_ECX] = 100000;
    R()[R_EDX] = 0;
    stub.c.env->rip = CODE_AT;
    stub.nr_events = 0;
    stub.c.insns = 0;
    stub.c.exec_lookups = 0;
    tcgl_cpu_exec(&stub.c);
    g_assert_cmpuint(stub.nr_hwints, ==, 1);
    g_assert_cmpint(stub.last_hwint, ==, 0x30);
    g_assert_cmpint(stub.last_event.vector, ==, 6);
    g_assert_cmphex(stub.c.env->rip, ==, 0x9000);
    g_assert_cmpuint(R()[R_EAX], ==, 100000);
    g_assert_cmpuint(R()[R_ECX], ==, 0);
    *lookups = stub.c.exec_lookups;
    *hw_rip = stub.hwint_rip;
    *rdx = R()[R_EDX];
    *insns = stub.c.insns;
    stub.pause_hook = NULL;
    x86_irq_set_pic(NULL, NULL);
    stub.cpu.interrupt_request = 0;
}

static void test_jit_chain_masked_irq(void)
{
    uint64_t look_i, rip_i, rdx_i, n_i, look_j, rip_j, rdx_j, n_j;

    run_masked_irq(false, &look_i, &rip_i, &rdx_i, &n_i);
    run_masked_irq(true, &look_j, &rip_j, &rdx_j, &n_j);
    /* delivered at the end of the block whose PAUSE set IF */
    g_assert_cmphex(rip_i, ==, CODE_AT + 8);
    g_assert_cmpuint(rdx_i, ==, 1000);
    g_assert_cmphex(rip_j, ==, rip_i);
    g_assert_cmpuint(rdx_j, ==, rdx_i);
    g_assert_cmpuint(n_j, ==, n_i);
    /* the interpreter looks up every block; the chained loops run on */
    g_assert_cmpuint(look_i, >=, 100000);
    g_assert_cmpuint(look_j, <, 100);
}

/* Runs a counting loop at `at` (rax = 0, rcx = n, rsp = 0x8000; PAUSE
 * calls `hook`) under the interpreter, then compiled from its first run,
 * to the UD2 at `ud2_at`: both stop there after that one event, with rax
 * == rax_end and rcx == 0, and run the same number of instructions.
 * Returns the executor's block lookups: interpreter, JIT. */
static void run_loop_both(const uint8_t *code, size_t len, uint64_t at, uint64_t n,
                          void (*hook)(void), uint64_t ud2_at, uint64_t rax_end,
                          uint64_t lookups[2])
{
    uint64_t insns_i = 0;

    for (int jit = 0; jit < 2; jit++) {
        jit_mode(jit, 1);
        stub_reset(64);
        stub_write(at, code, len);
        stub.pause_hook = hook;
        R()[R_EAX] = 0;
        R()[R_ECX] = n;
        R()[R_ESP] = 0x8000;
        stub.c.env->rip = at;
        stub.nr_events = 0;
        stub.c.insns = 0;
        stub.c.exec_lookups = 0;
        tcgl_cpu_exec(&stub.c);
        stub.pause_hook = NULL;
        g_assert_cmpuint(stub.nr_events, ==, 1);
        g_assert_cmpint(stub.last_event.vector, ==, 6);
        g_assert_cmphex(stub.c.env->rip, ==, ud2_at);
        g_assert_cmpuint(R()[R_EAX], ==, rax_end);
        g_assert_cmpuint(R()[R_ECX], ==, 0);
        g_assert_cmphex(R()[R_ESP], ==, 0x8000);
        if (jit) {
            g_assert_cmpuint(stub.c.insns, ==, insns_i);
        } else {
            insns_i = stub.c.insns;
        }
        lookups[jit] = stub.c.exec_lookups;
    }
}

/* A loop whose body crosses a page boundary: the block that ends with
 * the instruction across it spans two pages; the block after it on the
 * second page chains back to it (checking the first page's TLB entry)
 * instead of leaving for the executor at every pass.  0x2ff8: inc rax;
 * dec rcx; mov edx, 0x12345678 (0x2ffe..0x3002); test rcx, rcx;
 * jnz 0x2ff8; ud2.  Interpreter and JIT agree; the JIT's loop comes
 * back to the executor only a few times. */
static void test_jit_chain_two_pages(void)
{
    static const uint8_t code[] = {
        0x48, 0xff, 0xc0, 0x48, 0xff, 0xc9, 0xba, 0x78, 0x56, 0x34, 0x12,
        0x48, 0x85, 0xc9, 0x0f, 0x85, 0xec, 0xff, 0xff, 0xff, 0x0f, 0x0b,
    };
    uint64_t lookups[2];

    run_loop_both(code, sizeof(code), 0x2ff8, 100000, NULL, 0x300c, 100000, lookups);
    g_assert_cmphex(R()[R_EDX], ==, 0x12345678);
    g_assert_cmpuint(lookups[0], >=, 200000);
    g_assert_cmpuint(lookups[1], <, 100);
}

/* What the executor must see before the next block (a TLB flush or mode
 * change, an interrupt shadow: c->chain_break, set by those instructions
 * in the sys and mmu parts) stops chained code at the block's end, like
 * an exit request or a code write (one word, c->chain_stop).  0x2000:
 * inc rax; pause; dec rcx; jnz 0x2000; ud2, PAUSE's hook setting the
 * field: every pass comes back to the executor; without it the chained
 * loop runs on.  Interpreter and JIT agree either way. */
static void set_chain_break_hook(void)
{
    stub.c.chain_break = true;
}

static void set_invalidated_hook(void)
{
    stub.c.block_invalidated = true;
}

static void test_jit_chain_stop(void)
{
    static const uint8_t code[] = {
        0x48, 0xff, 0xc0, 0xf3, 0x90, 0x48, 0xff, 0xc9, 0x75, 0xf6, 0x0f, 0x0b,
    };
    void (*hooks[])(void) = { NULL, set_chain_break_hook, set_invalidated_hook };
    uint64_t lookups[2];

    for (unsigned h = 0; h < G_N_ELEMENTS(hooks); h++) {
        run_loop_both(code, sizeof(code), CODE_AT, 20000, hooks[h], CODE_AT + 10, 20000, lookups);
        g_assert_cmpuint(lookups[0], >=, 20000);
        if (hooks[h]) {
            g_assert_cmpuint(lookups[1], >=, 20000);
        } else {
            g_assert_cmpuint(lookups[1], <, 100);
        }
    }
}

/* A RET with more successors than link slots: the third return goes
 * through the executor's jump cache from the compiled code
 * (tcgl_chain_lookup), not back to the executor.  0x2000: call f; call f;
 * call f; dec rcx; jnz 0x2000; ud2; f (0x2016): inc rax; ret. */
static void test_jit_chain_lookup(void)
{
    static const uint8_t code[] = {
        0xe8, 0x11, 0x00, 0x00, 0x00, 0xe8, 0x0c, 0x00, 0x00, 0x00,
        0xe8, 0x07, 0x00, 0x00, 0x00, 0x48, 0xff, 0xc9, 0x75, 0xec,
        0x0f, 0x0b, 0x48, 0xff, 0xc0, 0xc3,
    };
    uint64_t lookups[2];

    run_loop_both(code, sizeof(code), CODE_AT, 20000, NULL, CODE_AT + 0x14, 60000, lookups);
    g_assert_cmpuint(lookups[0], >=, 20000 * 4);
    g_assert_cmpuint(lookups[1], <, 100);
}

/* Runs `inc rax; ud2` at 0x2000 n times, sleeping gap_ms between runs;
 * returns how many blocks the JIT compiled meanwhile. */
static uint64_t window_runs(unsigned n, unsigned gap_ms)
{
    static const uint8_t code[] = { 0x48, 0xff, 0xc0, 0x0f, 0x0b };
    TCGLJitStats s0, s1;

    stub_reset(64);
    stub_write(0x2000, code, sizeof(code));
    R()[R_EAX] = 0;
    tcgl_jit_stats(&s0);
    for (unsigned k = 0; k < n; k++) {
        if (gap_ms) {
            g_usleep(gap_ms * 1000);
        }
        stub.c.env->rip = 0x2000;
        stub.nr_events = 0;
        tcgl_cpu_exec(&stub.c);
        g_assert_cmpuint(stub.nr_events, ==, 1);
        g_assert_cmpint(stub.last_event.vector, ==, 6);
    }
    g_assert_cmpuint(R()[R_EAX], ==, n);
    tcgl_jit_stats(&s1);
    return s1.blocks - s0.blocks;
}

/* With a window, a block that runs the threshold's number of times
 * within it is compiled; one that runs as often but slowly (one run
 * every 30 ms, a window of 20 ms) stays with the executor; without a
 * window both are compiled.  (The coarse clock ticks every few ms.) */
static void test_jit_window(void)
{
    unsigned saved = tcgl_jit_window_ms();

    jit_mode(true, 4);
    tcgl_jit_set_window_ms(20);
    g_assert_cmpuint(window_runs(8, 0), ==, 1);
    jit_mode(true, 4);
    g_assert_cmpuint(window_runs(8, 30), ==, 0);
    jit_mode(true, 4);
    tcgl_jit_set_window_ms(0);
    g_assert_cmpuint(window_runs(8, 30), ==, 1);
    tcgl_jit_set_window_ms(saved);
}

/* Runs the block at 0x2000 (`inc rax; ud2`) n times. */
static void run_ud2_block(unsigned n)
{
    for (unsigned k = 0; k < n; k++) {
        stub.c.env->rip = 0x2000;
        stub.nr_events = 0;
        tcgl_cpu_exec(&stub.c);
        g_assert_cmpuint(stub.nr_events, ==, 1);
        g_assert_cmpint(stub.last_event.vector, ==, 6);
    }
}

/* tcgl_blocks_uncompile() (what an idle guest gets, tcg-all.c): the
 * compiled code goes and the arena is empty, the decoded block stays and
 * runs in the executor, and compiles again once it is hot again. */
static void test_jit_uncompile(void)
{
    static const uint8_t code[] = { 0x48, 0xff, 0xc0, 0x0f, 0x0b };
    unsigned saved = tcgl_jit_window_ms();
    TCGLJitStats s0, s1;

    jit_mode(true, 4);
    tcgl_jit_set_window_ms(0);
    stub_reset(64);
    stub_write(0x2000, code, sizeof(code));
    R()[R_EAX] = 0;
    tcgl_jit_stats(&s0);
    run_ud2_block(8);
    tcgl_jit_stats(&s1);
    g_assert_cmpuint(s1.blocks - s0.blocks, ==, 1);
    g_assert_cmpuint(s1.used, >, 0);

    g_assert_true(tcgl_blocks_uncompile());
    tcgl_jit_stats(&s1);
    g_assert_cmpuint(s1.used, ==, 0);
    g_assert_false(tcgl_blocks_uncompile());       /* nothing left to drop */

    run_ud2_block(2);                               /* below the threshold again */
    tcgl_jit_stats(&s1);
    g_assert_cmpuint(s1.blocks - s0.blocks, ==, 1);
    g_assert_cmpuint(s1.used, ==, 0);
    run_ud2_block(6);
    tcgl_jit_stats(&s1);
    g_assert_cmpuint(s1.blocks - s0.blocks, ==, 2);
    g_assert_cmpuint(s1.used, >, 0);
    g_assert_cmpuint(R()[R_EAX], ==, 16);
    tcgl_jit_set_window_ms(saved);
}

static void test_jit_option(void)
{
    GError *err = NULL;
    g_assert_true(tcgl_jit_set_enabled(false, &err));
    g_assert_false(tcgl_jit_enabled());
#if defined(__x86_64__)
    g_assert_true(tcgl_jit_set_enabled(true, &err));
    g_assert_true(tcgl_jit_enabled());
#else
    g_assert_false(tcgl_jit_set_enabled(true, &err));
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(err->message, "jit=on"));
    g_error_free(err);
#endif
    tcgl_jit_set_threshold(0);
    g_assert_cmpuint(tcgl_jit_threshold(), ==, 1);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    stub_reset(32);
    tcgl_exec_init();
    g_test_add_func("/tcgl/jit/option", test_jit_option);
#if defined(__x86_64__)
    g_test_add_func("/tcgl/jit/differential", test_jit_differential);
    g_test_add_func("/tcgl/jit/smc", test_jit_smc);
    g_test_add_func("/tcgl/jit/faults", test_jit_faults);
    g_test_add_func("/tcgl/jit/flags-remat", test_jit_flags_remat);
    g_test_add_func("/tcgl/jit/misaligned", test_jit_misaligned);
    g_test_add_func("/tcgl/jit/ac-cpl", test_jit_ac_cpl);
    g_test_add_func("/tcgl/jit/nop", test_jit_nop);
    g_test_add_func("/tcgl/jit/inline-ops", test_jit_inline_ops);
    g_test_add_func("/tcgl/jit/dead-flags", test_jit_dead_flags);
    g_test_add_func("/tcgl/jit/neg-xadd", test_jit_neg_xadd);
    g_test_add_func("/tcgl/jit/pushpop-run", test_jit_pushpop_run);
    g_test_add_func("/tcgl/jit/chain-smc", test_jit_chain_smc);
    g_test_add_func("/tcgl/jit/chain-pages", test_jit_chain_pages);
    g_test_add_func("/tcgl/jit/chain-timer", test_jit_chain_timer);
    g_test_add_func("/tcgl/jit/chain-async", test_jit_chain_async);
    g_test_add_func("/tcgl/jit/chain-masked-irq", test_jit_chain_masked_irq);
    g_test_add_func("/tcgl/jit/chain-two-pages", test_jit_chain_two_pages);
    g_test_add_func("/tcgl/jit/chain-stop", test_jit_chain_stop);
    g_test_add_func("/tcgl/jit/chain-lookup", test_jit_chain_lookup);
    g_test_add_func("/tcgl/jit/window", test_jit_window);
    g_test_add_func("/tcgl/jit/uncompile", test_jit_uncompile);
#endif
    return g_test_run();
}

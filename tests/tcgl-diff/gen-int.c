/*
 * Directed cases, integer instructions: every ALU operation at 8/16/32/64
 * bits over edge values, shifts and rotates with the interesting counts,
 * multiply/divide with #DE, BCD (32-bit mode), bit operations, string
 * operations with DF and REP, CMPXCHG/XADD/CMPXCHG8B/16B, conditions.
 * Each case says which flags the architecture leaves undefined (Intel SDM
 * and AMD APM together: a flag undefined in either is not compared).
 */
#include <stdio.h>
#include "enc.h"
#include "gen.h"

static const char *const alu_name[8] = { "add", "or", "adc", "sbb", "and", "sub", "xor", "cmp" };

/* ---- ALU: ADD OR ADC SBB AND SUB XOR CMP, TEST ---------------------------- */

static uint32_t alu_undef(int op)
{
    /* logical operations leave AF undefined */
    return (op == 1 || op == 4 || op == 6 || op == 8) ? DF_AF : 0;
}

void gen_alu(DiffEmit *emit, void *opaque)
{
    static DiffCase c;
    uint64_t v[16];
    char name[64];

    for (int op = 0; op < 9; op++) {            /* 8: TEST */
        const char *nm = op == 8 ? "test" : alu_name[op];
        for (unsigned size = 1; size <= 8; size *= 2) {
            unsigned nv = edge_values(size, v);
            for (unsigned i = 0; i < nv; i++) {
                for (unsigned j = 0; j < nv; j++) {
                    for (int fl = 0; fl < 2; fl++) {
                        /* op r/m, reg: rax <- rax op rcx */
                        EncOp o = enc_op(1, op == 8 ? (size == 1 ? 0x84 : 0x85)
                                                    : op * 8 + (size == 1 ? 0 : 1), 0, 0);
                        enc_size(&o, size);
                        o.reg = D_RCX;
                        o.rm = D_RAX;
                        snprintf(name, sizeof(name), "%s%u %#llx,%#llx fl%d", nm, size * 8,
                                 (unsigned long long)v[i], (unsigned long long)v[j], fl);
                        diff_case_init(&c, name, 64);
                        emit_op(&c, &o);
                        set_reg(&c, D_RAX, size, v[i]);
                        set_reg(&c, D_RCX, size, v[j]);
                        c.in.rflags = fl ? FL_ALL : FL_NONE;
                        c.undef_flags = alu_undef(op);
                        emit(opaque, &c);
                    }
                    if (op == 8 || (i + j) % 3) {
                        continue;
                    }
                    /* memory forms on a third of the pairs: op [rdi+8], rcx
                     * (with and without LOCK), op rcx, [rdi+8] */
                    for (int form = 0; form < 3; form++) {
                        if (form == 1 && op == 7) {
                            continue;               /* LOCK CMP is #UD: the ud group tests it */
                        }
                        EncOp o = enc_op(1, op * 8 + (size == 1 ? 0 : 1) + (form == 2 ? 2 : 0), 0, 0);
                        if (form == 1) {
                            enc_pfx(&o, 0xf0);
                        }
                        enc_size(&o, size);
                        o.reg = D_RCX;
                        o.base = D_RDI;
                        o.disp = 8;
                        snprintf(name, sizeof(name), "%s%u mem%d %#llx,%#llx", nm, size * 8, form,
                                 (unsigned long long)v[i], (unsigned long long)v[j]);
                        diff_case_init(&c, name, 64);
                        emit_op(&c, &o);
                        c.in.gpr[D_RDI] = DIFF_DATA_ADDR + 0x100;
                        memcpy(c.in.data + 0x108, &v[i], size);
                        set_reg(&c, D_RCX, size, v[j]);
                        c.in.rflags = (i & 1) ? FL_ALL : FL_NONE;
                        c.undef_flags = alu_undef(op);
                        emit(opaque, &c);
                    }
                }
            }
            /* immediates: 80/81/83 /op and the accumulator short forms */
            static const uint64_t imms[] = { 0, 1, 0x7f, 0x80, 0xff, 0x7fffffff, 0x80000000, 0xffffffff };
            for (unsigned i = 0; i < nv; i++) {
                for (unsigned k = 0; k < 8; k++) {
                    for (int form = 0; form < 3; form++) {
                        EncOp o;
                        unsigned ilen = size == 1 ? 1 : size == 2 ? 2 : 4;
                        if (op == 8) {
                            o = enc_op(1, size == 1 ? 0xf6 : 0xf7, 0, 0);
                            o.reg = 0;
                            o.rm = D_RBX;
                            if (form) {
                                continue;
                            }
                        } else if (form == 0) {
                            o = enc_op(1, size == 1 ? 0x80 : 0x81, 0, 0);
                            o.reg = op;
                            o.rm = D_RBX;
                        } else if (form == 1) {
                            if (size == 1) {
                                continue;
                            }
                            o = enc_op(1, 0x83, 0, 0);
                            o.reg = op;
                            o.rm = D_RBX;
                            ilen = 1;
                        } else {
                            o = enc_op(1, op * 8 + (size == 1 ? 4 : 5), 0, 0);
                        }
                        enc_size(&o, size);
                        o.immlen = ilen;
                        o.imm = imms[k];
                        if (ilen < 4 && imms[k] > size_mask(ilen)) {
                            continue;
                        }
                        snprintf(name, sizeof(name), "%s%u imm%d %#llx,%#llx", nm, size * 8, form,
                                 (unsigned long long)v[i], (unsigned long long)imms[k]);
                        diff_case_init(&c, name, 64);
                        emit_op(&c, &o);
                        set_reg(&c, form == 2 ? D_RAX : D_RBX, size, v[i]);
                        c.in.rflags = (k & 1) ? FL_ALL : FL_NONE;
                        c.undef_flags = alu_undef(op);
                        emit(opaque, &c);
                    }
                }
            }
        }
        /* byte registers: AH..BH without REX, SPL..DIL and R8B.. with REX */
        static const struct { int dst, src; bool rex; } br[] = {
            { 4, 5, false }, { 7, 2, false }, { 4, 5, true }, { 7, 14, true }, { 9, 6, true },
        };
        edge_values(1, v);
        for (unsigned k = 0; k < sizeof(br) / sizeof(br[0]); k++) {
            for (unsigned i = 0; i < 14; i += 3) {
                uint64_t a = v[i], b = v[13 - i];
                EncOp o = enc_op(1, op == 8 ? 0x84 : op * 8, 0, 0);
                o.reg = br[k].src;
                o.rm = br[k].dst;
                o.rex = br[k].rex;
                snprintf(name, sizeof(name), "%s8 breg%u %#llx,%#llx", nm, k,
                         (unsigned long long)a, (unsigned long long)b);
                diff_case_init(&c, name, 64);
                emit_op(&c, &o);
                for (int r = 0; r < 16; r++) {
                    c.in.gpr[r] = GARBAGE ^ (0x1111111111111111ULL * r);
                }
                c.in.gpr[D_RSP] = DIFF_STACK_ADDR + 0x800;
                set_reg(&c, br[k].rex || br[k].dst < 4 ? br[k].dst : br[k].dst + 12, 1, a);
                set_reg(&c, br[k].rex || br[k].src < 4 || br[k].src >= 8 ? br[k].src : br[k].src + 12, 1, b);
                c.undef_flags = alu_undef(op);
                emit(opaque, &c);
            }
        }
    }
}

/* ---- INC DEC NEG NOT ---------------------------------------------------------- */

void gen_unary(DiffEmit *emit, void *opaque)
{
    static DiffCase c;
    static const char *const nm[4] = { "inc", "dec", "not", "neg" };
    static const int ext[4] = { 0, 1, 2, 3 };
    uint64_t v[16];
    char name[64];

    for (int k = 0; k < 4; k++) {
        for (unsigned size = 1; size <= 8; size *= 2) {
            unsigned nv = edge_values(size, v);
            for (unsigned i = 0; i < nv; i++) {
                for (int fl = 0; fl < 2; fl++) {
                    for (int mem = 0; mem < 2; mem++) {
                        EncOp o = enc_op(1, k < 2 ? (size == 1 ? 0xfe : 0xff)
                                                  : (size == 1 ? 0xf6 : 0xf7), 0, 0);
                        enc_size(&o, size);
                        o.reg = ext[k];
                        o.rm = D_RDX;
                        if (mem) {
                            o.base = D_RDI;
                            o.disp = -8;
                        }
                        snprintf(name, sizeof(name), "%s%u%s %#llx fl%d", nm[k], size * 8,
                                 mem ? " mem" : "", (unsigned long long)v[i], fl);
                        diff_case_init(&c, name, 64);
                        emit_op(&c, &o);
                        set_reg(&c, D_RDX, size, v[i]);
                        c.in.gpr[D_RDI] = DIFF_DATA_ADDR + 0x208;
                        memcpy(c.in.data + 0x200, &v[i], size);
                        c.in.rflags = fl ? FL_ALL : FL_NONE;
                        emit(opaque, &c);
                    }
                }
            }
        }
    }
}

/* ---- SETcc, CMOVcc, LAHF/SAHF, CMC/CLC/STC -------------------------------------- */

void gen_cond(DiffEmit *emit, void *opaque)
{
    static DiffCase c;
    char name[64];
    static const uint32_t fl_bits[6] = { DF_CF, DF_PF, DF_AF, DF_ZF, DF_SF, DF_OF };

    for (unsigned f = 0; f < 64; f++) {
        uint64_t fl = 2;
        for (int b = 0; b < 6; b++) {
            if (f & (1u << b)) {
                fl |= fl_bits[b];
            }
        }
        for (int cc = 0; cc < 16; cc++) {
            /* setcc bl; cmovcc rcx, rdx; cmovcc r9d, [rdi] */
            EncOp s = enc_op(2, 0x0f, 0x90 + cc, 0);
            s.reg = 0;
            s.rm = D_RBX;
            EncOp m = enc_op(2, 0x0f, 0x40 + cc, 0);
            m.w = true;
            m.reg = D_RCX;
            m.rm = D_RDX;
            EncOp m2 = enc_op(2, 0x0f, 0x40 + cc, 0);
            m2.reg = D_R9;
            m2.base = D_RDI;
            snprintf(name, sizeof(name), "setcc/cmovcc %d fl %#llx", cc, (unsigned long long)fl);
            diff_case_init(&c, name, 64);
            emit_op(&c, &s);
            emit_op(&c, &m);
            emit_op(&c, &m2);
            c.in.gpr[D_RBX] = GARBAGE;
            c.in.gpr[D_RCX] = 0x1111111111111111ULL;
            c.in.gpr[D_RDX] = 0x2222222222222222ULL;
            c.in.gpr[D_R9] = 0x3333333333333333ULL;     /* CMOV32 not taken still zero-extends */
            c.in.gpr[D_RDI] = DIFF_DATA_ADDR + 0x40;
            memcpy(c.in.data + 0x40, "\x44\x44\x44\x44", 4);
            c.in.rflags = fl;
            emit(opaque, &c);
        }
        /* lahf; mov al, ah... : lahf; xor ah,0xd5; sahf; cmc */
        snprintf(name, sizeof(name), "lahf/sahf/cmc fl %#llx", (unsigned long long)fl);
        diff_case_init(&c, name, 64);
        emit_bytes(&c, 6, 0x9f, 0x80, 0xf4, 0xd5, 0x9e, 0xf5);
        c.in.gpr[D_RAX] = GARBAGE;
        c.in.rflags = fl;
        emit(opaque, &c);
        snprintf(name, sizeof(name), "stc/clc/std/cld fl %#llx", (unsigned long long)fl);
        diff_case_init(&c, name, 64);
        emit_bytes(&c, (f & 1) ? 2 : 1, (f & 1) ? 0xf9 : 0xf8, (f & 2) ? 0xfd : 0xfc);
        c.in.rflags = fl;
        emit(opaque, &c);
    }
}

/* ---- MOVZX MOVSX MOVSXD BSWAP CBW.. LEA XCHG XLAT ----------------------------------- */

void gen_misc(DiffEmit *emit, void *opaque)
{
    static DiffCase c;
    char name[64];
    uint64_t v[16];
    unsigned nv = edge_values(8, v);

    for (unsigned i = 0; i < nv; i++) {
        uint64_t x = v[i] ^ 0x8080808080808080ULL;
        /* movzx/movsx at every source/destination size */
        static const struct { uint8_t op, w, p66; } mx[] = {
            { 0xb6, 0, 0 }, { 0xb6, 0, 1 }, { 0xb6, 1, 0 }, { 0xb7, 0, 0 }, { 0xb7, 1, 0 },
            { 0xbe, 0, 0 }, { 0xbe, 0, 1 }, { 0xbe, 1, 0 }, { 0xbf, 0, 0 }, { 0xbf, 1, 0 },
        };
        for (unsigned k = 0; k < sizeof(mx) / sizeof(mx[0]); k++) {
            EncOp o = enc_op(2, 0x0f, mx[k].op, 0);
            o.w = mx[k].w;
            if (mx[k].p66) {
                enc_pfx(&o, 0x66);
            }
            o.reg = D_RAX;
            o.rm = D_RCX;
            snprintf(name, sizeof(name), "movx %02x w%d o%d %#llx", mx[k].op, mx[k].w, mx[k].p66,
                     (unsigned long long)x);
            diff_case_init(&c, name, 64);
            emit_op(&c, &o);
            c.in.gpr[D_RAX] = GARBAGE;
            c.in.gpr[D_RCX] = x;
            emit(opaque, &c);
        }
        /* movsxd; bswap r32/r64; cbw cwde cdqe cwd cdq cqo */
        snprintf(name, sizeof(name), "movsxd/bswap/cbw.. %#llx", (unsigned long long)x);
        diff_case_init(&c, name, 64);
        emit_bytes(&c, 3, 0x48, 0x63, 0xd9);          /* movsxd rbx, ecx */
        emit_bytes(&c, 2, 0x0f, 0xca);                /* bswap edx */
        emit_bytes(&c, 3, 0x49, 0x0f, 0xc8);          /* bswap r8 */
        emit_bytes(&c, 2, 0x66, 0x98);                /* cbw */
        emit_bytes(&c, 2, 0x66, 0x99);                /* cwd */
        emit_bytes(&c, 1, 0x98);                      /* cwde */
        emit_bytes(&c, 1, 0x99);                      /* cdq */
        emit_bytes(&c, 2, 0x48, 0x98);                /* cdqe */
        emit_bytes(&c, 2, 0x48, 0x99);                /* cqo */
        c.in.gpr[D_RAX] = x;
        c.in.gpr[D_RCX] = v[nv - 1 - i];
        c.in.gpr[D_RDX] = x * 3;
        c.in.gpr[D_R8] = ~x;
        emit(opaque, &c);
        /* lea in every address size, with scaled index and wrap */
        snprintf(name, sizeof(name), "lea %#llx", (unsigned long long)x);
        diff_case_init(&c, name, 64);
        emit_bytes(&c, 5, 0x48, 0x8d, 0x44, 0x8b, 0x7f);          /* lea rax, [rbx+rcx*4+0x7f] */
        emit_bytes(&c, 5, 0x67, 0x8d, 0x54, 0xcb, 0x80);          /* lea edx, [ebx+ecx*8-0x80] */
        emit_bytes(&c, 5, 0x66, 0x8d, 0x74, 0x4b, 0x01);          /* lea si, [rbx+rcx*2+1] */
        emit_bytes(&c, 8, 0x4c, 0x8d, 0x84, 0x4b, 0x78, 0x56, 0x34, 0x12); /* lea r8, [rbx+rcx*2+0x12345678] */
        emit_bytes(&c, 7, 0x48, 0x8d, 0x3d, 0x10, 0x00, 0x00, 0x00); /* lea rdi, [rip+0x10] */
        c.in.gpr[D_RBX] = x;
        c.in.gpr[D_RCX] = v[(i + 5) % nv];
        c.in.gpr[D_RSI] = GARBAGE;
        emit(opaque, &c);
        /* xchg reg/mem, xlat */
        snprintf(name, sizeof(name), "xchg/xlat %#llx", (unsigned long long)x);
        diff_case_init(&c, name, 64);
        emit_bytes(&c, 3, 0x48, 0x87, 0xd9);          /* xchg rcx, rbx */
        emit_bytes(&c, 2, 0x86, 0xe2);                /* xchg dl, ah */
        emit_bytes(&c, 3, 0x66, 0x87, 0x37);          /* xchg [rdi], si */
        emit_bytes(&c, 1, 0x93);                      /* xchg ebx, eax */
        emit_bytes(&c, 3, 0x48, 0x8d, 0x1f);          /* lea rbx, [rdi] */
        emit_bytes(&c, 1, 0xd7);                      /* xlat */
        c.in.gpr[D_RAX] = x;
        c.in.gpr[D_RCX] = v[(i + 3) % nv];
        c.in.gpr[D_RDX] = ~x;
        c.in.gpr[D_RSI] = x >> 7;
        c.in.gpr[D_RDI] = DIFF_DATA_ADDR + 0x300;
        for (int k = 0; k < 256; k++) {
            c.in.data[0x300 + k] = (uint8_t)(k * 7 + i);
        }
        emit(opaque, &c);
    }
}

/* ---- shifts and rotates ----------------------------------------------------------- */

enum { ROL, ROR, RCL, RCR, SHL, SHR, SAL, SAR };
static const char *const sh_name[8] = { "rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar" };

static void shift_undef(DiffCase *c, int op, unsigned size, unsigned count)
{
    unsigned mc = count & (size == 8 ? 63 : 31);
    if (mc == 0) {
        return;                         /* no flag changes */
    }
    if (mc != 1) {
        c->undef_flags |= DF_OF;
    }
    if (op >= SHL) {
        c->undef_flags |= DF_AF;
        if (op != SAR && mc >= size * 8) {
            c->undef_flags |= DF_CF;
        }
    }
}

void gen_shift(DiffEmit *emit, void *opaque)
{
    static DiffCase c;
    static const unsigned counts[] = { 0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 0x80, 0xff };
    static const uint64_t vals[] = { 0, 1, 0x8000000000000001ULL, 0x5555555555555555ULL,
                                     0xaaaaaaaaaaaaaaaaULL, ~0ULL, 0x7fffffffffffffffULL,
                                     0x4000000000000000ULL, 0xc3, 0x8000, 0x80000000ULL, 0x123456789abcdef0ULL };
    char name[80];

    for (int op = 0; op < 8; op++) {
        for (unsigned size = 1; size <= 8; size *= 2) {
            for (unsigned vi = 0; vi < sizeof(vals) / sizeof(vals[0]); vi++) {
                uint64_t val = vals[vi] >> (64 - 8 * size) | (vals[vi] & size_mask(size));
                for (unsigned ci = 0; ci < sizeof(counts) / sizeof(counts[0]); ci++) {
                    for (int form = 0; form < 3; form++) {   /* by CL, by imm8, by 1 */
                        unsigned cnt = counts[ci];
                        if (form == 2 && cnt != 1) {
                            continue;
                        }
                        for (int fl = 0; fl < 2; fl++) {
                            EncOp o = enc_op(1, form == 0 ? (size == 1 ? 0xd2 : 0xd3)
                                                : form == 1 ? (size == 1 ? 0xc0 : 0xc1)
                                                            : (size == 1 ? 0xd0 : 0xd1), 0, 0);
                            enc_size(&o, size);
                            o.reg = op;
                            o.rm = D_RAX;
                            if (form == 1) {
                                o.immlen = 1;
                                o.imm = cnt;
                            }
                            snprintf(name, sizeof(name), "%s%u f%d %#llx by %u fl%d", sh_name[op],
                                     size * 8, form, (unsigned long long)val, cnt, fl);
                            diff_case_init(&c, name, 64);
                            emit_op(&c, &o);
                            set_reg(&c, D_RAX, size, val);
                            c.in.gpr[D_RCX] = 0xabcdef00 | cnt;
                            c.in.rflags = fl ? FL_ALL : FL_NONE;
                            shift_undef(&c, op, size, cnt);
                            emit(opaque, &c);
                        }
                    }
                }
            }
        }
    }
    /* a memory destination */
    for (int op = 0; op < 8; op++) {
        for (unsigned ci = 0; ci < 6; ci++) {
            EncOp o = enc_op(1, 0xd3, 0, 0);
            o.reg = op;
            o.base = D_RDI;
            o.disp = 0x10;
            snprintf(name, sizeof(name), "%s32 mem by %u", sh_name[op], counts[ci]);
            diff_case_init(&c, name, 64);
            emit_op(&c, &o);
            c.in.gpr[D_RDI] = DIFF_DATA_ADDR + 0xfe0;
            c.in.gpr[D_RCX] = counts[ci];
            memcpy(c.in.data + 0xff0, "\x81\x42\x24\x18", 4);
            shift_undef(&c, op, 4, counts[ci]);
            emit(opaque, &c);
        }
    }
}

/* SHLD / SHRD by CL and imm8, 16/32/64 */
void gen_shiftd(DiffEmit *emit, void *opaque)
{
    static DiffCase c;
    static const unsigned counts[] = { 0, 1, 2, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64 };
    static const uint64_t vals[][2] = {
        { 0x123456789abcdef0ULL, 0xfedcba9876543210ULL }, { 0, ~0ULL }, { ~0ULL, 0 },
        { 0x8000000000000000ULL, 1 }, { 0x5555555555555555ULL, 0xaaaaaaaaaaaaaaaaULL },
        { 0x7fff7fff7fff7fffULL, 0x8000800080008000ULL },
    };
    char name[80];

    for (int right = 0; right < 2; right++) {
        for (unsigned size = 2; size <= 8; size *= 2) {
            for (unsigned vi = 0; vi < sizeof(vals) / sizeof(vals[0]); vi++) {
                for (unsigned ci = 0; ci < sizeof(counts) / sizeof(counts[0]); ci++) {
                    for (int form = 0; form < 2; form++) {
                        unsigned cnt = counts[ci], mc = cnt & (size == 8 ? 63 : 31);
                        EncOp o = enc_op(2, 0x0f, (right ? 0xac : 0xa4) + (form ? 0 : 1), 0);
                        enc_size(&o, size);
                        o.reg = D_RDX;
                        o.rm = D_RAX;
                        if (form) {
                            o.immlen = 1;
                            o.imm = cnt;
                        }
                        snprintf(name, sizeof(name), "%s%u f%d v%u by %u", right ? "shrd" : "shld",
                                 size * 8, form, vi, cnt);
                        diff_case_init(&c, name, 64);
                        emit_op(&c, &o);
                        set_reg(&c, D_RAX, size, vals[vi][0]);
                        set_reg(&c, D_RDX, size, vals[vi][1]);
                        c.in.gpr[D_RCX] = cnt;
                        c.in.rflags = (vi & 1) ? FL_ALL : FL_NONE;
                        if (mc) {
                            c.undef_flags = DF_AF | (mc != 1 ? DF_OF : 0);
                            if (mc > size * 8) {
                                /* 16-bit with a count above 16: result and flags undefined */
                                c.undef_flags = DIFF_FLAGS_ARITH;
                                c.undef_gpr = 1u << D_RAX;
                            }
                        }
                        emit(opaque, &c);
                    }
                }
            }
        }
    }
}

/* ---- MUL IMUL DIV IDIV ---------------------------------------------------------------- */

void gen_muldiv(DiffEmit *emit, void *opaque)
{
    static DiffCase c;
    uint64_t v[16];
    char name[80];
    static const char *const nm[4] = { "mul", "imul", "div", "idiv" };

    for (unsigned size = 1; size <= 8; size *= 2) {
        unsigned nv = edge_values(size, v);
        for (int k = 0; k < 4; k++) {
            for (unsigned i = 0; i < nv; i++) {
                for (unsigned j = 0; j < nv; j++) {
                    for (unsigned hi = 0; hi < (k >= 2 ? 3u : 1u); hi++) {
                        /* op rbx: rdx:rax (or ax) by rbx */
                        EncOp o = enc_op(1, size == 1 ? 0xf6 : 0xf7, 0, 0);
                        enc_size(&o, size);
                        o.reg = 4 + k;
                        o.rm = D_RBX;
                        static const uint64_t his[3] = { 0, 1, ~0ULL };
                        snprintf(name, sizeof(name), "%s%u %#llx:%#llx / %#llx", nm[k], size * 8,
                                 (unsigned long long)his[hi], (unsigned long long)v[i],
                                 (unsigned long long)v[j]);
                        diff_case_init(&c, name, 64);
                        emit_op(&c, &o);
                        set_reg(&c, D_RAX, size, v[i]);
                        if (size == 1) {
                            c.in.gpr[D_RAX] = (c.in.gpr[D_RAX] & ~0xff00ULL) | (his[hi] & 0xff) << 8;
                        } else {
                            set_reg(&c, D_RDX, size, his[hi]);
                        }
                        set_reg(&c, D_RBX, size, v[j]);
                        c.in.rflags = (j & 1) ? FL_ALL : FL_NONE;
                        c.undef_flags = k < 2 ? (DF_SF | DF_ZF | DF_AF | DF_PF) : DIFF_FLAGS_ARITH;
                        emit(opaque, &c);
                    }
                    if (size == 1) {
                        continue;
                    }
                    /* imul r, r/m; imul r, r/m, imm8; imul r, r/m, imm32 */
                    for (int form = 0; form < 3; form++) {
                        EncOp o = form == 0 ? enc_op(2, 0x0f, 0xaf, 0)
                                            : enc_op(1, form == 1 ? 0x6b : 0x69, 0, 0);
                        enc_size(&o, size);
                        o.reg = D_RCX;
                        o.rm = D_RSI;
                        if (form) {
                            o.immlen = form == 1 ? 1 : size == 2 ? 2 : 4;
                            o.imm = v[j] & size_mask(o.immlen);
                        }
                        snprintf(name, sizeof(name), "imul%u f%d %#llx * %#llx", size * 8, form,
                                 (unsigned long long)v[i], (unsigned long long)v[j]);
                        diff_case_init(&c, name, 64);
                        emit_op(&c, &o);
                        set_reg(&c, D_RCX, size, v[j]);
                        set_reg(&c, D_RSI, size, v[i]);
                        c.undef_flags = DF_SF | DF_ZF | DF_AF | DF_PF;
                        emit(opaque, &c);
                    }
                }
            }
        }
    }
}

/* ---- BCD (32-bit compatibility mode) ------------------------------------------------------ */

void gen_bcd(DiffEmit *emit, void *opaque)
{
    static DiffCase c;
    static const struct { const char *nm; uint8_t op; uint32_t undef; } ops[] = {
        { "daa", 0x27, DF_OF }, { "das", 0x2f, DF_OF },
        { "aaa", 0x37, DF_OF | DF_SF | DF_ZF | DF_PF },
        { "aas", 0x3f, DF_OF | DF_SF | DF_ZF | DF_PF },
    };
    char name[64];

    for (unsigned k = 0; k < 4; k++) {
        for (unsigned al = 0; al < 256; al++) {
            for (unsigned f = 0; f < 4; f++) {
                snprintf(name, sizeof(name), "%s al=%#x af%u cf%u", ops[k].nm, al, f >> 1, f & 1);
                diff_case_init(&c, name, 32);
                emit_bytes(&c, 1, ops[k].op);
                c.in.gpr[D_RAX] = 0x5a5a0000 | (al * 0x35 & 0xff00) | al;
                c.in.rflags = 2 | ((f & 2) ? DF_AF : 0) | ((f & 1) ? DF_CF : 0) |
                              ((al & 1) ? (DF_OF | DF_SF | DF_ZF | DF_PF) : 0);
                c.undef_flags = ops[k].undef;
                emit(opaque, &c);
            }
        }
    }
    static const uint8_t bases[] = { 10, 16, 0, 1, 7, 0xff };
    for (unsigned b = 0; b < sizeof(bases); b++) {
        for (unsigned ax = 0; ax < 0x10000; ax += 0x101 + (ax & 0x10)) {
            for (int aad = 0; aad < 2; aad++) {
                snprintf(name, sizeof(name), "%s %u ax=%#x", aad ? "aad" : "aam", bases[b], ax);
                diff_case_init(&c, name, 32);
                emit_bytes(&c, 2, aad ? 0xd5 : 0xd4, bases[b]);
                c.in.gpr[D_RAX] = 0x12340000 | ax;
                c.in.rflags = (ax & 1) ? FL_ALL : FL_NONE;
                c.undef_flags = DF_OF | DF_AF | DF_CF;
                emit(opaque, &c);
            }
        }
    }
    /* a sequence: 32-bit ALU, push/pop, then DAA (mode 32 registers) */
    for (unsigned i = 0; i < 100; i++) {
        snprintf(name, sizeof(name), "bcd add+daa %u", i);
        diff_case_init(&c, name, 32);
        emit_bytes(&c, 2, 0x00, 0xd8);      /* add al, bl */
        emit_bytes(&c, 1, 0x27);            /* daa */
        emit_bytes(&c, 1, 0x50);            /* push eax */
        emit_bytes(&c, 2, 0x10, 0xfc);      /* adc ah, bh */
        emit_bytes(&c, 1, 0x2f);            /* das */
        emit_bytes(&c, 1, 0x5a);            /* pop edx */
        c.in.gpr[D_RAX] = (i / 10 % 10) << 4 | i % 10 | ((i * 7) % 100 / 10) << 12 | ((i * 3) % 10) << 8;
        c.in.gpr[D_RBX] = ((i * 13) % 100 / 10) << 4 | (i * 13) % 10 | 0x2300;
        c.undef_flags = DF_OF;
        emit(opaque, &c);
    }
}

/* ---- BT BTS BTR BTC, BSF BSR, POPCNT ------------------------------------------------------ */

void gen_bitops(DiffEmit *emit, void *opaque)
{
    static DiffCase c;
    /* BT*: Intel leaves OF SF AF PF undefined, AMD ZF too */
    const uint32_t bt_undef = DF_OF | DF_SF | DF_AF | DF_PF | DF_ZF;
    static const int64_t offs[] = { 0, 1, 7, 8, 15, 16, 31, 32, 63, 64, 65, 127, -1, -8, -9, -64, -65,
                                    1000, -1000, 16000, -16000 };
    uint64_t v[16];
    char name[80];

    for (int k = 0; k < 4; k++) {               /* bt bts btr btc */
        for (unsigned size = 2; size <= 8; size *= 2) {
            unsigned nv = edge_values(size, v);
            for (unsigned oi = 0; oi < sizeof(offs) / sizeof(offs[0]); oi++) {
                /* register forms: bit offset taken modulo the size */
                for (unsigned i = 0; i < nv; i += 2) {
                    for (int form = 0; form < 2; form++) {
                        EncOp o = form ? enc_op(2, 0x0f, 0xba, 0) : enc_op(2, 0x0f, 0xa3 + 8 * k, 0);
                        enc_size(&o, size);
                        o.reg = form ? 4 + k : D_RCX;
                        o.rm = D_RBX;
                        if (form) {
                            o.immlen = 1;
                            o.imm = (uint8_t)offs[oi];
                        }
                        snprintf(name, sizeof(name), "bt%d %u f%d %#llx bit %lld", k, size * 8, form,
                                 (unsigned long long)v[i], (long long)offs[oi]);
                        diff_case_init(&c, name, 64);
                        emit_op(&c, &o);
                        set_reg(&c, D_RBX, size, v[i]);
                        set_reg(&c, D_RCX, size, (uint64_t)offs[oi]);
                        c.in.rflags = (i & 2) ? FL_ALL : FL_NONE;
                        c.undef_flags = bt_undef;
                        emit(opaque, &c);
                    }
                }
                /* memory with a register offset: reaches outside the operand, signed */
                for (int lock = 0; lock < 2; lock++) {
                    if (lock && k == 0) {
                        continue;
                    }
                    EncOp o = enc_op(2, 0x0f, 0xa3 + 8 * k, 0);
                    if (lock) {
                        enc_pfx(&o, 0xf0);
                    }
                    enc_size(&o, size);
                    o.reg = D_RCX;
                    o.base = D_RDI;
                    o.disp = 4;
                    snprintf(name, sizeof(name), "bt%d %u mem%s bit %lld", k, size * 8,
                             lock ? " lock" : "", (long long)offs[oi]);
                    diff_case_init(&c, name, 64);
                    emit_op(&c, &o);
                    c.in.gpr[D_RDI] = DIFF_DATA_ADDR + 0x800;
                    set_reg(&c, D_RCX, size, (uint64_t)offs[oi]);
                    for (int b = 0; b < DIFF_PAGE; b++) {
                        c.in.data[b] = (uint8_t)(b * 0x9d + 0x31);
                    }
                    c.undef_flags = bt_undef;
                    emit(opaque, &c);
                }
            }
            /* bsf bsr popcnt (ZF defined for bsf/bsr; popcnt defines all) */
            for (unsigned i = 0; i < nv; i++) {
                for (int k2 = 0; k2 < 3; k2++) {
                    EncOp o = enc_op(2, 0x0f, k2 == 2 ? 0xb8 : 0xbc + k2, 0);
                    if (k2 == 2) {
                        enc_pfx(&o, 0xf3);
                    }
                    enc_size(&o, size);
                    o.reg = D_RDX;
                    o.rm = D_RSI;
                    snprintf(name, sizeof(name), "%s%u %#llx", k2 == 0 ? "bsf" : k2 == 1 ? "bsr" : "popcnt",
                             size * 8, (unsigned long long)v[i]);
                    diff_case_init(&c, name, 64);
                    emit_op(&c, &o);
                    set_reg(&c, D_RSI, size, v[i] << (i & 3));
                    c.in.gpr[D_RDX] = GARBAGE;
                    c.in.rflags = (i & 1) ? FL_ALL : FL_NONE;
                    if (k2 < 2) {
                        c.undef_flags = DF_CF | DF_OF | DF_SF | DF_AF | DF_PF;
                        if ((v[i] << (i & 3) & size_mask(size)) == 0) {
                            /* source 0: AMD documents the destination unchanged,
                             * Intel says undefined (and whether a 32-bit one keeps
                             * its upper half varies): not compared */
                            c.undef_gpr = 1u << D_RDX;
                        }
                    }
                    emit(opaque, &c);
                }
            }
        }
    }
}

/* ---- string operations ---------------------------------------------------------------------- */

void gen_string(DiffEmit *emit, void *opaque)
{
    static DiffCase c;
    static const struct { const char *nm; uint8_t op; } ops[] = {
        { "movs", 0xa4 }, { "cmps", 0xa6 }, { "stos", 0xaa }, { "lods", 0xac }, { "scas", 0xae },
    };
    static const uint64_t counts[] = { 0, 1, 2, 5, 17 };
    char name[80];

    for (unsigned k = 0; k < 5; k++) {
        for (unsigned size = 1; size <= 8; size *= 2) {
            for (int df = 0; df < 2; df++) {
                for (int rep = 0; rep < 3; rep++) {         /* none, F3, F2 */
                    if (rep == 2 && ops[k].op != 0xa6 && ops[k].op != 0xae) {
                        continue;
                    }
                    for (unsigned ci = 0; ci < 5; ci++) {
                        for (int a32 = 0; a32 < 2; a32++) {
                            EncOp o = enc_op(1, ops[k].op + (size > 1), 0, 0);
                            if (a32) {
                                enc_pfx(&o, 0x67);
                            }
                            if (rep) {
                                enc_pfx(&o, rep == 1 ? 0xf3 : 0xf2);
                            }
                            enc_size(&o, size);
                            snprintf(name, sizeof(name), "%s%u df%d rep%d n%llu a%d", ops[k].nm,
                                     size * 8, df, rep, (unsigned long long)counts[ci], a32 ? 32 : 64);
                            diff_case_init(&c, name, 64);
                            emit_op(&c, &o);
                            /* the upper halves must be ignored with a 32-bit address size */
                            uint64_t hi = a32 ? 0xffffffff00000000ULL : 0;
                            c.in.gpr[D_RSI] = hi | (DIFF_DATA_ADDR + 0x400 + (df ? 0x100 : 0));
                            c.in.gpr[D_RDI] = hi | (DIFF_DATA_ADDR + 0xa00 + (df ? 0x100 : 0));
                            c.in.gpr[D_RCX] = hi | counts[ci];
                            c.in.gpr[D_RAX] = 0x4142434445464748ULL;
                            for (int b = 0; b < 0x200; b++) {
                                /* equal for a while, then different: REPE/REPNE stop inside */
                                c.in.data[0x400 + b] = (uint8_t)(b < 0x105 ? 0x48 - (b & 7) : b);
                                c.in.data[0xa00 + b] = (uint8_t)(b < 0x10b ? 0x48 - (b & 7) : ~b);
                            }
                            c.in.rflags = (df ? DF_DF : 0) | ((ci & 1) ? FL_ALL : FL_NONE);
                            if (rep && a32 && !counts[ci]) {
                                /* no iteration: this Intel Xeon (2026-12-07)
                                 * clears the upper halves, others keep them */
                                c.undef |= DIFF_U_A32CNT0;
                            }
                            emit(opaque, &c);
                        }
                    }
                }
            }
        }
    }
    /* running off the data page: a fault in the middle of a REP (rip, rcx, rsi, rdi at the fault) */
    for (int df = 0; df < 2; df++) {
        snprintf(name, sizeof(name), "rep movsq off the page df%d", df);
        diff_case_init(&c, name, 64);
        emit_bytes(&c, 3, 0xf3, 0x48, 0xa5);
        c.in.gpr[D_RSI] = DIFF_DATA_ADDR + (df ? 0x40 : 0xfc0);
        c.in.gpr[D_RDI] = DIFF_DATA_ADDR + 0x800;
        c.in.gpr[D_RCX] = 100;
        c.in.rflags = df ? (2 | DF_DF) : 2;
        emit(opaque, &c);
    }
    /* a misaligned element that straddles the data page's end (the slow
     * path takes it alone): one element fits, the next faults on the
     * page after, with rcx, rsi and rdi those of that element */
    for (int stos = 0; stos < 2; stos++) {
        snprintf(name, sizeof(name), "rep %s straddling the page end", stos ? "stosq" : "movsq");
        diff_case_init(&c, name, 64);
        emit_bytes(&c, 3, 0xf3, 0x48, stos ? 0xab : 0xa5);
        c.in.gpr[D_RSI] = stos ? DIFF_DATA_ADDR + 0x100 : DIFF_DATA_ADDR + 0xff4;
        c.in.gpr[D_RDI] = stos ? DIFF_DATA_ADDR + 0xff4 : DIFF_DATA_ADDR + 0x100;
        c.in.gpr[D_RCX] = 5;
        c.in.gpr[D_RAX] = 0x0102030405060708ULL;
        c.in.rflags = 2;
        emit(opaque, &c);
    }
}

/* ---- CMPXCHG XADD XCHG CMPXCHG8B CMPXCHG16B -------------------------------------------------- */

void gen_atomic(DiffEmit *emit, void *opaque)
{
    static DiffCase c;
    uint64_t v[16];
    char name[80];

    for (unsigned size = 1; size <= 8; size *= 2) {
        unsigned nv = edge_values(size, v);
        for (unsigned i = 0; i < nv; i++) {
            for (unsigned j = 0; j < nv; j += 3) {
                for (int form = 0; form < 6; form++) {
                    /* 0 cmpxchg reg, 1 cmpxchg mem, 2 lock cmpxchg mem,
                     * 3 xadd reg, 4 lock xadd mem, 5 cmpxchg mem equal */
                    bool xadd = form == 3 || form == 4, mem = form != 0 && form != 3;
                    EncOp o = enc_op(2, 0x0f, (xadd ? 0xc0 : 0xb0) + (size > 1), 0);
                    if (form == 2 || form == 4) {
                        enc_pfx(&o, 0xf0);
                    }
                    enc_size(&o, size);
                    o.reg = D_RDX;
                    o.rm = D_RBX;
                    if (mem) {
                        o.base = D_RDI;
                        o.disp = 0x20;
                    }
                    snprintf(name, sizeof(name), "%s%u f%d %#llx %#llx", xadd ? "xadd" : "cmpxchg",
                             size * 8, form, (unsigned long long)v[i], (unsigned long long)v[j]);
                    diff_case_init(&c, name, 64);
                    emit_op(&c, &o);
                    set_reg(&c, D_RAX, size, form == 5 ? v[j] : v[i]);
                    set_reg(&c, D_RBX, size, v[j]);
                    set_reg(&c, D_RDX, size, ~v[i]);
                    c.in.gpr[D_RDI] = DIFF_DATA_ADDR + 0x100;
                    memcpy(c.in.data + 0x120, &v[j], size);
                    c.in.rflags = (j & 1) ? FL_ALL : FL_NONE;
                    emit(opaque, &c);
                }
            }
        }
    }
    /* cmpxchg8b / cmpxchg16b: equal, not equal, misaligned 16b (#GP) */
    for (int wide = 0; wide < 2; wide++) {
        for (int eq = 0; eq < 2; eq++) {
            for (int lock = 0; lock < 2; lock++) {
                for (int mis = 0; mis < 2; mis++) {
                    EncOp o = enc_op(2, 0x0f, 0xc7, 0);
                    if (lock) {
                        enc_pfx(&o, 0xf0);
                    }
                    o.w = wide;
                    o.reg = 1;
                    o.base = D_RDI;
                    o.disp = mis ? 8 : 0;
                    snprintf(name, sizeof(name), "cmpxchg%s eq%d lock%d mis%d", wide ? "16b" : "8b",
                             eq, lock, mis);
                    diff_case_init(&c, name, 64);
                    emit_op(&c, &o);
                    c.in.gpr[D_RDI] = DIFF_DATA_ADDR + 0x200;
                    uint64_t m[2] = { 0x1122334455667788ULL, 0x99aabbccddeeff00ULL };
                    memcpy(c.in.data + 0x200 + (mis ? 8 : 0), m, 16);
                    c.in.gpr[D_RAX] = eq ? m[0] : m[0] ^ 0x100;
                    c.in.gpr[D_RDX] = wide ? m[1] : m[0] >> 32 | GARBAGE << 32;
                    if (!wide) {
                        c.in.gpr[D_RAX] = eq ? (m[0] & 0xffffffff) | GARBAGE << 32 : 0x1234;
                    }
                    c.in.gpr[D_RBX] = 0x0102030405060708ULL;
                    c.in.gpr[D_RCX] = 0x1112131415161718ULL;
                    c.in.rflags = eq ? FL_NONE : FL_ALL;
                    emit(opaque, &c);
                }
            }
        }
    }
}

/* ---- #UD and other faults: the vector and the state at the fault ------------------------------- */

void gen_faults(DiffEmit *emit, void *opaque)
{
    static DiffCase c;
    static const struct { const char *nm; int n; uint8_t b[8]; uint64_t rdi; } f[] = {
        { "ud2", 2, { 0x0f, 0x0b } },
        { "lock add reg", 3, { 0xf0, 0x01, 0xc8 } },
        { "lock cmp mem", 3, { 0xf0, 0x39, 0x0f }, DIFF_DATA_ADDR },
        { "daa in 64-bit", 1, { 0x27 } },
        { "load unmapped", 3, { 0x48, 0x8b, 0x07 }, 0x40000000 },
        { "load page end", 4, { 0x48, 0x8b, 0x47, 0x7d }, DIFF_DATA_ADDR + 0xf80 },
        { "store code page", 2, { 0x89, 0x07 }, DIFF_CODE_ADDR + 0x100 },
        { "non-canonical", 3, { 0x48, 0x8b, 0x07 }, 0x8000000000000000ULL },
        { "push+pop", 4, { 0x57, 0x53, 0x5e, 0x41 }, 0 },
        { "div after add", 6, { 0x48, 0x01, 0xd8, 0x48, 0xf7, 0xf7 }, 0 },
        { "misaligned load, AC", 3, { 0x48, 0x8b, 0x07 }, DIFF_DATA_ADDR + 3 },
        { "aligned load, AC", 3, { 0x48, 0x8b, 0x07 }, DIFF_DATA_ADDR + 8 },
        { "misaligned push, AC", 1, { 0x53 }, 0 },
        { "misaligned movups, AC", 4, { 0x0f, 0x10, 0x47, 0x01 }, DIFF_DATA_ADDR },
        /* the first load fills the TLB: the misaligned one hits it (the
         * JIT's inline path must still raise #AC at CPL 3) */
        { "misaligned load after a hit, AC", 7, { 0x48, 0x8b, 0x1f, 0x48, 0x8b, 0x47, 0x03 },
          DIFF_DATA_ADDR },
    };
    char name[64];

    for (unsigned k = 0; k < sizeof(f) / sizeof(f[0]); k++) {
        snprintf(name, sizeof(name), "fault %s", f[k].nm);
        diff_case_init(&c, name, 64);
        diff_case_emit(&c, f[k].b, f[k].n);
        if (k == 8) {
            emit_bytes(&c, 1, 0x5f);    /* pop r15 */
        }
        c.in.gpr[D_RAX] = 0x1234;
        c.in.gpr[D_RBX] = 0x5678;
        c.in.gpr[D_RDI] = f[k].rdi;
        c.in.rflags = FL_ALL;
        if (strstr(f[k].nm, ", AC")) {
            c.in.rflags |= DF_AC;
            c.in.gpr[D_RSP] -= 2;
        }
        emit(opaque, &c);
    }
}

/* ---- the stack: PUSH POP (RSP-relative operands), ENTER LEAVE -------------------------------- */

void gen_stack(DiffEmit *emit, void *opaque)
{
    static DiffCase c;
    static const struct { const char *nm; int n; uint8_t b[8]; } ops[] = {
        { "push rax", 1, { 0x50 } }, { "push r15", 2, { 0x41, 0x57 } },
        { "push imm8", 2, { 0x6a, 0x80 } }, { "push imm32", 5, { 0x68, 0x78, 0x56, 0x34, 0x92 } },
        { "pushw imm16", 4, { 0x66, 0x68, 0x34, 0x92 } }, { "pushw ax", 2, { 0x66, 0x50 } },
        { "push [rdi]", 2, { 0xff, 0x37 } }, { "pushw [rdi]", 3, { 0x66, 0xff, 0x37 } },
        { "push rsp", 1, { 0x54 } }, { "push [rsp]", 3, { 0xff, 0x34, 0x24 } },
        { "pop rbx", 1, { 0x5b } }, { "pop r9", 2, { 0x41, 0x59 } }, { "popw bx", 2, { 0x66, 0x5b } },
        { "pop [rdi]", 2, { 0x8f, 0x07 } }, { "pop [rsp]", 3, { 0x8f, 0x04, 0x24 } },
        { "pop [rsp+8]", 4, { 0x8f, 0x44, 0x24, 0x08 } }, { "pop rsp", 1, { 0x5c } },
        { "popw [rsp-2]", 5, { 0x66, 0x8f, 0x44, 0x24, 0xfe } },
        { "xchg [rsp], rax", 4, { 0x48, 0x87, 0x04, 0x24 } },
        { "leave", 1, { 0xc9 } }, { "leavew", 2, { 0x66, 0xc9 } },
        { "enter 0,0", 4, { 0xc8, 0x00, 0x00, 0x00 } }, { "enter 16,1", 4, { 0xc8, 0x10, 0x00, 0x01 } },
        { "enter 8,2", 4, { 0xc8, 0x08, 0x00, 0x02 } }, { "enter 0x100,3", 4, { 0xc8, 0x00, 0x01, 0x03 } },
        { "enter 0,31", 4, { 0xc8, 0x00, 0x00, 0x1f } }, { "enter 0,32", 4, { 0xc8, 0x00, 0x00, 0x20 } },
        { "enterw 4,2", 5, { 0x66, 0xc8, 0x04, 0x00, 0x02 } },
    };
    static const uint64_t rsps[] = { 0x800, 0x808, 0x803, 0x10, 0x4, 0xff8 };
    char name[64];

    for (unsigned k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
        for (unsigned r = 0; r < sizeof(rsps) / sizeof(rsps[0]); r++) {
            snprintf(name, sizeof(name), "%s rsp +%#llx", ops[k].nm, (unsigned long long)rsps[r]);
            diff_case_init(&c, name, 64);
            diff_case_emit(&c, ops[k].b, ops[k].n);
            c.in.gpr[D_RAX] = 0x1122334455667788ULL;
            c.in.gpr[D_RBX] = GARBAGE;
            c.in.gpr[D_R9] = GARBAGE;
            c.in.gpr[D_R15] = 0xf15f15f15f15f15fULL;
            c.in.gpr[D_RSP] = DIFF_STACK_ADDR + rsps[r];
            c.in.gpr[D_RBP] = DIFF_STACK_ADDR + 0xa00;
            c.in.gpr[D_RDI] = DIFF_DATA_ADDR + 0x40;
            for (int i = 0; i < DIFF_PAGE; i += 8) {
                /* a frame-pointer chain for ENTER's nesting: each slot points 0x40 higher */
                uint64_t v = DIFF_STACK_ADDR + ((i + 0x40) & 0xff8);
                memcpy(c.in.stack + i, &v, 8);
            }
            memcpy(c.in.data + 0x40, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
            emit(opaque, &c);
        }
    }
}

/* ---- branches that stay in the sequence: Jcc/JMP/LOOP/JRCXZ over one instruction, CALL next --- */

void gen_branch(DiffEmit *emit, void *opaque)
{
    static DiffCase c;
    static const uint32_t fl_bits[6] = { DF_CF, DF_PF, DF_AF, DF_ZF, DF_SF, DF_OF };
    char name[64];

    for (unsigned f = 0; f < 64; f++) {
        uint64_t fl = 2;
        for (int b = 0; b < 6; b++) {
            if (f & (1u << b)) {
                fl |= fl_bits[b];
            }
        }
        for (int cc = 0; cc < 16; cc++) {
            for (int near = 0; near < 2; near++) {
                /* jcc +3 (skips inc rax); inc rbx */
                snprintf(name, sizeof(name), "j%d%s fl %#llx", cc, near ? " near" : "",
                         (unsigned long long)fl);
                diff_case_init(&c, name, 64);
                if (near) {
                    emit_bytes(&c, 6, 0x0f, 0x80 + cc, 0x03, 0x00, 0x00, 0x00);
                } else {
                    emit_bytes(&c, 2, 0x70 + cc, 0x03);
                }
                emit_bytes(&c, 3, 0x48, 0xff, 0xc0);
                emit_bytes(&c, 3, 0x48, 0xff, 0xc3);
                c.in.rflags = fl;
                emit(opaque, &c);
            }
        }
    }
    /* loop, loope, loopne, jrcxz (and 32-bit address size: ecx) */
    static const uint64_t rcxs[] = { 0, 1, 2, 0x100000000ULL, 0xffffffffffffffffULL };
    for (int op = 0; op < 4; op++) {
        for (unsigned r = 0; r < 5; r++) {
            for (int zf = 0; zf < 2; zf++) {
                for (int a32 = 0; a32 < 2; a32++) {
                    snprintf(name, sizeof(name), "loop%d rcx %#llx zf%d a%d", op,
                             (unsigned long long)rcxs[r], zf, a32 ? 32 : 64);
                    diff_case_init(&c, name, 64);
                    if (a32) {
                        emit_bytes(&c, 1, 0x67);
                    }
                    emit_bytes(&c, 2, op == 3 ? 0xe3 : 0xe2 - op, 0x03);
                    emit_bytes(&c, 3, 0x48, 0xff, 0xc0);
                    emit_bytes(&c, 3, 0x48, 0xff, 0xc3);
                    c.in.gpr[D_RCX] = rcxs[r];
                    c.in.rflags = zf ? (2 | DF_ZF) : 2;
                    emit(opaque, &c);
                }
            }
        }
    }
    /* jmp short/near over an instruction; call the next instruction, pop the return address */
    diff_case_init(&c, "jmp short", 64);
    emit_bytes(&c, 5, 0xeb, 0x03, 0x48, 0xff, 0xc0);
    emit(opaque, &c);
    diff_case_init(&c, "jmp near", 64);
    emit_bytes(&c, 8, 0xe9, 0x03, 0x00, 0x00, 0x00, 0x48, 0xff, 0xc0);
    emit(opaque, &c);
    for (int w = 0; w < 2; w++) {
        diff_case_init(&c, w ? "call next, rsp misaligned" : "call next", 64);
        emit_bytes(&c, 6, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x58);
        c.in.gpr[D_RSP] -= w * 4;
        emit(opaque, &c);
    }
}

/* ---- CMP/TEST + Jcc pairs (tcg-lite runs them as one fused handler) ------------------- */

void gen_cmpjcc(DiffEmit *emit, void *opaque)
{
    static DiffCase c;
    static const uint64_t vals[] = { 0, 1, 0x7f, 0x80, 0x7fffffffULL, 0x80000000ULL,
                                     0x8000000000000000ULL, ~0ULL };
    static const uint8_t imms[] = { 0, 1, 0x7f, 0x80, 0xff };
    static const uint8_t sizes[] = { 1, 2, 4, 8 };
    char name[80];

    for (unsigned sz = 0; sz < 4; sz++) {
        unsigned s = sizes[sz];
        uint8_t pre = s == 2 ? 0x66 : s == 8 ? 0x48 : 0;
        for (int form = 0; form < 4; form++) {
            /* 0: cmp rcx, rdx (39/38)  1: cmp rdx, rcx (3b/3a)  2: test rcx, rdx (85/84)
             * 3: cmp rcx, imm8 (83 /7, 80 /7) */
            static const uint8_t op_w[4] = { 0x39, 0x3b, 0x85, 0x83 };
            static const uint8_t op_b[4] = { 0x38, 0x3a, 0x84, 0x80 };
            uint8_t op = s == 1 ? op_b[form] : op_w[form];
            unsigned nb = form == 3 ? (sizeof(imms) / sizeof(imms[0])) : (sizeof(vals) / sizeof(vals[0]));
            for (unsigned va = 0; va < (sizeof(vals) / sizeof(vals[0])); va++) {
                for (unsigned vb = 0; vb < nb; vb++) {
                    for (int cc = 0; cc < 16; cc++) {
                        snprintf(name, sizeof(name), "f%d s%u j%d a %#llx b %#llx", form, s, cc,
                                 (unsigned long long)vals[va],
                                 (unsigned long long)(form == 3 ? imms[vb] : vals[vb]));
                        diff_case_init(&c, name, 64);
                        if (pre) {
                            emit_bytes(&c, 1, pre);
                        }
                        if (form == 3) {
                            emit_bytes(&c, 3, op, 0xf9, imms[vb]);
                        } else {
                            emit_bytes(&c, 2, op, 0xd1);
                        }
                        emit_bytes(&c, 2, 0x70 + cc, 0x03);
                        emit_bytes(&c, 3, 0x48, 0xff, 0xc0);    /* inc rax (skipped if taken) */
                        emit_bytes(&c, 3, 0x48, 0xff, 0xc3);    /* inc rbx */
                        c.in.gpr[D_RCX] = vals[va];
                        c.in.gpr[D_RDX] = vals[vb];
                        emit(opaque, &c);
                    }
                }
            }
        }
    }
}

/*
 * tcg-lite integer instructions (accel/tcg-lite/int-*.c, flags.c): real
 * byte sequences decoded by the core decoder and executed on a TCGLCPU
 * over the stub memory (tests/unit/tcgl/stub-core.c).  Flags are checked
 * against a reference written here from the SDM's definitions.
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include "stub-core.h"
#include "decode.h"

#define CODE 0x1000ULL
#define DATA 0x8000ULL
#define CF 0x001u
#define PF 0x004u
#define AF 0x010u
#define ZF 0x040u
#define SF 0x080u
#define OF 0x800u

static uint64_t *R(void) { return stub.c.env->regs; }

static unsigned parse_hex(const char *hex, uint8_t *b)
{
    unsigned n = 0, v;
    for (const char *p = hex; *p; ) {
        if (*p == ' ') {
            p++;
            continue;
        }
        g_assert_true(sscanf(p, "%2x", &v) == 1);
        b[n++] = (uint8_t)v;
        p += 2;
    }
    return n;
}

/* Places code at CODE and runs it to its end; returns the fault vector or -1. */
static int run(const char *hex)
{
    uint8_t b[256];
    unsigned n = parse_hex(hex, b);
    stub_write(CODE, b, n);
    stub.c.env->rip = CODE;
    return stub_run_until(CODE + n, 100000);
}

static uint32_t flags(void)
{
    return (uint32_t)tcgl_get_rflags(&stub.c) & 0x8d5;
}

static void set_flags(uint32_t f)
{
    tcgl_set_rflags(&stub.c, f, 0x8d5);
}

/* ---- reference flags (SDM definitions, computed with wide arithmetic) ----- */

static int64_t sx(uint64_t v, unsigned s)
{
    unsigned sh = 64 - s * 8;
    return (int64_t)(v << sh) >> sh;
}

static uint32_t ref_szp(uint64_t r, unsigned s)
{
    uint64_t m = s == 8 ? ~0ULL : (1ULL << (s * 8)) - 1;
    unsigned ones = 0;
    for (int k = 0; k < 8; k++) {
        ones += (r >> k) & 1;
    }
    return ((r & m) == 0 ? ZF : 0) | (sx(r, s) < 0 ? SF : 0) | ((ones & 1) ? 0 : PF);
}

/* op: 0 ADD 1 OR 2 ADC 3 SBB 4 AND 5 SUB 6 XOR 7 CMP */
static uint32_t ref_alu(int op, unsigned s, uint64_t a, uint64_t b, bool cin, uint64_t *res)
{
    uint64_t m = s == 8 ? ~0ULL : (1ULL << (s * 8)) - 1;
    unsigned __int128 ua = a & m, ub = b & m, ur;
    __int128 sa = sx(a, s), sb = sx(b, s), sr;
    uint32_t f = 0;
    uint64_t r;
    int c = (op == 2 || op == 3) && cin;

    switch (op) {
    case 0: case 2:
        ur = ua + ub + c;
        sr = sa + sb + c;
        r = (uint64_t)ur & m;
        f |= (ur >> (s * 8)) ? CF : 0;
        f |= sr != sx(r, s) ? OF : 0;
        f |= ((a ^ b ^ r) & 0x10) ? AF : 0;
        break;
    case 3: case 5: case 7:
        r = (uint64_t)(ua - ub - c) & m;
        sr = sa - sb - c;
        f |= ua < ub + c ? CF : 0;
        f |= sr != sx(r, s) ? OF : 0;
        f |= ((a ^ b ^ r) & 0x10) ? AF : 0;
        break;
    case 1: r = (a | b) & m; break;
    case 4: r = (a & b) & m; break;
    default: r = (a ^ b) & m; break;
    }
    *res = r;
    return f | ref_szp(r, s);
}

static bool ref_cond(uint32_t f, unsigned cc)
{
    bool o = f & OF, c = f & CF, z = f & ZF, sgn = f & SF, p = f & PF, r;
    switch (cc >> 1) {
    case 0: r = o; break;
    case 1: r = c; break;
    case 2: r = z; break;
    case 3: r = c || z; break;
    case 4: r = sgn; break;
    case 5: r = p; break;
    case 6: r = sgn != o; break;
    default: r = z || sgn != o; break;
    }
    return (cc & 1) ? !r : r;
}

static const uint64_t edge[] = {
    0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
    0x7fffffffffffffffULL, 0x8000000000000000ULL, ~0ULL, 0x0f, 0x10, 0x1234567890abcdefULL,
};

/* Every ALU op at every size with edge operands and both carries: the
 * result, the six flags and all 16 conditions (the lazy fast paths). */
static void test_alu_flags(void)
{
    static const char *pfx[4] = { "", "66 ", "", "48 " };
    const unsigned sizes[4] = { 1, 2, 4, 8 };
    unsigned ne = sizeof(edge) / sizeof(edge[0]);

    stub_reset(64);
    for (int op = 0; op < 8; op++) {
        for (int si = 0; si < 4; si++) {
            unsigned s = sizes[si];
            for (unsigned x = 0; x < ne; x++) {
                for (unsigned y = 0; y < ne; y++) {
                    for (int cin = 0; cin < 2; cin++) {
                        char code[32];
                        uint64_t want, m = s == 8 ? ~0ULL : (1ULL << (s * 8)) - 1;
                        uint32_t wf = ref_alu(op, s, edge[x], edge[y], cin, &want);
                        /* stc/clc; op eAX, eBX (op al, bl for bytes) */
                        snprintf(code, sizeof(code), "%s %s%02x d8", cin ? "f9" : "f8", pfx[si],
                                 op << 3 | (s == 1 ? 0 : 1));
                        R()[R_EAX] = edge[x];
                        R()[R_EBX] = edge[y];
                        g_assert_cmpint(run(code), ==, -1);
                        if (op != 7) {
                            g_assert_cmphex(R()[R_EAX] & m, ==, want);
                        }
                        if (flags() != wf) {
                            g_error("op %d size %u %#" G_GINT64_MODIFIER "x, %#" G_GINT64_MODIFIER
                                    "x cin %d: flags %#x want %#x", op, s, edge[x], edge[y], cin,
                                    flags(), wf);
                        }
                        for (unsigned cc = 0; cc < 16; cc++) {
                            g_assert_cmpint(tcgl_cond(&stub.c, cc), ==, ref_cond(wf, cc));
                        }
                    }
                }
            }
        }
    }
}

/* TEST, INC, DEC, NEG, NOT; INC/DEC keep CF. */
static void test_unary(void)
{
    stub_reset(32);
    R()[R_EAX] = 0x7fffffff;
    g_assert_cmpint(run("f9 40"), ==, -1);          /* stc; inc eax */
    g_assert_cmphex(R()[R_EAX], ==, 0x80000000);
    g_assert_cmphex(flags(), ==, OF | SF | AF | PF | CF);
    g_assert_cmpint(run("f8 48"), ==, -1);          /* clc; dec eax */
    g_assert_cmphex(R()[R_EAX], ==, 0x7fffffff);
    g_assert_cmphex(flags(), ==, OF | AF | PF);
    R()[R_EBX] = 5;
    g_assert_cmpint(run("f7 db"), ==, -1);          /* neg ebx */
    g_assert_cmphex(R()[R_EBX], ==, 0xfffffffb);
    g_assert_cmphex(flags(), ==, CF | SF | AF);
    R()[R_EBX] = 0;
    g_assert_cmpint(run("f7 db"), ==, -1);          /* neg 0: CF = 0 */
    g_assert_cmphex(flags(), ==, ZF | PF);
    R()[R_ECX] = 0x0f0f;
    set_flags(CF | OF);
    g_assert_cmpint(run("66 f7 d1"), ==, -1);       /* not cx: flags unchanged */
    g_assert_cmphex(R()[R_ECX], ==, 0xf0f0);
    g_assert_cmphex(flags(), ==, CF | OF);
    R()[R_EAX] = 0x80;
    g_assert_cmpint(run("a8 80"), ==, -1);          /* test al, 0x80 */
    g_assert_cmphex(flags(), ==, SF);
    g_assert_true(tcgl_cond(&stub.c, 8));           /* S */
    g_assert_true(tcgl_cond(&stub.c, 12));          /* L: SF != OF */
    g_assert_false(tcgl_cond(&stub.c, 13));
    /* memory destination, byte register AH */
    stub.ram[DATA] = 0xff;
    R()[R_ESI] = DATA;
    g_assert_cmpint(run("fe 06"), ==, -1);          /* inc byte [esi] */
    g_assert_cmpuint(stub.ram[DATA], ==, 0);
    g_assert_cmphex(flags() & (ZF | AF), ==, ZF | AF);
    R()[R_EAX] = 0x1200;
    g_assert_cmpint(run("80 c4 01"), ==, -1);       /* add ah, 1 */
    g_assert_cmphex(R()[R_EAX], ==, 0x1300);
}

static uint32_t ref_shift(unsigned kind, unsigned s, uint64_t a, unsigned cnt, uint32_t f0,
                          uint64_t *res)
{
    unsigned bits = s * 8;
    uint64_t m = s == 8 ? ~0ULL : (1ULL << bits) - 1, r = a & m;
    uint32_t f = f0;
    bool cf = f0 & CF;

    cnt &= s == 8 ? 63 : 31;
    if (kind == 2 || kind == 3) {
        cnt %= (s <= 2) ? bits + 1 : 1000;
    }
    if (cnt == 0) {
        *res = r;
        return f0;
    }
    for (unsigned k = 0; k < cnt; k++) {
        uint64_t msb = (r >> (bits - 1)) & 1, lsb = r & 1;
        switch (kind) {
        case 0: r = ((r << 1) | msb) & m; cf = msb; break;
        case 1: r = (r >> 1) | (lsb << (bits - 1)); cf = lsb; break;
        case 2: r = ((r << 1) | cf) & m; cf = msb; break;
        case 3: r = (r >> 1) | ((uint64_t)cf << (bits - 1)); cf = lsb; break;
        case 4: case 6: r = (r << 1) & m; cf = msb; break;
        case 5: r >>= 1; cf = lsb; break;
        default: r = (r >> 1) | (msb << (bits - 1)); cf = lsb; break;
        }
    }
    *res = r;
    f &= ~(CF | OF);
    f |= cf ? CF : 0;
    if (kind >= 4) {
        f = (f & ~(ZF | SF | PF | AF)) | ref_szp(r, s);
    }
    /* OF is defined for a count of 1 only; check it there */
    if (cnt == 1) {
        bool msb = (r >> (bits - 1)) & 1, msb2 = (r >> (bits - 2)) & 1;
        bool of = kind == 0 || kind == 2 || kind == 4 || kind == 6 ? msb ^ cf
                : kind == 5 ? ((a >> (bits - 1)) & 1) : kind == 7 ? 0 : msb ^ msb2;
        f |= of ? OF : 0;
    } else {
        f |= 0x8000;        /* marker: OF not compared */
    }
    return f;
}

static void test_shifts(void)
{
    static const char *pfx[4] = { "", "66 ", "", "48 " };
    const unsigned sizes[4] = { 1, 2, 4, 8 };
    const unsigned counts[] = { 0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255 };
    const uint64_t vals[] = { 0, 1, 0x80, 0x81, 0x8000, 0x80000001, 0x8000000000000001ULL,
                              0x5a5a5a5a5a5a5a5aULL, ~0ULL };

    stub_reset(64);
    for (unsigned kind = 0; kind < 8; kind++) {
        for (int si = 0; si < 4; si++) {
            unsigned s = sizes[si];
            uint64_t m = s == 8 ? ~0ULL : (1ULL << (s * 8)) - 1;
            for (unsigned vi = 0; vi < sizeof(vals) / sizeof(vals[0]); vi++) {
                for (unsigned ci = 0; ci < sizeof(counts) / sizeof(counts[0]); ci++) {
                    for (int f0i = 0; f0i < 2; f0i++) {
                        char code[32];
                        uint64_t want;
                        uint32_t f0 = f0i ? (CF | OF | ZF | PF) : SF | AF;
                        uint32_t wf = ref_shift(kind, s, vals[vi], counts[ci], f0, &want);
                        uint32_t mask = (wf & 0x8000) ? (0x8d5 & ~OF) : 0x8d5;
                        if (kind >= 4 && (counts[ci] & (s == 8 ? 63 : 31))) {
                            mask &= ~AF;        /* AF undefined after a shift */
                        }
                        /* shl/shr/... eax, cl  (d2/d3 /kind) */
                        snprintf(code, sizeof(code), "%s%02x %02x", pfx[si], s == 1 ? 0xd2 : 0xd3,
                                 0xc0 | kind << 3);
                        R()[R_EAX] = vals[vi];
                        R()[R_ECX] = counts[ci];
                        set_flags(f0);
                        g_assert_cmpint(run(code), ==, -1);
                        if ((R()[R_EAX] & m) != want || (flags() & mask) != (wf & mask)) {
                            g_error("shift /%u size %u %#" G_GINT64_MODIFIER "x by %u: %#"
                                    G_GINT64_MODIFIER "x flags %#x, want %#" G_GINT64_MODIFIER
                                    "x %#x", kind, s, vals[vi], counts[ci], R()[R_EAX] & m,
                                    flags(), want, wf & mask);
                        }
                    }
                }
            }
        }
    }
    /* by 1 and by an immediate */
    stub_reset(32);
    R()[R_EAX] = 0x80000000;
    g_assert_cmpint(run("d1 e0"), ==, -1);          /* shl eax, 1 */
    g_assert_cmphex(R()[R_EAX], ==, 0);
    g_assert_cmphex(flags() & (CF | ZF | OF), ==, CF | ZF | OF);
    R()[R_EAX] = 0x81;
    g_assert_cmpint(run("c0 f8 07"), ==, -1);       /* sar al, 7 */
    g_assert_cmphex(R()[R_EAX], ==, 0xff);
    /* memory operands: shift, rotate through carry, by 0 (flags kept) */
    *(uint32_t *)(stub.ram + DATA) = 0x80000001;
    R()[R_ESI] = DATA;
    g_assert_cmpint(run("d1 26"), ==, -1);          /* shl dword [esi], 1 */
    g_assert_cmphex(*(uint32_t *)(stub.ram + DATA), ==, 2);
    g_assert_cmphex(flags() & (CF | OF), ==, CF | OF);
    g_assert_cmpint(run("d1 16"), ==, -1);          /* rcl dword [esi], 1: CF in */
    g_assert_cmphex(*(uint32_t *)(stub.ram + DATA), ==, 5);
    set_flags(ZF);
    g_assert_cmpint(run("c1 3e 20"), ==, -1);       /* sar dword [esi], 32: count 0 */
    g_assert_cmphex(*(uint32_t *)(stub.ram + DATA), ==, 5);
    g_assert_cmphex(flags(), ==, ZF);
    /* SHLD/SHRD */
    R()[R_EAX] = 0x12345678;
    R()[R_EDX] = 0x9abcdef0;
    g_assert_cmpint(run("0f a4 c2 08"), ==, -1);    /* shld edx, eax, 8 */
    g_assert_cmphex(R()[R_EDX], ==, 0xbcdef012);
    g_assert_cmpint(run("0f ac c2 08"), ==, -1);    /* shrd edx, eax, 8 */
    g_assert_cmphex(R()[R_EDX], ==, 0x78bcdef0);
    g_assert_cmphex(flags() & CF, ==, 0);
    R()[R_ECX] = 4;
    g_assert_cmpint(run("0f ad c2"), ==, -1);       /* shrd edx, eax, cl */
    g_assert_cmphex(R()[R_EDX], ==, 0x878bcdef);
}

static void test_muldiv(void)
{
    stub_reset(64);
    R()[R_EAX] = 0xffffffff;
    R()[R_EBX] = 0xffffffff;
    g_assert_cmpint(run("f7 e3"), ==, -1);          /* mul ebx */
    g_assert_cmphex(R()[R_EAX], ==, 1);
    g_assert_cmphex(R()[R_EDX], ==, 0xfffffffe);
    g_assert_cmphex(flags() & (CF | OF), ==, CF | OF);
    R()[R_EAX] = (uint64_t)-3;
    R()[R_EBX] = 7;
    g_assert_cmpint(run("48 f7 eb"), ==, -1);       /* imul rbx */
    g_assert_cmphex(R()[R_EAX], ==, (uint64_t)-21);
    g_assert_cmphex(R()[R_EDX], ==, ~0ULL);
    g_assert_cmphex(flags() & (CF | OF), ==, 0);
    R()[R_EAX] = 0x40;
    R()[R_ECX] = 4;
    g_assert_cmpint(run("f6 e9"), ==, -1);          /* imul cl: AX = 0x100, overflow */
    g_assert_cmphex(R()[R_EAX] & 0xffff, ==, 0x100);
    g_assert_cmphex(flags() & (CF | OF), ==, CF | OF);
    R()[R_ECX] = 0x10000;
    g_assert_cmpint(run("69 c1 00 00 01 00"), ==, -1);  /* imul eax, ecx, 0x10000 */
    g_assert_cmphex(R()[R_EAX], ==, 0);
    g_assert_cmphex(flags() & (CF | OF), ==, CF | OF);
    R()[R_EAX] = 100;
    R()[R_EDX] = 0;
    R()[R_ECX] = 7;
    g_assert_cmpint(run("f7 f1"), ==, -1);          /* div ecx */
    g_assert_cmphex(R()[R_EAX], ==, 14);
    g_assert_cmphex(R()[R_EDX], ==, 2);
    R()[R_ECX] = 0;
    g_assert_cmpint(run("f7 f1"), ==, 0);           /* #DE: divide by zero */
    g_assert_cmphex(stub.c.env->rip, ==, CODE);     /* at the faulting instruction */
    R()[R_EAX] = 0;
    R()[R_EDX] = 1;
    R()[R_ECX] = 1;
    g_assert_cmpint(run("f7 f1"), ==, 0);           /* quotient too large */
    g_assert_cmphex(R()[R_EDX], ==, 1);             /* unchanged */
    R()[R_EAX] = 0x80000000;
    R()[R_EDX] = 0xffffffff;
    R()[R_ECX] = 0xffffffff;
    g_assert_cmpint(run("f7 f9"), ==, 0);           /* idiv: INT_MIN / -1 */
    R()[R_EAX] = 0;
    R()[R_EDX] = 0x80000000;                        /* EDX:EAX = INT64_MIN */
    g_assert_cmpint(run("f7 f9"), ==, 0);
    R()[R_EAX] = (uint64_t)-7;
    R()[R_EDX] = ~0ULL;
    R()[R_ECX] = 2;
    g_assert_cmpint(run("48 f7 f9"), ==, -1);       /* idiv rcx: -3 rem -1 */
    g_assert_cmphex(R()[R_EAX], ==, (uint64_t)-3);
    g_assert_cmphex(R()[R_EDX], ==, ~0ULL);
    R()[R_EAX] = 0x0107;
    R()[R_ECX] = 2;
    g_assert_cmpint(run("f6 f1"), ==, -1);          /* div cl: 263 / 2 */
    g_assert_cmphex(R()[R_EAX] & 0xffff, ==, 0x0183);
    R()[R_EAX] = 0x1000;
    g_assert_cmpint(run("f6 f1"), ==, 0);           /* 4096 / 2 does not fit AL */
}

static void test_bits(void)
{
    stub_reset(32);
    memset(stub.ram + DATA - 16, 0, 64);
    R()[R_ESI] = DATA;
    R()[R_ECX] = 35;                                /* bit 3 of the dword at DATA + 4 */
    g_assert_cmpint(run("0f ab 0e"), ==, -1);       /* bts [esi], ecx */
    g_assert_cmpuint(stub.ram[DATA + 4], ==, 8);
    g_assert_cmphex(flags() & CF, ==, 0);
    g_assert_cmpint(run("0f a3 0e"), ==, -1);       /* bt [esi], ecx */
    g_assert_cmphex(flags() & CF, ==, CF);
    R()[R_ECX] = (uint32_t)-1;                      /* bit 31 of the dword at DATA - 4 */
    g_assert_cmpint(run("0f ab 0e"), ==, -1);
    g_assert_cmpuint(stub.ram[DATA - 1], ==, 0x80);
    g_assert_cmpint(run("0f ba 36 23"), ==, -1);    /* btr dword [esi], 35: imm mod 32 = 3 */
    g_assert_cmpuint(stub.ram[DATA], ==, 0);
    R()[R_EAX] = 0x5;
    g_assert_cmpint(run("0f bb c8"), ==, -1);       /* btc eax, ecx (31) */
    g_assert_cmphex(R()[R_EAX], ==, 0x80000005);
    R()[R_EBX] = 0x00f0;
    R()[R_EDX] = 0x1234;
    g_assert_cmpint(run("0f bc d3"), ==, -1);       /* bsf edx, ebx */
    g_assert_cmphex(R()[R_EDX], ==, 4);
    g_assert_cmpint(run("0f bd d3"), ==, -1);       /* bsr edx, ebx */
    g_assert_cmphex(R()[R_EDX], ==, 7);
    R()[R_EBX] = 0;
    g_assert_cmpint(run("0f bc d3"), ==, -1);       /* bsf of 0: ZF, dest kept */
    g_assert_cmphex(flags() & ZF, ==, ZF);
    g_assert_cmphex(R()[R_EDX], ==, 7);
    g_assert_cmpint(run("f3 0f bc d3"), ==, -1);    /* tzcnt of 0: 32, CF */
    g_assert_cmphex(R()[R_EDX], ==, 32);
    g_assert_cmphex(flags() & (CF | ZF), ==, CF);
    R()[R_EBX] = 0x00010000;
    g_assert_cmpint(run("f3 0f bd d3"), ==, -1);    /* lzcnt */
    g_assert_cmphex(R()[R_EDX], ==, 15);
    R()[R_EBX] = 0xf0f0;
    g_assert_cmpint(run("66 f3 0f b8 d3"), ==, -1); /* popcnt dx, bx */
    g_assert_cmphex(R()[R_EDX] & 0xffff, ==, 8);
    R()[R_EAX] = 0x11223344;
    g_assert_cmpint(run("0f c8"), ==, -1);          /* bswap eax */
    g_assert_cmphex(R()[R_EAX], ==, 0x44332211);
}

static void test_cmpxchg(void)
{
    stub_reset(64);
    memset(stub.ram + DATA, 0, 32);
    stub.ram[DATA] = 5;
    R()[R_ESI] = DATA;
    R()[R_EAX] = 5;
    R()[R_ECX] = 9;
    g_assert_cmpint(run("f0 0f b1 0e"), ==, -1);    /* lock cmpxchg [rsi], ecx */
    g_assert_cmpuint(stub.ram[DATA], ==, 9);
    g_assert_cmphex(flags() & ZF, ==, ZF);
    g_assert_cmpint(run("f0 0f b1 0e"), ==, -1);    /* mismatch: eax = 9 */
    g_assert_cmphex(R()[R_EAX], ==, 9);
    g_assert_cmphex(flags() & ZF, ==, 0);
    R()[R_EDX] = 1;
    g_assert_cmpint(run("f0 0f c1 16"), ==, -1);    /* lock xadd [rsi], edx */
    g_assert_cmpuint(stub.ram[DATA], ==, 10);
    g_assert_cmphex(R()[R_EDX], ==, 9);
    R()[R_EAX] = 10;
    R()[R_EDX] = 0;
    R()[R_EBX] = 0x11111111;
    R()[R_ECX] = 0x22222222;
    g_assert_cmpint(run("f0 0f c7 0e"), ==, -1);    /* lock cmpxchg8b [rsi] */
    g_assert_cmphex(flags() & ZF, ==, ZF);
    g_assert_cmpuint(stub.ram[DATA + 7], ==, 0x22);
    R()[R_EAX] = 0;
    R()[R_EDX] = 0;
    g_assert_cmpint(run("f0 48 0f c7 0e"), ==, -1); /* cmpxchg16b: mismatch */
    g_assert_cmphex(R()[R_EAX], ==, 0x2222222211111111ULL);
    g_assert_cmphex(flags() & ZF, ==, 0);
    R()[R_ESI] = DATA + 8;
    g_assert_cmpint(run("48 0f c7 0e"), ==, 13);    /* misaligned: #GP */
    /* LOCK where it is not allowed */
    g_assert_cmpint(run("f0 01 c0"), ==, 6);        /* register destination */
    g_assert_cmpint(run("f0 89 06"), ==, 6);        /* MOV */
    g_assert_cmpint(run("f0 39 06"), ==, 6);        /* CMP */
    R()[R_EAX] = 1;
    R()[R_EBX] = 2;
    g_assert_cmpint(run("87 d8"), ==, -1);          /* xchg eax, ebx */
    g_assert_cmphex(R()[R_EAX], ==, 2);
    g_assert_cmphex(R()[R_EBX], ==, 1);
    R()[R_R8] = 7;
    g_assert_cmpint(run("41 90"), ==, -1);          /* xchg eax, r8d (not NOP) */
    g_assert_cmphex(R()[R_EAX], ==, 7);
    g_assert_cmpint(run("f3 90"), ==, -1);          /* pause */
    g_assert_cmpuint(stub.nr_pauses, ==, 1);
}

static void test_moves(void)
{
    stub_reset(64);
    R()[R_EAX] = 0xffffffffffffffffULL;
    g_assert_cmpint(run("b8 78 56 34 12"), ==, -1); /* mov eax, imm32 zero-extends */
    g_assert_cmphex(R()[R_EAX], ==, 0x12345678);
    g_assert_cmpint(run("48 c7 c0 ff ff ff ff"), ==, -1);   /* mov rax, -1 */
    g_assert_cmphex(R()[R_EAX], ==, ~0ULL);
    g_assert_cmpint(run("66 b8 34 12"), ==, -1);    /* mov ax: upper kept */
    g_assert_cmphex(R()[R_EAX], ==, 0xffffffffffff1234ULL);
    g_assert_cmpint(run("b4 00"), ==, -1);          /* mov ah, 0 */
    g_assert_cmphex(R()[R_EAX], ==, 0xffffffffffff0034ULL);
    g_assert_cmpint(run("40 b4 00"), ==, -1);       /* mov spl, 0 */
    g_assert_cmphex(R()[R_ESP] & 0xff, ==, 0);
    R()[R_EBX] = 0x80;
    g_assert_cmpint(run("48 0f be c3"), ==, -1);    /* movsx rax, bl */
    g_assert_cmphex(R()[R_EAX], ==, ~0ULL - 0x7f);
    g_assert_cmpint(run("0f b6 c3"), ==, -1);       /* movzx eax, bl */
    g_assert_cmphex(R()[R_EAX], ==, 0x80);
    R()[R_EBX] = 0x80000000;
    g_assert_cmpint(run("48 63 c3"), ==, -1);       /* movsxd rax, ebx */
    g_assert_cmphex(R()[R_EAX], ==, 0xffffffff80000000ULL);
    R()[R_EBX] = DATA;
    R()[R_ECX] = 3;
    g_assert_cmpint(run("48 8d 44 4b 10"), ==, -1); /* lea rax, [rbx+rcx*2+16] */
    g_assert_cmphex(R()[R_EAX], ==, DATA + 22);
    g_assert_cmpint(run("48 8d 05 10 00 00 00"), ==, -1);   /* lea rax, [rip+16] */
    g_assert_cmphex(R()[R_EAX], ==, CODE + 7 + 16);
    g_assert_cmpint(run("8d c0"), ==, 6);           /* lea with a register: #UD */
    R()[R_EAX] = 0xdeadbeef;
    g_assert_cmpint(run("89 03"), ==, -1);          /* mov [rbx], eax */
    g_assert_cmpint(run("8b 0b"), ==, -1);          /* mov ecx, [rbx] */
    g_assert_cmphex(R()[R_ECX], ==, 0xdeadbeef);
    g_assert_cmpint(run("c6 43 01 5a"), ==, -1);    /* mov byte [rbx+1], 0x5a */
    g_assert_cmpint(run("66 c7 43 02 34 12"), ==, -1);  /* mov word [rbx+2], 0x1234 */
    g_assert_cmpint(run("8b 0b"), ==, -1);
    g_assert_cmphex(R()[R_ECX], ==, 0x12345aef);
    R()[R_EAX] = 0xdeadbeef;
    g_assert_cmpint(run("89 03 8b 0b"), ==, -1);
    g_assert_cmphex(R()[R_ECX], ==, 0xdeadbeef);
    g_assert_cmpint(run("48 a1 00 80 00 00 00 00 00 00"), ==, -1);  /* mov rax, [moffs64] */
    g_assert_cmphex(R()[R_EAX] & 0xffffffff, ==, 0xdeadbeef);
    g_assert_cmpint(run("0f 38 f0 13"), ==, -1);    /* movbe edx, [rbx] */
    g_assert_cmphex(R()[R_EDX], ==, 0xefbeadde);
    stub.ram[DATA + 0x10] = 0x42;
    R()[R_EAX] = 0x10;
    g_assert_cmpint(run("d7"), ==, -1);             /* xlat */
    g_assert_cmphex(R()[R_EAX] & 0xff, ==, 0x42);
    /* CMOVcc and SETcc */
    R()[R_EAX] = 0xffffffff00000001ULL;
    R()[R_ECX] = 2;
    g_assert_cmpint(run("39 c8 0f 4c c1"), ==, -1); /* cmp eax, ecx; cmovl eax, ecx */
    g_assert_cmphex(R()[R_EAX], ==, 2);
    R()[R_EAX] = 0xffffffff00000005ULL;
    g_assert_cmpint(run("39 c8 0f 4c c1"), ==, -1); /* not taken: still zero-extended */
    g_assert_cmphex(R()[R_EAX], ==, 5);
    g_assert_cmpint(run("39 c8 0f 97 c3"), ==, -1); /* cmp; seta bl */
    g_assert_cmphex(R()[R_EBX] & 0xff, ==, 1);
    /* conversions */
    R()[R_EAX] = 0x8000;
    g_assert_cmpint(run("98"), ==, -1);             /* cwde */
    g_assert_cmphex(R()[R_EAX], ==, 0xffff8000);
    g_assert_cmpint(run("48 98"), ==, -1);          /* cdqe */
    g_assert_cmphex(R()[R_EAX], ==, 0xffffffffffff8000ULL);
    g_assert_cmpint(run("48 99"), ==, -1);          /* cqo */
    g_assert_cmphex(R()[R_EDX], ==, ~0ULL);
    set_flags(CF | ZF | SF);
    g_assert_cmpint(run("9f"), ==, -1);             /* lahf */
    g_assert_cmphex((R()[R_EAX] >> 8) & 0xff, ==, 0xc3);
    R()[R_EAX] = 0x0500;
    g_assert_cmpint(run("9e"), ==, -1);             /* sahf: CF PF */
    g_assert_cmphex(flags(), ==, CF | PF);
    g_assert_cmpint(run("f5"), ==, -1);             /* cmc */
    g_assert_cmphex(flags(), ==, PF);
    g_assert_cmpint(run("27"), ==, 6);              /* DAA: #UD in 64-bit mode */
    g_assert_cmpint(run("0f 0b"), ==, 6);           /* UD2 */
    g_assert_cmpint(run("0f 1f 44 00 00 66 90"), ==, -1);  /* multi-byte NOPs */
}

static void test_stack_ctl(void)
{
    stub_reset(32);
    R()[R_ESP] = 0x7000;
    R()[R_EAX] = 0x11111111;
    g_assert_cmpint(run("50 6a ff 66 6a 02"), ==, -1);  /* push eax; push -1; push word 2 */
    g_assert_cmphex(R()[R_ESP], ==, 0x7000 - 10);
    g_assert_cmphex(*(uint32_t *)(stub.ram + 0x6ff8), ==, 0xffffffff);
    g_assert_cmphex(*(uint16_t *)(stub.ram + 0x6ff6), ==, 2);
    g_assert_cmpint(run("66 58 5b 59"), ==, -1);        /* pop ax; pop ebx; pop ecx */
    g_assert_cmphex(R()[R_EBX], ==, 0xffffffff);
    g_assert_cmphex(R()[R_ECX], ==, 0x11111111);
    g_assert_cmphex(R()[R_ESP], ==, 0x7000);
    /* pusha / popa */
    for (int r = 0; r < 8; r++) {
        if (r != R_ESP) {
            R()[r] = 0x100 + r;
        }
    }
    g_assert_cmpint(run("60"), ==, -1);
    g_assert_cmphex(*(uint32_t *)(stub.ram + 0x7000 - 20), ==, 0x7000);   /* original ESP */
    for (int r = 0; r < 8; r++) {
        R()[r] = r == R_ESP ? R()[r] : 0;
    }
    g_assert_cmpint(run("61"), ==, -1);
    g_assert_cmphex(R()[R_EDI], ==, 0x107);
    g_assert_cmphex(R()[R_ESP], ==, 0x7000);
    /* enter / leave */
    R()[R_EBP] = 0x6500;
    *(uint32_t *)(stub.ram + 0x6500 - 4) = 0xaaaa;
    g_assert_cmpint(run("c8 10 00 02"), ==, -1);        /* enter 16, 2 */
    g_assert_cmphex(R()[R_EBP], ==, 0x7000 - 4);
    g_assert_cmphex(*(uint32_t *)(stub.ram + 0x7000 - 8), ==, 0xaaaa);   /* copied frame ptr */
    g_assert_cmphex(*(uint32_t *)(stub.ram + 0x7000 - 12), ==, 0x7000 - 4);
    g_assert_cmphex(R()[R_ESP], ==, 0x7000 - 12 - 16);
    g_assert_cmpint(run("c9"), ==, -1);                 /* leave */
    g_assert_cmphex(R()[R_EBP], ==, 0x6500);
    g_assert_cmphex(R()[R_ESP], ==, 0x7000);
    /* call / ret / jcc / loop: a subroutine summing 1..5 */
    {
        uint8_t sub[] = { 0x31, 0xc0,               /* xor eax, eax */
                          0x01, 0xc8,               /* add eax, ecx */
                          0xe2, 0xfc,               /* loop -4 */
                          0xc3 };                   /* ret */
        stub_write(0x3000, sub, sizeof(sub));
        R()[R_ECX] = 5;
        /* call 0x3000 (rel from CODE+5); jmp over: the run ends at CODE+5 */
        g_assert_cmpint(run("e8 fb 1f 00 00"), ==, -1);
        g_assert_cmphex(R()[R_EAX], ==, 15);
        g_assert_cmphex(R()[R_ESP], ==, 0x7000);
    }
    R()[R_EAX] = 1;
    g_assert_cmpint(run("83 f8 01 75 02 31 c0"), ==, -1);   /* cmp eax,1; jne +2; xor eax,eax */
    g_assert_cmphex(R()[R_EAX], ==, 0);
    R()[R_ECX] = 0;
    g_assert_cmpint(run("e3 02 0f 0b"), ==, -1);             /* jecxz over ud2 */
    /* indirect call through memory, ret imm16 */
    *(uint32_t *)(stub.ram + DATA) = 0x3100;
    stub.ram[0x3100] = 0xc2;                                  /* ret 8 */
    stub.ram[0x3101] = 8;
    stub.ram[0x3102] = 0;
    stub_write(0x3100, stub.ram + 0x3100, 3);
    R()[R_EBX] = DATA;
    g_assert_cmpint(run("ff 13"), ==, -1);                    /* call [ebx] */
    g_assert_cmphex(R()[R_ESP], ==, 0x7008);
    /* 16-bit code: call/ret with 16-bit IP, stack wrap */
    stub_reset(16);
    R()[R_ESP] = 0x12340000;
    g_assert_cmpint(run("6a 05"), ==, -1);                    /* push 5: SP wraps to 0xfffe */
    g_assert_cmphex(R()[R_ESP], ==, 0x1234fffe);
    g_assert_cmpint(run("0f 0b"), ==, 6);
    /* BOUND */
    stub_reset(32);
    *(uint32_t *)(stub.ram + DATA) = 10;
    *(uint32_t *)(stub.ram + DATA + 4) = 20;
    R()[R_EBX] = DATA;
    R()[R_EAX] = 15;
    g_assert_cmpint(run("62 03"), ==, -1);
    R()[R_EAX] = 21;
    g_assert_cmpint(run("62 03"), ==, 5);
}

static void test_misc(void)
{
    stub_reset(32);
    /* ARPL (protected mode): raise the RPL of a selector */
    R()[R_EAX] = 0x0010;
    R()[R_EBX] = 0x0003;
    g_assert_cmpint(run("63 d8"), ==, -1);          /* arpl ax, bx */
    g_assert_cmphex(R()[R_EAX], ==, 0x0013);
    g_assert_cmphex(flags() & ZF, ==, ZF);
    g_assert_cmpint(run("63 d8"), ==, -1);          /* already: ZF = 0 */
    g_assert_cmphex(flags() & ZF, ==, 0);
    /* SALC */
    g_assert_cmpint(run("f9 d6"), ==, -1);
    g_assert_cmphex(R()[R_EAX] & 0xff, ==, 0xff);
    /* LOOPNE stops on ZF = 1: scan for a zero byte */
    memcpy(stub.ram + DATA, "\x05\x04\x00\x07", 4);
    R()[R_ESI] = DATA;
    R()[R_ECX] = 4;
    g_assert_cmpint(run("ac 84 c0 e0 fb"), ==, -1);  /* lodsb; test al, al; loopne */
    g_assert_cmphex(R()[R_ESI], ==, DATA + 3);
    g_assert_cmphex(R()[R_ECX], ==, 1);
    /* JMP through memory */
    *(uint32_t *)(stub.ram + DATA) = CODE + 8;
    R()[R_EBX] = DATA;
    g_assert_cmpint(run("ff 23 0f 0b 0f 0b 0f 0b 90"), ==, -1);
    /* PUSH ESP pushes the old value; POP ESP loads the popped value;
     * POP [ESP] addresses with the incremented ESP */
    R()[R_ESP] = 0x7000;
    g_assert_cmpint(run("54"), ==, -1);
    g_assert_cmphex(*(uint32_t *)(stub.ram + 0x6ffc), ==, 0x7000);
    g_assert_cmpint(run("5c"), ==, -1);
    g_assert_cmphex(R()[R_ESP], ==, 0x7000);
    R()[R_EAX] = 0xabcd;
    g_assert_cmpint(run("50 8f 04 24"), ==, -1);    /* push eax; pop dword [esp] */
    g_assert_cmphex(R()[R_ESP], ==, 0x7000);
    g_assert_cmphex(*(uint32_t *)(stub.ram + 0x7000), ==, 0xabcd);
    /* real mode: ARPL is #UD, 16-bit operand defaults */
    stub_reset(16);
    g_assert_cmpint(run("63 d8"), ==, 6);
    R()[R_EAX] = 0x12345678;
    g_assert_cmpint(run("40"), ==, -1);             /* inc ax */
    g_assert_cmphex(R()[R_EAX], ==, 0x12345679);
    R()[R_EAX] = 0x1234ffff;
    g_assert_cmpint(run("40"), ==, -1);
    g_assert_cmphex(R()[R_EAX], ==, 0x12340000);
    g_assert_cmphex(flags() & ZF, ==, ZF);
}

static void test_bcd(void)
{
    stub_reset(32);
    R()[R_EAX] = 0x79;
    R()[R_EBX] = 0x35;
    g_assert_cmpint(run("00 d8 27"), ==, -1);       /* add al, bl; daa: 79 + 35 = 114 */
    g_assert_cmphex(R()[R_EAX] & 0xff, ==, 0x14);
    g_assert_cmphex(flags() & CF, ==, CF);
    R()[R_EAX] = 0x35;
    R()[R_EBX] = 0x47;
    g_assert_cmpint(run("28 d8 2f"), ==, -1);       /* sub al, bl; das: 35 - 47 = -12 -> 88 */
    g_assert_cmphex(R()[R_EAX] & 0xff, ==, 0x88);
    g_assert_cmphex(flags() & CF, ==, CF);
    R()[R_EAX] = 0x0009;
    R()[R_EBX] = 0x0008;
    g_assert_cmpint(run("00 d8 37"), ==, -1);       /* add al, bl; aaa: 9 + 8 = 17 */
    g_assert_cmphex(R()[R_EAX] & 0xffff, ==, 0x0107);
    R()[R_EAX] = 63;
    g_assert_cmpint(run("d4 0a"), ==, -1);          /* aam */
    g_assert_cmphex(R()[R_EAX] & 0xffff, ==, 0x0603);
    g_assert_cmpint(run("d5 0a"), ==, -1);          /* aad */
    g_assert_cmphex(R()[R_EAX] & 0xffff, ==, 63);
    g_assert_cmpint(run("d4 00"), ==, 0);           /* aam 0: #DE */
}

static void test_strings(void)
{
    stub_reset(32);
    for (int k = 0; k < 64; k++) {
        stub.ram[DATA + k] = (uint8_t)k;
    }
    memset(stub.ram + DATA + 0x100, 0, 64);
    R()[R_ESI] = DATA;
    R()[R_EDI] = DATA + 0x100;
    R()[R_ECX] = 10;
    g_assert_cmpint(run("f3 a4"), ==, -1);          /* rep movsb */
    g_assert_cmpmem(stub.ram + DATA + 0x100, 10, stub.ram + DATA, 10);
    g_assert_cmpuint(stub.ram[DATA + 0x100 + 10], ==, 0);
    g_assert_cmphex(R()[R_ECX], ==, 0);
    g_assert_cmphex(R()[R_ESI], ==, DATA + 10);
    /* DF = 1, dwords, backwards */
    R()[R_ESI] = DATA + 12;
    R()[R_EDI] = DATA + 0x200 + 12;
    R()[R_ECX] = 4;
    g_assert_cmpint(run("fd f3 a5 fc"), ==, -1);    /* std; rep movsd; cld */
    g_assert_cmpmem(stub.ram + DATA + 0x200, 16, stub.ram + DATA, 16);
    g_assert_cmphex(R()[R_ESI], ==, DATA - 4);
    /* overlapping forward copy replicates a pattern (byte order semantics) */
    stub.ram[DATA + 0x300] = 0xab;
    R()[R_ESI] = DATA + 0x300;
    R()[R_EDI] = DATA + 0x301;
    R()[R_ECX] = 20;
    g_assert_cmpint(run("f3 a4"), ==, -1);
    for (int k = 0; k < 21; k++) {
        g_assert_cmpuint(stub.ram[DATA + 0x300 + k], ==, 0xab);
    }
    /* rep stosd */
    R()[R_EDI] = DATA + 0x400;
    R()[R_EAX] = 0x01020304;
    R()[R_ECX] = 3;
    g_assert_cmpint(run("f3 ab"), ==, -1);
    g_assert_cmphex(*(uint32_t *)(stub.ram + DATA + 0x408), ==, 0x01020304);
    g_assert_cmphex(R()[R_EDI], ==, DATA + 0x40c);
    /* repe cmpsb stops at the first difference */
    memcpy(stub.ram + DATA + 0x500, "hello world", 11);
    memcpy(stub.ram + DATA + 0x600, "hello there", 11);
    R()[R_ESI] = DATA + 0x500;
    R()[R_EDI] = DATA + 0x600;
    R()[R_ECX] = 11;
    g_assert_cmpint(run("f3 a6"), ==, -1);
    g_assert_cmphex(R()[R_ECX], ==, 4);            /* 'w' vs 't' at index 6 */
    g_assert_cmphex(flags() & ZF, ==, 0);
    g_assert_true(tcgl_cond(&stub.c, 7));         /* 'w' > 't': above */
    /* repne scasb finds a byte */
    R()[R_EDI] = DATA + 0x500;
    R()[R_EAX] = 'o';
    R()[R_ECX] = 11;
    g_assert_cmpint(run("f2 ae"), ==, -1);
    g_assert_cmphex(R()[R_EDI], ==, DATA + 0x500 + 5);
    g_assert_cmphex(flags() & ZF, ==, ZF);
    /* lodsw, 16-bit address size: SI wraps at 64 KiB */
    stub.ram[0xffff] = 0x34;
    stub.ram[0x10000] = 0x12;
    *(uint16_t *)stub.ram = 0x5678;
    R()[R_ESI] = 0xabcdfffe;
    g_assert_cmpint(run("67 66 ad 67 66 ad"), ==, -1);
    g_assert_cmphex(R()[R_EAX] & 0xffff, ==, 0x5678);  /* second load at SI = 0 */
    g_assert_cmphex(R()[R_ESI], ==, 0xabcd0002);
    /* rep with rCX = 0 does nothing */
    R()[R_ECX] = 0;
    R()[R_EDI] = DATA;
    g_assert_cmpint(run("f3 aa"), ==, -1);
    g_assert_cmphex(R()[R_EDI], ==, DATA);
    /* a large REP MOVSD over pages: chunks leave rip on the instruction */
    {
        uint32_t n = 3 * 4096 + 100;
        for (uint32_t k = 0; k < n; k++) {
            stub.ram[0x100000 + k] = (uint8_t)(k * 7);
        }
        R()[R_ESI] = 0x100000;
        R()[R_EDI] = 0x200010;
        R()[R_ECX] = n / 4;
        stub_write(CODE, "\xf3\xa5", 2);
        stub.c.env->rip = CODE;
        g_assert_cmpint(stub_step(), ==, -1);
        g_assert_cmphex(stub.c.env->rip, ==, CODE);            /* not done yet */
        g_assert_cmphex(R()[R_ECX], <, n / 4);
        g_assert_cmphex(R()[R_ECX], >, 0);
        g_assert_cmpint(stub_run_until(CODE + 2, 100), ==, -1);
        g_assert_cmphex(R()[R_ECX], ==, 0);
        g_assert_cmpmem(stub.ram + 0x200010, n & ~3u, stub.ram + 0x100000, n & ~3u);
    }
}

/* Random bytes as code in every mode, with registers pointing into RAM:
 * every instruction either completes or raises one of the exceptions the
 * core raises; nothing traps in the host or runs away. */
static void test_random_code(void)
{
    GRand *r = g_rand_new_with_seed(1234);
    const int modes[3] = { 16, 32, 64 };
    unsigned steps = 0, faults = 0;

    for (int m = 0; m < 3; m++) {
        for (unsigned n = 0; n < 20000; n++) {
            uint8_t code[48];
            stub_reset(modes[m]);
            for (unsigned k = 0; k < sizeof(code); k++) {
                code[k] = (uint8_t)g_rand_int(r);
            }
            stub_write(CODE, code, sizeof(code));
            for (int k = 0; k < 16; k++) {
                R()[k] = g_rand_int_range(r, 0, 8) == 0 ? (uint64_t)g_rand_int(r) << 32 |
                                                          g_rand_int(r)
                                                        : (uint64_t)g_rand_int_range(r, 0, 0x200000);
            }
            R()[R_ESP] = 0x7000;
            stub.c.env->rflags = 2 | (g_rand_boolean(r) ? 0x400 : 0);
            stub.c.env->rip = CODE;
            for (int k = 0; k < 64; k++) {
                int v = stub_step();
                steps++;
                if (v >= 0) {
                    g_assert_true(v == 0 || v == 5 || v == 6 || v == 12 || v == 13 || v == 14);
                    faults++;
                    break;
                }
                if (stub.c.env->rip < CODE || stub.c.env->rip >= CODE + sizeof(code) - 15) {
                    break;
                }
            }
        }
    }
    printf("# random code: %u instructions, %u faults\n", steps, faults);
    g_assert_cmpuint(faults, >, 0);
    g_assert_cmpuint(steps, >, 3 * 20000);
    g_rand_free(r);
}

/* REP MOVS and REP STOS against an element-by-element model: every size,
 * both directions, overlapping runs at every distance, runs that cross a
 * page (fast path per page, slow path across). */
static void test_rep_model(void)
{
    static const char *movs[4] = { "f3 a4", "f3 66 a5", "f3 a5", "f3 48 a5" };
    static const char *stos[4] = { "f3 aa", "f3 66 ab", "f3 ab", "f3 48 ab" };
    const unsigned sizes[4] = { 1, 2, 4, 8 };
    const uint64_t base = 0x40000;
    static uint8_t model[0x3000];

    stub_reset(64);
    for (int si = 0; si < 4; si++) {
        unsigned sz = sizes[si];
        for (int down = 0; down < 2; down++) {
            for (int d = -19; d <= 19; d++) {
                for (int cnt = 1; cnt < 40; cnt += 7) {
                    for (int near_end = 0; near_end < 2; near_end++) {
                        uint64_t src = base + (near_end ? 0xfe0 : 0x800) + (down ? 0x40 : 0);
                        uint64_t dst = src + (uint64_t)(int64_t)d * 1 + (uint64_t)(d & 1) * 0;
                        for (unsigned k = 0; k < sizeof(model); k++) {
                            stub.ram[base + k] = model[k] = (uint8_t)(k * 7 + d);
                        }
                        /* the model: one element at a time */
                        {
                            uint64_t ms = src, md = dst;
                            for (int e = 0; e < cnt; e++) {
                                uint8_t tmp[8];
                                memcpy(tmp, model + (ms - base), sz);
                                memcpy(model + (md - base), tmp, sz);
                                ms += down ? -(uint64_t)sz : sz;
                                md += down ? -(uint64_t)sz : sz;
                            }
                        }
                        R()[R_ESI] = src;
                        R()[R_EDI] = dst;
                        R()[R_ECX] = (uint64_t)cnt;
                        stub.c.env->rflags = 2 | (down ? 0x400 : 0);
                        g_assert_cmpint(run(movs[si]), ==, -1);
                        if (memcmp(stub.ram + base, model, sizeof(model))) {
                            g_error("rep movs size %u df %d distance %d count %d near_end %d",
                                    sz, down, d, cnt, near_end);
                        }
                        g_assert_cmphex(R()[R_ESI], ==, src + (down ? -(uint64_t)sz : sz) * cnt);
                        g_assert_cmphex(R()[R_EDI], ==, dst + (down ? -(uint64_t)sz : sz) * cnt);
                        g_assert_cmphex(R()[R_ECX], ==, 0);
                    }
                }
            }
            /* STOS across a page end */
            R()[R_EDI] = base + 0xff0 + (down ? 0x20 : 0);
            R()[R_EAX] = 0x0102030405060708ULL;
            R()[R_ECX] = 9;
            stub.c.env->rflags = 2 | (down ? 0x400 : 0);
            {
                uint64_t d0 = R()[R_EDI];
                g_assert_cmpint(run(stos[si]), ==, -1);
                for (int e = 0; e < 9; e++) {
                    uint64_t at = down ? d0 - (uint64_t)e * sz : d0 + (uint64_t)e * sz;
                    g_assert_cmpmem(stub.ram + at, sz, "\x08\x07\x06\x05\x04\x03\x02\x01", sz);
                }
            }
        }
    }
    stub.c.env->rflags = 2;
}

/* REP STOS and REP MOVS at kernel (high-half) addresses in 64-bit mode
 * take the per-page fast path: one step stops at the destination's page
 * end (the element-wise path would go on past it, and faults there: the
 * stub maps RAM at STUB_HIGH_ALIAS for tcgl_lin_ptr() only). */
static void test_rep_high_half(void)
{
    const uint64_t src = 0x50000, dst = 0x60800;

    stub_reset(64);
    for (unsigned k = 0; k < 0x1000; k++) {
        stub.ram[src + k] = (uint8_t)(k * 13 + 1);
    }
    memset(stub.ram + dst - 0x800, 0, 0x3000);
    R()[R_EDI] = STUB_HIGH_ALIAS + dst;
    R()[R_EAX] = 0x1122334455667788ULL;
    R()[R_ECX] = 512;
    stub_write(CODE, (const uint8_t *)"\xf3\x48\xab", 3);          /* rep stosq */
    stub.c.env->rip = CODE;
    g_assert_cmpint(stub_step(), ==, -1);
    g_assert_cmphex(R()[R_ECX], ==, 256);
    g_assert_cmphex(R()[R_EDI], ==, STUB_HIGH_ALIAS + dst + 0x800);
    g_assert_cmphex(stub.c.env->rip, ==, CODE);                     /* not done yet */
    g_assert_cmpmem(stub.ram + dst + 0x7f8, 8, "\x88\x77\x66\x55\x44\x33\x22\x11", 8);
    g_assert_cmpuint(stub.ram[dst + 0x800], ==, 0);

    R()[R_ESI] = STUB_HIGH_ALIAS + src;
    R()[R_EDI] = STUB_HIGH_ALIAS + dst + 0xc00;       /* 0x400 into its page */
    R()[R_ECX] = 0x1000;
    stub_write(CODE, (const uint8_t *)"\xf3\xa4", 2);              /* rep movsb */
    stub.c.env->rip = CODE;
    g_assert_cmpint(stub_step(), ==, -1);
    g_assert_cmphex(R()[R_ECX], ==, 0x400);
    g_assert_cmpmem(stub.ram + dst + 0xc00, 0xc00, stub.ram + src, 0xc00);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tcgl_decode_init();
    g_test_add_func("/tcgl/int/alu-flags", test_alu_flags);
    g_test_add_func("/tcgl/int/unary", test_unary);
    g_test_add_func("/tcgl/int/shifts", test_shifts);
    g_test_add_func("/tcgl/int/muldiv", test_muldiv);
    g_test_add_func("/tcgl/int/bits", test_bits);
    g_test_add_func("/tcgl/int/cmpxchg", test_cmpxchg);
    g_test_add_func("/tcgl/int/moves", test_moves);
    g_test_add_func("/tcgl/int/stack-ctl", test_stack_ctl);
    g_test_add_func("/tcgl/int/misc", test_misc);
    g_test_add_func("/tcgl/int/bcd", test_bcd);
    g_test_add_func("/tcgl/int/strings", test_strings);
    g_test_add_func("/tcgl/int/rep-model", test_rep_model);
    g_test_add_func("/tcgl/int/rep-high-half", test_rep_high_half);
    g_test_add_func("/tcgl/int/random-code", test_random_code);
    return g_test_run();
}

/*
 * tcg-lite decoder (accel/tcg-lite/decode.c) against capstone: directed
 * encodings of every format, then random byte strings in 16-, 32- and
 * 64-bit mode.  Lengths must agree whenever capstone decodes the bytes;
 * for ModRM memory forms base, index, scale and displacement must agree,
 * and register numbers for the integer forms.  The few places where
 * capstone 4 differs from the CPU (and QEMU) are listed in
 * capstone_deviates() with the reason.
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include <capstone/capstone.h>
#include "decode.h"
#include "stub-core.h"

static csh cs[3];                   /* 16, 32, 64 */

static int mode_idx(int mode) { return mode == 16 ? 0 : mode == 32 ? 1 : 2; }

static uint32_t mode_hflags(int mode)
{
    return mode == 64 ? TCGL_HF_CS64 | TCGL_HF_CS32 | TCGL_HF_LMA : mode == 32 ? TCGL_HF_CS32 : 0;
}

/* capstone register -> our number (0-15, AH..BH 16-19, RIP = TCGL_RIPREL), or -1. */
static int reg_num(csh h, x86_reg r)
{
    static const char *names[16][4] = {
        { "rax", "eax", "ax", "al" }, { "rcx", "ecx", "cx", "cl" },
        { "rdx", "edx", "dx", "dl" }, { "rbx", "ebx", "bx", "bl" },
        { "rsp", "esp", "sp", "spl" }, { "rbp", "ebp", "bp", "bpl" },
        { "rsi", "esi", "si", "sil" }, { "rdi", "edi", "di", "dil" },
        { "r8", "r8d", "r8w", "r8b" }, { "r9", "r9d", "r9w", "r9b" },
        { "r10", "r10d", "r10w", "r10b" }, { "r11", "r11d", "r11w", "r11b" },
        { "r12", "r12d", "r12w", "r12b" }, { "r13", "r13d", "r13w", "r13b" },
        { "r14", "r14d", "r14w", "r14b" }, { "r15", "r15d", "r15w", "r15b" },
    };
    static const char *high[4] = { "ah", "ch", "dh", "bh" };
    const char *n;

    if (r == X86_REG_INVALID) {
        return TCGL_NOREG;
    }
    if (r == X86_REG_RIP || r == X86_REG_EIP || r == X86_REG_IP) {
        return TCGL_RIPREL;
    }
    n = cs_reg_name(h, r);
    if (!n) {
        return -1;
    }
    for (int k = 0; k < 16; k++) {
        for (int s = 0; s < 4; s++) {
            if (!strcmp(n, names[k][s])) {
                return k;
            }
        }
    }
    for (int k = 0; k < 4; k++) {
        if (!strcmp(n, high[k])) {
            return 16 + k;
        }
    }
    return -1;
}

static unsigned first_opcode_pos(const uint8_t *b, int mode)
{
    unsigned p = 0;
    while (p < 15) {
        uint8_t x = b[p];
        if (x == 0xf0 || x == 0xf2 || x == 0xf3 || x == 0x66 || x == 0x67 || x == 0x26 ||
            x == 0x2e || x == 0x36 || x == 0x3e || x == 0x64 || x == 0x65 ||
            (mode == 64 && (x & 0xf0) == 0x40)) {
            p++;
            continue;
        }
        break;
    }
    return p;
}

/*
 * Known capstone 4.0.2 deviations from the CPU (and QEMU), where we follow
 * the CPU.  Returns the reason, or NULL when the encoding must agree.
 */
static const char *capstone_deviates(const uint8_t *b, int mode, const TCGLInsn *i,
                                     const TCGLDecodeInfo *info, const cs_insn *ci)
{
    unsigned p = first_opcode_pos(b, mode);
    uint8_t op = b[p];

    (void)ci;
    if (info->verdict == TCGL_DEC_VEX) {
        return "VEX/EVEX/XOP: AVX is not advertised, the CPU raises #UD";
    }
    if (info->verdict == TCGL_DEC_INVALID && (i->opc >> 8) != 0) {
        return "reserved 0F opcode (#UD); capstone knows AMD/3DNow!/old forms";
    }
    if (i->opc == TCGL_OPC(1, 0xb9) || i->opc == TCGL_OPC(1, 0xff)) {
        return "UD1/UD0 take a ModRM (SDM; QEMU); capstone 4 stops after the opcode";
    }
    if ((i->opc == TCGL_OPC(1, 0x78) || i->opc == TCGL_OPC(1, 0x79)) &&
        (i->pfx & (TCGL_PFX_OPSIZE | TCGL_PFX_REPNE)) && info->verdict != TCGL_DEC_OK) {
        return "66/F2 0F 78/79: AMD's SSE4a EXTRQ/INSERTQ (two immediates), not advertised: #UD";
    }
    if (mode == 64 && (i->pfx & (TCGL_PFX_OPSIZE | TCGL_PFX_ADSIZE)) &&
        (i->opc == 0xe8 || i->opc == 0xe9 || i->opc == 0xc2 ||
         (i->opc >= TCGL_OPC(1, 0x80) && i->opc <= TCGL_OPC(1, 0x8f)))) {
        return "64-bit near branch with 66/67: Intel ignores 66 (rel32, 64-bit operand "
               "size) and 67 does not size the immediate; capstone 4 reads rel16 / "
               "misreads RET Iw after 66 REX.W";
    }
    (void)op;
    return NULL;
}

/* Opcodes whose ModRM.reg extends the opcode. */
static bool is_group(unsigned opc)
{
    static const uint16_t g[] = {
        0x80, 0x81, 0x82, 0x83, 0x8f, 0xc0, 0xc1, 0xc6, 0xc7, 0xd0, 0xd1, 0xd2, 0xd3,
        0xf6, 0xf7, 0xfe, 0xff, 0x100, 0x101, 0x118, 0x119, 0x11a, 0x11b, 0x11c, 0x11d,
        0x11e, 0x11f, 0x10d, 0x1ae, 0x1ba, 0x1c7,
    };
    if (opc >= 0x190 && opc <= 0x19f) {
        return true;            /* SETcc ignores ModRM.reg */
    }
    for (unsigned k = 0; k < sizeof(g) / sizeof(g[0]); k++) {
        if (g[k] == opc) {
            return true;
        }
    }
    return false;
}

static unsigned nr_mismatch, nr_compared, nr_deviation;

/* Compares one encoding; returns false (after printing why) on a mismatch. */
static bool compare_one(const uint8_t *b, unsigned n, int mode, bool verbose)
{
    TCGLInsn insn;
    TCGLDecodeInfo info;
    cs_insn *ci = NULL;
    size_t cnt;
    int len;
    const char *why;
    bool ok = true;
    char hex[64] = "";

    for (unsigned k = 0; k < n && k < 15; k++) {
        sprintf(hex + 3 * k, "%02x ", b[k]);
    }
    len = tcgl_decode_ex(b, n, mode_hflags(mode), &insn, &info);
    cnt = cs_disasm(cs[mode_idx(mode)], b, n, 0x1000, 1, &ci);
    if (cnt != 1) {
        return true;                    /* capstone does not decode it */
    }
    why = capstone_deviates(b, mode, &insn, &info, ci);
    if (why) {
        nr_deviation++;
        cs_free(ci, cnt);
        return true;
    }
    nr_compared++;
    if (len != (int)ci->size) {
        if (verbose) {
            printf("mode %d: %s: length %d, capstone %u (%s %s)\n", mode, hex, len, ci->size,
                   ci->mnemonic, ci->op_str);
        }
        ok = false;
        goto out;
    }
    if (insn.modrm != 0 || (insn.opc == 0 && insn.mod != 3)) {
        cs_x86 *x = &ci->detail->x86;
        for (unsigned k = 0; k < x->op_count; k++) {
            cs_x86_op *o = &x->operands[k];
            if (o->type == X86_OP_MEM && insn.mod != 3) {
                int base = reg_num(ci->detail ? cs[mode_idx(mode)] : 0, o->mem.base);
                int index = reg_num(cs[mode_idx(mode)], o->mem.index);
                int scale = o->mem.scale == 8 ? 3 : o->mem.scale == 4 ? 2 : o->mem.scale == 2;
                uint64_t m = tcgl_size_mask(insn.adsize);
                if (base != insn.base || index != insn.index ||
                    (index != TCGL_NOREG && scale != insn.scale) ||
                    ((uint64_t)o->mem.disp & m) != ((uint64_t)(int64_t)insn.disp & m)) {
                    if (verbose) {
                        printf("mode %d: %s: mem base %d index %d scale %d disp %#x; capstone "
                               "%d %d %d %#" G_GINT64_MODIFIER "x (%s %s)\n", mode, hex,
                               insn.base, insn.index, insn.scale, insn.disp, base, index, scale,
                               o->mem.disp, ci->mnemonic, ci->op_str);
                    }
                    ok = false;
                }
            }
        }
    }
    if (insn.modrm != 0 && insn.mod == 3 && info.verdict == TCGL_DEC_OK) {
        /* integer register forms: r/m (and reg unless it extends the opcode)
         * are among capstone's register operands */
        cs_x86 *x = &ci->detail->x86;
        bool have_rm = false, have_reg = false;
        for (unsigned k = 0; k < x->op_count; k++) {
            if (x->operands[k].type == X86_OP_REG) {
                int n = reg_num(cs[mode_idx(mode)], x->operands[k].reg);
                have_rm |= n == insn.rm;
                have_reg |= n == insn.reg;
            }
        }
        if (!have_rm || (!is_group(insn.opc) && !have_reg)) {
            if (verbose) {
                printf("mode %d: %s: reg %d rm %d not in capstone's operands (%s %s)\n", mode,
                       hex, insn.reg, insn.rm, ci->mnemonic, ci->op_str);
            }
            ok = false;
        }
    }
out:
    if (!ok) {
        nr_mismatch++;
    }
    cs_free(ci, cnt);
    return ok;
}

/* Our decoding of a directed encoding, with its length checked. */
static TCGLInsn dec(int mode, const char *hexstr, int want_len)
{
    uint8_t b[32];
    unsigned n = 0;
    TCGLInsn insn;
    TCGLDecodeInfo info;
    int len;

    for (const char *p = hexstr; *p; ) {
        unsigned v;
        if (*p == ' ') {
            p++;
            continue;
        }
        g_assert_true(sscanf(p, "%2x", &v) == 1);
        b[n++] = (uint8_t)v;
        p += 2;
    }
    len = tcgl_decode_ex(b, n, mode_hflags(mode), &insn, &info);
    if (len != want_len) {
        g_error("mode %d: %s: length %d, want %d", mode, hexstr, len, want_len);
    }
    if (len > 0) {
        g_assert_true(compare_one(b, n, mode, true));
    }
    return insn;
}

static void test_decode_formats(void)
{
    TCGLInsn i;

    /* ALU forms, 32-bit mode */
    i = dec(32, "01 d8", 2);                    /* add eax, ebx */
    g_assert_cmpuint(i.opsize, ==, 4);
    g_assert_cmpuint(i.rm, ==, R_EAX);
    g_assert_cmpuint(i.reg, ==, R_EBX);
    i = dec(32, "00 e7", 2);                    /* add bh, ah */
    g_assert_cmpuint(i.opsize, ==, 1);
    g_assert_cmpuint(i.rm, ==, 19);
    g_assert_cmpuint(i.reg, ==, 16);
    i = dec(32, "66 05 34 12", 4);              /* add ax, 0x1234 */
    g_assert_cmpuint(i.opsize, ==, 2);
    g_assert_cmpuint(i.imm, ==, 0x1234);
    i = dec(32, "83 c0 ff", 3);                 /* add eax, -1 */
    g_assert_cmpuint(i.imm, ==, ~0ULL);
    i = dec(32, "81 84 8b 78 56 34 12 01 00 00 00", 11);   /* add [ebx+ecx*4+0x12345678], 1 */
    g_assert_cmpuint(i.base, ==, R_EBX);
    g_assert_cmpuint(i.index, ==, R_ECX);
    g_assert_cmpuint(i.scale, ==, 2);
    g_assert_cmpint(i.disp, ==, 0x12345678);
    g_assert_cmpuint(i.seg, ==, R_DS);
    i = dec(32, "8b 45 08", 3);                 /* mov eax, [ebp+8]: SS */
    g_assert_cmpuint(i.seg, ==, R_SS);
    i = dec(32, "8b 04 24", 3);                 /* mov eax, [esp] */
    g_assert_cmpuint(i.seg, ==, R_SS);
    g_assert_cmpuint(i.base, ==, R_ESP);
    g_assert_cmpuint(i.index, ==, TCGL_NOREG);
    i = dec(32, "8b 05 00 10 00 00", 6);        /* mov eax, [0x1000] */
    g_assert_cmpuint(i.base, ==, TCGL_NOREG);
    i = dec(32, "8b 04 25 00 10 00 00", 7);     /* SIB, no base, no index */
    g_assert_cmpuint(i.base, ==, TCGL_NOREG);
    g_assert_cmpuint(i.index, ==, TCGL_NOREG);
    i = dec(32, "26 8b 45 00", 4);              /* es: [ebp] */
    g_assert_cmpuint(i.seg, ==, R_ES);
    g_assert_true(i.pfx & TCGL_PFX_SEG);
    /* 16-bit addressing */
    i = dec(16, "8b 02", 2);                    /* mov ax, [bp+si] */
    g_assert_cmpuint(i.opsize, ==, 2);
    g_assert_cmpuint(i.base, ==, R_EBP);
    g_assert_cmpuint(i.index, ==, R_ESI);
    g_assert_cmpuint(i.seg, ==, R_SS);
    i = dec(16, "8b 06 34 12", 4);              /* mov ax, [0x1234] */
    g_assert_cmpuint(i.base, ==, TCGL_NOREG);
    g_assert_cmpint(i.disp, ==, 0x1234);
    i = dec(16, "8b 47 fe", 3);                 /* mov ax, [bx-2] */
    g_assert_cmpint(i.disp, ==, -2);
    i = dec(16, "66 67 8b 44 24 04", 6);        /* mov eax, [esp+4] in 16-bit code */
    g_assert_cmpuint(i.opsize, ==, 4);
    g_assert_cmpuint(i.adsize, ==, 4);
    /* 64-bit: REX, RIP-relative, default-64 */
    i = dec(64, "48 8b 05 10 00 00 00", 7);     /* mov rax, [rip+0x10] */
    g_assert_cmpuint(i.base, ==, TCGL_RIPREL);
    g_assert_cmpuint(i.opsize, ==, 8);
    i = dec(64, "4d 8b 44 8d 00", 5);           /* mov r8, [r13+rcx*4] */
    g_assert_cmpuint(i.reg, ==, 8);
    g_assert_cmpuint(i.base, ==, 13);
    g_assert_cmpuint(i.seg, ==, R_DS);
    i = dec(64, "42 8b 04 20", 4);              /* mov eax, [rax+r12]: REX.X */
    g_assert_cmpuint(i.index, ==, 12);
    i = dec(64, "40 88 e0", 3);                 /* mov al, spl (REX: no AH) */
    g_assert_cmpuint(i.rm, ==, 0);
    g_assert_cmpuint(i.reg, ==, 4);
    i = dec(64, "48 66 8b c0", 3 + 1);          /* 66 after REX cancels REX */
    g_assert_cmpuint(i.opsize, ==, 2);
    g_assert_cmpuint(i.rex, ==, 0);
    i = dec(64, "50", 1);                       /* push rax */
    g_assert_cmpuint(i.opsize, ==, 8);
    i = dec(64, "66 50", 2);
    g_assert_cmpuint(i.opsize, ==, 2);
    i = dec(64, "41 5f", 2);                    /* pop r15 */
    g_assert_cmpuint(i.reg, ==, 15);
    i = dec(64, "48 b8 88 77 66 55 44 33 22 11", 10);  /* mov rax, imm64 */
    g_assert_cmpuint(i.imm, ==, 0x1122334455667788ULL);
    i = dec(64, "b8 44 33 22 11", 5);
    g_assert_cmpuint(i.imm, ==, 0x11223344);
    i = dec(64, "a1 88 77 66 55 44 33 22 11", 9);   /* mov eax, moffs64 */
    g_assert_cmpuint(i.imm, ==, 0x1122334455667788ULL);
    i = dec(64, "67 a1 44 33 22 11", 6);        /* moffs32 */
    g_assert_cmpuint(i.imm, ==, 0x11223344);
    dec(16, "a1 34 12", 3);
    i = dec(64, "e8 00 00 00 00", 5);           /* call rel32 */
    g_assert_cmpuint(i.opsize, ==, 8);
    i = dec(64, "ff d0", 2);                    /* call rax */
    g_assert_cmpuint(i.opsize, ==, 8);
    i = dec(64, "64 48 8b 04 25 28 00 00 00", 9);   /* mov rax, fs:0x28 */
    g_assert_cmpuint(i.seg, ==, R_FS);
    i = dec(64, "2e 8b 00", 3);                 /* cs: ignored in 64-bit mode */
    g_assert_cmpuint(i.seg, ==, R_DS);
    g_assert_false(i.pfx & TCGL_PFX_SEG);
    /* immediates of every kind */
    dec(32, "c8 10 00 01", 4);                  /* enter 16, 1 */
    i = dec(32, "ea 78 56 34 12 08 00", 7);     /* jmp far 8:0x12345678 */
    g_assert_cmpuint(i.imm, ==, 0x12345678);
    g_assert_cmpuint(i.imm2, ==, 8);
    dec(16, "ea 00 7c 00 00", 5);
    dec(32, "c2 08 00", 3);
    dec(32, "f6 c0 01", 3);                     /* test al, 1 */
    dec(32, "f7 c0 01 00 00 00", 6);            /* test eax, 1 */
    dec(32, "f7 d0", 2);                        /* not eax */
    dec(32, "66 f7 c0 01 00", 5);
    dec(32, "69 c0 00 01 00 00", 6);
    dec(32, "6b c0 10", 3);
    dec(32, "0f ba e0 05", 4);                  /* bt eax, 5 */
    dec(32, "0f a4 c2 04", 4);                  /* shld edx, eax, 4 */
    dec(32, "0f 84 00 01 00 00", 6);
    dec(16, "0f 84 00 01", 4);
    dec(32, "0f b6 c4", 3);                     /* movzx eax, ah */
    i = dec(32, "0f b6 c4", 3);
    g_assert_cmpuint(i.rm, ==, 16);
    g_assert_cmpuint(i.reg, ==, R_EAX);
    dec(32, "0f 20 c0", 3);                     /* mov eax, cr0 */
    dec(32, "0f 38 f0 00", 4);                  /* movbe eax, [eax] */
    dec(32, "66 0f 3a 0f c1 08", 6);            /* palignr */
    dec(64, "f3 48 0f b8 c1", 5);               /* popcnt rcx */
    dec(64, "f0 48 0f c7 0e", 5);               /* lock cmpxchg16b [rsi] */
    /* limits: 15 bytes, more bytes needed */
    dec(32, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", 15);
    dec(32, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", -1);
    dec(32, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66", -1);
    dec(32, "66 66 66 66 66 66 66 66 66 66 66 66 66 66", TCGL_DECODE_MORE);
    dec(64, "48 b8 88 77 66 55 44 33 22", TCGL_DECODE_MORE);
    dec(32, "81 84 8b 78 56 34", TCGL_DECODE_MORE);
    /* invalid in 64-bit mode */
    i = dec(64, "06", 1);
    g_assert_true(i.fn == tcgl_op_ud);
    i = dec(64, "c4 e2 79 18 00", 2);           /* VEX: #UD, the length is not looked at */
    g_assert_true(i.fn == tcgl_op_ud);
}

/* Every opcode of every map with each ModRM shape (register, [disp32] /
 * RIP-relative, SIB + disp8, SIB without base, disp32), with and without
 * 66/67/REX.W: whatever capstone decodes must agree. */
static void test_decode_sweep(void)
{
    static const uint8_t modrm_tail[][6] = {
        { 0xc1 }, { 0x05, 0x78, 0x56, 0x34, 0x12 }, { 0x44, 0x8b, 0x7f },
        { 0x04, 0x25, 0x00, 0x10, 0x00, 0x00 }, { 0x86, 0x00, 0x01, 0x00, 0x00 }, { 0x42, 0x80 },
    };
    static const uint8_t pfx_sets[][2] = { { 0 }, { 0x66 }, { 0x67 }, { 0x48 }, { 0xf3 } };
    const int modes[3] = { 16, 32, 64 };
    unsigned before_mismatch = nr_mismatch;

    for (int m = 0; m < 3; m++) {
        for (unsigned map = 0; map < 4; map++) {
            for (unsigned op = 0; op < 256; op++) {
                for (unsigned t = 0; t < sizeof(modrm_tail) / sizeof(modrm_tail[0]); t++) {
                    for (unsigned p = 0; p < sizeof(pfx_sets) / sizeof(pfx_sets[0]); p++) {
                        uint8_t b[32];
                        unsigned n = 0;
                        if (pfx_sets[p][0] == 0x48 && modes[m] != 64) {
                            continue;
                        }
                        if (pfx_sets[p][0]) {
                            b[n++] = pfx_sets[p][0];
                        }
                        if (map) {
                            b[n++] = 0x0f;
                        }
                        if (map == 2) {
                            b[n++] = 0x38;
                        } else if (map == 3) {
                            b[n++] = 0x3a;
                        }
                        b[n++] = (uint8_t)op;
                        memcpy(b + n, modrm_tail[t], 6);
                        n += 6;
                        /* immediates: distinct bytes */
                        for (unsigned k = 0; n < sizeof(b); k++) {
                            b[n++] = (uint8_t)(0x11 * (k + 1));
                        }
                        compare_one(b, 15, modes[m], nr_mismatch < before_mismatch + 40);
                    }
                }
            }
        }
    }
    printf("sweep: %u compared, %u mismatches, %u known capstone deviations\n",
           nr_compared, nr_mismatch - before_mismatch, nr_deviation);
    g_assert_cmpuint(nr_mismatch, ==, before_mismatch);
}

static void random_run(int mode, unsigned count, uint32_t seed)
{
    GRand *r = g_rand_new_with_seed(seed);
    static const uint8_t pfx[] = { 0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x2e, 0x26, 0x64, 0x65, 0x0f };

    nr_mismatch = nr_compared = nr_deviation = 0;
    for (unsigned n = 0; n < count; n++) {
        uint8_t b[16];
        for (unsigned k = 0; k < sizeof(b); k++) {
            b[k] = (uint8_t)g_rand_int(r);
        }
        /* Bias towards prefixes, REX and the escapes so they get covered. */
        switch (g_rand_int_range(r, 0, 8)) {
        case 0:
            b[0] = pfx[g_rand_int_range(r, 0, sizeof(pfx))];
            break;
        case 1:
            b[0] = 0x40 | (b[0] & 15);
            break;
        case 2:
            b[0] = 0x0f;
            break;
        case 3:
            b[0] = pfx[g_rand_int_range(r, 0, sizeof(pfx))];
            b[1] = 0x40 | (b[1] & 15);
            break;
        default:
            break;
        }
        compare_one(b, 15, mode, nr_mismatch < 60);
        {
            /* the same bytes, cut: exactly enough decodes alike, one less
             * asks for more */
            TCGLInsn full, cut;
            TCGLDecodeInfo info;
            int len = tcgl_decode_ex(b, 15, mode_hflags(mode), &full, &info);
            if (len > 0) {
                g_assert_cmpint(tcgl_decode_ex(b, (unsigned)len, mode_hflags(mode), &cut, &info),
                                ==, len);
                g_assert_true(cut.fn == full.fn && cut.imm == full.imm && cut.disp == full.disp);
                g_assert_cmpint(tcgl_decode_ex(b, (unsigned)len - 1, mode_hflags(mode), &cut,
                                               &info), ==, TCGL_DECODE_MORE);
            } else {
                g_assert_cmpint(len, ==, -1);
            }
        }
    }
    printf("mode %d: %u compared, %u mismatches, %u known capstone deviations\n", mode,
           nr_compared, nr_mismatch, nr_deviation);
    g_assert_cmpuint(nr_compared, >, count / 2);
    g_assert_cmpuint(nr_mismatch, ==, 0);
    g_rand_free(r);
}

static void test_decode_random16(void) { random_run(16, 100000, 16); }
static void test_decode_random32(void) { random_run(32, 100000, 32); }
static void test_decode_random64(void) { random_run(64, 100000, 64); }

int main(int argc, char **argv)
{
    cs_mode modes[3] = { CS_MODE_16, CS_MODE_32, CS_MODE_64 };

    g_test_init(&argc, &argv, NULL);
    for (int k = 0; k < 3; k++) {
        g_assert_cmpint(cs_open(CS_ARCH_X86, modes[k], &cs[k]), ==, CS_ERR_OK);
        cs_option(cs[k], CS_OPT_DETAIL, CS_OPT_ON);
    }
    tcgl_decode_init();
    g_test_add_func("/tcgl/decode/formats", test_decode_formats);
    g_test_add_func("/tcgl/decode/sweep", test_decode_sweep);
    g_test_add_func("/tcgl/decode/random16", test_decode_random16);
    g_test_add_func("/tcgl/decode/random32", test_decode_random32);
    g_test_add_func("/tcgl/decode/random64", test_decode_random64);
    return g_test_run();
}

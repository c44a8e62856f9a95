/*
 * tcg-lite integer instructions: the table that hands the handlers of
 * int-*.c to the decoder, with the select functions that pick the
 * specialised handler for a decoded form.
 */
#include "flags.h"
#include "int-ops.h"

static inline unsigned size_idx(const TCGLInsn *i)
{
    return tcgl_size_log(i->opsize);
}

/* 00-3F (ALU Eb,Gb .. rAX,Iz), 80-83, 84/85, A8/A9, F6/F7 /0 /1 */
static TCGLHandler *sel_alu(const TCGLInsn *i)
{
    unsigned b = i->opc & 0xff, op, form;

    if (b < 0x40) {
        op = b >> 3;
        switch (b & 7) {
        case 0: case 1: form = i->mod == 3 ? FORM_RR_E : FORM_MR; break;
        case 2: case 3: form = i->mod == 3 ? FORM_RR_G : FORM_RM; break;
        default: form = FORM_RI; break;    /* AL/rAX, imm: rm is 0 */
        }
    } else if (b >= 0x80 && b <= 0x83) {
        op = (i->modrm >> 3) & 7;
        form = i->mod == 3 ? FORM_RI : FORM_MI;
    } else if (b == 0x84 || b == 0x85) {
        op = 8;
        form = i->mod == 3 ? FORM_RR_E : FORM_MR;
    } else if (b == 0xa8 || b == 0xa9) {
        op = 8;
        form = FORM_RI;
    } else {        /* F6/F7 /0 /1 */
        op = 8;
        form = i->mod == 3 ? FORM_RI : FORM_MI;
    }
    return alu_handlers[op][form][size_idx(i)];
}

/* 88-8B, C6/C7 /0, B0-BF */
static TCGLHandler *sel_mov(const TCGLInsn *i)
{
    unsigned b = i->opc & 0xff, form;

    if (b == 0x88 || b == 0x89) {
        form = i->mod == 3 ? FORM_RR_E : FORM_MR;
    } else if (b == 0x8a || b == 0x8b) {
        form = i->mod == 3 ? FORM_RR_G : FORM_RM;
    } else if (b >= 0xb0 && b <= 0xbf) {
        form = FORM_RI;             /* rm = the opcode's register */
    } else {
        form = i->mod == 3 ? FORM_RI : FORM_MI;
    }
    return mov_handlers[form][size_idx(i)];
}

/* C0/C1 (imm), D0/D1 (1), D2/D3 (CL): register SHL/SHR/SAR specialised */
static TCGLHandler *sel_shift(const TCGLInsn *i)
{
    unsigned b = i->opc & 0xff, kind = (i->modrm >> 3) & 7;
    unsigned form = b <= 0xc1 ? 0 : b <= 0xd1 ? 1 : 2;
    int op = kind == 4 || kind == 6 ? 0 : kind == 5 ? 1 : kind == 7 ? 2 : -1;

    if (i->mod == 3 && op >= 0) {
        return shift_reg_handlers[op][form][size_idx(i)];
    }
    return form == 0 ? tcgl_int_shift_ib : form == 1 ? tcgl_int_shift_1 : tcgl_int_shift_cl;
}

/* FE/FF /0 /1 */
static TCGLHandler *sel_incdec(const TCGLInsn *i)
{
    unsigned dec = (i->modrm >> 3) & 1;
    if (i->mod == 3) {
        return incdec_reg_handlers[dec][size_idx(i)];
    }
    return dec ? tcgl_int_dec : tcgl_int_inc;
}

static TCGLHandler *sel_jcc(const TCGLInsn *i)
{
    return jcc_handlers[i->opc & 15];
}

/* 90-97: NOP unless REX.B names R8 */
static TCGLHandler *sel_xchg_ax(const TCGLInsn *i)
{
    return i->reg == R_EAX ? tcgl_int_nop : tcgl_int_xchg_ax;
}

static TCGLHandler *sel_pause(const TCGLInsn *i)
{
    return i->reg == R_EAX ? tcgl_int_pause : tcgl_int_xchg_ax;
}

/* CMPXCHG16B needs 64-bit mode's REX.W; the 8-byte form is everywhere. */
static TCGLHandler *sel_cmpxchg8b(const TCGLInsn *i)
{
    return tcgl_int_cmpxchg8b;
    (void)i;
}

/* MOVBE: 16-bit operand needs 66 (allowed), no byte form. */
static TCGLHandler *sel_movbe_ld(const TCGLInsn *i) { (void)i; return tcgl_int_movbe_load; }
static TCGLHandler *sel_movbe_st(const TCGLInsn *i) { (void)i; return tcgl_int_movbe_store; }

#define OP1(b) TCGL_OPC(TCGL_MAP_1B, b)
#define OP2(b) TCGL_OPC(TCGL_MAP_0F, b)
#define OP38(b) TCGL_OPC(TCGL_MAP_0F38, b)

#define F_BR TCGL_OPF_BRANCH
#define F_LK TCGL_OPF_LOCK
#define F_N64 TCGL_OPF_NO64
#define F_O64 TCGL_OPF_ONLY64

#define D(o, r, p, m, f, h) { .opc = (o), .reg = (r), .pfx = (p), .mod = (m), .flags = (f), .fn = (h) }
#define S(o, r, p, m, f, s) { .opc = (o), .reg = (r), .pfx = (p), .mod = (m), .flags = (f), .select = (s) }
#define ANY TCGL_MP_ANY
#define MA TCGL_MOD_ANY
#define MM TCGL_MOD_MEM
#define MR TCGL_MOD_REG

#define ALU_ROWS(base, lockable) \
    S(OP1(base + 0), -1, ANY, MA, lockable, sel_alu), S(OP1(base + 1), -1, ANY, MA, lockable, sel_alu), \
    S(OP1(base + 2), -1, ANY, MA, 0, sel_alu), S(OP1(base + 3), -1, ANY, MA, 0, sel_alu), \
    S(OP1(base + 4), -1, ANY, MA, 0, sel_alu), S(OP1(base + 5), -1, ANY, MA, 0, sel_alu)

/* 80-83: ADD..XOR lockable, CMP not */
#define GRP1(o, f) \
    S(o, 0, ANY, MA, F_LK | (f), sel_alu), S(o, 1, ANY, MA, F_LK | (f), sel_alu), \
    S(o, 2, ANY, MA, F_LK | (f), sel_alu), S(o, 3, ANY, MA, F_LK | (f), sel_alu), \
    S(o, 4, ANY, MA, F_LK | (f), sel_alu), S(o, 5, ANY, MA, F_LK | (f), sel_alu), \
    S(o, 6, ANY, MA, F_LK | (f), sel_alu), S(o, 7, ANY, MA, (f), sel_alu)

#define RANGE8(o, r, p, m, f, s) \
    S((o) + 0, r, p, m, f, s), S((o) + 1, r, p, m, f, s), S((o) + 2, r, p, m, f, s), \
    S((o) + 3, r, p, m, f, s), S((o) + 4, r, p, m, f, s), S((o) + 5, r, p, m, f, s), \
    S((o) + 6, r, p, m, f, s), S((o) + 7, r, p, m, f, s)
#define RANGE8D(o, r, p, m, f, h) \
    D((o) + 0, r, p, m, f, h), D((o) + 1, r, p, m, f, h), D((o) + 2, r, p, m, f, h), \
    D((o) + 3, r, p, m, f, h), D((o) + 4, r, p, m, f, h), D((o) + 5, r, p, m, f, h), \
    D((o) + 6, r, p, m, f, h), D((o) + 7, r, p, m, f, h)

/* A string instruction: plain, and REP (F3) / REPNE (F2) forms that end
 * the block (they leave rip on themselves between chunks). */
#define STR(b, plain, rep) \
    D(OP1(b), -1, ANY, MA, 0, plain), D(OP1(b), -1, TCGL_MP_F3, MA, F_BR, rep), \
    D(OP1(b), -1, TCGL_MP_F2, MA, F_BR, rep)

const TCGLOpDesc tcgl_ops_int[] = {
    /* ALU */
    ALU_ROWS(0x00, F_LK), ALU_ROWS(0x08, F_LK), ALU_ROWS(0x10, F_LK), ALU_ROWS(0x18, F_LK),
    ALU_ROWS(0x20, F_LK), ALU_ROWS(0x28, F_LK), ALU_ROWS(0x30, F_LK), ALU_ROWS(0x38, 0),
    GRP1(OP1(0x80), 0), GRP1(OP1(0x81), 0), GRP1(OP1(0x82), F_N64), GRP1(OP1(0x83), 0),
    S(OP1(0x84), -1, ANY, MA, 0, sel_alu), S(OP1(0x85), -1, ANY, MA, 0, sel_alu),
    S(OP1(0xa8), -1, ANY, MA, 0, sel_alu), S(OP1(0xa9), -1, ANY, MA, 0, sel_alu),
    /* group 3 */
    S(OP1(0xf6), 0, ANY, MA, 0, sel_alu), S(OP1(0xf6), 1, ANY, MA, 0, sel_alu),
    S(OP1(0xf7), 0, ANY, MA, 0, sel_alu), S(OP1(0xf7), 1, ANY, MA, 0, sel_alu),
    D(OP1(0xf6), 2, ANY, MA, F_LK, tcgl_int_not), D(OP1(0xf7), 2, ANY, MA, F_LK, tcgl_int_not),
    D(OP1(0xf6), 3, ANY, MA, F_LK, tcgl_int_neg), D(OP1(0xf7), 3, ANY, MA, F_LK, tcgl_int_neg),
    D(OP1(0xf6), 4, ANY, MA, 0, tcgl_int_mul), D(OP1(0xf7), 4, ANY, MA, 0, tcgl_int_mul),
    D(OP1(0xf6), 5, ANY, MA, 0, tcgl_int_imul1), D(OP1(0xf7), 5, ANY, MA, 0, tcgl_int_imul1),
    D(OP1(0xf6), 6, ANY, MA, 0, tcgl_int_div), D(OP1(0xf7), 6, ANY, MA, 0, tcgl_int_div),
    D(OP1(0xf6), 7, ANY, MA, 0, tcgl_int_idiv), D(OP1(0xf7), 7, ANY, MA, 0, tcgl_int_idiv),
    D(OP2(0xaf), -1, ANY, MA, 0, tcgl_int_imul_gv),
    D(OP1(0x69), -1, ANY, MA, 0, tcgl_int_imul_gvi), D(OP1(0x6b), -1, ANY, MA, 0, tcgl_int_imul_gvi),
    /* groups 4 and 5 */
    S(OP1(0xfe), 0, ANY, MA, F_LK, sel_incdec), S(OP1(0xfe), 1, ANY, MA, F_LK, sel_incdec),
    S(OP1(0xff), 0, ANY, MA, F_LK, sel_incdec), S(OP1(0xff), 1, ANY, MA, F_LK, sel_incdec),
    D(OP1(0xff), 2, ANY, MA, F_BR, tcgl_int_call_rm),
    D(OP1(0xff), 4, ANY, MA, F_BR, tcgl_int_jmp_rm),
    D(OP1(0xff), 6, ANY, MA, 0, tcgl_int_push_rm),
    RANGE8D(OP1(0x40), -1, ANY, MA, F_N64, tcgl_int_inc_r),
    RANGE8D(OP1(0x48), -1, ANY, MA, F_N64, tcgl_int_dec_r),
    /* shifts and rotates */
    S(OP1(0xc0), -1, ANY, MA, 0, sel_shift), S(OP1(0xc1), -1, ANY, MA, 0, sel_shift),
    S(OP1(0xd0), -1, ANY, MA, 0, sel_shift), S(OP1(0xd1), -1, ANY, MA, 0, sel_shift),
    S(OP1(0xd2), -1, ANY, MA, 0, sel_shift), S(OP1(0xd3), -1, ANY, MA, 0, sel_shift),
    D(OP2(0xa4), -1, ANY, MA, 0, tcgl_int_shld_ib), D(OP2(0xa5), -1, ANY, MA, 0, tcgl_int_shld_cl),
    D(OP2(0xac), -1, ANY, MA, 0, tcgl_int_shrd_ib), D(OP2(0xad), -1, ANY, MA, 0, tcgl_int_shrd_cl),
    /* bits */
    D(OP2(0xa3), -1, ANY, MA, 0, tcgl_int_bt_r), D(OP2(0xab), -1, ANY, MA, F_LK, tcgl_int_bt_r),
    D(OP2(0xb3), -1, ANY, MA, F_LK, tcgl_int_bt_r), D(OP2(0xbb), -1, ANY, MA, F_LK, tcgl_int_bt_r),
    D(OP2(0xba), 4, ANY, MA, 0, tcgl_int_bt_i), D(OP2(0xba), 5, ANY, MA, F_LK, tcgl_int_bt_i),
    D(OP2(0xba), 6, ANY, MA, F_LK, tcgl_int_bt_i), D(OP2(0xba), 7, ANY, MA, F_LK, tcgl_int_bt_i),
    D(OP2(0xbc), -1, ANY, MA, 0, tcgl_int_bsf), D(OP2(0xbc), -1, TCGL_MP_F3, MA, 0, tcgl_int_tzcnt),
    D(OP2(0xbd), -1, ANY, MA, 0, tcgl_int_bsr), D(OP2(0xbd), -1, TCGL_MP_F3, MA, 0, tcgl_int_lzcnt),
    D(OP2(0xb8), -1, TCGL_MP_F3, MA, 0, tcgl_int_popcnt),
    /* exchange and compare */
    D(OP1(0x86), -1, ANY, MA, F_LK, tcgl_int_xchg), D(OP1(0x87), -1, ANY, MA, F_LK, tcgl_int_xchg),
    D(OP2(0xc0), -1, ANY, MA, F_LK, tcgl_int_xadd), D(OP2(0xc1), -1, ANY, MA, F_LK, tcgl_int_xadd),
    D(OP2(0xb0), -1, ANY, MA, F_LK, tcgl_int_cmpxchg), D(OP2(0xb1), -1, ANY, MA, F_LK, tcgl_int_cmpxchg),
    S(OP2(0xc7), 1, TCGL_MP_NONE, MM, F_LK, sel_cmpxchg8b),
    S(OP2(0xc7), 1, TCGL_MP_66, MM, F_LK, sel_cmpxchg8b),
    RANGE8D(OP2(0xc8), -1, ANY, MA, 0, tcgl_int_bswap),
    /* conditions */
    RANGE8D(OP2(0x90), -1, ANY, MA, 0, tcgl_int_setcc), RANGE8D(OP2(0x98), -1, ANY, MA, 0, tcgl_int_setcc),
    RANGE8D(OP2(0x40), -1, ANY, MA, 0, tcgl_int_cmovcc), RANGE8D(OP2(0x48), -1, ANY, MA, 0, tcgl_int_cmovcc),
    /* conversions, flags, BCD */
    D(OP1(0x98), -1, ANY, MA, 0, tcgl_int_cbw), D(OP1(0x99), -1, ANY, MA, 0, tcgl_int_cwd),
    D(OP1(0x9e), -1, ANY, MA, 0, tcgl_int_sahf), D(OP1(0x9f), -1, ANY, MA, 0, tcgl_int_lahf),
    D(OP1(0xf5), -1, ANY, MA, 0, tcgl_int_cmc), D(OP1(0xf8), -1, ANY, MA, 0, tcgl_int_clc),
    D(OP1(0xf9), -1, ANY, MA, 0, tcgl_int_stc), D(OP1(0xfc), -1, ANY, MA, 0, tcgl_int_cld),
    D(OP1(0xfd), -1, ANY, MA, 0, tcgl_int_std),
    D(OP1(0x27), -1, ANY, MA, F_N64, tcgl_int_daa), D(OP1(0x2f), -1, ANY, MA, F_N64, tcgl_int_das),
    D(OP1(0x37), -1, ANY, MA, F_N64, tcgl_int_aaa), D(OP1(0x3f), -1, ANY, MA, F_N64, tcgl_int_aas),
    D(OP1(0xd4), -1, ANY, MA, F_N64, tcgl_int_aam), D(OP1(0xd5), -1, ANY, MA, F_N64, tcgl_int_aad),
    D(OP1(0xd6), -1, ANY, MA, F_N64, tcgl_int_salc),
    /* moves */
    S(OP1(0x88), -1, ANY, MA, 0, sel_mov), S(OP1(0x89), -1, ANY, MA, 0, sel_mov),
    S(OP1(0x8a), -1, ANY, MA, 0, sel_mov), S(OP1(0x8b), -1, ANY, MA, 0, sel_mov),
    S(OP1(0xc6), 0, ANY, MA, 0, sel_mov), S(OP1(0xc7), 0, ANY, MA, 0, sel_mov),
    RANGE8(OP1(0xb0), -1, ANY, MA, 0, sel_mov), RANGE8(OP1(0xb8), -1, ANY, MA, 0, sel_mov),
    D(OP1(0xa0), -1, ANY, MA, 0, tcgl_int_mov_a_moffs), D(OP1(0xa1), -1, ANY, MA, 0, tcgl_int_mov_a_moffs),
    D(OP1(0xa2), -1, ANY, MA, 0, tcgl_int_mov_moffs_a), D(OP1(0xa3), -1, ANY, MA, 0, tcgl_int_mov_moffs_a),
    D(OP2(0xb6), -1, ANY, MA, 0, tcgl_int_movzx8), D(OP2(0xb7), -1, ANY, MA, 0, tcgl_int_movzx16),
    D(OP2(0xbe), -1, ANY, MA, 0, tcgl_int_movsx8), D(OP2(0xbf), -1, ANY, MA, 0, tcgl_int_movsx16),
    D(OP1(0x63), -1, ANY, MA, F_O64, tcgl_int_movsxd), D(OP1(0x63), -1, ANY, MA, F_N64, tcgl_int_arpl),
    D(OP1(0x8d), -1, ANY, MM, 0, tcgl_int_lea),
    S(OP38(0xf0), -1, TCGL_MP_NONE, MM, 0, sel_movbe_ld), S(OP38(0xf0), -1, TCGL_MP_66, MM, 0, sel_movbe_ld),
    S(OP38(0xf1), -1, TCGL_MP_NONE, MM, 0, sel_movbe_st), S(OP38(0xf1), -1, TCGL_MP_66, MM, 0, sel_movbe_st),
    RANGE8(OP1(0x90), -1, ANY, MA, 0, sel_xchg_ax),
    S(OP1(0x90), -1, TCGL_MP_F3, MA, 0, sel_pause),
    D(OP1(0xd7), -1, ANY, MA, 0, tcgl_int_xlat),
    /* stack */
    RANGE8D(OP1(0x50), -1, ANY, MA, 0, tcgl_int_push_r), RANGE8D(OP1(0x58), -1, ANY, MA, 0, tcgl_int_pop_r),
    D(OP1(0x68), -1, ANY, MA, 0, tcgl_int_push_i), D(OP1(0x6a), -1, ANY, MA, 0, tcgl_int_push_i),
    D(OP1(0x8f), 0, ANY, MA, 0, tcgl_int_pop_rm),
    D(OP1(0x60), -1, ANY, MA, F_N64, tcgl_int_pusha), D(OP1(0x61), -1, ANY, MA, F_N64, tcgl_int_popa),
    D(OP1(0xc8), -1, ANY, MA, 0, tcgl_int_enter), D(OP1(0xc9), -1, ANY, MA, 0, tcgl_int_leave),
    /* control flow */
    RANGE8(OP1(0x70), -1, ANY, MA, F_BR, sel_jcc), RANGE8(OP1(0x78), -1, ANY, MA, F_BR, sel_jcc),
    RANGE8(OP2(0x80), -1, ANY, MA, F_BR, sel_jcc), RANGE8(OP2(0x88), -1, ANY, MA, F_BR, sel_jcc),
    D(OP1(0xe8), -1, ANY, MA, F_BR, tcgl_int_call_rel),
    D(OP1(0xe9), -1, ANY, MA, F_BR, tcgl_int_jmp_rel), D(OP1(0xeb), -1, ANY, MA, F_BR, tcgl_int_jmp_rel),
    D(OP1(0xc2), -1, ANY, MA, F_BR, tcgl_int_ret), D(OP1(0xc3), -1, ANY, MA, F_BR, tcgl_int_ret),
    D(OP1(0xe0), -1, ANY, MA, F_BR, tcgl_int_loop), D(OP1(0xe1), -1, ANY, MA, F_BR, tcgl_int_loop),
    D(OP1(0xe2), -1, ANY, MA, F_BR, tcgl_int_loop), D(OP1(0xe3), -1, ANY, MA, F_BR, tcgl_int_loop),
    D(OP1(0x62), -1, ANY, MM, F_N64, tcgl_int_bound),
    /* strings */
    STR(0xa4, tcgl_int_movs, tcgl_int_rep_movs), STR(0xa5, tcgl_int_movs, tcgl_int_rep_movs),
    STR(0xa6, tcgl_int_cmps, tcgl_int_rep_cmps), STR(0xa7, tcgl_int_cmps, tcgl_int_rep_cmps),
    STR(0xaa, tcgl_int_stos, tcgl_int_rep_stos), STR(0xab, tcgl_int_stos, tcgl_int_rep_stos),
    STR(0xac, tcgl_int_lods, tcgl_int_rep_lods), STR(0xad, tcgl_int_lods, tcgl_int_rep_lods),
    STR(0xae, tcgl_int_scas, tcgl_int_rep_scas), STR(0xaf, tcgl_int_scas, tcgl_int_rep_scas),
    /* hints: multi-byte NOP, prefetch, fences, CLFLUSH */
    RANGE8D(OP2(0x18), -1, ANY, MA, 0, tcgl_int_nop),
    D(OP2(0x0d), -1, ANY, MA, 0, tcgl_int_nop),
    D(OP2(0xae), 5, TCGL_MP_NONE, MR, 0, tcgl_int_nop),
    D(OP2(0xae), 6, TCGL_MP_NONE, MR, 0, tcgl_int_nop),
    D(OP2(0xae), 7, TCGL_MP_NONE, MR, 0, tcgl_int_nop),
    D(OP2(0xae), 7, TCGL_MP_NONE, MM, 0, tcgl_int_clflush),
    D(OP2(0xae), 7, TCGL_MP_66, MM, 0, tcgl_int_clflush),
    TCGL_OPDESC_END
};

/*
 * tcg-lite integer handlers (int-*.c), named for int-table.c (private to
 * the core part).
 */
#ifndef KVMPC_TCGL_INT_OPS_H
#define KVMPC_TCGL_INT_OPS_H

#include "tcgl.h"

/* Operand forms of the specialised ALU and MOV handlers. */
enum { FORM_RR_E, FORM_RR_G, FORM_RM, FORM_MR, FORM_RI, FORM_MI, ALU_NB_FORMS };

/* [operation ADD OR ADC SBB AND SUB XOR CMP TEST][form][size 1 2 4 8] */
extern TCGLHandler *const alu_handlers[9][ALU_NB_FORMS][4];
extern TCGLHandler *const mov_handlers[ALU_NB_FORMS][4];
extern TCGLHandler *const jcc_handlers[16];
/* The handler that runs CMP/TEST `first` and the Jcc right after it as one
 * (it reads the Jcc from first + 1), or NULL if `first` is no register/
 * memory CMP or TEST or `jcc` no Jcc. */
TCGLHandler *tcgl_int_fuse_jcc(const TCGLInsn *first, const TCGLInsn *jcc);
/* [SHL SHR SAR][by imm, by 1, by CL][size] for a register operand */
extern TCGLHandler *const shift_reg_handlers[3][3][4];
/* [INC DEC][size] for a register operand */
extern TCGLHandler *const incdec_reg_handlers[2][4];

TCGLHandler tcgl_int_inc;
TCGLHandler tcgl_int_dec;
TCGLHandler tcgl_int_not;
TCGLHandler tcgl_int_neg;
TCGLHandler tcgl_int_inc_r;
TCGLHandler tcgl_int_dec_r;
TCGLHandler tcgl_int_mul;
TCGLHandler tcgl_int_imul1;
TCGLHandler tcgl_int_imul_gv;
TCGLHandler tcgl_int_imul_gvi;
TCGLHandler tcgl_int_div;
TCGLHandler tcgl_int_idiv;
TCGLHandler tcgl_int_shift_1;
TCGLHandler tcgl_int_shift_cl;
TCGLHandler tcgl_int_shift_ib;
TCGLHandler tcgl_int_shld_ib;
TCGLHandler tcgl_int_shld_cl;
TCGLHandler tcgl_int_shrd_ib;
TCGLHandler tcgl_int_shrd_cl;
TCGLHandler tcgl_int_bt_r;
TCGLHandler tcgl_int_bt_i;
TCGLHandler tcgl_int_bsf;
TCGLHandler tcgl_int_bsr;
TCGLHandler tcgl_int_tzcnt;
TCGLHandler tcgl_int_lzcnt;
TCGLHandler tcgl_int_popcnt;
TCGLHandler tcgl_int_xadd;
TCGLHandler tcgl_int_cmpxchg;
TCGLHandler tcgl_int_cmpxchg8b;
TCGLHandler tcgl_int_bswap;
TCGLHandler tcgl_int_setcc;
TCGLHandler tcgl_int_cmovcc;
TCGLHandler tcgl_int_cbw;
TCGLHandler tcgl_int_cwd;
TCGLHandler tcgl_int_lahf;
TCGLHandler tcgl_int_sahf;
TCGLHandler tcgl_int_clc;
TCGLHandler tcgl_int_stc;
TCGLHandler tcgl_int_cmc;
TCGLHandler tcgl_int_cld;
TCGLHandler tcgl_int_std;
TCGLHandler tcgl_int_salc;
TCGLHandler tcgl_int_daa;
TCGLHandler tcgl_int_das;
TCGLHandler tcgl_int_aaa;
TCGLHandler tcgl_int_aas;
TCGLHandler tcgl_int_aam;
TCGLHandler tcgl_int_aad;
TCGLHandler tcgl_int_jmp_rel;
TCGLHandler tcgl_int_jmp_rm;
TCGLHandler tcgl_int_call_rel;
TCGLHandler tcgl_int_call_rm;
TCGLHandler tcgl_int_ret;
TCGLHandler tcgl_int_loop;
TCGLHandler tcgl_int_bound;
TCGLHandler tcgl_int_mov_a_moffs;
TCGLHandler tcgl_int_mov_moffs_a;
TCGLHandler tcgl_int_movzx8;
TCGLHandler tcgl_int_movzx16;
TCGLHandler tcgl_int_movsx8;
TCGLHandler tcgl_int_movsx16;
TCGLHandler tcgl_int_movsxd;
TCGLHandler tcgl_int_arpl;
TCGLHandler tcgl_int_lea;
TCGLHandler tcgl_int_xchg;
TCGLHandler tcgl_int_xchg_ax;
TCGLHandler tcgl_int_nop;
TCGLHandler tcgl_int_pause;
TCGLHandler tcgl_int_push_r;
TCGLHandler tcgl_int_pop_r;
TCGLHandler tcgl_int_push_i;
TCGLHandler tcgl_int_push_rm;
TCGLHandler tcgl_int_pop_rm;
TCGLHandler tcgl_int_pusha;
TCGLHandler tcgl_int_popa;
TCGLHandler tcgl_int_enter;
TCGLHandler tcgl_int_leave;
TCGLHandler tcgl_int_xlat;
TCGLHandler tcgl_int_movbe_load;
TCGLHandler tcgl_int_movbe_store;
TCGLHandler tcgl_int_clflush;
TCGLHandler tcgl_int_movs;
TCGLHandler tcgl_int_stos;
TCGLHandler tcgl_int_lods;
TCGLHandler tcgl_int_cmps;
TCGLHandler tcgl_int_scas;
TCGLHandler tcgl_int_rep_movs;
TCGLHandler tcgl_int_rep_stos;
TCGLHandler tcgl_int_rep_lods;
TCGLHandler tcgl_int_rep_cmps;
TCGLHandler tcgl_int_rep_scas;

#endif

/*
 * tcg-lite decoder: x86 bytes -> TCGLInsn.
 *
 * Two tables drive it.  The format table (one 32-bit word per opcode of
 * each map: 1-byte, 0F, 0F38, 0F3A) says how long an instruction is and
 * how its operands are sized: ModRM or not, the immediate's kind, byte
 * operation, default-64 / forced-64 operand size in 64-bit mode, invalid
 * in 64-bit mode.  The handler lookup, built at start-up from the parts'
 * TCGLOpDesc tables, maps (map, opcode) to the short list of forms that
 * claim it, told apart by ModRM.reg, mandatory prefix and register/memory
 * operand.  Everything here runs once per decoded instruction, never per
 * execution.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "decode.h"

/* ---- format table ---------------------------------------------------------- */

/* Immediate kinds (low 4 bits of a format word). */
enum {
    IMM_NONE,
    IMM_B,      /* 8 bits */
    IMM_W,      /* 16 bits */
    IMM_Z,      /* 16 bits with a 16-bit operand size, else 32 */
    IMM_V,      /* operand size: 16, 32 or 64 (MOV r, imm64) */
    IMM_WB,     /* ENTER: 16 bits then 8 bits */
    IMM_AP,     /* far pointer: offset (z) then 16-bit selector */
    IMM_MOFFS,  /* MOV moffs: address size */
    IMM_JZ,     /* near branch: z outside 64-bit mode, 32 bits in it */
};

#define F_IMM_MASK  0x0000000fu
#define F_MODRM     0x00000010u     /* a ModRM byte follows */
#define F_BYTE      0x00000020u     /* byte operation: opsize 1 */
#define F_D64       0x00000040u     /* 64-bit mode: operand size 64 unless 66 */
#define F_F64       0x00000080u     /* 64-bit mode: operand size always 64 (near branches) */
#define F_NO64      0x00000100u     /* invalid in 64-bit mode */
#define F_UIMM      0x00000200u     /* immediate zero-extended (else sign-extended) */
#define F_OPREG     0x00000400u     /* register in the opcode's low 3 bits */
#define F_GRP3      0x00000800u     /* F6/F7: immediate only for /0 and /1 */
#define F_MREG      0x00001000u     /* MOV CR/DR: mod ignored, always a register */
#define F_INV       0x00002000u     /* reserved opcode: #UD */
#define F_EB        0x00004000u     /* r/m is a byte register (MOVZX/MOVSX Gv,Eb) */
#define F_3DNOW     0x00008000u     /* 0F 0F: ModRM then an opcode byte */
#define F_VEXLIKE   0x00010000u     /* C4/C5/62/8F: VEX/EVEX/XOP in some forms */
#define F_ESC       0x00020000u     /* 0F, 0F 38, 0F 3A escapes */
#define F_PREFIX    0x00040000u     /* a prefix byte (never reaches the table lookup) */
#define F_FF        0x00080000u     /* FF: /2 /4 forced 64, /6 default 64 */

static uint32_t fmt[4][256];

static void set_fmt(int map, unsigned lo, unsigned hi, uint32_t f)
{
    for (unsigned b = lo; b <= hi; b++) {
        fmt[map][b] = f;
    }
}

static void init_formats(void)
{
    /* 1-byte map, in the order of the SDM's table A-2. */
    for (unsigned op = 0; op < 0x40; op += 8) {        /* ADD OR ADC SBB AND SUB XOR CMP */
        fmt[0][op + 0] = F_MODRM | F_BYTE;             /* Eb,Gb */
        fmt[0][op + 1] = F_MODRM;                      /* Ev,Gv */
        fmt[0][op + 2] = F_MODRM | F_BYTE;             /* Gb,Eb */
        fmt[0][op + 3] = F_MODRM;                      /* Gv,Ev */
        fmt[0][op + 4] = F_BYTE | IMM_B;               /* AL,Ib */
        fmt[0][op + 5] = IMM_Z;                        /* rAX,Iz */
    }
    set_fmt(0, 0x06, 0x07, F_NO64);                     /* PUSH/POP ES */
    fmt[0][0x0e] = F_NO64;                              /* PUSH CS */
    fmt[0][0x0f] = F_ESC;
    set_fmt(0, 0x16, 0x17, F_NO64);                     /* PUSH/POP SS */
    set_fmt(0, 0x1e, 0x1f, F_NO64);                     /* PUSH/POP DS */
    fmt[0][0x26] = fmt[0][0x2e] = fmt[0][0x36] = fmt[0][0x3e] = F_PREFIX;
    fmt[0][0x27] = fmt[0][0x2f] = fmt[0][0x37] = fmt[0][0x3f] = F_NO64;  /* DAA DAS AAA AAS */
    set_fmt(0, 0x40, 0x4f, F_OPREG);                    /* INC/DEC r (REX in 64-bit mode) */
    set_fmt(0, 0x50, 0x5f, F_OPREG | F_D64);            /* PUSH/POP r */
    set_fmt(0, 0x60, 0x61, F_NO64);                     /* PUSHA POPA */
    fmt[0][0x62] = F_MODRM | F_NO64 | F_VEXLIKE;        /* BOUND; EVEX */
    fmt[0][0x63] = F_MODRM;                             /* ARPL; MOVSXD */
    set_fmt(0, 0x64, 0x67, F_PREFIX);
    fmt[0][0x68] = IMM_Z | F_D64;
    fmt[0][0x69] = F_MODRM | IMM_Z;
    fmt[0][0x6a] = IMM_B | F_D64;
    fmt[0][0x6b] = F_MODRM | IMM_B;
    fmt[0][0x6c] = fmt[0][0x6e] = F_BYTE;               /* INSB OUTSB */
    set_fmt(0, 0x70, 0x7f, IMM_B | F_F64);              /* Jcc Jb */
    fmt[0][0x80] = F_MODRM | F_BYTE | IMM_B;
    fmt[0][0x81] = F_MODRM | IMM_Z;
    fmt[0][0x82] = F_MODRM | F_BYTE | IMM_B | F_NO64;
    fmt[0][0x83] = F_MODRM | IMM_B;
    fmt[0][0x84] = fmt[0][0x86] = fmt[0][0x88] = fmt[0][0x8a] = F_MODRM | F_BYTE;
    fmt[0][0x85] = fmt[0][0x87] = fmt[0][0x89] = fmt[0][0x8b] = F_MODRM;
    set_fmt(0, 0x8c, 0x8e, F_MODRM);                    /* MOV Ev,Sw  LEA  MOV Sw,Ew */
    fmt[0][0x8f] = F_MODRM | F_D64 | F_VEXLIKE;         /* POP Ev; XOP */
    set_fmt(0, 0x90, 0x97, F_OPREG);                    /* XCHG r, rAX / NOP */
    fmt[0][0x9a] = IMM_AP | F_NO64;                     /* CALL far */
    fmt[0][0x9c] = fmt[0][0x9d] = F_D64;                /* PUSHF POPF */
    fmt[0][0xa0] = fmt[0][0xa2] = IMM_MOFFS | F_BYTE;
    fmt[0][0xa1] = fmt[0][0xa3] = IMM_MOFFS;
    fmt[0][0xa4] = fmt[0][0xa6] = fmt[0][0xaa] = fmt[0][0xac] = fmt[0][0xae] = F_BYTE;
    fmt[0][0xa8] = F_BYTE | IMM_B;
    fmt[0][0xa9] = IMM_Z;
    set_fmt(0, 0xb0, 0xb7, F_OPREG | F_BYTE | IMM_B);
    set_fmt(0, 0xb8, 0xbf, F_OPREG | IMM_V);
    fmt[0][0xc0] = F_MODRM | F_BYTE | IMM_B | F_UIMM;
    fmt[0][0xc1] = F_MODRM | IMM_B | F_UIMM;
    fmt[0][0xc2] = IMM_W | F_F64 | F_UIMM;              /* RET Iw */
    fmt[0][0xc3] = F_F64;
    fmt[0][0xc4] = fmt[0][0xc5] = F_MODRM | F_VEXLIKE;  /* LES LDS; VEX */
    fmt[0][0xc6] = F_MODRM | F_BYTE | IMM_B;
    fmt[0][0xc7] = F_MODRM | IMM_Z;
    fmt[0][0xc8] = IMM_WB | F_D64 | F_UIMM;             /* ENTER */
    fmt[0][0xc9] = F_D64;                               /* LEAVE */
    fmt[0][0xca] = IMM_W | F_UIMM;                      /* RETF Iw */
    fmt[0][0xcd] = IMM_B | F_UIMM;                      /* INT Ib */
    fmt[0][0xce] = F_NO64;                              /* INTO */
    fmt[0][0xd0] = fmt[0][0xd2] = F_MODRM | F_BYTE;
    fmt[0][0xd1] = fmt[0][0xd3] = F_MODRM;
    fmt[0][0xd4] = fmt[0][0xd5] = IMM_B | F_NO64 | F_UIMM;  /* AAM AAD */
    fmt[0][0xd6] = F_NO64;                              /* SALC */
    fmt[0][0xd7] = F_BYTE;                              /* XLAT */
    set_fmt(0, 0xd8, 0xdf, F_MODRM);                    /* x87 */
    set_fmt(0, 0xe0, 0xe3, IMM_B | F_F64);              /* LOOPNE LOOPE LOOP JrCXZ */
    fmt[0][0xe4] = fmt[0][0xe6] = IMM_B | F_BYTE | F_UIMM;
    fmt[0][0xe5] = fmt[0][0xe7] = IMM_B | F_UIMM;
    fmt[0][0xe8] = fmt[0][0xe9] = IMM_JZ | F_F64;
    fmt[0][0xea] = IMM_AP | F_NO64;
    fmt[0][0xeb] = IMM_B | F_F64;
    fmt[0][0xec] = fmt[0][0xee] = F_BYTE;
    fmt[0][0xf0] = fmt[0][0xf2] = fmt[0][0xf3] = F_PREFIX;
    fmt[0][0xf6] = F_MODRM | F_BYTE | F_GRP3;
    fmt[0][0xf7] = F_MODRM | F_GRP3;
    fmt[0][0xfe] = F_MODRM | F_BYTE;
    fmt[0][0xff] = F_MODRM | F_FF;

    /* 0F map (table A-3). */
    set_fmt(1, 0x00, 0x03, F_MODRM);                    /* groups 6, 7, LAR, LSL */
    fmt[1][0x04] = fmt[1][0x0a] = fmt[1][0x0c] = F_INV;
    fmt[1][0x0e] = F_INV;                               /* FEMMS (3DNow!, not advertised) */
    fmt[1][0x0d] = F_MODRM;                             /* PREFETCH/PREFETCHW */
    fmt[1][0x0f] = F_MODRM | F_3DNOW | F_INV;
    set_fmt(1, 0x10, 0x1f, F_MODRM);                    /* SSE moves, hints, NOP Ev */
    set_fmt(1, 0x20, 0x23, F_MODRM | F_MREG);           /* MOV CR/DR */
    set_fmt(1, 0x24, 0x27, F_INV);
    set_fmt(1, 0x28, 0x2f, F_MODRM);
    fmt[1][0x36] = F_INV;
    fmt[1][0x38] = fmt[1][0x3a] = F_ESC;
    fmt[1][0x39] = F_INV;
    set_fmt(1, 0x3b, 0x3f, F_INV);
    set_fmt(1, 0x40, 0x4f, F_MODRM);                    /* CMOVcc */
    set_fmt(1, 0x50, 0x6f, F_MODRM);
    set_fmt(1, 0x70, 0x73, F_MODRM | IMM_B);            /* PSHUFx, shift groups */
    set_fmt(1, 0x74, 0x76, F_MODRM);
    set_fmt(1, 0x78, 0x79, F_MODRM);                    /* VMREAD VMWRITE */
    set_fmt(1, 0x7a, 0x7b, F_INV);
    set_fmt(1, 0x7c, 0x7f, F_MODRM);
    set_fmt(1, 0x80, 0x8f, IMM_JZ | F_F64);             /* Jcc Jz */
    set_fmt(1, 0x90, 0x9f, F_MODRM | F_BYTE);           /* SETcc */
    fmt[1][0xa0] = fmt[1][0xa1] = fmt[1][0xa8] = fmt[1][0xa9] = F_D64;  /* PUSH/POP FS/GS */
    fmt[1][0xa3] = fmt[1][0xa5] = fmt[1][0xab] = fmt[1][0xad] = F_MODRM;
    fmt[1][0xa4] = fmt[1][0xac] = F_MODRM | IMM_B | F_UIMM;   /* SHLD SHRD Ib */
    fmt[1][0xa6] = fmt[1][0xa7] = F_INV;
    fmt[1][0xae] = fmt[1][0xaf] = F_MODRM;
    fmt[1][0xb0] = F_MODRM | F_BYTE;                    /* CMPXCHG Eb */
    set_fmt(1, 0xb1, 0xb5, F_MODRM);
    fmt[1][0xb6] = fmt[1][0xbe] = F_MODRM | F_EB;       /* MOVZX MOVSX Gv,Eb */
    fmt[1][0xb7] = fmt[1][0xbf] = F_MODRM;
    set_fmt(1, 0xb8, 0xbd, F_MODRM);
    fmt[1][0xba] = F_MODRM | IMM_B | F_UIMM;            /* group 8 */
    fmt[1][0xc0] = F_MODRM | F_BYTE;                    /* XADD Eb */
    fmt[1][0xc1] = F_MODRM;
    fmt[1][0xc2] = F_MODRM | IMM_B;
    fmt[1][0xc3] = F_MODRM;
    set_fmt(1, 0xc4, 0xc6, F_MODRM | IMM_B);
    fmt[1][0xc7] = F_MODRM;                             /* group 9 */
    set_fmt(1, 0xc8, 0xcf, F_OPREG);                    /* BSWAP */
    set_fmt(1, 0xd0, 0xff, F_MODRM);

    set_fmt(2, 0x00, 0xff, F_MODRM);                    /* 0F 38 */
    set_fmt(3, 0x00, 0xff, F_MODRM | IMM_B);            /* 0F 3A */
}

/* ---- handler lookup ------------------------------------------------------------ */

static const TCGLOpDesc **desc_list;        /* grouped by opc */
static uint16_t desc_start[4 * 256 + 1];
static bool decode_ready;

static bool regs_overlap(const TCGLOpDesc *a, const TCGLOpDesc *b)
{
    return a->reg < 0 || b->reg < 0 || a->reg == b->reg;
}

static bool mods_overlap(const TCGLOpDesc *a, const TCGLOpDesc *b)
{
    return a->mod == TCGL_MOD_ANY || b->mod == TCGL_MOD_ANY || a->mod == b->mod;
}

/* A form for 64-bit mode only and one for the other modes share an
 * opcode without conflict (63: MOVSXD / ARPL). */
static bool modes_overlap(const TCGLOpDesc *a, const TCGLOpDesc *b)
{
    return !((a->flags & TCGL_OPF_NO64) && (b->flags & TCGL_OPF_ONLY64)) &&
           !((a->flags & TCGL_OPF_ONLY64) && (b->flags & TCGL_OPF_NO64));
}

void tcgl_decode_init(void)
{
    const TCGLOpDesc *tables[] = { tcgl_ops_int, tcgl_ops_sys, tcgl_ops_fpu, tcgl_ops_sse };
    const char *names[] = { "int", "sys", "fpu", "sse" };
    unsigned count[4 * 256] = { 0 };
    unsigned total = 0;

    if (decode_ready) {
        return;
    }
    init_formats();
    for (unsigned t = 0; t < 4; t++) {
        for (const TCGLOpDesc *d = tables[t]; d->opc != 0xffff; d++) {
            if (d->opc >= 4 * 256) {
                fprintf(stderr, "tcg-lite: bad opcode %#x in table %s\n", d->opc, names[t]);
                abort();
            }
            count[d->opc]++;
            total++;
        }
    }
    desc_list = calloc(total ? total : 1, sizeof(*desc_list));
    if (!desc_list) {
        abort();
    }
    desc_start[0] = 0;
    for (unsigned o = 0; o < 4 * 256; o++) {
        desc_start[o + 1] = desc_start[o] + count[o];
        count[o] = desc_start[o];
    }
    for (unsigned t = 0; t < 4; t++) {
        for (const TCGLOpDesc *d = tables[t]; d->opc != 0xffff; d++) {
            for (unsigned k = desc_start[d->opc]; k < count[d->opc]; k++) {
                const TCGLOpDesc *e = desc_list[k];
                if (e->pfx == d->pfx && regs_overlap(d, e) && mods_overlap(d, e) &&
                    modes_overlap(d, e)) {
                    fprintf(stderr, "tcg-lite: opcode %#x /%d pfx %u mod %u claimed twice "
                            "(table %s)\n", d->opc, d->reg, d->pfx, d->mod, names[t]);
                    abort();
                }
            }
            desc_list[count[d->opc]++] = d;
        }
    }
    decode_ready = true;
}

/* The form of opc that matches: ModRM.reg, mod, and the mandatory prefix
 * (a description naming the prefix beats one that takes any). */
static const TCGLOpDesc *lookup(unsigned opc, unsigned regfield, unsigned mod, unsigned mp,
                                bool m64)
{
    const TCGLOpDesc *any = NULL;

    for (unsigned k = desc_start[opc]; k < desc_start[opc + 1]; k++) {
        const TCGLOpDesc *d = desc_list[k];
        if (((d->flags & TCGL_OPF_NO64) && m64) || ((d->flags & TCGL_OPF_ONLY64) && !m64)) {
            continue;       /* a form for the other modes */
        }
        if (d->reg >= 0 && (unsigned)d->reg != regfield) {
            continue;
        }
        if ((d->mod == TCGL_MOD_MEM && mod == 3) || (d->mod == TCGL_MOD_REG && mod != 3)) {
            continue;
        }
        if (d->pfx == mp) {
            return d;
        }
        if (d->pfx == TCGL_MP_ANY) {
            any = d;
        }
    }
    return any;
}

/* ---- decoding ---------------------------------------------------------------- */

static inline int32_t rd_s8(const uint8_t *p) { return (int8_t)p[0]; }
static inline uint16_t rd_u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t rd_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t rd_u64(const uint8_t *p)
{
    return rd_u32(p) | (uint64_t)rd_u32(p + 4) << 32;
}

/* A byte register number: without REX, 4-7 are AH, CH, DH, BH. */
static inline uint8_t byte_reg(unsigned n, bool rex)
{
    return (!rex && n >= 4 && n < 8) ? (uint8_t)(n + 12) : (uint8_t)n;
}

/* 16-bit addressing: ModRM.rm -> base, index (SDM table 2-1). */
static const uint8_t rm16_base[8] = { R_EBX, R_EBX, R_EBP, R_EBP, R_ESI, R_EDI, R_EBP, R_EBX };
static const uint8_t rm16_index[8] = { R_ESI, R_EDI, R_ESI, R_EDI,
                                       TCGL_NOREG, TCGL_NOREG, TCGL_NOREG, TCGL_NOREG };

/* Room to decode from: at most 15 real bytes, then zeros, enough for the
 * longest run of fields after 15 prefix bytes. */
#define DECODE_BUF 48

int tcgl_decode_ex(const uint8_t *bytes, unsigned avail, uint32_t hflags, TCGLInsn *i,
                   TCGLDecodeInfo *info)
{
    /* Decoding reads a zero-padded copy: no bounds check per field.  The
     * length decides at the end: past 15 bytes is -1 (#GP), past the
     * bytes given is TCGL_DECODE_MORE (every decision up to the first
     * missing byte used real bytes, so the real instruction needs it
     * too). */
    uint8_t b[DECODE_BUF] = { 0 };
    const bool m64 = hflags & TCGL_HF_CS64;
    const bool d32 = m64 || (hflags & TCGL_HF_CS32);
    unsigned pos = 0, map = TCGL_MAP_1B, op, rex = 0, seg_ovr = 0xff, rep = 0;
    uint8_t pfx = 0;
    uint32_t f;
    bool invalid = false, vex = false;

    if (unlikely(!decode_ready)) {
        tcgl_decode_init();
    }
    memcpy(b, bytes, avail < TCGL_MAX_INSN_LEN ? avail : TCGL_MAX_INSN_LEN);
    memset(i, 0, sizeof(*i));
    info->opflags = 0;
    info->verdict = TCGL_DEC_OK;

    /* Prefixes: legacy ones in any order and number; REX counts only
     * right before the opcode. */
    for (;;) {
        if (pos == TCGL_MAX_INSN_LEN) {
            /* 15 prefix bytes: too long, unless fewer bytes were given */
            return avail >= TCGL_MAX_INSN_LEN ? -1 : TCGL_DECODE_MORE;
        }
        op = b[pos++];
        switch (op) {
        case 0xf0: pfx |= TCGL_PFX_LOCK; rex = 0; continue;
        case 0xf2: rep = 0xf2; rex = 0; continue;
        case 0xf3: rep = 0xf3; rex = 0; continue;
        case 0x66: pfx |= TCGL_PFX_OPSIZE; rex = 0; continue;
        case 0x67: pfx |= TCGL_PFX_ADSIZE; rex = 0; continue;
        case 0x26: seg_ovr = R_ES; rex = 0; continue;
        case 0x2e: seg_ovr = R_CS; rex = 0; continue;
        case 0x36: seg_ovr = R_SS; rex = 0; continue;
        case 0x3e: seg_ovr = R_DS; rex = 0; continue;
        case 0x64: seg_ovr = R_FS; rex = 0; continue;
        case 0x65: seg_ovr = R_GS; rex = 0; continue;
        default:
            break;
        }
        if (m64 && (op & 0xf0) == 0x40) {
            rex = op;
            continue;
        }
        break;
    }
    if (rep == 0xf3) {
        pfx |= TCGL_PFX_REP;
    } else if (rep == 0xf2) {
        pfx |= TCGL_PFX_REPNE;
    }
    if (rex) {
        pfx |= TCGL_PFX_REX;
    }
    if (op == 0x0f) {
        op = b[pos++];
        map = TCGL_MAP_0F;
        if (op == 0x38 || op == 0x3a) {
            map = op == 0x38 ? TCGL_MAP_0F38 : TCGL_MAP_0F3A;
            op = b[pos++];
        }
    }
    f = fmt[map][op];
    i->opc = TCGL_OPC(map, op);
    i->rex = (uint8_t)rex;

    /* Address and operand size. */
    if (m64) {
        i->adsize = (pfx & TCGL_PFX_ADSIZE) ? 4 : 8;
        if (rex & 8) {
            i->opsize = 8;
        } else if (pfx & TCGL_PFX_OPSIZE) {
            i->opsize = 2;
        } else {
            i->opsize = (f & F_D64) ? 8 : 4;
        }
        if (f & F_F64) {
            i->opsize = 8;
        }
        if (f & F_NO64) {
            invalid = true;
        }
    } else {
        i->adsize = (d32 ^ !!(pfx & TCGL_PFX_ADSIZE)) ? 4 : 2;
        i->opsize = (d32 ^ !!(pfx & TCGL_PFX_OPSIZE)) ? 4 : 2;
    }
    if (f & F_BYTE) {
        i->opsize = 1;
    }
    if (i->opc == TCGL_OPC(0, 0x63) && !m64) {
        i->opsize = 2;                          /* ARPL Ew,Gw */
    }

    /* Default segment; overrides other than FS/GS mean nothing in 64-bit mode. */
    i->seg = R_DS;
    if (seg_ovr != 0xff && (!m64 || seg_ovr >= R_FS)) {
        i->seg = (uint8_t)seg_ovr;
        pfx |= TCGL_PFX_SEG;
    }
    i->base = i->index = TCGL_NOREG;
    i->mod = 3;

    if (f & F_OPREG) {
        i->reg = (uint8_t)((op & 7) | (rex & 1) << 3);
        if (f & F_BYTE) {
            i->reg = byte_reg(i->reg, rex);
        }
        i->rm = i->reg;
    }

    if (f & F_MODRM) {
        unsigned modrm, mod, rm;
        modrm = b[pos++];
        mod = modrm >> 6;
        rm = modrm & 7;
        i->modrm = (uint8_t)modrm;
        i->reg = (uint8_t)(((modrm >> 3) & 7) | (rex & 4) << 1);
        if ((f & F_VEXLIKE) && (m64 || mod == 3)) {
            /* C4/C5 VEX, 62 EVEX (64-bit mode, or mod 3 outside it);
             * 8F with reg != 0 is AMD's XOP.  AVX is not advertised: #UD. */
            if (op != 0x8f || ((modrm >> 3) & 7) != 0) {
                vex = true;
            }
        }
        if (f & F_MREG) {
            mod = 3;
        }
        i->mod = (uint8_t)mod;
        if (mod == 3) {
            i->rm = (uint8_t)(rm | (rex & 1) << 3);
            if (f & (F_BYTE | F_EB)) {
                i->rm = byte_reg(i->rm, rex);
            }
        } else if (i->adsize == 2) {
            i->base = rm16_base[rm];
            i->index = rm16_index[rm];
            if (mod == 0 && rm == 6) {
                i->base = TCGL_NOREG;
                i->disp = (int16_t)rd_u16(b + pos);
                pos += 2;
            } else if (mod == 1) {
                i->disp = rd_s8(b + pos);
                pos += 1;
            } else if (mod == 2) {
                i->disp = (int16_t)rd_u16(b + pos);
                pos += 2;
            }
            if (i->base == R_EBP && !(pfx & TCGL_PFX_SEG)) {
                i->seg = R_SS;
            }
        } else {
            unsigned base = rm;
            if (rm == 4) {
                unsigned sib, idx;
                sib = b[pos++];
                i->scale = (uint8_t)(sib >> 6);
                idx = ((sib >> 3) & 7) | (rex & 2) << 2;
                i->index = idx == 4 ? TCGL_NOREG : (uint8_t)idx;
                base = sib & 7;
                if (base == 5 && mod == 0) {
                    i->base = TCGL_NOREG;
                } else {
                    i->base = (uint8_t)(base | (rex & 1) << 3);
                }
            } else if (rm == 5 && mod == 0) {
                i->base = m64 ? TCGL_RIPREL : TCGL_NOREG;
            } else {
                i->base = (uint8_t)(rm | (rex & 1) << 3);
            }
            if (mod == 1) {
                i->disp = rd_s8(b + pos);
                pos += 1;
            } else if (mod == 2 || (mod == 0 && base == 5)) {
                i->disp = (int32_t)rd_u32(b + pos);
                pos += 4;
            }
            if ((i->base == R_ESP || i->base == R_EBP) && !(pfx & TCGL_PFX_SEG)) {
                i->seg = R_SS;
            }
        }
        if (f & F_BYTE) {
            i->reg = byte_reg(i->reg, rex);
        }
        if (f & F_FF) {
            unsigned r = (modrm >> 3) & 7;
            if (m64 && (r == 2 || r == 4)) {
                i->opsize = 8;
            } else if (m64 && r == 6 && !(rex & 8)) {
                i->opsize = (pfx & TCGL_PFX_OPSIZE) ? 2 : 8;
            }
        }
        if (f & F_3DNOW) {
            pos++;              /* the 3DNow! opcode byte (suffix) */
        }
    }

    /* Immediates. */
    switch (f & F_IMM_MASK) {
    case IMM_NONE:
        if ((f & F_GRP3) && ((i->modrm >> 3) & 7) < 2) {
            goto imm_b_or_z;
        }
        break;
    case IMM_B:
        i->imm = (f & F_UIMM) ? b[pos] : (uint64_t)(int64_t)rd_s8(b + pos);
        pos += 1;
        break;
    case IMM_W:
        i->imm = rd_u16(b + pos);
        pos += 2;
        break;
    case IMM_JZ:
        if (m64) {
            i->imm = (uint64_t)(int64_t)(int32_t)rd_u32(b + pos);
            pos += 4;
            break;
        }
        /* fall through */
    case IMM_Z:
    imm_b_or_z:
        if (i->opsize == 1) {
            i->imm = (uint64_t)(int64_t)rd_s8(b + pos);
            pos += 1;
        } else if (i->opsize == 2) {
            i->imm = (uint64_t)(int64_t)(int16_t)rd_u16(b + pos);
            pos += 2;
        } else {
            i->imm = (uint64_t)(int64_t)(int32_t)rd_u32(b + pos);
            pos += 4;
        }
        break;
    case IMM_V:
        if (i->opsize == 8) {
            i->imm = rd_u64(b + pos);
            pos += 8;
        } else if (i->opsize == 4) {
            i->imm = rd_u32(b + pos);
            pos += 4;
        } else {
            i->imm = rd_u16(b + pos);
            pos += 2;
        }
        break;
    case IMM_WB:
        i->imm = rd_u16(b + pos);
        i->imm2 = b[pos + 2];
        pos += 3;
        break;
    case IMM_AP:
        if (i->opsize == 2) {
            i->imm = rd_u16(b + pos);
            i->imm2 = rd_u16(b + pos + 2);
            pos += 4;
        } else {
            i->imm = rd_u32(b + pos);
            i->imm2 = rd_u16(b + pos + 4);
            pos += 6;
        }
        break;
    case IMM_MOFFS:
        i->imm = i->adsize == 8 ? rd_u64(b + pos) : i->adsize == 4 ? rd_u32(b + pos)
                                                                   : rd_u16(b + pos);
        pos += i->adsize;
        break;
    }
    if (pos > avail) {
        return pos > TCGL_MAX_INSN_LEN && avail >= TCGL_MAX_INSN_LEN ? -1 : TCGL_DECODE_MORE;
    }
    if (pos > TCGL_MAX_INSN_LEN) {
        return -1;
    }
    i->len = (uint8_t)pos;
    i->pfx = pfx;

    /* The handler. */
    if (vex) {
        info->verdict = TCGL_DEC_VEX;
    } else if (invalid || (f & F_INV)) {
        info->verdict = TCGL_DEC_INVALID;
    } else {
        unsigned mp = rep == 0xf3 ? TCGL_MP_F3 : rep == 0xf2 ? TCGL_MP_F2
                    : (pfx & TCGL_PFX_OPSIZE) ? TCGL_MP_66 : TCGL_MP_NONE;
        const TCGLOpDesc *d = lookup(i->opc, (i->modrm >> 3) & 7, i->mod, mp, m64);
        TCGLHandler *fn = NULL;
        if (d) {
            fn = d->fn ? d->fn : d->select ? d->select(i) : NULL;
            info->opflags = d->flags;
            if (((d->flags & TCGL_OPF_NO64) && m64) || ((d->flags & TCGL_OPF_ONLY64) && !m64) ||
                ((pfx & TCGL_PFX_LOCK) && (!(d->flags & TCGL_OPF_LOCK) || i->mod == 3))) {
                info->verdict = TCGL_DEC_INVALID;
                fn = NULL;
            }
        }
        if (fn) {
            i->fn = fn;
            return (int)pos;
        }
        if (info->verdict == TCGL_DEC_OK) {
            info->verdict = TCGL_DEC_UNCLAIMED;
        }
    }
    i->fn = tcgl_op_ud;
    info->opflags = TCGL_OPF_BRANCH;    /* never returns: nothing after it is decoded */
    return (int)pos;
}

int tcgl_decode(const uint8_t *bytes, unsigned avail, uint32_t hflags, TCGLInsn *out)
{
    TCGLDecodeInfo info;
    return tcgl_decode_ex(bytes, avail, hflags, out, &info);
}

/* #UD: an encoding no part implements, or invalid in this mode. */
void tcgl_op_ud(TCGLCPU *c, const TCGLInsn *i)
{
    (void)i;
    tcgl_raise(c, 6, -1);
}

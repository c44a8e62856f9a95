/*
 * Random mode: random byte strings shaped like instructions (prefixes,
 * REX, an opcode map, ModRM/SIB, displacement, immediate), kept only when
 * capstone decodes them to a single instruction of the groups tcg-lite
 * implements that cannot leave the sequence or the process's control:
 * no control flow, no system or privileged instruction, no segment
 * register or FS/GS access, no x87/MMX/AVX/extensions outside the issue's
 * list.  Inputs are random too: registers are small numbers, edge values,
 * random, or pointers into the data page; random data page, XMM, flags
 * (arithmetic + DF) and MXCSR (rounding, FTZ/DAZ, sometimes unmasked).
 */
#include <stdlib.h>
#include <string.h>
#include <capstone/capstone.h>
#include "enc.h"

struct DiffRandom {
    uint64_t s;
    int mode;
    csh cs;
    unsigned long tried;
    unsigned long cut;          /* cases capstone decoded longer than the silicon */
};

DiffRandom *diff_random_new(uint64_t seed, int mode)
{
    DiffRandom *g = calloc(1, sizeof(*g));
    g->s = seed;
    g->mode = mode;
    if (cs_open(CS_ARCH_X86, mode == 32 ? CS_MODE_32 : CS_MODE_64, &g->cs) != CS_ERR_OK) {
        free(g);
        return NULL;
    }
    cs_option(g->cs, CS_OPT_DETAIL, CS_OPT_ON);
    return g;
}

void diff_random_free(DiffRandom *g)
{
    cs_close(&g->cs);
    free(g);
}

static uint64_t rnd(DiffRandom *g)
{
    return diff_rand(&g->s);
}

/* Groups whose instructions are never generated. */
static const uint8_t bad_groups[] = {
    X86_GRP_JUMP, X86_GRP_CALL, X86_GRP_RET, X86_GRP_INT, X86_GRP_IRET, X86_GRP_PRIVILEGE,
    X86_GRP_BRANCH_RELATIVE, X86_GRP_VM, X86_GRP_3DNOW, X86_GRP_AES, X86_GRP_ADX, X86_GRP_AVX,
    X86_GRP_AVX2, X86_GRP_AVX512, X86_GRP_BMI, X86_GRP_BMI2, X86_GRP_F16C, X86_GRP_FMA,
    X86_GRP_FMA4, X86_GRP_FSGSBASE, X86_GRP_HLE, X86_GRP_RTM, X86_GRP_SHA,
    X86_GRP_SSE4A, X86_GRP_PCLMUL, X86_GRP_XOP, X86_GRP_CDI, X86_GRP_ERI, X86_GRP_TBM,
    X86_GRP_SGX, X86_GRP_DQI, X86_GRP_BWI, X86_GRP_PFI, X86_GRP_VLX, X86_GRP_SMAP,
};

/* Instructions never generated: model-specific results, system state,
 * flags that would trap or change the harness (TF, AC via POPF), I/O,
 * and what tcg-lite does not implement (LZCNT/TZCNT, MOVBE...). */
static const unsigned bad_insns[] = {
    X86_INS_CPUID, X86_INS_RDTSC, X86_INS_RDTSCP, X86_INS_RDRAND, X86_INS_RDSEED, X86_INS_RDPMC,
    X86_INS_SYSCALL, X86_INS_SYSENTER, X86_INS_SYSEXIT, X86_INS_SYSRET, X86_INS_XGETBV,
    X86_INS_XSETBV, X86_INS_XSAVE, X86_INS_XSAVE64, X86_INS_XRSTOR, X86_INS_XRSTOR64,
    X86_INS_XSAVEOPT, X86_INS_XSAVEOPT64, X86_INS_XSAVEC, X86_INS_XSAVES, X86_INS_XRSTORS,
    X86_INS_FXSAVE, X86_INS_FXSAVE64, X86_INS_FXRSTOR, X86_INS_FXRSTOR64, X86_INS_LDMXCSR,
    X86_INS_POPF, X86_INS_POPFD, X86_INS_POPFQ, X86_INS_PUSHF, X86_INS_PUSHFD, X86_INS_PUSHFQ,
    X86_INS_IN, X86_INS_INSB, X86_INS_INSW, X86_INS_INSD, X86_INS_OUT, X86_INS_OUTSB,
    X86_INS_OUTSW, X86_INS_OUTSD, X86_INS_CLI, X86_INS_STI, X86_INS_HLT, X86_INS_MONITOR,
    X86_INS_MWAIT, X86_INS_LZCNT, X86_INS_TZCNT, X86_INS_MOVBE, X86_INS_SMSW, X86_INS_SGDT,
    X86_INS_SIDT, X86_INS_SLDT, X86_INS_STR, X86_INS_LAR, X86_INS_LSL, X86_INS_VERR,
    X86_INS_VERW, X86_INS_LDS, X86_INS_LES, X86_INS_LFS, X86_INS_LGS, X86_INS_LSS,
    X86_INS_INT, X86_INS_INT1, X86_INS_INT3, X86_INS_INTO,
    X86_INS_BOUND, X86_INS_CLFLUSH, X86_INS_CLFLUSHOPT, X86_INS_CLWB, X86_INS_PREFETCHW,
    X86_INS_UD0, X86_INS_XABORT, X86_INS_XBEGIN, X86_INS_XEND, X86_INS_XTEST,
    X86_INS_PAUSE, X86_INS_FEMMS, X86_INS_MASKMOVDQU,
    /* x87 transcendentals: the last bits are the implementation's (Intel
     * and AMD differ); environment images hold FIP/FDP/FOP */
    X86_INS_FSIN, X86_INS_FCOS, X86_INS_FSINCOS, X86_INS_FPTAN, X86_INS_FPATAN, X86_INS_F2XM1,
    X86_INS_FYL2X, X86_INS_FYL2XP1, X86_INS_FNSAVE, X86_INS_FRSTOR, X86_INS_FNSTENV,
    X86_INS_FLDENV,
};

/* x87 instructions after which C0, C2 and C3 mean something */
static const unsigned fsw_defined[] = {
    X86_INS_FCOM, X86_INS_FCOMP, X86_INS_FCOMPP, X86_INS_FUCOM, X86_INS_FUCOMP, X86_INS_FUCOMPP,
    X86_INS_FICOM, X86_INS_FICOMP, X86_INS_FTST, X86_INS_FXAM, X86_INS_FPREM, X86_INS_FPREM1,
    X86_INS_FCOMI, X86_INS_FCOMIP, X86_INS_FUCOMI, X86_INS_FUCOMIP, X86_INS_FNSTSW,
    X86_INS_FNSTCW, X86_INS_FLDCW, X86_INS_FNCLEX, X86_INS_FNINIT,
};

static bool bad_insn(unsigned id)
{
    for (size_t i = 0; i < sizeof(bad_insns) / sizeof(bad_insns[0]); i++) {
        if (bad_insns[i] == id) {
            return true;
        }
    }
    return false;
}

static bool is_sreg(x86_reg r)
{
    return r == X86_REG_CS || r == X86_REG_DS || r == X86_REG_ES || r == X86_REG_FS ||
           r == X86_REG_GS || r == X86_REG_SS;
}

/* Flags capstone does not describe exactly enough (count-dependent). */
static uint32_t extra_undef(unsigned id, const cs_x86 *x)
{
    switch (id) {
    case X86_INS_SHL: case X86_INS_SAL: case X86_INS_SHR: case X86_INS_SAR:
        return DF_OF | DF_AF | DF_CF;
    case X86_INS_ROL: case X86_INS_ROR: case X86_INS_RCL: case X86_INS_RCR:
        return DF_OF;
    case X86_INS_SHLD: case X86_INS_SHRD:
        return DIFF_FLAGS_ARITH;
    case X86_INS_BT: case X86_INS_BTS: case X86_INS_BTR: case X86_INS_BTC:
        return DF_OF | DF_SF | DF_AF | DF_PF | DF_ZF;
    case X86_INS_MUL: case X86_INS_IMUL:
        return DF_SF | DF_ZF | DF_AF | DF_PF;
    case X86_INS_DIV: case X86_INS_IDIV:
        return DIFF_FLAGS_ARITH;
    case X86_INS_BSF: case X86_INS_BSR:
        return DF_CF | DF_OF | DF_SF | DF_AF | DF_PF;
    case X86_INS_AND: case X86_INS_OR: case X86_INS_XOR: case X86_INS_TEST:
        return DF_AF;
    case X86_INS_DAA: case X86_INS_DAS:
        return DF_OF;
    case X86_INS_AAA: case X86_INS_AAS:
        return DF_OF | DF_SF | DF_ZF | DF_PF;
    case X86_INS_AAM: case X86_INS_AAD:
        return DF_OF | DF_AF | DF_CF;
    default:
        (void)x;
        return 0;
    }
}

static uint32_t cs_undef(uint64_t ef)
{
    uint32_t u = 0;
    if (ef & X86_EFLAGS_UNDEFINED_OF) u |= DF_OF;
    if (ef & X86_EFLAGS_UNDEFINED_SF) u |= DF_SF;
    if (ef & X86_EFLAGS_UNDEFINED_ZF) u |= DF_ZF;
    if (ef & X86_EFLAGS_UNDEFINED_PF) u |= DF_PF;
    if (ef & X86_EFLAGS_UNDEFINED_AF) u |= DF_AF;
    if (ef & X86_EFLAGS_UNDEFINED_CF) u |= DF_CF;
    return u;
}

/* The GPR number (0-15) of a capstone register of any size, or -1. */
static int gpr_of(x86_reg r)
{
    static const x86_reg regs[16][4] = {
        { X86_REG_RAX, X86_REG_EAX, X86_REG_AX, X86_REG_AL },
        { X86_REG_RCX, X86_REG_ECX, X86_REG_CX, X86_REG_CL },
        { X86_REG_RDX, X86_REG_EDX, X86_REG_DX, X86_REG_DL },
        { X86_REG_RBX, X86_REG_EBX, X86_REG_BX, X86_REG_BL },
        { X86_REG_RSP, X86_REG_ESP, X86_REG_SP, X86_REG_SPL },
        { X86_REG_RBP, X86_REG_EBP, X86_REG_BP, X86_REG_BPL },
        { X86_REG_RSI, X86_REG_ESI, X86_REG_SI, X86_REG_SIL },
        { X86_REG_RDI, X86_REG_EDI, X86_REG_DI, X86_REG_DIL },
        { X86_REG_R8, X86_REG_R8D, X86_REG_R8W, X86_REG_R8B },
        { X86_REG_R9, X86_REG_R9D, X86_REG_R9W, X86_REG_R9B },
        { X86_REG_R10, X86_REG_R10D, X86_REG_R10W, X86_REG_R10B },
        { X86_REG_R11, X86_REG_R11D, X86_REG_R11W, X86_REG_R11B },
        { X86_REG_R12, X86_REG_R12D, X86_REG_R12W, X86_REG_R12B },
        { X86_REG_R13, X86_REG_R13D, X86_REG_R13W, X86_REG_R13B },
        { X86_REG_R14, X86_REG_R14D, X86_REG_R14W, X86_REG_R14B },
        { X86_REG_R15, X86_REG_R15D, X86_REG_R15W, X86_REG_R15B },
    };
    for (int i = 0; i < 16; i++) {
        for (int k = 0; k < 4; k++) {
            if (regs[i][k] == r) {
                return i;
            }
        }
    }
    return -1;
}

/* Accepts (and describes in c) one decoded instruction, or says no. */
static bool accept(DiffRandom *g, const cs_insn *in, DiffCase *c)
{
    const cs_detail *d = in->detail;
    const cs_x86 *x = &d->x86;

    for (int i = 0; i < d->groups_count; i++) {
        for (size_t k = 0; k < sizeof(bad_groups); k++) {
            if (d->groups[i] == bad_groups[k]) {
                return false;
            }
        }
    }
    if (bad_insn(in->id)) {
        return false;
    }
    /* FS/GS overrides reach the harness's TLS; segment registers anywhere.
     * Capstone keeps only the last segment prefix, but in 64-bit mode an
     * FS/GS prefix followed by DS (ignored there) still selects FS on
     * silicon: look at every prefix byte. */
    if (x->prefix[1] == 0x64 || x->prefix[1] == 0x65) {
        return false;
    }
    bool rep_prefix = false;
    size_t op = 0;
    for (; op < in->size; op++) {
        uint8_t b = in->bytes[op];
        if (b == 0x64 || b == 0x65) {
            return false;
        }
        rep_prefix |= b == 0xf2 || b == 0xf3;
        if (!(b == 0x66 || b == 0x67 || b == 0xf0 || b == 0xf2 || b == 0xf3 || b == 0x2e ||
              b == 0x36 || b == 0x3e || b == 0x26 || (g->mode == 64 && (b & 0xf0) == 0x40))) {
            break;
        }
    }
    /* F2/F3 0F 2B: AMD's SSE4a MOVNTSD/MOVNTSS (Intel: #UD, as tcg-lite) */
    if (rep_prefix && op + 1 < in->size && in->bytes[op] == 0x0f && in->bytes[op + 1] == 0x2b) {
        return false;
    }
    for (int i = 0; i < x->op_count; i++) {
        if (x->operands[i].type == X86_OP_REG && is_sreg(x->operands[i].reg)) {
            return false;
        }
        if (x->operands[i].type == X86_OP_MEM && x->operands[i].mem.segment != X86_REG_INVALID &&
            x->operands[i].mem.segment != X86_REG_DS && x->operands[i].mem.segment != X86_REG_SS &&
            x->operands[i].mem.segment != X86_REG_ES && x->operands[i].mem.segment != X86_REG_CS) {
            return false;
        }
        /* AVX-512 and AVX registers */
        if (x->operands[i].type == X86_OP_REG &&
            ((x->operands[i].reg >= X86_REG_YMM0 && x->operands[i].reg <= X86_REG_YMM31) ||
             (x->operands[i].reg >= X86_REG_K0 && x->operands[i].reg <= X86_REG_K7))) {
            return false;
        }
    }
    for (int i = 0; i < d->regs_write_count; i++) {
        if (is_sreg(d->regs_write[i])) {
            return false;
        }
    }
    /* 16-bit SHLD/SHRD: the count may be above 16 (undefined result) */
    if ((in->id == X86_INS_SHLD || in->id == X86_INS_SHRD) && x->operands[0].size == 2) {
        return false;
    }
    c->undef_flags = cs_undef(x->eflags) | extra_undef(in->id, x);
    /* BSF/BSR of zero: the destination is undefined for Intel */
    if ((in->id == X86_INS_BSF || in->id == X86_INS_BSR) && x->op_count > 0 &&
        x->operands[0].type == X86_OP_REG && gpr_of(x->operands[0].reg) >= 0) {
        c->undef_gpr_zf = 1u << gpr_of(x->operands[0].reg);
    }
    for (int i = 0; i < d->groups_count; i++) {
        if (d->groups[i] == X86_GRP_FPU) {
            c->undef_fsw = 0x4500;              /* C0 C2 C3 */
            for (size_t k = 0; k < sizeof(fsw_defined) / sizeof(fsw_defined[0]); k++) {
                if (in->id == fsw_defined[k]) {
                    c->undef_fsw = 0;
                }
            }
            if (in->id == X86_INS_FXAM) {
                c->undef_fsw = 0x0200;          /* C1 of an empty ST0: its stale sign */
            }
        }
    }
    /* EMMS: TOP is left alone by Intel (SDM: only the tag word) and QEMU,
     * cleared by this AMD; every register is empty after it anyway */
    if (in->id == X86_INS_EMMS) {
        c->undef_fsw |= 0x3800;
    }
    /* CMPS reads two operands and the SDM does not say in which order: when
     * both fault, the AMD EPYC of some of these machines reports [rdi]'s
     * fault (#GP for a non-canonical rdi, or its #PF), tcg-lite [rsi]'s */
    if (in->id == X86_INS_CMPSB || in->id == X86_INS_CMPSW || in->id == X86_INS_CMPSD ||
        in->id == X86_INS_CMPSQ) {
        c->undef |= DIFF_U_FAULT;
    }
    /* F3 REX.B 90: XCHG r8, rax on AMD and in QEMU (and tcg-lite), PAUSE
     * on the Intel Xeon of 2026-12-07 */
    if (in->id == X86_INS_XCHG && in->size >= 3 && in->bytes[in->size - 1] == 0x90 &&
        memchr(in->bytes, 0xf3, in->size - 1)) {
        c->undef_gpr |= 1u << D_RAX | 1u << D_R8;
    }
    /* REP string with a 32-bit address size and ECX 0 (see gen-int.c) */
    if ((x->prefix[0] == 0xf3 || x->prefix[0] == 0xf2) && x->addr_size == 4) {
        c->undef |= DIFF_U_A32CNT0;
    }
    for (int i = 0; i < x->op_count; i++) {
        /* an MMX instruction that faults: the Intel Xeon of 2026-12-07
         * switches to MMX mode before the fault, others after it */
        if (x->operands[i].type == X86_OP_REG && x->operands[i].reg >= X86_REG_MM0 &&
            x->operands[i].reg <= X86_REG_MM7) {
            c->undef |= DIFF_U_MMXFAULT;
        }
        /* an x87 store to a faulting address with an unmasked invalid
         * operation (stack underflow): that Xeon reports the invalid
         * operation (pending, nothing stored), others the fault first */
        if (x->operands[i].type == X86_OP_MEM) {
            for (int k = 0; k < d->groups_count; k++) {
                if (d->groups[k] == X86_GRP_FPU) {
                    c->undef |= DIFF_U_FPSTFAULT;
                }
            }
        }
    }
    /* approximations: the precision is architectural, the bits are not */
    if (in->id == X86_INS_RCPPS || in->id == X86_INS_RCPSS || in->id == X86_INS_RSQRTPS ||
        in->id == X86_INS_RSQRTSS) {
        c->undef |= DIFF_U_XMM;
    }
    (void)g;
    return true;
}

/* A random byte string shaped like an instruction. */
static size_t shape(DiffRandom *g, uint8_t *b)
{
    static const uint8_t pfx[] = { 0x66, 0xf2, 0xf3, 0xf0, 0x67, 0x66, 0xf3, 0x2e, 0x3e };
    size_t n = 0;
    uint64_t r = rnd(g);

    for (int k = 0; k < 3 && (r & 3) == 0; k++, r >>= 2) {
        b[n++] = pfx[(r >> 2) % sizeof(pfx)];
        r >>= 4;
    }
    r = rnd(g);
    if (g->mode == 64 && (r & 1)) {
        b[n++] = 0x40 | ((r >> 1) & 15);
    }
    r >>= 5;
    switch (r % 8) {
    case 0: case 1: case 2:
        break;                                  /* one-byte map */
    case 3: case 4: case 5:
        b[n++] = 0x0f;
        break;
    case 6:
        b[n++] = 0x0f, b[n++] = 0x38;
        break;
    default:
        b[n++] = 0x0f, b[n++] = 0x3a;
        break;
    }
    /* opcode, ModRM (a register form half the time), then random bytes */
    b[n++] = (uint8_t)rnd(g);
    r = rnd(g);
    b[n++] = (r & 1) ? (uint8_t)(0xc0 | (r >> 1)) : (uint8_t)(r >> 1);
    while (n < 15) {
        b[n++] = (uint8_t)rnd(g);
    }
    return n;
}

static void random_input(DiffRandom *g, DiffCase *c)
{
    DiffState *s = &c->in;
    static const uint64_t edges[] = { 0, 1, ~0ULL, 0x7fffffff, 0x80000000, 0xffffffff,
                                      0x7fffffffffffffffULL, 0x8000000000000000ULL, 0x80, 0xff,
                                      0x8000, 0xffff };

    for (int i = 0; i < 16; i++) {
        uint64_t r = rnd(g);
        switch (r & 7) {
        case 0: case 1: case 2:
            s->gpr[i] = DIFF_DATA_ADDR + ((r >> 8) & 0xfff);
            if (r & 0x80000) {
                s->gpr[i] &= ~7ULL;
            }
            break;
        case 3:
            s->gpr[i] = (r >> 8) & 31;
            break;
        case 4: case 5:
            s->gpr[i] = edges[(r >> 8) % (sizeof(edges) / sizeof(edges[0]))];
            break;
        default:
            s->gpr[i] = rnd(g);
            break;
        }
    }
    s->gpr[D_RSP] = DIFF_STACK_ADDR + 0x800 + ((rnd(g) & 0xff) - 0x80) * 8;
    if (g->mode == 32) {
        for (int i = 0; i < 16; i++) {
            s->gpr[i] = (uint32_t)s->gpr[i];
        }
    }
    uint64_t fr = rnd(g);
    s->rflags = 2 | (fr & DIFF_FLAGS_IN & ~(uint64_t)DF_AC) | ((fr >> 40) % 16 == 0 ? DF_AC : 0);
    for (int i = 0; i < 16; i++) {
        for (int k = 0; k < 16; k += 8) {
            uint64_t r = rnd(g), v = rnd(g);
            switch (r & 3) {
            case 0:
                v = (r & 4) ? 0x7fc0000000000000ULL | (v & 0xffff) : 0x00000001ff800000ULL;
                break;
            case 1:
                v = (r & 4) ? 0x3ff8000000000000ULL : 0x3fc000004f000000ULL;
                break;
            default:
                break;
            }
            memcpy(&s->xmm[i][k], &v, 8);
        }
    }
    uint64_t r = rnd(g);
    s->mxcsr = 0x1f80 | (r & 0x6000) | ((r & 0x30000) == 0 ? 0x8040 : 0);
    if ((r & 0x1c0000) == 0) {
        s->mxcsr &= ~0x1f80u;           /* exceptions unmasked now and then */
    }
    /* x87: some registers in use, TOP anywhere, values from edge classes */
    r = rnd(g);
    s->ftw = (r & 1) ? (uint8_t)(r >> 8) : (r & 2) ? 0xff : 0;
    s->fsw = (uint16_t)(((r >> 16) & 7) << 11);
    static const uint16_t fcws[] = { 0x037f, 0x037f, 0x027f, 0x007f, 0x077f, 0x0b7f, 0x0f7f, 0x0372 };
    s->fcw = fcws[(r >> 20) & 7];
    for (int i = 0; i < 8; i++) {
        uint64_t m = rnd(g), e = rnd(g);
        static const uint16_t exps[] = { 0x3fff, 0x4000, 0x3ffe, 0x0000, 0x7fff, 0x403e, 0x0001, 0xbfff };
        uint16_t se = (e & 8) ? (uint16_t)(e >> 16) : exps[e & 7] | (uint16_t)((e >> 4) & 1) << 15;
        if (e & 0x100000) {
            m |= 1ULL << 63;                    /* mostly normal (J bit set) */
        }
        memcpy(s->st[i], &m, 8);
        memcpy(s->st[i] + 8, &se, 2);
    }
    for (int i = 0; i < DIFF_PAGE; i += 8) {
        uint64_t v = rnd(g);
        memcpy(s->data + i, &v, 8);
    }
    for (int i = 0; i < DIFF_PAGE; i += 8) {
        uint64_t v = rnd(g);
        memcpy(s->stack + i, &v, 8);
    }
}

/* Capstone's length is not always the silicon's (e.g. 66 + REX before
 * PUSH imm): one single-stepped host run says where the instruction
 * really ends.  A shorter one is kept at its real length (a test of the
 * candidate's decoder); one that ran into the stub is dropped. */
static bool silicon_length(DiffRandom *g, DiffCase *c)
{
    static DiffState out;
    bool was = diff_host_single_step(true);

    for (int tries = 0; tries < 2; tries++) {
        diff_host_run(c->code, c->len, &c->in, &out);
        if (out.vector != DIFF_VEC_ESCAPE) {
            diff_host_single_step(was);
            return true;
        }
        uint64_t k = out.rip - DIFF_CODE_ADDR;
        if (k == 0 || k >= c->len) {
            break;
        }
        c->len = k;
        g->cut++;
        size_t n = strlen(c->name);
        snprintf(c->name + n, sizeof(c->name) - n, " [cut to %u]", (unsigned)k);
    }
    diff_host_single_step(was);
    return false;
}

unsigned long diff_random_cut(const DiffRandom *g)
{
    return g->cut;
}

void diff_random_case(DiffRandom *g, DiffCase *c)
{
    uint8_t b[16];
    cs_insn *in;

    for (;;) {
        size_t n = shape(g, b), cnt;
        g->tried++;
        cnt = cs_disasm(g->cs, b, n, DIFF_CODE_ADDR, 1, &in);
        if (cnt != 1) {
            continue;
        }
        char name[64];
        snprintf(name, sizeof(name), "random %.20s %.35s", in->mnemonic, in->op_str);
        diff_case_init(c, name, g->mode);
        if (!accept(g, in, c)) {
            cs_free(in, cnt);
            continue;
        }
        uint32_t uf = c->undef_flags, u = c->undef;
        uint16_t ufsw = c->undef_fsw, ugz = c->undef_gpr_zf;
        unsigned id = in->id;
        diff_case_emit(c, in->bytes, in->size);
        cs_free(in, cnt);
        random_input(g, c);
        /* FCOMI and friends with an unmasked invalid operation: the SDM
         * leaves EFLAGS alone (tcg-lite too), this AMD sets "unordered" */
        if ((id == X86_INS_FCOMI || id == X86_INS_FCOMIP || id == X86_INS_FUCOMI ||
             id == X86_INS_FUCOMIP) && !(c->in.fcw & 1)) {
            uf |= 0x8d5;
        }
        c->undef_flags = uf;
        c->undef = u;
        c->undef_fsw = ufsw;
        c->undef_gpr_zf = ugz;
        c->single = true;
        if (silicon_length(g, c)) {
            return;
        }
    }
}

/*
 * Stand-ins for the tcg-lite functions the "fp" part calls (tcgl.h):
 * flat guest memory (segment bases 0, no paging), simple flags, and a
 * tcgl_raise() that records the event and unwinds to stub_run().
 */
#include <glib.h>
#include <string.h>
#include "stub-fp.h"

uint8_t stub_mem[STUB_MEM_SIZE];
X86CPUState stub_env;
TCGLCPU stub_cpu;
uint64_t stub_fault_off = ~0ULL;

static void stub_check(TCGLCPU *c, uint64_t off, unsigned size)
{
    if (off > STUB_MEM_SIZE || size > STUB_MEM_SIZE - off) {
        tcgl_raise(c, 13, 0);
    }
    if (stub_fault_off >= off && stub_fault_off < off + size) {
        tcgl_raise(c, 14, 2);
    }
}

uint64_t tcgl_ld(TCGLCPU *c, int seg, uint64_t off, unsigned size)
{
    uint64_t v = 0;
    stub_check(c, off, size);
    memcpy(&v, stub_mem + off, size);
    return v;
}

void tcgl_st(TCGLCPU *c, int seg, uint64_t off, unsigned size, uint64_t v)
{
    stub_check(c, off, size);
    memcpy(stub_mem + off, &v, size);
}

uint8_t tcgl_ldb(TCGLCPU *c, int seg, uint64_t off) { return tcgl_ld(c, seg, off, 1); }
uint16_t tcgl_ldw(TCGLCPU *c, int seg, uint64_t off) { return tcgl_ld(c, seg, off, 2); }
uint32_t tcgl_ldl(TCGLCPU *c, int seg, uint64_t off) { return tcgl_ld(c, seg, off, 4); }
uint64_t tcgl_ldq(TCGLCPU *c, int seg, uint64_t off) { return tcgl_ld(c, seg, off, 8); }
void tcgl_stb(TCGLCPU *c, int seg, uint64_t off, uint8_t v) { tcgl_st(c, seg, off, 1, v); }
void tcgl_stw(TCGLCPU *c, int seg, uint64_t off, uint16_t v) { tcgl_st(c, seg, off, 2, v); }
void tcgl_stl(TCGLCPU *c, int seg, uint64_t off, uint32_t v) { tcgl_st(c, seg, off, 4, v); }
void tcgl_stq(TCGLCPU *c, int seg, uint64_t off, uint64_t v) { tcgl_st(c, seg, off, 8, v); }

void tcgl_ld_buf(TCGLCPU *c, int seg, uint64_t off, void *buf, unsigned size)
{
    stub_check(c, off, size);
    memcpy(buf, stub_mem + off, size);
}

void tcgl_st_buf(TCGLCPU *c, int seg, uint64_t off, const void *buf, unsigned size)
{
    stub_check(c, off, size);
    memcpy(stub_mem + off, buf, size);
}

void tcgl_probe_write(TCGLCPU *c, int seg, uint64_t off, unsigned size)
{
    stub_check(c, off, size);
}

uint64_t tcgl_get_rflags(TCGLCPU *c)
{
    return c->env->rflags | 2;
}

void tcgl_set_rflags(TCGLCPU *c, uint64_t val, uint64_t mask)
{
    c->env->rflags = (c->env->rflags & ~mask) | (val & mask) | 2;
}

bool tcgl_cond(TCGLCPU *c, unsigned cc)
{
    uint64_t f = c->env->rflags;
    bool r;

    switch (cc >> 1) {
    case 0: r = f & 0x800; break;                           /* O */
    case 1: r = f & 0x001; break;                           /* B */
    case 2: r = f & 0x040; break;                           /* Z */
    case 3: r = f & 0x041; break;                           /* BE */
    case 4: r = f & 0x080; break;                           /* S */
    case 5: r = f & 0x004; break;                           /* P */
    case 6: r = !!(f & 0x080) != !!(f & 0x800); break;      /* L */
    default: r = (f & 0x040) || (!!(f & 0x080) != !!(f & 0x800)); break;
    }
    return (cc & 1) ? !r : r;
}

void tcgl_raise(TCGLCPU *c, int vector, int err)
{
    c->event.kind = TCGL_EV_FAULT;
    c->event.vector = vector;
    c->event.has_error = err >= 0;
    c->event.error = err >= 0 ? err : 0;
    siglongjmp(c->jmp, 1);
}

void tcgl_op_ud(TCGLCPU *c, const TCGLInsn *i)
{
    tcgl_raise(c, 6, -1);
}

void stub_fp_init(void)
{
    TCGLCPU *c = &stub_cpu;
    void *fpu = c->fpu;

    memset(stub_mem, 0, sizeof(stub_mem));
    memset(&stub_env, 0, sizeof(stub_env));
    memset(c, 0, sizeof(*c));
    stub_fault_off = ~0ULL;
    stub_env.cr0 = CR0_PE | CR0_ET | CR0_NE | TCGL_CR0_MP | CR0_PG;
    stub_env.cr4 = TCGL_CR4_OSFXSR | TCGL_CR4_OSXMMEXCPT | TCGL_CR4_OSXSAVE;
    stub_env.xcr0 = XSTATE_FP | XSTATE_SSE;
    stub_env.rflags = 2;
    stub_env.fxsave[0] = 0x7f;
    stub_env.fxsave[1] = 0x03;
    stub_env.fxsave[24] = 0x80;
    stub_env.fxsave[25] = 0x1f;
    c->env = &stub_env;
    c->fpu = fpu;
    c->hflags = TCGL_HF_CS64 | TCGL_HF_LMA | TCGL_HF_PE | TCGL_HF_PG;
    c->lin_mask = ~0ULL;
    /* no TLB hits: every access goes to tcgl_ld_buf() & co. below */
    for (int m = 0; m < TCGL_NB_MMU; m++) {
        for (unsigned k = 0; k < TCGL_TLB_SIZE; k++) {
            c->tlb[m][k].tag_read = c->tlb[m][k].tag_write = TCGL_TLB_INVALID;
        }
    }
    tcgl_fp_state_from_env(c);
}

int stub_run(const TCGLInsn *i)
{
    TCGLCPU *c = &stub_cpu;

    c->event.kind = TCGL_EV_NONE;
    if (sigsetjmp(c->jmp, 0)) {
        return c->event.vector;
    }
    i->fn(c, i);
    return -1;
}

static bool mod_matches(const TCGLOpDesc *d, const TCGLInsn *i)
{
    return d->mod == TCGL_MOD_ANY || (d->mod == TCGL_MOD_REG) == (i->mod == 3);
}

static TCGLHandler *lookup_in(const TCGLOpDesc *t, const TCGLInsn *i, unsigned mp)
{
    for (; t->opc != 0xffff; t++) {
        if (t->opc == i->opc && (t->reg < 0 || t->reg == (i->modrm >> 3 & 7)) &&
            (t->pfx == mp || t->pfx == TCGL_MP_ANY) && mod_matches(t, i)) {
            return t->select ? t->select(i) : t->fn;
        }
    }
    return NULL;
}

TCGLHandler *stub_lookup(TCGLInsn *i, unsigned mp)
{
    TCGLHandler *h = lookup_in(tcgl_ops_sse, i, mp);
    return h ? h : lookup_in(tcgl_ops_fpu, i, mp);
}

static TCGLInsn insn_common(unsigned map, unsigned op, unsigned mp, unsigned reg, uint64_t imm)
{
    TCGLInsn i = {
        .opc = TCGL_OPC(map, op), .len = 4, .opsize = 4, .adsize = 8, .seg = R_DS,
        .reg = reg, .base = TCGL_NOREG, .index = TCGL_NOREG, .imm = imm,
    };
    static const uint8_t pfx[] = { 0, TCGL_PFX_OPSIZE, TCGL_PFX_REP, TCGL_PFX_REPNE, 0 };
    i.pfx = pfx[mp];
    return i;
}

TCGLInsn stub_insn_r(unsigned map, unsigned op, unsigned mp, unsigned reg, unsigned rm,
                     uint64_t imm)
{
    TCGLInsn i = insn_common(map, op, mp, reg, imm);
    i.mod = 3;
    i.rm = rm;
    i.modrm = 0xc0 | (reg & 7) << 3 | (rm & 7);
    i.fn = stub_lookup(&i, mp);
    g_assert_nonnull(i.fn);
    return i;
}

TCGLInsn stub_insn_m(unsigned map, unsigned op, unsigned mp, unsigned reg, uint64_t addr,
                     uint64_t imm)
{
    TCGLInsn i = insn_common(map, op, mp, reg, imm);
    i.mod = 0;
    i.modrm = 0x04 | (reg & 7) << 3;
    i.disp = (int32_t)addr;
    i.fn = stub_lookup(&i, mp);
    g_assert_nonnull(i.fn);
    return i;
}

/*
 * tcg-lite: system instructions.  Control and debug registers, MSRs,
 * CPUID, the TSC, HLT, CLI/STI, PUSHF/POPF, port I/O (IN/OUT/INS/OUTS with
 * the TSS I/O bitmap), SYSCALL/SYSRET, SYSENTER/SYSEXIT, SWAPGS,
 * XGETBV/XSETBV, INT n/INT3/INTO/INT1, and the opcode table of part "sys"
 * (tcgl_ops_sys, with seg.c's handlers).
 */
#include <string.h>
#include <inttypes.h>
#include "tcgl-sys.h"
#include "accel/accel.h"
#include "hw/intc/apic.h"
#include "hw/i386/x86-irq.h"
#include "hw/memory.h"
#include "qemu/log.h"
#include "system/main-loop.h"
#include "system/runstate.h"

/* ---- per-vCPU state that has no place in X86CPUState ------------------- */

#define MCE_BANKS 10
#define MCG_CTL_P (1ULL << 8)

typedef struct SysCPU {
    const CPUIDTable *cpuid;
    uint64_t mcg_status, mcg_ctl;
    uint64_t mc[MCE_BANKS][4];      /* CTL, STATUS, ADDR, MISC */
} SysCPU;

static GPtrArray *sys_cpus;

static SysCPU *sys_cpu(const TCGLCPU *c)
{
    int idx = c->cpu ? c->cpu->index : 0;

    if (!sys_cpus) {
        sys_cpus = g_ptr_array_new();
    }
    while ((int)sys_cpus->len <= idx) {
        g_ptr_array_add(sys_cpus, NULL);
    }
    if (!g_ptr_array_index(sys_cpus, idx)) {
        SysCPU *s = g_new0(SysCPU, 1);
        s->mcg_ctl = ~0ULL;
        for (int b = 0; b < MCE_BANKS; b++) {
            s->mc[b][0] = ~0ULL;
        }
        g_ptr_array_index(sys_cpus, idx) = s;
    }
    return g_ptr_array_index(sys_cpus, idx);
}

void tcgl_sys_set_cpuid(int cpu_index, const CPUIDTable *t)
{
    TCGLCPU fake = { 0 };
    CPUState cpu = { .index = cpu_index };

    fake.cpu = &cpu;
    sys_cpu(&fake)->cpuid = t;
}

/* ---- CPUID ----------------------------------------------------------------- */

/* Feature bits (CPUID.01H:EDX etc.) tcg-lite implements. */
#define F1D(bit) (1u << (bit))
static const uint32_t tcgl_1_edx =
    F1D(0) /* fpu */ | F1D(2) /* de */ | F1D(3) /* pse */ | F1D(4) /* tsc */ |
    F1D(5) /* msr */ | F1D(6) /* pae */ | F1D(7) /* mce */ | F1D(8) /* cx8 */ |
    F1D(9) /* apic */ | F1D(11) /* sep */ | F1D(12) /* mtrr */ | F1D(13) /* pge */ |
    F1D(14) /* mca */ | F1D(15) /* cmov */ | F1D(16) /* pat */ | F1D(19) /* clflush */ |
    F1D(23) /* mmx */ | F1D(24) /* fxsr */ | F1D(25) /* sse */ | F1D(26) /* sse2 */ |
    F1D(17) /* pse36 */ | F1D(28) /* htt (the topology decides) */;
/* SSE4.1 only where the host has it (fp.c's ROUND* use the host's). */
static const uint32_t tcgl_1_ecx = F1D(0) /* pni */ | F1D(9) /* ssse3 */ |
                                   F1D(13) /* cx16 */ | F1D(20) /* sse4.2 */ |
                                   F1D(22) /* movbe */ | F1D(23) /* popcnt */ |
                                   F1D(26) /* xsave (x87 and SSE state only) */ |
                                   CPUID_1_ECX_X2APIC | CPUID_1_ECX_TSC_DEADLINE |
                                   CPUID_1_ECX_HYPERVISOR;
static const uint32_t tcgl_ext1_edx = F1D(11) /* syscall */ | F1D(20) /* nx */ |
                                      F1D(27) /* rdtscp */ | F1D(29) /* lm */;
static const uint32_t tcgl_ext1_ecx = F1D(0) /* lahf_lm */;

void tcgl_supported_cpuid(CPUIDTable *t)
{
    cpuid_table_set(t, 0, 0, 0, 0xd, 0, 0, 0);
    uint32_t ecx1 = tcgl_1_ecx;
    if (__builtin_cpu_supports("sse4.1")) {
        ecx1 |= F1D(19);
    }
    cpuid_table_set(t, 1, 0, 0, 0, 0, ecx1, tcgl_1_edx);
    /* XSAVE: XCR0 may hold x87 | SSE (576-byte standard area); XSAVEOPT, not
     * XSAVEC/XSAVES/XGETBV(1) */
    cpuid_table_set(t, 0xd, 0, CPUID_FLAG_SIGNIFICANT_INDEX, 3, 576, 576, 0);
    cpuid_table_set(t, 0xd, 1, CPUID_FLAG_SIGNIFICANT_INDEX, 1, 0, 0, 0);
    cpuid_table_set(t, 0x80000000, 0, 0, 0x80000008, 0, 0, 0);
    cpuid_table_set(t, 0x80000001, 0, 0, 0, 0, tcgl_ext1_ecx, tcgl_ext1_edx);
    cpuid_table_set(t, 0x80000008, 0, 0, 0x3028, 0, 0, 0);     /* 40-bit phys, 48 virt */
}

void tcgl_cpuid(TCGLCPU *c, uint32_t leaf, uint32_t sub, uint32_t *eax, uint32_t *ebx,
                uint32_t *ecx, uint32_t *edx)
{
    const CPUIDTable *t = sys_cpu(c)->cpuid;
    const CPUIDEntry *e = NULL;
    uint32_t level = 0, xlevel = 0;

    *eax = *ebx = *ecx = *edx = 0;
    if (!t) {
        return;
    }
    cpuid_table_get(t, 0, 0, &level, NULL, NULL, NULL);
    cpuid_table_get(t, 0x80000000, 0, &xlevel, NULL, NULL, NULL);
    /* Out-of-range leaves answer as the highest basic leaf (Intel, QEMU). */
    if (leaf >= 0x80000000u) {
        if (leaf > xlevel) {
            leaf = level;
        }
    } else if (leaf < 0x40000000u || leaf > 0x4fffffffu) {
        if (leaf > level) {
            leaf = level;
        }
    }
    for (unsigned n = 0; n < t->nent; n++) {
        const CPUIDEntry *x = &t->entries[n];
        if (x->function == leaf &&
            (!(x->flags & CPUID_FLAG_SIGNIFICANT_INDEX) || x->index == sub)) {
            e = x;
            break;
        }
    }
    if (!e) {
        return;
    }
    *eax = e->eax;
    *ebx = e->ebx;
    *ecx = e->ecx;
    *edx = e->edx;
    if (leaf == 1) {
        /* OSXSAVE follows CR4; the APIC bit follows IA32_APIC_BASE.EN. */
        *ecx &= ~(1u << 27);
        if (c->env->cr4 & CR4_OSXSAVE) {
            *ecx |= 1u << 27;
        }
        if (c->cpu && c->cpu->apic && !apic_is_enabled(c->cpu->apic)) {
            *edx &= ~F1D(9);
        }
    }
}

static bool cpuid_has(TCGLCPU *c, uint32_t leaf, int reg, uint32_t bit)
{
    uint32_t r[4];

    tcgl_cpuid(c, leaf, 0, &r[0], &r[1], &r[2], &r[3]);
    return r[reg] & bit;
}

void tcgl_op_cpuid(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_cpuid(TCGLCPU *c, const TCGLInsn *i)
{
    uint32_t a, b, cx, d;

    tcgl_cpuid(c, (uint32_t)c->env->regs[R_EAX], (uint32_t)c->env->regs[R_ECX], &a, &b, &cx,
               &d);
    c->env->regs[R_EAX] = a;
    c->env->regs[R_EBX] = b;
    c->env->regs[R_ECX] = cx;
    c->env->regs[R_EDX] = d;
}

/* ---- control registers ------------------------------------------------------ */

/* VME/PVI are not offered (no v86 interrupt redirection), nor XSAVE. */
#define CR4_SUPPORTED (CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE | CR4_PCE | \
                       CR4_OSFXSR | CR4_OSXMMEXCPT)

static unsigned phys_bits(TCGLCPU *c)
{
    uint32_t a, b, cx, d;

    tcgl_cpuid(c, 0x80000008, 0, &a, &b, &cx, &d);
    return (a & 0xff) ? (a & 0xff) : 36;
}

bool tcgl_write_cr(TCGLCPU *c, int cr, uint64_t val)
{
    X86CPUState *env = c->env;

    switch (cr) {
    case 0: {
        uint64_t old = env->cr0;
        if (val >> 32) {
            return false;
        }
        val |= CR0_ET;
        if ((val & CR0_PG) && !(val & CR0_PE)) {
            return false;
        }
        if ((val & CR0_NW) && !(val & CR0_CD)) {
            return false;
        }
        if (!(old & CR0_PG) && (val & CR0_PG) && (env->efer & EFER_LME)) {
            /* Long mode activation: needs PAE and a non-64-bit CS. */
            if (!(env->cr4 & CR4_PAE) || env->segs[R_CS].l) {
                return false;
            }
            env->efer |= EFER_LMA;
        }
        if ((old & CR0_PG) && !(val & CR0_PG) && (env->efer & EFER_LMA)) {
            if (c->hflags & TCGL_HF_CS64) {
                return false;
            }
            env->efer &= ~(uint64_t)EFER_LMA;
        }
        env->cr0 = val;
        if ((old ^ val) & (CR0_PG | CR0_WP | CR0_PE)) {
            tcgl_tlb_flush(c);
        }
        tcgl_update_hflags(c);
        return true;
    }
    case 2:
        env->cr2 = val;
        return true;
    case 3:
        if ((c->hflags & TCGL_HF_LMA) && (val >> phys_bits(c))) {
            return false;
        }
        env->cr3 = (c->hflags & TCGL_HF_LMA) ? val : (uint32_t)val;
        tcgl_tlb_flush(c);
        return true;
    case 4: {
        uint64_t old = env->cr4;
        uint32_t a, b, cx, d;
        if (val & ~(uint64_t)(CR4_SUPPORTED | CR4_OSXSAVE)) {
            return false;
        }
        if (val & CR4_OSXSAVE) {
            /* only where the guest's CPUID offers XSAVE */
            tcgl_cpuid(c, 1, 0, &a, &b, &cx, &d);
            if (!(cx & F1D(26))) {
                return false;
            }
        }
        if ((env->efer & EFER_LMA) && !(val & CR4_PAE)) {
            return false;
        }
        env->cr4 = val;
        if ((old ^ val) & (CR4_PSE | CR4_PAE | CR4_PGE)) {
            tcgl_tlb_flush(c);
        }
        tcgl_update_hflags(c);
        return true;
    }
    case 8:
        if (val & ~0xfULL) {
            return false;
        }
        env->cr8 = val;
        if (c->cpu && c->cpu->apic) {
            bool locked = tcgl_bql_enter(c);
            apic_set_tpr(c->cpu->apic, val);
            tcgl_bql_leave(c, locked);
        }
        return true;
    default:
        return false;
    }
}

static uint64_t read_cr(TCGLCPU *c, int cr)
{
    X86CPUState *env = c->env;

    switch (cr) {
    case 0: return env->cr0;
    case 2: return env->cr2;
    case 3: return env->cr3;
    case 4: return env->cr4;
    default:
        if (c->cpu && c->cpu->apic) {
            bool locked = tcgl_bql_enter(c);
            env->cr8 = apic_get_tpr(c->cpu->apic);
            tcgl_bql_leave(c, locked);
        }
        return env->cr8;
    }
}

/* The register operand of MOV CR/DR: ModRM.rm whatever mod says. */
static unsigned crdr_gpr(const TCGLInsn *i)
{
    return (i->modrm & 7) | ((i->rex & 1) << 3);
}

static unsigned crdr_size(const TCGLCPU *c)
{
    return (c->hflags & TCGL_HF_CS64) ? 8 : 4;
}

static bool cr_valid(int cr)
{
    return cr == 0 || cr == 2 || cr == 3 || cr == 4 || cr == 8;
}

void tcgl_op_mov_from_cr(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_mov_from_cr(TCGLCPU *c, const TCGLInsn *i)
{
    if (!cr_valid(i->reg)) {
        tcgl_raise(c, EXCP_UD, -1);
    }
    tcgl_reg_set(c, crdr_gpr(i), crdr_size(c), read_cr(c, i->reg));
}

void tcgl_op_mov_to_cr(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_mov_to_cr(TCGLCPU *c, const TCGLInsn *i)
{
    if (!cr_valid(i->reg)) {
        tcgl_raise(c, EXCP_UD, -1);
    }
    if (!tcgl_write_cr(c, i->reg, tcgl_reg_get(c, crdr_gpr(i), crdr_size(c)))) {
        tcgl_raise(c, EXCP_GP, 0);
    }
}

/* DR4/DR5 are DR6/DR7 unless CR4.DE (then #UD).  Breakpoints in DR7 are
 * kept but do not trigger (yet). */
static int dr_index(TCGLCPU *c, unsigned n)
{
    if (n > 7) {
        tcgl_raise(c, EXCP_UD, -1);
    }
    if (n == 4 || n == 5) {
        if (c->env->cr4 & CR4_DE) {
            tcgl_raise(c, EXCP_UD, -1);
        }
        n += 2;
    }
    return n;
}

void tcgl_op_mov_from_dr(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_mov_from_dr(TCGLCPU *c, const TCGLInsn *i)
{
    int n = dr_index(c, i->reg);

    tcgl_reg_set(c, crdr_gpr(i), crdr_size(c), c->env->dr[n]);
}

void tcgl_op_mov_to_dr(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_mov_to_dr(TCGLCPU *c, const TCGLInsn *i)
{
    int n = dr_index(c, i->reg);
    uint64_t v = tcgl_reg_get(c, crdr_gpr(i), crdr_size(c));

    if (n >= 6 && (v >> 32)) {
        tcgl_raise(c, EXCP_GP, 0);
    }
    if (n == 6) {
        v = (v & 0xf00f) | 0xffff0ff0;
    } else if (n == 7) {
        v = (v & ~0xd800ULL) | 0x400;
    }
    c->env->dr[n] = v;
}

void tcgl_op_clts(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_clts(TCGLCPU *c, const TCGLInsn *i)
{
    c->env->cr0 &= ~(uint64_t)CR0_TS;
}

/* LMSW (0F 01 /6): PE, MP, EM, TS; cannot clear PE. */
void tcgl_op_lmsw(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_lmsw(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned v = i->mod == 3 ? tcgl_reg_get(c, i->rm, 2) : tcgl_ldw(c, i->seg, tcgl_ea(c, i));
    uint64_t cr0 = (c->env->cr0 & ~0xeULL) | (v & 0xf) | (c->env->cr0 & CR0_PE);

    if (!tcgl_write_cr(c, 0, cr0)) {
        tcgl_raise(c, EXCP_GP, 0);
    }
}

/* SMSW (0F 01 /4): 16 bits to memory, the operand size to a register. */
void tcgl_op_smsw(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_smsw(TCGLCPU *c, const TCGLInsn *i)
{
    if (i->mod == 3) {
        tcgl_reg_set(c, i->rm, i->opsize, c->env->cr0);
    } else {
        tcgl_stw(c, i->seg, tcgl_ea(c, i), c->env->cr0);
    }
}

void tcgl_op_invlpg(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_invlpg(TCGLCPU *c, const TCGLInsn *i)
{
    tcgl_tlb_flush_page(c, (c->seg_base[i->seg] + tcgl_ea(c, i)) & c->lin_mask);
}

void tcgl_op_nop_priv(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_nop_priv(TCGLCPU *c, const TCGLInsn *i)
{
    /* INVD, WBINVD: no caches to write back. */
}

/* HLT: rip moves past it, the vCPU sleeps until an interrupt. */
void tcgl_op_hlt(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_hlt(TCGLCPU *c, const TCGLInsn *i)
{
    c->env->rip += i->len;
    if (!(c->hflags & TCGL_HF_CS64)) {
        c->env->rip &= 0xffffffff;
    }
    c->env->mp_state = CPU_MP_HALTED;
    c->exit_reason = TCGL_EXIT_HALT;
    c->exit_request = 1;
}

/* ---- flags ------------------------------------------------------------------ */

/* CLI/STI (SDM tables 3-?): IOPL, or VIF with CR4.PVI at CPL 3 / CR4.VME in v86. */
static void set_if(TCGLCPU *c, bool on)
{
    X86CPUState *env = c->env;
    unsigned iopl = tcgl_iopl(c);
    uint64_t bit = RFL_IF;

    if (c->hflags & TCGL_HF_VM) {
        if (iopl < 3) {
            if (!(env->cr4 & CR4_VME) || (on && (env->rflags & RFL_VIP))) {
                tcgl_raise(c, EXCP_GP, 0);
            }
            bit = RFL_VIF;
        }
    } else if ((c->hflags & TCGL_HF_PE) && tcgl_cpl(c) > iopl) {
        if (tcgl_cpl(c) != 3 || !(env->cr4 & CR4_PVI) || (on && (env->rflags & RFL_VIP))) {
            tcgl_raise(c, EXCP_GP, 0);
        }
        bit = RFL_VIF;
    }
    if (on) {
        if (bit == RFL_IF && !(env->rflags & RFL_IF)) {
            env->events.interrupt_shadow = X86_SHADOW_STI;
            c->chain_break = true;
        }
        env->rflags |= bit;
    } else {
        env->rflags &= ~bit;
    }
}

void tcgl_op_cli(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_cli(TCGLCPU *c, const TCGLInsn *i)
{
    set_if(c, false);
}

void tcgl_op_sti(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_sti(TCGLCPU *c, const TCGLInsn *i)
{
    set_if(c, true);
}

void tcgl_op_pushf(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_pushf(TCGLCPU *c, const TCGLInsn *i)
{
    uint64_t fl = tcgl_get_rflags(c) & ~(uint64_t)(RFL_VM | RFL_RF);

    if ((c->hflags & TCGL_HF_VM) && tcgl_iopl(c) < 3) {
        tcgl_raise(c, EXCP_GP, 0);
    }
    tcgl_push(c, i->opsize, fl);
}

void tcgl_op_popf(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_popf(TCGLCPU *c, const TCGLInsn *i)
{
    uint64_t mask = TCGL_RFLAGS_ARITH | RFL_DF | RFL_TF | RFL_NT | RFL_AC | RFL_ID;
    uint64_t spm = tcgl_sp_mask(c), sp = c->env->regs[R_ESP], v;
    unsigned cpl = tcgl_cpl(c);

    if (c->hflags & TCGL_HF_VM) {
        if (tcgl_iopl(c) < 3) {
            tcgl_raise(c, EXCP_GP, 0);
        }
        mask |= RFL_IF;
    } else {
        if (cpl == 0) {
            mask |= RFL_IOPL;
        }
        if (cpl <= tcgl_iopl(c)) {
            mask |= RFL_IF;
        }
    }
    if (i->opsize == 2) {
        mask &= 0xffff;
    }
    v = tcgl_ld(c, R_SS, sp & spm, i->opsize);
    c->env->regs[R_ESP] = (sp & ~spm) | ((sp + i->opsize) & spm);
    tcgl_set_rflags(c, v, mask);
}

/* ---- port I/O ----------------------------------------------------------------- */

void tcgl_check_io(TCGLCPU *c, unsigned port, unsigned size)
{
    const SegmentCache *tr = &c->env->tr;
    uint32_t base, bits;

    if (!(c->hflags & TCGL_HF_PE) ||
        (!(c->hflags & TCGL_HF_VM) && tcgl_cpl(c) <= tcgl_iopl(c))) {
        return;
    }
    /* The I/O permission bitmap of a 32/64-bit TSS (SDM 18.5.2). */
    if (!tr->present || (tr->type & 7) != 3 || !(tr->type & 8) || tr->limit < 0x67) {
        tcgl_raise(c, EXCP_GP, 0);
    }
    base = tcgl_ld_lin(c, tcgl_sys_lin(c, tr->base + 0x66), 2, TCGL_ACC_SUPER);
    base += port >> 3;
    if (base + 1 > tr->limit) {
        tcgl_raise(c, EXCP_GP, 0);
    }
    bits = tcgl_ld_lin(c, tcgl_sys_lin(c, tr->base + base), 2, TCGL_ACC_SUPER);
    if ((bits >> (port & 7)) & ((1u << size) - 1)) {
        tcgl_raise(c, EXCP_GP, 0);
    }
}

uint64_t tcgl_io_read(TCGLCPU *c, unsigned port, unsigned size)
{
    uint64_t v = 0;
    bool locked = tcgl_bql_enter(c);

    vcpu_io_begin();
    address_space_ld(&address_space_io, port, &v, size);
    vcpu_io_end();
    tcgl_bql_leave(c, locked);
    return v & tcgl_size_mask(size);
}

void tcgl_io_write(TCGLCPU *c, unsigned port, unsigned size, uint64_t v)
{
    bool locked = tcgl_bql_enter(c);

    vcpu_io_begin();
    address_space_st(&address_space_io, port, v & tcgl_size_mask(size), size);
    vcpu_io_end();
    /* Port 0x92 or the i8042 may have moved A20. */
    tcgl_sync_a20(c);
    /* isa-debug-exit: nothing runs after the write (OUT ends its block, so
     * the loop sees the request before the next instruction), as on KVM. */
    if (qemu_system_exit_pending()) {
        c->exit_request = 1;
    }
    /* A reset (0xcf9, the i8042): this vCPU waits for it, as QEMU stops
     * the vCPU that asked; SeaBIOS would triple-fault right after. */
    if (qemu_system_reset_pending()) {
        cpu_park_until_reset(c->cpu);
        c->exit_request = 1;
    }
    tcgl_bql_leave(c, locked);
}

void tcgl_sync_a20(TCGLCPU *c)
{
    uint64_t m = x86_a20_enabled() ? ~0ULL : ~(1ULL << 20);

    if (m != c->a20_mask) {
        c->a20_mask = m;
        tcgl_tlb_flush(c);
    }
}

static unsigned io_size(const TCGLInsn *i)
{
    return (i->opc & 1) ? (i->opsize == 2 ? 2 : 4) : 1;
}

/* IN AL/eAX, imm8 (E4/E5) and DX (EC/ED) */
void tcgl_op_in(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_in(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned size = io_size(i);
    unsigned port = (i->opc & 8) ? (c->env->regs[R_EDX] & 0xffff) : (unsigned)(i->imm & 0xff);

    tcgl_check_io(c, port, size);
    tcgl_reg_set(c, R_EAX, size, tcgl_io_read(c, port, size));
}

/* OUT imm8 (E6/E7) and DX (EE/EF) */
void tcgl_op_out(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_out(TCGLCPU *c, const TCGLInsn *i)
{
    unsigned size = io_size(i);
    unsigned port = (i->opc & 8) ? (c->env->regs[R_EDX] & 0xffff) : (unsigned)(i->imm & 0xff);

    tcgl_check_io(c, port, size);
    tcgl_io_write(c, port, size, tcgl_reg_get(c, R_EAX, size));
}

/* Iterations of one REP INS/OUTS before the instruction is left to be
 * restarted (interrupts and the main loop get their turn). */
#define IO_REP_CHUNK 4096

/* INS (6C/6D), OUTS (6E/6F), REP or not.  TCGL_OPF_BRANCH: rip is ours. */
void tcgl_op_ins_outs(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_ins_outs(TCGLCPU *c, const TCGLInsn *i)
{
    X86CPUState *env = c->env;
    unsigned size = io_size(i), port = env->regs[R_EDX] & 0xffff;
    bool out = i->opc & 2, rep = i->pfx & (TCGL_PFX_REP | TCGL_PFX_REPNE);
    uint64_t am = tcgl_size_mask(i->adsize);
    int64_t step = (env->rflags & RFL_DF) ? -(int64_t)size : (int64_t)size;
    int ri = out ? R_ESI : R_EDI;
    uint64_t count = rep ? env->regs[R_ECX] & am : 1;
    uint64_t next = env->rip + i->len;

    if (!(c->hflags & TCGL_HF_CS64)) {
        next &= 0xffffffff;
    }
    tcgl_check_io(c, port, size);
    for (unsigned n = 0; count && n < IO_REP_CHUNK; n++) {
        uint64_t off = env->regs[ri] & am;
        if (out) {
            tcgl_io_write(c, port, size, tcgl_ld(c, i->seg, off, size));
        } else {
            tcgl_probe_write(c, R_ES, off, size);
            tcgl_st(c, R_ES, off, size, tcgl_io_read(c, port, size));
        }
        env->regs[ri] = (env->regs[ri] & ~am) | ((off + step) & am);
        if (am == 0xffffffff) {
            env->regs[ri] &= 0xffffffff;
        }
        count--;
        if (rep) {
            tcgl_reg_set(c, R_ECX, i->adsize, count);
        }
    }
    env->rip = count ? env->rip : next;
}

/* ---- MSRs ------------------------------------------------------------------------ */

enum {
    MSR_TSC = 0x10, MSR_PLATFORM_ID = 0x17, MSR_APIC_BASE = 0x1b, MSR_BIOS_SIGN_ID = 0x8b,
    MSR_MTRRCAP = 0xfe, MSR_SYSENTER_CS = 0x174, MSR_SYSENTER_ESP = 0x175,
    MSR_SYSENTER_EIP = 0x176, MSR_MCG_CAP = 0x179, MSR_MCG_STATUS = 0x17a,
    MSR_MCG_CTL = 0x17b, MSR_MISC_ENABLE = 0x1a0, MSR_MTRR_PHYSBASE0 = 0x200,
    MSR_MTRR_FIX64K = 0x250, MSR_MTRR_FIX16K_80000 = 0x258, MSR_MTRR_FIX16K_A0000 = 0x259,
    MSR_MTRR_FIX4K_C0000 = 0x268, MSR_PAT = 0x277, MSR_MTRR_DEF_TYPE = 0x2ff,
    MSR_MC0_CTL = 0x400, MSR_EFER = 0xc0000080, MSR_STAR = 0xc0000081,
    MSR_LSTAR = 0xc0000082, MSR_CSTAR = 0xc0000083, MSR_FMASK = 0xc0000084,
    MSR_FS_BASE = 0xc0000100, MSR_GS_BASE = 0xc0000101, MSR_KERNEL_GS_BASE = 0xc0000102,
    MSR_TSC_AUX = 0xc0000103, MSR_K7_HWCR = 0xc0010015, MSR_K8_SYSCFG = 0xc0010010,
    MSR_K8_INT_PENDING_MSG = 0xc0010055,
};

/* The fixed-range MTRR index of an MSR, or -1. */
static int mtrr_fixed_index(uint32_t msr)
{
    if (msr == MSR_MTRR_FIX64K) {
        return 0;
    }
    if (msr == MSR_MTRR_FIX16K_80000 || msr == MSR_MTRR_FIX16K_A0000) {
        return 1 + msr - MSR_MTRR_FIX16K_80000;
    }
    if (msr >= MSR_MTRR_FIX4K_C0000 && msr < MSR_MTRR_FIX4K_C0000 + 8) {
        return 3 + msr - MSR_MTRR_FIX4K_C0000;
    }
    return -1;
}

bool tcgl_msr_read(TCGLCPU *c, uint32_t msr, uint64_t *val)
{
    X86CPUState *env = c->env;
    DeviceState *apic = c->cpu ? c->cpu->apic : NULL;
    SysCPU *s = sys_cpu(c);
    int fx;

    switch (msr) {
    case MSR_TSC: *val = c->cpu ? cpu_get_tsc(c->cpu) : 0; return true;
    case MSR_PLATFORM_ID: *val = 0; return true;
    case MSR_APIC_BASE: *val = apic ? apic_get_base(apic) : env->apic_base; return true;
    case MSR_BIOS_SIGN_ID: *val = 0; return true;
    case MSR_MTRRCAP: *val = 0x508; return true;     /* 8 variable, fixed, WC */
    case MSR_SYSENTER_CS: *val = env->sysenter_cs; return true;
    case MSR_SYSENTER_ESP: *val = env->sysenter_esp; return true;
    case MSR_SYSENTER_EIP: *val = env->sysenter_eip; return true;
    case MSR_MCG_CAP: *val = MCG_CTL_P | MCE_BANKS; return true;
    case MSR_MCG_STATUS: *val = s->mcg_status; return true;
    case MSR_MCG_CTL: *val = s->mcg_ctl; return true;
    case MSR_MISC_ENABLE: *val = env->misc_enable; return true;
    case MSR_PAT: *val = env->pat; return true;
    case MSR_MTRR_DEF_TYPE: *val = env->mtrr_deftype; return true;
    case MSR_EFER: *val = env->efer; return true;
    case MSR_STAR: *val = env->star; return true;
    case MSR_LSTAR: *val = env->lstar; return true;
    case MSR_CSTAR: *val = env->cstar; return true;
    case MSR_FMASK: *val = env->fmask; return true;
    case MSR_FS_BASE: *val = env->segs[R_FS].base; return true;
    case MSR_GS_BASE: *val = env->segs[R_GS].base; return true;
    case MSR_KERNEL_GS_BASE: *val = env->kernel_gs_base; return true;
    case MSR_TSC_AUX: *val = env->tsc_aux; return true;
    case MSR_K7_HWCR: *val = 0; return true;
    case MSR_K8_SYSCFG: *val = 0; return true;     /* as KVM: no SME, no MTRR extensions */
    case MSR_K8_INT_PENDING_MSG: *val = 0; return true;    /* no C1E (read by Linux on AMD) */
    case MSR_IA32_TSC_DEADLINE:
        return apic && apic_msr_read(apic, msr, val);
    }
    if (msr >= MSR_MTRR_PHYSBASE0 && msr < MSR_MTRR_PHYSBASE0 + 2 * X86_MTRR_NB_VAR) {
        unsigned n = (msr - MSR_MTRR_PHYSBASE0) / 2;
        *val = (msr & 1) ? env->mtrr_var[n].mask : env->mtrr_var[n].base;
        return true;
    }
    if ((fx = mtrr_fixed_index(msr)) >= 0) {
        *val = env->mtrr_fixed[fx];
        return true;
    }
    if (msr >= MSR_MC0_CTL && msr < MSR_MC0_CTL + 4 * MCE_BANKS) {
        *val = s->mc[(msr - MSR_MC0_CTL) / 4][msr & 3];
        return true;
    }
    if (msr >= MSR_X2APIC_BASE && msr <= MSR_X2APIC_END) {
        return apic && apic_msr_read(apic, msr, val);
    }
    return false;
}

bool tcgl_msr_write(TCGLCPU *c, uint32_t msr, uint64_t val)
{
    X86CPUState *env = c->env;
    DeviceState *apic = c->cpu ? c->cpu->apic : NULL;
    SysCPU *s = sys_cpu(c);
    uint64_t pmask = ~0ULL << phys_bits(c);
    int fx;

    switch (msr) {
    case MSR_TSC:
        if (c->cpu) {
            cpu_set_tsc(c->cpu, val);
        }
        return true;
    case MSR_APIC_BASE:
        if (apic) {
            if (!apic_set_base(apic, val)) {
                return false;
            }
            env->apic_base = apic_get_base(apic);
        } else {
            env->apic_base = val;
        }
        return true;
    case MSR_BIOS_SIGN_ID:
    case MSR_K7_HWCR:
        return true;
    case MSR_SYSENTER_CS: env->sysenter_cs = val & 0xffff; return true;
    case MSR_SYSENTER_ESP:
    case MSR_SYSENTER_EIP:
        if (!tcgl_canonical(val)) {
            return false;
        }
        *(msr == MSR_SYSENTER_ESP ? &env->sysenter_esp : &env->sysenter_eip) = val;
        return true;
    case MSR_MCG_STATUS: s->mcg_status = val; return true;
    case MSR_MCG_CTL:
        if (val != 0 && val != ~0ULL) {
            return false;
        }
        s->mcg_ctl = val;
        return true;
    case MSR_MISC_ENABLE: env->misc_enable = val; return true;
    case MSR_PAT:
        for (int b = 0; b < 8; b++) {
            unsigned t = (val >> (8 * b)) & 0xff;
            if (t == 2 || t == 3 || t > 7) {
                return false;
            }
        }
        env->pat = val;
        return true;
    case MSR_MTRR_DEF_TYPE:
        if (val & ~0xcffULL) {
            return false;
        }
        env->mtrr_deftype = val;
        return true;
    case MSR_EFER: {
        uint64_t allowed = EFER_NXE;
        uint64_t old = env->efer;
        if (cpuid_has(c, 0x80000001, CPUID_EDX, 1u << 11)) {
            allowed |= EFER_SCE;
        }
        if (cpuid_has(c, 0x80000001, CPUID_EDX, 1u << 29)) {
            allowed |= EFER_LME;
        }
        if (!cpuid_has(c, 0x80000001, CPUID_EDX, 1u << 20)) {
            allowed &= ~(uint64_t)EFER_NXE;
        }
        if (val & ~(allowed | EFER_LMA)) {
            return false;
        }
        if ((env->cr0 & CR0_PG) && ((val ^ old) & EFER_LME)) {
            return false;       /* LME may not change while paging is on */
        }
        env->efer = (val & allowed) | (old & EFER_LMA);
        if ((old ^ env->efer) & EFER_NXE) {
            tcgl_tlb_flush(c);
        }
        tcgl_update_hflags(c);
        return true;
    }
    case MSR_STAR: env->star = val; return true;
    case MSR_LSTAR:
    case MSR_CSTAR:
    case MSR_KERNEL_GS_BASE:
    case MSR_FS_BASE:
    case MSR_GS_BASE:
        if (!tcgl_canonical(val)) {
            return false;
        }
        switch (msr) {
        case MSR_LSTAR: env->lstar = val; break;
        case MSR_CSTAR: env->cstar = val; break;
        case MSR_KERNEL_GS_BASE: env->kernel_gs_base = val; break;
        case MSR_FS_BASE: env->segs[R_FS].base = val; break;
        default: env->segs[R_GS].base = val; break;
        }
        tcgl_update_hflags(c);
        return true;
    case MSR_FMASK: env->fmask = (uint32_t)val; return true;
    case MSR_TSC_AUX:
        if (val >> 32) {
            return false;
        }
        env->tsc_aux = val;
        return true;
    case MSR_IA32_TSC_DEADLINE:
        return apic && apic_msr_write(apic, msr, val);
    }
    if (msr >= MSR_MTRR_PHYSBASE0 && msr < MSR_MTRR_PHYSBASE0 + 2 * X86_MTRR_NB_VAR) {
        unsigned n = (msr - MSR_MTRR_PHYSBASE0) / 2;
        if (msr & 1) {
            if ((val & pmask) || (val & 0x7ff)) {
                return false;
            }
            env->mtrr_var[n].mask = val;
        } else {
            unsigned t = val & 0xff;
            if ((val & pmask) || (val & 0xf00) || t == 2 || t == 3 || t > 6) {
                return false;
            }
            env->mtrr_var[n].base = val;
        }
        return true;
    }
    if ((fx = mtrr_fixed_index(msr)) >= 0) {
        env->mtrr_fixed[fx] = val;
        return true;
    }
    if (msr >= MSR_MC0_CTL && msr < MSR_MC0_CTL + 4 * MCE_BANKS) {
        unsigned b = (msr - MSR_MC0_CTL) / 4, r = msr & 3;
        /* MCi_CTL: all or nothing, except bits 10 and 0 (Linux clears bit
         * 10 of MC4_CTL on AMD, the GART erratum), as KVM allows */
        if (r == 0 && val != 0 && (val | (1ULL << 10) | 1) != ~0ULL) {
            return false;
        }
        if (r == 1 && val != 0) {
            return false;       /* MCi_STATUS: only 0 (as KVM without MCG_STATUS.MCIP games) */
        }
        s->mc[b][r] = val;
        return true;
    }
    if (msr >= MSR_X2APIC_BASE && msr <= MSR_X2APIC_END) {
        return apic && apic_msr_write(apic, msr, val);
    }
    return false;
}

void tcgl_op_rdmsr(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_rdmsr(TCGLCPU *c, const TCGLInsn *i)
{
    uint64_t v;
    bool locked = tcgl_bql_enter(c);        /* the LAPIC, the TSC, MTRRs */
    bool ok = tcgl_msr_read(c, (uint32_t)c->env->regs[R_ECX], &v);

    tcgl_bql_leave(c, locked);
    if (!ok) {
        qemu_log_mask(LOG_UNIMP, "tcg-lite: RDMSR 0x%x: #GP\n", (uint32_t)c->env->regs[R_ECX]);
        tcgl_raise(c, EXCP_GP, 0);
    }
    c->env->regs[R_EAX] = (uint32_t)v;
    c->env->regs[R_EDX] = v >> 32;
}

void tcgl_op_wrmsr(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_wrmsr(TCGLCPU *c, const TCGLInsn *i)
{
    uint64_t v = (uint32_t)c->env->regs[R_EAX] | (c->env->regs[R_EDX] << 32);
    bool locked = tcgl_bql_enter(c);
    bool ok = tcgl_msr_write(c, (uint32_t)c->env->regs[R_ECX], v);

    tcgl_bql_leave(c, locked);
    if (!ok) {
        qemu_log_mask(LOG_UNIMP, "tcg-lite: WRMSR 0x%x <- 0x%" PRIx64 ": #GP\n",
                      (uint32_t)c->env->regs[R_ECX], v);
        tcgl_raise(c, EXCP_GP, 0);
    }
}

/* ---- TSC -------------------------------------------------------------------------- */

static uint64_t read_tsc(TCGLCPU *c)
{
    if ((c->env->cr4 & CR4_TSD) && tcgl_cpl(c) != 0 && (c->hflags & TCGL_HF_PE)) {
        tcgl_raise(c, EXCP_GP, 0);
    }
    return c->cpu ? cpu_get_tsc(c->cpu) : 0;
}

void tcgl_op_rdtsc(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_rdtsc(TCGLCPU *c, const TCGLInsn *i)
{
    uint64_t t = read_tsc(c);

    c->env->regs[R_EAX] = (uint32_t)t;
    c->env->regs[R_EDX] = t >> 32;
}

void tcgl_op_rdtscp(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_rdtscp(TCGLCPU *c, const TCGLInsn *i)
{
    uint64_t t = read_tsc(c);

    c->env->regs[R_EAX] = (uint32_t)t;
    c->env->regs[R_EDX] = t >> 32;
    c->env->regs[R_ECX] = (uint32_t)c->env->tsc_aux;
}

/* RDPMC: no PMU is offered. */
void tcgl_op_rdpmc(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_rdpmc(TCGLCPU *c, const TCGLInsn *i)
{
    tcgl_raise(c, EXCP_GP, 0);
}

/* ---- fast system calls --------------------------------------------------------------- */

/* Flat segments SYSCALL/SYSRET/SYSENTER/SYSEXIT load (SDM: fixed values). */
static void flat_seg(SegmentCache *s, unsigned sel, bool code, bool l64, unsigned dpl)
{
    memset(s, 0, sizeof(*s));
    s->selector = sel;
    s->limit = 0xffffffff;
    s->type = code ? 0xb : 0x3;
    s->present = true;
    s->dpl_s = true;
    s->dpl = dpl;
    s->g = true;
    s->l = code && l64;
    s->db = !(code && l64);
}

static uint64_t next_rip(const TCGLCPU *c, const TCGLInsn *i)
{
    uint64_t n = c->env->rip + i->len;

    return (c->hflags & TCGL_HF_CS64) ? n : (uint32_t)n;
}

void tcgl_op_syscall(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_syscall(TCGLCPU *c, const TCGLInsn *i)
{
    X86CPUState *env = c->env;
    unsigned sel = (env->star >> 32) & 0xffff;
    uint64_t next = next_rip(c, i);

    if (!(env->efer & EFER_SCE)) {
        tcgl_raise(c, EXCP_UD, -1);
    }
    if (!(c->hflags & TCGL_HF_PE)) {
        tcgl_raise(c, EXCP_UD, -1);
    }
    env->regs[R_ECX] = next;
    if (c->hflags & TCGL_HF_LMA) {
        bool code64 = c->hflags & TCGL_HF_CS64;
        env->regs[R_R11] = tcgl_get_rflags(c) & ~(uint64_t)RFL_RF;
        flat_seg(&env->segs[R_CS], sel & 0xfffc, true, true, 0);
        flat_seg(&env->segs[R_SS], (sel + 8) & 0xfffc, false, false, 0);
        tcgl_set_rflags(c, 0, env->fmask | RFL_RF);
        env->rip = code64 ? env->lstar : env->cstar;
    } else {
        env->regs[R_ECX] = (uint32_t)next;
        flat_seg(&env->segs[R_CS], sel & 0xfffc, true, false, 0);
        flat_seg(&env->segs[R_SS], (sel + 8) & 0xfffc, false, false, 0);
        env->rflags &= ~(uint64_t)(RFL_IF | RFL_RF | RFL_VM);
        env->rip = (uint32_t)env->star;
    }
    tcgl_update_hflags(c);
}

void tcgl_op_sysret(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_sysret(TCGLCPU *c, const TCGLInsn *i)
{
    X86CPUState *env = c->env;
    unsigned sel = (env->star >> 48) & 0xffff;

    if (!(env->efer & EFER_SCE)) {
        tcgl_raise(c, EXCP_UD, -1);
    }
    if (!tcgl_pmode(c) || tcgl_cpl(c) != 0) {
        tcgl_raise(c, EXCP_GP, 0);
    }
    if (c->hflags & TCGL_HF_LMA) {
        if (i->opsize == 8) {
            if (!tcgl_canonical(env->regs[R_ECX])) {
                tcgl_raise(c, EXCP_GP, 0);
            }
            flat_seg(&env->segs[R_CS], ((sel + 16) & 0xfffc) | 3, true, true, 3);
            env->rip = env->regs[R_ECX];
        } else {
            flat_seg(&env->segs[R_CS], sel | 3, true, false, 3);
            env->rip = (uint32_t)env->regs[R_ECX];
        }
        flat_seg(&env->segs[R_SS], ((sel + 8) & 0xfffc) | 3, false, false, 3);
        tcgl_set_rflags(c, (uint32_t)env->regs[R_R11],
                        TCGL_RFLAGS_ARITH | RFL_DF | RFL_TF | RFL_AC | RFL_ID | RFL_IF |
                        RFL_IOPL | RFL_VM | RFL_RF | RFL_NT);
    } else {
        flat_seg(&env->segs[R_CS], sel | 3, true, false, 3);
        flat_seg(&env->segs[R_SS], ((sel + 8) & 0xfffc) | 3, false, false, 3);
        env->rip = (uint32_t)env->regs[R_ECX];
        env->rflags |= RFL_IF;
    }
    tcgl_update_hflags(c);
}

void tcgl_op_sysenter(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_sysenter(TCGLCPU *c, const TCGLInsn *i)
{
    X86CPUState *env = c->env;
    unsigned cs = env->sysenter_cs & 0xfffc;
    bool lma = c->hflags & TCGL_HF_LMA;

    if (!(c->hflags & TCGL_HF_PE) || cs == 0) {
        tcgl_raise(c, EXCP_GP, 0);
    }
    env->rflags &= ~(uint64_t)(RFL_VM | RFL_IF | RFL_RF);
    flat_seg(&env->segs[R_CS], cs, true, lma, 0);
    flat_seg(&env->segs[R_SS], cs + 8, false, false, 0);
    env->regs[R_ESP] = lma ? env->sysenter_esp : (uint32_t)env->sysenter_esp;
    env->rip = lma ? env->sysenter_eip : (uint32_t)env->sysenter_eip;
    tcgl_update_hflags(c);
}

void tcgl_op_sysexit(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_sysexit(TCGLCPU *c, const TCGLInsn *i)
{
    X86CPUState *env = c->env;
    unsigned cs = env->sysenter_cs & 0xfffc;

    if (!tcgl_pmode(c) || tcgl_cpl(c) != 0 || cs == 0) {
        tcgl_raise(c, EXCP_GP, 0);
    }
    if (i->opsize == 8) {
        flat_seg(&env->segs[R_CS], (cs + 32) | 3, true, true, 3);
        flat_seg(&env->segs[R_SS], (cs + 40) | 3, false, false, 3);
        env->regs[R_ESP] = env->regs[R_ECX];
        env->rip = env->regs[R_EDX];
    } else {
        flat_seg(&env->segs[R_CS], (cs + 16) | 3, true, false, 3);
        flat_seg(&env->segs[R_SS], (cs + 24) | 3, false, false, 3);
        env->regs[R_ESP] = (uint32_t)env->regs[R_ECX];
        env->rip = (uint32_t)env->regs[R_EDX];
    }
    tcgl_update_hflags(c);
}

void tcgl_op_swapgs(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_swapgs(TCGLCPU *c, const TCGLInsn *i)
{
    X86CPUState *env = c->env;
    uint64_t t;

    if (!(c->hflags & TCGL_HF_CS64)) {
        tcgl_raise(c, EXCP_UD, -1);
    }
    if (tcgl_cpl(c) != 0) {
        tcgl_raise(c, EXCP_GP, 0);
    }
    t = env->segs[R_GS].base;
    env->segs[R_GS].base = env->kernel_gs_base;
    env->kernel_gs_base = t;
    c->seg_base[R_GS] = env->segs[R_GS].base;
}

/* XGETBV/XSETBV: need CR4.OSXSAVE, which only an XSAVE-capable model can
 * set (not offered yet): #UD until then. */
void tcgl_op_xgetbv(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_xgetbv(TCGLCPU *c, const TCGLInsn *i)
{
    if (!(c->env->cr4 & CR4_OSXSAVE)) {
        tcgl_raise(c, EXCP_UD, -1);
    }
    if ((uint32_t)c->env->regs[R_ECX] != 0) {
        tcgl_raise(c, EXCP_GP, 0);
    }
    c->env->regs[R_EAX] = (uint32_t)c->env->xcr0;
    c->env->regs[R_EDX] = c->env->xcr0 >> 32;
}

void tcgl_op_xsetbv(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_xsetbv(TCGLCPU *c, const TCGLInsn *i)
{
    uint64_t v = (uint32_t)c->env->regs[R_EAX] | (c->env->regs[R_EDX] << 32);

    if (!(c->env->cr4 & CR4_OSXSAVE)) {
        tcgl_raise(c, EXCP_UD, -1);
    }
    if (tcgl_cpl(c) != 0 || (uint32_t)c->env->regs[R_ECX] != 0 || !(v & XSTATE_FP) ||
        (v & ~(XSTATE_FP | XSTATE_SSE))) {
        tcgl_raise(c, EXCP_GP, 0);
    }
    c->env->xcr0 = v;
}

/* ---- software interrupts ------------------------------------------------------------ */

void tcgl_op_int(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_int(TCGLCPU *c, const TCGLInsn *i)
{
    tcgl_raise_softint(c, i->imm & 0xff, next_rip(c, i), TCGL_EV_SOFTINT);
}

void tcgl_op_int3(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_int3(TCGLCPU *c, const TCGLInsn *i)
{
    tcgl_raise_softint(c, EXCP_BP, next_rip(c, i), TCGL_EV_TRAP);
}

void tcgl_op_int1(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_int1(TCGLCPU *c, const TCGLInsn *i)
{
    tcgl_raise_softint(c, EXCP_DB, next_rip(c, i), TCGL_EV_TRAP);
}

/* INTO: not a branch when OF is clear (the executor advances rip). */
void tcgl_op_into(TCGLCPU *c, const TCGLInsn *i);
void tcgl_op_into(TCGLCPU *c, const TCGLInsn *i)
{
    if (tcgl_get_rflags(c) & RFL_OF) {
        tcgl_raise_softint(c, EXCP_OF, next_rip(c, i), TCGL_EV_TRAP);
    }
}

/* ---- the opcode table ------------------------------------------------------------------ */

/* seg.c */
TCGLHandler tcgl_op_mov_sreg, tcgl_op_mov_from_sreg, tcgl_op_push_sreg, tcgl_op_pop_sreg,
    tcgl_op_lxs, tcgl_op_jmpf_ptr, tcgl_op_callf_ptr, tcgl_op_jmpf_mem, tcgl_op_callf_mem,
    tcgl_op_retf, tcgl_op_iret, tcgl_op_sxdt, tcgl_op_lxdt, tcgl_op_sldt_str, tcgl_op_lldt,
    tcgl_op_ltr, tcgl_op_lar_lsl, tcgl_op_verr_verw;

/* 0F 01 with mod = 3: the instruction is in ModRM.rm. */
static TCGLHandler *select_0f01_reg2(const TCGLInsn *i)
{
    switch (i->modrm & 7) {
    case 0: return tcgl_op_xgetbv;
    case 1: return tcgl_op_xsetbv;
    default: return NULL;
    }
}

static TCGLHandler *select_0f01_reg7(const TCGLInsn *i)
{
    switch (i->modrm & 7) {
    case 0: return tcgl_op_swapgs;
    case 1: return tcgl_op_rdtscp;
    default: return NULL;
    }
}

#define OP(o, r, m, f, h) { .opc = (o), .reg = (r), .pfx = TCGL_MP_ANY, .mod = (m), \
                            .flags = (f), .fn = (h) }
#define OPS(o, r, m, f, s) { .opc = (o), .reg = (r), .pfx = TCGL_MP_ANY, .mod = (m), \
                             .flags = (f), .select = (s) }
#define B1(x) TCGL_OPC(TCGL_MAP_1B, x)
#define F(x)  TCGL_OPC(TCGL_MAP_0F, x)
#define ANY   TCGL_MOD_ANY
#define MEM   TCGL_MOD_MEM
#define REG   TCGL_MOD_REG
#define BR    TCGL_OPF_BRANCH
#define END   TCGL_OPF_END
#define NO64  TCGL_OPF_NO64
#define PRIV  TCGL_OPF_PRIV

const TCGLOpDesc tcgl_ops_sys[] = {
    /* segment registers */
    OP(B1(0x06), -1, ANY, NO64, tcgl_op_push_sreg),
    OP(B1(0x07), -1, ANY, NO64, tcgl_op_pop_sreg),
    OP(B1(0x0e), -1, ANY, NO64, tcgl_op_push_sreg),
    OP(B1(0x16), -1, ANY, NO64, tcgl_op_push_sreg),
    OP(B1(0x17), -1, ANY, NO64 | END, tcgl_op_pop_sreg),
    OP(B1(0x1e), -1, ANY, NO64, tcgl_op_push_sreg),
    OP(B1(0x1f), -1, ANY, NO64, tcgl_op_pop_sreg),
    OP(F(0xa0), -1, ANY, 0, tcgl_op_push_sreg),
    OP(F(0xa1), -1, ANY, 0, tcgl_op_pop_sreg),
    OP(F(0xa8), -1, ANY, 0, tcgl_op_push_sreg),
    OP(F(0xa9), -1, ANY, 0, tcgl_op_pop_sreg),
    OP(B1(0x8c), -1, ANY, 0, tcgl_op_mov_from_sreg),
    OP(B1(0x8e), -1, ANY, END, tcgl_op_mov_sreg),
    OP(B1(0xc4), -1, MEM, NO64, tcgl_op_lxs),
    OP(B1(0xc5), -1, MEM, NO64, tcgl_op_lxs),
    OP(F(0xb2), -1, MEM, END, tcgl_op_lxs),
    OP(F(0xb4), -1, MEM, 0, tcgl_op_lxs),
    OP(F(0xb5), -1, MEM, 0, tcgl_op_lxs),
    /* far transfers */
    OP(B1(0x9a), -1, ANY, NO64 | BR, tcgl_op_callf_ptr),
    OP(B1(0xea), -1, ANY, NO64 | BR, tcgl_op_jmpf_ptr),
    OP(B1(0xff), 3, MEM, BR, tcgl_op_callf_mem),
    OP(B1(0xff), 5, MEM, BR, tcgl_op_jmpf_mem),
    OP(B1(0xca), -1, ANY, BR, tcgl_op_retf),
    OP(B1(0xcb), -1, ANY, BR, tcgl_op_retf),
    OP(B1(0xcf), -1, ANY, BR, tcgl_op_iret),
    /* interrupts */
    OP(B1(0xcc), -1, ANY, BR, tcgl_op_int3),
    OP(B1(0xcd), -1, ANY, BR, tcgl_op_int),
    OP(B1(0xce), -1, ANY, NO64, tcgl_op_into),
    OP(B1(0xf1), -1, ANY, BR, tcgl_op_int1),
    /* flags, HLT */
    OP(B1(0x9c), -1, ANY, 0, tcgl_op_pushf),
    OP(B1(0x9d), -1, ANY, END, tcgl_op_popf),
    OP(B1(0xfa), -1, ANY, END, tcgl_op_cli),
    OP(B1(0xfb), -1, ANY, END, tcgl_op_sti),
    OP(B1(0xf4), -1, ANY, BR | PRIV, tcgl_op_hlt),
    /* port I/O */
    OP(B1(0xe4), -1, ANY, 0, tcgl_op_in),
    OP(B1(0xe5), -1, ANY, 0, tcgl_op_in),
    OP(B1(0xec), -1, ANY, 0, tcgl_op_in),
    OP(B1(0xed), -1, ANY, 0, tcgl_op_in),
    OP(B1(0xe6), -1, ANY, END, tcgl_op_out),
    OP(B1(0xe7), -1, ANY, END, tcgl_op_out),
    OP(B1(0xee), -1, ANY, END, tcgl_op_out),
    OP(B1(0xef), -1, ANY, END, tcgl_op_out),
    OP(B1(0x6c), -1, ANY, BR, tcgl_op_ins_outs),
    OP(B1(0x6d), -1, ANY, BR, tcgl_op_ins_outs),
    OP(B1(0x6e), -1, ANY, BR, tcgl_op_ins_outs),
    OP(B1(0x6f), -1, ANY, BR, tcgl_op_ins_outs),
    /* descriptor tables */
    OP(F(0x00), 0, ANY, 0, tcgl_op_sldt_str),
    OP(F(0x00), 1, ANY, 0, tcgl_op_sldt_str),
    OP(F(0x00), 2, ANY, PRIV, tcgl_op_lldt),
    OP(F(0x00), 3, ANY, PRIV, tcgl_op_ltr),
    OP(F(0x00), 4, ANY, 0, tcgl_op_verr_verw),
    OP(F(0x00), 5, ANY, 0, tcgl_op_verr_verw),
    OP(F(0x01), 0, MEM, 0, tcgl_op_sxdt),
    OP(F(0x01), 1, MEM, 0, tcgl_op_sxdt),
    OP(F(0x01), 2, MEM, PRIV, tcgl_op_lxdt),
    OP(F(0x01), 3, MEM, PRIV, tcgl_op_lxdt),
    OP(F(0x01), 4, ANY, 0, tcgl_op_smsw),
    OP(F(0x01), 6, ANY, PRIV | END, tcgl_op_lmsw),
    OP(F(0x01), 7, MEM, PRIV, tcgl_op_invlpg),
    OPS(F(0x01), 2, REG, END, select_0f01_reg2),
    OPS(F(0x01), 7, REG, 0, select_0f01_reg7),
    OP(F(0x02), -1, ANY, 0, tcgl_op_lar_lsl),
    OP(F(0x03), -1, ANY, 0, tcgl_op_lar_lsl),
    /* fast system calls */
    OP(F(0x05), -1, ANY, BR, tcgl_op_syscall),
    OP(F(0x07), -1, ANY, BR, tcgl_op_sysret),
    OP(F(0x34), -1, ANY, BR, tcgl_op_sysenter),
    OP(F(0x35), -1, ANY, BR, tcgl_op_sysexit),
    /* control, debug, MSR, TSC, CPUID */
    OP(F(0x06), -1, ANY, PRIV | END, tcgl_op_clts),
    OP(F(0x08), -1, ANY, PRIV, tcgl_op_nop_priv),
    OP(F(0x09), -1, ANY, PRIV, tcgl_op_nop_priv),
    OP(F(0x20), -1, ANY, PRIV, tcgl_op_mov_from_cr),
    OP(F(0x22), -1, ANY, PRIV | END, tcgl_op_mov_to_cr),
    OP(F(0x21), -1, ANY, PRIV, tcgl_op_mov_from_dr),
    OP(F(0x23), -1, ANY, PRIV | END, tcgl_op_mov_to_dr),
    OP(F(0x30), -1, ANY, PRIV | END, tcgl_op_wrmsr),
    OP(F(0x31), -1, ANY, 0, tcgl_op_rdtsc),
    OP(F(0x32), -1, ANY, PRIV, tcgl_op_rdmsr),
    OP(F(0x33), -1, ANY, 0, tcgl_op_rdpmc),
    OP(F(0xa2), -1, ANY, 0, tcgl_op_cpuid),
    TCGL_OPDESC_END
};

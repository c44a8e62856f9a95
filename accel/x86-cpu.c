/* Accelerator-independent helpers for the X86CPUState layout. */
#include <string.h>
#include "accel/cpu.h"

static void seg_set(SegmentCache *s, uint16_t sel, uint64_t base, uint32_t limit, uint8_t type,
                    bool code_or_data, bool db, bool g)
{
    memset(s, 0, sizeof(*s));
    s->selector = sel;
    s->base = base;
    s->limit = limit;
    s->type = type;
    s->present = true;
    s->dpl_s = code_or_data;
    s->db = db;
    s->g = g;
}

static const char *const mp_state_names[CPU_MP__MAX] = {
    [CPU_MP_RUNNABLE] = "runnable",
    [CPU_MP_UNINITIALIZED] = "uninitialized",
    [CPU_MP_INIT_RECEIVED] = "init-received",
    [CPU_MP_HALTED] = "halted",
    [CPU_MP_SIPI_RECEIVED] = "sipi-received",
};

const char *x86_mp_state_name(X86MPState s)
{
    return (unsigned)s < CPU_MP__MAX ? mp_state_names[s] : "?";
}

/* LAPIC registers (SDM vol. 3, table 11-1), offsets in the register page. */
#define LAPIC_ID        0x020
#define LAPIC_VERSION   0x030
#define LAPIC_DFR       0x0e0
#define LAPIC_SVR       0x0f0
#define LAPIC_LVT_CMCI  0x2f0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_LVT_MASKED (1u << 16)
#define LAPIC_DM_EXTINT  (7u << 8)

uint32_t x86_lapic_reg(const X86CPUState *env, unsigned offset)
{
    uint32_t v;

    if (offset > X86_LAPIC_PAGE_SIZE - 4) {
        return 0;
    }
    memcpy(&v, env->lapic + offset, 4);
    return v;
}

void x86_lapic_set_reg(X86CPUState *env, unsigned offset, uint32_t val)
{
    if (offset <= X86_LAPIC_PAGE_SIZE - 4) {
        memcpy(env->lapic + offset, &val, 4);
    }
}

/* A LAPIC after RESET (SDM 11.4.7.1): ID from the hardware, DFR all ones,
 * SVR 0xff (software disabled), every LVT entry masked.  The version is
 * KVM's (0x14, six LVT entries); KVM recomputes it anyway. */
static void lapic_reset(X86CPUState *env, uint32_t apic_id, bool bsp)
{
    memset(env->lapic, 0, sizeof(env->lapic));
    x86_lapic_set_reg(env, LAPIC_ID, apic_id << 24);
    x86_lapic_set_reg(env, LAPIC_VERSION, 0x00050014);
    x86_lapic_set_reg(env, LAPIC_DFR, 0xffffffff);
    x86_lapic_set_reg(env, LAPIC_SVR, 0xff);
    x86_lapic_set_reg(env, LAPIC_LVT_CMCI, LAPIC_LVT_MASKED);
    for (unsigned off = LAPIC_LVT_TIMER; off <= LAPIC_LVT_ERROR; off += 0x10) {
        x86_lapic_set_reg(env, off, LAPIC_LVT_MASKED);
    }
    if (bsp) {
        /* Virtual-wire mode on the BSP, as firmware leaves it: LINT0 takes
         * the 8259's interrupts (ExtINT, unmasked), so a guest that never
         * enables its LAPIC still gets PIC interrupts. */
        x86_lapic_set_reg(env, LAPIC_LVT_LINT0, LAPIC_DM_EXTINT);
    }
}

void x86_cpu_reset_state(X86CPUState *env, uint32_t apic_id, bool bsp)
{
    uint64_t xstate_bv = XSTATE_FP | XSTATE_SSE;

    memset(env, 0, sizeof(*env));
    env->rip = 0xfff0;
    env->rflags = 0x2;
    env->regs[R_EDX] = 0x600;       /* family/model/stepping-ish */
    seg_set(&env->segs[R_CS], 0xf000, 0xffff0000, 0xffff, 0xb, true, false, false);
    for (int i = 0; i < R_NB_SEGS; i++) {
        if (i != R_CS) {
            seg_set(&env->segs[i], 0, 0, 0xffff, 0x3, true, false, false);
        }
    }
    seg_set(&env->ldt, 0, 0, 0xffff, 0x2, false, false, false);
    seg_set(&env->tr, 0, 0, 0xffff, 0xb, false, false, false);
    env->gdt.limit = 0xffff;
    env->idt.limit = 0xffff;
    env->cr0 = CR0_ET | 0x60000000;   /* CD | NW | ET */
    env->dr[6] = 0xffff0ff0;
    env->dr[7] = 0x400;
    env->xcr0 = XSTATE_FP;
    env->pat = 0x0007040600070406ULL;
    env->misc_enable = 1;           /* fast strings, as QEMU sets it */
    env->poll_control_msr = 1;      /* its architectural reset value */
    env->apic_base = 0xfee00000 | (1 << 11) | (bsp ? (1 << 8) : 0);
    /* FXSAVE image: FCW 0x37f, MXCSR 0x1f80; the XSAVE header marks x87
     * and SSE as given here rather than in their init state. */
    env->fxsave[0] = 0x7f;
    env->fxsave[1] = 0x03;
    env->fxsave[24] = 0x80;
    env->fxsave[25] = 0x1f;
    memcpy(env->xsave + X86_XSAVE_HDR_OFFSET, &xstate_bv, 8);
    env->mp_state = bsp ? CPU_MP_RUNNABLE : CPU_MP_UNINITIALIZED;
    lapic_reset(env, apic_id, bsp);
}

void x86_cpu_set_flat32(X86CPUState *env)
{
    seg_set(&env->segs[R_CS], 0x10, 0, 0xffffffff, 0xb, true, true, true);
    for (int i = 0; i < R_NB_SEGS; i++) {
        if (i != R_CS) {
            seg_set(&env->segs[i], 0x18, 0, 0xffffffff, 0x3, true, true, true);
        }
    }
    env->cr0 = (env->cr0 | CR0_PE | CR0_ET) & ~(0x60000000ULL | CR0_PG);
    env->rflags = 0x2;
}

void x86_cpu_set_long64(X86CPUState *env, uint64_t cr3, uint64_t gdt_base, uint16_t gdt_limit)
{
    x86_cpu_set_flat32(env);
    env->segs[R_CS].l = true;
    env->segs[R_CS].db = false;
    env->cr3 = cr3;
    env->cr4 |= CR4_PAE;
    env->efer |= EFER_LME | EFER_LMA;
    env->cr0 |= CR0_PG;
    env->gdt.base = gdt_base;
    env->gdt.limit = gdt_limit;
}

static void dump_seg(GString *out, const char *name, const SegmentCache *s)
{
    uint32_t flags = (s->type << 8) | (s->dpl_s << 12) | (s->dpl << 13) | (s->present << 15) |
                     (s->avl << 20) | (s->l << 21) | (s->db << 22) | (s->g << 23);
    g_string_append_printf(out, "%-3s=%04x %016" G_GINT64_MODIFIER "x %08x %08x\n", name,
                           s->selector, s->base, s->limit, flags);
}

static uint32_t get_le32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return v;
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
    return v;
}

/* FPU/SSE lines as QEMU prints them (FCW..MXCSR, then XMM high:low). */
static void dump_fpu(const X86CPUState *env, GString *out)
{
    const uint8_t *fx = env->fxsave;

    g_string_append_printf(out, "FCW=%04x FSW=%04x FTW=%02x MXCSR=%08x\n",
                           fx[0] | fx[1] << 8, fx[2] | fx[3] << 8, fx[4], get_le32(fx + 24));
    for (int i = 0; i < 16; i++) {
        const uint8_t *x = fx + 160 + i * 16;
        g_string_append_printf(out, "XMM%02d=%016" G_GINT64_MODIFIER "x%016" G_GINT64_MODIFIER
                               "x%s", i, get_le64(x + 8), get_le64(x), (i % 2) ? "\n" : " ");
    }
}

void x86_cpu_dump_state(const X86CPUState *env, GString *out)
{
    static const char *names[CPU_NB_REGS] = {
        "RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
        "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15",
    };
    static const int order[CPU_NB_REGS] = {
        R_EAX, R_EBX, R_ECX, R_EDX, R_ESI, R_EDI, R_EBP, R_ESP,
        R_R8, R_R9, R_R10, R_R11, R_R12, R_R13, R_R14, R_R15,
    };
    static const char *segn[R_NB_SEGS] = { "ES", "CS", "SS", "DS", "FS", "GS" };

    for (int i = 0; i < CPU_NB_REGS; i++) {
        g_string_append_printf(out, "%-3s=%016" G_GINT64_MODIFIER "x%s", names[order[i]],
                               env->regs[order[i]], (i % 4 == 3) ? "\n" : " ");
    }
    g_string_append_printf(out, "RIP=%016" G_GINT64_MODIFIER "x RFL=%08" G_GINT64_MODIFIER
                           "x [%c%c%c%c%c%c%c] HLT=%d\n", env->rip, env->rflags,
                           env->rflags & 0x800 ? 'O' : '-', env->rflags & 0x400 ? 'D' : '-',
                           env->rflags & 0x80 ? 'S' : '-', env->rflags & 0x40 ? 'Z' : '-',
                           env->rflags & 0x10 ? 'A' : '-', env->rflags & 0x4 ? 'P' : '-',
                           env->rflags & 0x1 ? 'C' : '-',
                           env->mp_state == CPU_MP_HALTED);
    for (int i = 0; i < R_NB_SEGS; i++) {
        dump_seg(out, segn[i], &env->segs[i]);
    }
    dump_seg(out, "LDT", &env->ldt);
    dump_seg(out, "TR", &env->tr);
    g_string_append_printf(out, "GDT=     %016" G_GINT64_MODIFIER "x %08x\n", env->gdt.base,
                           env->gdt.limit);
    g_string_append_printf(out, "IDT=     %016" G_GINT64_MODIFIER "x %08x\n", env->idt.base,
                           env->idt.limit);
    g_string_append_printf(out, "CR0=%08" G_GINT64_MODIFIER "x CR2=%016" G_GINT64_MODIFIER
                           "x CR3=%016" G_GINT64_MODIFIER "x CR4=%08" G_GINT64_MODIFIER "x\n",
                           env->cr0, env->cr2, env->cr3, env->cr4);
    g_string_append_printf(out, "DR0=%016" G_GINT64_MODIFIER "x DR1=%016" G_GINT64_MODIFIER
                           "x DR2=%016" G_GINT64_MODIFIER "x DR3=%016" G_GINT64_MODIFIER "x\n",
                           env->dr[0], env->dr[1], env->dr[2], env->dr[3]);
    g_string_append_printf(out, "DR6=%016" G_GINT64_MODIFIER "x DR7=%016" G_GINT64_MODIFIER
                           "x\n", env->dr[6], env->dr[7]);
    g_string_append_printf(out, "EFER=%016" G_GINT64_MODIFIER "x APICBASE=%016"
                           G_GINT64_MODIFIER "x XCR0=%016" G_GINT64_MODIFIER "x\n",
                           env->efer, env->apic_base, env->xcr0);
    dump_fpu(env, out);
    g_string_append_printf(out, "MP=%s\n", x86_mp_state_name(env->mp_state));
}

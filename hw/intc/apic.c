/*
 * Local APIC ("apic"): xAPIC and x2APIC, one per vCPU, for accelerators
 * without an in-kernel irqchip.  Intel SDM vol. 3, chapters 10 (APIC) and
 * 11; where QEMU's hw/intc/apic.c differs from the SDM we behave as QEMU
 * does (docs/lapic.md lists the cases).
 *
 * Register map: xAPIC MMIO offset = index << 4 in the 4 KiB page at
 * IA32_APIC_BASE; x2APIC MSR = 0x800 + index.
 *
 *   index  register                       xAPIC   x2APIC
 *   0x02   ID                             RW      RO (the x2APIC ID)
 *   0x03   version (LVR)                  RO      RO
 *   0x08   TPR  task priority             RW      RW
 *   0x09   APR  arbitration priority      RO (0)  -
 *   0x0a   PPR  processor priority        RO      RO
 *   0x0b   EOI                            WO      WO (write 0)
 *   0x0c   RRD  remote read               RO (0)  -
 *   0x0d   LDR  logical destination       RW      RO (from the ID)
 *   0x0e   DFR  destination format        RW      -
 *   0x0f   SVR  spurious vector           RW      RW
 *   0x10   ISR  in service (8 x 32 bits)  RO      RO
 *   0x18   TMR  trigger mode (8 x 32)     RO      RO
 *   0x20   IRR  interrupt request (8 x 32) RO     RO
 *   0x28   ESR  error status              RW      RW (write 0)
 *   0x2f   LVT CMCI                       RW      RW
 *   0x30   ICR  low (x2APIC: all 64 bits) RW      RW
 *   0x31   ICR  high (destination)        RW      -
 *   0x32   LVT timer                      RW      RW
 *   0x33   LVT thermal sensor             RW      RW
 *   0x34   LVT performance counter        RW      RW
 *   0x35   LVT LINT0                      RW      RW
 *   0x36   LVT LINT1                      RW      RW
 *   0x37   LVT error                      RW      RW
 *   0x38   timer initial count            RW      RW
 *   0x39   timer current count            RO      RO
 *   0x3e   timer divide configuration     RW      RW
 *   0x3f   SELF IPI                       -       WO
 *
 * "-": not decoded in that mode (MMIO: reads 0, sets ESR "illegal register
 * address"; MSR: #GP).
 */
#include <string.h>
#include <glib.h>

#include "hw/intc/apic.h"
#include "hw/i386/x86-irq.h"
#include "hw/memory.h"
#include "hw/qdev.h"
#include "hw/vmstate.h"
#include "qemu/log.h"
#include "system/main-loop.h"

#define APIC_REG_ID             0x02
#define APIC_REG_LVR            0x03
#define APIC_REG_TPR            0x08
#define APIC_REG_APR            0x09
#define APIC_REG_PPR            0x0a
#define APIC_REG_EOI            0x0b
#define APIC_REG_RRD            0x0c
#define APIC_REG_LDR            0x0d
#define APIC_REG_DFR            0x0e
#define APIC_REG_SVR            0x0f
#define APIC_REG_ISR            0x10
#define APIC_REG_TMR            0x18
#define APIC_REG_IRR            0x20
#define APIC_REG_ESR            0x28
#define APIC_REG_LVT_CMCI       0x2f
#define APIC_REG_ICR_LO         0x30
#define APIC_REG_ICR_HI         0x31
#define APIC_REG_LVT_TIMER      0x32
#define APIC_REG_LVT_ERROR      0x37
#define APIC_REG_TMICT          0x38
#define APIC_REG_TMCCT          0x39
#define APIC_REG_TDCR           0x3e
#define APIC_REG_SELF_IPI       0x3f

/* LVT entries, in register order from 0x32, then CMCI. */
enum {
    APIC_LVT_TIMER,
    APIC_LVT_THERMAL,
    APIC_LVT_PERF,
    APIC_LVT_LINT0,
    APIC_LVT_LINT1,
    APIC_LVT_ERROR,
    APIC_LVT_CMCI,
    APIC_LVT_NB
};

#define APIC_LVT_VECTOR         0x000ff
#define APIC_LVT_DM_SHIFT       8
#define APIC_LVT_DELIV_STS      (1u << 12)
#define APIC_LVT_POLARITY       (1u << 13)
#define APIC_LVT_REMOTE_IRR     (1u << 14)
#define APIC_LVT_LEVEL          (1u << 15)
#define APIC_LVT_MASKED         (1u << 16)
#define APIC_LVT_TIMER_SHIFT    17
#define APIC_LVT_LINT0_EXTINT   (APIC_DM_EXTINT << APIC_LVT_DM_SHIFT)   /* 0x700 */

/* LVT timer mode, bits 18:17 */
enum { APIC_TIMER_ONESHOT, APIC_TIMER_PERIODIC, APIC_TIMER_TSC_DEADLINE };

/* SVR */
#define APIC_SVR_VECTOR         0x0ff
#define APIC_SVR_ENABLE         (1u << 8)
#define APIC_SVR_FOCUS_DISABLE  (1u << 9)
#define APIC_SVR_SUPPRESS_EOI   (1u << 12)
#define APIC_SVR_WRITABLE       (APIC_SVR_VECTOR | APIC_SVR_ENABLE | APIC_SVR_FOCUS_DISABLE | \
                                 APIC_SVR_SUPPRESS_EOI)

/* ESR */
#define APIC_ESR_SEND_ILLEGAL_VECTOR    (1u << 5)
#define APIC_ESR_RECV_ILLEGAL_VECTOR    (1u << 6)
#define APIC_ESR_ILLEGAL_ADDRESS        (1u << 7)

/* ICR low */
#define APIC_ICR_VECTOR         0x000ff
#define APIC_ICR_DM_SHIFT       8
#define APIC_ICR_DEST_LOGICAL   (1u << 11)
#define APIC_ICR_DELIV_STS      (1u << 12)
#define APIC_ICR_LEVEL_ASSERT   (1u << 14)
#define APIC_ICR_TRIGGER_LEVEL  (1u << 15)
#define APIC_ICR_SHORTHAND_SHIFT 18
#define APIC_ICR_LO_WRITABLE    0x000ccfffu
enum { APIC_SH_NONE, APIC_SH_SELF, APIC_SH_ALL, APIC_SH_OTHERS };

/* DFR models (bits 31:28) */
#define APIC_DFR_FLAT           0xfu
#define APIC_DFR_CLUSTER        0x0u

#define APIC_ID_FROM_CPU        0xffffffffu

typedef struct APICState {
    DeviceState parent;
    /* properties */
    uint32_t cpu_index;
    uint32_t initial_id;        /* APIC ID; APIC_ID_FROM_CPU: the CPU's apic_id */
    bool x2apic;                /* x2APIC mode may be enabled */
    uint64_t tsc_hz;
    CPUState *cpu;

    uint64_t apicbase;          /* IA32_APIC_BASE */
    uint32_t id;                /* xAPIC ID (bits 31:24 of the register) */
    uint8_t tpr;
    uint32_t ldr;               /* register value (xAPIC: bits 31:24) */
    uint32_t dfr;
    uint32_t svr;
    uint32_t isr[8], tmr[8], irr[8];
    uint32_t esr;               /* what a read returns */
    uint32_t esr_pending;       /* errors since the last ESR write */
    uint32_t lvt[APIC_LVT_NB];
    uint32_t icr[2];
    uint32_t initial_count;
    uint32_t divide_conf;
    int64_t count_load_ns;      /* virtual time the initial count was written */
    uint64_t tsc_deadline;
    int64_t tsc_offset;
    bool extint_pending;        /* an ExtINT message awaits INTA */
    QEMUTimer *timer;
    int64_t timer_next_ns;      /* when the timer fires next, or -1 */
} APICState;

#define APIC(dev) ((APICState *)(dev))

/* Every LAPIC, in CPU index order, and the PIC's INTR level. */
static struct {
    GPtrArray *all;
    int pic_level;
    bool bus_ready;
    MemoryRegion mmio;
} apics;

/*
 * The one place a LAPIC is touched without the BQL: its own vCPU's EOI
 * when that vCPU runs guest code without the lock (tcg-lite with one
 * vCPU, apic_write_unlocked).  This lock serialises it against the threads
 * that, holding the BQL, change a LAPIC from outside: deliveries (IOAPIC,
 * MSIs, IPIs), the PIC's INTR, NMIs.  Everything else here runs under the
 * BQL alone: a vCPU's own register accesses, acknowledgements and timer
 * run in its thread, never beside its own EOI.  A leaf lock: nothing
 * under it takes another (cpu_interrupt only sets bits and kicks).
 */
static GMutex apic_state_lock;

static void apic_update_irq(APICState *s);
static bool apic_mmio_decoded(APICState *s);
static void apic_timer_update(APICState *s, int64_t now);
static void apic_send_ipi(APICState *s);

/* ---- bit arrays (IRR, ISR, TMR) ------------------------------------------ */

static void bit_set(uint32_t *tab, int n)
{
    tab[n >> 5] |= 1u << (n & 31);
}

static void bit_clear(uint32_t *tab, int n)
{
    tab[n >> 5] &= ~(1u << (n & 31));
}

static bool bit_test(const uint32_t *tab, int n)
{
    return tab[n >> 5] & (1u << (n & 31));
}

/* Highest set bit, or -1. */
static int bit_highest(const uint32_t *tab)
{
    for (int i = 7; i >= 0; i--) {
        if (tab[i]) {
            return i * 32 + 31 - __builtin_clz(tab[i]);
        }
    }
    return -1;
}

/* ---- state queries -------------------------------------------------------- */

static bool apic_hw_enabled(APICState *s)
{
    return s->apicbase & MSR_IA32_APICBASE_ENABLE;
}

static bool apic_x2apic_mode(APICState *s)
{
    return s->apicbase & MSR_IA32_APICBASE_EXTD;
}

static bool apic_sw_enabled(APICState *s)
{
    return s->svr & APIC_SVR_ENABLE;
}

static bool apic_is_bsp(APICState *s)
{
    return s->apicbase & MSR_IA32_APICBASE_BSP;
}

static uint8_t apic_ppr(APICState *s)
{
    int isrv = bit_highest(s->isr);

    if (isrv < 0 || (s->tpr >> 4) >= (isrv >> 4)) {
        return s->tpr;
    }
    return isrv & 0xf0;
}

/* The logical x2APIC ID (SDM 10.12.10.2): cluster ID[19:4], bit ID[3:0]. */
static uint32_t apic_x2apic_ldr(uint32_t id)
{
    return ((id >> 4) << 16) | (1u << (id & 0xf));
}

/* Does LINT0 take the 8259's INTR?  As QEMU's apic_accept_pic_intr, on the
 * BSP only: while the LAPIC is hardware-disabled (the PIC then drives the
 * CPU directly) or while LINT0 is unmasked. */
static bool apic_accepts_pic(APICState *s)
{
    return apic_is_bsp(s) &&
           (!apic_hw_enabled(s) || !(s->lvt[APIC_LVT_LINT0] & APIC_LVT_MASKED));
}

/* An ExtINT is waiting for INTA: the PIC through LINT0 (or straight, the
 * LAPIC hardware-disabled), or an ExtINT message on the APIC bus. */
static bool apic_extint_active(APICState *s)
{
    uint32_t lint0 = s->lvt[APIC_LVT_LINT0];

    if (s->extint_pending) {
        return true;
    }
    if (!apics.pic_level || !apic_accepts_pic(s)) {
        return false;
    }
    return !apic_hw_enabled(s) ||
           ((lint0 >> APIC_LVT_DM_SHIFT) & 7) == APIC_DM_EXTINT;
}

/* The highest IRR vector above the PPR's priority class, or -1. */
static int apic_irr_deliverable(APICState *s)
{
    int irrv;

    if (!apic_hw_enabled(s) || !apic_sw_enabled(s)) {
        return -1;
    }
    irrv = bit_highest(s->irr);
    if (irrv < 0 || (irrv >> 4) <= (apic_ppr(s) >> 4)) {
        return -1;
    }
    return irrv;
}

/* CPU_INTERRUPT_HARD is kept equal to "an interrupt is deliverable". */
static void apic_update_irq(APICState *s)
{
    CPUState *cpu = s->cpu;
    bool pending = apic_extint_active(s) || apic_irr_deliverable(s) >= 0;

    if (pending) {
        if (!cpu_interrupt_pending(cpu, CPU_INTERRUPT_HARD)) {
            cpu_interrupt(cpu, CPU_INTERRUPT_HARD);
        }
    } else {
        cpu_reset_interrupt(cpu, CPU_INTERRUPT_HARD);
    }
}

/* ---- errors ------------------------------------------------------------- */

static void apic_local_deliver(APICState *s, int lvt);

static void apic_error(APICState *s, uint32_t bits)
{
    uint32_t lvt = s->lvt[APIC_LVT_ERROR];

    s->esr_pending |= bits;
    if (!(lvt & APIC_LVT_MASKED) && (lvt & APIC_LVT_VECTOR) < 16) {
        /* the error interrupt's own vector is illegal: record it, and do
         * not raise an error about the error */
        s->esr_pending |= APIC_ESR_RECV_ILLEGAL_VECTOR;
        return;
    }
    apic_local_deliver(s, APIC_LVT_ERROR);
}

/* ---- accepting interrupts ---------------------------------------------- */

static void apic_set_irq(APICState *s, int vector, bool level)
{
    if (vector < 16) {
        /* vectors 0-15 are reserved (SDM 10.5.2) */
        apic_error(s, APIC_ESR_RECV_ILLEGAL_VECTOR);
        return;
    }
    bit_set(s->irr, vector);
    if (level) {
        bit_set(s->tmr, vector);
    } else {
        bit_clear(s->tmr, vector);
    }
    apic_update_irq(s);
}

/* An interrupt from one of the local sources (LVT entry lvt). */
static void apic_local_deliver(APICState *s, int lvt)
{
    uint32_t v = s->lvt[lvt];
    bool level;

    if (v & APIC_LVT_MASKED) {
        return;
    }
    switch ((v >> APIC_LVT_DM_SHIFT) & 7) {
    case APIC_DM_SMI:
        cpu_interrupt(s->cpu, CPU_INTERRUPT_SMI);
        break;
    case APIC_DM_NMI:
        cpu_interrupt(s->cpu, CPU_INTERRUPT_NMI);
        break;
    case APIC_DM_EXTINT:
        apic_update_irq(s);
        break;
    case APIC_DM_FIXED:
        level = (lvt == APIC_LVT_LINT0 || lvt == APIC_LVT_LINT1) && (v & APIC_LVT_LEVEL);
        apic_set_irq(s, v & APIC_LVT_VECTOR, level);
        break;
    default:
        break;
    }
}

void apic_init_reset(DeviceState *dev)
{
    APICState *s = APIC(dev);

    s->tpr = 0;
    s->ldr = apic_x2apic_mode(s) ? apic_x2apic_ldr(s->initial_id) : 0;
    s->dfr = 0xffffffff;
    s->svr = 0xff;
    memset(s->isr, 0, sizeof(s->isr));
    memset(s->tmr, 0, sizeof(s->tmr));
    memset(s->irr, 0, sizeof(s->irr));
    s->esr = s->esr_pending = 0;
    for (int i = 0; i < APIC_LVT_NB; i++) {
        s->lvt[i] = APIC_LVT_MASKED;
    }
    s->icr[0] = s->icr[1] = 0;
    s->initial_count = 0;
    s->divide_conf = 0;
    s->count_load_ns = 0;
    s->tsc_deadline = 0;
    s->extint_pending = false;
    s->timer_next_ns = -1;
    timer_del(s->timer);
    apic_update_irq(s);
}

static void apic_deliver_one(APICState *d, const APICMessage *m)
{
    switch (m->delivery_mode) {
    case APIC_DM_FIXED:
    case APIC_DM_LOWPRI:
        apic_set_irq(d, m->vector, m->level);
        break;
    case APIC_DM_SMI:
        cpu_interrupt(d->cpu, CPU_INTERRUPT_SMI);
        break;
    case APIC_DM_NMI:
        cpu_interrupt(d->cpu, CPU_INTERRUPT_NMI);
        break;
    case APIC_DM_INIT:
        /* A level de-assert INIT does nothing on P4 and later (SDM 10.6.1). */
        if (m->assert_) {
            apic_init_reset(DEVICE(d));
            cpu_interrupt(d->cpu, CPU_INTERRUPT_INIT);
        }
        break;
    case APIC_DM_SIPI:
        d->cpu->sipi_vector = m->vector;
        cpu_interrupt(d->cpu, CPU_INTERRUPT_SIPI);
        break;
    case APIC_DM_EXTINT:
        d->extint_pending = true;
        apic_update_irq(d);
        break;
    default:
        break;          /* 3 is reserved: dropped */
    }
}

/* ---- destinations ------------------------------------------------------ */

/*
 * Does LAPIC s accept a message for dest (SDM 10.6.2), as QEMU decides it:
 * physical: the APIC ID (the x2APIC ID in x2APIC mode), 0xffffffff for
 * everyone, 0xff for every LAPIC in xAPIC mode; logical: an x2APIC-mode
 * LAPIC matches cluster dest[31:16] and bitmap dest[15:0] (0xffffffff is
 * everyone); an xAPIC one uses dest[7:0] against its LDR, flat (bitwise
 * AND) or cluster (cluster nibble equal or 0xf, bitmap nibble AND).
 */
static bool apic_match_dest(APICState *s, uint32_t dest, bool logical)
{
    uint8_t mda = dest & 0xff, lid = s->ldr >> 24;

    if (!logical) {
        if (dest == 0xffffffff) {
            return true;
        }
        if (apic_x2apic_mode(s)) {
            return dest == s->initial_id;
        }
        return dest == 0xff || dest == s->id;
    }
    if (apic_x2apic_mode(s)) {
        return dest == 0xffffffff ||
               ((dest >> 16) == (s->ldr >> 16) && (dest & s->ldr & 0xffff));
    }
    if ((s->dfr >> 28) == APIC_DFR_FLAT) {
        return mda & lid;
    }
    if ((s->dfr >> 28) == APIC_DFR_CLUSTER) {
        return ((mda & 0xf0) == 0xf0 || (mda & 0xf0) == (lid & 0xf0)) && (mda & lid & 0x0f);
    }
    return false;       /* other DFR models are reserved */
}

typedef enum { DEST_MATCH, DEST_SELF, DEST_ALL, DEST_OTHERS } DestKind;

/* Delivers m to the LAPICs it selects.  Lowest priority goes, as in QEMU,
 * to the first LAPIC (in CPU order) of the destination set: no
 * arbitration on priorities. */
static void apic_deliver_msg(const APICMessage *m, DestKind kind, APICState *src)
{
    for (guint i = 0; apics.all && i < apics.all->len; i++) {
        APICState *d = g_ptr_array_index(apics.all, i);
        bool hit;

        switch (kind) {
        case DEST_SELF:
            hit = d == src;
            break;
        case DEST_ALL:
            hit = true;
            break;
        case DEST_OTHERS:
            hit = d != src;
            break;
        default:
            hit = apic_match_dest(d, m->dest, m->dest_logical);
            break;
        }
        if (!hit) {
            continue;
        }
        apic_deliver_one(d, m);
        if (m->delivery_mode == APIC_DM_LOWPRI) {
            return;
        }
    }
}

/* The APIC bus backend: IOAPIC redirections and MSIs. */
static void apic_bus_backend_deliver(const APICMessage *msg)
{
    g_mutex_lock(&apic_state_lock);
    apic_deliver_msg(msg, DEST_MATCH, NULL);
    g_mutex_unlock(&apic_state_lock);
}

/* ---- the CPU side --------------------------------------------------------- */

static int apic_get_interrupt(APICState *s)
{
    int v;

    if (apic_extint_active(s)) {
        /* ExtINT ignores the priorities: the PIC supplies the vector. */
        s->extint_pending = false;
        v = x86_pic_read_irq();
        apic_update_irq(s);
        return v;
    }
    if (!apic_hw_enabled(s)) {
        apic_update_irq(s);
        return -1;
    }
    v = apic_irr_deliverable(s);
    if (v < 0) {
        /* software-disabled, or masked by the TPR since INTR was raised */
        apic_update_irq(s);
        return s->svr & APIC_SVR_VECTOR;
    }
    bit_clear(s->irr, v);
    bit_set(s->isr, v);
    apic_update_irq(s);
    return v;
}

static int apic_bus_backend_get_interrupt(CPUState *cpu)
{
    int v;

    if (cpu->apic) {
        return apic_get_interrupt(APIC(cpu->apic));
    }
    /* A CPU without a LAPIC: only CPU 0, straight from the PIC. */
    cpu_reset_interrupt(cpu, CPU_INTERRUPT_HARD);
    if (cpu->index != 0) {
        return -1;
    }
    v = x86_pic_read_irq();
    if (apics.pic_level) {
        cpu_interrupt(cpu, CPU_INTERRUPT_HARD);
    }
    return v;
}

/* The PIC's INTR output changed: the BSP's LINT0 (QEMU's
 * apic_deliver_pic_intr). */
static bool apic_bus_backend_pic_intr(int level)
{
    g_mutex_lock(&apic_state_lock);
    apics.pic_level = level;
    for (guint i = 0; apics.all && i < apics.all->len; i++) {
        APICState *s = g_ptr_array_index(apics.all, i);
        uint32_t lint0 = s->lvt[APIC_LVT_LINT0];

        if (!apic_accepts_pic(s)) {
            continue;
        }
        if (!apic_hw_enabled(s)) {
            apic_update_irq(s);
        } else if (level) {
            apic_local_deliver(s, APIC_LVT_LINT0);
        } else if (((lint0 >> APIC_LVT_DM_SHIFT) & 7) == APIC_DM_FIXED &&
                   (lint0 & APIC_LVT_LEVEL)) {
            bit_clear(s->irr, lint0 & APIC_LVT_VECTOR);
            apic_update_irq(s);
        } else {
            apic_update_irq(s);
        }
    }
    g_mutex_unlock(&apic_state_lock);
    /* No LAPIC at all: let x86-irq.c drive CPU 0 directly. */
    return apics.all && apics.all->len;
}

static const APICBusBackend apic_bus_backend = {
    .deliver = apic_bus_backend_deliver,
    .get_interrupt = apic_bus_backend_get_interrupt,
    .pic_intr = apic_bus_backend_pic_intr,
};

void apic_deliver_nmi(DeviceState *dev)
{
    g_mutex_lock(&apic_state_lock);
    apic_local_deliver(APIC(dev), APIC_LVT_LINT1);
    g_mutex_unlock(&apic_state_lock);
}

/* The monitor's NMI (inject-nmi, HMP nmi), as QEMU's PC machine sends it:
 * through LINT1 to a LAPIC that is enabled in hardware and software, else
 * straight to the CPU (a guest that never enabled its LAPIC still gets
 * it). */
void apic_external_nmi(CPUState *cpu)
{
    if (cpu->apic && apic_hw_enabled(APIC(cpu->apic)) &&
        (APIC(cpu->apic)->svr & APIC_SVR_ENABLE)) {
        apic_deliver_nmi(cpu->apic);
    } else {
        cpu_interrupt(cpu, CPU_INTERRUPT_NMI);
    }
}

int apic_get_highest_irr(DeviceState *dev)
{
    return bit_highest(APIC(dev)->irr);
}

/* ---- EOI, TPR, IPIs --------------------------------------------------------- */

static void apic_eoi(APICState *s)
{
    int v = bit_highest(s->isr);

    if (v < 0) {
        return;
    }
    bit_clear(s->isr, v);
    if (bit_test(s->tmr, v) && !(s->svr & APIC_SVR_SUPPRESS_EOI)) {
        apic_bus_eoi_broadcast(v);
    }
    apic_update_irq(s);
}

/* A write by the LAPIC's own vCPU, without the BQL (see apic_state_lock),
 * at guest-physical addr: done here if it is a 4-byte write to the xAPIC
 * EOI register that needs nothing else, that is unless the vector it ends
 * is level-triggered (the IOAPIC must hear of it).  Otherwise false, and
 * the caller writes it the usual way, under the BQL. */
bool apic_write_unlocked(DeviceState *dev, uint64_t addr, unsigned size)
{
    APICState *s = APIC(dev);
    bool done = false;
    int v;

    if (size != 4 || (addr & ~0xfull) != APIC_DEFAULT_ADDRESS + (APIC_REG_EOI << 4)) {
        return false;
    }
    g_mutex_lock(&apic_state_lock);
    if (apic_mmio_decoded(s)) {
        v = bit_highest(s->isr);
        if (v < 0 || !bit_test(s->tmr, v) || (s->svr & APIC_SVR_SUPPRESS_EOI)) {
            apic_eoi(s);        /* no broadcast: edge, suppressed, or nothing in service */
            done = true;
        }
    }
    g_mutex_unlock(&apic_state_lock);
    return done;
}

void apic_set_tpr(DeviceState *dev, uint8_t cr8)
{
    APICState *s = APIC(dev);

    s->tpr = (cr8 & 0xf) << 4;
    apic_update_irq(s);
}

uint8_t apic_get_tpr(DeviceState *dev)
{
    return APIC(dev)->tpr >> 4;
}

/* An ICR write: send the IPI it describes.  Delivery is immediate, so the
 * delivery status bit always reads idle. */
static void apic_send_ipi(APICState *s)
{
    uint32_t lo = s->icr[0];
    APICMessage m = {
        .dest = apic_x2apic_mode(s) ? s->icr[1] : s->icr[1] >> 24,
        .dest_logical = lo & APIC_ICR_DEST_LOGICAL,
        .delivery_mode = (lo >> APIC_ICR_DM_SHIFT) & 7,
        .vector = lo & APIC_ICR_VECTOR,
        .level = lo & APIC_ICR_TRIGGER_LEVEL,
        .assert_ = true,
    };
    static const DestKind kinds[4] = { DEST_MATCH, DEST_SELF, DEST_ALL, DEST_OTHERS };

    s->icr[0] &= ~APIC_ICR_DELIV_STS;
    switch (m.delivery_mode) {
    case APIC_DM_FIXED:
    case APIC_DM_LOWPRI:
        if (m.vector < 16) {
            apic_error(s, APIC_ESR_SEND_ILLEGAL_VECTOR);
            return;
        }
        break;
    case APIC_DM_INIT:
        /* level-triggered with the level bit clear: INIT level de-assert */
        m.assert_ = !(m.level && !(lo & APIC_ICR_LEVEL_ASSERT));
        break;
    default:
        break;
    }
    g_mutex_lock(&apic_state_lock);
    apic_deliver_msg(&m, kinds[(lo >> APIC_ICR_SHORTHAND_SHIFT) & 3], s);
    g_mutex_unlock(&apic_state_lock);
}

/* ---- the timer ------------------------------------------------------------- */

static int apic_timer_mode(APICState *s)
{
    int mode = (s->lvt[APIC_LVT_TIMER] >> APIC_LVT_TIMER_SHIFT) & 3;

    return mode == 3 ? APIC_TIMER_ONESHOT : mode;     /* 3 is reserved */
}

/* Divide configuration bits 3,1:0 -> log2 of the divisor: 000 = 2 ...
 * 110 = 128, 111 = 1 (SDM figure 10-10). */
static int apic_count_shift(APICState *s)
{
    uint32_t v = (s->divide_conf & 3) | ((s->divide_conf >> 1) & 4);

    return (v + 1) & 7;
}

static uint64_t apic_ticks_since_load(APICState *s, int64_t now)
{
    if (now <= s->count_load_ns) {
        return 0;
    }
    return ((uint64_t)(now - s->count_load_ns) / APIC_BUS_CYCLE_NS) >> apic_count_shift(s);
}

/* The current count, as QEMU: a period is initial count + 1 ticks. */
static uint32_t apic_current_count(APICState *s, int64_t now)
{
    uint64_t d;

    if (apic_timer_mode(s) == APIC_TIMER_TSC_DEADLINE || !s->initial_count) {
        return 0;
    }
    d = apic_ticks_since_load(s, now);
    if (apic_timer_mode(s) == APIC_TIMER_PERIODIC) {
        return s->initial_count - d % ((uint64_t)s->initial_count + 1);
    }
    return d >= s->initial_count ? 0 : s->initial_count - d;
}

static int64_t apic_ticks_to_ns(APICState *s, uint64_t ticks)
{
    return (int64_t)((ticks << apic_count_shift(s)) * APIC_BUS_CYCLE_NS);
}

/* The virtual time at which the TSC reaches tsc (rounded up). */
static int64_t apic_tsc_to_ns(APICState *s, uint64_t tsc)
{
    unsigned __int128 delta;

    if ((int64_t)(tsc - s->tsc_offset) <= 0) {
        return 0;
    }
    delta = (unsigned __int128)(tsc - s->tsc_offset) * NANOSECONDS_PER_SECOND;
    delta = (delta + s->tsc_hz - 1) / s->tsc_hz;
    return delta > INT64_MAX ? INT64_MAX : (int64_t)delta;
}

/* When the timer fires next after now, or -1. */
static int64_t apic_timer_next(APICState *s, int64_t now)
{
    uint64_t d, period = (uint64_t)s->initial_count + 1;

    switch (apic_timer_mode(s)) {
    case APIC_TIMER_TSC_DEADLINE:
        return s->tsc_deadline ? MAX(apic_tsc_to_ns(s, s->tsc_deadline), now) : -1;
    case APIC_TIMER_PERIODIC:
        if (!s->initial_count) {
            return -1;
        }
        d = apic_ticks_since_load(s, now);
        return s->count_load_ns + apic_ticks_to_ns(s, (d / period + 1) * period);
    default:
        if (!s->initial_count || apic_ticks_since_load(s, now) >= s->initial_count) {
            return -1;
        }
        return s->count_load_ns + apic_ticks_to_ns(s, period);
    }
}

static void apic_timer_update(APICState *s, int64_t now)
{
    s->timer_next_ns = apic_timer_next(s, now);
    if (s->timer_next_ns < 0) {
        timer_del(s->timer);
    } else {
        timer_mod(s->timer, s->timer_next_ns);
    }
}

static void apic_timer_cb(void *opaque)
{
    APICState *s = opaque;
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    /* The next period follows this expiry; if the main loop came late by
     * more than a period, the missed ones merge into this one (IRR holds
     * one bit) rather than firing in a burst. */
    int64_t when = MAX(s->timer_next_ns, now);

    apic_local_deliver(s, APIC_LVT_TIMER);
    if (apic_timer_mode(s) == APIC_TIMER_TSC_DEADLINE) {
        s->tsc_deadline = 0;        /* the deadline MSR reads 0 once it fired */
    }
    apic_timer_update(s, when);
}

static void apic_write_lvt_timer(APICState *s, uint32_t val, int64_t now)
{
    int old = apic_timer_mode(s);
    uint64_t period = (uint64_t)s->initial_count + 1;

    if (old == APIC_TIMER_PERIODIC && s->initial_count) {
        /* the period under way becomes the one-shot count (or stays the
         * current period): restart the reference at its beginning */
        uint64_t d = apic_ticks_since_load(s, now);
        s->count_load_ns += apic_ticks_to_ns(s, d / period * period);
    }
    s->lvt[APIC_LVT_TIMER] = val & (APIC_LVT_VECTOR | APIC_LVT_MASKED | 3u << APIC_LVT_TIMER_SHIFT);
    if (old != apic_timer_mode(s) &&
        (old == APIC_TIMER_TSC_DEADLINE || apic_timer_mode(s) == APIC_TIMER_TSC_DEADLINE)) {
        /* switching to or from TSC-deadline mode disarms the timer */
        s->initial_count = 0;
        s->tsc_deadline = 0;
    }
    apic_timer_update(s, now);
}

/* ---- the TSC ---------------------------------------------------------------- */

static uint64_t apic_tsc_at(APICState *s, int64_t now)
{
    return s->tsc_offset +
           (uint64_t)((unsigned __int128)MAX(now, 0) * s->tsc_hz / NANOSECONDS_PER_SECOND);
}

uint64_t cpu_get_tsc(CPUState *cpu)
{
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

    if (cpu->apic) {
        return apic_tsc_at(APIC(cpu->apic), now);
    }
    return (uint64_t)((unsigned __int128)MAX(now, 0) * APIC_TSC_DEFAULT_HZ /
                      NANOSECONDS_PER_SECOND);
}

void cpu_set_tsc(CPUState *cpu, uint64_t value)
{
    APICState *s = cpu->apic ? APIC(cpu->apic) : NULL;
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

    if (!s) {
        return;     /* no userspace LAPIC: the accelerator keeps the TSC */
    }
    s->tsc_offset = 0;
    s->tsc_offset = value - apic_tsc_at(s, now);
    apic_timer_update(s, now);
}

/* ---- register access ------------------------------------------------------ */

static const uint32_t apic_lvt_writable[APIC_LVT_NB] = {
    [APIC_LVT_TIMER] = 0,       /* apic_write_lvt_timer */
    [APIC_LVT_THERMAL] = APIC_LVT_MASKED | 0x7ff,
    [APIC_LVT_PERF] = APIC_LVT_MASKED | 0x7ff,
    [APIC_LVT_LINT0] = APIC_LVT_MASKED | APIC_LVT_LEVEL | APIC_LVT_POLARITY | 0x7ff,
    [APIC_LVT_LINT1] = APIC_LVT_MASKED | APIC_LVT_LEVEL | APIC_LVT_POLARITY | 0x7ff,
    [APIC_LVT_ERROR] = APIC_LVT_MASKED | APIC_LVT_VECTOR,
    [APIC_LVT_CMCI] = APIC_LVT_MASKED | 0x7ff,
};

static int apic_lvt_of(int index)
{
    if (index == APIC_REG_LVT_CMCI) {
        return APIC_LVT_CMCI;
    }
    if (index >= APIC_REG_LVT_TIMER && index <= APIC_REG_LVT_ERROR) {
        return index - APIC_REG_LVT_TIMER;
    }
    return -1;
}

/* Reads register index; false if it is not decoded in the current mode. */
static bool apic_reg_read(APICState *s, int index, uint64_t *val)
{
    bool x2 = apic_x2apic_mode(s);
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    int lvt = apic_lvt_of(index);

    if (lvt >= 0) {
        *val = s->lvt[lvt];
        return true;
    }
    switch (index) {
    case APIC_REG_ID:
        *val = x2 ? s->initial_id : s->id << 24;
        return true;
    case APIC_REG_LVR:
        *val = APIC_LVR_VALUE;
        return true;
    case APIC_REG_TPR:
        *val = s->tpr;
        return true;
    case APIC_REG_APR:
    case APIC_REG_RRD:
        *val = 0;
        return !x2;
    case APIC_REG_PPR:
        *val = apic_ppr(s);
        return true;
    case APIC_REG_EOI:
        *val = 0;
        return !x2;         /* write-only: #GP on RDMSR */
    case APIC_REG_LDR:
        *val = s->ldr;
        return true;
    case APIC_REG_DFR:
        *val = s->dfr;
        return !x2;
    case APIC_REG_SVR:
        *val = s->svr;
        return true;
    case APIC_REG_ISR ... APIC_REG_ISR + 7:
        *val = s->isr[index - APIC_REG_ISR];
        return true;
    case APIC_REG_TMR ... APIC_REG_TMR + 7:
        *val = s->tmr[index - APIC_REG_TMR];
        return true;
    case APIC_REG_IRR ... APIC_REG_IRR + 7:
        *val = s->irr[index - APIC_REG_IRR];
        return true;
    case APIC_REG_ESR:
        *val = s->esr;
        return true;
    case APIC_REG_ICR_LO:
        *val = x2 ? (uint64_t)s->icr[1] << 32 | s->icr[0] : s->icr[0];
        return true;
    case APIC_REG_ICR_HI:
        *val = s->icr[1];
        return !x2;
    case APIC_REG_TMICT:
        *val = s->initial_count;
        return true;
    case APIC_REG_TMCCT:
        *val = apic_current_count(s, now);
        return true;
    case APIC_REG_TDCR:
        *val = s->divide_conf;
        return true;
    default:
        *val = 0;
        return false;       /* reserved, and SELF IPI (write-only) */
    }
}

/* Writes register index (val is 64-bit for the x2APIC ICR only); false if
 * the register is not writable in the current mode. */
static bool apic_reg_write(APICState *s, int index, uint64_t val)
{
    bool x2 = apic_x2apic_mode(s);
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    int lvt = apic_lvt_of(index);

    if (lvt == APIC_LVT_TIMER) {
        apic_write_lvt_timer(s, val, now);
        return true;
    }
    if (lvt >= 0) {
        s->lvt[lvt] = val & apic_lvt_writable[lvt];
        if (lvt == APIC_LVT_LINT0) {
            apic_update_irq(s);     /* may open or close the PIC's path */
        }
        return true;
    }
    switch (index) {
    case APIC_REG_ID:
        if (x2) {
            return false;
        }
        s->id = val >> 24;
        return true;
    case APIC_REG_TPR:
        s->tpr = val & 0xff;
        apic_update_irq(s);
        return true;
    case APIC_REG_EOI:
        if (x2 && val) {
            return false;
        }
        apic_eoi(s);
        return true;
    case APIC_REG_LDR:
        if (x2) {
            return false;
        }
        s->ldr = val & 0xff000000;
        return true;
    case APIC_REG_DFR:
        if (x2) {
            return false;
        }
        s->dfr = (val & 0xf0000000) | 0x0fffffff;
        return true;
    case APIC_REG_SVR:
        s->svr = val & APIC_SVR_WRITABLE;
        apic_update_irq(s);
        return true;
    case APIC_REG_ESR:
        if (x2 && val) {
            return false;
        }
        /* "write to update": the errors since the previous write become
         * visible, and collection starts afresh (SDM 10.5.3) */
        s->esr = s->esr_pending;
        s->esr_pending = 0;
        return true;
    case APIC_REG_ICR_LO:
        if (x2) {
            s->icr[1] = val >> 32;
        }
        s->icr[0] = val & APIC_ICR_LO_WRITABLE;
        apic_send_ipi(s);
        return true;
    case APIC_REG_ICR_HI:
        if (x2) {
            return false;
        }
        s->icr[1] = val & 0xff000000;
        return true;
    case APIC_REG_TMICT:
        if (apic_timer_mode(s) == APIC_TIMER_TSC_DEADLINE) {
            return true;    /* ignored in TSC-deadline mode */
        }
        s->initial_count = val;
        s->count_load_ns = now;
        apic_timer_update(s, now);
        return true;
    case APIC_REG_TDCR:
        s->divide_conf = val & 0xb;
        apic_timer_update(s, now);
        return true;
    case APIC_REG_SELF_IPI:
        if (!x2) {
            return false;
        }
        apic_set_irq(s, val & 0xff, false);
        return true;
    default:
        return false;       /* read-only or reserved */
    }
}

/* ---- xAPIC MMIO ------------------------------------------------------------ */

static bool apic_mmio_decoded(APICState *s)
{
    return apic_hw_enabled(s) && !apic_x2apic_mode(s);
}

bool apic_mmio_claims(DeviceState *dev, uint64_t addr)
{
    APICState *s = APIC(dev);

    return apic_mmio_decoded(s) &&
           (addr & ~(uint64_t)(APIC_SPACE_SIZE - 1)) == (s->apicbase & MSR_IA32_APICBASE_BASE);
}

/* Registers are 32 bits at 16-byte boundaries; as QEMU, narrower accesses
 * read 0 and are ignored on write. */
uint64_t apic_mmio_read(DeviceState *dev, uint64_t offset, unsigned size)
{
    APICState *s = APIC(dev);
    uint64_t val;

    if (!apic_mmio_decoded(s)) {
        return ~0ull >> (64 - 8 * size);
    }
    if (size < 4) {
        return 0;
    }
    if (!apic_reg_read(s, (offset >> 4) & 0xff, &val)) {
        apic_error(s, APIC_ESR_ILLEGAL_ADDRESS);
        return 0;
    }
    return (uint32_t)val;
}

void apic_mmio_write(DeviceState *dev, uint64_t offset, uint64_t value, unsigned size)
{
    APICState *s = APIC(dev);
    int index = (offset >> 4) & 0xff;

    if (!apic_mmio_decoded(s) || size < 4) {
        return;
    }
    if (!apic_reg_write(s, index, (uint32_t)value)) {
        uint64_t dummy;

        /* read-only registers ignore writes; reserved ones are errors */
        if (!apic_reg_read(s, index, &dummy)) {
            apic_error(s, APIC_ESR_ILLEGAL_ADDRESS);
        }
    }
}

/* The page at APIC_DEFAULT_ADDRESS in the system address space: the
 * LAPIC of the CPU doing the access.  A write from no CPU (a device's DMA)
 * is an MSI, as in QEMU where the two share the address. */
static uint64_t apic_global_read(void *opaque, uint64_t addr, unsigned size)
{
    if (!current_cpu || !current_cpu->apic) {
        return 0;
    }
    return apic_mmio_read(current_cpu->apic, addr, size);
}

static void apic_global_write(void *opaque, uint64_t addr, uint64_t data, unsigned size)
{
    if (!current_cpu || !current_cpu->apic) {
        apic_bus_deliver_msi(APIC_DEFAULT_ADDRESS + addr, data);
        return;
    }
    apic_mmio_write(current_cpu->apic, addr, data, size);
}

static const MemoryRegionOps apic_global_ops = {
    .read = apic_global_read,
    .write = apic_global_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

/* ---- MSRs ---------------------------------------------------------------- */

bool apic_msr_read(DeviceState *dev, uint32_t index, uint64_t *value)
{
    APICState *s = APIC(dev);

    if (index == MSR_IA32_TSC_DEADLINE) {
        *value = apic_timer_mode(s) == APIC_TIMER_TSC_DEADLINE ? s->tsc_deadline : 0;
        return true;
    }
    if (index < MSR_X2APIC_BASE || index > MSR_X2APIC_END || !apic_x2apic_mode(s)) {
        return false;
    }
    return apic_reg_read(s, index - MSR_X2APIC_BASE, value);
}

bool apic_msr_write(DeviceState *dev, uint32_t index, uint64_t value)
{
    APICState *s = APIC(dev);
    int reg = index - MSR_X2APIC_BASE;

    if (index == MSR_IA32_TSC_DEADLINE) {
        if (apic_timer_mode(s) == APIC_TIMER_TSC_DEADLINE) {
            s->tsc_deadline = value;        /* 0 disarms */
            apic_timer_update(s, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
        }
        return true;
    }
    if (index < MSR_X2APIC_BASE || index > MSR_X2APIC_END || !apic_x2apic_mode(s)) {
        return false;
    }
    /* bits 63:32 are reserved everywhere but in the ICR */
    if (reg != APIC_REG_ICR_LO && (value >> 32)) {
        return false;
    }
    if (reg == APIC_REG_SELF_IPI && (value & ~0xffull)) {
        return false;
    }
    return apic_reg_write(s, reg, value);
}

/* ---- IA32_APIC_BASE ---------------------------------------------------------- */

uint64_t apic_get_base(DeviceState *dev)
{
    return APIC(dev)->apicbase;
}

bool apic_is_x2apic(DeviceState *dev)
{
    return apic_x2apic_mode(APIC(dev));
}

bool apic_is_enabled(DeviceState *dev)
{
    return apic_hw_enabled(APIC(dev));
}

/*
 * SDM 10.12.5, figure 10-27: the states are disabled (EN=0, EXTD=0),
 * xAPIC (1, 0) and x2APIC (1, 1).  (0, 1) is invalid, and so are
 * x2APIC -> xAPIC and disabled -> x2APIC; so is setting a reserved bit or
 * EXTD without x2APIC support.  The BSP flag is not writable (QEMU keeps
 * it).  Disabling clears the SVR's software enable, as QEMU does.
 */
bool apic_set_base(DeviceState *dev, uint64_t value)
{
    APICState *s = APIC(dev);
    bool en = value & MSR_IA32_APICBASE_ENABLE, extd = value & MSR_IA32_APICBASE_EXTD;
    uint64_t reserved = ~(MSR_IA32_APICBASE_BASE | MSR_IA32_APICBASE_BSP |
                          MSR_IA32_APICBASE_EXTD | MSR_IA32_APICBASE_ENABLE);

    if ((value & reserved) || (extd && !s->x2apic) || (extd && !en)) {
        return false;
    }
    if (!apic_hw_enabled(s) && extd) {
        return false;
    }
    if (apic_x2apic_mode(s) && en && !extd) {
        return false;
    }
    if (extd && !apic_x2apic_mode(s)) {
        /* entering x2APIC mode: the ID and LDR come from the x2APIC ID */
        s->ldr = apic_x2apic_ldr(s->initial_id);
    }
    s->apicbase = (value & ~MSR_IA32_APICBASE_BSP) | (s->apicbase & MSR_IA32_APICBASE_BSP);
    if (!en) {
        s->svr &= ~APIC_SVR_ENABLE;
    }
    apic_update_irq(s);
    return true;
}

/* ---- info lapic ---------------------------------------------------------- */

static void apic_dump_bits(GString *out, const char *name, const uint32_t *tab)
{
    g_string_append_printf(out, "%s\t", name);
    for (int v = 0; v < 256; v++) {
        if (bit_test(tab, v)) {
            g_string_append_printf(out, " %d", v);
        }
    }
    g_string_append_c(out, '\n');
}

void apic_dump(DeviceState *dev, GString *out)
{
    static const char *const lvt_names[APIC_LVT_NB] = {
        "LVTT", "LVTTHMR", "LVTPC", "LVT0", "LVT1", "LVTERR", "LVTCMCI"
    };
    APICState *s = APIC(dev);
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

    g_string_append_printf(out, "CPU#%u LAPIC id 0x%x base 0x%016" G_GINT64_MODIFIER "x %s\n",
                           s->cpu_index, apic_x2apic_mode(s) ? s->initial_id : s->id,
                           s->apicbase, !apic_hw_enabled(s) ? "disabled" :
                           apic_x2apic_mode(s) ? "x2APIC" : "xAPIC");
    for (int i = 0; i < APIC_LVT_NB; i++) {
        g_string_append_printf(out, "%s\t0x%08x\n", lvt_names[i], s->lvt[i]);
    }
    g_string_append_printf(out, "Timer\tDCR=0x%x initial_count=%u current_count=%u mode=%d "
                           "tsc_deadline=0x%" G_GINT64_MODIFIER "x\n", s->divide_conf,
                           s->initial_count, apic_current_count(s, now), apic_timer_mode(s),
                           s->tsc_deadline);
    g_string_append_printf(out, "SPIV\t0x%08x TPR 0x%02x PPR 0x%02x LDR 0x%08x DFR 0x%08x "
                           "ESR 0x%08x\n", s->svr, s->tpr, apic_ppr(s), s->ldr, s->dfr, s->esr);
    g_string_append_printf(out, "ICR\t0x%08x ICR2 0x%08x\n", s->icr[0], s->icr[1]);
    apic_dump_bits(out, "ISR", s->isr);
    apic_dump_bits(out, "IRR", s->irr);
    apic_dump_bits(out, "TMR", s->tmr);
}

/* ---- life cycle ------------------------------------------------------------ */

DeviceState *apic_find_by_id(uint32_t id)
{
    for (guint i = 0; apics.all && i < apics.all->len; i++) {
        APICState *s = g_ptr_array_index(apics.all, i);
        if (s->initial_id == id) {
            return DEVICE(s);
        }
    }
    return NULL;
}

static gint apic_cmp_index(gconstpointer a, gconstpointer b)
{
    const APICState *x = *(APICState *const *)a, *y = *(APICState *const *)b;

    return (gint)x->cpu_index - (gint)y->cpu_index;
}

static void apic_realize(DeviceState *dev, Error **errp)
{
    APICState *s = APIC(dev);
    CPUState *cpu = cpu_by_index(s->cpu_index);

    if (!cpu) {
        error_setg(errp, "property 'cpu-index': no CPU %u", s->cpu_index);
        return;
    }
    if (cpu->apic) {
        error_setg(errp, "property 'cpu-index': CPU %u already has a LAPIC", s->cpu_index);
        return;
    }
    if (!s->tsc_hz) {
        error_setg(errp, "property 'tsc-frequency' must not be 0");
        return;
    }
    if (s->initial_id == APIC_ID_FROM_CPU) {
        s->initial_id = cpu->apic_id;
    }
    if (apic_find_by_id(s->initial_id)) {
        error_setg(errp, "property 'id': APIC ID %u is already used", s->initial_id);
        return;
    }
    if (s->initial_id > 0xff && !s->x2apic) {
        error_setg(errp, "property 'id': APIC ID %u needs x2apic=on", s->initial_id);
        return;
    }
    s->cpu = cpu;
    cpu->apic = dev;
    s->timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, apic_timer_cb, s);
    if (cpu->timers) {
        timer_set_list(s->timer, cpu->timers);  /* the vCPU thread runs it */
    }
    if (!apics.all) {
        apics.all = g_ptr_array_new();
    }
    g_ptr_array_add(apics.all, s);
    g_ptr_array_sort(apics.all, apic_cmp_index);
}

void apic_set_timer_list(DeviceState *dev, QEMUTimerList *tl)
{
    timer_set_list(APIC(dev)->timer, tl);
}

static void apic_unrealize(DeviceState *dev)
{
    APICState *s = APIC(dev);

    if (apics.all) {
        g_ptr_array_remove(apics.all, s);
    }
    if (s->cpu && s->cpu->apic == dev) {
        s->cpu->apic = NULL;
    }
    timer_free(s->timer);
    s->timer = NULL;
}

/* Power-on: enabled in xAPIC mode at the default base, software-disabled,
 * LVTs masked; the BSP's LINT0 in virtual-wire mode (ExtINT, unmasked) as
 * firmware leaves it and as the KVM path sets it (kvm_put_lapic_reset);
 * the TSC restarts from 0. */
static void apic_reset(DeviceState *dev)
{
    APICState *s = APIC(dev);
    bool bsp = s->cpu->index == 0;

    s->apicbase = APIC_DEFAULT_ADDRESS | MSR_IA32_APICBASE_ENABLE |
                  (bsp ? MSR_IA32_APICBASE_BSP : 0);
    s->id = s->initial_id & 0xff;
    apic_init_reset(dev);
    if (bsp) {
        s->lvt[APIC_LVT_LINT0] = APIC_LVT_LINT0_EXTINT;
    }
    s->tsc_offset = 0;
    s->tsc_offset = -apic_tsc_at(s, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
    apic_update_irq(s);
}

static int apic_post_load(void *opaque, int version_id)
{
    APICState *s = opaque;

    s->divide_conf &= 0xb;
    if (!s->tsc_hz) {
        s->tsc_hz = APIC_TSC_DEFAULT_HZ;
    }
    /* re-arm for the saved expiry: the state alone cannot tell whether a
     * one-shot that just reached 0 has fired yet */
    if (s->timer_next_ns >= 0) {
        timer_mod(s->timer, s->timer_next_ns);
    } else {
        timer_del(s->timer);
    }
    apic_update_irq(s);
    return 0;
}

static const VMStateField apic_fields[] = {
    VMSTATE_UINT64(apicbase, APICState),
    VMSTATE_UINT32(id, APICState),
    VMSTATE_UINT8(tpr, APICState),
    VMSTATE_UINT32(ldr, APICState),
    VMSTATE_UINT32(dfr, APICState),
    VMSTATE_UINT32(svr, APICState),
    VMSTATE_UINT32_ARRAY(isr, APICState, 8),
    VMSTATE_UINT32_ARRAY(tmr, APICState, 8),
    VMSTATE_UINT32_ARRAY(irr, APICState, 8),
    VMSTATE_UINT32(esr, APICState),
    VMSTATE_UINT32(esr_pending, APICState),
    VMSTATE_UINT32_ARRAY(lvt, APICState, APIC_LVT_NB),
    VMSTATE_UINT32_ARRAY(icr, APICState, 2),
    VMSTATE_UINT32(initial_count, APICState),
    VMSTATE_UINT32(divide_conf, APICState),
    VMSTATE_INT64(count_load_ns, APICState),
    VMSTATE_INT64(timer_next_ns, APICState),
    VMSTATE_UINT64(tsc_deadline, APICState),
    VMSTATE_INT64(tsc_offset, APICState),
    VMSTATE_UINT64(tsc_hz, APICState),
    VMSTATE_BOOL(extint_pending, APICState),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_apic = {
    .name = "apic",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = apic_post_load,
    .fields = apic_fields,
};

static const Property apic_props[] = {
    DEFINE_PROP_UINT32("cpu-index", APICState, cpu_index, 0),
    DEFINE_PROP_UINT32("id", APICState, initial_id, APIC_ID_FROM_CPU),
    DEFINE_PROP_BOOL("x2apic", APICState, x2apic, true),
    DEFINE_PROP_UINT64("tsc-frequency", APICState, tsc_hz, APIC_TSC_DEFAULT_HZ),
    DEFINE_PROP_END_OF_LIST(),
};

static const DeviceClass apic_class = {
    .name = TYPE_APIC,
    .desc = "local APIC (xAPIC/x2APIC) of one vCPU",
    .bus_type = NULL,
    .category = DEVICE_CATEGORY_MISC,
    .user_creatable = false,
    .instance_size = sizeof(APICState),
    .props = apic_props,
    .vmsd = &vmstate_apic,
    .realize = apic_realize,
    .unrealize = apic_unrealize,
    .reset = apic_reset,
};

DEVICE_CLASS_REGISTER(apic_class)

DeviceState *apic_create(CPUState *cpu, bool x2apic, Error **errp)
{
    DeviceState *dev = qdev_new(TYPE_APIC, errp);
    g_autofree char *name = g_strdup_printf("lapic[%d]", cpu->index);

    if (!dev) {
        return NULL;
    }
    if (!qdev_prop_set_uint(dev, "cpu-index", cpu->index, errp) ||
        !qdev_prop_set_bool(dev, "x2apic", x2apic, errp)) {
        qdev_free(dev);
        return NULL;
    }
    qdev_set_machine_child(dev, name);
    if (!qdev_realize(dev, NULL, errp)) {
        qdev_free(dev);
        return NULL;
    }
    return dev;
}

void apic_bus_init(void)
{
    if (apics.bus_ready) {
        return;
    }
    apics.bus_ready = true;
    apic_bus_set_backend(&apic_bus_backend);
    memory_region_init_io(&apics.mmio, &apic_global_ops, NULL, "apic", APIC_SPACE_SIZE);
    memory_region_add_subregion_overlap(get_system_memory(), APIC_DEFAULT_ADDRESS,
                                        &apics.mmio, 1);
}

/*
 * Interrupt plumbing between the PC's interrupt controllers and its CPUs
 * (include/hw/i386/x86-irq.h): the CPU side (interrupt_request bits, INTA),
 * the PIC's INTR line, the A20 line, and the APIC bus (messages, MSI
 * decoding, EOI broadcast) with a pluggable backend.
 *
 * The models themselves (8259, IOAPIC, LAPIC) are devices in their own
 * files; this file only connects them.  It holds machine-wide state (one
 * PC per process): the PIC that answers INTA, the backend, the A20 inputs.
 */
#include <glib.h>
#include "hw/i386/x86-irq.h"
#include "accel/accel.h"

typedef struct EOIListener {
    APICEOIHandler fn;
    void *opaque;
} EOIListener;

static struct {
    void *pic;
    PICReadIrqFn pic_read_irq;
    qemu_irq pic_intr;
    int pic_level;
    const APICBusBackend *backend;
    GArray *eoi_listeners;          /* EOIListener */
    qemu_irq a20_in[2];
    unsigned a20_levels;            /* bit n: input n enables A20 */
} x86irq;

/* ---- CPU side ---------------------------------------------------------- */

void cpu_interrupt(CPUState *cpu, uint32_t mask)
{
    __atomic_fetch_or(&cpu->interrupt_request, mask, __ATOMIC_SEQ_CST);
    if (current_accel && current_accel->vcpu_kick && cpu->thread_started) {
        current_accel->vcpu_kick(cpu);      /* also wakes it from cpus_wait() */
    } else {
        cpus_broadcast();   /* a vCPU waiting in HLT on the BQL condition */
    }
}

void cpu_reset_interrupt(CPUState *cpu, uint32_t mask)
{
    __atomic_fetch_and(&cpu->interrupt_request, ~mask, __ATOMIC_SEQ_CST);
}

int x86_pic_read_irq(void)
{
    return x86irq.pic_read_irq ? x86irq.pic_read_irq(x86irq.pic) : -1;
}

int cpu_get_interrupt(CPUState *cpu)
{
    int vector;

    if (x86irq.backend && x86irq.backend->get_interrupt) {
        return x86irq.backend->get_interrupt(cpu);
    }
    /* No LAPIC: the PIC's INTR goes to CPU 0 only. */
    cpu_reset_interrupt(cpu, CPU_INTERRUPT_HARD);
    if (cpu->index != 0) {
        return -1;
    }
    vector = x86_pic_read_irq();
    if (x86irq.pic_level) {
        cpu_interrupt(cpu, CPU_INTERRUPT_HARD);
    }
    return vector;
}

/* ---- The PIC's INTR line ------------------------------------------------- */

void x86_irq_set_pic(void *pic, PICReadIrqFn read_irq)
{
    x86irq.pic = pic;
    x86irq.pic_read_irq = read_irq;
}

static void pic_intr_set(void *opaque, int n, int level)
{
    CPUState *cpu0 = cpus && cpus->len ? g_ptr_array_index(cpus, 0) : NULL;

    x86irq.pic_level = level;
    if (x86irq.backend && x86irq.backend->pic_intr && x86irq.backend->pic_intr(level)) {
        return;
    }
    if (!cpu0) {
        return;
    }
    if (level) {
        cpu_interrupt(cpu0, CPU_INTERRUPT_HARD);
    } else {
        cpu_reset_interrupt(cpu0, CPU_INTERRUPT_HARD);
    }
}

qemu_irq x86_pic_intr_line(void)
{
    if (!x86irq.pic_intr) {
        x86irq.pic_intr = qemu_allocate_irq(pic_intr_set, NULL, 0);
    }
    return x86irq.pic_intr;
}

/* ---- A20 ------------------------------------------------------------------ */

static void a20_set(void *opaque, int n, int level)
{
    if (level) {
        x86irq.a20_levels |= 1u << n;
    } else {
        x86irq.a20_levels &= ~(1u << n);
    }
}

qemu_irq x86_a20_input(int n)
{
    g_assert(n >= 0 && n < 2);
    if (!x86irq.a20_in[n]) {
        x86irq.a20_in[n] = qemu_allocate_irq(a20_set, NULL, n);
    }
    return x86irq.a20_in[n];
}

bool x86_a20_enabled(void)
{
    return x86irq.a20_levels != 0;
}

/* ---- The APIC bus ----------------------------------------------------------- */

void apic_bus_set_backend(const APICBusBackend *backend)
{
    x86irq.backend = backend;
}

void apic_bus_route_update(unsigned gsi, const APICMessage *msg)
{
    if (x86irq.backend && x86irq.backend->route_update) {
        x86irq.backend->route_update(gsi, msg);
    }
}

void apic_bus_deliver(const APICMessage *msg)
{
    if (x86irq.backend && x86irq.backend->deliver) {
        x86irq.backend->deliver(msg);
    }
}

/*
 * MSI format (Intel SDM vol. 3, 11.11):
 *   address 0xfee[dest id 19:12][rsvd][RH 3][DM 2][xx]
 *   data    [trigger 15][level 14][delivery mode 10:8][vector 7:0]
 * The extended destination ID in address bits 11:5 (as KVM and QEMU
 * accept it) extends the destination to 15 bits.
 */
void apic_bus_deliver_msi(uint64_t addr, uint32_t data)
{
    APICMessage msg = {
        .dest = ((addr >> 12) & 0xff) | (((addr >> 5) & 0x7f) << 8),
        .dest_logical = (addr >> 2) & 1,
        .delivery_mode = (data >> 8) & 7,
        .vector = data & 0xff,
        .level = (data >> 15) & 1,
        .assert_ = true,
    };

    if ((addr & MSI_ADDR_MASK) != MSI_ADDR_BASE) {
        return;     /* not an interrupt message */
    }
    apic_bus_deliver(&msg);
}

void apic_message_to_msi(const APICMessage *msg, uint64_t *addr, uint32_t *data)
{
    *addr = MSI_ADDR_BASE | (uint64_t)(msg->dest & 0xff) << 12 |
            (uint64_t)((msg->dest >> 8) & 0x7f) << 5 | (msg->dest_logical ? 1u << 2 : 0);
    *data = msg->vector | (uint32_t)msg->delivery_mode << 8 |
            (msg->assert_ ? 1u << 14 : 0) | (msg->level ? 1u << 15 : 0);
}

void apic_bus_add_eoi_listener(APICEOIHandler fn, void *opaque)
{
    EOIListener l = { fn, opaque };

    if (!x86irq.eoi_listeners) {
        x86irq.eoi_listeners = g_array_new(FALSE, FALSE, sizeof(EOIListener));
    }
    g_array_append_val(x86irq.eoi_listeners, l);
}

void apic_bus_remove_eoi_listener(APICEOIHandler fn, void *opaque)
{
    for (guint i = 0; x86irq.eoi_listeners && i < x86irq.eoi_listeners->len; i++) {
        EOIListener *l = &g_array_index(x86irq.eoi_listeners, EOIListener, i);
        if (l->fn == fn && l->opaque == opaque) {
            g_array_remove_index(x86irq.eoi_listeners, i);
            return;
        }
    }
}

void apic_bus_eoi_broadcast(uint8_t vector)
{
    for (guint i = 0; x86irq.eoi_listeners && i < x86irq.eoi_listeners->len; i++) {
        EOIListener *l = &g_array_index(x86irq.eoi_listeners, EOIListener, i);
        l->fn(l->opaque, vector);
    }
}

/*
 * Interrupt delivery on the PC, between the machine's interrupt
 * controllers and the CPUs.  One interface for every accelerator:
 *
 *   device --qemu_irq--> PIC (8259 pair) --INTR--> BSP LAPIC LINT0 (ExtINT)
 *          \-qemu_irq--> IOAPIC --APIC bus message--> LAPIC(s) --> CPU
 *   PCI device --MSI/MSI-X (address, data)--> machine --> APIC bus
 *   LAPIC --EOI of a level-triggered vector--> IOAPIC (EOI broadcast)
 *
 * With an in-kernel irqchip (KVM kernel-irqchip=on) the same qemu_irq
 * lines end in the accelerator's set_irq instead; with kernel-irqchip=split
 * the PIC and IOAPIC are these userspace models and the LAPIC is KVM's.
 *
 * A software CPU (tcg-lite) and KVM with kernel-irqchip=off use only the
 * "CPU side" below: a pending mask in CPUState.interrupt_request, and
 * cpu_get_interrupt() as the INTA cycle that yields a vector.
 */
#ifndef KVMPC_HW_I386_X86_IRQ_H
#define KVMPC_HW_I386_X86_IRQ_H

#include <stdbool.h>
#include <stdint.h>
#include "accel/cpu.h"
#include "hw/irq.h"

/* ---- Constants the guest sees in several tables (MADT, MP table, KVM
 * routing, CPU reset state).  Stated here once. ------------------------ */
#define IOAPIC_DEFAULT_ADDRESS  0xfec00000u
#define IOAPIC_NUM_PINS         24
#define APIC_DEFAULT_ADDRESS    0xfee00000u
#define APIC_SPACE_SIZE         0x1000u
/* ISA IRQ 0 (the PIT) arrives on IOAPIC pin 2: the MADT's interrupt source
 * override and the MP table's I/O interrupt entry say so, and the KVM GSI
 * routing wires it that way. */
#define ISA_IRQ0_IOAPIC_PIN     2
/* MSI address window: 0xfeeXXXXX (Intel SDM vol. 3, 11.11.1). */
#define MSI_ADDR_BASE           0xfee00000u
#define MSI_ADDR_MASK           0xfff00000u

/* ---- CPU side ---------------------------------------------------------- */

/* Bits of CPUState.interrupt_request (set from any thread, atomically). */
#define CPU_INTERRUPT_HARD  0x01u   /* a maskable interrupt is pending */
#define CPU_INTERRUPT_NMI   0x02u
#define CPU_INTERRUPT_INIT  0x04u
#define CPU_INTERRUPT_SIPI  0x08u   /* vector in CPUState.sipi_vector */
#define CPU_INTERRUPT_SMI   0x10u
#define CPU_INTERRUPT_POLL  0x20u   /* LAPIC state changed: re-evaluate */

/* Sets bits in cpu->interrupt_request and kicks the vCPU out of its run
 * loop (current_accel->vcpu_kick) so it sees them. */
void cpu_interrupt(CPUState *cpu, uint32_t mask);
void cpu_reset_interrupt(CPUState *cpu, uint32_t mask);
static inline bool cpu_interrupt_pending(CPUState *cpu, uint32_t mask)
{
    return __atomic_load_n(&cpu->interrupt_request, __ATOMIC_ACQUIRE) & mask;
}

/* The INTA cycle: the CPU accepts the highest-priority maskable interrupt
 * (called with interrupts enabled, RFLAGS.IF=1, no shadow).  The LAPIC's
 * IRR first, then ExtINT from the PIC through LINT0 (or straight from the
 * PIC when the LAPIC is hardware-disabled).  Returns the vector, or -1 when
 * nothing is pending any more (the caller then just continues).  Updates
 * CPU_INTERRUPT_HARD. */
int cpu_get_interrupt(CPUState *cpu);

/* The A20 line: port 0x92 and the i8042 output port each drive one input
 * (A20 is enabled when either enables it, as on QEMU's PC); the CPU side
 * reads the result.  KVM ignores A20 (as QEMU on KVM does). */
qemu_irq x86_a20_input(int n);  /* n = 0: port 0x92, 1: i8042 */
bool x86_a20_enabled(void);

/* ---- Machine side ------------------------------------------------------ */

/* The PIC's acknowledge (INTA) and its INTR output state, registered by the
 * machine when it builds a userspace PIC; NULL fn: no PIC. */
typedef int (*PICReadIrqFn)(void *pic);
void x86_irq_set_pic(void *pic, PICReadIrqFn read_irq);
/* INTA on the PIC (for a LAPIC's ExtINT delivery): vector, or -1 with no PIC. */
int x86_pic_read_irq(void);
/* The PIC's INTR output: the machine wires the PIC's output line here.  It
 * goes to the BSP's LINT0 (ExtINT) or, with no LAPIC enabled, straight to
 * CPU_INTERRUPT_HARD of CPU 0. */
qemu_irq x86_pic_intr_line(void);

/* ---- The APIC bus ------------------------------------------------------ */

/* Delivery modes (ICR / IOAPIC redirection entry / MSI data bits 10:8). */
enum {
    APIC_DM_FIXED = 0,
    APIC_DM_LOWPRI = 1,
    APIC_DM_SMI = 2,
    APIC_DM_NMI = 4,
    APIC_DM_INIT = 5,
    APIC_DM_SIPI = 6,
    APIC_DM_EXTINT = 7,
};

typedef struct APICMessage {
    uint32_t dest;          /* APIC ID (physical) or MDA (logical); 0xff/0xffffffff broadcast */
    bool dest_logical;
    uint8_t delivery_mode;  /* APIC_DM_* */
    uint8_t vector;
    bool level;             /* trigger mode: true = level */
    bool assert_;           /* level-assert (INIT level de-assert has it clear) */
} APICMessage;

/* Deliver to the userspace LAPICs (IOAPIC redirection, MSI, IPIs). */
void apic_bus_deliver(const APICMessage *msg);
/* The MSI (address, data) that says the same as msg (SDM 11.11; IDs above
 * 0xff in address bits 11:5, the extended destination ID, as decoded
 * below). */
void apic_message_to_msi(const APICMessage *msg, uint64_t *addr, uint32_t *data);
/* Decode an MSI (address, data) per the SDM and deliver it on the APIC bus. */
void apic_bus_deliver_msi(uint64_t addr, uint32_t data);
/* A LAPIC EOI of a level-triggered vector: broadcast to the IOAPIC(s).
 * An IOAPIC registers its handler once at realize. */
typedef void (*APICEOIHandler)(void *opaque, uint8_t vector);
void apic_bus_add_eoi_listener(APICEOIHandler fn, void *opaque);
/* Undoes apic_bus_add_eoi_listener (an IOAPIC's unrealize). */
void apic_bus_remove_eoi_listener(APICEOIHandler fn, void *opaque);
void apic_bus_eoi_broadcast(uint8_t vector);

/*
 * Who is at the other end of the APIC bus: the userspace LAPICs
 * (hw/intc/apic.c registers itself when the machine creates them), or an
 * accelerator's in-kernel LAPICs (kernel-irqchip=split: messages become
 * KVM MSIs).  With no backend, messages are dropped (qtest).
 */
typedef struct APICBusBackend {
    void (*deliver)(const APICMessage *msg);
    /* The CPU side's INTA (see cpu_get_interrupt); NULL: the PIC only. */
    int (*get_interrupt)(CPUState *cpu);
    /* The PIC's INTR output changed: deliver through LINT0 if the BSP's
     * LAPIC takes it; return false to have it go straight to CPU 0. */
    bool (*pic_intr)(int level);
    /* What an IOAPIC pin (GSI) sends, masked or not (NULL: nothing): an
     * in-kernel LAPIC needs it to know which vectors are level-triggered
     * and must exit on EOI (KVM's split irqchip). */
    void (*route_update)(unsigned gsi, const APICMessage *msg);
} APICBusBackend;
void apic_bus_set_backend(const APICBusBackend *backend);
/* An IOAPIC announces every change of a pin's redirection entry. */
void apic_bus_route_update(unsigned gsi, const APICMessage *msg);

#endif

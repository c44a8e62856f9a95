/*
 * Interrupt lines.  A qemu_irq is a function pointer, an opaque and a line
 * number (TinyEMU's IRQSignal).  A device raises and lowers its lines; the
 * machine decides what is at the other end (the in-kernel irqchip, a
 * userspace PIC/IOAPIC, or the qtest interceptor).
 */
#ifndef KVMPC_HW_IRQ_H
#define KVMPC_HW_IRQ_H

typedef void (*qemu_irq_handler)(void *opaque, int n, int level);

typedef struct IRQState {
    qemu_irq_handler handler;
    void *opaque;
    int n;
} IRQState;

typedef IRQState *qemu_irq;

qemu_irq qemu_allocate_irq(qemu_irq_handler handler, void *opaque, int n);
void qemu_free_irq(qemu_irq irq);

static inline void qemu_set_irq(qemu_irq irq, int level)
{
    if (irq && irq->handler) {
        irq->handler(irq->opaque, irq->n, level);
    }
}
static inline void qemu_irq_raise(qemu_irq irq) { qemu_set_irq(irq, 1); }
static inline void qemu_irq_lower(qemu_irq irq) { qemu_set_irq(irq, 0); }
static inline void qemu_irq_pulse(qemu_irq irq)
{
    qemu_set_irq(irq, 1);
    qemu_set_irq(irq, 0);
}

#endif

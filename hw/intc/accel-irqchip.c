/*
 * "kvm-ioapic": the interrupt controller inputs (GSIs 0-23) when the
 * interrupt controllers are the accelerator's own (KVM's in-kernel
 * PIC/IOAPIC; under qtest, the qtest interceptor).  Each GPIO input
 * forwards its level to the accelerator's set_irq.  It sits at
 * /machine/ioapic as QEMU's does, so `irq_intercept_in ioapic` finds it.
 */
#include "hw/qdev.h"
#include "accel/accel.h"
#include "hw/i386/x86-irq.h"
#include "hw/platform-desc.h"

typedef struct AccelIrqchipState {
    DeviceState parent;
} AccelIrqchipState;

static void accel_irqchip_set(void *opaque, int n, int level)
{
    if (current_accel && current_accel->set_irq) {
        current_accel->set_irq(n, level);
    }
}

static void accel_irqchip_init(DeviceState *dev)
{
    qdev_init_gpio_in(dev, accel_irqchip_set, IOAPIC_NUM_PINS);
}

/* The accelerator's irqchip is a PC's: a dual 8259 and one IOAPIC (ID 0,
 * GSIs 0-23) with ISA IRQ 0 on pin 2. */
static void accel_irqchip_describe(DeviceState *dev, PlatformDesc *pd)
{
    pd->pcat_compat = true;
    platform_add_ioapic(pd, 0, IOAPIC_DEFAULT_ADDRESS, 0);
    platform_add_override(pd, 0, ISA_IRQ0_IOAPIC_PIN, MPS_INTI_CONFORMS);
}

static const DeviceClass accel_irqchip_class = {
    .name = "kvm-ioapic",
    .desc = "interrupt controller inputs routed to the accelerator's irqchip",
    .instance_size = sizeof(AccelIrqchipState),
    .instance_init = accel_irqchip_init,
    .describe = accel_irqchip_describe,
};

DEVICE_CLASS_REGISTER(accel_irqchip_class)

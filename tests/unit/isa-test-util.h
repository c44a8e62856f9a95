/*
 * Shared by the ISA device unit tests: system address spaces, an ISA bus
 * whose 16 IRQ lines call the test's handler (or record their levels), and the virtual clock in
 * manual mode (the test advances it).  Header-only.
 */
#ifndef KVMPC_TESTS_ISA_TEST_UTIL_H
#define KVMPC_TESTS_ISA_TEST_UTIL_H

#include "hw/isa/isa.h"
#include "hw/memory.h"
#include "system/main-loop.h"

/* What the ISA IRQ lines did: each line's level and its rising edges. */
static int irq_level[16] G_GNUC_UNUSED;
static int irq_raises[16] G_GNUC_UNUSED;

static inline void isa_test_irq_record(void *opaque, int n, int level)
{
    if (level && !irq_level[n]) {
        irq_raises[n]++;
    }
    irq_level[n] = level;
}

/* Advance the (manual) virtual clock by ns, running the timers due. */
static inline void clock_step(int64_t ns)
{
    qemu_clock_virtual_advance(qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + ns);
}

/* irq_handler: NULL for isa_test_irq_record. */
static inline ISABus *isa_test_init(qemu_irq_handler irq_handler)
{
    ISABus *bus;

    memory_init_system();
    bus = isa_bus_new(NULL, get_system_io(), get_system_memory());
    for (int i = 0; i < 16; i++) {
        bus->irqs[i] = qemu_allocate_irq(irq_handler ? irq_handler : isa_test_irq_record,
                                         NULL, i);
    }
    qemu_clock_virtual_set_manual(true);
    return bus;
}

#endif

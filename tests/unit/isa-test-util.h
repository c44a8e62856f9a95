/*
 * Shared by the ISA device unit tests: system address spaces, an ISA bus
 * whose 16 IRQ lines call the test's handler, and the virtual clock in
 * manual mode (the test advances it).  Header-only.
 */
#ifndef KVMPC_TESTS_ISA_TEST_UTIL_H
#define KVMPC_TESTS_ISA_TEST_UTIL_H

#include "hw/isa/isa.h"
#include "hw/memory.h"
#include "system/main-loop.h"

static inline ISABus *isa_test_init(qemu_irq_handler irq_handler)
{
    ISABus *bus;

    memory_init_system();
    bus = isa_bus_new(NULL, get_system_io(), get_system_memory());
    for (int i = 0; i < 16; i++) {
        bus->irqs[i] = qemu_allocate_irq(irq_handler, NULL, i);
    }
    qemu_clock_virtual_set_manual(true);
    return bus;
}

#endif

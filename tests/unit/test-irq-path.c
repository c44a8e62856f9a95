/*
 * The whole userspace interrupt path a software CPU will use, with the
 * real devices end to end: the 8259A pair (INT -> x86_pic_intr_line ->
 * the BSP LAPIC's LINT0 in virtual-wire mode -> cpu_get_interrupt ->
 * pic_read_irq), and the IOAPIC (APIC bus message -> LAPIC IRR ->
 * cpu_get_interrupt; the LAPIC's EOI of a level vector -> EOI broadcast
 * -> remote IRR, re-delivery of a line still asserted).
 */
#include <glib.h>

#include "hw/qdev.h"
#include "hw/isa/isa.h"
#include "hw/memory.h"
#include "hw/i386/x86-irq.h"
#include "hw/intc/apic.h"
#include "hw/intc/i8259.h"
#include "hw/intc/ioapic.h"
#include "isa-test-util.h"
#include "pio-test-util.h"

#define LAPIC_EOI       0xb0
#define LAPIC_SVR       0xf0

static CPUState *cpu0;
static DeviceState *lapic, *master, *ioapic;
static qemu_irq pic_in[I8259_NUM_IRQS];

static void isa_irq_handler(void *opaque, int n, int level)
{
}

static void ioapic_write_rte(int pin, uint64_t entry)
{
    address_space_st(&address_space_memory, IOAPIC_DEFAULT_ADDRESS, 0x11 + 2 * pin, 4);
    address_space_st(&address_space_memory, IOAPIC_DEFAULT_ADDRESS + 0x10, entry >> 32, 4);
    address_space_st(&address_space_memory, IOAPIC_DEFAULT_ADDRESS, 0x10 + 2 * pin, 4);
    address_space_st(&address_space_memory, IOAPIC_DEFAULT_ADDRESS + 0x10, (uint32_t)entry, 4);
}

static bool hard_pending(void)
{
    return cpu_interrupt_pending(cpu0, CPU_INTERRUPT_HARD);
}

static void gsi(int n, int level)
{
    qemu_set_irq(qdev_get_gpio_in(ioapic, n), level);
}

static void test_pic_through_lint0(void)
{
    outb(0x20, 0x11);
    outb(0x21, 0x08);
    outb(0x21, 0x04);
    outb(0x21, 0x01);
    outb(0xa0, 0x11);
    outb(0xa1, 0x70);
    outb(0xa1, 0x02);
    outb(0xa1, 0x01);
    g_assert_false(hard_pending());
    qemu_set_irq(pic_in[1], 1);
    g_assert_true(hard_pending());
    g_assert_cmphex(cpu_get_interrupt(cpu0), ==, 0x09);
    g_assert_false(hard_pending());
    qemu_set_irq(pic_in[1], 0);
    outb(0x20, 0x20);
    /* through the cascade */
    qemu_set_irq(pic_in[12], 1);
    qemu_set_irq(pic_in[12], 0);
    g_assert_true(hard_pending());
    g_assert_cmphex(cpu_get_interrupt(cpu0), ==, 0x74);
    outb(0xa0, 0x20);
    outb(0x20, 0x20);
    g_assert_false(hard_pending());
    outb(0x21, 0xff);                   /* the PIC off, as an APIC OS does */
    outb(0xa1, 0xff);
}

static void test_ioapic_edge(void)
{
    apic_mmio_write(lapic, LAPIC_SVR, 0x1ff, 4);   /* software enable */
    ioapic_write_rte(5, 0x45);                      /* fixed, physical, APIC ID 0 */
    gsi(5, 1);
    gsi(5, 0);
    g_assert_true(hard_pending());
    g_assert_cmphex(cpu_get_interrupt(cpu0), ==, 0x45);
    apic_mmio_write(lapic, LAPIC_EOI, 0, 4);
    g_assert_false(hard_pending());
    /* another destination: nobody takes it */
    ioapic_write_rte(5, 0x45 | 3ull << 56);
    gsi(5, 1);
    gsi(5, 0);
    g_assert_false(hard_pending());
}

static void test_ioapic_level_eoi(void)
{
    ioapic_write_rte(10, 0x4a | 1ull << 15);       /* level */
    gsi(10, 1);
    g_assert_cmphex(cpu_get_interrupt(cpu0), ==, 0x4a);
    g_assert_cmphex(ioapic_get_entry(ioapic, 10) & (1ull << 14), !=, 0);
    /* the guest's EOI with the line still high: the LAPIC broadcasts, the
     * IOAPIC clears remote IRR and delivers again */
    apic_mmio_write(lapic, LAPIC_EOI, 0, 4);
    g_assert_true(hard_pending());
    g_assert_cmphex(cpu_get_interrupt(cpu0), ==, 0x4a);
    gsi(10, 0);                         /* the handler quiets the device */
    apic_mmio_write(lapic, LAPIC_EOI, 0, 4);
    g_assert_false(hard_pending());
    g_assert_cmphex(ioapic_get_entry(ioapic, 10) & (1ull << 14), ==, 0);
}

int main(int argc, char **argv)
{
    g_autoptr(GError) err = NULL;
    ISABus *bus;

    g_test_init(&argc, &argv, NULL);
    bus = isa_test_init(isa_irq_handler);
    cpus = g_ptr_array_new();
    cpu0 = g_new0(CPUState, 1);
    g_ptr_array_add(cpus, cpu0);
    lapic = apic_create(cpu0, true, &err);
    g_assert_no_error(err);
    apic_bus_init();
    master = i8259_init(bus, x86_pic_intr_line(), "i8259", pic_in, &err);
    g_assert_no_error(err);
    x86_irq_set_pic(master, pic_read_irq);
    ioapic = qdev_new(IOAPIC_TYPE, &err);
    g_assert_true(qdev_realize(ioapic, NULL, &err));
    qdev_reset_all();

    g_test_add_func("/irq-path/pic-through-lint0", test_pic_through_lint0);
    g_test_add_func("/irq-path/ioapic-edge", test_ioapic_edge);
    g_test_add_func("/irq-path/ioapic-level-eoi", test_ioapic_level_eoi);
    return g_test_run();
}

/* Local APIC (xAPIC MMIO) and IOAPIC helpers. */
#include "lib.h"

#define MSR_APIC_BASE 0x1b

uintptr_t lapic_base = LAPIC_DEFAULT_BASE;

uint32_t lapic_read(uint32_t reg) { return mmio_read32(lapic_base + reg); }
void lapic_write(uint32_t reg, uint32_t v) { mmio_write32(lapic_base + reg, v); }

void lapic_enable(void)
{
    uint64_t b = rdmsr(MSR_APIC_BASE);
    lapic_base = (uintptr_t)(b & 0xfffff000u);
    if (!(b & (1 << 11)))
        wrmsr(MSR_APIC_BASE, b | (1 << 11));
    lapic_write(LAPIC_SVR, 0x100 | 0xff);       /* software enable, spurious 0xff */
    lapic_write(LAPIC_TPR, 0);
}

uint32_t lapic_id(void) { return lapic_read(LAPIC_ID) >> 24; }
void lapic_eoi(void) { lapic_write(LAPIC_EOI, 0); }

bool lapic_send_ipi(uint32_t apic_id, uint32_t icr_lo)
{
    lapic_write(LAPIC_ICR_HI, apic_id << 24);
    lapic_write(LAPIC_ICR_LO, icr_lo);
    uint64_t d = tsc_deadline_ms(100);
    while (lapic_read(LAPIC_ICR_LO) & (1 << 12)) {    /* delivery status */
        if (tsc_expired(d)) return false;
        pause();
    }
    return true;
}

uint32_t ioapic_read(uintptr_t base, uint32_t reg)
{
    mmio_write32(base, reg);
    return mmio_read32(base + 0x10);
}

void ioapic_write(uintptr_t base, uint32_t reg, uint32_t v)
{
    mmio_write32(base, reg);
    mmio_write32(base + 0x10, v);
}

int ioapic_max_redir(uintptr_t base)
{
    return (ioapic_read(base, 1) >> 16) & 0xff;
}

void ioapic_set_redir(uintptr_t base, int pin, uint64_t e)
{
    /* write high half first, then low half (which may unmask) */
    ioapic_write(base, 0x10 + 2 * pin + 1, (uint32_t)(e >> 32));
    ioapic_write(base, 0x10 + 2 * pin, (uint32_t)e);
}

uint64_t ioapic_get_redir(uintptr_t base, int pin)
{
    uint64_t lo = ioapic_read(base, 0x10 + 2 * pin);
    uint64_t hi = ioapic_read(base, 0x10 + 2 * pin + 1);
    return (hi << 32) | lo;
}

void ioapic_mask_all(uintptr_t base)
{
    int n = ioapic_max_redir(base);
    for (int i = 0; i <= n; i++)
        ioapic_set_redir(base, i, 1u << 16);
}

bool lapic_vec_bit(uint32_t reg0, int vec)
{
    return (lapic_read(reg0 + (uint32_t)(vec / 32) * 0x10) >> (vec % 32)) & 1;
}

bool lapic_send_ipi_shorthand(uint32_t icr_lo)
{
    lapic_write(LAPIC_ICR_LO, icr_lo);
    uint64_t d = tsc_deadline_ms(100);
    while (lapic_read(LAPIC_ICR_LO) & ICR_BUSY) {
        if (tsc_expired(d)) return false;
        pause();
    }
    return true;
}

bool cpuid1_ecx(int bit)
{
    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    return (c >> bit) & 1;
}

bool x2apic_enable(void)
{
    if (!cpuid1_ecx(21))
        return false;
    uint64_t b = rdmsr(MSR_APIC_BASE);
    if (!(b & (1 << 11)))                       /* disabled -> xAPIC first */
        wrmsr(MSR_APIC_BASE, b |= 1 << 11);
    wrmsr(MSR_APIC_BASE, b | (1 << 10));
    return true;
}

uint64_t x2apic_read(uint32_t reg) { return rdmsr(X2APIC_MSR(reg)); }
void x2apic_write(uint32_t reg, uint64_t v) { wrmsr(X2APIC_MSR(reg), v); }

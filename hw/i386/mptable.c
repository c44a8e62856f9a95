/*
 * Intel MultiProcessor Specification 1.4 tables, for guests that boot
 * without ACPI (acpi=off, old kernels).  The floating pointer is at
 * MPTABLE_BASE (0xf0000, in the area the spec says to scan) and the
 * configuration table follows it at 0xf0010.
 *
 * Entries, from the PlatformDesc the devices filled in: one processor per
 * vCPU (its APIC ID, BSP flag on the first; a vCPU whose APIC ID needs more
 * than 8 bits is left out, it has only an ACPI entry), bus 0 "ISA", each IOAPIC,
 * I/O interrupt entries for ISA IRQs 0-15 except the cascade (2) at the
 * GSI and with the flags the interrupt source overrides say (ISA IRQ 0 on
 * IOAPIC pin 2, the SCI level triggered), ExtINT on LINT0, NMI on LINT1.
 */
#include <string.h>
#include "hw/i386/boot.h"
#include "hw/i386/x86-boot-internal.h"
#include "hw/i386/x86-irq.h"
#include "hw/platform-desc.h"

#define MP_SPEC_REV         4           /* 1.4 */
#define MP_FPS_SIZE         16
#define MP_CFG_HDR_SIZE     44
#define MP_PROC_SIZE        20
#define MP_ENTRY_SIZE       8

#define MP_PROCESSOR        0
#define MP_BUS              1
#define MP_IOAPIC           2
#define MP_IOINTR           3
#define MP_LINTR            4

#define MP_INT              0
#define MP_NMI              1
#define MP_EXTINT           3

#define MP_CPU_EN           0x01
#define MP_CPU_BP           0x02
#define MP_APIC_VERSION     0x14
#define MP_IOAPIC_VERSION   0x11
#define MP_ISA_CASCADE_IRQ  2
#define MP_CPU_SIGNATURE    0x600       /* family 6 */
#define MP_CPU_FEATURES     0x201       /* FPU, APIC */

static uint8_t mp_checksum(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;

    while (len--) {
        sum += *p++;
    }
    return (uint8_t)-sum;
}

static uint8_t *mp_entry8(uint8_t *p, uint8_t type, uint8_t a, uint16_t flags,
                          uint8_t bus, uint8_t irq, uint8_t dst, uint8_t pin)
{
    p[0] = type;
    p[1] = a;
    st16(p + 2, flags);
    p[4] = bus;
    p[5] = irq;
    p[6] = dst;
    p[7] = pin;
    return p + MP_ENTRY_SIZE;
}

/* The IOAPIC whose pins cover gsi, or NULL. */
static const PlatformIOAPIC *mp_ioapic_for(const PlatformDesc *pd, uint32_t gsi)
{
    for (unsigned i = 0; i < pd->nr_ioapics; i++) {
        if (gsi >= pd->ioapics[i].gsi_base && gsi < pd->ioapics[i].gsi_base + IOAPIC_NUM_PINS) {
            return &pd->ioapics[i];
        }
    }
    return NULL;
}

bool mptable_build(AddressSpace *as, const PlatformDesc *pd, Error **errp)
{
    unsigned ncpus = pd->ncpus;
    size_t cfg_len = MP_CFG_HDR_SIZE + MP_PROC_SIZE * (size_t)ncpus +
                     MP_ENTRY_SIZE * (1 + pd->nr_ioapics + 15 + 2);
    uint32_t cfg_addr = MPTABLE_BASE + MP_FPS_SIZE;
    uint8_t *buf, *fps, *cfg, *p;
    unsigned count = 0;
    bool ok = true;

    if (ncpus == 0 || ncpus > 254 || MP_FPS_SIZE + cfg_len > MPTABLE_SIZE) {
        error_setg(errp, "MP table: %u vCPUs do not fit", ncpus);
        return false;
    }
    buf = g_malloc0(MP_FPS_SIZE + cfg_len);
    fps = buf;
    cfg = buf + MP_FPS_SIZE;

    memcpy(cfg, "PCMP", 4);
    cfg[6] = MP_SPEC_REV;
    memcpy(cfg + 8, "KVMPC   ", 8);
    memcpy(cfg + 16, "PC          ", 12);
    st32(cfg + 36, APIC_DEFAULT_ADDRESS);
    p = cfg + MP_CFG_HDR_SIZE;
    for (unsigned i = 0; i < ncpus; i++) {
        if (pd->apic_ids[i] >= 0xff) {
            continue;           /* 8-bit IDs only: the guest uses ACPI for those */
        }
        count++;
        p[0] = MP_PROCESSOR;
        p[1] = pd->apic_ids[i];
        p[2] = MP_APIC_VERSION;
        p[3] = MP_CPU_EN | (i == 0 ? MP_CPU_BP : 0);
        st32(p + 4, MP_CPU_SIGNATURE);
        st32(p + 8, MP_CPU_FEATURES);
        p += MP_PROC_SIZE;
    }
    p[0] = MP_BUS;
    p[1] = 0;
    memcpy(p + 2, "ISA   ", 6);
    p += MP_ENTRY_SIZE;
    count++;
    for (unsigned i = 0; i < pd->nr_ioapics; i++, count++) {
        p[0] = MP_IOAPIC;
        p[1] = pd->ioapics[i].id;
        p[2] = MP_IOAPIC_VERSION;
        p[3] = 1;                       /* enabled */
        st32(p + 4, pd->ioapics[i].addr);
        p += MP_ENTRY_SIZE;
    }
    for (unsigned irq = 0; irq < 16; irq++) {
        uint16_t flags;
        uint32_t gsi = platform_isa_irq_to_gsi(pd, irq, &flags);
        const PlatformIOAPIC *io = mp_ioapic_for(pd, gsi);

        if (irq == MP_ISA_CASCADE_IRQ || !io) {
            continue;
        }
        p = mp_entry8(p, MP_IOINTR, MP_INT, flags, 0, irq, io->id, gsi - io->gsi_base);
        count++;
    }
    p = mp_entry8(p, MP_LINTR, MP_EXTINT, 0, 0, 0, 0xff, 0);
    p = mp_entry8(p, MP_LINTR, MP_NMI, 0, 0, 0, 0xff, 1);
    count += 2;
    cfg_len = p - cfg;
    st16(cfg + 4, cfg_len);
    st16(cfg + 34, count);
    cfg[7] = mp_checksum(cfg, cfg_len);

    memcpy(fps, "_MP_", 4);
    st32(fps + 4, cfg_addr);
    fps[8] = 1;                         /* length in 16-byte units */
    fps[9] = MP_SPEC_REV;
    fps[10] = mp_checksum(fps, MP_FPS_SIZE);

    if (address_space_write_rom(as, MPTABLE_BASE, buf, MP_FPS_SIZE + cfg_len) != MEMTX_OK) {
        error_setg(errp, "MP table: writing guest memory at 0x%x failed", MPTABLE_BASE);
        ok = false;
    }
    g_free(buf);
    return ok;
}

/* ACPI RSDP/RSDT/XSDT/MADT discovery with MP-table fallback. */
#include "lib.h"

uint8_t checksum8(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint8_t s = 0;
    while (n--) s += *b++;
    return s;
}

static void *scan_sig(uintptr_t start, uintptr_t end, const char *sig, size_t siglen,
                      size_t cklen, size_t step)
{
    for (uintptr_t a = start; a + cklen <= end; a += step)
        if (!memcmp((void *)a, sig, siglen) && checksum8((void *)a, cklen) == 0)
            return (void *)a;
    return NULL;
}

static uintptr_t ebda_base(void)
{
    uintptr_t e = (uintptr_t)(*(volatile uint16_t *)0x40e) << 4;
    return (e >= 0x80000 && e < 0xa0000) ? e : 0;
}

void *acpi_find_rsdp(void)
{
    void *r = NULL;
    uintptr_t e = ebda_base();
    if (e)
        r = scan_sig(e, e + 1024, "RSD PTR ", 8, 20, 16);
    if (!r)
        r = scan_sig(0xe0000, 0x100000, "RSD PTR ", 8, 20, 16);
    return r;
}

struct acpi_sdt_hdr *acpi_find_table(const char sig[4])
{
    uint8_t *rsdp = acpi_find_rsdp();
    if (!rsdp) return NULL;
    uint8_t rev = rsdp[15];
    uint32_t rsdt = *(uint32_t *)(rsdp + 16);
    uint64_t xsdt = 0;
    if (rev >= 2 && checksum8(rsdp, *(uint32_t *)(rsdp + 20)) == 0)
        xsdt = *(uint64_t *)(rsdp + 24);
    struct acpi_sdt_hdr *root;
    int esz;
    if (xsdt && xsdt < 0x100000000ull) {
        root = (void *)(uintptr_t)xsdt; esz = 8;
    } else {
        root = (void *)(uintptr_t)rsdt; esz = 4;
    }
    if (checksum8(root, root->length) != 0) return NULL;
    int n = (int)((root->length - sizeof(*root)) / esz);
    uint8_t *ents = (uint8_t *)(root + 1);
    for (int i = 0; i < n; i++) {
        uint64_t a = esz == 8 ? *(uint64_t *)(ents + 8 * i) : *(uint32_t *)(ents + 4 * i);
        if (a >= 0x100000000ull) continue;
        struct acpi_sdt_hdr *h = (void *)(uintptr_t)a;
        if (!memcmp(h->sig, sig, 4) && checksum8(h, h->length) == 0)
            return h;
    }
    return NULL;
}

bool madt_parse(struct platform_info *pi)
{
    struct acpi_sdt_hdr *m = acpi_find_table("APIC");
    if (!m) return false;
    memset(pi, 0, sizeof(*pi));
    pi->source = 1;
    uint8_t *p = (uint8_t *)m;
    pi->lapic_addr = *(uint32_t *)(p + 36);
    pi->pcat_compat = *(uint32_t *)(p + 40) & 1;
    for (uint32_t off = 44; off + 2 <= m->length; ) {
        uint8_t type = p[off], len = p[off + 1];
        if (len < 2) break;
        uint8_t *e = p + off;
        switch (type) {
        case 0:                     /* processor local APIC */
            if ((*(uint32_t *)(e + 4) & 1) && pi->ncpus < MAX_CPUS) {
                pi->cpu_acpi_id[pi->ncpus] = e[2];
                pi->cpu_apic_id[pi->ncpus] = e[3];
                pi->ncpus++;
            }
            break;
        case 1:                     /* IOAPIC */
            if (pi->nioapic++ == 0) {
                pi->ioapic_id = e[2];
                pi->ioapic_addr = *(uint32_t *)(e + 4);
                pi->ioapic_gsi_base = *(uint32_t *)(e + 8);
            }
            break;
        case 2:                     /* interrupt source override */
            if (pi->niso < MAX_ISO) {
                pi->iso[pi->niso].bus = e[2];
                pi->iso[pi->niso].irq = e[3];
                pi->iso[pi->niso].gsi = *(uint32_t *)(e + 4);
                pi->iso[pi->niso].flags = *(uint16_t *)(e + 8);
                pi->niso++;
            }
            break;
        case 5:                     /* LAPIC address override */
            pi->lapic_addr = (uint32_t)*(uint64_t *)(e + 4);
            break;
        }
        off += len;
    }
    return true;
}

/* Intel MultiProcessor Specification 1.4 floating pointer + config table */
bool mptable_parse(struct platform_info *pi)
{
    uint8_t *mpf = NULL;
    uintptr_t e = ebda_base();
    if (e) mpf = scan_sig(e, e + 1024, "_MP_", 4, 16, 16);
    if (!mpf) mpf = scan_sig(0x9fc00, 0xa0000, "_MP_", 4, 16, 16);
    if (!mpf) mpf = scan_sig(0xf0000, 0x100000, "_MP_", 4, 16, 16);
    if (!mpf) return false;
    uint32_t cfg = *(uint32_t *)(mpf + 4);
    if (!cfg) return false;         /* default configurations not supported */
    uint8_t *c = (uint8_t *)(uintptr_t)cfg;
    if (memcmp(c, "PCMP", 4)) return false;
    uint16_t len = *(uint16_t *)(c + 4);
    if (checksum8(c, len)) return false;
    memset(pi, 0, sizeof(*pi));
    pi->source = 2;
    pi->lapic_addr = *(uint32_t *)(c + 36);
    uint16_t count = *(uint16_t *)(c + 34);
    uint8_t *p = c + 44;
    int isa_bus = -1;
    for (unsigned i = 0; i < count && p < c + len; i++) {
        switch (p[0]) {
        case 0:
            if ((p[3] & 1) && pi->ncpus < MAX_CPUS) {
                pi->cpu_apic_id[pi->ncpus] = p[1];
                pi->cpu_acpi_id[pi->ncpus] = (uint8_t)pi->ncpus;
                pi->ncpus++;
            }
            p += 20;
            break;
        case 1:
            if (!memcmp(p + 2, "ISA", 3)) isa_bus = p[1];
            p += 8;
            break;
        case 2:
            if ((p[3] & 1) && pi->nioapic++ == 0) {
                pi->ioapic_id = p[1];
                pi->ioapic_addr = *(uint32_t *)(p + 4);
            }
            p += 8;
            break;
        case 3:                     /* I/O interrupt: ISA irq -> IOAPIC pin */
            if (p[1] == 0 && p[4] == isa_bus && p[5] != p[7] && pi->niso < MAX_ISO) {
                pi->iso[pi->niso].bus = 0;
                pi->iso[pi->niso].irq = p[5];
                pi->iso[pi->niso].gsi = p[7];
                pi->iso[pi->niso].flags = *(uint16_t *)(p + 2);
                pi->niso++;
            }
            p += 8;
            break;
        default:
            p += 8;
            break;
        }
    }
    return true;
}

bool platform_discover(struct platform_info *pi)
{
    if (madt_parse(pi)) return true;
    printf("no ACPI MADT, trying MP table\n");
    return mptable_parse(pi);
}

uint32_t isa_irq_to_gsi(const struct platform_info *pi, int irq, uint16_t *flags)
{
    for (int i = 0; i < pi->niso; i++)
        if (pi->iso[i].bus == 0 && pi->iso[i].irq == irq) {
            if (flags) *flags = pi->iso[i].flags;
            return pi->iso[i].gsi;
        }
    if (flags) *flags = 0;
    return (uint32_t)irq;
}

/*
 * ACPI and MP tables (hw/i386/acpi-build.c, mptable.c), read back from
 * guest RAM the way a guest finds them: scan the BIOS area for the RSDP,
 * follow XSDT/RSDT, check every checksum and the contents Linux needs.
 */
#include <string.h>
#include <glib.h>
#include "hw/memory.h"
#include "hw/i386/boot.h"
#include "hw/acpi/pm.h"

static MemoryRegion ram;
static uint8_t *mem;
static uint32_t identity_ids[256];     /* APIC ID = index */

static void ram_setup(void)
{
    static bool done;

    if (!done) {
        memory_init_system();
        g_assert_true(memory_region_init_ram(&ram, "test.ram", 2 * 1024 * 1024, NULL));
        memory_region_add_subregion(get_system_memory(), 0, &ram);
        mem = memory_region_get_ram_ptr(&ram);
        done = true;
    }
    memset(mem + 0xe0000, 0, 0x20000);
}

static uint16_t rd16(uint64_t a) { return mem[a] | mem[a + 1] << 8; }
static uint32_t rd32(uint64_t a) { return rd16(a) | (uint32_t)rd16(a + 2) << 16; }
static uint64_t rd64(uint64_t a) { return rd32(a) | (uint64_t)rd32(a + 4) << 32; }

static uint8_t sum8(uint64_t a, size_t len)
{
    uint8_t s = 0;

    for (size_t i = 0; i < len; i++) {
        s += mem[a + i];
    }
    return s;
}

static bool contains(const uint8_t *hay, size_t len, const uint8_t *needle, size_t n)
{
    for (size_t i = 0; i + n <= len; i++) {
        if (!memcmp(hay + i, needle, n)) {
            return true;
        }
    }
    return false;
}

static uint64_t find_rsdp(void)
{
    for (uint64_t a = 0xe0000; a < 0x100000; a += 16) {
        if (!memcmp(mem + a, "RSD PTR ", 8) && sum8(a, 20) == 0) {
            return a;
        }
    }
    return 0;
}

/* Checks the table header and checksum at a; returns its length. */
static uint32_t check_table(uint64_t a, const char *sig)
{
    uint32_t len = rd32(a + 4);

    g_assert_cmpmem(mem + a, 4, sig, 4);
    g_assert_cmpuint(len, >=, 36);
    g_assert_cmpuint(a + len, <=, 0x100000);
    g_assert_cmpuint(sum8(a, len), ==, 0);
    g_assert_cmpmem(mem + a + 10, 6, "KVMPC ", 6);
    return len;
}

static uint64_t find_table(uint64_t xsdt, const char *sig)
{
    uint32_t len = rd32(xsdt + 4);

    for (uint32_t off = 36; off + 8 <= len; off += 8) {
        uint64_t t = rd64(xsdt + off);
        if (!memcmp(mem + t, sig, 4)) {
            return t;
        }
    }
    return 0;
}

static void test_acpi_tables(void)
{
    static const unsigned counts[] = { 1, 2, 4, 64, 255 };

    for (size_t c = 0; c < G_N_ELEMENTS(counts); c++) {
        unsigned ncpus = counts[c];
        uint64_t rsdp = 0, scanned, rsdt, xsdt, fadt, madt, dsdt, facs;
        uint32_t len, lapics = 0, isos = 0, ioapics = 0, nmis = 0;
        Error *err = NULL;
        static const uint8_t s5[] = {
            0x08, '\\', '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00
        };
    /* Device(PCI0) { Name(_HID, EisaId("PNP0A03")) Name(_ADR, 0) Name(_UID, 0)
     * Name(_CRS, Buffer...) } inside Scope(\_SB), encoded by hand from the
     * ACPI spec (20.2, 6.4): the names, then two of the resource descriptors
     * (bus numbers 0-ff; the 32-bit hole 0xc0000000-0xfebfffff). */
    static const uint8_t pci0[] = {
        'P', 'C', 'I', '0',
        0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x03,
        0x08, '_', 'A', 'D', 'R', 0x00,
        0x08, '_', 'U', 'I', 'D', 0x00,
        0x08, '_', 'C', 'R', 'S', 0x11,
    };
    static const uint8_t crs_bus[] = {
        0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x00,
        0x00, 0x00, 0x00, 0x01,
    };
    static const uint8_t crs_hole[] = {
        0x87, 0x17, 0x00, 0x00, 0x0c, 0x01, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0xc0, 0xff, 0xff, 0xbf, 0xfe,
    };
    static const uint8_t sb[] = { '\\', '_', 'S', 'B', '_', 0x5b, 0x82 };

        ram_setup();
        g_assert_true(acpi_build_tables(&address_space_memory, ncpus, identity_ids, &rsdp, &err));
        g_assert_no_error(err);
        scanned = find_rsdp();
        g_assert_cmpuint(scanned, ==, rsdp);
        g_assert_cmpuint(rsdp % 16, ==, 0);
        g_assert_cmpuint(mem[rsdp + 15], ==, 2);
        g_assert_cmpuint(rd32(rsdp + 20), ==, 36);
        g_assert_cmpuint(sum8(rsdp, 36), ==, 0);

        rsdt = rd32(rsdp + 16);
        xsdt = rd64(rsdp + 24);
        len = check_table(rsdt, "RSDT");
        g_assert_cmpuint(len, ==, 36 + 2 * 4);
        len = check_table(xsdt, "XSDT");
        g_assert_cmpuint(len, ==, 36 + 2 * 8);
        for (int i = 0; i < 2; i++) {
            g_assert_cmpuint(rd32(rsdt + 36 + 4 * i), ==, rd64(xsdt + 36 + 8 * i));
        }

        fadt = find_table(xsdt, "FACP");
        g_assert_cmpuint(fadt, !=, 0);
        len = check_table(fadt, "FACP");
        g_assert_cmpuint(len, ==, 268);
        g_assert_cmpuint(mem[fadt + 8], ==, 5);
        g_assert_cmpuint(rd16(fadt + 46), ==, 9);                   /* SCI_INT */
        g_assert_cmpuint(rd32(fadt + 48), ==, 0);                   /* SMI_CMD */
        g_assert_cmpuint(rd32(fadt + 56), ==, ACPI_PM1_EVT_BLK);
        g_assert_cmpuint(rd32(fadt + 64), ==, ACPI_PM1_CNT_BLK);
        g_assert_cmpuint(rd32(fadt + 76), ==, ACPI_PM_TMR_BLK);
        g_assert_cmpuint(mem[fadt + 88], ==, 4);
        g_assert_cmpuint(mem[fadt + 89], ==, 2);
        g_assert_cmpuint(mem[fadt + 91], ==, 4);
        g_assert_cmpuint(rd16(fadt + 109) & 2, ==, 2);              /* 8042 */
        g_assert_cmpuint(rd32(fadt + 112), ==, 0x425);
        g_assert_cmpuint(mem[fadt + 116], ==, 1);                   /* RESET_REG: I/O */
        g_assert_cmpuint(rd64(fadt + 120), ==, 0xcf9);
        g_assert_cmpuint(mem[fadt + 128], ==, 6);
        g_assert_cmpuint(rd64(fadt + 172 + 4), ==, ACPI_PM1_CNT_BLK);   /* X_PM1a_CNT */
        g_assert_cmpuint(mem[fadt + 172 + 1], ==, 16);
        g_assert_cmpuint(rd64(fadt + 148 + 4), ==, ACPI_PM1_EVT_BLK);
        g_assert_cmpuint(rd64(fadt + 208 + 4), ==, ACPI_PM_TMR_BLK);

        dsdt = rd32(fadt + 40);
        g_assert_cmpuint(rd64(fadt + 140), ==, dsdt);
        len = check_table(dsdt, "DSDT");
        g_assert_true(contains(mem + dsdt + 36, len - 36, s5, sizeof(s5)));
        g_assert_true(contains(mem + dsdt + 36, len - 36, pci0, sizeof(pci0)));
        g_assert_true(contains(mem + dsdt + 36, len - 36, crs_bus, sizeof(crs_bus)));
        g_assert_true(contains(mem + dsdt + 36, len - 36, crs_hole, sizeof(crs_hole)));
        g_assert_true(contains(mem + dsdt + 36, len - 36, sb, sizeof(sb)));

        facs = rd32(fadt + 36);
        g_assert_cmpuint(facs % 64, ==, 0);
        g_assert_cmpmem(mem + facs, 4, "FACS", 4);
        g_assert_cmpuint(rd32(facs + 4), ==, 64);

        madt = find_table(xsdt, "APIC");
        g_assert_cmpuint(madt, !=, 0);
        len = check_table(madt, "APIC");
        g_assert_cmpuint(rd32(madt + 36), ==, 0xfee00000);
        g_assert_cmpuint(rd32(madt + 40) & 1, ==, 1);
        for (uint32_t off = 44; off < len; off += mem[madt + off + 1]) {
            uint64_t e = madt + off;
            g_assert_cmpuint(mem[e + 1], >=, 2);
            switch (mem[e]) {
            case 0:
                g_assert_cmpuint(mem[e + 3], ==, lapics);
                g_assert_cmpuint(rd32(e + 4) & 1, ==, 1);
                lapics++;
                break;
            case 1:
                g_assert_cmpuint(rd32(e + 4), ==, 0xfec00000);
                g_assert_cmpuint(rd32(e + 8), ==, 0);
                ioapics++;
                break;
            case 2:
                if (mem[e + 3] == 0) {
                    g_assert_cmpuint(rd32(e + 4), ==, 2);
                    g_assert_cmpuint(rd16(e + 8), ==, 0);
                } else {
                    g_assert_cmpuint(mem[e + 3], ==, 9);
                    g_assert_cmpuint(rd32(e + 4), ==, 9);
                    g_assert_cmpuint(rd16(e + 8), ==, 0xd);
                }
                isos++;
                break;
            case 4:
                g_assert_cmpuint(mem[e + 5], ==, 1);
                nmis++;
                break;
            default:
                g_assert_not_reached();
            }
        }
        g_assert_cmpuint(lapics, ==, ncpus);
        g_assert_cmpuint(ioapics, ==, 1);
        g_assert_cmpuint(isos, ==, 2);
        g_assert_cmpuint(nmis, ==, 1);
    }
}

static void test_acpi_bad(void)
{
    uint64_t rsdp = 0;
    Error *err = NULL;

    ram_setup();
    g_assert_false(acpi_build_tables(&address_space_memory, 0, identity_ids, &rsdp, &err));
    g_clear_error(&err);
    g_assert_false(acpi_build_tables(&address_space_memory, 256, identity_ids, &rsdp, &err));
    g_assert_nonnull(strstr(err->message, "256"));
    g_clear_error(&err);
    g_assert_cmpuint(find_rsdp(), ==, 0);
}

static void test_mptable(void)
{
    static const unsigned counts[] = { 1, 4, 100 };

    for (size_t c = 0; c < G_N_ELEMENTS(counts); c++) {
        unsigned ncpus = counts[c], procs = 0, ints = 0, lints = 0, count;
        uint64_t fps = 0, cfg, p;
        uint16_t len;
        Error *err = NULL;

        ram_setup();
        g_assert_true(mptable_build(&address_space_memory, ncpus, identity_ids, &err));
        g_assert_no_error(err);
        for (uint64_t a = 0xf0000; a < 0x100000; a += 16) {
            if (!memcmp(mem + a, "_MP_", 4) && sum8(a, 16) == 0) {
                fps = a;
                break;
            }
        }
        g_assert_cmpuint(fps, !=, 0);
        g_assert_cmpuint(mem[fps + 8], ==, 1);
        g_assert_cmpuint(mem[fps + 9], ==, 4);
        cfg = rd32(fps + 4);
        g_assert_cmpmem(mem + cfg, 4, "PCMP", 4);
        len = rd16(cfg + 4);
        g_assert_cmpuint(sum8(cfg, len), ==, 0);
        g_assert_cmpuint(rd32(cfg + 36), ==, 0xfee00000);
        count = rd16(cfg + 34);
        p = cfg + 44;
        for (unsigned i = 0; i < count; i++) {
            switch (mem[p]) {
            case 0:
                g_assert_cmpuint(mem[p + 1], ==, procs);
                g_assert_cmpuint(mem[p + 3], ==, procs == 0 ? 3 : 1);
                procs++;
                p += 20;
                break;
            case 1:
                g_assert_cmpmem(mem + p + 2, 3, "ISA", 3);
                p += 8;
                break;
            case 2:
                g_assert_cmpuint(rd32(p + 4), ==, 0xfec00000);
                p += 8;
                break;
            case 3:
                g_assert_cmpuint(mem[p + 7], ==, mem[p + 5] == 0 ? 2 : mem[p + 5]);
                ints++;
                p += 8;
                break;
            case 4:
                g_assert_cmpuint(mem[p + 7], ==, mem[p + 1] == 3 ? 0 : 1);
                lints++;
                p += 8;
                break;
            default:
                g_assert_not_reached();
            }
        }
        g_assert_cmpuint(p, ==, cfg + len);
        g_assert_cmpuint(procs, ==, ncpus);
        g_assert_cmpuint(ints, ==, 15);
        g_assert_cmpuint(lints, ==, 2);
    }
    g_assert_false(mptable_build(&address_space_memory, 0, identity_ids, NULL));
    g_assert_false(mptable_build(&address_space_memory, 255, identity_ids, NULL));
}

/* APIC IDs from a topology (-smp 12,sockets=2,cores=3,threads=2: 0-5,
 * 8-13) and one that needs x2APIC (300): the MADT lists exactly those IDs
 * with UIDs in index order, the MP table the 8-bit ones. */
static void test_topology_ids(void)
{
    static const uint32_t ids[] = { 0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13, 300 };
    const unsigned n = G_N_ELEMENTS(ids);
    uint64_t rsdp = 0, xsdt, madt, fps = 0, cfg, p;
    uint32_t len, seen = 0, x2 = 0;
    Error *err = NULL;

    ram_setup();
    g_assert_true(acpi_build_tables(&address_space_memory, n, ids, &rsdp, &err));
    g_assert_no_error(err);
    xsdt = rd64(rsdp + 24);
    madt = find_table(xsdt, "APIC");
    len = check_table(madt, "APIC");
    for (uint32_t off = 44; off < len; off += mem[madt + off + 1]) {
        uint64_t e = madt + off;
        if (mem[e] == 0) {
            g_assert_cmpuint(mem[e + 1], ==, 8);
            g_assert_cmpuint(mem[e + 2], ==, seen);             /* UID = index */
            g_assert_cmpuint(mem[e + 3], ==, ids[seen]);
            seen++;
        } else if (mem[e] == 9) {
            g_assert_cmpuint(mem[e + 1], ==, 16);
            g_assert_cmpuint(rd32(e + 4), ==, 300);
            g_assert_cmpuint(rd32(e + 8) & 1, ==, 1);
            g_assert_cmpuint(rd32(e + 12), ==, n - 1);
            x2++;
        }
    }
    g_assert_cmpuint(seen, ==, n - 1);
    g_assert_cmpuint(x2, ==, 1);

    g_assert_true(mptable_build(&address_space_memory, n, ids, &err));
    g_assert_no_error(err);
    for (uint64_t a = 0xf0000; a < 0x100000 && !fps; a += 16) {
        if (!memcmp(mem + a, "_MP_", 4) && sum8(a, 16) == 0) {
            fps = a;
        }
    }
    cfg = rd32(fps + 4);
    g_assert_cmpuint(sum8(cfg, rd16(cfg + 4)), ==, 0);
    p = cfg + 44;
    for (unsigned i = 0; i < n - 1; i++, p += 20) {
        g_assert_cmpuint(mem[p], ==, 0);
        g_assert_cmpuint(mem[p + 1], ==, ids[i]);
        g_assert_cmpuint(mem[p + 3], ==, i == 0 ? 3 : 1);
    }
    g_assert_cmpuint(mem[p], ==, 1);                            /* then the bus */
}

int main(int argc, char **argv)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(identity_ids); i++) {
        identity_ids[i] = i;
    }
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/acpi/topology-ids", test_topology_ids);
    g_test_add_func("/acpi/tables", test_acpi_tables);
    g_test_add_func("/acpi/bad", test_acpi_bad);
    g_test_add_func("/acpi/mptable", test_mptable);
    return g_test_run();
}

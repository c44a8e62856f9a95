/*
 * ACPI and MP tables (hw/i386/acpi-build.c, mptable.c), read back from
 * guest RAM the way a guest finds them: scan the BIOS area for the RSDP,
 * follow XSDT/RSDT, check every checksum and the contents Linux needs.
 */
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <unistd.h>
#include "block/blockdev.h"
#include "hw/memory.h"
#include "hw/i386/boot.h"
#include "hw/acpi/pm.h"
#include "hw/platform-desc.h"
#include "hw/pci-host/i440fx.h"
#include "isa-test-util.h"

static MemoryRegion ram;
static uint8_t *mem;
static void platform_init(void);

/* The PC's devices that describe themselves, made the way the machine
 * makes them; pc_devices() replaces them with another configuration. */
static DeviceState *devs[12];
static unsigned ndevs;
static PlatformDesc pd;

static void irq_ignore(void *opaque, int n, int level)
{
}

static DeviceState *make(const char *type, BusState *bus, const char *props)
{
    Error *err = NULL;
    DeviceState *dev = qdev_new(type, &err);
    g_auto(GStrv) kv = props ? g_strsplit(props, ",", -1) : NULL;

    g_assert_no_error(err);
    for (int i = 0; kv && kv[i]; i++) {
        g_auto(GStrv) p = g_strsplit(kv[i], "=", 2);
        g_assert_true(qdev_prop_parse(dev, p[0], p[1], &err));
    }
    g_assert_true(qdev_realize(dev, bus, &err));
    g_assert_no_error(err);
    devs[ndevs++] = dev;
    return dev;
}

static ISABus *isa;
static PCIBus *pci;

/* The address spaces, the ISA bus and the host bridge, once. */
static void platform_init(void)
{
    static MemoryRegion pci_mem;
    Error *err = NULL;

    if (!isa) {
        isa = isa_test_init(irq_ignore);
        memory_region_init(&pci_mem, "pci", 1ULL << 32);
        memory_region_add_subregion_overlap(get_system_memory(), 0, &pci_mem, -1);
        /* The host bridge stays: its PCI0 node is always there. */
        pci = i440fx_init(&pci_mem, get_system_io(), 0xc0000000u, 0xfebfffffu, NULL, &err);
        g_assert_nonnull(pci);
        g_assert_no_error(err);
    }
}

static void pc_devices(const char *pm_props, bool i8042)
{
    platform_init();
    while (ndevs) {
        qdev_free(devs[--ndevs]);
    }
    make("kvm-ioapic", NULL, NULL);
    make("acpi-pm", isa->bus, pm_props);
    make("pc-reset-control", isa->bus, NULL);
    make("mc146818rtc", isa->bus, NULL);
    if (i8042) {
        make("i8042", isa->bus, NULL);
    }
}

/* Collects what the devices say, with ncpus CPUs (APIC IDs ids, or 0..n-1). */
static const PlatformDesc *describe(unsigned ncpus, const uint32_t *ids)
{
    if (pd.aml_sb) {
        platform_desc_free(&pd);
    }
    platform_desc_init(&pd);
    pd.ncpus = ncpus;
    for (unsigned i = 0; i < MIN(ncpus, PLATFORM_MAX_CPUS); i++) {
        pd.apic_ids[i] = ids ? ids[i] : i;
    }
    platform_desc_collect(&pd);
    return &pd;
}

static void ram_setup(void)
{
    static bool done;

    if (!done) {
        platform_init();
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
    /* Device(RTC_) { Name(_HID, EisaId("PNP0B00")) Name(_CRS, ResourceTemplate()
     * { IO(Decode16, 0x70, 0x70, 1, 2) IRQNoFlags() {8} }) }, and the
     * keyboard's and mouse's nodes, as the devices describe themselves. */
    static const uint8_t rtc[] = {
        'R', 'T', 'C', '_', 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0b, 0x00,
    };
    static const uint8_t rtc_crs[] = {
        0x47, 0x01, 0x70, 0x00, 0x70, 0x00, 0x01, 0x02, 0x22, 0x00, 0x01, 0x79, 0x00,
    };
    static const uint8_t kbd[] = {
        'K', 'B', 'D', '_', 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x03, 0x03,
    };
    static const uint8_t kbd_crs[] = {
        0x47, 0x01, 0x60, 0x00, 0x60, 0x00, 0x01, 0x01,
        0x47, 0x01, 0x64, 0x00, 0x64, 0x00, 0x01, 0x01, 0x22, 0x02, 0x00, 0x79, 0x00,
    };
    static const uint8_t mou[] = {
        'M', 'O', 'U', '_', 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0f, 0x13,
        0x08, '_', 'C', 'R', 'S', 0x11, 0x08, 0x0a, 0x05, 0x22, 0x00, 0x10, 0x79, 0x00,
    };

        ram_setup();
        pc_devices(NULL, true);
        acpi_build_tables(&address_space_memory, describe(ncpus, NULL), &rsdp, &err);
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
        g_assert_true(contains(mem + dsdt + 36, len - 36, rtc, sizeof(rtc)));
        g_assert_true(contains(mem + dsdt + 36, len - 36, rtc_crs, sizeof(rtc_crs)));
        g_assert_true(contains(mem + dsdt + 36, len - 36, kbd, sizeof(kbd)));
        g_assert_true(contains(mem + dsdt + 36, len - 36, kbd_crs, sizeof(kbd_crs)));
        g_assert_true(contains(mem + dsdt + 36, len - 36, mou, sizeof(mou)));

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
    g_assert_false(acpi_build_tables(&address_space_memory, describe(0, NULL), &rsdp, &err));
    g_clear_error(&err);
    g_assert_false(acpi_build_tables(&address_space_memory, describe(256, NULL), &rsdp, &err));
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
        pc_devices(NULL, true);
        g_assert_true(mptable_build(&address_space_memory, describe(ncpus, NULL), &err));
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
    g_assert_false(mptable_build(&address_space_memory, describe(0, NULL), NULL));
    g_assert_false(mptable_build(&address_space_memory, describe(255, NULL), NULL));
}

static uint64_t tables_find(const char *sig)
{
    uint64_t rsdp = find_rsdp();

    g_assert_cmpuint(rsdp, !=, 0);
    return find_table(rd64(rsdp + 24), sig);
}

/* The tables follow the devices: an acpi-pm at other ports with another
 * SCI, and no i8042, without touching the builders. */
static void test_acpi_follows_devices(void)
{
    uint64_t rsdp = 0, fadt, madt, dsdt;
    uint32_t len, sci_isos = 0;
    Error *err = NULL;

    ram_setup();
    pc_devices("iobase=0xb000,sci-irq=10", false);
    g_assert_true(acpi_build_tables(&address_space_memory, describe(2, NULL), &rsdp, &err));
    g_assert_no_error(err);
    fadt = tables_find("FACP");
    g_assert_cmpuint(rd16(fadt + 46), ==, 10);                  /* SCI_INT */
    g_assert_cmpuint(rd32(fadt + 56), ==, 0xb000);              /* PM1a_EVT_BLK */
    g_assert_cmpuint(rd32(fadt + 64), ==, 0xb004);              /* PM1a_CNT_BLK */
    g_assert_cmpuint(rd32(fadt + 76), ==, 0xb008);              /* PM_TMR_BLK */
    g_assert_cmpuint(rd64(fadt + 172 + 4), ==, 0xb004);         /* X_PM1a_CNT_BLK */
    g_assert_cmpuint(rd16(fadt + 109), ==, 1);                  /* legacy devices, no 8042 */
    madt = tables_find("APIC");
    len = rd32(madt + 4);
    for (uint32_t off = 44; off < len; off += mem[madt + off + 1]) {
        uint64_t e = madt + off;
        if (mem[e] == 2 && mem[e + 3] != 0) {
            g_assert_cmpuint(mem[e + 3], ==, 10);               /* the SCI's own IRQ */
            g_assert_cmpuint(rd32(e + 4), ==, 10);
            g_assert_cmpuint(rd16(e + 8), ==, 0xd);             /* level, active high */
            sci_isos++;
        }
    }
    g_assert_cmpuint(sci_isos, ==, 1);
    dsdt = rd32(fadt + 40);
    len = check_table(dsdt, "DSDT");
    g_assert_false(contains(mem + dsdt, len, (const uint8_t *)"KBD_", 4));
    g_assert_false(contains(mem + dsdt, len, (const uint8_t *)"MOU_", 4));
    g_assert_true(contains(mem + dsdt, len, (const uint8_t *)"RTC_", 4));

    /* The MP table says the same: ISA IRQ 10 level triggered, active high. */
    g_assert_true(mptable_build(&address_space_memory, describe(2, NULL), &err));
    for (uint64_t a = 0xf0000; a < 0x100000; a += 16) {
        if (!memcmp(mem + a, "_MP_", 4)) {
            uint64_t cfg = rd32(a + 4), p = cfg + 44;
            unsigned found = 0;
            for (unsigned i = 0; i < rd16(cfg + 34); i++) {
                if (mem[p] == 3 && mem[p + 5] == 10) {
                    g_assert_cmpuint(rd16(p + 2), ==, 0xd);
                    found++;
                }
                p += mem[p] == 0 ? 20 : 8;
            }
            g_assert_cmpuint(found, ==, 1);
            break;
        }
    }
    pc_devices(NULL, true);
}

/* APIC IDs need not be contiguous (topologies that are not powers of
 * two): the MADT and the MP table list the ones the machine gives. */
static void test_apic_ids(void)
{
    static const uint32_t ids[] = { 0, 1, 2, 4, 5, 6 };
    uint64_t rsdp = 0, madt;
    uint32_t len, n = 0;
    Error *err = NULL;

    ram_setup();
    pc_devices(NULL, true);
    g_assert_true(acpi_build_tables(&address_space_memory, describe(6, ids), &rsdp, &err));
    madt = tables_find("APIC");
    len = rd32(madt + 4);
    for (uint32_t off = 44; off < len; off += mem[madt + off + 1]) {
        if (mem[madt + off] == 0) {
            g_assert_cmpuint(mem[madt + off + 2], ==, n);       /* processor UID */
            g_assert_cmpuint(mem[madt + off + 3], ==, ids[n]);  /* APIC ID */
            n++;
        }
    }
    g_assert_cmpuint(n, ==, 6);

    /* IDs above 254 get Local x2APIC entries (type 9), and no MP entry. */
    {
        static const uint32_t big[] = { 0, 1, 256, 300 };
        uint32_t x2 = 0, x1 = 0;

        g_assert_true(acpi_build_tables(&address_space_memory, describe(4, big), &rsdp, &err));
        madt = tables_find("APIC");
        len = rd32(madt + 4);
        for (uint32_t off = 44; off < len; off += mem[madt + off + 1]) {
            uint64_t e = madt + off;
            if (mem[e] == 0) {
                g_assert_cmpuint(mem[e + 3], ==, big[x1]);
                x1++;
            } else if (mem[e] == 9) {
                g_assert_cmpuint(mem[e + 1], ==, 16);
                g_assert_cmpuint(rd32(e + 4), ==, big[2 + x2]);
                g_assert_cmpuint(rd32(e + 12), ==, 2 + x2);     /* processor UID */
                x2++;
            }
        }
        g_assert_cmpuint(x1, ==, 2);
        g_assert_cmpuint(x2, ==, 2);
    }
    g_assert_true(mptable_build(&address_space_memory, describe(6, ids), &err));
    for (uint64_t a = 0xf0000; a < 0x100000; a += 16) {
        if (!memcmp(mem + a, "_MP_", 4)) {
            uint64_t p = rd32(a + 4) + 44;
            for (unsigned i = 0; i < 6; i++, p += 20) {
                g_assert_cmpuint(mem[p], ==, 0);
                g_assert_cmpuint(mem[p + 1], ==, ids[i]);
            }
            break;
        }
    }
}

/* Disassembles the DSDT at dsdt with iasl (acpica-tools) when it is
 * installed: it must decode without errors and show what we wrote. */
static void iasl_check(uint64_t dsdt, uint32_t len, const char *const *expect)
{
    g_autofree char *iasl = g_find_program_in_path("iasl");
    g_autofree char *dir = NULL, *aml = NULL, *dsl = NULL, *out = NULL, *text = NULL;
    g_autoptr(GError) gerr = NULL;
    int status = -1;

    if (!iasl) {
        g_test_message("iasl not installed: DSDT not disassembled");
        return;
    }
    dir = g_dir_make_tmp("kvmpc-dsdt-XXXXXX", &gerr);
    g_assert_no_error(gerr);
    aml = g_build_filename(dir, "dsdt.aml", NULL);
    dsl = g_build_filename(dir, "dsdt.dsl", NULL);
    g_assert_true(g_file_set_contents(aml, (const char *)mem + dsdt, len, &gerr));
    {
        const char *argv[] = { iasl, "-d", aml, NULL };
        g_assert_true(g_spawn_sync(dir, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                                   NULL, &out, NULL, &status, &gerr));
    }
    g_assert_no_error(gerr);
    g_assert_cmpint(status, ==, 0);
    g_assert_true(g_file_get_contents(dsl, &text, NULL, &gerr));
    for (int i = 0; expect[i]; i++) {
        if (!strstr(text, expect[i])) {
            g_test_message("iasl output:\n%s", text);
            g_test_fail_printf("the disassembled DSDT lacks '%s'", expect[i]);
        }
    }
    g_unlink(dsl);
    g_unlink(aml);
    g_rmdir(dir);
}

/* The PIIX3 (interrupt links, _PRT, _PIC), the PIIX4 PM function (the
 * FADT's blocks at 0x600 before any firmware programs PMBA) and the HPET
 * (its table and DSDT node). */
static void test_piix_hpet(void)
{
    static const char *const expect[] = {
        "Name (PICF, Zero)", "Method (_PIC, 1",
        "Device (ISA)", "OperationRegion (PIRQ, PCI_Config, 0x60, 0x04)",
        "Device (LNKA)", "Device (LNKD)", "Device (GSIA)", "Device (GSID)",
        "Method (_PRT, 0", "Method (_SRS, 1", "Method (_DIS, 0",
        "Interrupt (ResourceConsumer, Level, ActiveHigh, Shared, ,, )",
        "0x00000010,", "ISA.LNKA", "ISA.GSID",
        "Device (HPET)", "EisaId (\"PNP0103\")",
        "Memory32Fixed (ReadWrite,", "0xFED00000,", NULL,
    };
    static const uint8_t hpet_node[] = {
        'H', 'P', 'E', 'T', 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x01, 0x03,
    };
    uint64_t rsdp = 0, xsdt, hpet, fadt, dsdt;
    uint32_t len;
    Error *err = NULL;

    ram_setup();
    pc_devices(NULL, true);
    /* the PM function brings its own acpi-pm: drop the ISA one */
    g_assert_cmpstr(devs[1]->klass->name, ==, "acpi-pm");
    qdev_free(devs[1]);
    memmove(&devs[1], &devs[2], (--ndevs - 1) * sizeof(devs[0]));
    make("PIIX3", pci->qbus, "addr=1.0,multifunction=on");
    make("PIIX4_PM", pci->qbus, "addr=1.3");
    make("hpet", NULL, NULL);
    g_assert_true(acpi_build_tables(&address_space_memory, describe(1, NULL), &rsdp, &err));
    g_assert_no_error(err);

    xsdt = rd64(rsdp + 24);
    g_assert_cmpuint(rd32(xsdt + 4), ==, 36 + 3 * 8);
    hpet = find_table(xsdt, "HPET");
    g_assert_cmpuint(hpet, !=, 0);
    g_assert_cmpuint(check_table(hpet, "HPET"), ==, 56);
    g_assert_cmpuint(rd32(hpet + 36), ==, 0x8086a201);             /* event timer block ID */
    g_assert_cmpuint(mem[hpet + 40], ==, 0);                       /* system memory */
    g_assert_cmpuint(rd64(hpet + 44), ==, 0xfed00000);
    g_assert_cmpuint(mem[hpet + 52], ==, 0);                       /* HPET number */

    fadt = find_table(xsdt, "FACP");
    g_assert_cmpuint(rd32(fadt + 56), ==, 0x600);      /* PMBA not programmed yet */
    g_assert_cmpuint(rd32(fadt + 76), ==, 0x608);
    dsdt = rd32(fadt + 40);
    len = check_table(dsdt, "DSDT");
    g_assert_true(contains(mem + dsdt, len, hpet_node, sizeof(hpet_node)));
    g_assert_true(contains(mem + dsdt, len, (const uint8_t *)"_PRT", 4));
    g_assert_true(contains(mem + dsdt, len, (const uint8_t *)"LNKA", 4));
    iasl_check(dsdt, len, expect);
    pc_devices(NULL, true);
}

/* The floppy controller's node (hw/block/fdc.c): FDC0 with its ports,
 * IRQ 6, DMA channel 2 and _FDE, as QEMU's DSDT has it. */
static void test_fdc(void)
{
    static const char *const expect[] = {
        "Device (FDC0)", "EisaId (\"PNP0700\")",
        "IO (Decode16,", "0x03F0,", "0x03F7,", "IRQNoFlags ()", "{6}",
        "DMA (Compatibility, NotBusMaster, Transfer8, )", "{2}", "Name (_FDE, Buffer",
        "Device (FLPA)", "Name (_FDI, Package (0x10)", "0x4F,", "0x12,", NULL,
    };
    uint64_t rsdp = 0, xsdt, fadt, dsdt;
    uint32_t len;
    Error *err = NULL;
    g_autofree char *img = g_build_filename(g_get_tmp_dir(), "test-acpi-fd-XXXXXX", NULL);
    g_autofree char *spec = NULL;
    int fd = g_mkstemp(img);

    /* drive A: a 1.44 MB image (80 cylinders, 18 sectors: 0x4F, 0x12) */
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, 1474560), ==, 0);
    close(fd);
    spec = g_strdup_printf("file=%s,format=raw,if=floppy", img);
    g_assert_nonnull(drive_new(spec, IF_FLOPPY, &err));
    g_assert_no_error(err);
    ram_setup();
    pc_devices(NULL, false);
    make("isa-fdc", isa->bus, NULL);
    g_unlink(img);
    g_assert_true(acpi_build_tables(&address_space_memory, describe(1, NULL), &rsdp, &err));
    g_assert_no_error(err);
    xsdt = rd64(rsdp + 24);
    fadt = find_table(xsdt, "FACP");
    dsdt = rd32(fadt + 40);
    len = check_table(dsdt, "DSDT");
    g_assert_true(contains(mem + dsdt, len, (const uint8_t *)"FDC0", 4));
    iasl_check(dsdt, len, expect);
    pc_devices(NULL, false);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/acpi/tables", test_acpi_tables);
    g_test_add_func("/acpi/bad", test_acpi_bad);
    g_test_add_func("/acpi/mptable", test_mptable);
    g_test_add_func("/acpi/follows-devices", test_acpi_follows_devices);
    g_test_add_func("/acpi/apic-ids", test_apic_ids);
    g_test_add_func("/acpi/piix-hpet", test_piix_hpet);
    g_test_add_func("/acpi/fdc", test_fdc);
    return g_test_run();
}

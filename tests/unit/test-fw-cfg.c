/*
 * fw_cfg (hw/i386/fw_cfg.c) driven through its I/O ports as a guest
 * would: selector/data, the file directory, and DMA with good and bad
 * guest pointers.
 */
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>
#include "hw/memory.h"
#include "hw/machine.h"
#include "hw/i386/fw_cfg.h"
#include "hw/i386/firmware.h"
#include "hw/i386/boot.h"
#include "hw/platform-desc.h"
#include "hw/qdev.h"
#include "pio-test-util.h"

#define RAM_SIZE (16 * 1024 * 1024)

static MemoryRegion ram;
static uint8_t *mem;
static MachineState ms;
static FWCfgState *fw;

static void read_item(uint16_t key, void *buf, size_t len)
{
    uint8_t *p = buf;

    outw(0x510, key);
    for (size_t i = 0; i < len; i++) {
        p[i] = inb(0x511);
    }
}

/* Runs one DMA transfer with the descriptor at desc; returns control. */
static uint32_t dma(uint64_t desc, uint32_t control, uint32_t len, uint64_t addr)
{
    if (desc <= RAM_SIZE - 16) {
        *(uint32_t *)(mem + desc) = GUINT32_TO_BE(control);
        *(uint32_t *)(mem + desc + 4) = GUINT32_TO_BE(len);
        *(uint64_t *)(mem + desc + 8) = GUINT64_TO_BE(addr);
    }
    outl(0x514, GUINT32_TO_BE((uint32_t)(desc >> 32)));
    outl(0x518, GUINT32_TO_BE((uint32_t)desc));
    return desc <= RAM_SIZE - 16 ? GUINT32_FROM_BE(*(uint32_t *)(mem + desc)) : 0;
}

static uint16_t find_file(const char *name, uint32_t *size)
{
    uint32_t count;

    outw(0x510, FW_CFG_FILE_DIR);
    for (int i = 0; i < 4; i++) {
        ((uint8_t *)&count)[i] = inb(0x511);
    }
    count = GUINT32_FROM_BE(count);
    for (uint32_t i = 0; i < count; i++) {
        uint8_t f[64];
        for (int j = 0; j < 64; j++) {
            f[j] = inb(0x511);
        }
        if (!strcmp((char *)f + 8, name)) {
            *size = GUINT32_FROM_BE(*(uint32_t *)f);
            return GUINT16_FROM_BE(*(uint16_t *)(f + 4));
        }
    }
    return 0;
}

static void test_items(void)
{
    char sig[5] = { 0 };
    uint32_t id, size;
    uint64_t ram_size;
    uint16_t ncpus, key;
    E820Entry e820[8];
    E820Table want;
    uint8_t uuid[16];

    read_item(FW_CFG_SIGNATURE, sig, 4);
    g_assert_cmpstr(sig, ==, "QEMU");
    read_item(FW_CFG_ID, &id, 4);
    g_assert_cmpuint(GUINT32_FROM_LE(id), ==, 3);
    read_item(FW_CFG_RAM_SIZE, &ram_size, 8);
    g_assert_cmpuint(ram_size, ==, RAM_SIZE);
    read_item(FW_CFG_NB_CPUS, &ncpus, 2);
    g_assert_cmpuint(ncpus, ==, 2);
    read_item(FW_CFG_MAX_CPUS, &ncpus, 2);
    g_assert_cmpuint(ncpus, ==, 4);
    read_item(FW_CFG_UUID, uuid, 16);
    g_assert_cmpuint(uuid[15], ==, 0x42);
    /* Past the end of an item: zeros. */
    read_item(FW_CFG_NB_CPUS, uuid, 8);
    g_assert_cmpuint(uuid[2] | uuid[3] | uuid[7], ==, 0);
    /* An unknown key reads as zeros. */
    read_item(0x7fff, uuid, 4);
    g_assert_cmpuint(uuid[0] | uuid[3], ==, 0);

    key = find_file("etc/e820", &size);
    g_assert_cmpuint(key, >=, FW_CFG_FILE_FIRST);
    want.nr = 0;
    e820_add(&want, 0, RAM_SIZE, E820_RAM);     /* QEMU style: RAM only */
    g_assert_cmpuint(size, ==, want.nr * 20);
    read_item(key, e820, size);
    g_assert_cmpmem(e820, size, want.entry, want.nr * 20);

    /* QEMU's default reboot timeout: -1, SeaBIOS never retries. */
    {
        uint32_t wait = 0;
        key = find_file("etc/boot-fail-wait", &size);
        g_assert_cmpuint(size, ==, 4);
        read_item(key, &wait, 4);
        g_assert_cmpuint(GUINT32_FROM_LE(wait), ==, 0xffffffffu);
        g_assert_cmpuint(find_file("etc/boot-menu-wait", &size), ==, 0);
    }
}

static void test_files(void)
{
    Error *err = NULL;
    uint32_t size, count;
    char prev[57] = "";
    char longname[80];

    g_assert_true(fw_cfg_add_file(fw, "zz/last", "z", 1, &err));
    g_assert_true(fw_cfg_add_file(fw, "aa/first", "abc", 3, &err));
    g_assert_true(fw_cfg_add_file(fw, "mm/middle", "0123456789", 10, &err));
    g_assert_false(fw_cfg_add_file(fw, "mm/middle", "x", 1, &err));
    g_assert_nonnull(strstr(err->message, "duplicate"));
    g_clear_error(&err);
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = 0;
    g_assert_false(fw_cfg_add_file(fw, longname, "x", 1, &err));
    g_clear_error(&err);

    /* Sorted by name, keys follow the order, contents intact. */
    outw(0x510, FW_CFG_FILE_DIR);
    for (int i = 0; i < 4; i++) {
        ((uint8_t *)&count)[i] = inb(0x511);
    }
    count = GUINT32_FROM_BE(count);
    g_assert_cmpuint(count, ==, 5);     /* with etc/e820 and etc/boot-fail-wait */
    for (uint32_t i = 0; i < count; i++) {
        uint8_t f[64];
        for (int j = 0; j < 64; j++) {
            f[j] = inb(0x511);
        }
        g_assert_cmpint(strcmp(prev, (char *)f + 8), <, 0);
        g_assert_cmpuint(GUINT16_FROM_BE(*(uint16_t *)(f + 4)), ==, FW_CFG_FILE_FIRST + i);
        memcpy(prev, f + 8, 56);
    }
    {
        char buf[11] = { 0 };
        uint16_t key = find_file("mm/middle", &size);
        g_assert_cmpuint(size, ==, 10);
        read_item(key, buf, 10);
        g_assert_cmpstr(buf, ==, "0123456789");
    }
}

static void test_dma(void)
{
    uint64_t sig = 0;
    uint32_t size;
    uint16_t key = find_file("mm/middle", &size);

    /* The DMA register reads "QEMU CFG". */
    for (int i = 0; i < 8; i++) {
        uint64_t v;
        address_space_ld(&address_space_io, 0x514 + i, &v, 1);
        ((uint8_t *)&sig)[i] = v;
    }
    g_assert_cmpmem(&sig, 8, "QEMU CFG", 8);

    /* select + read, more than the item: the rest is zeros */
    memset(mem + 0x2000, 0xee, 64);
    g_assert_cmpuint(dma(0x1000, 0x02 | 0x08 | (uint32_t)key << 16, 16, 0x2000), ==, 0);
    g_assert_cmpmem(mem + 0x2000, 10, "0123456789", 10);
    for (int i = 10; i < 16; i++) {
        g_assert_cmpuint(mem[0x2000 + i], ==, 0);
    }
    g_assert_cmpuint(mem[0x2010], ==, 0xee);
    /* select + skip 4, then read from the current offset */
    g_assert_cmpuint(dma(0x1000, 0x04 | 0x08 | (uint32_t)key << 16, 4, 0), ==, 0);
    g_assert_cmpuint(dma(0x1000, 0x02, 3, 0x3000), ==, 0);
    g_assert_cmpmem(mem + 0x3000, 3, "456", 3);
    /* Bad destination: error bit, no crash. */
    g_assert_cmpuint(dma(0x1000, 0x02 | 0x08 | (uint32_t)key << 16, 16, RAM_SIZE - 4), ==, 1);
    g_assert_cmpuint(dma(0x1000, 0x02 | 0x08 | (uint32_t)key << 16, 16,
                         0xfffffffffffffff8ULL), ==, 1);
    g_assert_cmpuint(dma(0x1000, 0x02 | 0x08 | (uint32_t)key << 16, 0xffffffff,
                         0x100000), ==, 1);
    /* Writes are refused. */
    g_assert_cmpuint(dma(0x1000, 0x10 | 0x08 | (uint32_t)key << 16, 4, 0x2000), ==, 1);
    /* Descriptor outside RAM: ignored. */
    dma(RAM_SIZE + 0x1000, 0, 0, 0);
    dma(0xfffffffffffffff8ULL, 0, 0, 0);
    /* No operation bits: completes with nothing done. */
    g_assert_cmpuint(dma(0x1000, 0, 100, 0x2000), ==, 0);
}

static void test_kernel_items(void)
{
    Error *err = NULL;
    MachineState m = ms;
    FWCfgState *s;
    uint8_t img[5 * 512 + 100] = { 0 };
    char *path = NULL;
    int fd = g_file_open_tmp("kvmpc-fwcfg-XXXXXX", &path, NULL);
    uint32_t v;
    char cmd[16];

    close(fd);
    img[0x1f1] = 4;
    img[0x200] = 0xeb;
    img[0x201] = 0x6a;
    memcpy(img + 0x202, "HdrS", 4);
    img[0x206] = 0x0f;
    img[0x207] = 0x02;
    img[0x211] = 1;
    img[0x238] = 0xff;
    g_assert_true(g_file_set_contents(path, (char *)img, sizeof(img), NULL));
    m.kernel_filename = path;
    m.kernel_cmdline = (char *)"console=ttyS0";
    /* Direct boot (no firmware): no linuxboot items, no copy of the kernel. */
    s = fw_cfg_create(&m, &err);
    g_assert_no_error(err);
    g_assert_nonnull(s);
    v = 0xdead;
    read_item(FW_CFG_KERNEL_SIZE, &v, 4);
    g_assert_cmpuint(v, ==, 0);
    /* Firmware boot: the items are there.  (Another instance: its ports
     * overlap the previous ones; the last added wins.) */
    m.firmware_boot = 1;
    s = fw_cfg_create(&m, &err);
    g_assert_no_error(err);
    g_assert_nonnull(s);
    read_item(FW_CFG_KERNEL_SIZE, &v, 4);
    g_assert_cmpuint(v, ==, 100);
    read_item(FW_CFG_SETUP_SIZE, &v, 4);
    g_assert_cmpuint(v, ==, 5 * 512);
    read_item(FW_CFG_CMDLINE_SIZE, &v, 4);
    g_assert_cmpuint(v, ==, 14);
    read_item(FW_CFG_CMDLINE_DATA, cmd, 14);
    g_assert_cmpstr(cmd, ==, "console=ttyS0");
    g_unlink(path);
    g_free(path);
}

static uint32_t m32(uint64_t a)
{
    uint32_t v;
    memcpy(&v, mem + a, 4);
    return v;
}

static uint64_t m64(uint64_t a)
{
    uint64_t v;
    memcpy(&v, mem + a, 8);
    return v;
}

/* Runs QEMU's table-loader script as SeaBIOS does and walks the result. */
static void test_acpi_loader(void)
{
    Error *err = NULL;
    uint32_t lsize, rsize, tsize;
    uint16_t lkey, rkey, tkey;
    uint8_t *loader, *rsdp, *tables;
    uint64_t rsdp_base = 0xf0000, tables_base = 0x100000, xsdt, fadt, dsdt;
    int allocs = 0, ptrs = 0, sums = 0;

    PlatformDesc pd;

    platform_desc_init(&pd);
    pd.ncpus = 3;
    for (unsigned i = 0; i < 3; i++) {
        pd.apic_ids[i] = i;
    }
    platform_desc_collect(&pd);
    g_assert_true(acpi_build_fw_cfg(fw, &pd, &err));
    g_assert_no_error(err);
    platform_desc_free(&pd);
    lkey = find_file("etc/table-loader", &lsize);
    rkey = find_file("etc/acpi/rsdp", &rsize);
    tkey = find_file("etc/acpi/tables", &tsize);
    g_assert_true(lkey && rkey && tkey);
    g_assert_cmpuint(lsize % 128, ==, 0);
    g_assert_cmpuint(rsize, ==, 36);
    loader = g_malloc(lsize);
    read_item(lkey, loader, lsize);
    rsdp = mem + rsdp_base;
    tables = mem + tables_base;
    read_item(rkey, rsdp, rsize);
    read_item(tkey, tables, tsize);
    for (uint32_t off = 0; off < lsize; off += 128) {
        uint8_t *e = loader + off;
        uint32_t cmd = *(uint32_t *)e;
        const char *file = (const char *)e + 4;
        uint8_t *data = !strcmp(file, "etc/acpi/rsdp") ? rsdp : tables;

        if (cmd == 1) {
            g_assert_cmpuint(*(uint32_t *)(e + 60), ==, !strcmp(file, "etc/acpi/rsdp") ? 16 : 64);
            allocs++;
        } else if (cmd == 2) {
            const char *src = (const char *)e + 60;
            uint32_t poff = *(uint32_t *)(e + 116);
            uint8_t size = e[120];
            uint64_t v = 0;
            g_assert_cmpstr(src, ==, "etc/acpi/tables");
            g_assert_true(size == 4 || size == 8);
            memcpy(&v, data + poff, size);
            v += tables_base;
            memcpy(data + poff, &v, size);
            ptrs++;
        } else if (cmd == 3) {
            uint32_t coff = *(uint32_t *)(e + 60), start = *(uint32_t *)(e + 64);
            uint32_t len = *(uint32_t *)(e + 68);
            uint8_t sum = 0;
            for (uint32_t i = 0; i < len; i++) {
                sum += data[start + i];
            }
            data[coff] -= sum;
            sums++;
        } else {
            g_assert_not_reached();
        }
    }
    g_assert_cmpint(allocs, ==, 2);
    g_assert_cmpint(ptrs, >=, 7);
    g_assert_cmpint(sums, >=, 7);
    /* The result: a valid chain RSDP -> XSDT -> FADT -> DSDT. */
    g_assert_cmpmem(rsdp, 8, "RSD PTR ", 8);
    {
        uint8_t s20 = 0, s36 = 0;
        for (int i = 0; i < 36; i++) {
            s36 += rsdp[i];
            s20 += i < 20 ? rsdp[i] : 0;
        }
        g_assert_cmpuint(s20, ==, 0);
        g_assert_cmpuint(s36, ==, 0);
    }
    xsdt = m64(rsdp_base + 24);
    g_assert_cmpmem(mem + xsdt, 4, "XSDT", 4);
    g_assert_cmpmem(mem + m32(rsdp_base + 16), 4, "RSDT", 4);
    fadt = m64(xsdt + 36);
    g_assert_cmpmem(mem + fadt, 4, "FACP", 4);
    dsdt = m32(fadt + 40);
    g_assert_cmpmem(mem + dsdt, 4, "DSDT", 4);
    g_assert_cmpuint(m64(fadt + 140), ==, dsdt);
    g_assert_cmpuint(m32(fadt + 36) % 64, ==, 0);
    g_assert_cmpmem(mem + m32(fadt + 36), 4, "FACS", 4);
    for (uint64_t t = xsdt; t; t = 0) {
        uint32_t n = (m32(t + 4) - 36) / 8;
        for (uint32_t i = 0; i <= n; i++) {
            uint64_t a = i < n ? m64(t + 36 + 8 * i) : t;
            uint32_t len = m32(a + 4);
            uint8_t sum = 0;
            for (uint32_t j = 0; j < len; j++) {
                sum += mem[a + j];
            }
            g_assert_cmpuint(sum, ==, 0);
        }
    }
    g_free(loader);
}

/* A device that declares a boot entry and an fw_cfg file about itself. */
typedef struct BootTestDev {
    DeviceState parent;
    int32_t bootindex;
    char *path;
} BootTestDev;

static void boot_test_describe(DeviceState *dev, PlatformDesc *pd)
{
    BootTestDev *s = (BootTestDev *)dev;
    g_autofree char *file = g_strdup_printf("test/%s", dev->id);

    platform_add_boot_entry(pd, s->bootindex, s->path);
    platform_add_file(pd, file, s->path, strlen(s->path));
}

static const Property boot_test_props[] = {
    DEFINE_PROP_INT32("bootindex", BootTestDev, bootindex, -1),
    DEFINE_PROP_STRING("path", BootTestDev, path),
    DEFINE_PROP_END_OF_LIST(),
};

static const DeviceClass boot_test_class = {
    .name = "boot-test-dev",
    .instance_size = sizeof(BootTestDev),
    .props = boot_test_props,
    .describe = boot_test_describe,
};

/* Devices' fw_cfg files and the bootorder file, sorted by bootindex and
 * written as QEMU writes it ("a\nb" + NUL). */
static void test_platform_files(void)
{
    static const struct { const char *id, *path; int idx; } devs[] = {
        { "d1", "/pci@i0cf8/ide@1,1/drive@0/disk@0", 2 },
        { "d2", "/pci@i0cf8/ethernet@3", 0 },
        { "d3", "/pci@i0cf8/ide@1,1/drive@1/disk@0", 1 },
    };
    DeviceState *d[3];
    Error *err = NULL;
    PlatformDesc pd;
    uint32_t size;
    uint16_t key;
    char buf[256];

    device_class_register(&boot_test_class);
    for (int i = 0; i < 3; i++) {
        d[i] = qdev_new("boot-test-dev", &err);
        g_assert_no_error(err);
        qdev_set_id(d[i], devs[i].id);
        g_assert_true(qdev_prop_set_uint(d[i], "bootindex", devs[i].idx, &err));
        g_assert_true(qdev_prop_set_string(d[i], "path", devs[i].path, &err));
        g_assert_true(qdev_realize(d[i], NULL, &err));
    }
    platform_desc_init(&pd);
    platform_desc_collect(&pd);
    g_assert_true(fw_cfg_add_platform_files(fw, &pd, &err));
    g_assert_no_error(err);
    platform_desc_free(&pd);

    key = find_file("bootorder", &size);
    g_assert_cmpuint(key, !=, 0);
    g_assert_cmpuint(size, <, sizeof(buf));
    read_item(key, buf, size);
    g_assert_cmpstr(buf, ==, "/pci@i0cf8/ethernet@3\n"
                             "/pci@i0cf8/ide@1,1/drive@1/disk@0\n"
                             "/pci@i0cf8/ide@1,1/drive@0/disk@0");
    g_assert_cmpuint(size, ==, strlen(buf) + 1);
    key = find_file("test/d2", &size);
    g_assert_cmpuint(key, !=, 0);
    g_assert_cmpuint(size, ==, strlen(devs[1].path));
    memset(buf, 0, sizeof(buf));
    read_item(key, buf, size);
    g_assert_cmpstr(buf, ==, devs[1].path);
    for (int i = 0; i < 3; i++) {
        qdev_free(d[i]);
    }
    /* No boot index anywhere: no bootorder file. */
    platform_desc_init(&pd);
    g_assert_null(platform_bootorder(&pd));
    /* -boot strict=on: HALT ends the list, even an empty one (QEMU). */
    pd.boot_strict = true;
    {
        g_autofree char *only_halt = platform_bootorder(&pd);
        g_assert_cmpstr(only_halt, ==, "HALT");
    }
    platform_add_boot_entry(&pd, 2, "/b");
    platform_add_boot_entry(&pd, 1, "/a");
    {
        g_autofree char *strict = platform_bootorder(&pd);
        g_assert_cmpstr(strict, ==, "/a\n/b\nHALT");
    }
    platform_desc_free(&pd);
}

/* etc/smbios/smbios-{anchor,tables}: a valid 2.1-style entry point describing the tables,
 * which are well-formed structures (types in order, strings) ending with
 * type 127; type 1 says QEMU's names and carries the UUID in SMBIOS wire
 * order; one type 4 per socket, one type 17 per 16 GiB. */
static void test_smbios(void)
{
    Error *err = NULL;
    MachineState m = ms;
    uint8_t eps[31], sum = 0, *tab;
    uint32_t esize, tsize;
    uint16_t ekey, tkey;
    unsigned n = 0, off = 0, ntype4 = 0, ntype17 = 0;
    static const uint8_t types[] = { 1, 3, 4, 4, 16, 17, 17, 19, 19, 32, 127 };

    m.smp = (SMPConfig) { .cpus = 4, .sockets = 2, .dies = 1, .cores = 2, .threads = 1 };
    m.ram_size = 20ULL << 30;          /* two DIMMs, RAM above 4 GiB */
    m.below_4g_mem_size = 3ULL << 30;
    m.above_4g_mem_size = 17ULL << 30;
    m.uuid_set = true;
    for (int i = 0; i < 16; i++) {
        m.uuid[i] = i;
    }
    g_assert_true(smbios_build_fw_cfg(fw, &m, &err));
    ekey = find_file("etc/smbios/smbios-anchor", &esize);
    tkey = find_file("etc/smbios/smbios-tables", &tsize);
    g_assert_cmpuint(esize, ==, 31);
    g_assert_cmpuint(tkey, !=, 0);
    read_item(ekey, eps, 31);
    g_assert_cmpmem(eps, 4, "_SM_", 4);
    g_assert_cmpmem(eps + 16, 5, "_DMI_", 5);
    for (int i = 0; i < 31; i++) {
        sum += eps[i];
    }
    g_assert_cmpuint(sum, ==, 0);
    g_assert_cmpuint(eps[6] << 8 | eps[7], ==, 0x0208);
    g_assert_cmpuint(eps[22] | eps[23] << 8, ==, tsize);
    tab = g_malloc(tsize);
    read_item(tkey, tab, tsize);
    while (off < tsize) {
        uint8_t type = tab[off], len = tab[off + 1];
        unsigned end = off + len;
        g_assert_cmpuint(n, <, G_N_ELEMENTS(types));
        g_assert_cmpuint(type, ==, types[n]);
        if (type == 1) {
            g_assert_cmpuint(tab[off + 4], ==, 1);
            g_assert_cmpstr((char *)tab + end, ==, "QEMU");
            g_assert_cmpstr((char *)tab + end + 5, ==, "Standard PC (i440FX + PIIX, 1996)");
            g_assert_cmpuint(tab[off + 8], ==, 3);         /* time_low little-endian */
            g_assert_cmpuint(tab[off + 8 + 15], ==, 15);
        }
        ntype4 += type == 4;
        if (type == 4) {
            g_assert_cmpuint(tab[off + 0x23], ==, 2);      /* cores per socket */
        }
        ntype17 += type == 17;
        /* strings up to the double NUL */
        while (tab[end] || tab[end + 1]) {
            end++;
        }
        off = end + 2;
        n++;
    }
    g_assert_cmpuint(off, ==, tsize);
    g_assert_cmpuint(n, ==, G_N_ELEMENTS(types));
    g_assert_cmpuint(eps[28] | eps[29] << 8, ==, n);
    g_assert_cmpuint(ntype4, ==, 2);
    g_assert_cmpuint(ntype17, ==, 2);
    g_free(tab);
}

/* -smbios type=0 makes us build type 0 (first); type=1 fields replace
 * type 1's defaults; bad options are errors that say why. */
static void test_smbios_options(void)
{
    Error *err = NULL;
    MachineState m = ms;
    uint32_t tsize;
    uint16_t tkey;
    uint8_t *tab;
    unsigned off, end;

    m.smp = (SMPConfig) { .cpus = 1, .sockets = 1, .dies = 1, .cores = 1, .threads = 1 };
    g_assert_true(smbios_parse_option(&m, "type=0,vendor=ACME,release=2.5", &err));
    g_assert_true(smbios_parse_option(&m, "type=1,product=Box,serial=S1,"
                                          "uuid=00112233-4455-6677-8899-aabbccddeeff", &err));
    g_assert_false(smbios_parse_option(&m, "type=3,manufacturer=x", &err));
    g_assert_nonnull(strstr(err->message, "type=0 and type=1"));
    g_clear_error(&err);
    g_assert_false(smbios_parse_option(&m, "type=0,release=1", &err));
    g_clear_error(&err);
    g_assert_false(smbios_parse_option(&m, "type=1,uuid=zz", &err));
    g_clear_error(&err);
    /* A new instance (its ports shadow the others): new SMBIOS files. */
    g_assert_true(smbios_build_fw_cfg(fw_cfg_create(&m, &err), &m, &err));
    tkey = find_file("etc/smbios/smbios-tables", &tsize);
    tab = g_malloc(tsize);
    read_item(tkey, tab, tsize);
    g_assert_cmpuint(tab[0], ==, 0);                   /* type 0 first */
    g_assert_cmpuint(tab[0x14], ==, 2);                /* release 2.5 */
    g_assert_cmpuint(tab[0x15], ==, 5);
    g_assert_cmpstr((char *)tab + tab[1], ==, "ACME");
    for (end = tab[1]; tab[end] || tab[end + 1]; end++) {
    }
    off = end + 2;                                      /* type 1 */
    g_assert_cmpuint(tab[off], ==, 1);
    end = off + tab[off + 1];
    g_assert_cmpstr((char *)tab + end, ==, "QEMU");    /* default manufacturer */
    g_assert_cmpstr((char *)tab + end + 5, ==, "Box");
    g_assert_cmpuint(tab[off + 7], ==, 4);             /* serial: 4th string */
    g_assert_cmpuint(tab[off + 8], ==, 0x33);          /* uuid in wire order */
    g_assert_cmpuint(tab[off + 8 + 4], ==, 0x55);
    g_assert_cmpuint(tab[off + 8 + 15], ==, 0xff);
    g_free(tab);
    smbios_fields_free(m.smbios);
}

int main(int argc, char **argv)
{
    Error *err = NULL;

    g_test_init(&argc, &argv, NULL);
    memory_init_system();
    g_assert_true(memory_region_init_ram(&ram, "test.ram", RAM_SIZE, &err));
    memory_region_add_subregion(get_system_memory(), 0, &ram);
    mem = memory_region_get_ram_ptr(&ram);
    ms.ram_size = RAM_SIZE;
    ms.boot_menu_wait_ms = -1;          /* no -boot splash-time= */
    ms.boot_reboot_timeout_ms = -1;     /* QEMU's default: never retry */
    ms.below_4g_mem_size = RAM_SIZE;
    ms.smp.cpus = 2;
    ms.smp.maxcpus = 4;
    ms.uuid[15] = 0x42;
    fw = fw_cfg_create(&ms, &err);
    g_assert_no_error(err);
    g_assert_nonnull(fw);
    g_assert_true(ms.fw_cfg == fw);

    g_test_add_func("/fw_cfg/items", test_items);
    g_test_add_func("/fw_cfg/files", test_files);
    g_test_add_func("/fw_cfg/dma", test_dma);
    g_test_add_func("/fw_cfg/acpi-loader", test_acpi_loader);
    g_test_add_func("/fw_cfg/platform-files", test_platform_files);
    g_test_add_func("/fw_cfg/smbios", test_smbios);
    /* Last: they create more fw_cfg instances whose ports shadow the first. */
    g_test_add_func("/fw_cfg/kernel", test_kernel_items);
    g_test_add_func("/fw_cfg/smbios-options", test_smbios_options);
    return g_test_run();
}

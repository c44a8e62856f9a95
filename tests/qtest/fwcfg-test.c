/*
 * fw_cfg on the PC: selector 0x510 (16-bit), data 0x511 (8-bit),
 * DMA address 0x514 (high 32 bits, big-endian) / 0x518 (low 32 bits,
 * big-endian; writing it starts the transfer).
 */
#include "qtest-harness.h"

#define FW_CFG_CTL  0x510
#define FW_CFG_DATA 0x511
#define FW_CFG_DMA  0x514

#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID        0x01
#define FW_CFG_RAM_SIZE  0x03
#define FW_CFG_NB_CPUS   0x05
#define FW_CFG_MAX_CPUS  0x0f
#define FW_CFG_FILE_DIR  0x19

#define DMA_CTL_ERROR  0x01
#define DMA_CTL_READ   0x02
#define DMA_CTL_SKIP   0x04
#define DMA_CTL_SELECT 0x08
#define DMA_CTL_WRITE  0x10

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static uint16_t be16(const uint8_t *p)
{
    return p[0] << 8 | p[1];
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = v << 8 | p[i];
    }
    return v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    put_be32(p, v >> 32);
    put_be32(p + 4, v);
}

static void fw_select(QTestState *s, uint16_t key)
{
    qtest_outw(s, FW_CFG_CTL, key);
}

static void fw_read(QTestState *s, void *buf, size_t n)
{
    uint8_t *p = buf;
    for (size_t i = 0; i < n; i++) {
        p[i] = qtest_inb(s, FW_CFG_DATA);
    }
}

static uint64_t fw_read_le(QTestState *s, uint16_t key, int n)
{
    uint8_t b[8] = { 0 };
    fw_select(s, key);
    fw_read(s, b, n);
    return le64(b);
}

typedef struct {
    uint32_t count;
    struct { uint32_t size; uint16_t select; char name[57]; } f[128];
} FileDir;

static void read_dir(QTestState *s, FileDir *d)
{
    uint8_t b[64];
    fw_select(s, FW_CFG_FILE_DIR);
    fw_read(s, b, 4);
    d->count = be32(b);
    QT_ASSERT_MSG(d->count > 0 && d->count <= 128, "count=%u", d->count);
    for (uint32_t i = 0; i < d->count; i++) {
        fw_read(s, b, 64);
        d->f[i].size = be32(b);
        d->f[i].select = be16(b + 4);
        memcpy(d->f[i].name, b + 8, 56);
        d->f[i].name[56] = 0;
        QT_ASSERT_MSG(memchr(b + 8, 0, 56) != NULL, "entry %u unterminated", i);
    }
}

static int find_file(FileDir *d, const char *name)
{
    for (uint32_t i = 0; i < d->count; i++) {
        if (strcmp(d->f[i].name, name) == 0) {
            return i;
        }
    }
    return -1;
}

static void test_signature(void)
{
    QTestState *s = qtest_init("");
    char sig[5] = { 0 };

    fw_select(s, FW_CFG_SIGNATURE);
    fw_read(s, sig, 4);
    QT_ASSERT(memcmp(sig, "QEMU", 4) == 0);
    /* boundary: reading past the end of an item returns 0 */
    for (int i = 0; i < 8; i++) {
        QT_ASSERT_EQ(qtest_inb(s, FW_CFG_DATA), 0);
    }
    /* re-selecting rewinds to offset 0 */
    fw_select(s, FW_CFG_SIGNATURE);
    QT_ASSERT_EQ(qtest_inb(s, FW_CFG_DATA), 'Q');
    /* error path: an unknown key reads as zeros */
    fw_select(s, 0x3fff);
    for (int i = 0; i < 4; i++) {
        QT_ASSERT_EQ(qtest_inb(s, FW_CFG_DATA), 0);
    }
    qtest_quit(s);
}

static void test_id(void)
{
    QTestState *s = qtest_init("");
    uint32_t id = fw_read_le(s, FW_CFG_ID, 4);
    /* bit 0: traditional interface, bit 1: DMA interface */
    QT_ASSERT_EQ(id & 3, 3);
    qtest_quit(s);
}

static void test_ram_size(void)
{
    QTestState *s = qtest_init("-m 128M");
    QT_ASSERT_EQ(fw_read_le(s, FW_CFG_RAM_SIZE, 8), 128ULL << 20);
    qtest_quit(s);
    s = qtest_init("-m 1536");
    QT_ASSERT_EQ(fw_read_le(s, FW_CFG_RAM_SIZE, 8), 1536ULL << 20);
    qtest_quit(s);
}

static void test_nb_cpus(void)
{
    QTestState *s = qtest_init("");
    QT_ASSERT_EQ(fw_read_le(s, FW_CFG_NB_CPUS, 2), 1);
    qtest_quit(s);
    s = qtest_init("-smp 2");
    QT_ASSERT_EQ(fw_read_le(s, FW_CFG_NB_CPUS, 2), 2);
    qtest_quit(s);
    s = qtest_init("-smp 4");
    QT_ASSERT_EQ(fw_read_le(s, FW_CFG_NB_CPUS, 2), 4);
    QT_ASSERT_EQ(fw_read_le(s, FW_CFG_MAX_CPUS, 2), 4);
    qtest_quit(s);
    /* MAX_CPUS is the APIC ID limit: 2 packages of 3 cores (2 bits) x 2
     * threads give IDs 0-5 and 8-13, so 14, as on QEMU. */
    s = qtest_init("-smp 12,sockets=2,cores=3,threads=2");
    QT_ASSERT_EQ(fw_read_le(s, FW_CFG_NB_CPUS, 2), 12);
    QT_ASSERT_EQ(fw_read_le(s, FW_CFG_MAX_CPUS, 2), 14);
    qtest_quit(s);
}

static void test_file_dir(void)
{
    QTestState *s = qtest_init("");
    static FileDir d;

    read_dir(s, &d);
    printf("# %u files\n", d.count);
    for (uint32_t i = 0; i < d.count; i++) {
        printf("#   %04x %6u %s\n", d.f[i].select, d.f[i].size, d.f[i].name);
        QT_ASSERT(d.f[i].name[0] != 0);
        /* file items live at 0x20 and up */
        QT_ASSERT_CMP(d.f[i].select, >=, 0x20);
        if (i > 0) {
            QT_ASSERT_MSG(strcmp(d.f[i - 1].name, d.f[i].name) < 0,
                          "'%s' before '%s'", d.f[i - 1].name, d.f[i].name);
        }
    }
    QT_ASSERT(find_file(&d, "etc/e820") >= 0);
    /* boundary: past the last entry the directory reads as zero */
    QT_ASSERT_EQ(qtest_inb(s, FW_CFG_DATA), 0);
    qtest_quit(s);
}

static void check_e820(QTestState *s, uint64_t ram)
{
    static FileDir d;
    uint8_t buf[20 * 32];
    int i;
    bool found = false;
    uint64_t total = 0;

    read_dir(s, &d);
    i = find_file(&d, "etc/e820");
    QT_ASSERT(i >= 0);
    QT_ASSERT(d.f[i].size > 0 && d.f[i].size % 20 == 0);
    QT_ASSERT(d.f[i].size <= sizeof(buf));
    fw_select(s, d.f[i].select);
    fw_read(s, buf, d.f[i].size);
    for (uint32_t off = 0; off < d.f[i].size; off += 20) {
        uint64_t addr = le64(buf + off), len = le64(buf + off + 8);
        uint32_t type = buf[off + 16] | buf[off + 17] << 8 |
                        buf[off + 18] << 16 | (uint32_t)buf[off + 19] << 24;
        printf("#   e820 %016" PRIx64 " %016" PRIx64 " %u\n", addr, len, type);
        if (type == 1) {
            total += len;
            if (addr == 0) {
                found = true;
            }
        }
    }
    QT_ASSERT(found);
    QT_ASSERT_EQ(total, ram);
    /* boundary: past the end of the file reads as zero */
    QT_ASSERT_EQ(qtest_inb(s, FW_CFG_DATA), 0);
}

static void test_e820(void)
{
    QTestState *s = qtest_init("-m 128M");
    check_e820(s, 128ULL << 20);
    qtest_quit(s);
    s = qtest_init("-m 5G");
    check_e820(s, 5ULL << 30);
    qtest_quit(s);
}

/* Run one DMA command using the FWCfgDmaAccess structure at guest 'desc';
 * returns the control word after completion. */
static uint32_t dma(QTestState *s, uint64_t desc, uint32_t control,
                    uint32_t len, uint64_t addr)
{
    uint8_t d[16];

    put_be32(d, control);
    put_be32(d + 4, len);
    put_be64(d + 8, addr);
    qtest_memwrite(s, desc, d, sizeof(d));
    /* the port is big-endian: the bytes in port order are the BE address */
    qtest_outl(s, FW_CFG_DMA, __builtin_bswap32(desc >> 32));
    qtest_outl(s, FW_CFG_DMA + 4, __builtin_bswap32((uint32_t)desc));
    qtest_memread(s, desc, d, 4);
    return be32(d);
}

static void test_dma(void)
{
    QTestState *s = qtest_init("-m 128M");
    const uint64_t desc = 0x10000, buf = 0x20000;
    uint8_t data[16], ff[16];
    static FileDir dir;
    uint32_t ctl;
    int i;

    memset(ff, 0xff, sizeof(ff));
    /* DMA signature register reads "QEMU CFG" */
    QT_ASSERT_EQ(qtest_inl(s, FW_CFG_DMA), 0x554d4551);        /* "QEMU" */
    QT_ASSERT_EQ(qtest_inl(s, FW_CFG_DMA + 4), 0x47464320);    /* " CFG" */

    /* select + read the signature */
    qtest_memwrite(s, buf, ff, sizeof(ff));
    ctl = dma(s, desc, FW_CFG_SIGNATURE << 16 | DMA_CTL_SELECT | DMA_CTL_READ,
              4, buf);
    QT_ASSERT_EQ(ctl, 0);
    qtest_memread(s, buf, data, sizeof(data));
    QT_ASSERT(memcmp(data, "QEMU", 4) == 0);
    QT_ASSERT_EQ(data[4], 0xff);                   /* exactly 4 bytes */

    /* boundary: reading past the end of the item fills with zeros */
    qtest_memwrite(s, buf, ff, sizeof(ff));
    ctl = dma(s, desc, FW_CFG_SIGNATURE << 16 | DMA_CTL_SELECT | DMA_CTL_READ,
              8, buf);
    QT_ASSERT_EQ(ctl, 0);
    qtest_memread(s, buf, data, sizeof(data));
    QT_ASSERT(memcmp(data, "QEMU\0\0\0\0", 8) == 0);
    QT_ASSERT_EQ(data[8], 0xff);

    /* skip 8 bytes of RAM_SIZE then read nothing more; then read after a
     * skip of 4 within the 8-byte item */
    ctl = dma(s, desc, FW_CFG_RAM_SIZE << 16 | DMA_CTL_SELECT | DMA_CTL_SKIP,
              4, 0);
    QT_ASSERT_EQ(ctl, 0);
    qtest_memwrite(s, buf, ff, sizeof(ff));
    ctl = dma(s, desc, DMA_CTL_READ, 4, buf);      /* continue, no select */
    QT_ASSERT_EQ(ctl, 0);
    qtest_memread(s, buf, data, 4);
    QT_ASSERT_EQ(be32(data), 0);                   /* high half of 128M */
    ctl = dma(s, desc, FW_CFG_RAM_SIZE << 16 | DMA_CTL_SELECT | DMA_CTL_READ,
              8, buf);
    QT_ASSERT_EQ(ctl, 0);
    qtest_memread(s, buf, data, 8);
    QT_ASSERT_EQ(le64(data), 128ULL << 20);

    /* DMA read of a file by its selector equals the PIO read */
    read_dir(s, &dir);
    i = find_file(&dir, "etc/e820");
    QT_ASSERT(i >= 0);
    {
        uint32_t n = dir.f[i].size;
        uint8_t pio[640], via_dma[640];
        QT_ASSERT(n <= sizeof(pio));
        fw_select(s, dir.f[i].select);
        fw_read(s, pio, n);
        ctl = dma(s, desc,
                  (uint32_t)dir.f[i].select << 16 | DMA_CTL_SELECT | DMA_CTL_READ,
                  n, buf);
        QT_ASSERT_EQ(ctl, 0);
        qtest_memread(s, buf, via_dma, n);
        QT_ASSERT(memcmp(pio, via_dma, n) == 0);
    }

    /* error path: writing a read-only item sets the error bit */
    qtest_memwrite(s, buf, "XXXX", 4);
    ctl = dma(s, desc, FW_CFG_SIGNATURE << 16 | DMA_CTL_SELECT | DMA_CTL_WRITE,
              4, buf);
    QT_ASSERT_EQ(ctl & DMA_CTL_ERROR, DMA_CTL_ERROR);
    fw_select(s, FW_CFG_SIGNATURE);
    fw_read(s, data, 4);
    QT_ASSERT(memcmp(data, "QEMU", 4) == 0);       /* unchanged */
    qtest_quit(s);
}

int main(int argc, char **argv)
{
    qt_init(argc, argv);
    qt_run("fwcfg/signature", test_signature);
    qt_run("fwcfg/id", test_id);
    qt_run("fwcfg/ram-size", test_ram_size);
    qt_run("fwcfg/nb-cpus", test_nb_cpus);
    qt_run("fwcfg/file-dir", test_file_dir);
    qt_run("fwcfg/e820", test_e820);
    qt_run("fwcfg/dma", test_dma);
    return qt_finish();
}

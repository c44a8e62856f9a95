/*
 * PIIX3 IDE (docs/ide.md): an ATA disk and an ATAPI CD-ROM driven through
 * the legacy ports and the bus-master DMA engine, their data compared with
 * the image files.  IDENTIFY, PIO and DMA reads and writes, PRD tables
 * that are too short, too long or point outside RAM, ABRT and IDNF, the
 * ATAPI commands a guest starts with (INQUIRY, READ CAPACITY, READ(10),
 * REQUEST SENSE) on a medium and on an empty drive, and registers
 * programmed wrongly (the emulator must stay alive and answer).
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include "qtest-harness.h"
#include "qtest-images.h"

#define CONF1(bus, dev, fn, reg) \
    (0x80000000u | ((bus) << 16) | ((dev) << 11) | ((fn) << 8) | ((reg) & 0xfc))

#define P0      0x1f0           /* primary command block */
#define C0      0x3f6
#define P1      0x170
#define C1      0x376
#define REG_DATA 0
#define REG_ERR 1
#define REG_FEAT 1
#define REG_NSECT 2
#define REG_LBAL 3
#define REG_LBAM 4
#define REG_LBAH 5
#define REG_DEV 6
#define REG_STAT 7
#define REG_CMD 7

#define ST_ERR  0x01
#define ST_DRQ  0x08
#define ST_DSC  0x10
#define ST_DRDY 0x40
#define ST_BSY  0x80

#define DISK_SECTORS 2048       /* 1 MiB */
#define CD_SECTORS 64           /* 128 KiB of 2048-byte sectors */

#define PRD_ADDR 0x10000
#define BUF_ADDR 0x20000

static char disk_path[64], cd_path[64];

static uint32_t cfg_readl(QTestState *s, int dev, int fn, int reg)
{
    qtest_outl(s, 0xcf8, CONF1(0, dev, fn, reg));
    return qtest_inl(s, 0xcfc);
}

static void cfg_writew(QTestState *s, int dev, int fn, int reg, uint16_t v)
{
    qtest_outl(s, 0xcf8, CONF1(0, dev, fn, reg));
    qtest_outw(s, 0xcfc + (reg & 2), v);
}

/* The IDE function: 00:01.1 (or 00:01.0 while the machine has no ISA
 * bridge function).  Enables bus mastering; returns BAR4's port. */
static uint16_t ide_setup_pci(QTestState *s)
{
    for (int fn = 0; fn < 2; fn++) {
        if (cfg_readl(s, 1, fn, 0x00) == 0x70108086u) {
            uint32_t bar4 = cfg_readl(s, 1, fn, 0x20);
            QT_ASSERT_EQ(cfg_readl(s, 1, fn, 0x08) >> 8, 0x010180u);   /* IDE, legacy, BM */
            QT_ASSERT(bar4 & 1);
            cfg_writew(s, 1, fn, 0x04, 0x0005);     /* I/O + bus master */
            return bar4 & ~3u;
        }
    }
    QT_FAIL("no PIIX3 IDE function at 00:01");
    return 0;
}

static QTestState *start(const char *extra)
{
    QTestState *s = qtest_initf("-drive file=%s,format=raw,if=ide,index=0 "
                                "-drive file=%s,format=raw,if=ide,index=2,media=cdrom %s",
                                disk_path, cd_path, extra);
    qtest_irq_intercept_in(s, "ioapic");
    return s;
}

static uint8_t wait_ready(QTestState *s, uint16_t base)
{
    struct timespec t0, t;
    uint8_t st;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        st = qtest_inb(s, base + REG_STAT);
        if (!(st & ST_BSY)) {
            return st;
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > 20) {
            QT_FAIL("drive at 0x%x stays busy (status 0x%02x)", base, st);
        }
    }
}

/* Until a DMA command has ended: neither BSY nor DRQ. */
static uint8_t wait_dma_end(QTestState *s, uint16_t base)
{
    struct timespec t0, t;
    uint8_t st;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        st = qtest_inb(s, base + REG_STAT);
        if (!(st & (ST_BSY | ST_DRQ))) {
            return st;
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > 20) {
            QT_FAIL("DMA command on 0x%x does not end (status 0x%02x)", base, st);
        }
    }
}

static void lba28(QTestState *s, uint16_t base, uint32_t lba, uint8_t count)
{
    qtest_outb(s, base + REG_DEV, 0xe0 | ((lba >> 24) & 0xf));
    qtest_outb(s, base + REG_NSECT, count);
    qtest_outb(s, base + REG_LBAL, lba);
    qtest_outb(s, base + REG_LBAM, lba >> 8);
    qtest_outb(s, base + REG_LBAH, lba >> 16);
}

static void lba48(QTestState *s, uint16_t base, uint64_t lba, uint16_t count)
{
    qtest_outb(s, base + REG_DEV, 0xe0);
    qtest_outb(s, base + REG_NSECT, count >> 8);
    qtest_outb(s, base + REG_LBAL, lba >> 24);
    qtest_outb(s, base + REG_LBAM, lba >> 32);
    qtest_outb(s, base + REG_LBAH, lba >> 40);
    qtest_outb(s, base + REG_NSECT, count);
    qtest_outb(s, base + REG_LBAL, lba);
    qtest_outb(s, base + REG_LBAM, lba >> 8);
    qtest_outb(s, base + REG_LBAH, lba >> 16);
}

static void pio_in(QTestState *s, uint16_t base, uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i += 2) {
        uint16_t w = qtest_inw(s, base + REG_DATA);
        buf[i] = w;
        buf[i + 1] = w >> 8;
    }
}

static void identify_string(const uint8_t *id, int word, int len, char *out)
{
    for (int i = 0; i < len; i++) {
        out[i] = id[word * 2 + (i ^ 1)];
    }
    out[len] = 0;
    while (len > 0 && out[len - 1] == ' ') {
        out[--len] = 0;
    }
}

static void test_identify(void)
{
    QTestState *s = start("");
    uint8_t id[512];
    char str[41];
    uint8_t st;

    ide_setup_pci(s);
    /* reset signature of an ATA disk */
    QT_ASSERT_EQ(qtest_inb(s, P0 + REG_LBAM), 0);
    QT_ASSERT_EQ(qtest_inb(s, P0 + REG_LBAH), 0);
    QT_ASSERT_EQ(qtest_inb(s, P0 + REG_STAT), ST_DRDY | ST_DSC);
    qtest_outb(s, P0 + REG_DEV, 0xa0);
    qtest_outb(s, P0 + REG_CMD, 0xec);
    st = wait_ready(s, P0);
    QT_ASSERT_EQ(st, ST_DRDY | ST_DSC | ST_DRQ);
    QT_ASSERT(qtest_get_irq(s, 14) == false);   /* the status read lowered it */
    pio_in(s, P0, id, sizeof(id));
    QT_ASSERT_EQ(qtest_inb(s, C0) & ST_DRQ, 0);
    identify_string(id, 27, 40, str);
    QT_ASSERT_MSG(!strcmp(str, "QEMU HARDDISK"), "got \"%s\"", str);
    identify_string(id, 23, 8, str);
    QT_ASSERT_MSG(!strcmp(str, "2.5+"), "got \"%s\"", str);
    identify_string(id, 10, 20, str);
    QT_ASSERT(!strncmp(str, "QM", 2));
    QT_ASSERT_EQ(id[120] | id[121] << 8 | id[122] << 16 | (uint32_t)id[123] << 24,
                 DISK_SECTORS);                 /* words 60-61 */
    QT_ASSERT_EQ(id[200] | id[201] << 8 | id[202] << 16 | (uint32_t)id[203] << 24,
                 DISK_SECTORS);                 /* words 100-103 */
    QT_ASSERT_EQ(id[166] | id[167] << 8, 1 << 14 | 1 << 13 | 1 << 12 | 1 << 10);   /* LBA48 */
    QT_ASSERT_EQ(id[6] | id[7] << 8, 16);       /* heads */
    QT_ASSERT_EQ(id[12] | id[13] << 8, 63);     /* sectors per track */
    QT_ASSERT_EQ(id[2] | id[3] << 8, 2);        /* 2048 / (16 * 63) rounds up to 2 */
    QT_ASSERT(id[176] & 0x3f);                  /* UDMA modes (word 88) */

    /* the interrupt line: raised on DRQ, lowered by reading status */
    qtest_outb(s, P0 + REG_CMD, 0xec);
    QT_ASSERT(qtest_get_irq(s, 14));
    qtest_inb(s, C0);                           /* alternate status: stays */
    QT_ASSERT(qtest_get_irq(s, 14));
    qtest_inb(s, P0 + REG_STAT);
    QT_ASSERT(!qtest_get_irq(s, 14));
    pio_in(s, P0, id, sizeof(id));
    /* nIEN masks it */
    qtest_outb(s, C0, 0x02);
    qtest_outb(s, P0 + REG_CMD, 0xec);
    QT_ASSERT(!qtest_get_irq(s, 14));
    pio_in(s, P0, id, sizeof(id));
    qtest_outb(s, C0, 0x00);

    /* slave absent: its registers read 0, commands to it do nothing */
    qtest_outb(s, P0 + REG_DEV, 0xb0);
    QT_ASSERT_EQ(qtest_inb(s, P0 + REG_STAT), 0);
    qtest_outb(s, P0 + REG_CMD, 0xec);
    QT_ASSERT_EQ(qtest_inb(s, P0 + REG_STAT), 0);
    qtest_quit(s);
}

static void test_pio_rw(void)
{
    QTestState *s = start("");
    uint8_t buf[3 * 512], want[3 * 512];

    ide_setup_pci(s);
    /* READ SECTORS: 3 sectors from LBA 5, one DRQ block each */
    lba28(s, P0, 5, 3);
    qtest_outb(s, P0 + REG_CMD, 0x20);
    for (int i = 0; i < 3; i++) {
        QT_ASSERT_EQ(wait_ready(s, P0), ST_DRDY | ST_DSC | ST_DRQ);
        pio_in(s, P0, buf + i * 512, 512);
    }
    QT_ASSERT_EQ(wait_ready(s, P0), ST_DRDY | ST_DSC);
    qt_file_read(disk_path, 5 * 512, want, sizeof(want));
    QT_ASSERT(!memcmp(buf, want, sizeof(buf)));

    /* READ MULTIPLE (2 per block) of 3 sectors, 32-bit data port reads */
    qtest_outb(s, P0 + REG_NSECT, 2);
    qtest_outb(s, P0 + REG_CMD, 0xc6);
    QT_ASSERT_EQ(wait_ready(s, P0), ST_DRDY | ST_DSC);
    lba28(s, P0, 7, 3);
    qtest_outb(s, P0 + REG_CMD, 0xc4);
    for (int blk = 0; blk < 2; blk++) {
        QT_ASSERT_EQ(wait_ready(s, P0), ST_DRDY | ST_DSC | ST_DRQ);
        for (int i = 0; i < (blk ? 512 : 1024); i += 4) {
            uint32_t v = qtest_inl(s, P0);
            memcpy(buf + blk * 1024 + i, &v, 4);
        }
    }
    QT_ASSERT_EQ(wait_ready(s, P0), ST_DRDY | ST_DSC);
    qt_file_read(disk_path, 7 * 512, want, sizeof(want));
    QT_ASSERT(!memcmp(buf, want, sizeof(buf)));

    /* WRITE SECTORS: 2 sectors at LBA 100, then the file has them */
    for (size_t i = 0; i < 1024; i++) {
        buf[i] = i * 7 + 3;
    }
    lba28(s, P0, 100, 2);
    qtest_outb(s, P0 + REG_CMD, 0x30);
    for (int blk = 0; blk < 2; blk++) {
        QT_ASSERT_EQ(wait_ready(s, P0), ST_DRDY | ST_DSC | ST_DRQ);
        for (int i = 0; i < 512; i += 2) {
            qtest_outw(s, P0, buf[blk * 512 + i] | buf[blk * 512 + i + 1] << 8);
        }
    }
    QT_ASSERT_EQ(wait_ready(s, P0), ST_DRDY | ST_DSC);
    qtest_outb(s, P0 + REG_CMD, 0xe7);          /* FLUSH CACHE */
    QT_ASSERT_EQ(wait_ready(s, P0), ST_DRDY | ST_DSC);
    qt_file_read(disk_path, 100 * 512, want, 1024);
    QT_ASSERT(!memcmp(buf, want, 1024));

    /* CHS: cylinder 0, head 1, sector 3 = LBA 63 + 2 */
    qtest_outb(s, P0 + REG_DEV, 0xa1);
    qtest_outb(s, P0 + REG_NSECT, 1);
    qtest_outb(s, P0 + REG_LBAL, 3);
    qtest_outb(s, P0 + REG_LBAM, 0);
    qtest_outb(s, P0 + REG_LBAH, 0);
    qtest_outb(s, P0 + REG_CMD, 0x20);
    QT_ASSERT_EQ(wait_ready(s, P0), ST_DRDY | ST_DSC | ST_DRQ);
    pio_in(s, P0, buf, 512);
    qt_file_read(disk_path, 65 * 512, want, 512);
    QT_ASSERT(!memcmp(buf, want, 512));
    qtest_quit(s);
}

/* PIO reads of many blocks (docs/ide.md, "PIO read-ahead"): READ
 * SECTORS EXT of 300 one-sector blocks (two read-ahead requests: 256 +
 * 44), every block the file's;
 * a command cut short by a software reset, a write into the rest of its
 * range, and a new read: the new data, not what was read ahead. */
static void test_pio_read_ahead(void)
{
    QTestState *s = start("");
    static uint8_t buf[300 * 512], want[300 * 512];
    uint8_t w1[512];

    ide_setup_pci(s);
    lba48(s, P0, 600, 300);
    qtest_outb(s, P0 + REG_CMD, 0x24);
    for (int i = 0; i < 300; i++) {
        QT_ASSERT_EQ(wait_ready(s, P0), ST_DRDY | ST_DSC | ST_DRQ);
        pio_in(s, P0, buf + i * 512, 512);
    }
    QT_ASSERT_EQ(wait_ready(s, P0), ST_DRDY | ST_DSC);
    qt_file_read(disk_path, 600 * 512, want, sizeof(want));
    QT_ASSERT(!memcmp(buf, want, sizeof(buf)));

    /* 8 sectors from LBA 1000: one block read, then SRST */
    lba28(s, P0, 1000, 8);
    qtest_outb(s, P0 + REG_CMD, 0x20);
    QT_ASSERT_EQ(wait_ready(s, P0), ST_DRDY | ST_DSC | ST_DRQ);
    pio_in(s, P0, buf, 512);
    qtest_outb(s, C0, 0x04);
    qtest_outb(s, C0, 0x00);
    wait_ready(s, P0);
    /* WRITE SECTORS at LBA 1002 (the cut command had its next block,
     * 1001, in the data buffer and would have gone on at 1002) */
    for (int i = 0; i < 512; i++) {
        w1[i] = i * 13 + 1;
    }
    lba28(s, P0, 1002, 1);
    qtest_outb(s, P0 + REG_CMD, 0x30);
    QT_ASSERT_EQ(wait_ready(s, P0), ST_DRDY | ST_DSC | ST_DRQ);
    for (int i = 0; i < 512; i += 2) {
        qtest_outw(s, P0, w1[i] | w1[i + 1] << 8);
    }
    QT_ASSERT_EQ(wait_ready(s, P0), ST_DRDY | ST_DSC);
    /* READ SECTORS 1002..1003: 1002 is the new data */
    lba28(s, P0, 1002, 2);
    qtest_outb(s, P0 + REG_CMD, 0x20);
    for (int i = 0; i < 2; i++) {
        QT_ASSERT_EQ(wait_ready(s, P0), ST_DRDY | ST_DSC | ST_DRQ);
        pio_in(s, P0, buf + i * 512, 512);
    }
    QT_ASSERT_EQ(wait_ready(s, P0), ST_DRDY | ST_DSC);
    QT_ASSERT(!memcmp(buf, w1, 512));
    qt_file_read(disk_path, 1003 * 512, want, 512);
    QT_ASSERT(!memcmp(buf + 512, want, 512));
    qtest_quit(s);
}

static void prd(QTestState *s, int i, uint32_t addr, uint32_t bytes, bool eot)
{
    qtest_writel(s, PRD_ADDR + i * 8, addr);
    qtest_writel(s, PRD_ADDR + i * 8 + 4, (bytes & 0xffff) | (eot ? 0x80000000u : 0));
}

/* Issues a DMA command and starts the bus master; returns BM status once
 * the drive is no longer busy and the bus master has stopped or
 * interrupted. */
static uint8_t dma_cmd(QTestState *s, uint16_t bm, uint8_t cmd, bool to_mem)
{
    struct timespec t0, t;
    uint8_t st;

    qtest_outb(s, bm + 2, 0x06);                /* clear interrupt and error */
    qtest_outl(s, bm + 4, PRD_ADDR);
    qtest_outb(s, P0 + REG_CMD, cmd);
    qtest_outb(s, bm, to_mem ? 0x09 : 0x01);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        st = qtest_inb(s, bm + 2);
        if ((st & 0x06) || !(st & 0x01)) {
            break;
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > 20) {
            QT_FAIL("DMA does not end (BM status 0x%02x)", st);
        }
    }
    qtest_outb(s, bm, 0x00);
    return st;
}

static void test_dma_rw(void)
{
    QTestState *s = start("");
    uint16_t bm = ide_setup_pci(s);
    static uint8_t buf[64 * 1024 + 4096], want[sizeof(buf)];

    /* READ DMA: 4 sectors from LBA 20 over two PRDs (1 KiB each) */
    prd(s, 0, BUF_ADDR, 1024, false);
    prd(s, 1, BUF_ADDR + 0x8000, 1024, true);
    lba28(s, P0, 20, 4);
    QT_ASSERT_EQ(dma_cmd(s, bm, 0xc8, true), 0x04);    /* interrupt, not active */
    QT_ASSERT_EQ(wait_ready(s, P0), ST_DRDY | ST_DSC);
    qtest_memread(s, BUF_ADDR, buf, 1024);
    qtest_memread(s, BUF_ADDR + 0x8000, buf + 1024, 1024);
    qt_file_read(disk_path, 20 * 512, want, 2048);
    QT_ASSERT(!memcmp(buf, want, 2048));

    /* READ DMA EXT of 130 sectors (more than one disk request) with a
     * 64 KiB (count 0) PRD and a 1 KiB + 4 byte-count-of-zero... */
    prd(s, 0, BUF_ADDR, 0, false);              /* 0 = 64 KiB */
    prd(s, 1, BUF_ADDR + 0x10000, 2 * 512, true);
    lba48(s, P0, 300, 130);
    QT_ASSERT_EQ(dma_cmd(s, bm, 0x25, true), 0x04);
    QT_ASSERT_EQ(wait_ready(s, P0), ST_DRDY | ST_DSC);
    qtest_memread(s, BUF_ADDR, buf, 130 * 512);
    qt_file_read(disk_path, 300 * 512, want, 130 * 512);
    QT_ASSERT(!memcmp(buf, want, 130 * 512));

    /* WRITE DMA: 3 sectors to LBA 40 from guest memory */
    for (size_t i = 0; i < 1536; i++) {
        buf[i] = i * 13 + 1;
    }
    qtest_memwrite(s, BUF_ADDR, buf, 1536);
    prd(s, 0, BUF_ADDR, 1536, true);
    lba28(s, P0, 40, 3);
    QT_ASSERT_EQ(dma_cmd(s, bm, 0xca, false), 0x04);
    QT_ASSERT_EQ(wait_ready(s, P0), ST_DRDY | ST_DSC);
    qt_file_read(disk_path, 40 * 512, want, 1536);
    QT_ASSERT(!memcmp(buf, want, 1536));
    qtest_quit(s);
}

static void test_dma_prd_errors(void)
{
    QTestState *s = start("");
    uint16_t bm = ide_setup_pci(s);
    uint8_t st;

    /* a buffer in the PCI hole: error status, no host access */
    prd(s, 0, 0xe0000000u, 1024, true);
    lba28(s, P0, 0, 2);
    st = dma_cmd(s, bm, 0xc8, true);
    QT_ASSERT_EQ(st & 0x03, 0x02);              /* error, not active */
    st = wait_ready(s, P0);
    QT_ASSERT(st & ST_ERR);
    QT_ASSERT_EQ(qtest_inb(s, P0 + REG_ERR), 0x04);

    /* a table that mixes RAM and outside-RAM entries, read and write: the
     * same error status, the RAM part of the table does not make it a
     * (partial) success */
    for (int write = 0; write < 2; write++) {
        prd(s, 0, BUF_ADDR, 1024, false);
        prd(s, 1, 0xfec00000u, 1024, false);    /* the IOAPIC */
        prd(s, 2, BUF_ADDR + 0x8000, 1024, true);
        lba28(s, P0, 8, 6);
        st = dma_cmd(s, bm, write ? 0xca : 0xc8, !write);
        QT_ASSERT_EQ(st & 0x03, 0x02);
        st = wait_ready(s, P0);
        QT_ASSERT(st & ST_ERR);
        QT_ASSERT_EQ(qtest_inb(s, P0 + REG_ERR), 0x04);
    }
    /* ... and a RAM buffer that runs out of RAM (the end of 128 MiB) */
    prd(s, 0, BUF_ADDR, 1024, false);
    prd(s, 1, 128 * 1024 * 1024 - 512, 1024, true);
    lba28(s, P0, 8, 4);
    st = dma_cmd(s, bm, 0xc8, true);
    QT_ASSERT_EQ(st & 0x03, 0x02);
    QT_ASSERT(wait_ready(s, P0) & ST_ERR);

    /* the PRD table itself outside RAM */
    qtest_outb(s, bm + 2, 0x06);
    qtest_outl(s, bm + 4, 0xfe000000u);
    lba28(s, P0, 0, 2);
    qtest_outb(s, P0 + REG_CMD, 0xc8);
    qtest_outb(s, bm, 0x09);
    QT_ASSERT(wait_dma_end(s, P0) & ST_ERR);
    QT_ASSERT_EQ(qtest_inb(s, bm + 2) & 0x03, 0x02);
    qtest_outb(s, bm, 0);

    /* a table shorter than the transfer: Active drops, no interrupt (QEMU) */
    prd(s, 0, BUF_ADDR, 512, true);
    lba28(s, P0, 0, 4);
    qtest_irq_reset_counts(s);
    st = dma_cmd(s, bm, 0xc8, true);
    QT_ASSERT_EQ(st & 0x07, 0x00);
    QT_ASSERT_EQ(wait_ready(s, P0), ST_DRDY | ST_DSC);
    QT_ASSERT_EQ(qtest_irq_raise_count(s, 14), 0);

    /* a longer one: interrupt, and Active stays set */
    prd(s, 0, BUF_ADDR, 8 * 512, true);
    lba28(s, P0, 0, 4);
    st = dma_cmd(s, bm, 0xc8, true);
    QT_ASSERT_EQ(st & 0x07, 0x05);
    QT_ASSERT_EQ(wait_ready(s, P0), ST_DRDY | ST_DSC);

    /* the start bit cleared mid-transfer: the command ends, no interrupt,
     * and the drive takes commands again */
    prd(s, 0, BUF_ADDR, 0, true);
    lba28(s, P0, 0, 128);
    qtest_outb(s, bm + 2, 0x06);
    qtest_outb(s, P0 + REG_CMD, 0xc8);
    qtest_outb(s, bm, 0x09);
    qtest_outb(s, bm, 0x00);
    QT_ASSERT_EQ(wait_dma_end(s, P0), ST_DRDY | ST_DSC);
    /* (the transfer may have finished before the stop: interrupt or not,
     * the bus master is idle) */
    QT_ASSERT_EQ(qtest_inb(s, bm + 2) & 0x03, 0x00);
    qtest_outb(s, P0 + REG_CMD, 0xec);
    QT_ASSERT_EQ(wait_ready(s, P0), ST_DRDY | ST_DSC | ST_DRQ);
    for (int i = 0; i < 256; i++) {
        qtest_inw(s, P0);
    }

    /* without bus mastering in the command register: error */
    cfg_writew(s, 1, cfg_readl(s, 1, 1, 0) == 0x70108086u ? 1 : 0, 0x04, 0x0001);
    prd(s, 0, BUF_ADDR, 1024, true);
    lba28(s, P0, 0, 2);
    st = dma_cmd(s, bm, 0xc8, true);
    QT_ASSERT_EQ(st & 0x03, 0x02);
    qtest_quit(s);
}

static void test_ata_errors(void)
{
    QTestState *s = start("");
    uint8_t st;

    ide_setup_pci(s);
    /* an unknown command: ABRT */
    qtest_outb(s, P0 + REG_DEV, 0xa0);
    qtest_outb(s, P0 + REG_CMD, 0xf0);
    st = wait_ready(s, P0);
    QT_ASSERT_EQ(st, ST_DRDY | ST_ERR);
    QT_ASSERT_EQ(qtest_inb(s, P0 + REG_ERR), 0x04);
    QT_ASSERT(qtest_get_irq(s, 14) == false);

    /* LBA48 read starting at the capacity: IDNF */
    lba48(s, P0, DISK_SECTORS, 1);
    qtest_outb(s, P0 + REG_CMD, 0x24);
    QT_ASSERT(wait_ready(s, P0) & ST_ERR);
    QT_ASSERT(qtest_inb(s, P0 + REG_ERR) & 0x10);
    /* ... and one that runs past it */
    lba48(s, P0, DISK_SECTORS - 1, 2);
    qtest_outb(s, P0 + REG_CMD, 0x24);
    QT_ASSERT(wait_ready(s, P0) & ST_ERR);
    QT_ASSERT(qtest_inb(s, P0 + REG_ERR) & 0x10);
    /* a huge LBA48 address */
    lba48(s, P0, 0xffffffffffffull, 0);
    qtest_outb(s, P0 + REG_CMD, 0x25);
    QT_ASSERT(wait_ready(s, P0) & ST_ERR);
    QT_ASSERT(qtest_inb(s, P0 + REG_ERR) & 0x10);
    /* the last sector is fine */
    lba48(s, P0, DISK_SECTORS - 1, 1);
    qtest_outb(s, P0 + REG_CMD, 0x24);
    QT_ASSERT_EQ(wait_ready(s, P0), ST_DRDY | ST_DSC | ST_DRQ);
    for (int i = 0; i < 256; i++) {
        qtest_inw(s, P0);
    }
    /* CHS sector 0 does not exist */
    qtest_outb(s, P0 + REG_DEV, 0xa0);
    qtest_outb(s, P0 + REG_LBAL, 0);
    qtest_outb(s, P0 + REG_NSECT, 1);
    qtest_outb(s, P0 + REG_CMD, 0x20);
    QT_ASSERT(wait_ready(s, P0) & ST_ERR);
    /* READ MULTIPLE with multiple mode off: ABRT */
    qtest_outb(s, P0 + REG_NSECT, 0);
    qtest_outb(s, P0 + REG_CMD, 0xc6);
    QT_ASSERT_EQ(wait_ready(s, P0), ST_DRDY | ST_DSC);
    lba28(s, P0, 0, 1);
    qtest_outb(s, P0 + REG_CMD, 0xc4);
    QT_ASSERT(wait_ready(s, P0) & ST_ERR);
    /* SET MULTIPLE with 3: not a power of two */
    qtest_outb(s, P0 + REG_NSECT, 3);
    qtest_outb(s, P0 + REG_CMD, 0xc6);
    QT_ASSERT(wait_ready(s, P0) & ST_ERR);
    /* CHECK POWER MODE: active */
    qtest_outb(s, P0 + REG_CMD, 0xe5);
    QT_ASSERT_EQ(wait_ready(s, P0), ST_DRDY | ST_DSC);
    QT_ASSERT_EQ(qtest_inb(s, P0 + REG_NSECT), 0xff);
    /* software reset: signature, ready */
    qtest_outb(s, C0, 0x04);
    QT_ASSERT(qtest_inb(s, C0) & ST_BSY);
    qtest_outb(s, C0, 0x00);
    QT_ASSERT_EQ(qtest_inb(s, P0 + REG_STAT), ST_DRDY | ST_DSC);
    QT_ASSERT_EQ(qtest_inb(s, P0 + REG_NSECT), 1);
    QT_ASSERT_EQ(qtest_inb(s, P0 + REG_LBAL), 1);
    QT_ASSERT_EQ(qtest_inb(s, P0 + REG_ERR), 1);
    qtest_quit(s);
}

/* ---- ATAPI -------------------------------------------------------------- */

/* Sends a 12-byte packet on the secondary master; returns the bytes of
 * the reply (PIO, byte count limit bcl) and the final status. */
static uint8_t atapi_cmd(QTestState *s, const uint8_t *cdb, uint16_t bcl, uint8_t *out,
                         size_t max, size_t *got)
{
    uint8_t st;
    size_t n = 0;

    qtest_outb(s, P1 + REG_DEV, 0xa0);
    qtest_outb(s, P1 + REG_FEAT, 0);
    qtest_outb(s, P1 + REG_LBAM, bcl);
    qtest_outb(s, P1 + REG_LBAH, bcl >> 8);
    qtest_outb(s, P1 + REG_CMD, 0xa0);
    st = wait_ready(s, P1);
    QT_ASSERT_EQ(st & ST_DRQ, ST_DRQ);
    QT_ASSERT_EQ(qtest_inb(s, P1 + REG_NSECT), 1);      /* C/D: the packet */
    for (int i = 0; i < 12; i += 2) {
        qtest_outw(s, P1, cdb[i] | cdb[i + 1] << 8);
    }
    for (;;) {
        st = wait_ready(s, P1);
        if (!(st & ST_DRQ)) {
            break;
        }
        QT_ASSERT_EQ(qtest_inb(s, P1 + REG_NSECT), 2);  /* I/O: data in */
        size_t blk = qtest_inb(s, P1 + REG_LBAM) | qtest_inb(s, P1 + REG_LBAH) << 8;
        QT_ASSERT(blk > 0 && blk <= bcl);
        for (size_t i = 0; i < blk; i += 2) {
            uint16_t w = qtest_inw(s, P1);
            if (n + 1 < max) {
                out[n] = w;
                out[n + 1] = w >> 8;
            }
            n += 2;
        }
    }
    QT_ASSERT_EQ(qtest_inb(s, P1 + REG_NSECT), 3);      /* I/O | C/D: done */
    if (got) {
        *got = n;
    }
    return st;
}

static void test_atapi(void)
{
    QTestState *s = start("");
    uint16_t bm = ide_setup_pci(s);
    static uint8_t buf[8192], want[8192];
    size_t n;
    char str[41];

    /* ATAPI signature; IDENTIFY DEVICE aborts, IDENTIFY PACKET DEVICE answers */
    qtest_outb(s, P1 + REG_DEV, 0xa0);
    QT_ASSERT_EQ(qtest_inb(s, P1 + REG_LBAM), 0x14);
    QT_ASSERT_EQ(qtest_inb(s, P1 + REG_LBAH), 0xeb);
    qtest_outb(s, P1 + REG_CMD, 0xec);
    QT_ASSERT(wait_ready(s, P1) & ST_ERR);
    QT_ASSERT_EQ(qtest_inb(s, P1 + REG_LBAM), 0x14);
    qtest_outb(s, P1 + REG_CMD, 0xa1);
    QT_ASSERT(wait_ready(s, P1) & ST_DRQ);
    pio_in(s, P1, buf, 512);
    QT_ASSERT_EQ(buf[1] >> 6, 2);               /* ATAPI */
    QT_ASSERT_EQ(buf[1] & 0x1f, 5);             /* CD-ROM */
    identify_string(buf, 27, 40, str);
    QT_ASSERT_MSG(!strcmp(str, "QEMU DVD-ROM"), "got \"%s\"", str);

    /* INQUIRY */
    uint8_t inquiry[12] = { 0x12, 0, 0, 0, 36, 0 };
    QT_ASSERT_EQ(atapi_cmd(s, inquiry, 0xfffe, buf, sizeof(buf), &n), ST_DRDY | ST_DSC);
    QT_ASSERT_EQ(n, 36);
    QT_ASSERT_EQ(buf[0], 0x05);
    QT_ASSERT_EQ(buf[1], 0x80);
    QT_ASSERT(!memcmp(buf + 8, "QEMU    QEMU DVD-ROM    ", 24));

    /* READ CAPACITY: last LBA, 2048-byte blocks */
    uint8_t cap[12] = { 0x25 };
    QT_ASSERT_EQ(atapi_cmd(s, cap, 0xfffe, buf, sizeof(buf), &n), ST_DRDY | ST_DSC);
    QT_ASSERT_EQ(n, 8);
    QT_ASSERT_EQ((uint32_t)buf[0] << 24 | buf[1] << 16 | buf[2] << 8 | buf[3], CD_SECTORS - 1);
    QT_ASSERT_EQ((uint32_t)buf[4] << 24 | buf[5] << 16 | buf[6] << 8 | buf[7], 2048);

    /* READ(10) of sectors 3-5 in blocks of at most 2048 bytes */
    uint8_t rd[12] = { 0x28, 0, 0, 0, 0, 3, 0, 0, 3 };
    QT_ASSERT_EQ(atapi_cmd(s, rd, 2048, buf, sizeof(buf), &n), ST_DRDY | ST_DSC);
    QT_ASSERT_EQ(n, 3 * 2048);
    qt_file_read(cd_path, 3 * 2048, want, 3 * 2048);
    QT_ASSERT(!memcmp(buf, want, 3 * 2048));

    /* READ(10) past the end: ILLEGAL REQUEST, then REQUEST SENSE says so */
    uint8_t bad[12] = { 0x28, 0, 0, 0, 0, CD_SECTORS - 1, 0, 0, 2 };
    QT_ASSERT(atapi_cmd(s, bad, 2048, buf, sizeof(buf), &n) & ST_ERR);
    QT_ASSERT_EQ(qtest_inb(s, P1 + REG_ERR) >> 4, 0x05);
    uint8_t sense[12] = { 0x03, 0, 0, 0, 18 };
    QT_ASSERT_EQ(atapi_cmd(s, sense, 0xfffe, buf, sizeof(buf), &n), ST_DRDY | ST_DSC);
    QT_ASSERT_EQ(n, 18);
    QT_ASSERT_EQ(buf[2] & 0x0f, 0x05);
    QT_ASSERT_EQ(buf[12], 0x21);                /* LBA out of range */

    /* an unknown opcode */
    uint8_t unk[12] = { 0xee };
    QT_ASSERT(atapi_cmd(s, unk, 2048, buf, sizeof(buf), &n) & ST_ERR);
    QT_ASSERT_EQ(atapi_cmd(s, sense, 0xfffe, buf, sizeof(buf), &n), ST_DRDY | ST_DSC);
    QT_ASSERT_EQ(buf[12], 0x20);

    /* READ TOC format 0: one track and the lead-out at the capacity */
    uint8_t toc[12] = { 0x43, 0, 0, 0, 0, 0, 0, 0, 100 };
    QT_ASSERT_EQ(atapi_cmd(s, toc, 0xfffe, buf, sizeof(buf), &n), ST_DRDY | ST_DSC);
    QT_ASSERT_EQ(n, 20);
    QT_ASSERT_EQ(buf[1], 18);
    QT_ASSERT_EQ(buf[6], 1);
    QT_ASSERT_EQ(buf[14], 0xaa);
    QT_ASSERT_EQ(buf[19], CD_SECTORS);

    /* READ(10) by DMA */
    prd(s, 0, BUF_ADDR, 2 * 2048, true);
    qtest_outb(s, bm + 2 + 8, 0x06);
    qtest_outl(s, bm + 4 + 8, PRD_ADDR);
    qtest_outb(s, P1 + REG_DEV, 0xa0);
    qtest_outb(s, P1 + REG_FEAT, 1);            /* DMA */
    qtest_outb(s, P1 + REG_CMD, 0xa0);
    QT_ASSERT(wait_ready(s, P1) & ST_DRQ);
    uint8_t rd2[12] = { 0x28, 0, 0, 0, 0, 10, 0, 0, 2 };
    for (int i = 0; i < 12; i += 2) {
        qtest_outw(s, P1, rd2[i] | rd2[i + 1] << 8);
    }
    qtest_outb(s, bm + 8, 0x09);
    for (int i = 0; i < 100000 && (qtest_inb(s, bm + 8 + 2) & 0x05) != 0x04; i++) {
    }
    QT_ASSERT_EQ(qtest_inb(s, bm + 8 + 2) & 0x07, 0x04);
    QT_ASSERT_EQ(wait_ready(s, P1), ST_DRDY | ST_DSC);
    QT_ASSERT_EQ(qtest_inb(s, P1 + REG_NSECT), 3);
    qtest_outb(s, bm + 8, 0);
    qtest_memread(s, BUF_ADDR, buf, 2 * 2048);
    qt_file_read(cd_path, 10 * 2048, want, 2 * 2048);
    QT_ASSERT(!memcmp(buf, want, 2 * 2048));
    qtest_quit(s);
}

static void test_atapi_empty(void)
{
    QTestState *s = qtest_initf("-drive file=%s,format=raw,if=ide,index=0 "
                                "-drive if=ide,index=2,media=cdrom", disk_path);
    uint8_t buf[64];
    size_t n;

    ide_setup_pci(s);
    uint8_t tur[12] = { 0x00 };
    QT_ASSERT(atapi_cmd(s, tur, 2048, buf, sizeof(buf), &n) & ST_ERR);
    QT_ASSERT_EQ(qtest_inb(s, P1 + REG_ERR) >> 4, 0x02);        /* NOT READY */
    uint8_t sense[12] = { 0x03, 0, 0, 0, 18 };
    QT_ASSERT_EQ(atapi_cmd(s, sense, 0xfffe, buf, sizeof(buf), &n), ST_DRDY | ST_DSC);
    QT_ASSERT_EQ(buf[2] & 0x0f, 0x02);
    QT_ASSERT_EQ(buf[12], 0x3a);                                /* medium not present */
    uint8_t cap[12] = { 0x25 };
    QT_ASSERT(atapi_cmd(s, cap, 2048, buf, sizeof(buf), &n) & ST_ERR);
    QT_ASSERT_EQ(qtest_inb(s, P1 + REG_ERR) >> 4, 0x02);
    uint8_t rd[12] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 1 };
    QT_ASSERT(atapi_cmd(s, rd, 2048, buf, sizeof(buf), &n) & ST_ERR);
    /* INQUIRY works without a medium */
    uint8_t inquiry[12] = { 0x12, 0, 0, 0, 36, 0 };
    QT_ASSERT_EQ(atapi_cmd(s, inquiry, 0xfffe, buf, sizeof(buf), &n), ST_DRDY | ST_DSC);
    QT_ASSERT_EQ(buf[0], 0x05);
    qtest_quit(s);
}

/* Registers programmed wrongly: the emulator stays up and the disk still
 * answers afterwards. */
static void test_fuzz(void)
{
    QTestState *s = start("");
    uint16_t bm = ide_setup_pci(s);
    uint8_t id[512];
    /* IDE_FUZZ_SEED / IDE_FUZZ_ITERATIONS: longer runs by hand */
    unsigned seed = getenv("IDE_FUZZ_SEED") ? atoi(getenv("IDE_FUZZ_SEED")) : 12345;
    int iterations = getenv("IDE_FUZZ_ITERATIONS") ? atoi(getenv("IDE_FUZZ_ITERATIONS")) : 4000;

    /* DMA start with no command and no PRD table */
    qtest_outl(s, bm + 4, 0);
    qtest_outb(s, bm, 0x09);
    qtest_outb(s, bm, 0x00);
    /* a command while busy/DRQ is ignored; reads of the data port with no
     * data; a huge LBA48 count at LBA 0 (past the end) */
    lba48(s, P0, 0, 0);
    qtest_outb(s, P0 + REG_CMD, 0x24);
    qtest_outb(s, P0 + REG_CMD, 0xec);
    qtest_inw(s, P0);
    qtest_inl(s, P0);
    /* a read of 256 sectors abandoned half way by a new DMA start and a
     * software reset */
    lba28(s, P0, 0, 0);
    qtest_outb(s, P0 + REG_CMD, 0x20);
    qtest_outb(s, bm, 0x09);
    qtest_inw(s, P0);
    qtest_outb(s, C0, 0x04);
    qtest_outb(s, C0, 0x00);
    /* DMA started, then stopped mid-transfer, then restarted */
    prd(s, 0, BUF_ADDR, 0, true);
    lba28(s, P0, 0, 128);
    qtest_outl(s, bm + 4, PRD_ADDR);
    qtest_outb(s, P0 + REG_CMD, 0xc8);
    qtest_outb(s, bm, 0x09);
    qtest_outb(s, bm, 0x00);
    qtest_outb(s, bm, 0x09);
    qtest_outb(s, bm, 0x00);
    /* random writes to every register, both channels and the bus master */
    for (int i = 0; i < iterations; i++) {
        static const uint16_t ports[] = { P0, P0 + 1, P0 + 2, P0 + 3, P0 + 4, P0 + 5, P0 + 6,
                                          P0 + 7, C0, P1, P1 + 2, P1 + 4, P1 + 5, P1 + 6,
                                          P1 + 7, C1 };
        seed = seed * 1103515245 + 12345;
        unsigned r = seed >> 8;
        int which = r % 20;
        uint8_t v = r >> 8;
        if (which < 16) {
            uint16_t port = ports[which];
            /* mostly known commands, so that they actually run */
            if ((port == P0 + 7 || port == P1 + 7) && (r & 0x10000)) {
                static const uint8_t cmds[] = { 0x20, 0x24, 0x30, 0x34, 0xc4, 0xc5, 0xc6,
                                                0xc8, 0xca, 0x25, 0x35, 0xa0, 0xa1, 0xec,
                                                0xe7, 0xef, 0x91, 0x40, 0x08, 0x90 };
                v = cmds[(r >> 17) % sizeof(cmds)];
            }
            if (port == P0 || port == P1) {
                /* the data port: 16-bit, mostly small ATAPI opcodes */
                qtest_outw(s, port, (r & 0x20000) ? (r >> 8) & 0xffff : (r >> 8) & 0x5f);
            } else {
                qtest_outb(s, port, v);
            }
        } else if (which == 16) {
            qtest_outb(s, bm + ((r >> 16) & 1) * 8, v & 0x09);
        } else if (which == 17) {
            qtest_outl(s, bm + 4 + ((r >> 16) & 1) * 8, (r & 1) ? PRD_ADDR : r * 2654435761u);
        } else if (which == 18) {
            prd(s, r % 4, (r & 2) ? BUF_ADDR : r * 40503u, r >> 4, r & 8);
        } else {
            qtest_inw(s, (r & 1) ? P0 : P1);
        }
    }
    /* still alive: reset the channel and IDENTIFY the disk */
    qtest_outb(s, bm, 0);
    qtest_outb(s, C0, 0x04);
    qtest_outb(s, C0, 0x00);
    wait_ready(s, P0);
    qtest_outb(s, P0 + REG_DEV, 0xa0);
    qtest_outb(s, P0 + REG_CMD, 0xec);
    QT_ASSERT_EQ(wait_ready(s, P0), ST_DRDY | ST_DSC | ST_DRQ);
    pio_in(s, P0, id, sizeof(id));
    QT_ASSERT_EQ(id[120] | id[121] << 8, DISK_SECTORS);
    qtest_quit(s);
}

/* An MBR whose partition ends on a cylinder of 8 heads x 32 sectors: the
 * drive reports that geometry (as QEMU guesses) and CHS addresses use it. */
static void test_geometry_from_mbr(void)
{
    char path[64];
    uint8_t mbr[512], id[512], buf[512], want[512];
    QTestState *s;
    int fd;

    qt_make_image(path, "/tmp/ide-test-mbr-XXXXXX", DISK_SECTORS * 512, 3);
    memset(mbr, 0, sizeof(mbr));
    mbr[0x1be + 4] = 0x83;                      /* type */
    mbr[0x1be + 5] = 7;                         /* end head */
    mbr[0x1be + 6] = 32;                        /* end sector (cylinder bits 0) */
    mbr[0x1be + 7] = 7;                         /* end cylinder */
    mbr[0x1be + 12] = 0x00;                     /* nr_sects = 0x800 */
    mbr[0x1be + 13] = 0x08;
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    fd = open(path, O_WRONLY);
    QT_ASSERT(fd >= 0);
    QT_ASSERT_EQ(pwrite(fd, mbr, sizeof(mbr), 0), 512);
    close(fd);
    s = qtest_initf("-drive file=%s,format=raw,if=ide,index=0", path);
    ide_setup_pci(s);
    qtest_outb(s, P0 + REG_DEV, 0xa0);
    qtest_outb(s, P0 + REG_CMD, 0xec);
    QT_ASSERT_EQ(wait_ready(s, P0), ST_DRDY | ST_DSC | ST_DRQ);
    pio_in(s, P0, id, sizeof(id));
    QT_ASSERT_EQ(id[2] | id[3] << 8, DISK_SECTORS / (8 * 32));  /* cylinders */
    QT_ASSERT_EQ(id[6] | id[7] << 8, 8);                        /* heads */
    QT_ASSERT_EQ(id[12] | id[13] << 8, 32);                     /* sectors */
    /* cylinder 1, head 2, sector 5 = LBA (1 * 8 + 2) * 32 + 4 */
    qtest_outb(s, P0 + REG_DEV, 0xa2);
    qtest_outb(s, P0 + REG_NSECT, 1);
    qtest_outb(s, P0 + REG_LBAL, 5);
    qtest_outb(s, P0 + REG_LBAM, 1);
    qtest_outb(s, P0 + REG_LBAH, 0);
    qtest_outb(s, P0 + REG_CMD, 0x20);
    QT_ASSERT_EQ(wait_ready(s, P0), ST_DRDY | ST_DSC | ST_DRQ);
    pio_in(s, P0, buf, 512);
    qt_file_read(path, 324 * 512, want, 512);
    QT_ASSERT(!memcmp(buf, want, 512));
    qtest_quit(s);
    unlink(path);
}

/* -device ide-hd / ide-cd on a chosen bus and unit */
static void test_device(void)
{
    QTestState *s = qtest_initf("-drive file=%s,format=raw,if=none,id=d1 "
                                "-device ide-hd,drive=d1,bus=ide.1,unit=1 "
                                "-device ide-cd,bus=ide.0,unit=1", disk_path);
    uint8_t id[512];
    char str[41];

    ide_setup_pci(s);
    /* primary: no master, an empty CD-ROM as slave */
    qtest_outb(s, P0 + REG_DEV, 0xb0);
    QT_ASSERT_EQ(qtest_inb(s, P0 + REG_LBAM), 0x14);
    QT_ASSERT_EQ(qtest_inb(s, P0 + REG_LBAH), 0xeb);
    qtest_outb(s, P0 + REG_CMD, 0xa1);
    QT_ASSERT(wait_ready(s, P0) & ST_DRQ);
    pio_in(s, P0, id, sizeof(id));
    identify_string(id, 27, 40, str);
    QT_ASSERT_MSG(!strcmp(str, "QEMU DVD-ROM"), "got \"%s\"", str);
    /* secondary slave: the disk */
    qtest_outb(s, P1 + REG_DEV, 0xb0);
    qtest_outb(s, P1 + REG_CMD, 0xec);
    QT_ASSERT_EQ(wait_ready(s, P1), ST_DRDY | ST_DSC | ST_DRQ);
    pio_in(s, P1, id, sizeof(id));
    identify_string(id, 27, 40, str);
    QT_ASSERT_MSG(!strcmp(str, "QEMU HARDDISK"), "got \"%s\"", str);
    QT_ASSERT_EQ(id[120] | id[121] << 8, DISK_SECTORS);
    qtest_quit(s);
}

int main(int argc, char **argv)
{
    int ret;

    qt_init(argc, argv);
    qt_make_image(disk_path, "/tmp/ide-test-disk-XXXXXX", DISK_SECTORS * 512, 1);
    qt_make_image(cd_path, "/tmp/ide-test-cd-XXXXXX", CD_SECTORS * 2048, 2);
    qt_run("ide/identify", test_identify);
    qt_run("ide/pio-rw", test_pio_rw);
    qt_run("ide/pio-read-ahead", test_pio_read_ahead);
    qt_run("ide/dma-rw", test_dma_rw);
    qt_run("ide/dma-prd-errors", test_dma_prd_errors);
    qt_run("ide/ata-errors", test_ata_errors);
    qt_run("ide/atapi", test_atapi);
    qt_run("ide/atapi-empty", test_atapi_empty);
    qt_run("ide/geometry-from-mbr", test_geometry_from_mbr);
    qt_run("ide/device", test_device);
    qt_run("ide/fuzz", test_fuzz);
    ret = qt_finish();
    unlink(disk_path);
    unlink(cd_path);
    return ret;
}

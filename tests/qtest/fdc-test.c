/*
 * The floppy controller and the 8237 DMA controllers (docs/floppy.md):
 * DMA register programming through the flip-flop and the page registers,
 * FDC reset and its four SENSE INTERRUPT STATUS results, VERSION,
 * SPECIFY/DUMPREG, SEEK and RECALIBRATE, READ DATA through DMA channel 2
 * compared with the image, WRITE DATA compared in the image file, READ ID,
 * an invalid command, a cylinder beyond the disk, a write-protected disk,
 * and DMA into an address outside RAM (the emulator must stay alive).
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include "qtest-harness.h"
#include "qtest-images.h"

#define FD_DOR  0x3f2
#define FD_MSR  0x3f4
#define FD_FIFO 0x3f5
#define FD_DIR  0x3f7

#define MSR_RQM 0x80
#define MSR_DIO 0x40
#define MSR_CB  0x10

#define SPT 18
#define HEADS 2
#define SECTORS (80 * HEADS * SPT)      /* 1.44 MB */
#define BUF_ADDR 0x20000

static char img_path[64];

static QTestState *start(const char *extra)
{
    QTestState *s = qtest_initf("-m 8 -drive file=%s,format=raw,if=floppy,index=0 %s",
                                img_path, extra);
    qtest_irq_intercept_in(s, "ioapic");
    return s;
}

/* Waits until the controller wants a byte (dio 0) or has one (dio MSR_DIO). */
static void wait_rqm(QTestState *s, uint8_t dio)
{
    struct timespec t0, t;
    uint8_t msr;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        msr = qtest_inb(s, FD_MSR);
        if ((msr & (MSR_RQM | MSR_DIO)) == (MSR_RQM | dio)) {
            return;
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > 20) {
            QT_FAIL("FDC MSR stays 0x%02x (want RQM, DIO %d)", msr, !!dio);
        }
    }
}

static void fd_cmd(QTestState *s, const uint8_t *b, int n)
{
    for (int i = 0; i < n; i++) {
        wait_rqm(s, 0);
        qtest_outb(s, FD_FIFO, b[i]);
    }
}

static void fd_result(QTestState *s, uint8_t *r, int n)
{
    for (int i = 0; i < n; i++) {
        wait_rqm(s, MSR_DIO);
        r[i] = qtest_inb(s, FD_FIFO);
    }
    /* back in the command phase */
    QT_ASSERT_EQ(qtest_inb(s, FD_MSR) & (MSR_RQM | MSR_DIO | MSR_CB), MSR_RQM);
}

static void sense_int(QTestState *s, uint8_t *st0, uint8_t *pcn)
{
    uint8_t c = 0x08, r[2];

    fd_cmd(s, &c, 1);
    fd_result(s, r, 2);
    *st0 = r[0];
    *pcn = r[1];
}

/* DOR reset pulse: IRQ 6, then four SENSE INTERRUPT STATUS (polling). */
static void fd_reset(QTestState *s)
{
    uint8_t st0, pcn;

    qtest_outb(s, FD_DOR, 0x00);
    QT_ASSERT(!qtest_get_irq(s, 6));
    qtest_outb(s, FD_DOR, 0x1c);            /* motor A, DMA gate, out of reset */
    QT_ASSERT(qtest_get_irq(s, 6));
    for (int i = 0; i < 4; i++) {
        sense_int(s, &st0, &pcn);
        QT_ASSERT_EQ(st0, 0xc0 | i);
        QT_ASSERT_EQ(pcn, 0);
    }
    QT_ASSERT(!qtest_get_irq(s, 6));
}

static void dma_setup(QTestState *s, uint32_t addr, uint16_t len, bool to_mem)
{
    qtest_outb(s, 0x0a, 0x06);              /* mask channel 2 */
    qtest_outb(s, 0x0c, 0x00);              /* flip-flop */
    qtest_outb(s, 0x0b, to_mem ? 0x46 : 0x4a);  /* single, write/read, ch 2 */
    qtest_outb(s, 0x04, addr & 0xff);
    qtest_outb(s, 0x04, (addr >> 8) & 0xff);
    qtest_outb(s, 0x81, addr >> 16);
    qtest_outb(s, 0x05, (len - 1) & 0xff);
    qtest_outb(s, 0x05, (len - 1) >> 8);
    qtest_outb(s, 0x0a, 0x02);              /* unmask */
}

static void fd_rw(QTestState *s, bool write, int c, int h, int r, int eot, uint8_t *res)
{
    uint8_t cmd[9] = { write ? 0xc5 : 0xe6, h << 2, c, h, r, 2, eot, 0x1b, 0xff };

    fd_cmd(s, cmd, 9);
    fd_result(s, res, 7);
}

static void test_dma_registers(void)
{
    QTestState *s = start("");

    qtest_outb(s, 0x0d, 0);                 /* master clear */
    qtest_outb(s, 0x0c, 0);
    qtest_outb(s, 0x04, 0x34);
    qtest_outb(s, 0x04, 0x12);
    qtest_outb(s, 0x05, 0xff);
    qtest_outb(s, 0x05, 0x01);
    qtest_outb(s, 0x81, 0x56);
    qtest_outb(s, 0x0c, 0);
    QT_ASSERT_EQ(qtest_inb(s, 0x04), 0x34);
    QT_ASSERT_EQ(qtest_inb(s, 0x04), 0x12);
    QT_ASSERT_EQ(qtest_inb(s, 0x05), 0xff);
    QT_ASSERT_EQ(qtest_inb(s, 0x05), 0x01);
    QT_ASSERT_EQ(qtest_inb(s, 0x81), 0x56);
    /* the flip-flop toggles on each access: a lone read leaves it high */
    QT_ASSERT_EQ(qtest_inb(s, 0x04), 0x34);
    QT_ASSERT_EQ(qtest_inb(s, 0x05), 0x01);     /* the high byte of the count */
    /* spare page bytes read back, port 0x80 stays the POST port */
    qtest_outb(s, 0x84, 0xa5);
    QT_ASSERT_EQ(qtest_inb(s, 0x84), 0xa5);
    qtest_outb(s, 0x80, 0x12);
    QT_ASSERT_EQ(qtest_inb(s, 0x80), 0xff);
    /* second controller: word registers at even ports from 0xc0 */
    qtest_outb(s, 0xd8, 0);                 /* flip-flop (reg 12) */
    qtest_outb(s, 0xc4, 0x78);              /* channel 5 address */
    qtest_outb(s, 0xc4, 0x9a);
    qtest_outb(s, 0x8b, 0x22);              /* channel 5 page */
    qtest_outb(s, 0xd8, 0);
    QT_ASSERT_EQ(qtest_inb(s, 0xc4), 0x78);
    QT_ASSERT_EQ(qtest_inb(s, 0xc4), 0x9a);
    QT_ASSERT_EQ(qtest_inb(s, 0x8b), 0x22);
    /* status: no terminal count, no request */
    QT_ASSERT_EQ(qtest_inb(s, 0x08), 0x00);
    qtest_outb(s, 0x09, 0x05);              /* software request on channel 1 */
    QT_ASSERT_EQ(qtest_inb(s, 0x08), 0x20);
    qtest_outb(s, 0x0d, 0);                 /* master clear drops it */
    QT_ASSERT_EQ(qtest_inb(s, 0x08), 0x00);
    qtest_quit(s);
}

static void test_reset_version(void)
{
    QTestState *s = start("");
    uint8_t c, r[10];

    fd_reset(s);
    /* no interrupt pending: SENSE INTERRUPT STATUS is invalid */
    c = 0x08;
    fd_cmd(s, &c, 1);
    fd_result(s, r, 1);
    QT_ASSERT_EQ(r[0], 0x80);
    c = 0x10;
    fd_cmd(s, &c, 1);
    fd_result(s, r, 1);
    QT_ASSERT_EQ(r[0], 0x90);
    /* an invalid command: ST0 0x80 */
    c = 0x1f;
    fd_cmd(s, &c, 1);
    fd_result(s, r, 1);
    QT_ASSERT_EQ(r[0], 0x80);
    /* SPECIFY has no result; DUMPREG shows it */
    fd_cmd(s, (const uint8_t[]){ 0x03, 0xaf, 0x02 }, 3);
    QT_ASSERT_EQ(qtest_inb(s, FD_MSR) & (MSR_RQM | MSR_DIO | MSR_CB), MSR_RQM);
    c = 0x0e;
    fd_cmd(s, &c, 1);
    fd_result(s, r, 10);
    QT_ASSERT_EQ(r[4], 0xaf);
    QT_ASSERT_EQ(r[5], 0x02);
    QT_ASSERT_EQ(r[6], SPT);
    /* LOCK answers with the lock bit */
    c = 0x94;
    fd_cmd(s, &c, 1);
    fd_result(s, r, 1);
    QT_ASSERT_EQ(r[0], 0x10);
    /* the disk was just inserted: DSKCHG until a seek */
    QT_ASSERT(qtest_inb(s, FD_DIR) & 0x80);
    qtest_quit(s);
}

static void test_seek(void)
{
    QTestState *s = start("");
    uint8_t st0, pcn, r[7];

    fd_reset(s);
    fd_cmd(s, (const uint8_t[]){ 0x0f, 0x00, 10 }, 3);
    QT_ASSERT(qtest_get_irq(s, 6));
    sense_int(s, &st0, &pcn);
    QT_ASSERT_EQ(st0, 0x20);
    QT_ASSERT_EQ(pcn, 10);
    QT_ASSERT(!qtest_get_irq(s, 6));
    QT_ASSERT(!(qtest_inb(s, FD_DIR) & 0x80));
    /* READ ID finds the cylinder under the head */
    fd_cmd(s, (const uint8_t[]){ 0x4a, 0x00 }, 2);
    fd_result(s, r, 7);
    QT_ASSERT_EQ(r[0], 0x00);
    QT_ASSERT_EQ(r[3], 10);
    QT_ASSERT_EQ(r[6], 2);
    /* SENSE DRIVE STATUS: not on track 0 */
    fd_cmd(s, (const uint8_t[]){ 0x04, 0x00 }, 2);
    fd_result(s, r, 1);
    QT_ASSERT_EQ(r[0] & 0x10, 0);
    fd_cmd(s, (const uint8_t[]){ 0x07, 0x00 }, 2);
    QT_ASSERT(qtest_get_irq(s, 6));
    sense_int(s, &st0, &pcn);
    QT_ASSERT_EQ(st0, 0x20);
    QT_ASSERT_EQ(pcn, 0);
    fd_cmd(s, (const uint8_t[]){ 0x04, 0x00 }, 2);
    fd_result(s, r, 1);
    QT_ASSERT_EQ(r[0] & 0x50, 0x10);        /* track 0, not write protected */
    qtest_quit(s);
}

static void test_read(void)
{
    QTestState *s = start("");
    uint8_t r[7], got[1024], want[1024];
    int lba = (2 * HEADS + 1) * SPT + 16;

    fd_reset(s);
    /* the last two sectors of cylinder 2 head 1: TC at the end of track */
    dma_setup(s, BUF_ADDR, 1024, true);
    fd_rw(s, false, 2, 1, 17, 18, r);
    QT_ASSERT_EQ(r[0], 0x04);               /* normal termination, head 1 */
    QT_ASSERT_EQ(r[1], 0);
    QT_ASSERT_EQ(r[2], 0);
    QT_ASSERT_EQ(r[3], 3);                  /* next cylinder, sector 1 */
    QT_ASSERT_EQ(r[5], 1);
    qtest_memread(s, BUF_ADDR, got, sizeof(got));
    qt_file_read(img_path, (off_t)lba * 512, want, sizeof(want));
    QT_ASSERT(!memcmp(got, want, sizeof(got)));
    QT_ASSERT(qtest_inb(s, 0x08) & 0x04);   /* channel 2 reached TC */
    /* MT: sector 18 head 0 then sector 1 head 1, stopped by TC */
    dma_setup(s, BUF_ADDR, 1024, true);
    fd_rw(s, false, 4, 0, 18, 18, r);
    QT_ASSERT_EQ(r[0], 0x00);
    QT_ASSERT_EQ(r[3], 4);
    QT_ASSERT_EQ(r[4], 1);
    QT_ASSERT_EQ(r[5], 2);
    qtest_memread(s, BUF_ADDR, got, sizeof(got));
    qt_file_read(img_path, (off_t)(4 * HEADS * SPT + 17) * 512, want, sizeof(want));
    QT_ASSERT(!memcmp(got, want, sizeof(got)));
    qtest_quit(s);
}

static void test_write(void)
{
    QTestState *s = start("");
    uint8_t r[7], pat[512], got[512];
    int lba = (5 * HEADS + 0) * SPT + 2;

    for (int i = 0; i < 512; i++) {
        pat[i] = i * 7 + 3;
    }
    fd_reset(s);
    qtest_memwrite(s, BUF_ADDR, pat, sizeof(pat));
    dma_setup(s, BUF_ADDR, 512, false);
    fd_rw(s, true, 5, 0, 3, 18, r);
    QT_ASSERT_EQ(r[0], 0x00);
    QT_ASSERT_EQ(r[1], 0);
    QT_ASSERT_EQ(r[5], 4);
    qt_file_read(img_path, (off_t)lba * 512, got, sizeof(got));
    QT_ASSERT(!memcmp(got, pat, sizeof(got)));
    qtest_quit(s);
}

static void test_errors(void)
{
    QTestState *s = start("");
    uint8_t r[7];

    fd_reset(s);
    /* cylinder 80 of an 80-cylinder disk */
    dma_setup(s, BUF_ADDR, 512, true);
    fd_rw(s, false, 80, 0, 1, 18, r);
    QT_ASSERT_EQ(r[0] & 0xc0, 0x40);
    /* sector 19 of an 18-sector track */
    fd_rw(s, false, 1, 0, 19, 19, r);
    QT_ASSERT_EQ(r[0] & 0xc0, 0x40);
    QT_ASSERT_EQ(r[1], 0x80);
    /* DMA to 15 MiB, outside the 8 MiB of RAM: nothing written, alive */
    dma_setup(s, 0xf00000, 512, true);
    fd_rw(s, false, 0, 0, 1, 18, r);
    QT_ASSERT_EQ(r[0], 0x00);
    qtest_outb(s, FD_FIFO, 0x10);
    wait_rqm(s, MSR_DIO);
    QT_ASSERT_EQ(qtest_inb(s, FD_FIFO), 0x90);
    /* garbage in every register */
    for (int p = 0; p < 16; p++) {
        qtest_outb(s, p, 0xff);
        qtest_outb(s, 0xc0 + 2 * p, 0xff);
    }
    for (int i = 0; i < 64; i++) {
        qtest_outb(s, FD_FIFO, i * 37);
        qtest_outb(s, FD_MSR, i & 0x7f);
    }
    fd_reset(s);
    qtest_quit(s);
}

static void test_read_only(void)
{
    QTestState *s = qtest_initf("-drive file=%s,format=raw,if=floppy,readonly=on", img_path);
    uint8_t r[7];

    qtest_irq_intercept_in(s, "ioapic");
    fd_reset(s);
    fd_cmd(s, (const uint8_t[]){ 0x04, 0x00 }, 2);
    fd_result(s, r, 1);
    QT_ASSERT(r[0] & 0x40);                 /* write protected */
    dma_setup(s, BUF_ADDR, 512, false);
    fd_rw(s, true, 0, 0, 1, 18, r);
    QT_ASSERT_EQ(r[0] & 0xc0, 0x40);
    QT_ASSERT_EQ(r[1], 0x02);               /* not writable */
    qtest_quit(s);
}

/* SPECIFY ND: the sector comes through the FIFO, no DMA programmed. */
static void test_pio(void)
{
    QTestState *s = start("");
    uint8_t r[7], got[512], want[512];

    fd_reset(s);
    fd_cmd(s, (const uint8_t[]){ 0x03, 0xaf, 0x03 }, 3);
    fd_cmd(s, (const uint8_t[]){ 0x46, 0x00, 1, 0, 5, 2, 5, 0x1b, 0xff }, 9);
    for (int i = 0; i < 512; i++) {
        wait_rqm(s, MSR_DIO);
        QT_ASSERT(qtest_inb(s, FD_MSR) & 0x20);     /* NON-DMA execution */
        got[i] = qtest_inb(s, FD_FIFO);
    }
    fd_result(s, r, 7);
    QT_ASSERT_EQ(r[0], 0x00);
    QT_ASSERT_EQ(r[3], 2);                  /* EOT reached: next cylinder */
    QT_ASSERT_EQ(r[5], 1);
    qt_file_read(img_path, (off_t)(1 * HEADS * SPT + 4) * 512, want, sizeof(want));
    QT_ASSERT(!memcmp(got, want, sizeof(got)));
    qtest_quit(s);
}

/* FORMAT TRACK: 18 ID fields by DMA, every sector gets the filler byte. */
static void test_format(void)
{
    QTestState *s = start("");
    uint8_t st0, pcn, r[7], ids[18 * 4], got[SPT * 512];

    fd_reset(s);
    fd_cmd(s, (const uint8_t[]){ 0x0f, 0x00, 7 }, 3);
    sense_int(s, &st0, &pcn);
    QT_ASSERT_EQ(pcn, 7);
    for (int i = 0; i < SPT; i++) {
        ids[4 * i] = 7;
        ids[4 * i + 1] = 1;
        ids[4 * i + 2] = i + 1;
        ids[4 * i + 3] = 2;
    }
    qtest_memwrite(s, BUF_ADDR, ids, sizeof(ids));
    dma_setup(s, BUF_ADDR, sizeof(ids), false);
    fd_cmd(s, (const uint8_t[]){ 0x4d, 0x04, 2, SPT, 0x54, 0xe5 }, 6);
    fd_result(s, r, 7);
    QT_ASSERT_EQ(r[0], 0x04);
    QT_ASSERT_EQ(r[1], 0);
    qt_file_read(img_path, (off_t)(7 * HEADS + 1) * SPT * 512, got, sizeof(got));
    for (size_t i = 0; i < sizeof(got); i++) {
        QT_ASSERT_EQ(got[i], 0xe5);
    }
    qtest_quit(s);
}

/* Geometry and CMOS drive types from the image sizes. */
static void test_geometry(void)
{
    char big[64], small[64];
    QTestState *s;
    uint8_t r[10], c = 0x0e;

    qt_make_image(big, "/tmp/fdc-test-288-XXXXXX", 5760 * 512, 4);
    qt_make_image(small, "/tmp/fdc-test-720-XXXXXX", 1440 * 512, 5);
    s = qtest_initf("-drive file=%s,format=raw,if=floppy,index=0 "
                    "-drive file=%s,format=raw,if=floppy,index=1", big, small);
    qtest_outb(s, 0x70, 0x10);
    QT_ASSERT_EQ(qtest_inb(s, 0x71), 0x53);     /* A 2.88 MB, B 720 KB */
    fd_cmd(s, &c, 1);
    fd_result(s, r, 10);
    QT_ASSERT_EQ(r[6], 36);
    qtest_outb(s, FD_DOR, 0x1d);                /* select B */
    fd_cmd(s, &c, 1);
    fd_result(s, r, 10);
    QT_ASSERT_EQ(r[6], 9);
    qtest_quit(s);
    s = qtest_initf("-m 8");
    qtest_outb(s, 0x70, 0x10);
    QT_ASSERT_EQ(qtest_inb(s, 0x71), 0x00);     /* no drives */
    qtest_quit(s);
    unlink(big);
    unlink(small);
}

/* A reset while a read is in flight: its completion is dropped. */
static void test_reset_in_flight(void)
{
    QTestState *s = start("");
    uint8_t r[7];

    fd_reset(s);
    dma_setup(s, BUF_ADDR, 512 * SPT, true);
    fd_cmd(s, (const uint8_t[]){ 0xe6, 0x00, 3, 0, 1, 2, 18, 0x1b, 0xff }, 9);
    qtest_outb(s, FD_DOR, 0x00);
    qtest_outb(s, FD_DOR, 0x1c);
    for (int i = 0; i < 4; i++) {
        uint8_t st0, pcn;
        sense_int(s, &st0, &pcn);
        QT_ASSERT_EQ(st0, 0xc0 | i);
    }
    QT_ASSERT(!qtest_get_irq(s, 6));
    /* the dropped read neither raises IRQ 6 nor enters a result phase */
    qtest_clock_step(s, 1000000);
    QT_ASSERT(!qtest_get_irq(s, 6));
    QT_ASSERT_EQ(qtest_inb(s, FD_MSR) & (MSR_RQM | MSR_DIO | MSR_CB), MSR_RQM);
    fd_cmd(s, (const uint8_t[]){ 0x10 }, 1);
    fd_result(s, r, 1);
    QT_ASSERT_EQ(r[0], 0x90);
    qtest_quit(s);
}

int main(int argc, char **argv)
{
    int ret;

    qt_init(argc, argv);
    qt_make_image(img_path, "/tmp/fdc-test-XXXXXX", SECTORS * 512, 3);
    qt_run("dma/registers", test_dma_registers);
    qt_run("fdc/reset-version", test_reset_version);
    qt_run("fdc/seek", test_seek);
    qt_run("fdc/read", test_read);
    qt_run("fdc/write", test_write);
    qt_run("fdc/errors", test_errors);
    qt_run("fdc/read-only", test_read_only);
    qt_run("fdc/pio", test_pio);
    qt_run("fdc/format", test_format);
    qt_run("fdc/geometry", test_geometry);
    qt_run("fdc/reset-in-flight", test_reset_in_flight);
    ret = qt_finish();
    unlink(img_path);
    return ret;
}

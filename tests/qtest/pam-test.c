/*
 * i440FX PAM (config 0x59-0x5f) and SMRAM (0x72) on the pc machine, with a
 * 64 KiB -bios image whose bytes are known:
 *   - the image sits at 0xffff0000 and, PAM off, at 0xf0000;
 *   - RE|WE shows read/write RAM; RE reads RAM and drops writes; WE
 *     writes RAM (and, as on QEMU, reads it); each 16 KiB segment of
 *     PAM1-PAM6 has its own nibble;
 *   - SMRAM D_OPEN shows the RAM under 0xa0000, otherwise PCI (here a
 *     pci-testdev BAR placed there);
 *   - 0xc0000-0xdffff, PAM off, is the (empty, read-only) option ROM area.
 * As on QEMU, where PCI memory has nothing the RAM under it shows through.
 * Runs against QEMU too (tests/qtest/Makefile).
 */
#include <fcntl.h>
#include "qtest-harness.h"

#define PCI_ADDR    0xcf8
#define PCI_DATA    0xcfc
#define PAM0        0x59
#define SMRAM       0x72

static char rom_path[64];

/* byte i of the image */
static uint8_t rom_byte(uint32_t i)
{
    return (uint8_t)(i * 7 + (i >> 8) + 3);
}

static void make_rom(void)
{
    uint8_t *img = malloc(0x10000);
    int fd;

    for (uint32_t i = 0; i < 0x10000; i++) {
        img[i] = rom_byte(i);
    }
    snprintf(rom_path, sizeof(rom_path), "/tmp/pam-test-%d.rom", (int)getpid());
    fd = open(rom_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, img, 0x10000) != 0x10000) {
        qtest_fail("cannot write %s", rom_path);
    }
    close(fd);
    free(img);
}

static void cfg_writeb(QTestState *s, uint8_t reg, uint8_t v)
{
    qtest_outl(s, PCI_ADDR, 0x80000000u | (reg & 0xfc));
    qtest_outb(s, PCI_DATA + (reg & 3), v);
}

static void cfg_writel_dev(QTestState *s, int slot, uint8_t reg, uint32_t v)
{
    qtest_outl(s, PCI_ADDR, 0x80000000u | slot << 11 | reg);
    qtest_outl(s, PCI_DATA, v);
}

/* QEMU's qtest writes go through a read-only alias (its TCG CPU's do not). */
static int on_qemu(void)
{
    return strstr(qtest_binary_path(), "qemu") != NULL;
}

static uint8_t cfg_readb(QTestState *s, uint8_t reg)
{
    qtest_outl(s, PCI_ADDR, 0x80000000u | (reg & 0xfc));
    return qtest_inb(s, PCI_DATA + (reg & 3));
}

static QTestState *start(void)
{
    char args[128];

    snprintf(args, sizeof(args), "-nodefaults -m 128 -bios %s", rom_path);
    return qtest_init(args);
}

static void test_rom_mapped(void)
{
    QTestState *s = start();

    QT_ASSERT_EQ(qtest_readb(s, 0xfffffff0), rom_byte(0xfff0));
    QT_ASSERT_EQ(qtest_readl(s, 0xffff1234), (uint32_t)rom_byte(0x1234) |
                 rom_byte(0x1235) << 8 | rom_byte(0x1236) << 16 |
                 (uint32_t)rom_byte(0x1237) << 24);
    /* reset: PAM all off, the image's copy at 0xf0000 */
    for (int i = 0; i < 7; i++) {
        QT_ASSERT_EQ(cfg_readb(s, PAM0 + i), 0);
    }
    QT_ASSERT_EQ(qtest_readb(s, 0xf0000), rom_byte(0));
    QT_ASSERT_EQ(qtest_readb(s, 0xfabcd), rom_byte(0xabcd));
    /* ROM: writes are dropped */
    qtest_writeb(s, 0xf0010, (uint8_t)~rom_byte(0x10));
    QT_ASSERT_EQ(qtest_readb(s, 0xf0010), rom_byte(0x10));
    qtest_writeb(s, 0xffff0010, (uint8_t)~rom_byte(0x10));
    QT_ASSERT_EQ(qtest_readb(s, 0xffff0010), rom_byte(0x10));
    /* the option ROM area: read-only zeros */
    QT_ASSERT_EQ(qtest_readb(s, 0xc0000), 0);
    qtest_writeb(s, 0xc0000, 0x77);
    QT_ASSERT_EQ(qtest_readb(s, 0xdffff), 0);
    QT_ASSERT_EQ(qtest_readb(s, 0xc0000), 0);
    qtest_quit(s);
}

static void test_pam0_modes(void)
{
    QTestState *s = start();

    /* RE|WE: RAM (zero at first), read/write */
    cfg_writeb(s, PAM0, 0x30);
    QT_ASSERT_EQ(cfg_readb(s, PAM0), 0x30);
    QT_ASSERT_EQ(qtest_readb(s, 0xf0100), 0);
    qtest_writeb(s, 0xf0100, 0xab);
    QT_ASSERT_EQ(qtest_readb(s, 0xf0100), 0xab);
    QT_ASSERT_EQ(qtest_readb(s, 0xffff0100), rom_byte(0x100));     /* high copy stays */
    /* RE: RAM, writes dropped */
    cfg_writeb(s, PAM0, 0x10);
    QT_ASSERT_EQ(qtest_readb(s, 0xf0100), 0xab);
    if (!on_qemu()) {
        qtest_writeb(s, 0xf0100, 0xcd);
        QT_ASSERT_EQ(qtest_readb(s, 0xf0100), 0xab);
    }
    /* WE: writes RAM; reads RAM too, as on QEMU (the datasheet: PCI) */
    cfg_writeb(s, PAM0, 0x20);
    qtest_writeb(s, 0xf0100, 0x5a);
    QT_ASSERT_EQ(qtest_readb(s, 0xf0100), 0x5a);
    cfg_writeb(s, PAM0, 0x30);
    QT_ASSERT_EQ(qtest_readb(s, 0xf0100), 0x5a);
    /* off again: the image */
    cfg_writeb(s, PAM0, 0x00);
    QT_ASSERT_EQ(qtest_readb(s, 0xf0100), rom_byte(0x100));
    qtest_quit(s);
}

static void test_pam_segments(void)
{
    QTestState *s = start();

    /* PAM1 low nibble: 0xc0000-0xc3fff only */
    cfg_writeb(s, PAM0 + 1, 0x03);
    qtest_writeb(s, 0xc0000, 0x11);
    qtest_writeb(s, 0xc3fff, 0x22);
    qtest_writeb(s, 0xc4000, 0x33);
    QT_ASSERT_EQ(qtest_readb(s, 0xc0000), 0x11);
    QT_ASSERT_EQ(qtest_readb(s, 0xc3fff), 0x22);
    QT_ASSERT_EQ(qtest_readb(s, 0xc4000), 0);          /* still the ROM area */
    /* PAM1 high nibble: 0xc4000-0xc7fff */
    cfg_writeb(s, PAM0 + 1, 0x30);
    QT_ASSERT_EQ(qtest_readb(s, 0xc0000), 0);
    QT_ASSERT_EQ(qtest_readb(s, 0xc4000), 0);
    qtest_writeb(s, 0xc4000, 0x33);
    QT_ASSERT_EQ(qtest_readb(s, 0xc4000), 0x33);
    /* PAM4 high nibble: 0xdc000-0xdffff; PAM0 untouched */
    cfg_writeb(s, PAM0 + 4, 0x30);
    qtest_writeb(s, 0xdffff, 0x44);
    qtest_writeb(s, 0xdbfff, 0x44);
    QT_ASSERT_EQ(qtest_readb(s, 0xdffff), 0x44);
    QT_ASSERT_EQ(qtest_readb(s, 0xdbfff), 0);
    QT_ASSERT_EQ(qtest_readb(s, 0xf0000), rom_byte(0));
    /* RAM keeps what was written while hidden */
    cfg_writeb(s, PAM0 + 1, 0x33);
    QT_ASSERT_EQ(qtest_readb(s, 0xc0000), 0x11);
    qtest_quit(s);
}

#define TESTDEV_SLOT 3

static void test_smram(void)
{
    char args[160];
    QTestState *s;

    snprintf(args, sizeof(args), "-nodefaults -m 128 -bios %s -device pci-testdev,addr=%d",
             rom_path, TESTDEV_SLOT);
    s = qtest_init(args);
    /* pci-testdev's 4 KiB memory BAR at 0xa0000, in the SMRAM window */
    cfg_writel_dev(s, TESTDEV_SLOT, 0x10, 0xa0000);
    cfg_writel_dev(s, TESTDEV_SLOT, 0x04, 0x2);
    QT_ASSERT_EQ(cfg_readb(s, SMRAM) & 0x47, 0x02);     /* C_BASE_SEG, closed */
    qtest_writeb(s, 0xa0000, 0);                         /* select test 0 */
    QT_ASSERT_EQ(qtest_readb(s, 0xa0010), 'm');        /* "mmio-no-eventfd" */
    cfg_writeb(s, SMRAM, 0x42);                          /* D_OPEN: RAM */
    QT_ASSERT_EQ(qtest_readb(s, 0xa0010), 0);
    qtest_writeb(s, 0xa0010, 0x12);
    qtest_writeb(s, 0xbffff, 0x34);
    QT_ASSERT_EQ(qtest_readb(s, 0xa0010), 0x12);
    QT_ASSERT_EQ(qtest_readb(s, 0xbffff), 0x34);
    cfg_writeb(s, SMRAM, 0x02);                          /* closed: the BAR again */
    QT_ASSERT_EQ(qtest_readb(s, 0xa0010), 'm');
    qtest_quit(s);
}

int main(int argc, char **argv)
{
    int rc;

    qt_init(argc, argv);
    make_rom();
    qt_run("rom-mapped", test_rom_mapped);
    qt_run("pam0-modes", test_pam0_modes);
    qt_run("pam-segments", test_pam_segments);
    qt_run("smram-d-open", test_smram);
    rc = qt_finish();
    unlink(rom_path);
    return rc;
}

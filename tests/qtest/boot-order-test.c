/*
 * -boot for the firmware on the pc machine, as QEMU stores it:
 *   CMOS 0x3d: first boot device (bits 3:0), second (bits 7:4);
 *   CMOS 0x38: third (bits 7:4), bit 0 "skip the floppy signature check";
 *   devices a = 1 floppy, c = 2 disk, d = 3 CD-ROM, n = 4 network;
 *   fw_cfg key 0x0e (BOOT_MENU, 16-bit): -boot menu=on.
 * Runs against QEMU too (tests/qtest/Makefile).
 */
#include "qtest-harness.h"

static uint8_t cmos(QTestState *s, uint8_t idx)
{
    qtest_outb(s, 0x70, idx);
    return qtest_inb(s, 0x71);
}

static uint16_t boot_menu(QTestState *s)
{
    uint16_t lo;

    qtest_outw(s, 0x510, 0x0e);
    lo = qtest_inb(s, 0x511);           /* two reads: C leaves the order of */
    return lo | qtest_inb(s, 0x511) << 8;       /* operands to the compiler */
}

static void test_default(void)
{
    QTestState *s = qtest_init("-nodefaults");

    QT_ASSERT_EQ(cmos(s, 0x3d), 0x12);          /* "cad": disk, floppy */
    QT_ASSERT_EQ(cmos(s, 0x38) & 0xf1, 0x30);   /* then CD-ROM; check the signature */
    QT_ASSERT_EQ(boot_menu(s), 0);
    qtest_quit(s);
}

static void test_order(void)
{
    QTestState *s = qtest_init("-nodefaults -boot order=dna,menu=on");

    QT_ASSERT_EQ(cmos(s, 0x3d), 0x43);          /* CD-ROM, network */
    QT_ASSERT_EQ(cmos(s, 0x38) & 0xf1, 0x10);   /* floppy */
    QT_ASSERT_EQ(boot_menu(s), 1);
    qtest_quit(s);
}

static void test_two(void)
{
    QTestState *s = qtest_init("-nodefaults -boot n");   /* implied order= */

    QT_ASSERT_EQ(cmos(s, 0x3d), 0x04);
    QT_ASSERT_EQ(cmos(s, 0x38) & 0xf1, 0x00);
    qtest_quit(s);
}

int main(int argc, char **argv)
{
    qt_init(argc, argv);
    qt_run("default-cad", test_default);
    qt_run("order-dna-menu", test_order);
    qt_run("implied-order", test_two);
    return qt_finish();
}

/*
 * isa-debug-exit: a write of value V to its port makes the emulator exit
 * with status (V << 1) | 1 (truncated to 8 bits by the OS).
 */
#include <sys/wait.h>

#include "qtest-harness.h"

static int expect_exit(QTestState *s)
{
    int st = qtest_wait_exit(s, 10000);
    QT_ASSERT_MSG(st != -1, "emulator did not exit within 10 s");
    QT_ASSERT_MSG(WIFEXITED(st), "emulator did not exit normally (status 0x%x)",
                  st);
    return WEXITSTATUS(st);
}

static void test_f4_outl(void)
{
    QTestState *s = qtest_init("-device isa-debug-exit,iobase=0xf4,iosize=4");
    qtest_send_nowait(s, "outl 0xf4 0x5");
    QT_ASSERT_EQ(expect_exit(s), 11);
    qtest_quit(s);
}

static void test_f4_outb_zero(void)
{
    QTestState *s = qtest_init("-device isa-debug-exit,iobase=0xf4,iosize=4");
    qtest_send_nowait(s, "outb 0xf4 0x0");
    QT_ASSERT_EQ(expect_exit(s), 1);
    qtest_quit(s);
}

static void test_f4_truncation(void)
{
    /* boundary: (0x7f << 1) | 1 = 255, (0x80 << 1) | 1 = 0x101 -> 1 */
    QTestState *s = qtest_init("-device isa-debug-exit,iobase=0xf4,iosize=4");
    qtest_send_nowait(s, "outl 0xf4 0x7f");
    QT_ASSERT_EQ(expect_exit(s), 255);
    qtest_quit(s);
    s = qtest_init("-device isa-debug-exit,iobase=0xf4,iosize=4");
    qtest_send_nowait(s, "outl 0xf4 0x80");
    QT_ASSERT_EQ(expect_exit(s), 1);
    qtest_quit(s);
}

static void test_f4_outside(void)
{
    /* error path: ports around the device do not trigger an exit */
    QTestState *s = qtest_init("-device isa-debug-exit,iobase=0xf4,iosize=4");
    qtest_outb(s, 0xf3, 0x05);
    qtest_outb(s, 0xf8, 0x05);
    QT_ASSERT_EQ(qtest_wait_exit(s, 200), -1);
    /* still alive and answering */
    qtest_clock_step(s, 1000);
    qtest_send_nowait(s, "outl 0xf4 0x2");
    QT_ASSERT_EQ(expect_exit(s), 5);
    qtest_quit(s);
}

static void test_501_outw(void)
{
    QTestState *s = qtest_init("-device isa-debug-exit,iobase=0x501,iosize=2");
    qtest_send_nowait(s, "outw 0x501 0x5");
    QT_ASSERT_EQ(expect_exit(s), 11);
    qtest_quit(s);
}

static void test_501_outb(void)
{
    QTestState *s = qtest_init("-device isa-debug-exit,iobase=0x501,iosize=2");
    /* error path: not the device's port */
    qtest_outb(s, 0x500, 0x05);
    qtest_outb(s, 0x503, 0x05);
    QT_ASSERT_EQ(qtest_wait_exit(s, 200), -1);
    qtest_send_nowait(s, "outb 0x501 0x3");
    QT_ASSERT_EQ(expect_exit(s), 7);
    qtest_quit(s);
}

static void test_no_device(void)
{
    /* without the device, port 0xf4 is unassigned and nothing happens */
    QTestState *s = qtest_init("");
    qtest_outl(s, 0xf4, 0x5);
    QT_ASSERT_EQ(qtest_wait_exit(s, 200), -1);
    (void)qtest_inb(s, 0x3f8 + 7);
    qtest_quit(s);
}

int main(int argc, char **argv)
{
    qt_init(argc, argv);
    qt_run("debug-exit/0xf4-outl-5", test_f4_outl);
    qt_run("debug-exit/0xf4-outb-0", test_f4_outb_zero);
    qt_run("debug-exit/0xf4-exit-code-truncation", test_f4_truncation);
    qt_run("debug-exit/0xf4-neighbour-ports", test_f4_outside);
    qt_run("debug-exit/0x501-outw-5", test_501_outw);
    qt_run("debug-exit/0x501-outb-and-neighbours", test_501_outb);
    qt_run("debug-exit/no-device", test_no_device);
    return qt_finish();
}

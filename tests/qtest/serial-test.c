/*
 * 16550A UART at 0x3f8 (COM1, ISA IRQ 4).
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qtest-harness.h"

#define COM1 0x3f8
#define RBR 0
#define THR 0
#define IER 1
#define IIR 2
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7
#define DLL 0
#define DLM 1

#define LSR_DR   0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

static QTestState *start_file(char *path, size_t n)
{
    qt_tmpfile(path, n, "serial");
    unlink(path);
    return qtest_initf("-serial file:%s", path);
}

/* Wait (up to ~3 s of real time) until the file has at least want bytes. */
static size_t read_file(const char *path, char *buf, size_t cap, size_t want)
{
    size_t got = 0;
    for (int i = 0; i < 300; i++) {
        int fd = open(path, O_RDONLY);
        if (fd >= 0) {
            ssize_t r = read(fd, buf, cap);
            close(fd);
            got = r > 0 ? (size_t)r : 0;
            if (got >= want) {
                break;
            }
        }
        usleep(10000);
    }
    return got;
}

static void check_tx(QTestState *s, const char *path)
{
    const char msg[] = "Hello, kvmpc!\n";
    char buf[128];
    size_t got;

    for (size_t i = 0; i < sizeof(msg) - 1; i++) {
        /* a polling driver: wait for THRE before every byte */
        QT_ASSERT(qtest_inb(s, COM1 + LSR) & LSR_THRE);
        qtest_outb(s, COM1 + THR, msg[i]);
    }
    got = read_file(path, buf, sizeof(buf), sizeof(msg) - 1);
    QT_ASSERT_EQ(got, sizeof(msg) - 1);
    QT_ASSERT(memcmp(buf, msg, got) == 0);
}

static void test_tx_serial_file(void)
{
    char path[256];
    QTestState *s = start_file(path, sizeof(path));
    check_tx(s, path);
    qtest_quit(s);
    unlink(path);
}

static void test_tx_chardev_file(void)
{
    char path[256];
    QTestState *s;

    qt_tmpfile(path, sizeof(path), "serial-chr");
    unlink(path);
    s = qtest_initf("-chardev file,id=s0,path=%s -serial chardev:s0", path);
    check_tx(s, path);
    qtest_quit(s);
    unlink(path);
}

static void test_scratch(void)
{
    QTestState *s = qtest_init("-serial null");
    static const uint8_t pat[] = { 0x00, 0x55, 0xaa, 0xff, 0x3c };
    for (size_t i = 0; i < sizeof(pat); i++) {
        qtest_outb(s, COM1 + SCR, pat[i]);
        QT_ASSERT_EQ(qtest_inb(s, COM1 + SCR), pat[i]);
    }
    qtest_quit(s);
}

static void test_dlab_divisor(void)
{
    QTestState *s = qtest_init("-serial null");

    qtest_outb(s, COM1 + IER, 0x00);
    qtest_outb(s, COM1 + LCR, 0x80 | 0x03);       /* DLAB, 8N1 */
    QT_ASSERT_EQ(qtest_inb(s, COM1 + LCR), 0x83);
    qtest_outb(s, COM1 + DLL, 0x0c);               /* 9600 baud */
    qtest_outb(s, COM1 + DLM, 0x00);
    QT_ASSERT_EQ(qtest_inb(s, COM1 + DLL), 0x0c);
    QT_ASSERT_EQ(qtest_inb(s, COM1 + DLM), 0x00);
    qtest_outb(s, COM1 + DLL, 0x01);               /* 115200 */
    qtest_outb(s, COM1 + DLM, 0x12);
    QT_ASSERT_EQ(qtest_inb(s, COM1 + DLL), 0x01);
    QT_ASSERT_EQ(qtest_inb(s, COM1 + DLM), 0x12);
    qtest_outb(s, COM1 + LCR, 0x03);               /* DLAB off */
    QT_ASSERT_EQ(qtest_inb(s, COM1 + LCR), 0x03);
    /* with DLAB clear, offset 1 is IER again (still 0), not DLM */
    QT_ASSERT_EQ(qtest_inb(s, COM1 + IER), 0x00);
    /* divisor is kept across DLAB toggles */
    qtest_outb(s, COM1 + LCR, 0x83);
    QT_ASSERT_EQ(qtest_inb(s, COM1 + DLL), 0x01);
    QT_ASSERT_EQ(qtest_inb(s, COM1 + DLM), 0x12);
    qtest_outb(s, COM1 + LCR, 0x03);
    /* writing IER with DLAB clear does not touch DLM */
    qtest_outb(s, COM1 + IER, 0x00);
    qtest_outb(s, COM1 + LCR, 0x83);
    QT_ASSERT_EQ(qtest_inb(s, COM1 + DLM), 0x12);
    qtest_quit(s);
}

static void test_lsr(void)
{
    QTestState *s = qtest_init("-serial null");
    uint8_t lsr = qtest_inb(s, COM1 + LSR);

    /* idle transmitter, nothing received, no errors */
    QT_ASSERT_EQ(lsr & (LSR_THRE | LSR_TEMT), LSR_THRE | LSR_TEMT);
    QT_ASSERT_EQ(lsr & 0x9f, 0);
    /* error path: reading RBR with no data leaves DR clear */
    (void)qtest_inb(s, COM1 + RBR);
    QT_ASSERT_EQ(qtest_inb(s, COM1 + LSR) & LSR_DR, 0);
    /* transmitting to the null backend completes immediately */
    qtest_outb(s, COM1 + THR, 'x');
    QT_ASSERT_EQ(qtest_inb(s, COM1 + LSR) & (LSR_THRE | LSR_TEMT),
                 LSR_THRE | LSR_TEMT);
    qtest_quit(s);
}

static void test_loopback_data(void)
{
    char path[256];
    char buf[16];
    QTestState *s = start_file(path, sizeof(path));

    qtest_outb(s, COM1 + LCR, 0x03);
    qtest_outb(s, COM1 + MCR, 0x10);               /* LOOP */
    QT_ASSERT_EQ(qtest_inb(s, COM1 + MCR), 0x10);
    QT_ASSERT_EQ(qtest_inb(s, COM1 + LSR) & LSR_DR, 0);
    qtest_outb(s, COM1 + THR, 0x5a);
    QT_ASSERT(qtest_inb(s, COM1 + LSR) & LSR_DR);
    QT_ASSERT_EQ(qtest_inb(s, COM1 + RBR), 0x5a);
    QT_ASSERT_EQ(qtest_inb(s, COM1 + LSR) & LSR_DR, 0);
    qtest_outb(s, COM1 + THR, 0xa5);
    QT_ASSERT_EQ(qtest_inb(s, COM1 + RBR), 0xa5);
    /* looped-back bytes never reach the backend */
    qtest_outb(s, COM1 + MCR, 0x00);
    qtest_outb(s, COM1 + THR, 'Z');
    QT_ASSERT_EQ(read_file(path, buf, sizeof(buf), 1), 1);
    QT_ASSERT_EQ(buf[0], 'Z');
    QT_ASSERT_EQ(qtest_inb(s, COM1 + LSR) & LSR_DR, 0);
    qtest_quit(s);
    unlink(path);
}

static void test_loopback_modem(void)
{
    QTestState *s = qtest_init("-serial null");
    static const struct { uint8_t mcr, msr; } map[] = {
        { 0x10, 0x00 },
        { 0x11, 0x20 },   /* DTR  -> DSR */
        { 0x12, 0x10 },   /* RTS  -> CTS */
        { 0x14, 0x40 },   /* OUT1 -> RI  */
        { 0x18, 0x80 },   /* OUT2 -> DCD */
        { 0x1f, 0xf0 },
        { 0x10, 0x00 },
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        qtest_outb(s, COM1 + MCR, map[i].mcr);
        QT_ASSERT_EQ(qtest_inb(s, COM1 + MCR), map[i].mcr);
        QT_ASSERT_EQ(qtest_inb(s, COM1 + MSR) & 0xf0, map[i].msr);
    }
    /* MCR bits 5-7 are reserved on a 16550A and read as zero */
    qtest_outb(s, COM1 + MCR, 0xff);
    QT_ASSERT_EQ(qtest_inb(s, COM1 + MCR), 0x1f);
    qtest_quit(s);
}

static void test_fifo(void)
{
    QTestState *s = qtest_init("-serial null");

    /* FIFOs disabled after reset: IIR = no interrupt, bits 6-7 clear */
    QT_ASSERT_EQ(qtest_inb(s, COM1 + IIR), 0x01);
    qtest_outb(s, COM1 + FCR, 0x01);               /* enable FIFOs */
    QT_ASSERT_EQ(qtest_inb(s, COM1 + IIR) & 0xc0, 0xc0);
    QT_ASSERT_EQ(qtest_inb(s, COM1 + IIR) & 0x0f, 0x01);
    /* loopback through the FIFO keeps order */
    qtest_outb(s, COM1 + FCR, 0x07);               /* enable + clear both */
    qtest_outb(s, COM1 + MCR, 0x10);
    qtest_outb(s, COM1 + THR, 'a');
    qtest_outb(s, COM1 + THR, 'b');
    qtest_outb(s, COM1 + THR, 'c');
    QT_ASSERT_EQ(qtest_inb(s, COM1 + RBR), 'a');
    QT_ASSERT_EQ(qtest_inb(s, COM1 + RBR), 'b');
    QT_ASSERT_EQ(qtest_inb(s, COM1 + RBR), 'c');
    QT_ASSERT_EQ(qtest_inb(s, COM1 + LSR) & LSR_DR, 0);
    /* RX FIFO reset (FCR bit 1) drops pending data */
    qtest_outb(s, COM1 + THR, 'd');
    QT_ASSERT(qtest_inb(s, COM1 + LSR) & LSR_DR);
    qtest_outb(s, COM1 + FCR, 0x03);
    QT_ASSERT_EQ(qtest_inb(s, COM1 + LSR) & LSR_DR, 0);
    /* disabling the FIFOs clears IIR bits 6-7 */
    qtest_outb(s, COM1 + FCR, 0x00);
    QT_ASSERT_EQ(qtest_inb(s, COM1 + IIR) & 0xc0, 0x00);
    qtest_quit(s);
}

static void test_thr_irq(void)
{
    QTestState *s = qtest_init("-serial null");

    qtest_irq_intercept_in(s, "ioapic");
    QT_ASSERT(!qtest_get_irq(s, 4));
    /* boundary: OUT2 alone, no enabled interrupt -> no IRQ */
    qtest_outb(s, COM1 + MCR, 0x08);
    QT_ASSERT(!qtest_get_irq(s, 4));
    QT_ASSERT_EQ(qtest_inb(s, COM1 + IIR) & 0x0f, 0x01);
    /* enable THR-empty interrupt: THR is empty, so it fires at once */
    qtest_outb(s, COM1 + IER, 0x02);
    QT_ASSERT(qtest_get_irq(s, 4));
    QT_ASSERT_EQ(qtest_irq_raise_count(s, 4), 1);
    /* reading IIR reports THRE (0x02) and clears that interrupt */
    QT_ASSERT_EQ(qtest_inb(s, COM1 + IIR) & 0x0f, 0x02);
    QT_ASSERT(!qtest_get_irq(s, 4));
    QT_ASSERT_EQ(qtest_inb(s, COM1 + IIR) & 0x0f, 0x01);
    /* writing THR re-arms it: the byte is sent, THR empties, IRQ again */
    qtest_outb(s, COM1 + THR, 'x');
    QT_ASSERT(qtest_get_irq(s, 4));
    /* disabling the interrupt lowers the line */
    qtest_outb(s, COM1 + IER, 0x00);
    QT_ASSERT(!qtest_get_irq(s, 4));
    QT_ASSERT_EQ(qtest_inb(s, COM1 + IIR) & 0x0f, 0x01);
    qtest_quit(s);
}

static void test_rx_irq_loopback(void)
{
    QTestState *s = qtest_init("-serial null");

    qtest_irq_intercept_in(s, "ioapic");
    qtest_outb(s, COM1 + MCR, 0x18);               /* LOOP | OUT2 */
    qtest_outb(s, COM1 + IER, 0x01);               /* RX data available */
    QT_ASSERT(!qtest_get_irq(s, 4));
    qtest_outb(s, COM1 + THR, 0x42);
    QT_ASSERT(qtest_get_irq(s, 4));
    QT_ASSERT_EQ(qtest_inb(s, COM1 + IIR) & 0x0f, 0x04);
    QT_ASSERT_EQ(qtest_inb(s, COM1 + RBR), 0x42);
    QT_ASSERT(!qtest_get_irq(s, 4));
    QT_ASSERT_EQ(qtest_inb(s, COM1 + IIR) & 0x0f, 0x01);
    qtest_quit(s);
}

int main(int argc, char **argv)
{
    qt_init(argc, argv);
    qt_run("serial/tx-serial-file", test_tx_serial_file);
    qt_run("serial/tx-chardev-file", test_tx_chardev_file);
    qt_run("serial/scratch", test_scratch);
    qt_run("serial/dlab-divisor", test_dlab_divisor);
    qt_run("serial/lsr", test_lsr);
    qt_run("serial/loopback-data", test_loopback_data);
    qt_run("serial/loopback-modem-status", test_loopback_modem);
    qt_run("serial/fifo", test_fifo);
    qt_run("serial/thr-empty-irq", test_thr_irq);
    qt_run("serial/rx-irq-loopback", test_rx_irq_loopback);
    return qt_finish();
}

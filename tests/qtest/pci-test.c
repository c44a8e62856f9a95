/*
 * PCI on machine pc: configuration mechanism #1 (0xcf8/0xcfc), the i440FX
 * host bridge at 00.0, BAR sizing and mapping, and pci-testdev's tests on
 * its memory and I/O BARs.  The test programs BARs itself, as firmware
 * would, so it runs against QEMU too; kvmpc's own firmware-less BAR
 * assignment is checked separately.
 */
#include "qtest-harness.h"

#define CONF1(bus, dev, fn, reg) \
    (0x80000000u | ((bus) << 16) | ((dev) << 11) | ((fn) << 8) | ((reg) & 0xfc))

static uint32_t cfg_readl(QTestState *s, int dev, int fn, int reg)
{
    qtest_outl(s, 0xcf8, CONF1(0, dev, fn, reg));
    return qtest_inl(s, 0xcfc);
}

static uint16_t cfg_readw(QTestState *s, int dev, int fn, int reg)
{
    qtest_outl(s, 0xcf8, CONF1(0, dev, fn, reg));
    return qtest_inw(s, 0xcfc + (reg & 2));
}

static uint8_t cfg_readb(QTestState *s, int dev, int fn, int reg)
{
    qtest_outl(s, 0xcf8, CONF1(0, dev, fn, reg));
    return qtest_inb(s, 0xcfc + (reg & 3));
}

static void cfg_writel(QTestState *s, int dev, int fn, int reg, uint32_t v)
{
    qtest_outl(s, 0xcf8, CONF1(0, dev, fn, reg));
    qtest_outl(s, 0xcfc, v);
}

static void cfg_writew(QTestState *s, int dev, int fn, int reg, uint16_t v)
{
    qtest_outl(s, 0xcf8, CONF1(0, dev, fn, reg));
    qtest_outw(s, 0xcfc + (reg & 2), v);
}

static int is_kvmpc(void)
{
    return strstr(qtest_binary_path(), "qemu") == NULL;
}

static void test_host_bridge(void)
{
    QTestState *s = qtest_init("");

    QT_ASSERT_EQ(cfg_readl(s, 0, 0, 0x00), 0x12378086u);
    QT_ASSERT_EQ(cfg_readw(s, 0, 0, 0x0a), 0x0600);         /* host bridge */
    QT_ASSERT_EQ(cfg_readb(s, 0, 0, 0x08), 0x02);           /* revision */
    /* CONFIG_ADDRESS reads back all 32 bits as written (QEMU keeps them);
     * byte writes to 0xcfb are not it. */
    qtest_outl(s, 0xcf8, 0x80001234);
    QT_ASSERT_EQ(qtest_inl(s, 0xcf8), 0x80001234u);
    qtest_outl(s, 0xcf8, 0x7f000003);
    QT_ASSERT_EQ(qtest_inl(s, 0xcf8), 0x7f000003u);
    qtest_outb(s, 0xcfb, 0x01);
    QT_ASSERT_EQ(qtest_inl(s, 0xcf8), 0x7f000003u);
    /* No device: all ones; disabled CONFIG_ADDRESS: all ones. */
    QT_ASSERT_EQ(cfg_readl(s, 7, 0, 0x00), 0xffffffffu);
    QT_ASSERT_EQ(cfg_readl(s, 0, 3, 0x00), 0xffffffffu);
    qtest_outl(s, 0xcf8, 0x00000000);
    QT_ASSERT_EQ(qtest_inl(s, 0xcfc), 0xffffffffu);
    /* Read-only IDs stay; the latency timer is writable. */
    cfg_writel(s, 0, 0, 0x00, 0);
    QT_ASSERT_EQ(cfg_readl(s, 0, 0, 0x00), 0x12378086u);
    qtest_outl(s, 0xcf8, CONF1(0, 0, 0, 0x0c));
    qtest_outb(s, 0xcfd, 0x40);
    QT_ASSERT_EQ(cfg_readb(s, 0, 0, 0x0d), 0x40);
    qtest_quit(s);
}

/* Bits 1:0 of CONFIG_ADDRESS are a byte offset OR-ed with the port's
 * (QEMU; the PCI spec says they are 0): kvm-unit-tests reads the device ID
 * with outl(0x80000000 | bdf << 8 | 2, 0xcf8); inw(0xcfc). */
static void test_conf1_byte_offset(void)
{
    QTestState *s = qtest_init("");

    qtest_outl(s, 0xcf8, 0x80000002);
    QT_ASSERT_EQ(qtest_inw(s, 0xcfc), 0x1237);              /* device ID */
    QT_ASSERT_EQ(qtest_inw(s, 0xcfe), 0x1237);              /* 2 | 2 = 2 */
    QT_ASSERT_EQ(qtest_inb(s, 0xcfc), 0x37);
    QT_ASSERT_EQ(qtest_inb(s, 0xcfd), 0x12);                /* 2 | 1 = 3 */
    qtest_outl(s, 0xcf8, 0x80000001);
    QT_ASSERT_EQ(qtest_inb(s, 0xcfc), 0x80);                /* vendor ID high byte */
    QT_ASSERT_EQ(qtest_inb(s, 0xcfe), 0x12);                /* 1 | 2 = 3 */
    QT_ASSERT_EQ(qtest_inw(s, 0xcfc), 0x3780);              /* misaligned: bytes 1, 2 */
    QT_ASSERT_EQ(qtest_inl(s, 0xcfc) & 0xffffff, 0x123780); /* bytes 1-4 */
    qtest_outl(s, 0xcf8, 0x80000003);
    QT_ASSERT_EQ(qtest_inb(s, 0xcfc), 0x12);
    /* A dword at 0xfe is cut at the end of the 256 bytes. */
    qtest_outl(s, 0xcf8, 0x800000fe);
    QT_ASSERT_EQ(qtest_inl(s, 0xcfc), 0);
    /* Writes go to the same offset: the command register's high byte
     * (0x05: INTx disable is bit 2 there) through register 0x04 | 1. */
    qtest_quit(s);
    s = qtest_init("-device pci-testdev,addr=3");
    qtest_outl(s, 0xcf8, CONF1(0, 3, 0, 0x04) | 1);
    qtest_outb(s, 0xcfc, 0x04);
    QT_ASSERT_EQ(cfg_readw(s, 3, 0, 0x04) & 0x400, 0x400);
    qtest_outl(s, 0xcf8, CONF1(0, 3, 0, 0x04) | 1);
    qtest_outb(s, 0xcfc, 0x00);
    QT_ASSERT_EQ(cfg_readw(s, 3, 0, 0x04) & 0x400, 0);
    /* Bits 30:24 do not select anything: still bus 0. */
    qtest_outl(s, 0xcf8, 0xff000002);
    QT_ASSERT_EQ(qtest_inw(s, 0xcfc), 0x1237);
    qtest_quit(s);
}

/* Size and place BAR n of dev; returns its size. */
static uint32_t size_bar(QTestState *s, int dev, int n, uint32_t *type)
{
    int reg = 0x10 + 4 * n;
    uint32_t orig = cfg_readl(s, dev, 0, reg), mask;

    cfg_writel(s, dev, 0, reg, 0xffffffff);
    mask = cfg_readl(s, dev, 0, reg);
    cfg_writel(s, dev, 0, reg, orig);
    *type = mask & 1 ? (mask & 3) : (mask & 0xf);
    mask &= mask & 1 ? ~3u : ~0xfu;
    if (mask & 1) {
        mask |= 0xffff0000;     /* 16-bit I/O decoders */
    }
    return ~mask + 1;
}

typedef struct TestdevBars {
    uint64_t mem;
    uint16_t io;
} TestdevBars;

static TestdevBars program_testdev(QTestState *s, int dev, uint32_t mem, uint16_t io)
{
    uint32_t type, size;
    TestdevBars b = { mem, io };

    QT_ASSERT_EQ(cfg_readl(s, dev, 0, 0x00), 0x00051b36u);
    size = size_bar(s, dev, 0, &type);
    QT_ASSERT_EQ(type, 0);                  /* 32-bit memory */
    QT_ASSERT_EQ(size, 4096);
    size = size_bar(s, dev, 1, &type);
    QT_ASSERT_EQ(type, 1);                  /* I/O */
    QT_ASSERT_EQ(size, 256);
    cfg_writel(s, dev, 0, 0x10, mem);
    cfg_writel(s, dev, 0, 0x14, io | 1);
    cfg_writew(s, dev, 0, 0x04, 0x0003);    /* decode I/O and memory */
    return b;
}

typedef struct BarIO {
    QTestState *s;
    int is_io;
    uint64_t base;
} BarIO;

static uint8_t bar_rb(BarIO *b, uint32_t off)
{
    return b->is_io ? qtest_inb(b->s, (uint16_t)(b->base + off)) : qtest_readb(b->s, b->base + off);
}

static uint32_t bar_rl(BarIO *b, uint32_t off)
{
    return b->is_io ? qtest_inl(b->s, (uint16_t)(b->base + off)) : qtest_readl(b->s, b->base + off);
}

static void bar_wb(BarIO *b, uint32_t off, uint8_t v)
{
    if (b->is_io) {
        qtest_outb(b->s, (uint16_t)(b->base + off), v);
    } else {
        qtest_writeb(b->s, b->base + off, v);
    }
}

/* Runs every test the BAR offers; returns how many. */
static int run_bar_tests(BarIO *b, const char *type)
{
    static const char *const names[] = { "no-eventfd", "wildcard-eventfd", "datamatch-eventfd" };
    int n;

    for (n = 0; n < 16; n++) {
        bar_wb(b, 0, (uint8_t)n);
        uint8_t width = bar_rb(b, 1);
        if (width != 1 && width != 2 && width != 4) {
            break;
        }
        QT_ASSERT_EQ(width, 1);
        uint32_t off = bar_rl(b, 4), data = bar_rl(b, 8);
        char name[40], want[40];
        for (unsigned i = 0; i < sizeof(name) - 1; i++) {
            name[i] = (char)bar_rb(b, 0x10 + i);
            if (!name[i]) {
                break;
            }
        }
        name[sizeof(name) - 1] = 0;
        QT_ASSERT_MSG(n < 3, "unexpected test %d (%s)", n, name);
        snprintf(want, sizeof(want), "%s-%s", type, names[n]);
        QT_ASSERT_MSG(!strcmp(name, want), "test %d is '%s', expected '%s'", n, name, want);
        QT_ASSERT_EQ(bar_rl(b, 0x0c), 0);   /* count restarts */
        for (int i = 0; i < 6; i++) {
            bar_wb(b, off, (uint8_t)data);
        }
        bar_wb(b, off, (uint8_t)~data);     /* other data */
        uint32_t count = bar_rl(b, 0x0c);
        uint32_t expect = n == 1 ? 7 : 6;      /* the wildcard takes the other too */
        if (is_kvmpc() || n == 0) {
            QT_ASSERT_MSG(count == expect, "%s: count %u, expected %u", name, count, expect);
        } else {
            /* QEMU does not count what its eventfds take. */
            QT_ASSERT_MSG(count == 0 || count == expect, "%s: count %u", name, count);
        }
    }
    return n;
}

static void test_testdev(void)
{
    QTestState *s = qtest_init("-device pci-testdev,addr=3");
    TestdevBars bars = program_testdev(s, 3, 0xd0000000, 0xd000);
    BarIO mem = { s, 0, bars.mem }, io = { s, 1, bars.io };

    QT_ASSERT_EQ(cfg_readw(s, 3, 0, 0x0a), 0xff00);      /* class "other" */
    QT_ASSERT_EQ(run_bar_tests(&mem, "mmio"), 3);
    QT_ASSERT_EQ(run_bar_tests(&io, "portio"), 3);
    /* Moved: found at the new address only. */
    bar_wb(&mem, 0, 0);
    cfg_writel(s, 3, 0, 0x10, 0xd1000000);
    QT_ASSERT_EQ(qtest_readb(s, 0xd1000001), 1);
    QT_ASSERT_EQ(qtest_readl(s, 0xd0000004), 0xffffffffu);
    /* Memory decoding off: gone; I/O still there. */
    cfg_writew(s, 3, 0, 0x04, 0x0001);
    QT_ASSERT_EQ(qtest_readl(s, 0xd1000004), 0xffffffffu);
    bar_wb(&io, 0, 1);
    QT_ASSERT_EQ(bar_rb(&io, 1), 1);
    qtest_quit(s);
}

static void test_firmwareless_assignment(void)
{
    if (!is_kvmpc()) {
        QT_SKIP("QEMU leaves BARs to its firmware");
    }
    QTestState *s = qtest_init("-device pci-testdev -device pci-testdev,addr=1f");
    uint32_t bar0, bar1;

    /* The first free slot is 02.0 (slot 1 is the PIIX3's). */
    QT_ASSERT_EQ(cfg_readl(s, 2, 0, 0x00), 0x00051b36u);
    QT_ASSERT_EQ(cfg_readl(s, 31, 0, 0x00), 0x00051b36u);
    for (int dev = 2; dev <= 31; dev += 29) {
        bar0 = cfg_readl(s, dev, 0, 0x10);
        bar1 = cfg_readl(s, dev, 0, 0x14);
        QT_ASSERT_MSG(bar0 >= 0xc0000000u && bar0 < 0xfec00000u && !(bar0 & 0xfff),
                      "BAR0 of %02x.0 at 0x%08x", dev, bar0);
        QT_ASSERT_MSG((bar1 & 1) && (bar1 & ~3u) >= 0xc000 && !(bar1 & 0xfc),
                      "BAR1 of %02x.0 at 0x%08x", dev, bar1);
        QT_ASSERT_EQ(cfg_readw(s, dev, 0, 0x04) & 3, 3);
        /* The header answers at the assigned addresses. */
        qtest_writeb(s, bar0, 2);
        QT_ASSERT_EQ(qtest_readb(s, bar0 + 1), 1);
        qtest_outb(s, (uint16_t)(bar1 & ~3u), 1);
        QT_ASSERT_EQ(qtest_inb(s, (uint16_t)(bar1 & ~3u) + 1), 1);
    }
    QT_ASSERT(cfg_readl(s, 2, 0, 0x10) != cfg_readl(s, 31, 0, 0x10));
    qtest_quit(s);

    /* With 3.25 GiB, RAM below 4 GiB ends at 0xd0000000: BARs go above it. */
    s = qtest_init("-m 3328M -device pci-testdev");
    bar0 = cfg_readl(s, 2, 0, 0x10);
    QT_ASSERT_MSG(bar0 >= 0xd0000000u && bar0 < 0xfec00000u, "BAR0 at 0x%08x", bar0);
    qtest_writeb(s, bar0, 0);
    QT_ASSERT_EQ(qtest_readb(s, bar0 + 1), 1);
    qtest_quit(s);
}

int main(int argc, char **argv)
{
    qt_init(argc, argv);
    qt_run("pci/host-bridge", test_host_bridge);
    qt_run("pci/conf1-byte-offset", test_conf1_byte_offset);
    qt_run("pci/testdev-bars-and-tests", test_testdev);
    qt_run("pci/firmwareless-bar-assignment", test_firmwareless_assignment);
    return qt_finish();
}

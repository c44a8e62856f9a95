/*
 * MSI and MSI-X in the PCI core, the machine's delivery of MSIs, and the
 * "edu" device, with no CPU.  MSIs are pointed at RAM (as QEMU's libqos
 * does): outside the 0xfeeXXXXX window a message is a plain DMA write,
 * so readl shows what was sent.  INTx is watched with irq_intercept_in.
 * kvmpc wires slot s INTA# to GSI 16 + ((s - 1) & 3): edu at slot 4 -> 19.
 */
#include "qtest-harness.h"

#define CONF1(dev, reg) (0x80000000u | ((dev) << 11) | ((reg) & 0xfc))
#define SLOT        4
#define INTX_GSI    19
#define BAR0        0xe0000000u
#define BAR1        0xe0100000u
#define MSI_RAM     0x00100000u     /* 1 MiB: where messages land */
#define CMD_MEM     0x0002
#define CMD_MASTER  0x0004
#define CMD_INTX_OFF 0x0400

/* edu registers */
#define EDU_ID      0x00
#define EDU_LIVE    0x04
#define EDU_FACT    0x08
#define EDU_STATUS  0x20
#define EDU_ISR     0x24
#define EDU_RAISE   0x60
#define EDU_ACK     0x64
#define EDU_SRC     0x80
#define EDU_DST     0x88
#define EDU_CNT     0x90
#define EDU_CMD     0x98

static uint32_t cfg_rl(QTestState *s, int reg)
{
    qtest_outl(s, 0xcf8, CONF1(SLOT, reg));
    return qtest_inl(s, 0xcfc);
}

static uint16_t cfg_rw(QTestState *s, int reg)
{
    qtest_outl(s, 0xcf8, CONF1(SLOT, reg));
    return qtest_inw(s, 0xcfc + (reg & 2));
}

static uint8_t cfg_rb(QTestState *s, int reg)
{
    qtest_outl(s, 0xcf8, CONF1(SLOT, reg));
    return qtest_inb(s, 0xcfc + (reg & 3));
}

static void cfg_wl(QTestState *s, int reg, uint32_t v)
{
    qtest_outl(s, 0xcf8, CONF1(SLOT, reg));
    qtest_outl(s, 0xcfc, v);
}

static void cfg_ww(QTestState *s, int reg, uint16_t v)
{
    qtest_outl(s, 0xcf8, CONF1(SLOT, reg));
    qtest_outw(s, 0xcfc + (reg & 2), v);
}

static void cfg_wb(QTestState *s, int reg, uint8_t v)
{
    qtest_outl(s, 0xcf8, CONF1(SLOT, reg));
    qtest_outb(s, 0xcfc + (reg & 3), v);
}

static int find_cap(QTestState *s, int id)
{
    int guard = 0;

    if (!(cfg_rw(s, 0x06) & 0x10)) {
        return 0;
    }
    for (int off = cfg_rb(s, 0x34); off && guard < 48; guard++) {
        if (cfg_rb(s, off) == id) {
            return off;
        }
        off = cfg_rb(s, off + 1);
    }
    return 0;
}

/* Start with edu at SLOT, its BARs placed, memory decoding and bus mastering on. */
static QTestState *start_edu(const char *props)
{
    QTestState *s = qtest_initf("-device edu,addr=%x%s", SLOT, props);

    QT_ASSERT_EQ(cfg_rl(s, 0x00), 0x11e81234u);
    cfg_wl(s, 0x10, BAR0);
    cfg_wl(s, 0x14, BAR1);
    cfg_ww(s, 0x04, CMD_MEM | CMD_MASTER);
    qtest_writel(s, MSI_RAM, 0);
    qtest_irq_intercept_in(s, "ioapic");
    return s;
}

static void edu_wl(QTestState *s, int reg, uint32_t v)
{
    qtest_writel(s, BAR0 + reg, v);
}

static uint32_t edu_rl(QTestState *s, int reg)
{
    return qtest_readl(s, BAR0 + reg);
}

/* Program MSI (64-bit capability) to write data to addr; log2n vectors. */
static void msi_program(QTestState *s, int cap, uint64_t addr, uint16_t data, int log2n)
{
    cfg_wl(s, cap + 4, (uint32_t)addr);
    cfg_wl(s, cap + 8, (uint32_t)(addr >> 32));
    cfg_ww(s, cap + 12, data);
    cfg_ww(s, cap + 2, (uint16_t)(0x0001 | (log2n << 4)));
}

/* Poll (bounded) for a condition that a worker thread makes true. */
#define WAIT_FOR(cond)                                                      \
    do {                                                                    \
        int n_;                                                             \
        for (n_ = 0; n_ < 20000 && !(cond); n_++) {                         \
            if (n_ > 100) {                                                 \
                usleep(1000);                                               \
            }                                                               \
        }                                                                   \
        QT_ASSERT_MSG(cond, "timed out waiting for %s", #cond);             \
    } while (0)

static void test_caplist_and_masks(void)
{
    QTestState *s = start_edu(",msi-vectors=4,msi-masking=on,msix=on");
    int msi = find_cap(s, 0x05), msix = find_cap(s, 0x11);

    QT_ASSERT(cfg_rw(s, 0x06) & 0x10);                  /* capability list */
    QT_ASSERT_MSG(msi >= 0x40 && !(msi & 3), "MSI at 0x%x", msi);
    QT_ASSERT_MSG(msix >= 0x40 && !(msix & 3) && msix != msi, "MSI-X at 0x%x", msix);
    QT_ASSERT_EQ(cfg_rb(s, 0x3d), 1);                    /* INTA# */
    /* MSI: 64-bit, per-vector masking, 4 vectors capable (QMASK 2). */
    QT_ASSERT_EQ(cfg_rw(s, msi + 2), 0x0184);
    /* Read-only ID and next pointer. */
    cfg_wb(s, msi, 0x33);
    cfg_wb(s, msi + 1, 0x00);
    QT_ASSERT_EQ(cfg_rb(s, msi), 0x05);
    /* Control: only Enable and Multiple Message Enable are writable, and
     * MME is clamped to what the function is capable of. */
    cfg_ww(s, msi + 2, 0xffff);
    QT_ASSERT_EQ(cfg_rw(s, msi + 2), 0x01a5);
    cfg_ww(s, msi + 2, 0x0000);
    QT_ASSERT_EQ(cfg_rw(s, msi + 2), 0x0184);
    /* Address: dword aligned; upper address all writable; data 16 bits. */
    cfg_wl(s, msi + 4, 0xffffffff);
    QT_ASSERT_EQ(cfg_rl(s, msi + 4), 0xfffffffcu);
    cfg_wl(s, msi + 8, 0xffffffff);
    QT_ASSERT_EQ(cfg_rl(s, msi + 8), 0xffffffffu);
    cfg_wl(s, msi + 12, 0xffffffff);
    QT_ASSERT_EQ(cfg_rl(s, msi + 12), 0x0000ffffu);
    /* Mask bits of the 4 vectors only; pending bits read-only. */
    cfg_wl(s, msi + 16, 0xffffffff);
    QT_ASSERT_EQ(cfg_rl(s, msi + 16), 0x0000000fu);
    cfg_wl(s, msi + 20, 0xffffffff);
    QT_ASSERT_EQ(cfg_rl(s, msi + 20), 0);

    /* MSI-X: 4 entries, table in BAR1 at 0, PBA in BAR1 at 0x800. */
    QT_ASSERT_EQ(cfg_rw(s, msix + 2), 0x0003);
    QT_ASSERT_EQ(cfg_rl(s, msix + 4), 0x00000001u);
    QT_ASSERT_EQ(cfg_rl(s, msix + 8), 0x00000801u);
    cfg_ww(s, msix + 2, 0xffff);
    QT_ASSERT_EQ(cfg_rw(s, msix + 2), 0xc003);
    cfg_ww(s, msix + 2, 0);
    cfg_wl(s, msix + 4, 0xffffffff);
    QT_ASSERT_EQ(cfg_rl(s, msix + 4), 0x00000001u);
    /* BAR1 is 4 KiB. */
    cfg_wl(s, 0x14, 0xffffffff);
    QT_ASSERT_EQ(cfg_rl(s, 0x14), 0xfffff000u);
    cfg_wl(s, 0x14, BAR1);
    /* Entries come out of reset masked; only bit 0 of vector control sticks. */
    for (int v = 0; v < 4; v++) {
        QT_ASSERT_EQ(qtest_readl(s, BAR1 + 16 * v + 12), 1);
    }
    qtest_writel(s, BAR1 + 16 * 3 + 12, 0xffffffff);
    QT_ASSERT_EQ(qtest_readl(s, BAR1 + 16 * 3 + 12), 1);
    qtest_writel(s, BAR1 + 16 * 3 + 8, 0x12345678);
    QT_ASSERT_EQ(qtest_readl(s, BAR1 + 16 * 3 + 8), 0x12345678u);
    /* The PBA is read-only. */
    qtest_writel(s, BAR1 + 0x800, 0xffffffff);
    QT_ASSERT_EQ(qtest_readl(s, BAR1 + 0x800), 0);
    /* Reset restores all of it. */
    qtest_quit(s);

    /* Defaults, as QEMU's edu: one 64-bit vector, no masking, no MSI-X. */
    s = start_edu("");
    msi = find_cap(s, 0x05);
    QT_ASSERT_EQ(msi, 0x40);
    QT_ASSERT_EQ(cfg_rb(s, msi + 1), 0);
    QT_ASSERT_EQ(cfg_rw(s, msi + 2), 0x0080);
    QT_ASSERT_EQ(find_cap(s, 0x11), 0);
    cfg_ww(s, msi + 2, 0xffff);
    QT_ASSERT_EQ(cfg_rw(s, msi + 2), 0x0081);
    qtest_quit(s);

    /* A bad vector count is refused, naming the property. */
    char cmd[512], out[512] = "";
    snprintf(cmd, sizeof(cmd), "%s -accel qtest -machine pc -nodefaults -display none "
             "-device edu,msi-vectors=3 2>&1", qtest_binary_path());
    FILE *p = popen(cmd, "r");
    QT_ASSERT(p);
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = 0;
    QT_ASSERT(pclose(p) != 0);
    QT_ASSERT_MSG(strstr(out, "msi-vectors"), "error was: %s", out);
}

static void test_msi_delivery_and_intx(void)
{
    QTestState *s = start_edu("");
    int msi = find_cap(s, 0x05);

    /* INTx first: raise -> the line and the status bit; ack -> low. */
    edu_wl(s, EDU_RAISE, 0x10);
    QT_ASSERT(qtest_get_irq(s, INTX_GSI));
    QT_ASSERT(cfg_rw(s, 0x06) & 0x08);
    QT_ASSERT_EQ(edu_rl(s, EDU_ISR), 0x10);
    edu_wl(s, EDU_ACK, 0x10);
    QT_ASSERT(!qtest_get_irq(s, INTX_GSI));
    QT_ASSERT(!(cfg_rw(s, 0x06) & 0x08));
    /* Interrupt Disable: the line stays low, the status bit still shows. */
    cfg_ww(s, 0x04, CMD_MEM | CMD_MASTER | CMD_INTX_OFF);
    edu_wl(s, EDU_RAISE, 0x1);
    QT_ASSERT(!qtest_get_irq(s, INTX_GSI));
    QT_ASSERT(cfg_rw(s, 0x06) & 0x08);
    cfg_ww(s, 0x04, CMD_MEM | CMD_MASTER);
    QT_ASSERT(qtest_get_irq(s, INTX_GSI));
    /* Enabling MSI takes the line down; the message goes to RAM. */
    msi_program(s, msi, MSI_RAM, 0x4321, 0);
    QT_ASSERT(!qtest_get_irq(s, INTX_GSI));
    QT_ASSERT_EQ(qtest_readl(s, MSI_RAM), 0);
    edu_wl(s, EDU_RAISE, 0x2);
    QT_ASSERT_EQ(qtest_readl(s, MSI_RAM), 0x4321);
    QT_ASSERT(!qtest_get_irq(s, INTX_GSI));
    QT_ASSERT_EQ(edu_rl(s, EDU_ISR), 0x3);
    /* A 64-bit address above RAM: nothing lands below 4 GiB. */
    qtest_writel(s, MSI_RAM, 0);
    cfg_wl(s, msi + 8, 0x1);
    edu_wl(s, EDU_RAISE, 0x2);
    QT_ASSERT_EQ(qtest_readl(s, MSI_RAM), 0);
    cfg_wl(s, msi + 8, 0);
    /* Bus mastering off: the message is dropped. */
    cfg_ww(s, 0x04, CMD_MEM);
    edu_wl(s, EDU_RAISE, 0x2);
    QT_ASSERT_EQ(qtest_readl(s, MSI_RAM), 0);
    cfg_ww(s, 0x04, CMD_MEM | CMD_MASTER);
    edu_wl(s, EDU_RAISE, 0x2);
    QT_ASSERT_EQ(qtest_readl(s, MSI_RAM), 0x4321);
    /* MSI off again: INTx is back (the status is still non-zero). */
    cfg_ww(s, msi + 2, 0);
    QT_ASSERT(qtest_get_irq(s, INTX_GSI));
    edu_wl(s, EDU_ACK, 0xffffffff);
    QT_ASSERT(!qtest_get_irq(s, INTX_GSI));
    qtest_quit(s);
}

static void test_msi_multi_and_masking(void)
{
    QTestState *s = start_edu(",msi-vectors=4,msi-masking=on");
    int msi = find_cap(s, 0x05);

    /* One vector enabled: everything uses the data as programmed. */
    msi_program(s, msi, MSI_RAM, 0x4320, 0);
    edu_wl(s, EDU_RAISE, 1);
    QT_ASSERT_EQ(qtest_readl(s, MSI_RAM), 0x4320);
    /* Four: the raise register is vector 2, in the low data bits. */
    msi_program(s, msi, MSI_RAM, 0x4320, 2);
    QT_ASSERT_EQ(cfg_rw(s, msi + 2) & 0x71, 0x21);
    edu_wl(s, EDU_RAISE, 1);
    QT_ASSERT_EQ(qtest_readl(s, MSI_RAM), 0x4322);
    /* DMA completion is vector 1. */
    edu_wl(s, EDU_SRC, 0x40000);
    edu_wl(s, EDU_DST, 0x200000);
    edu_wl(s, EDU_CNT, 4);
    edu_wl(s, EDU_CMD, 0x7);
    qtest_clock_step(s, 100 * 1000 * 1000);
    QT_ASSERT_EQ(edu_rl(s, EDU_CMD) & 1, 0);
    QT_ASSERT_EQ(qtest_readl(s, MSI_RAM), 0x4321);
    /* Masked vector 2: nothing sent, pending bit set; unmask: sent, cleared. */
    qtest_writel(s, MSI_RAM, 0);
    cfg_wl(s, msi + 16, 1u << 2);
    edu_wl(s, EDU_RAISE, 1);
    QT_ASSERT_EQ(qtest_readl(s, MSI_RAM), 0);
    QT_ASSERT_EQ(cfg_rl(s, msi + 20), 1u << 2);
    cfg_wl(s, msi + 16, 0);
    QT_ASSERT_EQ(qtest_readl(s, MSI_RAM), 0x4322);
    QT_ASSERT_EQ(cfg_rl(s, msi + 20), 0);
    /* Other vectors are not affected by vector 2's mask. */
    cfg_wl(s, msi + 16, 1u << 2);
    qtest_writel(s, MSI_RAM, 0);
    edu_wl(s, EDU_CMD, 0x7);
    qtest_clock_step(s, 100 * 1000 * 1000);
    QT_ASSERT_EQ(qtest_readl(s, MSI_RAM), 0x4321);
    /* Disabling MSI with a pending vector: the bit stays until unmasked
     * while enabled. */
    edu_wl(s, EDU_RAISE, 1);
    QT_ASSERT_EQ(cfg_rl(s, msi + 20), 1u << 2);
    qtest_writel(s, MSI_RAM, 0);
    cfg_ww(s, msi + 2, 0x0020);
    cfg_wl(s, msi + 16, 0);
    QT_ASSERT_EQ(qtest_readl(s, MSI_RAM), 0);
    cfg_ww(s, msi + 2, 0x0021);
    QT_ASSERT_EQ(qtest_readl(s, MSI_RAM), 0x4322);
    QT_ASSERT_EQ(cfg_rl(s, msi + 20), 0);
    qtest_quit(s);
}

static void msix_entry(QTestState *s, int v, uint64_t addr, uint32_t data, uint32_t ctrl)
{
    qtest_writel(s, BAR1 + 16 * v + 0, (uint32_t)addr);
    qtest_writel(s, BAR1 + 16 * v + 4, (uint32_t)(addr >> 32));
    qtest_writel(s, BAR1 + 16 * v + 8, data);
    qtest_writel(s, BAR1 + 16 * v + 12, ctrl);
}

static void test_msix(void)
{
    QTestState *s = start_edu(",msix=on");
    int msix = find_cap(s, 0x11), msi = find_cap(s, 0x05);

    msix_entry(s, 0, MSI_RAM + 0, 0xa0, 0);
    msix_entry(s, 1, MSI_RAM + 4, 0xa1, 0);
    msix_entry(s, 2, MSI_RAM + 8, 0xa2, 1);     /* masked */
    qtest_writel(s, MSI_RAM + 4, 0);
    qtest_writel(s, MSI_RAM + 8, 0);
    /* Disabled: dropped, nothing pending; INTx as usual. */
    edu_wl(s, EDU_RAISE, 1);
    QT_ASSERT_EQ(qtest_readl(s, MSI_RAM + 8), 0);
    QT_ASSERT_EQ(qtest_readl(s, BAR1 + 0x800), 0);
    QT_ASSERT(qtest_get_irq(s, INTX_GSI));
    /* Enabled (MSI too: MSI-X wins): INTx down; masked vector 2 pends. */
    msi_program(s, msi, MSI_RAM + 12, 0x5555, 0);
    cfg_ww(s, msix + 2, 0x8000);
    QT_ASSERT(!qtest_get_irq(s, INTX_GSI));
    edu_wl(s, EDU_RAISE, 1);
    QT_ASSERT_EQ(qtest_readl(s, MSI_RAM + 8), 0);
    QT_ASSERT_EQ(qtest_readl(s, MSI_RAM + 12), 0);
    QT_ASSERT_EQ(qtest_readl(s, BAR1 + 0x800), 1u << 2);
    /* Unmask: sent and cleared. */
    qtest_writel(s, BAR1 + 16 * 2 + 12, 0);
    QT_ASSERT_EQ(qtest_readl(s, MSI_RAM + 8), 0xa2);
    QT_ASSERT_EQ(qtest_readl(s, BAR1 + 0x800), 0);
    /* Reprogrammed entry: the new message is used. */
    msix_entry(s, 2, MSI_RAM + 16, 0xb2, 0);
    edu_wl(s, EDU_RAISE, 1);
    QT_ASSERT_EQ(qtest_readl(s, MSI_RAM + 16), 0xb2);
    /* Function mask: vector 1 (DMA) pends, then goes when cleared. */
    cfg_ww(s, msix + 2, 0xc000);
    edu_wl(s, EDU_SRC, 0x40000);
    edu_wl(s, EDU_DST, 0x200000);
    edu_wl(s, EDU_CNT, 4);
    edu_wl(s, EDU_CMD, 0x7);
    qtest_clock_step(s, 100 * 1000 * 1000);
    QT_ASSERT_EQ(qtest_readl(s, MSI_RAM + 4), 0);
    QT_ASSERT_EQ(qtest_readl(s, BAR1 + 0x800), 1u << 1);
    QT_ASSERT_EQ(qtest_readl(s, BAR1 + 16 * 1 + 12), 0);   /* its own bit is clear */
    cfg_ww(s, msix + 2, 0x8000);
    QT_ASSERT_EQ(qtest_readl(s, MSI_RAM + 4), 0xa1);
    QT_ASSERT_EQ(qtest_readl(s, BAR1 + 0x800), 0);
    /* The factorial from the worker thread: vector 0 through its irqfd
     * (the main loop delivers it here; KVM would inject it). */
    edu_wl(s, EDU_STATUS, 0x80);
    edu_wl(s, EDU_FACT, 6);
    WAIT_FOR(qtest_readl(s, MSI_RAM) == 0xa0);
    QT_ASSERT_EQ(edu_rl(s, EDU_FACT), 720);
    /* Masked vector 0 and a factorial: pending, delivered on unmask. */
    qtest_writel(s, MSI_RAM, 0);
    qtest_writel(s, BAR1 + 12, 1);
    edu_wl(s, EDU_FACT, 7);
    WAIT_FOR(qtest_readl(s, BAR1 + 0x800) == 1);
    QT_ASSERT_EQ(qtest_readl(s, MSI_RAM), 0);
    qtest_writel(s, BAR1 + 12, 0);
    QT_ASSERT_EQ(qtest_readl(s, MSI_RAM), 0xa0);
    QT_ASSERT_EQ(edu_rl(s, EDU_FACT), 5040);
    /* MSI-X off, MSI on: MSI is used. */
    cfg_ww(s, msix + 2, 0);
    edu_wl(s, EDU_RAISE, 1);
    QT_ASSERT_EQ(qtest_readl(s, MSI_RAM + 12), 0x5555);
    qtest_quit(s);
}

static void test_edu_registers_and_factorial(void)
{
    QTestState *s = start_edu("");
    int msi = find_cap(s, 0x05);

    QT_ASSERT_EQ(edu_rl(s, EDU_ID), 0x010000edu);
    edu_wl(s, EDU_LIVE, 0x12345678);
    QT_ASSERT_EQ(edu_rl(s, EDU_LIVE), 0xedcba987u);
    /* 4-byte registers ignore other widths. */
    QT_ASSERT_EQ(qtest_readw(s, BAR0 + EDU_ID), 0xffff);
    qtest_writeb(s, BAR0 + EDU_LIVE, 0);
    QT_ASSERT_EQ(edu_rl(s, EDU_LIVE), 0xedcba987u);
    /* Factorials (mod 2^32), polled. */
    static const uint32_t cases[][2] = {
        { 0, 1 }, { 1, 1 }, { 5, 120 }, { 12, 479001600 }, { 13, 1932053504 },
        { 33, 2147483648u }, { 34, 0 }, { 0xffffffff, 0 },
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        edu_wl(s, EDU_FACT, cases[i][0]);
        WAIT_FOR(!(edu_rl(s, EDU_STATUS) & 1));
        QT_ASSERT_MSG(edu_rl(s, EDU_FACT) == cases[i][1], "%u! = %u, expected %u", cases[i][0],
                      edu_rl(s, EDU_FACT), cases[i][1]);
    }
    QT_ASSERT_EQ(edu_rl(s, EDU_ISR), 0);
    /* With the interrupt bit, by INTx: the worker goes through the main loop. */
    edu_wl(s, EDU_STATUS, 0x81);        /* bit 0 is read-only */
    QT_ASSERT_EQ(edu_rl(s, EDU_STATUS), 0x80);
    edu_wl(s, EDU_FACT, 4);
    WAIT_FOR(qtest_get_irq(s, INTX_GSI));
    QT_ASSERT_EQ(edu_rl(s, EDU_FACT), 24);
    QT_ASSERT_EQ(edu_rl(s, EDU_ISR), 0x1);
    edu_wl(s, EDU_ACK, 0x1);
    QT_ASSERT(!qtest_get_irq(s, INTX_GSI));
    /* And by MSI, through the vector's irqfd. */
    msi_program(s, msi, MSI_RAM, 0x6789, 0);
    edu_wl(s, EDU_FACT, 8);
    WAIT_FOR(qtest_readl(s, MSI_RAM) == 0x6789);
    QT_ASSERT_EQ(edu_rl(s, EDU_FACT), 40320);
    QT_ASSERT(!qtest_get_irq(s, INTX_GSI));
    qtest_quit(s);
}

static void test_edu_dma(void)
{
    QTestState *s = start_edu("");
    uint8_t pat[64], out[64], zero[64] = { 0 };

    for (unsigned i = 0; i < sizeof(pat); i++) {
        pat[i] = (uint8_t)(i * 7 + 3);
    }
    qtest_memwrite(s, 0x200000, pat, sizeof(pat));
    qtest_memwrite(s, 0x300000, zero, sizeof(zero));
    /* RAM -> buffer at 0x40100, then buffer -> RAM elsewhere. */
    edu_wl(s, EDU_SRC, 0x200000);
    edu_wl(s, EDU_DST, 0x40100);
    edu_wl(s, EDU_CNT, sizeof(pat));
    edu_wl(s, EDU_CMD, 0x1);
    QT_ASSERT_EQ(edu_rl(s, EDU_CMD), 0x1);
    qtest_clock_step(s, 50 * 1000 * 1000);
    QT_ASSERT_EQ(edu_rl(s, EDU_CMD), 0x1);              /* 100 ms, as QEMU */
    qtest_clock_step(s, 50 * 1000 * 1000);
    QT_ASSERT_EQ(edu_rl(s, EDU_CMD), 0x0);
    edu_wl(s, EDU_SRC, 0x40100);
    edu_wl(s, EDU_DST, 0x300000);
    edu_wl(s, EDU_CMD, 0x7);                            /* to RAM, with IRQ */
    qtest_clock_step(s, 100 * 1000 * 1000);
    qtest_memread(s, 0x300000, out, sizeof(out));
    QT_ASSERT(!memcmp(out, pat, sizeof(pat)));
    QT_ASSERT_EQ(edu_rl(s, EDU_ISR), 0x100);
    QT_ASSERT(qtest_get_irq(s, INTX_GSI));
    edu_wl(s, EDU_ACK, 0x100);
    /* Out of the buffer: refused, nothing written, no interrupt. */
    qtest_memwrite(s, 0x300000, zero, sizeof(zero));
    edu_wl(s, EDU_SRC, 0x40fe0);                        /* 0x40fe0 + 64 > 0x41000 */
    edu_wl(s, EDU_CMD, 0x7);
    qtest_clock_step(s, 100 * 1000 * 1000);
    QT_ASSERT_EQ(edu_rl(s, EDU_CMD) & 1, 0);
    qtest_memread(s, 0x300000, out, sizeof(out));
    QT_ASSERT(!memcmp(out, zero, sizeof(zero)));
    QT_ASSERT_EQ(edu_rl(s, EDU_ISR), 0);
    QT_ASSERT(!qtest_get_irq(s, INTX_GSI));
    /* Huge count: refused. */
    edu_wl(s, EDU_SRC, 0x40000);
    qtest_writeq(s, BAR0 + EDU_CNT, 0xffffffffffff0000ull);
    edu_wl(s, EDU_CMD, 0x3);
    qtest_clock_step(s, 100 * 1000 * 1000);
    QT_ASSERT_EQ(edu_rl(s, EDU_CMD) & 1, 0);
    /* Outside guest RAM (128 MiB; 0x0ff00000 is within the 28-bit mask). */
    edu_wl(s, EDU_CNT, 64);
    edu_wl(s, EDU_DST, 0x0ff00000);
    edu_wl(s, EDU_CMD, 0x3);
    qtest_clock_step(s, 100 * 1000 * 1000);
    QT_ASSERT_EQ(edu_rl(s, EDU_CMD) & 1, 0);
    QT_ASSERT_EQ(qtest_readl(s, 0x0ff00000), 0xffffffffu);
    /* The RAM address is masked to 28 bits: 0x10300000 is 0x300000. */
    edu_wl(s, EDU_SRC, 0x40100);
    edu_wl(s, EDU_DST, 0x10300000);
    edu_wl(s, EDU_CMD, 0x3);
    qtest_clock_step(s, 100 * 1000 * 1000);
    qtest_memread(s, 0x300000, out, sizeof(out));
    QT_ASSERT(!memcmp(out, pat, sizeof(pat)));
    /* Bus mastering off: refused. */
    qtest_memwrite(s, 0x300000, zero, sizeof(zero));
    cfg_ww(s, 0x04, CMD_MEM);
    edu_wl(s, EDU_DST, 0x300000);
    edu_wl(s, EDU_CMD, 0x3);
    qtest_clock_step(s, 100 * 1000 * 1000);
    qtest_memread(s, 0x300000, out, sizeof(out));
    QT_ASSERT(!memcmp(out, zero, sizeof(zero)));
    /* Still alive. */
    QT_ASSERT_EQ(edu_rl(s, EDU_ID), 0x010000edu);
    qtest_quit(s);
}

static void test_reset(void)
{
    QTestState *s = start_edu(",msix=on,msi-masking=on");
    int msi = find_cap(s, 0x05), msix = find_cap(s, 0x11);

    msi_program(s, msi, MSI_RAM, 0x1111, 0);
    cfg_ww(s, msix + 2, 0x8000);
    qtest_writel(s, BAR1 + 12, 0);
    edu_wl(s, EDU_RAISE, 1);
    QT_ASSERT_EQ(edu_rl(s, EDU_ISR), 1);
    /* System reset through the reset control register (0xcf9). */
    qtest_outb(s, 0xcf9, 0x06);
    qtest_clock_step(s, 1000);
    cfg_wl(s, 0x10, BAR0);
    cfg_wl(s, 0x14, BAR1);
    QT_ASSERT_EQ(qtest_readl(s, BAR1 + 12), 1);     /* entries masked again */
    QT_ASSERT_EQ(cfg_rw(s, msi + 2) & 0x71, 0);
    QT_ASSERT_EQ(cfg_rl(s, msi + 4), 0);
    QT_ASSERT_EQ(cfg_rw(s, msix + 2), 0x0003);
    QT_ASSERT(cfg_rw(s, 0x06) & 0x10);          /* capability list survives */
    QT_ASSERT_EQ(edu_rl(s, EDU_ISR), 0);
    qtest_quit(s);
}

int main(int argc, char **argv)
{
    qt_init(argc, argv);
    qt_run("msi/caplist-and-write-masks", test_caplist_and_masks);
    qt_run("msi/delivery-to-ram-and-intx", test_msi_delivery_and_intx);
    qt_run("msi/multiple-message-and-masking", test_msi_multi_and_masking);
    qt_run("msi/msix-table-pba-masking", test_msix);
    qt_run("msi/edu-registers-and-factorial", test_edu_registers_and_factorial);
    qt_run("msi/edu-dma", test_edu_dma);
    qt_run("msi/reset", test_reset);
    return qt_finish();
}

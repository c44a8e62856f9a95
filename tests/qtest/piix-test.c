/*
 * The PIIX functions of machine pc: the PIIX3 ISA bridge at 00:01.0 (PCI
 * interrupt routing through PIRQRC[A-D], the ELCR) and the PIIX4 power
 * management function at 00:01.3 (PMBA, the PM timer, S5).  INTx comes
 * from "edu" devices (raise with the RAISE register while MSI is off).
 */
#include <sys/wait.h>
#include "qtest-harness.h"

#define CONF1(dev, fn, reg) (0x80000000u | ((dev) << 11) | ((fn) << 8) | ((reg) & 0xfc))
#define PIRQRC      0x60
#define ELCR1       0x4d0
#define ELCR2       0x4d1
#define EDU_RAISE   0x60
#define EDU_ACK     0x64
#define CMD_MEM     0x0002

static uint32_t cfg_rl(QTestState *s, int dev, int fn, int reg)
{
    qtest_outl(s, 0xcf8, CONF1(dev, fn, reg));
    return qtest_inl(s, 0xcfc);
}

static uint8_t cfg_rb(QTestState *s, int dev, int fn, int reg)
{
    qtest_outl(s, 0xcf8, CONF1(dev, fn, reg));
    return qtest_inb(s, 0xcfc + (reg & 3));
}

static void cfg_wb(QTestState *s, int dev, int fn, int reg, uint8_t v)
{
    qtest_outl(s, 0xcf8, CONF1(dev, fn, reg));
    qtest_outb(s, 0xcfc + (reg & 3), v);
}

static void cfg_wl(QTestState *s, int dev, int fn, int reg, uint32_t v)
{
    qtest_outl(s, 0xcf8, CONF1(dev, fn, reg));
    qtest_outl(s, 0xcfc, v);
}

static void cfg_ww(QTestState *s, int dev, int fn, int reg, uint16_t v)
{
    qtest_outl(s, 0xcf8, CONF1(dev, fn, reg));
    qtest_outw(s, 0xcfc + (reg & 2), v);
}

/* The slave 8259's IRR (OCW3 "read IRR"): bit n is ISA IRQ 8 + n. */
static uint8_t slave_irr(QTestState *s)
{
    qtest_outb(s, 0xa0, 0x0a);
    return qtest_inb(s, 0xa0);
}

static void test_identity(void)
{
    QTestState *s = qtest_init("");

    QT_ASSERT_EQ(cfg_rl(s, 1, 0, 0x00), 0x70008086u);
    QT_ASSERT_EQ(cfg_rl(s, 1, 0, 0x08) >> 8, 0x060100u);       /* ISA bridge */
    QT_ASSERT_EQ(cfg_rb(s, 1, 0, 0x0e), 0x80);                 /* multifunction */
    for (int i = 0; i < 4; i++) {
        QT_ASSERT_EQ(cfg_rb(s, 1, 0, PIRQRC + i), 0x80);       /* not routed */
    }
    /* The routing registers read back as written (QEMU keeps every bit). */
    cfg_wl(s, 1, 0, PIRQRC, 0x8b0a0905);
    QT_ASSERT_EQ(cfg_rl(s, 1, 0, PIRQRC), 0x8b0a0905u);
    /* IDs are read only. */
    cfg_wl(s, 1, 0, 0x00, 0);
    QT_ASSERT_EQ(cfg_rl(s, 1, 0, 0x00), 0x70008086u);
    qtest_quit(s);
}

/* The ELCR (kept by the i8259 model): IRQs 0-2, 8 and 13 are always edge. */
static void test_elcr(void)
{
    QTestState *s = qtest_init("");

    QT_ASSERT_EQ(qtest_inb(s, ELCR1), 0x00);
    QT_ASSERT_EQ(qtest_inb(s, ELCR2), 0x00);
    qtest_outb(s, ELCR1, 0xff);
    qtest_outb(s, ELCR2, 0xff);
    QT_ASSERT_EQ(qtest_inb(s, ELCR1), 0xf8);
    QT_ASSERT_EQ(qtest_inb(s, ELCR2), 0xde);
    qtest_outb(s, ELCR2, 0x0c);
    QT_ASSERT_EQ(qtest_inb(s, ELCR2), 0x0c);
    QT_ASSERT_EQ(qtest_inb(s, ELCR1), 0xf8);
    qtest_quit(s);
}

/* edu at `slot` with its MMIO BAR at bar and memory decoding on. */
static void edu_setup(QTestState *s, int slot, uint32_t bar)
{
    QT_ASSERT_EQ(cfg_rl(s, slot, 0, 0x00), 0x11e81234u);
    cfg_wl(s, slot, 0, 0x10, bar);
    cfg_ww(s, slot, 0, 0x04, CMD_MEM);
}

/*
 * Slot 4 INTA# and slot 8 INTA# are both PIRQD ((slot + pin - 1) & 3 = 3):
 * routed by PIRQRCD (0x63) to an ISA IRQ, they reach the PIC (level, with
 * the ELCR bit set) and the IOAPIC input of that IRQ; unrouted, nothing
 * there.  PIRQD also drives GSI 19 whatever its route.
 */
static void test_pirq_routing(void)
{
    QTestState *s = qtest_init("-device edu,addr=4 -device edu,addr=8");
    const uint32_t bar4 = 0xe0000000u, bar8 = 0xe0100000u;

    edu_setup(s, 4, bar4);
    edu_setup(s, 8, bar8);
    qtest_irq_intercept_in(s, "ioapic");
    qtest_outb(s, ELCR2, 0x0c);                         /* IRQ 10, 11 level */

    /* Not routed: only GSI 19. */
    qtest_writel(s, bar4 + EDU_RAISE, 1);
    QT_ASSERT(qtest_get_irq(s, 19));
    QT_ASSERT(!qtest_get_irq(s, 11));
    QT_ASSERT_EQ(slave_irr(s) & 0x08, 0);

    /* Route PIRQD to IRQ 11: the asserted line appears at once. */
    cfg_wb(s, 1, 0, PIRQRC + 3, 11);
    QT_ASSERT(qtest_get_irq(s, 11));
    QT_ASSERT_EQ(slave_irr(s) & 0x08, 0x08);
    QT_ASSERT(!qtest_get_irq(s, 10));

    /* Wired-OR: the second device keeps the line up after the first acks. */
    qtest_writel(s, bar8 + EDU_RAISE, 1);
    qtest_writel(s, bar4 + EDU_ACK, 1);
    QT_ASSERT(qtest_get_irq(s, 11));
    QT_ASSERT(qtest_get_irq(s, 19));
    qtest_writel(s, bar8 + EDU_ACK, 1);
    QT_ASSERT(!qtest_get_irq(s, 11));
    QT_ASSERT(!qtest_get_irq(s, 19));
    QT_ASSERT_EQ(slave_irr(s) & 0x08, 0);

    /* Disabled (bit 7): nothing reaches IRQ 11. */
    cfg_wb(s, 1, 0, PIRQRC + 3, 0x8b);
    qtest_writel(s, bar4 + EDU_RAISE, 1);
    QT_ASSERT(qtest_get_irq(s, 19));
    QT_ASSERT(!qtest_get_irq(s, 11));
    QT_ASSERT_EQ(slave_irr(s) & 0x08, 0);

    /* Moving the route moves the asserted line: 11 -> 10. */
    cfg_wb(s, 1, 0, PIRQRC + 3, 10);
    QT_ASSERT(qtest_get_irq(s, 10));
    QT_ASSERT_EQ(slave_irr(s) & 0x04, 0x04);
    cfg_wb(s, 1, 0, PIRQRC + 3, 11);
    QT_ASSERT(!qtest_get_irq(s, 10));
    QT_ASSERT(qtest_get_irq(s, 11));
    QT_ASSERT_EQ(slave_irr(s) & 0x0c, 0x08);

    /* 0x10-0x7f route nowhere (as QEMU). */
    cfg_wb(s, 1, 0, PIRQRC + 3, 0x1b);
    QT_ASSERT(!qtest_get_irq(s, 11));

    /* PIRQA (slot 1 + 0 - 1 = 0 -> slot 5 INTA# is PIRQA) is independent. */
    cfg_wb(s, 1, 0, PIRQRC + 0, 11);
    QT_ASSERT(!qtest_get_irq(s, 11));
    qtest_writel(s, bar4 + EDU_ACK, 1);
    QT_ASSERT(!qtest_get_irq(s, 19));
    qtest_quit(s);
}

/* PIRQRCA (0x60): slot 5 INTA# is PIRQA; routed to IRQ 11 the PIC sees
 * it (with IRQ 11 unmasked and level triggered, the slave's INT follows
 * the device); disabled, nothing. */
static void test_pirqa(void)
{
    QTestState *s = qtest_init("-device edu,addr=5");
    const uint32_t bar = 0xe0000000u;

    char *r;

    edu_setup(s, 5, bar);
    /* A PC-style PIC setup: master at 0x08, slave at 0x70, cascade on 2. */
    qtest_outb(s, 0x20, 0x11);
    qtest_outb(s, 0x21, 0x08);
    qtest_outb(s, 0x21, 0x04);
    qtest_outb(s, 0x21, 0x01);
    qtest_outb(s, 0xa0, 0x11);
    qtest_outb(s, 0xa1, 0x70);
    qtest_outb(s, 0xa1, 0x02);
    qtest_outb(s, 0xa1, 0x01);
    qtest_outb(s, 0x21, 0xfb);                          /* only the cascade */
    qtest_outb(s, 0xa1, 0xf7);                          /* only IRQ 11 */
    qtest_outb(s, ELCR2, 0x08);
    r = qtest_command_raw(s, "irq_intercept_out /machine/i8259-slave");
    QT_ASSERT_MSG(!strncmp(r, "OK", 2), "irq_intercept_out: %s", r);
    free(r);

    cfg_wb(s, 1, 0, PIRQRC + 0, 11);
    QT_ASSERT(!qtest_get_irq(s, 0));
    qtest_writel(s, bar + EDU_RAISE, 1);
    QT_ASSERT(qtest_get_irq(s, 0));                     /* the slave's INT */
    QT_ASSERT_EQ(slave_irr(s) & 0x08, 0x08);
    qtest_writel(s, bar + EDU_ACK, 1);
    QT_ASSERT(!qtest_get_irq(s, 0));
    QT_ASSERT_EQ(slave_irr(s) & 0x08, 0);

    cfg_wb(s, 1, 0, PIRQRC + 0, 0x80 | 11);
    qtest_writel(s, bar + EDU_RAISE, 1);
    QT_ASSERT(!qtest_get_irq(s, 0));
    QT_ASSERT_EQ(slave_irr(s) & 0x08, 0);
    qtest_quit(s);
}

/* ---- PIIX4 PM, 00:01.3 ------------------------------------------------ */

#define PMBA        0x40
#define PMREGMISC   0x80
#define SMBBA       0x90
#define SMBHSTCFG   0xd2
#define PM_FREQ     3579545u

static void test_pm_identity(void)
{
    QTestState *s = qtest_init("");

    QT_ASSERT_EQ(cfg_rl(s, 1, 3, 0x00), 0x71138086u);
    QT_ASSERT_EQ(cfg_rl(s, 1, 3, 0x08), 0x06800003u);          /* class 0680, rev 3 */
    /* Without firmware the machine programs it as SeaBIOS does. */
    QT_ASSERT_EQ(cfg_rl(s, 1, 3, PMBA), 0x601u);
    QT_ASSERT_EQ(cfg_rb(s, 1, 3, PMREGMISC), 0x01);
    QT_ASSERT_EQ(cfg_rl(s, 1, 3, SMBBA), 0x701u);
    QT_ASSERT_EQ(cfg_rb(s, 1, 3, SMBHSTCFG), 0x09);
    /* DEVACTB APMC_EN: "SMM already set up" (no SMM), as QEMU. */
    QT_ASSERT_EQ(cfg_rl(s, 1, 3, 0x58), 0x02000000u);
    /* The I/O indicator bits read 1, the base is 64-byte aligned. */
    cfg_wl(s, 1, 3, PMBA, 0xb03e);
    QT_ASSERT_EQ(cfg_rl(s, 1, 3, PMBA), 0xb001u);
    qtest_quit(s);
}

/* The PM timer at PMBA + 8 runs at 3.579545 MHz of virtual time, and the
 * blocks follow PMBA and PMIOSE. */
static void test_pm_timer_pmba(void)
{
    QTestState *s = qtest_init("");
    uint32_t t0, t1;

    t0 = qtest_inl(s, 0x608);
    qtest_clock_step(s, 1000000000);
    t1 = qtest_inl(s, 0x608);
    QT_ASSERT_EQ((t1 - t0) & 0xffffff, PM_FREQ & 0xffffff);
    QT_ASSERT_EQ(t1 >> 24, 0);

    cfg_wl(s, 1, 3, PMBA, 0xb001);
    QT_ASSERT_EQ(qtest_inl(s, 0x608), 0xffffffffu);             /* gone from 0x600 */
    t0 = qtest_inl(s, 0xb008);
    qtest_clock_step(s, 1000000);
    QT_ASSERT_EQ((qtest_inl(s, 0xb008) - t0) & 0xffffff, 3579u);
    /* PM1_EN follows too: PWRBTN_EN reads back at the new place. */
    qtest_outw(s, 0xb002, 0x100);
    QT_ASSERT_EQ(qtest_inw(s, 0xb002), 0x100);
    /* PMIOSE off: nothing decoded. */
    cfg_wb(s, 1, 3, PMREGMISC, 0);
    QT_ASSERT_EQ(qtest_inl(s, 0xb008), 0xffffffffu);
    QT_ASSERT_EQ(qtest_inw(s, 0xb002), 0xffff);
    cfg_wb(s, 1, 3, PMREGMISC, 1);
    QT_ASSERT_EQ(qtest_inw(s, 0xb002), 0x100);
    qtest_quit(s);
}

/* The SCI: ISA IRQ 9, level, while an enabled PM1 event is pending (here
 * the timer's bit 23 toggling, every 2^23 ticks = 2.34 s). */
static void test_pm_sci(void)
{
    QTestState *s = qtest_init("");

    qtest_irq_intercept_in(s, "ioapic");
    qtest_outw(s, 0x602, 0x0001);                       /* TMR_EN */
    qtest_clock_step(s, 2340000000ll);
    QT_ASSERT(!qtest_get_irq(s, 9));
    qtest_clock_step(s, 10000000);
    QT_ASSERT(qtest_get_irq(s, 9));
    QT_ASSERT_EQ(qtest_inw(s, 0x600) & 1, 1);           /* TMR_STS */
    qtest_outw(s, 0x600, 0x0001);
    QT_ASSERT(!qtest_get_irq(s, 9));
    qtest_quit(s);
}

/* SLP_TYP 0 (\_S5) with SLP_EN in PM1a_CNT (PMBA + 4) powers off: the
 * emulator exits with status 0. */
static void test_pm_s5(void)
{
    QTestState *s = qtest_init("");
    int st;

    cfg_wl(s, 1, 3, PMBA, 0xb001);
    qtest_send_nowait(s, "outw 0xb004 0x2000");
    st = qtest_wait_exit(s, 10000);
    QT_ASSERT_MSG(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "wait status 0x%x", st);
    qtest_quit(s);
}

/* The SMBus host at SMBBA: no device answers. */
static void test_smbus(void)
{
    QTestState *s = qtest_init("");

    QT_ASSERT_EQ(qtest_inb(s, 0x700), 0x00);
    qtest_outb(s, 0x704, 0xa1);                         /* read from 0x50 */
    QT_ASSERT_EQ(qtest_inb(s, 0x704), 0xa1);
    qtest_outb(s, 0x702, 0x48);                         /* START, byte data */
    QT_ASSERT_EQ(qtest_inb(s, 0x700) & 0x04, 0x04);     /* DEV_ERR */
    QT_ASSERT_EQ(qtest_inb(s, 0x702) & 0x40, 0);        /* START reads 0 */
    qtest_outb(s, 0x700, 0x04);
    QT_ASSERT_EQ(qtest_inb(s, 0x700), 0x00);
    /* SMB_HST_EN off: not decoded. */
    cfg_wb(s, 1, 3, SMBHSTCFG, 0x08);
    QT_ASSERT_EQ(qtest_inb(s, 0x704), 0xff);
    qtest_quit(s);
}

int main(int argc, char **argv)
{
    qt_init(argc, argv);
    qt_run("piix3/identity", test_identity);
    qt_run("piix3/elcr", test_elcr);
    qt_run("piix3/pirq-routing", test_pirq_routing);
    qt_run("piix3/pirqa-pic", test_pirqa);
    qt_run("piix4-pm/identity", test_pm_identity);
    qt_run("piix4-pm/timer-pmba", test_pm_timer_pmba);
    qt_run("piix4-pm/sci", test_pm_sci);
    qt_run("piix4-pm/s5", test_pm_s5);
    qt_run("piix4-pm/smbus", test_smbus);
    return qt_finish();
}

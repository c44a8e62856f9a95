/* msi: MSI (and MSI-X when the device has it) from QEMU's "edu" device
 * (-device edu, or kvmpc's -device edu,msix=on) to this CPU's LAPIC:
 *   - find edu (1234:11e8) on bus 0, its BAR0, enable memory and bus master;
 *   - MSI: program address 0xfee00000 | APIC ID << 12 and a fixed vector,
 *     start a factorial with the "interrupt when done" bit: the interrupt
 *     arrives (on KVM through the vector's irqfd), 10! is right; the raise
 *     register and a DMA round trip (RAM -> buffer -> RAM) interrupt too;
 *     a new vector written while MSI is on is used from then on;
 *   - INTx is not used: the 8259 and IOAPIC stay masked;
 *   - MSI-X (edu,msix=on): table entry 0 with another vector, MSI-X on:
 *     the factorial interrupts on it; masked entry: no interrupt, the PBA
 *     bit is set; unmasked: it arrives and the bit clears; the function
 *     mask likewise for the raise register's vector 2. */
#include "lib.h"
#include "edu.h"

TEST("msi");

#define CONF1(dev, reg) (0x80000000u | ((dev) << 11) | ((reg) & 0xfc))
#define VEC_MSI     0x41
#define VEC_MSIX0   0x42
#define VEC_MSIX2   0x43
#define VEC_MSI_NEW 0x44

static int dev;
static uintptr_t bar0;

static uint32_t cfg_rl(int reg) { outl(0xcf8, CONF1(dev, reg)); return inl(0xcfc); }
static uint16_t cfg_rw(int reg) { outl(0xcf8, CONF1(dev, reg)); return inw(0xcfc + (reg & 2)); }
static uint8_t cfg_rb(int reg) { outl(0xcf8, CONF1(dev, reg)); return inb(0xcfc + (reg & 3)); }
static void cfg_wl(int reg, uint32_t v) { outl(0xcf8, CONF1(dev, reg)); outl(0xcfc, v); }
static void cfg_ww(int reg, uint16_t v) { outl(0xcf8, CONF1(dev, reg)); outw(0xcfc + (reg & 2), v); }

static uint32_t edu_rl(uint32_t reg) { return mmio_read32(bar0 + reg); }
static void edu_wl(uint32_t reg, uint32_t v) { mmio_write32(bar0 + reg, v); }

static volatile uint32_t hits[256];

static void msi_handler(struct irq_frame *f)
{
    hits[f->vector & 0xff]++;
    lapic_eoi();
}

static bool wait_hits(int vec, uint32_t n, uint64_t ms)
{
    uint64_t d = tsc_deadline_ms(ms);
    while (atomic_read(&hits[vec]) < n) {
        if (tsc_expired(d)) return false;
        pause();
    }
    return true;
}

static int find_cap(int id)
{
    if (!(cfg_rw(0x06) & 0x10)) return 0;
    for (int off = cfg_rb(0x34), guard = 0; off && guard < 48; guard++) {
        if (cfg_rb(off) == id) return off;
        off = cfg_rb(off + 1);
    }
    return 0;
}

static uint32_t factorial(uint32_t n)
{
    uint32_t r = 1;
    for (uint32_t i = 2; i <= n; i++) r *= i;
    return r;
}

/* Start n! with the completion interrupt; wait until the device is idle. */
static void run_factorial(uint32_t n)
{
    edu_wl(0x20, 0x80);
    edu_wl(0x08, n);
    uint64_t d = tsc_deadline_ms(2000);
    while (edu_rl(0x20) & 1) {
        if (tsc_expired(d)) fail("factorial of %u still computing after 2 s", n);
        pause();
    }
    CHECK(edu_rl(0x08) == factorial(n), "%u! read 0x%x, expected 0x%x", n, edu_rl(0x08), factorial(n));
}

static void test_msi(int cap, uint32_t apic)
{
    uint16_t flags = cfg_rw(cap + 2);
    bool is64 = flags & 0x80;
    int data_off = is64 ? 12 : 8;

    printf("MSI capability at 0x%02x, control 0x%04x\n", cap, flags);
    cfg_wl(cap + 4, 0xfee00000u | (apic << 12));
    if (is64) cfg_wl(cap + 8, 0);
    cfg_ww(cap + data_off, VEC_MSI);                    /* fixed, edge */
    cfg_ww(cap + 2, (flags & ~0x70) | 1);
    CHECK(cfg_rw(cap + 2) & 1, "MSI enable does not stick");
    CHECK(cfg_rl(cap + 4) == (0xfee00000u | (apic << 12)), "MSI address reads 0x%08x", cfg_rl(cap + 4));

    run_factorial(10);
    CHECK(wait_hits(VEC_MSI, 1, 1000), "no MSI (vector 0x%x) after the factorial", VEC_MSI);
    CHECK(edu_rl(0x24) == 1, "interrupt status 0x%x after the factorial", edu_rl(0x24));
    edu_wl(0x64, 1);
    CHECK(edu_rl(0x24) == 0, "interrupt status 0x%x after ack", edu_rl(0x24));
    printf("MSI: factorial 10! = %u, interrupt on vector 0x%x\n", edu_rl(0x08), VEC_MSI);

    edu_wl(0x60, 0x40);
    CHECK(wait_hits(VEC_MSI, 2, 1000), "no MSI from the raise register");
    CHECK(edu_rl(0x24) == 0x40, "interrupt status 0x%x after raise", edu_rl(0x24));
    edu_wl(0x64, 0x40);

    /* DMA: RAM -> buffer -> RAM, the second with an interrupt. */
    static uint8_t src[256] __attribute__((aligned(64))), dst[256] __attribute__((aligned(64)));
    for (unsigned i = 0; i < sizeof(src); i++) { src[i] = (uint8_t)(i * 13 + 1); dst[i] = 0; }
    edu_wl(0x80, (uint32_t)(uintptr_t)src);
    edu_wl(0x84, 0);
    edu_wl(0x88, 0x40000);
    edu_wl(0x8c, 0);
    edu_wl(0x90, sizeof(src));
    edu_wl(0x94, 0);
    edu_wl(0x98, 1);
    uint64_t d = tsc_deadline_ms(2000);
    while (edu_rl(0x98) & 1) {
        if (tsc_expired(d)) fail("DMA to the device not done after 2 s");
        pause();
    }
    edu_wl(0x80, 0x40000);
    edu_wl(0x88, (uint32_t)(uintptr_t)dst);
    edu_wl(0x98, 1 | 2 | 4);
    CHECK(wait_hits(VEC_MSI, 3, 2000), "no MSI after the DMA to RAM");
    CHECK(!(edu_rl(0x98) & 1), "DMA still running after its interrupt");
    CHECK(!memcmp(src, dst, sizeof(src)), "DMA round trip corrupted the data");
    CHECK(edu_rl(0x24) == 0x100, "interrupt status 0x%x after DMA", edu_rl(0x24));
    edu_wl(0x64, 0x100);
    printf("MSI: raise register and DMA round trip of %u bytes ok\n", (unsigned)sizeof(src));

    /* Reprogrammed while enabled (on KVM: the route is re-pointed). */
    cfg_ww(cap + data_off, VEC_MSI_NEW);
    run_factorial(12);
    CHECK(wait_hits(VEC_MSI_NEW, 1, 1000), "no MSI on the reprogrammed vector 0x%x", VEC_MSI_NEW);
    CHECK(hits[VEC_MSI] == 3, "MSI still on the old vector after reprogramming");
    edu_wl(0x64, 1);
    printf("MSI: reprogrammed to vector 0x%x ok\n", VEC_MSI_NEW);
    cfg_ww(cap + 2, flags & ~1);
}

static void test_msix(int cap, uint32_t apic)
{
    uint16_t ctrl = cfg_rw(cap + 2);
    uint32_t table = cfg_rl(cap + 4), pba = cfg_rl(cap + 8);
    unsigned bir = table & 7;
    uint32_t bar = cfg_rl(0x10 + 4 * bir);
    CHECK(!(bar & 1) && !(bar & 4), "MSI-X table BAR %u is 0x%08x", bir, bar);
    CHECK((pba & 7) == bir, "PBA in BAR %u, table in BAR %u", pba & 7, bir);
    uintptr_t tab = (bar & ~0xfu) + (table & ~7u), pb = (bar & ~0xfu) + (pba & ~7u);
    unsigned n = (ctrl & 0x7ff) + 1;

    printf("MSI-X capability at 0x%02x: %u vectors, table at 0x%08lx, PBA at 0x%08lx\n", cap, n,
           (unsigned long)tab, (unsigned long)pb);
    CHECK(n >= 3, "only %u MSI-X vectors", n);
    for (unsigned v = 0; v < n; v++)
        CHECK(mmio_read32(tab + 16 * v + 12) & 1, "MSI-X entry %u not masked at reset", v);
    mmio_write32(tab + 0, 0xfee00000u | (apic << 12));
    mmio_write32(tab + 4, 0);
    mmio_write32(tab + 8, VEC_MSIX0);
    mmio_write32(tab + 12, 0);
    mmio_write32(tab + 32 + 0, 0xfee00000u | (apic << 12));
    mmio_write32(tab + 32 + 4, 0);
    mmio_write32(tab + 32 + 8, VEC_MSIX2);
    mmio_write32(tab + 32 + 12, 0);
    cfg_ww(cap + 2, 0x8000);

    run_factorial(9);
    CHECK(wait_hits(VEC_MSIX0, 1, 1000), "no MSI-X vector 0 (0x%x) after the factorial", VEC_MSIX0);
    CHECK(hits[VEC_MSI] == 3, "MSI vector fired while MSI-X is on");
    edu_wl(0x64, 1);

    /* Masked entry: pending, no interrupt; unmask delivers. */
    mmio_write32(tab + 12, 1);
    run_factorial(11);
    mdelay(50);
    CHECK(hits[VEC_MSIX0] == 1, "masked MSI-X vector 0 was delivered");
    CHECK(mmio_read32(pb) & 1, "PBA 0x%x: vector 0 not pending while masked", mmio_read32(pb));
    mmio_write32(tab + 12, 0);
    CHECK(wait_hits(VEC_MSIX0, 2, 1000), "pending MSI-X vector 0 not delivered on unmask");
    CHECK(!(mmio_read32(pb) & 1), "PBA 0x%x: vector 0 still pending", mmio_read32(pb));
    edu_wl(0x64, 1);

    /* Function mask: the raise register's vector 2 pends, then goes. */
    cfg_ww(cap + 2, 0xc000);
    edu_wl(0x60, 0x8);
    mdelay(20);
    CHECK(hits[VEC_MSIX2] == 0, "vector 2 delivered under the function mask");
    CHECK(mmio_read32(pb) & 4, "PBA 0x%x: vector 2 not pending", mmio_read32(pb));
    cfg_ww(cap + 2, 0x8000);
    CHECK(wait_hits(VEC_MSIX2, 1, 1000), "vector 2 not delivered when the function mask cleared");
    CHECK(mmio_read32(pb) == 0, "PBA 0x%x after unmasking", mmio_read32(pb));
    edu_wl(0x64, 0x8);
    printf("MSI-X: vectors 0x%x and 0x%x, per-vector and function masking ok\n", VEC_MSIX0, VEC_MSIX2);
    cfg_ww(cap + 2, 0);
}

void test_main(void)
{
    dev = edu_find(&bar0);
    printf("edu at %02x.0, BAR0 0x%08lx, id 0x%08x\n", dev, (unsigned long)bar0, edu_rl(0));
    edu_wl(0x04, 0x5a5a1234);
    CHECK(edu_rl(0x04) == ~0x5a5a1234u, "liveness 0x%08x", edu_rl(0x04));

    pic_init();
    lapic_enable();
    lapic_write(LAPIC_LVT_LINT0, 1u << 16);
    uint32_t apic = lapic_id();
    irq_set_handler(VEC_MSI, msi_handler);
    irq_set_handler(VEC_MSIX0, msi_handler);
    irq_set_handler(VEC_MSIX2, msi_handler);
    irq_set_handler(VEC_MSI_NEW, msi_handler);
    sti();

    int msi = find_cap(0x05), msix = find_cap(0x11);
    CHECK(msi, "edu has no MSI capability");
    test_msi(msi, apic);
    if (msix) {
        test_msix(msix, apic);
    } else {
        printf("no MSI-X capability (QEMU's edu): MSI-X part skipped\n");
    }
    cli();
    lapic_write(LAPIC_ESR, 0);
    CHECK(lapic_read(LAPIC_ESR) == 0, "LAPIC ESR 0x%x", lapic_read(LAPIC_ESR));
    CHECK(hits[0xff] == 0, "%u spurious interrupts", hits[0xff]);
    pass();
}

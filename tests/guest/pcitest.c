/* pcitest: PCI through configuration mechanism #1 and QEMU's pci-testdev
 * (-device pci-testdev), as a guest sees them after firmware (SeaBIOS under
 * QEMU, kvmpc's own assignment with direct boot):
 *   - bus 0 has the i440FX host bridge 8086:1237 at 00.0;
 *   - CONFIG_ADDRESS (0xcf8) reads back, byte writes to 0xcfb do not touch it;
 *   - pci-testdev 1b36:0005 has a 4 KiB memory BAR and a 256-byte I/O BAR,
 *     placed and decoded, sized by the usual all-ones probe;
 *   - every test on both BARs: width/offset/data/name from the header, then
 *     writes; "count" must be what the test saw.  Under KVM the eventfd
 *     tests' writes never leave the kernel: this checks that ioeventfds with
 *     and without data match fire exactly for the right writes.  QEMU does
 *     not count what its eventfds take (count 0 is accepted there; kvmpc is
 *     recognised by its ACPI OEM id and must count exactly). */
#include "lib.h"

TEST("pcitest");

#define CONF1(dev, fn, reg) (0x80000000u | ((dev) << 11) | ((fn) << 8) | ((reg) & 0xfc))

static uint32_t cfg_rl(int dev, int reg) { outl(0xcf8, CONF1(dev, 0, reg)); return inl(0xcfc); }
static uint16_t cfg_rw(int dev, int reg) { outl(0xcf8, CONF1(dev, 0, reg)); return inw(0xcfc + (reg & 2)); }
static void cfg_wl(int dev, int reg, uint32_t v) { outl(0xcf8, CONF1(dev, 0, reg)); outl(0xcfc, v); }

static bool is_kvmpc(void)
{
    uint8_t *rsdp = acpi_find_rsdp();
    return rsdp && !memcmp(rsdp + 9, "KVMPC", 5);
}

struct bar { bool io; uint32_t base; };

static uint8_t bar_rb(struct bar *b, uint32_t off)
{
    return b->io ? inb((uint16_t)(b->base + off)) : mmio_read8(b->base + off);
}

static uint32_t bar_rl(struct bar *b, uint32_t off)
{
    return b->io ? inl((uint16_t)(b->base + off)) : mmio_read32(b->base + off);
}

static void bar_w(struct bar *b, uint32_t off, uint32_t v, int width)
{
    uint32_t a = b->base + off;
    switch (width) {
    case 1: if (b->io) outb((uint16_t)a, (uint8_t)v); else mmio_write8(a, (uint8_t)v); break;
    case 2: if (b->io) outw((uint16_t)a, (uint16_t)v); else mmio_write16(a, (uint16_t)v); break;
    default: if (b->io) outl((uint16_t)a, v); else mmio_write32(a, v); break;
    }
}

static int run_tests(struct bar *b, const char *type, bool exact)
{
    static const char *const names[] = { "no-eventfd", "wildcard-eventfd", "datamatch-eventfd" };
    int n;

    for (n = 0; n < 16; n++) {
        bar_w(b, 0, (uint32_t)n, 1);
        uint8_t width = bar_rb(b, 1);
        if (width != 1 && width != 2 && width != 4) {
            break;
        }
        uint32_t off = bar_rl(b, 4), data = bar_rl(b, 8), count;
        char name[40], want[40];
        unsigned i;
        for (i = 0; i < sizeof(name) - 1; i++) {
            name[i] = (char)bar_rb(b, 0x10 + i);
            if (!name[i]) {
                break;
            }
        }
        name[i] = 0;
        CHECK(n < 3, "%s: unexpected test %d '%s'", type, n, name);
        snprintf(want, sizeof(want), "%s-%s", type, names[n]);
        CHECK(!strcmp(name, want), "%s test %d is '%s', expected '%s'", type, n, name, want);
        CHECK(bar_rl(b, 0x0c) == 0, "%s: count not restarted", name);
        for (int k = 0; k < 16; k++) {
            bar_w(b, off, data, width);
        }
        for (int k = 0; k < 3; k++) {
            bar_w(b, off, ~data, width);
        }
        count = bar_rl(b, 0x0c);
        uint32_t expect = n == 1 ? 19 : 16;     /* the wildcard takes the others too */
        if (exact || n == 0) {
            CHECK(count == expect, "%s: count %u, expected %u", name, count, expect);
        } else {
            CHECK(count == 0 || count == expect, "%s: count %u, expected %u (or 0)", name, count, expect);
        }
        printf("%s: width %u offset 0x%x data 0x%x count %u ok\n", name, width, off, data, count);
    }
    return n;
}

void test_main(void)
{
    int dev = -1;
    bool exact = is_kvmpc();

    CHECK(cfg_rl(0, 0) == 0x12378086u, "00.0 is 0x%08x, not the i440FX host bridge", cfg_rl(0, 0));
    CHECK(cfg_rw(0, 0x0a) == 0x0600, "00.0 class 0x%04x", cfg_rw(0, 0x0a));
    outl(0xcf8, 0x80000000u);
    outb(0xcfb, 0x01);
    CHECK(inl(0xcf8) == 0x80000000u, "CONFIG_ADDRESS reads 0x%08x", inl(0xcf8));
    for (int d = 1; d < 32; d++) {
        uint32_t id = cfg_rl(d, 0);
        if (id == 0x00051b36u) {
            dev = d;
            break;
        }
    }
    CHECK(dev > 0, "no pci-testdev on bus 0 (run with -device pci-testdev)");
    CHECK(cfg_rl(31, 0) == 0xffffffffu || dev == 31, "empty slot 1f does not read all ones");

    uint32_t bar0 = cfg_rl(dev, 0x10), bar1 = cfg_rl(dev, 0x14);
    CHECK((bar0 & 0xf) == 0 && bar0 >= 0x80000000u && !(bar0 & 0xfff), "BAR0 0x%08x", bar0);
    CHECK((bar1 & 3) == 1 && (bar1 & ~3u) >= 0x1000 && !(bar1 & 0xfc), "BAR1 0x%08x", bar1);
    CHECK((cfg_rw(dev, 4) & 3) == 3, "decoding off: command 0x%04x", cfg_rw(dev, 4));
    cfg_wl(dev, 0x10, 0xffffffffu);
    CHECK(cfg_rl(dev, 0x10) == 0xfffff000u, "BAR0 size probe 0x%08x", cfg_rl(dev, 0x10));
    cfg_wl(dev, 0x10, bar0);
    cfg_wl(dev, 0x14, 0xffffffffu);
    CHECK((cfg_rl(dev, 0x14) & 0xffff) == 0xff01, "BAR1 size probe 0x%08x", cfg_rl(dev, 0x14));
    cfg_wl(dev, 0x14, bar1);
    printf("pci-testdev at %02x.0: mem 0x%08x io 0x%04x\n", dev, bar0, bar1 & ~3u);

    struct bar mem = { false, bar0 }, io = { true, bar1 & ~3u };
    CHECK(run_tests(&mem, "mmio", exact) == 3, "mmio: not 3 tests");
    CHECK(run_tests(&io, "portio", exact) == 3, "portio: not 3 tests");
    pass();
}

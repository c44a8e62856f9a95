/* dmacode: a device's DMA overwrites code the guest is running.
 *   - QEMU's "edu" device (-device edu) copies its 4 KiB buffer to RAM from
 *     a timer of the main loop, 100 ms after the command: on kvmpc's
 *     tcg-lite that write comes from another thread than the vCPU's, which
 *     runs guest code without the big lock (docs/tcg-lite.md, "Guest code
 *     without the big lock");
 *   - the guest calls a function `mov eax, A; ret` in a page of its own
 *     until it is hot (compiled), puts `mov eax, B; ret` into the device's
 *     buffer, starts the DMA over the function and keeps calling it
 *     (thousands of calls between looks at the device);
 *   - once the device says the DMA is done, the very next call must return
 *     B: a vCPU that kept running its old translation returns A (the test
 *     fails), as it would if the write were not seen at all (it would
 *     return A until the deadline).  Done several times, at offsets that
 *     move the function within the page. */
#include "lib.h"
#include "edu.h"

TEST("dmacode");

#define EDU_BUF 0x40000u

static uintptr_t bar0;

static uint32_t edu_rl(uint32_t reg) { return mmio_read32(bar0 + reg); }
static void edu_wl(uint32_t reg, uint32_t v) { mmio_write32(bar0 + reg, v); }

static uint8_t code[4096] __attribute__((aligned(4096)));
static uint8_t staging[64] __attribute__((aligned(64)));

/* mov eax, v; ret at p */
static void put_fn(uint8_t *p, uint32_t v)
{
    p[0] = 0xb8;
    memcpy(p + 1, &v, 4);
    p[5] = 0xc3;
}

static void dma(uint32_t src, uint32_t dst, uint32_t n, bool to_ram)
{
    edu_wl(0x80, src);
    edu_wl(0x84, 0);
    edu_wl(0x88, dst);
    edu_wl(0x8c, 0);
    edu_wl(0x90, n);
    edu_wl(0x94, 0);
    edu_wl(0x98, 1 | (to_ram ? 2 : 0));
}

static bool dma_busy(void)
{
    return edu_rl(0x98) & 1;
}

static void round_at(unsigned off, uint32_t a, uint32_t b)
{
    typedef uint32_t (*fn_t)(void);
    fn_t fn = (fn_t)(uintptr_t)(code + off);
    uint64_t d;
    uint32_t calls = 0, old_seen = 0, r;
    unsigned start = off & ~63u;

    /* the new code into the device's buffer: the 64 bytes around the
     * function (QEMU 7.2's edu refuses a transfer of its whole buffer) */
    memcpy(staging, code + start, 64);
    put_fn(staging + (off - start), b);
    dma((uint32_t)(uintptr_t)staging, EDU_BUF, 64, false);
    d = tsc_deadline_ms(2000);
    while (dma_busy()) {
        if (tsc_expired(d)) fail("DMA to the device not done after 2 s");
        pause();
    }
    /* the old code, hot */
    put_fn(code + off, a);
    for (int i = 0; i < 20000; i++) {
        r = fn();
        CHECK(r == a, "offset %u: the function returned 0x%x before the DMA, expected 0x%x",
              off, r, a);
    }
    /* over it by DMA, calling it meanwhile */
    dma(EDU_BUF, (uint32_t)(uintptr_t)(code + start), 64, true);
    d = tsc_deadline_ms(3000);
    for (;;) {
        bool busy = dma_busy();
        for (int i = 0; i < 5000; i++, calls++) {
            r = fn();
            if (r == a) {
                old_seen++;
            } else if (r != b) {
                fail("offset %u: the function returned 0x%x (neither 0x%x nor 0x%x)",
                     off, r, a, b);
            } else if (!busy) {
                break;
            }
        }
        if (!busy) {
            break;
        }
        if (tsc_expired(d)) fail("offset %u: DMA to RAM not done after 3 s", off);
    }
    /* the device said it is done: nothing may run the old code now.  On
     * silicon, code another agent modified needs a serializing
     * instruction on the executing CPU before it runs (SDM vol. 3,
     * 8.1.3, cross-modifying code; Linux's sync_core()): without it KVM
     * in the lab (nested SVM, kernel-irqchip=off) ran the old bytes once
     * in 2026-12-06's CI.  It changes nothing for tcg-lite, whose stale
     * translations this checks. */
    {
        uint32_t ea, eb, ec, ed;
        cpuid(0, 0, &ea, &eb, &ec, &ed);
        (void)ea, (void)eb, (void)ec, (void)ed;
    }
    {
        uint32_t mem;
        memcpy(&mem, code + off + 1, 4);
        CHECK(mem == b, "offset %u: RAM holds mov eax, 0x%x after the DMA, expected 0x%x "
              "(the device wrote old bytes)", off, mem, b);
    }
    r = fn();
    CHECK(r == b, "offset %u: after the DMA the function still returns 0x%x, expected 0x%x "
          "(a stale translation)", off, r, b);
    printf("offset %u: %u calls while the DMA ran (%u returned the old value), then 0x%x\n",
           off, calls, old_seen, r);
}

void test_main(void)
{
    edu_find(&bar0);

    memset(code, 0xcc, sizeof(code));       /* int3 around the function */
    round_at(0, 0x11111111, 0x22222222);
    round_at(0, 0x22222222, 0x33333333);
    round_at(2048, 0x44444444, 0x55555555);
    round_at(4090, 0x66666666, 0x77777777);
    pass();
}

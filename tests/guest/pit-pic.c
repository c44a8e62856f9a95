/* pit-pic: PIT channel 0 mode 2 -> IRQ0 -> 8259 (vector 0x20).  The tick
 * rate is measured against PIT channel 2 (gate/OUT via port 0x61), a window
 * independent of the TSC, and cross-checked against the TSC. */
#include "lib.h"

TEST("pit-pic");

static volatile uint32_t ticks;
static volatile uint16_t isr_seen;
static volatile uint32_t isr_bad;

static void irq0(struct irq_frame *f)
{
    uint16_t isr = pic_get_isr();
    if (!(isr & 1)) isr_bad++;
    isr_seen |= isr;
    ticks++;
    pic_eoi(0);
}

static void pit0_periodic(uint16_t div)
{
    outb(0x43, 0x34);                   /* ch0, lo/hi, mode 2, binary */
    outb(0x40, div & 0xff);
    outb(0x40, div >> 8);
}

static uint16_t pit0_read(void)
{
    outb(0x43, 0x00);                   /* counter latch ch0 */
    uint8_t lo = inb(0x40);
    uint8_t hi = inb(0x40);
    return (uint16_t)(hi << 8 | lo);
}

/* min_pct: lowest acceptable percentage of the expected tick count */
static void measure(uint16_t div, unsigned win50, const char *label, unsigned min_pct)
{
    uint32_t hz_x100 = (uint32_t)((uint64_t)PIT_HZ * 100 / div);
    uint32_t expect = (uint32_t)((uint64_t)hz_x100 * win50 * 50 / 100000);
    uint32_t n_pit, n_tsc;
    uint64_t ms_tsc, stall;
    pit0_periodic(div);
    for (int attempt = 1;; attempt++) {
        stall_reset();
        sti();
        /* PIT-channel-2 window */
        uint32_t t0 = ticks;
        uint64_t tsc0 = rdtsc();
        CHECK(pit2_wait_ms(win50 * 50), "PIT channel 2 OUT never went high");
        n_pit = ticks - t0;
        ms_tsc = (rdtsc() - tsc0) / tsc_khz;
        /* TSC window of the same length */
        t0 = ticks;
        mdelay(win50 * 50);
        n_tsc = ticks - t0;
        cli();
        stall = stall_max_ms();
        printf("%s: divisor %u (%u.%02u Hz): %u ticks in %u ms (PIT ch2 window, %llu ms by TSC), %u ticks in TSC window (expect %u; longest vCPU stall %llu ms)\n",
               label, div, hz_x100 / 100, hz_x100 % 100, n_pit, win50 * 50, (unsigned long long)ms_tsc, n_tsc,
               expect, (unsigned long long)stall);
        /* lower bounds are loose: an emulator may drop ticks under host
         * load; a window in which the vCPU stood still is measured again.
         * So is one with too many: a periodic timer that fired late before
         * the window catches up inside it (a KVM lab run: 333 ticks in a
         * 300 ms window, bound 331); a PIT that runs fast does it every time */
        if (n_pit > expect * 11 / 10 + 1 && attempt < 4) {
            printf("note: %u ticks, more than the window holds (a late timer catching up): "
                   "measuring again\n", n_pit);
            continue;
        }
        if ((n_pit >= expect * min_pct / 100 && n_tsc >= expect * min_pct / 200) || stall < STALL_MS ||
            attempt == 4)
            break;
        printf("note: too few ticks while the host held the vCPU back: measuring again\n");
    }
    /* four windows in a row with a late timer catching up: accepted only
     * if the vCPU stood still in the last one (a nested lab that stalls
     * for tens of ms: 397 ticks in 300 ms after a 77 ms stall); a PIT
     * that runs fast does it without stalls */
    if (n_pit > expect * 11 / 10 + 1 && stall >= STALL_MS) {
        printf("note: %u ticks after a %llu ms vCPU stall: a late timer catching up, accepted\n",
               n_pit, (unsigned long long)stall);
        n_pit = expect;
    }
    CHECK(n_pit >= expect * min_pct / 100 && n_pit <= expect * 11 / 10 + 1,
          "%s: %u IRQ0 ticks in a %u ms PIT ch2 window, expected ~%u (vCPU stall %llu ms)", label, n_pit,
          win50 * 50, expect, (unsigned long long)stall);
    CHECK(n_tsc >= expect * min_pct / 200 && n_tsc <= expect * 2 + 1,
          "%s: %u IRQ0 ticks in a %u ms TSC window, expected ~%u (vCPU stall %llu ms)", label, n_tsc, win50 * 50,
          expect, (unsigned long long)stall);
}

void test_main(void)
{
    pic_init();
    irq_set_handler(PIC_VEC_BASE + 0, irq0);

    /* counter read-back: a running mode-2 counter counts down within [1, div] */
    pit0_periodic(60000);
    uint16_t c1 = pit0_read();
    udelay(2000);
    uint16_t c2 = pit0_read();
    printf("ch0 latch: %u then %u\n", c1, c2);
    CHECK(c1 <= 60000 && c2 <= 60000, "counter latch out of range: %u %u", c1, c2);
    CHECK(c1 != c2, "channel 0 counter not counting (%u)", c1);

    /* IRQ0 pending in IRR while masked, delivered once unmasked */
    pit0_periodic(1193);                /* ~1 kHz */
    uint64_t d = tsc_deadline_ms(100);
    while (!(pic_get_irr() & 1))
        if (tsc_expired(d)) fail("IRR bit 0 never set with PIT running (IRQ0 masked)");
    CHECK(ticks == 0, "IRQ0 delivered while masked");
    pic_unmask(0);
    sti();
    d = tsc_deadline_ms(200);
    while (!ticks)
        if (tsc_expired(d)) fail("IRQ0 not delivered through the PIC (IRR=0x%04x IMR=0x%02x)", pic_get_irr(), inb(0x21));
    cli();
    CHECK(isr_bad == 0, "PIC ISR bit 0 not set inside the IRQ0 handler (ISR=0x%04x)", isr_seen);
    printf("IRQ0 via 8259 -> vector 0x20 ok, ISR in handler 0x%04x\n", isr_seen);

    /* Lower bounds are loose: QEMU TCG drops PIT ticks when the host is busy
     * (an IRQ0 edge while the previous one is still pending in IRR is lost). */
    measure(11932, 10, "100 Hz", 50);   /* 500 ms window, ~50 ticks */
    measure(1193, 6, "1 kHz", 10);      /* 300 ms window, ~300 ticks */

    /* masking stops delivery */
    pic_mask(0);
    uint32_t t = ticks;
    sti();
    mdelay(30);
    cli();
    CHECK(ticks == t, "IRQ0 delivered %u times while masked in IMR", ticks - t);
    /* mode 0 one-shot on channel 0 fires exactly once */
    outb(0x43, 0x30);                   /* ch0, lo/hi, mode 0: OUT goes low */
    outb(0x40, 0xff); outb(0x40, 0xff); /* 65535 counts = ~55 ms */
    pic_unmask(0);
    sti();
    mdelay(2);                          /* drain an IRQ0 latched in IRR while masked */
    t = ticks;
    mdelay(120);
    cli();
    uint32_t oneshot = ticks - t;
    pic_mask(0);
    printf("mode 0 one-shot: %u interrupt(s) in 120 ms\n", oneshot);
    CHECK(oneshot == 1, "mode 0 one-shot produced %u interrupts in 120 ms (want 1)", oneshot);
    pass();
}

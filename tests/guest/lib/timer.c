/* TSC calibration against PIT channel 2 (gate/out via port 0x61). */
#include "lib.h"

uint64_t tsc_khz;
static uint64_t stall_last, stall_max;

/* (Single-CPU measurements: an AP's delays only make gaps look shorter.) */
static inline void stall_note(void)
{
    uint64_t n = rdtsc();
    if ((int64_t)(n - stall_last) > (int64_t)stall_max)
        stall_max = n - stall_last;
    stall_last = n;
}

void stall_reset(void)
{
    stall_max = 0;
    stall_last = rdtsc();
}

uint64_t stall_max_ms(void)
{
    return tsc_khz ? stall_max / tsc_khz : 0;
}

void pit2_start_oneshot(uint16_t count)
{
    uint8_t v = inb(0x61);
    outb(0x61, v & ~0x03);          /* gate low, speaker off */
    outb(0x43, 0xb0);               /* ch2, lobyte/hibyte, mode 0, binary */
    outb(0x42, count & 0xff);
    outb(0x42, count >> 8);
    outb(0x61, (v & ~0x02) | 0x01); /* gate high: start counting */
}

bool pit2_out(void)
{
    return inb(0x61) & 0x20;
}

/* One (TSC, PIT ch2 count) pair: the tightest of several rdtsc-bracketed
 * counter latches, so a descheduled vCPU doesn't skew the pairing. */
static void pit2_sample(uint64_t *tsc, uint16_t *cnt)
{
    uint64_t best = ~0ull;
    for (int i = 0; i < 8; i++) {
        uint64_t a = rdtsc();
        outb(0x43, 0x80);               /* counter latch, channel 2 */
        uint8_t lo = inb(0x42), hi = inb(0x42);
        uint64_t b = rdtsc();
        if (b - a < best) {
            best = b - a;
            *tsc = a + (b - a) / 2;
            *cnt = (uint16_t)(hi << 8 | lo);
        }
    }
}

void tsc_calibrate(void)
{
    /* Channel 2 mode 0 from 0xffff (54.9 ms); sample the count at the start
     * and after ~35 ms, median of 5 runs.  A run where OUT went high (the
     * counter wrapped) is discarded. */
    uint64_t s[5];
    int n = 0;
    for (int tries = 0; tries < 20 && n < 5; tries++) {
        uint64_t t0, t1;
        uint16_t c0, c1;
        pit2_start_oneshot(0xffff);
        pit2_sample(&t0, &c0);
        unsigned long spins = 0;
        /* Wait with one latch per look (3 port exits; the tight sample
         * takes 24, which with slow exits under a loaded nested KVM and a
         * userspace PIT could miss the 20 ms window at every period and
         * spin forever); give the run up as soon as the counter wraps. */
        do {
            for (int i = 0; i < 200; i++) pause();
            outb(0x43, 0x80);
            c1 = inb(0x42);
            c1 |= (uint16_t)(inb(0x42) << 8);
            if (++spins > 20000000ul)
                fail("TSC calibration: PIT channel 2 counter not counting (stuck at %u)", c1);
        } while (c1 <= c0 && c0 - c1 < (uint16_t)(PIT_HZ * 35 / 1000));
        if (c1 > c0)
            continue;                   /* wrapped: descheduled too long */
        pit2_sample(&t1, &c1);
        if (pit2_out() || c1 > c0)
            continue;
        s[n++] = (t1 - t0) * PIT_HZ / ((uint64_t)(c0 - c1) * 1000);
    }
    if (n == 0)
        fail("TSC calibration: no usable PIT channel 2 sample");
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (s[j] < s[i]) { uint64_t t = s[i]; s[i] = s[j]; s[j] = t; }
    uint64_t best = s[n / 2];
    if (best < 1000)
        fail("TSC calibration: implausible TSC rate %llu kHz", (unsigned long long)best);
    tsc_khz = best;
    printf("TSC: %llu kHz (calibrated against PIT ch2)\n", (unsigned long long)tsc_khz);
}

uint64_t tsc_deadline_ms(uint64_t ms)
{
    return rdtsc() + ms * tsc_khz;
}

void udelay(uint64_t us)
{
    uint64_t end = rdtsc() + us * tsc_khz / 1000;
    /* the loop's own TSC reads end it: stall_last is shared with the
     * other CPUs (and torn on 32-bit guests), only the stall figure may
     * suffer from that */
    stall_note();
    while (rdtsc() < end) {
        pause();
        stall_note();
    }
}

void mdelay(uint64_t ms)
{
    udelay(ms * 1000);
}

bool wait_flag(volatile uint32_t *p, uint32_t val, uint64_t ms)
{
    uint64_t d = tsc_deadline_ms(ms);
    while (__atomic_load_n(p, __ATOMIC_SEQ_CST) != val) {
        if (tsc_expired(d)) return false;
        pause();
    }
    return true;
}

bool pit2_wait_ms(unsigned ms)
{
    while (ms) {
        unsigned chunk = ms > 50 ? 50 : ms;
        pit2_start_oneshot((uint16_t)(PIT_HZ * chunk / 1000));
        uint64_t d = tsc_deadline_ms(chunk * 20 + 100);
        /* poll every ~20 us, not flat out: in an emulator each port read
         * takes a global lock that the device timers (PIT, RTC) also need */
        while (!pit2_out()) {
            if (tsc_expired(d)) return false;
            udelay(20);
        }
        ms -= chunk;
    }
    return true;
}

bool wait_count(volatile uint32_t *p, uint32_t val, uint64_t ms)
{
    uint64_t d = tsc_deadline_ms(ms);
    while (__atomic_load_n(p, __ATOMIC_SEQ_CST) < val) {
        if (tsc_expired(d)) return false;
        pause();
    }
    return true;
}

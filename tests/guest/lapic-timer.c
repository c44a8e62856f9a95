/* lapic-timer: the local APIC timer in one-shot, periodic and TSC-deadline
 * modes.  The timer's input clock is measured against PIT channel 2 (a
 * window independent of the TSC) through the TSC (calibrated against PIT
 * channel 2 at startup); periods are then programmed from that
 * measurement and checked by counting interrupts in PIT channel 2 windows.  Bounds
 * are generous (nested KVM and loaded TCG hosts are jittery) but tight
 * enough that a wrong divider, a periodic timer that does not reload, a
 * one-shot that repeats or a mask bit that is ignored fail.
 * -append tscdeadline=1 makes a missing CPUID.01H:ECX[24] a failure. */
#include "lib.h"

TEST("lapic-timer");

#define TVEC 0x40

static volatile uint32_t nticks;
static volatile uint64_t tick_tsc;

static void timer_irq(struct irq_frame *f)
{
    tick_tsc = rdtsc();
    nticks++;
    lapic_eoi();
}

/* divide configuration register encodings (bits 0,1,3) */
static uint32_t dcr_for(unsigned div)
{
    switch (div) {
    case 1: return 0xb;
    case 2: return 0x0;
    case 4: return 0x1;
    case 8: return 0x2;
    case 16: return 0x3;
    case 32: return 0x8;
    case 64: return 0x9;
    default: return 0xa;            /* 128 */
    }
}

static void timer_stop(void)
{
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | TVEC);
    lapic_write(LAPIC_TIMER_ICR, 0);
}

/* one (TSC, current count) pair: the tightest of several rdtsc-bracketed
 * reads, so that a descheduled vCPU does not skew the pairing */
static void ccr_sample(uint64_t *tsc, uint32_t *ccr)
{
    uint64_t best = ~0ull;
    for (int i = 0; i < 8; i++) {
        uint64_t a = rdtsc();
        uint32_t c = lapic_read(LAPIC_TIMER_CCR);
        uint64_t b = rdtsc();
        if (b - a < best) {
            best = b - a;
            *tsc = a + (b - a) / 2;
            *ccr = c;
        }
    }
}

/* counts per millisecond of the timer with divider div: median of 5
 * 20 ms windows timed by the TSC (itself calibrated against PIT ch2) */
static uint64_t measure_rate(unsigned div)
{
    uint64_t r[5];
    lapic_write(LAPIC_TIMER_DCR, dcr_for(div));
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | TVEC);
    for (int i = 0; i < 5; i++) {
        uint64_t t0, t1;
        uint32_t c0, c1;
        lapic_write(LAPIC_TIMER_ICR, 0xffffffffu);
        ccr_sample(&t0, &c0);
        mdelay(20);
        ccr_sample(&t1, &c1);
        CHECK(c1 < c0, "divide by %u: current count did not decrease (0x%08x then 0x%08x)", div, c0, c1);
        CHECK(c1 > 0, "divide by %u: counter ran out within 20 ms (timer clock > 200 GHz?)", div);
        r[i] = (uint64_t)(c0 - c1) * tsc_khz / (t1 - t0);
    }
    timer_stop();
    for (int i = 0; i < 5; i++)
        for (int j = i + 1; j < 5; j++)
            if (r[j] < r[i]) { uint64_t t = r[i]; r[i] = r[j]; r[j] = t; }
    printf("divide by %3u: %llu kHz (median of %llu..%llu)\n", div, (unsigned long long)r[2],
           (unsigned long long)r[0], (unsigned long long)r[4]);
    return r[2];
}

/* interrupts of a timer with period period_ms, counted in a PIT channel 2
 * window of ms milliseconds; the window is also timed by the TSC, and the
 * expected range covers both lengths (a descheduled vCPU stretches it) */
static uint32_t ticks_in(unsigned ms, unsigned period_ms, const char *what)
{
    for (int attempt = 1;; attempt++) {
        stall_reset();
        uint32_t t0 = nticks;
        uint64_t tsc0 = rdtsc();
        CHECK(pit2_wait_ms(ms), "PIT channel 2 OUT never went high");
        uint32_t n = nticks - t0;
        if (!period_ms)
            return n;
        uint64_t te = (rdtsc() - tsc0) / tsc_khz, stall = stall_max_ms();
        uint64_t shortest = te < ms ? te : ms, longest = te > ms ? te : ms;
        /* the lower bound is loose (a tenth, and at least 2 to show that
         * the timer repeats): a vCPU that is not scheduled merges ticks in
         * IRR, and TCG on a loaded host misses most of them; a window in
         * which the vCPU stood still is measured again.  The upper bound
         * is what catches a timer running too fast. */
        uint32_t lo = (uint32_t)(shortest / period_ms / 10), hi = (uint32_t)(longest * 3 / period_ms / 2 + 1);
        if (lo < 2)
            lo = 2;
        printf("%s: %u interrupts in a %u ms PIT window (%llu ms by TSC), expected %u..%u; longest vCPU stall %llu ms\n",
               what, n, ms, (unsigned long long)te, lo, hi, (unsigned long long)stall);
        if (n < lo && stall >= STALL_MS && attempt < 4) {
            printf("note: too few interrupts while the host held the vCPU back: measuring again\n");
            continue;
        }
        CHECK(n >= lo && n <= hi, "%s: %u interrupts in %u ms (%llu ms by TSC), expected %u..%u (vCPU stall %llu ms)",
              what, n, ms, (unsigned long long)te, lo, hi, (unsigned long long)stall);
        return n;
    }
}

static void test_oneshot(uint64_t rate)
{
    /* 20 ms one-shot */
    uint32_t icr = (uint32_t)(rate * 20);
    nticks = 0;
    lapic_write(LAPIC_TIMER_DCR, dcr_for(1));
    lapic_write(LAPIC_LVT_TIMER, TVEC);
    uint64_t t0 = rdtsc();
    lapic_write(LAPIC_TIMER_ICR, icr);
    uint32_t c0 = lapic_read(LAPIC_TIMER_CCR);
    udelay(500);
    uint32_t c1 = lapic_read(LAPIC_TIMER_CCR);
    CHECK(lapic_read(LAPIC_TIMER_ICR) == icr, "initial count reads 0x%08x, wrote 0x%08x",
          lapic_read(LAPIC_TIMER_ICR), icr);
    CHECK(c0 <= icr && c1 < c0, "one-shot: current count not counting down from 0x%08x (0x%08x, 0x%08x)",
          icr, c0, c1);
    sti();
    CHECK(wait_count(&nticks, 1, 1000), "one-shot (20 ms): no interrupt within 1 s (CCR 0x%08x)",
          lapic_read(LAPIC_TIMER_CCR));
    uint64_t us = (tick_tsc - t0) * 1000 / tsc_khz;
    CHECK(pit2_wait_ms(60), "PIT channel 2 OUT never went high");
    cli();
    printf("one-shot 20 ms: fired after %llu us (TSC), %u interrupt(s) in total, CCR now %u\n",
           (unsigned long long)us, nticks, lapic_read(LAPIC_TIMER_CCR));
    CHECK(nticks == 1, "one-shot fired %u times", nticks);
    CHECK(us >= 10000, "one-shot (20 ms) fired after only %llu us", (unsigned long long)us);
    CHECK(lapic_read(LAPIC_TIMER_CCR) == 0, "current count 0x%08x after the one-shot expired",
          lapic_read(LAPIC_TIMER_CCR));
    CHECK(!lapic_vec_bit(LAPIC_ISR0, TVEC) && !lapic_vec_bit(LAPIC_IRR0, TVEC),
          "vector 0x%x still in ISR/IRR after EOI", TVEC);
}

static void test_periodic(uint64_t rate)
{
    /* 10 ms period, divide by 1: 20 interrupts in 200 ms */
    nticks = 0;
    lapic_write(LAPIC_TIMER_DCR, dcr_for(1));
    lapic_write(LAPIC_LVT_TIMER, TVEC | LVT_PERIODIC);
    lapic_write(LAPIC_TIMER_ICR, (uint32_t)(rate * 10));
    sti();
    ticks_in(200, 10, "periodic 10 ms");
    /* KVM's LAPIC reads 0 while its host timer is late past the period's
     * end (the nested lab's L1 runs on TCG: timers can be late by more
     * than the period); a reloading timer shows a count again within a
     * few periods, one that does not reload never does. */
    uint32_t ccr = lapic_read(LAPIC_TIMER_CCR);
    for (int i = 0; i < 20 && ccr == 0; i++) {
        udelay(2000);
        ccr = lapic_read(LAPIC_TIMER_CCR);
    }
    CHECK(ccr > 0 && ccr <= rate * 10, "periodic: current count %u not reloaded within (0, %llu]",
          ccr, (unsigned long long)(rate * 10));

    /* same initial count, divide by 4: 40 ms period, 5 in 200 ms (20 if the divider were ignored) */
    lapic_write(LAPIC_TIMER_DCR, dcr_for(4));
    lapic_write(LAPIC_TIMER_ICR, (uint32_t)(rate * 10));
    ticks_in(240, 40, "periodic 10 ms count at divide by 4 (40 ms)");

    /* masking: the timer keeps counting but raises nothing */
    lapic_write(LAPIC_TIMER_DCR, dcr_for(1));
    lapic_write(LAPIC_TIMER_ICR, (uint32_t)(rate * 5));
    CHECK(wait_count(&nticks, nticks + 1, 1000), "periodic 5 ms: no interrupt within 1 s");
    lapic_write(LAPIC_LVT_TIMER, TVEC | LVT_PERIODIC | LVT_MASKED);
    udelay(100);                    /* let an interrupt accepted before the write drain */
    uint32_t c0 = lapic_read(LAPIC_TIMER_CCR);
    uint32_t n = ticks_in(60, 0, NULL);
    uint32_t c1 = lapic_read(LAPIC_TIMER_CCR);
    /* as above: a late host timer reads 0 for a while */
    for (int i = 0; i < 20 && (c1 == 0 || c1 == c0); i++) {
        udelay(2000);
        c1 = lapic_read(LAPIC_TIMER_CCR);
    }
    printf("periodic 5 ms masked: %u interrupts in 60 ms; CCR %u -> %u\n", n, c0, c1);
    CHECK(n == 0, "%u timer interrupts while the LVT timer entry is masked", n);
    CHECK(c0 != c1 && c1 > 0, "masked periodic timer stopped counting (CCR %u -> %u)", c0, c1);
    lapic_write(LAPIC_LVT_TIMER, TVEC | LVT_PERIODIC);
    ticks_in(100, 5, "periodic 5 ms unmasked again");

    /* periodic -> one-shot: the next count fires once.  (Waited for with
     * a long bound: in the nested lab a host timer can be 100+ ms late.) */
    lapic_write(LAPIC_LVT_TIMER, TVEC);
    lapic_write(LAPIC_TIMER_ICR, (uint32_t)(rate * 5));
    udelay(200);                    /* a periodic tick accepted before the switch */
    uint32_t base = nticks;
    CHECK(wait_count(&nticks, base + 1, 1000), "after switching periodic -> one-shot: no interrupt within 1 s");
    n = ticks_in(60, 0, NULL);
    printf("switched to one-shot 5 ms: fired, then %u more in 60 ms\n", n);
    CHECK(n == 0, "after switching periodic -> one-shot: %u more interrupts", n);

    /* writing 0 to the initial count stops a periodic timer */
    lapic_write(LAPIC_LVT_TIMER, TVEC | LVT_PERIODIC);
    lapic_write(LAPIC_TIMER_ICR, (uint32_t)(rate * 5));
    CHECK(wait_count(&nticks, nticks + 2, 1000), "periodic 5 ms restarted: no interrupts");
    lapic_write(LAPIC_TIMER_ICR, 0);
    udelay(100);
    n = ticks_in(50, 0, NULL);
    cli();
    printf("initial count 0: %u interrupts in 50 ms, CCR %u\n", n, lapic_read(LAPIC_TIMER_CCR));
    CHECK(n == 0, "%u interrupts after writing 0 to the initial count", n);
    CHECK(lapic_read(LAPIC_TIMER_CCR) == 0, "CCR %u after the timer was stopped", lapic_read(LAPIC_TIMER_CCR));
}

static void test_masked_oneshot(uint64_t rate)
{
    /* a masked one-shot expires silently; unmasking afterwards raises nothing */
    nticks = 0;
    lapic_write(LAPIC_LVT_TIMER, TVEC | LVT_MASKED);
    lapic_write(LAPIC_TIMER_ICR, (uint32_t)(rate * 2));
    sti();
    CHECK(pit2_wait_ms(30), "PIT channel 2 OUT never went high");
    CHECK(lapic_read(LAPIC_TIMER_CCR) == 0, "masked one-shot: CCR %u after 30 ms", lapic_read(LAPIC_TIMER_CCR));
    CHECK(nticks == 0, "masked one-shot raised %u interrupt(s)", nticks);
    /* KVM computes CCR from the clock but raises the expiry from a host
     * timer that can be 100+ ms late in a nested lab; an expiry that
     * arrives after the unmask below would be delivered.  Stopping the
     * (architecturally already expired) timer first makes that race
     * impossible without changing what the guest may observe. */
    lapic_write(LAPIC_TIMER_ICR, 0);
    lapic_write(LAPIC_LVT_TIMER, TVEC);
    CHECK(pit2_wait_ms(20), "PIT channel 2 OUT never went high");
    cli();
    CHECK(nticks == 0, "masked one-shot raised %u interrupt(s)", nticks);
    printf("masked one-shot: expired without an interrupt, none after unmasking\n");
}

static void test_tsc_deadline(uint64_t rate)
{
    uint64_t need = 0;
    cmdline_u64("tscdeadline", &need);
    if (!cpuid1_ecx(24)) {
        CHECK(!need, "TSC-deadline timer not advertised (CPUID.01H:ECX[24]) but tscdeadline=1");
        printf("TSC-deadline mode: skipped (CPUID.01H:ECX[24] clear)\n");
        return;
    }
    timer_stop();
    nticks = 0;
    lapic_write(LAPIC_LVT_TIMER, TVEC | LVT_TSC_DEADLINE);
    /* the initial-count register is ignored in TSC-deadline mode */
    lapic_write(LAPIC_TIMER_ICR, (uint32_t)(rate / 10 + 1));
    sti();
    CHECK(pit2_wait_ms(20), "PIT channel 2 OUT never went high");
    CHECK(nticks == 0, "TSC-deadline mode: a write to the initial count fired %u interrupt(s)", nticks);
    CHECK(lapic_read(LAPIC_TIMER_CCR) == 0, "TSC-deadline mode: CCR reads %u, expected 0",
          lapic_read(LAPIC_TIMER_CCR));

    /* arm 10 ms ahead: fires once, not early, and the MSR reads 0 afterwards */
    uint64_t dl = rdtsc() + 10 * tsc_khz;
    wrmsr(MSR_IA32_TSC_DEADLINE, dl);
    CHECK(rdmsr(MSR_IA32_TSC_DEADLINE) == dl, "IA32_TSC_DEADLINE reads 0x%llx, wrote 0x%llx",
          (unsigned long long)rdmsr(MSR_IA32_TSC_DEADLINE), (unsigned long long)dl);
    CHECK(wait_count(&nticks, 1, 1000), "TSC deadline 10 ms ahead: no interrupt within 1 s");
    uint64_t fired = tick_tsc;
    CHECK(pit2_wait_ms(30), "PIT channel 2 OUT never went high");
    CHECK(nticks == 1, "TSC deadline fired %u times", nticks);
    CHECK(fired >= dl, "TSC deadline interrupt %llu TSC cycles early", (unsigned long long)(dl - fired));
    CHECK(rdmsr(MSR_IA32_TSC_DEADLINE) == 0, "IA32_TSC_DEADLINE reads 0x%llx after firing, expected 0",
          (unsigned long long)rdmsr(MSR_IA32_TSC_DEADLINE));
    printf("TSC deadline +10 ms: fired %llu us after the deadline\n",
           (unsigned long long)((fired - dl) * 1000 / tsc_khz));

    /* writing 0 disarms */
    wrmsr(MSR_IA32_TSC_DEADLINE, rdtsc() + 20 * tsc_khz);
    wrmsr(MSR_IA32_TSC_DEADLINE, 0);
    CHECK(pit2_wait_ms(50), "PIT channel 2 OUT never went high");
    CHECK(nticks == 1, "TSC deadline disarmed with 0 still fired");

    /* a deadline in the past fires at once */
    wrmsr(MSR_IA32_TSC_DEADLINE, 1);
    CHECK(wait_count(&nticks, 2, 100), "TSC deadline in the past: no interrupt within 100 ms");

    /* masked: no interrupt */
    lapic_write(LAPIC_LVT_TIMER, TVEC | LVT_TSC_DEADLINE | LVT_MASKED);
    wrmsr(MSR_IA32_TSC_DEADLINE, rdtsc() + 2 * tsc_khz);
    CHECK(pit2_wait_ms(30), "PIT channel 2 OUT never went high");
    CHECK(nticks == 2, "masked TSC-deadline timer raised an interrupt");

    /* back to one-shot mode: the count timer works again */
    lapic_write(LAPIC_LVT_TIMER, TVEC);
    lapic_write(LAPIC_TIMER_DCR, dcr_for(1));
    lapic_write(LAPIC_TIMER_ICR, (uint32_t)(rate * 5));
    CHECK(wait_count(&nticks, 3, 1000), "one-shot after TSC-deadline mode: no interrupt");
    cli();
    printf("TSC-deadline mode: ICR ignored, fires once at the deadline, 0 disarms, past fires, mask, back to one-shot ok\n");
}

void test_main(void)
{
    pic_init();
    lapic_enable();
    lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
    lapic_write(LAPIC_LVT_ERR, LVT_MASKED | 0xfe);
    irq_set_handler(TVEC, timer_irq);
    timer_stop();
    CHECK(lapic_read(LAPIC_TIMER_CCR) == 0, "CCR %u with the initial count 0", lapic_read(LAPIC_TIMER_CCR));

    /* divider: every setting divides the same clock */
    uint64_t r1 = measure_rate(1);
    CHECK(r1 >= 1000, "timer clock %llu kHz: implausibly slow", (unsigned long long)r1);
    uint64_t r2 = measure_rate(2);
    uint64_t r16 = measure_rate(16);
    uint64_t r128 = measure_rate(128);
    CHECK(r2 * 2 >= r1 * 8 / 10 && r2 * 2 <= r1 * 12 / 10, "divide by 2: %llu kHz vs %llu kHz at 1",
          (unsigned long long)r2, (unsigned long long)r1);
    CHECK(r16 * 16 >= r1 * 8 / 10 && r16 * 16 <= r1 * 12 / 10, "divide by 16: %llu kHz vs %llu kHz at 1",
          (unsigned long long)r16, (unsigned long long)r1);
    CHECK(r128 * 128 >= r1 * 8 / 10 && r128 * 128 <= r1 * 12 / 10, "divide by 128: %llu kHz vs %llu kHz at 1",
          (unsigned long long)r128, (unsigned long long)r1);
    CHECK(lapic_read(LAPIC_TIMER_DCR) == dcr_for(128), "DCR reads 0x%x, wrote 0x%x",
          lapic_read(LAPIC_TIMER_DCR), dcr_for(128));
    /* a 10 ms period must fit the 32-bit count at divide by 1 */
    CHECK(r1 * 20 < 0xffffffffull, "timer clock %llu kHz too fast for this test", (unsigned long long)r1);

    test_oneshot(r1);
    test_periodic(r1);
    test_masked_oneshot(r1);
    test_tsc_deadline(r1);
    timer_stop();
    lapic_write(LAPIC_ESR, 0);
    uint32_t esr = lapic_read(LAPIC_ESR);
    CHECK(esr == 0, "LAPIC ESR 0x%x", esr);
    pass();
}

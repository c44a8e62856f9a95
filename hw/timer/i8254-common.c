/*
 * 8254 counter arithmetic shared by both PIT paths: the userspace "isa-pit"
 * (hw/timer/i8254.c) and port 0x61's view of the accelerator's in-kernel
 * PIT (accel/kvm/kvm-pit.c).  Pure functions of time and counter state.
 */
#include "hw/timer/i8254.h"
#include "system/main-loop.h"

uint64_t i8254_ns_to_ticks(int64_t ns)
{
    if (ns <= 0) {
        return 0;
    }
    return (unsigned __int128)ns * PIT_FREQ / NANOSECONDS_PER_SECOND;
}

/* The first ns at which i8254_ns_to_ticks() reaches ticks. */
int64_t i8254_ticks_to_ns(uint64_t ticks)
{
    unsigned __int128 ns = (unsigned __int128)ticks * NANOSECONDS_PER_SECOND;

    return (ns + PIT_FREQ - 1) / PIT_FREQ;
}

int i8254_norm_mode(int mode)
{
    mode &= 7;
    return mode >= 6 ? mode - 4 : mode;
}

bool i8254_out_at(int mode, uint32_t count, uint64_t ticks)
{
    uint64_t n = count ? count : 0x10000;

    switch (i8254_norm_mode(mode)) {
    case 0:     /* interrupt on terminal count: high once the count ran out */
    case 1:     /* one-shot: low from the trigger until terminal count */
        return ticks >= n;
    case 2:     /* rate generator: low for the clock before each reload */
        return n < 2 || ticks % n != n - 1;
    case 3:     /* square wave: high for ceil(n/2) clocks, low for floor(n/2) */
        return ticks % n < (n + 1) / 2;
    default:    /* 4, 5 strobes: low for one clock at terminal count */
        return ticks != n;
    }
}


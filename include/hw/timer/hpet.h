/*
 * The HPET ("hpet"): IA-PC HPET 1.0a event timer block at 0xfed00000.
 * See hw/timer/hpet.c.
 */
#ifndef KVMPC_HW_TIMER_HPET_H
#define KVMPC_HW_TIMER_HPET_H

#define HPET_TYPE           "hpet"
#define HPET_BASE           0xfed00000u
#define HPET_LEN            0x400
#define HPET_NUM_TIMERS     3
#define HPET_PERIOD_FS      10000000u   /* 10 ns: a 100 MHz counter, as QEMU */

/* GPIO inputs (named HPET_LEGACY_IN): the PIT's IRQ 0 (n = 0) and the
 * RTC's IRQ 8 (n = 1), which the HPET passes on to its outputs 0 and 8
 * unless LegacyReplacement routing is on.  The 24 unnamed GPIO outputs
 * are the interrupt controller inputs (ISA IRQs 0-15, GSIs 16-23). */
#define HPET_LEGACY_IN      "legacy"
#define HPET_LEGACY_PIT     0
#define HPET_LEGACY_RTC     1
#define HPET_NUM_LINES      24
/* GPIO output (named HPET_LEGACY_MODE_OUT, one line): high while
 * LegacyReplacement routing is on.  An in-kernel PIT, which raises IRQ 0
 * by itself, listens to it to stop doing so (QEMU's "pit_enabled" line,
 * inverted). */
#define HPET_LEGACY_MODE_OUT "legacy-mode"

#endif

/*
 * Intel 8254 programmable interval timer ("isa-pit"), and the interface
 * through which port 0x61 reaches channel 2 of whichever PIT the machine
 * has (the userspace isa-pit, or the accelerator's in-kernel one).
 */
#ifndef KVMPC_HW_TIMER_I8254_H
#define KVMPC_HW_TIMER_I8254_H

#include <stdbool.h>
#include <stdint.h>
#include "hw/qdev.h"

#define PIT_FREQ        1193182         /* Hz: 14.31818 MHz / 12 */
#define PIT_ISA_BASE    0x40
#define PIT_ISA_IRQ     0
/* GPIO input (named) of a PIT that raises IRQ 0 by itself (the in-kernel
 * one): high = the HPET's LegacyReplacement routing owns IRQ 0, stay
 * quiet.  A PIT whose IRQ 0 goes through the HPET's legacy input (the
 * userspace one) has no such input. */
#define PIT_HPET_LEGACY_IN "hpet-legacy"

/*
 * What port 0x61 needs from a PIT: channel 2's OUT now, and its GATE input.
 * A PIT device class registers its implementation once (at load time);
 * port61 finds it from the PIT device it is linked to.
 */
typedef struct PITSpeakerOps {
    bool (*get_ch2_out)(DeviceState *pit);
    void (*set_ch2_gate)(DeviceState *pit, bool level);
} PITSpeakerOps;

void pit_speaker_ops_register(const DeviceClass *dc, const PITSpeakerOps *ops);
/* NULL if pit's class registered none. */
const PITSpeakerOps *pit_speaker_ops(DeviceState *pit);

/* isa-pit's implementation of the above. */
bool i8254_get_ch2_out(DeviceState *pit);
void i8254_set_ch2_gate(DeviceState *pit, bool level);

/*
 * The OUT pin of a counter in `mode` (0-5, or 6/7 meaning 2/3) loaded with
 * `count` (1..0x10000 input clocks) `ticks` input clocks after counting
 * began (after the trigger, for modes 1 and 5).  Shared with the in-kernel
 * PIT's port 0x61 path.
 */
bool i8254_out_at(int mode, uint32_t count, uint64_t ticks);
/* Whole input clocks in ns nanoseconds (0 for ns <= 0). */
uint64_t i8254_ns_to_ticks(int64_t ns);
/* The first ns at which i8254_ns_to_ticks() reaches ticks. */
int64_t i8254_ticks_to_ns(uint64_t ticks);
/* Modes 6 and 7 are modes 2 and 3. */
int i8254_norm_mode(int mode);

#endif

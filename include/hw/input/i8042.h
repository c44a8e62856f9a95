/*
 * i8042 keyboard controller with a PS/2 keyboard and mouse ("i8042").
 */
#ifndef KVMPC_HW_INPUT_I8042_H
#define KVMPC_HW_INPUT_I8042_H

#include <stdbool.h>
#include <stdint.h>
#include "hw/qdev.h"

/*
 * Keyboard input: queue bytes as the keyboard sends them (make/break
 * codes, prefixes).  The caller produces codes in the set the guest reads:
 * set 1 when i8042_kbd_translating() (the controller's translation, command
 * byte bit 6, is on), else i8042_kbd_scancode_set().  Dropped while the
 * guest has scanning disabled (0xF5) or the queue is full.
 */
void i8042_kbd_put_scancode(DeviceState *dev, const uint8_t *codes, int len);
bool i8042_kbd_translating(DeviceState *dev);
int i8042_kbd_scancode_set(DeviceState *dev);
/* Mouse input: one standard 3-byte PS/2 packet, dropped unless enabled (0xF4). */
void i8042_mouse_put_event(DeviceState *dev, int dx, int dy, unsigned buttons);

/* Output port bit 1 (A20 gate), as last set by 0xD1/0xDD/0xDF. */
bool i8042_a20_enabled(DeviceState *dev);
/* GPIO output driven with output port bit 1 (the machine wires it to
 * x86_a20_input(1)); high after reset. */
#define I8042_A20_LINE "a20"

#endif

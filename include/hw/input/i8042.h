/*
 * i8042 keyboard controller with a PS/2 keyboard and mouse ("i8042").
 */
#ifndef KVMPC_HW_INPUT_I8042_H
#define KVMPC_HW_INPUT_I8042_H

#include <stdbool.h>
#include <stdint.h>
#include "hw/qdev.h"

/*
 * The keyboard and mouse also register with the input layer (ui/input.h):
 * key events become scan codes of the keyboard's current set, pointer
 * events become packets.
 *
 * Keyboard input: queue bytes as the keyboard sends them on its wire
 * (make/break codes, prefixes, in i8042_kbd_scancode_set()).  When
 * i8042_kbd_translating() (command byte bit 6) the controller turns them
 * into set 1 on the way, as the 8042 does.  The whole sequence is dropped
 * while the guest has scanning disabled (0xF5) or the queue is full.
 */
void i8042_kbd_put_scancode(DeviceState *dev, const uint8_t *codes, int len);
bool i8042_kbd_translating(DeviceState *dev);
int i8042_kbd_scancode_set(DeviceState *dev);
/* LEDs (0xED) and typematic byte (0xF3) as last set by the guest. */
uint8_t i8042_kbd_leds(DeviceState *dev);
uint8_t i8042_kbd_typematic(DeviceState *dev);
/* Mouse input: motion (PS/2 sense: dy positive up) and buttons (bit 0 left,
 * 1 right, 2 middle); a packet goes out at once in stream mode, remote mode
 * keeps the motion for 0xEB.  Dropped unless enabled (0xF4). */
void i8042_mouse_put_event(DeviceState *dev, int dx, int dy, unsigned buttons);

/* Output port bit 1 (A20 gate), as last set by 0xD1/0xDD/0xDF. */
bool i8042_a20_enabled(DeviceState *dev);
/* GPIO output driven with output port bit 1 (the machine wires it to
 * x86_a20_input(1)); high after reset. */
#define I8042_A20_LINE "a20"

#endif

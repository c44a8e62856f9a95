/*
 * The input layer: keyboards and pointers (frontends: QMP send-key and
 * input-send-event, HMP sendkey, later a display) send events here; the
 * emulated devices (the PS/2 keyboard and mouse of the i8042) register as
 * handlers and receive them.  As QEMU's ui/input.c: an event goes to the
 * most recently activated handler that accepts its kind; a pointer device
 * collects rel/btn events and sends one packet on qemu_input_event_sync().
 */
#ifndef KVMPC_UI_INPUT_H
#define KVMPC_UI_INPUT_H

#include <stdbool.h>
#include <stdint.h>
#include "hw/qdev.h"

/* Key names as QEMU's QKeyCode (qapi/ui.json); the same strings are in
 * monitor/qapi-schema.json's QKeyCode enum. */
typedef enum QKeyCode {
    Q_KEY_CODE_UNMAPPED,
    Q_KEY_CODE_SHIFT, Q_KEY_CODE_SHIFT_R, Q_KEY_CODE_ALT, Q_KEY_CODE_ALT_R,
    Q_KEY_CODE_CTRL, Q_KEY_CODE_CTRL_R, Q_KEY_CODE_MENU, Q_KEY_CODE_ESC,
    Q_KEY_CODE_1, Q_KEY_CODE_2, Q_KEY_CODE_3, Q_KEY_CODE_4, Q_KEY_CODE_5,
    Q_KEY_CODE_6, Q_KEY_CODE_7, Q_KEY_CODE_8, Q_KEY_CODE_9, Q_KEY_CODE_0,
    Q_KEY_CODE_MINUS, Q_KEY_CODE_EQUAL, Q_KEY_CODE_BACKSPACE, Q_KEY_CODE_TAB,
    Q_KEY_CODE_Q, Q_KEY_CODE_W, Q_KEY_CODE_E, Q_KEY_CODE_R, Q_KEY_CODE_T,
    Q_KEY_CODE_Y, Q_KEY_CODE_U, Q_KEY_CODE_I, Q_KEY_CODE_O, Q_KEY_CODE_P,
    Q_KEY_CODE_BRACKET_LEFT, Q_KEY_CODE_BRACKET_RIGHT, Q_KEY_CODE_RET,
    Q_KEY_CODE_A, Q_KEY_CODE_S, Q_KEY_CODE_D, Q_KEY_CODE_F, Q_KEY_CODE_G,
    Q_KEY_CODE_H, Q_KEY_CODE_J, Q_KEY_CODE_K, Q_KEY_CODE_L,
    Q_KEY_CODE_SEMICOLON, Q_KEY_CODE_APOSTROPHE, Q_KEY_CODE_GRAVE_ACCENT,
    Q_KEY_CODE_BACKSLASH,
    Q_KEY_CODE_Z, Q_KEY_CODE_X, Q_KEY_CODE_C, Q_KEY_CODE_V, Q_KEY_CODE_B,
    Q_KEY_CODE_N, Q_KEY_CODE_M, Q_KEY_CODE_COMMA, Q_KEY_CODE_DOT,
    Q_KEY_CODE_SLASH, Q_KEY_CODE_ASTERISK, Q_KEY_CODE_SPC, Q_KEY_CODE_CAPS_LOCK,
    Q_KEY_CODE_F1, Q_KEY_CODE_F2, Q_KEY_CODE_F3, Q_KEY_CODE_F4, Q_KEY_CODE_F5,
    Q_KEY_CODE_F6, Q_KEY_CODE_F7, Q_KEY_CODE_F8, Q_KEY_CODE_F9, Q_KEY_CODE_F10,
    Q_KEY_CODE_NUM_LOCK, Q_KEY_CODE_SCROLL_LOCK,
    Q_KEY_CODE_KP_DIVIDE, Q_KEY_CODE_KP_MULTIPLY, Q_KEY_CODE_KP_SUBTRACT,
    Q_KEY_CODE_KP_ADD, Q_KEY_CODE_KP_ENTER, Q_KEY_CODE_KP_DECIMAL,
    Q_KEY_CODE_SYSRQ,
    Q_KEY_CODE_KP_0, Q_KEY_CODE_KP_1, Q_KEY_CODE_KP_2, Q_KEY_CODE_KP_3,
    Q_KEY_CODE_KP_4, Q_KEY_CODE_KP_5, Q_KEY_CODE_KP_6, Q_KEY_CODE_KP_7,
    Q_KEY_CODE_KP_8, Q_KEY_CODE_KP_9,
    Q_KEY_CODE_LESS, Q_KEY_CODE_F11, Q_KEY_CODE_F12, Q_KEY_CODE_PRINT,
    Q_KEY_CODE_HOME, Q_KEY_CODE_PGUP, Q_KEY_CODE_PGDN, Q_KEY_CODE_END,
    Q_KEY_CODE_LEFT, Q_KEY_CODE_UP, Q_KEY_CODE_DOWN, Q_KEY_CODE_RIGHT,
    Q_KEY_CODE_INSERT, Q_KEY_CODE_DELETE,
    Q_KEY_CODE_META_L, Q_KEY_CODE_META_R, Q_KEY_CODE_COMPOSE, Q_KEY_CODE_PAUSE,
    Q_KEY_CODE_RO, Q_KEY_CODE_YEN, Q_KEY_CODE_KP_COMMA, Q_KEY_CODE_KP_EQUALS,
    Q_KEY_CODE_POWER, Q_KEY_CODE_SLEEP, Q_KEY_CODE_WAKE,
    Q_KEY_CODE_AUDIOMUTE, Q_KEY_CODE_VOLUMEUP, Q_KEY_CODE_VOLUMEDOWN,
    Q_KEY_CODE__MAX
} QKeyCode;

typedef enum InputButton {
    INPUT_BUTTON_LEFT, INPUT_BUTTON_MIDDLE, INPUT_BUTTON_RIGHT,
    INPUT_BUTTON_WHEEL_UP, INPUT_BUTTON_WHEEL_DOWN, INPUT_BUTTON_SIDE,
    INPUT_BUTTON_EXTRA, INPUT_BUTTON_WHEEL_LEFT, INPUT_BUTTON_WHEEL_RIGHT,
    INPUT_BUTTON_TOUCH,
    INPUT_BUTTON__MAX
} InputButton;

typedef enum InputAxis { INPUT_AXIS_X, INPUT_AXIS_Y, INPUT_AXIS__MAX } InputAxis;

typedef enum InputEventKind {
    INPUT_EVENT_KIND_KEY, INPUT_EVENT_KIND_BTN, INPUT_EVENT_KIND_REL,
    INPUT_EVENT_KIND_ABS,
    INPUT_EVENT_KIND__MAX
} InputEventKind;

#define INPUT_EVENT_MASK_KEY (1u << INPUT_EVENT_KIND_KEY)
#define INPUT_EVENT_MASK_BTN (1u << INPUT_EVENT_KIND_BTN)
#define INPUT_EVENT_MASK_REL (1u << INPUT_EVENT_KIND_REL)
#define INPUT_EVENT_MASK_ABS (1u << INPUT_EVENT_KIND_ABS)

typedef struct InputEvent {
    InputEventKind kind;
    union {
        struct { QKeyCode qcode; bool down; } key;
        struct { InputButton button; bool down; } btn;
        struct { InputAxis axis; int64_t value; } move;     /* rel and abs */
    } u;
} InputEvent;

typedef struct QemuInputHandler {
    const char *name;           /* "QEMU PS/2 Mouse", shown by query-mice */
    uint32_t mask;              /* INPUT_EVENT_MASK_* it accepts */
    void (*event)(DeviceState *dev, const InputEvent *evt);
    void (*sync)(DeviceState *dev);     /* may be NULL */
} QemuInputHandler;

typedef struct QemuInputHandlerState QemuInputHandlerState;

/* Registered handlers start active (the newest first). */
QemuInputHandlerState *qemu_input_handler_register(DeviceState *dev,
                                                   const QemuInputHandler *handler);
void qemu_input_handler_activate(QemuInputHandlerState *s);
void qemu_input_handler_unregister(QemuInputHandlerState *s);

/* Whether some handler takes events of this kind. */
bool qemu_input_has_handler(InputEventKind kind);
void qemu_input_event_send(const InputEvent *evt);
void qemu_input_event_sync(void);
/* A key press or release, then a sync. */
void qemu_input_event_send_key_qcode(QKeyCode qcode, bool down);
/* Keys behind a delay: sent now if nothing waits, else queued; a delay
 * (<= 0 means 10 ms) holds back what follows, on the virtual clock. */
void qemu_input_event_send_key_queued(QKeyCode qcode, bool down);
void qemu_input_event_send_key_delay(int delay_ms);
void qemu_input_queue_btn(InputButton btn, bool down);
void qemu_input_queue_rel(InputAxis axis, int64_t value);

/* query-mice / info mice: one entry per pointer handler. */
typedef struct InputMouseInfo {
    const char *name;
    int index;
    bool current;
    bool absolute;
} InputMouseInfo;
/* Fills up to max entries, returns how many pointer handlers there are. */
int qemu_input_mice(InputMouseInfo *info, int max);

/* Key names and codes (ui/input-keymap.c). */
const char *qemu_input_qcode_name(QKeyCode qcode);      /* NULL if out of range */
/* QKeyCode for a name, or -1. */
int qemu_input_qcode_from_name(const char *name);
/* QEMU's "number" key values: set 1 codes, an E0-prefixed key as 0x80|code. */
int qemu_input_qcode_from_number(int number);
int qemu_input_qcode_to_number(QKeyCode qcode);
/*
 * The bytes a keyboard sends for a press or release in scan code set 1, 2
 * or 3 (with E0/E1 prefixes and F0 break prefixes); at most 8 bytes.
 * Returns the count, 0 for a key without a code in that set.
 */
int ps2_scancodes(QKeyCode qcode, bool down, int set, uint8_t *out);
/* The 8042's set 2 -> set 1 translation of one byte (not F0 handling). */
uint8_t ps2_translate_set2_byte(uint8_t code);

#endif

/*
 * Intel 8042 keyboard controller with a PS/2 keyboard and mouse ("i8042").
 *
 * "PORT 0060-006F - KEYBOARD CONTROLLER 804x (8041, 8042)"
 *   0x60  data: read the output buffer / write to the device or to the
 *         argument of the last controller command
 *   0x64  read: status register; write: controller command
 *
 * Status register:
 *   bit 0 OBF  output buffer full      bit 4 UNLOCKED (keyboard not inhibited)
 *   bit 1 IBF  input buffer full       bit 5 AUX_OBF (output buffer holds mouse data)
 *   bit 2 SYS  system flag (self-test) bit 6 timeout     bit 7 parity error
 *   bit 3 CMD  last write was a command
 * Command byte ("mode", commands 0x20/0x60):
 *   bit 0 KBD_INT  bit 1 AUX_INT  bit 2 SYS  bit 4 KBD_DISABLE
 *   bit 5 AUX_DISABLE  bit 6 XLATE (translate to scan code set 1)
 * Output port (commands 0xD0/0xD1):
 *   bit 0 system reset (active low)  bit 1 A20 gate
 *   bit 4 OBF (keyboard)  bit 5 OBF (mouse)
 *
 * Keyboard (data port): ED leds, EE echo, F0 get/set scan code set 1/2/3,
 *   F2 identify (AB 83), F3 typematic, F4/F5/F6 enable/disable/defaults,
 *   FF reset (AA); key codes of the current set, turned into set 1 by the
 *   controller when XLATE is on.
 * Mouse (after D4): E6/E7 scaling, E8 resolution, E9 status, EA stream,
 *   EB read data, F0 remote, F2 identify (0, 3 IntelliMouse, 4 Explorer
 *   after the sample-rate knocks), F3 sample rate, F4/F5/F6, FF reset
 *   (AA 00); packets of 3 bytes (4 with a wheel).
 * Key and pointer input comes from the input layer (ui/input.h); details
 * in docs/input.md.
 *
 * Every byte from the controller or a device is queued; the output buffer
 * is refilled from the queues when the guest reads it (controller replies
 * first, then keyboard, then mouse).
 */
#include <string.h>
#include <glib.h>

#include "hw/qdev.h"
#include "qemu/log.h"
#include "hw/isa/isa.h"
#include "hw/memory.h"
#include "hw/irq.h"
#include "hw/vmstate.h"
#include "hw/input/i8042.h"
#include "hw/acpi/aml.h"
#include "hw/platform-desc.h"
#include "system/runstate.h"
#include "ui/input.h"

#define I8042_DATA_PORT         0x60
#define I8042_CMD_PORT          0x64

/* Controller commands (port 0x64). */
#define KBD_CCMD_READ_MODE      0x20
#define KBD_CCMD_WRITE_MODE     0x60
#define KBD_CCMD_MOUSE_DISABLE  0xa7
#define KBD_CCMD_MOUSE_ENABLE   0xa8
#define KBD_CCMD_TEST_MOUSE     0xa9
#define KBD_CCMD_SELF_TEST      0xaa
#define KBD_CCMD_KBD_TEST       0xab
#define KBD_CCMD_KBD_DISABLE    0xad
#define KBD_CCMD_KBD_ENABLE     0xae
#define KBD_CCMD_READ_INPORT    0xc0
#define KBD_CCMD_READ_OUTPORT   0xd0
#define KBD_CCMD_WRITE_OUTPORT  0xd1
#define KBD_CCMD_WRITE_OBUF     0xd2
#define KBD_CCMD_WRITE_AUX_OBUF 0xd3
#define KBD_CCMD_WRITE_MOUSE    0xd4
#define KBD_CCMD_DISABLE_A20    0xdd
#define KBD_CCMD_ENABLE_A20     0xdf
#define KBD_CCMD_TEST_INPUTS    0xe0
#define KBD_CCMD_PULSE_BITS     0xf0    /* 0xf0-0xff: pulse output bits 3:0 low */
#define KBD_CCMD_RESET          0xfe

/* Keyboard commands (data port). */
#define KBD_CMD_SET_LEDS        0xed
#define KBD_CMD_ECHO            0xee
#define KBD_CMD_SCANCODE        0xf0
#define KBD_CMD_GET_ID          0xf2
#define KBD_CMD_SET_RATE        0xf3
#define KBD_CMD_ENABLE          0xf4
#define KBD_CMD_RESET_DISABLE   0xf5
#define KBD_CMD_RESET_ENABLE    0xf6
#define KBD_CMD_RESET           0xff

/* Replies. */
#define KBD_REPLY_POR           0xaa    /* power on reset / self-test passed */
#define KBD_REPLY_ID            0xab
#define KBD_REPLY_ACK           0xfa
#define KBD_REPLY_RESEND        0xfe

/* Mouse commands. */
#define AUX_SET_SCALE11         0xe6
#define AUX_SET_SCALE21         0xe7
#define AUX_SET_RES             0xe8
#define AUX_GET_SCALE           0xe9    /* status request */
#define AUX_SET_STREAM          0xea
#define AUX_POLL                0xeb
#define AUX_RESET_WRAP          0xec
#define AUX_SET_WRAP            0xee
#define AUX_SET_REMOTE          0xf0
#define AUX_GET_TYPE            0xf2
#define AUX_SET_SAMPLE          0xf3
#define AUX_ENABLE_DEV          0xf4
#define AUX_DISABLE_DEV         0xf5
#define AUX_SET_DEFAULT         0xf6
#define AUX_RESET               0xff

#define KBD_STAT_OBF            0x01
#define KBD_STAT_IBF            0x02
#define KBD_STAT_SELFTEST       0x04
#define KBD_STAT_CMD            0x08
#define KBD_STAT_UNLOCKED       0x10
#define KBD_STAT_MOUSE_OBF      0x20

#define KBD_MODE_KBD_INT        0x01
#define KBD_MODE_MOUSE_INT      0x02
#define KBD_MODE_SYS            0x04
#define KBD_MODE_DISABLE_KBD    0x10
#define KBD_MODE_DISABLE_MOUSE  0x20
#define KBD_MODE_KCC            0x40

#define KBD_OUT_RESET           0x01    /* 1 = normal, 0 = reset the CPU */
#define KBD_OUT_A20             0x02
#define KBD_OUT_OBF             0x10
#define KBD_OUT_MOUSE_OBF       0x20
#define KBD_OUT_ONES            0xcc

/*
 * As QEMU: key codes and packets fill a queue up to 16 bytes (and are
 * dropped whole beyond); command replies may use 8 bytes more, so that a
 * command always gets its answer.  The controller's own queue holds 16.
 */
#define I8042_QUEUE_SIZE        24
#define I8042_EVENT_LIMIT       16

typedef struct I8042Queue {
    uint8_t data[I8042_QUEUE_SIZE];
    uint8_t rptr;
    uint8_t count;
} I8042Queue;

typedef struct I8042State {
    DeviceState parent;

    /* properties */
    uint32_t kbd_irq_num;
    uint32_t mouse_irq_num;

    MemoryRegion io_data;
    MemoryRegion io_cmd;
    qemu_irq irq_kbd;
    qemu_irq irq_mouse;
    qemu_irq a20_out;           /* GPIO output "a20" */

    /* controller */
    uint8_t status;
    uint8_t mode;
    uint8_t outport;
    uint8_t write_cmd;          /* command waiting for its data byte, or 0 */
    uint8_t obdata;
    bool ob_aux;                /* the output buffer holds mouse data */
    I8042Queue ctrl_queue;      /* controller replies; ctrl_aux marks 0xD3 bytes */
    uint32_t ctrl_aux;          /* bit i: ctrl_queue slot i is mouse data */

    /* keyboard */
    I8042Queue kbd_queue;
    bool kbd_scan_enabled;
    uint8_t kbd_scancode_set;
    uint8_t kbd_write_cmd;
    uint8_t kbd_leds;
    uint8_t kbd_typematic;      /* 0xF3 argument: delay bits 6:5, rate 4:0 */
    QemuInputHandlerState *kbd_handler;

    /* mouse */
    I8042Queue mouse_queue;
    bool mouse_enabled;
    uint8_t mouse_write_cmd;
    uint8_t mouse_resolution;
    uint8_t mouse_sample_rate;
    uint8_t mouse_status;       /* bit 4 scaling 2:1, bit 6 remote mode */
    uint8_t mouse_type;         /* 0 PS/2, 3 IntelliMouse, 4 IntelliMouse Explorer */
    uint8_t mouse_detect;       /* progress of the 200,100|200,80 sample-rate knock */
    uint8_t mouse_buttons;      /* bit 0 left, 1 right, 2 middle, 3 side, 4 extra */
    int32_t mouse_dx, mouse_dy, mouse_dz;   /* not yet reported; dy positive up */
    bool mouse_dirty;           /* motion or a button change since the last packet */
    QemuInputHandlerState *mouse_handler;
} I8042State;

static void queue_reset(I8042Queue *q)
{
    q->rptr = 0;
    q->count = 0;
}

/* Returns the slot written, or -1 if the queue is full (byte dropped). */
static int queue_push(I8042Queue *q, uint8_t val)
{
    int slot;

    if (q->count >= I8042_QUEUE_SIZE) {
        return -1;
    }
    slot = (q->rptr + q->count) % I8042_QUEUE_SIZE;
    q->data[slot] = val;
    q->count++;
    return slot;
}

static uint8_t queue_pop(I8042Queue *q, int *slot)
{
    uint8_t val = q->data[q->rptr % I8042_QUEUE_SIZE];

    if (slot) {
        *slot = q->rptr % I8042_QUEUE_SIZE;
    }
    q->rptr = (q->rptr + 1) % I8042_QUEUE_SIZE;
    q->count--;
    return val;
}

static void i8042_update_irq(I8042State *s)
{
    bool obf = s->status & KBD_STAT_OBF;

    qemu_set_irq(s->irq_kbd, obf && !s->ob_aux && (s->mode & KBD_MODE_KBD_INT));
    qemu_set_irq(s->irq_mouse, obf && s->ob_aux && (s->mode & KBD_MODE_MOUSE_INT));
}

/* Move the next queued byte into an empty output buffer. */
static void i8042_refill(I8042State *s)
{
    if (!(s->status & KBD_STAT_OBF)) {
        int slot;

        if (s->ctrl_queue.count) {
            s->obdata = queue_pop(&s->ctrl_queue, &slot);
            s->ob_aux = s->ctrl_aux & (1u << slot);
            s->ctrl_aux &= ~(1u << slot);
            s->status |= KBD_STAT_OBF;
        } else if (s->kbd_queue.count && !(s->mode & KBD_MODE_DISABLE_KBD)) {
            s->obdata = queue_pop(&s->kbd_queue, NULL);
            s->ob_aux = false;
            s->status |= KBD_STAT_OBF;
        } else if (s->mouse_queue.count && !(s->mode & KBD_MODE_DISABLE_MOUSE)) {
            s->obdata = queue_pop(&s->mouse_queue, NULL);
            s->ob_aux = true;
            s->status |= KBD_STAT_OBF;
        }
    }
    s->status &= ~KBD_STAT_MOUSE_OBF;
    s->outport &= ~(KBD_OUT_OBF | KBD_OUT_MOUSE_OBF);
    if (s->status & KBD_STAT_OBF) {
        s->status |= s->ob_aux ? KBD_STAT_MOUSE_OBF : 0;
        s->outport |= s->ob_aux ? KBD_OUT_MOUSE_OBF : KBD_OUT_OBF;
    }
    i8042_update_irq(s);
}

static void i8042_ctrl_reply(I8042State *s, uint8_t val, bool aux)
{
    int slot = s->ctrl_queue.count < I8042_EVENT_LIMIT ? queue_push(&s->ctrl_queue, val) : -1;

    if (slot >= 0) {
        s->ctrl_aux = aux ? (s->ctrl_aux | (1u << slot)) : (s->ctrl_aux & ~(1u << slot));
    }
    i8042_refill(s);
}

static void kbd_reply(I8042State *s, uint8_t val)
{
    queue_push(&s->kbd_queue, val);
    i8042_refill(s);
}

static void mouse_reply(I8042State *s, uint8_t val)
{
    queue_push(&s->mouse_queue, val);
    i8042_refill(s);
}

/* Keyboard. */

static void kbd_reset_state(I8042State *s)
{
    s->kbd_scan_enabled = true;
    s->kbd_scancode_set = 2;
    s->kbd_write_cmd = 0;
    s->kbd_leds = 0;
    s->kbd_typematic = 0x2b;    /* 500 ms, 10.9 characters/s */
}

static void kbd_write(I8042State *s, uint8_t val)
{
    uint8_t cmd = s->kbd_write_cmd;

    s->kbd_write_cmd = 0;
    switch (cmd) {
    case KBD_CMD_SET_LEDS:
        s->kbd_leds = val & 7;
        kbd_reply(s, KBD_REPLY_ACK);
        return;
    case KBD_CMD_SET_RATE:
        s->kbd_typematic = val & 0x7f;
        kbd_reply(s, KBD_REPLY_ACK);
        return;
    case KBD_CMD_SCANCODE:
        if (val == 0) {
            static const uint8_t xlated[4] = { 0, 0x43, 0x41, 0x3f };

            kbd_reply(s, KBD_REPLY_ACK);
            kbd_reply(s, (s->mode & KBD_MODE_KCC) ? xlated[s->kbd_scancode_set]
                                                  : s->kbd_scancode_set);
        } else {
            if (val <= 3) {
                s->kbd_scancode_set = val;
            }
            kbd_reply(s, KBD_REPLY_ACK);
        }
        return;
    }

    switch (val) {
    case 0x05:
        kbd_reply(s, KBD_REPLY_RESEND);
        break;
    case KBD_CMD_ECHO:
        kbd_reply(s, KBD_CMD_ECHO);
        break;
    case KBD_CMD_GET_ID:
        /* An MF2 keyboard; the second ID byte is translated too. */
        kbd_reply(s, KBD_REPLY_ACK);
        kbd_reply(s, KBD_REPLY_ID);
        kbd_reply(s, (s->mode & KBD_MODE_KCC) ? 0x41 : 0x83);
        break;
    case KBD_CMD_ENABLE:
        s->kbd_scan_enabled = true;
        kbd_reply(s, KBD_REPLY_ACK);
        break;
    case KBD_CMD_RESET_DISABLE:
        kbd_reset_state(s);
        s->kbd_scan_enabled = false;
        kbd_reply(s, KBD_REPLY_ACK);
        break;
    case KBD_CMD_RESET_ENABLE:
        kbd_reset_state(s);
        kbd_reply(s, KBD_REPLY_ACK);
        break;
    case KBD_CMD_RESET:
        kbd_reset_state(s);
        kbd_reply(s, KBD_REPLY_ACK);
        kbd_reply(s, KBD_REPLY_POR);
        break;
    case KBD_CMD_SET_LEDS:
    case KBD_CMD_SET_RATE:
    case KBD_CMD_SCANCODE:
        s->kbd_write_cmd = val;
        kbd_reply(s, KBD_REPLY_ACK);
        break;
    default:
        kbd_reply(s, KBD_REPLY_ACK);
        break;
    }
}

/* Mouse. */

static void mouse_reset_state(I8042State *s)
{
    s->mouse_enabled = false;
    s->mouse_write_cmd = 0;
    s->mouse_resolution = 2;            /* 4 counts/mm */
    s->mouse_sample_rate = 100;
    s->mouse_status = 0;
    s->mouse_type = 0;
    s->mouse_detect = 0;
    s->mouse_dx = s->mouse_dy = s->mouse_dz = 0;
    s->mouse_dirty = false;
}

/* One packet from the motion gathered so far: 3 bytes, 4 with a wheel.
 * Byte 0: buttons (bits 2:0), bit 3 always 1, X/Y sign bits 4/5, X/Y
 * overflow bits 6/7 (motion beyond the 9-bit range is clamped and the rest
 * dropped).  Returns false when the queue has no room for it. */
static bool mouse_send_packet(I8042State *s)
{
    int len = s->mouse_type ? 4 : 3;
    int dx = s->mouse_dx, dy = s->mouse_dy, dz = s->mouse_dz;
    uint8_t b0;

    if (s->mouse_queue.count + len > I8042_EVENT_LIMIT) {
        return false;
    }
    b0 = 0x08 | (s->mouse_buttons & 7);
    if (dx > 255 || dx < -256) {
        b0 |= 0x40;
        dx = CLAMP(dx, -256, 255);
    }
    if (dy > 255 || dy < -256) {
        b0 |= 0x80;
        dy = CLAMP(dy, -256, 255);
    }
    b0 |= (dx < 0 ? 0x10 : 0) | (dy < 0 ? 0x20 : 0);
    queue_push(&s->mouse_queue, b0);
    queue_push(&s->mouse_queue, dx & 0xff);
    queue_push(&s->mouse_queue, dy & 0xff);
    if (s->mouse_type == 3) {
        dz = CLAMP(dz, -127, 127);
        queue_push(&s->mouse_queue, dz & 0xff);
    } else if (s->mouse_type == 4) {
        dz = CLAMP(dz, -7, 7);
        queue_push(&s->mouse_queue, (dz & 0x0f) | ((s->mouse_buttons & 0x18) << 1));
    } else {
        dz = s->mouse_dz;       /* no wheel on a plain PS/2 mouse */
    }
    s->mouse_dx = 0;
    s->mouse_dy = 0;
    s->mouse_dz -= dz;
    s->mouse_dirty = s->mouse_dz != 0;
    i8042_refill(s);
    return true;
}

static void mouse_write(I8042State *s, uint8_t val)
{
    uint8_t cmd = s->mouse_write_cmd;

    s->mouse_write_cmd = 0;
    if (cmd == AUX_SET_RES) {
        s->mouse_resolution = val & 3;
        mouse_reply(s, KBD_REPLY_ACK);
        return;
    }
    if (cmd == AUX_SET_SAMPLE) {
        s->mouse_sample_rate = val;
        /* The IntelliMouse knocks: 200,100,80 -> ID 3; 200,200,80 -> ID 4. */
        switch (s->mouse_detect) {
        case 1:
            s->mouse_detect = val == 100 ? 2 : val == 200 ? 3 : 0;
            break;
        case 2:
        case 3:
            if (val == 80) {
                s->mouse_type = s->mouse_detect == 2 ? 3 : 4;
            }
            s->mouse_detect = 0;
            break;
        default:
            s->mouse_detect = val == 200 ? 1 : 0;
            break;
        }
        mouse_reply(s, KBD_REPLY_ACK);
        return;
    }
    switch (val) {
    case AUX_SET_SCALE11:
        s->mouse_status &= ~0x10;
        mouse_reply(s, KBD_REPLY_ACK);
        break;
    case AUX_SET_SCALE21:
        s->mouse_status |= 0x10;
        mouse_reply(s, KBD_REPLY_ACK);
        break;
    case AUX_SET_RES:
    case AUX_SET_SAMPLE:
        s->mouse_write_cmd = val;
        mouse_reply(s, KBD_REPLY_ACK);
        break;
    case AUX_GET_SCALE:
        /* Status: bit 6 remote, 5 enabled, 4 scaling 2:1, 2:0 buttons L/M/R. */
        mouse_reply(s, KBD_REPLY_ACK);
        mouse_reply(s, s->mouse_status | (s->mouse_enabled ? 0x20 : 0) |
                       ((s->mouse_buttons & 1) << 2) | ((s->mouse_buttons & 4) >> 1) |
                       ((s->mouse_buttons & 2) >> 1));
        mouse_reply(s, s->mouse_resolution);
        mouse_reply(s, s->mouse_sample_rate);
        break;
    case AUX_POLL:
        mouse_reply(s, KBD_REPLY_ACK);
        mouse_send_packet(s);
        break;
    case AUX_SET_REMOTE:
        s->mouse_status |= 0x40;
        mouse_reply(s, KBD_REPLY_ACK);
        break;
    case AUX_SET_STREAM:
        s->mouse_status &= ~0x40;
        mouse_reply(s, KBD_REPLY_ACK);
        break;
    case AUX_GET_TYPE:
        mouse_reply(s, KBD_REPLY_ACK);
        mouse_reply(s, s->mouse_type);
        break;
    case AUX_ENABLE_DEV:
        s->mouse_enabled = true;
        mouse_reply(s, KBD_REPLY_ACK);
        break;
    case AUX_DISABLE_DEV:
        s->mouse_enabled = false;
        mouse_reply(s, KBD_REPLY_ACK);
        break;
    case AUX_SET_DEFAULT: {
        /* Defaults, but an IntelliMouse stays one (as QEMU): only reset does that. */
        uint8_t type = s->mouse_type;

        mouse_reset_state(s);
        s->mouse_type = type;
        mouse_reply(s, KBD_REPLY_ACK);
        break;
    }
    case AUX_RESET:
        mouse_reset_state(s);
        mouse_reply(s, KBD_REPLY_ACK);
        mouse_reply(s, KBD_REPLY_POR);
        mouse_reply(s, 0x00);
        break;
    default:
        /* Wrap mode (0xEE/0xEC) and anything else: acknowledged, no effect. */
        mouse_reply(s, KBD_REPLY_ACK);
        break;
    }
}

/* Controller. */

static void i8042_update_a20(I8042State *s)
{
    qemu_set_irq(s->a20_out, !!(s->outport & KBD_OUT_A20));
}

static void i8042_write_outport(I8042State *s, uint8_t val)
{
    s->outport = (val & ~(KBD_OUT_OBF | KBD_OUT_MOUSE_OBF)) |
                 (s->outport & (KBD_OUT_OBF | KBD_OUT_MOUSE_OBF));
    i8042_update_a20(s);
    if (!(val & KBD_OUT_RESET)) {
        qemu_log_mask(CPU_LOG_RESET, "i8042: reset by output port write 0x%02x\n", val);
        qemu_system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
    }
}

static void i8042_write_command(I8042State *s, uint8_t val)
{
    /* 0xf0-0xff pulse output port bits 3:0 low; bit 0 is the reset line. */
    if ((val & KBD_CCMD_PULSE_BITS) == KBD_CCMD_PULSE_BITS) {
        if (!(val & 1)) {
            qemu_log_mask(CPU_LOG_RESET, "i8042: reset by command 0x%02x\n", val);
            qemu_system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
        }
        return;
    }
    switch (val) {
    case KBD_CCMD_READ_MODE:
        i8042_ctrl_reply(s, s->mode, false);
        break;
    case KBD_CCMD_WRITE_MODE:
    case KBD_CCMD_WRITE_OUTPORT:
    case KBD_CCMD_WRITE_OBUF:
    case KBD_CCMD_WRITE_AUX_OBUF:
    case KBD_CCMD_WRITE_MOUSE:
        s->write_cmd = val;
        break;
    case KBD_CCMD_MOUSE_DISABLE:
        s->mode |= KBD_MODE_DISABLE_MOUSE;
        break;
    case KBD_CCMD_MOUSE_ENABLE:
        s->mode &= ~KBD_MODE_DISABLE_MOUSE;
        i8042_refill(s);
        break;
    case KBD_CCMD_TEST_MOUSE:
    case KBD_CCMD_KBD_TEST:
        i8042_ctrl_reply(s, 0x00, false);       /* no error */
        break;
    case KBD_CCMD_SELF_TEST:
        s->status |= KBD_STAT_SELFTEST;
        i8042_ctrl_reply(s, 0x55, false);
        break;
    case KBD_CCMD_KBD_DISABLE:
        s->mode |= KBD_MODE_DISABLE_KBD;
        i8042_update_irq(s);
        break;
    case KBD_CCMD_KBD_ENABLE:
        s->mode &= ~KBD_MODE_DISABLE_KBD;
        i8042_refill(s);
        break;
    case KBD_CCMD_READ_INPORT:
        i8042_ctrl_reply(s, 0x80, false);       /* keyboard not inhibited */
        break;
    case KBD_CCMD_READ_OUTPORT:
        i8042_ctrl_reply(s, s->outport, false);
        break;
    case KBD_CCMD_DISABLE_A20:
        s->outport &= ~KBD_OUT_A20;
        i8042_update_a20(s);
        break;
    case KBD_CCMD_ENABLE_A20:
        s->outport |= KBD_OUT_A20;
        i8042_update_a20(s);
        break;
    case KBD_CCMD_TEST_INPUTS:
        i8042_ctrl_reply(s, 0x00, false);
        break;
    default:
        /* Unsupported commands are ignored, as on QEMU. */
        break;
    }
}

static void i8042_write_data(I8042State *s, uint8_t val)
{
    uint8_t cmd = s->write_cmd;

    s->write_cmd = 0;
    switch (cmd) {
    case 0:
        /* Sending to the keyboard enables its interface again. */
        s->mode &= ~KBD_MODE_DISABLE_KBD;
        kbd_write(s, val);
        break;
    case KBD_CCMD_WRITE_MODE:
        s->mode = val;
        if (val & KBD_MODE_SYS) {
            s->status |= KBD_STAT_SELFTEST;
        }
        i8042_refill(s);
        break;
    case KBD_CCMD_WRITE_OUTPORT:
        i8042_write_outport(s, val);
        break;
    case KBD_CCMD_WRITE_OBUF:
        i8042_ctrl_reply(s, val, false);
        break;
    case KBD_CCMD_WRITE_AUX_OBUF:
        i8042_ctrl_reply(s, val, true);
        break;
    case KBD_CCMD_WRITE_MOUSE:
        s->mode &= ~KBD_MODE_DISABLE_MOUSE;
        mouse_write(s, val);
        break;
    }
}

static uint8_t i8042_read_data(I8042State *s)
{
    uint8_t val = s->obdata;

    /* With nothing new, the last byte is read again.  The read lowers
     * IRQ 1/12 before the next queued byte raises it again: an edge per
     * byte, as the PIC (edge triggered on the ISA bus) needs; without the
     * pulse a byte that arrived before the guest read the previous one
     * would sit in the output buffer unannounced (QEMU does the same). */
    s->status &= ~KBD_STAT_OBF;
    qemu_set_irq(s->irq_kbd, 0);
    qemu_set_irq(s->irq_mouse, 0);
    i8042_refill(s);
    return val;
}

static uint64_t i8042_data_read(void *opaque, uint64_t addr, unsigned size)
{
    return i8042_read_data(opaque);
}

static void i8042_data_write(void *opaque, uint64_t addr, uint64_t data, unsigned size)
{
    i8042_write_data(opaque, data);
}

static uint64_t i8042_cmd_read(void *opaque, uint64_t addr, unsigned size)
{
    I8042State *s = opaque;

    return s->status;
}

static void i8042_cmd_write(void *opaque, uint64_t addr, uint64_t data, unsigned size)
{
    i8042_write_command(opaque, data);
}

static const MemoryRegionOps i8042_data_ops = {
    .read = i8042_data_read,
    .write = i8042_data_write,
    .valid = { .min_access_size = 1, .max_access_size = 1 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

static const MemoryRegionOps i8042_cmd_ops = {
    .read = i8042_cmd_read,
    .write = i8042_cmd_write,
    .valid = { .min_access_size = 1, .max_access_size = 1 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

/* Public input and state functions. */

void i8042_kbd_put_scancode(DeviceState *dev, const uint8_t *codes, int len)
{
    I8042State *s = (I8042State *)dev;
    uint8_t out[16];
    bool brk = false;
    int i, n = 0;

    if (!s->kbd_scan_enabled || len <= 0 || len > (int)sizeof(out)) {
        return;
    }
    /* With XLATE the controller turns the keyboard's set 2 bytes into set 1:
     * an F0 break prefix becomes bit 7 of the next byte. */
    for (i = 0; i < len; i++) {
        if (!(s->mode & KBD_MODE_KCC)) {
            out[n++] = codes[i];
        } else if (codes[i] == 0xf0) {
            brk = true;
        } else {
            out[n++] = ps2_translate_set2_byte(codes[i]) | (brk ? 0x80 : 0);
            brk = false;
        }
    }
    if (s->kbd_queue.count + n > I8042_EVENT_LIMIT) {
        return;         /* never deliver half a key sequence */
    }
    for (i = 0; i < n; i++) {
        queue_push(&s->kbd_queue, out[i]);
    }
    i8042_refill(s);
}

bool i8042_kbd_translating(DeviceState *dev)
{
    return ((I8042State *)dev)->mode & KBD_MODE_KCC;
}

int i8042_kbd_scancode_set(DeviceState *dev)
{
    return ((I8042State *)dev)->kbd_scancode_set;
}

uint8_t i8042_kbd_leds(DeviceState *dev)
{
    return ((I8042State *)dev)->kbd_leds;
}

uint8_t i8042_kbd_typematic(DeviceState *dev)
{
    return ((I8042State *)dev)->kbd_typematic;
}

static void i8042_mouse_sync(DeviceState *dev)
{
    I8042State *s = (I8042State *)dev;

    if (!s->mouse_enabled || (s->mouse_status & 0x40)) {
        return;
    }
    /* Streaming: a packet per sync after a change, more while the wheel has more. */
    while (s->mouse_dirty && mouse_send_packet(s)) {
    }
}

void i8042_mouse_put_event(DeviceState *dev, int dx, int dy, unsigned buttons)
{
    I8042State *s = (I8042State *)dev;

    if (!s->mouse_enabled) {
        return;
    }
    s->mouse_dx += CLAMP(dx, -4096, 4096);
    s->mouse_dy += CLAMP(dy, -4096, 4096);
    s->mouse_buttons = buttons & 0x1f;
    s->mouse_dirty = true;
    i8042_mouse_sync(dev);
}

/* Input layer handlers. */

static void i8042_kbd_event(DeviceState *dev, const InputEvent *evt)
{
    I8042State *s = (I8042State *)dev;
    uint8_t codes[8];
    int n;

    if (evt->kind != INPUT_EVENT_KIND_KEY) {
        return;
    }
    n = ps2_scancodes(evt->u.key.qcode, evt->u.key.down, s->kbd_scancode_set, codes);
    if (n) {
        i8042_kbd_put_scancode(dev, codes, n);
    }
}

static void i8042_mouse_event(DeviceState *dev, const InputEvent *evt)
{
    static const uint8_t bits[INPUT_BUTTON__MAX] = {
        [INPUT_BUTTON_LEFT] = 0x01, [INPUT_BUTTON_RIGHT] = 0x02,
        [INPUT_BUTTON_MIDDLE] = 0x04, [INPUT_BUTTON_SIDE] = 0x08,
        [INPUT_BUTTON_EXTRA] = 0x10,
    };
    I8042State *s = (I8042State *)dev;

    if (!s->mouse_enabled) {
        return;         /* as QEMU: motion while disabled is not kept */
    }
    s->mouse_dirty = true;
    switch (evt->kind) {
    case INPUT_EVENT_KIND_REL: {
        int64_t v = CLAMP(evt->u.move.value, -4096, 4096);

        if (evt->u.move.axis == INPUT_AXIS_X) {
            s->mouse_dx = CLAMP(s->mouse_dx + v, -4096, 4096);
        } else if (evt->u.move.axis == INPUT_AXIS_Y) {
            s->mouse_dy = CLAMP(s->mouse_dy - v, -4096, 4096);   /* PS/2: up is positive */
        }
        break;
    }
    case INPUT_EVENT_KIND_BTN:
        if ((unsigned)evt->u.btn.button >= INPUT_BUTTON__MAX) {
            break;
        }
        if (evt->u.btn.down && evt->u.btn.button == INPUT_BUTTON_WHEEL_UP) {
            s->mouse_dz = MAX(s->mouse_dz - 1, -4096);
        } else if (evt->u.btn.down && evt->u.btn.button == INPUT_BUTTON_WHEEL_DOWN) {
            s->mouse_dz = MIN(s->mouse_dz + 1, 4096);
        } else if (evt->u.btn.down) {
            s->mouse_buttons |= bits[evt->u.btn.button];
        } else {
            s->mouse_buttons &= ~bits[evt->u.btn.button];
        }
        break;
    default:
        break;
    }
}

static const QemuInputHandler i8042_kbd_handler = {
    .name = "QEMU PS/2 Keyboard",
    .mask = INPUT_EVENT_MASK_KEY,
    .event = i8042_kbd_event,
};

static const QemuInputHandler i8042_mouse_handler = {
    .name = "QEMU PS/2 Mouse",
    .mask = INPUT_EVENT_MASK_BTN | INPUT_EVENT_MASK_REL,
    .event = i8042_mouse_event,
    .sync = i8042_mouse_sync,
};

bool i8042_a20_enabled(DeviceState *dev)
{
    return ((I8042State *)dev)->outport & KBD_OUT_A20;
}

/* Life cycle. */

static void i8042_reset(DeviceState *dev)
{
    I8042State *s = (I8042State *)dev;

    s->mode = KBD_MODE_KBD_INT | KBD_MODE_MOUSE_INT;
    s->status = KBD_STAT_CMD | KBD_STAT_UNLOCKED;
    s->outport = KBD_OUT_RESET | KBD_OUT_A20 | KBD_OUT_ONES;
    s->write_cmd = 0;
    s->obdata = 0;
    s->ob_aux = false;
    s->ctrl_aux = 0;
    queue_reset(&s->ctrl_queue);
    queue_reset(&s->kbd_queue);
    queue_reset(&s->mouse_queue);
    kbd_reset_state(s);
    mouse_reset_state(s);
    i8042_refill(s);
    i8042_update_a20(s);
}

static void i8042_realize(DeviceState *dev, Error **errp)
{
    I8042State *s = (I8042State *)dev;

    if (s->kbd_irq_num > 15 || s->mouse_irq_num > 15) {
        error_setg(errp, "isa irq %u invalid",
                   s->kbd_irq_num > 15 ? s->kbd_irq_num : s->mouse_irq_num);
        return;
    }
    s->irq_kbd = isa_claim_irq(dev, s->kbd_irq_num, 0);
    s->irq_mouse = isa_claim_irq(dev, s->mouse_irq_num, 0);
    memory_region_init_io(&s->io_data, &i8042_data_ops, s, "i8042-data", 1);
    memory_region_init_io(&s->io_cmd, &i8042_cmd_ops, s, "i8042-cmd", 1);
    isa_register_ioport(dev, &s->io_data, I8042_DATA_PORT);
    isa_register_ioport(dev, &s->io_cmd, I8042_CMD_PORT);
    qdev_init_gpio_out_named(dev, &s->a20_out, I8042_A20_LINE, 1);
    s->kbd_handler = qemu_input_handler_register(dev, &i8042_kbd_handler);
    s->mouse_handler = qemu_input_handler_register(dev, &i8042_mouse_handler);
}

static void i8042_unrealize(DeviceState *dev)
{
    I8042State *s = (I8042State *)dev;

    memory_region_destroy(&s->io_data);
    memory_region_destroy(&s->io_cmd);
    qemu_input_handler_unregister(s->kbd_handler);
    qemu_input_handler_unregister(s->mouse_handler);
    s->kbd_handler = s->mouse_handler = NULL;
}

static int i8042_post_load(void *opaque, int version_id)
{
    I8042State *s = opaque;

    s->ctrl_queue.rptr %= I8042_QUEUE_SIZE;
    s->kbd_queue.rptr %= I8042_QUEUE_SIZE;
    s->mouse_queue.rptr %= I8042_QUEUE_SIZE;
    s->ctrl_queue.count = MIN(s->ctrl_queue.count, I8042_EVENT_LIMIT);
    s->kbd_queue.count = MIN(s->kbd_queue.count, I8042_QUEUE_SIZE);
    s->mouse_queue.count = MIN(s->mouse_queue.count, I8042_QUEUE_SIZE);
    if (s->kbd_scancode_set < 1 || s->kbd_scancode_set > 3) {
        s->kbd_scancode_set = 2;
    }
    if (s->mouse_type != 3 && s->mouse_type != 4) {
        s->mouse_type = 0;
    }
    s->mouse_detect = MIN(s->mouse_detect, 3);
    s->mouse_buttons &= 0x1f;
    s->mouse_dx = CLAMP(s->mouse_dx, -4096, 4096);
    s->mouse_dy = CLAMP(s->mouse_dy, -4096, 4096);
    s->mouse_dz = CLAMP(s->mouse_dz, -4096, 4096);
    i8042_refill(s);
    i8042_update_a20(s);
    return 0;
}

static const VMStateField i8042_queue_fields[] = {
    VMSTATE_UINT8_ARRAY(data, I8042Queue, I8042_QUEUE_SIZE),
    VMSTATE_UINT8(rptr, I8042Queue),
    VMSTATE_UINT8(count, I8042Queue),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_i8042_queue = {
    .name = "i8042/queue",
    .version_id = 2,
    .minimum_version_id = 2,
    .fields = i8042_queue_fields,
};

static const VMStateField i8042_fields[] = {
    VMSTATE_UINT8(status, I8042State),
    VMSTATE_UINT8(mode, I8042State),
    VMSTATE_UINT8(outport, I8042State),
    VMSTATE_UINT8(write_cmd, I8042State),
    VMSTATE_UINT8(obdata, I8042State),
    VMSTATE_BOOL(ob_aux, I8042State),
    VMSTATE_STRUCT(ctrl_queue, I8042State, vmstate_i8042_queue, I8042Queue),
    VMSTATE_UINT32(ctrl_aux, I8042State),
    VMSTATE_STRUCT(kbd_queue, I8042State, vmstate_i8042_queue, I8042Queue),
    VMSTATE_BOOL(kbd_scan_enabled, I8042State),
    VMSTATE_UINT8(kbd_scancode_set, I8042State),
    VMSTATE_UINT8(kbd_write_cmd, I8042State),
    VMSTATE_UINT8(kbd_leds, I8042State),
    VMSTATE_STRUCT(mouse_queue, I8042State, vmstate_i8042_queue, I8042Queue),
    VMSTATE_BOOL(mouse_enabled, I8042State),
    VMSTATE_UINT8(mouse_write_cmd, I8042State),
    VMSTATE_UINT8(mouse_resolution, I8042State),
    VMSTATE_UINT8(mouse_sample_rate, I8042State),
    VMSTATE_UINT8(mouse_status, I8042State),
    VMSTATE_UINT8_V(kbd_typematic, I8042State, 2),
    VMSTATE_UINT8_V(mouse_type, I8042State, 2),
    VMSTATE_UINT8_V(mouse_detect, I8042State, 2),
    VMSTATE_UINT8_V(mouse_buttons, I8042State, 2),
    VMSTATE_INT32_V(mouse_dx, I8042State, 2),
    VMSTATE_INT32_V(mouse_dy, I8042State, 2),
    VMSTATE_INT32_V(mouse_dz, I8042State, 2),
    VMSTATE_BOOL_V(mouse_dirty, I8042State, 2),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_i8042 = {
    .name = "pckbd",
    .version_id = 2,
    .minimum_version_id = 2,    /* v2: 24-byte queues, mouse type and motion */
    .post_load = i8042_post_load,
    .fields = i8042_fields,
};

/* "8042 present" for the FADT, and two DSDT nodes as on a real PC: the
 * keyboard (PNP0303) with the controller's ports and IRQ, the PS/2 mouse
 * (PNP0F13) with its IRQ. */
static void i8042_describe(DeviceState *dev, PlatformDesc *pd)
{
    I8042State *s = (I8042State *)dev;
    g_autoptr(GByteArray) kbd = g_byte_array_new();
    g_autoptr(GByteArray) kbd_res = g_byte_array_new();
    g_autoptr(GByteArray) mou = g_byte_array_new();
    g_autoptr(GByteArray) mou_res = g_byte_array_new();

    pd->iapc_boot_arch |= PLATFORM_IAPC_8042;
    aml_res_io(kbd_res, I8042_DATA_PORT, I8042_DATA_PORT, 1, 1);
    aml_res_io(kbd_res, I8042_CMD_PORT, I8042_CMD_PORT, 1, 1);
    aml_res_irq(kbd_res, s->kbd_irq_num, 0);
    aml_name_eisaid(kbd, "_HID", "PNP0303");
    aml_name_crs(kbd, kbd_res);
    aml_device(pd->aml_sb, "KBD_", kbd);
    aml_res_irq(mou_res, s->mouse_irq_num, 0);
    aml_name_eisaid(mou, "_HID", "PNP0F13");
    aml_name_crs(mou, mou_res);
    aml_device(pd->aml_sb, "MOU_", mou);
}

static const Property i8042_props[] = {
    DEFINE_PROP_UINT32("kbd-irq", I8042State, kbd_irq_num, 1),
    DEFINE_PROP_UINT32("mouse-irq", I8042State, mouse_irq_num, 12),
    DEFINE_PROP_END_OF_LIST(),
};

static const DeviceClass i8042_class = {
    .name = "i8042",
    .desc = "i8042 keyboard controller with PS/2 keyboard and mouse",
    .bus_type = "ISA",
    .category = DEVICE_CATEGORY_INPUT,
    .user_creatable = false,
    .instance_size = sizeof(I8042State),
    .props = i8042_props,
    .vmsd = &vmstate_i8042,
    .realize = i8042_realize,
    .unrealize = i8042_unrealize,
    .reset = i8042_reset,
    .describe = i8042_describe,
};

DEVICE_CLASS_REGISTER(i8042_class)

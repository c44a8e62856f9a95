/*
 * The input layer: routes key, button and motion events from the
 * frontends (monitor commands, a display) to the emulated input devices.
 * As QEMU: each event goes to the first handler in the list that accepts
 * its kind, and a handler moves to the front of the list when registered
 * or activated.  Pointer devices gather rel/btn events and turn them into
 * a packet on sync.
 */
#include <glib.h>

#include "ui/input.h"
#include "system/main-loop.h"

struct QemuInputHandlerState {
    DeviceState *dev;
    const QemuInputHandler *handler;
    int id;
};

static GList *handlers;         /* of QemuInputHandlerState, the active first */
static int next_id;

QemuInputHandlerState *qemu_input_handler_register(DeviceState *dev,
                                                   const QemuInputHandler *handler)
{
    QemuInputHandlerState *s = g_new0(QemuInputHandlerState, 1);

    s->dev = dev;
    s->handler = handler;
    s->id = next_id++;
    handlers = g_list_prepend(handlers, s);
    return s;
}

void qemu_input_handler_activate(QemuInputHandlerState *s)
{
    if (s && g_list_find(handlers, s)) {
        handlers = g_list_remove(handlers, s);
        handlers = g_list_prepend(handlers, s);
    }
}

void qemu_input_handler_unregister(QemuInputHandlerState *s)
{
    if (s) {
        handlers = g_list_remove(handlers, s);
        g_free(s);
    }
}

static QemuInputHandlerState *find_handler(InputEventKind kind)
{
    for (GList *l = handlers; l; l = l->next) {
        QemuInputHandlerState *s = l->data;

        if (s->handler->mask & (1u << kind)) {
            return s;
        }
    }
    return NULL;
}

bool qemu_input_has_handler(InputEventKind kind)
{
    return find_handler(kind) != NULL;
}

void qemu_input_event_send(const InputEvent *evt)
{
    QemuInputHandlerState *s;

    if (evt->kind >= INPUT_EVENT_KIND__MAX) {
        return;
    }
    s = find_handler(evt->kind);
    if (s) {
        s->handler->event(s->dev, evt);
    }
}

void qemu_input_event_sync(void)
{
    for (GList *l = handlers; l; l = l->next) {
        QemuInputHandlerState *s = l->data;

        if (s->handler->sync) {
            s->handler->sync(s->dev);
        }
    }
}

void qemu_input_event_send_key_qcode(QKeyCode qcode, bool down)
{
    InputEvent e = { .kind = INPUT_EVENT_KIND_KEY };

    e.u.key.qcode = qcode;
    e.u.key.down = down;
    qemu_input_event_send(&e);
    qemu_input_event_sync();
}

void qemu_input_queue_btn(InputButton btn, bool down)
{
    InputEvent e = { .kind = INPUT_EVENT_KIND_BTN };

    e.u.btn.button = btn;
    e.u.btn.down = down;
    qemu_input_event_send(&e);
}

void qemu_input_queue_rel(InputAxis axis, int64_t value)
{
    InputEvent e = { .kind = INPUT_EVENT_KIND_REL };

    e.u.move.axis = axis;
    e.u.move.value = value;
    qemu_input_event_send(&e);
}

int qemu_input_mice(InputMouseInfo *info, int max)
{
    QemuInputHandlerState *cur = find_handler(INPUT_EVENT_KIND_REL);
    QemuInputHandlerState *cur_abs = find_handler(INPUT_EVENT_KIND_ABS);
    int n = 0;

    /* A relative device is current when it gets rel events; QEMU marks
     * the first pointer handler (rel or abs) as current. */
    if (!cur) {
        cur = cur_abs;
    }
    for (GList *l = handlers; l; l = l->next) {
        QemuInputHandlerState *s = l->data;

        if (!(s->handler->mask & (INPUT_EVENT_MASK_REL | INPUT_EVENT_MASK_ABS))) {
            continue;
        }
        if (n < max) {
            info[n].name = s->handler->name;
            info[n].index = s->id;
            info[n].current = s == cur;
            info[n].absolute = s->handler->mask & INPUT_EVENT_MASK_ABS;
        }
        n++;
    }
    return n;
}

/*
 * Keys with delays (send-key's hold time), as QEMU: while something is
 * queued, keys and delays go behind it; a delay arms a virtual-clock
 * timer and the keys after it are sent when it fires.  At most
 * INPUT_QUEUE_LIMIT entries; more are dropped.
 */
#define INPUT_QUEUE_LIMIT 1024

typedef struct InputQueueEntry {
    bool is_delay;
    int delay_ms;
    QKeyCode qcode;
    bool down;
} InputQueueEntry;

static GQueue key_queue = G_QUEUE_INIT;
static QEMUTimer *key_timer;

static void input_queue_run(void *opaque)
{
    InputQueueEntry *e;

    while ((e = g_queue_pop_head(&key_queue))) {
        if (e->is_delay) {
            timer_mod(key_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
                                 (int64_t)e->delay_ms * SCALE_MS);
            g_free(e);
            return;
        }
        qemu_input_event_send_key_qcode(e->qcode, e->down);
        g_free(e);
    }
}

static void input_queue_add(InputQueueEntry *e)
{
    if (g_queue_get_length(&key_queue) >= INPUT_QUEUE_LIMIT) {
        g_free(e);
        return;
    }
    g_queue_push_tail(&key_queue, e);
}

void qemu_input_event_send_key_queued(QKeyCode qcode, bool down)
{
    InputQueueEntry *e;

    if (g_queue_is_empty(&key_queue) && !(key_timer && timer_pending(key_timer))) {
        qemu_input_event_send_key_qcode(qcode, down);
        return;
    }
    e = g_new0(InputQueueEntry, 1);
    e->qcode = qcode;
    e->down = down;
    input_queue_add(e);
}

void qemu_input_event_send_key_delay(int delay_ms)
{
    InputQueueEntry *e = g_new0(InputQueueEntry, 1);
    bool start;

    if (!key_timer) {
        key_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, input_queue_run, NULL);
    }
    start = g_queue_is_empty(&key_queue) && !timer_pending(key_timer);
    e->is_delay = true;
    e->delay_ms = delay_ms > 0 ? delay_ms : 10;
    input_queue_add(e);
    if (start) {
        input_queue_run(NULL);
    }
}

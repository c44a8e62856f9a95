/*
 * The keycode tables of ui/input-keymap.c: names, QEMU's key numbers, the
 * scan codes of sets 1, 2 and 3 and the 8042's set 2 -> set 1 translation;
 * and the routing of ui/input.c.
 */
#include <string.h>
#include <glib.h>

#include "ui/input.h"

static int codes(QKeyCode q, bool down, int set, uint8_t *out)
{
    memset(out, 0xcc, 8);
    return ps2_scancodes(q, down, set, out);
}

#define ASSERT_CODES(q, down, set, ...) do {                            \
        static const uint8_t want_[] = { __VA_ARGS__ };                 \
        uint8_t got_[8];                                                \
        int n_ = codes(q, down, set, got_);                             \
        g_assert_cmpmem(got_, n_, want_, sizeof(want_));                \
    } while (0)

static void test_names(void)
{
    for (int i = 0; i < Q_KEY_CODE__MAX; i++) {
        const char *name = qemu_input_qcode_name(i);

        g_assert_nonnull(name);
        g_assert_cmpint(qemu_input_qcode_from_name(name), ==, i);
    }
    g_assert_null(qemu_input_qcode_name(Q_KEY_CODE__MAX));
    g_assert_cmpint(qemu_input_qcode_from_name("ctrl"), ==, Q_KEY_CODE_CTRL);
    g_assert_cmpint(qemu_input_qcode_from_name("nosuch"), ==, -1);
    g_assert_cmpint(qemu_input_qcode_from_name(NULL), ==, -1);
    /* numbers: set 1 codes, E0 keys with bit 7 */
    g_assert_cmpint(qemu_input_qcode_from_number(0x1e), ==, Q_KEY_CODE_A);
    g_assert_cmpint(qemu_input_qcode_from_number(0xd3), ==, Q_KEY_CODE_DELETE);
    g_assert_cmpint(qemu_input_qcode_to_number(Q_KEY_CODE_DELETE), ==, 0xd3);
    g_assert_cmpint(qemu_input_qcode_from_number(0), ==, Q_KEY_CODE_UNMAPPED);
    g_assert_cmpint(qemu_input_qcode_from_number(0x7f), ==, Q_KEY_CODE_UNMAPPED);
    g_assert_cmpint(qemu_input_qcode_from_number(-5), ==, Q_KEY_CODE_UNMAPPED);
    g_assert_cmpint(qemu_input_qcode_from_number(0x1000), ==, Q_KEY_CODE_UNMAPPED);
}

static void test_scancodes(void)
{
    ASSERT_CODES(Q_KEY_CODE_A, true, 1, 0x1e);
    ASSERT_CODES(Q_KEY_CODE_A, false, 1, 0x9e);
    ASSERT_CODES(Q_KEY_CODE_A, true, 2, 0x1c);
    ASSERT_CODES(Q_KEY_CODE_A, false, 2, 0xf0, 0x1c);
    ASSERT_CODES(Q_KEY_CODE_A, false, 3, 0xf0, 0x1c);
    ASSERT_CODES(Q_KEY_CODE_ESC, true, 3, 0x08);
    ASSERT_CODES(Q_KEY_CODE_F7, true, 2, 0x83);
    ASSERT_CODES(Q_KEY_CODE_ALT_R, true, 1, 0xe0, 0x38);
    ASSERT_CODES(Q_KEY_CODE_ALT_R, false, 1, 0xe0, 0xb8);
    ASSERT_CODES(Q_KEY_CODE_ALT_R, false, 2, 0xe0, 0xf0, 0x11);
    ASSERT_CODES(Q_KEY_CODE_PRINT, true, 1, 0xe0, 0x2a, 0xe0, 0x37);
    ASSERT_CODES(Q_KEY_CODE_PRINT, false, 2, 0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12);
    ASSERT_CODES(Q_KEY_CODE_PAUSE, true, 2, 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77);
    ASSERT_CODES(Q_KEY_CODE_PAUSE, true, 1, 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5);
    {
        uint8_t out[8];

        g_assert_cmpint(codes(Q_KEY_CODE_PAUSE, false, 2, out), ==, 0);
        g_assert_cmpint(codes(Q_KEY_CODE_MENU, true, 2, out), ==, 0);
        g_assert_cmpint(codes(Q_KEY_CODE_UNMAPPED, true, 1, out), ==, 0);
        g_assert_cmpint(codes(Q_KEY_CODE__MAX, true, 1, out), ==, 0);
        g_assert_cmpint(codes(Q_KEY_CODE_A, true, 4, out), ==, 0);
    }
}

/* For every key, translating its set 2 bytes (F0 -> bit 7) gives set 1. */
static void test_translation(void)
{
    for (int q = 1; q < Q_KEY_CODE__MAX; q++) {
        for (int down = 0; down < 2; down++) {
            uint8_t s1[8], s2[8], x[8];
            int n1 = codes(q, down, 1, s1);
            int n2 = codes(q, down, 2, s2);
            int n = 0;
            bool brk = false;

            for (int i = 0; i < n2; i++) {
                if (s2[i] == 0xf0) {
                    brk = true;
                    continue;
                }
                x[n++] = ps2_translate_set2_byte(s2[i]) | (brk ? 0x80 : 0);
                brk = false;
            }
            g_assert_cmpmem(x, n, s1, n1);
        }
    }
    g_assert_cmphex(ps2_translate_set2_byte(0x83), ==, 0x41);
    g_assert_cmphex(ps2_translate_set2_byte(0xe0), ==, 0xe0);
}

static int key_events, rel_x, syncs;
static QKeyCode last_key;

static void kbd_event(DeviceState *dev, const InputEvent *e)
{
    key_events++;
    last_key = e->u.key.qcode;
}

static void mouse_event(DeviceState *dev, const InputEvent *e)
{
    if (e->kind == INPUT_EVENT_KIND_REL && e->u.move.axis == INPUT_AXIS_X) {
        rel_x += e->u.move.value;
    }
}

static void mouse_sync(DeviceState *dev)
{
    syncs++;
}

static void test_routing(void)
{
    static const QemuInputHandler kh = { "kbd", INPUT_EVENT_MASK_KEY, kbd_event, NULL };
    static const QemuInputHandler mh = { "mouse", INPUT_EVENT_MASK_REL | INPUT_EVENT_MASK_BTN,
                                         mouse_event, mouse_sync };
    QemuInputHandlerState *k, *m1, *m2;
    InputMouseInfo info[4];

    g_assert_false(qemu_input_has_handler(INPUT_EVENT_KIND_KEY));
    qemu_input_event_send_key_qcode(Q_KEY_CODE_A, true);    /* nobody: nothing */
    k = qemu_input_handler_register(NULL, &kh);
    m1 = qemu_input_handler_register(NULL, &mh);
    m2 = qemu_input_handler_register(NULL, &mh);
    qemu_input_event_send_key_qcode(Q_KEY_CODE_B, true);
    g_assert_cmpint(key_events, ==, 1);
    g_assert_cmpint(last_key, ==, Q_KEY_CODE_B);
    g_assert_false(qemu_input_has_handler(INPUT_EVENT_KIND_ABS));
    g_assert_cmpint(qemu_input_mice(info, 4), ==, 2);
    g_assert_true(info[0].current);             /* m2, the newest */
    g_assert_false(info[1].current);
    qemu_input_handler_activate(m1);
    g_assert_cmpint(qemu_input_mice(info, 4), ==, 2);
    g_assert_cmpstr(info[0].name, ==, "mouse");
    g_assert_true(info[0].current);
    g_assert_false(info[0].absolute);
    syncs = 0;
    qemu_input_queue_rel(INPUT_AXIS_X, 7);
    qemu_input_event_sync();
    g_assert_cmpint(rel_x, ==, 7);
    g_assert_cmpint(syncs, ==, 2);              /* each handler syncs */
    qemu_input_handler_unregister(m1);
    qemu_input_handler_unregister(m2);
    qemu_input_handler_unregister(k);
    g_assert_cmpint(qemu_input_mice(info, 4), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/input/names", test_names);
    g_test_add_func("/input/scancodes", test_scancodes);
    g_test_add_func("/input/translation", test_translation);
    g_test_add_func("/input/routing", test_routing);
    return g_test_run();
}

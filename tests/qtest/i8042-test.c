/*
 * The i8042 of the pc machine with its PS/2 keyboard and mouse, through
 * ports 0x60/0x64 only: keyboard reset, identify (translated and not),
 * scan code set switching, LEDs, typematic; mouse reset, identify, the
 * IntelliMouse and Explorer knocks, status request.  IRQ 1 and 12 are
 * watched at the IOAPIC (irq_intercept_in).  Keys and pointer events
 * through QMP: tests/functional/test_ps2_qmp.py.
 */
#include "qtest-harness.h"

#define DATA 0x60
#define CMD  0x64

static QTestState *start(void)
{
    QTestState *s = qtest_init("");

    qtest_irq_intercept_in(s, "ioapic");
    return s;
}

/* The next output byte, which must come from the keyboard (aux=0) or the
 * mouse (aux=1) with its IRQ raised. */
static uint8_t rd(QTestState *s, int aux)
{
    uint8_t st = qtest_inb(s, CMD);

    QT_ASSERT_MSG(st & 0x01, "output buffer empty");
    QT_ASSERT_EQ(!!(st & 0x20), aux);
    QT_ASSERT(qtest_get_irq(s, aux ? 12 : 1));
    return qtest_inb(s, DATA);
}

static void expect(QTestState *s, int aux, const uint8_t *want, int n)
{
    for (int i = 0; i < n; i++) {
        uint8_t v = rd(s, aux);

        QT_ASSERT_MSG(v == want[i], "byte %d: 0x%02x, expected 0x%02x", i, v, want[i]);
    }
    QT_ASSERT_EQ(qtest_inb(s, CMD) & 0x01, 0);
    QT_ASSERT(!qtest_get_irq(s, 1));
    QT_ASSERT(!qtest_get_irq(s, 12));
}

#define KBD(s, cmd, ...) do {                                           \
        static const uint8_t w_[] = { __VA_ARGS__ };                    \
        qtest_outb(s, DATA, cmd);                                       \
        expect(s, 0, w_, sizeof(w_));                                   \
    } while (0)

#define AUX(s, cmd, ...) do {                                           \
        static const uint8_t w_[] = { __VA_ARGS__ };                    \
        qtest_outb(s, CMD, 0xd4);                                       \
        qtest_outb(s, DATA, cmd);                                       \
        expect(s, 1, w_, sizeof(w_));                                   \
    } while (0)

static void test_keyboard(void)
{
    QTestState *s = start();

    KBD(s, 0xff, 0xfa, 0xaa);
    QT_ASSERT(qtest_irq_raise_count(s, 1) >= 1);
    KBD(s, 0xf2, 0xfa, 0xab, 0x83);
    KBD(s, 0xf0, 0xfa);
    KBD(s, 0x03, 0xfa);
    KBD(s, 0xf0, 0xfa);
    KBD(s, 0x00, 0xfa, 0x03);
    KBD(s, 0xff, 0xfa, 0xaa);                   /* reset: set 2 again */
    KBD(s, 0xf0, 0xfa);
    KBD(s, 0x00, 0xfa, 0x02);
    KBD(s, 0xed, 0xfa);
    KBD(s, 0x02, 0xfa);                         /* Num Lock LED */
    KBD(s, 0xf3, 0xfa);
    KBD(s, 0x20, 0xfa);                         /* typematic 500 ms, 30/s */
    KBD(s, 0xee, 0xee);
    qtest_outb(s, CMD, 0x60);
    qtest_outb(s, DATA, 0x43);                  /* XLATE */
    KBD(s, 0xf2, 0xfa, 0xab, 0x41);
    KBD(s, 0xf0, 0xfa);
    KBD(s, 0x00, 0xfa, 0x41);
    qtest_outb(s, CMD, 0x20);
    QT_ASSERT_EQ(rd(s, 0), 0x43);
    qtest_quit(s);
}

static void test_mouse(void)
{
    QTestState *s = start();

    AUX(s, 0xff, 0xfa, 0xaa, 0x00);
    QT_ASSERT(qtest_irq_raise_count(s, 12) >= 1);
    AUX(s, 0xf2, 0xfa, 0x00);
    AUX(s, 0xf3, 0xfa);
    AUX(s, 200, 0xfa);
    AUX(s, 0xf3, 0xfa);
    AUX(s, 100, 0xfa);
    AUX(s, 0xf3, 0xfa);
    AUX(s, 80, 0xfa);
    AUX(s, 0xf2, 0xfa, 0x03);                   /* IntelliMouse */
    AUX(s, 0xf3, 0xfa);
    AUX(s, 200, 0xfa);
    AUX(s, 0xf3, 0xfa);
    AUX(s, 200, 0xfa);
    AUX(s, 0xf3, 0xfa);
    AUX(s, 80, 0xfa);
    AUX(s, 0xf2, 0xfa, 0x04);                   /* Explorer */
    AUX(s, 0xe8, 0xfa);
    AUX(s, 0x01, 0xfa);
    AUX(s, 0xe7, 0xfa);
    AUX(s, 0xf4, 0xfa);
    AUX(s, 0xe9, 0xfa, 0x30, 0x01, 80);         /* enabled, 2:1, 2 counts/mm */
    AUX(s, 0xeb, 0xfa, 0x08, 0x00, 0x00, 0x00); /* read data: nothing moved */
    AUX(s, 0xf6, 0xfa);                         /* defaults: still an Explorer */
    AUX(s, 0xe9, 0xfa, 0x00, 0x02, 100);
    AUX(s, 0xf2, 0xfa, 0x04);
    AUX(s, 0xff, 0xfa, 0xaa, 0x00);
    AUX(s, 0xf2, 0xfa, 0x00);
    qtest_quit(s);
}

int main(int argc, char **argv)
{
    qt_init(argc, argv);
    qt_run("keyboard", test_keyboard);
    qt_run("mouse", test_mouse);
    return qt_finish();
}

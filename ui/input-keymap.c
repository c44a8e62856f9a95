/*
 * Key names and PS/2 scan codes.
 *
 * One row per QKeyCode: its QAPI name, its scan code set 1 and set 2 make
 * codes (0xE0nn for an E0-prefixed key) and its set 3 code (one byte, 0 if
 * none).  Breaks: set 1 sets bit 7 of the last byte, sets 2 and 3 put F0
 * before it.  Print Screen and Pause are sequences of their own:
 *   Print  set 1  E0 2A E0 37 / E0 B7 E0 AA     set 2  E0 12 E0 7C / E0 F0 7C E0 F0 12
 *   Pause  set 1  E1 1D 45 E1 9D C5 (no break)  set 2  E1 14 77 E1 F0 14 F0 77
 * The set 2 -> set 1 translation of the 8042 is derived from the same
 * rows (the set 2 byte of every key maps to its set 1 byte).
 */
#include <string.h>
#include <glib.h>

#include "ui/input.h"

typedef struct KeyRow {
    const char *name;
    uint16_t set1, set2;
    uint8_t set3;
} KeyRow;

#define K(q, n, s1, s2, s3) [Q_KEY_CODE_##q] = { n, s1, s2, s3 }

static const KeyRow keys[Q_KEY_CODE__MAX] = {
    K(UNMAPPED, "unmapped", 0, 0, 0),
    K(SHIFT, "shift", 0x2a, 0x12, 0x12),
    K(SHIFT_R, "shift_r", 0x36, 0x59, 0x59),
    K(ALT, "alt", 0x38, 0x11, 0x19),
    K(ALT_R, "alt_r", 0xe038, 0xe011, 0x39),
    K(CTRL, "ctrl", 0x1d, 0x14, 0x11),
    K(CTRL_R, "ctrl_r", 0xe01d, 0xe014, 0x58),
    K(MENU, "menu", 0, 0, 0),                   /* no PS/2 code, as QEMU */
    K(ESC, "esc", 0x01, 0x76, 0x08),
    K(1, "1", 0x02, 0x16, 0x16), K(2, "2", 0x03, 0x1e, 0x1e),
    K(3, "3", 0x04, 0x26, 0x26), K(4, "4", 0x05, 0x25, 0x25),
    K(5, "5", 0x06, 0x2e, 0x2e), K(6, "6", 0x07, 0x36, 0x36),
    K(7, "7", 0x08, 0x3d, 0x3d), K(8, "8", 0x09, 0x3e, 0x3e),
    K(9, "9", 0x0a, 0x46, 0x46), K(0, "0", 0x0b, 0x45, 0x45),
    K(MINUS, "minus", 0x0c, 0x4e, 0x4e),
    K(EQUAL, "equal", 0x0d, 0x55, 0x55),
    K(BACKSPACE, "backspace", 0x0e, 0x66, 0x66),
    K(TAB, "tab", 0x0f, 0x0d, 0x0d),
    K(Q, "q", 0x10, 0x15, 0x15), K(W, "w", 0x11, 0x1d, 0x1d),
    K(E, "e", 0x12, 0x24, 0x24), K(R, "r", 0x13, 0x2d, 0x2d),
    K(T, "t", 0x14, 0x2c, 0x2c), K(Y, "y", 0x15, 0x35, 0x35),
    K(U, "u", 0x16, 0x3c, 0x3c), K(I, "i", 0x17, 0x43, 0x43),
    K(O, "o", 0x18, 0x44, 0x44), K(P, "p", 0x19, 0x4d, 0x4d),
    K(BRACKET_LEFT, "bracket_left", 0x1a, 0x54, 0x54),
    K(BRACKET_RIGHT, "bracket_right", 0x1b, 0x5b, 0x5b),
    K(RET, "ret", 0x1c, 0x5a, 0x5a),
    K(A, "a", 0x1e, 0x1c, 0x1c), K(S, "s", 0x1f, 0x1b, 0x1b),
    K(D, "d", 0x20, 0x23, 0x23), K(F, "f", 0x21, 0x2b, 0x2b),
    K(G, "g", 0x22, 0x34, 0x34), K(H, "h", 0x23, 0x33, 0x33),
    K(J, "j", 0x24, 0x3b, 0x3b), K(K, "k", 0x25, 0x42, 0x42),
    K(L, "l", 0x26, 0x4b, 0x4b),
    K(SEMICOLON, "semicolon", 0x27, 0x4c, 0x4c),
    K(APOSTROPHE, "apostrophe", 0x28, 0x52, 0x52),
    K(GRAVE_ACCENT, "grave_accent", 0x29, 0x0e, 0x0e),
    K(BACKSLASH, "backslash", 0x2b, 0x5d, 0x5c),
    K(Z, "z", 0x2c, 0x1a, 0x1a), K(X, "x", 0x2d, 0x22, 0x22),
    K(C, "c", 0x2e, 0x21, 0x21), K(V, "v", 0x2f, 0x2a, 0x2a),
    K(B, "b", 0x30, 0x32, 0x32), K(N, "n", 0x31, 0x31, 0x31),
    K(M, "m", 0x32, 0x3a, 0x3a),
    K(COMMA, "comma", 0x33, 0x41, 0x41),
    K(DOT, "dot", 0x34, 0x49, 0x49),
    K(SLASH, "slash", 0x35, 0x4a, 0x4a),
    K(ASTERISK, "asterisk", 0x37, 0x7c, 0x7e),
    K(SPC, "spc", 0x39, 0x29, 0x29),
    K(CAPS_LOCK, "caps_lock", 0x3a, 0x58, 0x14),
    K(F1, "f1", 0x3b, 0x05, 0x07), K(F2, "f2", 0x3c, 0x06, 0x0f),
    K(F3, "f3", 0x3d, 0x04, 0x17), K(F4, "f4", 0x3e, 0x0c, 0x1f),
    K(F5, "f5", 0x3f, 0x03, 0x27), K(F6, "f6", 0x40, 0x0b, 0x2f),
    K(F7, "f7", 0x41, 0x83, 0x37), K(F8, "f8", 0x42, 0x0a, 0x3f),
    K(F9, "f9", 0x43, 0x01, 0x47), K(F10, "f10", 0x44, 0x09, 0x4f),
    K(NUM_LOCK, "num_lock", 0x45, 0x77, 0x76),
    K(SCROLL_LOCK, "scroll_lock", 0x46, 0x7e, 0x5f),
    K(KP_DIVIDE, "kp_divide", 0xe035, 0xe04a, 0x77),
    K(KP_MULTIPLY, "kp_multiply", 0x37, 0x7c, 0x7e),
    K(KP_SUBTRACT, "kp_subtract", 0x4a, 0x7b, 0x84),
    K(KP_ADD, "kp_add", 0x4e, 0x79, 0x7c),
    K(KP_ENTER, "kp_enter", 0xe01c, 0xe05a, 0x79),
    K(KP_DECIMAL, "kp_decimal", 0x53, 0x71, 0x71),
    K(SYSRQ, "sysrq", 0x54, 0x84, 0x57),
    K(KP_0, "kp_0", 0x52, 0x70, 0x70), K(KP_1, "kp_1", 0x4f, 0x69, 0x69),
    K(KP_2, "kp_2", 0x50, 0x72, 0x72), K(KP_3, "kp_3", 0x51, 0x7a, 0x7a),
    K(KP_4, "kp_4", 0x4b, 0x6b, 0x6b), K(KP_5, "kp_5", 0x4c, 0x73, 0x73),
    K(KP_6, "kp_6", 0x4d, 0x74, 0x74), K(KP_7, "kp_7", 0x47, 0x6c, 0x6c),
    K(KP_8, "kp_8", 0x48, 0x75, 0x75), K(KP_9, "kp_9", 0x49, 0x7d, 0x7d),
    K(LESS, "less", 0x56, 0x61, 0x13),
    K(F11, "f11", 0x57, 0x78, 0x56),
    K(F12, "f12", 0x58, 0x07, 0x5e),
    K(PRINT, "print", 0xe037, 0xe07c, 0x57),    /* sequences: see ps2_scancodes */
    K(HOME, "home", 0xe047, 0xe06c, 0x6e),
    K(PGUP, "pgup", 0xe049, 0xe07d, 0x6f),
    K(PGDN, "pgdn", 0xe051, 0xe07a, 0x6d),
    K(END, "end", 0xe04f, 0xe069, 0x65),
    K(LEFT, "left", 0xe04b, 0xe06b, 0x61),
    K(UP, "up", 0xe048, 0xe075, 0x63),
    K(DOWN, "down", 0xe050, 0xe072, 0x60),
    K(RIGHT, "right", 0xe04d, 0xe074, 0x6a),
    K(INSERT, "insert", 0xe052, 0xe070, 0x67),
    K(DELETE, "delete", 0xe053, 0xe071, 0x64),
    K(META_L, "meta_l", 0xe05b, 0xe01f, 0x8b),
    K(META_R, "meta_r", 0xe05c, 0xe027, 0x8c),
    K(COMPOSE, "compose", 0xe05d, 0xe02f, 0x8d),
    K(PAUSE, "pause", 0xe046, 0xe07e, 0x62),    /* sequences: see ps2_scancodes */
    K(RO, "ro", 0x73, 0x51, 0x51),
    K(YEN, "yen", 0x7d, 0x6a, 0x5d),
    K(KP_COMMA, "kp_comma", 0x7e, 0x6d, 0x6d),
    K(KP_EQUALS, "kp_equals", 0x59, 0x0f, 0x0f),
    K(POWER, "power", 0xe05e, 0xe037, 0),
    K(SLEEP, "sleep", 0xe05f, 0xe03f, 0),
    K(WAKE, "wake", 0xe063, 0xe05e, 0),
    K(AUDIOMUTE, "audiomute", 0xe020, 0xe023, 0),
    K(VOLUMEUP, "volumeup", 0xe030, 0xe032, 0),
    K(VOLUMEDOWN, "volumedown", 0xe02e, 0xe021, 0),
};

const char *qemu_input_qcode_name(QKeyCode qcode)
{
    if ((unsigned)qcode >= Q_KEY_CODE__MAX) {
        return NULL;
    }
    return keys[qcode].name;
}

int qemu_input_qcode_from_name(const char *name)
{
    for (int i = 0; name && i < Q_KEY_CODE__MAX; i++) {
        if (keys[i].name && !strcmp(keys[i].name, name)) {
            return i;
        }
    }
    return -1;
}

int qemu_input_qcode_to_number(QKeyCode qcode)
{
    uint16_t c;

    if ((unsigned)qcode >= Q_KEY_CODE__MAX) {
        return 0;
    }
    c = keys[qcode].set1;
    return (c & 0xff00) ? 0x80 | (c & 0x7f) : c;
}

int qemu_input_qcode_from_number(int number)
{
    if (number <= 0 || number > 0xff) {
        return Q_KEY_CODE_UNMAPPED;
    }
    /* Numbers name keys by their set 1 code; "asterisk" and "kp_multiply"
     * share one, the first row wins. */
    for (int i = 1; i < Q_KEY_CODE__MAX; i++) {
        if (qemu_input_qcode_to_number(i) == number) {
            return i;
        }
    }
    return Q_KEY_CODE_UNMAPPED;
}

static int put_print(bool down, int set, uint8_t *out)
{
    static const uint8_t s1_make[] = { 0xe0, 0x2a, 0xe0, 0x37 };
    static const uint8_t s1_break[] = { 0xe0, 0xb7, 0xe0, 0xaa };
    static const uint8_t s2_make[] = { 0xe0, 0x12, 0xe0, 0x7c };
    static const uint8_t s2_break[] = { 0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12 };

    if (set == 1) {
        memcpy(out, down ? s1_make : s1_break, 4);
        return 4;
    }
    if (down) {
        memcpy(out, s2_make, sizeof(s2_make));
        return sizeof(s2_make);
    }
    memcpy(out, s2_break, sizeof(s2_break));
    return sizeof(s2_break);
}

static int put_pause(bool down, int set, uint8_t *out)
{
    static const uint8_t s1[] = { 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5 };
    static const uint8_t s2[] = { 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77 };

    if (!down) {
        return 0;               /* the make sequence already contains the break */
    }
    if (set == 1) {
        memcpy(out, s1, sizeof(s1));
        return sizeof(s1);
    }
    memcpy(out, s2, sizeof(s2));
    return sizeof(s2);
}

int ps2_scancodes(QKeyCode qcode, bool down, int set, uint8_t *out)
{
    const KeyRow *k;
    uint16_t code;
    int n = 0;

    if ((unsigned)qcode >= Q_KEY_CODE__MAX || qcode == Q_KEY_CODE_UNMAPPED) {
        return 0;
    }
    k = &keys[qcode];
    if (set == 3) {
        if (!k->set3) {
            return 0;
        }
        if (!down) {
            out[n++] = 0xf0;
        }
        out[n++] = k->set3;
        return n;
    }
    if (set != 1 && set != 2) {
        return 0;
    }
    if (qcode == Q_KEY_CODE_PRINT) {
        return put_print(down, set, out);
    }
    if (qcode == Q_KEY_CODE_PAUSE) {
        return put_pause(down, set, out);
    }
    code = set == 1 ? k->set1 : k->set2;
    if (!code) {
        return 0;
    }
    if (code & 0xff00) {
        out[n++] = code >> 8;
    }
    if (set == 1) {
        out[n++] = (code & 0xff) | (down ? 0 : 0x80);
    } else {
        if (!down) {
            out[n++] = 0xf0;
        }
        out[n++] = code & 0xff;
    }
    return n;
}

uint8_t ps2_translate_set2_byte(uint8_t code)
{
    static uint8_t table[256];
    static gsize done;

    if (g_once_init_enter(&done)) {
        for (int i = 0; i < 256; i++) {
            table[i] = i;       /* bytes no key sends (E0, E1, replies) pass */
        }
        for (int i = 1; i < Q_KEY_CODE__MAX; i++) {
            if (keys[i].set2 && i != Q_KEY_CODE_PAUSE) {
                table[keys[i].set2 & 0xff] = keys[i].set1 & 0x7f;
            }
        }
        g_once_init_leave(&done, 1);
    }
    return table[code];
}

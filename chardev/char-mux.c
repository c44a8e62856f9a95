/*
 * "mon:" multiplexing (-serial mon:stdio): one backend, several frontends
 * (the serial port first, then an HMP monitor).  Input goes to the
 * frontend in focus; everyone's output goes to the backend.  QEMU's
 * escape keys (Ctrl-A then a letter):
 *   C-a h  help   C-a x  quit   C-a c  switch focus   C-a b  break
 *   C-a C-a  a literal C-a
 */
#include <string.h>
#include "chardev/char-internal.h"
#include "chardev/char-mux.h"
#include "system/runstate.h"

#define MUX_ESCAPE 0x01         /* Ctrl-A */
#define MUX_BUFFER_SIZE 32      /* input held per frontend, as QEMU */

typedef struct MuxChardev {
    Chardev parent;
    Chardev *base;              /* owned: created with the mux */
    CharBackend base_be;        /* our frontend on base */
    CharBackend *fe[MUX_MAX];
    int count;
    int focus;
    bool escape;                /* C-a seen */
    /* Input for a frontend that could not take it yet (its FIFO full):
     * delivered when it accepts input again. */
    uint8_t buf[MUX_MAX][MUX_BUFFER_SIZE];
    unsigned prod[MUX_MAX], cons[MUX_MAX];
    bool wants_monitor;
} MuxChardev;

static void mux_send_event(MuxChardev *m, int i, QEMUChrEvent event)
{
    CharBackend *be = m->fe[i];

    if (be && be->event) {
        be->event(be->opaque, event);
    }
}

static void mux_puts(MuxChardev *m, const char *s)
{
    qemu_chr_fe_write_all(&m->base_be, (const uint8_t *)s, strlen(s));
}

static void mux_print_help(MuxChardev *m)
{
    static const char *const lines[] = {
        "C-a h    print this help\n\r",
        "C-a x    exit emulator\n\r",
        "C-a s    save disk data back to file (if -snapshot)\n\r",
        "C-a t    toggle console timestamps\n\r",
        "C-a b    send break (magic sysrq)\n\r",
        "C-a c    switch between console and monitor\n\r",
        "C-a C-a  sends C-a\n\r",
    };

    mux_puts(m, "\n\r");
    for (size_t i = 0; i < G_N_ELEMENTS(lines); i++) {
        mux_puts(m, lines[i]);
    }
}

static void mux_set_focus(MuxChardev *m, int focus)
{
    if (m->focus >= 0 && m->focus < m->count) {
        mux_send_event(m, m->focus, CHR_EVENT_MUX_OUT);
    }
    m->focus = focus;
    mux_send_event(m, focus, CHR_EVENT_MUX_IN);
    g_main_context_wakeup(NULL);
}

/* Returns true if c was an escape sequence byte (consumed). */
static bool mux_proc_byte(MuxChardev *m, uint8_t c)
{
    if (!m->escape) {
        if (c == MUX_ESCAPE) {
            m->escape = true;
            return true;
        }
        return false;
    }
    m->escape = false;
    switch (c) {
    case '?': case 'h':
        mux_print_help(m);
        return true;
    case 'x':
        mux_puts(m, "QEMU: Terminated\n\r");
        qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_QMP_QUIT);
        return true;
    case 'b':
        if (m->focus < m->count) {
            mux_send_event(m, m->focus, CHR_EVENT_BREAK);
        }
        return true;
    case 'c':
        if (m->count) {
            mux_set_focus(m, (m->focus + 1) % m->count);
        }
        return true;
    case 's': case 't':
        return true;
    case MUX_ESCAPE:
        return false;       /* deliver one C-a */
    default:
        return true;
    }
}

static CharBackend *mux_focused(MuxChardev *m)
{
    return m->focus >= 0 && m->focus < m->count ? m->fe[m->focus] : NULL;
}

static int fe_can_read(CharBackend *be)
{
    return !be->read ? 0 : !be->can_read ? 1 : be->can_read(be->opaque);
}

/* Hand the focused frontend what it held back, as far as it takes it. */
static void mux_flush(MuxChardev *m)
{
    CharBackend *be = mux_focused(m);
    int f = m->focus;

    while (be && m->prod[f] != m->cons[f] && fe_can_read(be) > 0) {
        uint8_t c = m->buf[f][m->cons[f]++ % MUX_BUFFER_SIZE];
        be->read(be->opaque, &c, 1);
    }
}

/*
 * Back-pressure, as QEMU's mux: bytes the frontend in focus cannot take
 * now wait in a small buffer (so the escape keys keep working while the
 * guest reads nothing), and when that is full too the mux takes nothing:
 * pasted input then waits in the host instead of being dropped. The
 * frontend's qemu_chr_fe_accept_input() drains the buffer.
 */
static int mux_can_read(void *opaque)
{
    MuxChardev *m = opaque;
    CharBackend *be = mux_focused(m);
    int f = m->focus, n;

    if (!be) {
        return 1;       /* nobody to deliver to: the escape keys only */
    }
    mux_flush(m);
    n = MUX_BUFFER_SIZE - (int)(m->prod[f] - m->cons[f]);
    if (m->prod[f] == m->cons[f]) {
        n += fe_can_read(be);
    }
    return n;
}

static void mux_read(void *opaque, const uint8_t *buf, int size)
{
    MuxChardev *m = opaque;

    for (int i = 0; i < size; i++) {
        CharBackend *be;
        int f;

        if (mux_proc_byte(m, buf[i])) {
            continue;
        }
        be = mux_focused(m);
        f = m->focus;
        if (!be || !be->read) {
            continue;
        }
        if (m->prod[f] == m->cons[f] && fe_can_read(be) > 0) {
            be->read(be->opaque, &buf[i], 1);
        } else if (m->prod[f] - m->cons[f] < MUX_BUFFER_SIZE) {
            m->buf[f][m->prod[f]++ % MUX_BUFFER_SIZE] = buf[i];
        }
        /* else: more than can_read allowed; cannot happen through the
         * backend's input watch, which asks can_read first. */
    }
}

static void mux_accept_input(Chardev *chr)
{
    mux_flush((MuxChardev *)chr);
}

static void mux_event(void *opaque, QEMUChrEvent event)
{
    MuxChardev *m = opaque;

    if (event == CHR_EVENT_OPENED || event == CHR_EVENT_CLOSED) {
        qemu_chr_be_event(&m->parent, event);   /* records be_open */
    }
    for (int i = 0; i < m->count; i++) {
        mux_send_event(m, i, event);
    }
}

static bool mux_open(Chardev *chr, QemuOpts *opts, bool *be_opened, Error **errp)
{
    MuxChardev *m = (MuxChardev *)chr;
    const char *id = qemu_opt_get(opts, "chardev");
    Chardev *base = id ? qemu_chr_find(id) : NULL;

    if (!base) {
        error_setg(errp, "chardev: mux: no chardev given");
        return false;
    }
    if (!qemu_chr_fe_init(&m->base_be, base, errp)) {
        return false;
    }
    m->base = base;
    *be_opened = false;
    qemu_chr_fe_set_handlers(&m->base_be, mux_can_read, mux_read, mux_event, m);
    return true;
}

static int mux_write(Chardev *chr, const uint8_t *buf, int len)
{
    MuxChardev *m = (MuxChardev *)chr;

    return qemu_chr_fe_write_all(&m->base_be, buf, len);
}

static bool mux_fe_attach(Chardev *chr, CharBackend *be, Error **errp)
{
    MuxChardev *m = (MuxChardev *)chr;

    if (m->count >= MUX_MAX) {
        error_setg(errp, "Too many uses of multiplexed chardev '%s' (maximum is " G_STRINGIFY(MUX_MAX) ")",
                   chr->label);
        return false;
    }
    be->tag = m->count;
    m->fe[m->count++] = be;
    if (!chr->be) {
        chr->be = be;
    }
    return true;
}

static void mux_fe_detach(Chardev *chr, CharBackend *be)
{
    MuxChardev *m = (MuxChardev *)chr;

    for (int i = 0; i < m->count; i++) {
        if (m->fe[i] == be) {
            m->fe[i] = NULL;
            m->prod[i] = m->cons[i] = 0;
        }
    }
    if (chr->be == be) {
        chr->be = NULL;
    }
}

static char *mux_describe(Chardev *chr)
{
    MuxChardev *m = (MuxChardev *)chr;

    return g_strdup(m->base && m->base->filename ? m->base->filename : "mux");
}

static void mux_close(Chardev *chr)
{
    MuxChardev *m = (MuxChardev *)chr;

    if (m->base) {
        Chardev *base = m->base;
        qemu_chr_fe_deinit(&m->base_be);
        m->base = NULL;
        qemu_chr_delete(base);
    }
}

static const ChardevClass mux_class = {
    .name = "mux",
    .instance_size = sizeof(MuxChardev),
    .open = mux_open,
    .write = mux_write,
    .close = mux_close,
    .describe = mux_describe,
    .fe_attach = mux_fe_attach,
    .fe_detach = mux_fe_detach,
    .accept_input = mux_accept_input,
};
CHARDEV_CLASS_REGISTER(mux_class)

Chardev *qemu_chr_new_mux_mon(const char *label, const char *spec, Error **errp)
{
    g_autofree char *base_label = g_strdup_printf("%s-base", label);
    g_autofree char *opts = NULL;
    Chardev *base, *chr;

    base = qemu_chr_new(base_label, spec, errp);
    if (!base) {
        return NULL;
    }
    opts = g_strdup_printf("mux,id=%s,chardev=%s", label, base_label);
    chr = qemu_chr_new_from_opts(opts, errp);
    if (!chr) {
        qemu_chr_delete(base);
        return NULL;
    }
    ((MuxChardev *)chr)->wants_monitor = true;
    if (base->be_open) {
        chr->be_open = true;
    }
    return chr;
}

bool qemu_chr_mux_wants_monitor(Chardev *chr)
{
    return chr->klass == &mux_class && ((MuxChardev *)chr)->wants_monitor;
}

bool qemu_chr_fe_is_focused(CharBackend *be)
{
    MuxChardev *m;

    if (!be->chr || be->chr->klass != &mux_class) {
        return true;
    }
    m = (MuxChardev *)be->chr;
    return m->focus < m->count && m->fe[m->focus] == be;
}

/*
 * The frontend end of a chardev (CharBackend): what a device holds.
 */
#include <errno.h>
#include <unistd.h>
#include <glib-unix.h>
#include "chardev/char-internal.h"

/* How long qemu_chr_fe_write_all() waits for a full backend to drain
 * before it drops the rest.  Output is then dropped without waiting until
 * a write succeeds again, so a stuck peer costs one wait, not one per byte. */
#define CHR_WRITE_STALL_US (100 * 1000)
#define CHR_WRITE_RETRY_US 1000

bool qemu_chr_fe_init(CharBackend *be, Chardev *chr, Error **errp)
{
    if (chr && chr->klass->fe_attach) {
        be->chr = chr;
        be->tag = 0;
        if (!chr->klass->fe_attach(chr, be, errp)) {
            be->chr = NULL;
            return false;
        }
        return true;
    }
    if (chr && chr->be && chr->be != be) {
        error_setg(errp, "Device '%s' is in use", chr->label);
        return false;
    }
    if (chr) {
        chr->be = be;
    }
    be->chr = chr;
    be->tag = 0;
    return true;
}

void qemu_chr_fe_deinit(CharBackend *be)
{
    Chardev *chr = be->chr;

    if (!chr) {
        return;
    }
    qemu_chr_fe_set_handlers(be, NULL, NULL, NULL, NULL);
    if (chr->klass->fe_detach) {
        chr->klass->fe_detach(chr, be);
    }
    if (chr->be == be) {
        chr->be = NULL;
    }
    be->chr = NULL;
}

void qemu_chr_fe_set_handlers(CharBackend *be, IOCanReadHandler *can_read,
                              IOReadHandler *read, IOEventHandler *event, void *opaque)
{
    Chardev *chr = be->chr;

    be->can_read = can_read;
    be->read = read;
    be->event = event;
    be->opaque = opaque;
    if (!chr) {
        return;
    }
    if (chr->klass->update_read_handler) {
        chr->klass->update_read_handler(chr);
    }
    g_main_context_wakeup(NULL);
    /* A frontend attaching to an already open backend hears OPENED too. */
    if (chr->be_open && event) {
        event(opaque, CHR_EVENT_OPENED);
    }
}

typedef struct ChrWriteWatch {
    GSourceFunc func;
    void *opaque;
} ChrWriteWatch;

static gboolean chr_write_watch_cb(gint fd, GIOCondition cond, gpointer data)
{
    ChrWriteWatch *w = data;

    (void)fd;
    (void)cond;
    return w->func(w->opaque);
}

guint qemu_chr_fe_add_write_watch(CharBackend *be, GSourceFunc func, void *opaque)
{
    Chardev *chr = be->chr;
    int fd = chr && chr->klass->get_out_fd ? chr->klass->get_out_fd(chr) : -1;
    ChrWriteWatch *w;

    if (fd < 0) {
        return 0;
    }
    w = g_new(ChrWriteWatch, 1);
    w->func = func;
    w->opaque = opaque;
    return g_unix_fd_add_full(G_PRIORITY_DEFAULT, fd, G_IO_OUT | G_IO_HUP | G_IO_ERR,
                              chr_write_watch_cb, w, g_free);
}

void qemu_chr_fe_accept_input(CharBackend *be)
{
    /* Input watches re-ask can_read() in their prepare step: waking the
     * loop is enough. */
    if (be->chr) {
        if (be->chr->klass->accept_input) {
            be->chr->klass->accept_input(be->chr);
        }
        g_main_context_wakeup(NULL);
    }
}

int qemu_chr_fe_get_msgfd(CharBackend *be)
{
    Chardev *chr = be->chr;

    return chr && chr->klass->get_msgfd ? chr->klass->get_msgfd(chr) : -1;
}

static void chr_write_log(Chardev *chr, const uint8_t *buf, int len)
{
    while (chr->logfd >= 0 && len > 0) {
        ssize_t n = write(chr->logfd, buf, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;     /* a broken log must not break the guest's output */
        }
        buf += n;
        len -= n;
    }
}

static int chr_write_all_locked(Chardev *chr, const uint8_t *buf, int len)
{
    int64_t deadline = 0;
    int done = 0;

    if (!chr->klass->write) {
        chr_write_log(chr, buf, len);
        return len;
    }
    while (done < len) {
        int n = chr->klass->write(chr, buf + done, len - done);

        if (n > 0) {
            chr_write_log(chr, buf + done, n);
            done += n;
            chr->write_stalled = false;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno != EAGAIN) {
            return -1;
        }
        /* Full: wait a bounded time, unless the peer is known to be stuck. */
        if (chr->write_stalled) {
            errno = EAGAIN;
            return -1;
        }
        if (!deadline) {
            deadline = g_get_monotonic_time() + CHR_WRITE_STALL_US;
        } else if (g_get_monotonic_time() >= deadline) {
            chr->write_stalled = true;
            errno = EAGAIN;
            return -1;
        }
        g_usleep(CHR_WRITE_RETRY_US);
    }
    return len;
}

int qemu_chr_fe_write(CharBackend *be, const uint8_t *buf, int len)
{
    Chardev *chr = be->chr;
    int n;

    if (!chr || !chr->klass->write) {
        if (chr) {
            chr_write_log(chr, buf, len);
        }
        return len;
    }
    g_mutex_lock(&chr->write_lock);
    do {
        n = chr->klass->write(chr, buf, len);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
        chr_write_log(chr, buf, n);
    }
    g_mutex_unlock(&chr->write_lock);
    return n;
}

int qemu_chr_fe_write_all(CharBackend *be, const uint8_t *buf, int len)
{
    Chardev *chr = be->chr;
    int ret;

    if (!chr) {
        return len;
    }
    g_mutex_lock(&chr->write_lock);
    ret = chr_write_all_locked(chr, buf, len);
    g_mutex_unlock(&chr->write_lock);
    return ret;
}

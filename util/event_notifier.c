/* EventNotifier over eventfd(2). */
#include <errno.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <glib-unix.h>
#include "qemu/event_notifier.h"

bool event_notifier_init(EventNotifier *e, Error **errp)
{
    e->watch = 0;
    e->handler = NULL;
    e->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (e->fd < 0) {
        error_setg_errno(errp, errno, "cannot create an eventfd");
        return false;
    }
    return true;
}

void event_notifier_cleanup(EventNotifier *e)
{
    event_notifier_set_handler(e, NULL);
    if (e->fd >= 0) {
        close(e->fd);
    }
    e->fd = -1;
}

void event_notifier_set(EventNotifier *e)
{
    uint64_t one = 1;
    ssize_t r;

    do {
        r = write(e->fd, &one, sizeof(one));
    } while (r < 0 && errno == EINTR);
    /* EAGAIN means the counter is at its maximum: still set. */
}

uint64_t event_notifier_test_and_clear(EventNotifier *e)
{
    uint64_t v = 0;
    ssize_t r;

    do {
        r = read(e->fd, &v, sizeof(v));
    } while (r < 0 && errno == EINTR);
    return r == sizeof(v) ? v : 0;
}

static gboolean event_notifier_ready(gint fd, GIOCondition cond, gpointer opaque)
{
    EventNotifier *e = opaque;

    (void)fd;
    (void)cond;
    if (e->handler) {
        e->handler(e);
    }
    return G_SOURCE_CONTINUE;
}

void event_notifier_set_handler(EventNotifier *e, EventNotifierHandler *handler)
{
    if (e->watch) {
        g_source_remove(e->watch);
        e->watch = 0;
    }
    e->handler = handler;
    if (handler && e->fd >= 0) {
        e->watch = g_unix_fd_add(e->fd, G_IO_IN, event_notifier_ready, e);
    }
}

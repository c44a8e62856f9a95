/*
 * fd helpers for backends: an input watch that follows the frontend's
 * can_read() (flow control), and a write that never blocks.
 */
#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include "chardev/char-internal.h"

/* Largest write on an fd that poll() reported writable: keeps a write to
 * a blocking tty or pipe from blocking on what did not fit. */
#define CHR_WRITE_CHUNK 1024

typedef struct ChrFdSource {
    GSource source;
    Chardev *chr;
    int fd;
    gpointer tag;               /* non-NULL while fd is polled */
    ChrFdFunc *func;
} ChrFdSource;

/*
 * The fd is polled only while the frontend can take input: when it is full
 * the fd leaves the poll set entirely, so neither pending data nor a
 * hang-up wakes the loop until the frontend accepts input again.
 */
static gboolean chr_fd_prepare(GSource *source, gint *timeout)
{
    ChrFdSource *s = (ChrFdSource *)source;
    bool want = qemu_chr_be_can_write(s->chr) > 0;

    if (want && !s->tag) {
        s->tag = g_source_add_unix_fd(source, s->fd, G_IO_IN);
    } else if (!want && s->tag) {
        g_source_remove_unix_fd(source, s->tag);
        s->tag = NULL;
    }
    *timeout = -1;
    return FALSE;
}

static gboolean chr_fd_check(GSource *source)
{
    ChrFdSource *s = (ChrFdSource *)source;

    return s->tag && g_source_query_unix_fd(source, s->tag) != 0;
}

static gboolean chr_fd_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
    ChrFdSource *s = (ChrFdSource *)source;

    return s->func(s->chr, s->tag ? g_source_query_unix_fd(source, s->tag) : 0);
}

static GSourceFuncs chr_fd_source_funcs = {
    .prepare = chr_fd_prepare,
    .check = chr_fd_check,
    .dispatch = chr_fd_dispatch,
};

GSource *chr_fd_watch_add(Chardev *chr, int fd, int priority, ChrFdFunc *func)
{
    GSource *source = g_source_new(&chr_fd_source_funcs, sizeof(ChrFdSource));
    ChrFdSource *s = (ChrFdSource *)source;

    s->chr = chr;
    s->fd = fd;
    s->func = func;
    g_source_set_priority(source, priority);
    g_source_attach(source, NULL);
    return source;
}

void chr_watch_remove(GSource **src)
{
    if (*src) {
        g_source_destroy(*src);
        g_source_unref(*src);
        *src = NULL;
    }
}

int chr_fd_read_deliver(Chardev *chr, int fd)
{
    uint8_t buf[CHR_READ_BUF_LEN];
    int avail = qemu_chr_be_can_write(chr);
    ssize_t n;

    if (avail <= 0) {
        errno = EAGAIN;
        return -1;
    }
    do {
        n = read(fd, buf, MIN((size_t)avail, sizeof(buf)));
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
        qemu_chr_be_write(chr, buf, n);
    }
    return n;
}

int chr_fd_write_nonblock(int fd, const uint8_t *buf, int len)
{
    struct pollfd pfd = { .fd = fd, .events = POLLOUT };
    ssize_t n;

    if (poll(&pfd, 1, 0) < 0) {
        return -1;
    }
    if (!(pfd.revents & POLLOUT)) {
        if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) {
            errno = EPIPE;
            return -1;
        }
        errno = EAGAIN;
        return -1;
    }
    do {
        n = write(fd, buf, MIN(len, CHR_WRITE_CHUNK));
    } while (n < 0 && errno == EINTR);
    return n;
}

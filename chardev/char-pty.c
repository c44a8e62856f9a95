/*
 * -chardev pty,id=ID
 * A pseudo-terminal: the guest side is the master, a user opens the slave
 * (/dev/pts/N, printed at open and shown by query-chardev).  The master
 * reports HUP while nobody has the slave open: then output is dropped and
 * a one-second timer looks for a reader, as QEMU does.
 */
#define _GNU_SOURCE     /* ptsname_r */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>
#include "chardev/char-internal.h"

#define PTY_POLL_MS 1000

typedef struct PtyChardev {
    Chardev parent;
    int master;
    char *slave_path;
    bool connected;
    GSource *in_watch;
    guint poll_timer;
} PtyChardev;

static void pty_set_connected(PtyChardev *s, bool connected);

/* Is somebody holding the slave open? */
static bool pty_peer_present(PtyChardev *s)
{
    struct pollfd pfd = { .fd = s->master, .events = POLLIN };

    return poll(&pfd, 1, 0) >= 0 && !(pfd.revents & POLLHUP);
}

static gboolean pty_in_ready(Chardev *chr, GIOCondition cond)
{
    PtyChardev *s = (PtyChardev *)chr;
    int n = chr_fd_read_deliver(chr, s->master);

    if (n > 0 || (n < 0 && errno == EAGAIN)) {
        return G_SOURCE_CONTINUE;
    }
    /* EIO (or HUP): the last slave fd was closed. */
    pty_set_connected(s, false);
    return G_SOURCE_REMOVE;
}

static gboolean pty_poll_timer(gpointer opaque)
{
    PtyChardev *s = opaque;

    if (!pty_peer_present(s)) {
        return G_SOURCE_CONTINUE;
    }
    s->poll_timer = 0;
    pty_set_connected(s, true);
    return G_SOURCE_REMOVE;
}

static void pty_set_connected(PtyChardev *s, bool connected)
{
    Chardev *chr = &s->parent;

    if (s->connected == connected) {
        return;
    }
    s->connected = connected;
    if (connected) {
        if (s->poll_timer) {
            g_source_remove(s->poll_timer);
            s->poll_timer = 0;
        }
        s->in_watch = chr_fd_watch_add(chr, s->master, G_PRIORITY_DEFAULT, pty_in_ready);
        qemu_chr_be_event(chr, CHR_EVENT_OPENED);
    } else {
        chr_watch_remove(&s->in_watch);
        s->poll_timer = g_timeout_add(PTY_POLL_MS, pty_poll_timer, s);
        qemu_chr_be_event(chr, CHR_EVENT_CLOSED);
    }
}

/* Raw mode on the slave, so the guest's bytes pass through unchanged. */
static bool pty_make_raw(const char *slave_path, Error **errp)
{
    struct termios tty;
    int fd = open(slave_path, O_RDWR | O_NOCTTY | O_CLOEXEC);

    if (fd < 0) {
        error_setg_errno(errp, errno, "Failed to open '%s'", slave_path);
        return false;
    }
    if (tcgetattr(fd, &tty) == 0) {
        cfmakeraw(&tty);
        tcsetattr(fd, TCSAFLUSH, &tty);
    }
    close(fd);
    return true;
}

static bool pty_open(Chardev *chr, QemuOpts *opts, bool *be_opened, Error **errp)
{
    PtyChardev *s = (PtyChardev *)chr;
    char name[64];

    s->master = -1;
    if (!qemu_opts_check_unused(opts, errp)) {
        return false;
    }
    s->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (s->master < 0 || grantpt(s->master) < 0 || unlockpt(s->master) < 0 ||
        ptsname_r(s->master, name, sizeof(name)) != 0) {
        error_setg_errno(errp, errno, "Failed to create PTY");
        goto fail;
    }
    if (!pty_make_raw(name, errp)) {
        goto fail;
    }
    if (fcntl(s->master, F_SETFL, fcntl(s->master, F_GETFL) | O_NONBLOCK) < 0) {
        error_setg_errno(errp, errno, "Failed to set up PTY");
        goto fail;
    }
    s->slave_path = g_strdup(name);
    s->poll_timer = g_timeout_add(PTY_POLL_MS, pty_poll_timer, s);
    *be_opened = false;
    fprintf(stderr, "char device redirected to %s (label %s)\n", name, chr->label);
    return true;

fail:
    if (s->master >= 0) {
        close(s->master);
    }
    return false;
}

static int pty_write(Chardev *chr, const uint8_t *buf, int len)
{
    PtyChardev *s = (PtyChardev *)chr;
    ssize_t n;

    /* Nobody reading: drop.  (A reader that just arrived gets the output;
     * the timer reports it as OPENED within a second.) */
    if (!s->connected && !pty_peer_present(s)) {
        return len;
    }
    n = write(s->master, buf, len);
    if (n < 0 && errno == EIO) {
        return len;
    }
    return n;
}

static char *pty_describe(Chardev *chr)
{
    return g_strdup_printf("pty:%s", ((PtyChardev *)chr)->slave_path);
}

static void pty_close(Chardev *chr)
{
    PtyChardev *s = (PtyChardev *)chr;

    chr_watch_remove(&s->in_watch);
    if (s->poll_timer) {
        g_source_remove(s->poll_timer);
    }
    close(s->master);
    g_free(s->slave_path);
}

static const ChardevClass pty_class = {
    .name = "pty",
    .instance_size = sizeof(PtyChardev),
    .open = pty_open,
    .write = pty_write,
    .close = pty_close,
    .describe = pty_describe,
};
CHARDEV_CLASS_REGISTER(pty_class)

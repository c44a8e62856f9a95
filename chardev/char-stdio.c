/*
 * -chardev stdio,id=ID[,signal=on|off]
 * Input from fd 0, output to fd 1.  When stdin is a terminal it is put in
 * raw mode (no echo, no line editing; with signal=off Ctrl-C etc. go to the
 * guest instead of raising signals) and restored when the chardev closes,
 * at exit, and on a fatal signal.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>
#include "chardev/char-internal.h"

typedef struct StdioChardev {
    Chardev parent;
    GSource *in_watch;
} StdioChardev;

/* stdin is one per process, so is its saved terminal state. */
static bool stdio_in_use;
static bool stdio_term_saved;
static struct termios stdio_saved_tty;

static void stdio_restore_term(void)
{
    if (stdio_term_saved) {
        tcsetattr(0, TCSANOW, &stdio_saved_tty);
    }
}

/* Fatal signals: put the terminal back, then die as we would have. */
static void stdio_fatal_signal(int sig)
{
    stdio_restore_term();       /* tcsetattr is async-signal-safe */
    raise(sig);                 /* the handler was SA_RESETHAND */
}

static void stdio_install_restore_hooks(void)
{
    static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
    static bool installed;

    if (installed) {
        return;
    }
    installed = true;
    atexit(stdio_restore_term);
    for (size_t i = 0; i < G_N_ELEMENTS(fatal); i++) {
        struct sigaction old, sa = { .sa_handler = stdio_fatal_signal,
                                     .sa_flags = SA_RESETHAND | SA_NODEFER };
        /* Leave handlers someone else installed alone. */
        if (sigaction(fatal[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL) {
            sigemptyset(&sa.sa_mask);
            sigaction(fatal[i], &sa, NULL);
        }
    }
}

/* QEMU's qemu_chr_set_echo_stdio(chr, false). */
static void stdio_set_raw(bool allow_signals)
{
    struct termios tty;

    if (tcgetattr(0, &stdio_saved_tty) < 0) {
        return;
    }
    stdio_term_saved = true;
    stdio_install_restore_hooks();
    tty = stdio_saved_tty;
    tty.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    tty.c_oflag |= OPOST;
    tty.c_lflag &= ~(ECHO | ECHONL | ICANON | IEXTEN);
    tty.c_cflag &= ~(CSIZE | PARENB);
    tty.c_cflag |= CS8;
    tty.c_cc[VMIN] = 1;
    tty.c_cc[VTIME] = 0;
    if (!allow_signals) {
        tty.c_lflag &= ~ISIG;
    }
    tcsetattr(0, TCSANOW, &tty);
}

static gboolean stdio_in_ready(Chardev *chr, GIOCondition cond)
{
    StdioChardev *s = (StdioChardev *)chr;
    int n = chr_fd_read_deliver(chr, 0);

    if (n > 0 || (n < 0 && errno == EAGAIN)) {
        return G_SOURCE_CONTINUE;
    }
    /* End of input (e.g. stdin is /dev/null or a closed pipe). */
    chr_watch_remove(&s->in_watch);
    qemu_chr_be_event(chr, CHR_EVENT_CLOSED);
    return G_SOURCE_REMOVE;
}

static bool stdio_open(Chardev *chr, QemuOpts *opts, bool *be_opened, Error **errp)
{
    StdioChardev *s = (StdioChardev *)chr;
    bool allow_signals;

    if (!qemu_opt_get_bool(opts, "signal", true, &allow_signals, errp) ||
        !qemu_opts_check_unused(opts, errp)) {
        return false;
    }
    if (stdio_in_use) {
        error_setg(errp, "cannot use stdio by multiple character devices");
        return false;
    }
    stdio_in_use = true;
    if (isatty(0)) {
        stdio_set_raw(allow_signals);
    }
    if (fcntl(0, F_GETFL) != -1) {
        s->in_watch = chr_fd_watch_add(chr, 0, G_PRIORITY_DEFAULT, stdio_in_ready);
    }
    return true;
}

static int stdio_write(Chardev *chr, const uint8_t *buf, int len)
{
    return chr_fd_write_nonblock(1, buf, len);
}

static void stdio_close(Chardev *chr)
{
    StdioChardev *s = (StdioChardev *)chr;

    chr_watch_remove(&s->in_watch);
    stdio_restore_term();
    stdio_term_saved = false;
    stdio_in_use = false;
}

static const ChardevClass stdio_class = {
    .name = "stdio",
    .instance_size = sizeof(StdioChardev),
    .open = stdio_open,
    .write = stdio_write,
    .close = stdio_close,
};
CHARDEV_CLASS_REGISTER(stdio_class)

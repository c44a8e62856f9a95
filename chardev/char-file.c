/*
 * -chardev file,id=ID,path=PATH[,append=on|off][,input-path=PATH]
 * Output goes to path (truncated unless append=on); input, if any, is read
 * from input-path until its end.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include "chardev/char-internal.h"

typedef struct FileChardev {
    Chardev parent;
    int out_fd;
    int in_fd;
    GSource *in_watch;
} FileChardev;

static gboolean file_in_ready(Chardev *chr, GIOCondition cond)
{
    FileChardev *s = (FileChardev *)chr;
    int n = chr_fd_read_deliver(chr, s->in_fd);

    if (n > 0 || (n < 0 && errno == EAGAIN)) {
        return G_SOURCE_CONTINUE;
    }
    chr_watch_remove(&s->in_watch);     /* end of input */
    return G_SOURCE_REMOVE;
}

static bool file_open(Chardev *chr, QemuOpts *opts, bool *be_opened, Error **errp)
{
    FileChardev *s = (FileChardev *)chr;
    const char *path = qemu_opt_get(opts, "path");
    const char *in_path = qemu_opt_get(opts, "input-path");
    bool append;

    s->out_fd = s->in_fd = -1;
    if (!qemu_opt_get_bool(opts, "append", false, &append, errp) ||
        !qemu_opts_check_unused(opts, errp)) {
        return false;
    }
    if (!path) {
        error_setg(errp, "chardev: file: no filename given");
        return false;
    }
    s->out_fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC),
                     0666);
    if (s->out_fd < 0) {
        error_setg_errno(errp, errno, "Could not open '%s'", path);
        return false;
    }
    if (in_path) {
        s->in_fd = open(in_path, O_RDONLY | O_CLOEXEC);
        if (s->in_fd < 0) {
            error_setg_errno(errp, errno, "Could not open '%s'", in_path);
            close(s->out_fd);
            return false;
        }
        s->in_watch = chr_fd_watch_add(chr, s->in_fd, G_PRIORITY_DEFAULT, file_in_ready);
    }
    return true;
}

static int file_write(Chardev *chr, const uint8_t *buf, int len)
{
    return chr_fd_write_nonblock(((FileChardev *)chr)->out_fd, buf, len);
}

static void file_close(Chardev *chr)
{
    FileChardev *s = (FileChardev *)chr;

    chr_watch_remove(&s->in_watch);
    if (s->in_fd >= 0) {
        close(s->in_fd);
    }
    close(s->out_fd);
}

static const ChardevClass file_class = {
    .name = "file",
    .instance_size = sizeof(FileChardev),
    .open = file_open,
    .write = file_write,
    .close = file_close,
};
CHARDEV_CLASS_REGISTER(file_class)

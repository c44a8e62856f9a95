/*
 * Helpers shared by the chardev core and its backends.  Private to
 * chardev/: devices use include/chardev/char.h only.
 */
#ifndef KVMPC_CHARDEV_CHAR_INTERNAL_H
#define KVMPC_CHARDEV_CHAR_INTERNAL_H

#include "chardev/char.h"

/* Largest chunk read from a backend fd in one go. */
#define CHR_READ_BUF_LEN 4096

/* Replace chr->filename with the backend's describe() (state changed). */
void qemu_chr_update_filename(Chardev *chr);

/*
 * Input watch on fd: the fd is polled (G_IO_IN, plus HUP/ERR which poll
 * always reports) only while the frontend can take bytes
 * (qemu_chr_be_can_write() > 0); so can_read() returning 0 stops delivery
 * until qemu_chr_fe_accept_input() wakes the main loop.  func returns
 * G_SOURCE_REMOVE to end the watch, after calling chr_watch_remove() on
 * its own pointer to drop the reference.
 */
typedef gboolean ChrFdFunc(Chardev *chr, GIOCondition cond);
GSource *chr_fd_watch_add(Chardev *chr, int fd, int priority, ChrFdFunc *func);
void chr_watch_remove(GSource **src);

/* Read up to what the frontend takes now and deliver it.  Returns bytes
 * read, 0 on EOF, -1 with errno (EAGAIN if nothing to read or the
 * frontend is full: check errno). */
int chr_fd_read_deliver(Chardev *chr, int fd);

/* write(2) that never blocks on a blocking fd: polls for POLLOUT first.
 * Returns bytes written or -1 with errno (EAGAIN when full). */
int chr_fd_write_nonblock(int fd, const uint8_t *buf, int len);

#endif

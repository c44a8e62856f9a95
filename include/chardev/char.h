/*
 * Character devices.  A backend (Chardev: stdio, file, null, pty, socket,
 * ...) is created from -chardev/-serial and named by its id; a device
 * holds a CharBackend (its frontend end) and never touches the fd.
 *
 * Input flows backend -> frontend: the backend calls can_read() to ask how
 * many bytes the device takes, then read().  When can_read() returned 0 the
 * backend stops polling until the device calls qemu_chr_fe_accept_input().
 */
#ifndef KVMPC_CHARDEV_CHAR_H
#define KVMPC_CHARDEV_CHAR_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include "qemu/error.h"
#include "qemu/option.h"

typedef struct Chardev Chardev;
typedef struct ChardevClass ChardevClass;

typedef enum QEMUChrEvent {
    CHR_EVENT_OPENED,           /* a peer connected / backend ready */
    CHR_EVENT_CLOSED,           /* the peer went away */
    CHR_EVENT_BREAK,
    CHR_EVENT_MUX_IN,
    CHR_EVENT_MUX_OUT,
} QEMUChrEvent;

typedef int IOCanReadHandler(void *opaque);
typedef void IOReadHandler(void *opaque, const uint8_t *buf, int size);
typedef void IOEventHandler(void *opaque, QEMUChrEvent event);

typedef struct CharBackend {
    Chardev *chr;
    IOCanReadHandler *can_read;
    IOReadHandler *read;
    IOEventHandler *event;
    void *opaque;
    int tag;                    /* index in a mux, 0 otherwise */
} CharBackend;

struct ChardevClass {
    const char *name;           /* "socket", "file", ... (-chardev TYPE) */
    size_t instance_size;
    /* Parse options (opts is the whole -chardev string minus type/id) and
     * open.  *be_opened = false if OPENED is sent later (socket server). */
    bool (*open)(Chardev *chr, QemuOpts *opts, bool *be_opened, Error **errp);
    /* Write as much as possible without blocking; return bytes written or
     * -1 (errno set).  NULL: output is discarded. */
    int (*write)(Chardev *chr, const uint8_t *buf, int len);
    /* The frontend's handlers or can_read state changed. */
    void (*update_read_handler)(Chardev *chr);
    void (*close)(Chardev *chr);
    /* For query-chardev: "pty:/dev/pts/3", "unix:/tmp/s,server=on"... */
    char *(*describe)(Chardev *chr);
    /* Optional: a backend that takes several frontends (mux) attaches
     * and detaches them itself instead of using chr->be alone. */
    bool (*fe_attach)(Chardev *chr, CharBackend *be, Error **errp);
    void (*fe_detach)(Chardev *chr, CharBackend *be);
    /* Optional: take one fd received with the last input (SCM_RIGHTS on a
     * unix socket), or -1. */
    int (*get_msgfd)(Chardev *chr);
    /* Optional: the fd output goes to now (-1: none), for
     * qemu_chr_fe_add_write_watch(). */
    int (*get_out_fd)(Chardev *chr);
    /* Optional: a frontend can take input again (a mux drains what it
     * held back for it). */
    void (*accept_input)(Chardev *chr);
};

struct Chardev {
    const ChardevClass *klass;
    char *label;                /* id */
    char *filename;             /* describe() result cached at open */
    CharBackend *be;            /* attached frontend or NULL */
    bool be_open;               /* peer connected */
    GMutex write_lock;          /* writes may come from vCPU threads */
    int logfd;                  /* logfile=, or -1 */
    bool write_stalled;         /* a write_all timed out: drop output until the peer drains */
};

void chardev_class_register(const ChardevClass *cc);
#define CHARDEV_CLASS_REGISTER(cc) \
    static void __attribute__((constructor)) cc##_register_(void) { chardev_class_register(&(cc)); }
const ChardevClass *chardev_class_find(const char *name);

/* -chardev TYPE,id=ID,... */
Chardev *qemu_chr_new_from_opts(const char *optstr, Error **errp);
/* -serial / -qmp / -monitor legacy syntax: "stdio", "null", "file:PATH",
 * "pty", "unix:PATH[,server=on,wait=off]", "tcp:HOST:PORT[,...]",
 * "chardev:ID", "none".  label becomes the id (e.g. "serial0"). */
Chardev *qemu_chr_new(const char *label, const char *filename, Error **errp);
Chardev *qemu_chr_find(const char *label);
void qemu_chr_delete(Chardev *chr);
GPtrArray *qemu_chr_list(void);     /* all chardevs; free the array only */
void qemu_chr_cleanup_all(void);    /* at exit: restore terminals, flush */

/* Frontend side. */
bool qemu_chr_fe_init(CharBackend *be, Chardev *chr, Error **errp);
void qemu_chr_fe_deinit(CharBackend *be);
static inline bool qemu_chr_fe_backend_connected(CharBackend *be) { return be->chr != NULL; }
void qemu_chr_fe_set_handlers(CharBackend *be, IOCanReadHandler *can_read,
                              IOReadHandler *read, IOEventHandler *event, void *opaque);
/* Writes everything (retrying briefly on EAGAIN; drops output if the peer
 * is gone).  Safe from any thread.  Returns len or -1. */
int qemu_chr_fe_write_all(CharBackend *be, const uint8_t *buf, int len);
/* Writes what the backend takes now, without waiting: returns bytes
 * written (len when output is discarded) or -1 with errno (EAGAIN: full). */
int qemu_chr_fe_write(CharBackend *be, const uint8_t *buf, int len);
/* Calls func(opaque) from the main loop (big lock held) once the backend
 * can take output again or its peer is gone; func returns G_SOURCE_REMOVE
 * (or G_SOURCE_CONTINUE to wait again).  Returns the GLib source id for
 * g_source_remove(), or 0 if the backend cannot tell: then poll. */
guint qemu_chr_fe_add_write_watch(CharBackend *be, GSourceFunc func, void *opaque);
/* The device can take input again after returning 0 from can_read. */
void qemu_chr_fe_accept_input(CharBackend *be);
/* An fd passed with the input just read (QMP getfd), or -1. */
int qemu_chr_fe_get_msgfd(CharBackend *be);

/* Backend side helpers (for chardev implementations). */
int qemu_chr_be_can_write(Chardev *chr);
void qemu_chr_be_write(Chardev *chr, const uint8_t *buf, int len);
void qemu_chr_be_event(Chardev *chr, QEMUChrEvent event);

#endif

/*
 * Consoles: what a display device draws into, and what screendump reads.
 *
 * A graphics device registers a console with graphic_console_init() and
 * draws into the console's DisplaySurface (32-bit x8r8g8b8 pixels, host
 * byte order), resizing it with qemu_console_resize().  It reports the
 * rectangles it changed with dpy_gfx_update(); the console accumulates them
 * in a dirty rectangle that a display backend (none yet) consumes.
 * graphic_hw_update() asks the device to bring the surface up to date (a
 * backend's refresh, or screendump).
 */
#ifndef KVMPC_UI_CONSOLE_H
#define KVMPC_UI_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>
#include "qemu/error.h"

typedef struct DisplaySurface {
    int width, height;
    int stride;                 /* bytes per line */
    uint32_t *data;             /* width x height pixels, 0x00RRGGBB */
} DisplaySurface;

typedef struct GraphicHwOps {
    /* Redraw whatever changed into the console's surface. */
    void (*gfx_update)(void *opaque);
} GraphicHwOps;

typedef struct QemuConsole QemuConsole;

QemuConsole *graphic_console_init(const GraphicHwOps *ops, void *opaque);
void graphic_console_close(QemuConsole *con);
/* The first graphic console, NULL if there is none. */
QemuConsole *qemu_console_lookup_default(void);

DisplaySurface *qemu_console_surface(QemuConsole *con);
/* A new surface of w x h (black) if the size differs; all of it dirty. */
void qemu_console_resize(QemuConsole *con, int w, int h);
void dpy_gfx_update(QemuConsole *con, int x, int y, int w, int h);
/* The accumulated dirty rectangle (false if clean), and clear it. */
bool dpy_gfx_take_dirty(QemuConsole *con, int *x, int *y, int *w, int *h);
void graphic_hw_update(QemuConsole *con);

static inline uint32_t rgb_to_pixel32(unsigned r, unsigned g, unsigned b)
{
    return (r & 0xff) << 16 | (g & 0xff) << 8 | (b & 0xff);
}

/* Updates the default console and writes it to filename as binary PPM
 * (format NULL or "ppm"); "png" is refused (not built in yet). */
bool qemu_console_screendump(const char *filename, const char *format, Error **errp);

#endif

/*
 * Graphic consoles and their surfaces (see include/ui/console.h), and
 * screendump.
 */
#include <png.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include "ui/console.h"

struct QemuConsole {
    const GraphicHwOps *ops;
    void *opaque;
    DisplaySurface surface;
    bool dirty;
    int dx0, dy0, dx1, dy1;     /* dirty rectangle, [x0,x1) x [y0,y1) */
};

static GPtrArray *consoles;

QemuConsole *graphic_console_init(const GraphicHwOps *ops, void *opaque)
{
    QemuConsole *con = g_new0(QemuConsole, 1);

    con->ops = ops;
    con->opaque = opaque;
    if (!consoles) {
        consoles = g_ptr_array_new();
    }
    g_ptr_array_add(consoles, con);
    qemu_console_resize(con, 640, 480);
    return con;
}

void graphic_console_close(QemuConsole *con)
{
    if (!con) {
        return;
    }
    g_ptr_array_remove(consoles, con);
    g_free(con->surface.data);
    g_free(con);
}

QemuConsole *qemu_console_lookup_default(void)
{
    return consoles && consoles->len ? g_ptr_array_index(consoles, 0) : NULL;
}

DisplaySurface *qemu_console_surface(QemuConsole *con)
{
    return &con->surface;
}

void qemu_console_resize(QemuConsole *con, int w, int h)
{
    DisplaySurface *s = &con->surface;

    if (w < 1) {
        w = 1;
    }
    if (h < 1) {
        h = 1;
    }
    if (s->data && s->width == w && s->height == h) {
        return;
    }
    g_free(s->data);
    s->width = w;
    s->height = h;
    s->stride = w * 4;
    s->data = g_new0(uint32_t, (size_t)w * h);
    dpy_gfx_update(con, 0, 0, w, h);
}

void dpy_gfx_update(QemuConsole *con, int x, int y, int w, int h)
{
    int x1 = MIN(x + w, con->surface.width), y1 = MIN(y + h, con->surface.height);

    x = MAX(x, 0);
    y = MAX(y, 0);
    if (x >= x1 || y >= y1) {
        return;
    }
    if (!con->dirty) {
        con->dx0 = x, con->dy0 = y, con->dx1 = x1, con->dy1 = y1;
        con->dirty = true;
        return;
    }
    con->dx0 = MIN(con->dx0, x);
    con->dy0 = MIN(con->dy0, y);
    con->dx1 = MAX(con->dx1, x1);
    con->dy1 = MAX(con->dy1, y1);
}

bool dpy_gfx_take_dirty(QemuConsole *con, int *x, int *y, int *w, int *h)
{
    if (!con->dirty) {
        return false;
    }
    *x = con->dx0;
    *y = con->dy0;
    *w = con->dx1 - con->dx0;
    *h = con->dy1 - con->dy0;
    con->dirty = false;
    return true;
}

void graphic_hw_update(QemuConsole *con)
{
    if (con && con->ops && con->ops->gfx_update) {
        con->ops->gfx_update(con->opaque);
    }
}

static bool write_ppm(DisplaySurface *s, const char *filename, Error **errp)
{
    FILE *f = fopen(filename, "wb");
    uint8_t *line;
    bool ok;

    if (!f) {
        error_setg_errno(errp, errno, "screendump: cannot open '%s'", filename);
        return false;
    }
    fprintf(f, "P6\n%d %d\n255\n", s->width, s->height);
    line = g_malloc((size_t)s->width * 3);
    ok = true;
    for (int y = 0; y < s->height && ok; y++) {
        const uint32_t *p = s->data + (size_t)y * s->width;
        for (int x = 0; x < s->width; x++) {
            line[3 * x] = p[x] >> 16;
            line[3 * x + 1] = p[x] >> 8;
            line[3 * x + 2] = p[x];
        }
        ok = fwrite(line, 3, s->width, f) == (size_t)s->width;
    }
    g_free(line);
    if (fclose(f) != 0) {
        ok = false;
    }
    if (!ok) {
        error_setg_errno(errp, errno, "screendump: cannot write '%s'", filename);
    }
    return ok;
}

/* 8-bit RGB, no alpha, as QEMU's screendump format=png (libpng). */
static bool write_png(DisplaySurface *s, const char *filename, Error **errp)
{
    FILE *f = fopen(filename, "wb");
    png_structp png;
    png_infop info;
    uint8_t *volatile line = NULL;
    bool ok = false;

    if (!f) {
        error_setg_errno(errp, errno, "screendump: cannot open '%s'", filename);
        return false;
    }
    png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        error_setg(errp, "screendump: cannot set up libpng");
        goto out;
    }
    if (setjmp(png_jmpbuf(png))) {
        error_setg(errp, "screendump: cannot write '%s' as PNG", filename);
        goto out;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, s->width, s->height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    line = g_malloc((size_t)s->width * 3);
    for (int y = 0; y < s->height; y++) {
        const uint32_t *p = s->data + (size_t)y * s->width;
        for (int x = 0; x < s->width; x++) {
            line[3 * x] = p[x] >> 16;
            line[3 * x + 1] = p[x] >> 8;
            line[3 * x + 2] = p[x];
        }
        png_write_row(png, line);
    }
    png_write_end(png, NULL);
    ok = true;
out:
    png_destroy_write_struct(png ? &png : NULL, info ? &info : NULL);
    g_free(line);
    if (fclose(f) != 0 && ok) {
        error_setg_errno(errp, errno, "screendump: cannot write '%s'", filename);
        ok = false;
    }
    return ok;
}

bool qemu_console_screendump(const char *filename, const char *format, Error **errp)
{
    QemuConsole *con = qemu_console_lookup_default();
    bool png = format && !strcmp(format, "png");

    if (format && strcmp(format, "ppm") && !png) {
        error_setg(errp, "screendump: Parameter 'format' does not accept value '%s'", format);
        return false;
    }
    if (!con) {
        error_setg(errp, "There is no console to take a screendump from");
        return false;
    }
    graphic_hw_update(con);
    return png ? write_png(&con->surface, filename, errp)
               : write_ppm(&con->surface, filename, errp);
}

/*
 * vmstate streams; the format is described in include/hw/vmstate.h.
 * Per section: "name\0" u32 version, then per field of that version:
 * "name\0" u32 size, payload (little-endian scalars), then the needed
 * subsections, each behind a 0x01 mark.  Nested structs recurse.  Loading
 * checks names and sizes so that a stream from a different layout is
 * refused with the field's name, never misread; no input, however
 * corrupt, makes the loader read outside the buffer.
 */
#include <string.h>
#include "hw/vmstate.h"
#include "system/main-loop.h"

/* ---- encoding ------------------------------------------------------------ */

static void put_le(GByteArray *out, uint64_t v, unsigned bytes)
{
    uint8_t b[8];

    for (unsigned i = 0; i < bytes; i++) {
        b[i] = (uint8_t)(v >> (8 * i));
    }
    g_byte_array_append(out, b, bytes);
}

static uint64_t get_le(const uint8_t *p, unsigned bytes)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < bytes; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

static void put_u32(GByteArray *out, uint32_t v)
{
    put_le(out, v, 4);
}

static void put_str(GByteArray *out, const char *s)
{
    g_byte_array_append(out, (const uint8_t *)s, strlen(s) + 1);
}

static size_t field_bytes(const VMStateField *f)
{
    return f->size * f->num;
}

/* Integers of 2, 4 or 8 bytes are stored element by element, little-endian;
 * bytes, bools and buffers as they are. */
static bool field_is_integer(const VMStateField *f)
{
    switch (f->type) {
    case VMS_UINT16:
    case VMS_UINT32:
    case VMS_UINT64:
    case VMS_INT32:
    case VMS_INT64:
        return f->size == 2 || f->size == 4 || f->size == 8;
    default:
        return false;
    }
}

static uint64_t load_host(const uint8_t *p, size_t size)
{
    uint16_t v16;
    uint32_t v32;
    uint64_t v64;

    switch (size) {
    case 2:
        memcpy(&v16, p, 2);
        return v16;
    case 4:
        memcpy(&v32, p, 4);
        return v32;
    default:
        memcpy(&v64, p, 8);
        return v64;
    }
}

static void store_host(uint8_t *p, size_t size, uint64_t v)
{
    uint16_t v16 = (uint16_t)v;
    uint32_t v32 = (uint32_t)v;

    switch (size) {
    case 2:
        memcpy(p, &v16, 2);
        break;
    case 4:
        memcpy(p, &v32, 4);
        break;
    default:
        memcpy(p, &v, 8);
        break;
    }
}

/* ---- save ------------------------------------------------------------------ */

static bool is_subsection_of(const VMStateDescription *vmsd, const char *name)
{
    size_t n = strlen(vmsd->name);

    return !strncmp(name, vmsd->name, n) && name[n] == '/';
}

static bool subsection_needed(const VMStateDescription *sub, void *opaque)
{
    return !sub->needed || sub->needed(opaque);
}

bool vmstate_save(const VMStateDescription *vmsd, void *opaque, GByteArray *out, Error **errp)
{
    if (vmsd->pre_save && vmsd->pre_save(opaque) < 0) {
        error_setg(errp, "vmstate '%s': pre_save failed", vmsd->name);
        return false;
    }
    if (vmsd->name[0] == VMSTATE_SUBSECTION_MARK) {
        error_setg(errp, "vmstate: a section name may not start with byte 0x01");
        return false;
    }
    put_str(out, vmsd->name);
    put_u32(out, vmsd->version_id);
    for (const VMStateField *f = vmsd->fields; f && f->name; f++) {
        uint8_t *base = (uint8_t *)opaque + f->offset;
        if (f->version_id > vmsd->version_id) {
            continue;           /* a field of a future version: not yet there */
        }
        put_str(out, f->name);
        switch (f->type) {
        case VMS_STRUCT:
            put_u32(out, f->num);
            for (unsigned i = 0; i < f->num; i++) {
                if (!vmstate_save(f->vmsd, base + i * f->size, out, errp)) {
                    return false;
                }
            }
            break;
        case VMS_TIMER: {
            QEMUTimer *t = *(QEMUTimer **)base;
            int64_t exp = t ? timer_expire_time_ns(t) : -1;
            put_u32(out, 8);
            put_le(out, (uint64_t)exp, 8);
            break;
        }
        case VMS_VBUFFER: {
            size_t n = 0;
            uint8_t *p = f->vbuf(opaque, &n);
            if (!p || n > UINT32_MAX) {
                error_setg(errp, "vmstate '%s': no buffer for field '%s'", vmsd->name, f->name);
                return false;
            }
            put_u32(out, (uint32_t)n);
            g_byte_array_append(out, p, (guint)n);
            break;
        }
        default:
            put_u32(out, field_bytes(f));
            if (field_is_integer(f)) {
                for (unsigned i = 0; i < f->num; i++) {
                    put_le(out, load_host(base + i * f->size, f->size), f->size);
                }
            } else {
                g_byte_array_append(out, base, field_bytes(f));
            }
            break;
        }
    }
    for (const VMStateDescription *const *sub = vmsd->subsections; sub && *sub; sub++) {
        if (!is_subsection_of(vmsd, (*sub)->name)) {
            error_setg(errp, "vmstate '%s': subsection '%s' must be named '%s/...'",
                       vmsd->name, (*sub)->name, vmsd->name);
            return false;
        }
        if (!subsection_needed(*sub, opaque)) {
            continue;
        }
        put_le(out, VMSTATE_SUBSECTION_MARK, 1);
        if (!vmstate_save(*sub, opaque, out, errp)) {
            return false;
        }
    }
    return true;
}

/* ---- load ------------------------------------------------------------------ */

static bool get_u32(const uint8_t *buf, size_t len, size_t *pos, uint32_t *v)
{
    if (*pos > len || len - *pos < 4) {
        return false;
    }
    *v = (uint32_t)get_le(buf + *pos, 4);
    *pos += 4;
    return true;
}

static bool get_str(const uint8_t *buf, size_t len, size_t *pos, const char **s)
{
    const uint8_t *nul;

    if (*pos >= len) {
        return false;
    }
    nul = memchr(buf + *pos, 0, len - *pos);
    if (!nul) {
        return false;
    }
    *s = (const char *)buf + *pos;
    *pos = nul - buf + 1;
    return true;
}

static bool load_section(const VMStateDescription *vmsd, void *opaque, const uint8_t *buf,
                         size_t len, size_t *pos, bool nested, Error **errp);

static bool load_field(const VMStateDescription *vmsd, const VMStateField *f, uint8_t *base,
                       uint32_t size, const uint8_t *buf, size_t len, size_t *pos, Error **errp)
{
    switch (f->type) {
    case VMS_VBUFFER: {
        size_t n = 0;
        uint8_t *p = f->vbuf(base - f->offset, &n);
        if (!p) {
            error_setg(errp, "vmstate '%s': this object has no '%s'", vmsd->name, f->name);
            return false;
        }
        if (size != n || len - *pos < size) {
            error_setg(errp, "vmstate '%s': field '%s' has %u bytes, expected %zu",
                       vmsd->name, f->name, size, n);
            return false;
        }
        memcpy(p, buf + *pos, size);
        *pos += size;
        return true;
    }
    case VMS_STRUCT:
        if (size != f->num) {
            error_setg(errp, "vmstate '%s': field '%s' has %u elements, expected %u",
                       vmsd->name, f->name, size, f->num);
            return false;
        }
        for (unsigned i = 0; i < f->num; i++) {
            if (!load_section(f->vmsd, base + i * f->size, buf, len, pos, true, errp)) {
                return false;
            }
        }
        return true;
    case VMS_TIMER: {
        int64_t exp;
        QEMUTimer *t = *(QEMUTimer **)base;
        if (size != 8 || len - *pos < 8) {
            error_setg(errp, "vmstate '%s': bad timer field '%s'", vmsd->name, f->name);
            return false;
        }
        exp = (int64_t)get_le(buf + *pos, 8);
        *pos += 8;
        if (t) {
            if (exp < 0) {
                timer_del(t);
            } else {
                timer_mod(t, exp);
            }
        }
        return true;
    }
    default:
        if (size != field_bytes(f) || len - *pos < size) {
            error_setg(errp, "vmstate '%s': field '%s' has %u bytes, expected %zu",
                       vmsd->name, f->name, size, field_bytes(f));
            return false;
        }
        if (f->type == VMS_BOOL) {
            for (unsigned i = 0; i < f->num; i++) {
                base[i] = buf[*pos + i] != 0;
            }
        } else if (field_is_integer(f)) {
            for (unsigned i = 0; i < f->num; i++) {
                store_host(base + i * f->size, f->size,
                           get_le(buf + *pos + i * f->size, f->size));
            }
        } else {
            memcpy(base, buf + *pos, size);
        }
        *pos += size;
        return true;
    }
}

/*
 * Subsections follow the fields, each behind a mark; any order, each once.
 * A subsection is named "<section>/<part>": one of another name after a
 * nested section belongs to an enclosing section, so a nested section
 * leaves it; at the top level there is no one else to take it.
 */
static bool load_subsections(const VMStateDescription *vmsd, void *opaque, const uint8_t *buf,
                             size_t len, size_t *pos, bool nested, Error **errp)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(NULL, NULL);

    while (*pos < len && buf[*pos] == VMSTATE_SUBSECTION_MARK) {
        const VMStateDescription *const *sub = vmsd->subsections;
        size_t p = *pos + 1;
        const char *name;

        if (!get_str(buf, len, &p, &name)) {
            error_setg(errp, "vmstate '%s': truncated subsection", vmsd->name);
            return false;
        }
        if (nested && !is_subsection_of(vmsd, name)) {
            return true;
        }
        while (sub && *sub && strcmp((*sub)->name, name)) {
            sub++;
        }
        if (!sub || !*sub) {
            error_setg(errp, "vmstate '%s': unknown subsection '%s'", vmsd->name, name);
            return false;
        }
        if (!g_hash_table_add(seen, (gpointer)*sub)) {
            error_setg(errp, "vmstate '%s': subsection '%s' appears twice", vmsd->name, name);
            return false;
        }
        *pos += 1;
        if (!load_section(*sub, opaque, buf, len, pos, true, errp)) {
            return false;
        }
    }
    return true;
}

static bool load_section(const VMStateDescription *vmsd, void *opaque, const uint8_t *buf,
                         size_t len, size_t *pos, bool nested, Error **errp)
{
    const char *name;
    uint32_t version, size;

    if (!get_str(buf, len, pos, &name) || !get_u32(buf, len, pos, &version)) {
        error_setg(errp, "vmstate '%s': truncated stream", vmsd->name);
        return false;
    }
    if (strcmp(name, vmsd->name)) {
        error_setg(errp, "vmstate: expected section '%s', found '%s'", vmsd->name, name);
        return false;
    }
    if (version > (uint32_t)vmsd->version_id || (int)version < vmsd->minimum_version_id) {
        error_setg(errp, "vmstate '%s': unsupported version %u (we take %d..%d)", vmsd->name,
                   version, vmsd->minimum_version_id, vmsd->version_id);
        return false;
    }
    for (const VMStateField *f = vmsd->fields; f && f->name; f++) {
        uint8_t *base = (uint8_t *)opaque + f->offset;
        if (f->version_id > (int)version) {
            continue;           /* not in a stream that old: keep our value */
        }
        if (!get_str(buf, len, pos, &name) || !get_u32(buf, len, pos, &size)) {
            error_setg(errp, "vmstate '%s': truncated at field '%s'", vmsd->name, f->name);
            return false;
        }
        if (strcmp(name, f->name)) {
            error_setg(errp, "vmstate '%s': expected field '%s', found '%s'", vmsd->name,
                       f->name, name);
            return false;
        }
        if (!load_field(vmsd, f, base, size, buf, len, pos, errp)) {
            return false;
        }
    }
    if (!load_subsections(vmsd, opaque, buf, len, pos, nested, errp)) {
        return false;
    }
    if (vmsd->post_load && vmsd->post_load(opaque, (int)version) < 0) {
        error_setg(errp, "vmstate '%s': post_load rejected the state", vmsd->name);
        return false;
    }
    return true;
}

bool vmstate_load(const VMStateDescription *vmsd, void *opaque, const uint8_t *buf,
                  size_t len, size_t *pos, Error **errp)
{
    return load_section(vmsd, opaque, buf, len, pos, false, errp);
}

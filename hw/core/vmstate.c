/*
 * vmstate streams.  Format, per description: "name\0" u32 version, then per
 * field: "name\0" u32 total-size, payload (little-endian scalars).  Nested
 * structs recurse.  Loading checks names and sizes so that a stream from a
 * different layout is refused with the field's name, never misread.
 */
#include <string.h>
#include "hw/vmstate.h"
#include "system/main-loop.h"

static void put_u32(GByteArray *out, uint32_t v)
{
    uint8_t b[4] = { v, v >> 8, v >> 16, v >> 24 };
    g_byte_array_append(out, b, 4);
}

static void put_str(GByteArray *out, const char *s)
{
    g_byte_array_append(out, (const uint8_t *)s, strlen(s) + 1);
}

static size_t field_bytes(const VMStateField *f)
{
    return f->size * f->num;
}

bool vmstate_save(const VMStateDescription *vmsd, void *opaque, GByteArray *out, Error **errp)
{
    if (vmsd->pre_save && vmsd->pre_save(opaque) < 0) {
        error_setg(errp, "vmstate '%s': pre_save failed", vmsd->name);
        return false;
    }
    put_str(out, vmsd->name);
    put_u32(out, vmsd->version_id);
    for (const VMStateField *f = vmsd->fields; f && f->name; f++) {
        uint8_t *base = (uint8_t *)opaque + f->offset;
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
            g_byte_array_append(out, (uint8_t *)&exp, 8);
            break;
        }
        default:
            put_u32(out, field_bytes(f));
            g_byte_array_append(out, base, field_bytes(f));
            break;
        }
    }
    return true;
}

static bool get_u32(const uint8_t *buf, size_t len, size_t *pos, uint32_t *v)
{
    if (len - *pos < 4 || *pos > len) {
        return false;
    }
    *v = buf[*pos] | buf[*pos + 1] << 8 | buf[*pos + 2] << 16 | (uint32_t)buf[*pos + 3] << 24;
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

bool vmstate_load(const VMStateDescription *vmsd, void *opaque, const uint8_t *buf,
                  size_t len, size_t *pos, Error **errp)
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
    if ((int)version > vmsd->version_id || (int)version < vmsd->minimum_version_id) {
        error_setg(errp, "vmstate '%s': unsupported version %u (we take %d..%d)", vmsd->name,
                   version, vmsd->minimum_version_id, vmsd->version_id);
        return false;
    }
    for (const VMStateField *f = vmsd->fields; f && f->name; f++) {
        uint8_t *base = (uint8_t *)opaque + f->offset;
        if (!get_str(buf, len, pos, &name) || !get_u32(buf, len, pos, &size)) {
            error_setg(errp, "vmstate '%s': truncated at field '%s'", vmsd->name, f->name);
            return false;
        }
        if (strcmp(name, f->name)) {
            error_setg(errp, "vmstate '%s': expected field '%s', found '%s'", vmsd->name,
                       f->name, name);
            return false;
        }
        switch (f->type) {
        case VMS_STRUCT:
            if (size != f->num) {
                error_setg(errp, "vmstate '%s': field '%s' has %u elements, expected %u",
                           vmsd->name, f->name, size, f->num);
                return false;
            }
            for (unsigned i = 0; i < f->num; i++) {
                if (!vmstate_load(f->vmsd, base + i * f->size, buf, len, pos, errp)) {
                    return false;
                }
            }
            break;
        case VMS_TIMER: {
            int64_t exp;
            QEMUTimer *t = *(QEMUTimer **)base;
            if (size != 8 || len - *pos < 8) {
                error_setg(errp, "vmstate '%s': bad timer field '%s'", vmsd->name, f->name);
                return false;
            }
            memcpy(&exp, buf + *pos, 8);
            *pos += 8;
            if (t) {
                if (exp < 0) {
                    timer_del(t);
                } else {
                    timer_mod(t, exp);
                }
            }
            break;
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
            } else {
                memcpy(base, buf + *pos, size);
            }
            *pos += size;
            break;
        }
    }
    if (vmsd->post_load && vmsd->post_load(opaque, version) < 0) {
        error_setg(errp, "vmstate '%s': post_load rejected the state", vmsd->name);
        return false;
    }
    return true;
}

/*
 * Migratable device state, described as a table of fields beside the
 * device's code.  savevm/loadvm, live migration and reset-checking walk
 * these tables; a device is migratable the day it is written.
 */
#ifndef KVMPC_HW_VMSTATE_H
#define KVMPC_HW_VMSTATE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <glib.h>
#include "qemu/error.h"

typedef enum VMStateFieldType {
    VMS_END = 0,
    VMS_BOOL,
    VMS_UINT8,
    VMS_UINT16,
    VMS_UINT32,
    VMS_UINT64,
    VMS_INT32,
    VMS_INT64,
    VMS_BUFFER,         /* `size` raw bytes */
    VMS_STRUCT,         /* nested description, `num` elements of `size` bytes */
    VMS_TIMER,          /* QEMUTimer *: saves expiry (or -1) */
    VMS_VBUFFER,        /* bytes the device sizes at run time: vbuf() says where */
} VMStateFieldType;

typedef struct VMStateDescription VMStateDescription;

typedef struct VMStateField {
    const char *name;
    VMStateFieldType type;
    size_t offset;
    size_t size;        /* element size in bytes */
    unsigned num;       /* array length (1 for scalars) */
    const VMStateDescription *vmsd;   /* VMS_STRUCT */
    /* The description version that added the field (0: always there).  A
     * stream of an older version does not carry it, and loading one leaves
     * the field as it was (the reset value, on a freshly reset device). */
    int version_id;
    /* VMS_VBUFFER: the buffer of this opaque (the section's) and its length
     * in bytes; NULL if the object has none.  A stream's buffer must have
     * exactly that length to load. */
    uint8_t *(*vbuf)(void *opaque, size_t *len);
} VMStateField;

struct VMStateDescription {
    const char *name;
    int version_id;
    int minimum_version_id;
    int (*pre_save)(void *opaque);
    /* Gets the version of the stream being loaded. */
    int (*post_load)(void *opaque, int version_id);
    const VMStateField *fields;
    /* A subsection: saved only when needed(opaque) says so (always if
     * NULL).  Only meaningful on descriptions listed in .subsections. */
    bool (*needed)(void *opaque);
    /* NULL-terminated: optional parts of the state, each with its own
     * name ("parent/part" by convention), version and fields, describing
     * the same opaque.  A loader that does not know a subsection in the
     * stream refuses it; one absent from the stream is fine. */
    const VMStateDescription *const *subsections;
};

#define VMSTATE_SCALAR_(f_, S_, t_, T_, n_) \
    { .name = #f_, .type = (t_), .offset = offsetof(S_, f_), \
      .size = sizeof(T_), .num = (n_) }
/* The (T*)0 comparisons make the compiler check the field's type. */
#define VMSTATE_CHECK_(S_, f_, T_) (sizeof(&((S_ *)0)->f_ == (T_ *)0))

#define VMSTATE_BOOL(f, S)    VMSTATE_SCALAR_(f, S, VMS_BOOL, bool, 1)
#define VMSTATE_UINT8(f, S)   VMSTATE_SCALAR_(f, S, VMS_UINT8, uint8_t, 1)
#define VMSTATE_UINT16(f, S)  VMSTATE_SCALAR_(f, S, VMS_UINT16, uint16_t, 1)
#define VMSTATE_UINT32(f, S)  VMSTATE_SCALAR_(f, S, VMS_UINT32, uint32_t, 1)
#define VMSTATE_UINT64(f, S)  VMSTATE_SCALAR_(f, S, VMS_UINT64, uint64_t, 1)
#define VMSTATE_INT32(f, S)   VMSTATE_SCALAR_(f, S, VMS_INT32, int32_t, 1)
#define VMSTATE_INT64(f, S)   VMSTATE_SCALAR_(f, S, VMS_INT64, int64_t, 1)
#define VMSTATE_UINT8_ARRAY(f, S, n)  VMSTATE_SCALAR_(f, S, VMS_UINT8, uint8_t, n)
#define VMSTATE_UINT16_ARRAY(f, S, n) VMSTATE_SCALAR_(f, S, VMS_UINT16, uint16_t, n)
#define VMSTATE_UINT32_ARRAY(f, S, n) VMSTATE_SCALAR_(f, S, VMS_UINT32, uint32_t, n)
#define VMSTATE_UINT64_ARRAY(f, S, n) VMSTATE_SCALAR_(f, S, VMS_UINT64, uint64_t, n)
#define VMSTATE_BUFFER(f, S) \
    { .name = #f, .type = VMS_BUFFER, .offset = offsetof(S, f), \
      .size = sizeof(((S *)0)->f), .num = 1 }
#define VMSTATE_STRUCT(f, S, desc, T) \
    { .name = #f, .type = VMS_STRUCT, .offset = offsetof(S, f), \
      .size = sizeof(T), .num = 1, .vmsd = &(desc) }
#define VMSTATE_STRUCT_ARRAY(f, S, n, desc, T) \
    { .name = #f, .type = VMS_STRUCT, .offset = offsetof(S, f), \
      .size = sizeof(T), .num = (n), .vmsd = &(desc) }
#define VMSTATE_TIMER_PTR(f, S) \
    { .name = #f, .type = VMS_TIMER, .offset = offsetof(S, f), \
      .size = sizeof(void *), .num = 1 }
/* A buffer that is not in the struct (allocated, sized by a property):
 * name is a string, vbuf finds it. */
#define VMSTATE_VBUFFER(name_, vbuf_) \
    { .name = (name_), .type = VMS_VBUFFER, .size = 1, .num = 1, .vbuf = (vbuf_) }
#define VMSTATE_END_OF_LIST() { .name = NULL, .type = VMS_END }

/* Versioned fields: the same, for a field added in description version v. */
#define VMSTATE_BOOL_V(f, S, v)   \
    { .name = #f, .type = VMS_BOOL, .offset = offsetof(S, f), .size = sizeof(bool), \
      .num = 1, .version_id = (v) }
#define VMSTATE_SCALAR_V_(f_, S_, t_, T_, n_, v_) \
    { .name = #f_, .type = (t_), .offset = offsetof(S_, f_), \
      .size = sizeof(T_), .num = (n_), .version_id = (v_) }
#define VMSTATE_UINT8_V(f, S, v)  VMSTATE_SCALAR_V_(f, S, VMS_UINT8, uint8_t, 1, v)
#define VMSTATE_UINT16_V(f, S, v) VMSTATE_SCALAR_V_(f, S, VMS_UINT16, uint16_t, 1, v)
#define VMSTATE_UINT32_V(f, S, v) VMSTATE_SCALAR_V_(f, S, VMS_UINT32, uint32_t, 1, v)
#define VMSTATE_UINT64_V(f, S, v) VMSTATE_SCALAR_V_(f, S, VMS_UINT64, uint64_t, 1, v)
#define VMSTATE_INT32_V(f, S, v)  VMSTATE_SCALAR_V_(f, S, VMS_INT32, int32_t, 1, v)
#define VMSTATE_INT64_V(f, S, v)  VMSTATE_SCALAR_V_(f, S, VMS_INT64, int64_t, 1, v)
#define VMSTATE_UINT8_ARRAY_V(f, S, n, v)  VMSTATE_SCALAR_V_(f, S, VMS_UINT8, uint8_t, n, v)
#define VMSTATE_UINT16_ARRAY_V(f, S, n, v) VMSTATE_SCALAR_V_(f, S, VMS_UINT16, uint16_t, n, v)
#define VMSTATE_UINT32_ARRAY_V(f, S, n, v) VMSTATE_SCALAR_V_(f, S, VMS_UINT32, uint32_t, n, v)
#define VMSTATE_UINT64_ARRAY_V(f, S, n, v) VMSTATE_SCALAR_V_(f, S, VMS_UINT64, uint64_t, n, v)
#define VMSTATE_BUFFER_V(f, S, v) \
    { .name = #f, .type = VMS_BUFFER, .offset = offsetof(S, f), \
      .size = sizeof(((S *)0)->f), .num = 1, .version_id = (v) }
#define VMSTATE_STRUCT_V(f, S, desc, T, v) \
    { .name = #f, .type = VMS_STRUCT, .offset = offsetof(S, f), \
      .size = sizeof(T), .num = 1, .vmsd = &(desc), .version_id = (v) }
#define VMSTATE_TIMER_PTR_V(f, S, v) \
    { .name = #f, .type = VMS_TIMER, .offset = offsetof(S, f), \
      .size = sizeof(void *), .num = 1, .version_id = (v) }

/*
 * The stream (all integers little-endian, whatever the host):
 *
 *   section    := name "\0" u32 version field* subsection*
 *   field      := name "\0" u32 size payload
 *                 (VMS_STRUCT: size is the element count, payload one
 *                 section per element; VMS_TIMER: 8-byte expiry, -1 if
 *                 stopped; VMS_VBUFFER: size bytes as they are; scalars:
 *                 each element in `size` bytes)
 *   subsection := 0x01 section
 *
 * Only the fields of the saved version are present (a field's version_id
 * is at most the section's version).  Names never start with 0x01, so a
 * loader sees where the subsections of a section end; a subsection is
 * named "<section>/<part>", so after a nested section (VMS_STRUCT) the
 * loader tells its subsections from those of the enclosing section.
 */
#define VMSTATE_SUBSECTION_MARK 0x01

/* Serialise `opaque` per vmsd, appending to out (self-describing: each
 * field carries its name and size, so a mismatch is detected on load). */
bool vmstate_save(const VMStateDescription *vmsd, void *opaque, GByteArray *out, Error **errp);
/* Load from buf[*pos...], advancing *pos.  Fails (naming the field) on a
 * truncated stream, a name or size mismatch, an unsupported version or an
 * unknown subsection.  On failure the object may be partly loaded: reset
 * it (as loadvm does) before using it. */
bool vmstate_load(const VMStateDescription *vmsd, void *opaque, const uint8_t *buf,
                  size_t len, size_t *pos, Error **errp);

#endif

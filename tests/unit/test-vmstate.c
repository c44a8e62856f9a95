/* vmstate streams (hw/core/vmstate.c). */
#define _GNU_SOURCE     /* memmem */
#include <string.h>
#include <glib.h>
#include "hw/vmstate.h"
#include "system/main-loop.h"

typedef struct Inner {
    uint32_t a;
    uint8_t b[3];
    bool c;
} Inner;

typedef struct Outer {
    bool flag;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    int32_t i32;
    int64_t i64;
    uint8_t a8[5];
    uint16_t a16[3];
    uint32_t a32[2];
    uint64_t a64[2];
    char buf[7];
    Inner one;
    Inner many[3];
    QEMUTimer *timer;
    int post_load_version;
    int pre_save_calls;
} Outer;

static const VMStateDescription vmstate_inner = {
    .name = "inner",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(a, Inner),
        VMSTATE_UINT8_ARRAY(b, Inner, 3),
        VMSTATE_BOOL(c, Inner),
        VMSTATE_END_OF_LIST(),
    },
};

static int outer_pre_save(void *opaque)
{
    ((Outer *)opaque)->pre_save_calls++;
    return 0;
}

static int outer_post_load(void *opaque, int version_id)
{
    ((Outer *)opaque)->post_load_version = version_id;
    return 0;
}

#define OUTER_FIELDS \
        VMSTATE_BOOL(flag, Outer), \
        VMSTATE_UINT8(u8, Outer), \
        VMSTATE_UINT16(u16, Outer), \
        VMSTATE_UINT32(u32, Outer), \
        VMSTATE_UINT64(u64, Outer), \
        VMSTATE_INT32(i32, Outer), \
        VMSTATE_INT64(i64, Outer), \
        VMSTATE_UINT8_ARRAY(a8, Outer, 5), \
        VMSTATE_UINT16_ARRAY(a16, Outer, 3), \
        VMSTATE_UINT32_ARRAY(a32, Outer, 2), \
        VMSTATE_UINT64_ARRAY(a64, Outer, 2), \
        VMSTATE_BUFFER(buf, Outer), \
        VMSTATE_STRUCT(one, Outer, vmstate_inner, Inner), \
        VMSTATE_STRUCT_ARRAY(many, Outer, 3, vmstate_inner, Inner), \
        VMSTATE_TIMER_PTR(timer, Outer)

static const VMStateDescription vmstate_outer = {
    .name = "outer",
    .version_id = 2,
    .minimum_version_id = 2,
    .pre_save = outer_pre_save,
    .post_load = outer_post_load,
    .fields = (const VMStateField[]) {
        OUTER_FIELDS,
        VMSTATE_END_OF_LIST(),
    },
};

/* Same layout, newer version. */
static const VMStateDescription vmstate_outer_v3 = {
    .name = "outer",
    .version_id = 3,
    .minimum_version_id = 3,
    .fields = (const VMStateField[]) {
        OUTER_FIELDS,
        VMSTATE_END_OF_LIST(),
    },
};

/* u16 renamed */
static const VMStateDescription vmstate_outer_renamed = {
    .name = "outer",
    .version_id = 2,
    .minimum_version_id = 2,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(flag, Outer),
        VMSTATE_UINT8(u8, Outer),
        { .name = "u16_renamed", .type = VMS_UINT16, .offset = offsetof(Outer, u16),
          .size = 2, .num = 1 },
        VMSTATE_END_OF_LIST(),
    },
};

/* u16 stored as 4 bytes */
static const VMStateDescription vmstate_outer_resized = {
    .name = "outer",
    .version_id = 2,
    .minimum_version_id = 2,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(flag, Outer),
        VMSTATE_UINT8(u8, Outer),
        { .name = "u16", .type = VMS_UINT32, .offset = offsetof(Outer, u32),
          .size = 4, .num = 1 },
        VMSTATE_END_OF_LIST(),
    },
};

/* the nested struct array got longer */
static const VMStateDescription vmstate_outer_more = {
    .name = "outer",
    .version_id = 2,
    .minimum_version_id = 2,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(flag, Outer), VMSTATE_UINT8(u8, Outer), VMSTATE_UINT16(u16, Outer),
        VMSTATE_UINT32(u32, Outer), VMSTATE_UINT64(u64, Outer), VMSTATE_INT32(i32, Outer),
        VMSTATE_INT64(i64, Outer), VMSTATE_UINT8_ARRAY(a8, Outer, 5),
        VMSTATE_UINT16_ARRAY(a16, Outer, 3), VMSTATE_UINT32_ARRAY(a32, Outer, 2),
        VMSTATE_UINT64_ARRAY(a64, Outer, 2), VMSTATE_BUFFER(buf, Outer),
        VMSTATE_STRUCT(one, Outer, vmstate_inner, Inner),
        VMSTATE_STRUCT_ARRAY(many, Outer, 2, vmstate_inner, Inner),
        VMSTATE_END_OF_LIST(),
    },
};

static void timer_cb(void *opaque)
{
}

static void fill(Outer *o)
{
    memset(o, 0, sizeof(*o));
    o->flag = true;
    o->u8 = 0xab;
    o->u16 = 0xbeef;
    o->u32 = 0xdeadbeef;
    o->u64 = 0x0123456789abcdefULL;
    o->i32 = -123456;
    o->i64 = INT64_MIN + 5;
    for (int i = 0; i < 5; i++) {
        o->a8[i] = 0x10 + i;
    }
    for (int i = 0; i < 3; i++) {
        o->a16[i] = 0x1000 + i;
    }
    o->a32[0] = 0xfeedface;
    o->a32[1] = 7;
    o->a64[0] = UINT64_MAX;
    o->a64[1] = 1ULL << 63;
    memcpy(o->buf, "buffer", 7);
    o->one.a = 0x11111111;
    o->one.b[2] = 9;
    o->one.c = true;
    for (int i = 0; i < 3; i++) {
        o->many[i].a = 100 + i;
        o->many[i].b[0] = i;
        o->many[i].b[1] = 2 * i;
        o->many[i].b[2] = 3 * i;
        o->many[i].c = i & 1;
    }
}

static void check_equal(const Outer *a, const Outer *b)
{
    g_assert_cmpint(a->flag, ==, b->flag);
    g_assert_cmphex(a->u8, ==, b->u8);
    g_assert_cmphex(a->u16, ==, b->u16);
    g_assert_cmphex(a->u32, ==, b->u32);
    g_assert_cmphex(a->u64, ==, b->u64);
    g_assert_cmpint(a->i32, ==, b->i32);
    g_assert_cmpint(a->i64, ==, b->i64);
    g_assert_cmpmem(a->a8, sizeof(a->a8), b->a8, sizeof(b->a8));
    g_assert_cmpmem(a->a16, sizeof(a->a16), b->a16, sizeof(b->a16));
    g_assert_cmpmem(a->a32, sizeof(a->a32), b->a32, sizeof(b->a32));
    g_assert_cmpmem(a->a64, sizeof(a->a64), b->a64, sizeof(b->a64));
    g_assert_cmpmem(a->buf, sizeof(a->buf), b->buf, sizeof(b->buf));
    g_assert_cmpmem(&a->one, sizeof(Inner), &b->one, sizeof(Inner));
    for (int i = 0; i < 3; i++) {
        g_assert_cmpuint(a->many[i].a, ==, b->many[i].a);
        g_assert_cmpmem(a->many[i].b, 3, b->many[i].b, 3);
        g_assert_cmpint(a->many[i].c, ==, b->many[i].c);
    }
}

static GByteArray *save_filled(Outer *src)
{
    GByteArray *out = g_byte_array_new();
    g_autoptr(GError) err = NULL;

    fill(src);
    src->timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, timer_cb, NULL);
    timer_mod(src->timer, 123456789);
    g_assert_true(vmstate_save(&vmstate_outer, src, out, &err));
    g_assert_no_error(err);
    return out;
}

static void test_round_trip(void)
{
    Outer src, dst;
    g_autoptr(GByteArray) out = save_filled(&src);
    g_autoptr(GError) err = NULL;
    size_t pos = 0;

    g_assert_cmpint(src.pre_save_calls, ==, 1);
    memset(&dst, 0, sizeof(dst));
    dst.timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, timer_cb, NULL);
    g_assert_true(vmstate_load(&vmstate_outer, &dst, out->data, out->len, &pos, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(pos, ==, out->len);
    check_equal(&src, &dst);
    g_assert_cmpint(dst.post_load_version, ==, 2);
    g_assert_true(timer_pending(dst.timer));
    g_assert_cmpint(timer_expire_time_ns(dst.timer), ==, 123456789);

    /* a stopped timer loads as stopped */
    timer_del(src.timer);
    g_byte_array_set_size(out, 0);
    g_assert_true(vmstate_save(&vmstate_outer, &src, out, &err));
    pos = 0;
    g_assert_true(vmstate_load(&vmstate_outer, &dst, out->data, out->len, &pos, &err));
    g_assert_false(timer_pending(dst.timer));

    /* two sections back to back */
    g_byte_array_set_size(out, 0);
    g_assert_true(vmstate_save(&vmstate_inner, &src.one, out, &err));
    g_assert_true(vmstate_save(&vmstate_inner, &src.many[2], out, &err));
    Inner i1, i2;
    pos = 0;
    g_assert_true(vmstate_load(&vmstate_inner, &i1, out->data, out->len, &pos, &err));
    g_assert_true(vmstate_load(&vmstate_inner, &i2, out->data, out->len, &pos, &err));
    g_assert_cmpuint(pos, ==, out->len);
    g_assert_cmpuint(i1.a, ==, src.one.a);
    g_assert_cmpuint(i2.a, ==, src.many[2].a);

    timer_free(src.timer);
    timer_free(dst.timer);
}

static void test_truncated(void)
{
    Outer src, dst;
    g_autoptr(GByteArray) out = save_filled(&src);

    timer_del(src.timer);
    for (size_t len = 0; len < out->len; len++) {
        g_autoptr(GError) err = NULL;
        /* a copy of exactly len bytes, so that ASan sees any over-read */
        g_autofree uint8_t *copy = g_memdup2(out->data, len ? len : 1);
        size_t pos = 0;

        memset(&dst, 0, sizeof(dst));
        if (vmstate_load(&vmstate_outer, &dst, copy, len, &pos, &err)) {
            g_error("a stream truncated to %zu of %u bytes loaded", len, out->len);
        }
        g_assert_nonnull(err);
        g_assert_cmpuint(pos, <=, len);
        g_assert_cmpint(dst.post_load_version, ==, 0);
    }
    timer_free(src.timer);
}

static void test_mismatch(void)
{
    Outer src, dst;
    g_autoptr(GByteArray) out = save_filled(&src);
    g_autoptr(GError) err = NULL;
    size_t pos = 0;

    memset(&dst, 0, sizeof(dst));
    g_assert_false(vmstate_load(&vmstate_outer_renamed, &dst, out->data, out->len, &pos, &err));
    g_assert_nonnull(strstr(err->message, "u16_renamed"));
    g_assert_nonnull(strstr(err->message, "u16"));
    g_clear_error(&err);

    pos = 0;
    g_assert_false(vmstate_load(&vmstate_outer_resized, &dst, out->data, out->len, &pos, &err));
    g_assert_nonnull(strstr(err->message, "'u16'"));
    g_assert_cmpuint(dst.u32, ==, 0);       /* not misread */
    g_clear_error(&err);

    pos = 0;
    g_assert_false(vmstate_load(&vmstate_outer_more, &dst, out->data, out->len, &pos, &err));
    g_assert_nonnull(strstr(err->message, "many"));
    g_clear_error(&err);

    /* wrong section */
    pos = 0;
    g_assert_false(vmstate_load(&vmstate_inner, &dst.one, out->data, out->len, &pos, &err));
    g_assert_nonnull(strstr(err->message, "outer"));
    g_clear_error(&err);

    /* a stream from a newer version is refused */
    g_byte_array_set_size(out, 0);
    g_assert_true(vmstate_save(&vmstate_outer_v3, &src, out, &err));
    pos = 0;
    g_assert_false(vmstate_load(&vmstate_outer, &dst, out->data, out->len, &pos, &err));
    g_assert_nonnull(strstr(err->message, "version"));
    g_assert_nonnull(strstr(err->message, "3"));
    g_clear_error(&err);
    /* and one older than minimum_version_id too */
    g_byte_array_set_size(out, 0);
    g_assert_true(vmstate_save(&vmstate_outer, &src, out, &err));
    pos = 0;
    g_assert_false(vmstate_load(&vmstate_outer_v3, &dst, out->data, out->len, &pos, &err));
    g_assert_nonnull(strstr(err->message, "version"));
    g_clear_error(&err);

    /* garbage */
    static const uint8_t junk[] = { 'o', 'u', 't', 'e', 'r', 0, 2, 0, 0, 0, 'f', 'l', 'a', 'g',
                                    0, 0xff, 0xff, 0xff, 0xff };
    pos = 0;
    g_assert_false(vmstate_load(&vmstate_outer, &dst, junk, sizeof(junk), &pos, &err));
    g_assert_nonnull(strstr(err->message, "flag"));
    g_clear_error(&err);
    /* a position beyond the end */
    pos = 100;
    g_assert_false(vmstate_load(&vmstate_outer, &dst, junk, sizeof(junk), &pos, &err));
    g_clear_error(&err);

    timer_free(src.timer);
}

static void test_bool_normalised(void)
{
    Inner src = { .a = 1, .c = true }, dst;
    g_autoptr(GByteArray) out = g_byte_array_new();
    size_t pos = 0;

    g_assert_true(vmstate_save(&vmstate_inner, &src, out, NULL));
    /* the bool is the last payload byte: make it 0x80 */
    g_assert_cmpuint(out->data[out->len - 1], ==, 1);
    out->data[out->len - 1] = 0x80;
    g_assert_true(vmstate_load(&vmstate_inner, &dst, out->data, out->len, &pos, NULL));
    g_assert_cmpuint(*(uint8_t *)&dst.c, ==, 1);
}

/* ---- versioned fields ------------------------------------------------------ */

typedef struct Dev {
    uint32_t a;
    uint16_t added_v2;      /* appeared in version 2 */
    uint64_t added_v3[2];   /* appeared in version 3 */
    int loaded_version;
} Dev;

static int dev_post_load(void *opaque, int version_id)
{
    ((Dev *)opaque)->loaded_version = version_id;
    return 0;
}

static const VMStateDescription vmstate_dev_v1 = {
    .name = "dev",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = dev_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(a, Dev),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription vmstate_dev_v3 = {
    .name = "dev",
    .version_id = 3,
    .minimum_version_id = 1,
    .post_load = dev_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(a, Dev),
        VMSTATE_UINT16_V(added_v2, Dev, 2),
        VMSTATE_UINT64_ARRAY_V(added_v3, Dev, 2, 3),
        VMSTATE_END_OF_LIST(),
    },
};

static void test_versioned_fields(void)
{
    Dev src = { .a = 0x12345678, .added_v2 = 0xbeef, .added_v3 = { 1, 2 } };
    Dev dst;
    g_autoptr(GByteArray) out = g_byte_array_new();
    g_autoptr(GError) err = NULL;
    size_t pos = 0;

    /* an old (v1) stream: the new fields keep their reset values */
    g_assert_true(vmstate_save(&vmstate_dev_v1, &src, out, &err));
    memset(&dst, 0, sizeof(dst));
    dst.added_v2 = 0x55;                    /* "reset value" */
    dst.added_v3[1] = 0x66;
    g_assert_true(vmstate_load(&vmstate_dev_v3, &dst, out->data, out->len, &pos, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(pos, ==, out->len);
    g_assert_cmphex(dst.a, ==, 0x12345678);
    g_assert_cmphex(dst.added_v2, ==, 0x55);
    g_assert_cmphex(dst.added_v3[0], ==, 0);
    g_assert_cmphex(dst.added_v3[1], ==, 0x66);
    g_assert_cmpint(dst.loaded_version, ==, 1);     /* post_load sees the stream's version */

    /* a current stream carries everything */
    g_byte_array_set_size(out, 0);
    g_assert_true(vmstate_save(&vmstate_dev_v3, &src, out, &err));
    memset(&dst, 0, sizeof(dst));
    pos = 0;
    g_assert_true(vmstate_load(&vmstate_dev_v3, &dst, out->data, out->len, &pos, &err));
    g_assert_cmphex(dst.added_v2, ==, 0xbeef);
    g_assert_cmphex(dst.added_v3[1], ==, 2);
    g_assert_cmpint(dst.loaded_version, ==, 3);

    /* and an old loader refuses it by version, naming it */
    pos = 0;
    g_assert_false(vmstate_load(&vmstate_dev_v1, &dst, out->data, out->len, &pos, &err));
    g_assert_nonnull(strstr(err->message, "'dev'"));
    g_assert_nonnull(strstr(err->message, "version 3"));
}

/* ---- wire format ----------------------------------------------------------- */

typedef struct Wire {
    uint16_t w;
    uint32_t l;
    int64_t q;
    uint8_t b;
    QEMUTimer *t;
} Wire;

static const VMStateDescription vmstate_wire = {
    .name = "w",
    .version_id = 258,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT16(w, Wire),
        VMSTATE_UINT32(l, Wire),
        VMSTATE_INT64(q, Wire),
        VMSTATE_UINT8(b, Wire),
        VMSTATE_TIMER_PTR(t, Wire),
        VMSTATE_END_OF_LIST(),
    },
};

/* The bytes are spelled out: little-endian whatever the host is. */
static void test_wire_format(void)
{
    Wire src = { .w = 0x0102, .l = 0x03040506, .q = -2, .b = 7, .t = NULL }, dst;
    static const uint8_t want[] = {
        'w', 0, 0x02, 0x01, 0, 0,
        'w', 0, 2, 0, 0, 0, 0x02, 0x01,
        'l', 0, 4, 0, 0, 0, 0x06, 0x05, 0x04, 0x03,
        'q', 0, 8, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        'b', 0, 1, 0, 0, 0, 7,
        't', 0, 8, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    };
    g_autoptr(GByteArray) out = g_byte_array_new();
    size_t pos = 0;

    g_assert_true(vmstate_save(&vmstate_wire, &src, out, NULL));
    g_assert_cmpmem(out->data, out->len, want, sizeof(want));
    memset(&dst, 0, sizeof(dst));
    g_assert_true(vmstate_load(&vmstate_wire, &dst, want, sizeof(want), &pos, NULL));
    g_assert_cmphex(dst.w, ==, 0x0102);
    g_assert_cmphex(dst.l, ==, 0x03040506);
    g_assert_cmpint(dst.q, ==, -2);
    g_assert_cmpuint(dst.b, ==, 7);
}

/* ---- subsections ----------------------------------------------------------- */

typedef struct Sub {
    uint32_t base;
    bool extra_needed;
    uint32_t extra;
    uint8_t more;
    int extra_loaded_version;
    Inner nested;
} Sub;

static bool sub_extra_needed(void *opaque)
{
    return ((Sub *)opaque)->extra_needed;
}

static int sub_extra_post_load(void *opaque, int version_id)
{
    ((Sub *)opaque)->extra_loaded_version = version_id;
    return 0;
}

static const VMStateDescription vmstate_sub_extra = {
    .name = "sub/extra",
    .version_id = 4,
    .minimum_version_id = 4,
    .needed = sub_extra_needed,
    .post_load = sub_extra_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(extra, Sub),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription vmstate_sub_more = {
    .name = "sub/more",
    .version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(more, Sub),
        VMSTATE_END_OF_LIST(),
    },
};

/* A nested struct whose own subsection is always needed. */
static const VMStateDescription vmstate_inner_sub = {
    .name = "inner/c",
    .version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(c, Inner),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription vmstate_inner_with_sub = {
    .name = "inner",
    .version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(a, Inner),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *const[]) { &vmstate_inner_sub, NULL },
};

#define SUB_FIELDS \
        VMSTATE_UINT32(base, Sub), \
        VMSTATE_STRUCT(nested, Sub, vmstate_inner_with_sub, Inner)

static const VMStateDescription vmstate_sub = {
    .name = "sub",
    .version_id = 1,
    .fields = (const VMStateField[]) { SUB_FIELDS, VMSTATE_END_OF_LIST() },
    .subsections = (const VMStateDescription *const[]) {
        &vmstate_sub_extra, &vmstate_sub_more, NULL
    },
};

/* An older build that knows no subsection of "sub" (but "inner"'s). */
static const VMStateDescription vmstate_sub_old = {
    .name = "sub",
    .version_id = 1,
    .fields = (const VMStateField[]) { SUB_FIELDS, VMSTATE_END_OF_LIST() },
};

static bool load_sub(const VMStateDescription *d, Sub *dst, GByteArray *out, GError **err)
{
    size_t pos = 0;
    bool ok;

    memset(dst, 0, sizeof(*dst));
    dst->extra = 0xdead;                    /* reset value */
    ok = vmstate_load(d, dst, out->data, out->len, &pos, err);
    if (ok) {
        g_assert_cmpuint(pos, ==, out->len);
    }
    return ok;
}

static void test_subsections(void)
{
    Sub src = { .base = 1, .extra = 0x4242, .more = 9, .nested = { .a = 5, .c = true } }, dst;
    g_autoptr(GByteArray) out = g_byte_array_new();
    g_autoptr(GError) err = NULL;

    /* not needed: not saved; the loader keeps the reset value */
    src.extra_needed = false;
    g_assert_true(vmstate_save(&vmstate_sub, &src, out, &err));
    g_assert_null(memmem(out->data, out->len, "sub/extra", 10));
    g_assert_nonnull(memmem(out->data, out->len, "sub/more", 9));
    g_assert_true(load_sub(&vmstate_sub, &dst, out, &err));
    g_assert_no_error(err);
    g_assert_cmphex(dst.extra, ==, 0xdead);
    g_assert_cmpuint(dst.more, ==, 9);
    g_assert_cmpint(dst.extra_loaded_version, ==, 0);
    g_assert_cmpuint(dst.nested.a, ==, 5);
    g_assert_true(dst.nested.c);            /* the nested struct's subsection */

    /* needed: saved, loaded, its post_load sees its own version */
    src.extra_needed = true;
    g_byte_array_set_size(out, 0);
    g_assert_true(vmstate_save(&vmstate_sub, &src, out, &err));
    g_assert_nonnull(memmem(out->data, out->len, "sub/extra", 10));
    g_assert_true(load_sub(&vmstate_sub, &dst, out, &err));
    g_assert_cmphex(dst.extra, ==, 0x4242);
    g_assert_cmpint(dst.extra_loaded_version, ==, 4);

    /* a loader that does not know it refuses the stream, naming it */
    g_assert_false(load_sub(&vmstate_sub_old, &dst, out, &err));
    g_assert_nonnull(strstr(err->message, "unknown subsection 'sub/extra'"));
    g_clear_error(&err);

    /* a stream from that older build (no subsections) loads in the new one */
    g_byte_array_set_size(out, 0);
    g_assert_true(vmstate_save(&vmstate_sub_old, &src, out, &err));
    g_assert_true(load_sub(&vmstate_sub, &dst, out, &err));
    g_assert_cmphex(dst.extra, ==, 0xdead);
    g_assert_cmpuint(dst.more, ==, 0);
    g_assert_cmpuint(dst.base, ==, 1);

    /* two sections back to back: the second is not taken for a subsection */
    g_byte_array_set_size(out, 0);
    g_assert_true(vmstate_save(&vmstate_sub, &src, out, &err));
    g_assert_true(vmstate_save(&vmstate_sub, &src, out, &err));
    size_t pos = 0;
    g_assert_true(vmstate_load(&vmstate_sub, &dst, out->data, out->len, &pos, &err));
    g_assert_cmpuint(pos, ==, out->len / 2);
    g_assert_true(vmstate_load(&vmstate_sub, &dst, out->data, out->len, &pos, &err));
    g_assert_cmpuint(pos, ==, out->len);

    /* the same subsection twice */
    g_byte_array_set_size(out, 0);
    src.extra_needed = true;
    g_assert_true(vmstate_save(&vmstate_sub, &src, out, &err));
    {
        g_autoptr(GByteArray) one = g_byte_array_new();
        Sub tmp = src;
        g_assert_true(vmstate_save(&vmstate_sub_more, &tmp, one, &err));
        uint8_t mark = VMSTATE_SUBSECTION_MARK;
        g_byte_array_append(out, &mark, 1);
        g_byte_array_append(out, one->data, one->len);
    }
    g_assert_false(load_sub(&vmstate_sub, &dst, out, &err));
    g_assert_nonnull(strstr(err->message, "'sub/more' appears twice"));
    g_clear_error(&err);
}

static const VMStateDescription vmstate_badly_named = {
    .name = "sub",
    .version_id = 1,
    .fields = (const VMStateField[]) { VMSTATE_UINT32(base, Sub), VMSTATE_END_OF_LIST() },
    .subsections = (const VMStateDescription *const[]) { &vmstate_inner_sub, NULL },
};

static void test_subsection_naming(void)
{
    Sub src = { 0 };
    g_autoptr(GByteArray) out = g_byte_array_new();
    g_autoptr(GError) err = NULL;

    g_assert_false(vmstate_save(&vmstate_badly_named, &src, out, &err));
    g_assert_nonnull(strstr(err->message, "'inner/c' must be named 'sub/...'"));
}

/* ---- corrupt streams ------------------------------------------------------- */

/* Random corruption (bytes flipped, cut, spliced) of valid streams must be
 * refused or loaded, never crash or read outside the buffer (run under
 * ASan/valgrind to see the latter), and a refusal always says why. */
static void test_fuzz(void)
{
    Outer src;
    Sub ssrc = { .base = 3, .extra_needed = true, .extra = 4, .more = 5 };
    g_autoptr(GByteArray) a = save_filled(&src);
    g_autoptr(GByteArray) b = g_byte_array_new();
    GRand *rnd = g_rand_new_with_seed(1234);
    unsigned loaded = 0, refused = 0;

    g_assert_true(vmstate_save(&vmstate_sub, &ssrc, b, NULL));
    for (int iter = 0; iter < 20000; iter++) {
        GByteArray *orig = iter & 1 ? b : a;
        size_t len = orig->len;
        g_autofree uint8_t *copy = g_memdup2(orig->data, len);
        int nflips = g_rand_int_range(rnd, 1, 5);
        g_autoptr(GError) err = NULL;
        size_t pos = 0;
        bool ok;

        for (int k = 0; k < nflips && len > 0; k++) {
            size_t at = g_rand_int_range(rnd, 0, (gint32)len);
            switch (g_rand_int_range(rnd, 0, 4)) {
            case 0:
                copy[at] ^= 1u << g_rand_int_range(rnd, 0, 8);
                break;
            case 1:
                copy[at] = (uint8_t)g_rand_int(rnd);
                break;
            case 2:
                copy[at] = g_rand_boolean(rnd) ? 0 : VMSTATE_SUBSECTION_MARK;
                break;
            default:
                len = at;       /* cut */
                break;
            }
        }
        if (iter & 1) {
            Sub d;
            memset(&d, 0, sizeof(d));
            ok = vmstate_load(&vmstate_sub, &d, copy, len, &pos, &err);
        } else {
            Outer d;
            memset(&d, 0, sizeof(d));
            ok = vmstate_load(&vmstate_outer, &d, copy, len, &pos, &err);
        }
        g_assert_cmpuint(pos, <=, len);
        if (ok) {
            loaded++;
        } else {
            g_assert_nonnull(err);
            g_assert_cmpuint(strlen(err->message), >, 0);
            refused++;
        }
    }
    /* flipping payload bits yields valid states; names and sizes do not */
    g_assert_cmpuint(loaded, >, 0);
    g_assert_cmpuint(refused, >, 0);
    g_rand_free(rnd);
    timer_free(src.timer);
}

/* ---- VMS_VBUFFER: a buffer the object allocates and sizes ------------------ */

typedef struct Holder {
    uint16_t tag;
    uint8_t *buf;       /* NULL: none */
    size_t len;
} Holder;

static uint8_t *holder_buf(void *opaque, size_t *len)
{
    Holder *h = opaque;

    *len = h->len;
    return h->buf;
}

static const VMStateDescription vmstate_holder = {
    .name = "holder",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT16(tag, Holder),
        VMSTATE_VBUFFER("data", holder_buf),
        VMSTATE_END_OF_LIST(),
    },
};

static void test_vbuffer(void)
{
    uint8_t a_bytes[6] = { 1, 2, 3, 4, 5, 6 }, b_bytes[6] = { 0 }, c_bytes[5] = { 0 };
    Holder a = { 0x1234, a_bytes, 6 }, b = { 0, b_bytes, 6 };
    Holder c = { 0, c_bytes, 5 }, none = { 0, NULL, 0 };
    g_autoptr(GByteArray) s = g_byte_array_new();
    g_autoptr(GError) err = NULL;
    /* "holder" v1, "tag" 2 bytes, "data" 6 bytes as they are */
    static const uint8_t expect[] = {
        'h', 'o', 'l', 'd', 'e', 'r', 0, 1, 0, 0, 0,
        't', 'a', 'g', 0, 2, 0, 0, 0, 0x34, 0x12,
        'd', 'a', 't', 'a', 0, 6, 0, 0, 0, 1, 2, 3, 4, 5, 6,
    };
    size_t pos = 0;

    g_assert_true(vmstate_save(&vmstate_holder, &a, s, &err));
    g_assert_cmpmem(s->data, s->len, expect, sizeof(expect));
    g_assert_true(vmstate_load(&vmstate_holder, &b, s->data, s->len, &pos, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(pos, ==, s->len);
    g_assert_cmpuint(b.tag, ==, 0x1234);
    g_assert_cmpmem(b_bytes, 6, a_bytes, 6);

    /* another length: refused, naming the field */
    pos = 0;
    g_assert_false(vmstate_load(&vmstate_holder, &c, s->data, s->len, &pos, &err));
    g_assert_nonnull(strstr(err->message, "'data' has 6 bytes, expected 5"));
    g_clear_error(&err);
    /* no buffer on this object: refused both ways */
    pos = 0;
    g_assert_false(vmstate_load(&vmstate_holder, &none, s->data, s->len, &pos, &err));
    g_assert_nonnull(strstr(err->message, "'data'"));
    g_clear_error(&err);
    g_assert_false(vmstate_save(&vmstate_holder, &none, s, &err));
    g_assert_nonnull(strstr(err->message, "'data'"));
    g_clear_error(&err);
    /* truncated inside the buffer */
    for (size_t n = 0; n < sizeof(expect); n++) {
        pos = 0;
        g_assert_false(vmstate_load(&vmstate_holder, &b, expect, n, &pos, &err));
        g_clear_error(&err);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vmstate/round-trip", test_round_trip);
    g_test_add_func("/vmstate/truncated", test_truncated);
    g_test_add_func("/vmstate/mismatch", test_mismatch);
    g_test_add_func("/vmstate/bool", test_bool_normalised);
    g_test_add_func("/vmstate/versioned-fields", test_versioned_fields);
    g_test_add_func("/vmstate/wire-format", test_wire_format);
    g_test_add_func("/vmstate/subsections", test_subsections);
    g_test_add_func("/vmstate/subsection-naming", test_subsection_naming);
    g_test_add_func("/vmstate/fuzz", test_fuzz);
    g_test_add_func("/vmstate/vbuffer", test_vbuffer);
    return g_test_run();
}

/*
 * A small AML encoder and resource-template writer (include/hw/acpi/aml.h).
 * ACPI 6.4: 20.2 (AML grammar), 6.4 (resource data types).
 */
#include <string.h>
#include "hw/acpi/aml.h"

/* AML opcodes (20.2). */
#define AML_ZERO_OP         0x00
#define AML_ONE_OP          0x01
#define AML_NAME_OP         0x08
#define AML_BYTE_PREFIX     0x0a
#define AML_WORD_PREFIX     0x0b
#define AML_DWORD_PREFIX    0x0c
#define AML_STRING_PREFIX   0x0d
#define AML_QWORD_PREFIX    0x0e
#define AML_SCOPE_OP        0x10
#define AML_BUFFER_OP       0x11
#define AML_PACKAGE_OP      0x12
#define AML_EXT_OP_PREFIX   0x5b
#define AML_DEVICE_OP       0x82
#define AML_ROOT_CHAR       0x5c
#define AML_DUAL_NAME_PREFIX  0x2e
#define AML_MULTI_NAME_PREFIX 0x2f
#define AML_METHOD_OP       0x14
#define AML_IF_OP           0xa0
#define AML_OPREGION_OP     0x80        /* after AML_EXT_OP_PREFIX */
#define AML_FIELD_OP        0x81        /* after AML_EXT_OP_PREFIX */

/* Resource descriptor tags (6.4.2, 6.4.3). */
#define RES_IRQ_NOFLAGS     0x22        /* small, type 4, length 2 */
#define RES_IRQ_FLAGS       0x23        /* small, type 4, length 3 */
#define RES_IO              0x47        /* small, type 8, length 7 */
#define RES_END             0x79        /* small, type 0xf, length 1 */
#define RES_MEM32_FIXED     0x86
#define RES_DWORD_ADDR      0x87
#define RES_WORD_ADDR       0x88
#define RES_EXT_IRQ         0x89
#define RES_IRQ_MODE_EDGE   0x01        /* IRQ flags byte: bit 0 edge, 3 low, 4 shared */
#define RES_IRQ_ACTIVE_LOW  0x08

void aml_byte(GByteArray *a, uint8_t v)
{
    g_byte_array_append(a, &v, 1);
}

static void put16(GByteArray *a, uint16_t v)
{
    aml_byte(a, v);
    aml_byte(a, v >> 8);
}

static void put32(GByteArray *a, uint32_t v)
{
    put16(a, v);
    put16(a, v >> 16);
}

/* PkgLength counts itself plus the `len` bytes that follow: one byte up to
 * 63, else a lead byte with the byte count in bits 7:6 and the low nibble. */
void aml_pkg_length(GByteArray *a, size_t len)
{
    size_t total = len + 1;

    if (total <= 0x3f) {
        aml_byte(a, total);
        return;
    }
    for (unsigned n = 2; n <= 4; n++) {
        total = len + n;
        if (total < (1u << (4 + 8 * (n - 1)))) {
            aml_byte(a, ((n - 1) << 6) | (total & 0xf));
            for (unsigned i = 1; i < n; i++) {
                aml_byte(a, total >> (4 + 8 * (i - 1)));
            }
            return;
        }
    }
    g_assert_not_reached();             /* 256 MiB of AML: a bug */
}

void aml_dword(GByteArray *a, uint32_t v)
{
    aml_byte(a, AML_DWORD_PREFIX);
    put32(a, v);
}

void aml_integer(GByteArray *a, uint64_t v)
{
    if (v == 0) {
        aml_byte(a, AML_ZERO_OP);
    } else if (v == 1) {
        aml_byte(a, AML_ONE_OP);
    } else if (v <= 0xff) {
        aml_byte(a, AML_BYTE_PREFIX);
        aml_byte(a, v);
    } else if (v <= 0xffff) {
        aml_byte(a, AML_WORD_PREFIX);
        put16(a, v);
    } else if (v <= 0xffffffffu) {
        aml_dword(a, v);
    } else {
        aml_byte(a, AML_QWORD_PREFIX);
        put32(a, v);
        put32(a, v >> 32);
    }
}

void aml_string(GByteArray *a, const char *s)
{
    aml_byte(a, AML_STRING_PREFIX);
    g_byte_array_append(a, (const uint8_t *)s, strlen(s) + 1);
}

/* NameSeg, DualNamePath ("ISA_.LNKA") or MultiNamePath, optionally
 * rooted; every segment is four characters. */
void aml_namestring(GByteArray *a, const char *name)
{
    g_auto(GStrv) segs = NULL;
    guint n;

    if (name[0] == '\\') {
        aml_byte(a, AML_ROOT_CHAR);
        name++;
    }
    segs = g_strsplit(name, ".", -1);
    n = g_strv_length(segs);
    g_assert(n >= 1 && n <= 255);
    if (n == 2) {
        aml_byte(a, AML_DUAL_NAME_PREFIX);
    } else if (n > 2) {
        aml_byte(a, AML_MULTI_NAME_PREFIX);
        aml_byte(a, n);
    }
    for (guint i = 0; i < n; i++) {
        g_assert(strlen(segs[i]) == 4);
        g_byte_array_append(a, (const uint8_t *)segs[i], 4);
    }
}

/* EisaId: three letters in 5 bits each and four hex digits, stored so the
 * bytes read "compressed letters, then product number" (big-endian). */
uint32_t aml_eisaid(const char *id)
{
    uint16_t vendor, product;

    g_assert(strlen(id) == 7);
    vendor = ((id[0] - 0x40) & 0x1f) << 10 | ((id[1] - 0x40) & 0x1f) << 5 |
             ((id[2] - 0x40) & 0x1f);
    product = (uint16_t)strtoul(id + 3, NULL, 16);
    return (uint32_t)GUINT16_SWAP_LE_BE(vendor) | (uint32_t)GUINT16_SWAP_LE_BE(product) << 16;
}

void aml_name(GByteArray *a, const char *name)
{
    aml_byte(a, AML_NAME_OP);
    aml_namestring(a, name);
}

void aml_name_integer(GByteArray *a, const char *name, uint64_t v)
{
    aml_name(a, name);
    aml_integer(a, v);
}

void aml_name_dword(GByteArray *a, const char *name, uint32_t v)
{
    aml_name(a, name);
    aml_dword(a, v);
}

void aml_name_string(GByteArray *a, const char *name, const char *s)
{
    aml_name(a, name);
    aml_string(a, s);
}

void aml_name_eisaid(GByteArray *a, const char *name, const char *id)
{
    aml_name_dword(a, name, aml_eisaid(id));
}

void aml_name_byte_package(GByteArray *a, const char *name, const uint8_t *elems, unsigned n)
{
    g_autoptr(GByteArray) body = g_byte_array_new();

    aml_name(a, name);
    aml_byte(body, n);                  /* NumElements */
    for (unsigned i = 0; i < n; i++) {
        aml_integer(body, elems[i]);
    }
    aml_byte(a, AML_PACKAGE_OP);
    aml_pkg_length(a, body->len);
    g_byte_array_append(a, body->data, body->len);
}

void aml_buffer(GByteArray *a, const GByteArray *data)
{
    g_autoptr(GByteArray) body = g_byte_array_new();

    aml_integer(body, data->len);       /* BufferSize */
    g_byte_array_append(body, data->data, data->len);
    aml_byte(a, AML_BUFFER_OP);
    aml_pkg_length(a, body->len);
    g_byte_array_append(a, body->data, body->len);
}

void aml_name_buffer(GByteArray *a, const char *name, const GByteArray *data)
{
    aml_name(a, name);
    aml_buffer(a, data);
}

void aml_package(GByteArray *a, unsigned n, const GByteArray *elems)
{
    g_assert(n <= 255);
    aml_byte(a, AML_PACKAGE_OP);
    aml_pkg_length(a, 1 + elems->len);
    aml_byte(a, n);                     /* NumElements */
    g_byte_array_append(a, elems->data, elems->len);
}

static size_t aml_namestring_len(const char *name)
{
    g_autoptr(GByteArray) t = g_byte_array_new();

    aml_namestring(t, name);
    return t->len;
}

static void aml_named_block(GByteArray *a, const char *name, const GByteArray *body)
{
    size_t name_len = aml_namestring_len(name);

    aml_pkg_length(a, name_len + body->len);
    aml_namestring(a, name);
    g_byte_array_append(a, body->data, body->len);
}

void aml_device(GByteArray *a, const char *name, const GByteArray *body)
{
    aml_byte(a, AML_EXT_OP_PREFIX);
    aml_byte(a, AML_DEVICE_OP);
    aml_named_block(a, name, body);
}

void aml_scope(GByteArray *a, const char *path, const GByteArray *body)
{
    aml_byte(a, AML_SCOPE_OP);
    aml_named_block(a, path, body);
}

void aml_method(GByteArray *a, const char *name, unsigned nargs, bool serialized,
                const GByteArray *body)
{
    aml_byte(a, AML_METHOD_OP);
    aml_pkg_length(a, aml_namestring_len(name) + 1 + body->len);
    aml_namestring(a, name);
    aml_byte(a, (nargs & 7) | (serialized ? 0x08 : 0));
    g_byte_array_append(a, body->data, body->len);
}

void aml_if(GByteArray *a, const GByteArray *predicate, const GByteArray *body)
{
    aml_byte(a, AML_IF_OP);
    aml_pkg_length(a, predicate->len + body->len);
    g_byte_array_append(a, predicate->data, predicate->len);
    g_byte_array_append(a, body->data, body->len);
}

void aml_opregion(GByteArray *a, const char *name, uint8_t space, uint32_t offset, uint32_t len)
{
    aml_byte(a, AML_EXT_OP_PREFIX);
    aml_byte(a, AML_OPREGION_OP);
    aml_namestring(a, name);
    aml_byte(a, space);
    aml_integer(a, offset);
    aml_integer(a, len);
}

void aml_field(GByteArray *a, const char *region, uint8_t flags, const char *const *names,
               const uint8_t *bits, unsigned n)
{
    g_autoptr(GByteArray) body = g_byte_array_new();

    aml_namestring(body, region);
    aml_byte(body, flags);
    for (unsigned i = 0; i < n; i++) {
        aml_namestring(body, names[i]);
        aml_pkg_length(body, bits[i] - 1);      /* a PkgLength-encoded bit count */
    }
    aml_byte(a, AML_EXT_OP_PREFIX);
    aml_byte(a, AML_FIELD_OP);
    aml_pkg_length(a, body->len);
    g_byte_array_append(a, body->data, body->len);
}

/* ---- resource templates -------------------------------------------------- */

/* I/O port descriptor, 16-bit decode. */
void aml_res_io(GByteArray *r, uint16_t min, uint16_t max, uint8_t align, uint8_t len)
{
    aml_byte(r, RES_IO);
    aml_byte(r, 0x01);
    put16(r, min);
    put16(r, max);
    aml_byte(r, align);
    aml_byte(r, len);
}

/* IRQ descriptor: the short form (IRQNoFlags: edge, active high, exclusive)
 * when that is what it is, else with the flags byte. */
void aml_res_irq(GByteArray *r, unsigned irq, unsigned flags)
{
    uint16_t mask = irq < 16 ? 1u << irq : 0;

    if (!(flags & (DEV_RES_IRQ_LEVEL | DEV_RES_IRQ_ACTIVE_LOW))) {
        aml_byte(r, RES_IRQ_NOFLAGS);
        put16(r, mask);
        return;
    }
    aml_byte(r, RES_IRQ_FLAGS);
    put16(r, mask);
    aml_byte(r, ((flags & DEV_RES_IRQ_LEVEL) ? 0 : RES_IRQ_MODE_EDGE) |
                ((flags & DEV_RES_IRQ_ACTIVE_LOW) ? RES_IRQ_ACTIVE_LOW : 0));
}

/* Extended Interrupt Descriptor (6.4.3.6): a consumer, with the
 * AML_RES_EXT_IRQ_* flags, listing n interrupts (GSIs in APIC mode). */
void aml_res_ext_irq(GByteArray *r, uint8_t flags, const uint32_t *irqs, unsigned n)
{
    aml_byte(r, RES_EXT_IRQ);
    put16(r, 2 + 4 * n);
    aml_byte(r, flags | 0x01);          /* consumer */
    aml_byte(r, n);
    for (unsigned i = 0; i < n; i++) {
        put32(r, irqs[i]);
    }
}

void aml_res_mem32_fixed(GByteArray *r, uint32_t base, uint32_t len)
{
    aml_byte(r, RES_MEM32_FIXED);
    put16(r, 9);
    aml_byte(r, 0x01);                  /* read-write */
    put32(r, base);
    put32(r, len);
}

/* Word Address Space Descriptor (6.4.3.5.3): a producer with fixed minimum
 * and maximum. */
void aml_res_word(GByteArray *r, uint8_t type, uint8_t tflags, uint16_t min, uint16_t max)
{
    aml_byte(r, RES_WORD_ADDR);
    put16(r, 13);
    aml_byte(r, type);
    aml_byte(r, 0x0c);                  /* MaxFixed, MinFixed, PosDecode, Producer */
    aml_byte(r, tflags);
    put16(r, 0);                        /* granularity */
    put16(r, min);
    put16(r, max);
    put16(r, 0);                        /* translation */
    put16(r, max - min + 1);
}

/* DWord Address Space Descriptor (6.4.3.5.2) for memory. */
void aml_res_dword_mem(GByteArray *r, uint8_t tflags, uint32_t min, uint32_t max)
{
    aml_byte(r, RES_DWORD_ADDR);
    put16(r, 23);
    aml_byte(r, AML_RES_TYPE_MEM);
    aml_byte(r, 0x0c);
    aml_byte(r, tflags);
    put32(r, 0);
    put32(r, min);
    put32(r, max);
    put32(r, 0);
    put32(r, max - min + 1);
}

void aml_name_crs(GByteArray *a, const GByteArray *r)
{
    g_autoptr(GByteArray) t = g_byte_array_new();

    g_byte_array_append(t, r->data, r->len);
    aml_byte(t, RES_END);
    aml_byte(t, 0);                     /* checksum 0: "the sum is ok" */
    aml_name_buffer(a, "_CRS", t);
}

/* I/O ports and memory first, then IRQs, each in the order claimed. */
void aml_name_crs_from_claims(GByteArray *a, const DeviceState *dev)
{
    g_autoptr(GByteArray) r = g_byte_array_new();

    for (int pass = 0; pass < 2; pass++) {
        for (guint i = 0; i < qdev_resource_count(dev); i++) {
            const DeviceResource *res = qdev_resource(dev, i);
            if ((res->kind == DEV_RES_IRQ) != (pass == 1)) {
                continue;
            }
            switch (res->kind) {
            case DEV_RES_IO:
                aml_res_io(r, res->base, res->base, 1, MIN(res->size, 0xff));
                break;
            case DEV_RES_MMIO:
                aml_res_mem32_fixed(r, res->base, res->size);
                break;
            case DEV_RES_IRQ:
                aml_res_irq(r, res->base, res->flags);
                break;
            }
        }
    }
    aml_name_crs(a, r);
}

void aml_claims_device(GByteArray *scope, const char *name, const char *hid, int uid,
                       const DeviceState *dev)
{
    g_autoptr(GByteArray) body = g_byte_array_new();

    aml_name_eisaid(body, "_HID", hid);
    if (uid >= 0) {
        aml_name_integer(body, "_UID", uid);
    }
    aml_name_crs_from_claims(body, dev);
    aml_device(scope, name, body);
}

/*
 * The PVH fast path for a bzImage: instead of letting the guest run the
 * kernel's decompressor (seconds under nested virtualisation), decompress
 * the payload (setup header fields payload_offset/payload_length, boot
 * protocol 2.08+) in the host with liblzma or zlib and, if the result is a
 * vmlinux ELF with a PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY, present in
 * any kernel built with CONFIG_PVH, e.g. Debian's), boot it with pvh_load:
 * same command line, initrd, RSDP and memory map.
 *
 * Anything that does not fit (no payload fields, another compression,
 * a decompression error, an output larger than the bound, no PVH note, an
 * ELF pvh_load refuses) makes linux_load_pvh() fail; x86_load_kernel then
 * boots the bzImage the normal way.  The output is bounded by
 * MIN(BZIMAGE_PVH_MAX, guest RAM) and grows as it is produced, so a
 * decompression bomb costs at most that much host memory.
 */
#include <limits.h>
#include <string.h>
#include "config-host.h"
#include "hw/i386/boot.h"
#include "hw/i386/x86-boot-internal.h"
#ifdef CONFIG_LZMA
#include <lzma.h>
#endif
#ifdef CONFIG_ZLIB
#include <zlib.h>
#endif

#define HDR_PAYLOAD_OFFSET  0x248
#define HDR_PAYLOAD_LENGTH  0x24c
#define BZIMAGE_CHUNK       (1u << 20)

/* Output buffer growing up to a bound. */
typedef struct OutBuf {
    uint8_t *data;
    size_t len, cap, max;
} OutBuf;

/* Makes room for at least one more byte; false if at the bound. */
static bool outbuf_grow(OutBuf *o)
{
    size_t cap;

    if (o->len < o->cap) {
        return true;
    }
    if (o->cap >= o->max) {
        return false;
    }
    cap = o->cap ? o->cap * 2 : BZIMAGE_CHUNK * 16;
    cap = MIN(cap, o->max);
    o->data = g_realloc(o->data, cap);
    o->cap = cap;
    return true;
}

#ifdef CONFIG_LZMA
static bool decompress_xz(const uint8_t *in, size_t in_len, OutBuf *o, Error **errp)
{
    lzma_stream s = LZMA_STREAM_INIT;
    lzma_ret r;

    /* The kernel uses a 32 MiB dictionary at most; 256 MiB bounds the decoder. */
    r = lzma_stream_decoder(&s, 256u << 20, 0);
    if (r != LZMA_OK) {
        error_setg(errp, "xz: decoder initialisation failed (%d)", r);
        return false;
    }
    s.next_in = in;
    s.avail_in = in_len;
    for (;;) {
        if (!outbuf_grow(o)) {
            error_setg(errp, "xz: decompressed payload exceeds %zu bytes", o->max);
            break;
        }
        s.next_out = o->data + o->len;
        s.avail_out = o->cap - o->len;
        r = lzma_code(&s, LZMA_FINISH);
        o->len = o->cap - s.avail_out;
        if (r == LZMA_STREAM_END) {
            /* Trailing bytes (the kernel appends the size) are ignored. */
            lzma_end(&s);
            return true;
        }
        if (r != LZMA_OK && !(r == LZMA_BUF_ERROR && !s.avail_out)) {
            error_setg(errp, "xz: decompression failed (lzma error %d)", r);
            break;
        }
    }
    lzma_end(&s);
    return false;
}
#endif

#ifdef CONFIG_ZLIB
static bool decompress_gzip(const uint8_t *in, size_t in_len, OutBuf *o, Error **errp)
{
    z_stream s;
    int r;

    memset(&s, 0, sizeof(s));
    if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK) {
        error_setg(errp, "gzip: inflateInit2 failed");
        return false;
    }
    s.next_in = (Bytef *)in;
    s.avail_in = in_len;            /* payload_length is 32-bit */
    for (;;) {
        size_t room;

        if (!outbuf_grow(o)) {
            error_setg(errp, "gzip: decompressed payload exceeds %zu bytes", o->max);
            break;
        }
        room = MIN(o->cap - o->len, (size_t)UINT_MAX);
        s.next_out = o->data + o->len;
        s.avail_out = room;
        r = inflate(&s, Z_NO_FLUSH);
        o->len += room - s.avail_out;
        if (r == Z_STREAM_END) {
            inflateEnd(&s);
            return true;
        }
        if (r != Z_OK && !(r == Z_BUF_ERROR && !s.avail_out)) {
            error_setg(errp, "gzip: decompression failed (zlib error %d)", r);
            break;
        }
        if (r == Z_OK && !s.avail_in && s.avail_out) {
            error_setg(errp, "gzip: truncated stream");
            break;
        }
    }
    inflateEnd(&s);
    return false;
}
#endif

uint8_t *linux_decompress_payload(const uint8_t *img, size_t size, uint64_t max,
                                  size_t *out_size, Error **errp)
{
    LinuxKernelInfo info;
    uint32_t off, len, hint;
    const uint8_t *p;
    OutBuf o = { .max = MIN(max, (uint64_t)SIZE_MAX / 2) };
    bool ok = false;

    if (!linux_parse_header(img, size, &info, errp)) {
        return NULL;
    }
    if (info.protocol < 0x0208) {
        error_setg(errp, "boot protocol %u.%02u has no payload fields (need 2.08)",
                   info.protocol >> 8, info.protocol & 0xff);
        return NULL;
    }
    off = ld32(img + HDR_PAYLOAD_OFFSET);
    len = ld32(img + HDR_PAYLOAD_LENGTH);
    if (len < 8 || off > info.payload_size || len > info.payload_size - off) {
        error_setg(errp, "payload (offset 0x%x, 0x%x bytes) is not inside the "
                   "protected-mode kernel (0x%zx bytes)", off, len, info.payload_size);
        return NULL;
    }
    p = img + info.payload_offset + off;
    /* The kernel's build appends the decompressed size: a hint, not trusted. */
    hint = ld32(p + len - 4);
    if (hint && hint <= o.max) {
        o.cap = hint + 1;       /* + 1: no regrow just to see the end */
        o.cap = MIN(o.cap, o.max);
        o.data = g_malloc(o.cap);
    }
    if (!memcmp(p, "\xfd" "7zXZ\0", 6)) {
#ifdef CONFIG_LZMA
        ok = decompress_xz(p, len, &o, errp);
#else
        error_setg(errp, "xz payload, but built without liblzma");
#endif
    } else if (p[0] == 0x1f && p[1] == 0x8b) {
#ifdef CONFIG_ZLIB
        ok = decompress_gzip(p, len, &o, errp);
#else
        error_setg(errp, "gzip payload, but built without zlib");
#endif
    } else {
        error_setg(errp, "payload compression (magic %02x %02x %02x %02x) is not xz or gzip",
                   p[0], p[1], p[2], p[3]);
    }
    if (!ok) {
        g_free(o.data);
        return NULL;
    }
    *out_size = o.len;
    return o.data;
}

bool linux_load_pvh(const BootParams *bp, const uint8_t *img, size_t size,
                    BootCPUSetup *cpu, Error **errp)
{
    LinuxKernelInfo info;
    uint64_t max = MIN((uint64_t)BZIMAGE_PVH_MAX, bp->below_4g + bp->above_4g);
    uint32_t entry;
    uint8_t *elf;
    size_t elf_size;
    bool ok;

    if (!linux_parse_header(img, size, &info, errp)) {
        return false;
    }
    /* The normal path's own limit, so both refuse the same command lines. */
    if (strlen(bp->cmdline ? bp->cmdline : "") > info.cmdline_size) {
        error_setg(errp, "command line longer than the kernel's cmdline_size");
        return false;
    }
    elf = linux_decompress_payload(img, size, max, &elf_size, errp);
    if (!elf) {
        return false;
    }
    ok = pvh_find_entry(elf, elf_size, &entry, errp) &&
         pvh_load(bp, elf, elf_size, cpu, errp);
    g_free(elf);
    return ok;
}

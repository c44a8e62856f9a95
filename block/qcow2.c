/*
 * Driver "qcow2": QEMU's copy-on-write image format, versions 2 and 3
 * (docs/qcow2.md; the format is QEMU's docs/interop/qcow2.txt).
 *
 * Layout (all big-endian):
 *   header      cluster 0: magic "QFI\xfb", version, backing file name,
 *               cluster_bits, size, L1 table, refcount table, snapshots;
 *               v3 adds feature bits, refcount_order, header_length and
 *               compression_type, then header extensions
 *   L1 table    one 8-byte entry per L2 table: offset | COPIED
 *   L2 table    one cluster; 8-byte entries (16 with extended L2: the entry
 *               plus a 32+32 bit subcluster allocated/zero bitmap):
 *               host offset | COPIED | COMPRESSED | ZERO(bit 0)
 *   refcounts   refcount table (offsets of refcount blocks) -> blocks of
 *               2^refcount_order-bit counts, one per host cluster
 *
 * Every request runs on a worker (run_blocking) under one mutex per image.
 * Metadata writes are ordered so that a crash leaves at worst leaked
 * clusters: a cluster's refcount is written and flushed before anything
 * points to it, an L2 table is written and flushed before the L1 entry,
 * and a cluster is unreferenced before its refcount drops.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include "block/qcow2.h"
#include "qemu/log.h"

#define QCOW_MAGIC 0x514649fbu
#define HDR_V2_LEN 72
#define HDR_V3_LEN 104

/* Header field offsets. */
#define H_BACKING_OFFSET 8
#define H_SIZE 24
#define H_L1_SIZE 36
#define H_RT_OFFSET 48
#define H_INCOMPAT 72
#define H_AUTOCLEAR 88

#define INCOMPAT_DIRTY 1ull
#define INCOMPAT_CORRUPT 2ull
#define INCOMPAT_DATA_FILE 4ull
#define INCOMPAT_COMPRESSION 8ull
#define INCOMPAT_EXTL2 16ull
#define INCOMPAT_KNOWN 0x1full
#define COMPAT_LAZY 1ull

#define EXT_END 0
#define EXT_BACKING_FMT 0xe2792acau
#define EXT_FEATURES 0x6803f857u
#define EXT_DATA_FILE 0x44415441u

#define OFLAG_COPIED (1ull << 63)
#define OFLAG_COMPRESSED (1ull << 62)
#define OFLAG_ZERO 1ull
#define L1E_MASK 0x00fffffffffffe00ull
#define L2E_MASK 0x00fffffffffffe00ull
#define RTE_MASK 0xfffffffffffffe00ull

#define MAX_L1_BYTES (32 * 1024 * 1024)
#define MAX_RT_BYTES (8 * 1024 * 1024)
#define L2_CACHE_SLOTS 16
#define RB_CACHE_SLOTS 4

typedef struct CacheSlot {
    uint64_t offset;            /* 0: empty */
    uint8_t *data;
    uint64_t used;
    /* L2 tables only: bytes [dirty_lo, dirty_hi) differ from the file;
     * barrier: they point to clusters whose refcounts and data were
     * written but not flushed, so a flush must come first */
    uint64_t dirty_lo, dirty_hi;
    bool barrier;
} CacheSlot;

typedef struct Qcow2State {
    BlockDriverState *file;
    BlockDriverState *backing;
    GMutex lock;
    char *filename;

    uint32_t version;
    int cluster_bits;
    uint64_t cs;                /* cluster size */
    uint64_t size;
    bool ext_l2;
    int l2_entry_size;
    uint64_t l2_entries;
    uint64_t sc_size;           /* subcluster size */

    uint32_t l1_size;
    uint64_t l1_offset;
    uint64_t *l1;               /* host order */
    uint64_t rt_offset;
    uint32_t rt_clusters;
    uint64_t rt_size;           /* entries */
    uint64_t *rt;               /* host order */
    bool rt_growing;
    uint64_t rt_disk_size;      /* entries the on-disk table has */
    int refcount_order;
    uint64_t rb_entries;

    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    uint64_t incompat, compat, autoclear;
    uint32_t header_length;
    int compression_type;
    char *backing_file, *backing_fmt;

    CacheSlot l2c[L2_CACHE_SLOTS];
    CacheSlot rbc[RB_CACHE_SLOTS];
    uint64_t tick;
    uint64_t free_hint;         /* cluster index */
    bool alloc_at_end;
    uint64_t comp_cursor;       /* byte offset where packed compressed data may go */
    uint8_t *dec_buf;           /* last decompressed cluster */
    uint64_t dec_entry;
    uint64_t file_end;          /* bytes: the file's size at open, raised by our writes */
    bool read_only;
    bool temporary;             /* the -snapshot overlay */
} Qcow2State;

static const BlockDriver qcow2_driver;

/* ---- byte order and small helpers -------------------------------------- */

static uint64_t be64(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
    return GUINT64_FROM_BE(v);
}

static uint32_t be32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return GUINT32_FROM_BE(v);
}

static void st64(uint8_t *p, uint64_t v)
{
    v = GUINT64_TO_BE(v);
    memcpy(p, &v, 8);
}

static void st32(uint8_t *p, uint32_t v)
{
    v = GUINT32_TO_BE(v);
    memcpy(p, &v, 4);
}

int bdrv_sync_io(BlockDriverState *bs, BlockRequestType type, int64_t offset, void *buf,
                 int64_t bytes, int flags)
{
    struct iovec iov = { .iov_base = buf, .iov_len = bytes };
    BlockRequest req = {
        .type = type, .offset = offset, .bytes = bytes, .flags = flags,
        .iov = buf ? &iov : NULL, .niov = buf ? 1 : 0,
    };

    if (type == BLOCK_REQ_FLUSH) {
        req.offset = req.bytes = 0;
    }
    return bdrv_run_blocking(bs, &req);
}

static int fread_(Qcow2State *s, uint64_t off, void *buf, uint64_t len)
{
    return bdrv_sync_io(s->file, BLOCK_REQ_READ, off, buf, len, 0);
}

static int fwrite_(Qcow2State *s, uint64_t off, const void *buf, uint64_t len)
{
    int ret = bdrv_sync_io(s->file, BLOCK_REQ_WRITE, off, (void *)buf, len, 0);

    if (ret == 0 && off + len > s->file_end) {
        s->file_end = off + len;
    }
    return ret;
}

static int fflush_(Qcow2State *s)
{
    return bdrv_sync_io(s->file, BLOCK_REQ_FLUSH, 0, NULL, 0, 0);
}

/* Zeroes [off, off + len) of the file (fallocate where the file system
 * can: no data written). */
static int fzero_(Qcow2State *s, uint64_t off, uint64_t len)
{
    int ret = bdrv_sync_io(s->file, BLOCK_REQ_WRITE_ZEROES, off, NULL, len, 0);

    if (ret == 0 && off + len > s->file_end) {
        s->file_end = off + len;
    }
    return ret;
}

/* The file's size, asked of the file (an fstat) and remembered. */
static int64_t file_len(Qcow2State *s)
{
    int64_t len = bdrv_getlength(s->file);

    if (len >= 0) {
        s->file_end = len;
    }
    return len;
}

/* The file's end as we know it without asking: the size at open (or at
 * the last file_len()), raised by every write of ours.  Allocation needs
 * it once per cluster run; an fstat there cost a syscall per new cluster. */
static uint64_t file_end(Qcow2State *s)
{
    return s->file_end;
}

static uint64_t size_to_clusters(Qcow2State *s, uint64_t bytes)
{
    return (bytes + s->cs - 1) >> s->cluster_bits;
}

/* Metadata corruption found: mark the image corrupt (QEMU does the same;
 * it then opens read-only only) and fail the request. */
static int mark_corrupt(Qcow2State *s, const char *what, uint64_t value)
{
    uint8_t b[8];

    error_report("qcow2: Marking image as corrupt: %s (0x%" G_GINT64_MODIFIER "x) in '%s'; "
                 "further corruption events will be suppressed", what, value, s->filename);
    if (!s->read_only && s->version >= 3 && !(s->incompat & INCOMPAT_CORRUPT)) {
        s->incompat |= INCOMPAT_CORRUPT;
        st64(b, s->incompat);
        fwrite_(s, H_INCOMPAT, b, 8);
        fflush_(s);
    }
    s->read_only = true;
    return -EIO;
}

/* ---- caches ------------------------------------------------------------ */

static CacheSlot *cache_find(Qcow2State *s, CacheSlot *c, int n, uint64_t off)
{
    for (int i = 0; i < n; i++) {
        if (c[i].offset == off) {
            c[i].used = ++s->tick;
            return &c[i];
        }
    }
    return NULL;
}

/* Writes a slot's changed bytes to the file (after a flush when they
 * point to new clusters). */
static int slot_writeback(Qcow2State *s, CacheSlot *e)
{
    int ret;

    if (e->dirty_hi <= e->dirty_lo) {
        return 0;
    }
    if (e->barrier && (ret = fflush_(s)) < 0) {
        return ret;
    }
    e->barrier = false;
    if ((ret = fwrite_(s, e->offset + e->dirty_lo, e->data + e->dirty_lo,
                       e->dirty_hi - e->dirty_lo)) < 0) {
        return ret;
    }
    e->dirty_lo = e->dirty_hi = 0;
    return 0;
}

/* Every changed L2 table written (one flush first if any needs it). */
static int l2_writeback_all(Qcow2State *s)
{
    bool barrier = false;
    int ret;

    for (int i = 0; i < L2_CACHE_SLOTS; i++) {
        barrier |= s->l2c[i].barrier && s->l2c[i].dirty_hi > s->l2c[i].dirty_lo;
    }
    if (barrier && (ret = fflush_(s)) < 0) {
        return ret;
    }
    for (int i = 0; i < L2_CACHE_SLOTS; i++) {
        s->l2c[i].barrier = false;
        if ((ret = slot_writeback(s, &s->l2c[i])) < 0) {
            return ret;
        }
    }
    return 0;
}

/* The least recently used slot, its changes written back, empty. */
static int cache_victim(Qcow2State *s, CacheSlot *c, int n, CacheSlot **out)
{
    CacheSlot *v = &c[0];
    int ret;

    for (int i = 1; i < n; i++) {
        if (c[i].used < v->used) {
            v = &c[i];
        }
    }
    if ((ret = slot_writeback(s, v)) < 0) {
        return ret;
    }
    if (!v->data) {
        v->data = g_malloc(s->cs);
    }
    v->offset = 0;
    v->used = ++s->tick;
    *out = v;
    return 0;
}

/* Forgets the cluster at off (freed or rewritten behind the cache). */
static void cache_drop(CacheSlot *c, int n, uint64_t off)
{
    for (int i = 0; i < n; i++) {
        if (c[i].offset == off) {
            c[i].offset = 0;
            c[i].dirty_lo = c[i].dirty_hi = 0;
            c[i].barrier = false;
        }
    }
}

/* The cluster at off through cache c (read from disk, or zeroes if fresh). */
static int cache_get(Qcow2State *s, CacheSlot *c, int n, uint64_t off, bool fresh,
                     uint8_t **out)
{
    CacheSlot *e;
    int ret;

    if (off < s->cs) {
        return mark_corrupt(s, "metadata table inside the header", off);
    }
    e = cache_find(s, c, n, off);

    if (!e) {
        if ((ret = cache_victim(s, c, n, &e)) < 0) {
            return ret;
        }
        if (fresh) {
            memset(e->data, 0, s->cs);
        } else if ((ret = fread_(s, off, e->data, s->cs)) < 0) {
            return ret;
        }
        e->offset = off;
    }
    *out = e->data;
    return 0;
}

/* ---- refcounts --------------------------------------------------------- */

static uint64_t rc_max(Qcow2State *s)
{
    int bits = 1 << s->refcount_order;

    return bits == 64 ? UINT64_MAX : (1ull << bits) - 1;
}

static uint64_t rb_get(Qcow2State *s, const uint8_t *b, uint64_t i)
{
    int order = s->refcount_order;

    if (order >= 3) {
        int w = 1 << (order - 3);
        uint64_t v = 0;
        for (int k = 0; k < w; k++) {
            v = (v << 8) | b[i * w + k];
        }
        return v;
    } else {
        int bits = 1 << order;
        uint64_t bit = i * bits;
        return (b[bit / 8] >> (bit % 8)) & ((1u << bits) - 1);
    }
}

static void rb_set(Qcow2State *s, uint8_t *b, uint64_t i, uint64_t v)
{
    int order = s->refcount_order;

    if (order >= 3) {
        int w = 1 << (order - 3);
        for (int k = w - 1; k >= 0; k--) {
            b[i * w + k] = v & 0xff;
            v >>= 8;
        }
    } else {
        int bits = 1 << order;
        uint64_t bit = i * bits;
        uint8_t mask = ((1u << bits) - 1) << (bit % 8);
        b[bit / 8] = (b[bit / 8] & ~mask) | ((v << (bit % 8)) & mask);
    }
}

/* Byte range in a refcount block that holds entries [i, i + n). */
static void rb_span(Qcow2State *s, uint64_t i, uint64_t n, uint64_t *start, uint64_t *len)
{
    uint64_t first_bit = i << s->refcount_order;
    uint64_t end_bit = (i + n) << s->refcount_order;

    *start = first_bit / 8;
    *len = (end_bit + 7) / 8 - *start;
}

static int get_refcount(Qcow2State *s, uint64_t cluster, uint64_t *rc)
{
    uint64_t r = cluster / s->rb_entries, off;
    uint8_t *b;
    int ret;

    *rc = 0;
    if (r >= s->rt_size || !(off = s->rt[r] & RTE_MASK)) {
        return 0;
    }
    if (off & (s->cs - 1)) {
        return mark_corrupt(s, "refblock offset unaligned", off);
    }
    if ((ret = cache_get(s, s->rbc, RB_CACHE_SLOTS, off, false, &b)) < 0) {
        return ret;
    }
    *rc = rb_get(s, b, cluster % s->rb_entries);
    return 0;
}

static int grow_refcount_table(Qcow2State *s, uint64_t min_entries);
static int64_t alloc_clusters(Qcow2State *s, uint64_t n);

static int write_rt_entry(Qcow2State *s, uint64_t r)
{
    uint8_t b[8];

    if (r >= s->rt_disk_size) {
        return 0;               /* written with the new table */
    }
    st64(b, s->rt[r]);
    return fwrite_(s, s->rt_offset + r * 8, b, 8);
}

/* Adds delta to the refcounts of [cluster, cluster + n); every refcount
 * block involved must exist (alloc_clusters makes sure) unless the delta
 * is negative (then a missing block means corruption). */
static int update_refcounts(Qcow2State *s, uint64_t cluster, uint64_t n, int64_t delta)
{
    while (n) {
        uint64_t r = cluster / s->rb_entries, i = cluster % s->rb_entries;
        uint64_t cnt = MIN(n, s->rb_entries - i), off, start, len;
        uint8_t *b;
        int ret;

        if (r >= s->rt_size || !(off = s->rt[r] & RTE_MASK)) {
            return mark_corrupt(s, "refcount block missing for cluster", cluster);
        }
        if ((ret = cache_get(s, s->rbc, RB_CACHE_SLOTS, off, false, &b)) < 0) {
            return ret;
        }
        for (uint64_t k = 0; k < cnt; k++) {
            uint64_t v = rb_get(s, b, i + k);
            if ((delta < 0 && v < (uint64_t)-delta) ||
                (delta > 0 && v > rc_max(s) - (uint64_t)delta)) {
                return mark_corrupt(s, delta < 0 ? "refcount underflow" : "refcount overflow",
                                    (cluster + k) << s->cluster_bits);
            }
            rb_set(s, b, i + k, v + delta);
            if (v + delta == 0 && cluster + k < s->free_hint) {
                s->free_hint = cluster + k;
            }
        }
        rb_span(s, i, cnt, &start, &len);
        if ((ret = fwrite_(s, off + start, b + start, len)) < 0) {
            return ret;
        }
        cluster += cnt;
        n -= cnt;
    }
    return 0;
}

/* Sets the refcount of one cluster (check's repair). */
static int set_refcount(Qcow2State *s, uint64_t cluster, uint64_t value)
{
    uint64_t cur;
    int ret = get_refcount(s, cluster, &cur);

    if (ret < 0) {
        return ret;
    }
    if (cur == value) {
        return 0;
    }
    if (s->rt_size <= cluster / s->rb_entries || !s->rt[cluster / s->rb_entries]) {
        /* a refcount block for it: allocate (past the end) and retry */
        int64_t tmp = alloc_clusters(s, 1);
        if (tmp < 0) {
            return tmp;
        }
        ret = update_refcounts(s, tmp >> s->cluster_bits, 1, -1);
        if (ret < 0) {
            return ret;
        }
    }
    return update_refcounts(s, cluster, 1, (int64_t)(value - cur));
}

/* Makes sure the refcount block for cluster idx exists; a new one goes to
 * cluster *pos (the start of the run being allocated), which moves on. */
static int ensure_refblock(Qcow2State *s, uint64_t idx, uint64_t *pos, bool *made)
{
    uint64_t r = idx / s->rb_entries, p = *pos, rp = p / s->rb_entries;
    uint8_t *b;
    int ret;

    *made = false;
    if (r >= s->rt_size) {
        if (s->rt_growing) {
            return -EFBIG;
        }
        if ((ret = grow_refcount_table(s, r + 1)) < 0) {
            return ret;
        }
        *made = true;           /* the layout changed: start over */
        return 0;
    }
    if (s->rt[r] & RTE_MASK) {
        return 0;
    }
    if (rp != r && (rp >= s->rt_size || !(s->rt[rp] & RTE_MASK))) {
        return -EIO;            /* cannot happen: blocks are ensured in order */
    }
    cache_drop(s->rbc, RB_CACHE_SLOTS, p << s->cluster_bits);
    if ((ret = cache_get(s, s->rbc, RB_CACHE_SLOTS, p << s->cluster_bits, true, &b)) < 0) {
        return ret;
    }
    if (rp == r) {
        rb_set(s, b, p % s->rb_entries, 1);     /* it describes itself */
    } else if ((ret = update_refcounts(s, p, 1, 1)) < 0) {
        return ret;
    }
    if ((ret = fwrite_(s, p << s->cluster_bits, b, s->cs)) < 0 || (ret = fflush_(s)) < 0) {
        return ret;
    }
    s->rt[r] = p << s->cluster_bits;
    if ((ret = write_rt_entry(s, r)) < 0 || (ret = fflush_(s)) < 0) {
        return ret;
    }
    *pos = p + 1;
    *made = true;
    return 0;
}

/* n contiguous free clusters with refcount 1 (written, not flushed):
 * their byte offset or -errno. */
static int64_t alloc_clusters(Qcow2State *s, uint64_t n)
{
    for (int tries = 0; tries < 1000000; tries++) {
        uint64_t start = MAX(s->free_hint, 1), run = 0, rc;     /* never the header */
        bool made = false;
        int ret;

        uint64_t end_cl = size_to_clusters(s, file_end(s));
        if (s->alloc_at_end) {
            start = MAX(start, end_cl);
        }
        /* find n free clusters in a row */
        for (uint64_t c = start; run < n; c++) {
            if ((ret = get_refcount(s, c, &rc)) < 0) {
                return ret;
            }
            if (rc && c > end_cl + 65536 + n &&
                c > size_to_clusters(s, MAX(file_len(s), 0)) + 65536 + n) {
                /* only a damaged refcount block counts clusters so far
                 * past the end of the file (asked again before saying so:
                 * someone else may have made the file longer) */
                return mark_corrupt(s, "refcounts far beyond the end of the image",
                                    c << s->cluster_bits);
            }
            if (rc) {
                run = 0;
                start = c + 1;
            } else {
                run++;
            }
            if (c > (1ull << 46)) {
                return -ENOSPC;
            }
        }
        /* refcount blocks for each, in order */
        for (uint64_t c = start; c < start + n; c++) {
            uint64_t pos = start;
            if ((ret = ensure_refblock(s, c, &pos, &made)) < 0) {
                return ret;
            }
            if (made) {
                break;
            }
        }
        if (made) {
            continue;
        }
        if ((ret = update_refcounts(s, start, n, 1)) < 0) {
            return ret;
        }
        if (start <= s->free_hint) {
            s->free_hint = start + n;
        }
        return (int64_t)(start << s->cluster_bits);
    }
    return -EIO;
}

static int free_clusters(Qcow2State *s, uint64_t offset, uint64_t bytes)
{
    uint64_t first = offset >> s->cluster_bits;
    uint64_t last = (offset + bytes - 1) >> s->cluster_bits;

    return update_refcounts(s, first, last - first + 1, -1);
}

/* A bigger refcount table at the end of the image, then the header
 * switched to it, then the old table freed. */
static int grow_refcount_table(Qcow2State *s, uint64_t min_entries)
{
    uint64_t per_cluster = s->cs / 8;
    uint64_t want = MAX(s->rt_size * 2, min_entries * 2 + 8);
    uint64_t clusters = (want + per_cluster - 1) / per_cluster;
    uint64_t old_off = s->rt_offset, old_clusters = s->rt_clusters;
    uint8_t hdr[12];
    uint8_t *buf;
    int64_t off;
    int ret;

    if (clusters * s->cs > MAX_RT_BYTES) {
        return -EFBIG;
    }
    s->rt = g_renew(uint64_t, s->rt, clusters * per_cluster);
    memset(s->rt + s->rt_size, 0, (clusters * per_cluster - s->rt_size) * 8);
    s->rt_disk_size = s->rt_size;
    s->rt_size = clusters * per_cluster;
    s->rt_growing = true;
    off = alloc_clusters(s, clusters);
    s->rt_growing = false;
    if (off < 0) {
        s->rt_size = s->rt_disk_size;
        return (int)off;
    }
    buf = g_malloc0(clusters * s->cs);
    for (uint64_t i = 0; i < s->rt_size; i++) {
        st64(buf + i * 8, s->rt[i]);
    }
    ret = fflush_(s);
    if (ret == 0) {
        ret = fwrite_(s, off, buf, clusters * s->cs);
    }
    g_free(buf);
    if (ret == 0 && (ret = fflush_(s)) == 0) {
        st64(hdr, off);
        st32(hdr + 8, clusters);
        ret = fwrite_(s, H_RT_OFFSET, hdr, 12);
    }
    if (ret == 0 && (ret = fflush_(s)) == 0) {
        s->rt_offset = off;
        s->rt_clusters = clusters;
        s->rt_disk_size = s->rt_size;
        ret = free_clusters(s, old_off, old_clusters * s->cs);
    }
    s->rt_disk_size = s->rt_size;
    return ret;
}

/* ---- L1/L2 ------------------------------------------------------------- */

static uint64_t l1_index(Qcow2State *s, uint64_t off)
{
    return off >> (s->cluster_bits + s->cluster_bits - (s->ext_l2 ? 4 : 3));
}

static uint64_t l2_index(Qcow2State *s, uint64_t off)
{
    return (off >> s->cluster_bits) & (s->l2_entries - 1);
}

/* The L2 table for guest offset off (NULL: none); alloc makes one. */
static int get_l2(Qcow2State *s, uint64_t off, bool alloc, uint8_t **table)
{
    uint64_t i = l1_index(s, off), l2off;
    int ret;

    *table = NULL;
    if (i >= s->l1_size) {
        return alloc ? mark_corrupt(s, "L1 index beyond the L1 table", i) : 0;
    }
    l2off = s->l1[i] & L1E_MASK;
    if (l2off) {
        if ((l2off & (s->cs - 1)) || l2off < s->cs) {
            return mark_corrupt(s, "L2 table offset invalid", l2off);
        }
        if (alloc && !(s->l1[i] & OFLAG_COPIED)) {
            error_report("qcow2: '%s': writing to an L2 table shared with an internal "
                         "snapshot is not supported", s->filename);
            return -ENOTSUP;
        }
        return cache_get(s, s->l2c, L2_CACHE_SLOTS, l2off, false, table);
    }
    if (!alloc) {
        return 0;
    }
    int64_t n = alloc_clusters(s, 1);
    uint8_t b[8];
    if (n < 0) {
        return (int)n;
    }
    cache_drop(s->l2c, L2_CACHE_SLOTS, n);
    if ((ret = fflush_(s)) < 0 ||
        (ret = cache_get(s, s->l2c, L2_CACHE_SLOTS, n, true, table)) < 0 ||
        (ret = fwrite_(s, n, *table, s->cs)) < 0 || (ret = fflush_(s)) < 0) {
        return ret;
    }
    s->l1[i] = (uint64_t)n | OFLAG_COPIED;
    st64(b, s->l1[i]);
    if ((ret = fwrite_(s, s->l1_offset + i * 8, b, 8)) < 0) {
        return ret;
    }
    return 0;
}

static uint64_t l2_entry(Qcow2State *s, const uint8_t *t, uint64_t i, uint64_t *bitmap)
{
    if (bitmap) {
        *bitmap = s->ext_l2 ? be64(t + i * 16 + 8) : 0;
    }
    return be64(t + i * s->l2_entry_size);
}

/* The cache slot that holds the L2 table for guest offset off (loaded). */
static CacheSlot *l2_slot(Qcow2State *s, uint64_t off)
{
    return cache_find(s, s->l2c, L2_CACHE_SLOTS, s->l1[l1_index(s, off)] & L1E_MASK);
}

/* Entries [i, i + k) of the table for off were changed in the cache. */
static void l2_mark(Qcow2State *s, uint64_t off, uint64_t i, uint64_t k, bool barrier)
{
    CacheSlot *e = l2_slot(s, off);
    uint64_t lo = i * s->l2_entry_size, hi = (i + k) * s->l2_entry_size;

    if (e->dirty_hi <= e->dirty_lo) {
        e->dirty_lo = lo;
        e->dirty_hi = hi;
    } else {
        e->dirty_lo = MIN(e->dirty_lo, lo);
        e->dirty_hi = MAX(e->dirty_hi, hi);
    }
    e->barrier |= barrier;
}

/*
 * How an L2 entry change reaches the file:
 *   L2_LATER  the entry points to clusters just allocated and written (not
 *             flushed): it stays in the cache until a guest flush, an
 *             eviction or close writes it, after a flush (QEMU's L2 cache
 *             with its dependency on the refcount cache does the same);
 *             a crash before loses only the write, the clusters leak
 *   L2_NOW    written now (the entry points to nothing new)
 *   L2_SYNC   written now after a flush, and flushed: the old cluster
 *             may be released next (nothing on disk points to it)
 */
enum { L2_LATER, L2_NOW, L2_SYNC };

static int set_l2_entry(Qcow2State *s, uint64_t off, uint64_t entry, uint64_t bitmap, int how)
{
    uint8_t *t;
    uint64_t i = l2_index(s, off);
    int ret = get_l2(s, off, true, &t);

    if (ret < 0) {
        return ret;
    }
    st64(t + i * s->l2_entry_size, entry);
    if (s->ext_l2) {
        st64(t + i * 16 + 8, bitmap);
    }
    l2_mark(s, off, i, 1, how != L2_NOW);
    if (how == L2_LATER) {
        return 0;
    }
    if ((ret = slot_writeback(s, l2_slot(s, off))) < 0) {
        return ret;
    }
    return how == L2_SYNC ? fflush_(s) : 0;
}

/* ---- compressed clusters ----------------------------------------------- */

static void compressed_desc(Qcow2State *s, uint64_t entry, uint64_t *host, uint64_t *len)
{
    int x = 62 - (s->cluster_bits - 8);
    uint64_t sectors = (entry & ~(OFLAG_COPIED | OFLAG_COMPRESSED)) >> x;

    *host = entry & ((1ull << x) - 1);
    *len = (sectors + 1) * 512 - (*host & 511);
}

static int cluster_decompress(Qcow2State *s, const uint8_t *in, size_t in_len, uint8_t *out)
{
    if (s->compression_type == 0) {
        z_stream z = { 0 };
        int ret;

        if (inflateInit2(&z, -12) != Z_OK) {
            return -EIO;
        }
        z.next_in = (Bytef *)in;
        z.avail_in = in_len;
        z.next_out = out;
        z.avail_out = s->cs;
        ret = inflate(&z, Z_FINISH);
        inflateEnd(&z);
        return (ret == Z_STREAM_END || ret == Z_BUF_ERROR) && z.avail_out == 0 ? 0 : -EIO;
    } else {
        ZSTD_DCtx *d = ZSTD_createDCtx();
        ZSTD_inBuffer ib = { in, in_len, 0 };
        ZSTD_outBuffer ob = { out, s->cs, 0 };
        size_t r = 1;

        while (ob.pos < ob.size && ib.pos < ib.size) {
            r = ZSTD_decompressStream(d, &ob, &ib);
            if (ZSTD_isError(r) || (r == 0 && ob.pos < ob.size)) {
                break;
            }
        }
        ZSTD_freeDCtx(d);
        return !ZSTD_isError(r) && ob.pos == ob.size ? 0 : -EIO;
    }
}

/* Compresses a cluster: its compressed length, or 0 if it does not shrink. */
static size_t cluster_compress(Qcow2State *s, const uint8_t *in, uint8_t *out, size_t out_len)
{
    if (s->compression_type == 0) {
        z_stream z = { 0 };
        size_t n = 0;

        if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9,
                         Z_DEFAULT_STRATEGY) != Z_OK) {
            return 0;
        }
        z.next_in = (Bytef *)in;
        z.avail_in = s->cs;
        z.next_out = out;
        z.avail_out = out_len;
        if (deflate(&z, Z_FINISH) == Z_STREAM_END) {
            n = out_len - z.avail_out;
        }
        deflateEnd(&z);
        return n;
    } else {
        size_t r = ZSTD_compress(out, out_len, in, s->cs, 3);
        return ZSTD_isError(r) ? 0 : r;
    }
}

static int read_compressed(Qcow2State *s, uint64_t entry, uint8_t **out)
{
    uint64_t host, len;
    uint8_t *in;
    int ret;

    if (s->dec_buf && s->dec_entry == entry) {
        *out = s->dec_buf;
        return 0;
    }
    compressed_desc(s, entry, &host, &len);
    if (len > 2 * s->cs + 512) {
        return mark_corrupt(s, "compressed cluster too long", entry);
    }
    if (!s->dec_buf) {
        s->dec_buf = g_malloc(s->cs);
    }
    in = g_malloc(len);
    ret = fread_(s, host, in, len);
    if (ret == 0) {
        ret = cluster_decompress(s, in, len, s->dec_buf);
        if (ret < 0) {
            error_report("qcow2: '%s': cannot decompress the cluster at 0x%" G_GINT64_MODIFIER
                         "x", s->filename, host);
        }
    }
    g_free(in);
    s->dec_entry = ret == 0 ? entry : 0;
    *out = s->dec_buf;
    return ret;
}

/* ---- reads ------------------------------------------------------------- */

static int read_backing(Qcow2State *s, uint64_t off, uint8_t *buf, uint64_t len)
{
    int64_t blen;
    uint64_t n;

    if (!s->backing) {
        memset(buf, 0, len);
        return 0;
    }
    blen = bdrv_getlength(s->backing);
    if (blen < 0) {
        return (int)blen;
    }
    n = off >= (uint64_t)blen ? 0 : MIN(len, (uint64_t)blen - off);
    memset(buf + n, 0, len - n);
    return n ? bdrv_sync_io(s->backing, BLOCK_REQ_READ, off, buf, n, 0) : 0;
}

static int check_host(Qcow2State *s, uint64_t host)
{
    if (host & (s->cs - 1)) {
        return mark_corrupt(s, "cluster offset unaligned", host);
    }
    if (host < s->cs) {
        return mark_corrupt(s, "data cluster overlaps the header", host);
    }
    return 0;
}

/* Reads [off, off + len) which lies inside one guest cluster. */
static int read_in_cluster(Qcow2State *s, uint64_t off, uint8_t *buf, uint64_t len)
{
    uint64_t in = off & (s->cs - 1), entry, bitmap, host;
    uint8_t *t;
    int ret = get_l2(s, off, false, &t);

    if (ret < 0) {
        return ret;
    }
    if (!t) {
        return read_backing(s, off, buf, len);
    }
    entry = l2_entry(s, t, l2_index(s, off), &bitmap);
    if (entry & OFLAG_COMPRESSED) {
        uint8_t *c = NULL;
        if ((ret = read_compressed(s, entry, &c)) < 0) {
            return ret;
        }
        memcpy(buf, c + in, len);
        return 0;
    }
    host = entry & L2E_MASK;
    if (s->ext_l2) {
        while (len) {
            uint64_t sc = in / s->sc_size;
            uint64_t n = MIN(len, (sc + 1) * s->sc_size - in);
            if (bitmap & (1ull << sc)) {
                if ((ret = check_host(s, host)) < 0 ||
                    (ret = fread_(s, host + in, buf, n)) < 0) {
                    return ret;
                }
            } else if (bitmap & (1ull << (32 + sc))) {
                memset(buf, 0, n);
            } else if ((ret = read_backing(s, (off & ~(s->cs - 1)) + in, buf, n)) < 0) {
                return ret;
            }
            buf += n;
            in += n;
            len -= n;
        }
        return 0;
    }
    if (s->version >= 3 && (entry & OFLAG_ZERO)) {
        memset(buf, 0, len);
        return 0;
    }
    if (!host) {
        return read_backing(s, off, buf, len);
    }
    if ((ret = check_host(s, host)) < 0) {
        return ret;
    }
    return fread_(s, host + in, buf, len);
}

/* ---- writes ------------------------------------------------------------ */

static int set_dirty(Qcow2State *s)
{
    uint8_t b[8];
    int ret;

    if (!(s->compat & COMPAT_LAZY) || (s->incompat & INCOMPAT_DIRTY)) {
        return 0;
    }
    s->incompat |= INCOMPAT_DIRTY;
    st64(b, s->incompat);
    if ((ret = fwrite_(s, H_INCOMPAT, b, 8)) < 0) {
        return ret;
    }
    return fflush_(s);
}

/* Drops the host storage an old L2 entry referenced (after the entry no
 * longer points to it). */
static int release_entry(Qcow2State *s, uint64_t entry)
{
    if (entry & OFLAG_COMPRESSED) {
        uint64_t host, len;
        compressed_desc(s, entry, &host, &len);
        return free_clusters(s, host, len);
    }
    if (entry & L2E_MASK) {
        return free_clusters(s, entry & L2E_MASK, s->cs);
    }
    return 0;
}

static bool all_zero(const uint8_t *b, uint64_t len)
{
    return b[0] == 0 && !memcmp(b, b + 1, len - 1);
}

/* Whether a guest cluster with this L2 entry reads as zeroes (no host
 * cluster, not compressed, nothing from a backing file shows through). */
static bool entry_reads_zero(Qcow2State *s, uint64_t entry, uint64_t bitmap)
{
    if (entry & (OFLAG_COMPRESSED | L2E_MASK)) {
        return false;
    }
    if (!s->backing) {
        return true;
    }
    if (s->version < 3) {
        return false;
    }
    return s->ext_l2 ? (bitmap >> 32) == 0xffffffffull : (entry & OFLAG_ZERO) != 0;
}

/* A fresh host cluster gets zeroes with [in, in + len) of data (NULL:
 * zeroes too): only the data is written; the rest is zeroed by the file
 * (fallocate), or is a hole already when the cluster lies past the end. */
static int write_fresh(Qcow2State *s, uint64_t host, uint64_t in, const uint8_t *data,
                       uint64_t len)
{
    bool past_end = host >= file_end(s);
    uint64_t tail = s->cs - in - len;
    int ret;

    if (!data) {
        return fzero_(s, host, s->cs);
    }
    if (in && !past_end && (ret = fzero_(s, host, in)) < 0) {
        return ret;
    }
    if ((ret = fwrite_(s, host + in, data, len)) < 0) {
        return ret;
    }
    return tail ? fzero_(s, host + in + len, tail) : 0;
}

/* Writes [off, off + len) inside one guest cluster; data NULL: zeroes. */
static int write_in_cluster(Qcow2State *s, uint64_t off, const uint8_t *data, uint64_t len)
{
    uint64_t in = off & (s->cs - 1), base = off - in, entry = 0, bitmap = 0, host;
    uint64_t full_bitmap = 0xffffffffull;
    g_autofree uint8_t *cl = NULL;
    bool zero_rest, zero;
    uint8_t *t;
    int64_t n;
    int ret;

    if ((ret = get_l2(s, off, false, &t)) < 0) {
        return ret;
    }
    if (t) {
        entry = l2_entry(s, t, l2_index(s, off), &bitmap);
    }
    host = entry & L2E_MASK;
    /* in place: an allocated, unshared, fully present cluster */
    if (!(entry & OFLAG_COMPRESSED) && host && (entry & OFLAG_COPIED) &&
        (s->ext_l2 ? (bitmap & full_bitmap) == full_bitmap
                   : !(s->version >= 3 && (entry & OFLAG_ZERO)))) {
        if ((ret = check_host(s, host)) < 0) {
            return ret;
        }
        if (!data) {
            cl = g_malloc0(len);
        }
        return fwrite_(s, host + in, data ? data : cl, len);
    }
    /* the whole new content of the cluster: zeroes around the data, or
     * what it reads as now (backing file, compressed, subclusters) */
    zero_rest = entry_reads_zero(s, entry, bitmap);
    if (zero_rest) {
        zero = !data || all_zero(data, len);
    } else {
        cl = g_malloc(s->cs);
        if (len < s->cs && (ret = read_in_cluster(s, base, cl, s->cs)) < 0) {
            return ret;
        }
        if (data) {
            memcpy(cl + in, data, len);
        } else {
            memset(cl + in, 0, len);
        }
        zero = all_zero(cl, s->cs);
    }
    if (s->version >= 3 && !s->ext_l2 && zero) {
        bool had = entry & (OFLAG_COMPRESSED | L2E_MASK);
        if ((ret = set_l2_entry(s, base, OFLAG_ZERO, 0, had ? L2_SYNC : L2_NOW)) < 0) {
            return ret;
        }
        return release_entry(s, entry);
    }
    if (host && (entry & OFLAG_COPIED) && !(entry & OFLAG_COMPRESSED)) {
        /* zero-allocated (or partly present subclusters): reuse it */
        if ((ret = check_host(s, host)) < 0 || (ret = fwrite_(s, host, cl, s->cs)) < 0) {
            return ret;
        }
        return set_l2_entry(s, base, host | OFLAG_COPIED, full_bitmap, L2_LATER);
    }
    /* make sure the L2 table exists before the data cluster (order) */
    if ((ret = get_l2(s, base, true, &t)) < 0) {
        return ret;
    }
    if ((n = alloc_clusters(s, 1)) < 0) {
        return (int)n;
    }
    ret = zero_rest ? write_fresh(s, n, in, data, len) : fwrite_(s, n, cl, s->cs);
    if (ret < 0) {
        return ret;
    }
    if (!(entry & (OFLAG_COMPRESSED | L2E_MASK))) {
        return set_l2_entry(s, base, (uint64_t)n | OFLAG_COPIED, full_bitmap, L2_LATER);
    }
    /* copy-on-write: the old cluster goes once nothing on disk points to it */
    if ((ret = set_l2_entry(s, base, (uint64_t)n | OFLAG_COPIED, full_bitmap, L2_SYNC)) < 0) {
        return ret;
    }
    return release_entry(s, entry);
}

/* Whole clusters of [off, off + len) become zero (or unallocated). */
static int zero_or_discard(Qcow2State *s, uint64_t off, uint64_t len, bool discard)
{
    uint64_t newe = s->version >= 3 && (!discard || s->backing) ? OFLAG_ZERO : 0;
    g_autofree uint64_t *old = NULL;

    while (len) {
        uint64_t in = off & (s->cs - 1), i = l2_index(s, off);
        /* whole clusters from off (the image's last one may be short) */
        uint64_t k = in ? 0 : (len >> s->cluster_bits) +
                     ((len & (s->cs - 1)) && off + len == s->size);
        uint64_t n = MIN(len, s->cs - in), changed = 0;
        uint8_t *t;
        int ret;

        if (!k || s->ext_l2 || (s->version < 3 && s->backing)) {
            if (!discard && (ret = write_in_cluster(s, off, NULL, n)) < 0) {
                return ret;
            }
            off += n;
            len -= n;
            continue;
        }
        /* a run inside one L2 table: its entries change in the cache, one
         * write of the table (after a flush if it had deferred entries)
         * and one flush, then the old clusters are released */
        k = MIN(k, s->l2_entries - i);
        n = MIN(len, k << s->cluster_bits);
        if ((ret = get_l2(s, off, newe != 0, &t)) < 0) {
            return ret;
        }
        if (t) {
            old = g_renew(uint64_t, old, k);
            for (uint64_t j = 0; j < k; j++) {
                old[j] = l2_entry(s, t, i + j, NULL);
                if (old[j] != newe) {
                    st64(t + (i + j) * s->l2_entry_size, newe);
                    l2_mark(s, off, i + j, 1, false);
                    changed++;
                }
            }
        }
        if (changed) {
            if ((ret = slot_writeback(s, l2_slot(s, off))) < 0 || (ret = fflush_(s)) < 0) {
                return ret;
            }
            for (uint64_t j = 0; j < k; j++) {
                if (old[j] != newe && (ret = release_entry(s, old[j])) < 0) {
                    return ret;
                }
            }
        }
        off += n;
        len -= n;
    }
    return 0;
}

/* Whether a whole-cluster write to the cluster with this L2 entry can take
 * a freshly allocated host cluster and nothing else: no host cluster now
 * (unallocated or a zero cluster without one), not compressed. */
static bool entry_is_fresh(uint64_t entry)
{
    return !(entry & OFLAG_COMPRESSED) && !(entry & L2E_MASK);
}

/*
 * Whole clusters from off (cluster aligned) of data, at most max_clusters,
 * written as one run: as many leading clusters as are fresh, not all
 * zeroes and in the same L2 table get contiguous new host clusters from
 * one allocation (one refcount write per refcount block), their data in
 * one write and their L2 entries changed together in the cache.  The
 * order is write_in_cluster's: the L2 table exists, the refcounts and
 * the data are written, the entries reach the file after a flush
 * (L2_LATER).  Returns
 * the clusters written (0: the first one needs write_in_cluster).
 */
static int64_t write_run(Qcow2State *s, uint64_t off, const uint8_t *data, uint64_t max_clusters)
{
    uint64_t i = l2_index(s, off), k = 0, es = s->l2_entry_size;
    uint8_t *t;
    int64_t host;
    int ret;

    max_clusters = MIN(max_clusters, s->l2_entries - i);
    if ((ret = get_l2(s, off, false, &t)) < 0) {
        return ret;
    }
    while (k < max_clusters && (!t || entry_is_fresh(l2_entry(s, t, i + k, NULL))) &&
           !(s->version >= 3 && !s->ext_l2 && all_zero(data + k * s->cs, s->cs))) {
        k++;
    }
    if (k < 2) {
        return 0;       /* one cluster: write_in_cluster does the same */
    }
    if ((ret = get_l2(s, off, true, &t)) < 0) {
        return ret;
    }
    if ((host = alloc_clusters(s, k)) < 0) {
        return host;
    }
    if ((ret = fwrite_(s, host, data, k * s->cs)) < 0) {
        return ret;
    }
    /* the table again: the allocation may have pushed it out of the cache */
    if ((ret = get_l2(s, off, false, &t)) < 0) {
        return ret;
    }
    if (!t) {
        return -EIO;
    }
    for (uint64_t j = 0; j < k; j++) {
        st64(t + (i + j) * es, ((uint64_t)host + j * s->cs) | OFLAG_COPIED);
        if (s->ext_l2) {
            st64(t + (i + j) * 16 + 8, 0xffffffffull);
        }
    }
    l2_mark(s, off, i, k, true);        /* written later, as set_l2_entry's L2_LATER */
    return k;
}

/*
 * Whole clusters from off (cluster aligned), at most max_clusters, read as
 * one run when their data lies back to back in the file (what a convert
 * or a sequential guest read of an image written in order finds): as many
 * leading clusters as are plain allocated data (not compressed, not zero,
 * every subcluster present), in one L2 table and at consecutive host
 * offsets, in one read.  Returns the clusters read (0: fewer than two).
 */
static int64_t read_run(Qcow2State *s, uint64_t off, uint8_t *buf, uint64_t max_clusters)
{
    uint64_t i = l2_index(s, off), k = 0, first = 0, bitmap;
    uint8_t *t;
    int ret;

    max_clusters = MIN(max_clusters, s->l2_entries - i);
    if ((ret = get_l2(s, off, false, &t)) < 0) {
        return ret;
    }
    for (; t && k < max_clusters; k++) {
        uint64_t e = l2_entry(s, t, i + k, &bitmap), host = e & L2E_MASK;
        if ((e & OFLAG_COMPRESSED) || !host || (host & (s->cs - 1)) || host < s->cs ||
            (s->ext_l2 ? (bitmap & 0xffffffffull) != 0xffffffffull
                       : s->version >= 3 && (e & OFLAG_ZERO)) ||
            (k && host != first + (k << s->cluster_bits))) {
            break;
        }
        if (!k) {
            first = host;
        }
    }
    if (k < 2) {
        return 0;
    }
    return (ret = fread_(s, first, buf, k << s->cluster_bits)) < 0 ? ret : (int64_t)k;
}

/* A request split at cluster boundaries, each piece read or written
 * (runs of fresh whole clusters written together, runs of contiguous
 * data clusters read together). */
static int do_rw(Qcow2State *s, bool write, uint64_t off, uint8_t *buf, uint64_t len)
{
    while (len) {
        uint64_t n = MIN(len, s->cs - (off & (s->cs - 1)));
        int ret;

        if (n == s->cs && len >= 2 * s->cs) {
            int64_t k = write ? write_run(s, off, buf, len >> s->cluster_bits)
                              : read_run(s, off, buf, len >> s->cluster_bits);
            if (k < 0) {
                return k;
            }
            if (k > 0) {
                off += k << s->cluster_bits;
                buf += k << s->cluster_bits;
                len -= k << s->cluster_bits;
                continue;
            }
        }
        ret = write ? write_in_cluster(s, off, buf, n) : read_in_cluster(s, off, buf, n);
        if (ret < 0) {
            return ret;
        }
        off += n;
        buf += n;
        len -= n;
    }
    return 0;
}

size_t qcow2_compress_cluster(BlockDriverState *bs, const void *in, void *out)
{
    Qcow2State *s = bs->opaque;

    /* only the image's constant geometry and type: safe from any thread */
    return cluster_compress(s, in, out, s->cs - 1);
}

int qcow2_write_compressed(BlockDriverState *bs, int64_t offset, const void *buf)
{
    Qcow2State *s = bs->opaque;
    g_autofree uint8_t *out = NULL;
    size_t len;

    if (s->read_only) {
        return -EPERM;
    }
    if (s->ext_l2) {
        return bdrv_sync_io(bs, BLOCK_REQ_WRITE, offset, (void *)buf, s->cs, 0);
    }
    out = g_malloc(s->cs);
    len = qcow2_compress_cluster(bs, buf, out);
    return qcow2_write_compressed_data(bs, offset, buf, out, len);
}

int qcow2_write_compressed_data(BlockDriverState *bs, int64_t offset, const void *buf,
                                const void *comp, size_t len)
{
    Qcow2State *s = bs->opaque;
    uint64_t entry = 0, host, x, sectors;
    uint8_t *t;
    int ret;

    if (s->read_only) {
        return -EPERM;
    }
    if (s->ext_l2 || !len || len >= (size_t)s->cs) {
        return bdrv_sync_io(bs, BLOCK_REQ_WRITE, offset, (void *)buf, s->cs, 0);
    }
    g_mutex_lock(&s->lock);
    if ((ret = set_dirty(s)) < 0 || (ret = get_l2(s, offset, true, &t)) < 0) {
        goto out;
    }
    entry = l2_entry(s, t, l2_index(s, offset), NULL);
    if (entry & (L2E_MASK | OFLAG_COMPRESSED)) {
        g_mutex_unlock(&s->lock);
        return bdrv_sync_io(bs, BLOCK_REQ_WRITE, offset, (void *)buf, s->cs, 0);
    }
    /* packed after the previous compressed cluster when it fits there */
    uint64_t cur_rc = 0;
    if (s->comp_cursor && (ret = get_refcount(s, s->comp_cursor >> s->cluster_bits,
                                              &cur_rc)) < 0) {
        goto out;
    }
    if (s->comp_cursor && (s->comp_cursor & (s->cs - 1)) &&
        (s->comp_cursor & (s->cs - 1)) + len <= s->cs && cur_rc && cur_rc < rc_max(s)) {
        host = s->comp_cursor;
        if ((ret = update_refcounts(s, host >> s->cluster_bits, 1, 1)) < 0) {
            goto out;
        }
    } else {
        int64_t n = alloc_clusters(s, (len + s->cs - 1) >> s->cluster_bits);
        if (n < 0) {
            ret = (int)n;
            goto out;
        }
        host = n;
    }
    if ((ret = fwrite_(s, host, comp, len)) < 0) {
        goto out;
    }
    s->comp_cursor = host + len;
    x = 62 - (s->cluster_bits - 8);
    sectors = ((host + len - 1) >> 9) - (host >> 9);
    ret = set_l2_entry(s, offset, OFLAG_COMPRESSED | (sectors << x) | host, 0, L2_LATER);
out:
    g_mutex_unlock(&s->lock);
    return ret;
}

/* ---- the driver -------------------------------------------------------- */

static int qcow2_run_blocking(BlockDriverState *bs, BlockRequest *req)
{
    Qcow2State *s = bs->opaque;
    g_autofree uint8_t *bounce = NULL;
    uint8_t *buf = NULL;
    int ret = 0;

    if (req->type != BLOCK_REQ_READ && req->type != BLOCK_REQ_FLUSH && s->read_only) {
        return -EPERM;
    }
    if ((req->type == BLOCK_REQ_READ || req->type == BLOCK_REQ_WRITE) && req->niov == 1 &&
        req->iov[0].iov_len >= (size_t)req->bytes) {
        buf = req->iov[0].iov_base;     /* one buffer: used as it is, no copy */
    } else if (req->type == BLOCK_REQ_READ || req->type == BLOCK_REQ_WRITE) {
        buf = bounce = g_malloc(req->bytes);
        if (req->type == BLOCK_REQ_WRITE) {
            iov_to_buf(req->iov, req->niov, 0, buf, req->bytes);
        }
    }
    g_mutex_lock(&s->lock);
    switch (req->type) {
    case BLOCK_REQ_READ:
        ret = do_rw(s, false, req->offset, buf, req->bytes);
        break;
    case BLOCK_REQ_WRITE:
        if ((ret = set_dirty(s)) == 0) {
            ret = do_rw(s, true, req->offset, buf, req->bytes);
        }
        break;
    case BLOCK_REQ_WRITE_ZEROES:
    case BLOCK_REQ_DISCARD:
        if ((ret = set_dirty(s)) == 0) {
            ret = zero_or_discard(s, req->offset, req->bytes, req->type == BLOCK_REQ_DISCARD);
        }
        break;
    case BLOCK_REQ_FLUSH:
        if ((ret = l2_writeback_all(s)) == 0) {
            ret = fflush_(s);
        }
        break;
    }
    g_mutex_unlock(&s->lock);
    if (ret == 0 && req->type == BLOCK_REQ_READ && bounce) {
        iov_from_buf(req->iov, req->niov, 0, buf, req->bytes);
    }
    return ret;
}

static int64_t qcow2_getlength(BlockDriverState *bs)
{
    Qcow2State *s = bs->opaque;

    return s->size;
}

static void qcow2_free_state(Qcow2State *s)
{
    for (int i = 0; i < L2_CACHE_SLOTS; i++) {
        g_free(s->l2c[i].data);
    }
    for (int i = 0; i < RB_CACHE_SLOTS; i++) {
        g_free(s->rbc[i].data);
    }
    g_free(s->dec_buf);
    g_free(s->l1);
    g_free(s->rt);
    g_free(s->backing_file);
    g_free(s->backing_fmt);
    g_free(s->filename);
    if (s->backing) {
        bdrv_unref(s->backing);
    }
    g_mutex_clear(&s->lock);
    g_free(s);
}

static void qcow2_close(BlockDriverState *bs)
{
    Qcow2State *s = bs->opaque;
    uint8_t b[8];

    if (!s->read_only) {
        if (l2_writeback_all(s) < 0) {
            error_report("qcow2: '%s': could not write its L2 tables on close", s->filename);
        }
        fflush_(s);
        if (s->incompat & INCOMPAT_DIRTY) {
            s->incompat &= ~INCOMPAT_DIRTY;
            st64(b, s->incompat);
            if (fwrite_(s, H_INCOMPAT, b, 8) == 0) {
                fflush_(s);
            }
        }
    }
    qcow2_free_state(s);
}

static const BlockDriver qcow2_driver = {
    .format_name = "qcow2",
    .close = qcow2_close,
    .getlength = qcow2_getlength,
    .run_blocking = qcow2_run_blocking,
};

bool bdrv_is_qcow2(BlockDriverState *bs)
{
    return bs && bs->drv == &qcow2_driver;
}

int qcow2_cluster_size(BlockDriverState *bs)
{
    return ((Qcow2State *)bs->opaque)->cs;
}

BlockDriverState *qcow2_backing(BlockDriverState *bs)
{
    return ((Qcow2State *)bs->opaque)->backing;
}

/* ---- open -------------------------------------------------------------- */

const char *bdrv_probe_format(const char *filename, Error **errp)
{
    uint8_t magic[4];
    int fd = open(filename, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0) {
        error_setg_errno(errp, errno, "Could not open '%s'", filename);
        return NULL;
    }
    n = pread(fd, magic, 4, 0);
    close(fd);
    return n == 4 && be32(magic) == QCOW_MAGIC ? "qcow2" : "raw";
}

BlockDriverState *bdrv_open_image(const char *filename, const char *format, bool read_only,
                                  bool *probed, Error **errp)
{
    BlockFileOptions fo = { .filename = filename, .read_only = read_only };
    BlockDriverState *file;
    bool guessed = !format;

    if (probed) {
        *probed = guessed;
    }
    if (!format && !(format = bdrv_probe_format(filename, errp))) {
        return NULL;
    }
    if (strcmp(format, "raw") && strcmp(format, "qcow2")) {
        error_setg(errp, "Unknown driver '%s'", format);
        return NULL;
    }
    if (!(file = bdrv_open_file(&fo, errp))) {
        return NULL;
    }
    if (!strcmp(format, "qcow2")) {
        return bdrv_open_qcow2(file, read_only, 0, errp);
    }
    file = bdrv_open_raw(file, 0, -1, errp);
    if (file && guessed && !read_only) {
        bdrv_raw_set_probed(file);
    }
    return file;
}

/* The backing file name relative to the image's directory. */
static char *backing_path(const char *image, const char *backing)
{
    g_autofree char *dir = NULL;

    if (g_path_is_absolute(backing) || !strchr(image, '/')) {
        return g_strdup(backing);
    }
    dir = g_path_get_dirname(image);
    return g_build_filename(dir, backing, NULL);
}

static bool open_backing(Qcow2State *s, Error **errp)
{
    static __thread int depth;
    g_autofree char *path = backing_path(s->filename, s->backing_file);
    const char *fmt = s->backing_fmt;
    Error *err = NULL;

    if (depth > 64) {
        error_setg(errp, "'%s': the backing chain is too long (a loop?)", s->filename);
        return false;
    }
    if (fmt && strcmp(fmt, "raw") && strcmp(fmt, "qcow2")) {
        error_setg(errp, "'%s': unknown backing file format '%s'", s->filename, fmt);
        return false;
    }
    depth++;
    s->backing = bdrv_open_image(path, fmt, true, NULL, &err);
    depth--;
    if (!s->backing) {
        error_setg(errp, "Could not open backing file: %s", err->message);
        error_free(err);
        return false;
    }
    return true;
}

static bool read_extensions(Qcow2State *s, const uint8_t *h, uint64_t hlen, Error **errp)
{
    uint64_t pos = s->version >= 3 ? s->header_length : HDR_V2_LEN;
    while (pos + 8 <= hlen) {
        uint32_t type = be32(h + pos), len = be32(h + pos + 4);

        pos += 8;
        if (type == EXT_END) {
            return true;
        }
        if (len > hlen - pos) {
            error_setg(errp, "'%s': header extension 0x%x is too long", s->filename, type);
            return false;
        }
        if (type == EXT_BACKING_FMT) {
            g_free(s->backing_fmt);
            s->backing_fmt = g_strndup((const char *)h + pos, MIN(len, 16));
        } else if (type == EXT_DATA_FILE) {
            error_setg(errp, "'%s': images with an external data file are not supported",
                       s->filename);
            return false;
        }
        pos += (len + 7) & ~7ull;
    }
    return true;
}

/* The feature name table's name for an incompatible bit, if it has one. */
static char *feature_name(Qcow2State *s, const uint8_t *h, uint64_t hlen, int bit)
{
    uint64_t pos = s->version >= 3 ? s->header_length : HDR_V2_LEN;

    while (pos + 8 <= hlen) {
        uint32_t type = be32(h + pos), len = be32(h + pos + 4);
        pos += 8;
        if (type == EXT_END || len > hlen - pos) {
            break;
        }
        if (type == EXT_FEATURES) {
            for (uint64_t i = 0; i + 48 <= len; i += 48) {
                if (h[pos + i] == 0 && h[pos + i + 1] == bit) {
                    return g_strndup((const char *)h + pos + i + 2, 46);
                }
            }
        }
        pos += (len + 7) & ~7ull;
    }
    return g_strdup_printf("Unknown incompatible feature: %llx", 1ull << bit);
}

static bool load_table(Qcow2State *s, uint64_t off, uint64_t entries, uint64_t **out,
                       const char *what, Error **errp)
{
    uint64_t bytes = entries * 8;
    uint8_t *raw;
    int ret;

    *out = g_new0(uint64_t, entries ? entries : 1);
    if (!entries) {
        return true;
    }
    raw = g_malloc(bytes);
    ret = fread_(s, off, raw, bytes);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "'%s': could not read the %s", s->filename, what);
        g_free(raw);
        return false;
    }
    for (uint64_t i = 0; i < entries; i++) {
        (*out)[i] = be64(raw + i * 8);
    }
    g_free(raw);
    return true;
}

/* A table [off, off + bytes) must be aligned, past the header and inside
 * the file. */
static bool check_table(Qcow2State *s, uint64_t off, uint64_t bytes, uint64_t flen,
                        const char *what, Error **errp)
{
    if (off & (s->cs - 1)) {
        error_setg(errp, "'%s': the %s offset 0x%" G_GINT64_MODIFIER "x is not cluster "
                   "aligned", s->filename, what, off);
        return false;
    }
    if (bytes && off < s->cs) {
        error_setg(errp, "'%s': the %s overlaps the header", s->filename, what);
        return false;
    }
    if (off > flen || bytes > flen - off) {
        error_setg(errp, "'%s': the %s (0x%" G_GINT64_MODIFIER "x, %" G_GUINT64_FORMAT
                   " bytes) is beyond the end of the file", s->filename, what, off, bytes);
        return false;
    }
    return true;
}

BlockDriverState *bdrv_open_qcow2(BlockDriverState *file, bool read_only, int flags,
                                  Error **errp)
{
    bool no_backing = flags & QCOW2_OPEN_NO_BACKING;
    Qcow2State *s = g_new0(Qcow2State, 1);
    g_autofree uint8_t *h = NULL;
    uint64_t flen, hlen, l1_needed, l2_shift;
    BlockDriverState *bs;
    uint32_t bfsize;
    uint64_t bfoff;
    int ret;

    g_mutex_init(&s->lock);
    s->file = file;
    s->temporary = flags & QCOW2_OPEN_TEMPORARY;
    s->filename = g_strdup(bdrv_get_filename(file));
    s->read_only = read_only || bdrv_is_read_only(file);
    if (file_len(s) < 0) {
        error_setg(errp, "Could not get the size of '%s'", s->filename);
        goto fail;
    }
    flen = file_len(s);
    if (flen < HDR_V2_LEN) {
        error_setg(errp, "'%s' is too short to be a qcow2 image (truncated?)", s->filename);
        goto fail;
    }
    hlen = MIN(flen, 65536);
    h = g_malloc0(hlen);
    if ((ret = fread_(s, 0, h, hlen)) < 0) {
        error_setg_errno(errp, -ret, "Could not read the header of '%s'", s->filename);
        goto fail;
    }
    if (be32(h) != QCOW_MAGIC) {
        error_setg(errp, "Image is not in qcow2 format ('%s')", s->filename);
        goto fail;
    }
    s->version = be32(h + 4);
    if (s->version < 2 || s->version > 3) {
        error_setg(errp, "Unsupported qcow2 version %u in '%s'", s->version, s->filename);
        goto fail;
    }
    bfoff = be64(h + H_BACKING_OFFSET);
    bfsize = be32(h + 16);
    s->cluster_bits = be32(h + 20);
    s->size = be64(h + H_SIZE);
    if (be32(h + 32)) {
        error_setg(errp, "'%s': encrypted qcow2 images are not supported", s->filename);
        goto fail;
    }
    s->l1_size = be32(h + H_L1_SIZE);
    s->l1_offset = be64(h + 40);
    s->rt_offset = be64(h + H_RT_OFFSET);
    s->rt_clusters = be32(h + 56);
    s->nb_snapshots = be32(h + 60);
    s->snapshots_offset = be64(h + 64);
    if (s->version >= 3) {
        if (hlen < HDR_V3_LEN) {
            error_setg(errp, "'%s' is truncated (the v3 header is incomplete)", s->filename);
            goto fail;
        }
        s->incompat = be64(h + H_INCOMPAT);
        s->compat = be64(h + 80);
        s->autoclear = be64(h + H_AUTOCLEAR);
        s->refcount_order = be32(h + 96);
        s->header_length = be32(h + 100);
        if (s->header_length < HDR_V3_LEN || s->header_length > hlen ||
            s->header_length % 8) {
            error_setg(errp, "'%s': invalid header length %u", s->filename, s->header_length);
            goto fail;
        }
        if (s->header_length > HDR_V3_LEN) {
            s->compression_type = h[104];
        }
    } else {
        s->refcount_order = 4;
        s->header_length = HDR_V2_LEN;
    }
    if (s->cluster_bits < 9 || s->cluster_bits > 21) {
        error_setg(errp, "'%s': cluster size 2^%d is not supported (512 bytes to 2 MiB)",
                   s->filename, s->cluster_bits);
        goto fail;
    }
    s->cs = 1ull << s->cluster_bits;
    if (s->header_length > s->cs) {
        error_setg(errp, "'%s': the header is longer than a cluster", s->filename);
        goto fail;
    }
    if (s->incompat & ~INCOMPAT_KNOWN) {
        GString *names = g_string_new(NULL);
        for (int bit = 0; bit < 64; bit++) {
            if ((s->incompat & ~INCOMPAT_KNOWN) & (1ull << bit)) {
                g_autofree char *n = feature_name(s, h, hlen, bit);
                g_string_append_printf(names, "%s%s", names->len ? ", " : "", n);
            }
        }
        error_setg(errp, "'%s' uses unsupported qcow2 feature(s): %s", s->filename,
                   names->str);
        g_string_free(names, true);
        goto fail;
    }
    if (s->incompat & INCOMPAT_DATA_FILE) {
        error_setg(errp, "'%s': images with an external data file are not supported",
                   s->filename);
        goto fail;
    }
    if (s->compression_type > 1) {
        error_setg(errp, "'%s': unknown compression type %d", s->filename,
                   s->compression_type);
        goto fail;
    }
    if (!!s->compression_type != !!(s->incompat & INCOMPAT_COMPRESSION)) {
        error_setg(errp, "'%s': the compression type bit does not match the compression "
                   "type field", s->filename);
        goto fail;
    }
    if (s->refcount_order < 0 || s->refcount_order > 6) {
        error_setg(errp, "'%s': refcount width 2^%d is not supported (1 to 64 bits)",
                   s->filename, s->refcount_order);
        goto fail;
    }
    if ((s->incompat & INCOMPAT_CORRUPT) && !s->read_only &&
        !(flags & QCOW2_OPEN_CHECK)) {
        error_setg(errp, "qcow2: Image '%s' is corrupt; cannot be opened read/write "
                   "(use read-only, or kvmpc-img check -r all)", s->filename);
        goto fail;
    }
    s->ext_l2 = s->incompat & INCOMPAT_EXTL2;
    if (s->ext_l2 && s->cluster_bits < 14) {
        error_setg(errp, "'%s': extended L2 entries need clusters of 16 KiB or more",
                   s->filename);
        goto fail;
    }
    s->l2_entry_size = s->ext_l2 ? 16 : 8;
    s->l2_entries = s->cs / s->l2_entry_size;
    s->sc_size = s->cs / 32;
    s->rb_entries = (s->cs * 8) >> s->refcount_order;
    if (s->size > (1ull << 56)) {
        error_setg(errp, "'%s': the virtual size %" G_GUINT64_FORMAT " is too large",
                   s->filename, s->size);
        goto fail;
    }
    l2_shift = s->cluster_bits + s->cluster_bits - (s->ext_l2 ? 4 : 3);
    l1_needed = (s->size + (1ull << l2_shift) - 1) >> l2_shift;
    if ((uint64_t)s->l1_size * 8 > MAX_L1_BYTES) {
        error_setg(errp, "'%s': the active L1 table is too large (%u entries)", s->filename,
                   s->l1_size);
        goto fail;
    }
    if (s->l1_size < l1_needed) {
        error_setg(errp, "'%s': the L1 table is too small (%u entries for %" G_GUINT64_FORMAT
                   ")", s->filename, s->l1_size, l1_needed);
        goto fail;
    }
    if ((uint64_t)s->rt_clusters * s->cs > MAX_RT_BYTES) {
        error_setg(errp, "'%s': the reference count table is too large", s->filename);
        goto fail;
    }
    if (!check_table(s, s->l1_offset, (uint64_t)s->l1_size * 8, flen, "L1 table", errp) ||
        !check_table(s, s->rt_offset, (uint64_t)s->rt_clusters * s->cs, flen,
                     "refcount table", errp)) {
        goto fail;
    }
    if (s->rt_clusters == 0) {
        error_setg(errp, "'%s': the image has no reference count table", s->filename);
        goto fail;
    }
    if (s->nb_snapshots && !check_table(s, s->snapshots_offset, 0, flen, "snapshot table",
                                        errp)) {
        goto fail;
    }
    if (s->nb_snapshots && !s->read_only) {
        warn_report("'%s' has internal snapshots: kvmpc opens it read-only", s->filename);
        s->read_only = true;
    }
    /* ranges overlapping each other */
    if (s->l1_size && s->l1_offset < s->rt_offset + (uint64_t)s->rt_clusters * s->cs &&
        s->rt_offset < s->l1_offset + (uint64_t)s->l1_size * 8) {
        error_setg(errp, "'%s': the L1 table overlaps the refcount table", s->filename);
        goto fail;
    }
    s->rt_size = s->rt_disk_size = (uint64_t)s->rt_clusters * s->cs / 8;
    if (!load_table(s, s->l1_offset, s->l1_size, &s->l1, "L1 table", errp) ||
        !load_table(s, s->rt_offset, s->rt_size, &s->rt, "refcount table", errp)) {
        goto fail;
    }
    for (uint64_t i = 0; i < s->rt_size; i++) {
        uint64_t o = s->rt[i] & RTE_MASK;
        if (o && ((o & (s->cs - 1)) || o < s->cs || o > flen - s->cs)) {
            error_setg(errp, "'%s': refcount block %" G_GUINT64_FORMAT " at 0x%"
                       G_GINT64_MODIFIER "x is invalid", s->filename, i, o);
            goto fail;
        }
    }
    if (bfoff) {
        if (bfsize > 1023 || bfoff > hlen || bfsize > hlen - bfoff || !bfsize) {
            error_setg(errp, "'%s': the backing file name is invalid", s->filename);
            goto fail;
        }
        s->backing_file = g_strndup((const char *)h + bfoff, bfsize);
    }
    if (!read_extensions(s, h, MIN(hlen, s->cs), errp)) {
        goto fail;
    }
    if (s->backing_file && !no_backing && !open_backing(s, errp)) {
        goto fail;
    }
    if (!s->read_only && (s->autoclear & ~0ull)) {
        /* bitmaps and unknown autoclear features are not kept up to date */
        uint8_t b[8];
        s->autoclear = 0;
        st64(b, 0);
        if (fwrite_(s, H_AUTOCLEAR, b, 8) < 0) {
            error_setg(errp, "Could not update the header of '%s'", s->filename);
            goto fail;
        }
    }
    s->free_hint = 0;
    bs = bdrv_new(&qcow2_driver, s);
    bs->child = file;
    bs->filename = g_strdup(s->filename);
    bs->read_only = s->read_only;
    if ((s->incompat & INCOMPAT_DIRTY) && !s->read_only &&
        !(flags & QCOW2_OPEN_CHECK)) {
        Qcow2CheckResult r = { 0 };
        warn_report("'%s' was not closed cleanly: repairing its refcounts", s->filename);
        ret = qcow2_check(bs, QCOW2_FIX_LEAKS | QCOW2_FIX_ERRORS, &r);
        if (r.log) {
            g_string_free(r.log, true);
        }
        if (ret < 0 || r.corruptions) {
            error_setg(errp, "'%s': could not repair the image", s->filename);
            bdrv_unref(bs);
            return NULL;
        }
    }
    return bs;

fail:
    qcow2_free_state(s);
    bdrv_unref(file);
    return NULL;
}

void qcow2_get_info(BlockDriverState *bs, Qcow2ImageInfo *info)
{
    Qcow2State *s = bs->opaque;

    info->size = s->size;
    info->version = s->version;
    info->cluster_size = s->cs;
    info->refcount_bits = 1 << s->refcount_order;
    info->lazy_refcounts = s->compat & COMPAT_LAZY;
    info->dirty = s->incompat & INCOMPAT_DIRTY;
    info->corrupt = s->incompat & INCOMPAT_CORRUPT;
    info->extended_l2 = s->ext_l2;
    info->compression_type = s->compression_type;
    info->backing_file = s->backing_file;
    info->backing_fmt = s->backing_fmt;
}

/* ---- block status ------------------------------------------------------ */

int qcow2_block_status(BlockDriverState *bs, int64_t offset, int64_t bytes, int64_t *pnum,
                       uint64_t *host)
{
    Qcow2State *s = bs->opaque;
    int st = -1, ret = 0;
    uint64_t next_host = 0;

    *pnum = 0;
    *host = 0;
    g_mutex_lock(&s->lock);
    while (bytes > 0) {
        uint64_t in = offset & (s->cs - 1), n = MIN((uint64_t)bytes, s->cs - in);
        uint64_t entry = 0, bitmap = 0, h = 0;
        int cst;
        uint8_t *t;

        if ((ret = get_l2(s, offset, false, &t)) < 0) {
            break;
        }
        if (t) {
            entry = l2_entry(s, t, l2_index(s, offset), &bitmap);
        }
        if (entry & OFLAG_COMPRESSED) {
            cst = QCOW2_ST_COMPRESSED;
        } else if (s->ext_l2) {
            uint64_t sc = in / s->sc_size;
            n = MIN(n, (sc + 1) * s->sc_size - in);
            cst = bitmap & (1ull << sc) ? QCOW2_ST_DATA
                  : bitmap & (1ull << (32 + sc)) ? QCOW2_ST_ZERO : QCOW2_ST_UNALLOC;
            h = (entry & L2E_MASK) + in;
        } else if (s->version >= 3 && (entry & OFLAG_ZERO)) {
            cst = QCOW2_ST_ZERO;
        } else if (entry & L2E_MASK) {
            cst = QCOW2_ST_DATA;
            h = (entry & L2E_MASK) + in;
        } else {
            cst = QCOW2_ST_UNALLOC;
        }
        if (st < 0) {
            st = cst;
            *host = h;
        } else if (st != cst || (cst == QCOW2_ST_DATA && h != next_host) ||
                   cst == QCOW2_ST_COMPRESSED) {
            break;
        }
        next_host = h + n;
        *pnum += n;
        offset += n;
        bytes -= n;
    }
    g_mutex_unlock(&s->lock);
    return ret < 0 && *pnum == 0 ? ret : MAX(st, 0);
}

/* ---- check ------------------------------------------------------------- */

/* check's per-cluster lines stop here (the counts go on) */
#define LOG_MAX (256 * 1024)

typedef struct CheckWalk {
    Qcow2State *s;
    Qcow2CheckResult *r;
    uint64_t *refs;
    uint64_t nb;            /* clusters in the file */
    uint64_t end;           /* highest referenced cluster + 1 */
    uint64_t next_host;
} CheckWalk;

static void check_ref(CheckWalk *w, uint64_t off, uint64_t bytes, const char *what)
{
    uint64_t first = off >> w->s->cluster_bits;
    uint64_t last = (off + MAX(bytes, 1) - 1) >> w->s->cluster_bits;

    for (uint64_t c = first; c <= last; c++) {
        if (c >= w->nb) {
            if (w->r->log->len < LOG_MAX) {
                g_string_append_printf(w->r->log, "ERROR %s at offset 0x%" G_GINT64_MODIFIER
                                       "x is beyond the end of the image\n", what,
                                       c << w->s->cluster_bits);
            }
            w->r->corruptions++;
            continue;
        }
        w->refs[c]++;
        w->end = MAX(w->end, c + 1);
    }
}

static void check_l1(CheckWalk *w, uint64_t l1_off, uint64_t l1_size, bool active)
{
    Qcow2State *s = w->s;
    g_autofree uint8_t *l1 = NULL;
    g_autofree uint8_t *l2 = g_malloc(s->cs);

    if (l1_size * 8 > MAX_L1_BYTES) {
        g_string_append_printf(w->r->log, "ERROR snapshot L1 table too large (%"
                               G_GUINT64_FORMAT " entries)\n", l1_size);
        w->r->corruptions++;
        return;
    }
    l1 = g_malloc0(MAX(l1_size * 8, 1));

    check_ref(w, l1_off, l1_size * 8, "L1 table");
    if (l1_off + l1_size * 8 > w->nb * s->cs || (l1_size && fread_(s, l1_off, l1, l1_size * 8))) {
        w->r->check_errors++;
        return;
    }
    for (uint64_t i = 0; i < l1_size; i++) {
        uint64_t l2off = be64(l1 + i * 8) & L1E_MASK;
        if (!l2off) {
            continue;
        }
        if (l2off & (s->cs - 1)) {
            g_string_append_printf(w->r->log, "ERROR l2_offset=%" G_GINT64_MODIFIER "x: Table "
                                   "is not cluster aligned; L1 entry corrupted\n", l2off);
            w->r->corruptions++;
            continue;
        }
        check_ref(w, l2off, s->cs, "L2 table");
        if (l2off + s->cs > w->nb * s->cs || fread_(s, l2off, l2, s->cs) < 0) {
            w->r->check_errors++;
            continue;
        }
        for (uint64_t j = 0; j < s->l2_entries; j++) {
            uint64_t e = be64(l2 + j * s->l2_entry_size), host, len;
            if (e & OFLAG_COMPRESSED) {
                compressed_desc(s, e, &host, &len);
                check_ref(w, host, len, "compressed cluster");
                if (active) {
                    w->r->allocated_clusters++;
                    w->r->compressed_clusters++;
                    w->r->fragmented_clusters++;
                    w->next_host = 0;
                }
                continue;
            }
            host = e & L2E_MASK;
            if (!host) {
                continue;
            }
            if (host & (s->cs - 1)) {
                g_string_append_printf(w->r->log, "ERROR offset=%" G_GINT64_MODIFIER "x: "
                                       "Cluster is not properly aligned; L2 entry "
                                       "corrupted.\n", host);
                w->r->corruptions++;
                continue;
            }
            check_ref(w, host, s->cs, "data cluster");
            if (active) {
                w->r->allocated_clusters++;
                if (w->next_host && host != w->next_host) {
                    w->r->fragmented_clusters++;
                }
                w->next_host = host + s->cs;
            }
        }
    }
}

static void check_snapshots(CheckWalk *w)
{
    Qcow2State *s = w->s;
    uint64_t pos = s->snapshots_offset;
    uint8_t sh[40];

    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        uint32_t extra, idl, namel;
        if (pos + 40 > w->nb * s->cs || fread_(s, pos, sh, 40) < 0) {
            w->r->check_errors++;
            return;
        }
        extra = be32(sh + 36);
        idl = sh[12] << 8 | sh[13];
        namel = sh[14] << 8 | sh[15];
        check_l1(w, be64(sh), be32(sh + 8), false);
        pos += (40 + extra + idl + namel + 7) & ~7ull;
    }
    if (s->nb_snapshots) {
        check_ref(w, s->snapshots_offset, pos - s->snapshots_offset, "snapshot table");
    }
}

static void check_pass(Qcow2State *s, Qcow2CheckResult *r, uint64_t **refs_out,
                       uint64_t *nb_out)
{
    CheckWalk w = { .s = s, .r = r };

    w.nb = size_to_clusters(s, file_len(s));
    if (w.nb > (1ull << 27)) {
        g_string_append_printf(r->log, "ERROR the image file is too large to check (%"
                               G_GUINT64_FORMAT " clusters)\n", w.nb);
        r->check_errors++;
        w.nb = 0;
    }
    w.refs = g_new0(uint64_t, w.nb + 1);
    check_ref(&w, 0, s->cs, "header");
    check_l1(&w, s->l1_offset, s->l1_size, true);
    check_ref(&w, s->rt_offset, (uint64_t)s->rt_clusters * s->cs, "refcount table");
    for (uint64_t i = 0; i < s->rt_size; i++) {
        if (s->rt[i] & RTE_MASK) {
            check_ref(&w, s->rt[i] & RTE_MASK, s->cs, "refcount block");
        }
    }
    check_snapshots(&w);
    r->image_end_offset = w.end << s->cluster_bits;
    r->total_clusters = size_to_clusters(s, s->size);
    *refs_out = w.refs;
    *nb_out = w.nb;
}

static void check_compare(Qcow2State *s, Qcow2CheckResult *r, uint64_t *refs, uint64_t nb,
                          int fix)
{
    for (uint64_t c = 0; c < nb; c++) {
        uint64_t rc;
        if (get_refcount(s, c, &rc) < 0) {
            r->check_errors++;
            continue;
        }
        if (rc == refs[c]) {
            continue;
        }
        bool leak = rc > refs[c];
        bool repair = (fix & (leak ? QCOW2_FIX_LEAKS : QCOW2_FIX_ERRORS)) != 0;
        if (r->log->len < LOG_MAX) {
            g_string_append_printf(r->log, "%s cluster %" G_GUINT64_FORMAT " refcount=%"
                                   G_GUINT64_FORMAT " reference=%" G_GUINT64_FORMAT "\n",
                                   repair ? "Repairing" : leak ? "Leaked" : "ERROR", c, rc,
                                   refs[c]);
        }
        if (leak) {
            r->leaks++;
        } else {
            r->corruptions++;
        }
        if (repair && set_refcount(s, c, refs[c]) < 0) {
            r->check_errors++;
        }
    }
}

int qcow2_check(BlockDriverState *bs, int fix, Qcow2CheckResult *r)
{
    Qcow2State *s = bs->opaque;
    uint64_t *refs, nb;
    int ret;

    if (!r->log) {
        r->log = g_string_new(NULL);
    }
    if (fix && s->read_only) {
        return -EPERM;
    }
    g_mutex_lock(&s->lock);
    /* the walk reads the tables from the file */
    if (!s->read_only && (ret = l2_writeback_all(s)) < 0) {
        g_mutex_unlock(&s->lock);
        return ret;
    }
    check_pass(s, r, &refs, &nb);
    file_len(s);
    s->alloc_at_end = true;
    check_compare(s, r, refs, nb, fix);
    s->alloc_at_end = false;
    g_free(refs);
    if (fix && (r->leaks || r->corruptions)) {
        Qcow2CheckResult again = { .log = g_string_new(NULL) };
        uint8_t b[8];

        fflush_(s);
        check_pass(s, &again, &refs, &nb);
        check_compare(s, &again, refs, nb, 0);
        g_free(refs);
        r->leaks_fixed = r->leaks - again.leaks;
        r->corruptions_fixed = r->corruptions - again.corruptions;
        r->leaks = again.leaks;
        r->corruptions = again.corruptions;
        r->image_end_offset = again.image_end_offset;
        g_string_free(again.log, true);
        if (!r->corruptions && (s->incompat & INCOMPAT_CORRUPT)) {
            s->incompat &= ~INCOMPAT_CORRUPT;
        }
        s->incompat &= ~INCOMPAT_DIRTY;
        st64(b, s->incompat);
        fwrite_(s, H_INCOMPAT, b, 8);
        fflush_(s);
    }
    g_mutex_unlock(&s->lock);
    return 0;
}

/* ---- size changes and create ------------------------------------------- */

static int grow_l1(Qcow2State *s, uint64_t entries)
{
    uint64_t bytes = entries * 8, clusters = size_to_clusters(s, bytes);
    uint64_t old_off = s->l1_offset, old_bytes = (uint64_t)s->l1_size * 8;
    g_autofree uint8_t *buf = NULL;
    uint8_t hdr[12];
    int64_t off;
    int ret;

    if (bytes > MAX_L1_BYTES) {
        return -EFBIG;
    }
    entries = clusters * s->cs / 8;
    if ((off = alloc_clusters(s, clusters)) < 0) {
        return (int)off;
    }
    buf = g_malloc0(clusters * s->cs);
    for (uint32_t i = 0; i < s->l1_size; i++) {
        st64(buf + i * 8, s->l1[i]);
    }
    if ((ret = fflush_(s)) < 0 || (ret = fwrite_(s, off, buf, clusters * s->cs)) < 0 ||
        (ret = fflush_(s)) < 0) {
        return ret;
    }
    st32(hdr, entries);
    st64(hdr + 4, off);
    if ((ret = fwrite_(s, H_L1_SIZE, hdr, 12)) < 0 || (ret = fflush_(s)) < 0) {
        return ret;
    }
    s->l1 = g_renew(uint64_t, s->l1, entries);
    memset(s->l1 + s->l1_size, 0, (entries - s->l1_size) * 8);
    s->l1_size = entries;
    s->l1_offset = off;
    if (old_bytes) {
        return free_clusters(s, old_off, old_bytes);
    }
    return 0;
}

int qcow2_truncate(BlockDriverState *bs, uint64_t size, Error **errp)
{
    Qcow2State *s = bs->opaque;
    uint64_t l2_shift = s->cluster_bits + s->cluster_bits - (s->ext_l2 ? 4 : 3);
    uint64_t need = (size + (1ull << l2_shift) - 1) >> l2_shift;
    uint8_t b[8];
    int ret = 0;

    if (s->read_only) {
        error_setg(errp, "'%s' is read-only", s->filename);
        return -EPERM;
    }
    if (size % BDRV_SECTOR_SIZE) {
        error_setg(errp, "The new size must be a multiple of 512");
        return -EINVAL;
    }
    g_mutex_lock(&s->lock);
    if (size < s->size) {
        uint64_t from = (size + s->cs - 1) & ~(s->cs - 1);
        if (from < s->size) {
            ret = zero_or_discard(s, from, s->size - from, true);
            /* discard only sets clusters past a backing file to zero; drop them */
            for (uint64_t o = from; ret == 0 && o < s->size; o += s->cs) {
                uint8_t *t;
                if ((ret = get_l2(s, o, false, &t)) == 0 && t &&
                    l2_entry(s, t, l2_index(s, o), NULL)) {
                    uint64_t e = l2_entry(s, t, l2_index(s, o), NULL);
                    if ((ret = set_l2_entry(s, o, 0, 0, L2_SYNC)) == 0) {
                        ret = release_entry(s, e);
                    }
                }
            }
        }
    } else if (need > s->l1_size) {
        ret = grow_l1(s, need);
    }
    if (ret == 0) {
        st64(b, size);
        if ((ret = fflush_(s)) == 0 && (ret = fwrite_(s, H_SIZE, b, 8)) == 0 &&
            (ret = fflush_(s)) == 0) {
            s->size = size;
        }
    }
    g_mutex_unlock(&s->lock);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not resize '%s'", s->filename);
    }
    return ret;
}

static int preallocate(Qcow2State *s)
{
    for (uint64_t off = 0; off < s->size;) {
        uint64_t i = l2_index(s, off), n = MIN(s->l2_entries - i, size_to_clusters(s,
                                               s->size - off));
        uint8_t *t;
        int64_t host;
        int ret;

        if ((ret = get_l2(s, off, true, &t)) < 0 || (host = alloc_clusters(s, n)) < 0) {
            return ret < 0 ? ret : (int)host;
        }
        for (uint64_t k = 0; k < n; k++) {
            st64(t + (i + k) * s->l2_entry_size, ((uint64_t)host + k * s->cs) | OFLAG_COPIED);
            if (s->ext_l2) {
                st64(t + (i + k) * 16 + 8, 0xffffffffull);
            }
        }
        if ((ret = fflush_(s)) < 0 ||
            (ret = fwrite_(s, s->l1[l1_index(s, off)] & L1E_MASK, t, s->cs)) < 0) {
            return ret;
        }
        off += n * s->cs;
    }
    return fflush_(s);
}

static void put_ext(GByteArray *a, uint32_t type, const void *data, uint32_t len)
{
    uint8_t h[8], pad[8] = { 0 };

    st32(h, type);
    st32(h + 4, len);
    g_byte_array_append(a, h, 8);
    g_byte_array_append(a, data, len);
    g_byte_array_append(a, pad, ((len + 7) & ~7u) - len);
}

static void feature(uint8_t *e, int type, int bit, const char *name)
{
    memset(e, 0, 48);
    e[0] = type;
    e[1] = bit;
    memcpy(e + 2, name, strlen(name));
}

/* The feature name table extension (qemu-img writes it into every v3 image) */
#define FEATURE_TABLE_LEN (8 * 48)
static void put_feature_table(GByteArray *h)
{
    uint8_t feats[FEATURE_TABLE_LEN];

    feature(feats, 0, 0, "dirty bit");
    feature(feats + 48, 0, 1, "corrupt bit");
    feature(feats + 96, 0, 2, "external data file");
    feature(feats + 144, 0, 3, "compression type");
    feature(feats + 192, 0, 4, "extended L2 entries");
    feature(feats + 240, 1, 0, "lazy refcounts");
    feature(feats + 288, 2, 0, "bitmaps");
    feature(feats + 336, 2, 1, "raw external data");
    put_ext(h, EXT_FEATURES, feats, sizeof(feats));
}

BlockDriverState *qcow2_open_backing_of(const char *filename, const char *backing_file,
                                        const char *backing_fmt, Error **errp)
{
    g_autofree char *path = backing_path(filename, backing_file);

    return bdrv_open_image(path, backing_fmt, true, NULL, errp);
}

bool qcow2_create(const char *filename, const Qcow2CreateOptions *o, Error **errp)
{
    int cs = o->cluster_size ? o->cluster_size : 65536;
    int version = o->version ? o->version : 3;
    int rbits = o->refcount_bits ? o->refcount_bits : 16;
    int cbits = 0, order = 0;
    uint64_t size = o->size;
    g_autofree char *bfmt = o->backing_fmt ? g_strdup(o->backing_fmt) : NULL;
    GByteArray *h;
    uint8_t *zero;
    BlockDriverState *bs;
    const char *prealloc = o->preallocation ? o->preallocation : "off";
    bool ok;
    int fd;

    while ((1 << cbits) < cs) {
        cbits++;
    }
    while ((1 << order) < rbits) {
        order++;
    }
    if ((1 << cbits) != cs || cs < 512 || cs > 2 * 1024 * 1024) {
        error_setg(errp, "Cluster size must be a power of two between 512 and 2048k");
        return false;
    }
    if ((1 << order) != rbits || rbits > 64) {
        error_setg(errp, "Refcount width must be a power of two and may not exceed 64 bits");
        return false;
    }
    if (version == 2 && (rbits != 16 || o->lazy_refcounts || o->extended_l2 ||
                         o->compression_type)) {
        error_setg(errp, "compat=0.10 supports only refcount_bits=16, no lazy_refcounts, "
                   "extended_l2 or compression_type=zstd");
        return false;
    }
    if (o->extended_l2 && cs < 16384) {
        error_setg(errp, "Extended L2 entries are only supported with cluster sizes of at "
                   "least 16384 bytes");
        return false;
    }
    if (strcmp(prealloc, "off") && strcmp(prealloc, "metadata") && strcmp(prealloc, "falloc")
        && strcmp(prealloc, "full")) {
        error_setg(errp, "Invalid parameter '%s'", prealloc);
        return false;
    }
    if (o->backing_file && o->backing_unchecked) {
        if (strcmp(prealloc, "off")) {
            error_setg(errp, "Backing file and preallocation can only be used at the same "
                       "time if extended_l2 is on");
            return false;
        }
    } else if (o->backing_file) {
        BlockDriverState *b = qcow2_open_backing_of(filename, o->backing_file, bfmt, errp);
        if (!b) {
            return false;
        }
        if (!size) {
            size = bdrv_getlength(b);
        }
        if (!bfmt) {
            bfmt = g_strdup(bdrv_get_format_name(b));
        }
        bdrv_unref(b);
        if (strcmp(prealloc, "off")) {
            error_setg(errp, "Backing file and preallocation can only be used at the same "
                       "time if extended_l2 is on");
            return false;
        }
    }
    size = (size + 511) & ~511ull;

    h = g_byte_array_sized_new(cs);
    g_byte_array_set_size(h, version == 3 ? 112 : HDR_V2_LEN);
    memset(h->data, 0, h->len);
    st32(h->data, QCOW_MAGIC);
    st32(h->data + 4, version);
    st32(h->data + 20, cbits);
    st64(h->data + H_RT_OFFSET, cs);
    st32(h->data + 56, 1);
    if (version == 3) {
        st64(h->data + H_INCOMPAT, (o->compression_type ? INCOMPAT_COMPRESSION : 0) |
                                   (o->extended_l2 ? INCOMPAT_EXTL2 : 0));
        st64(h->data + 80, o->lazy_refcounts ? COMPAT_LAZY : 0);
        st32(h->data + 96, order);
        st32(h->data + 100, 112);
        h->data[104] = o->compression_type;
        if (bfmt) {
            put_ext(h, EXT_BACKING_FMT, bfmt, strlen(bfmt));
        }
        /* the name table is optional: left out when the header would not
         * fit in one cluster with it (small clusters and a backing file),
         * as qemu-img does */
        if (h->len + 8 + FEATURE_TABLE_LEN + 8 +
            (o->backing_file ? strlen(o->backing_file) : 0) <= cs) {
            put_feature_table(h);
        }
        put_ext(h, EXT_END, NULL, 0);
    } else if (bfmt) {
        put_ext(h, EXT_BACKING_FMT, bfmt, strlen(bfmt));
        put_ext(h, EXT_END, NULL, 0);
    }
    if (o->backing_file) {
        st64(h->data + H_BACKING_OFFSET, h->len);
        st32(h->data + 16, strlen(o->backing_file));
        g_byte_array_append(h, (const uint8_t *)o->backing_file, strlen(o->backing_file));
    }
    if (h->len > (guint)cs) {
        error_setg(errp, "The header of '%s' does not fit in a cluster", filename);
        g_byte_array_free(h, true);
        return false;
    }
    {
        guint used = h->len;
        g_byte_array_set_size(h, 3 * cs);
        memset(h->data + used, 0, 3 * cs - used);
    }
    zero = h->data;
    /* refcount table: one block at cluster 2, which counts clusters 0..2 */
    st64(zero + cs, 2ull * cs);
    {
        Qcow2State tmp = { .refcount_order = order };
        for (int c = 0; c < 3; c++) {
            rb_set(&tmp, zero + 2 * cs, c, 1);
        }
    }
    fd = open(filename, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Could not create '%s'", filename);
        g_byte_array_free(h, true);
        return false;
    }
    ok = pwrite(fd, h->data, h->len, 0) == (ssize_t)h->len && fsync(fd) == 0;
    g_byte_array_free(h, true);
    if (!ok) {
        error_setg_errno(errp, errno, "Could not write '%s'", filename);
        close(fd);
        return false;
    }
    {
        BlockFileOptions fo = { .filename = filename, .locking = BLOCK_LOCK_OFF };
        BlockDriverState *file = bdrv_open_file(&fo, errp);
        bs = file ? bdrv_open_qcow2(file, false, QCOW2_OPEN_NO_BACKING, errp) : NULL;
    }
    if (!bs) {
        close(fd);
        return false;
    }
    ok = qcow2_truncate(bs, size, errp) == 0;
    if (ok && strcmp(prealloc, "off")) {
        Qcow2State *s = bs->opaque;
        int ret;
        g_mutex_lock(&s->lock);
        ret = preallocate(s);
        g_mutex_unlock(&s->lock);
        if (ret == 0) {
            uint64_t end = size_to_clusters(s, file_len(s)) * s->cs;
            uint64_t last = 0;
            for (uint64_t c = 0; c < size_to_clusters(s, file_len(s)) + s->rb_entries; c++) {
                uint64_t rc;
                if (get_refcount(s, c, &rc) == 0 && rc) {
                    last = c + 1;
                }
            }
            end = MAX(end, last * s->cs);
            if (!strcmp(prealloc, "full")) {
                g_autofree uint8_t *z = g_malloc0(s->cs);
                int64_t flen = file_len(s);
                for (uint64_t p = flen; ret == 0 && p < end; p += s->cs) {
                    ret = fwrite_(s, p, z, s->cs);
                }
            } else if (!strcmp(prealloc, "falloc")) {
                ret = posix_fallocate(fd, 0, end) ? -EIO : 0;
            } else {
                ret = ftruncate(fd, MAX((uint64_t)file_len(s), end)) ? -errno : 0;
            }
        }
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Could not preallocate '%s'", filename);
            ok = false;
        }
    }
    bdrv_unref(bs);
    close(fd);
    return ok;
}

bool qcow2_is_temporary(BlockDriverState *bs)
{
    return ((Qcow2State *)bs->opaque)->temporary;
}

void qcow2_set_backing(BlockDriverState *bs, BlockDriverState *backing)
{
    Qcow2State *s = bs->opaque;

    bdrv_ref(backing);
    if (s->backing) {
        bdrv_unref(s->backing);
    }
    s->backing = backing;
}

/* Rewrites the backing file name and format in the header (rebase):
 * the header fields are kept, the extensions too except the backing
 * format, which is replaced; name NULL removes the backing file. */
int qcow2_change_backing_file(BlockDriverState *bs, const char *name, const char *fmt,
                              Error **errp)
{
    Qcow2State *s = bs->opaque;
    uint64_t hdr_end = s->version >= 3 ? s->header_length : HDR_V2_LEN, pos;
    g_autofree uint8_t *h = g_malloc0(s->cs);
    GByteArray *out;
    uint8_t end[8] = { 0 };
    int ret;

    if (s->read_only) {
        error_setg(errp, "'%s' is read-only", s->filename);
        return -EPERM;
    }
    g_mutex_lock(&s->lock);
    if ((ret = fread_(s, 0, h, MIN(s->cs, (uint64_t)file_len(s)))) < 0) {
        g_mutex_unlock(&s->lock);
        error_setg_errno(errp, -ret, "Could not read the header of '%s'", s->filename);
        return ret;
    }
    out = g_byte_array_new();
    g_byte_array_append(out, h, hdr_end);
    if (fmt) {
        put_ext(out, EXT_BACKING_FMT, fmt, strlen(fmt));
    }
    for (pos = hdr_end; pos + 8 <= s->cs;) {
        uint32_t type = be32(h + pos), len = be32(h + pos + 4);
        if (type == EXT_END || len > s->cs - pos - 8) {
            break;
        }
        if (type != EXT_BACKING_FMT) {
            put_ext(out, type, h + pos + 8, len);
        }
        pos += 8 + ((len + 7) & ~7ull);
    }
    g_byte_array_append(out, end, 8);
    st64(out->data + H_BACKING_OFFSET, name ? out->len : 0);
    st32(out->data + 16, name ? strlen(name) : 0);
    if (name) {
        g_byte_array_append(out, (const uint8_t *)name, strlen(name));
    }
    if (out->len > s->cs) {
        g_byte_array_free(out, true);
        g_mutex_unlock(&s->lock);
        error_setg(errp, "The new backing file name does not fit in the header of '%s'",
                   s->filename);
        return -ENOSPC;
    }
    /* clear what the old, possibly longer, header used */
    pos = MAX(pos + 8, s->backing_file ? be64(h + H_BACKING_OFFSET) + strlen(s->backing_file)
                                       : 0);
    if (out->len < MIN(pos, s->cs)) {
        guint used = out->len;
        g_byte_array_set_size(out, MIN(pos, s->cs));
        memset(out->data + used, 0, out->len - used);
    }
    ret = fwrite_(s, 0, out->data, out->len);
    if (ret == 0) {
        ret = fflush_(s);
    }
    g_byte_array_free(out, true);
    if (ret == 0) {
        g_free(s->backing_file);
        g_free(s->backing_fmt);
        s->backing_file = g_strdup(name);
        s->backing_fmt = g_strdup(fmt);
    } else {
        error_setg_errno(errp, -ret, "Could not write the header of '%s'", s->filename);
    }
    g_mutex_unlock(&s->lock);
    return ret;
}

int qcow2_set_lazy_refcounts(BlockDriverState *bs, bool on, Error **errp)
{
    Qcow2State *s = bs->opaque;
    uint8_t b[16];
    int ret;

    if (s->read_only) {
        error_setg(errp, "'%s' is read-only", s->filename);
        return -EPERM;
    }
    if (s->version < 3) {
        error_setg(errp, "Lazy refcounts only supported with compatibility level 1.1 and "
                   "above (use compat=1.1 or greater)");
        return -ENOTSUP;
    }
    g_mutex_lock(&s->lock);
    /* refcounts are always current here, so the dirty bit can go too */
    s->compat = on ? s->compat | COMPAT_LAZY : s->compat & ~COMPAT_LAZY;
    s->incompat &= ~INCOMPAT_DIRTY;
    st64(b, s->incompat);
    st64(b + 8, s->compat);
    ret = fflush_(s);
    if (ret == 0 && (ret = fwrite_(s, H_INCOMPAT, b, 16)) == 0) {
        ret = fflush_(s);
    }
    g_mutex_unlock(&s->lock);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not update the header of '%s'", s->filename);
    }
    return ret;
}

/* ---- amend: the refcount width and the version --------------------------- */


/*
 * Cluster 0 written again from the state, as a VERSION header: the fixed
 * fields, the backing format, the feature name table (v3, left out when
 * the header would not fit in the cluster otherwise), every extension
 * kvmpc does not interpret (copied from the old header as it was), the
 * end marker and the backing file name.  Cluster 0 holds only the header,
 * so the rest of it is written as zeroes; one write of one cluster.
 */
static int write_header(Qcow2State *s, uint32_t version)
{
    g_autofree uint8_t *old = g_malloc0(s->cs);
    uint64_t pos = s->version >= 3 ? s->header_length : HDR_V2_LEN;
    uint32_t hlen = version >= 3 ? 112 : HDR_V2_LEN;
    int ret;

    if ((ret = fread_(s, 0, old, MIN(s->cs, (uint64_t)file_len(s)))) < 0) {
        return ret;
    }
    for (int with_features = version >= 3; with_features >= 0; with_features--) {
        GByteArray *h = g_byte_array_sized_new(s->cs);
        uint8_t end[8] = { 0 };

        g_byte_array_set_size(h, hlen);
        memset(h->data, 0, hlen);
        st32(h->data, QCOW_MAGIC);
        st32(h->data + 4, version);
        st32(h->data + 20, s->cluster_bits);
        st64(h->data + H_SIZE, s->size);
        st32(h->data + H_L1_SIZE, s->l1_size);
        st64(h->data + 40, s->l1_offset);
        st64(h->data + H_RT_OFFSET, s->rt_offset);
        st32(h->data + 56, s->rt_clusters);
        st32(h->data + 60, s->nb_snapshots);
        st64(h->data + 64, s->snapshots_offset);
        if (version >= 3) {
            st64(h->data + H_INCOMPAT, s->incompat);
            st64(h->data + 80, s->compat);
            st64(h->data + H_AUTOCLEAR, s->autoclear);
            st32(h->data + 96, s->refcount_order);
            st32(h->data + 100, hlen);
            h->data[104] = s->compression_type;
        }
        if (s->backing_file && s->backing_fmt) {
            put_ext(h, EXT_BACKING_FMT, s->backing_fmt, strlen(s->backing_fmt));
        }
        if (with_features) {
            put_feature_table(h);
        }
        for (uint64_t p = pos; p + 8 <= s->cs;) {
            uint32_t type = be32(old + p), len = be32(old + p + 4);
            if (type == EXT_END || len > s->cs - p - 8) {
                break;
            }
            if (type != EXT_BACKING_FMT && type != EXT_FEATURES) {
                put_ext(h, type, old + p + 8, len);
            }
            p += 8 + ((len + 7) & ~7ull);
        }
        g_byte_array_append(h, end, 8);
        if (s->backing_file) {
            st64(h->data + H_BACKING_OFFSET, h->len);
            st32(h->data + 16, strlen(s->backing_file));
            g_byte_array_append(h, (const uint8_t *)s->backing_file, strlen(s->backing_file));
        }
        if (h->len <= s->cs) {
            guint used = h->len;
            g_byte_array_set_size(h, s->cs);
            memset(h->data + used, 0, s->cs - used);
            ret = fflush_(s);
            if (ret == 0 && (ret = fwrite_(s, 0, h->data, s->cs)) == 0) {
                ret = fflush_(s);
            }
            g_byte_array_free(h, true);
            return ret;
        }
        g_byte_array_free(h, true);
    }
    return -ENOSPC;
}

/*
 * New refcount structures of 2^order bits per entry: every cluster's
 * refcount is read, the old table and blocks are counted as free, the
 * new table and blocks (sized for the file plus themselves) go after the
 * file's end and count themselves, and only when they are on disk does
 * the header switch to them (a crash before leaves the old, valid
 * structures and some leaked clusters at the end).
 */
static int change_refcount_order(Qcow2State *s, int order, Error **errp)
{
    uint64_t nb = size_to_clusters(s, file_len(s)), per = (s->cs * 8) >> order;
    uint64_t newmax = order == 6 ? UINT64_MAX : (1ull << (1 << order)) - 1;
    uint64_t tcl = 0, blocks = 0, total;
    Qcow2State fmt = { .refcount_order = order };
    g_autofree uint64_t *rc = NULL;
    g_autofree uint8_t *tbuf = NULL, *bbuf = NULL;
    int ret;

    rc = g_new0(uint64_t, nb);
    for (uint64_t c = 0; c < nb; c++) {
        if ((ret = get_refcount(s, c, &rc[c])) < 0) {
            error_setg_errno(errp, -ret, "Could not read the refcount of cluster %"
                             G_GUINT64_FORMAT, c);
            return ret;
        }
        if (rc[c] > newmax) {
            error_setg(errp, "Cannot decrease refcount entry width to %d bits: Cluster at "
                       "offset %#" G_GINT64_MODIFIER "x has a refcount of %" G_GUINT64_FORMAT,
                       1 << order, c << s->cluster_bits, rc[c]);
            return -EINVAL;
        }
    }
    for (uint64_t c = s->rt_offset >> s->cluster_bits;
         c < (s->rt_offset >> s->cluster_bits) + s->rt_clusters && c < nb; c++) {
        rc[c] = 0;
    }
    for (uint64_t i = 0; i < s->rt_size; i++) {
        uint64_t c = (s->rt[i] & RTE_MASK) >> s->cluster_bits;
        if (c && c < nb) {
            rc[c] = 0;
        }
    }
    /* the smallest table and blocks that also count themselves */
    for (;;) {
        uint64_t nblocks = (nb + tcl + blocks + per - 1) / per;
        uint64_t ntcl = (nblocks * 8 + s->cs - 1) / s->cs;
        if (nblocks == blocks && ntcl == tcl) {
            break;
        }
        blocks = nblocks;
        tcl = ntcl;
    }
    if (tcl * s->cs > MAX_RT_BYTES) {
        error_setg(errp, "The refcount table of '%s' would be too large", s->filename);
        return -EFBIG;
    }
    total = nb + tcl + blocks;
    tbuf = g_malloc0(tcl * s->cs);
    bbuf = g_malloc0(blocks * s->cs);
    for (uint64_t c = 0; c < total; c++) {
        rb_set(&fmt, bbuf + (c / per) * s->cs, c % per, c < nb ? rc[c] : 1);
    }
    for (uint64_t i = 0; i < blocks; i++) {
        st64(tbuf + i * 8, (nb + tcl + i) << s->cluster_bits);
    }
    if ((ret = fwrite_(s, (nb + tcl) << s->cluster_bits, bbuf, blocks * s->cs)) < 0 ||
        (ret = fwrite_(s, nb << s->cluster_bits, tbuf, tcl * s->cs)) < 0 ||
        (ret = fflush_(s)) < 0) {
        error_setg_errno(errp, -ret, "Could not write the new refcount structures of '%s'",
                         s->filename);
        return ret;
    }
    {
        int old_order = s->refcount_order;
        uint64_t old_off = s->rt_offset;
        uint32_t old_cl = s->rt_clusters;

        s->refcount_order = order;
        s->rt_offset = nb << s->cluster_bits;
        s->rt_clusters = tcl;
        if ((ret = write_header(s, s->version)) < 0) {
            s->refcount_order = old_order;
            s->rt_offset = old_off;
            s->rt_clusters = old_cl;
            error_setg_errno(errp, -ret, "Could not update the header of '%s'", s->filename);
            return ret;
        }
    }
    s->rb_entries = per;
    s->rt_size = s->rt_disk_size = tcl * s->cs / 8;
    s->rt = g_renew(uint64_t, s->rt, s->rt_size);
    for (uint64_t i = 0; i < s->rt_size; i++) {
        s->rt[i] = be64(tbuf + i * 8);
    }
    for (int i = 0; i < RB_CACHE_SLOTS; i++) {
        s->rbc[i].offset = 0;
    }
    s->free_hint = 0;
    return 0;
}

/* Any compressed cluster in the active L1 table. */
static int has_compressed(Qcow2State *s, bool *found)
{
    *found = false;
    for (uint64_t i = 0; i < s->l1_size && !*found; i++) {
        uint64_t g = i << (s->cluster_bits + s->cluster_bits - (s->ext_l2 ? 4 : 3));
        uint8_t *t;
        int ret;

        if (!(s->l1[i] & L1E_MASK)) {
            continue;
        }
        if ((ret = get_l2(s, g, false, &t)) < 0) {
            return ret;
        }
        for (uint64_t j = 0; t && j < s->l2_entries; j++) {
            if (l2_entry(s, t, j, NULL) & OFLAG_COMPRESSED) {
                *found = true;
                break;
            }
        }
    }
    return 0;
}

/*
 * Version 2 has no zero flag: an allocated zero cluster gets zeroes
 * written into its host cluster and loses the flag; an unallocated one
 * becomes unallocated without a backing file (it reads as zeroes anyway)
 * and a new cluster of zeroes with one.
 */
static int expand_zero_clusters(Qcow2State *s)
{
    g_autofree uint8_t *zero = g_malloc0(s->cs);

    for (uint64_t i = 0; i < s->l1_size; i++) {
        uint64_t base = i << (s->cluster_bits + s->cluster_bits - 3);

        if (!(s->l1[i] & L1E_MASK)) {
            continue;
        }
        for (uint64_t j = 0; j < s->l2_entries; j++) {
            uint64_t g = base + (j << s->cluster_bits), e, host;
            uint8_t *t;
            int ret;

            if ((ret = get_l2(s, g, false, &t)) < 0) {
                return ret;
            }
            e = l2_entry(s, t, j, NULL);
            if ((e & OFLAG_COMPRESSED) || !(e & OFLAG_ZERO)) {
                continue;
            }
            host = e & L2E_MASK;
            if (!host && !s->backing_file) {
                ret = set_l2_entry(s, g, 0, 0, L2_NOW);
            } else {
                if (!host) {
                    int64_t n = alloc_clusters(s, 1);
                    if (n < 0) {
                        return (int)n;
                    }
                    host = n;
                    e = host | OFLAG_COPIED;
                }
                if ((ret = fflush_(s)) == 0 && (ret = fwrite_(s, host, zero, s->cs)) == 0 &&
                    (ret = fflush_(s)) == 0) {
                    ret = set_l2_entry(s, g, e & ~OFLAG_ZERO, 0, L2_NOW);
                }
            }
            if (ret < 0) {
                return ret;
            }
        }
    }
    return fflush_(s);
}

/* The header rewritten for another version, with no feature bits and
 * zlib (what an up- or downgrade starts from). */
static int switch_version(Qcow2State *s, int version, Error **errp)
{
    int ret;

    s->incompat = s->compat = s->autoclear = 0;
    s->compression_type = 0;
    if ((ret = write_header(s, version)) < 0) {
        error_setg_errno(errp, -ret, "Could not update the header of '%s'", s->filename);
        return ret;
    }
    s->version = version;
    s->header_length = version >= 3 ? 112 : HDR_V2_LEN;
    return 0;
}

int qcow2_amend(BlockDriverState *bs, int version, int refcount_bits, Error **errp)
{
    Qcow2State *s = bs->opaque;
    int order = s->refcount_order, ret = 0;

    if (s->read_only) {
        error_setg(errp, "'%s' is read-only", s->filename);
        return -EPERM;
    }
    if (refcount_bits) {
        for (order = 0; order < 7 && (1 << order) != refcount_bits; order++) {
        }
        if (order == 7) {
            error_setg(errp, "Refcount width must be a power of two and may not exceed 64 "
                       "bits");
            return -EINVAL;
        }
    }
    if (!version) {
        version = s->version;
    }
    if (version < 3 && order != 4) {
        error_setg(errp, refcount_bits ? "Refcount widths other than 16 bits require "
                   "compatibility level 1.1 or above (use compat=1.1 or greater)"
                   : "compat=0.10 requires refcount_bits=16");
        return -EINVAL;
    }
    g_mutex_lock(&s->lock);
    if ((ret = l2_writeback_all(s)) < 0) {
        error_setg_errno(errp, -ret, "Could not write the L2 tables of '%s'", s->filename);
        goto out;
    }
    if (version < (int)s->version) {
        bool comp = false;
        if (s->incompat & ~(INCOMPAT_DIRTY | INCOMPAT_COMPRESSION)) {
            error_setg(errp, "Cannot downgrade an image with incompatible features %#"
                       G_GINT64_MODIFIER "x set",
                       (uint64_t)(s->incompat & ~(INCOMPAT_DIRTY | INCOMPAT_COMPRESSION)));
            ret = -ENOTSUP;
            goto out;
        }
        if (s->compression_type && ((ret = has_compressed(s, &comp)) < 0 || comp)) {
            error_setg(errp, "Cannot downgrade an image with zstd compression type and "
                       "existing compressed clusters");
            ret = ret < 0 ? ret : -ENOTSUP;
            goto out;
        }
    }
    if (version > (int)s->version) {
        /* up first, so that a refcount width change is possible */
        if ((ret = switch_version(s, version, errp)) < 0) {
            goto out;
        }
    }
    if (order != s->refcount_order && (ret = change_refcount_order(s, order, errp)) < 0) {
        goto out;
    }
    if (version < (int)s->version) {
        if ((ret = expand_zero_clusters(s)) < 0) {
            error_setg_errno(errp, -ret, "Could not expand the zero clusters of '%s'",
                             s->filename);
            goto out;
        }
        /* refcounts are always current in kvmpc: lazy refcounts and the
         * dirty bit can simply go */
        if ((ret = switch_version(s, version, errp)) < 0) {
            goto out;
        }
    }
out:
    g_mutex_unlock(&s->lock);
    return ret;
}

/*
 * The virtio device core: features, status, configuration space and the
 * split virtqueue (virtio 1.2, 2.7), as seen from the device.
 *
 * Split ring, in guest memory, little-endian (queue size N):
 *   descriptor table  N x { u64 addr; u32 len; u16 flags; u16 next; }
 *   available ring    u16 flags; u16 idx; u16 ring[N]; u16 used_event;
 *   used ring         u16 flags; u16 idx; { u32 id; u32 len; } ring[N];
 *                     u16 avail_event;
 * flags: NEXT 1, WRITE 2 (device-writable), INDIRECT 4 (addr/len is a
 * table of descriptors).  used_event / avail_event exist with
 * VIRTIO_RING_F_EVENT_IDX and say at which index the other side wants
 * to be told.
 *
 * Packed ring (2.8, with VIRTIO_F_RING_PACKED): one ring of N x { u64
 * addr; u32 len; u16 id; u16 flags; } that both sides write, plus two
 * event-suppression areas { u16 off_wrap; u16 flags; } (driver's at
 * vq->avail, device's at vq->used).  A descriptor is available when its
 * AVAIL bit (7) equals the driver's wrap counter and its USED bit (15)
 * does not; the device marks a used one with both bits equal to its own
 * wrap counter.  Chains are consecutive slots; an indirect table holds
 * the whole chain.
 *
 * Hostile rings end in virtio_error() (see the header); the walk of a
 * chain is bounded by the table size, so it cannot loop.
 */
#include <endian.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <glib.h>
#include "hw/virtio/virtio.h"
#include "qemu/log.h"

typedef struct VRingDesc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
} VRingDesc;

#define VRING_AVAIL_FLAGS       0
#define VRING_AVAIL_IDX         2
#define VRING_AVAIL_RING        4
#define VRING_USED_FLAGS        0
#define VRING_USED_IDX          2
#define VRING_USED_RING         4

/* ---- iovecs ----------------------------------------------------------------- */

size_t virtio_iov_size(const struct iovec *iov, unsigned n)
{
    size_t s = 0;

    for (unsigned i = 0; i < n; i++) {
        s += iov[i].iov_len;
    }
    return s;
}

size_t iov_copy_to_buf(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len)
{
    size_t done = 0;

    for (unsigned i = 0; i < n && done < len; i++) {
        if (off >= iov[i].iov_len) {
            off -= iov[i].iov_len;
            continue;
        }
        size_t c = MIN(iov[i].iov_len - off, len - done);
        memcpy((uint8_t *)buf + done, (uint8_t *)iov[i].iov_base + off, c);
        done += c;
        off = 0;
    }
    return done;
}

size_t iov_copy_from_buf(const struct iovec *iov, unsigned n, size_t off, const void *buf,
                         size_t len)
{
    size_t done = 0;

    for (unsigned i = 0; i < n && done < len; i++) {
        if (off >= iov[i].iov_len) {
            off -= iov[i].iov_len;
            continue;
        }
        size_t c = MIN(iov[i].iov_len - off, len - done);
        memcpy((uint8_t *)iov[i].iov_base + off, (const uint8_t *)buf + done, c);
        done += c;
        off = 0;
    }
    return done;
}

/* ---- errors ----------------------------------------------------------------- */

void virtio_error(VirtIODevice *vdev, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    if (vdev->broken) {
        return;
    }
    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    warn_report("%s: %s (device needs reset)", vdev->name, msg);
    vdev->broken = true;
    /* As QEMU: only a 1.0 driver knows NEEDS_RESET; a legacy one just
     * sees the device stop. */
    if (!vdev->legacy && virtio_vdev_has_feature(vdev, VIRTIO_F_VERSION_1)) {
        vdev->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
        virtio_notify_config(vdev);
    }
}

/* ---- guest memory ----------------------------------------------------------- */

static void *vring_ptr(VirtIODevice *vdev, uint64_t addr, uint64_t len, bool is_write)
{
    if (addr + len < addr) {
        return NULL;
    }
    return address_space_get_ram_ptr(vdev->dma_as, addr, len, is_write);
}

static bool vring_read(VirtQueue *vq, uint64_t addr, void *buf, size_t len)
{
    void *p = vring_ptr(vq->vdev, addr, len, false);

    if (!p) {
        virtio_error(vq->vdev, "queue %u: ring at 0x%" PRIx64 " (+%zu) is outside RAM",
                     vq->index, addr, len);
        return false;
    }
    memcpy(buf, p, len);
    return true;
}

static bool vring_write(VirtQueue *vq, uint64_t addr, const void *buf, size_t len)
{
    void *p = vring_ptr(vq->vdev, addr, len, true);

    if (!p) {
        virtio_error(vq->vdev, "queue %u: ring at 0x%" PRIx64 " (+%zu) is outside RAM",
                     vq->index, addr, len);
        return false;
    }
    memcpy(p, buf, len);
    return true;
}

static bool vring_read16(VirtQueue *vq, uint64_t addr, uint16_t *v)
{
    uint16_t le;

    if (!vring_read(vq, addr, &le, 2)) {
        return false;
    }
    *v = le16toh(le);
    return true;
}

static bool vring_write16(VirtQueue *vq, uint64_t addr, uint16_t v)
{
    uint16_t le = htole16(v);

    return vring_write(vq, addr, &le, 2);
}

static bool vring_read_desc(VirtQueue *vq, uint64_t table, unsigned i, VRingDesc *d)
{
    uint8_t raw[VRING_DESC_SIZE];

    if (!vring_read(vq, table + (uint64_t)i * VRING_DESC_SIZE, raw, sizeof(raw))) {
        return false;
    }
    memcpy(&d->addr, raw, 8);
    memcpy(&d->len, raw + 8, 4);
    memcpy(&d->flags, raw + 12, 2);
    memcpy(&d->next, raw + 14, 2);
    d->addr = le64toh(d->addr);
    d->len = le32toh(d->len);
    d->flags = le16toh(d->flags);
    d->next = le16toh(d->next);
    return true;
}

static bool vring_avail_idx(VirtQueue *vq, uint16_t *idx)
{
    return vring_read16(vq, vq->avail + VRING_AVAIL_IDX, idx);
}

static uint64_t vring_used_event_addr(const VirtQueue *vq)
{
    return vq->avail + VRING_AVAIL_RING + 2ull * vq->num;
}

static uint64_t vring_avail_event_addr(const VirtQueue *vq)
{
    return vq->used + VRING_USED_RING + (uint64_t)VRING_USED_ELEM_SIZE * vq->num;
}

/* ---- virtqueues ------------------------------------------------------------- */

static bool virtio_packed(const VirtIODevice *vdev);
static bool packed_queue_empty(VirtQueue *vq);
static void virtio_packed_set_notification(VirtQueue *vq, bool enable);

bool virtio_queue_ready(const VirtQueue *vq)
{
    return vq->num && vq->desc && vq->enabled;
}

static bool virtio_bus_master(VirtIODevice *vdev)
{
    return !vdev->transport || !vdev->transport->bus_master ||
           vdev->transport->bus_master(vdev->transport_opaque);
}

bool virtio_queue_empty(VirtQueue *vq)
{
    uint16_t idx;

    if (vq->vdev->broken || !virtio_queue_ready(vq) || !virtio_bus_master(vq->vdev)) {
        return true;
    }
    if (virtio_packed(vq->vdev)) {
        return packed_queue_empty(vq);
    }
    if (!vring_avail_idx(vq, &idx)) {
        return true;
    }
    return idx == vq->last_avail_idx;
}

void virtio_queue_set_notification(VirtQueue *vq, bool enable)
{
    VirtIODevice *vdev = vq->vdev;

    if (vdev->broken || !virtio_queue_ready(vq)) {
        return;
    }
    if (virtio_packed(vdev)) {
        virtio_packed_set_notification(vq, enable);
    } else if (virtio_vdev_has_feature(vdev, VIRTIO_RING_F_EVENT_IDX)) {
        uint16_t idx;

        /* the driver's index, not ours: entries published but not yet
         * popped (a device that gave some back) must not hide the next */
        if (enable && vring_avail_idx(vq, &idx)) {
            vring_write16(vq, vring_avail_event_addr(vq), idx);
        }
    } else {
        uint16_t flags;

        if (vring_read16(vq, vq->used + VRING_USED_FLAGS, &flags)) {
            flags = enable ? flags & ~VRING_USED_F_NO_NOTIFY : flags | VRING_USED_F_NO_NOTIFY;
            vring_write16(vq, vq->used + VRING_USED_FLAGS, flags);
        }
    }
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Map [addr, addr+len) of guest RAM into iovecs, split where RAM ranges end. */
static bool virtqueue_map(VirtQueue *vq, uint64_t addr, uint32_t len, bool is_write,
                          struct iovec *iov, uint64_t *gaddr, unsigned *n)
{
    VirtIODevice *vdev = vq->vdev;

    if (!len) {
        virtio_error(vdev, "queue %u: zero-sized buffer at 0x%" PRIx64, vq->index, addr);
        return false;
    }
    while (len) {
        MemoryTranslation t;
        uint64_t chunk = len;
        void *p;

        if (*n >= VIRTQUEUE_MAX_SIZE) {
            virtio_error(vdev, "queue %u: more than %u buffers in one request", vq->index,
                         VIRTQUEUE_MAX_SIZE);
            return false;
        }
        if (address_space_translate(vdev->dma_as, addr, &t) == MEMORY_TRANSLATION_RAM &&
            t.start + t.size > addr && t.start + t.size - addr < chunk) {
            chunk = t.start + t.size - addr;
        }
        p = vring_ptr(vdev, addr, chunk, is_write);
        if (!p) {
            virtio_error(vdev, "queue %u: buffer 0x%" PRIx64 "+%u is outside RAM", vq->index,
                         addr, len);
            return false;
        }
        iov[*n].iov_base = p;
        iov[*n].iov_len = chunk;
        if (gaddr) {
            gaddr[*n] = addr;
        }
        (*n)++;
        addr += chunk;
        len -= chunk;
    }
    return true;
}

/* ---- packed virtqueues ----------------------------------------------------- */

static bool virtio_packed(const VirtIODevice *vdev)
{
    return virtio_vdev_has_feature(vdev, VIRTIO_F_RING_PACKED);
}

static bool packed_desc_avail(uint16_t flags, bool wrap)
{
    return !!(flags & VRING_PACKED_DESC_F_AVAIL) == wrap &&
           !!(flags & VRING_PACKED_DESC_F_USED) != wrap;
}

/* A packed descriptor: { u64 addr; u32 len; u16 id; u16 flags; }, the
 * split layout with flags and next swapped: returned with the id in next. */
static bool packed_read_desc(VirtQueue *vq, uint64_t table, unsigned i, VRingDesc *d)
{
    uint16_t id;

    if (!vring_read_desc(vq, table, i, d)) {
        return false;
    }
    id = d->flags;
    d->flags = d->next;
    d->next = id;
    return true;
}

static bool packed_read_flags(VirtQueue *vq, unsigned i, uint16_t *flags)
{
    return vring_read16(vq, vq->desc + (uint64_t)i * VRING_DESC_SIZE + 14, flags);
}

static bool packed_queue_empty(VirtQueue *vq)
{
    uint16_t flags;

    return !packed_read_flags(vq, vq->last_avail_idx, &flags) ||
           !packed_desc_avail(flags, vq->last_avail_wrap);
}

static bool virtqueue_map(VirtQueue *vq, uint64_t addr, uint32_t len, bool is_write,
                          struct iovec *iov, uint64_t *gaddr, unsigned *n);

/* Map one descriptor into the out or in lists. */
static bool packed_map_desc(VirtQueue *vq, const VRingDesc *d, struct iovec *out_iov,
                            unsigned *out_num, struct iovec *in_iov, uint64_t *in_addr,
                            unsigned *in_num)
{
    if (d->flags & VRING_DESC_F_WRITE) {
        return virtqueue_map(vq, d->addr, d->len, true, in_iov, in_addr, in_num);
    }
    if (*in_num) {
        virtio_error(vq->vdev, "queue %u: driver-readable buffer after a writable one",
                     vq->index);
        return false;
    }
    return virtqueue_map(vq, d->addr, d->len, false, out_iov, NULL, out_num);
}

static VirtQueueElement *virtqueue_make_elem(size_t sz, const struct iovec *out_iov,
                                             unsigned out_num, const struct iovec *in_iov,
                                             const uint64_t *in_addr, unsigned in_num);

static void *virtqueue_packed_pop(VirtQueue *vq, size_t sz)
{
    VirtIODevice *vdev = vq->vdev;
    struct iovec out_iov[VIRTQUEUE_MAX_SIZE], in_iov[VIRTQUEUE_MAX_SIZE];
    uint64_t in_addr[VIRTQUEUE_MAX_SIZE];
    unsigned out_num = 0, in_num = 0, ndescs = 0, i = vq->last_avail_idx;
    uint16_t id;
    VRingDesc d;
    VirtQueueElement *elem;

    if (packed_queue_empty(vq)) {
        return NULL;
    }
    /* The descriptor is read after the flags that published it. */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (!packed_read_desc(vq, vq->desc, i, &d)) {
        return NULL;
    }
    id = d.next;
    if (d.flags & VRING_DESC_F_INDIRECT) {
        uint64_t table = d.addr;
        unsigned max = d.len / VRING_DESC_SIZE;

        /* the table is the whole buffer: nothing may follow it in the ring */
        if (d.flags & VRING_DESC_F_NEXT) {
            virtio_error(vdev, "queue %u: indirect descriptor at slot %u with NEXT set",
                         vq->index, i);
            return NULL;
        }
        if (d.len == 0 || d.len % VRING_DESC_SIZE) {
            virtio_error(vdev, "queue %u: indirect table of %u bytes is invalid", vq->index,
                         d.len);
            return NULL;
        }
        if (!vring_ptr(vdev, table, d.len, false)) {
            virtio_error(vdev, "queue %u: indirect table 0x%" PRIx64 "+%u is outside RAM",
                         vq->index, table, d.len);
            return NULL;
        }
        for (unsigned j = 0; j < max; j++) {
            if (!packed_read_desc(vq, table, j, &d)) {
                return NULL;
            }
            if (d.flags & VRING_DESC_F_INDIRECT) {
                virtio_error(vdev, "queue %u: indirect descriptor inside an indirect table",
                             vq->index);
                return NULL;
            }
            if (!packed_map_desc(vq, &d, out_iov, &out_num, in_iov, in_addr, &in_num)) {
                return NULL;
            }
        }
        ndescs = 1;
    } else {
        for (;;) {
            if (++ndescs > vq->num) {
                virtio_error(vdev, "queue %u: chain from slot %u is longer than the queue (%u)",
                             vq->index, vq->last_avail_idx, vq->num);
                return NULL;
            }
            if (!packed_map_desc(vq, &d, out_iov, &out_num, in_iov, in_addr, &in_num)) {
                return NULL;
            }
            id = d.next;
            if (!(d.flags & VRING_DESC_F_NEXT)) {
                break;
            }
            if (++i == vq->num) {
                i = 0;
            }
            if (!packed_read_desc(vq, vq->desc, i, &d)) {
                return NULL;
            }
            if (d.flags & VRING_DESC_F_INDIRECT) {
                virtio_error(vdev, "queue %u: indirect descriptor inside a chain", vq->index);
                return NULL;
            }
        }
    }
    /* Buffer ids name the driver's buffers: one per ring slot at most */
    if (id >= vq->num) {
        virtio_error(vdev, "queue %u: buffer id %u at slot %u is out of range (queue size %u)",
                     vq->index, id, vq->last_avail_idx, vq->num);
        return NULL;
    }
    elem = virtqueue_make_elem(sz, out_iov, out_num, in_iov, in_addr, in_num);
    elem->index = id;
    elem->ndescs = ndescs;
    vq->last_avail_idx += ndescs;
    if (vq->last_avail_idx >= vq->num) {
        vq->last_avail_idx -= vq->num;
        vq->last_avail_wrap = !vq->last_avail_wrap;
    }
    vq->inuse++;
    return elem;
}

/* A batch (virtqueue_fill/flush): element idx goes in the slot after those
 * filled before it; id and len are written now, and the flags too except
 * for the first element, whose flags the flush writes last: they hand the
 * whole batch back to the driver at once. */
static void virtqueue_packed_fill(VirtQueue *vq, const VirtQueueElement *elem, uint32_t len,
                                  unsigned idx)
{
    uint64_t d;
    uint16_t flags;
    uint32_t le_len = htole32(len);

    if (idx == 0) {
        vq->fill_idx = vq->used_idx;
        vq->fill_wrap = vq->used_wrap;
    }
    d = vq->desc + (uint64_t)vq->fill_idx * VRING_DESC_SIZE;
    flags = vq->fill_wrap ? VRING_PACKED_DESC_F_AVAIL | VRING_PACKED_DESC_F_USED : 0;
    if (elem->in_num) {
        flags |= VRING_DESC_F_WRITE;
    }
    if (!vring_write(vq, d + 8, &le_len, 4) || !vring_write16(vq, d + 12, elem->index)) {
        return;
    }
    if (idx == 0) {
        vq->fill_head_flags = flags;
    } else {
        /* id and len are visible before the flags that hand the slot back. */
        __atomic_thread_fence(__ATOMIC_RELEASE);
        vring_write16(vq, d + 14, flags);
    }
    vq->fill_idx += MAX(elem->ndescs, 1u);
    if (vq->fill_idx >= vq->num) {
        vq->fill_idx -= vq->num;
        vq->fill_wrap = !vq->fill_wrap;
    }
}

static void virtqueue_packed_flush(VirtQueue *vq)
{
    uint64_t d = vq->desc + (uint64_t)vq->used_idx * VRING_DESC_SIZE;

    if (vq->fill_idx == vq->used_idx && vq->fill_wrap == vq->used_wrap) {
        return;                 /* nothing was filled */
    }
    __atomic_thread_fence(__ATOMIC_RELEASE);
    vring_write16(vq, d + 14, vq->fill_head_flags);
    vq->used_idx = vq->fill_idx;
    vq->used_wrap = vq->fill_wrap;
}

/*
 * Packed ring positions, for event suppression: slot and wrap counter as
 * one number modulo twice the ring size (the laps with wrap counter 1
 * first), so that "the driver's event descriptor was written between the
 * last interrupt and now" is one modular range check however the ring
 * wrapped in between.  signalled_used holds such a position.
 */
static uint16_t packed_pos(const VirtQueue *vq, uint16_t slot, bool wrap)
{
    return slot + (wrap ? 0 : vq->num);
}

static bool virtio_packed_should_notify(VirtQueue *vq)
{
    uint16_t off_wrap, flags, old, new, event, span;
    bool valid;

    if (!vring_read16(vq, vq->avail + 2, &flags) || !vring_read16(vq, vq->avail, &off_wrap)) {
        return false;
    }
    /* [old, new) is what was used since the last decision, whatever the
     * mode was then (as QEMU: a stale old would widen or narrow it) */
    old = vq->signalled_used;
    new = packed_pos(vq, vq->used_idx, vq->used_wrap);
    valid = vq->signalled_used_valid;
    vq->signalled_used = new;
    vq->signalled_used_valid = true;
    if (flags == VRING_PACKED_EVENT_FLAG_DISABLE) {
        return false;
    }
    if (flags != VRING_PACKED_EVENT_FLAG_DESC ||
        !virtio_vdev_has_feature(vq->vdev, VIRTIO_RING_F_EVENT_IDX)) {
        return true;
    }
    if (!valid) {
        return true;
    }
    event = packed_pos(vq, (off_wrap & ~(1u << VRING_PACKED_EVENT_F_WRAP_CTR)) % vq->num,
                       off_wrap >> VRING_PACKED_EVENT_F_WRAP_CTR);
    /* interrupt if event is in [old, new): counted back from new, it is
     * nearer than old (modulo 2 * num) */
    span = (new + 2u * vq->num - old) % (2u * vq->num);
    return (new + 2u * vq->num - event - 1) % (2u * vq->num) < span;
}

static void virtio_packed_set_notification(VirtQueue *vq, bool enable)
{
    uint16_t flags = VRING_PACKED_EVENT_FLAG_DISABLE;

    if (enable && virtio_vdev_has_feature(vq->vdev, VIRTIO_RING_F_EVENT_IDX)) {
        vring_write16(vq, vq->used, vq->last_avail_idx |
                      (uint16_t)vq->last_avail_wrap << VRING_PACKED_EVENT_F_WRAP_CTR);
        flags = VRING_PACKED_EVENT_FLAG_DESC;
    } else if (enable) {
        flags = VRING_PACKED_EVENT_FLAG_ENABLE;
    }
    vring_write16(vq, vq->used + 2, flags);
}

static VirtQueueElement *virtqueue_make_elem(size_t sz, const struct iovec *out_iov,
                                             unsigned out_num, const struct iovec *in_iov,
                                             const uint64_t *in_addr, unsigned in_num)
{
    VirtQueueElement *elem;
    uint8_t *p;

    sz = MAX(sz, sizeof(VirtQueueElement));
    sz = (sz + 7) & ~(size_t)7;
    p = g_malloc0(sz + (out_num + in_num) * sizeof(struct iovec) + in_num * sizeof(uint64_t));
    elem = (VirtQueueElement *)p;
    elem->out_num = out_num;
    elem->in_num = in_num;
    elem->out_sg = (struct iovec *)(p + sz);
    elem->in_sg = elem->out_sg + out_num;
    elem->in_addr = (uint64_t *)(elem->in_sg + in_num);
    memcpy(elem->out_sg, out_iov, out_num * sizeof(struct iovec));
    memcpy(elem->in_sg, in_iov, in_num * sizeof(struct iovec));
    memcpy(elem->in_addr, in_addr, in_num * sizeof(uint64_t));
    return elem;
}

void *virtqueue_pop(VirtQueue *vq, size_t sz)
{
    VirtIODevice *vdev = vq->vdev;
    struct iovec out_iov[VIRTQUEUE_MAX_SIZE], in_iov[VIRTQUEUE_MAX_SIZE];
    uint64_t in_addr[VIRTQUEUE_MAX_SIZE];
    unsigned out_num = 0, in_num = 0, seen = 0, max, i;
    uint16_t avail_idx, head;
    uint64_t table;
    VRingDesc d;
    VirtQueueElement *elem;

    if (vdev->broken || !virtio_queue_ready(vq) || !virtio_bus_master(vdev)) {
        return NULL;
    }
    if (virtio_packed(vdev)) {
        return virtqueue_packed_pop(vq, sz);
    }
    if (!vring_avail_idx(vq, &avail_idx)) {
        return NULL;
    }
    if ((uint16_t)(avail_idx - vq->last_avail_idx) > vq->num) {
        virtio_error(vdev, "queue %u: avail idx %u is %u entries ahead of %u (queue size %u)",
                     vq->index, avail_idx, (uint16_t)(avail_idx - vq->last_avail_idx),
                     vq->last_avail_idx, vq->num);
        return NULL;
    }
    if (avail_idx == vq->last_avail_idx) {
        return NULL;
    }
    /* The ring entry is read after the index that published it. */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (!vring_read16(vq, vq->avail + VRING_AVAIL_RING + 2ull * (vq->last_avail_idx % vq->num),
                      &head)) {
        return NULL;
    }
    vq->last_avail_idx++;
    if (virtio_vdev_has_feature(vdev, VIRTIO_RING_F_EVENT_IDX) &&
        !vring_write16(vq, vring_avail_event_addr(vq), vq->last_avail_idx)) {
        return NULL;
    }
    if (head >= vq->num) {
        virtio_error(vdev, "queue %u: head descriptor %u is out of range (queue size %u)",
                     vq->index, head, vq->num);
        return NULL;
    }

    table = vq->desc;
    max = vq->num;
    i = head;
    if (!vring_read_desc(vq, table, i, &d)) {
        return NULL;
    }
    if (d.flags & VRING_DESC_F_INDIRECT) {
        if (d.len == 0 || d.len % VRING_DESC_SIZE) {
            virtio_error(vdev, "queue %u: indirect table of %u bytes is invalid", vq->index,
                         d.len);
            return NULL;
        }
        if (!vring_ptr(vdev, d.addr, d.len, false)) {
            virtio_error(vdev, "queue %u: indirect table 0x%" PRIx64 "+%u is outside RAM",
                         vq->index, d.addr, d.len);
            return NULL;
        }
        table = d.addr;
        max = d.len / VRING_DESC_SIZE;
        i = 0;
        if (!vring_read_desc(vq, table, i, &d)) {
            return NULL;
        }
    }
    for (;;) {
        if (d.flags & VRING_DESC_F_INDIRECT) {
            virtio_error(vdev, "queue %u: %s", vq->index,
                         table != vq->desc ? "indirect descriptor inside an indirect table"
                                           : "indirect descriptor inside a chain");
            return NULL;
        }
        if (++seen > max) {
            virtio_error(vdev, "queue %u: chain from descriptor %u is longer than its table "
                         "(%u): a loop", vq->index, head, max);
            return NULL;
        }
        if (d.flags & VRING_DESC_F_WRITE) {
            if (!virtqueue_map(vq, d.addr, d.len, true, in_iov, in_addr, &in_num)) {
                return NULL;
            }
        } else {
            if (in_num) {
                virtio_error(vdev, "queue %u: driver-readable buffer after a writable one",
                             vq->index);
                return NULL;
            }
            if (!virtqueue_map(vq, d.addr, d.len, false, out_iov, NULL, &out_num)) {
                return NULL;
            }
        }
        if (!(d.flags & VRING_DESC_F_NEXT)) {
            break;
        }
        i = d.next;
        if (i >= max) {
            virtio_error(vdev, "queue %u: next descriptor %u is out of range (%u)", vq->index,
                         i, max);
            return NULL;
        }
        if (!vring_read_desc(vq, table, i, &d)) {
            return NULL;
        }
    }

    elem = virtqueue_make_elem(sz, out_iov, out_num, in_iov, in_addr, in_num);
    elem->index = head;
    elem->ndescs = 1;
    vq->inuse++;
    return elem;
}

void virtqueue_unpop(VirtQueue *vq, VirtQueueElement *elem)
{
    if (virtio_packed(vq->vdev)) {
        if (vq->last_avail_idx < elem->ndescs) {
            vq->last_avail_idx += vq->num;
            vq->last_avail_wrap = !vq->last_avail_wrap;
        }
        vq->last_avail_idx -= elem->ndescs;
    } else {
        vq->last_avail_idx--;
    }
    if (vq->inuse) {
        vq->inuse--;
    }
    g_free(elem);
}

void virtqueue_fill(VirtQueue *vq, const VirtQueueElement *elem, uint32_t len, unsigned idx)
{
    VirtIODevice *vdev = vq->vdev;
    uint32_t used[2];

    if (vq->inuse) {
        vq->inuse--;
    }
    if (vdev->broken || !virtio_queue_ready(vq)) {
        return;
    }
    /* The device wrote the in buffers: mark them dirty now that it is done
     * (a software CPU may have decoded code from them meanwhile). */
    for (unsigned k = 0; k < elem->in_num; k++) {
        vring_ptr(vdev, elem->in_addr[k], elem->in_sg[k].iov_len, true);
    }
    if (virtio_packed(vdev)) {
        virtqueue_packed_fill(vq, elem, len, idx);
        return;
    }
    used[0] = htole32(elem->index);
    used[1] = htole32(len);
    vring_write(vq, vq->used + VRING_USED_RING +
                (uint64_t)VRING_USED_ELEM_SIZE * ((uint16_t)(vq->used_idx + idx) % vq->num),
                used, sizeof(used));
}

void virtqueue_flush(VirtQueue *vq, unsigned count)
{
    VirtIODevice *vdev = vq->vdev;
    uint16_t old = vq->used_idx;

    if (vdev->broken || !virtio_queue_ready(vq) || !count) {
        return;
    }
    if (virtio_packed(vdev)) {
        virtqueue_packed_flush(vq);
        return;
    }
    /* The entries are visible before the index that publishes them. */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    vq->used_idx += count;
    if ((uint16_t)(vq->signalled_used - old - 1) < count) {
        vq->signalled_used_valid = false;       /* wrapped all the way round */
    }
    vring_write16(vq, vq->used + VRING_USED_IDX, vq->used_idx);
}

void virtqueue_push(VirtQueue *vq, const VirtQueueElement *elem, uint32_t len)
{
    virtqueue_fill(vq, elem, len, 0);
    virtqueue_flush(vq, 1);
}

static bool vring_need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
    return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

static bool virtio_should_notify(VirtIODevice *vdev, VirtQueue *vq)
{
    uint16_t v, old;
    bool valid;

    /* Our used index is visible before we look at what the driver wants. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (virtio_packed(vdev)) {
        return virtio_packed_should_notify(vq);
    }
    if (virtio_vdev_has_feature(vdev, VIRTIO_F_NOTIFY_ON_EMPTY) && !vq->inuse &&
        virtio_queue_empty(vq)) {
        return true;
    }
    if (!virtio_vdev_has_feature(vdev, VIRTIO_RING_F_EVENT_IDX)) {
        return vring_read16(vq, vq->avail + VRING_AVAIL_FLAGS, &v) &&
               !(v & VRING_AVAIL_F_NO_INTERRUPT);
    }
    old = vq->signalled_used;
    valid = vq->signalled_used_valid;
    vq->signalled_used = vq->used_idx;
    vq->signalled_used_valid = true;
    if (!vring_read16(vq, vring_used_event_addr(vq), &v)) {
        return false;
    }
    return !valid || vring_need_event(v, vq->used_idx, old);
}

void virtio_notify(VirtIODevice *vdev, VirtQueue *vq)
{
    if (vdev->broken || !virtio_queue_ready(vq) || !virtio_should_notify(vdev, vq)) {
        return;
    }
    vdev->isr |= VIRTIO_ISR_QUEUE;
    if (vdev->transport) {
        vdev->transport->notify(vdev->transport_opaque, vq->vector);
    }
}

void virtio_notify_config(VirtIODevice *vdev)
{
    if (!(vdev->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
        !(vdev->status & VIRTIO_CONFIG_S_NEEDS_RESET)) {
        return;
    }
    vdev->generation++;
    vdev->isr |= VIRTIO_ISR_CONFIG;
    if (vdev->transport) {
        vdev->transport->notify(vdev->transport_opaque, vdev->config_vector);
    }
}

void virtio_queue_notify(VirtIODevice *vdev, unsigned n)
{
    VirtQueue *vq;

    if (n >= vdev->nvqs) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: notify of queue %u, which does not exist\n",
                      vdev->name, n);
        return;
    }
    vq = &vdev->vq[n];
    if (vdev->broken || !virtio_queue_ready(vq) || !vq->handle) {
        return;
    }
    /* A packed queue's three areas must be RAM before anything is read:
     * the device area is written only when the device changes its
     * notification mode, which some devices never do (QEMU checks them
     * when it maps the rings at enable). */
    if (virtio_packed(vdev)) {
        static const char *const what[] = { "descriptor ring", "driver area", "device area" };
        const uint64_t addr[] = { vq->desc, vq->avail, vq->used };
        const uint64_t len[] = { (uint64_t)vq->num * VRING_DESC_SIZE, 4, 4 };

        for (unsigned i = 0; i < 3; i++) {
            if (!vring_ptr(vdev, addr[i], len[i], i == 2)) {
                virtio_error(vdev, "queue %u: %s at 0x%" PRIx64 " (+%" PRIu64
                             ") is outside RAM", vq->index, what[i], addr[i], len[i]);
                return;
            }
        }
    }
    vq->handle(vdev, vq);
}

/* ---- device life cycle ---------------------------------------------------- */

void virtio_init(VirtIODevice *vdev, const char *name, uint16_t device_id, size_t config_len,
                 const VirtIODeviceOps *ops)
{
    vdev->name = name;
    vdev->device_id = device_id;
    vdev->config_len = config_len;
    vdev->config = g_malloc0(MAX(config_len, 1));
    vdev->ops = ops;
    vdev->nvqs = 0;
    vdev->config_vector = VIRTIO_NO_VECTOR;
    vdev->dma_as = &address_space_memory;
    for (unsigned i = 0; i < VIRTIO_QUEUE_MAX; i++) {
        vdev->vq[i].vdev = vdev;
        vdev->vq[i].index = i;
        vdev->vq[i].vector = VIRTIO_NO_VECTOR;
        vdev->vq[i].last_avail_wrap = vdev->vq[i].used_wrap = true;
    }
}

void virtio_cleanup(VirtIODevice *vdev)
{
    g_free(vdev->config);
    vdev->config = NULL;
}

void virtio_set_dma_as(VirtIODevice *vdev, AddressSpace *as)
{
    vdev->dma_as = as;
}

VirtQueue *virtio_add_queue(VirtIODevice *vdev, unsigned queue_size, VirtIOHandleOutput *handle)
{
    VirtQueue *vq;

    if (vdev->nvqs >= VIRTIO_QUEUE_MAX || queue_size == 0 || queue_size > VIRTQUEUE_MAX_SIZE) {
        return NULL;
    }
    vq = &vdev->vq[vdev->nvqs++];
    vq->num_max = queue_size;
    vq->num = queue_size;
    vq->handle = handle;
    return vq;
}

uint64_t virtio_get_host_features(const VirtIODevice *vdev)
{
    return vdev->host_features;
}

void virtio_set_features_legacy(VirtIODevice *vdev, uint32_t val)
{
    uint32_t bad = val & ~(uint32_t)vdev->host_features;

    if (bad) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: driver acked unknown features 0x%x (dropped)\n",
                      vdev->name, bad);
    }
    vdev->guest_features = val & vdev->host_features;
}

void virtio_reset(VirtIODevice *vdev)
{
    vdev->status = 0;
    vdev->isr = 0;
    vdev->queue_sel = 0;
    vdev->guest_features = 0;
    vdev->config_vector = VIRTIO_NO_VECTOR;
    vdev->broken = false;
    for (unsigned i = 0; i < vdev->nvqs; i++) {
        VirtQueue *vq = &vdev->vq[i];

        vq->num = vq->num_max;
        vq->enabled = false;
        vq->desc = vq->avail = vq->used = 0;
        vq->last_avail_idx = vq->used_idx = vq->signalled_used = 0;
        vq->last_avail_wrap = vq->used_wrap = true;
        vq->signalled_used_valid = false;
        vq->vector = VIRTIO_NO_VECTOR;
        vq->inuse = 0;
    }
    if (vdev->ops && vdev->ops->reset) {
        vdev->ops->reset(vdev);
    }
}

void virtio_set_status(VirtIODevice *vdev, uint8_t val)
{
    if (val == 0) {
        virtio_reset(vdev);
        return;
    }
    if (!vdev->legacy && (val & VIRTIO_CONFIG_S_FEATURES_OK) &&
        !(vdev->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
        uint64_t bad = vdev->guest_features & ~vdev->host_features;

        if (bad) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: features 0x%" PRIx64 " were not offered: "
                          "FEATURES_OK refused\n", vdev->name, bad);
            val &= ~VIRTIO_CONFIG_S_FEATURES_OK;
        }
    }
    /* NEEDS_RESET is the device's: only a reset clears it. */
    vdev->status = val | (vdev->status & VIRTIO_CONFIG_S_NEEDS_RESET);
    if (vdev->ops && vdev->ops->set_status) {
        vdev->ops->set_status(vdev, vdev->status);
    }
}

uint32_t virtio_config_read(VirtIODevice *vdev, uint32_t addr, unsigned size)
{
    uint32_t v = 0;

    if (size > 4 || addr + size > vdev->config_len) {
        return size >= 4 ? UINT32_MAX : (1u << (8 * size)) - 1;
    }
    if (vdev->ops && vdev->ops->get_config) {
        vdev->ops->get_config(vdev, vdev->config);
    }
    for (unsigned i = 0; i < size; i++) {
        v |= (uint32_t)vdev->config[addr + i] << (8 * i);
    }
    return v;
}

void virtio_config_write(VirtIODevice *vdev, uint32_t addr, uint32_t val, unsigned size)
{
    if (size > 4 || addr + size > vdev->config_len) {
        return;
    }
    if (vdev->ops && vdev->ops->get_config) {
        vdev->ops->get_config(vdev, vdev->config);
    }
    for (unsigned i = 0; i < size; i++) {
        vdev->config[addr + i] = val >> (8 * i);
    }
    if (vdev->ops && vdev->ops->set_config) {
        vdev->ops->set_config(vdev, vdev->config);
    }
}

/* Legacy layout: descriptors, then the avail ring, then (page-aligned) the
 * used ring, all in one region starting at pfn << 12. */
void virtio_queue_set_legacy_pfn(VirtQueue *vq, uint32_t pfn)
{
    uint64_t base = (uint64_t)pfn << 12;

    if (!pfn) {
        vq->desc = vq->avail = vq->used = 0;
        vq->enabled = false;
        return;
    }
    vq->num = vq->num_max;
    vq->desc = base;
    vq->avail = base + (uint64_t)VRING_DESC_SIZE * vq->num;
    vq->used = (vq->avail + VRING_AVAIL_RING + 2ull * vq->num + 2 +
                VIRTIO_LEGACY_VRING_ALIGN - 1) & ~(uint64_t)(VIRTIO_LEGACY_VRING_ALIGN - 1);
    vq->enabled = true;
}

uint32_t virtio_queue_get_legacy_pfn(const VirtQueue *vq)
{
    return vq->desc >> 12;
}

/* ---- migration ------------------------------------------------------------- */

static const VMStateField virtqueue_fields[] = {
    VMSTATE_UINT16(num, VirtQueue),
    VMSTATE_BOOL(enabled, VirtQueue),
    VMSTATE_UINT64(desc, VirtQueue),
    VMSTATE_UINT64(avail, VirtQueue),
    VMSTATE_UINT64(used, VirtQueue),
    VMSTATE_UINT16(last_avail_idx, VirtQueue),
    VMSTATE_UINT16(used_idx, VirtQueue),
    VMSTATE_BOOL(last_avail_wrap, VirtQueue),
    VMSTATE_BOOL(used_wrap, VirtQueue),
    VMSTATE_UINT16(signalled_used, VirtQueue),
    VMSTATE_BOOL(signalled_used_valid, VirtQueue),
    VMSTATE_UINT16(vector, VirtQueue),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_virtqueue = {
    .name = "virtqueue",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = virtqueue_fields,
};

static int virtio_device_post_load(void *opaque, int version_id)
{
    VirtIODevice *vdev = opaque;

    (void)version_id;
    for (unsigned i = 0; i < VIRTIO_QUEUE_MAX; i++) {
        VirtQueue *vq = &vdev->vq[i];

        /* Devices drain before saving: nothing is in flight. */
        vq->inuse = 0;
        /* a packed queue's signalled_used is a position (slot and wrap)
         * since 2026-12: start over from the next interrupt */
        if (virtio_vdev_has_feature(vdev, VIRTIO_F_RING_PACKED)) {
            vq->signalled_used_valid = false;
        }
        if (i >= vdev->nvqs || vq->num > vq->num_max) {
            vq->num = vq->num_max;
            vq->desc = vq->avail = vq->used = 0;
            vq->enabled = false;
        }
    }
    return 0;
}

static const VMStateField virtio_device_fields[] = {
    VMSTATE_UINT8(status, VirtIODevice),
    VMSTATE_UINT8(isr, VirtIODevice),
    VMSTATE_UINT16(queue_sel, VirtIODevice),
    VMSTATE_UINT64(guest_features, VirtIODevice),
    VMSTATE_UINT16(config_vector, VirtIODevice),
    VMSTATE_UINT8(generation, VirtIODevice),
    VMSTATE_BOOL(broken, VirtIODevice),
    VMSTATE_BOOL(legacy, VirtIODevice),
    VMSTATE_STRUCT_ARRAY(vq, VirtIODevice, VIRTIO_QUEUE_MAX, vmstate_virtqueue, VirtQueue),
    VMSTATE_END_OF_LIST()
};

const VMStateDescription vmstate_virtio_device = {
    .name = "virtio",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = virtio_device_post_load,
    .fields = virtio_device_fields,
};

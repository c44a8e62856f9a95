/*
 * virtio-blk (virtio 1.2, 5.2) on PCI: "-device virtio-blk-pci,drive=NAME
 * [,serial=S][,num-queues=N][,queue-size=N][,discard=on|off]
 * [,write-zeroes=on|off][,bootindex=N]" and "-drive if=virtio".
 *
 * Configuration space (little-endian):
 *   0x00 u64 capacity (512-byte sectors)   0x08 u32 size_max (not offered)
 *   0x0c u32 seg_max                       0x10 geometry (not offered)
 *   0x14 u32 blk_size                      0x18 topology: u8 physical_block_exp,
 *        u8 alignment_offset, u16 min_io_size, u32 opt_io_size
 *   0x20 u8 writeback, u8 pad, u16 num_queues
 *   0x24 u32 max_discard_sectors           0x28 u32 max_discard_seg
 *   0x2c u32 discard_sector_alignment      0x30 u32 max_write_zeroes_sectors
 *   0x34 u32 max_write_zeroes_seg          0x38 u8 write_zeroes_may_unmap
 * Requests: out { u32 type; u32 ioprio; u64 sector; } [data], in [data]
 * u8 status.  Types: IN 0, OUT 1, FLUSH 4, GET_ID 8, DISCARD 11,
 * WRITE_ZEROES 13 (payload { u64 sector; u32 num_sectors; u32 flags; },
 * flags bit 0 unmap).  Status: OK 0, IOERR 1, UNSUPP 2.
 *
 * Requests go to the block layer asynchronously and complete in the main
 * loop.  The reads (or writes) that one notification finds in a row are
 * sorted by sector and adjacent ones go down as one request (QEMU's
 * multireq merging: a 1 MiB guest I/O is often two requests, split at
 * seg_max), each guest request completed on its own when it is done.  A FLUSH waits until every write submitted before it completed,
 * then flushes: nothing it covers is still in flight.  A driver reset
 * (status 0) does not wait for requests in flight: they finish but are
 * not put in the used ring (machine reset and savevm drain first).
 */
#include <inttypes.h>
#include <string.h>
#include <glib.h>
#include <endian.h>
#include <stdlib.h>
#include "hw/virtio/virtio-pci.h"
#include "hw/virtio/virtio-blk.h"
#include "hw/platform-desc.h"
#include "block/block.h"
#include "block/blockdev.h"
#include "qemu/log.h"

#define VIRTIO_BLK_F_SIZE_MAX           1
#define VIRTIO_BLK_F_SEG_MAX            2
#define VIRTIO_BLK_F_RO                 5
#define VIRTIO_BLK_F_BLK_SIZE           6
#define VIRTIO_BLK_F_FLUSH              9
#define VIRTIO_BLK_F_TOPOLOGY           10
#define VIRTIO_BLK_F_MQ                 12
#define VIRTIO_BLK_F_DISCARD            13
#define VIRTIO_BLK_F_WRITE_ZEROES       14

#define VIRTIO_BLK_T_IN                 0
#define VIRTIO_BLK_T_OUT                1
#define VIRTIO_BLK_T_FLUSH              4
#define VIRTIO_BLK_T_GET_ID             8
#define VIRTIO_BLK_T_DISCARD            11
#define VIRTIO_BLK_T_WRITE_ZEROES       13
#define VIRTIO_BLK_T_BARRIER            0x80000000u

#define VIRTIO_BLK_S_OK                 0
#define VIRTIO_BLK_S_IOERR              1
#define VIRTIO_BLK_S_UNSUPP             2

#define VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP 1
#define VIRTIO_BLK_ID_BYTES             20

#define VBLK_CFG_CAPACITY               0x00
#define VBLK_CFG_SEG_MAX                0x0c
#define VBLK_CFG_BLK_SIZE               0x14
#define VBLK_CFG_PHYS_BLOCK_EXP         0x18
#define VBLK_CFG_MIN_IO_SIZE            0x1a
#define VBLK_CFG_OPT_IO_SIZE            0x1c
#define VBLK_CFG_NUM_QUEUES             0x22
#define VBLK_CFG_MAX_DISCARD_SECTORS    0x24
#define VBLK_CFG_MAX_DISCARD_SEG        0x28
#define VBLK_CFG_DISCARD_ALIGN          0x2c
#define VBLK_CFG_MAX_WZ_SECTORS         0x30
#define VBLK_CFG_MAX_WZ_SEG             0x34
#define VBLK_CFG_WZ_MAY_UNMAP           0x38
#define VBLK_CFG_SIZE                   0x3c

#define VBLK_SECTOR_SIZE                512
#define VBLK_MAX_REQUEST_SECTORS        ((uint32_t)(INT32_MAX >> 9))   /* as QEMU */
#define PCI_CLASS_STORAGE_SCSI          0x0100

typedef struct VirtIOBlock {
    VirtIODevice vdev;
    BlockBackend *blk;
    uint64_t generation;            /* bumped by a driver reset */
    unsigned inflight_writes;       /* writes, discards, write-zeroes of this generation */
    GQueue pending_flushes;         /* FLUSHes waiting for those */
    /* properties */
    char *drive;
    char *serial;
    uint32_t num_queues;
    uint32_t queue_size;
    bool discard;
    bool write_zeroes;
    int32_t bootindex;
    uint32_t max_discard_sectors;
    uint32_t max_write_zeroes_sectors;
} VirtIOBlock;

typedef struct VirtIOBlkPCI {
    VirtIOPCIProxy proxy;
    VirtIOBlock blk;
} VirtIOBlkPCI;

typedef struct VirtIOBlkReq {
    VirtQueueElement elem;          /* first: virtqueue_pop allocates the request */
    VirtIOBlock *s;
    VirtQueue *vq;
    uint64_t generation;
    uint32_t type;
    uint64_t sector;
    struct iovec *iov;              /* the data part of the buffers */
    unsigned niov;
    size_t data_len;
    size_t in_len;                  /* bytes the device wrote, status included */
    bool is_write;
} VirtIOBlkReq;

#define VIRTIO_BLK(vdev) ((VirtIOBlock *)(vdev))

/* ---- completion --------------------------------------------------------- */

static void virtio_blk_submit_flush(VirtIOBlkReq *req);

static void virtio_blk_complete(VirtIOBlkReq *req, uint8_t status)
{
    VirtIOBlock *s = req->s;
    VirtQueueElement *elem = &req->elem;
    size_t in_total = virtio_iov_size(elem->in_sg, elem->in_num);

    if (req->generation == s->generation) {
        iov_copy_from_buf(elem->in_sg, elem->in_num, in_total - 1, &status, 1);
        virtqueue_push(req->vq, elem, status == VIRTIO_BLK_S_OK ? req->in_len + 1 : 1);
        virtio_notify(&s->vdev, req->vq);
    }
    g_free(req->iov);
    g_free(req);
}

static void virtio_blk_write_done(VirtIOBlock *s, uint64_t generation)
{
    if (generation != s->generation || !s->inflight_writes) {
        return;
    }
    if (--s->inflight_writes == 0) {
        VirtIOBlkReq *f;

        while ((f = g_queue_pop_head(&s->pending_flushes))) {
            virtio_blk_submit_flush(f);
        }
    }
}

static void virtio_blk_rw_cb(void *opaque, int ret)
{
    VirtIOBlkReq *req = opaque;
    VirtIOBlock *s = req->s;
    uint64_t gen = req->generation;
    bool is_write = req->is_write;

    if (ret) {
        qemu_log_mask(LOG_GUEST_ERROR, "virtio-blk: request type %u at sector %" PRIu64
                      " failed: %s\n", req->type, req->sector, g_strerror(-ret));
    }
    virtio_blk_complete(req, ret ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
    if (is_write) {
        virtio_blk_write_done(s, gen);
    }
}

static void virtio_blk_submit_flush(VirtIOBlkReq *req)
{
    blk_aio_flush(req->s->blk, virtio_blk_rw_cb, req);
}

/* ---- requests ---------------------------------------------------------------- */

static bool virtio_blk_range_ok(VirtIOBlock *s, uint64_t sector, uint64_t bytes)
{
    uint64_t total = blk_get_nb_sectors(s->blk);

    if (bytes % VBLK_SECTOR_SIZE) {
        return false;
    }
    return sector <= total && bytes / VBLK_SECTOR_SIZE <= total - sector;
}

/* The data iovecs: the out buffers after the header, or the in buffers
 * before the status byte. */
static void virtio_blk_data_iov(VirtIOBlkReq *req, bool from_in, size_t header)
{
    const struct iovec *src = from_in ? req->elem.in_sg : req->elem.out_sg;
    unsigned n = from_in ? req->elem.in_num : req->elem.out_num;
    size_t total = virtio_iov_size(src, n);
    size_t skip = from_in ? 0 : header;
    size_t len = from_in ? total - 1 : total - header;

    req->iov = g_new0(struct iovec, n ? n : 1);
    req->niov = 0;
    req->data_len = len;
    for (unsigned i = 0; i < n && len; i++) {
        size_t l = src[i].iov_len;
        uint8_t *b = src[i].iov_base;

        if (skip >= l) {
            skip -= l;
            continue;
        }
        b += skip;
        l -= skip;
        skip = 0;
        l = MIN(l, len);
        req->iov[req->niov].iov_base = b;
        req->iov[req->niov].iov_len = l;
        req->niov++;
        len -= l;
    }
}

static void virtio_blk_get_id(VirtIOBlkReq *req)
{
    VirtIOBlock *s = req->s;
    uint8_t id[VIRTIO_BLK_ID_BYTES] = { 0 };

    if (s->serial) {
        memcpy(id, s->serial, MIN(strlen(s->serial), sizeof(id)));
    }
    virtio_blk_data_iov(req, true, 0);
    req->in_len = iov_copy_from_buf(req->iov, req->niov, 0, id, MIN(req->data_len, sizeof(id)));
    virtio_blk_complete(req, VIRTIO_BLK_S_OK);
}

/* DISCARD and WRITE_ZEROES: one segment (max_*_seg is 1, as QEMU). */
static void virtio_blk_discard_wz(VirtIOBlkReq *req, bool is_wz)
{
    VirtIOBlock *s = req->s;
    uint8_t seg[16];
    uint64_t sector;
    uint32_t num, flags, max;

    if (!(is_wz ? s->write_zeroes : s->discard)) {
        virtio_blk_complete(req, VIRTIO_BLK_S_UNSUPP);
        return;
    }
    virtio_blk_data_iov(req, false, 16);
    if (req->data_len != sizeof(seg)) {
        /* more than one segment, or a partial one */
        virtio_blk_complete(req, req->data_len > sizeof(seg) && !(req->data_len % sizeof(seg))
                                 ? VIRTIO_BLK_S_UNSUPP : VIRTIO_BLK_S_IOERR);
        return;
    }
    iov_copy_to_buf(req->iov, req->niov, 0, seg, sizeof(seg));
    memcpy(&sector, seg, 8);
    memcpy(&num, seg + 8, 4);
    memcpy(&flags, seg + 12, 4);
    sector = le64toh(sector);
    num = le32toh(num);
    flags = le32toh(flags);
    max = is_wz ? s->max_write_zeroes_sectors : s->max_discard_sectors;
    if ((flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) || (!is_wz && flags)) {
        virtio_blk_complete(req, VIRTIO_BLK_S_UNSUPP);
        return;
    }
    if (num > max || !virtio_blk_range_ok(s, sector, (uint64_t)num * VBLK_SECTOR_SIZE) ||
        blk_is_read_only(s->blk)) {
        virtio_blk_complete(req, VIRTIO_BLK_S_IOERR);
        return;
    }
    req->sector = sector;
    req->is_write = true;
    s->inflight_writes++;
    if (is_wz) {
        blk_aio_pwrite_zeroes(s->blk, sector * VBLK_SECTOR_SIZE, (int64_t)num * VBLK_SECTOR_SIZE,
                              flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP ? BDRV_REQ_MAY_UNMAP : 0,
                              virtio_blk_rw_cb, req);
    } else {
        blk_aio_pdiscard(s->blk, sector * VBLK_SECTOR_SIZE, (int64_t)num * VBLK_SECTOR_SIZE,
                         virtio_blk_rw_cb, req);
    }
}

/* ---- merging ---------------------------------------------------------------- */

#define VBLK_BATCH_MAX          32      /* guest requests looked at together */
#define VBLK_MERGE_MAX_IOV      1024    /* Linux's IOV_MAX: one preadv/pwritev */
#define VBLK_MERGE_MAX_BYTES    ((size_t)VBLK_MAX_REQUEST_SECTORS * VBLK_SECTOR_SIZE)

/* Reads or writes (not both) that one notification found in a row. */
typedef struct VirtIOBlkBatch {
    VirtIOBlock *s;
    VirtIOBlkReq *req[VBLK_BATCH_MAX];
    unsigned n;
    bool is_write;
} VirtIOBlkBatch;

/* Guest requests that went down as one. */
typedef struct VirtIOBlkMerged {
    struct iovec *iov;
    unsigned n;
    VirtIOBlkReq *req[];
} VirtIOBlkMerged;

static void virtio_blk_merged_cb(void *opaque, int ret)
{
    VirtIOBlkMerged *m = opaque;

    for (unsigned i = 0; i < m->n; i++) {
        virtio_blk_rw_cb(m->req[i], ret);
    }
    g_free(m->iov);
    g_free(m);
}

static void virtio_blk_submit(VirtIOBlock *s, bool is_write, uint64_t sector, struct iovec *iov,
                              unsigned niov, BlockCompletionFunc *cb, void *opaque)
{
    if (is_write) {
        blk_aio_pwritev(s->blk, sector * VBLK_SECTOR_SIZE, iov, niov, 0, cb, opaque);
    } else {
        blk_aio_preadv(s->blk, sector * VBLK_SECTOR_SIZE, iov, niov, cb, opaque);
    }
}

/* req[first..first+n): adjacent in sector order, one request. */
static void virtio_blk_submit_run(VirtIOBlkBatch *b, unsigned first, unsigned n)
{
    VirtIOBlkReq *r0 = b->req[first];
    VirtIOBlkMerged *m;
    unsigned niov = 0;

    if (n == 1) {
        virtio_blk_submit(b->s, b->is_write, r0->sector, r0->iov, r0->niov, virtio_blk_rw_cb, r0);
        return;
    }
    m = g_malloc(sizeof(*m) + n * sizeof(m->req[0]));
    m->n = n;
    for (unsigned i = 0; i < n; i++) {
        m->req[i] = b->req[first + i];
        niov += m->req[i]->niov;
    }
    m->iov = g_new(struct iovec, niov);
    niov = 0;
    for (unsigned i = 0; i < n; i++) {
        memcpy(m->iov + niov, m->req[i]->iov, m->req[i]->niov * sizeof(struct iovec));
        niov += m->req[i]->niov;
    }
    virtio_blk_submit(b->s, b->is_write, r0->sector, m->iov, niov, virtio_blk_merged_cb, m);
    blk_account_merged(b->s->blk, b->is_write ? BLOCK_ACCT_WRITE : BLOCK_ACCT_READ, n - 1);
}

static int virtio_blk_req_cmp(const void *a, const void *b)
{
    const VirtIOBlkReq *x = *(VirtIOBlkReq *const *)a, *y = *(VirtIOBlkReq *const *)b;

    return x->sector < y->sector ? -1 : x->sector > y->sector;
}

static void virtio_blk_batch_submit(VirtIOBlkBatch *b)
{
    unsigned first = 0;

    if (b->n > 1) {
        qsort(b->req, b->n, sizeof(b->req[0]), virtio_blk_req_cmp);
    }
    while (first < b->n) {
        VirtIOBlkReq *r = b->req[first];
        uint64_t end = r->sector + r->data_len / VBLK_SECTOR_SIZE;
        size_t bytes = r->data_len;
        unsigned niov = r->niov, n = 1;

        while (first + n < b->n) {
            VirtIOBlkReq *nx = b->req[first + n];

            if (nx->sector != end || niov + nx->niov > VBLK_MERGE_MAX_IOV ||
                bytes + nx->data_len > VBLK_MERGE_MAX_BYTES) {
                break;
            }
            end += nx->data_len / VBLK_SECTOR_SIZE;
            bytes += nx->data_len;
            niov += nx->niov;
            n++;
        }
        virtio_blk_submit_run(b, first, n);
        first += n;
    }
    b->n = 0;
}

/* A read or write that passed its checks (writes counted in flight). */
static void virtio_blk_batch_add(VirtIOBlkBatch *b, VirtIOBlkReq *req)
{
    if (b->n && (b->is_write != req->is_write || b->n == VBLK_BATCH_MAX)) {
        virtio_blk_batch_submit(b);
    }
    b->is_write = req->is_write;
    b->req[b->n++] = req;
}

/* ---- requests, continued ------------------------------------------------- */

static void virtio_blk_handle_request(VirtIOBlock *s, VirtQueue *vq, VirtIOBlkReq *req,
                                      VirtIOBlkBatch *batch)
{
    VirtQueueElement *elem = &req->elem;
    uint8_t hdr[16];
    uint32_t type;

    req->s = s;
    req->vq = vq;
    req->generation = s->generation;
    if (elem->in_num < 1 || virtio_iov_size(elem->out_sg, elem->out_num) < sizeof(hdr)) {
        virtio_error(&s->vdev, "queue %u: request without a header or a status byte", vq->index);
        virtqueue_push(vq, elem, 0);
        g_free(req);
        return;
    }
    iov_copy_to_buf(elem->out_sg, elem->out_num, 0, hdr, sizeof(hdr));
    memcpy(&type, hdr, 4);
    memcpy(&req->sector, hdr + 8, 8);
    req->type = type = le32toh(type) & ~VIRTIO_BLK_T_BARRIER;
    req->sector = le64toh(req->sector);
    if (type != VIRTIO_BLK_T_IN && type != VIRTIO_BLK_T_OUT && batch->n) {
        virtio_blk_batch_submit(batch);     /* a FLUSH waits for the writes before it */
    }

    switch (type) {
    case VIRTIO_BLK_T_IN:
        virtio_blk_data_iov(req, true, 0);
        if (!virtio_blk_range_ok(s, req->sector, req->data_len)) {
            blk_account_invalid(s->blk, BLOCK_ACCT_READ);
            virtio_blk_complete(req, VIRTIO_BLK_S_IOERR);
            return;
        }
        req->in_len = req->data_len;
        if (!req->data_len) {
            virtio_blk_complete(req, VIRTIO_BLK_S_OK);      /* nothing to read */
            return;
        }
        virtio_blk_batch_add(batch, req);
        return;
    case VIRTIO_BLK_T_OUT:
        virtio_blk_data_iov(req, false, sizeof(hdr));
        if (blk_is_read_only(s->blk) || !virtio_blk_range_ok(s, req->sector, req->data_len)) {
            blk_account_invalid(s->blk, BLOCK_ACCT_WRITE);
            virtio_blk_complete(req, VIRTIO_BLK_S_IOERR);
            return;
        }
        if (!req->data_len) {
            virtio_blk_complete(req, VIRTIO_BLK_S_OK);      /* nothing to write */
            return;
        }
        req->is_write = true;
        s->inflight_writes++;
        virtio_blk_batch_add(batch, req);
        return;
    case VIRTIO_BLK_T_FLUSH:
        if (s->inflight_writes) {
            g_queue_push_tail(&s->pending_flushes, req);
        } else {
            virtio_blk_submit_flush(req);
        }
        return;
    case VIRTIO_BLK_T_GET_ID:
        virtio_blk_get_id(req);
        return;
    case VIRTIO_BLK_T_DISCARD:
        virtio_blk_discard_wz(req, false);
        return;
    case VIRTIO_BLK_T_WRITE_ZEROES:
        virtio_blk_discard_wz(req, true);
        return;
    default:
        virtio_blk_complete(req, VIRTIO_BLK_S_UNSUPP);
        return;
    }
}

static void virtio_blk_handle_output(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOBlock *s = VIRTIO_BLK(vdev);
    VirtIOBlkBatch batch = { .s = s };
    VirtIOBlkReq *req;

    while ((req = virtqueue_pop(vq, sizeof(VirtIOBlkReq)))) {
        virtio_blk_handle_request(s, vq, req, &batch);
    }
    virtio_blk_batch_submit(&batch);
}

/* ---- device ---------------------------------------------------------------- */

static void virtio_blk_get_config(VirtIODevice *vdev, uint8_t *c)
{
    VirtIOBlock *s = VIRTIO_BLK(vdev);
    uint64_t cap = htole64(blk_get_nb_sectors(s->blk));

    memset(c, 0, VBLK_CFG_SIZE);
    memcpy(c + VBLK_CFG_CAPACITY, &cap, 8);
    pci_set_long(c + VBLK_CFG_SEG_MAX, s->queue_size - 2);
    pci_set_long(c + VBLK_CFG_BLK_SIZE, VBLK_SECTOR_SIZE);
    c[VBLK_CFG_PHYS_BLOCK_EXP] = 0;
    pci_set_word(c + VBLK_CFG_MIN_IO_SIZE, 0);
    pci_set_long(c + VBLK_CFG_OPT_IO_SIZE, 0);
    pci_set_word(c + VBLK_CFG_NUM_QUEUES, s->num_queues);
    pci_set_long(c + VBLK_CFG_MAX_DISCARD_SECTORS, s->max_discard_sectors);
    pci_set_long(c + VBLK_CFG_MAX_DISCARD_SEG, 1);
    pci_set_long(c + VBLK_CFG_DISCARD_ALIGN, 1);
    pci_set_long(c + VBLK_CFG_MAX_WZ_SECTORS, s->max_write_zeroes_sectors);
    pci_set_long(c + VBLK_CFG_MAX_WZ_SEG, 1);
    c[VBLK_CFG_WZ_MAY_UNMAP] = blk_discard_enabled(s->blk);
}

static void virtio_blk_reset(VirtIODevice *vdev)
{
    VirtIOBlock *s = VIRTIO_BLK(vdev);
    VirtIOBlkReq *f;

    /* Requests in flight finish without touching the rings. */
    s->generation++;
    s->inflight_writes = 0;
    while ((f = g_queue_pop_head(&s->pending_flushes))) {
        g_free(f->iov);
        g_free(f);
    }
}

static const VirtIODeviceOps virtio_blk_ops = {
    .get_config = virtio_blk_get_config,
    .reset = virtio_blk_reset,
};

static void virtio_blk_pci_realize(PCIDevice *d, Error **errp)
{
    VirtIOBlkPCI *dev = (VirtIOBlkPCI *)d;
    VirtIOBlock *s = &dev->blk;
    VirtIODevice *vdev = &s->vdev;
    const char *id = d->qdev.id ? d->qdev.id : d->qdev.canonical_path;

    if (!s->drive) {
        error_setg(errp, "virtio-blk-pci: drive property not set");
        return;
    }
    if (s->num_queues < 1 || s->num_queues > VIRTIO_QUEUE_MAX) {
        error_setg(errp, "virtio-blk-pci: Property 'num-queues': %u is not 1-%u", s->num_queues,
                   VIRTIO_QUEUE_MAX);
        return;
    }
    if (s->queue_size < 4 || s->queue_size > VIRTQUEUE_MAX_SIZE ||
        (s->queue_size & (s->queue_size - 1))) {
        error_setg(errp, "virtio-blk-pci: Property 'queue-size': %u is not a power of two "
                   "in 4-%u", s->queue_size, VIRTQUEUE_MAX_SIZE);
        return;
    }
    if (s->serial && strlen(s->serial) > VIRTIO_BLK_ID_BYTES) {
        warn_report("virtio-blk-pci: serial '%s' is truncated to %u bytes", s->serial,
                    VIRTIO_BLK_ID_BYTES);
    }
    s->blk = blockdev_backend_for(s->drive, errp);
    if (!s->blk) {
        return;
    }
    if (!blk_is_inserted(s->blk)) {
        error_setg(errp, "virtio-blk-pci: Device needs media, but drive '%s' is empty", s->drive);
        s->blk = NULL;
        return;
    }
    if (!blk_attach_dev(s->blk, dev, id, errp)) {
        s->blk = NULL;
        return;
    }
    g_queue_init(&s->pending_flushes);
    virtio_init(vdev, "virtio-blk", VIRTIO_ID_BLOCK, VBLK_CFG_SIZE, &virtio_blk_ops);
    vdev->host_features = (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
                          (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_BLK_F_TOPOLOGY);
    if (blk_is_read_only(s->blk)) {
        vdev->host_features |= 1ull << VIRTIO_BLK_F_RO;
    }
    if (s->num_queues > 1) {
        vdev->host_features |= 1ull << VIRTIO_BLK_F_MQ;
    }
    if (s->discard) {
        vdev->host_features |= 1ull << VIRTIO_BLK_F_DISCARD;
    }
    if (s->write_zeroes) {
        vdev->host_features |= 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
    }
    for (unsigned i = 0; i < s->num_queues; i++) {
        virtio_add_queue(vdev, s->queue_size, virtio_blk_handle_output);
    }
    if (!virtio_pci_realize(&dev->proxy, vdev, PCI_CLASS_STORAGE_SCSI, errp)) {
        blk_detach_dev(s->blk, dev);
        s->blk = NULL;
        virtio_cleanup(vdev);
    }
}

static void virtio_blk_pci_exit(PCIDevice *d)
{
    VirtIOBlkPCI *dev = (VirtIOBlkPCI *)d;

    virtio_pci_exit(&dev->proxy);
    if (dev->blk.blk) {
        blk_drain(dev->blk.blk);
        blk_detach_dev(dev->blk.blk, dev);
        dev->blk.blk = NULL;
    }
    virtio_cleanup(&dev->blk.vdev);
}

static void virtio_blk_pci_reset(PCIDevice *d)
{
    VirtIOBlkPCI *dev = (VirtIOBlkPCI *)d;

    virtio_pci_reset(&dev->proxy);
}

/* SeaBIOS matches "/pci@i0cf8/<anything>@<slot>[,fn]"; this is QEMU's name. */
static void virtio_blk_pci_describe(DeviceState *ds, PlatformDesc *pd)
{
    VirtIOBlkPCI *dev = (VirtIOBlkPCI *)ds;
    PCIDevice *d = &dev->proxy.pci;
    g_autofree char *path = NULL;

    if (dev->blk.bootindex < 0 || !d->bus) {
        return;
    }
    path = PCI_FUNC(d->devfn)
           ? g_strdup_printf("/pci@i0cf8/scsi@%x,%x/disk@0,0", PCI_SLOT(d->devfn), PCI_FUNC(d->devfn))
           : g_strdup_printf("/pci@i0cf8/scsi@%x/disk@0,0", PCI_SLOT(d->devfn));
    platform_add_boot_entry(pd, dev->blk.bootindex, path);
}

static const VMStateField virtio_blk_pci_fields[] = {
    VMSTATE_VIRTIO_PCI(proxy, VirtIOBlkPCI),
    VMSTATE_VIRTIO_DEVICE(blk.vdev, VirtIOBlkPCI),
    VMSTATE_END_OF_LIST()
};

static int virtio_blk_pci_pre_save(void *opaque)
{
    VirtIOBlkPCI *dev = opaque;

    /* savevm drained the main loop; make sure of this drive. */
    if (dev->blk.blk) {
        blk_drain(dev->blk.blk);
    }
    return 0;
}

static const VMStateDescription vmstate_virtio_blk_pci = {
    .name = "virtio-blk-pci",
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_save = virtio_blk_pci_pre_save,
    .fields = virtio_blk_pci_fields,
};

static const Property virtio_blk_pci_props[] = {
    DEFINE_VIRTIO_PCI_PROPERTIES(),
    DEFINE_PROP_STRING("drive", VirtIOBlkPCI, blk.drive),
    DEFINE_PROP_STRING("serial", VirtIOBlkPCI, blk.serial),
    DEFINE_PROP_UINT32("num-queues", VirtIOBlkPCI, blk.num_queues, 1),
    DEFINE_PROP_UINT32("queue-size", VirtIOBlkPCI, blk.queue_size, 256),
    DEFINE_PROP_BOOL("discard", VirtIOBlkPCI, blk.discard, true),
    DEFINE_PROP_BOOL("write-zeroes", VirtIOBlkPCI, blk.write_zeroes, true),
    DEFINE_PROP_INT32("bootindex", VirtIOBlkPCI, blk.bootindex, -1),
    DEFINE_PROP_UINT32("max-discard-sectors", VirtIOBlkPCI, blk.max_discard_sectors,
                       VBLK_MAX_REQUEST_SECTORS),
    DEFINE_PROP_UINT32("max-write-zeroes-sectors", VirtIOBlkPCI, blk.max_write_zeroes_sectors,
                       VBLK_MAX_REQUEST_SECTORS),
    DEFINE_PROP_END_OF_LIST(),
};

static const PCIDeviceClass virtio_blk_pci_class = {
    PCI_DEVICE_CLASS_INIT("virtio-blk-pci", "Virtio block device", VirtIOBlkPCI,
                          virtio_blk_pci_props, .category = DEVICE_CATEGORY_STORAGE,
                          .vmsd = &vmstate_virtio_blk_pci, .describe = virtio_blk_pci_describe),
    .vendor_id = PCI_VENDOR_ID_REDHAT_QUMRANET,
    .device_id = 0x1001,
    .class_id = PCI_CLASS_STORAGE_SCSI,
    .realize = virtio_blk_pci_realize,
    .exit = virtio_blk_pci_exit,
    .reset = virtio_blk_pci_reset,
    .config_read = virtio_pci_config_read,
    .config_write = virtio_pci_config_write,
};

PCI_DEVICE_CLASS_REGISTER(virtio_blk_pci_class)

/* -drive if=virtio: one virtio-blk-pci per drive, in index order, after the
 * -device options (QEMU creates them as it parses -drive). */
bool virtio_blk_create_cmdline_drives(Error **errp)
{
    int max_bus = drive_get_max_bus(IF_VIRTIO);

    for (int bus = 0; bus <= max_bus; bus++) {
        for (int unit = 0; unit < 256; unit++) {
            DriveInfo *di = drive_get(IF_VIRTIO, bus, unit);
            g_autofree char *spec = NULL;

            if (!di) {
                continue;
            }
            spec = g_strdup_printf("virtio-blk-pci,drive=%s", blk_name(di->blk));
            if (!qdev_device_add(spec, errp)) {
                return false;
            }
        }
    }
    return true;
}

/*
 * SCSI disks and CD-ROMs on a SCSI bus: "-device scsi-hd,drive=NAME
 * [,channel=C][,scsi-id=T][,lun=L][,bootindex=N][,serial=S][,wwn=W]
 * [,removable=on|off][,logical_block_size=512|1024|2048|4096]" and
 * "-device scsi-cd[,drive=NAME]..." (an empty drive without drive=).
 *
 * Commands (SPC-4, SBC-3, MMC-6):
 *   both  0x00 TEST UNIT READY    0x12 INQUIRY (standard; VPD 00 80 83, disk: b0 b1 b2)
 *         0x1a/0x5a MODE SENSE    0x15/0x55 MODE SELECT (caching page: WCE)
 *         0x1b START STOP UNIT    0x1e PREVENT ALLOW MEDIUM REMOVAL
 *         0x25 READ CAPACITY(10)  0x9e/0x10 READ CAPACITY(16)
 *         0x08 0x28 0xa8 0x88 READ(6/10/12/16)   0x0a 0x2a 0xaa 0x8a WRITE(6/10/12/16)
 *         0x2e 0xae 0x8e WRITE AND VERIFY        0x2f 0xaf 0x8f VERIFY (BYTCHK 0)
 *         0x35 0x91 SYNCHRONIZE CACHE            0x2b SEEK(10)
 *   disk  0x42 UNMAP              0x41 0x93 WRITE SAME(10/16) (UNMAP bit, NDOB)
 *   cd    0x43 READ TOC (formats 0, 1)           0x46 GET CONFIGURATION
 *         0x4a GET EVENT STATUS NOTIFICATION (polled, media class)
 *         0x51 READ DISC INFORMATION
 * REQUEST SENSE, REPORT LUNS and UNIT ATTENTION are the bus's
 * (hw/scsi/scsi-bus.c).  Mode pages: 0x01 read-write error recovery,
 * 0x08 caching, 0x0a control, cd: 0x2a capabilities; 0x3f = all.
 *
 * Reads, writes, flushes, unmaps and write-same go to the block layer
 * asynchronously and complete in the main loop.  A read-only drive answers
 * writes with DATA PROTECT / WRITE PROTECTED (07/27/00); an LBA past the
 * end with ILLEGAL REQUEST / LBA OUT OF RANGE (05/21/00).
 */
#include <inttypes.h>
#include <string.h>
#include <glib.h>
#include <errno.h>
#include "hw/scsi/scsi.h"
#include "hw/platform-desc.h"
#include "block/block.h"
#include "block/blockdev.h"
#include "qemu/log.h"

/* Mode pages */
#define MODE_PAGE_R_W_ERROR             0x01
#define MODE_PAGE_CACHING               0x08
#define MODE_PAGE_CONTROL               0x0a
#define MODE_PAGE_CAPABILITIES          0x2a
#define MODE_PAGE_ALL                   0x3f
#define MODE_PC_CURRENT                 0
#define MODE_PC_CHANGEABLE              1
#define MODE_PC_DEFAULT                 2
#define MODE_PC_SAVED                   3
#define MODE_CACHING_WCE                0x04

/* MMC-6 */
#define MMC_PROFILE_NONE                0x0000
#define MMC_PROFILE_CD_ROM              0x0008
#define MMC_PROFILE_DVD_ROM             0x0010
#define MMC_FEATURE_PROFILE_LIST        0x0000
#define MMC_FEATURE_CORE                0x0001
#define MMC_FEATURE_REMOVABLE_MEDIUM    0x0003
#define GESN_MEDIA_CLASS                4
#define GESN_MEC_NO_CHANGE              0
#define GESN_MEC_EJECT_REQUEST          1
#define GESN_MEC_NEW_MEDIA              2
#define GESN_MS_TRAY_OPEN               1
#define GESN_MS_MEDIA_PRESENT           2
#define CD_MAX_BLOCKS                   (80 * 60 * 75)  /* 80 minutes of 2048-byte frames */
#define CD_FRAMES_PER_SECOND            75

#define SCSI_WRITE_SAME_CHUNK           (1u << 20)      /* bytes per write of a pattern */
#define SCSI_MAX_UNMAP_DESCRIPTORS      255
#define SCSI_MAX_UNMAP_BYTES            (1ull << 30)    /* QEMU's max_unmap_size default */
#define SCSI_SERIAL_MAX                 36

typedef struct SCSIDiskState {
    SCSIDevice qdev;                /* first */
    BlockBackend *blk;
    bool tray_open;
    bool tray_locked;
    bool media_event;               /* GESN: new media to report */
    bool eject_request;             /* GESN: eject requested by the host */
    /* properties */
    char *drive;
    char *serial;
    uint64_t wwn;
    bool removable;
} SCSIDiskState;

#define SCSI_DISK(req) ((SCSIDiskState *)(req)->dev)

static bool scsi_is_cd(SCSIDiskState *s)
{
    return s->qdev.type == SCSI_TYPE_ROM;
}

static uint64_t scsi_disk_nb_blocks(SCSIDiskState *s)
{
    int64_t len = blk_is_inserted(s->blk) ? blk_getlength(s->blk) : 0;

    return len > 0 ? (uint64_t)len / s->qdev.blocksize : 0;
}

/* NOT READY when the medium cannot be read (an empty CD drive, its tray open). */
static bool scsi_disk_check_ready(SCSIRequest *req)
{
    SCSIDiskState *s = SCSI_DISK(req);

    if (s->tray_open) {
        scsi_req_check_condition(req, SENSE_NO_MEDIUM_TRAY_OPEN);
        return false;
    }
    if (!blk_is_inserted(s->blk)) {
        scsi_req_check_condition(req, SENSE_NO_MEDIUM);
        return false;
    }
    return true;
}

static bool scsi_disk_check_range(SCSIRequest *req, uint64_t lba, uint64_t n)
{
    uint64_t total = scsi_disk_nb_blocks(SCSI_DISK(req));

    if (lba > total || n > total - lba) {
        scsi_req_check_condition(req, SENSE_LBA_OUT_OF_RANGE);
        return false;
    }
    return true;
}

static bool scsi_disk_check_writable(SCSIRequest *req)
{
    if (blk_is_read_only(SCSI_DISK(req)->blk)) {
        scsi_req_check_condition(req, SENSE_WRITE_PROTECTED);
        return false;
    }
    return true;
}

/* ---- block-layer commands ---------------------------------------------------- */

static void scsi_disk_io_finish(SCSIRequest *req)
{
    int ret = req->error;

    if (req->cancelled) {
        scsi_req_complete(req, SCSI_STATUS_TASK_ABORTED);
        return;
    }
    if (ret == 0) {
        scsi_req_complete(req, SCSI_STATUS_GOOD);
        return;
    }
    qemu_log_mask(LOG_GUEST_ERROR, "%s: command 0x%02x at LBA %" PRIu64 " failed: %s\n",
                  req->dev->qdev.klass->name, req->cdb[0], req->lba, g_strerror(-ret));
    scsi_req_check_condition(req, ret == -ENOMEDIUM ? SENSE_NO_MEDIUM
                                  : ret == -EPERM ? SENSE_WRITE_PROTECTED
                                  : ret == -EIO ? SENSE_IO_ERROR : SENSE_TARGET_FAILURE);
}

static void scsi_disk_io_cb(void *opaque, int ret)
{
    SCSIRequest *req = opaque;

    if (ret && !req->error) {
        req->error = ret;
    }
    if (--req->pending == 0) {
        scsi_disk_io_finish(req);
    }
}

/* The first `len` bytes of the HBA's buffers (they hold at least that). */
static void scsi_disk_map_data(SCSIRequest *req, size_t len)
{
    size_t left = len;

    req->dma_iov = g_new0(struct iovec, req->niov ? req->niov : 1);
    req->dma_niov = 0;
    for (unsigned i = 0; i < req->niov && left; i++) {
        size_t l = MIN(req->iov[i].iov_len, left);
        req->dma_iov[req->dma_niov].iov_base = req->iov[i].iov_base;
        req->dma_iov[req->dma_niov].iov_len = l;
        req->dma_niov++;
        left -= l;
    }
}

static void scsi_disk_rw(SCSIRequest *req, uint64_t lba, uint64_t nblocks, bool write)
{
    SCSIDiskState *s = SCSI_DISK(req);
    uint32_t bs = s->qdev.blocksize;
    size_t len = nblocks * bs;
    bool fua = req->cdb[0] != READ_6 && req->cdb[0] != WRITE_6 && (req->cdb[1] & 0x08);

    if (!scsi_disk_check_ready(req) || (write && !scsi_disk_check_writable(req)) ||
        !scsi_disk_check_range(req, lba, nblocks)) {
        return;
    }
    if (!nblocks) {
        scsi_req_complete(req, SCSI_STATUS_GOOD);
        return;
    }
    req->lba = lba;
    scsi_disk_map_data(req, len);
    req->transferred = len;
    req->pending = 1;
    if (write) {
        blk_aio_pwritev(s->blk, (int64_t)(lba * bs), req->dma_iov, req->dma_niov,
                        fua ? BDRV_REQ_FUA : 0, scsi_disk_io_cb, req);
    } else {
        blk_aio_preadv(s->blk, (int64_t)(lba * bs), req->dma_iov, req->dma_niov,
                       scsi_disk_io_cb, req);
    }
}

static void scsi_disk_sync_cache(SCSIRequest *req)
{
    if (!scsi_disk_check_ready(req)) {
        return;
    }
    req->pending = 1;
    blk_aio_flush(SCSI_DISK(req)->blk, scsi_disk_io_cb, req);
}

/* UNMAP (SBC-3 5.28): a parameter list of 16-byte block descriptors. */
static void scsi_disk_unmap(SCSIRequest *req)
{
    SCSIDiskState *s = SCSI_DISK(req);
    uint32_t bs = s->qdev.blocksize;
    g_autofree uint8_t *p = NULL;
    size_t len, ndesc;

    if (req->cdb[1] & 1) {                      /* ANCHOR */
        scsi_req_check_condition(req, SENSE_INVALID_FIELD);
        return;
    }
    if (!scsi_disk_check_writable(req)) {
        return;
    }
    if (req->xfer == 0) {
        scsi_req_complete(req, SCSI_STATUS_GOOD);   /* nothing to unmap */
        return;
    }
    p = g_malloc0(req->xfer);
    len = scsi_req_data_out(req, p, req->xfer);
    if (len < 8 || scsi_be16(p) + 2u > len || scsi_be16(p + 2) + 8u > len) {
        scsi_req_check_condition(req, SENSE_INVALID_PARAM_LEN);
        return;
    }
    ndesc = scsi_be16(p + 2) / 16;
    if (ndesc > SCSI_MAX_UNMAP_DESCRIPTORS) {
        scsi_req_check_condition(req, SENSE_INVALID_PARAM_LEN);
        return;
    }
    for (size_t i = 0; i < ndesc; i++) {
        const uint8_t *d = p + 8 + 16 * i;
        uint64_t lba = scsi_be64(d), n = scsi_be32(d + 8);

        if (n * bs > SCSI_MAX_UNMAP_BYTES) {
            scsi_req_check_condition(req, SENSE_INVALID_PARAM);
            return;
        }
        if (!scsi_disk_check_range(req, lba, n)) {
            return;
        }
    }
    req->pending = 1;                           /* until every discard is submitted */
    for (size_t i = 0; i < ndesc; i++) {
        const uint8_t *d = p + 8 + 16 * i;
        uint64_t lba = scsi_be64(d), n = scsi_be32(d + 8);

        if (n) {
            req->pending++;
            blk_aio_pdiscard(s->blk, (int64_t)(lba * bs), (int64_t)(n * bs), scsi_disk_io_cb,
                             req);
        }
    }
    req->transferred = 0;
    scsi_disk_io_cb(req, 0);
}

/* WRITE SAME with a pattern that is not zeros: 1 MiB writes one after the
 * other; req->lba/nblocks is what is left. */
static void scsi_disk_write_same_next(void *opaque, int ret)
{
    SCSIRequest *req = opaque;
    SCSIDiskState *s = SCSI_DISK(req);
    uint32_t bs = s->qdev.blocksize;
    uint32_t n = MIN(req->nblocks, SCSI_WRITE_SAME_CHUNK / bs);

    if (ret || req->cancelled || !req->nblocks) {
        req->error = ret;
        scsi_disk_io_finish(req);
        return;
    }
    req->dma_iov[0].iov_base = req->bounce;
    req->dma_iov[0].iov_len = (size_t)n * bs;
    blk_aio_pwritev(s->blk, (int64_t)(req->lba * bs), req->dma_iov, 1, 0,
                    scsi_disk_write_same_next, req);
    req->lba += n;
    req->nblocks -= n;
}

static void scsi_disk_write_same(SCSIRequest *req)
{
    SCSIDiskState *s = SCSI_DISK(req);
    uint32_t bs = s->qdev.blocksize;
    bool is16 = req->cdb[0] == WRITE_SAME_16;
    uint64_t lba = is16 ? scsi_be64(req->cdb + 2) : scsi_be32(req->cdb + 2);
    uint64_t n = is16 ? scsi_be32(req->cdb + 10) : scsi_be16(req->cdb + 7);
    bool unmap = req->cdb[1] & 0x08;
    g_autofree uint8_t *block = g_malloc0(bs);
    bool zero = true;

    if (req->cdb[1] & 0x06) {                   /* PBDATA, LBDATA */
        scsi_req_check_condition(req, SENSE_INVALID_FIELD);
        return;
    }
    if (!scsi_disk_check_writable(req)) {
        return;
    }
    if (n == 0) {                               /* WSNZ is set in VPD page b0 */
        scsi_req_check_condition(req, SENSE_INVALID_FIELD);
        return;
    }
    if (!scsi_disk_check_range(req, lba, n)) {
        return;
    }
    if (req->xfer) {
        scsi_req_data_out(req, block, bs);
        for (uint32_t i = 0; i < bs && zero; i++) {
            zero = !block[i];
        }
    }
    req->transferred = req->xfer;
    req->lba = lba;
    if (zero) {
        req->pending = 1;
        blk_aio_pwrite_zeroes(s->blk, (int64_t)(lba * bs), (int64_t)(n * bs),
                              unmap ? BDRV_REQ_MAY_UNMAP : 0, scsi_disk_io_cb, req);
        return;
    }
    req->nblocks = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
    req->bounce = g_malloc(MIN((size_t)n * bs, (size_t)SCSI_WRITE_SAME_CHUNK));
    for (size_t off = 0; off < MIN((size_t)n * bs, (size_t)SCSI_WRITE_SAME_CHUNK); off += bs) {
        memcpy(req->bounce + off, block, bs);
    }
    req->dma_iov = g_new0(struct iovec, 1);
    scsi_disk_write_same_next(req, 0);
}

/* ---- INQUIRY -------------------------------------------------------------------- */

static const char *scsi_disk_device_id(SCSIDiskState *s)
{
    if (s->serial) {
        return s->serial;
    }
    if (s->blk && blk_name(s->blk) && *blk_name(s->blk)) {
        return blk_name(s->blk);
    }
    return s->qdev.qdev.id ? s->qdev.qdev.id : "";
}

static void scsi_disk_inquiry_vpd(SCSIRequest *req)
{
    SCSIDiskState *s = SCSI_DISK(req);
    uint8_t buf[256] = { 0 };
    size_t len = 4;
    bool disk = !scsi_is_cd(s);

    buf[0] = s->qdev.type;
    buf[1] = req->cdb[2];
    switch (req->cdb[2]) {
    case 0x00:                                  /* supported pages */
        buf[len++] = 0x00;
        if (s->serial) {
            buf[len++] = 0x80;
        }
        buf[len++] = 0x83;
        if (disk) {
            buf[len++] = 0xb0;
            buf[len++] = 0xb1;
            buf[len++] = 0xb2;
        }
        break;
    case 0x80: {                                /* unit serial number */
        size_t l = s->serial ? MIN(strlen(s->serial), (size_t)SCSI_SERIAL_MAX) : 0;

        if (!s->serial) {
            goto bad;
        }
        memcpy(buf + len, s->serial, l);
        len += l;
        break;
    }
    case 0x83: {                                /* device identification */
        const char *id = scsi_disk_device_id(s);
        size_t l = MIN(strlen(id), (size_t)(255 - 16 - 4 - 4));

        buf[len++] = 0x02;                      /* code set: ASCII */
        buf[len++] = 0x00;                      /* LU, vendor specific */
        buf[len++] = 0;
        buf[len++] = l;
        memcpy(buf + len, id, l);
        len += l;
        if (s->wwn) {
            buf[len++] = 0x01;                  /* binary */
            buf[len++] = 0x03;                  /* LU, NAA */
            buf[len++] = 0;
            buf[len++] = 8;
            scsi_put64(buf + len, s->wwn);
            len += 8;
        }
        break;
    }
    case 0xb0:                                  /* block limits */
        if (!disk) {
            goto bad;
        }
        len = 0x40;
        buf[4] = 0x01;                          /* WSNZ */
        scsi_put16(buf + 6, 1);                 /* optimal transfer length granularity */
        scsi_put32(buf + 20, SCSI_MAX_UNMAP_BYTES / s->qdev.blocksize);
        scsi_put32(buf + 24, SCSI_MAX_UNMAP_DESCRIPTORS);
        scsi_put32(buf + 28, 1);                /* unmap granularity */
        break;
    case 0xb1:                                  /* block device characteristics */
        if (!disk) {
            goto bad;
        }
        len = 0x40;
        break;
    case 0xb2:                                  /* logical block provisioning */
        if (!disk) {
            goto bad;
        }
        len = 8;
        buf[5] = 0xe0;                          /* LBPU, LBPWS, LBPWS10 */
        buf[6] = 2;                             /* thin provisioned */
        break;
    default:
        goto bad;
    }
    scsi_put16(buf + 2, len - 4);
    scsi_req_data_in(req, buf, len);
    scsi_req_complete(req, SCSI_STATUS_GOOD);
    return;
bad:
    scsi_req_check_condition(req, SENSE_INVALID_FIELD);
}

static void scsi_disk_inquiry(SCSIRequest *req)
{
    SCSIDiskState *s = SCSI_DISK(req);
    uint8_t buf[36] = { 0 };

    if (req->cdb[1] & 1) {
        scsi_disk_inquiry_vpd(req);
        return;
    }
    if (req->cdb[2]) {
        scsi_req_check_condition(req, SENSE_INVALID_FIELD);
        return;
    }
    buf[0] = s->qdev.type;
    buf[1] = s->removable || scsi_is_cd(s) ? 0x80 : 0;
    buf[2] = 5;                                 /* SPC-3 */
    buf[3] = 2 | 0x10;                          /* response data format 2, HiSup */
    buf[4] = sizeof(buf) - 5;
    buf[7] = 0x10 | 0x02;                       /* Sync, CmdQue */
    memcpy(buf + 8, "QEMU    ", 8);
    memcpy(buf + 16, scsi_is_cd(s) ? "QEMU CD-ROM     " : "QEMU HARDDISK   ", 16);
    memcpy(buf + 32, "2.5+", 4);
    scsi_req_data_in(req, buf, sizeof(buf));
    scsi_req_complete(req, SCSI_STATUS_GOOD);
}

/* ---- capacity ----------------------------------------------------------------- */

static void scsi_disk_read_capacity(SCSIRequest *req, bool is16)
{
    SCSIDiskState *s = SCSI_DISK(req);
    uint8_t buf[32] = { 0 };
    uint64_t n;

    if (is16 && (req->cdb[1] & 0x1f) != SAI_READ_CAPACITY_16) {
        scsi_req_check_condition(req, SENSE_INVALID_FIELD);
        return;
    }
    if (!scsi_disk_check_ready(req)) {
        return;
    }
    n = scsi_disk_nb_blocks(s);
    if (is16) {
        scsi_put64(buf, n ? n - 1 : 0);
        scsi_put32(buf + 8, s->qdev.blocksize);
        buf[14] = scsi_is_cd(s) ? 0 : 0x80;     /* LBPME */
        scsi_req_data_in(req, buf, 32);
    } else {
        scsi_put32(buf, n - 1 > UINT32_MAX || !n ? (n ? UINT32_MAX : 0) : (uint32_t)(n - 1));
        scsi_put32(buf + 4, s->qdev.blocksize);
        scsi_req_data_in(req, buf, 8);
    }
    scsi_req_complete(req, SCSI_STATUS_GOOD);
}

/* ---- mode pages ----------------------------------------------------------------- */

/* Page `page` for page control pc into p: its length, 0 if we have no
 * such page for this kind of unit. */
static unsigned scsi_disk_mode_page(SCSIDiskState *s, uint8_t page, int pc, uint8_t *p)
{
    bool cd = scsi_is_cd(s);
    bool cur = pc != MODE_PC_CHANGEABLE;
    unsigned len;

    switch (page) {
    case MODE_PAGE_R_W_ERROR:
        len = 0x0a;
        if (cur) {
            p[2] = 0x80;                        /* AWRE */
            p[3] = cd ? 0x20 : 0;               /* read retry count */
        }
        break;
    case MODE_PAGE_CACHING:
        len = 0x12;
        if (pc == MODE_PC_CHANGEABLE || pc == MODE_PC_DEFAULT ||
            blk_enable_write_cache(s->blk)) {
            p[2] = MODE_CACHING_WCE;
        }
        break;
    case MODE_PAGE_CONTROL:
        len = 0x0a;
        break;
    case MODE_PAGE_CAPABILITIES:
        if (!cd) {
            return 0;
        }
        len = 0x14;
        if (cur) {
            p[2] = 0x3b;                        /* reads CD-R, CD-RW, DVD-ROM, DVD-R, DVD-RAM */
            p[4] = 0x7f;                        /* audio play, composite, ports, multisession */
            p[5] = 0xff;                        /* CD-DA, accurate, R-W, C2, ISRC, UPC, barcode */
            p[6] = 0x2d | (s->tray_locked ? 0x02 : 0);  /* lock, eject, tray loader */
            scsi_put16(p + 8, 50 * 176);        /* maximum read speed (kB/s) */
            scsi_put16(p + 10, 2);              /* volume levels */
            scsi_put16(p + 12, 2048);           /* buffer size (kB) */
            scsi_put16(p + 14, 16 * 176);       /* current read speed */
            scsi_put16(p + 18, 16 * 176);       /* maximum write speed */
            scsi_put16(p + 20, 16 * 176);       /* current write speed */
        }
        break;
    default:
        return 0;
    }
    p[0] = page;
    p[1] = len;
    return len + 2;
}

static const uint8_t scsi_mode_pages[] = {
    MODE_PAGE_R_W_ERROR, MODE_PAGE_CACHING, MODE_PAGE_CONTROL, MODE_PAGE_CAPABILITIES,
};

static void scsi_disk_mode_sense(SCSIRequest *req)
{
    SCSIDiskState *s = SCSI_DISK(req);
    bool ten = req->cdb[0] == MODE_SENSE_10;
    bool dbd = (req->cdb[1] & 0x08) || scsi_is_cd(s);  /* MMC: no block descriptors */
    int pc = req->cdb[2] >> 6;
    uint8_t page = req->cdb[2] & 0x3f;
    uint8_t buf[512] = { 0 };
    unsigned hdr = ten ? 8 : 4, len = hdr, n;
    uint8_t dsp = 0;

    if (pc == MODE_PC_SAVED) {
        scsi_req_check_condition(req, SENSE_SAVING_PARAMS_NOT_SUPPORTED);
        return;
    }
    if (req->cdb[3]) {                          /* subpages: none */
        scsi_req_check_condition(req, SENSE_INVALID_FIELD);
        return;
    }
    if (!scsi_is_cd(s)) {
        dsp = 0x10;                             /* DPOFUA */
        if (blk_is_read_only(s->blk)) {
            dsp |= 0x80;                        /* WP */
        }
    }
    if (!dbd) {
        uint64_t nb = scsi_disk_nb_blocks(s);
        uint8_t *d = buf + len;

        d[1] = nb > 0xffffff ? 0xff : nb >> 16;
        d[2] = nb > 0xffffff ? 0xff : nb >> 8;
        d[3] = nb > 0xffffff ? 0xff : nb;
        d[5] = s->qdev.blocksize >> 16;
        d[6] = s->qdev.blocksize >> 8;
        d[7] = s->qdev.blocksize;
        len += 8;
    }
    if (page == MODE_PAGE_ALL) {
        for (size_t i = 0; i < sizeof(scsi_mode_pages); i++) {
            len += scsi_disk_mode_page(s, scsi_mode_pages[i], pc, buf + len);
        }
    } else {
        n = scsi_disk_mode_page(s, page, pc, buf + len);
        if (!n) {
            scsi_req_check_condition(req, SENSE_INVALID_FIELD);
            return;
        }
        len += n;
    }
    if (ten) {
        scsi_put16(buf, len - 2);
        buf[3] = dsp;
        scsi_put16(buf + 6, dbd ? 0 : 8);
    } else {
        buf[0] = len - 1;
        buf[2] = dsp;
        buf[3] = dbd ? 0 : 8;
    }
    scsi_req_data_in(req, buf, len);
    scsi_req_complete(req, SCSI_STATUS_GOOD);
}

/* MODE SELECT: the caching page's WCE is what can change; other pages we
 * have are accepted as they are, pages we do not have are refused. */
static void scsi_disk_mode_select(SCSIRequest *req)
{
    SCSIDiskState *s = SCSI_DISK(req);
    bool ten = req->cdb[0] == MODE_SELECT_10;
    unsigned hdr = ten ? 8 : 4;
    g_autofree uint8_t *p = NULL;
    size_t len, off;
    int wce = -1;

    if ((req->cdb[1] & 0x11) != 0x10) {         /* PF = 1, SP = 0 */
        scsi_req_check_condition(req, SENSE_INVALID_FIELD);
        return;
    }
    if (req->xfer == 0) {
        scsi_req_complete(req, SCSI_STATUS_GOOD);
        return;
    }
    p = g_malloc0(req->xfer);
    len = scsi_req_data_out(req, p, req->xfer);
    if (len < hdr) {
        scsi_req_check_condition(req, SENSE_INVALID_PARAM_LEN);
        return;
    }
    off = hdr + (ten ? scsi_be16(p + 6) : p[3]);
    while (off < len) {
        uint8_t page = p[off] & 0x3f, tmp[64] = { 0 };
        size_t plen;

        if (p[off] & 0x40 || off + 2 > len || off + 2 + p[off + 1] > len) {
            scsi_req_check_condition(req, SENSE_INVALID_PARAM_LEN);
            return;
        }
        plen = p[off + 1];
        if (!scsi_disk_mode_page(s, page, MODE_PC_CURRENT, tmp)) {
            scsi_req_check_condition(req, SENSE_INVALID_PARAM);
            return;
        }
        if (page == MODE_PAGE_CACHING && plen >= 1) {
            wce = !!(p[off + 2] & MODE_CACHING_WCE);
        }
        off += 2 + plen;
    }
    if (off > len) {
        scsi_req_check_condition(req, SENSE_INVALID_PARAM_LEN);
        return;
    }
    if (wce >= 0) {
        blk_set_enable_write_cache(s->blk, wce);
    }
    scsi_req_complete(req, SCSI_STATUS_GOOD);
}

/* ---- removable media -------------------------------------------------------------- */

static void scsi_disk_start_stop(SCSIRequest *req)
{
    SCSIDiskState *s = SCSI_DISK(req);
    bool start = req->cdb[4] & 1, loej = req->cdb[4] & 2;

    if (scsi_is_cd(s) && loej && (req->cdb[4] >> 4) == 0) {
        if (!start && !s->tray_open && s->tray_locked) {
            scsi_req_check_condition(req, SENSE_REMOVAL_PREVENTED);
            return;
        }
        s->tray_open = !start;
    }
    scsi_req_complete(req, SCSI_STATUS_GOOD);
}

static void scsi_disk_prevent_allow(SCSIRequest *req)
{
    SCSIDiskState *s = SCSI_DISK(req);

    if (scsi_is_cd(s)) {
        s->tray_locked = req->cdb[4] & 1;
    }
    scsi_req_complete(req, SCSI_STATUS_GOOD);
}

/* ---- MMC ------------------------------------------------------------------------ */

static void scsi_cd_lba_addr(uint8_t *p, uint64_t lba, bool msf)
{
    if (msf) {
        uint64_t f = lba + 2 * CD_FRAMES_PER_SECOND;

        p[0] = 0;
        p[1] = f / (CD_FRAMES_PER_SECOND * 60);
        p[2] = (f / CD_FRAMES_PER_SECOND) % 60;
        p[3] = f % CD_FRAMES_PER_SECOND;
    } else {
        scsi_put32(p, (uint32_t)lba);
    }
}

/* READ TOC/PMA/ATIP: one data track from LBA 0 and the lead-out. */
static void scsi_cd_read_toc(SCSIRequest *req)
{
    SCSIDiskState *s = SCSI_DISK(req);
    bool msf = req->cdb[1] & 2;
    uint8_t format = req->cdb[2] & 0xf, start = req->cdb[6];
    uint8_t buf[32] = { 0 };
    size_t len = 4;

    if (!scsi_disk_check_ready(req)) {
        return;
    }
    switch (format) {
    case 0:                                     /* formatted TOC */
        if (start > 1 && start != 0xaa) {
            scsi_req_check_condition(req, SENSE_INVALID_FIELD);
            return;
        }
        buf[2] = 1;                             /* first track */
        buf[3] = 1;                             /* last track */
        if (start <= 1) {
            buf[len + 1] = 0x14;                /* ADR 1, data track */
            buf[len + 2] = 1;
            scsi_cd_lba_addr(buf + len + 4, 0, msf);
            len += 8;
        }
        buf[len + 1] = 0x16;
        buf[len + 2] = 0xaa;                    /* lead-out */
        scsi_cd_lba_addr(buf + len + 4, scsi_disk_nb_blocks(s), msf);
        len += 8;
        break;
    case 1:                                     /* multi-session information */
        buf[2] = 1;
        buf[3] = 1;
        buf[len + 1] = 0x14;
        buf[len + 2] = 1;
        scsi_cd_lba_addr(buf + len + 4, 0, msf);
        len += 8;
        break;
    default:
        scsi_req_check_condition(req, SENSE_INVALID_FIELD);
        return;
    }
    scsi_put16(buf, len - 2);
    scsi_req_data_in(req, buf, len);
    scsi_req_complete(req, SCSI_STATUS_GOOD);
}

static uint16_t scsi_cd_profile(SCSIDiskState *s)
{
    uint64_t n;

    if (s->tray_open || !blk_is_inserted(s->blk)) {
        return MMC_PROFILE_NONE;
    }
    n = scsi_disk_nb_blocks(s);
    return n > CD_MAX_BLOCKS ? MMC_PROFILE_DVD_ROM : MMC_PROFILE_CD_ROM;
}

/* GET CONFIGURATION: the profile list, core and removable-medium features. */
static void scsi_cd_get_configuration(SCSIRequest *req)
{
    SCSIDiskState *s = SCSI_DISK(req);
    uint8_t rt = req->cdb[1] & 3;
    uint16_t first = scsi_be16(req->cdb + 2), cur = scsi_cd_profile(s);
    uint8_t buf[64] = { 0 };
    size_t len = 8;

    if (rt == 3) {
        scsi_req_check_condition(req, SENSE_INVALID_FIELD);
        return;
    }
    scsi_put16(buf + 6, cur);
    if ((rt == 2 && first == MMC_FEATURE_PROFILE_LIST) || (rt != 2 && first == 0)) {
        uint8_t *f = buf + len;

        scsi_put16(f, MMC_FEATURE_PROFILE_LIST);
        f[2] = 0x03;                            /* persistent, current */
        f[3] = 8;
        scsi_put16(f + 4, MMC_PROFILE_DVD_ROM);
        f[6] = cur == MMC_PROFILE_DVD_ROM;
        scsi_put16(f + 8, MMC_PROFILE_CD_ROM);
        f[10] = cur == MMC_PROFILE_CD_ROM;
        len += 12;
    }
    if ((rt == 2 && first == MMC_FEATURE_CORE) || (rt != 2 && first <= MMC_FEATURE_CORE)) {
        uint8_t *f = buf + len;

        scsi_put16(f, MMC_FEATURE_CORE);
        f[2] = 0x0b;                            /* version 2, persistent, current */
        f[3] = 8;
        scsi_put32(f + 4, 1);                   /* physical interface: SCSI family */
        f[8] = 1;                               /* DBEvent */
        len += 12;
    }
    if ((rt == 2 && first == MMC_FEATURE_REMOVABLE_MEDIUM) ||
        (rt != 2 && first <= MMC_FEATURE_REMOVABLE_MEDIUM)) {
        uint8_t *f = buf + len;

        scsi_put16(f, MMC_FEATURE_REMOVABLE_MEDIUM);
        f[2] = 0x03;
        f[3] = 4;
        f[4] = 0x29;                            /* tray loader, eject, lock */
        len += 8;
    }
    scsi_put32(buf, len - 4);
    scsi_req_data_in(req, buf, len);
    scsi_req_complete(req, SCSI_STATUS_GOOD);
}

static void scsi_cd_event_status(SCSIRequest *req)
{
    SCSIDiskState *s = SCSI_DISK(req);
    uint8_t buf[8] = { 0 };
    size_t len = 4;

    if (!(req->cdb[1] & 1)) {                   /* asynchronous: not supported */
        scsi_req_check_condition(req, SENSE_INVALID_FIELD);
        return;
    }
    buf[3] = 1 << GESN_MEDIA_CLASS;             /* supported classes */
    if (req->cdb[4] & (1 << GESN_MEDIA_CLASS)) {
        buf[2] = GESN_MEDIA_CLASS;
        if (s->media_event) {
            buf[4] = GESN_MEC_NEW_MEDIA;
            s->media_event = false;
        } else if (s->eject_request) {
            buf[4] = GESN_MEC_EJECT_REQUEST;
            s->eject_request = false;
        }
        buf[5] = s->tray_open ? GESN_MS_TRAY_OPEN
                 : blk_is_inserted(s->blk) ? GESN_MS_MEDIA_PRESENT : 0;
        len = 8;
    } else {
        buf[2] = 0x80;                          /* NEA: no event available */
    }
    scsi_put16(buf, len - 4);
    scsi_req_data_in(req, buf, len);
    scsi_req_complete(req, SCSI_STATUS_GOOD);
}

static void scsi_cd_read_disc_info(SCSIRequest *req)
{
    uint8_t buf[34] = { 0 };

    if (req->cdb[1] & 7) {                      /* only standard disc information */
        scsi_req_check_condition(req, SENSE_INVALID_FIELD);
        return;
    }
    if (!scsi_disk_check_ready(req)) {
        return;
    }
    scsi_put16(buf, sizeof(buf) - 2);
    buf[2] = 0x0e;                              /* last session complete, disc complete */
    buf[3] = 1;                                 /* first track on disc */
    buf[4] = 1;                                 /* sessions */
    buf[5] = 1;                                 /* first track in last session */
    buf[6] = 1;                                 /* last track in last session */
    buf[7] = 0x20;                              /* unrestricted use */
    scsi_req_data_in(req, buf, sizeof(buf));
    scsi_req_complete(req, SCSI_STATUS_GOOD);
}

/* ---- dispatch -------------------------------------------------------------------- */

static void scsi_disk_execute(SCSIRequest *req)
{
    SCSIDiskState *s = SCSI_DISK(req);
    const uint8_t *c = req->cdb;
    bool cd = scsi_is_cd(s);

    switch (c[0]) {
    case TEST_UNIT_READY:
        if (scsi_disk_check_ready(req)) {
            scsi_req_complete(req, SCSI_STATUS_GOOD);
        }
        return;
    case INQUIRY:
        scsi_disk_inquiry(req);
        return;
    case READ_CAPACITY_10:
        scsi_disk_read_capacity(req, false);
        return;
    case SERVICE_ACTION_IN_16:
        scsi_disk_read_capacity(req, true);
        return;
    case READ_6: case WRITE_6:
        scsi_disk_rw(req, ((uint32_t)(c[1] & 0x1f) << 16) | scsi_be16(c + 2),
                     c[4] ? c[4] : 256, c[0] == WRITE_6);
        return;
    case READ_10: case WRITE_10: case WRITE_VERIFY_10:
        scsi_disk_rw(req, scsi_be32(c + 2), scsi_be16(c + 7), c[0] != READ_10);
        return;
    case READ_12: case WRITE_12: case WRITE_VERIFY_12:
        scsi_disk_rw(req, scsi_be32(c + 2), scsi_be32(c + 6), c[0] != READ_12);
        return;
    case READ_16: case WRITE_16: case WRITE_VERIFY_16:
        scsi_disk_rw(req, scsi_be64(c + 2), scsi_be32(c + 10), c[0] != READ_16);
        return;
    case VERIFY_10: case VERIFY_12: case VERIFY_16: {
        uint64_t lba = c[0] == VERIFY_16 ? scsi_be64(c + 2) : scsi_be32(c + 2);
        uint64_t n = c[0] == VERIFY_10 ? scsi_be16(c + 7)
                     : c[0] == VERIFY_12 ? scsi_be32(c + 6) : scsi_be32(c + 10);

        if (c[1] & 6) {                         /* BYTCHK: compare, as QEMU refuses */
            scsi_req_check_condition(req, SENSE_INVALID_FIELD);
        } else if (scsi_disk_check_ready(req) && scsi_disk_check_range(req, lba, n)) {
            scsi_req_complete(req, SCSI_STATUS_GOOD);
        }
        return;
    }
    case SEEK_10:
        if (scsi_disk_check_ready(req) && scsi_disk_check_range(req, scsi_be32(c + 2), 0)) {
            scsi_req_complete(req, SCSI_STATUS_GOOD);
        }
        return;
    case SYNCHRONIZE_CACHE_10: case SYNCHRONIZE_CACHE_16:
        scsi_disk_sync_cache(req);
        return;
    case MODE_SENSE_6: case MODE_SENSE_10:
        scsi_disk_mode_sense(req);
        return;
    case MODE_SELECT_6: case MODE_SELECT_10:
        scsi_disk_mode_select(req);
        return;
    case START_STOP_UNIT:
        scsi_disk_start_stop(req);
        return;
    case PREVENT_ALLOW_MEDIUM_REMOVAL:
        scsi_disk_prevent_allow(req);
        return;
    }
    if (!cd) {
        switch (c[0]) {
        case UNMAP:
            scsi_disk_unmap(req);
            return;
        case WRITE_SAME_10: case WRITE_SAME_16:
            scsi_disk_write_same(req);
            return;
        }
    } else {
        switch (c[0]) {
        case READ_TOC:
            scsi_cd_read_toc(req);
            return;
        case GET_CONFIGURATION:
            scsi_cd_get_configuration(req);
            return;
        case GET_EVENT_STATUS_NOTIFICATION:
            scsi_cd_event_status(req);
            return;
        case READ_DISC_INFORMATION:
            scsi_cd_read_disc_info(req);
            return;
        }
    }
    qemu_log_mask(LOG_UNIMP, "%s: unsupported command 0x%02x\n", s->qdev.qdev.klass->name, c[0]);
    scsi_req_check_condition(req, SENSE_INVALID_OPCODE);
}

static const SCSIDeviceOps scsi_disk_ops = {
    .execute = scsi_disk_execute,
};

/* ---- the medium (scsi-cd) ------------------------------------------------------------ */

static void scsi_cd_change_media(void *opaque, bool load)
{
    SCSIDiskState *s = opaque;

    s->tray_open = !load;
    if (!load) {
        s->tray_locked = false;
    }
    s->media_event = load;
    s->eject_request = false;
    s->qdev.unit_attention = load ? SENSE_UA_MEDIUM_CHANGED : SENSE_UA_NO_MEDIUM;
}

static void scsi_cd_eject_request(void *opaque, bool force)
{
    SCSIDiskState *s = opaque;

    s->eject_request = true;
    if (force) {
        s->tray_locked = false;
    }
}

static bool scsi_cd_is_tray_open(void *opaque)
{
    return ((SCSIDiskState *)opaque)->tray_open;
}

static bool scsi_cd_is_medium_locked(void *opaque)
{
    return ((SCSIDiskState *)opaque)->tray_locked;
}

static const BlockDevOps scsi_cd_block_ops = {
    .change_media_cb = scsi_cd_change_media,
    .eject_request_cb = scsi_cd_eject_request,
    .is_tray_open = scsi_cd_is_tray_open,
    .is_medium_locked = scsi_cd_is_medium_locked,
};

/* ---- device ----------------------------------------------------------------------- */

static void scsi_disk_realize_kind(DeviceState *dev, uint8_t type, Error **errp)
{
    SCSIDiskState *s = (SCSIDiskState *)dev;
    const char *name = dev->klass->name;
    const char *id = dev->id ? dev->id : dev->canonical_path;
    uint32_t bs = s->qdev.blocksize;

    s->qdev.type = type;
    if (type == SCSI_TYPE_ROM) {
        bs = s->qdev.blocksize = 2048;
    } else if (bs < 512 || bs > 32768 || (bs & (bs - 1))) {
        error_setg(errp, "%s: Property 'logical_block_size': %u is not a power of two "
                   "in 512-32768", name, bs);
        return;
    }
    if (s->serial && strlen(s->serial) > SCSI_SERIAL_MAX) {
        warn_report("%s: serial '%s' is truncated to %u bytes", name, s->serial,
                    SCSI_SERIAL_MAX);
    }
    if (s->drive) {
        s->blk = blockdev_backend_for(s->drive, errp);
        if (!s->blk) {
            return;
        }
    } else if (type == SCSI_TYPE_ROM) {
        s->blk = blk_new(NULL);
    } else {
        error_setg(errp, "%s: drive property not set", name);
        return;
    }
    if (type == SCSI_TYPE_DISK && !blk_is_inserted(s->blk)) {
        error_setg(errp, "%s: Device needs media, but drive '%s' is empty", name, s->drive);
        s->blk = NULL;
        return;
    }
    if (!scsi_device_realize_common(&s->qdev, errp)) {
        s->blk = NULL;
        return;
    }
    if (!blk_attach_dev(s->blk, s, id, errp)) {
        s->blk = NULL;
        return;
    }
    if (type == SCSI_TYPE_ROM) {
        blk_set_read_only(s->blk, true);
        blk_set_removable(s->blk, true);
        blk_set_dev_ops(s->blk, &scsi_cd_block_ops, s);
    }
    s->qdev.ops = &scsi_disk_ops;
}

static void scsi_hd_realize(DeviceState *dev, Error **errp)
{
    scsi_disk_realize_kind(dev, SCSI_TYPE_DISK, errp);
}

static void scsi_cd_realize(DeviceState *dev, Error **errp)
{
    scsi_disk_realize_kind(dev, SCSI_TYPE_ROM, errp);
}

static void scsi_disk_unrealize(DeviceState *dev)
{
    SCSIDiskState *s = (SCSIDiskState *)dev;

    if (s->blk) {
        blk_drain(s->blk);
        blk_detach_dev(s->blk, s);
        s->blk = NULL;
    }
}

static void scsi_disk_reset(DeviceState *dev)
{
    SCSIDiskState *s = (SCSIDiskState *)dev;

    scsi_device_reset(&s->qdev);
    s->tray_locked = false;
    s->tray_open = false;
}

/* The HBA names the unit (QEMU: /pci@i0cf8/scsi@SLOT/channel@C/disk@ID,LUN). */
static void scsi_disk_describe(DeviceState *dev, PlatformDesc *pd)
{
    SCSIDiskState *s = (SCSIDiskState *)dev;
    g_autofree char *path = NULL;

    if (s->qdev.bootindex < 0 || !s->qdev.bus || !s->qdev.bus->ops->fw_path) {
        return;
    }
    path = s->qdev.bus->ops->fw_path(s->qdev.bus, &s->qdev);
    if (path) {
        platform_add_boot_entry(pd, s->qdev.bootindex, path);
    }
}

static const VMStateField scsi_disk_fields[] = {
    VMSTATE_UINT8(qdev.unit_attention.key, SCSIDiskState),
    VMSTATE_UINT8(qdev.unit_attention.asc, SCSIDiskState),
    VMSTATE_UINT8(qdev.unit_attention.ascq, SCSIDiskState),
    VMSTATE_BOOL(tray_open, SCSIDiskState),
    VMSTATE_BOOL(tray_locked, SCSIDiskState),
    VMSTATE_BOOL(media_event, SCSIDiskState),
    VMSTATE_BOOL(eject_request, SCSIDiskState),
    VMSTATE_END_OF_LIST()
};

static int scsi_disk_pre_save(void *opaque)
{
    SCSIDiskState *s = opaque;

    if (s->blk) {
        blk_drain(s->blk);      /* no request carries over */
    }
    return 0;
}

static const VMStateDescription vmstate_scsi_disk = {
    .name = "scsi-disk",
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_save = scsi_disk_pre_save,
    .fields = scsi_disk_fields,
};

#define DEFINE_SCSI_DISK_PROPERTIES(bs_default)                                     \
    DEFINE_PROP_STRING("drive", SCSIDiskState, drive),                              \
    DEFINE_PROP_UINT32("channel", SCSIDiskState, qdev.channel, 0),                  \
    DEFINE_PROP_UINT32("scsi-id", SCSIDiskState, qdev.id, UINT32_MAX),              \
    DEFINE_PROP_UINT32("lun", SCSIDiskState, qdev.lun, UINT32_MAX),                 \
    DEFINE_PROP_INT32("bootindex", SCSIDiskState, qdev.bootindex, -1),              \
    DEFINE_PROP_STRING("serial", SCSIDiskState, serial),                            \
    DEFINE_PROP_UINT64("wwn", SCSIDiskState, wwn, 0),                               \
    DEFINE_PROP_UINT32("logical_block_size", SCSIDiskState, qdev.blocksize, bs_default)

static const Property scsi_hd_props[] = {
    DEFINE_SCSI_DISK_PROPERTIES(512),
    DEFINE_PROP_BOOL("removable", SCSIDiskState, removable, false),
    DEFINE_PROP_END_OF_LIST(),
};

static const Property scsi_cd_props[] = {
    DEFINE_SCSI_DISK_PROPERTIES(2048),
    DEFINE_PROP_END_OF_LIST(),
};

static const DeviceClass scsi_hd_class = {
    .name = "scsi-hd",
    .desc = "virtual SCSI disk",
    .bus_type = "SCSI",
    .category = DEVICE_CATEGORY_STORAGE,
    .user_creatable = true,
    .instance_size = sizeof(SCSIDiskState),
    .props = scsi_hd_props,
    .vmsd = &vmstate_scsi_disk,
    .realize = scsi_hd_realize,
    .unrealize = scsi_disk_unrealize,
    .reset = scsi_disk_reset,
    .describe = scsi_disk_describe,
};

static const DeviceClass scsi_cd_class = {
    .name = "scsi-cd",
    .desc = "virtual SCSI CD-ROM",
    .bus_type = "SCSI",
    .category = DEVICE_CATEGORY_STORAGE,
    .user_creatable = true,
    .instance_size = sizeof(SCSIDiskState),
    .props = scsi_cd_props,
    .vmsd = &vmstate_scsi_disk,
    .realize = scsi_cd_realize,
    .unrealize = scsi_disk_unrealize,
    .reset = scsi_disk_reset,
    .describe = scsi_disk_describe,
};

DEVICE_CLASS_REGISTER(scsi_hd_class)
DEVICE_CLASS_REGISTER(scsi_cd_class)

/*
 * virtio-scsi (virtio 1.2, 5.6) on PCI: "-device virtio-scsi-pci[,id=ID]
 * [,num_queues=N][,virtqueue_size=N][,max_sectors=N][,cmd_per_lun=N]" with
 * a SCSI bus "ID.0" (or "scsi.N" without id) for scsi-hd / scsi-cd, and
 * "-drive if=scsi" (one controller per bus number, docs/scsi.md).
 *
 * Queues: 0 control, 1 event, 2.. requests.
 * Configuration space (little-endian):
 *   0x00 u32 num_queues       0x04 u32 seg_max        0x08 u32 max_sectors
 *   0x0c u32 cmd_per_lun      0x10 u32 event_info_size 0x14 u32 sense_size (rw)
 *   0x18 u32 cdb_size (rw)    0x1c u16 max_channel    0x1e u16 max_target
 *   0x20 u32 max_lun
 * Request:  out { u8 lun[8]; u64 id; u8 task_attr, prio, crn; u8 cdb[cdb_size]; } [data-out]
 * Response: in  { u32 sense_len; u32 resid; u16 status_qualifier; u8 status;
 *                 u8 response; u8 sense[sense_size]; } [data-in]
 * lun[]: 1, target, then the LUN in single-level format (flat space
 * 0x40xx above 255) -- QEMU's addressing.  Control queue: TMF { u32 type 0;
 * u32 subtype; u8 lun[8]; u64 id; } -> { u8 response; }, AN_QUERY 1 /
 * AN_SUBSCRIBE 2 { u32 type; u8 lun[8]; u32 event_requested; } ->
 * { u32 event_actual; u8 response; }.
 *
 * Features: none of HOTPLUG, CHANGE, T10_PI (no events are ever sent; the
 * event queue only holds the driver's buffers).  Commands complete in the
 * main loop (block I/O) or at once (emulated).  A driver reset cancels what
 * is in flight: it completes without touching the rings (a generation
 * number, as virtio-blk), and every unit gets UNIT ATTENTION 29/00.
 */
#include <inttypes.h>
#include <string.h>
#include <glib.h>
#include <endian.h>
#include "hw/virtio/virtio-pci.h"
#include "hw/scsi/scsi.h"
#include "hw/scsi/virtio-scsi.h"
#include "block/blockdev.h"
#include "qemu/log.h"

#define VIRTIO_ID_SCSI                  8

#define VIRTIO_SCSI_F_INOUT             0
#define VIRTIO_SCSI_F_HOTPLUG           1
#define VIRTIO_SCSI_F_CHANGE            2
#define VIRTIO_SCSI_F_T10_PI            3

#define VSCSI_CFG_NUM_QUEUES            0x00
#define VSCSI_CFG_SEG_MAX               0x04
#define VSCSI_CFG_MAX_SECTORS           0x08
#define VSCSI_CFG_CMD_PER_LUN           0x0c
#define VSCSI_CFG_EVENT_INFO_SIZE       0x10
#define VSCSI_CFG_SENSE_SIZE            0x14
#define VSCSI_CFG_CDB_SIZE              0x18
#define VSCSI_CFG_MAX_CHANNEL           0x1c
#define VSCSI_CFG_MAX_TARGET            0x1e
#define VSCSI_CFG_MAX_LUN               0x20
#define VSCSI_CFG_SIZE                  0x24

#define VIRTIO_SCSI_CDB_DEFAULT_SIZE    32
#define VIRTIO_SCSI_SENSE_DEFAULT_SIZE  96
#define VIRTIO_SCSI_EVENT_SIZE          16
#define VIRTIO_SCSI_MAX_CHANNEL         0
#define VIRTIO_SCSI_MAX_TARGET          255
#define VIRTIO_SCSI_MAX_LUN             16383
#define VIRTIO_SCSI_CTRL_QUEUE_SIZE     128

#define VIRTIO_SCSI_REQ_HDR             19      /* before the CDB */
#define VIRTIO_SCSI_RESP_HDR            12      /* before the sense */

/* Control requests */
#define VIRTIO_SCSI_T_TMF               0
#define VIRTIO_SCSI_T_AN_QUERY          1
#define VIRTIO_SCSI_T_AN_SUBSCRIBE      2
#define VIRTIO_SCSI_T_TMF_ABORT_TASK            0
#define VIRTIO_SCSI_T_TMF_ABORT_TASK_SET        1
#define VIRTIO_SCSI_T_TMF_CLEAR_ACA             2
#define VIRTIO_SCSI_T_TMF_CLEAR_TASK_SET        3
#define VIRTIO_SCSI_T_TMF_I_T_NEXUS_RESET       4
#define VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET    5
#define VIRTIO_SCSI_T_TMF_QUERY_TASK            6
#define VIRTIO_SCSI_T_TMF_QUERY_TASK_SET        7

/* Response codes */
#define VIRTIO_SCSI_S_OK                0
#define VIRTIO_SCSI_S_OVERRUN           1
#define VIRTIO_SCSI_S_ABORTED           2
#define VIRTIO_SCSI_S_BAD_TARGET        3
#define VIRTIO_SCSI_S_RESET             4
#define VIRTIO_SCSI_S_BUSY              5
#define VIRTIO_SCSI_S_TRANSPORT_FAILURE 6
#define VIRTIO_SCSI_S_TARGET_FAILURE    7
#define VIRTIO_SCSI_S_NEXUS_FAILURE     8
#define VIRTIO_SCSI_S_FAILURE           9
#define VIRTIO_SCSI_S_FUNCTION_SUCCEEDED 10
#define VIRTIO_SCSI_S_FUNCTION_REJECTED 11
#define VIRTIO_SCSI_S_INCORRECT_LUN     12

#define PCI_CLASS_STORAGE_SCSI          0x0100

typedef struct VirtIOSCSI {
    VirtIODevice vdev;
    SCSIBus bus;
    uint32_t sense_size;            /* as the driver set them */
    uint32_t cdb_size;
    uint64_t generation;            /* bumped by a driver reset */
    /* properties */
    uint32_t num_queues;
    uint32_t virtqueue_size;
    uint32_t max_sectors;
    uint32_t cmd_per_lun;
} VirtIOSCSI;

typedef struct VirtIOSCSIPCI {
    VirtIOPCIProxy proxy;
    VirtIOSCSI scsi;
} VirtIOSCSIPCI;

typedef struct VirtIOSCSIReq VirtIOSCSIReq;
struct VirtIOSCSIReq {
    VirtQueueElement elem;          /* first: virtqueue_pop allocates the request */
    VirtIOSCSI *s;
    VirtQueue *vq;
    uint64_t generation;
    SCSIXferMode mode;              /* what the buffers allow */
    struct iovec *data_iov;
    unsigned data_niov;
    size_t data_size;
    VirtIOSCSIReq *tmf;             /* a TMF waiting for this command to end */
    unsigned tmf_pending;           /* (TMF) commands it waits for */
    uint8_t tmf_response;
};

#define VIRTIO_SCSI(vdev) ((VirtIOSCSI *)(vdev))

static size_t vscsi_req_size(VirtIOSCSI *s)
{
    return VIRTIO_SCSI_REQ_HDR + s->cdb_size;
}

static size_t vscsi_resp_size(VirtIOSCSI *s)
{
    return VIRTIO_SCSI_RESP_HDR + s->sense_size;
}

static void vscsi_req_free(VirtIOSCSIReq *req)
{
    g_free(req->data_iov);
    g_free(req);
}

/* The buffers after `skip` bytes. */
static void vscsi_data_iov(VirtIOSCSIReq *req, const struct iovec *src, unsigned n, size_t skip)
{
    req->data_iov = g_new0(struct iovec, n ? n : 1);
    req->data_niov = 0;
    req->data_size = 0;
    for (unsigned i = 0; i < n; i++) {
        size_t l = src[i].iov_len;

        if (skip >= l) {
            skip -= l;
            continue;
        }
        req->data_iov[req->data_niov].iov_base = (uint8_t *)src[i].iov_base + skip;
        req->data_iov[req->data_niov].iov_len = l - skip;
        req->data_size += l - skip;
        req->data_niov++;
        skip = 0;
    }
}

/*
 * QEMU's LUN addressing: byte 0 is 1, byte 1 the target, bytes 2-3 the
 * LUN (peripheral 00xx or flat space 40xx-7fxx).  kvmpc also takes the
 * REPORT LUNS well-known LUN (c101), which QEMU answers with BAD_TARGET.
 * false: not an address we know.
 */
static bool vscsi_parse_lun(const uint8_t *lun, uint32_t *target, uint32_t *l)
{
    if (lun[0] != 1) {
        return false;
    }
    *target = lun[1];
    if (lun[2] == 0xc1 && lun[3] == 0x01) {
        *l = SCSI_WLUN_REPORT_LUNS;
        return true;
    }
    if (lun[2] != 0 && !(lun[2] >= 0x40 && lun[2] < 0x80)) {
        return false;
    }
    *l = ((lun[2] << 8) | lun[3]) & 0x3fff;
    return true;
}

/* ---- commands ---------------------------------------------------------------- */

static void vscsi_tmf_done(VirtIOSCSIReq *tmf);

static void vscsi_cmd_respond(VirtIOSCSIReq *req, uint8_t response, const SCSIRequest *sreq)
{
    VirtIOSCSI *s = req->s;
    size_t resp_size = vscsi_resp_size(s);
    g_autofree uint8_t *resp = g_malloc0(resp_size);
    size_t transferred = 0;

    resp[11] = response;
    if (sreq && response == VIRTIO_SCSI_S_OK) {
        uint32_t sense_len = MIN(sreq->sense_len, s->sense_size);
        uint32_t resid;

        transferred = MIN(sreq->transferred, req->data_size);
        resid = (uint32_t)MIN(req->data_size - transferred, (size_t)UINT32_MAX);
        pci_set_long(resp, sense_len);
        pci_set_long(resp + 4, resid);
        resp[10] = sreq->status;
        memcpy(resp + 12, sreq->sense, sense_len);
    } else {
        pci_set_long(resp + 4, (uint32_t)MIN(req->data_size, (size_t)UINT32_MAX));
    }
    iov_copy_from_buf(req->elem.in_sg, req->elem.in_num, 0, resp, resp_size);
    virtqueue_push(req->vq, &req->elem,
                   resp_size + (req->mode == SCSI_XFER_FROM_DEV ? transferred : 0));
    virtio_notify(&s->vdev, req->vq);
}

/* The bus finished a command (SCSIBusOps.complete). */
static void vscsi_command_complete(SCSIRequest *sreq)
{
    VirtIOSCSIReq *req = sreq->hba_private;
    VirtIOSCSI *s = req->s;
    VirtIOSCSIReq *tmf = req->tmf;

    if (req->generation == s->generation) {
        vscsi_cmd_respond(req, sreq->cancelled ? VIRTIO_SCSI_S_ABORTED : VIRTIO_SCSI_S_OK,
                          sreq);
    }
    vscsi_req_free(req);
    if (tmf && --tmf->tmf_pending == 0) {
        vscsi_tmf_done(tmf);
    }
}

static void vscsi_handle_cmd_req(VirtIOSCSI *s, VirtQueue *vq, VirtIOSCSIReq *req)
{
    VirtQueueElement *elem = &req->elem;
    size_t req_size = vscsi_req_size(s), resp_size = vscsi_resp_size(s);
    size_t out = virtio_iov_size(elem->out_sg, elem->out_num);
    size_t in = virtio_iov_size(elem->in_sg, elem->in_num);
    uint8_t hdr[VIRTIO_SCSI_REQ_HDR + 256];
    uint32_t target, lun;
    uint64_t tag;
    SCSIRequest *sreq;

    req->s = s;
    req->vq = vq;
    req->generation = s->generation;
    if (out < req_size || in < resp_size) {
        virtio_error(&s->vdev, "queue %u: request of %zu/%zu bytes, headers need %zu/%zu",
                     vq->index, out, in, req_size, resp_size);
        virtqueue_push(vq, elem, 0);
        vscsi_req_free(req);
        return;
    }
    iov_copy_to_buf(elem->out_sg, elem->out_num, 0, hdr, req_size);
    if (out > req_size && in > resp_size) {
        /* data both ways: not offered (VIRTIO_SCSI_F_INOUT) */
        vscsi_cmd_respond(req, VIRTIO_SCSI_S_FAILURE, NULL);
        vscsi_req_free(req);
        return;
    }
    if (out > req_size) {
        req->mode = SCSI_XFER_TO_DEV;
        vscsi_data_iov(req, elem->out_sg, elem->out_num, req_size);
    } else {
        req->mode = in > resp_size ? SCSI_XFER_FROM_DEV : SCSI_XFER_NONE;
        vscsi_data_iov(req, elem->in_sg, elem->in_num, resp_size);
    }
    if (!vscsi_parse_lun(hdr, &target, &lun) ||
        !scsi_bus_find_target(&s->bus, 0, target)) {
        vscsi_cmd_respond(req, VIRTIO_SCSI_S_BAD_TARGET, NULL);
        vscsi_req_free(req);
        return;
    }
    memcpy(&tag, hdr + 8, 8);
    sreq = scsi_req_new(&s->bus, 0, target, lun, le64toh(tag), hdr + VIRTIO_SCSI_REQ_HDR,
                        s->cdb_size, req);
    if (sreq->mode != SCSI_XFER_NONE &&
        (sreq->mode != req->mode || sreq->xfer > req->data_size)) {
        /* the buffers do not hold what the CDB moves (QEMU: OVERRUN) */
        scsi_req_free(sreq);
        vscsi_cmd_respond(req, VIRTIO_SCSI_S_OVERRUN, NULL);
        vscsi_req_free(req);
        return;
    }
    scsi_req_set_buffers(sreq, req->data_iov, req->data_niov);
    scsi_req_enqueue(sreq);
}

static void vscsi_handle_cmd(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOSCSI *s = VIRTIO_SCSI(vdev);
    VirtIOSCSIReq *req;

    while (!vdev->broken && (req = virtqueue_pop(vq, sizeof(VirtIOSCSIReq)))) {
        vscsi_handle_cmd_req(s, vq, req);
    }
}

/* ---- control queue ------------------------------------------------------------------ */

static void vscsi_tmf_done(VirtIOSCSIReq *tmf)
{
    VirtIOSCSI *s = tmf->s;

    if (tmf->generation == s->generation) {
        iov_copy_from_buf(tmf->elem.in_sg, tmf->elem.in_num, 0, &tmf->tmf_response, 1);
        virtqueue_push(tmf->vq, &tmf->elem, 1);
        virtio_notify(&s->vdev, tmf->vq);
    }
    vscsi_req_free(tmf);
}

/* Cancel sreq and have tmf wait until it has ended. */
static void vscsi_tmf_cancel(VirtIOSCSIReq *tmf, SCSIRequest *sreq)
{
    VirtIOSCSIReq *req = sreq->hba_private;

    if (!req->tmf) {
        req->tmf = tmf;
        tmf->tmf_pending++;
    }
    scsi_req_cancel(sreq);
}

static void vscsi_tmf_cancel_all(VirtIOSCSIReq *tmf, SCSIDevice *d)
{
    for (GList *l = d->requests.head; l; l = l->next) {
        vscsi_tmf_cancel(tmf, l->data);
    }
}

/* What QEMU's virtio_scsi_do_tmf answers. */
static uint8_t vscsi_do_tmf(VirtIOSCSI *s, VirtIOSCSIReq *tmf, uint32_t subtype,
                            const uint8_t *lunaddr, uint64_t tag)
{
    uint32_t target = 0, lun = 0;
    SCSIDevice *d = NULL;
    bool found = false;

    if (vscsi_parse_lun(lunaddr, &target, &lun)) {
        d = scsi_bus_find_target(&s->bus, 0, target);
    }
    switch (subtype) {
    case VIRTIO_SCSI_T_TMF_ABORT_TASK:
    case VIRTIO_SCSI_T_TMF_QUERY_TASK:
    case VIRTIO_SCSI_T_TMF_ABORT_TASK_SET:
    case VIRTIO_SCSI_T_TMF_CLEAR_TASK_SET:
    case VIRTIO_SCSI_T_TMF_QUERY_TASK_SET:
    case VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET:
        if (!d) {
            return VIRTIO_SCSI_S_BAD_TARGET;
        }
        d = scsi_bus_find_lun(&s->bus, 0, target, lun);
        if (!d) {
            return VIRTIO_SCSI_S_INCORRECT_LUN;
        }
        break;
    case VIRTIO_SCSI_T_TMF_I_T_NEXUS_RESET:
        if (!d) {
            return VIRTIO_SCSI_S_BAD_TARGET;
        }
        break;
    default:
        return VIRTIO_SCSI_S_FUNCTION_REJECTED;     /* CLEAR ACA and unknown ones */
    }

    switch (subtype) {
    case VIRTIO_SCSI_T_TMF_ABORT_TASK: {
        SCSIRequest *r = scsi_device_find_req(d, tag);

        if (r) {
            vscsi_tmf_cancel(tmf, r);
        }
        return VIRTIO_SCSI_S_OK;                    /* "function complete" */
    }
    case VIRTIO_SCSI_T_TMF_QUERY_TASK:
        return scsi_device_find_req(d, tag) ? VIRTIO_SCSI_S_FUNCTION_SUCCEEDED
                                            : VIRTIO_SCSI_S_OK;
    case VIRTIO_SCSI_T_TMF_QUERY_TASK_SET:
        for (GList *l = d->requests.head; l && !found; l = l->next) {
            found = !((SCSIRequest *)l->data)->cancelled;
        }
        return found ? VIRTIO_SCSI_S_FUNCTION_SUCCEEDED : VIRTIO_SCSI_S_OK;
    case VIRTIO_SCSI_T_TMF_ABORT_TASK_SET:
    case VIRTIO_SCSI_T_TMF_CLEAR_TASK_SET:
        vscsi_tmf_cancel_all(tmf, d);
        return VIRTIO_SCSI_S_OK;
    case VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET:
        vscsi_tmf_cancel_all(tmf, d);
        scsi_device_reset(d);
        return VIRTIO_SCSI_S_OK;
    default:                                        /* I_T NEXUS RESET */
        for (guint i = 0; i < s->bus.qbus->children->len; i++) {
            SCSIDevice *u = g_ptr_array_index(s->bus.qbus->children, i);

            if (u->qdev.realized && u->bus == &s->bus && u->id == target) {
                vscsi_tmf_cancel_all(tmf, u);
                scsi_device_reset(u);
            }
        }
        return VIRTIO_SCSI_S_OK;
    }
}

static void vscsi_handle_ctrl_req(VirtIOSCSI *s, VirtQueue *vq, VirtIOSCSIReq *req)
{
    VirtQueueElement *elem = &req->elem;
    size_t out = virtio_iov_size(elem->out_sg, elem->out_num);
    size_t in = virtio_iov_size(elem->in_sg, elem->in_num);
    uint8_t buf[24];
    uint32_t type, subtype;
    uint64_t tag;

    req->s = s;
    req->vq = vq;
    req->generation = s->generation;
    if (out < 4) {
        virtio_error(&s->vdev, "queue %u: control request of %zu bytes", vq->index, out);
        virtqueue_push(vq, elem, 0);
        vscsi_req_free(req);
        return;
    }
    iov_copy_to_buf(elem->out_sg, elem->out_num, 0, buf, MIN(out, sizeof(buf)));
    type = pci_get_long(buf);
    if (type == VIRTIO_SCSI_T_TMF) {
        if (out < 24 || in < 1) {
            virtio_error(&s->vdev, "queue %u: TMF request of %zu/%zu bytes", vq->index, out, in);
            virtqueue_push(vq, elem, 0);
            vscsi_req_free(req);
            return;
        }
        subtype = pci_get_long(buf + 4);
        memcpy(&tag, buf + 16, 8);
        req->tmf_pending = 1;           /* until vscsi_do_tmf returns */
        req->tmf_response = vscsi_do_tmf(s, req, subtype, buf + 8, le64toh(tag));
        if (--req->tmf_pending == 0) {
            vscsi_tmf_done(req);
        }
    } else if (type == VIRTIO_SCSI_T_AN_QUERY || type == VIRTIO_SCSI_T_AN_SUBSCRIBE) {
        uint8_t resp[5] = { 0 };        /* event_actual 0, response OK */

        if (out < 16 || in < sizeof(resp)) {
            virtio_error(&s->vdev, "queue %u: AN request of %zu/%zu bytes", vq->index, out, in);
            virtqueue_push(vq, elem, 0);
            vscsi_req_free(req);
            return;
        }
        iov_copy_from_buf(elem->in_sg, elem->in_num, 0, resp, sizeof(resp));
        virtqueue_push(vq, elem, sizeof(resp));
        virtio_notify(&s->vdev, vq);
        vscsi_req_free(req);
    } else {
        qemu_log_mask(LOG_GUEST_ERROR, "virtio-scsi: unknown control request type %u\n", type);
        virtqueue_push(vq, elem, 0);
        virtio_notify(&s->vdev, vq);
        vscsi_req_free(req);
    }
}

static void vscsi_handle_ctrl(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOSCSI *s = VIRTIO_SCSI(vdev);
    VirtIOSCSIReq *req;

    while (!vdev->broken && (req = virtqueue_pop(vq, sizeof(VirtIOSCSIReq)))) {
        vscsi_handle_ctrl_req(s, vq, req);
    }
}

/* The driver's event buffers stay in the ring: we send no events. */
static void vscsi_handle_event(VirtIODevice *vdev, VirtQueue *vq)
{
    (void)vdev;
    (void)vq;
}

/* ---- device ---------------------------------------------------------------------- */

static void vscsi_get_config(VirtIODevice *vdev, uint8_t *c)
{
    VirtIOSCSI *s = VIRTIO_SCSI(vdev);

    memset(c, 0, VSCSI_CFG_SIZE);
    pci_set_long(c + VSCSI_CFG_NUM_QUEUES, s->num_queues);
    pci_set_long(c + VSCSI_CFG_SEG_MAX, s->virtqueue_size - 2);
    pci_set_long(c + VSCSI_CFG_MAX_SECTORS, s->max_sectors);
    pci_set_long(c + VSCSI_CFG_CMD_PER_LUN, s->cmd_per_lun);
    pci_set_long(c + VSCSI_CFG_EVENT_INFO_SIZE, VIRTIO_SCSI_EVENT_SIZE);
    pci_set_long(c + VSCSI_CFG_SENSE_SIZE, s->sense_size);
    pci_set_long(c + VSCSI_CFG_CDB_SIZE, s->cdb_size);
    pci_set_word(c + VSCSI_CFG_MAX_CHANNEL, VIRTIO_SCSI_MAX_CHANNEL);
    pci_set_word(c + VSCSI_CFG_MAX_TARGET, VIRTIO_SCSI_MAX_TARGET);
    pci_set_long(c + VSCSI_CFG_MAX_LUN, VIRTIO_SCSI_MAX_LUN);
}

/* The driver may set sense_size and cdb_size (QEMU's bounds). */
static void vscsi_set_config(VirtIODevice *vdev, const uint8_t *c)
{
    VirtIOSCSI *s = VIRTIO_SCSI(vdev);
    uint32_t sense = pci_get_long(c + VSCSI_CFG_SENSE_SIZE);
    uint32_t cdb = pci_get_long(c + VSCSI_CFG_CDB_SIZE);

    if (sense >= 65536 || cdb >= 256) {
        virtio_error(vdev, "bad data written to the configuration space (sense_size %u, "
                     "cdb_size %u)", sense, cdb);
        return;
    }
    s->sense_size = sense;
    s->cdb_size = cdb;
}

static void vscsi_reset(VirtIODevice *vdev)
{
    VirtIOSCSI *s = VIRTIO_SCSI(vdev);

    s->generation++;            /* commands in flight end without touching the rings */
    s->sense_size = VIRTIO_SCSI_SENSE_DEFAULT_SIZE;
    s->cdb_size = VIRTIO_SCSI_CDB_DEFAULT_SIZE;
    scsi_bus_reset(&s->bus);
}

static const VirtIODeviceOps vscsi_ops = {
    .get_config = vscsi_get_config,
    .set_config = vscsi_set_config,
    .reset = vscsi_reset,
};

static char *vscsi_fw_path(SCSIBus *bus, SCSIDevice *dev)
{
    PCIDevice *d = (PCIDevice *)bus->owner;

    if (!d->bus) {
        return NULL;
    }
    return PCI_FUNC(d->devfn)
           ? g_strdup_printf("/pci@i0cf8/scsi@%x,%x/channel@%x/disk@%x,%x", PCI_SLOT(d->devfn),
                             PCI_FUNC(d->devfn), dev->channel, dev->id, dev->lun)
           : g_strdup_printf("/pci@i0cf8/scsi@%x/channel@%x/disk@%x,%x", PCI_SLOT(d->devfn),
                             dev->channel, dev->id, dev->lun);
}

static const SCSIBusOps vscsi_bus_ops = {
    .complete = vscsi_command_complete,
    .fw_path = vscsi_fw_path,
};

static void virtio_scsi_pci_realize(PCIDevice *d, Error **errp)
{
    static unsigned anon_buses;
    VirtIOSCSIPCI *dev = (VirtIOSCSIPCI *)d;
    VirtIOSCSI *s = &dev->scsi;
    VirtIODevice *vdev = &s->vdev;
    g_autofree char *busname = NULL;

    if (s->num_queues < 1 || s->num_queues > VIRTIO_QUEUE_MAX - 2) {
        error_setg(errp, "virtio-scsi-pci: Property 'num_queues': %u is not 1-%u",
                   s->num_queues, VIRTIO_QUEUE_MAX - 2);
        return;
    }
    if (s->virtqueue_size <= 2 || s->virtqueue_size > VIRTQUEUE_MAX_SIZE ||
        (s->virtqueue_size & (s->virtqueue_size - 1))) {
        error_setg(errp, "virtio-scsi-pci: Property 'virtqueue_size': %u is not a power of "
                   "two in 4-%u", s->virtqueue_size, VIRTQUEUE_MAX_SIZE);
        return;
    }
    if (s->max_sectors == 0 || s->cmd_per_lun == 0) {
        error_setg(errp, "virtio-scsi-pci: Properties 'max_sectors' and 'cmd_per_lun' "
                   "must not be 0");
        return;
    }
    if (d->qdev.id) {
        busname = g_strdup_printf("%s.0", d->qdev.id);
    } else {
        do {
            g_free(busname);
            busname = g_strdup_printf("scsi.%u", anon_buses++);
        } while (qbus_find(busname));
    }
    virtio_init(vdev, "virtio-scsi", VIRTIO_ID_SCSI, VSCSI_CFG_SIZE, &vscsi_ops);
    s->sense_size = VIRTIO_SCSI_SENSE_DEFAULT_SIZE;
    s->cdb_size = VIRTIO_SCSI_CDB_DEFAULT_SIZE;
    virtio_add_queue(vdev, VIRTIO_SCSI_CTRL_QUEUE_SIZE, vscsi_handle_ctrl);
    virtio_add_queue(vdev, VIRTIO_SCSI_CTRL_QUEUE_SIZE, vscsi_handle_event);
    for (unsigned i = 0; i < s->num_queues; i++) {
        virtio_add_queue(vdev, s->virtqueue_size, vscsi_handle_cmd);
    }
    if (!virtio_pci_realize(&dev->proxy, vdev, PCI_CLASS_STORAGE_SCSI, errp)) {
        virtio_cleanup(vdev);
        return;
    }
    scsi_bus_init(&s->bus, &d->qdev, busname, &vscsi_bus_ops, VIRTIO_SCSI_MAX_CHANNEL,
                  VIRTIO_SCSI_MAX_TARGET, VIRTIO_SCSI_MAX_LUN);
}

static void virtio_scsi_pci_exit(PCIDevice *d)
{
    VirtIOSCSIPCI *dev = (VirtIOSCSIPCI *)d;

    scsi_bus_exit(&dev->scsi.bus);
    virtio_pci_exit(&dev->proxy);
    virtio_cleanup(&dev->scsi.vdev);
}

static void virtio_scsi_pci_reset(PCIDevice *d)
{
    VirtIOSCSIPCI *dev = (VirtIOSCSIPCI *)d;

    virtio_pci_reset(&dev->proxy);
}

static const VMStateField virtio_scsi_pci_fields[] = {
    VMSTATE_VIRTIO_PCI(proxy, VirtIOSCSIPCI),
    VMSTATE_VIRTIO_DEVICE(scsi.vdev, VirtIOSCSIPCI),
    VMSTATE_UINT32(scsi.sense_size, VirtIOSCSIPCI),
    VMSTATE_UINT32(scsi.cdb_size, VirtIOSCSIPCI),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_virtio_scsi_pci = {
    .name = "virtio-scsi-pci",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = virtio_scsi_pci_fields,
};

static const Property virtio_scsi_pci_props[] = {
    DEFINE_VIRTIO_PCI_PROPERTIES(),
    DEFINE_PROP_UINT32("num_queues", VirtIOSCSIPCI, scsi.num_queues, 1),
    DEFINE_PROP_UINT32("virtqueue_size", VirtIOSCSIPCI, scsi.virtqueue_size, 256),
    DEFINE_PROP_UINT32("max_sectors", VirtIOSCSIPCI, scsi.max_sectors, 0xffff),
    DEFINE_PROP_UINT32("cmd_per_lun", VirtIOSCSIPCI, scsi.cmd_per_lun, 128),
    DEFINE_PROP_END_OF_LIST(),
};

static const PCIDeviceClass virtio_scsi_pci_class = {
    PCI_DEVICE_CLASS_INIT("virtio-scsi-pci", "Virtio SCSI", VirtIOSCSIPCI,
                          virtio_scsi_pci_props, .category = DEVICE_CATEGORY_STORAGE,
                          .vmsd = &vmstate_virtio_scsi_pci),
    .vendor_id = PCI_VENDOR_ID_REDHAT_QUMRANET,
    .device_id = 0x1004,
    .class_id = PCI_CLASS_STORAGE_SCSI,
    .realize = virtio_scsi_pci_realize,
    .exit = virtio_scsi_pci_exit,
    .reset = virtio_scsi_pci_reset,
    .config_read = virtio_pci_config_read,
    .config_write = virtio_pci_config_write,
};

PCI_DEVICE_CLASS_REGISTER(virtio_scsi_pci_class)

/* -drive if=scsi: one virtio-scsi-pci per bus number (QEMU makes an
 * lsi53c895a), the drives on it at scsi-id = unit, scsi-cd for
 * media=cdrom. */
bool virtio_scsi_create_cmdline_drives(Error **errp)
{
    int max_bus = drive_get_max_bus(IF_SCSI);

    for (int bus = 0; bus <= max_bus; bus++) {
        DeviceState *ctl = NULL;
        const char *busname = NULL;

        for (int unit = 0; unit < 256; unit++) {
            DriveInfo *di = drive_get(IF_SCSI, bus, unit);
            g_autofree char *spec = NULL;

            if (!di) {
                continue;
            }
            if (!ctl) {
                ctl = qdev_device_add("virtio-scsi-pci", errp);
                if (!ctl) {
                    return false;
                }
                busname = ((BusState *)g_ptr_array_index(ctl->child_buses, 0))->name;
            }
            spec = g_strdup_printf("%s,drive=%s,bus=%s,scsi-id=%d",
                                   di->media == MEDIA_CDROM ? "scsi-cd" : "scsi-hd",
                                   blk_name(di->blk), busname, unit);
            if (!qdev_device_add(spec, errp)) {
                return false;
            }
        }
    }
    return true;
}

/*
 * The SCSI bus and its requests (SAM-5, SPC-4): addressing of logical
 * units by (channel, scsi-id, lun), parsing a CDB into a transfer length
 * and direction, what the target answers for itself (REPORT LUNS, INQUIRY
 * and REQUEST SENSE of a LUN that does not exist, the REPORT LUNS
 * well-known LUN), UNIT ATTENTION, sense data, and the life of a request
 * from the HBA to the unit and back.  See include/hw/scsi/scsi.h.
 *
 * As QEMU (hw/scsi/scsi-bus.c): LUN 0 is always in the REPORT LUNS list;
 * INQUIRY, REPORT LUNS, GET CONFIGURATION and GET EVENT STATUS
 * NOTIFICATION do not report a pending UNIT ATTENTION; REQUEST SENSE
 * returns it and clears it; any other command gets it as CHECK CONDITION.
 */
#include <string.h>
#include <glib.h>
#include "hw/scsi/scsi.h"
#include "qemu/log.h"

static GPtrArray *scsi_buses;

/* ---- buses ------------------------------------------------------------- */

void scsi_bus_init(SCSIBus *bus, DeviceState *owner, const char *name, const SCSIBusOps *ops,
                   uint32_t max_channel, uint32_t max_target, uint32_t max_lun)
{
    bus->owner = owner;
    bus->ops = ops;
    bus->max_channel = max_channel;
    bus->max_target = max_target;
    bus->max_lun = max_lun;
    bus->qbus = qbus_new("SCSI", owner, name);
    if (!scsi_buses) {
        scsi_buses = g_ptr_array_new();
    }
    g_ptr_array_add(scsi_buses, bus);
}

void scsi_bus_exit(SCSIBus *bus)
{
    if (scsi_buses) {
        g_ptr_array_remove(scsi_buses, bus);
    }
}

SCSIBus *scsi_bus_from_qbus(BusState *qbus)
{
    for (guint i = 0; qbus && scsi_buses && i < scsi_buses->len; i++) {
        SCSIBus *bus = g_ptr_array_index(scsi_buses, i);
        if (bus->qbus == qbus) {
            return bus;
        }
    }
    return NULL;
}

static SCSIDevice *scsi_bus_child(SCSIBus *bus, guint i)
{
    SCSIDevice *d = g_ptr_array_index(bus->qbus->children, i);

    return d->qdev.realized && d->bus == bus ? d : NULL;
}

SCSIDevice *scsi_bus_find_target(SCSIBus *bus, uint32_t channel, uint32_t id)
{
    for (guint i = 0; i < bus->qbus->children->len; i++) {
        SCSIDevice *d = scsi_bus_child(bus, i);
        if (d && d->channel == channel && d->id == id) {
            return d;
        }
    }
    return NULL;
}

SCSIDevice *scsi_bus_find_lun(SCSIBus *bus, uint32_t channel, uint32_t id, uint32_t lun)
{
    for (guint i = 0; i < bus->qbus->children->len; i++) {
        SCSIDevice *d = scsi_bus_child(bus, i);
        if (d && d->channel == channel && d->id == id && d->lun == lun) {
            return d;
        }
    }
    return NULL;
}

void scsi_bus_reset(SCSIBus *bus)
{
    for (guint i = 0; i < bus->qbus->children->len; i++) {
        SCSIDevice *d = scsi_bus_child(bus, i);
        if (d) {
            scsi_device_reset(d);
        }
    }
}

/* ---- units ----------------------------------------------------------------- */

bool scsi_device_realize_common(SCSIDevice *dev, Error **errp)
{
    SCSIBus *bus = scsi_bus_from_qbus(dev->qdev.parent_bus);
    const char *name = dev->qdev.klass->name;

    if (!bus) {
        error_setg(errp, "%s: no SCSI bus", name);
        return false;
    }
    if (dev->channel > bus->max_channel) {
        error_setg(errp, "%s: bad scsi channel id: %u (max %u)", name, dev->channel,
                   bus->max_channel);
        return false;
    }
    if (dev->id != UINT32_MAX && dev->id > bus->max_target) {
        error_setg(errp, "%s: bad scsi device id: %u (max %u)", name, dev->id, bus->max_target);
        return false;
    }
    if (dev->lun != UINT32_MAX && dev->lun > bus->max_lun) {
        error_setg(errp, "%s: bad scsi device lun: %u (max %u)", name, dev->lun, bus->max_lun);
        return false;
    }
    if (dev->id == UINT32_MAX) {
        uint32_t lun = dev->lun == UINT32_MAX ? 0 : dev->lun;
        uint32_t id = 0;

        while (id <= bus->max_target && scsi_bus_find_lun(bus, dev->channel, id, lun)) {
            id++;
        }
        if (id > bus->max_target) {
            error_setg(errp, "%s: no free target on bus %s", name, bus->qbus->name);
            return false;
        }
        dev->id = id;
    }
    if (dev->lun == UINT32_MAX) {
        uint32_t lun = 0;

        while (lun <= bus->max_lun && scsi_bus_find_lun(bus, dev->channel, dev->id, lun)) {
            lun++;
        }
        if (lun > bus->max_lun) {
            error_setg(errp, "%s: no free lun on target %u", name, dev->id);
            return false;
        }
        dev->lun = lun;
    } else {
        SCSIDevice *other = scsi_bus_find_lun(bus, dev->channel, dev->id, dev->lun);

        if (other && other != dev) {
            error_setg(errp, "%s: SCSI id %u lun %u is already in use by %s", name, dev->id,
                       dev->lun, other->qdev.id ? other->qdev.id : other->qdev.canonical_path);
            return false;
        }
    }
    dev->bus = bus;
    g_queue_init(&dev->requests);
    dev->unit_attention = SENSE_UA_RESET;      /* power on */
    return true;
}

void scsi_device_set_ua(SCSIDevice *dev, SCSISense sense)
{
    /* A pending reset outranks anything else (SAM-5 5.14). */
    if (dev->unit_attention.key == SENSE_KEY_UNIT_ATTENTION && dev->unit_attention.asc == 0x29) {
        return;
    }
    dev->unit_attention = sense;
}

void scsi_device_reset(SCSIDevice *dev)
{
    for (GList *l = dev->requests.head; l; l = l->next) {
        scsi_req_cancel(l->data);
    }
    dev->unit_attention = SENSE_NO_SENSE;
    scsi_device_set_ua(dev, SENSE_UA_RESET);
}

SCSIRequest *scsi_device_find_req(SCSIDevice *dev, uint64_t tag)
{
    for (GList *l = dev->requests.head; l; l = l->next) {
        SCSIRequest *r = l->data;
        if (r->tag == tag && !r->cancelled) {
            return r;
        }
    }
    return NULL;
}

/* ---- CDB parsing ------------------------------------------------------------- */

static unsigned scsi_cdb_length(uint8_t op)
{
    switch (op >> 5) {
    case 0: return 6;
    case 1: case 2: return 10;
    case 4: return 16;
    case 5: return 12;
    default: return 0;      /* 3: variable length; 6, 7: vendor specific */
    }
}

/* Transfer length in bytes and direction, as the CDB states them.  Opcodes
 * we do not know move nothing: they end as INVALID COMMAND OPERATION CODE
 * whatever buffers came with them. */
static void scsi_cdb_xfer(SCSIRequest *req, uint32_t blocksize)
{
    const uint8_t *c = req->cdb;
    uint64_t x = 0;
    SCSIXferMode m = SCSI_XFER_FROM_DEV;

    switch (c[0]) {
    case TEST_UNIT_READY: case START_STOP_UNIT: case PREVENT_ALLOW_MEDIUM_REMOVAL:
    case SEEK_10: case SYNCHRONIZE_CACHE_10: case SYNCHRONIZE_CACHE_16:
        m = SCSI_XFER_NONE;
        break;
    case REQUEST_SENSE: case MODE_SENSE_6:
        x = c[4];
        break;
    case INQUIRY:
        x = scsi_be16(c + 3);
        break;
    case MODE_SELECT_6:
        x = c[4];
        m = SCSI_XFER_TO_DEV;
        break;
    case SEND_DIAGNOSTIC:
        x = scsi_be16(c + 3);
        m = SCSI_XFER_TO_DEV;
        break;
    case READ_6: case WRITE_6:
        x = (uint64_t)(c[4] ? c[4] : 256) * blocksize;
        m = c[0] == WRITE_6 ? SCSI_XFER_TO_DEV : SCSI_XFER_FROM_DEV;
        break;
    case READ_10: case WRITE_10: case WRITE_VERIFY_10:
        x = (uint64_t)scsi_be16(c + 7) * blocksize;
        m = c[0] == READ_10 ? SCSI_XFER_FROM_DEV : SCSI_XFER_TO_DEV;
        break;
    case READ_12: case WRITE_12: case WRITE_VERIFY_12:
        x = (uint64_t)scsi_be32(c + 6) * blocksize;
        m = c[0] == READ_12 ? SCSI_XFER_FROM_DEV : SCSI_XFER_TO_DEV;
        break;
    case READ_16: case WRITE_16: case WRITE_VERIFY_16:
        x = (uint64_t)scsi_be32(c + 10) * blocksize;
        m = c[0] == READ_16 ? SCSI_XFER_FROM_DEV : SCSI_XFER_TO_DEV;
        break;
    case VERIFY_10: case VERIFY_12: case VERIFY_16: {
        uint64_t n = c[0] == VERIFY_10 ? scsi_be16(c + 7)
                     : c[0] == VERIFY_12 ? scsi_be32(c + 6) : scsi_be32(c + 10);
        x = (c[1] & 6) ? n * blocksize : 0;     /* BYTCHK: data-out to compare */
        m = SCSI_XFER_TO_DEV;
        break;
    }
    case WRITE_SAME_10:
        x = blocksize;
        m = SCSI_XFER_TO_DEV;
        break;
    case WRITE_SAME_16:
        x = (c[1] & 1) ? 0 : blocksize;         /* NDOB: no data-out buffer */
        m = SCSI_XFER_TO_DEV;
        break;
    case UNMAP: case MODE_SELECT_10:
        x = scsi_be16(c + 7);
        m = SCSI_XFER_TO_DEV;
        break;
    case READ_CAPACITY_10:
        x = 8;
        break;
    case MODE_SENSE_10: case READ_TOC: case GET_CONFIGURATION:
    case GET_EVENT_STATUS_NOTIFICATION: case READ_DISC_INFORMATION:
        x = scsi_be16(c + 7);
        break;
    case SERVICE_ACTION_IN_16:
        x = scsi_be32(c + 10);
        break;
    case REPORT_LUNS:
        x = scsi_be32(c + 6);
        break;
    default:
        m = SCSI_XFER_NONE;
        break;
    }
    req->xfer = x;
    req->mode = x ? m : SCSI_XFER_NONE;
}

SCSIRequest *scsi_req_new(SCSIBus *bus, uint32_t channel, uint32_t id, uint32_t lun,
                          uint64_t tag, const uint8_t *cdb, unsigned cdb_max, void *hba_private)
{
    SCSIRequest *req = g_new0(SCSIRequest, 1);
    SCSIDevice *target = scsi_bus_find_target(bus, channel, id);

    req->bus = bus;
    req->dev = scsi_bus_find_lun(bus, channel, id, lun);
    req->lun = lun;
    req->tag = tag;
    req->hba_private = hba_private;
    req->cdb_len = cdb_max ? scsi_cdb_length(cdb[0]) : 0;
    if (!req->cdb_len || req->cdb_len > cdb_max) {
        req->cdb_bad = true;
        memcpy(req->cdb, cdb, MIN(cdb_max, (unsigned)SCSI_CDB_MAX));
        return req;
    }
    memcpy(req->cdb, cdb, req->cdb_len);
    scsi_cdb_xfer(req, req->dev ? req->dev->blocksize : target ? target->blocksize : 512);
    return req;
}

void scsi_req_set_buffers(SCSIRequest *req, struct iovec *iov, unsigned niov)
{
    req->iov = iov;
    req->niov = niov;
    req->iov_size = 0;
    for (unsigned i = 0; i < niov; i++) {
        req->iov_size += iov[i].iov_len;
    }
}

void scsi_req_free(SCSIRequest *req)
{
    g_free(req->bounce);
    g_free(req->dma_iov);
    g_free(req);
}

void scsi_req_cancel(SCSIRequest *req)
{
    if (req->cancelled) {
        return;
    }
    req->cancelled = true;
    if (req->dev && req->dev->ops->cancel) {
        req->dev->ops->cancel(req);
    }
}

/* ---- data and completion ------------------------------------------------------ */

unsigned scsi_build_sense(uint8_t *buf, unsigned len, SCSISense sense, bool descriptor)
{
    uint8_t s[SCSI_SENSE_LEN] = { 0 };
    unsigned n;

    if (descriptor) {
        s[0] = 0x72;            /* current, descriptor format */
        s[1] = sense.key;
        s[2] = sense.asc;
        s[3] = sense.ascq;
        n = 8;
    } else {
        s[0] = 0x70;            /* current, fixed format */
        s[2] = sense.key;
        s[7] = 10;              /* additional sense length */
        s[12] = sense.asc;
        s[13] = sense.ascq;
        n = SCSI_SENSE_LEN;
    }
    n = MIN(n, len);
    memcpy(buf, s, n);
    return n;
}

void scsi_req_data_in(SCSIRequest *req, const void *buf, size_t len)
{
    size_t n = MIN(len, MIN(req->xfer, req->iov_size)), done = 0;

    for (unsigned i = 0; i < req->niov && done < n; i++) {
        size_t l = MIN(req->iov[i].iov_len, n - done);
        memcpy(req->iov[i].iov_base, (const uint8_t *)buf + done, l);
        done += l;
    }
    req->transferred = done;
}

size_t scsi_req_data_out(SCSIRequest *req, void *buf, size_t len)
{
    size_t n = MIN(len, MIN(req->xfer, req->iov_size)), done = 0;

    for (unsigned i = 0; i < req->niov && done < n; i++) {
        size_t l = MIN(req->iov[i].iov_len, n - done);
        memcpy((uint8_t *)buf + done, req->iov[i].iov_base, l);
        done += l;
    }
    req->transferred = done;
    return done;
}

void scsi_req_complete(SCSIRequest *req, uint8_t status)
{
    req->status = status;
    if (req->enqueued && req->dev) {
        g_queue_remove(&req->dev->requests, req);
    }
    req->bus->ops->complete(req);
    scsi_req_free(req);
}

void scsi_req_check_condition(SCSIRequest *req, SCSISense sense)
{
    req->sense_len = scsi_build_sense(req->sense, sizeof(req->sense), sense, false);
    req->transferred = 0;
    scsi_req_complete(req, SCSI_STATUS_CHECK_CONDITION);
}

/* ---- what the target answers --------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

/* SPC-4 6.33: LUN 0 always, then the units of this target (single level,
 * flat space addressing above 255), and the well-known LUN for SELECT
 * REPORT 1 and 2. */
static void scsi_target_report_luns(SCSIRequest *req, SCSIDevice *any)
{
    GArray *luns = g_array_new(false, false, sizeof(uint32_t));
    uint32_t zero = 0;
    uint8_t *buf;
    size_t len;

    if (req->cdb[2] > 2 || req->xfer < 16) {
        g_array_free(luns, true);
        scsi_req_check_condition(req, SENSE_INVALID_FIELD);
        return;
    }
    if (req->cdb[2] != 1) {
        g_array_append_val(luns, zero);
        for (guint i = 0; any && i < req->bus->qbus->children->len; i++) {
            SCSIDevice *d = scsi_bus_child(req->bus, i);
            if (d && d->channel == any->channel && d->id == any->id && d->lun) {
                g_array_append_val(luns, d->lun);
            }
        }
        g_array_sort(luns, cmp_u32);
    }
    len = 8 + 8 * (luns->len + (req->cdb[2] ? 1 : 0));
    buf = g_malloc0(len);
    scsi_put32(buf, len - 8);
    for (guint i = 0; i < luns->len; i++) {
        uint32_t l = g_array_index(luns, uint32_t, i);
        uint8_t *e = buf + 8 + 8 * i;
        if (l < 256) {
            e[1] = l;
        } else {
            e[0] = 0x40 | (l >> 8);
            e[1] = l & 0xff;
        }
    }
    if (req->cdb[2]) {
        scsi_put16(buf + len - 8, SCSI_WLUN_REPORT_LUNS);
    }
    scsi_req_data_in(req, buf, len);
    g_free(buf);
    g_array_free(luns, true);
    scsi_req_complete(req, SCSI_STATUS_GOOD);
}

/* INQUIRY of a LUN with no unit (peripheral qualifier 3) or of the REPORT
 * LUNS well-known LUN. */
static void scsi_target_inquiry(SCSIRequest *req, bool wlun)
{
    uint8_t buf[36] = { 0 };
    uint8_t type = wlun ? SCSI_TYPE_WLUN : SCSI_TYPE_NOT_PRESENT | SCSI_TYPE_INACTIVE;

    if (req->cdb[1] & 1) {
        if (req->cdb[2] != 0) {
            scsi_req_check_condition(req, SENSE_INVALID_FIELD);
            return;
        }
        buf[0] = type;
        buf[3] = 1;             /* page length: supported pages = { 0x00 } */
        scsi_req_data_in(req, buf, 5);
    } else {
        if (req->cdb[2] != 0) {
            scsi_req_check_condition(req, SENSE_INVALID_FIELD);
            return;
        }
        buf[0] = type;
        buf[2] = 5;             /* SPC-3 */
        buf[3] = 2 | 0x10;      /* response data format 2, HiSup */
        buf[4] = sizeof(buf) - 5;
        buf[7] = 0x10 | 0x02;   /* Sync, CmdQue */
        memcpy(buf + 8, "QEMU    ", 8);
        memcpy(buf + 16, "QEMU TARGET     ", 16);
        memcpy(buf + 32, "2.5+", 4);
        scsi_req_data_in(req, buf, sizeof(buf));
    }
    scsi_req_complete(req, SCSI_STATUS_GOOD);
}

static void scsi_target_request_sense(SCSIRequest *req, SCSISense sense)
{
    uint8_t buf[SCSI_SENSE_LEN];
    unsigned n = scsi_build_sense(buf, sizeof(buf), sense, req->cdb[1] & 1);

    scsi_req_data_in(req, buf, n);
    scsi_req_complete(req, SCSI_STATUS_GOOD);
}

/* A command for a LUN without a unit, or the well-known LUN. */
static void scsi_target_command(SCSIRequest *req)
{
    bool wlun = req->lun == SCSI_WLUN_REPORT_LUNS;
    SCSIDevice *any = NULL;

    for (guint i = 0; i < req->bus->qbus->children->len && !any; i++) {
        any = scsi_bus_child(req->bus, i);
    }
    switch (req->cdb[0]) {
    case INQUIRY:
        scsi_target_inquiry(req, wlun);
        return;
    case REQUEST_SENSE:
        scsi_target_request_sense(req, wlun || req->lun == 0 ? SENSE_NO_SENSE
                                                             : SENSE_LUN_NOT_SUPPORTED);
        return;
    }
    if (!wlun && req->lun != 0) {
        scsi_req_check_condition(req, SENSE_LUN_NOT_SUPPORTED);
        return;
    }
    switch (req->cdb[0]) {
    case REPORT_LUNS:
        scsi_target_report_luns(req, any);
        return;
    case TEST_UNIT_READY:
        scsi_req_complete(req, SCSI_STATUS_GOOD);
        return;
    default:
        scsi_req_check_condition(req, wlun ? SENSE_INVALID_OPCODE : SENSE_LUN_NOT_SUPPORTED);
        return;
    }
}

static bool scsi_cmd_skips_ua(uint8_t op)
{
    return op == INQUIRY || op == REPORT_LUNS || op == GET_CONFIGURATION ||
           op == GET_EVENT_STATUS_NOTIFICATION;
}

void scsi_req_enqueue(SCSIRequest *req)
{
    SCSIDevice *dev = req->dev;

    if (req->cdb_bad) {
        scsi_req_check_condition(req, SENSE_INVALID_OPCODE);
        return;
    }
    if (!dev) {
        scsi_target_command(req);
        return;
    }
    req->enqueued = true;
    g_queue_push_tail(&dev->requests, req);
    if (req->cdb[0] == REPORT_LUNS) {
        scsi_target_report_luns(req, dev);
        return;
    }
    if (dev->unit_attention.key && !scsi_cmd_skips_ua(req->cdb[0])) {
        SCSISense ua = dev->unit_attention;

        dev->unit_attention = SENSE_NO_SENSE;
        if (req->cdb[0] == REQUEST_SENSE) {
            scsi_target_request_sense(req, ua);
        } else {
            scsi_req_check_condition(req, ua);
        }
        return;
    }
    if (req->cdb[0] == REQUEST_SENSE) {
        /* Autosense delivered everything else already. */
        scsi_target_request_sense(req, SENSE_NO_SENSE);
        return;
    }
    dev->ops->execute(req);
}

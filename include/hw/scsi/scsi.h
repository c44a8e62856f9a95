/*
 * The SCSI bus: host bus adapters (virtio-scsi-pci) own a SCSIBus; logical
 * units (scsi-hd, scsi-cd) plug into it at (channel, scsi-id, lun).  A
 * command travels as a SCSIRequest: the HBA creates it from a CDB
 * (scsi_req_new parses the transfer length and direction), checks that its
 * buffers fit, hands over its data buffers and enqueues it; the bus answers
 * what concerns the target (REPORT LUNS, a LUN that does not exist, a
 * pending UNIT ATTENTION) and passes the rest to the unit.  The unit calls
 * scsi_req_complete() -- at once or from a block-layer callback -- which
 * calls the HBA's complete() and frees the request.
 *
 * Sense data follow SPC-4 (fixed format 0x70, or descriptor format 0x72
 * when REQUEST SENSE asks for it); autosense: a CHECK CONDITION carries its
 * sense in the request.
 */
#ifndef KVMPC_HW_SCSI_SCSI_H
#define KVMPC_HW_SCSI_SCSI_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <glib.h>
#include "hw/qdev.h"

/* Status (SAM-5 5.3.1). */
#define SCSI_STATUS_GOOD                0x00
#define SCSI_STATUS_CHECK_CONDITION     0x02
#define SCSI_STATUS_BUSY                0x08
#define SCSI_STATUS_TASK_ABORTED        0x40

/* Sense keys (SPC-4 4.5.6). */
#define SENSE_KEY_NO_SENSE              0x0
#define SENSE_KEY_NOT_READY             0x2
#define SENSE_KEY_MEDIUM_ERROR          0x3
#define SENSE_KEY_HARDWARE_ERROR        0x4
#define SENSE_KEY_ILLEGAL_REQUEST       0x5
#define SENSE_KEY_UNIT_ATTENTION        0x6
#define SENSE_KEY_DATA_PROTECT          0x7
#define SENSE_KEY_ABORTED_COMMAND       0xb

/* Peripheral device types. */
#define SCSI_TYPE_DISK                  0x00
#define SCSI_TYPE_ROM                   0x05
#define SCSI_TYPE_WLUN                  0x1e
#define SCSI_TYPE_NOT_PRESENT           0x1f
#define SCSI_TYPE_INACTIVE              0x60    /* peripheral qualifier 3 */

#define SCSI_CDB_MAX                    16
#define SCSI_SENSE_LEN                  18      /* fixed format, what we build */
#define SCSI_WLUN_REPORT_LUNS           0xc101  /* SAM-5 well-known LUN */

/* Opcodes (SPC-4, SBC-3, MMC-6). */
#define TEST_UNIT_READY                 0x00
#define REQUEST_SENSE                   0x03
#define READ_6                          0x08
#define WRITE_6                         0x0a
#define INQUIRY                         0x12
#define MODE_SELECT_6                   0x15
#define MODE_SENSE_6                    0x1a
#define START_STOP_UNIT                 0x1b
#define SEND_DIAGNOSTIC                 0x1d
#define PREVENT_ALLOW_MEDIUM_REMOVAL    0x1e
#define READ_CAPACITY_10                0x25
#define READ_10                         0x28
#define WRITE_10                        0x2a
#define SEEK_10                         0x2b
#define WRITE_VERIFY_10                 0x2e
#define VERIFY_10                       0x2f
#define SYNCHRONIZE_CACHE_10            0x35
#define WRITE_SAME_10                   0x41
#define UNMAP                           0x42
#define READ_TOC                        0x43
#define GET_CONFIGURATION               0x46
#define GET_EVENT_STATUS_NOTIFICATION   0x4a
#define READ_DISC_INFORMATION           0x51
#define MODE_SELECT_10                  0x55
#define MODE_SENSE_10                   0x5a
#define READ_16                         0x88
#define WRITE_16                        0x8a
#define WRITE_VERIFY_16                 0x8e
#define VERIFY_16                       0x8f
#define SYNCHRONIZE_CACHE_16            0x91
#define WRITE_SAME_16                   0x93
#define SERVICE_ACTION_IN_16            0x9e
#define SAI_READ_CAPACITY_16            0x10
#define REPORT_LUNS                     0xa0
#define READ_12                         0xa8
#define WRITE_12                        0xaa
#define WRITE_VERIFY_12                 0xae
#define VERIFY_12                       0xaf

typedef struct SCSISense {
    uint8_t key, asc, ascq;
} SCSISense;

#define SCSI_SENSE(k, a, q)             ((SCSISense){ (k), (a), (q) })
#define SENSE_NO_SENSE                  SCSI_SENSE(0x0, 0x00, 0x00)
#define SENSE_NO_MEDIUM                 SCSI_SENSE(0x2, 0x3a, 0x00)
#define SENSE_NO_MEDIUM_TRAY_OPEN       SCSI_SENSE(0x2, 0x3a, 0x02)
#define SENSE_IO_ERROR                  SCSI_SENSE(0xb, 0x00, 0x06)
#define SENSE_TARGET_FAILURE            SCSI_SENSE(0x4, 0x44, 0x00)
#define SENSE_INVALID_OPCODE            SCSI_SENSE(0x5, 0x20, 0x00)
#define SENSE_LBA_OUT_OF_RANGE          SCSI_SENSE(0x5, 0x21, 0x00)
#define SENSE_INVALID_FIELD             SCSI_SENSE(0x5, 0x24, 0x00)
#define SENSE_INVALID_PARAM             SCSI_SENSE(0x5, 0x26, 0x00)
#define SENSE_INVALID_PARAM_LEN         SCSI_SENSE(0x5, 0x1a, 0x00)
#define SENSE_LUN_NOT_SUPPORTED         SCSI_SENSE(0x5, 0x25, 0x00)
#define SENSE_SAVING_PARAMS_NOT_SUPPORTED SCSI_SENSE(0x5, 0x39, 0x00)
#define SENSE_INCOMPATIBLE_FORMAT       SCSI_SENSE(0x5, 0x30, 0x00)
#define SENSE_REMOVAL_PREVENTED         SCSI_SENSE(0x5, 0x53, 0x02)
#define SENSE_UA_RESET                  SCSI_SENSE(0x6, 0x29, 0x00)
#define SENSE_UA_MEDIUM_CHANGED         SCSI_SENSE(0x6, 0x28, 0x00)
#define SENSE_UA_NO_MEDIUM              SCSI_SENSE(0x6, 0x3a, 0x00)
#define SENSE_UA_CAPACITY_CHANGED       SCSI_SENSE(0x6, 0x2a, 0x09)
#define SENSE_WRITE_PROTECTED           SCSI_SENSE(0x7, 0x27, 0x00)

typedef enum SCSIXferMode {
    SCSI_XFER_NONE,
    SCSI_XFER_FROM_DEV,         /* data-in: device to initiator */
    SCSI_XFER_TO_DEV,           /* data-out */
} SCSIXferMode;

typedef struct SCSIBus SCSIBus;
typedef struct SCSIDevice SCSIDevice;
typedef struct SCSIRequest SCSIRequest;

struct SCSIRequest {
    SCSIBus *bus;
    SCSIDevice *dev;            /* the unit addressed, NULL: answered by the target */
    uint32_t lun;
    uint64_t tag;
    uint8_t cdb[SCSI_CDB_MAX];
    unsigned cdb_len;           /* from the opcode's group */
    bool cdb_bad;               /* reserved group or CDB shorter than its group */
    SCSIXferMode mode;
    uint64_t xfer;              /* bytes the CDB moves (allocation/transfer length) */
    /* The HBA's data buffers (data-in or data-out). */
    struct iovec *iov;
    unsigned niov;
    size_t iov_size;
    size_t transferred;         /* bytes moved to/from iov */
    uint8_t status;
    uint8_t sense[SCSI_SENSE_LEN];
    unsigned sense_len;
    bool cancelled;             /* the HBA aborted it; it completes, but aborted */
    bool enqueued;
    void *hba_private;
    /* The unit's working state of a block-layer command. */
    uint64_t lba;
    uint32_t nblocks;
    uint32_t pending;           /* block-layer calls in flight */
    int error;                  /* first failure of them (-errno) */
    uint8_t *bounce;
    struct iovec *dma_iov;
    unsigned dma_niov;
};

typedef struct SCSIBusOps {
    /* req finished: status, sense and transferred are set (or cancelled).
     * The bus frees req when this returns. */
    void (*complete)(SCSIRequest *req);
    /* The firmware path of a unit, for bootindex (g_free it); NULL: none. */
    char *(*fw_path)(SCSIBus *bus, SCSIDevice *dev);
} SCSIBusOps;

struct SCSIBus {
    BusState *qbus;
    DeviceState *owner;         /* the HBA */
    const SCSIBusOps *ops;
    uint32_t max_channel, max_target, max_lun;
    SCSISense unit_attention;   /* bus-wide (none yet; kept for REPORTED LUNS CHANGED) */
};

typedef struct SCSIDeviceOps {
    /* Execute req (the bus has dealt with UNIT ATTENTION and the target's
     * commands); end with scsi_req_complete(), now or later. */
    void (*execute)(SCSIRequest *req);
    /* A request in flight was cancelled (its block calls keep running). */
    void (*cancel)(SCSIRequest *req);
} SCSIDeviceOps;

struct SCSIDevice {
    DeviceState qdev;           /* first */
    SCSIBus *bus;
    const SCSIDeviceOps *ops;
    uint8_t type;               /* SCSI_TYPE_DISK or _ROM */
    uint32_t blocksize;         /* logical block size in bytes */
    uint32_t channel, id, lun;  /* properties: channel=, scsi-id=, lun= */
    int32_t bootindex;          /* property bootindex= */
    SCSISense unit_attention;   /* reported by the next command but INQUIRY... */
    GQueue requests;            /* SCSIRequest * in flight */
};

/* ---- HBA side ------------------------------------------------------------ */

void scsi_bus_init(SCSIBus *bus, DeviceState *owner, const char *name, const SCSIBusOps *ops,
                   uint32_t max_channel, uint32_t max_target, uint32_t max_lun);
void scsi_bus_exit(SCSIBus *bus);
SCSIBus *scsi_bus_from_qbus(BusState *qbus);
/* Any unit at (channel, id): whether the target exists. */
SCSIDevice *scsi_bus_find_target(SCSIBus *bus, uint32_t channel, uint32_t id);
SCSIDevice *scsi_bus_find_lun(SCSIBus *bus, uint32_t channel, uint32_t id, uint32_t lun);
/* Reset every unit (cancels their requests, UNIT ATTENTION 29/00). */
void scsi_bus_reset(SCSIBus *bus);

/* A request for (channel, id, lun); the target must exist.  cdb_max is
 * what the HBA read of the CDB. */
SCSIRequest *scsi_req_new(SCSIBus *bus, uint32_t channel, uint32_t id, uint32_t lun,
                          uint64_t tag, const uint8_t *cdb, unsigned cdb_max, void *hba_private);
void scsi_req_set_buffers(SCSIRequest *req, struct iovec *iov, unsigned niov);
/* Execute; the HBA's complete() may run before this returns. */
void scsi_req_enqueue(SCSIRequest *req);
/* Free a request that was never enqueued. */
void scsi_req_free(SCSIRequest *req);
/* Mark an enqueued request aborted; it completes when its I/O is done. */
void scsi_req_cancel(SCSIRequest *req);
SCSIRequest *scsi_device_find_req(SCSIDevice *dev, uint64_t tag);
/* Cancel every request of dev and set UNIT ATTENTION 29/00. */
void scsi_device_reset(SCSIDevice *dev);

/* ---- unit side ------------------------------------------------------------ */

/* Realize the common part: the bus, scsi-id/lun (picked when not given),
 * ranges and duplicates. */
bool scsi_device_realize_common(SCSIDevice *dev, Error **errp);
void scsi_device_set_ua(SCSIDevice *dev, SCSISense sense);
/* Copy up to len bytes of buf into the data-in buffers (and no more than
 * the CDB's allocation length); sets transferred. */
void scsi_req_data_in(SCSIRequest *req, const void *buf, size_t len);
/* Copy the data-out buffers (at most len bytes) to buf; returns the count. */
size_t scsi_req_data_out(SCSIRequest *req, void *buf, size_t len);
void scsi_req_complete(SCSIRequest *req, uint8_t status);
void scsi_req_check_condition(SCSIRequest *req, SCSISense sense);
/* Fixed (or descriptor) format sense of `sense` into buf: length. */
unsigned scsi_build_sense(uint8_t *buf, unsigned len, SCSISense sense, bool descriptor);

static inline uint16_t scsi_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t scsi_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t scsi_be64(const uint8_t *p)
{
    return (uint64_t)scsi_be32(p) << 32 | scsi_be32(p + 4);
}
static inline void scsi_put16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v;
}
static inline void scsi_put32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}
static inline void scsi_put64(uint8_t *p, uint64_t v)
{
    scsi_put32(p, v >> 32);
    scsi_put32(p + 4, (uint32_t)v);
}

#endif

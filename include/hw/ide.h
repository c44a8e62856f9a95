/*
 * IDE: ATA disks and ATAPI CD-ROMs on two-drive channels (docs/ide.md).
 *
 * hw/ide/core.c is the drive side: the task-file registers, the ATA
 * command set, PIO transfers and the part of DMA that moves sectors
 * between the disk and the guest's buffers (mapped for zero-copy, or
 * through a bounce buffer).  hw/ide/atapi.c is the ATAPI
 * (MMC) packet command set of a CD-ROM.  hw/ide/piix.c is the PIIX3 IDE
 * PCI function: the legacy ports of both channels and the bus-master DMA
 * engine that scatters a buffer over a PRD table in guest memory.
 *
 * Every disk request is asynchronous (block layer); while one is in flight
 * the drive shows BSY.  A request carries the drive's generation: a reset
 * while it is in flight bumps the generation and its completion is dropped.
 */
#ifndef KVMPC_HW_IDE_H
#define KVMPC_HW_IDE_H

#include <stdbool.h>
#include <stdint.h>
#include "hw/qdev.h"
#include "hw/memory.h"
#include "hw/dma/dma-sg.h"
#include "block/block.h"

/* Status register (ATA/ATAPI-6 7.15.6). */
#define IDE_STAT_ERR    0x01
#define IDE_STAT_DRQ    0x08
#define IDE_STAT_DSC    0x10    /* seek complete */
#define IDE_STAT_DF     0x20
#define IDE_STAT_DRDY   0x40
#define IDE_STAT_BSY    0x80

/* Error register. */
#define IDE_ERR_AMNF    0x01
#define IDE_ERR_ABRT    0x04
#define IDE_ERR_IDNF    0x10
#define IDE_ERR_UNC     0x40

/* Device control register (0x3f6). */
#define IDE_CTRL_NIEN   0x02
#define IDE_CTRL_SRST   0x04
#define IDE_CTRL_HOB    0x80

/* Device/head register. */
#define IDE_SEL_DEV     0x10
#define IDE_SEL_LBA     0x40

/* ATAPI interrupt reason (in the sector count register). */
#define ATAPI_INT_REASON_CD 0x01
#define ATAPI_INT_REASON_IO 0x02

#define IDE_MAX_MULT_SECTORS 16
#define IDE_BUF_SECTORS 256                     /* largest ATA PIO block set */
#define IDE_BUF_SIZE    (IDE_BUF_SECTORS * 512)
#define IDE_DMA_CHUNK_SECTORS 128               /* 64 KiB per disk request */
#define ATAPI_SECTOR_SIZE 2048
#define ATAPI_PACKET_SIZE 12

typedef enum IDEDriveKind {
    IDE_NONE = 0,
    IDE_HD,
    IDE_CD,
} IDEDriveKind;

/* What the end of a PIO data block means. */
typedef enum IDEXfer {
    IDE_XFER_NONE = 0,
    IDE_XFER_ATA_READ,      /* sectors to the host; next block or done */
    IDE_XFER_ATA_WRITE,     /* sectors from the host: write them */
    IDE_XFER_IDENTIFY,      /* a one-block reply (IDENTIFY) */
    IDE_XFER_PACKET,        /* the 12-byte ATAPI command packet */
    IDE_XFER_ATAPI_DATA,    /* ATAPI data to the host */
} IDEXfer;

/* A DMA transfer the drive has set up (waits for the bus master). */
typedef enum IDEDmaCmd {
    IDE_DMA_NONE = 0,
    IDE_DMA_READ,           /* disk -> memory (ATA READ DMA, ATAPI READ) */
    IDE_DMA_WRITE,          /* memory -> disk */
    IDE_DMA_BUFFER,         /* io_buffer -> memory (ATAPI replies by DMA) */
} IDEDmaCmd;

typedef struct IDEBus IDEBus;

typedef struct IDEState {
    IDEBus *bus;
    int unit;
    IDEDriveKind kind;
    BlockBackend *blk;
    uint64_t nb_sectors;            /* 512-byte sectors */
    uint32_t cylinders, heads, sectors;
    char serial[21], model[41], version[9];
    uint32_t generation;            /* bumped by resets: stale completions drop */
    bool io_in_flight;

    /* task file */
    uint8_t feature, error, nsector, sector, lcyl, hcyl, select, status;
    uint8_t hob_feature, hob_nsector, hob_sector, hob_lcyl, hob_hcyl;
    uint8_t cmd;
    bool lba48;
    uint8_t mult_sectors;
    bool write_cache;
    uint8_t xfer_mode;              /* SET FEATURES 03h: class << 3 | mode */

    /* PIO */
    uint8_t xfer;                   /* IDEXfer */
    uint32_t data_ptr, data_end;    /* in io_buffer */
    uint64_t sector_pos;            /* next sector of the command */
    uint32_t sectors_left;
    uint32_t block_sectors;         /* of the block in io_buffer */
    uint32_t req_block;             /* sectors per DRQ block (1 or multiple) */
    /* PIO read-ahead: the sectors after the current block of the running
     * READ (SECTORS|MULTIPLE)[ EXT], read by one request; not migrated
     * (a restored drive reads the next block again) */
    uint64_t ahead_lba;             /* the first sector still in ahead_buf */
    uint32_t ahead_left, ahead_off; /* sectors there, and where they start */
    uint32_t ahead_gen;             /* the generation that read them */

    /* DMA */
    uint8_t dma_cmd;                /* IDEDmaCmd */
    uint32_t dma_buf_len;           /* IDE_DMA_BUFFER: bytes in io_buffer */

    /* ATAPI */
    uint8_t sense_key, asc, ascq;
    bool tray_open, tray_locked;
    bool media_changed_event;       /* for GET EVENT STATUS NOTIFICATION */
    bool media_event_eject;
    uint32_t atapi_buf_pos, atapi_buf_len;
    uint32_t atapi_bcl;             /* byte count limit of the PACKET command */
    uint32_t cd_lba, cd_left;       /* READ: next 2048-byte sector, count left */

    uint8_t io_buffer[IDE_BUF_SIZE + 4];
    uint8_t ahead_buf[IDE_BUF_SIZE];
} IDEState;

typedef struct BMDMAState {
    uint8_t cmd, status;
    uint32_t addr;                  /* PRD table */
    uint32_t cur_prd;               /* next PRD entry to fetch */
    uint32_t cur_addr, cur_len;     /* what is left of the current entry */
    bool eot;                       /* the current entry was the last one */
} BMDMAState;

#define BM_CMD_START    0x01
#define BM_CMD_WRITE    0x08    /* bus master writes to memory */
#define BM_STATUS_ACTIVE 0x01
#define BM_STATUS_ERROR 0x02
#define BM_STATUS_INT   0x04
#define BM_STATUS_DRV0  0x20
#define BM_STATUS_DRV1  0x40

struct IDEBus {
    DeviceState *owner;             /* the controller */
    BusState *qbus;                 /* "ide.N": where -device ide-hd/ide-cd plug */
    int index;                      /* channel 0/1 */
    IDEState ifs[2];
    uint8_t unit;                   /* the selected drive */
    uint8_t ctrl;                   /* device control */
    bool irq_pending;
    qemu_irq irq;
    BMDMAState bm;
    /* DMA into guest memory (set by the controller): copies len bytes
     * between buf and the PRD table's buffers.  Returns the bytes moved
     * (< len: the table ended), or -1 if a PRD or a buffer lies outside
     * guest RAM or the function may not master the bus. */
    int64_t (*dma_rw)(IDEBus *bus, uint8_t *buf, uint32_t len, bool to_mem);
    /* Zero-copy DMA (optional): maps the table's next len bytes of buffers
     * into sg (which it initialises) and moves past them.  false, with the
     * table position unchanged, unless exactly len bytes of guest RAM were
     * mapped: the drive then copies through dma_rw, which reports faults
     * and short tables. */
    bool (*dma_map)(IDEBus *bus, DMASGList *sg, uint32_t len);
    MemoryRegion cmd_io, ctrl_io;
};

/* core.c */
void ide_bus_init(IDEBus *bus, DeviceState *owner, int index);
IDEBus *ide_bus_from_qbus(BusState *qbus);
bool ide_drive_attach(IDEBus *bus, int unit, BlockBackend *blk, IDEDriveKind kind,
                      const char *dev_id, Error **errp);
void ide_bus_reset(IDEBus *bus);
extern const MemoryRegionOps ide_cmd_ops, ide_ctrl_ops;
void ide_set_irq(IDEBus *bus);
void ide_bus_update_irq(IDEBus *bus);
IDEState *ide_bus_active(IDEBus *bus);
/* The bus master's start bit went 0 -> 1 (start) or 1 -> 0 (stop). */
void ide_dma_start(IDEBus *bus);
void ide_dma_cancel(IDEBus *bus);
/* Called when a DMA command is set up and by the bus master. */
void ide_dma_begin(IDEState *s, IDEDmaCmd cmd);
void ide_abort_command(IDEState *s);
void ide_transfer_start(IDEState *s, uint32_t len, IDEXfer xfer);
void ide_set_signature(IDEState *s);
void ide_cd_read(IDEState *s, uint32_t lba, uint32_t n);
extern const VMStateDescription vmstate_ide_bus;

/* atapi.c */
void ide_atapi_identify(IDEState *s);
void ide_atapi_packet(IDEState *s);
void ide_atapi_data_done(IDEState *s);
void ide_atapi_read_done(IDEState *s, int ret);
void ide_atapi_dma_done(IDEState *s, bool ok);
void ide_atapi_error(IDEState *s, uint8_t sense_key, uint8_t asc);
extern const BlockDevOps ide_cd_block_ops;

#endif

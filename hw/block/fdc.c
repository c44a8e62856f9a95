/*
 * PC floppy disk controller ("isa-fdc"): an Intel 82078 (82077AA
 * compatible) in PC-AT mode with two 3.5" drives, as QEMU's pc has it.
 *
 * "PORT 03F0-03F7 - FDC 1 (1st Floppy Disk Controller)"
 *   0x3f0  SRA   status register A (read; PS/2 mode: interrupt pending)
 *   0x3f1  SRB   status register B (read)
 *   0x3f2  DOR   digital output: bits 1-0 drive select, 2 !RESET,
 *                3 DMA and IRQ gate, 7-4 motor enables
 *   0x3f3  TDR   tape drive register
 *   0x3f4  MSR   main status (read): 7 RQM, 6 DIO (to host), 5 NON-DMA
 *                execution, 4 command busy, 3-0 drive seeking
 *          DSR   data rate select (write): 7 software reset, 1-0 rate
 *   0x3f5  FIFO  command bytes in, result bytes out (and data in non-DMA)
 *   0x3f6  -     not ours: the IDE device control register
 *   0x3f7  DIR   digital input (read): 7 DSKCHG;  CCR (write): data rate
 *
 * A command goes through three phases: command bytes written to the FIFO,
 * execution (a sector transfer through DMA channel 2, or through the FIFO
 * when SPECIFY asked for non-DMA), result bytes read from the FIFO.  Seeks
 * and transfers end with IRQ 6 (when DOR bit 3 allows it).  Results carry
 * ST0-ST3 as the datasheet (and QEMU) encode them.
 *
 * Sectors are 512 bytes; a drive's geometry comes from its image size as
 * QEMU guesses it (1.44M, 2.88M, 720K, 1.2M, 360K).  Disk I/O goes through
 * the block layer asynchronously: a read fetches the sectors from the
 * command's sector to the end of the track (both heads with MT) and then
 * hands them to DMA; a write collects them from DMA then writes.  A reset
 * while a request is in flight bumps the generation so that its completion
 * is dropped.  Nothing is timed: seeks and transfers finish as soon as the
 * data is there.
 */
#include <string.h>
#include <errno.h>
#include <glib.h>

#include "hw/qdev.h"
#include "hw/isa/isa.h"
#include "hw/memory.h"
#include "hw/irq.h"
#include "hw/vmstate.h"
#include "hw/platform-desc.h"
#include "hw/acpi/aml.h"
#include "hw/block/fdc.h"
#include "hw/dma/i8257.h"
#include "block/block.h"
#include "block/blockdev.h"
#include "qemu/log.h"

#define FDC_IOBASE      0x3f0
#define FDC_IRQ         6
#define FDC_DMA         2
#define FDC_DRIVES      2
#define FDC_SECTOR      512
#define FDC_MAX_SPT     36
#define FDC_BUF_SIZE    (FDC_MAX_SPT * 2 * FDC_SECTOR)  /* a track on both heads */

/* register offsets */
#define FDC_SRA         0
#define FDC_SRB         1
#define FDC_DOR         2
#define FDC_TDR         3
#define FDC_MSR         4       /* read */
#define FDC_DSR         4       /* write */
#define FDC_FIFO        5
#define FDC_DIR         7       /* read */
#define FDC_CCR         7       /* write */

#define DOR_SEL_MASK    0x03
#define DOR_NRESET      0x04
#define DOR_DMAEN       0x08
#define DOR_MOTEN0      0x10

#define DSR_SWRESET     0x80

#define MSR_RQM         0x80
#define MSR_DIO         0x40
#define MSR_NONDMA      0x20
#define MSR_CMDBUSY     0x10

#define DIR_DSKCHG      0x80
#define SRA_INTPEND     0x80

/* ST0 */
#define ST0_DS_MASK     0x03
#define ST0_HEAD        0x04
#define ST0_EQPMT       0x10
#define ST0_SEEK        0x20
#define ST0_ABNTERM     0x40
#define ST0_INVCMD      0x80
#define ST0_RDYCHG      0xc0
/* ST1 */
#define ST1_MA          0x01
#define ST1_NW          0x02
#define ST1_ND          0x04
#define ST1_DE          0x20
#define ST1_EC          0x80
/* ST3 */
#define ST3_TS          0x08
#define ST3_T0          0x10
#define ST3_RDY         0x20
#define ST3_WP          0x40

/* commands (first byte; the MT, MFM and SK bits masked off) */
#define CMD_READ_TRACK  0x02
#define CMD_SPECIFY     0x03
#define CMD_SENSE_DRIVE 0x04
#define CMD_WRITE       0x05
#define CMD_READ        0x06
#define CMD_RECALIBRATE 0x07
#define CMD_SENSE_INT   0x08
#define CMD_READ_ID     0x0a
#define CMD_FORMAT      0x0d
#define CMD_DUMPREG     0x0e
#define CMD_SEEK        0x0f
#define CMD_VERSION     0x10
#define CMD_PERPENDICULAR 0x12
#define CMD_CONFIGURE   0x13
#define CMD_LOCK        0x14
#define CMD_PART_ID     0x18
#define CMD_MT          0x80

#define FDC_VERSION_82077 0x90
#define FDC_PART_ID     0x41    /* 82078, stepping 1 (as QEMU) */
#define FDC_RESET_SENSEI 4      /* polling mode: one per drive after reset */

typedef enum FDCPhase {
    FDC_PHASE_COMMAND,
    FDC_PHASE_EXECUTION,
    FDC_PHASE_RESULT,
} FDCPhase;

typedef enum FDCXfer {
    FDC_XFER_NONE,
    FDC_XFER_READ,              /* disk -> host */
    FDC_XFER_WRITE,             /* host -> disk */
    FDC_XFER_FORMAT,            /* ID fields from the host, then fill */
} FDCXfer;

typedef struct FDCGeometry {
    uint16_t sectors;           /* total 512-byte sectors of the medium */
    uint8_t spt, tracks, heads, cmos;
} FDCGeometry;

/* What QEMU's pc guesses from an image size (the common PC formats). */
static const FDCGeometry fdc_geometries[] = {
    { 2880, 18, 80, 2, FDC_CMOS_1_44M },
    { 5760, 36, 80, 2, FDC_CMOS_2_88M },
    { 1440,  9, 80, 2, FDC_CMOS_720K },
    { 2400, 15, 80, 2, FDC_CMOS_1_2M },
    {  720,  9, 40, 2, FDC_CMOS_360K },
};

typedef struct FDCDrive {
    BlockBackend *blk;
    bool present;
    bool ro;
    bool media_changed;
    uint8_t track, head, sect;  /* where the head is (sect: last seen) */
    uint8_t spt, tracks, heads, cmos;
} FDCDrive;

typedef struct FDCState {
    DeviceState parent;

    MemoryRegion io, dir_io;
    qemu_irq irq;
    uint32_t generation;
    bool irq_pending;

    uint8_t dor, tdr, dsr, ccr, msr;
    uint8_t phase;              /* FDCPhase */
    uint8_t cur;                /* the selected drive */
    uint8_t status0;            /* ST0 for SENSE INTERRUPT STATUS */
    uint8_t reset_sensei;
    uint8_t specify[2];         /* SRT/HUT, HLT/ND */
    uint8_t config, pretrk, perp;
    bool lock;

    uint8_t fifo[16];           /* command bytes, then result bytes */
    uint8_t cmd_len, pos, result_len;

    /* the data transfer */
    uint8_t xfer;               /* FDCXfer */
    bool in_flight;
    uint8_t xc, xh, xr, xeot;   /* start sector (C, H, R) and EOT */
    bool mt;
    uint32_t data_len, data_pos;
    uint8_t fill;               /* FORMAT filler byte */

    FDCDrive drv[FDC_DRIVES];
    uint8_t buf[FDC_BUF_SIZE];
} FDCState;

typedef struct FDCRequest {
    FDCState *s;
    uint32_t generation;
} FDCRequest;

static int fdc_dma_handler(void *opaque, int nchan, int pos, int len);

static FDCDrive *fdc_drive(FDCState *s)
{
    return s->cur < FDC_DRIVES ? &s->drv[s->cur] : NULL;
}

static bool fdc_has_media(FDCDrive *d)
{
    return d && d->blk && blk_is_inserted(d->blk);
}

static void fdc_set_geometry(FDCDrive *d)
{
    uint64_t n = fdc_has_media(d) ? blk_get_nb_sectors(d->blk) : 0;
    const FDCGeometry *g = &fdc_geometries[0];

    for (size_t i = 0; i < G_N_ELEMENTS(fdc_geometries); i++) {
        if (fdc_geometries[i].sectors == n) {
            g = &fdc_geometries[i];
            break;
        }
    }
    if (g == &fdc_geometries[0] && n > 2880) {
        g = &fdc_geometries[1];     /* bigger than 1.44M: a 2.88M drive */
    }
    d->spt = g->spt;
    d->tracks = g->tracks;
    d->heads = g->heads;
    if (!d->cmos) {
        d->cmos = g->cmos;          /* the drive type stays with the drive */
    }
    d->ro = d->blk && blk_is_read_only(d->blk);
}

static void fdc_raise_irq(FDCState *s)
{
    if (s->dor & DOR_DMAEN) {
        qemu_set_irq(s->irq, 1);
    }
    s->irq_pending = true;
}

static void fdc_lower_irq(FDCState *s)
{
    qemu_set_irq(s->irq, 0);
    s->irq_pending = false;
}

static void fdc_to_command_phase(FDCState *s)
{
    s->phase = FDC_PHASE_COMMAND;
    s->xfer = FDC_XFER_NONE;
    s->pos = 0;
    s->cmd_len = 0;
    s->msr = MSR_RQM;
}

static void fdc_to_result_phase(FDCState *s, int len)
{
    s->phase = FDC_PHASE_RESULT;
    s->result_len = len;
    s->pos = 0;
    s->msr = MSR_RQM | MSR_DIO | MSR_CMDBUSY;
}

static void fdc_reset(FDCState *s, bool raise)
{
    s->generation++;
    s->in_flight = false;
    i8257_dma_release_DREQ(FDC_DMA);
    fdc_lower_irq(s);
    s->dsr = 0x02;
    s->cur = s->dor & DOR_SEL_MASK;
    s->status0 = 0;
    s->reset_sensei = 0;
    if (!s->lock) {
        s->config = 0x20;           /* implied seek off, FIFO on, threshold 0 */
        s->pretrk = 0;
    }
    s->perp = 0;
    fdc_to_command_phase(s);
    for (int i = 0; i < FDC_DRIVES; i++) {
        s->drv[i].head = 0;
        s->drv[i].sect = 1;
    }
    if (raise) {
        s->status0 = ST0_RDYCHG;
        s->reset_sensei = FDC_RESET_SENSEI;
        fdc_raise_irq(s);
    }
}

/* ---- transfers -------------------------------------------------------- */

/* The sector after the transfer's last one: what the result reports. */
static void fdc_end_chs(FDCState *s, FDCDrive *d, uint8_t *c, uint8_t *h, uint8_t *r)
{
    uint32_t n = s->data_pos / FDC_SECTOR;
    uint32_t first = s->xeot - s->xr + 1;       /* sectors on the first head */

    *c = s->xc;
    *h = s->xh;
    *r = s->xr + n;
    if (n < first) {
        return;
    }
    if (s->mt && s->xh == 0 && d->heads > 1) {
        n -= first;
        *h = 1;
        *r = 1 + n;
        if (n < s->xeot) {
            return;
        }
        *h = 0;
    }
    *c = s->xc + 1;
    *r = 1;
}

static void fdc_stop_transfer(FDCState *s, uint8_t st0, uint8_t st1, uint8_t st2)
{
    FDCDrive *d = fdc_drive(s);
    uint8_t c = s->xc, h = s->xh, r = s->xr;

    i8257_dma_release_DREQ(FDC_DMA);
    if (d && !(st0 & ST0_ABNTERM)) {
        fdc_end_chs(s, d, &c, &h, &r);
        d->track = s->xc;
        d->head = h;
        d->sect = r;
    }
    s->status0 = st0 | (s->xh << 2) | s->cur;
    s->fifo[0] = s->status0;
    s->fifo[1] = st1;
    s->fifo[2] = st2;
    s->fifo[3] = c;
    s->fifo[4] = h;
    s->fifo[5] = r;
    s->fifo[6] = 2;             /* N: 512-byte sectors */
    s->xfer = FDC_XFER_NONE;
    fdc_to_result_phase(s, 7);
    fdc_raise_irq(s);
}

/* Data ready for the host (read), or room for it (write/format): DMA
 * channel 2, or the FIFO in non-DMA mode. */
static void fdc_start_data(FDCState *s)
{
    s->data_pos = 0;
    if (s->specify[1] & 1) {
        s->msr = MSR_RQM | MSR_NONDMA | MSR_CMDBUSY | (s->xfer == FDC_XFER_READ ? MSR_DIO : 0);
        fdc_raise_irq(s);
    } else {
        s->msr = MSR_CMDBUSY;
        i8257_dma_hold_DREQ(FDC_DMA);
    }
}

static void fdc_read_cb(void *opaque, int ret)
{
    FDCRequest *r = opaque;
    FDCState *s = r->s;

    if (r->generation != s->generation) {
        g_free(r);
        return;                 /* a reset came in between */
    }
    g_free(r);
    s->in_flight = false;
    if (ret < 0) {
        fdc_stop_transfer(s, ST0_ABNTERM, ST1_DE, 0);
        return;
    }
    fdc_start_data(s);
}

static void fdc_write_cb(void *opaque, int ret)
{
    FDCRequest *r = opaque;
    FDCState *s = r->s;

    if (r->generation != s->generation) {
        g_free(r);
        return;
    }
    g_free(r);
    s->in_flight = false;
    if (ret < 0) {
        fdc_stop_transfer(s, ST0_ABNTERM, ret == -EPERM ? ST1_NW : ST1_DE, 0);
        return;
    }
    fdc_stop_transfer(s, 0, 0, 0);
}

static FDCRequest *fdc_request(FDCState *s)
{
    FDCRequest *r = g_new(FDCRequest, 1);

    r->s = s;
    r->generation = s->generation;
    s->in_flight = true;
    s->msr = MSR_CMDBUSY;
    return r;
}

static int64_t fdc_lba(FDCDrive *d, int c, int h, int r)
{
    return ((int64_t)c * d->heads + h) * d->spt + r - 1;
}

/* The host has given (write) or taken (read) data_pos bytes: finish. */
static void fdc_data_done(FDCState *s)
{
    FDCDrive *d = fdc_drive(s);
    uint32_t nsec = (s->data_pos + FDC_SECTOR - 1) / FDC_SECTOR;

    if (s->xfer == FDC_XFER_READ) {
        fdc_stop_transfer(s, 0, 0, 0);
        return;
    }
    i8257_dma_release_DREQ(FDC_DMA);
    if (s->xfer == FDC_XFER_FORMAT) {
        /* the ID fields are in; the track gets the filler byte */
        nsec = s->data_len / 4;
        s->data_pos = 0;
        memset(s->buf, s->fill, nsec * FDC_SECTOR);
        s->xr = 1;
        s->xeot = nsec;
    } else if (s->data_pos % FDC_SECTOR) {
        memset(s->buf + s->data_pos, 0, nsec * FDC_SECTOR - s->data_pos);
    }
    if (!nsec) {
        fdc_stop_transfer(s, 0, 0, 0);
        return;
    }
    blk_aio_write_sectors(d->blk, fdc_lba(d, s->xc, s->xh, s->xr), s->buf, nsec,
                          fdc_write_cb, fdc_request(s));
    if (s->xfer == FDC_XFER_FORMAT) {
        s->data_pos = nsec * FDC_SECTOR;    /* the result's end sector */
    }
}

static int fdc_dma_handler(void *opaque, int nchan, int pos, int len)
{
    FDCState *s = opaque;
    uint32_t n;

    if (s->phase != FDC_PHASE_EXECUTION || s->in_flight || s->xfer == FDC_XFER_NONE) {
        i8257_dma_release_DREQ(FDC_DMA);
        return pos;
    }
    /* the channel's count ends it (TC) or the track does */
    n = MIN((uint32_t)(len - pos), s->data_len - s->data_pos);
    if (s->xfer == FDC_XFER_READ) {
        i8257_dma_write_memory(nchan, s->buf + s->data_pos, pos, n);
    } else {
        i8257_dma_read_memory(nchan, s->buf + s->data_pos, pos, n);
    }
    s->data_pos += n;
    pos += n;
    if (pos >= len || s->data_pos >= s->data_len) {
        fdc_data_done(s);
    }
    return pos;
}

/* READ DATA / WRITE DATA: cmd, HDS|DS, C, H, R, N, EOT, GPL, DTL */
static void fdc_cmd_rw(FDCState *s, bool write)
{
    FDCDrive *d = fdc_drive(s);
    uint8_t c = s->fifo[2], h = s->fifo[3], r = s->fifo[4], eot = s->fifo[6];
    uint32_t nsec;
    int64_t lba;

    s->xc = c;
    s->xh = h & 1;
    s->xr = r;
    s->xeot = eot;
    s->mt = s->fifo[0] & CMD_MT;
    s->xfer = write ? FDC_XFER_WRITE : FDC_XFER_READ;
    s->data_pos = 0;
    if (!fdc_has_media(d) || c >= d->tracks || h >= d->heads) {
        fdc_stop_transfer(s, ST0_ABNTERM, 0, 0);
        return;
    }
    if (r == 0 || r > d->spt || s->fifo[5] != 2) {
        fdc_stop_transfer(s, ST0_ABNTERM, ST1_EC, 0);
        return;
    }
    if (write && d->ro) {
        fdc_stop_transfer(s, ST0_ABNTERM, ST1_NW, 0);
        return;
    }
    if (eot < r || eot > d->spt) {
        eot = d->spt;
        s->xeot = eot;
    }
    nsec = eot - r + 1;
    if (s->mt && s->xh == 0 && d->heads > 1) {
        nsec += eot;
    }
    lba = fdc_lba(d, c, s->xh, r);
    if (lba + nsec > (int64_t)blk_get_nb_sectors(d->blk)) {
        /* an image shorter than its geometry: what lies beyond is missing */
        if (lba >= (int64_t)blk_get_nb_sectors(d->blk)) {
            fdc_stop_transfer(s, ST0_ABNTERM, ST1_ND, 0);
            return;
        }
        nsec = blk_get_nb_sectors(d->blk) - lba;
    }
    s->data_len = nsec * FDC_SECTOR;
    d->track = c;
    s->phase = FDC_PHASE_EXECUTION;
    if (write) {
        fdc_start_data(s);
    } else {
        blk_aio_read_sectors(d->blk, lba, s->buf, nsec, fdc_read_cb, fdc_request(s));
    }
}

/* FORMAT TRACK: cmd, HDS|DS, N, SC, GPL, D; then SC ID fields (C H R N). */
static void fdc_cmd_format(FDCState *s)
{
    FDCDrive *d = fdc_drive(s);
    uint8_t sc = s->fifo[3];

    s->xc = d ? d->track : 0;
    s->xh = (s->fifo[1] >> 2) & 1;
    s->xr = 1;
    s->xeot = sc;
    s->mt = false;
    s->xfer = FDC_XFER_FORMAT;
    s->fill = s->fifo[5];
    s->data_pos = 0;
    if (!fdc_has_media(d) || s->xc >= d->tracks || s->xh >= d->heads) {
        fdc_stop_transfer(s, ST0_ABNTERM, 0, 0);
        return;
    }
    if (d->ro) {
        fdc_stop_transfer(s, ST0_ABNTERM, ST1_NW, 0);
        return;
    }
    if (s->fifo[2] != 2 || sc == 0 || sc > d->spt ||
        fdc_lba(d, s->xc, s->xh, sc) >= (int64_t)blk_get_nb_sectors(d->blk)) {
        fdc_stop_transfer(s, ST0_ABNTERM, ST1_ND, 0);
        return;
    }
    s->data_len = sc * 4;
    s->phase = FDC_PHASE_EXECUTION;
    fdc_start_data(s);
}

/* ---- commands --------------------------------------------------------- */

typedef struct FDCCommand {
    uint8_t value, mask;
    uint8_t len;                /* bytes including the first */
    void (*handler)(FDCState *s);
} FDCCommand;

static void fdc_select(FDCState *s)
{
    s->cur = s->fifo[1] & DOR_SEL_MASK;
    s->dor = (s->dor & ~DOR_SEL_MASK) | s->cur;
}

static void fdc_do_read(FDCState *s)
{
    fdc_select(s);
    fdc_cmd_rw(s, false);
}

static void fdc_do_write(FDCState *s)
{
    fdc_select(s);
    fdc_cmd_rw(s, true);
}

static void fdc_do_format(FDCState *s)
{
    fdc_select(s);
    fdc_cmd_format(s);
}

static void fdc_do_specify(FDCState *s)
{
    s->specify[0] = s->fifo[1];
    s->specify[1] = s->fifo[2];
    fdc_to_command_phase(s);
}

static void fdc_do_sense_drive(FDCState *s)
{
    FDCDrive *d;

    fdc_select(s);
    d = fdc_drive(s);
    s->fifo[0] = (d && d->ro ? ST3_WP : 0) | (!d || d->track == 0 ? ST3_T0 : 0) |
                 (s->fifo[1] & ST0_HEAD) | s->cur | ST3_RDY | ST3_TS;
    fdc_to_result_phase(s, 1);
}

static void fdc_seek_done(FDCState *s, FDCDrive *d, uint8_t track)
{
    if (d) {
        if (d->track != track && fdc_has_media(d)) {
            d->media_changed = false;   /* a step with a disk in clears DSKCHG */
        }
        d->track = track;
        d->sect = 1;
    }
    s->status0 = ST0_SEEK | s->cur;
    fdc_to_command_phase(s);
    fdc_raise_irq(s);
}

static void fdc_do_recalibrate(FDCState *s)
{
    fdc_select(s);
    /* track 0 first, so that a drive already there still clears DSKCHG */
    if (fdc_drive(s) && fdc_has_media(fdc_drive(s))) {
        fdc_drive(s)->media_changed = false;
    }
    fdc_seek_done(s, fdc_drive(s), 0);
}

static void fdc_do_seek(FDCState *s)
{
    fdc_select(s);
    if (fdc_drive(s)) {
        fdc_drive(s)->head = (s->fifo[1] >> 2) & 1;
    }
    /* as QEMU and the 82078: the controller does not check the cylinder */
    fdc_seek_done(s, fdc_drive(s), s->fifo[2]);
}

static void fdc_do_sense_int(FDCState *s)
{
    FDCDrive *d = fdc_drive(s);

    if (s->reset_sensei) {
        s->fifo[0] = ST0_RDYCHG + FDC_RESET_SENSEI - s->reset_sensei;
        s->reset_sensei--;
    } else if (!s->irq_pending) {
        s->fifo[0] = ST0_INVCMD;
        fdc_to_result_phase(s, 1);
        return;
    } else {
        s->fifo[0] = (s->status0 & ~(ST0_HEAD | ST0_DS_MASK)) | s->cur;
    }
    s->fifo[1] = d ? d->track : 0;
    fdc_to_result_phase(s, 2);
    fdc_lower_irq(s);
    s->status0 = ST0_RDYCHG;
}

static void fdc_do_read_id(FDCState *s)
{
    FDCDrive *d;

    fdc_select(s);
    d = fdc_drive(s);
    s->xc = d ? d->track : 0;
    s->xh = (s->fifo[1] >> 2) & 1;
    s->xr = d ? d->sect : 1;
    s->xeot = s->xr;
    s->mt = false;
    s->data_pos = 0;
    if (!fdc_has_media(d) || s->xh >= d->heads) {
        fdc_stop_transfer(s, ST0_ABNTERM, ST1_MA, 0);
        return;
    }
    if (s->xr == 0 || s->xr > d->spt) {
        s->xr = 1;
    }
    fdc_stop_transfer(s, 0, 0, 0);
    s->fifo[3] = s->xc;         /* the ID field found, not the next one */
    s->fifo[4] = s->xh;
    s->fifo[5] = s->xr;
}

static void fdc_do_version(FDCState *s)
{
    s->fifo[0] = FDC_VERSION_82077;
    fdc_to_result_phase(s, 1);
}

static void fdc_do_part_id(FDCState *s)
{
    s->fifo[0] = FDC_PART_ID;
    fdc_to_result_phase(s, 1);
}

static void fdc_do_configure(FDCState *s)
{
    s->config = s->fifo[2];
    s->pretrk = s->fifo[3];
    fdc_to_command_phase(s);
}

static void fdc_do_lock(FDCState *s)
{
    s->lock = s->fifo[0] & 0x80;
    s->fifo[0] = s->lock << 4;
    fdc_to_result_phase(s, 1);
}

static void fdc_do_perpendicular(FDCState *s)
{
    if (s->fifo[1] & 0x80) {
        s->perp = s->fifo[1] & 0x7f;    /* OW: the drive bits are written */
    } else {
        s->perp = (s->perp & ~0x03) | (s->fifo[1] & 0x03);
    }
    fdc_to_command_phase(s);
}

static void fdc_do_dumpreg(FDCState *s)
{
    FDCDrive *d = fdc_drive(s);

    s->fifo[0] = s->drv[0].track;
    s->fifo[1] = s->drv[1].track;
    s->fifo[2] = 0;
    s->fifo[3] = 0;
    s->fifo[4] = s->specify[0];
    s->fifo[5] = s->specify[1];
    s->fifo[6] = d ? d->spt : 0;
    s->fifo[7] = (s->lock << 7) | (s->perp & 0x7f);
    s->fifo[8] = s->config;
    s->fifo[9] = s->pretrk;
    fdc_to_result_phase(s, 10);
}

static void fdc_do_invalid(FDCState *s)
{
    s->fifo[0] = ST0_INVCMD;
    fdc_to_result_phase(s, 1);
}

static const FDCCommand fdc_commands[] = {
    { CMD_READ, 0x1f, 9, fdc_do_read },
    { CMD_WRITE, 0x3f, 9, fdc_do_write },
    { CMD_READ_ID, 0xbf, 2, fdc_do_read_id },
    { CMD_FORMAT, 0xbf, 6, fdc_do_format },
    { CMD_LOCK, 0x7f, 1, fdc_do_lock },
    { CMD_SPECIFY, 0xff, 3, fdc_do_specify },
    { CMD_SENSE_DRIVE, 0xff, 2, fdc_do_sense_drive },
    { CMD_RECALIBRATE, 0xff, 2, fdc_do_recalibrate },
    { CMD_SENSE_INT, 0xff, 1, fdc_do_sense_int },
    { CMD_SEEK, 0xff, 3, fdc_do_seek },
    { CMD_DUMPREG, 0xff, 1, fdc_do_dumpreg },
    { CMD_VERSION, 0xff, 1, fdc_do_version },
    { CMD_PERPENDICULAR, 0xff, 2, fdc_do_perpendicular },
    { CMD_CONFIGURE, 0xff, 4, fdc_do_configure },
    { CMD_PART_ID, 0xff, 1, fdc_do_part_id },
};

static const FDCCommand fdc_invalid = { 0, 0, 1, fdc_do_invalid };

static const FDCCommand *fdc_lookup(uint8_t b)
{
    for (size_t i = 0; i < G_N_ELEMENTS(fdc_commands); i++) {
        if ((b & fdc_commands[i].mask) == fdc_commands[i].value) {
            return &fdc_commands[i];
        }
    }
    return &fdc_invalid;
}

/* ---- FIFO ------------------------------------------------------------- */

static void fdc_write_fifo(FDCState *s, uint8_t v)
{
    const FDCCommand *cmd;

    if (!(s->dor & DOR_NRESET) || !(s->msr & MSR_RQM) || (s->msr & MSR_DIO)) {
        return;                 /* in reset, busy, or the host should read */
    }
    if (s->phase == FDC_PHASE_EXECUTION) {
        /* non-DMA write or format data */
        if (s->xfer == FDC_XFER_WRITE || s->xfer == FDC_XFER_FORMAT) {
            s->buf[s->data_pos++] = v;
            if (s->data_pos >= s->data_len) {
                fdc_data_done(s);
            }
        }
        return;
    }
    if (s->phase != FDC_PHASE_COMMAND) {
        return;
    }
    if (s->pos == 0) {
        s->msr |= MSR_CMDBUSY;
    }
    s->fifo[s->pos++] = v;
    cmd = fdc_lookup(s->fifo[0]);
    if (s->pos >= cmd->len) {
        s->pos = 0;
        cmd->handler(s);
    }
}

static uint8_t fdc_read_fifo(FDCState *s)
{
    uint8_t v;

    if (!(s->msr & MSR_RQM) || !(s->msr & MSR_DIO)) {
        return 0;
    }
    if (s->phase == FDC_PHASE_EXECUTION) {
        if (s->xfer != FDC_XFER_READ || s->data_pos >= s->data_len) {
            return 0;
        }
        v = s->buf[s->data_pos++];
        if (s->data_pos >= s->data_len) {
            fdc_data_done(s);
        }
        return v;
    }
    if (s->phase != FDC_PHASE_RESULT) {
        return 0;
    }
    v = s->fifo[s->pos++];
    if (s->pos == 1 && s->result_len == 7) {
        fdc_lower_irq(s);       /* reading a transfer's result acknowledges it */
    }
    if (s->pos >= s->result_len) {
        fdc_to_command_phase(s);
    }
    return v;
}

/* ---- registers -------------------------------------------------------- */

static void fdc_write_dor(FDCState *s, uint8_t v)
{
    bool was_reset = !(s->dor & DOR_NRESET);

    s->dor = v;
    s->cur = v & DOR_SEL_MASK;
    if (!(v & DOR_NRESET)) {
        if (!was_reset) {
            fdc_reset(s, false);
        }
        s->msr = 0;
        return;
    }
    if (was_reset) {
        fdc_reset(s, true);     /* leaving reset: IRQ 6 and four sense results */
    } else if (s->irq_pending) {
        qemu_set_irq(s->irq, !!(v & DOR_DMAEN));
    }
}

static uint64_t fdc_read(void *opaque, uint64_t addr, unsigned size)
{
    FDCState *s = opaque;
    FDCDrive *d = fdc_drive(s);

    switch (addr) {
    case FDC_SRA:
        return s->irq_pending ? SRA_INTPEND : 0;
    case FDC_SRB:
        return 0xc0 | (s->dor & 0x30 ? 0x03 : 0) | (s->cur & 1 ? 0x20 : 0);
    case FDC_DOR:
        return s->dor;
    case FDC_TDR:
        return s->tdr;
    case FDC_MSR:
        return s->msr;
    case FDC_FIFO:
        return fdc_read_fifo(s);
    case FDC_DIR:
        return (d && d->present && (d->media_changed || !fdc_has_media(d))) ? DIR_DSKCHG : 0;
    default:
        return 0xff;
    }
}

static void fdc_write(void *opaque, uint64_t addr, uint64_t data, unsigned size)
{
    FDCState *s = opaque;

    switch (addr) {
    case FDC_DOR:
        fdc_write_dor(s, data);
        break;
    case FDC_TDR:
        s->tdr = data & 3;
        break;
    case FDC_DSR:
        s->dsr = data & 0x7f;
        s->ccr = data & 3;
        if (data & DSR_SWRESET && (s->dor & DOR_NRESET)) {
            fdc_reset(s, true);
        }
        break;
    case FDC_FIFO:
        fdc_write_fifo(s, data);
        break;
    case FDC_CCR:
        s->ccr = data & 3;
        s->dsr = (s->dsr & ~3) | (data & 3);
        break;
    }
}

static const MemoryRegionOps fdc_ops = {
    .read = fdc_read,
    .write = fdc_write,
    .valid = { .min_access_size = 1, .max_access_size = 1 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

static uint64_t fdc_dir_read(void *opaque, uint64_t addr, unsigned size)
{
    return fdc_read(opaque, FDC_DIR, size);
}

static void fdc_dir_write(void *opaque, uint64_t addr, uint64_t data, unsigned size)
{
    fdc_write(opaque, FDC_CCR, data, size);
}

static const MemoryRegionOps fdc_dir_ops = {
    .read = fdc_dir_read,
    .write = fdc_dir_write,
    .valid = { .min_access_size = 1, .max_access_size = 1 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

/* ---- media and drives ------------------------------------------------- */

static void fdc_change_media_cb(void *opaque, bool load)
{
    FDCDrive *d = opaque;

    d->media_changed = true;
    if (load) {
        fdc_set_geometry(d);
    }
}

static const BlockDevOps fdc_block_ops = {
    .change_media_cb = fdc_change_media_cb,
};

int fdc_cmos_drive_type(DeviceState *dev, int unit)
{
    FDCState *s = (FDCState *)dev;

    if (!s || unit < 0 || unit >= FDC_DRIVES || !s->drv[unit].present) {
        return FDC_CMOS_NONE;
    }
    return s->drv[unit].cmos;
}

static bool fdc_claim_drives(FDCState *s, Error **errp)
{
    for (int u = 0; u < FDC_DRIVES; u++) {
        DriveInfo *di = drive_get(IF_FLOPPY, 0, u);
        FDCDrive *d = &s->drv[u];

        if (!di) {
            continue;
        }
        if (!blk_attach_dev(di->blk, s, s->parent.canonical_path, errp)) {
            error_prepend(errp, "isa-fdc: %s: ", di->spec ? di->spec : blk_name(di->blk));
            return false;
        }
        d->blk = di->blk;
        d->present = true;
        d->media_changed = true;
        blk_set_removable(d->blk, true);
        blk_set_dev_ops(d->blk, &fdc_block_ops, d);
        fdc_set_geometry(d);
    }
    return true;
}

static void fdc_realize(DeviceState *dev, Error **errp)
{
    FDCState *s = (FDCState *)dev;

    if (!fdc_claim_drives(s, errp)) {
        return;
    }
    memory_region_init_io(&s->io, &fdc_ops, s, "fdc", 6);
    isa_register_ioport(dev, &s->io, FDC_IOBASE);
    memory_region_init_io(&s->dir_io, &fdc_dir_ops, s, "fdc-dir", 1);
    isa_register_ioport(dev, &s->dir_io, FDC_IOBASE + FDC_DIR);
    s->irq = isa_claim_irq(dev, FDC_IRQ, 0);
    if (!i8257_dma_register_channel(FDC_DMA, fdc_dma_handler, s)) {
        qemu_log("isa-fdc: no DMA controller: DMA transfers will not happen\n");
    }
    s->dor = DOR_NRESET | DOR_DMAEN;
    fdc_reset(s, false);
}

static void fdc_unrealize(DeviceState *dev)
{
    FDCState *s = (FDCState *)dev;

    for (int u = 0; u < FDC_DRIVES; u++) {
        if (s->drv[u].blk) {
            blk_drain(s->drv[u].blk);
            blk_set_dev_ops(s->drv[u].blk, NULL, NULL);
            blk_detach_dev(s->drv[u].blk, s);
        }
    }
    i8257_dma_register_channel(FDC_DMA, NULL, NULL);
    memory_region_destroy(&s->io);
    memory_region_destroy(&s->dir_io);
}

static void fdc_device_reset(DeviceState *dev)
{
    FDCState *s = (FDCState *)dev;

    s->dor = DOR_NRESET | DOR_DMAEN;
    s->lock = false;
    for (int u = 0; u < FDC_DRIVES; u++) {
        s->drv[u].track = 0;
    }
    fdc_reset(s, false);
}

/* A request in flight cannot migrate: the destination restarts the
 * command from its result-less state, so we drop it and report an error
 * as a reset would. */
static int fdc_post_load(void *opaque, int version_id)
{
    FDCState *s = opaque;

    /* positions from the stream index fifo[] and buf[]: keep them inside */
    if (s->pos >= sizeof(s->fifo) || s->result_len > sizeof(s->fifo) ||
        s->data_len > FDC_BUF_SIZE || s->data_pos > s->data_len || s->phase > FDC_PHASE_RESULT) {
        return -EINVAL;
    }
    if (s->in_flight) {
        s->in_flight = false;
        fdc_stop_transfer(s, ST0_ABNTERM, ST1_DE, 0);
    } else if (s->phase == FDC_PHASE_EXECUTION && !(s->specify[1] & 1)) {
        i8257_dma_hold_DREQ(FDC_DMA);
    }
    qemu_set_irq(s->irq, s->irq_pending && (s->dor & DOR_DMAEN));
    return 0;
}

static const VMStateField fdc_drive_fields[] = {
    VMSTATE_BOOL(media_changed, FDCDrive),
    VMSTATE_UINT8(track, FDCDrive),
    VMSTATE_UINT8(head, FDCDrive),
    VMSTATE_UINT8(sect, FDCDrive),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_fdc_drive = {
    .name = "isa-fdc/drive",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = fdc_drive_fields,
};

static const VMStateField fdc_fields[] = {
    VMSTATE_BOOL(irq_pending, FDCState),
    VMSTATE_UINT8(dor, FDCState),
    VMSTATE_UINT8(tdr, FDCState),
    VMSTATE_UINT8(dsr, FDCState),
    VMSTATE_UINT8(ccr, FDCState),
    VMSTATE_UINT8(msr, FDCState),
    VMSTATE_UINT8(phase, FDCState),
    VMSTATE_UINT8(cur, FDCState),
    VMSTATE_UINT8(status0, FDCState),
    VMSTATE_UINT8(reset_sensei, FDCState),
    VMSTATE_UINT8_ARRAY(specify, FDCState, 2),
    VMSTATE_UINT8(config, FDCState),
    VMSTATE_UINT8(pretrk, FDCState),
    VMSTATE_UINT8(perp, FDCState),
    VMSTATE_BOOL(lock, FDCState),
    VMSTATE_UINT8_ARRAY(fifo, FDCState, 16),
    VMSTATE_UINT8(cmd_len, FDCState),
    VMSTATE_UINT8(pos, FDCState),
    VMSTATE_UINT8(result_len, FDCState),
    VMSTATE_UINT8(xfer, FDCState),
    VMSTATE_BOOL(in_flight, FDCState),
    VMSTATE_UINT8(xc, FDCState),
    VMSTATE_UINT8(xh, FDCState),
    VMSTATE_UINT8(xr, FDCState),
    VMSTATE_UINT8(xeot, FDCState),
    VMSTATE_BOOL(mt, FDCState),
    VMSTATE_UINT32(data_len, FDCState),
    VMSTATE_UINT32(data_pos, FDCState),
    VMSTATE_UINT8(fill, FDCState),
    VMSTATE_STRUCT_ARRAY(drv, FDCState, FDC_DRIVES, vmstate_fdc_drive, FDCDrive),
    VMSTATE_UINT8_ARRAY(buf, FDCState, FDC_BUF_SIZE),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_fdc = {
    .name = "isa-fdc",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = fdc_post_load,
    .fields = fdc_fields,
};

/* DSDT: FDC0 (PNP0700) with its ports, IRQ 6 and DMA channel 2, _FDE
 * saying which of the four drive positions hold a drive, and a child
 * FLPA/FLPB with _FDI per drive (as QEMU). */
static void fdc_describe(DeviceState *dev, PlatformDesc *pd)
{
    FDCState *s = (FDCState *)dev;
    g_autoptr(GByteArray) node = g_byte_array_new();
    g_autoptr(GByteArray) res = g_byte_array_new();
    g_autoptr(GByteArray) fde = g_byte_array_new();
    /* DMA descriptor: channel 2, compatibility timing, 8-bit, not a bus master */
    static const uint8_t dma_desc[3] = { 0x2a, 1 << FDC_DMA, 0x00 };

    aml_res_io(res, FDC_IOBASE, FDC_IOBASE, 1, 6);
    aml_res_io(res, FDC_IOBASE + FDC_DIR, FDC_IOBASE + FDC_DIR, 1, 1);
    aml_res_irq(res, FDC_IRQ, 0);
    g_byte_array_append(res, dma_desc, sizeof(dma_desc));
    for (int i = 0; i < 5; i++) {
        uint8_t v[4] = { i < FDC_DRIVES && s->drv[i].present ? 1 : 0, 0, 0, 0 };
        if (i == 4) {
            v[0] = 2;           /* tape: "unknown" */
        }
        g_byte_array_append(fde, v, 4);
    }
    aml_name_eisaid(node, "_HID", "PNP0700");
    aml_name_crs(node, res);
    aml_name_buffer(node, "_FDE", fde);
    for (int i = 0; i < FDC_DRIVES; i++) {
        FDCDrive *d = &s->drv[i];
        g_autoptr(GByteArray) drive = g_byte_array_new();
        /* _FDI (ACPI 6.4, 10.10.1): drive, type, max cylinder, max sector,
         * max head, then the BIOS diskette parameter table (INT 1Eh) */
        const uint8_t fdi[16] = {
            i, d->cmos, d->tracks - 1, d->spt, d->heads - 1,
            0xaf, 0x02, 0x25, 0x02, d->spt, 0x1b, 0xff, 0x6c, 0xf6, 0x0f, 0x08,
        };

        if (!d->present) {
            continue;
        }
        aml_name_integer(drive, "_ADR", i);
        aml_name_byte_package(drive, "_FDI", fdi, G_N_ELEMENTS(fdi));
        aml_device(node, i ? "FLPB" : "FLPA", drive);
    }
    aml_device(pd->aml_sb, "FDC0", node);
}

static const DeviceClass fdc_class = {
    .name = FDC_TYPE,
    .desc = "82078 floppy disk controller",
    .bus_type = "ISA",
    .category = DEVICE_CATEGORY_STORAGE,
    .user_creatable = false,
    .instance_size = sizeof(FDCState),
    .vmsd = &vmstate_fdc,
    .realize = fdc_realize,
    .unrealize = fdc_unrealize,
    .reset = fdc_device_reset,
    .describe = fdc_describe,
};

DEVICE_CLASS_REGISTER(fdc_class)

/*
 * IDE channel and ATA drive: the task-file registers and the ATA command
 * set (ATA/ATAPI-6, T13/1410D), PIO data transfers, and the drive's side
 * of DMA.  QEMU's hw/ide/core.c is the behavioural reference.
 *
 * Command block (legacy 0x1f0 / 0x170):
 *   0  data (16/32-bit)
 *   1  error (R)            features (W)
 *   2  sector count         (ATAPI: interrupt reason on reads)
 *   3  sector / LBA 7:0
 *   4  cylinder low / LBA 15:8     (ATAPI: byte count low)
 *   5  cylinder high / LBA 23:16   (ATAPI: byte count high)
 *   6  device/head (DEV bit 4, LBA bit 6, LBA 27:24 / head in 3:0)
 *   7  status (R, clears INTRQ)    command (W)
 * Control block (legacy 0x3f6 / 0x376):
 *   0  alternate status (R)        device control (W): nIEN, SRST, HOB
 *
 * Writes to the task file go to both drives of the channel; each write of
 * a 48-bit register first moves the old value to its "previous" (HOB)
 * copy, read back with the HOB bit of device control set.
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include "hw/ide.h"
#include "block/blockdev.h"
#include "qemu/log.h"

/* ATA commands */
#define WIN_NOP                 0x00
#define WIN_DEVICE_RESET        0x08
#define WIN_RECAL               0x10    /* 0x10-0x1f */
#define WIN_READ                0x20
#define WIN_READ_ONCE           0x21
#define WIN_READ_EXT            0x24
#define WIN_READDMA_EXT         0x25
#define WIN_READ_NATIVE_MAX_EXT 0x27
#define WIN_MULTREAD_EXT        0x29
#define WIN_WRITE               0x30
#define WIN_WRITE_ONCE          0x31
#define WIN_WRITE_EXT           0x34
#define WIN_WRITEDMA_EXT        0x35
#define WIN_MULTWRITE_EXT       0x39
#define WIN_VERIFY              0x40
#define WIN_VERIFY_ONCE         0x41
#define WIN_VERIFY_EXT          0x42
#define WIN_SEEK                0x70    /* 0x70-0x7f */
#define WIN_DIAGNOSE            0x90
#define WIN_SPECIFY             0x91    /* INITIALIZE DEVICE PARAMETERS */
#define WIN_PACKETCMD           0xa0
#define WIN_PIDENTIFY           0xa1
#define WIN_MULTREAD            0xc4
#define WIN_MULTWRITE           0xc5
#define WIN_SETMULT             0xc6
#define WIN_READDMA             0xc8
#define WIN_READDMA_ONCE        0xc9
#define WIN_WRITEDMA            0xca
#define WIN_WRITEDMA_ONCE       0xcb
#define WIN_STANDBYNOW1         0xe0
#define WIN_IDLEIMMEDIATE       0xe1
#define WIN_STANDBY             0xe2
#define WIN_SETIDLE1            0xe3
#define WIN_CHECKPOWERMODE1     0xe5
#define WIN_SLEEPNOW1           0xe6
#define WIN_FLUSH_CACHE         0xe7
#define WIN_FLUSH_CACHE_EXT     0xea
#define WIN_IDENTIFY            0xec
#define WIN_SETFEATURES         0xef
#define WIN_READ_NATIVE_MAX     0xf8

/* SET FEATURES subcommands */
#define SETFEAT_WCACHE_ON       0x02
#define SETFEAT_XFER_MODE       0x03
#define SETFEAT_WCACHE_OFF      0x82

/* ---- requests --------------------------------------------------------- */

typedef struct IDERequest IDERequest;
typedef void IDERequestDone(IDEState *s, IDERequest *r, int ret);

struct IDERequest {
    IDEState *s;
    uint32_t generation;
    uint8_t *buf;               /* bounce buffer, or NULL for zero-copy DMA */
    uint32_t nsec;
    IDERequestDone *done;
    DMASGList sg;               /* zero-copy DMA: the guest's buffers */
    bool sg_to_mem;             /* ... which the request writes */
};

static void ide_req_cb(void *opaque, int ret)
{
    IDERequest *r = opaque;
    IDEState *s = r->s;

    /* The disk wrote into guest RAM (even if a reset came meanwhile):
     * tell the dirty log and the decoded-code cache, as a copy would. */
    if (r->sg_to_mem) {
        dma_sg_mark_dirty(&r->sg);
    }
    if (r->generation == s->generation) {
        s->io_in_flight = false;
        r->done(s, r, ret);
    }
    dma_sg_destroy(&r->sg);
    g_free(r->buf);
    g_free(r);
}

static IDERequest *ide_req_new(IDEState *s, uint32_t nsec, IDERequestDone *done)
{
    IDERequest *r = g_new0(IDERequest, 1);

    r->s = s;
    r->generation = s->generation;
    r->buf = g_malloc(nsec * 512);
    r->nsec = nsec;
    r->done = done;
    s->io_in_flight = true;
    return r;
}

static void ide_submit_read(IDEState *s, uint64_t sector, uint32_t nsec, IDERequestDone *done)
{
    IDERequest *r = ide_req_new(s, nsec, done);

    blk_aio_read_sectors(s->blk, sector, r->buf, nsec, ide_req_cb, r);
}

/* Writes nsec sectors from data (copied: the caller's buffer may change). */
static void ide_submit_write(IDEState *s, uint64_t sector, const uint8_t *data, uint32_t nsec,
                             IDERequestDone *done)
{
    IDERequest *r = ide_req_new(s, nsec, done);

    memcpy(r->buf, data, nsec * 512);
    blk_aio_write_sectors(s->blk, sector, r->buf, nsec, ide_req_cb, r);
}

/* ATAPI READ in PIO: n 2048-byte sectors into io_buffer. */
static void ide_cd_read_done(IDEState *s, IDERequest *r, int ret)
{
    if (ret >= 0) {
        memcpy(s->io_buffer, r->buf, r->nsec * 512);
    }
    ide_atapi_read_done(s, ret);
}

void ide_cd_read(IDEState *s, uint32_t lba, uint32_t n)
{
    ide_submit_read(s, (uint64_t)lba * 4, n * 4, ide_cd_read_done);
}

/* ---- interrupts ------------------------------------------------------- */

void ide_bus_update_irq(IDEBus *bus)
{
    qemu_set_irq(bus->irq, bus->irq_pending && !(bus->ctrl & IDE_CTRL_NIEN));
}

/* INTRQ, unless nIEN; the bus master's Interrupt bit follows the line. */
void ide_set_irq(IDEBus *bus)
{
    if (bus->ctrl & IDE_CTRL_NIEN) {
        return;
    }
    bus->irq_pending = true;
    bus->bm.status |= BM_STATUS_INT;
    ide_bus_update_irq(bus);
}

static void ide_clear_irq(IDEBus *bus)
{
    bus->irq_pending = false;
    ide_bus_update_irq(bus);
}

IDEState *ide_bus_active(IDEBus *bus)
{
    return &bus->ifs[bus->unit & 1];
}

/* ---- task file helpers ------------------------------------------------ */

void ide_set_signature(IDEState *s)
{
    s->select &= IDE_SEL_DEV;
    s->select |= 0xa0;
    s->nsector = 1;
    s->sector = 1;
    if (s->kind == IDE_CD) {
        s->lcyl = 0x14;
        s->hcyl = 0xeb;
    } else if (s->kind == IDE_HD) {
        s->lcyl = 0;
        s->hcyl = 0;
    } else {
        s->lcyl = 0xff;
        s->hcyl = 0xff;
    }
}

void ide_abort_command(IDEState *s)
{
    s->status = IDE_STAT_DRDY | IDE_STAT_ERR;
    s->error = IDE_ERR_ABRT;
    s->xfer = IDE_XFER_NONE;
    s->dma_cmd = IDE_DMA_NONE;
}

static void ide_cmd_error(IDEState *s, uint8_t error)
{
    ide_abort_command(s);
    s->error = error;
    ide_set_irq(s->bus);
}

static void ide_cmd_done(IDEState *s)
{
    s->status = IDE_STAT_DRDY | IDE_STAT_DSC;
    s->xfer = IDE_XFER_NONE;
    ide_set_irq(s->bus);
}

/* The address the task file names: LBA48, LBA28 or CHS.  False for a CHS
 * address with sector 0 (sectors count from 1). */
static bool ide_get_sector(IDEState *s, uint64_t *sector)
{
    if (s->select & IDE_SEL_LBA) {
        if (s->lba48) {
            *sector = (uint64_t)s->hob_hcyl << 40 | (uint64_t)s->hob_lcyl << 32 |
                      (uint64_t)s->hob_sector << 24 | (uint64_t)s->hcyl << 16 |
                      (uint64_t)s->lcyl << 8 | s->sector;
        } else {
            *sector = (uint64_t)(s->select & 0x0f) << 24 | (uint64_t)s->hcyl << 16 |
                      (uint64_t)s->lcyl << 8 | s->sector;
        }
        return true;
    }
    if (s->sector == 0 || s->heads == 0 || s->sectors == 0) {
        return false;
    }
    *sector = ((uint64_t)(s->hcyl << 8 | s->lcyl) * s->heads + (s->select & 0x0f)) * s->sectors +
              (s->sector - 1);
    return true;
}

static void ide_set_sector(IDEState *s, uint64_t sector)
{
    if (s->select & IDE_SEL_LBA) {
        if (s->lba48) {
            s->sector = sector;
            s->lcyl = sector >> 8;
            s->hcyl = sector >> 16;
            s->hob_sector = sector >> 24;
            s->hob_lcyl = sector >> 32;
            s->hob_hcyl = sector >> 40;
        } else {
            s->select = (s->select & 0xf0) | ((sector >> 24) & 0x0f);
            s->hcyl = sector >> 16;
            s->lcyl = sector >> 8;
            s->sector = sector;
        }
    } else if (s->heads && s->sectors) {
        uint64_t cyl = sector / (s->heads * s->sectors);
        uint32_t r = sector % (s->heads * s->sectors);
        s->hcyl = cyl >> 8;
        s->lcyl = cyl;
        s->select = (s->select & 0xf0) | ((r / s->sectors) & 0x0f);
        s->sector = (r % s->sectors) + 1;
    }
}

static uint32_t ide_get_nsector(IDEState *s)
{
    if (s->lba48) {
        uint32_t n = (uint32_t)s->hob_nsector << 8 | s->nsector;
        return n ? n : 65536;
    }
    return s->nsector ? s->nsector : 256;
}

/* Sets up the command's range; false (with the error reported) if it
 * does not fit the disk: IDNF as the spec says, plus ABRT as QEMU. */
static bool ide_setup_range(IDEState *s)
{
    uint64_t sector;
    uint32_t n = ide_get_nsector(s);

    if (!ide_get_sector(s, &sector) || sector > s->nb_sectors || n > s->nb_sectors - sector) {
        ide_cmd_error(s, IDE_ERR_IDNF | IDE_ERR_ABRT);
        return false;
    }
    s->sector_pos = sector;
    s->sectors_left = n;
    return true;
}

/* ---- PIO -------------------------------------------------------------- */

/* Hands len bytes of io_buffer to the host (or takes them from it). */
void ide_transfer_start(IDEState *s, uint32_t len, IDEXfer xfer)
{
    s->data_ptr = 0;
    s->data_end = MIN(len, IDE_BUF_SIZE);
    s->xfer = xfer;
    s->status = IDE_STAT_DRDY | IDE_STAT_DSC | IDE_STAT_DRQ;
}

static void ide_rw_error(IDEState *s)
{
    ide_cmd_error(s, IDE_ERR_ABRT);
}

/*
 * PIO reads.  A command of many sectors read one DRQ block at a time (one
 * sector for READ SECTORS, which SeaBIOS's int 13h uses) would cost one
 * block request, and a round trip through the main loop, per block: the
 * first block's request reads up to IDE_BUF_SECTORS sectors of the
 * command at once into ahead_buf, and the blocks after it come from
 * there, at once.  Any new command or reset drops what is left (QEMU reads
 * each block separately; the guest sees the same data and status).
 */
static void ide_pio_read_block(IDEState *s)
{
    uint32_t n = MIN(s->sectors_left, s->req_block);

    memcpy(s->io_buffer, s->ahead_buf + (size_t)s->ahead_off * 512, n * 512);
    s->ahead_off += n;
    s->ahead_left -= n;
    s->ahead_lba += n;
    s->block_sectors = n;
    s->sector_pos += n;
    s->sectors_left -= n;
    ide_set_sector(s, s->sector_pos);
    s->nsector = s->sectors_left;
    ide_transfer_start(s, n * 512, IDE_XFER_ATA_READ);
    ide_set_irq(s->bus);
}

static void ide_pio_read_done(IDEState *s, IDERequest *r, int ret)
{
    if (ret < 0) {
        ide_rw_error(s);
        return;
    }
    memcpy(s->ahead_buf, r->buf, r->nsec * 512);
    s->ahead_lba = s->sector_pos;
    s->ahead_left = r->nsec;
    s->ahead_off = 0;
    s->ahead_gen = s->generation;
    ide_pio_read_block(s);
}

static void ide_pio_read_next(IDEState *s)
{
    uint32_t n = MIN(s->sectors_left, s->req_block);

    if (s->ahead_left >= n && s->ahead_lba == s->sector_pos && s->ahead_gen == s->generation) {
        ide_pio_read_block(s);
        return;
    }
    s->ahead_left = 0;
    /* whole blocks, as many as fit */
    n = MIN(s->sectors_left, IDE_BUF_SECTORS / s->req_block * s->req_block);
    s->status = IDE_STAT_DRDY | IDE_STAT_DSC | IDE_STAT_BSY;
    s->xfer = IDE_XFER_NONE;
    ide_submit_read(s, s->sector_pos, n, ide_pio_read_done);
}

static void ide_pio_write_block(IDEState *s)
{
    s->block_sectors = MIN(s->sectors_left, s->req_block);
    ide_transfer_start(s, s->block_sectors * 512, IDE_XFER_ATA_WRITE);
}

static void ide_pio_write_done(IDEState *s, IDERequest *r, int ret)
{
    if (ret < 0) {
        ide_rw_error(s);
        return;
    }
    s->sector_pos += r->nsec;
    s->sectors_left -= r->nsec;
    ide_set_sector(s, s->sector_pos);
    s->nsector = s->sectors_left;
    if (s->sectors_left) {
        ide_pio_write_block(s);
        ide_set_irq(s->bus);
    } else {
        ide_cmd_done(s);
    }
}

/* The host moved the last byte of the current PIO block. */
static void ide_data_block_done(IDEState *s)
{
    switch (s->xfer) {
    case IDE_XFER_ATA_READ:
        if (s->sectors_left) {
            ide_pio_read_next(s);
        } else {
            s->status = IDE_STAT_DRDY | IDE_STAT_DSC;
            s->xfer = IDE_XFER_NONE;
        }
        break;
    case IDE_XFER_ATA_WRITE:
        s->status = IDE_STAT_DRDY | IDE_STAT_DSC | IDE_STAT_BSY;
        s->xfer = IDE_XFER_NONE;
        ide_submit_write(s, s->sector_pos, s->io_buffer, s->block_sectors, ide_pio_write_done);
        break;
    case IDE_XFER_PACKET:
        s->xfer = IDE_XFER_NONE;
        ide_atapi_packet(s);
        break;
    case IDE_XFER_ATAPI_DATA:
        ide_atapi_data_done(s);
        break;
    default:
        s->status = IDE_STAT_DRDY | IDE_STAT_DSC;
        s->xfer = IDE_XFER_NONE;
        break;
    }
}

static bool ide_data_ready(IDEState *s, bool write)
{
    if (!(s->status & IDE_STAT_DRQ) || s->xfer == IDE_XFER_NONE || s->data_ptr >= s->data_end) {
        return false;
    }
    /* The direction of the block: only PACKET and ATA writes take data. */
    return write == (s->xfer == IDE_XFER_ATA_WRITE || s->xfer == IDE_XFER_PACKET);
}

static uint32_t ide_data_read(IDEBus *bus, unsigned size)
{
    IDEState *s = ide_bus_active(bus);
    uint32_t v = 0;

    if (!ide_data_ready(s, false)) {
        return 0;                       /* no data to give: 0, as QEMU */
    }
    for (unsigned i = 0; i < size && s->data_ptr < s->data_end; i++) {
        v |= (uint32_t)s->io_buffer[s->data_ptr++] << (8 * i);
    }
    if (s->data_ptr >= s->data_end) {
        ide_data_block_done(s);
    }
    return v;
}

static void ide_data_write(IDEBus *bus, uint32_t v, unsigned size)
{
    IDEState *s = ide_bus_active(bus);

    if (!ide_data_ready(s, true)) {
        return;
    }
    for (unsigned i = 0; i < size && s->data_ptr < s->data_end; i++) {
        s->io_buffer[s->data_ptr++] = v >> (8 * i);
    }
    if (s->data_ptr >= s->data_end) {
        ide_data_block_done(s);
    }
}

/* ---- IDENTIFY --------------------------------------------------------- */

/* ATA strings: two characters per word, the first in the high byte. */
static void put_str(uint8_t *buf, int word, const char *str, int len)
{
    size_t n = strlen(str);

    for (int i = 0; i < len; i++) {
        buf[word * 2 + (i ^ 1)] = i < (int)n ? str[i] : ' ';
    }
}

static void put_w(uint8_t *buf, int word, uint16_t v)
{
    buf[word * 2] = v;
    buf[word * 2 + 1] = v >> 8;
}

static uint16_t ide_dma_mode_word(IDEState *s, int cls, uint16_t supported)
{
    if ((s->xfer_mode >> 3) == cls) {
        supported |= 1u << ((s->xfer_mode & 7) + 8);
    }
    return supported;
}

static void ide_identify(IDEState *s)
{
    uint8_t *p = s->io_buffer;
    uint64_t lba28 = MIN(s->nb_sectors, 0x0fffffffu);
    uint32_t oldsize = s->cylinders * s->heads * s->sectors;

    memset(p, 0, 512);
    put_w(p, 0, 0x0040);                    /* fixed, not removable */
    put_w(p, 1, s->cylinders);
    put_w(p, 3, s->heads);
    put_w(p, 4, 512 * s->sectors);
    put_w(p, 5, 512);
    put_w(p, 6, s->sectors);
    put_str(p, 10, s->serial, 20);
    put_w(p, 20, 3);
    put_w(p, 21, 512);
    put_w(p, 22, 4);
    put_str(p, 23, s->version, 8);
    put_str(p, 27, s->model, 40);
    put_w(p, 47, 0x8000 | IDE_MAX_MULT_SECTORS);
    put_w(p, 48, 1);                        /* dword I/O */
    put_w(p, 49, 1 << 11 | 1 << 9 | 1 << 8);  /* IORDY, LBA, DMA */
    put_w(p, 51, 0x200);
    put_w(p, 52, 0x200);
    put_w(p, 53, 1 | 1 << 1 | 1 << 2);      /* words 54-58, 64-70, 88 valid */
    put_w(p, 54, s->cylinders);
    put_w(p, 55, s->heads);
    put_w(p, 56, s->sectors);
    put_w(p, 57, oldsize);
    put_w(p, 58, oldsize >> 16);
    if (s->mult_sectors) {
        put_w(p, 59, 0x100 | s->mult_sectors);
    }
    put_w(p, 60, lba28);
    put_w(p, 61, lba28 >> 16);
    put_w(p, 62, 0x07);                     /* single word DMA 0-2 */
    put_w(p, 63, ide_dma_mode_word(s, 4, 0x07));   /* multiword DMA 0-2 */
    put_w(p, 64, 0x03);                     /* PIO 3 and 4 */
    put_w(p, 65, 120);
    put_w(p, 66, 120);
    put_w(p, 67, 120);
    put_w(p, 68, 120);
    put_w(p, 80, 0xf0);                     /* ATA-4..7 */
    put_w(p, 81, 0x16);
    put_w(p, 82, 1 << 14 | 1 << 5 | 1);     /* NOP? no: write cache, SMART */
    put_w(p, 83, 1 << 14 | 1 << 13 | 1 << 12 | 1 << 10);  /* FLUSH EXT, FLUSH, LBA48 */
    put_w(p, 84, 1 << 14);
    put_w(p, 85, 1 << 14 | (s->write_cache ? 1 << 5 : 0) | 1);
    put_w(p, 86, 1 << 13 | 1 << 12 | 1 << 10);
    put_w(p, 87, 1 << 14);
    put_w(p, 88, ide_dma_mode_word(s, 8, 0x3f));   /* UDMA 0-5 */
    put_w(p, 93, 1 | 1 << 14 | 0x2000);
    put_w(p, 100, s->nb_sectors);
    put_w(p, 101, s->nb_sectors >> 16);
    put_w(p, 102, s->nb_sectors >> 32);
    put_w(p, 103, s->nb_sectors >> 48);
}

/* ---- DMA (drive side) ------------------------------------------------- */

static void bm_rewind(BMDMAState *bm)
{
    bm->cur_prd = bm->addr;
    bm->cur_addr = 0;
    bm->cur_len = 0;
    bm->eot = false;
}

static void ide_dma_run(IDEState *s);

/* The transfer finished: the drive interrupts; the bus master stays
 * active if its PRD table is not exhausted (SFF-8038i). */
static void ide_dma_finish(IDEState *s)
{
    BMDMAState *bm = &s->bus->bm;

    s->dma_cmd = IDE_DMA_NONE;
    if (bm->cur_len == 0 && bm->eot) {
        bm->status &= ~BM_STATUS_ACTIVE;
    }
    if (s->kind == IDE_CD) {
        ide_atapi_dma_done(s, true);
        return;
    }
    ide_set_sector(s, s->sector_pos);
    s->nsector = 0;
    ide_cmd_done(s);
}

/* The PRD table ended first: as QEMU, Active drops, no interrupt. */
static void ide_dma_short(IDEState *s)
{
    s->dma_cmd = IDE_DMA_NONE;
    s->status = IDE_STAT_DRDY | IDE_STAT_DSC;
    s->bus->bm.status &= ~BM_STATUS_ACTIVE;
    qemu_log_mask(LOG_GUEST_ERROR, "ide%d: PRD table shorter than the transfer\n",
                  s->bus->index);
}

/* A PRD or buffer outside RAM, or DMA without bus mastering. */
static void ide_dma_fault(IDEState *s)
{
    s->bus->bm.status = (s->bus->bm.status & ~BM_STATUS_ACTIVE) | BM_STATUS_ERROR;
    qemu_log_mask(LOG_GUEST_ERROR, "ide%d: DMA outside guest RAM\n", s->bus->index);
    if (s->kind == IDE_CD) {
        s->dma_cmd = IDE_DMA_NONE;
        ide_atapi_dma_done(s, false);
        return;
    }
    ide_cmd_error(s, IDE_ERR_ABRT);
}

/* After a request: false if the transfer must stop here. */
static bool ide_dma_still_on(IDEState *s, int ret)
{
    if (ret < 0) {
        if (s->kind == IDE_CD) {
            s->dma_cmd = IDE_DMA_NONE;
            s->bus->bm.status &= ~BM_STATUS_ACTIVE;
            ide_atapi_dma_done(s, false);
        } else {
            ide_rw_error(s);
            s->bus->bm.status &= ~BM_STATUS_ACTIVE;
        }
        return false;
    }
    if (!(s->bus->bm.status & BM_STATUS_ACTIVE) || s->dma_cmd == IDE_DMA_NONE) {
        s->dma_cmd = IDE_DMA_NONE;      /* the guest stopped the bus master */
        s->status = IDE_STAT_DRDY | IDE_STAT_DSC;
        return false;
    }
    return true;
}

/* Moves len bytes through the PRD table: false if the transfer stopped. */
static bool ide_dma_move(IDEState *s, uint8_t *buf, uint32_t len, bool to_mem)
{
    int64_t got = s->bus->dma_rw ? s->bus->dma_rw(s->bus, buf, len, to_mem) : -1;

    if (got < 0) {
        ide_dma_fault(s);
        return false;
    }
    if (got < len) {
        ide_dma_short(s);
        return false;
    }
    return true;
}

static void ide_dma_read_done(IDEState *s, IDERequest *r, int ret)
{
    if (!ide_dma_still_on(s, ret) || !ide_dma_move(s, r->buf, r->nsec * 512, true)) {
        return;
    }
    s->sector_pos += r->nsec;
    s->sectors_left -= r->nsec;
    ide_dma_run(s);
}

static void ide_dma_write_done(IDEState *s, IDERequest *r, int ret)
{
    if (!ide_dma_still_on(s, ret)) {
        return;
    }
    s->sector_pos += r->nsec;
    s->sectors_left -= r->nsec;
    ide_dma_run(s);
}

static void ide_dma_sg_done(IDEState *s, IDERequest *r, int ret)
{
    if (!ide_dma_still_on(s, ret)) {
        return;
    }
    s->sector_pos += r->nsec;
    s->sectors_left -= r->nsec;
    ide_dma_run(s);
}

/*
 * The whole rest of the transfer in one request, straight between the disk
 * and the guest's buffers, if the PRD table maps it exactly and only to
 * RAM.  Otherwise (no map helper, a table that ends early, a buffer or
 * entry outside RAM, no bus mastering) nothing is consumed and the caller
 * takes the copying path, which reports those cases.
 */
static bool ide_dma_zero_copy(IDEState *s)
{
    bool to_mem = s->dma_cmd == IDE_DMA_READ;
    IDERequest *r;

    if (!s->bus->dma_map) {
        return false;
    }
    r = g_new0(IDERequest, 1);
    if (!s->bus->dma_map(s->bus, &r->sg, s->sectors_left * 512)) {
        dma_sg_destroy(&r->sg);
        g_free(r);
        return false;
    }
    r->s = s;
    r->generation = s->generation;
    r->nsec = s->sectors_left;
    r->done = ide_dma_sg_done;
    r->sg_to_mem = to_mem;
    s->io_in_flight = true;
    if (to_mem) {
        blk_aio_preadv(s->blk, (int64_t)s->sector_pos * 512, r->sg.iov, r->sg.niov,
                       ide_req_cb, r);
    } else {
        blk_aio_pwritev(s->blk, (int64_t)s->sector_pos * 512, r->sg.iov, r->sg.niov, 0,
                        ide_req_cb, r);
    }
    return true;
}

static void ide_dma_run(IDEState *s)
{
    uint32_t n = MIN(s->sectors_left, IDE_DMA_CHUNK_SECTORS);
    IDERequest *r;

    if (s->io_in_flight) {
        return;
    }
    switch (s->dma_cmd) {
    case IDE_DMA_READ:
        if (!n) {
            ide_dma_finish(s);
            return;
        }
        if (ide_dma_zero_copy(s)) {
            break;
        }
        ide_submit_read(s, s->sector_pos, n, ide_dma_read_done);
        break;
    case IDE_DMA_WRITE:
        if (!n) {
            ide_dma_finish(s);
            return;
        }
        if (ide_dma_zero_copy(s)) {
            break;
        }
        r = ide_req_new(s, n, ide_dma_write_done);
        if (!ide_dma_move(s, r->buf, n * 512, false)) {
            s->io_in_flight = false;
            g_free(r->buf);
            g_free(r);
            return;
        }
        blk_aio_write_sectors(s->blk, s->sector_pos, r->buf, n, ide_req_cb, r);
        break;
    case IDE_DMA_BUFFER:
        if (ide_dma_move(s, s->io_buffer, s->dma_buf_len, true)) {
            ide_dma_finish(s);
        }
        break;
    default:
        break;
    }
}

/* A DMA command is ready: DRQ until the bus master runs it. */
void ide_dma_begin(IDEState *s, IDEDmaCmd cmd)
{
    s->dma_cmd = cmd;
    s->xfer = IDE_XFER_NONE;
    s->status = IDE_STAT_DRDY | IDE_STAT_DSC | IDE_STAT_DRQ;
    bm_rewind(&s->bus->bm);
    if (s->bus->bm.status & BM_STATUS_ACTIVE) {
        ide_dma_run(s);
    }
}

void ide_dma_start(IDEBus *bus)
{
    IDEState *s = ide_bus_active(bus);

    bm_rewind(&bus->bm);
    if (s->dma_cmd != IDE_DMA_NONE) {
        ide_dma_run(s);
    }
}

/* The guest cleared the start bit: a request in flight ends the transfer
 * when it completes (its data is dropped). */
void ide_dma_cancel(IDEBus *bus)
{
    for (int i = 0; i < 2; i++) {
        IDEState *s = &bus->ifs[i];
        if (s->dma_cmd != IDE_DMA_NONE && !s->io_in_flight) {
            s->dma_cmd = IDE_DMA_NONE;
            s->status = IDE_STAT_DRDY | IDE_STAT_DSC;
        }
    }
}

/* ---- commands --------------------------------------------------------- */

static void ide_flush_done(IDEState *s, IDERequest *r, int ret)
{
    if (ret < 0) {
        ide_rw_error(s);
    } else {
        ide_cmd_done(s);
    }
}

static void ide_flush_cb(void *opaque, int ret)
{
    ide_req_cb(opaque, ret);
}

static void ide_cmd_flush(IDEState *s)
{
    IDERequest *r = ide_req_new(s, 0, ide_flush_done);

    s->status = IDE_STAT_DRDY | IDE_STAT_DSC | IDE_STAT_BSY;
    blk_aio_flush(s->blk, ide_flush_cb, r);
}

/* What every READ/WRITE command checks first: a write to a read-only
 * medium is aborted, and the sector range must fit the disk. */
static bool ide_rw_start(IDEState *s, bool write)
{
    if (write && blk_is_read_only(s->blk)) {
        ide_abort_command(s);
        ide_set_irq(s->bus);
        return false;
    }
    return ide_setup_range(s);
}

static void ide_cmd_rw_pio(IDEState *s, bool write, bool multiple)
{
    if (multiple && !s->mult_sectors) {
        ide_abort_command(s);
        ide_set_irq(s->bus);
        return;
    }
    if (!ide_rw_start(s, write)) {
        return;
    }
    s->req_block = multiple ? s->mult_sectors : 1;
    if (write) {
        ide_pio_write_block(s);
    } else {
        ide_pio_read_next(s);
    }
}

static void ide_cmd_rw_dma(IDEState *s, bool write)
{
    if (!ide_rw_start(s, write)) {
        return;
    }
    ide_dma_begin(s, write ? IDE_DMA_WRITE : IDE_DMA_READ);
}

static void ide_cmd_set_features(IDEState *s)
{
    switch (s->feature) {
    case SETFEAT_WCACHE_ON:
        s->write_cache = true;
        blk_set_enable_write_cache(s->blk, true);
        break;
    case SETFEAT_WCACHE_OFF:
        s->write_cache = false;
        blk_set_enable_write_cache(s->blk, false);
        break;
    case SETFEAT_XFER_MODE: {
        uint8_t cls = s->nsector >> 3, mode = s->nsector & 7;
        /* PIO default/flow control (0, 1), MDMA 0-2 (4), UDMA 0-5 (8) */
        if ((cls == 0 || cls == 1) || (cls == 4 && mode <= 2) || (cls == 8 && mode <= 5)) {
            s->xfer_mode = (cls == 4 || cls == 8) ? s->nsector : 0;
            break;
        }
        ide_abort_command(s);
        ide_set_irq(s->bus);
        return;
    }
    /* accepted and ignored, as QEMU: reverting to defaults, APM,
     * read look-ahead, retries, 8-bit PIO off, ... */
    case 0x05: case 0x85: case 0x42: case 0xc2: case 0x55: case 0xaa: case 0x66:
    case 0xcc: case 0x67: case 0x69: case 0x96: case 0x9a:
        break;
    default:
        ide_abort_command(s);
        ide_set_irq(s->bus);
        return;
    }
    ide_cmd_done(s);
}

static void ide_exec_cmd(IDEBus *bus, uint8_t cmd)
{
    IDEState *s = ide_bus_active(bus);
    bool hd = s->kind == IDE_HD, cd = s->kind == IDE_CD;

    if (s->kind == IDE_NONE) {
        return;                         /* no drive answers */
    }
    /* Only DEVICE RESET, and only to ATAPI, while BSY or DRQ. */
    if ((s->status & (IDE_STAT_BSY | IDE_STAT_DRQ)) && !(cmd == WIN_DEVICE_RESET && cd)) {
        qemu_log_mask(LOG_GUEST_ERROR, "ide%d: command 0x%02x while busy ignored\n",
                      bus->index, cmd);
        return;
    }
    s->cmd = cmd;
    s->error = 0;
    s->lba48 = false;
    s->ahead_left = 0;                  /* read-ahead is per command */
    switch (cmd) {
    case WIN_READ_EXT: case WIN_READDMA_EXT: case WIN_MULTREAD_EXT: case WIN_WRITE_EXT:
    case WIN_WRITEDMA_EXT: case WIN_MULTWRITE_EXT: case WIN_VERIFY_EXT:
    case WIN_READ_NATIVE_MAX_EXT:
        s->lba48 = true;
        break;
    }
    if (cd && cmd != WIN_DEVICE_RESET && cmd != WIN_PACKETCMD && cmd != WIN_PIDENTIFY &&
        cmd != WIN_DIAGNOSE && cmd != WIN_SETFEATURES && cmd != WIN_CHECKPOWERMODE1 &&
        cmd != WIN_IDLEIMMEDIATE && cmd != WIN_STANDBYNOW1 && cmd != WIN_SLEEPNOW1 &&
        cmd != WIN_NOP) {
        /* An ATAPI device aborts ATA commands and shows its signature
         * (IDENTIFY DEVICE is how hosts find out, ATA-6 9.1). */
        ide_abort_command(s);
        ide_set_signature(s);
        ide_set_irq(bus);
        return;
    }
    switch (cmd) {
    case WIN_IDENTIFY:
        ide_identify(s);
        ide_transfer_start(s, 512, IDE_XFER_IDENTIFY);
        ide_set_irq(bus);
        return;
    case WIN_PIDENTIFY:
        if (!cd) {
            break;
        }
        ide_atapi_identify(s);
        ide_transfer_start(s, 512, IDE_XFER_IDENTIFY);
        ide_set_irq(bus);
        return;
    case WIN_READ: case WIN_READ_ONCE: case WIN_READ_EXT:
        ide_cmd_rw_pio(s, false, false);
        return;
    case WIN_WRITE: case WIN_WRITE_ONCE: case WIN_WRITE_EXT:
        ide_cmd_rw_pio(s, true, false);
        return;
    case WIN_MULTREAD: case WIN_MULTREAD_EXT:
        ide_cmd_rw_pio(s, false, true);
        return;
    case WIN_MULTWRITE: case WIN_MULTWRITE_EXT:
        ide_cmd_rw_pio(s, true, true);
        return;
    case WIN_READDMA: case WIN_READDMA_ONCE: case WIN_READDMA_EXT:
        ide_cmd_rw_dma(s, false);
        return;
    case WIN_WRITEDMA: case WIN_WRITEDMA_ONCE: case WIN_WRITEDMA_EXT:
        ide_cmd_rw_dma(s, true);
        return;
    case WIN_VERIFY: case WIN_VERIFY_ONCE: case WIN_VERIFY_EXT:
        if (ide_setup_range(s)) {
            ide_set_sector(s, s->sector_pos + s->sectors_left - 1);
            ide_cmd_done(s);
        }
        return;
    case WIN_SETMULT:
        /* 0 disables; else a power of two up to the maximum */
        if (s->nsector > IDE_MAX_MULT_SECTORS || (s->nsector & (s->nsector - 1))) {
            break;
        }
        s->mult_sectors = s->nsector;
        ide_cmd_done(s);
        return;
    case WIN_FLUSH_CACHE: case WIN_FLUSH_CACHE_EXT:
        ide_cmd_flush(s);
        return;
    case WIN_SETFEATURES:
        ide_cmd_set_features(s);
        return;
    case WIN_READ_NATIVE_MAX: case WIN_READ_NATIVE_MAX_EXT:
        if (s->nb_sectors == 0) {
            break;
        }
        s->select |= IDE_SEL_LBA;
        ide_set_sector(s, s->nb_sectors - 1);
        ide_cmd_done(s);
        return;
    case WIN_SPECIFY:
    case WIN_STANDBYNOW1: case WIN_IDLEIMMEDIATE: case WIN_STANDBY: case WIN_SETIDLE1:
    case WIN_SLEEPNOW1:
        ide_cmd_done(s);
        return;
    case WIN_CHECKPOWERMODE1:
        s->nsector = 0xff;              /* active or idle */
        ide_cmd_done(s);
        return;
    case WIN_DIAGNOSE:
        ide_set_signature(s);
        s->status = cd ? 0 : (IDE_STAT_DRDY | IDE_STAT_DSC);
        s->error = 0x01;                /* device 0 passed */
        ide_set_irq(bus);
        return;
    case WIN_DEVICE_RESET:
        if (!cd) {
            break;
        }
        s->generation++;
        s->io_in_flight = false;
        s->xfer = IDE_XFER_NONE;
        s->dma_cmd = IDE_DMA_NONE;
        ide_set_signature(s);
        s->status = 0;
        s->error = 0x01;
        return;
    case WIN_PACKETCMD:
        if (!cd) {
            break;
        }
        s->atapi_bcl = (uint32_t)s->hcyl << 8 | s->lcyl;
        s->nsector = ATAPI_INT_REASON_CD;
        ide_transfer_start(s, ATAPI_PACKET_SIZE, IDE_XFER_PACKET);
        return;
    default:
        if ((cmd & 0xf0) == WIN_RECAL || (cmd & 0xf0) == WIN_SEEK) {
            ide_cmd_done(s);
            return;
        }
        break;
    }
    (void)hd;
    qemu_log_mask(LOG_UNIMP, "ide%d: unknown command 0x%02x aborted\n", bus->index, cmd);
    ide_abort_command(s);
    ide_set_irq(bus);
}

/* ---- the ports ---------------------------------------------------------- */

static uint8_t ide_reg_read(IDEBus *bus, unsigned reg)
{
    IDEState *s = ide_bus_active(bus);
    bool hob = bus->ctrl & IDE_CTRL_HOB;
    bool none = bus->ifs[0].kind == IDE_NONE && bus->ifs[1].kind == IDE_NONE;
    bool absent = none || s->kind == IDE_NONE;

    switch (reg) {
    case 1: return absent ? 0 : hob ? s->hob_feature : s->error;
    case 2: return absent ? 0 : hob ? s->hob_nsector : s->nsector;
    case 3: return absent ? 0 : hob ? s->hob_sector : s->sector;
    case 4: return absent ? 0 : hob ? s->hob_lcyl : s->lcyl;
    case 5: return absent ? 0 : hob ? s->hob_hcyl : s->hcyl;
    case 6: return none ? 0 : s->select;
    case 7:
        ide_clear_irq(bus);
        return absent ? 0 : s->status;
    }
    return 0xff;
}

static void ide_reg_write(IDEBus *bus, unsigned reg, uint8_t v)
{
    /* Most registers: both drives see the write. */
    bus->ctrl &= ~IDE_CTRL_HOB;         /* a write clears HOB (ATA-6 7.9) */
    for (int i = 0; i < 2; i++) {
        IDEState *s = &bus->ifs[i];
        switch (reg) {
        case 1: s->hob_feature = s->feature; s->feature = v; break;
        case 2: s->hob_nsector = s->nsector; s->nsector = v; break;
        case 3: s->hob_sector = s->sector; s->sector = v; break;
        case 4: s->hob_lcyl = s->lcyl; s->lcyl = v; break;
        case 5: s->hob_hcyl = s->hcyl; s->hcyl = v; break;
        case 6: s->select = (v & ~IDE_SEL_DEV) | 0xa0 | (i ? IDE_SEL_DEV : 0); break;
        }
    }
    if (reg == 6) {
        bus->unit = (v >> 4) & 1;
    } else if (reg == 7) {
        ide_clear_irq(bus);
        ide_exec_cmd(bus, v);
    }
}

static uint64_t ide_cmd_read(void *opaque, uint64_t addr, unsigned size)
{
    IDEBus *bus = opaque;
    uint64_t v = 0;

    if (addr == 0) {
        return size == 1 ? 0xff : ide_data_read(bus, size);
    }
    for (unsigned i = 0; i < size && addr + i < 8; i++) {
        v |= (uint64_t)ide_reg_read(bus, addr + i) << (8 * i);
    }
    return v;
}

static void ide_cmd_write(void *opaque, uint64_t addr, uint64_t v, unsigned size)
{
    IDEBus *bus = opaque;

    if (addr == 0) {
        if (size > 1) {
            ide_data_write(bus, v, size);
        }
        return;
    }
    for (unsigned i = 0; i < size && addr + i < 8; i++) {
        ide_reg_write(bus, addr + i, v >> (8 * i));
    }
}

const MemoryRegionOps ide_cmd_ops = {
    .read = ide_cmd_read,
    .write = ide_cmd_write,
    .valid = { .min_access_size = 1, .max_access_size = 4, .unaligned = true },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

static void ide_drive_reset(IDEState *s)
{
    s->generation++;
    s->io_in_flight = false;
    s->mult_sectors = IDE_MAX_MULT_SECTORS;
    s->feature = s->error = s->nsector = s->sector = s->lcyl = s->hcyl = 0;
    s->hob_feature = s->hob_nsector = s->hob_sector = s->hob_lcyl = s->hob_hcyl = 0;
    s->select = 0xa0 | (s->unit ? IDE_SEL_DEV : 0);
    s->cmd = 0;
    s->lba48 = false;
    s->xfer = IDE_XFER_NONE;
    s->data_ptr = s->data_end = 0;
    s->sectors_left = 0;
    s->dma_cmd = IDE_DMA_NONE;
    s->sense_key = s->asc = s->ascq = 0;
    s->atapi_buf_pos = s->atapi_buf_len = 0;
    s->cd_left = 0;
}

/* Device control: SRST resets both drives when it goes back to 0. */
static void ide_ctrl_write(void *opaque, uint64_t addr, uint64_t v, unsigned size)
{
    IDEBus *bus = opaque;

    if (!(bus->ctrl & IDE_CTRL_SRST) && (v & IDE_CTRL_SRST)) {
        for (int i = 0; i < 2; i++) {
            bus->ifs[i].generation++;
            bus->ifs[i].io_in_flight = false;
            bus->ifs[i].status = IDE_STAT_BSY | IDE_STAT_DSC;
            bus->ifs[i].error = 0x01;
        }
    } else if ((bus->ctrl & IDE_CTRL_SRST) && !(v & IDE_CTRL_SRST)) {
        for (int i = 0; i < 2; i++) {
            IDEState *s = &bus->ifs[i];
            ide_drive_reset(s);
            ide_set_signature(s);
            s->status = s->kind == IDE_CD ? 0 : (IDE_STAT_DRDY | IDE_STAT_DSC);
            s->error = 0x01;
        }
        bus->unit = 0;
    }
    bus->ctrl = v;
    ide_bus_update_irq(bus);
}

static uint64_t ide_ctrl_read(void *opaque, uint64_t addr, unsigned size)
{
    IDEBus *bus = opaque;
    IDEState *s = ide_bus_active(bus);
    bool none = bus->ifs[0].kind == IDE_NONE && bus->ifs[1].kind == IDE_NONE;

    return none || s->kind == IDE_NONE ? 0 : s->status;
}

const MemoryRegionOps ide_ctrl_ops = {
    .read = ide_ctrl_read,
    .write = ide_ctrl_write,
    .valid = { .min_access_size = 1, .max_access_size = 1 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

/* ---- set-up and reset ----------------------------------------------------- */

static GPtrArray *ide_buses;

void ide_bus_init(IDEBus *bus, DeviceState *owner, int index)
{
    bus->owner = owner;
    bus->index = index;
    bus->qbus = qbus_new("IDE", owner, index ? "ide.1" : "ide.0");
    if (!ide_buses) {
        ide_buses = g_ptr_array_new();
    }
    g_ptr_array_add(ide_buses, bus);
    for (int i = 0; i < 2; i++) {
        bus->ifs[i].bus = bus;
        bus->ifs[i].unit = i;
    }
}

IDEBus *ide_bus_from_qbus(BusState *qbus)
{
    for (guint i = 0; ide_buses && i < ide_buses->len; i++) {
        IDEBus *bus = g_ptr_array_index(ide_buses, i);
        if (bus->qbus == qbus) {
            return bus;
        }
    }
    return NULL;
}

/*
 * CHS geometry, as QEMU guesses it (hw/block/hd-geometry.c): from the MBR
 * if a partition table entry ends on a cylinder boundary with at most 16
 * heads (that was the physical geometry), else the standard one for the
 * size: 16 heads, 63 sectors, size / 1008 cylinders clamped to 2..16383.
 * (With more than 16 heads in the table a BIOS translated: the physical
 * geometry is the standard one as well.)  Realize time, main thread: the
 * synchronous read is allowed.
 */
static bool ide_geometry_from_mbr(IDEState *s)
{
    uint8_t mbr[512];

    if (blk_pread(s->blk, 0, mbr, sizeof(mbr)) < 0 || mbr[510] != 0x55 || mbr[511] != 0xaa) {
        return false;
    }
    for (int i = 0; i < 4; i++) {
        const uint8_t *p = mbr + 0x1be + 16 * i;
        uint32_t nr_sects = p[12] | p[13] << 8 | p[14] << 16 | (uint32_t)p[15] << 24;
        uint32_t heads = p[5] + 1, secs = p[6] & 63;
        uint64_t cyls;

        if (!nr_sects || !p[5] || !secs) {
            continue;
        }
        cyls = s->nb_sectors / (heads * secs);
        if (cyls < 1 || cyls > 16383) {
            continue;
        }
        if (heads > 16) {
            return false;
        }
        s->cylinders = cyls;
        s->heads = heads;
        s->sectors = secs;
        return true;
    }
    return false;
}

static void ide_guess_geometry(IDEState *s)
{
    uint64_t cyl = s->nb_sectors / (16 * 63);

    if (ide_geometry_from_mbr(s)) {
        return;
    }
    s->cylinders = cyl > 16383 ? 16383 : cyl < 2 ? 2 : cyl;
    s->heads = 16;
    s->sectors = 63;
}

bool ide_drive_attach(IDEBus *bus, int unit, BlockBackend *blk, IDEDriveKind kind,
                      const char *dev_id, Error **errp)
{
    IDEState *s = &bus->ifs[unit];
    static int serial_counter;

    if (s->kind != IDE_NONE) {
        error_setg(errp, "IDE unit %d of bus ide.%d is already in use", unit, bus->index);
        return false;
    }
    if (kind == IDE_HD && !blk_is_inserted(blk)) {
        error_setg(errp, "Device needs media, but drive '%s' is empty", blk_name(blk));
        return false;
    }
    if (!blk_attach_dev(blk, bus->owner, dev_id, errp)) {
        return false;
    }
    s->blk = blk;
    s->kind = kind;
    s->write_cache = blk_enable_write_cache(blk);
    snprintf(s->serial, sizeof(s->serial), "QM%05d", ++serial_counter);
    snprintf(s->model, sizeof(s->model), "%s",
             kind == IDE_CD ? "QEMU DVD-ROM" : "QEMU HARDDISK");
    snprintf(s->version, sizeof(s->version), "2.5+");
    if (kind == IDE_CD) {
        blk_set_removable(blk, true);
        blk_set_dev_ops(blk, &ide_cd_block_ops, s);
        s->nb_sectors = blk_is_inserted(blk) ? blk_get_nb_sectors(blk) : 0;
    } else {
        s->nb_sectors = blk_get_nb_sectors(blk);
        ide_guess_geometry(s);
    }
    return true;
}

void ide_bus_reset(IDEBus *bus)
{
    for (int i = 0; i < 2; i++) {
        IDEState *s = &bus->ifs[i];
        ide_drive_reset(s);
        ide_set_signature(s);
        s->xfer_mode = 0;
        s->status = s->kind == IDE_CD ? 0 : s->kind == IDE_HD ? (IDE_STAT_DRDY | IDE_STAT_DSC) : 0;
        s->error = 0x01;
        if (s->kind == IDE_CD) {
            s->tray_locked = false;
            s->nb_sectors = s->blk && blk_is_inserted(s->blk) ? blk_get_nb_sectors(s->blk) : 0;
        }
    }
    bus->unit = 0;
    bus->ctrl = 0;
    bus->irq_pending = false;
    memset(&bus->bm, 0, sizeof(bus->bm));
    ide_bus_update_irq(bus);
}

/* ---- vmstate -------------------------------------------------------------- */

/* Requests are drained before state is saved (main_loop_drain), so none
 * is in flight; the transfer state (what the next PIO block or DMA chunk
 * is) is all in these fields. */
static int ide_drive_post_load(void *opaque, int version_id)
{
    IDEState *s = opaque;

    s->ahead_left = 0;                  /* not migrated: read again */
    if (s->data_end > IDE_BUF_SIZE) {
        s->data_end = IDE_BUF_SIZE;
    }
    if (s->data_ptr > s->data_end) {
        s->data_ptr = s->data_end;
    }
    if (s->atapi_buf_len > IDE_BUF_SIZE) {
        s->atapi_buf_len = IDE_BUF_SIZE;
    }
    if (s->atapi_buf_pos > s->atapi_buf_len) {
        s->atapi_buf_pos = s->atapi_buf_len;
    }
    if (s->dma_buf_len > IDE_BUF_SIZE) {
        s->dma_buf_len = IDE_BUF_SIZE;
    }
    if (s->block_sectors > IDE_BUF_SECTORS) {
        s->block_sectors = IDE_BUF_SECTORS;
    }
    if (s->req_block == 0 || s->req_block > IDE_MAX_MULT_SECTORS) {
        s->req_block = 1;
    }
    s->io_in_flight = false;
    s->generation++;
    /* A command busy on a request when the state was saved cannot be: the
     * stream came from a drained VM.  Should one come anyway, abort it. */
    if (s->status & IDE_STAT_BSY) {
        ide_abort_command(s);
    }
    return 0;
}

static const VMStateField ide_drive_fields[] = {
    VMSTATE_UINT8(feature, IDEState),
    VMSTATE_UINT8(error, IDEState),
    VMSTATE_UINT8(nsector, IDEState),
    VMSTATE_UINT8(sector, IDEState),
    VMSTATE_UINT8(lcyl, IDEState),
    VMSTATE_UINT8(hcyl, IDEState),
    VMSTATE_UINT8(select, IDEState),
    VMSTATE_UINT8(status, IDEState),
    VMSTATE_UINT8(hob_feature, IDEState),
    VMSTATE_UINT8(hob_nsector, IDEState),
    VMSTATE_UINT8(hob_sector, IDEState),
    VMSTATE_UINT8(hob_lcyl, IDEState),
    VMSTATE_UINT8(hob_hcyl, IDEState),
    VMSTATE_UINT8(cmd, IDEState),
    VMSTATE_BOOL(lba48, IDEState),
    VMSTATE_UINT8(mult_sectors, IDEState),
    VMSTATE_BOOL(write_cache, IDEState),
    VMSTATE_UINT8(xfer_mode, IDEState),
    VMSTATE_UINT8(xfer, IDEState),
    VMSTATE_UINT32(data_ptr, IDEState),
    VMSTATE_UINT32(data_end, IDEState),
    VMSTATE_UINT64(sector_pos, IDEState),
    VMSTATE_UINT32(sectors_left, IDEState),
    VMSTATE_UINT32(block_sectors, IDEState),
    VMSTATE_UINT32(req_block, IDEState),
    VMSTATE_UINT8(dma_cmd, IDEState),
    VMSTATE_UINT32(dma_buf_len, IDEState),
    VMSTATE_UINT8(sense_key, IDEState),
    VMSTATE_UINT8(asc, IDEState),
    VMSTATE_UINT8(ascq, IDEState),
    VMSTATE_BOOL(tray_open, IDEState),
    VMSTATE_BOOL(tray_locked, IDEState),
    VMSTATE_BOOL(media_changed_event, IDEState),
    VMSTATE_BOOL(media_event_eject, IDEState),
    VMSTATE_UINT32(atapi_buf_pos, IDEState),
    VMSTATE_UINT32(atapi_buf_len, IDEState),
    VMSTATE_UINT32(atapi_bcl, IDEState),
    VMSTATE_UINT32(cd_lba, IDEState),
    VMSTATE_UINT32(cd_left, IDEState),
    VMSTATE_BUFFER(io_buffer, IDEState),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_ide_drive = {
    .name = "ide/drive",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = ide_drive_post_load,
    .fields = ide_drive_fields,
};

static const VMStateField bmdma_fields[] = {
    VMSTATE_UINT8(cmd, BMDMAState),
    VMSTATE_UINT8(status, BMDMAState),
    VMSTATE_UINT32(addr, BMDMAState),
    VMSTATE_UINT32(cur_prd, BMDMAState),
    VMSTATE_UINT32(cur_addr, BMDMAState),
    VMSTATE_UINT32(cur_len, BMDMAState),
    VMSTATE_BOOL(eot, BMDMAState),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_bmdma = {
    .name = "ide/bmdma",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = bmdma_fields,
};

static int ide_bus_post_load(void *opaque, int version_id)
{
    IDEBus *bus = opaque;

    bus->unit &= 1;
    ide_bus_update_irq(bus);
    return 0;
}

static const VMStateField ide_bus_fields[] = {
    VMSTATE_STRUCT_ARRAY(ifs, IDEBus, 2, vmstate_ide_drive, IDEState),
    VMSTATE_UINT8(unit, IDEBus),
    VMSTATE_UINT8(ctrl, IDEBus),
    VMSTATE_BOOL(irq_pending, IDEBus),
    VMSTATE_STRUCT(bm, IDEBus, vmstate_bmdma, BMDMAState),
    VMSTATE_END_OF_LIST()
};

const VMStateDescription vmstate_ide_bus = {
    .name = "ide/bus",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = ide_bus_post_load,
    .fields = ide_bus_fields,
};

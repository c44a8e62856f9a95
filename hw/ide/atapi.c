/*
 * ATAPI CD-ROM: the PACKET command's MMC command set (SFF-8020i, MMC-3)
 * on an IDE drive.  QEMU's hw/ide/atapi.c is the behavioural reference:
 * same replies (identify strings, mode pages, TOC layouts) so that guests
 * and firmware treat the drive the same way.
 *
 * A command's data goes to the host in blocks of at most the byte count
 * limit the host put in the cylinder registers, one DRQ (and interrupt)
 * per block, with the sector count register saying "data to the host";
 * the command ends with status ready and reason "I/O | C/D" (SFF-8020i
 * 5.13).  With the DMA bit of the features register the data goes
 * through the bus master instead (READ as disk reads, other replies from
 * the buffer).  Errors report CHECK CONDITION: ERR with the sense key in
 * the error register's high nibble, the full sense kept for REQUEST SENSE.
 */
#include <string.h>
#include <glib.h>
#include "hw/ide.h"
#include "qemu/log.h"

/* MMC operation codes */
#define GPCMD_TEST_UNIT_READY       0x00
#define GPCMD_REQUEST_SENSE         0x03
#define GPCMD_INQUIRY               0x12
#define GPCMD_START_STOP_UNIT       0x1b
#define GPCMD_PREVENT_ALLOW         0x1e
#define GPCMD_READ_CAPACITY         0x25
#define GPCMD_READ_10               0x28
#define GPCMD_SEEK_10               0x2b
#define GPCMD_READ_TOC_PMA_ATIP     0x43
#define GPCMD_GET_CONFIGURATION     0x46
#define GPCMD_GET_EVENT_STATUS      0x4a
#define GPCMD_MODE_SENSE_10         0x5a
#define GPCMD_READ_12               0xa8
#define GPCMD_SET_SPEED             0xbb
#define GPCMD_MECHANISM_STATUS      0xbd

/* sense keys and additional sense codes */
#define SENSE_NONE                  0x00
#define SENSE_NOT_READY             0x02
#define SENSE_MEDIUM_ERROR          0x03
#define SENSE_ILLEGAL_REQUEST       0x05
#define SENSE_UNIT_ATTENTION        0x06
#define SENSE_ABORTED_COMMAND       0x0b
#define ASC_UNRECOVERED_READ        0x11
#define ASC_INVALID_OPCODE          0x20
#define ASC_LBA_OUT_OF_RANGE        0x21
#define ASC_INVALID_FIELD           0x24
#define ASC_MEDIUM_MAY_HAVE_CHANGED 0x28
#define ASC_SAVING_NOT_SUPPORTED    0x39
#define ASC_MEDIUM_NOT_PRESENT      0x3a
#define ASC_REMOVAL_PREVENTED       0x53

#define MODE_PAGE_R_W_ERROR         0x01
#define MODE_PAGE_CAPABILITIES      0x2a

#define MMC_PROFILE_CD_ROM          0x0008
#define MMC_PROFILE_DVD_ROM         0x0010
#define CD_MAX_SECTORS              (80 * 60 * 75)  /* 2048-byte sectors in 80 minutes */

static uint16_t be16(const uint8_t *p) { return p[0] << 8 | p[1]; }
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}
static void st16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v; }
static void st32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

static uint32_t cd_sectors(IDEState *s)
{
    return s->nb_sectors / 4;
}

static bool cd_medium_ready(IDEState *s)
{
    return s->blk && blk_is_inserted(s->blk) && !s->tray_open;
}

/* ---- completion ---------------------------------------------------------- */

static void atapi_ok(IDEState *s)
{
    s->error = 0;
    s->status = IDE_STAT_DRDY | IDE_STAT_DSC;
    s->nsector = ATAPI_INT_REASON_IO | ATAPI_INT_REASON_CD;
    s->xfer = IDE_XFER_NONE;
    ide_set_irq(s->bus);
}

void ide_atapi_error(IDEState *s, uint8_t sense_key, uint8_t asc)
{
    s->sense_key = sense_key;
    s->asc = asc;
    s->ascq = asc == ASC_REMOVAL_PREVENTED ? 0x02 : 0;
    s->error = sense_key << 4;
    s->status = IDE_STAT_DRDY | IDE_STAT_ERR;
    s->nsector = ATAPI_INT_REASON_IO | ATAPI_INT_REASON_CD;
    s->xfer = IDE_XFER_NONE;
    s->dma_cmd = IDE_DMA_NONE;
    s->cd_left = 0;
    ide_set_irq(s->bus);
}

void ide_atapi_dma_done(IDEState *s, bool ok)
{
    s->cd_left = 0;
    if (ok) {
        atapi_ok(s);
    } else {
        ide_atapi_error(s, SENSE_ABORTED_COMMAND, 0);
    }
}

/* ---- PIO data ------------------------------------------------------------- */

static void atapi_next_block(IDEState *s);

void ide_atapi_read_done(IDEState *s, int ret)
{
    uint32_t n = MIN(s->cd_left, IDE_BUF_SIZE / ATAPI_SECTOR_SIZE);

    if (ret < 0) {
        ide_atapi_error(s, SENSE_MEDIUM_ERROR, ASC_UNRECOVERED_READ);
        return;
    }
    s->atapi_buf_pos = 0;
    s->atapi_buf_len = n * ATAPI_SECTOR_SIZE;
    s->cd_lba += n;
    s->cd_left -= n;
    atapi_next_block(s);
}

/* Offers the next DRQ block of the reply, reads more sectors, or ends. */
static void atapi_next_block(IDEState *s)
{
    uint32_t left = s->atapi_buf_len - s->atapi_buf_pos;
    uint32_t bcl = s->atapi_bcl, blk;

    if (left == 0) {
        if (s->cd_left) {
            uint32_t n = MIN(s->cd_left, IDE_BUF_SIZE / ATAPI_SECTOR_SIZE);
            s->status = IDE_STAT_DRDY | IDE_STAT_DSC | IDE_STAT_BSY;
            s->xfer = IDE_XFER_NONE;
            ide_cd_read(s, s->cd_lba, n);
            return;
        }
        atapi_ok(s);
        return;
    }
    /* blocks but the last are even (SFF-8020i 10.8.1.1: an odd limit
     * means one less); 0 is not a valid limit: use the largest one */
    bcl &= ~1u;
    if (bcl == 0) {
        bcl = 0xfffe;
    }
    blk = MIN(left, bcl);
    s->data_ptr = s->atapi_buf_pos;
    s->data_end = s->atapi_buf_pos + blk;
    s->atapi_buf_pos += blk;
    s->xfer = IDE_XFER_ATAPI_DATA;
    s->lcyl = blk;
    s->hcyl = blk >> 8;
    s->nsector = ATAPI_INT_REASON_IO;
    s->status = IDE_STAT_DRDY | IDE_STAT_DSC | IDE_STAT_DRQ;
    ide_set_irq(s->bus);
}

void ide_atapi_data_done(IDEState *s)
{
    atapi_next_block(s);
}

/* The reply in io_buffer[0, size), cut to the host's allocation length. */
static void atapi_reply(IDEState *s, uint32_t size, uint32_t alloc)
{
    uint32_t len = MIN(size, alloc);

    s->cd_left = 0;
    if (len == 0) {
        atapi_ok(s);
        return;
    }
    if (s->feature & 1) {
        s->dma_buf_len = len;
        ide_dma_begin(s, IDE_DMA_BUFFER);
        return;
    }
    s->atapi_buf_pos = 0;
    s->atapi_buf_len = len;
    atapi_next_block(s);
}

/* ---- IDENTIFY PACKET DEVICE ------------------------------------------------ */

static void put_w(uint8_t *buf, int word, uint16_t v)
{
    buf[word * 2] = v;
    buf[word * 2 + 1] = v >> 8;
}

static void put_str(uint8_t *buf, int word, const char *str, int len)
{
    size_t n = strlen(str);

    for (int i = 0; i < len; i++) {
        buf[word * 2 + (i ^ 1)] = i < (int)n ? str[i] : ' ';
    }
}

void ide_atapi_identify(IDEState *s)
{
    uint8_t *p = s->io_buffer;

    memset(p, 0, 512);
    /* ATAPI, CD-ROM device, removable, DRQ within 50 us, 12-byte packets */
    put_w(p, 0, 2 << 14 | 5 << 8 | 1 << 7 | 2 << 5);
    put_str(p, 10, s->serial, 20);
    put_w(p, 20, 3);
    put_w(p, 21, 512);
    put_w(p, 22, 4);
    put_str(p, 23, s->version, 8);
    put_str(p, 27, s->model, 40);
    put_w(p, 48, 1);
    put_w(p, 49, 1 << 9 | 1 << 8);          /* LBA, DMA */
    put_w(p, 53, 7);
    put_w(p, 62, 7);
    put_w(p, 63, 7 | ((s->xfer_mode >> 3) == 4 ? 1 << ((s->xfer_mode & 7) + 8) : 0));
    put_w(p, 64, 3);
    put_w(p, 65, 0xb4);
    put_w(p, 66, 0xb4);
    put_w(p, 67, 0x12c);
    put_w(p, 68, 0xb4);
    put_w(p, 71, 30);
    put_w(p, 72, 30);
    put_w(p, 80, 0x1e);                     /* ATAPI-1..4 */
    put_w(p, 88, 0x3f | ((s->xfer_mode >> 3) == 8 ? 1 << ((s->xfer_mode & 7) + 8) : 0));
}

/* ---- commands ---------------------------------------------------------- */

static void lba_to_msf(uint8_t *buf, uint32_t lba)
{
    lba += 150;
    buf[0] = (lba / 75) / 60;
    buf[1] = (lba / 75) % 60;
    buf[2] = lba % 75;
}

static void put_addr(uint8_t *buf, uint32_t lba, bool msf)
{
    if (msf) {
        buf[0] = 0;
        lba_to_msf(buf + 1, lba);
    } else {
        st32(buf, lba);
    }
}

/* Format 0: the TOC of a single data track, from start_track. */
static int toc_format0(IDEState *s, uint8_t *buf, bool msf, int start_track)
{
    uint8_t *q = buf + 4;

    if (start_track > 1 && start_track != 0xaa) {
        return -1;
    }
    buf[2] = 1;
    buf[3] = 1;
    if (start_track <= 1) {
        q[0] = 0;
        q[1] = 0x14;                        /* ADR 1, data track */
        q[2] = 1;
        q[3] = 0;
        put_addr(q + 4, 0, msf);
        q += 8;
    }
    q[0] = 0;
    q[1] = 0x14;
    q[2] = 0xaa;                            /* lead-out */
    q[3] = 0;
    put_addr(q + 4, cd_sectors(s), msf);
    q += 8;
    st16(buf, q - buf - 2);
    return q - buf;
}

/* Format 1: the first track of the last (only) session. */
static int toc_format1(uint8_t *buf, bool msf)
{
    memset(buf, 0, 12);
    st16(buf, 10);
    buf[2] = 1;
    buf[3] = 1;
    buf[5] = 0x14;
    buf[6] = 1;
    put_addr(buf + 8, 0, msf);
    return 12;
}

/* Format 2: the raw TOC (points A0, A1, A2 and track 1) of session 1. */
static int toc_format2(IDEState *s, uint8_t *buf, bool msf)
{
    uint8_t *q = buf + 4;
    static const uint8_t points[] = { 0xa0, 0xa1, 0xa2, 0x01 };

    buf[2] = 1;
    buf[3] = 1;
    for (int i = 0; i < 4; i++) {
        memset(q, 0, 11);
        q[0] = 1;                           /* session */
        q[1] = 0x14;
        q[3] = points[i];
        if (points[i] == 0xa0 || points[i] == 0xa1) {
            q[8] = 1;                       /* first / last track */
        } else if (points[i] == 0xa2) {
            if (msf) {
                lba_to_msf(q + 8, cd_sectors(s));
            } else {
                st32(q + 7, cd_sectors(s));
            }
        } else if (msf) {
            lba_to_msf(q + 8, 0);
        }
        q += 11;
    }
    st16(buf, q - buf - 2);
    return q - buf;
}

static void cmd_read_toc(IDEState *s, const uint8_t *cdb)
{
    bool msf = cdb[1] & 2;
    int format = cdb[2] & 0x0f, len;

    if (format == 0) {
        format = cdb[9] >> 6;               /* the older place of the format */
    }
    memset(s->io_buffer, 0, 64);
    switch (format) {
    case 0:
        len = toc_format0(s, s->io_buffer, msf, cdb[6]);
        break;
    case 1:
        len = toc_format1(s->io_buffer, msf);
        break;
    case 2:
        len = toc_format2(s, s->io_buffer, msf);
        break;
    default:
        len = -1;
        break;
    }
    if (len < 0) {
        ide_atapi_error(s, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        return;
    }
    atapi_reply(s, len, be16(cdb + 7));
}

static void cmd_inquiry(IDEState *s, const uint8_t *cdb)
{
    uint8_t *b = s->io_buffer;

    if (cdb[1] & 1) {                       /* no vital product data pages */
        ide_atapi_error(s, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        return;
    }
    memset(b, 0, 36);
    b[0] = 0x05;                            /* CD/DVD device */
    b[1] = 0x80;                            /* removable */
    b[2] = 0x00;
    b[3] = 0x21;                            /* ATAPI, response format 1 */
    b[4] = 36 - 5;
    memcpy(b + 8, "QEMU    ", 8);
    memcpy(b + 16, "QEMU DVD-ROM    ", 16);
    memcpy(b + 32, s->version, MIN(strlen(s->version), 4));
    atapi_reply(s, 36, cdb[4]);
}

static void cmd_request_sense(IDEState *s, const uint8_t *cdb)
{
    uint8_t *b = s->io_buffer;

    memset(b, 0, 18);
    b[0] = 0x70 | 0x80;                     /* current error, valid */
    b[2] = s->sense_key;
    b[7] = 10;
    b[12] = s->asc;
    b[13] = s->ascq;
    if (s->sense_key == SENSE_UNIT_ATTENTION) {
        s->sense_key = SENSE_NONE;
        s->asc = s->ascq = 0;
    }
    atapi_reply(s, 18, cdb[4]);
}

static void cmd_get_configuration(IDEState *s, const uint8_t *cdb)
{
    uint8_t *b = s->io_buffer;
    bool ready = cd_medium_ready(s);
    bool dvd = ready && cd_sectors(s) > CD_MAX_SECTORS;
    uint16_t current = !ready ? 0 : dvd ? MMC_PROFILE_DVD_ROM : MMC_PROFILE_CD_ROM;
    int len;

    if ((cdb[1] & 3) == 3) {                /* RT 3 is reserved */
        ide_atapi_error(s, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        return;
    }
    memset(b, 0, 64);
    st16(b + 6, current);
    /* feature 0: profile list */
    b[8] = 0x00; b[9] = 0x00; b[10] = 0x03; b[11] = 8;
    st16(b + 12, MMC_PROFILE_DVD_ROM);
    b[14] = current == MMC_PROFILE_DVD_ROM;
    st16(b + 16, MMC_PROFILE_CD_ROM);
    b[18] = current == MMC_PROFILE_CD_ROM;
    /* feature 1: core, ATAPI interface */
    b[20] = 0x00; b[21] = 0x01; b[22] = 0x0b; b[23] = 8;
    st32(b + 24, 2);
    b[28] = 0x01;                           /* DBE */
    /* feature 3: removable medium, tray, eject, lock */
    b[32] = 0x00; b[33] = 0x03; b[34] = 0x03; b[35] = 4;
    b[36] = 0x29 | (s->tray_locked ? 0x04 : 0);
    len = 40;
    st32(b, len - 4);
    atapi_reply(s, len, be16(cdb + 7));
}

static void cmd_get_event_status(IDEState *s, const uint8_t *cdb)
{
    uint8_t *b = s->io_buffer;
    int len;

    if (!(cdb[1] & 1)) {                    /* asynchronous notification: no */
        ide_atapi_error(s, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        return;
    }
    memset(b, 0, 8);
    b[3] = 0x10;                            /* we support the media class */
    if (cdb[4] & 0x10) {
        b[2] = 0x04;                        /* media class */
        if (s->media_event_eject) {
            b[4] = 0x01;                    /* eject request */
            s->media_event_eject = false;
        } else if (s->media_changed_event) {
            b[4] = 0x02;                    /* new media */
            s->media_changed_event = false;
        }
        b[5] = (s->tray_open ? 0x01 : 0) | (cd_medium_ready(s) ? 0x02 : 0);
        len = 8;
    } else {
        b[2] = 0x80;                        /* no event available */
        len = 4;
    }
    st16(b, len - 2);
    atapi_reply(s, len, be16(cdb + 7));
}

static void cmd_mode_sense(IDEState *s, const uint8_t *cdb)
{
    uint8_t *b = s->io_buffer;
    int page = cdb[2] & 0x3f, pc = cdb[2] >> 6, len;

    if (pc == 3) {
        ide_atapi_error(s, SENSE_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED);
        return;
    }
    if (pc == 1) {                          /* changeable values: none */
        ide_atapi_error(s, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        return;
    }
    memset(b, 0, 32);
    b[2] = 0x70;                            /* medium type, as QEMU */
    switch (page) {
    case MODE_PAGE_R_W_ERROR:
        b[8] = MODE_PAGE_R_W_ERROR;
        b[9] = 16 - 10;
        b[11] = 0x05;                       /* read retry count */
        len = 16;
        break;
    case MODE_PAGE_CAPABILITIES:
        b[8] = MODE_PAGE_CAPABILITIES;
        b[9] = 28 - 10;
        b[10] = 0x3b;                       /* reads CD-R/RW, DVD-ROM/R/RAM */
        b[12] = 0x71;                       /* play audio (Linux automount looks) */
        b[13] = 3 << 5;
        b[14] = 1 << 0 | 1 << 3 | 1 << 5 | (s->tray_locked ? 1 << 1 : 0);
        st16(b + 16, 704);                  /* 4x */
        b[19] = 2;
        st16(b + 20, 512);
        st16(b + 22, 704);
        len = 28;
        break;
    default:
        ide_atapi_error(s, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        return;
    }
    st16(b, len - 2);
    atapi_reply(s, len, be16(cdb + 7));
}

static void cmd_read(IDEState *s, uint32_t lba, uint32_t n)
{
    if (lba > cd_sectors(s) || n > cd_sectors(s) - lba) {
        ide_atapi_error(s, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
        return;
    }
    if (n == 0) {
        atapi_ok(s);
        return;
    }
    if (s->feature & 1) {
        s->cd_left = 0;
        s->sector_pos = (uint64_t)lba * 4;
        s->sectors_left = n * 4;
        ide_dma_begin(s, IDE_DMA_READ);
        return;
    }
    s->cd_lba = lba;
    s->cd_left = n;
    s->atapi_buf_pos = s->atapi_buf_len = 0;
    atapi_next_block(s);
}

static void cmd_start_stop(IDEState *s, const uint8_t *cdb)
{
    bool start = cdb[4] & 1, loej = cdb[4] & 2;

    if (loej) {
        if (!start) {
            if (s->tray_locked) {
                ide_atapi_error(s, SENSE_NOT_READY, ASC_REMOVAL_PREVENTED);
                return;
            }
            s->tray_open = true;
        } else {
            s->tray_open = false;
        }
    }
    atapi_ok(s);
}

static void cmd_mechanism_status(IDEState *s, const uint8_t *cdb)
{
    memset(s->io_buffer, 0, 8);
    s->io_buffer[5] = 1;                    /* one slot */
    atapi_reply(s, 8, be16(cdb + 8));
}

/* Commands that run despite a pending unit attention, and commands that
 * need a medium. */
static bool atapi_allows_ua(uint8_t op)
{
    return op == GPCMD_INQUIRY || op == GPCMD_REQUEST_SENSE || op == GPCMD_GET_CONFIGURATION ||
           op == GPCMD_GET_EVENT_STATUS;
}

static bool atapi_needs_medium(uint8_t op)
{
    return op == GPCMD_TEST_UNIT_READY || op == GPCMD_READ_CAPACITY || op == GPCMD_READ_10 ||
           op == GPCMD_READ_12 || op == GPCMD_SEEK_10 || op == GPCMD_READ_TOC_PMA_ATIP;
}

void ide_atapi_packet(IDEState *s)
{
    uint8_t cdb[ATAPI_PACKET_SIZE];
    uint8_t op;

    memcpy(cdb, s->io_buffer, sizeof(cdb));
    op = cdb[0];
    if (s->sense_key == SENSE_UNIT_ATTENTION && !atapi_allows_ua(op)) {
        ide_atapi_error(s, SENSE_UNIT_ATTENTION, s->asc);
        return;
    }
    /* the sense is the last command's; a unit attention stays until read */
    if (op != GPCMD_REQUEST_SENSE && s->sense_key != SENSE_UNIT_ATTENTION) {
        s->sense_key = SENSE_NONE;
        s->asc = s->ascq = 0;
    }
    if (atapi_needs_medium(op) && !cd_medium_ready(s)) {
        ide_atapi_error(s, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT);
        return;
    }
    switch (op) {
    case GPCMD_TEST_UNIT_READY:
    case GPCMD_SET_SPEED:
        atapi_ok(s);
        break;
    case GPCMD_REQUEST_SENSE:
        cmd_request_sense(s, cdb);
        break;
    case GPCMD_INQUIRY:
        cmd_inquiry(s, cdb);
        break;
    case GPCMD_READ_CAPACITY:
        st32(s->io_buffer, cd_sectors(s) ? cd_sectors(s) - 1 : 0);
        st32(s->io_buffer + 4, ATAPI_SECTOR_SIZE);
        atapi_reply(s, 8, 8);
        break;
    case GPCMD_READ_10:
        cmd_read(s, be32(cdb + 2), be16(cdb + 7));
        break;
    case GPCMD_READ_12:
        cmd_read(s, be32(cdb + 2), be32(cdb + 6));
        break;
    case GPCMD_SEEK_10:
        if (be32(cdb + 2) >= cd_sectors(s)) {
            ide_atapi_error(s, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
        } else {
            atapi_ok(s);
        }
        break;
    case GPCMD_READ_TOC_PMA_ATIP:
        cmd_read_toc(s, cdb);
        break;
    case GPCMD_GET_CONFIGURATION:
        cmd_get_configuration(s, cdb);
        break;
    case GPCMD_GET_EVENT_STATUS:
        cmd_get_event_status(s, cdb);
        break;
    case GPCMD_MODE_SENSE_10:
        cmd_mode_sense(s, cdb);
        break;
    case GPCMD_START_STOP_UNIT:
        cmd_start_stop(s, cdb);
        break;
    case GPCMD_PREVENT_ALLOW:
        s->tray_locked = cdb[4] & 1;
        atapi_ok(s);
        break;
    case GPCMD_MECHANISM_STATUS:
        cmd_mechanism_status(s, cdb);
        break;
    default:
        qemu_log_mask(LOG_UNIMP, "ide%d: ATAPI command 0x%02x not supported\n",
                      s->bus->index, op);
        ide_atapi_error(s, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
        break;
    }
}

/* ---- the medium ----------------------------------------------------------- */

/* A medium was inserted or removed (QMP eject / change): the next command
 * sees UNIT ATTENTION, GET EVENT STATUS a media event. */
static void ide_cd_change_media(void *opaque, bool load)
{
    IDEState *s = opaque;

    s->tray_open = !load;
    if (!load) {
        s->tray_locked = false;     /* a forced eject overrides the lock (QEMU) */
    }
    s->nb_sectors = load && blk_is_inserted(s->blk) ? blk_get_nb_sectors(s->blk) : 0;
    s->sense_key = SENSE_UNIT_ATTENTION;
    s->asc = ASC_MEDIUM_MAY_HAVE_CHANGED;
    s->ascq = 0;
    s->media_changed_event = true;
    s->media_event_eject = false;
}

static void ide_cd_eject_request(void *opaque, bool force)
{
    IDEState *s = opaque;

    s->media_event_eject = true;
    if (force) {
        s->tray_locked = false;
    }
}

static bool ide_cd_is_tray_open(void *opaque)
{
    return ((IDEState *)opaque)->tray_open;
}

static bool ide_cd_is_medium_locked(void *opaque)
{
    return ((IDEState *)opaque)->tray_locked;
}

const BlockDevOps ide_cd_block_ops = {
    .change_media_cb = ide_cd_change_media,
    .eject_request_cb = ide_cd_eject_request,
    .is_tray_open = ide_cd_is_tray_open,
    .is_medium_locked = ide_cd_is_medium_locked,
};

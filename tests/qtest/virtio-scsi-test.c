/*
 * virtio-scsi-pci with scsi-hd and scsi-cd through the qtest protocol and
 * the libqvirtio driver: identity and configuration, INQUIRY (standard
 * and VPD), REPORT LUNS (LUN 0 and the well-known LUN), READ CAPACITY,
 * reads and writes compared with the image file, UNIT ATTENTION after
 * reset, sense data for bad opcodes, fields and LBAs, UNMAP and WRITE
 * SAME, read-only drives, MODE SENSE/SELECT, the CD-ROM's MMC commands,
 * task management, the responses for bad LUNs and buffers (BAD_TARGET,
 * OVERRUN, FAILURE), hostile rings, split and packed (NEEDS_RESET),
 * -drive if=scsi and
 * command-line errors.
 */
#include <fcntl.h>
#include "qtest-harness.h"
#include "libqvirtio.h"

#define SLOT            4
#define IMG_SECTORS     4096                    /* 2 MiB */
#define CD_BLOCKS       300                     /* 600 KiB "ISO" */
#define TIMEOUT_MS      5000
#define REQ_SIZE        51                      /* 19 + cdb_size 32 */
#define RESP_SIZE       108                     /* 12 + sense_size 96 */

#define S_OK            0
#define S_OVERRUN       1
#define S_ABORTED       2
#define S_BAD_TARGET    3
#define S_FAILURE       9
#define S_FUNC_SUCCEEDED 10
#define S_FUNC_REJECTED 11
#define S_INCORRECT_LUN 12

#define GOOD            0
#define CHECK_CONDITION 2

static char img[256], cdimg[256];

typedef struct Resp {
    uint8_t response;
    uint8_t status;
    uint32_t sense_len;
    uint32_t resid;
    uint8_t sense[96];
    uint32_t used;
} Resp;

static void make_file(char *path, size_t plen, const char *tag, unsigned blocks, unsigned bs,
                      unsigned mul)
{
    uint8_t *buf = malloc(bs);
    FILE *f;

    qt_tmpfile(path, plen, tag);
    f = fopen(path, "wb");
    QT_ASSERT(f);
    for (unsigned s = 0; s < blocks; s++) {
        for (unsigned i = 0; i < bs; i++) {
            buf[i] = (uint8_t)(s * mul + i + (i >> 8));
        }
        QT_ASSERT_EQ(fwrite(buf, 1, bs, f), bs);
    }
    fclose(f);
    free(buf);
}

static void file_read(const char *path, uint64_t off, void *buf, size_t len)
{
    int fd = open(path, O_RDONLY);

    QT_ASSERT(fd >= 0);
    QT_ASSERT_EQ(pread(fd, buf, len, off), (ssize_t)len);
    close(fd);
}

static QTestState *start(const char *extra)
{
    make_file(img, sizeof(img), "vscsi", IMG_SECTORS, 512, 7);
    make_file(cdimg, sizeof(cdimg), "vscsicd", CD_BLOCKS, 2048, 3);
    qvirtio_alloc_reset();
    /* packed=on for the packed runs (QVIRTIO_RUN_RINGS) */
    return qtest_initf("-device virtio-scsi-pci,id=scsi0,addr=%x%s "
                       "-drive file=%s,format=raw,if=none,id=d0,discard=unmap "
                       "-device scsi-hd,drive=d0,bus=scsi0.0,scsi-id=0,lun=0,serial=SER-42,"
                       "wwn=0x5000c50015ea71ac "
                       "-drive file=%s,format=raw,if=none,id=cd0,media=cdrom "
                       "-device scsi-cd,drive=cd0,bus=scsi0.0,scsi-id=1,lun=0 %s",
                       SLOT, qvirtio_packed_default() ? ",packed=on" : "", img, cdimg, extra);
}

static void stop(QTestState *s)
{
    qtest_quit(s);
    unlink(img);
    unlink(cdimg);
}

/* Bring the controller up: queues 0 (control), 1 (event), 2 (requests). */
static QVirtQueue *setup(QVirtioDev *d, QTestState *s, QVirtQueue **ctrl)
{
    uint8_t st;
    QVirtQueue *vq;

    qvirtio_pci_init(d, s, SLOT, true);
    st = qvirtio_start(d, 1ull << QVIRTIO_F_VERSION_1);
    QT_ASSERT_MSG(st & QVIRTIO_S_FEATURES_OK, "FEATURES_OK refused: status 0x%x", st);
    if (ctrl) {
        *ctrl = qvirtqueue_setup(d, 0);
    } else {
        qvirtqueue_setup(d, 0);
    }
    qvirtqueue_setup(d, 1);
    vq = qvirtqueue_setup(d, 2);
    QT_ASSERT_EQ(vq->packed, qvirtio_packed_default());
    qvirtio_driver_ok(d);
    return vq;
}

static void lun_addr(uint8_t *l, uint8_t target, uint16_t lun)
{
    memset(l, 0, 8);
    l[0] = 1;
    l[1] = target;
    if (lun >= 256) {
        l[2] = 0x40 | (lun >> 8);
    }
    l[3] = lun & 0xff;
}

/* One command with raw LUN bytes: data-out (out_len) or data-in (in_len)
 * buffers at guest addresses. */
static void cmd_raw(QVirtQueue *vq, const uint8_t *lun8, const uint8_t *cdb, unsigned cdb_len,
                    uint64_t out, uint32_t out_len, uint64_t in, uint32_t in_len, Resp *r)
{
    QTestState *qts = vq->dev->qts;
    uint64_t req = qvirtio_alloc(qts, REQ_SIZE, 16), resp = qvirtio_alloc(qts, RESP_SIZE, 16);
    uint8_t hdr[REQ_SIZE] = { 0 }, rb[RESP_SIZE];
    uint16_t head;
    static uint64_t tag = 1;

    memcpy(hdr, lun8, 8);
    memcpy(hdr + 8, &tag, 8);
    tag++;
    memcpy(hdr + 19, cdb, cdb_len);
    qtest_memwrite(qts, req, hdr, sizeof(hdr));
    memset(rb, 0xee, sizeof(rb));
    qtest_memwrite(qts, resp, rb, sizeof(rb));
    head = qvirtqueue_add(vq, req, REQ_SIZE, false, true);
    if (out_len) {
        qvirtqueue_add(vq, out, out_len, false, true);
    }
    qvirtqueue_add(vq, resp, RESP_SIZE, true, in_len != 0);
    if (in_len) {
        qvirtqueue_add(vq, in, in_len, true, false);
    }
    qvirtqueue_kick(vq, head);
    r->used = qvirtqueue_wait_used(vq, head, TIMEOUT_MS);
    qtest_memread(qts, resp, rb, sizeof(rb));
    memcpy(&r->sense_len, rb, 4);
    memcpy(&r->resid, rb + 4, 4);
    r->status = rb[10];
    r->response = rb[11];
    memcpy(r->sense, rb + 12, sizeof(r->sense));
}

static void cmd(QVirtQueue *vq, uint8_t target, uint16_t lun, const uint8_t *cdb,
                unsigned cdb_len, uint64_t out, uint32_t out_len, uint64_t in, uint32_t in_len,
                Resp *r)
{
    uint8_t l[8];

    lun_addr(l, target, lun);
    cmd_raw(vq, l, cdb, cdb_len, out, out_len, in, in_len, r);
}

#define CDB(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })

static void assert_good(const Resp *r)
{
    QT_ASSERT_EQ(r->response, S_OK);
    QT_ASSERT_MSG(r->status == GOOD, "status 0x%x sense %x/%02x/%02x", r->status,
                  r->sense[2] & 0xf, r->sense[12], r->sense[13]);
}

static void assert_sense(const Resp *r, uint8_t key, uint8_t asc, uint8_t ascq)
{
    QT_ASSERT_EQ(r->response, S_OK);
    QT_ASSERT_EQ(r->status, CHECK_CONDITION);
    QT_ASSERT_EQ(r->sense_len, 18u);
    QT_ASSERT_EQ(r->sense[0], 0x70);
    QT_ASSERT_MSG((r->sense[2] & 0xf) == key && r->sense[12] == asc && r->sense[13] == ascq,
                  "sense %x/%02x/%02x, expected %x/%02x/%02x", r->sense[2] & 0xf, r->sense[12],
                  r->sense[13], key, asc, ascq);
}

/* The power-on UNIT ATTENTION of target/lun, consumed with TEST UNIT READY. */
static void clear_ua(QVirtQueue *vq, uint8_t target)
{
    Resp r;

    cmd(vq, target, 0, CDB(0x00, 0, 0, 0, 0, 0), 0, 0, 0, 0, &r);
    assert_sense(&r, 0x6, 0x29, 0x00);
}

static uint64_t in_buf(QTestState *s, uint32_t len)
{
    uint64_t a = qvirtio_alloc(s, len, 512);
    uint8_t *b = malloc(len);

    memset(b, 0xcc, len);
    qtest_memwrite(s, a, b, len);
    free(b);
    return a;
}

static uint64_t fill(QTestState *s, uint32_t len, uint8_t seed)
{
    uint64_t a = qvirtio_alloc(s, len, 512);
    uint8_t *b = malloc(len);

    for (uint32_t i = 0; i < len; i++) {
        b[i] = (uint8_t)(seed + i * 13);
    }
    qtest_memwrite(s, a, b, len);
    free(b);
    return a;
}

static void assert_guest_eq_file(QTestState *s, const char *path, uint64_t ga, uint64_t off,
                                 uint32_t len)
{
    uint8_t *g = malloc(len), *f = malloc(len);

    qtest_memread(s, ga, g, len);
    file_read(path, off, f, len);
    QT_ASSERT_MSG(!memcmp(g, f, len), "guest buffer 0x%" PRIx64 " differs from %s at %" PRIu64,
                  ga, path, off);
    free(g);
    free(f);
}

/* ---- identity and configuration -------------------------------------------- */

static void test_ids_config(void)
{
    QTestState *s = start("");
    QVirtioDev d;

    qvirtio_pci_init(&d, s, SLOT, true);
    QT_ASSERT_EQ(qvirtio_cfg_readl(&d, 0x00), 0x10041af4u);
    QT_ASSERT_EQ(qvirtio_cfg_readw(&d, 0x0a), 0x0100);        /* SCSI storage */
    QT_ASSERT_EQ(qvirtio_cfg_readl(&d, 0x2c), 0x00081af4u);   /* subsystem: virtio id 8 */
    QT_ASSERT_EQ(qvirtio_cfg_readw(&d, d.msix_cap + 2) & 0x7ff, 3);  /* 4 vectors */
    qvirtio_start(&d, 1ull << QVIRTIO_F_VERSION_1);
    QT_ASSERT_EQ(qvirtio_num_queues(&d), 3);
    QT_ASSERT_EQ(qvirtio_get_features(&d) & 0xf, 0u);      /* no INOUT/HOTPLUG/CHANGE/T10_PI */
    QT_ASSERT_EQ(qvirtio_config_readl(&d, 0x00), 1u);         /* num_queues */
    QT_ASSERT_EQ(qvirtio_config_readl(&d, 0x04), 254u);       /* seg_max */
    QT_ASSERT_EQ(qvirtio_config_readl(&d, 0x08), 0xffffu);    /* max_sectors */
    QT_ASSERT_EQ(qvirtio_config_readl(&d, 0x0c), 128u);       /* cmd_per_lun */
    QT_ASSERT_EQ(qvirtio_config_readl(&d, 0x10), 16u);        /* event_info_size */
    QT_ASSERT_EQ(qvirtio_config_readl(&d, 0x14), 96u);        /* sense_size */
    QT_ASSERT_EQ(qvirtio_config_readl(&d, 0x18), 32u);        /* cdb_size */
    QT_ASSERT_EQ(qvirtio_config_readw(&d, 0x1c), 0);          /* max_channel */
    QT_ASSERT_EQ(qvirtio_config_readw(&d, 0x1e), 255);        /* max_target */
    QT_ASSERT_EQ(qvirtio_config_readl(&d, 0x20), 16383u);     /* max_lun */
    stop(s);
}

static void test_props(void)
{
    QTestState *s;
    QVirtioDev d;

    make_file(img, sizeof(img), "vscsi", IMG_SECTORS, 512, 7);
    make_file(cdimg, sizeof(cdimg), "vscsicd", 1, 2048, 3);
    s = qtest_initf("-device virtio-scsi-pci,addr=%x,num_queues=2,max_sectors=1024,"
                    "cmd_per_lun=4,virtqueue_size=128", SLOT);
    qvirtio_pci_init(&d, s, SLOT, true);
    qvirtio_start(&d, 1ull << QVIRTIO_F_VERSION_1);
    QT_ASSERT_EQ(qvirtio_num_queues(&d), 4);
    QT_ASSERT_EQ(qvirtio_config_readl(&d, 0x00), 2u);
    QT_ASSERT_EQ(qvirtio_config_readl(&d, 0x04), 126u);
    QT_ASSERT_EQ(qvirtio_config_readl(&d, 0x08), 1024u);
    QT_ASSERT_EQ(qvirtio_config_readl(&d, 0x0c), 4u);
    stop(s);
}

/* ---- SPC: INQUIRY, REPORT LUNS, UNIT ATTENTION, sense -------------------------- */

static void test_inquiry(void)
{
    QTestState *s = start("");
    QVirtioDev d;
    QVirtQueue *vq = setup(&d, s, NULL);
    uint64_t b = in_buf(s, 256);
    uint8_t buf[256];
    Resp r;

    /* INQUIRY does not report the power-on unit attention */
    cmd(vq, 0, 0, CDB(0x12, 0, 0, 0, 96, 0), 0, 0, b, 96, &r);
    assert_good(&r);
    QT_ASSERT_EQ(r.resid, 96u - 36u);
    QT_ASSERT_EQ(r.used, (uint32_t)RESP_SIZE + 36);
    qtest_memread(s, b, buf, 36);
    QT_ASSERT_EQ(buf[0], 0x00);                 /* disk */
    QT_ASSERT_EQ(buf[1], 0x00);                 /* not removable */
    QT_ASSERT_EQ(buf[2], 5);                    /* SPC-3 */
    QT_ASSERT_EQ(buf[4], 31);
    QT_ASSERT(!memcmp(buf + 8, "QEMU    QEMU HARDDISK   ", 24));
    /* the CD-ROM */
    cmd(vq, 1, 0, CDB(0x12, 0, 0, 0, 36, 0), 0, 0, b, 36, &r);
    assert_good(&r);
    qtest_memread(s, b, buf, 36);
    QT_ASSERT_EQ(buf[0], 0x05);
    QT_ASSERT_EQ(buf[1], 0x80);                 /* removable */
    QT_ASSERT(!memcmp(buf + 16, "QEMU CD-ROM     ", 16));
    /* allocation length shorter than the data: cut */
    cmd(vq, 0, 0, CDB(0x12, 0, 0, 0, 5, 0), 0, 0, b, 5, &r);
    assert_good(&r);
    QT_ASSERT_EQ(r.resid, 0u);
    /* VPD 0x00 */
    cmd(vq, 0, 0, CDB(0x12, 1, 0x00, 0, 64, 0), 0, 0, b, 64, &r);
    assert_good(&r);
    qtest_memread(s, b, buf, 64);
    QT_ASSERT_EQ(buf[1], 0x00);
    QT_ASSERT_EQ(buf[3], 6);
    QT_ASSERT(!memcmp(buf + 4, "\x00\x80\x83\xb0\xb1\xb2", 6));
    /* VPD 0x80: the serial */
    cmd(vq, 0, 0, CDB(0x12, 1, 0x80, 0, 64, 0), 0, 0, b, 64, &r);
    assert_good(&r);
    qtest_memread(s, b, buf, 64);
    QT_ASSERT_EQ(buf[3], 6);
    QT_ASSERT(!memcmp(buf + 4, "SER-42", 6));
    /* VPD 0x83: ASCII id and the NAA wwn */
    cmd(vq, 0, 0, CDB(0x12, 1, 0x83, 0, 64, 0), 0, 0, b, 64, &r);
    assert_good(&r);
    qtest_memread(s, b, buf, 64);
    QT_ASSERT_EQ(buf[3], 4 + 6 + 4 + 8);
    QT_ASSERT(!memcmp(buf + 4, "\x02\x00\x00\x06SER-42", 10));
    QT_ASSERT(!memcmp(buf + 14, "\x01\x03\x00\x08\x50\x00\xc5\x00\x15\xea\x71\xac", 12));
    /* VPD 0xb0: WSNZ, max unmap 1 GiB of blocks, 255 descriptors */
    cmd(vq, 0, 0, CDB(0x12, 1, 0xb0, 0, 64, 0), 0, 0, b, 64, &r);
    assert_good(&r);
    qtest_memread(s, b, buf, 64);
    QT_ASSERT_EQ(buf[3], 0x3c);
    QT_ASSERT_EQ(buf[4], 1);
    QT_ASSERT(!memcmp(buf + 20, "\x00\x20\x00\x00\x00\x00\x00\xff", 8));
    /* VPD 0xb2: UNMAP, WRITE SAME 16 and 10 may unmap */
    cmd(vq, 0, 0, CDB(0x12, 1, 0xb2, 0, 64, 0), 0, 0, b, 64, &r);
    assert_good(&r);
    qtest_memread(s, b, buf, 8);
    QT_ASSERT_EQ(buf[5], 0xe0);
    /* a page we lack; page code without EVPD */
    cmd(vq, 0, 0, CDB(0x12, 1, 0xc7, 0, 64, 0), 0, 0, b, 64, &r);
    assert_sense(&r, 0x5, 0x24, 0x00);
    cmd(vq, 0, 0, CDB(0x12, 0, 0x80, 0, 64, 0), 0, 0, b, 64, &r);
    assert_sense(&r, 0x5, 0x24, 0x00);
    /* the CD-ROM has no block pages */
    cmd(vq, 1, 0, CDB(0x12, 1, 0xb0, 0, 64, 0), 0, 0, b, 64, &r);
    assert_sense(&r, 0x5, 0x24, 0x00);
    stop(s);
}

static void test_unit_attention(void)
{
    QTestState *s = start("");
    QVirtioDev d;
    QVirtQueue *vq = setup(&d, s, NULL);
    uint64_t b = in_buf(s, 64);
    uint8_t buf[18];
    Resp r;

    /* REQUEST SENSE returns the power-on unit attention and clears it */
    cmd(vq, 0, 0, CDB(0x03, 0, 0, 0, 18, 0), 0, 0, b, 18, &r);
    assert_good(&r);
    qtest_memread(s, b, buf, 18);
    QT_ASSERT_EQ(buf[0], 0x70);
    QT_ASSERT_EQ(buf[2], 0x6);
    QT_ASSERT_EQ(buf[12], 0x29);
    cmd(vq, 0, 0, CDB(0x00, 0, 0, 0, 0, 0), 0, 0, 0, 0, &r);
    assert_good(&r);
    QT_ASSERT_EQ(r.used, (uint32_t)RESP_SIZE);
    /* any other command reports it once */
    cmd(vq, 1, 0, CDB(0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0), 0, 0, b, 8, &r);
    assert_sense(&r, 0x6, 0x29, 0x00);
    cmd(vq, 1, 0, CDB(0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0), 0, 0, b, 8, &r);
    assert_good(&r);
    /* descriptor-format sense */
    cmd(vq, 0, 0, CDB(0x03, 1, 0, 0, 18, 0), 0, 0, b, 18, &r);
    assert_good(&r);
    qtest_memread(s, b, buf, 8);
    QT_ASSERT_EQ(buf[0], 0x72);
    QT_ASSERT_EQ(buf[1], 0x0);
    /* a device reset sets it again */
    qvirtio_reset(&d);
    vq = setup(&d, s, NULL);
    clear_ua(vq, 0);
    cmd(vq, 0, 0, CDB(0x00, 0, 0, 0, 0, 0), 0, 0, 0, 0, &r);
    assert_good(&r);
    stop(s);
}

static void test_report_luns(void)
{
    QTestState *s = start("-device scsi-cd,bus=scsi0.0,scsi-id=0,lun=300");
    QVirtioDev d;
    QVirtQueue *vq = setup(&d, s, NULL);
    uint64_t b = in_buf(s, 256);
    uint8_t buf[64], wl[8] = { 1, 0, 0xc1, 0x01 };
    Resp r;

    cmd(vq, 0, 0, CDB(0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0), 0, 0, b, 256, &r);
    assert_good(&r);
    qtest_memread(s, b, buf, 24);
    QT_ASSERT_EQ(r.resid, 256u - 24u);
    QT_ASSERT(!memcmp(buf, "\0\0\0\x10\0\0\0\0", 8));
    QT_ASSERT(!memcmp(buf + 8, "\0\0\0\0\0\0\0\0", 8));
    QT_ASSERT(!memcmp(buf + 16, "\x41\x2c\0\0\0\0\0\0", 8));   /* 300, flat space */
    /* target 1 has LUN 0 only */
    cmd(vq, 1, 0, CDB(0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0), 0, 0, b, 16, &r);
    assert_good(&r);
    QT_ASSERT_EQ(qtest_readl(s, b), 0x08000000u);
    /* the well-known LUN, SELECT REPORT 2: the units and itself */
    cmd_raw(vq, wl, CDB(0xa0, 0, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0), 0, 0, b, 256, &r);
    assert_good(&r);
    qtest_memread(s, b, buf, 32);
    QT_ASSERT_EQ(buf[3], 24);
    QT_ASSERT(!memcmp(buf + 24, "\xc1\x01\0\0\0\0\0\0", 8));
    cmd_raw(vq, wl, CDB(0x12, 0, 0, 0, 36, 0), 0, 0, b, 36, &r);
    assert_good(&r);
    QT_ASSERT_EQ(qtest_readb(s, b), 0x1e);     /* well-known LU */
    /* allocation length under 16 */
    cmd(vq, 0, 0, CDB(0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0), 0, 0, b, 8, &r);
    assert_sense(&r, 0x5, 0x24, 0x00);
    /* a LUN without a unit: qualifier 3, LUN NOT SUPPORTED */
    cmd(vq, 0, 5, CDB(0x12, 0, 0, 0, 36, 0), 0, 0, b, 36, &r);
    assert_good(&r);
    QT_ASSERT_EQ(qtest_readb(s, b), 0x7f);
    cmd(vq, 0, 5, CDB(0x00, 0, 0, 0, 0, 0), 0, 0, 0, 0, &r);
    assert_sense(&r, 0x5, 0x25, 0x00);
    cmd(vq, 0, 5, CDB(0x03, 0, 0, 0, 18, 0), 0, 0, b, 18, &r);
    assert_good(&r);
    QT_ASSERT_EQ(qtest_readb(s, b + 12), 0x25);
    stop(s);
}

static void test_bad_target(void)
{
    QTestState *s = start("");
    QVirtioDev d;
    QVirtQueue *vq = setup(&d, s, NULL);
    uint64_t b = in_buf(s, 64);
    uint8_t l[8];
    Resp r;

    cmd(vq, 7, 0, CDB(0x12, 0, 0, 0, 36, 0), 0, 0, b, 36, &r);
    QT_ASSERT_EQ(r.response, S_BAD_TARGET);
    QT_ASSERT_EQ(r.used, (uint32_t)RESP_SIZE);
    lun_addr(l, 0, 0);
    l[0] = 2;                                   /* not single-level addressing */
    cmd_raw(vq, l, CDB(0x12, 0, 0, 0, 36, 0), 0, 0, b, 36, &r);
    QT_ASSERT_EQ(r.response, S_BAD_TARGET);
    lun_addr(l, 0, 0);
    l[2] = 0x80;                                /* extended LUN */
    cmd_raw(vq, l, CDB(0x12, 0, 0, 0, 36, 0), 0, 0, b, 36, &r);
    QT_ASSERT_EQ(r.response, S_BAD_TARGET);
    stop(s);
}

static void test_sense_errors(void)
{
    QTestState *s = start("");
    QVirtioDev d;
    QVirtQueue *vq = setup(&d, s, NULL);
    uint64_t b = in_buf(s, 4096);
    Resp r;

    clear_ua(vq, 0);
    /* invalid opcodes: unknown in group 0, a vendor-specific group */
    cmd(vq, 0, 0, CDB(0x02, 0, 0, 0, 0, 0), 0, 0, 0, 0, &r);
    assert_sense(&r, 0x5, 0x20, 0x00);
    cmd(vq, 0, 0, CDB(0xff, 0, 0, 0, 0, 0), 0, 0, 0, 0, &r);
    assert_sense(&r, 0x5, 0x20, 0x00);
    /* a disk has no READ TOC */
    cmd(vq, 0, 0, CDB(0x43, 0, 0, 0, 0, 0, 0, 0, 12, 0), 0, 0, b, 12, &r);
    assert_sense(&r, 0x5, 0x20, 0x00);
    /* LBA out of range: the last block + 1, and a 64-bit LBA */
    cmd(vq, 0, 0, CDB(0x28, 0, 0, 0, 0x0f, 0xff, 0, 0, 2, 0), 0, 0, b, 1024, &r);
    assert_sense(&r, 0x5, 0x21, 0x00);
    cmd(vq, 0, 0, CDB(0x88, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0,
                      0), 0, 0, b, 512, &r);
    assert_sense(&r, 0x5, 0x21, 0x00);
    cmd(vq, 0, 0, CDB(0x2f, 0, 0, 0, 0x0f, 0xff, 0, 0, 2, 0), 0, 0, 0, 0, &r);   /* VERIFY */
    assert_sense(&r, 0x5, 0x21, 0x00);
    cmd(vq, 0, 0, CDB(0x2f, 0, 0, 0, 0x0f, 0xfe, 0, 0, 2, 0), 0, 0, 0, 0, &r);
    assert_good(&r);
    /* READ CAPACITY(16) with another service action */
    cmd(vq, 0, 0, CDB(0x9e, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0), 0, 0, b, 32, &r);
    assert_sense(&r, 0x5, 0x24, 0x00);
    /* MODE SENSE of saved values, of a page we lack */
    cmd(vq, 0, 0, CDB(0x1a, 0, 0xc8, 0, 64, 0), 0, 0, b, 64, &r);
    assert_sense(&r, 0x5, 0x39, 0x00);
    cmd(vq, 0, 0, CDB(0x1a, 0, 0x2a, 0, 64, 0), 0, 0, b, 64, &r);
    assert_sense(&r, 0x5, 0x24, 0x00);
    stop(s);
}

/* ---- SBC: capacity, reads and writes ---------------------------------------------- */

static void test_capacity(void)
{
    QTestState *s = start("");
    QVirtioDev d;
    QVirtQueue *vq = setup(&d, s, NULL);
    uint64_t b = in_buf(s, 64);
    uint8_t buf[32];
    Resp r;

    clear_ua(vq, 0);
    cmd(vq, 0, 0, CDB(0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0), 0, 0, b, 8, &r);
    assert_good(&r);
    qtest_memread(s, b, buf, 8);
    QT_ASSERT(!memcmp(buf, "\x00\x00\x0f\xff\x00\x00\x02\x00", 8));
    cmd(vq, 0, 0, CDB(0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0), 0, 0, b, 32, &r);
    assert_good(&r);
    qtest_memread(s, b, buf, 32);
    QT_ASSERT(!memcmp(buf, "\0\0\0\0\x00\x00\x0f\xff\x00\x00\x02\x00", 12));
    QT_ASSERT_EQ(buf[14], 0x80);                /* LBPME */
    stop(s);
}

static void test_capacity_4k(void)
{
    QTestState *s;
    QVirtioDev d;
    QVirtQueue *vq;
    uint64_t b;
    Resp r;

    make_file(img, sizeof(img), "vscsi", IMG_SECTORS, 512, 7);
    make_file(cdimg, sizeof(cdimg), "vscsicd", 1, 2048, 3);
    qvirtio_alloc_reset();
    s = qtest_initf("-device virtio-scsi-pci,id=scsi0,addr=%x -drive file=%s,format=raw,"
                    "if=none,id=d0 -device scsi-hd,drive=d0,logical_block_size=4096", SLOT, img);
    vq = setup(&d, s, NULL);
    b = in_buf(s, 8192);
    clear_ua(vq, 0);
    cmd(vq, 0, 0, CDB(0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0), 0, 0, b, 8, &r);
    assert_good(&r);
    QT_ASSERT_EQ(qtest_readl(s, b), 0xff010000u);       /* 511, big-endian */
    QT_ASSERT_EQ(qtest_readl(s, b + 4), 0x00100000u);   /* 4096 */
    /* READ(10) of 2 blocks at LBA 3 reads bytes 12288.. */
    cmd(vq, 0, 0, CDB(0x28, 0, 0, 0, 0, 3, 0, 0, 2, 0), 0, 0, b, 8192, &r);
    assert_good(&r);
    assert_guest_eq_file(s, img, b, 3 * 4096, 8192);
    stop(s);
}

static void test_read_write(void)
{
    QTestState *s = start("");
    QVirtioDev d;
    QVirtQueue *vq = setup(&d, s, NULL);
    uint64_t b = in_buf(s, 8192), w;
    Resp r;

    clear_ua(vq, 0);
    cmd(vq, 0, 0, CDB(0x28, 0, 0, 0, 0, 3, 0, 0, 8, 0), 0, 0, b, 4096, &r);     /* READ(10) */
    assert_good(&r);
    QT_ASSERT_EQ(r.used, (uint32_t)RESP_SIZE + 4096);
    QT_ASSERT_EQ(r.resid, 0u);
    assert_guest_eq_file(s, img, b, 3 * 512, 4096);
    cmd(vq, 0, 0, CDB(0x08, 0, 0x01, 0x02, 2, 0), 0, 0, b, 1024, &r);            /* READ(6) */
    assert_good(&r);
    assert_guest_eq_file(s, img, b, 0x102 * 512, 1024);
    cmd(vq, 0, 0, CDB(0xa8, 0, 0, 0, 0x0f, 0xfc, 0, 0, 0, 4, 0, 0), 0, 0, b, 2048, &r);
    assert_good(&r);                                                             /* READ(12) */
    assert_guest_eq_file(s, img, b, 0xffc * 512, 2048);
    /* a buffer larger than the transfer: resid */
    cmd(vq, 0, 0, CDB(0x88, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0), 0, 0, b, 8192, &r);
    assert_good(&r);
    QT_ASSERT_EQ(r.resid, 8192u - 512u);
    QT_ASSERT_EQ(r.used, (uint32_t)RESP_SIZE + 512);
    assert_guest_eq_file(s, img, b, 9 * 512, 512);
    /* WRITE(10), WRITE(16), WRITE AND VERIFY(10) reach the file */
    w = fill(s, 2048, 0x11);
    cmd(vq, 0, 0, CDB(0x2a, 0, 0, 0, 0, 100, 0, 0, 4, 0), w, 2048, 0, 0, &r);
    assert_good(&r);
    QT_ASSERT_EQ(r.used, (uint32_t)RESP_SIZE);
    assert_guest_eq_file(s, img, w, 100 * 512, 2048);
    w = fill(s, 1024, 0x22);
    cmd(vq, 0, 0, CDB(0x8a, 0x08, 0, 0, 0, 0, 0, 0, 0x0f, 0xfe, 0, 0, 0, 2, 0, 0), w, 1024, 0, 0,
        &r);                                                                     /* FUA */
    assert_good(&r);
    assert_guest_eq_file(s, img, w, 0xffe * 512, 1024);
    w = fill(s, 512, 0x33);
    cmd(vq, 0, 0, CDB(0x2e, 0, 0, 0, 0, 7, 0, 0, 1, 0), w, 512, 0, 0, &r);
    assert_good(&r);
    assert_guest_eq_file(s, img, w, 7 * 512, 512);
    cmd(vq, 0, 0, CDB(0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0), 0, 0, 0, 0, &r);         /* SYNC CACHE */
    assert_good(&r);
    /* zero blocks: nothing moved */
    cmd(vq, 0, 0, CDB(0x28, 0, 0, 0, 0, 3, 0, 0, 0, 0), 0, 0, 0, 0, &r);
    assert_good(&r);
    stop(s);
}

static void test_overrun_failure(void)
{
    QTestState *s = start("");
    QVirtioDev d;
    QVirtQueue *vq = setup(&d, s, NULL);
    uint64_t b = in_buf(s, 4096), w = fill(s, 512, 1);
    uint8_t before[1024], after[1024];
    Resp r;

    clear_ua(vq, 0);
    /* a buffer shorter than the transfer */
    cmd(vq, 0, 0, CDB(0x28, 0, 0, 0, 0, 3, 0, 0, 8, 0), 0, 0, b, 2048, &r);
    QT_ASSERT_EQ(r.response, S_OVERRUN);
    /* the wrong direction: data-in buffers for a write */
    file_read(img, 0, before, sizeof(before));
    cmd(vq, 0, 0, CDB(0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0), 0, 0, b, 512, &r);
    QT_ASSERT_EQ(r.response, S_OVERRUN);
    /* data both ways: FAILURE */
    cmd(vq, 0, 0, CDB(0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0), w, 512, b, 512, &r);
    QT_ASSERT_EQ(r.response, S_FAILURE);
    file_read(img, 0, after, sizeof(after));
    QT_ASSERT(!memcmp(before, after, sizeof(before)));
    /* still working */
    cmd(vq, 0, 0, CDB(0x28, 0, 0, 0, 0, 3, 0, 0, 1, 0), 0, 0, b, 512, &r);
    assert_good(&r);
    stop(s);
}

static void test_unmap_write_same(void)
{
    QTestState *s = start("");
    QVirtioDev d;
    QVirtQueue *vq = setup(&d, s, NULL);
    uint8_t zero[8192] = { 0 }, f[8192], pat[512];
    uint8_t list[24] = { 0, 22, 0, 16, 0, 0, 0, 0,
                         0, 0, 0, 0, 0, 0, 0x01, 0x2c, 0, 0, 0, 16 };     /* 300, 16 blocks */
    uint64_t p, zb;
    Resp r;

    clear_ua(vq, 0);
    /* UNMAP of 16 blocks at 300 (discard=unmap: they read back as zeros) */
    p = qvirtio_alloc(s, sizeof(list), 16);
    qtest_memwrite(s, p, list, sizeof(list));
    cmd(vq, 0, 0, CDB(0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0), p, 24, 0, 0, &r);
    assert_good(&r);
    file_read(img, 300 * 512, f, 8192);
    QT_ASSERT(!memcmp(f, zero, 8192));
    file_read(img, 316 * 512, f, 512);
    QT_ASSERT(memcmp(f, zero, 512));            /* the next block is untouched */
    /* an UNMAP descriptor past the end */
    list[14] = 0x0f;
    list[15] = 0xf8;                            /* LBA 4088 + 16 > 4096 */
    qtest_memwrite(s, p, list, sizeof(list));
    cmd(vq, 0, 0, CDB(0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0), p, 24, 0, 0, &r);
    assert_sense(&r, 0x5, 0x21, 0x00);
    /* WRITE SAME(16) of zeros with UNMAP over 12 blocks at 500 */
    zb = qvirtio_alloc(s, 512, 512);
    cmd(vq, 0, 0, CDB(0x93, 0x08, 0, 0, 0, 0, 0, 0, 0x01, 0xf4, 0, 0, 0, 12, 0, 0), zb, 512, 0, 0,
        &r);
    assert_good(&r);
    file_read(img, 500 * 512, f, 12 * 512);
    QT_ASSERT(!memcmp(f, zero, 12 * 512));
    /* WRITE SAME(10) of a pattern over 5 blocks at 1000 */
    for (int i = 0; i < 512; i++) {
        pat[i] = (uint8_t)(0xa5 ^ i);
    }
    p = qvirtio_alloc(s, 512, 512);
    qtest_memwrite(s, p, pat, 512);
    cmd(vq, 0, 0, CDB(0x41, 0, 0, 0, 0x03, 0xe8, 0, 0, 5, 0), p, 512, 0, 0, &r);
    assert_good(&r);
    for (int i = 0; i < 5; i++) {
        file_read(img, (1000 + i) * 512, f, 512);
        QT_ASSERT(!memcmp(f, pat, 512));
    }
    file_read(img, 1005 * 512, f, 512);
    QT_ASSERT(memcmp(f, pat, 512));
    /* 0 blocks (WSNZ), past the end */
    cmd(vq, 0, 0, CDB(0x41, 0, 0, 0, 0x03, 0xe8, 0, 0, 0, 0), p, 512, 0, 0, &r);
    assert_sense(&r, 0x5, 0x24, 0x00);
    cmd(vq, 0, 0, CDB(0x41, 0, 0, 0, 0x0f, 0xff, 0, 0, 2, 0), p, 512, 0, 0, &r);
    assert_sense(&r, 0x5, 0x21, 0x00);
    stop(s);
}

static void test_readonly(void)
{
    QTestState *s;
    QVirtioDev d;
    QVirtQueue *vq;
    uint64_t w, b;
    uint8_t list[24] = { 0, 22, 0, 16 };
    Resp r;

    make_file(img, sizeof(img), "vscsi", IMG_SECTORS, 512, 7);
    make_file(cdimg, sizeof(cdimg), "vscsicd", 1, 2048, 3);
    qvirtio_alloc_reset();
    s = qtest_initf("-device virtio-scsi-pci,id=scsi0,addr=%x -drive file=%s,format=raw,"
                    "if=none,id=d0,readonly=on -device scsi-hd,drive=d0", SLOT, img);
    vq = setup(&d, s, NULL);
    w = fill(s, 512, 9);
    b = in_buf(s, 64);
    clear_ua(vq, 0);
    cmd(vq, 0, 0, CDB(0x2a, 0, 0, 0, 0, 1, 0, 0, 1, 0), w, 512, 0, 0, &r);
    assert_sense(&r, 0x7, 0x27, 0x00);
    cmd(vq, 0, 0, CDB(0x41, 0, 0, 0, 0, 1, 0, 0, 1, 0), w, 512, 0, 0, &r);
    assert_sense(&r, 0x7, 0x27, 0x00);
    qtest_memwrite(s, w, list, sizeof(list));
    cmd(vq, 0, 0, CDB(0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0), w, 24, 0, 0, &r);
    assert_sense(&r, 0x7, 0x27, 0x00);
    /* MODE SENSE: WP in the device-specific parameter */
    cmd(vq, 0, 0, CDB(0x1a, 0x08, 0x3f, 0, 64, 0), 0, 0, b, 64, &r);
    assert_good(&r);
    QT_ASSERT_EQ(qtest_readb(s, b + 2), 0x90);  /* WP, DPOFUA */
    assert_guest_eq_file(s, img, w, 0, 0);
    stop(s);
}

static void test_mode_pages(void)
{
    QTestState *s = start("");
    QVirtioDev d;
    QVirtQueue *vq = setup(&d, s, NULL);
    uint64_t b = in_buf(s, 256), p;
    uint8_t buf[256];
    uint8_t sel[4 + 20] = { 0, 0, 0, 0, 0x08, 0x12, 0x00 };       /* caching, WCE 0 */
    Resp r;

    clear_ua(vq, 0);
    /* MODE SENSE(6), caching page, with the block descriptor */
    cmd(vq, 0, 0, CDB(0x1a, 0, 0x08, 0, 255, 0), 0, 0, b, 255, &r);
    assert_good(&r);
    qtest_memread(s, b, buf, 32);
    QT_ASSERT_EQ(buf[0], 3 + 8 + 20);
    QT_ASSERT_EQ(buf[2], 0x10);                 /* DPOFUA */
    QT_ASSERT_EQ(buf[3], 8);
    QT_ASSERT(!memcmp(buf + 4, "\x00\x00\x10\x00\x00\x00\x02\x00", 8));
    QT_ASSERT_EQ(buf[12], 0x08);
    QT_ASSERT_EQ(buf[13], 0x12);
    QT_ASSERT_EQ(buf[14], 0x04);                /* WCE */
    /* MODE SENSE(10), all pages, no block descriptor: 0x01, 0x08, 0x0a */
    cmd(vq, 0, 0, CDB(0x5a, 0x08, 0x3f, 0, 0, 0, 0, 0, 255, 0), 0, 0, b, 255, &r);
    assert_good(&r);
    qtest_memread(s, b, buf, 64);
    QT_ASSERT_EQ(buf[1], 6 + 12 + 20 + 12);
    QT_ASSERT_EQ(buf[8], 0x01);
    QT_ASSERT_EQ(buf[8 + 12], 0x08);
    QT_ASSERT_EQ(buf[8 + 12 + 20], 0x0a);
    /* changeable values: WCE only */
    cmd(vq, 0, 0, CDB(0x1a, 0x08, 0x48, 0, 255, 0), 0, 0, b, 255, &r);
    assert_good(&r);
    QT_ASSERT_EQ(qtest_readb(s, b + 6), 0x04);
    /* MODE SELECT clears WCE; MODE SENSE shows it */
    p = qvirtio_alloc(s, sizeof(sel), 16);
    qtest_memwrite(s, p, sel, sizeof(sel));
    cmd(vq, 0, 0, CDB(0x15, 0x10, 0, 0, sizeof(sel), 0), p, sizeof(sel), 0, 0, &r);
    assert_good(&r);
    cmd(vq, 0, 0, CDB(0x1a, 0x08, 0x08, 0, 255, 0), 0, 0, b, 255, &r);
    assert_good(&r);
    QT_ASSERT_EQ(qtest_readb(s, b + 6), 0x00);
    /* without PF; with a page we lack */
    cmd(vq, 0, 0, CDB(0x15, 0x00, 0, 0, sizeof(sel), 0), p, sizeof(sel), 0, 0, &r);
    assert_sense(&r, 0x5, 0x24, 0x00);
    sel[4] = 0x1c;
    qtest_memwrite(s, p, sel, sizeof(sel));
    cmd(vq, 0, 0, CDB(0x15, 0x10, 0, 0, sizeof(sel), 0), p, sizeof(sel), 0, 0, &r);
    assert_sense(&r, 0x5, 0x26, 0x00);
    stop(s);
}

/* ---- MMC: the CD-ROM --------------------------------------------------------------- */

static void test_cdrom(void)
{
    QTestState *s = start("");
    QVirtioDev d;
    QVirtQueue *vq = setup(&d, s, NULL);
    uint64_t b = in_buf(s, 8192);
    uint8_t buf[64];
    Resp r;

    /* GET CONFIGURATION and GET EVENT STATUS skip the unit attention */
    cmd(vq, 1, 0, CDB(0x46, 0, 0, 0, 0, 0, 0, 0, 64, 0), 0, 0, b, 64, &r);
    assert_good(&r);
    qtest_memread(s, b, buf, 64);
    QT_ASSERT_EQ(buf[7], 0x08);                 /* current profile: CD-ROM */
    QT_ASSERT_EQ(buf[3], 4 + 12 + 12 + 8);
    QT_ASSERT(!memcmp(buf + 8, "\x00\x00\x03\x08\x00\x10\x00\x00\x00\x08\x01\x00", 12));
    cmd(vq, 1, 0, CDB(0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8, 0), 0, 0, b, 8, &r);
    assert_good(&r);
    qtest_memread(s, b, buf, 8);
    QT_ASSERT_EQ(buf[2], 4);                    /* media class */
    QT_ASSERT_EQ(buf[5], 2);                    /* media present */
    cmd(vq, 1, 0, CDB(0x4a, 0, 0, 0, 0x10, 0, 0, 0, 8, 0), 0, 0, b, 8, &r);   /* async */
    assert_sense(&r, 0x5, 0x24, 0x00);
    clear_ua(vq, 1);
    /* READ CAPACITY: 2048-byte blocks */
    cmd(vq, 1, 0, CDB(0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0), 0, 0, b, 8, &r);
    assert_good(&r);
    QT_ASSERT_EQ(qtest_readl(s, b), 0x2b010000u);       /* 299 */
    QT_ASSERT_EQ(qtest_readl(s, b + 4), 0x00080000u);   /* 2048 */
    /* READ TOC format 0, LBA: track 1 at 0, lead-out at 300 */
    cmd(vq, 1, 0, CDB(0x43, 0, 0, 0, 0, 0, 0, 0, 64, 0), 0, 0, b, 64, &r);
    assert_good(&r);
    qtest_memread(s, b, buf, 20);
    QT_ASSERT(!memcmp(buf, "\x00\x12\x01\x01\x00\x14\x01\x00\x00\x00\x00\x00"
                           "\x00\x16\xaa\x00\x00\x00\x01\x2c", 20));
    /* MSF: 00:02:00 and 300 + 150 frames = 00:06:00 */
    cmd(vq, 1, 0, CDB(0x43, 2, 0, 0, 0, 0, 0, 0, 64, 0), 0, 0, b, 64, &r);
    assert_good(&r);
    qtest_memread(s, b, buf, 20);
    QT_ASSERT(!memcmp(buf + 8, "\x00\x00\x02\x00", 4));
    QT_ASSERT(!memcmp(buf + 16, "\x00\x00\x06\x00", 4));
    /* format 1 (sessions); a track that does not exist */
    cmd(vq, 1, 0, CDB(0x43, 0, 1, 0, 0, 0, 0, 0, 12, 0), 0, 0, b, 12, &r);
    assert_good(&r);
    QT_ASSERT_EQ(qtest_readb(s, b + 1), 0x0a);
    cmd(vq, 1, 0, CDB(0x43, 0, 0, 0, 0, 0, 5, 0, 12, 0), 0, 0, b, 12, &r);
    assert_sense(&r, 0x5, 0x24, 0x00);
    /* READ DISC INFORMATION */
    cmd(vq, 1, 0, CDB(0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0), 0, 0, b, 34, &r);
    assert_good(&r);
    QT_ASSERT_EQ(qtest_readb(s, b + 2), 0x0e);
    /* MODE SENSE page 0x2a */
    cmd(vq, 1, 0, CDB(0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 64, 0), 0, 0, b, 64, &r);
    assert_good(&r);
    qtest_memread(s, b, buf, 30);
    QT_ASSERT_EQ(buf[7], 0);                    /* no block descriptor */
    QT_ASSERT_EQ(buf[8], 0x2a);
    QT_ASSERT_EQ(buf[9], 0x14);
    QT_ASSERT_EQ(buf[14], 0x2d);                /* not locked */
    /* READ(10) of 2 blocks at 7 */
    cmd(vq, 1, 0, CDB(0x28, 0, 0, 0, 0, 7, 0, 0, 2, 0), 0, 0, b, 4096, &r);
    assert_good(&r);
    assert_guest_eq_file(s, cdimg, b, 7 * 2048, 4096);
    /* writes: DATA PROTECT */
    cmd(vq, 1, 0, CDB(0x2a, 0, 0, 0, 0, 7, 0, 0, 1, 0), b, 2048, 0, 0, &r);
    assert_sense(&r, 0x7, 0x27, 0x00);
    /* PREVENT: the eject is refused and page 0x2a shows the lock */
    cmd(vq, 1, 0, CDB(0x1e, 0, 0, 0, 1, 0), 0, 0, 0, 0, &r);
    assert_good(&r);
    cmd(vq, 1, 0, CDB(0x1b, 0, 0, 0, 2, 0), 0, 0, 0, 0, &r);
    assert_sense(&r, 0x5, 0x53, 0x02);
    cmd(vq, 1, 0, CDB(0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 64, 0), 0, 0, b, 64, &r);
    assert_good(&r);
    QT_ASSERT_EQ(qtest_readb(s, b + 14), 0x2f);
    /* ALLOW, eject: NOT READY (tray open); load: ready again */
    cmd(vq, 1, 0, CDB(0x1e, 0, 0, 0, 0, 0), 0, 0, 0, 0, &r);
    assert_good(&r);
    cmd(vq, 1, 0, CDB(0x1b, 0, 0, 0, 2, 0), 0, 0, 0, 0, &r);
    assert_good(&r);
    cmd(vq, 1, 0, CDB(0x00, 0, 0, 0, 0, 0), 0, 0, 0, 0, &r);
    assert_sense(&r, 0x2, 0x3a, 0x02);
    cmd(vq, 1, 0, CDB(0x1b, 0, 0, 0, 3, 0), 0, 0, 0, 0, &r);
    assert_good(&r);
    cmd(vq, 1, 0, CDB(0x00, 0, 0, 0, 0, 0), 0, 0, 0, 0, &r);
    assert_good(&r);
    stop(s);
}

static void test_cdrom_empty(void)
{
    QTestState *s;
    QVirtioDev d;
    QVirtQueue *vq;
    uint64_t b;
    Resp r;

    make_file(img, sizeof(img), "vscsi", 1, 512, 7);
    make_file(cdimg, sizeof(cdimg), "vscsicd", 1, 2048, 3);
    qvirtio_alloc_reset();
    s = qtest_initf("-device virtio-scsi-pci,id=scsi0,addr=%x -device scsi-cd,scsi-id=3", SLOT);
    vq = setup(&d, s, NULL);
    b = in_buf(s, 64);
    clear_ua(vq, 3);
    cmd(vq, 3, 0, CDB(0x00, 0, 0, 0, 0, 0), 0, 0, 0, 0, &r);
    assert_sense(&r, 0x2, 0x3a, 0x00);
    cmd(vq, 3, 0, CDB(0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0), 0, 0, b, 8, &r);
    assert_sense(&r, 0x2, 0x3a, 0x00);
    cmd(vq, 3, 0, CDB(0x46, 0, 0, 0, 0, 0, 0, 0, 8, 0), 0, 0, b, 8, &r);
    assert_good(&r);
    QT_ASSERT_EQ(qtest_readw(s, b + 6), 0);     /* no current profile */
    stop(s);
}

/* ---- task management and control ----------------------------------------------------- */

static uint8_t tmf(QVirtQueue *ctrl, uint32_t subtype, uint8_t target, uint16_t lun,
                   uint64_t tag)
{
    QTestState *qts = ctrl->dev->qts;
    uint64_t req = qvirtio_alloc(qts, 24, 8), resp = qvirtio_alloc(qts, 1, 1);
    uint8_t b[24] = { 0 };
    uint16_t head;

    memcpy(b + 4, &subtype, 4);
    lun_addr(b + 8, target, lun);
    memcpy(b + 16, &tag, 8);
    qtest_memwrite(qts, req, b, sizeof(b));
    qtest_writeb(qts, resp, 0xee);
    head = qvirtqueue_add(ctrl, req, 24, false, true);
    qvirtqueue_add(ctrl, resp, 1, true, false);
    qvirtqueue_kick(ctrl, head);
    QT_ASSERT_EQ(qvirtqueue_wait_used(ctrl, head, TIMEOUT_MS), 1u);
    return qtest_readb(qts, resp);
}

static void test_tmf(void)
{
    QTestState *s = start("");
    QVirtioDev d;
    QVirtQueue *ctrl, *vq = setup(&d, s, &ctrl);
    uint64_t req = qvirtio_alloc(s, 16, 8), resp = qvirtio_alloc(s, 8, 8);
    uint8_t an[16] = { 1 };
    uint16_t head;
    Resp r;

    clear_ua(vq, 0);
    QT_ASSERT_EQ(tmf(ctrl, 0, 0, 0, 1234), S_OK);               /* ABORT TASK: none */
    QT_ASSERT_EQ(tmf(ctrl, 6, 0, 0, 1234), S_OK);               /* QUERY TASK: none */
    QT_ASSERT_EQ(tmf(ctrl, 7, 0, 0, 0), S_OK);                  /* QUERY TASK SET */
    QT_ASSERT_EQ(tmf(ctrl, 1, 0, 0, 0), S_OK);                  /* ABORT TASK SET */
    QT_ASSERT_EQ(tmf(ctrl, 2, 0, 0, 0), S_FUNC_REJECTED);       /* CLEAR ACA */
    QT_ASSERT_EQ(tmf(ctrl, 99, 0, 0, 0), S_FUNC_REJECTED);
    QT_ASSERT_EQ(tmf(ctrl, 5, 9, 0, 0), S_BAD_TARGET);          /* no target 9 */
    QT_ASSERT_EQ(tmf(ctrl, 5, 0, 4, 0), S_INCORRECT_LUN);       /* no LUN 4 */
    /* LUN RESET: a unit attention on that unit, not on the other target */
    QT_ASSERT_EQ(tmf(ctrl, 5, 0, 0, 0), S_OK);
    clear_ua(vq, 0);
    clear_ua(vq, 1);
    cmd(vq, 1, 0, CDB(0x00, 0, 0, 0, 0, 0), 0, 0, 0, 0, &r);
    assert_good(&r);
    /* I_T NEXUS RESET of target 1 */
    QT_ASSERT_EQ(tmf(ctrl, 4, 1, 0, 0), S_OK);
    cmd(vq, 0, 0, CDB(0x00, 0, 0, 0, 0, 0), 0, 0, 0, 0, &r);
    assert_good(&r);
    clear_ua(vq, 1);
    /* AN_QUERY: no events */
    qtest_memwrite(s, req, an, sizeof(an));
    qtest_writel(s, resp, 0xffffffffu);
    qtest_writeb(s, resp + 4, 0xee);
    head = qvirtqueue_add(ctrl, req, 16, false, true);
    qvirtqueue_add(ctrl, resp, 5, true, false);
    qvirtqueue_kick(ctrl, head);
    QT_ASSERT_EQ(qvirtqueue_wait_used(ctrl, head, TIMEOUT_MS), 5u);
    QT_ASSERT_EQ(qtest_readl(s, resp), 0u);
    QT_ASSERT_EQ(qtest_readb(s, resp + 4), S_OK);
    stop(s);
}

/* ABORT TASK of a command in flight: a WRITE SAME of a pattern over
 * 64 MiB goes to the block layer 1 MiB at a time, so the TMF, kicked
 * right after it, finds it running; the command ends ABORTED before all of
 * it is written, and the TMF answers once it has ended. */
static void test_tmf_abort_in_flight(void)
{
    char big[256];
    QTestState *s;
    QVirtioDev d;
    QVirtQueue *ctrl, *vq;
    uint64_t p, req, resp, treq, tresp, tag = 0x77;
    uint8_t hdr[REQ_SIZE] = { 1, 0 }, t[24] = { 0 }, rb[RESP_SIZE], pat[512], last[512];
    const uint8_t ws[] = { 0x41, 0, 0, 0, 0, 0, 0, 0x01, 0x00, 0 };   /* 65536 blocks at 0 */
    uint32_t abort = 0;
    uint16_t h, th;
    int fd;
    bool aborted = false;

    qt_tmpfile(big, sizeof(big), "vscsibig");
    fd = open(big, O_RDWR | O_CREAT | O_TRUNC, 0600);
    QT_ASSERT(fd >= 0);
    QT_ASSERT_EQ(ftruncate(fd, 64 << 20), 0);
    close(fd);
    qvirtio_alloc_reset();
    s = qtest_initf("-device virtio-scsi-pci,id=scsi0,addr=%x -drive file=%s,format=raw,"
                    "if=none,id=d0,cache=writethrough -device scsi-hd,drive=d0", SLOT, big);
    vq = setup(&d, s, &ctrl);
    clear_ua(vq, 0);
    for (int i = 0; i < 512; i++) {
        pat[i] = (uint8_t)(i | 1);
    }
    p = qvirtio_alloc(s, 512, 512);
    qtest_memwrite(s, p, pat, 512);
    req = qvirtio_alloc(s, REQ_SIZE, 16);
    resp = qvirtio_alloc(s, RESP_SIZE, 16);
    memcpy(hdr + 8, &tag, 8);
    memcpy(hdr + 19, ws, sizeof(ws));
    qtest_memwrite(s, req, hdr, sizeof(hdr));
    treq = qvirtio_alloc(s, 24, 8);
    tresp = qvirtio_alloc(s, 1, 1);
    memcpy(t + 4, &abort, 4);
    t[8] = 1;
    memcpy(t + 16, &tag, 8);
    qtest_memwrite(s, treq, t, sizeof(t));
    qtest_writeb(s, tresp, 0xee);
    /* the TMF's chain first, so that both kicks are one qtest command apart */
    th = qvirtqueue_add(ctrl, treq, 24, false, true);
    qvirtqueue_add(ctrl, tresp, 1, true, false);
    h = qvirtqueue_add(vq, req, REQ_SIZE, false, true);
    qvirtqueue_add(vq, p, 512, false, true);
    qvirtqueue_add(vq, resp, RESP_SIZE, true, false);
    qvirtqueue_kick(vq, h);
    qvirtqueue_kick(ctrl, th);
    QT_ASSERT_EQ(qvirtqueue_wait_used(ctrl, th, 20000), 1u);
    QT_ASSERT_EQ(qtest_readb(s, tresp), S_OK);
    /* the TMF answered after the command ended */
    QT_ASSERT(qvirtqueue_used_pending(vq));
    qvirtqueue_wait_used(vq, h, TIMEOUT_MS);
    qtest_memread(s, resp, rb, sizeof(rb));
    aborted = rb[11] == S_ABORTED;
    QT_ASSERT_MSG(aborted, "response %u status %u: the command ended before the abort",
                  rb[11], rb[10]);
    qtest_quit(s);
    file_read(big, (64 << 20) - 512, last, 512);
    QT_ASSERT(memcmp(last, pat, 512));          /* the end was never written */
    unlink(big);
}

/* Random CDBs (every opcode, random fields, random LUN bytes, data-in or
 * data-out buffers of random sizes) to the disk and the CD-ROM: every one
 * gets a response that makes sense, and the device still works. */
static void test_random_cdbs(void)
{
    QTestState *s = start("");
    QVirtioDev d;
    QVirtQueue *vq = setup(&d, s, NULL);
    uint64_t b = in_buf(s, 8192), w = fill(s, 4096, 5);
    uint32_t seed = 12345;
    Resp r;

    for (int i = 0; i < 1500; i++) {
        uint8_t cdb[16], l[8];
        uint32_t len;
        bool out;

        for (int j = 0; j < 16; j++) {
            seed = seed * 1103515245u + 12345u;
            cdb[j] = seed >> 16;
        }
        cdb[0] = (uint8_t)i;                    /* every opcode, six times */
        seed = seed * 1103515245u + 12345u;
        out = seed & 0x10000;
        len = (seed >> 17) % 4097;
        lun_addr(l, (seed >> 29) & 1, 0);
        if ((seed & 0xf) == 0) {
            l[3] = (uint8_t)(seed >> 8);        /* an odd LUN now and then */
        }
        if (len && (cdb[0] == 0x42 || cdb[0] == 0x41 || cdb[0] == 0x93)) {
            len = 0;                            /* keep UNMAP / WRITE SAME small */
        }
        cmd_raw(vq, l, cdb, 16, out ? w : 0, out ? len : 0, out ? 0 : b, out ? 0 : len, &r);
        QT_ASSERT_MSG(r.response == S_OK || r.response == S_OVERRUN ||
                      r.response == S_BAD_TARGET,
                      "opcode 0x%02x: response %u", cdb[0], r.response);
        if (r.response == S_OK) {
            QT_ASSERT_MSG(r.status == GOOD || r.status == CHECK_CONDITION,
                          "opcode 0x%02x: status 0x%x", cdb[0], r.status);
            QT_ASSERT(r.used >= RESP_SIZE && r.used <= RESP_SIZE + len);
            QT_ASSERT(r.sense_len <= 18);
        }
    }
    QT_ASSERT_EQ(qvirtio_get_status(&d) & QVIRTIO_S_NEEDS_RESET, 0);
    cmd(vq, 0, 0, CDB(0x12, 0, 0, 0, 36, 0), 0, 0, b, 36, &r);
    assert_good(&r);
    stop(s);
}

/* ---- hostile rings and buffers ------------------------------------------------------- */

/* NEEDS_RESET set, and one log line saying why (mentioning about) */
static void expect_needs_reset(QVirtioDev *d, QTestState *s, const char *about)
{
    QVirtQueue *vq;
    uint64_t b;
    Resp r;

    QT_ASSERT_EQ(qvirtio_cfg_readw(d, 0x00), 0x1af4);   /* qtest still answers */
    QT_ASSERT_MSG(qvirtio_get_status(d) & QVIRTIO_S_NEEDS_RESET, "status 0x%x",
                  qvirtio_get_status(d));
    QT_ASSERT_NEEDS_RESET_LOGGED("virtio-scsi", about);
    qvirtio_reset(d);
    QT_ASSERT_EQ(qvirtio_get_status(d), 0);
    vq = setup(d, s, NULL);
    b = in_buf(s, 512);
    clear_ua(vq, 0);
    cmd(vq, 0, 0, CDB(0x28, 0, 0, 0, 0, 5, 0, 0, 1, 0), 0, 0, b, 512, &r);
    assert_good(&r);
    assert_guest_eq_file(s, img, b, 5 * 512, 512);
}

static void test_hostile_short_header(void)
{
    QTestState *s = start(qt_log_redirect());
    QVirtioDev d;
    QVirtQueue *vq = setup(&d, s, NULL);
    uint64_t req = qvirtio_alloc(s, 64, 16), resp = qvirtio_alloc(s, RESP_SIZE, 16);
    uint16_t h;

    /* a request header of 20 bytes (needs 51) */
    h = qvirtqueue_add(vq, req, 20, false, true);
    qvirtqueue_add(vq, resp, RESP_SIZE, true, false);
    qvirtqueue_kick(vq, h);
    usleep(20000);
    expect_needs_reset(&d, s, "request of 20/");
    stop(s);
}

static void test_hostile_short_response(void)
{
    QTestState *s = start(qt_log_redirect());
    QVirtioDev d;
    QVirtQueue *vq = setup(&d, s, NULL);
    uint64_t req = qvirtio_alloc(s, REQ_SIZE, 16), resp = qvirtio_alloc(s, RESP_SIZE, 16);
    uint16_t h;

    qtest_writeb(s, req, 1);
    h = qvirtqueue_add(vq, req, REQ_SIZE, false, true);
    qvirtqueue_add(vq, resp, 11, true, false);     /* the response needs 108 */
    qvirtqueue_kick(vq, h);
    usleep(20000);
    expect_needs_reset(&d, s, "request of ");
    stop(s);
}

static void test_hostile_short_tmf(void)
{
    QTestState *s = start(qt_log_redirect());
    QVirtioDev d;
    QVirtQueue *ctrl;
    uint64_t req = qvirtio_alloc(s, 24, 8), resp = qvirtio_alloc(s, 1, 1);
    uint16_t h;

    setup(&d, s, &ctrl);
    h = qvirtqueue_add(ctrl, req, 8, false, true);  /* TMF of 8 bytes (needs 24) */
    qvirtqueue_add(ctrl, resp, 1, true, false);
    qvirtqueue_kick(ctrl, h);
    usleep(20000);
    expect_needs_reset(&d, s, "TMF request of 8/");
    stop(s);
}

static void test_hostile_desc_outside_ram(void)
{
    QTestState *s = start(qt_log_redirect());
    QVirtioDev d;
    QVirtQueue *vq = setup(&d, s, NULL);
    uint64_t req = qvirtio_alloc(s, REQ_SIZE, 16);
    uint16_t h, used;

    used = qvirtqueue_used_idx(vq);
    h = qvirtqueue_add(vq, req, REQ_SIZE, false, true);
    qvirtqueue_add(vq, 0x4000000000ull, RESP_SIZE, true, false);   /* 256 GiB: no RAM */
    qvirtqueue_kick(vq, h);
    usleep(20000);
    QT_ASSERT_EQ(qvirtqueue_used_idx(vq), used);
    expect_needs_reset(&d, s, "outside RAM");
    stop(s);
}

static void test_hostile_config(void)
{
    QTestState *s = start(qt_log_redirect());
    QVirtioDev d;
    QVirtQueue *vq = setup(&d, s, NULL);
    Resp r;

    (void)vq;
    /* cdb_size 256 is out of bounds (QEMU: < 256) */
    qtest_writel(s, QVIRTIO_MODERN_BAR + d.device + 0x18, 256);
    expect_needs_reset(&d, s, "configuration space");
    /* a smaller CDB: 16 bytes; sense_size 18 */
    qtest_writel(s, QVIRTIO_MODERN_BAR + d.device + 0x18, 16);
    QT_ASSERT_EQ(qvirtio_config_readl(&d, 0x18), 16u);
    (void)r;
    stop(s);
}

/* ---- hostile packed rings ---------------------------------------------------------- */

/*
 * libqvirtio's hostile packed cases (qvirtqueue_packed_hostile) on the
 * request queue, with a READ(10) of LBA 5 as the good request (header,
 * response, data-in): the device must stop with NEEDS_RESET, a
 * configuration interrupt and one log line naming the fault, use nothing,
 * ignore a good request over the bad one, and read after a reset.  Run
 * with the packed default on (the device has packed=on).
 */

/* MSI-X: config interrupts on vector 0, every queue's on vector 1. */
static QVirtQueue *setup_msix(QVirtioDev *d, QTestState *s)
{
    uint8_t st;

    qvirtio_pci_init(d, s, SLOT, true);
    qvirtio_msix_enable(d, 2);
    st = qvirtio_start(d, (1ull << QVIRTIO_F_VERSION_1) | (1ull << QVIRTIO_F_INDIRECT_DESC));
    QT_ASSERT_MSG(st & QVIRTIO_S_FEATURES_OK, "FEATURES_OK refused: status 0x%x", st);
    QT_ASSERT_EQ(qvirtio_set_config_vector(d, 0), 0);
    for (unsigned i = 0; i < 3; i++) {
        QT_ASSERT_EQ(qvirtqueue_setup(d, i)->packed, qvirtio_packed_default());
        QT_ASSERT_EQ(qvirtio_set_queue_vector(d, i, 1), 1);
    }
    qvirtio_driver_ok(d);
    return &d->vq[2];
}

/* READ(10) of LBA 5, one block: header, response, data-in (not added). */
static unsigned read_request(QTestState *s, QVirtioBuf *b)
{
    uint8_t hdr[REQ_SIZE] = { 0 };

    lun_addr(hdr, 0, 0);
    hdr[8] = 0x77;                                              /* tag */
    memcpy(hdr + 19, (uint8_t[10]){ 0x28, 0, 0, 0, 0, 5, 0, 0, 1, 0 }, 10);
    b[0] = (QVirtioBuf){ qvirtio_alloc(s, REQ_SIZE, 16), REQ_SIZE, false };
    qtest_memwrite(s, b[0].addr, hdr, sizeof(hdr));
    b[1] = (QVirtioBuf){ qvirtio_alloc(s, RESP_SIZE, 16), RESP_SIZE, true };
    b[2] = (QVirtioBuf){ in_buf(s, 512), 512, true };
    return 3;
}

static uint16_t add_request(QVirtQueue *vq, const QVirtioBuf *b, unsigned n)
{
    uint16_t h = vq->free_head;

    for (unsigned i = 0; i < n; i++) {
        qvirtqueue_add(vq, b[i].addr, b[i].len, b[i].write, i + 1 < n);
    }
    return h;
}

static void test_hostile_packed(void)
{
    QTestState *s = start(qt_log_redirect());
    QVirtioDev d;
    QVirtQueue *vq = setup_msix(&d, s);
    QVirtioBuf b[3];
    unsigned n = read_request(s, b);
    const char *about = qvirtqueue_packed_hostile(vq, qvirtio_hostile_kind, b, n);

    usleep(20000);
    QT_ASSERT_EQ(qvirtio_msix_received(&d, 0), 0x1000u);       /* config interrupt */
    QT_ASSERT_EQ(qvirtio_msix_received(&d, 1), 0u);            /* no used buffer */
    QT_ASSERT(!qvirtqueue_used_pending(vq));
    /* stopped: a good request over the bad one at slot 0 stays unused */
    qvirtqueue_packed_rewind(vq);
    n = read_request(s, b);
    qvirtqueue_kick(vq, add_request(vq, b, n));
    usleep(20000);
    QT_ASSERT(!qvirtqueue_used_pending(vq));
    QT_ASSERT_EQ(qvirtio_msix_received(&d, 1), 0u);
    /* NEEDS_RESET and its line; a reset, and the read works */
    expect_needs_reset(&d, s, about);
    QT_ASSERT_NEEDS_RESET_LOGGED("virtio-scsi", about);
    stop(s);
}

/* A read whose head has the wrong lap's AVAIL/USED bits (each of the
 * three) is left alone, silently; published properly it completes. */
static void test_packed_wrong_wrap(void)
{
    QTestState *s = start(qt_log_redirect());
    QVirtioDev d;
    QVirtQueue *vq = setup_msix(&d, s);
    QVirtioBuf b[3];
    unsigned n = read_request(s, b);
    uint16_t h = add_request(vq, b, n);
    Resp r;

    for (unsigned i = 0; i < 3; i++) {
        uint16_t bad = qvirtqueue_packed_wrong_bits(vq->avail_wrap, i);

        qvirtqueue_packed_publish_bits(vq, h, bad);
        qvirtqueue_notify(vq);
        usleep(10000);
        /* the head as the driver left it, the response untouched */
        QT_ASSERT_EQ(qtest_readw(s, vq->desc + 16ull * h + 14) &
                     (QVRING_PACKED_F_AVAIL | QVRING_PACKED_F_USED), bad);
        QT_ASSERT_EQ(qtest_readl(s, vq->desc + 16ull * h + 8), (uint32_t)REQ_SIZE);
        QT_ASSERT_EQ(qtest_readb(s, b[1].addr + 11), 0);
        QT_ASSERT_EQ(qvirtio_get_status(&d) & QVIRTIO_S_NEEDS_RESET, 0);
        QT_ASSERT_EQ(qvirtio_msix_received(&d, 1), 0u);
    }
    QT_ASSERT_EQ(qt_log_lines(NULL, 0, "needs reset", (char *)NULL), 0);
    qvirtqueue_kick(vq, h);
    qvirtqueue_wait_used(vq, h, TIMEOUT_MS);
    /* it took the power-on UNIT ATTENTION; the same read again works */
    QT_ASSERT_EQ(qtest_readb(s, b[1].addr + 10), CHECK_CONDITION);
    QT_ASSERT_EQ(qtest_readb(s, b[1].addr + 12 + 2) & 0xf, 0x6);
    cmd(vq, 0, 0, CDB(0x28, 0, 0, 0, 0, 5, 0, 0, 1, 0), 0, 0, b[2].addr, 512, &r);
    assert_good(&r);
    assert_guest_eq_file(s, img, b[2].addr, 5 * 512, 512);
    stop(s);
}

/* ---- command line -------------------------------------------------------------------- */

static void test_if_scsi(void)
{
    QTestState *s;
    QVirtioDev d;

    make_file(img, sizeof(img), "vscsi", IMG_SECTORS, 512, 7);
    make_file(cdimg, sizeof(cdimg), "vscsicd", 1, 2048, 3);
    qvirtio_alloc_reset();
    s = qtest_initf("-drive file=%s,format=raw,if=scsi,index=2 "
                    "-drive file=%s,format=raw,if=scsi,index=5,media=cdrom", img, cdimg);
    for (int slot = 1; slot < 32; slot++) {
        d.qts = s;
        d.slot = slot;
        if (qvirtio_cfg_readl(&d, 0) == 0x10041af4u) {
            QVirtQueue *vq;
            uint64_t b;
            Resp r;

            qvirtio_pci_init(&d, s, slot, true);
            qvirtio_start(&d, 1ull << QVIRTIO_F_VERSION_1);
            qvirtqueue_setup(&d, 0);
            qvirtqueue_setup(&d, 1);
            vq = qvirtqueue_setup(&d, 2);
            qvirtio_driver_ok(&d);
            b = in_buf(s, 512);
            /* index 2 = unit 2: scsi-id 2 */
            cmd(vq, 2, 0, CDB(0x12, 0, 0, 0, 36, 0), 0, 0, b, 36, &r);
            assert_good(&r);
            QT_ASSERT_EQ(qtest_readb(s, b), 0);
            cmd(vq, 0, 0, CDB(0x12, 0, 0, 0, 36, 0), 0, 0, b, 36, &r);
            QT_ASSERT_EQ(r.response, S_BAD_TARGET);
            /* media=cdrom: a scsi-cd at scsi-id 5 */
            cmd(vq, 5, 0, CDB(0x12, 0, 0, 0, 36, 0), 0, 0, b, 36, &r);
            assert_good(&r);
            QT_ASSERT_EQ(qtest_readb(s, b), 5);
            stop(s);
            return;
        }
    }
    QT_FAIL("no virtio-scsi-pci for -drive if=scsi");
}

static void test_cmdline_errors(void)
{
    const char *bin = qtest_binary_path();
    const char *bad[] = {
        "-device virtio-scsi-pci -device scsi-hd",                                   /* no drive */
        "-device virtio-scsi-pci,num_queues=0",
        "-device virtio-scsi-pci,virtqueue_size=100",
        "-device virtio-scsi-pci -drive file=%s,format=raw,if=none,id=d "
        "-device scsi-hd,drive=d,scsi-id=256",
        "-device virtio-scsi-pci -drive file=%s,format=raw,if=none,id=d "
        "-device scsi-hd,drive=d,lun=16384",
        "-device virtio-scsi-pci -drive file=%s,format=raw,if=none,id=d "
        "-device scsi-hd,drive=d,logical_block_size=1000",
        "-device virtio-scsi-pci -device scsi-cd,scsi-id=1,lun=0 -device scsi-cd,scsi-id=1,lun=0",
        "-device scsi-cd",                                                           /* no bus */
    };
    char cmd[4096], args[1024];

    make_file(img, sizeof(img), "vscsi", 8, 512, 7);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(args, sizeof(args), bad[i], img);
        /* a command line wrongly accepted would run until the timeout (status 124) */
        snprintf(cmd, sizeof(cmd), "timeout 20 %s -accel qtest -display none -nodefaults %s "
                 ">/dev/null 2>&1", bin, args);
        QT_ASSERT_MSG(system(cmd) != 0, "accepted: %.400s", args);
    }
    unlink(img);
}

int main(int argc, char **argv)
{
    qt_init(argc, argv);
    qt_run("ids-config", test_ids_config);
    qt_run("props", test_props);
    QVIRTIO_RUN_RINGS("inquiry", test_inquiry);
    qt_run("unit-attention", test_unit_attention);
    qt_run("report-luns", test_report_luns);
    qt_run("bad-target", test_bad_target);
    qt_run("sense-errors", test_sense_errors);
    qt_run("capacity", test_capacity);
    qt_run("capacity-4k", test_capacity_4k);
    QVIRTIO_RUN_RINGS("read-write", test_read_write);
    qt_run("overrun-failure", test_overrun_failure);
    QVIRTIO_RUN_RINGS("unmap-write-same", test_unmap_write_same);
    qt_run("readonly", test_readonly);
    qt_run("mode-pages", test_mode_pages);
    qt_run("cdrom", test_cdrom);
    qt_run("cdrom-empty", test_cdrom_empty);
    QVIRTIO_RUN_RINGS("tmf", test_tmf);
    qt_run("tmf-abort-in-flight", test_tmf_abort_in_flight);
    qt_run("random-cdbs", test_random_cdbs);
    QVIRTIO_RUN_RINGS("hostile/short-header", test_hostile_short_header);
    QVIRTIO_RUN_RINGS("hostile/short-response", test_hostile_short_response);
    QVIRTIO_RUN_RINGS("hostile/short-tmf", test_hostile_short_tmf);
    QVIRTIO_RUN_RINGS("hostile/desc-outside-ram", test_hostile_desc_outside_ram);
    QVIRTIO_RUN_RINGS("hostile/config", test_hostile_config);
    qvirtio_set_packed_default(true);
    QVIRTIO_RUN_PACKED_HOSTILE("hostile-packed/", "", test_hostile_packed);
    qt_run("packed-wrong-wrap", test_packed_wrong_wrap);
    qvirtio_set_packed_default(false);
    qt_run("if-scsi", test_if_scsi);
    qt_run("cmdline-errors", test_cmdline_errors);
    return qt_finish();
}

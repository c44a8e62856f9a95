/*
 * virtio-blk-pci through the qtest protocol, with the libqvirtio driver:
 * identity, configuration, feature negotiation, requests (read, write,
 * flush, get-id, discard, write-zeroes) checked against the image file,
 * MSI-X and INTx/ISR notification, indirect descriptors, multiqueue,
 * read-only drives, and every hostile-ring case of docs/virtio.md: the
 * device reports NEEDS_RESET (modern) or stops (legacy), qtest still
 * answers, and a reset brings it back.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include "qtest-harness.h"
#include "libqvirtio.h"

#define SLOT            4
#define IMG_SECTORS     4096                    /* 2 MiB */
#define VBLK_T_IN       0
#define VBLK_T_OUT      1
#define VBLK_T_FLUSH    4
#define VBLK_T_GET_ID   8
#define VBLK_T_DISCARD  11
#define VBLK_T_WZ       13
#define VBLK_S_OK       0
#define VBLK_S_IOERR    1
#define VBLK_S_UNSUPP   2
#define VBLK_F_RO       5
#define VBLK_F_MQ       12
#define VBLK_F_DISCARD  13
#define VBLK_F_WZ       14
#define TIMEOUT_MS      5000
#define STATUS_FILL     0xee

static char img[256];

static void make_image(void)
{
    uint8_t buf[512];
    FILE *f;

    qt_tmpfile(img, sizeof(img), "vblk");
    f = fopen(img, "wb");
    QT_ASSERT(f);
    for (int s = 0; s < IMG_SECTORS; s++) {
        for (int i = 0; i < 512; i++) {
            buf[i] = (uint8_t)(s * 7 + i);
        }
        QT_ASSERT_EQ(fwrite(buf, 1, 512, f), 512u);
    }
    fclose(f);
}

static void image_read(uint64_t off, void *buf, size_t len)
{
    int fd = open(img, O_RDONLY);

    QT_ASSERT(fd >= 0);
    QT_ASSERT_EQ(pread(fd, buf, len, off), (ssize_t)len);
    close(fd);
}

/* The device offers packed rings when the case runs on them
 * (QVIRTIO_RUN_RINGS); qvirtio_start then negotiates them. */
static QTestState *start(const char *drive_opts, const char *dev_opts)
{
    make_image();
    qvirtio_alloc_reset();
    return qtest_initf("-drive file=%s,format=raw,if=none,id=d0%s "
                       "-device virtio-blk-pci,drive=d0,addr=%x%s%s",
                       img, drive_opts, SLOT, qvirtio_packed_default() ? ",packed=on" : "",
                       dev_opts);
}

static void stop(QTestState *s)
{
    qtest_quit(s);
    unlink(img);
}

/* Bring the device up with the queues it has: features & offered, the
 * ring kind given. */
static QVirtQueue *setup_ring(QVirtioDev *d, QTestState *s, bool modern, uint64_t features,
                              bool packed)
{
    uint8_t st;

    qvirtio_pci_init(d, s, SLOT, modern);
    qvirtio_use_packed(d, packed);
    st = qvirtio_start(d, features | (modern ? 1ull << QVIRTIO_F_VERSION_1 : 0));
    if (modern) {
        QT_ASSERT_MSG(st & QVIRTIO_S_FEATURES_OK, "FEATURES_OK refused: status 0x%x", st);
    }
    QVirtQueue *vq = qvirtqueue_setup(d, 0);
    QT_ASSERT_EQ(vq->packed, packed);
    qvirtio_driver_ok(d);
    return vq;
}

/* ... the ring kind of the case (QVIRTIO_RUN_RINGS) */
static QVirtQueue *setup(QVirtioDev *d, QTestState *s, bool modern, uint64_t features)
{
    return setup_ring(d, s, modern, features, qvirtio_packed_default());
}

/*
 * One request's chain at the driver's next slots, not yet published:
 * header (out), data (out for writes and discard-like types, in for reads
 * and get-id, none if len 0), status (in; *st, filled with STATUS_FILL).
 * Returns the head.
 */
static uint16_t blk_chain(QVirtQueue *vq, uint32_t type, uint64_t sector, uint64_t data,
                          uint32_t len, uint64_t *st)
{
    QTestState *qts = vq->dev->qts;
    uint64_t hdr = qvirtio_alloc(qts, 16, 16);
    bool data_in = type == VBLK_T_IN || type == VBLK_T_GET_ID;
    uint16_t head;

    *st = qvirtio_alloc(qts, 1, 1);
    qtest_writel(qts, hdr, type);
    qtest_writel(qts, hdr + 4, 0);
    qtest_writeq(qts, hdr + 8, sector);
    qtest_writeb(qts, *st, STATUS_FILL);
    head = qvirtqueue_add(vq, hdr, 16, false, true);
    if (len) {
        qvirtqueue_add(vq, data, len, data_in, true);
    }
    qvirtqueue_add(vq, *st, 1, true, false);
    return head;
}

/* One request (blk_chain), kicked and waited for: the status byte; *used
 * gets the used length. */
static uint8_t blk_req_vq(QVirtQueue *vq, uint32_t type, uint64_t sector, uint64_t data,
                          uint32_t len, uint32_t *used)
{
    QTestState *qts = vq->dev->qts;
    uint64_t st;
    uint16_t head = blk_chain(vq, type, sector, data, len, &st);
    uint32_t u;

    qvirtqueue_kick(vq, head);
    u = qvirtqueue_wait_used(vq, head, TIMEOUT_MS);
    if (used) {
        *used = u;
    }
    return qtest_readb(qts, st);
}

/*
 * A read of sector through the indirect table at table: header (hdr),
 * the data from data on in n pieces of lens[i] bytes, status (st, filled
 * with STATUS_FILL first), in the ring kind's table format; kicked and
 * waited for.  Returns the used length.
 */
static uint32_t blk_read_indirect(QVirtQueue *vq, uint64_t table, uint64_t hdr, uint64_t st,
                                  uint64_t sector, uint64_t data, const uint32_t *lens,
                                  unsigned n)
{
    QTestState *qts = vq->dev->qts;
    uint16_t head;

    qtest_writel(qts, hdr, VBLK_T_IN);
    qtest_writeq(qts, hdr + 8, sector);
    qtest_writeb(qts, st, STATUS_FILL);
    qvirtqueue_indirect_entry(vq, table, 0, hdr, 16, false, false);
    for (unsigned i = 0; i < n; i++) {
        qvirtqueue_indirect_entry(vq, table, 1 + i, data, lens[i], true, false);
        data += lens[i];
    }
    qvirtqueue_indirect_entry(vq, table, 1 + n, st, 1, true, true);
    head = qvirtqueue_add_indirect(vq, table, n + 2);
    qvirtqueue_kick(vq, head);
    return qvirtqueue_wait_used(vq, head, TIMEOUT_MS);
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

static void assert_guest_eq_image(QTestState *s, uint64_t ga, uint64_t off, uint32_t len)
{
    uint8_t *g = malloc(len), *f = malloc(len);

    qtest_memread(s, ga, g, len);
    image_read(off, f, len);
    QT_ASSERT_MSG(!memcmp(g, f, len), "guest buffer 0x%" PRIx64 " differs from image at %"
                  PRIu64, ga, off);
    free(g);
    free(f);
}

/* ---- identity and configuration ------------------------------------------ */

static void test_ids_transitional(void)
{
    QTestState *s = start("", "");
    QVirtioDev d;

    qvirtio_pci_init(&d, s, SLOT, true);
    QT_ASSERT_EQ(qvirtio_cfg_readl(&d, 0x00), 0x10011af4u);
    QT_ASSERT_EQ(qvirtio_cfg_readb(&d, 0x08), 0);             /* revision */
    QT_ASSERT_EQ(qvirtio_cfg_readw(&d, 0x0a), 0x0100);        /* SCSI storage */
    QT_ASSERT_EQ(qvirtio_cfg_readl(&d, 0x2c), 0x00021af4u);   /* subsystem: virtio id 2 */
    QT_ASSERT_EQ(qvirtio_cfg_readb(&d, 0x3d), 1);             /* INTA# */
    QT_ASSERT_EQ(qvirtio_cfg_readl(&d, 0x10) & 1, 1u);        /* BAR0: I/O */
    QT_ASSERT_EQ(qvirtio_cfg_readl(&d, 0x20) & 0xf, 0xcu);    /* BAR4: 64-bit prefetchable */
    QT_ASSERT(d.msix_cap);
    QT_ASSERT_EQ(qvirtio_cfg_readw(&d, d.msix_cap + 2) & 0x7ff, 1);  /* 2 vectors */
    QT_ASSERT(d.cfg_cap);
    QT_ASSERT_EQ(d.notify_mult, 4u);
    QT_ASSERT_EQ(d.common, 0u);
    stop(s);
}

static void test_ids_modern_only(void)
{
    QTestState *s = start("", ",disable-legacy=on,vectors=0");
    QVirtioDev d;

    qvirtio_pci_init(&d, s, SLOT, true);
    QT_ASSERT_EQ(qvirtio_cfg_readl(&d, 0x00), 0x10421af4u);
    QT_ASSERT_EQ(qvirtio_cfg_readb(&d, 0x08), 1);
    QT_ASSERT_EQ(qvirtio_cfg_readl(&d, 0x10), 0u);            /* no legacy BAR */
    QT_ASSERT_EQ(d.msix_cap, 0);                              /* vectors=0: no MSI-X */
    stop(s);
}

static void test_config(bool modern)
{
    QTestState *s = start("", "");
    QVirtioDev d;
    uint64_t f;

    setup(&d, s, modern, 0);
    QT_ASSERT_EQ(qvirtio_config_readq(&d, 0x00), (uint64_t)IMG_SECTORS);
    QT_ASSERT_EQ(qvirtio_config_readl(&d, 0x0c), 254u);       /* seg_max */
    QT_ASSERT_EQ(qvirtio_config_readl(&d, 0x14), 512u);       /* blk_size */
    QT_ASSERT_EQ(qvirtio_config_readw(&d, 0x22), 1);          /* num_queues */
    QT_ASSERT_EQ(qvirtio_config_readl(&d, 0x28), 1u);         /* max_discard_seg */
    QT_ASSERT_EQ(qvirtio_config_readl(&d, 0x34), 1u);         /* max_write_zeroes_seg */
    QT_ASSERT_EQ(qvirtio_config_readl(&d, 0x24), 4194303u);   /* max_discard_sectors */
    f = qvirtio_get_features(&d);
    QT_ASSERT(f & (1u << VBLK_F_DISCARD));
    QT_ASSERT(f & (1u << VBLK_F_WZ));
    QT_ASSERT(!(f & (1u << VBLK_F_RO)));
    QT_ASSERT(!(f & (1u << VBLK_F_MQ)));
    QT_ASSERT(f & (1u << QVIRTIO_F_INDIRECT_DESC));
    QT_ASSERT(f & (1u << QVIRTIO_F_EVENT_IDX));
    QT_ASSERT_EQ(!!(f & (1ull << QVIRTIO_F_VERSION_1)), modern);
    stop(s);
}

static void test_config_modern(void) { test_config(true); }
static void test_config_legacy(void) { test_config(false); }

static void test_features_refused(void)
{
    QTestState *s = start("", "");
    QVirtioDev d;
    uint64_t offered;

    qvirtio_pci_init(&d, s, SLOT, true);
    qvirtio_reset(&d);
    qvirtio_set_status(&d, QVIRTIO_S_ACKNOWLEDGE | QVIRTIO_S_DRIVER);
    offered = qvirtio_get_features(&d);
    QT_ASSERT(!(offered & (1ull << 50)));
    QT_ASSERT(!(offered & (1ull << 34)));                     /* no packed ring */
    qvirtio_write_features(&d, offered | (1ull << 50));
    qvirtio_set_status(&d, QVIRTIO_S_ACKNOWLEDGE | QVIRTIO_S_DRIVER | QVIRTIO_S_FEATURES_OK);
    QT_ASSERT_EQ(qvirtio_get_status(&d), QVIRTIO_S_ACKNOWLEDGE | QVIRTIO_S_DRIVER);
    /* the offered set is accepted */
    qvirtio_write_features(&d, offered);
    qvirtio_set_status(&d, QVIRTIO_S_ACKNOWLEDGE | QVIRTIO_S_DRIVER | QVIRTIO_S_FEATURES_OK);
    QT_ASSERT_EQ(qvirtio_get_status(&d),
                 QVIRTIO_S_ACKNOWLEDGE | QVIRTIO_S_DRIVER | QVIRTIO_S_FEATURES_OK);
    stop(s);
}

static void test_features_legacy_masked(void)
{
    QTestState *s = start("", "");
    QVirtioDev d;
    uint32_t offered;

    qvirtio_pci_init(&d, s, SLOT, false);
    offered = qvirtio_get_features(&d);
    QT_ASSERT(offered & (1u << 30));                          /* BAD_FEATURE, as QEMU */
    qvirtio_write_features(&d, (offered & ~(1u << 30)) | (1u << 0) | (1u << 3));
    QT_ASSERT_EQ(qtest_inl(s, QVIRTIO_IO_BAR + 4), offered & ~(1u << 30));
    stop(s);
}

/* ---- requests ----------------------------------------------------------------- */

static void test_rw(bool modern)
{
    QTestState *s = start("", ",serial=KVMPC-SER-0123456789XYZ");
    QVirtioDev d;
    QVirtQueue *vq = setup(&d, s, modern, 0);
    uint64_t w = fill(s, 2048, 0x5a), r = qvirtio_alloc(s, 2048, 512);
    uint64_t id = qvirtio_alloc(s, 32, 1);
    uint32_t used;
    char serial[21] = { 0 };

    /* read what the image holds */
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_IN, 100, r, 1024, &used), VBLK_S_OK);
    QT_ASSERT_EQ(used, 1025u);
    assert_guest_eq_image(s, r, 100 * 512, 1024);
    /* write 4 sectors, flush, and find them in the file */
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_OUT, 10, w, 2048, NULL), VBLK_S_OK);
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_FLUSH, 0, 0, 0, &used), VBLK_S_OK);
    QT_ASSERT_EQ(used, 1u);
    assert_guest_eq_image(s, w, 10 * 512, 2048);
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_IN, 10, r, 2048, NULL), VBLK_S_OK);
    assert_guest_eq_image(s, r, 10 * 512, 2048);
    /* the last sector reads; one past the end and partial sectors do not */
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_IN, IMG_SECTORS - 1, r, 512, NULL), VBLK_S_OK);
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_IN, IMG_SECTORS - 1, r, 1024, NULL), VBLK_S_IOERR);
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_OUT, IMG_SECTORS, w, 512, NULL), VBLK_S_IOERR);
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_IN, 0, r, 100, NULL), VBLK_S_IOERR);
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_IN, UINT64_MAX / 256, r, 512, NULL), VBLK_S_IOERR);
    /* get-id: the serial, cut at 20 bytes */
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_GET_ID, 0, id, 20, &used), VBLK_S_OK);
    QT_ASSERT_EQ(used, 21u);
    qtest_memread(s, id, serial, 20);
    QT_ASSERT_MSG(!strcmp(serial, "KVMPC-SER-0123456789"), "serial \"%s\"", serial);
    /* no data at all: nothing to move, OK */
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_IN, 5, 0, 0, &used), VBLK_S_OK);
    QT_ASSERT_EQ(used, 1u);
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_OUT, 5, 0, 0, &used), VBLK_S_OK);
    /* an unknown type */
    QT_ASSERT_EQ(blk_req_vq(vq, 99, 0, 0, 0, NULL), VBLK_S_UNSUPP);
    stop(s);
}

static void test_rw_modern(void) { test_rw(true); }
static void test_rw_legacy(void) { test_rw(false); }

static uint64_t segment(QTestState *s, uint64_t sector, uint32_t n, uint32_t flags)
{
    uint64_t a = qvirtio_alloc(s, 16, 16);

    qtest_writeq(s, a, sector);
    qtest_writel(s, a + 8, n);
    qtest_writel(s, a + 12, flags);
    return a;
}

static void test_discard_write_zeroes(bool modern)
{
    QTestState *s = start(",discard=unmap", "");
    QVirtioDev d;
    QVirtQueue *vq = setup(&d, s, modern, (1u << VBLK_F_DISCARD) | (1u << VBLK_F_WZ));
    uint8_t buf[4096], zero[4096] = { 0 };
    uint64_t two;

    QT_ASSERT_EQ(qvirtio_config_readb(&d, 0x38), 1);          /* write_zeroes_may_unmap */
    /* write-zeroes 8 sectors at 20 */
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_WZ, 0, segment(s, 20, 8, 0), 16, NULL), VBLK_S_OK);
    image_read(20 * 512, buf, sizeof(buf));
    QT_ASSERT(!memcmp(buf, zero, sizeof(buf)));
    image_read(19 * 512, buf, 512);                           /* neighbours untouched */
    QT_ASSERT_EQ(buf[0], (uint8_t)(19 * 7));
    image_read(28 * 512, buf, 512);
    QT_ASSERT_EQ(buf[1], (uint8_t)(28 * 7 + 1));
    /* with unmap */
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_WZ, 0, segment(s, 40, 8, 1), 16, NULL), VBLK_S_OK);
    image_read(40 * 512, buf, sizeof(buf));
    QT_ASSERT(!memcmp(buf, zero, sizeof(buf)));
    /* discard: completes; the unmap flag is not for discard */
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_DISCARD, 0, segment(s, 64, 8, 0), 16, NULL), VBLK_S_OK);
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_DISCARD, 0, segment(s, 64, 8, 1), 16, NULL),
                 VBLK_S_UNSUPP);
    /* out of range, and two segments (max_discard_seg is 1) */
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_WZ, 0, segment(s, IMG_SECTORS - 4, 8, 0), 16, NULL),
                 VBLK_S_IOERR);
    two = qvirtio_alloc(s, 32, 16);
    qtest_writeq(s, two, 0);
    qtest_writel(s, two + 8, 1);
    qtest_writeq(s, two + 16, 2);
    qtest_writel(s, two + 24, 1);
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_DISCARD, 0, two, 32, NULL), VBLK_S_UNSUPP);
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_WZ, 0, two, 12, NULL), VBLK_S_IOERR);
    stop(s);
}

static void test_discard_wz_modern(void) { test_discard_write_zeroes(true); }
static void test_discard_wz_legacy(void) { test_discard_write_zeroes(false); }

static void test_discard_off(void)
{
    QTestState *s = start("", ",discard=off,write-zeroes=off");
    QVirtioDev d;
    QVirtQueue *vq = setup(&d, s, true, 0);
    uint64_t f = qvirtio_get_features(&d);

    QT_ASSERT(!(f & (1u << VBLK_F_DISCARD)));
    QT_ASSERT(!(f & (1u << VBLK_F_WZ)));
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_WZ, 0, segment(s, 20, 8, 0), 16, NULL), VBLK_S_UNSUPP);
    stop(s);
}

static void test_readonly(void)
{
    QTestState *s = start(",readonly=on", "");
    QVirtioDev d;
    QVirtQueue *vq = setup(&d, s, true, 1u << VBLK_F_RO);
    uint64_t w = fill(s, 512, 1), r = qvirtio_alloc(s, 512, 512);

    QT_ASSERT(d.features & (1u << VBLK_F_RO));
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_OUT, 0, w, 512, NULL), VBLK_S_IOERR);
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_WZ, 0, segment(s, 0, 1, 0), 16, NULL), VBLK_S_IOERR);
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_IN, 0, r, 512, NULL), VBLK_S_OK);
    assert_guest_eq_image(s, r, 0, 512);                      /* the write did not land */
    stop(s);
}

static void test_indirect(void)
{
    QTestState *s = start("", "");
    QVirtioDev d;
    QVirtQueue *vq = setup(&d, s, true, 1u << QVIRTIO_F_INDIRECT_DESC);
    uint64_t hdr = qvirtio_alloc(s, 16, 16), st = qvirtio_alloc(s, 1, 1);
    uint64_t r = qvirtio_alloc(s, 1024, 512), table = qvirtio_alloc(s, 64, 16);
    static const uint32_t halves[] = { 300, 724 };

    QT_ASSERT(d.features & (1u << QVIRTIO_F_INDIRECT_DESC));
    /* header, data split in two, status (in the ring kind's table format) */
    for (int round = 0; round < 2; round++) {
        QT_ASSERT_EQ(blk_read_indirect(vq, table, hdr, st, 7, r, halves, 2), 1025u);
        QT_ASSERT_EQ(qtest_readb(s, st), VBLK_S_OK);
        assert_guest_eq_image(s, r, 7 * 512, 1024);
        /* a direct chain after it: the indirect one took one ring slot */
        QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_IN, 9, r, 512, NULL), VBLK_S_OK);
        assert_guest_eq_image(s, r, 9 * 512, 512);
    }
    stop(s);
}

/*
 * Several requests published together, one notification: what one kick
 * finds is merged where adjacent (docs/virtio.md); every request still
 * completes on its own with its own status and used length.  Heads are
 * returned in any order.
 */
typedef struct BatchReq {
    uint32_t type;
    uint64_t sector;
    uint64_t data;
    uint32_t len;
    uint64_t st;
    uint16_t head;
} BatchReq;

static void batch_run(QVirtQueue *vq, BatchReq *r, unsigned n)
{
    bool seen[64] = { false };

    for (unsigned i = 0; i < n; i++) {
        r[i].head = blk_chain(vq, r[i].type, r[i].sector, r[i].data, r[i].len, &r[i].st);
        qvirtqueue_publish(vq, r[i].head);
    }
    qvirtqueue_notify(vq);
    for (int t = 0; (uint16_t)(qvirtqueue_used_idx(vq) - vq->last_used) < n; t++) {
        QT_ASSERT_MSG(t < TIMEOUT_MS, "%u of %u requests used",
                      (uint16_t)(qvirtqueue_used_idx(vq) - vq->last_used), n);
        usleep(1000);
    }
    for (unsigned k = 0; k < n; k++) {
        uint32_t id, len;
        unsigned i;

        QT_ASSERT(qvirtqueue_pop_used(vq, &id, &len));

        for (i = 0; i < n && r[i].head != id; i++) {
        }
        QT_ASSERT_MSG(i < n && !seen[i], "used id %u: not a request of the batch, or twice", id);
        seen[i] = true;
        /* a read that fails returns the status byte only */
        QT_ASSERT_EQ(len, r[i].type == VBLK_T_IN && r[i].sector + r[i].len / 512 <= IMG_SECTORS
                          ? r[i].len + 1 : 1u);
    }
}

/* The number after "key": in a QMP reply (one backend), or -1. */
static long long stat_of(const char *reply, const char *key)
{
    char k[64];
    const char *p;

    snprintf(k, sizeof(k), "\"%s\":", key);
    p = strstr(reply, k);
    return p ? strtoll(p + strlen(k), NULL, 10) : -1;
}

static void test_merge(void)
{
    char qmp_path[256], extra[320];
    QTestState *s;
    QVirtioDev d;
    int qmp;
    char *st;

    qt_tmpfile(qmp_path, sizeof(qmp_path), "vblk-qmp");
    unlink(qmp_path);
    snprintf(extra, sizeof(extra), " -qmp unix:%s,server=on,wait=off", qmp_path);
    s = start("", extra);
    qmp = qtest_qmp_connect(qmp_path);
    QT_ASSERT(qmp >= 0);
    QVirtQueue *vq = setup(&d, s, true, 0);
    BatchReq w[] = {
        /* out of order, adjacent once sorted: 16-19, 20-21, 22: one write */
        { VBLK_T_OUT, 20, fill(s, 1024, 0x11), 1024 },
        { VBLK_T_OUT, 16, fill(s, 2048, 0x22), 2048 },
        { VBLK_T_OUT, 22, fill(s, 512, 0x33), 512 },
        { VBLK_T_OUT, 40, fill(s, 512, 0x44), 512 },    /* not adjacent */
        { VBLK_T_FLUSH, 0, 0, 0 },                      /* after all of them */
        { VBLK_T_OUT, 41, fill(s, 512, 0x55), 512 },    /* not merged across the flush */
    };
    BatchReq r[] = {
        { VBLK_T_IN, 103, qvirtio_alloc(s, 512, 512), 512 },
        { VBLK_T_IN, 100, qvirtio_alloc(s, 1536, 512), 1536 },
        { VBLK_T_IN, 16, qvirtio_alloc(s, 3584, 512), 3584 },   /* what was written */
        { VBLK_T_IN, IMG_SECTORS - 1, qvirtio_alloc(s, 1024, 512), 1024 },  /* past the end */
        { VBLK_T_IN, 104, qvirtio_alloc(s, 4096, 512), 4096 },
    };

    batch_run(vq, w, 6);
    for (unsigned i = 0; i < 6; i++) {
        QT_ASSERT_MSG(qtest_readb(s, w[i].st) == VBLK_S_OK, "write %u: status %u", i,
                      qtest_readb(s, w[i].st));
        if (w[i].len) {
            assert_guest_eq_image(s, w[i].data, w[i].sector * 512, w[i].len);
        }
    }
    batch_run(vq, r, 5);
    for (unsigned i = 0; i < 5; i++) {
        uint8_t want = r[i].sector == IMG_SECTORS - 1 ? VBLK_S_IOERR : VBLK_S_OK;

        QT_ASSERT_MSG(qtest_readb(s, r[i].st) == want, "read %u: status %u", i,
                      qtest_readb(s, r[i].st));
        if (want == VBLK_S_OK) {
            assert_guest_eq_image(s, r[i].data, r[i].sector * 512, r[i].len);
        }
    }
    /* what query-blockstats says, as QEMU counts merges: every guest
     * request is an operation, the ones folded into another are merged
     * (writes 16+20+22: 2; reads 100+103+104: 2; the flush keeps 40 and
     * 41 apart), the read past the end is invalid */
    st = qtest_qmp(qmp, "{\"execute\":\"query-blockstats\"}\n");
    QT_ASSERT_MSG(st && strstr(st, "\"return\""), "%s", st ? st : "no reply");
    QT_ASSERT_EQ(stat_of(st, "wr_merged"), 2);
    QT_ASSERT_EQ(stat_of(st, "rd_merged"), 2);
    QT_ASSERT_EQ(stat_of(st, "wr_operations"), 5);
    QT_ASSERT_EQ(stat_of(st, "rd_operations"), 4);
    QT_ASSERT_EQ(stat_of(st, "flush_operations"), 1);
    QT_ASSERT_EQ(stat_of(st, "wr_bytes"), 4608);
    QT_ASSERT_EQ(stat_of(st, "rd_bytes"), 9728);
    QT_ASSERT_EQ(stat_of(st, "invalid_rd_operations"), 1);
    QT_ASSERT_EQ(stat_of(st, "failed_rd_operations"), 0);
    free(st);
    close(qmp);
    unlink(qmp_path);
    stop(s);
}

static void test_multiqueue(void)
{
    QTestState *s = start("", ",num-queues=3");
    QVirtioDev d;
    QVirtQueue *vq2;
    uint64_t r;

    setup(&d, s, true, 1u << VBLK_F_MQ);
    QT_ASSERT(d.features & (1u << VBLK_F_MQ));
    QT_ASSERT_EQ(qvirtio_config_readw(&d, 0x22), 3);
    QT_ASSERT_EQ(qvirtio_num_queues(&d), 3);
    QT_ASSERT_EQ(qvirtio_cfg_readw(&d, d.msix_cap + 2) & 0x7ff, 3);  /* 4 vectors */
    vq2 = qvirtqueue_setup(&d, 2);
    r = qvirtio_alloc(s, 512, 512);
    QT_ASSERT_EQ(blk_req_vq(vq2, VBLK_T_IN, 33, r, 512, NULL), VBLK_S_OK);
    assert_guest_eq_image(s, r, 33 * 512, 512);
    stop(s);
}

/* ioeventfd=on: the notify write sets an eventfd, the main loop runs the queue */
static void test_ioeventfd(bool modern)
{
    QTestState *s = start("", ",ioeventfd=on,num-queues=2");
    QVirtioDev d;
    QVirtQueue *vq = setup(&d, s, modern, 0), *vq1 = qvirtqueue_setup(&d, 1);
    uint64_t r = qvirtio_alloc(s, 1024, 512);

    for (int i = 0; i < 3; i++) {
        QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_IN, 50 + i, r, 1024, NULL), VBLK_S_OK);
        assert_guest_eq_image(s, r, (50 + i) * 512, 1024);
        QT_ASSERT_EQ(blk_req_vq(vq1, VBLK_T_IN, 60 + i, r, 512, NULL), VBLK_S_OK);
        assert_guest_eq_image(s, r, (60 + i) * 512, 512);
    }
    /* after a reset and a new start, the eventfds work again */
    vq = setup(&d, s, modern, 0);
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_IN, 70, r, 512, NULL), VBLK_S_OK);
    assert_guest_eq_image(s, r, 70 * 512, 512);
    stop(s);
}

static void test_ioeventfd_modern(void) { test_ioeventfd(true); }
static void test_ioeventfd_legacy(void) { test_ioeventfd(false); }

/* ---- interrupts -------------------------------------------------------------- */

static void test_msix(bool modern)
{
    QTestState *s = start("", "");
    QVirtioDev d;
    QVirtQueue *vq;
    uint64_t r;

    qvirtio_pci_init(&d, s, SLOT, modern);
    qvirtio_msix_enable(&d, 2);
    qvirtio_start(&d, modern ? 1ull << QVIRTIO_F_VERSION_1 : 0);
    vq = qvirtqueue_setup(&d, 0);
    QT_ASSERT_EQ(qvirtio_set_queue_vector(&d, 0, 5), 0xffff);  /* no such vector */
    QT_ASSERT_EQ(qvirtio_set_queue_vector(&d, 0, 1), 1);
    qvirtio_driver_ok(&d);
    r = qvirtio_alloc(s, 512, 512);
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_IN, 1, r, 512, NULL), VBLK_S_OK);
    /* the message may follow the used entry by a moment: same exit, but be safe */
    for (int i = 0; i < 1000 && !qvirtio_msix_received(&d, 1); i++) {
        usleep(1000);
    }
    QT_ASSERT_EQ(qvirtio_msix_received(&d, 1), 0x1001u);
    QT_ASSERT_EQ(qvirtio_msix_received(&d, 0), 0u);            /* config vector: nothing */
    /* masked vector: pending bit in the PBA, no message */
    qvirtio_msix_clear(&d, 1);
    qtest_writel(s, QVIRTIO_MSIX_BAR + 16 + 12, 1);
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_IN, 2, r, 512, NULL), VBLK_S_OK);
    QT_ASSERT_EQ(qvirtio_msix_received(&d, 1), 0u);
    QT_ASSERT_EQ(qtest_readl(s, QVIRTIO_MSIX_BAR + 0x800) & 2, 2u);
    qtest_writel(s, QVIRTIO_MSIX_BAR + 16 + 12, 0);
    QT_ASSERT_EQ(qvirtio_msix_received(&d, 1), 0x1001u);
    stop(s);
}

static void test_msix_modern(void) { test_msix(true); }
static void test_msix_legacy(void) { test_msix(false); }

static void test_intx_isr(bool modern)
{
    QTestState *s = start("", "");
    QVirtioDev d;
    QVirtQueue *vq = setup(&d, s, modern, 0);
    uint64_t r = qvirtio_alloc(s, 512, 512);

    QT_ASSERT_EQ(qvirtio_isr(&d), 0);
    QT_ASSERT_EQ(qvirtio_cfg_readw(&d, 0x06) & 0x08, 0);        /* INTx status low */
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_IN, 3, r, 512, NULL), VBLK_S_OK);
    QT_ASSERT_EQ(qvirtio_cfg_readw(&d, 0x06) & 0x08, 0x08);     /* asserted */
    QT_ASSERT_EQ(qvirtio_isr(&d), 1);
    QT_ASSERT_EQ(qvirtio_cfg_readw(&d, 0x06) & 0x08, 0);        /* the read dropped it */
    QT_ASSERT_EQ(qvirtio_isr(&d), 0);
    /* VRING_AVAIL_F_NO_INTERRUPT (packed: the driver event flags DISABLE)
     * suppresses it */
    qvirtqueue_set_interrupts(vq, false);
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_IN, 3, r, 512, NULL), VBLK_S_OK);
    QT_ASSERT_EQ(qvirtio_isr(&d), 0);
    QT_ASSERT_EQ(qvirtio_cfg_readw(&d, 0x06) & 0x08, 0);
    /* and back on */
    qvirtqueue_set_interrupts(vq, true);
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_IN, 3, r, 512, NULL), VBLK_S_OK);
    QT_ASSERT_EQ(qvirtio_isr(&d), 1);
    stop(s);
}

static void test_intx_modern(void) { test_intx_isr(true); }
static void test_intx_legacy(void) { test_intx_isr(false); }

static void test_event_idx(void)
{
    QTestState *s = start("", "");
    QVirtioDev d;
    QVirtQueue *vq = setup(&d, s, true, 1u << QVIRTIO_F_EVENT_IDX);
    uint64_t r = qvirtio_alloc(s, 512, 512);

    QT_ASSERT(d.features & (1u << QVIRTIO_F_EVENT_IDX));
    /* used_event = 5: no interrupt until used idx passes 5 */
    qtest_writew(s, vq->avail + 4 + 2 * vq->size, 5);
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_IN, 0, r, 512, NULL), VBLK_S_OK);
    QT_ASSERT_EQ(qvirtio_isr(&d), 1);       /* the first one always signals */
    for (int i = 0; i < 4; i++) {
        QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_IN, 0, r, 512, NULL), VBLK_S_OK);
        QT_ASSERT_EQ(qvirtio_isr(&d), 0);
    }
    QT_ASSERT_EQ(qvirtqueue_used_idx(vq), 5);
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_IN, 0, r, 512, NULL), VBLK_S_OK);  /* idx 5 -> 6 */
    QT_ASSERT_EQ(qvirtio_isr(&d), 1);
    /* the device publishes avail_event = its next avail index */
    QT_ASSERT_EQ(qtest_readw(s, vq->used + 4 + 8 * vq->size), 6);
    stop(s);
}

/* ---- ring wrap-around, packed event suppression ------------------------------ */

/*
 * A 16-entry queue and 40 requests one after another: the ring wraps
 * seven times, and as 16 is not a multiple of the 3 descriptors of a
 * request, chains cross the end of the ring (packed: their descriptors
 * carry the flipped wrap counter after slot 15; the used descriptors are
 * found at the device's slots).  Every 5th request is an indirect one.
 */
static void test_wrap(void)
{
    QTestState *s = start("", ",queue-size=16");
    QVirtioDev d;
    QVirtQueue *vq = setup(&d, s, true, 1u << QVIRTIO_F_INDIRECT_DESC);
    uint64_t r = qvirtio_alloc(s, 1024, 512), w = fill(s, 512, 0x77);
    uint64_t hdr = qvirtio_alloc(s, 16, 16), st = qvirtio_alloc(s, 1, 1);
    uint64_t table = qvirtio_alloc(s, 48, 16);
    static const uint32_t whole = 1024;

    QT_ASSERT_EQ(vq->size, 16u);
    for (int i = 0; i < 40; i++) {
        uint64_t sector = (i * 37) % (IMG_SECTORS - 2);

        if (i % 5 == 4) {
            QT_ASSERT_EQ(blk_read_indirect(vq, table, hdr, st, sector, r, &whole, 1), 1025u);
            QT_ASSERT_EQ(qtest_readb(s, st), VBLK_S_OK);
        } else if (i % 5 == 2) {
            QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_OUT, 3000 + i, w, 512, NULL), VBLK_S_OK);
            assert_guest_eq_image(s, w, (3000 + i) * 512, 512);
            continue;
        } else {
            QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_IN, sector, r, 1024, NULL), VBLK_S_OK);
        }
        assert_guest_eq_image(s, r, sector * 512, 1024);
    }
    QT_ASSERT_EQ(vq->last_used, 40);
    if (vq->packed) {
        /* 32 chains of 3 slots and 8 of 1: 104 slots, six laps and 8 */
        QT_ASSERT_EQ(vq->free_head, 104 % 16);
        QT_ASSERT_EQ(vq->avail_wrap, (104 / 16) % 2 == 0);
        QT_ASSERT_EQ(vq->used_slot, 104 % 16);
    }
    stop(s);
}

/*
 * Packed rings, the driver event suppression area the device reads before
 * interrupting (INTx, so the ISR says whether it did): DISABLE, ENABLE,
 * and with EVENT_IDX a descriptor event: an interrupt only when the used
 * descriptor at that offset, in that lap of the ring, is written.
 */
static void test_packed_event(void)
{
    QTestState *s;
    QVirtioDev d;
    QVirtQueue *vq;
    uint64_t r;
    int want[] = { 0, 0, 1, 0, 1, 0, 0, 0 };

    s = start("", ",packed=on,queue-size=16");
    vq = setup_ring(&d, s, true, 1u << QVIRTIO_F_EVENT_IDX, true);
    r = qvirtio_alloc(s, 512, 512);
    QT_ASSERT(vq->packed);
    QT_ASSERT(d.features & (1u << QVIRTIO_F_EVENT_IDX));
    /* disabled: no interrupt, INTx stays low */
    qvirtqueue_set_interrupts(vq, false);
    for (int i = 0; i < 2; i++) {
        QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_IN, i, r, 512, NULL), VBLK_S_OK);
        QT_ASSERT_EQ(qvirtio_cfg_readw(&d, 0x06) & 0x08, 0);
        QT_ASSERT_EQ(qvirtio_isr(&d), 0);
    }
    /* enabled: every completion */
    qvirtqueue_set_interrupts(vq, true);
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_IN, 2, r, 512, NULL), VBLK_S_OK);
    QT_ASSERT_EQ(qvirtio_isr(&d), 1);
    QT_ASSERT_EQ(vq->used_slot, 9);
    /*
     * Requests take 3 slots; the next used descriptors go to slots 9, 12,
     * 15, 2 (next lap), 5, 8, 11, 14, 1.  Ask for slot 15 of this lap: 9
     * no, 12 no, 15 yes.  Then for slot 5 of the next lap (wrap counter
     * 0): 2 no, 5 yes, 8, 11 and 14 no, nor 1 of the lap after (slot 5 of
     * the lap before has passed).
     */
    qvirtqueue_packed_event_desc(vq, 15, true);
    for (int i = 0; i < 3; i++) {
        QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_IN, 10 + i, r, 512, NULL), VBLK_S_OK);
        QT_ASSERT_MSG(qvirtio_isr(&d) == want[i], "request %d (used slot %u): want %d",
                      i, (vq->used_slot + 13) % 16, want[i]);
    }
    QT_ASSERT_EQ(vq->used_slot, 2);
    QT_ASSERT(!vq->used_wrap);
    qvirtqueue_packed_event_desc(vq, 5, false);
    for (int i = 3; i < 8; i++) {
        QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_IN, 10 + i, r, 512, NULL), VBLK_S_OK);
        QT_ASSERT_MSG(qvirtio_isr(&d) == want[i], "request %d (used slot %u): want %d",
                      i, (vq->used_slot + 13) % 16, want[i]);
    }
    /* slot 5 with the other wrap counter is in the next lap: not yet
     * (used slots 1, 4, 7 of this one) */
    QT_ASSERT_EQ(vq->used_slot, 1);
    QT_ASSERT(vq->used_wrap);
    qvirtqueue_packed_event_desc(vq, 5, false);
    for (int i = 0; i < 3; i++) {
        QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_IN, 20 + i, r, 512, NULL), VBLK_S_OK);
        QT_ASSERT_EQ(qvirtio_isr(&d), 0);
    }
    stop(s);
}

/* ---- hostile rings ------------------------------------------------------------ */

typedef void HostileFn(QTestState *s, QVirtQueue *vq);

static uint64_t req_header(QTestState *s, uint32_t type)
{
    uint64_t hdr = qvirtio_alloc(s, 16, 16);

    qtest_writel(s, hdr, type);
    return hdr;
}

/*
 * A read request's three descriptors (header of type IN, sector 0; the
 * data, device-writable, even of length 0; status) at the driver's next
 * slots, on either ring kind, not published: the head.
 */
static uint16_t read_chain(QTestState *s, QVirtQueue *vq, uint64_t data, uint32_t len,
                           uint64_t st)
{
    uint16_t h = qvirtqueue_add(vq, req_header(s, VBLK_T_IN), 16, false, true);

    qvirtqueue_add(vq, data, len, true, true);
    qvirtqueue_add(vq, st, 1, true, false);
    return h;
}

/* The cases from here to hostile_out_after_in serve both ring kinds. */
static void hostile_desc_outside_ram(QTestState *s, QVirtQueue *vq)
{
    /* 256 GiB: no RAM */
    qvirtqueue_kick(vq, read_chain(s, vq, 0x4000000000ull, 512, qvirtio_alloc(s, 1, 1)));
}

static void hostile_desc_in_mmio(QTestState *s, QVirtQueue *vq)
{
    /* the device's own BAR */
    qvirtqueue_kick(vq, read_chain(s, vq, QVIRTIO_MODERN_BAR, 512, qvirtio_alloc(s, 1, 1)));
}

static void hostile_desc_straddles_ram_end(QTestState *s, QVirtQueue *vq)
{
    /* last 256 bytes of RAM + hole */
    qvirtqueue_kick(vq, read_chain(s, vq, (128u << 20) - 256, 512, qvirtio_alloc(s, 1, 1)));
}

/* the data descriptor of a read has length 0 */
static void hostile_zero_len_buffer(QTestState *s, QVirtQueue *vq)
{
    qvirtqueue_kick(vq, read_chain(s, vq, qvirtio_alloc(s, 512, 512), 0,
                                   qvirtio_alloc(s, 1, 1)));
}

static void hostile_out_after_in(QTestState *s, QVirtQueue *vq)
{
    uint16_t h = qvirtqueue_add(vq, qvirtio_alloc(s, 1, 1), 1, true, true);

    qvirtqueue_add(vq, req_header(s, VBLK_T_IN), 16, false, false);
    qvirtqueue_kick(vq, h);
}

static void hostile_loop(QTestState *s, QVirtQueue *vq)
{
    uint64_t hdr = req_header(s, VBLK_T_IN);

    qvirtqueue_write_desc(s, vq->desc, 0, hdr, 16, QVRING_DESC_F_NEXT, 1);
    qvirtqueue_write_desc(s, vq->desc, 1, hdr, 16, QVRING_DESC_F_NEXT, 0);
    qvirtqueue_kick(vq, 0);
}

static void hostile_next_out_of_range(QTestState *s, QVirtQueue *vq)
{
    qvirtqueue_write_desc(s, vq->desc, 0, req_header(s, VBLK_T_IN), 16, QVRING_DESC_F_NEXT,
                          vq->size);
    qvirtqueue_kick(vq, 0);
}

static void hostile_head_out_of_range(QTestState *s, QVirtQueue *vq)
{
    (void)s;
    qvirtqueue_kick(vq, vq->size + 3);
}

static void hostile_chain_too_long_indirect(QTestState *s, QVirtQueue *vq)
{
    /* a 3-entry indirect table whose chain goes 0 -> 1 -> 2 -> 0 */
    uint64_t t = qvirtio_alloc(s, 48, 16), hdr = req_header(s, VBLK_T_IN);

    for (int i = 0; i < 3; i++) {
        qvirtqueue_write_desc(s, t, i, hdr, 16, QVRING_DESC_F_NEXT, (i + 1) % 3);
    }
    qvirtqueue_write_desc(s, vq->desc, 0, t, 48, QVRING_DESC_F_INDIRECT, 0);
    qvirtqueue_kick(vq, 0);
}

static void hostile_nested_indirect(QTestState *s, QVirtQueue *vq)
{
    uint64_t t1 = qvirtio_alloc(s, 16, 16), t2 = qvirtio_alloc(s, 16, 16);

    qvirtqueue_write_desc(s, t2, 0, req_header(s, VBLK_T_IN), 16, 0, 0);
    qvirtqueue_write_desc(s, t1, 0, t2, 16, QVRING_DESC_F_INDIRECT, 0);
    qvirtqueue_write_desc(s, vq->desc, 0, t1, 16, QVRING_DESC_F_INDIRECT, 0);
    qvirtqueue_kick(vq, 0);
}

static void hostile_indirect_zero_len(QTestState *s, QVirtQueue *vq)
{
    qvirtqueue_write_desc(s, vq->desc, 0, qvirtio_alloc(s, 16, 16), 0, QVRING_DESC_F_INDIRECT, 0);
    qvirtqueue_kick(vq, 0);
}

static void hostile_indirect_outside_ram(QTestState *s, QVirtQueue *vq)
{
    (void)s;
    qvirtqueue_write_desc(s, vq->desc, 0, 0xfffffffffffff000ull, 4096, QVRING_DESC_F_INDIRECT, 0);
    qvirtqueue_kick(vq, 0);
}

static void hostile_avail_ahead(QTestState *s, QVirtQueue *vq)
{
    qtest_writew(s, vq->avail + 2, vq->size + 1);
    qvirtqueue_notify(vq);
}

/* The avail ring itself outside RAM: set up after the fact. */
static void hostile_ring_outside_ram(QTestState *s, QVirtQueue *vq)
{
    QVirtioDev *d = vq->dev;

    (void)s;
    if (!d->modern) {
        /* legacy: the PFN places all three; point it past RAM */
        qtest_outw(s, QVIRTIO_IO_BAR + 0x0e, 0);
        qtest_outl(s, QVIRTIO_IO_BAR + 0x08, 0x40000000u);   /* 4 TiB */
    } else {
        /* modern: queue addresses are writable only before enable, so use queue 0 of a
         * device brought up again with a bad avail address */
        qvirtio_set_status(d, 0);
        qvirtio_start(d, 1ull << QVIRTIO_F_VERSION_1);
        qvirtio_set_config_vector(d, 0);
        qtest_writew(s, QVIRTIO_MODERN_BAR + d->common + 0x16, 0);
        qtest_writel(s, QVIRTIO_MODERN_BAR + d->common + 0x20, (uint32_t)vq->desc);
        qtest_writel(s, QVIRTIO_MODERN_BAR + d->common + 0x28, 0xfee00000u);
        qtest_writel(s, QVIRTIO_MODERN_BAR + d->common + 0x30, (uint32_t)vq->used);
        qtest_writew(s, QVIRTIO_MODERN_BAR + d->common + 0x1c, 1);
        qvirtio_driver_ok(d);
    }
    qvirtqueue_notify(vq);
}

static void run_hostile(bool modern, HostileFn *fn, const char *about)
{
    QTestState *s = start("", qt_log_redirect());
    QVirtioDev d;
    QVirtQueue *vq;
    uint64_t r;
    uint16_t used_before;

    qvirtio_pci_init(&d, s, SLOT, modern);
    qvirtio_msix_enable(&d, 2);
    qvirtio_start(&d, (1ull << QVIRTIO_F_INDIRECT_DESC) |
                      (modern ? 1ull << QVIRTIO_F_VERSION_1 : 0));
    QT_ASSERT_EQ(qvirtio_set_config_vector(&d, 0), 0);
    vq = qvirtqueue_setup(&d, 0);
    qvirtio_set_queue_vector(&d, 0, 1);
    qvirtio_driver_ok(&d);
    used_before = fn == hostile_ring_outside_ram ? 0 : qvirtqueue_used_idx(vq);
    fn(s, vq);
    /* qtest answers, nothing was completed */
    QT_ASSERT_EQ(qvirtio_cfg_readw(&d, 0x00), 0x1af4);
    if (fn != hostile_ring_outside_ram) {
        QT_ASSERT_EQ(qvirtqueue_used_idx(vq), used_before);
    }
    /* one log line says why, for a legacy driver too (it has no NEEDS_RESET) */
    QT_ASSERT_NEEDS_RESET_LOGGED("virtio-blk", about);
    if (modern) {
        QT_ASSERT_MSG(qvirtio_get_status(&d) & QVIRTIO_S_NEEDS_RESET, "status 0x%x",
                      qvirtio_get_status(&d));
        QT_ASSERT_EQ(qvirtio_msix_received(&d, 0), 0x1000u);   /* config interrupt */
    } else {
        QT_ASSERT_EQ(qvirtio_get_status(&d) & QVIRTIO_S_NEEDS_RESET, 0);
    }
    /* stopped: a good request on a good ring is ignored until reset */
    if (fn != hostile_ring_outside_ram) {
        uint64_t rr = qvirtio_alloc(s, 512, 512), st = qvirtio_alloc(s, 1, 1);

        vq->prev = -1;
        vq->free_head = 8;
        vq->avail_idx = qtest_readw(s, vq->avail + 2);
        qvirtqueue_kick(vq, read_chain(s, vq, rr, 512, st));
        usleep(20000);
        QT_ASSERT_EQ(qvirtqueue_used_idx(vq), used_before);
    }
    /* reset clears NEEDS_RESET; the device works again */
    qvirtio_reset(&d);
    QT_ASSERT_EQ(qvirtio_get_status(&d), 0);
    vq = setup(&d, s, modern, 0);
    r = qvirtio_alloc(s, 512, 512);
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_IN, 5, r, 512, NULL), VBLK_S_OK);
    assert_guest_eq_image(s, r, 5 * 512, 512);
    /* the working device after the reset logged nothing more */
    QT_ASSERT_NEEDS_RESET_LOGGED("virtio-blk", about);
    stop(s);
}

/* name, and what its log line says */
#define HOSTILE(name, about)                                                    \
    static void test_##name##_modern(void) { run_hostile(true, hostile_##name, about); } \
    static void test_##name##_legacy(void) { run_hostile(false, hostile_##name, about); }
HOSTILE(desc_outside_ram, "outside RAM")
HOSTILE(desc_in_mmio, "outside RAM")
HOSTILE(desc_straddles_ram_end, "outside RAM")
HOSTILE(loop, "longer than")
HOSTILE(next_out_of_range, "out of range")
HOSTILE(head_out_of_range, "out of range")
HOSTILE(chain_too_long_indirect, "longer than")
HOSTILE(nested_indirect, "indirect descriptor inside an indirect table")
HOSTILE(indirect_zero_len, "indirect table of 0 bytes is invalid")
HOSTILE(indirect_outside_ram, "outside RAM")
HOSTILE(avail_ahead, "ahead of")
HOSTILE(zero_len_buffer, "zero-sized buffer")
HOSTILE(out_after_in, "driver-readable buffer after a writable one")
HOSTILE(ring_outside_ram, "ring at 0x")

/* ---- hostile packed rings ------------------------------------------------------ */

/*
 * The same promises on packed rings (a 16-entry queue, INDIRECT_DESC):
 * each case of libqvirtio's qvirtqueue_packed_hostile() makes one bad
 * variant of a read request available at slot 0 (or gives the queue bad
 * areas) and notifies; the device must use nothing, set NEEDS_RESET with
 * a configuration interrupt, log one line naming the fault, ignore a good
 * request until it is reset, and work after the reset.
 */

static QTestState *packed_start(QVirtioDev *d, QVirtQueue **vq, bool log)
{
    char opts[400];
    QTestState *s;

    snprintf(opts, sizeof(opts), ",packed=on,queue-size=16%s", log ? qt_log_redirect() : "");
    s = start("", opts);

    qvirtio_pci_init(d, s, SLOT, true);
    qvirtio_use_packed(d, true);
    qvirtio_msix_enable(d, 2);
    qvirtio_start(d, (1ull << QVIRTIO_F_INDIRECT_DESC) | (1ull << QVIRTIO_F_VERSION_1));
    QT_ASSERT_EQ(qvirtio_set_config_vector(d, 0), 0);
    *vq = qvirtqueue_setup(d, 0);
    QT_ASSERT((*vq)->packed);
    QT_ASSERT_EQ((*vq)->size, 16u);
    qvirtio_set_queue_vector(d, 0, 1);
    qvirtio_driver_ok(d);
    return s;
}

static void run_hostile_packed(QVirtioPackedHostile kind)
{
    QTestState *s;
    QVirtioDev d;
    QVirtQueue *vq;
    const char *about;
    uint64_t r;

    s = packed_start(&d, &vq, true);
    about = qvirtqueue_packed_hostile(vq, kind, (QVirtioBuf[]){
        { req_header(s, VBLK_T_IN), 16, false },
        { qvirtio_alloc(s, 512, 512), 512, true },
        { qvirtio_alloc(s, 1, 1), 1, true } }, 3);
    /* qtest answers, nothing was used, the device says it needs a reset */
    QT_ASSERT_EQ(qvirtio_cfg_readw(&d, 0x00), 0x1af4);
    QT_ASSERT(!qvirtqueue_used_pending(vq));
    QT_ASSERT_NEEDS_RESET_LOGGED("virtio-blk", about);
    QT_ASSERT_MSG(qvirtio_get_status(&d) & QVIRTIO_S_NEEDS_RESET, "status 0x%x",
                  qvirtio_get_status(&d));
    QT_ASSERT_EQ(qvirtio_msix_received(&d, 0), 0x1000u);       /* config interrupt */
    QT_ASSERT_EQ(qvirtio_msix_received(&d, 1), 0u);            /* no used buffer */
    /* stopped: a good request put over the bad one at slot 0 stays unused */
    qvirtqueue_packed_rewind(vq);
    r = qvirtio_alloc(s, 512, 512);
    qvirtqueue_kick(vq, read_chain(s, vq, r, 512, qvirtio_alloc(s, 1, 1)));
    usleep(20000);
    QT_ASSERT(!qvirtqueue_used_pending(vq));
    /* a reset brings it back */
    qvirtio_reset(&d);
    QT_ASSERT_EQ(qvirtio_get_status(&d), 0);
    vq = setup_ring(&d, s, true, 0, true);
    QT_ASSERT(vq->packed);
    QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_IN, 5, r, 512, NULL), VBLK_S_OK);
    assert_guest_eq_image(s, r, 5 * 512, 512);
    QT_ASSERT_NEEDS_RESET_LOGGED("virtio-blk", about);
    stop(s);
}

static void test_hostile_packed(void)
{
    run_hostile_packed(qvirtio_hostile_kind);
}

/*
 * Not hostile, just not available: descriptors whose AVAIL/USED bits do
 * not say "available in the driver's current lap" (AVAIL clear and USED
 * set, which is lap 0's; both set, a used descriptor of lap 1; neither).
 * The device must leave them alone, say nothing and stay well; once the
 * head's flags are right the request completes.
 */
static void test_packed_wrong_wrap(void)
{
    QTestState *s;
    QVirtioDev d;
    QVirtQueue *vq;
    uint64_t r, st;
    uint16_t h;

    s = packed_start(&d, &vq, true);
    r = qvirtio_alloc(s, 512, 512);
    st = qvirtio_alloc(s, 1, 1);
    qtest_writeb(s, st, STATUS_FILL);
    h = read_chain(s, vq, r, 512, st);
    for (unsigned i = 0; i < 3; i++) {
        uint16_t bad = qvirtqueue_packed_wrong_bits(true, i);

        qvirtqueue_packed_publish_bits(vq, h, bad);
        qvirtqueue_notify(vq);
        usleep(10000);
        /* slot 0 as the driver left it (a used descriptor would have the
         * request's len, 513, and both bits of the device's counter) */
        QT_ASSERT_EQ(qtest_readw(s, vq->desc + 14), QVRING_DESC_F_NEXT | bad);
        QT_ASSERT_EQ(qtest_readl(s, vq->desc + 8), 16u);
        QT_ASSERT_EQ(qtest_readb(s, st), STATUS_FILL);
        QT_ASSERT_EQ(qvirtio_get_status(&d) & QVIRTIO_S_NEEDS_RESET, 0);
        QT_ASSERT_EQ(qvirtio_msix_received(&d, 1), 0u);
    }
    QT_ASSERT_EQ(qt_log_lines(NULL, 0, "needs reset", (char *)NULL), 0);
    qvirtqueue_kick(vq, h);
    QT_ASSERT_EQ(qvirtqueue_wait_used(vq, h, TIMEOUT_MS), 513u);
    QT_ASSERT_EQ(qtest_readb(s, st), VBLK_S_OK);
    assert_guest_eq_image(s, r, 0, 512);
    stop(s);
}

/* ---- -blockdev qcow2 chains ------------------------------------------------ */

/*
 * A three-level chain made by Debian's qemu-img and qemu-io: base.raw <-
 * mid.qcow2 (backing_fmt=raw) <- top.qcow2 (backing_fmt=qcow2), with data,
 * a zero cluster over the base's data and a partial cluster in each
 * overlay.  kvmpc opens top.qcow2 with -blockdev in the ways libvirt and
 * users write it; the guest reads the whole disk through virtio-blk and
 * every byte must equal what "qemu-img convert -O raw" gives for the same
 * graph (qemu-img's json: filename describes the graph when backing= is
 * given as a node or null).
 */
#define CHAIN_BYTES (2u << 20)

static char chain_dir[256];

static bool have_tool(const char *name)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
    return system(cmd) == 0;
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
    char cmd[2048], full[2400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    snprintf(full, sizeof(full), "cd %s && { %s; } >/dev/null", chain_dir, cmd);
    QT_ASSERT_MSG(system(full) == 0, "failed: %.400s", cmd);
}

static void chain_make(void)
{
    qt_tmpfile(chain_dir, sizeof(chain_dir), "vblk-chain");
    QT_ASSERT(mkdir(chain_dir, 0700) == 0);
    sh("qemu-img create -q -f raw base.raw 2M && "
       "qemu-io -f raw -c 'write -P 0x5a 0 2M' -c 'write -P 0xa5 100k 17k' base.raw");
    sh("qemu-img create -q -f qcow2 -b base.raw -F raw mid.qcow2 && "
       "qemu-io -f qcow2 -c 'write -P 0x11 64k 64k' -c 'write -P 0x22 300k 5k' "
       "-c 'write -P 0x23 1M 1k' mid.qcow2");
    sh("qemu-img create -q -f qcow2 -b mid.qcow2 -F qcow2 top.qcow2 && "
       "qemu-io -f qcow2 -c 'write -P 0x33 128k 4k' -c 'write -z 192k 64k' "
       "-c 'write -P 0x34 1M 512' -c 'write -P 0x35 1984k 64k' top.qcow2");
    /* the references: the same graphs read by qemu-img */
    sh("qemu-img convert -O raw top.qcow2 ref-chain.raw");
    sh("qemu-img convert -O raw 'json:{\"driver\":\"qcow2\",\"backing\":null,"
       "\"file\":{\"driver\":\"file\",\"filename\":\"top.qcow2\"}}' ref-null.raw");
    sh("qemu-img convert -O raw 'json:{\"driver\":\"qcow2\",\"backing\":{\"driver\":\"raw\","
       "\"file\":{\"driver\":\"file\",\"filename\":\"base.raw\"}},"
       "\"file\":{\"driver\":\"file\",\"filename\":\"top.qcow2\"}}' ref-base.raw");
}

static void chain_remove(void)
{
    char cmd[300];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", chain_dir);
    QT_ASSERT(system(cmd) == 0);
}

/* Start kvmpc with BLOCKDEV (d0 is the disk), read the disk through
 * virtio-blk in 64 KiB requests and compare it with REF. */
static void chain_read_compare(const char *blockdev, const char *ref)
{
    char path[300];
    uint8_t *want = malloc(CHAIN_BYTES), *got = malloc(65536);
    QTestState *s;
    QVirtioDev d;
    QVirtQueue *vq;
    uint64_t buf;
    int fd;

    snprintf(path, sizeof(path), "%s/%s", chain_dir, ref);
    fd = open(path, O_RDONLY);
    QT_ASSERT(fd >= 0);
    QT_ASSERT_EQ(pread(fd, want, CHAIN_BYTES, 0), (ssize_t)CHAIN_BYTES);
    close(fd);
    qvirtio_alloc_reset();
    s = qtest_initf("%s -device virtio-blk-pci,drive=d0,addr=%x", blockdev, SLOT);
    vq = setup(&d, s, true, 0);
    QT_ASSERT_EQ(qvirtio_config_readq(&d, 0), (uint64_t)CHAIN_BYTES / 512);
    buf = qvirtio_alloc(s, 65536, 4096);
    for (uint32_t off = 0; off < CHAIN_BYTES; off += 65536) {
        QT_ASSERT_EQ(blk_req_vq(vq, VBLK_T_IN, off / 512, buf, 65536, NULL), VBLK_S_OK);
        qtest_memread(s, buf, got, 65536);
        for (uint32_t i = 0; i < 65536; i++) {
            QT_ASSERT_MSG(got[i] == want[off + i], "%s: byte %u is 0x%02x, qemu-img's %s "
                          "has 0x%02x", blockdev, off + i, got[i], ref, want[off + i]);
        }
    }
    qtest_quit(s);
    free(want);
    free(got);
}

static void test_blockdev_qcow2_chain(void)
{
    char a[2048];
    const char *D = chain_dir;

    if (!have_tool("qemu-img") || !have_tool("qemu-io")) {
        QT_SKIP("qemu-img and qemu-io (qemu-utils) are the oracle and are not installed");
    }
    chain_make();
    /* file.* keys; the backing chain named in the images */
    snprintf(a, sizeof(a), "-blockdev driver=qcow2,node-name=d0,file.driver=file,"
             "file.filename=%s/top.qcow2", D);
    chain_read_compare(a, "ref-chain.raw");
    /* the file node on its own, named by file= */
    snprintf(a, sizeof(a), "-blockdev driver=file,node-name=f0,filename=%s/top.qcow2 "
             "-blockdev driver=qcow2,node-name=d0,file=f0", D);
    chain_read_compare(a, "ref-chain.raw");
    /* libvirt's way: every layer its own node, backing= names the next */
    snprintf(a, sizeof(a),
             "-blockdev driver=file,node-name=fb,filename=%s/base.raw,read-only=on "
             "-blockdev driver=raw,node-name=b1,file=fb,read-only=on "
             "-blockdev driver=file,node-name=fm,filename=%s/mid.qcow2,read-only=on "
             "-blockdev driver=qcow2,node-name=b0,file=fm,backing=b1,read-only=on "
             "-blockdev driver=file,node-name=ft,filename=%s/top.qcow2 "
             "-blockdev driver=qcow2,node-name=d0,file=ft,backing=b0", D, D, D);
    chain_read_compare(a, "ref-chain.raw");
    /* backing= a node the header does not name: the base, skipping mid */
    snprintf(a, sizeof(a),
             "-blockdev driver=file,node-name=fb,filename=%s/base.raw,read-only=on "
             "-blockdev driver=raw,node-name=b1,file=fb,read-only=on "
             "-blockdev driver=qcow2,node-name=d0,file.driver=file,"
             "file.filename=%s/top.qcow2,backing=b1", D, D);
    chain_read_compare(a, "ref-base.raw");
    /* backing=null: unallocated clusters read as zeroes */
    snprintf(a, sizeof(a), "-blockdev driver=qcow2,node-name=d0,file.driver=file,"
             "file.filename=%s/top.qcow2,backing=null", D);
    chain_read_compare(a, "ref-null.raw");
    /* the same with JSON syntax ("backing": null) */
    snprintf(a, sizeof(a), "-blockdev '{\"driver\":\"qcow2\",\"node-name\":\"d0\","
             "\"backing\":null,\"file\":{\"driver\":\"file\",\"filename\":\"%s/top.qcow2\"}}'",
             D);
    chain_read_compare(a, "ref-null.raw");
    chain_remove();
}

/* ---- PCI configuration access capability ------------------------------------- */

static void test_pci_cfg_cap(void)
{
    QTestState *s = start("", "");
    QVirtioDev d;
    int c;

    qvirtio_pci_init(&d, s, SLOT, true);
    c = d.cfg_cap;
    QT_ASSERT(c);
    /* read device_feature (dword at common + 4) through the window */
    qvirtio_cfg_writeb(&d, c + 4, 4);
    qvirtio_cfg_writel(&d, c + 8, d.common + 4);
    qvirtio_cfg_writel(&d, c + 12, 4);
    qvirtio_cfg_writel(&d, c + 16, 0);          /* dfselect is 0: low half */
    QT_ASSERT_EQ(qvirtio_cfg_readl(&d, c + 16), (uint32_t)qvirtio_get_features(&d));
    /* write the status byte through it */
    qvirtio_cfg_writel(&d, c + 8, d.common + 0x14);
    qvirtio_cfg_writel(&d, c + 12, 1);
    qvirtio_cfg_writeb(&d, c + 16, QVIRTIO_S_ACKNOWLEDGE);
    QT_ASSERT_EQ(qvirtio_get_status(&d), QVIRTIO_S_ACKNOWLEDGE);
    /* a BAR that is not BAR4 does nothing */
    qvirtio_cfg_writeb(&d, c + 4, 0);
    qvirtio_cfg_writeb(&d, c + 16, 0);
    QT_ASSERT_EQ(qvirtio_get_status(&d), QVIRTIO_S_ACKNOWLEDGE);
    stop(s);
}

static void test_cmdline_errors(void)
{
    const char *bin = qtest_binary_path();
    char cmd[1024];

    make_image();
    snprintf(cmd, sizeof(cmd), "%s -accel qtest -display none -nodefaults -device virtio-blk-pci "
             ">/dev/null 2>&1", bin);
    QT_ASSERT_NE(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "%s -accel qtest -display none -nodefaults -drive file=%s,"
             "format=raw,if=none,id=d -device virtio-blk-pci,drive=d,disable-legacy=on,"
             "disable-modern=on >/dev/null 2>&1", bin, img);
    QT_ASSERT_NE(system(cmd), 0);
    unlink(img);
}

static void test_if_virtio(void)
{
    QTestState *s;
    QVirtioDev d;

    make_image();
    s = qtest_initf("-drive file=%s,format=raw,if=virtio", img);
    /* the first free slot after the machine's devices */
    for (int slot = 1; slot < 32; slot++) {
        d.qts = s;
        d.slot = slot;
        if (qvirtio_cfg_readl(&d, 0) == 0x10011af4u) {
            qvirtio_pci_init(&d, s, slot, true);
            qvirtio_start(&d, 1ull << QVIRTIO_F_VERSION_1);
            QT_ASSERT_EQ(qvirtio_config_readq(&d, 0), (uint64_t)IMG_SECTORS);
            stop(s);
            return;
        }
    }
    QT_FAIL("no virtio-blk-pci for -drive if=virtio");
}

int main(int argc, char **argv)
{
    qt_init(argc, argv);
    qt_run("ids/transitional", test_ids_transitional);
    qt_run("ids/modern-only", test_ids_modern_only);
    qt_run("config/modern", test_config_modern);
    qt_run("config/legacy", test_config_legacy);
    qt_run("features/unknown-refused", test_features_refused);
    qt_run("features/legacy-masked", test_features_legacy_masked);
    QVIRTIO_RUN_RINGS("rw/modern", test_rw_modern);
    qt_run("rw/legacy", test_rw_legacy);
    QVIRTIO_RUN_RINGS("discard-wz/modern", test_discard_wz_modern);
    qt_run("discard-wz/legacy", test_discard_wz_legacy);
    qt_run("discard-wz/off", test_discard_off);
    qt_run("readonly", test_readonly);
    QVIRTIO_RUN_RINGS("indirect", test_indirect);
    QVIRTIO_RUN_RINGS("merge", test_merge);
    QVIRTIO_RUN_RINGS("multiqueue", test_multiqueue);
    QVIRTIO_RUN_RINGS("ioeventfd/modern", test_ioeventfd_modern);
    qt_run("ioeventfd/legacy", test_ioeventfd_legacy);
    QVIRTIO_RUN_RINGS("msix/modern", test_msix_modern);
    qt_run("msix/legacy", test_msix_legacy);
    QVIRTIO_RUN_RINGS("intx/modern", test_intx_modern);
    qt_run("intx/legacy", test_intx_legacy);
    qt_run("event-idx", test_event_idx);
    QVIRTIO_RUN_RINGS("wrap", test_wrap);
    qt_run("packed/event", test_packed_event);
    qt_run("pci-cfg-cap", test_pci_cfg_cap);
    qt_run("cmdline-errors", test_cmdline_errors);
    qt_run("if-virtio", test_if_virtio);
    qt_run("blockdev/qcow2-chain", test_blockdev_qcow2_chain);
#define RUN_HOSTILE(name)                                                       \
    qt_run("hostile/" #name "/modern", test_##name##_modern);                   \
    qt_run("hostile/" #name "/legacy", test_##name##_legacy)
    RUN_HOSTILE(desc_outside_ram);
    RUN_HOSTILE(desc_in_mmio);
    RUN_HOSTILE(desc_straddles_ram_end);
    RUN_HOSTILE(loop);
    RUN_HOSTILE(next_out_of_range);
    RUN_HOSTILE(head_out_of_range);
    RUN_HOSTILE(chain_too_long_indirect);
    RUN_HOSTILE(nested_indirect);
    RUN_HOSTILE(indirect_zero_len);
    RUN_HOSTILE(indirect_outside_ram);
    RUN_HOSTILE(avail_ahead);
    RUN_HOSTILE(zero_len_buffer);
    RUN_HOSTILE(out_after_in);
    RUN_HOSTILE(ring_outside_ram);
    QVIRTIO_RUN_PACKED_HOSTILE("hostile/", "/packed", test_hostile_packed);
    qt_run("packed/wrong-wrap", test_packed_wrong_wrap);
    return qt_finish();
}

/*
 * virtio-net-pci through qtest and libqvirtio, with a -netdev socket peer
 * this test plays (QEMU's framing: a 4-byte big-endian length, then the
 * frame): feature negotiation and the configuration space (MAC, status,
 * MTU, speed/duplex), transmit byte-exact at the peer (10- and 12-byte
 * headers, a header split across descriptors, software checksum for
 * NEEDS_CSUM), receive with the header and num_buffers (one buffer and
 * mergeable buffers), a frame that waits for buffers and is flushed when
 * the driver adds them, the control queue (rx mode, MAC table, VLAN
 * filter, bad commands), QMP set_link (status bit and config interrupt),
 * query-rx-filter and NIC_RX_FILTER_CHANGED, two queue pairs, and
 * hostile rings, split and packed, on the receive, transmit and control
 * queues (the emulator stays alive and the device needs a reset).
 * Last, in a network namespace of its own (root; SKIP otherwise), the
 * offloads with a real tap: the features offered, the tap's offloads the
 * kernel reports (ethtool) after DRIVER_OK and GUEST_OFFLOADS_SET, a GSO
 * frame the guest sends arriving whole on the tap (a packet socket), a
 * GSO frame sent on the tap arriving whole in the guest's buffer, and
 * segmented by the kernel once the guest turned its offloads off.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <net/if.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include "qtest-harness.h"
#include "libqvirtio.h"
#define VIRTIO_QUEUE_MAX 64
#include "../../include/hw/virtio/virtio-net.h"

#define SLOT 5
#define MAC_STR "52:54:00:12:34:56"
static const uint8_t our_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t peer_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

/* ---- the socket peer --------------------------------------------------- */

static int listen_any(int *port)
{
    int fd = qtest_listen_loopback(port);

    QT_ASSERT(fd >= 0);
    return fd;
}

static void send_frame(int fd, const uint8_t *f, uint32_t len)
{
    QT_ASSERT(qtest_send_frame(fd, f, len));
}

/* The next frame the device sent; its length, or -1 after timeout_ms. */
static int recv_frame(int fd, uint8_t *buf, size_t cap, int timeout_ms)
{
    uint8_t hdr[4];
    uint32_t len;

    if (!qtest_read_full(fd, hdr, 4, timeout_ms)) {
        return -1;
    }
    len = (uint32_t)hdr[0] << 24 | hdr[1] << 16 | hdr[2] << 8 | hdr[3];
    QT_ASSERT_MSG(len <= cap, "frame of %u bytes", len);
    QT_ASSERT(qtest_read_full(fd, buf, len, 5000));
    return len;
}

typedef struct Env {
    QTestState *s;
    int peer;
    int qmp;
    char qmp_path[96];
    QVirtioDev d;
} Env;

/* kvmpc connects to our listening socket. */
static void env_start(Env *e, bool modern, const char *netdev_extra, const char *dev_extra)
{
    int port, lfd = listen_any(&port);
    struct pollfd pfd = { .fd = lfd, .events = POLLIN };

    memset(e, 0, sizeof(*e));
    qvirtio_alloc_reset();
    qt_tmpfile(e->qmp_path, sizeof(e->qmp_path), "vnet-qmp");
    /* packed=on for the packed runs (QVIRTIO_RUN_RINGS): the driver then
     * negotiates packed rings (qvirtio_pci_init takes the default) */
    e->s = qtest_initf("-netdev socket,id=n0,connect=127.0.0.1:%d%s "
                       "-device virtio-net-pci,netdev=n0,mac=" MAC_STR ",id=nic0,addr=%x%s%s "
                       "-qmp unix:%s,server=on,wait=off",
                       port, netdev_extra, SLOT, qvirtio_packed_default() ? ",packed=on" : "",
                       dev_extra, e->qmp_path);
    QT_ASSERT_MSG(poll(&pfd, 1, 10000) == 1, "kvmpc did not connect");
    e->peer = accept(lfd, NULL, NULL);
    QT_ASSERT(e->peer >= 0);
    close(lfd);
    e->qmp = -1;
    qvirtio_pci_init(&e->d, e->s, SLOT, modern);
}

static void env_stop(Env *e)
{
    if (e->qmp >= 0) {
        close(e->qmp);
    }
    close(e->peer);
    qtest_quit(e->s);
    unlink(e->qmp_path);
}

/* Start the driver with `features` and set up n queue pairs (+ ctrl). */
static void env_driver(Env *e, uint64_t features, unsigned pairs, bool ctrl)
{
    uint8_t st = qvirtio_start(&e->d, features);

    if (e->d.modern) {
        QT_ASSERT_MSG(st & QVIRTIO_S_FEATURES_OK, "FEATURES_OK refused: 0x%x", st);
    }
    for (unsigned i = 0; i < 2 * pairs; i++) {
        qvirtqueue_setup(&e->d, i);
    }
    if (ctrl) {
        qvirtqueue_setup(&e->d, 2 * pairs);
    }
    QT_ASSERT_EQ(e->d.vq[0].packed, e->d.want_packed);
    qvirtio_driver_ok(&e->d);
}

static unsigned hdr_len(Env *e)
{
    return (e->d.features & ((1ull << VIRTIO_NET_F_MRG_RXBUF) | (1ull << QVIRTIO_F_VERSION_1)))
           ? 12 : 10;
}

/* An Ethernet frame to dst of `len` bytes with a recognisable payload. */
static void make_frame(uint8_t *f, size_t len, const uint8_t *dst, uint8_t seed)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, peer_mac, 6);
    f[12] = 0x88;
    f[13] = 0xb5;               /* local experimental ethertype */
    for (size_t i = 14; i < len; i++) {
        f[i] = (uint8_t)(seed + i * 7);
    }
}

/* Whether the device asks for notifications on vq (split: used flags
 * without NO_NOTIFY; packed: device event flags not DISABLE). */
static bool device_wants_kicks(Env *e, QVirtQueue *vq)
{
    if (vq->packed) {
        return qtest_readw(e->s, vq->used + 2) != QVRING_EVENT_DISABLE;
    }
    return !(qtest_readw(e->s, vq->used) & 1);
}

static uint16_t post_rx(QVirtQueue *vq, uint64_t addr, uint32_t len)
{
    uint16_t h = qvirtqueue_add(vq, addr, len, true, false);

    qvirtqueue_kick(vq, h);
    return h;
}

/* ---- features and configuration --------------------------------------- */

static void test_config(void)
{
    Env e;
    uint64_t f;

    env_start(&e, true, "", ",host_mtu=1400,speed=1000,duplex=full");
    QT_ASSERT_EQ(qvirtio_cfg_readw(&e.d, 0x00), 0x1af4);
    QT_ASSERT_EQ(qvirtio_cfg_readw(&e.d, 0x02), 0x1000);
    QT_ASSERT_EQ(qvirtio_cfg_readl(&e.d, 0x08) >> 16, 0x0200u);     /* Ethernet */
    QT_ASSERT_EQ(qvirtio_cfg_readw(&e.d, 0x2e), 1);                 /* subsystem: net */
    f = qvirtio_get_features(&e.d);
    QT_ASSERT(f & (1ull << VIRTIO_NET_F_MAC));
    QT_ASSERT(f & (1ull << VIRTIO_NET_F_STATUS));
    QT_ASSERT(f & (1ull << VIRTIO_NET_F_MRG_RXBUF));
    QT_ASSERT(f & (1ull << VIRTIO_NET_F_CTRL_VQ));
    QT_ASSERT(f & (1ull << VIRTIO_NET_F_CTRL_RX));
    QT_ASSERT(f & (1ull << VIRTIO_NET_F_CSUM));
    QT_ASSERT(f & (1ull << VIRTIO_NET_F_GUEST_CSUM));
    QT_ASSERT(f & (1ull << VIRTIO_NET_F_MTU));
    QT_ASSERT(f & (1ull << VIRTIO_NET_F_SPEED_DUPLEX));
    QT_ASSERT(f & (1ull << QVIRTIO_F_VERSION_1));
    QT_ASSERT_EQ(f & (1ull << VIRTIO_NET_F_MQ), 0u);
    QT_ASSERT_EQ(f & (1ull << VIRTIO_NET_F_HOST_TSO4), 0u);     /* no segmentation */
    for (int i = 0; i < 6; i++) {
        QT_ASSERT_EQ(qvirtio_config_readb(&e.d, VIRTIO_NET_CFG_MAC + i), our_mac[i]);
    }
    QT_ASSERT_EQ(qvirtio_config_readw(&e.d, VIRTIO_NET_CFG_STATUS), VIRTIO_NET_S_LINK_UP);
    QT_ASSERT_EQ(qvirtio_config_readw(&e.d, VIRTIO_NET_CFG_MAX_VQ_PAIRS), 1);
    QT_ASSERT_EQ(qvirtio_config_readw(&e.d, VIRTIO_NET_CFG_MTU), 1400);
    QT_ASSERT_EQ(qvirtio_config_readl(&e.d, VIRTIO_NET_CFG_SPEED), 1000u);
    QT_ASSERT_EQ(qvirtio_config_readb(&e.d, VIRTIO_NET_CFG_DUPLEX), 1);
    QT_ASSERT_EQ(qvirtio_num_queues(&e.d), 3);                  /* rx, tx, ctrl */
    /* a feature the device did not offer is refused */
    qvirtio_reset(&e.d);
    qvirtio_set_status(&e.d, QVIRTIO_S_ACKNOWLEDGE | QVIRTIO_S_DRIVER);
    qvirtio_write_features(&e.d, (1ull << QVIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_HOST_TSO4));
    qvirtio_set_status(&e.d, QVIRTIO_S_ACKNOWLEDGE | QVIRTIO_S_DRIVER | QVIRTIO_S_FEATURES_OK);
    QT_ASSERT_EQ(qvirtio_get_status(&e.d) & QVIRTIO_S_FEATURES_OK, 0);
    env_stop(&e);

    /* defaults: speed and duplex unknown, no MTU; mrg_rxbuf=off, csum=off,
     * ctrl_vq=off, status=off remove their bits */
    env_start(&e, true, "", ",mrg_rxbuf=off,csum=off,guest_csum=off,ctrl_vq=off,status=off");
    f = qvirtio_get_features(&e.d);
    QT_ASSERT_EQ(f & ((1ull << VIRTIO_NET_F_MRG_RXBUF) | (1ull << VIRTIO_NET_F_CSUM) |
                      (1ull << VIRTIO_NET_F_GUEST_CSUM) | (1ull << VIRTIO_NET_F_CTRL_VQ) |
                      (1ull << VIRTIO_NET_F_STATUS) | (1ull << VIRTIO_NET_F_MTU)), 0u);
    QT_ASSERT_EQ(qvirtio_config_readl(&e.d, VIRTIO_NET_CFG_SPEED), 0xffffffffu);
    QT_ASSERT_EQ(qvirtio_config_readb(&e.d, VIRTIO_NET_CFG_DUPLEX), 0xff);
    QT_ASSERT_EQ(qvirtio_num_queues(&e.d), 2);
    env_stop(&e);
}

/* -netdev user takes IPv4 TSO frames whole (docs/net.md): HOST_TSO4 is
 * offered there (with CSUM and host_tso4 on), and GUEST_TSO4 (the device
 * coalesces what one burst of libslirp brings), nothing else of GSO; the
 * socket backend of test_config gets no HOST_TSO4. */
static uint64_t user_features(const char *dev_extra)
{
    QTestState *s;
    QVirtioDev d;
    uint64_t f;

    qvirtio_alloc_reset();
    s = qtest_initf("-netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0,addr=%x%s",
                    SLOT, dev_extra);
    qvirtio_pci_init(&d, s, SLOT, true);
    f = qvirtio_get_features(&d);
    qtest_quit(s);
    return f;
}

static void test_user_tso(void)
{
    const uint64_t gso = (1ull << VIRTIO_NET_F_HOST_TSO6) | (1ull << VIRTIO_NET_F_HOST_ECN) |
                         (1ull << VIRTIO_NET_F_HOST_UFO) | (1ull << VIRTIO_NET_F_GUEST_TSO6) |
                         (1ull << VIRTIO_NET_F_GUEST_ECN) | (1ull << VIRTIO_NET_F_GUEST_UFO);
    uint64_t f = user_features("");

    QT_ASSERT(f & (1ull << VIRTIO_NET_F_CSUM));
    QT_ASSERT(f & (1ull << VIRTIO_NET_F_HOST_TSO4));
    QT_ASSERT(f & (1ull << VIRTIO_NET_F_GUEST_TSO4));   /* coalesced bursts */
    QT_ASSERT_EQ(f & gso, 0u);
    QT_ASSERT_EQ(user_features(",host_tso4=off") & (1ull << VIRTIO_NET_F_HOST_TSO4), 0u);
    QT_ASSERT_EQ(user_features(",csum=off") & (1ull << VIRTIO_NET_F_HOST_TSO4), 0u);
    QT_ASSERT_EQ(user_features(",guest_tso4=off") & (1ull << VIRTIO_NET_F_GUEST_TSO4), 0u);
    QT_ASSERT_EQ(user_features(",guest_csum=off") & (1ull << VIRTIO_NET_F_GUEST_TSO4), 0u);
}

static void test_bad_props(void)
{
    static const char *const bad[][2] = {
        { "-device virtio-net-pci,netdev=nope", "netdev" },
        { "-device virtio-net-pci,mac=52:54:00", "mac" },
        { "-device virtio-net-pci,duplex=quarter", "duplex" },
        { "-device virtio-net-pci,host_mtu=10", "host_mtu" },
        { "-device virtio-net-pci,romfile=/nonexistent.rom", "romfile" },
        { "-netdev socket,id=n0,listen=127.0.0.1:0,queues=40 "
          "-device virtio-net-pci,netdev=n0,mq=on", "queues" },
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char cmd[1024], out[1024] = "";
        FILE *p;
        size_t n;

        snprintf(cmd, sizeof(cmd), "%s -accel qtest -display none -nodefaults %s 2>&1 "
                 "</dev/null", qtest_binary_path(), bad[i][0]);
        p = popen(cmd, "r");
        QT_ASSERT(p);
        n = fread(out, 1, sizeof(out) - 1, p);
        out[n] = 0;
        QT_ASSERT_MSG(pclose(p) != 0, "accepted: %s", bad[i][0]);
        QT_ASSERT_MSG(strstr(out, bad[i][1]), "'%s' does not name %s: %s", bad[i][0],
                      bad[i][1], out);
    }
}

/* ---- transmit ----------------------------------------------------------- */

static void check_tx(bool modern, uint64_t features)
{
    Env e;
    QVirtQueue *tx;
    uint8_t frame[300], got[400], hdr[12] = { 0 };
    uint64_t ghdr, gframe;
    uint16_t h;
    unsigned hl;

    env_start(&e, modern, "", "");
    env_driver(&e, features, 1, false);
    tx = &e.d.vq[1];
    hl = hdr_len(&e);
    make_frame(frame, sizeof(frame), peer_mac, 1);

    /* header and frame in one descriptor */
    gframe = qvirtio_alloc(e.s, hl + sizeof(frame), 16);
    qtest_memwrite(e.s, gframe, hdr, hl);
    qtest_memwrite(e.s, gframe + hl, frame, sizeof(frame));
    h = qvirtqueue_add(tx, gframe, hl + sizeof(frame), false, false);
    qvirtqueue_kick(tx, h);
    QT_ASSERT_EQ(qvirtqueue_wait_used(tx, h, 5000), 0u);
    QT_ASSERT_EQ(recv_frame(e.peer, got, sizeof(got), 5000), (int)sizeof(frame));
    QT_ASSERT(!memcmp(got, frame, sizeof(frame)));

    /* header split across two descriptors, frame across two more */
    ghdr = qvirtio_alloc(e.s, 16, 16);
    qtest_memwrite(e.s, ghdr, hdr, hl);
    frame[20] ^= 0xff;
    qtest_memwrite(e.s, gframe, frame, sizeof(frame));
    h = qvirtqueue_add(tx, ghdr, 3, false, true);
    qvirtqueue_add(tx, ghdr + 3, hl - 3, false, true);
    qvirtqueue_add(tx, gframe, 100, false, true);
    qvirtqueue_add(tx, gframe + 100, sizeof(frame) - 100, false, false);
    qvirtqueue_kick(tx, h);
    QT_ASSERT_EQ(qvirtqueue_wait_used(tx, h, 5000), 0u);
    QT_ASSERT_EQ(recv_frame(e.peer, got, sizeof(got), 5000), (int)sizeof(frame));
    QT_ASSERT(!memcmp(got, frame, sizeof(frame)));
    env_stop(&e);
}

static void test_tx_modern_mrg(void)
{
    check_tx(true, (1ull << QVIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_MRG_RXBUF));
}

static void test_tx_modern(void)
{
    check_tx(true, 1ull << QVIRTIO_F_VERSION_1);
}

static void test_tx_legacy(void)
{
    check_tx(false, 0);                                     /* 10-byte header */
}

static void test_tx_legacy_mrg(void)
{
    check_tx(false, 1ull << VIRTIO_NET_F_MRG_RXBUF);        /* 12-byte header */
}

static uint16_t ref_csum(const uint8_t *b, size_t len, uint32_t sum)
{
    for (size_t i = 0; i + 1 < len; i += 2) {
        sum += (b[i] << 8) | b[i + 1];
    }
    if (len & 1) {
        sum += b[len - 1] << 8;
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return ~sum;
}

/* NEEDS_CSUM: a UDP datagram whose checksum field holds the pseudo-header
 * sum; the device finishes it. */
static void test_tx_csum(void)
{
    Env e;
    QVirtQueue *tx;
    uint8_t f[14 + 20 + 8 + 33], got[200], hdr[12] = { 0 };
    uint64_t g;
    uint16_t h, pseudo, want;
    uint32_t psum;
    size_t udp_len = 8 + 33;

    env_start(&e, true, "", "");
    env_driver(&e, (1ull << QVIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_CSUM), 1, false);
    tx = &e.d.vq[1];
    make_frame(f, sizeof(f), peer_mac, 9);
    f[12] = 0x08;
    f[13] = 0x00;
    memset(f + 14, 0, 20);
    f[14] = 0x45;
    f[16] = (20 + udp_len) >> 8;
    f[17] = (20 + udp_len) & 0xff;
    f[22] = 64;
    f[23] = 17;                                 /* UDP */
    memcpy(f + 26, (uint8_t[]){ 10, 0, 2, 15, 10, 0, 2, 2 }, 8);
    f[34] = 0x12; f[35] = 0x34; f[36] = 0x00; f[37] = 0x35;
    f[38] = udp_len >> 8;
    f[39] = udp_len & 0xff;
    /* pseudo header: addresses, protocol, UDP length */
    psum = (10 << 8) + 0 + (2 << 8) + 15 + (10 << 8) + 0 + (2 << 8) + 2 + 17 + udp_len;
    while (psum >> 16) {
        psum = (psum & 0xffff) + (psum >> 16);
    }
    pseudo = psum;
    f[40] = pseudo >> 8;
    f[41] = pseudo & 0xff;
    {
        uint8_t tmp[sizeof(f)];
        memcpy(tmp, f, sizeof(f));
        tmp[40] = tmp[41] = 0;
        want = ref_csum(tmp + 34, udp_len, psum);
    }
    hdr[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    hdr[6] = 34;                                /* csum_start: the UDP header */
    hdr[8] = 6;                                 /* csum_offset: its checksum field */
    g = qvirtio_alloc(e.s, 12 + sizeof(f), 16);
    qtest_memwrite(e.s, g, hdr, 12);
    qtest_memwrite(e.s, g + 12, f, sizeof(f));
    h = qvirtqueue_add(tx, g, 12 + sizeof(f), false, false);
    qvirtqueue_kick(tx, h);
    qvirtqueue_wait_used(tx, h, 5000);
    QT_ASSERT_EQ(recv_frame(e.peer, got, sizeof(got), 5000), (int)sizeof(f));
    QT_ASSERT_EQ((got[40] << 8 | got[41]), want);
    QT_ASSERT(!memcmp(got, f, 40));
    QT_ASSERT(!memcmp(got + 42, f + 42, sizeof(f) - 42));
    /* the receiver's check: the sum over pseudo header + datagram is 0xffff */
    QT_ASSERT_EQ(ref_csum(got + 34, udp_len, psum), 0);
    env_stop(&e);
}

/* A kick sends at once, in the thread that took it (docs/virtio.md,
 * "Transmit"): the notify and a read of the used index, sent as one
 * message, are handled in one go with no main-loop turn between, and the
 * read sees the frame used; a bottom half would run only after both. */
static void test_tx_at_kick(void)
{
    Env e;
    QVirtQueue *tx;
    uint8_t frame[80], got[200];
    char cmd[96];
    char *r1, *r2;
    uint64_t g;
    uint16_t h;

    env_start(&e, true, "", "");
    env_driver(&e, 1ull << QVIRTIO_F_VERSION_1, 1, false);
    tx = &e.d.vq[1];
    make_frame(frame, sizeof(frame), peer_mac, 4);
    g = qvirtio_alloc(e.s, 12 + sizeof(frame), 16);
    qtest_memwrite(e.s, g, (uint8_t[12]){ 0 }, 12);
    qtest_memwrite(e.s, g + 12, frame, sizeof(frame));
    h = qvirtqueue_add(tx, g, 12 + sizeof(frame), false, false);
    qtest_writew(e.s, tx->avail + 4 + 2ull * (tx->avail_idx % tx->size), h);
    tx->avail_idx++;
    qtest_writew(e.s, tx->avail + 2, tx->avail_idx);
    qvirtqueue_notify_cmd(tx, cmd, sizeof(cmd));
    qtest_send_nowait(e.s, "%s\nreadw 0x%" PRIx64, cmd, tx->used + 2);
    r1 = qtest_read_reply_raw(e.s);
    r2 = qtest_read_reply_raw(e.s);
    QT_ASSERT_MSG(!strcmp(r1, "OK"), "notify: %s", r1);
    QT_ASSERT_MSG(!strncmp(r2, "OK ", 3) && strtoul(r2 + 3, NULL, 0) == 1,
                  "the used index right after the notify: %s", r2);
    free(r1);
    free(r2);
    QT_ASSERT_EQ(recv_frame(e.peer, got, sizeof(got), 5000), (int)sizeof(frame));
    QT_ASSERT(!memcmp(got, frame, sizeof(frame)));
    env_stop(&e);
}

/* A burst larger than tx_burst goes out whole, in order. */
static void test_tx_burst(void)
{
    Env e;
    QVirtQueue *tx;
    uint8_t frame[64], got[100];
    uint16_t heads[40];

    env_start(&e, true, "", ",tx_burst=8");
    env_driver(&e, 1ull << QVIRTIO_F_VERSION_1, 1, false);
    tx = &e.d.vq[1];
    for (int i = 0; i < 40; i++) {
        uint64_t g = qvirtio_alloc(e.s, 12 + sizeof(frame), 16);
        make_frame(frame, sizeof(frame), peer_mac, i);
        qtest_memwrite(e.s, g + 12, frame, sizeof(frame));
        heads[i] = qvirtqueue_add(tx, g, 12 + sizeof(frame), false, false);
        /* publish without notifying; one kick for the lot */
        qvirtqueue_publish(tx, heads[i]);
    }
    qvirtqueue_notify(tx);
    for (int i = 0; i < 40; i++) {
        make_frame(frame, sizeof(frame), peer_mac, i);
        QT_ASSERT_EQ(recv_frame(e.peer, got, sizeof(got), 5000), (int)sizeof(frame));
        QT_ASSERT_MSG(!memcmp(got, frame, sizeof(frame)), "frame %d", i);
    }
    for (int i = 0; i < 40; i++) {
        qvirtqueue_wait_used(tx, heads[i], 5000);
    }
    QT_ASSERT(device_wants_kicks(&e, tx));                      /* done: kicks on again */
    env_stop(&e);
}

/* A frame kicked before DRIVER_OK goes out at DRIVER_OK, and the queue
 * still takes notifications afterwards. */
static void test_tx_before_driver_ok(void)
{
    Env e;
    QVirtQueue *tx;
    uint8_t frame[80], got[100];
    uint64_t g;
    uint16_t h;

    env_start(&e, true, "", "");
    qvirtio_start(&e.d, 1ull << QVIRTIO_F_VERSION_1);
    qvirtqueue_setup(&e.d, 0);
    tx = qvirtqueue_setup(&e.d, 1);
    /* an early kick of an empty ring must not leave notifications off */
    qvirtqueue_notify(tx);
    usleep(100 * 1000);
    qvirtio_driver_ok(&e.d);
    QT_ASSERT(device_wants_kicks(&e, tx));
    qvirtio_start(&e.d, 1ull << QVIRTIO_F_VERSION_1);
    qvirtqueue_setup(&e.d, 0);
    tx = qvirtqueue_setup(&e.d, 1);
    make_frame(frame, sizeof(frame), peer_mac, 1);
    g = qvirtio_alloc(e.s, 12 + sizeof(frame), 16);
    qtest_memwrite(e.s, g + 12, frame, sizeof(frame));
    h = qvirtqueue_add(tx, g, 12 + sizeof(frame), false, false);
    qvirtqueue_kick(tx, h);
    QT_ASSERT_EQ(recv_frame(e.peer, got, sizeof(got), 300), -1);
    qvirtio_driver_ok(&e.d);
    QT_ASSERT_EQ(recv_frame(e.peer, got, sizeof(got), 5000), (int)sizeof(frame));
    qvirtqueue_wait_used(tx, h, 5000);
    QT_ASSERT(device_wants_kicks(&e, tx));
    frame[30] = 0x5a;
    qtest_memwrite(e.s, g + 12, frame, sizeof(frame));
    h = qvirtqueue_add(tx, g, 12 + sizeof(frame), false, false);
    qvirtqueue_kick(tx, h);
    QT_ASSERT_EQ(recv_frame(e.peer, got, sizeof(got), 5000), (int)sizeof(frame));
    QT_ASSERT(!memcmp(got, frame, sizeof(frame)));
    env_stop(&e);
}

/* ---- receive ------------------------------------------------------------ */

/* An Ethernet frame to us carrying TCP (proto 6, a 20-byte header) or UDP
 * (17) over IPv4 (v6 false) or IPv6, `pay` bytes of payload, with a
 * correct checksum; its length. */
static size_t make_l4_frame(uint8_t *f, bool v6, unsigned proto, size_t pay)
{
    size_t l3 = 14, ip = v6 ? 40 : 20, hl = proto == 6 ? 20 : 8, l4 = l3 + ip;
    size_t plen = hl + pay;
    uint8_t tmp[60];
    uint32_t psum = 0;
    uint16_t c;
    unsigned csum_at = proto == 6 ? 16 : 6;

    make_frame(f, l4 + plen, our_mac, 5);
    f[12] = v6 ? 0x86 : 0x08;
    f[13] = v6 ? 0xdd : 0x00;
    memset(f + l3, 0, ip + hl);
    if (v6) {
        f[l3] = 0x60;
        f[l3 + 4] = plen >> 8;
        f[l3 + 5] = plen & 0xff;
        f[l3 + 6] = proto;
        f[l3 + 7] = 64;
        f[l3 + 23] = 2;                             /* fe80::2 -> fe80::f */
        f[l3 + 39] = 15;
        f[l3 + 8] = f[l3 + 24] = 0xfe;
        f[l3 + 9] = f[l3 + 25] = 0x80;
        memcpy(tmp, f + l3 + 8, 32);
        memset(tmp + 32, 0, 8);
        tmp[34] = plen >> 8;
        tmp[35] = plen & 0xff;
        tmp[39] = proto;
        c = ref_csum(tmp, 40, 0);
    } else {
        f[l3] = 0x45;
        f[l3 + 2] = (ip + plen) >> 8;
        f[l3 + 3] = (ip + plen) & 0xff;
        f[l3 + 8] = 64;
        f[l3 + 9] = proto;
        memcpy(f + l3 + 12, (uint8_t[]){ 10, 0, 2, 2, 10, 0, 2, 15 }, 8);
        memcpy(tmp, f + l3 + 12, 8);
        tmp[8] = 0;
        tmp[9] = proto;
        tmp[10] = plen >> 8;
        tmp[11] = plen & 0xff;
        c = ref_csum(tmp, 12, 0);
    }
    psum = (uint16_t)~c;                            /* the pseudo header's sum */
    f[l4] = 0x13;                                   /* ports 5000 -> 80 */
    f[l4 + 1] = 0x88;
    f[l4 + 3] = 80;
    if (proto == 6) {
        f[l4 + 12] = 0x50;                          /* data offset 5 */
        f[l4 + 13] = 0x18;                          /* PSH ACK */
    } else {
        f[l4 + 4] = plen >> 8;
        f[l4 + 5] = plen & 0xff;
    }
    c = ref_csum(f + l4, plen, psum);
    f[l4 + csum_at] = c >> 8;
    f[l4 + csum_at + 1] = c & 0xff;
    return l4 + plen;
}

/* The flags byte of the header the device writes in front of frame f. */
static uint8_t rx_flags(Env *e, const uint8_t *f, size_t len)
{
    QVirtQueue *rx = &e->d.vq[0];
    uint64_t g = qvirtio_alloc(e->s, 2048, 16);
    uint8_t got[2048];
    uint16_t h;

    qtest_memwrite(e->s, g, (uint8_t[16]){ [0 ... 15] = 0xee }, 16);
    h = post_rx(rx, g, 2048);
    send_frame(e->peer, f, len);
    QT_ASSERT_EQ(qvirtqueue_wait_used(rx, h, 5000), hdr_len(e) + len);
    qtest_memread(e->s, g, got, hdr_len(e) + len);
    QT_ASSERT(!memcmp(got + hdr_len(e), f, len));
    return got[0];
}

/* GUEST_CSUM with a backend that has no virtio-net header (socket): a TCP
 * or UDP frame whose checksum the device verified carries DATA_VALID; a
 * wrong sum, a fragment, a UDP datagram without a sum, another protocol
 * or a driver without GUEST_CSUM get flags 0. */
static void test_rx_csum_valid(void)
{
    uint8_t f[1600];
    size_t n;
    Env e;

    env_start(&e, true, "", "");
    env_driver(&e, (1ull << QVIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_GUEST_CSUM), 1, false);
    for (int v6 = 0; v6 < 2; v6++) {
        for (unsigned pay = 0; pay < 1400; pay += 467) {    /* odd and even lengths */
            n = make_l4_frame(f, v6, 6, pay);
            QT_ASSERT_MSG(rx_flags(&e, f, n) == VIRTIO_NET_HDR_F_DATA_VALID,
                          "TCP v%d, %u bytes", v6 ? 6 : 4, pay);
            n = make_l4_frame(f, v6, 17, pay + 1);
            QT_ASSERT_MSG(rx_flags(&e, f, n) == VIRTIO_NET_HDR_F_DATA_VALID,
                          "UDP v%d, %u bytes", v6 ? 6 : 4, pay + 1);
            f[n - 1] ^= 0x40;                       /* the payload changed: the sum is wrong */
            QT_ASSERT_EQ(rx_flags(&e, f, n), 0);
        }
    }
    n = make_l4_frame(f, false, 6, 100);
    f[14 + 6] = 0x20;                               /* IPv4 MF: a fragment */
    QT_ASSERT_EQ(rx_flags(&e, f, n), 0);
    n = make_l4_frame(f, false, 17, 100);
    f[14 + 20 + 6] = f[14 + 20 + 7] = 0;            /* UDP without a checksum */
    QT_ASSERT_EQ(rx_flags(&e, f, n), 0);
    n = make_l4_frame(f, false, 6, 100);
    f[14 + 2] = 0x10;                               /* IPv4 length beyond the frame */
    QT_ASSERT_EQ(rx_flags(&e, f, n), 0);
    make_frame(f, 200, our_mac, 3);                 /* not IP */
    QT_ASSERT_EQ(rx_flags(&e, f, 200), 0);
    env_stop(&e);

    env_start(&e, true, "", "");
    env_driver(&e, 1ull << QVIRTIO_F_VERSION_1, 1, false);
    n = make_l4_frame(f, false, 6, 100);
    QT_ASSERT_EQ(rx_flags(&e, f, n), 0);
    env_stop(&e);
}

/* An IPv4 TCP segment 10.0.2.2:5000 -> 10.0.2.15:80 (ACK, window 0x4000,
 * ack 0x01020304, flags given) whose payload is pay bytes of byte
 * (seq + i) * 3: returns its length. */
static size_t tcp_seg(uint8_t *f, uint32_t seq, unsigned pay, uint8_t flags)
{
    uint8_t ps[12];
    size_t n = 54 + pay;

    memset(f, 0, 54);
    memcpy(f, our_mac, 6);
    memcpy(f + 6, peer_mac, 6);
    f[12] = 0x08;
    f[14] = 0x45;
    f[16] = (20 + 20 + pay) >> 8;
    f[17] = (20 + 20 + pay) & 0xff;
    f[22] = 64;
    f[23] = 6;
    memcpy(f + 26, (uint8_t[]){ 10, 0, 2, 2, 10, 0, 2, 15 }, 8);
    {
        uint16_t c = ref_csum(f + 14, 20, 0);
        f[24] = c >> 8;
        f[25] = c & 0xff;
    }
    f[34] = 0x13;
    f[35] = 0x88;
    f[37] = 80;
    f[38] = seq >> 24;
    f[39] = seq >> 16;
    f[40] = seq >> 8;
    f[41] = seq;
    memcpy(f + 42, (uint8_t[]){ 1, 2, 3, 4 }, 4);
    f[46] = 0x50;
    f[47] = flags;
    f[48] = 0x40;
    for (unsigned i = 0; i < pay; i++) {
        f[54 + i] = (uint8_t)((seq + i) * 3);
    }
    memcpy(ps, f + 26, 8);
    ps[8] = 0;
    ps[9] = 6;
    ps[10] = (20 + pay) >> 8;
    ps[11] = (20 + pay) & 0xff;
    {
        uint16_t c = ref_csum(f + 34, 20 + pay, (uint16_t)~ref_csum(ps, 12, 0));
        f[50] = c >> 8;
        f[51] = c & 0xff;
    }
    return n;
}

/* Frames in one write to the socket: the backend reads them at once and
 * ends its burst after them. */
static void send_burst(int fd, uint8_t (*f)[1600], const size_t *len, unsigned n)
{
    uint8_t buf[8192];
    size_t off = 0;

    for (unsigned i = 0; i < n; i++) {
        buf[off] = len[i] >> 24;
        buf[off + 1] = len[i] >> 16;
        buf[off + 2] = len[i] >> 8;
        buf[off + 3] = len[i];
        memcpy(buf + off + 4, f[i], len[i]);
        off += 4 + len[i];
    }
    QT_ASSERT(off <= 4096);     /* one read of the backend's */
    QT_ASSERT_EQ(write(fd, buf, off), (ssize_t)off);
}

/* Posts n receive buffers, sends the burst, waits 300 ms; returns how many
 * frames came and copies the first (header included) to got. */
static unsigned rx_burst(Env *e, uint8_t (*f)[1600], const size_t *len, unsigned n, uint8_t *got,
                         uint32_t *got_len)
{
    static uint64_t addr_of[256];       /* descriptor -> its buffer */
    QVirtQueue *rx = &e->d.vq[0];
    uint16_t start = qvirtqueue_used_idx(rx);
    unsigned k;

    for (k = 0; k < n; k++) {
        uint64_t g = qvirtio_alloc(e->s, 4096, 16);

        addr_of[post_rx(rx, g, 4096) & 255] = g;
    }
    send_burst(e->peer, f, len, n);
    usleep(300 * 1000);
    k = (uint16_t)(qvirtqueue_used_idx(rx) - start);
    QT_ASSERT(k >= 1);
    for (unsigned i = 0; i < k; i++) {
        uint32_t id, l;

        QT_ASSERT(qvirtqueue_pop_used(rx, &id, &l));
        if (i == 0) {
            QT_ASSERT(l <= 4096);
            *got_len = l;
            qtest_memread(e->s, addr_of[id & 255], got, l);
        }
    }
    return k;
}

/* GUEST_TSO4 with a backend that ends its bursts (socket here, user in
 * Linux tests): the device coalesces the in-order segments of one flow
 * that one burst brings into one GSO frame (docs/virtio.md). */
static void test_rx_coalesce(void)
{
    const uint64_t feat = (1ull << QVIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_GUEST_CSUM) |
                          (1ull << VIRTIO_NET_F_GUEST_TSO4) | (1ull << VIRTIO_NET_F_MRG_RXBUF);
    uint8_t f[4][1600], got[4096];
    size_t len[4];
    uint32_t n;
    Env e;

    env_start(&e, true, "", "");
    QT_ASSERT(qvirtio_get_features(&e.d) & (1ull << VIRTIO_NET_F_GUEST_TSO4));
    env_driver(&e, feat, 1, false);
    /* three in order, the last shorter and with PSH: one frame */
    len[0] = tcp_seg(f[0], 1000, 400, 0x10);
    len[1] = tcp_seg(f[1], 1400, 400, 0x10);
    len[2] = tcp_seg(f[2], 1800, 300, 0x18);
    QT_ASSERT_EQ(rx_burst(&e, f, len, 3, got, &n), 1u);
    QT_ASSERT_EQ(n, 12u + 54 + 1100);
    QT_ASSERT_EQ(got[0], VIRTIO_NET_HDR_F_DATA_VALID);
    QT_ASSERT_EQ(got[1], VIRTIO_NET_HDR_GSO_TCPV4);
    QT_ASSERT_EQ(got[2] | got[3] << 8, 54);                     /* hdr_len */
    QT_ASSERT_EQ(got[4] | got[5] << 8, 400);                    /* gso_size */
    QT_ASSERT_EQ(got[10] | got[11] << 8, 1);                    /* num_buffers */
    QT_ASSERT_EQ(got[12 + 16] << 8 | got[12 + 17], 20 + 20 + 1100);     /* IPv4 length */
    QT_ASSERT_EQ(ref_csum(got + 12 + 14, 20, 0), 0);            /* IPv4 header sum */
    QT_ASSERT_EQ(got[12 + 47], 0x18);                           /* PSH from the last */
    QT_ASSERT(!memcmp(got + 12 + 38, f[0] + 38, 4));            /* the first's seq */
    for (unsigned i = 0; i < 1100; i++) {
        QT_ASSERT_MSG(got[12 + 54 + i] == (uint8_t)((1000 + i) * 3), "payload byte %u", i);
    }
    /* a sequence gap, then a segment with a wrong checksum: nothing merges */
    len[0] = tcp_seg(f[0], 5000, 400, 0x10);
    len[1] = tcp_seg(f[1], 5500, 400, 0x10);
    len[2] = tcp_seg(f[2], 5900, 400, 0x10);
    f[2][60] ^= 1;
    len[3] = tcp_seg(f[3], 6300, 100, 0x10);
    QT_ASSERT_EQ(rx_burst(&e, f, len, 4, got, &n), 4u);
    QT_ASSERT_EQ(n, 12u + len[0]);
    QT_ASSERT_EQ(got[1], VIRTIO_NET_HDR_GSO_NONE);
    env_stop(&e);

    /* without GUEST_TSO4: every segment on its own */
    env_start(&e, true, "", "");
    env_driver(&e, feat & ~(1ull << VIRTIO_NET_F_GUEST_TSO4), 1, false);
    len[0] = tcp_seg(f[0], 1000, 400, 0x10);
    len[1] = tcp_seg(f[1], 1400, 400, 0x10);
    len[2] = tcp_seg(f[2], 1800, 300, 0x18);
    QT_ASSERT_EQ(rx_burst(&e, f, len, 3, got, &n), 3u);
    QT_ASSERT_EQ(n, 12u + len[0]);
    QT_ASSERT_EQ(got[1], VIRTIO_NET_HDR_GSO_NONE);
    env_stop(&e);
}

static void check_rx_one(bool modern, uint64_t features)
{
    Env e;
    QVirtQueue *rx;
    uint8_t frame[200], got[300];
    uint64_t g;
    uint16_t h;
    uint32_t len;
    unsigned hl;

    env_start(&e, modern, "", "");
    env_driver(&e, features, 1, false);
    rx = &e.d.vq[0];
    hl = hdr_len(&e);
    g = qvirtio_alloc(e.s, 2048, 16);
    qtest_memwrite(e.s, g, (uint8_t[16]){ [0 ... 15] = 0xee }, 16);
    h = post_rx(rx, g, 2048);
    make_frame(frame, sizeof(frame), our_mac, 3);
    send_frame(e.peer, frame, sizeof(frame));
    len = qvirtqueue_wait_used(rx, h, 5000);
    QT_ASSERT_EQ(len, hl + sizeof(frame));
    qtest_memread(e.s, g, got, hl + sizeof(frame));
    for (unsigned i = 0; i < 10; i++) {
        QT_ASSERT_MSG(got[i] == 0, "header byte %u = 0x%x", i, got[i]);
    }
    if (hl == 12) {
        QT_ASSERT_EQ(got[10] | got[11] << 8, 1);                /* num_buffers */
    }
    QT_ASSERT(!memcmp(got + hl, frame, sizeof(frame)));
    env_stop(&e);
}

static void test_rx_modern(void)
{
    check_rx_one(true, (1ull << QVIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_MRG_RXBUF));
}

static void test_rx_legacy(void)
{
    check_rx_one(false, 0);
}

static void test_rx_mergeable(void)
{
    Env e;
    QVirtQueue *rx;
    uint8_t frame[150], got[64 * 3];
    uint64_t g[4];
    uint16_t h[4];
    uint32_t lens[3];

    env_start(&e, true, "", "");
    env_driver(&e, (1ull << QVIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_MRG_RXBUF), 1, false);
    rx = &e.d.vq[0];
    for (int i = 0; i < 4; i++) {
        g[i] = qvirtio_alloc(e.s, 64, 16);
        h[i] = post_rx(rx, g[i], 64);
    }
    make_frame(frame, sizeof(frame), our_mac, 5);
    send_frame(e.peer, frame, sizeof(frame));
    for (int i = 0; i < 3; i++) {
        lens[i] = qvirtqueue_wait_used(rx, h[i], 5000);
    }
    QT_ASSERT_EQ(lens[0], 64u);
    QT_ASSERT_EQ(lens[1], 64u);
    QT_ASSERT_EQ(lens[2], 12 + 150 - 128u);
    QT_ASSERT_EQ(qvirtqueue_used_idx(rx), 3);                   /* published together */
    for (int i = 0; i < 3; i++) {
        qtest_memread(e.s, g[i], got + 64 * i, 64);
    }
    QT_ASSERT_EQ(got[10] | got[11] << 8, 3);                    /* num_buffers */
    QT_ASSERT(!memcmp(got + 12, frame, sizeof(frame)));
    env_stop(&e);
}

/* A frame that arrives before any buffer waits, and lands when the driver
 * adds one (the receive-queue kick flushes the net layer's queue). */
static void test_rx_wait_for_buffers(void)
{
    Env e;
    QVirtQueue *rx;
    uint8_t frame[100], got[200];
    uint64_t g;
    uint16_t h;

    env_start(&e, true, "", "");
    env_driver(&e, (1ull << QVIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_MRG_RXBUF), 1, false);
    rx = &e.d.vq[0];
    make_frame(frame, sizeof(frame), our_mac, 7);
    send_frame(e.peer, frame, sizeof(frame));
    usleep(200 * 1000);
    QT_ASSERT(!qvirtqueue_used_pending(rx));
    g = qvirtio_alloc(e.s, 1536, 16);
    h = post_rx(rx, g, 1536);
    QT_ASSERT_EQ(qvirtqueue_wait_used(rx, h, 5000), 12 + sizeof(frame));
    qtest_memread(e.s, g, got, 12 + sizeof(frame));
    QT_ASSERT(!memcmp(got + 12, frame, sizeof(frame)));
    env_stop(&e);
}

/* ---- control queue --------------------------------------------------------- */

static uint8_t ctrl_cmd(Env *e, QVirtQueue *cvq, uint8_t cls, uint8_t cmd, const void *data,
                        size_t len)
{
    uint64_t g = qvirtio_alloc(e->s, 2 + len + 1, 16);
    uint8_t hdr[2] = { cls, cmd };
    uint16_t h;

    qtest_memwrite(e->s, g, hdr, 2);
    if (len) {
        qtest_memwrite(e->s, g + 2, data, len);
    }
    qtest_writeb(e->s, g + 2 + len, 0xaa);
    h = qvirtqueue_add(cvq, g, 2, false, true);
    if (len) {
        qvirtqueue_add(cvq, g + 2, len, false, true);
    }
    qvirtqueue_add(cvq, g + 2 + len, 1, true, false);
    qvirtqueue_kick(cvq, h);
    QT_ASSERT_EQ(qvirtqueue_wait_used(cvq, h, 5000), 1u);
    return qtest_readb(e->s, g + 2 + len);
}

static uint8_t rx_mode(Env *e, QVirtQueue *cvq, uint8_t cmd, uint8_t on)
{
    return ctrl_cmd(e, cvq, VIRTIO_NET_CTRL_RX, cmd, &on, 1);
}

/* Sends `drop` then `keep`; the one posted buffer must get `keep`. */
static void expect_filtered(Env *e, QVirtQueue *rx, const uint8_t *drop, const uint8_t *keep)
{
    uint8_t f[80], got[12 + 80];
    uint64_t g = qvirtio_alloc(e->s, 256, 16);
    uint16_t h = post_rx(rx, g, 256);

    if (drop) {
        make_frame(f, sizeof(f), drop, 0x11);
        send_frame(e->peer, f, sizeof(f));
    }
    make_frame(f, sizeof(f), keep, 0x22);
    send_frame(e->peer, f, sizeof(f));
    QT_ASSERT_EQ(qvirtqueue_wait_used(rx, h, 5000), 12 + sizeof(f));
    qtest_memread(e->s, g, got, sizeof(got));
    QT_ASSERT_MSG(!memcmp(got + 12, f, sizeof(f)), "a frame for %02x:..:%02x got through",
                  drop ? drop[0] : 0, drop ? drop[5] : 0);
}

static void test_ctrl_rx_filter(void)
{
    static const uint8_t other[6] = { 0x52, 0x54, 0x00, 0x99, 0x99, 0x99 };
    static const uint8_t listed[6] = { 0x52, 0x54, 0x00, 0x77, 0x77, 0x77 };
    static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
    static const uint8_t mcast2[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x02 };
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    Env e;
    QVirtQueue *rx, *cvq;
    uint8_t table[4 + 6 + 4 + 6];
    uint8_t bad[4 + 4] = { 200, 0, 0, 0, 0, 0, 0, 0 };
    uint16_t vid;

    env_start(&e, true, "", "");
    env_driver(&e, (1ull << QVIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_MRG_RXBUF) |
               (1ull << VIRTIO_NET_F_CTRL_VQ) | (1ull << VIRTIO_NET_F_CTRL_RX) |
               (1ull << VIRTIO_NET_F_CTRL_RX_EXTRA) | (1ull << VIRTIO_NET_F_CTRL_MAC_ADDR), 1,
               true);
    rx = &e.d.vq[0];
    cvq = &e.d.vq[2];
    /* after reset the device is promiscuous (as QEMU) */
    expect_filtered(&e, rx, NULL, other);
    QT_ASSERT_EQ(rx_mode(&e, cvq, VIRTIO_NET_CTRL_RX_PROMISC, 0), VIRTIO_NET_OK);
    expect_filtered(&e, rx, other, our_mac);
    expect_filtered(&e, rx, mcast, bcast);      /* empty multicast table */
    /* MAC table: one unicast, one multicast */
    memset(table, 0, sizeof(table));
    table[0] = 1;
    memcpy(table + 4, listed, 6);
    table[10] = 1;
    memcpy(table + 14, mcast, 6);
    QT_ASSERT_EQ(ctrl_cmd(&e, cvq, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, table,
                          sizeof(table)), VIRTIO_NET_OK);
    expect_filtered(&e, rx, other, listed);
    expect_filtered(&e, rx, mcast2, mcast);
    QT_ASSERT_EQ(rx_mode(&e, cvq, VIRTIO_NET_CTRL_RX_ALLMULTI, 1), VIRTIO_NET_OK);
    expect_filtered(&e, rx, other, mcast2);
    QT_ASSERT_EQ(rx_mode(&e, cvq, VIRTIO_NET_CTRL_RX_NOMULTI, 1), VIRTIO_NET_OK);
    expect_filtered(&e, rx, mcast, our_mac);
    QT_ASSERT_EQ(rx_mode(&e, cvq, VIRTIO_NET_CTRL_RX_NOBCAST, 1), VIRTIO_NET_OK);
    expect_filtered(&e, rx, bcast, our_mac);
    QT_ASSERT_EQ(rx_mode(&e, cvq, VIRTIO_NET_CTRL_RX_ALLUNI, 1), VIRTIO_NET_OK);
    expect_filtered(&e, rx, bcast, other);
    QT_ASSERT_EQ(rx_mode(&e, cvq, VIRTIO_NET_CTRL_RX_NOBCAST, 0), VIRTIO_NET_OK);
    QT_ASSERT_EQ(rx_mode(&e, cvq, VIRTIO_NET_CTRL_RX_NOUNI, 1), VIRTIO_NET_OK);
    expect_filtered(&e, rx, our_mac, bcast);    /* nouni wins over alluni */
    QT_ASSERT_EQ(rx_mode(&e, cvq, VIRTIO_NET_CTRL_RX_NOUNI, 0), VIRTIO_NET_OK);
    /* MAC address set: frames for the old one are dropped */
    QT_ASSERT_EQ(rx_mode(&e, cvq, VIRTIO_NET_CTRL_RX_ALLUNI, 0), VIRTIO_NET_OK);
    QT_ASSERT_EQ(ctrl_cmd(&e, cvq, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, other, 6),
                 VIRTIO_NET_OK);
    QT_ASSERT_EQ(qvirtio_config_readb(&e.d, VIRTIO_NET_CFG_MAC + 3), 0x99);
    expect_filtered(&e, rx, our_mac, other);
    /* bad commands: ERR, the device goes on */
    QT_ASSERT_EQ(ctrl_cmd(&e, cvq, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, bad,
                          sizeof(bad)), VIRTIO_NET_ERR);
    QT_ASSERT_EQ(rx_mode(&e, cvq, 42, 1), VIRTIO_NET_ERR);
    QT_ASSERT_EQ(ctrl_cmd(&e, cvq, 99, 0, NULL, 0), VIRTIO_NET_ERR);
    vid = 5;    /* CTRL_VLAN not negotiated */
    QT_ASSERT_EQ(ctrl_cmd(&e, cvq, VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_CTRL_VLAN_ADD, &vid, 2),
                 VIRTIO_NET_ERR);
    QT_ASSERT_EQ(ctrl_cmd(&e, cvq, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
                          (uint8_t[2]){ 1, 0 }, 2), VIRTIO_NET_ERR);    /* no MQ */
    QT_ASSERT_EQ(qvirtio_get_status(&e.d) & QVIRTIO_S_NEEDS_RESET, 0);
    env_stop(&e);
}

/* More entries than the 64-entry table: that kind is accepted wholesale
 * (QEMU's overflow mode); ANNOUNCE ACK only with GUEST_ANNOUNCE. */
static void test_ctrl_mac_overflow(void)
{
    static const uint8_t other[6] = { 0x52, 0x54, 0x00, 0x99, 0x99, 0x99 };
    static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x07 };
    Env e;
    QVirtQueue *rx, *cvq;
    uint8_t table[4 + 65 * 6 + 4];

    env_start(&e, true, "", "");
    env_driver(&e, (1ull << QVIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_MRG_RXBUF) |
               (1ull << VIRTIO_NET_F_CTRL_VQ) | (1ull << VIRTIO_NET_F_CTRL_RX) |
               (1ull << VIRTIO_NET_F_GUEST_ANNOUNCE), 1, true);
    rx = &e.d.vq[0];
    cvq = &e.d.vq[2];
    QT_ASSERT_EQ(rx_mode(&e, cvq, VIRTIO_NET_CTRL_RX_PROMISC, 0), VIRTIO_NET_OK);
    expect_filtered(&e, rx, other, our_mac);
    memset(table, 0, sizeof(table));
    table[0] = 65;
    for (int i = 0; i < 65; i++) {
        uint8_t m[6] = { 0x52, 0x54, 0x01, 0, 0, (uint8_t)i };
        memcpy(table + 4 + 6 * i, m, 6);
    }
    QT_ASSERT_EQ(ctrl_cmd(&e, cvq, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, table,
                          sizeof(table)), VIRTIO_NET_OK);
    expect_filtered(&e, rx, mcast, other);      /* unicast overflow: any unicast */
    QT_ASSERT_EQ(ctrl_cmd(&e, cvq, VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK, NULL, 0),
                 VIRTIO_NET_OK);
    QT_ASSERT_EQ(ctrl_cmd(&e, cvq, VIRTIO_NET_CTRL_ANNOUNCE, 1, NULL, 0), VIRTIO_NET_ERR);
    env_stop(&e);
}

static void test_ctrl_vlan(void)
{
    Env e;
    QVirtQueue *rx, *cvq;
    uint8_t f[80], got[12 + 80];
    uint16_t vid = 100, h;
    uint64_t g;

    env_start(&e, true, "", "");
    env_driver(&e, (1ull << QVIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_CTRL_VQ) |
               (1ull << VIRTIO_NET_F_CTRL_VLAN), 1, true);
    rx = &e.d.vq[0];
    cvq = &e.d.vq[2];
    QT_ASSERT_EQ(ctrl_cmd(&e, cvq, VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_CTRL_VLAN_ADD, &vid, 2),
                 VIRTIO_NET_OK);
    vid = 5000;
    QT_ASSERT_EQ(ctrl_cmd(&e, cvq, VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_CTRL_VLAN_ADD, &vid, 2),
                 VIRTIO_NET_ERR);
    g = qvirtio_alloc(e.s, 256, 16);
    h = post_rx(rx, g, 256);
    /* without CTRL_RX the device stays promiscuous, which takes every
     * VLAN (as QEMU) */
    QT_ASSERT_EQ(rx_mode(&e, cvq, VIRTIO_NET_CTRL_RX_PROMISC, 0), VIRTIO_NET_ERR);
    make_frame(f, sizeof(f), our_mac, 1);
    f[12] = 0x81; f[13] = 0x00; f[14] = 0x00; f[15] = 7;
    send_frame(e.peer, f, sizeof(f));
    f[15] = 100;
    send_frame(e.peer, f, sizeof(f));
    QT_ASSERT_EQ(qvirtqueue_wait_used(rx, h, 5000), 12 + sizeof(f));
    qtest_memread(e.s, g, got, sizeof(got));
    QT_ASSERT_EQ(got[12 + 15], 7);
    env_stop(&e);
}

/* VLAN filtering with promiscuous mode off. */
static void test_ctrl_vlan_filter(void)
{
    Env e;
    QVirtQueue *rx, *cvq;
    uint8_t f[80], got[12 + 80];
    uint16_t vid = 100, h;
    uint64_t g;

    env_start(&e, true, "", "");
    env_driver(&e, (1ull << QVIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_CTRL_VQ) |
               (1ull << VIRTIO_NET_F_CTRL_RX) | (1ull << VIRTIO_NET_F_CTRL_VLAN), 1, true);
    rx = &e.d.vq[0];
    cvq = &e.d.vq[2];
    QT_ASSERT_EQ(rx_mode(&e, cvq, VIRTIO_NET_CTRL_RX_PROMISC, 0), VIRTIO_NET_OK);
    QT_ASSERT_EQ(ctrl_cmd(&e, cvq, VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_CTRL_VLAN_ADD, &vid, 2),
                 VIRTIO_NET_OK);
    g = qvirtio_alloc(e.s, 256, 16);
    h = post_rx(rx, g, 256);
    make_frame(f, sizeof(f), our_mac, 1);
    f[12] = 0x81; f[13] = 0x00; f[14] = 0x00; f[15] = 7;
    send_frame(e.peer, f, sizeof(f));
    f[15] = 100;
    send_frame(e.peer, f, sizeof(f));
    QT_ASSERT_EQ(qvirtqueue_wait_used(rx, h, 5000), 12 + sizeof(f));
    qtest_memread(e.s, g, got, sizeof(got));
    QT_ASSERT_EQ(got[12 + 15], 100);
    /* deleted: VLAN 100 is dropped too */
    QT_ASSERT_EQ(ctrl_cmd(&e, cvq, VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_CTRL_VLAN_DEL, &vid, 2),
                 VIRTIO_NET_OK);
    h = post_rx(rx, g, 256);
    send_frame(e.peer, f, sizeof(f));
    make_frame(f, sizeof(f), our_mac, 2);       /* untagged */
    send_frame(e.peer, f, sizeof(f));
    QT_ASSERT_EQ(qvirtqueue_wait_used(rx, h, 5000), 12 + sizeof(f));
    qtest_memread(e.s, g, got, sizeof(got));
    QT_ASSERT(!memcmp(got + 12, f, sizeof(f)));
    env_stop(&e);
}

/* ---- QMP: set_link, query-rx-filter, NIC_RX_FILTER_CHANGED ---------------- */

static int rx_filter_events;

static char *qmp_line(Env *e)
{
    char *l = qtest_read_line(e->qmp, 10000);

    QT_ASSERT_MSG(l, "QMP closed");
    return l;
}

static char *qmp(Env *e, const char *cmd)
{
    QT_ASSERT_EQ(write(e->qmp, cmd, strlen(cmd)), (ssize_t)strlen(cmd));
    for (;;) {
        char *l = qmp_line(e);
        if (strstr(l, "\"return\"") || strstr(l, "\"error\"")) {
            return l;
        }
        if (strstr(l, "NIC_RX_FILTER_CHANGED")) {
            QT_ASSERT_MSG(strstr(l, "\"nic0\""), "%s", l);
            rx_filter_events++;
        }
        free(l);
    }
}

static void qmp_connect(Env *e)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char *greeting;

    e->qmp = socket(AF_UNIX, SOCK_STREAM, 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", e->qmp_path);
    QT_ASSERT_EQ(connect(e->qmp, (struct sockaddr *)&sa, sizeof(sa)), 0);
    greeting = qmp_line(e);
    QT_ASSERT(strstr(greeting, "QMP"));
    free(greeting);
    free(qmp(e, "{\"execute\":\"qmp_capabilities\"}\n"));
}

static bool has(const char *r, const char *a, const char *b)
{
    return strstr(r, a) || strstr(r, b);
}

static void test_link_qmp(void)
{
    Env e;
    QVirtQueue *cvq;
    char *r;

    env_start(&e, true, "", "");
    env_driver(&e, (1ull << QVIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_STATUS) |
               (1ull << VIRTIO_NET_F_CTRL_VQ) | (1ull << VIRTIO_NET_F_CTRL_RX), 1, true);
    cvq = &e.d.vq[2];
    qmp_connect(&e);
    qvirtio_isr(&e.d);
    r = qmp(&e, "{\"execute\":\"set_link\",\"arguments\":{\"name\":\"nic0\",\"up\":false}}\n");
    QT_ASSERT_MSG(strstr(r, "\"return\""), "%s", r);
    free(r);
    QT_ASSERT_EQ(qvirtio_config_readw(&e.d, VIRTIO_NET_CFG_STATUS) & VIRTIO_NET_S_LINK_UP, 0);
    QT_ASSERT_EQ(qvirtio_isr(&e.d) & 2, 2);                     /* configuration change */
    r = qmp(&e, "{\"execute\":\"set_link\",\"arguments\":{\"name\":\"nic0\",\"up\":true}}\n");
    free(r);
    QT_ASSERT_EQ(qvirtio_config_readw(&e.d, VIRTIO_NET_CFG_STATUS), VIRTIO_NET_S_LINK_UP);
    QT_ASSERT_EQ(qvirtio_isr(&e.d) & 2, 2);
    /* no change, no interrupt */
    free(qmp(&e, "{\"execute\":\"set_link\",\"arguments\":{\"name\":\"nic0\",\"up\":true}}\n"));
    QT_ASSERT_EQ(qvirtio_isr(&e.d) & 2, 0);

    r = qmp(&e, "{\"execute\":\"query-rx-filter\",\"arguments\":{\"name\":\"nic0\"}}\n");
    QT_ASSERT_MSG(has(r, "\"main-mac\": \"" MAC_STR "\"", "\"main-mac\":\"" MAC_STR "\""),
                  "%s", r);
    QT_ASSERT_MSG(has(r, "\"promiscuous\": true", "\"promiscuous\":true"), "%s", r);
    free(r);
    rx_filter_events = 0;
    QT_ASSERT_EQ(rx_mode(&e, cvq, VIRTIO_NET_CTRL_RX_PROMISC, 0), VIRTIO_NET_OK);
    QT_ASSERT_EQ(rx_mode(&e, cvq, VIRTIO_NET_CTRL_RX_ALLMULTI, 1), VIRTIO_NET_OK);
    free(qmp(&e, "{\"execute\":\"query-status\"}\n"));
    QT_ASSERT_EQ(rx_filter_events, 1);                          /* once until queried */
    r = qmp(&e, "{\"execute\":\"query-rx-filter\",\"arguments\":{\"name\":\"nic0\"}}\n");
    QT_ASSERT_MSG(has(r, "\"promiscuous\": false", "\"promiscuous\":false"), "%s", r);
    QT_ASSERT_MSG(has(r, "\"multicast\": \"all\"", "\"multicast\":\"all\"") ||
                  strstr(r, "all"), "%s", r);
    free(r);
    QT_ASSERT_EQ(rx_mode(&e, cvq, VIRTIO_NET_CTRL_RX_NOBCAST, 1), VIRTIO_NET_OK);
    free(qmp(&e, "{\"execute\":\"query-status\"}\n"));
    QT_ASSERT_EQ(rx_filter_events, 2);
    env_stop(&e);
}

/* announce-self: the RARP broadcast goes out, and a driver that took
 * GUEST_ANNOUNCE (with the control queue) sees VIRTIO_NET_S_ANNOUNCE and
 * a configuration interrupt, cleared by its ANNOUNCE ACK; without the
 * feature only the RARP frame. */
static void test_announce_self(void)
{
    for (int feat = 1; feat >= 0; feat--) {
        Env e;
        QVirtQueue *cvq;
        uint8_t got[200];
        char *r;

        env_start(&e, true, "", "");
        env_driver(&e, (1ull << QVIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_STATUS) |
                   (1ull << VIRTIO_NET_F_CTRL_VQ) |
                   (feat ? 1ull << VIRTIO_NET_F_GUEST_ANNOUNCE : 0), 1, true);
        cvq = &e.d.vq[2];
        qmp_connect(&e);
        qvirtio_isr(&e.d);
        r = qmp(&e, "{\"execute\":\"announce-self\",\"arguments\":{\"initial\":50,"
                "\"max\":50,\"rounds\":1,\"step\":0}}\n");
        QT_ASSERT_MSG(strstr(r, "\"return\""), "%s", r);
        free(r);
        QT_ASSERT_EQ(recv_frame(e.peer, got, sizeof(got), 3000), 60);
        QT_ASSERT_EQ(got[12] << 8 | got[13], 0x8035);          /* RARP */
        QT_ASSERT_EQ(memcmp(got + 6, our_mac, 6), 0);
        if (!feat) {
            QT_ASSERT_EQ(qvirtio_config_readw(&e.d, VIRTIO_NET_CFG_STATUS), VIRTIO_NET_S_LINK_UP);
            QT_ASSERT_EQ(qvirtio_isr(&e.d) & 2, 0);
            env_stop(&e);
            continue;
        }
        QT_ASSERT_EQ(qvirtio_config_readw(&e.d, VIRTIO_NET_CFG_STATUS),
                     VIRTIO_NET_S_LINK_UP | VIRTIO_NET_S_ANNOUNCE);
        QT_ASSERT_EQ(qvirtio_isr(&e.d) & 2, 2);
        QT_ASSERT_EQ(ctrl_cmd(&e, cvq, VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK,
                              NULL, 0), VIRTIO_NET_OK);
        QT_ASSERT_EQ(qvirtio_config_readw(&e.d, VIRTIO_NET_CFG_STATUS), VIRTIO_NET_S_LINK_UP);
        env_stop(&e);
    }
}

/* ---- multiqueue ------------------------------------------------------------- */

static void test_mq(void)
{
    Env e;
    QVirtQueue *cvq, *tx1, *rx1;
    uint8_t frame[90], got[200];
    uint64_t g;
    uint16_t h;

    env_start(&e, true, ",queues=2", ",mq=on");
    QT_ASSERT(qvirtio_get_features(&e.d) & (1ull << VIRTIO_NET_F_MQ));
    QT_ASSERT_EQ(qvirtio_config_readw(&e.d, VIRTIO_NET_CFG_MAX_VQ_PAIRS), 2);
    QT_ASSERT_EQ(qvirtio_num_queues(&e.d), 5);
    env_driver(&e, (1ull << QVIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_MRG_RXBUF) |
               (1ull << VIRTIO_NET_F_CTRL_VQ) | (1ull << VIRTIO_NET_F_MQ), 2, true);
    cvq = &e.d.vq[4];
    rx1 = &e.d.vq[2];
    tx1 = &e.d.vq[3];
    QT_ASSERT_EQ(ctrl_cmd(&e, cvq, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
                          (uint8_t[2]){ 3, 0 }, 2), VIRTIO_NET_ERR);
    QT_ASSERT_EQ(ctrl_cmd(&e, cvq, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
                          (uint8_t[2]){ 0, 0 }, 2), VIRTIO_NET_ERR);
    QT_ASSERT_EQ(ctrl_cmd(&e, cvq, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
                          (uint8_t[2]){ 2, 0 }, 2), VIRTIO_NET_OK);
    /* transmit on the second pair */
    make_frame(frame, sizeof(frame), peer_mac, 4);
    g = qvirtio_alloc(e.s, 12 + sizeof(frame), 16);
    qtest_memwrite(e.s, g + 12, frame, sizeof(frame));
    h = qvirtqueue_add(tx1, g, 12 + sizeof(frame), false, false);
    qvirtqueue_kick(tx1, h);
    qvirtqueue_wait_used(tx1, h, 5000);
    QT_ASSERT_EQ(recv_frame(e.peer, got, sizeof(got), 5000), (int)sizeof(frame));
    QT_ASSERT(!memcmp(got, frame, sizeof(frame)));
    /* receive: only the second pair has buffers */
    g = qvirtio_alloc(e.s, 1536, 16);
    h = post_rx(rx1, g, 1536);
    make_frame(frame, sizeof(frame), our_mac, 8);
    send_frame(e.peer, frame, sizeof(frame));
    QT_ASSERT_EQ(qvirtqueue_wait_used(rx1, h, 5000), 12 + sizeof(frame));
    qtest_memread(e.s, g, got, 12 + sizeof(frame));
    QT_ASSERT(!memcmp(got + 12, frame, sizeof(frame)));
    env_stop(&e);
}

/* ---- hostile rings ----------------------------------------------------------- */

/* NEEDS_RESET set, and one log line saying why (mentioning about) */
static void expect_needs_reset(Env *e, const char *about)
{
    for (int t = 0; t < 5000; t++) {
        if (qvirtio_get_status(&e->d) & QVIRTIO_S_NEEDS_RESET) {
            QT_ASSERT_NEEDS_RESET_LOGGED("virtio-net", about);
            return;
        }
        usleep(1000);
    }
    QT_FAIL("the device did not ask for a reset");
}

static void test_hostile_tx_short(void)
{
    Env e;
    QVirtQueue *tx;
    uint64_t g;
    uint16_t h;

    env_start(&e, true, "", qt_log_redirect());
    env_driver(&e, 1ull << QVIRTIO_F_VERSION_1, 1, false);
    tx = &e.d.vq[1];
    g = qvirtio_alloc(e.s, 64, 16);
    h = qvirtqueue_add(tx, g, 5, false, false);               /* shorter than the header */
    qvirtqueue_kick(tx, h);
    expect_needs_reset(&e, "transmit queue 1: a 5-byte chain");
    /* a reset brings it back */
    env_driver(&e, 1ull << QVIRTIO_F_VERSION_1, 1, false);
    QT_ASSERT_EQ(qvirtio_get_status(&e.d) & QVIRTIO_S_NEEDS_RESET, 0);
    env_stop(&e);
}

/* A chain that is only the header sends nothing and completes. */
static void test_hostile_tx_empty(void)
{
    Env e;
    QVirtQueue *tx;
    uint8_t frame[70], got[100];
    uint64_t g, g2;
    uint16_t h;

    env_start(&e, true, "", "");
    env_driver(&e, 1ull << QVIRTIO_F_VERSION_1, 1, false);
    tx = &e.d.vq[1];
    g = qvirtio_alloc(e.s, 12, 16);
    h = qvirtqueue_add(tx, g, 12, false, false);
    qvirtqueue_kick(tx, h);
    QT_ASSERT_EQ(qvirtqueue_wait_used(tx, h, 5000), 0u);
    /* a chain with a device-writable part too: the out part is sent */
    make_frame(frame, sizeof(frame), peer_mac, 6);
    g2 = qvirtio_alloc(e.s, 12 + sizeof(frame) + 16, 16);
    qtest_memwrite(e.s, g2 + 12, frame, sizeof(frame));
    h = qvirtqueue_add(tx, g2, 12 + sizeof(frame), false, true);
    qvirtqueue_add(tx, g2 + 12 + sizeof(frame), 16, true, false);
    qvirtqueue_kick(tx, h);
    qvirtqueue_wait_used(tx, h, 5000);
    QT_ASSERT_EQ(recv_frame(e.peer, got, sizeof(got), 5000), (int)sizeof(frame));
    QT_ASSERT(!memcmp(got, frame, sizeof(frame)));
    QT_ASSERT_EQ(qvirtio_get_status(&e.d) & QVIRTIO_S_NEEDS_RESET, 0);
    env_stop(&e);
}

static void test_hostile_rx_readonly(void)
{
    Env e;
    QVirtQueue *rx;
    uint8_t frame[64];
    uint64_t g;
    uint16_t h;

    env_start(&e, true, "", qt_log_redirect());
    env_driver(&e, 1ull << QVIRTIO_F_VERSION_1, 1, false);
    rx = &e.d.vq[0];
    g = qvirtio_alloc(e.s, 256, 16);
    h = qvirtqueue_add(rx, g, 256, false, false);             /* device-readable */
    qvirtqueue_kick(rx, h);
    make_frame(frame, sizeof(frame), our_mac, 1);
    send_frame(e.peer, frame, sizeof(frame));
    expect_needs_reset(&e, "nothing device-writable");
    env_stop(&e);
}

static void test_hostile_rx_tiny(void)
{
    Env e;
    QVirtQueue *rx;
    uint8_t frame[64];
    uint64_t g;

    env_start(&e, true, "", qt_log_redirect());
    env_driver(&e, (1ull << QVIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_MRG_RXBUF), 1, false);
    rx = &e.d.vq[0];
    g = qvirtio_alloc(e.s, 256, 16);
    post_rx(rx, g, 4);                                        /* cannot hold the header */
    make_frame(frame, sizeof(frame), our_mac, 1);
    send_frame(e.peer, frame, sizeof(frame));
    expect_needs_reset(&e, "a 4-byte buffer cannot hold the header");
    env_stop(&e);
}

/* Without MRG_RXBUF a frame larger than the buffer is dropped; the buffer
 * takes the next frame that fits. */
/* EVENT_IDX: a frame larger than the mergeable buffers posted waits; the
 * device must then ask for a kick at the driver's avail index (what it
 * has already seen but given back does not count), so that the next
 * buffer the driver adds kicks it.  It used to write its own index, which
 * the driver had passed: a Linux guest never kicked again (TCP stalled). */
static void test_rx_wait_event_idx(void)
{
    Env e;
    QVirtQueue *rx;
    uint8_t frame[400], got[500];
    uint64_t g[3];
    uint16_t h[3], ev;

    env_start(&e, true, "", "");
    env_driver(&e, (1ull << QVIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_MRG_RXBUF) |
               (1ull << QVIRTIO_F_EVENT_IDX), 1, false);
    rx = &e.d.vq[0];
    for (int i = 0; i < 2; i++) {
        g[i] = qvirtio_alloc(e.s, 100, 16);
        h[i] = post_rx(rx, g[i], 100);
    }
    make_frame(frame, sizeof(frame), our_mac, 11);
    send_frame(e.peer, frame, sizeof(frame));
    usleep(300 * 1000);
    QT_ASSERT(!qvirtqueue_used_pending(rx));
    ev = qtest_readw(e.s, rx->used + 4 + 8ull * rx->size);       /* avail_event */
    QT_ASSERT_EQ(ev, rx->avail_idx);
    g[2] = qvirtio_alloc(e.s, 1536, 16);
    h[2] = post_rx(rx, g[2], 1536);
    /* the three buffers hold it: header + 88, 100, the rest */
    QT_ASSERT_EQ(qvirtqueue_wait_used(rx, h[0], 5000), 100u);
    QT_ASSERT_EQ(qvirtqueue_wait_used(rx, h[1], 5000), 100u);
    QT_ASSERT_EQ(qvirtqueue_wait_used(rx, h[2], 5000), 12u + 400 - 200);
    qtest_memread(e.s, g[0], got, 100);
    QT_ASSERT_EQ(got[10] | got[11] << 8, 3);                  /* num_buffers */
    QT_ASSERT(!memcmp(got + 12, frame, 88));
    env_stop(&e);
}

static void test_rx_oversized(void)
{
    Env e;
    QVirtQueue *rx;
    uint8_t big[1000], small[60], got[12 + 60];
    uint64_t g;
    uint16_t h;

    env_start(&e, true, "", "");
    env_driver(&e, 1ull << QVIRTIO_F_VERSION_1, 1, false);
    rx = &e.d.vq[0];
    g = qvirtio_alloc(e.s, 200, 16);
    h = post_rx(rx, g, 200);
    make_frame(big, sizeof(big), our_mac, 1);
    send_frame(e.peer, big, sizeof(big));
    make_frame(small, sizeof(small), our_mac, 2);
    send_frame(e.peer, small, sizeof(small));
    QT_ASSERT_EQ(qvirtqueue_wait_used(rx, h, 5000), 12 + sizeof(small));
    qtest_memread(e.s, g, got, sizeof(got));
    QT_ASSERT(!memcmp(got + 12, small, sizeof(small)));
    QT_ASSERT_EQ(qvirtio_get_status(&e.d) & QVIRTIO_S_NEEDS_RESET, 0);
    env_stop(&e);
}

static void test_hostile_ctrl(void)
{
    Env e;
    QVirtQueue *cvq;
    uint64_t g;
    uint16_t h;

    env_start(&e, true, "", qt_log_redirect());
    env_driver(&e, (1ull << QVIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_CTRL_VQ), 1, true);
    cvq = &e.d.vq[2];
    g = qvirtio_alloc(e.s, 16, 16);
    h = qvirtqueue_add(cvq, g, 2, false, false);              /* no ack byte */
    qvirtqueue_kick(cvq, h);
    expect_needs_reset(&e, "control queue: a command without");
    env_stop(&e);
}

/* A transmit ring outside RAM: the device stops, the emulator lives. */
static void test_hostile_ring_mmio(void)
{
    Env e;
    QVirtQueue *tx;
    uint16_t h;

    env_start(&e, true, "", qt_log_redirect());
    env_driver(&e, 1ull << QVIRTIO_F_VERSION_1, 1, false);
    tx = &e.d.vq[1];
    h = qvirtqueue_add(tx, 0xfee00000, 100, false, false);    /* the LAPIC page */
    qvirtqueue_kick(tx, h);
    expect_needs_reset(&e, "outside RAM");
    QT_ASSERT_EQ(qvirtio_cfg_readw(&e.d, 0x00), 0x1af4);
    env_stop(&e);
}

/* ---- hostile packed rings ------------------------------------------------------ */

/*
 * libqvirtio's hostile packed cases (qvirtqueue_packed_hostile) on each
 * of a packed device's queue kinds: receive (queue 0: buffers popped when
 * a frame arrives, given back when a mergeable frame does not fit),
 * transmit (queue 1: popped at the kick) and control (queue 2).  Each
 * must stop the device with NEEDS_RESET, a configuration interrupt and
 * one log line naming the fault, use nothing and send nothing; a good
 * request over the bad one stays unused; after a reset the three queues
 * work.  Plus heads with the wrong lap's bits on each queue (left alone,
 * silently, until published properly) and a mergeable receive whose
 * second buffer is outside RAM.
 */
#define PACKED_FEATURES ((1ull << QVIRTIO_F_VERSION_1) | (1ull << QVIRTIO_F_INDIRECT_DESC) | \
                         (1ull << VIRTIO_NET_F_MRG_RXBUF) | (1ull << VIRTIO_NET_F_CTRL_VQ) | \
                         (1ull << VIRTIO_NET_F_CTRL_RX))

/* Driver up on packed rings: config interrupts on vector 0, every queue's
 * on vector 1. */
static void packed_driver(Env *e)
{
    uint8_t st = qvirtio_start(&e->d, PACKED_FEATURES);

    QT_ASSERT_MSG(st & QVIRTIO_S_FEATURES_OK, "FEATURES_OK refused: 0x%x", st);
    QT_ASSERT_EQ(e->d.features, PACKED_FEATURES | (1ull << QVIRTIO_F_RING_PACKED));
    QT_ASSERT_EQ(qvirtio_set_config_vector(&e->d, 0), 0);
    for (unsigned i = 0; i < 3; i++) {
        QT_ASSERT(qvirtqueue_setup(&e->d, i)->packed);
        QT_ASSERT_EQ(qvirtio_set_queue_vector(&e->d, i, 1), 1);
    }
    qvirtio_driver_ok(&e->d);
}

/* packed=on (the cases run with the packed default on), one pair and the
 * control queue, the log in a file */
static void packed_env(Env *e)
{
    QT_ASSERT(qvirtio_packed_default());
    env_start(e, true, "", qt_log_redirect());
    qvirtio_msix_enable(&e->d, 2);
    packed_driver(e);
}

enum { Q_RX, Q_TX, Q_CTRL };

/* A good request for queue q (buffers allocated and filled): returns
 * how many buffers. */
static unsigned good_request(Env *e, unsigned q, QVirtioBuf *b, uint8_t seed)
{
    uint8_t f[12 + 60] = { 0 };

    switch (q) {
    case Q_RX:
        b[0] = (QVirtioBuf){ qvirtio_alloc(e->s, 1536, 16), 1536, true };
        return 1;
    case Q_TX:
        make_frame(f + 12, 60, peer_mac, seed);
        b[0] = (QVirtioBuf){ qvirtio_alloc(e->s, sizeof(f), 16), sizeof(f), false };
        qtest_memwrite(e->s, b[0].addr, f, sizeof(f));
        return 1;
    default:
        /* VIRTIO_NET_CTRL_RX_PROMISC on, and the ack byte */
        b[0] = (QVirtioBuf){ qvirtio_alloc(e->s, 3, 16), 3, false };
        qtest_memwrite(e->s, b[0].addr, (uint8_t[3]){ VIRTIO_NET_CTRL_RX,
                                                      VIRTIO_NET_CTRL_RX_PROMISC, 1 }, 3);
        b[1] = (QVirtioBuf){ qvirtio_alloc(e->s, 1, 1), 1, true };
        qtest_writeb(e->s, b[1].addr, 0xaa);
        return 2;
    }
}

/* The request's buffers as one chain, not published: its head. */
static uint16_t add_request(QVirtQueue *vq, const QVirtioBuf *b, unsigned n)
{
    uint16_t h = vq->free_head;

    for (unsigned i = 0; i < n; i++) {
        qvirtqueue_add(vq, b[i].addr, b[i].len, b[i].write, i + 1 < n);
    }
    return h;
}

/* What makes the device look at queue q after a kick: a frame for rx. */
static void poke(Env *e, unsigned q, uint8_t seed)
{
    uint8_t f[60];

    if (q == Q_RX) {
        make_frame(f, sizeof(f), our_mac, seed);
        send_frame(e->peer, f, sizeof(f));
    }
}

/* Nothing used on any queue but `skip` (Q_NONE: none), nothing sent to
 * the peer. */
#define Q_NONE 3
static void assert_nothing_done_but(Env *e, unsigned skip)
{
    uint8_t got[100];

    for (unsigned i = 0; i < 3; i++) {
        QT_ASSERT_MSG(i == skip || !qvirtqueue_used_pending(&e->d.vq[i]),
                      "queue %u has a used buffer", i);
    }
    QT_ASSERT_EQ(qvirtio_msix_received(&e->d, 1), 0u);
    QT_ASSERT_EQ(recv_frame(e->peer, got, sizeof(got), 50), -1);
}

static void assert_nothing_done(Env *e)
{
    assert_nothing_done_but(e, Q_NONE);
}

/* After a reset: a frame out on pair 0, a frame in (frames the peer sent
 * while the device was stopped come first), a control command. */
static void assert_works(Env *e)
{
    QVirtQueue *rx = &e->d.vq[0], *tx = &e->d.vq[1], *cvq = &e->d.vq[2];
    uint8_t frame[60], got[12 + 60];
    uint64_t g[4];
    uint32_t id, len;
    uint16_t h;
    bool found = false;

    make_frame(frame, sizeof(frame), peer_mac, 0x5a);
    g[0] = qvirtio_alloc(e->s, 12 + sizeof(frame), 16);
    qtest_memwrite(e->s, g[0] + 12, frame, sizeof(frame));
    h = qvirtqueue_add(tx, g[0], 12 + sizeof(frame), false, false);
    qvirtqueue_kick(tx, h);
    qvirtqueue_wait_used(tx, h, 5000);
    QT_ASSERT_EQ(recv_frame(e->peer, got, sizeof(got), 5000), (int)sizeof(frame));
    QT_ASSERT(!memcmp(got, frame, sizeof(frame)));
    for (unsigned i = 0; i < 4; i++) {
        g[i] = qvirtio_alloc(e->s, 1536, 16);
        post_rx(rx, g[i], 1536);
    }
    make_frame(frame, sizeof(frame), our_mac, 0xa5);
    send_frame(e->peer, frame, sizeof(frame));
    for (int t = 0; t < 5000 && !found; t++) {
        if (!qvirtqueue_pop_used(rx, &id, &len)) {
            usleep(1000);
            continue;
        }
        QT_ASSERT_MSG(id < 4, "used id %u", id);        /* the slots of a new ring */
        if (len == 12 + sizeof(frame)) {
            qtest_memread(e->s, g[id], got, sizeof(got));
            found = !memcmp(got + 12, frame, sizeof(frame));
        }
    }
    QT_ASSERT_MSG(found, "the frame sent after the reset did not arrive");
    QT_ASSERT_EQ(ctrl_cmd(e, cvq, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC,
                          (uint8_t[1]){ 1 }, 1), VIRTIO_NET_OK);
    QT_ASSERT_EQ(qvirtio_get_status(&e->d) & QVIRTIO_S_NEEDS_RESET, 0);
}

static void run_packed_hostile(unsigned q, QVirtioPackedHostile kind)
{
    Env e;
    QVirtQueue *vq;
    QVirtioBuf b[2];
    unsigned n;
    const char *about;

    packed_env(&e);
    vq = &e.d.vq[q];
    n = good_request(&e, q, b, 1);
    about = qvirtqueue_packed_hostile(vq, kind, b, n);
    poke(&e, q, 1);
    expect_needs_reset(&e, about);
    QT_ASSERT_EQ(qvirtio_cfg_readw(&e.d, 0x00), 0x1af4);       /* qtest answers */
    QT_ASSERT_EQ(qvirtio_msix_received(&e.d, 0), 0x1000u);     /* config interrupt */
    assert_nothing_done(&e);
    /* stopped: a good request over the bad one at slot 0 stays unused */
    qvirtqueue_packed_rewind(vq);
    n = good_request(&e, q, b, 2);
    qvirtqueue_kick(vq, add_request(vq, b, n));
    poke(&e, q, 2);
    usleep(20000);
    assert_nothing_done(&e);
    /* a reset brings it back, with nothing more logged */
    qvirtio_reset(&e.d);
    QT_ASSERT_EQ(qvirtio_get_status(&e.d), 0);
    packed_driver(&e);
    assert_works(&e);
    QT_ASSERT_NEEDS_RESET_LOGGED("virtio-net", about);
    env_stop(&e);
}

static void test_hostile_packed_rx(void)
{
    run_packed_hostile(Q_RX, qvirtio_hostile_kind);
}

static void test_hostile_packed_tx(void)
{
    run_packed_hostile(Q_TX, qvirtio_hostile_kind);
}

static void test_hostile_packed_ctrl(void)
{
    run_packed_hostile(Q_CTRL, qvirtio_hostile_kind);
}

/* Not hostile, not available: a good request whose head has the wrong
 * lap's AVAIL/USED bits, each of the three, then the right ones. */
static void run_packed_wrong_wrap(unsigned q)
{
    Env e;
    QVirtQueue *vq;
    QVirtioBuf b[2];
    uint8_t got[12 + 60], frame[60];
    unsigned n;
    uint16_t h;

    packed_env(&e);
    vq = &e.d.vq[q];
    n = good_request(&e, q, b, 3);
    h = add_request(vq, b, n);
    for (unsigned i = 0; i < 3; i++) {
        uint16_t bad = qvirtqueue_packed_wrong_bits(vq->avail_wrap, i);

        qvirtqueue_packed_publish_bits(vq, h, bad);
        qvirtqueue_notify(vq);
        poke(&e, q, 3);
        usleep(10000);
        /* the head as the driver left it (both bits set look used to the
         * driver: read the slot instead) */
        QT_ASSERT_EQ(qtest_readw(e.s, vq->desc + 16ull * h + 14) &
                     (QVRING_PACKED_F_AVAIL | QVRING_PACKED_F_USED), bad);
        QT_ASSERT_EQ(qtest_readl(e.s, vq->desc + 16ull * h + 8), b[0].len);
        assert_nothing_done_but(&e, q);
        QT_ASSERT_EQ(qvirtio_get_status(&e.d) & QVIRTIO_S_NEEDS_RESET, 0);
    }
    QT_ASSERT_EQ(qt_log_lines(NULL, 0, "needs reset", (char *)NULL), 0);
    /* published properly, it is used (rx: by the frames that waited) */
    qvirtqueue_kick(vq, h);
    switch (q) {
    case Q_RX:
        QT_ASSERT_EQ(qvirtqueue_wait_used(vq, h, 5000), 12 + sizeof(frame));
        make_frame(frame, sizeof(frame), our_mac, 3);
        qtest_memread(e.s, b[0].addr, got, sizeof(got));
        QT_ASSERT(!memcmp(got + 12, frame, sizeof(frame)));
        break;
    case Q_TX:
        qvirtqueue_wait_used(vq, h, 5000);
        make_frame(frame, sizeof(frame), peer_mac, 3);
        QT_ASSERT_EQ(recv_frame(e.peer, got, sizeof(got), 5000), (int)sizeof(frame));
        QT_ASSERT(!memcmp(got, frame, sizeof(frame)));
        break;
    default:
        QT_ASSERT_EQ(qvirtqueue_wait_used(vq, h, 5000), 1u);
        QT_ASSERT_EQ(qtest_readb(e.s, b[1].addr), VIRTIO_NET_OK);
    }
    QT_ASSERT_EQ(qvirtio_get_status(&e.d) & QVIRTIO_S_NEEDS_RESET, 0);
    env_stop(&e);
}

static void test_packed_wrong_wrap_rx(void)
{
    run_packed_wrong_wrap(Q_RX);
}

static void test_packed_wrong_wrap_tx(void)
{
    run_packed_wrong_wrap(Q_TX);
}

static void test_packed_wrong_wrap_ctrl(void)
{
    run_packed_wrong_wrap(Q_CTRL);
}

/* A mergeable frame over two buffers, the second outside RAM: the first,
 * popped already, is given back (packed: the device's slot goes back by
 * its descriptors) and nothing is used. */
static void test_hostile_packed_rx_merge(void)
{
    Env e;
    QVirtQueue *rx;
    uint8_t frame[100];

    packed_env(&e);
    rx = &e.d.vq[0];
    post_rx(rx, qvirtio_alloc(e.s, 64, 16), 64);
    post_rx(rx, 0x4000000000ull, 64);
    make_frame(frame, sizeof(frame), our_mac, 4);
    send_frame(e.peer, frame, sizeof(frame));
    expect_needs_reset(&e, "outside RAM");
    assert_nothing_done(&e);
    qvirtio_reset(&e.d);
    packed_driver(&e);
    assert_works(&e);
    env_stop(&e);
}

/* The first slot with a transitional virtio-net function. */
static int find_vnet(QTestState *s)
{
    QVirtioDev d = { .qts = s };

    for (d.slot = 1; d.slot < 32; d.slot++) {
        if (qvirtio_cfg_readl(&d, 0) == 0x10001af4u) {
            return d.slot;
        }
    }
    QT_FAIL("no virtio-net-pci (1af4:1000) on bus 0");
    return -1;
}

static void test_nic_option(void)
{
    QTestState *s;
    QVirtioDev d;

    qvirtio_alloc_reset();
    s = qtest_init("-net nic,model=virtio -net user,restrict=on");
    qvirtio_pci_init(&d, s, find_vnet(s), true);
    QT_ASSERT_EQ(qvirtio_cfg_readw(&d, 0x02), 0x1000);
    QT_ASSERT(qvirtio_get_features(&d) & (1ull << VIRTIO_NET_F_MAC));
    QT_ASSERT_EQ(qvirtio_config_readb(&d, VIRTIO_NET_CFG_MAC + 5), 0x56);
    qtest_quit(s);
    s = qtest_init("-nic user,model=virtio-net-pci,mac=52:54:00:00:00:42,restrict=on");
    qvirtio_pci_init(&d, s, find_vnet(s), false);
    QT_ASSERT_EQ(qvirtio_cfg_readw(&d, 0x02), 0x1000);
    QT_ASSERT_EQ(qvirtio_config_readb(&d, VIRTIO_NET_CFG_MAC + 5), 0x42);
    qtest_quit(s);
}

/* The iPXE ROM behind the ROM BAR: 0x55 0xaa; romfile= (empty) removes it. */
static void test_rom_bar(void)
{
    QTestState *s;
    QVirtioDev d;
    uint32_t sz;

    s = qtest_init("-netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0,addr=5");
    d.qts = s;
    d.slot = SLOT;
    qvirtio_cfg_writel(&d, 0x30, 0xfffff800);
    sz = ~(qvirtio_cfg_readl(&d, 0x30) & ~0x7ffu) + 1;
    QT_ASSERT_MSG(sz >= 64 * 1024, "ROM BAR of %u bytes", sz);
    qvirtio_cfg_writel(&d, 0x30, 0xfe000000 | 1);
    qvirtio_cfg_writew(&d, 0x04, 0x0002);
    QT_ASSERT_EQ(qtest_readb(s, 0xfe000000), 0x55);
    QT_ASSERT_EQ(qtest_readb(s, 0xfe000001), 0xaa);
    qtest_quit(s);
    s = qtest_init("-netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0,addr=5,"
                   "romfile=");
    d.qts = s;
    qvirtio_cfg_writel(&d, 0x30, 0xfffff800);
    QT_ASSERT_EQ(qvirtio_cfg_readl(&d, 0x30), 0u);
    qtest_quit(s);
}


/* ---- offloads with a real tap (own network namespace) -------------------- */

#define TAP_IF "kvqt0"
static int orig_netns = -1;

/* Enter a new network namespace (kept until main restores it). */
static bool enter_netns(void)
{
    if (access("/dev/net/tun", R_OK | W_OK) != 0) {
        return false;
    }
    if (orig_netns < 0) {
        orig_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    }
    return orig_netns >= 0 && unshare(CLONE_NEWNET) == 0;
}

static void leave_netns(void)
{
    if (orig_netns >= 0) {
        setns(orig_netns, CLONE_NEWNET);
    }
}

/* Whether the kernel takes TUN_F_UFO on a tap of our own. */
static bool kernel_has_ufo(void)
{
    struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    bool ok;

    QT_ASSERT(fd >= 0);
    snprintf(ifr.ifr_name, IFNAMSIZ, "kvqtprobe");
    QT_ASSERT(ioctl(fd, TUNSETIFF, &ifr) == 0);
    ok = ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_UFO) == 0;
    close(fd);
    return ok;
}

/* The kernel's "active" state of a netdev feature by its ethtool name. */
static bool tap_feature(const char *name)
{
    struct {
        struct ethtool_sset_info hdr;
        uint32_t len;
    } ss = { .hdr.cmd = ETHTOOL_GSSET_INFO, .hdr.sset_mask = 1ull << ETH_SS_FEATURES };
    struct ifreq ifr = { 0 };
    struct ethtool_gstrings *strs;
    struct ethtool_gfeatures *feat;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), idx = -1;
    uint32_t n;
    bool on;

    QT_ASSERT(fd >= 0);
    snprintf(ifr.ifr_name, IFNAMSIZ, TAP_IF);
    ifr.ifr_data = (void *)&ss;
    QT_ASSERT(ioctl(fd, SIOCETHTOOL, &ifr) == 0);
    n = ss.len;
    strs = calloc(1, sizeof(*strs) + n * ETH_GSTRING_LEN);
    strs->cmd = ETHTOOL_GSTRINGS;
    strs->string_set = ETH_SS_FEATURES;
    strs->len = n;
    ifr.ifr_data = (void *)strs;
    QT_ASSERT(ioctl(fd, SIOCETHTOOL, &ifr) == 0);
    for (uint32_t i = 0; i < n; i++) {
        if (!strncmp((char *)strs->data + i * ETH_GSTRING_LEN, name, ETH_GSTRING_LEN)) {
            idx = i;
        }
    }
    free(strs);
    QT_ASSERT_MSG(idx >= 0, "no feature %s", name);
    feat = calloc(1, sizeof(*feat) + (n + 31) / 32 * sizeof(feat->features[0]));
    feat->cmd = ETHTOOL_GFEATURES;
    feat->size = (n + 31) / 32;
    ifr.ifr_data = (void *)feat;
    QT_ASSERT(ioctl(fd, SIOCETHTOOL, &ifr) == 0);
    on = feat->features[idx / 32].active & (1u << (idx % 32));
    free(feat);
    close(fd);
    return on;
}

#define TSO4 "tx-tcp-segmentation"
#define TSO6 "tx-tcp6-segmentation"
#define TSOECN "tx-tcp-ecn-segmentation"
#define TXCSUM "tx-checksum-ip-generic"

static void if_up(const char *ifname)
{
    struct ifreq ifr = { 0 };
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    FILE *f;
    char path[128];

    snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
    if ((f = fopen(path, "w"))) {
        fputs("1", f);          /* no router solicitations into the guest */
        fclose(f);
    }
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
    QT_ASSERT(ioctl(fd, SIOCGIFFLAGS, &ifr) == 0);
    ifr.ifr_flags |= IFF_UP;
    QT_ASSERT(ioctl(fd, SIOCSIFFLAGS, &ifr) == 0);
    close(fd);
}

/* A packet socket on the tap with virtio-net headers (PACKET_VNET_HDR). */
static int packet_socket(void)
{
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL)), one = 1;
    struct sockaddr_ll a = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };

    QT_ASSERT(fd >= 0);
    a.sll_ifindex = if_nametoindex(TAP_IF);
    QT_ASSERT(a.sll_ifindex > 0);
    QT_ASSERT(setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) == 0);
    QT_ASSERT(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    return fd;
}

/* Ethernet + IPv4 + TCP to dst, `pay` payload bytes (3000 -> a GSO frame). */
static size_t make_tcp(uint8_t *f, const uint8_t *dst, const uint8_t *src, size_t pay,
                       uint8_t seed)
{
    size_t iplen = 20 + 20 + pay;

    memset(f, 0, 54);
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    f[12] = 0x08;
    f[14] = 0x45;
    f[16] = iplen >> 8;
    f[17] = iplen;
    f[22] = 64;
    f[23] = 6;                                  /* TCP */
    memcpy(f + 26, (uint8_t[]){ 10, 0, 9, 2, 10, 0, 9, 1 }, 8);
    {
        uint32_t sum = 0;
        for (int i = 14; i < 34; i += 2) {
            sum += f[i] << 8 | f[i + 1];
        }
        while (sum >> 16) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        f[24] = ~sum >> 8;
        f[25] = ~sum;
    }
    f[34] = 0x30; f[35] = 0x39;                 /* ports 12345 -> 5201 */
    f[36] = 0x14; f[37] = 0x51;
    f[41] = 1;                                  /* seq */
    f[46] = 0x50;                               /* data offset 5 */
    f[47] = 0x18;                               /* PSH ACK */
    f[48] = 0xff;                               /* window */
    for (size_t i = 0; i < pay; i++) {
        f[54 + i] = (uint8_t)(seed + i * 13);
    }
    return 54 + pay;
}

/* A GSO header for make_tcp's frame: NEEDS_CSUM, TCPV4, gso_size 1000. */
static void gso_hdr(uint8_t *h)
{
    memset(h, 0, 12);
    h[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    h[1] = VIRTIO_NET_HDR_GSO_TCPV4;
    h[2] = 54;                                  /* hdr_len */
    h[4] = 1000 & 0xff;                         /* gso_size */
    h[5] = 1000 >> 8;
    h[6] = 34;                                  /* csum_start */
    h[8] = 16;                                  /* csum_offset */
}

static void env_start_tap(Env *e, const char *netdev_extra, const char *dev_extra)
{
    memset(e, 0, sizeof(*e));
    qvirtio_alloc_reset();
    e->s = qtest_initf("-netdev tap,id=n0,ifname=" TAP_IF ",script=no,downscript=no%s "
                       "-device virtio-net-pci,netdev=n0,mac=" MAC_STR ",addr=%x%s",
                       netdev_extra, SLOT, dev_extra);
    e->peer = -1;
    e->qmp = -1;
    qvirtio_pci_init(&e->d, e->s, SLOT, true);
}

static uint64_t offloads_le(uint64_t o)
{
    return htole64(o);
}

static void test_tap_offloads(void)
{
    const uint64_t gso = (1ull << VIRTIO_NET_F_HOST_TSO4) | (1ull << VIRTIO_NET_F_HOST_TSO6) |
                         (1ull << VIRTIO_NET_F_HOST_ECN) | (1ull << VIRTIO_NET_F_GUEST_TSO4) |
                         (1ull << VIRTIO_NET_F_GUEST_TSO6) | (1ull << VIRTIO_NET_F_GUEST_ECN);
    const uint64_t ufo = (1ull << VIRTIO_NET_F_HOST_UFO) | (1ull << VIRTIO_NET_F_GUEST_UFO);
    const uint8_t tap_mac[6] = { 0x02, 0, 0, 0, 0, 0x99 };
    Env e;
    uint64_t f, o;
    bool has_ufo;
    QVirtQueue *rx, *tx, *cvq;
    static uint8_t frame[4096], got[8192];
    uint64_t g;
    uint16_t h;
    uint32_t len;
    size_t flen;
    int ps;
    ssize_t n;

    if (!enter_netns()) {
        QT_SKIP("no network namespace or /dev/net/tun (not root?)");
    }
    has_ufo = kernel_has_ufo();

    /* vnet_hdr=off: no GSO features (CSUM stays: kvmpc finishes it) */
    env_start_tap(&e, ",vnet_hdr=off", "");
    f = qvirtio_get_features(&e.d);
    QT_ASSERT_EQ(f & (gso | ufo), 0u);
    QT_ASSERT(f & (1ull << VIRTIO_NET_F_CSUM));
    env_stop(&e);

    /* the default (vnet_hdr as the kernel has it): the whole family, as QEMU;
     * the properties remove their bits; all tap offloads off until DRIVER_OK */
    env_start_tap(&e, "", ",host_tso6=off,guest_ecn=off");
    f = qvirtio_get_features(&e.d);
    QT_ASSERT_EQ(f & (gso | ufo), (gso | (has_ufo ? ufo : 0)) &
                 ~((1ull << VIRTIO_NET_F_HOST_TSO6) | (1ull << VIRTIO_NET_F_GUEST_ECN)));
    env_stop(&e);
    env_start_tap(&e, "", "");
    f = qvirtio_get_features(&e.d);
    QT_ASSERT_EQ(f & (gso | ufo), gso | (has_ufo ? ufo : 0));
    QT_ASSERT(f & (1ull << VIRTIO_NET_F_CTRL_GUEST_OFFLOADS));
    QT_ASSERT(!tap_feature(TXCSUM) && !tap_feature(TSO4));

    /* the driver takes checksums and TSO4 in both directions */
    env_driver(&e, (1ull << QVIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_MRG_RXBUF) |
               (1ull << VIRTIO_NET_F_CSUM) | (1ull << VIRTIO_NET_F_GUEST_CSUM) |
               (1ull << VIRTIO_NET_F_GUEST_TSO4) | (1ull << VIRTIO_NET_F_HOST_TSO4) |
               (1ull << VIRTIO_NET_F_CTRL_VQ) | (1ull << VIRTIO_NET_F_CTRL_GUEST_OFFLOADS),
               1, true);
    rx = &e.d.vq[0];
    tx = &e.d.vq[1];
    cvq = &e.d.vq[2];
    QT_ASSERT(tap_feature(TXCSUM));
    QT_ASSERT(tap_feature(TSO4));
    QT_ASSERT(!tap_feature(TSO6));
    QT_ASSERT(!tap_feature(TSOECN));

    /* GUEST_OFFLOADS_SET: a subset; one not negotiated is refused */
    o = offloads_le(1ull << VIRTIO_NET_F_GUEST_CSUM);
    QT_ASSERT_EQ(ctrl_cmd(&e, cvq, VIRTIO_NET_CTRL_GUEST_OFFLOADS,
                          VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET, &o, 8), VIRTIO_NET_OK);
    QT_ASSERT(tap_feature(TXCSUM) && !tap_feature(TSO4));
    o = offloads_le(1ull << VIRTIO_NET_F_GUEST_TSO6);
    QT_ASSERT_EQ(ctrl_cmd(&e, cvq, VIRTIO_NET_CTRL_GUEST_OFFLOADS,
                          VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET, &o, 8), VIRTIO_NET_ERR);
    QT_ASSERT_EQ(ctrl_cmd(&e, cvq, VIRTIO_NET_CTRL_GUEST_OFFLOADS,
                          VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET, &o, 4), VIRTIO_NET_ERR);
    QT_ASSERT(tap_feature(TXCSUM) && !tap_feature(TSO4));
    o = 0;
    QT_ASSERT_EQ(ctrl_cmd(&e, cvq, VIRTIO_NET_CTRL_GUEST_OFFLOADS,
                          VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET, &o, 8), VIRTIO_NET_OK);
    QT_ASSERT(!tap_feature(TXCSUM) && !tap_feature(TSO4));
    o = offloads_le((1ull << VIRTIO_NET_F_GUEST_CSUM) | (1ull << VIRTIO_NET_F_GUEST_TSO4));
    QT_ASSERT_EQ(ctrl_cmd(&e, cvq, VIRTIO_NET_CTRL_GUEST_OFFLOADS,
                          VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET, &o, 8), VIRTIO_NET_OK);
    QT_ASSERT(tap_feature(TXCSUM) && tap_feature(TSO4));

    if_up(TAP_IF);
    ps = packet_socket();

    /* transmit: a 3054-byte TSO frame reaches the tap whole, its header kept */
    flen = make_tcp(frame + 12, tap_mac, our_mac, 3000, 5);
    gso_hdr(frame);
    g = qvirtio_alloc(e.s, 12 + flen, 16);
    qtest_memwrite(e.s, g, frame, 12 + flen);
    h = qvirtqueue_add(tx, g, 12 + flen, false, false);
    qvirtqueue_kick(tx, h);
    QT_ASSERT_EQ(qvirtqueue_wait_used(tx, h, 5000), 0u);
    {
        struct pollfd p = { .fd = ps, .events = POLLIN };
        QT_ASSERT_MSG(poll(&p, 1, 5000) == 1, "nothing on the tap");
    }
    n = recv(ps, got, sizeof(got), 0);
    QT_ASSERT_EQ(n, (ssize_t)(10 + flen));
    QT_ASSERT_EQ(got[1], VIRTIO_NET_HDR_GSO_TCPV4);
    QT_ASSERT_EQ(got[4] | got[5] << 8, 1000);
    QT_ASSERT(!memcmp(got + 10, frame + 12, flen));

    /* the same frame in pieces: its header over two descriptors, then the
     * frame over three (sent from the guest's buffers as they are: one
     * writev), and over 70 (more than that takes: copied first); each
     * arrives as one frame, byte for byte */
    for (unsigned pieces = 5; pieces <= 70; pieces += 65) {
        uint32_t cut[5] = { 0, 7, 12 + 20, 12 + 21, 12 + flen };

        g = qvirtio_alloc(e.s, 12 + flen, 16);
        qtest_memwrite(e.s, g, frame, 12 + flen);
        h = 0;
        for (unsigned i = 0; i + 1 < pieces; i++) {
            uint32_t a = pieces == 5 ? cut[i] : i * 43;
            uint32_t b = pieces == 5 ? cut[i + 1] : (i + 2 == pieces ? 12 + flen : (i + 1) * 43);
            uint16_t d = qvirtqueue_add(tx, g + a, b - a, false, i + 2 < pieces);
            h = i == 0 ? d : h;
        }
        qvirtqueue_kick(tx, h);
        QT_ASSERT_EQ(qvirtqueue_wait_used(tx, h, 5000), 0u);
        {
            struct pollfd p = { .fd = ps, .events = POLLIN };
            QT_ASSERT_MSG(poll(&p, 1, 5000) == 1, "nothing on the tap (%u pieces)", pieces);
        }
        memset(got, 0, sizeof(got));
        n = recv(ps, got, sizeof(got), 0);
        QT_ASSERT_EQ(n, (ssize_t)(10 + flen));
        QT_ASSERT_EQ(got[1], VIRTIO_NET_HDR_GSO_TCPV4);
        QT_ASSERT_EQ(got[4] | got[5] << 8, 1000);
        QT_ASSERT(!memcmp(got + 10, frame + 12, flen));
    }

    /* receive: a TSO frame sent on the tap arrives whole, with its header */
    flen = make_tcp(frame + 10, our_mac, tap_mac, 3000, 9);
    gso_hdr(frame);             /* the packet socket's header is 10 bytes */
    g = qvirtio_alloc(e.s, 8192, 16);
    h = post_rx(rx, g, 8192);
    QT_ASSERT_EQ(send(ps, frame, 10 + flen, 0), (ssize_t)(10 + flen));
    len = qvirtqueue_wait_used(rx, h, 5000);
    QT_ASSERT_EQ(len, 12 + flen);
    qtest_memread(e.s, g, got, len);
    QT_ASSERT_EQ(got[1], VIRTIO_NET_HDR_GSO_TCPV4);
    QT_ASSERT_EQ(got[4] | got[5] << 8, 1000);
    QT_ASSERT(got[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM);
    QT_ASSERT_EQ(got[10] | got[11] << 8, 1);
    QT_ASSERT(!memcmp(got + 12 + 54, frame + 10 + 54, 3000));

    /* offloads off: the kernel segments (and checksums) before the tap */
    o = 0;
    QT_ASSERT_EQ(ctrl_cmd(&e, cvq, VIRTIO_NET_CTRL_GUEST_OFFLOADS,
                          VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET, &o, 8), VIRTIO_NET_OK);
    g = qvirtio_alloc(e.s, 8192, 16);
    h = post_rx(rx, g, 8192);
    QT_ASSERT_EQ(send(ps, frame, 10 + flen, 0), (ssize_t)(10 + flen));
    len = qvirtqueue_wait_used(rx, h, 5000);
    QT_ASSERT_EQ(len, 12u + 54 + 1000);
    qtest_memread(e.s, g, got, len);
    QT_ASSERT_EQ(got[1], VIRTIO_NET_HDR_GSO_NONE);
    QT_ASSERT_EQ(got[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM, 0);
    QT_ASSERT(!memcmp(got + 12 + 54, frame + 10 + 54, 1000));
    close(ps);
    env_stop(&e);
}

int main(int argc, char **argv)
{
    qt_init(argc, argv);
    qt_run("virtio-net/config", test_config);
    qt_run("virtio-net/bad-props", test_bad_props);
    qt_run("virtio-net/user-tso", test_user_tso);
    QVIRTIO_RUN_RINGS("virtio-net/tx-modern-mrg", test_tx_modern_mrg);
    QVIRTIO_RUN_RINGS("virtio-net/tx-modern", test_tx_modern);
    qt_run("virtio-net/tx-legacy", test_tx_legacy);
    qt_run("virtio-net/tx-legacy-mrg", test_tx_legacy_mrg);
    qt_run("virtio-net/tx-csum", test_tx_csum);
    QVIRTIO_RUN_RINGS("virtio-net/tx-burst", test_tx_burst);
    QVIRTIO_RUN_RINGS("virtio-net/tx-before-driver-ok", test_tx_before_driver_ok);
    QVIRTIO_RUN_RINGS("virtio-net/rx-modern", test_rx_modern);
    qt_run("virtio-net/rx-legacy", test_rx_legacy);
    QVIRTIO_RUN_RINGS("virtio-net/rx-mergeable", test_rx_mergeable);
    QVIRTIO_RUN_RINGS("virtio-net/rx-wait-for-buffers", test_rx_wait_for_buffers);
    qt_run("virtio-net/rx-wait-event-idx", test_rx_wait_event_idx);
    qt_run("virtio-net/rx-csum-valid", test_rx_csum_valid);
    QVIRTIO_RUN_RINGS("virtio-net/rx-coalesce", test_rx_coalesce);
    qt_run("virtio-net/tx-at-kick", test_tx_at_kick);
    qt_run("virtio-net/rx-oversized", test_rx_oversized);
    QVIRTIO_RUN_RINGS("virtio-net/ctrl-rx-filter", test_ctrl_rx_filter);
    qt_run("virtio-net/ctrl-mac-overflow", test_ctrl_mac_overflow);
    qt_run("virtio-net/ctrl-vlan", test_ctrl_vlan);
    qt_run("virtio-net/ctrl-vlan-filter", test_ctrl_vlan_filter);
    qt_run("virtio-net/link-qmp", test_link_qmp);
    qt_run("virtio-net/announce-self", test_announce_self);
    QVIRTIO_RUN_RINGS("virtio-net/mq", test_mq);
    QVIRTIO_RUN_RINGS("virtio-net/hostile-tx-short", test_hostile_tx_short);
    QVIRTIO_RUN_RINGS("virtio-net/hostile-tx-empty", test_hostile_tx_empty);
    QVIRTIO_RUN_RINGS("virtio-net/hostile-rx-readonly", test_hostile_rx_readonly);
    QVIRTIO_RUN_RINGS("virtio-net/hostile-rx-tiny", test_hostile_rx_tiny);
    QVIRTIO_RUN_RINGS("virtio-net/hostile-ctrl", test_hostile_ctrl);
    QVIRTIO_RUN_RINGS("virtio-net/hostile-ring-mmio", test_hostile_ring_mmio);
    qvirtio_set_packed_default(true);
    QVIRTIO_RUN_PACKED_HOSTILE("virtio-net/hostile-packed/rx/", "", test_hostile_packed_rx);
    QVIRTIO_RUN_PACKED_HOSTILE("virtio-net/hostile-packed/tx/", "", test_hostile_packed_tx);
    QVIRTIO_RUN_PACKED_HOSTILE("virtio-net/hostile-packed/ctrl/", "", test_hostile_packed_ctrl);
    qt_run("virtio-net/hostile-packed/rx/merge_second_outside_ram", test_hostile_packed_rx_merge);
    qt_run("virtio-net/packed-wrong-wrap/rx", test_packed_wrong_wrap_rx);
    qt_run("virtio-net/packed-wrong-wrap/tx", test_packed_wrong_wrap_tx);
    qt_run("virtio-net/packed-wrong-wrap/ctrl", test_packed_wrong_wrap_ctrl);
    qvirtio_set_packed_default(false);
    qt_run("virtio-net/nic-option", test_nic_option);
    qt_run("virtio-net/rom-bar", test_rom_bar);
    qt_run("virtio-net/tap-offloads", test_tap_offloads);      /* last: own netns */
    leave_netns();
    return qt_finish();
}

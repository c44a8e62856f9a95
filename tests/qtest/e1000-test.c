/*
 * e1000 (82540EM, docs/net.md) through qtest: the EEPROM (EERD and the
 * bit-banged Microwire interface: the MAC and the 0xBABA checksum), the
 * PHY behind MDIC, a frame transmitted by the device arriving framed at a
 * -netdev socket peer this test plays, a frame the test sends landing in
 * an RX descriptor (DD, EOP, ICR.RXT0, INTx) while a frame for another
 * MAC is filtered, rings outside RAM and tails outside the ring (the
 * emulator stays alive), and QMP set_link (STATUS.LU, ICR.LSC, the PHY's
 * link bit) and query-rx-filter; and one frame each way through every
 * other stream and datagram backend (-netdev stream over UNIX and TCP,
 * dgram over UDP and UNIX, socket udp= and mcast= on 127.0.0.1) with the
 * test at the other end, plus their command-line errors.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include "qtest-harness.h"

#define CONF1(bus, dev, fn, reg) \
    (0x80000000u | ((bus) << 16) | ((dev) << 11) | ((fn) << 8) | ((reg) & 0xfc))

#define CTRL    0x0000
#define STATUS  0x0008
#define EECD    0x0010
#define EERD    0x0014
#define MDIC    0x0020
#define ICR     0x00c0
#define ICS     0x00c8
#define ITR     0x00c4
#define IMS     0x00d0
#define IMC     0x00d8
#define RCTL    0x0100
#define TCTL    0x0400
#define RDBAL   0x2800
#define RDBAH   0x2804
#define RDLEN   0x2808
#define RDH     0x2810
#define RDT     0x2818
#define TDBAL   0x3800
#define TDBAH   0x3804
#define TDLEN   0x3808
#define TDH     0x3810
#define TDT     0x3818
#define GPTC    0x4080
#define GPRC    0x4074
#define MTA     0x5200
#define RA      0x5400

#define TX_RING 0x100000
#define TX_BUF  0x110000
#define RX_RING 0x120000
#define RX_BUF  0x130000

#define MAC_STR "52:54:00:aa:bb:cc"
static const uint8_t nic_mac[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };

typedef struct Nic {
    QTestState *qts;
    int dev;
    uint64_t mmio;
    uint16_t io;
} Nic;

static uint32_t cfg_readl(QTestState *s, int dev, int reg)
{
    qtest_outl(s, 0xcf8, CONF1(0, dev, 0, reg));
    return qtest_inl(s, 0xcfc);
}

static void cfg_writew(QTestState *s, int dev, int reg, uint16_t v)
{
    qtest_outl(s, 0xcf8, CONF1(0, dev, 0, reg));
    qtest_outw(s, 0xcfc + (reg & 2), v);
}

static uint32_t rd(Nic *n, uint32_t reg)
{
    return qtest_readl(n->qts, n->mmio + reg);
}

static void wr(Nic *n, uint32_t reg, uint32_t v)
{
    qtest_writel(n->qts, n->mmio + reg, v);
}

static void nic_find(Nic *n, QTestState *s)
{
    n->qts = s;
    for (int dev = 0; dev < 32; dev++) {
        if (cfg_readl(s, dev, 0) == 0x100e8086u) {
            uint32_t bar0 = cfg_readl(s, dev, 0x10), bar1 = cfg_readl(s, dev, 0x14);
            n->dev = dev;
            QT_ASSERT_EQ(cfg_readl(s, dev, 0x08) >> 16, 0x0200u);      /* Ethernet */
            QT_ASSERT_EQ(bar0 & 1, 0u);
            QT_ASSERT_EQ(bar1 & 1, 1u);
            n->mmio = bar0 & ~0xfu;
            n->io = bar1 & ~3u;
            cfg_writew(s, dev, 0x04, 0x0007);       /* I/O, memory, bus master */
            return;
        }
    }
    QT_FAIL("no e1000 (8086:100e) on bus 0");
}

/* ---- a socket peer ------------------------------------------------------ */

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

/* kvmpc connects to our listening socket; returns the accepted peer. */
static QTestState *start_with_peer(Nic *n, int *peer, const char *extra)
{
    int port, lfd = listen_any(&port);
    QTestState *s = qtest_initf("-netdev socket,id=n0,connect=127.0.0.1:%d "
                                "-device e1000,netdev=n0,mac=" MAC_STR ",id=nic0 %s",
                                port, extra);
    struct pollfd pfd = { .fd = lfd, .events = POLLIN };

    QT_ASSERT_MSG(poll(&pfd, 1, 10000) == 1, "kvmpc did not connect");
    *peer = accept(lfd, NULL, NULL);
    QT_ASSERT(*peer >= 0);
    close(lfd);
    nic_find(n, s);
    return s;
}

/* ---- EEPROM and PHY ----------------------------------------------------- */

static uint16_t eerd_read(Nic *n, int addr)
{
    uint32_t v;

    wr(n, EERD, (addr << 8) | 1);
    v = rd(n, EERD);
    QT_ASSERT_MSG(v & 0x10, "EERD not done: 0x%x", v);
    QT_ASSERT_EQ((v >> 8) & 0xff, (uint32_t)addr);
    return v >> 16;
}

static void eecd_clock(Nic *n, uint32_t v)
{
    wr(n, EECD, v | 1);     /* SK high */
    wr(n, EECD, v);         /* SK low */
}

/* The Microwire read as Linux's e1000 driver does it. */
static uint16_t eecd_read(Nic *n, int addr)
{
    uint32_t base = 0x40 | 0x2;         /* REQ, CS */
    uint32_t bits = (6u << 6) | addr;   /* start bit, READ (10), 6 address bits */
    uint16_t word = 0;

    wr(n, EECD, 0x40);
    QT_ASSERT(rd(n, EECD) & 0x80);      /* GNT */
    wr(n, EECD, base);
    for (int i = 8; i >= 0; i--) {
        eecd_clock(n, base | (((bits >> i) & 1) ? 0x4 : 0));
    }
    for (int i = 0; i < 16; i++) {
        wr(n, EECD, base | 1);
        word = (word << 1) | !!(rd(n, EECD) & 0x8);
        wr(n, EECD, base);
    }
    wr(n, EECD, 0x40);                  /* CS low */
    wr(n, EECD, 0);                     /* release */
    return word;
}

static void test_eeprom(void)
{
    Nic n;
    int peer;
    QTestState *s = start_with_peer(&n, &peer, "");
    uint16_t sum = 0;

    for (int i = 0; i < 3; i++) {
        uint16_t want = nic_mac[2 * i] | nic_mac[2 * i + 1] << 8;
        QT_ASSERT_EQ(eerd_read(&n, i), want);
        QT_ASSERT_EQ(eecd_read(&n, i), want);
    }
    for (int i = 0; i < 64; i++) {
        uint16_t w = eerd_read(&n, i);
        QT_ASSERT_EQ(eecd_read(&n, i), w);
        sum += w;
    }
    QT_ASSERT_EQ(sum, 0xbaba);
    /* receive address 0 holds the MAC, valid */
    QT_ASSERT_EQ(rd(&n, 0x5400), 0xaa005452u);
    QT_ASSERT_EQ(rd(&n, 0x5404), 0x8000ccbbu);
    /* through the I/O BAR: IOADDR then IODATA */
    qtest_outl(s, n.io, STATUS);
    QT_ASSERT_EQ(qtest_inl(s, n.io + 4), rd(&n, STATUS));
    close(peer);
    qtest_quit(s);
}

static uint32_t mdic(Nic *n, uint32_t phy, uint32_t reg, uint32_t op, uint16_t data)
{
    uint32_t v;

    wr(n, MDIC, data | reg << 16 | phy << 21 | op << 26);
    v = rd(n, MDIC);
    QT_ASSERT_MSG(v & (1u << 28), "MDIC not ready: 0x%x", v);
    return v;
}

static void test_phy(void)
{
    Nic n;
    int peer;
    QTestState *s = start_with_peer(&n, &peer, "");
    uint32_t v;

    QT_ASSERT(rd(&n, STATUS) & 2);                                  /* LU */
    v = mdic(&n, 1, 1, 2, 0);
    QT_ASSERT_EQ(v & 0x24, 0x24u);                                  /* link, AN complete */
    QT_ASSERT_EQ(v & (1u << 30), 0u);
    QT_ASSERT_EQ(mdic(&n, 1, 2, 2, 0) & 0xffff, 0x0141u);            /* PHY ID */
    QT_ASSERT_EQ(mdic(&n, 1, 3, 2, 0) & 0xfff0, 0x0c20u);
    /* a write sticks, a read-only register does not change */
    mdic(&n, 1, 4, 1, 0x0101);
    QT_ASSERT_EQ(mdic(&n, 1, 4, 2, 0) & 0xffff, 0x0101u);
    mdic(&n, 1, 2, 1, 0x1234);
    QT_ASSERT_EQ(mdic(&n, 1, 2, 2, 0) & 0xffff, 0x0141u);
    /* another PHY address: error */
    QT_ASSERT(mdic(&n, 2, 1, 2, 0) & (1u << 30));
    close(peer);
    qtest_quit(s);
}

/* ---- transmit and receive ------------------------------------------------ */

static void tx_setup(Nic *n)
{
    uint8_t zero[16 * 8] = { 0 };

    qtest_memwrite(n->qts, TX_RING, zero, sizeof(zero));
    wr(n, TDBAL, TX_RING);
    wr(n, TDBAH, 0);
    wr(n, TDLEN, sizeof(zero));
    wr(n, TDH, 0);
    wr(n, TDT, 0);
    wr(n, TCTL, 0x2);
}

static void tx_desc(Nic *n, int i, uint64_t addr, uint16_t len, uint8_t cmd)
{
    uint8_t d[16] = { 0 };

    for (int b = 0; b < 8; b++) {
        d[b] = addr >> (8 * b);
    }
    d[8] = len;
    d[9] = len >> 8;
    d[11] = cmd;
    qtest_memwrite(n->qts, TX_RING + 16 * i, d, 16);
}

static void make_frame(uint8_t *f, size_t len, const uint8_t *dst, uint8_t seed)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
    f[12] = 0x88;
    f[13] = 0xb5;       /* local experimental ethertype */
    for (size_t i = 14; i < len; i++) {
        f[i] = seed + i * 7;
    }
}

static void test_tx(void)
{
    Nic n;
    int peer;
    QTestState *s = start_with_peer(&n, &peer, "");
    static uint8_t frame[1000], got[1000];
    uint8_t hdr[4];

    make_frame(frame, sizeof(frame), (const uint8_t *)"\x02\x00\x00\x00\x00\x01", 1);
    qtest_memwrite(s, TX_BUF, frame, sizeof(frame));
    tx_setup(&n);
    wr(&n, IMS, 0x1);                               /* TXDW */
    /* two descriptors for one frame: 400 + 600 bytes, RS on the last */
    tx_desc(&n, 0, TX_BUF, 400, 0x00);
    tx_desc(&n, 1, TX_BUF + 400, 600, 0x01 | 0x08); /* EOP | RS */
    wr(&n, TDT, 2);
    QT_ASSERT_EQ(rd(&n, TDH), 2u);
    QT_ASSERT_EQ(qtest_readb(s, TX_RING + 16 + 12) & 1, 1u);   /* DD written back */
    QT_ASSERT(cfg_readl(s, n.dev, 0x04) & (0x08u << 16));      /* INTx asserted */
    QT_ASSERT(rd(&n, ICR) & 0x1);                               /* TXDW; read clears */
    QT_ASSERT_EQ(cfg_readl(s, n.dev, 0x04) & (0x08u << 16), 0u);
    QT_ASSERT_EQ(rd(&n, GPTC), 1u);
    QT_ASSERT_EQ(rd(&n, GPTC), 0u);                             /* cleared by reading */
    QT_ASSERT(qtest_read_full(peer, hdr, 4, 5000));
    QT_ASSERT_EQ((uint32_t)(hdr[0] << 24 | hdr[1] << 16 | hdr[2] << 8 | hdr[3]), 1000u);
    QT_ASSERT(qtest_read_full(peer, got, sizeof(got), 5000));
    QT_ASSERT_EQ(memcmp(got, frame, sizeof(frame)), 0);
    close(peer);
    qtest_quit(s);
}

static void rx_setup(Nic *n, int ndesc, uint32_t rctl)
{
    for (int i = 0; i < ndesc; i++) {
        uint8_t d[16] = { 0 };
        uint64_t a = RX_BUF + 2048 * i;
        for (int b = 0; b < 8; b++) {
            d[b] = a >> (8 * b);
        }
        qtest_memwrite(n->qts, RX_RING + 16 * i, d, 16);
    }
    wr(n, RDBAL, RX_RING);
    wr(n, RDBAH, 0);
    wr(n, RDLEN, ndesc * 16);
    wr(n, RDH, 0);
    wr(n, RCTL, rctl);
    wr(n, RDT, ndesc - 1);
}

/* Polls RDH (the main loop reads the socket meanwhile). */
static bool wait_rdh(Nic *n, uint32_t want)
{
    struct timespec t0, t;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        if (rd(n, RDH) == want) {
            return true;
        }
        usleep(1000);
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while (t.tv_sec - t0.tv_sec < 10);
    return false;
}

static void test_rx(void)
{
    Nic n;
    int peer;
    QTestState *s = start_with_peer(&n, &peer, "");
    static uint8_t frame[300], other[100], got[300];
    uint8_t d[16];

    rx_setup(&n, 8, 0x2 | 0x8000);      /* EN, BAM, 2048-byte buffers */
    wr(&n, IMS, 0x80);                  /* RXT0 */
    make_frame(other, sizeof(other), (const uint8_t *)"\x02\x11\x22\x33\x44\x55", 9);
    make_frame(frame, sizeof(frame), nic_mac, 3);
    send_frame(peer, other, sizeof(other));   /* another station's: filtered */
    send_frame(peer, frame, sizeof(frame));
    QT_ASSERT_MSG(wait_rdh(&n, 1), "no frame received (RDH %u)", rd(&n, RDH));
    qtest_memread(s, RX_RING, d, 16);
    QT_ASSERT_EQ(d[8] | d[9] << 8, 304);       /* with the 4-byte FCS */
    QT_ASSERT_EQ(d[12] & 0x3, 0x3);     /* DD, EOP */
    qtest_memread(s, RX_BUF, got, sizeof(got));
    QT_ASSERT_EQ(memcmp(got, frame, sizeof(frame)), 0);
    QT_ASSERT(cfg_readl(s, n.dev, 0x04) & (0x08u << 16));      /* INTx */
    QT_ASSERT(rd(&n, ICR) & 0x80);                              /* RXT0 */
    QT_ASSERT_EQ(rd(&n, GPRC), 1u);

    /* a short broadcast frame is padded to 60 bytes; SECRC: no FCS */
    memset(other, 0xff, 6);
    wr(&n, RCTL, 0x2 | 0x8000 | (1u << 26));
    send_frame(peer, other, 20);
    QT_ASSERT(wait_rdh(&n, 2));
    qtest_memread(s, RX_RING + 16, d, 16);
    QT_ASSERT_EQ(d[8] | d[9] << 8, 60);

    /* promiscuous mode takes the other station's frame too */
    make_frame(other, sizeof(other), (const uint8_t *)"\x02\x11\x22\x33\x44\x55", 9);
    wr(&n, RCTL, 0x2 | 0x8000 | 0x8);
    send_frame(peer, other, sizeof(other));
    QT_ASSERT(wait_rdh(&n, 3));

    /* ring full (RDH reaches RDT): frames wait in the queue until RDT moves */
    for (int i = 0; i < 6; i++) {
        send_frame(peer, frame, sizeof(frame));
    }
    QT_ASSERT(wait_rdh(&n, 7));
    usleep(100000);
    QT_ASSERT_EQ(rd(&n, RDH), 7u);
    wr(&n, RDT, 2);                     /* hand back descriptors 7, 0, 1 */
    QT_ASSERT(wait_rdh(&n, 1));         /* the two waiting frames went to 7 and 0 */
    close(peer);
    qtest_quit(s);
}

/* ITR: after an assertion the next one waits ITR x 256 ns of virtual time
 * (QEMU's mitigation); with ITR 0 every cause asserts at once. */
static void test_itr(void)
{
    Nic n;
    int peer;
    QTestState *s = start_with_peer(&n, &peer, "");
#define INTX(s, n) (cfg_readl((s), (n).dev, 0x04) & (0x08u << 16))

    wr(&n, IMS, 0x80);                  /* RXT0 */
    wr(&n, ITR, 1000);                  /* 256 us */
    wr(&n, ICS, 0x80);
    QT_ASSERT(INTX(s, n));              /* the first at once */
    QT_ASSERT_EQ(rd(&n, ICR) & 0x80, 0x80u);
    QT_ASSERT_EQ(INTX(s, n), 0u);
    wr(&n, ICS, 0x80);                  /* within the interval: held back */
    QT_ASSERT_EQ(INTX(s, n), 0u);
    qtest_clock_step(s, 250000);
    QT_ASSERT_EQ(INTX(s, n), 0u);
    qtest_clock_step(s, 10000);         /* 260 us after the first */
    QT_ASSERT(INTX(s, n));
    QT_ASSERT_EQ(rd(&n, ICR) & 0x80, 0x80u);
    /* the held one opened a new interval */
    wr(&n, ICS, 0x80);
    QT_ASSERT_EQ(INTX(s, n), 0u);
    qtest_clock_step(s, 300000);
    QT_ASSERT(INTX(s, n));
    rd(&n, ICR);
    /* ITR 0: no throttling (after the pending interval ends) */
    wr(&n, ITR, 0);
    qtest_clock_step(s, 300000);
    for (int i = 0; i < 3; i++) {
        wr(&n, ICS, 0x80);
        QT_ASSERT(INTX(s, n));
        rd(&n, ICR);
        QT_ASSERT_EQ(INTX(s, n), 0u);
    }
#undef INTX
    close(peer);
    qtest_quit(s);
}

/* Multicast: the exact filters (RA) take multicast addresses as Linux's
 * driver puts its first groups there; the MTA hash takes the rest; MPE
 * takes every multicast frame; nothing else passes without UPE. */
static void test_rx_multicast(void)
{
    Nic n;
    int peer;
    QTestState *s = start_with_peer(&n, &peer, "");
    static const uint8_t in_ra[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };
    static const uint8_t in_mta[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x20 };
    static const uint8_t none[6] = { 0x33, 0x33, 0xff, 0x00, 0x00, 0x07 };
    static uint8_t f[100], got[100];

    rx_setup(&n, 8, 0x2);               /* EN, no BAM/MPE/UPE, MO=0 */
    wr(&n, RA + 8, 0x00003333);         /* RA[1] = 33:33:00:00:00:01, AV */
    wr(&n, RA + 12, 0x00000100u | 0x80000000u);
    /* MO=0 hashes bits 47:36: da[4] >> 4 | da[5] << 4 = 0x200 -> MTA[16] bit 0 */
    wr(&n, MTA + 4 * (0x200 >> 5), 1u << (0x200 & 31));

    make_frame(f, sizeof(f), none, 1);
    send_frame(peer, f, sizeof(f));     /* in neither: dropped */
    make_frame(f, sizeof(f), in_ra, 2);
    send_frame(peer, f, sizeof(f));
    QT_ASSERT_MSG(wait_rdh(&n, 1), "a frame to a multicast address in RA[1] was dropped");
    qtest_memread(s, RX_BUF, got, sizeof(got));
    QT_ASSERT_EQ(memcmp(got, f, sizeof(f)), 0);
    make_frame(f, sizeof(f), in_mta, 3);
    send_frame(peer, f, sizeof(f));
    QT_ASSERT_MSG(wait_rdh(&n, 2), "a frame whose hash is set in the MTA was dropped");
    qtest_memread(s, RX_BUF + 2048, got, sizeof(got));
    QT_ASSERT_EQ(memcmp(got, f, sizeof(f)), 0);

    /* RA[1] no longer valid: its group is dropped now; MPE takes any group */
    wr(&n, RA + 12, 0x00000100);
    make_frame(f, sizeof(f), in_ra, 4);
    send_frame(peer, f, sizeof(f));
    usleep(200000);
    QT_ASSERT_EQ(rd(&n, RDH), 2u);
    wr(&n, RCTL, 0x2 | 0x10);
    make_frame(f, sizeof(f), none, 5);
    send_frame(peer, f, sizeof(f));
    QT_ASSERT_MSG(wait_rdh(&n, 3), "MPE did not take a multicast frame");
    qtest_memread(s, RX_BUF + 2 * 2048, got, sizeof(got));
    QT_ASSERT_EQ(memcmp(got, f, sizeof(f)), 0);
    QT_ASSERT_EQ(rd(&n, GPRC), 3u);
    close(peer);
    qtest_quit(s);
}

/* ---- TSO: context + data descriptors ---------------------------------- */

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
    for (size_t i = 0; i < len; i += 2) {
        sum += (p[i] << 8) | (i + 1 < len ? p[i + 1] : 0);
    }
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return sum;
}

static void test_tso(void)
{
    Nic n;
    int peer;
    QTestState *s = start_with_peer(&n, &peer, "");
    enum { HDR = 54, PAY = 2500, MSS = 1000 };
    static uint8_t pkt[HDR + PAY], seg[HDR + MSS];
    uint8_t d[16], hdr[4];
    uint32_t pseudo;

    /* Ethernet, IPv4 10.0.0.1 -> 10.0.0.2 id 0x1234, TCP 1000 -> 80 seq 0x1000 ACK|PSH */
    make_frame(pkt, sizeof(pkt), (const uint8_t *)"\x02\x00\x00\x00\x00\x02", 4);
    pkt[12] = 0x08; pkt[13] = 0x00;
    memset(pkt + 14, 0, 40);
    pkt[14] = 0x45; pkt[18] = 0x12; pkt[19] = 0x34; pkt[22] = 64; pkt[23] = 6;
    memcpy(pkt + 26, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
    pkt[34] = 0x03; pkt[35] = 0xe8; pkt[36] = 0x00; pkt[37] = 80;
    pkt[38] = 0x00; pkt[39] = 0x00; pkt[40] = 0x10; pkt[41] = 0x00;
    pkt[46] = 0x50; pkt[47] = 0x18;
    /* as Linux: the partial pseudo-header sum without the length */
    pseudo = fold(sum16(pkt + 26, 8, 6));
    pkt[50] = pseudo >> 8;
    pkt[51] = pseudo;
    qtest_memwrite(s, TX_BUF, pkt, sizeof(pkt));
    tx_setup(&n);
    memset(d, 0, 16);
    d[0] = 14; d[1] = 24; d[2] = 33;            /* IPCSS, IPCSO, IPCSE */
    d[4] = 34; d[5] = 50;                       /* TUCSS, TUCSO, TUCSE 0 */
    d[8] = PAY & 0xff; d[9] = PAY >> 8;         /* PAYLEN */
    d[11] = 0x20 | 0x04 | 0x02 | 0x01;          /* DEXT TSE IP TCP */
    d[13] = HDR;
    d[14] = MSS & 0xff; d[15] = MSS >> 8;
    qtest_memwrite(s, TX_RING, d, 16);
    /* the packet in two data descriptors: header + 1000, then the rest */
    for (int i = 0; i < 2; i++) {
        uint32_t off = i ? 1054 : 0, len = i ? sizeof(pkt) - 1054 : 1054;
        uint64_t a = TX_BUF + off;
        memset(d, 0, 16);
        for (int b = 0; b < 8; b++) {
            d[b] = a >> (8 * b);
        }
        d[8] = len; d[9] = len >> 8; d[10] = 0x10;  /* DTYP data */
        d[11] = 0x20 | 0x04 | (i ? 0x09 : 0);      /* DEXT TSE [EOP RS] */
        d[13] = 0x3;                                /* IXSM TXSM */
        qtest_memwrite(s, TX_RING + 16 * (i + 1), d, 16);
    }
    wr(&n, TDT, 3);
    QT_ASSERT_EQ(rd(&n, TDH), 3u);
    for (int i = 0; i < 3; i++) {
        uint32_t len, plen = i < 2 ? MSS : PAY - 2 * MSS, tcplen = 20 + plen;
        QT_ASSERT(qtest_read_full(peer, hdr, 4, 5000));
        len = hdr[0] << 24 | hdr[1] << 16 | hdr[2] << 8 | hdr[3];
        QT_ASSERT_EQ(len, HDR + plen);
        QT_ASSERT(qtest_read_full(peer, seg, len, 5000));
        QT_ASSERT_EQ((uint32_t)(seg[16] << 8 | seg[17]), 40 + plen);    /* IP total length */
        QT_ASSERT_EQ(seg[18] << 8 | seg[19], 0x1234 + i);                /* IP id */
        QT_ASSERT_EQ(fold(sum16(seg + 14, 20, 0)), 0xffff);              /* IP checksum */
        QT_ASSERT_EQ((uint32_t)(seg[38] << 24 | seg[39] << 16 | seg[40] << 8 | seg[41]),
                     0x1000u + i * MSS);                                  /* TCP seq */
        QT_ASSERT_EQ(seg[47] & 0x08, i == 2 ? 0x08 : 0);                 /* PSH on the last */
        QT_ASSERT_EQ(fold(sum16(seg + 34, tcplen, sum16(seg + 26, 8, 6 + tcplen))), 0xffff);
        QT_ASSERT_EQ(memcmp(seg + HDR, pkt + HDR + i * MSS, plen), 0);
    }
    close(peer);
    qtest_quit(s);
}

/* ---- a hostile guest ------------------------------------------------------ */

static void test_bad_rings(void)
{
    Nic n;
    int peer;
    QTestState *s = start_with_peer(&n, &peer, "");
    static uint8_t frame[200];

    /* TX ring far outside RAM */
    wr(&n, TDBAL, 0);
    wr(&n, TDBAH, 0xfff0);
    wr(&n, TDLEN, 4096);
    wr(&n, TCTL, 2);
    wr(&n, TDT, 200);
    QT_ASSERT_EQ(rd(&n, TDH), 200u);
    /* tail beyond the ring: one lap, then stop */
    tx_setup(&n);
    wr(&n, TDT, 1000);
    QT_ASSERT(rd(&n, STATUS) & 2);
    /* zero-length ring */
    wr(&n, TDLEN, 0);
    wr(&n, TDT, 5);
    /* a descriptor with a huge length and a buffer in MMIO space */
    tx_setup(&n);
    tx_desc(&n, 0, n.mmio, 0xffff, 0x09);
    tx_desc(&n, 1, 0xfffffffffff00000ull, 0xffff, 0x09);
    wr(&n, TDT, 2);
    QT_ASSERT_EQ(rd(&n, TDH), 2u);
    /* the context/data form with TSO and nonsense offsets */
    {
        uint8_t d[16] = { 0 };
        d[0] = 250; d[1] = 255; d[4] = 255; d[5] = 254;
        d[11] = 0x20 | 0x04;            /* DEXT, TSE; DTYP 0: context */
        d[13] = 255;                    /* HDRLEN */
        d[14] = 1;                      /* MSS 1 */
        qtest_memwrite(s, TX_RING + 32, d, 16);
        memset(d, 0, 16);
        d[0] = 0x00; d[2] = 0x11;       /* buffer 0x110000 */
        d[8] = 0xff; d[9] = 0xff; d[10] = 0x1f;     /* DTALEN huge */
        d[10] |= 0x10;                  /* DTYP 1: data */
        d[11] = 0x20 | 0x04 | 0x01 | 0x08;          /* DEXT TSE EOP RS */
        d[13] = 0x3;                    /* POPTS IXSM TXSM */
        qtest_memwrite(s, TX_RING + 48, d, 16);
        wr(&n, TDT, 4);
        QT_ASSERT_EQ(rd(&n, TDH), 4u);
    }

    /* RX ring outside RAM, head beyond the ring, zero length */
    wr(&n, RDBAL, 0);
    wr(&n, RDBAH, 0xfff0);
    wr(&n, RDLEN, 128);
    wr(&n, RDH, 0);
    wr(&n, RCTL, 0x2 | 0x8000 | 0x8);
    wr(&n, RDT, 7);
    make_frame(frame, sizeof(frame), nic_mac, 5);
    send_frame(peer, frame, sizeof(frame));
    QT_ASSERT(wait_rdh(&n, 1));
    wr(&n, RDH, 100);
    wr(&n, RDT, 50);
    send_frame(peer, frame, sizeof(frame));
    wr(&n, RDLEN, 0);
    wr(&n, RDT, 0);
    send_frame(peer, frame, sizeof(frame));
    usleep(100000);
    /* RX into a sane ring still works afterwards: the waiting frames land */
    rx_setup(&n, 8, 0x2 | 0x8000 | 0x8);
    QT_ASSERT(wait_rdh(&n, 2));
    /* unknown registers, odd widths */
    wr(&n, 0x1fffc, 0xffffffff);
    QT_ASSERT_EQ(rd(&n, 0x1fffc), 0u);
    qtest_writeb(s, n.mmio + STATUS, 0);
    qtest_outl(s, n.io, 0xffffffff);
    qtest_outl(s, n.io + 4, 0);
    QT_ASSERT(rd(&n, STATUS) & 2);
    /* software reset restores the defaults */
    wr(&n, CTRL, 1u << 26);
    QT_ASSERT_EQ(rd(&n, RCTL), 0u);
    QT_ASSERT_EQ(rd(&n, TDLEN), 0u);
    close(peer);
    qtest_quit(s);
}

/* ---- QMP: set_link, query-rx-filter ------------------------------------- */

static int qmp_fd;

static char *qmp_line(void)
{
    char *l = qtest_read_line(qmp_fd, 10000);

    QT_ASSERT_MSG(l, "QMP closed");
    return l;
}

static int rx_filter_events;         /* NIC_RX_FILTER_CHANGED seen */

/* Sends a command and returns the reply line (counting events). */
static char *qmp(const char *cmd)
{
    QT_ASSERT_EQ(write(qmp_fd, cmd, strlen(cmd)), (ssize_t)strlen(cmd));
    for (;;) {
        char *l = qmp_line();
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

static void test_link_qmp(void)
{
    Nic n;
    int peer;
    char path[96];
    QTestState *s;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char *greeting, *r;

    qt_tmpfile(path, sizeof(path), "e1000-qmp");
    {
        char extra[200];
        snprintf(extra, sizeof(extra), "-qmp unix:%s,server=on,wait=off", path);
        s = start_with_peer(&n, &peer, extra);
    }
    qmp_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    QT_ASSERT_EQ(connect(qmp_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    greeting = qmp_line();
    QT_ASSERT(strstr(greeting, "QMP"));
    free(greeting);
    free(qmp("{\"execute\":\"qmp_capabilities\"}\n"));

    wr(&n, IMS, 0x4);                   /* LSC */
    rd(&n, ICR);
    r = qmp("{\"execute\":\"set_link\",\"arguments\":{\"name\":\"nic0\",\"up\":false}}\n");
    QT_ASSERT_MSG(strstr(r, "\"return\""), "%s", r);
    free(r);
    QT_ASSERT_EQ(rd(&n, STATUS) & 2, 0u);
    QT_ASSERT_EQ(mdic(&n, 1, 1, 2, 0) & 0x4, 0u);
    QT_ASSERT(cfg_readl(s, n.dev, 0x04) & (0x08u << 16));
    QT_ASSERT(rd(&n, ICR) & 0x4);
    r = qmp("{\"execute\":\"set_link\",\"arguments\":{\"name\":\"nic0\",\"up\":true}}\n");
    free(r);
    QT_ASSERT(rd(&n, STATUS) & 2);
    QT_ASSERT(mdic(&n, 1, 1, 2, 0) & 0x4);
    QT_ASSERT(rd(&n, ICR) & 0x4);
    r = qmp("{\"execute\":\"set_link\",\"arguments\":{\"name\":\"nope\",\"up\":true}}\n");
    QT_ASSERT_MSG(strstr(r, "\"error\""), "%s", r);
    free(r);

    wr(&n, RCTL, 0x2 | 0x8 | 0x8000);
    r = qmp("{\"execute\":\"query-rx-filter\",\"arguments\":{\"name\":\"nic0\"}}\n");
    QT_ASSERT_MSG(strstr(r, "\"main-mac\": \"" MAC_STR "\"") ||
                  strstr(r, "\"main-mac\":\"" MAC_STR "\""), "%s", r);
    QT_ASSERT_MSG(strstr(r, "\"promiscuous\": true") || strstr(r, "\"promiscuous\":true"),
                  "%s", r);
    free(r);

    /* NIC_RX_FILTER_CHANGED: once after a change, then again only after
     * the next query-rx-filter */
    rx_filter_events = 0;
    wr(&n, RCTL, 0x2 | 0x8000);         /* promiscuous off */
    wr(&n, 0x5200, 0x1);                /* a multicast table bit */
    free(qmp("{\"execute\":\"query-status\"}\n"));
    QT_ASSERT_EQ(rx_filter_events, 1);
    free(qmp("{\"execute\":\"query-rx-filter\"}\n"));
    wr(&n, RCTL, 0x2);                  /* broadcast off */
    free(qmp("{\"execute\":\"query-status\"}\n"));
    QT_ASSERT_EQ(rx_filter_events, 2);
    wr(&n, RCTL, 0x2);                  /* no change: no event */
    free(qmp("{\"execute\":\"query-rx-filter\"}\n"));
    wr(&n, RCTL, 0x2);
    free(qmp("{\"execute\":\"query-status\"}\n"));
    QT_ASSERT_EQ(rx_filter_events, 2);
    close(qmp_fd);
    close(peer);
    qtest_quit(s);
    unlink(path);
}

/* ---- the other stream and datagram backends (docs/net.md) --------------- */

/* One frame each way through whatever backend the test built: the NIC
 * sends, tx_got() must return the same bytes; the test injects with
 * rx_put() and the frame must land in the NIC's first RX buffer. */
typedef struct BackendPeer {
    int fd;                             /* the test's end */
    bool framed;                        /* stream: 4-byte length first */
    struct sockaddr_storage to;         /* datagram: kvmpc's address */
    socklen_t to_len;
} BackendPeer;

static void backend_roundtrip(QTestState *s, BackendPeer *p, const char *what)
{
    static uint8_t frame[600], got[600];
    Nic n;
    ssize_t len;

    nic_find(&n, s);
    make_frame(frame, sizeof(frame), (const uint8_t *)"\x02\x00\x00\x00\x00\x07", 5);
    qtest_memwrite(s, TX_BUF, frame, sizeof(frame));
    tx_setup(&n);
    tx_desc(&n, 0, TX_BUF, sizeof(frame), 0x01 | 0x08);    /* EOP | RS */
    wr(&n, TDT, 1);
    QT_ASSERT_EQ(rd(&n, TDH), 1u);
    if (p->framed) {
        uint8_t hdr[4];
        QT_ASSERT_MSG(qtest_read_full(p->fd, hdr, 4, 5000), "%s: nothing sent", what);
        QT_ASSERT_EQ((uint32_t)(hdr[0] << 24 | hdr[1] << 16 | hdr[2] << 8 | hdr[3]),
                     (uint32_t)sizeof(frame));
        QT_ASSERT(qtest_read_full(p->fd, got, sizeof(got), 5000));
        len = sizeof(got);
    } else {
        struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
        QT_ASSERT_MSG(poll(&pfd, 1, 5000) == 1, "%s: no datagram", what);
        len = recv(p->fd, got, sizeof(got), 0);
    }
    QT_ASSERT_EQ(len, (ssize_t)sizeof(frame));
    QT_ASSERT_MSG(!memcmp(got, frame, sizeof(frame)), "%s: the frame changed on the way", what);

    rx_setup(&n, 8, 0x2 | 0x8000 | (1u << 26));   /* EN, BAM, SECRC */
    make_frame(frame, 300, nic_mac, 11);
    if (p->framed) {
        QT_ASSERT(qtest_send_frame(p->fd, frame, 300));
    } else {
        QT_ASSERT_EQ(sendto(p->fd, frame, 300, 0, (struct sockaddr *)&p->to, p->to_len), 300);
    }
    QT_ASSERT_MSG(wait_rdh(&n, 1), "%s: no frame received", what);
    qtest_memread(s, RX_BUF, got, 300);
    QT_ASSERT_MSG(!memcmp(got, frame, 300), "%s: the received frame differs", what);
    close(p->fd);
    qtest_quit(s);
}

static int free_udp_port(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_DGRAM, 0), port;

    QT_ASSERT_EQ(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    QT_ASSERT_EQ(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* The test's UDP socket on 127.0.0.1 (its port in *port); kvmpc's end at
 * 127.0.0.1:kport goes to p->to. */
static void udp_peer(BackendPeer *p, int *port, int kport)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);

    p->fd = socket(AF_INET, SOCK_DGRAM, 0);
    p->framed = false;
    QT_ASSERT_EQ(bind(p->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    QT_ASSERT_EQ(getsockname(p->fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    a.sin_port = htons(kport);
    memcpy(&p->to, &a, sizeof(a));
    p->to_len = sizeof(a);
}

static void test_backend_dgram_udp(void)
{
    BackendPeer p;
    int port, kport = free_udp_port();

    udp_peer(&p, &port, kport);
    backend_roundtrip(qtest_initf("-netdev dgram,id=n0,local.type=inet,local.host=127.0.0.1,"
                                  "local.port=%d,remote.type=inet,remote.host=127.0.0.1,"
                                  "remote.port=%d -device e1000,netdev=n0,mac=" MAC_STR,
                                  kport, port), &p, "dgram inet");
}

static void test_backend_socket_udp(void)
{
    BackendPeer p;
    int port, kport = free_udp_port();

    udp_peer(&p, &port, kport);
    backend_roundtrip(qtest_initf("-netdev socket,id=n0,udp=127.0.0.1:%d,localaddr=127.0.0.1:%d "
                                  "-device e1000,netdev=n0,mac=" MAC_STR, port, kport),
                      &p, "socket udp=");
}

static void test_backend_dgram_unix(void)
{
    char dir[] = "/tmp/kvmpc-dgram-XXXXXX", mine[64], theirs[64];
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    BackendPeer p = { .framed = false };
    QTestState *s;

    QT_ASSERT(mkdtemp(dir));
    snprintf(mine, sizeof(mine), "%s/test", dir);
    snprintf(theirs, sizeof(theirs), "%s/kvmpc", dir);
    strcpy(a.sun_path, mine);
    p.fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    QT_ASSERT_EQ(bind(p.fd, (struct sockaddr *)&a, sizeof(a)), 0);
    strcpy(a.sun_path, theirs);
    memcpy(&p.to, &a, sizeof(a));
    p.to_len = sizeof(a);
    s = qtest_initf("-netdev dgram,id=n0,local.type=unix,local.path=%s,remote.type=unix,"
                    "remote.path=%s -device e1000,netdev=n0,mac=" MAC_STR, theirs, mine);
    backend_roundtrip(s, &p, "dgram unix");
    unlink(mine);
    unlink(theirs);
    rmdir(dir);
}

/* Multicast, kept on this host: the group joined on 127.0.0.1 by both. */
static void test_backend_mcast(void)
{
    struct ip_mreq mreq = { .imr_interface.s_addr = htonl(INADDR_LOOPBACK) };
    struct in_addr lo = { .s_addr = htonl(INADDR_LOOPBACK) };
    struct sockaddr_in g = { .sin_family = AF_INET };
    BackendPeer p = { .framed = false };
    int one = 1, port = free_udp_port();

    inet_pton(AF_INET, "239.255.77.1", &g.sin_addr);
    g.sin_port = htons(port);
    mreq.imr_multiaddr = g.sin_addr;
    p.fd = socket(AF_INET, SOCK_DGRAM, 0);
    QT_ASSERT_EQ(setsockopt(p.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
    QT_ASSERT_EQ(bind(p.fd, (struct sockaddr *)&g, sizeof(g)), 0);
    QT_ASSERT_EQ(setsockopt(p.fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq)), 0);
    QT_ASSERT_EQ(setsockopt(p.fd, IPPROTO_IP, IP_MULTICAST_IF, &lo, sizeof(lo)), 0);
    QT_ASSERT_EQ(setsockopt(p.fd, IPPROTO_IP, IP_MULTICAST_LOOP, &one, sizeof(one)), 0);
    memcpy(&p.to, &g, sizeof(g));
    p.to_len = sizeof(g);
    backend_roundtrip(qtest_initf("-netdev socket,id=n0,mcast=239.255.77.1:%d,localaddr=127.0.0.1 "
                                  "-device e1000,netdev=n0,mac=" MAC_STR, port),
                      &p, "socket mcast=");
}

static void test_backend_stream(void)
{
    char dir[] = "/tmp/kvmpc-stream-XXXXXX", path[64];
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    struct sockaddr_in in = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    BackendPeer p = { .framed = true };
    int lfd, port;
    QTestState *s;

    /* kvmpc connects to the test's UNIX socket (server=off) */
    QT_ASSERT(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/sock", dir);
    strcpy(a.sun_path, path);
    lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    QT_ASSERT_EQ(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    QT_ASSERT_EQ(listen(lfd, 1), 0);
    s = qtest_initf("-netdev stream,id=n0,server=off,addr.type=unix,addr.path=%s "
                    "-device e1000,netdev=n0,mac=" MAC_STR, path);
    p.fd = accept(lfd, NULL, NULL);
    QT_ASSERT(p.fd >= 0);
    close(lfd);
    backend_roundtrip(s, &p, "stream unix");
    unlink(path);
    rmdir(dir);

    /* the test connects to kvmpc listening on inet (server=on) */
    port = free_udp_port();             /* a free number; TCP's is likely free too */
    s = qtest_initf("-netdev stream,id=n0,server=on,addr.type=inet,addr.host=127.0.0.1,"
                    "addr.port=%d -device e1000,netdev=n0,mac=" MAC_STR, port);
    in.sin_port = htons(port);
    p.fd = socket(AF_INET, SOCK_STREAM, 0);
    QT_ASSERT_EQ(connect(p.fd, (struct sockaddr *)&in, sizeof(in)), 0);
    backend_roundtrip(s, &p, "stream inet");
}

/* A listening socket on 127.0.0.1:port (the server that comes back). */
static int listen_on(int port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                             .sin_port = htons(port) };
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);     /* not kvmpc's */

    QT_ASSERT(fd >= 0);
    QT_ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
    QT_ASSERT_EQ(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    QT_ASSERT_EQ(listen(fd, 1), 0);
    return fd;
}

/* Accepts kvmpc's (re)connection within timeout_ms, or fails. */
static int accept_within(int lfd, int timeout_ms, const char *what)
{
    struct pollfd pfd = { .fd = lfd, .events = POLLIN };
    int fd;

    QT_ASSERT_MSG(poll(&pfd, 1, timeout_ms) == 1, "%s: kvmpc did not connect", what);
    fd = accept(lfd, NULL, NULL);
    QT_ASSERT(fd >= 0);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    return fd;
}

/*
 * A frame each way over a stream peer, the peer's first: it waits in the
 * socket until kvmpc has the connection, and its arrival in guest memory
 * shows that kvmpc has it (and the link is up) before the guest sends.
 */
static void stream_frames(QTestState *s, int fd, const char *what, uint8_t seed)
{
    static uint8_t frame[400], got[400];
    uint8_t hdr[4];
    Nic n;

    nic_find(&n, s);
    rx_setup(&n, 8, 0x2 | 0x8000 | (1u << 26));   /* EN, BAM, SECRC */
    make_frame(frame, 300, nic_mac, seed);
    QT_ASSERT(qtest_send_frame(fd, frame, 300));
    QT_ASSERT_MSG(wait_rdh(&n, 1), "%s: no frame received", what);
    qtest_memread(s, RX_BUF, got, 300);
    QT_ASSERT_MSG(!memcmp(got, frame, 300), "%s: the received frame differs", what);

    make_frame(frame, sizeof(frame), (const uint8_t *)"\x02\x00\x00\x00\x00\x07", seed + 1);
    qtest_memwrite(s, TX_BUF, frame, sizeof(frame));
    tx_setup(&n);
    tx_desc(&n, 0, TX_BUF, sizeof(frame), 0x01 | 0x08);    /* EOP | RS */
    wr(&n, TDT, 1);
    QT_ASSERT_EQ(rd(&n, TDH), 1u);
    QT_ASSERT_MSG(qtest_read_full(fd, hdr, 4, 5000), "%s: nothing sent", what);
    QT_ASSERT_EQ((uint32_t)(hdr[0] << 24 | hdr[1] << 16 | hdr[2] << 8 | hdr[3]),
                 (uint32_t)sizeof(frame));
    QT_ASSERT(qtest_read_full(fd, got, sizeof(got), 5000));
    QT_ASSERT_MSG(!memcmp(got, frame, sizeof(frame)), "%s: the frame changed on the way", what);
}

/*
 * -netdev stream,server=off,reconnect=1: the server (the test) goes away
 * and comes back on the same port after kvmpc has failed to reach it at
 * least once; kvmpc connects again by itself and frames flow both ways.
 * Then a client started while nobody listens: it starts anyway and
 * connects once the server appears.
 */
static void test_backend_stream_reconnect(void)
{
    int port = free_udp_port(), lfd = listen_on(port), fd;
    QTestState *s;

    s = qtest_initf("-netdev stream,id=n0,server=off,addr.type=inet,addr.host=127.0.0.1,"
                    "addr.port=%d,reconnect=1 -device e1000,netdev=n0,mac=" MAC_STR, port);
    fd = accept_within(lfd, 10000, "start");
    stream_frames(s, fd, "before the server restarts", 21);
    close(fd);                          /* the server dies */
    close(lfd);
    usleep(1500 * 1000);                /* kvmpc retries (refused) meanwhile */
    lfd = listen_on(port);
    fd = accept_within(lfd, 5000, "after the restart");
    stream_frames(s, fd, "after the server restarted", 41);
    close(fd);
    close(lfd);
    qtest_quit(s);

    port = free_udp_port();             /* likely free in TCP too: nobody listens */
    s = qtest_initf("-netdev stream,id=n0,server=off,addr.type=inet,addr.host=127.0.0.1,"
                    "addr.port=%d,reconnect=1 -device e1000,netdev=n0,mac=" MAC_STR, port);
    usleep(1200 * 1000);
    lfd = listen_on(port);
    fd = accept_within(lfd, 5000, "a server that came late");
    stream_frames(s, fd, "a server that came late", 61);
    close(fd);
    close(lfd);
    qtest_quit(s);
}

/*
 * From guest a to guest b: a's e1000 sends the frame again every 200 ms
 * until b's e1000 has one (frames sent while the stream is not connected
 * are dropped, as by a cable with nobody at the end); false after 10 s.
 */
static bool guest_to_guest(Nic *a, Nic *b, uint8_t seed)
{
    static uint8_t frame[300], got[300];
    struct timespec t0, t;

    make_frame(frame, sizeof(frame), nic_mac, seed);
    rx_setup(b, 8, 0x2 | 0x8000 | (1u << 26));   /* EN, BAM, SECRC */
    qtest_memwrite(a->qts, TX_BUF, frame, sizeof(frame));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        tx_setup(a);
        tx_desc(a, 0, TX_BUF, sizeof(frame), 0x01 | 0x08);    /* EOP | RS */
        wr(a, TDT, 1);
        for (int i = 0; i < 20; i++) {
            if (rd(b, RDH) >= 1) {
                qtest_memread(b->qts, RX_BUF, got, sizeof(got));
                return !memcmp(got, frame, sizeof(frame));
            }
            usleep(10 * 1000);
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while (t.tv_sec - t0.tv_sec < 10);
    return false;
}

/*
 * Two kvmpc processes: a server (server=on) and a client with
 * reconnect=1.  Frames go both ways; the server is killed and a new one
 * started on the same port; the client connects to it by itself and
 * frames go both ways again.
 */
static void test_stream_two_kvmpc(void)
{
    int port = free_udp_port();
    const char *srv = "-netdev stream,id=n0,server=on,addr.type=inet,addr.host=127.0.0.1,"
                      "addr.port=%d -device e1000,netdev=n0,mac=" MAC_STR;
    QTestState *a = qtest_initf(srv, port), *b;
    Nic na, nb;

    b = qtest_initf("-netdev stream,id=n0,server=off,addr.type=inet,addr.host=127.0.0.1,"
                    "addr.port=%d,reconnect=1 -device e1000,netdev=n0,mac=" MAC_STR, port);
    nic_find(&na, a);
    nic_find(&nb, b);
    QT_ASSERT_MSG(guest_to_guest(&na, &nb, 81), "server -> client");
    QT_ASSERT_MSG(guest_to_guest(&nb, &na, 82), "client -> server");
    qtest_quit(a);                      /* the server dies... */
    usleep(1500 * 1000);                /* (the client is refused meanwhile) */
    a = qtest_initf(srv, port);         /* ...and a new one comes */
    nic_find(&na, a);
    QT_ASSERT_MSG(guest_to_guest(&nb, &na, 83), "client -> restarted server");
    QT_ASSERT_MSG(guest_to_guest(&na, &nb, 84), "restarted server -> client");
    qtest_quit(a);
    qtest_quit(b);
}

/* Reads one frame from the socket peer (4-byte big-endian length first)
 * within timeout_ms; returns its length, or 0 if none came. */
static uint32_t peer_frame(int peer, uint8_t *buf, uint32_t size, int timeout_ms)
{
    uint8_t hdr[4];
    uint32_t len;

    if (!qtest_read_full(peer, hdr, 4, timeout_ms)) {
        return 0;
    }
    len = (uint32_t)hdr[0] << 24 | hdr[1] << 16 | hdr[2] << 8 | hdr[3];
    QT_ASSERT(len <= size);
    QT_ASSERT(qtest_read_full(peer, buf, len, 5000));
    return len;
}

static double now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* QMP announce-self: RARP broadcasts naming the NIC's MAC, the first at
 * once and then after initial, initial + step, ... (at most max) ms;
 * interfaces= picks the NICs; a bad parameter is an error. */
static void test_announce_self(void)
{
    Nic n;
    int peer;
    char path[96], extra[200], *r;
    QTestState *s;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    uint8_t f[200], want[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    double t[4];

    qt_tmpfile(path, sizeof(path), "e1000-ann");
    snprintf(extra, sizeof(extra), "-qmp unix:%s,server=on,wait=off", path);
    s = start_with_peer(&n, &peer, extra);
    qmp_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    QT_ASSERT_EQ(connect(qmp_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    free(qmp_line());
    free(qmp("{\"execute\":\"qmp_capabilities\"}\n"));

    memcpy(want + 6, nic_mac, 6);
    memcpy(want + 12, "\x80\x35\x00\x01\x08\x00\x06\x04\x00\x03", 10);
    memcpy(want + 22, nic_mac, 6);
    memcpy(want + 32, nic_mac, 6);
    t[0] = now_ms();
    r = qmp("{\"execute\":\"announce-self\",\"arguments\":{\"initial\":100,\"max\":150,"
            "\"rounds\":3,\"step\":80}}\n");
    QT_ASSERT_MSG(strstr(r, "\"return\""), "%s", r);
    free(r);
    for (int i = 1; i <= 3; i++) {
        QT_ASSERT_MSG(peer_frame(peer, f, sizeof(f), 3000) == 60, "no announcement %d", i);
        t[i] = now_ms();
        QT_ASSERT_MSG(!memcmp(f, want, 60), "announcement %d is not QEMU's RARP frame", i);
    }
    QT_ASSERT_MSG(t[1] - t[0] < 90, "the first round waited %.0f ms", t[1] - t[0]);
    QT_ASSERT_MSG(t[2] - t[1] >= 95, "the second round came %.0f ms after the first", t[2] - t[1]);
    QT_ASSERT_MSG(t[3] - t[2] >= 145, "the third round came %.0f ms after the second "
                  "(initial + step, at most max: 150)", t[3] - t[2]);
    QT_ASSERT_MSG(!peer_frame(peer, f, sizeof(f), 400), "a fourth round");

    /* interfaces=: another NIC's name sends nothing, this one's a frame */
    free(qmp("{\"execute\":\"announce-self\",\"arguments\":{\"initial\":10,\"max\":10,"
             "\"rounds\":2,\"step\":1,\"interfaces\":[\"other\"]}}\n"));
    QT_ASSERT(!peer_frame(peer, f, sizeof(f), 300));
    free(qmp("{\"execute\":\"announce-self\",\"arguments\":{\"initial\":10,\"max\":10,"
             "\"rounds\":1,\"step\":1,\"interfaces\":[\"other\",\"nic0\"],\"id\":\"a\"}}\n"));
    QT_ASSERT(peer_frame(peer, f, sizeof(f), 3000) == 60);
    QT_ASSERT(!peer_frame(peer, f, sizeof(f), 300));
    /* a timer with the same id replaces the running one: 1 round, not 50 */
    free(qmp("{\"execute\":\"announce-self\",\"arguments\":{\"initial\":200,\"max\":200,"
             "\"rounds\":50,\"step\":0,\"id\":\"b\"}}\n"));
    QT_ASSERT(peer_frame(peer, f, sizeof(f), 3000) == 60);
    free(qmp("{\"execute\":\"announce-self\",\"arguments\":{\"initial\":1,\"max\":1,"
             "\"rounds\":1,\"step\":0,\"id\":\"b\"}}\n"));
    QT_ASSERT(peer_frame(peer, f, sizeof(f), 3000) == 60);
    QT_ASSERT_MSG(!peer_frame(peer, f, sizeof(f), 500), "the replaced timer went on");
    /* HMP: QEMU's defaults, 5 rounds */
    r = qmp("{\"execute\":\"human-monitor-command\",\"arguments\":"
            "{\"command-line\":\"announce_self nic0\"}}\n");
    QT_ASSERT_MSG(strstr(r, "\"return\": \"\"") || strstr(r, "\"return\":\"\""), "%s", r);
    free(r);
    for (int i = 0; i < 5; i++) {
        QT_ASSERT_MSG(peer_frame(peer, f, sizeof(f), 3000) == 60, "HMP round %d", i);
    }
    /* errors */
    r = qmp("{\"execute\":\"announce-self\",\"arguments\":{\"initial\":1,\"max\":1,"
            "\"rounds\":-1,\"step\":0}}\n");
    QT_ASSERT_MSG(strstr(r, "\"error\"") && strstr(r, "rounds"), "%s", r);
    free(r);
    r = qmp("{\"execute\":\"announce-self\",\"arguments\":{\"initial\":1,\"max\":1,"
            "\"rounds\":1}}\n");
    QT_ASSERT_MSG(strstr(r, "\"error\"") && strstr(r, "step"), "%s", r);
    free(r);
    r = qmp("{\"execute\":\"announce-self\",\"arguments\":{\"initial\":1,\"max\":1,"
            "\"rounds\":1,\"step\":1,\"interfaces\":[3]}}\n");
    QT_ASSERT_MSG(strstr(r, "\"error\""), "%s", r);
    free(r);
    QT_ASSERT(!peer_frame(peer, f, sizeof(f), 200));
    close(qmp_fd);
    close(peer);
    qtest_quit(s);
}

/* Command-line errors name what is wrong. */
static void test_backend_errors(void)
{
    qt_expect_fail("-netdev stream,id=n0,server=on", "addr.type");
    qt_expect_fail("-netdev stream,id=n0,addr.type=fd,addr.str=3", "not supported");
    qt_expect_fail("-netdev stream,id=n0,server=on,addr.type=inet,addr.host=127.0.0.1,"
                   "addr.port=1,reconnect=1", "incompatible with socket in server mode");
    qt_expect_fail("-netdev dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=1",
                   "remote");
    qt_expect_fail("-netdev dgram,id=n0,remote.type=inet,remote.host=127.0.0.1,remote.port=9",
                   "local= is required");
    qt_expect_fail("-netdev socket,id=n0,mcast=127.0.0.1:5000", "not a multicast address");
    qt_expect_fail("-netdev socket,id=n0,udp=127.0.0.1:5000", "localaddr");
    qt_expect_fail("-netdev socket,id=n0,listen=:1,mcast=239.1.1.1:1", "exactly one");
}

int main(int argc, char **argv)
{
    qt_init(argc, argv);
    qt_run("e1000/eeprom", test_eeprom);
    qt_run("e1000/phy", test_phy);
    qt_run("e1000/tx", test_tx);
    qt_run("e1000/rx", test_rx);
    qt_run("e1000/rx-multicast", test_rx_multicast);
    qt_run("e1000/itr", test_itr);
    qt_run("e1000/tso", test_tso);
    qt_run("e1000/bad-rings", test_bad_rings);
    qt_run("e1000/link-qmp", test_link_qmp);
    qt_run("e1000/announce-self", test_announce_self);
    qt_run("e1000/backend-stream", test_backend_stream);
    qt_run("e1000/backend-stream-reconnect", test_backend_stream_reconnect);
    qt_run("e1000/stream-two-kvmpc", test_stream_two_kvmpc);
    qt_run("e1000/backend-dgram-udp", test_backend_dgram_udp);
    qt_run("e1000/backend-socket-udp", test_backend_socket_udp);
    qt_run("e1000/backend-dgram-unix", test_backend_dgram_unix);
    qt_run("e1000/backend-mcast", test_backend_mcast);
    qt_run("e1000/backend-errors", test_backend_errors);
    return qt_finish();
}

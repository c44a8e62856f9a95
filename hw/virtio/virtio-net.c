/*
 * virtio-net (virtio 1.2, 5.1) on PCI: "-device virtio-net-pci,netdev=ID
 * [,mac=M][,mq=on|off][,mrg_rxbuf=on|off][,csum=on|off][,guest_csum=on|off]
 * [,host_mtu=N][,speed=N][,duplex=half|full][,bootindex=N][,romfile=F]
 * [,tx_burst=N][,host_tso4|host_tso6|host_ecn|host_ufo=on|off]
 * [,guest_tso4|guest_tso6|guest_ecn|guest_ufo=on|off][,ctrl_guest_offloads=on|off]",
 * "-nic TYPE,model=virtio-net-pci", "-net nic,model=virtio".
 * Register map and constants: include/hw/virtio/virtio-net.h.
 *
 * Queues: receiveq0, transmitq0, receiveq1, transmitq1, ..., then the
 * control queue.  With mq=on the device has as many pairs as its netdev
 * has queues (-netdev ...,queues=N); the driver picks how many it uses
 * (VQ_PAIRS_SET).  A multiqueue tap (queues=N, fds=a:b) has one client
 * per queue, and the device then has one NIC client per pair, peer of
 * the tap queue of the same index (QEMU's NetClientState per queue):
 * transmit queue i writes to tap queue i, what tap queue i reads goes to
 * receive queue i, and the tap queues of pairs the driver does not use
 * are detached.  The other backends have one queue, shared by the pairs:
 * transmit queues all send to it, and a received frame goes to the first
 * active receive queue that has buffers.
 *
 * Receive: can_receive is false while no active receive queue has a
 * buffer, so frames wait in the net layer's queue and are flushed when
 * the driver adds buffers (a receive-queue kick).  The header (12 bytes
 * with MRG_RXBUF or VERSION_1, else 10) is written with flags 0 and
 * gso_type NONE; with MRG_RXBUF a frame spans as many buffers as it needs
 * and num_buffers says how many, all published with one used-index write.
 * A frame larger than the buffers the ring holds is dropped (the buffers
 * stay), never truncated.
 *
 * Transmit: with a backend that takes no virtio-net header (user, socket,
 * ...) a kick sends at most tx_burst frames (QEMU's default 256) at once,
 * in the thread that took it; with tap, and for more than tx_burst, a
 * bottom half sends them after the main loop had its turn, so a guest
 * that keeps its ring full cannot starve the loop (QEMU's tx=bh always
 * defers: docs/virtio.md).  A
 * backend that takes virtio-net headers (tap with vnet_hdr) gets a 12-byte
 * one with the checksum request and GSO fields, and gives one with
 * received frames; for the others the header is stripped and with
 * NEEDS_CSUM the device finishes the checksum in software (csum_start,
 * csum_offset).
 *
 * Offloads (as QEMU): with a vnet-header backend the device offers
 * HOST_TSO4/TSO6/ECN/UFO (the guest sends GSO frames, the host kernel
 * segments them) and GUEST_TSO4/TSO6/ECN/UFO (the kernel may hand us GSO
 * frames, passed to the guest with their header); UFO only when the
 * kernel takes TUN_F_UFO.  The tap's offloads (TUNSETOFFLOAD) follow the
 * GUEST_* features the driver accepted, then CTRL_GUEST_OFFLOADS_SET;
 * they are off from reset until DRIVER_OK.  Other backends get none of
 * the GSO features (QEMU does not segment in software either).
 *
 * Receive filter (as QEMU's): promiscuous takes everything; a VLAN-tagged
 * frame needs its VID in the table (all VIDs pass without CTRL_VLAN);
 * broadcast unless nobcast; multicast: nomulti drops, allmulti or a MAC
 * table overflow takes, else the table's multicast part decides; unicast:
 * nouni drops, alluni or overflow takes, else our MAC or the table's
 * unicast part.  A reset turns promiscuous mode on (as QEMU does, for
 * drivers without CTRL_RX).
 */
#include <endian.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>
#include <glib.h>
#include "hw/virtio/virtio-pci.h"
#include "hw/virtio/virtio-net.h"
#include "net/tcp-coalesce.h"
#include "hw/platform-desc.h"
#include "net/net.h"
#include "qemu/log.h"
#include "system/main-loop.h"

#define VIRTIO_NET_QUEUE_SIZE   256
#define VIRTIO_NET_CTRL_SIZE    64
#define VIRTIO_NET_TX_MAX       (64 * 1024 + 64)        /* largest frame sent */
#define VIRTIO_NET_TX_IOV       64      /* pieces of a frame sent without a copy */
#define VIRTIO_NET_RX_MAX       (64 * 1024 + 64)        /* largest frame taken */
#define VIRTIO_NET_CTRL_MAX     4096
#define PCI_CLASS_NETWORK_ETHERNET 0x0200

typedef struct VirtIONet VirtIONet;

typedef struct VirtIONetQueue {
    VirtIONet *n;
    VirtQueue *rx, *tx;
    QEMUBH *tx_bh;
    bool tx_scheduled;
} VirtIONetQueue;

struct VirtIONet {
    VirtIODevice vdev;
    NICConf conf;
    NetClientState *nc;         /* ncs[0] */
    NetClientState *ncs[VIRTIO_NET_MAX_QUEUE_PAIRS];   /* one per pair: a multiqueue peer */
    unsigned n_nc;              /* 1: the pairs share nc; else max_pairs */
    VirtIONetQueue vqs[VIRTIO_NET_MAX_QUEUE_PAIRS];
    VirtQueue *ctrl;
    uint32_t max_pairs;
    uint32_t curr_pairs;
    uint8_t mac[6];             /* the current MAC (config, ADDR_SET) */
    uint16_t status;
    size_t hdr_len;             /* 10 or 12, from the features */
    bool mergeable;
    bool features_applied;
    /* receive mode */
    bool promisc, allmulti, alluni, nomulti, nouni, nobcast;
    uint32_t mac_uni;           /* unicast entries in mac_table, first */
    uint32_t mac_count;         /* all entries */
    bool uni_overflow, multi_overflow;
    uint8_t mac_table[VIRTIO_NET_MAC_TABLE_ENTRIES * 6];
    uint32_t vlans[VIRTIO_NET_MAX_VLAN / 32];
    uint8_t *tx_buf;            /* [host vnet header] + frame */
    uint8_t *rx_buf;            /* vnet-header peer: a frame to finish a checksum in */
    bool peer_vnet_hdr;         /* the backend exchanges virtio-net headers (tap) */
    bool peer_large_tcp4;       /* no headers, takes IPv4 TSO frames whole (user) */
    bool peer_bursts;           /* no headers, says when a batch of frames ends: the
                                 * device may coalesce TCP segments (GUEST_TSO4) */
    /* receive coalescing (docs/virtio.md): the IPv4 TCP segments of one
     * flow that one burst of the backend brings, held as one frame */
    TcpCoalesce lro;
    uint64_t lro_frames;        /* coalesced frames delivered (tests, info) */
    uint64_t curr_guest_offloads;   /* GUEST_* bits the backend may send (tap offloads) */
    /* statistics for tests and `info` (not migrated) */
    uint64_t rx_dropped;
    /* properties */
    char *netdev;
    char *macstr;
    bool mq;
    bool mrg_rxbuf;
    bool csum;
    bool guest_csum;
    bool host_tso4, host_tso6, host_ecn, host_ufo;
    bool guest_tso4, guest_tso6, guest_ecn, guest_ufo;
    bool ctrl_guest_offloads;
    bool ctrl_vq;
    bool status_feature;
    uint16_t host_mtu;
    int32_t speed;
    char *duplex;
    int32_t bootindex;
    uint32_t tx_burst;
};

typedef struct VirtIONetPCI {
    VirtIOPCIProxy proxy;
    VirtIONet net;
} VirtIONetPCI;

/* A NIC's opaque is its device (DeviceState first), as the net layer wants. */
static VirtIONet *nc_vnet(NetClientState *nc)
{
    return &((VirtIONetPCI *)nc->opaque)->net;
}

#define GUEST_OFFLOADS_MASK ((1ull << VIRTIO_NET_F_GUEST_CSUM) | \
                             (1ull << VIRTIO_NET_F_GUEST_TSO4) | \
                             (1ull << VIRTIO_NET_F_GUEST_TSO6) | \
                             (1ull << VIRTIO_NET_F_GUEST_ECN) | (1ull << VIRTIO_NET_F_GUEST_UFO))

static const uint8_t bcast_addr[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static bool vnet_has(VirtIONet *n, unsigned bit)
{
    return virtio_vdev_has_feature(&n->vdev, bit);
}

/* The client that serves pair i (nc itself when the pairs share it). */
static NetClientState *vnet_pair_nc(VirtIONet *n, unsigned i)
{
    return n->n_nc > 1 && i < n->n_nc ? n->ncs[i] : n->nc;
}

static void virtio_net_set_info(VirtIONet *n, const uint8_t *mac)
{
    for (unsigned i = 0; i < n->n_nc; i++) {
        qemu_format_nic_info_str(n->ncs[i], (const MACAddr *)mac);
    }
}

static void virtio_net_flush_all(VirtIONet *n)
{
    for (unsigned i = 0; i < n->n_nc; i++) {
        qemu_flush_queued_packets(n->ncs[i]);
    }
}

/* A multiqueue peer's queues follow the pairs in use (QEMU's
 * peer_attach/peer_detach). */
static void virtio_net_apply_pairs(VirtIONet *n)
{
    for (unsigned i = 1; i < n->n_nc; i++) {
        qemu_net_queue_enable(n->ncs[i]->peer, i < n->curr_pairs);
    }
}

/* ---- configuration space and link ----------------------------------------- */

static void virtio_net_get_config(VirtIODevice *vdev, uint8_t *c)
{
    VirtIONet *n = (VirtIONet *)vdev;
    uint32_t speed = n->speed < 0 ? UINT32_MAX : (uint32_t)n->speed;
    uint8_t duplex = !n->duplex ? 0xff : !strcmp(n->duplex, "full") ? 1 : 0;

    memcpy(c + VIRTIO_NET_CFG_MAC, n->mac, 6);
    c[VIRTIO_NET_CFG_STATUS] = n->status;
    c[VIRTIO_NET_CFG_STATUS + 1] = n->status >> 8;
    c[VIRTIO_NET_CFG_MAX_VQ_PAIRS] = n->max_pairs;
    c[VIRTIO_NET_CFG_MAX_VQ_PAIRS + 1] = n->max_pairs >> 8;
    c[VIRTIO_NET_CFG_MTU] = n->host_mtu;
    c[VIRTIO_NET_CFG_MTU + 1] = n->host_mtu >> 8;
    for (int i = 0; i < 4; i++) {
        c[VIRTIO_NET_CFG_SPEED + i] = speed >> (8 * i);
    }
    c[VIRTIO_NET_CFG_DUPLEX] = duplex;
}

/* A legacy driver without CTRL_MAC_ADDR sets the MAC by writing the config
 * (as QEMU allows); others use the control queue. */
static void virtio_net_set_config(VirtIODevice *vdev, const uint8_t *c)
{
    VirtIONet *n = (VirtIONet *)vdev;

    if (!vnet_has(n, VIRTIO_NET_F_CTRL_MAC_ADDR) && !vnet_has(n, VIRTIO_F_VERSION_1) &&
        memcmp(c + VIRTIO_NET_CFG_MAC, n->mac, 6)) {
        memcpy(n->mac, c + VIRTIO_NET_CFG_MAC, 6);
        virtio_net_set_info(n, n->mac);
    }
}

static void virtio_net_link_status_changed(NetClientState *nc)
{
    VirtIONet *n = nc_vnet(nc);
    uint16_t old = n->status;

    if (nc->link_down) {
        n->status &= ~VIRTIO_NET_S_LINK_UP;
    } else {
        n->status |= VIRTIO_NET_S_LINK_UP;
    }
    if (old != n->status && (n->vdev.host_features & (1ull << VIRTIO_NET_F_STATUS))) {
        virtio_notify_config(&n->vdev);
    }
}

/* ---- receive ------------------------------------------------------------------ */

static bool virtio_net_rx_ready(VirtIONet *n)
{
    return virtio_is_ready(&n->vdev) && n->features_applied && n->conf.peer != NULL;
}

static VirtIONetQueue *virtio_net_rx_queue(VirtIONet *n, NetClientState *nc)
{
    if (n->n_nc > 1) {
        /* a multiqueue peer: its queue i feeds receive queue i only */
        unsigned i = nc->queue_index;
        VirtQueue *vq = n->vqs[i].rx;

        return i < n->curr_pairs && virtio_queue_ready(vq) && !virtio_queue_empty(vq)
               ? &n->vqs[i] : NULL;
    }
    for (unsigned i = 0; i < n->curr_pairs; i++) {
        VirtQueue *vq = n->vqs[i].rx;
        if (virtio_queue_ready(vq) && !virtio_queue_empty(vq)) {
            return &n->vqs[i];
        }
    }
    return NULL;
}

static bool virtio_net_can_receive(NetClientState *nc)
{
    VirtIONet *n = nc_vnet(nc);

    if (!virtio_net_rx_ready(n) || !(n->vdev.status & VIRTIO_CONFIG_S_DRIVER_OK) ||
        n->vdev.broken) {
        return false;
    }
    if (n->vdev.transport && n->vdev.transport->bus_master &&
        !n->vdev.transport->bus_master(n->vdev.transport_opaque)) {
        return false;
    }
    return virtio_net_rx_queue(n, nc) != NULL;
}

static bool mac_in(const uint8_t *table, uint32_t from, uint32_t to, const uint8_t *mac)
{
    for (uint32_t i = from; i < to; i++) {
        if (!memcmp(table + 6 * i, mac, 6)) {
            return true;
        }
    }
    return false;
}

static bool virtio_net_accept(VirtIONet *n, const uint8_t *buf, size_t size)
{
    if (n->promisc) {
        return true;
    }
    if (size < 14) {
        return false;
    }
    if (buf[12] == 0x81 && buf[13] == 0x00 && size >= 16) {
        unsigned vid = ((buf[14] << 8) | buf[15]) & 0xfff;
        if (!(n->vlans[vid >> 5] & (1u << (vid & 31)))) {
            return false;
        }
    }
    if (buf[0] & 1) {
        if (!memcmp(buf, bcast_addr, 6)) {
            return !n->nobcast;
        }
        if (n->nomulti) {
            return false;
        }
        if (n->allmulti || n->multi_overflow) {
            return true;
        }
        return mac_in(n->mac_table, n->mac_uni, n->mac_count, buf);
    }
    if (n->nouni) {
        return false;
    }
    if (n->alluni || n->uni_overflow || !memcmp(buf, n->mac, 6)) {
        return true;
    }
    return mac_in(n->mac_table, 0, n->mac_uni, buf);
}

/* The ones' complement sum (RFC 1071) of buf in host byte order, into acc
 * (an odd last byte padded with zero).  Summed in either byte order, the
 * folded result is the same sum byte-swapped (RFC 1071, "byte order
 * independence"): a check that it folds to 0xffff does not care, and a
 * sum stored back in host order is the right one in network order. */
static uint64_t csum_native(const uint8_t *p, size_t len, uint64_t acc)
{
    uint32_t w;
    uint16_t h;

    for (; len >= 4; p += 4, len -= 4) {
        memcpy(&w, p, 4);
        acc += w;
    }
    if (len >= 2) {
        memcpy(&h, p, 2);
        acc += h;
        p += 2;
        len -= 2;
    }
    if (len) {
        uint8_t last[2] = { p[0], 0 };
        memcpy(&h, last, 2);
        acc += h;
    }
    return acc;
}

static uint16_t csum_fold(uint64_t acc)
{
    while (acc >> 16) {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    return (uint16_t)acc;
}

static bool csum_folds_to_ffff(uint64_t acc)
{
    return csum_fold(acc) == 0xffff;
}

/* NEEDS_CSUM: the 16-bit field at csum_start + csum_offset holds the
 * pseudo-header sum; the device adds the bytes from csum_start on and
 * stores the complement (what a NIC with checksum offload does). */
static void virtio_net_finish_csum(uint8_t *frame, size_t len, uint16_t start, uint16_t off)
{
    uint16_t res;

    if ((size_t)start + off + 2 > len) {
        qemu_log_mask(LOG_GUEST_ERROR, "virtio-net: csum_start %u + csum_offset %u outside "
                      "a %zu-byte frame\n", start, off, len);
        return;
    }
    res = ~csum_fold(csum_native(frame + start, len - start, 0));
    memcpy(frame + start + off, &res, 2);     /* host order: see csum_native() */
}

/* Whether a gso_type is one the features allow: tso4/tso6/ecn/ufo are
 * the feature bits of that direction (GUEST_* for receive, HOST_* for
 * transmit). */
static bool virtio_net_gso_allowed(VirtIONet *n, uint8_t gso, unsigned tso4, unsigned tso6,
                                   unsigned ecn, unsigned ufo)
{
    if ((gso & VIRTIO_NET_HDR_GSO_ECN) && !vnet_has(n, ecn)) {
        return false;
    }
    switch (gso & ~VIRTIO_NET_HDR_GSO_ECN) {
    case VIRTIO_NET_HDR_GSO_TCPV4:
        return vnet_has(n, tso4);
    case VIRTIO_NET_HDR_GSO_TCPV6:
        return vnet_has(n, tso6);
    case VIRTIO_NET_HDR_GSO_UDP:
        return vnet_has(n, ufo) && !(gso & VIRTIO_NET_HDR_GSO_ECN);
    default:
        return false;
    }
}

/* A frame from a vnet-header backend: with GUEST_CSUM the backend's
 * header goes to the guest as it is (checksum state and GSO fields, the
 * offloads the guest accepted); otherwise a partial checksum is finished
 * here, in a copy.  Returns the frame (its header still in front, or
 * n->rx_buf), NULL for a GSO frame the guest cannot take (the tap's
 * offloads follow the guest's, so only a frame queued across a change). */
static const uint8_t *virtio_net_host_hdr(VirtIONet *n, const uint8_t *buf, size_t size,
                                          uint8_t *ghdr)
{
    uint16_t start = buf[6] | buf[7] << 8, off = buf[8] | buf[9] << 8;

    if (buf[1] != VIRTIO_NET_HDR_GSO_NONE &&
        !virtio_net_gso_allowed(n, buf[1], VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6,
                                VIRTIO_NET_F_GUEST_ECN, VIRTIO_NET_F_GUEST_UFO)) {
        return NULL;
    }
    if (vnet_has(n, VIRTIO_NET_F_GUEST_CSUM)) {
        ghdr[0] = buf[0] & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID);
        memcpy(ghdr + 1, buf + 1, 9);
        return buf;
    }
    if (!(buf[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
        return buf;
    }
    memcpy(n->rx_buf, buf + NET_VNET_HDR_LEN, size);
    virtio_net_finish_csum(n->rx_buf, size, start, off);
    return n->rx_buf;
}

/*
 * Receive checksum offload for backends without a virtio-net header
 * (user, socket, stream, dgram, hubport): a TCP or UDP frame over IPv4
 * (not a fragment) or IPv6 (no extension header) whose checksum the
 * device verified here goes to a GUEST_CSUM guest with DATA_VALID, as a
 * NIC that checks receive checksums does; anything else (a bad sum, other
 * protocols, a UDP datagram without a sum) goes with flags 0 and the
 * guest checks it.  QEMU leaves GUEST_CSUM off for these backends
 * (docs/virtio.md, "Where kvmpc differs from QEMU").
 */
static bool virtio_net_rx_csum_ok(const uint8_t *f, size_t len)
{
    uint8_t pseudo[40];
    size_t l3 = 14, plen, l4;
    unsigned proto, type;
    uint64_t acc;

    if (len < 14) {
        return false;
    }
    type = f[12] << 8 | f[13];
    if (type == 0x8100 && len >= 18) {              /* one 802.1Q tag */
        type = f[16] << 8 | f[17];
        l3 = 18;
    }
    if (type == 0x0800) {
        size_t ihl, tot;
        if (len < l3 + 20 || (f[l3] >> 4) != 4) {
            return false;
        }
        ihl = (f[l3] & 15) * 4u;
        tot = f[l3 + 2] << 8 | f[l3 + 3];
        if (ihl < 20 || tot < ihl || l3 + tot > len || ((f[l3 + 6] << 8 | f[l3 + 7]) & 0x3fff)) {
            return false;                           /* short, or a fragment */
        }
        proto = f[l3 + 9];
        l4 = l3 + ihl;
        plen = tot - ihl;
        memcpy(pseudo, f + l3 + 12, 8);             /* source, destination */
        pseudo[8] = 0;
        pseudo[9] = proto;
        pseudo[10] = plen >> 8;
        pseudo[11] = plen;
        acc = csum_native(pseudo, 12, 0);
    } else if (type == 0x86dd) {
        if (len < l3 + 40 || (f[l3] >> 4) != 6) {
            return false;
        }
        proto = f[l3 + 6];
        plen = f[l3 + 4] << 8 | f[l3 + 5];
        l4 = l3 + 40;
        if (l4 + plen > len) {
            return false;
        }
        memcpy(pseudo, f + l3 + 8, 32);             /* source, destination */
        memset(pseudo + 32, 0, 8);
        pseudo[34] = plen >> 8;
        pseudo[35] = plen;
        pseudo[39] = proto;
        acc = csum_native(pseudo, 40, 0);
    } else {
        return false;
    }
    if (proto == 6) {
        if (plen < 20) {
            return false;
        }
    } else if (proto == 17) {
        if (plen < 8 || (type == 0x0800 && !(f[l4 + 6] | f[l4 + 7]))) {
            return false;                           /* no sum to check */
        }
    } else {
        return false;
    }
    return csum_folds_to_ffff(csum_native(f + l4, plen, acc));
}

static ssize_t virtio_net_drop(VirtIONet *n, size_t size, const char *why)
{
    n->rx_dropped++;
    qemu_log_mask(LOG_GUEST_ERROR, "virtio-net: received frame of %zu bytes dropped: %s\n",
                  size, why);
    return size;
}

static ssize_t virtio_net_deliver(VirtIONet *n, NetClientState *nc, const uint8_t *buf,
                                  size_t size, uint8_t *hdr, size_t wire);

/* ---- receive coalescing (net/tcp-coalesce.c) -------------------------------- */

/* Hands the held frame to the guest: false if the queue has no room yet
 * (it stays held; the next buffers the driver adds bring it). */
static bool virtio_net_lro_flush(VirtIONet *n)
{
    uint8_t hdr[VIRTIO_NET_HDR_MRG_LEN] = { VIRTIO_NET_HDR_F_DATA_VALID };
    uint16_t gso_size;

    if (!n->lro.len) {
        return true;
    }
    tcp_coalesce_finish(&n->lro, &gso_size);
    if (gso_size) {
        /* the TCP checksum is the first segment's: DATA_VALID says the
         * device checked every segment */
        hdr[1] = VIRTIO_NET_HDR_GSO_TCPV4;
        hdr[2] = TCP_COALESCE_HDRS & 0xff;
        hdr[3] = TCP_COALESCE_HDRS >> 8;
        hdr[4] = gso_size & 0xff;
        hdr[5] = gso_size >> 8;
    }
    if (virtio_net_deliver(n, n->nc, n->lro.buf, n->lro.len, hdr, n->lro.len) == 0) {
        return false;
    }
    n->lro_frames += gso_size != 0;
    n->lro.len = 0;
    return true;
}

/* Takes a frame into the held one, or holds it: 1; 0: deliver it as it
 * is (what was held went first); -1: wait (what was held has no room). */
static int virtio_net_lro_take(VirtIONet *n, const uint8_t *buf, size_t size, bool csum_ok)
{
    bool seg = csum_ok && (n->curr_guest_offloads & (1ull << VIRTIO_NET_F_GUEST_TSO4)) &&
               tcp_coalesce_segment(buf, size);

    if (seg && tcp_coalesce_continues(&n->lro, buf, size)) {
        if (tcp_coalesce_append(&n->lro, buf, size)) {
            virtio_net_lro_flush(n);        /* the tail: nothing can follow */
        }
        return 1;
    }
    if (!virtio_net_lro_flush(n)) {
        return -1;
    }
    if (!seg) {
        return 0;
    }
    tcp_coalesce_start(&n->lro, buf, size);
    return 1;
}

/* The backend's burst ended (NetClientInfo.burst_end): nothing is held
 * across it. */
static void virtio_net_burst_end(NetClientState *nc)
{
    virtio_net_lro_flush(nc_vnet(nc));
}

static ssize_t virtio_net_receive(NetClientState *nc, const uint8_t *buf, size_t size)
{
    VirtIONet *n = nc_vnet(nc);
    size_t wire = size;
    uint8_t hdr[VIRTIO_NET_HDR_MRG_LEN] = { 0 };

    if (!virtio_net_can_receive(nc)) {
        return 0;
    }
    if (n->peer_vnet_hdr) {
        if (size < NET_VNET_HDR_LEN) {
            return virtio_net_drop(n, size, "shorter than the backend's header");
        }
        size -= NET_VNET_HDR_LEN;
        if (size <= VIRTIO_NET_RX_MAX) {
            buf = virtio_net_host_hdr(n, buf, size, hdr);
            if (!buf) {
                return virtio_net_drop(n, wire, "a GSO type the driver did not accept");
            }
        }
        buf += buf == n->rx_buf ? 0 : NET_VNET_HDR_LEN;
    }
    if (size > VIRTIO_NET_RX_MAX) {
        return virtio_net_drop(n, wire, "larger than 64 KiB");
    }
    if (!virtio_net_accept(n, buf, size)) {
        return wire;            /* filtered: not an error */
    }
    if (!n->peer_vnet_hdr && vnet_has(n, VIRTIO_NET_F_GUEST_CSUM) &&
        virtio_net_rx_csum_ok(buf, size)) {
        hdr[0] = VIRTIO_NET_HDR_F_DATA_VALID;
    }
    if (n->peer_bursts) {
        int r = virtio_net_lro_take(n, buf, size, hdr[0] == VIRTIO_NET_HDR_F_DATA_VALID);

        if (r != 0) {
            return r > 0 ? (ssize_t)wire : 0;
        }
    }
    return virtio_net_deliver(n, nc, buf, size, hdr, wire);
}

/* Puts one frame (and its virtio-net header, num_buffers filled here) in
 * the receive queue: wire when taken or dropped, 0 to wait for buffers. */
static ssize_t virtio_net_deliver(VirtIONet *n, NetClientState *nc, const uint8_t *buf,
                                  size_t size, uint8_t *hdr, size_t wire)
{
    VirtIONetQueue *q;
    VirtQueueElement *elems[VIRTQUEUE_MAX_SIZE];
    uint32_t lens[VIRTQUEUE_MAX_SIZE];
    unsigned nelem = 0;
    size_t total = n->hdr_len + size, done;
    unsigned seen = UINT_MAX;

    q = virtio_net_rx_queue(n, nc);
    if (!q) {
        return 0;
    }
retry:
    nelem = 0;
    done = 0;
    while (done < total) {
        VirtQueueElement *e;
        size_t room, skip, chunk;

        if (nelem == VIRTQUEUE_MAX_SIZE || !(e = virtqueue_pop(q->rx, sizeof(*e)))) {
            break;
        }
        elems[nelem] = e;
        if (e->in_num == 0) {
            virtio_error(&n->vdev, "receive queue %u: a buffer with nothing device-writable",
                         q->rx->index);
            nelem++;
            goto unpop;
        }
        room = virtio_iov_size(e->in_sg, e->in_num);
        if (nelem == 0 && room < n->hdr_len) {
            virtio_error(&n->vdev, "receive queue %u: a %zu-byte buffer cannot hold the header",
                         q->rx->index, room);
            nelem++;
            goto unpop;
        }
        /* the first buffer starts with the header */
        skip = nelem == 0 ? n->hdr_len : 0;
        chunk = MIN(room - skip, total - done - (nelem == 0 ? n->hdr_len : 0));
        lens[nelem] = skip + chunk;
        done += skip + chunk;
        nelem++;
        if (!n->mergeable) {
            break;
        }
    }
    if (done < total) {
        /* Not enough room.  Without MRG_RXBUF one buffer must hold it: a
         * frame bigger than the driver's buffers is dropped.  With it, wait
         * for more buffers unless the ring is already full of ours. */
        if (!n->mergeable || nelem == q->rx->num) {
            while (nelem) {
                virtqueue_unpop(q->rx, elems[--nelem]);
            }
            return virtio_net_drop(n, wire, "the receive buffers are too small");
        }
        if (nelem != seen) {
            /* ask for a kick at the driver's current index, then look
             * once more: buffers added before that would not kick */
            seen = nelem;
            while (nelem) {
                virtqueue_unpop(q->rx, elems[--nelem]);
            }
            virtio_queue_set_notification(q->rx, true);
            goto retry;
        }
        while (nelem) {
            virtqueue_unpop(q->rx, elems[--nelem]);
        }
        return 0;
    }
    /* copy: header, then the frame across the buffers */
    {
        size_t off = 0;
        for (unsigned i = 0; i < nelem; i++) {
            VirtQueueElement *e = elems[i];
            size_t skip = i == 0 ? n->hdr_len : 0;
            iov_copy_from_buf(e->in_sg, e->in_num, skip, buf + off, lens[i] - skip);
            off += lens[i] - skip;
        }
    }
    if (n->hdr_len == VIRTIO_NET_HDR_MRG_LEN) {
        hdr[10] = nelem;
        hdr[11] = nelem >> 8;
    }
    iov_copy_from_buf(elems[0]->in_sg, elems[0]->in_num, 0, hdr, n->hdr_len);
    for (unsigned i = 0; i < nelem; i++) {
        virtqueue_fill(q->rx, elems[i], lens[i], i);
        g_free(elems[i]);
    }
    virtqueue_flush(q->rx, nelem);
    virtio_notify(&n->vdev, q->rx);
    return wire;

unpop:
    /* a guest error: the device is broken now; give back what we took */
    while (nelem) {
        virtqueue_unpop(q->rx, elems[--nelem]);
    }
    return wire;
}

static void virtio_net_handle_rx(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIONet *n = (VirtIONet *)vdev;

    if (n->nc && virtio_net_lro_flush(n)) {
        qemu_flush_queued_packets(vnet_pair_nc(n, vq->index / 2));
    }
}

/* ---- transmit ----------------------------------------------------------------- */

/* One transmit chain: header, frame; returns false on a guest error. */
static bool virtio_net_tx_one(VirtIONet *n, VirtQueue *vq, VirtQueueElement *e)
{
    size_t out = virtio_iov_size(e->out_sg, e->out_num), len;
    uint8_t hdr[VIRTIO_NET_HDR_MRG_LEN];

    if (out < n->hdr_len) {
        virtio_error(&n->vdev, "transmit queue %u: a %zu-byte chain has no room for the "
                     "header", vq->index, out);
        return false;
    }
    iov_copy_to_buf(e->out_sg, e->out_num, 0, hdr, n->hdr_len);
    len = out - n->hdr_len;
    if (len == 0) {
        return true;            /* nothing to send */
    }
    if (len > VIRTIO_NET_TX_MAX) {
        qemu_log_mask(LOG_GUEST_ERROR, "virtio-net: transmit queue %u: %zu-byte frame "
                      "dropped\n", vq->index, len);
        return true;
    }
    if (hdr[1] != VIRTIO_NET_HDR_GSO_NONE &&
        (!(n->peer_vnet_hdr || (n->peer_large_tcp4 && hdr[1] == VIRTIO_NET_HDR_GSO_TCPV4)) ||
         !virtio_net_gso_allowed(n, hdr[1], VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6,
                                 VIRTIO_NET_F_HOST_ECN, VIRTIO_NET_F_HOST_UFO))) {
        qemu_log_mask(LOG_GUEST_ERROR, "virtio-net: gso_type %u was not negotiated: sent "
                      "as one frame\n", hdr[1]);
        hdr[1] = VIRTIO_NET_HDR_GSO_NONE;
    }
    if (n->peer_vnet_hdr) {
        /* the backend (the kernel's tap) finishes a partial checksum and
         * segments a GSO frame: the guest's header goes through, checked,
         * and the frame from the guest's buffers as they are (one writev,
         * as QEMU: no copy here) */
        uint8_t h[NET_VNET_HDR_LEN] = { 0 };
        struct iovec v[VIRTIO_NET_TX_IOV];
        unsigned nv = 1;
        size_t skip = n->hdr_len;

        if ((hdr[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM) && vnet_has(n, VIRTIO_NET_F_CSUM)) {
            h[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
            memcpy(h + 6, hdr + 6, 4);
        }
        if (hdr[1] != VIRTIO_NET_HDR_GSO_NONE) {
            memcpy(h + 1, hdr + 1, 5);          /* gso_type, hdr_len, gso_size */
        }
        v[0] = (struct iovec){ .iov_base = h, .iov_len = sizeof(h) };
        for (unsigned i = 0; i < e->out_num && nv < VIRTIO_NET_TX_IOV; i++) {
            size_t l = e->out_sg[i].iov_len;

            if (skip >= l) {
                skip -= l;
                continue;
            }
            v[nv++] = (struct iovec){ .iov_base = (uint8_t *)e->out_sg[i].iov_base + skip,
                                      .iov_len = l - skip };
            skip = 0;
            if (i + 1 < e->out_num && nv == VIRTIO_NET_TX_IOV) {
                nv = 0;                         /* too many pieces: copy below */
                break;
            }
        }
        if (nv) {
            qemu_sendv_packet(vnet_pair_nc(n, vq->index / 2), v, nv);
            return true;
        }
        memcpy(n->tx_buf, h, sizeof(h));
        iov_copy_to_buf(e->out_sg, e->out_num, n->hdr_len, n->tx_buf + NET_VNET_HDR_LEN, len);
        qemu_send_packet(vnet_pair_nc(n, vq->index / 2), n->tx_buf, NET_VNET_HDR_LEN + len);
        return true;
    }
    /* (an IPv4 TSO frame for a peer that takes it whole goes as one
     * oversized segment: its IP header already has the total length and
     * its pseudo-header sum covers it, so finishing the sum is all) */
    iov_copy_to_buf(e->out_sg, e->out_num, n->hdr_len, n->tx_buf, len);
    if ((hdr[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM) && vnet_has(n, VIRTIO_NET_F_CSUM)) {
        virtio_net_finish_csum(n->tx_buf, len, hdr[6] | hdr[7] << 8, hdr[8] | hdr[9] << 8);
    }
    qemu_send_packet(vnet_pair_nc(n, vq->index / 2), n->tx_buf, len);
    return true;
}

/* Sends up to tx_burst frames; true if the ring may hold more. */
static bool virtio_net_flush_tx(VirtIONetQueue *q)
{
    VirtIONet *n = q->n;
    VirtQueueElement *e;
    unsigned sent = 0;

    if (!virtio_is_ready(&n->vdev) || !n->features_applied) {
        return false;
    }
    while (sent < n->tx_burst && (e = virtqueue_pop(q->tx, sizeof(*e)))) {
        bool ok = virtio_net_tx_one(n, q->tx, e);

        if (!ok) {
            virtqueue_unpop(q->tx, e);
            return false;
        }
        virtqueue_push(q->tx, e, 0);
        g_free(e);
        sent++;
    }
    if (sent) {
        virtio_notify(&n->vdev, q->tx);
    }
    return sent == n->tx_burst;
}

static void virtio_net_tx_bh(void *opaque)
{
    VirtIONetQueue *q = opaque;

    q->tx_scheduled = false;
    if (virtio_net_flush_tx(q)) {
        q->tx_scheduled = true;
        qemu_bh_schedule(q->tx_bh);     /* more: after the main loop had its turn */
        return;
    }
    if (!virtio_queue_ready(q->tx)) {
        return;
    }
    virtio_queue_set_notification(q->tx, true);
    if (!virtio_is_ready(&q->n->vdev)) {
        return;                 /* DRIVER_OK will look at the ring again */
    }
    /* a frame added between the last pop and re-enabling notifications */
    if (!virtio_queue_empty(q->tx)) {
        virtio_queue_set_notification(q->tx, false);
        q->tx_scheduled = true;
        qemu_bh_schedule(q->tx_bh);
    }
}

static void virtio_net_handle_tx(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIONet *n = (VirtIONet *)vdev;
    VirtIONetQueue *q = &n->vqs[vq->index / 2];

    if (q->tx_scheduled) {
        return;
    }
    virtio_queue_set_notification(vq, false);
    q->tx_scheduled = true;
    if (n->peer_vnet_hdr) {
        /* tap: later, as QEMU's tx=bh; frames that complete at once
         * leave the guest's TCP nothing to cork, and it stops building
         * TSO frames (docs/virtio.md, "Transmit") */
        qemu_bh_schedule(q->tx_bh);
    } else {
        virtio_net_tx_bh(q);
    }
}

/* ---- control queue ---------------------------------------------------------- */

/* The backend's offloads (tap: TUNSETOFFLOAD) from curr_guest_offloads. */
static void virtio_net_apply_offloads(VirtIONet *n)
{
    uint64_t o = n->curr_guest_offloads;
    NetOffloads off = {
        .csum = o & (1ull << VIRTIO_NET_F_GUEST_CSUM),
        .tso4 = o & (1ull << VIRTIO_NET_F_GUEST_TSO4),
        .tso6 = o & (1ull << VIRTIO_NET_F_GUEST_TSO6),
        .ecn = o & (1ull << VIRTIO_NET_F_GUEST_ECN),
        .ufo = o & (1ull << VIRTIO_NET_F_GUEST_UFO),
    };

    for (unsigned i = 0; n->peer_vnet_hdr && i < n->n_nc; i++) {
        qemu_set_offload(n->ncs[i]->peer, &off);
    }
}

static uint8_t virtio_net_ctrl_rx(VirtIONet *n, uint8_t cmd, const uint8_t *d, size_t len)
{
    bool on;

    if (len != 1) {
        return VIRTIO_NET_ERR;
    }
    on = d[0] != 0;
    switch (cmd) {
    case VIRTIO_NET_CTRL_RX_PROMISC:  n->promisc = on; break;
    case VIRTIO_NET_CTRL_RX_ALLMULTI: n->allmulti = on; break;
    case VIRTIO_NET_CTRL_RX_ALLUNI:   n->alluni = on; break;
    case VIRTIO_NET_CTRL_RX_NOMULTI:  n->nomulti = on; break;
    case VIRTIO_NET_CTRL_RX_NOUNI:    n->nouni = on; break;
    case VIRTIO_NET_CTRL_RX_NOBCAST:  n->nobcast = on; break;
    default:
        return VIRTIO_NET_ERR;
    }
    qemu_nic_rx_filter_changed(n->nc);
    return VIRTIO_NET_OK;
}

static uint8_t virtio_net_ctrl_mac(VirtIONet *n, uint8_t cmd, const uint8_t *d, size_t len)
{
    uint32_t uni, multi;
    size_t need;

    if (cmd == VIRTIO_NET_CTRL_MAC_ADDR_SET) {
        if (len != 6) {
            return VIRTIO_NET_ERR;
        }
        memcpy(n->mac, d, 6);
        virtio_net_set_info(n, n->mac);
        qemu_nic_rx_filter_changed(n->nc);
        return VIRTIO_NET_OK;
    }
    if (cmd != VIRTIO_NET_CTRL_MAC_TABLE_SET || len < 4) {
        return VIRTIO_NET_ERR;
    }
    memcpy(&uni, d, 4);
    uni = le32toh(uni);
    if (uni > (len - 4) / 6) {
        return VIRTIO_NET_ERR;
    }
    need = 4 + 6 * (size_t)uni;
    if (len < need + 4) {
        return VIRTIO_NET_ERR;
    }
    memcpy(&multi, d + need, 4);
    multi = le32toh(multi);
    if (multi > (len - need - 4) / 6 || need + 4 + 6 * (size_t)multi != len) {
        return VIRTIO_NET_ERR;
    }
    n->mac_uni = n->mac_count = 0;
    n->uni_overflow = n->multi_overflow = false;
    if (uni <= VIRTIO_NET_MAC_TABLE_ENTRIES) {
        memcpy(n->mac_table, d + 4, 6 * uni);
        n->mac_uni = n->mac_count = uni;
    } else {
        n->uni_overflow = true;
    }
    if (n->mac_count + multi <= VIRTIO_NET_MAC_TABLE_ENTRIES) {
        memcpy(n->mac_table + 6 * n->mac_count, d + need + 4, 6 * multi);
        n->mac_count += multi;
    } else {
        n->multi_overflow = true;
    }
    qemu_nic_rx_filter_changed(n->nc);
    return VIRTIO_NET_OK;
}

static uint8_t virtio_net_ctrl_vlan(VirtIONet *n, uint8_t cmd, const uint8_t *d, size_t len)
{
    unsigned vid;

    if (len != 2) {
        return VIRTIO_NET_ERR;
    }
    vid = d[0] | d[1] << 8;
    if (vid >= VIRTIO_NET_MAX_VLAN) {
        return VIRTIO_NET_ERR;
    }
    if (cmd == VIRTIO_NET_CTRL_VLAN_ADD) {
        n->vlans[vid >> 5] |= 1u << (vid & 31);
    } else if (cmd == VIRTIO_NET_CTRL_VLAN_DEL) {
        n->vlans[vid >> 5] &= ~(1u << (vid & 31));
    } else {
        return VIRTIO_NET_ERR;
    }
    qemu_nic_rx_filter_changed(n->nc);
    return VIRTIO_NET_OK;
}

static uint8_t virtio_net_ctrl_mq(VirtIONet *n, uint8_t cmd, const uint8_t *d, size_t len)
{
    unsigned pairs;

    if (cmd != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET || len != 2 || !vnet_has(n, VIRTIO_NET_F_MQ)) {
        return VIRTIO_NET_ERR;
    }
    pairs = d[0] | d[1] << 8;
    if (pairs < 1 || pairs > n->max_pairs) {
        return VIRTIO_NET_ERR;
    }
    n->curr_pairs = pairs;
    virtio_net_apply_pairs(n);
    virtio_net_flush_all(n);
    return VIRTIO_NET_OK;
}

/* GUEST_OFFLOADS_SET (as QEMU): a subset of the GUEST_* offloads the
 * driver accepted, with a vnet-header backend, or one whose bursts the
 * device coalesces (GUEST_TSO4 off: no coalescing). */
static uint8_t virtio_net_ctrl_offloads(VirtIONet *n, uint8_t cmd, const uint8_t *d,
                                        size_t len)
{
    uint64_t o;

    if (cmd != VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET || len != 8 ||
        !vnet_has(n, VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) || !(n->peer_vnet_hdr || n->peer_bursts)) {
        return VIRTIO_NET_ERR;
    }
    memcpy(&o, d, 8);
    o = le64toh(o);
    if (o & ~(n->vdev.guest_features & GUEST_OFFLOADS_MASK)) {
        return VIRTIO_NET_ERR;
    }
    n->curr_guest_offloads = o;
    virtio_net_apply_offloads(n);
    if (!(o & (1ull << VIRTIO_NET_F_GUEST_TSO4))) {
        virtio_net_lro_flush(n);        /* (a single segment, or a GSO frame already taken) */
    }
    return VIRTIO_NET_OK;
}

static uint8_t virtio_net_ctrl_cmd(VirtIONet *n, const uint8_t *cmd, size_t len)
{
    const uint8_t *d = cmd + 2;

    len -= 2;
    switch (cmd[0]) {
    case VIRTIO_NET_CTRL_RX:
        return vnet_has(n, VIRTIO_NET_F_CTRL_RX) ? virtio_net_ctrl_rx(n, cmd[1], d, len)
                                                 : VIRTIO_NET_ERR;
    case VIRTIO_NET_CTRL_MAC:
        return virtio_net_ctrl_mac(n, cmd[1], d, len);
    case VIRTIO_NET_CTRL_VLAN:
        return vnet_has(n, VIRTIO_NET_F_CTRL_VLAN) ? virtio_net_ctrl_vlan(n, cmd[1], d, len)
                                                   : VIRTIO_NET_ERR;
    case VIRTIO_NET_CTRL_ANNOUNCE:
        if (cmd[1] != VIRTIO_NET_CTRL_ANNOUNCE_ACK || !vnet_has(n, VIRTIO_NET_F_GUEST_ANNOUNCE)) {
            return VIRTIO_NET_ERR;
        }
        n->status &= ~VIRTIO_NET_S_ANNOUNCE;
        return VIRTIO_NET_OK;
    case VIRTIO_NET_CTRL_MQ:
        return virtio_net_ctrl_mq(n, cmd[1], d, len);
    case VIRTIO_NET_CTRL_GUEST_OFFLOADS:
        return virtio_net_ctrl_offloads(n, cmd[1], d, len);
    default:
        return VIRTIO_NET_ERR;
    }
}

static void virtio_net_handle_ctrl(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIONet *n = (VirtIONet *)vdev;
    VirtQueueElement *e;

    while ((e = virtqueue_pop(vq, sizeof(*e)))) {
        size_t out = virtio_iov_size(e->out_sg, e->out_num);
        uint8_t ack = VIRTIO_NET_ERR;

        if (out < 2 || virtio_iov_size(e->in_sg, e->in_num) < 1) {
            virtio_error(vdev, "control queue: a command without its header or its ack byte");
            virtqueue_unpop(vq, e);
            return;
        }
        if (out <= VIRTIO_NET_CTRL_MAX) {
            g_autofree uint8_t *cmd = g_malloc(out);
            iov_copy_to_buf(e->out_sg, e->out_num, 0, cmd, out);
            ack = virtio_net_ctrl_cmd(n, cmd, out);
        }
        iov_copy_from_buf(e->in_sg, e->in_num, 0, &ack, 1);
        virtqueue_push(vq, e, 1);
        g_free(e);
        virtio_notify(vdev, vq);
    }
}

/* ---- status, reset ------------------------------------------------------------- */

/* What the negotiated features decide, once the driver is ready. */
static void virtio_net_apply_features(VirtIONet *n)
{
    n->mergeable = vnet_has(n, VIRTIO_NET_F_MRG_RXBUF);
    n->hdr_len = n->mergeable || vnet_has(n, VIRTIO_F_VERSION_1) ? VIRTIO_NET_HDR_MRG_LEN
                                                                 : VIRTIO_NET_HDR_LEN;
    /* without VLAN filtering every VID passes (as QEMU) */
    memset(n->vlans, vnet_has(n, VIRTIO_NET_F_CTRL_VLAN) ? 0 : 0xff, sizeof(n->vlans));
    if (!vnet_has(n, VIRTIO_NET_F_MQ)) {
        n->curr_pairs = 1;
    }
    virtio_net_apply_pairs(n);
    n->curr_guest_offloads = n->vdev.guest_features & GUEST_OFFLOADS_MASK;
    virtio_net_apply_offloads(n);
    n->features_applied = true;
}

static void virtio_net_set_status(VirtIODevice *vdev, uint8_t status)
{
    VirtIONet *n = (VirtIONet *)vdev;

    if (!(status & VIRTIO_CONFIG_S_DRIVER_OK)) {
        return;
    }
    if (!n->features_applied) {
        virtio_net_apply_features(n);
    }
    virtio_net_flush_all(n);
    for (unsigned i = 0; i < n->curr_pairs; i++) {
        if (!virtio_queue_empty(n->vqs[i].tx)) {
            virtio_net_handle_tx(vdev, n->vqs[i].tx);
        }
    }
}

static void virtio_net_reset_rx_mode(VirtIONet *n)
{
    n->promisc = true;
    n->allmulti = n->alluni = n->nomulti = n->nouni = n->nobcast = false;
    n->mac_uni = n->mac_count = 0;
    n->uni_overflow = n->multi_overflow = false;
    memset(n->mac_table, 0, sizeof(n->mac_table));
    memset(n->vlans, 0, sizeof(n->vlans));
}

static void virtio_net_reset(VirtIODevice *vdev)
{
    VirtIONet *n = (VirtIONet *)vdev;

    virtio_net_reset_rx_mode(n);
    n->lro.len = 0;                     /* a driver starting over gets nothing held */
    n->curr_pairs = 1;
    n->features_applied = false;
    n->mergeable = false;
    n->hdr_len = VIRTIO_NET_HDR_LEN;
    if (n->curr_guest_offloads) {
        n->curr_guest_offloads = 0;     /* no GSO frames for a driver starting over */
        virtio_net_apply_offloads(n);
    }
    memcpy(n->mac, n->conf.macaddr.a, 6);
    n->status = n->nc && n->nc->link_down ? 0 : VIRTIO_NET_S_LINK_UP;
    virtio_net_set_info(n, n->conf.macaddr.a);
    virtio_net_apply_pairs(n);
    for (unsigned i = 0; i < n->max_pairs; i++) {
        if (n->vqs[i].tx_bh) {
            qemu_bh_cancel(n->vqs[i].tx_bh);
        }
        n->vqs[i].tx_scheduled = false;
    }
}

static const VirtIODeviceOps virtio_net_ops = {
    .get_config = virtio_net_get_config,
    .set_config = virtio_net_set_config,
    .set_status = virtio_net_set_status,
    .reset = virtio_net_reset,
};

static void virtio_net_query_rx_filter(NetClientState *nc, NetRxFilter *f)
{
    VirtIONet *n = nc_vnet(nc);

    f->promiscuous = n->promisc;
    f->multicast_all = n->allmulti;
    f->broadcast_allowed = !n->nobcast;
    f->vlan_filter = vnet_has(n, VIRTIO_NET_F_CTRL_VLAN);
    memcpy(f->main_mac.a, n->mac, 6);
}

/* announce-self: the guest announces itself too (sends its gratuitous ARPs
 * and IPv6 neighbour advertisements) when it negotiated GUEST_ANNOUNCE
 * and the control queue it acknowledges on, as QEMU */
static void virtio_net_announce(NetClientState *nc)
{
    VirtIONet *n = nc_vnet(nc);

    if (vnet_has(n, VIRTIO_NET_F_GUEST_ANNOUNCE) && vnet_has(n, VIRTIO_NET_F_CTRL_VQ)) {
        n->status |= VIRTIO_NET_S_ANNOUNCE;
        virtio_notify_config(&n->vdev);
    }
}

static const NetClientInfo virtio_net_info = {
    .type = NET_CLIENT_DRIVER_NIC,
    .type_name = "nic",
    .size = sizeof(NetClientState),
    .receive = virtio_net_receive,
    .can_receive = virtio_net_can_receive,
    .link_status_changed = virtio_net_link_status_changed,
    .query_rx_filter = virtio_net_query_rx_filter,
    .announce = virtio_net_announce,
    .burst_end = virtio_net_burst_end,
};

/* ---- the PCI device ------------------------------------------------------------ */

static void virtio_net_free(VirtIONet *n)
{
    for (unsigned i = 0; i < VIRTIO_NET_MAX_QUEUE_PAIRS; i++) {
        if (n->vqs[i].tx_bh) {
            qemu_bh_delete(n->vqs[i].tx_bh);
            n->vqs[i].tx_bh = NULL;
        }
    }
    g_free(n->tx_buf);
    g_free(n->lro.buf);
    n->lro.buf = NULL;
    g_free(n->rx_buf);
    n->tx_buf = n->rx_buf = NULL;
    for (unsigned i = n->n_nc; i-- > 0;) {
        if (n->peer_vnet_hdr) {
            qemu_using_vnet_hdr(n->ncs[i]->peer, false);
        }
        qemu_net_queue_enable(n->ncs[i]->peer, true);  /* as it was before us */
        qemu_del_net_client(n->ncs[i]);
        n->ncs[i] = NULL;
    }
    n->n_nc = 0;
    n->nc = NULL;
    virtio_cleanup(&n->vdev);
}

static bool virtio_net_check_props(VirtIONet *n, Error **errp)
{
    if (n->macstr && !net_parse_macaddr(&n->conf.macaddr, n->macstr)) {
        error_setg(errp, "Property 'virtio-net-pci.mac' doesn't take value '%s'", n->macstr);
        return false;
    }
    if (n->duplex && strcmp(n->duplex, "half") && strcmp(n->duplex, "full")) {
        error_setg(errp, "virtio-net-pci: 'duplex' must be 'half' or 'full'");
        return false;
    }
    if (n->speed < -1) {
        error_setg(errp, "virtio-net-pci: 'speed' must be between 0 and INT_MAX");
        return false;
    }
    if (n->host_mtu && n->host_mtu < 68) {
        error_setg(errp, "virtio-net-pci: Invalid host_mtu %u (min 68, max 65535)",
                   n->host_mtu);
        return false;
    }
    if (n->tx_burst == 0) {
        error_setg(errp, "virtio-net-pci: Property 'tx_burst' must be at least 1");
        return false;
    }
    if (n->netdev) {
        n->conf.peer = qemu_find_netdev(n->netdev);
        if (!n->conf.peer) {
            error_setg(errp, "Property 'virtio-net-pci.netdev' can't find value '%s'",
                       n->netdev);
            return false;
        }
        if (n->conf.peer->peer) {
            error_setg(errp, "Property 'virtio-net-pci.netdev' can't take value '%s', it's "
                       "in use", n->netdev);
            return false;
        }
    }
    return true;
}

/* TSO/ECN/UFO in each direction (QEMU's properties and rules): with a
 * backend that exchanges virtio-net headers (the kernel's tap segments
 * and checksums), UFO only if the kernel takes it; each needs its
 * direction's checksum feature and ECN a TSO (the spec's dependencies).
 * Beyond QEMU, without headers: HOST_TSO4 for a backend that takes an
 * IPv4 TCP segment of any size (user: libslirp is a TCP stack, not a
 * wire), GUEST_TSO4 for one that says when its bursts end (the device
 * coalesces the segments of a burst, virtio_net_lro_take). */
static uint64_t virtio_net_offload_features(VirtIONet *n)
{
    uint64_t f = 0;
    bool ufo = qemu_has_ufo(n->conf.peer);

    if (!n->peer_vnet_hdr) {
        f |= n->peer_large_tcp4 && n->csum && n->host_tso4 ? 1ull << VIRTIO_NET_F_HOST_TSO4 : 0;
        f |= n->peer_bursts && n->guest_csum && n->guest_tso4 ? 1ull << VIRTIO_NET_F_GUEST_TSO4 : 0;
        return f;
    }
    if (n->csum) {
        f |= n->host_tso4 ? 1ull << VIRTIO_NET_F_HOST_TSO4 : 0;
        f |= n->host_tso6 ? 1ull << VIRTIO_NET_F_HOST_TSO6 : 0;
        f |= n->host_ecn && (n->host_tso4 || n->host_tso6) ? 1ull << VIRTIO_NET_F_HOST_ECN : 0;
        f |= n->host_ufo && ufo ? 1ull << VIRTIO_NET_F_HOST_UFO : 0;
    }
    if (n->guest_csum) {
        f |= n->guest_tso4 ? 1ull << VIRTIO_NET_F_GUEST_TSO4 : 0;
        f |= n->guest_tso6 ? 1ull << VIRTIO_NET_F_GUEST_TSO6 : 0;
        f |= n->guest_ecn && (n->guest_tso4 || n->guest_tso6)
             ? 1ull << VIRTIO_NET_F_GUEST_ECN : 0;
        f |= n->guest_ufo && ufo ? 1ull << VIRTIO_NET_F_GUEST_UFO : 0;
    }
    return f;
}

static void virtio_net_pci_realize(PCIDevice *d, Error **errp)
{
    VirtIONetPCI *dev = (VirtIONetPCI *)d;
    VirtIONet *n = &dev->net;
    VirtIODevice *vdev = &n->vdev;
    unsigned queues;

    if (!virtio_net_check_props(n, errp)) {
        return;
    }
    queues = n->conf.peer && n->conf.peer->queues > 1 ? n->conf.peer->queues : 1;
    if (queues > VIRTIO_NET_MAX_QUEUE_PAIRS) {
        error_setg(errp, "virtio-net-pci: netdev '%s' has %u queues, more than the %u "
                   "queue pairs supported", n->netdev, queues, VIRTIO_NET_MAX_QUEUE_PAIRS);
        return;
    }
    n->max_pairs = n->mq ? queues : 1;
    qemu_macaddr_default_if_unset(&n->conf.macaddr);
    virtio_init(vdev, "virtio-net", VIRTIO_ID_NET, VIRTIO_NET_CFG_SIZE, &virtio_net_ops);
    vdev->host_features = (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_SPEED_DUPLEX);
    if (n->status_feature) {
        vdev->host_features |= 1ull << VIRTIO_NET_F_STATUS;
    }
    if (n->mrg_rxbuf) {
        vdev->host_features |= 1ull << VIRTIO_NET_F_MRG_RXBUF;
    }
    if (n->csum) {
        vdev->host_features |= 1ull << VIRTIO_NET_F_CSUM;
    }
    if (n->guest_csum) {
        vdev->host_features |= 1ull << VIRTIO_NET_F_GUEST_CSUM;
    }
    n->peer_vnet_hdr = qemu_has_vnet_hdr(n->conf.peer);
    n->peer_large_tcp4 = !n->peer_vnet_hdr && qemu_takes_large_tcp4(n->conf.peer);
    n->peer_bursts = !n->peer_vnet_hdr && qemu_ends_bursts(n->conf.peer);
    vdev->host_features |= virtio_net_offload_features(n);
    if (n->ctrl_vq) {
        vdev->host_features |= (1ull << VIRTIO_NET_F_CTRL_VQ) | (1ull << VIRTIO_NET_F_CTRL_RX) |
                               (1ull << VIRTIO_NET_F_CTRL_VLAN) |
                               (1ull << VIRTIO_NET_F_CTRL_RX_EXTRA) |
                               (1ull << VIRTIO_NET_F_GUEST_ANNOUNCE) |
                               (1ull << VIRTIO_NET_F_CTRL_MAC_ADDR);
        if (n->mq) {
            vdev->host_features |= 1ull << VIRTIO_NET_F_MQ;
        }
        if (n->ctrl_guest_offloads) {
            vdev->host_features |= 1ull << VIRTIO_NET_F_CTRL_GUEST_OFFLOADS;
        }
    }
    if (n->host_mtu) {
        vdev->host_features |= 1ull << VIRTIO_NET_F_MTU;
    }
    for (unsigned i = 0; i < n->max_pairs; i++) {
        n->vqs[i].n = n;
        n->vqs[i].rx = virtio_add_queue(vdev, VIRTIO_NET_QUEUE_SIZE, virtio_net_handle_rx);
        n->vqs[i].tx = virtio_add_queue(vdev, VIRTIO_NET_QUEUE_SIZE, virtio_net_handle_tx);
        n->vqs[i].tx_bh = qemu_bh_new(virtio_net_tx_bh, &n->vqs[i]);
    }
    if (n->ctrl_vq) {
        n->ctrl = virtio_add_queue(vdev, VIRTIO_NET_CTRL_SIZE, virtio_net_handle_ctrl);
    }
    n->tx_buf = g_malloc(NET_VNET_HDR_LEN + VIRTIO_NET_TX_MAX);
    n->rx_buf = g_malloc(VIRTIO_NET_RX_MAX);
    n->lro.buf = n->peer_bursts ? g_malloc(TCP_COALESCE_MAX) : NULL;
    n->nc = n->ncs[0] = qemu_new_nic(&virtio_net_info, &n->conf, "virtio-net-pci", d->qdev.id,
                                     dev);
    n->n_nc = 1;
    /* a multiqueue backend: one NIC client per pair on its queue of that
     * index, all named as the first (QEMU); with mq=off only queue 0 */
    for (unsigned i = 1; n->conf.peer; i++) {
        NetClientState *q = qemu_find_netdev_queue(n->netdev, i);
        NICConf conf = n->conf;

        if (!q) {
            break;
        }
        if (i >= n->max_pairs) {
            qemu_net_queue_enable(q, false);
            continue;
        }
        conf.peer = q;
        n->ncs[i] = qemu_new_nic(&virtio_net_info, &conf, "virtio-net-pci", n->nc->name, dev);
        n->ncs[i]->queue_index = i;
        n->n_nc = i + 1;
    }
    for (unsigned i = 0; i < n->n_nc; i++) {
        qemu_using_vnet_hdr(n->ncs[i]->peer, n->peer_vnet_hdr);
    }
    virtio_net_reset(vdev);
    if (!virtio_pci_realize(&dev->proxy, vdev, PCI_CLASS_NETWORK_ETHERNET, errp)) {
        virtio_net_free(n);
    }
}

static void virtio_net_pci_exit(PCIDevice *d)
{
    VirtIONetPCI *dev = (VirtIONetPCI *)d;

    virtio_pci_exit(&dev->proxy);
    virtio_net_free(&dev->net);
}

static void virtio_net_pci_reset(PCIDevice *d)
{
    virtio_pci_reset(&((VirtIONetPCI *)d)->proxy);
}

/* QEMU's firmware path for a NIC, which SeaBIOS matches to its BEV entry. */
static void virtio_net_pci_describe(DeviceState *ds, PlatformDesc *pd)
{
    VirtIONetPCI *dev = (VirtIONetPCI *)ds;
    PCIDevice *d = &dev->proxy.pci;
    g_autofree char *path = NULL;

    if (dev->net.bootindex < 0 || !d->bus) {
        return;
    }
    path = PCI_FUNC(d->devfn)
           ? g_strdup_printf("/pci@i0cf8/ethernet@%x,%x/ethernet-phy@0", PCI_SLOT(d->devfn),
                             PCI_FUNC(d->devfn))
           : g_strdup_printf("/pci@i0cf8/ethernet@%x/ethernet-phy@0", PCI_SLOT(d->devfn));
    platform_add_boot_entry(pd, dev->net.bootindex, path);
}

static int virtio_net_post_load(void *opaque, int version_id)
{
    VirtIONetPCI *dev = opaque;
    VirtIONet *n = &dev->net;

    (void)version_id;
    if (n->curr_pairs < 1 || n->curr_pairs > n->max_pairs) {
        n->curr_pairs = 1;
    }
    if (n->mac_count > VIRTIO_NET_MAC_TABLE_ENTRIES || n->mac_uni > n->mac_count) {
        n->mac_uni = n->mac_count = 0;
    }
    n->features_applied = false;
    if (n->vdev.status & VIRTIO_CONFIG_S_DRIVER_OK) {
        uint32_t vlans[VIRTIO_NET_MAX_VLAN / 32];

        /* the features decide the header size; keep the loaded VLAN table */
        memcpy(vlans, n->vlans, sizeof(vlans));
        virtio_net_apply_features(n);
        memcpy(n->vlans, vlans, sizeof(vlans));
    }
    if (n->nc) {
        virtio_net_set_info(n, n->mac);
        for (unsigned i = 0; i < n->n_nc; i++) {
            n->ncs[i]->link_down = !(n->status & VIRTIO_NET_S_LINK_UP);
        }
        virtio_net_apply_pairs(n);
        /* tell the guest to announce itself where it now is (as QEMU) */
        if (vnet_has(n, VIRTIO_NET_F_GUEST_ANNOUNCE) && vnet_has(n, VIRTIO_NET_F_CTRL_VQ) &&
            (n->status & VIRTIO_NET_S_LINK_UP)) {
            n->status |= VIRTIO_NET_S_ANNOUNCE;
            virtio_notify_config(&n->vdev);
        }
        virtio_net_flush_all(n);
    }
    return 0;
}

static const VMStateField virtio_net_pci_fields[] = {
    VMSTATE_VIRTIO_PCI(proxy, VirtIONetPCI),
    VMSTATE_VIRTIO_DEVICE(net.vdev, VirtIONetPCI),
    VMSTATE_UINT8_ARRAY(net.mac, VirtIONetPCI, 6),
    VMSTATE_UINT16(net.status, VirtIONetPCI),
    VMSTATE_UINT32(net.curr_pairs, VirtIONetPCI),
    VMSTATE_BOOL(net.promisc, VirtIONetPCI),
    VMSTATE_BOOL(net.allmulti, VirtIONetPCI),
    VMSTATE_BOOL(net.alluni, VirtIONetPCI),
    VMSTATE_BOOL(net.nomulti, VirtIONetPCI),
    VMSTATE_BOOL(net.nouni, VirtIONetPCI),
    VMSTATE_BOOL(net.nobcast, VirtIONetPCI),
    VMSTATE_UINT32(net.mac_uni, VirtIONetPCI),
    VMSTATE_UINT32(net.mac_count, VirtIONetPCI),
    VMSTATE_BOOL(net.uni_overflow, VirtIONetPCI),
    VMSTATE_BOOL(net.multi_overflow, VirtIONetPCI),
    VMSTATE_UINT8_ARRAY(net.mac_table, VirtIONetPCI, VIRTIO_NET_MAC_TABLE_ENTRIES * 6),
    VMSTATE_UINT32_ARRAY(net.vlans, VirtIONetPCI, VIRTIO_NET_MAX_VLAN / 32),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_virtio_net_pci = {
    .name = "virtio-net-pci",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = virtio_net_post_load,
    .fields = virtio_net_pci_fields,
};

static const Property virtio_net_pci_props[] = {
    DEFINE_VIRTIO_PCI_PROPERTIES(),
    DEFINE_PROP_STRING("netdev", VirtIONetPCI, net.netdev),
    DEFINE_PROP_STRING("mac", VirtIONetPCI, net.macstr),
    DEFINE_PROP_BOOL("mq", VirtIONetPCI, net.mq, false),
    DEFINE_PROP_BOOL("mrg_rxbuf", VirtIONetPCI, net.mrg_rxbuf, true),
    DEFINE_PROP_BOOL("csum", VirtIONetPCI, net.csum, true),
    DEFINE_PROP_BOOL("guest_csum", VirtIONetPCI, net.guest_csum, true),
    DEFINE_PROP_BOOL("guest_tso4", VirtIONetPCI, net.guest_tso4, true),
    DEFINE_PROP_BOOL("guest_tso6", VirtIONetPCI, net.guest_tso6, true),
    DEFINE_PROP_BOOL("guest_ecn", VirtIONetPCI, net.guest_ecn, true),
    DEFINE_PROP_BOOL("guest_ufo", VirtIONetPCI, net.guest_ufo, true),
    DEFINE_PROP_BOOL("host_tso4", VirtIONetPCI, net.host_tso4, true),
    DEFINE_PROP_BOOL("host_tso6", VirtIONetPCI, net.host_tso6, true),
    DEFINE_PROP_BOOL("host_ecn", VirtIONetPCI, net.host_ecn, true),
    DEFINE_PROP_BOOL("host_ufo", VirtIONetPCI, net.host_ufo, true),
    DEFINE_PROP_BOOL("ctrl_guest_offloads", VirtIONetPCI, net.ctrl_guest_offloads, true),
    DEFINE_PROP_BOOL("ctrl_vq", VirtIONetPCI, net.ctrl_vq, true),
    DEFINE_PROP_BOOL("status", VirtIONetPCI, net.status_feature, true),
    DEFINE_PROP_UINT16("host_mtu", VirtIONetPCI, net.host_mtu, 0),
    DEFINE_PROP_INT32("speed", VirtIONetPCI, net.speed, -1),
    DEFINE_PROP_STRING("duplex", VirtIONetPCI, net.duplex),
    DEFINE_PROP_INT32("bootindex", VirtIONetPCI, net.bootindex, -1),
    DEFINE_PROP_UINT32("tx_burst", VirtIONetPCI, net.tx_burst, 256),
    DEFINE_PROP_END_OF_LIST(),
};

static const PCIDeviceClass virtio_net_pci_class = {
    PCI_DEVICE_CLASS_INIT("virtio-net-pci", "Virtio network device", VirtIONetPCI,
                          virtio_net_pci_props, .category = DEVICE_CATEGORY_NETWORK,
                          .vmsd = &vmstate_virtio_net_pci, .describe = virtio_net_pci_describe),
    .vendor_id = PCI_VENDOR_ID_REDHAT_QUMRANET,
    .device_id = 0x1000,
    .class_id = PCI_CLASS_NETWORK_ETHERNET,
    .realize = virtio_net_pci_realize,
    .exit = virtio_net_pci_exit,
    .reset = virtio_net_pci_reset,
    .config_read = virtio_pci_config_read,
    .config_write = virtio_pci_config_write,
    .romfile = "efi-virtio.rom",
};

PCI_DEVICE_CLASS_REGISTER(virtio_net_pci_class)

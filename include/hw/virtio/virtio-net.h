/*
 * virtio-net (virtio 1.2, 5.1): the guest-visible layout, shared by the
 * device model (hw/virtio/virtio-net.c) and its tests.
 */
#ifndef KVMPC_HW_VIRTIO_NET_H
#define KVMPC_HW_VIRTIO_NET_H

/* Feature bits (5.1.3) */
#define VIRTIO_NET_F_CSUM               0       /* device finishes partial checksums */
#define VIRTIO_NET_F_GUEST_CSUM         1       /* driver handles partial checksums */
#define VIRTIO_NET_F_CTRL_GUEST_OFFLOADS 2
#define VIRTIO_NET_F_MTU                3
#define VIRTIO_NET_F_MAC                5
#define VIRTIO_NET_F_GUEST_TSO4         7       /* driver takes TSO frames (IPv4) */
#define VIRTIO_NET_F_GUEST_TSO6         8
#define VIRTIO_NET_F_GUEST_ECN          9       /* ... with the ECN bit */
#define VIRTIO_NET_F_GUEST_UFO          10
#define VIRTIO_NET_F_HOST_TSO4          11      /* device takes TSO frames (IPv4) */
#define VIRTIO_NET_F_HOST_TSO6          12
#define VIRTIO_NET_F_HOST_ECN           13
#define VIRTIO_NET_F_HOST_UFO           14
#define VIRTIO_NET_F_MRG_RXBUF          15
#define VIRTIO_NET_F_STATUS             16
#define VIRTIO_NET_F_CTRL_VQ            17
#define VIRTIO_NET_F_CTRL_RX            18
#define VIRTIO_NET_F_CTRL_VLAN          19
#define VIRTIO_NET_F_CTRL_RX_EXTRA      20
#define VIRTIO_NET_F_GUEST_ANNOUNCE     21
#define VIRTIO_NET_F_MQ                 22
#define VIRTIO_NET_F_CTRL_MAC_ADDR      23
#define VIRTIO_NET_F_SPEED_DUPLEX       63

/* Configuration space (5.1.4), little-endian */
#define VIRTIO_NET_CFG_MAC              0x00    /* u8[6] */
#define VIRTIO_NET_CFG_STATUS           0x06    /* u16 */
#define VIRTIO_NET_CFG_MAX_VQ_PAIRS     0x08    /* u16 */
#define VIRTIO_NET_CFG_MTU              0x0a    /* u16 */
#define VIRTIO_NET_CFG_SPEED            0x0c    /* u32, Mb/s, 0xffffffff unknown */
#define VIRTIO_NET_CFG_DUPLEX           0x10    /* u8: 0 half, 1 full, 0xff unknown */
#define VIRTIO_NET_CFG_SIZE             0x11

#define VIRTIO_NET_S_LINK_UP            1
#define VIRTIO_NET_S_ANNOUNCE           2

/* struct virtio_net_hdr (5.1.6): flags u8, gso_type u8, hdr_len u16,
 * gso_size u16, csum_start u16, csum_offset u16, num_buffers u16 (only
 * with MRG_RXBUF or VERSION_1: the header is then 12 bytes, else 10). */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM     1
#define VIRTIO_NET_HDR_F_DATA_VALID     2
#define VIRTIO_NET_HDR_GSO_NONE         0
#define VIRTIO_NET_HDR_GSO_TCPV4        1
#define VIRTIO_NET_HDR_GSO_UDP          3
#define VIRTIO_NET_HDR_GSO_TCPV6        4
#define VIRTIO_NET_HDR_GSO_ECN          0x80    /* or'ed with a TCP type */
#define VIRTIO_NET_HDR_LEN              10
#define VIRTIO_NET_HDR_MRG_LEN          12

/* Control virtqueue (5.1.6.5): out { u8 class; u8 cmd; data }, in { u8 ack } */
#define VIRTIO_NET_OK                   0
#define VIRTIO_NET_ERR                  1
#define VIRTIO_NET_CTRL_RX              0
#define  VIRTIO_NET_CTRL_RX_PROMISC     0
#define  VIRTIO_NET_CTRL_RX_ALLMULTI    1
#define  VIRTIO_NET_CTRL_RX_ALLUNI      2
#define  VIRTIO_NET_CTRL_RX_NOMULTI     3
#define  VIRTIO_NET_CTRL_RX_NOUNI       4
#define  VIRTIO_NET_CTRL_RX_NOBCAST     5
#define VIRTIO_NET_CTRL_MAC             1
#define  VIRTIO_NET_CTRL_MAC_TABLE_SET  0       /* u32 n, n MACs (unicast), u32 m, m MACs */
#define  VIRTIO_NET_CTRL_MAC_ADDR_SET   1
#define VIRTIO_NET_CTRL_VLAN            2
#define  VIRTIO_NET_CTRL_VLAN_ADD       0
#define  VIRTIO_NET_CTRL_VLAN_DEL       1
#define VIRTIO_NET_CTRL_ANNOUNCE        3
#define  VIRTIO_NET_CTRL_ANNOUNCE_ACK   0
#define VIRTIO_NET_CTRL_MQ              4
#define  VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 0      /* u16 pairs */
#define VIRTIO_NET_CTRL_GUEST_OFFLOADS  5
#define  VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET 0   /* u64: GUEST_CSUM/TSO4/TSO6/ECN/UFO bits */

#define VIRTIO_NET_MAC_TABLE_ENTRIES    64      /* as QEMU */
#define VIRTIO_NET_MAX_VLAN             4096
#define VIRTIO_NET_MAX_QUEUE_PAIRS      ((VIRTIO_QUEUE_MAX - 1) / 2)

#endif

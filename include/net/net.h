/*
 * The network layer: clients, peers, hubs, the packet queue (docs/net.md).
 *
 * Every end of a link is a NetClientState: a NIC frontend (hw/net/), a
 * backend (net/: user/slirp, socket, tap) or a hub port.  Two clients are
 * peers; a packet one sends goes to its peer's receive callback.  When the
 * peer cannot take it (can_receive false, or receive returns 0) the packet
 * waits in the peer's incoming queue until qemu_flush_queued_packets(peer)
 * (a NIC calls it when the guest gives it buffers); a sender that passed a
 * sent callback hears when its packet finally left the queue, so that it
 * can stop reading its fd meanwhile.
 *
 * A frontend other than e1000 (virtio-net) plugs in the same way:
 * qemu_new_nic() with its NetClientInfo (receive or receive_iov,
 * can_receive, link_status_changed), qemu_flush_queued_packets() when it
 * has room again, and qemu_has_vnet_hdr(peer) to ask a backend (tap)
 * whether packets carry a virtio-net header.
 */
#ifndef KVMPC_NET_NET_H
#define KVMPC_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <glib.h>
#include "qemu/error.h"

typedef struct NetClientState NetClientState;

typedef enum NetClientDriver {
    NET_CLIENT_DRIVER_NIC,
    NET_CLIENT_DRIVER_USER,
    NET_CLIENT_DRIVER_TAP,
    NET_CLIENT_DRIVER_SOCKET,
    NET_CLIENT_DRIVER_HUBPORT,
} NetClientDriver;

typedef struct MACAddr {
    uint8_t a[6];
} MACAddr;

/* What a NIC's receive filter lets through (QMP query-rx-filter). */
typedef struct NetRxFilter {
    bool promiscuous;           /* every unicast frame */
    bool multicast_all;         /* every multicast frame */
    bool broadcast_allowed;
    bool vlan_filter;
    MACAddr main_mac;
} NetRxFilter;

/* What a frontend can take from a vnet-header backend: partial checksums
 * and GSO frames of each kind (QEMU's qemu_set_offload arguments). */
typedef struct NetOffloads {
    bool csum, tso4, tso6, ecn, ufo;
} NetOffloads;

typedef void NetPacketSent(NetClientState *sender, ssize_t len);

typedef struct NetClientInfo {
    NetClientDriver type;
    const char *type_name;      /* "nic", "user", "tap", "socket", "hubport" */
    size_t size;                /* of the struct that embeds NetClientState first */
    /* A packet from the peer.  Return its length when taken (or dropped on
     * purpose), 0 to have it queued until the next flush. */
    ssize_t (*receive)(NetClientState *nc, const uint8_t *buf, size_t len);
    /* Optional; without it receive gets the iovec flattened. */
    ssize_t (*receive_iov)(NetClientState *nc, const struct iovec *iov, int iovcnt);
    bool (*can_receive)(NetClientState *nc);       /* NULL: always */
    void (*link_status_changed)(NetClientState *nc);
    bool (*has_vnet_hdr)(NetClientState *nc);      /* NULL: false */
    /* The peer (virtio-net) reads and writes the 12-byte virtio-net header
     * itself; until it says so the backend adds and strips it. */
    void (*using_vnet_hdr)(NetClientState *nc, bool on);
    /* vnet-header backends: whether the kernel takes UFO (NULL: false),
     * and the offloads the peer can receive (tap: TUNSETOFFLOAD). */
    bool (*has_ufo)(NetClientState *nc);
    void (*set_offload)(NetClientState *nc, const struct NetOffloads *o);
    /* A TCP/IP stack rather than a wire (user: libslirp): takes an IPv4 TCP
     * segment larger than the MTU as it is, so a NIC may hand it a TSO
     * frame whole (its checksum finished) instead of segmenting it. */
    bool takes_large_tcp4;
    /* A backend that calls qemu_net_burst_end() after each batch of
     * frames it sends its peer (one poll, one input, one timer), so the
     * peer may hold frames within a batch (virtio-net coalesces TCP). */
    bool ends_bursts;
    /* A NIC: the peer's batch ended; deliver whatever is held. */
    void (*burst_end)(NetClientState *nc);
    void (*query_rx_filter)(NetClientState *nc, NetRxFilter *f);   /* NICs */
    /* A NIC that can make its guest announce itself (virtio-net's
     * GUEST_ANNOUNCE): asked at each round of announce-self. */
    void (*announce)(NetClientState *nc);
    /* A queue of a multiqueue backend (tap): whether the host may steer
     * frames to it and whether it is read (the NIC's pair is in use). */
    void (*queue_enable)(NetClientState *nc, bool on);
    void (*cleanup)(NetClientState *nc);
} NetClientInfo;

struct NetClientState {
    const NetClientInfo *info;
    char *name;                 /* the netdev id, the NIC's device id or "model.N" */
    char *model;                /* "e1000", "user"... */
    NetClientState *peer;
    bool link_down;
    bool is_netdev;             /* created by -netdev / netdev_add */
    GQueue queue;               /* NetPacket*: waiting for this client */
    char info_str[256];         /* for `info network` */
    void *opaque;               /* NIC: the device (its DeviceState comes first) */
    bool rxfilter_notify;       /* NIC: NIC_RX_FILTER_CHANGED armed (until a query) */
    unsigned queues;            /* backend: queues=N (0 or 1: one), for a multiqueue NIC */
    unsigned queue_index;       /* which queue of a multiqueue client (all share the name) */
};

/* NIC configuration, the device's properties. */
typedef struct NICConf {
    MACAddr macaddr;
    NetClientState *peer;       /* the backend (netdev=), may be NULL */
} NICConf;

/* Clients. */
NetClientState *qemu_new_net_client(const NetClientInfo *info, NetClientState *peer,
                                    const char *model, const char *name);
NetClientState *qemu_new_nic(const NetClientInfo *info, NICConf *conf, const char *model,
                             const char *id, void *opaque);
void qemu_del_net_client(NetClientState *nc);
NetClientState *qemu_find_netdev(const char *id);
/* Queue i of a backend (a multiqueue tap has one client per queue, all
 * named by its id); NULL past the last.  Queue 0 is qemu_find_netdev's. */
NetClientState *qemu_find_netdev_queue(const char *id, unsigned i);
/* A multiqueue backend's queue i used or not (NetClientInfo.queue_enable). */
void qemu_net_queue_enable(NetClientState *nc, bool on);
/* An fd named on the command line or in netdev_add: a number the process
 * inherited, or (from a monitor command) the name of one given to that
 * monitor by QMP getfd, which it then no longer holds (as QEMU's
 * monitor_fd_param).  -1 with errp set on failure; *owned says whether
 * the caller must close it when it does not keep it. */
int net_fd_param(const char *str, bool *owned, Error **errp);
/* By name, among every client (NICs, backends, hub ports). */
NetClientState *qemu_find_net_client(const char *name);
/* Calls fn for every client, in creation order. */
void qemu_foreach_net_client(void (*fn)(NetClientState *nc, void *opaque), void *opaque);

/* net/announce.c: announce-self.  Every NIC (or those named in the
 * NULL-terminated interfaces) sends a RARP broadcast with its MAC, at
 * once and then rounds - 1 more times; the timer named id replaces the
 * running one of that name. */
bool net_announce_self(int64_t initial, int64_t max, int64_t rounds, int64_t step,
                       char **interfaces, const char *id, Error **errp);
/* The 60-byte RARP reverse request about mac; returns its length. */
size_t net_announce_rarp(uint8_t *buf, const uint8_t mac[6]);

/* Sending to nc's peer.  Return the length when delivered or dropped, 0
 * when queued (sent_cb is then called once it goes). */
ssize_t qemu_send_packet(NetClientState *nc, const uint8_t *buf, size_t len);
ssize_t qemu_send_packet_async(NetClientState *nc, const uint8_t *buf, size_t len,
                               NetPacketSent *sent_cb);
ssize_t qemu_sendv_packet(NetClientState *nc, const struct iovec *iov, int iovcnt);
/* Deliver what waits in nc's queue while nc can receive. */
void qemu_flush_queued_packets(NetClientState *nc);
bool qemu_can_receive_packet(NetClientState *nc);
bool qemu_has_vnet_hdr(NetClientState *nc);
/* The virtio-net header a vnet-header backend exchanges (struct
 * virtio_net_hdr_mrg_rxbuf: 12 bytes, num_buffers unused). */
#define NET_VNET_HDR_LEN 12
void qemu_using_vnet_hdr(NetClientState *nc, bool on);
bool qemu_has_ufo(NetClientState *nc);
/* nc is a backend that takes oversized IPv4 TCP segments (takes_large_tcp4). */
bool qemu_takes_large_tcp4(NetClientState *nc);
/* nc is a backend that ends its bursts (ends_bursts). */
bool qemu_ends_bursts(NetClientState *nc);
/* A backend's batch of frames to its peer ended (peer->info->burst_end). */
void qemu_net_burst_end(NetClientState *nc);
void qemu_set_offload(NetClientState *nc, const NetOffloads *o);
/* A NIC's receive filter changed: QMP event NIC_RX_FILTER_CHANGED, once
 * until the next query-rx-filter for that NIC (as QEMU). */
void qemu_nic_rx_filter_changed(NetClientState *nc);
/* QMP set_link: a NIC and its peer go down together (as QEMU). */
bool qemu_set_link(const char *name, bool up, Error **errp);

/* The next default MAC if mac is all zero: 52:54:00:12:34:56, +1 each. */
void qemu_macaddr_default_if_unset(MACAddr *mac);
bool net_parse_macaddr(MACAddr *mac, const char *str);
void qemu_format_nic_info_str(NetClientState *nc, const MACAddr *mac);

/* Hubs (the legacy -net "vlan"): a port forwards to every other port. */
NetClientState *net_hub_add_port(int hub_id, const char *name);

/* Command line: -netdev, -nic, -net.  Returns the number of argv words
 * consumed (0: not a network option).  Exits with a message on errors. */
int net_cmdline_option(int argc, char **argv);
/* Creates the backends given on the command line (after the main loop
 * exists), then the NICs of -nic/-net (after the machine's buses).
 * default_nic: QEMU's default e1000 + user network when no network option
 * was given (false with -nodefaults). */
void net_init_clients(bool default_nic);
void net_print_help(void);
void net_create_nics(void);
/* -netdev TYPE,... / netdev_add (opts already parsed). */
bool net_client_init(const char *optstr, bool is_netdev, Error **errp);
/* The same from a monitor command: fd= names resolve in mon's getfd table. */
typedef struct Monitor Monitor;
bool net_client_init_mon(const char *optstr, Monitor *mon, Error **errp);
bool net_netdev_del(const char *id, Error **errp);
/* `info network` */
void net_print_info(GString *out);

/* Backends' constructors (net/ *.c); each returns false with errp set. */
typedef struct QemuOpts QemuOpts;
bool net_init_user(QemuOpts *opts, const char *name, NetClientState *peer, Error **errp);
bool net_init_socket(QemuOpts *opts, const char *name, NetClientState *peer, Error **errp);
bool net_init_stream(QemuOpts *opts, const char *name, NetClientState *peer, Error **errp);
bool net_init_dgram(QemuOpts *opts, const char *name, NetClientState *peer, Error **errp);
/* -netdev socket,mcast=|udp= (net/dgram.c; one of the two is non-NULL) */
bool net_socket_dgram_init(QemuOpts *opts, const char *name, NetClientState *peer,
                           const char *mcast, const char *udp, Error **errp);
bool net_init_tap(QemuOpts *opts, const char *name, NetClientState *peer, Error **errp);

#endif

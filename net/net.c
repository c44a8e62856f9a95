/*
 * The network layer's core (include/net/net.h, docs/net.md): clients and
 * their peers, the per-client queue of packets that wait for a receiver,
 * hubs, link status, default MAC addresses and the command line
 * (-netdev, -nic, -net).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <errno.h>
#include "net/net.h"
#include "monitor/monitor.h"
#include "hw/qdev.h"
#include "qemu/option.h"
#include "qemu/log.h"

/* Packets that wait in one client's queue; beyond this they are dropped
 * (a receiver that never takes them must not eat the host's memory). */
#define NET_QUEUE_MAX_PACKETS   1024
#define NET_MAX_FRAME           (64 * 1024 + 256)

typedef struct NetPacket {
    NetClientState *sender;
    NetPacketSent *sent_cb;
    size_t len;
    uint8_t data[];
} NetPacket;

static GPtrArray *net_clients;          /* NetClientState*, creation order */
static unsigned mac_index;              /* next default MAC's last byte offset */

/* ---- clients --------------------------------------------------------- */

NetClientState *qemu_new_net_client(const NetClientInfo *info, NetClientState *peer,
                                    const char *model, const char *name)
{
    NetClientState *nc;

    g_assert(info->size >= sizeof(NetClientState));
    nc = g_malloc0(info->size);
    nc->info = info;
    nc->model = g_strdup(model);
    nc->name = g_strdup(name);
    g_queue_init(&nc->queue);
    if (peer) {
        g_assert(!peer->peer);
        nc->peer = peer;
        peer->peer = nc;
    }
    if (!net_clients) {
        net_clients = g_ptr_array_new();
    }
    g_ptr_array_add(net_clients, nc);
    return nc;
}

/* "model.N": the first free N for NICs without an id, as QEMU names them. */
static char *nic_default_name(const char *model)
{
    for (unsigned n = 0;; n++) {
        char *name = g_strdup_printf("%s.%u", model, n);
        if (!qemu_find_net_client(name)) {
            return name;
        }
        g_free(name);
    }
}

NetClientState *qemu_new_nic(const NetClientInfo *info, NICConf *conf, const char *model,
                             const char *id, void *opaque)
{
    g_autofree char *name = id ? g_strdup(id) : nic_default_name(model);
    NetClientState *nc = qemu_new_net_client(info, conf->peer, model, name);

    nc->opaque = opaque;
    nc->rxfilter_notify = true;
    qemu_format_nic_info_str(nc, &conf->macaddr);
    /* On a multiqueue backend a NIC has queue 0; the host steers nothing
     * to the others until the NIC takes them (virtio-net's pairs). */
    if (conf->peer && conf->peer->queue_index == 0 && conf->peer->queues > 1) {
        NetClientState *q;

        for (unsigned i = 1; (q = qemu_find_netdev_queue(conf->peer->name, i)); i++) {
            qemu_net_queue_enable(q, false);
        }
    }
    return nc;
}

static void net_queue_purge(NetClientState *nc, NetClientState *sender)
{
    for (GList *l = nc->queue.head; l;) {
        GList *next = l->next;
        NetPacket *p = l->data;
        if (!sender || p->sender == sender) {
            g_queue_delete_link(&nc->queue, l);
            g_free(p);
        }
        l = next;
    }
}

void qemu_del_net_client(NetClientState *nc)
{
    if (!nc) {
        return;
    }
    if (nc->info->cleanup) {
        nc->info->cleanup(nc);
    }
    for (guint i = 0; net_clients && i < net_clients->len; i++) {
        net_queue_purge(g_ptr_array_index(net_clients, i), nc);
    }
    net_queue_purge(nc, NULL);
    if (nc->peer) {
        nc->peer->peer = NULL;
    }
    g_ptr_array_remove(net_clients, nc);
    g_free(nc->name);
    g_free(nc->model);
    g_free(nc);
}

NetClientState *qemu_find_net_client(const char *name)
{
    for (guint i = 0; name && net_clients && i < net_clients->len; i++) {
        NetClientState *nc = g_ptr_array_index(net_clients, i);
        if (!strcmp(nc->name, name)) {
            return nc;
        }
    }
    return NULL;
}

NetClientState *qemu_find_netdev(const char *id)
{
    NetClientState *nc = qemu_find_net_client(id);

    return nc && nc->info->type != NET_CLIENT_DRIVER_NIC ? nc : NULL;
}

NetClientState *qemu_find_netdev_queue(const char *id, unsigned i)
{
    for (guint k = 0; id && net_clients && k < net_clients->len; k++) {
        NetClientState *nc = g_ptr_array_index(net_clients, k);
        if (nc->info->type != NET_CLIENT_DRIVER_NIC && !strcmp(nc->name, id) &&
            nc->queue_index == i) {
            return nc;
        }
    }
    return NULL;
}

void qemu_net_queue_enable(NetClientState *nc, bool on)
{
    if (nc && nc->info->queue_enable) {
        nc->info->queue_enable(nc, on);
    }
}

void qemu_foreach_net_client(void (*fn)(NetClientState *nc, void *opaque), void *opaque)
{
    for (guint i = 0; net_clients && i < net_clients->len; i++) {
        fn(g_ptr_array_index(net_clients, i), opaque);
    }
}

/* ---- sending and the queue -------------------------------------------- */

bool qemu_can_receive_packet(NetClientState *nc)
{
    return !nc->info->can_receive || nc->info->can_receive(nc);
}

bool qemu_has_vnet_hdr(NetClientState *nc)
{
    return nc && nc->info->has_vnet_hdr && nc->info->has_vnet_hdr(nc);
}

void qemu_using_vnet_hdr(NetClientState *nc, bool on)
{
    if (nc && nc->info->using_vnet_hdr) {
        nc->info->using_vnet_hdr(nc, on);
    }
}

bool qemu_has_ufo(NetClientState *nc)
{
    return nc && nc->info->has_ufo && nc->info->has_ufo(nc);
}

bool qemu_takes_large_tcp4(NetClientState *nc)
{
    return nc && nc->info->takes_large_tcp4;
}

bool qemu_ends_bursts(NetClientState *nc)
{
    return nc && nc->info->ends_bursts;
}

void qemu_net_burst_end(NetClientState *nc)
{
    NetClientState *peer = nc->peer;

    if (peer && peer->info->burst_end) {
        peer->info->burst_end(peer);
    }
}

void qemu_set_offload(NetClientState *nc, const NetOffloads *o)
{
    if (nc && nc->info->set_offload) {
        nc->info->set_offload(nc, o);
    }
}

static ssize_t net_deliver(NetClientState *nc, const uint8_t *buf, size_t len)
{
    if (nc->info->receive) {
        return nc->info->receive(nc, buf, len);
    }
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
    return nc->info->receive_iov(nc, &iov, 1);
}

static void net_enqueue(NetClientState *to, NetClientState *sender, const uint8_t *buf,
                        size_t len, NetPacketSent *sent_cb)
{
    NetPacket *p;

    if (g_queue_get_length(&to->queue) >= NET_QUEUE_MAX_PACKETS) {
        qemu_log_mask(LOG_GUEST_ERROR, "net: %s: queue full, packet dropped\n", to->name);
        return;
    }
    p = g_malloc(sizeof(*p) + len);
    p->sender = sender;
    p->sent_cb = sent_cb;
    p->len = len;
    memcpy(p->data, buf, len);
    g_queue_push_tail(&to->queue, p);
}

ssize_t qemu_send_packet_async(NetClientState *nc, const uint8_t *buf, size_t len,
                               NetPacketSent *sent_cb)
{
    NetClientState *peer = nc->peer;
    ssize_t ret;

    if (nc->link_down || !peer || peer->link_down || len > NET_MAX_FRAME) {
        return len;     /* dropped, as a cable that is not there */
    }
    if (!g_queue_is_empty(&peer->queue) || !qemu_can_receive_packet(peer)) {
        net_enqueue(peer, nc, buf, len, sent_cb);
        return 0;
    }
    ret = net_deliver(peer, buf, len);
    if (ret == 0) {
        net_enqueue(peer, nc, buf, len, sent_cb);
    }
    return ret;
}

ssize_t qemu_send_packet(NetClientState *nc, const uint8_t *buf, size_t len)
{
    return qemu_send_packet_async(nc, buf, len, NULL);
}

/* A frame in pieces (a NIC's transmit buffers in guest RAM, a header in
 * front): a peer with receive_iov that can take it now gets the pieces
 * as they are (tap: one writev, no copy); otherwise it is flattened and
 * goes the usual way (and may be queued, as a copy). */
ssize_t qemu_sendv_packet(NetClientState *nc, const struct iovec *iov, int iovcnt)
{
    NetClientState *peer = nc->peer;
    size_t len = 0, off = 0;
    g_autofree uint8_t *buf = NULL;

    for (int i = 0; i < iovcnt; i++) {
        len += iov[i].iov_len;
    }
    if (len > NET_MAX_FRAME) {
        return len;
    }
    if (peer && peer->info->receive_iov && !nc->link_down && !peer->link_down &&
        g_queue_is_empty(&peer->queue) && qemu_can_receive_packet(peer)) {
        ssize_t ret = peer->info->receive_iov(peer, iov, iovcnt);

        if (ret != 0) {
            return ret;
        }
    }
    buf = g_malloc(len ? len : 1);
    for (int i = 0; i < iovcnt; i++) {
        memcpy(buf + off, iov[i].iov_base, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    return qemu_send_packet(nc, buf, len);
}

void qemu_flush_queued_packets(NetClientState *nc)
{
    while (!g_queue_is_empty(&nc->queue) && qemu_can_receive_packet(nc)) {
        NetPacket *p = g_queue_pop_head(&nc->queue);
        ssize_t ret = nc->link_down ? (ssize_t)p->len : net_deliver(nc, p->data, p->len);

        if (ret == 0) {
            g_queue_push_head(&nc->queue, p);
            break;
        }
        if (p->sent_cb) {
            p->sent_cb(p->sender, ret);
        }
        g_free(p);
    }
    if (nc->info->burst_end) {
        nc->info->burst_end(nc);        /* the queued frames were one batch */
    }
}

/* ---- link status ------------------------------------------------------ */

static void net_set_link_one(NetClientState *nc, bool up);

/* Every queue of a multiqueue client shares its name; all follow (QEMU). */
bool qemu_set_link(const char *name, bool up, Error **errp)
{
    g_autoptr(GPtrArray) found = g_ptr_array_new();
    DeviceState *dev = NULL;

    for (guint i = 0; net_clients && i < net_clients->len; i++) {
        NetClientState *c = g_ptr_array_index(net_clients, i);
        if (!strcmp(c->name, name)) {
            g_ptr_array_add(found, c);
        }
    }
    /* A NIC may also be named by its device's id or QOM path. */
    if (!found->len) {
        dev = qdev_find_by_path(name);
    }
    for (guint i = 0; dev && net_clients && i < net_clients->len; i++) {
        NetClientState *c = g_ptr_array_index(net_clients, i);
        if (c->opaque == dev) {
            g_ptr_array_add(found, c);
        }
    }
    if (!found->len) {
        error_setg(errp, "Device '%s' not found", name);
        return false;
    }
    for (guint i = 0; i < found->len; i++) {
        net_set_link_one(g_ptr_array_index(found, i), up);
    }
    return true;
}

static void net_set_link_one(NetClientState *nc, bool up)
{
    nc->link_down = !up;
    if (nc->info->link_status_changed) {
        nc->info->link_status_changed(nc);
    }
    /* As QEMU: a NIC's backend follows it; a backend's NIC follows it
     * unless the backend is a hub port. */
    if (nc->peer && (nc->info->type == NET_CLIENT_DRIVER_NIC ||
                     nc->peer->info->type == NET_CLIENT_DRIVER_NIC) &&
        nc->info->type != NET_CLIENT_DRIVER_HUBPORT) {
        nc->peer->link_down = !up;
        if (nc->peer->info->link_status_changed) {
            nc->peer->info->link_status_changed(nc->peer);
        }
    }
    if (up && nc->peer) {
        qemu_flush_queued_packets(nc->peer);
        qemu_flush_queued_packets(nc);
    }
}

/* ---- MAC addresses ---------------------------------------------------- */

void qemu_macaddr_default_if_unset(MACAddr *mac)
{
    static const MACAddr zero;

    if (memcmp(mac, &zero, sizeof(zero))) {
        return;
    }
    mac->a[0] = 0x52;
    mac->a[1] = 0x54;
    mac->a[2] = 0x00;
    mac->a[3] = 0x12;
    mac->a[4] = 0x34;
    mac->a[5] = 0x56 + mac_index++;
}

bool net_parse_macaddr(MACAddr *mac, const char *str)
{
    unsigned v[6];
    char end;

    if (sscanf(str, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
               &end) != 6 &&
        sscanf(str, "%x-%x-%x-%x-%x-%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
               &end) != 6) {
        return false;
    }
    for (int i = 0; i < 6; i++) {
        if (v[i] > 0xff) {
            return false;
        }
        mac->a[i] = v[i];
    }
    return true;
}

void qemu_format_nic_info_str(NetClientState *nc, const MACAddr *mac)
{
    snprintf(nc->info_str, sizeof(nc->info_str), "model=%s,macaddr=%02x:%02x:%02x:%02x:%02x:%02x",
             nc->model, mac->a[0], mac->a[1], mac->a[2], mac->a[3], mac->a[4], mac->a[5]);
}

/* ---- hubs ------------------------------------------------------------- */

typedef struct NetHubPort {
    NetClientState nc;
    int hub_id;
} NetHubPort;

static ssize_t hubport_receive(NetClientState *nc, const uint8_t *buf, size_t len)
{
    NetHubPort *src = (NetHubPort *)nc;

    for (guint i = 0; i < net_clients->len; i++) {
        NetClientState *c = g_ptr_array_index(net_clients, i);
        if (c != nc && c->info->type == NET_CLIENT_DRIVER_HUBPORT &&
            ((NetHubPort *)c)->hub_id == src->hub_id) {
            qemu_send_packet(c, buf, len);
        }
    }
    return len;
}

static const NetClientInfo hubport_info = {
    .type = NET_CLIENT_DRIVER_HUBPORT,
    .type_name = "hubport",
    .size = sizeof(NetHubPort),
    .receive = hubport_receive,
};

NetClientState *net_hub_add_port(int hub_id, const char *name)
{
    g_autofree char *def = NULL;
    NetClientState *nc;
    unsigned n = 0;

    for (guint i = 0; net_clients && i < net_clients->len; i++) {
        NetClientState *c = g_ptr_array_index(net_clients, i);
        n += c->info->type == NET_CLIENT_DRIVER_HUBPORT && ((NetHubPort *)c)->hub_id == hub_id;
    }
    if (!name) {
        name = def = g_strdup_printf("hub%dport%u", hub_id, n);
    }
    nc = qemu_new_net_client(&hubport_info, NULL, "hub", name);
    ((NetHubPort *)nc)->hub_id = hub_id;
    snprintf(nc->info_str, sizeof(nc->info_str), "hub=%d", hub_id);
    return nc;
}

static bool net_init_hubport(QemuOpts *opts, const char *name, NetClientState *peer,
                             Error **errp)
{
    uint64_t hub;
    NetClientState *nc, *nd = NULL;
    const char *nd_id = qemu_opt_get(opts, "netdev");

    /* hubid= is QEMU's name; hub= kvmpc's older one */
    const char *key = qemu_opt_has(opts, "hubid") ? "hubid" : "hub";

    if (qemu_opt_has(opts, "hubid") && qemu_opt_has(opts, "hub")) {
        error_setg(errp, "hubport: give hubid= or hub=, not both");
        return false;
    }
    if (!qemu_opt_has(opts, key)) {
        error_setg(errp, "Parameter 'hubid' is missing");
        return false;
    }
    if (!qemu_opt_get_number(opts, key, 0, &hub, errp)) {
        return false;
    }
    if (peer) {
        error_setg(errp, "hubport: cannot be used with -net");
        return false;
    }
    /* netdev=ID (QEMU): the port's peer is that backend, so the hub
     * carries its frames (a backend added later, e.g. by netdev_add) */
    if (nd_id) {
        nd = qemu_find_netdev(nd_id);
        if (!nd || nd->info->type == NET_CLIENT_DRIVER_HUBPORT) {
            error_setg(errp, "hubport: netdev '%s' %s", nd_id,
                       nd ? "is a hub port" : "not found");
            return false;
        }
        if (nd->peer) {
            error_setg(errp, "hubport: netdev '%s' is in use by '%s'", nd_id, nd->peer->name);
            return false;
        }
    }
    nc = net_hub_add_port(hub, name);
    nc->is_netdev = true;
    if (nd) {
        nc->peer = nd;
        nd->peer = nc;
    }
    return true;
}

/* ---- creating backends ------------------------------------------------ */

typedef struct NetBackendType {
    const char *name;
    bool (*init)(QemuOpts *opts, const char *name, NetClientState *peer, Error **errp);
} NetBackendType;

static const NetBackendType net_backend_types[] = {
    { "dgram", net_init_dgram },
    { "hubport", net_init_hubport },
    { "socket", net_init_socket },
    { "stream", net_init_stream },
    { "tap", net_init_tap },
    { "user", net_init_user },
};

static const NetBackendType *net_backend_find(const char *type)
{
    for (size_t i = 0; i < G_N_ELEMENTS(net_backend_types); i++) {
        if (!strcmp(net_backend_types[i].name, type)) {
            return &net_backend_types[i];
        }
    }
    return NULL;
}

static void net_print_backend_types(void)
{
    printf("Available netdev backend types:\n");
    for (size_t i = 0; i < G_N_ELEMENTS(net_backend_types); i++) {
        printf("%s\n", net_backend_types[i].name);
    }
}

static bool net_client_init_opts(QemuOpts *opts, bool is_netdev, int hub, Error **errp)
{
    const char *type = qemu_opt_get(opts, "type");
    const char *id = qemu_opt_get(opts, "id");
    const char *name = qemu_opt_get(opts, "name");
    const NetBackendType *bt;
    NetClientState *port = NULL;
    g_autofree char *defname = NULL;
    unsigned before = net_clients ? net_clients->len : 0;
    uint64_t queues = 1;

    if (!type) {
        error_setg(errp, "Parameter 'type' is missing");
        return false;
    }
    bt = net_backend_find(type);
    if (!bt) {
        error_setg(errp, "Parameter 'type' expects a netdev backend type");
        return false;
    }
    if (is_netdev) {
        if (!id) {
            error_setg(errp, "Parameter 'id' is missing");
            return false;
        }
        if (!id_wellformed(id) && !g_str_has_prefix(id, "__org.qemu.")) {
            error_setg(errp, "Parameter 'id' expects an identifier");
            return false;
        }
        if (qemu_find_net_client(id)) {
            error_setg(errp, "Duplicate ID '%s' for netdev", id);
            return false;
        }
        name = id;
    } else {
        if (!name) {
            name = id;
        }
        if (!name) {
            unsigned n = 0;
            do {
                g_free(defname);
                defname = g_strdup_printf("%s.%u", type, n++);
            } while (qemu_find_net_client(defname));
            name = defname;
        }
        port = net_hub_add_port(hub, NULL);
    }
    /* queues=N: how many queue pairs a multiqueue NIC (virtio-net mq=on)
     * gets on this backend; every backend has one queue that they share. */
    if (!qemu_opt_get_number(opts, "queues", 1, &queues, errp)) {
        return false;
    }
    if (queues < 1 || queues > 31) {
        error_setg(errp, "Parameter 'queues' expects a number of queues in 1-31");
        return false;
    }
    if (!bt->init(opts, name, port, errp)) {
        if (port) {
            qemu_del_net_client(port);
        }
        return false;
    }
    if (!qemu_opts_check_unused(opts, errp)) {
        /* undo what init created */
        while (net_clients && net_clients->len > before) {
            qemu_del_net_client(g_ptr_array_index(net_clients, net_clients->len - 1));
        }
        return false;
    }
    if (is_netdev) {
        /* every queue (a multiqueue tap set its own count) */
        for (guint i = before; net_clients && i < net_clients->len; i++) {
            NetClientState *nc = g_ptr_array_index(net_clients, i);
            if (!strcmp(nc->name, name)) {
                nc->is_netdev = true;
                nc->queues = nc->queues ? nc->queues : queues;
            }
        }
    }
    return true;
}

bool net_client_init(const char *optstr, bool is_netdev, Error **errp)
{
    QemuOpts *opts = qemu_opts_parse(optstr, "type", errp);
    bool ok;

    if (!opts) {
        return false;
    }
    ok = net_client_init_opts(opts, is_netdev, 0, errp);
    qemu_opts_free(opts);
    return ok;
}

/* The fd= of a monitor command names fds of this monitor (getfd). */
static Monitor *net_cur_mon;

bool net_client_init_mon(const char *optstr, Monitor *mon, Error **errp)
{
    bool ok;

    net_cur_mon = mon;
    ok = net_client_init(optstr, true, errp);
    net_cur_mon = NULL;
    return ok;
}

int net_fd_param(const char *str, bool *owned, Error **errp)
{
    uint64_t v;
    int fd;

    *owned = false;
    if (g_ascii_isdigit(str[0])) {
        if (!parse_uint("fd", str, &v, errp)) {
            return -1;
        }
        if (v > INT32_MAX || fcntl((int)v, F_GETFD) < 0) {
            error_setg_errno(errp, v > INT32_MAX ? EBADF : errno, "fd=%s", str);
            return -1;
        }
        return (int)v;
    }
    if (!net_cur_mon) {
        error_setg(errp, "fd '%s': a file descriptor name is only known to a monitor "
                   "command (QMP getfd, then netdev_add); give a number here", str);
        return -1;
    }
    fd = monitor_get_fd(net_cur_mon, str, errp);
    *owned = fd >= 0;
    return fd;
}

bool net_netdev_del(const char *id, Error **errp)
{
    NetClientState *nc = qemu_find_netdev(id), *q;

    if (!nc || !nc->is_netdev) {
        error_setg(errp, "Device '%s' not found", id);
        return false;
    }
    for (unsigned i = 0; (q = qemu_find_netdev_queue(id, i)); i++) {
        if (q->peer) {
            /* QEMU keeps a netdev that a NIC still uses; so do we. */
            error_setg(errp, "Device '%s' is in use by '%s'", id, q->peer->name);
            return false;
        }
    }
    while ((nc = qemu_find_netdev(id))) {
        qemu_del_net_client(nc);        /* every queue */
    }
    return true;
}

/* ---- the command line ------------------------------------------------- */

typedef enum { NETOPT_NETDEV, NETOPT_NIC, NETOPT_NET } NetOptKind;
typedef struct NetOpt {
    NetOptKind kind;
    char *spec;
} NetOpt;

typedef struct PendingNIC {
    char *model;
    char *mac;
    char *netdev;
    char *id;
} PendingNIC;

static GPtrArray *net_opts;             /* NetOpt*, in command-line order */
static GPtrArray *pending_nics;         /* PendingNIC* */
static bool nic_none;
static unsigned nic_count;

static G_NORETURN void net_die(const char *opt, const char *spec, Error *err)
{
    fprintf(stderr, "kvmpc: -%s %s: %s\n", opt, spec, err->message);
    exit(1);
}

int net_cmdline_option(int argc, char **argv)
{
    const char *arg = argv[0];
    NetOpt *o;

    if (arg[0] != '-') {
        return 0;
    }
    arg += arg[1] == '-' ? 2 : 1;
    if (strcmp(arg, "netdev") && strcmp(arg, "nic") && strcmp(arg, "net")) {
        return 0;
    }
    if (argc < 2) {
        fprintf(stderr, "kvmpc: %s: requires an argument\n", argv[0]);
        exit(1);
    }
    if (!strcmp(arg, "netdev") && !strcmp(argv[1], "help")) {
        net_print_backend_types();
        exit(0);
    }
    if (!net_opts) {
        net_opts = g_ptr_array_new();
    }
    o = g_new0(NetOpt, 1);
    o->kind = !strcmp(arg, "netdev") ? NETOPT_NETDEV : !strcmp(arg, "nic") ? NETOPT_NIC
                                                                            : NETOPT_NET;
    o->spec = argv[1];
    g_ptr_array_add(net_opts, o);
    return 2;
}

/* QEMU's short NIC model names (-net nic,model=virtio). */
static const char *nic_model_name(const char *model)
{
    return model && !strcmp(model, "virtio") ? "virtio-net-pci" : model;
}

static void pending_nic_add(const char *model, const char *mac, const char *netdev,
                            const char *id)
{
    PendingNIC *p = g_new0(PendingNIC, 1);

    p->model = g_strdup(model ? nic_model_name(model) : "e1000");
    p->mac = g_strdup(mac);
    p->netdev = g_strdup(netdev);
    p->id = g_strdup(id);
    if (!pending_nics) {
        pending_nics = g_ptr_array_new();
    }
    g_ptr_array_add(pending_nics, p);
}

static bool nic_model_check(const char *model)
{
    if (model && !strcmp(model, "help")) {
        printf("Available NIC models:\ne1000\nvirtio-net-pci\n");
        exit(0);
    }
    return !model || device_class_find(nic_model_name(model));
}

/* -nic TYPE[,model=M][,mac=A][,backend options]: a netdev with a hidden
 * id and a NIC on it. */
static void net_init_nic_option(const char *spec)
{
    g_autoptr(GString) rest = g_string_new(NULL);
    Error *err = NULL;
    QemuOpts *opts = qemu_opts_parse(spec, "type", &err);
    const char *type, *model = NULL, *mac = NULL;
    g_autofree char *id = NULL;

    if (!opts) {
        net_die("nic", spec, err);
    }
    type = qemu_opt_get(opts, "type");
    if (type && !strcmp(type, "none")) {
        nic_none = true;
        qemu_opts_free(opts);
        return;
    }
    id = g_strdup_printf("__org.qemu.nic%u", nic_count++);
    g_string_append_printf(rest, "%s,id=%s", type ? type : "user", id);
    for (guint i = 0; i < opts->opts->len; i++) {
        QemuOpt *o = g_ptr_array_index(opts->opts, i);
        if (!strcmp(o->key, "type")) {
            continue;
        } else if (!strcmp(o->key, "model")) {
            model = o->value;
        } else if (!strcmp(o->key, "mac")) {
            mac = o->value;
        } else {
            g_autofree char *v = NULL;
            gchar **parts = g_strsplit(o->value, ",", -1);
            v = g_strjoinv(",,", parts);
            g_strfreev(parts);
            g_string_append_printf(rest, ",%s=%s", o->key, v);
        }
    }
    if (!nic_model_check(model)) {
        error_setg(&err, "unsupported NIC model '%s'", model);
        net_die("nic", spec, err);
    }
    if (type && strcmp(type, "user") && strcmp(type, "socket") && strcmp(type, "tap") &&
        strcmp(type, "stream") && strcmp(type, "dgram")) {
        error_setg(&err, "Parameter 'type' expects a netdev backend type");
        net_die("nic", spec, err);
    }
    if (!net_client_init(rest->str, true, &err)) {
        net_die("nic", spec, err);
    }
    pending_nic_add(model, mac, id, NULL);
    qemu_opts_free(opts);
}

/* -net nic|none|TYPE,...: everything on hub 0, as QEMU's legacy form. */
static void net_init_net_option(const char *spec)
{
    Error *err = NULL;
    QemuOpts *opts = qemu_opts_parse(spec, "type", &err);
    const char *type;

    if (!opts) {
        net_die("net", spec, err);
    }
    type = qemu_opt_get(opts, "type");
    if (type && !strcmp(type, "none")) {
        nic_none = true;
    } else if (type && !strcmp(type, "nic")) {
        const char *model = qemu_opt_get(opts, "model");
        const char *mac = qemu_opt_get(opts, "macaddr");
        const char *netdev = qemu_opt_get(opts, "netdev");
        const char *name = qemu_opt_get(opts, "name");
        const char *id = qemu_opt_get(opts, "id");
        NetClientState *port;

        if (!nic_model_check(model)) {
            error_setg(&err, "unsupported NIC model '%s'", model);
            net_die("net", spec, err);
        }
        if (!qemu_opts_check_unused(opts, &err)) {
            net_die("net", spec, err);
        }
        if (netdev) {
            pending_nic_add(model, mac, netdev, id ? id : name);
        } else {
            port = net_hub_add_port(0, NULL);
            pending_nic_add(model, mac, port->name, id ? id : name);
        }
    } else if (!net_client_init_opts(opts, false, 0, &err)) {
        net_die("net", spec, err);
    }
    qemu_opts_free(opts);
}

void net_init_clients(bool default_nic)
{
    Error *err = NULL;

    /* QEMU's pc: with no -nic/-net/-netdev (and no -nodefaults), the
     * legacy "-net nic -net user": an e1000 on hub 0 with slirp. */
    if (default_nic && (!net_opts || !net_opts->len)) {
        net_init_net_option("nic");
        net_init_net_option("user");
    }
    for (guint i = 0; net_opts && i < net_opts->len; i++) {
        NetOpt *o = g_ptr_array_index(net_opts, i);
        switch (o->kind) {
        case NETOPT_NETDEV:
            if (!net_client_init(o->spec, true, &err)) {
                net_die("netdev", o->spec, err);
            }
            break;
        case NETOPT_NIC:
            net_init_nic_option(o->spec);
            break;
        case NETOPT_NET:
            net_init_net_option(o->spec);
            break;
        }
    }
}

void net_create_nics(void)
{
    Error *err = NULL;

    for (guint i = 0; pending_nics && i < pending_nics->len; i++) {
        PendingNIC *p = g_ptr_array_index(pending_nics, i);
        g_autoptr(GString) s = g_string_new(p->model);

        g_string_append_printf(s, ",netdev=%s", p->netdev);
        if (p->mac) {
            g_string_append_printf(s, ",mac=%s", p->mac);
        }
        if (p->id) {
            g_string_append_printf(s, ",id=%s", p->id);
        }
        if (!qdev_device_add(s->str, &err)) {
            fprintf(stderr, "kvmpc: %s\n", err->message);
            exit(1);
        }
    }
    (void)nic_none;     /* -nic none is an option like any other: it alone turns the default off */
}

void net_print_help(void)
{
    static const char *const lines[][2] = {
        { "-netdev user,id=ID[,net=A/M][,host=A][,dhcpstart=A][,restrict=on|off][,hostfwd=R]"
          "[,guestfwd=R][,tftp=DIR][,bootfile=F][,ipv6=on|off]", "user-mode network (libslirp)" },
        { "-netdev socket,id=ID,listen=[H]:P|connect=H:P", "frames over TCP (QEMU's framing)" },
        { "-netdev tap,id=ID[,ifname=N][,queues=N]|[,fd=FD]|[,fds=FD:FD...][,script=no]"
          "[,downscript=no][,vnet_hdr=on|off]", "a TAP interface (FD: a number, or a getfd "
          "name in netdev_add)" },
        { "-netdev hubport,id=ID,hubid=N[,netdev=ID]", "a port of hub N" },
        { "-nic none|TYPE[,model=e1000|virtio-net-pci][,mac=M][,backend options]",
          "a NIC and its backend" },
        { "-net nic[,model=e1000|virtio][,macaddr=M]|user|socket|tap|none[,...]",
          "legacy form: everything on hub 0" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(lines); i++) {
        if (strlen(lines[i][0]) > 28) {
            printf("%s\n%-30s%s\n", lines[i][0], "", lines[i][1]);
        } else {
            printf("%-30s%s\n", lines[i][0], lines[i][1]);
        }
    }
}

/* ---- info network ----------------------------------------------------- */

static void print_client(GString *out, NetClientState *nc, const char *indent)
{
    g_string_append_printf(out, "%s%s: index=%u,type=%s,%s%s\n", indent, nc->name,
                           nc->queue_index, nc->info->type_name, nc->info_str,
                           nc->link_down ? " (link down)" : "");
}

void net_print_info(GString *out)
{
    for (guint i = 0; net_clients && i < net_clients->len; i++) {
        NetClientState *nc = g_ptr_array_index(net_clients, i);

        if (nc->info->type == NET_CLIENT_DRIVER_HUBPORT ||
            (nc->peer && nc->peer->info->type == NET_CLIENT_DRIVER_HUBPORT) ||
            (nc->info->type != NET_CLIENT_DRIVER_NIC && nc->peer &&
             nc->peer->info->type == NET_CLIENT_DRIVER_NIC)) {
            continue;   /* shown with its hub or its NIC */
        }
        print_client(out, nc, "");
        if (nc->peer) {
            print_client(out, nc->peer, " \\ ");
        }
    }
    /* hubs */
    for (int hub = 0; hub < 256; hub++) {
        bool shown = false;
        for (guint i = 0; net_clients && i < net_clients->len; i++) {
            NetClientState *nc = g_ptr_array_index(net_clients, i);
            if (nc->info->type != NET_CLIENT_DRIVER_HUBPORT || ((NetHubPort *)nc)->hub_id != hub) {
                continue;
            }
            if (!shown) {
                g_string_append_printf(out, "hub %d\n", hub);
                shown = true;
            }
            print_client(out, nc, " \\ ");
            if (nc->peer) {
                print_client(out, nc->peer, "    \\ ");
            }
        }
    }
}

/*
 * Datagram backends (docs/net.md): -netdev dgram (QEMU 7.2's spelling:
 * local.* / remote.* as inet or unix addresses, a multicast remote) and
 * -netdev socket,mcast= / udp=. Each datagram is one Ethernet frame, with
 * no length header (as QEMU). A send that would block queues the frame in
 * the net layer until the socket is writable; reads stop while the NIC's
 * queue is full.
 *
 * Multicast as QEMU: bound to the group's port, joined on localaddr (or
 * any interface), IP_MULTICAST_LOOP on so that emulators on one host hear
 * each other (each also hears itself: its NIC filters by address). A
 * test keeps the traffic on this host with localaddr=127.0.0.1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib-unix.h>
#include "net/net.h"
#include "qemu/option.h"

#define DGRAM_MAX_FRAME (64 * 1024)      /* the largest UDP payload fits */

typedef struct NetDgramState {
    NetClientState nc;
    int fd;
    struct sockaddr_storage dest;
    socklen_t destlen;
    guint read_watch, write_watch;
    bool read_paused;
    uint8_t buf[DGRAM_MAX_FRAME];
} NetDgramState;

static gboolean dgram_readable(gint fd, GIOCondition cond, gpointer opaque);

static void dgram_set_reading(NetDgramState *s, bool on)
{
    if (on && !s->read_watch) {
        s->read_watch = g_unix_fd_add(s->fd, G_IO_IN, dgram_readable, s);
    } else if (!on && s->read_watch) {
        g_source_remove(s->read_watch);
        s->read_watch = 0;
    }
}

static void dgram_sent(NetClientState *nc, ssize_t len)
{
    NetDgramState *s = (NetDgramState *)nc;

    (void)len;
    s->read_paused = false;
    dgram_set_reading(s, true);
}

static gboolean dgram_readable(gint fd, GIOCondition cond, gpointer opaque)
{
    NetDgramState *s = opaque;
    ssize_t n;

    (void)cond;
    n = recv(fd, s->buf, sizeof(s->buf), MSG_DONTWAIT);
    if (n <= 0) {
        return G_SOURCE_CONTINUE;       /* EAGAIN, an empty datagram, or an ICMP error */
    }
    if (qemu_send_packet_async(&s->nc, s->buf, n, dgram_sent) == 0) {
        s->read_paused = true;
        s->read_watch = 0;
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static gboolean dgram_writable(gint fd, GIOCondition cond, gpointer opaque)
{
    NetDgramState *s = opaque;

    (void)fd;
    (void)cond;
    s->write_watch = 0;
    qemu_flush_queued_packets(&s->nc);
    return G_SOURCE_REMOVE;
}

static bool dgram_can_receive(NetClientState *nc)
{
    return !((NetDgramState *)nc)->write_watch;
}

static ssize_t dgram_receive(NetClientState *nc, const uint8_t *buf, size_t len)
{
    NetDgramState *s = (NetDgramState *)nc;
    ssize_t n;

    do {
        n = sendto(s->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&s->dest,
                   s->destlen);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
        s->write_watch = g_unix_fd_add(s->fd, G_IO_OUT, dgram_writable, s);
        return 0;                       /* the net layer keeps it */
    }
    return len;     /* sent, or lost as a datagram may be (no peer yet: ECONNREFUSED) */
}

static void dgram_cleanup(NetClientState *nc)
{
    NetDgramState *s = (NetDgramState *)nc;

    dgram_set_reading(s, false);
    if (s->write_watch) {
        g_source_remove(s->write_watch);
    }
    close(s->fd);
}

static const NetClientInfo dgram_info = {
    .type = NET_CLIENT_DRIVER_SOCKET,
    .type_name = "dgram",
    .size = sizeof(NetDgramState),
    .receive = dgram_receive,
    .can_receive = dgram_can_receive,
    .cleanup = dgram_cleanup,
};

/* "host:port" or host and port -> an IPv4 address (as QEMU's dgram). */
static bool dgram_inet(const char *host, const char *port, struct sockaddr_in *sin, Error **errp)
{
    struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_DGRAM }, *res;
    int rc;

    if (!port || !*port) {
        error_setg(errp, "dgram: a port is missing in '%s'", host ? host : "");
        return false;
    }
    rc = getaddrinfo(host && *host ? host : "0.0.0.0", port, &hints, &res);
    if (rc) {
        error_setg(errp, "address resolution failed for %s:%s: %s", host ? host : "", port,
                   gai_strerror(rc));
        return false;
    }
    memcpy(sin, res->ai_addr, sizeof(*sin));
    freeaddrinfo(res);
    return true;
}

static bool dgram_inet_str(const char *str, struct sockaddr_in *sin, Error **errp)
{
    const char *colon = str ? strrchr(str, ':') : NULL;
    g_autofree char *host = colon ? g_strndup(str, colon - str) : NULL;

    if (!colon) {
        error_setg(errp, "'%s' is not host:port", str ? str : "");
        return false;
    }
    return dgram_inet(host, colon + 1, sin, errp);
}

static NetDgramState *dgram_new(const char *name, NetClientState *peer, int fd,
                                const void *dest, socklen_t destlen, const char *desc)
{
    NetDgramState *s = (NetDgramState *)qemu_new_net_client(&dgram_info, peer, "dgram", name);

    s->fd = fd;
    memcpy(&s->dest, dest, destlen);
    s->destlen = destlen;
    snprintf(s->nc.info_str, sizeof(s->nc.info_str), "%s", desc);
    dgram_set_reading(s, true);
    return s;
}

/* A multicast group: bound to the group's port, joined on local (or any
 * interface when local is NULL). */
static bool dgram_open_mcast(const char *name, NetClientState *peer,
                             const struct sockaddr_in *group, const struct in_addr *local,
                             Error **errp)
{
    struct ip_mreq mreq = { .imr_multiaddr = group->sin_addr };
    struct sockaddr_in bind_addr = *group;
    char desc[128], gs[INET_ADDRSTRLEN];
    int one = 1, fd;

    if (!IN_MULTICAST(ntohl(group->sin_addr.s_addr))) {
        error_setg(errp, "dgram: %s is not a multicast address",
                   inet_ntop(AF_INET, &group->sin_addr, gs, sizeof(gs)));
        return false;
    }
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error_setg_errno(errp, errno, "dgram: cannot create a socket");
        return false;
    }
    mreq.imr_interface.s_addr = local ? local->s_addr : htonl(INADDR_ANY);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, (struct sockaddr *)&bind_addr, sizeof(bind_addr)) < 0 ||
        setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) < 0 ||
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &one, sizeof(one)) < 0 ||
        (local && setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, local, sizeof(*local)) < 0)) {
        error_setg_errno(errp, errno, "dgram: cannot join the multicast group %s:%d",
                         inet_ntop(AF_INET, &group->sin_addr, gs, sizeof(gs)),
                         ntohs(group->sin_port));
        close(fd);
        return false;
    }
    inet_ntop(AF_INET, &group->sin_addr, gs, sizeof(gs));
    snprintf(desc, sizeof(desc), "dgram: mcast=%s:%d", gs, ntohs(group->sin_port));
    dgram_new(name, peer, fd, group, sizeof(*group), desc);
    return true;
}

/* Unicast: bound to local, sending to remote. */
static bool dgram_open_unicast(const char *name, NetClientState *peer, const void *local,
                               socklen_t local_len, const void *remote, socklen_t remote_len,
                               const char *desc, Error **errp)
{
    int family = ((const struct sockaddr *)remote)->sa_family;
    int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1;

    if (fd < 0) {
        error_setg_errno(errp, errno, "dgram: cannot create a socket");
        return false;
    }
    if (family == AF_INET) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    }
    if (local && bind(fd, local, local_len) < 0) {
        error_setg_errno(errp, errno, "dgram: cannot bind the local address of %s", desc);
        close(fd);
        return false;
    }
    dgram_new(name, peer, fd, remote, remote_len, desc);
    return true;
}

bool net_socket_dgram_init(QemuOpts *opts, const char *name, NetClientState *peer,
                           const char *mcast, const char *udp, Error **errp)
{
    const char *localaddr = qemu_opt_get(opts, "localaddr");
    struct sockaddr_in remote, local;

    if (!dgram_inet_str(mcast ? mcast : udp, &remote, errp)) {
        return false;
    }
    if (mcast) {
        struct in_addr ifaddr;
        if (localaddr && inet_pton(AF_INET, localaddr, &ifaddr) != 1) {
            error_setg(errp, "socket: localaddr=%s is not an IPv4 address", localaddr);
            return false;
        }
        return dgram_open_mcast(name, peer, &remote, localaddr ? &ifaddr : NULL, errp);
    }
    if (!localaddr) {
        error_setg(errp, "socket: udp= needs localaddr=host:port");
        return false;
    }
    if (!dgram_inet_str(localaddr, &local, errp)) {
        return false;
    }
    {
        g_autofree char *desc = g_strdup_printf("socket: udp=%s", udp);
        return dgram_open_unicast(name, peer, &local, sizeof(local), &remote, sizeof(remote),
                                  desc, errp);
    }
}

/* local.type/remote.type = inet (host, port) or unix (path). */
static bool dgram_addr(QemuOpts *opts, const char *which, struct sockaddr_storage *ss,
                       socklen_t *len, Error **errp)
{
    g_autofree char *k_type = g_strdup_printf("%s.type", which);
    g_autofree char *k_host = g_strdup_printf("%s.host", which);
    g_autofree char *k_port = g_strdup_printf("%s.port", which);
    g_autofree char *k_path = g_strdup_printf("%s.path", which);
    const char *type = qemu_opt_get(opts, k_type);

    if (!type) {
        error_setg(errp, "Parameter '%s' is missing", k_type);
        return false;
    }
    memset(ss, 0, sizeof(*ss));
    if (!strcmp(type, "inet")) {
        const char *host = qemu_opt_get(opts, k_host);
        const char *port = qemu_opt_get(opts, k_port);
        if (!host) {
            error_setg(errp, "Parameter '%s' is missing", k_host);
            return false;
        }
        *len = sizeof(struct sockaddr_in);
        return dgram_inet(host, port, (struct sockaddr_in *)ss, errp);
    }
    if (!strcmp(type, "unix")) {
        const char *path = qemu_opt_get(opts, k_path);
        struct sockaddr_un *un = (struct sockaddr_un *)ss;
        if (!path) {
            error_setg(errp, "Parameter '%s' is missing", k_path);
            return false;
        }
        if (strlen(path) >= sizeof(un->sun_path)) {
            error_setg(errp, "dgram: UNIX socket path '%s' is too long", path);
            return false;
        }
        un->sun_family = AF_UNIX;
        strcpy(un->sun_path, path);
        *len = sizeof(*un);
        return true;
    }
    error_setg(errp, "dgram: %s=%s is not supported (inet or unix)", k_type, type);
    return false;
}

bool net_init_dgram(QemuOpts *opts, const char *name, NetClientState *peer, Error **errp)
{
    struct sockaddr_storage local, remote;
    socklen_t local_len = 0, remote_len = 0;
    bool has_local = qemu_opt_has(opts, "local.type");
    g_autofree char *desc = NULL;

    if (!qemu_opt_has(opts, "remote.type")) {
        error_setg(errp, "dgram: remote= is required (kvmpc has no local-only dgram)");
        return false;
    }
    if (!dgram_addr(opts, "remote", &remote, &remote_len, errp) ||
        (has_local && !dgram_addr(opts, "local", &local, &local_len, errp))) {
        return false;
    }
    if (remote.ss_family == AF_INET &&
        IN_MULTICAST(ntohl(((struct sockaddr_in *)&remote)->sin_addr.s_addr))) {
        if (has_local && local.ss_family != AF_INET) {
            error_setg(errp, "dgram: a multicast remote needs an inet local address");
            return false;
        }
        return dgram_open_mcast(name, peer, (struct sockaddr_in *)&remote,
                                has_local ? &((struct sockaddr_in *)&local)->sin_addr : NULL,
                                errp);
    }
    if (!has_local) {
        error_setg(errp, "dgram: local= is required with a unicast remote");
        return false;
    }
    if (local.ss_family != remote.ss_family) {
        error_setg(errp, "dgram: local and remote must be the same address type");
        return false;
    }
    if (remote.ss_family == AF_UNIX) {
        desc = g_strdup_printf("dgram: unix %s -> %s",
                 ((struct sockaddr_un *)&local)->sun_path,
                 ((struct sockaddr_un *)&remote)->sun_path);
    } else {
        char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
        desc = g_strdup_printf("dgram: udp %s:%d -> %s:%d",
                 inet_ntop(AF_INET, &((struct sockaddr_in *)&local)->sin_addr, a, sizeof(a)),
                 ntohs(((struct sockaddr_in *)&local)->sin_port),
                 inet_ntop(AF_INET, &((struct sockaddr_in *)&remote)->sin_addr, b, sizeof(b)),
                 ntohs(((struct sockaddr_in *)&remote)->sin_port));
    }
    return dgram_open_unicast(name, peer, &local, local_len, &remote, remote_len, desc, errp);
}

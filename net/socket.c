/*
 * -netdev socket,listen=[host]:port | connect=host:port and -netdev stream
 * (docs/net.md); socket mcast=/udp= are datagrams: net/dgram.c.
 *
 * A TCP stream between two emulators (or a test) carrying Ethernet frames,
 * each preceded by its length as a 4-byte big-endian number, as QEMU's
 * socket backend does.  listen= waits for one peer at a time; a peer that
 * disconnects is replaced by the next one that connects.  Writes never
 * block the main loop: what the socket does not take waits in an output
 * buffer, and meanwhile the backend refuses packets (they queue in the net
 * layer until the buffer drains).  Reads stop while the NIC's queue is
 * full and resume when it drains.
 *
 * -netdev stream (QEMU 7.2's backend) also keeps its link down while no
 * peer is connected and says NETDEV_STREAM_CONNECTED / _DISCONNECTED on
 * QMP, as 7.2 does; a client with reconnect=N (QEMU 8.0's option, in
 * seconds) that loses its server, or cannot reach it at start, tries again
 * every N seconds (a non-blocking connect) and the VM runs meanwhile.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib-unix.h>
#include "net/net.h"
#include "qemu/option.h"
#include "qemu/log.h"
#include "monitor/monitor.h"

#define SOCKET_MAX_FRAME (64 * 1024 + 256)

typedef struct NetSocketState {
    NetClientState nc;
    int listen_fd;
    int fd;
    guint listen_watch, read_watch, write_watch;
    bool read_paused;
    uint8_t hdr[4];
    size_t hdr_have;
    uint32_t frame_len;
    size_t frame_have;
    uint8_t *frame;
    GByteArray *out;
    /* -netdev stream: link state, events, a client's reconnect= */
    bool is_stream;
    bool client;
    unsigned reconnect;         /* seconds; 0: never */
    struct sockaddr_storage addr;   /* a client's server */
    socklen_t addrlen;
    char desc[128];             /* the server's address, for messages */
    guint reconnect_timer, connect_watch;
    int connecting_fd;          /* a non-blocking connect in progress */
} NetSocketState;

static void socket_set_reading(NetSocketState *s, bool on);
static void stream_lost(NetSocketState *s);

static void socket_disconnect(NetSocketState *s)
{
    if (s->fd < 0) {
        return;
    }
    socket_set_reading(s, false);
    if (s->write_watch) {
        g_source_remove(s->write_watch);
        s->write_watch = 0;
    }
    close(s->fd);
    s->fd = -1;
    s->hdr_have = s->frame_have = 0;
    g_byte_array_set_size(s->out, 0);
    snprintf(s->nc.info_str, sizeof(s->nc.info_str), "%s: disconnected", s->nc.info->type_name);
}

static void socket_sent(NetClientState *nc, ssize_t len)
{
    NetSocketState *s = (NetSocketState *)nc;

    (void)len;
    if (s->read_paused) {
        s->read_paused = false;
        socket_set_reading(s, true);
    }
}

/* Parses what arrived; false when the stream is broken. */
static bool socket_parse(NetSocketState *s, const uint8_t *buf, size_t len)
{
    while (len) {
        if (s->hdr_have < 4) {
            size_t n = MIN(4 - s->hdr_have, len);
            memcpy(s->hdr + s->hdr_have, buf, n);
            s->hdr_have += n;
            buf += n;
            len -= n;
            if (s->hdr_have == 4) {
                s->frame_len = (uint32_t)s->hdr[0] << 24 | s->hdr[1] << 16 | s->hdr[2] << 8 |
                               s->hdr[3];
                s->frame_have = 0;
                if (s->frame_len > SOCKET_MAX_FRAME) {
                    qemu_log_mask(LOG_GUEST_ERROR, "socket %s: frame of %u bytes, dropping "
                                  "the connection\n", s->nc.name, s->frame_len);
                    return false;
                }
            }
            continue;
        }
        size_t n = MIN(s->frame_len - s->frame_have, len);
        memcpy(s->frame + s->frame_have, buf, n);
        s->frame_have += n;
        buf += n;
        len -= n;
        if (s->frame_have == s->frame_len) {
            s->hdr_have = 0;
            if (qemu_send_packet_async(&s->nc, s->frame, s->frame_len, socket_sent) == 0) {
                s->read_paused = true;
            }
        }
    }
    return true;
}

static gboolean socket_readable(gint fd, GIOCondition cond, gpointer opaque)
{
    NetSocketState *s = opaque;
    uint8_t buf[4096];
    ssize_t n;

    (void)cond;
    n = read(fd, buf, sizeof(buf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return G_SOURCE_CONTINUE;
    }
    if (n <= 0 || !socket_parse(s, buf, n)) {
        qemu_net_burst_end(&s->nc);
        s->read_watch = 0;
        stream_lost(s);
        return G_SOURCE_REMOVE;
    }
    qemu_net_burst_end(&s->nc);     /* the frames of one read */
    if (s->read_paused) {
        s->read_watch = 0;
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static void socket_set_reading(NetSocketState *s, bool on)
{
    if (on && !s->read_watch && s->fd >= 0) {
        s->read_watch = g_unix_fd_add(s->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, socket_readable, s);
    } else if (!on && s->read_watch) {
        g_source_remove(s->read_watch);
        s->read_watch = 0;
    }
}

static bool socket_flush_out(NetSocketState *s)
{
    while (s->out->len) {
        ssize_t n = send(s->fd, s->out->data, s->out->len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            return true;
        }
        if (n <= 0) {
            return false;
        }
        g_byte_array_remove_range(s->out, 0, n);
    }
    return true;
}

static gboolean socket_writable(gint fd, GIOCondition cond, gpointer opaque)
{
    NetSocketState *s = opaque;

    (void)fd;
    (void)cond;
    if (!socket_flush_out(s)) {
        s->write_watch = 0;
        stream_lost(s);
        return G_SOURCE_REMOVE;
    }
    if (s->out->len) {
        return G_SOURCE_CONTINUE;
    }
    s->write_watch = 0;
    if (s->nc.peer) {
        qemu_flush_queued_packets(&s->nc);
    }
    return G_SOURCE_REMOVE;
}

static bool socket_can_receive(NetClientState *nc)
{
    NetSocketState *s = (NetSocketState *)nc;

    /* Not connected: take and drop (a cable with nobody at the end). */
    return s->fd < 0 || s->out->len == 0;
}

static ssize_t socket_receive(NetClientState *nc, const uint8_t *buf, size_t len)
{
    NetSocketState *s = (NetSocketState *)nc;
    uint8_t hdr[4] = { len >> 24, len >> 16, len >> 8, len };

    if (s->fd < 0) {
        return len;
    }
    g_byte_array_append(s->out, hdr, 4);
    g_byte_array_append(s->out, buf, len);
    if (!socket_flush_out(s)) {
        stream_lost(s);
        return len;
    }
    if (s->out->len && !s->write_watch) {
        s->write_watch = g_unix_fd_add(s->fd, G_IO_OUT, socket_writable, s);
    }
    return len;
}

static void socket_cleanup(NetClientState *nc)
{
    NetSocketState *s = (NetSocketState *)nc;

    socket_disconnect(s);
    if (s->reconnect_timer) {
        g_source_remove(s->reconnect_timer);
    }
    if (s->connect_watch) {
        g_source_remove(s->connect_watch);
    }
    if (s->connecting_fd >= 0) {
        close(s->connecting_fd);
    }
    if (s->listen_watch) {
        g_source_remove(s->listen_watch);
    }
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
    }
    g_byte_array_free(s->out, TRUE);
    g_free(s->frame);
}

static const NetClientInfo socket_info = {
    .type = NET_CLIENT_DRIVER_SOCKET,
    .type_name = "socket",
    .size = sizeof(NetSocketState),
    .receive = socket_receive,
    .can_receive = socket_can_receive,
    .cleanup = socket_cleanup,
    .ends_bursts = true,        /* after the frames of each read */
};

/* -netdev stream: the same, named as QEMU 7.2 names it in info network */
static const NetClientInfo stream_info = {
    .type = NET_CLIENT_DRIVER_SOCKET,
    .type_name = "stream",
    .size = sizeof(NetSocketState),
    .receive = socket_receive,
    .can_receive = socket_can_receive,
    .cleanup = socket_cleanup,
    .ends_bursts = true,        /* after the frames of each read */
};

/* QEMU's SocketAddress of the other end of fd, for NETDEV_STREAM_CONNECTED:
 * {type: inet, host, port (a string), ipv4|ipv6: true} or {type: unix, path}. */
static JsonObject *stream_peer_addr(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    JsonObject *a = json_object_new();

    memset(&ss, 0, sizeof(ss));
    if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0) {
        len = 0;
    }
    if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
        char host[NI_MAXHOST] = "", serv[NI_MAXSERV] = "";
        getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV);
        json_object_set_string_member(a, "type", "inet");
        json_object_set_string_member(a, "host", host);
        json_object_set_string_member(a, "port", serv);
        json_object_set_boolean_member(a, ss.ss_family == AF_INET ? "ipv4" : "ipv6", true);
    } else {
        struct sockaddr_un *un = (struct sockaddr_un *)&ss;
        size_t n = len > offsetof(struct sockaddr_un, sun_path) ?
                   len - offsetof(struct sockaddr_un, sun_path) : 0;
        g_autofree char *path = g_strndup(un->sun_path, MIN(n, sizeof(un->sun_path)));
        json_object_set_string_member(a, "type", "unix");
        json_object_set_string_member(a, "path", path);
    }
    return a;
}

static void socket_connected(NetSocketState *s, int fd, const char *how)
{
    int one = 1;

    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    s->fd = fd;
    s->hdr_have = s->frame_have = 0;
    s->read_paused = false;
    socket_set_reading(s, true);
    snprintf(s->nc.info_str, sizeof(s->nc.info_str), "%s: %s", s->nc.info->type_name, how);
    if (s->is_stream) {
        JsonObject *o = json_object_new();

        s->nc.link_down = false;
        json_object_set_string_member(o, "netdev-id", s->nc.name);
        json_object_set_object_member(o, "addr", stream_peer_addr(fd));
        qmp_event_emit("NETDEV_STREAM_CONNECTED", o);
    }
}

static gboolean stream_reconnect(gpointer opaque);

static void stream_arm_reconnect(NetSocketState *s)
{
    if (s->client && s->reconnect && !s->reconnect_timer && s->fd < 0) {
        s->reconnect_timer = g_timeout_add_seconds(s->reconnect, stream_reconnect, s);
    }
}

/* The peer went away (EOF, an error, a broken stream). */
static void stream_lost(NetSocketState *s)
{
    JsonObject *o;

    socket_disconnect(s);
    if (!s->is_stream) {
        return;
    }
    s->nc.link_down = true;
    o = json_object_new();
    json_object_set_string_member(o, "netdev-id", s->nc.name);
    qmp_event_emit("NETDEV_STREAM_DISCONNECTED", o);
    if (s->client) {
        snprintf(s->nc.info_str, sizeof(s->nc.info_str), "stream: connect to %s (%s)",
                 s->desc, s->reconnect ? "disconnected, reconnecting" : "disconnected");
    }
    stream_arm_reconnect(s);
}

static void stream_connect_failed(NetSocketState *s, int err)
{
    qemu_log_mask(LOG_TRACE, "stream %s: cannot connect to %s: %s (reconnect=%u)\n",
                  s->nc.name, s->desc, strerror(err), s->reconnect);
    close(s->connecting_fd);
    s->connecting_fd = -1;
    snprintf(s->nc.info_str, sizeof(s->nc.info_str), "stream: connect to %s (%s)", s->desc,
             s->reconnect ? "not connected, reconnecting" : "not connected");
    stream_arm_reconnect(s);
}

static void stream_connect_done(NetSocketState *s)
{
    int fd = s->connecting_fd;

    s->connecting_fd = -1;
    socket_connected(s, fd, "connected");
    snprintf(s->nc.info_str, sizeof(s->nc.info_str), "stream: connect to %s", s->desc);
    if (s->nc.peer) {
        qemu_flush_queued_packets(&s->nc);
    }
}

static gboolean stream_connect_ready(gint fd, GIOCondition cond, gpointer opaque)
{
    NetSocketState *s = opaque;
    int err = 0;
    socklen_t len = sizeof(err);

    (void)cond;
    s->connect_watch = 0;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
        err = errno;
    }
    if (err) {
        stream_connect_failed(s, err);
    } else {
        stream_connect_done(s);
    }
    return G_SOURCE_REMOVE;
}

/* One non-blocking connect attempt; its end is seen in stream_connect_ready. */
static void stream_try_connect(NetSocketState *s)
{
    int fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    if (fd < 0) {
        s->connecting_fd = -1;
        stream_arm_reconnect(s);
        return;
    }
    s->connecting_fd = fd;
    if (connect(fd, (struct sockaddr *)&s->addr, s->addrlen) == 0) {
        stream_connect_done(s);
    } else if (errno == EINPROGRESS || errno == EINTR) {
        s->connect_watch = g_unix_fd_add(fd, G_IO_OUT | G_IO_ERR | G_IO_HUP,
                                         stream_connect_ready, s);
    } else {
        stream_connect_failed(s, errno);
    }
}

static gboolean stream_reconnect(gpointer opaque)
{
    NetSocketState *s = opaque;

    s->reconnect_timer = 0;
    if (s->fd < 0 && s->connecting_fd < 0) {
        stream_try_connect(s);
    }
    return G_SOURCE_REMOVE;
}

static gboolean socket_accept(gint lfd, GIOCondition cond, gpointer opaque)
{
    NetSocketState *s = opaque;
    int fd;

    (void)cond;
    fd = accept(lfd, NULL, NULL);
    if (fd < 0) {
        return G_SOURCE_CONTINUE;
    }
    if (s->fd >= 0) {
        close(fd);      /* one peer at a time */
        return G_SOURCE_CONTINUE;
    }
    socket_connected(s, fd, "connection from a peer");
    return G_SOURCE_CONTINUE;
}

static struct addrinfo *socket_resolve(const char *str, bool passive, Error **errp)
{
    const char *colon = strrchr(str, ':');
    g_autofree char *host = NULL;
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC };
    struct addrinfo *res = NULL;
    int rc;

    if (!colon || !colon[1]) {
        error_setg(errp, "host address '%s' doesn't contain ':' separating host from port",
                   str);
        return NULL;
    }
    host = g_strndup(str, colon - str);
    if (passive) {
        hints.ai_flags = AI_PASSIVE;
    }
    rc = getaddrinfo(*host ? host : (passive ? NULL : "127.0.0.1"), colon + 1, &hints, &res);
    if (rc) {
        error_setg(errp, "address resolution failed for %s: %s", str, gai_strerror(rc));
        return NULL;
    }
    return res;
}

/*
 * A stream backend on the socket address sa: listening (server) or
 * connected; desc names the address in messages and info network.
 */
static bool socket_open_stream(const char *name, NetClientState *peer, const char *type_name,
                               const struct sockaddr *sa, socklen_t salen, bool server,
                               const char *desc, unsigned reconnect, Error **errp)
{
    NetSocketState *s;
    bool is_stream = !strcmp(type_name, "stream");
    int fd;

    if (is_stream && !server) {
        /* QEMU 7.2: a stream client connects in the background (a server
         * that is not there does not stop the VM; the link stays down);
         * with reconnect= also after each failure or loss */
        s = (NetSocketState *)qemu_new_net_client(is_stream ? &stream_info : &socket_info, peer,
                                                   type_name, name);
        s->listen_fd = s->fd = s->connecting_fd = -1;
        s->out = g_byte_array_new();
        s->frame = g_malloc(SOCKET_MAX_FRAME);
        s->is_stream = s->client = true;
        s->nc.link_down = true;
        s->reconnect = reconnect;
        memcpy(&s->addr, sa, MIN(salen, sizeof(s->addr)));
        s->addrlen = MIN(salen, sizeof(s->addr));
        g_strlcpy(s->desc, desc, sizeof(s->desc));
        snprintf(s->nc.info_str, sizeof(s->nc.info_str), "stream: connect to %s (%s)", desc,
                 "connecting");
        stream_try_connect(s);
        return true;
    }
    fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error_setg_errno(errp, errno, "%s: cannot create a socket", type_name);
        return false;
    }
    if (server) {
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, sa, salen) < 0 || listen(fd, 1) < 0) {
            error_setg_errno(errp, errno, "%s: cannot listen on %s", type_name, desc);
            close(fd);
            return false;
        }
    } else if (connect(fd, sa, salen) < 0) {
        error_setg_errno(errp, errno, "%s: cannot connect to %s", type_name, desc);
        close(fd);
        return false;
    }
    s = (NetSocketState *)qemu_new_net_client(is_stream ? &stream_info : &socket_info, peer,
                                                   type_name, name);
    s->listen_fd = -1;
    s->fd = -1;
    s->connecting_fd = -1;
    s->out = g_byte_array_new();
    s->frame = g_malloc(SOCKET_MAX_FRAME);
    s->is_stream = is_stream;
    s->client = !server;
    g_strlcpy(s->desc, desc, sizeof(s->desc));
    if (server) {
        s->nc.link_down = is_stream;    /* QEMU: down until a client comes */
        s->listen_fd = fd;
        s->listen_watch = g_unix_fd_add(fd, G_IO_IN, socket_accept, s);
        snprintf(s->nc.info_str, sizeof(s->nc.info_str), "%s: wait from %s", type_name, desc);
    } else {
        socket_connected(s, fd, "connected");
        snprintf(s->nc.info_str, sizeof(s->nc.info_str), "%s: connect to %s", type_name, desc);
    }
    return true;
}

bool net_init_socket(QemuOpts *opts, const char *name, NetClientState *peer, Error **errp)
{
    const char *listen_addr = qemu_opt_get(opts, "listen");
    const char *connect_addr = qemu_opt_get(opts, "connect");
    const char *mcast = qemu_opt_get(opts, "mcast");
    const char *udp = qemu_opt_get(opts, "udp");
    struct addrinfo *ai;
    bool ok;

    if (qemu_opt_has(opts, "fd")) {
        error_setg(errp, "socket: fd= is not supported");
        return false;
    }
    if (!!listen_addr + !!connect_addr + !!mcast + !!udp != 1) {
        error_setg(errp, "exactly one of listen=, connect=, mcast= or udp= is required");
        return false;
    }
    if (mcast || udp) {
        return net_socket_dgram_init(opts, name, peer, mcast, udp, errp);
    }
    if (qemu_opt_has(opts, "localaddr")) {
        error_setg(errp, "localaddr= is only valid with mcast= or udp=");
        return false;
    }
    ai = socket_resolve(listen_addr ? listen_addr : connect_addr, listen_addr, errp);
    if (!ai) {
        return false;
    }
    ok = socket_open_stream(name, peer, "socket", ai->ai_addr, ai->ai_addrlen, listen_addr,
                            listen_addr ? listen_addr : connect_addr, 0, errp);
    freeaddrinfo(ai);
    return ok;
}

/* -netdev stream,server=on|off,addr.type=inet,addr.host=H,addr.port=P
 * | addr.type=unix,addr.path=PATH (QEMU 7.2's spelling; the same framing
 * as -netdev socket). */
bool net_init_stream(QemuOpts *opts, const char *name, NetClientState *peer, Error **errp)
{
    const char *type = qemu_opt_get(opts, "addr.type");
    bool server = false;
    uint64_t reconnect = 0;

    if (!qemu_opt_get_bool(opts, "server", false, &server, errp) ||
        !qemu_opt_get_number(opts, "reconnect", 0, &reconnect, errp)) {
        return false;
    }
    if (reconnect > UINT32_MAX) {
        error_setg(errp, "Parameter 'reconnect' expects uint32_t");
        return false;
    }
    if (reconnect && server) {
        /* QEMU 8.0's message */
        error_setg(errp, "'reconnect' option is incompatible with socket in server mode");
        return false;
    }
    if (!type) {
        error_setg(errp, "Parameter 'addr.type' is missing");
        return false;
    }
    if (!strcmp(type, "inet")) {
        const char *host = qemu_opt_get(opts, "addr.host");
        const char *port = qemu_opt_get(opts, "addr.port");
        g_autofree char *hp = NULL;
        struct addrinfo *ai;
        bool ok;

        if (!host || !port) {
            error_setg(errp, "Parameter 'addr.%s' is missing", host ? "port" : "host");
            return false;
        }
        hp = g_strdup_printf("%s:%s", host, port);
        if (!(ai = socket_resolve(hp, server, errp))) {
            return false;
        }
        ok = socket_open_stream(name, peer, "stream", ai->ai_addr, ai->ai_addrlen, server, hp,
                                reconnect, errp);
        freeaddrinfo(ai);
        return ok;
    }
    if (!strcmp(type, "unix")) {
        const char *path = qemu_opt_get(opts, "addr.path");
        struct sockaddr_un un = { .sun_family = AF_UNIX };

        if (!path) {
            error_setg(errp, "Parameter 'addr.path' is missing");
            return false;
        }
        if (strlen(path) >= sizeof(un.sun_path)) {
            error_setg(errp, "stream: UNIX socket path '%s' is too long", path);
            return false;
        }
        strcpy(un.sun_path, path);
        return socket_open_stream(name, peer, "stream", (struct sockaddr *)&un, sizeof(un), server,
                                  path, reconnect, errp);
    }
    error_setg(errp, "stream: addr.type=%s is not supported (inet or unix)", type);
    return false;
}

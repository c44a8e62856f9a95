/*
 * -chardev socket,id=ID,path=PATH[,server=on|off][,wait=on|off][,reconnect=SECS|reconnect-ms=MS]
 * -chardev socket,id=ID,host=HOST,port=PORT[,server=on|off][,wait=on|off]
 *          [,nodelay=on|off][,ipv4=on|off][,ipv6=on|off][,reconnect=SECS|reconnect-ms=MS]
 *
 * A server listens and serves one client at a time: while a client is
 * connected the listener is not polled (later clients wait in the backlog)
 * and it is polled again when the client leaves.  wait=on (the default for
 * a server) blocks in open until the first client connects.  A client
 * connects in open; with reconnect=N (or reconnect-ms=M) it retries every
 * N seconds (M ms), before the first connection and after losing it.
 * Output with no peer is dropped.  OPENED/CLOSED follow the connection.
 */
#define _GNU_SOURCE     /* accept4 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib-unix.h>
#include "chardev/char-internal.h"

#define SOCKET_MAX_FDS 16

typedef struct SocketChardev {
    Chardev parent;
    bool is_unix;
    bool is_listen;
    bool nodelay;
    int family;                 /* AF_UNSPEC, or AF_INET/AF_INET6 from ipv4=/ipv6= */
    char *path;                 /* unix */
    char *host;                 /* inet, as given */
    char *port;                 /* inet; the bound port once listening */
    uint64_t reconnect_ms;      /* client: retry period, 0 = never */

    int listen_fd;
    guint accept_watch;
    int fd;                     /* the connection, or -1 */
    GSource *in_watch;
    guint hup_watch;
    guint reconnect_timer;
    int msgfds[SOCKET_MAX_FDS]; /* passed with the last input (SCM_RIGHTS) */
    int nmsgfds;
} SocketChardev;

static void socket_disconnect(SocketChardev *s);

/* Addresses */

static bool socket_unix_addr(const char *path, struct sockaddr_un *sun, Error **errp)
{
    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun->sun_path)) {
        error_setg(errp, "UNIX socket path '%s' is too long", path);
        return false;
    }
    strcpy(sun->sun_path, path);
    return true;
}

static struct addrinfo *socket_inet_resolve(SocketChardev *s, bool passive, Error **errp)
{
    struct addrinfo hints = {
        .ai_family = s->family,
        .ai_socktype = SOCK_STREAM,
        .ai_flags = passive ? AI_PASSIVE : 0,
    };
    struct addrinfo *res = NULL;
    const char *host = s->host;
    int rc;

    if (!*host) {
        host = passive ? NULL : "localhost";
    }
    rc = getaddrinfo(host, s->port, &hints, &res);
    if (rc != 0) {
        error_setg(errp, "address resolution failed for %s:%s: %s",
                   s->host, s->port, gai_strerror(rc));
        return NULL;
    }
    return res;
}

static char *socket_addr_string(const struct sockaddr *sa, socklen_t len)
{
    char host[NI_MAXHOST], serv[NI_MAXSERV];

    if (getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        return g_strdup("?");
    }
    if (sa->sa_family == AF_INET6) {
        return g_strdup_printf("[%s]:%s", host, serv);
    }
    return g_strdup_printf("%s:%s", host, serv);
}

/* query-chardev's filename, as QEMU spells it. */
static char *socket_describe(Chardev *chr)
{
    SocketChardev *s = (SocketChardev *)chr;
    const char *server = s->is_listen ? ",server=on" : "";

    if (s->fd >= 0 && !s->is_unix) {
        struct sockaddr_storage local, peer;
        socklen_t llen = sizeof(local), plen = sizeof(peer);
        g_autofree char *l = NULL, *p = NULL;

        getsockname(s->fd, (struct sockaddr *)&local, &llen);
        getpeername(s->fd, (struct sockaddr *)&peer, &plen);
        l = socket_addr_string((struct sockaddr *)&local, llen);
        p = socket_addr_string((struct sockaddr *)&peer, plen);
        return g_strdup_printf("tcp:%s%s <-> %s", l, server, p);
    }
    if (s->is_unix) {
        return g_strdup_printf("%sunix:%s%s", s->fd >= 0 ? "" : "disconnected:",
                               s->path, server);
    }
    return g_strdup_printf("disconnected:tcp:%s:%s%s", s->host, s->port, server);
}

/* The connection */

static void socket_drop_msgfds(SocketChardev *s)
{
    for (int i = 0; i < s->nmsgfds; i++) {
        close(s->msgfds[i]);
    }
    s->nmsgfds = 0;
}

/* chr_fd_read_deliver() for unix sockets: fds passed with SCM_RIGHTS
 * replace those of the previous input, for qemu_chr_fe_get_msgfd(). */
static int socket_read_deliver(SocketChardev *s)
{
    Chardev *chr = &s->parent;
    uint8_t buf[CHR_READ_BUF_LEN];
    union {
        struct cmsghdr hdr;
        char space[CMSG_SPACE(sizeof(int) * SOCKET_MAX_FDS)];
    } ctl;
    struct iovec iov = { .iov_base = buf };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                          .msg_control = &ctl, .msg_controllen = sizeof(ctl) };
    int avail = qemu_chr_be_can_write(chr);
    ssize_t n;

    if (!s->is_unix) {
        return chr_fd_read_deliver(chr, s->fd);
    }
    if (avail <= 0) {
        errno = EAGAIN;
        return -1;
    }
    iov.iov_len = MIN((size_t)avail, sizeof(buf));
    do {
        n = recvmsg(s->fd, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        return n;
    }
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        int nfds;
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
            continue;
        }
        socket_drop_msgfds(s);
        nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        memcpy(s->msgfds, CMSG_DATA(c), MIN(nfds, SOCKET_MAX_FDS) * sizeof(int));
        s->nmsgfds = MIN(nfds, SOCKET_MAX_FDS);
    }
    qemu_chr_be_write(chr, buf, n);
    return n;
}

static int socket_get_msgfd(Chardev *chr)
{
    SocketChardev *s = (SocketChardev *)chr;
    int fd;

    if (!s->nmsgfds) {
        return -1;
    }
    fd = s->msgfds[0];
    memmove(s->msgfds, s->msgfds + 1, --s->nmsgfds * sizeof(int));
    return fd;
}

static gboolean socket_in_ready(Chardev *chr, GIOCondition cond)
{
    SocketChardev *s = (SocketChardev *)chr;
    int n = socket_read_deliver(s);

    if (n > 0 || (n < 0 && errno == EAGAIN)) {
        return G_SOURCE_CONTINUE;
    }
    socket_disconnect(s);       /* EOF or error; removes this watch */
    return G_SOURCE_REMOVE;
}

/* A hang-up seen even while the frontend takes no input (lower priority
 * than input, so pending data is read first when it can be). */
static gboolean socket_hup(int fd, GIOCondition cond, gpointer opaque)
{
    SocketChardev *s = opaque;

    s->hup_watch = 0;
    socket_disconnect(s);
    return G_SOURCE_REMOVE;
}

static void socket_set_connection(SocketChardev *s, int fd)
{
    Chardev *chr = &s->parent;
    int one = 1;

    g_unix_set_fd_nonblocking(fd, TRUE, NULL);
    if (!s->is_unix && s->nodelay) {
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    g_mutex_lock(&chr->write_lock);
    s->fd = fd;
    g_mutex_unlock(&chr->write_lock);
    qemu_chr_update_filename(chr);
    s->in_watch = chr_fd_watch_add(chr, fd, G_PRIORITY_DEFAULT, socket_in_ready);
    s->hup_watch = g_unix_fd_add_full(G_PRIORITY_DEFAULT + 1, fd, G_IO_HUP | G_IO_ERR,
                                      socket_hup, s, NULL);
}

/* Closes the connection (the caller tells the frontend). */
static void socket_drop_connection(SocketChardev *s)
{
    Chardev *chr = &s->parent;
    int fd;

    chr_watch_remove(&s->in_watch);
    socket_drop_msgfds(s);
    if (s->hup_watch) {
        g_source_remove(s->hup_watch);
        s->hup_watch = 0;
    }
    g_mutex_lock(&chr->write_lock);
    fd = s->fd;
    s->fd = -1;
    g_mutex_unlock(&chr->write_lock);
    if (fd >= 0) {
        close(fd);
    }
}

/* Server */

static gboolean socket_accept(int listen_fd, GIOCondition cond, gpointer opaque);

static void socket_listen_resume(SocketChardev *s)
{
    if (!s->accept_watch) {
        s->accept_watch = g_unix_fd_add(s->listen_fd, G_IO_IN, socket_accept, s);
    }
}

static bool socket_accept_one(SocketChardev *s)
{
    int fd;

    do {
        fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        return false;
    }
    socket_set_connection(s, fd);
    return true;
}

static gboolean socket_accept(int listen_fd, GIOCondition cond, gpointer opaque)
{
    SocketChardev *s = opaque;

    if (!socket_accept_one(s)) {
        return G_SOURCE_CONTINUE;   /* EAGAIN: the client gave up already */
    }
    s->accept_watch = 0;            /* one client at a time */
    qemu_chr_be_event(&s->parent, CHR_EVENT_OPENED);
    return G_SOURCE_REMOVE;
}

static int socket_listen_unix(SocketChardev *s, Error **errp)
{
    struct sockaddr_un sun;
    struct stat st;
    int fd;

    if (!socket_unix_addr(s->path, &sun, errp)) {
        return -1;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Failed to create Unix socket");
        return -1;
    }
    /* A stale socket from an earlier run is replaced, as QEMU does. */
    if (lstat(s->path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        unlink(s->path);
    }
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        error_setg_errno(errp, errno, "Failed to bind socket to %s", s->path);
        close(fd);
        return -1;
    }
    return fd;
}

static int socket_listen_inet(SocketChardev *s, Error **errp)
{
    struct addrinfo *res = socket_inet_resolve(s, true, errp), *ai;
    int fd = -1, saved_errno = 0, one = 1, zero = 0;

    if (!res) {
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            saved_errno = errno;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (ai->ai_family == AF_INET6) {
            /* "::" serves IPv4 too unless ipv6=on asked for IPv6 only. */
            int v6only = s->family == AF_INET6;
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, v6only ? &one : &zero, sizeof(int));
        }
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            break;
        }
        saved_errno = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        error_setg_errno(errp, saved_errno, "Failed to bind socket to %s:%s", s->host, s->port);
        return -1;
    }
    return fd;
}

/* Records the port the kernel picked for port=0. */
static void socket_update_port(SocketChardev *s)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char serv[NI_MAXSERV];

    if (getsockname(s->listen_fd, (struct sockaddr *)&ss, &len) == 0 &&
        getnameinfo((struct sockaddr *)&ss, len, NULL, 0, serv, sizeof(serv),
                    NI_NUMERICSERV) == 0) {
        g_free(s->port);
        s->port = g_strdup(serv);
    }
}

static volatile sig_atomic_t socket_wait_signal;

static void socket_wait_on_signal(int sig)
{
    socket_wait_signal = sig;
}

/*
 * wait=on: block until the first client connects.  The main loop is not
 * running yet, so SIGINT/SIGTERM/SIGHUP are caught here for the duration
 * and end the wait with an error (the caller exits, cleaning up).
 */
static bool socket_wait_client(SocketChardev *s, Error **errp)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
    struct sigaction sa = { .sa_handler = socket_wait_on_signal }, old[G_N_ELEMENTS(sigs)];
    bool ok = false;

    sigemptyset(&sa.sa_mask);
    socket_wait_signal = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(sigs); i++) {
        sigaction(sigs[i], &sa, &old[i]);
    }
    while (!socket_wait_signal) {
        struct pollfd pfd = { .fd = s->listen_fd, .events = POLLIN };
        /* The timeout covers a signal landing just before poll(). */
        if (poll(&pfd, 1, 500) < 0) {
            if (errno == EINTR) {
                continue;
            }
            error_setg_errno(errp, errno, "Failed to wait for a connection");
            break;
        }
        if (socket_accept_one(s)) {
            ok = true;
            break;
        }
    }
    if (socket_wait_signal) {
        error_setg(errp, "terminating on signal %d while waiting for a connection",
                   (int)socket_wait_signal);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(sigs); i++) {
        sigaction(sigs[i], &old[i], NULL);
    }
    return ok && !socket_wait_signal;
}

static bool socket_open_server(SocketChardev *s, bool wait, bool *be_opened, Error **errp)
{
    Chardev *chr = &s->parent;

    s->listen_fd = s->is_unix ? socket_listen_unix(s, errp) : socket_listen_inet(s, errp);
    if (s->listen_fd < 0) {
        return false;
    }
    if (listen(s->listen_fd, 1) < 0) {
        error_setg_errno(errp, errno, "Failed to listen on socket");
        return false;
    }
    if (!s->is_unix) {
        socket_update_port(s);
    }
    g_unix_set_fd_nonblocking(s->listen_fd, TRUE, NULL);
    qemu_chr_update_filename(chr);
    *be_opened = false;
    if (wait) {
        info_report("QEMU waiting for connection on: %s", chr->filename);
        if (!socket_wait_client(s, errp)) {
            return false;
        }
        *be_opened = true;
        return true;
    }
    socket_listen_resume(s);
    return true;
}

/* Client */

/* Reconnects run in the main loop: a connect there gives up after this. */
#define SOCKET_RECONNECT_TIMEOUT_MS 1000

/* connect(2) bounded by timeout_ms when it is not 0 (SO_SNDTIMEO bounds
 * connect on Linux). */
static int socket_connect_bounded(int fd, const struct sockaddr *sa, socklen_t len,
                                  int timeout_ms)
{
    struct timeval tv = { .tv_sec = timeout_ms / 1000,
                          .tv_usec = (timeout_ms % 1000) * 1000 };
    struct timeval none = { 0 };
    int ret;

    if (timeout_ms) {
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    }
    ret = connect(fd, sa, len);
    if (timeout_ms) {
        int saved_errno = errno;
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof(none));
        errno = saved_errno;
    }
    return ret;
}

static int socket_connect(SocketChardev *s, int timeout_ms, Error **errp)
{
    int fd = -1, saved_errno = 0;

    if (s->is_unix) {
        struct sockaddr_un sun;
        if (!socket_unix_addr(s->path, &sun, errp)) {
            return -1;
        }
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && socket_connect_bounded(fd, (struct sockaddr *)&sun, sizeof(sun),
                                              timeout_ms) < 0) {
            saved_errno = errno;
            close(fd);
            fd = -1;
        }
        if (fd < 0) {
            error_setg_errno(errp, saved_errno ? saved_errno : errno,
                             "Failed to connect to '%s'", s->path);
        }
        return fd;
    }

    struct addrinfo *res = socket_inet_resolve(s, false, errp), *ai;
    if (!res) {
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd >= 0 && socket_connect_bounded(fd, ai->ai_addr, ai->ai_addrlen, timeout_ms) == 0) {
            break;
        }
        saved_errno = errno;
        if (fd >= 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        error_setg_errno(errp, saved_errno, "Failed to connect to '%s:%s'", s->host, s->port);
    }
    return fd;
}

static gboolean socket_reconnect(gpointer opaque)
{
    SocketChardev *s = opaque;
    int fd = socket_connect(s, SOCKET_RECONNECT_TIMEOUT_MS, NULL);

    if (fd < 0) {
        return G_SOURCE_CONTINUE;
    }
    s->reconnect_timer = 0;
    socket_set_connection(s, fd);
    qemu_chr_be_event(&s->parent, CHR_EVENT_OPENED);
    return G_SOURCE_REMOVE;
}

static void socket_reconnect_later(SocketChardev *s)
{
    if (s->reconnect_ms && !s->reconnect_timer) {
        s->reconnect_timer = g_timeout_add(s->reconnect_ms, socket_reconnect, s);
    }
}

static bool socket_open_client(SocketChardev *s, bool *be_opened, Error **errp)
{
    Error *err = NULL;
    int fd = socket_connect(s, 0, &err);

    if (fd < 0) {
        if (!s->reconnect_ms) {
            error_propagate(errp, err);
            return false;
        }
        g_error_free(err);
        *be_opened = false;
        qemu_chr_update_filename(&s->parent);
        socket_reconnect_later(s);
        return true;
    }
    socket_set_connection(s, fd);
    return true;
}

/* The peer left (or the socket failed). */
static void socket_disconnect(SocketChardev *s)
{
    if (s->fd < 0) {
        return;
    }
    socket_drop_connection(s);
    qemu_chr_update_filename(&s->parent);
    if (s->is_listen) {
        socket_listen_resume(s);
    } else {
        socket_reconnect_later(s);
    }
    qemu_chr_be_event(&s->parent, CHR_EVENT_CLOSED);
}

/* Options */

static bool socket_parse(SocketChardev *s, QemuOpts *opts, bool *wait, Error **errp)
{
    const char *path = qemu_opt_get(opts, "path");
    const char *host = qemu_opt_get(opts, "host");
    const char *port = qemu_opt_get(opts, "port");
    bool has_wait = qemu_opt_has(opts, "wait");
    bool has_reconnect = qemu_opt_has(opts, "reconnect") || qemu_opt_has(opts, "reconnect-ms");
    bool telnet, delay, ipv4, ipv6;
    uint64_t reconnect_s = 0;

    if (!qemu_opt_get_bool(opts, "server", false, &s->is_listen, errp) ||
        !qemu_opt_get_bool(opts, "wait", true, wait, errp) ||
        !qemu_opt_get_bool(opts, "telnet", false, &telnet, errp) ||
        !qemu_opt_get_bool(opts, "delay", true, &delay, errp) ||
        !qemu_opt_get_bool(opts, "nodelay", !delay, &s->nodelay, errp) ||
        !qemu_opt_get_bool(opts, "ipv4", false, &ipv4, errp) ||
        !qemu_opt_get_bool(opts, "ipv6", false, &ipv6, errp) ||
        !qemu_opt_get_number(opts, "reconnect", 0, &reconnect_s, errp) ||
        !qemu_opt_get_number(opts, "reconnect-ms", reconnect_s * 1000, &s->reconnect_ms, errp) ||
        !qemu_opts_check_unused(opts, errp)) {
        return false;
    }
    if (telnet) {
        error_setg(errp, "telnet=on is not supported");
        return false;
    }
    if (!s->is_listen && has_wait) {
        error_setg(errp, "'wait' option is incompatible with socket in client connect mode");
        return false;
    }
    if (s->is_listen && has_reconnect) {
        error_setg(errp, "'reconnect' option is incompatible with socket in server listen mode");
        return false;
    }
    if (path) {
        if (host || port) {
            error_setg(errp, "'path' and 'host'/'port' are mutually exclusive");
            return false;
        }
        s->is_unix = true;
        s->path = g_strdup(path);
        return true;
    }
    if (!host) {
        error_setg(errp, "chardev: socket: no host given");
        return false;
    }
    if (!port) {
        error_setg(errp, "chardev: socket: no port given");
        return false;
    }
    s->family = ipv4 && !ipv6 ? AF_INET : ipv6 && !ipv4 ? AF_INET6 : AF_UNSPEC;
    s->host = g_strdup(host);
    s->port = g_strdup(port);
    return true;
}

static bool socket_open(Chardev *chr, QemuOpts *opts, bool *be_opened, Error **errp)
{
    SocketChardev *s = (SocketChardev *)chr;
    bool wait;

    s->fd = s->listen_fd = -1;
    if (!socket_parse(s, opts, &wait, errp)) {
        goto fail;
    }
    if (s->is_listen ? socket_open_server(s, wait, be_opened, errp)
                     : socket_open_client(s, be_opened, errp)) {
        return true;
    }
fail:
    chr->klass->close(chr);
    return false;
}

static int socket_write(Chardev *chr, const uint8_t *buf, int len)
{
    SocketChardev *s = (SocketChardev *)chr;
    ssize_t n;

    if (s->fd < 0) {
        return len;     /* no peer: dropped */
    }
    do {
        n = send(s->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno != EAGAIN) {
        return len;     /* peer gone: the input side notices and disconnects */
    }
    return n;
}

static int socket_get_out_fd(Chardev *chr)
{
    return ((SocketChardev *)chr)->fd;
}

static void socket_close(Chardev *chr)
{
    SocketChardev *s = (SocketChardev *)chr;

    socket_drop_connection(s);
    if (s->accept_watch) {
        g_source_remove(s->accept_watch);
    }
    if (s->reconnect_timer) {
        g_source_remove(s->reconnect_timer);
    }
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
        if (s->is_unix) {
            unlink(s->path);
        }
    }
    g_free(s->path);
    g_free(s->host);
    g_free(s->port);
}

static const ChardevClass socket_class = {
    .name = "socket",
    .instance_size = sizeof(SocketChardev),
    .open = socket_open,
    .write = socket_write,
    .close = socket_close,
    .describe = socket_describe,
    .get_msgfd = socket_get_msgfd,
    .get_out_fd = socket_get_out_fd,
};
CHARDEV_CLASS_REGISTER(socket_class)

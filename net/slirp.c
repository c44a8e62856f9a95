/*
 * -netdev user: user-mode networking over libslirp (docs/net.md).
 *
 * libslirp is the TCP/IP stack: it answers DHCP, ARP, DNS and TFTP for the
 * virtual network (10.0.2.0/24 by default, the host at .2, DHCP from .15),
 * and turns the guest's TCP/UDP connections into host sockets.  Its
 * sockets are polled through a GSource in the main loop: prepare() asks
 * slirp_pollfds_fill() for the fds and the timeout, dispatch() hands the
 * results to slirp_pollfds_poll(); its timers are virtual-clock timers, as
 * in QEMU.
 *
 * Options: net=addr[/mask], host=, dhcpstart=, dns=, restrict=on|off,
 * ipv4=on|off, ipv6=on|off, ipv6-net=, ipv6-host=, hostname=, domainname=,
 * tftp=, tftp-server-name=, bootfile=, hostfwd= (repeatable),
 * guestfwd=tcp:addr:port-cmd:command or tcp:addr:port-CHARDEV (a legacy
 * chardev spec: tcp:HOST:PORT, unix:PATH,..., file:...; repeatable).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <slirp/libslirp.h>
#include "chardev/char.h"
#include "net/net.h"
#include "qemu/option.h"
#include "qemu/log.h"
#include "system/main-loop.h"

typedef struct SlirpSource SlirpSource;

typedef struct SlirpState {
    NetClientState nc;
    Slirp *slirp;
    SlirpSource *src;
    GArray *hostfwds;           /* SlirpHostFwd, for removal */
    GPtrArray *guestfwds;       /* SlirpGuestFwd: the chardev form */
} SlirpState;

/* guestfwd=tcp:[addr]:port-CHARDEV: the guest's connections to addr:port
 * meet a chardev made from the legacy spec (tcp:, unix:, file:...). */
typedef struct SlirpGuestFwd {
    CharBackend hd;
    Slirp *slirp;
    struct in_addr addr;
    int port;
} SlirpGuestFwd;

typedef struct SlirpHostFwd {
    int is_udp;
    struct in_addr host_addr;
    int host_port;
} SlirpHostFwd;

/*
 * One host socket libslirp asked to poll.  The GPollFD stays registered
 * with the GSource (g_source_add_poll) for as long as libslirp keeps
 * asking for that fd: every prepare only rewrites its `events`, which
 * GLib reads again before each poll.  Adding or removing a poll record
 * wakes the context (GLib writes its eventfd), so re-registering the fds
 * on every prepare made every poll return at once: the main loop spun,
 * taking the big lock from the vCPU thread each time (docs/net.md).
 * For the same reason the source may recurse (see net_init_user).
 */
typedef struct SlirpPollFd {
    GPollFD pfd;
    bool used;                  /* asked for by the current prepare */
} SlirpPollFd;

struct SlirpSource {
    GSource source;
    SlirpState *s;
    GHashTable *byfd;           /* fd -> SlirpPollFd *, registered with source */
    GPtrArray *polled;          /* SlirpPollFd *, in this prepare's order (idx) */
};

/* ---- the callbacks libslirp calls ------------------------------------- */

static ssize_t net_slirp_send_packet(const void *buf, size_t len, void *opaque)
{
    SlirpState *s = opaque;

    qemu_send_packet(&s->nc, buf, len);
    return len;
}

static void net_slirp_guest_error(const char *msg, void *opaque)
{
    SlirpState *s = opaque;

    qemu_log_mask(LOG_GUEST_ERROR, "slirp %s: %s\n", s->nc.name, msg);
}

static int64_t net_slirp_clock_get_ns(void *opaque)
{
    (void)opaque;
    return qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
}

typedef struct SlirpTimer {
    QEMUTimer *t;
    SlirpTimerCb cb;
    void *cb_opaque;
    SlirpState *s;
} SlirpTimer;

static void net_slirp_timer_fire(void *opaque)
{
    SlirpTimer *st = opaque;

    st->cb(st->cb_opaque);
    qemu_net_burst_end(&st->s->nc);
}

static void *net_slirp_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    SlirpTimer *st = g_new0(SlirpTimer, 1);

    st->s = opaque;
    st->cb = cb;
    st->cb_opaque = cb_opaque;
    st->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, net_slirp_timer_fire, st);
    return st;
}

static void net_slirp_timer_free(void *timer, void *opaque)
{
    SlirpTimer *st = timer;

    (void)opaque;
    timer_free(st->t);
    g_free(st);
}

static void net_slirp_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    SlirpTimer *st = timer;

    (void)opaque;
    timer_mod(st->t, expire_ms * SCALE_MS);
}

static void net_slirp_register_poll_fd(int fd, void *opaque)
{
    (void)fd;
    (void)opaque;
}

static void net_slirp_unregister_poll_fd(int fd, void *opaque)
{
    (void)fd;
    (void)opaque;
}

static void net_slirp_notify(void *opaque)
{
    (void)opaque;
    main_loop_notify();
}

static const SlirpCb slirp_cb = {
    .send_packet = net_slirp_send_packet,
    .guest_error = net_slirp_guest_error,
    .clock_get_ns = net_slirp_clock_get_ns,
    .timer_new = net_slirp_timer_new,
    .timer_free = net_slirp_timer_free,
    .timer_mod = net_slirp_timer_mod,
    .register_poll_fd = net_slirp_register_poll_fd,
    .unregister_poll_fd = net_slirp_unregister_poll_fd,
    .notify = net_slirp_notify,
};

/* ---- polling through the GLib main loop ------------------------------- */

static int slirp_events_to_g(int ev)
{
    return (ev & SLIRP_POLL_IN ? G_IO_IN : 0) | (ev & SLIRP_POLL_OUT ? G_IO_OUT : 0) |
           (ev & SLIRP_POLL_PRI ? G_IO_PRI : 0) | (ev & SLIRP_POLL_ERR ? G_IO_ERR : 0) |
           (ev & SLIRP_POLL_HUP ? G_IO_HUP : 0);
}

static int slirp_events_from_g(int ev)
{
    return (ev & G_IO_IN ? SLIRP_POLL_IN : 0) | (ev & G_IO_OUT ? SLIRP_POLL_OUT : 0) |
           (ev & G_IO_PRI ? SLIRP_POLL_PRI : 0) | (ev & G_IO_ERR ? SLIRP_POLL_ERR : 0) |
           (ev & G_IO_HUP ? SLIRP_POLL_HUP : 0);
}

static int slirp_add_poll_cb(int fd, int events, void *opaque)
{
    SlirpSource *src = opaque;
    SlirpPollFd *p = g_hash_table_lookup(src->byfd, GINT_TO_POINTER(fd));

    if (!p) {
        p = g_new0(SlirpPollFd, 1);
        p->pfd.fd = fd;
        g_hash_table_insert(src->byfd, GINT_TO_POINTER(fd), p);
        g_source_add_poll(&src->source, &p->pfd);
    }
    if (p->used) {
        /* libslirp asked twice for one fd: poll for both */
        p->pfd.events |= slirp_events_to_g(events);
    } else {
        p->pfd.events = slirp_events_to_g(events);
        p->used = true;
    }
    p->pfd.revents = 0;
    g_ptr_array_add(src->polled, p);
    return src->polled->len - 1;
}

static int slirp_get_revents_cb(int idx, void *opaque)
{
    SlirpSource *src = opaque;

    if (idx < 0 || (guint)idx >= src->polled->len) {
        return 0;
    }
    return slirp_events_from_g(((SlirpPollFd *)g_ptr_array_index(src->polled, idx))->pfd.revents);
}

static gboolean slirp_pollfd_drop_unused(gpointer key, gpointer value, gpointer opaque)
{
    SlirpSource *src = opaque;
    SlirpPollFd *p = value;

    (void)key;
    if (p->used) {
        p->used = false;        /* for the next prepare */
        return FALSE;
    }
    g_source_remove_poll(&src->source, &p->pfd);
    g_free(p);
    return TRUE;
}

/* Unregisters every fd (at cleanup). */
static void slirp_source_unpoll(SlirpSource *src)
{
    GHashTableIter it;
    gpointer v;

    g_ptr_array_set_size(src->polled, 0);
    g_hash_table_iter_init(&it, src->byfd);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        g_source_remove_poll(&src->source, &((SlirpPollFd *)v)->pfd);
        g_free(v);
        g_hash_table_iter_remove(&it);
    }
}

static gboolean slirp_source_prepare(GSource *source, gint *timeout)
{
    SlirpSource *src = (SlirpSource *)source;
    uint32_t t = UINT32_MAX;

    g_ptr_array_set_size(src->polled, 0);
    slirp_pollfds_fill(src->s->slirp, &t, slirp_add_poll_cb, src);
    /* fds libslirp no longer asks for (closed sockets) leave the poll set;
     * the others stay registered, their new events already in place */
    g_hash_table_foreach_remove(src->byfd, slirp_pollfd_drop_unused, src);
    *timeout = t == UINT32_MAX ? -1 : (gint)MIN(t, (uint32_t)G_MAXINT);
    return FALSE;
}

static gboolean slirp_source_check(GSource *source)
{
    (void)source;
    return TRUE;        /* slirp's own TCP timers run on every poll */
}

static gboolean slirp_source_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
    SlirpSource *src = (SlirpSource *)source;

    (void)cb;
    (void)data;
    slirp_pollfds_poll(src->s->slirp, 0, slirp_get_revents_cb, src);
    qemu_net_burst_end(&src->s->nc);
    return G_SOURCE_CONTINUE;
}

static void slirp_source_finalize(GSource *source)
{
    SlirpSource *src = (SlirpSource *)source;

    g_hash_table_destroy(src->byfd);
    g_ptr_array_free(src->polled, TRUE);
}

static GSourceFuncs slirp_source_funcs = {
    .prepare = slirp_source_prepare,
    .check = slirp_source_check,
    .dispatch = slirp_source_dispatch,
    .finalize = slirp_source_finalize,
};

/* ---- the NetClient ---------------------------------------------------- */

static ssize_t net_slirp_receive(NetClientState *nc, const uint8_t *buf, size_t len)
{
    SlirpState *s = (SlirpState *)nc;

    slirp_input(s->slirp, buf, len);
    qemu_net_burst_end(nc);     /* what it answered at once (ACKs, data) */
    return len;
}

static void net_slirp_cleanup(NetClientState *nc)
{
    SlirpState *s = (SlirpState *)nc;

    if (!s->slirp) {
        g_array_free(s->hostfwds, TRUE);
        g_ptr_array_free(s->guestfwds, TRUE);
        return;
    }
    for (guint i = 0; i < s->hostfwds->len; i++) {
        SlirpHostFwd *f = &g_array_index(s->hostfwds, SlirpHostFwd, i);
        slirp_remove_hostfwd(s->slirp, f->is_udp, f->host_addr, f->host_port);
    }
    g_array_free(s->hostfwds, TRUE);
    for (guint i = 0; i < s->guestfwds->len; i++) {
        SlirpGuestFwd *f = g_ptr_array_index(s->guestfwds, i);
        Chardev *chr = f->hd.chr;
        slirp_remove_guestfwd(s->slirp, f->addr, f->port);
        qemu_chr_fe_deinit(&f->hd);
        if (chr) {
            qemu_chr_delete(chr);
        }
        g_free(f);
    }
    g_ptr_array_free(s->guestfwds, TRUE);
    if (s->src) {
        slirp_source_unpoll(s->src);
        g_source_destroy(&s->src->source);
        g_source_unref(&s->src->source);
    }
    slirp_cleanup(s->slirp);
}

static const NetClientInfo slirp_info = {
    .type = NET_CLIENT_DRIVER_USER,
    .type_name = "user",
    .size = sizeof(SlirpState),
    .receive = net_slirp_receive,
    .cleanup = net_slirp_cleanup,
    /* libslirp's ip_input has no MTU check for IPv4 (ip6_input has: no
     * IPv6) and its tcp_input appends a segment of any length within the
     * window; it ACKs every segment it takes and sends each one to the
     * host socket at once, so one 64 KiB segment costs the guest one ACK
     * and the host one send() instead of 45 (docs/net.md) */
    .takes_large_tcp4 = true,
    /* every call into libslirp that may send frames ends a burst: its
     * poll dispatch, its input, its timers */
    .ends_bursts = true,
};

/* ---- options ---------------------------------------------------------- */

static bool parse_in_addr(const char *key, const char *str, struct in_addr *out, Error **errp)
{
    if (!inet_aton(str, out)) {
        error_setg(errp, "user: %s=%s: not an IPv4 address", key, str);
        return false;
    }
    return true;
}

/* "addr[/bits]" or "addr/mask" */
static bool parse_net(const char *str, struct in_addr *net, struct in_addr *mask, Error **errp)
{
    g_auto(GStrv) parts = g_strsplit(str, "/", 2);
    uint64_t bits;

    if (!parse_in_addr("net", parts[0], net, errp)) {
        return false;
    }
    if (!parts[1]) {
        return true;
    }
    if (strchr(parts[1], '.')) {
        return parse_in_addr("net", parts[1], mask, errp);
    }
    if (!parse_uint("net", parts[1], &bits, errp) || bits < 1 || bits > 32) {
        g_clear_error(errp);
        error_setg(errp, "user: net=%s: bad prefix length", str);
        return false;
    }
    mask->s_addr = htonl(bits == 32 ? 0xffffffffu : ~(0xffffffffu >> bits));
    return true;
}

/* "addr:port" with an optional addr; port 1..65535 (0 allowed for host: any). */
static bool parse_addr_port(const char *str, struct in_addr *addr, int *port, bool port0_ok,
                            Error **errp)
{
    const char *colon = strrchr(str, ':');
    uint64_t p;

    if (!colon) {
        error_setg(errp, "missing ':' in '%s'", str);
        return false;
    }
    if (colon != str) {
        g_autofree char *a = g_strndup(str, colon - str);
        if (!inet_aton(a, addr)) {
            error_setg(errp, "bad address '%s'", a);
            return false;
        }
    }
    if (!parse_uint("port", colon + 1, &p, errp) || p > 65535 || (!p && !port0_ok)) {
        g_clear_error(errp);
        error_setg(errp, "bad port '%s'", colon + 1);
        return false;
    }
    *port = p;
    return true;
}

/* hostfwd=tcp|udp:[hostaddr]:hostport-[guestaddr]:guestport */
static bool slirp_hostfwd(SlirpState *s, const char *spec, struct in_addr dhcp_start,
                          Error **errp)
{
    const char *p = spec, *dash;
    int is_udp = 0, hport, gport;
    struct in_addr haddr = { .s_addr = INADDR_ANY }, gaddr = dhcp_start;
    g_autofree char *hpart = NULL;
    SlirpHostFwd f;

    if (g_str_has_prefix(p, "tcp:")) {
        p += 4;
    } else if (g_str_has_prefix(p, "udp:")) {
        is_udp = 1;
        p += 4;
    } else if (*p == ':') {
        p += 1;
    }
    dash = strchr(p, '-');
    if (!dash) {
        error_setg(errp, "user: hostfwd=%s: missing '-' between host and guest parts", spec);
        return false;
    }
    hpart = g_strndup(p, dash - p);
    if (!parse_addr_port(hpart, &haddr, &hport, true, errp) ||
        !parse_addr_port(dash + 1, &gaddr, &gport, false, errp)) {
        error_prepend(errp, "user: hostfwd=%s: ", spec);
        return false;
    }
    if (slirp_add_hostfwd(s->slirp, is_udp, haddr, hport, gaddr, gport) < 0) {
        error_setg(errp, "user: could not set up host forwarding rule '%s'", spec);
        return false;
    }
    f.is_udp = is_udp;
    f.host_addr = haddr;
    f.host_port = hport;
    g_array_append_val(s->hostfwds, f);
    return true;
}

static ssize_t guestfwd_write(const void *buf, size_t len, void *opaque)
{
    SlirpGuestFwd *f = opaque;

    return qemu_chr_fe_write_all(&f->hd, buf, len);
}

static int guestfwd_can_read(void *opaque)
{
    SlirpGuestFwd *f = opaque;

    return slirp_socket_can_recv(f->slirp, f->addr, f->port);
}

static void guestfwd_read(void *opaque, const uint8_t *buf, int size)
{
    SlirpGuestFwd *f = opaque;

    slirp_socket_recv(f->slirp, f->addr, f->port, buf, size);
}

/* guestfwd=tcp:[addr]:port-cmd:COMMAND or tcp:[addr]:port-CHARDEV-SPEC */
static bool slirp_guestfwd(SlirpState *s, const char *spec, struct in_addr host, Error **errp)
{
    const char *p = spec, *dash;
    struct in_addr addr = host;
    int port;
    g_autofree char *apart = NULL;

    if (g_str_has_prefix(p, "tcp:")) {
        p += 4;
    }
    dash = strchr(p, '-');
    if (!dash) {
        error_setg(errp, "user: guestfwd=%s: missing '-'", spec);
        return false;
    }
    apart = g_strndup(p, dash - p);
    if (!parse_addr_port(apart, &addr, &port, false, errp)) {
        error_prepend(errp, "user: guestfwd=%s: ", spec);
        return false;
    }
    if (!g_str_has_prefix(dash + 1, "cmd:")) {
        SlirpGuestFwd *f = g_new0(SlirpGuestFwd, 1);
        g_autofree char *label = g_strdup_printf("guestfwd.tcp.%d", port);
        Chardev *chr = qemu_chr_new(label, dash + 1, errp);

        if (!chr || !qemu_chr_fe_init(&f->hd, chr, errp)) {
            if (chr) {
                qemu_chr_delete(chr);
            }
            error_prepend(errp, "user: guestfwd=%s: ", spec);
            g_free(f);
            return false;
        }
        f->slirp = s->slirp;
        f->addr = addr;
        f->port = port;
        if (slirp_add_guestfwd(s->slirp, guestfwd_write, f, &addr, port) < 0) {
            error_setg(errp, "user: conflicting/invalid guest forwarding rule '%s'", spec);
            qemu_chr_fe_deinit(&f->hd);
            qemu_chr_delete(chr);
            g_free(f);
            return false;
        }
        qemu_chr_fe_set_handlers(&f->hd, guestfwd_can_read, guestfwd_read, NULL, f);
        g_ptr_array_add(s->guestfwds, f);
        return true;
    }
    if (slirp_add_exec(s->slirp, dash + 5, &addr, port) < 0) {
        error_setg(errp, "user: conflicting/invalid guest forwarding rule '%s'", spec);
        return false;
    }
    return true;
}

bool net_init_user(QemuOpts *opts, const char *name, NetClientState *peer, Error **errp)
{
    SlirpConfig cfg = { .version = 4, .in_enabled = true, .in6_enabled = true };
    struct in_addr net, mask, host, dhcp, dns;
    const char *v;
    bool restricted = false, ipv4 = true, ipv6 = true;
    SlirpState *s;
    SlirpSource *src;

    inet_aton("10.0.2.0", &net);
    inet_aton("255.255.255.0", &mask);
    if ((v = qemu_opt_get(opts, "net")) && !parse_net(v, &net, &mask, errp)) {
        return false;
    }
    net.s_addr &= mask.s_addr;
    host.s_addr = net.s_addr | htonl(2);
    dhcp.s_addr = net.s_addr | htonl(15);
    dns.s_addr = net.s_addr | htonl(3);
    if ((v = qemu_opt_get(opts, "host")) && !parse_in_addr("host", v, &host, errp)) {
        return false;
    }
    if ((v = qemu_opt_get(opts, "dhcpstart")) && !parse_in_addr("dhcpstart", v, &dhcp, errp)) {
        return false;
    }
    if ((v = qemu_opt_get(opts, "dns")) && !parse_in_addr("dns", v, &dns, errp)) {
        return false;
    }
    if ((host.s_addr & mask.s_addr) != net.s_addr ||
        (dhcp.s_addr & mask.s_addr) != net.s_addr || (dns.s_addr & mask.s_addr) != net.s_addr) {
        error_setg(errp, "user: host=, dhcpstart= and dns= must be inside net=");
        return false;
    }
    if (!qemu_opt_get_bool(opts, "restrict", false, &restricted, errp) ||
        !qemu_opt_get_bool(opts, "ipv4", true, &ipv4, errp) ||
        !qemu_opt_get_bool(opts, "ipv6", true, &ipv6, errp)) {
        return false;
    }
    if (!ipv4 && !ipv6) {
        error_setg(errp, "user: ipv4=off and ipv6=off cannot both be given");
        return false;
    }
    if (qemu_opt_has(opts, "smb")) {
        error_setg(errp, "user: smb= is not supported");
        return false;
    }
    cfg.restricted = restricted;
    cfg.in_enabled = ipv4;
    cfg.in6_enabled = ipv6;
    cfg.vnetwork = net;
    cfg.vnetmask = mask;
    cfg.vhost = host;
    cfg.vdhcp_start = dhcp;
    cfg.vnameserver = dns;
    inet_pton(AF_INET6, "fec0::", &cfg.vprefix_addr6);
    cfg.vprefix_len = 64;
    if ((v = qemu_opt_get(opts, "ipv6-net"))) {
        g_auto(GStrv) parts = g_strsplit(v, "/", 2);
        uint64_t len = 64;
        if (inet_pton(AF_INET6, parts[0], &cfg.vprefix_addr6) != 1 ||
            (parts[1] && (!parse_uint("ipv6-net", parts[1], &len, NULL) || len > 126))) {
            error_setg(errp, "user: ipv6-net=%s: bad IPv6 prefix", v);
            return false;
        }
        cfg.vprefix_len = len;
    }
    cfg.vhost6 = cfg.vprefix_addr6;
    cfg.vhost6.s6_addr[15] |= 2;
    cfg.vnameserver6 = cfg.vprefix_addr6;
    cfg.vnameserver6.s6_addr[15] |= 3;
    if ((v = qemu_opt_get(opts, "ipv6-host")) &&
        inet_pton(AF_INET6, v, &cfg.vhost6) != 1) {
        error_setg(errp, "user: ipv6-host=%s: not an IPv6 address", v);
        return false;
    }
    cfg.vhostname = qemu_opt_get(opts, "hostname");
    cfg.vdomainname = qemu_opt_get(opts, "domainname");
    cfg.tftp_path = qemu_opt_get(opts, "tftp");
    cfg.tftp_server_name = qemu_opt_get(opts, "tftp-server-name");
    cfg.bootfile = qemu_opt_get(opts, "bootfile");

    s = (SlirpState *)qemu_new_net_client(&slirp_info, peer, "user", name);
    s->hostfwds = g_array_new(FALSE, FALSE, sizeof(SlirpHostFwd));
    s->guestfwds = g_ptr_array_new();
    s->slirp = slirp_new(&cfg, &slirp_cb, s);
    if (!s->slirp) {
        error_setg(errp, "user: libslirp refused the configuration");
        goto fail;
    }
    snprintf(s->nc.info_str, sizeof(s->nc.info_str), "net=%s,restrict=%s", inet_ntoa(net),
             restricted ? "on" : "off");
    for (guint i = 0; i < opts->opts->len; i++) {
        QemuOpt *o = g_ptr_array_index(opts->opts, i);
        if (!strcmp(o->key, "hostfwd")) {
            o->used = true;
            if (!slirp_hostfwd(s, o->value, dhcp, errp)) {
                goto fail;
            }
        } else if (!strcmp(o->key, "guestfwd")) {
            o->used = true;
            if (!slirp_guestfwd(s, o->value, host, errp)) {
                goto fail;
            }
        }
    }
    src = (SlirpSource *)g_source_new(&slirp_source_funcs, sizeof(SlirpSource));
    src->s = s;
    src->byfd = g_hash_table_new(g_direct_hash, g_direct_equal);
    src->polled = g_ptr_array_new();
    /* GLib "blocks" a source that cannot recurse while dispatching it:
     * it takes the source's fds out of the poll set and puts them back,
     * and each of those changes wakes the context too.  dispatch() never
     * runs the main loop again, so recursion is harmless. */
    g_source_set_can_recurse(&src->source, TRUE);
    g_source_attach(&src->source, NULL);
    s->src = src;
    return true;

fail:
    qemu_del_net_client(&s->nc);
    return false;
}

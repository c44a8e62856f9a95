/*
 * -netdev tap,ifname=NAME,script=no,downscript=no[,queues=N]
 *   | fd=FD | fds=FD:FD:...  [,vnet_hdr=on|off][,vhost=off]  (docs/net.md)
 *
 * A Linux TAP interface opened through /dev/net/tun with IFF_TAP |
 * IFF_NO_PI (or fds the caller opened: a number the process inherited,
 * or, in netdev_add, the name of an fd given to that monitor by QMP getfd).
 * queues=N > 1 (or N fds) is a multiqueue tap: IFF_MULTI_QUEUE, one fd and
 * one client per queue, all named by the id (queue_index 0..N-1), so that
 * a multiqueue NIC (virtio-net mq=on) peers one client per queue pair;
 * a queue the NIC does not use is detached (TUNSETQUEUE) and not read.
 * Frames read from a queue go to its NIC peer; the NIC's frames are
 * written to it.  Configuration scripts are not run: script= and
 * downscript= must be "no" (or absent).  vnet_hdr (as QEMU: on when the
 * kernel has IFF_VNET_HDR unless vnet_hdr=off; =on makes it required)
 * puts a 12-byte virtio-net header on every frame: virtio-net exchanges it
 * with the guest; for any other NIC the backend strips it from received
 * frames and puts a zero one before sent frames.  Offloads (TUNSETOFFLOAD:
 * which partial-checksum and GSO frames the kernel may hand us) start
 * off; virtio-net sets them from what its guest accepts (set_offload), and
 * they go back off when the frontend stops using the header.  UFO is
 * offered only if the kernel takes TUN_F_UFO (probed at open, as QEMU).
 * vhost=on (and vhostforce=on, vhostfd=, vhostfds=) fails: kvmpc has no
 * vhost-net.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <glib-unix.h>
#include "net/net.h"
#include "qemu/option.h"

typedef struct TAPState {
    NetClientState nc;
    int fd;
    guint read_watch;
    bool read_paused;
    bool disabled;              /* a multiqueue queue the NIC does not use (detached) */
    bool vnet_hdr;              /* IFF_VNET_HDR: every frame has the header */
    bool using_vnet_hdr;        /* the peer handles it */
    bool has_ufo;               /* the kernel takes TUN_F_UFO */
    unsigned offload;           /* TUN_F_* last set */
    uint8_t buf[NET_VNET_HDR_LEN + 65536 + 4096];   /* a GSO frame and its header */
} TAPState;

/* Pieces tap_receive_iov writes at once (a Linux TSO frame has ~20). */
#define TAP_IOV_MAX 128

static void tap_set_reading(TAPState *s, bool on);

static void tap_sent(NetClientState *nc, ssize_t len)
{
    TAPState *s = (TAPState *)nc;

    (void)len;
    s->read_paused = false;
    tap_set_reading(s, true);
}

static gboolean tap_readable(gint fd, GIOCondition cond, gpointer opaque)
{
    TAPState *s = opaque;

    (void)cond;
    for (int i = 0; i < 64; i++) {      /* a bounded batch per wake-up */
        ssize_t n = read(fd, s->buf, sizeof(s->buf));
        size_t skip = s->vnet_hdr && !s->using_vnet_hdr ? NET_VNET_HDR_LEN : 0;

        if (n <= 0) {
            break;
        }
        if ((size_t)n <= skip) {
            continue;
        }
        if (qemu_send_packet_async(&s->nc, s->buf + skip, n - skip, tap_sent) == 0) {
            s->read_paused = true;
            s->read_watch = 0;
            return G_SOURCE_REMOVE;
        }
    }
    return G_SOURCE_CONTINUE;
}

static void tap_set_reading(TAPState *s, bool on)
{
    on = on && !s->disabled && !s->read_paused;
    if (on && !s->read_watch) {
        s->read_watch = g_unix_fd_add(s->fd, G_IO_IN, tap_readable, s);
    } else if (!on && s->read_watch) {
        g_source_remove(s->read_watch);
        s->read_watch = 0;
    }
}

static ssize_t tap_receive(NetClientState *nc, const uint8_t *buf, size_t len)
{
    TAPState *s = (TAPState *)nc;
    static const uint8_t zero_hdr[NET_VNET_HDR_LEN];
    struct iovec iov[2] = {
        { .iov_base = (void *)zero_hdr, .iov_len = sizeof(zero_hdr) },
        { .iov_base = (void *)buf, .iov_len = len },
    };
    bool add_hdr = s->vnet_hdr && !s->using_vnet_hdr;
    ssize_t n;

    do {
        n = add_hdr ? writev(s->fd, iov, 2) : write(s->fd, buf, len);
    } while (n < 0 && errno == EINTR);
    return len;         /* the kernel drops what it cannot take, as a wire */
}

/* The same from pieces: one writev (the header the kernel expects in
 * front when the peer does not write it). */
static ssize_t tap_receive_iov(NetClientState *nc, const struct iovec *iov, int iovcnt)
{
    TAPState *s = (TAPState *)nc;
    static const uint8_t zero_hdr[NET_VNET_HDR_LEN];
    bool add_hdr = s->vnet_hdr && !s->using_vnet_hdr;
    struct iovec v[TAP_IOV_MAX];
    size_t len = 0;
    int n = 0;
    ssize_t r;

    if (iovcnt + add_hdr > TAP_IOV_MAX) {
        return 0;               /* the caller flattens it */
    }
    if (add_hdr) {
        v[n++] = (struct iovec){ .iov_base = (void *)zero_hdr, .iov_len = sizeof(zero_hdr) };
    }
    for (int i = 0; i < iovcnt; i++) {
        v[n++] = iov[i];
        len += iov[i].iov_len;
    }
    do {
        r = writev(s->fd, v, n);
    } while (r < 0 && errno == EINTR);
    return len;         /* taken or dropped, as tap_receive */
}

static bool tap_has_vnet_hdr(NetClientState *nc)
{
    return ((TAPState *)nc)->vnet_hdr;
}

static bool tap_set_offload_flags(TAPState *s, unsigned flags)
{
    if (ioctl(s->fd, TUNSETOFFLOAD, flags) < 0) {
        return false;
    }
    s->offload = flags;
    return true;
}

/* QEMU's mapping: nothing without csum; ECN only with a TSO; UFO dropped
 * (and the rest retried) when the kernel refuses it. */
static void tap_set_offload(NetClientState *nc, const NetOffloads *o)
{
    TAPState *s = (TAPState *)nc;
    unsigned f = 0;

    if (!s->vnet_hdr) {
        return;
    }
    if (o->csum) {
        f |= TUN_F_CSUM;
        f |= o->tso4 ? TUN_F_TSO4 : 0;
        f |= o->tso6 ? TUN_F_TSO6 : 0;
        f |= (o->tso4 || o->tso6) && o->ecn ? TUN_F_TSO_ECN : 0;
        f |= o->ufo && s->has_ufo ? TUN_F_UFO : 0;
    }
    if (!tap_set_offload_flags(s, f) && !tap_set_offload_flags(s, f & ~TUN_F_UFO)) {
        fprintf(stderr, "kvmpc: tap %s: TUNSETOFFLOAD 0x%x: %s\n", nc->name, f,
                strerror(errno));
    }
}

static bool tap_has_ufo(NetClientState *nc)
{
    return ((TAPState *)nc)->has_ufo;
}

static void tap_using_vnet_hdr(NetClientState *nc, bool on)
{
    TAPState *s = (TAPState *)nc;
    static const NetOffloads none;

    s->using_vnet_hdr = s->vnet_hdr && on;
    if (!s->using_vnet_hdr && s->offload) {
        tap_set_offload(nc, &none);     /* a frontend that strips the header takes no GSO */
    }
}

/* A queue of a multiqueue tap: attached (the kernel steers flows to it)
 * and read while the NIC's pair is in use, as QEMU's tap_enable/disable.
 * A detached queue's fd polls as an error, so it is not watched then. */
static void tap_queue_enable(NetClientState *nc, bool on)
{
    TAPState *s = (TAPState *)nc;
    struct ifreq ifr = { 0 };

    if (s->nc.queues < 2 || s->disabled == !on) {
        return;
    }
    ifr.ifr_flags = on ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
    if (ioctl(s->fd, TUNSETQUEUE, &ifr) < 0) {
        fprintf(stderr, "kvmpc: tap %s queue %u: TUNSETQUEUE %s: %s\n", nc->name,
                nc->queue_index, on ? "attach" : "detach", strerror(errno));
        return;
    }
    s->disabled = !on;
    tap_set_reading(s, on);
}

static void tap_cleanup(NetClientState *nc)
{
    TAPState *s = (TAPState *)nc;

    tap_set_reading(s, false);
    close(s->fd);
}

static const NetClientInfo tap_info = {
    .type = NET_CLIENT_DRIVER_TAP,
    .type_name = "tap",
    .size = sizeof(TAPState),
    .receive = tap_receive,
    .receive_iov = tap_receive_iov,
    .has_vnet_hdr = tap_has_vnet_hdr,
    .using_vnet_hdr = tap_using_vnet_hdr,
    .has_ufo = tap_has_ufo,
    .set_offload = tap_set_offload,
    .queue_enable = tap_queue_enable,
    .cleanup = tap_cleanup,
};

/* Whether the interface behind fd was opened with IFF_VNET_HDR. */
static bool tap_probe_vnet_hdr(int fd)
{
    struct ifreq ifr = { 0 };

    return ioctl(fd, TUNGETIFF, &ifr) == 0 && (ifr.ifr_flags & IFF_VNET_HDR);
}

/* IFF_VNET_HDR with our header size (the fd may come from the caller). */
static bool tap_setup_vnet_hdr(int fd, Error **errp)
{
    int len = NET_VNET_HDR_LEN;

    if (!tap_probe_vnet_hdr(fd)) {
        error_setg(errp, "tap: vnet_hdr=on: the interface has no IFF_VNET_HDR");
        return false;
    }
    if (ioctl(fd, TUNSETVNETHDRSZ, &len) < 0) {
        error_setg_errno(errp, errno, "tap: vnet_hdr=on: TUNSETVNETHDRSZ");
        return false;
    }
    return true;
}

static int tap_open(const char *ifname, char *actual, bool vnet_hdr, bool mq, Error **errp)
{
    struct ifreq ifr = { 0 };
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

    if (fd < 0) {
        error_setg_errno(errp, errno, "tap: could not open /dev/net/tun");
        return -1;
    }
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0) |
                    (mq ? IFF_MULTI_QUEUE : 0);
    if (ifname) {
        g_strlcpy(ifr.ifr_name, ifname, IFNAMSIZ);
    } else {
        g_strlcpy(ifr.ifr_name, "tap%d", IFNAMSIZ);
    }
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        error_setg_errno(errp, errno, "tap: could not configure /dev/net/tun (%s)",
                         ifr.ifr_name);
        close(fd);
        return -1;
    }
    g_strlcpy(actual, ifr.ifr_name, IFNAMSIZ);
    return fd;
}

static bool tap_script_ok(QemuOpts *opts, const char *key, Error **errp)
{
    const char *v = qemu_opt_get(opts, key);

    if (v && strcmp(v, "no") && *v) {
        error_setg(errp, "tap: %s=%s: running scripts is not supported (use %s=no)", key, v,
                   key);
        return false;
    }
    return true;
}

/* What TUNGETIFF says about a passed fd: false (errp set) if it is no TAP. */
static bool tap_fd_check(int fd, const char *str, struct ifreq *ifr, Error **errp)
{
    memset(ifr, 0, sizeof(*ifr));
    if (ioctl(fd, TUNGETIFF, ifr) < 0) {
        error_setg_errno(errp, errno, "tap: fd '%s' is not a TAP device (TUNGETIFF)", str);
        return false;
    }
    if (!(ifr->ifr_flags & IFF_TAP)) {
        error_setg(errp, "tap: fd '%s' is a TUN (layer 3) device, not a TAP", str);
        return false;
    }
    return true;
}

#define TAP_MAX_QUEUES 31

bool net_init_tap(QemuOpts *opts, const char *name, NetClientState *peer, Error **errp)
{
    const char *ifname = qemu_opt_get(opts, "ifname");
    const char *fdstr = qemu_opt_get(opts, "fd");
    const char *fds = qemu_opt_get(opts, "fds");
    const char *vhostforce = qemu_opt_get(opts, "vhostforce");
    bool vhost = false, vnet_hdr = true, has_queues = qemu_opt_has(opts, "queues");
    char actual[IFNAMSIZ] = "";
    g_auto(GStrv) fdnames = NULL;
    int fd[TAP_MAX_QUEUES];
    bool owned[TAP_MAX_QUEUES] = { false };
    uint64_t queues = 1;
    unsigned n = 0;
    bool passed = fdstr || fds;

    if (!qemu_opt_get_bool(opts, "vhost", false, &vhost, errp) ||
        !qemu_opt_get_bool(opts, "vnet_hdr", true, &vnet_hdr, errp) ||
        !qemu_opt_get_number(opts, "queues", 1, &queues, errp)) {
        return false;
    }
    if (vhost || (vhostforce && strcmp(vhostforce, "off")) || qemu_opt_get(opts, "vhostfd") ||
        qemu_opt_get(opts, "vhostfds")) {
        error_setg(errp, "tap: vhost is not supported: kvmpc has no vhost-net "
                   "(use vhost=off, the default)");
        return false;
    }
    if (!tap_script_ok(opts, "script", errp) || !tap_script_ok(opts, "downscript", errp)) {
        return false;
    }
    if (fdstr && fds) {
        error_setg(errp, "tap: fd= and fds= cannot be used together");
        return false;
    }
    if (passed && ifname) {
        error_setg(errp, "tap: ifname= and fd=/fds= cannot be used together");
        return false;
    }
    if (queues < 1 || queues > TAP_MAX_QUEUES) {
        error_setg(errp, "Parameter 'queues' expects a number of queues in 1-31");
        return false;
    }
    if (fds) {
        fdnames = g_strsplit(fds, ":", -1);
        n = g_strv_length(fdnames);
        if (n == 0 || n > TAP_MAX_QUEUES) {
            error_setg(errp, "tap: fds= needs 1 to %d fds separated by ':'", TAP_MAX_QUEUES);
            return false;
        }
        if (has_queues && queues != n) {
            error_setg(errp, "tap: fds= gives %u fds but queues=%" PRIu64 ": the number of "
                       "fds must match the queues", n, queues);
            return false;
        }
        queues = n;
    } else if (fdstr) {
        if (queues != 1) {
            error_setg(errp, "tap: fd= is one queue; use fds= for queues=%" PRIu64, queues);
            return false;
        }
        fdnames = g_new0(char *, 2);
        fdnames[0] = g_strdup(fdstr);
        n = 1;
    }
    if (queues > 1 && peer) {
        error_setg(errp, "tap: queues=%" PRIu64 " cannot be used with -net (a hub port has one "
                   "queue)", queues);
        return false;
    }
    for (unsigned i = 0; i < queues; i++) {
        fd[i] = -1;
    }
    if (passed) {
        struct ifreq ifr, first;

        for (unsigned i = 0; i < n; i++) {
            fd[i] = net_fd_param(fdnames[i], &owned[i], errp);
            if (fd[i] < 0 || !tap_fd_check(fd[i], fdnames[i], i ? &ifr : &first, errp)) {
                goto fail;
            }
            if (i && strcmp(ifr.ifr_name, first.ifr_name)) {
                error_setg(errp, "tap: fds= '%s' is a queue of %s, '%s' of %s: all must be "
                           "queues of one interface", fdnames[0], first.ifr_name, fdnames[i],
                           ifr.ifr_name);
                goto fail;
            }
        }
        if (n > 1 && !(first.ifr_flags & IFF_MULTI_QUEUE)) {
            error_setg(errp, "tap: fds= with %u fds: %s was not opened with IFF_MULTI_QUEUE", n,
                       first.ifr_name);
            goto fail;
        }
        g_strlcpy(actual, first.ifr_name, sizeof(actual));
        if (!qemu_opt_get(opts, "vnet_hdr")) {
            vnet_hdr = first.ifr_flags & IFF_VNET_HDR;  /* as the caller opened it (QEMU) */
        }
    } else {
        for (unsigned i = 0; i < queues; i++) {
            /* the first queue names the interface; the others attach to it */
            fd[i] = tap_open(i ? actual : ifname, actual, vnet_hdr, queues > 1, errp);
            if (fd[i] < 0) {
                goto fail;
            }
            owned[i] = true;
        }
    }
    for (unsigned i = 0; i < queues; i++) {
        if (vnet_hdr && !tap_setup_vnet_hdr(fd[i], errp)) {
            goto fail;
        }
    }
    for (unsigned i = 0; i < queues; i++) {
        TAPState *s = (TAPState *)qemu_new_net_client(&tap_info, i ? NULL : peer, "tap", name);

        fcntl(fd[i], F_SETFL, fcntl(fd[i], F_GETFL) | O_NONBLOCK);
        s->fd = fd[i];
        s->vnet_hdr = vnet_hdr;
        s->nc.queue_index = i;
        s->nc.queues = queues;
        if (vnet_hdr) {
            /* does the kernel take UFO?  Then all offloads off until a frontend asks */
            s->has_ufo = tap_set_offload_flags(s, TUN_F_CSUM | TUN_F_UFO);
            tap_set_offload_flags(s, 0);
        }
        if (passed) {
            snprintf(s->nc.info_str, sizeof(s->nc.info_str), "fd=%d,ifname=%s", fd[i], actual);
        } else {
            snprintf(s->nc.info_str, sizeof(s->nc.info_str),
                     "ifname=%s,script=no,downscript=no", actual);
        }
        tap_set_reading(s, true);
    }
    return true;

fail:
    for (unsigned i = 0; i < queues && i < TAP_MAX_QUEUES; i++) {
        if (owned[i] && fd[i] >= 0) {
            close(fd[i]);
        }
    }
    return false;
}

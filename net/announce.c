/*
 * Self-announcement (QEMU's net/announce.c behaviour, qapi/net.json's
 * announce-self): after a VM moved, every NIC tells the network where it
 * now is.  Each round sends, from each NIC, one RARP "reverse request"
 * broadcast naming its MAC (what switches learn from), and asks a NIC
 * that can make its guest announce itself (virtio-net with
 * GUEST_ANNOUNCE) to do so as well.  The first round runs at once, the
 * next after `initial` ms, each later one `step` ms later than the one
 * before, at most `max` ms apart, `rounds` in all.  A timer has a name
 * (`id`; none is a name too): a new announce-self with the same name
 * replaces the running one, others go on.  The rounds run on the host's
 * monotonic clock (QEMU's realtime clock), so a paused VM announces too.
 *
 * QMP: announce-self {initial, max, rounds, step, *interfaces, *id};
 * HMP: announce_self [interfaces] [id] with the migration defaults
 * (50, 550, 5, 100), as QEMU.
 */
#include <string.h>
#include <glib.h>
#include "monitor/monitor.h"
#include "monitor/qmp-internal.h"
#include "monitor/qmp-gen.h"
#include "net/net.h"
#include "net/net-monitor.h"
#include "system/main-loop.h"

#define RARP_LEN 60             /* padded to Ethernet's minimum, without FCS */

typedef struct AnnounceTimer {
    char *id;                   /* "" for the unnamed one */
    QEMUTimer *timer;
    int64_t initial, max, step;
    int64_t rounds, done;
    char **interfaces;          /* NULL: every NIC */
} AnnounceTimer;

static GHashTable *announce_timers;     /* id -> AnnounceTimer */

/* The frame QEMU sends: a RARP reverse request (opcode 3) from mac about
 * mac, both protocol addresses 0, to the broadcast address. */
size_t net_announce_rarp(uint8_t *buf, const uint8_t mac[6])
{
    memset(buf, 0, RARP_LEN);
    memset(buf, 0xff, 6);
    memcpy(buf + 6, mac, 6);
    buf[12] = 0x80;                     /* ethertype 0x8035: RARP */
    buf[13] = 0x35;
    buf[15] = 1;                        /* hardware: Ethernet */
    buf[16] = 0x08;                     /* protocol: IPv4 */
    buf[18] = 6;
    buf[19] = 4;
    buf[21] = 3;                        /* reverse request */
    memcpy(buf + 22, mac, 6);           /* sender: mac, 0.0.0.0 */
    memcpy(buf + 32, mac, 6);           /* target: mac, 0.0.0.0 */
    return RARP_LEN;
}

static bool announce_wants(const AnnounceTimer *t, const NetClientState *nc)
{
    if (!t->interfaces) {
        return true;
    }
    for (char **i = t->interfaces; *i; i++) {
        if (!strcmp(*i, nc->name)) {
            return true;
        }
    }
    return false;
}

static void announce_nic(NetClientState *nc, void *opaque)
{
    AnnounceTimer *t = opaque;
    NetRxFilter f = { 0 };
    uint8_t buf[RARP_LEN];

    if (nc->info->type != NET_CLIENT_DRIVER_NIC || nc->queue_index || !nc->info->query_rx_filter ||
        !announce_wants(t, nc)) {       /* a multiqueue NIC announces on its first queue */
        return;
    }
    nc->info->query_rx_filter(nc, &f);          /* the MAC the NIC has now */
    qemu_send_packet(nc, buf, net_announce_rarp(buf, f.main_mac.a));
    if (nc->info->announce) {
        nc->info->announce(nc);
    }
}

static void announce_free(gpointer p)
{
    AnnounceTimer *t = p;

    timer_free(t->timer);
    g_strfreev(t->interfaces);
    g_free(t->id);
    g_free(t);
}

static void announce_round(void *opaque)
{
    AnnounceTimer *t = opaque;
    int64_t delay;

    qemu_foreach_net_client(announce_nic, t);
    t->done++;
    if (t->done >= t->rounds) {
        g_hash_table_remove(announce_timers, t->id);
        return;
    }
    delay = MIN(t->initial + (t->done - 1) * t->step, t->max);
    timer_mod(t->timer, qemu_clock_get_ns(QEMU_CLOCK_REALTIME) + delay * SCALE_MS);
}

bool net_announce_self(int64_t initial, int64_t max, int64_t rounds, int64_t step,
                       char **interfaces, const char *id, Error **errp)
{
    AnnounceTimer *t;

    if (initial < 0 || initial > 100000 || max < 0 || max > 100000 || step < 0 ||
        step > 10000 || rounds < 0 || rounds > 1000) {
        error_setg(errp, "announce-self: initial and max must be 0-100000 ms, step 0-10000 ms, "
                         "rounds 0-1000");
        return false;
    }
    if (!announce_timers) {
        announce_timers = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, announce_free);
    }
    g_hash_table_remove(announce_timers, id ? id : "");
    if (!rounds) {
        return true;
    }
    t = g_new0(AnnounceTimer, 1);
    t->id = g_strdup(id ? id : "");
    t->initial = initial;
    t->max = max;
    t->step = step;
    t->rounds = rounds;
    t->interfaces = g_strdupv(interfaces);
    t->timer = timer_new_ns(QEMU_CLOCK_REALTIME, announce_round, t);
    g_hash_table_insert(announce_timers, t->id, t);
    announce_round(t);
    return true;
}

JsonNode *qmp_announce_self(Monitor *mon, const QmpArgs_announce_self *args, Error **errp)
{
    g_autoptr(GPtrArray) names = NULL;
    JsonArray *a;

    (void)mon;
    if (args->has_interfaces) {
        a = JSON_NODE_HOLDS_ARRAY(args->interfaces) ? json_node_get_array(args->interfaces) : NULL;
        names = g_ptr_array_new();
        for (guint i = 0; a && i < json_array_get_length(a); i++) {
            JsonNode *e = json_array_get_element(a, i);
            if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_STRING) {
                error_setg(errp, "Invalid parameter type for 'interfaces[%u]', expected: string", i);
                return NULL;
            }
            g_ptr_array_add(names, (gpointer)json_node_get_string(e));
        }
        g_ptr_array_add(names, NULL);
    }
    net_announce_self(args->initial, args->max, args->rounds, args->step,
                      names ? (char **)names->pdata : NULL, args->has_id ? args->id : NULL, errp);
    return NULL;
}

void hmp_announce_self(Monitor *mon, int argc, char **argv)
{
    g_auto(GStrv) names = argc > 1 ? g_strsplit(argv[1], ",", -1) : NULL;
    Error *err = NULL;

    if (argc > 3) {
        monitor_printf(mon, "usage: announce_self [interfaces] [id]\n");
        return;
    }
    if (!net_announce_self(50, 550, 5, 100, names, argc > 2 ? argv[2] : NULL, &err)) {
        monitor_printf(mon, "Error: %s\n", err->message);
        g_error_free(err);
    }
}

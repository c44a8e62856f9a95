/*
 * The network layer's monitor commands (QEMU's names and arguments):
 * QMP set_link, query-rx-filter, netdev_add, netdev_del; HMP info network,
 * set_link, netdev_add, netdev_del.
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include "monitor/monitor.h"
#include "monitor/qmp-internal.h"
#include "monitor/qmp-gen.h"
#include "net/net.h"
#include "net/net-monitor.h"
#include "hw/qdev.h"

void qemu_nic_rx_filter_changed(NetClientState *nc)
{
    DeviceState *dev = nc->opaque;
    JsonObject *o;

    if (!nc->rxfilter_notify || !dev) {
        return;
    }
    nc->rxfilter_notify = false;
    o = json_object_new();
    json_object_set_string_member(o, "name", nc->name);
    json_object_set_string_member(o, "path", dev->canonical_path ? dev->canonical_path : "");
    qmp_event_emit("NIC_RX_FILTER_CHANGED", o);
}

JsonNode *qmp_set_link(Monitor *mon, const QmpArgs_set_link *args, Error **errp)
{
    (void)mon;
    qemu_set_link(args->name, args->up, errp);
    return NULL;
}

typedef struct RxFilterQuery {
    const char *name;
    JsonArray *out;
    bool found;
} RxFilterQuery;

static void rx_filter_one(NetClientState *nc, void *opaque)
{
    RxFilterQuery *q = opaque;
    NetRxFilter f = { 0 };
    JsonObject *o;
    char mac[18];

    if (nc->info->type != NET_CLIENT_DRIVER_NIC || nc->queue_index ||
        (q->name && strcmp(q->name, nc->name))) {
        return;
    }
    q->found = true;
    if (!nc->info->query_rx_filter) {
        return;
    }
    nc->rxfilter_notify = true;         /* the next change is reported again */
    nc->info->query_rx_filter(nc, &f);
    snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", f.main_mac.a[0], f.main_mac.a[1],
             f.main_mac.a[2], f.main_mac.a[3], f.main_mac.a[4], f.main_mac.a[5]);
    o = json_object_new();
    json_object_set_string_member(o, "name", nc->name);
    json_object_set_boolean_member(o, "promiscuous", f.promiscuous);
    json_object_set_string_member(o, "multicast", f.multicast_all ? "all" : "normal");
    json_object_set_string_member(o, "unicast", f.promiscuous ? "all" : "normal");
    json_object_set_string_member(o, "vlan", f.vlan_filter ? "normal" : "all");
    json_object_set_boolean_member(o, "broadcast-allowed", f.broadcast_allowed);
    json_object_set_boolean_member(o, "multicast-overflow", false);
    json_object_set_boolean_member(o, "unicast-overflow", false);
    json_object_set_string_member(o, "main-mac", mac);
    json_object_set_array_member(o, "vlan-table", json_array_new());
    json_object_set_array_member(o, "unicast-table", json_array_new());
    json_object_set_array_member(o, "multicast-table", json_array_new());
    json_array_add_object_element(q->out, o);
}

JsonNode *qmp_query_rx_filter(Monitor *mon, const QmpArgs_query_rx_filter *args, Error **errp)
{
    RxFilterQuery q = { .name = args->has_name ? args->name : NULL, .out = json_array_new() };

    (void)mon;
    qemu_foreach_net_client(rx_filter_one, &q);
    if (q.name && !q.found) {
        json_array_unref(q.out);
        error_setg(errp, "net client(%s) isn't a NIC", q.name);
        return NULL;
    }
    return qmp_node_array(q.out);
}

static void opt_append(GString *s, const char *key, const char *val)
{
    g_auto(GStrv) parts = g_strsplit(val, ",", -1);
    g_autofree char *esc = g_strjoinv(",,", parts);

    g_string_append_printf(s, ",%s=%s", key, esc);
}

static bool opt_append_list(GString *s, const char *key, JsonNode *list, Error **errp)
{
    JsonArray *a = JSON_NODE_HOLDS_ARRAY(list) ? json_node_get_array(list) : NULL;

    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        JsonNode *e = json_array_get_element(a, i);
        JsonObject *o = JSON_NODE_HOLDS_OBJECT(e) ? json_node_get_object(e) : NULL;
        if (!o || !json_object_has_member(o, "str")) {
            error_setg(errp, "Invalid parameter type for '%s', expected: String", key);
            return false;
        }
        opt_append(s, key, json_object_get_string_member(o, "str"));
    }
    return true;
}

JsonNode *qmp_netdev_add(Monitor *mon, const QmpArgs_netdev_add *args, Error **errp)
{
    g_autoptr(GString) s = g_string_new(args->type);

    (void)mon;
    if (!strcmp(args->type, "hubport") || !strcmp(args->type, "user") ||
        !strcmp(args->type, "socket") || !strcmp(args->type, "tap")) {
        /* accepted below */
    } else {
        error_setg(errp, "Parameter 'type' does not accept value '%s'", args->type);
        return NULL;
    }
    opt_append(s, "id", args->id);
#define STR(f, k) if (args->has_##f) { opt_append(s, k, args->f); }
#define BOOL(f, k) if (args->has_##f) { opt_append(s, k, args->f ? "on" : "off"); }
    STR(listen, "listen") STR(connect, "connect") STR(ifname, "ifname") STR(fd, "fd")
    STR(fds, "fds") STR(netdev, "netdev")
    STR(script, "script") STR(downscript, "downscript") BOOL(vhost, "vhost")
    BOOL(vnet_hdr, "vnet_hdr") STR(net, "net") STR(host, "host") STR(dhcpstart, "dhcpstart")
    BOOL(q_restrict, "restrict") BOOL(ipv4, "ipv4") BOOL(ipv6, "ipv6") STR(tftp, "tftp")
    STR(bootfile, "bootfile")
#undef STR
#undef BOOL
    if (args->has_hub) {
        g_string_append_printf(s, ",hub=%" G_GINT64_FORMAT, args->hub);
    }
    if (args->has_hubid) {
        g_string_append_printf(s, ",hubid=%" G_GINT64_FORMAT, args->hubid);
    }
    if (args->has_queues) {
        g_string_append_printf(s, ",queues=%" G_GINT64_FORMAT, args->queues);
    }
    if ((args->has_hostfwd && !opt_append_list(s, "hostfwd", args->hostfwd, errp)) ||
        (args->has_guestfwd && !opt_append_list(s, "guestfwd", args->guestfwd, errp))) {
        return NULL;
    }
    net_client_init_mon(s->str, mon, errp);     /* fd names: this monitor's getfd */
    return NULL;
}

JsonNode *qmp_netdev_del(Monitor *mon, const QmpArgs_netdev_del *args, Error **errp)
{
    (void)mon;
    net_netdev_del(args->id, errp);
    return NULL;
}

/* ---- HMP -------------------------------------------------------------- */

void hmp_info_network(Monitor *mon, int argc, char **argv)
{
    g_autoptr(GString) out = g_string_new(NULL);

    (void)argc;
    (void)argv;
    net_print_info(out);
    monitor_printf(mon, "%s", out->str);
}

static void hmp_err(Monitor *mon, Error *err)
{
    if (err) {
        monitor_printf(mon, "Error: %s\n", err->message);
        g_error_free(err);
    }
}

void hmp_set_link(Monitor *mon, int argc, char **argv)
{
    Error *err = NULL;
    bool up;

    if (argc != 3 || (strcmp(argv[2], "on") && strcmp(argv[2], "off"))) {
        monitor_printf(mon, "usage: set_link name on|off\n");
        return;
    }
    up = !strcmp(argv[2], "on");
    qemu_set_link(argv[1], up, &err);
    hmp_err(mon, err);
}

void hmp_netdev_add(Monitor *mon, int argc, char **argv)
{
    Error *err = NULL;

    if (argc != 2) {
        monitor_printf(mon, "usage: netdev_add type,id=str[,prop=value][,...]\n");
        return;
    }
    net_client_init_mon(argv[1], mon, &err);
    hmp_err(mon, err);
}

void hmp_netdev_del(Monitor *mon, int argc, char **argv)
{
    Error *err = NULL;

    if (argc != 2) {
        monitor_printf(mon, "usage: netdev_del id\n");
        return;
    }
    net_netdev_del(argv[1], &err);
    hmp_err(mon, err);
}

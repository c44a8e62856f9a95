/* HMP commands of the network layer (net/net-monitor.c). */
#ifndef KVMPC_NET_NET_MONITOR_H
#define KVMPC_NET_NET_MONITOR_H

#include "monitor/monitor.h"

void hmp_info_network(Monitor *mon, int argc, char **argv);
void hmp_set_link(Monitor *mon, int argc, char **argv);
void hmp_netdev_add(Monitor *mon, int argc, char **argv);
void hmp_netdev_del(Monitor *mon, int argc, char **argv);
void hmp_announce_self(Monitor *mon, int argc, char **argv);      /* net/announce.c */

#endif

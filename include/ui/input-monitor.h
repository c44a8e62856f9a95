/* HMP commands of the input layer (ui/input-monitor.c), for monitor/hmp.c. */
#ifndef KVMPC_UI_INPUT_MONITOR_H
#define KVMPC_UI_INPUT_MONITOR_H

#include "monitor/monitor.h"

void hmp_sendkey(Monitor *mon, int argc, char **argv);
void hmp_info_mice(Monitor *mon, int argc, char **argv);

#endif

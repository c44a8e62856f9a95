/* HMP command of the PCI core (hw/pci/pci-monitor.c), for monitor/hmp.c. */
#ifndef KVMPC_HW_PCI_MONITOR_H
#define KVMPC_HW_PCI_MONITOR_H

#include "monitor/monitor.h"

void hmp_info_pci(Monitor *mon, int argc, char **argv);

#endif

/* The i440FX PCI host bridge of machine `pc`. */
#ifndef KVMPC_HW_PCI_HOST_I440FX_H
#define KVMPC_HW_PCI_HOST_I440FX_H

#include "hw/pci/pci.h"

/* Creates the host (ports 0xcf8/0xcfc in io), bus pci.0 whose memory BARs
 * go into pci_mem and I/O BARs into io, and the bridge function 00.0. */
PCIBus *i440fx_init(MemoryRegion *pci_mem, MemoryRegion *io, Error **errp);

#endif

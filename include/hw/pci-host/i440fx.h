/* The i440FX PCI host bridge of machine `pc`. */
#ifndef KVMPC_HW_PCI_HOST_I440FX_H
#define KVMPC_HW_PCI_HOST_I440FX_H

#include "hw/pci/pci.h"

/* Creates the host (ports 0xcf8/0xcfc in io), bus pci.0 whose memory BARs
 * go into pci_mem and I/O BARs into io, and the bridge function 00.0. */
/* hole_start..hole_last: the 32-bit window for BARs that PCI0's _CRS declares. */
PCIBus *i440fx_init(MemoryRegion *pci_mem, MemoryRegion *io, uint32_t hole_start,
                    uint32_t hole_last, Error **errp);

#endif

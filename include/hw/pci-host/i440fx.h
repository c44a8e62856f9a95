/* The i440FX PCI host bridge of machine `pc`. */
#ifndef KVMPC_HW_PCI_HOST_I440FX_H
#define KVMPC_HW_PCI_HOST_I440FX_H

#include "hw/pci/pci.h"

/* Creates the host (ports 0xcf8/0xcfc in io), bus pci.0 whose memory BARs
 * go into pci_mem and I/O BARs into io, and the bridge function 00.0. */
/* hole_start..hole_last: the 32-bit window for BARs that PCI0's _CRS declares. */
/* *bridge (if not NULL) gets function 00.0. */
PCIBus *i440fx_init(MemoryRegion *pci_mem, MemoryRegion *io, uint32_t hole_start,
                    uint32_t hole_last, PCIDevice **bridge, Error **errp);

/* Puts the PAM segments (0xc0000-0xfffff) and the SMRAM window
 * (0xa0000-0xbffff) over RAM in system memory: each shows RAM (ram, at
 * the same offset) or PCI memory (pci_mem) as the bridge's registers say.
 * At reset every PAM segment is "off": it shows PCI memory. */
void i440fx_map_memory(PCIDevice *bridge, MemoryRegion *system, MemoryRegion *ram,
                       MemoryRegion *pci_mem);
/* Config-space offsets a machine may program itself (boot without firmware). */
#define I440FX_PAM_BASE     0x59
#define I440FX_PAM_COUNT    7

#endif

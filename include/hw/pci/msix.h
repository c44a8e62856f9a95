/*
 * MSI-X (PCI Local Bus 3.0, 6.8.2): the capability, the vector table and
 * the Pending Bit Array, which live in memory BARs of the function.
 *
 * Capability layout:
 *   0x00  u8  ID 0x11           0x01  u8  next
 *   0x02  u16 Message Control: 10:0 table size - 1, bit 14 Function
 *             Mask, bit 15 MSI-X Enable
 *   0x04  u32 Table offset (bits 31:3) | BIR (bits 2:0, the BAR)
 *   0x08  u32 PBA offset (bits 31:3) | BIR
 *
 * Table entry (16 bytes): 0x0 address low, 0x4 address high, 0x8 data,
 * 0xc vector control (bit 0: masked; set at reset).  PBA: one bit per
 * vector, read-only.  A vector that fires while masked (its own bit or the
 * function mask) sets its pending bit; it is sent, and the bit cleared,
 * when it becomes unmasked with MSI-X enabled.
 */
#ifndef KVMPC_HW_PCI_MSIX_H
#define KVMPC_HW_PCI_MSIX_H

#include "hw/pci/pci.h"
#include "hw/pci/msi.h"

#define PCI_MSIX_FLAGS              0x02
#define  PCI_MSIX_FLAGS_QSIZE       0x07ff
#define  PCI_MSIX_FLAGS_MASKALL     0x4000
#define  PCI_MSIX_FLAGS_ENABLE      0x8000
#define PCI_MSIX_TABLE              0x04
#define PCI_MSIX_PBA                0x08
#define  PCI_MSIX_BIR_MASK          0x7
#define PCI_MSIX_CAP_SIZE           12
#define PCI_MSIX_ENTRY_SIZE         16
#define  PCI_MSIX_ENTRY_ADDR_LO     0x0
#define  PCI_MSIX_ENTRY_ADDR_HI     0x4
#define  PCI_MSIX_ENTRY_DATA        0x8
#define  PCI_MSIX_ENTRY_CTRL        0xc
#define   PCI_MSIX_ENTRY_CTRL_MASKBIT 0x1
#define PCI_MSIX_MAX_VECTORS        2048

struct MSIXState {
    PCIDevice *dev;
    unsigned nr;
    uint8_t *table;             /* nr * 16 bytes, little-endian */
    uint8_t *pba;               /* (nr + 63) / 64 * 8 bytes */
    MemoryRegion table_mr, pba_mr;
    MemoryRegion *table_bar, *pba_bar;
    MemoryRegion *exclusive;    /* msix_init_exclusive_bar's BAR, or NULL */
    PCIIrqfd **irqfds;          /* per vector, NULL until asked for */
};

/*
 * Add the capability (cap_offset 0: allocate) and put the table at
 * table_offset of table_bar (BAR number table_bar_nr) and the PBA at
 * pba_offset of pba_bar (pba_bar_nr).  The BARs are containers the device
 * registers itself (pci_register_bar), possibly holding its own registers.
 */
bool msix_init(PCIDevice *d, unsigned nr, MemoryRegion *table_bar, int table_bar_nr,
               uint32_t table_offset, MemoryRegion *pba_bar, int pba_bar_nr,
               uint32_t pba_offset, uint8_t cap_offset, Error **errp);
/* A BAR of its own (4 KiB or more): table at 0, PBA in the upper half. */
bool msix_init_exclusive_bar(PCIDevice *d, unsigned nr, int bar_nr, Error **errp);
void msix_uninit(PCIDevice *d);
bool msix_present(const PCIDevice *d);
bool msix_enabled(const PCIDevice *d);
bool msix_function_masked(const PCIDevice *d);
bool msix_is_masked(const PCIDevice *d, unsigned vector);
bool msix_is_pending(const PCIDevice *d, unsigned vector);
MSIMessage msix_get_message(const PCIDevice *d, unsigned vector);
/* Signal vector (BQL held): sent, or pending while masked; dropped (and
 * logged) while MSI-X is disabled or vector is out of range. */
void msix_notify(PCIDevice *d, unsigned vector);

/* Called by the PCI core. */
void msix_write_config(PCIDevice *d, uint32_t addr, uint32_t val, int len);
void msix_reset(PCIDevice *d);

/* The table and the PBA: a subsection of vmstate_pci_device (which lists
 * it), saved when the device has MSI-X. */
extern const VMStateDescription vmstate_pci_device_msix;

/* irqfds, as msi_get_irqfd (see msi.h). */
EventNotifier *msix_get_irqfd(PCIDevice *d, unsigned vector, Error **errp);
void msix_put_irqfd(PCIDevice *d, unsigned vector);

#endif

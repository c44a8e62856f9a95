/*
 * MSI: the Message Signalled Interrupt capability of a PCI function
 * (PCI Local Bus 3.0, 6.8.1), and irqfds for MSI and MSI-X vectors.
 *
 * Capability layout (offsets from the capability):
 *   0x00  u8  ID 0x05           0x01  u8  next
 *   0x02  u16 Message Control: bit 0 MSI Enable, 3:1 Multiple Message
 *             Capable (log2), 6:4 Multiple Message Enable (log2),
 *             bit 7 64-bit address capable, bit 8 per-vector masking
 *   0x04  u32 Message Address (bits 1:0 zero)
 *   0x08  u32 Message Upper Address          (64-bit only)
 *   0x08/0x0c u16 Message Data
 *   0x0c/0x10 u32 Mask Bits                  (per-vector masking only)
 *   0x10/0x14 u32 Pending Bits (read-only)   (per-vector masking only)
 *
 * Vector n of a function with 2^k enabled messages is sent with the low k
 * bits of the data replaced by n.  A masked vector that fires sets its
 * pending bit; unmasking sends it and clears the bit.
 */
#ifndef KVMPC_HW_PCI_MSI_H
#define KVMPC_HW_PCI_MSI_H

#include "hw/pci/pci.h"
#include "qemu/event_notifier.h"

#define PCI_MSI_FLAGS           0x02
#define  PCI_MSI_FLAGS_ENABLE   0x0001
#define  PCI_MSI_FLAGS_QMASK    0x000e
#define  PCI_MSI_FLAGS_QSIZE    0x0070
#define  PCI_MSI_FLAGS_64BIT    0x0080
#define  PCI_MSI_FLAGS_MASKBIT  0x0100
#define PCI_MSI_ADDRESS_LO      0x04
#define PCI_MSI_ADDRESS_HI      0x08
#define PCI_MSI_DATA_32         0x08
#define PCI_MSI_DATA_64         0x0c
#define PCI_MSI_MASK_32         0x0c
#define PCI_MSI_MASK_64         0x10
#define PCI_MSI_PENDING_32      0x10
#define PCI_MSI_PENDING_64      0x14
#define PCI_MSI_MAX_VECTORS     32

typedef struct MSIMessage {
    uint64_t address;
    uint32_t data;
} MSIMessage;

/*
 * Add the capability (offset 0: allocate).  nr_vectors is a power of two,
 * 1-32.  Returns false with errp set (naming the device) on failure.
 */
bool msi_init(PCIDevice *d, uint8_t offset, unsigned nr_vectors, bool addr64,
              bool per_vector_mask, Error **errp);
void msi_uninit(PCIDevice *d);
bool msi_present(const PCIDevice *d);
bool msi_enabled(const PCIDevice *d);
/* How many vectors the guest enabled (Multiple Message Enable). */
unsigned msi_nr_vectors_allocated(const PCIDevice *d);
bool msi_is_masked(const PCIDevice *d, unsigned vector);
MSIMessage msi_get_message(const PCIDevice *d, unsigned vector);
/*
 * Signal vector (BQL held).  Masked: sets its pending bit.  MSI disabled
 * or vector not allocated: dropped (logged).
 */
void msi_notify(PCIDevice *d, unsigned vector);

/* Called by the PCI core. */
void msi_write_config(PCIDevice *d, uint32_t addr, uint32_t val, int len);
void msi_reset(PCIDevice *d);

/*
 * irqfds.  msi_get_irqfd returns an EventNotifier that any thread may set
 * (event_notifier_set) to signal the vector without the BQL.  When the
 * accelerator can inject MSIs itself (KVM: an MSI route plus KVM_IRQFD)
 * and the vector is enabled and unmasked, the kernel injects it directly;
 * otherwise the main loop watches the eventfd and calls msi_notify, so
 * masking and pending bits behave the same either way.  The route follows
 * the guest: it is updated whenever the guest reprograms the vector.
 */
EventNotifier *msi_get_irqfd(PCIDevice *d, unsigned vector, Error **errp);
void msi_put_irqfd(PCIDevice *d, unsigned vector);

/* Shared by MSI and MSI-X (msi.c): one vector's eventfd and its route. */
struct PCIIrqfd {
    PCIDevice *dev;
    bool msix;
    unsigned vector;
    EventNotifier e;
    int virq;                   /* accelerator route, -1: none */
    bool in_kernel;             /* bound to virq: the accelerator injects */
    bool sent;                  /* pci_irqfd_send() has used it (traced once) */
};
PCIIrqfd *pci_irqfd_new(PCIDevice *d, bool msix, unsigned vector, Error **errp);
void pci_irqfd_free(PCIIrqfd *f);
/* Re-evaluate where the vector's eventfd goes (after the guest changed the
 * message, its mask, or enable).  live: deliverable now, with msg. */
void pci_irqfd_sync(PCIIrqfd *f, bool live, MSIMessage msg);
/* Whether the accelerator can take MSIs through irqfds (KVM). */
bool pci_irqfd_available(void);
/* A device's interrupt through f when the accelerator consumes it (one
 * eventfd write, from any thread): true if sent, false to send it the
 * usual way (f NULL, or f handled by the main loop). */
bool pci_irqfd_send(PCIIrqfd *f);

#endif

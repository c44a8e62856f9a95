/*
 * virtio over PCI (virtio 1.2, 4.1): vendor 0x1af4.  A virtio-*-pci
 * device's state embeds VirtIOPCIProxy first and its VirtIODevice
 * elsewhere; its class uses the helpers below.  See hw/virtio/virtio-pci.c
 * for the register layout.
 */
#ifndef KVMPC_HW_VIRTIO_PCI_H
#define KVMPC_HW_VIRTIO_PCI_H

#include "hw/pci/pci.h"
#include "hw/virtio/virtio.h"
#include "qemu/event_notifier.h"

#define PCI_VENDOR_ID_REDHAT_QUMRANET   0x1af4
#define PCI_DEVICE_ID_VIRTIO_LEGACY_BASE 0x1000     /* + (virtio id - 1) for blk, net... */
#define PCI_DEVICE_ID_VIRTIO_MODERN_BASE 0x1040     /* + virtio id */

/* Vendor capability (4.1.4): cfg_type */
#define VIRTIO_PCI_CAP_COMMON_CFG       1
#define VIRTIO_PCI_CAP_NOTIFY_CFG       2
#define VIRTIO_PCI_CAP_ISR_CFG          3
#define VIRTIO_PCI_CAP_DEVICE_CFG       4
#define VIRTIO_PCI_CAP_PCI_CFG          5
#define PCI_CAP_ID_VNDR                 0x09

/* Where the modern structures sit in BAR4 (as QEMU lays them out). */
#define VIRTIO_PCI_MODERN_BAR           4
#define VIRTIO_PCI_MSIX_BAR             1
#define VIRTIO_PCI_COMMON_OFF           0x0000
#define VIRTIO_PCI_ISR_OFF              0x1000
#define VIRTIO_PCI_DEVICE_OFF           0x2000
#define VIRTIO_PCI_NOTIFY_OFF           0x3000
#define VIRTIO_PCI_REGION_SIZE          0x1000
#define VIRTIO_PCI_MODERN_BAR_SIZE      0x4000
#define VIRTIO_PCI_NOTIFY_MULTIPLIER    4

/* Common configuration (4.1.4.3) */
#define VIRTIO_PCI_COMMON_DFSELECT      0x00
#define VIRTIO_PCI_COMMON_DF            0x04
#define VIRTIO_PCI_COMMON_GFSELECT      0x08
#define VIRTIO_PCI_COMMON_GF            0x0c
#define VIRTIO_PCI_COMMON_MSIX          0x10
#define VIRTIO_PCI_COMMON_NUMQ          0x12
#define VIRTIO_PCI_COMMON_STATUS        0x14
#define VIRTIO_PCI_COMMON_CFGGENERATION 0x15
#define VIRTIO_PCI_COMMON_Q_SELECT      0x16
#define VIRTIO_PCI_COMMON_Q_SIZE        0x18
#define VIRTIO_PCI_COMMON_Q_MSIX        0x1a
#define VIRTIO_PCI_COMMON_Q_ENABLE      0x1c
#define VIRTIO_PCI_COMMON_Q_NOFF        0x1e
#define VIRTIO_PCI_COMMON_Q_DESCLO      0x20
#define VIRTIO_PCI_COMMON_Q_DESCHI      0x24
#define VIRTIO_PCI_COMMON_Q_AVAILLO     0x28
#define VIRTIO_PCI_COMMON_Q_AVAILHI     0x2c
#define VIRTIO_PCI_COMMON_Q_USEDLO      0x30
#define VIRTIO_PCI_COMMON_Q_USEDHI      0x34

/* Legacy I/O BAR0 (4.1.4.8) */
#define VIRTIO_PCI_HOST_FEATURES        0x00
#define VIRTIO_PCI_GUEST_FEATURES       0x04
#define VIRTIO_PCI_QUEUE_PFN            0x08
#define VIRTIO_PCI_QUEUE_NUM            0x0c
#define VIRTIO_PCI_QUEUE_SEL            0x0e
#define VIRTIO_PCI_QUEUE_NOTIFY         0x10
#define VIRTIO_PCI_STATUS               0x12
#define VIRTIO_PCI_ISR                  0x13
#define VIRTIO_MSI_CONFIG_VECTOR        0x14    /* only while MSI-X is enabled */
#define VIRTIO_MSI_QUEUE_VECTOR         0x16
#define VIRTIO_PCI_CONFIG_OFF(msix)     ((msix) ? 0x18 : 0x14)

typedef enum VirtIOPCIOnOffAuto {
    VIRTIO_PCI_AUTO, VIRTIO_PCI_ON, VIRTIO_PCI_OFF,
} VirtIOPCIOnOffAuto;

typedef struct VirtIOPCIProxy VirtIOPCIProxy;

/* A queue's ioeventfd: a guest write to its notify address sets it. */
typedef struct VirtIOPCIQueueNotifier {
    EventNotifier e;            /* first: the handler gets &e */
    VirtIOPCIProxy *proxy;
    unsigned n;
} VirtIOPCIQueueNotifier;

struct VirtIOPCIProxy {
    PCIDevice pci;
    VirtIODevice *vdev;
    MemoryRegion legacy_io;         /* BAR0 */
    MemoryRegion modern_bar;        /* BAR4: container */
    MemoryRegion common, isr, device, notify;
    uint8_t cfg_cap;                /* offset of the PCI cfg access capability */
    bool legacy_enabled, modern_enabled;
    uint32_t dfselect, gfselect;
    uint16_t class_code;
    VirtIOPCIQueueNotifier notifiers[VIRTIO_QUEUE_MAX];
    bool ioeventfd_started;
    /* properties */
    int disable_legacy;             /* VirtIOPCIOnOffAuto */
    bool disable_modern;
    uint32_t nvectors;              /* UINT32_MAX: queues + 1 */
    int ioeventfd;                  /* VirtIOPCIOnOffAuto: auto = on under KVM */
    bool packed;
};

/* For the device's property list (offsets in VirtIOPCIProxy, which is first
 * in the device's state). */
extern const char *const virtio_pci_onoffauto_names[];
#define DEFINE_VIRTIO_PCI_PROPERTIES()                                              \
    DEFINE_PCI_DEVICE_PROPERTIES(),                                                 \
    DEFINE_PROP_ENUM("disable-legacy", VirtIOPCIProxy, disable_legacy,              \
                     virtio_pci_onoffauto_names, VIRTIO_PCI_AUTO),                  \
    DEFINE_PROP_BOOL("disable-modern", VirtIOPCIProxy, disable_modern, false),      \
    DEFINE_PROP_UINT32("vectors", VirtIOPCIProxy, nvectors, UINT32_MAX),           \
    DEFINE_PROP_ENUM("ioeventfd", VirtIOPCIProxy, ioeventfd,                        \
                     virtio_pci_onoffauto_names, VIRTIO_PCI_AUTO),                  \
    DEFINE_PROP_BOOL("packed", VirtIOPCIProxy, packed, false)

/*
 * Called by the device's PCI realize once its VirtIODevice is initialised
 * with its queues and host features: sets IDs and class, the BARs, the
 * capabilities and MSI-X, and adds the transport's feature bits.
 */
bool virtio_pci_realize(VirtIOPCIProxy *proxy, VirtIODevice *vdev, uint16_t class_code,
                        Error **errp);
void virtio_pci_exit(VirtIOPCIProxy *proxy);
/* Resets the device (core and device parts) and the transport. */
void virtio_pci_reset(VirtIOPCIProxy *proxy);
uint32_t virtio_pci_config_read(PCIDevice *d, uint32_t addr, int len);
void virtio_pci_config_write(PCIDevice *d, uint32_t addr, uint32_t val, int len);

extern const VMStateDescription vmstate_virtio_pci;
#define VMSTATE_VIRTIO_PCI(f, S) VMSTATE_STRUCT(f, S, vmstate_virtio_pci, VirtIOPCIProxy)

#endif

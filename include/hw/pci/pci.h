/*
 * PCI: buses, devices, configuration space and BARs.
 *
 * A PCI device's state struct embeds PCIDevice as its first member, and its
 * class is a PCIDeviceClass (which embeds DeviceClass first, with
 * bus_type "PCI"; use PCI_DEVICE_CLASS_INIT to fill the generic parts).
 * The core keeps each device's 256-byte configuration space with a
 * write mask and a write-1-to-clear mask, and maps the device's BARs into
 * the bus's memory and I/O spaces whenever the guest programs a BAR or the
 * command register.  A host bridge (hw/pci-host/) turns the guest's
 * configuration cycles into pci_host_config_read/write.
 */
#ifndef KVMPC_HW_PCI_H
#define KVMPC_HW_PCI_H

#include "hw/qdev.h"
#include "hw/memory.h"

#define PCI_CONFIG_SPACE_SIZE   0x100
#define PCI_NUM_REGIONS         7       /* 6 BARs + expansion ROM */
#define PCI_ROM_SLOT            6
#define PCI_DEVFN(slot, fn)     ((((slot) & 0x1f) << 3) | ((fn) & 7))
#define PCI_SLOT(devfn)         (((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn)         ((devfn) & 7)

/* Configuration space registers (type 0 header). */
#define PCI_VENDOR_ID           0x00
#define PCI_DEVICE_ID           0x02
#define PCI_COMMAND             0x04
#define  PCI_COMMAND_IO         0x1
#define  PCI_COMMAND_MEMORY     0x2
#define  PCI_COMMAND_MASTER     0x4
#define  PCI_COMMAND_PARITY     0x40
#define  PCI_COMMAND_SERR       0x100
#define  PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS              0x06
#define  PCI_STATUS_INTERRUPT   0x08    /* INTx asserted (read-only) */
#define  PCI_STATUS_CAP_LIST    0x10    /* capability list at PCI_CAPABILITY_LIST */
#define PCI_REVISION_ID         0x08
#define PCI_CLASS_PROG          0x09
#define PCI_CLASS_DEVICE        0x0a
#define PCI_CACHE_LINE_SIZE     0x0c
#define PCI_LATENCY_TIMER       0x0d
#define PCI_HEADER_TYPE         0x0e
#define  PCI_HEADER_TYPE_MULTI_FUNCTION 0x80
#define PCI_BASE_ADDRESS_0      0x10
#define  PCI_BASE_ADDRESS_SPACE_IO      0x01
#define  PCI_BASE_ADDRESS_MEM_TYPE_64   0x04
#define  PCI_BASE_ADDRESS_MEM_PREFETCH  0x08
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID        0x2e
#define PCI_ROM_ADDRESS         0x30
#define  PCI_ROM_ADDRESS_ENABLE 0x01
#define  PCI_ROM_ADDRESS_MASK   (~0x7ffu)
#define PCI_CAPABILITY_LIST     0x34    /* offset of the first capability */
#define PCI_CONFIG_HEADER_SIZE  0x40    /* capabilities live above the header */
#define PCI_INTERRUPT_LINE      0x3c
#define PCI_INTERRUPT_PIN       0x3d

/* Capability IDs (PCI Local Bus 3.0, appendix H). */
#define PCI_CAP_ID_MSI          0x05
#define PCI_CAP_ID_MSIX         0x11
#define PCI_CAP_LIST_ID         0       /* within a capability: its ID */
#define PCI_CAP_LIST_NEXT       1       /* and the offset of the next one */

#define PCI_CLASS_BRIDGE_HOST   0x0600
#define PCI_CLASS_OTHERS        0xff00

#define PCI_BAR_UNMAPPED        UINT64_MAX

typedef struct PCIBus PCIBus;
typedef struct PCIDevice PCIDevice;
typedef struct MSIXState MSIXState;
typedef struct PCIIrqfd PCIIrqfd;

typedef struct PCIIORegion {
    uint64_t size;              /* 0: BAR not implemented */
    uint8_t type;               /* PCI_BASE_ADDRESS_* bits */
    MemoryRegion *mr;
    uint64_t addr;              /* where it is mapped, or PCI_BAR_UNMAPPED */
} PCIIORegion;

struct PCIDevice {
    DeviceState qdev;
    PCIBus *bus;
    int devfn;
    uint8_t config[PCI_CONFIG_SPACE_SIZE];
    uint8_t wmask[PCI_CONFIG_SPACE_SIZE];       /* bits the guest may write */
    uint8_t w1cmask[PCI_CONFIG_SPACE_SIZE];     /* bits a 1 clears */
    PCIIORegion io_regions[PCI_NUM_REGIONS];
    uint8_t used[PCI_CONFIG_SPACE_SIZE];        /* bytes claimed by capabilities */
    /* INTx: the level the device drives (pci_set_irq) and what reaches the
     * bus (0 while INTx is disabled or MSI/MSI-X is on). */
    int intx_level;
    int intx_bus_level;
    /* MSI (hw/pci/msi.c): capability offset, 0 if none. */
    uint8_t msi_cap;
    PCIIrqfd **msi_irqfds;                      /* per vector, NULL until asked for */
    /* MSI-X (hw/pci/msix.c), NULL if none. */
    MSIXState *msix;
    uint8_t msix_cap_off;
    /* Expansion ROM (BAR 6), loaded from romfile at realize. */
    MemoryRegion rom;
    bool has_rom;
    /* The identity registers (0x00-0x2f) as realize left them: a device may
     * change the class's IDs (virtio-pci: modern-only IDs, subsystem), and
     * a loaded config space must match these. */
    uint8_t realized_id[0x30];
    /* properties */
    char *addr_str;             /* "slot[.fn]", slot in hex; NULL: first free slot */
    bool multifunction;
    char *romfile;              /* NULL: the class's; "": no ROM */
    uint32_t rombar;            /* 0: no ROM BAR (the ROM is hidden) */
};

typedef struct PCIDeviceClass {
    DeviceClass parent;
    uint16_t vendor_id, device_id;
    uint16_t subsystem_vendor_id, subsystem_id;
    uint8_t revision;
    uint16_t class_id;
    bool is_bridge_fixed;               /* may sit at 00.0 (the host bridge) */
    const char *romfile;                /* default expansion ROM image, or NULL */
    void (*realize)(PCIDevice *d, Error **errp);
    void (*exit)(PCIDevice *d);
    void (*reset)(PCIDevice *d);
    /* Optional overrides; the defaults below do the standard registers. */
    uint32_t (*config_read)(PCIDevice *d, uint32_t addr, int len);
    void (*config_write)(PCIDevice *d, uint32_t addr, uint32_t val, int len);
} PCIDeviceClass;

/*
 * Capabilities.  Add one of `size` bytes with ID `id` at `offset` (0: the
 * first free dword-aligned space above the header) and link it at the head
 * of the list; sets PCI_STATUS_CAP_LIST.  Returns the offset, or 0 with
 * errp set when it does not fit or overlaps another.
 */
uint8_t pci_add_capability(PCIDevice *d, uint8_t id, uint8_t offset, uint8_t size, Error **errp);
/* The offset of the first capability with this ID, 0 if none. */
uint8_t pci_find_capability(PCIDevice *d, uint8_t id);

/*
 * INTx.  The device drives its pin (PCI_INTERRUPT_PIN, set by realize: 1 =
 * INTA#) with pci_set_irq; the bus sees it unless the command register's
 * Interrupt Disable bit is set or MSI/MSI-X is enabled.  The Interrupt
 * Status bit follows the device's level in any case.
 */
void pci_set_irq(PCIDevice *d, int level);
/* Re-evaluate what reaches the bus (after MSI/MSI-X enable changes). */
void pci_update_irq(PCIDevice *d);

/*
 * Message signalled interrupts leave the device as a memory write of `data`
 * (4 bytes) to `addr`; the bus hands it to its MSI hook (set by the machine,
 * see pci_bus_set_msi_hook), which delivers interrupt messages and performs
 * other writes as DMA.  Dropped while the device is not a bus master.
 */
void pci_send_msi(PCIDevice *d, uint64_t addr, uint32_t data);

/* The generic parts of a PCI device class: name, state size, properties
 * (which must start with DEFINE_PCI_DEVICE_PROPERTIES()), then optionally
 * more DeviceClass fields, e.g. `.vmsd = &vmstate_mydev` (whose fields
 * start with VMSTATE_PCI_DEVICE(parent, MyState)). */
#define PCI_DEVICE_CLASS_INIT(n, d, S, p, ...) PCI_DEVICE_CLASS_INIT_(n, d, S, p, true, __VA_ARGS__)
/* For functions only the machine creates (host bridges). */
#define PCI_DEVICE_CLASS_INIT_INTERNAL(n, d, S, p, ...) \
    PCI_DEVICE_CLASS_INIT_(n, d, S, p, false, __VA_ARGS__)
#define PCI_DEVICE_CLASS_INIT_(n, d, S, p, uc, ...)                             \
    .parent = {                                                                 \
        .name = (n), .desc = (d), .bus_type = "PCI", .user_creatable = (uc),    \
        .instance_size = sizeof(S), .props = (p),                               \
        .realize = pci_qdev_realize, .unrealize = pci_qdev_unrealize,           \
        .reset = pci_qdev_reset, __VA_ARGS__                                    \
    }
#define PCI_DEVICE_CLASS_REGISTER(pc)                                           \
    static void __attribute__((constructor)) pc##_register_(void)               \
    {                                                                           \
        device_class_register(&(pc).parent);                                    \
    }
#define DEFINE_PCI_DEVICE_PROPERTIES()                                          \
    DEFINE_PROP_STRING("addr", PCIDevice, addr_str),                            \
    DEFINE_PROP_BOOL("multifunction", PCIDevice, multifunction, false),                \
    DEFINE_PROP_STRING("romfile", PCIDevice, romfile),                                  \
    DEFINE_PROP_UINT32("rombar", PCIDevice, rombar, 1)

#define PCI_DEVICE(obj) ((PCIDevice *)(obj))
#define PCI_DEVICE_GET_CLASS(d) ((const PCIDeviceClass *)((d)->qdev.klass))

void pci_qdev_realize(DeviceState *dev, Error **errp);
void pci_qdev_unrealize(DeviceState *dev);
void pci_qdev_reset(DeviceState *dev);

/*
 * Migration state of the PCI part of a device: the 256-byte configuration
 * space.  Loading it checks that the identity registers (IDs, class,
 * header type) are the device's own, keeps the read-only bits of the BARs,
 * and maps the BARs where the loaded registers place them.
 */
extern const VMStateDescription vmstate_pci_device;
#define VMSTATE_PCI_DEVICE(f, S) VMSTATE_STRUCT(f, S, vmstate_pci_device, PCIDevice)

/* A BAR of mr's size (a power of two, at least 4 for I/O and 16 for memory). */
void pci_register_bar(PCIDevice *d, int n, uint8_t type, MemoryRegion *mr);
uint64_t pci_get_bar_addr(PCIDevice *d, int n);

uint32_t pci_default_read_config(PCIDevice *d, uint32_t addr, int len);
void pci_default_write_config(PCIDevice *d, uint32_t addr, uint32_t val, int len);

static inline void pci_set_byte(uint8_t *p, uint8_t v) { p[0] = v; }
static inline void pci_set_word(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static inline void pci_set_long(uint8_t *p, uint32_t v)
{
    p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24;
}
static inline uint16_t pci_get_word(const uint8_t *p) { return p[0] | (p[1] << 8); }
static inline uint32_t pci_get_long(const uint8_t *p)
{
    return p[0] | (p[1] << 8) | (p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Buses.  mem and io are where BARs are mapped. */
typedef void PCIMSIHook(void *opaque, PCIDevice *dev, uint64_t addr, uint32_t data);
/* INTx routing: which of the bus's nirq lines a device's pin (0 = INTA#)
 * drives, and the line itself. */
typedef int PCIMapIrqFn(PCIDevice *dev, int pin);
typedef void PCISetIrqFn(void *opaque, int line, int level);
#define PCI_BUS_MAX_IRQS 4

struct PCIBus {
    BusState *qbus;
    MemoryRegion *mem, *io;
    PCIDevice *devices[256];
    PCIMSIHook *msi_hook;
    void *msi_opaque;
    PCIMapIrqFn *map_irq;
    PCISetIrqFn *set_irq;
    void *irq_opaque;
    int irq_count[PCI_BUS_MAX_IRQS];    /* devices asserting each line */
};

void pci_bus_set_msi_hook(PCIBus *bus, PCIMSIHook *hook, void *opaque);
void pci_bus_irqs(PCIBus *bus, PCIMapIrqFn *map_irq, PCISetIrqFn *set_irq, void *opaque);

PCIBus *pci_root_bus_new(DeviceState *host, const char *name, MemoryRegion *mem,
                         MemoryRegion *io);
PCIBus *pci_bus_from_qbus(BusState *qbus);
PCIDevice *pci_find_device(PCIBus *bus, int bus_num, int devfn);
/* Create and realize a device of type at devfn (-1: first free slot). */
PCIDevice *pci_create_simple(PCIBus *bus, int devfn, const char *type, Error **errp);

/* Configuration cycles from a host bridge: bus number, devfn, register. */
uint32_t pci_host_config_read(PCIBus *bus, int bus_num, int devfn, uint32_t addr, int len);
void pci_host_config_write(PCIBus *bus, int bus_num, int devfn, uint32_t addr, uint32_t val,
                           int len);

/*
 * Without firmware someone must give BARs addresses: the machine calls
 * this at reset, as SeaBIOS would, placing every implemented BAR (largest
 * first, naturally aligned) in [mem_start, mem_end) or [io_start, io_end),
 * and enabling decoding in the command register.
 */
void pci_bus_assign_bars(PCIBus *bus, uint64_t mem_start, uint64_t mem_end, uint32_t io_start,
                         uint32_t io_end);

#endif

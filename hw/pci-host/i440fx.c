/*
 * i440FX PCI host: configuration mechanism #1 and the host bridge device.
 *
 *   0xcf8  (dword)  CONFIG_ADDRESS: bit 31 enable, 23:16 bus, 15:11 device,
 *                   10:8 function, 7:2 register.  Read back as written.
 *                   Byte and word accesses to 0xcf8-0xcfb are not
 *                   CONFIG_ADDRESS (0xcf9 is the reset control register).
 *   0xcfc-0xcff     CONFIG_DATA: a byte, word or dword of the addressed
 *                   register (offset within the dword from the port).
 *
 * Writes to CONFIG_ADDRESS are coalesced: with KVM they are queued in the
 * kernel and replayed before the next exit, which is always the access to
 * CONFIG_DATA that follows, so a configuration read costs one exit instead
 * of two.  The bridge itself is device 00.0 (8086:1237); PAM and SMRAM
 * come with the chipset work.
 */
#include <glib.h>
#include "hw/pci/pci.h"
#include "hw/pci-host/i440fx.h"

typedef struct I440FXHost {
    DeviceState parent;
    MemoryRegion conf, data;
    uint32_t config_addr;
    PCIBus *bus;
} I440FXHost;

static uint64_t conf_read(void *opaque, uint64_t addr, unsigned size)
{
    I440FXHost *s = opaque;

    return addr == 0 && size == 4 ? s->config_addr : ~0ULL;
}

static void conf_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    I440FXHost *s = opaque;

    if (addr == 0 && size == 4) {
        s->config_addr = (uint32_t)val & 0x80fffffc;
    }
}

static const MemoryRegionOps conf_ops = {
    .read = conf_read,
    .write = conf_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

static uint64_t data_read(void *opaque, uint64_t addr, unsigned size)
{
    I440FXHost *s = opaque;
    uint32_t a = s->config_addr;

    if (!(a & 0x80000000u)) {
        return ~0ULL;
    }
    return pci_host_config_read(s->bus, (a >> 16) & 0xff, (a >> 8) & 0xff,
                                (a & 0xfc) | (uint32_t)addr, (int)size);
}

static void data_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    I440FXHost *s = opaque;
    uint32_t a = s->config_addr;

    if (a & 0x80000000u) {
        pci_host_config_write(s->bus, (a >> 16) & 0xff, (a >> 8) & 0xff,
                              (a & 0xfc) | (uint32_t)addr, (uint32_t)val, (int)size);
    }
}

static const MemoryRegionOps data_ops = {
    .read = data_read,
    .write = data_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

static void i440fx_host_instance_init(DeviceState *dev)
{
    I440FXHost *s = (I440FXHost *)dev;

    memory_region_init_io(&s->conf, &conf_ops, s, "pci-conf-idx", 4);
    memory_region_init_io(&s->data, &data_ops, s, "pci-conf-data", 4);
    memory_region_add_coalescing(&s->conf, 0, 4);
}

static void i440fx_host_reset(DeviceState *dev)
{
    ((I440FXHost *)dev)->config_addr = 0;
}

static void i440fx_host_finalize(DeviceState *dev)
{
    I440FXHost *s = (I440FXHost *)dev;

    memory_region_destroy(&s->conf);
    memory_region_destroy(&s->data);
}

static const VMStateDescription vmstate_i440fx_host = {
    .name = "i440FX-pcihost",
    .version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(config_addr, I440FXHost),
        VMSTATE_END_OF_LIST()
    },
};

static const DeviceClass i440fx_host_class = {
    .name = "i440FX-pcihost",
    .desc = "i440FX PCI host (configuration mechanism #1 at 0xcf8/0xcfc)",
    .category = DEVICE_CATEGORY_BRIDGE,
    .instance_size = sizeof(I440FXHost),
    .vmsd = &vmstate_i440fx_host,
    .instance_init = i440fx_host_instance_init,
    .reset = i440fx_host_reset,
    .finalize = i440fx_host_finalize,
};

DEVICE_CLASS_REGISTER(i440fx_host_class)

PCIBus *i440fx_init(MemoryRegion *pci_mem, MemoryRegion *io, Error **errp)
{
    DeviceState *dev = qdev_new("i440FX-pcihost", errp);
    I440FXHost *s = (I440FXHost *)dev;

    if (!dev) {
        return NULL;
    }
    qdev_set_machine_child(dev, "i440fx");
    if (!qdev_realize(dev, NULL, errp)) {
        qdev_free(dev);
        return NULL;
    }
    s->bus = pci_root_bus_new(dev, "pci.0", pci_mem, io);
    memory_region_add_subregion(io, 0xcf8, &s->conf);
    memory_region_add_subregion(io, 0xcfc, &s->data);
    if (!pci_create_simple(s->bus, PCI_DEVFN(0, 0), "i440FX", errp)) {
        return NULL;
    }
    return s->bus;
}

/* ---- the host bridge's own function, 00.0 ----------------------------- */

typedef struct I440FXState {
    PCIDevice parent;
} I440FXState;

static const Property i440fx_props[] = {
    DEFINE_PCI_DEVICE_PROPERTIES(),
    DEFINE_PROP_END_OF_LIST(),
};

/* PAM and SMRAM registers will join the configuration space; for now it is
 * all there is. */
static const VMStateDescription vmstate_i440fx = {
    .name = "i440FX",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent, I440FXState),
        VMSTATE_END_OF_LIST(),
    },
};

static const PCIDeviceClass i440fx_class = {
    PCI_DEVICE_CLASS_INIT_INTERNAL("i440FX", "Host bridge", I440FXState, i440fx_props,
                                   .vmsd = &vmstate_i440fx),
    .vendor_id = 0x8086,
    .device_id = 0x1237,
    .revision = 0x02,
    .class_id = PCI_CLASS_BRIDGE_HOST,
};

PCI_DEVICE_CLASS_REGISTER(i440fx_class)

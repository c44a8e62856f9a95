/*
 * "VGA" (1234:1111): the standard VGA on PCI, as QEMU's -device VGA.
 *
 * BAR0  prefetchable memory, vgamem_mb MiB: the linear framebuffer (VRAM)
 * BAR2  memory, 4 KiB ("mmio", QEMU's layout):
 *   0x400-0x41f  the VGA ports 0x3c0-0x3df (byte access)
 *   0x500-0x515  the DISPI registers, index (off - 0x500) / 2 (16-bit)
 *   0x600-0x607  QEMU extended registers: 0x600 RO size of the region
 *                (8), 0x604 framebuffer endianness (0x1e1e1e1e little;
 *                writes are ignored: kvmpc is little-endian only)
 *   others read 0xff.. / writes ignored
 * Plus the legacy window 0xa0000-0xbffff and ports 0x3b0-0x3df, 0x1ce-0x1cf
 * on the PCI bus's address spaces, and the VGA BIOS as expansion ROM
 * (romfile=, default vgabios-stdvga.bin from SeaBIOS; rombar=0 hides it).
 */
#include <glib.h>
#include "hw/pci/pci.h"
#include "hw/display/vga.h"

#define PCI_CLASS_DISPLAY_VGA   0x0300
#define VGA_PCI_MMIO_SIZE       0x1000
#define VGA_MMIO_IOPORT         0x400
#define VGA_MMIO_BOCHS          0x500
#define VGA_MMIO_QEXT           0x600
#define  QEXT_SIZE              8
#define  QEXT_LITTLE_ENDIAN     0x1e1e1e1eu

typedef struct PCIVGAState {
    PCIDevice parent;
    VGACommonState vga;
    MemoryRegion mmio;
    bool legacy_mapped;
} PCIVGAState;

static uint64_t vga_pci_mmio_read(void *opaque, uint64_t addr, unsigned size)
{
    PCIVGAState *d = opaque;

    if (addr >= VGA_MMIO_IOPORT && addr < VGA_MMIO_IOPORT + 0x20 && size == 1) {
        return vga_ioport_read(&d->vga, 0x3c0 + (uint32_t)(addr - VGA_MMIO_IOPORT));
    }
    if (addr >= VGA_MMIO_BOCHS && addr < VGA_MMIO_BOCHS + 2 * VBE_DISPI_INDEX_NB && size == 2 &&
        !(addr & 1)) {
        return vbe_read_reg(&d->vga, (unsigned)(addr - VGA_MMIO_BOCHS) / 2);
    }
    if (addr == VGA_MMIO_QEXT && size == 4) {
        return QEXT_SIZE;
    }
    if (addr == VGA_MMIO_QEXT + 4 && size == 4) {
        return QEXT_LITTLE_ENDIAN;
    }
    return size == 8 ? UINT64_MAX : (1ULL << (size * 8)) - 1;
}

static void vga_pci_mmio_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    PCIVGAState *d = opaque;

    if (addr >= VGA_MMIO_IOPORT && addr < VGA_MMIO_IOPORT + 0x20) {
        /* a 16-bit write is index then data, as on the ports */
        for (unsigned i = 0; i < size && addr + i < VGA_MMIO_IOPORT + 0x20; i++) {
            vga_ioport_write(&d->vga, 0x3c0 + (uint32_t)(addr + i - VGA_MMIO_IOPORT),
                             (uint32_t)(val >> (8 * i)) & 0xff);
        }
        return;
    }
    if (addr >= VGA_MMIO_BOCHS && addr < VGA_MMIO_BOCHS + 2 * VBE_DISPI_INDEX_NB && size == 2 &&
        !(addr & 1)) {
        vbe_write_reg(&d->vga, (unsigned)(addr - VGA_MMIO_BOCHS) / 2, (uint32_t)val);
    }
}

static const MemoryRegionOps vga_pci_mmio_ops = {
    .read = vga_pci_mmio_read,
    .write = vga_pci_mmio_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

static void vga_pci_exit(PCIDevice *pd)
{
    PCIVGAState *d = (PCIVGAState *)pd;

    if (d->legacy_mapped) {
        vga_exit_legacy(&d->vga, pd->bus->mem, pd->bus->io);
        d->legacy_mapped = false;
    }
    memory_region_destroy(&d->mmio);
    vga_common_exit(&d->vga);
}

static void vga_pci_realize(PCIDevice *pd, Error **errp)
{
    PCIVGAState *d = (PCIVGAState *)pd;

    if (qemu_console_lookup_default()) {
        /* one legacy VGA per machine: the window and ports are fixed */
        error_setg(errp, "VGA: only one VGA device is supported");
        return;
    }
    if (!vga_common_init(&d->vga, "VGA", errp)) {
        return;
    }
    memory_region_init_io(&d->mmio, &vga_pci_mmio_ops, d, "vga.mmio", VGA_PCI_MMIO_SIZE);
    pci_register_bar(pd, 0, PCI_BASE_ADDRESS_MEM_PREFETCH, &d->vga.vram);
    pci_register_bar(pd, 2, 0, &d->mmio);
    vga_init_legacy(&d->vga, pd->bus->mem, pd->bus->io);
    d->legacy_mapped = true;
    vga_common_reset(&d->vga);
}

static void vga_pci_reset(PCIDevice *pd)
{
    vga_common_reset(&((PCIVGAState *)pd)->vga);
}

static const VMStateField vga_pci_fields[] = {
    VMSTATE_PCI_DEVICE(parent, PCIVGAState),
    VMSTATE_STRUCT(vga, PCIVGAState, vmstate_vga_common, VGACommonState),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_vga_pci = {
    .name = "vga-pci",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = vga_pci_fields,
};

static const Property vga_pci_props[] = {
    DEFINE_PCI_DEVICE_PROPERTIES(),
    DEFINE_PROP_UINT32("vgamem_mb", PCIVGAState, vga.vram_size_mb, 16),
    DEFINE_PROP_END_OF_LIST(),
};

static const PCIDeviceClass vga_pci_class = {
    PCI_DEVICE_CLASS_INIT("VGA", "standard VGA (Bochs VBE, 1234:1111)", PCIVGAState,
                          vga_pci_props, .vmsd = &vmstate_vga_pci,
                          .category = DEVICE_CATEGORY_DISPLAY),
    .vendor_id = 0x1234,
    .device_id = 0x1111,
    .revision = 2,
    .subsystem_vendor_id = 0x1af4,
    .subsystem_id = 0x1100,
    .class_id = PCI_CLASS_DISPLAY_VGA,
    .romfile = "vgabios-stdvga.bin",
    .realize = vga_pci_realize,
    .reset = vga_pci_reset,
    .exit = vga_pci_exit,
};
PCI_DEVICE_CLASS_REGISTER(vga_pci_class)

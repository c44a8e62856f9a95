/*
 * PCI core: configuration space, BAR mapping, buses, and the firmware-less
 * BAR assignment the direct-boot machine does at reset.
 * See include/hw/pci/pci.h.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "hw/pci/pci.h"
#include "hw/pci/msi.h"
#include "hw/pci/msix.h"
#include "qemu/log.h"
#include "hw/machine.h"
#include "hw/i386/firmware.h"

static GPtrArray *pci_buses;

/* ---- buses -------------------------------------------------------------- */

PCIBus *pci_root_bus_new(DeviceState *host, const char *name, MemoryRegion *mem,
                         MemoryRegion *io)
{
    PCIBus *bus = g_new0(PCIBus, 1);

    bus->qbus = qbus_new("PCI", host, name);
    bus->mem = mem;
    bus->io = io;
    if (!pci_buses) {
        pci_buses = g_ptr_array_new();
    }
    g_ptr_array_add(pci_buses, bus);
    return bus;
}

void pci_bus_set_msi_hook(PCIBus *bus, PCIMSIHook *hook, void *opaque)
{
    bus->msi_hook = hook;
    bus->msi_opaque = opaque;
}

void pci_bus_irqs(PCIBus *bus, PCIMapIrqFn *map_irq, PCISetIrqFn *set_irq, void *opaque)
{
    bus->map_irq = map_irq;
    bus->set_irq = set_irq;
    bus->irq_opaque = opaque;
}

PCIBus *pci_bus_from_qbus(BusState *qbus)
{
    for (guint i = 0; pci_buses && i < pci_buses->len; i++) {
        PCIBus *b = g_ptr_array_index(pci_buses, i);
        if (b->qbus == qbus) {
            return b;
        }
    }
    return NULL;
}

PCIDevice *pci_find_device(PCIBus *bus, int bus_num, int devfn)
{
    if (!bus || bus_num != 0 || devfn < 0 || devfn > 255) {
        return NULL;            /* one root bus, no bridges (yet) */
    }
    return bus->devices[devfn];
}

PCIDevice *pci_create_simple(PCIBus *bus, int devfn, const char *type, Error **errp)
{
    DeviceState *dev = qdev_new(type, errp);

    if (!dev) {
        return NULL;
    }
    if (devfn >= 0) {
        g_autofree char *a = g_strdup_printf("%x.%d", PCI_SLOT(devfn), PCI_FUNC(devfn));
        if (!qdev_prop_set_string(dev, "addr", a, errp)) {
            qdev_free(dev);
            return NULL;
        }
    }
    if (!qdev_realize(dev, bus->qbus, errp)) {
        qdev_free(dev);
        return NULL;
    }
    return PCI_DEVICE(dev);
}

/* ---- BARs ----------------------------------------------------------------- */

static int bar_offset(int n)
{
    return n == PCI_ROM_SLOT ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4 * n;
}

void pci_register_bar(PCIDevice *d, int n, uint8_t type, MemoryRegion *mr)
{
    PCIIORegion *r = &d->io_regions[n];
    uint64_t size = memory_region_size(mr);
    int off = bar_offset(n);
    uint64_t wmask;

    g_assert(n >= 0 && n < PCI_NUM_REGIONS && n != PCI_ROM_SLOT);
    g_assert(size && !(size & (size - 1)));
    g_assert(!(type & PCI_BASE_ADDRESS_MEM_TYPE_64) || n < 5);
    if (type & PCI_BASE_ADDRESS_SPACE_IO) {
        g_assert(size >= 4 && size <= 0x10000);
        type = PCI_BASE_ADDRESS_SPACE_IO;
    } else {
        g_assert(size >= 16);
    }
    r->size = size;
    r->type = type;
    r->mr = mr;
    r->addr = PCI_BAR_UNMAPPED;
    pci_set_long(d->config + off, type);
    wmask = ~(size - 1);
    if (type & PCI_BASE_ADDRESS_SPACE_IO) {
        wmask &= 0xfffffffc;
    } else {
        wmask &= ~(uint64_t)0xf;
    }
    pci_set_long(d->wmask + off, (uint32_t)wmask);
    if (type & PCI_BASE_ADDRESS_MEM_TYPE_64) {
        pci_set_long(d->config + off + 4, 0);
        pci_set_long(d->wmask + off + 4, (uint32_t)(wmask >> 32));
    }
}

/*
 * The expansion ROM: romfile (or the class's default), found like the
 * BIOS (a path, -L dirs, the firmware directories), in a ROM region of the
 * file's size rounded up to a power of two (at least 2 KiB), behind BAR 6
 * (config 0x30: address bits 31:11, bit 0 enables decoding, which also
 * needs the Memory Space bit).  rombar=0 loads nothing and shows no BAR
 * (QEMU would hand the ROM to the firmware through fw_cfg instead);
 * romfile="" means no ROM.
 */
/*
 * One ROM for several devices (iPXE's efi-virtio.rom says 1af4:1041 in its
 * PCI data structure, and SeaBIOS runs a ROM only if the IDs there match
 * the function): the class's default ROM gets the function's vendor and
 * device IDs in its first image, and byte 6 (which iPXE leaves for this)
 * absorbs the change so the image still sums to zero.  QEMU does the same;
 * a ROM the user names is left as it is.
 */
static void pci_rom_patch_ids(PCIDevice *d, uint8_t *rom, size_t len)
{
    uint16_t ids[2] = { pci_get_word(d->config + PCI_VENDOR_ID),
                        pci_get_word(d->config + PCI_DEVICE_ID) };
    size_t pcir;
    uint8_t delta = 0;

    if (len < 0x20 || rom[0] != 0x55 || rom[1] != 0xaa) {
        return;
    }
    pcir = rom[0x18] | rom[0x19] << 8;
    if (pcir + 8 > len || memcmp(rom + pcir, "PCIR", 4)) {
        return;
    }
    for (int i = 0; i < 2; i++) {
        uint8_t *p = rom + pcir + 4 + 2 * i;

        delta += p[0] + p[1];
        p[0] = ids[i];
        p[1] = ids[i] >> 8;
        delta -= p[0] + p[1];
    }
    rom[6] += delta;
}

static bool pci_add_option_rom(PCIDevice *d, const PCIDeviceClass *pc, Error **errp)
{
    const char *name = d->romfile ? d->romfile : pc->romfile;
    PCIIORegion *r = &d->io_regions[PCI_ROM_SLOT];
    g_autofree char *path = NULL, *data = NULL, *rname = NULL;
    gsize len = 0;
    uint64_t size = 2048;
    GError *gerr = NULL;

    if (!name || !*name || !d->rombar) {
        return true;
    }
    path = firmware_find(name, current_machine ? current_machine->firmware_dirs : NULL);
    if (!path) {
        error_setg(errp, "%s: Property 'romfile': could not find ROM image '%s'",
                   d->qdev.klass->name, name);
        return false;
    }
    if (!g_file_get_contents(path, &data, &len, &gerr)) {
        error_setg(errp, "%s: Property 'romfile': %s", d->qdev.klass->name, gerr->message);
        g_error_free(gerr);
        return false;
    }
    if (len == 0 || len > (1u << 24)) {
        error_setg(errp, "%s: Property 'romfile': '%s' is empty or larger than 16 MiB",
                   d->qdev.klass->name, path);
        return false;
    }
    while (size < len) {
        size <<= 1;
    }
    rname = g_strdup_printf("%s.rom", d->qdev.klass->name);
    if (!memory_region_init_rom(&d->rom, rname, size, errp)) {
        return false;
    }
    if (!d->romfile) {
        pci_rom_patch_ids(d, (uint8_t *)data, len);
    }
    memcpy(memory_region_get_ram_ptr(&d->rom), data, len);
    d->has_rom = true;
    r->size = size;
    r->type = 0;
    r->mr = &d->rom;
    r->addr = PCI_BAR_UNMAPPED;
    pci_set_long(d->config + PCI_ROM_ADDRESS, 0);
    pci_set_long(d->wmask + PCI_ROM_ADDRESS,
                 ((uint32_t)~(size - 1) & PCI_ROM_ADDRESS_MASK) | PCI_ROM_ADDRESS_ENABLE);
    return true;
}

static void pci_del_option_rom(PCIDevice *d)
{
    if (d->has_rom) {
        memset(&d->io_regions[PCI_ROM_SLOT], 0, sizeof(d->io_regions[PCI_ROM_SLOT]));
        d->io_regions[PCI_ROM_SLOT].addr = PCI_BAR_UNMAPPED;
        memory_region_destroy(&d->rom);
        d->has_rom = false;
    }
}

uint64_t pci_get_bar_addr(PCIDevice *d, int n)
{
    return d->io_regions[n].addr;
}

/* Where the BAR's current register value places it, or PCI_BAR_UNMAPPED. */
static uint64_t bar_address(PCIDevice *d, int n)
{
    PCIIORegion *r = &d->io_regions[n];
    uint16_t cmd = pci_get_word(d->config + PCI_COMMAND);
    int off = bar_offset(n);
    uint64_t addr, last;

    if (r->type & PCI_BASE_ADDRESS_SPACE_IO) {
        if (!(cmd & PCI_COMMAND_IO)) {
            return PCI_BAR_UNMAPPED;
        }
        addr = pci_get_long(d->config + off) & ~(uint64_t)(r->size - 1) & 0xfffffffc;
        last = addr + r->size - 1;
        /* I/O space is 64 KiB; 0 is "not programmed". */
        if (addr == 0 || last > 0xffff) {
            return PCI_BAR_UNMAPPED;
        }
        return addr;
    }
    if (!(cmd & PCI_COMMAND_MEMORY)) {
        return PCI_BAR_UNMAPPED;
    }
    addr = pci_get_long(d->config + off);
    if (n == PCI_ROM_SLOT) {
        if (!(addr & PCI_ROM_ADDRESS_ENABLE)) {
            return PCI_BAR_UNMAPPED;
        }
        addr &= PCI_ROM_ADDRESS_MASK;
    }
    if (r->type & PCI_BASE_ADDRESS_MEM_TYPE_64) {
        addr |= (uint64_t)pci_get_long(d->config + off + 4) << 32;
    }
    addr &= ~(r->size - 1) & ~(uint64_t)0xf;
    last = addr + r->size - 1;
    /* Unprogrammed (0), being sized (all ones: ends at the top of the
     * space), wrapping, or for a 32-bit BAR, beyond 4 GiB. */
    if (addr == 0 || last < addr ||
        (!(r->type & PCI_BASE_ADDRESS_MEM_TYPE_64) && last >= UINT32_MAX) ||
        last == UINT64_MAX) {
        return PCI_BAR_UNMAPPED;
    }
    return addr;
}

static void pci_update_mappings(PCIDevice *d)
{
    memory_region_transaction_begin();
    for (int n = 0; n < PCI_NUM_REGIONS; n++) {
        PCIIORegion *r = &d->io_regions[n];
        MemoryRegion *space;
        uint64_t addr;

        if (!r->size) {
            continue;
        }
        space = (r->type & PCI_BASE_ADDRESS_SPACE_IO) ? d->bus->io : d->bus->mem;
        addr = bar_address(d, n);
        if (addr == r->addr) {
            continue;
        }
        if (r->addr != PCI_BAR_UNMAPPED) {
            memory_region_del_subregion(space, r->mr);
        }
        r->addr = addr;
        if (addr != PCI_BAR_UNMAPPED) {
            memory_region_add_subregion_overlap(space, addr, r->mr, 1);
        }
    }
    memory_region_transaction_commit();
}

/* ---- INTx and MSI ------------------------------------------------------------ */

static bool pci_intx_allowed(PCIDevice *d)
{
    return !(pci_get_word(d->config + PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE) &&
           !msi_enabled(d) && !msix_enabled(d);
}

/* The bus line of INTx pin (1-4 in PCI_INTERRUPT_PIN), or -1. */
static int pci_intx_line(PCIDevice *d)
{
    int pin = d->config[PCI_INTERRUPT_PIN];
    int line;

    if (!d->bus || !d->bus->map_irq || pin < 1 || pin > 4) {
        return -1;
    }
    line = d->bus->map_irq(d, pin - 1);
    return line >= 0 && line < PCI_BUS_MAX_IRQS ? line : -1;
}

static void pci_set_bus_level(PCIDevice *d, int level)
{
    PCIBus *bus = d->bus;
    int line = pci_intx_line(d);

    if (d->intx_bus_level == level) {
        return;
    }
    d->intx_bus_level = level;
    if (line < 0) {
        return;
    }
    /* Lines are shared (wired-OR): the line is high while any device on it is. */
    bus->irq_count[line] += level ? 1 : -1;
    if (bus->set_irq) {
        bus->set_irq(bus->irq_opaque, line, bus->irq_count[line] > 0);
    }
}

void pci_update_irq(PCIDevice *d)
{
    uint16_t status = pci_get_word(d->config + PCI_STATUS);

    status = d->intx_level ? status | PCI_STATUS_INTERRUPT : status & ~PCI_STATUS_INTERRUPT;
    pci_set_word(d->config + PCI_STATUS, status);
    pci_set_bus_level(d, d->intx_level && pci_intx_allowed(d));
}

void pci_set_irq(PCIDevice *d, int level)
{
    d->intx_level = level != 0;
    pci_update_irq(d);
}

void pci_send_msi(PCIDevice *d, uint64_t addr, uint32_t data)
{
    if (!(pci_get_word(d->config + PCI_COMMAND) & PCI_COMMAND_MASTER)) {
        qemu_log_mask(LOG_GUEST_ERROR, "pci %02x.%d (%s): MSI while bus mastering is off; "
                      "dropped\n", PCI_SLOT(d->devfn), PCI_FUNC(d->devfn), d->qdev.klass->name);
        return;
    }
    if (d->bus && d->bus->msi_hook) {
        d->bus->msi_hook(d->bus->msi_opaque, d, addr, data);
    }
}

/* ---- capabilities ------------------------------------------------------------ */

uint8_t pci_find_capability(PCIDevice *d, uint8_t id)
{
    uint8_t off;
    int guard = 0;

    if (!(pci_get_word(d->config + PCI_STATUS) & PCI_STATUS_CAP_LIST)) {
        return 0;
    }
    for (off = d->config[PCI_CAPABILITY_LIST]; off && guard < 48; guard++) {
        if (d->config[off + PCI_CAP_LIST_ID] == id) {
            return off;
        }
        off = d->config[off + PCI_CAP_LIST_NEXT];
    }
    return 0;
}

static bool pci_config_range_free(PCIDevice *d, unsigned off, unsigned size)
{
    for (unsigned i = off; i < off + size; i++) {
        if (d->used[i]) {
            return false;
        }
    }
    return true;
}

uint8_t pci_add_capability(PCIDevice *d, uint8_t id, uint8_t offset, uint8_t size, Error **errp)
{
    unsigned off = offset;

    if (size < 2) {
        error_setg(errp, "%s: capability 0x%02x of %u bytes is too small", d->qdev.klass->name,
                   id, size);
        return 0;
    }
    if (!off) {
        for (off = PCI_CONFIG_HEADER_SIZE; off + size <= PCI_CONFIG_SPACE_SIZE; off += 4) {
            if (pci_config_range_free(d, off, size)) {
                break;
            }
        }
    }
    if (off < PCI_CONFIG_HEADER_SIZE || (off & 3) || off + size > PCI_CONFIG_SPACE_SIZE ||
        !pci_config_range_free(d, off, size)) {
        error_setg(errp, "%s: no room for capability 0x%02x (%u bytes at 0x%02x)",
                   d->qdev.klass->name, id, size, offset);
        return 0;
    }
    memset(d->used + off, 1, size);
    d->config[off + PCI_CAP_LIST_ID] = id;
    d->config[off + PCI_CAP_LIST_NEXT] = d->config[PCI_CAPABILITY_LIST];
    d->config[PCI_CAPABILITY_LIST] = (uint8_t)off;
    pci_set_word(d->config + PCI_STATUS,
                 pci_get_word(d->config + PCI_STATUS) | PCI_STATUS_CAP_LIST);
    return (uint8_t)off;
}

/* ---- configuration space ---------------------------------------------------- */

uint32_t pci_default_read_config(PCIDevice *d, uint32_t addr, int len)
{
    uint32_t val = 0;

    for (int i = 0; i < len; i++) {
        val |= (uint32_t)d->config[addr + i] << (8 * i);
    }
    return val;
}

void pci_default_write_config(PCIDevice *d, uint32_t addr, uint32_t val, int len)
{
    bool remap = false;
    uint32_t addr0 = addr, val0 = val;

    for (int i = 0; i < len; i++, addr++, val >>= 8) {
        uint8_t b = val, wm = d->wmask[addr], w1c = d->w1cmask[addr];
        d->config[addr] = (d->config[addr] & ~wm) | (b & wm);
        d->config[addr] &= ~(b & w1c);
        if ((addr >= PCI_BASE_ADDRESS_0 && addr < PCI_BASE_ADDRESS_0 + 24) ||
            (addr >= PCI_ROM_ADDRESS && addr < PCI_ROM_ADDRESS + 4) ||
            addr == PCI_COMMAND || addr == PCI_COMMAND + 1) {
            remap = true;
        }
    }
    if (remap) {
        pci_update_mappings(d);
    }
    if (addr0 <= PCI_COMMAND + 1 && addr0 + len > PCI_COMMAND + 1) {
        pci_update_irq(d);              /* Interrupt Disable may have changed */
    }
    msi_write_config(d, addr0, val0, len);
    msix_write_config(d, addr0, val0, len);
}

static bool config_access_ok(uint32_t addr, int len)
{
    return (len == 1 || len == 2 || len == 4) && addr < PCI_CONFIG_SPACE_SIZE &&
           addr + len <= PCI_CONFIG_SPACE_SIZE && !(addr & (len - 1));
}

uint32_t pci_host_config_read(PCIBus *bus, int bus_num, int devfn, uint32_t addr, int len)
{
    PCIDevice *d = pci_find_device(bus, bus_num, devfn);
    const PCIDeviceClass *pc;

    if (!d || !config_access_ok(addr, len)) {
        return len >= 4 ? 0xffffffffu : (1u << (8 * len)) - 1;     /* no device: all ones */
    }
    pc = PCI_DEVICE_GET_CLASS(d);
    return pc->config_read ? pc->config_read(d, addr, len) : pci_default_read_config(d, addr, len);
}

void pci_host_config_write(PCIBus *bus, int bus_num, int devfn, uint32_t addr, uint32_t val,
                           int len)
{
    PCIDevice *d = pci_find_device(bus, bus_num, devfn);
    const PCIDeviceClass *pc;

    if (!d || !config_access_ok(addr, len)) {
        return;
    }
    pc = PCI_DEVICE_GET_CLASS(d);
    if (pc->config_write) {
        pc->config_write(d, addr, val, len);
    } else {
        pci_default_write_config(d, addr, val, len);
    }
}

/* ---- device life cycle ------------------------------------------------------ */

/* "slot[.fn]": slot in hex (0x prefix allowed), fn 0-7. */
static int parse_devfn(const char *s, Error **errp)
{
    char *end;
    unsigned long slot, fn = 0;

    slot = strtoul(s, &end, 16);
    if (end == s || slot > 31) {
        goto bad;
    }
    if (*end == '.') {
        const char *f = end + 1;
        fn = strtoul(f, &end, 10);
        if (end == f || fn > 7) {
            goto bad;
        }
    }
    if (*end) {
        goto bad;
    }
    return (int)PCI_DEVFN(slot, fn);
bad:
    error_setg(errp, "Property 'addr': '%s' is not a PCI address (slot[.function], slot 0-1f, "
               "function 0-7)", s);
    return -1;
}

static void pci_init_config(PCIDevice *d, const PCIDeviceClass *pc)
{
    memset(d->config, 0, sizeof(d->config));
    memset(d->wmask, 0, sizeof(d->wmask));
    memset(d->w1cmask, 0, sizeof(d->w1cmask));
    memset(d->used, 0, sizeof(d->used));
    memset(d->used, 1, PCI_CONFIG_HEADER_SIZE);
    pci_set_word(d->config + PCI_VENDOR_ID, pc->vendor_id);
    pci_set_word(d->config + PCI_DEVICE_ID, pc->device_id);
    d->config[PCI_REVISION_ID] = pc->revision;
    pci_set_word(d->config + PCI_CLASS_DEVICE, pc->class_id);
    /* A class without subsystem IDs gets QEMU's default, 1af4:1100 (Red
     * Hat, "QEMU"), as every QEMU device does. */
    if (pc->subsystem_vendor_id || pc->subsystem_id) {
        pci_set_word(d->config + PCI_SUBSYSTEM_VENDOR_ID, pc->subsystem_vendor_id);
        pci_set_word(d->config + PCI_SUBSYSTEM_ID, pc->subsystem_id);
    } else {
        pci_set_word(d->config + PCI_SUBSYSTEM_VENDOR_ID, 0x1af4);
        pci_set_word(d->config + PCI_SUBSYSTEM_ID, 0x1100);
    }
    if (d->multifunction) {
        d->config[PCI_HEADER_TYPE] |= PCI_HEADER_TYPE_MULTI_FUNCTION;
    }
    pci_set_word(d->wmask + PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
                 PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
    d->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
    d->wmask[PCI_LATENCY_TIMER] = 0xff;
    d->wmask[PCI_INTERRUPT_LINE] = 0xff;
    /* Status error bits are write-1-to-clear. */
    pci_set_word(d->w1cmask + PCI_STATUS, 0xf900);
}

void pci_qdev_realize(DeviceState *dev, Error **errp)
{
    PCIDevice *d = PCI_DEVICE(dev);
    const PCIDeviceClass *pc = PCI_DEVICE_GET_CLASS(d);
    PCIBus *bus = pci_bus_from_qbus(dev->parent_bus);
    g_autoptr(GError) local = NULL;
    int devfn = -1;

    if (!bus) {
        error_setg(errp, "no PCI bus");
        return;
    }
    if (d->addr_str) {
        devfn = parse_devfn(d->addr_str, errp);
        if (devfn < 0) {
            return;
        }
        if (bus->devices[devfn]) {
            error_setg(errp, "PCI address %02x.%d is already in use by '%s'", PCI_SLOT(devfn),
                       PCI_FUNC(devfn), bus->devices[devfn]->qdev.klass->name);
            return;
        }
        if (PCI_FUNC(devfn) && bus->devices[PCI_DEVFN(PCI_SLOT(devfn), 0)] &&
            !bus->devices[PCI_DEVFN(PCI_SLOT(devfn), 0)]->multifunction) {
            error_setg(errp, "PCI address %02x.%d: function 0 of slot %02x is not multifunction",
                       PCI_SLOT(devfn), PCI_FUNC(devfn), PCI_SLOT(devfn));
            return;
        }
    } else {
        for (int slot = 0; slot < 32; slot++) {
            if (!bus->devices[PCI_DEVFN(slot, 0)]) {
                devfn = PCI_DEVFN(slot, 0);
                break;
            }
        }
        if (devfn < 0) {
            error_setg(errp, "no free slot on PCI bus %s", bus->qbus->name);
            return;
        }
    }
    d->bus = bus;
    d->devfn = devfn;
    for (int n = 0; n < PCI_NUM_REGIONS; n++) {
        d->io_regions[n].addr = PCI_BAR_UNMAPPED;
    }
    pci_init_config(d, pc);
    if (pc->realize) {
        pc->realize(d, &local);
        if (local) {
            g_propagate_error(errp, g_steal_pointer(&local));
            return;
        }
    }
    if (!pci_add_option_rom(d, pc, errp)) {
        if (pc->exit) {
            pc->exit(d);
        }
        return;
    }
    memcpy(d->realized_id, d->config, sizeof(d->realized_id));
    bus->devices[devfn] = d;
}

void pci_qdev_unrealize(DeviceState *dev)
{
    PCIDevice *d = PCI_DEVICE(dev);
    const PCIDeviceClass *pc = PCI_DEVICE_GET_CLASS(d);

    if (!d->bus) {
        return;
    }
    /* Drop INTx, unmap the BARs, then let the device free its regions. */
    d->intx_level = 0;
    pci_set_bus_level(d, 0);
    pci_set_word(d->config + PCI_COMMAND, 0);
    pci_update_mappings(d);
    if (pc->exit) {
        pc->exit(d);
    }
    pci_del_option_rom(d);
    d->bus->devices[d->devfn] = NULL;
    d->bus = NULL;
}

void pci_qdev_reset(DeviceState *dev)
{
    PCIDevice *d = PCI_DEVICE(dev);
    const PCIDeviceClass *pc = PCI_DEVICE_GET_CLASS(d);

    if (!d->bus) {
        return;
    }
    /* Power-on state: decoding off, BARs unprogrammed, INTx low, MSI off. */
    pci_set_word(d->config + PCI_COMMAND, 0);
    pci_set_word(d->config + PCI_STATUS,
                 d->config[PCI_CAPABILITY_LIST] ? PCI_STATUS_CAP_LIST : 0);
    d->intx_level = 0;
    pci_set_bus_level(d, 0);
    msi_reset(d);
    msix_reset(d);
    d->config[PCI_CACHE_LINE_SIZE] = 0;
    d->config[PCI_LATENCY_TIMER] = 0;
    d->config[PCI_INTERRUPT_LINE] = 0;
    for (int n = 0; n < PCI_NUM_REGIONS; n++) {
        PCIIORegion *r = &d->io_regions[n];
        if (r->size) {
            pci_set_long(d->config + bar_offset(n), r->type);
            if (r->type & PCI_BASE_ADDRESS_MEM_TYPE_64) {
                pci_set_long(d->config + bar_offset(n) + 4, 0);
            }
        }
    }
    pci_update_mappings(d);
    if (pc->reset) {
        pc->reset(d);
    }
}

/* ---- migration ------------------------------------------------------------ */

/* Compared with what realize set, not with the class: virtio-pci changes
 * the IDs (subsystem = virtio ID; modern-only: 1af4:104x, revision 1). */
static bool pci_identity_matches(PCIDevice *d, const PCIDeviceClass *pc)
{
    const uint8_t *id = d->realized_id;
    uint8_t header = d->multifunction ? PCI_HEADER_TYPE_MULTI_FUNCTION : 0;

    (void)pc;
    return pci_get_word(d->config + PCI_VENDOR_ID) == pci_get_word(id + PCI_VENDOR_ID) &&
           pci_get_word(d->config + PCI_DEVICE_ID) == pci_get_word(id + PCI_DEVICE_ID) &&
           d->config[PCI_REVISION_ID] == id[PCI_REVISION_ID] &&
           pci_get_word(d->config + PCI_CLASS_DEVICE) == pci_get_word(id + PCI_CLASS_DEVICE) &&
           pci_get_word(d->config + PCI_SUBSYSTEM_VENDOR_ID) ==
               pci_get_word(id + PCI_SUBSYSTEM_VENDOR_ID) &&
           pci_get_word(d->config + PCI_SUBSYSTEM_ID) == pci_get_word(id + PCI_SUBSYSTEM_ID) &&
           (d->config[PCI_HEADER_TYPE] & PCI_HEADER_TYPE_MULTI_FUNCTION) == header;
}

/* A BAR's low bits (type, size alignment) are not the guest's to set, and
 * a stream must not change them either. */
static void pci_sanitize_bars(PCIDevice *d)
{
    for (int n = 0; n < PCI_NUM_REGIONS; n++) {
        PCIIORegion *r = &d->io_regions[n];
        int off = bar_offset(n);
        uint32_t lo = pci_get_long(d->config + off), wm = pci_get_long(d->wmask + off);

        if (!r->size) {
            continue;
        }
        pci_set_long(d->config + off, (lo & wm) | r->type);
        if (r->type & PCI_BASE_ADDRESS_MEM_TYPE_64) {
            uint32_t hi = pci_get_long(d->config + off + 4);
            pci_set_long(d->config + off + 4, hi & pci_get_long(d->wmask + off + 4));
        }
    }
}

static int pci_device_post_load(void *opaque, int version_id)
{
    PCIDevice *d = opaque;
    const PCIDeviceClass *pc = PCI_DEVICE_GET_CLASS(d);

    if (!d->bus) {
        return -1;
    }
    if (!pci_identity_matches(d, pc)) {
        error_report("%s: the saved configuration space is not this device's "
                     "(vendor %04x device %04x class %04x)", d->qdev.klass->name,
                     pci_get_word(d->config + PCI_VENDOR_ID),
                     pci_get_word(d->config + PCI_DEVICE_ID),
                     pci_get_word(d->config + PCI_CLASS_DEVICE));
        return -1;
    }
    pci_sanitize_bars(d);
    pci_update_mappings(d);
    /* MSI and MSI-X as after the guest's last write of the command
     * register: INTx gating, irqfd routes, pending vectors now unmasked. */
    msi_write_config(d, PCI_COMMAND, 0, 2);
    msix_write_config(d, PCI_COMMAND, 0, 2);
    return 0;
}

const VMStateDescription vmstate_pci_device = {
    .name = "PCIDevice",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = pci_device_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8_ARRAY(config, PCIDevice, PCI_CONFIG_SPACE_SIZE),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *const[]) {
        &vmstate_pci_device_msix,
        NULL,
    },
};

/* ---- firmware-less BAR assignment ------------------------------------------- */

typedef struct BarRef {
    PCIDevice *d;
    int n;
} BarRef;

static gint bar_size_desc(gconstpointer a, gconstpointer b)
{
    const BarRef *x = a, *y = b;
    uint64_t sx = x->d->io_regions[x->n].size, sy = y->d->io_regions[y->n].size;

    if (sx != sy) {
        return sx > sy ? -1 : 1;
    }
    if (x->d->devfn != y->d->devfn) {
        return x->d->devfn - y->d->devfn;
    }
    return x->n - y->n;
}

void pci_bus_assign_bars(PCIBus *bus, uint64_t mem_start, uint64_t mem_end, uint32_t io_start,
                         uint32_t io_end)
{
    GArray *bars = g_array_new(FALSE, FALSE, sizeof(BarRef));
    uint64_t mem = mem_start, io = io_start;

    for (int devfn = 0; devfn < 256; devfn++) {
        PCIDevice *d = bus->devices[devfn];
        for (int n = 0; d && n < PCI_NUM_REGIONS; n++) {
            if (d->io_regions[n].size) {
                BarRef r = { d, n };
                g_array_append_val(bars, r);
            }
        }
    }
    g_array_sort(bars, bar_size_desc);
    for (guint i = 0; i < bars->len; i++) {
        BarRef *r = &g_array_index(bars, BarRef, i);
        PCIIORegion *reg = &r->d->io_regions[r->n];
        bool is_io = reg->type & PCI_BASE_ADDRESS_SPACE_IO;
        uint64_t *next = is_io ? &io : &mem, end = is_io ? io_end : mem_end;
        uint64_t addr = (*next + reg->size - 1) & ~(reg->size - 1);
        int off = bar_offset(r->n);

        if (addr + reg->size > end || addr + reg->size < addr) {
            qemu_log_mask(LOG_GUEST_ERROR, "pci: no room for BAR %d of %02x.%d (%s, %" PRIu64
                          " bytes); left unassigned\n", r->n, PCI_SLOT(r->d->devfn),
                          PCI_FUNC(r->d->devfn), is_io ? "I/O" : "memory", reg->size);
            continue;
        }
        *next = addr + reg->size;
        pci_set_long(r->d->config + off, (uint32_t)addr | reg->type);
        if (reg->type & PCI_BASE_ADDRESS_MEM_TYPE_64) {
            pci_set_long(r->d->config + off + 4, (uint32_t)(addr >> 32));
        }
        r->d->config[PCI_COMMAND] |= is_io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
    }
    for (int devfn = 0; devfn < 256; devfn++) {
        if (bus->devices[devfn]) {
            pci_update_mappings(bus->devices[devfn]);
        }
    }
    g_array_free(bars, TRUE);
}

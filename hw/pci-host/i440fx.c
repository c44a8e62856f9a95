/*
 * i440FX PCI host: configuration mechanism #1 and the host bridge device.
 *
 *   0xcf8  (dword)  CONFIG_ADDRESS: bit 31 enable, 23:16 bus, 15:11 device,
 *                   10:8 function, 7:0 register.  All 32 bits are kept and
 *                   read back as written (as QEMU).  Byte and word accesses
 *                   to 0xcf8-0xcfb are not CONFIG_ADDRESS (0xcf9 is the
 *                   reset control register).
 *   0xcfc-0xcff     CONFIG_DATA: size bytes of the addressed function's
 *                   configuration space at offset (register | port offset),
 *                   bits 1:0 of CONFIG_ADDRESS OR-ed with the port's, as
 *                   QEMU does (the PCI spec says bits 1:0 are 0): with
 *                   register bits 1:0 = 2, inw(0xcfc) reads the device ID.
 *                   An access that runs past offset 0xff is cut there;
 *                   a misaligned one is done byte by byte.
 *
 * Writes to CONFIG_ADDRESS are coalesced: with KVM they are queued in the
 * kernel and replayed before the next exit, which is always the access to
 * CONFIG_DATA that follows, so a configuration read costs one exit instead
 * of two.  The bridge itself is device 00.0 (8086:1237).
 *
 * Function 00.0's chipset registers (82441FX datasheet, 4.3.x):
 *   0x59-0x5f  PAM0-PAM6, Programmable Attribute Map: two nibbles per
 *              register, each nibble bit 0 RE (read enable) and bit 1 WE
 *              (write enable) for one segment of 0xc0000-0xfffff:
 *                PAM0 high nibble  0xf0000-0xfffff (64 KiB, the BIOS area)
 *                PAM1-PAM6         0xc0000-0xeffff, 16 KiB per nibble,
 *                                  low nibble = lower segment
 *              RE WE = 00: off, the access goes to PCI (where the BIOS
 *              image's last 128 KiB sit at 0xe0000); 01 (RE): reads RAM,
 *              writes ignored; 11: RAM.  10 (WE) should read PCI and write
 *              RAM; QEMU makes it RAM read/write, and so do we.
 *   0x72       SMRAM: bits 2:0 C_BASE_SEG (fixed 010: 0xa0000), bit 3
 *              G_SMRAME, bit 4 D_LCK, bit 5 D_CLS, bit 6 D_OPEN.  SMM is not
 *              modelled: only D_OPEN matters, and shows the RAM under
 *              0xa0000-0xbffff instead of PCI (the VGA window).  As on
 *              QEMU's i440FX, D_LCK does not lock anything (the datasheet
 *              makes D_OPEN read-only 0 once it is set).
 */
#include <glib.h>
#include <string.h>
#include "hw/pci/pci.h"
#include "hw/pci-host/i440fx.h"
#include "hw/acpi/aml.h"
#include "hw/platform-desc.h"

typedef struct I440FXHost {
    DeviceState parent;
    MemoryRegion conf, data;
    uint32_t config_addr;
    PCIBus *bus;
    uint32_t pci_hole_start, pci_hole_last;     /* the 32-bit BAR window */
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
        s->config_addr = (uint32_t)val;
    }
}

static const MemoryRegionOps conf_ops = {
    .read = conf_read,
    .write = conf_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

#define CONF1_ENABLE        0x80000000u
#define CONF1_BUS(a)        (((a) >> 16) & 0xff)
#define CONF1_DEVFN(a)      (((a) >> 8) & 0xff)
#define PCI_CONFIG_END      0x100

/* The register offset an access to CONFIG_DATA + port_off reaches, and
 * how many bytes of it lie in the 256-byte configuration space. */
static uint32_t conf1_offset(uint32_t config_addr, uint64_t port_off, unsigned size,
                             unsigned *len)
{
    uint32_t off = (config_addr | (uint32_t)port_off) & 0xff;

    *len = MIN(size, PCI_CONFIG_END - off);
    return off;
}

static bool conf1_aligned(uint32_t off, unsigned len)
{
    return (len == 1 || len == 2 || len == 4) && !(off & (len - 1));
}

static uint64_t data_read(void *opaque, uint64_t addr, unsigned size)
{
    I440FXHost *s = opaque;
    uint32_t a = s->config_addr, off, val = 0;
    unsigned len;

    if (!(a & CONF1_ENABLE)) {
        return ~0ULL;
    }
    off = conf1_offset(a, addr, size, &len);
    if (conf1_aligned(off, len)) {
        return pci_host_config_read(s->bus, CONF1_BUS(a), CONF1_DEVFN(a), off, (int)len);
    }
    for (unsigned i = 0; i < len; i++) {
        val |= (pci_host_config_read(s->bus, CONF1_BUS(a), CONF1_DEVFN(a), off + i, 1) & 0xff)
               << (8 * i);
    }
    return val;
}

static void data_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    I440FXHost *s = opaque;
    uint32_t a = s->config_addr, off;
    unsigned len;

    if (!(a & CONF1_ENABLE)) {
        return;
    }
    off = conf1_offset(a, addr, size, &len);
    if (conf1_aligned(off, len)) {
        pci_host_config_write(s->bus, CONF1_BUS(a), CONF1_DEVFN(a), off, (uint32_t)val,
                              (int)len);
        return;
    }
    for (unsigned i = 0; i < len; i++) {
        pci_host_config_write(s->bus, CONF1_BUS(a), CONF1_DEVFN(a), off + i,
                              (uint32_t)(val >> (8 * i)) & 0xff, 1);
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

/*
 * Scope(\_SB) { Device(PCI0) { Name(_HID, EisaId("PNP0A03")) Name(_ADR, 0)
 * Name(_UID, 0) Name(_CRS, ...) } }: the PCI root bus, which an ACPI OS
 * scans only if the namespace declares it.  Its _CRS: buses 0-ff,
 * CONFIG_ADDRESS/DATA (consumed), I/O below and above them, the VGA hole
 * and the 32-bit window where BARs go.  No _PRT: no device uses INTx yet.
 */
static void i440fx_host_describe(DeviceState *dev, PlatformDesc *pd)
{
    I440FXHost *s = (I440FXHost *)dev;
    g_autoptr(GByteArray) body = g_byte_array_new();
    g_autoptr(GByteArray) res = g_byte_array_new();

    aml_name_eisaid(body, "_HID", "PNP0A03");
    aml_name_integer(body, "_ADR", 0);
    aml_name_integer(body, "_UID", 0);
    aml_res_word(res, AML_RES_TYPE_BUS, 0, 0x00, 0xff);
    aml_res_io(res, 0xcf8, 0xcf8, 1, 8);
    aml_res_word(res, AML_RES_TYPE_IO, 0x03, 0x0000, 0x0cf7);
    aml_res_word(res, AML_RES_TYPE_IO, 0x03, 0x0d00, 0xffff);
    aml_res_dword_mem(res, 0x03, 0x000a0000, 0x000bffff);   /* cacheable, read-write */
    aml_res_dword_mem(res, 0x01, s->pci_hole_start, s->pci_hole_last);
    aml_name_crs(body, res);
    aml_device(pd->aml_sb, "PCI0", body);
}

static const Property i440fx_host_props[] = {
    DEFINE_PROP_UINT32("pci-hole-start", I440FXHost, pci_hole_start, 0xc0000000u),
    DEFINE_PROP_UINT32("pci-hole-last", I440FXHost, pci_hole_last, 0xfebfffffu),
    DEFINE_PROP_END_OF_LIST(),
};

static const DeviceClass i440fx_host_class = {
    .name = "i440FX-pcihost",
    .desc = "i440FX PCI host (configuration mechanism #1 at 0xcf8/0xcfc)",
    .category = DEVICE_CATEGORY_BRIDGE,
    .instance_size = sizeof(I440FXHost),
    .props = i440fx_host_props,
    .vmsd = &vmstate_i440fx_host,
    .instance_init = i440fx_host_instance_init,
    .reset = i440fx_host_reset,
    .finalize = i440fx_host_finalize,
    .describe = i440fx_host_describe,
};

DEVICE_CLASS_REGISTER(i440fx_host_class)

PCIBus *i440fx_init(MemoryRegion *pci_mem, MemoryRegion *io, uint32_t hole_start,
                    uint32_t hole_last, PCIDevice **bridge, Error **errp)
{
    PCIDevice *fn0;
    DeviceState *dev = qdev_new("i440FX-pcihost", errp);
    I440FXHost *s = (I440FXHost *)dev;

    if (!dev) {
        return NULL;
    }
    s->pci_hole_start = hole_start;
    s->pci_hole_last = hole_last;
    qdev_set_machine_child(dev, "i440fx");
    if (!qdev_realize(dev, NULL, errp)) {
        qdev_free(dev);
        return NULL;
    }
    s->bus = pci_root_bus_new(dev, "pci.0", pci_mem, io);
    memory_region_add_subregion(io, 0xcf8, &s->conf);
    memory_region_add_subregion(io, 0xcfc, &s->data);
    qdev_claim(dev, DEV_RES_IO, 0xcf8, 8, 0);
    fn0 = pci_create_simple(s->bus, PCI_DEVFN(0, 0), "i440FX", errp);
    if (!fn0) {
        return NULL;
    }
    if (bridge) {
        *bridge = fn0;
    }
    return s->bus;
}

/* ---- the host bridge's own function, 00.0 ----------------------------- */

#define I440FX_PAM_SEGS     13          /* 0xf0000 (64 KiB), then 12 x 16 KiB from 0xc0000 */
#define I440FX_SMRAM        0x72

#define PAM_RE              0x1
#define PAM_WE              0x2
#define PAM_MODES           4           /* off, RE, WE, RE|WE */

#define SMRAM_C_BASE_SEG    0x02
#define SMRAM_G_SMRAME      0x08
#define SMRAM_D_LCK         0x10
#define SMRAM_D_CLS         0x20
#define SMRAM_D_OPEN        0x40

#define SMRAM_BASE          0xa0000
#define SMRAM_SIZE          0x20000

/* One PAM segment: a region per mode, exactly one of them enabled, all
 * above RAM (priority 1) in system memory. */
typedef struct PAMSegment {
    MemoryRegion mode[PAM_MODES];
    unsigned cur;
} PAMSegment;

typedef struct I440FXState {
    PCIDevice parent;
    bool mapped;                        /* i440fx_map_memory() was called */
    MemoryRegion *system, *ram, *pci_mem;
    PAMSegment pam[I440FX_PAM_SEGS];
    MemoryRegion smram_region;          /* PCI over 0xa0000-0xbffff unless D_OPEN */
} I440FXState;

static unsigned pam_seg_mode(const I440FXState *s, unsigned seg)
{
    const uint8_t *c = s->parent.config;

    if (seg == 0) {
        return (c[I440FX_PAM_BASE] >> 4) & 3;
    }
    return (c[I440FX_PAM_BASE + 1 + (seg - 1) / 2] >> (4 * ((seg - 1) & 1))) & 3;
}

static void i440fx_update_memory(I440FXState *s)
{
    if (!s->mapped) {
        return;
    }
    memory_region_transaction_begin();
    for (unsigned i = 0; i < I440FX_PAM_SEGS; i++) {
        PAMSegment *seg = &s->pam[i];
        unsigned m = pam_seg_mode(s, i);
        if (m != seg->cur) {
            memory_region_set_enabled(&seg->mode[seg->cur], false);
            memory_region_set_enabled(&seg->mode[m], true);
            seg->cur = m;
        }
    }
    memory_region_set_enabled(&s->smram_region,
                              !(s->parent.config[I440FX_SMRAM] & SMRAM_D_OPEN));
    memory_region_transaction_commit();
}

static void pam_segment_init(I440FXState *s, PAMSegment *seg, uint32_t base, uint32_t size)
{
    memory_region_init_alias(&seg->mode[0], "pam-pci", s->pci_mem, base, size);
    memory_region_init_alias(&seg->mode[PAM_RE], "pam-rom", s->ram, base, size);
    memory_region_set_readonly(&seg->mode[PAM_RE], true);
    /* WE alone should read PCI; QEMU maps RAM read/write, and so do we */
    memory_region_init_alias(&seg->mode[PAM_WE], "pam-wo", s->ram, base, size);
    memory_region_init_alias(&seg->mode[PAM_RE | PAM_WE], "pam-ram", s->ram, base, size);
    for (unsigned m = 0; m < PAM_MODES; m++) {
        memory_region_set_enabled(&seg->mode[m], m == 0);
        memory_region_add_subregion_overlap(s->system, base, &seg->mode[m], 1);
    }
    seg->cur = 0;
}

void i440fx_map_memory(PCIDevice *dev, MemoryRegion *system, MemoryRegion *ram,
                       MemoryRegion *pci_mem)
{
    I440FXState *s = (I440FXState *)dev;

    s->system = system;
    s->ram = ram;
    s->pci_mem = pci_mem;
    memory_region_transaction_begin();
    pam_segment_init(s, &s->pam[0], 0xf0000, 0x10000);
    for (unsigned i = 1; i < I440FX_PAM_SEGS; i++) {
        pam_segment_init(s, &s->pam[i], 0xc0000 + (i - 1) * 0x4000, 0x4000);
    }
    memory_region_init_alias(&s->smram_region, "smram-region", pci_mem, SMRAM_BASE, SMRAM_SIZE);
    memory_region_add_subregion_overlap(system, SMRAM_BASE, &s->smram_region, 1);
    memory_region_transaction_commit();
    s->mapped = true;
    i440fx_update_memory(s);
}

static void i440fx_config_write(PCIDevice *d, uint32_t addr, uint32_t val, int len)
{
    pci_default_write_config(d, addr, val, len);
    if ((addr < I440FX_PAM_BASE + I440FX_PAM_COUNT && addr + len > I440FX_PAM_BASE) ||
        (addr <= I440FX_SMRAM && addr + len > I440FX_SMRAM)) {
        i440fx_update_memory((I440FXState *)d);
    }
}

static void i440fx_realize(PCIDevice *d, Error **errp)
{
    /* As QEMU: every PAM bit reads back as written; only RE/WE count. */
    for (int i = 0; i < I440FX_PAM_COUNT; i++) {
        d->wmask[I440FX_PAM_BASE + i] = 0xff;
    }
    d->wmask[I440FX_SMRAM] = SMRAM_G_SMRAME | SMRAM_D_LCK | SMRAM_D_CLS | SMRAM_D_OPEN;
    d->config[I440FX_SMRAM] = SMRAM_C_BASE_SEG;
}

static void i440fx_reset(PCIDevice *d)
{
    memset(d->config + I440FX_PAM_BASE, 0, I440FX_PAM_COUNT);
    d->config[I440FX_SMRAM] = SMRAM_C_BASE_SEG;
    i440fx_update_memory((I440FXState *)d);
}

static int i440fx_post_load(void *opaque, int version_id)
{
    i440fx_update_memory(opaque);
    return 0;
}

static void i440fx_exit(PCIDevice *d)
{
    I440FXState *s = (I440FXState *)d;

    if (!s->mapped) {
        return;
    }
    memory_region_transaction_begin();
    for (unsigned i = 0; i < I440FX_PAM_SEGS; i++) {
        for (unsigned m = 0; m < PAM_MODES; m++) {
            memory_region_del_subregion(s->system, &s->pam[i].mode[m]);
            memory_region_destroy(&s->pam[i].mode[m]);
        }
    }
    memory_region_del_subregion(s->system, &s->smram_region);
    memory_region_destroy(&s->smram_region);
    memory_region_transaction_commit();
    s->mapped = false;
}

static const Property i440fx_props[] = {
    DEFINE_PCI_DEVICE_PROPERTIES(),
    DEFINE_PROP_END_OF_LIST(),
};

/* PAM and SMRAM live in the configuration space; post_load remaps them. */
static const VMStateDescription vmstate_i440fx = {
    .name = "i440FX",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = i440fx_post_load,
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
    /* QEMU's default subsystem: SeaBIOS checks it to say "Running on QEMU" */
    .subsystem_vendor_id = 0x1af4,
    .subsystem_id = 0x1100,
    .realize = i440fx_realize,
    .exit = i440fx_exit,
    .reset = i440fx_reset,
    .config_write = i440fx_config_write,
};

PCI_DEVICE_CLASS_REGISTER(i440fx_class)

/*
 * PIIX4 power management function ("PIIX4_PM", 8086:7113, class 0x0680),
 * 00:01.3 of machine pc: the ACPI PM registers behind a PCI function.
 *
 * 82371AB datasheet, 3.2 (function 3 configuration registers):
 *   0x40-0x43  PMBA       bits 15:6 the base of the 64-byte PM I/O space,
 *                         bit 0 reads 1 (I/O space indicator)
 *   0x80       PMREGMISC  bit 0 PMIOSE: the PM I/O space is decoded
 *   0x90-0x93  SMBBA      bits 15:4 the base of the 16-byte SMBus host
 *                         I/O space, bit 0 reads 1
 *   0x58-0x5b  DEVACTB    bit 25 APMC_EN (SMI on writes to port 0xb2) reads 1
 *                         after reset: there is no SMM, and as QEMU without
 *                         SMM we say "SMM already set up" so that SeaBIOS
 *                         does not try to relocate SMBASE through an SMI
 *   0xd2       SMBHSTCFG  bit 0 SMB_HST_EN: the SMBus space is decoded,
 *                         bits 3:1 its interrupt select (stored only)
 * Every other register from 0x40 up reads back as written (as QEMU).
 *
 * PM I/O space (datasheet 7.2; only what ACPI's fixed hardware uses):
 *   PMBA+0x00  PM1 event block (PMSTS, PMEN)
 *   PMBA+0x04  PM1 control (PMCNTRL)
 *   PMBA+0x08  PM timer (PMTMR)
 * These are the "acpi-pm" device's blocks (hw/acpi/pm.c: SCI on ISA IRQ 9,
 * level; S5 power-off; the power button of system_powerdown), created by
 * this function as its part and mapped at PMBA while PMIOSE is set.  The
 * rest of the 64 bytes is not decoded (reads all ones).
 *
 * SMBus host (datasheet 7.3), at SMBBA: HSTSTS (0, write 1 to clear),
 * HSTCNT (2), HSTCMD (3), HSTADD (4), HSTDAT0/1 (5, 6), BLKDAT (7).  No
 * device answers: a transaction started with HSTCNT's START bit ends at
 * once with DEV_ERR (and INTR is never set; no SMBus interrupt).
 *
 * SeaBIOS programs PMBA = 0x600, PMIOSE, SMBBA = 0x700 and SMB_HST_EN;
 * without firmware the machine does the same at reset, and the FADT says
 * 0x600 in any case (QEMU's does too: its tables describe where SeaBIOS
 * puts the block).
 */
#include <string.h>
#include <glib.h>
#include "hw/pci/pci.h"
#include "hw/isa/isa.h"
#include "hw/vmstate.h"
#include "hw/acpi/pm.h"
#include "hw/acpi/pm-dev.h"
#include "hw/acpi/piix4-pm.h"
#include "qemu/log.h"

#define PCI_CLASS_BRIDGE_OTHER  0x0680
#define PIIX4_PM_IO_MASK        0xffc0
#define PIIX4_SMB_IO_MASK       0xfff0
#define PIIX4_SMB_SIZE          16
#define PIIX4_DEVACTB           0x58
#define PIIX4_DEVACTB_APMC_EN   (1u << 25)

/* SMBus host registers */
#define SMB_HSTSTS          0x00
#define SMB_HSTCNT          0x02
#define SMB_HSTCMD          0x03
#define SMB_HSTADD          0x04
#define SMB_HSTDAT0         0x05
#define SMB_HSTDAT1         0x06
#define SMB_BLKDAT          0x07
#define SMB_STS_DEV_ERR     0x04
#define SMB_STS_W1C         0x1e    /* INTR, DEV_ERR, BUS_ERR, FAILED */
#define SMB_CNT_START       0x40

typedef struct PIIX4PMState {
    PCIDevice parent;
    DeviceState *pm;            /* the acpi-pm blocks we decode at PMBA */
    MemoryRegion smb_io;
    bool smb_mapped;
    uint8_t smb_regs[8];
} PIIX4PMState;

static uint64_t piix4_smb_read(void *opaque, uint64_t addr, unsigned size)
{
    PIIX4PMState *s = opaque;

    if (addr == SMB_HSTCNT) {
        return s->smb_regs[SMB_HSTCNT] & ~SMB_CNT_START;
    }
    return addr < sizeof(s->smb_regs) ? s->smb_regs[addr] : 0;
}

static void piix4_smb_write(void *opaque, uint64_t addr, uint64_t data, unsigned size)
{
    PIIX4PMState *s = opaque;

    switch (addr) {
    case SMB_HSTSTS:
        s->smb_regs[SMB_HSTSTS] &= ~(data & SMB_STS_W1C);
        break;
    case SMB_HSTCNT:
        s->smb_regs[SMB_HSTCNT] = data;
        if (data & SMB_CNT_START) {
            /* nobody at any address */
            s->smb_regs[SMB_HSTSTS] |= SMB_STS_DEV_ERR;
        }
        break;
    case SMB_HSTCMD:
    case SMB_HSTADD:
    case SMB_HSTDAT0:
    case SMB_HSTDAT1:
    case SMB_BLKDAT:
        s->smb_regs[addr] = data;
        break;
    default:
        break;                          /* slave registers: not modelled */
    }
}

static const MemoryRegionOps piix4_smb_ops = {
    .read = piix4_smb_read,
    .write = piix4_smb_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

/* Map the PM blocks and the SMBus space where the registers say. */
static void piix4_pm_update_io(PIIX4PMState *s)
{
    PCIDevice *d = &s->parent;
    uint32_t pmba = pci_get_long(d->config + PIIX4_PMBA) & PIIX4_PM_IO_MASK;
    uint32_t smbba = pci_get_long(d->config + PIIX4_SMBBA) & PIIX4_SMB_IO_MASK;
    bool pm_on = d->config[PIIX4_PMREGMISC] & 1;
    bool smb_on = d->config[PIIX4_SMBHSTCFG] & 1;

    memory_region_transaction_begin();
    acpi_pm_map(s->pm, d->bus->io, pm_on ? (int)pmba : -1);
    if (s->smb_mapped) {
        memory_region_del_subregion(d->bus->io, &s->smb_io);
        s->smb_mapped = false;
    }
    if (smb_on) {
        memory_region_add_subregion(d->bus->io, smbba, &s->smb_io);
        s->smb_mapped = true;
    }
    memory_region_transaction_commit();
}

static void piix4_pm_config_write(PCIDevice *d, uint32_t addr, uint32_t val, int len)
{
    pci_default_write_config(d, addr, val, len);
    if ((addr < PIIX4_PMBA + 4 && addr + len > PIIX4_PMBA) ||
        (addr <= PIIX4_PMREGMISC && addr + len > PIIX4_PMREGMISC) ||
        (addr < PIIX4_SMBBA + 4 && addr + len > PIIX4_SMBBA) ||
        (addr <= PIIX4_SMBHSTCFG && addr + len > PIIX4_SMBHSTCFG)) {
        piix4_pm_update_io((PIIX4PMState *)d);
    }
}

static void piix4_pm_reset(PCIDevice *d)
{
    PIIX4PMState *s = (PIIX4PMState *)d;

    memset(d->config + PCI_CONFIG_HEADER_SIZE, 0, PCI_CONFIG_SPACE_SIZE - PCI_CONFIG_HEADER_SIZE);
    pci_set_long(d->config + PIIX4_PMBA, 1);
    pci_set_long(d->config + PIIX4_SMBBA, 1);
    pci_set_long(d->config + PIIX4_DEVACTB, PIIX4_DEVACTB_APMC_EN);
    memset(s->smb_regs, 0, sizeof(s->smb_regs));
    piix4_pm_update_io(s);
}

static void piix4_pm_realize(PCIDevice *d, Error **errp)
{
    PIIX4PMState *s = (PIIX4PMState *)d;
    ISABus *isa = isa_bus_get();

    if (!isa) {
        error_setg(errp, "PIIX4_PM: needs the ISA bus (for its SCI)");
        return;
    }
    memset(d->wmask + PCI_CONFIG_HEADER_SIZE, 0xff,
           PCI_CONFIG_SPACE_SIZE - PCI_CONFIG_HEADER_SIZE);
    d->wmask[PIIX4_PMBA] = PIIX4_PM_IO_MASK & 0xff;       /* bit 0 reads 1 */
    d->wmask[PIIX4_SMBBA] = PIIX4_SMB_IO_MASK & 0xff;
    s->pm = qdev_new("acpi-pm", errp);
    if (!s->pm) {
        return;
    }
    if (!qdev_prop_set_uint(s->pm, "iobase", ACPI_PM_IOBASE_NONE, errp) ||
        !qdev_realize(s->pm, isa->bus, errp)) {
        qdev_free(s->pm);
        s->pm = NULL;
        return;
    }
    memory_region_init_io(&s->smb_io, &piix4_smb_ops, s, "piix4-smbus", PIIX4_SMB_SIZE);
}

static void piix4_pm_exit(PCIDevice *d)
{
    PIIX4PMState *s = (PIIX4PMState *)d;

    if (s->smb_mapped) {
        memory_region_del_subregion(d->bus->io, &s->smb_io);
        s->smb_mapped = false;
    }
    memory_region_destroy(&s->smb_io);
    if (s->pm) {
        qdev_free(s->pm);
        s->pm = NULL;
    }
}

static int piix4_pm_post_load(void *opaque, int version_id)
{
    piix4_pm_update_io(opaque);
    return 0;
}

static const VMStateDescription vmstate_piix4_pm = {
    .name = "piix4_pm",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = piix4_pm_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent, PIIX4PMState),
        VMSTATE_UINT8_ARRAY(smb_regs, PIIX4PMState, 8),
        VMSTATE_END_OF_LIST(),
    },
};

static const Property piix4_pm_props[] = {
    DEFINE_PCI_DEVICE_PROPERTIES(),
    DEFINE_PROP_END_OF_LIST(),
};

static const PCIDeviceClass piix4_pm_class = {
    PCI_DEVICE_CLASS_INIT_INTERNAL(PIIX4_PM_TYPE, "PIIX4 power management (ACPI PM, SMBus)",
                                   PIIX4PMState, piix4_pm_props, .vmsd = &vmstate_piix4_pm,
                                   .category = DEVICE_CATEGORY_BRIDGE),
    .vendor_id = 0x8086,
    .device_id = 0x7113,
    .revision = 0x03,
    .class_id = PCI_CLASS_BRIDGE_OTHER,
    .subsystem_vendor_id = 0x1af4,
    .subsystem_id = 0x1100,
    .realize = piix4_pm_realize,
    .exit = piix4_pm_exit,
    .reset = piix4_pm_reset,
    .config_write = piix4_pm_config_write,
};

PCI_DEVICE_CLASS_REGISTER(piix4_pm_class)

/*
 * PIIX3 IDE controller ("piix3-ide", 8086:7010), function 1 of the PIIX3
 * (82371SB datasheet, section 2.4 and 6).
 *
 * Configuration space: class 01h/01h, programming interface 80h (both
 * channels in legacy ("compatibility") mode, bus master capable), BAR4 =
 * the bus-master I/O block.  IDETIM (40h, 42h), SIDETIM (44h) and the
 * UDMA registers (48h, 4Ah) hold timings a guest may program; they change
 * nothing here.  The channels decode the legacy ports whatever IDETIM's
 * decode-enable bit says, as on QEMU.
 *
 *   primary   0x1f0-0x1f7, 0x3f6, ISA IRQ 14
 *   secondary 0x170-0x177, 0x376, ISA IRQ 15
 *
 * Bus-master I/O block (BAR4, 16 bytes; +8 for the secondary channel):
 *   0  BMICX command: bit 0 start/stop, bit 3 direction (1: to memory)
 *   2  BMISX status: bit 0 active (RO), bit 1 error (W1C), bit 2
 *      interrupt (W1C), bits 5-6 drive 0/1 DMA capable (RW)
 *   4  BMIDTPX: physical address of the PRD table (dword aligned)
 * A PRD entry is two dwords: the buffer's physical address (bit 0 zero)
 * and its byte count in bits 15:1 (0 = 64 KiB) with end-of-table in bit
 * 31.  As QEMU, a table is read from at most one 4 KiB page.
 *
 * Coalesced writes (docs/ide.md): with KVM, writes to the taskfile
 * registers 1-6 (features, count, LBA, device) and to BMIDTPX go to the
 * kernel's coalesced ring and are replayed before the vCPU's next exit is
 * handled, which is always the command or start write that gives them
 * meaning, or a read.  Writing them has no side effect of its own here
 * (QEMU's IDE has none either), so a DMA command costs ~12 exits fewer.
 */
#include <string.h>
#include <glib.h>
#include "hw/pci/pci.h"
#include "hw/isa/isa.h"
#include "hw/ide.h"
#include "block/blockdev.h"
#include "qemu/log.h"

#define PIIX_IDETIM     0x40
#define PIIX_UDMATIM_END 0x4c

#define BM_REG_CMD      0
#define BM_REG_STATUS   2
#define BM_REG_PRD      4
#define BM_PRD_EOT      0x80000000u
#define BM_PRD_MAX_BYTES 4096

typedef struct PIIXIDEState {
    PCIDevice parent;
    IDEBus bus[2];
    MemoryRegion bmdma_io;
} PIIXIDEState;

static const uint16_t piix_cmd_port[2] = { 0x1f0, 0x170 };
static const uint16_t piix_ctrl_port[2] = { 0x3f6, 0x376 };
static const int piix_isa_irq[2] = { 14, 15 };

/* Whether [addr, addr + len) is all guest RAM: DMA goes nowhere else. */
static bool bmdma_ram_ok(uint64_t addr, uint64_t len)
{
    return address_space_is_ram(&address_space_memory, addr, len);
}

/* Loads the next PRD entry: false at the end of the table, -1 on a bad
 * address (as an int: 1 loaded, 0 end, -1 fault). */
static int bmdma_next_prd(BMDMAState *bm)
{
    uint8_t prd[8];
    uint32_t count;

    if (bm->eot || bm->cur_prd - bm->addr >= BM_PRD_MAX_BYTES) {
        return 0;
    }
    if (!bmdma_ram_ok(bm->cur_prd, sizeof(prd))) {
        return -1;
    }
    address_space_read(&address_space_memory, bm->cur_prd, prd, sizeof(prd));
    bm->cur_prd += 8;
    bm->cur_addr = pci_get_long(prd) & ~1u;
    count = pci_get_long(prd + 4);
    bm->eot = count & BM_PRD_EOT;
    bm->cur_len = count & 0xfffe;
    if (bm->cur_len == 0) {
        bm->cur_len = 0x10000;
    }
    return 1;
}

static int64_t bmdma_rw(IDEBus *bus, uint8_t *buf, uint32_t len, bool to_mem)
{
    PIIXIDEState *s = (PIIXIDEState *)bus->owner;
    BMDMAState *bm = &bus->bm;
    uint32_t done = 0;

    if (!(s->parent.config[PCI_COMMAND] & PCI_COMMAND_MASTER)) {
        return -1;
    }
    while (done < len) {
        uint32_t l;

        if (bm->cur_len == 0) {
            int r = bmdma_next_prd(bm);
            if (r < 0) {
                return -1;
            }
            if (r == 0) {
                break;
            }
        }
        l = MIN(bm->cur_len, len - done);
        if (!bmdma_ram_ok(bm->cur_addr, l)) {
            return -1;
        }
        address_space_rw(&address_space_memory, bm->cur_addr, buf + done, l, to_mem);
        bm->cur_addr += l;
        bm->cur_len -= l;
        done += l;
    }
    return done;
}

/* The zero-copy form of bmdma_rw: the same walk, mapping instead of
 * copying; all or nothing. */
static bool bmdma_map(IDEBus *bus, DMASGList *sg, uint32_t len)
{
    PIIXIDEState *s = (PIIXIDEState *)bus->owner;
    BMDMAState *bm = &bus->bm;
    BMDMAState saved = *bm;
    uint32_t done = 0;

    dma_sg_init(sg, &address_space_memory);
    if (!(s->parent.config[PCI_COMMAND] & PCI_COMMAND_MASTER)) {
        return false;
    }
    while (done < len) {
        uint32_t l;

        if (bm->cur_len == 0 && bmdma_next_prd(bm) <= 0) {
            goto fail;
        }
        l = MIN(bm->cur_len, len - done);
        if (!dma_sg_add(sg, bm->cur_addr, l)) {
            goto fail;
        }
        bm->cur_addr += l;
        bm->cur_len -= l;
        done += l;
    }
    return true;

fail:
    *bm = saved;
    dma_sg_reset(sg);
    return false;
}

static void bmdma_write_cmd(IDEBus *bus, uint8_t v)
{
    BMDMAState *bm = &bus->bm;
    bool was = bm->cmd & BM_CMD_START;

    bm->cmd = v & (BM_CMD_START | BM_CMD_WRITE);
    if (was && !(v & BM_CMD_START)) {
        bm->status &= ~BM_STATUS_ACTIVE;
        ide_dma_cancel(bus);
    } else if (!was && (v & BM_CMD_START)) {
        bm->status |= BM_STATUS_ACTIVE;
        ide_dma_start(bus);
    }
}

static uint8_t bmdma_readb(PIIXIDEState *s, unsigned addr)
{
    BMDMAState *bm = &s->bus[(addr >> 3) & 1].bm;
    unsigned reg = addr & 7;

    switch (reg) {
    case BM_REG_CMD:
        return bm->cmd;
    case BM_REG_STATUS:
        return bm->status;
    case 4: case 5: case 6: case 7:
        return bm->addr >> (8 * (reg - BM_REG_PRD));
    }
    return 0xff;
}

static void bmdma_writeb(PIIXIDEState *s, unsigned addr, uint8_t v)
{
    IDEBus *bus = &s->bus[(addr >> 3) & 1];
    BMDMAState *bm = &bus->bm;
    unsigned reg = addr & 7;

    switch (reg) {
    case BM_REG_CMD:
        bmdma_write_cmd(bus, v);
        break;
    case BM_REG_STATUS:
        bm->status = (bm->status & ~(v & (BM_STATUS_ERROR | BM_STATUS_INT))) & ~0x60;
        bm->status |= v & (BM_STATUS_DRV0 | BM_STATUS_DRV1);
        break;
    case 4: case 5: case 6: case 7: {
        unsigned sh = 8 * (reg - BM_REG_PRD);
        bm->addr = ((bm->addr & ~(0xffu << sh)) | (uint32_t)v << sh) & ~3u;
        break;
    }
    }
}

static uint64_t bmdma_read(void *opaque, uint64_t addr, unsigned size)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)bmdma_readb(opaque, addr + i) << (8 * i);
    }
    return v;
}

static void bmdma_write(void *opaque, uint64_t addr, uint64_t v, unsigned size)
{
    for (unsigned i = 0; i < size; i++) {
        bmdma_writeb(opaque, addr + i, v >> (8 * i));
    }
}

static const MemoryRegionOps bmdma_ops = {
    .read = bmdma_read,
    .write = bmdma_write,
    .valid = { .min_access_size = 1, .max_access_size = 4, .unaligned = true },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

/* -drive if=ide (-hda..-hdd, -cdrom): bus 0/1, unit 0/1. */
static bool piix_ide_claim_drives(PIIXIDEState *s, Error **errp)
{
    for (int b = 0; b < 2; b++) {
        for (int u = 0; u < 2; u++) {
            DriveInfo *di = drive_get(IF_IDE, b, u);
            if (di && !ide_drive_attach(&s->bus[b], u, di->blk,
                                        di->media == MEDIA_CDROM ? IDE_CD : IDE_HD,
                                        s->parent.qdev.canonical_path, errp)) {
                error_prepend(errp, "piix3-ide: %s: ", di->spec ? di->spec : blk_name(di->blk));
                return false;
            }
        }
    }
    return true;
}

static void piix_ide_realize(PCIDevice *d, Error **errp)
{
    PIIXIDEState *s = (PIIXIDEState *)d;

    d->config[PCI_CLASS_PROG] = 0x80;
    pci_set_word(d->config + PIIX_IDETIM, 0);
    for (int i = PIIX_IDETIM; i < PIIX_UDMATIM_END; i++) {
        d->wmask[i] = 0xff;
    }
    memory_region_init_io(&s->bmdma_io, &bmdma_ops, s, "piix-bmdma", 16);
    memory_region_add_coalescing(&s->bmdma_io, BM_REG_PRD, 4);
    memory_region_add_coalescing(&s->bmdma_io, 8 + BM_REG_PRD, 4);
    pci_register_bar(d, 4, PCI_BASE_ADDRESS_SPACE_IO, &s->bmdma_io);
    for (int i = 0; i < 2; i++) {
        IDEBus *bus = &s->bus[i];

        ide_bus_init(bus, &d->qdev, i);
        bus->dma_rw = bmdma_rw;
        bus->dma_map = bmdma_map;
        memory_region_init_io(&bus->cmd_io, &ide_cmd_ops, bus, i ? "ide1-cmd" : "ide0-cmd", 8);
        memory_region_add_coalescing(&bus->cmd_io, 1, 6);
        memory_region_init_io(&bus->ctrl_io, &ide_ctrl_ops, bus, i ? "ide1-ctrl" : "ide0-ctrl", 1);
        isa_register_ioport(&d->qdev, &bus->cmd_io, piix_cmd_port[i]);
        isa_register_ioport(&d->qdev, &bus->ctrl_io, piix_ctrl_port[i]);
        bus->irq = isa_claim_irq(&d->qdev, piix_isa_irq[i], 0);
    }
    if (!piix_ide_claim_drives(s, errp)) {
        return;
    }
    for (int i = 0; i < 2; i++) {
        ide_bus_reset(&s->bus[i]);
    }
}

static void piix_ide_reset(PCIDevice *d)
{
    PIIXIDEState *s = (PIIXIDEState *)d;

    pci_set_word(d->config + PIIX_IDETIM, 0);
    pci_set_word(d->config + PIIX_IDETIM + 2, 0);
    for (int i = 0; i < 2; i++) {
        ide_bus_reset(&s->bus[i]);
    }
}

static const VMStateField piix_ide_fields[] = {
    VMSTATE_PCI_DEVICE(parent, PIIXIDEState),
    VMSTATE_STRUCT_ARRAY(bus, PIIXIDEState, 2, vmstate_ide_bus, IDEBus),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_piix_ide = {
    .name = "piix3-ide",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = piix_ide_fields,
};

static const Property piix_ide_props[] = {
    DEFINE_PCI_DEVICE_PROPERTIES(),
    DEFINE_PROP_END_OF_LIST(),
};

static const PCIDeviceClass piix_ide_class = {
    PCI_DEVICE_CLASS_INIT_INTERNAL("piix3-ide", "PIIX3 IDE controller", PIIXIDEState,
                                   piix_ide_props, .category = DEVICE_CATEGORY_STORAGE,
                                   .vmsd = &vmstate_piix_ide),
    .vendor_id = 0x8086,
    .device_id = 0x7010,
    .class_id = 0x0101,
    .realize = piix_ide_realize,
    .reset = piix_ide_reset,
};

PCI_DEVICE_CLASS_REGISTER(piix_ide_class)

/*
 * IDE drives as devices: "-device ide-hd,drive=NAME[,bus=ide.N][,unit=U]"
 * and "-device ide-cd[,drive=NAME]...", plugged into a channel of an IDE
 * controller (its qdev buses ide.0 and ide.1).  Without unit= the drive
 * takes the first free unit of the bus; without drive= an ide-cd is an
 * empty CD-ROM drive.  The drive's state lives in the channel (hw/ide/
 * core.c) and migrates with the controller; these devices only carry the
 * properties: serial= and model= (IDENTIFY words 10-19 and 27-46, at most
 * 20 and 40 characters), bootindex= (the drive's place in the firmware's
 * boot order: the fw_cfg "bootorder" path QEMU gives it, which SeaBIOS
 * matches).
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include "hw/ide.h"
#include "hw/pci/pci.h"
#include "hw/platform-desc.h"
#include "block/blockdev.h"

typedef struct IDEDriveDev {
    DeviceState parent;
    char *drive;
    uint32_t unit;
    int32_t bootindex;
    char *serial, *model;
    IDEBus *bus;
} IDEDriveDev;

static void ide_dev_realize(DeviceState *dev, IDEDriveKind kind, Error **errp)
{
    IDEDriveDev *d = (IDEDriveDev *)dev;
    IDEBus *bus = dev->parent_bus ? ide_bus_from_qbus(dev->parent_bus) : NULL;
    BlockBackend *blk;

    if (!bus) {
        error_setg(errp, "no IDE bus");
        return;
    }
    if (d->serial && strlen(d->serial) > 20) {
        error_setg(errp, "serial '%s' is longer than 20 characters", d->serial);
        return;
    }
    if (d->model && strlen(d->model) > 40) {
        error_setg(errp, "model '%s' is longer than 40 characters", d->model);
        return;
    }
    if (d->unit == UINT32_MAX) {
        d->unit = bus->ifs[0].kind == IDE_NONE ? 0 : bus->ifs[1].kind == IDE_NONE ? 1 : 2;
        if (d->unit > 1) {
            error_setg(errp, "both units of bus %s are in use", bus->qbus->name);
            return;
        }
    } else if (d->unit > 1) {
        error_setg(errp, "unit %u is out of range (0 or 1)", d->unit);
        return;
    }
    if (d->drive) {
        blk = blockdev_backend_for(d->drive, errp);
        if (!blk) {
            return;
        }
    } else if (kind == IDE_CD) {
        blk = blk_new(NULL);
    } else {
        error_setg(errp, "property 'drive' is required");
        return;
    }
    if (kind == IDE_CD) {
        blk_set_read_only(blk, true);
    }
    if (!ide_drive_attach(bus, d->unit, blk, kind, dev->id ? dev->id : dev->canonical_path,
                          errp)) {
        return;
    }
    if (d->serial) {
        snprintf(bus->ifs[d->unit].serial, sizeof(bus->ifs[d->unit].serial), "%s", d->serial);
    }
    if (d->model) {
        snprintf(bus->ifs[d->unit].model, sizeof(bus->ifs[d->unit].model), "%s", d->model);
    }
    d->bus = bus;
    ide_bus_reset(bus);
}

/* QEMU's firmware path of an IDE drive on a PCI controller:
 * /pci@i0cf8/ide@SLOT[,FN]/drive@CHANNEL/disk@UNIT. */
static void ide_dev_describe(DeviceState *dev, PlatformDesc *pd)
{
    IDEDriveDev *d = (IDEDriveDev *)dev;
    PCIDevice *ctl = d->bus ? (PCIDevice *)d->bus->owner : NULL;
    g_autofree char *fn = NULL;
    g_autofree char *path = NULL;

    if (d->bootindex < 0 || !ctl) {
        return;
    }
    fn = PCI_FUNC(ctl->devfn) ? g_strdup_printf(",%x", PCI_FUNC(ctl->devfn)) : g_strdup("");
    path = g_strdup_printf("/pci@i0cf8/ide@%x%s/drive@%x/disk@%x", PCI_SLOT(ctl->devfn), fn,
                           d->bus->index, d->unit);
    platform_add_boot_entry(pd, d->bootindex, path);
}

static void ide_hd_realize(DeviceState *dev, Error **errp)
{
    ide_dev_realize(dev, IDE_HD, errp);
}

static void ide_cd_realize(DeviceState *dev, Error **errp)
{
    ide_dev_realize(dev, IDE_CD, errp);
}

static const Property ide_dev_props[] = {
    DEFINE_PROP_STRING("drive", IDEDriveDev, drive),
    DEFINE_PROP_UINT32("unit", IDEDriveDev, unit, UINT32_MAX),
    DEFINE_PROP_INT32("bootindex", IDEDriveDev, bootindex, -1),
    DEFINE_PROP_STRING("serial", IDEDriveDev, serial),
    DEFINE_PROP_STRING("model", IDEDriveDev, model),
    DEFINE_PROP_END_OF_LIST(),
};

static const DeviceClass ide_hd_class = {
    .name = "ide-hd",
    .desc = "virtual IDE disk",
    .bus_type = "IDE",
    .category = DEVICE_CATEGORY_STORAGE,
    .user_creatable = true,
    .instance_size = sizeof(IDEDriveDev),
    .props = ide_dev_props,
    .stateless = true,          /* the drive's state is the controller's (piix3-ide) */
    .realize = ide_hd_realize,
    .describe = ide_dev_describe,
};

static const DeviceClass ide_cd_class = {
    .name = "ide-cd",
    .desc = "virtual IDE CD-ROM",
    .bus_type = "IDE",
    .category = DEVICE_CATEGORY_STORAGE,
    .user_creatable = true,
    .instance_size = sizeof(IDEDriveDev),
    .props = ide_dev_props,
    .stateless = true,          /* the drive's state is the controller's (piix3-ide) */
    .realize = ide_cd_realize,
    .describe = ide_dev_describe,
};

DEVICE_CLASS_REGISTER(ide_hd_class)
DEVICE_CLASS_REGISTER(ide_cd_class)

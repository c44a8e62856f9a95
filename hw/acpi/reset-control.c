/*
 * Reset Control Register ("pc-reset-control"), port 0xcf9, as on the
 * PIIX3/ICH9 south bridges and described by the FADT's RESET_REG.
 *
 *   bit 1  SYS_RST: hard (1) or soft (0) reset; stored and read back
 *   bit 2  RST_CPU: writing 1 resets the system (ACPI_RESET_VALUE 0x06)
 *
 * The port lies inside the PCI CONFIG_ADDRESS dword (0xcf8-0xcfb); the
 * region is mapped above it (priority 1) so byte accesses to 0xcf9 reach
 * it, as QEMU does.  This needs the memory core to send a dword access at
 * 0xcf8 whole to the region it starts in.
 */
#include <glib.h>

#include "hw/qdev.h"
#include "qemu/log.h"
#include "hw/isa/isa.h"
#include "hw/memory.h"
#include "hw/vmstate.h"
#include "hw/acpi/pm.h"
#include "hw/platform-desc.h"
#include "system/runstate.h"

#define RCR_SYS_RST     0x02
#define RCR_RST_CPU     0x04

typedef struct ResetControlState {
    DeviceState parent;

    MemoryRegion io;
    uint8_t rcr;
} ResetControlState;

static uint64_t rcr_read(void *opaque, uint64_t addr, unsigned size)
{
    ResetControlState *s = opaque;

    return s->rcr;
}

static void rcr_write(void *opaque, uint64_t addr, uint64_t data, unsigned size)
{
    ResetControlState *s = opaque;

    if (data & RCR_RST_CPU) {
        qemu_log_mask(CPU_LOG_RESET, "0xcf9: reset (0x%02x)\n", (unsigned)data);
        qemu_system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
        return;
    }
    s->rcr = data & RCR_SYS_RST;
}

static const MemoryRegionOps rcr_ops = {
    .read = rcr_read,
    .write = rcr_write,
    .valid = { .min_access_size = 1, .max_access_size = 1 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

static void rcr_reset(DeviceState *dev)
{
    ((ResetControlState *)dev)->rcr = 0;
}

static void rcr_realize(DeviceState *dev, Error **errp)
{
    ResetControlState *s = (ResetControlState *)dev;
    ISABus *bus = isa_bus_get();

    memory_region_init_io(&s->io, &rcr_ops, s, "reset-control", 1);
    memory_region_add_subregion_overlap(bus ? bus->io : get_system_io(), ACPI_RESET_PORT,
                                        &s->io, 1);
    qdev_claim(dev, DEV_RES_IO, ACPI_RESET_PORT, 1, 0);
}

/* The FADT's reset register: writing ACPI_RESET_VALUE resets the machine. */
static void rcr_describe(DeviceState *dev, PlatformDesc *pd)
{
    pd->has_reset_reg = true;
    pd->reset_port = ACPI_RESET_PORT;
    pd->reset_value = ACPI_RESET_VALUE;
}

static void rcr_unrealize(DeviceState *dev)
{
    memory_region_destroy(&((ResetControlState *)dev)->io);
}

static const VMStateField rcr_fields[] = {
    VMSTATE_UINT8(rcr, ResetControlState),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_rcr = {
    .name = "pc-reset-control",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = rcr_fields,
};

static const DeviceClass rcr_class = {
    .name = "pc-reset-control",
    .desc = "Reset Control Register (port 0xcf9)",
    .bus_type = "ISA",
    .category = DEVICE_CATEGORY_MISC,
    .user_creatable = false,
    .instance_size = sizeof(ResetControlState),
    .vmsd = &vmstate_rcr,
    .realize = rcr_realize,
    .unrealize = rcr_unrealize,
    .reset = rcr_reset,
    .describe = rcr_describe,
};

DEVICE_CLASS_REGISTER(rcr_class)

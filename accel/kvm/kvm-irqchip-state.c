/*
 * Migration state of KVM's in-kernel interrupt controllers: the two 8259
 * PICs and the IOAPIC, as KVM_GET_IRQCHIP / KVM_SET_IRQCHIP exchange them.
 * The chips live in the kernel; this device ("kvm-irqchip", created with
 * the in-kernel irqchip) only carries their state through vmstate: it is
 * fetched in pre_save and written back in post_load.
 *
 * The LAPICs are per-vCPU state (KVM_GET/SET_LAPIC) and travel with the
 * CPUs, not here.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>
#include "accel/kvm/kvm.h"
#include "hw/qdev.h"

typedef struct kvm_pic_state KVMPICState;
typedef struct kvm_ioapic_state KVMIOAPICState;

typedef struct KVMIrqchipState {
    DeviceState parent;
    KVMPICState pic[2];             /* master, slave */
    KVMIOAPICState ioapic;
} KVMIrqchipState;

const VMStateDescription vmstate_kvm_pic = {
    .name = "kvm-i8259",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(last_irr, KVMPICState),
        VMSTATE_UINT8(irr, KVMPICState),
        VMSTATE_UINT8(imr, KVMPICState),
        VMSTATE_UINT8(isr, KVMPICState),
        VMSTATE_UINT8(priority_add, KVMPICState),
        VMSTATE_UINT8(irq_base, KVMPICState),
        VMSTATE_UINT8(read_reg_select, KVMPICState),
        VMSTATE_UINT8(poll, KVMPICState),
        VMSTATE_UINT8(special_mask, KVMPICState),
        VMSTATE_UINT8(init_state, KVMPICState),
        VMSTATE_UINT8(auto_eoi, KVMPICState),
        VMSTATE_UINT8(rotate_on_auto_eoi, KVMPICState),
        VMSTATE_UINT8(special_fully_nested_mode, KVMPICState),
        VMSTATE_UINT8(init4, KVMPICState),
        VMSTATE_UINT8(elcr, KVMPICState),
        VMSTATE_UINT8(elcr_mask, KVMPICState),
        VMSTATE_END_OF_LIST(),
    },
};

const VMStateDescription vmstate_kvm_ioapic = {
    .name = "kvm-ioapic-state",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(base_address, KVMIOAPICState),
        VMSTATE_UINT32(ioregsel, KVMIOAPICState),
        VMSTATE_UINT32(id, KVMIOAPICState),
        VMSTATE_UINT32(irr, KVMIOAPICState),
        /* 24 redirection entries, each a 64-bit register */
        { .name = "redirtbl", .type = VMS_UINT64,
          .offset = offsetof(KVMIOAPICState, redirtbl),
          .size = sizeof(uint64_t), .num = KVM_IOAPIC_NUM_PINS },
        VMSTATE_END_OF_LIST(),
    },
};

static const int chip_ids[3] = {
    KVM_IRQCHIP_PIC_MASTER, KVM_IRQCHIP_PIC_SLAVE, KVM_IRQCHIP_IOAPIC
};

static int kvm_irqchip_pre_save(void *opaque)
{
    KVMIrqchipState *s = opaque;
    struct kvm_irqchip chip;

    for (int i = 0; i < 3; i++) {
        memset(&chip, 0, sizeof(chip));
        chip.chip_id = chip_ids[i];
        if (ioctl(kvm_vm_fd(), KVM_GET_IRQCHIP, &chip) < 0) {
            return -1;
        }
        if (i < 2) {
            s->pic[i] = chip.chip.pic;
        } else {
            s->ioapic = chip.chip.ioapic;
        }
    }
    return 0;
}

static int kvm_irqchip_post_load(void *opaque, int version_id)
{
    KVMIrqchipState *s = opaque;
    struct kvm_irqchip chip;

    for (int i = 0; i < 3; i++) {
        memset(&chip, 0, sizeof(chip));
        chip.chip_id = chip_ids[i];
        if (i < 2) {
            chip.chip.pic = s->pic[i];
        } else {
            chip.chip.ioapic = s->ioapic;
        }
        if (ioctl(kvm_vm_fd(), KVM_SET_IRQCHIP, &chip) < 0) {
            return -1;
        }
    }
    return 0;
}

static const VMStateDescription vmstate_kvm_irqchip = {
    .name = "kvm-irqchip",
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_save = kvm_irqchip_pre_save,
    .post_load = kvm_irqchip_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT_ARRAY(pic, KVMIrqchipState, 2, vmstate_kvm_pic, KVMPICState),
        VMSTATE_STRUCT(ioapic, KVMIrqchipState, vmstate_kvm_ioapic, KVMIOAPICState),
        VMSTATE_END_OF_LIST(),
    },
};

static const DeviceClass kvm_irqchip_class = {
    .name = "kvm-irqchip",
    .desc = "in-kernel PICs and IOAPIC (KVM): their migration state",
    .instance_size = sizeof(KVMIrqchipState),
    .vmsd = &vmstate_kvm_irqchip,
};

DEVICE_CLASS_REGISTER(kvm_irqchip_class)

DeviceState *kvm_irqchip_state_create(Error **errp)
{
    DeviceState *dev = qdev_new("kvm-irqchip", errp);

    if (!dev) {
        return NULL;
    }
    qdev_set_machine_child(dev, "unattached/kvm-irqchip");
    if (!qdev_realize(dev, NULL, errp)) {
        qdev_free(dev);
        return NULL;
    }
    return dev;
}

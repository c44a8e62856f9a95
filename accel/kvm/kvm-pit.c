/*
 * The in-kernel i8254 PIT as a device node, so that its options are set
 * the QEMU way: -global kvm-pit.lost_tick_policy=discard|delay.
 * "delay" (the default) re-injects ticks the guest missed; "discard"
 * drops them (KVM_REINJECT_CONTROL).
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>
#include "accel/kvm/kvm.h"
#include "hw/qdev.h"

typedef struct KVMPITState {
    DeviceState parent;
    int lost_tick_policy;
    struct kvm_pit_state2 power_on;     /* restored on system reset */
} KVMPITState;

enum { LOST_TICK_DISCARD, LOST_TICK_DELAY, LOST_TICK_SLEW };
static const char *const lost_tick_names[] = { "discard", "delay", "slew", NULL };

static KVMPITState *the_pit;

static void kvm_pit_realize(DeviceState *dev, Error **errp)
{
    KVMPITState *s = (KVMPITState *)dev;
    struct kvm_pit_config config = { .flags = 0 };
    struct kvm_reinject_control reinject = {
        .pit_reinject = s->lost_tick_policy == LOST_TICK_DELAY,
    };

    if (s->lost_tick_policy == LOST_TICK_SLEW) {
        error_setg(errp, "lost_tick_policy 'slew' is not supported by the in-kernel PIT");
        return;
    }
    if (ioctl(kvm_vm_fd(), KVM_CREATE_PIT2, &config) < 0) {
        error_setg_errno(errp, errno, "KVM_CREATE_PIT2 failed");
        return;
    }
    if (ioctl(kvm_vm_fd(), KVM_REINJECT_CONTROL, &reinject) < 0) {
        error_setg_errno(errp, errno, "KVM_REINJECT_CONTROL failed");
        return;
    }
    if (ioctl(kvm_vm_fd(), KVM_GET_PIT2, &s->power_on) < 0) {
        error_setg_errno(errp, errno, "KVM_GET_PIT2 failed");
        return;
    }
    the_pit = s;
}

static const Property kvm_pit_props[] = {
    DEFINE_PROP_ENUM("lost_tick_policy", KVMPITState, lost_tick_policy, lost_tick_names,
                     LOST_TICK_DELAY),
    DEFINE_PROP_END_OF_LIST(),
};

static const DeviceClass kvm_pit_class = {
    .name = "kvm-pit",
    .desc = "in-kernel i8254 PIT (KVM)",
    .instance_size = sizeof(KVMPITState),
    .props = kvm_pit_props,
    .realize = kvm_pit_realize,
};

DEVICE_CLASS_REGISTER(kvm_pit_class)

bool kvm_pit_create(Error **errp)
{
    DeviceState *dev = qdev_new("kvm-pit", errp);

    if (!dev) {
        return false;
    }
    qdev_set_machine_child(dev, "unattached/kvm-pit");
    if (!qdev_realize(dev, NULL, errp)) {
        qdev_free(dev);
        return false;
    }
    return true;
}

void kvm_pit_reset(void)
{
    if (the_pit) {
        ioctl(kvm_vm_fd(), KVM_SET_PIT2, &the_pit->power_on);
    }
}

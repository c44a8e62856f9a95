/* KVM accelerator internals shared by its files (accel/kvm/ only). */
#ifndef KVMPC_ACCEL_KVM_H
#define KVMPC_ACCEL_KVM_H

#include <stdbool.h>
#include "qemu/error.h"
#include "hw/vmstate.h"

typedef struct DeviceState DeviceState;

int kvm_vm_fd(void);
/* The in-kernel PIT, as device "kvm-pit" (so -global kvm-pit.X=Y works). */
bool kvm_pit_create(Error **errp);
void kvm_pit_reset(void);
/* Device "kvm-irqchip": the in-kernel PICs' and IOAPIC's migration state
 * (accel/kvm/kvm-irqchip-state.c).  Create it with the in-kernel irqchip. */
DeviceState *kvm_irqchip_state_create(Error **errp);

/* The parts of those descriptions that encode kernel structures (struct
 * kvm_pit_channel_state, kvm_pic_state, kvm_ioapic_state), for tests. */
extern const VMStateDescription vmstate_kvm_pit_channel;
extern const VMStateDescription vmstate_kvm_pic;
extern const VMStateDescription vmstate_kvm_ioapic;

#endif

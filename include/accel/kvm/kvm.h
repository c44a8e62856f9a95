/* KVM accelerator internals shared by its files (accel/kvm/ only). */
#ifndef KVMPC_ACCEL_KVM_H
#define KVMPC_ACCEL_KVM_H

#include <stdbool.h>
#include "qemu/error.h"

int kvm_vm_fd(void);
/* The in-kernel PIT, as device "kvm-pit" (so -global kvm-pit.X=Y works):
 * AccelOps.create_pit. */
typedef struct DeviceState DeviceState;
DeviceState *kvm_pit_create(Error **errp);

#endif

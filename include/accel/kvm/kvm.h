/* KVM accelerator internals shared by its files (accel/kvm/ only). */
#ifndef KVMPC_ACCEL_KVM_H
#define KVMPC_ACCEL_KVM_H

#include <stdbool.h>
#include <stdint.h>
#include "qemu/error.h"
#include "hw/vmstate.h"

typedef struct DeviceState DeviceState;

int kvm_vm_fd(void);
/* The in-kernel PIT, as device "kvm-pit" (so -global kvm-pit.X=Y works):
 * AccelOps.create_pit. */
DeviceState *kvm_pit_create(Error **errp);

/* GSI routing, MSIs and irqfds (kvm-msi.c); see AccelOps. */
struct EventNotifier;
bool kvm_irq_routing_init(Error **errp);
/* kernel-irqchip=split: GSI 0-23 follow the userspace IOAPIC's entries. */
struct APICMessage;
bool kvm_irq_routing_init_split(Error **errp);
void kvm_split_route_update(unsigned gsi, const struct APICMessage *msg);
void kvm_send_msi(uint64_t addr, uint32_t data);
int kvm_msi_route_add(uint64_t addr, uint32_t data);
bool kvm_msi_route_update(int virq, uint64_t addr, uint32_t data);
void kvm_msi_route_release(int virq);
bool kvm_irqfd_add(struct EventNotifier *e, int virq);
void kvm_irqfd_remove(struct EventNotifier *e, int virq);
/* Device "kvm-irqchip": the in-kernel PICs' and IOAPIC's migration state
 * (accel/kvm/kvm-irqchip-state.c).  Create it with the in-kernel irqchip. */
DeviceState *kvm_irqchip_state_create(Error **errp);

/* The parts of those descriptions that encode kernel structures (struct
 * kvm_pit_channel_state, kvm_pic_state, kvm_ioapic_state), for tests. */
extern const VMStateDescription vmstate_kvm_pit_channel;
extern const VMStateDescription vmstate_kvm_pic;
extern const VMStateDescription vmstate_kvm_ioapic;

#endif

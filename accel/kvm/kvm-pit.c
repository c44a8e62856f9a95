/*
 * The in-kernel i8254 PIT as a device node, so that its options are set
 * the QEMU way: -global kvm-pit.lost_tick_policy=discard|delay.
 * "delay" (the default) re-injects ticks the guest missed; "discard"
 * drops them (KVM_REINJECT_CONTROL).
 *
 * Ports 0x40-0x43 never leave the kernel, but port 0x61 does (the PIT is
 * created without KVM_PIT_SPEAKER_DUMMY): the machine links the "port61"
 * device to this one, which reaches counter 2 through PITSpeakerOps with
 * KVM_GET_PIT2/KVM_SET_PIT2.
 *
 * The kernel raises IRQ 0 itself, so when the HPET takes IRQ 0 over
 * (LegacyReplacement routing), its "legacy-mode" line reaches this
 * device's PIT_HPET_LEGACY_IN input, which sets KVM_PIT_FLAGS_HPET_LEGACY:
 * the kernel's counter 0 then stops interrupting (QEMU does the same).
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <linux/kvm.h>
#include "accel/kvm/kvm.h"
#include "hw/qdev.h"
#include "hw/timer/i8254.h"

typedef struct KVMPITState {
    DeviceState parent;
    int lost_tick_policy;
    struct kvm_pit_state2 power_on;     /* restored on system reset */
    bool hpet_legacy;                   /* KVM_PIT_FLAGS_HPET_LEGACY as last set */
    struct kvm_pit_state2 saved;        /* migration: the kernel's state */
} KVMPITState;

enum { LOST_TICK_DISCARD, LOST_TICK_DELAY, LOST_TICK_SLEW };
static const char *const lost_tick_names[] = { "discard", "delay", "slew", NULL };

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
}

static void kvm_pit_hpet_legacy(void *opaque, int n, int level)
{
    KVMPITState *s = opaque;
    struct kvm_pit_state2 st;

    if (!!level == s->hpet_legacy) {
        return;
    }
    if (ioctl(kvm_vm_fd(), KVM_GET_PIT2, &st) < 0) {
        error_report("kvm-pit: KVM_GET_PIT2 failed: %s", strerror(errno));
        return;
    }
    st.flags = level ? st.flags | KVM_PIT_FLAGS_HPET_LEGACY
                     : st.flags & ~KVM_PIT_FLAGS_HPET_LEGACY;
    if (ioctl(kvm_vm_fd(), KVM_SET_PIT2, &st) < 0) {
        error_report("kvm-pit: KVM_SET_PIT2 failed: %s", strerror(errno));
        return;
    }
    s->hpet_legacy = level;
}

static void kvm_pit_instance_init(DeviceState *dev)
{
    qdev_init_gpio_in_named(dev, kvm_pit_hpet_legacy, PIT_HPET_LEGACY_IN, 1);
}

/* System reset: the counters as they were at power-on. */
static void kvm_pit_reset(DeviceState *dev)
{
    KVMPITState *s = (KVMPITState *)dev;

    if (ioctl(kvm_vm_fd(), KVM_SET_PIT2, &s->power_on) < 0) {
        error_report("kvm-pit: KVM_SET_PIT2 failed on reset: %s", strerror(errno));
    }
    s->hpet_legacy = s->power_on.flags & KVM_PIT_FLAGS_HPET_LEGACY;
}

static const Property kvm_pit_props[] = {
    DEFINE_PROP_ENUM("lost_tick_policy", KVMPITState, lost_tick_policy, lost_tick_names,
                     LOST_TICK_DELAY),
    DEFINE_PROP_END_OF_LIST(),
};

/* ---- migration ------------------------------------------------------------ */

static int64_t kvm_pit_host_ns(void);

typedef struct kvm_pit_channel_state KVMPITChannel;

const VMStateDescription vmstate_kvm_pit_channel = {
    .name = "kvm-pit-channel",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(count, KVMPITChannel),
        VMSTATE_UINT16(latched_count, KVMPITChannel),
        VMSTATE_UINT8(count_latched, KVMPITChannel),
        VMSTATE_UINT8(status_latched, KVMPITChannel),
        VMSTATE_UINT8(status, KVMPITChannel),
        VMSTATE_UINT8(read_state, KVMPITChannel),
        VMSTATE_UINT8(write_state, KVMPITChannel),
        VMSTATE_UINT8(write_latch, KVMPITChannel),
        VMSTATE_UINT8(rw_mode, KVMPITChannel),
        VMSTATE_UINT8(mode, KVMPITChannel),
        VMSTATE_UINT8(bcd, KVMPITChannel),
        VMSTATE_UINT8(gate, KVMPITChannel),
        /* On the wire: when the count was loaded, relative to the save
         * (<= 0 ns), since the kernel's clock is the host's monotonic
         * clock and means nothing to another process or host. */
        VMSTATE_INT64(count_load_time, KVMPITChannel),
        VMSTATE_END_OF_LIST(),
    },
};

static int kvm_pit_pre_save(void *opaque)
{
    KVMPITState *s = opaque;
    int64_t now = kvm_pit_host_ns();

    if (ioctl(kvm_vm_fd(), KVM_GET_PIT2, &s->saved) < 0) {
        return -1;
    }
    for (int i = 0; i < 3; i++) {
        s->saved.channels[i].count_load_time -= now;
    }
    return 0;
}

static int kvm_pit_post_load(void *opaque, int version_id)
{
    KVMPITState *s = opaque;
    int64_t now = kvm_pit_host_ns();

    for (int i = 0; i < 3; i++) {
        s->saved.channels[i].count_load_time += now;
    }
    s->hpet_legacy = s->saved.flags & KVM_PIT_FLAGS_HPET_LEGACY;
    return ioctl(kvm_vm_fd(), KVM_SET_PIT2, &s->saved) < 0 ? -1 : 0;
}

/* QEMU's kvm-pit also migrates the channels (as "i8254"); the in-kernel
 * PIT's own layout is what KVM_GET/SET_PIT2 exchange. */
static const VMStateDescription vmstate_kvm_pit = {
    .name = "kvm-pit",
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_save = kvm_pit_pre_save,
    .post_load = kvm_pit_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT_ARRAY(saved.channels, KVMPITState, 3, vmstate_kvm_pit_channel,
                             KVMPITChannel),
        VMSTATE_UINT32(saved.flags, KVMPITState),
        VMSTATE_END_OF_LIST(),
    },
};

static const DeviceClass kvm_pit_class = {
    .name = "kvm-pit",
    .desc = "in-kernel i8254 PIT (KVM)",
    .instance_size = sizeof(KVMPITState),
    .vmsd = &vmstate_kvm_pit,
    .props = kvm_pit_props,
    .instance_init = kvm_pit_instance_init,
    .realize = kvm_pit_realize,
    .reset = kvm_pit_reset,
};

DEVICE_CLASS_REGISTER(kvm_pit_class)

/* The kernel stamps count_load_time with ktime_get(): CLOCK_MONOTONIC. */
static int64_t kvm_pit_host_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static bool kvm_pit_get_ch2_out(DeviceState *dev)
{
    struct kvm_pit_state2 st;
    struct kvm_pit_channel_state *c = &st.channels[2];

    if (ioctl(kvm_vm_fd(), KVM_GET_PIT2, &st) < 0) {
        return false;
    }
    if ((c->mode == 2 || c->mode == 3) && !c->gate) {
        return true;            /* gate low holds OUT high */
    }
    return i8254_out_at(c->mode, c->count,
                        i8254_ns_to_ticks(kvm_pit_host_ns() - c->count_load_time));
}

static void kvm_pit_set_ch2_gate(DeviceState *dev, bool level)
{
    struct kvm_pit_state2 st;
    struct kvm_pit_channel_state *c = &st.channels[2];

    if (ioctl(kvm_vm_fd(), KVM_GET_PIT2, &st) < 0 || !c->gate == !level) {
        return;
    }
    /* A rising edge (re)starts counting in modes 1, 2, 3 and 5. */
    if (level && c->mode != 0 && c->mode != 4) {
        c->count_load_time = kvm_pit_host_ns();
    }
    c->gate = level;
    /* Note: the kernel reloads counter 0 on every KVM_SET_PIT2 (as it does
     * for QEMU); hence nothing is written when the gate does not change. */
    ioctl(kvm_vm_fd(), KVM_SET_PIT2, &st);
}

static const PITSpeakerOps kvm_pit_speaker_ops = {
    .get_ch2_out = kvm_pit_get_ch2_out,
    .set_ch2_gate = kvm_pit_set_ch2_gate,
};

static void __attribute__((constructor)) kvm_pit_speaker_ops_init(void)
{
    pit_speaker_ops_register(&kvm_pit_class, &kvm_pit_speaker_ops);
}

DeviceState *kvm_pit_create(Error **errp)
{
    DeviceState *dev = qdev_new("kvm-pit", errp);

    if (!dev) {
        return NULL;
    }
    qdev_set_machine_child(dev, "unattached/kvm-pit");
    if (!qdev_realize(dev, NULL, errp)) {
        qdev_free(dev);
        return NULL;
    }
    return dev;
}

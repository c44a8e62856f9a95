/*
 * vmstate of KVM's in-kernel PIT and PICs/IOAPIC against a real KVM: put
 * known state into the kernel's chips, save the "kvm-pit" and
 * "kvm-irqchip" devices, scramble the chips, load, and read the state back
 * from the kernel.  Needs a trustworthy /dev/kvm: runs in the KVM lab
 * (KVMPC_IN_LAB=1, or KVMPC_HOST_KVM=1), else skips (status 77).
 *
 *   tests/lab/lab-run -- build/tests/unit/test-kvm-vmstate
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>
#include <glib.h>
#include "accel/accel.h"
#include "accel/kvm/kvm.h"
#include "hw/machine.h"
#include "hw/memory.h"
#include "hw/qdev.h"
#include "hw/vmstate.h"
#include "system/main-loop.h"

static bool env_is_1(const char *name)
{
    const char *v = getenv(name);
    return v && !strcmp(v, "1");
}

static void get_chip(int id, struct kvm_irqchip *chip)
{
    memset(chip, 0, sizeof(*chip));
    chip->chip_id = id;
    g_assert_cmpint(ioctl(kvm_vm_fd(), KVM_GET_IRQCHIP, chip), ==, 0);
}

static void set_chip(struct kvm_irqchip *chip)
{
    g_assert_cmpint(ioctl(kvm_vm_fd(), KVM_SET_IRQCHIP, chip), ==, 0);
}

static GByteArray *save(const char *path)
{
    DeviceState *dev = qdev_find_by_path(path);
    GByteArray *out = g_byte_array_new();
    g_autoptr(GError) err = NULL;

    g_assert_nonnull(dev);
    g_assert_true(vmstate_save(dev->klass->vmsd, dev, out, &err));
    g_assert_no_error(err);
    return out;
}

static void load(const char *path, GByteArray *in)
{
    DeviceState *dev = qdev_find_by_path(path);
    g_autoptr(GError) err = NULL;
    size_t pos = 0;

    g_assert_true(vmstate_load(dev->klass->vmsd, dev, in->data, in->len, &pos, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(pos, ==, in->len);
}

static void test_irqchip_round_trip(void)
{
    struct kvm_irqchip master, slave, ioapic, check;
    g_autoptr(GByteArray) s = NULL;

    get_chip(KVM_IRQCHIP_PIC_MASTER, &master);
    get_chip(KVM_IRQCHIP_PIC_SLAVE, &slave);
    get_chip(KVM_IRQCHIP_IOAPIC, &ioapic);
    master.chip.pic.imr = 0x5a;
    master.chip.pic.irq_base = 0x20;
    master.chip.pic.elcr = 0x08;
    slave.chip.pic.imr = 0xa5;
    slave.chip.pic.irq_base = 0x70;
    ioapic.chip.ioapic.id = 3;
    for (int i = 0; i < KVM_IOAPIC_NUM_PINS; i++) {
        ioapic.chip.ioapic.redirtbl[i].bits = (1ULL << 16) | (0x40 + i) | ((uint64_t)i << 56);
    }
    set_chip(&master);
    set_chip(&slave);
    set_chip(&ioapic);

    s = save("kvm-irqchip");
    /* scramble */
    check = master;
    check.chip.pic.imr = 0xff;
    check.chip.pic.irq_base = 0x08;
    set_chip(&check);
    check = ioapic;
    check.chip.ioapic.id = 0;
    for (int i = 0; i < KVM_IOAPIC_NUM_PINS; i++) {
        check.chip.ioapic.redirtbl[i].bits = 1ULL << 16;
    }
    set_chip(&check);

    load("kvm-irqchip", s);
    get_chip(KVM_IRQCHIP_PIC_MASTER, &check);
    g_assert_cmphex(check.chip.pic.imr, ==, 0x5a);
    g_assert_cmphex(check.chip.pic.irq_base, ==, 0x20);
    g_assert_cmphex(check.chip.pic.elcr, ==, 0x08);
    get_chip(KVM_IRQCHIP_PIC_SLAVE, &check);
    g_assert_cmphex(check.chip.pic.imr, ==, 0xa5);
    g_assert_cmphex(check.chip.pic.irq_base, ==, 0x70);
    get_chip(KVM_IRQCHIP_IOAPIC, &check);
    g_assert_cmpuint(check.chip.ioapic.id, ==, 3);
    for (int i = 0; i < KVM_IOAPIC_NUM_PINS; i++) {
        g_assert_cmphex(check.chip.ioapic.redirtbl[i].bits, ==,
                        ioapic.chip.ioapic.redirtbl[i].bits);
    }
}

static void test_pit_round_trip(void)
{
    struct kvm_pit_state2 st, check;
    g_autoptr(GByteArray) s = NULL;

    g_assert_cmpint(ioctl(kvm_vm_fd(), KVM_GET_PIT2, &st), ==, 0);
    st.channels[0].count = 0x2e9c;
    st.channels[0].mode = 2;
    st.channels[0].rw_mode = 3;
    st.channels[2].count = 0x1234;
    st.channels[2].mode = 0;
    st.channels[2].gate = 1;
    g_assert_cmpint(ioctl(kvm_vm_fd(), KVM_SET_PIT2, &st), ==, 0);
    g_assert_cmpint(ioctl(kvm_vm_fd(), KVM_GET_PIT2, &st), ==, 0);

    s = save("kvm-pit");
    /* scramble */
    check = st;
    check.channels[0].count = 0x100;
    check.channels[0].mode = 3;
    check.channels[2].count = 0x55;
    g_assert_cmpint(ioctl(kvm_vm_fd(), KVM_SET_PIT2, &check), ==, 0);
    g_assert_cmpint(ioctl(kvm_vm_fd(), KVM_GET_PIT2, &check), ==, 0);
    g_assert_cmpuint(check.channels[0].count, !=, 0x2e9c);

    load("kvm-pit", s);
    g_assert_cmpint(ioctl(kvm_vm_fd(), KVM_GET_PIT2, &check), ==, 0);
    for (int i = 0; i < 3; i++) {
        g_assert_cmpuint(check.channels[i].count, ==, st.channels[i].count);
        g_assert_cmpuint(check.channels[i].mode, ==, st.channels[i].mode);
        g_assert_cmpuint(check.channels[i].rw_mode, ==, st.channels[i].rw_mode);
        g_assert_cmpuint(check.channels[i].gate, ==, st.channels[i].gate);
    }
    /* the load time moved with the round trip, never into the future */
    g_assert_cmpint(check.channels[0].count_load_time, >=, st.channels[0].count_load_time);
}

int main(int argc, char **argv)
{
    g_autoptr(GError) err = NULL;
    MachineState ms = { .ram_size = 16 << 20, .smp = { .cpus = 1, .sockets = 1, .cores = 1,
                                                       .threads = 1, .maxcpus = 1 } };
    const AccelOps *kvm;

    g_test_init(&argc, &argv, NULL);
    if (!env_is_1("KVMPC_IN_LAB") && !env_is_1("KVMPC_HOST_KVM")) {
        printf("1..0 # SKIP needs the KVM lab (KVMPC_IN_LAB=1) or KVMPC_HOST_KVM=1\n");
        return 77;
    }
    main_loop_init();
    memory_init_system();
    kvm = accel_find("kvm");
    g_assert_nonnull(kvm);
    if (!kvm->init_machine(&ms, &err)) {
        g_error("KVM init: %s", err->message);
    }
    current_accel = kvm;
    /* The PIT comes with the irqchip here; where the machine creates it
     * (AccelOps.create_pit), create it as the machine would. */
    if (!qdev_find_by_path("kvm-pit") && !kvm_pit_create(&err)) {
        g_error("kvm-pit: %s", err->message);
    }
    g_assert_nonnull(qdev_find_by_path("kvm-irqchip"));
    g_test_add_func("/kvm-vmstate/irqchip", test_irqchip_round_trip);
    g_test_add_func("/kvm-vmstate/pit", test_pit_round_trip);
    return g_test_run();
}

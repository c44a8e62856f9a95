/*
 * Device state coverage: every device class with instance state has a
 * vmstate description (or says why not), and the PCI, pci-testdev,
 * i440FX and in-kernel PIT/irqchip descriptions carry what they should.
 */
#include <string.h>
#include <linux/kvm.h>
#include <glib.h>
#include "accel/kvm/kvm.h"
#include "hw/memory.h"
#include "hw/pci/pci.h"
#include "hw/qdev.h"
#include "hw/vmstate.h"
#include "system/main-loop.h"

/*
 * "Stateful": the instance holds more than DeviceState, or the device sits
 * on a PCI bus (its configuration space is state).  Such a class needs a
 * vmsd, or `stateless = true` with a comment why (only properties and
 * memory regions).  A new device without either fails here, by name.
 */
static bool class_is_stateful(const DeviceClass *dc)
{
    if (dc->bus_type && !strcmp(dc->bus_type, "PCI")) {
        return true;
    }
    return dc->instance_size > sizeof(DeviceState);
}

static void test_every_stateful_class_has_vmstate(void)
{
    g_autoptr(GPtrArray) list = device_class_list();
    g_autoptr(GString) missing = g_string_new(NULL);
    unsigned with_vmsd = 0;

    g_assert_cmpuint(list->len, >, 10);
    for (guint i = 0; i < list->len; i++) {
        const DeviceClass *dc = g_ptr_array_index(list, i);
        if (dc->vmsd) {
            g_assert_nonnull(dc->vmsd->name);
            g_assert_nonnull(dc->vmsd->fields);
            g_assert_false(dc->stateless);     /* one or the other */
            with_vmsd++;
        } else if (class_is_stateful(dc) && !dc->stateless) {
            g_string_append_printf(missing, " %s", dc->name);
        }
    }
    if (missing->len) {
        g_error("device classes with state but no vmstate (give them a vmsd, or "
                "`.stateless = true` with the reason):%s", missing->str);
    }
    g_assert_cmpuint(with_vmsd, >=, 14);
}

/* The check has teeth: a class it would refuse. */
static void test_checker_refuses(void)
{
    DeviceClass dc = { .name = "x", .instance_size = sizeof(DeviceState) + 8 };
    DeviceClass pci = { .name = "y", .bus_type = "PCI", .instance_size = sizeof(DeviceState) };
    DeviceClass bare = { .name = "z", .instance_size = sizeof(DeviceState) };

    g_assert_true(class_is_stateful(&dc));
    g_assert_true(class_is_stateful(&pci));
    g_assert_false(class_is_stateful(&bare));
}

/* ---- PCI configuration space ---------------------------------------------- */

static MemoryRegion sysmem, iomem;
static AddressSpace as_mem, as_io;
static PCIBus *bus;

static void pci_setup(void)
{
    g_autoptr(GError) err = NULL;

    if (bus) {
        return;
    }
    memory_region_init(&sysmem, "test-mem", UINT64_MAX);
    memory_region_init(&iomem, "test-io", 0x10000);
    address_space_init(&as_mem, &sysmem, "test-mem");
    address_space_init(&as_io, &iomem, "test-io");
    /* A bare root bus with the host bridge function at 00.0, as the pc
     * machine has (without the configuration ports: cycles go direct). */
    bus = pci_root_bus_new(NULL, "test-pci.0", &sysmem, &iomem);
    g_assert_nonnull(pci_create_simple(bus, PCI_DEVFN(0, 0), "i440FX", &err));
    g_assert_no_error(err);
}

static void cfg_write(PCIDevice *d, uint32_t addr, uint32_t val, int len)
{
    pci_host_config_write(bus, 0, d->devfn, addr, val, len);
}

static uint32_t cfg_read(PCIDevice *d, uint32_t addr, int len)
{
    return pci_host_config_read(bus, 0, d->devfn, addr, len);
}

static uint32_t io_read(uint64_t port, unsigned size)
{
    uint64_t v = 0;

    address_space_ld(&as_io, port, &v, size);
    return (uint32_t)v;
}

static uint32_t mem_read(uint64_t addr, unsigned size)
{
    uint64_t v = 0;

    address_space_ld(&as_mem, addr, &v, size);
    return (uint32_t)v;
}

#define MMIO_BAR 0xfeb40000u
#define IO_BAR   0xc100u
#define HDR_NAME 0x10

static GByteArray *save_dev(DeviceState *dev)
{
    GByteArray *out = g_byte_array_new();
    g_autoptr(GError) err = NULL;

    g_assert_true(vmstate_save(dev->klass->vmsd, dev, out, &err));
    g_assert_no_error(err);
    return out;
}

static void load_dev(DeviceState *dev, GByteArray *in)
{
    g_autoptr(GError) err = NULL;
    size_t pos = 0;

    g_assert_true(vmstate_load(dev->klass->vmsd, dev, in->data, in->len, &pos, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(pos, ==, in->len);
}

/* A pci-testdev whose BARs the guest programmed, with a test selected on
 * each BAR, is saved, removed, and loaded into a fresh one: the BARs are
 * mapped at the same addresses and the device answers there as before. */
static void test_pci_testdev_round_trip(void)
{
    g_autoptr(GError) err = NULL;
    PCIDevice *a, *b;
    g_autoptr(GByteArray) s = NULL;
    char name[32];

    pci_setup();
    a = pci_create_simple(bus, PCI_DEVFN(3, 0), "pci-testdev", &err);
    g_assert_no_error(err);
    cfg_write(a, PCI_BASE_ADDRESS_0, MMIO_BAR, 4);
    cfg_write(a, PCI_BASE_ADDRESS_0 + 4, IO_BAR, 4);
    cfg_write(a, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    cfg_write(a, PCI_INTERRUPT_LINE, 11, 1);
    g_assert_cmphex(pci_get_bar_addr(a, 0), ==, MMIO_BAR);
    g_assert_cmphex(pci_get_bar_addr(a, 1), ==, IO_BAR);
    /* select test 0 on the MMIO BAR and count two writes; test 2 on I/O */
    address_space_st(&as_mem, MMIO_BAR, 0, 1);
    uint32_t off = mem_read(MMIO_BAR + 4, 4), data = mem_read(MMIO_BAR + 8, 4);
    address_space_st(&as_mem, MMIO_BAR + off, data, 1);
    address_space_st(&as_mem, MMIO_BAR + off, data, 1);
    g_assert_cmpuint(mem_read(MMIO_BAR + 0x0c, 4), ==, 2);
    address_space_st(&as_io, IO_BAR, 2, 1);
    uint32_t ioff = io_read(IO_BAR + 4, 4), idata = io_read(IO_BAR + 8, 4);
    address_space_st(&as_io, IO_BAR + ioff, idata, 1);     /* caught by the ioeventfd */
    g_assert_cmpuint(io_read(IO_BAR + 0x0c, 4), ==, 1);

    s = save_dev(DEVICE(a));
    qdev_free(DEVICE(a));
    g_assert_cmphex(mem_read(MMIO_BAR, 1), !=, 0);          /* nothing there now */

    b = pci_create_simple(bus, PCI_DEVFN(4, 0), "pci-testdev", &err);
    g_assert_no_error(err);
    g_assert_cmphex(pci_get_bar_addr(b, 0), ==, PCI_BAR_UNMAPPED);
    load_dev(DEVICE(b), s);
    g_assert_cmphex(pci_get_bar_addr(b, 0), ==, MMIO_BAR);
    g_assert_cmphex(pci_get_bar_addr(b, 1), ==, IO_BAR);
    g_assert_cmphex(cfg_read(b, PCI_COMMAND, 2), ==,
                    PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    g_assert_cmpuint(cfg_read(b, PCI_INTERRUPT_LINE, 1), ==, 11);
    /* the device answers at the old addresses, in the state it had */
    g_assert_cmpuint(mem_read(MMIO_BAR + 0x0c, 4), ==, 2);
    for (int i = 0; i < 31; i++) {
        name[i] = (char)mem_read(MMIO_BAR + HDR_NAME + i, 1);
    }
    name[31] = 0;
    g_assert_cmpstr(name, ==, "mmio-no-eventfd");
    g_assert_cmpuint(io_read(IO_BAR + 0x0c, 4), ==, 1);
    for (int i = 0; i < 31; i++) {
        name[i] = (char)io_read(IO_BAR + HDR_NAME + i, 1);
    }
    g_assert_cmpstr(name, ==, "portio-datamatch-eventfd");
    /* the ioeventfd is registered again: a matching write still counts */
    address_space_st(&as_io, IO_BAR + ioff, idata, 1);
    g_assert_cmpuint(io_read(IO_BAR + 0x0c, 4), ==, 2);
    address_space_st(&as_mem, MMIO_BAR + off, data, 1);
    g_assert_cmpuint(mem_read(MMIO_BAR + 0x0c, 4), ==, 3);

    /* decoding off in a saved state: loading it unmaps the BARs */
    cfg_write(b, PCI_COMMAND, 0, 2);
    g_autoptr(GByteArray) off_state = save_dev(DEVICE(b));
    cfg_write(b, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
    g_assert_cmphex(pci_get_bar_addr(b, 0), ==, MMIO_BAR);
    load_dev(DEVICE(b), off_state);
    g_assert_cmphex(pci_get_bar_addr(b, 0), ==, PCI_BAR_UNMAPPED);
    g_assert_cmphex(pci_get_bar_addr(b, 1), ==, PCI_BAR_UNMAPPED);
    qdev_free(DEVICE(b));
}

/* Offset of the 256 config bytes in a stream of vmstate_pci_device alone:
 * "PCIDevice\0" u32, "config\0" u32. */
#define CONFIG_AT (sizeof("PCIDevice") + 4 + sizeof("config") + 4)

/* The loaded config keeps the BARs' read-only bits, and a configuration
 * space of another device is refused. */
static void test_pci_config_checks(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GByteArray) s = g_byte_array_new();
    PCIDevice *a, *host;
    size_t pos = 0;

    pci_setup();
    a = pci_create_simple(bus, PCI_DEVFN(5, 0), "pci-testdev", &err);
    g_assert_no_error(err);
    cfg_write(a, PCI_BASE_ADDRESS_0, MMIO_BAR, 4);
    cfg_write(a, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    g_assert_true(vmstate_save(&vmstate_pci_device, a, s, &err));
    g_assert_cmpuint(s->len, ==, CONFIG_AT + PCI_CONFIG_SPACE_SIZE);
    g_assert_cmphex(s->data[CONFIG_AT + PCI_BASE_ADDRESS_0 + 1], ==, (MMIO_BAR >> 8) & 0xff);

    /* a BAR address with bits inside the BAR's size and a wrong type */
    s->data[CONFIG_AT + PCI_BASE_ADDRESS_0] = 0x05;         /* I/O bit, 64-bit type */
    s->data[CONFIG_AT + PCI_BASE_ADDRESS_0 + 1] |= 0x03;    /* 0x300: inside 4 KiB */
    g_assert_true(vmstate_load(&vmstate_pci_device, a, s->data, s->len, &pos, &err));
    g_assert_no_error(err);
    g_assert_cmphex(cfg_read(a, PCI_BASE_ADDRESS_0, 4), ==, MMIO_BAR);
    g_assert_cmphex(pci_get_bar_addr(a, 0), ==, MMIO_BAR);

    /* into the host bridge: not its identity (a failed load leaves the
     * device to be reset; here its old config is put back by hand) */
    host = pci_find_device(bus, 0, PCI_DEVFN(0, 0));
    g_assert_nonnull(host);
    uint8_t host_cfg[PCI_CONFIG_SPACE_SIZE];
    memcpy(host_cfg, host->config, sizeof(host_cfg));
    pos = 0;
    g_assert_false(vmstate_load(&vmstate_pci_device, host, s->data, s->len, &pos, &err));
    g_assert_nonnull(strstr(err->message, "post_load"));
    g_clear_error(&err);
    memcpy(host->config, host_cfg, sizeof(host_cfg));

    /* the host bridge (i440FX, 00.0) has its own description */
    g_autoptr(GByteArray) hs = g_byte_array_new();
    g_assert_nonnull(host->qdev.klass->vmsd);
    g_assert_cmpstr(host->qdev.klass->vmsd->name, ==, "i440FX");
    cfg_write(host, PCI_LATENCY_TIMER, 0x40, 1);
    g_assert_true(vmstate_save(host->qdev.klass->vmsd, host, hs, &err));
    cfg_write(host, PCI_LATENCY_TIMER, 0x00, 1);
    pos = 0;
    g_assert_true(vmstate_load(host->qdev.klass->vmsd, host, hs->data, hs->len, &pos, &err));
    g_assert_no_error(err);
    g_assert_cmphex(cfg_read(host, PCI_LATENCY_TIMER, 1), ==, 0x40);
    g_assert_cmphex(cfg_read(host, PCI_VENDOR_ID, 4), ==, 0x12378086);
    qdev_free(DEVICE(a));
}

/* ---- in-kernel PIT and irqchip encodings (no KVM needed) ------------------ */

static void test_kvm_pit_channel_encoding(void)
{
    struct kvm_pit_channel_state src = {
        .count = 0x10000, .latched_count = 0x1234, .count_latched = 1, .status_latched = 0,
        .status = 0x36, .read_state = 3, .write_state = 3, .write_latch = 0x9c,
        .rw_mode = 3, .mode = 2, .bcd = 0, .gate = 1, .count_load_time = -123456789,
    }, dst;
    g_autoptr(GByteArray) s = g_byte_array_new();
    size_t pos = 0;

    g_assert_true(vmstate_save(&vmstate_kvm_pit_channel, &src, s, NULL));
    memset(&dst, 0xaa, sizeof(dst));
    g_assert_true(vmstate_load(&vmstate_kvm_pit_channel, &dst, s->data, s->len, &pos, NULL));
    g_assert_cmpuint(dst.count, ==, 0x10000);
    g_assert_cmphex(dst.latched_count, ==, 0x1234);
    g_assert_cmpuint(dst.count_latched, ==, 1);
    g_assert_cmphex(dst.status, ==, 0x36);
    g_assert_cmphex(dst.write_latch, ==, 0x9c);
    g_assert_cmpuint(dst.mode, ==, 2);
    g_assert_cmpuint(dst.gate, ==, 1);
    g_assert_cmpint(dst.count_load_time, ==, -123456789);
    /* every field of the kernel's struct is on the wire (13 fields) */
    g_assert_cmpuint(s->len, ==, sizeof("kvm-pit-channel") + 4 + 4 + 2 + 10 + 8 +
                     (sizeof("count") + sizeof("latched_count") + sizeof("count_latched") +
                      sizeof("status_latched") + sizeof("status") + sizeof("read_state") +
                      sizeof("write_state") + sizeof("write_latch") + sizeof("rw_mode") +
                      sizeof("mode") + sizeof("bcd") + sizeof("gate") +
                      sizeof("count_load_time")) + 13 * 4);
}

static void test_kvm_irqchip_encoding(void)
{
    struct kvm_pic_state pic = {
        .irr = 0x01, .imr = 0xb8, .isr = 0x04, .irq_base = 0x20, .elcr = 0x0c,
        .elcr_mask = 0xf8, .init4 = 1, .auto_eoi = 1,
    }, pic2;
    struct kvm_ioapic_state io = { .base_address = 0xfec00000, .ioregsel = 0x12, .id = 2,
                                   .irr = 0x4 }, io2;
    g_autoptr(GByteArray) s = g_byte_array_new();
    size_t pos = 0;

    for (int i = 0; i < KVM_IOAPIC_NUM_PINS; i++) {
        io.redirtbl[i].bits = 0x10000 | (0x30 + i) | ((uint64_t)i << 56);
    }
    g_assert_true(vmstate_save(&vmstate_kvm_pic, &pic, s, NULL));
    g_assert_true(vmstate_save(&vmstate_kvm_ioapic, &io, s, NULL));
    memset(&pic2, 0, sizeof(pic2));
    memset(&io2, 0, sizeof(io2));
    g_assert_true(vmstate_load(&vmstate_kvm_pic, &pic2, s->data, s->len, &pos, NULL));
    g_assert_true(vmstate_load(&vmstate_kvm_ioapic, &io2, s->data, s->len, &pos, NULL));
    g_assert_cmpuint(pos, ==, s->len);
    g_assert_cmpmem(&pic, sizeof(pic), &pic2, sizeof(pic2));
    g_assert_cmphex(io2.base_address, ==, 0xfec00000);
    g_assert_cmphex(io2.ioregsel, ==, 0x12);
    g_assert_cmphex(io2.id, ==, 2);
    g_assert_cmphex(io2.irr, ==, 4);
    for (int i = 0; i < KVM_IOAPIC_NUM_PINS; i++) {
        g_assert_cmphex(io2.redirtbl[i].bits, ==, io.redirtbl[i].bits);
    }
    /* the in-kernel devices are registered with a vmsd */
    g_assert_nonnull(device_class_find("kvm-pit")->vmsd);
    g_assert_nonnull(device_class_find("kvm-irqchip")->vmsd);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    g_test_add_func("/vmstate-coverage/every-class", test_every_stateful_class_has_vmstate);
    g_test_add_func("/vmstate-coverage/checker", test_checker_refuses);
    g_test_add_func("/vmstate-coverage/pci-testdev", test_pci_testdev_round_trip);
    g_test_add_func("/vmstate-coverage/pci-config-checks", test_pci_config_checks);
    g_test_add_func("/vmstate-coverage/kvm-pit-channel", test_kvm_pit_channel_encoding);
    g_test_add_func("/vmstate-coverage/kvm-irqchip", test_kvm_irqchip_encoding);
    return g_test_run();
}

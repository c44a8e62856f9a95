/*
 * virtio-net-pci vmstate (docs/virtio.md, virtio-net): a legacy driver
 * sets a MAC through the configuration space and the link goes down; the
 * state is saved, the device reset (which forgets both), and loaded: the
 * MAC, the link status and the driver status are back, seen through the
 * legacy I/O BAR as a guest sees them.
 */
#include <string.h>
#include <glib.h>

#include "hw/qdev.h"
#include "hw/pci/pci.h"
#include "hw/memory.h"
#include "hw/vmstate.h"
#include "net/net.h"
#include "system/main-loop.h"
#include "pio-test-util.h"

#define IOBAR   0xc000
#define CFG     (IOBAR + 0x14)          /* device config, MSI-X off */
#define STATUS  (IOBAR + 0x12)

static PCIBus *pci;
static PCIDevice *dev;

static void map_bar0(void)
{
    pci_host_config_write(pci, 0, dev->devfn, 0x10, IOBAR | 1, 4);
    pci_host_config_write(pci, 0, dev->devfn, 0x04, 0x0005, 2);
}

static void read_mac(uint8_t *mac)
{
    for (int i = 0; i < 6; i++) {
        mac[i] = inb(CFG + i);
    }
}

static void test_vmstate_roundtrip(void)
{
    static const uint8_t def[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
    static const uint8_t set[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
    g_autoptr(GByteArray) buf = g_byte_array_new();
    Error *err = NULL;
    uint8_t mac[6];
    size_t pos = 0;
    NetClientState *nc = NULL;

    map_bar0();
    read_mac(mac);
    g_assert_cmpmem(mac, 6, def, 6);
    outb(STATUS, 0x03);                         /* ACKNOWLEDGE | DRIVER */
    outl(IOBAR + 0x04, 0);                      /* no features: MAC writable */
    for (int i = 0; i < 6; i++) {
        outb(CFG + i, set[i]);
    }
    outb(STATUS, 0x07);                         /* DRIVER_OK */
    read_mac(mac);
    g_assert_cmpmem(mac, 6, set, 6);
    g_assert_true(qemu_set_link("virtio-net-pci.0", false, &err));
    g_assert_cmpuint(inw(CFG + 6) & 1, ==, 0);

    g_assert_true(vmstate_save(dev->qdev.klass->vmsd, dev, buf, &err));
    g_assert_no_error(err);
    g_assert_true(qemu_set_link("virtio-net-pci.0", true, &err));
    qdev_reset(&dev->qdev);
    map_bar0();
    read_mac(mac);
    g_assert_cmpmem(mac, 6, def, 6);
    g_assert_cmpuint(inb(STATUS), ==, 0);
    g_assert_cmpuint(inw(CFG + 6), ==, 1);

    g_assert_true(vmstate_load(dev->qdev.klass->vmsd, dev, buf->data, buf->len, &pos, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(pos, ==, buf->len);
    read_mac(mac);
    g_assert_cmpmem(mac, 6, set, 6);
    g_assert_cmpuint(inb(STATUS), ==, 0x07);
    g_assert_cmpuint(inw(CFG + 6) & 1, ==, 0);  /* link down again */
    nc = qemu_find_net_client("virtio-net-pci.0");
    g_assert_nonnull(nc);
    g_assert_true(nc->link_down);
}

int main(int argc, char **argv)
{
    static MemoryRegion ram;
    Error *err = NULL;

    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    memory_init_system();
    g_assert_true(memory_region_init_ram(&ram, "ram", 16 << 20, &err));
    memory_region_add_subregion(get_system_memory(), 0, &ram);
    pci = pci_root_bus_new(NULL, "pci.0", get_system_memory(), get_system_io());
    dev = pci_create_simple(pci, PCI_DEVFN(2, 0), "virtio-net-pci", &err);
    g_assert_no_error(err);
    g_assert_nonnull(dev);
    g_test_add_func("/virtio-net/vmstate/roundtrip", test_vmstate_roundtrip);
    return g_test_run();
}

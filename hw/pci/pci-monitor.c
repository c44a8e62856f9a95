/*
 * QMP query-pci and HMP "info pci": the devices on the root bus as the
 * guest has programmed them (IDs from configuration space, BARs where the
 * core mapped them, the interrupt line the firmware wrote), in QEMU's
 * PciInfo schema and its HMP layout (docs/pci.md).
 */
#include <inttypes.h>
#include <string.h>
#include <glib.h>
#include "hw/pci/pci.h"
#include "hw/pci/pci-monitor.h"
#include "hw/qdev.h"
#include "monitor/monitor.h"
#include "monitor/qmp-gen.h"
#include "monitor/qmp-internal.h"

/* The class names QEMU's HMP prints (others: "Class XXXX"). */
static const struct {
    uint16_t class_id;
    const char *desc;
} class_names[] = {
    { 0x0100, "SCSI controller" },      { 0x0101, "IDE controller" },
    { 0x0102, "Floppy controller" },    { 0x0104, "RAID controller" },
    { 0x0106, "SATA controller" },      { 0x0107, "SAS controller" },
    { 0x0180, "Storage controller" },   { 0x0200, "Ethernet controller" },
    { 0x0280, "Network controller" },   { 0x0300, "VGA controller" },
    { 0x0302, "3D controller" },        { 0x0380, "Display controller" },
    { 0x0401, "Audio controller" },     { 0x0403, "Audio controller" },
    { 0x0480, "Multimedia controller" },
    { 0x0500, "RAM controller" },       { 0x0580, "Memory controller" },
    { 0x0600, "Host bridge" },          { 0x0601, "ISA bridge" },
    { 0x0604, "PCI bridge" },           { 0x0680, "Bridge" },
    { 0x0700, "Serial port" },          { 0x0701, "Parallel port" },
    { 0x0780, "Communication controller" },
    { 0x0800, "PIC" },                  { 0x0801, "DMA controller" },
    { 0x0802, "Timer" },                { 0x0803, "RTC" },
    { 0x0880, "System peripheral" },    { 0x0c03, "USB controller" },
    { 0x0c05, "SMBus" },
};

static const char *class_desc(uint16_t class_id)
{
    for (size_t i = 0; i < G_N_ELEMENTS(class_names); i++) {
        if (class_names[i].class_id == class_id) {
            return class_names[i].desc;
        }
    }
    return NULL;
}

static PCIBus *root_bus(void)
{
    BusState *b = qbus_find("PCI");

    return b ? pci_bus_from_qbus(b) : NULL;
}

/* One BAR as query-pci reports it: its guest-programmed address (-1 while
 * unmapped, as QEMU) and its size. */
static JsonObject *region_json(PCIDevice *d, int n)
{
    PCIIORegion *r = &d->io_regions[n];
    JsonObject *o = json_object_new();

    json_object_set_int_member(o, "bar", n);
    if (r->type & PCI_BASE_ADDRESS_SPACE_IO) {
        json_object_set_string_member(o, "type", "io");
    } else {
        json_object_set_string_member(o, "type", "memory");
        json_object_set_boolean_member(o, "prefetch", !!(r->type & PCI_BASE_ADDRESS_MEM_PREFETCH));
        json_object_set_boolean_member(o, "mem_type_64", !!(r->type & PCI_BASE_ADDRESS_MEM_TYPE_64));
    }
    json_object_set_int_member(o, "address", (int64_t)r->addr);
    json_object_set_int_member(o, "size", (int64_t)r->size);
    return o;
}

static JsonObject *device_json(PCIDevice *d)
{
    JsonObject *o = json_object_new(), *cls = json_object_new(), *id = json_object_new();
    JsonArray *regions = json_array_new();
    uint16_t class_id = pci_get_word(d->config + PCI_CLASS_DEVICE);
    const char *desc = class_desc(class_id);
    uint8_t pin = d->config[PCI_INTERRUPT_PIN];

    json_object_set_int_member(o, "bus", 0);
    json_object_set_int_member(o, "slot", PCI_SLOT(d->devfn));
    json_object_set_int_member(o, "function", PCI_FUNC(d->devfn));
    if (desc) {
        json_object_set_string_member(cls, "desc", desc);
    }
    json_object_set_int_member(cls, "class", class_id);
    json_object_set_object_member(o, "class_info", cls);
    json_object_set_int_member(id, "vendor", pci_get_word(d->config + PCI_VENDOR_ID));
    json_object_set_int_member(id, "device", pci_get_word(d->config + PCI_DEVICE_ID));
    json_object_set_int_member(id, "subsystem-vendor", pci_get_word(d->config + PCI_SUBSYSTEM_VENDOR_ID));
    json_object_set_int_member(id, "subsystem", pci_get_word(d->config + PCI_SUBSYSTEM_ID));
    json_object_set_object_member(o, "id", id);
    if (pin) {
        json_object_set_int_member(o, "irq", d->config[PCI_INTERRUPT_LINE]);
    }
    json_object_set_int_member(o, "irq_pin", pin);
    json_object_set_string_member(o, "qdev_id", d->qdev.id ? d->qdev.id : "");
    for (int n = 0; n < PCI_NUM_REGIONS; n++) {
        if (d->io_regions[n].size) {
            json_array_add_object_element(regions, region_json(d, n));
        }
    }
    json_object_set_array_member(o, "regions", regions);
    return o;
}

/* The root bus's devices in slot/function order. */
static JsonArray *pci_devices_json(void)
{
    PCIBus *bus = root_bus();
    JsonArray *a = json_array_new();

    for (int devfn = 0; bus && devfn < 256; devfn++) {
        PCIDevice *d = pci_find_device(bus, 0, devfn);
        if (d) {
            json_array_add_object_element(a, device_json(d));
        }
    }
    return a;
}

JsonNode *qmp_query_pci(Monitor *mon, const QmpArgs_query_pci *args, Error **errp)
{
    JsonArray *buses = json_array_new();
    JsonObject *b;

    (void)mon; (void)args; (void)errp;
    if (root_bus()) {
        b = json_object_new();
        json_object_set_int_member(b, "bus", 0);
        json_object_set_array_member(b, "devices", pci_devices_json());
        json_array_add_object_element(buses, b);
    }
    return qmp_node_array(buses);
}

static int64_t member_int(JsonObject *o, const char *name)
{
    return json_object_get_int_member(o, name);
}

void hmp_info_pci(Monitor *mon, int argc, char **argv)
{
    g_autoptr(JsonArray) devs = pci_devices_json();

    (void)argc; (void)argv;
    for (guint i = 0; i < json_array_get_length(devs); i++) {
        JsonObject *d = json_array_get_object_element(devs, i);
        JsonObject *cls = json_object_get_object_member(d, "class_info");
        JsonObject *id = json_object_get_object_member(d, "id");
        JsonArray *regions = json_object_get_array_member(d, "regions");

        monitor_printf(mon, "  Bus %2" PRId64 ", device %3" PRId64 ", function %" PRId64 ":\n",
                       member_int(d, "bus"), member_int(d, "slot"), member_int(d, "function"));
        if (json_object_has_member(cls, "desc")) {
            monitor_printf(mon, "    %s", json_object_get_string_member(cls, "desc"));
        } else {
            monitor_printf(mon, "    Class %04" PRIx64, member_int(cls, "class"));
        }
        monitor_printf(mon, ": PCI device %04" PRIx64 ":%04" PRIx64 "\n",
                       member_int(id, "vendor"), member_int(id, "device"));
        monitor_printf(mon, "      PCI subsystem %04" PRIx64 ":%04" PRIx64 "\n",
                       member_int(id, "subsystem-vendor"), member_int(id, "subsystem"));
        if (json_object_has_member(d, "irq")) {
            monitor_printf(mon, "      IRQ %" PRId64 ", pin %c\n", member_int(d, "irq"),
                           (char)('A' + member_int(d, "irq_pin") - 1));
        }
        for (guint j = 0; j < json_array_get_length(regions); j++) {
            JsonObject *r = json_array_get_object_element(regions, j);
            uint64_t addr = (uint64_t)member_int(r, "address"), size = (uint64_t)member_int(r, "size");

            if (!strcmp(json_object_get_string_member(r, "type"), "io")) {
                monitor_printf(mon, "      BAR%" PRId64 ": I/O at 0x%04" PRIx64 " [0x%04" PRIx64 "].\n",
                               member_int(r, "bar"), addr, addr + size - 1);
            } else {
                monitor_printf(mon, "      BAR%" PRId64 ": %d bit%s memory at 0x%08" PRIx64
                               " [0x%08" PRIx64 "].\n", member_int(r, "bar"),
                               json_object_get_boolean_member(r, "mem_type_64") ? 64 : 32,
                               json_object_get_boolean_member(r, "prefetch") ? " prefetchable" : "",
                               addr, addr + size - 1);
            }
        }
        monitor_printf(mon, "      id \"%s\"\n", json_object_get_string_member(d, "qdev_id"));
    }
}

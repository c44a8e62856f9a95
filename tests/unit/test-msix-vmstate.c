/*
 * MSI-X state across save and load (hw/pci/msix.c, the "PCIDevice/msix"
 * subsection of vmstate_pci_device): an "edu" with MSI-X whose guest
 * programmed its vectors and has a vector pending is saved, loaded into a
 * fresh edu, and the new one shows the same table and PBA through its BAR
 * and sends the pending message when the guest unmasks it.  Streams of
 * another vector count or a device without MSI-X are refused; a stream
 * without the subsection (older) still loads.
 */
#define _GNU_SOURCE     /* memmem */
#include <string.h>
#include <glib.h>
#include "hw/memory.h"
#include "hw/pci/pci.h"
#include "hw/pci/msix.h"
#include "hw/qdev.h"
#include "hw/vmstate.h"
#include "system/main-loop.h"

#define NVEC        5
#define BAR0        0xfe000000u     /* edu registers */
#define BAR1        0xfe100000u     /* MSI-X table at 0, PBA at 0x800 */
#define PBA         (BAR1 + 0x800)
#define EDU_RAISE   0x60
#define EDU_VEC_RAISE 2             /* edu sends its raise register on vector 2 */

static MemoryRegion sysmem, iomem;
static AddressSpace as_mem;
static PCIBus *bus;

typedef struct Msg {
    uint64_t addr;
    uint32_t data;
} Msg;
static GArray *sent;

static void record_msi(void *opaque, PCIDevice *dev, uint64_t addr, uint32_t data)
{
    Msg m = { addr, data };

    g_array_append_val(sent, m);
}

static void setup(void)
{
    g_autoptr(GError) err = NULL;

    if (bus) {
        g_array_set_size(sent, 0);
        return;
    }
    memory_region_init(&sysmem, "test-mem", UINT64_MAX);
    memory_region_init(&iomem, "test-io", 0x10000);
    address_space_init(&as_mem, &sysmem, "test-mem");
    bus = pci_root_bus_new(NULL, "test-pci.0", &sysmem, &iomem);
    g_assert_nonnull(pci_create_simple(bus, PCI_DEVFN(0, 0), "i440FX", &err));
    g_assert_no_error(err);
    sent = g_array_new(false, true, sizeof(Msg));
    pci_bus_set_msi_hook(bus, record_msi, NULL);
}

static void cfg_write(PCIDevice *d, uint32_t addr, uint32_t val, int len)
{
    pci_host_config_write(bus, 0, d->devfn, addr, val, len);
}

static uint32_t cfg_read(PCIDevice *d, uint32_t addr, int len)
{
    return pci_host_config_read(bus, 0, d->devfn, addr, len);
}

static uint32_t rl(uint64_t addr)
{
    uint64_t v = 0;

    address_space_ld(&as_mem, addr, &v, 4);
    return (uint32_t)v;
}

static void wl(uint64_t addr, uint32_t v)
{
    address_space_st(&as_mem, addr, v, 4);
}

/* An edu at slot `slot` with `nvec` MSI-X vectors (0: no MSI-X). */
static PCIDevice *new_edu(int slot, unsigned nvec)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *addr = g_strdup_printf("%x.0", slot);
    DeviceState *dev = qdev_new("edu", &err);

    g_assert_no_error(err);
    g_assert_true(qdev_prop_set_string(dev, "addr", addr, &err));
    if (nvec) {
        g_assert_true(qdev_prop_set_bool(dev, "msix", true, &err));
        g_assert_true(qdev_prop_set_uint(dev, "msix-vectors", nvec, &err));
    }
    g_assert_true(qdev_realize(dev, bus->qbus, &err));
    g_assert_no_error(err);
    return PCI_DEVICE(dev);
}

static GByteArray *save(PCIDevice *d)
{
    GByteArray *out = g_byte_array_new();
    g_autoptr(GError) err = NULL;

    g_assert_true(vmstate_save(d->qdev.klass->vmsd, d, out, &err));
    g_assert_no_error(err);
    return out;
}

/* Load; NULL on success, else the error message (to be freed). */
static char *load(PCIDevice *d, const GByteArray *s)
{
    g_autoptr(GError) err = NULL;
    size_t pos = 0;

    if (!vmstate_load(d->qdev.klass->vmsd, d, s->data, s->len, &pos, &err)) {
        return g_strdup(err->message);
    }
    g_assert_cmpuint(pos, ==, s->len);
    return NULL;
}

static void load_ok(PCIDevice *d, const GByteArray *s)
{
    g_autofree char *e = load(d, s);

    g_assert_null(e);
}

static uint32_t vec_addr_lo(unsigned v) { return 0xfee00000u | (v << 12); }
static uint32_t vec_data(unsigned v) { return 0x4040u + v; }

/* The guest's view after programming: BARs, bus master, MSI-X on, vector
 * v at 0xfee0v000 (high dword v) with data 0x404v, vectors 0, 1, 3, 4
 * unmasked and 2 masked; then the raise register fires vector 2. */
static void program(PCIDevice *d)
{
    uint8_t cap = pci_find_capability(d, PCI_CAP_ID_MSIX);

    g_assert_cmpuint(cap, !=, 0);
    cfg_write(d, PCI_BASE_ADDRESS_0, BAR0, 4);
    cfg_write(d, PCI_BASE_ADDRESS_0 + 4, BAR1, 4);
    cfg_write(d, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    cfg_write(d, cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
    for (unsigned v = 0; v < NVEC; v++) {
        uint64_t e = BAR1 + v * PCI_MSIX_ENTRY_SIZE;
        wl(e + PCI_MSIX_ENTRY_ADDR_LO, vec_addr_lo(v));
        wl(e + PCI_MSIX_ENTRY_ADDR_HI, v);
        wl(e + PCI_MSIX_ENTRY_DATA, vec_data(v));
        wl(e + PCI_MSIX_ENTRY_CTRL, v == EDU_VEC_RAISE ? PCI_MSIX_ENTRY_CTRL_MASKBIT : 0);
    }
    wl(BAR0 + EDU_RAISE, 1);
}

static void read_table(uint32_t *t)
{
    for (unsigned i = 0; i < NVEC * 4; i++) {
        t[i] = rl(BAR1 + 4 * i);
    }
}

static void test_round_trip(void)
{
    uint32_t before[NVEC * 4], after[NVEC * 4];
    g_autoptr(GByteArray) s = NULL;
    PCIDevice *a, *b;

    setup();
    a = new_edu(6, NVEC);
    program(a);
    g_assert_cmpuint(sent->len, ==, 0);             /* masked: pending instead */
    g_assert_cmphex(rl(PBA), ==, 1u << EDU_VEC_RAISE);
    g_assert_true(msix_is_pending(a, EDU_VEC_RAISE));
    read_table(before);
    g_assert_cmphex(before[3 * 4 + 0], ==, vec_addr_lo(3));
    g_assert_cmphex(before[EDU_VEC_RAISE * 4 + 3], ==, PCI_MSIX_ENTRY_CTRL_MASKBIT);

    s = save(a);
    g_assert_nonnull(memmem(s->data, s->len, "\001PCIDevice/msix", 15));
    qdev_free(DEVICE(a));
    g_assert_cmphex(rl(PBA), ==, 0xffffffffu);      /* nothing mapped there now */

    b = new_edu(7, NVEC);
    g_assert_false(msix_enabled(b));
    g_assert_false(msix_is_pending(b, EDU_VEC_RAISE));
    load_ok(b, s);
    g_assert_cmpuint(sent->len, ==, 0);             /* still masked: nothing sent */
    g_assert_true(msix_enabled(b));
    g_assert_cmphex(cfg_read(b, PCI_COMMAND, 2), ==, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    g_assert_cmphex(pci_get_bar_addr(b, 1), ==, BAR1);
    read_table(after);
    g_assert_cmpmem(before, sizeof(before), after, sizeof(after));
    g_assert_cmphex(rl(PBA), ==, 1u << EDU_VEC_RAISE);
    for (unsigned v = 0; v < NVEC; v++) {
        MSIMessage m = msix_get_message(b, v);
        g_assert_cmphex(m.address, ==, (uint64_t)v << 32 | vec_addr_lo(v));
        g_assert_cmphex(m.data, ==, vec_data(v));
        g_assert_cmpint(msix_is_masked(b, v), ==, v == EDU_VEC_RAISE);
    }

    /* the guest unmasks the pending vector: its message goes out, once */
    wl(BAR1 + EDU_VEC_RAISE * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_CTRL, 0);
    g_assert_cmpuint(sent->len, ==, 1);
    g_assert_cmphex(g_array_index(sent, Msg, 0).addr, ==,
                    (uint64_t)EDU_VEC_RAISE << 32 | vec_addr_lo(EDU_VEC_RAISE));
    g_assert_cmphex(g_array_index(sent, Msg, 0).data, ==, vec_data(EDU_VEC_RAISE));
    g_assert_cmphex(rl(PBA), ==, 0);
    qdev_free(DEVICE(b));
}

/* A stream whose vector was pending and is unmasked in the stream (a state
 * no guest can leave behind, but a stream may hold): delivered at load. */
static void test_pending_unmasked_in_stream_is_sent(void)
{
    g_autoptr(GByteArray) s = NULL;
    PCIDevice *a, *b;
    guint8 *pba;

    setup();
    a = new_edu(6, NVEC);
    program(a);
    s = save(a);
    qdev_free(DEVICE(a));
    /* clear vector 2's mask bit in the stream: the table is 16 * NVEC
     * bytes right after "table\0" and its size */
    guint8 *t = memmem(s->data, s->len, "table", 6);
    g_assert_nonnull(t);
    t += 6 + 4;
    t[EDU_VEC_RAISE * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_CTRL] = 0;
    /* and set reserved vector-control bits on vector 0 and PBA bits past
     * the last vector: a load keeps neither */
    t[PCI_MSIX_ENTRY_CTRL + 1] = 0xff;
    pba = memmem(s->data, s->len, "pba", 4);
    g_assert_nonnull(pba);
    pba[4 + 4] = 0xe0 | (1u << EDU_VEC_RAISE);

    b = new_edu(7, NVEC);
    load_ok(b, s);
    g_assert_cmpuint(sent->len, ==, 1);
    g_assert_cmphex(g_array_index(sent, Msg, 0).data, ==, vec_data(EDU_VEC_RAISE));
    g_assert_cmphex(rl(PBA), ==, 0);
    g_assert_cmphex(rl(BAR1 + PCI_MSIX_ENTRY_CTRL), ==, 0);
    qdev_free(DEVICE(b));
}

static void test_refused(void)
{
    g_autoptr(GByteArray) s = NULL;
    g_autofree char *e1 = NULL, *e2 = NULL;
    PCIDevice *a, *b;

    setup();
    a = new_edu(6, NVEC);
    program(a);
    s = save(a);
    qdev_free(DEVICE(a));

    b = new_edu(7, NVEC - 1);                       /* another vector count */
    e1 = load(b, s);
    g_assert_nonnull(e1);
    g_assert_nonnull(strstr(e1, "'table'"));
    qdev_free(DEVICE(b));

    b = new_edu(7, 0);                              /* no MSI-X at all */
    e2 = load(b, s);
    g_assert_nonnull(e2);
    g_assert_nonnull(strstr(e2, "'table'"));
    qdev_free(DEVICE(b));
}

/* A stream without the subsection (written before it existed) loads: the
 * configuration space comes back, the table keeps its reset state. */
static void test_older_stream(void)
{
    g_autoptr(GByteArray) s = NULL;
    PCIDevice *a, *b;
    static const char mark[] = "\001PCIDevice/msix";
    /* mark, NUL, version, "table" NUL size bytes, "pba" NUL size bytes */
    size_t sub_len = sizeof(mark) + 4 + 6 + 4 + NVEC * PCI_MSIX_ENTRY_SIZE + 4 + 4 + 8;
    guint8 *at;

    setup();
    a = new_edu(6, NVEC);
    program(a);
    s = save(a);
    qdev_free(DEVICE(a));
    at = memmem(s->data, s->len, mark, sizeof(mark));
    g_assert_nonnull(at);
    g_assert_true(memcmp(at + sizeof(mark) + 4 + 6 + 4 + NVEC * PCI_MSIX_ENTRY_SIZE, "pba", 4) == 0);
    g_byte_array_remove_range(s, (guint)(at - s->data), (guint)sub_len);

    b = new_edu(7, NVEC);
    load_ok(b, s);
    g_assert_true(msix_enabled(b));                 /* from the config space */
    g_assert_cmphex(rl(BAR1 + PCI_MSIX_ENTRY_ADDR_LO), ==, 0);
    for (unsigned v = 0; v < NVEC; v++) {
        g_assert_true(msix_is_masked(b, v));
        g_assert_false(msix_is_pending(b, v));
    }
    g_assert_cmpuint(sent->len, ==, 0);
    qdev_free(DEVICE(b));
}

/* A device without MSI-X saves no subsection (streams stay as they were). */
static void test_no_msix_no_subsection(void)
{
    g_autoptr(GByteArray) s = NULL;
    PCIDevice *a;

    setup();
    a = new_edu(6, 0);
    s = save(a);
    g_assert_null(memmem(s->data, s->len, "PCIDevice/msix", 14));
    load_ok(a, s);
    qdev_free(DEVICE(a));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    g_test_add_func("/msix-vmstate/round-trip", test_round_trip);
    g_test_add_func("/msix-vmstate/pending-unmasked-in-stream", test_pending_unmasked_in_stream_is_sent);
    g_test_add_func("/msix-vmstate/refused", test_refused);
    g_test_add_func("/msix-vmstate/older-stream", test_older_stream);
    g_test_add_func("/msix-vmstate/no-msix", test_no_msix_no_subsection);
    return g_test_run();
}

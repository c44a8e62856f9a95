/*
 * PCI test device ("pci-testdev", 1b36:0005), as QEMU's, used by guest test
 * suites (kvm-unit-tests) to check low-level I/O and ioeventfds.
 *
 * BAR0 is 4 KiB of memory space, BAR1 256 bytes of I/O space.  Each starts
 * with this little-endian header:
 *
 *   0x00  u8   test    write: select test N (and restart its counter)
 *   0x01  u8   width   access width the test expects (1, 2 or 4); any
 *                      other value: no test N on this BAR
 *   0x04  u32  offset  where in the BAR to write
 *   0x08  u32  data    what to write
 *   0x0c  u32  count   writes seen since the test was selected
 *   0x10  char name[]  "mmio-no-eventfd", "portio-datamatch-eventfd", ...
 *
 * Tests on each BAR: 0 "no-eventfd" (writes of `data` reach the device
 * model, which counts them), 1 "wildcard-eventfd" (an ioeventfd takes every
 * write of the width at the offset) and 2 "datamatch-eventfd" (it takes
 * only writes of `data`).
 * count includes what the ioeventfd caught, so a guest can check that
 * accelerator and device model agree.
 */
#include <string.h>
#include <glib.h>
#include "hw/pci/pci.h"

#define TESTDEV_MEM_SIZE   4096
#define TESTDEV_IO_SIZE    256
#define TESTDEV_NTESTS     3
#define TESTDEV_WIDTH      1
#define TESTDEV_DATAMATCH  0xfa
#define TESTDEV_NOMATCH    0xce
#define TESTDEV_HDR_COUNT  0x0c
#define TESTDEV_HDR_NAME   0x10

static const char *const test_names[TESTDEV_NTESTS] = {
    "no-eventfd", "wildcard-eventfd", "datamatch-eventfd"
};

typedef struct TestBar {
    struct PCITestDevState *dev;
    const char *type;           /* "mmio" / "portio" */
    MemoryRegion mr;
    uint32_t size;
    int test;                   /* selected test, -1 none */
    uint32_t count;
    bool eventfd_on;
    EventNotifier notifier;
    uint8_t hdr[64];
} TestBar;

typedef struct PCITestDevState {
    PCIDevice parent;
    TestBar bar[2];
    /* Migration: the selected test per BAR (-1 none), the byte the guest
     * wrote to select it, and the count; the rest follows from them. */
    struct {
        int32_t test[2];
        uint8_t selected[2];
        uint32_t count[2];
    } mig;
} PCITestDevState;

static uint32_t test_offset(TestBar *b, int test)
{
    return b->size / 2 + 4 * (uint32_t)test;
}

static uint32_t test_data(int test)
{
    return test == 2 ? TESTDEV_DATAMATCH : TESTDEV_NOMATCH;
}

static void testbar_stop(TestBar *b)
{
    if (b->eventfd_on) {
        memory_region_del_eventfd(&b->mr, test_offset(b, b->test), TESTDEV_WIDTH, b->test == 2,
                                  test_data(b->test), &b->notifier);
        event_notifier_test_and_clear(&b->notifier);
        b->eventfd_on = false;
    }
    b->test = -1;
    b->count = 0;
}

static void testbar_start(TestBar *b, int test)
{
    testbar_stop(b);
    memset(b->hdr, 0, sizeof(b->hdr));
    b->hdr[0] = (uint8_t)test;
    if (test < 0 || test >= TESTDEV_NTESTS) {
        return;                 /* width 0: not supported */
    }
    b->test = test;
    b->hdr[1] = TESTDEV_WIDTH;
    pci_set_long(b->hdr + 4, test_offset(b, test));
    pci_set_long(b->hdr + 8, test_data(test));
    g_snprintf((char *)b->hdr + TESTDEV_HDR_NAME, sizeof(b->hdr) - TESTDEV_HDR_NAME, "%s-%s",
               b->type, test_names[test]);
    if (test > 0) {
        memory_region_add_eventfd(&b->mr, test_offset(b, test), TESTDEV_WIDTH, test == 2,
                                  test_data(test), &b->notifier);
        b->eventfd_on = true;
    }
}

static uint64_t testbar_read(void *opaque, uint64_t addr, unsigned size)
{
    TestBar *b = opaque;
    uint64_t v = 0;

    if (b->eventfd_on) {
        b->count += (uint32_t)event_notifier_test_and_clear(&b->notifier);
    }
    pci_set_long(b->hdr + TESTDEV_HDR_COUNT, b->count);
    for (unsigned i = 0; i < size; i++) {
        if (addr + i < sizeof(b->hdr)) {
            v |= (uint64_t)b->hdr[addr + i] << (8 * i);
        }
    }
    return v;
}

static void testbar_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    TestBar *b = opaque;

    if (addr == 0) {
        testbar_start(b, (int)(val & 0xff));
        return;
    }
    /* Test 0 counts writes of its data in the device model; the others
     * count through their eventfd (a write that reaches us did not match). */
    if (b->test == 0 && addr == test_offset(b, 0) && size == TESTDEV_WIDTH &&
        (val & 0xff) == test_data(0)) {
        b->count++;
    }
}

static const MemoryRegionOps testbar_ops = {
    .read = testbar_read,
    .write = testbar_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

static bool testbar_init(PCITestDevState *s, int n, const char *type, uint32_t size, Error **errp)
{
    TestBar *b = &s->bar[n];

    b->dev = s;
    b->type = type;
    b->size = size;
    b->test = -1;
    if (!event_notifier_init(&b->notifier, errp)) {
        return false;
    }
    memory_region_init_io(&b->mr, &testbar_ops, b, n ? "pci-testdev-portio" : "pci-testdev-mmio",
                          size);
    return true;
}

static void pci_testdev_realize(PCIDevice *d, Error **errp)
{
    PCITestDevState *s = (PCITestDevState *)d;

    if (!testbar_init(s, 0, "mmio", TESTDEV_MEM_SIZE, errp)) {
        return;
    }
    if (!testbar_init(s, 1, "portio", TESTDEV_IO_SIZE, errp)) {
        memory_region_destroy(&s->bar[0].mr);
        event_notifier_cleanup(&s->bar[0].notifier);
        return;
    }
    pci_register_bar(d, 0, 0, &s->bar[0].mr);
    pci_register_bar(d, 1, PCI_BASE_ADDRESS_SPACE_IO, &s->bar[1].mr);
}

static void pci_testdev_reset(PCIDevice *d)
{
    PCITestDevState *s = (PCITestDevState *)d;

    for (int n = 0; n < 2; n++) {
        testbar_stop(&s->bar[n]);
        memset(s->bar[n].hdr, 0, sizeof(s->bar[n].hdr));
    }
}

static void pci_testdev_exit(PCIDevice *d)
{
    PCITestDevState *s = (PCITestDevState *)d;

    for (int n = 0; n < 2; n++) {
        testbar_stop(&s->bar[n]);
        memory_region_destroy(&s->bar[n].mr);
        event_notifier_cleanup(&s->bar[n].notifier);
    }
}

static int pci_testdev_pre_save(void *opaque)
{
    PCITestDevState *s = opaque;

    for (int n = 0; n < 2; n++) {
        TestBar *b = &s->bar[n];
        if (b->eventfd_on) {
            b->count += (uint32_t)event_notifier_test_and_clear(&b->notifier);
        }
        s->mig.test[n] = b->test;
        s->mig.selected[n] = b->hdr[0];
        s->mig.count[n] = b->count;
    }
    return 0;
}

static int pci_testdev_post_load(void *opaque, int version_id)
{
    PCITestDevState *s = opaque;

    for (int n = 0; n < 2; n++) {
        TestBar *b = &s->bar[n];
        int32_t test = s->mig.test[n];

        if (test >= 0 && test < TESTDEV_NTESTS) {
            testbar_start(b, test);     /* header and ioeventfd as selected */
        } else {
            testbar_stop(b);            /* none (any other value: corrupt) */
            memset(b->hdr, 0, sizeof(b->hdr));
            b->hdr[0] = s->mig.selected[n];
        }
        b->count = s->mig.count[n];
    }
    return 0;
}

static const VMStateDescription vmstate_pci_testdev = {
    .name = "pci-testdev",
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_save = pci_testdev_pre_save,
    .post_load = pci_testdev_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent, PCITestDevState),
        VMSTATE_INT32(mig.test[0], PCITestDevState),
        VMSTATE_INT32(mig.test[1], PCITestDevState),
        VMSTATE_UINT8_ARRAY(mig.selected, PCITestDevState, 2),
        VMSTATE_UINT32_ARRAY(mig.count, PCITestDevState, 2),
        VMSTATE_END_OF_LIST(),
    },
};

static const Property pci_testdev_props[] = {
    DEFINE_PCI_DEVICE_PROPERTIES(),
    DEFINE_PROP_END_OF_LIST(),
};

static const PCIDeviceClass pci_testdev_class = {
    PCI_DEVICE_CLASS_INIT("pci-testdev", "PCI Test Device", PCITestDevState, pci_testdev_props,
                          .vmsd = &vmstate_pci_testdev),
    .vendor_id = 0x1b36,
    .device_id = 0x0005,
    .revision = 0x00,
    .class_id = PCI_CLASS_OTHERS,
    .realize = pci_testdev_realize,
    .reset = pci_testdev_reset,
    .exit = pci_testdev_exit,
};

PCI_DEVICE_CLASS_REGISTER(pci_testdev_class)

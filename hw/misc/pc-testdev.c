/*
 * x86 test device ("pc-testdev"), compatible with QEMU's as used by
 * kvm-unit-tests.
 *
 * I/O ports:
 *   0x00e0-0x00e3  a 32-bit scratch register; accesses of 1, 2 or 4 bytes
 *                  reach the bytes they cover
 *   0x00e4-0x00e7  flush page: a 32-bit write of a guest-physical address
 *                  makes the host mapping of that page fault again once
 *                  (mprotect none, then read/write) to exercise MMU resync
 *   0x00e8-0x00eb  the same scratch register, implemented byte by byte
 *   0x2000-0x2017  IRQ line n is set to (value != 0) by a byte write to
 *                  0x2000 + n (ISA IRQs 0-15, then GSIs 16-23)
 * Memory:
 *   0xff000000-0xff00ffff  64 KiB of scratch memory behind MMIO callbacks
 */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <glib.h>

#include "hw/qdev.h"
#include "hw/isa/isa.h"
#include "hw/machine.h"
#include "hw/memory.h"
#include "hw/irq.h"
#include "hw/vmstate.h"

#define TESTDEV_IOPORT          0xe0
#define TESTDEV_FLUSH_PAGE      0xe4
#define TESTDEV_IOPORT_BYTE     0xe8
#define TESTDEV_IRQ_LINE        0x2000
#define TESTDEV_IRQ_LINES       24
#define TESTDEV_IOMEM_BASE      0xff000000ULL
#define TESTDEV_IOMEM_LEN       0x10000

typedef struct PCTestdevState {
    DeviceState parent;

    MemoryRegion ioport;
    MemoryRegion ioport_byte;
    MemoryRegion flush;
    MemoryRegion irq;
    MemoryRegion iomem;
    uint32_t ioport_data;
    uint8_t iomem_buf[TESTDEV_IOMEM_LEN];
} PCTestdevState;

static qemu_irq testdev_irq_line(unsigned n)
{
    if (n < 16) {
        return isa_get_irq(n);
    }
    if (current_machine && n < G_N_ELEMENTS(current_machine->gsi)) {
        return current_machine->gsi[n];
    }
    return NULL;
}

static uint64_t testdev_irq_read(void *opaque, uint64_t addr, unsigned size)
{
    return 0;
}

static void testdev_irq_write(void *opaque, uint64_t addr, uint64_t data, unsigned size)
{
    qemu_set_irq(testdev_irq_line(addr), data != 0);
}

static const MemoryRegionOps testdev_irq_ops = {
    .read = testdev_irq_read,
    .write = testdev_irq_write,
    .valid = { .min_access_size = 1, .max_access_size = 1 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

static uint32_t testdev_ioport_mask(uint64_t addr, unsigned size, int *shift)
{
    *shift = (addr & 3) * 8;
    return (uint32_t)(size >= 4 ? 0xffffffffu : ((1u << (size * 8)) - 1)) << *shift;
}

static uint64_t testdev_ioport_read(void *opaque, uint64_t addr, unsigned size)
{
    PCTestdevState *s = opaque;
    int shift;
    uint32_t mask = testdev_ioport_mask(addr, size, &shift);

    return (s->ioport_data & mask) >> shift;
}

static void testdev_ioport_write(void *opaque, uint64_t addr, uint64_t data, unsigned size)
{
    PCTestdevState *s = opaque;
    int shift;
    uint32_t mask = testdev_ioport_mask(addr, size, &shift);

    s->ioport_data = (s->ioport_data & ~mask) | (((uint32_t)data << shift) & mask);
}

static const MemoryRegionOps testdev_ioport_ops = {
    .read = testdev_ioport_read,
    .write = testdev_ioport_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 4 },
};

static const MemoryRegionOps testdev_ioport_byte_ops = {
    .read = testdev_ioport_read,
    .write = testdev_ioport_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 1, .max_access_size = 1 },
};

static uint64_t testdev_flush_read(void *opaque, uint64_t addr, unsigned size)
{
    return 0;
}

static void testdev_flush_write(void *opaque, uint64_t addr, uint64_t data, unsigned size)
{
    long host_page = sysconf(_SC_PAGESIZE);
    uint8_t *p = address_space_get_ram_ptr(&address_space_memory, data & ~0xfffULL,
                                           4096, true);

    /* Only a page the host maps on its own page boundary can be flushed. */
    if (!p || host_page <= 0 || host_page > 4096 || ((uintptr_t)p % host_page)) {
        return;
    }
    mprotect(p, 4096, PROT_NONE);
    mprotect(p, 4096, PROT_READ | PROT_WRITE);
}

static const MemoryRegionOps testdev_flush_ops = {
    .read = testdev_flush_read,
    .write = testdev_flush_write,
    .valid = { .min_access_size = 4, .max_access_size = 4 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

static uint64_t testdev_iomem_read(void *opaque, uint64_t addr, unsigned size)
{
    PCTestdevState *s = opaque;
    uint64_t ret = 0;

    if (addr < TESTDEV_IOMEM_LEN) {
        memcpy(&ret, &s->iomem_buf[addr], MIN(size, TESTDEV_IOMEM_LEN - addr));
    }
    return ret;
}

static void testdev_iomem_write(void *opaque, uint64_t addr, uint64_t data, unsigned size)
{
    PCTestdevState *s = opaque;

    if (addr < TESTDEV_IOMEM_LEN) {
        memcpy(&s->iomem_buf[addr], &data, MIN(size, TESTDEV_IOMEM_LEN - addr));
    }
}

static const MemoryRegionOps testdev_iomem_ops = {
    .read = testdev_iomem_read,
    .write = testdev_iomem_write,
    .valid = { .min_access_size = 1, .max_access_size = 8, .unaligned = true },
    .impl = { .min_access_size = 1, .max_access_size = 8 },
};

static void testdev_realize(DeviceState *dev, Error **errp)
{
    PCTestdevState *s = (PCTestdevState *)dev;

    memory_region_init_io(&s->ioport, &testdev_ioport_ops, s, "pc-testdev-ioport", 4);
    memory_region_init_io(&s->ioport_byte, &testdev_ioport_byte_ops, s,
                          "pc-testdev-ioport-byte", 4);
    memory_region_init_io(&s->flush, &testdev_flush_ops, s, "pc-testdev-flush-page", 4);
    memory_region_init_io(&s->irq, &testdev_irq_ops, s, "pc-testdev-irq-line",
                          TESTDEV_IRQ_LINES);
    memory_region_init_io(&s->iomem, &testdev_iomem_ops, s, "pc-testdev-iomem",
                          TESTDEV_IOMEM_LEN);
    isa_register_ioport(dev, &s->ioport, TESTDEV_IOPORT);
    isa_register_ioport(dev, &s->flush, TESTDEV_FLUSH_PAGE);
    isa_register_ioport(dev, &s->ioport_byte, TESTDEV_IOPORT_BYTE);
    isa_register_ioport(dev, &s->irq, TESTDEV_IRQ_LINE);
    memory_region_add_subregion(get_system_memory(), TESTDEV_IOMEM_BASE, &s->iomem);
}

static void testdev_unrealize(DeviceState *dev)
{
    PCTestdevState *s = (PCTestdevState *)dev;

    memory_region_destroy(&s->ioport);
    memory_region_destroy(&s->ioport_byte);
    memory_region_destroy(&s->flush);
    memory_region_destroy(&s->irq);
    memory_region_destroy(&s->iomem);
}

static const VMStateField testdev_fields[] = {
    VMSTATE_UINT32(ioport_data, PCTestdevState),
    VMSTATE_BUFFER(iomem_buf, PCTestdevState),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_testdev = {
    .name = "pc-testdev",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = testdev_fields,
};

static const DeviceClass testdev_class = {
    .name = "pc-testdev",
    .desc = "x86 test device for kvm-unit-tests",
    .bus_type = "ISA",
    .category = DEVICE_CATEGORY_MISC,
    .user_creatable = true,
    .instance_size = sizeof(PCTestdevState),
    .vmsd = &vmstate_testdev,
    .realize = testdev_realize,
    .unrealize = testdev_unrealize,
};

DEVICE_CLASS_REGISTER(testdev_class)

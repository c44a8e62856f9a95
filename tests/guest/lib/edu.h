/* QEMU's "edu" PCI device (1234:11e8, -device edu) for the guest tests. */
#ifndef GUEST_EDU_H
#define GUEST_EDU_H

#include "lib.h"

#define EDU_CONF1(dev, reg) (0x80000000u | ((dev) << 11) | ((reg) & 0xfc))

/* Finds edu on bus 0, turns on memory decoding and bus mastering (INTx
 * off) and checks its identification register; fails the test without
 * one.  Returns its slot; *bar0 is its register BAR. */
static inline int edu_find(uintptr_t *bar0)
{
    int dev = -1;
    uint32_t bar, cmd;

    for (int d = 1; d < 32; d++) {
        outl(0xcf8, EDU_CONF1(d, 0));
        if (inl(0xcfc) == 0x11e81234u) {
            dev = d;
            break;
        }
    }
    CHECK(dev > 0, "no edu device on bus 0 (run with -device edu)");
    outl(0xcf8, EDU_CONF1(dev, 0x10));
    bar = inl(0xcfc);
    *bar0 = bar & ~0xfu;
    CHECK(*bar0 && *bar0 != 0xfffffff0u, "edu BAR0 unassigned (0x%08x)", bar);
    outl(0xcf8, EDU_CONF1(dev, 0x04));
    cmd = inw(0xcfc);
    outl(0xcf8, EDU_CONF1(dev, 0x04));
    outw(0xcfc, (uint16_t)(cmd | 0x0002 | 0x0004 | 0x0400));  /* memory, master, no INTx */
    CHECK(mmio_read32(*bar0) == 0x010000edu, "edu id 0x%08x", mmio_read32(*bar0));
    return dev;
}

#endif

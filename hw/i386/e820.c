/*
 * The BIOS e820 memory map (ACPI "Address Range Descriptor"s) as the
 * loaders and fw_cfg ("etc/e820") hand it to the guest.
 */
#include "hw/i386/boot.h"

#define E820_EBDA_START     0x9fc00     /* 639 KiB: EBDA, then VGA and BIOS */
#define E820_HIGH_START     0x100000
#define E820_4G             0x100000000ULL

bool e820_add(E820Table *t, uint64_t addr, uint64_t size, uint32_t type)
{
    if (t->nr >= E820_MAX_ENTRIES || size == 0 || addr + size < addr) {
        return false;
    }
    t->entry[t->nr].addr = addr;
    t->entry[t->nr].size = size;
    t->entry[t->nr].type = type;
    t->nr++;
    return true;
}

void pc_build_e820(E820Table *t, uint64_t below_4g, uint64_t above_4g)
{
    t->nr = 0;
    /* Conventional memory up to the EBDA. */
    e820_add(t, 0, below_4g < E820_EBDA_START ? below_4g : E820_EBDA_START, E820_RAM);
    /* EBDA, VGA window, option ROMs, BIOS (and our ACPI/MP tables there). */
    e820_add(t, E820_EBDA_START, E820_HIGH_START - E820_EBDA_START, E820_RESERVED);
    if (below_4g > E820_HIGH_START) {
        e820_add(t, E820_HIGH_START, below_4g - E820_HIGH_START, E820_RAM);
    }
    if (above_4g) {
        e820_add(t, E820_4G, above_4g, E820_RAM);
    }
}

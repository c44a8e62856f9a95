/*
 * Shared by the boot unit tests: guest RAM in the system address space, a
 * BootParams for it, and little-endian helpers.  Header-only (static).
 */
#ifndef KVMPC_TESTS_BOOT_TEST_UTIL_H
#define KVMPC_TESTS_BOOT_TEST_UTIL_H

#include <glib.h>
#include "hw/memory.h"
#include "hw/i386/boot.h"

static MemoryRegion ram;
static bool ram_mapped;
static E820Table e820;

static void ram_setup(uint64_t size)
{
    static bool inited;
    Error *err = NULL;

    if (!inited) {
        memory_init_system();
        inited = true;
    }
    if (ram_mapped) {
        memory_region_del_subregion(get_system_memory(), &ram);
        memory_region_destroy(&ram);
    }
    g_assert_true(memory_region_init_ram(&ram, "test.ram", size, &err));
    memory_region_add_subregion(get_system_memory(), 0, &ram);
    ram_mapped = true;
}

static G_GNUC_UNUSED BootParams make_bp(uint64_t ram_size, const char *cmdline, const char *initrd)
{
    BootParams bp = {
        .as = &address_space_memory,
        .below_4g = ram_size,
        .e820 = &e820,
        .cmdline = cmdline,
        .initrd_filenames = initrd,
        .ncpus = 1,
    };
    ram_setup(ram_size);
    pc_build_e820(&e820, ram_size, 0);
    return bp;
}

static void guest_read(uint64_t addr, void *buf, size_t len)
{
    g_assert_cmpint(address_space_read(&address_space_memory, addr, buf, len), ==, MEMTX_OK);
}

static G_GNUC_UNUSED uint32_t guest_ld32(uint64_t addr)
{
    uint8_t b[4];
    guest_read(addr, b, 4);
    return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
}

static G_GNUC_UNUSED uint64_t guest_ld64(uint64_t addr)
{
    return guest_ld32(addr) | (uint64_t)guest_ld32(addr + 4) << 32;
}

static inline void put16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static inline void put32(uint8_t *p, uint32_t v) { put16(p, v); put16(p + 2, v >> 16); }
static inline void put64(uint8_t *p, uint64_t v) { put32(p, v); put32(p + 4, v >> 32); }

#endif

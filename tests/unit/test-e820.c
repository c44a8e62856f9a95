/* The PC e820 map (hw/i386/e820.c). */
#include <glib.h>
#include "hw/i386/boot.h"

#define MiB (1024 * 1024ULL)
#define GiB (1024 * MiB)

static void check(const E820Table *t, unsigned i, uint64_t addr, uint64_t size, uint32_t type)
{
    g_assert_cmpuint(i, <, t->nr);
    g_assert_cmpuint(t->entry[i].addr, ==, addr);
    g_assert_cmpuint(t->entry[i].size, ==, size);
    g_assert_cmpuint(t->entry[i].type, ==, type);
}

static void test_e820_128m(void)
{
    E820Table t = { .nr = 7 };

    pc_build_e820(&t, 128 * MiB, 0);
    g_assert_cmpuint(t.nr, ==, 3);
    check(&t, 0, 0, 0x9fc00, E820_RAM);
    check(&t, 1, 0x9fc00, 0x100000 - 0x9fc00, E820_RESERVED);
    check(&t, 2, 0x100000, 127 * MiB, E820_RAM);
}

static void test_e820_3g(void)
{
    E820Table t;

    pc_build_e820(&t, 3 * GiB, 0);
    g_assert_cmpuint(t.nr, ==, 3);
    check(&t, 2, 0x100000, 3 * GiB - MiB, E820_RAM);
}

static void test_e820_5g(void)
{
    E820Table t;

    pc_build_e820(&t, 3 * GiB, 2 * GiB);
    g_assert_cmpuint(t.nr, ==, 4);
    check(&t, 0, 0, 0x9fc00, E820_RAM);
    check(&t, 2, 0x100000, 3 * GiB - MiB, E820_RAM);
    check(&t, 3, 0x100000000ULL, 2 * GiB, E820_RAM);
    /* No entry covers the PCI hole below 4 GiB. */
    for (unsigned i = 0; i < t.nr; i++) {
        uint64_t end = t.entry[i].addr + t.entry[i].size;
        g_assert_true(end <= 3 * GiB || t.entry[i].addr >= 4 * GiB);
    }
}

static void test_e820_tiny(void)
{
    E820Table t;

    pc_build_e820(&t, 512 * 1024, 0);
    g_assert_cmpuint(t.nr, ==, 2);
    check(&t, 0, 0, 512 * 1024, E820_RAM);
    check(&t, 1, 0x9fc00, 0x60400, E820_RESERVED);
}

static void test_e820_add(void)
{
    E820Table *t = g_new0(E820Table, 1);

    g_assert_false(e820_add(t, 0x1000, 0, E820_RAM));
    g_assert_false(e820_add(t, UINT64_MAX - 10, 100, E820_RAM));
    for (unsigned i = 0; i < E820_MAX_ENTRIES; i++) {
        g_assert_true(e820_add(t, i * 0x1000ULL, 0x1000, E820_RAM));
    }
    g_assert_cmpuint(t->nr, ==, E820_MAX_ENTRIES);
    g_assert_false(e820_add(t, 0x1000000, 0x1000, E820_RAM));
    g_assert_cmpuint(t->nr, ==, E820_MAX_ENTRIES);
    g_assert_cmpuint(sizeof(E820Entry), ==, 20);
    g_free(t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/e820/128m", test_e820_128m);
    g_test_add_func("/e820/3g", test_e820_3g);
    g_test_add_func("/e820/5g", test_e820_5g);
    g_test_add_func("/e820/tiny", test_e820_tiny);
    g_test_add_func("/e820/add", test_e820_add);
    return g_test_run();
}

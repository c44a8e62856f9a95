/* The VGA core (hw/display/vga.c) as the accelerator sees its memory. */
#include <string.h>
#include <glib.h>
#include "hw/memory.h"
#include "hw/display/vga.h"

typedef struct CoLog {
    MemoryListener l;
    GString *log;
} CoLog;

static void co_add(MemoryListener *l, uint64_t addr, uint64_t size)
{
    g_string_append_printf(((CoLog *)l)->log, "+co %" G_GINT64_MODIFIER "x/%" G_GINT64_MODIFIER "x;",
                           addr, size);
}

static void co_del(MemoryListener *l, uint64_t addr, uint64_t size)
{
    g_string_append_printf(((CoLog *)l)->log, "-co %" G_GINT64_MODIFIER "x/%" G_GINT64_MODIFIER "x;",
                           addr, size);
}

/* The legacy window 0xa0000-0xbffff is a coalesced window (an accelerator
 * may queue the guest's writes there, as QEMU's VGA allows), the register
 * ports are not (their accesses must happen at once), and a write through
 * the window still lands in VRAM when nothing defers it. */
static void test_lowmem_coalesced(void)
{
    static VGACommonState s;
    MemoryRegion mem, io;
    AddressSpace as_mem, as_io;
    CoLog lm = { .l = { .coalesced_io_add = co_add, .coalesced_io_del = co_del },
                 .log = g_string_new(NULL) };
    CoLog li = { .l = { .coalesced_io_add = co_add, .coalesced_io_del = co_del },
                 .log = g_string_new(NULL) };
    GError *err = NULL;

    memory_region_init(&mem, "mem", 1ULL << 32);
    memory_region_init(&io, "io", 0x10000);
    address_space_init(&as_mem, &mem, "mem");
    address_space_init(&as_io, &io, "io");
    memory_listener_register(&lm.l, &as_mem);
    memory_listener_register(&li.l, &as_io);
    s.vram_size_mb = 16;
    g_assert_true(vga_common_init(&s, "VGA", &err));
    vga_common_reset(&s);
    vga_init_legacy(&s, &mem, &io);
    g_assert_cmpstr(lm.log->str, ==, "+co a0000/20000;");
    g_assert_cmpstr(li.log->str, ==, "");

    /* Chain-4 mode through the window at 0xa0000 (64 KiB map): a byte
     * written is in VRAM at once and reads back. */
    vga_ioport_write(&s, 0x3c4, 2);     /* SR2: all planes */
    vga_ioport_write(&s, 0x3c5, 0x0f);
    vga_ioport_write(&s, 0x3c4, 4);     /* SR4: chain 4, odd/even off */
    vga_ioport_write(&s, 0x3c5, 0x0e);
    vga_ioport_write(&s, 0x3ce, 6);     /* GR6: graphics, A0000-AFFFF */
    vga_ioport_write(&s, 0x3cf, 0x05);
    g_assert_cmpint(address_space_st(&as_mem, 0xa0011, 0x5a, 1), ==, MEMTX_OK);
    g_assert_cmphex(s.vram_ptr[0x11], ==, 0x5a);
    uint64_t v = 0;
    g_assert_cmpint(address_space_ld(&as_mem, 0xa0011, &v, 1), ==, MEMTX_OK);
    g_assert_cmphex(v, ==, 0x5a);

    vga_exit_legacy(&s, &mem, &io);
    g_assert_cmpstr(lm.log->str, ==, "+co a0000/20000;-co a0000/20000;");
    /* the address spaces live on this stack: out of the global lists */
    memory_listener_unregister(&lm.l);
    memory_listener_unregister(&li.l);
    address_space_destroy(&as_mem);
    address_space_destroy(&as_io);
    memory_region_destroy(&mem);
    memory_region_destroy(&io);
    g_string_free(lm.log, TRUE);
    g_string_free(li.log, TRUE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vga/lowmem-coalesced", test_lowmem_coalesced);
    return g_test_run();
}

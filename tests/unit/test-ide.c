/*
 * PIIX3 IDE vmstate (docs/ide.md): the controller's state saved in the
 * middle of a PIO read, of an ATAPI read and of a DMA command waiting for
 * the bus master, the device reset (which loses it), the state loaded, and
 * the transfer completed: the data must be the image's.  Also a stream
 * with out-of-range buffer positions, which the loader clamps.  And the
 * zero-copy DMA path's dirty marking.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <glib.h>

#include "hw/qdev.h"
#include "hw/pci/pci.h"
#include "hw/memory.h"
#include "hw/vmstate.h"
#include "block/blockdev.h"
#include "system/main-loop.h"
#include "isa-test-util.h"
#include "pio-test-util.h"

#define P0 0x1f0
#define P1 0x170
#define BM 0xc000
#define DISK_SECTORS 256
#define CD_SECTORS 16

static char disk_path[64], cd_path[64];
static uint8_t disk_data[DISK_SECTORS * 512], cd_data[CD_SECTORS * 2048];
static PCIBus *pci;
static DeviceState *ide;
static MemoryRegion ram;

static uint8_t wait_ready(uint16_t base)
{
    for (int i = 0; i < 100000; i++) {
        uint8_t st = inb(base + 7);
        if (!(st & 0x80)) {
            return st;
        }
        main_loop_iterate(true);
    }
    g_error("drive stays busy");
}

/* Save, reset, load: the device forgets, then remembers. */
static void save_reset_load(void)
{
    g_autoptr(GByteArray) buf = g_byte_array_new();
    Error *err = NULL;
    size_t pos = 0;

    main_loop_drain();
    g_assert_true(vmstate_save(ide->klass->vmsd, ide, buf, &err));
    g_assert_no_error(err);
    qdev_reset(ide);
    /* other work in between overwrites the drives' buffers */
    outb(P0 + 6, 0xa0);
    outb(P0 + 7, 0xec);
    outb(P1 + 6, 0xa0);
    outb(P1 + 7, 0xa1);
    for (int i = 0; i < 256; i++) {
        inw(P0);
        inw(P1);
    }
    g_assert_true(vmstate_load(ide->klass->vmsd, ide, buf->data, buf->len, &pos, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(pos, ==, buf->len);
}

static void test_pio_read_across_savevm(void)
{
    uint8_t got[4 * 512];

    outb(P0 + 6, 0xe0);
    outb(P0 + 2, 4);
    outb(P0 + 3, 10);
    outb(P0 + 4, 0);
    outb(P0 + 5, 0);
    outb(P0 + 7, 0x20);
    g_assert_cmphex(wait_ready(P0), ==, 0x58);
    for (int i = 0; i < 100; i++) {
        uint16_t w = inw(P0);
        got[2 * i] = w;
        got[2 * i + 1] = w >> 8;
    }
    {
        /* a reset alone loses the transfer */
        g_autoptr(GByteArray) buf = g_byte_array_new();
        Error *err = NULL;
        size_t pos = 0;
        main_loop_drain();
        g_assert_true(vmstate_save(ide->klass->vmsd, ide, buf, &err));
        qdev_reset(ide);
        g_assert_cmphex(inb(P0 + 7), ==, 0x50);
        g_assert_true(vmstate_load(ide->klass->vmsd, ide, buf->data, buf->len, &pos, &err));
        g_assert_no_error(err);
    }
    g_assert_cmphex(inb(P0 + 7), ==, 0x58);
    for (int i = 100; i < 4 * 256; i++) {
        if (i % 256 == 0) {
            g_assert_cmphex(wait_ready(P0), ==, 0x58);
            if (i == 512) {
                save_reset_load();      /* between two blocks too */
            }
        }
        uint16_t w = inw(P0);
        got[2 * i] = w;
        got[2 * i + 1] = w >> 8;
    }
    g_assert_cmphex(wait_ready(P0), ==, 0x50);
    g_assert_cmpmem(got, sizeof(got), disk_data + 10 * 512, sizeof(got));
}

static void test_atapi_read_across_savevm(void)
{
    static const uint8_t cdb[12] = { 0x28, 0, 0, 0, 0, 2, 0, 0, 3 };
    uint8_t got[3 * 2048];
    size_t n = 0;

    outb(P1 + 6, 0xa0);
    outb(P1 + 1, 0);
    outb(P1 + 4, 0x00);
    outb(P1 + 5, 0x08);                 /* 2048-byte blocks */
    outb(P1 + 7, 0xa0);
    g_assert_cmphex(wait_ready(P1) & 0x08, ==, 0x08);
    for (int i = 0; i < 12; i += 2) {
        outw(P1, cdb[i] | cdb[i + 1] << 8);
    }
    while (n < sizeof(got)) {
        g_assert_cmphex(wait_ready(P1) & 0x08, ==, 0x08);
        g_assert_cmphex(inb(P1 + 2), ==, 2);
        if (n == 2048 + 1024) {
            save_reset_load();          /* in the middle of the second block */
        }
        uint16_t w = inw(P1);
        got[n++] = w;
        got[n++] = w >> 8;
    }
    g_assert_cmphex(wait_ready(P1), ==, 0x50);
    g_assert_cmphex(inb(P1 + 2), ==, 3);
    g_assert_cmpmem(got, sizeof(got), cd_data + 2 * 2048, sizeof(got));
}

static void test_dma_pending_across_savevm(void)
{
    uint8_t prd[8] = { 0x00, 0x00, 0x02, 0x00, 0x00, 0x04, 0x00, 0x80 };  /* 0x20000, 1 KiB, EOT */
    uint8_t got[1024];

    address_space_write(&address_space_memory, 0x10000, prd, sizeof(prd));
    outb(BM + 2, 0x06);                 /* clear the interrupts of the PIO tests */
    outl(BM + 4, 0x10000);
    outb(P0 + 6, 0xe0);
    outb(P0 + 2, 2);
    outb(P0 + 3, 33);
    outb(P0 + 4, 0);
    outb(P0 + 5, 0);
    outb(P0 + 7, 0xc8);                 /* READ DMA: waits for the bus master */
    g_assert_cmphex(inb(P0 + 7), ==, 0x58);
    save_reset_load();
    g_assert_cmphex(inb(P0 + 7), ==, 0x58);
    outb(BM, 0x09);
    for (int i = 0; i < 100000 && !(inb(BM + 2) & 0x04); i++) {
        main_loop_iterate(true);
    }
    g_assert_cmphex(inb(BM + 2) & 0x07, ==, 0x04);
    outb(BM, 0x00);
    outb(BM + 2, 0x04);
    g_assert_cmphex(wait_ready(P0), ==, 0x50);
    address_space_read(&address_space_memory, 0x20000, got, sizeof(got));
    g_assert_cmpmem(got, sizeof(got), disk_data + 33 * 512, sizeof(got));
}

/*
 * Zero-copy DMA (docs/ide.md): a READ DMA lands straight in guest RAM, with
 * no copy through the memory API when the request completes, and still
 * makes the pages it wrote dirty for the code cache of a software CPU (its
 * decoded blocks there must go) and every other client; pages it did not
 * write stay clean.  A WRITE DMA takes its data from guest RAM.
 */
static struct {
    MemoryDirtyNotifier n;
    uint64_t lo, hi;                    /* the span code_write was told of */
    unsigned calls;
} code_writes;

static void note_code_write(MemoryDirtyNotifier *n, MemoryRegion *mr, uint64_t addr,
                            uint64_t len)
{
    if (!code_writes.calls || addr < code_writes.lo) {
        code_writes.lo = addr;
    }
    if (!code_writes.calls || addr + len > code_writes.hi) {
        code_writes.hi = addr + len;
    }
    code_writes.calls++;
}

/* Runs a DMA command with the PRD table at 0x10000; returns how many
 * memory API dispatch steps the main loop took until it completed. */
static uint64_t run_dma(uint8_t cmd, uint32_t lba, uint8_t nsec, bool to_mem)
{
    uint64_t steps = 0;

    outb(BM + 2, 0x06);
    outl(BM + 4, 0x10000);
    outb(P0 + 6, 0xe0);
    outb(P0 + 2, nsec);
    outb(P0 + 3, lba);
    outb(P0 + 4, lba >> 8);
    outb(P0 + 5, lba >> 16);
    outb(P0 + 7, cmd);
    outb(BM, to_mem ? 0x09 : 0x01);
    for (int i = 0; i < 100000 && !(inb(BM + 2) & 0x04); i++) {
        uint64_t before = memory_debug_dispatch_steps();
        main_loop_iterate(true);
        steps += memory_debug_dispatch_steps() - before;
    }
    g_assert_cmphex(inb(BM + 2) & 0x07, ==, 0x04);
    outb(BM, 0x00);
    outb(BM + 2, 0x04);
    g_assert_cmphex(wait_ready(P0), ==, 0x50);
    return steps;
}

static void test_dma_zero_copy_dirty(void)
{
    /* 1 KiB at 0x30200 (crossing no page) and 3 KiB at 0x33c00 (crossing
     * into 0x34000); pages 0x31000, 0x32000 and 0x35000 are not written */
    uint8_t prd[16] = { 0x00, 0x02, 0x03, 0x00, 0x00, 0x04, 0x00, 0x00,
                        0x00, 0x3c, 0x03, 0x00, 0x00, 0x0c, 0x00, 0x80 };
    uint8_t got[4096], pattern[4096];
    int fd;

    address_space_write(&address_space_memory, 0x10000, prd, sizeof(prd));
    memory_global_dirty_log_start(DIRTY_MEMORY_CODE);
    code_writes.n.code_write = note_code_write;
    memory_dirty_notifier_register(&code_writes.n);
    /* what a software CPU does when it decodes code in those pages */
    memory_region_test_and_clear_dirty(&ram, 0x30000, 0x6000, DIRTY_MEMORY_CODE);
    code_writes.calls = 0;

    g_assert_cmpuint(run_dma(0xc8, 50, 8, true), ==, 0);     /* no copy at completion */
    address_space_read(&address_space_memory, 0x30200, got, 1024);
    address_space_read(&address_space_memory, 0x33c00, got + 1024, 3072);
    g_assert_cmpmem(got, sizeof(got), disk_data + 50 * 512, 4096);
    g_assert_cmpuint(code_writes.calls, >, 0);
    g_assert_cmphex(code_writes.lo, <=, 0x30200);
    g_assert_cmphex(code_writes.hi, >=, 0x34800);
    for (uint64_t page = 0x30000; page < 0x36000; page += 0x1000) {
        bool written = page == 0x30000 || page == 0x33000 || page == 0x34000;
        g_assert_cmpint(memory_region_get_dirty(&ram, page, 1, DIRTY_MEMORY_CODE), ==,
                        written);
    }

    /* WRITE DMA from the same buffers */
    for (size_t i = 0; i < sizeof(pattern); i++) {
        pattern[i] = i * 7 + 3;
    }
    address_space_write(&address_space_memory, 0x30200, pattern, 1024);
    address_space_write(&address_space_memory, 0x33c00, pattern + 1024, 3072);
    g_assert_cmpuint(run_dma(0xca, 60, 8, false), ==, 0);
    fd = open(disk_path, O_RDONLY);
    g_assert_cmpint(pread(fd, got, sizeof(got), 60 * 512), ==, sizeof(got));
    close(fd);
    g_assert_cmpmem(got, sizeof(got), pattern, sizeof(pattern));
    memcpy(disk_data + 60 * 512, pattern, sizeof(pattern));

    memory_dirty_notifier_unregister(&code_writes.n);
    memory_global_dirty_log_stop(DIRTY_MEMORY_CODE);
}

/* A stream whose PIO window points past the buffer is clamped on load. */
static void test_load_clamps(void)
{
    g_autoptr(GByteArray) buf = g_byte_array_new();
    Error *err = NULL;
    size_t pos = 0;
    uint8_t *p;
    const char needle[] = "data_end";

    main_loop_drain();
    g_assert_true(vmstate_save(ide->klass->vmsd, ide, buf, &err));
    /* the field's name, NUL, u32 size, then the value: make it huge */
    p = memmem(buf->data, buf->len, needle, sizeof(needle));
    g_assert_nonnull(p);
    memset(p + sizeof(needle) + 4, 0xff, 4);
    qdev_reset(ide);
    g_assert_true(vmstate_load(ide->klass->vmsd, ide, buf->data, buf->len, &pos, &err));
    g_assert_no_error(err);
    /* reading the data port stays within the buffer (no crash, no overrun) */
    for (int i = 0; i < 70000; i++) {
        inw(P0);
    }
}

static void make_image(char *path, const char *tmpl, uint8_t *data, size_t size)
{
    int fd;

    snprintf(path, 64, "%s", tmpl);
    fd = g_mkstemp(path);
    g_assert_cmpint(fd, >=, 0);
    for (size_t i = 0; i < size; i++) {
        data[i] = g_random_int();
    }
    g_assert_cmpint(write(fd, data, size), ==, (ssize_t)size);
    close(fd);
}

int main(int argc, char **argv)
{
    Error *err = NULL;
    g_autofree char *hd = NULL, *cd = NULL;
    PCIDevice *d;
    int ret;

    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    isa_test_init(NULL);
    g_assert_true(memory_region_init_ram(&ram, "ram", 16 << 20, &err));
    memory_region_add_subregion(get_system_memory(), 0, &ram);
    pci = pci_root_bus_new(NULL, "pci.0", get_system_memory(), get_system_io());
    make_image(disk_path, "/tmp/test-ide-hd-XXXXXX", disk_data, sizeof(disk_data));
    make_image(cd_path, "/tmp/test-ide-cd-XXXXXX", cd_data, sizeof(cd_data));
    hd = g_strdup_printf("file=%s,format=raw,if=ide,index=0", disk_path);
    cd = g_strdup_printf("file=%s,format=raw,if=ide,index=2,media=cdrom", cd_path);
    g_assert_nonnull(drive_new(hd, IF_IDE, &err));
    g_assert_nonnull(drive_new(cd, IF_IDE, &err));
    d = pci_create_simple(pci, PCI_DEVFN(1, 1), "piix3-ide", &err);
    g_assert_no_error(err);
    g_assert_nonnull(d);
    ide = &d->qdev;
    pci_host_config_write(pci, 0, d->devfn, 0x20, BM | 1, 4);
    pci_host_config_write(pci, 0, d->devfn, 0x04, 0x0005, 2);

    g_test_add_func("/ide/vmstate/pio-read", test_pio_read_across_savevm);
    g_test_add_func("/ide/vmstate/atapi-read", test_atapi_read_across_savevm);
    g_test_add_func("/ide/vmstate/dma-pending", test_dma_pending_across_savevm);
    g_test_add_func("/ide/vmstate/load-clamps", test_load_clamps);
    g_test_add_func("/ide/dma/zero-copy-dirty", test_dma_zero_copy_dirty);
    ret = g_test_run();
    unlink(disk_path);
    unlink(cd_path);
    return ret;
}
